/*
 * routes.c — the route table and the REST handlers.
 *
 * DESIGN
 * - A table of {method, path pattern, access, handler}; patterns are split
 *   on '/' and '*' matches one segment. Unknown paths get 404, known paths
 *   with another method 405, both with a JSON error body.
 * - Access is checked before the handler runs (signed in, admin); handlers
 *   check what depends on the target (self, manager, agent roles).
 * - Writes answer after the store has committed (request → ack): the
 *   handler holds the request and replies from the done callback.
 */
#define LOG_MODULE "routes"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum access { ACC_PUBLIC, ACC_SIGNED_IN, ACC_ADMIN };

typedef void(route_h)(struct api_req *q);
struct route {
	enum api_method method;
	const char *pattern;
	enum access access;
	route_h *h;
};

/* ---- helpers ---- */
static void reply_committed(int err, void *arg, json_t *ok_body, const char *what)
{
	struct api_req *q = arg;

	if (err) {
		json_decref(ok_body);
		api_reply_err(q, err, what);
	} else {
		api_reply_json(q, 200, ok_body);
	}
	api_req_release(q);
}

static struct user *target_user(struct api_req *q, int seg)
{
	struct user *u = routing_user_find(q->api->r, q->segs[seg]);

	if (!u)
		api_reply_error(q, 404, "not_found", "no user '%.64s'", q->segs[seg]);
	return u;
}

/* The agent named in the path, if the caller may act on it. */
static struct user *target_agent(struct api_req *q, bool manager_ok)
{
	struct user *u = target_user(q, 3);

	if (!u)
		return NULL;
	if (u != q->user && !(manager_ok && api_is_manager(q->user))) {
		api_reply_error(q, 403, "forbidden", "only %s or a manager may do this",
				user_record(u)->user_name);
		return NULL;
	}
	if (!user_is_agent(u)) {
		api_reply_error(q, 403, "not_an_agent",
				"user '%s' holds no agent role (sn_openframe.user + "
				"interaction_agent, or awa_agent + awa_integration_user)",
				user_record(u)->user_name);
		return NULL;
	}
	return u;
}

static const char *const no_params[] = {NULL};

/* ---- health, me, roles ---- */
/* The browser phones' WebRTC legs and what their signalling refused. */
static json_t *health_webrtc(const struct api *a)
{
	struct callctl_rtc_stats st;
	json_t *o;

	callctl_rtc_stats(a->cc, &st);
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		      "browsers", (json_int_t)st.browsers, "live_legs", (json_int_t)st.live, "legs",
		      (json_int_t)st.legs, "connected", (json_int_t)st.connected, "failed",
		      (json_int_t)st.failed, "stun_bad", (json_int_t)st.stun_bad, "stun_auth",
		      (json_int_t)st.stun_auth, "dtls_bad", (json_int_t)st.dtls_bad, "dtls_fail",
		      (json_int_t)st.dtls_fail, "fp_mismatch", (json_int_t)st.fp_mismatch,
		      "srtp_auth", (json_int_t)st.srtp_auth, "srtp_replay",
		      (json_int_t)st.srtp_replay, "srtp_bad", (json_int_t)st.srtp_bad, "demux_bad",
		      (json_int_t)st.demux_bad, "consent_fail", (json_int_t)st.consent_fail,
		      "forbidden", (json_int_t)st.forbidden, "bad_request",
		      (json_int_t)st.bad_request);

	json_object_set_new(o, "rtcp_in", json_integer((json_int_t)st.rtcp_in));
	json_object_set_new(o, "rtcp_out", json_integer((json_int_t)st.rtcp_out));
	json_object_set_new(o, "rtcp_bad", json_integer((json_int_t)st.rtcp_bad));
	return o;
}

/* The media workers: each one's live legs, CPU and clock (docs/MEDIA.md). */
static json_t *health_media(const struct api *a)
{
	struct callctl_worker_stats st[CALLCTL_WORKERS_MAX];
	int n = callctl_media_workers(a->cc, st, CALLCTL_WORKERS_MAX);
	json_t *arr = json_array();

	for (int i = 0; i < n && i < CALLCTL_WORKERS_MAX; i++)
		json_array_append_new(arr, json_pack("{s:i,s:I,s:I,s:f,s:I,s:I,s:I}", "worker", i,
						     "legs", (json_int_t)st[i].legs, "legs_total",
						     (json_int_t)st[i].legs_total, "cpu_seconds",
						     st[i].cpu_ns / 1e9, "rx_packets",
						     (json_int_t)st[i].rx_packets, "rx_lost",
						     (json_int_t)st[i].rx_lost, "clock_late",
						     (json_int_t)st[i].clock_late));
	return json_pack("{s:o}", "workers", arr);
}

static void h_health(struct api_req *q)
{
	json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "status", "ok", "store",
			      q->api->cfg->store_backend, "uptime_seconds",
			      (json_int_t)((time_now_ms() - q->api->started_at) / 1000),
			      "pending_writes", (json_int_t)store_pending(q->api->st));

	json_object_set_new(o, "webrtc", health_webrtc(q->api));
	json_object_set_new(o, "media", health_media(q->api));
	api_reply_json(q, 200, o);
}

static void h_me(struct api_req *q)
{
	json_t *o = view_user(q->api->r, q->user, true);

	if (user_is_agent(q->user))
		json_object_set_new(o, "agent", view_agent(q->api->r, q->user));
	if (api_has_role(q->user, ROLE_ADMIN)) /* what an admin tells a new agent's phone */
		json_object_set_new(o, "sip",
				    json_pack("{s:s,s:s,s:i}", "realm", q->api->cfg->sip_realm,
					      "address", q->api->cfg->sip_address, "port",
					      q->api->cfg->sip_port));
	api_reply_json(q, 200, o);
}

static void h_roles(struct api_req *q)
{
	json_t *a = json_array();

	for (int i = 0; i < ROLE__N; i++)
		json_array_append_new(a, json_string(role_name(i)));
	api_reply_json(
		q, 200,
		json_pack("{s:o,s:b}", "roles", a, "awa_enabled", routing_awa_enabled(q->api->r)));
}

/* ---- users (admin) ---- */
static void h_users_list(struct api_req *q)
{
	json_t *a = json_array();

	for (size_t i = 0; i < routing_user_count(q->api->r); i++)
		json_array_append_new(a, view_user(q->api->r, routing_user_at(q->api->r, i), true));
	api_reply_json(q, 200, json_pack("{s:o}", "users", a));
}

static void h_user_get(struct api_req *q)
{
	struct user *u = target_user(q, 3);
	json_t *o, *ct;

	if (!u)
		return;
	if (u != q->user && !api_has_role(q->user, ROLE_ADMIN)) {
		api_reply_error(q, 403, "forbidden", "only an admin may read other users");
		return;
	}
	o = view_user(q->api->r, u, true);
	ct = view_call_targets(user_record(u)->mobile_phone, user_record(u)->business_phone);
	if (ct) /* absent when the user has no phone: no link on the form */
		json_object_set_new(o, "call_targets", ct);
	api_reply_json(q, 200, o);
}

struct user_job {
	struct api_req *q;
	char realm[64];
	struct req_user body;
	struct user *u;
	int err;
};

static void user_saved(int err, void *arg)
{
	struct user_job *j = arg;
	struct api_req *q = j->q;

	if (err)
		api_reply_err(q, err, "the user could not be stored");
	else
		api_reply_json(q, q->method == M_POST ? 201 : 200,
			       view_user(q->api->r, j->u, true));
	api_req_release(q);
	free(j);
}

static void user_create_hashed(void *arg)
{
	struct user_job *j = arg;
	struct api_req *q = j->q;

	if (j->err) {
		api_reply_err(q, j->err, "cannot hash the password");
	} else {
		api_audit(q, "user.create", j->body.rec.user_name, NULL,
			  api_audit_user(&j->body.rec, j->body.roles));
		j->err = routing_user_create(q->api->r, &j->body.rec, j->body.roles, user_saved, j,
					     &j->u);
		routing_audit_attach(q->api->r, NULL); /* not used when refused */
		if (!j->err)
			return;
		api_reply_err(q, j->err,
			      j->err == CC_ECONFLICT ? "that user_name is taken"
						     : "cannot create the user");
	}
	api_req_release(q);
	free(j);
}

static void user_update_hashed(void *arg)
{
	struct user_job *j = arg;
	struct api_req *q = j->q;
	struct user *u = routing_user_find(q->api->r, j->body.rec.user_name);
	struct st_user rec;

	if (j->err || !u) {
		api_reply_err(q, j->err ? j->err : CC_ENOTFOUND, "cannot update the user");
		api_req_release(q);
		free(j);
		return;
	}
	rec = *user_record(u);
	if (j->body.has_name)
		str_copy(rec.name, j->body.rec.name, sizeof(rec.name));
	if (j->body.has_email)
		str_copy(rec.email, j->body.rec.email, sizeof(rec.email));
	if (j->body.has_mobile)
		str_copy(rec.mobile_phone, j->body.rec.mobile_phone, sizeof(rec.mobile_phone));
	if (j->body.has_business)
		str_copy(rec.business_phone, j->body.rec.business_phone,
			 sizeof(rec.business_phone));
	if (j->body.has_password)
		str_copy(rec.password_hash, j->body.rec.password_hash, sizeof(rec.password_hash));
	if (j->body.has_sip_password)
		str_copy(rec.sip_ha1, j->body.rec.sip_ha1, sizeof(rec.sip_ha1));
	if (j->body.has_active)
		rec.active = j->body.rec.active;
	j->u = u;
	{
		json_t *before = api_audit_user(user_record(u), user_roles(u));
		json_t *after = api_audit_user(&rec, user_roles(u));
		if (j->body.has_password) /* the hash never goes in the log */
			json_object_set_new(after, "password", json_string("(changed)"));
		if (j->body.has_sip_password && j->body.sip_password[0])
			json_object_set_new(after, "sip_password", json_string("(changed)"));
		api_audit(q, "user.update", rec.user_name, before, after);
	}
	j->err = routing_user_update(q->api->r, u, &rec, user_saved, j);
	routing_audit_attach(q->api->r, NULL);
	if (j->err)
		user_saved(j->err, j);
}

static void user_hash_work(void *arg)
{
	struct user_job *j = arg;

	if (j->body.has_sip_password && j->body.sip_password[0])
		callctl_sip_ha1(j->body.rec.user_name, j->realm, j->body.sip_password,
				j->body.rec.sip_ha1);

	if (j->body.has_password)
		j->err = password_hash(j->body.password, j->body.rec.password_hash,
				       sizeof(j->body.rec.password_hash));
}

static void user_write(struct api_req *q, bool create)
{
	struct user_job *j = calloc(1, sizeof(*j));
	char err[API_ERRSZ];

	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	if (api_reply_bad_body(
		    q, req_decode_user(q->body, q->body_len, create, &j->body, err, sizeof(err)),
		    err)) {
		free(j);
		return;
	}
	if (create && routing_user_find(q->api->r, j->body.rec.user_name)) {
		api_reply_error(q, 409, "conflict", "user '%s' exists", j->body.rec.user_name);
		free(j);
		return;
	}
	if (!create)
		str_copy(j->body.rec.user_name, q->segs[3], sizeof(j->body.rec.user_name));
	str_copy(j->realm, q->api->cfg->sip_realm, sizeof(j->realm));
	j->q = api_req_hold(q);
	if (work_submit(q->api->loop, user_hash_work,
			create ? user_create_hashed : user_update_hashed, j)) {
		api_reply_err(q, -ENOMEM, "");
		api_req_release(q);
		free(j);
	}
}

static void h_user_create(struct api_req *q)
{
	user_write(q, true);
}

static void h_user_update(struct api_req *q)
{
	if (target_user(q, 3))
		user_write(q, false);
}

static void role_saved(int err, void *arg)
{
	struct api_req *q = arg;
	struct user *u = routing_user_find(q->api->r, q->segs[3]);

	reply_committed(err, q, u ? view_user(q->api->r, u, true) : json_null(),
			"the role change could not be stored");
}

static void role_change(struct api_req *q, bool grant)
{
	struct user *u = target_user(q, 3);
	enum role role;
	int err;

	if (!u)
		return;
	if (role_parse(q->segs[5], &role)) {
		api_reply_error(q, 404, "not_found", "no role '%.64s'", q->segs[5]);
		return;
	}
	if (!grant && u == q->user && role == ROLE_ADMIN) {
		api_reply_error(q, 409, "conflict", "an admin cannot revoke their own admin role");
		return;
	}
	api_audit(q, grant ? "role.grant" : "role.revoke", user_record(u)->user_name, NULL,
		  json_pack("{s:s}", "role", role_name(role)));
	err = routing_role_set(q->api->r, u, role, grant, user_record(q->user)->user_name,
			       role_saved, api_req_hold(q));
	routing_audit_attach(q->api->r, NULL); /* a no-op grant commits nothing */
	if (err) {
		api_req_release(q);
		api_reply_err(q, err, "cannot change the role");
	}
}

static void h_role_grant(struct api_req *q)
{
	role_change(q, true);
}

static void h_role_revoke(struct api_req *q)
{
	role_change(q, false);
}

/* ---- agents and presence ---- */
static void h_agents(struct api_req *q)
{
	json_t *a = json_array();

	for (size_t i = 0; i < routing_user_count(q->api->r); i++) {
		struct user *u = routing_user_at(q->api->r, i);
		if (user_is_agent(u) && user_record(u)->active)
			json_array_append_new(a, view_agent(q->api->r, u));
	}
	api_reply_json(q, 200, json_pack("{s:o}", "agents", a));
}

static void h_presence_get(struct api_req *q)
{
	struct user *u = target_agent(q, true);

	if (u)
		api_reply_json(q, 200, view_agent(q->api->r, u));
}

static void presence_saved(int err, void *arg)
{
	struct api_req *q = arg;
	struct user *u = routing_user_find(q->api->r, q->segs[3]);

	reply_committed(err, q, view_agent(q->api->r, u), "the presence change was not stored");
}

static void presence_refused(struct api_req *q, struct user *u, int err, enum presence to)
{
	struct agent_view v;
	enum presence cur;

	user_agent_view(u, &v);
	cur = v.presence;
	if (err == CC_EFORBIDDEN)
		api_reply_error(q, 403, "missing_roles",
				"%s cannot take calls: Available needs roles sn_openframe.user + "
				"interaction_agent%s",
				user_record(u)->user_name,
				routing_awa_enabled(q->api->r)
					? ", or awa_agent + awa_integration_user"
					: " (AWA is disabled)");
	else if (err == CC_EILLEGAL)
		api_reply_error(q, 409, "illegal_transition", "%s cannot go from %s to %s%s",
				user_record(u)->user_name, presence_name(cur), presence_name(to),
				cur == PRES_AFTER_CALL_WORK
					? ": finish wrap-up with Clear contact first"
				: cur == PRES_BUSY || cur == PRES_CALLING_CUSTOMER
					? ": the agent is on a call"
					: "");
	else
		api_reply_err(q, err, "cannot change presence");
}

static void h_presence_put(struct api_req *q)
{
	struct user *u = target_agent(q, true);
	struct req_presence body;
	char err[API_ERRSZ];
	int rc;

	if (!u)
		return;
	if (api_reply_bad_body(
		    q, req_decode_presence(q->body, q->body_len, &body, err, sizeof(err)), err)) {
		return;
	}
	if (u != q->user && body.status == PRES_AVAILABLE) {
		api_reply_error(q, 403, "forbidden",
				"only %s may make themselves Available; a manager may set Away or "
				"Offline",
				user_record(u)->user_name);
		return;
	}
	rc = routing_presence_request(q->api->r, u, body.status, body.reason,
				      user_record(q->user)->user_name, presence_saved,
				      api_req_hold(q));
	if (rc) {
		api_req_release(q);
		presence_refused(q, u, rc, body.status);
	}
}

static void clear_saved(int err, void *arg)
{
	struct api_req *q = arg;
	struct user *u = routing_user_find(q->api->r, q->segs[3]);

	reply_committed(err, q, view_agent(q->api->r, u), "Clear contact was not stored");
}

static void h_clear(struct api_req *q)
{
	struct user *u = target_agent(q, true);
	struct req_clear body;
	char err[API_ERRSZ], note[ST_NOTE + ST_NAME + 20] = "", code[ST_NAME];
	const char *codes;
	struct agent_view v;
	int rc;

	if (!u)
		return;
	if (api_reply_bad_body(q, req_decode_clear(q->body, q->body_len, &body, err, sizeof(err)),
			       err)) {
		return;
	}
	if (routing_wrapup_code_check(q->api->r, u, body.wrap_up_code, code, &codes)) {
		char list[ST_WRAPUP_CODES];
		str_copy(list, codes, sizeof(list));
		for (char *p = list; (p = strchr(p, '\n'));)
			*p = ',';
		api_reply_error(q, 400, "invalid_body",
				"'%.64s' is not a wrap-up code of this call's queue (%.600s)",
				body.wrap_up_code, list);
		return;
	}
	if (code[0] || body.note[0])
		snprintf(note, sizeof(note), "%s%s%s%s", code[0] ? "Wrap-up code: " : "", code,
			 code[0] && body.note[0] ? ". " : "", body.note);
	rc = routing_agent_clear_code(q->api->r, u, code, note, user_record(q->user)->user_name,
				      clear_saved, api_req_hold(q));
	if (rc) {
		api_req_release(q);
		user_agent_view(u, &v);
		api_reply_error(q, 409, "illegal_transition",
				"Clear contact needs AfterCallWork; %s is %s",
				user_record(u)->user_name, presence_name(v.presence));
	}
}

/* ---- the table ---- */
void api_route_interactions_list(struct api_req *q);
void api_route_interaction_get(struct api_req *q);
void api_route_interaction_ctr(struct api_req *q);
void api_route_transcript_get(struct api_req *q);
void api_route_transcript_request(struct api_req *q);
void api_route_transcript_policy(struct api_req *q);
void api_route_transcript_policy_set(struct api_req *q);

static const struct route routes[] = {
	{M_GET, "api/v1/health", ACC_PUBLIC, h_health},
	{M_POST, "api/v1/login", ACC_PUBLIC, api_route_login},
	{M_POST, "api/v1/logout", ACC_SIGNED_IN, api_route_logout},
	{M_GET, "api/v1/me", ACC_SIGNED_IN, h_me},
	{M_GET, "api/v1/roles", ACC_SIGNED_IN, h_roles},
	{M_GET, "api/v1/users", ACC_ADMIN, h_users_list},
	{M_POST, "api/v1/users", ACC_ADMIN, h_user_create},
	{M_GET, "api/v1/users/*", ACC_SIGNED_IN, h_user_get},
	{M_PATCH, "api/v1/users/*", ACC_ADMIN, h_user_update},
	{M_PUT, "api/v1/users/*/roles/*", ACC_ADMIN, h_role_grant},
	{M_DELETE, "api/v1/users/*/roles/*", ACC_ADMIN, h_role_revoke},
	{M_GET, "api/v1/agents", ACC_SIGNED_IN, h_agents},
	{M_GET, "api/v1/agents/*/presence", ACC_SIGNED_IN, h_presence_get},
	{M_PUT, "api/v1/agents/*/presence", ACC_SIGNED_IN, h_presence_put},
	{M_POST, "api/v1/agents/*/clear", ACC_SIGNED_IN, h_clear},
	{M_GET, "api/v1/queues", ACC_SIGNED_IN, api_route_queues_list},
	{M_POST, "api/v1/queues", ACC_ADMIN, api_route_queue_create},
	{M_GET, "api/v1/queues/*", ACC_SIGNED_IN, api_route_queue_get},
	{M_PATCH, "api/v1/queues/*", ACC_ADMIN, api_route_queue_update},
	{M_DELETE, "api/v1/queues/*", ACC_ADMIN, api_route_queue_delete},
	{M_PUT, "api/v1/queues/*/members/*", ACC_ADMIN, api_route_queue_member},
	{M_DELETE, "api/v1/queues/*/members/*", ACC_ADMIN, api_route_queue_member},
	{M_GET, "api/v1/audit", ACC_ADMIN, api_route_audit_list},
	{M_GET, "api/v1/reports/queues", ACC_SIGNED_IN, api_route_report_queues},
	{M_GET, "api/v1/reports/agents", ACC_SIGNED_IN, api_route_report_agents},
	{M_GET, "api/v1/reports/queues/interactions", ACC_SIGNED_IN,
	 api_route_report_queue_segments},
	{M_GET, "api/v1/reports/agents/interactions", ACC_SIGNED_IN,
	 api_route_report_agent_segments},
	{M_GET, "api/v1/calls", ACC_SIGNED_IN, api_route_calls_list},
	{M_GET, "api/v1/wallboard", ACC_SIGNED_IN, api_route_wallboard},
	{M_POST, "api/v1/calls", ACC_SIGNED_IN, api_route_call_create},
	{M_GET, "api/v1/calls/*", ACC_SIGNED_IN, api_route_call_get},
	{M_POST, "api/v1/calls/*/*", ACC_SIGNED_IN, api_route_call_action},
	{M_GET, "api/v1/flags", ACC_SIGNED_IN, api_route_flags_list},
	{M_PUT, "api/v1/flags/*", ACC_ADMIN, api_route_flag_put},
	{M_GET, "api/v1/interactions", ACC_SIGNED_IN, api_route_interactions_list},
	{M_GET, "api/v1/interactions/*", ACC_SIGNED_IN, api_route_interaction_get},
	{M_GET, "api/v1/interactions/*/recording", ACC_SIGNED_IN, api_route_recording},
	{M_GET, "api/v1/interactions/*/ctr", ACC_SIGNED_IN, api_route_interaction_ctr},
	{M_GET, "api/v1/interactions/*/transcript", ACC_SIGNED_IN, api_route_transcript_get},
	{M_POST, "api/v1/interactions/*/transcript", ACC_SIGNED_IN, api_route_transcript_request},
	{M_GET, "api/v1/transcripts/policy", ACC_ADMIN, api_route_transcript_policy},
	{M_PUT, "api/v1/transcripts/policy/*", ACC_ADMIN, api_route_transcript_policy_set},
	{M_DELETE, "api/v1/transcripts/policy/*", ACC_ADMIN, api_route_transcript_policy_set},
	{M_POST, "api/v1/interactions/*/notes", ACC_SIGNED_IN, api_route_note_add},
	{M_GET, "api/v1/numbers", ACC_ADMIN, api_route_numbers_list},
	{M_GET, "api/v1/callable-numbers", ACC_SIGNED_IN, api_route_callable_numbers},
	{M_PUT, "api/v1/numbers/*", ACC_ADMIN, api_route_number_put},
	{M_DELETE, "api/v1/numbers/*", ACC_ADMIN, api_route_number_delete},
	{M_GET, "api/v1/trunks", ACC_ADMIN, api_route_trunks_list},
	{M_PUT, "api/v1/trunks/*", ACC_ADMIN, api_route_trunk_put},
	{M_DELETE, "api/v1/trunks/*", ACC_ADMIN, api_route_trunk_delete},
	{M_GET, "api/v1/quick-connects", ACC_SIGNED_IN, api_route_quick_list},
	{M_POST, "api/v1/quick-connects", ACC_ADMIN, api_route_quick_create},
	{M_PATCH, "api/v1/quick-connects/*", ACC_ADMIN, api_route_quick_update},
	{M_DELETE, "api/v1/quick-connects/*", ACC_ADMIN, api_route_quick_delete},
	{M_GET, "api/v1/webhooks", ACC_ADMIN, api_route_webhooks_list},
	{M_POST, "api/v1/webhooks", ACC_ADMIN, api_route_webhook_create},
	{M_GET, "api/v1/webhooks/*", ACC_ADMIN, api_route_webhook_get},
	{M_PATCH, "api/v1/webhooks/*", ACC_ADMIN, api_route_webhook_update},
	{M_DELETE, "api/v1/webhooks/*", ACC_ADMIN, api_route_webhook_delete},
	{M_GET, "api/v1/flows", ACC_SIGNED_IN, api_route_flows_list},
	{M_POST, "api/v1/flows/reload", ACC_ADMIN, api_route_flows_reload},
	{M_GET, "api/v1/flows/*", ACC_SIGNED_IN, api_route_flow_get},
	{M_PUT, "api/v1/flows/*", ACC_ADMIN, api_route_flow_put},
	{M_DELETE, "api/v1/flows/*", ACC_ADMIN, api_route_flow_delete},
	{M_GET, "api/v1/contacts", ACC_SIGNED_IN, api_route_records_list},
	{M_POST, "api/v1/contacts", ACC_SIGNED_IN, api_route_record_create},
	{M_GET, "api/v1/contacts/*", ACC_SIGNED_IN, api_route_record_get},
	{M_PATCH, "api/v1/contacts/*", ACC_SIGNED_IN, api_route_record_update},
	{M_DELETE, "api/v1/contacts/*", ACC_SIGNED_IN, api_route_record_delete},
	{M_GET, "api/v1/consumers", ACC_SIGNED_IN, api_route_records_list},
	{M_POST, "api/v1/consumers", ACC_SIGNED_IN, api_route_record_create},
	{M_GET, "api/v1/consumers/*", ACC_SIGNED_IN, api_route_record_get},
	{M_PATCH, "api/v1/consumers/*", ACC_SIGNED_IN, api_route_record_update},
	{M_DELETE, "api/v1/consumers/*", ACC_SIGNED_IN, api_route_record_delete},
	{M_GET, "api/v1/cases", ACC_SIGNED_IN, api_route_records_list},
	{M_POST, "api/v1/cases", ACC_SIGNED_IN, api_route_record_create},
	{M_GET, "api/v1/cases/*", ACC_SIGNED_IN, api_route_record_get},
	{M_PATCH, "api/v1/cases/*", ACC_SIGNED_IN, api_route_record_update},
	{M_GET, "api/v1/incidents", ACC_SIGNED_IN, api_route_records_list},
	{M_POST, "api/v1/incidents", ACC_SIGNED_IN, api_route_record_create},
	{M_GET, "api/v1/incidents/*", ACC_SIGNED_IN, api_route_record_get},
	{M_PATCH, "api/v1/incidents/*", ACC_SIGNED_IN, api_route_record_update},
};

/* The GETs that read query parameters (each checks its own). */
static bool takes_query(route_h *h)
{
	return h == api_route_interactions_list || h == api_route_records_list ||
	       h == api_route_audit_list || h == api_route_quick_list ||
	       h == api_route_report_queues || h == api_route_report_agents ||
	       h == api_route_report_queue_segments || h == api_route_report_agent_segments;
}

static bool route_match(const struct route *rt, const struct api_req *q)
{
	char buf[128], *save = NULL, *tok;
	int i = 0;

	str_copy(buf, rt->pattern, sizeof(buf));
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
		if (i >= q->nsegs || (strcmp(tok, "*") && strcmp(tok, q->segs[i])))
			return false;
	}
	return i == q->nsegs;
}

static bool access_ok(struct api_req *q, enum access acc)
{
	if (acc == ACC_PUBLIC)
		return true;
	if (!q->user) {
		if (q->token_hash[0])
			api_reply_error(q, 401, "bad_token",
					"the bearer token is invalid or expired; "
					"sign in again at POST /api/v1/login");
		else
			api_reply_error(q, 401, "no_token",
					"sign in first: send Authorization: "
					"Bearer <token> from POST /api/v1/login");
		return false;
	}
	if (acc == ACC_ADMIN && !api_has_role(q->user, ROLE_ADMIN)) {
		api_reply_error(q, 403, "forbidden", "this needs the admin role");
		return false;
	}
	return true;
}

void api_dispatch(struct api_req *q)
{
	const struct route *found = NULL;
	bool path_known = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(&routes[i], q))
			continue;
		path_known = true;
		if (routes[i].method == q->method) {
			found = &routes[i];
			break;
		}
	}
	if (!found) {
		if (path_known)
			api_reply_error(q, 405, "method_not_allowed",
					"%s does not take this method", q->path);
		else
			api_reply_error(q, 404, "not_found", "no route %.200s", q->path);
		return;
	}
	if (!access_ok(q, found->access))
		return;
	if (found->method == M_GET && !takes_query(found->h) && api_query_check(q, no_params))
		return;
	found->h(q);
}
