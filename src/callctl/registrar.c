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
 * - Bindings live in memory for routing and in the store (sip_bindings,
 *   with their expiry) so that a restart keeps every agent reachable: they
 *   are loaded back at start, unexpired ones only (issue 10: agents stayed
 *   Available with no phone after a restart).
 * - Every change of an agent's device is announced (RT_EV_DEVICE → the
 *   "device" event): registered, unregistered, or expired, found by a sweep
 *   every REG_SWEEP_MS, so the softphone shows it live.
 */
#define LOG_MODULE "registrar"
#include "callctl/callctl_int.h"

#include <stdlib.h>
#include <string.h>

#define REG_MIN_EXPIRES	    60
#define REG_MAX_EXPIRES	    3600
#define REG_DEFAULT_EXPIRES 600
#define REG_SWEEP_MS	    5000

static struct binding *binding_find(const struct callctl *cc, int64_t uid)
{
	struct binding *b = NULL;

	HASH_FIND(hh, cc->bindings, &uid, sizeof(uid), b);
	return b;
}

/* An agent's device: their registered browser (browser.c) before their
 * SIP phone. */
bool registrar_device_ready(void *arg, const struct user *u)
{
	return callctl_agent_contact(arg, u) != NULL;
}

const char *registrar_sip_contact(const struct callctl *cc, const struct user *u)
{
	struct binding *b = binding_find(cc, user_record(u)->id);

	return b && b->expires_at > time_now_ms() ? b->contact : NULL;
}

const char *callctl_agent_contact(const struct callctl *cc, const struct user *u)
{
	const char *browser = browser_contact(cc, u);

	return browser ? browser : registrar_sip_contact(cc, u);
}

void registrar_device_announce(struct callctl *cc, const struct user *u, bool registered,
			       const char *why, const char *actor, const char *device)
{
	struct routing_event ev = {
		.kind = RT_EV_DEVICE,
		.user = u,
		.at = time_now_ms(),
		.from = "",
		.to = registered ? "registered" : "unregistered",
		.reason = why,
		.interaction = "",
		.actor = actor,
		.device = device,
	};

	routing_announce(cc->r, &ev);
}

/* The binding as the store keeps it (set, or deleted when b is NULL). */
static void binding_store(struct callctl *cc, int64_t uid, const struct binding *b)
{
	struct store_op op = {.kind = b ? STORE_OP_BINDING_SET : STORE_OP_BINDING_DELETE};

	op.u.binding.user_id = uid;
	if (b) {
		str_copy(op.u.binding.contact, b->contact, sizeof(op.u.binding.contact));
		op.u.binding.expires_at = b->expires_at;
	}
	if (store_write(routing_store(cc->r), &op, 1, NULL, NULL))
		log_warn("user_id=%lld action=binding not stored (a restart would lose it)",
			 (long long)uid);
}

static void binding_drop(struct callctl *cc, struct binding *b, const char *why)
{
	struct user *u = routing_user_by_id(cc->r, b->user_id);
	int64_t uid = b->user_id;

	HASH_DEL(cc->bindings, b);
	free(b);
	binding_store(cc, uid, NULL);
	if (u) {
		log_info("agent=%s action=%s", user_record(u)->user_name, why);
		registrar_device_announce(
			cc, u, false, why,
			strcmp(why, "expired") ? user_record(u)->user_name : "system", "sip");
	}
}

static int binding_set(struct callctl *cc, struct user *u, const char *contact, int expires)
{
	int64_t uid = user_record(u)->id;
	struct binding *b = binding_find(cc, uid);
	bool fresh = !b || b->expires_at <= time_now_ms() || strcmp(b->contact, contact);

	if (expires == 0) {
		if (b)
			binding_drop(cc, b, "unregistered");
		else
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
	binding_store(cc, uid, b);
	log_info("agent=%s action=registered contact=%s expires=%d", user_record(u)->user_name,
		 contact, expires);
	if (fresh) /* a refresh of the same contact is not news */
		registrar_device_announce(cc, u, true, "registered", user_record(u)->user_name,
					  "sip");
	routing_dispatch_soon(cc->r); /* a waiting caller may now reach this agent */
	return 0;
}

static void sweep_cb(uv_timer_t *t)
{
	struct callctl *cc = t->data;
	struct binding *b, *tmp;
	int64_t now = time_now_ms();

	HASH_ITER(hh, cc->bindings, b, tmp)
	{
		if (b->expires_at <= now)
			binding_drop(cc, b, "expired");
	}
}

int registrar_start(struct callctl *cc, const struct st_snapshot *snap)
{
	int64_t now = time_now_ms();

	for (size_t i = 0; i < snap->n_bindings; i++) {
		const struct st_binding *sb = &snap->bindings[i];
		struct binding *b;
		if (sb->expires_at <= now || !routing_user_by_id(cc->r, sb->user_id) ||
		    binding_find(cc, sb->user_id))
			continue;
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		b->user_id = sb->user_id;
		str_copy(b->contact, sb->contact, sizeof(b->contact));
		b->expires_at = sb->expires_at;
		HASH_ADD(hh, cc->bindings, user_id, sizeof(b->user_id), b);
		log_info("agent=%s action=registration restored contact=%s expires_in=%llds",
			 user_record(routing_user_by_id(cc->r, sb->user_id))->user_name, b->contact,
			 (long long)((b->expires_at - now) / 1000));
	}
	cc->reg_sweep = calloc(1, sizeof(*cc->reg_sweep));
	if (!cc->reg_sweep || uv_timer_init(cc->loop, cc->reg_sweep))
		return -ENOMEM;
	cc->reg_sweep->data = cc;
	uv_timer_start(cc->reg_sweep, sweep_cb, REG_SWEEP_MS, REG_SWEEP_MS);
	uv_unref((uv_handle_t *)cc->reg_sweep);
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

static void sweep_closed(uv_handle_t *h)
{
	free(h);
}

void registrar_free(struct callctl *cc)
{
	struct binding *b, *tmp;

	if (cc->reg_sweep) {
		uv_timer_stop(cc->reg_sweep);
		uv_close((uv_handle_t *)cc->reg_sweep, sweep_closed);
		cc->reg_sweep = NULL;
	}

	HASH_ITER(hh, cc->bindings, b, tmp)
	{
		HASH_DEL(cc->bindings, b);
		free(b);
	}
}

void callctl_sip_ha1(const char *user, const char *realm, const char *password, char ha1[33])
{
	sip_digest_ha1(user, realm, password, ha1);
}
