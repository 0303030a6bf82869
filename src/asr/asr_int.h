/*
 * asr_int.h — inside src/asr/: the engine vtable and the grammar as the
 * engines see it. Nothing outside src/asr/ includes this.
 */
#ifndef SB_ASR_INT_H
#define SB_ASR_INT_H

#include "asr/asr.h"

#define ASR_ENGINE_VERSION 2 /* 2: transcribe (free speech) */

/* A grammar after normalisation: lower-case words separated by one space. */
struct asr_phrase_set {
	char name[64];
	char **phrases; /* n normalised phrases */
	size_t n;
};

struct asr_grammar {
	struct asr *owner; /* a reference: the engine outlives its grammars */
	unsigned id;	   /* unique within owner, never reused */
	struct asr_phrase_set *intents;
	size_t n;
	void *eng; /* the engine's compiled form (engine.grammar_compile) */
};

/*
 * An engine (CONVENTIONS §12). Thread: alloc, word_check, grammar_compile,
 * grammar_release and free run on the loop; warm and recognize run on the
 * pool, at most cfg->decoders of them at once (the front guarantees it), so
 * they must be safe against each other but not against more callers.
 */
struct asr_engine {
	int version; /* ASR_ENGINE_VERSION */
	const char *name;
	/* Light: no model loading. -EINVAL with err for a bad cfg. */
	int (*alloc)(void **ep, const struct asr_cfg *cfg, char *err, size_t errsz);
	/* No job is running. Frees every decoder. */
	void (*free)(void *e);
	/* 0 = known, -ENOENT = not in the dictionary, other <0 = failure. */
	int (*word_check)(void *e, const char *word);
	/* Fills g->eng from g->intents. */
	int (*grammar_compile)(void *e, struct asr_grammar *g);
	/* The grammar is gone: free g->eng, forget it in decoders later. */
	void (*grammar_release)(void *e, struct asr_grammar *g);
	/* Pool: loads one decoder ahead of the first job. */
	int (*warm)(void *e);
	/* Pool: one utterance at 8 kHz; fills res (intent, confidence, text). */
	int (*recognize)(void *e, const struct asr_grammar *g, const int16_t *pcm, size_t n,
			 struct asr_result *res);
	/* version 2. Pool: one utterance at 8 kHz against the free-speech
	 * model (cfg->free_speech); fills res's words with their times.
	 * NULL: the engine has no free speech. */
	int (*transcribe)(void *e, const int16_t *pcm, size_t n, struct asr_text *res);
};

extern const struct asr_engine asr_engine_ps;

/* The intent whose normalised phrase equals text exactly, or -1. */
int asr_grammar_match(const struct asr_grammar *g, const char *text);

#endif
