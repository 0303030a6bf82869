/*
 * webhooks.c — the administrators' webhooks (issue 13, item 3;
 * docs/WEBHOOKS.md), admin only:
 *   GET    /api/v1/webhooks                                      → 200
 *   POST   /api/v1/webhooks {"url", "secret", "events", "active"?} → 201
 *   GET    /api/v1/webhooks/{id}                                 → 200
 *   PATCH  /api/v1/webhooks/{id} {"url"?, "secret"?, "events"?, "active"?} → 200
 *   DELETE /api/v1/webhooks/{id}                                 → 204
 *
 * DESIGN
 * - The secret is write-only: a view says "secret": {"set": true}, and the
 *   audit log says "(set)" or "(changed)", never the value.
 * - Edits follow the admin pattern (quickconn.c, telephony.c): decoded
 *   (json_req.c), applied by hook/ in memory at once, and written with the
 *   audit entry (webhook.create / .update / .delete) in one transaction;
 *   the reply waits for the commit.
 * - The views add "delivery": what the engine knows from memory (in
 *   flight, failures, the last attempt and its outcome, the next attempt)
 *   and the pending count, read from the outbox on the pool.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool hooks_on(struct api_req *q)
{
	if (!q->api->hook)
		api_reply_error(q, 503, "no_webhooks", "webhooks are not running on this server");
	return q->api->hook != NULL;
}

/* ---- views ---- */
static json_t *events_json(const char *text)
{
	unsigned mask = hook_events_mask(text);
	json_t *a = json_array();

	for (int i = 0; i < HOOK_EV__N; i++)
		if (mask & HOOK_EV_BIT(i))
			json_array_append_new(a, json_string(hook_event_name(i)));
	return a;
}

static json_t *delivery_json(struct api *a, int64_t id, const struct st_outbox_count *c)
{
	struct hook_status s;

	if (hook_status_get(a->hook, id, &s))
		memset(&s, 0, sizeof(s));
	return json_pack("{s:I,s:o,s:b,s:I,s:o,s:o,s:o,s:o,s:o}", "pending",
			 (json_int_t)(c ? c->pending : 0), "oldest_pending_at",
			 view_time(c ? c->oldest_at : 0), "in_flight", s.in_flight, "failures",
			 (json_int_t)s.failures, "last_attempt_at", view_time(s.last_attempt_at),
			 "last_success_at", view_time(s.last_success_at), "next_attempt_at",
			 view_time(s.next_attempt_at), "last_status",
			 s.last_status ? json_integer(s.last_status) : json_null(), "last_error",
			 s.last_error[0] ? json_string(s.last_error) : json_null());
}

/* c: its pending count (NULL: none known) */
static json_t *view_webhook(struct api *a, const struct st_webhook *w,
			    const struct st_outbox_count *c, bool delivery)
{
	json_t *o = json_pack("{s:I,s:s,s:o,s:b,s:{s:b},s:o,s:o}", "id", (json_int_t)w->id, "url",
			      w->url, "events", events_json(w->events), "active", w->active,
			      "secret", "set", w->secret[0] != '\0', "created_at",
			      view_time(w->created_at), "updated_at", view_time(w->updated_at));

	if (o && delivery)
		json_object_set_new(o, "delivery", delivery_json(a, w->id, c));
	return o;
}

static const struct st_outbox_count *count_of(const struct store_outbox_counts *c, int64_t id)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->rows[i].webhook_id == id)
			return &c->rows[i];
	return NULL;
}

/* ---- reads ---- */
struct wh_read {
	struct api_req *q;
	int64_t id; /* one webhook, 0 = the list */
};

static void counts_read(int err, const struct store_outbox_counts *c, void *arg)
{
	struct wh_read *rd = arg;
	struct api_req *q = rd->q;
	struct api *a = q->api;
	const struct st_webhook *w;
	json_t *list;

	if (err) {
		api_reply_err(q, CC_ESTORE, "");
	} else if (rd->id) {
		w = hook_find(a->hook, rd->id);
		if (w)
			api_reply_json(q, 200, view_webhook(a, w, count_of(c, w->id), true));
		else
			api_reply_error(q, 404, "not_found", "no webhook %lld", (long long)rd->id);
	} else {
		list = json_array();
		for (size_t i = 0; (w = hook_at(a->hook, i)); i++)
			json_array_append_new(list, view_webhook(a, w, count_of(c, w->id), true));
		api_reply_json(q, 200, json_pack("{s:o}", "webhooks", list));
	}
	api_req_release(q);
	free(rd);
}

static void read_start(struct api_req *q, int64_t id)
{
	struct wh_read *rd = calloc(1, sizeof(*rd));

	if (!rd) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		return;
	}
	rd->q = api_req_hold(q), rd->id = id;
	if (store_outbox_counts(q->api->st, counts_read, rd)) {
		api_req_release(q);
		free(rd);
		api_reply_error(q, 503, "overloaded", "the outbox cannot be read now; try again");
	}
}

void api_route_webhooks_list(struct api_req *q)
{
	if (hooks_on(q))
		read_start(q, 0);
}

/* The webhook of the path's id (segment 3); replied to when none. */
static const struct st_webhook *path_webhook(struct api_req *q)
{
	const char *s = q->segs[3];
	const struct st_webhook *w;
	long long id;

	if (!hooks_on(q))
		return NULL;
	if (!s[0] || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18) {
		api_reply_error(q, 400, "invalid_parameter",
				"'%.40s' is not a webhook id (a whole number, as GET "
				"/api/v1/webhooks lists them)",
				s);
		return NULL;
	}
	id = strtoll(s, NULL, 10);
	w = hook_find(q->api->hook, (int64_t)id);
	if (!w)
		api_reply_error(q, 404, "not_found", "no webhook %lld", id);
	return w;
}

void api_route_webhook_get(struct api_req *q)
{
	const struct st_webhook *w = path_webhook(q);

	if (w)
		read_start(q, w->id);
}

/* ---- writes ---- */
struct wh_job {
	struct api_req *q;
	int status; /* 201, 200 or 204 */
	struct st_webhook row;
};

static void wh_saved(int err, void *arg)
{
	struct wh_job *j = arg;
	struct api *a = j->q->api;
	const struct st_webhook *w = hook_find(a->hook, j->row.id);

	if (err)
		api_reply_err(j->q, err, "the webhook change was not stored");
	else if (j->status == 204)
		api_reply_json(j->q, 204, NULL);
	else
		api_reply_json(j->q, j->status, view_webhook(a, w ? w : &j->row, NULL, false));
	api_req_release(j->q);
	free(j);
}

static void wh_refused(struct wh_job *j, int err)
{
	struct api_req *q = j->q;

	if (err == -ENOSPC)
		api_reply_error(q, 409, "conflict",
				"there are %d webhooks already: delete one first", HOOK_MAX);
	else
		api_reply_err(q, err, "cannot change the webhook");
	api_req_release(q);
	free(j);
}

static struct wh_job *job_new(struct api_req *q, int status)
{
	struct wh_job *j = calloc(1, sizeof(*j));

	if (!j) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		return NULL;
	}
	j->q = api_req_hold(q), j->status = status;
	return j;
}

/* The audited fields; the secret only as "(set)". */
static json_t *audit_fields(const struct st_webhook *w)
{
	return w ? json_pack("{s:s,s:s,s:b,s:s}", "url", w->url, "events", w->events, "active",
			     w->active, "secret", "(set)")
		 : NULL;
}

/* The audit entry as an op; the object is the URL, cut to fit. */
static void audit(struct api_req *q, struct store_op *op, const char *action,
		  const struct st_webhook *before, const struct st_webhook *after,
		  bool secret_changed)
{
	char object[ST_TEXT];
	json_t *b = audit_fields(before), *a = audit_fields(after);

	if (a && before && secret_changed)
		json_object_set_new(a, "secret", json_string("(changed)"));
	api_audit_strip_equal(b, a);
	str_copy(object, (after ? after : before)->url, sizeof(object));
	api_audit_op(q, op, action, object, b, a);
}

static bool body_bad(struct api_req *q, bool create, struct req_webhook *b)
{
	char err[API_ERRSZ];

	return api_reply_bad_body(
		q, req_decode_webhook(q->body, q->body_len, create, b, err, sizeof(err)), err);
}

/* The body's fields over w. */
static void apply(struct st_webhook *w, const struct req_webhook *b)
{
	if (b->has_url)
		str_copy(w->url, b->url, sizeof(w->url));
	if (b->has_secret)
		str_copy(w->secret, b->secret, sizeof(w->secret));
	if (b->has_events)
		hook_events_text(b->events, w->events, sizeof(w->events));
	if (b->has_active)
		w->active = b->active;
}

void api_route_webhook_create(struct api_req *q)
{
	struct store_op op;
	struct req_webhook b;
	struct wh_job *j;
	int rc;

	if (!hooks_on(q) || body_bad(q, true, &b) || !(j = job_new(q, 201)))
		return;
	apply(&j->row, &b);
	j->row.active = b.active; /* true unless the body says false */
	audit(q, &op, "webhook.create", NULL, &j->row, false);
	rc = hook_create(q->api->hook, &j->row, &op, wh_saved, j, &j->row.id);
	if (rc)
		wh_refused(j, rc);
}

void api_route_webhook_update(struct api_req *q)
{
	const struct st_webhook *cur = path_webhook(q);
	struct store_op op;
	struct req_webhook b;
	struct wh_job *j;
	int rc;

	if (!cur || body_bad(q, false, &b) || !(j = job_new(q, 200)))
		return;
	j->row = *cur;
	apply(&j->row, &b);
	audit(q, &op, "webhook.update", cur, &j->row,
	      b.has_secret && strcmp(b.secret, cur->secret));
	rc = hook_update(q->api->hook, &j->row, &op, wh_saved, j);
	if (rc)
		wh_refused(j, rc);
}

void api_route_webhook_delete(struct api_req *q)
{
	const struct st_webhook *cur = path_webhook(q);
	struct store_op op;
	struct wh_job *j;
	int rc;

	if (!cur || !(j = job_new(q, 204)))
		return;
	j->row = *cur;
	audit(q, &op, "webhook.delete", cur, NULL, false);
	rc = hook_delete(q->api->hook, j->row.id, &op, wh_saved, j);
	if (rc)
		wh_refused(j, rc);
}
