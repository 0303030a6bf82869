/*
 * audit.c — the administrators' audit log: every change to users, roles,
 * queues, numbers, trunks, flags and flows, with who, when, what, and the
 * changed fields before → after; GET /api/v1/audit reads it back, filtered.
 *
 * DESIGN
 * - An entry is written in the same transaction as the change it records
 *   (routing_audit_attach for routing's changes; one more op in the same
 *   store_write for numbers and trunks), so a change is never stored without
 *   its entry, nor an entry without its change. Flows live in files: their
 *   entry is written once the file is (flows.c).
 * - before/after are compact JSON of the changed fields only, cut to fit
 *   (ST_AUDIT_TEXT) with "…" — passwords never appear, only "(changed)".
 * - The list reads on the pool (store_audit_list), newest first, keyset-
 *   paginated like interactions; filters: actor, action (or its prefix
 *   before the dot: "queue"), object (contains), from/to.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void text_of(json_t *o, char *dst, size_t size)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;

	dst[0] = '\0';
	if (s && strlen(s) >= size)
		snprintf(dst, size, "%.*s...", (int)size - 4, s);
	else if (s)
		str_copy(dst, s, size);
	free(s);
	json_decref(o);
}

static void audit_fill(struct st_audit *a, struct api_req *q, const char *action,
		       const char *object, json_t *before, json_t *after)
{
	memset(a, 0, sizeof(*a));
	a->at = time_now_ms();
	str_copy(a->actor, q->user ? user_record(q->user)->user_name : "system", sizeof(a->actor));
	str_copy(a->action, action, sizeof(a->action));
	str_copy(a->object, object, sizeof(a->object));
	text_of(before, a->before, sizeof(a->before));
	text_of(after, a->after, sizeof(a->after));
}

/* Drops the fields that did not change, so an entry shows only the change. */
void api_audit_strip_equal(json_t *before, json_t *after)
{
	const char *key;
	json_t *v;
	void *tmp;

	if (!json_is_object(before) || !json_is_object(after))
		return;
	json_object_foreach_safe(after, tmp, key, v)
	{
		if (json_equal(v, json_object_get(before, key))) {
			json_object_del(before, key);
			json_object_del(after, key);
		}
	}
}

void api_audit(struct api_req *q, const char *action, const char *object, json_t *before,
	       json_t *after)
{
	struct st_audit a;

	api_audit_strip_equal(before, after);
	audit_fill(&a, q, action, object, before, after);
	if (routing_audit_attach(q->api->r, &a))
		log_error("audit: out of memory: %s %s by %s not logged", action, object, a.actor);
}

void api_audit_op(struct api_req *q, struct store_op *op, const char *action, const char *object,
		  json_t *before, json_t *after)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_AUDIT_INSERT;
	audit_fill(&op->u.audit, q, action, object, before, after);
}

json_t *api_audit_user(const struct st_user *rec, unsigned roles)
{
	json_t *r = json_array();

	for (int i = 0; i < ROLE__N; i++)
		if (roles & ROLE_BIT(i))
			json_array_append_new(r, json_string(role_name(i)));
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:b}", "name", rec->name, "email", rec->email,
			 "mobile_phone", rec->mobile_phone, "business_phone", rec->business_phone,
			 "roles", r, "sip_account", rec->sip_ha1[0] != '\0', "active", rec->active);
}

/* ---- GET /api/v1/audit ---- */
static const char *const audit_params[] = {"actor", "action", "object", "from",
					   "to",    "limit",  "cursor", NULL};

static json_t *audit_text(const char *s)
{
	json_t *v = s[0] ? json_loads(s, 0, NULL) : NULL;

	return v ? v : s[0] ? json_string(s) : json_null(); /* a cut text stays a string */
}

static void audit_listed(int err, struct store_audit_page *pg, void *arg)
{
	struct api_req *q = arg;
	json_t *a;

	if (err) {
		api_reply_err(q, CC_ESTORE, "");
		api_req_release(q);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < pg->n; i++) {
		const struct st_audit *e = &pg->rows[i];
		char at[40];
		time_iso8601(e->at, at, sizeof(at));
		json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o}", "id",
						   (json_int_t)e->id, "at", at, "actor", e->actor,
						   "action", e->action, "object", e->object,
						   "before", audit_text(e->before), "after",
						   audit_text(e->after)));
	}
	api_reply_page(q, json_pack("{s:o}", "entries", a),
		       pg->more && pg->n ? pg->rows[pg->n - 1].id : 0);
	api_req_release(q);
}

static int audit_str(struct api_req *q, const char *name, char *dst, size_t size)
{
	int rc = api_query(q, name, dst, size);

	if (rc == -ENOENT || !rc)
		return 0;
	api_reply_error(q, 400, "invalid_parameter", "'%s' is longer than %zu characters", name,
			size - 1);
	return -EINVAL;
}

void api_route_audit_list(struct api_req *q)
{
	struct store_audit_filter f = {0};
	int64_t limit = 50, cursor = 0;

	if (api_query_check(q, audit_params) || audit_str(q, "actor", f.actor, sizeof(f.actor)) ||
	    audit_str(q, "action", f.action, sizeof(f.action)) ||
	    audit_str(q, "object", f.object, sizeof(f.object)) ||
	    api_query_time(q, "from", &f.from_ms) || api_query_time(q, "to", &f.to_ms) ||
	    api_query_int(q, "limit", 1, 200, &limit) ||
	    api_query_int(q, "cursor", 1, INT64_MAX, &cursor))
		return;
	f.limit = (int)limit, f.before_id = cursor;
	if (store_audit_list(q->api->st, &f, audit_listed, api_req_hold(q))) {
		api_req_release(q);
		api_reply_error(q, 503, "overloaded",
				"the audit log cannot be read now; try again");
	}
}
