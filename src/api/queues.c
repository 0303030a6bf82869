/*
 * queues.c — queues over the API (SPEC.md §9):
 *   GET /api/v1/queues, GET /api/v1/queues/{name}   (signed in)
 *   POST /api/v1/queues, PATCH|DELETE /api/v1/queues/{name}   (admin)
 *   PUT|DELETE /api/v1/queues/{name}/members/{user_name} {"priority"}   (admin)
 *
 * DESIGN
 * - The body is decoded (json_req.c), then checked against the site here:
 *   the overflow queue exists and is another queue, the hold music loads,
 *   members are users. Then one routing change applies it in memory and
 *   commits it with its audit entry; the reply comes after the commit
 *   (routing: queues.c). Calls already waiting keep the settings they
 *   entered with; the next caller gets the new ones.
 * - Delete is refused while callers wait (409 queue_busy), while a number
 *   leads to the queue or a flow names it (409 queue_in_use, naming which).
 *   A rename is refused while a flow names the queue (the flow would no
 *   longer load).
 */
#define LOG_MODULE "api"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The queue named in the path (segment 3); 404 when none. */
static int64_t path_queue(struct api_req *q, size_t *index)
{
	int64_t id = routing_queue_id(q->api->r, q->segs[3]);

	if (id <= 0) {
		api_reply_error(q, 404, "not_found", "no queue '%.64s'", q->segs[3]);
		return 0;
	}
	for (size_t i = 0; i < routing_queue_count(q->api->r); i++) {
		struct queue_view v;
		routing_queue_view(q->api->r, i, &v);
		if (v.id == id)
			*index = i;
	}
	return id;
}

static size_t queue_index(struct routing *r, int64_t id)
{
	struct queue_view v;

	for (size_t i = 0; i < routing_queue_count(r); i++) {
		routing_queue_view(r, i, &v);
		if (v.id == id)
			return i;
	}
	return 0;
}

void api_route_queues_list(struct api_req *q)
{
	json_t *a = json_array();
	struct queue_view v;

	for (size_t i = 0; i < routing_queue_count(q->api->r); i++) {
		routing_queue_view(q->api->r, i, &v);
		if (!v.rec->deleted)
			json_array_append_new(a, view_queue(q->api->r, i));
	}
	api_reply_json(q, 200, json_pack("{s:o}", "queues", a));
}

void api_route_queue_get(struct api_req *q)
{
	size_t i = 0;

	if (path_queue(q, &i))
		api_reply_json(q, 200, view_queue(q->api->r, i));
}

/* ---- writes ---- */
struct queue_job {
	struct api_req *q;
	int64_t id;
	int status; /* 200 or 201 */
};

static void queue_saved(int err, void *arg)
{
	struct queue_job *j = arg;
	struct api_req *q = j->q;

	if (err)
		api_reply_err(q, err, "the queue change was applied but not stored");
	else if (j->status == 204)
		api_reply_json(q, 200, json_pack("{s:s,s:b}", "name", q->segs[3], "deleted", 1));
	else
		api_reply_json(q, j->status, view_queue(q->api->r, queue_index(q->api->r, j->id)));
	api_req_release(q);
	free(j);
}

static struct queue_job *job_new(struct api_req *q, int64_t id, int status)
{
	struct queue_job *j = calloc(1, sizeof(*j));

	if (!j) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		return NULL;
	}
	j->q = api_req_hold(q), j->id = id, j->status = status;
	return j;
}

/* The routing call failed at once: reply and drop the job. */
static void job_failed(struct queue_job *j, int err)
{
	struct api_req *q = j->q;

	routing_audit_attach(q->api->r, NULL);
	if (err == CC_ECONFLICT)
		api_reply_error(q, 409, "conflict", "a queue with that name exists");
	else if (err == -EBUSY)
		api_reply_error(q, 409, "queue_busy",
				"callers are waiting in queue '%.64s': it can be deleted once "
				"they have been answered or have left",
				q->segs[3]);
	else
		api_reply_err(q, err, "cannot change the queue");
	api_req_release(q);
	free(j);
}

/* The body's members as users; 400 naming the first unknown one. */
static int members_resolve(struct api_req *q, const struct req_queue *b, struct user **users)
{
	for (size_t k = 0; k < b->n_members; k++) {
		users[k] = routing_user_find(q->api->r, b->members[k]);
		if (!users[k]) {
			api_reply_error(q, 400, "invalid_body", "member %zu: no user '%.64s'",
					k + 1, b->members[k]);
			return -EINVAL;
		}
	}
	return 0;
}

/* Checks what the decoder cannot (the site) and applies b over rec. */
static int settings_apply(struct api_req *q, const struct req_queue *b, int64_t self,
			  struct st_queue *rec)
{
	char err[700];

	if (b->has_name)
		str_copy(rec->name, b->name, sizeof(rec->name));
	if (b->has_priority)
		rec->priority = b->priority;
	if (b->has_sl)
		rec->sl_threshold_s = b->sl_s;
	if (b->has_max_wait)
		rec->max_wait_s = b->max_wait_s;
	if (b->has_strategy)
		str_copy(rec->strategy, b->strategy, sizeof(rec->strategy));
	if (b->has_sl_abandons)
		str_copy(rec->sl_abandons, b->sl_abandons, sizeof(rec->sl_abandons));
	if (b->has_codes)
		str_copy(rec->wrap_up_codes, b->wrap_up_codes, sizeof(rec->wrap_up_codes));
	if (b->has_overflow) {
		int64_t to =
			b->overflow_queue[0] ? routing_queue_id(q->api->r, b->overflow_queue) : 0;
		if (b->overflow_queue[0] && (to <= 0 || to == self)) {
			api_reply_error(q, 400, "invalid_body",
					to <= 0 ? "'overflow_queue': no queue named '%.64s'"
						: "'overflow_queue' must be another queue, not "
						  "'%.64s' itself",
					b->overflow_queue);
			return -EINVAL;
		}
		rec->overflow_queue_id = to;
	}
	if (b->has_hold_music) {
		if (b->hold_music[0] && (b->hold_music[0] == '/' || strstr(b->hold_music, ".."))) {
			api_reply_error(q, 400, "invalid_body",
					"'hold_music' must be a WAV file under calls.flows_dir, "
					"named relative to it (no '/' at the start, no '..')");
			return -EINVAL;
		}
		if (b->hold_music[0] && q->api->cc &&
		    callctl_music_check(q->api->cc, b->hold_music, err, sizeof(err))) {
			api_reply_error(q, 400, "invalid_body", "'hold_music' %.256s: %.400s",
					b->hold_music, err);
			return -EINVAL;
		}
		str_copy(rec->hold_music, b->hold_music, sizeof(rec->hold_music));
	}
	if ((rec->max_wait_s > 0) != (rec->overflow_queue_id > 0)) {
		api_reply_error(q, 400, "invalid_body",
				"'max_wait_seconds' and 'overflow_queue' go together: after the "
				"maximum wait the caller moves to the overflow queue (0 and \"\" "
				"for neither)");
		return -EINVAL;
	}
	return 0;
}

static json_t *settings_json(const struct st_queue *rec, const struct routing *r)
{
	return json_pack("{s:s,s:i,s:i,s:s,s:i,s:s,s:s,s:s}", "name", rec->name, "priority",
			 rec->priority, "service_level_seconds", rec->sl_threshold_s,
			 "service_level_abandons", rec->sl_abandons[0] ? rec->sl_abandons : "met",
			 "max_wait_seconds", rec->max_wait_s, "overflow_queue",
			 rec->overflow_queue_id ? routing_queue_name(r, rec->overflow_queue_id)
						: "",
			 "hold_music", rec->hold_music, "wrap_up_codes", rec->wrap_up_codes);
}

static json_t *members_json(const struct req_queue *b)
{
	json_t *o = json_object();

	for (size_t k = 0; k < b->n_members; k++)
		json_object_set_new(o, b->members[k], json_integer(b->member_prio[k]));
	return o;
}

static int body_decode(struct api_req *q, bool create, struct req_queue *b)
{
	char err[API_ERRSZ];

	return api_reply_bad_body(
		       q, req_decode_queue(q->body, q->body_len, create, b, err, sizeof(err)), err)
		       ? -EINVAL
		       : 0;
}

void api_route_queue_create(struct api_req *q)
{
	struct req_queue *b = calloc(1, sizeof(*b));
	struct user **users = calloc(REQ_QUEUE_MEMBERS, sizeof(*users));
	struct st_queue rec = {.sl_threshold_s = 20};
	struct queue_member_list m;
	struct queue_job *j;
	json_t *after;
	int err;

	if (!b || !users) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		goto out;
	}
	str_copy(rec.strategy, "longest_idle", sizeof(rec.strategy));
	str_copy(rec.sl_abandons, "met", sizeof(rec.sl_abandons));
	if (body_decode(q, true, b) || members_resolve(q, b, users) ||
	    settings_apply(q, b, 0, &rec))
		goto out;
	if (routing_queue_id(q->api->r, b->name) > 0) {
		api_reply_error(q, 409, "conflict", "queue '%s' exists", b->name);
		goto out;
	}
	j = job_new(q, 0, 201);
	if (!j)
		goto out;
	m = (struct queue_member_list){users, b->member_prio, b->n_members};
	after = settings_json(&rec, q->api->r);
	json_object_set_new(after, "members", members_json(b));
	api_audit(q, "queue.create", rec.name, NULL, after);
	err = routing_queue_create(q->api->r, &rec, &m, queue_saved, j, &j->id);
	if (err)
		job_failed(j, err);
out:
	free(b);
	free(users);
}

void api_route_queue_update(struct api_req *q)
{
	struct req_queue *b = calloc(1, sizeof(*b));
	struct user **users = calloc(REQ_QUEUE_MEMBERS, sizeof(*users));
	struct queue_member_list m;
	struct st_queue rec;
	struct queue_job *j;
	size_t i = 0;
	int64_t id;
	char why[300];
	json_t *before, *after;
	int err;

	if (!b || !users) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		goto out;
	}
	id = path_queue(q, &i);
	if (!id || body_decode(q, false, b) || members_resolve(q, b, users))
		goto out;
	rec = *routing_queue_rec(q->api->r, id);
	if (settings_apply(q, b, id, &rec))
		goto out;
	if (b->has_name && strcmp(b->name, q->segs[3]) && q->api->cc &&
	    callctl_queue_in_use(q->api->cc, id, q->segs[3], false, why, sizeof(why))) {
		api_reply_error(q, 409, "queue_in_use",
				"queue '%.64s' cannot be renamed while %s: change the flow first",
				q->segs[3], why);
		goto out;
	}
	j = job_new(q, id, 200);
	if (!j)
		goto out;
	m = (struct queue_member_list){users, b->member_prio, b->n_members};
	before = settings_json(routing_queue_rec(q->api->r, id), q->api->r);
	after = settings_json(&rec, q->api->r);
	if (b->has_members)
		json_object_set_new(after, "members", members_json(b));
	api_audit(q, "queue.update", q->segs[3], before, after);
	err = routing_queue_update(q->api->r, id, &rec, b->has_members ? &m : NULL, queue_saved, j);
	if (err)
		job_failed(j, err);
out:
	free(b);
	free(users);
}

void api_route_queue_delete(struct api_req *q)
{
	struct queue_job *j;
	size_t i = 0;
	int64_t id = path_queue(q, &i);
	char why[300];
	int err;

	if (!id)
		return;
	if (q->api->cc &&
	    callctl_queue_in_use(q->api->cc, id, q->segs[3], true, why, sizeof(why))) {
		api_reply_error(
			q, 409, "queue_in_use",
			"queue '%.64s' cannot be deleted while %s: point it elsewhere first",
			q->segs[3], why);
		return;
	}
	j = job_new(q, id, 204);
	if (!j)
		return;
	api_audit(q, "queue.delete", q->segs[3],
		  settings_json(routing_queue_rec(q->api->r, id), q->api->r), NULL);
	err = routing_queue_delete(q->api->r, id, queue_saved, j);
	if (err)
		job_failed(j, err);
}

/* ---- members ---- */
void api_route_queue_member(struct api_req *q)
{
	struct queue_job *j;
	size_t i = 0;
	int64_t id = path_queue(q, &i);
	struct user *u;
	char err[API_ERRSZ], object[ST_TEXT];
	int prio = 1, rc;
	bool put = q->method == M_PUT;

	if (!id)
		return;
	u = routing_user_find(q->api->r, q->segs[5]);
	if (!u) {
		api_reply_error(q, 404, "not_found", "no user '%.64s'", q->segs[5]);
		return;
	}
	if (put &&
	    api_reply_bad_body(q, req_decode_member(q->body, q->body_len, &prio, err, sizeof(err)),
			       err))
		return;
	if (!put && !routing_queue_member_priority(q->api->r, i, u)) {
		api_reply_error(q, 404, "not_found", "%.64s is not a member of queue '%.64s'",
				q->segs[5], q->segs[3]);
		return;
	}
	j = job_new(q, id, 200);
	if (!j)
		return;
	snprintf(object, sizeof(object), "%.60s/%.60s", q->segs[3], q->segs[5]);
	api_audit(q, put ? "queue.member_set" : "queue.member_remove", object,
		  routing_queue_member_priority(q->api->r, i, u)
			  ? json_pack("{s:i}", "priority",
				      routing_queue_member_priority(q->api->r, i, u))
			  : NULL,
		  put ? json_pack("{s:i}", "priority", prio) : NULL);
	rc = put ? routing_queue_member_set(q->api->r, id, u, prio, queue_saved, j)
		 : routing_queue_member_remove(q->api->r, id, u, queue_saved, j);
	if (rc)
		job_failed(j, rc);
}
