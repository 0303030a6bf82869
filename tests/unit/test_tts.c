/*
 * test_tts.c — espeak-ng text-to-speech through the real library: a prompt
 * renders to 8 kHz speech of a plausible length and loudness; the same
 * (voice, text) is rendered once (joined while rendering, a cache hit after);
 * an unknown voice fails cleanly; the budget evicts; freeing cancels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tts/tts.h"

#include <math.h>
#include <string.h>

struct got {
	int calls, err;
	size_t n;
	double rms;
};

static void on_done(int err, const int16_t *pcm, size_t n, void *arg)
{
	struct got *g = arg;
	double sum = 0;

	g->calls++;
	g->err = err;
	g->n = n;
	for (size_t i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];
	g->rms = n ? sqrt(sum / (double)n) : 0;
}

static void a_prompt_renders_once_then_comes_from_the_cache(void **state)
{
	uv_loop_t loop;
	struct tts *t;
	struct got a = {0}, b = {0}, c = {0}, d = {0};
	struct tts_stats st;
	const char *text = "Thank you for calling. Please hold.";

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(tts_alloc(&t, &loop, "en-us", 8 << 20), 0);
	assert_int_equal(tts_render(t, text, NULL, on_done, &a), 0);
	assert_int_equal(tts_render(t, text, "en-us", on_done, &b), 0); /* joins */
	assert_int_equal(a.calls + b.calls, 0); /* never inside tts_render */
	while (a.calls + b.calls < 2 && uv_run(&loop, UV_RUN_ONCE))
		;
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0);
	assert_int_equal(a.n, b.n);
	/* ~2 s of speech at 8 kHz, clearly not silence */
	assert_true(a.n > 8000 && a.n < 8000 * 6);
	assert_true(a.rms > 300);
	assert_int_equal(tts_render(t, text, NULL, on_done, &c), 0);
	assert_int_equal(c.calls, 0);
	while (!c.calls && uv_run(&loop, UV_RUN_ONCE))
		;
	assert_int_equal(c.n, a.n);
	tts_stats(t, &st);
	assert_int_equal(st.renders, 1);
	assert_int_equal(st.waits, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.cached_bytes, a.n * 2);
	/* an unknown voice fails through done, and is not cached */
	assert_int_equal(tts_render(t, text, "xx-nowhere", on_done, &d), 0);
	while (!d.calls && uv_run(&loop, UV_RUN_ONCE))
		;
	assert_int_equal(d.err, -ENOENT);
	tts_stats(t, &st);
	assert_int_equal(st.entries, 1);
	/* bad arguments are refused at once */
	assert_int_equal(tts_render(t, "", NULL, on_done, &d), -EINVAL);
	assert_int_equal(tts_render(t, "hi", "Bad Voice", on_done, &d), -EINVAL);
	tts_free(t);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void a_full_budget_evicts_after_delivery(void **state)
{
	uv_loop_t loop;
	struct tts *t;
	struct got g[4] = {{0}};
	struct tts_stats st;
	const char *texts[4] = {"One.", "Two.", "One.", "Two."};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	/* no room at all: a render is delivered, then evicted */
	assert_int_equal(tts_alloc(&t, &loop, "en-us", 1), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tts_render(t, texts[i], NULL, on_done, &g[i]), 0);
		while (!g[i].calls && uv_run(&loop, UV_RUN_ONCE))
			;
		assert_int_equal(g[i].err, 0);
		assert_true(g[i].n > 1000);
		tts_stats(t, &st);
		assert_int_equal(st.entries, 0);
		assert_int_equal(st.cached_bytes, 0);
	}
	tts_stats(t, &st);
	assert_int_equal(st.renders, 4); /* evicted, so rendered again */
	assert_int_equal(st.hits, 0);
	tts_free(t);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void freeing_cancels_what_is_pending(void **state)
{
	uv_loop_t loop;
	struct tts *t;
	struct got a = {0}, b = {0};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(tts_alloc(&t, &loop, "en-us", 1 << 20), 0);
	assert_int_equal(tts_render(t, "The first prompt.", NULL, on_done, &a), 0);
	assert_int_equal(tts_render(t, "The second prompt.", NULL, on_done, &b), 0);
	tts_free(t); /* the first is on the pool; the second is queued */
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.err, -ECANCELED);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.err, -ECANCELED);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_prompt_renders_once_then_comes_from_the_cache),
		cmocka_unit_test(a_full_budget_evicts_after_delivery),
		cmocka_unit_test(freeing_cancels_what_is_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
