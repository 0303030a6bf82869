/*
 * mixer_bench.c — the N-party mixer (src/media/mixer.c) on its own: the cost
 * of one 20 ms tick (every participant's mixer_put, every participant's
 * mixer_get, mixer_tick) per participant, for a few call shapes, beside a
 * naive per-listener sum (N^2 frame passes) as the reference.
 *
 * Build (release flags, from the repository root):
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -g -Isrc -o build/mixer_bench bench/mixer_bench.c \
 *       src/media/mixer.c src/core/util.c $(pkg-config --cflags --libs libuv libsodium) -lm
 * Run:
 *   build/mixer_bench [ticks=100000] [reps=5]
 *
 * Each participant talks a different sine (so nothing is constant-folded);
 * the outputs are folded into a checksum that is printed. Time is the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), the best of `reps` runs of
 * `ticks` ticks each, so that a shared machine inflates it less. One core,
 * no I/O, no allocation per tick.
 */
#include "media/media.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum shape { ALL_TALK, LISTEN, WHISPER, SPARSE };

static const char *shape_name[] = {"all talk", "1 on listen", "1 whispers to slot 1",
				   "each hears 3 (direct path)"};

static int16_t in[MIXER_MAX][MEDIA_FRAME];
static int16_t out[MEDIA_FRAME];
static uint64_t sink;

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fold(void)
{
	sink = sink * 31 + (uint16_t)out[7] + (uint16_t)out[MEDIA_FRAME - 1];
}

static void setup(struct mixer *m, int n, enum shape sh)
{
	int slot;

	for (int p = 0; p < n; p++)
		if (mixer_add(m, 1000 + p, &slot))
			abort();
	if (sh == LISTEN)
		mixer_set_mode(m, n - 1, MIXER_LISTEN, -1);
	if (sh == WHISPER)
		mixer_set_mode(m, n - 1, MIXER_WHISPER, 1);
	if (sh == SPARSE)
		for (int p = 0; p < n; p++)
			mixer_set_hears(m, p,
					MIXER_BIT((p + 1) % n) | MIXER_BIT((p + 2) % n) |
						MIXER_BIT((p + 3) % n));
}

/* ns per tick through the mixer */
static double run_mixer(int n, enum shape sh, long ticks)
{
	struct mixer *m;
	double t0;

	if (mixer_alloc(&m, 1))
		abort();
	setup(m, n, sh);
	t0 = cpu_ns();
	for (long t = 0; t < ticks; t++) {
		for (int p = 0; p < n; p++)
			mixer_put(m, p, in[(p + t) % MIXER_MAX], MEDIA_FRAME);
		for (int p = 0; p < n; p++) {
			mixer_get(m, p, out);
			fold();
		}
		mixer_tick(m);
	}
	t0 = cpu_ns() - t0;
	mem_deref(m);
	return t0 / ticks;
}

/* The reference: every listener sums every other talker (all talk). */
static double run_naive(int n, long ticks)
{
	static int16_t frame[MIXER_MAX][MEDIA_FRAME];
	double t0 = cpu_ns();

	for (long t = 0; t < ticks; t++) {
		for (int p = 0; p < n; p++)
			memcpy(frame[p], in[(p + t) % MIXER_MAX], sizeof(frame[p]));
		for (int l = 0; l < n; l++) {
			int32_t acc[MEDIA_FRAME] = {0};

			for (int p = 0; p < n; p++)
				if (p != l)
					for (int i = 0; i < MEDIA_FRAME; i++)
						acc[i] += frame[p][i];
			for (int i = 0; i < MEDIA_FRAME; i++)
				out[i] = (int16_t)(acc[i] > 32767    ? 32767
						   : acc[i] < -32768 ? -32768
								     : acc[i]);
			fold();
		}
	}
	return (cpu_ns() - t0) / ticks;
}

int main(int argc, char **argv)
{
	static const int sizes[] = {2, 3, 4, 8, 16};
	long ticks = argc > 1 ? atol(argv[1]) : 100000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;

	log_level_set(LOG_WARN);
	for (int p = 0; p < MIXER_MAX; p++)
		for (int i = 0; i < MEDIA_FRAME; i++)
			in[p][i] = (int16_t)(8000 * sin(2 * M_PI * (150 + 71 * p) * i / 8000.0));
	printf("%-28s %3s %12s %16s\n", "shape", "N", "ns/tick", "ns/participant");
	for (int sh = ALL_TALK; sh <= SPARSE; sh++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			int n = sizes[k];
			double ns;

			if ((sh == LISTEN || sh == WHISPER) && n < 3)
				continue;
			if (sh == SPARSE && n < 8)
				continue;
			ns = run_mixer(n, sh, ticks);
			for (int r = 1; r < reps; r++)
				ns = fmin(ns, run_mixer(n, sh, ticks));
			printf("%-28s %3d %12.0f %16.1f\n", shape_name[sh], n, ns, ns / n);
		}
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int n = sizes[k];
		double ns = run_naive(n, ticks);

		for (int r = 1; r < reps; r++)
			ns = fmin(ns, run_naive(n, ticks));

		printf("%-28s %3d %12.0f %16.1f\n", "naive N^2 sum (reference)", n, ns, ns / n);
	}
	printf("checksum %llx\n", (unsigned long long)sink);
	return 0;
}
