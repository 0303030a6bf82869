/*
 * flowctl.c — call flows on live calls: loads the flows of a folder at
 * start, checks them against the site (queues), and runs the interpreter
 * (flow/flow.h) for a call (the loaded set and its reloads: flowset.c): prompts through text-to-speech or WAV files on
 * the caller's media leg, DTMF from it, the flow's timer, and the end of
 * the flow (into a queue, or hung up).
 *
 * DESIGN
 * - A prompt has "played" when its duration has elapsed (a timer), since
 *   the media leg plays without a completion callback; barge-in stops it.
 * - Text prompts render on the pool (tts.c); a result that arrives after
 *   the flow moved on (prompt_seq changed) or after the call ended is
 *   dropped. Callbacks hold a reference on the call (call_work).
 * - A bot block listens through botctl.c (speech recognition on the pool)
 *   as well as to its keypad shortcuts.
 * - A transfer block dials out (transfer.c); on failure the flow resumes at
 *   its failed branch (flow_call_resume).
 * - A queue block's options (music, announcements, max wait and overflow)
 *   are queueopts.c's; its hold music is checked when flows load.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TTS_CACHE_BYTES (32u << 20)

/* The call a completion is for, while it still runs its flow. */
static struct call *flow_call_of(const struct call_work *w)
{
	struct call *c = call_work_call(w);

	return c && c->fc ? c : NULL;
}

/* ---- prompts ---- */
static void prompt_ended(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->prompt_timer);
	flow_call_played(c->fc);
}

static void prompt_play(struct call *c, int16_t *pcm, size_t n)
{
	if (!call_customer(c)->m ||
	    call_customer(c)->ops->play_ref(call_customer(c), pcm, n, false)) {
		flow_call_played(c->fc);
		return;
	}
	ctimer_start(c, &c->prompt_timer, prompt_ended, (int)(n * 1000 / MEDIA_RATE) + 1);
}

static void tts_done(int err, const int16_t *pcm, size_t n, void *arg)
{
	struct call_work *r = arg;
	struct call *c = err == -ECANCELED ? NULL : flow_call_of(r); /* shutting down */

	if (c && c->prompt_seq == r->seq) {
		if (err) {
			log_warn("call=%s action=prompt not rendered: %s", c->ix_number,
				 cc_strerror(err));
			flow_call_played(c->fc);
		} else {
			prompt_play(c, (int16_t *)pcm, n); /* refcounted: shared */
		}
	}
	call_work_free(r);
}

const struct prompt_file *prompt_file_get(struct callctl *cc, const char *file, char *err,
					  size_t errsz)
{
	struct prompt_file *p = NULL;
	char path[1100];
	int16_t *pcm = NULL;

	if (file[0] == '/')
		str_copy(path, file, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", cc->cfg.flows_dir, file);
	HASH_FIND_STR(cc->prompts, path, p);
	if (p)
		return p;
	snprintf(err, errsz, "out of memory");
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path)) || media_wav_load(path, &pcm, &p->n, err, errsz) ||
	    !(p->pcm = mem_zalloc(p->n * sizeof(*pcm), NULL))) {
		if (p)
			free(p->path);
		free(p);
		free(pcm);
		return NULL;
	}
	memcpy(p->pcm, pcm, p->n * sizeof(*pcm)); /* refcounted, so callers share it */
	free(pcm);
	HASH_ADD_KEYPTR(hh, cc->prompts, p->path, strlen(p->path), p);
	return p;
}

static const struct prompt_file *prompt_file(struct callctl *cc, const char *file)
{
	char err[700];
	const struct prompt_file *p = prompt_file_get(cc, file, err, sizeof(err));

	if (!p)
		log_warn("action=prompt file %s: %s", file, err);
	return p;
}

static void op_play(void *arg, const char *text, const char *file)
{
	struct call *c = arg;
	struct call_work *r;

	c->prompt_seq++;
	bot_stop(c);
	if (file) {
		const struct prompt_file *p = prompt_file(c->cc, file);
		if (p)
			prompt_play(c, p->pcm, p->n);
		else
			flow_call_played(c->fc);
		return;
	}
	r = call_work_new(c, c->prompt_seq);
	if (!r || tts_render(c->cc->tts, text, NULL, tts_done, r)) {
		call_work_free(r);
		log_warn("call=%s action=prompt not rendered", c->ix_number);
		flow_call_played(c->fc);
	}
}

static void op_stop(void *arg)
{
	struct call *c = arg;

	c->prompt_seq++;
	ctimer_stop(&c->prompt_timer);
	if (call_customer(c)->m)
		call_customer(c)->ops->stop(call_customer(c));
}

static void flow_timer_fired(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->flow_timer);
	flow_call_timeout(c->fc);
}

static void op_timer(void *arg, int ms)
{
	struct call *c = arg;

	if (ms > 0)
		ctimer_start(c, &c->flow_timer, flow_timer_fired, ms);
	else
		ctimer_stop(&c->flow_timer);
}

static void op_listen(void *arg, const struct flow_block *b)
{
	bot_listen(arg, b);
}

void call_ctr_flow(struct call *c)
{
	struct routing_ctr_attr a[FLOW_MAX_ATTRS];
	size_t n = 0;

	if (!c->fc)
		return;
	while (n < FLOW_MAX_ATTRS && flow_call_attr_at(c->fc, n, &a[n].name, &a[n].value))
		n++;
	routing_ctr_flow(c->cc->r, c->ix_id, flow_call_get(c->fc, "intent"), a, n);
	call_live_announce(c); /* the bot's intent, live */
}

static void op_end(void *arg, enum flow_end how, const struct flow_block *b)
{
	struct call *c = arg;
	int64_t qid;

	ctimer_stop(&c->prompt_timer);
	ctimer_stop(&c->flow_timer);
	bot_stop(c);
	call_ctr_flow(c); /* what the flow found goes with the contact */
	switch (how) {
	case FLOW_END_QUEUE:
		qid = routing_queue_id(c->cc->r, b->queue);
		log_info("call=%s action=flow ends queue=%s priority=%d", c->ix_number, b->queue,
			 b->priority);
		if (qid > 0) {
			call_queue_opts_begin(c, b); /* music first: call_enqueue plays it */
			call_enqueue(c, qid, b->priority);
			return;
		}
		log_error("call=%s action=no queue '%s' (the flow was checked at start)",
			  c->ix_number, b->queue);
		break;
	case FLOW_END_TRANSFER:
		log_info("call=%s block=%s action=flow transfers to %s", c->ix_number, b->name,
			 b->number);
		call_transfer_start(c, b); /* transfer.c: bridged, or the failed branch */
		return;
	case FLOW_END_DEFLECT:
		log_info("call=%s block=%s action=deflected by the bot", c->ix_number, b->name);
		break;
	case FLOW_END_ERROR:
	case FLOW_END_HANGUP:
		log_info("call=%s block=%s action=flow hangs up", c->ix_number, b->name);
		break;
	}
	routing_ctr_disconnect(c->cc->r, c->ix_id, CTR_REASON_SYSTEM); /* the flow ended it */
	call_caller_closes(c);
}

static int64_t op_now(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

/* Anyone of the queue signed in (Available, Busy, wrap-up…, not Offline)? */
static bool op_queue_staffed(void *arg, const char *queue)
{
	struct call *c = arg;
	struct queue_view v;

	for (size_t i = 0; i < routing_queue_count(c->cc->r); i++) {
		routing_queue_view(c->cc->r, i, &v);
		if (!strcmp(v.name, queue))
			return v.staffed > 0;
	}
	return false;
}

static const struct flow_call_ops flow_ops = {
	op_play, op_stop, op_timer, op_listen, op_end, op_now, op_queue_staffed,
};

static void on_dtmf(struct mleg *l, char digit, void *arg)
{
	struct call *c = arg;

	(void)l;
	if (c->fc && c->state == CALL_FLOW)
		flow_call_dtmf(c->fc, digit);
}

/* The caller's name in the flow's attributes and the interaction's activity. */
static void caller_known(struct callctl *cc, struct call *c, const char *key, const char *name,
			 const char *what)
{
	char first[64], text[200];
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(name, " "), name);
	char attr[32];

	snprintf(attr, sizeof(attr), "caller.%s", what ? what : "user_name");
	flow_call_set(c->fc, attr, key); /* caller.user_name, caller.contact, caller.consumer */
	flow_call_set(c->fc, "caller.name", name);
	flow_call_set(c->fc, "caller.first_name", first);
	snprintf(text, sizeof(text), "Caller identified by number %.40s: %.60s (%s%s%.40s)",
		 c->caller_number, name, what ? what : "", what ? " " : "", key);
	routing_ix_note(cc->r, c->ix_id, "caller", text);
	routing_ix_link(cc->r, c->ix_id, what ? what : "user", key);
	log_info("call=%s action=caller identified %s=%s", c->ix_number, what ? what : "user", key);
}

/* Caller identification, first step: users' phones, in memory. */
static bool caller_identify(struct callctl *cc, struct call *c)
{
	struct user *u = routing_user_by_phone(cc->r, c->caller_number);

	if (!u)
		return false;
	caller_known(cc, c, user_record(u)->user_name, user_record(u)->name, NULL);
	bot_case_lookup(cc, c, user_record(u)->id);
	return true;
}

static void flow_begin(struct call *c)
{
	call_customer(c)->ops->on_dtmf(call_customer(c), on_dtmf, c);
	flow_call_start(c->fc);
}

/* Second step, on the pool: contacts then consumers. A failure or no match
 * starts the flow unidentified; a call that ended meanwhile is gone. */
static void party_found(int err, const struct st_record *p, void *arg)
{
	struct call_work *r = arg;
	struct call *c = err == -ECANCELED ? NULL : flow_call_of(r);

	if (c && p) {
		caller_known(c->cc, c, p->number, p->name, store_table_name(p->table));
		bot_case_lookup_of(c->cc, c, p->table, p->id);
	} else if (c && err) {
		log_warn("call=%s action=caller lookup failed: %s", c->ix_number, cc_strerror(err));
	}
	if (c)
		flow_begin(c);
	call_work_free(r);
}

static bool caller_lookup(struct callctl *cc, struct call *c)
{
	struct call_work *r = call_work_new(c, 0);

	if (!r)
		return false;
	if (store_party_by_phone(routing_store(cc->r), c->caller_number, party_found, r)) {
		call_work_free(r);
		return false;
	}
	return true;
}

/* NEW → FLOW: the number's flow starts (a flow that cannot start hangs up). */
void act_flow_start(struct call *c, enum call_state from, struct call_arg *a)
{
	if (call_flow_start(c->cc, c, a->flow))
		call_caller_closes(c);
	(void)from;
}

int call_flow_start(struct callctl *cc, struct call *c, const struct flow *f)
{
	c->fc = flow_call_new(f, &flow_ops, c);
	if (!c->fc)
		return -ENOMEM;
	flow_call_set(c->fc, "caller.number", c->caller_number);
	if (!caller_identify(cc, c) && c->caller_number[0] && caller_lookup(cc, c))
		return 0; /* the flow starts when the lookup is back (~1 ms) */
	flow_begin(c);
	return 0;
}

void call_flow_free(struct call *c)
{
	bot_stop(c);
	ctimer_stop(&c->prompt_timer);
	ctimer_stop(&c->flow_timer);
	if (call_customer(c)->m)
		call_customer(c)->ops->on_dtmf(call_customer(c), NULL, NULL);
	flow_call_free(c->fc);
	c->fc = NULL;
}

/* ---- loading (the set itself: flowset.c) ---- */
int flows_load(struct callctl *cc)
{
	int err = tts_alloc(&cc->tts, cc->loop, "en-us", TTS_CACHE_BYTES);

	return err ? err : flowset_load(cc);
}

void flows_free(struct callctl *cc)
{
	struct prompt_file *p, *ptmp;

	flowset_free(cc);
	HASH_ITER(hh, cc->prompts, p, ptmp)
	{
		HASH_DEL(cc->prompts, p);
		mem_deref(p->pcm);
		free(p->path);
		free(p);
	}
	tts_free(cc->tts);
	cc->tts = NULL;
	bot_free(cc); /* after the flows: their grammars are gone */
}
