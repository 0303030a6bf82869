/*
 * wallboard.c — the wallboard's JSON (issue 14 items 1, 2 and 4;
 * docs/WALLBOARD.md): a queue's figures, an alert, a live call, and the
 * snapshot a manager's event stream starts with (also GET
 * /api/v1/wallboard).
 *
 * DESIGN
 * - The figures are computed by routing (routing/wallboard.c) and the live
 *   calls listed by call control; this file only renders them, so the
 *   pushed events, the snapshot and the GET show the same fields.
 * - Times are ISO 8601; the browser ticks waits and times in a state from
 *   them (oldest_wait_since, phase_since), so no figure needs pushing only
 *   because a second passed.
 * - Averages and the service level are null until they have a call to
 *   average over; the sums beside them let a client compute its own.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"
#include "callctl/callctl.h"

#include <stdlib.h>
#include <string.h>

#define WB_LIVE_MAX 8192

static json_t *int_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *name_or_null(const struct user *u)
{
	return u ? json_string(user_record(u)->user_name) : json_null();
}

json_t *view_queue_stats(const struct routing_queue_stats *s)
{
	double sl = routing_wb_queue_service_level(s);
	json_t *o = json_pack("{s:s,s:i,s:s,s:I}", "queue", s->queue, "service_level_seconds",
			      s->threshold_s, "service_level_abandons", s->sl_abandons, "waiting",
			      (json_int_t)s->waiting);

	json_object_set_new(o, "oldest_wait_since",
			    s->oldest_at ? view_time(s->oldest_at) : json_null());
	json_object_set_new(o, "agents",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "members",
				      (json_int_t)s->members, "signed_in", (json_int_t)s->signed_in,
				      "available", (json_int_t)s->available, "on_call",
				      (json_int_t)s->on_call, "after_call_work", (json_int_t)s->acw,
				      "away", (json_int_t)s->away));
	json_t *t = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "offered", (json_int_t)s->offered,
		"waiting_within_threshold", (json_int_t)s->pending_in_sl, "answered",
		(json_int_t)s->answered, "abandoned", (json_int_t)s->abandoned, "transferred",
		(json_int_t)s->transferred, "answered_in_threshold", (json_int_t)s->answered_in_sl,
		"abandoned_in_threshold", (json_int_t)s->abandoned_in_sl, "handled",
		(json_int_t)s->handled, "answer_wait_ms", (json_int_t)s->answer_ms, "handle_ms",
		(json_int_t)s->handle_ms);
	json_object_set_new(t, "service_level",
			    sl < 0 ? json_null() : json_real((double)(long)(sl * 10 + 0.5) / 10));
	json_object_set_new(t, "average_speed_of_answer_seconds",
			    int_or_null(routing_wb_average_s(s->answer_ms, s->answered)));
	json_object_set_new(t, "average_handle_time_seconds",
			    int_or_null(routing_wb_average_s(s->handle_ms, s->handled)));
	json_object_set_new(o, "today", t);
	json_object_set_new(o, "last_15_minutes",
			    json_pack("{s:I,s:I}", "arrivals", (json_int_t)s->arrivals_15m,
				      "handled", (json_int_t)s->handled_15m));
	json_object_set_new(o, "handle_time_estimate_seconds", json_integer(s->aht_s));
	json_object_set_new(o, "expected_wait_seconds", int_or_null(s->expected_wait_s));
	json_object_set_new(o, "forecast_wait_seconds", int_or_null(s->forecast_wait_s));
	json_object_set_new(o, "service_level_at_risk", json_boolean(s->sl_at_risk));
	return o;
}

json_t *view_alert(const struct routing_alert *a)
{
	json_t *o =
		json_pack("{s:s,s:b,s:s}", "alert", a->kind, "active", a->active, "text", a->text);

	json_object_set_new(o, "queue", a->qstats ? json_string(a->qstats->queue) : json_null());
	json_object_set_new(o, "agent", name_or_null(a->user));
	json_object_set_new(o, "since", view_time(a->since));
	return o;
}

json_t *view_live_call(const struct routing_live_call *l)
{
	json_t *o =
		json_pack("{s:s,s:s,s:s,s:b,s:b}", "interaction", l->interaction, "phase", l->phase,
			  "caller", l->caller, "outbound", l->outbound, "ended", l->ended);

	json_object_set_new(o, "phase_since", view_time(l->phase_since));
	json_object_set_new(o, "queue", l->queue ? json_string(l->queue) : json_null());
	json_object_set_new(o, "agent", name_or_null(l->agent));
	json_object_set_new(o, "second", name_or_null(l->second));
	json_object_set_new(o, "monitored_by", name_or_null(l->monitor));
	json_object_set_new(o, "intent",
			    l->intent && l->intent[0] ? json_string(l->intent) : json_null());
	return o;
}

static void alert_add(const struct routing_alert *a, void *arg)
{
	json_array_append_new(arg, view_alert(a));
}

json_t *api_wallboard_snapshot(struct api *a)
{
	static struct callctl_live live[WB_LIVE_MAX];
	struct routing_queue_stats s;
	json_t *qs = json_array(), *calls = json_array(), *alerts = json_array();
	size_t n = a->cc ? callctl_live_calls(a->cc, live, WB_LIVE_MAX) : 0;

	for (size_t i = 0; i < routing_queue_count(a->r); i++) {
		struct queue_view v;
		routing_queue_view(a->r, i, &v);
		if (v.rec->deleted)
			continue;
		routing_queue_stats(a->r, i, &s);
		json_array_append_new(qs, view_queue_stats(&s));
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(calls, view_live_call(&live[i]));
	routing_alerts_each(a->r, alert_add, alerts);
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "type", "wallboard", "day_start",
			 view_time(routing_wallboard_day_start(a->r)), "queues", qs, "calls", calls,
			 "alerts", alerts, "at", view_time(time_now_ms()));
}

/* GET /api/v1/wallboard: the same snapshot, for managers. */
void api_route_wallboard(struct api_req *q)
{
	json_t *o;

	if (!api_is_manager(q->user)) {
		api_reply_error(q, 403, "forbidden",
				"only a voice_manager or admin sees the wallboard");
		return;
	}
	o = api_wallboard_snapshot(q->api);
	json_object_del(o, "type");
	api_reply_json(q, 200, o);
}
