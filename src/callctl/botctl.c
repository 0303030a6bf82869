/*
 * botctl.c — the flows' bot on live calls: listens to what the caller
 * says to a bot block, sends the utterance to the speech recogniser
 * (asr/asr.h, on the pool) and hands the intent back to the interpreter;
 * and looks up the caller's case so that the bot can answer "what is the
 * status of my case" by itself (case.number, case.state,
 * case.short_description attributes).
 *
 * DESIGN
 * - Grammars are compiled when flows load (one per bot block that has
 *   phrases) and hang off the block (flow_block.grammar), so they live and
 *   die with the flow; a word the recogniser does not know stops the load
 *   with file:line: block.
 * - Listening: the caller leg's received audio (its ops' on_audio)
 *   goes into a buffer and through the endpointer (asr_ep). At the start of
 *   speech the no-input timer stops (flow_call_speech); at its end the
 *   speech part, with a little audio before it, goes to the recogniser, and
 *   listening stops until the interpreter listens again.
 * - The flow may move on meanwhile (a keypad shortcut, a hang-up): the
 *   handler stops when the flow no longer listens, and a result that comes
 *   back for an older listen (seq) or a call that has gone is dropped.
 *   Callbacks carry the interaction id, never the call pointer.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOT_PREROLL	(MEDIA_RATE / 5) /* 200 ms kept before the start of speech */
#define BOT_MAX_SAMPLES (ASR_MAX_SECONDS * MEDIA_RATE)
#define BOT_FIRST_CAP	MEDIA_RATE	 /* 1 s, doubled while the caller speaks */
#define BOT_KEEP	(MEDIA_RATE / 2) /* before speech: the last 0.5 s is kept */
#define BOT_NOTE_MAX	300

struct bot_listen {
	struct asr_ep ep;
	int16_t *pcm;
	size_t n, cap;
	size_t start; /* index in pcm where speech began */
	bool speaking;
};

/* A recognition or a case lookup holds a reference on the call
 * (call_work): w->seq is the listen it is for, w->t0 when the caller
 * stopped speaking (the endpointer's END less the silence it waited for). */
static struct call *flow_call_of(const struct call_work *w)
{
	struct call *c = call_work_call(w);

	return c && c->fc ? c : NULL;
}

/* ---- grammars ---- */
static int grammar_build(struct callctl *cc, const struct flow *f, struct flow_block *b, char *msg,
			 size_t size)
{
	struct asr_intent_def defs[ASR_MAX_INTENTS];
	char err[300] = "";
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < b->n_intents && n < ASR_MAX_INTENTS; i++)
		if (b->intents[i].n_phrases)
			defs[n++] = (struct asr_intent_def){
				b->intents[i].name, (const char *const *)b->intents[i].phrases,
				b->intents[i].n_phrases};
	if (!n)
		return 0; /* keypad shortcuts only */
	if (!cc->asr) {
		struct asr_cfg cfg = {.decoders = 0};
		rc = asr_alloc(&cc->asr, cc->loop, &cfg, err, sizeof(err));
		if (!rc)
			rc = asr_warm(cc->asr); /* load the decoders now, not at the first caller */
		if (rc) {
			snprintf(msg, size, "%s:%d: block '%s': the speech recogniser: %s", f->file,
				 b->line, b->name, err[0] ? err : cc_strerror(rc));
			return rc;
		}
	}
	rc = asr_grammar_alloc(cc->asr, (struct asr_grammar **)&b->grammar, defs, n, err,
			       sizeof(err));
	if (rc)
		snprintf(msg, size, "%s:%d: block '%s': %s", f->file, b->line, b->name,
			 err[0] ? err : cc_strerror(rc));
	return rc;
}

int bot_grammars_attach(struct callctl *cc, struct flow *f, char *msg, size_t size)
{
	for (size_t i = 0; i < f->n_blocks; i++) {
		struct flow_block *b = &f->blocks[i];
		int rc =
			b->kind == FLOW_BOT && !b->grammar ? grammar_build(cc, f, b, msg, size) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- listening ---- */
static void listen_end(struct call *c)
{
	if (call_customer(c)->m)
		call_customer(c)->ops->on_audio(call_customer(c), NULL, NULL);
	if (c->bot) {
		free(c->bot->pcm);
		free(c->bot);
		c->bot = NULL;
	}
}

/* The grammar's n-th intent is the n-th of the block's intents with phrases. */
static const char *intent_name(const struct flow_block *b, int idx)
{
	for (size_t i = 0; idx >= 0 && i < b->n_intents; i++)
		if (b->intents[i].n_phrases && idx-- == 0)
			return b->intents[i].name;
	return NULL;
}

static void heard_note(struct call *c, const struct asr_result *res, const char *intent)
{
	char text[BOT_NOTE_MAX];

	if (res->text[0])
		snprintf(text, sizeof(text), "Bot heard \"%.150s\": %s (confidence %.2f)",
			 res->text, intent ? intent : "no intent", res->confidence);
	else
		snprintf(text, sizeof(text), "Bot heard speech it did not understand");
	routing_ix_note(c->cc->r, c->ix_id, "bot", text);
}

static void recognised(int err, const struct asr_result *res, void *arg)
{
	struct call_work *r = arg;
	struct call *c = err == -ECANCELED ? NULL : flow_call_of(r); /* shutting down */
	const char *intent = NULL;
	double ms = (double)(uv_hrtime() - r->t0) / 1e6;

	if (c && c->listen_seq == r->seq && flow_call_listening(c->fc)) {
		if (!err)
			intent = intent_name(r->b, res->intent);
		log_info("call=%s block=%s action=recognised intent=%s confidence=%.2f "
			 "text=\"%s\" after_speech_ms=%.0f decode_ms=%.0f%s%s",
			 c->ix_number, r->b->name, intent ? intent : "-", err ? 0 : res->confidence,
			 err ? "" : res->text, ms, err ? 0 : (double)res->decode_us / 1e3,
			 err ? " error=" : "", err ? cc_strerror(err) : "");
		if (!err)
			heard_note(c, res, intent);
		flow_call_intent(c->fc, intent, err ? 0 : res->confidence);
	}
	call_work_free(r);
}

static void utterance_send(struct call *c, const struct flow_block *b)
{
	struct bot_listen *L = c->bot;
	size_t from = L->start > BOT_PREROLL ? L->start - BOT_PREROLL : 0;
	struct call_work *r = call_work_new(c, c->listen_seq);
	int err = -ENOMEM;

	if (r) {
		uint64_t waited = L->ep.in_speech ? 0 : (uint64_t)L->ep.end_silence_ms * 1000000;
		r->t0 = uv_hrtime() - waited, r->b = b;
		err = asr_recognize(c->cc->asr, b->grammar, L->pcm + from, L->n - from, recognised,
				    r);
	}
	listen_end(c);
	if (err) {
		call_work_free(r);
		log_warn("call=%s block=%s action=speech not recognised: %s", c->ix_number, b->name,
			 cc_strerror(err));
		flow_call_intent(c->fc, NULL, 0);
	}
}

/* Room for n more samples: before speech only the last BOT_KEEP are kept
 * (the pre-roll), while speaking the buffer doubles up to BOT_MAX_SAMPLES. */
static size_t listen_room(struct bot_listen *L, size_t n)
{
	int16_t *p;
	size_t cap;

	if (!L->speaking && L->n + n > BOT_KEEP && L->n > BOT_KEEP / 2) {
		size_t drop = L->n - BOT_KEEP / 2;
		memmove(L->pcm, L->pcm + drop, (L->n - drop) * sizeof(*L->pcm));
		L->n -= drop;
	}
	if (L->n + n > L->cap && L->cap < BOT_MAX_SAMPLES) {
		cap = L->cap * 2 < BOT_MAX_SAMPLES ? L->cap * 2 : BOT_MAX_SAMPLES;
		p = realloc(L->pcm, cap * sizeof(*p));
		if (p)
			L->pcm = p, L->cap = cap;
	}
	return L->n + n > L->cap ? L->cap - L->n : n;
}

static void on_audio(struct mleg *l, const int16_t *pcm, size_t n, void *arg)
{
	struct call *c = arg;
	struct bot_listen *L = c->bot;
	enum asr_ep_event ev;
	size_t back;

	(void)l;
	if (!L || !c->fc || !flow_call_listening(c->fc)) {
		listen_end(c);
		return;
	}
	ev = asr_ep_feed(&L->ep, pcm, n);
	if (ev == ASR_EP_START) {
		/* speech began (ep.frames - 1 - start_frame) packets before this
		 * one, which is not copied yet: the pre-roll is still there */
		back = (L->ep.frames - 1 - L->ep.start_frame) * n;
		L->start = back < L->n ? L->n - back : 0;
		L->speaking = true;
		flow_call_speech(c->fc);
	}
	n = listen_room(L, n);
	memcpy(L->pcm + L->n, pcm, n * sizeof(*pcm));
	L->n += n;
	if (ev == ASR_EP_END || (L->speaking && L->n >= BOT_MAX_SAMPLES))
		utterance_send(c, flow_call_current(c->fc));
}

void bot_listen(struct call *c, const struct flow_block *b)
{
	listen_end(c);
	c->listen_seq++;
	if (!b->grammar || !call_customer(c)->m || !c->cc->asr)
		return; /* keypad shortcuts only: the timer gives no_input */
	c->bot = calloc(1, sizeof(*c->bot));
	if (c->bot)
		c->bot->pcm = malloc(BOT_FIRST_CAP * sizeof(int16_t));
	if (!c->bot || !c->bot->pcm) {
		listen_end(c);
		log_warn("call=%s block=%s action=cannot listen: out of memory", c->ix_number,
			 b->name);
		return;
	}
	c->bot->cap = BOT_FIRST_CAP;
	asr_ep_init(&c->bot->ep, 0);
	call_customer(c)->ops->on_audio(call_customer(c), on_audio, c);
	log_debug("call=%s block=%s action=listen", c->ix_number, b->name);
}

void bot_stop(struct call *c)
{
	c->listen_seq++;
	listen_end(c);
}

/* ---- the caller's case ---- */
static void case_found(int err, const struct st_case *k, void *arg)
{
	struct call_work *r = arg;
	struct call *c = err == -ECANCELED ? NULL : flow_call_of(r);

	if (c && k) {
		flow_call_set(c->fc, "case.number", k->number);
		flow_call_set(c->fc, "case.state", k->state);
		flow_call_set(c->fc, "case.short_description", k->short_description);
		log_info("call=%s action=case found %s (%s)", c->ix_number, k->number, k->state);
		routing_ix_link(c->cc->r, c->ix_id, "case", k->number);
	} else if (c && err) {
		log_warn("call=%s action=case lookup failed: %s", c->ix_number, cc_strerror(err));
	}
	call_work_free(r);
}

void bot_case_lookup(struct callctl *cc, struct call *c, int64_t user_id)
{
	struct call_work *r = call_work_new(c, 0);

	if (r && store_case_latest(routing_store(cc->r), user_id, case_found, r))
		call_work_free(r);
}

void bot_case_lookup_of(struct callctl *cc, struct call *c, enum st_table party, int64_t party_id)
{
	struct call_work *r = call_work_new(c, 0);

	if (r && store_case_latest_of(routing_store(cc->r), party, party_id, case_found, r))
		call_work_free(r);
}

void bot_free(struct callctl *cc)
{
	asr_free(cc->asr);
	cc->asr = NULL;
}
