/*
 * engine.c — the routing engine (Advanced Work Assignment): interactions
 * opened by call control, queue entries, offers to agents, and the counters
 * managers watch.
 *
 * DESIGN
 * - Pure domain: no sockets. Call control supplies two facts and one action
 *   through struct routing_ops (is the agent's device registered; ring it;
 *   stop ringing) and reports outcomes back (answered, missed, call ended).
 * - Dispatch runs on the next loop iteration after anything that can make
 *   an assignment possible (a caller enqueued, an agent Available, an offer
 *   missed, a device registered, a role granted), so an offer leaves within
 *   one loop turn of the agent becoming Available. Queues are served in
 *   priority order (lower number first), callers in a queue by priority
 *   then arrival, and each caller goes to the eligible member who has been
 *   Available longest (longest idle).
 * - Eligible = Available, holds a role pair of SPEC.md §5 (checked here,
 *   before every offer), active, device ready, not ringing for another call,
 *   and has not missed this call already.
 * - Offer timeouts are call control's: it owns the ringing leg.
 * - A caller may leave a queue without an agent (max wait, overflow):
 *   queued → New, the interaction stays open for the rest of its flow.
 * - Each queue keeps a moving average of its handle times (answer to the
 *   end of the call, weight 1/4 for the newest, as Asterisk's holdtime);
 *   with the caller's place and the members taking calls it gives the
 *   expected wait announced to callers (docs/FLOWS.md).
 */
#define LOG_MODULE "engine"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dispatch(struct routing *r);

void routing_ops_set(struct routing *r, const struct routing_ops *ops, void *arg)
{
	r->ops = ops;
	r->ops_arg = arg;
}

void routing_timeouts_set(struct routing *r, int offer_ms, int wrapup_ms)
{
	r->offer_timeout_ms = offer_ms;
	r->wrapup_timeout_ms = wrapup_ms;
}

bool routing_agent_device_ready(const struct routing *r, const struct user *u)
{
	return r->ops && r->ops->device_ready(r->ops_arg, u);
}

/* ---- deferred dispatch (one timer, started at 0 ms) ---- */
static void dispatch_cb(uv_timer_t *t)
{
	dispatch(t->data);
}

void routing_dispatch_soon(struct routing *r)
{
	if (!r->dispatch_timer) {
		r->dispatch_timer = calloc(1, sizeof(*r->dispatch_timer));
		if (!r->dispatch_timer)
			return;
		uv_timer_init(r->loop, r->dispatch_timer);
		r->dispatch_timer->data = r;
	}
	if (!uv_is_active((uv_handle_t *)r->dispatch_timer))
		uv_timer_start(r->dispatch_timer, dispatch_cb, 0, 0);
}

/* ---- interactions ---- */
int routing_ix_open(struct routing *r, const char *direction, const char *caller_number,
		    int64_t *ix_id)
{
	struct change *c = change_new(r, NULL, NULL);
	struct change_event *e;
	struct ix *x = calloc(1, sizeof(*x));
	bool out = !strcmp(direction, "outbound");

	if (!c || !x) {
		free(c);
		free(x);
		return -ENOMEM;
	}
	x->rec.id = r->next_ix_id++;
	/* INT + 7 digits up to id 9,998,999, then more digits (ST_NUMBER is 16). */
	snprintf(x->rec.number, sizeof(x->rec.number), "INT%07lld",
		 (long long)((1000 + x->rec.id) % 100000000000LL));
	str_copy(x->rec.type, "phone", sizeof(x->rec.type));
	str_copy(x->rec.direction, out ? "outbound" : "inbound", sizeof(x->rec.direction));
	x->state = out ? IX_WIP : IX_NEW;
	str_copy(x->rec.state, ix_state_name(x->state), sizeof(x->rec.state));
	str_copy(x->rec.caller_number, caller_number, sizeof(x->rec.caller_number));
	x->rec.opened_at = time_now_ms();
	HASH_ADD(hh, r->open, rec.id, sizeof(x->rec.id), x);
	ctr_of(r, x); /* its first contact segment begins */
	c->ops[c->n_ops].kind = STORE_OP_INTERACTION_INSERT;
	c->ops[c->n_ops++].u.interaction = x->rec;
	change_activity(c, x, "state", "system",
			out ? "Created: outbound phone call, Work in Progress"
			    : "Created: inbound phone call, New");
	e = &c->ev[c->n_ev++];
	memset(e, 0, sizeof(*e));
	e->kind = RT_EV_INTERACTION, e->at = x->rec.opened_at;
	str_copy(e->to, x->rec.state, sizeof(e->to));
	str_copy(e->interaction, x->rec.number, sizeof(e->interaction));
	str_copy(e->actor, "system", sizeof(e->actor));
	log_info("interaction=%s action=created %s caller=%s", x->rec.number, x->rec.direction,
		 caller_number);
	*ix_id = x->rec.id;
	return change_submit(c);
}

const char *routing_ix_number(struct routing *r, int64_t ix_id)
{
	struct ix *x = routing_ix_by_id(r, ix_id);

	return x ? x->rec.number : "";
}

int routing_ix_note(struct routing *r, int64_t ix_id, const char *kind, const char *text)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct change *c;

	if (!x)
		return CC_ENOTFOUND;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	change_activity(c, x, kind, "system", text);
	return change_submit(c);
}

int routing_transcript_done(struct routing *r, const struct st_transcript *t, const char *text)
{
	struct change *c = change_new(r, NULL, NULL);
	struct store_op *op;

	if (!c)
		return -ENOMEM;
	op = change_op(c, STORE_OP_TRANSCRIPT_SET);
	op->u.transcript = *t;
	change_activity_id(c, t->interaction_id, "transcript", "system", text);
	return change_submit(c);
}

void routing_recording_url(const char *number, char *buf, size_t size)
{
	snprintf(buf, size, "/api/v1/interactions/%s/recording", number);
}

int routing_ix_recorded(struct routing *r, int64_t ix_id)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	char url[96], text[128];

	if (!x)
		return CC_ENOTFOUND;
	x->recorded = true;
	routing_recording_url(x->rec.number, url, sizeof(url));
	snprintf(text, sizeof(text), "Recording: %s", url);
	return routing_ix_note(r, ix_id, "recording", text);
}

static void entry_insert(struct queue *q, struct qentry *en)
{
	struct qentry *at = q->tail;

	/* Higher priority ahead; equal priority keeps arrival order (a
	 * transferred call arrived when its call began: docs/DOMAIN.md). */
	while (at && (at->priority < en->priority ||
		      (at->priority == en->priority && at->arrived > en->arrived)))
		at = at->prev;
	en->prev = at;
	en->next = at ? at->next : q->head;
	if (en->next)
		en->next->prev = en;
	else
		q->tail = en;
	if (at)
		at->next = en;
	else
		q->head = en;
	q->waiting++;
}

void engine_entry_remove(struct routing *r, struct ix *x)
{
	struct qentry *en = x->entry;
	struct queue *q;

	if (!en)
		return;
	q = en->q;
	if (en->prev)
		en->prev->next = en->next;
	else
		q->head = en->next;
	if (en->next)
		en->next->prev = en->prev;
	else
		q->tail = en->prev;
	q->waiting--;
	ctr_dequeue(r, x, time_now_ms()); /* the time it waited */
	x->entry = NULL;
	free(en);
}

/* The call stops ringing the agent it was offered to, if any. */
static void entry_offer_cancel(struct routing *r, struct ix *x)
{
	struct user *u;

	if (!x->entry || !x->entry->offered_to)
		return;
	u = routing_user_by_id(r, x->entry->offered_to);
	x->entry->offered_to = 0;
	if (!u)
		return;
	u->offered_ix = 0;
	if (r->ops && r->ops->offer_cancel)
		r->ops->offer_cancel(r->ops_arg, x->rec.id, u);
	routing_dispatch_soon(r); /* the agent is free again */
}

int routing_ix_enqueue(struct routing *r, int64_t ix_id, int64_t queue_id, int priority)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct queue *q = queue_by_id(r, queue_id);
	struct qentry *en;
	struct change *c;
	int err;

	if (!x || !q)
		return CC_ENOTFOUND;
	if (engine_entry_alloc(r, &en, &c))
		return -ENOMEM;
	entry_offer_cancel(r, x); /* overflow: stops ringing, */
	if (x->entry)
		wb_left(r, x->entry->q, x, "overflow");
	engine_entry_remove(r, x); /* leaves the old queue */
	x->rec.queue_id = q->rec.id;
	err = ix_apply(c, x, IX_EV_ENQUEUE, NULL, q->rec.name, "system");
	if (err) {
		free(en);
		free(c);
		return err;
	}
	en->priority = priority;
	engine_entry_enter(q, x, en, 0);
	wb_joined(r, q, x);
	ctr_enqueue(ctr_of(r, x), q, x->queued_at);
	routing_dispatch_soon(r);
	return change_submit(c);
}

int engine_entry_alloc(struct routing *r, struct qentry **en, struct change **c)
{
	*en = calloc(1, sizeof(**en));
	*c = change_new(r, NULL, NULL);
	if (*en && *c)
		return 0;
	free(*en);
	free(*c);
	return -ENOMEM;
}

void engine_entry_enter(struct queue *q, struct ix *x, struct qentry *en, int64_t arrived)
{
	en->q = q, en->x = x;
	x->entry = en;
	x->queued_at = time_now_ms();
	x->rec.queue_id = q->rec.id;
	en->arrived = arrived ? arrived : x->queued_at;
	entry_insert(q, en); /* counted offered by the caller (wb_joined) */
}

struct user *routing_ix_agent(struct routing *r, int64_t ix_id)
{
	struct ix *x = routing_ix_by_id(r, ix_id);

	if (!x)
		return NULL;
	if (x->entry && x->entry->offered_to)
		return routing_user_by_id(r, x->entry->offered_to);
	return x->rec.agent_user_id ? routing_user_by_id(r, x->rec.agent_user_id) : NULL;
}

int routing_ix_caller_gone(struct routing *r, int64_t ix_id)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct ctr_seg *s;
	struct change *c;
	int err;

	if (!x)
		return CC_ENOTFOUND;
	entry_offer_cancel(r, x);
	if (x->entry)
		wb_abandoned(r, x->entry->q, x);
	engine_entry_remove(r, x);
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	ctr_next_drop(x); /* a transfer under way does not complete */
	if ((s = ctr_of(r, x)))
		ctr_end(s, CTR_REASON_CUSTOMER, time_now_ms());
	/* gone in a transfer's queue with no agent left on the call: abandoned */
	err = ix_apply(c, x,
		       x->state == IX_WIP && !x->rec.agent_user_id ? IX_EV_ABANDON
								   : IX_EV_CALLER_HANGUP,
		       routing_ix_agent(r, ix_id), "caller_hangup", "caller");
	if (err) {
		free(c);
		return err;
	}
	err = change_submit(c);
	ix_forget_if_closed(r, x);
	routing_dispatch_soon(r); /* the agent it rang is free again */
	return err;
}

int routing_ix_dequeue(struct routing *r, int64_t ix_id, const char *note)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct change *c;
	int err;

	if (!x || x->state != IX_QUEUED || !x->entry)
		return CC_ENOTFOUND;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	entry_offer_cancel(r, x);
	wb_left(r, x->entry->q, x, "max_wait");
	engine_entry_remove(r, x);
	if (note && note[0])
		change_activity(c, x, "queue", "system", note);
	err = ix_apply(c, x, IX_EV_DEQUEUE, NULL, "max_wait", "system");
	if (err) {
		free(c);
		return err;
	}
	return change_submit(c);
}

int routing_wait_estimate(int position, size_t agents, int aht_s)
{
	int64_t n = agents ? (int64_t)agents : 1, s;

	if (position < 1 || aht_s < 0)
		return 0;
	s = ((int64_t)position * aht_s + n / 2) / n;
	return s > INT_MAX ? INT_MAX : (int)s;
}

int routing_ix_queue_wait(struct routing *r, int64_t ix_id, struct queue_wait *w)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	const struct qentry *en;
	struct queue *q;

	if (!x || !x->entry)
		return CC_ENOTFOUND;
	q = x->entry->q;
	memset(w, 0, sizeof(*w));
	w->queue = q->rec.name;
	for (en = q->head; en; en = en->next) {
		w->position++;
		if (en == x->entry)
			break;
	}
	/* Away and Missed agents take no calls; those on one come back to it. */
	for (size_t k = 0; k < q->n_members; k++) {
		struct user *u = routing_user_by_id(r, q->members[k]);
		if (u && u->presence != PRES_OFFLINE && u->presence != PRES_AWAY &&
		    u->presence != PRES_MISSED)
			w->working++;
	}
	w->aht_s = q->aht_s ? q->aht_s : ROUTING_AHT_DEFAULT_S;
	w->waited_s = (int)((time_now_ms() - x->queued_at) / 1000);
	w->estimate_s = routing_wait_estimate(w->position, w->working, w->aht_s);
	return 0;
}

/* ---- offers ---- */
int routing_offer_answered(struct routing *r, int64_t ix_id, struct user *u)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	enum presence to;
	struct change *c;

	if (!x || !x->entry || x->entry->offered_to != u->rec.id)
		return CC_ENOTFOUND;
	if (agent_fsm_next(u->presence, AG_EV_INBOUND_ACCEPTED, &to))
		return CC_EILLEGAL;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	wb_answered(r, x->entry->q, x, u);
	engine_entry_remove(r, x);
	u->offered_ix = 0;
	x->rec.agent_user_id = u->rec.id;
	if (ix_apply(c, x, IX_EV_ASSIGN, u, user_record(u)->user_name, "system")) {
		free(c);
		return CC_EILLEGAL;
	}
	u->ix_id = x->rec.id;
	x->answered_at = time_now_ms();
	ctr_agent(ctr_of(r, x), u, x->answered_at);
	str_copy(u->ix_number, x->rec.number, sizeof(u->ix_number));
	presence_apply(c, u, to, "inbound call accepted", user_record(u)->user_name);
	return change_submit(c);
}

/* When uid missed this call (or its phone could not ring), 0 if never. */
static int64_t entry_missed_at(const struct qentry *en, int64_t uid)
{
	for (size_t i = 0; i < en->n_missed; i++)
		if (en->missed[i] == uid)
			return en->missed_at[i];
	return 0;
}

void engine_entry_add_missed(struct qentry *en, int64_t uid)
{
	size_t i;

	for (i = 0; i < en->n_missed && en->missed[i] != uid; i++)
		;
	if (i == en->n_missed && en->n_missed == QENTRY_MAX_MISSED) { /* forget the oldest */
		memmove(en->missed, en->missed + 1, (QENTRY_MAX_MISSED - 1) * sizeof(int64_t));
		memmove(en->missed_at, en->missed_at + 1,
			(QENTRY_MAX_MISSED - 1) * sizeof(int64_t));
		en->n_missed--;
		i = en->n_missed;
	}
	if (i == en->n_missed)
		en->n_missed++;
	en->missed[i] = uid;
	en->missed_at[i] = time_now_ms();
}

int routing_offer_missed(struct routing *r, int64_t ix_id, struct user *u, const char *why)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct ctr_seg *s;
	enum presence to;
	struct change *c;
	char text[160];

	if (u->offered_ix == ix_id)
		u->offered_ix = 0;
	if (!x || !x->entry || x->entry->offered_to != u->rec.id)
		return CC_ENOTFOUND; /* not (or no longer) ringing u */
	x->entry->offered_to = 0;
	engine_entry_add_missed(x->entry, u->rec.id);
	wb_missed(r, x, u);
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	if ((s = ctr_of(r, x)))
		s->rec.missed_offers++;
	snprintf(text, sizeof(text), "Offer to %s not answered (%s)", user_record(u)->user_name,
		 why);
	change_activity(c, x, "offer", "system", text);
	if (!agent_fsm_next(u->presence, AG_EV_OFFER_MISSED, &to))
		presence_apply_about(c, u, to, why, "system", x);
	log_info("interaction=%s agent=%s action=offer missed (%s)", x->rec.number,
		 user_record(u)->user_name, why);
	routing_dispatch_soon(r);
	return change_submit(c);
}

/* The call u handled ended: its handle time joins the queue's average. */
static void handle_time_note(struct routing *r, struct user *u)
{
	struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	struct queue *q = x ? queue_by_id(r, x->rec.queue_id) : NULL;
	int s;

	if (!q || !x->answered_at)
		return;
	s = (int)((time_now_ms() - x->answered_at + 500) / 1000);
	x->answered_at = 0; /* once per call */
	q->aht_s = q->aht_s ? (3 * q->aht_s + s + 2) / 4 : (s > 0 ? s : 1);
	log_debug("queue=%s interaction=%s action=handle time %d s, average %d s", q->rec.name,
		  x->rec.number, s, q->aht_s);
}

int routing_agent_call_ended(struct routing *r, struct user *u)
{
	struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	enum presence to;
	struct change *c;

	handle_time_note(r, u);
	if (agent_fsm_next(u->presence, AG_EV_CALL_ENDED, &to)) {
		log_info("agent=%s action=presence rejected %s in %s", u->rec.user_name,
			 agent_event_name(AG_EV_CALL_ENDED), presence_name(u->presence));
		return CC_EILLEGAL;
	}
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	if (x) /* the contact ended; the record waits for the wrap-up */
		ctr_call_ended(c, x, u, to == PRES_AFTER_CALL_WORK);
	presence_apply(c, u, to, "call ended", "system");
	return change_submit(c);
}

/* ---- wrap-up timeout ---- */
static void wrapup_fired(uv_timer_t *t)
{
	struct user *u = t->data;
	struct routing *r = u->wrapup_r;

	if (u->presence == PRES_AFTER_CALL_WORK)
		routing_agent_clear(r, u, "Wrap-up time ended", "system", NULL, NULL);
	else if (u->presence == PRES_FAILED_CONNECT)
		outbound_failed_done(r, u);
}

/* The agent's one timer: AfterCallWork's wrap-up timeout, or how long
 * FailedConnectAgent shows before Available (ms). */
static void wrapup_arm(struct routing *r, struct user *u, int ms)
{
	if (!ms) {
		if (u->wrapup)
			uv_timer_stop(u->wrapup);
		return;
	}
	if (!u->wrapup) {
		u->wrapup = calloc(1, sizeof(*u->wrapup));
		if (!u->wrapup)
			return;
		uv_timer_init(r->loop, u->wrapup);
		u->wrapup->data = u;
		u->wrapup_r = r;
	}
	uv_timer_start(u->wrapup, wrapup_fired, (uint64_t)ms, 0);
}

void engine_on_presence(struct routing *r, struct user *u, enum presence from)
{
	if (u->presence == PRES_AVAILABLE) {
		u->idle_since = time_now_ms();
		routing_dispatch_soon(r);
	}
	wrapup_arm(r, u,
		   u->presence == PRES_AFTER_CALL_WORK	? r->wrapup_timeout_ms
		   : u->presence == PRES_FAILED_CONNECT ? ROUTING_FAILED_SHOW_MS
							: 0);
	wb_presence(r, u);
	(void)from;
}

/* ---- dispatch ----
 * Two passes over the waiting calls. The first never offers a call to an
 * agent who missed it. The second, for agents still free, allows one who
 * missed it but has made themselves Available again since: a call is not
 * stranded because every member once missed it (docs/DOMAIN.md). A phone
 * that could not ring leaves its agent Available, so it is not retried. */
static bool agent_eligible(struct routing *r, struct user *u, const struct qentry *en, bool again)
{
	int64_t missed = entry_missed_at(en, u->rec.id);

	return u->presence == PRES_AVAILABLE && user_can_handle_calls(r, u) && !u->offered_ix &&
	       u->rec.id != en->xfer_from && (!missed || (again && u->idle_since > missed)) &&
	       r->ops && r->ops->device_ready(r->ops_arg, u);
}

static struct user *best_agent(struct routing *r, const struct qentry *en, bool again)
{
	const struct queue *q = en->q;
	struct user *best = NULL;

	int best_prio = 0;

	/* The members of the lowest priority number first; the longest idle
	 * among them (docs/DOMAIN.md). */
	for (size_t k = 0; k < q->n_members; k++) {
		struct user *u = routing_user_by_id(r, q->members[k]);
		int prio = q->member_prio[k];
		if (!u || !agent_eligible(r, u, en, again))
			continue;
		if (!best || prio < best_prio ||
		    (prio == best_prio && u->idle_since < best->idle_since))
			best = u, best_prio = prio;
	}
	return best;
}

/* Rings u; false when the device could not be rung. */
static bool offer(struct routing *r, struct qentry *en, struct user *u)
{
	struct ctr_seg *s;

	en->offered_to = u->rec.id;
	u->offered_ix = en->x->rec.id;
	log_info("interaction=%s agent=%s queue=%s action=offer", en->x->rec.number,
		 user_record(u)->user_name, en->q->rec.name);
	if (r->ops->offer(r->ops_arg, en->x->rec.id, u)) {
		/* The device could not be rung: skip this agent for this call. */
		en->offered_to = 0;
		u->offered_ix = 0;
		engine_entry_add_missed(en, u->rec.id);
		return false;
	}
	s = en->xfer ? ctr_for_transfer(r, en->x) : ctr_of(r, en->x);
	if (s)
		s->rec.connection_attempts++;
	wb_offered(r, en->q, en->x, u);
	return true;
}

static int queue_cmp(const void *a, const void *b)
{
	const struct queue *qa = *(struct queue *const *)a, *qb = *(struct queue *const *)b;

	return qa->rec.priority != qb->rec.priority
		       ? qa->rec.priority - qb->rec.priority
		       : (qa->rec.id > qb->rec.id) - (qa->rec.id < qb->rec.id);
}

static void dispatch(struct routing *r)
{
	size_t n = r->n_queues;
	struct queue **order;

	if (!r->ops || r->dispatching || !n)
		return;
	order = malloc(n * sizeof(*order));
	if (!order) {
		log_error("dispatch: out of memory");
		return;
	}
	r->dispatching = true;
	for (size_t i = 0; i < n; i++)
		order[i] = r->queues[i];
	qsort(order, n, sizeof(order[0]), queue_cmp);
	for (int again = 0; again < 2; again++) {
		for (size_t i = 0; i < n; i++) {
			struct qentry *en, *next;
			for (en = order[i]->head; en; en = next) {
				struct user *u;
				next = en->next;
				if (en->offered_to)
					continue;
				/* A phone that cannot be rung skips that agent
				 * for this call: try the next (each member once). */
				for (size_t tries = 0; tries < en->q->n_members; tries++) {
					u = best_agent(r, en, again);
					if (!u || offer(r, en, u))
						break;
				}
			}
		}
	}
	r->dispatching = false;
	free(order);
}

void routing_queue_today(const struct routing *r, size_t i, uint32_t *offered, uint32_t *answered,
			 uint32_t *abandoned)
{
	const struct queue *q = r->queues[i];

	*offered = q->wb.offered, *answered = q->wb.answered, *abandoned = q->wb.abandoned;
}
