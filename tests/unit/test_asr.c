/*
 * test_asr.c — speech recognition through the real pocketsphinx and real
 * speech: espeak-ng says a sentence at test time, sox makes it 8 kHz, and
 * it goes through G.711 µ-law and back, as a caller's audio would. Each
 * sample phrase and two paraphrases get their intent with confidence at
 * or above ASR_CONFIDENCE_MIN; unrelated sentences do not; grammar errors
 * carry their message; bad audio is -EINVAL; a full queue is -EBUSY;
 * asr_free cancels what is pending; nothing leaks. The endpointer: START
 * and END on the right frames, a click is nothing, and each spoken
 * sentence is exactly one utterance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "asr/asr.h"
#include "media/media.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- audio: espeak-ng -> sox 8 kHz -> µ-law -> 16-bit ---- */
static char tmpdir[64];

static int16_t *speak(const char *text, size_t *n)
{
	char cmd[512], raw[96];
	FILE *f;
	long len;
	int16_t *pcm;
	uint8_t *mu;

	snprintf(raw, sizeof(raw), "%s/x.raw", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "espeak-ng -v en-us -w %s/x.wav \"%s\" && sox %s/x.wav -r 8000 -c 1 -b 16 "
		 "-e signed-integer -t raw %s",
		 tmpdir, text, tmpdir, raw);
	assert_int_equal(system(cmd), 0);
	f = fopen(raw, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*n = (size_t)len / 2;
	pcm = malloc((size_t)len);
	mu = malloc(*n);
	assert_non_null(pcm);
	assert_non_null(mu);
	assert_int_equal(fread(pcm, 2, *n, f), *n);
	fclose(f);
	media_g711_encode(MEDIA_PCMU, pcm, mu, *n);
	media_g711_decode(MEDIA_PCMU, mu, pcm, *n);
	free(mu);
	return pcm;
}

/* ---- the shared recogniser (decoders load once for the whole group) ---- */
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

struct fx {
	uv_loop_t loop;
	struct asr *a;
	struct asr_grammar *g;
	size_t live0;
};
static struct fx fx;

struct got {
	int calls, err;
	struct asr_result res;
};

static void on_done(int err, const struct asr_result *res, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->err = err;
	if (res)
		g->res = *res;
}

static int group_setup(void **state)
{
	char err[200] = "";
	struct asr_cfg cfg = {.decoders = 2};

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_asr.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	fx.live0 = mem_live();
	if (uv_loop_init(&fx.loop))
		return -1;
	if (asr_alloc(&fx.a, &fx.loop, &cfg, err, sizeof(err)))
		return -1;
	if (asr_warm(fx.a)) /* both decoders load now, on the pool */
		return -1;
	if (asr_grammar_alloc(fx.a, &fx.g, intents, 3, err, sizeof(err))) {
		fprintf(stderr, "grammar: %s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	mem_deref(fx.g);
	asr_free(fx.a);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	uv_loop_close(&fx.loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		return -1;
	return mem_live() == fx.live0 ? 0 : -1; /* no leak of asr or grammar */
}

static struct got recognise(const char *text)
{
	struct got g = {0};
	size_t n;
	int16_t *pcm = speak(text, &n);

	assert_int_equal(asr_recognize(fx.a, fx.g, pcm, n, on_done, &g), 0);
	free(pcm);		      /* copied */
	assert_int_equal(g.calls, 0); /* never inside asr_recognize */
	while (!g.calls && uv_run(&fx.loop, UV_RUN_ONCE))
		;
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.err, 0);
	print_message("  \"%s\" -> intent %d \"%s\" confidence %.2f (%.0f ms)\n", text,
		      g.res.intent, g.res.text, g.res.confidence, g.res.decode_us / 1000.0);
	return g;
}

static void every_sample_phrase_gets_its_intent(void **state)
{
	for (int i = 0; i < 3; i++) {
		for (size_t k = 0; k < intents[i].n_phrases; k++) {
			struct got g = recognise(intents[i].phrases[k]);
			assert_int_equal(g.res.intent, i);
			assert_string_equal(g.res.text, intents[i].phrases[k]);
			assert_true(g.res.confidence >= ASR_CONFIDENCE_MIN);
		}
	}
}

static void a_paraphrase_close_to_the_samples_gets_its_intent(void **state)
{
	struct got g = recognise("what's the status of my case");

	assert_int_equal(g.res.intent, 0);
	assert_true(g.res.confidence >= ASR_CONFIDENCE_MIN);
	g = recognise("i want to talk to an agent");
	assert_int_equal(g.res.intent, 1);
	assert_true(g.res.confidence >= ASR_CONFIDENCE_MIN);
}

static void an_unrelated_sentence_is_no_match(void **state)
{
	const char *texts[] = {"the weather is lovely in paris this spring",
			       "please cancel my subscription", "my cat likes to eat fish"};
	struct asr_stats st0, st;

	asr_stats(fx.a, &st0);
	for (size_t i = 0; i < 3; i++) {
		struct got g = recognise(texts[i]);
		assert_true(g.res.intent < 0 || g.res.confidence < ASR_CONFIDENCE_MIN);
		if (g.res.intent < 0)
			assert_true(g.res.confidence == 0);
	}
	asr_stats(fx.a, &st);
	assert_int_equal(st.recognitions, st0.recognitions + 3);
	assert_int_equal(st.matched, st0.matched);
	assert_int_equal(st.failed, st0.failed);
	assert_true(st.decode_us_total > st0.decode_us_total);
}

static void grammar_errors_say_what_is_wrong(void **state)
{
	static const char *const bad_p[] = {"check my xyzzy"};
	static const char *const empty_p[] = {" ?! "};
	static const char *const mixed_p[] = {"Where's my CASE?"};
	struct asr_intent_def bad[] = {{"status", bad_p, 1}};
	struct asr_intent_def empty[] = {{"status", empty_p, 1}};
	struct asr_intent_def noname[] = {{"", status_p, 3}};
	struct asr_intent_def mixed[] = {{"status", mixed_p, 1}};
	struct asr_grammar *g = NULL;
	char err[200] = "";

	assert_int_equal(asr_grammar_alloc(fx.a, &g, bad, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "intent 'status': the word 'xyzzy' is not in the dictionary");
	assert_null(g);
	assert_int_equal(asr_grammar_alloc(fx.a, &g, empty, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "phrase 1 is empty"));
	assert_int_equal(asr_grammar_alloc(fx.a, &g, noname, 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(asr_grammar_alloc(fx.a, &g, intents, 0, err, sizeof(err)), -EINVAL);
	/* punctuation and case go; the apostrophe stays (the dictionary has it) */
	assert_int_equal(asr_grammar_alloc(fx.a, &g, mixed, 1, err, sizeof(err)), 0);
	mem_deref(g);
}

static void bad_audio_is_refused_at_once(void **state)
{
	int16_t s[8] = {0};
	size_t big = (size_t)ASR_RATE * ASR_MAX_SECONDS + 1;
	int16_t *longer = calloc(big, sizeof(*longer));
	struct got g = {0};

	assert_int_equal(asr_recognize(fx.a, fx.g, s, 0, on_done, &g), -EINVAL);
	assert_int_equal(asr_recognize(fx.a, fx.g, longer, big, on_done, &g), -EINVAL);
	assert_int_equal(asr_recognize(fx.a, NULL, s, 8, on_done, &g), -EINVAL);
	assert_int_equal(asr_recognize(fx.a, fx.g, s, 8, NULL, &g), -EINVAL);
	assert_int_equal(g.calls, 0);
	free(longer);
}

static void silence_matches_nothing(void **state)
{
	int16_t *z = calloc(ASR_RATE, sizeof(*z)); /* 1 s of digital silence */
	struct got g = {0};

	assert_int_equal(asr_recognize(fx.a, fx.g, z, ASR_RATE, on_done, &g), 0);
	while (!g.calls && uv_run(&fx.loop, UV_RUN_ONCE))
		;
	assert_int_equal(g.err, 0);
	assert_true(g.res.intent < 0 || g.res.confidence < ASR_CONFIDENCE_MIN);
	free(z);
}

/* Grammars come and go (a flow reloads): a new one works beside the first,
 * and once released its searches are dropped from the decoders while the
 * first keeps working. */
/* Two at once, so that both decoders run g. */
static void recognise_twice(struct asr_grammar *g, const char *text, int intent)
{
	struct got got[2] = {{0}};
	size_t n;
	int16_t *pcm = speak(text, &n);

	for (int i = 0; i < 2; i++)
		assert_int_equal(asr_recognize(fx.a, g, pcm, n, on_done, &got[i]), 0);
	free(pcm);
	while ((!got[0].calls || !got[1].calls) && uv_run(&fx.loop, UV_RUN_ONCE))
		;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(got[i].err, 0);
		assert_int_equal(got[i].res.intent, intent);
		assert_true(got[i].res.confidence >= ASR_CONFIDENCE_MIN);
	}
}

static void a_second_grammar_works_and_goes_away(void **state)
{
	static const char *const yes_p[] = {"yes", "yes please", "that's right"};
	static const char *const no_p[] = {"no", "no thank you"};
	const struct asr_intent_def yn[] = {{"yes", yes_p, 3}, {"no", no_p, 2}};
	struct asr_grammar *g2;
	char err[200];

	assert_int_equal(asr_grammar_alloc(fx.a, &g2, yn, 2, err, sizeof(err)), 0);
	recognise_twice(g2, "no thank you", 1);
	recognise_twice(fx.g, "pay my bill", 2);
	mem_deref(g2); /* the decoders drop its search when next borrowed */
	recognise_twice(fx.g, "where is my case", 0);
}

/* A second recogniser with one decoder: the queue's bound and asr_free. */
static void a_full_queue_is_ebusy_and_free_cancels_the_rest(void **state)
{
	struct asr_cfg cfg = {.decoders = 1, .queue_max = 2};
	struct asr *a;
	struct asr_grammar *g;
	struct got got[4] = {{0}};
	struct asr_stats st;
	char err[200];
	size_t n;
	int16_t *pcm = speak("pay my bill", &n);

	assert_int_equal(asr_alloc(&a, &fx.loop, &cfg, err, sizeof(err)), 0);
	assert_int_equal(asr_grammar_alloc(a, &g, intents, 3, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) /* one on the pool, two waiting */
		assert_int_equal(asr_recognize(a, g, pcm, n, on_done, &got[i]), 0);
	assert_int_equal(asr_recognize(a, g, pcm, n, on_done, &got[3]), -EBUSY);
	asr_stats(a, &st);
	assert_int_equal(st.queued_max, 2);
	/* a grammar of another recogniser is refused */
	assert_int_equal(asr_recognize(fx.a, g, pcm, n, on_done, &got[3]), -EINVAL);
	mem_deref(g); /* the jobs hold it */
	asr_free(a);
	assert_int_equal(got[1].calls, 1); /* the waiting ones: now */
	assert_int_equal(got[1].err, -ECANCELED);
	assert_int_equal(got[2].err, -ECANCELED);
	assert_int_equal(got[0].calls, 0); /* the one on the pool: later */
	while (!got[0].calls && uv_run(&fx.loop, UV_RUN_ONCE))
		;
	assert_int_equal(got[0].err, -ECANCELED);
	assert_int_equal(got[3].calls, 0);
	free(pcm);
}

static void bad_configuration_is_refused(void **state)
{
	struct asr_cfg cfg = {.engine = "whisper"};
	struct asr *a = NULL;
	char err[200] = "";

	assert_int_equal(asr_alloc(&a, &fx.loop, &cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown speech engine 'whisper'");
	cfg = (struct asr_cfg){.model_dir = "/nonexistent"};
	assert_int_equal(asr_alloc(&a, &fx.loop, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no pocketsphinx model"));
	cfg = (struct asr_cfg){.decoders = -1};
	assert_int_equal(asr_alloc(&a, &fx.loop, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(a);
}

static void out_of_memory_fails_cleanly(void **state)
{
	size_t live = mem_live();

	for (unsigned i = 1; i < 6; i++) {
		struct asr *a = NULL;
		struct asr_grammar *g = NULL;
		char err[200];
		int rc;

		mem_fail_after(i);
		rc = asr_alloc(&a, &fx.loop, NULL, err, sizeof(err));
		if (!rc)
			rc = asr_grammar_alloc(a, &g, intents, 3, err, sizeof(err));
		mem_fail_after(0);
		assert_true(rc == 0 || rc == -ENOMEM);
		mem_deref(g);
		asr_free(a);
		assert_int_equal(mem_live(), live);
	}
}

/* ---- the endpointer ---- */
/* Feeds count frames; records each event and the index of its frame. */
static void frames_feed(struct asr_ep *ep, int amp, int count, int *evs, size_t *at)
{
	int16_t f[160];

	for (int k = 0; k < count; k++) {
		for (int i = 0; i < 160; i++) /* a 1 kHz tone, or low noise when amp is small */
			f[i] = (int16_t)(amp * sin(2 * M_PI * 1000 * i / 8000.0) + (i % 7) - 3);
		enum asr_ep_event ev = asr_ep_feed(ep, f, 160);
		if (ev != ASR_EP_NONE) {
			evs[(*at)++] = (int)ev;
			evs[(*at)++] = (int)ep->frames - 1;
		}
	}
}

static void endpointer_gives_start_then_end_on_the_right_frames(void **state)
{
	struct asr_ep ep;
	int evs[16];
	size_t at = 0;

	asr_ep_init(&ep, 0);
	assert_int_equal(ep.end_silence_ms, ASR_EP_END_SILENCE_MS);
	frames_feed(&ep, 0, 10, evs, &at);    /* frames 0-9: silence */
	frames_feed(&ep, 3000, 30, evs, &at); /* 10-39: speech */
	frames_feed(&ep, 0, 20, evs, &at);    /* 40-59: silence */
	assert_int_equal(at, 4);
	assert_int_equal(evs[0], ASR_EP_START);
	assert_int_equal(evs[1], 10 + ASR_EP_MIN_SPEECH_MS / 20 - 1);
	assert_int_equal(ep.start_frame, 8); /* two frames of pre-roll */
	assert_int_equal(evs[2], ASR_EP_END);
	assert_int_equal(evs[3], 40 + ASR_EP_END_SILENCE_MS / 20 - 1);
	assert_int_equal(ep.end_frame, 40);
	/* a gap shorter than end_silence_ms does not end it */
	at = 0;
	asr_ep_init(&ep, 300);
	frames_feed(&ep, 0, 5, evs, &at);
	frames_feed(&ep, 3000, 10, evs, &at);
	frames_feed(&ep, 0, 14, evs, &at); /* 280 ms */
	frames_feed(&ep, 3000, 10, evs, &at);
	frames_feed(&ep, 0, 15, evs, &at);
	assert_int_equal(at, 4);
	assert_int_equal(evs[2], ASR_EP_END);
	assert_int_equal(ep.end_frame, 39);
}

static void a_click_is_not_speech(void **state)
{
	struct asr_ep ep;
	int evs[16];
	size_t at = 0;

	asr_ep_init(&ep, 0);
	frames_feed(&ep, 0, 10, evs, &at);
	frames_feed(&ep, 20000, ASR_EP_MIN_SPEECH_MS / 20 - 1, evs, &at); /* 80 ms */
	frames_feed(&ep, 0, 30, evs, &at);
	frames_feed(&ep, 20000, 1, evs, &at);
	frames_feed(&ep, 0, 30, evs, &at);
	assert_int_equal(at, 0);
	assert_false(ep.in_speech);
}

/* Real sentences, with 0.5 s of line noise each side: one utterance each,
 * and the END comes end_silence_ms after the speech. */
static void each_spoken_sentence_is_one_utterance(void **state)
{
	const char *texts[] = {"i have a question about my bill", "what is the status of my case",
			       "the weather is lovely in paris this spring",
			       "i would like to speak to an agent"};

	for (size_t t = 0; t < 4; t++) {
		size_t n, total, starts = 0, ends = 0;
		int16_t *pcm = speak(texts[t], &n);
		int16_t *x;
		struct asr_ep ep;
		uint32_t seed = 1;

		total = n + 8000;
		x = calloc(total + 160, sizeof(*x));
		for (size_t i = 0; i < total + 160; i++) { /* ~-60 dBFS noise */
			seed = seed * 1103515245u + 12345u;
			x[i] = (int16_t)((int)((seed >> 16) % 61) - 30);
		}
		for (size_t i = 0; i < n; i++)
			x[4000 + i] += pcm[i];
		asr_ep_init(&ep, 0);
		for (size_t off = 0; off + 160 <= total; off += 160) {
			enum asr_ep_event ev = asr_ep_feed(&ep, x + off, 160);
			starts += ev == ASR_EP_START;
			ends += ev == ASR_EP_END;
		}
		print_message("  \"%s\": %zu start, %zu end, frames %zu..%zu of %zu\n", texts[t],
			      starts, ends, ep.start_frame, ep.end_frame, total / 160);
		assert_int_equal(starts, 1);
		assert_int_equal(ends, 1);
		assert_true(ep.start_frame >= 4000 / 160 - 3 && ep.start_frame <= 4000 / 160 + 5);
		assert_true(ep.end_frame <= (4000 + n) / 160 + 2);
		free(pcm);
		free(x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_sample_phrase_gets_its_intent),
		cmocka_unit_test(a_paraphrase_close_to_the_samples_gets_its_intent),
		cmocka_unit_test(an_unrelated_sentence_is_no_match),
		cmocka_unit_test(silence_matches_nothing),
		cmocka_unit_test(a_second_grammar_works_and_goes_away),
		cmocka_unit_test(grammar_errors_say_what_is_wrong),
		cmocka_unit_test(bad_audio_is_refused_at_once),
		cmocka_unit_test(a_full_queue_is_ebusy_and_free_cancels_the_rest),
		cmocka_unit_test(bad_configuration_is_refused),
		cmocka_unit_test(out_of_memory_fails_cleanly),
		cmocka_unit_test(endpointer_gives_start_then_end_on_the_right_frames),
		cmocka_unit_test(a_click_is_not_speech),
		cmocka_unit_test(each_spoken_sentence_is_one_utterance),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
