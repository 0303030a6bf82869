/*
 * transcript.h — call transcripts (issue 13, items 4-7; docs/TRANSCRIPTS.md):
 * every recorded call chosen by the administrators' policy (or asked for by
 * a manager) is transcribed after it ends, on this machine, from its stereo
 * recording: each channel cut into utterances by voice activity, each
 * utterance decoded by the speech engine's free-speech mode (asr.h) on a
 * small pool of decoders at the lowest CPU priority, PII redacted, the
 * result stored with the interaction and announced in its activity stream.
 *
 * Jobs are rows of the store (transcripts: queued -> running -> done |
 * failed), so a restart resumes them; one job runs at a time, its
 * utterances spread over the pool's decoders.
 *
 * Thread: loop thread for every function here.
 */
#ifndef SB_TRANSCRIPT_H
#define SB_TRANSCRIPT_H

#include "core/core.h"
#include "routing/routing.h"
#include "store/store.h"

#define TRANSCRIPT_ENGINE "pocketsphinx"

struct transcript_cfg {
	char record_dir[CONF_PATH_MAX]; /* <ix number>.wav */
	char data_dir[CONF_PATH_MAX];	/* the domain model goes to <data_dir>/transcripts/ */
	char corpus[CONF_PATH_MAX];	/* the shipped corpus ("" = none) */
	const char *site_text;		/* the site's own text (flow prompts...), may be NULL */
	size_t site_text_len;
	int decoders;	     /* 1..16 */
	int domain_pct;	     /* the domain model's weight, 0 = none */
	bool redact;	     /* PII redaction in the text and a redacted recording */
	char model_dir[256]; /* "" = Debian's model */
};

struct transcript;

/*
 * Builds the domain language model (the corpus and the site's text) and
 * starts the pool; resumes the jobs of snap. err says what failed (a
 * missing model, an unreadable corpus). Owner: the caller.
 */
int transcript_alloc(struct transcript **tp, uv_loop_t *loop, const struct transcript_cfg *cfg,
		     struct store *st, struct routing *r, const struct st_snapshot *snap, char *err,
		     size_t errsz);
/* Stops taking jobs; a running one is left for the next start (its row
 * stays running). Run the loop after it until the pool has stopped. */
void transcript_free(struct transcript *t);

/* A recording closed: transcribed when the policy picks it (its queue's
 * percentage, sampled by a hash of the interaction number). */
void transcript_recorded(struct transcript *t, int64_t ix_id, const char *number, int64_t queue_id);
/*
 * A manager's request. -ENOENT: no recording; -EBUSY: queued or running
 * already. A done or failed transcript is made again.
 */
int transcript_request(struct transcript *t, int64_t ix_id, const char *number, const char *actor);

/* The policy: percent of a queue's recorded calls (queue 0 = the default).
 * percent < 0 removes a queue's own row. Written to the store with extra
 * (an audit entry, may be NULL) in one transaction (done may be NULL).
 * -EINVAL for a percent over 100 or removing the default. */
int transcript_policy_set(struct transcript *t, int64_t queue_id, int percent,
			  const struct store_op *extra, store_done_h *done, void *arg);
/* The percent a queue's calls get. */
int transcript_policy_of(const struct transcript *t, int64_t queue_id);
typedef void(transcript_policy_h)(int64_t queue_id, int percent, void *arg);
void transcript_policy_each(const struct transcript *t, transcript_policy_h *h, void *arg);
bool transcript_redacting(const struct transcript *t);

struct transcript_stats {
	uint64_t jobs_done, jobs_failed, utterances;
	uint64_t audio_ms, cpu_ms; /* of the jobs done */
	size_t queued;		   /* waiting now (the running one included) */
};
void transcript_stats(const struct transcript *t, struct transcript_stats *st);

/* ---- PII redaction (redact.c; pure, any thread) ---- */
#define TRANSCRIPT_REDACTED "[redacted]"
/* Marks words[i] to be redacted in red[i]: card numbers (13-19 digits,
 * Luhn-valid, spoken or written), a card security code (3-4 digits after
 * "security code", "cvv", "verification code"), national-id-like numbers
 * (9 digits, or digits after "social security" / "national insurance").
 * Returns how many items (runs of words) were marked. */
size_t transcript_redact_mark(const char *const *words, size_t n, bool *red);
/* 0..9 for a digit word ("four", "oh", "4"), else -1. */
int transcript_digit(const char *word);

#endif
