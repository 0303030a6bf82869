/*
 * g711.c — G.711 µ-law/A-law (ITU-T G.711) through spandsp's inline
 * codecs, PCMU<->PCMA byte transcoding, and the built-in audio: the hold
 * tune and the beep, synthesised in C once at start-up.
 *
 * DESIGN
 * - Our entry points are media_g711_*: spandsp exports g711_decode and
 *   g711_encode with other signatures, and a same-named definition in the
 *   executable could interpose on the library's own calls.
 * - Decoding and transcoding map bytes through 256-entry tables built on
 *   first use (loop thread; media_alloc builds them before any worker
 *   could call in), so a transcoded or recorded packet costs one lookup a
 *   byte. Encoding uses spandsp's inline bit arithmetic.
 * - Hold music: a slow arpeggio (I-vi-IV-V in C, four notes a chord, one
 *   every 0.5 s, 8 s loop) of soft sines with a quiet octave partial and an
 *   exponential decay; tails wrap around so the loop is seamless. It is
 *   normalised to -18 dBFS RMS. The beep is 0.2 s of 1 kHz at -12 dBFS
 *   peak with 5 ms ramps.
 */
#define LOG_MODULE "media"
#include <spandsp.h>

#include "media/media_int.h"

#include <math.h>
#include <string.h>

static uint8_t tab_u2a[256], tab_a2u[256];
static int16_t tab_u2l[256], tab_a2l[256];
static bool tab_ready;

/* Loop thread, first use (media_alloc calls it, before any worker runs). */
static void g711_tables_init(void)
{
	for (int i = 0; i < 256; i++) {
		tab_u2l[i] = ulaw_to_linear((uint8_t)i);
		tab_a2l[i] = alaw_to_linear((uint8_t)i);
		tab_u2a[i] = linear_to_alaw(tab_u2l[i]);
		tab_a2u[i] = linear_to_ulaw(tab_a2l[i]);
	}
	tab_ready = true;
}

/* Decoding is a table lookup (the recorder decodes every packet). */
void media_g711_decode(enum media_codec c, const uint8_t *in, int16_t *out, size_t n)
{
	const int16_t *t;

	if (!tab_ready)
		g711_tables_init();
	t = c == MEDIA_PCMA ? tab_a2l : tab_u2l;
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}

void media_g711_encode(enum media_codec c, const int16_t *in, uint8_t *out, size_t n)
{
	size_t i;

	if (c == MEDIA_PCMA)
		for (i = 0; i < n; i++)
			out[i] = linear_to_alaw(in[i]);
	else
		for (i = 0; i < n; i++)
			out[i] = linear_to_ulaw(in[i]);
}

void g711_transcode_buf(enum media_codec from, enum media_codec to, const uint8_t *in, uint8_t *out,
			size_t n)
{
	const uint8_t *t;

	if (!tab_ready)
		g711_tables_init();
	if (from == to) {
		memmove(out, in, n);
		return;
	}
	t = from == MEDIA_PCMU ? tab_u2a : tab_a2u;
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}

/* ---- built-in audio ---- */
#define HOLD_SECONDS 8
#define HOLD_LEN     (MEDIA_RATE * HOLD_SECONDS)
#define BEEP_LEN     (MEDIA_RATE / 5)
#define NOTE_LEN     (MEDIA_RATE / 2)

static int16_t hold_pcm[HOLD_LEN], beep_pcm[BEEP_LEN];
static bool audio_ready;

/* Adds one decaying note at `start` (wrapping) into acc. */
static void hold_note_add(float *acc, size_t start, double hz)
{
	const size_t ring = 3 * MEDIA_RATE / 2; /* 1.5 s of tail */

	for (size_t i = 0; i < ring; i++) {
		double t = (double)i / MEDIA_RATE;
		double env = (1 - exp(-t / 0.015)) * exp(-t / 0.45);
		double s = sin(2 * M_PI * hz * t) + 0.18 * sin(4 * M_PI * hz * t);

		acc[(start + i) % HOLD_LEN] += (float)(env * s);
	}
}

static void hold_normalise(const float *acc)
{
	double sum = 0, gain, peak = 0;

	for (size_t i = 0; i < HOLD_LEN; i++) {
		sum += (double)acc[i] * acc[i];
		peak = fmax(peak, fabs(acc[i]));
	}
	gain = 32767.0 * pow(10, -18.0 / 20) / sqrt(sum / HOLD_LEN);
	if (peak * gain > 30000)
		gain = 30000 / peak; /* never clip */
	for (size_t i = 0; i < HOLD_LEN; i++)
		hold_pcm[i] = (int16_t)lrint(acc[i] * gain);
}

static void hold_generate(void)
{
	/* C  E  G  C' | A  C  E  A | F  A  C  F | G  B  D  G  (Hz, 4th-6th octave) */
	static const double notes[16] = {523.25, 659.25, 783.99, 1046.50, 440.00, 523.25,
					 659.25, 880.00, 349.23, 440.00,  523.25, 698.46,
					 392.00, 493.88, 587.33, 783.99};
	static float acc[HOLD_LEN];

	memset(acc, 0, sizeof(acc));
	for (size_t k = 0; k < 16; k++)
		hold_note_add(acc, k * NOTE_LEN, notes[k]);
	hold_normalise(acc);
}

static void beep_generate(void)
{
	const double amp = 32767.0 * pow(10, -12.0 / 20);
	const size_t ramp = MEDIA_RATE / 200;

	for (size_t i = 0; i < BEEP_LEN; i++) {
		double g = 1;

		if (i < ramp)
			g = (double)i / ramp;
		else if (i >= BEEP_LEN - ramp)
			g = (double)(BEEP_LEN - 1 - i) / ramp;
		beep_pcm[i] = (int16_t)lrint(amp * g * sin(2 * M_PI * 1000.0 * i / MEDIA_RATE));
	}
}

/* Loop thread (media_alloc calls it once; the getters too, for callers
 * that ask before any engine exists). */
void media_audio_init(void)
{
	if (!tab_ready)
		g711_tables_init();
	if (audio_ready)
		return;
	hold_generate();
	beep_generate();
	audio_ready = true;
}

/* True when [pcm, pcm + n) lies inside built-in audio (static: no copy). */
bool media_audio_builtin(const int16_t *pcm, size_t n)
{
	uintptr_t p = (uintptr_t)pcm, e = p + n * sizeof(*pcm);

	return (p >= (uintptr_t)hold_pcm && e <= (uintptr_t)(hold_pcm + HOLD_LEN)) ||
	       (p >= (uintptr_t)beep_pcm && e <= (uintptr_t)(beep_pcm + BEEP_LEN));
}

const int16_t *media_hold_music(size_t *n)
{
	media_audio_init();
	if (n)
		*n = HOLD_LEN;
	return hold_pcm;
}

const int16_t *media_beep(size_t *n)
{
	media_audio_init();
	if (n)
		*n = BEEP_LEN;
	return beep_pcm;
}
