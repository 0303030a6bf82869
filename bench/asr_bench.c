/*
 * asr_bench.c — speech recognition through src/asr on a libuv loop:
 * throughput with the decoder pool, latency of one utterance from submit
 * to done, memory of the loaded decoders, and (mode `phrases`) the result
 * for each line of stdin, for calibrating the confidence.
 *
 * Build (release flags, from the repository root): `make asr-bench`, or
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -g -Isrc -o build/asr_bench bench/asr_bench.c \
 *       src/asr/?*.c src/media/g711.c src/core/util.c \
 *       $(pkg-config --cflags --libs libuv libsodium speexdsp pocketsphinx sphinxbase) -lpthread -lm
 * Run:
 *   build/asr_bench [decoders=2] [burst=40] [latency_runs=30]
 *   build/asr_bench phrases < lines        (each line: expected intent index, a space, the text)
 *   build/asr_bench ep < lines             (each line: a sentence; utterances the endpointer
 *                                           finds in it for each end_silence_ms)
 *
 * Audio: espeak-ng (en-us) at 22 kHz -> sox to 8 kHz 16-bit -> G.711 µ-law
 * and back, as the tests do. The grammar: the three intents of test_asr.c.
 * -DPS_NOISE_FRAC=0 (with src/asr/asr_ps.c on the command line) builds it
 * without the band-limited noise, for comparison.
 * Throughput: `burst` utterances (the 10 sample phrases in turn) submitted
 * at once; recognitions/s = burst / wall time to the last done. Latency:
 * "i have a question about my bill" (2.0 s of speech, 2.2 s with the 40 ms
 * pre-roll and the 200 ms of trailing silence the endpointer includes)
 * submitted alone, one after another, on warm decoders.
 */
#include "asr/asr.h"
#include "media/media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const status_p[] = {"what is the status of my case", "check my case status",
				       "where is my case"};
static const char *const agent_p[] = {"talk to an agent", "speak to a person", "i want an agent",
				      "representative"};
static const char *const billing_p[] = {"billing question", "i have a question about my bill",
					"pay my bill"};
static const struct asr_intent_def intents[] = {
	{"status", status_p, 3},
	{"agent", agent_p, 4},
	{"billing", billing_p, 3},
};

struct utt {
	int16_t *pcm;
	size_t n;
};

static double rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = 0;

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			kb = atof(line + 6);
	}
	if (f)
		fclose(f);
	return kb;
}

static int speak(const char *text, struct utt *u)
{
	char cmd[768];
	FILE *f;
	long len;
	uint8_t *mu;

	snprintf(cmd, sizeof(cmd),
		 "espeak-ng -v en-us -w /tmp/asr_bench.wav \"%s\" && sox /tmp/asr_bench.wav -r "
		 "8000 -c 1 -b 16 -e signed-integer -t raw /tmp/asr_bench.raw",
		 text);
	if (system(cmd))
		return -1;
	f = fopen("/tmp/asr_bench.raw", "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	u->n = (size_t)len / 2;
	u->pcm = malloc((size_t)len);
	mu = malloc(u->n);
	if (!u->pcm || !mu || fread(u->pcm, 2, u->n, f) != u->n)
		return -1;
	fclose(f);
	media_g711_encode(MEDIA_PCMU, u->pcm, mu, u->n);
	media_g711_decode(MEDIA_PCMU, mu, u->pcm, u->n);
	free(mu);
	return 0;
}

struct slot {
	int done, err;
	uint64_t t_submit, t_done;
	struct asr_result res;
};

static void on_done(int err, const struct asr_result *res, void *arg)
{
	struct slot *s = arg;

	s->done = 1;
	s->err = err;
	s->t_done = uv_hrtime();
	if (res)
		s->res = *res;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void run_until(uv_loop_t *loop, struct slot *s, int n)
{
	for (int i = 0; i < n; i++) {
		while (!s[i].done && uv_run(loop, UV_RUN_ONCE))
			;
	}
}

static int phrases(uv_loop_t *loop, struct asr *a, struct asr_grammar *g)
{
	char line[512];
	int ok = 0, all = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct utt u;
		struct slot s = {0};
		int want = atoi(line);
		char *text = strchr(line, ' ');
		if (!text)
			continue;
		text[strcspn(text, "\n")] = '\0';
		if (speak(text + 1, &u))
			return 1;
		asr_recognize(a, g, u.pcm, u.n, on_done, &s);
		run_until(loop, &s, 1);
		bool got = s.res.intent >= 0 && s.res.confidence >= ASR_CONFIDENCE_MIN;
		int pass = want < 0 ? !got : got && s.res.intent == want;
		ok += pass, all++;
		printf("%s want=%2d got=%2d conf=%.2f score=%6.1f cover=%.2f %4.1f s  \"%s\" -> "
		       "\"%s\"\n",
		       pass ? "ok  " : "FAIL", want, s.res.intent, s.res.confidence, s.res.score,
		       s.res.coverage, u.n / 8000.0, text + 1, s.res.text);
		free(u.pcm);
	}
	printf("%d/%d as expected\n", ok, all);
	return 0;
}

/* For each sentence (0.5 s of -60 dBFS noise each side), how many
 * utterances the endpointer finds at each end_silence_ms. */
static void ep_gaps(void)
{
	static const int ends[] = {40, 60, 80, 100, 120, 160, 200, 300};
	char line[512];

	printf("end_silence_ms:");
	for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++)
		printf(" %4d", ends[e]);
	printf("   (utterances found)\n");
	while (fgets(line, sizeof(line), stdin)) {
		struct utt u;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || speak(line, &u))
			continue;
		size_t total = u.n + 8000;
		int16_t *x = calloc(total, sizeof(*x));
		uint32_t seed = 1;
		for (size_t i = 0; i < total; i++) {
			seed = seed * 1103515245u + 12345u;
			x[i] = (int16_t)((int)((seed >> 16) % 61) - 30);
		}
		for (size_t i = 0; i < u.n; i++)
			x[4000 + i] += u.pcm[i];
		printf("%-14s", "");
		for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
			struct asr_ep ep;
			int utts = 0;
			asr_ep_init(&ep, ends[e]);
			for (size_t off = 0; off + 160 <= total; off += 160)
				utts += asr_ep_feed(&ep, x + off, 160) == ASR_EP_END;
			printf(" %4d", utts);
		}
		printf("   \"%s\"\n", line);
		free(x);
		free(u.pcm);
	}
}

static void throughput(uv_loop_t *loop, struct asr *a, struct asr_grammar *g, int burst)
{
	const char *texts[10];
	struct utt u[10];
	struct slot *s = calloc((size_t)burst, sizeof(*s));
	double audio = 0;
	int k = 0, busy = 0;

	for (int i = 0; i < 3; i++)
		for (size_t p = 0; p < intents[i].n_phrases; p++)
			texts[k++] = intents[i].phrases[p];
	for (int i = 0; i < 10; i++)
		speak(texts[i], &u[i]);
	uint64_t t0 = uv_hrtime();
	for (int i = 0; i < burst; i++) {
		s[i].t_submit = uv_hrtime();
		if (asr_recognize(a, g, u[i % 10].pcm, u[i % 10].n, on_done, &s[i])) {
			s[i].done = 1, s[i].err = -EBUSY, busy++;
			continue;
		}
		audio += u[i % 10].n / 8000.0;
	}
	run_until(loop, s, burst);
	double wall = (uv_hrtime() - t0) / 1e9;
	int okn = 0;
	for (int i = 0; i < burst; i++)
		okn += !s[i].err && s[i].res.intent == (i % 10 < 3 ? 0 : i % 10 < 7 ? 1 : 2);
	printf("throughput: %d submitted at once (%d refused -EBUSY), %.1f s of audio in %.2f s: "
	       "%.1f recognitions/s, %.1fx real time; %d/%d right\n",
	       burst, busy, audio, wall, (burst - busy) / wall, audio / wall, okn, burst - busy);
	for (int i = 0; i < 10; i++)
		free(u[i].pcm);
	free(s);
}

static void latency(uv_loop_t *loop, struct asr *a, struct asr_grammar *g, int runs)
{
	struct utt u;
	uint64_t *lat = calloc((size_t)runs, sizeof(*lat)), dec = 0;

	/* what call control sends: 40 ms pre-roll, the speech, 200 ms of the
	 * silence that ended it (line noise at -60 dBFS) */
	struct utt sp;
	uint32_t seed = 7;
	speak("i have a question about my bill", &sp);
	u.n = sp.n + 320 + 1600;
	u.pcm = calloc(u.n, sizeof(*u.pcm));
	for (size_t i = 0; i < u.n; i++) {
		seed = seed * 1103515245u + 12345u;
		u.pcm[i] = (int16_t)((int)((seed >> 16) % 61) - 30);
	}
	for (size_t i = 0; i < sp.n; i++)
		u.pcm[320 + i] += sp.pcm[i];
	free(sp.pcm);
	for (int i = 0; i < runs; i++) {
		struct slot s = {0};
		s.t_submit = uv_hrtime();
		asr_recognize(a, g, u.pcm, u.n, on_done, &s);
		run_until(loop, &s, 1);
		lat[i] = s.t_done - s.t_submit;
		dec += s.res.decode_us;
	}
	qsort(lat, (size_t)runs, sizeof(*lat), cmp_u64);
	printf("latency (%.2f s utterance, %d runs, submit -> done): p50 %.1f ms, p90 %.1f ms, max "
	       "%.1f ms; decode on the pool %.1f ms mean\n",
	       u.n / 8000.0, runs, lat[runs / 2] / 1e6, lat[runs * 9 / 10] / 1e6,
	       lat[runs - 1] / 1e6, dec / 1e3 / runs);
	free(lat);
	free(u.pcm);
}

int main(int argc, char **argv)
{
	uv_loop_t loop;
	struct asr *a;
	struct asr_grammar *g;
	struct asr_cfg cfg = {.queue_max = 10000};
	char err[256];
	bool list = argc > 1 && !strcmp(argv[1], "phrases");

	if (argc > 1 && !strcmp(argv[1], "ep")) {
		ep_gaps();
		return 0;
	}
	int burst = argc > 2 ? atoi(argv[2]) : 40, runs = argc > 3 ? atoi(argv[3]) : 30;

	cfg.decoders = argc > 1 && !list ? atoi(argv[1]) : 2;
	uv_loop_init(&loop);
	double rss0 = rss_kb();
	uint64_t tg = uv_hrtime(), tg2;
	if (asr_alloc(&a, &loop, &cfg, err, sizeof(err)) ||
	    asr_grammar_alloc(a, &g, intents, 3, err, sizeof(err))) {
		fprintf(stderr, "asr: %s\n", err);
		return 1;
	}
	tg2 = uv_hrtime();
	struct asr_grammar *g2;
	asr_grammar_alloc(a, &g2, intents, 3, err, sizeof(err));
	printf("on the loop: asr_alloc + first grammar (reads the dictionary) %.1f ms, next "
	       "grammar "
	       "%.3f ms\n",
	       (tg2 - tg) / 1e6, (uv_hrtime() - tg2) / 1e6);
	mem_deref(g2);
	double rss_dict = rss_kb();
	uint64_t t0 = uv_hrtime();
	asr_warm(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	printf("decoders=%d: warm-up (load) %.0f ms; RSS %.1f MiB before, %.1f MiB with the "
	       "dictionary index, %.1f MiB with the decoders loaded (%.1f MiB each)\n",
	       cfg.decoders, (uv_hrtime() - t0) / 1e6, rss0 / 1024, rss_dict / 1024,
	       rss_kb() / 1024, (rss_kb() - rss_dict) / 1024 / cfg.decoders);
	if (list) {
		phrases(&loop, a, g);
	} else {
		latency(&loop, a, g, runs);
		throughput(&loop, a, g, burst);
		printf("RSS after the runs: %.1f MiB\n", rss_kb() / 1024);
	}
	mem_deref(g);
	asr_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}
