/*
 * transcript_int.h — inside src/transcript/: one job's audio and its
 * utterances, shared by transcript.c (the jobs, on the loop) and audio.c
 * (the recording read, cut and redacted, on the pool).
 */
#ifndef SB_TRANSCRIPT_INT_H
#define SB_TRANSCRIPT_INT_H

#include "asr/asr.h"
#include "transcript/transcript.h"

#define TR_RATE		  8000
#define TR_END_SILENCE_MS 500 /* an utterance ends after this much silence */
#define TR_PAD_MS	  200 /* kept before and after the speech the endpointer found */

/* One utterance: a stretch of one channel. */
struct tr_seg {
	int ch;	       /* 0 = the customer, 1 = the agent (what the customer hears) */
	size_t s0, s1; /* samples [s0, s1) of the channel */
	int err;       /* the decode's */
	bool done;
	struct asr_text res;
	struct transcript *t; /* for the completion */
};

/* A time span of the recording to cover with a tone (ms). */
struct tr_span {
	uint32_t from_ms, to_ms;
};

struct tr_audio {
	char path[CONF_PATH_MAX + 64];
	char redacted_path[CONF_PATH_MAX + 80];
	int16_t *ch[2]; /* the two channels */
	size_t n;	/* samples per channel */
	struct tr_seg *segs;
	size_t n_segs;
	struct tr_span *spans; /* to redact in the copy */
	size_t n_spans;
	int err;
	char errmsg[128];
	void *owner; /* the struct transcript */
};

/* Pool: reads the recording and cuts both channels into utterances. */
void tr_audio_load(struct tr_audio *au);
/* Pool: writes the recording with the spans replaced by a tone to
 * redacted_path (through a temporary file, renamed). */
void tr_audio_redact(struct tr_audio *au);
void tr_audio_free(struct tr_audio *au);

#endif
