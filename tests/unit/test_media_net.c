/*
 * test_media_net.c — media legs on real UDP sockets (127.0.0.1) with a uv
 * loop run by the test: relay and transcoding bridges, playback rate and
 * stream continuity, RFC 4733 relay and sending, stereo recording read back
 * with libsndfile, source validation, port exhaustion, freeing legs from
 * inside their own callbacks. The far ends are plain non-blocking sockets
 * driven by a 20 ms test timer. Every test ends with no mem_* block live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/media.h"
#include "udp_fx.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RX_MAX 400

struct pkt {
	struct rtp_hdr h;
	uint8_t pl[172];
};

struct far {
	int fd, port;
	uint16_t seq;
	uint32_t ts, ssrc;
	struct pkt rx[RX_MAX];
	int nrx;
};

struct ctx {
	uv_loop_t loop;
	uv_timer_t tick, stop;
	struct media *m;
	struct mleg *a, *b;
	struct far fa, fb;
	int ticks;
	void (*on_tick)(struct ctx *c);
	/* dtmf */
	int digits;
	char digit;
	bool free_in_handler;
	/* recording */
	int rec_err;
	uint64_t rec_frames;
	bool rec_done;
};

static int teardown(void **state)
{
	mem_fail_after(0);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- far ends ---- */
static void far_open(struct far *f, uint32_t ssrc)
{
	memset(f, 0, sizeof(*f));
	f->fd = udpfx_open(&f->port);
	f->ssrc = ssrc, f->seq = 1000, f->ts = 50000;
}

static void far_sendto(struct far *f, int port, const uint8_t *p, size_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	assert_int_equal(sendto(f->fd, p, n, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)n);
}

/* Sends one RTP packet to a leg; ts advances by `adv`. */
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

	assert_true(len > 0);
	f->ts += adv;
	far_sendto(f, mleg_port(to), buf, (size_t)len);
}

static void far_tone(struct far *f, struct mleg *to, enum media_codec c, int amp)
{
	int16_t pcm[MEDIA_FRAME];
	uint8_t pl[MEDIA_FRAME];

	for (int i = 0; i < MEDIA_FRAME; i++)
		pcm[i] = (int16_t)(amp * sin(2 * M_PI * 400.0 * (f->ts + (uint32_t)i) / 8000));
	media_g711_encode(c, pcm, pl, MEDIA_FRAME);
	far_rtp(f, to, c, pl, MEDIA_FRAME, MEDIA_FRAME);
}

static void far_drain(struct far *f)
{
	uint8_t buf[1600];
	ssize_t n;

	while ((n = recv(f->fd, buf, sizeof(buf), 0)) > 0) {
		struct pkt *p = &f->rx[f->nrx];

		if (f->nrx >= RX_MAX || rtp_parse(buf, (size_t)n, &p->h))
			continue;
		memcpy(p->pl, p->h.payload, p->h.payload_len < 172 ? p->h.payload_len : 172);
		f->nrx++;
	}
}

/* ---- the loop ---- */
static void ctx_tick(uv_timer_t *t)
{
	struct ctx *c = t->data;

	c->ticks++;
	if (c->on_tick)
		c->on_tick(c);
	far_drain(&c->fa);
	far_drain(&c->fb);
}

static void ctx_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void ctx_run(struct ctx *c, uint64_t ms)
{
	uv_timer_start(&c->tick, ctx_tick, 20, 20);
	uv_timer_start(&c->stop, ctx_stop, ms, 0);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&c->tick);
	far_drain(&c->fa);
	far_drain(&c->fb);
}

static void ctx_init(struct ctx *c, int pmin, int pmax)
{
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = pmin, .port_max = pmax};

	memset(c, 0, sizeof(*c));
	assert_int_equal(uv_loop_init(&c->loop), 0);
	uv_timer_init(&c->loop, &c->tick);
	uv_timer_init(&c->loop, &c->stop);
	c->tick.data = c->stop.data = c;
	assert_int_equal(media_alloc(&c->m, &c->loop, &cfg), 0);
	far_open(&c->fa, 0xaaaa0001);
	far_open(&c->fb, 0xbbbb0002);
}

/* Two legs: a talks to far A, b to far B. */
static void ctx_legs(struct ctx *c, enum media_codec ca, enum media_codec cb, int dta, int dtb)
{
	assert_int_equal(mleg_alloc(&c->a, c->m, 1), 0);
	assert_int_equal(mleg_alloc(&c->b, c->m, 2), 0);
	assert_int_equal(mleg_set_remote(c->a, "127.0.0.1", c->fa.port, ca, dta), 0);
	assert_int_equal(mleg_set_remote(c->b, "127.0.0.1", c->fb.port, cb, dtb), 0);
}

static void ctx_close(struct ctx *c)
{
	mleg_free(c->a);
	mleg_free(c->b);
	media_free(c->m);
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_close((uv_handle_t *)&c->stop, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	close(c->fa.fd);
	close(c->fb.fd);
}

/* Every received packet continues the one before: seq +1, ts +160. */
static void assert_continuous(const struct far *f, int from, int to, bool check_ts)
{
	for (int i = from + 1; i < to; i++) {
		assert_int_equal(f->rx[i].h.ssrc, f->rx[from].h.ssrc);
		assert_int_equal((uint16_t)(f->rx[i].h.seq - f->rx[i - 1].h.seq), 1);
		if (check_ts)
			assert_int_equal(f->rx[i].h.ts - f->rx[i - 1].h.ts, MEDIA_FRAME);
	}
}

static double pcm_rms(const int16_t *p, size_t n, size_t stride)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)p[i * stride] * p[i * stride];
	return n ? sqrt(s / (double)n) : 0;
}

/* ---- bridges ---- */
static void send_a_tone(struct ctx *c)
{
	if (c->ticks <= 50)
		far_tone(&c->fa, c->a, MEDIA_PCMU, 8000);
}

static void bridge_transcodes_pcmu_to_pcma(void **state)
{
	struct ctx c;
	struct media_stats st;
	int16_t pcm[MEDIA_FRAME];

	ctx_init(&c, 31000, 31099);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMA, -1, -1);
	assert_int_equal(media_bridge(c.a, c.b), 0);
	c.on_tick = send_a_tone;
	ctx_run(&c, 1200);
	assert_int_equal(c.fb.nrx, 50);
	assert_int_equal(c.fa.nrx, 0);
	for (int i = 0; i < c.fb.nrx; i++) {
		assert_int_equal(c.fb.rx[i].h.pt, MEDIA_PCMA);
		assert_int_equal(c.fb.rx[i].h.payload_len, MEDIA_FRAME);
	}
	assert_continuous(&c.fb, 0, c.fb.nrx, true);
	assert_int_not_equal(c.fb.rx[0].h.ssrc, c.fa.ssrc);
	assert_true(c.fb.rx[0].h.marker);
	media_g711_decode(MEDIA_PCMA, c.fb.rx[10].pl, pcm, MEDIA_FRAME);
	assert_true(pcm_rms(pcm, MEDIA_FRAME, 1) > 4000);
	mleg_stats(c.a, &st);
	assert_int_equal(st.rx_packets, 50);
	assert_int_equal(st.rx_lost, 0);
	mleg_stats(c.b, &st);
	assert_int_equal(st.tx_packets, 50);
	ctx_close(&c);
}

static void bridge_relays_same_codec_byte_for_byte(void **state)
{
	struct ctx c;
	uint8_t pl[MEDIA_FRAME];

	ctx_init(&c, 31100, 31199);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	assert_int_equal(media_bridge(c.a, c.b), 0);
	c.on_tick = send_a_tone;
	ctx_run(&c, 1200);
	assert_int_equal(c.fb.nrx, 50);
	assert_continuous(&c.fb, 0, c.fb.nrx, true);
	/* packet 7 left far A with ts 50000 + 7 * 160: same bytes out of b */
	memcpy(pl, c.fb.rx[7].pl, sizeof(pl));
	{
		int16_t pcm[MEDIA_FRAME];
		uint8_t want[MEDIA_FRAME];

		for (int i = 0; i < MEDIA_FRAME; i++)
			pcm[i] = (int16_t)(8000 *
					   sin(2 * M_PI * 400.0 * (50000 + 7 * 160 + i) / 8000));
		media_g711_encode(MEDIA_PCMU, pcm, want, MEDIA_FRAME);
		assert_memory_equal(pl, want, MEDIA_FRAME);
	}
	ctx_close(&c);
}

static void bridge_ignores_packets_from_other_sources(void **state)
{
	struct ctx c;
	struct far intruder;
	struct media_stats st;
	uint8_t junk[] = {1, 2, 3, 4, 5};
	uint8_t pl[MEDIA_FRAME] = {0};

	ctx_init(&c, 31200, 31299);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	media_bridge(c.a, c.b);
	far_open(&intruder, 0x666);
	for (int i = 0; i < 5; i++)
		far_rtp(&intruder, c.a, 0, pl, sizeof(pl), 160);
	far_sendto(&c.fa, mleg_port(c.a), junk, sizeof(junk)); /* not RTP */
	ctx_run(&c, 200);
	mleg_stats(c.a, &st);
	/* the kernel drops the intruder's (connected socket); the junk is counted */
	assert_int_equal(st.rx_bad, 1);
	assert_int_equal(st.rx_packets, 0);
	assert_int_equal(c.fb.nrx, 0);
	close(intruder.fd);
	ctx_close(&c);
}

/* ---- playback ---- */
static void playback_sends_50_packets_a_second_continuously(void **state)
{
	struct ctx c;
	size_t n;
	const int16_t *hold = media_hold_music(&n);

	ctx_init(&c, 31300, 31399);
	ctx_legs(&c, MEDIA_PCMA, MEDIA_PCMU, -1, -1);
	assert_int_equal(mleg_play(c.a, hold, n, true), 0);
	assert_true(mleg_playing(c.a));
	ctx_run(&c, 1010);
	assert_true(c.fa.nrx >= 48 && c.fa.nrx <= 51);
	assert_continuous(&c.fa, 0, c.fa.nrx, true);
	assert_int_equal(c.fa.rx[0].h.pt, MEDIA_PCMA);
	assert_true(mleg_playing(c.a));
	mleg_stop(c.a);
	assert_false(mleg_playing(c.a));
	ctx_close(&c);
}

static void playback_ends_then_relay_continues_the_stream(void **state)
{
	struct ctx c;
	size_t n;
	const int16_t *beep = media_beep(&n); /* 10 frames */
	int16_t *copy = malloc(n * sizeof(*copy));

	memcpy(copy, beep, n * sizeof(*copy)); /* not built-in: copied by mleg_play */
	ctx_init(&c, 31400, 31499);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	media_bridge(c.a, c.b);
	assert_int_equal(mleg_play(c.b, copy, n, false), 0);
	free(copy);
	c.on_tick = send_a_tone;
	ctx_run(&c, 1300);
	assert_false(mleg_playing(c.b));
	/* 10 beep frames, then the relayed ones: one stream, no seq gap */
	assert_true(c.fb.nrx >= 45 && c.fb.nrx <= 52);
	assert_continuous(&c.fb, 0, c.fb.nrx, false);
	for (int i = 1; i < c.fb.nrx; i++)
		assert_true((int32_t)(c.fb.rx[i].h.ts - c.fb.rx[i - 1].h.ts) == MEDIA_FRAME);
	ctx_close(&c);
}

/* ---- DTMF ---- */
static void on_digit(struct mleg *l, char digit, void *arg)
{
	struct ctx *c = arg;

	c->digits++;
	c->digit = digit;
	if (c->free_in_handler) {
		mleg_free(c->a); /* this very leg, from its own packet callback */
		mleg_free(c->b);
		c->a = c->b = NULL;
	}
}

static void send_a_digit(struct ctx *c)
{
	static const uint16_t dur[] = {160, 320, 480, 640, 800, 800, 800};
	int i = c->ticks - 1;
	uint8_t ev[4];

	if (i < 0 || i >= 7 || !c->a)
		return;
	ev[0] = 7, ev[1] = (uint8_t)((i >= 4 ? 0x80 : 0) | 10);
	ev[2] = (uint8_t)(dur[i] >> 8), ev[3] = (uint8_t)dur[i];
	far_rtp(&c->fa, c->a, 101, ev, 4, 0); /* one event: the ts stays */
}

static void dtmf_is_relayed_and_reported_once(void **state)
{
	struct ctx c;
	int ends = 0;

	ctx_init(&c, 31500, 31599);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMA, 101, 96);
	media_bridge(c.a, c.b);
	mleg_set_dtmf_handler(c.a, on_digit, &c);
	c.on_tick = send_a_digit;
	ctx_run(&c, 300);
	assert_int_equal(c.digits, 1);
	assert_int_equal(c.digit, '7');
	assert_int_equal(c.fb.nrx, 7);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(c.fb.rx[i].h.pt, 96);
		assert_int_equal(c.fb.rx[i].h.ts, c.fb.rx[0].h.ts);
		ends += (c.fb.rx[i].pl[1] & 0x80) != 0;
	}
	assert_int_equal(ends, 3);
	assert_continuous(&c.fb, 0, 7, false);
	ctx_close(&c);
}

static void dtmf_handler_may_free_both_legs(void **state)
{
	struct ctx c;

	ctx_init(&c, 31600, 31699);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, 101, 101);
	media_bridge(c.a, c.b);
	mleg_set_dtmf_handler(c.a, on_digit, &c);
	c.free_in_handler = true;
	c.on_tick = send_a_digit;
	ctx_run(&c, 300);
	assert_int_equal(c.digits, 1);
	assert_null(c.a);
	assert_int_equal(media_leg_count(c.m), 0);
	ctx_close(&c);
}

static void mleg_send_dtmf_sends_one_rfc4733_event(void **state)
{
	struct ctx c;
	char digit;
	bool end;
	uint16_t dur;

	ctx_init(&c, 31700, 31799);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, 101, -1);
	assert_int_equal(mleg_send_dtmf(c.b, '1'), -ENOTSUP);
	assert_int_equal(mleg_send_dtmf(c.a, 'x'), -EINVAL);
	assert_int_equal(mleg_send_dtmf(c.a, '#'), 0);
	ctx_run(&c, 300);
	assert_int_equal(c.fa.nrx, 7);
	assert_true(c.fa.rx[0].h.marker);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(c.fa.rx[i].h.pt, 101);
		assert_int_equal(c.fa.rx[i].h.ts, c.fa.rx[0].h.ts);
		assert_int_equal(rtp_dtmf_parse(c.fa.rx[i].pl, 4, &digit, &end, &dur), 0);
		assert_int_equal(digit, '#');
		assert_int_equal(end, i >= 4);
		assert_int_equal(dur, i >= 4 ? 800 : 160 * (i + 1));
	}
	assert_continuous(&c.fa, 0, 7, false);
	ctx_close(&c);
}

/* ---- recording ---- */
static void send_both_then_only_a(struct ctx *c)
{
	if (c->ticks > 50)
		return;
	far_tone(&c->fa, c->a, MEDIA_PCMU, 8000);
	if (c->ticks <= 25)
		far_tone(&c->fb, c->b, MEDIA_PCMA, 6000);
}

static void on_recorded(int err, uint64_t frames, void *arg)
{
	struct ctx *c = arg;

	c->rec_err = err;
	c->rec_frames = frames;
	c->rec_done = true;
}

static void recording_is_stereo_with_silence_where_nobody_spoke(void **state)
{
	struct ctx c;
	char path[] = "/tmp/test_media_recXXXXXX";
	SF_INFO info = {0};
	SNDFILE *sf;
	struct stat st;
	int16_t *pcm;
	int fd = mkstemp(path);

	close(fd);
	ctx_init(&c, 31800, 31899);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMA, -1, -1);
	media_bridge(c.a, c.b);
	assert_int_equal(media_record_start(c.a, c.b, path), 0);
	assert_int_equal(media_record_start(c.a, c.b, path), -EBUSY);
	c.on_tick = send_both_then_only_a;
	ctx_run(&c, 1500);
	/* while it runs, the file is a valid WAV of what was written so far:
	 * the header's sizes follow every write (recorder.c writes it itself) */
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_true(info.frames >= 1920 &&
		    info.frames % 160 == 0); /* whole frames, a chunk or more */
	assert_true(stat(path, &st) == 0);
	assert_int_equal(st.st_size, 44 + info.frames * 4);
	sf_close(sf);
	info = (SF_INFO){0};
	assert_int_equal(media_record_stop(c.a, on_recorded, &c), 0);
	assert_int_equal(media_record_stop(c.a, on_recorded, &c), -ENOENT);
	ctx_run(&c, 100);
	assert_true(c.rec_done);
	assert_int_equal(c.rec_err, 0);
	/* 1.5 s of clock, give or take a tick */
	assert_true(c.rec_frames >= 11680 && c.rec_frames <= 12160);
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal((uint64_t)info.frames, c.rec_frames);
	pcm = calloc((size_t)info.frames * 2, sizeof(*pcm));
	assert_int_equal(sf_readf_short(sf, pcm, info.frames), info.frames);
	sf_close(sf);
	/* first second: the caller (left) speaks throughout */
	assert_true(pcm_rms(pcm, 8000, 2) > 3000);
	/* the agent (right) spoke for 0.5 s, then nothing: silence */
	assert_true(pcm_rms(pcm + 1, 3200, 2) > 2000);
	assert_true(pcm_rms(pcm + 1 + 2 * 5600, 4000, 2) < 10);
	/* after both stopped: silence on both */
	assert_true(pcm_rms(pcm + 2 * 9600, (size_t)info.frames - 9600, 1) < 10);
	free(pcm);
	unlink(path);
	ctx_close(&c);
}

static void recording_stops_silently_when_both_legs_go(void **state)
{
	struct ctx c;
	char path[] = "/tmp/test_media_rec2XXXXXX";
	int fd = mkstemp(path);
	SF_INFO info = {0};
	SNDFILE *sf;

	close(fd);
	ctx_init(&c, 31900, 31999);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	assert_int_equal(media_record_start(c.a, c.b, path), 0);
	ctx_run(&c, 200);
	mleg_free(c.b);
	c.b = NULL;
	ctx_run(&c, 100);
	ctx_close(&c); /* frees a: the recording closes on the pool */
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_true(info.frames >= 2000);
	sf_close(sf);
	unlink(path);
}

static void recording_to_a_bad_path_reports_the_error(void **state)
{
	struct ctx c;

	ctx_init(&c, 32000, 32099);
	ctx_legs(&c, MEDIA_PCMU, MEDIA_PCMU, -1, -1);
	assert_int_equal(media_record_start(c.a, c.b, "/nonexistent/dir/x.wav"), 0);
	ctx_run(&c, 100);
	assert_int_equal(media_record_stop(c.b, on_recorded, &c), 0);
	ctx_run(&c, 100);
	assert_true(c.rec_done);
	assert_int_equal(c.rec_err, -EIO);
	ctx_close(&c);
}

/* ---- ports ---- */
static void port_exhaustion_returns_eaddrinuse(void **state)
{
	struct ctx c;
	struct mleg *l[3] = {0};

	ctx_init(&c, 32101, 32105); /* rounds up to 32102: pairs 32102, 32104 */
	assert_int_equal(mleg_alloc(&l[0], c.m, 10), 0);
	assert_int_equal(mleg_alloc(&l[1], c.m, 11), 0);
	assert_int_equal(mleg_port(l[0]) % 2, 0);
	assert_int_not_equal(mleg_port(l[0]), mleg_port(l[1]));
	assert_int_equal(mleg_alloc(&l[2], c.m, 12), -EADDRINUSE);
	assert_null(l[2]);
	assert_int_equal(media_leg_count(c.m), 2);
	mleg_free(l[0]);
	uv_run(&c.loop, UV_RUN_NOWAIT); /* the close callbacks release the pair */
	assert_int_equal(mleg_alloc(&l[2], c.m, 12), 0);
	mleg_free(l[1]);
	mleg_free(l[2]);
	ctx_close(&c);
}

static void ports_taken_by_others_are_skipped(void **state)
{
	struct ctx c;
	struct mleg *l = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(32201),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0); /* RTCP of pair 1 */
	ctx_init(&c, 32200, 32203);
	assert_int_equal(mleg_alloc(&l, c.m, 1), 0);
	assert_int_equal(mleg_port(l), 32202);
	mleg_free(l);
	close(fd);
	ctx_close(&c);
}

/* ---- the clock under a flood ---- */
/*
 * libuv runs timers only between its I/O passes, and polls again (up to 48
 * times) while more sockets are readable than one epoll_wait returns
 * (1,024). With FLOOD_LEGS bridged legs each holding FLOOD_PKTS packets
 * (each read also relays: a send) the loop stays in such passes for
 * hundreds of ms (without media_clock_poll: one tick 12 frames late here);
 * the read path must run the clock's due ticks meanwhile, so none is late.
 */
#define FLOOD_LEGS 1100
#define FLOOD_PKTS 48

static void the_clock_keeps_time_while_more_sockets_are_readable_than_one_poll_returns(void **state)
{
	static struct mleg *legs[FLOOD_LEGS];
	struct rlimit rl;
	struct ctx c;
	struct media_clock_stats cs;
	struct media_stats st;
	uint64_t nlegs;
	size_t n;
	const int16_t *hold = media_hold_music(&n);
	uint8_t pl[MEDIA_FRAME];

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * FLOOD_LEGS + 64) {
		print_message("RLIMIT_NOFILE hard limit %lu is too low for %d legs\n",
			      (unsigned long)rl.rlim_max, FLOOD_LEGS);
		skip();
	}
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ctx_init(&c, 32000, 36999);
	for (int i = 0; i < FLOOD_LEGS; i++) {
		assert_int_equal(mleg_alloc(&legs[i], c.m, (uint64_t)i + 10), 0);
		assert_int_equal(mleg_set_remote(legs[i], "127.0.0.1", c.fa.port, MEDIA_PCMU, -1),
				 0);
	}
	for (int i = 0; i + 1 < FLOOD_LEGS; i += 2) /* each packet is relayed: a send too */
		assert_int_equal(media_bridge(legs[i], legs[i + 1]), 0);
	memset(pl, 0xff, sizeof(pl));
	for (int k = 0; k < FLOOD_PKTS; k++)
		for (int i = 0; i < FLOOD_LEGS; i++)
			far_rtp(&c.fa, legs[i], MEDIA_PCMU, pl, MEDIA_FRAME, 0);
	uv_update_time(&c.loop); /* the burst took a while: the clock starts now */
	assert_int_equal(mleg_play(legs[0], hold, n, true), 0); /* the clock runs */
	ctx_run(&c, 1500);
	media_totals(c.m, &st, &nlegs);
	assert_int_equal(st.rx_packets, (uint64_t)FLOOD_LEGS * FLOOD_PKTS);
	media_clock_stats(c.m, &cs);
	if (cs.late)
		print_message("clock late %llu times (%llu frames skipped)\n",
			      (unsigned long long)cs.late, (unsigned long long)cs.late_frames);
	assert_int_equal(cs.late, 0);
	for (int i = 0; i < FLOOD_LEGS; i++)
		mleg_free(legs[i]);
	ctx_close(&c);
}

static void media_alloc_rejects_bad_config_and_survives_oom(void **state)
{
	uv_loop_t loop;
	struct media *m = NULL;
	struct media_cfg bad = {.address = "not an address", .port_min = 30000, .port_max = 30010};
	struct media_cfg range = {.port_min = 30010, .port_max = 30000};
	struct media_cfg ok = {.port_min = 30000, .port_max = 30010};

	uv_loop_init(&loop);
	assert_int_equal(media_alloc(&m, &loop, &bad), -EINVAL);
	assert_int_equal(media_alloc(&m, &loop, &range), -EINVAL);
	mem_fail_after(1);
	assert_int_equal(media_alloc(&m, &loop, &ok), -ENOMEM);
	assert_null(m);
	assert_int_equal(media_alloc(&m, &loop, &ok), 0);
	media_free(m);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(bridge_transcodes_pcmu_to_pcma, teardown),
		cmocka_unit_test_teardown(bridge_relays_same_codec_byte_for_byte, teardown),
		cmocka_unit_test_teardown(bridge_ignores_packets_from_other_sources, teardown),
		cmocka_unit_test_teardown(playback_sends_50_packets_a_second_continuously,
					  teardown),
		cmocka_unit_test_teardown(playback_ends_then_relay_continues_the_stream, teardown),
		cmocka_unit_test_teardown(dtmf_is_relayed_and_reported_once, teardown),
		cmocka_unit_test_teardown(dtmf_handler_may_free_both_legs, teardown),
		cmocka_unit_test_teardown(mleg_send_dtmf_sends_one_rfc4733_event, teardown),
		cmocka_unit_test_teardown(recording_is_stereo_with_silence_where_nobody_spoke,
					  teardown),
		cmocka_unit_test_teardown(recording_stops_silently_when_both_legs_go, teardown),
		cmocka_unit_test_teardown(recording_to_a_bad_path_reports_the_error, teardown),
		cmocka_unit_test_teardown(port_exhaustion_returns_eaddrinuse, teardown),
		cmocka_unit_test_teardown(ports_taken_by_others_are_skipped, teardown),
		cmocka_unit_test_teardown(media_alloc_rejects_bad_config_and_survives_oom,
					  teardown),
		cmocka_unit_test_teardown(
			the_clock_keeps_time_while_more_sockets_are_readable_than_one_poll_returns,
			teardown),
	};

	log_level_set(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
