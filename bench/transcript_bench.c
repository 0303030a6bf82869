/*
 * transcript_bench.c — the transcripts' speech recognition (free speech,
 * src/asr asr_transcribe) measured: word error rate, real-time factor on
 * one decoder and memory, on
 *   - bench/speech/support_calls.txt (45 support-call sentences) spoken by
 *     synthetic voices: flite slt, flite rms, espeak-ng en-us;
 *   - the human read speech of Debian's pocketsphinx-testdata (librivox,
 *     5 sentences, 16 kHz, made 8 kHz);
 * all through G.711 µ-law at 8 kHz, as a call's recording has them.
 *
 * Build: `make transcript-bench` (release flags). Run from the repository root:
 *   build/transcript_bench [weight=0.4] [corpus=share/transcripts/contact_center_corpus.txt]
 *   build/transcript_bench 0 (the general model alone, no domain model)
 *   TB_CMD='espeak-ng -s 140 -w "$TBW/tb.wav" "%s"' build/transcript_bench
 *     (only that voice: a command writing $TBW/tb.wav from the sentence %s,
 *     to try a voice or a filter before putting it in a test)
 *   build/transcript_bench capacity [calls=4] [decoders=1]
 *     (whole stereo calls: 24 sentences, customer flite rms and agent flite
 *     awb taking turns, cut by the server's endpointer (src/transcript/
 *     audio.c) and decoded on `decoders` SCHED_IDLE threads: call-minutes
 *     transcribed per hour of wall time and per CPU-hour)
 * The domain model is built from the corpus with asr_lm_build (as the
 * server does) into the run's own folder (/tmp/tb-XXXXXX, $TBW: two runs at
 * once do not share files; removed at the end). The test sentences are
 * not in the corpus: the bench counts exact lines in common and says so.
 * Each sentence is one utterance, with 0.3 s of silence before and after
 * (what the endpointer's cut leaves around speech). WER = (substitutions +
 * deletions + insertions) / reference words, summed over a set. RTF =
 * decode time / audio time, one decoder, one job at a time.
 */
#include "asr/asr.h"
#include "media/media.h"
#include "transcript/transcript_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HUMAN_DIR "/usr/share/pocketsphinx/test/data/librivox"

struct utt {
	int16_t *pcm;
	size_t n;
};

/* The run's own folder (two benches at once must not share audio files:
 * that once made figures vary from run to run); the commands see it as $TBW. */
static char work_dir[64];

static const char *wpath(const char *name)
{
	static char buf[4][128];
	static unsigned i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", work_dir, name);
	return p;
}

static int work_dir_make(void)
{
	str_copy(work_dir, "/tmp/tb-XXXXXX", sizeof(work_dir));
	if (!mkdtemp(work_dir) || setenv("TBW", work_dir, 1)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

static void work_dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", work_dir);
}

static double rss_mib(void)
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
	return kb / 1024;
}

/* Runs cmd (which writes $TBW/tb.wav), then 8 kHz mono 16-bit, padded,
 * through G.711 µ-law and back. */
static int audio_load(const char *cmd, struct utt *u)
{
	char full[1400];
	FILE *f;
	long len;
	uint8_t *mu;

	snprintf(full, sizeof(full),
		 "%s && sox -D \"$TBW/tb.wav\" -r 8000 -c 1 -b 16 -e signed-integer -t raw "
		 "\"$TBW/tb.raw\" "
		 "pad 0.3 0.3",
		 cmd);
	if (system(full))
		return -1;
	f = fopen(wpath("tb.raw"), "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	u->n = (size_t)len / 2;
	u->pcm = malloc((size_t)len);
	mu = malloc(u->n);
	if (!u->pcm || !mu || fread(u->pcm, 2, u->n, f) != u->n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	media_g711_encode(MEDIA_PCMU, u->pcm, mu, u->n);
	media_g711_decode(MEDIA_PCMU, mu, u->pcm, u->n);
	free(mu);
	return 0;
}

/* ---- word error rate ---- */
static size_t words_split(char *s, char **w, size_t max)
{
	size_t n = 0;

	for (char *p = s; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	for (char *t = strtok(s, " \t\n.,?!"); t && n < max; t = strtok(NULL, " \t\n.,?!"))
		w[n++] = t;
	return n;
}

/* Edit distance between word sequences. */
static size_t edits(char **r, size_t nr, char **h, size_t nh)
{
	size_t *d = calloc((nr + 1) * (nh + 1), sizeof(*d)), e;

	for (size_t i = 0; i <= nr; i++)
		d[i * (nh + 1)] = i;
	for (size_t k = 0; k <= nh; k++)
		d[k] = k;
	for (size_t i = 1; i <= nr; i++) {
		for (size_t k = 1; k <= nh; k++) {
			size_t sub =
				d[(i - 1) * (nh + 1) + k - 1] + (strcmp(r[i - 1], h[k - 1]) != 0);
			size_t del = d[(i - 1) * (nh + 1) + k] + 1,
			       ins = d[i * (nh + 1) + k - 1] + 1;
			size_t m = sub < del ? sub : del;
			d[i * (nh + 1) + k] = m < ins ? m : ins;
		}
	}
	e = d[nr * (nh + 1) + nh];
	free(d);
	return e;
}

struct slot {
	int done, err;
	struct asr_text t;
};

static void on_text(int err, const struct asr_text *t, void *arg)
{
	struct slot *s = arg;

	s->done = 1;
	s->err = err;
	if (t)
		s->t = *t;
}

struct set_result {
	size_t ref_words, errors, n;
	double audio_s, decode_s, cpu_s;
};

/* Decodes u, compares with ref, adds to r; prints the pair. */
static void score_one(uv_loop_t *loop, struct asr *a, struct utt *u, const char *ref,
		      struct set_result *r, bool verbose)
{
	struct slot s = {0};
	char hyp[2048] = "", rbuf[1024], *rw[256], *hw[256];
	size_t nr, nh, e;

	if (asr_transcribe(a, u->pcm, u->n, on_text, &s)) {
		fprintf(stderr, "transcribe refused\n");
		return;
	}
	while (!s.done && uv_run(loop, UV_RUN_ONCE))
		;
	for (size_t i = 0; i < s.t.n_words; i++) {
		strncat(hyp, i ? " " : "", sizeof(hyp) - strlen(hyp) - 1);
		strncat(hyp, s.t.words[i].w, sizeof(hyp) - strlen(hyp) - 1);
	}
	if (verbose)
		printf("  ref: %s\n  hyp: %s\n  (%.1f s audio, %.2f s CPU)\n", ref, hyp,
		       (double)u->n / 8000.0, (double)s.t.cpu_us / 1e6);
	snprintf(rbuf, sizeof(rbuf), "%s", ref);
	nr = words_split(rbuf, rw, 256);
	nh = words_split(hyp, hw, 256);
	e = edits(rw, nr, hw, nh);
	r->ref_words += nr;
	r->errors += e;
	r->n++;
	r->audio_s += (double)u->n / 8000.0;
	r->decode_s += (double)s.t.decode_us / 1e6;
	r->cpu_s += (double)s.t.cpu_us / 1e6;
}

static void report(const char *name, const struct set_result *r)
{
	printf("%-18s %3zu utterances %5zu words  WER %5.1f%%  RTF %.3f CPU (%.3f wall; audio "
	       "%.1f s, CPU %.1f s)\n",
	       name, r->n, r->ref_words, 100.0 * (double)r->errors / (double)r->ref_words,
	       r->cpu_s / r->audio_s, r->decode_s / r->audio_s, r->audio_s, r->cpu_s);
	fflush(stdout);
}

static void synthetic(uv_loop_t *loop, struct asr *a, const char *voice, const char *cmdfmt,
		      bool verbose, struct set_result *all)
{
	const char *sf = getenv("TB_SENTENCES");
	FILE *f = fopen(sf ? sf : "bench/speech/support_calls.txt", "r");
	char line[512], cmd[1024];
	struct set_result r = {0};
	const char *only = getenv("TB_VOICES");

	if (only && !strstr(only, voice)) {
		if (f)
			fclose(f);
		return;
	}
	while (f && fgets(line, sizeof(line), f)) {
		struct utt u = {0};
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(cmd, sizeof(cmd), cmdfmt, line);
		if (audio_load(cmd, &u)) {
			fprintf(stderr, "could not make audio for '%s'\n", line);
			continue;
		}
		score_one(loop, a, &u, line, &r, verbose);
		free(u.pcm);
	}
	if (f)
		fclose(f);
	report(voice, &r);
	all->ref_words += r.ref_words, all->errors += r.errors, all->n += r.n;
	all->audio_s += r.audio_s, all->decode_s += r.decode_s, all->cpu_s += r.cpu_s;
}

static void human(uv_loop_t *loop, struct asr *a, bool verbose)
{
	FILE *f = fopen(HUMAN_DIR "/transcription", "r");
	char line[1024], cmd[1200], *id, *text;
	struct set_result r = {0};

	while (f && fgets(line, sizeof(line), f)) {
		struct utt u = {0};
		/* "<s> words </s> (file-id)" */
		text = strstr(line, "<s> ");
		id = strrchr(line, '(');
		if (!text || !id || !strstr(line, " </s>"))
			continue;
		text += 4;
		*strstr(text, " </s>") = '\0';
		id++;
		id[strcspn(id, ")")] = '\0';
		snprintf(cmd, sizeof(cmd), "cp %s/%s.wav \"$TBW/tb.wav\"", HUMAN_DIR, id);
		if (audio_load(cmd, &u))
			continue;
		score_one(loop, a, &u, text, &r, verbose);
		free(u.pcm);
	}
	if (f)
		fclose(f);
	if (!r.n)
		printf("human speech: %s not found (install pocketsphinx-testdata)\n", HUMAN_DIR);
	else
		report("human (librivox)", &r);
}

static int lm_make(const char *corpus, const char *out_path)
{
	FILE *f = fopen(corpus, "rb"), *o;
	char *text;
	long len;
	size_t sentences = 0;
	struct asr_dict *d;
	int rc;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)len);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len)
		return -1;
	fclose(f);
	if (asr_dict_load(&d, ""))
		return -1;
	o = fopen(out_path, "w");
	rc = o ? asr_lm_build(text, (size_t)len, asr_dict_has, d, o, &sentences) : -1;
	if (o)
		fclose(o);
	asr_dict_free(d);
	free(text);
	printf("domain model: %zu sentences from %s -> %s (rc %d)\n", sentences, corpus, out_path,
	       rc);
	return rc;
}

/* Test sentences that are also a line of the corpus (should be none). */
static void overlap(const char *corpus)
{
	FILE *c = fopen(corpus, "r"), *t = fopen("bench/speech/support_calls.txt", "r");
	char tl[512], cl[512];
	int n = 0;

	while (c && t && fgets(tl, sizeof(tl), t)) {
		rewind(c);
		while (fgets(cl, sizeof(cl), c)) {
			if (!strcmp(cl, tl)) {
				n++;
				break;
			}
		}
	}
	if (c)
		fclose(c);
	if (t)
		fclose(t);
	printf("test sentences also in the corpus: %d\n", n);
}

/* ---- capacity: whole calls through the server's cut and the decoder pool ---- */
/* A stereo call of the support sentences: customer (flite rms) and agent
 * (flite awb) take turns, 0.7 s apart; returns its length in ms. */
static uint32_t call_make(const char *path, int sentences)
{
	FILE *f = fopen("bench/speech/support_calls.txt", "r");
	char line[512], cmd[2048];
	int i = 0;

	if (system("rm -f \"$TBW/tb_l.raw\" \"$TBW/tb_r.raw\""))
		return 0;
	while (f && i < sentences && fgets(line, sizeof(line), f)) {
		struct utt u = {0};
		bool customer = !(i++ & 1);
		FILE *l, *r;
		line[strcspn(line, "\n")] = '\0';
		snprintf(cmd, sizeof(cmd), "flite -voice %s -t \"%s\" -o \"$TBW/tb.wav\"",
			 customer ? "rms" : "awb", line);
		if (audio_load(cmd, &u))
			break;
		l = fopen(wpath("tb_l.raw"), "ab"), r = fopen(wpath("tb_r.raw"), "ab");
		for (size_t k = 0; k < u.n + 5600; k++) { /* the other side is silent */
			int16_t v = k < u.n ? u.pcm[k] : 0, z = 0;
			fwrite(customer ? &v : &z, 2, 1, l);
			fwrite(customer ? &z : &v, 2, 1, r);
		}
		fclose(l);
		fclose(r);
		free(u.pcm);
	}
	if (f)
		fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "sox -M -r 8000 -e signed-integer -b 16 -c 1 -t raw \"$TBW/tb_l.raw\" -r 8000 -e "
		 "signed-integer -b 16 -c 1 -t raw \"$TBW/tb_r.raw\" -b 16 %s",
		 path);
	return system(cmd) ? 0 : 1;
}

struct cap_seg {
	int done;
	struct asr_text t;
};

static void cap_done(int err, const struct asr_text *t, void *arg)
{
	struct cap_seg *s = arg;

	s->done = 1;
	if (t)
		s->t = *t;
	(void)err;
}

static int capacity(int calls, int decoders, const char *lm)
{
	struct asr_cfg cfg = {.decoders = decoders,
			      .free_speech = true,
			      .own_threads = true,
			      .queue_max = 10000,
			      .domain_weight = 0.4};
	struct tr_audio au = {0};
	char err[200];
	uv_loop_t loop;
	struct asr *a;
	struct cap_seg *segs;
	uint64_t t0, cpu = 0;
	double call_s, wall_s;

	if (!call_make(wpath("tb_call.wav"), 24))
		return 1;
	str_copy(au.path, wpath("tb_call.wav"), sizeof(au.path));
	tr_audio_load(&au);
	if (au.err)
		return 1;
	call_s = (double)au.n / 8000.0;
	str_copy(cfg.domain_lm, lm, sizeof(cfg.domain_lm));
	uv_loop_init(&loop);
	if (asr_alloc(&a, &loop, &cfg, err, sizeof(err)))
		return 1;
	/* Warm: one utterance per decoder, each loads its model (own threads
	 * keep the loop alive: run it until they are back, not until idle). */
	segs = calloc((size_t)decoders, sizeof(*segs));
	for (int i = 0; i < decoders && au.n_segs; i++)
		asr_transcribe(a, au.ch[au.segs[0].ch] + au.segs[0].s0,
			       au.segs[0].s1 - au.segs[0].s0, cap_done, &segs[i]);
	for (int i = 0; i < decoders && au.n_segs; i++)
		while (!segs[i].done && uv_run(&loop, UV_RUN_ONCE))
			;
	free(segs);
	segs = calloc(au.n_segs * (size_t)calls, sizeof(*segs));
	t0 = uv_hrtime();
	for (int c = 0; c < calls; c++) {
		for (size_t i = 0; i < au.n_segs; i++) {
			const struct tr_seg *s = &au.segs[i];
			asr_transcribe(a, au.ch[s->ch] + s->s0, s->s1 - s->s0, cap_done,
				       &segs[(size_t)c * au.n_segs + i]);
		}
	}
	for (size_t i = 0; i < au.n_segs * (size_t)calls; i++) {
		while (!segs[i].done && uv_run(&loop, UV_RUN_ONCE))
			;
		cpu += segs[i].t.cpu_us;
	}
	wall_s = (double)(uv_hrtime() - t0) / 1e9;
	printf("capacity: %d calls of %.1f s (%zu utterances each), %d decoder(s) at SCHED_IDLE: "
	       "wall %.1f s, CPU %.1f s -> %.0f call-minutes per hour (%.0f per CPU-hour)\n",
	       calls, call_s, au.n_segs, decoders, wall_s, (double)cpu / 1e6,
	       calls * call_s / 60.0 / (wall_s / 3600.0),
	       calls * call_s / 60.0 / ((double)cpu / 1e6 / 3600.0));
	asr_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	free(segs);
	free(au.ch[0]);
	free(au.ch[1]);
	free(au.segs);
	return 0;
}

static int run(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "capacity")) {
		int calls = argc > 2 ? atoi(argv[2]) : 4, dec = argc > 3 ? atoi(argv[3]) : 1;
		if (lm_make("share/transcripts/contact_center_corpus.txt",
			    wpath("transcript_bench.arpa")))
			return 1;
		return capacity(calls, dec, wpath("transcript_bench.arpa"));
	}
	double weight = argc > 1 ? atof(argv[1]) : 0.4;
	const char *corpus = argc > 2 ? argv[2] : "share/transcripts/contact_center_corpus.txt";
	bool verbose = getenv("TB_VERBOSE") != NULL;
	struct asr_cfg cfg = {.decoders = 1, .free_speech = true, .queue_max = 64};
	char err[256] = "";
	uv_loop_t loop;
	struct asr *a;
	struct set_result synth = {0};
	double rss0 = rss_mib();

	if (weight > 0) {
		if (lm_make(corpus, wpath("transcript_bench.arpa")))
			return 1;
		str_copy(cfg.domain_lm, wpath("transcript_bench.arpa"), sizeof(cfg.domain_lm));
		cfg.domain_weight = weight;
		overlap(corpus);
	}
	printf("model: general en-us%s (domain weight %.2f)\n", weight > 0 ? " + domain" : " alone",
	       weight);
	uv_loop_init(&loop);
	if (asr_alloc(&a, &loop, &cfg, err, sizeof(err))) {
		fprintf(stderr, "asr_alloc: %s\n", err);
		return 1;
	}
	asr_warm(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	printf("memory: %.1f MiB for one loaded decoder (RSS %.1f -> %.1f MiB)\n", rss_mib() - rss0,
	       rss0, rss_mib());
	if (getenv("TB_HUMAN")) /* the human speech only */
		goto human;
	if (getenv("TB_CMD")) { /* one voice: a command writing "$TBW/tb.wav" */
		synthetic(&loop, a, getenv("TB_CMD"), getenv("TB_CMD"), verbose, &synth);
		goto out;
	}
	synthetic(&loop, a, "flite slt", "flite -voice slt -t \"%s\" -o \"$TBW/tb.wav\"", verbose,
		  &synth);
	synthetic(&loop, a, "flite rms", "flite -voice rms -t \"%s\" -o \"$TBW/tb.wav\"", verbose,
		  &synth);
	synthetic(&loop, a, "flite awb", "flite -voice awb -t \"%s\" -o \"$TBW/tb.wav\"", verbose,
		  &synth);
	synthetic(&loop, a, "espeak-ng en-us", "espeak-ng -v en-us -w \"$TBW/tb.wav\" \"%s\"",
		  verbose, &synth);
	report("synthetic (all)", &synth);
human:
	if (!getenv("TB_SENTENCES"))
		human(&loop, a, verbose);
out:
	printf("memory after: RSS %.1f MiB\n", rss_mib());
	asr_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (work_dir_make())
		return 1;
	rc = run(argc, argv);
	work_dir_remove();
	return rc;
}
