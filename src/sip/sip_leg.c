/*
 * sip_leg.c — INVITE dialogs on the SIP thread: inbound and outbound legs, the
 * loop's commands on them, re-INVITEs, and the one terminal event per leg.
 *
 * DESIGN
 * - A struct sleg is bound to its nua handle (nua_handle_bind) and indexed
 *   by id in ua->legs; the loop only ever sees the id.
 * - Leg lifecycle (docs/SIP.md):
 *     inbound:  INCOMING → [respond 18x] → respond 2xx → CONFIRMED (ACK) →
 *               TERMINATED;  or respond ≥300 / CANCEL → TERMINATED
 *     outbound: sip_leg_invite → [PROGRESS] → ANSWERED → TERMINATED;
 *               or FAILED (far end refused: that ends the leg)
 *   Exactly one of FAILED/TERMINATED is raised per leg (`ended`), then the
 *   handle is destroyed and the id retired. The reason of TERMINATED is the
 *   first cause seen: "bye" (far end BYE), "cancel" (far end CANCEL),
 *   "local" (our hangup or rejection), else "timeout" (session timer, no
 *   ACK, transport failure: nua ended the dialog itself).
 * - nua_i_state/terminated is the single place a leg is freed, except an
 *   initial outbound INVITE that failed: nua may keep such a handle (401/407
 *   leave it "authenticating"), so we end and destroy it at once.
 * - ACK deadline: an answered inbound leg waits in ua->ack_wait (oldest
 *   first) until its ACK. One not ACKed within cfg.ack_timeout_ms (2 s by
 *   default, RFC 3261 would wait 32 s) is dropped without a BYE and ends
 *   TERMINATED "timeout" 408: a flood that never ACKs cannot hold the
 *   site's capacity (max_calls) for 32 s after it stops (issue 17). A
 *   caller's ACK crosses loopback or a LAN in milliseconds, and 2 s covers
 *   two lost 2xx retransmissions (0.5 s and 1.5 s).
 * - Re-INVITE from the far end: answered 200 here with our current local
 *   SDP, version bumped and the direction mirrored (their sendonly → our
 *   recvonly), then SIP_EV_REINVITE carries their SDP to the loop.
 */
#define LOG_MODULE "sip"
#include "sip/sip_nua.h"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag_io.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utlist.h>

#define LEGID(sl)	       ((unsigned long long)(sl)->id)
#define ACK_TIMEOUT_DEFAULT_MS (64 * 500) /* RFC 3261 Timer H */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the ACK wait list ---- */
static void ack_wait_start(struct sip_ua *ua, struct sleg *sl)
{
	sl->answered_ms = mono_ms();
	DL_APPEND2(ua->ack_wait, sl, ack_prev, ack_next);
}

static void ack_wait_stop(struct sip_ua *ua, struct sleg *sl)
{
	if (sl->answered_ms) {
		DL_DELETE2(ua->ack_wait, sl, ack_prev, ack_next);
		sl->answered_ms = 0;
	}
}

/* ---- table ---- */
static struct sleg *leg_find(struct sip_ua *ua, sip_leg_t id)
{
	struct sleg *sl = NULL;

	HASH_FIND(hh, ua->legs, &id, sizeof(id), sl);
	return sl;
}

static struct sleg *leg_new(struct sip_ua *ua, sip_leg_t id, nua_handle_t *nh, bool inbound)
{
	struct sleg *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return NULL;
	sl->id = id;
	sl->nh = nh;
	sl->inbound = inbound;
	ua->n_inbound += inbound;
	nua_handle_bind(nh, sl);
	HASH_ADD(hh, ua->legs, id, sizeof(sl->id), sl);
	return sl;
}

static void leg_release(struct sip_ua *ua, struct sleg *sl)
{
	ack_wait_stop(ua, sl);
	HASH_DEL(ua->legs, sl);
	ua->n_inbound -= sl->inbound;
	if (sl->refer_pending)
		nua_destroy_event(sl->refer);
	nua_handle_bind(sl->nh, NULL);
	nua_handle_destroy(sl->nh);
	free(sl->local_sdp);
	free(sl);
}

void leg_free_all(struct sip_ua *ua)
{
	struct sleg *sl, *tmp;

	HASH_ITER(hh, ua->legs, sl, tmp) leg_release(ua, sl);
}

/* ---- events to the loop ---- */
static void leg_emit(struct sip_ua *ua, struct sleg *sl, enum sip_event_kind kind, int status,
		     sip_t const *sip)
{
	struct sip_evnode *n = sip_event_new(kind, sl->id);

	if (!n) {
		log_error("leg=%llu action=event %d lost: out of memory", LEGID(sl), kind);
		return;
	}
	n->ev.status = status;
	if (sip && msg_sdp(sip, n->ev.sdp, sizeof(n->ev.sdp)))
		log_warn("leg=%llu action=sdp too large, dropped", LEGID(sl));
	sip_event_push(ua, n);
}

/* The terminal event: FAILED or TERMINATED, once. */
static void leg_emit_end(struct sip_ua *ua, struct sleg *sl, enum sip_event_kind kind, int status)
{
	struct sip_evnode *n;

	if (sl->ended)
		return;
	sl->ended = true;
	n = sip_event_new(kind, sl->id);
	if (!n) {
		log_error("leg=%llu action=end event lost: out of memory", LEGID(sl));
		return;
	}
	n->ev.status = status;
	if (kind == SIP_EV_TERMINATED)
		str_copy(n->ev.reason, sl->reason ? sl->reason : "timeout", sizeof(n->ev.reason));
	log_info("leg=%llu action=%s status=%d reason=%s", LEGID(sl),
		 kind == SIP_EV_FAILED ? "failed" : "terminated", status, n->ev.reason);
	sip_event_push(ua, n);
}

/* ---- inbound INVITE ---- */
static void reject_unbound(nua_handle_t *nh, int status, const char *phrase)
{
	nua_respond(nh, status, phrase, TAG_END());
	nua_handle_destroy(nh);
}

static void incoming_fill(struct sip_event *ev, nua_t *nua, sip_t const *sip)
{
	msg_addr_user(sip->sip_from, ev->from_user, sizeof(ev->from_user), ev->from_name,
		      sizeof(ev->from_name));
	if (sip->sip_request && sip->sip_request->rq_url->url_user)
		str_copy(ev->to_user, sip->sip_request->rq_url->url_user, sizeof(ev->to_user));
	msg_source(nua, sip, ev->source, sizeof(ev->source));
	msg_auth(sip, &ev->has_auth, &ev->auth);
}

static void leg_incoming(struct sip_ua *ua, nua_t *nua, nua_handle_t *nh, sip_t const *sip)
{
	struct sip_evnode *n;
	struct sleg *sl;

	if (ua->shutting_down) {
		reject_unbound(nh, 503, "Shutting down");
		return;
	}
	if (atomic_load(&ua->max_inbound) && ua->n_inbound >= atomic_load(&ua->max_inbound)) {
		/* Over capacity: answered here, without a trip to the loop, so
		 * an overload costs as little as possible per refused call. */
		reject_unbound(nh, 503, "Over capacity");
		return;
	}
	n = sip_event_new(SIP_EV_INCOMING, sip_id_next(ua));
	if (!n) {
		reject_unbound(nh, 500, "Out of memory");
		return;
	}
	if (msg_sdp(sip, n->ev.sdp, sizeof(n->ev.sdp))) {
		free(n);
		reject_unbound(nh, 413, "SDP too large");
		return;
	}
	incoming_fill(&n->ev, nua, sip);
	sl = leg_new(ua, n->ev.leg, nh, true);
	if (!sl) {
		free(n);
		reject_unbound(nh, 500, "Out of memory");
		return;
	}
	log_info("leg=%llu action=incoming from=%s did=%s source=%s auth=%d", LEGID(sl),
		 n->ev.from_user, n->ev.to_user, n->ev.source, n->ev.has_auth);
	sip_event_push(ua, n);
}

/* ---- re-INVITE ---- */
static sdp_mode_t mode_mirror(enum sdp_dir remote)
{
	switch (remote) {
	case SDP_SENDONLY: return sdp_recvonly;
	case SDP_RECVONLY: return sdp_sendonly;
	case SDP_INACTIVE: return sdp_inactive;
	default: return sdp_sendrecv;
	}
}

/* Our SDP again, o= version + 1, every stream's direction set to `mode`. */
static char *sdp_mirror(const char *local, sdp_mode_t mode)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sdp_parser_t *p = sdp_parse(home, local, (issize_t)strlen(local), 0);
	sdp_session_t *s = p && !sdp_parsing_error(p) ? sdp_session(p) : NULL;
	sdp_printer_t *pr = NULL;
	char *out = NULL;

	if (s) {
		if (s->sdp_origin)
			s->sdp_origin->o_version++;
		for (sdp_media_t *m = s->sdp_media; m; m = m->m_next)
			m->m_mode = mode;
		pr = sdp_print(home, s, NULL, 0, sdp_f_mode_always);
	}
	if (pr && !sdp_printing_error(pr))
		out = strdup(sdp_message(pr));
	if (pr)
		sdp_printer_free(pr);
	if (p)
		sdp_parser_free(p);
	su_home_deinit(home);
	return out;
}

static void leg_reinvited(struct sip_ua *ua, nua_handle_t *nh, struct sleg *sl, sip_t const *sip)
{
	struct sip_evnode *n = sip_event_new(SIP_EV_REINVITE, sl->id);
	struct sdp_audio ra = {.dir = SDP_SENDRECV};
	char *answer;

	if (!n || !sl->answered || sl->hangup || !sl->local_sdp ||
	    msg_sdp(sip, n->ev.sdp, sizeof(n->ev.sdp))) {
		nua_respond(nh, n ? 488 : 500, n ? "Not Acceptable Here" : "Out of memory",
			    TAG_END());
		free(n);
		return;
	}
	if (n->ev.sdp[0] && sdp_audio_parse(n->ev.sdp, strlen(n->ev.sdp), &ra))
		ra.dir = SDP_SENDRECV;
	answer = n->ev.sdp[0] ? sdp_mirror(sl->local_sdp, mode_mirror(ra.dir)) : NULL;
	if (answer) {
		free(sl->local_sdp);
		sl->local_sdp = answer;
	}
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sl->local_sdp), TAG_END());
	log_info("leg=%llu action=reinvite answered remote_dir=%d", LEGID(sl), ra.dir);
	sip_event_push(ua, n);
}

void leg_on_invite(NUA_CB_ARGS)
{
	if (sl)
		leg_reinvited(ua, nh, sl, sip);
	else if (sip)
		leg_incoming(ua, nua, nh, sip);
	else
		reject_unbound(nh, 400, "Bad Request");
}

/* ---- call state ---- */
void leg_on_state(NUA_CB_ARGS)
{
	int cs = -1;

	if (!sl)
		return;
	tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
	log_debug("leg=%llu action=state %s status=%d", LEGID(sl),
		  cs >= 0 ? nua_callstate_name(cs) : "?", status);
	if (cs == nua_callstate_ready && sl->inbound && sl->answered && !sl->confirmed &&
	    !sl->ended) {
		sl->confirmed = true;
		ack_wait_stop(ua, sl);
		leg_emit(ua, sl, SIP_EV_CONFIRMED, 0, NULL);
	}
	if (cs == nua_callstate_terminated) {
		/* the cause: our rejection status, or why nua gave up (408…) */
		bool far =
			sl->reason && (!strcmp(sl->reason, "bye") || !strcmp(sl->reason, "cancel"));
		leg_emit_end(ua, sl, SIP_EV_TERMINATED, !far && status >= 300 ? status : 0);
		leg_release(ua, sl);
	}
}

/* Responses to our INVITEs (initial and re-INVITE). */
void leg_on_r_invite(NUA_CB_ARGS)
{
	if (!sl || sl->ended)
		return;
	if (status < 200) {
		if (!sl->answered && (status == 180 || status == 183))
			leg_emit(ua, sl, SIP_EV_PROGRESS, status, sip);
		return;
	}
	if (status < 300) {
		if (sl->answered)
			return; /* our re-INVITE was accepted */
		sl->answered = true;
		if (sl->hangup) /* 200 crossed our CANCEL: end it properly */
			nua_bye(nh, TAG_END());
		else
			leg_emit(ua, sl, SIP_EV_ANSWERED, status, sip);
		return;
	}
	if (sl->answered) {
		log_warn("leg=%llu action=reinvite refused %d %s", LEGID(sl), status, phrase);
		return;
	}
	if (sl->hangup)
		leg_emit_end(ua, sl, SIP_EV_TERMINATED, 0);
	else
		leg_emit_end(ua, sl, SIP_EV_FAILED, status);
	leg_release(ua, sl);
}

/* ---- commands from the loop ---- */
static void leg_respond(struct sip_ua *ua, struct sleg *sl, struct sip_cmd *c)
{
	const char *phrase = sip_phrase(ua, c->reason, c->status);
	char ch[256];

	if (!sl->inbound || sl->answered || sl->hangup) {
		log_warn("leg=%llu action=respond %d ignored: already answered", LEGID(sl),
			 c->status);
		return;
	}
	if (c->status < 200) {
		nua_respond(sl->nh, c->status, phrase,
			    TAG_IF(c->sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
			    TAG_IF(c->sdp, SIPTAG_PAYLOAD_STR(c->sdp)), TAG_END());
		return;
	}
	if (c->status < 300) {
		sl->answered = true;
		free(sl->local_sdp);
		sl->local_sdp = c->sdp;
		c->sdp = NULL;
		nua_respond(sl->nh, c->status, phrase, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(sl->local_sdp), TAG_END());
		ack_wait_start(ua, sl);
		return;
	}
	sl->hangup = true;
	if (!sl->reason)
		sl->reason = "local";
	sip_challenge(ua, c->nonce, ch, sizeof(ch));
	nua_respond(sl->nh, c->status, phrase,
		    TAG_IF(c->status == 401, SIPTAG_WWW_AUTHENTICATE_STR(ch)),
		    TAG_IF(c->status == 407, SIPTAG_PROXY_AUTHENTICATE_STR(ch)), TAG_END());
	log_info("leg=%llu action=rejected %d %s", LEGID(sl), c->status, phrase);
}

static void leg_hangup(struct sip_ua *ua, struct sleg *sl)
{
	if (sl->hangup)
		return;
	sl->hangup = true;
	if (!sl->reason)
		sl->reason = "local";
	log_info("leg=%llu action=hangup (%s, %s)", LEGID(sl), sl->inbound ? "in" : "out",
		 sl->answered ? "answered" : "early");
	if (sl->inbound && !sl->answered)
		nua_respond(sl->nh, 480, "Temporarily Unavailable", TAG_END());
	else if (!sl->answered)
		nua_cancel(sl->nh, TAG_END());
	else
		nua_bye(sl->nh, TAG_END());
}

static void leg_reinvite(struct sip_ua *ua, struct sleg *sl, struct sip_cmd *c)
{
	if (!sl->answered || sl->hangup || !c->sdp) {
		log_warn("leg=%llu action=reinvite ignored: not established", LEGID(sl));
		return;
	}
	free(sl->local_sdp);
	sl->local_sdp = c->sdp;
	c->sdp = NULL;
	nua_invite(sl->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sl->local_sdp), TAG_END());
	log_info("leg=%llu action=reinvite sent", LEGID(sl));
}

/* A user part we can put in a From URI unescaped. */
static void user_clean(char *dst, const char *src, size_t size)
{
	size_t o = 0;

	for (; *src && o + 1 < size; src++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_.!~*("
			   ")",
			   *src))
			dst[o++] = *src;
	}
	dst[o] = '\0';
	if (!o)
		str_copy(dst, "switchboard", size);
}

static void name_clean(char *dst, const char *src, size_t size)
{
	str_copy(dst, src, size);
	for (char *p = dst; *p; p++) {
		if (*p == '"' || *p == '\\')
			*p = ' ';
	}
}

static void leg_invite_out(struct sip_ua *ua, struct sip_cmd *c)
{
	char user[64], name[64], from[256], to[300], info[128] = "", alert[160] = "";
	bool v6 = strchr(ua->cfg.public_addr, ':') != NULL;
	nua_handle_t *nh;
	struct sleg *sl;

	user_clean(user, c->from_user, sizeof(user));
	name_clean(name, c->from_name, sizeof(name));
	snprintf(from, sizeof(from), "\"%s\" <sip:%s@%s%s%s:%d>", name, user, v6 ? "[" : "",
		 ua->cfg.public_addr, v6 ? "]" : "", ua->cfg.port);
	snprintf(to, sizeof(to), "<%s>", c->uri);
	nh = nua_handle(ua->nua, NULL, NUTAG_URL(c->uri), SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from),
			TAG_END());
	sl = nh ? leg_new(ua, c->leg, nh, false) : NULL;
	if (!sl) {
		struct sleg tmp = {.id = c->leg};
		if (nh)
			nua_handle_destroy(nh);
		log_warn("leg=%llu action=invite to %s refused locally", (unsigned long long)c->leg,
			 c->uri);
		leg_emit_end(ua, &tmp, SIP_EV_FAILED, nh ? 500 : 400);
		return;
	}
	sl->local_sdp = c->sdp;
	c->sdp = NULL;
	if (c->auto_answer) {
		snprintf(info, sizeof(info), "<sip:%s%s%s>;answer-after=0", v6 ? "[" : "",
			 ua->cfg.public_addr, v6 ? "]" : "");
		snprintf(alert, sizeof(alert), "Alert-Info: <http://%s%s%s/>;info=alert-autoanswer",
			 v6 ? "[" : "", ua->cfg.public_addr, v6 ? "]" : "");
	}
	nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sl->local_sdp), TAG_IF(info[0], SIPTAG_CALL_INFO_STR(info)),
		   TAG_IF(alert[0], SIPTAG_HEADER_STR(alert)), TAG_END());
	log_info("leg=%llu action=invite to=%s from=%s%s", LEGID(sl), c->uri, user,
		 c->auto_answer ? " auto-answer" : "");
}

/* The loop's answer to the leg's REFER: 202 and at once the final NOTIFY
 * of the implicit subscription (RFC 3515 §2.4.4: a sipfrag of the status
 * line), or a refusal. */
static void leg_refer_reply(struct sip_ua *ua, struct sleg *sl, struct sip_cmd *c)
{
	if (!sl->refer_pending) {
		log_debug("leg=%llu action=refer reply without a REFER", LEGID(sl));
		return;
	}
	nua_respond(sl->nh, c->status, sip_phrase(ua, c->reason, c->status),
		    NUTAG_WITH_SAVED(sl->refer), TAG_END());
	nua_destroy_event(sl->refer);
	sl->refer_pending = false;
	if (c->status == 202)
		nua_notify(sl->nh, SIPTAG_EVENT_STR("refer"),
			   NUTAG_SUBSTATE(nua_substate_terminated),
			   SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
			   SIPTAG_PAYLOAD_STR("SIP/2.0 200 OK\r\n"), TAG_END());
	log_info("leg=%llu action=refer reply %d", LEGID(sl), c->status);
}

/* An in-dialog REFER (an application method: it waits for the loop). */
void leg_on_refer(struct sip_ua *ua, nua_t *nua, struct sleg *sl, sip_t const *sip)
{
	struct sip_evnode *n;
	const url_t *u = sip && sip->sip_refer_to ? sip->sip_refer_to->r_url : NULL;

	if (!u || sl->refer_pending || sl->ended) {
		nua_respond(sl->nh, u ? 491 : 400, u ? "Request Pending" : "No Refer-To",
			    NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	n = sip_event_new(SIP_EV_REFER, sl->id);
	if (!n) {
		nua_respond(sl->nh, 500, "Out of memory", NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	nua_save_event(nua, sl->refer);
	sl->refer_pending = true;
	str_copy(n->ev.to_user, u->url_user ? u->url_user : "", sizeof(n->ev.to_user));
	n->ev.replaces = u->url_headers && strcasestr(u->url_headers, "replaces=") != NULL;
	log_info("leg=%llu action=refer to=%s%s", LEGID(sl), n->ev.to_user,
		 n->ev.replaces ? " (with Replaces)" : "");
	sip_event_push(ua, n);
}

void leg_cmd(struct sip_ua *ua, struct sip_cmd *c)
{
	struct sleg *sl;

	if (c->kind == CMD_INVITE) {
		leg_invite_out(ua, c);
		return;
	}
	sl = leg_find(ua, c->leg);
	if (!sl || sl->ended) {
		log_debug("leg=%llu action=command %d for a retired leg ignored",
			  (unsigned long long)c->leg, c->kind);
		return;
	}
	switch (c->kind) {
	case CMD_RESPOND: leg_respond(ua, sl, c); break;
	case CMD_HANGUP: leg_hangup(ua, sl); break;
	case CMD_REINVITE: leg_reinvite(ua, sl, c); break;
	case CMD_REFER_REPLY: leg_refer_reply(ua, sl, c); break;
	default: break;
	}
}

/* Drops the answered legs whose ACK is overdue (oldest first: the list is
 * in answer order, so the walk stops at the first one still in time). */
void leg_ack_check(struct sip_ua *ua)
{
	uint64_t now = mono_ms();
	int limit = ua->cfg.ack_timeout_ms > 0 ? ua->cfg.ack_timeout_ms : ACK_TIMEOUT_DEFAULT_MS;
	struct sleg *sl;

	while ((sl = ua->ack_wait) && now - sl->answered_ms >= (uint64_t)limit) {
		log_warn("leg=%llu action=no ACK for our 2xx within %d ms: dropped (no BYE)",
			 LEGID(sl), limit);
		if (!sl->reason)
			sl->reason = "timeout";
		leg_emit_end(ua, sl, SIP_EV_TERMINATED, 408);
		leg_release(ua, sl);
	}
}
