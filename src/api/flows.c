/*
 * flows.c — call flows over the API (SPEC.md §9, docs/FLOWS.md):
 *   GET /api/v1/flows, GET /api/v1/flows/{name}   (managers and admins)
 *   PUT|DELETE /api/v1/flows/{name}, POST /api/v1/flows/reload   (admins)
 *
 * DESIGN
 * - PUT takes the flow's YAML as the body (any content type; JSON, being
 *   YAML, works too). Call control validates it at once (loader and site
 *   checks): a flow that does not load gets 422 invalid_flow with the
 *   message, line and block, and nothing is written. Otherwise the file is
 *   written atomically on the pool and swapped in live; the reply waits for
 *   that (request → ack, like the store's writes).
 * - Reading is for managers too: they watch the calls the flows route, and
 *   a flow holds no secrets. Changing is for admins, like numbers/trunks.
 * - One flow change runs at a time in call control; another meanwhile gets
 *   409 conflict ("try again").
 */
#define LOG_MODULE "api"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <stdlib.h>
#include <string.h>

static bool flows_on(struct api_req *q)
{
	if (!q->api->cc)
		api_reply_error(q, 503, "no_voice", "telephony is not running on this server");
	return q->api->cc != NULL;
}

static bool may_read(struct api_req *q)
{
	if (!api_is_manager(q->user))
		api_reply_error(q, 403, "forbidden",
				"reading call flows needs voice_manager or admin");
	return api_is_manager(q->user);
}

static bool name_ok(struct api_req *q)
{
	bool ok = callctl_flow_name_ok(q->segs[3]);

	if (!ok)
		api_reply_error(q, 400, "invalid_parameter",
				"'%.64s' is not a flow name: 1-%d of a-z, 0-9, '_' and '-'",
				q->segs[3], CALLCTL_FLOW_NAME_MAX);
	return ok;
}

static json_t *view_flow(const struct callctl_flow_info *fi, bool source)
{
	json_t *nums = json_array();
	char buf[sizeof(fi->numbers)], *save = NULL;
	json_t *o;

	str_copy(buf, fi->numbers, sizeof(buf));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(nums, json_string(t));
	o = json_pack("{s:s,s:s,s:I,s:o,s:o}", "name", fi->name, "file", fi->file, "blocks",
		      (json_int_t)fi->blocks, "loaded_at", view_time(fi->loaded_at), "numbers",
		      nums);
	if (source)
		json_object_set_new(o, "source", json_stringn(fi->source, fi->source_len));
	return o;
}

static void flow_add(const struct callctl_flow_info *fi, void *arg)
{
	json_array_append_new(arg, view_flow(fi, false));
}

static json_t *view_flows(struct api_req *q)
{
	json_t *a = json_array();

	callctl_flows_each(q->api->cc, flow_add, a);
	return json_pack("{s:o}", "flows", a);
}

void api_route_flows_list(struct api_req *q)
{
	if (flows_on(q) && may_read(q))
		api_reply_json(q, 200, view_flows(q));
}

void api_route_flow_get(struct api_req *q)
{
	struct callctl_flow_info fi;

	if (!flows_on(q) || !may_read(q) || !name_ok(q))
		return;
	if (callctl_flow_get(q->api->cc, q->segs[3], &fi)) {
		api_reply_error(q, 404, "not_found", "no flow '%.64s'", q->segs[3]);
		return;
	}
	api_reply_json(q, 200, view_flow(&fi, true));
}

/* A refused change: what, where (file, line, block) and why. */
static void flow_refused(struct api_req *q, int err, const struct callctl_flow_err *fe)
{
	json_t *where;

	switch (err) {
	case -EINVAL:
		where = json_pack("{s:s,s:i,s:s?}", "file", fe->file, "line", fe->line, "block",
				  fe->block[0] ? fe->block : NULL);
		api_reply_error_x(q, 422, "invalid_flow", where, "%s", fe->message);
		break;
	case CC_ECONFLICT: api_reply_error(q, 409, "conflict", "%s", fe->message); break;
	case -EBUSY:
		api_reply_error(q, 409, "conflict",
				"another flow change is in progress; try again");
		break;
	case -ENOENT: api_reply_error(q, 404, "not_found", "no flow '%.64s'", q->segs[3]); break;
	case -ENOMEM: api_reply_error(q, 503, "overloaded", "out of memory; try again"); break;
	case -ECANCELED:
		api_reply_error(q, 503, "shutting_down", "the server is stopping; nothing changed");
		break;
	default:
		api_reply_error(q, 500, "io_failed", "%s",
				fe->message[0] ? fe->message : "I/O error");
	}
}

/* Flows live in files, not the store: the entry follows the change. */
static void flow_audit(struct api_req *q)
{
	struct callctl_flow_info fi;
	struct store_op op;
	bool post = q->method == M_POST, del = q->method == M_DELETE;
	json_t *after = NULL;

	if (!post && !del && !callctl_flow_get(q->api->cc, q->segs[3], &fi))
		after = json_pack("{s:I,s:I}", "bytes", (json_int_t)fi.source_len, "blocks",
				  (json_int_t)fi.blocks);
	api_audit_op(q, &op,
		     post  ? "flow.reload"
		     : del ? "flow.delete"
			   : "flow.put",
		     post ? "flows" : q->segs[3], NULL, after);
	if (store_write(q->api->st, &op, 1, NULL, NULL))
		log_error("audit: %s %s by %s not logged", op.u.audit.action, op.u.audit.object,
			  op.u.audit.actor);
}

static void flow_changed(int err, const struct callctl_flow_err *fe, void *arg)
{
	struct api_req *q = arg;
	struct callctl_flow_info fi;

	if (!err)
		flow_audit(q);
	if (err) {
		flow_refused(q, err, fe);
	} else if (q->method == M_POST) {
		api_reply_json(q, 200, view_flows(q));
	} else if (q->method == M_DELETE) {
		api_reply_json(q, 200, json_pack("{s:s,s:b}", "name", q->segs[3], "deleted", 1));
	} else if (!callctl_flow_get(q->api->cc, q->segs[3], &fi)) {
		api_reply_json(q, 200, view_flow(&fi, false));
	} else {
		api_reply_error(q, 404, "not_found", "no flow '%.64s'", q->segs[3]);
	}
	api_req_release(q);
}

void api_route_flow_put(struct api_req *q)
{
	struct callctl_flow_err fe;
	int err;

	if (!flows_on(q) || !name_ok(q))
		return;
	if (!q->body_len) {
		api_reply_error(q, 400, "invalid_body",
				"the body is the flow's YAML (docs/FLOWS.md)");
		return;
	}
	err = callctl_flow_put(q->api->cc, q->segs[3], q->body, q->body_len, &fe, flow_changed,
			       api_req_hold(q));
	if (err) {
		api_req_release(q);
		flow_refused(q, err, &fe);
		return;
	}
	log_info("flow=%s action=put bytes=%zu actor=%s", q->segs[3], q->body_len,
		 user_record(q->user)->user_name);
}

void api_route_flow_delete(struct api_req *q)
{
	struct callctl_flow_err fe;
	int err;

	if (!flows_on(q) || !name_ok(q))
		return;
	err = callctl_flow_delete(q->api->cc, q->segs[3], &fe, flow_changed, api_req_hold(q));
	if (err) {
		api_req_release(q);
		flow_refused(q, err, &fe);
		return;
	}
	log_info("flow=%s action=delete actor=%s", q->segs[3], user_record(q->user)->user_name);
}

void api_route_flows_reload(struct api_req *q)
{
	struct callctl_flow_err fe = {.message = ""};
	int err;

	if (!flows_on(q))
		return;
	err = callctl_flows_reload(q->api->cc, flow_changed, api_req_hold(q));
	if (err) {
		api_req_release(q);
		flow_refused(q, err, &fe);
		return;
	}
	log_info("action=flows reload actor=%s", user_record(q->user)->user_name);
}
