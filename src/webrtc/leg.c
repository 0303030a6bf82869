/*
 * leg.c — one WebRTC leg: the transport under a media leg. The receive
 * path's demultiplexer (RFC 7983), ICE-lite (RFC 8445 §2.5: answering
 * checks, nomination, consent), the leg's one timer, the state reported
 * to the owner, SDP offers and answers.
 *
 * DESIGN
 * - The media leg's socket is the leg's only socket; its receive path hands
 *   every datagram here first (struct mleg_xport). By the first byte:
 *   0-3 STUN (ICE), 20-63 DTLS (dtls.c), 128-191 SRTP or SRTCP (srtp.c;
 *   RTCP when the second byte is 192-223, RFC 5761); anything else is
 *   dropped and counted. SRTP comes back unprotected, in place, as RTP for
 *   media's normal path; everything else ends here.
 * - ICE-lite (the server): we have one host candidate (the media address
 *   and the leg's port) and never send checks. A binding request is
 *   answered when its USERNAME is "our-ufrag:their-ufrag", its
 *   MESSAGE-INTEGRITY verifies with our password and its FINGERPRINT is
 *   right; otherwise 401 (bad credentials) or nothing (malformed), counted.
 *   The first valid check's source becomes the peer (so DTLS may start);
 *   USE-CANDIDATE nominates its source. DTLS and SRTP are accepted from
 *   the peer only.
 * - Consent freshness (RFC 7675) seen from the lite side: the browser
 *   keeps sending checks on the selected pair (every ~5 s); a peer that
 *   sends none for cfg.consent_ms (30 s) has withdrawn consent: the leg
 *   fails ("consent expired") and media stops both ways.
 * - The client role (the test client, what a browser does): it sends the
 *   checks (controlling, USE-CANDIDATE: aggressive nomination) to the
 *   answer's candidate every 100 ms until one succeeds, then one every
 *   cfg.keepalive_ms; no valid response for consent_ms fails it.
 * - One uv_timer per leg (libuv keeps timers in a heap), armed for the
 *   earliest of: a state to report, the DTLS retransmission, the next
 *   check (client), the consent and connect deadlines, the next RTCP
 *   report (rtcp.c): a connected server leg wakes about every 5 s.
 * - The owner hears of state changes from the timer, never from inside the
 *   receive path, so its handler may free the leg (CONVENTIONS §8).
 * - Freeing: detach from the media leg, free SSL and SRTP at once; the
 *   memory goes in the timer's close callback.
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <openssl/rand.h>
#include <string.h>

#define CHECK_RETRY_MS 100 /* client: checks until one succeeds */
#define UFRAG_LEN      8
#define PWD_LEN	       32

static const char *const state_names[] = {
	[WEBRTC_NEW] = "new",	    [WEBRTC_CHECKING] = "checking",
	[WEBRTC_DTLS] = "dtls",	    [WEBRTC_CONNECTED] = "connected",
	[WEBRTC_FAILED] = "failed",
};

const char *webrtc_state_name(enum webrtc_state st)
{
	return st <= WEBRTC_FAILED ? state_names[st] : "?";
}

static int64_t now_ms(const struct webrtc_leg *l)
{
	return (int64_t)uv_now(l->w->loop);
}

static bool peer_is(const struct webrtc_leg *l, const struct sockaddr *a)
{
	const struct sockaddr_storage *b = &l->peer;

	if (!l->has_peer || a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

static void peer_set(struct webrtc_leg *l, const struct sockaddr *a)
{
	size_t n =
		a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	memset(&l->peer, 0, sizeof(l->peer));
	memcpy(&l->peer, a, n);
	l->has_peer = true;
}

/* ---- the timer ---- */
static void leg_timer_cb(uv_timer_t *t);

static int64_t earliest(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static void leg_arm(struct webrtc_leg *l)
{
	int64_t now = now_ms(l), due = 0;

	if (!l->timer_open)
		return;
	if (l->report)
		due = now;
	if (l->state == WEBRTC_FAILED) {
		if (due)
			uv_timer_start(&l->timer, leg_timer_cb, 0, 0);
		else
			uv_timer_stop(&l->timer);
		return;
	}
	due = earliest(due, dtls_leg_due(l, now));
	if (l->role == WEBRTC_CLIENT && l->has_remote)
		due = earliest(due, l->next_check_ms);
	if (l->state == WEBRTC_CHECKING || l->state == WEBRTC_DTLS)
		due = earliest(due, l->dtls_deadline_ms);
	if (l->has_peer && l->last_check_ms)
		due = earliest(due, l->last_check_ms + l->w->cfg.consent_ms + 1);
	if (l->ssl && l->ssl_free_ms)
		due = earliest(due, l->ssl_free_ms);
	if (l->state == WEBRTC_CONNECTED)
		due = earliest(due, l->rtcp.next_ms);
	if (!due) {
		uv_timer_stop(&l->timer);
		return;
	}
	uv_timer_start(&l->timer, leg_timer_cb, (uint64_t)(due > now ? due - now : 0), 0);
}

static void leg_state(struct webrtc_leg *l, enum webrtc_state st)
{
	if (l->state == st)
		return;
	log_info("port=%d action=webrtc %s -> %s", mleg_port(l->m), webrtc_state_name(l->state),
		 webrtc_state_name(st));
	l->state = st;
	l->report = true;
	leg_arm(l);
}

void leg_fail(struct webrtc_leg *l, const char *why)
{
	if (l->state == WEBRTC_FAILED)
		return;
	if (l->closed_by_peer) /* a browser hanging up: not a fault */
		log_info("port=%d action=webrtc ended: %s", mleg_port(l->m), why);
	else
		log_warn("port=%d action=webrtc failed: %s", mleg_port(l->m), why);
	l->why = why;
	l->st.failed++;
	mleg_clear_peer(l->m); /* no media either way from now on */
	leg_state(l, WEBRTC_FAILED);
}

int leg_send_raw(struct webrtc_leg *l, const uint8_t *p, size_t n)
{
	return l->has_peer ? mleg_send_raw(l->m, p, n, (const struct sockaddr *)&l->peer)
			   : -ENOTCONN;
}

/* ---- ICE ---- */
/* ICE found a pair: DTLS starts (the client role sends its ClientHello). */
static void leg_pair_valid(struct webrtc_leg *l)
{
	if (l->state != WEBRTC_CHECKING)
		return;
	leg_state(l, WEBRTC_DTLS);
	if (dtls_leg_start(l))
		leg_fail(l, "dtls: out of memory");
	leg_arm(l);
}

static void stun_reply(struct webrtc_leg *l, const uint8_t *tid, const struct sockaddr *to,
		       int code, const char *reason)
{
	uint8_t buf[256];
	int n = code ? stun_build_error(buf, sizeof(buf), tid, code, reason)
		     : stun_build_success(buf, sizeof(buf), tid, to, l->pwd);

	if (n > 0)
		mleg_send_raw(l->m, buf, (size_t)n, to);
}

/* USERNAME = "our-ufrag:their-ufrag" (theirs checked once we know it). */
static bool user_ok(const struct webrtc_leg *l, const struct stun_msg *m)
{
	size_t ul = strlen(l->ufrag);

	if (!m->user || m->user_len <= ul || memcmp(m->user, l->ufrag, ul) || m->user[ul] != ':')
		return false;
	if (!l->has_remote)
		return true;
	return m->user_len - ul - 1 == strlen(l->remote.ufrag) &&
	       !memcmp(m->user + ul + 1, l->remote.ufrag, m->user_len - ul - 1);
}

static int stun_request(struct webrtc_leg *l, const uint8_t *p, size_t n, const struct stun_msg *m,
			const struct sockaddr *from)
{
	if (l->role != WEBRTC_SERVER || l->state == WEBRTC_FAILED) {
		l->st.stun_bad++;
		return -EPROTO;
	}
	if (!user_ok(l, m) || !stun_integrity_ok(p, n, m, l->pwd)) {
		l->st.stun_auth++;
		log_info("port=%d action=stun refused: bad USERNAME or MESSAGE-INTEGRITY",
			 mleg_port(l->m));
		stun_reply(l, m->tid, from, 401, "Unauthorized");
		return -EACCES;
	}
	if (m->controlled || !m->has_prio) { /* a lite agent is always controlled */
		l->st.stun_bad++;
		stun_reply(l, m->tid, from, m->controlled ? 487 : 400,
			   m->controlled ? "Role Conflict" : "Bad Request");
		return -EPROTO;
	}
	stun_reply(l, m->tid, from, 0, NULL);
	l->st.stun_ok++;
	if (!l->has_peer || (m->use_candidate && !peer_is(l, from))) {
		peer_set(l, from);		  /* the first valid pair, or the nominated one */
		if (l->state == WEBRTC_CONNECTED) /* media follows a new nomination */
			mleg_set_peer(l->m, from, l->codec, l->pt, l->dtmf_pt);
	}
	if (peer_is(l, from))
		l->last_check_ms = now_ms(l);
	if (m->use_candidate && !l->nominated) {
		l->nominated = true;
		log_info("port=%d action=ice nominated", mleg_port(l->m));
	}
	if (l->has_remote)
		leg_pair_valid(l);
	leg_arm(l);
	return 0;
}

static int stun_response(struct webrtc_leg *l, const uint8_t *p, size_t n, const struct stun_msg *m,
			 const struct sockaddr *from)
{
	if (l->role != WEBRTC_CLIENT || !l->has_remote || memcmp(m->tid, l->check_tid, 12)) {
		l->st.stun_bad++;
		return -EPROTO;
	}
	if (!stun_integrity_ok(p, n, m, l->remote.pwd)) {
		l->st.stun_auth++;
		return -EACCES;
	}
	l->st.stun_ok++;
	if (!l->has_peer)
		peer_set(l, from), l->nominated = true; /* aggressive: USE-CANDIDATE was on it */
	l->last_check_ms = now_ms(l);
	l->next_check_ms = now_ms(l) + l->w->cfg.keepalive_ms;
	leg_pair_valid(l);
	leg_arm(l);
	return 0;
}

static int stun_rx(struct webrtc_leg *l, const uint8_t *p, size_t n, const struct sockaddr *from)
{
	struct stun_msg m;

	if (stun_parse(p, n, &m) || !stun_fingerprint_ok(p, n, &m)) {
		l->st.stun_bad++;
		return -EBADMSG;
	}
	if (m.type == STUN_BINDING_REQ)
		return stun_request(l, p, n, &m, from);
	if (m.type == STUN_BINDING_OK)
		return stun_response(l, p, n, &m, from);
	if (m.type == STUN_BINDING_ERR && l->role == WEBRTC_CLIENT) {
		l->st.stun_auth++; /* our check was refused */
		return -EACCES;
	}
	return 0; /* indications (keepalives) and the rest: nothing to do */
}

/* client: one check to the candidate (or the pair once valid) */
static void check_send(struct webrtc_leg *l)
{
	struct sockaddr_storage to;
	char user[600];
	uint8_t buf[256];
	struct stun_req r = {.user = user,
			     .key = l->remote.pwd,
			     .prio = 1862270975u,
			     .controlling = true,
			     .use_candidate = true,
			     .tiebreak = l->tiebreak};
	int n;

	if (l->has_peer) {
		to = l->peer;
	} else if (uv_ip4_addr(l->remote.cand_addr, l->remote.cand_port, (void *)&to) &&
		   uv_ip6_addr(l->remote.cand_addr, l->remote.cand_port, (void *)&to)) {
		leg_fail(l, "no usable candidate");
		return;
	}
	snprintf(user, sizeof(user), "%s:%s", l->remote.ufrag, l->ufrag);
	RAND_bytes(r.tid, sizeof(r.tid));
	memcpy(l->check_tid, r.tid, 12);
	n = stun_build_request(buf, sizeof(buf), &r);
	if (n > 0)
		mleg_send_raw(l->m, buf, (size_t)n, (struct sockaddr *)&to);
	l->checks_sent++;
	l->next_check_ms = now_ms(l) + (l->has_peer ? l->w->cfg.keepalive_ms : CHECK_RETRY_MS);
}

/* ---- the timer's work ---- */
/* cfg.rtcp_ms ±25 % from now */
static int64_t rtcp_next(const struct webrtc_leg *l)
{
	uint8_t r = 128;
	int64_t iv = l->w->cfg.rtcp_ms;

	RAND_bytes(&r, 1);
	return now_ms(l) + iv * 3 / 4 + iv * r / 512;
}

/* Our report, over SRTCP to the nominated address. */
static void rtcp_send(struct webrtc_leg *l)
{
	uint8_t buf[256];
	int n = rtcp_build(&l->rtcp, buf, sizeof(buf) - WSRTCP_TRAILER);

	l->rtcp.next_ms = rtcp_next(l);
	if (n > 0)
		n = wsrtp_protect_rtcp(l->tx, buf, (size_t)n, sizeof(buf));
	if (n > 0 && !leg_send_raw(l, buf, (size_t)n))
		l->st.rtcp_out++;
}

static void leg_deadlines(struct webrtc_leg *l, int64_t now)
{
	if (l->state == WEBRTC_FAILED)
		return;
	if ((l->state == WEBRTC_CHECKING || l->state == WEBRTC_DTLS) && l->dtls_deadline_ms &&
	    now >= l->dtls_deadline_ms) {
		if (l->state == WEBRTC_DTLS)
			l->st.dtls_fail++;
		leg_fail(l, l->state == WEBRTC_CHECKING ? "ice timeout" : "dtls timeout");
		return;
	}
	if (l->has_peer && l->last_check_ms && now > l->last_check_ms + l->w->cfg.consent_ms) {
		l->st.consent_fail++;
		leg_fail(l, "consent expired");
	}
}

static void leg_timer_cb(uv_timer_t *t)
{
	struct webrtc_leg *l = t->data;
	int64_t now = now_ms(l);

	if (l->state != WEBRTC_FAILED && dtls_leg_due(l, now) && dtls_leg_due(l, now) <= now + 1)
		dtls_leg_timeout(l);
	if (l->state != WEBRTC_FAILED && l->role == WEBRTC_CLIENT && l->has_remote &&
	    l->next_check_ms && now >= l->next_check_ms)
		check_send(l);
	leg_deadlines(l, now);
	if (l->ssl && l->ssl_free_ms && now >= l->ssl_free_ms)
		dtls_leg_release(l);
	if (l->state == WEBRTC_CONNECTED && l->rtcp.next_ms && now >= l->rtcp.next_ms)
		rtcp_send(l);
	leg_arm(l);
	if (l->report && l->reported != l->state) {
		l->report = false;
		l->reported = l->state;
		if (l->h)
			l->h(l, l->state, l->why, l->arg); /* last: it may free l */
		return;
	}
	l->report = false;
}

/* ---- DTLS's outcome ---- */
void leg_dtls_done(struct webrtc_leg *l, int err, const char *why)
{
	if (err) {
		leg_fail(l, why);
		return;
	}
	err = mleg_set_peer(l->m, (const struct sockaddr *)&l->peer, l->codec, l->pt, l->dtmf_pt);
	if (err) {
		leg_fail(l, "media: codec state");
		return;
	}
	l->st.connected++;
	l->ssl_free_ms = now_ms(l) + l->w->cfg.dtls_linger_ms;
	l->rtcp.clock = l->codec == MEDIA_OPUS ? 48000 : 8000;
	l->rtcp.next_ms = now_ms(l) + 1000; /* then every cfg.rtcp_ms */
	log_info("port=%d action=webrtc srtp=%s codec=%s", mleg_port(l->m), webrtc_leg_profile(l),
		 media_codec_name(l->codec));
	leg_state(l, WEBRTC_CONNECTED);
}

/* ---- the receive path (media's transport hook) ---- */
static int srtp_rx(struct webrtc_leg *l, uint8_t *p, size_t n, const struct sockaddr *from)
{
	bool rtcp = n >= 2 && p[1] >= 192 && p[1] <= 223;
	int k;

	if (l->state != WEBRTC_CONNECTED || !peer_is(l, from)) {
		l->st.srtp_bad++;
		return -EPERM;
	}
	k = wsrtp_unprotect(l->rx, p, n, rtcp);
	if (k == -EACCES)
		l->st.srtp_auth++;
	else if (k == -EALREADY)
		l->st.srtp_replay++;
	else if (k < 0)
		l->st.srtp_bad++;
	if (k < 0)
		return k;
	if (rtcp) {
		struct rtcp_info ri;

		if (rtcp_parse(p, (size_t)k, &ri)) {
			l->st.rtcp_bad++;
			return -EBADMSG;
		}
		l->st.rtcp_in++;
		if (rtcp_rx_report(&l->rtcp, &ri) && l->rtcp.next_ms > now_ms(l) + 100) {
			l->rtcp.next_ms = now_ms(l) + 100; /* its first SR: an RTT soon */
			leg_arm(l);
		}
		return 0;
	}
	rtcp_rx_rtp(&l->rtcp, p, (size_t)k);
	return k;
}

static int leg_rx(void *arg, uint8_t *p, size_t n, const struct sockaddr *from)
{
	struct webrtc_leg *l = arg;

	if (n == 0) {
		l->st.demux_bad++;
		return -EPROTO;
	}
	if (p[0] <= 3)
		return stun_rx(l, p, n, from);
	if (p[0] >= 20 && p[0] <= 63) {
		if (!peer_is(l, from)) {
			l->st.dtls_bad++;
			return -EPERM;
		}
		dtls_leg_rx(l, p, n);
		leg_arm(l); /* the handshake's next retransmission */
		return 0;
	}
	if (p[0] >= 128 && p[0] <= 191)
		return srtp_rx(l, p, n, from);
	l->st.demux_bad++;
	return -EPROTO;
}

static int leg_tx(void *arg, uint8_t *p, size_t n, size_t cap)
{
	struct webrtc_leg *l = arg;
	int k;

	if (l->state != WEBRTC_CONNECTED)
		return -ENOTCONN;
	k = wsrtp_protect(l->tx, p, n, cap);
	if (k > 0) /* the header is not encrypted */
		rtcp_tx_rtp(&l->rtcp, p, n);
	return k;
}

static const struct mleg_xport leg_xport = {
	.version = MLEG_XPORT_VERSION,
	.rx = leg_rx,
	.tx = leg_tx,
};

/* ---- lifetime ---- */
static void random_ice(char *out, size_t n)
{
	static const char set[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t r[64];

	RAND_bytes(r, (int)n);
	for (size_t i = 0; i < n; i++)
		out[i] = set[r[i] & 63];
	out[n] = '\0';
}

static void leg_closed(uv_handle_t *h)
{
	mem_deref(h->data);
}

static void leg_destroy(void *data)
{
	struct webrtc_leg *l = data;

	mem_deref(l->w);
}

int webrtc_leg_alloc(struct webrtc_leg **lp, struct webrtc *w, struct mleg *m,
		     enum webrtc_role role, webrtc_state_h *h, void *arg)
{
	struct webrtc_leg *l;
	int err;

	if (!lp || !w || !m || (role != WEBRTC_SERVER && role != WEBRTC_CLIENT))
		return -EINVAL;
	l = mem_zalloc(sizeof(*l), leg_destroy);
	if (!l)
		return -ENOMEM;
	l->w = mem_ref(w), l->m = m, l->role = role, l->h = h, l->arg = arg;
	l->pref[0] = MEDIA_OPUS, l->pref[1] = MEDIA_PCMU, l->npref = 2;
	l->dtmf_pt = -1;
	random_ice(l->ufrag, UFRAG_LEN);
	random_ice(l->pwd, PWD_LEN);
	random_ice(l->rtcp.cname, sizeof(l->rtcp.cname) - 1);
	RAND_bytes((uint8_t *)&l->rtcp.own_ssrc, sizeof(l->rtcp.own_ssrc));
	l->rtcp.rtt_ms = -1;
	RAND_bytes((uint8_t *)&l->tiebreak, sizeof(l->tiebreak));
	err = mleg_set_transport(m, &leg_xport, l);
	if (err) {
		mem_deref(l);
		return err;
	}
	uv_timer_init(w->loop, &l->timer);
	l->timer.data = l;
	l->timer_open = true;
	l->st.legs = 1;
	w->nlegs++;
	l->next = w->legs;
	if (w->legs)
		w->legs->prev = l;
	w->legs = l;
	*lp = l;
	return 0;
}

static void stats_add(struct webrtc_stats *a, const struct webrtc_stats *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		x[i] += y[i];
}

void webrtc_leg_free(struct webrtc_leg *l)
{
	if (!l)
		return;
	mleg_set_transport(l->m, NULL, NULL);
	dtls_leg_free(l);
	l->tx = mem_deref(l->tx);
	l->rx = mem_deref(l->rx);
	stats_add(&l->w->gone, &l->st);
	l->w->nlegs--;
	if (l->prev)
		l->prev->next = l->next;
	else
		l->w->legs = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->timer_open = false;
	uv_close((uv_handle_t *)&l->timer, leg_closed); /* frees l */
}

/* ---- SDP ---- */
int webrtc_leg_codecs(struct webrtc_leg *l, const enum media_codec *c, size_t n)
{
	if (!l || !c || n == 0 || n > 3)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (c[i] != MEDIA_OPUS && c[i] != MEDIA_PCMU && c[i] != MEDIA_PCMA)
			return -EINVAL;
	memcpy(l->pref, c, n * sizeof(*c));
	l->npref = n;
	return 0;
}

/* The first of our codecs the far end has: codec, pt, telephone-event. */
static int codec_pick(struct webrtc_leg *l, const struct webrtc_sdp *s)
{
	for (size_t i = 0; i < l->npref; i++) {
		enum media_codec c = l->pref[i];
		int pt = c == MEDIA_OPUS ? s->opus_pt : c == MEDIA_PCMU ? s->pcmu_pt : s->pcma_pt;

		if (pt < 0)
			continue;
		l->codec = c, l->pt = pt;
		l->dtmf_pt = c == MEDIA_OPUS ? (s->tev48_pt >= 0 ? s->tev48_pt : s->tev8_pt)
					     : (s->tev8_pt >= 0 ? s->tev8_pt : s->tev48_pt);
		if (l->dtmf_pt == pt)
			l->dtmf_pt = -1;
		return 0;
	}
	return -ENOTSUP;
}

static void sdp_out_init(struct webrtc_leg *l, struct webrtc_sdp_out *o, const char *addr,
			 const char *setup, const char *mid)
{
	memset(o, 0, sizeof(*o));
	o->addr = addr, o->port = mleg_port(l->m);
	o->ufrag = l->ufrag, o->pwd = l->pwd, o->fingerprint = l->w->dtls.fingerprint;
	o->setup = setup, o->mid = mid && *mid ? mid : "0";
	o->ice_lite = l->role == WEBRTC_SERVER;
	o->opus_pt = 111, o->tev_pt = -1;
	o->sess_id = (uint64_t)uv_hrtime() / 1000;
}

/* The remote SDP is in: ICE may go (and may already have a valid pair). */
static void remote_in(struct webrtc_leg *l, const struct webrtc_sdp *s, bool dtls_client)
{
	l->remote = *s;
	l->has_remote = true;
	l->dtls_client = dtls_client;
	l->dtls_deadline_ms = now_ms(l) + l->w->cfg.connect_ms;
	leg_state(l, WEBRTC_CHECKING);
	if (l->role == WEBRTC_CLIENT)
		l->next_check_ms = now_ms(l);
	if (l->has_peer) /* checks came before the SDP */
		leg_pair_valid(l);
	leg_arm(l);
}

int webrtc_leg_offer(struct webrtc_leg *l, const char *addr, char *sdp, size_t size)
{
	struct webrtc_sdp_out o;

	if (!l || !addr || !sdp || l->state != WEBRTC_NEW || l->has_remote)
		return -EINVAL;
	sdp_out_init(l, &o, addr, "actpass", "0");
	memcpy(o.codecs, l->pref, l->npref * sizeof(*l->pref));
	o.ncodecs = l->npref;
	o.tev_pt = l->pref[0] == MEDIA_OPUS ? 110 : 101;
	o.tev48 = l->pref[0] == MEDIA_OPUS;
	return webrtc_sdp_build(sdp, size, &o) < 0 ? -ENOSPC : 0;
}

int webrtc_leg_answer(struct webrtc_leg *l, const char *offer, const char *addr, char *sdp,
		      size_t size)
{
	struct webrtc_sdp s;
	struct webrtc_sdp_out o;
	int err;

	if (!l || !offer || !addr || !sdp || l->has_remote || l->state != WEBRTC_NEW)
		return -EINVAL;
	err = webrtc_sdp_parse(offer, strlen(offer), &s);
	if (!err)
		err = codec_pick(l, &s);
	if (err)
		return err;
	/* RFC 5763 §5: we take passive unless the offerer insists on it */
	sdp_out_init(l, &o, addr, s.setup == WEBRTC_SETUP_PASSIVE ? "active" : "passive", s.mid);
	o.codecs[0] = l->codec, o.ncodecs = 1;
	o.opus_pt = l->pt, o.tev_pt = l->dtmf_pt;
	o.tev48 = l->dtmf_pt >= 0 && l->dtmf_pt == s.tev48_pt;
	if (webrtc_sdp_build(sdp, size, &o) < 0)
		return -ENOSPC;
	remote_in(l, &s, s.setup == WEBRTC_SETUP_PASSIVE);
	return 0;
}

int webrtc_leg_remote(struct webrtc_leg *l, const char *answer)
{
	struct webrtc_sdp s;
	int err;

	if (!l || !answer || l->has_remote || l->state != WEBRTC_NEW)
		return -EINVAL;
	err = webrtc_sdp_parse(answer, strlen(answer), &s);
	if (!err)
		err = codec_pick(l, &s);
	if (err)
		return err;
	if (s.setup == WEBRTC_SETUP_ACTPASS)
		return -ENOTSUP; /* an answer must choose */
	if (l->role == WEBRTC_CLIENT && !s.cand_port)
		return -ENOTSUP; /* nowhere to send checks */
	remote_in(l, &s, s.setup == WEBRTC_SETUP_PASSIVE);
	return 0;
}

/* ---- accessors ---- */
enum webrtc_state webrtc_leg_state(const struct webrtc_leg *l)
{
	return l ? l->state : WEBRTC_FAILED;
}

struct mleg *webrtc_leg_media(const struct webrtc_leg *l)
{
	return l ? l->m : NULL;
}

void webrtc_leg_stats(const struct webrtc_leg *l, struct webrtc_stats *st)
{
	if (st)
		*st = l ? l->st : (struct webrtc_stats){0};
}

void webrtc_leg_quality(const struct webrtc_leg *l, struct webrtc_quality *q)
{
	if (!q)
		return;
	if (!l) {
		memset(q, 0, sizeof(*q));
		q->rtt_ms = -1;
		return;
	}
	rtcp_quality(&l->rtcp, q);
}

const char *webrtc_leg_profile(const struct webrtc_leg *l)
{
	if (!l)
		return "";
	return l->prof == WSRTP_AEAD_AES_128_GCM    ? "SRTP_AEAD_AES_128_GCM"
	       : l->prof == WSRTP_AES128_CM_SHA1_80 ? "SRTP_AES128_CM_SHA1_80"
						    : "";
}

/* ---- the process's part ---- */
static void webrtc_destroy(void *data)
{
	struct webrtc *w = data;

	dtls_ctx_close(&w->dtls);
}

int webrtc_alloc(struct webrtc **wp, uv_loop_t *loop, const struct webrtc_cfg *cfg)
{
	struct webrtc *w;
	int err;

	if (!wp || !loop)
		return -EINVAL;
	w = mem_zalloc(sizeof(*w), webrtc_destroy);
	if (!w)
		return -ENOMEM;
	w->loop = loop;
	if (cfg)
		w->cfg = *cfg;
	if (w->cfg.consent_ms <= 0)
		w->cfg.consent_ms = 30000;
	if (w->cfg.keepalive_ms <= 0)
		w->cfg.keepalive_ms = 5000;
	if (w->cfg.connect_ms <= 0)
		w->cfg.connect_ms = 10000;
	if (w->cfg.dtls_linger_ms <= 0)
		w->cfg.dtls_linger_ms = 10000;
	if (w->cfg.rtcp_ms <= 0)
		w->cfg.rtcp_ms = 5000;
	err = dtls_ctx_init(&w->dtls, w->cfg.no_gcm);
	if (err) {
		mem_deref(w);
		return err;
	}
	log_info("action=webrtc ready fingerprint=%s", w->dtls.fingerprint);
	*wp = w;
	return 0;
}

void webrtc_free(struct webrtc *w)
{
	mem_deref(w);
}

const char *webrtc_fingerprint(const struct webrtc *w)
{
	return w ? w->dtls.fingerprint : "";
}

void webrtc_totals(const struct webrtc *w, struct webrtc_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!w)
		return;
	*st = w->gone;
	for (const struct webrtc_leg *l = w->legs; l; l = l->next)
		stats_add(st, &l->st);
}
