/*
 * test_media_workers.c — the media workers (src/media/worker.c) on real UDP
 * sockets: calls placed on two workers, each relayed and recorded there;
 * DTMF and received audio coming back to the main loop; a leg of the main
 * loop's engine (as a browser's is) joined to a call on a worker through
 * its stand-in, with audio both ways across the threads, and a transfer on
 * that call (the worker's leg leaves, another joins); what the main loop
 * refuses at once (-EXDEV, -EINVAL). The far ends are plain non-blocking
 * sockets; the main loop is run by the test. Every test ends with no mem_*
 * block live.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct far {
	int fd, port;
	uint16_t seq;
	uint32_t ts, ssrc;
	int nrx;      /* RTP packets received */
	double power; /* mean square of the last audio received (PCMU decoded) */
};

struct ctx {
	uv_loop_t loop;
	struct media *local;
	struct mw *w;
	int digits;
	char digit;
	size_t audio_samples;
	bool rec_done;
	int rec_err;
	uint64_t rec_frames;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = 42000, .port_max = 42999};

	assert_non_null(c);
	log_level_set(LOG_WARN);
	assert_int_equal(uv_loop_init(&c->loop), 0);
	assert_int_equal(media_alloc(&c->local, &c->loop, &cfg), 0);
	assert_int_equal(mw_alloc(&c->w, &c->loop, c->local, &cfg, 2), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	mw_free(c->w);
	media_free(c->local);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->loop), 0);
	free(c);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- far ends ---- */
static void far_open(struct far *f, uint32_t ssrc)
{
	memset(f, 0, sizeof(*f));
	f->fd = udpfx_open(&f->port);
	f->ssrc = ssrc, f->seq = 100, f->ts = 8000;
}

static void far_send(struct far *f, int port, int pt, const uint8_t *pl, size_t n, bool marker)
{
	uint8_t buf[256];
	struct rtp_hdr h = {.pt = (uint8_t)pt,
			    .marker = marker,
			    .seq = f->seq++,
			    .ts = f->ts,
			    .ssrc = f->ssrc,
			    .payload = pl,
			    .payload_len = n};
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int len = rtp_build(buf, sizeof(buf), &h);

	assert_true(len > 0);
	assert_int_equal(sendto(f->fd, buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)),
			 len);
}

/* One 20 ms frame of a 400 Hz tone in PCMU to a leg's port. */
static void far_tone(struct far *f, int port, int amp)
{
	int16_t pcm[MEDIA_FRAME];
	uint8_t pl[MEDIA_FRAME];

	for (int i = 0; i < MEDIA_FRAME; i++)
		pcm[i] = (int16_t)(amp * sin(2 * M_PI * 400.0 * (f->ts + (uint32_t)i) / 8000));
	media_g711_encode(MEDIA_PCMU, pcm, pl, MEDIA_FRAME);
	far_send(f, port, MEDIA_PCMU, pl, MEDIA_FRAME, false);
	f->ts += MEDIA_FRAME;
}

static void far_drain(struct far *f)
{
	uint8_t buf[1600];
	int16_t pcm[MEDIA_FRAME];
	struct rtp_hdr h;
	ssize_t n;

	while ((n = recv(f->fd, buf, sizeof(buf), 0)) > 0) {
		if (rtp_parse(buf, (size_t)n, &h) || h.pt != MEDIA_PCMU ||
		    h.payload_len != MEDIA_FRAME)
			continue;
		f->nrx++;
		media_g711_decode(MEDIA_PCMU, h.payload, pcm, MEDIA_FRAME);
		f->power = 0;
		for (int i = 0; i < MEDIA_FRAME; i++)
			f->power += (double)pcm[i] * pcm[i] / MEDIA_FRAME;
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Runs the main loop for ms while the far ends send a tone every 20 ms to
 * their legs' ports (port 0: silent) and read what comes back. */
static void run_talking(struct ctx *c, struct far **f, const int *port, int nf, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		for (int i = 0; i < nf; i++)
			if (port[i])
				far_tone(f[i], port[i], 8000);
		for (int k = 0; k < 20; k += 2) {
			uv_run(&c->loop, UV_RUN_NOWAIT);
			sleep_ms(2);
		}
		for (int i = 0; i < nf; i++)
			far_drain(f[i]);
	}
}

static void run_for(struct ctx *c, int ms)
{
	run_talking(c, NULL, NULL, 0, ms);
}

static void on_rec_done(int err, uint64_t frames, void *arg)
{
	struct ctx *c = arg;

	c->rec_done = true, c->rec_err = err, c->rec_frames = frames;
}

/* Two calls land on the two workers; each relays both ways and records. */
static void test_calls_on_two_workers(void **state)
{
	struct ctx *c = *state;
	struct mwleg *l[4];
	struct mwconf *conf[2];
	struct far fa[4];
	struct far *fp[4] = {&fa[0], &fa[1], &fa[2], &fa[3]};
	int port[4], worker[2];
	char path[2][128];
	struct mw_worker_stats ws;

	for (int i = 0; i < 2; i++) { /* call i: legs 2i (customer), 2i+1 (agent) */
		worker[i] = mw_place(c->w);
		for (int j = 0; j < 2; j++) {
			int x = 2 * i + j;
			far_open(&fa[x], 0x1000u + (unsigned)x);
			assert_int_equal(mwleg_alloc(&l[x], c->w, worker[i], (uint64_t)x), 0);
			assert_int_equal(mwleg_worker(l[x]), worker[i]);
			port[x] = mwleg_port(l[x]);
			assert_true(port[x] >= 42000 && port[x] <= 42999);
			assert_int_equal(
				mwleg_set_remote(l[x], "127.0.0.1", fa[x].port, MEDIA_PCMU, 101),
				0);
		}
		assert_int_equal(mwconf_alloc(&conf[i], c->w, worker[i], (uint64_t)i), 0);
		assert_int_equal(mwconf_join(conf[i], l[2 * i], MIXER_TALK, NULL), 0);
		assert_int_equal(mwconf_join(conf[i], l[2 * i + 1], MIXER_TALK, NULL), 0);
		snprintf(path[i], sizeof(path[i]), "/tmp/sb_test_mw_%d_%d.wav", (int)getpid(), i);
		assert_int_equal(mwconf_record_start(conf[i], l[2 * i], path[i]), 0);
	}
	assert_int_not_equal(worker[0], worker[1]); /* the second call went to the idle worker */
	run_talking(c, fp, port, 4, 1000);
	for (int x = 0; x < 4; x++) {
		assert_true(fa[x].nrx >= 35); /* ~50 relayed from its partner */
		assert_true(fa[x].power > 1e6);
	}
	run_for(c, 600); /* a stats push */
	for (int i = 0; i < 2; i++) {
		struct media_stats st;

		mwleg_stats(l[2 * i], &st);
		assert_true(st.rx_packets >= 40);
		assert_int_equal(mw_worker_stats(c->w, worker[i], &ws), 0);
		assert_int_equal(ws.legs, 2);
		assert_true(ws.cpu_ns > 0);
	}
	for (int i = 0; i < 2; i++) {
		c->rec_done = false;
		assert_int_equal(mwconf_record_stop(conf[i], on_rec_done, c), 0);
		for (int t = 0; t < 300 && !c->rec_done; t++)
			run_for(c, 20);
		assert_true(c->rec_done);
		assert_int_equal(c->rec_err, 0);
		assert_true(c->rec_frames >= 40);
		unlink(path[i]);
	}
	for (int x = 0; x < 4; x++) {
		mwleg_free(l[x]);
		close(fa[x].fd);
	}
	mem_deref(conf[0]), mem_deref(conf[1]);
	run_for(c, 600);
	assert_int_equal(mw_worker_stats(c->w, worker[0], &ws), 0);
	assert_int_equal(ws.legs, 0);
}

static void on_dtmf(struct mleg *l, char digit, void *arg)
{
	struct ctx *c = arg;

	assert_null(l); /* a worker's leg */
	c->digits++, c->digit = digit;
}

static void on_audio(struct mleg *l, const int16_t *pcm, size_t n, void *arg)
{
	struct ctx *c = arg;

	assert_null(l);
	assert_non_null(pcm);
	c->audio_samples += n;
}

/* RFC 4733 digits and received audio reach handlers on the main loop. */
static void test_events_back_to_main(void **state)
{
	struct ctx *c = *state;
	struct mwleg *l;
	struct far f;
	int port;

	far_open(&f, 0x2000);
	assert_int_equal(mwleg_alloc(&l, c->w, 1, 7), 0);
	assert_int_equal(mwleg_set_remote(l, "127.0.0.1", f.port, MEDIA_PCMU, 101), 0);
	mwleg_set_dtmf_handler(l, on_dtmf, c);
	mwleg_set_audio_handler(l, on_audio, c);
	port = mwleg_port(l);
	run_for(c, 100); /* the commands are there before the packets */
	{
		struct far *fp[1] = {&f};
		run_talking(c, fp, &port, 1, 200);
	}
	for (int i = 0; i < 4; i++) { /* digit 5: three updates and the end */
		uint8_t ev[4] = {5, (uint8_t)(i == 3 ? 0x80 : 0), 0, (uint8_t)(80 * (i + 1))};
		far_send(&f, port, 101, ev, sizeof(ev), i == 0);
		run_for(c, 20);
	}
	run_for(c, 200);
	assert_int_equal(c->digits, 1);
	assert_int_equal(c->digit, '5');
	assert_true(c->audio_samples >= 5 * MEDIA_FRAME);
	/* no handler: no more events */
	mwleg_set_audio_handler(l, NULL, NULL);
	run_for(c, 100);
	c->audio_samples = 0;
	{
		struct far *fp[1] = {&f};
		run_talking(c, fp, &port, 1, 200);
	}
	assert_int_equal(c->audio_samples, 0);
	mwleg_free(l);
	close(f.fd);
}

/*
 * A leg of the main loop's engine (a browser's, without its WebRTC
 * transport here) joins a call on worker 1 through its stand-in: the
 * customer on the worker hears it and it hears the customer, across the
 * threads. Then a transfer: the worker's agent leg leaves and a new agent
 * leg joins; the customer now hears the second agent too.
 */
static void test_standin_across_threads(void **state)
{
	struct ctx *c = *state;
	struct mleg *browser;
	struct mwleg *standin, *cust, *agent2;
	struct mwconf *conf;
	struct far fb, fc, fa2;
	struct far *fp[3] = {&fb, &fc, &fa2};
	int port[3];

	far_open(&fb, 0x3001), far_open(&fc, 0x3002), far_open(&fa2, 0x3003);
	assert_int_equal(mleg_alloc(&browser, c->local, 30), 0);
	assert_int_equal(mleg_set_remote(browser, "127.0.0.1", fb.port, MEDIA_PCMU, -1), 0);
	assert_int_equal(mwleg_attach(&standin, c->w, 1, 30, browser), 0);
	assert_int_equal(mwleg_worker(standin), 1);
	assert_int_equal(mwleg_alloc(&cust, c->w, 1, 31), 0);
	assert_int_equal(mwleg_set_remote(cust, "127.0.0.1", fc.port, MEDIA_PCMU, -1), 0);
	assert_int_equal(mwconf_alloc(&conf, c->w, 1, 3), 0);
	assert_int_equal(mwconf_join(conf, cust, MIXER_TALK, NULL), 0);
	assert_int_equal(mwconf_join(conf, standin, MIXER_TALK, NULL), 0);
	port[0] = mleg_port(browser), port[1] = mwleg_port(cust), port[2] = 0;
	run_talking(c, fp, port, 3, 1200);
	assert_true(fb.nrx >= 30); /* the customer's audio, worker -> main */
	assert_true(fb.power > 1e6);
	assert_true(fc.nrx >= 30); /* the browser's audio, main -> worker */
	assert_true(fc.power > 1e6);

	/* the transfer: a second agent on the same worker joins (three talk), the
	 * browser leaves; the customer and the second agent go on */
	assert_int_equal(mwleg_alloc(&agent2, c->w, 1, 32), 0);
	assert_int_equal(mwleg_set_remote(agent2, "127.0.0.1", fa2.port, MEDIA_PCMU, -1), 0);
	assert_int_equal(mwconf_join(conf, agent2, MIXER_TALK, NULL), 0);
	port[2] = mwleg_port(agent2);
	run_talking(c, fp, port, 3, 600);
	assert_true(fa2.nrx >= 15);
	assert_int_equal(mwconf_leave(conf, standin), 0);
	fc.nrx = fa2.nrx = 0, fc.power = fa2.power = 0;
	port[0] = 0; /* the browser is gone */
	run_talking(c, fp, port, 3, 800);
	assert_true(fc.nrx >= 25 && fc.power > 1e6);
	assert_true(fa2.nrx >= 25 && fa2.power > 1e6);

	mwleg_free(standin);
	mleg_free(browser);
	mwleg_free(cust), mwleg_free(agent2);
	mem_deref(conf);
	close(fb.fd), close(fc.fd), close(fa2.fd);
	run_for(c, 100);
}

/* What the main loop decides at once. */
static void test_refused_at_once(void **state)
{
	struct ctx *c = *state;
	struct mwleg *a, *b;
	struct mwconf *conf;

	assert_int_equal(mwleg_alloc(&a, c->w, 0, 1), 0);
	assert_int_equal(mwleg_alloc(&b, c->w, 1, 2), 0);
	assert_int_equal(mwleg_alloc(&b, c->w, 2, 2), -EINVAL); /* no third worker */
	assert_int_equal(mwconf_alloc(&conf, c->w, 0, 9), 0);
	assert_int_equal(mwconf_join(conf, b, MIXER_TALK, NULL), -EXDEV);
	assert_int_equal(mwconf_join(conf, a, MIXER_WHISPER, b), -EXDEV);
	assert_int_equal(mwleg_set_remote(a, "not an address", 4000, MEDIA_PCMU, 101), -EINVAL);
	assert_int_equal(mwleg_set_remote(a, "127.0.0.1", 4000, MEDIA_OPUS, 101), -EINVAL);
	assert_int_equal(mwleg_set_remote(a, "127.0.0.1", 70000, MEDIA_PCMU, 101), -EINVAL);
	assert_int_equal(mwleg_send_dtmf(a, 'x'), -EINVAL);
	assert_int_equal(mwleg_send_dtmf(a, '1'), -ENOTSUP); /* no telephone-event */
	assert_int_equal(mwleg_set_remote(a, "::1", 4000, MEDIA_PCMU, 101), -EAFNOSUPPORT);
	assert_int_equal(mwleg_set_remote(a, "127.0.0.1", 4000, MEDIA_PCMU, 101), 0);
	for (int i = 0; i < 16; i++) /* the worker's queue: 16 digits */
		assert_int_equal(mwleg_send_dtmf(a, '1'), 0);
	assert_int_equal(mwleg_send_dtmf(a, '2'), -ENOBUFS);
	assert_int_equal(mwconf_record_start(conf, a, ""), -EINVAL);
	assert_int_not_equal(mwleg_port(a), mwleg_port(b));
	mwleg_free(a), mwleg_free(b);
	mem_deref(conf);
	run_for(c, 100);
}

/* Handles outliving the workers do nothing; a stop's end still runs once. */
static void test_after_free(void **state)
{
	struct ctx *c = *state;
	struct mwleg *a;
	struct mwconf *conf;

	assert_int_equal(mwleg_alloc(&a, c->w, 0, 1), 0);
	assert_int_equal(mwconf_alloc(&conf, c->w, 0, 1), 0);
	assert_int_equal(mwconf_join(conf, a, MIXER_TALK, NULL), 0);
	c->rec_done = false;
	assert_int_equal(mwconf_record_stop(conf, on_rec_done, c), 0); /* nothing recording */
	mw_free(c->w);
	assert_true(c->rec_done);
	assert_int_equal(c->rec_err, -ENOENT);
	assert_int_equal(mwleg_play(a, (const int16_t[]){1, 2, 3}, 3, false), -ESHUTDOWN);
	mwleg_free(a);
	mem_deref(conf);
	assert_int_equal(mwleg_alloc(&a, c->w, 0, 1), -ESHUTDOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calls_on_two_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_back_to_main, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standin_across_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_free, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
