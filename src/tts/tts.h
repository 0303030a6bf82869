/*
 * tts.h — text-to-speech for prompts: espeak-ng renders text to 8 kHz mono
 * samples on the worker pool, and a cache keyed by (voice, text) keeps the
 * result, so a prompt every caller hears is rendered once (issue 4).
 *
 * Thread: loop thread. Rendering runs on libuv's pool, one job at a time
 * (espeak-ng keeps global state); requests for the same (voice, text) while
 * it renders wait for that one job. The done callback always runs later on
 * the loop, never inside tts_render.
 */
#ifndef SB_TTS_H
#define SB_TTS_H

#include "core/core.h"

#define TTS_TEXT_MAX 2000 /* characters */

struct tts;
/* pcm is refcounted (mem_zalloc): valid during the call, and beyond it for
 * whoever takes a mem_ref (mleg_play_ref does, while it plays). */
typedef void(tts_done_h)(int err, const int16_t *pcm, size_t n, void *arg);

/* voice: the default espeak-ng voice ("en-us"); cache_bytes: the cache's
 * budget for samples, least recently used evicted first. */
int tts_alloc(struct tts **tp, uv_loop_t *loop, const char *voice, size_t cache_bytes);
/* Pending requests complete with -ECANCELED; run the loop once more after. */
void tts_free(struct tts *t);
/* voice NULL or "" = the default. -EINVAL for empty or too long text or a
 * voice name that is not [a-z0-9_+-]{1,32}; an unknown voice is reported by
 * done with -ENOENT. */
int tts_render(struct tts *t, const char *text, const char *voice, tts_done_h *done, void *arg);

struct tts_stats {
	uint64_t renders, hits, waits; /* jobs run, cache hits, requests that joined a job */
	size_t cached_bytes, entries;
};
void tts_stats(const struct tts *t, struct tts_stats *st);

#endif
