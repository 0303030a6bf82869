/*
 * fuzz_media_rx.c — libFuzzer target for the whole receive path of a
 * bridged, recorded call: source check, RTP parse, sequence tracking, relay
 * and transcoding, RFC 4733 relay and digit reporting, the recorder's
 * jitter buffer, interleaving and chunking, interleaved with media-clock
 * frames, playback, DTMF sending and hold.
 *
 * White-box: it includes media_int.h to hand datagrams to mleg_rx and to
 * run media_clock_frame directly (no socket reads, no timers). State lives
 * across inputs like a long call. The input is a script of operations:
 *   op % 6 = 0|1: a datagram (2-byte length, then bytes) from leg a's / b's
 *                 far end;  2: a clock frame;  3: play / stop / mute / DTMF
 *   on b;  4: a datagram from a wrong source;  5: the loop runs once.
 * Invariants: stats add up (every datagram is counted as rx or bad, never
 * both), at most one digit report per end packet. Seeds: corpus/media_rx/.
 */
#include "media/media_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static struct media *m;
static struct mleg *a, *b;
static struct sockaddr_in far_a, far_b, stranger;
static unsigned digits, ends_seen;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void on_digit(struct mleg *l, char d, void *arg)
{
	check(strchr("0123456789*#ABCD", d) != NULL);
	digits++;
}

static void setup(void)
{
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = 39000, .port_max = 39199};

	log_level_set(LOG_ERROR);
	uv_loop_init(&loop);
	check(!media_alloc(&m, &loop, &cfg));
	check(!mleg_alloc(&a, m, 1) && !mleg_alloc(&b, m, 2));
	check(!mleg_set_remote(a, "127.0.0.1", 9, MEDIA_PCMU, 101));
	check(!mleg_set_remote(b, "127.0.0.1", 11, MEDIA_PCMA, 96));
	uv_ip4_addr("127.0.0.1", 9, &far_a);
	uv_ip4_addr("127.0.0.1", 11, &far_b);
	uv_ip4_addr("127.0.0.1", 13, &stranger);
	mleg_set_dtmf_handler(a, on_digit, NULL);
	mleg_set_dtmf_handler(b, on_digit, NULL);
	check(!media_bridge(a, b));
	check(!media_record_start(a, b, "/tmp/fuzz_media_rx.wav"));
}

static void control(uint8_t v)
{
	size_t n;
	const int16_t *beep = media_beep(&n);

	switch (v % 6) {
	case 0: mleg_play(b, beep, n, v & 0x80); break;
	case 1: mleg_stop(b); break;
	case 2: mleg_mute(b, v & 0x80); break;
	case 3: mleg_send_dtmf(b, "0123456789*#ABCD"[(v >> 4) & 15]); break;
	case 4: mleg_mute(a, v & 0x80); break;
	default: media_unbridge(a), media_bridge(a, b); break;
	}
}

/* Feeds one datagram and checks the leg's counters moved by exactly one. */
static void datagram(struct mleg *l, const struct sockaddr_in *from, const uint8_t *p, size_t n)
{
	struct media_stats s0, s1;
	struct rtp_hdr h;

	mleg_stats(l, &s0);
	if (!l->muted && !rtp_parse(p, n, &h) && h.pt == l->dtmf_pt && h.payload_len >= 4 &&
	    h.payload[0] <= 15 && (h.payload[1] & 0x80))
		ends_seen++;
	mleg_rx(l, (uint8_t *)p, n, (const struct sockaddr *)from); /* no transport: read only */
	mleg_stats(l, &s1);
	if (l->muted)
		return;
	check(s1.rx_packets + s1.rx_bad == s0.rx_packets + s0.rx_bad + 1);
	check(s1.rx_lost >= s0.rx_lost);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;

	if (!m)
		setup();
	while (i < size) {
		uint8_t op = data[i++] % 6;
		size_t n;

		if (op == 0 || op == 1 || op == 4) {
			if (size - i < 2)
				break;
			n = (size_t)(data[i] << 8 | data[i + 1]) % (MEDIA_PKT_MAX + 1);
			i += 2;
			n = n < size - i ? n : size - i;
			datagram(op == 1 ? b : a,
				 op == 0   ? &far_a
				 : op == 1 ? &far_b
					   : &stranger,
				 data + i, n);
			i += n;
		} else if (op == 2) {
			media_clock_frame(m);
		} else if (op == 3 && i < size) {
			control(data[i++]);
		} else if (op == 5) {
			uv_run(&loop, UV_RUN_NOWAIT);
		}
	}
	check(digits <= ends_seen);
	uv_run(&loop, UV_RUN_NOWAIT); /* recorder completions */
	return 0;
}
