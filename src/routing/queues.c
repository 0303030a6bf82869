/*
 * queues.c — the queues an administrator edits (SPEC.md §9; issue 10):
 * create, rename and the settings, delete, members and their priority, and
 * the wrap-up codes an agent picks from at Clear contact.
 *
 * DESIGN
 * - Every edit is one change (change.c): applied in memory first, so the
 *   routing engine's next dispatch and call control's next enqueue see it,
 *   then committed with its audit entry in one transaction; done runs after
 *   the commit. No restart, nothing cached elsewhere: call control reads a
 *   queue's music, maximum wait and overflow from routing_queue_rec when a
 *   caller enters it.
 * - Queues live behind pointers (r->queues is an array of them) because a
 *   waiting caller's entry points at its queue: growing the array must not
 *   move a queue.
 * - A deleted queue keeps its row and its place in memory, renamed
 *   "<name> (deleted <id>)" and without members, so interactions that were
 *   in it still show a name, and its old name is free again. Deleting is
 *   refused while callers wait in it: they would be stranded.
 * - A member's priority: 1 is offered calls first; among members of the
 *   same priority the longest idle gets the call (engine.c best_agent).
 */
#define LOG_MODULE "routing"
#include "routing/routing_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- in memory ---- */
struct queue *queue_by_id(struct routing *r, int64_t id)
{
	for (size_t i = 0; i < r->n_queues; i++)
		if (r->queues[i]->rec.id == id)
			return r->queues[i];
	return NULL;
}

int queue_add(struct routing *r, const struct st_queue *rec, struct queue **qp)
{
	struct queue *q;

	if (r->n_queues == r->cap_queues) {
		size_t cap = r->cap_queues ? r->cap_queues * 2 : 8;
		struct queue **na = realloc(r->queues, cap * sizeof(*na));
		if (!na)
			return -ENOMEM;
		r->queues = na, r->cap_queues = cap;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->rec = *rec;
	r->queues[r->n_queues++] = q;
	*qp = q;
	return 0;
}

static ssize_t member_index(const struct queue *q, int64_t user_id)
{
	for (size_t k = 0; k < q->n_members; k++)
		if (q->members[k] == user_id)
			return (ssize_t)k;
	return -1;
}

int queue_member_put(struct queue *q, int64_t user_id, int priority)
{
	ssize_t k = member_index(q, user_id);

	if (priority < 1)
		priority = 1;
	if (k < 0) {
		if (q->n_members == q->cap_members) {
			size_t cap = q->cap_members ? q->cap_members * 2 : 8;
			int64_t *nm = realloc(q->members, cap * sizeof(*nm));
			int *np;
			if (!nm)
				return -ENOMEM;
			q->members = nm;
			np = realloc(q->member_prio, cap * sizeof(*np));
			if (!np)
				return -ENOMEM;
			q->member_prio = np, q->cap_members = cap;
		}
		k = (ssize_t)q->n_members++;
		q->members[k] = user_id;
	}
	q->member_prio[k] = priority;
	return 0;
}

static void queue_member_drop(struct queue *q, size_t k)
{
	q->n_members--;
	memmove(&q->members[k], &q->members[k + 1], (q->n_members - k) * sizeof(*q->members));
	memmove(&q->member_prio[k], &q->member_prio[k + 1],
		(q->n_members - k) * sizeof(*q->member_prio));
}

void queue_free(struct queue *q)
{
	if (!q)
		return;
	free(q->members);
	free(q->member_prio);
	free(q);
}

const struct st_queue *routing_queue_rec(const struct routing *r, int64_t id)
{
	const struct queue *q = queue_by_id((struct routing *)r, id);

	return q ? &q->rec : NULL;
}

int routing_queue_member_priority(const struct routing *r, size_t i, const struct user *u)
{
	ssize_t k = member_index(r->queues[i], u->rec.id);

	return k < 0 ? 0 : r->queues[i]->member_prio[k];
}

size_t routing_queue_waiting(const struct routing *r, int64_t id)
{
	const struct queue *q = queue_by_id((struct routing *)r, id);

	return q ? q->waiting : 0;
}

/* ---- changes ---- */
static bool name_taken(struct routing *r, const char *name, int64_t except_id)
{
	for (size_t i = 0; i < r->n_queues; i++)
		if (r->queues[i]->rec.id != except_id && !strcmp(r->queues[i]->rec.name, name))
			return true;
	return false;
}

/* Commits ops (a queue's row and its member rows, any number) with the
 * attached audit entry as one write; done after the commit. */
static int queue_submit(struct routing *r, struct store_op *ops, size_t n, routing_done_h *done,
			void *arg)
{
	int err;

	if (r->audit_next) {
		ops[n].kind = STORE_OP_AUDIT_INSERT;
		ops[n++].u.audit = *r->audit_next;
	}
	routing_audit_attach(r, NULL);
	err = store_write(r->store, ops, n, done, arg);
	free(ops);
	routing_dispatch_soon(r); /* members, priorities: someone may take a call now */
	return err;
}

/* Room for the queue's row, a member reset, n members and the audit entry. */
static struct store_op *ops_new(size_t n)
{
	return calloc(n + 3, sizeof(struct store_op));
}

/* Replaces q's members with m (in memory and as ops from ops[at]); the
 * number of ops written. */
static size_t members_replace(struct queue *q, const struct queue_member_list *m,
			      struct store_op *ops)
{
	size_t n = 0;

	q->n_members = 0;
	ops[n].kind = STORE_OP_MEMBER_DELETE;
	ops[n++].u.member.queue_id = q->rec.id;
	for (size_t k = 0; k < m->n; k++) {
		int prio = m->priority && m->priority[k] > 0 ? m->priority[k] : 1;
		if (queue_member_put(q, m->users[k]->rec.id, prio))
			continue; /* out of memory: the stored list says what is kept */
		ops[n].kind = STORE_OP_MEMBER_ADD;
		ops[n++].u.member = (struct st_member){
			.queue_id = q->rec.id, .user_id = m->users[k]->rec.id, .priority = prio};
	}
	return n;
}

int routing_queue_create(struct routing *r, const struct st_queue *rec,
			 const struct queue_member_list *m, routing_done_h *done, void *arg,
			 int64_t *id)
{
	struct store_op *ops;
	struct queue *q;
	struct st_queue nrec = *rec;
	size_t n = 0;
	int err;

	if (name_taken(r, rec->name, 0))
		return CC_ECONFLICT;
	ops = ops_new(m ? m->n : 0);
	if (!ops)
		return -ENOMEM;
	nrec.id = r->next_queue_id, nrec.deleted = false;
	err = queue_add(r, &nrec, &q);
	if (err) {
		free(ops);
		return err;
	}
	r->next_queue_id++;
	ops[n].kind = STORE_OP_QUEUE_INSERT;
	ops[n++].u.queue = q->rec;
	if (m)
		n += members_replace(q, m, &ops[n]);
	*id = q->rec.id;
	log_info("queue=%s id=%lld action=created members=%zu", q->rec.name, (long long)q->rec.id,
		 q->n_members);
	wb_queue_changed(r, q);
	return queue_submit(r, ops, n, done, arg);
}

int routing_queue_update(struct routing *r, int64_t id, const struct st_queue *rec,
			 const struct queue_member_list *m, routing_done_h *done, void *arg)
{
	struct queue *q = queue_by_id(r, id);
	struct store_op *ops;
	size_t n = 0;

	if (!q || q->rec.deleted)
		return CC_ENOTFOUND;
	if (name_taken(r, rec->name, id))
		return CC_ECONFLICT;
	ops = ops_new(m ? m->n : 0);
	if (!ops)
		return -ENOMEM;
	q->rec = *rec;
	q->rec.id = id, q->rec.deleted = false;
	ops[n].kind = STORE_OP_QUEUE_UPDATE;
	ops[n++].u.queue = q->rec;
	if (m)
		n += members_replace(q, m, &ops[n]);
	log_info("queue=%s id=%lld action=updated", q->rec.name, (long long)id);
	wb_queue_changed(r, q);
	return queue_submit(r, ops, n, done, arg);
}

int routing_queue_delete(struct routing *r, int64_t id, routing_done_h *done, void *arg)
{
	struct queue *q = queue_by_id(r, id);
	struct store_op *ops;
	char name[ST_NAME];

	if (!q || q->rec.deleted)
		return CC_ENOTFOUND;
	if (q->waiting)
		return -EBUSY;
	ops = ops_new(0);
	if (!ops)
		return -ENOMEM;
	snprintf(name, sizeof(name), "%.40s (deleted %lld)", q->rec.name, (long long)id);
	log_info("queue=%s id=%lld action=deleted", q->rec.name, (long long)id);
	str_copy(q->rec.name, name, sizeof(q->rec.name));
	q->rec.deleted = true;
	q->n_members = 0;
	ops[0].kind = STORE_OP_QUEUE_UPDATE;
	ops[0].u.queue = q->rec;
	ops[1].kind = STORE_OP_MEMBER_DELETE;
	ops[1].u.member.queue_id = id;
	return queue_submit(r, ops, 2, done, arg);
}

int routing_queue_member_set(struct routing *r, int64_t id, struct user *u, int priority,
			     routing_done_h *done, void *arg)
{
	struct queue *q = queue_by_id(r, id);
	struct store_op *ops;
	int err;

	if (!q || q->rec.deleted)
		return CC_ENOTFOUND;
	ops = ops_new(0);
	if (!ops)
		return -ENOMEM;
	priority = priority < 1 ? 1 : priority;
	err = queue_member_put(q, u->rec.id, priority);
	if (err) {
		free(ops);
		return err;
	}
	ops[0].kind = STORE_OP_MEMBER_ADD;
	ops[0].u.member =
		(struct st_member){.queue_id = id, .user_id = u->rec.id, .priority = priority};
	log_info("queue=%s agent=%s action=member priority=%d", q->rec.name, u->rec.user_name,
		 priority);
	return queue_submit(r, ops, 1, done, arg);
}

int routing_queue_member_remove(struct routing *r, int64_t id, struct user *u, routing_done_h *done,
				void *arg)
{
	struct queue *q = queue_by_id(r, id);
	ssize_t k = q ? member_index(q, u->rec.id) : -1;
	struct store_op *ops;

	if (k < 0)
		return CC_ENOTFOUND;
	ops = ops_new(0);
	if (!ops)
		return -ENOMEM;
	queue_member_drop(q, (size_t)k);
	ops[0].kind = STORE_OP_MEMBER_DELETE;
	ops[0].u.member = (struct st_member){.queue_id = id, .user_id = u->rec.id};
	log_info("queue=%s agent=%s action=member removed", q->rec.name, u->rec.user_name);
	return queue_submit(r, ops, 1, done, arg);
}

/* ---- wrap-up codes ---- */
int routing_wrapup_code_check(struct routing *r, const struct user *u, const char *code,
			      char canon[ST_NAME], const char **codes)
{
	const struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	const struct queue *q = x ? queue_by_id(r, x->rec.queue_id) : NULL;
	const char *p;

	*codes = "";
	str_copy(canon, code, ST_NAME);
	if (!code[0] || !q || !q->rec.wrap_up_codes[0])
		return 0;
	*codes = q->rec.wrap_up_codes;
	for (p = q->rec.wrap_up_codes; *p;) {
		size_t n = strcspn(p, "\n");
		if (n == strlen(code) && !strncasecmp(p, code, n)) {
			memcpy(canon, p, n);
			canon[n] = '\0';
			return 0;
		}
		p += n + (p[n] == '\n');
	}
	return CC_ENOTFOUND;
}

/* ---- the audit log ---- */
int routing_audit_attach(struct routing *r, const struct st_audit *a)
{
	free(r->audit_next);
	r->audit_next = NULL;
	if (!a)
		return 0;
	r->audit_next = malloc(sizeof(*r->audit_next));
	if (!r->audit_next)
		return -ENOMEM;
	*r->audit_next = *a;
	if (!r->audit_next->at)
		r->audit_next->at = time_now_ms();
	return 0;
}
