/*
 * browser.c — the browser as a phone (issue 15 points 2 and 4, server
 * side): a WebRTC leg is one more kind of struct leg_ops, signalled over
 * the event WebSocket (the API's; /work contract in docs/WEBRTC.md
 * "Signalling over the event WebSocket").
 *
 * DESIGN
 * - A browser leg is the SIP endpoint's media leg (sip_leg_ops' media,
 *   play, join, record, ... are reused as they are) with a WebRTC
 *   transport under it (webrtc_leg_*) and, instead of a sofia leg, an id of
 *   its own (from BROWSER_LEG_BASE, never a SIP thread's) bound to the
 *   socket and user it was offered to or created by. A message about a leg
 *   that is not the socket's is refused "forbidden", counted and logged.
 * - Call control learns nothing of WebRTC: what a browser does becomes the
 *   SIP event a phone's would (callctl_sip_event), delivered from a timer
 *   (never inside a call event): the WebRTC leg CONNECTED is ANSWERED, a
 *   reject is FAILED 603, a hang-up or a failure once up is TERMINATED, a
 *   failure while it rang (ICE, DTLS, a closed socket) is FAILED 480. So
 *   offers, click-to-call, transfers and monitoring ring a browser exactly
 *   as they ring a SIP phone; the agent's contact says which
 *   ("browser:<user id>", browser_ops_for).
 * - A browser caller (rtc.call) enters call_inbound, the code path of an
 *   inbound SIP call after its trunk check, with this transport for the
 *   customer leg; rtc.dtmf digits go to the leg's DTMF handler as RFC 4733
 *   events would (one per loop turn, from the same timer).
 * - Registrations: one browser per agent, in memory only (a socket does not
 *   survive a restart); a newer one replaces the older; a closed socket is
 *   unregistered and its ringing legs fail (the offer goes to the next
 *   agent), its live legs end.
 * - One struct webrtc (certificate, DTLS context) per process, made next to
 *   the media engine; its counters with ours in callctl_rtc_stats.
 */
#define LOG_MODULE "rtc"
#include "callctl/callctl_int.h"
#include "webrtc/webrtc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BROWSER_LEG_BASE (UINT64_C(1) << 62)
#define BROWSER_SDP_MAX	 4096
#define BROWSER_DIGITS	 32

struct bleg {
	sip_leg_t id;
	char ids[24];	 /* id as the messages spell it */
	uint64_t sock;	 /* the socket it belongs to */
	int64_t user_id; /* its user */
	struct cleg *l;	 /* call control's leg (until release) */
	struct webrtc_leg *w;
	bool ringing; /* we offered, no CONNECTED yet */
	bool up;      /* CONNECTED once */
	bool ended;   /* rtc.end said, or the browser ended it */
	mleg_dtmf_h *dtmf_h;
	void *dtmf_arg;
	UT_hash_handle hh; /* by id */
};

struct breg {
	int64_t user_id;
	uint64_t sock;
	char contact[32];
	UT_hash_handle hh;
};

/* a deferred event: a SIP event for call control, or a digit for a leg */
struct bev {
	struct bev *next;
	char digit; /* 0: ev */
	struct sip_event ev;
};

struct browser {
	struct callctl *cc;
	struct webrtc *w;
	struct leg_ops ops;
	struct bleg *legs;
	struct breg *regs;
	uint64_t next_id;
	callctl_rtc_send_h *send;
	void *send_arg;
	uv_timer_t *kick;
	struct bev *head, *tail;
	struct { /* the socket of an rtc.call being answered */
		sip_leg_t id;
		uint64_t sock;
		int64_t user_id;
		const char *ref;
	} pending;
	uint64_t forbidden, bad_request;
};

/* ---- saying things to a socket ---- */
static void say(struct browser *b, uint64_t sock, const struct callctl_rtc_msg *m)
{
	if (b->send)
		b->send(b->send_arg, sock, m);
}

static void say_error(struct browser *b, uint64_t sock, const char *ref, const char *leg,
		      const char *code, const char *message)
{
	struct callctl_rtc_msg m = {
		.type = "rtc.error", .ref = ref, .leg = leg, .code = code, .message = message};

	say(b, sock, &m);
}

static void say_end(struct browser *b, struct bleg *bl, const char *reason)
{
	struct callctl_rtc_msg m = {.type = "rtc.end", .leg = bl->ids, .reason = reason};

	if (bl->ended)
		return;
	bl->ended = true;
	say(b, bl->sock, &m);
}

/* ---- deferred events to call control ---- */
static void kick_cb(uv_timer_t *t)
{
	struct browser *b = t->data;
	struct bev *e = b->head;
	struct bleg *bl = NULL;

	if (!e)
		return;
	b->head = e->next; /* one per turn: each may change every call */
	if (!b->head)
		b->tail = NULL;
	else
		uv_timer_start(b->kick, kick_cb, 0, 0);
	if (!e->digit) {
		callctl_sip_event(&e->ev, b->cc);
	} else {
		HASH_FIND(hh, b->legs, &e->ev.leg, sizeof(e->ev.leg), bl);
		if (bl && bl->l && bl->l->lm && bl->dtmf_h)
			bl->dtmf_h(bl->l->lm, e->digit, bl->dtmf_arg);
	}
	free(e);
}

static void defer(struct browser *b, struct bev *e)
{
	if (b->tail)
		b->tail->next = e;
	else
		b->head = e;
	b->tail = e;
	uv_timer_start(b->kick, kick_cb, 0, 0);
}

static void event_soon(struct browser *b, sip_leg_t leg, enum sip_event_kind kind, int status,
		       const char *reason)
{
	struct bev *e = calloc(1, sizeof(*e));

	if (!e) {
		log_error("leg=%" PRIu64 " action=event lost (out of memory)", leg);
		return;
	}
	e->ev.kind = kind, e->ev.leg = leg, e->ev.status = status;
	str_copy(e->ev.reason, reason ? reason : "", sizeof(e->ev.reason));
	defer(b, e);
}

/* ---- legs ---- */
static struct bleg *bleg_find(struct browser *b, const char *ids)
{
	struct bleg *bl = NULL;
	char *end;
	unsigned long long v;

	if (!ids)
		return NULL;
	errno = 0;
	v = strtoull(ids, &end, 10);
	if (errno || end == ids || *end)
		return NULL;
	sip_leg_t id = v;
	HASH_FIND(hh, b->legs, &id, sizeof(id), bl);
	return bl;
}

static struct bleg *bleg_of(struct browser *b, const struct cleg *l)
{
	struct bleg *bl, *tmp;

	if (!b) /* browser_free came first (shutdown) */
		return NULL;
	HASH_ITER(hh, b->legs, bl, tmp)
	{
		if (bl->l == l)
			return bl;
	}
	return NULL;
}

static void on_state(struct webrtc_leg *w, enum webrtc_state st, const char *why, void *arg)
{
	struct bleg *bl = arg;
	struct browser *b = bl->l->call->cc->browser;
	struct callctl_rtc_msg m = {
		.type = "rtc.state", .leg = bl->ids, .state = webrtc_state_name(st), .why = why};

	say(b, bl->sock, &m);
	if (st == WEBRTC_CONNECTED) {
		log_info("leg=%s call=%s action=connected profile=%s", bl->ids,
			 bl->l->call->ix_number, webrtc_leg_profile(w));
		bl->up = true;
		if (bl->ringing) { /* the browser answered: a phone's 200 */
			bl->ringing = false;
			event_soon(b, bl->id, SIP_EV_ANSWERED, 200, NULL);
		}
	} else if (st == WEBRTC_FAILED) {
		log_warn("leg=%s call=%s action=failed why=%s", bl->ids, bl->l->call->ix_number,
			 why ? why : "");
		say_end(b, bl, "failed");
		if (bl->ringing) /* as a phone that could not be reached */
			event_soon(b, bl->id, SIP_EV_FAILED, 480, why);
		else
			event_soon(b, bl->id, SIP_EV_TERMINATED, 0, why);
		bl->ringing = false;
	}
}

/* A WebRTC leg on l's media leg, bound to sock and user: -errno. */
static int bleg_new(struct browser *b, struct cleg *l, sip_leg_t id, uint64_t sock, int64_t uid,
		    struct bleg **out)
{
	struct bleg *bl;
	int err = endpoint_media_local(l);

	if (err)
		return err;
	bl = calloc(1, sizeof(*bl));
	if (!bl)
		return -ENOMEM;
	bl->id = id, bl->sock = sock, bl->user_id = uid, bl->l = l;
	snprintf(bl->ids, sizeof(bl->ids), "%" PRIu64, id);
	err = webrtc_leg_alloc(&bl->w, b->w, l->lm, WEBRTC_SERVER, on_state, bl);
	if (err) {
		free(bl);
		return err;
	}
	HASH_ADD(hh, b->legs, id, sizeof(bl->id), bl);
	*out = bl;
	return 0;
}

static void quality_of(const struct bleg *bl, struct callctl_rtc_quality *q)
{
	struct webrtc_quality w;

	webrtc_leg_quality(bl->w, &w);
	*q = (struct callctl_rtc_quality){
		.rx_packets = w.rx_packets,
		.rx_lost = w.rx_lost,
		.rx_fraction = w.rx_fraction,
		.rx_jitter_ms = w.rx_jitter_ms,
		.has_remote = w.has_remote,
		.remote_lost = w.remote_lost,
		.remote_fraction = w.remote_fraction,
		.remote_jitter_ms = w.remote_jitter_ms,
		.rtt_ms = w.rtt_ms,
	};
}

bool browser_leg_quality(const struct callctl *cc, const struct cleg *l,
			 struct callctl_rtc_quality *q)
{
	struct bleg *bl = cc->browser ? bleg_of(cc->browser, l) : NULL;

	if (!bl || !bl->up)
		return false;
	quality_of(bl, q);
	return true;
}

static void bleg_free(struct browser *b, struct bleg *bl)
{
	if (bl->up) { /* the call's quality as RTCP saw it, at the leg's end */
		struct callctl_rtc_quality q;

		quality_of(bl, &q);
		log_info("leg=%s action=rtcp at end: from browser %" PRIu64 " packets lost %" PRId64
			 " jitter %.1f ms; browser saw lost %" PRId64 " jitter %.1f ms; rtt %d ms",
			 bl->ids, q.rx_packets, q.rx_lost, q.rx_jitter_ms,
			 q.has_remote ? q.remote_lost : 0, q.remote_jitter_ms, q.rtt_ms);
	}
	HASH_DEL(b->legs, bl);
	webrtc_leg_free(bl->w);
	free(bl);
}

/* ---- the transport (struct leg_ops) ---- */
static const char *refuse_code(int status)
{
	switch (status) {
	case 404: return "not_found";
	case 486:
	case 503: return "busy";
	case 403: return "forbidden";
	case 488: return "bad_request";
	default: return "server_error";
	}
}

static void br_refuse(struct callctl *cc, sip_leg_t leg, int status, const char *reason)
{
	struct browser *b = cc->browser;

	if (b->pending.id != leg)
		return;
	say_error(b, b->pending.sock, b->pending.ref, NULL, refuse_code(status),
		  reason ? reason : "refused");
}

static int br_answer(struct cleg *l, const char *offer)
{
	struct browser *b = l->call->cc->browser;
	struct bleg *bl;
	char *sdp;
	int err;

	if (b->pending.id != l->leg ||
	    bleg_new(b, l, l->leg, b->pending.sock, b->pending.user_id, &bl))
		return 503;
	sdp = malloc(BROWSER_SDP_MAX);
	err = sdp ? webrtc_leg_answer(bl->w, offer, l->call->cc->cfg.rtp_address, sdp,
				      BROWSER_SDP_MAX)
		  : -ENOMEM;
	if (!err) {
		struct callctl_rtc_msg m = {
			.type = "rtc.answer", .ref = b->pending.ref, .leg = bl->ids, .sdp = sdp};
		say(b, bl->sock, &m);
	}
	free(sdp);
	if (err) {
		bl->ended = true; /* the browser hears of it as rtc.error, never of the leg */
		log_info("leg=%s action=browser offer refused: %s", bl->ids, strerror(-err));
	}
	return err == -EBADMSG || err == -ENOTSUP ? 488 : err ? 500 : 0;
}

static int br_dial(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		   bool auto_answer)
{
	struct callctl *cc = l->call->cc;
	struct browser *b = cc->browser;
	struct breg *r = NULL;
	struct bleg *bl;
	int64_t uid;
	char *sdp;
	int err;

	if (sscanf(uri, "browser:%" SCNd64, &uid) != 1)
		return -EINVAL;
	HASH_FIND(hh, b->regs, &uid, sizeof(uid), r);
	if (!r)
		return -ENODEV; /* unregistered meanwhile */
	err = bleg_new(b, l, ++b->next_id, r->sock, uid, &bl);
	if (err)
		return err;
	sdp = malloc(BROWSER_SDP_MAX);
	err = sdp ? webrtc_leg_offer(bl->w, cc->cfg.rtp_address, sdp, BROWSER_SDP_MAX) : -ENOMEM;
	if (err) {
		free(sdp);
		bleg_free(b, bl);
		return err;
	}
	bl->ringing = true;
	call_leg_bind(cc, l, bl->id);
	struct callctl_rtc_msg m = {
		.type = "rtc.offer",
		.leg = bl->ids,
		.interaction = l->call->ix_number[0] ? l->call->ix_number : NULL,
		.sdp = sdp,
		.auto_answer = auto_answer,
	};
	say(b, bl->sock, &m);
	free(sdp);
	log_info("leg=%s call=%s action=offered to the browser of user_id=%" PRId64 " from=%s (%s)",
		 bl->ids, l->call->ix_number, uid, from_user, from_name);
	return 0;
}

static int br_remote(struct cleg *l, const char *sdp)
{
	struct bleg *bl = bleg_of(l->call->cc->browser, l);

	(void)sdp; /* the browser's SDP went in with rtc.answer; ANSWERED means connected */
	return bl && bl->up ? 0 : -1;
}

static int br_reoffer(struct cleg *l, const char *sdp, bool *hold)
{
	(void)l, (void)sdp, (void)hold;
	return -1; /* no re-offers from a browser: hold is the server's (mixer) */
}

static void br_hangup(struct cleg *l)
{
	struct browser *b = l->call->cc->browser;
	struct bleg *bl = bleg_of(b, l);

	if (!bl)
		return;
	say_end(b, bl, bl->ringing ? "withdrawn" : "hangup");
	bl->ringing = false;
	event_soon(b, bl->id, SIP_EV_TERMINATED, 0, "local"); /* as the SIP thread's BYE done */
}

static int br_refer_reply(struct cleg *l, int status, const char *reason)
{
	(void)l, (void)status, (void)reason;
	return -ENOTSUP;
}

static void br_release(struct cleg *l)
{
	struct browser *b = l->call->cc->browser;
	struct bleg *bl = bleg_of(b, l);

	if (bl) {
		say_end(b, bl, "ended");
		bleg_free(b, bl); /* before the media leg */
	}
	sip_leg_ops.release(l);
}

static void br_on_dtmf(struct cleg *l, mleg_dtmf_h *h, void *arg)
{
	struct bleg *bl = bleg_of(l->call->cc->browser, l);

	if (bl)
		bl->dtmf_h = h, bl->dtmf_arg = arg;
	sip_leg_ops.on_dtmf(l, h, arg); /* the browser's RFC 4733 events too */
}

/* ---- registrations ---- */
static struct breg *reg_find(const struct browser *b, int64_t uid)
{
	struct breg *r = NULL;

	HASH_FIND(hh, b->regs, &uid, sizeof(uid), r);
	return r;
}

const char *browser_contact(const struct callctl *cc, const struct user *u)
{
	struct breg *r = cc->browser ? reg_find(cc->browser, user_record(u)->id) : NULL;

	return r ? r->contact : NULL;
}

const struct leg_ops *browser_ops_for(const struct callctl *cc, const char *uri)
{
	return cc->browser && uri && !strncmp(uri, "browser:", 8) ? &cc->browser->ops : cc->leg_ops;
}

static void reg_drop(struct browser *b, struct breg *r, const char *why, bool tell)
{
	struct user *u = routing_user_by_id(b->cc->r, r->user_id);
	struct callctl_rtc_msg m = {.type = "rtc.unregistered", .reason = why};

	if (tell)
		say(b, r->sock, &m);
	HASH_DEL(b->regs, r);
	free(r);
	if (!u)
		return;
	log_info("agent=%s action=browser unregistered (%s)", user_record(u)->user_name, why);
	if (registrar_sip_contact(b->cc, u)) /* the SIP phone rings again */
		registrar_device_announce(b->cc, u, true, why, user_record(u)->user_name, "sip");
	else
		registrar_device_announce(b->cc, u, false, why, user_record(u)->user_name,
					  "browser");
}

static void rtc_register(struct browser *b, uint64_t sock, struct user *u, const char *ref)
{
	int64_t uid = user_record(u)->id;
	struct breg *r = reg_find(b, uid);
	struct callctl_rtc_msg m = {.type = "rtc.registered", .ref = ref};

	/* agents take calls; managers monitor them (a SUPERVISOR leg) */
	if (!user_is_agent(u) &&
	    !(user_roles(u) & (ROLE_BIT(ROLE_VOICE_MANAGER) | ROLE_BIT(ROLE_ADMIN)))) {
		b->forbidden++;
		log_warn("user=%s action=rtc.register refused: not an agent or a manager",
			 user_record(u)->user_name);
		say_error(b, sock, ref, NULL, "forbidden",
			  "only an agent's or a manager's browser can be a phone");
		return;
	}
	if (r && r->sock != sock) {
		struct callctl_rtc_msg old = {.type = "rtc.unregistered", .reason = "replaced"};
		say(b, r->sock, &old);
		r->sock = sock;
	} else if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			say_error(b, sock, ref, NULL, "server_error", "out of memory");
			return;
		}
		r->user_id = uid, r->sock = sock;
		snprintf(r->contact, sizeof(r->contact), "browser:%" PRId64, uid);
		HASH_ADD(hh, b->regs, user_id, sizeof(r->user_id), r);
	}
	say(b, sock, &m);
	log_info("agent=%s action=browser registered", user_record(u)->user_name);
	registrar_device_announce(b->cc, u, true, "registered", user_record(u)->user_name,
				  "browser");
	routing_dispatch_soon(b->cc->r); /* a waiting caller may now reach this agent */
}

/* ---- the browser caller ---- */
static void rtc_call(struct browser *b, uint64_t sock, struct user *u,
		     const struct callctl_rtc_req *rq)
{
	const struct st_user *rec = user_record(u);
	char from[64];

	if (!rq->to || !rq->to[0] || !rq->sdp) {
		b->bad_request++;
		say_error(b, sock, rq->ref, NULL, "bad_request",
			  "rtc.call needs \"to\" and \"sdp\"");
		return;
	}
	if (rec->mobile_phone[0] || rec->business_phone[0])
		str_copy(from, rec->mobile_phone[0] ? rec->mobile_phone : rec->business_phone,
			 sizeof(from));
	else
		snprintf(from, sizeof(from), "browser:%.55s", rec->user_name);
	b->pending.id = ++b->next_id, b->pending.sock = sock, b->pending.user_id = rec->id;
	b->pending.ref = rq->ref;
	log_info("user=%s action=browser call to=%.40s", rec->user_name, rq->to);
	call_inbound(b->cc, &b->ops, b->pending.id, rq->to, from, rq->sdp);
	memset(&b->pending, 0, sizeof(b->pending));
}

/* ---- messages about a leg ---- */
static struct bleg *leg_of_socket(struct browser *b, uint64_t sock, struct user *u,
				  const struct callctl_rtc_req *rq)
{
	struct bleg *bl = bleg_find(b, rq->leg);

	if (bl && bl->sock == sock && bl->user_id == user_record(u)->id && bl->l)
		return bl;
	b->forbidden++;
	log_warn("user=%s action=%s refused: leg %.30s is not this socket's (forbidden)",
		 user_record(u)->user_name, rq->type, rq->leg ? rq->leg : "(none)");
	say_error(b, sock, rq->ref, rq->leg, "forbidden", "this leg is not yours");
	return NULL;
}

static void rtc_leg_message(struct browser *b, uint64_t sock, struct user *u,
			    const struct callctl_rtc_req *rq)
{
	struct bleg *bl = leg_of_socket(b, sock, u, rq);
	int err;

	if (!bl)
		return;
	if (!strcmp(rq->type, "rtc.answer")) {
		if (!bl->ringing || !rq->sdp) {
			say_error(b, sock, rq->ref, bl->ids, bl->ringing ? "bad_request" : "state",
				  bl->ringing ? "rtc.answer needs \"sdp\""
					      : "this leg is not ringing");
			return;
		}
		err = webrtc_leg_remote(bl->w, rq->sdp);
		if (err) { /* an unusable answer: a phone's 488 */
			say_error(b, sock, rq->ref, bl->ids, "bad_request",
				  err == -ENOTSUP ? "the answer names nothing we can use"
						  : "the answer does not parse");
			say_end(b, bl, "unusable answer");
			bl->ringing = false;
			event_soon(b, bl->id, SIP_EV_FAILED, 488, "unusable answer");
		}
	} else if (!strcmp(rq->type, "rtc.reject")) {
		if (!bl->ringing) {
			say_error(b, sock, rq->ref, bl->ids, "state", "this leg is not ringing");
			return;
		}
		bl->ringing = false;
		bl->ended = true;
		event_soon(b, bl->id, SIP_EV_FAILED, 603, "rejected");
	} else if (!strcmp(rq->type, "rtc.hangup")) {
		bool rang = bl->ringing;
		bl->ringing = false;
		bl->ended = true;
		if (rang)
			event_soon(b, bl->id, SIP_EV_FAILED, 603, "rejected");
		else
			event_soon(b, bl->id, SIP_EV_TERMINATED, 0, "bye");
	} else { /* rtc.dtmf */
		const char *d = rq->digits;
		size_t n = d ? strlen(d) : 0;
		if (!n || n > BROWSER_DIGITS || strspn(d, "0123456789*#ABCDabcd") != n) {
			b->bad_request++;
			say_error(b, sock, rq->ref, bl->ids, "bad_request",
				  "digits: 1 to 32 of 0-9 * # A-D");
			return;
		}
		for (size_t i = 0; i < n; i++) {
			struct bev *e = calloc(1, sizeof(*e));
			if (!e)
				break;
			e->digit = d[i] >= 'a' && d[i] <= 'd' ? (char)(d[i] - 32) : d[i];
			e->ev.leg = bl->id;
			defer(b, e);
		}
	}
}

void callctl_rtc_request(struct callctl *cc, uint64_t sock, struct user *u,
			 const struct callctl_rtc_req *rq)
{
	struct browser *b = cc ? cc->browser : NULL;

	if (!b || !u) {
		if (b)
			say_error(b, sock, rq->ref, NULL, "forbidden", "not signed in");
		return;
	}
	if (!rq->type) {
		callctl_rtc_bad_request(cc, sock, rq->ref, "no \"type\"");
	} else if (!strcmp(rq->type, "rtc.register")) {
		rtc_register(b, sock, u, rq->ref);
	} else if (!strcmp(rq->type, "rtc.unregister")) {
		struct breg *r = reg_find(b, user_record(u)->id);
		if (r && r->sock == sock) {
			reg_drop(b, r, "unregistered", true);
		} else {
			struct callctl_rtc_msg m = {.type = "rtc.unregistered",
						    .ref = rq->ref,
						    .reason = "unregistered"};
			say(b, sock, &m);
		}
	} else if (!strcmp(rq->type, "rtc.call")) {
		rtc_call(b, sock, u, rq);
	} else if (!strcmp(rq->type, "rtc.answer") || !strcmp(rq->type, "rtc.reject") ||
		   !strcmp(rq->type, "rtc.hangup") || !strcmp(rq->type, "rtc.dtmf")) {
		rtc_leg_message(b, sock, u, rq);
	} else {
		callctl_rtc_bad_request(cc, sock, rq->ref, "unknown rtc message type");
	}
}

void callctl_rtc_bad_request(struct callctl *cc, uint64_t sock, const char *ref,
			     const char *message)
{
	struct browser *b = cc ? cc->browser : NULL;

	if (!b)
		return;
	b->bad_request++;
	log_info("sock=%" PRIu64 " action=rtc message refused: %s", sock, message);
	say_error(b, sock, ref, NULL, "bad_request", message);
}

void callctl_rtc_closed(struct callctl *cc, uint64_t sock)
{
	struct browser *b = cc ? cc->browser : NULL;
	struct breg *r, *rtmp;
	struct bleg *bl, *tmp;

	if (!b)
		return;
	HASH_ITER(hh, b->regs, r, rtmp)
	{
		if (r->sock == sock)
			reg_drop(b, r, "closed", false);
	}
	HASH_ITER(hh, b->legs, bl, tmp)
	{
		if (bl->sock != sock || bl->ended)
			continue;
		bl->ended = true; /* nobody to tell */
		log_info("leg=%s action=the browser's socket closed", bl->ids);
		if (bl->ringing) /* an offer not answered: the next agent */
			event_soon(b, bl->id, SIP_EV_FAILED, 480, "browser closed");
		else
			event_soon(b, bl->id, SIP_EV_TERMINATED, 0, "browser closed");
		bl->ringing = false;
	}
}

void callctl_rtc_sink_set(struct callctl *cc, callctl_rtc_send_h *h, void *arg)
{
	if (!cc || !cc->browser)
		return;
	cc->browser->send = h;
	cc->browser->send_arg = arg;
}

void callctl_rtc_stats(const struct callctl *cc, struct callctl_rtc_stats *st)
{
	const struct browser *b = cc ? cc->browser : NULL;
	struct webrtc_stats w;

	memset(st, 0, sizeof(*st));
	if (!b)
		return;
	webrtc_totals(b->w, &w);
	st->legs = w.legs, st->connected = w.connected, st->failed = w.failed;
	st->stun_bad = w.stun_bad, st->stun_auth = w.stun_auth, st->dtls_bad = w.dtls_bad;
	st->dtls_fail = w.dtls_fail, st->fp_mismatch = w.fp_mismatch, st->srtp_auth = w.srtp_auth;
	st->srtp_replay = w.srtp_replay, st->srtp_bad = w.srtp_bad, st->demux_bad = w.demux_bad;
	st->consent_fail = w.consent_fail;
	st->rtcp_in = w.rtcp_in, st->rtcp_out = w.rtcp_out, st->rtcp_bad = w.rtcp_bad;
	st->forbidden = b->forbidden, st->bad_request = b->bad_request;
	st->browsers = HASH_COUNT(b->regs);
	st->live = HASH_COUNT(b->legs);
}

/* ---- start, stop ---- */
int browser_start(struct callctl *cc)
{
	struct browser *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return -ENOMEM;
	b->cc = cc;
	b->next_id = BROWSER_LEG_BASE;
	b->ops = sip_leg_ops; /* the media side is the SIP endpoint's, as it is */
	b->ops.name = "browser";
	b->ops.media = endpoint_media_local; /* the WebRTC transport's leg, and its stand-in */
	b->ops.refuse = br_refuse;
	b->ops.answer = br_answer;
	b->ops.dial = br_dial;
	b->ops.remote = br_remote;
	b->ops.reoffer = br_reoffer;
	b->ops.hangup = br_hangup;
	b->ops.refer_reply = br_refer_reply;
	b->ops.release = br_release;
	b->ops.on_dtmf = br_on_dtmf;
	b->kick = calloc(1, sizeof(*b->kick));
	err = b->kick ? webrtc_alloc(&b->w, cc->loop, NULL) : -ENOMEM;
	if (err || uv_timer_init(cc->loop, b->kick)) {
		free(b->kick);
		free(b);
		return err ? err : -ENOMEM;
	}
	b->kick->data = b;
	uv_unref((uv_handle_t *)b->kick);
	cc->browser = b;
	log_info("WebRTC legs on %s (%s)", cc->cfg.rtp_address, webrtc_fingerprint(b->w));
	return 0;
}

static void kick_closed(uv_handle_t *h)
{
	free(h);
}

/* After the calls are released (their legs freed). */
void browser_free(struct callctl *cc)
{
	struct browser *b = cc->browser;
	struct breg *r, *rtmp;
	struct bleg *bl, *tmp;
	struct bev *e;

	if (!b)
		return;
	HASH_ITER(hh, b->legs, bl, tmp) /* none once the calls are gone */
	bleg_free(b, bl);
	HASH_ITER(hh, b->regs, r, rtmp)
	{
		HASH_DEL(b->regs, r);
		free(r);
	}
	while ((e = b->head)) {
		b->head = e->next;
		free(e);
	}
	uv_timer_stop(b->kick);
	uv_close((uv_handle_t *)b->kick, kick_closed);
	webrtc_free(b->w);
	free(b);
	cc->browser = NULL;
}
