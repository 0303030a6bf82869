/*
 * transcripts.c — call transcripts over REST (docs/TRANSCRIPTS.md):
 *   GET  /api/v1/interactions/{number}/transcript   the transcript
 *   POST /api/v1/interactions/{number}/transcript   a manager asks for one
 *   GET  /api/v1/transcripts/policy                 which queues are transcribed
 *   PUT  /api/v1/transcripts/policy/{queue name|default} {"percent": 0..100}
 *   DELETE /api/v1/transcripts/policy/{queue name}  the queue follows the default
 *
 * DESIGN
 * - Who may read a transcript is who may fetch the recording (recording.c):
 *   the interaction's assigned agent, voice managers and administrators; to
 *   anyone else it does not exist (404). Only managers ask for one; only
 *   administrators change the policy (audited, in the same transaction).
 * - The transcript's utterances are stored as JSON and sent as they are
 *   (parsed once here so a damaged row is a 500, never bad JSON out).
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_transcript_set(struct api *a, struct transcript *t)
{
	if (a)
		a->transcript = t;
}

static bool number_ok(struct api_req *q, const char *num)
{
	if (strlen(num) >= ST_NUMBER || strspn(num, "INT0123456789") != strlen(num)) {
		api_reply_error(q, 404, "not_found", "no interaction %.32s", num);
		return false;
	}
	return true;
}

static bool may_see(const struct api_req *q, const struct store_transcript *t)
{
	return api_is_manager(q->user) || t->ix.agent_user_id == user_record(q->user)->id;
}

static json_t *transcript_json(const struct store_transcript *t, json_t *utts)
{
	const struct st_transcript *x = &t->t;
	json_t *o = json_pack(
		"{s:s,s:s,s:s,s:s,s:o,s:i,s:I,s:I,s:o,s:o,s:o}", "interaction", t->ix.number,
		"status", x->status, "engine", x->engine, "reason", x->reason, "requested_by",
		x->requested_by[0] ? json_string(x->requested_by) : json_null(), "redacted",
		x->redacted, "audio_ms", (json_int_t)x->audio_ms, "decode_ms",
		(json_int_t)x->decode_ms, "created_at", view_time(x->created_at), "updated_at",
		view_time(x->updated_at), "utterances", utts);

	if (o && x->error[0])
		json_object_set_new(o, "error", json_string(x->error));
	return o;
}

static void get_done(int err, struct store_transcript *t, void *arg)
{
	struct api_req *q = arg;
	json_t *utts;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else if (!t->found || !may_see(q, t))
		api_reply_error(q, 404, "not_found", "no interaction %s", q->segs[3]);
	else if (!t->has)
		api_reply_error(q, 404, "no_transcript",
				"interaction %s has no transcript (not recorded, not chosen by the "
				"transcription policy, or transcripts are off)",
				q->segs[3]);
	else if (!(utts = json_loads(t->t.utterances, 0, NULL)) || !json_is_array(utts)) {
		json_decref(utts);
		api_reply_error(q, 500, "store_failed", "the transcript of %s is damaged",
				q->segs[3]);
	} else
		api_reply_json(q, 200, transcript_json(t, utts));
	api_req_release(q);
}

void api_route_transcript_get(struct api_req *q)
{
	if (!number_ok(q, q->segs[3]))
		return;
	if (store_transcript_get(q->api->st, q->segs[3], get_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

static void request_done(int err, struct store_transcript *t, void *arg)
{
	struct api_req *q = arg;
	struct transcript *tr = q->api->transcript;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else if (!t->found)
		api_reply_error(q, 404, "not_found", "no interaction %s", q->segs[3]);
	else if (!tr)
		api_reply_error(q, 503, "transcripts_off",
				"transcripts are off on this server (transcripts.enabled)");
	else {
		err = transcript_request(tr, t->ix.id, t->ix.number,
					 user_record(q->user)->user_name);
		if (err == -ENOENT)
			api_reply_error(q, 404, "no_recording", "interaction %s has no recording",
					t->ix.number);
		else if (err == -EBUSY)
			api_reply_error(q, 409, "already_queued",
					"the transcript of %s is queued or running already",
					t->ix.number);
		else if (err)
			api_reply_err(q, err, "");
		else
			api_reply_json(q, 202,
				       json_pack("{s:s,s:s}", "interaction", t->ix.number, "status",
						 "queued"));
	}
	api_req_release(q);
}

void api_route_transcript_request(struct api_req *q)
{
	if (!api_is_manager(q->user)) {
		api_reply_error(q, 403, "forbidden",
				"only voice managers and administrators ask for a transcript");
		return;
	}
	if (!number_ok(q, q->segs[3]))
		return;
	if (store_transcript_get(q->api->st, q->segs[3], request_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

/* ---- the policy ---- */
struct policy_list {
	const struct routing *r;
	json_t *a;
};

/* A queue deleted since keeps its row but is not listed. */
static void policy_row(int64_t queue_id, int percent, void *arg)
{
	struct policy_list *l = arg;
	const char *name = queue_id ? routing_queue_name(l->r, queue_id) : "default";

	if (name[0])
		json_array_append_new(l->a,
				      json_pack("{s:s,s:i}", "queue", name, "percent", percent));
}

static bool policy_ready(struct api_req *q)
{
	if (q->api->transcript)
		return true;
	api_reply_error(q, 503, "transcripts_off",
			"transcripts are off on this server (transcripts.enabled)");
	return false;
}

void api_route_transcript_policy(struct api_req *q)
{
	struct policy_list l = {q->api->r, NULL};

	if (!policy_ready(q))
		return;
	l.a = json_array();
	transcript_policy_each(q->api->transcript, policy_row, &l);
	api_reply_json(q, 200,
		       json_pack("{s:o,s:b}", "queues", l.a, "redact",
				 transcript_redacting(q->api->transcript)));
}

/* "default" or a queue's name; -1 after replying otherwise. */
static int64_t policy_queue(struct api_req *q)
{
	const char *s = q->segs[4];
	int64_t id;

	if (!strcmp(s, "default"))
		return 0;
	id = routing_queue_id(q->api->r, s);
	if (id <= 0) {
		api_reply_error(q, 404, "not_found",
				"no queue '%.40s' (a queue's name or 'default')", s);
		return -1;
	}
	return id;
}

static void policy_saved(int err, void *arg)
{
	struct api_req *q = arg;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else
		api_route_transcript_policy(q);
	api_req_release(q);
}

void api_route_transcript_policy_set(struct api_req *q)
{
	int64_t queue;
	int percent = -1, before, rc;
	char err[256], obj[48];
	struct store_op audit;

	if (!policy_ready(q) || (queue = policy_queue(q)) < 0)
		return;
	if (q->method == M_PUT) {
		rc = req_decode_transcript_policy(q->body, q->body_len, &percent, err, sizeof(err));
		if (api_reply_bad_body(q, rc, err))
			return;
	} else if (!queue) {
		api_reply_error(q, 400, "invalid_parameter",
				"the default cannot be removed (set its percent instead)");
		return;
	}
	before = transcript_policy_of(q->api->transcript, queue);
	snprintf(obj, sizeof(obj), "transcripts.policy/%s", q->segs[4]);
	api_audit_op(q, &audit, "transcripts.policy", obj, json_pack("{s:i}", "percent", before),
		     percent < 0 ? json_pack("{s:s}", "percent", "default")
				 : json_pack("{s:i}", "percent", percent));
	rc = transcript_policy_set(q->api->transcript, queue, percent, &audit, policy_saved,
				   api_req_hold(q));
	if (rc) {
		api_req_release(q);
		api_reply_err(q, rc, "");
	}
}
