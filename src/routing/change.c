/*
 * change.c — applying changes: the presence and interaction entry points,
 * users and roles, sign-in bookkeeping and crash recovery.
 *
 * DESIGN
 * - A change is built as a list of store ops plus the events it will
 *   announce. It is applied to memory at once, written in order, and its
 *   events and the caller's done callback run when the store has committed.
 *   If the commit fails the caller gets the error (the API answers 5xx) and
 *   the log says so; memory keeps the new state, which the next successful
 *   write persists (presence rows are upserts).
 * - The outbox (routing_outbox_set: webhooks) sees each event before the
 *   write and may add one op per event, last, to the same ops: the events
 *   of a committed change are in the outbox by the same commit, and a
 *   change that is not stored leaves none there.
 */
#define LOG_MODULE "routing"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_op *change_op(struct change *c, enum store_op_kind kind)
{
	struct store_op *op;

	assert(c->n_ops < CHANGE_MAX_BASE_OPS);
	op = &c->ops[c->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

struct change_event *change_ev(struct change *c, enum routing_event_kind kind, const struct user *u,
			       const char *actor)
{
	struct change_event *e;

	assert(c->n_ev < CHANGE_MAX_EVENTS);
	e = &c->ev[c->n_ev++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->user_id = u ? u->rec.id : 0;
	e->at = time_now_ms();
	str_copy(e->actor, actor ? actor : "system", sizeof(e->actor));
	return e;
}

/* The event as the handler sees it; its strings live as long as e. */
static void change_event_view(const struct change *c, const struct change_event *e,
			      struct routing_event *ev)
{
	struct routing *r = c->r;

	*ev = (struct routing_event){
		.kind = e->kind,
		.user = routing_user_by_id(r, e->user_id),
		.at = e->at,
		.from = e->from,
		.to = e->to,
		.reason = e->reason,
		.interaction = e->interaction,
		.actor = e->actor,
		.ctr = e->ctr_op ? &c->ops[e->ctr_op - 1].u.ctr : NULL,
	};
}

/* Adds the outbox's op for each event that has one, after every other op. */
static void change_outbox_add(struct change *c)
{
	struct routing *r = c->r;
	struct routing_event ev;

	for (size_t i = 0; r->outbox && i < c->n_ev; i++) {
		struct store_op *op = &c->ops[c->n_ops];
		int rc;

		assert(c->n_ops < CHANGE_MAX_OPS);
		memset(op, 0, sizeof(*op));
		change_event_view(c, &c->ev[i], &ev);
		rc = r->outbox->event_op(r->outbox_arg, &ev, op);
		if (rc > 0) {
			c->n_ops++, c->n_outbox++;
		} else if (rc < 0) {
			log_error("interaction=%s action=outbox event not queued for webhooks: %s",
				  ev.interaction, cc_strerror(rc));
		}
	}
}

/* Frees the outbox ops' bodies (store_write has copied them). */
static void change_outbox_release(struct change *c)
{
	for (size_t i = 0; i < c->n_ops; i++) {
		if (c->ops[i].kind == STORE_OP_OUTBOX_INSERT) {
			free(c->ops[i].u.outbox.body);
			c->ops[i].u.outbox.body = NULL;
		}
	}
}

static void change_committed(int err, void *arg)
{
	struct change *c = arg;
	struct routing *r = c->r;
	struct routing_event ev;

	if (err)
		log_error("a change of %zu ops was not stored: %s", c->n_ops, cc_strerror(err));
	for (size_t i = 0; !err && r->ev_h && i < c->n_ev; i++) {
		change_event_view(c, &c->ev[i], &ev);
		r->ev_h(&ev, r->ev_arg);
	}
	if (!err && c->n_outbox && r->outbox && r->outbox->committed)
		r->outbox->committed(r->outbox_arg);
	if (c->done)
		c->done(err ? CC_ESTORE : 0, c->arg);
	free(c);
}

int change_submit(struct change *c)
{
	int err;

	if (c->r->audit_next) { /* in the same transaction as the change */
		struct store_op *op = change_op(c, STORE_OP_AUDIT_INSERT);
		op->u.audit = *c->r->audit_next;
		free(c->r->audit_next);
		c->r->audit_next = NULL;
	}
	change_outbox_add(c);
	err = store_write(c->r->store, c->ops, c->n_ops, change_committed, c);
	change_outbox_release(c);
	if (err)
		free(c);
	return err;
}

struct change *change_new(struct routing *r, routing_done_h *done, void *arg)
{
	struct change *c = calloc(1, sizeof(*c));

	if (c)
		c->r = r, c->done = done, c->arg = arg;
	return c;
}

/* Adds an activity-stream entry for interaction x. */
void change_activity(struct change *c, const struct ix *x, const char *kind, const char *actor,
		     const char *text)
{
	change_activity_id(c, x->rec.id, kind, actor, text);
}

void change_activity_id(struct change *c, int64_t ix_id, const char *kind, const char *actor,
			const char *text)
{
	struct store_op *op = change_op(c, STORE_OP_ACTIVITY_INSERT);

	op->u.activity.interaction_id = ix_id;
	op->u.activity.at = time_now_ms();
	str_copy(op->u.activity.kind, kind, sizeof(op->u.activity.kind));
	str_copy(op->u.activity.actor, actor ? actor : "system", sizeof(op->u.activity.actor));
	str_copy(op->u.activity.text, text, sizeof(op->u.activity.text));
}

/* ---- presence ---- */
void presence_apply_about(struct change *c, struct user *u, enum presence to, const char *reason,
			  const char *actor, const struct ix *about)
{
	struct store_op *op = change_op(c, STORE_OP_PRESENCE_CHANGE);
	struct change_event *e = change_ev(c, RT_EV_PRESENCE, u, actor);
	struct ix *x = u->ix_id ? routing_ix_by_id(c->r, u->ix_id) : NULL;
	enum presence from = u->presence;
	const char *number = about ? about->rec.number : u->ix_number;
	char text[256];

	log_info("agent=%s action=presence %s→%s reason='%s' interaction=%s actor=%s",
		 u->rec.user_name, presence_name(u->presence), presence_name(to), reason, number,
		 e->actor);
	str_copy(e->from, presence_name(u->presence), sizeof(e->from));
	str_copy(e->to, presence_name(to), sizeof(e->to));
	str_copy(e->reason, reason, sizeof(e->reason));
	str_copy(e->interaction, number, sizeof(e->interaction));
	u->presence = to;
	u->presence_since = e->at;
	engine_on_presence(c->r, u, from);
	str_copy(u->away_reason, to == PRES_AWAY ? reason : "", sizeof(u->away_reason));
	op->u.presence =
		(struct st_presence_change){.user_id = u->rec.id,
					    .at = e->at,
					    .interaction_id = about ? about->rec.id : u->ix_id};
	str_copy(op->u.presence.from, e->from, sizeof(op->u.presence.from));
	str_copy(op->u.presence.to, e->to, sizeof(op->u.presence.to));
	str_copy(op->u.presence.reason, reason, sizeof(op->u.presence.reason));
	if (x || about) { /* the interaction held, or the one offered (a missed offer) */
		snprintf(text, sizeof(text), "Agent %s: %s → %s%s%s", u->rec.user_name, e->from,
			 e->to, reason[0] ? " — " : "", reason);
		change_activity(c, x ? x : about, "presence", actor, text);
	}
}

void presence_apply(struct change *c, struct user *u, enum presence to, const char *reason,
		    const char *actor)
{
	presence_apply_about(c, u, to, reason, actor, NULL);
}

int routing_agent_event(struct routing *r, struct user *u, enum agent_event ev, const char *reason,
			const char *actor, routing_done_h *done, void *arg)
{
	enum presence to;
	struct change *c;
	int err;

	err = agent_fsm_next(u->presence, ev, &to);
	if (err) {
		log_info("agent=%s action=presence rejected %s in %s", u->rec.user_name,
			 agent_event_name(ev), presence_name(u->presence));
		return err;
	}
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	presence_apply(c, u, to, reason ? reason : "", actor);
	return change_submit(c);
}

int routing_presence_request(struct routing *r, struct user *u, enum presence to,
			     const char *reason, const char *actor, routing_done_h *done, void *arg)
{
	enum agent_event ev;

	if (!reason)
		reason = "";
	switch (to) {
	case PRES_AVAILABLE: ev = AG_EV_GO_AVAILABLE; break;
	case PRES_AWAY: ev = AG_EV_GO_AWAY; break;
	case PRES_OFFLINE: ev = AG_EV_GO_OFFLINE; break;
	default: return CC_EILLEGAL; /* set by the system, never asked for */
	}
	if (to == PRES_AVAILABLE && !user_can_handle_calls(r, u))
		return CC_EFORBIDDEN;
	if (u->presence == to && (to != PRES_AWAY || !strcmp(u->away_reason, reason))) {
		if (done)
			done(0, arg);
		return 0;
	}
	return routing_agent_event(r, u, ev, reason, actor, done, arg);
}

/* ---- interactions ---- */
/* The interaction's record as it is now, written with the change. */
void change_ix_store(struct change *c, const struct ix *x)
{
	change_op(c, STORE_OP_INTERACTION_UPDATE)->u.interaction = x->rec;
}

int ix_apply(struct change *c, struct ix *x, enum ix_event ev, const struct user *agent,
	     const char *reason, const char *actor)
{
	enum ix_state to;
	struct store_op *op;
	struct change_event *e;
	char text[256], url[96] = "";
	const char *why;

	if (ix_fsm_next(x->state, ev, &to))
		return CC_EILLEGAL;
	log_info("interaction=%s action=%s %s→%s actor=%s", x->rec.number, ix_event_name(ev),
		 ix_state_label(x->state), ix_state_label(to), actor ? actor : "system");
	e = change_ev(c, RT_EV_INTERACTION, agent, actor);
	str_copy(e->from, ix_state_name(x->state), sizeof(e->from));
	str_copy(e->to, ix_state_name(to), sizeof(e->to));
	str_copy(e->interaction, x->rec.number, sizeof(e->interaction));
	str_copy(e->reason, reason ? reason : "", sizeof(e->reason));
	if (x->recorded)
		routing_recording_url(x->rec.number, url, sizeof(url));
	why = ix_reason_label(reason);
	snprintf(text, sizeof(text), "State: %s → %s (%s)%s%s%s%s", ix_state_label(x->state),
		 ix_state_label(to), ix_event_label(ev), why[0] ? " — " : "", why,
		 url[0] ? "; recording: " : "", url);
	x->state = to;
	x->rec.queued = x->rec.queued || to == IX_QUEUED; /* has entered a queue */
	str_copy(x->rec.state, ix_state_name(to), sizeof(x->rec.state));
	if (to == IX_CLOSED_COMPLETE || to == IX_CLOSED_ABANDONED) {
		x->rec.closed_at = e->at;
		str_copy(x->rec.close_reason, reason && reason[0] ? reason : ix_event_name(ev),
			 sizeof(x->rec.close_reason));
	}
	op = change_op(c, STORE_OP_INTERACTION_UPDATE);
	op->u.interaction = x->rec;
	change_activity(c, x, "state", actor, text);
	if (to == IX_CLOSED_COMPLETE || to == IX_CLOSED_ABANDONED)
		ctr_closed(c, x, ev); /* its last segment's record is final */
	return 0;
}

/* Links an open interaction to the record a call flow found for its caller
 * (issue 10): a case wins over the caller's own record, which only fills an
 * empty link. Stored with the interaction; an activity entry says so. */
int routing_ix_link(struct routing *r, int64_t ix_id, const char *table, const char *key)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	bool is_case = !strcmp(table, "case");
	struct store_op *op;
	struct change *c;
	char text[128];

	if (!x || !key[0])
		return CC_ENOTFOUND;
	if (!strcmp(x->rec.linked_table, table) && !strcmp(x->rec.linked_number, key))
		return 0;
	if (x->rec.linked_table[0] && (!is_case || !strcmp(x->rec.linked_table, "case")))
		return 0; /* the first case stays; a party never replaces a link */
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	str_copy(x->rec.linked_table, table, sizeof(x->rec.linked_table));
	str_copy(x->rec.linked_number, key, sizeof(x->rec.linked_number));
	op = change_op(c, STORE_OP_INTERACTION_UPDATE);
	op->u.interaction = x->rec;
	snprintf(text, sizeof(text), "Linked to %s %s (found by the call flow)", table, key);
	change_activity(c, x, "caller", "system", text);
	return change_submit(c);
}

int64_t routing_ix_id_of(const char *number)
{
	char *end;
	long long v;

	if (strncmp(number, "INT", 3) || !number[3] || number[3] < '0' || number[3] > '9')
		return 0;
	v = strtoll(number + 3, &end, 10);
	return *end || v < 1000 ? 0 : (int64_t)(v - 1000);
}

/* An open interaction by its number, or NULL. */
static struct ix *ix_by_number(struct routing *r, const char *number)
{
	int64_t id = routing_ix_id_of(number);
	struct ix *x = id ? routing_ix_by_id(r, id) : NULL;

	return x && !strcmp(x->rec.number, number) ? x : NULL;
}

int routing_ix_add_note(struct routing *r, const char *number, const struct user *by,
			bool any_agent, const char *text, routing_done_h *done, void *arg)
{
	struct ix *x = ix_by_number(r, number);
	struct change *c;

	if (!x || (!any_agent && x->rec.agent_user_id != by->rec.id && by->ix_id != x->rec.id))
		return CC_ENOTFOUND;
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	change_activity(c, x, "note", by->rec.user_name, text);
	return change_submit(c);
}

/* Removes a closed interaction from memory (history stays in the store). */
void ix_forget_if_closed(struct routing *r, struct ix *x)
{
	if (x->state == IX_CLOSED_COMPLETE || x->state == IX_CLOSED_ABANDONED) {
		HASH_DEL(r->open, x);
		ctr_free(x);
		free(x);
	}
}

int routing_agent_clear(struct routing *r, struct user *u, const char *note, const char *actor,
			routing_done_h *done, void *arg)
{
	return routing_agent_clear_code(r, u, "", note, actor, done, arg);
}

int routing_agent_clear_code(struct routing *r, struct user *u, const char *code, const char *note,
			     const char *actor, routing_done_h *done, void *arg)
{
	struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	enum presence to;
	struct change *c;
	bool mine;

	if (agent_fsm_next(u->presence, AG_EV_CLEAR, &to))
		return CC_EILLEGAL;
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	if (x && note && note[0])
		change_activity(c, x, "note", actor, note);
	/* after a transfer the interaction is closed by its assignee only */
	mine = x && x->rec.agent_user_id == u->rec.id;
	if (mine && code && code[0])
		str_copy(x->rec.wrap_up_code, code, sizeof(x->rec.wrap_up_code));
	if (mine && ix_apply(c, x, IX_EV_CLEAR, u, "", actor)) {
		free(c);
		return CC_EILLEGAL;
	}
	ctr_user_acw_end(c, u, code); /* a segment they left by a transfer */
	presence_apply(c, u, to, "", actor);
	u->ix_id = 0;
	u->ix_number[0] = '\0';
	if (x)
		ix_forget_if_closed(r, x);
	return change_submit(c);
}

/* ---- users and roles ---- */
static void user_op(struct change *c, enum store_op_kind kind, const struct user *u)
{
	change_op(c, kind)->u.user = u->rec;
}

int routing_user_create(struct routing *r, const struct st_user *rec, unsigned roles,
			routing_done_h *done, void *arg, struct user **up)
{
	struct st_user nrec = *rec;
	struct change *c;
	struct user *u;
	int err;

	if (routing_user_find(r, rec->user_name))
		return CC_ECONFLICT;
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	nrec.id = r->next_user_id++;
	nrec.created_at = time_now_ms();
	err = user_add(r, &nrec, &u);
	if (err) {
		free(c);
		return err;
	}
	u->roles = roles;
	user_op(c, STORE_OP_USER_INSERT, u);
	change_op(c, STORE_OP_AGENT_UPSERT)->u.agent =
		(struct st_agent){.user_id = u->rec.id,
				  .presence = "Offline",
				  .presence_since = nrec.created_at,
				  .capacity = 1};
	for (int i = 0; i < ROLE__N; i++) {
		if (!(roles & ROLE_BIT(i)))
			continue;
		struct store_op *op = change_op(c, STORE_OP_ROLE_GRANT);
		op->u.role.user_id = u->rec.id;
		str_copy(op->u.role.role, role_name(i), sizeof(op->u.role.role));
	}
	*up = u;
	return change_submit(c);
}

int routing_user_update(struct routing *r, struct user *u, const struct st_user *rec,
			routing_done_h *done, void *arg)
{
	struct change *c = change_new(r, done, arg);
	int64_t id = u->rec.id, created = u->rec.created_at;
	char name[ST_NAME];

	if (!c)
		return -ENOMEM;
	/* user_name is the key: keep it, so the hash entry stays valid. */
	str_copy(name, u->rec.user_name, sizeof(name));
	u->rec = *rec;
	u->rec.id = id;
	u->rec.created_at = created;
	str_copy(u->rec.user_name, name, sizeof(u->rec.user_name));
	user_op(c, STORE_OP_USER_UPDATE, u);
	return change_submit(c);
}

int routing_role_set(struct routing *r, struct user *u, enum role role, bool grant,
		     const char *actor, routing_done_h *done, void *arg)
{
	struct change *c;
	struct store_op *op;
	struct change_event *e;
	bool has = u->roles & ROLE_BIT(role);

	if (has == grant) {
		if (done)
			done(0, arg);
		return 0;
	}
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	u->roles = grant ? u->roles | ROLE_BIT(role) : u->roles & ~ROLE_BIT(role);
	op = change_op(c, grant ? STORE_OP_ROLE_GRANT : STORE_OP_ROLE_REVOKE);
	op->u.role.user_id = u->rec.id;
	str_copy(op->u.role.role, role_name(role), sizeof(op->u.role.role));
	e = change_ev(c, RT_EV_ROLES, u, actor);
	str_copy(e->to, grant ? "granted" : "revoked", sizeof(e->to));
	str_copy(e->reason, role_name(role), sizeof(e->reason));
	log_info("user=%s action=role %s %s actor=%s", u->rec.user_name, e->to, e->reason,
		 e->actor);
	if (grant)
		routing_dispatch_soon(r);
	return change_submit(c);
}

/* ---- sign-in bookkeeping ---- */
void routing_user_signed_in(struct routing *r, struct user *u)
{
	u->sessions++;
	if (user_is_agent(u) && u->presence == PRES_OFFLINE)
		routing_agent_event(r, u, AG_EV_GO_AWAY, "Signed in", u->rec.user_name, NULL, NULL);
}

void routing_user_signed_out(struct routing *r, struct user *u)
{
	if (u->sessions > 0)
		u->sessions--;
	if (u->sessions == 0 && user_is_agent(u))
		routing_agent_event(r, u, AG_EV_GO_OFFLINE, "Signed out", u->rec.user_name, NULL,
				    NULL);
}

/* ---- crash recovery ---- */
/* A call left in progress: its segment's record is made from what the
 * store kept and ends now (system); the agent's wrap-up begins now. */
static void recover_ctr(struct routing *r, struct ix *x, struct change *c)
{
	struct ctr_seg *s = ctr_of(r, x);
	struct user *u = x->rec.agent_user_id ? routing_user_by_id(r, x->rec.agent_user_id) : NULL;
	int64_t now = time_now_ms();

	if (!s || s->ended) /* a second recovery: written already */
		return;
	ctr_end(s, CTR_REASON_SYSTEM, now);
	if (u && u->ix_id == x->rec.id &&
	    (u->presence == PRES_BUSY || u->presence == PRES_AFTER_CALL_WORK))
		s->rec.acw_start_at = now;
	ctr_put(c, s, false, now);
}

static int recover_ix(struct routing *r, struct ix *x, struct change *c)
{
	if (x->state == IX_WIP && x->rec.agent_user_id) {
		recover_ctr(r, x, c); /* its agent wraps it up (see recover_agent) */
		return 0;
	}
	/* Work in Progress with nobody assigned: it waited in a transfer's
	 * queue when the server stopped; nobody would ever close it */
	if (x->state == IX_WIP)
		recover_ctr(r, x, c);
	return ix_apply(c, x, IX_EV_SYSTEM_CLOSE, NULL, "server_restart", "system");
}

/* Returns true when it moved the agent one step towards a settled state. */
static bool recover_agent(struct routing *r, struct user *u, struct change *c)
{
	enum agent_event ev;
	enum presence to;

	switch (u->presence) {
	case PRES_BUSY: ev = AG_EV_CALL_ENDED; break;
	case PRES_CALLING_CUSTOMER: ev = AG_EV_OUTBOUND_FAILED; break;
	case PRES_FAILED_CONNECT: ev = AG_EV_FAILED_DONE; break;
	case PRES_AVAILABLE:
	case PRES_AWAY:
	case PRES_MISSED:
		if (u->sessions) /* still signed in: keep the presence */
			return false;
		ev = AG_EV_GO_OFFLINE;
		break;
	default: return false;
	}
	if (agent_fsm_next(u->presence, ev, &to))
		return false;
	presence_apply(c, u, to, "server_restart", "system");
	return true;
}

/* An outbound call still connecting when the server stopped never reached
 * the customer: its interaction (Work in Progress since the dial, SPEC.md
 * §3) is closed, and the agent no longer holds it. */
static int recover_outbound(struct routing *r, struct user *u, struct change *c)
{
	struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	int err;

	if (u->presence != PRES_CALLING_CUSTOMER && u->presence != PRES_FAILED_CONNECT)
		return 0;
	if (!x || x->state != IX_WIP)
		return 0;
	err = ix_apply(c, x, IX_EV_SYSTEM_CLOSE, u, "server_restart", "system");
	if (!err) {
		u->ix_id = 0;
		u->ix_number[0] = '\0';
		ix_forget_if_closed(r, x);
	}
	return err;
}

static int recover_flush(struct routing *r, struct change *c)
{
	int err;

	change_outbox_add(c);
	err = c->n_ops ? store_apply_now(r->store, c->ops, c->n_ops) : 0;
	change_outbox_release(c);
	memset(c, 0, sizeof(*c));
	c->r = r;
	return err;
}

int routing_recover(struct routing *r)
{
	struct change c = {.r = r};
	struct ix *x, *tmp;
	int err = 0, n = 0;

	HASH_ITER(hh, r->open, x, tmp)
	{
		if (!err && !recover_ix(r, x, &c) && x->state != IX_WIP)
			n++;
		err = err ? err : recover_flush(r, &c);
		ix_forget_if_closed(r, x);
	}
	/* CallingCustomer → FailedConnectAgent → Available → Offline: a few steps. */
	for (size_t i = 0; !err && i < r->n_users; i++) {
		err = recover_outbound(r, r->users[i], &c);
		err = err ? err : recover_flush(r, &c);
		for (int step = 0; !err && step < 3 && recover_agent(r, r->users[i], &c); step++)
			err = recover_flush(r, &c);
	}
	if (n)
		log_warn("closed %d interactions left open by the last run (server_restart)", n);
	return err;
}
