/*
 * fuzz_webrtc_rx.c — libFuzzer target for a connected WebRTC leg's
 * receive path: RFC 7983's demultiplexer, STUN on a live leg, DTLS after
 * the handshake, SRTP/SRTCP unprotect (bad tags, replays, garbage), and
 * what comes out of it: RTP parse, Opus decode into a mixing conference's
 * jitter buffer and the audio listener, the clock's mix encoded and sent
 * back through SRTP protect.
 *
 * White-box (webrtc_int.h, media_int.h): at start a server leg and the
 * project's test client shake hands over loopback (ICE, DTLS, SRTP, Opus)
 * and the server leg joins a conference with a G.711 leg. Each input is a
 * script; op % 5:
 *   0  a datagram (2-byte length, bytes) from the peer's address, as is
 *   1  an RTP packet (2-byte length, bytes) protected with the client's
 *      real SRTP session first (sequence numbers renumbered so they are
 *      fresh, SSRC one of four), so fuzzed RTP reaches the decoder; when
 *      its second byte is 192-223 it is RTCP instead, protected as SRTCP
 *      (a fresh index), so fuzzed reports reach rtcp_parse and the leg's
 *      RTCP state (RTT, loss)
 *   2  a datagram from another address
 *   3  one media clock frame (mix, encode, protect, send)
 *   4  the loop runs once (timers: consent, DTLS)
 * Invariants: every datagram is counted once (rx or bad) by the media
 * leg; a protected packet never fails authentication; a protected RTCP
 * packet is counted once (parsed, malformed, or a fifth SSRC); the leg stays
 * connected unless a datagram was DTLS or a failure was reported (then
 * the pair is made again). Seeds: tests/fuzz/corpus/webrtc_rx/.
 */
#include "media/media_int.h"
#include "webrtc/webrtc_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static struct media *m;
static struct webrtc *ws, *wc;
static struct mleg *ms, *mc, *mg;
static struct webrtc_leg *ls, *lc;
static struct mconf *conf;
static struct sockaddr_storage peer;
static struct sockaddr_in stranger;
static uint16_t seq;
static size_t heard;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void on_audio(struct mleg *l, const int16_t *pcm, size_t n, void *arg)
{
	check(n <= 960);
	heard += n;
}

static void pair_make(void)
{
	char offer[4096], answer[4096];
	uint64_t end;

	check(!mleg_alloc(&ms, m, 1) && !mleg_alloc(&mc, m, 2));
	check(!webrtc_leg_alloc(&ls, ws, ms, WEBRTC_SERVER, NULL, NULL));
	check(!webrtc_leg_alloc(&lc, wc, mc, WEBRTC_CLIENT, NULL, NULL));
	check(!webrtc_leg_offer(lc, "127.0.0.1", offer, sizeof(offer)));
	check(!webrtc_leg_answer(ls, offer, "127.0.0.1", answer, sizeof(answer)));
	check(!webrtc_leg_remote(lc, answer));
	end = uv_now(&loop) + 5000;
	while (uv_now(&loop) < end && (webrtc_leg_state(ls) != WEBRTC_CONNECTED ||
				       webrtc_leg_state(lc) != WEBRTC_CONNECTED)) {
		uv_run(&loop, UV_RUN_ONCE);
		uv_update_time(&loop);
	}
	check(webrtc_leg_state(ls) == WEBRTC_CONNECTED);
	peer = ls->peer;
	mleg_set_audio_handler(ms, on_audio, NULL);
	check(!media_conf_add(conf, ms, MIXER_TALK, NULL));
}

static void pair_drop(void)
{
	webrtc_leg_free(ls);
	webrtc_leg_free(lc);
	mleg_free(ms);
	mleg_free(mc);
	uv_run(&loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = 39400, .port_max = 39599};
	/* the SSL is kept (no 10 s release on the wall clock): an input
	 * replays the same way whenever it runs; the released state is a
	 * counted drop (dtls_leg_rx), tested in test_webrtc */
	struct webrtc_cfg wcfg = {
		.consent_ms = 3600000, .keepalive_ms = 3600000, .dtls_linger_ms = 3600000};

	log_level_set(LOG_ERROR);
	uv_loop_init(&loop);
	check(!media_alloc(&m, &loop, &cfg));
	check(!webrtc_alloc(&ws, &loop, &wcfg) && !webrtc_alloc(&wc, &loop, &wcfg));
	check(!media_conf_alloc(&conf, m, 1));
	check(!mleg_alloc(&mg, m, 3));
	check(!mleg_set_remote(mg, "127.0.0.1", 9, MEDIA_PCMU, 101));
	check(!media_conf_add(conf, mg, MIXER_TALK, NULL));
	uv_ip4_addr("127.0.0.1", 13, &stranger);
	pair_make();
	return 0;
}

/* One datagram into the server leg, counted exactly once by its media leg. */
static void deliver(uint8_t *p, size_t n, const struct sockaddr *from)
{
	struct media_stats a, b;

	mleg_stats(ms, &a);
	mleg_rx(ms, p, n, from);
	mleg_stats(ms, &b);
	check(b.rx_packets + b.rx_bad - a.rx_packets - a.rx_bad <= 1);
}

/* An RTCP compound as the client's SRTCP session protects it. */
static void protected_rtcp(uint8_t *p, size_t n)
{
	struct webrtc_stats a, b;
	int k;

	p[4] = p[5] = p[6] = 0, p[7] &= 3; /* SSRC one of four */
	k = wsrtp_protect_rtcp(lc->tx, p, n, MEDIA_PKT_MAX + 64);
	if (k < 0)
		return;
	webrtc_leg_stats(ls, &a);
	deliver(p, (size_t)k, (struct sockaddr *)&peer);
	webrtc_leg_stats(ls, &b);
	check(b.srtp_auth == a.srtp_auth);
	check(b.rtcp_in + b.rtcp_bad + b.srtp_bad - a.rtcp_in - a.rtcp_bad - a.srtp_bad == 1);
}

static void protected_rtp(const uint8_t *in, size_t n)
{
	uint8_t p[MEDIA_PKT_MAX + 64];
	struct webrtc_stats a, b;
	int k;

	if (n < 12 || n > MEDIA_PKT_MAX - 64)
		return;
	memcpy(p, in, n);
	p[0] = (uint8_t)(0x80 | (p[0] & 0x3f)); /* RTP v2 */
	if (p[1] >= 192 && p[1] <= 223) {
		protected_rtcp(p, n);
		return;
	}
	seq++;
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[8] = p[9] = p[10] = 0, p[11] &= 3;
	k = wsrtp_protect(lc->tx, p, n, sizeof(p));
	if (k < 0)
		return; /* e.g. CSRC/extension lengths libsrtp refuses */
	webrtc_leg_stats(ls, &a);
	deliver(p, (size_t)k, (struct sockaddr *)&peer);
	webrtc_leg_stats(ls, &b);
	check(b.srtp_auth == a.srtp_auth);
}

static size_t take(const uint8_t **d, size_t *left, uint8_t *buf, size_t cap)
{
	size_t n;

	if (*left < 2)
		return (size_t)-1;
	n = (size_t)((*d)[0] << 8 | (*d)[1]) % (cap + 1);
	*d += 2, *left -= 2;
	if (n > *left)
		n = *left;
	memcpy(buf, *d, n);
	*d += n, *left -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t left)
{
	uint8_t buf[MEDIA_PKT_MAX + 64];

	while (left > 0) {
		uint8_t op = *d++ % 5;
		size_t n;

		left--;
		if (op == 3) {
			media_clock_frame(m);
			continue;
		}
		if (op == 4) {
			uv_run(&loop, UV_RUN_NOWAIT);
			continue;
		}
		n = take(&d, &left, buf, MEDIA_PKT_MAX);
		if (n == (size_t)-1)
			break;
		if (op == 0)
			deliver(buf, n, (struct sockaddr *)&peer);
		else if (op == 1)
			protected_rtp(buf, n);
		else
			deliver(buf, n, (struct sockaddr *)&stranger);
	}
	if (webrtc_leg_state(ls) != WEBRTC_CONNECTED) { /* a DTLS alert ended it: again */
		pair_drop();
		pair_make();
	}
	return 0;
}
