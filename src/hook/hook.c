/*
 * hook.c — the webhooks in memory, their changes, and the outbox routing
 * writes events into (docs/WEBHOOKS.md).
 *
 * DESIGN
 * - The webhooks are loaded from the snapshot and kept in memory on the
 *   loop, in id order (ids come from the store's AUTOINCREMENT high-water
 *   mark and only grow). A change is applied in memory at once and written
 *   through the store's ordered writer with its audit entry in one
 *   transaction, like routing's admin changes; the caller's done runs after
 *   the commit.
 * - The outbox: routing shows us each event of a change before it writes
 *   it (routing_outbox_set). When an active webhook takes the event's type
 *   we render the body once, with a fresh event id, into an
 *   STORE_OP_OUTBOX_INSERT that goes into the change's own transaction; the
 *   store fans it out to every active webhook that takes the type. Because
 *   webhook changes and routing changes go through the same FIFO writer,
 *   the webhooks an event reaches are exactly those committed before it.
 *   active_mask (the types some active webhook takes) only saves rendering
 *   bodies nobody wants; it follows memory, which is ahead of the store in
 *   the same order, so it never drops an event the store would fan out.
 * - After such a change commits, routing calls committed(): the engine
 *   reads the new rows (deliver.c).
 */
#define LOG_MODULE "hook"
#include "hook/hook_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- lookups ---- */
static ssize_t wh_index(const struct hook *h, int64_t id)
{
	size_t lo = 0, hi = h->n_wh;

	while (lo < hi) { /* by id: binary search */
		size_t mid = (lo + hi) / 2;
		if (h->wh[mid]->rec.id == id)
			return (ssize_t)mid;
		if (h->wh[mid]->rec.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct hook_wh *hook_wh_find(const struct hook *h, int64_t id)
{
	ssize_t i = wh_index(h, id);

	return i < 0 ? NULL : h->wh[i];
}

size_t hook_count(const struct hook *h)
{
	return h->n_wh;
}

const struct st_webhook *hook_at(const struct hook *h, size_t i)
{
	return i < h->n_wh ? &h->wh[i]->rec : NULL;
}

const struct st_webhook *hook_find(const struct hook *h, int64_t id)
{
	struct hook_wh *w = hook_wh_find(h, id);

	return w ? &w->rec : NULL;
}

int hook_status_get(const struct hook *h, int64_t id, struct hook_status *s)
{
	struct hook_wh *w = hook_wh_find(h, id);

	if (!w)
		return -ENOENT;
	*s = w->st;
	s->in_flight = w->xfer != NULL;
	s->next_attempt_at = w->head < w->n ? w->wait_until : 0;
	return 0;
}

static void mask_update(struct hook *h)
{
	h->active_mask = 0;
	for (size_t i = 0; i < h->n_wh; i++)
		if (h->wh[i]->rec.active)
			h->active_mask |= h->wh[i]->mask;
}

/* ---- the outbox (routing_outbox) ---- */
static int outbox_event_op(void *arg, const struct routing_event *ev, struct store_op *op)
{
	struct hook *h = arg;
	struct st_outbox_event *o = &op->u.outbox;
	enum hook_event type;
	int err;

	if (hook_event_of_kind(ev->kind, &type) || !(h->active_mask & HOOK_EV_BIT(type)))
		return 0;
	err = token_random_hex(o->event_id, sizeof(o->event_id), 16);
	if (err)
		return err;
	o->body = hook_event_body(ev, o->event_id, &type);
	if (!o->body)
		return -ENOMEM;
	if (strlen(o->body) > HOOK_BODY_MAX) {
		free(o->body);
		o->body = NULL;
		return -E2BIG;
	}
	op->kind = STORE_OP_OUTBOX_INSERT;
	str_copy(o->type, hook_event_name(type), sizeof(o->type));
	o->at = time_now_ms();
	return 1;
}

static void outbox_committed(void *arg)
{
	deliver_kick(arg, NULL);
}

static const struct routing_outbox outbox = {
	.event_op = outbox_event_op,
	.committed = outbox_committed,
};

/* ---- lifecycle ---- */
static int wh_add(struct hook *h, const struct st_webhook *rec)
{
	struct hook_wh **nw, *w;

	if (h->n_wh >= HOOK_MAX)
		return -ENOSPC;
	w = calloc(1, sizeof(*w));
	nw = w ? realloc(h->wh, (h->n_wh + 1) * sizeof(*nw)) : NULL;
	if (!nw) {
		free(w);
		return -ENOMEM;
	}
	h->wh = nw;
	w->rec = *rec;
	w->mask = hook_events_mask(rec->events);
	w->dirty = true; /* whatever is pending from before */
	h->wh[h->n_wh++] = w;
	return 0;
}

static void wh_free(struct hook_wh *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->rows[i].body);
	free(w->rows);
	free(w);
}

int hook_alloc(struct hook **hp, uv_loop_t *loop, const struct config *cfg, struct store *st,
	       struct routing *r, const struct st_snapshot *snap)
{
	struct hook *h = calloc(1, sizeof(*h));
	int err = 0;

	if (!h)
		return -ENOMEM;
	h->loop = loop, h->st = st, h->r = r;
	h->timeout_ms = cfg->webhook_timeout_ms;
	h->backoff_min_ms = cfg->webhook_backoff_min_ms;
	h->backoff_max_ms = cfg->webhook_backoff_max_ms;
	h->retention_ms = (int64_t)cfg->webhook_retention_h * 3600000;
	h->next_id = snap->max_webhook_id + 1;
	for (size_t i = 0; !err && i < snap->n_webhooks; i++)
		err = wh_add(h, &snap->webhooks[i]);
	if (!err)
		err = deliver_init(h);
	if (err) {
		hook_free(h);
		return err;
	}
	mask_update(h);
	routing_outbox_set(r, &outbox, h);
	log_info("webhooks: %zu configured", h->n_wh);
	*hp = h;
	return 0;
}

void hook_start(struct hook *h)
{
	deliver_start(h);
}

void hook_stop(struct hook *h)
{
	if (h)
		deliver_stop(h);
}

void hook_free(struct hook *h)
{
	if (!h)
		return;
	if (h->r)
		routing_outbox_set(h->r, NULL, NULL);
	for (size_t i = 0; i < h->n_wh; i++)
		wh_free(h->wh[i]);
	free(h->wh);
	free(h);
}

/* ---- changes ---- */
struct hook_job {
	struct hook *h;
	int64_t created; /* a create's id: forgotten again if not stored */
	hook_done_h *done;
	void *arg;
};

static void wh_remove(struct hook *h, int64_t id)
{
	ssize_t i = wh_index(h, id);

	if (i < 0)
		return;
	deliver_forget(h, h->wh[i]);
	wh_free(h->wh[i]);
	h->n_wh--;
	memmove(&h->wh[i], &h->wh[i + 1], (h->n_wh - (size_t)i) * sizeof(*h->wh));
	mask_update(h);
}

static void job_committed(int err, void *arg)
{
	struct hook_job *j = arg;

	if (err && j->created) {
		log_error("webhook=%lld action=create not stored: %s", (long long)j->created,
			  cc_strerror(err));
		wh_remove(j->h, j->created);
	}
	if (j->done)
		j->done(err ? CC_ESTORE : 0, j->arg);
	free(j);
}

/* Writes op with the audit entry as one transaction. */
static int job_submit(struct hook *h, const struct store_op *op, const struct store_op *audit,
		      int64_t created, hook_done_h *done, void *arg)
{
	struct hook_job *j = calloc(1, sizeof(*j));
	struct store_op ops[2] = {*op};
	int err;

	if (!j)
		return -ENOMEM;
	j->h = h, j->created = created, j->done = done, j->arg = arg;
	if (audit)
		ops[1] = *audit;
	err = store_write(h->st, ops, audit ? 2 : 1, job_committed, j);
	if (err)
		free(j);
	return err;
}

int hook_create(struct hook *h, const struct st_webhook *w, const struct store_op *audit,
		hook_done_h *done, void *arg, int64_t *id)
{
	struct store_op op = {.kind = STORE_OP_WEBHOOK_SET};
	int err;

	op.u.webhook = *w;
	op.u.webhook.id = h->next_id;
	op.u.webhook.created_at = op.u.webhook.updated_at = time_now_ms();
	err = wh_add(h, &op.u.webhook);
	if (err)
		return err;
	h->next_id++;
	err = job_submit(h, &op, audit, op.u.webhook.id, done, arg);
	if (err) {
		wh_remove(h, op.u.webhook.id);
		return err;
	}
	mask_update(h);
	*id = op.u.webhook.id;
	log_info("webhook=%lld action=created url=%s events=%s active=%d", (long long)*id, w->url,
		 w->events, w->active);
	return 0;
}

int hook_update(struct hook *h, const struct st_webhook *w, const struct store_op *audit,
		hook_done_h *done, void *arg)
{
	struct store_op op = {.kind = STORE_OP_WEBHOOK_SET};
	struct hook_wh *cur = hook_wh_find(h, w->id);
	int err;

	if (!cur)
		return CC_ENOTFOUND;
	op.u.webhook = *w;
	op.u.webhook.created_at = cur->rec.created_at;
	op.u.webhook.updated_at = time_now_ms();
	err = job_submit(h, &op, audit, 0, done, arg);
	if (err)
		return err;
	cur->rec = op.u.webhook;
	cur->mask = hook_events_mask(cur->rec.events);
	mask_update(h);
	log_info("webhook=%lld action=updated url=%s events=%s active=%d", (long long)w->id, w->url,
		 w->events, w->active);
	deliver_kick(h, cur); /* reactivated, or a new URL: try the pending rows now */
	return 0;
}

int hook_delete(struct hook *h, int64_t id, const struct store_op *audit, hook_done_h *done,
		void *arg)
{
	struct store_op op = {.kind = STORE_OP_WEBHOOK_DELETE};
	int err;

	if (!hook_wh_find(h, id))
		return CC_ENOTFOUND;
	op.u.webhook.id = id;
	err = job_submit(h, &op, audit, 0, done, arg);
	if (err)
		return err;
	log_info("webhook=%lld action=deleted", (long long)id);
	wh_remove(h, id);
	return 0;
}
