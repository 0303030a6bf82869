/*
 * flow.h — call flows (SPEC.md §2 step 2): what a caller goes through before
 * the queue. A flow is a graph of named blocks with named branches, written
 * by administrators as YAML files (docs/FLOWS.md). This header is the
 * loaded, validated form; the loader checks every block, key, value and
 * branch target and reports "file:line: block 'name': message".
 *
 * Thread: a loaded flow is immutable and refcounted; load on the pool or at
 * start-up, read anywhere, ref/free on the loop. The interpreter walks it
 * per call and holds a reference while it does (a reload replaces the
 * loaded set; calls in progress keep the flow they started with).
 */
#ifndef SB_FLOW_H
#define SB_FLOW_H

#include "core/core.h"

#define FLOW_NAME	  64
#define FLOW_MAX_SIZE	  (1 << 20) /* bytes in a flow file */
#define FLOW_MAX_BLKS	  1000
#define FLOW_EXPANDED_MAX 4096 /* a prompt with its attributes filled in */

enum flow_kind {
	FLOW_PLAY,	 /* a prompt, then next */
	FLOW_MENU,	 /* a prompt and DTMF choices */
	FLOW_COLLECT,	 /* digits into an attribute */
	FLOW_BOT,	 /* speech (or DTMF shortcuts) → intents */
	FLOW_HOURS,	 /* open or closed now */
	FLOW_SET,	 /* contact attributes */
	FLOW_QUEUE,	 /* enqueue: the flow ends here unless overflow/empty */
	FLOW_TRANSFER,	 /* to an external number */
	FLOW_DISCONNECT, /* hang up */
};

/* A prompt: text to speak (may hold {attribute} references) or a WAV. */
struct flow_prompt {
	char *text;
	char *file;
};

/* menu: a digit → block; bot: an intent → block. */
struct flow_branch {
	char key[FLOW_NAME];
	int target; /* block index */
};

struct flow_intent {
	char name[FLOW_NAME];
	char **phrases; /* sample phrases for the grammar */
	size_t n_phrases;
	char dtmf[8]; /* a keypad shortcut, "" = none */
	char *answer; /* spoken when matched, or NULL */
	bool deflect; /* answer and end the call (Closed Complete) */
	/* deflect only when this attribute is set (e.g. case.number, found by
	 * a lookup); otherwise goto target. "" = always deflect */
	char requires[FLOW_NAME];
	int target; /* block index when not deflected, -1 = none */
};

/* One opening range of a weekday (0 = Monday), minutes since midnight. */
struct flow_range {
	int day, from, to;
};

struct flow_attr {
	char name[FLOW_NAME];
	char *value; /* may hold {attribute} references */
};

struct flow_block {
	char name[FLOW_NAME];
	enum flow_kind kind;
	int line; /* 1-based, where the block starts */
	/* branches common to several kinds; -1 = none */
	int next, no_input, no_match, open, closed, overflow, empty, failed;
	/* play, menu, collect, bot */
	struct flow_prompt prompt;
	bool barge_in;
	int timeout_s, retries;
	/* menu: digit → block; bot: intent → block */
	struct flow_branch *choices;
	size_t n_choices;
	/* collect */
	char into[FLOW_NAME];
	int min_digits, max_digits;
	char terminator; /* '#', '*' or 0 */
	/* bot */
	struct flow_intent *intents;
	size_t n_intents;
	double threshold;
	/* hours */
	char timezone[FLOW_NAME];
	struct flow_range *ranges;
	size_t n_ranges;
	char (*holidays)[11]; /* "YYYY-MM-DD" */
	size_t n_holidays;
	/* set */
	struct flow_attr *attrs;
	size_t n_attrs;
	/* queue */
	char queue[FLOW_NAME];
	int priority, max_wait_s, announce_every_s;
	char *hold_music;
	/* transfer */
	char number[32];
	/* bot: the recogniser's compiled grammar, attached by call control when
	 * the flow is loaded (refcounted; flow_free drops it), NULL = none */
	void *grammar;
};

struct flow {
	char name[FLOW_NAME];
	char file[512];
	int start; /* block index */
	struct flow_block *blocks;
	size_t n_blocks;
};

/*
 * Loads and validates a flow. On error returns -EINVAL (or -ENOMEM, or
 * -errno reading the file) and writes "file:line: message" to err; *fp is
 * left NULL. `name` is the file name shown in messages. The flow comes with
 * one reference, which the caller owns (flow_free drops it).
 */
int flow_load_file(struct flow **fp, const char *path, char *err, size_t errsz);
int flow_load_buf(struct flow **fp, const char *name, const char *buf, size_t len, char *err,
		  size_t errsz);
/* Drops one reference (NULL is fine); the last one frees the flow. */
void flow_free(struct flow *f);
/* Takes another reference; returns f. */
struct flow *flow_ref(const struct flow *f);
const char *flow_kind_name(enum flow_kind k);
/* The block index of a name, or -1. */
int flow_block_index(const struct flow *f, const char *name);

/* ---- the interpreter: one call through a flow ----
 * Transport-free: the caller (call control) plays prompts, runs the one
 * timer, listens for speech and feeds back what happened. Every call into
 * the interpreter may end the flow (ops->end), after which it ignores input.
 */
#define FLOW_MAX_STEPS 200 /* blocks entered per call before it is ended */
#define FLOW_MAX_ATTRS 32

enum flow_end {
	FLOW_END_QUEUE,	   /* enqueue: block->queue, ->priority (and its options) */
	FLOW_END_TRANSFER, /* to block->number */
	FLOW_END_HANGUP,   /* a disconnect block, or no branch to take */
	FLOW_END_DEFLECT,  /* the bot answered: Closed Complete */
	FLOW_END_ERROR,	   /* the step limit: logged */
};

struct flow_call;
struct flow_call_ops {
	/* Play text (attributes expanded) or a file; call flow_call_played when
	 * it has played. DTMF may arrive meanwhile. */
	void (*play)(void *arg, const char *text, const char *file);
	void (*stop)(void *arg); /* stop the prompt (barge-in) */
	/* Arm the one timer (ms > 0; call flow_call_timeout when it fires) or
	 * cancel it (0). */
	void (*timer)(void *arg, int ms);
	/* Listen for speech for a bot block; call flow_call_intent. */
	void (*listen)(void *arg, const struct flow_block *b);
	/* The flow is over (b: the queue/transfer block, else the last block). */
	void (*end)(void *arg, enum flow_end how, const struct flow_block *b);
	int64_t (*now)(void *arg); /* seconds since 1970, for hours */
	/* Has the queue anyone signed in to take calls? NULL = always. A queue
	 * block with an `empty` branch takes it when the answer is no. */
	bool (*queue_staffed)(void *arg, const char *queue);
};

/* The call holds a reference to f until flow_call_free. */
struct flow_call *flow_call_new(const struct flow *f, const struct flow_call_ops *ops, void *arg);
void flow_call_free(struct flow_call *c);
/* Attributes (caller.first_name, account …): set before start or by blocks. */
int flow_call_set(struct flow_call *c, const char *name, const char *value);
const char *flow_call_get(const struct flow_call *c, const char *name);
/* The i-th attribute in the order they were first set; false past the end. */
bool flow_call_attr_at(const struct flow_call *c, size_t i, const char **name, const char **value);
void flow_call_start(struct flow_call *c);
void flow_call_played(struct flow_call *c);
void flow_call_dtmf(struct flow_call *c, char digit);
void flow_call_timeout(struct flow_call *c);
/* The recogniser's result for a bot block: an intent name (NULL = nothing
 * understood) and its confidence 0..1. */
void flow_call_intent(struct flow_call *c, const char *intent, double confidence);
/* The caller has started speaking to a bot block: the no-input timer stops
 * while the recogniser works (its result comes through flow_call_intent). */
void flow_call_speech(struct flow_call *c);
/* The block the call is in. */
const struct flow_block *flow_call_current(const struct flow_call *c);
/* Is a bot block listening for speech now? */
bool flow_call_listening(const struct flow_call *c);
/*
 * After the flow ended into a queue or a transfer (ops->end), goes on at
 * block index `block`: a queue's overflow branch once the caller waited its
 * max_wait (call control has taken the caller out of the queue), or a
 * transfer's `failed` branch. -1 (no branch) hangs up (ops->end with
 * FLOW_END_HANGUP). The step limit still applies. Ignored while the flow
 * has not ended, after another kind of end, or for a block that is not a
 * block index. May call any op, ops->end included.
 */
void flow_call_resume(struct flow_call *c, int block);
bool flow_call_ended(const struct flow_call *c);
/* Block i of the call's flow, or NULL when i is not a block index. */
const struct flow_block *flow_call_block(const struct flow_call *c, int i);
int flow_call_steps(const struct flow_call *c);
/* "{name}" references replaced by attribute values ("" when unset);
 * "{name|default}" gives the default when the attribute is unset or empty. */
void flow_expand(const struct flow_call *c, const char *in, char *out, size_t size);
/* Is a schedule open at `when` (seconds since 1970)? */
bool flow_hours_open(const struct flow_block *b, int64_t when);

#endif
