/*
 * views.c — the JSON shape of each domain object, in one place so that REST
 * replies and WebSocket events agree (docs/openapi.yaml describes them).
 */
#include "api/api_int.h"

#include <string.h>

json_t *view_time(int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_null();
	time_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *view_roles(unsigned mask)
{
	json_t *a = json_array();

	for (int i = 0; i < ROLE__N; i++)
		if (mask & ROLE_BIT(i))
			json_array_append_new(a, json_string(role_name(i)));
	return a;
}

json_t *view_user(const struct routing *r, const struct user *u, bool full)
{
	const struct st_user *rec = user_record(u);
	json_t *o = json_pack("{s:s,s:s}", "user_name", rec->user_name, "name", rec->name);

	json_object_set_new(o, "email", str_or_null(rec->email));
	json_object_set_new(o, "mobile_phone", str_or_null(rec->mobile_phone));
	json_object_set_new(o, "business_phone", str_or_null(rec->business_phone));
	if (full) {
		json_object_set_new(o, "active", json_boolean(rec->active));
		json_object_set_new(o, "roles", view_roles(user_roles(u)));
		json_object_set_new(o, "is_agent", json_boolean(user_is_agent(u)));
		json_object_set_new(o, "sip_account", json_boolean(rec->sip_ha1[0] != '\0'));
		json_object_set_new(o, "can_handle_calls",
				    json_boolean(user_can_handle_calls(r, u)));
		json_object_set_new(o, "created_at", view_time(rec->created_at));
	}
	return o;
}

json_t *view_agent(const struct routing *r, const struct user *u)
{
	uint32_t in, out;
	struct agent_view v;
	int64_t now = time_now_ms();
	json_t *o;

	user_agent_view(u, &v);
	o = json_pack("{s:s,s:s,s:s}", "user_name", user_record(u)->user_name, "name",
		      user_record(u)->name, "presence", presence_name(v.presence));
	json_object_set_new(o, "away_reason", str_or_null(v.away_reason));
	json_object_set_new(o, "since", view_time(v.presence_since));
	json_object_set_new(
		o, "seconds_in_state",
		json_integer(now > v.presence_since ? (now - v.presence_since) / 1000 : 0));
	json_object_set_new(o, "interaction", str_or_null(v.interaction));
	json_object_set_new(o, "can_handle_calls", json_boolean(user_can_handle_calls(r, u)));
	json_object_set_new(o, "registered", json_boolean(routing_agent_device_ready(r, u)));
	routing_agent_transfers(u, &in, &out);
	json_object_set_new(o, "transfers_today",
			    json_pack("{s:I,s:I}", "in", (json_int_t)in, "out", (json_int_t)out));
	return o;
}

json_t *view_queue(const struct routing *r, size_t i)
{
	uint32_t offered, answered, abandoned;
	const struct user *members[256];
	struct queue_view v;
	size_t n;
	json_t *o, *m = json_array();

	routing_queue_view(r, i, &v);
	n = routing_queue_members(r, i, members, 256);
	for (size_t k = 0; k < n; k++)
		json_array_append_new(m, json_string(user_record(members[k])->user_name));
	json_t *prio = json_object(), *codes = json_array();
	const char *over =
		v.rec->overflow_queue_id ? routing_queue_name(r, v.rec->overflow_queue_id) : NULL;

	for (size_t k = 0; k < n; k++)
		json_object_set_new(prio, user_record(members[k])->user_name,
				    json_integer(routing_queue_member_priority(r, i, members[k])));
	for (const char *p = v.rec->wrap_up_codes; *p;) {
		size_t len = strcspn(p, "\n");
		json_array_append_new(codes, json_stringn(p, len));
		p += len + (p[len] == '\n');
	}
	o = json_pack("{s:s,s:i,s:i,s:i}", "name", v.name, "priority", v.priority,
		      "service_level_seconds", v.sl_threshold_s, "max_wait_seconds", v.max_wait_s);
	json_object_set_new(o, "overflow_queue", str_or_null(over && over[0] ? over : NULL));
	json_object_set_new(o, "strategy",
			    json_string(v.rec->strategy[0] ? v.rec->strategy : "longest_idle"));
	json_object_set_new(o, "service_level_abandons",
			    json_string(v.rec->sl_abandons[0] ? v.rec->sl_abandons : "met"));
	json_object_set_new(o, "hold_music",
			    str_or_null(v.rec->hold_music[0] ? v.rec->hold_music : NULL));
	json_object_set_new(o, "wrap_up_codes", codes);
	json_object_set_new(o, "members", m);
	json_object_set_new(o, "member_priority", prio);
	json_object_set_new(o, "live",
			    json_pack("{s:I,s:I,s:I,s:I,s:I}", "waiting", (json_int_t)v.waiting,
				      "longest_wait_seconds",
				      (json_int_t)(v.longest_wait_ms / 1000), "agents_available",
				      (json_int_t)v.available, "agents_signed_in",
				      (json_int_t)v.staffed, "members", (json_int_t)v.members));
	routing_queue_today(r, i, &offered, &answered, &abandoned);
	json_object_set_new(o, "today",
			    json_pack("{s:I,s:I,s:I}", "offered", (json_int_t)offered, "answered",
				      (json_int_t)answered, "abandoned", (json_int_t)abandoned));
	return o;
}

/* A duration in whole seconds (rounded). */
static json_t *view_seconds(int64_t ms)
{
	return json_integer((json_int_t)((ms + 500) / 1000));
}

json_t *view_interaction(const struct routing *r, const struct st_interaction *ix)
{
	struct user *agent = ix->agent_user_id
				     ? routing_user_by_id((struct routing *)r, ix->agent_user_id)
				     : NULL;
	enum ix_state st = IX_NEW;
	json_t *o;

	ix_state_parse(ix->state, &st);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "number", ix->number, "type", "Phone", "direction",
		      ix->direction, "state", ix->state, "state_label", ix_state_label(st));
	json_object_set_new(o, "caller_number", str_or_null(ix->caller_number));
	json_object_set_new(o, "queue", str_or_null(routing_queue_name(r, ix->queue_id)));
	json_object_set_new(o, "wrap_up_code", str_or_null(ix->wrap_up_code));
	json_object_set_new(o, "agent",
			    agent ? json_string(user_record(agent)->user_name) : json_null());
	json_object_set_new(o, "linked_record",
			    ix->linked_table[0] ? json_pack("{s:s,s:s}", "table", ix->linked_table,
							    "number", ix->linked_number)
						: json_null());
	json_object_set_new(o, "opened_at", view_time(ix->opened_at));
	json_object_set_new(o, "closed_at", view_time(ix->closed_at));
	json_object_set_new(o, "close_reason", str_or_null(ix->close_reason));
	/* the sums over its contact trace records (docs/CTR.md) */
	json_object_set_new(o, "talk_seconds", view_seconds(ix->talk_ms));
	json_object_set_new(o, "hold_seconds", view_seconds(ix->hold_ms));
	json_object_set_new(o, "queue_wait_seconds", view_seconds(ix->queue_ms));
	json_object_set_new(o, "after_call_work_seconds", view_seconds(ix->acw_ms));
	if (ix->last_note[0]) { /* cut to fit by bytes: keep it valid UTF-8 */
		char note[sizeof(ix->last_note)];
		str_copy(note, ix->last_note, sizeof(note));
		api_text_utf8_fix(note);
		json_object_set_new(o, "last_note", json_string(note));
	}
	return o;
}

/* ---- contact trace records (docs/CTR.md) ---- */
static json_t *view_endpoint(const char *address)
{
	/* routing writes numbers as digits, "+" in front when it had one */
	bool number = address[0] && strspn(address + (address[0] == '+'), "0123456789") ==
					    strlen(address + (address[0] == '+'));

	if (!address[0])
		return json_null();
	return json_pack("{s:s,s:s}", "type", number ? "TELEPHONE_NUMBER" : "SIP_USER", "address",
			 address);
}

static json_t *view_ctr_queue(const struct st_ctr *c)
{
	if (!c->queue[0])
		return json_null();
	return json_pack("{s:s,s:o,s:o,s:o}", "name", c->queue, "enqueue_timestamp",
			 view_time(c->enqueue_at), "dequeue_timestamp", view_time(c->dequeue_at),
			 "duration_seconds", view_seconds(c->queue_ms));
}

static json_t *view_ctr_agent(const struct st_ctr *c)
{
	json_t *o;

	if (!c->agent[0])
		return json_null();
	o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:i,s:o}", "user_name", c->agent, "name", c->agent_name,
		      "connected_to_agent_timestamp", view_time(c->connected_to_agent_at),
		      "interaction_duration_seconds", view_seconds(c->talk_ms),
		      "customer_hold_duration_seconds", view_seconds(c->hold_ms), "number_of_holds",
		      c->holds, "longest_hold_duration_seconds", view_seconds(c->longest_hold_ms));
	json_object_set_new(o, "after_contact_work_start_timestamp", view_time(c->acw_start_at));
	json_object_set_new(o, "after_contact_work_end_timestamp", view_time(c->acw_end_at));
	json_object_set_new(o, "after_contact_work_duration_seconds",
			    c->acw_end_at ? view_seconds(c->acw_ms) : json_null());
	json_object_set_new(o, "wrap_up_code", str_or_null(c->wrap_up_code));
	return o;
}

json_t *view_ctr(const struct st_ctr *c)
{
	json_error_t jerr;
	json_t *attrs = json_loads(c->attributes, JSON_REJECT_DUPLICATES, &jerr);
	json_t *o = json_pack("{s:s,s:s}", "contact_id", c->contact_id, "initial_contact_id",
			      c->initial_contact_id);

	if (!json_is_object(attrs)) { /* routing writes valid JSON: never expected */
		json_decref(attrs);
		attrs = json_object();
	}
	json_object_set_new(o, "previous_contact_id", str_or_null(c->previous_contact_id));
	json_object_set_new(o, "next_contact_id", str_or_null(c->next_contact_id));
	json_object_set_new(o, "interaction", json_string(c->interaction));
	json_object_set_new(o, "segment", json_integer(c->segment));
	json_object_set_new(o, "channel", json_string(c->channel));
	json_object_set_new(o, "initiation_method", json_string(c->initiation_method));
	json_object_set_new(o, "customer_endpoint", view_endpoint(c->customer_endpoint));
	json_object_set_new(o, "system_endpoint", view_endpoint(c->system_endpoint));
	json_object_set_new(o, "transferred_to",
			    c->transfer_type[0] ? json_pack("{s:s,s:s}", "type", c->transfer_type,
							    "address", c->transferred_to)
						: json_null());
	json_object_set_new(o, "initiation_timestamp", view_time(c->initiation_at));
	json_object_set_new(o, "connected_to_system_timestamp",
			    view_time(c->connected_to_system_at));
	json_object_set_new(o, "disconnect_timestamp", view_time(c->disconnect_at));
	json_object_set_new(o, "last_update_timestamp", view_time(c->last_update_at));
	json_object_set_new(o, "queue", view_ctr_queue(c));
	json_object_set_new(o, "agent", view_ctr_agent(c));
	json_object_set_new(o, "agent_connection_attempts", json_integer(c->connection_attempts));
	json_object_set_new(o, "missed_offers", json_integer(c->missed_offers));
	json_object_set_new(o, "attributes", attrs);
	json_object_set_new(o, "intent", str_or_null(c->intent));
	json_object_set_new(o, "recording",
			    c->recording[0] ? json_pack("{s:s}", "location", c->recording)
					    : json_null());
	json_object_set_new(o, "disconnect_reason", str_or_null(c->disconnect_reason));
	return o;
}

/* ---- records (records.c): contacts, consumers, cases, incidents ---- */
json_t *view_call_targets(const char *mobile, const char *business)
{
	json_t *a;

	if (!mobile[0] && !business[0])
		return NULL;
	a = json_array();
	if (mobile[0])
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "phone", "mobile", "number",
						   mobile, "label", "Mobile phone"));
	if (business[0])
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "phone", "business", "number",
						   business, "label", "Business phone"));
	return a;
}

static json_t *view_party(const struct st_record *r)
{
	if (r->party_table == ST_T_NONE)
		return json_null();
	if (r->table == ST_T_INCIDENT)
		return json_pack("{s:s,s:s}", "user_name", r->party_key, "name", r->party_name);
	return json_pack("{s:s,s:s,s:s}", "table", store_table_name(r->party_table), "key",
			 r->party_key, "name", r->party_name);
}

json_t *view_record(const struct st_record *r)
{
	json_t *o = json_pack("{s:s}", "number", r->number), *ct;
	bool person = r->table == ST_T_CONTACT || r->table == ST_T_CONSUMER;

	if (person) {
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "email", str_or_null(r->email));
		json_object_set_new(o, "mobile_phone", str_or_null(r->mobile_phone));
		json_object_set_new(o, "business_phone", str_or_null(r->business_phone));
		if (r->table == ST_T_CONTACT)
			json_object_set_new(o, "account", str_or_null(r->account));
		json_object_set_new(o, "created_at", view_time(r->created_at));
	} else {
		json_object_set_new(o, "short_description", json_string(r->short_description));
		json_object_set_new(o, "state", json_string(r->state));
		json_object_set_new(o, r->table == ST_T_CASE ? "contact" : "caller", view_party(r));
		json_object_set_new(o, "opened_at", view_time(r->created_at));
	}
	json_object_set_new(o, "updated_at", view_time(r->updated_at));
	ct = view_call_targets(r->mobile_phone, r->business_phone);
	if (ct)
		json_object_set_new(o, "call_targets", ct);
	return o;
}

json_t *api_ctr_view(const struct st_ctr *c)
{
	return view_ctr(c);
}
