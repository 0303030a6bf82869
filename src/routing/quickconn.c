/*
 * quickconn.c — quick connects (SPEC.md §6; issue 12): the external numbers
 * an administrator defines, which an agent picks, beside the agents and
 * queues, to transfer a call to.
 *
 * DESIGN
 * - The list lives in memory (loaded from the snapshot, kept in id order)
 *   and every read is answered from it on the loop, like queues and flags.
 * - Every edit is one change: applied in memory at once, then written with
 *   the audit entry attached by the API (routing_audit_attach) as one
 *   transaction; done runs after the commit. If the commit fails the caller
 *   gets the error and memory keeps the change, as for queues (change.c).
 * - Names are unique in any ASCII case ("Legal desk" and "legal desk" would
 *   be one line twice in the agent's picker); the store's NOCASE index says
 *   the same, so the two can never disagree.
 * - Ids come from a counter loaded from the store's AUTOINCREMENT mark: a
 *   deleted quick connect's id is never given to another, even after a
 *   restart, so a stale PATCH or DELETE finds nothing instead of the wrong
 *   row.
 * - At most ROUTING_QUICK_MAX rows: the agent's picker is a short list, and
 *   an unbounded one would let a script grow the loop's memory.
 */
#define LOG_MODULE "routing"
#include "routing/routing_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* ---- loading and reading ---- */
int quick_load(struct routing *r, const struct st_snapshot *s)
{
	if (s->n_quick_connects) {
		r->quick = calloc(s->n_quick_connects, sizeof(*r->quick));
		if (!r->quick)
			return -ENOMEM;
		memcpy(r->quick, s->quick_connects, s->n_quick_connects * sizeof(*r->quick));
		r->n_quick = r->cap_quick = s->n_quick_connects;
	}
	r->next_quick_id = s->max_quick_connect_id + 1;
	return 0;
}

size_t routing_quick_count(const struct routing *r)
{
	return r->n_quick;
}

const struct st_quick_connect *routing_quick_at(const struct routing *r, size_t i)
{
	return i < r->n_quick ? &r->quick[i] : NULL;
}

static ssize_t quick_index(const struct routing *r, int64_t id)
{
	for (size_t i = 0; i < r->n_quick; i++)
		if (r->quick[i].id == id)
			return (ssize_t)i;
	return -1;
}

const struct st_quick_connect *routing_quick_find(const struct routing *r, int64_t id)
{
	ssize_t i = quick_index(r, id);

	return i < 0 ? NULL : &r->quick[i];
}

/* Another row (not except_id) already has this name, in any ASCII case. */
static bool quick_name_taken(const struct routing *r, const char *name, int64_t except_id)
{
	for (size_t i = 0; i < r->n_quick; i++)
		if (r->quick[i].id != except_id && !strcasecmp(r->quick[i].name, name))
			return true;
	return false;
}

/* ---- changes ---- */
/* Writes op with the attached audit entry as one transaction. */
static int quick_submit(struct routing *r, const struct store_op *op, routing_done_h *done,
			void *arg)
{
	struct store_op ops[2] = {*op};
	size_t n = 1;

	if (r->audit_next) {
		ops[n].kind = STORE_OP_AUDIT_INSERT;
		ops[n++].u.audit = *r->audit_next;
	}
	routing_audit_attach(r, NULL);
	return store_write(r->store, ops, n, done, arg);
}

int routing_quick_create(struct routing *r, const struct st_quick_connect *c, routing_done_h *done,
			 void *arg, int64_t *id)
{
	struct store_op op = {.kind = STORE_OP_QUICK_CONNECT_SET};

	if (quick_name_taken(r, c->name, 0))
		return CC_ECONFLICT;
	if (r->n_quick >= ROUTING_QUICK_MAX)
		return -ENOSPC;
	if (r->n_quick == r->cap_quick) {
		size_t cap = r->cap_quick ? r->cap_quick * 2 : 8;
		struct st_quick_connect *nq = realloc(r->quick, cap * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		r->quick = nq, r->cap_quick = cap;
	}
	op.u.quick = *c;
	op.u.quick.id = r->next_quick_id++;
	r->quick[r->n_quick++] = op.u.quick; /* ids only grow: id order holds */
	*id = op.u.quick.id;
	log_info("quick_connect=%lld action=created name='%s' number=%s", (long long)*id,
		 op.u.quick.name, op.u.quick.number);
	return quick_submit(r, &op, done, arg);
}

int routing_quick_update(struct routing *r, const struct st_quick_connect *c, routing_done_h *done,
			 void *arg)
{
	struct store_op op = {.kind = STORE_OP_QUICK_CONNECT_SET};
	ssize_t i = quick_index(r, c->id);

	if (i < 0)
		return CC_ENOTFOUND;
	if (quick_name_taken(r, c->name, c->id))
		return CC_ECONFLICT;
	r->quick[i] = *c;
	op.u.quick = *c;
	log_info("quick_connect=%lld action=updated name='%s' number=%s", (long long)c->id, c->name,
		 c->number);
	return quick_submit(r, &op, done, arg);
}

int routing_quick_delete(struct routing *r, int64_t id, routing_done_h *done, void *arg)
{
	struct store_op op = {.kind = STORE_OP_QUICK_CONNECT_DELETE};
	ssize_t i = quick_index(r, id);

	if (i < 0)
		return CC_ENOTFOUND;
	log_info("quick_connect=%lld action=deleted name='%s'", (long long)id, r->quick[i].name);
	r->n_quick--;
	memmove(&r->quick[i], &r->quick[i + 1], (r->n_quick - (size_t)i) * sizeof(*r->quick));
	op.u.quick.id = id;
	return quick_submit(r, &op, done, arg);
}
