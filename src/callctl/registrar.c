/*
 * registrar.c — agents' devices REGISTER here with digest authentication
 * (SPEC.md §1). One current binding per agent: a new registration replaces
 * the old contact; expiry is honoured (and capped); Expires: 0 removes it.
 *
 * DESIGN
 * - Credentials are the user's user_name and SIP password, stored only as
 *   HA1 = MD5(user:realm:password) (users.sip_ha1), as SIP registrars do.
 * - Any REGISTER without valid credentials gets 401 with a fresh nonce, also
 *   for unknown users (no user enumeration); a stale or foreign nonce is
 *   challenged again. A user without a SIP password gets 403.
 * - Bindings live in memory: devices re-register within their expiry, so a
 *   restart loses at most one registration interval (docs/SIP.md).
 */
#define LOG_MODULE "registrar"
#include "callctl/callctl_int.h"

#include <stdlib.h>
#include <string.h>

#define REG_MIN_EXPIRES	    60
#define REG_MAX_EXPIRES	    3600
#define REG_DEFAULT_EXPIRES 600

static struct binding *binding_find(const struct callctl *cc, int64_t uid)
{
	struct binding *b = NULL;

	HASH_FIND(hh, cc->bindings, &uid, sizeof(uid), b);
	return b;
}

bool registrar_device_ready(void *arg, const struct user *u)
{
	struct callctl *cc = arg;
	struct binding *b = binding_find(cc, user_record(u)->id);

	return b && b->expires_at > time_now_ms();
}

const char *callctl_agent_contact(const struct callctl *cc, const struct user *u)
{
	struct binding *b = binding_find(cc, user_record(u)->id);

	return b && b->expires_at > time_now_ms() ? b->contact : NULL;
}

static int binding_set(struct callctl *cc, struct user *u, const char *contact, int expires)
{
	int64_t uid = user_record(u)->id;
	struct binding *b = binding_find(cc, uid);

	if (expires == 0) {
		if (b) {
			HASH_DEL(cc->bindings, b);
			free(b);
		}
		log_info("agent=%s action=unregistered", user_record(u)->user_name);
		return 0;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->user_id = uid;
		HASH_ADD(hh, cc->bindings, user_id, sizeof(b->user_id), b);
	}
	str_copy(b->contact, contact, sizeof(b->contact));
	b->expires_at = time_now_ms() + (int64_t)expires * 1000;
	log_info("agent=%s action=registered contact=%s expires=%d", user_record(u)->user_name,
		 contact, expires);
	routing_dispatch_soon(cc->r); /* a waiting caller may now reach this agent */
	return 0;
}

static int expires_grant(int asked)
{
	if (asked < 0)
		return REG_DEFAULT_EXPIRES;
	if (asked == 0)
		return 0;
	return asked < REG_MIN_EXPIRES	 ? REG_MIN_EXPIRES
	       : asked > REG_MAX_EXPIRES ? REG_MAX_EXPIRES
					 : asked;
}

void registrar_on_register(struct callctl *cc, const struct sip_event *ev)
{
	struct user *u = routing_user_find(cc->r, ev->from_user);
	const struct st_user *rec = u ? user_record(u) : NULL;
	int expires = expires_grant(ev->expires);

	if (!ev->has_auth || !u || !rec->active || !sip_nonce_valid(cc->ua, ev->auth.nonce) ||
	    strcmp(ev->auth.username, ev->from_user) || strcmp(ev->auth.realm, cc->cfg.realm) ||
	    !rec->sip_ha1[0] || sip_digest_verify(&ev->auth, "REGISTER", rec->sip_ha1)) {
		if (ev->has_auth)
			log_info("user=%s action=register refused from %s", ev->from_user,
				 ev->source);
		if (ev->has_auth && u && rec->active && !rec->sip_ha1[0]) {
			sip_register_reply(cc->ua, ev->req, 403, "No SIP account", 0);
			return;
		}
		sip_register_reply(cc->ua, ev->req, 401, "Unauthorized", 0);
		return;
	}
	if (binding_set(cc, u, ev->contact, ev->contact[0] ? expires : 0)) {
		sip_register_reply(cc->ua, ev->req, 500, "Out of memory", 0);
		return;
	}
	sip_register_reply(cc->ua, ev->req, 200, "OK", ev->contact[0] ? expires : 0);
}

void registrar_free(struct callctl *cc)
{
	struct binding *b, *tmp;

	HASH_ITER(hh, cc->bindings, b, tmp)
	{
		HASH_DEL(cc->bindings, b);
		free(b);
	}
}
