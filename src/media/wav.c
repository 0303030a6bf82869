/*
 * wav.c — prompts and hold music from files: read once at start-up with
 * libsndfile into 8 kHz mono samples that mleg_play sends as they are.
 *
 * DESIGN
 * - Only 8 kHz is accepted: resampling at load would be easy (speexdsp),
 *   but a prompt recorded at another rate is better converted once by the
 *   administrator (sox) than silently changed here; the error says how.
 * - Channels are averaged, so a stereo file plays as its mono mix.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>

#define WAV_MAX_FRAMES (10 * 60 * MEDIA_RATE)

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
	if (info.samplerate != MEDIA_RATE || info.channels < 1 || info.frames <= 0 ||
	    info.frames > WAV_MAX_FRAMES) {
		if (info.samplerate != MEDIA_RATE)
			snprintf(err, errsz,
				 "%s: %d Hz; prompts must be 8000 Hz (convert: sox '%s' -r 8000 "
				 "-c 1 -b 16 out.wav)",
				 path, info.samplerate, path);
		else
			snprintf(err, errsz, "%s: %lld frames; 1 frame to 10 minutes are accepted",
				 path, (long long)info.frames);
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
	*pcm = out;
	*n = (size_t)got;
	return 0;
}
