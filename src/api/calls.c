/*
 * calls.c — click-to-call, the call controls, and the flags:
 *   POST /api/v1/calls {"record": {"table", "key"}, "phone"}  → 202
 *   POST /api/v1/calls/{interaction}/{accept|reject|end}      → 202
 *   POST /api/v1/calls/{interaction}/{hold|resume|mute|unmute} → 200
 *   POST /api/v1/calls/{interaction}/dtmf {"digits"}          → 200
 *   GET /api/v1/flags, PUT /api/v1/flags/{name} {"value"}     (admin)
 *
 * DESIGN
 * - Request → ack → event (CONVENTIONS.md §13): a click-to-call answers
 *   202 with the interaction's number once the interaction is committed;
 *   the agent's phone, the customer and the outcome arrive on the event
 *   stream ("call" events, presence, interaction).
 * - Roles are checked on every request, before anything is decoded or
 *   placed: placing a call needs the seed's role pairs (SPEC.md §5);
 *   controlling one needs them too and being its agent — a manager or admin
 *   may only End another agent's call (a stuck call), never listen in or
 *   act for the agent otherwise.
 * - Every refusal writes nothing and places nothing.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <stdlib.h>
#include <string.h>

static bool calls_on(struct api_req *q)
{
	if (!q->api->cc)
		api_reply_error(q, 503, "no_voice", "telephony is not running on this server");
	return q->api->cc != NULL;
}

static void missing_roles(struct api_req *q, const char *what)
{
	api_reply_error(q, 403, "missing_roles",
			"%s needs roles sn_openframe.user + interaction_agent%s", what,
			routing_awa_enabled(q->api->r) ? ", or awa_agent + awa_integration_user"
						       : " (AWA is disabled)");
}

/* ---- POST /api/v1/calls ---- */
struct dial_job {
	struct api_req *q;
	struct callctl_target t;
	struct callctl_resolved res;
	char number[ST_NUMBER];
};

static void dial_saved(int err, void *arg)
{
	struct dial_job *j = arg;

	if (err)
		api_reply_err(j->q, err, "the call was placed but its interaction not stored");
	else
		api_reply_json(
			j->q, 202,
			json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:s}", "interaction",
				  j->number, "state", "work_in_progress", "direction", "outbound",
				  "agent", user_record(j->q->user)->user_name, "to", "table",
				  j->t.table, "key", j->t.key, "number", j->res.number, "name",
				  j->res.name, "via", j->res.via, "events", "/api/v1/events"));
	api_req_release(j->q);
	free(j);
}

static void dial_refused(struct api_req *q, int err, const struct dial_job *j)
{
	const char *who = user_record(q->user)->user_name;
	struct agent_view v;

	user_agent_view(q->user, &v);
	switch (err) {
	case CC_EFORBIDDEN: missing_roles(q, "placing a call"); break;
	case -EPROTONOSUPPORT:
		api_reply_error(q, 400, "invalid_body",
				"no table '%.24s' (user, contact, consumer, case, incident)",
				j->t.table);
		break;
	case CC_ENOTFOUND:
		api_reply_error(q, 404, "not_found", "no %s '%s'", j->t.table, j->t.key);
		break;
	case -ENODATA:
		api_reply_error(q, 422, "no_phone",
				"%s '%s' has no %s phone number: nothing to call", j->t.table,
				j->t.key, j->t.phone[0] ? j->t.phone : "mobile or business");
		break;
	case -ENODEV:
		api_reply_error(q, 409, "no_device",
				"%s has no registered phone: register your softphone first", who);
		break;
	case -ENETUNREACH:
		api_reply_error(q, 409, "no_route",
				"no way to reach %s: the number is not a registered phone of this "
				"site and calls.outbound_uri is not set",
				j->res.number);
		break;
	case -EBUSY: api_reply_error(q, 503, "over_capacity", "too many calls; try again"); break;
	case CC_EILLEGAL:
		api_reply_error(q, 409, "illegal_transition",
				"%s cannot place a call while %s (only from Available, Away or "
				"Missed)",
				who, presence_name(v.presence));
		break;
	default: api_reply_err(q, err, "the call could not be placed"); break;
	}
}

/* Replies with the refusal and lets go of the request. */
static void dial_end(struct dial_job *j, int rc)
{
	struct api_req *q = j->q;

	dial_refused(q, rc, j);
	api_req_release(q);
	free(j);
}

/* Places the call once the target is known; replies if it cannot. */
static void dial_place(struct dial_job *j)
{
	int rc = callctl_dial(j->q->api->cc, j->q->user, &j->t, &j->res, j->number, dial_saved, j);

	if (rc)
		dial_end(j, rc);
}

static int target_lookup(struct dial_job *j, const char *phone);

/* A record of the forms: the store says whether it exists and its number;
 * with no phone asked for, the mobile, else the business phone. */
static void target_found(int err, const struct store_target *t, void *arg)
{
	struct dial_job *j = arg;

	if (!err && t->found && !t->has_phone && !j->t.phone[0] && !strcmp(t->phone, "mobile") &&
	    !target_lookup(j, "business"))
		return;
	if (!err && !t->found)
		err = CC_ENOTFOUND;
	else if (!err && !t->has_phone)
		err = -ENODATA;
	if (err) {
		dial_end(j, err);
		return;
	}
	str_copy(j->t.number, t->number, sizeof(j->t.number));
	str_copy(j->t.name, t->name, sizeof(j->t.name));
	dial_place(j);
}

static int target_lookup(struct dial_job *j, const char *phone)
{
	return store_call_target(routing_store(j->q->api->r), j->t.table, j->t.key, phone,
				 target_found, j);
}

void api_route_call_create(struct api_req *q)
{
	struct dial_job *j;
	struct req_dial body;
	char err[API_ERRSZ];
	int rc;

	if (!calls_on(q))
		return;
	if (!user_can_handle_calls(q->api->r, q->user)) {
		missing_roles(q, "placing a call");
		return;
	}
	if (api_reply_bad_body(q, req_decode_dial(q->body, q->body_len, &body, err, sizeof(err)),
			       err))
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	str_copy(j->t.table, body.table, sizeof(j->t.table));
	str_copy(j->t.key, body.key, sizeof(j->t.key));
	str_copy(j->t.phone, body.phone, sizeof(j->t.phone));
	j->q = api_req_hold(q);
	if (strcmp(j->t.table, "user") && routing_conversation_flag(j->t.table)) {
		rc = target_lookup(j, j->t.phone[0] ? j->t.phone : "mobile");
		if (rc) /* cannot happen for a table routing knows: the store's list */
			dial_end(j, rc);
		return;
	}
	dial_place(j);
}

/* ---- POST /api/v1/calls/{interaction}/{action} ---- */
/* The caller may act on this call: its agent (still holding the roles), or
 * a manager ending it. Replies and returns false otherwise. */
static bool action_allowed(struct api_req *q, const struct callctl_parties *p, bool end)
{
	bool mine = p->agent == q->user || (p->second && p->second == q->user);

	if (!mine && !(end && api_is_manager(q->user))) {
		api_reply_error(q, 403, "forbidden", "only the call's agent may do this%s",
				end ? " (or a manager or admin)" : "");
		return false;
	}
	if (mine && !user_can_handle_calls(q->api->r, q->user)) {
		missing_roles(q, "controlling a call");
		return false;
	}
	return true;
}

static void action_refused(struct api_req *q, int rc, const char *action)
{
	switch (rc) {
	case CC_ENOTFOUND:
		api_reply_error(q, 404, "not_found", "no live call %.32s", q->segs[3]);
		break;
	case CC_EILLEGAL:
		api_reply_error(q, 409, "illegal_state", "%s is not possible in the call's state%s",
				action,
				!strcmp(action, "accept") || !strcmp(action, "reject")
					? ": only an offer that still rings"
					: ": only a connected call");
		break;
	case -ENOTSUP:
		api_reply_error(q, 409, "no_telephone_event",
				"the customer's phone takes no RFC 4733 telephone-events");
		break;
	case -ENOBUFS:
		api_reply_error(q, 409, "dtmf_busy", "too many digits are waiting to be sent");
		break;
	default: api_reply_err(q, rc, "the call control failed"); break;
	}
}

static void call_dtmf(struct api_req *q)
{
	struct req_dtmf body;
	char err[API_ERRSZ];
	int rc;

	if (api_reply_bad_body(q, req_decode_dtmf(q->body, q->body_len, &body, err, sizeof(err)),
			       err))
		return;
	rc = callctl_call_dtmf(q->api->cc, q->segs[3], body.digits);
	if (rc)
		action_refused(q, rc, "dtmf");
	else
		api_reply_json(q, 200,
			       json_pack("{s:s,s:s,s:s}", "interaction", q->segs[3], "action",
					 "dtmf", "digits", body.digits));
}

/* ---- transfers: transfer, join, leave, cancel_transfer ---- */
static void transfer_refused(struct api_req *q, int rc, const char *why)
{
	switch (rc) {
	case CC_ENOTFOUND:
		api_reply_error(q, 404, "not_found", "no live call %.32s", q->segs[3]);
		break;
	case CC_EFORBIDDEN: api_reply_error(q, 403, "forbidden", "%s", why); break;
	case CC_EILLEGAL: api_reply_error(q, 409, "illegal_state", "%s", why); break;
	case -EINVAL: api_reply_error(q, 409, "transfer_to_self", "%s", why); break;
	case CC_ECONFLICT: api_reply_error(q, 409, "agent_unavailable", "%s", why); break;
	case -ENOTSUP: api_reply_error(q, 501, "not_implemented", "%s", why); break;
	case -ENETUNREACH: api_reply_error(q, 409, "no_route", "%s", why); break;
	default: api_reply_err(q, rc, why[0] ? why : "the transfer failed"); break;
	}
}

static json_t *user_or_null(const struct user *u)
{
	return u ? json_string(user_record(u)->user_name) : json_null();
}

/* Who is on the call and in which phase (the softphone's roster). */
/* A browser leg's RTCP view (docs/WEBRTC.md "RTCP"). */
static json_t *quality_json(const struct callctl_rtc_quality *q)
{
	json_t *o = json_pack("{s:I,s:I,s:f,s:f}", "rx_packets", (json_int_t)q->rx_packets,
			      "rx_lost", (json_int_t)q->rx_lost, "rx_fraction_lost", q->rx_fraction,
			      "rx_jitter_ms", q->rx_jitter_ms);

	json_object_set_new(o, "rtt_ms", q->rtt_ms >= 0 ? json_integer(q->rtt_ms) : json_null());
	json_object_set_new(o, "browser_view",
			    q->has_remote
				    ? json_pack("{s:I,s:f,s:f}", "lost", (json_int_t)q->remote_lost,
						"fraction_lost", q->remote_fraction, "jitter_ms",
						q->remote_jitter_ms)
				    : json_null());
	return o;
}

static json_t *roster_json(const struct callctl_parties *p)
{
	json_t *legs = json_array();

	for (size_t i = 0; i < p->n_legs; i++) {
		json_t *o = json_pack("{s:s,s:o,s:s}", "role", p->legs[i].role, "user_name",
				      user_or_null(p->legs[i].user), "state", p->legs[i].state);

		if (p->legs[i].has_rtc)
			json_object_set_new(o, "quality", quality_json(&p->legs[i].rtc));
		json_array_append_new(legs, o);
	}
	return json_pack("{s:s,s:o,s:o,s:b,s:o,s:o}", "phase", p->phase, "agent",
			 user_or_null(p->agent), "second", user_or_null(p->second),
			 "customer_on_hold", p->customer_held, "queue",
			 p->queue ? json_string(p->queue) : json_null(), "legs", legs);
}

static json_t *parties_json(struct api_req *q)
{
	struct callctl_parties p;

	if (callctl_call_parties(q->api->cc, q->segs[3], &p))
		return json_pack("{s:s}", "phase", "ended");
	return roster_json(&p);
}

/* ---- GET /api/v1/calls: every live call, for managers (the wallboard) ---- */
void api_route_calls_list(struct api_req *q)
{
	static struct callctl_live live[4096];
	int64_t now = time_now_ms();
	json_t *a;
	size_t n;

	if (!calls_on(q))
		return;
	if (!api_is_manager(q->user)) {
		api_reply_error(q, 403, "forbidden",
				"only a voice_manager or admin sees every call");
		return;
	}
	n = callctl_live_calls(q->api->cc, live, sizeof(live) / sizeof(live[0]));
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct callctl_live *l = &live[i];
		json_t *o = json_pack(
			"{s:s,s:s,s:I,s:s,s:b}", "interaction", l->interaction, "phase", l->phase,
			"seconds_in_phase",
			(json_int_t)(now > l->phase_since ? (now - l->phase_since) / 1000 : 0),
			"caller", l->caller, "outbound", l->outbound);
		json_object_set_new(o, "queue", l->queue ? json_string(l->queue) : json_null());
		json_object_set_new(o, "agent", user_or_null(l->agent));
		json_object_set_new(o, "second", user_or_null(l->second));
		json_object_set_new(o, "monitored_by", user_or_null(l->monitor));
		json_object_set_new(o, "intent",
				    l->intent && l->intent[0] ? json_string(l->intent)
							      : json_null());
		json_array_append_new(a, o);
	}
	api_reply_json(q, 200, json_pack("{s:o,s:I}", "calls", a, "count", (json_int_t)n));
}

/* ---- GET /api/v1/calls/{interaction}: the live call's roster ---- */
void api_route_call_get(struct api_req *q)
{
	struct callctl_parties p;
	json_t *o;

	if (!calls_on(q))
		return;
	if (callctl_call_parties(q->api->cc, q->segs[3], &p)) {
		api_reply_error(q, 404, "not_found", "no live call %.32s", q->segs[3]);
		return;
	}
	if (p.agent != q->user && p.second != q->user && !api_is_manager(q->user)) {
		api_reply_error(q, 404, "not_found", "no live call %.32s", q->segs[3]);
		return;
	}
	o = roster_json(&p);
	json_object_set_new(o, "interaction", json_string(q->segs[3]));
	api_reply_json(q, 200, o);
}

static void call_transfer(struct api_req *q)
{
	struct req_transfer body;
	char err[API_ERRSZ];
	const char *why = "";
	struct callctl_xfer_to to = {0};
	char target[64];
	int rc;

	if (api_reply_bad_body(
		    q, req_decode_transfer(q->body, q->body_len, &body, err, sizeof(err)), err))
		return;
	if (body.agent[0]) {
		to.agent = routing_user_find(q->api->r, body.agent);
		if (!to.agent || !user_is_agent(to.agent)) {
			api_reply_error(q, 404, "not_found", "no agent '%.64s'", body.agent);
			return;
		}
		str_copy(target, user_record(to.agent)->user_name, sizeof(target));
	} else if (body.queue[0]) {
		to.queue_id = routing_queue_id(q->api->r, body.queue);
		if (!to.queue_id) {
			api_reply_error(q, 404, "not_found", "no queue '%.64s'", body.queue);
			return;
		}
		str_copy(target, body.queue, sizeof(target));
	} else if (body.quick_connect) { /* an external number by its name */
		const struct st_quick_connect *qc =
			routing_quick_find(q->api->r, body.quick_connect);
		if (!qc) {
			api_reply_error(q, 404, "not_found", "no quick connect %d",
					body.quick_connect);
			return;
		}
		to.number = qc->number, to.label = qc->name;
		str_copy(target, qc->number, sizeof(target));
	} else {
		to.number = body.number;
		str_copy(target, body.number, sizeof(target));
	}
	rc = callctl_transfer(q->api->cc, q->segs[3], q->user, &to,
			      strcmp(body.mode, "blind") ? CALLCTL_XFER_WARM : CALLCTL_XFER_BLIND,
			      body.note, &why);
	if (rc) {
		transfer_refused(q, rc, why);
		return;
	}
	api_reply_json(q, 202,
		       json_pack("{s:s,s:s,s:s,s:s,s:o}", "interaction", q->segs[3], "action",
				 "transfer", "to", target, "mode", body.mode, "call",
				 parties_json(q)));
}

static void call_transfer_step(struct api_req *q, enum callctl_xfer_step step)
{
	static const char *const names[] = {
		[CALLCTL_JOIN] = "join",
		[CALLCTL_LEAVE] = "leave",
		[CALLCTL_CANCEL_TRANSFER] = "cancel_transfer",
	};
	char err[API_ERRSZ];
	const char *why = "";
	int rc;

	if (api_reply_bad_body(q, req_decode_none(q->body, q->body_len, err, sizeof(err)), err))
		return;
	rc = callctl_transfer_step(q->api->cc, q->segs[3], q->user, step, &why);
	if (rc) {
		transfer_refused(q, rc, why);
		return;
	}
	api_reply_json(q, 200,
		       json_pack("{s:s,s:s,s:o}", "interaction", q->segs[3], "action", names[step],
				 "call", parties_json(q)));
}

/* ---- POST /api/v1/calls/{n}/monitor: a manager listens, whispers, barges ---- */
static void call_monitor(struct api_req *q)
{
	struct req_monitor body;
	enum callctl_monitor_mode mode = CALLCTL_MONITOR_LISTEN;
	char err[API_ERRSZ];
	const char *why = "";
	bool stop;
	int rc;

	if (!api_is_manager(q->user)) {
		api_reply_error(q, 403, "forbidden",
				"only a voice_manager or admin monitors calls");
		return;
	}
	if (api_reply_bad_body(q, req_decode_monitor(q->body, q->body_len, &body, err, sizeof(err)),
			       err))
		return;
	stop = !strcmp(body.mode, "stop");
	if (!stop)
		callctl_monitor_mode_parse(body.mode, &mode);
	api_audit(q, stop ? "monitor.stop" : "monitor.start", q->segs[3], json_object(),
		  json_pack("{s:s}", "mode", body.mode));
	rc = stop ? callctl_monitor_stop(q->api->cc, q->segs[3], q->user, &why)
		  : callctl_monitor(q->api->cc, q->segs[3], q->user, mode, &why);
	routing_audit_attach(q->api->r, NULL); /* written with the note, or dropped */
	if (rc) {
		if (rc == -ENODEV)
			api_reply_error(q, 409, "no_device", "%s", why);
		else
			transfer_refused(q, rc, why);
		return;
	}
	api_reply_json(q, 200,
		       json_pack("{s:s,s:s,s:s,s:o}", "interaction", q->segs[3], "action",
				 "monitor", "mode", body.mode, "call", parties_json(q)));
}

/* The transfer verbs; false when name is none of them. */
static bool transfer_route(struct api_req *q, const char *name)
{
	if (!strcmp(name, "transfer"))
		call_transfer(q);
	else if (!strcmp(name, "join"))
		call_transfer_step(q, CALLCTL_JOIN);
	else if (!strcmp(name, "leave"))
		call_transfer_step(q, CALLCTL_LEAVE);
	else if (!strcmp(name, "cancel_transfer"))
		call_transfer_step(q, CALLCTL_CANCEL_TRANSFER);
	else
		return false;
	return true;
}

void api_route_call_action(struct api_req *q)
{
	const char *name = q->segs[4];
	enum callctl_action a = CALLCTL_END;
	bool dtmf = !strcmp(name, "dtmf"), xfer;
	char err[API_ERRSZ];
	struct callctl_parties p;
	int rc;

	if (!calls_on(q))
		return;
	if (!strcmp(name, "monitor")) { /* managers, not the call's agents */
		call_monitor(q);
		return;
	}
	xfer = !strcmp(name, "transfer") || !strcmp(name, "join") || !strcmp(name, "leave") ||
	       !strcmp(name, "cancel_transfer");
	if (!dtmf && !xfer && callctl_action_parse(name, &a)) {
		api_reply_error(
			q, 404, "not_found",
			"no call control '%.32s' (accept, reject, hold, resume, mute, "
			"unmute, dtmf, end, transfer, join, leave, cancel_transfer, monitor)",
			name);
		return;
	}
	if (callctl_call_parties(q->api->cc, q->segs[3], &p) || !p.agent) {
		api_reply_error(q, 404, "not_found", "no live call %.32s", q->segs[3]);
		return;
	}
	if (!action_allowed(q, &p, !dtmf && !xfer && a == CALLCTL_END))
		return;
	if (xfer && transfer_route(q, name))
		return;
	if (dtmf) {
		call_dtmf(q);
		return;
	}
	if (api_reply_bad_body(q, req_decode_none(q->body, q->body_len, err, sizeof(err)), err))
		return;
	rc = callctl_call_action(q->api->cc, q->segs[3], a, user_record(q->user)->user_name);
	if (rc) {
		action_refused(q, rc, name);
		return;
	}
	api_reply_json(q,
		       a == CALLCTL_ACCEPT || a == CALLCTL_REJECT || a == CALLCTL_END ? 202 : 200,
		       json_pack("{s:s,s:s,s:s}", "interaction", q->segs[3], "action", name,
				 "agent", user_record(p.agent)->user_name));
}

/* ---- flags ---- */
void api_route_flags_list(struct api_req *q)
{
	json_t *a = json_array();

	for (size_t i = 0; i < routing_flag_count(q->api->r); i++) {
		const struct st_flag *f = routing_flag_at(q->api->r, i);
		json_array_append_new(a,
				      json_pack("{s:s,s:s}", "name", f->name, "value", f->value));
	}
	api_reply_json(q, 200, json_pack("{s:o}", "flags", a));
}

static void flag_saved(int err, void *arg)
{
	struct api_req *q = arg;
	const char *v = routing_flag_get(q->api->r, q->segs[3]);

	if (err)
		api_reply_err(q, err, "the flag was not stored");
	else
		api_reply_json(q, 200,
			       json_pack("{s:s,s:s}", "name", q->segs[3], "value", v ? v : ""));
	api_req_release(q);
}

void api_route_flag_put(struct api_req *q)
{
	struct req_flag body;
	char err[API_ERRSZ];
	int rc;

	if (!routing_flag_get(q->api->r, q->segs[3])) {
		api_reply_error(q, 404, "not_found", "no flag '%.64s'", q->segs[3]);
		return;
	}
	if (api_reply_bad_body(q, req_decode_flag(q->body, q->body_len, &body, err, sizeof(err)),
			       err))
		return;
	api_audit(q, "flag.set", q->segs[3],
		  json_pack("{s:s}", "value", routing_flag_get(q->api->r, q->segs[3])),
		  json_pack("{s:s}", "value", body.value));
	rc = routing_flag_set(q->api->r, q->segs[3], body.value, user_record(q->user)->user_name,
			      flag_saved, api_req_hold(q));
	routing_audit_attach(q->api->r, NULL);
	if (rc) {
		api_req_release(q);
		api_reply_err(q, rc, "cannot set the flag");
	}
}
