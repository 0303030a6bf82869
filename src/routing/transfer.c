/*
 * transfer.c — the domain side of a transfer between agents (SPEC.md §6,
 * docs/DOMAIN.md "Transfers"): who may receive one, the second agent's
 * presence while it rings, is accepted, fails or is cancelled, and the
 * reassignment of the interaction when the first agent leaves.
 *
 * DESIGN
 * - Call control (callctl/xfer.c) owns the call's legs and phases; this
 *   file owns presence and the interaction record, each step one change
 *   (committed in order with its activity entry, then announced).
 * - While the second agent's phone rings they are reserved like an offer
 *   (u->offered_ix), so the routing engine offers them nothing else; their
 *   presence stays Available until they accept (→ Busy, as an accepted
 *   inbound call). A miss (reject, no answer) is a missed offer: → Missed.
 * - The interaction stays assigned to the first agent until they leave;
 *   then it is reassigned (IX_EV_REASSIGN, Work in Progress → Work in
 *   Progress) to the second, who wraps it up and clears it. An agent who
 *   took part without being assigned at the end (the first agent after
 *   leaving, a second agent whose consult was cancelled) goes to
 *   AfterCallWork like anyone whose call ended; their Clear contact adds
 *   their note to the interaction but does not close it (change.c).
 * - Counters: a transfer is counted once per agent (transferred_out for
 *   the first, transferred_in for the second, today), and not again for
 *   the queue: the queue counted the call when it was first answered. The
 *   handle time joins the queue's average once, when the last agent's call
 *   ends (answered_at is not reset by the reassignment).
 */
#define LOG_MODULE "routing"
#include "routing/routing_int.h"

#include <stdio.h>
#include <string.h>

static void day_roll(struct user *u)
{
	int64_t day = time_now_ms() / 86400000;

	if (u->xfer_day != day)
		u->xfer_day = day, u->xfer_in = 0, u->xfer_out = 0;
}

void routing_agent_transfers(const struct user *u, uint32_t *in, uint32_t *out)
{
	bool today = u->xfer_day == time_now_ms() / 86400000;

	*in = today ? u->xfer_in : 0, *out = today ? u->xfer_out : 0;
}

int routing_transfer_check(const struct routing *r, const struct user *from, const struct user *to,
			   const char **why)
{
	if (to == from) {
		*why = "you cannot transfer a call to yourself";
		return -EINVAL;
	}
	if (!user_can_handle_calls(r, to)) {
		*why = "that user may not take calls (both roles of an agent pair are needed)";
		return CC_EFORBIDDEN;
	}
	if (to->presence != PRES_AVAILABLE || to->offered_ix || to->ix_id) {
		*why = to->presence == PRES_AVAILABLE ? "that agent is being offered another call"
						      : "that agent is not Available";
		return CC_EILLEGAL;
	}
	if (!routing_agent_device_ready(r, to)) {
		*why = "that agent's phone is not registered";
		return -ENODEV;
	}
	return 0;
}

/* The queue a transfer goes to: the next segment's, else the interaction's. */
static const char *queue_name_of(const struct routing *r, const struct ix *x)
{
	return x->ctr_next && x->ctr_next->rec.queue[0] ? x->ctr_next->rec.queue
							: routing_queue_name(r, x->rec.queue_id);
}

/* One activity entry on the interaction, as its own change. */
static int note(struct routing *r, struct ix *x, const char *actor, const char *text)
{
	struct change *c = change_new(r, NULL, NULL);

	if (!c)
		return -ENOMEM;
	change_activity(c, x, "transfer", actor, text);
	return change_submit(c);
}

int routing_transfer_begin(struct routing *r, int64_t ix_id, struct user *from, struct user *to,
			   const char *text)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct ctr_seg *s;
	const char *why;

	if (!x || x->state != IX_WIP)
		return CC_ENOTFOUND;
	if (routing_transfer_check(r, from, to, &why))
		return CC_EILLEGAL;
	to->offered_ix = ix_id;
	if ((s = ctr_next_begin(r, x, "transfer"))) /* the next segment, if it completes */
		s->rec.connection_attempts = 1;
	log_info("interaction=%s agent=%s action=transfer to %s", x->rec.number,
		 user_record(from)->user_name, user_record(to)->user_name);
	return note(r, x, user_record(from)->user_name, text);
}

int routing_transfer_accepted(struct routing *r, int64_t ix_id, struct user *to)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	enum presence p;
	struct change *c;
	char text[160];

	if (!x || to->offered_ix != ix_id)
		return CC_ENOTFOUND;
	if (agent_fsm_next(to->presence, AG_EV_INBOUND_ACCEPTED, &p))
		return CC_EILLEGAL;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	if (x->entry && x->entry->xfer && x->entry->offered_to == to->rec.id) {
		wb_answered(r, x->entry->q, x, to); /* answered from the transfer's queue */
		engine_entry_remove(r, x);
	}
	to->offered_ix = 0;
	to->ix_id = x->rec.id;
	ctr_agent(ctr_for_transfer(r, x), to, time_now_ms());
	str_copy(to->ix_number, x->rec.number, sizeof(to->ix_number));
	snprintf(text, sizeof(text), "%s accepted the transfer", user_record(to)->name);
	change_activity(c, x, "transfer", user_record(to)->user_name, text);
	presence_apply(c, to, p, "transfer accepted", user_record(to)->user_name);
	return change_submit(c);
}

int routing_transfer_missed(struct routing *r, int64_t ix_id, struct user *to, const char *text,
			    const char *why)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct ctr_seg *s;
	enum presence p;
	struct change *c;

	if (!x || to->offered_ix != ix_id)
		return CC_ENOTFOUND;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	to->offered_ix = 0;
	if ((s = ctr_for_transfer(r, x)))
		s->rec.missed_offers++;
	if (x->entry && x->entry->xfer && x->entry->offered_to == to->rec.id) {
		x->entry->offered_to = 0; /* the queue offers the next agent */
		engine_entry_add_missed(x->entry, to->rec.id);
	}
	wb_missed(r, x, to);
	if (!x->entry || !x->entry->xfer)
		ctr_next_drop(x); /* a transfer to an agent ends with the miss */
	change_activity(c, x, "transfer", "system", text);
	if (!agent_fsm_next(to->presence, AG_EV_OFFER_MISSED, &p))
		presence_apply_about(c, to, p, why, "system", x);
	routing_dispatch_soon(r);
	return change_submit(c);
}

/* Out of a transfer's queue (cancelled, the customer gone): the agent it
 * rings, if any, is free again; call control drops their leg itself. */
static void xfer_entry_remove(struct routing *r, struct ix *x)
{
	struct user *u;

	if (!x->entry || !x->entry->xfer)
		return;
	u = x->entry->offered_to ? routing_user_by_id(r, x->entry->offered_to) : NULL;
	if (u && u->offered_ix == x->rec.id)
		u->offered_ix = 0;
	wb_left(r, x->entry->q, x, "transfer_ended");
	engine_entry_remove(r, x);
	routing_dispatch_soon(r);
}

int routing_transfer_dropped(struct routing *r, int64_t ix_id, struct user *to, const char *actor,
			     const char *text)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	int err;

	if (!x)
		return CC_ENOTFOUND;
	xfer_entry_remove(r, x);
	ctr_next_drop(x); /* the transfer did not complete: no next segment */
	if (!to) {
	} else if (to->offered_ix == ix_id) { /* still ringing: they stay Available */
		to->offered_ix = 0;
		routing_dispatch_soon(r);
	} else if (to->ix_id == ix_id && to->presence == PRES_BUSY) {
		err = routing_agent_event(r, to, AG_EV_CALL_ENDED, "transfer ended", actor, NULL,
					  NULL);
		if (err)
			return err;
	}
	return text ? note(r, x, actor, text) : 0;
}

int routing_transfer_enqueue(struct routing *r, int64_t ix_id, int64_t queue_id,
			     const struct user *from, const char *text)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct queue *q = queue_by_id(r, queue_id);
	struct qentry *en;
	struct change *c;

	if (!x || x->state != IX_WIP || x->entry)
		return CC_ENOTFOUND;
	if (!q || q->rec.deleted)
		return CC_ENOTFOUND;
	if (engine_entry_alloc(r, &en, &c))
		return -ENOMEM;
	en->xfer = true;
	en->xfer_from = from ? from->rec.id : 0;
	/* ahead of the callers who arrived after this call began; the
	 * interaction's queue (its wrap-up codes) is the new one */
	engine_entry_enter(q, x, en, x->rec.opened_at);
	wb_joined(r, q, x);
	ctr_enqueue(ctr_next_begin(r, x, "queue_transfer"), q, x->queued_at);
	change_activity(c, x, "transfer", from ? user_record(from)->user_name : "system", text);
	change_ix_store(c, x);
	log_info("interaction=%s queue=%s action=transfer to the queue", x->rec.number,
		 q->rec.name);
	routing_dispatch_soon(r);
	return change_submit(c);
}

int routing_transfer_unassign(struct routing *r, int64_t ix_id, struct user *from, const char *text)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	enum presence p;
	struct change *c;

	if (!x || x->state != IX_WIP || x->rec.agent_user_id != from->rec.id)
		return CC_ENOTFOUND;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	change_activity(c, x, "transfer", user_record(from)->user_name, text);
	x->rec.agent_user_id = 0;
	if (ix_apply(c, x, IX_EV_REASSIGN, NULL, "transfer", user_record(from)->user_name)) {
		free(c);
		return CC_EILLEGAL;
	}
	/* the first agent's segment ends here: the queue's begins */
	ctr_promote(c, x, from, from->presence == PRES_BUSY, "queue", queue_name_of(r, x));
	if (from->presence == PRES_BUSY && !agent_fsm_next(from->presence, AG_EV_CALL_ENDED, &p))
		presence_apply(c, from, p, "left the transferred call",
			       user_record(from)->user_name);
	day_roll(from);
	from->xfer_out++;
	return change_submit(c);
}

int routing_transfer_reassign(struct routing *r, int64_t ix_id, struct user *from, struct user *to)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	bool left_before = x && !x->rec.agent_user_id; /* a blind transfer to a queue */
	enum presence p;
	struct change *c;
	char text[300];

	if (!x || (!left_before && x->rec.agent_user_id != from->rec.id) || to->ix_id != ix_id)
		return CC_ENOTFOUND;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	if (!left_before) {
		snprintf(text, sizeof(text), "%s left", user_record(from)->name);
		change_activity(c, x, "transfer", user_record(from)->user_name, text);
	}
	x->rec.agent_user_id = to->rec.id;
	if (ix_apply(c, x, IX_EV_REASSIGN, to, "transfer", user_record(from)->user_name)) {
		free(c);
		return CC_EILLEGAL;
	}
	if (left_before) { /* the queue's segment began when the first agent left */
		struct ctr_seg *s = ctr_of(r, x);
		if (s && s->rec.agent_user_id != to->rec.id)
			ctr_agent(s, to, time_now_ms());
	} else { /* the first agent's segment ends; the second's begins */
		bool queue = x->ctr_next &&
			     !strcmp(x->ctr_next->rec.initiation_method, "queue_transfer");
		ctr_promote(c, x, from, from->presence == PRES_BUSY, queue ? "queue" : "agent",
			    queue ? x->ctr_next->rec.queue : user_record(to)->user_name);
	}
	snprintf(text, sizeof(text), "Reassigned from %s to %s", user_record(from)->name,
		 user_record(to)->name);
	change_activity(c, x, "transfer", "system", text);
	if (!left_before && from->presence == PRES_BUSY &&
	    !agent_fsm_next(from->presence, AG_EV_CALL_ENDED, &p))
		presence_apply(c, from, p, "left the transferred call",
			       user_record(from)->user_name);
	day_roll(from), day_roll(to);
	if (!left_before)
		from->xfer_out++;
	to->xfer_in++;
	log_info("interaction=%s action=reassigned from %s to %s", x->rec.number,
		 user_record(from)->user_name, user_record(to)->user_name);
	return change_submit(c);
}
