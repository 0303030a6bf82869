/*
 * test_media_conf.c — conferences of media legs (src/media/conf.c) over
 * real UDP on 127.0.0.1 with a uv loop run by the test. Each far end is a
 * plain socket that sends its leg a constant level (G.711-encoded in its
 * own codec) every 20 ms, or a fixed payload; the levels are chosen so that
 * every sum names its terms, and what each far end receives is decoded and
 * compared with the exact model (encode/decode each term, sum, saturate,
 * encode in the receiver's codec). Covered: three-way calls, listen,
 * whisper and barge, mixed codecs, saturation, the relay fast path and the
 * seamless switches to mixing and back, the recording's two channels (in
 * both modes), removal and freeing (from a DTMF handler too), bad
 * arguments, and an OOM loop. Every test ends with no mem_* block live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/media.h"
#include "udp_fx.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NLEG	     5
#define RX_MAX	     200
#define NOT_CONSTANT INT_MIN

/* Levels whose sums stay distinct through G.711 (each sum names its terms). */
#define LV0 1000
#define LV1 3000
#define LV2 9000
#define LV3 20000

struct pkt {
	struct rtp_hdr h;
	uint8_t pl[MEDIA_FRAME];
};

struct far {
	int fd, port;
	uint16_t seq;
	uint32_t ts, ssrc;
	enum media_codec codec;
	int level;	    /* constant level sent every 20 ms; 0 = silent */
	const uint8_t *pat; /* or this payload (MEDIA_FRAME bytes) */
	int sent;
	struct pkt rx[RX_MAX];
	int nrx;
};

struct ctx {
	uv_loop_t loop;
	uv_timer_t tick, stop;
	struct media *m;
	struct mconf *conf;
	struct mleg *l[NLEG];
	struct far f[NLEG];
	int lvl[NLEG]; /* nominal levels, for the model */
	int n;
	uint64_t t0;
	int ticks;
	void (*on_tick)(struct ctx *c);
	int mark[NLEG][4]; /* far i's packet count at switch k */
	int nmarks;
	/* recording */
	bool rec_done;
	int rec_err;
	uint64_t rec_frames;
	/* dtmf */
	int digits;
};

static int teardown(void **state)
{
	mem_fail_after(0);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- the model ---- */
static int q(enum media_codec c, int v)
{
	int16_t s = (int16_t)v, o;
	uint8_t b;

	media_g711_encode(c, &s, &b, 1);
	media_g711_decode(c, &b, &o, 1);
	return o;
}

static int sat(int v)
{
	return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v;
}

/* What far r decodes when its leg hears the members in mask. */
static int mix_of(const struct ctx *c, int r, uint32_t mask)
{
	int sum = 0;

	for (int i = 0; i < c->n; i++)
		if (mask & (1u << i))
			sum += q(c->f[i].codec, c->lvl[i]);
	return q(c->f[r].codec, sat(sum));
}

/* The linear sum the recorder writes for the members in mask. */
static int rec_of(const struct ctx *c, uint32_t mask)
{
	int sum = 0;

	for (int i = 0; i < c->n; i++)
		if (mask & (1u << i))
			sum += q(c->f[i].codec, c->lvl[i]);
	return sat(sum);
}

/* The level of a received frame, or NOT_CONSTANT. */
static int pkt_level(const struct pkt *p, enum media_codec c)
{
	int16_t pcm[MEDIA_FRAME];

	if (p->h.payload_len != MEDIA_FRAME)
		return NOT_CONSTANT;
	media_g711_decode(c, p->pl, pcm, MEDIA_FRAME);
	for (int i = 1; i < MEDIA_FRAME; i++)
		if (pcm[i] != pcm[0])
			return NOT_CONSTANT;
	return pcm[0];
}

/* Every frame far r got in [from, to) is the mix of some subset of `mask`
 * (a member that sent nothing yet is silence), never anything else (its own
 * signal, someone it must not hear); all but two are the mix of all of it. */
static void assert_hears(const struct ctx *c, int r, int from, int to, uint32_t mask)
{
	int want = mix_of(c, r, mask), full = 0;

	assert_true(to - from >= 10);
	for (int k = from; k < to; k++) {
		int lv = pkt_level(&c->f[r].rx[k], c->f[r].codec);
		bool ok = false;

		for (uint32_t sub = mask;; sub = (sub - 1) & mask) {
			ok = ok || lv == mix_of(c, r, sub);
			if (!sub)
				break;
		}
		if (!ok)
			fail_msg("far %d frame %d: level %d is not a mix of mask %#x", r, k, lv,
				 mask);
		full += lv == want;
	}
	assert_true(full >= to - from - 2);
}

/* One stream: same SSRC (not the sender's), seq + 1 and ts + 160 each. */
static void assert_continuous(const struct far *f, int from, int to)
{
	for (int i = from + 1; i < to; i++) {
		assert_int_equal(f->rx[i].h.ssrc, f->rx[from].h.ssrc);
		assert_int_equal((uint16_t)(f->rx[i].h.seq - f->rx[i - 1].h.seq), 1);
		assert_int_equal(f->rx[i].h.ts - f->rx[i - 1].h.ts, MEDIA_FRAME);
		assert_int_equal(f->rx[i].h.pt, f->codec);
	}
}

/* ---- far ends ---- */
static void far_open(struct far *f, uint32_t ssrc, enum media_codec codec)
{
	memset(f, 0, sizeof(*f));
	f->fd = udpfx_open(&f->port);
	f->ssrc = ssrc, f->seq = (uint16_t)(1000 * ssrc), f->ts = 50000 * ssrc;
	f->codec = codec;
}

static void far_rtp(struct far *f, struct mleg *to, int pt, const uint8_t *pl, size_t n,
		    uint32_t adv)
{
	uint8_t buf[256];
	struct rtp_hdr h = {.pt = (uint8_t)pt,
			    .seq = f->seq++,
			    .ts = f->ts,
			    .ssrc = f->ssrc,
			    .payload = pl,
			    .payload_len = n};
	int len = rtp_build(buf, sizeof(buf), &h);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)mleg_port(to)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	assert_true(len > 0);
	f->ts += adv;
	assert_int_equal(sendto(f->fd, buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)),
			 len);
}

/* This 20 ms's frame from far i, if it talks. */
static void far_send(struct ctx *c, int i)
{
	struct far *f = &c->f[i];
	int16_t pcm[MEDIA_FRAME];
	uint8_t pl[MEDIA_FRAME];

	if (!c->l[i] || (!f->level && !f->pat)) {
		f->ts += MEDIA_FRAME; /* its clock runs on */
		return;
	}
	if (f->pat) {
		memcpy(pl, f->pat, MEDIA_FRAME);
	} else {
		for (int k = 0; k < MEDIA_FRAME; k++)
			pcm[k] = (int16_t)f->level;
		media_g711_encode(f->codec, pcm, pl, MEDIA_FRAME);
	}
	far_rtp(f, c->l[i], f->codec, pl, MEDIA_FRAME, MEDIA_FRAME);
	f->sent++;
}

static void far_drain(struct far *f)
{
	uint8_t buf[1600];
	ssize_t n;

	while ((n = recv(f->fd, buf, sizeof(buf), 0)) > 0) {
		struct pkt *p = &f->rx[f->nrx];

		if (f->nrx >= RX_MAX || rtp_parse(buf, (size_t)n, &p->h))
			continue;
		memcpy(p->pl, p->h.payload,
		       p->h.payload_len < MEDIA_FRAME ? p->h.payload_len : MEDIA_FRAME);
		f->nrx++;
	}
}

/* ---- the loop ---- */
static void ctx_drain(struct ctx *c)
{
	for (int i = 0; i < c->n; i++)
		far_drain(&c->f[i]);
}

/* Records every far end's packet count now (what came before a switch). */
static void ctx_mark(struct ctx *c)
{
	ctx_drain(c);
	for (int i = 0; i < c->n; i++)
		c->mark[i][c->nmarks] = c->f[i].nrx;
	c->nmarks++;
}

/* The far ends keep real time (as many frames as are due since t0), so a
 * late test timer does not put them behind the media clock. */
static void ctx_tick(uv_timer_t *t)
{
	struct ctx *c = t->data;
	uint64_t due = (uv_now(&c->loop) - c->t0) / 20;

	while ((uint64_t)c->ticks < due) {
		ctx_drain(c);
		c->ticks++;
		if (c->on_tick)
			c->on_tick(c);
		for (int i = 0; i < c->n; i++)
			far_send(c, i);
	}
	ctx_drain(c);
}

static void ctx_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void ctx_run(struct ctx *c, uint64_t ms)
{
	if (!c->t0) {
		uv_update_time(&c->loop);
		c->t0 = uv_now(&c->loop);
	}
	uv_timer_start(&c->tick, ctx_tick, 20, 20);
	uv_timer_start(&c->stop, ctx_stop, ms, 0);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&c->tick);
	ctx_drain(c);
}

/* n legs (ids 100 + i), leg i talking to far i in codecs[i] at levels[i]. */
static void ctx_init(struct ctx *c, int base, int n, const enum media_codec *codecs,
		     const int *levels)
{
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = base, .port_max = base + 99};

	memset(c, 0, sizeof(*c));
	c->n = n;
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->tick);
	uv_timer_init(&c->loop, &c->stop);
	c->tick.data = c->stop.data = c;
	assert_int_equal(media_alloc(&c->m, &c->loop, &cfg), 0);
	for (int i = 0; i < n; i++) {
		far_open(&c->f[i], 0x10 + (uint32_t)i, codecs[i]);
		c->f[i].level = c->lvl[i] = levels[i];
		assert_int_equal(mleg_alloc(&c->l[i], c->m, 100 + (uint64_t)i), 0);
		assert_int_equal(
			mleg_set_remote(c->l[i], "127.0.0.1", c->f[i].port, codecs[i], 101), 0);
	}
	assert_int_equal(media_conf_alloc(&c->conf, c->m, 7), 0);
}

static void ctx_add_all(struct ctx *c)
{
	for (int i = 0; i < c->n; i++)
		assert_int_equal(media_conf_add(c->conf, c->l[i], MIXER_TALK, NULL), 0);
}

static void ctx_silence(struct ctx *c)
{
	for (int i = 0; i < c->n; i++)
		c->f[i].level = 0, c->f[i].pat = NULL;
}

static void ctx_close(struct ctx *c)
{
	c->conf = mem_deref(c->conf);
	for (int i = 0; i < c->n; i++)
		mleg_free(c->l[i]);
	media_free(c->m);
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_close((uv_handle_t *)&c->stop, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	for (int i = 0; i < c->n; i++)
		close(c->f[i].fd);
}

static const enum media_codec pcmu4[NLEG] = {MEDIA_PCMU, MEDIA_PCMU, MEDIA_PCMU, MEDIA_PCMU,
					     MEDIA_PCMU};
static const int levels4[NLEG] = {LV0, LV1, LV2, LV3, 0};

/* ---- who hears whom ---- */
static void third_stops_at_25(struct ctx *c)
{
	if (c->ticks == 26)
		ctx_mark(c), c->f[2].level = 0;
	if (c->ticks == 51)
		ctx_mark(c), ctx_silence(c);
}

static void three_legs_each_hear_the_other_two_not_themselves(void **state)
{
	struct ctx c;

	ctx_init(&c, 33000, 3, pcmu4, levels4);
	ctx_add_all(&c);
	assert_int_equal(media_conf_count(c.conf), 3);
	assert_false(media_conf_relaying(c.conf));
	c.on_tick = third_stops_at_25;
	ctx_run(&c, 1100);
	for (int r = 0; r < 3; r++) {
		/* one packet per 20 ms frame from the first clock frame on */
		assert_true(c.f[r].nrx >= 50 && c.f[r].nrx <= 57);
		assert_continuous(&c.f[r], 0, c.f[r].nrx);
		assert_int_not_equal(c.f[r].rx[0].h.ssrc, c.f[r].ssrc);
		assert_true(c.f[r].rx[0].h.marker);
	}
	/* everyone talks: each hears the other two, never itself */
	assert_hears(&c, 0, 4, c.mark[0][0], 0x6);
	assert_hears(&c, 1, 4, c.mark[1][0], 0x5);
	assert_hears(&c, 2, 4, c.mark[2][0], 0x3);
	/* leg 2 sends nothing: it is silence in the others' mix */
	assert_hears(&c, 0, c.mark[0][0] + 3, c.mark[0][1], 0x2);
	assert_hears(&c, 1, c.mark[1][0] + 3, c.mark[1][1], 0x1);
	assert_hears(&c, 2, c.mark[2][0] + 3, c.mark[2][1], 0x3);
	ctx_close(&c);
}

static void loud_legs_saturate_instead_of_wrapping(void **state)
{
	static const int loud[NLEG] = {LV3, LV3, LV0};
	struct ctx c;

	ctx_init(&c, 33100, 3, pcmu4, loud);
	ctx_add_all(&c);
	ctx_run(&c, 600);
	/* 2 x 20000 clips at 32767 (µ-law's top code: 32124), not negative */
	assert_int_equal(mix_of(&c, 2, 0x3), q(MEDIA_PCMU, 32767));
	assert_hears(&c, 2, 4, c.f[2].nrx - 2, 0x3);
	assert_hears(&c, 0, 4, c.f[0].nrx - 2, 0x6);
	ctx_close(&c);
}

/* customer 0, agent 1, supervisor 2: listen, then whisper, then barge */
static void supervisor_modes(struct ctx *c)
{
	if (c->ticks == 26) {
		ctx_mark(c);
		assert_int_equal(media_conf_set_mode(c->conf, c->l[2], MIXER_WHISPER, c->l[1]), 0);
	}
	if (c->ticks == 51) {
		ctx_mark(c);
		assert_int_equal(media_conf_set_mode(c->conf, c->l[2], MIXER_BARGE, NULL), 0);
	}
	if (c->ticks == 76)
		ctx_mark(c);
}

static void listen_whisper_and_barge_over_rtp(void **state)
{
	struct ctx c;

	ctx_init(&c, 33200, 3, pcmu4, levels4);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_true(media_conf_relaying(c.conf));
	assert_int_equal(media_conf_add(c.conf, c.l[2], MIXER_LISTEN, NULL), 0);
	/* two talkers and a listener: mixing (the listener hears both) */
	assert_false(media_conf_relaying(c.conf));
	c.on_tick = supervisor_modes;
	ctx_run(&c, 1560);
	/* listen: heard by nobody, hears both */
	assert_hears(&c, 0, 4, c.mark[0][0], 0x2);
	assert_hears(&c, 1, 4, c.mark[1][0], 0x1);
	assert_hears(&c, 2, 4, c.mark[2][0], 0x3);
	/* whisper to the agent: only the agent hears the supervisor */
	assert_hears(&c, 0, c.mark[0][0] + 1, c.mark[0][1], 0x2);
	assert_hears(&c, 1, c.mark[1][0] + 1, c.mark[1][1], 0x5);
	assert_hears(&c, 2, c.mark[2][0] + 1, c.mark[2][1], 0x3);
	/* barge: heard by all */
	assert_hears(&c, 0, c.mark[0][1] + 1, c.mark[0][2], 0x6);
	assert_hears(&c, 1, c.mark[1][1] + 1, c.mark[1][2], 0x5);
	assert_hears(&c, 2, c.mark[2][1] + 1, c.mark[2][2], 0x3);
	for (int r = 0; r < 3; r++)
		assert_continuous(&c.f[r], 0, c.f[r].nrx);
	ctx_close(&c);
}

static void a_pcma_leg_among_pcmu_legs_is_transcoded_both_ways(void **state)
{
	static const enum media_codec mixed[NLEG] = {MEDIA_PCMU, MEDIA_PCMA, MEDIA_PCMU};
	struct ctx c;

	ctx_init(&c, 33300, 3, mixed, levels4);
	ctx_add_all(&c);
	ctx_run(&c, 800);
	for (int r = 0; r < 3; r++)
		assert_continuous(&c.f[r], 0, c.f[r].nrx); /* checks pt = its codec too */
	assert_int_equal(c.f[1].rx[5].h.pt, MEDIA_PCMA);
	/* the PCMA leg hears the PCMU ones in A-law, and is heard in the µ-law mixes */
	assert_hears(&c, 1, 4, c.f[1].nrx - 2, 0x5);
	assert_hears(&c, 0, 4, c.f[0].nrx - 2, 0x6);
	assert_hears(&c, 2, 4, c.f[2].nrx - 2, 0x3);
	ctx_close(&c);
}

/* ---- the relay fast path ---- */
static uint8_t pattern[MEDIA_FRAME];

/* A level with µ-law's "negative zero" (0x7f) every 8th byte: relayed it
 * stays 0x7f, decoded and re-encoded it becomes 0xff. */
static void pattern_init(int level)
{
	int16_t s = (int16_t)level;

	for (int i = 0; i < MEDIA_FRAME; i++)
		media_g711_encode(MEDIA_PCMU, &s, &pattern[i], 1);
	for (int i = 0; i < MEDIA_FRAME; i += 8)
		pattern[i] = 0x7f;
}

static void two_same_codec_legs_relay_byte_for_byte(void **state)
{
	struct ctx c;
	uint8_t roundtrip[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME];
	int n, same = 0;
	size_t live;

	ctx_init(&c, 33400, 2, pcmu4, levels4);
	pattern_init(LV2);
	c.f[0].pat = pattern;
	c.f[1].level = 0; /* far 1 says nothing */
	ctx_add_all(&c);
	assert_true(media_conf_relaying(c.conf));
	live = mem_live(); /* no jitter buffer or mixer frames while relaying */
	ctx_run(&c, 500);
	/* every packet relayed as it came, and nothing else: no mixer, no clock
	 * (a mixing conference would send far 0 a silence frame every 20 ms) */
	assert_int_equal(c.f[1].nrx, c.f[0].sent);
	for (int i = 0; i < c.f[1].nrx; i++)
		assert_memory_equal(c.f[1].rx[i].pl, pattern, MEDIA_FRAME);
	assert_continuous(&c.f[1], 0, c.f[1].nrx);
	assert_int_equal(c.f[0].nrx, 0);
	/* one of the two on listen: they no longer hear each other, so it mixes */
	assert_int_equal(media_conf_set_mode(c.conf, c.l[1], MIXER_LISTEN, NULL), 0);
	assert_false(media_conf_relaying(c.conf));
	assert_int_equal(mem_live(), live + 3); /* mixing: a buffer per leg, the mixer's frames */
	ctx_mark(&c);
	ctx_run(&c, 500);
	n = c.f[1].nrx;
	media_g711_decode(MEDIA_PCMU, pattern, pcm, MEDIA_FRAME);
	media_g711_encode(MEDIA_PCMU, pcm, roundtrip, MEDIA_FRAME);
	assert_memory_not_equal(roundtrip, pattern, MEDIA_FRAME);
	for (int i = c.mark[1][0]; i < n; i++) {
		assert_memory_not_equal(c.f[1].rx[i].pl, pattern, MEDIA_FRAME);
		same += !memcmp(c.f[1].rx[i].pl, roundtrip, MEDIA_FRAME);
	}
	assert_true(same >= n - c.mark[1][0] - 5); /* decoded and re-encoded */
	assert_true(c.f[0].nrx >= 20);		   /* silence: the listener is heard by none */
	assert_hears(&c, 0, 0, c.f[0].nrx, 0);
	assert_continuous(&c.f[1], 0, n);
	/* talking again: back to the relay */
	assert_int_equal(media_conf_set_mode(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_true(media_conf_relaying(c.conf));
	assert_int_equal(mem_live(), live);
	ctx_mark(&c);
	ctx_run(&c, 300);
	assert_int_equal(c.f[0].nrx, c.mark[0][1]);
	for (int i = c.mark[1][1]; i < c.f[1].nrx; i++)
		assert_memory_equal(c.f[1].rx[i].pl, pattern, MEDIA_FRAME);
	assert_continuous(&c.f[1], 0, c.f[1].nrx);
	ctx_close(&c);
}

static void a_pcmu_pcma_pair_uses_the_transcoding_bridge(void **state)
{
	static const enum media_codec mixed[NLEG] = {MEDIA_PCMU, MEDIA_PCMA};
	struct ctx c;
	uint8_t want[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME];

	ctx_init(&c, 33500, 2, mixed, levels4);
	pattern_init(LV2);
	c.f[0].pat = pattern;
	c.f[1].level = 0;
	ctx_add_all(&c);
	assert_true(media_conf_relaying(c.conf));
	ctx_run(&c, 400);
	media_g711_decode(MEDIA_PCMU, pattern, pcm, MEDIA_FRAME);
	media_g711_encode(MEDIA_PCMA, pcm, want, MEDIA_FRAME);
	assert_int_equal(c.f[1].nrx, c.f[0].sent);
	for (int i = 0; i < c.f[1].nrx; i++)
		assert_memory_equal(c.f[1].rx[i].pl, want, MEDIA_FRAME);
	assert_continuous(&c.f[1], 0, c.f[1].nrx);
	assert_int_equal(c.f[0].nrx, 0); /* no clock: nothing generated */
	ctx_close(&c);
}

/* relay (ticks 1-25), leg 2 joins: mix (26-50), leg 2 leaves: relay (51-75) */
static void join_then_leave(struct ctx *c)
{
	if (c->ticks == 26) {
		ctx_mark(c);
		assert_int_equal(media_conf_add(c->conf, c->l[2], MIXER_TALK, NULL), 0);
		assert_false(media_conf_relaying(c->conf));
	}
	if (c->ticks == 51) {
		ctx_mark(c);
		assert_int_equal(media_conf_remove(c->conf, c->l[2]), 0);
		assert_true(media_conf_relaying(c->conf));
	}
	if (c->ticks == 76)
		ctx_mark(c), ctx_silence(c);
}

static void a_third_leg_switches_to_mixing_and_back_seamlessly(void **state)
{
	struct ctx c;
	uint8_t mixed[MEDIA_FRAME], third[MEDIA_FRAME];
	int16_t pcm[MEDIA_FRAME], p2[MEDIA_FRAME];
	struct far *b;
	int m1, m2, m3, ok = 0, ok2 = 0;

	ctx_init(&c, 33600, 3, pcmu4, levels4);
	pattern_init(LV1);
	c.f[0].pat = pattern; /* far 1 hears this pattern relayed, or mixed with LV2 */
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_true(media_conf_relaying(c.conf));
	c.on_tick = join_then_leave;
	ctx_run(&c, 1640);
	b = &c.f[1];
	m1 = c.mark[1][0], m2 = c.mark[1][1], m3 = c.mark[1][2];
	/* one stream for each far end across both switches: SSRC, seq, ts */
	assert_continuous(b, 0, b->nrx);
	assert_continuous(&c.f[0], 0, c.f[0].nrx);
	/* relay: the pattern byte for byte */
	assert_true(m1 >= 20);
	for (int i = 0; i < m1; i++)
		assert_memory_equal(b->rx[i].pl, pattern, MEDIA_FRAME);
	/* mixing: one packet per frame (no burst), M on the first, never the
	 * relayed bytes; after the jitter buffer's 40 ms the exact mix */
	assert_true(b->rx[m1].h.marker);
	assert_true(m2 - m1 >= 22 && m2 - m1 <= 27);
	media_g711_decode(MEDIA_PCMU, pattern, pcm, MEDIA_FRAME);
	for (int i = 0; i < MEDIA_FRAME; i++) {
		p2[i] = (int16_t)sat(pcm[i] + q(MEDIA_PCMU, LV1));  /* what leg 2 hears */
		pcm[i] = (int16_t)sat(pcm[i] + q(MEDIA_PCMU, LV2)); /* what leg 1 hears */
	}
	media_g711_encode(MEDIA_PCMU, pcm, mixed, MEDIA_FRAME);
	media_g711_encode(MEDIA_PCMU, p2, third, MEDIA_FRAME);
	for (int i = m1; i < m2; i++) {
		assert_memory_not_equal(b->rx[i].pl, pattern, MEDIA_FRAME);
		ok += !memcmp(b->rx[i].pl, mixed, MEDIA_FRAME);
	}
	assert_true(ok >= m2 - m1 - 5);
	assert_hears(&c, 0, c.mark[0][0] + 3, c.mark[0][1], 0x6);
	for (int i = 0; i < c.f[2].nrx; i++) /* the third leg heard both */
		ok2 += !memcmp(c.f[2].rx[i].pl, third, MEDIA_FRAME);
	assert_true(ok2 >= c.f[2].nrx - 5);
	/* relay again: M on the first, then only fresh relayed packets, none stale */
	assert_true(b->rx[m2].h.marker);
	assert_true(m3 - m2 >= 22 && m3 - m2 <= 26);
	for (int i = m2; i < b->nrx; i++)
		assert_memory_equal(b->rx[i].pl, pattern, MEDIA_FRAME);
	assert_int_equal(c.f[2].nrx, c.mark[2][1]); /* the leg that left gets nothing */
	ctx_close(&c);
}

/*
 * A, B relay (A says LV0, recorded: the buffers are fed); C joins as A
 * turns to LV2; C leaves, the recording stops, A says LV1 (relay: the
 * buffers keep what the mix left); C joins again as A turns to LV3.
 */
static void switch_with_new_levels(struct ctx *c)
{
	if (c->ticks == 26) {
		ctx_mark(c);
		c->f[0].level = LV2;
		assert_int_equal(media_conf_add(c->conf, c->l[2], MIXER_TALK, NULL), 0);
	}
	if (c->ticks == 51) {
		ctx_mark(c);
		c->f[0].level = LV1;
		assert_int_equal(media_conf_record_stop(c->conf, NULL, NULL), 0);
		assert_int_equal(media_conf_remove(c->conf, c->l[2]), 0);
	}
	if (c->ticks == 76) {
		ctx_mark(c);
		c->f[0].level = LV3;
		assert_int_equal(media_conf_add(c->conf, c->l[2], MIXER_TALK, NULL), 0);
	}
	if (c->ticks == 101)
		ctx_mark(c), ctx_silence(c);
}

static void mixing_never_plays_audio_from_before_a_switch(void **state)
{
	static const int lv[NLEG] = {LV0, 0, 0};
	char path[] = "/tmp/test_media_conf4XXXXXX";
	int fd = mkstemp(path);
	struct ctx c;
	struct far *b;

	close(fd);
	ctx_init(&c, 34400, 3, pcmu4, lv);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), 0);
	c.on_tick = switch_with_new_levels;
	ctx_run(&c, 2060);
	b = &c.f[1];
	assert_continuous(b, 0, b->nrx);
	for (int i = 0; i < c.mark[1][0]; i++) /* relayed */
		assert_int_equal(pkt_level(&b->rx[i], MEDIA_PCMU), q(MEDIA_PCMU, LV0));
	/* mixing: LV2 or silence, never the LV0 that was relayed already */
	c.lvl[0] = LV2;
	assert_hears(&c, 1, c.mark[1][0], c.mark[1][1], 0x1);
	for (int i = c.mark[1][1]; i < c.mark[1][2]; i++) /* relayed */
		assert_int_equal(pkt_level(&b->rx[i], MEDIA_PCMU), q(MEDIA_PCMU, LV1));
	/* mixing again: LV3 or silence, neither LV1 nor what the last mix left */
	c.lvl[0] = LV3;
	assert_hears(&c, 1, c.mark[1][2], c.mark[1][3], 0x1);
	unlink(path);
	ctx_close(&c);
}

/* ---- recording ---- */
static void on_recorded(int err, uint64_t frames, void *arg)
{
	struct ctx *c = arg;

	c->rec_err = err;
	c->rec_frames = frames;
	c->rec_done = true;
}

static void rec_stop_and_wait(struct ctx *c)
{
	assert_int_equal(media_conf_record_stop(c->conf, on_recorded, c), 0);
	assert_int_equal(media_conf_record_stop(c->conf, on_recorded, c), -ENOENT);
	for (int i = 0; i < 50 && !c->rec_done; i++)
		ctx_run(c, 20);
	assert_true(c->rec_done);
	assert_int_equal(c->rec_err, 0);
}

/* Reads the stereo WAV into *pcm (free it); returns its 20 ms frames. */
static size_t rec_read(const char *path, int16_t **pcm)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);

	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 8000);
	*pcm = calloc((size_t)info.frames * 2, sizeof(**pcm));
	assert_int_equal(sf_readf_short(sf, *pcm, info.frames), info.frames);
	sf_close(sf);
	return (size_t)info.frames / MEDIA_FRAME;
}

/* The channel's level in 20 ms frame k, or NOT_CONSTANT. */
static int rec_level(const int16_t *pcm, size_t k, int ch)
{
	const int16_t *f = pcm + 2 * MEDIA_FRAME * k + ch;

	for (int i = 1; i < MEDIA_FRAME; i++)
		if (f[2 * i] != f[0])
			return NOT_CONSTANT;
	return f[0];
}

/*
 * Frames in order must go through the right-channel levels in `seq` (each
 * for at least `min` frames, silence allowed at either end and ≤ 3 frames
 * between phases where a subset shows), and the left channel is always the
 * customer or silence.
 */
static void assert_rec_phases(const struct ctx *c, const int16_t *pcm, size_t nf,
			      const uint32_t *seq, int nseq, int min)
{
	int ph = 0, run = 0, cust = 0, odd = 0;
	int want_left = rec_of(c, 0x1);

	for (size_t k = 0; k < nf; k++) {
		int left = rec_level(pcm, k, 0), right = rec_level(pcm, k, 1);

		assert_true(left == want_left || left == 0);
		cust += left == want_left;
		if (ph < nseq && right == rec_of(c, seq[ph])) {
			run++;
		} else if (ph + 1 < nseq && right == rec_of(c, seq[ph + 1])) {
			assert_true(run >= min);
			ph++, run = 1;
		} else {
			odd++; /* silence before/after, or a partial frame at a switch */
			assert_true(right != NOT_CONSTANT);
			for (int i = 0; i < nseq; i++) /* never the customer's own voice */
				assert_int_not_equal(right, rec_of(c, seq[i] | 0x1));
		}
	}
	assert_int_equal(ph, nseq - 1);
	assert_true(run >= min);
	assert_true(cust >= (int)nf - 12);
	assert_true(odd <= 10 + 3 * nseq);
}

static void recording_has_the_customer_and_what_the_customer_hears(void **state)
{
	char path[] = "/tmp/test_media_confXXXXXX";
	int fd = mkstemp(path);
	static const uint32_t right[] = {0x2, 0x6}; /* agent; agent + barge */
	struct ctx c;
	int16_t *pcm;
	size_t nf;

	close(fd);
	ctx_init(&c, 33700, 3, pcmu4, levels4);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[2], MIXER_LISTEN, NULL), 0);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), 0);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), -EBUSY);
	c.on_tick = supervisor_modes; /* listen, whisper to the agent, barge */
	ctx_run(&c, 1560);
	ctx_silence(&c);
	rec_stop_and_wait(&c);
	/* ~1.6 s of clock, give or take */
	assert_true(c.rec_frames >= 75 * MEDIA_FRAME && c.rec_frames <= 85 * MEDIA_FRAME);
	nf = rec_read(path, &pcm);
	assert_int_equal(nf, c.rec_frames / MEDIA_FRAME);
	/* right: the agent while the supervisor listens or whispers to the
	 * agent (50 frames), then agent + supervisor once it barges (25) */
	assert_rec_phases(&c, pcm, nf, right, 2, 20);
	free(pcm);
	unlink(path);
	ctx_close(&c);
}

/* relay (1-25), a supervisor barges in (26-50) and leaves (51-75) */
static void barge_in_then_leave(struct ctx *c)
{
	if (c->ticks == 26)
		assert_int_equal(media_conf_add(c->conf, c->l[2], MIXER_BARGE, NULL), 0);
	if (c->ticks == 51)
		assert_int_equal(media_conf_remove(c->conf, c->l[2]), 0);
}

static void recording_spans_relay_and_mixing(void **state)
{
	char path[] = "/tmp/test_media_conf2XXXXXX";
	int fd = mkstemp(path);
	static const uint32_t right[] = {0x2, 0x6, 0x2};
	struct ctx c;
	int16_t *pcm;
	size_t nf;

	close(fd);
	ctx_init(&c, 33800, 3, pcmu4, levels4);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), 0);
	assert_true(media_conf_relaying(c.conf)); /* recorded while relaying */
	c.on_tick = barge_in_then_leave;
	ctx_run(&c, 1540);
	assert_true(media_conf_relaying(c.conf));
	ctx_silence(&c);
	rec_stop_and_wait(&c);
	nf = rec_read(path, &pcm);
	assert_rec_phases(&c, pcm, nf, right, 3, 18);
	free(pcm);
	unlink(path);
	ctx_close(&c);
}

/* Frames k in [from, to) whose channels are exactly (left, right). */
static int rec_count(const int16_t *pcm, size_t from, size_t to, int left, int right)
{
	int n = 0;

	for (size_t k = from; k < to; k++)
		n += rec_level(pcm, k, 0) == left && rec_level(pcm, k, 1) == right;
	return n;
}

/* A jitter buffer's ring: 2,048 samples (media_int.h, JB_SAMPLES). */
#define JB_BYTES (2048 * sizeof(int16_t))

/*
 * A recorded pair stays on the relay: the two members' buffers are the two
 * channels, as in a two-party recording, with no mixer frames and no
 * buffer of the recorder's own (it once held two more, 8 KB, unused).
 */
static void recording_while_relaying_takes_the_two_buffers_and_no_mixer(void **state)
{
	static const enum media_codec codecs[NLEG] = {MEDIA_PCMA, MEDIA_PCMU};
	static const int lv[NLEG] = {LV0, LV1};
	char path[] = "/tmp/test_media_conf5XXXXXX";
	int fd = mkstemp(path);
	size_t live, bytes, nf;
	struct ctx c;
	int16_t *pcm;

	close(fd);
	ctx_init(&c, 34500, 2, codecs, lv);
	ctx_add_all(&c);
	assert_true(media_conf_relaying(c.conf));
	live = mem_live(), bytes = mem_live_bytes();
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), 0);
	assert_true(media_conf_relaying(c.conf));
	/* the recorder and a buffer per member: nothing else, and the
	 * recorder holds no ring of its own */
	assert_int_equal(mem_live(), live + 3);
	assert_true(mem_live_bytes() - bytes >= 2 * JB_BYTES);
	assert_true(mem_live_bytes() - bytes < 2 * JB_BYTES + 2048);
	ctx_run(&c, 1000);
	assert_true(media_conf_relaying(c.conf));
	/* still the relay: each far end got exactly what the other sent */
	assert_int_equal(c.f[1].nrx, c.f[0].sent);
	assert_int_equal(c.f[0].nrx, c.f[1].sent);
	ctx_silence(&c);
	/* the relay alone keeps no buffer: both go at the stop (the recorder
	 * itself lives until its file is closed on the pool) */
	live = mem_live(), bytes = mem_live_bytes();
	assert_int_equal(media_conf_record_stop(c.conf, on_recorded, &c), 0);
	assert_true(mem_live() <= live - 2);
	assert_true(bytes - mem_live_bytes() >= 2 * JB_BYTES);
	for (int i = 0; i < 50 && !c.rec_done; i++)
		ctx_run(&c, 20);
	assert_true(c.rec_done);
	assert_int_equal(c.rec_err, 0);
	nf = rec_read(path, &pcm);
	assert_int_equal(nf, c.rec_frames / MEDIA_FRAME);
	assert_true(nf >= 45 && nf <= 56);
	/* left: the customer (PCMA) decoded; right: the agent (PCMU), whom the
	 * customer hears; silence only while the buffers fill (40 ms) and at
	 * the end */
	assert_true(rec_count(pcm, 0, nf, rec_of(&c, 0x1), rec_of(&c, 0x2)) >= (int)nf - 5);
	for (size_t k = 0; k < nf; k++) {
		int l = rec_level(pcm, k, 0), r = rec_level(pcm, k, 1);

		assert_true(l == rec_of(&c, 0x1) || l == 0);
		assert_true(r == rec_of(&c, 0x2) || r == 0);
	}
	free(pcm);
	unlink(path);
	ctx_close(&c);
}

/* relay (1-25), a supervisor barges in (26-50), leaves (51-75): the frames
 * and the supervisor's member come and go, the members' buffers stay */
static void barge_and_leave_counting_blocks(struct ctx *c)
{
	size_t n = mem_live();

	if (c->ticks == 26) {
		assert_int_equal(media_conf_add(c->conf, c->l[2], MIXER_BARGE, NULL), 0);
		assert_false(media_conf_relaying(c->conf));
		assert_int_equal(mem_live(), n + 3); /* member, its buffer, mixer frames */
	}
	if (c->ticks == 51) {
		assert_int_equal(media_conf_remove(c->conf, c->l[2]), 0);
		assert_true(media_conf_relaying(c->conf));
		assert_int_equal(mem_live(), n - 3);
	}
}

static void switching_to_mixing_and_back_keeps_one_continuous_recording(void **state)
{
	static const enum media_codec codecs[NLEG] = {MEDIA_PCMA, MEDIA_PCMU, MEDIA_PCMU};
	char path[] = "/tmp/test_media_conf6XXXXXX";
	int fd = mkstemp(path);
	int cust, agent, both;
	struct ctx c;
	int16_t *pcm;
	size_t nf;

	close(fd);
	ctx_init(&c, 34600, 3, codecs, levels4);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], path), 0);
	c.on_tick = barge_and_leave_counting_blocks;
	ctx_run(&c, 1540);
	assert_true(c.ticks >= 75); /* both switches happened, 25 frames apart */
	ctx_silence(&c);
	rec_stop_and_wait(&c);
	nf = rec_read(path, &pcm);
	/* one file on one clock: a frame per tick, none lost or doubled at
	 * either switch (~77 ticks, plus the few until the stop) */
	assert_int_equal(nf, c.rec_frames / MEDIA_FRAME);
	assert_true(nf >= 74 && nf <= 84);
	cust = rec_of(&c, 0x1), agent = rec_of(&c, 0x2), both = rec_of(&c, 0x6);
	/* exact samples, phase by phase: the customer on the left throughout;
	 * right = the agent (relay), agent + supervisor (mixing), the agent
	 * (relay again). Silence: ≤ 3 frames at the start (the buffers fill)
	 * and ≤ 3 at the switch to mixing (the buffers restart, DESIGN). */
	assert_true(rec_count(pcm, 0, 25, cust, agent) >= 21);
	assert_true(rec_count(pcm, 24, 51, cust, both) >= 21);
	assert_true(rec_count(pcm, 50, 76, cust, agent) >= 23);
	assert_int_equal(rec_count(pcm, 0, nf, cust, both) + rec_count(pcm, 0, nf, cust, agent) +
				 rec_count(pcm, 0, nf, 0, 0) + rec_count(pcm, 0, nf, 0, agent) +
				 rec_count(pcm, 0, nf, cust, 0) + rec_count(pcm, 0, nf, 0, both),
			 nf);
	free(pcm);
	unlink(path);
	ctx_close(&c);
}

/* ---- removal and lifetime ---- */
static void on_digit_free_two(struct mleg *l, char digit, void *arg)
{
	struct ctx *c = arg;

	c->digits++;
	mleg_free(c->l[0]); /* this very leg, from its own packet callback */
	mleg_free(c->l[1]);
	c->l[0] = c->l[1] = NULL;
}

static void removed_and_freed_legs_leave_the_conference(void **state)
{
	struct ctx c;
	uint8_t ev[4] = {5, 0x80 | 10, 0, 160};
	int n2;

	ctx_init(&c, 33900, 4, pcmu4, levels4);
	ctx_add_all(&c);
	ctx_run(&c, 300);
	/* leg 3 leaves: nobody hears it, it gets nothing more */
	assert_int_equal(media_conf_remove(c.conf, c.l[3]), 0);
	assert_int_equal(media_conf_remove(c.conf, c.l[3]), -ENOENT);
	assert_int_equal(media_conf_count(c.conf), 3);
	ctx_mark(&c);
	ctx_run(&c, 500);
	assert_int_equal(c.f[3].nrx, c.mark[3][0]);
	assert_hears(&c, 0, c.mark[0][0] + 3, c.f[0].nrx, 0x6);
	/* leg 0 still belongs to the conference, not to media_bridge */
	assert_int_equal(media_bridge(c.l[3], c.l[0]), -EBUSY);
	/* legs 0 and 1 freed from leg 0's own DTMF handler */
	mleg_set_dtmf_handler(c.l[0], on_digit_free_two, &c);
	far_rtp(&c.f[0], c.l[0], 101, ev, sizeof(ev), 0);
	ctx_run(&c, 100);
	assert_int_equal(c.digits, 1);
	assert_int_equal(media_conf_count(c.conf), 1);
	assert_false(media_conf_relaying(c.conf));
	/* leg 2 alone: it hears no one, and still gets a continuous stream */
	ctx_mark(&c);
	ctx_run(&c, 300);
	n2 = c.f[2].nrx;
	assert_true(n2 - c.mark[2][1] >= 12);
	assert_hears(&c, 2, c.mark[2][1], n2, 0);
	assert_continuous(&c.f[2], 0, n2);
	/* freeing the conference detaches its last leg */
	c.conf = mem_deref(c.conf);
	ctx_mark(&c);
	ctx_run(&c, 200);
	assert_int_equal(c.f[2].nrx, c.mark[2][2]);
	assert_int_equal(media_bridge(c.l[2], c.l[3]), 0);
	ctx_close(&c);
}

static void a_bridged_leg_joins_by_leaving_its_bridge(void **state)
{
	struct ctx c;

	ctx_init(&c, 34000, 3, pcmu4, levels4);
	assert_int_equal(media_bridge(c.l[0], c.l[1]), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	/* l1 lost its peer; it joins too and the conference pairs them again */
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_TALK, NULL), 0);
	assert_true(media_conf_relaying(c.conf));
	/* the conference's pair is not media_bridge's to change */
	assert_int_equal(media_bridge(c.l[0], c.l[2]), -EBUSY);
	assert_int_equal(media_bridge(c.l[2], c.l[1]), -EBUSY);
	media_unbridge(c.l[0]);
	assert_true(media_conf_relaying(c.conf));
	c.f[1].level = 0;
	ctx_run(&c, 300);
	assert_int_equal(c.f[1].nrx, c.f[0].sent); /* still relayed */
	assert_int_equal(c.f[2].nrx, 0);
	ctx_close(&c);
}

static void bad_arguments_are_refused(void **state)
{
	struct ctx c;
	struct mconf *other;
	struct mleg *many[MIXER_MAX + 1] = {0};
	struct mleg *same_id;
	struct media *m2;
	struct mleg *foreign;
	struct media_cfg cfg2 = {.address = "127.0.0.1", .port_min = 34300, .port_max = 34309};

	ctx_init(&c, 34100, 3, pcmu4, levels4);
	assert_int_equal(media_conf_alloc(NULL, c.m, 1), -EINVAL);
	assert_int_equal(media_conf_alloc(&other, NULL, 1), -EINVAL);
	assert_int_equal(media_conf_add(NULL, c.l[0], MIXER_TALK, NULL), -EINVAL);
	assert_int_equal(media_conf_add(c.conf, NULL, MIXER_TALK, NULL), -EINVAL);
	assert_int_equal(media_conf_add(c.conf, c.l[0], (enum mixer_mode)42, NULL), -EINVAL);
	/* a whisper needs another member as its target */
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_WHISPER, NULL), -EINVAL);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_WHISPER, c.l[1]), -EINVAL);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_WHISPER, c.l[1]), -EINVAL);
	assert_int_equal(media_conf_add(c.conf, c.l[1], MIXER_WHISPER, c.l[0]), 0);
	assert_int_equal(media_conf_add(c.conf, c.l[0], MIXER_TALK, NULL), -EEXIST);
	assert_int_equal(media_conf_set_mode(c.conf, c.l[2], MIXER_TALK, NULL), -ENOENT);
	assert_int_equal(media_conf_set_mode(c.conf, c.l[1], MIXER_WHISPER, c.l[2]), -EINVAL);
	assert_int_equal(media_conf_set_mode(c.conf, c.l[1], (enum mixer_mode) - 1, NULL), -EINVAL);
	assert_int_equal(media_conf_set_mode(NULL, c.l[1], MIXER_TALK, NULL), -EINVAL);
	assert_int_equal(media_conf_remove(c.conf, c.l[2]), -ENOENT);
	assert_int_equal(media_conf_remove(NULL, c.l[0]), -EINVAL);
	/* a leg is in one conference at a time; ids are unique in one */
	assert_int_equal(media_conf_alloc(&other, c.m, 8), 0);
	assert_int_equal(media_conf_add(other, c.l[0], MIXER_TALK, NULL), -EBUSY);
	assert_int_equal(mleg_alloc(&same_id, c.m, 100), 0);
	assert_int_equal(media_conf_add(c.conf, same_id, MIXER_TALK, NULL), -EEXIST);
	mleg_free(same_id);
	/* a leg of another engine */
	assert_int_equal(media_alloc(&m2, &c.loop, &cfg2), 0);
	assert_int_equal(mleg_alloc(&foreign, m2, 900), 0);
	assert_int_equal(media_conf_add(c.conf, foreign, MIXER_TALK, NULL), -EINVAL);
	mleg_free(foreign);
	media_free(m2);
	/* recording */
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], NULL), -EINVAL);
	assert_int_equal(media_conf_record_start(c.conf, c.l[0], ""), -EINVAL);
	assert_int_equal(media_conf_record_start(c.conf, c.l[2], "/tmp/x.wav"), -ENOENT);
	assert_int_equal(media_conf_record_start(NULL, c.l[0], "/tmp/x.wav"), -EINVAL);
	assert_int_equal(media_conf_record_stop(c.conf, NULL, NULL), -ENOENT);
	assert_int_equal(media_conf_record_stop(NULL, NULL, NULL), -EINVAL);
	/* full: MIXER_MAX members */
	assert_int_equal(media_conf_add(other, c.l[2], MIXER_TALK, NULL), 0);
	for (int i = 0; i < MIXER_MAX; i++)
		assert_int_equal(mleg_alloc(&many[i], c.m, 200 + (uint64_t)i), 0);
	for (int i = 0; i < MIXER_MAX - 1; i++)
		assert_int_equal(media_conf_add(other, many[i], MIXER_LISTEN, NULL), 0);
	assert_int_equal(media_conf_count(other), MIXER_MAX);
	assert_int_equal(media_conf_add(other, many[MIXER_MAX - 1], MIXER_TALK, NULL), -ENOSPC);
	assert_int_equal(media_conf_count(other), MIXER_MAX);
	assert_int_equal(media_conf_count(NULL), 0);
	assert_false(media_conf_relaying(NULL));
	ctx_run(&c, 100);
	for (int i = 0; i < MIXER_MAX; i++)
		mleg_free(many[i]);
	mem_deref(other);
	/* a closing engine takes no new conference */
	c.conf = mem_deref(c.conf);
	for (int i = 0; i < c.n; i++)
		mleg_free(c.l[i]), c.l[i] = NULL;
	media_free(c.m);
	assert_int_equal(media_conf_alloc(&other, c.m, 9), -ESHUTDOWN);
	c.m = NULL;
	ctx_close(&c);
}

/* ---- OOM ---- */
static int oom_scenario(struct ctx *c, const char *path)
{
	int err;

	err = media_conf_alloc(&c->conf, c->m, 11);
	if (!err)
		err = media_conf_add(c->conf, c->l[0], MIXER_TALK, NULL);
	if (!err)
		err = media_conf_add(c->conf, c->l[1], MIXER_TALK, NULL);
	if (!err)
		err = media_conf_add(c->conf, c->l[2], MIXER_WHISPER, c->l[1]);
	if (!err)
		err = media_conf_record_start(c->conf, c->l[0], path);
	return err;
}

static void oom_in_alloc_add_and_record_unwinds_without_leaks(void **state)
{
	char path[] = "/tmp/test_media_conf3XXXXXX";
	int fd = mkstemp(path);
	struct ctx c;
	size_t base;
	unsigned n;
	int err;

	close(fd);
	ctx_init(&c, 34200, 3, pcmu4, levels4);
	c.conf = mem_deref(c.conf);
	base = mem_live();
	for (n = 1;; n++) {
		mem_fail_after(n);
		err = oom_scenario(&c, path);
		mem_fail_after(0);
		if (err) {
			assert_int_equal(err, -ENOMEM);
			c.conf = mem_deref(c.conf); /* a recording that failed: none */
			assert_int_equal(mem_live(), base);
			continue;
		}
		assert_int_equal(media_conf_count(c.conf), 3);
		assert_false(media_conf_relaying(c.conf));
		ctx_run(&c, 100);
		assert_true(c.f[2].nrx > 0);
		rec_stop_and_wait(&c);
		c.conf = mem_deref(c.conf);
		/* left: the recorder's one chunk, recycled by the engine */
		assert_int_equal(mem_live(), base + 1);
		break;
	}
	/* the conference, its mixer, three members with a jitter buffer each
	 * (the first two get theirs twice: the relay frees them), the mixer's
	 * frames for 2 slots then 4, and the recorder */
	assert_int_equal(n, 14);
	unlink(path);
	ctx_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(three_legs_each_hear_the_other_two_not_themselves,
					  teardown),
		cmocka_unit_test_teardown(loud_legs_saturate_instead_of_wrapping, teardown),
		cmocka_unit_test_teardown(listen_whisper_and_barge_over_rtp, teardown),
		cmocka_unit_test_teardown(a_pcma_leg_among_pcmu_legs_is_transcoded_both_ways,
					  teardown),
		cmocka_unit_test_teardown(two_same_codec_legs_relay_byte_for_byte, teardown),
		cmocka_unit_test_teardown(a_pcmu_pcma_pair_uses_the_transcoding_bridge, teardown),
		cmocka_unit_test_teardown(a_third_leg_switches_to_mixing_and_back_seamlessly,
					  teardown),
		cmocka_unit_test_teardown(mixing_never_plays_audio_from_before_a_switch, teardown),
		cmocka_unit_test_teardown(recording_has_the_customer_and_what_the_customer_hears,
					  teardown),
		cmocka_unit_test_teardown(recording_spans_relay_and_mixing, teardown),
		cmocka_unit_test_teardown(
			recording_while_relaying_takes_the_two_buffers_and_no_mixer, teardown),
		cmocka_unit_test_teardown(
			switching_to_mixing_and_back_keeps_one_continuous_recording, teardown),
		cmocka_unit_test_teardown(removed_and_freed_legs_leave_the_conference, teardown),
		cmocka_unit_test_teardown(a_bridged_leg_joins_by_leaving_its_bridge, teardown),
		cmocka_unit_test_teardown(bad_arguments_are_refused, teardown),
		cmocka_unit_test_teardown(oom_in_alloc_add_and_record_unwinds_without_leaks,
					  teardown),
	};

	log_level_set(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
