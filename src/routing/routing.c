/*
 * routing.c — the in-memory directory (users, agents, queues, open
 * interactions, flags) and the one entry point per state machine.
 *
 * DESIGN
 * - Loaded once from the store snapshot; afterwards the loop thread owns it
 *   and every change is (1) validated against the FSM tables, (2) applied in
 *   memory, (3) written through store_write() in order, (4) announced to the
 *   event handler and reported to the caller once committed. Readers on the
 *   loop therefore always see the latest state; the store sees it in order.
 * - Users are found by name and by id through uthash tables (O(1)); the
 *   users array keeps id order for listing. Only open interactions are kept
 *   in memory; history is read from the store.
 * - Quick connects (the external numbers agents transfer to) are kept
 *   here too, beside the queues; their edits are in quickconn.c.
 * - Every presence change goes to presence_history; one that concerns an
 *   interaction goes to its activity stream too (SPEC.md §4).
 */
#define LOG_MODULE "routing"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lookups ---- */
struct user *routing_user_find(struct routing *r, const char *user_name)
{
	struct user *u = NULL;

	HASH_FIND(hh_name, r->by_name, user_name, strlen(user_name), u);
	return u;
}

static bool phone_same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!la || !lb)
		return false;
	if (la < lb) {
		const char *t = a;
		size_t tl = la;
		a = b, la = lb, b = t, lb = tl;
	}
	/* equal, or a is b with a country code of 1-3 digits in front */
	return la - lb <= 3 && lb >= 7 ? !strcmp(a + (la - lb), b) : !strcmp(a, b);
}

struct store *routing_store(struct routing *r)
{
	return r->store;
}

struct user *routing_user_by_phone(struct routing *r, const char *number)
{
	char want[32], have[32];
	struct user *u, *tmp;

	phone_digits(number, want, sizeof(want));
	if (!want[0])
		return NULL;
	HASH_ITER(hh_id, r->by_id, u, tmp)
	{
		if (!u->rec.active)
			continue;
		phone_digits(u->rec.mobile_phone, have, sizeof(have));
		if (phone_same(want, have))
			return u;
		phone_digits(u->rec.business_phone, have, sizeof(have));
		if (phone_same(want, have))
			return u;
	}
	return NULL;
}

struct user *routing_user_by_id(struct routing *r, int64_t id)
{
	struct user *u = NULL;

	HASH_FIND(hh_id, r->by_id, &id, sizeof(id), u);
	return u;
}

size_t routing_user_count(const struct routing *r)
{
	return r->n_users;
}

struct user *routing_user_at(struct routing *r, size_t i)
{
	return i < r->n_users ? r->users[i] : NULL;
}

const struct st_user *user_record(const struct user *u)
{
	return &u->rec;
}

unsigned user_roles(const struct user *u)
{
	return u->roles;
}

bool user_is_agent(const struct user *u)
{
	return roles_is_agent(u->roles);
}

bool user_can_handle_calls(const struct routing *r, const struct user *u)
{
	return u->rec.active && roles_can_handle_calls(u->roles, r->awa_enabled);
}

bool routing_awa_enabled(const struct routing *r)
{
	return r->awa_enabled;
}

struct ix *routing_ix_by_id(struct routing *r, int64_t id)
{
	struct ix *x = NULL;

	HASH_FIND(hh, r->open, &id, sizeof(id), x);
	return x;
}

void user_agent_view(const struct user *u, struct agent_view *v)
{
	v->presence = u->presence;
	v->away_reason = u->away_reason;
	v->presence_since = u->presence_since;
	v->interaction = u->ix_number;
}

void routing_event_handler_set(struct routing *r, routing_event_h *h, void *arg)
{
	r->ev_h = h;
	r->ev_arg = arg;
}

void routing_outbox_set(struct routing *r, const struct routing_outbox *ob, void *arg)
{
	r->outbox = ob;
	r->outbox_arg = arg;
}

const char *routing_flag_get(const struct routing *r, const char *name)
{
	for (size_t i = 0; i < r->n_flags; i++)
		if (!strcmp(r->flags[i].name, name))
			return r->flags[i].value;
	return NULL;
}

/* ---- building from the snapshot ---- */
int user_add(struct routing *r, const struct st_user *rec, struct user **up)
{
	struct user *u;

	if (r->n_users == r->cap_users) {
		size_t cap = r->cap_users ? r->cap_users * 2 : 32;
		struct user **nu = realloc(r->users, cap * sizeof(*nu));
		if (!nu)
			return -ENOMEM;
		r->users = nu, r->cap_users = cap;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->rec = *rec;
	u->presence = PRES_OFFLINE;
	u->presence_since = rec->created_at;
	r->users[r->n_users++] = u;
	HASH_ADD(hh_name, r->by_name, rec.user_name, strlen(u->rec.user_name), u);
	HASH_ADD(hh_id, r->by_id, rec.id, sizeof(u->rec.id), u);
	if (up)
		*up = u;
	return 0;
}

static int ix_add(struct routing *r, const struct st_interaction *rec)
{
	struct ix *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->rec = *rec;
	if (ix_state_parse(rec->state, &x->state))
		x->state = IX_NEW;
	if (x->state == IX_NEW && rec->queued)
		x->state = IX_QUEUED;
	HASH_ADD(hh, r->open, rec.id, sizeof(x->rec.id), x);
	return 0;
}

static void agent_load(struct routing *r, const struct st_agent *a)
{
	struct user *u = routing_user_by_id(r, a->user_id);
	struct ix *x;

	if (!u)
		return;
	if (presence_parse(a->presence, &u->presence))
		u->presence = PRES_OFFLINE;
	str_copy(u->away_reason, a->away_reason, sizeof(u->away_reason));
	u->presence_since = a->presence_since;
	/* longest idle survives a restart */
	u->idle_since = u->presence == PRES_AVAILABLE ? a->presence_since : 0;
	u->ix_id = a->interaction_id;
	x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	str_copy(u->ix_number, x ? x->rec.number : "", sizeof(u->ix_number));
}

static int queues_load(struct routing *r, const struct st_snapshot *s)
{
	int err = 0;

	for (size_t i = 0; !err && i < s->n_queues; i++) {
		struct queue *q;
		err = queue_add(r, &s->queues[i], &q);
		for (size_t k = 0; !err && k < s->n_members; k++)
			if (s->members[k].queue_id == q->rec.id)
				err = queue_member_put(q, s->members[k].user_id,
						       s->members[k].priority);
	}
	r->next_queue_id = s->max_queue_id + 1;
	return err;
}

static int snapshot_apply(struct routing *r, const struct st_snapshot *s)
{
	int err = 0;

	for (size_t i = 0; !err && i < s->n_users; i++)
		err = user_add(r, &s->users[i], NULL);
	for (size_t i = 0; !err && i < s->n_user_roles; i++) {
		struct user *u = routing_user_by_id(r, s->user_roles[i].user_id);
		enum role role;
		if (u && !role_parse(s->user_roles[i].role, &role))
			u->roles |= ROLE_BIT(role);
	}
	for (size_t i = 0; !err && i < s->n_open; i++)
		err = ix_add(r, &s->open[i]);
	for (size_t i = 0; !err && i < s->n_agents; i++)
		agent_load(r, &s->agents[i]);
	if (!err)
		err = queues_load(r, s);
	if (!err && s->n_flags) {
		r->flags = calloc(s->n_flags, sizeof(*r->flags));
		err = r->flags ? 0 : -ENOMEM;
		if (!err)
			memcpy(r->flags, s->flags, s->n_flags * sizeof(*r->flags));
		r->n_flags = s->n_flags;
	}
	if (!err)
		err = quick_load(r, s);
	for (size_t i = 0; i < s->n_sessions; i++) {
		struct user *u = routing_user_by_id(r, s->sessions[i].user_id);
		if (u && s->sessions[i].expires_at > time_now_ms())
			u->sessions++;
	}
	r->next_ix_id = s->max_interaction_id + 1;
	r->next_conv_id = s->max_conversation_id + 1;
	r->next_user_id = s->max_user_id + 1;
	return err;
}

int routing_alloc(struct routing **rp, uv_loop_t *loop, struct store *st, bool awa_enabled,
		  const struct st_snapshot *snap)
{
	struct routing *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->store = st;
	r->awa_enabled = awa_enabled;
	err = snapshot_apply(r, snap);
	if (err) {
		routing_free(r);
		return err;
	}
	*rp = r;
	return 0;
}

static void handle_free(uv_handle_t *h)
{
	free(h);
}

static void timer_close(uv_timer_t **tp)
{
	if (*tp)
		uv_close((uv_handle_t *)*tp, handle_free);
	*tp = NULL;
}

void routing_close(struct routing *r)
{
	if (!r)
		return;
	timer_close(&r->dispatch_timer);
	wb_free(r); /* closes its timers */
	for (size_t i = 0; i < r->n_users; i++)
		timer_close(&r->users[i]->wrapup);
}

void routing_free(struct routing *r)
{
	struct ix *x, *tmp;

	if (!r)
		return;
	wb_free(r); /* when routing_close did not run: no timer was started */
	HASH_CLEAR(hh_name, r->by_name);
	HASH_CLEAR(hh_id, r->by_id);
	for (size_t i = 0; i < r->n_users; i++) {
		free(r->users[i]->ctr_acw);
		free(r->users[i]);
	}
	free(r->users);
	HASH_ITER(hh, r->open, x, tmp)
	{
		engine_entry_remove(r, x);
		HASH_DEL(r->open, x);
		ctr_free(x);
		free(x);
	}
	for (size_t i = 0; i < r->n_queues; i++)
		queue_free(r->queues[i]);
	free(r->queues);
	free(r->audit_next);
	free(r->flags);
	free(r->quick);
	free(r);
}

/* ---- queues ---- */
size_t routing_queue_count(const struct routing *r)
{
	return r->n_queues;
}

void routing_queue_view(const struct routing *r, size_t i, struct queue_view *v)
{
	const struct queue *q = r->queues[i];

	int64_t now = time_now_ms();

	memset(v, 0, sizeof(*v));
	v->id = q->rec.id;
	v->name = q->rec.name;
	v->priority = q->rec.priority;
	v->sl_threshold_s = q->rec.sl_threshold_s;
	v->max_wait_s = q->rec.max_wait_s;
	v->rec = &q->rec;
	v->members = q->n_members;
	for (size_t k = 0; k < q->n_members; k++) {
		struct user *u = routing_user_by_id((struct routing *)r, q->members[k]);
		if (!u || u->presence == PRES_OFFLINE)
			continue;
		v->staffed++;
		if (u->presence == PRES_AVAILABLE && user_can_handle_calls(r, u))
			v->available++;
	}
	/* The queue's waiting list: queued callers and transfers waiting there. */
	for (const struct qentry *en = q->head; en; en = en->next) {
		v->waiting++;
		if (now - en->x->queued_at > v->longest_wait_ms)
			v->longest_wait_ms = now - en->x->queued_at;
	}
}

int64_t routing_queue_id(const struct routing *r, const char *name)
{
	for (size_t i = 0; i < r->n_queues; i++)
		if (!r->queues[i]->rec.deleted && !strcmp(r->queues[i]->rec.name, name))
			return r->queues[i]->rec.id;
	return 0;
}

const char *routing_queue_name(const struct routing *r, int64_t id)
{
	const struct queue *q = queue_by_id((struct routing *)r, id);

	return q ? q->rec.name : "";
}

size_t routing_queue_members(const struct routing *r, size_t i, const struct user **out, size_t max)
{
	const struct queue *q = r->queues[i];
	size_t n = 0;

	for (size_t k = 0; k < q->n_members && n < max; k++) {
		const struct user *u = routing_user_by_id((struct routing *)r, q->members[k]);
		if (u)
			out[n++] = u;
	}
	return n;
}
