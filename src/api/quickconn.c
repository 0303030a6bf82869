/*
 * quickconn.c — Quick connects (SPEC.md §6; issue 12): whom an agent on a
 * call may transfer it to, in one list, and the external numbers an
 * administrator defines for it:
 *   GET /api/v1/quick-connects[?q=text]   agents who take calls, managers, admins
 *   POST /api/v1/quick-connects {"name", "number"}           (admin) → 201
 *   PATCH /api/v1/quick-connects/{id} {"name"?, "number"?}    (admin) → 200
 *   DELETE /api/v1/quick-connects/{id}                        (admin) → 204
 *
 * DESIGN
 * - The list is answered from memory on the loop (routing's users, queues
 *   and quick connects), like GET /api/v1/agents and /queues: a picker that
 *   an agent opens during a call must not wait for the database.
 * - agents: every other user who may take calls by the seed's roles
 *   (user_can_handle_calls), with presence and whether a transfer to them
 *   could start now: routing_transfer_check() with the requester as the
 *   first agent, the same check POST /calls/{n}/transfer makes, so the
 *   picker and the transfer never disagree; `reason` is its sentence.
 * - queues: every queue not deleted, with its waiting callers and longest
 *   wait from routing_queue_view(), as GET /api/v1/queues shows them.
 * - ?q= keeps what contains the text in any ASCII case: an agent's name or
 *   user_name, a queue's name, an external name or number; a number also
 *   matches by its digits alone ("5550160" finds "+1 555 0160").
 * - Edits follow the queues' pattern (queues.c): decoded (json_req.c), then
 *   one routing change, applied in memory and committed with its audit
 *   entry in one transaction; the reply waits for the commit.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define QC_FILTER_MAX 256 /* bytes of ?q= */

/* ---- who may read ---- */
static bool may_read(struct api_req *q)
{
	struct routing *r = q->api->r;
	bool awa = routing_awa_enabled(r);
	json_t *need;

	if (user_can_handle_calls(r, q->user) || api_is_manager(q->user))
		return true;
	/* each entry: roles that must all be held; any one entry is enough */
	need = json_pack("[[s,s]]", role_name(ROLE_OPENFRAME_USER),
			 role_name(ROLE_INTERACTION_AGENT));
	if (awa)
		json_array_append_new(need, json_pack("[s,s]", role_name(ROLE_AWA_AGENT),
						      role_name(ROLE_AWA_INTEGRATION)));
	json_array_append_new(need, json_pack("[s]", role_name(ROLE_VOICE_MANAGER)));
	json_array_append_new(need, json_pack("[s]", role_name(ROLE_ADMIN)));
	api_reply_error_x(q, 403, "missing_roles", json_pack("{s:o}", "roles_needed", need),
			  "quick connects are for agents who take calls (sn_openframe.user + "
			  "interaction_agent%s), managers (voice_manager) and admins (admin)",
			  awa ? ", or awa_agent + awa_integration_user" : "");
	return false;
}

/* ---- the filter ---- */
struct qc_filter {
	char text[QC_FILTER_MAX + 1];	/* "" = everything */
	char digits[QC_FILTER_MAX + 1]; /* its digits when it looks like a number, else "" */
};

static void digits_of(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s && o + 1 < size; s++)
		if (*s >= '0' && *s <= '9')
			out[o++] = *s;
	out[o] = '\0';
}

static int filter_parse(struct api_req *q, struct qc_filter *f)
{
	static const char *const params[] = {"q", NULL};
	int rc;

	memset(f, 0, sizeof(*f));
	if (api_query_check(q, params))
		return -EINVAL;
	rc = api_query(q, "q", f->text, sizeof(f->text));
	if (rc == -E2BIG) {
		api_reply_error(q, 400, "invalid_parameter", "'q' is longer than %d bytes",
				QC_FILTER_MAX);
		return -EINVAL;
	}
	if (rc)
		f->text[0] = '\0';
	if (f->text[0] && strspn(f->text, "0123456789 +-().") == strlen(f->text))
		digits_of(f->text, f->digits, sizeof(f->digits));
	return 0;
}

static bool text_has(const char *field, const struct qc_filter *f)
{
	return !f->text[0] || strcasestr(field, f->text);
}

static bool number_has(const char *number, const struct qc_filter *f)
{
	char d[ST_PHONE];

	if (text_has(number, f))
		return true;
	digits_of(number, d, sizeof(d));
	return f->digits[0] && strstr(d, f->digits);
}

/* ---- GET ---- */
static json_t *agents_json(struct api_req *q, const struct qc_filter *f)
{
	struct routing *r = q->api->r;
	json_t *a = json_array();

	for (size_t i = 0; i < routing_user_count(r); i++) {
		const struct user *u = routing_user_at(r, i);
		const struct st_user *rec = user_record(u);
		const char *why = NULL;
		struct agent_view v;
		bool ok;

		if (u == q->user || !user_can_handle_calls(r, u) ||
		    !(text_has(rec->user_name, f) || text_has(rec->name, f)))
			continue;
		user_agent_view(u, &v);
		ok = routing_transfer_check(r, q->user, u, &why) == 0;
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b,s:s?}", "user_name",
						   rec->user_name, "name", rec->name, "presence",
						   presence_name(v.presence), "can_take_transfer",
						   ok, "reason", ok ? NULL : why));
	}
	return a;
}

static json_t *queues_json(struct api_req *q, const struct qc_filter *f)
{
	struct routing *r = q->api->r;
	json_t *a = json_array();
	struct queue_view v;

	for (size_t i = 0; i < routing_queue_count(r); i++) {
		routing_queue_view(r, i, &v);
		if (v.rec->deleted || !text_has(v.name, f))
			continue;
		json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}", "name", v.name, "waiting",
						   (json_int_t)v.waiting, "longest_wait_s",
						   (json_int_t)(v.longest_wait_ms / 1000),
						   "agents_available", (json_int_t)v.available));
	}
	return a;
}

static json_t *view_quick(const struct st_quick_connect *c)
{
	return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "name", c->name, "number",
			 c->number);
}

static json_t *external_json(struct api_req *q, const struct qc_filter *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i < routing_quick_count(q->api->r); i++) {
		const struct st_quick_connect *c = routing_quick_at(q->api->r, i);
		if (text_has(c->name, f) || number_has(c->number, f))
			json_array_append_new(a, view_quick(c));
	}
	return a;
}

void api_route_quick_list(struct api_req *q)
{
	struct qc_filter f;

	if (!may_read(q) || filter_parse(q, &f))
		return;
	api_reply_json(q, 200,
		       json_pack("{s:o,s:o,s:o}", "agents", agents_json(q, &f), "queues",
				 queues_json(q, &f), "external", external_json(q, &f)));
}

/* ---- writes (admin) ---- */
struct qc_job {
	struct api_req *q;
	int status;		     /* 201, 200 or 204 */
	struct st_quick_connect row; /* what the reply shows */
};

static void qc_saved(int err, void *arg)
{
	struct qc_job *j = arg;

	if (err)
		api_reply_err(j->q, err, "the quick connect change was applied but not stored");
	else
		api_reply_json(j->q, j->status, j->status == 204 ? NULL : view_quick(&j->row));
	api_req_release(j->q);
	free(j);
}

/* The routing call refused at once: nothing was applied; reply, drop the job. */
static void qc_refused(struct qc_job *j, int err)
{
	struct api_req *q = j->q;

	routing_audit_attach(q->api->r, NULL);
	if (err == CC_ECONFLICT)
		api_reply_error(q, 409, "conflict", "a quick connect named '%s' exists",
				j->row.name);
	else if (err == -ENOSPC)
		api_reply_error(q, 409, "conflict",
				"there are %d quick connects already: delete one first",
				ROUTING_QUICK_MAX);
	else
		api_reply_err(q, err, "cannot change the quick connect");
	api_req_release(q);
	free(j);
}

static struct qc_job *job_new(struct api_req *q, int status)
{
	struct qc_job *j = calloc(1, sizeof(*j));

	if (!j) {
		api_reply_error(q, 503, "overloaded", "the server is out of memory; try again");
		return NULL;
	}
	j->q = api_req_hold(q), j->status = status;
	return j;
}

/* The audit's object: the name, cut to fit without splitting a character. */
static void audit_object(const char *name, char out[ST_TEXT])
{
	size_t n, k;

	if (str_copy(out, name, ST_TEXT) < ST_TEXT)
		return;
	n = strlen(out);
	for (k = n; k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80; k--)
		;
	if (k > 0 && (unsigned char)out[k - 1] >= 0xc0) {
		unsigned char lead = (unsigned char)out[k - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		if (n - (k - 1) < need)
			out[k - 1] = '\0';
	}
}

/* The audited fields: {"name", "number"} (the object is the name). */
static json_t *audit_fields(const struct st_quick_connect *c)
{
	return c ? json_pack("{s:s,s:s}", "name", c->name, "number", c->number) : NULL;
}

/* Attaches the audit entry to the next routing change (api_audit). */
static void audit(struct api_req *q, const char *action, const char *name,
		  const struct st_quick_connect *before, const struct st_quick_connect *after)
{
	char object[ST_TEXT];

	audit_object(name, object);
	api_audit(q, action, object, audit_fields(before), audit_fields(after));
}

/* The quick connect of the path's id (segment 3); replied to when none. */
static const struct st_quick_connect *path_quick(struct api_req *q)
{
	const char *s = q->segs[3];
	const struct st_quick_connect *c;
	char *end;
	long long id;

	if (!s[0] || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18) {
		api_reply_error(q, 400, "invalid_parameter",
				"'%.40s' is not a quick connect id (a whole number, as GET "
				"/api/v1/quick-connects lists them)",
				s);
		return NULL;
	}
	id = strtoll(s, &end, 10);
	c = routing_quick_find(q->api->r, (int64_t)id);
	if (!c)
		api_reply_error(q, 404, "not_found", "no quick connect %lld", id);
	return c;
}

static bool body_bad(struct api_req *q, bool create, struct req_quick_connect *b)
{
	char err[API_ERRSZ];

	return api_reply_bad_body(
		q, req_decode_quick_connect(q->body, q->body_len, create, b, err, sizeof(err)),
		err);
}

void api_route_quick_create(struct api_req *q)
{
	struct req_quick_connect b;
	struct qc_job *j;
	int rc;

	if (body_bad(q, true, &b) || !(j = job_new(q, 201)))
		return;
	str_copy(j->row.name, b.name, sizeof(j->row.name));
	str_copy(j->row.number, b.number, sizeof(j->row.number));
	audit(q, "quick_connect.create", j->row.name, NULL, &j->row);
	rc = routing_quick_create(q->api->r, &j->row, qc_saved, j, &j->row.id);
	if (rc)
		qc_refused(j, rc);
}

void api_route_quick_update(struct api_req *q)
{
	const struct st_quick_connect *cur = path_quick(q);
	struct req_quick_connect b;
	struct qc_job *j;
	int rc;

	if (!cur || body_bad(q, false, &b) || !(j = job_new(q, 200)))
		return;
	j->row = *cur;
	if (b.has_name)
		str_copy(j->row.name, b.name, sizeof(j->row.name));
	if (b.has_number)
		str_copy(j->row.number, b.number, sizeof(j->row.number));
	audit(q, "quick_connect.update", cur->name, cur, &j->row);
	rc = routing_quick_update(q->api->r, &j->row, qc_saved, j);
	if (rc)
		qc_refused(j, rc);
}

void api_route_quick_delete(struct api_req *q)
{
	const struct st_quick_connect *cur = path_quick(q);
	struct qc_job *j;
	int rc;

	if (!cur || !(j = job_new(q, 204)))
		return;
	j->row = *cur;
	audit(q, "quick_connect.delete", cur->name, cur, NULL);
	rc = routing_quick_delete(q->api->r, j->row.id, qc_saved, j);
	if (rc)
		qc_refused(j, rc);
}
