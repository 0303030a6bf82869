/*
 * webrtc_bench.c — what a browser leg costs the server: N WebRTC legs
 * (ICE-lite, DTLS-SRTP, Opus or G.711) in conferences of two, against N
 * browser-style far ends (the project's test client: full ICE checks,
 * DTLS client, SRTP, Opus), not a browser per leg.
 *
 * Two processes so that each side's CPU and memory are its own: the
 * parent is the server (one libuv loop: the media engine, the WebRTC
 * legs, the conferences); the child is the far ends (its own loop, media
 * engine and WebRTC client legs, each playing a voice-like tone: G.711,
 * or Opus encoded as a browser encodes it, SILK narrowband, which is what
 * a browser sends us (our SDP's maxplaybackrate=8000; media_cfg.opus_silk),
 * 50 packets/s; "half" makes the tone digital silence every other 2 s). Offers and answers go over a socketpair. Once
 * every leg is connected the server measures, after 2 s of warm-up, for
 * `seconds`: the loop thread's CPU (CLOCK_THREAD_CPUTIME_ID; user/kernel
 * from getrusage), the time it sat ready on a run queue (the machine is
 * shared), packets in and out (media_totals), what WebRTC dropped, VmRSS
 * growth per leg (after warm-up minus before the legs) and the heap in
 * use per leg (mallinfo2: glibc keeps freed memory, so RSS also counts
 * the handshakes' peak) at warm-up's end, while each leg's SSL lingers,
 * and at the window's end, after it is released (dtls_linger_ms, 10 s).
 *
 * Each pair of server legs is a conference of two talkers: G.711 legs
 * are the relay fast path (SRTP unprotect, relay, protect), Opus legs are
 * mixed (decode, mix, encode) — as an agent's browser talking to a
 * browser caller would be.
 *
 *   make webrtc-bench
 *   build/webrtc_bench N [seconds=20] [opus|pcmu] [server's opus complexity 0..10, default 0;
 *                      "silkC": the server's encoder SILK at complexity C, as before CELT]
 *                      [gcm|cm] [voice|half]
 */
#include "webrtc/webrtc.h"

#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SDP_MAX 4096

static double now_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void thread_rusage(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double runq_wait_s(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f && fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	if (f)
		fclose(f);
	return (double)wait / 1e9;
}

static double rss_kb(void)
{
	char line[256];
	double kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atof(line + 6);
	if (f)
		fclose(f);
	return kb;
}

/* Heap bytes in use (what the legs hold, not what the handshakes' peak left
 * in the process: glibc keeps freed memory, so RSS counts that peak too). */
static double heap_kb(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (double)(mi.uordblks + mi.hblkhd) / 1024.0;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "webrtc_bench: %s: %s\n", what, err ? strerror(-err) : "failed");
	exit(1);
}

/* ---- the socketpair: 4-byte length, then the SDP ---- */
static void msg_write(int fd, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	if (write(fd, &n, 4) != 4 || write(fd, s, n) != (ssize_t)n)
		die("write sdp", -errno);
}

static void msg_read(int fd, char *s, size_t size)
{
	uint32_t n;
	size_t got = 0;

	if (read(fd, &n, 4) != 4 || n >= size)
		die("read sdp", -EPROTO);
	while (got < n) {
		ssize_t r = read(fd, s + got, n - got);

		if (r <= 0)
			die("read sdp", -errno);
		got += (size_t)r;
	}
	s[n] = '\0';
}

struct side {
	uv_loop_t loop;
	struct media *m;
	struct webrtc *w;
	struct mleg **ml;
	struct webrtc_leg **wl;
	struct mconf **conf;
	int n, connected, failed;
	enum media_codec codec;
};

static void on_state(struct webrtc_leg *l, enum webrtc_state st, const char *why, void *arg)
{
	struct side *s = arg;

	if (st == WEBRTC_CONNECTED)
		s->connected++;
	if (st == WEBRTC_FAILED) {
		s->failed++;
		fprintf(stderr, "webrtc_bench: a leg failed: %s\n", why);
	}
}

static int complexity; /* argv[4]: the server's Opus encoder's */
static bool srv_silk;  /* argv[4] "silkC": the server's encoder SILK (the old one) */
static bool cm_only;   /* argv[5] "cm": SRTP_AES128_CM_SHA1_80 instead of GCM */
static bool half;      /* argv[6] "half": the far ends are silent half the time */

static void side_init(struct side *s, int n, int pmin, int pmax, enum media_codec c, bool browser)
{
	struct media_cfg mc = {.address = "127.0.0.1",
			       .port_min = pmin,
			       .port_max = pmax,
			       .opus_complexity = browser ? 1 : complexity,
			       .opus_silk = browser || srv_silk};
	int err;

	memset(s, 0, sizeof(*s));
	s->n = n, s->codec = c;
	uv_loop_init(&s->loop);
	if ((err = media_alloc(&s->m, &s->loop, &mc)))
		die("media_alloc", err);
	if ((err = webrtc_alloc(&s->w, &s->loop, &(struct webrtc_cfg){.no_gcm = cm_only})))
		die("webrtc_alloc", err);
	s->ml = calloc((size_t)n, sizeof(*s->ml));
	s->wl = calloc((size_t)n, sizeof(*s->wl));
	s->conf = calloc((size_t)n, sizeof(*s->conf));
}

static void side_leg(struct side *s, int i, enum webrtc_role role)
{
	int err = mleg_alloc(&s->ml[i], s->m, (uint64_t)i + 1);

	if (err)
		die("mleg_alloc", err);
	if ((err = webrtc_leg_alloc(&s->wl[i], s->w, s->ml[i], role, on_state, s)))
		die("webrtc_leg_alloc", err);
	if ((err = webrtc_leg_codecs(s->wl[i], &s->codec, 1)))
		die("codecs", err);
}

static void side_free(struct side *s)
{
	for (int i = 0; i < s->n; i++) {
		webrtc_leg_free(s->wl[i]);
		mleg_free(s->ml[i]);
		mem_deref(s->conf[i]);
	}
	media_free(s->m);
	webrtc_free(s->w);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	free(s->ml), free(s->wl), free(s->conf);
}

/* ---- the far ends (child process) ---- */
static void eof_cb(uv_poll_t *p, int status, int events)
{
	uv_stop(p->loop); /* the server closed its end: done */
}

static int client_main(int fd, int n, enum media_codec c)
{
	struct side s;
	char sdp[SDP_MAX];
	int16_t tone[8000];
	uv_poll_t pp;
	struct rusage ru;

	side_init(&s, n, 46000, 47999, c, true);
	/* voice-like: harmonics of a gliding 120-180 Hz fundamental, noise */
	for (int i = 0; i < 8000; i++) {
		double t = i / 8000.0, f0 = 150 + 30 * sin(2 * M_PI * t), v = 0;

		for (int h = 1; h <= 12; h++)
			v += sin(2 * M_PI * f0 * h * t) / h;
		tone[i] = (int16_t)(2500 * v + (rand() % 600 - 300));
	}
	/* half: 2 s of the tone, 2 s of digital silence (the loop is 4 s) */
	int16_t *sig = half ? calloc(32000, sizeof(*sig)) : tone;
	size_t sig_n = half ? 32000 : 8000;

	if (!sig)
		die("calloc", -ENOMEM);
	for (size_t i = 0; half && i < 16000; i++)
		sig[i] = tone[i % 8000];
	for (int i = 0; i < n; i++) {
		side_leg(&s, i, WEBRTC_CLIENT);
		if (webrtc_leg_offer(s.wl[i], "127.0.0.1", sdp, sizeof(sdp)))
			die("offer", -EINVAL);
		msg_write(fd, sdp);
	}
	for (int i = 0; i < n; i++) {
		msg_read(fd, sdp, sizeof(sdp));
		if (webrtc_leg_remote(s.wl[i], sdp))
			die("remote", -EINVAL);
		mleg_play(s.ml[i], sig, sig_n, true); /* sent once connected */
	}
	uv_poll_init(&s.loop, &pp, fd);
	uv_poll_start(&pp, UV_READABLE, eof_cb);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&pp, NULL);
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "client: %d/%d connected, process CPU %.2f s user %.2f s sys\n",
		s.connected, n, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	side_free(&s);
	if (half)
		free(sig);
	return 0;
}

/* ---- the server (parent) ---- */
struct bench {
	struct side s;
	uv_timer_t t;
	int phase, seconds, fd;
	double rss0, rss1, heap0, heap1, cpu0, wall0, user0, sys0, wait0;
	struct media_stats st0;
	double t_conn;
};

static void report(struct bench *b, double cpu, double wall, double user, double sys, double wait)
{
	struct media_stats st;
	struct webrtc_stats ws;
	uint64_t legs;
	double per = 100.0 * cpu / wall / b->s.n;

	media_totals(b->s.m, &st, &legs);
	memset(&ws, 0, sizeof(ws));
	for (int i = 0; i < b->s.n; i++) {
		struct webrtc_stats one;

		webrtc_leg_stats(b->s.wl[i], &one);
		ws.srtp_auth += one.srtp_auth, ws.srtp_bad += one.srtp_bad;
		ws.srtp_replay += one.srtp_replay, ws.stun_ok += one.stun_ok;
		ws.rtcp_out += one.rtcp_out, ws.rtcp_in += one.rtcp_in, ws.rtcp_bad += one.rtcp_bad;
	}
	printf("opus=%s complexity=%d far_ends=%s ", srv_silk ? "SILK" : "CELT", complexity,
	       half ? "half-silent" : "voice");
	printf("legs=%d codec=%s srtp=%s connected=%d failed=%d (in %.2f s)\n", b->s.n,
	       media_codec_name(b->s.codec), webrtc_leg_profile(b->s.wl[0]), b->s.connected,
	       b->s.failed, b->t_conn);
	printf("window=%.1f s loop_cpu=%.2f%% of a core, per leg %.4f%%\n", wall, 100 * cpu / wall,
	       per);
	printf("loop_user=%.2f%% loop_sys=%.2f%% runq_wait=%.2f s\n", 100 * user / wall,
	       100 * sys / wall, wait);
	printf("rx_packets=%llu (%.1f/s per leg) tx_packets=%llu (%.1f/s per leg) rx_bad=%llu "
	       "undecodable=%llu lost=%llu\n",
	       (unsigned long long)(st.rx_packets - b->st0.rx_packets),
	       (double)(st.rx_packets - b->st0.rx_packets) / wall / b->s.n,
	       (unsigned long long)(st.tx_packets - b->st0.tx_packets),
	       (double)(st.tx_packets - b->st0.tx_packets) / wall / b->s.n,
	       (unsigned long long)st.rx_bad, (unsigned long long)st.rx_undecodable,
	       (unsigned long long)st.rx_lost);
	printf("srtp_auth_fail=%llu srtp_bad=%llu replay=%llu stun_checks=%llu\n",
	       (unsigned long long)ws.srtp_auth, (unsigned long long)ws.srtp_bad,
	       (unsigned long long)ws.srtp_replay, (unsigned long long)ws.stun_ok);
	printf("rtcp_out=%llu rtcp_in=%llu rtcp_bad=%llu (reports since start, all legs)\n",
	       (unsigned long long)ws.rtcp_out, (unsigned long long)ws.rtcp_in,
	       (unsigned long long)ws.rtcp_bad);
	printf("rss_before=%.0f KB rss_after=%.0f KB per leg %.1f KB\n", b->rss0, b->rss1,
	       (b->rss1 - b->rss0) / b->s.n);
	/* the SSLs linger 10 s after connecting (webrtc_cfg.dtls_linger_ms):
	 * held at warm-up's end, released by the window's if it ends later */
	printf("heap in use per leg: %.1f KB 2 s after connecting (DTLS state held), %.1f KB "
	       "%.0f s after (%s)\n",
	       (b->heap1 - b->heap0) / b->s.n, (heap_kb() - b->heap0) / b->s.n, 2 + wall,
	       2 + wall > 10.5 ? "released" : "still held");
	{
		double rate = (double)(st.rx_packets - b->st0.rx_packets + st.tx_packets -
				       b->st0.tx_packets) /
			      2 / wall / b->s.n;

		printf("per leg at 50 packets/s each way (scaled from %.1f/s): %.4f%% of a core\n",
		       rate, rate > 0 ? per * 50 / rate : 0);
	}
	fflush(stdout);
}

static void phase_cb(uv_timer_t *t)
{
	struct bench *b = t->data;
	double user, sys;
	uint64_t legs;

	switch (b->phase) {
	case 0: /* waiting for every leg */
		if (b->s.connected + b->s.failed < b->s.n &&
		    now_s(CLOCK_MONOTONIC) < b->t_conn + 60)
			return;
		b->t_conn = now_s(CLOCK_MONOTONIC) - b->t_conn;
		b->phase = 1;
		uv_timer_start(t, phase_cb, 2000, 0); /* warm-up */
		return;
	case 1:
		b->rss1 = rss_kb();
		b->heap1 = heap_kb();
		b->cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		b->wall0 = now_s(CLOCK_MONOTONIC);
		thread_rusage(&b->user0, &b->sys0);
		b->wait0 = runq_wait_s();
		media_totals(b->s.m, &b->st0, &legs);
		b->phase = 2;
		uv_timer_start(t, phase_cb, (uint64_t)b->seconds * 1000, 0);
		return;
	case 2:
		thread_rusage(&user, &sys);
		report(b, now_s(CLOCK_THREAD_CPUTIME_ID) - b->cpu0,
		       now_s(CLOCK_MONOTONIC) - b->wall0, user - b->user0, sys - b->sys0,
		       runq_wait_s() - b->wait0);
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, NULL);
		uv_stop(t->loop);
	}
}

static int server_main(int fd, int n, int seconds, enum media_codec c)
{
	static struct bench b;
	char offer[SDP_MAX], answer[SDP_MAX];
	int err;

	b.fd = fd, b.seconds = seconds;
	b.rss0 = rss_kb();
	b.heap0 = heap_kb();
	side_init(&b.s, n, 43000, 44999, c, false);
	for (int i = 0; i < n; i++) {
		msg_read(fd, offer, sizeof(offer));
		side_leg(&b.s, i, WEBRTC_SERVER);
		if ((err = webrtc_leg_answer(b.s.wl[i], offer, "127.0.0.1", answer,
					     sizeof(answer))))
			die("answer", err);
		msg_write(fd, answer);
		if (i % 2) { /* two legs that talk: one conference */
			if ((err = media_conf_alloc(&b.s.conf[i], b.s.m, (uint64_t)i)) ||
			    (err = media_conf_add(b.s.conf[i], b.s.ml[i - 1], MIXER_TALK, NULL)) ||
			    (err = media_conf_add(b.s.conf[i], b.s.ml[i], MIXER_TALK, NULL)))
				die("conference", err);
		}
	}
	b.t_conn = now_s(CLOCK_MONOTONIC);
	uv_timer_init(&b.s.loop, &b.t);
	b.t.data = &b;
	uv_timer_start(&b.t, phase_cb, 50, 50);
	uv_run(&b.s.loop, UV_RUN_DEFAULT);
	close(fd); /* the client stops */
	side_free(&b.s);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, seconds = argc > 2 ? atoi(argv[2]) : 20;
	enum media_codec c = argc > 3 && !strcmp(argv[3], "pcmu") ? MEDIA_PCMU : MEDIA_OPUS;

	srv_silk = argc > 4 && !strncmp(argv[4], "silk", 4);
	complexity = argc > 4 ? atoi(argv[4] + (srv_silk ? 4 : 0)) : 0;
	cm_only = argc > 5 && !strcmp(argv[5], "cm");
	half = argc > 6 && !strcmp(argv[6], "half");
	int sv[2], status;
	pid_t pid;

	if (n < 2 || n % 2 || seconds < 1) {
		fprintf(stderr, "usage: webrtc_bench N(even) [seconds=20] [opus|pcmu]\n");
		return 2;
	}
	log_level_set(LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair", -errno);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		close(sv[0]);
		return client_main(sv[1], n, c);
	}
	close(sv[1]);
	server_main(sv[0], n, seconds, c);
	waitpid(pid, &status, 0);
	return 0;
}
