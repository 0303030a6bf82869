/*
 * asr.h — speech recognition for the flows' bot (issue 4): what a caller
 * says is matched against a grammar built from a bot block's intents
 * (sample phrases per intent). Recognition runs on libuv's worker pool,
 * never on the loop, behind an engine vtable (struct asr_engine) so that
 * a better engine can be plugged in later; the first engine is
 * pocketsphinx with JSGF grammars (STACK.md: 8 kHz telephone audio is
 * upsampled to 16 kHz with band-limited noise above 4.2 kHz).
 *
 * The endpointer (struct asr_ep) is a small pure state machine that the
 * caller feeds 20 ms frames on the loop: it says when speech starts and
 * when it has ended, so that call control knows what to send.
 *
 * Thread: loop thread for every function here, except the engine
 * callbacks, which run on the pool. Done callbacks always run later on the
 * loop, never inside asr_recognize.
 */
#ifndef SB_ASR_H
#define SB_ASR_H

#include "core/core.h"

#include <stdio.h>

#define ASR_RATE	8000 /* input: 8 kHz mono 16-bit (decoded G.711) */
#define ASR_MAX_SECONDS 15   /* longest utterance accepted */
#define ASR_TEXT_MAX	256
#define ASR_MAX_INTENTS 64
#define ASR_MAX_PHRASES 64 /* per intent */
#define ASR_PHRASE_MAX	200
#define ASR_QUEUE_MAX	32 /* default bound of waiting recognitions */
/* Below this confidence a result is a no-match (docs/ASR.md: measured). */
#define ASR_CONFIDENCE_MIN 0.5

/* One intent of a grammar: its name and sample phrases (words). */
struct asr_intent_def {
	const char *name;
	const char *const *phrases;
	size_t n_phrases;
};

struct asr_result {
	int intent;		 /* index into the grammar's intents, -1 = nothing */
	double confidence;	 /* 0..1 */
	char text[ASR_TEXT_MAX]; /* the words recognised, "" = none */
	uint64_t decode_us;	 /* time on the pool */
	/* what the confidence was made of (pocketsphinx: docs/ASR.md) */
	double score;	 /* acoustic score a frame of the words (higher = better) */
	double coverage; /* share of the speech the words explain, 0..1 */
};

struct asr_cfg {
	char engine[32];     /* "pocketsphinx" (default) */
	char model_dir[256]; /* "" = the Debian model (/usr/share/pocketsphinx/model/en-us) */
	int decoders;	     /* decoders kept (recognitions at once), default 2 */
	int queue_max;	     /* waiting beyond the decoders, 0 = ASR_QUEUE_MAX */
	/* Free speech (asr_transcribe, docs/TRANSCRIPTS.md): the decoders load
	 * the model's general language model mixed with a domain model. */
	bool free_speech;
	char domain_lm[512];  /* an ARPA file (asr_lm_build), "" = the general model alone */
	double domain_weight; /* the domain model's share of the mix, 0 = 0.4 */
	/* Jobs run on threads of their own at the lowest CPU priority
	 * (SCHED_IDLE) instead of libuv's pool: the transcripts' pool. */
	bool own_threads;
};

struct asr;
/* ---- free speech (transcripts) ---- */
#define ASR_TEXT_SECONDS 40 /* longest utterance asr_transcribe accepts */
#define ASR_WORDS_MAX	 192
#define ASR_WORD_MAX	 32
struct asr_word {
	char w[ASR_WORD_MAX];
	uint32_t start_ms, end_ms; /* within the utterance */
};
struct asr_text {
	size_t n_words;
	struct asr_word words[ASR_WORDS_MAX];
	uint64_t decode_us; /* time on the decoder (wall clock) */
	uint64_t cpu_us;    /* CPU time of the decoding thread meanwhile */
};
typedef void(asr_text_h)(int err, const struct asr_text *res, void *arg);
/*
 * Transcribes one utterance (8 kHz mono, copied) on a decoder made with
 * cfg->free_speech; done runs on the loop. -EINVAL for n == 0, longer than
 * ASR_TEXT_SECONDS or a recogniser without free_speech; -EBUSY when the
 * queue is full.
 */
int asr_transcribe(struct asr *a, const int16_t *pcm, size_t n, asr_text_h *done, void *arg);

/* A trigram language model in ARPA format from text (sentences: a line, or
 * ended by . ? ! ;), words normalised as grammar phrases are; a word for
 * which ok() is false ends its sentence (ok NULL: every word). -ENODATA
 * when there is no sentence of two words. Any thread. */
typedef bool(asr_word_ok_h)(const char *word, void *arg);
int asr_lm_build(const char *text, size_t len, asr_word_ok_h *ok, void *ok_arg, FILE *out,
		 size_t *sentences);
/* The dictionary of a model directory ("" = Debian's), for asr_lm_build's
 * ok: asr_dict_load then asr_dict_has(word, dict). */
struct asr_dict;
int asr_dict_load(struct asr_dict **dp, const char *model_dir);
bool asr_dict_has(const char *word, void *dict);
void asr_dict_free(struct asr_dict *d);

struct asr;
struct asr_grammar;
typedef void(asr_done_h)(int err, const struct asr_result *res, void *arg);

/* Loads nothing heavy: the engine's model loads on the pool at the first
 * recognition (or asr_warm). -EINVAL with err for a bad cfg. Owner: caller. */
int asr_alloc(struct asr **ap, uv_loop_t *loop, const struct asr_cfg *cfg, char *err, size_t errsz);
/* Pending recognitions complete with -ECANCELED; run the loop once more. */
void asr_free(struct asr *a);
/* Loads the decoders on the pool now, ahead of the first recognition
 * (each takes ~0.2 s and ~20 MiB). Optional. */
int asr_warm(struct asr *a);

/*
 * Builds a grammar from intents. Phrases are lower-cased and stripped of
 * punctuation; a word the engine's dictionary lacks is -EINVAL with err
 * "intent 'status': the word 'xyzzy' is not in the dictionary".
 * Refcounted (mem_deref to free); a recognition holds a reference.
 */
int asr_grammar_alloc(struct asr *a, struct asr_grammar **gp, const struct asr_intent_def *defs,
		      size_t n, char *err, size_t errsz);

/*
 * Recognises one utterance (copied) against g on the pool; done runs on
 * the loop with the result. -EINVAL for n == 0 or longer than
 * ASR_MAX_SECONDS, -EBUSY when too many are queued (the caller then takes
 * its no-match branch).
 */
int asr_recognize(struct asr *a, struct asr_grammar *g, const int16_t *pcm, size_t n,
		  asr_done_h *done, void *arg);

struct asr_stats {
	uint64_t recognitions, matched, failed, queued_max;
	uint64_t transcribed; /* asr_transcribe jobs done */
	uint64_t decode_us_total;
};
void asr_stats(const struct asr *a, struct asr_stats *st);

/* ---- the endpointer: speech start and end in a stream of 20 ms frames ---- */
enum asr_ep_event { ASR_EP_NONE, ASR_EP_START, ASR_EP_END };

struct asr_ep {
	int end_silence_ms; /* silence after speech that ends it */
	int min_speech_ms;  /* shorter bursts are noise */
	/* state */
	double noise; /* running noise floor (energy) */
	int speech_ms, silence_ms;
	bool in_speech;
	size_t start_frame, end_frame, frames;
};
#define ASR_EP_FRAME_MS	      20
#define ASR_EP_END_SILENCE_MS 200 /* default; docs/ASR.md: measured */
#define ASR_EP_MIN_SPEECH_MS  100
/* end_silence_ms: 0 = the default. */
void asr_ep_init(struct asr_ep *ep, int end_silence_ms);
/* Feeds one frame (n samples at 8 kHz); returns START on the frame where
 * speech began (start_frame is set, a little before it), END on the frame
 * where it has ended (end_frame = the first frame after the last speech). */
enum asr_ep_event asr_ep_feed(struct asr_ep *ep, const int16_t *frame, size_t n);

#endif
