/*
 * telephony.c — the admin's dialled numbers and trunks:
 *   GET /api/v1/numbers, PUT|DELETE /api/v1/numbers/{did} {"queue"}
 *   GET /api/v1/callable-numbers (any signed-in user: the browser caller's list)
 *   GET /api/v1/trunks,  PUT|DELETE /api/v1/trunks/{name}
 *       {"address", "username", "password"}
 *
 * DESIGN
 * - A change is applied to call control at once (the next INVITE sees it)
 *   and stored through the store's write queue; the reply waits for the
 *   commit, like every other write (docs/ARCHITECTURE.md).
 * - A trunk's password is kept only as HA1 = MD5(user:realm:password), as
 *   for agents' phones, and never shown: the listing says has_password.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct tel_write {
	struct api_req *q;
	json_t *ok; /* the 200 body */
};

static void tel_saved(int err, void *arg)
{
	struct tel_write *w = arg;

	if (err) {
		json_decref(w->ok);
		api_reply_err(w->q, err, "the change was applied but not stored");
	} else {
		api_reply_json(w->q, 200, w->ok);
	}
	api_req_release(w->q);
	free(w);
}

/* Stores op with its audit entry (before/after stolen); replies `ok`
 * (stolen) after the commit. */
static void tel_store(struct api_req *q, const struct store_op *op, json_t *ok, const char *action,
		      json_t *before, json_t *after)
{
	struct tel_write *w = calloc(1, sizeof(*w));
	struct store_op ops[2] = {*op};

	if (!w) {
		json_decref(ok);
		json_decref(before);
		json_decref(after);
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		return;
	}
	w->q = api_req_hold(q);
	w->ok = ok;
	api_audit_op(q, &ops[1], action, q->segs[3], before, after);
	if (store_write(q->api->st, ops, 2, tel_saved, w)) {
		api_req_release(q);
		json_decref(ok);
		free(w);
		api_reply_error(q, 503, "overloaded", "the change could not be queued for storing");
	}
}

static bool voice_on(struct api_req *q)
{
	if (!q->api->cc)
		api_reply_error(q, 503, "no_voice", "telephony is not running on this server");
	return q->api->cc != NULL;
}

/* ---- numbers ---- */
static json_t *view_number(struct api_req *q, const char *did, int64_t queue_id, const char *flow)
{
	json_t *o = json_pack("{s:s}", "number", did);
	const char *name = routing_queue_name(q->api->r, queue_id);

	if (flow && flow[0])
		json_object_set_new(o, "flow", json_string(flow));
	else if (name)
		json_object_set_new(o, "queue", json_string(name));
	return o;
}

struct numbers_list {
	struct api_req *q;
	json_t *a;
	const char *only; /* one number's view (its state before a change) */
};

static void number_add(const char *did, int64_t queue_id, const char *flow, void *arg)
{
	struct numbers_list *l = arg;

	if (!l->only || !strcmp(l->only, did))
		json_array_append_new(l->a, view_number(l->q, did, queue_id, flow));
}

/* The number's view now, NULL when there is no such number. */
static json_t *number_before(struct api_req *q, const char *did)
{
	struct numbers_list l = {q, json_array(), did};
	json_t *v;

	callctl_numbers_each(q->api->cc, number_add, &l);
	v = json_incref(json_array_get(l.a, 0));
	json_decref(l.a);
	return v;
}

void api_route_numbers_list(struct api_req *q)
{
	struct numbers_list l = {q, json_array(), NULL};

	if (!voice_on(q)) {
		json_decref(l.a);
		return;
	}
	callctl_numbers_each(q->api->cc, number_add, &l);
	api_reply_json(q, 200, json_pack("{s:o}", "numbers", l.a));
}

/* The numbers a browser may call (issue 15, the "Call us" page): the same
 * list, for any signed-in user — a customer like the demo's amy holds no
 * role, and a site's numbers are what it gives its callers anyway. */
void api_route_callable_numbers(struct api_req *q)
{
	api_route_numbers_list(q);
}

static bool did_ok(struct api_req *q)
{
	if (!req_valid_did(q->segs[3]))
		api_reply_error(
			q, 400, "invalid_parameter",
			"'%.40s' is not a dialled number: 1-31 of 0-9, A-Z, a-z, + * # . _ -",
			q->segs[3]);
	return req_valid_did(q->segs[3]);
}

void api_route_number_put(struct api_req *q)
{
	struct store_op op = {.kind = STORE_OP_NUMBER_SET};
	struct req_number body;
	char err[API_ERRSZ];
	int64_t qid;
	json_t *before;

	if (!voice_on(q) || !did_ok(q))
		return;
	if (api_reply_bad_body(q, req_decode_number(q->body, q->body_len, &body, err, sizeof(err)),
			       err)) {
		return;
	}
	before = number_before(q, q->segs[3]);
	if (body.flow[0]) {
		int rc = callctl_number_set_flow(q->api->cc, q->segs[3], body.flow);
		if (rc == -ENOENT) {
			api_reply_error(q, 400, "invalid_body",
					"no flow named '%.64s' (the flows are the .yaml files of "
					"calls.flows_dir, or PUT /api/v1/flows/{name})",
					body.flow);
			json_decref(before);
			return;
		}
		qid = callctl_number_queue(q->api->cc, q->segs[3]);
		str_copy(op.u.number.flow, body.flow, sizeof(op.u.number.flow));
		if (rc) {
			json_decref(before);
			api_reply_error(q, 503, "overloaded",
					"the server is out of memory; try again");
			return;
		}
	} else {
		qid = routing_queue_id(q->api->r, body.queue);
		if (qid <= 0) {
			api_reply_error(q, 400, "invalid_body", "no queue named '%.64s'",
					body.queue);
			json_decref(before);
			return;
		}
		if (callctl_number_set(q->api->cc, q->segs[3], qid)) {
			api_reply_error(q, 503, "overloaded",
					"the server is out of memory; try again");
			json_decref(before);
			return;
		}
	}
	str_copy(op.u.number.did, q->segs[3], sizeof(op.u.number.did));
	op.u.number.queue_id = qid;
	log_info("number=%s action=set queue=%s flow=%s actor=%s", q->segs[3], body.queue,
		 body.flow, user_record(q->user)->user_name);
	tel_store(q, &op, view_number(q, q->segs[3], qid, body.flow), "number.set", before,
		  view_number(q, q->segs[3], qid, body.flow));
}

void api_route_number_delete(struct api_req *q)
{
	struct store_op op = {.kind = STORE_OP_NUMBER_DELETE};
	json_t *before;

	if (!voice_on(q) || !did_ok(q))
		return;
	before = number_before(q, q->segs[3]);
	if (callctl_number_delete(q->api->cc, q->segs[3])) {
		api_reply_error(q, 404, "not_found", "no dialled number '%.40s'", q->segs[3]);
		json_decref(before);
		return;
	}
	str_copy(op.u.number.did, q->segs[3], sizeof(op.u.number.did));
	log_info("number=%s action=deleted actor=%s", q->segs[3], user_record(q->user)->user_name);
	tel_store(q, &op, json_pack("{s:s,s:b}", "number", q->segs[3], "deleted", 1),
		  "number.delete", before, NULL);
}

/* ---- trunks ---- */
static json_t *view_trunk(const struct st_trunk *t)
{
	return json_pack("{s:s,s:s,s:s,s:b}", "name", t->name, "address", t->address, "username",
			 t->username, "has_password", t->sip_ha1[0] != '\0');
}

void api_route_trunks_list(struct api_req *q)
{
	json_t *a;

	if (!voice_on(q))
		return;
	a = json_array();
	for (size_t i = 0; i < callctl_trunk_count(q->api->cc); i++)
		json_array_append_new(a, view_trunk(callctl_trunk_at(q->api->cc, i)));
	api_reply_json(q, 200, json_pack("{s:o}", "trunks", a));
}

static json_t *trunk_before(struct api_req *q, const char *name)
{
	for (size_t i = 0; i < callctl_trunk_count(q->api->cc); i++)
		if (!strcmp(callctl_trunk_at(q->api->cc, i)->name, name))
			return view_trunk(callctl_trunk_at(q->api->cc, i));
	return NULL;
}

static bool trunk_name_ok(struct api_req *q)
{
	bool ok = req_valid_user_name(q->segs[3]) && strlen(q->segs[3]) < ST_NAME;

	if (!ok)
		api_reply_error(q, 400, "invalid_parameter",
				"'%.40s' is not a trunk name: a-z, 0-9, '.', '_' and '-'",
				q->segs[3]);
	return ok;
}

void api_route_trunk_put(struct api_req *q)
{
	struct store_op op = {.kind = STORE_OP_TRUNK_SET};
	struct st_trunk *t = &op.u.trunk;
	struct req_trunk body;
	char err[API_ERRSZ];
	json_t *before;
	int rc;

	if (!voice_on(q) || !trunk_name_ok(q))
		return;
	if (api_reply_bad_body(q, req_decode_trunk(q->body, q->body_len, &body, err, sizeof(err)),
			       err)) {
		return;
	}
	before = trunk_before(q, q->segs[3]);
	str_copy(t->name, q->segs[3], sizeof(t->name));
	str_copy(t->address, body.address, sizeof(t->address));
	str_copy(t->username, body.username, sizeof(t->username));
	if (body.username[0])
		callctl_sip_ha1(body.username, q->api->cfg->sip_realm, body.password, t->sip_ha1);
	sodium_memzero(body.password, sizeof(body.password));
	rc = callctl_trunk_set(q->api->cc, t);
	if (rc) {
		api_reply_error(q, 409, "conflict", "at most %d trunks; delete one first", 32);
		json_decref(before);
		return;
	}
	log_info("trunk=%s action=set address=%s username=%s actor=%s", t->name, t->address,
		 t->username, user_record(q->user)->user_name);
	tel_store(q, &op, view_trunk(t), "trunk.set", before, view_trunk(t));
}

void api_route_trunk_delete(struct api_req *q)
{
	struct store_op op = {.kind = STORE_OP_TRUNK_DELETE};
	json_t *before;

	if (!voice_on(q) || !trunk_name_ok(q))
		return;
	before = trunk_before(q, q->segs[3]);
	if (callctl_trunk_delete(q->api->cc, q->segs[3])) {
		api_reply_error(q, 404, "not_found", "no trunk '%.40s'", q->segs[3]);
		json_decref(before);
		return;
	}
	str_copy(op.u.trunk.name, q->segs[3], sizeof(op.u.trunk.name));
	log_info("trunk=%s action=deleted actor=%s", q->segs[3], user_record(q->user)->user_name);
	tel_store(q, &op, json_pack("{s:s,s:b}", "name", q->segs[3], "deleted", 1), "trunk.delete",
		  before, NULL);
}
