/*
 * test_transcript.c — the transcripts' pure parts and the free-speech
 * engine: the PII redactor on word sequences as a recogniser writes them
 * (spoken digits, numerals, homophones), the ARPA language-model builder,
 * and asr_transcribe on real speech (flite) through G.711: the words and
 * their times come back, a spoken card number is found and marked by the
 * redactor from the decoder's own words, and the engine refuses bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "asr/asr.h"
#include "media/media.h"
#include "transcript/transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits s (modified) into words; returns the count. */
static size_t split(char *s, const char **w, size_t max)
{
	size_t n = 0;

	for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
		w[n++] = t;
	return n;
}

/* The words marked, joined, or "" (e.g. "four one ... one"). */
static const char *marked(const char *text, size_t *items)
{
	static char out[1024];
	char buf[1024];
	const char *w[128];
	bool red[128];
	size_t n, o = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	n = split(buf, w, 128);
	*items = transcript_redact_mark(w, n, red);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (red[i])
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", o ? " " : "", w[i]);
	}
	return out;
}

static void a_spoken_card_number_is_marked(void **state)
{
	size_t items;

	(void)state;
	/* 4111 1111 1111 1111 is Luhn-valid */
	assert_string_equal(marked("my card number is four one one one one one one one one one "
				   "one one one one one one thanks",
				   &items),
			    "four one one one one one one one one one one one one one one one");
	assert_int_equal(items, 1);
	/* the recogniser's homophone for "four" still counts inside the run */
	assert_string_equal(marked("it is for one one one one one one one one one one one one one "
				   "one one",
				   &items),
			    "for one one one one one one one one one one one one one one one");
	/* numerals, in groups */
	assert_string_equal(marked("card 4111 1111 1111 1111 expires", &items),
			    "4111 1111 1111 1111");
	/* "oh" is zero: 5500 0000 0000 0004 */
	assert_string_equal(marked("five five oh oh oh oh oh oh oh oh oh oh oh oh oh four", &items),
			    "five five oh oh oh oh oh oh oh oh oh oh oh oh oh four");
}

static void a_card_number_that_fails_luhn_is_left(void **state)
{
	size_t items;

	(void)state;
	/* 4111 1111 1111 1112 fails the Luhn check */
	assert_string_equal(
		marked("four one one one one one one one one one one one one one one two", &items),
		"");
	assert_int_equal(items, 0);
	/* ...but after "card" a long run is taken as one the recogniser got
	 * wrong (sixteen spoken digits decoded as thirteen fail Luhn) */
	assert_string_equal(marked("my card number is four one one one one one one one one one one "
				   "one one and",
				   &items),
			    "four one one one one one one one one one one one one");
	assert_int_equal(items, 1);
	assert_string_equal(marked("my card is five five oh oh seven", &items), "");
	/* the whole run counts: a valid 16 inside a run of 17 is not a card
	 * (a 13-digit tail of the one above passes Luhn by chance) */
	assert_string_equal(
		marked("nine four one one one one one one one one one one one one one one "
		       "one",
		       &items),
		"");
}

static void a_security_code_after_its_words_is_marked(void **state)
{
	size_t items;

	(void)state;
	assert_string_equal(marked("and the security code is one two three", &items),
			    "one two three");
	assert_int_equal(items, 1);
	assert_string_equal(marked("the cvv is nine eight seven six", &items),
			    "nine eight seven six");
	assert_string_equal(marked("c v v four four two", &items), "four four two");
	/* three digits without the words are an ordinary number */
	assert_string_equal(marked("i have one two three items", &items), "");
	assert_int_equal(items, 0);
}

static void national_id_like_numbers_are_marked(void **state)
{
	size_t items;

	(void)state;
	assert_string_equal(marked("my social security number is one two three four five six seven "
				   "eight nine",
				   &items),
			    "one two three four five six seven eight nine");
	/* nine digits alone have the shape of one */
	assert_string_equal(marked("it is 123456789 ok", &items), "123456789");
	/* after "social security", fewer digits too (the last four) */
	assert_string_equal(
		marked("the last four of my social security are six seven eight nine", &items),
		"six seven eight nine");
}

static void ordinary_speech_is_left_alone(void **state)
{
	size_t items;

	(void)state;
	assert_string_equal(marked("i want to talk to an agent for my order", &items), "");
	assert_string_equal(marked("my order number is four five two eight one", &items), "");
	assert_string_equal(marked("one moment please", &items), "");
	assert_string_equal(marked("", &items), "");
	assert_int_equal(items, 0);
	assert_int_equal(transcript_digit("seven"), 7);
	assert_int_equal(transcript_digit("oh"), 0);
	assert_int_equal(transcript_digit("3"), 3);
	assert_int_equal(transcript_digit("for"), -1);
}

/* ---- the language-model builder ---- */
static bool no_xyzzy(const char *w, void *arg)
{
	(void)arg;
	return strcmp(w, "xyzzy") != 0;
}

static char *lm_of(const char *text, int *rc, size_t *sentences)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = asr_lm_build(text, strlen(text), no_xyzzy, NULL, f, sentences);
	fclose(f);
	return buf;
}

static void the_lm_builder_writes_a_backoff_trigram_model(void **state)
{
	size_t sentences;
	int rc;
	char *arpa = lm_of("# a comment line is skipped\nThank you for calling.\n"
			   "thank you for waiting! how can i help you?\ni can help you\n",
			   &rc, &sentences);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(sentences, 4);
	/* 9 words + <s> + </s>; no word of the comment */
	assert_non_null(strstr(arpa, "\\data\\\nngram 1=11\n"));
	assert_null(strstr(arpa, " comment "));
	assert_non_null(strstr(arpa, " thank you for\n"));
	assert_non_null(strstr(arpa, " <s> thank "));
	assert_non_null(strstr(arpa, "\\end\\"));
	free(arpa);
}

static void an_unknown_word_ends_its_sentence(void **state)
{
	size_t sentences;
	int rc;
	char *arpa = lm_of("call xyzzy now please\n", &rc, &sentences);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(sentences, 2); /* "call" and "now please" */
	assert_null(strstr(arpa, "xyzzy"));
	assert_null(strstr(arpa, "call now"));
	assert_non_null(strstr(arpa, " now please "));
	free(arpa);
	arpa = lm_of("# nothing\n\n...\n", &rc, &sentences);
	assert_int_equal(rc, -ENODATA);
	free(arpa);
}

/* ---- free speech on the real engine ---- */
struct got {
	int done, err;
	struct asr_text t;
};

static void on_text(int err, const struct asr_text *t, void *arg)
{
	struct got *g = arg;

	g->done = 1;
	g->err = err;
	if (t)
		g->t = *t;
}

static int16_t *flite(const char *text, size_t *n)
{
	char cmd[600];
	FILE *f;
	long len;
	int16_t *pcm;
	uint8_t *mu;

	snprintf(cmd, sizeof(cmd),
		 "flite -voice rms -t \"%s\" -o /tmp/test_transcript.wav && sox "
		 "/tmp/test_transcript.wav -r 8000 -c 1 -b 16 -e signed-integer -t raw "
		 "/tmp/test_transcript.raw pad 0.3 0.3",
		 text);
	assert_int_equal(system(cmd), 0);
	f = fopen("/tmp/test_transcript.raw", "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*n = (size_t)len / 2;
	pcm = malloc((size_t)len);
	mu = malloc(*n);
	assert_int_equal(fread(pcm, 2, *n, f), *n);
	fclose(f);
	media_g711_encode(MEDIA_PCMU, pcm, mu, *n);
	media_g711_decode(MEDIA_PCMU, mu, pcm, *n);
	free(mu);
	return pcm;
}

static void decode(struct asr *a, uv_loop_t *loop, const int16_t *pcm, size_t n, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(asr_transcribe(a, pcm, n, on_text, g), 0);
	while (!g->done && uv_run(loop, UV_RUN_ONCE))
		;
	assert_int_equal(g->err, 0);
}

/* Says text (flite rms, G.711), decodes it, and checks that the redactor
 * marks one item: the decoder's last word (a digit) but not `kept`. */
static void spoken_marked(struct asr *a, uv_loop_t *loop, const char *text, const char *kept)
{
	const char *w[ASR_WORDS_MAX];
	bool red[ASR_WORDS_MAX];
	char heard[1024] = "";
	size_t n, o = 0, k = ASR_WORDS_MAX;
	int16_t *pcm = flite(text, &n);
	struct got g;

	decode(a, loop, pcm, n, &g);
	for (size_t i = 0; i < g.t.n_words; i++) {
		w[i] = g.t.words[i].w;
		o += (size_t)snprintf(heard + o, sizeof(heard) - o, "%s%s", i ? " " : "", w[i]);
		if (!strcmp(w[i], kept))
			k = i;
	}
	print_message("heard: %s\n", heard);
	assert_true(g.t.n_words > 0 && k < g.t.n_words);
	assert_int_equal(transcript_redact_mark(w, g.t.n_words, red), 1);
	assert_true(red[g.t.n_words - 1]);
	assert_false(red[k]);
	free(pcm);
}

static void free_speech_gives_words_with_times_and_spoken_digits_redact(void **state)
{
	struct asr_cfg cfg = {.decoders = 1, .free_speech = true, .own_threads = true};
	char err[200] = "", words[1024] = "";
	const char *w[ASR_WORDS_MAX];
	bool red[ASR_WORDS_MAX];
	uv_loop_t loop;
	struct asr *a;
	struct got g;
	size_t n, o = 0;
	int16_t *pcm = flite("my card number is four one one one one one one one one one one one "
			     "one one one one",
			     &n);

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(asr_alloc(&a, &loop, &cfg, err, sizeof(err)), 0);
	decode(a, &loop, pcm, n, &g);
	for (size_t i = 0; i < g.t.n_words; i++) {
		o += (size_t)snprintf(words + o, sizeof(words) - o, "%s%s", i ? " " : "",
				      g.t.words[i].w);
		w[i] = g.t.words[i].w;
		/* times are in order and inside the audio */
		assert_true(g.t.words[i].end_ms > g.t.words[i].start_ms);
		assert_true(g.t.words[i].end_ms <= n * 1000 / 8000 + 10);
		if (i)
			assert_true(g.t.words[i].start_ms >= g.t.words[i - 1].end_ms - 10);
	}
	print_message("heard: %s (%.2f s CPU)\n", words, (double)g.t.cpu_us / 1e6);
	/* the general model alone on a clear voice: the digits must come out */
	assert_non_null(
		strstr(words, "one one one one one one one one one one one one one one one"));
	assert_int_equal(transcript_redact_mark(w, g.t.n_words, red), 1);
	assert_true(red[g.t.n_words - 1]);
	assert_false(red[0]);
	/* bad input is refused at once */
	assert_int_equal(asr_transcribe(a, pcm, 0, on_text, &g), -EINVAL);
	assert_int_equal(asr_transcribe(a, pcm, (size_t)8000 * (ASR_TEXT_SECONDS + 1), on_text, &g),
			 -EINVAL);
	free(pcm);
	/* a spoken security code and a spoken social security number: the
	 * digits the decoder heard after their words are marked, not the
	 * words before them */
	spoken_marked(a, &loop, "and the security code is seven three one", "security");
	spoken_marked(a, &loop,
		      "my social security number is one two three four five six seven "
		      "eight nine",
		      "social");
	asr_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void a_recogniser_without_free_speech_refuses_it(void **state)
{
	struct asr_cfg cfg = {.decoders = 1};
	char err[200] = "";
	uv_loop_t loop;
	struct asr *a;
	int16_t pcm[160] = {0};

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(asr_alloc(&a, &loop, &cfg, err, sizeof(err)), 0);
	assert_int_equal(asr_transcribe(a, pcm, 160, on_text, NULL), -EINVAL);
	asr_free(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	/* a domain model that is not there is a configuration error */
	cfg.free_speech = true;
	snprintf(cfg.domain_lm, sizeof(cfg.domain_lm), "/nonexistent/domain.arpa");
	uv_loop_init(&loop);
	assert_int_equal(asr_alloc(&a, &loop, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/domain.arpa"));
	uv_loop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_spoken_card_number_is_marked),
		cmocka_unit_test(a_card_number_that_fails_luhn_is_left),
		cmocka_unit_test(a_security_code_after_its_words_is_marked),
		cmocka_unit_test(national_id_like_numbers_are_marked),
		cmocka_unit_test(ordinary_speech_is_left_alone),
		cmocka_unit_test(the_lm_builder_writes_a_backoff_trigram_model),
		cmocka_unit_test(an_unknown_word_ends_its_sentence),
		cmocka_unit_test(free_speech_gives_words_with_times_and_spoken_digits_redact),
		cmocka_unit_test(a_recogniser_without_free_speech_refuses_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
