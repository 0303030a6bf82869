/*
 * wav.c — prompts and hold music from files: read once at start-up with
 * libsndfile into 8 kHz mono samples that mleg_play sends as they are.
 *
 * DESIGN
 * - Any rate libsndfile reads from 4 to 192 kHz is resampled once, at load,
 *   to 8 kHz with speexdsp (quality 8), so an administrator may drop in a
 *   prompt or music recorded at 16, 44.1 or 48 kHz (issue 4); a line in the
 *   log says the file was converted. Playback then costs nothing more.
 * - Channels are averaged, so a stereo file plays as its mono mix.
 * - At most 10 minutes (of 8 kHz output) are loaded.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <sndfile.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>

#define WAV_MAX_SECONDS (10 * 60)
#define WAV_RATE_MIN	4000
#define WAV_RATE_MAX	192000

/* Resamples n mono samples at `rate` to 8 kHz; *outp malloc'd. The
 * filter's delay is skipped at the start and flushed with zeros at the end,
 * so the output is as long as the input (n * 8000 / rate). */
static int wav_resample(const int16_t *in, size_t n, int rate, int16_t **outp, size_t *outn)
{
	size_t want = (size_t)((uint64_t)n * MEDIA_RATE / (uint64_t)rate);
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)want + 1, pad_len, tail;
	int16_t *out = malloc((want + 1) * sizeof(*out)), *zeros = NULL;
	int rc = 0;
	SpeexResamplerState *rs =
		out ? speex_resampler_init(1, (spx_uint32_t)rate, MEDIA_RATE, 8, &rc) : NULL;

	if (rs)
		zeros = calloc(speex_resampler_get_input_latency(rs) + 1, sizeof(*zeros));
	if (!rs || !zeros) {
		if (rs)
			speex_resampler_destroy(rs);
		free(out);
		return -ENOMEM;
	}
	speex_resampler_skip_zeros(rs);
	speex_resampler_process_int(rs, 0, in, &in_len, out, &out_len);
	pad_len = speex_resampler_get_input_latency(rs);
	tail = (spx_uint32_t)(want + 1 - out_len);
	speex_resampler_process_int(rs, 0, zeros, &pad_len, out + out_len, &tail);
	out_len += tail;
	speex_resampler_destroy(rs);
	free(zeros);
	if (!out_len) {
		free(out);
		return -EINVAL;
	}
	*outp = out;
	*outn = out_len < want ? out_len : want;
	return 0;
}

int media_wav_load(const char *path, int16_t **pcm, size_t *n, char *err, size_t errsz)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	int16_t *frames = NULL, *out = NULL;
	sf_count_t got;

	if (!sf) {
		snprintf(err, errsz, "%s: %s", path, sf_strerror(NULL));
		return -ENOENT;
	}
	if (info.samplerate < WAV_RATE_MIN || info.samplerate > WAV_RATE_MAX || info.channels < 1 ||
	    info.frames <= 0 || info.frames > (sf_count_t)WAV_MAX_SECONDS * info.samplerate) {
		if (info.samplerate < WAV_RATE_MIN || info.samplerate > WAV_RATE_MAX)
			snprintf(err, errsz, "%s: %d Hz; prompts may be 4000 to 192000 Hz", path,
				 info.samplerate);
		else
			snprintf(err, errsz, "%s: %.1f s; 1 sample to 10 minutes are accepted",
				 path, (double)info.frames / info.samplerate);
		sf_close(sf);
		return -EINVAL;
	}
	frames = malloc((size_t)info.frames * (size_t)info.channels * sizeof(*frames));
	out = malloc((size_t)info.frames * sizeof(*out));
	if (!frames || !out) {
		free(frames);
		free(out);
		sf_close(sf);
		snprintf(err, errsz, "%s: out of memory", path);
		return -ENOMEM;
	}
	got = sf_readf_short(sf, frames, info.frames);
	sf_close(sf);
	for (sf_count_t i = 0; i < got; i++) {
		int sum = 0;
		for (int c = 0; c < info.channels; c++)
			sum += frames[i * info.channels + c];
		out[i] = (int16_t)(sum / info.channels);
	}
	free(frames);
	if (got <= 0) {
		free(out);
		snprintf(err, errsz, "%s: no audio could be read", path);
		return -EINVAL;
	}
	if (info.samplerate != MEDIA_RATE) {
		int16_t *rs = NULL;
		size_t rn = 0;
		int rc = wav_resample(out, (size_t)got, info.samplerate, &rs, &rn);
		free(out);
		if (rc) {
			snprintf(err, errsz, "%s: cannot resample %d Hz to 8000 Hz", path,
				 info.samplerate);
			return rc;
		}
		log_info("action=prompt %s resampled from %d Hz to 8000 Hz (%.1f s)", path,
			 info.samplerate, (double)rn / MEDIA_RATE);
		out = rs, got = (sf_count_t)rn;
	}
	*pcm = out;
	*n = (size_t)got;
	return 0;
}
