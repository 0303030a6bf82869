/*
 * sip_reg.c — REGISTER on the SIP thread: hand each request to the loop as
 * SIP_EV_REGISTER with a token, keep the request until the loop answers
 * with sip_register_reply, then respond and forget it.
 *
 * DESIGN
 * - nua delivers REGISTER to us (NUTAG_APPL_METHOD) on a fresh handle. The
 *   request is kept with nua_save_event and answered later with
 *   NUTAG_WITH_SAVED: the answer may come many loop iterations later.
 * - The registrar's decisions (who may register, what expiry is granted,
 *   which binding is replaced) are the loop's (callctl/registrar.c); here we
 *   only read the request (first Contact, Expires header or the contact's
 *   expires parameter) and write the response (the Contact echoed with the
 *   granted expires, or a fresh digest challenge).
 * - A request the loop never answers is dropped after SIP_REQ_TTL_MS (the
 *   client's transaction has timed out by then).
 */
#define LOG_MODULE "sip"
#include "sip/sip_nua.h"

#include <sofia-sip/url.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void req_free(struct sip_ua *ua, struct sreq *r)
{
	HASH_DEL(ua->reqs, r);
	nua_destroy_event(r->saved);
	nua_handle_destroy(r->nh);
	free(r);
}

/* Expires header, else the first contact's expires parameter, else -1. */
static int expires_of(sip_t const *sip)
{
	unsigned long v;

	if (sip->sip_expires)
		v = sip->sip_expires->ex_delta;
	else if (sip->sip_contact && sip->sip_contact->m_expires)
		v = strtoul(sip->sip_contact->m_expires, NULL, 10);
	else
		return -1;
	return v > INT_MAX ? INT_MAX : (int)v;
}

/* The first Contact's URI; "" for "*" or none. -E2BIG when too long. */
static int contact_of(sip_t const *sip, char *buf, size_t size)
{
	sip_contact_t const *m = sip->sip_contact;
	issize_t n;

	buf[0] = '\0';
	if (!m || m->m_url->url_type == url_any)
		return 0;
	n = url_e(buf, (isize_t)size, m->m_url);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -E2BIG;
	}
	buf[n] = '\0';
	return 0;
}

static void register_fill(struct sip_event *ev, nua_t *nua, sip_t const *sip)
{
	char ignored[64];

	msg_addr_user(sip->sip_from, ev->from_user, sizeof(ev->from_user), ev->from_name,
		      sizeof(ev->from_name));
	msg_addr_user(sip->sip_to, ev->to_user, sizeof(ev->to_user), ignored, sizeof(ignored));
	msg_source(nua, sip, ev->source, sizeof(ev->source));
	msg_auth(sip, &ev->has_auth, &ev->auth);
	ev->expires = expires_of(sip);
}

static void reject_now(nua_t *nua, nua_handle_t *nh, int status, const char *phrase)
{
	nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), TAG_END());
	nua_handle_destroy(nh);
}

void reg_on_register(NUA_CB_ARGS)
{
	struct sip_evnode *n;
	struct sreq *r;

	if (ua->shutting_down || !sip || !sip->sip_from || !sip->sip_to) {
		reject_now(nua, nh, ua->shutting_down ? 503 : 400,
			   ua->shutting_down ? "Shutting down" : "Bad Request");
		return;
	}
	n = sip_event_new(SIP_EV_REGISTER, 0);
	r = calloc(1, sizeof(*r));
	if (!n || !r || contact_of(sip, r->contact, sizeof(r->contact))) {
		reject_now(nua, nh, n && r ? 400 : 500,
			   n && r ? "Contact too long" : "Out of memory");
		free(n);
		free(r);
		return;
	}
	register_fill(&n->ev, nua, sip);
	if (n->ev.expires != 0)
		str_copy(n->ev.contact, r->contact, sizeof(n->ev.contact));
	r->id = n->ev.req = sip_id_next(ua);
	r->nh = nh;
	r->at = time_now_ms();
	nua_save_event(nua, r->saved);
	HASH_ADD(hh, ua->reqs, id, sizeof(r->id), r);
	log_debug("req=%llu action=register user=%s contact=%s expires=%d auth=%d",
		  (unsigned long long)r->id, n->ev.from_user, n->ev.contact, n->ev.expires,
		  n->ev.has_auth);
	sip_event_push(ua, n);
}

void reg_cmd_reply(struct sip_ua *ua, struct sip_cmd *c)
{
	struct sreq *r = NULL;
	char contact[300], ch[256];
	bool ok = c->status / 100 == 2;
	const char *phrase = sip_phrase(ua, c->reason, c->status);

	HASH_FIND(hh, ua->reqs, &c->req, sizeof(c->req), r);
	if (!r) {
		log_debug("req=%llu action=reply for an unknown request",
			  (unsigned long long)c->req);
		return;
	}
	snprintf(contact, sizeof(contact), "<%s>;expires=%d", r->contact, c->expires);
	sip_challenge(ua, c->nonce, ch, sizeof(ch));
	nua_respond(r->nh, c->status, phrase, NUTAG_WITH_SAVED(r->saved),
		    TAG_IF(ok && r->contact[0] && c->expires > 0, SIPTAG_CONTACT_STR(contact)),
		    TAG_IF(c->status == 401, SIPTAG_WWW_AUTHENTICATE_STR(ch)), TAG_END());
	log_debug("req=%llu action=register reply %d", (unsigned long long)c->req, c->status);
	req_free(ua, r);
}

void reg_sweep(struct sip_ua *ua, bool all)
{
	int64_t now = time_now_ms();
	struct sreq *r, *tmp;

	HASH_ITER(hh, ua->reqs, r, tmp)
	{
		if (!all && now - r->at < SIP_REQ_TTL_MS)
			continue;
		if (!all)
			log_warn("req=%llu action=register never answered, dropped",
				 (unsigned long long)r->id);
		req_free(ua, r);
	}
}
