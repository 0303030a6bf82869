/*
 * wallboard.c — the managers' real-time figures (issue 14 items 1 and 4):
 * queue events, each queue's figures of today and of the last 15 minutes,
 * and the alerts, computed here on the loop and pushed through the event
 * handler. Definitions: docs/WALLBOARD.md.
 *
 * DESIGN
 * - The routing engine tells this file what happens to callers (joined,
 *   offered, missed, answered, abandoned, left, transferred), to contact
 *   trace records (final: the handle time) and to agents (presence, hold)
 *   through the wb_* hooks of routing_int.h. Each hook updates counters in
 *   the queue (struct wb_queue) or the agent (struct wb_agent), announces
 *   the caller's queue event at once (RT_EV_QUEUE), and marks the queue
 *   dirty.
 * - A queue's figures are pushed when they changed, coalesced: one timer
 *   flushes every dirty queue at most once per push_ms (250 ms: at most 4
 *   pushes a second per queue however many calls move). A presence change
 *   marks every queue: the flush recomputes them (O(members)) and pushes
 *   only those whose figures differ from the last pushed.
 * - "Today" begins at the server's local midnight. The counters are kept
 *   by the day a caller entered the queue, the rule the seed applies to
 *   the contact trace records at start (store_queue_day_now), so a
 *   restart keeps today's figures.
 * - The last 15 minutes are 15 one-minute buckets of arrivals and handle
 *   times per queue (a ring indexed by minute): O(1) to add, O(15) to sum.
 * - A one-second clock rolls the day, marks every queue when a minute
 *   passes (the 15-minute window moves), and raises the agents' alerts
 *   whose limit passed (after-call work, hold): O(agents) a second.
 */
#define LOG_MODULE "wallboard"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wallboard {
	struct routing_wb_cfg cfg;
	uv_timer_t *flush, *tick;
	int64_t day_start, day_end; /* today: [start, end) in ms */
	int64_t flushed_at;
	int64_t minute;	     /* the clock's last minute */
	bool presence_dirty; /* an agent changed: every queue is recomputed */
};

static const struct routing_wb_cfg wb_defaults = {
	.push_ms = 250, .acw_alert_s = 120, .hold_alert_s = 90, .missed_alert = 3};

/* ---- pure figures ---- */
double routing_wb_service_level(uint32_t in_sl, uint32_t offered)
{
	return offered ? 100.0 * in_sl / offered : -1.0;
}

double routing_wb_queue_service_level(const struct routing_queue_stats *s)
{
	uint32_t decided = s->offered - s->pending_in_sl;
	const char *rule = s->sl_abandons ? s->sl_abandons : "met";

	if (!strcmp(rule, "excluded"))
		return routing_wb_service_level(
			s->answered_in_sl,
			decided > s->abandoned_in_sl ? decided - s->abandoned_in_sl : 0);
	if (!strcmp(rule, "missed"))
		return routing_wb_service_level(s->answered_in_sl, decided);
	return routing_wb_service_level(s->answered_in_sl + s->abandoned_in_sl, decided);
}

int routing_wb_average_s(int64_t sum_ms, uint32_t n)
{
	return n ? (int)((sum_ms / n + 500) / 1000) : -1;
}

int routing_wb_expected_wait(size_t waiting, size_t free_agents, size_t working, int aht_s)
{
	int64_t ahead = (int64_t)waiting + 1 - (int64_t)free_agents;

	if (ahead <= 0)
		return 0;
	if (!working)
		return -1;
	return (int)((ahead * aht_s + (int64_t)working / 2) / (int64_t)working);
}

double routing_wb_erlang_c(int n, double a)
{
	double b = 1.0; /* Erlang B, by the recurrence B(k) = a B(k-1) / (k + a B(k-1)) */

	if (n <= 0 || a >= n)
		return 1.0;
	if (a <= 0)
		return 0.0;
	for (int k = 1; k <= n; k++)
		b = a * b / (k + a * b);
	return n * b / (n - a * (1 - b));
}

int routing_wb_forecast_wait(int n, double arrivals_per_s, int aht_s)
{
	double a = arrivals_per_s * aht_s, w;

	if (arrivals_per_s <= 0)
		return 0;
	if (n <= 0 || a >= n)
		return -1;
	w = routing_wb_erlang_c(n, a) * aht_s / (n - a);
	return (int)lround(w);
}

/* ---- the day and the state ---- */
static void day_bounds(int64_t now, int64_t *start, int64_t *end)
{
	time_t t = (time_t)(now / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*start = (int64_t)mktime(&tm) * 1000;
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	*end = (int64_t)mktime(&tm) * 1000;
}

static void queue_today_reset(struct queue *q)
{
	struct wb_queue *w = &q->wb;

	w->offered = w->answered = w->abandoned = w->transferred = 0;
	w->answered_in_sl = w->abandoned_in_sl = w->handled = 0;
	w->answer_ms = w->handle_ms = 0;
	w->dirty = true;
}

/* The state, made on first use; the day rolled when it ended. */
static struct wallboard *wb_get(struct routing *r)
{
	struct wallboard *wb = r->wb;
	int64_t now = time_now_ms();

	if (!wb) {
		wb = r->wb = calloc(1, sizeof(*wb));
		if (!wb)
			return NULL;
		wb->cfg = wb_defaults;
		day_bounds(now, &wb->day_start, &wb->day_end);
	}
	if (now >= wb->day_end) {
		day_bounds(now, &wb->day_start, &wb->day_end);
		for (size_t i = 0; i < r->n_queues; i++)
			queue_today_reset(r->queues[i]);
		log_info("action=new day: today's figures start again");
	}
	return wb;
}

int64_t routing_wallboard_day_start(const struct routing *r)
{
	return wb_get((struct routing *)r) ? r->wb->day_start : 0;
}

static bool today(struct routing *r, int64_t at)
{
	struct wallboard *wb = wb_get(r);

	return wb && at >= wb->day_start;
}

static struct wb_minute *minute_of(struct queue *q, int64_t now)
{
	int64_t m = now / 60000;
	struct wb_minute *b = &q->wb.recent[m % WB_MINUTES];

	if (b->minute != m)
		*b = (struct wb_minute){.minute = m};
	return b;
}

/* ---- pushing ---- */
static void flush(struct routing *r);

static void flush_cb(uv_timer_t *t)
{
	flush(t->data);
}

static void schedule(struct routing *r)
{
	struct wallboard *wb = r->wb;
	int64_t delay;

	if (!wb || !wb->flush || uv_is_active((uv_handle_t *)wb->flush))
		return;
	delay = wb->flushed_at + wb->cfg.push_ms - time_now_ms();
	uv_timer_start(wb->flush, flush_cb, delay > 0 ? (uint64_t)delay : 0, 0);
}

static void dirty(struct routing *r, struct queue *q)
{
	q->wb.dirty = true;
	schedule(r);
}

/* A caller's queue event, to the handler now. */
static void queue_event(struct routing *r, const struct queue *q, const char *number,
			const char *what, const struct user *u, const char *why, int64_t wait_ms)
{
	struct routing_event ev = {
		.kind = RT_EV_QUEUE,
		.user = u,
		.at = time_now_ms(),
		.from = "",
		.to = what,
		.reason = why ? why : "",
		.interaction = number,
		.actor = "system",
		.queue = q ? q->rec.name : NULL,
		.wait_ms = wait_ms,
	};

	routing_announce(r, &ev);
}

static void alert_announce(struct routing *r, const struct routing_alert *a)
{
	struct routing_event ev = {
		.kind = RT_EV_ALERT,
		.user = a->user,
		.at = time_now_ms(),
		.from = "",
		.to = a->kind,
		.reason = a->text,
		.interaction = "",
		.actor = "system",
		.alert = a,
	};

	log_info("agent=%s action=alert %s %s: %s", a->user ? a->user->rec.user_name : "-", a->kind,
		 a->active ? "raised" : "cleared", a->text);
	routing_announce(r, &ev);
}

/* ---- alerts ---- */
static void agent_alert_text(const struct user *u, const char *kind, const struct wallboard *wb,
			     char *buf, size_t size)
{
	const char *who = u->rec.name[0] ? u->rec.name : u->rec.user_name;

	if (!strcmp(kind, "long_acw"))
		snprintf(buf, size, "%s has been in after-call work for over %d s", who,
			 wb->cfg.acw_alert_s);
	else if (!strcmp(kind, "long_hold"))
		snprintf(buf, size, "%s has had a customer on hold for over %d s", who,
			 wb->cfg.hold_alert_s);
	else
		snprintf(buf, size, "%s missed %d offers in a row", who, u->wb.missed_row);
}

/* Raises (at != 0) or clears an agent's alert of this kind. */
static void agent_alert(struct routing *r, const struct user *u, const char *kind, int64_t *slot,
			bool raise)
{
	struct routing_alert a = {.kind = kind, .active = raise, .user = u};

	if (raise == (*slot != 0) || !r->wb)
		return;
	a.since = raise ? time_now_ms() : *slot;
	*slot = raise ? a.since : 0;
	agent_alert_text(u, kind, r->wb, a.text, sizeof(a.text));
	alert_announce(r, &a);
}

static void sl_alert_text(const struct routing_queue_stats *s, char *buf, size_t size)
{
	if (s->expected_wait_s < 0 && s->waiting)
		snprintf(buf, size, "%s: nobody is taking calls and %zu wait", s->queue,
			 s->waiting);
	else if (s->expected_wait_s < 0)
		snprintf(buf, size,
			 "%s: nobody is taking calls, and callers came in the last 15 minutes",
			 s->queue);
	else if (s->expected_wait_s > s->threshold_s)
		snprintf(buf, size,
			 "%s: a caller arriving now would wait about %d s (threshold %d s)",
			 s->queue, s->expected_wait_s, s->threshold_s);
	else if (s->forecast_wait_s < 0)
		snprintf(buf, size,
			 "%s: the last 15 minutes brought more calls than %zu agents can take",
			 s->queue, s->available + s->on_call + s->acw);
	else
		snprintf(
			buf, size,
			"%s: at the last 15 minutes' pace callers would wait about %d s (threshold "
			"%d s)",
			s->queue, s->forecast_wait_s, s->threshold_s);
}

static void queue_alert(struct routing *r, struct queue *q, const struct routing_queue_stats *s)
{
	struct routing_alert a = {.kind = "sl_at_risk", .active = s->sl_at_risk, .qstats = s};

	if (s->sl_at_risk == (q->wb.at_risk != 0))
		return;
	a.since = s->sl_at_risk ? time_now_ms() : q->wb.at_risk;
	q->wb.at_risk = s->sl_at_risk ? a.since : 0;
	if (s->sl_at_risk)
		sl_alert_text(s, a.text, sizeof(a.text));
	else
		snprintf(a.text, sizeof(a.text), "%s: the service level is no longer at risk",
			 s->queue);
	alert_announce(r, &a);
}

void routing_alerts_each(struct routing *r, routing_alert_each_h *h, void *arg)
{
	struct routing_queue_stats s;
	struct routing_alert a;

	for (size_t i = 0; i < r->n_queues; i++) {
		if (!r->queues[i]->wb.at_risk || r->queues[i]->rec.deleted)
			continue;
		routing_queue_stats(r, i, &s);
		a = (struct routing_alert){.kind = "sl_at_risk", .active = true, .qstats = &s};
		a.since = r->queues[i]->wb.at_risk;
		sl_alert_text(&s, a.text, sizeof(a.text));
		h(&a, arg);
	}
	for (size_t i = 0; r->wb && i < r->n_users; i++) {
		struct user *u = r->users[i];
		const char *kinds[] = {"long_acw", "long_hold", "missed_offers"};
		int64_t at[] = {u->wb.acw_alert, u->wb.hold_alert, u->wb.missed_alert};
		for (int k = 0; k < 3; k++) {
			if (!at[k])
				continue;
			a = (struct routing_alert){
				.kind = kinds[k], .active = true, .user = u, .since = at[k]};
			agent_alert_text(u, kinds[k], r->wb, a.text, sizeof(a.text));
			h(&a, arg);
		}
	}
}

/* ---- the figures ---- */
static void members_count(struct routing *r, const struct queue *q, struct routing_queue_stats *s,
			  size_t *free_agents)
{
	*free_agents = 0;
	s->members = q->n_members;
	for (size_t k = 0; k < q->n_members; k++) {
		struct user *u = routing_user_by_id(r, q->members[k]);
		if (!u || u->presence == PRES_OFFLINE)
			continue;
		s->signed_in++;
		switch (u->presence) {
		case PRES_AVAILABLE:
			s->available++;
			if (!u->offered_ix && user_can_handle_calls(r, u) &&
			    routing_agent_device_ready(r, u))
				(*free_agents)++;
			break;
		case PRES_BUSY:
		case PRES_CALLING_CUSTOMER:
		case PRES_FAILED_CONNECT: s->on_call++; break;
		case PRES_AFTER_CALL_WORK: s->acw++; break;
		default: s->away++; break; /* Away, Missed */
		}
	}
}

static void recent_sum(struct queue *q, int64_t now, struct routing_queue_stats *s,
		       int64_t *handle_ms)
{
	int64_t m = now / 60000;

	*handle_ms = 0;
	for (int i = 0; i < WB_MINUTES; i++) {
		const struct wb_minute *b = &q->wb.recent[i];
		if (b->minute > m - WB_MINUTES && b->minute <= m) {
			s->arrivals_15m += b->arrivals;
			s->handled_15m += b->handled;
			*handle_ms += b->handle_ms;
		}
	}
}

void routing_queue_stats(struct routing *r, size_t i, struct routing_queue_stats *s)
{
	struct queue *q = r->queues[i];
	const struct wb_queue *w = &q->wb;
	int64_t now = time_now_ms(), recent_ms;
	size_t free_agents, working;

	wb_get(r); /* rolls the day */
	memset(s, 0, sizeof(*s));
	s->queue_id = q->rec.id, s->queue = q->rec.name, s->threshold_s = q->rec.sl_threshold_s;
	s->sl_abandons = q->rec.sl_abandons[0] ? q->rec.sl_abandons : "met";
	s->waiting = q->waiting;
	for (const struct qentry *en = q->head; en; en = en->next) {
		if (!s->oldest_at || en->x->queued_at < s->oldest_at)
			s->oldest_at = en->x->queued_at;
		s->pending_in_sl += r->wb && en->x->queued_at >= r->wb->day_start &&
				    now - en->x->queued_at <= (int64_t)s->threshold_s * 1000;
	}
	members_count(r, q, s, &free_agents);
	s->offered = w->offered, s->answered = w->answered, s->abandoned = w->abandoned;
	s->transferred = w->transferred, s->handled = w->handled;
	s->answered_in_sl = w->answered_in_sl, s->abandoned_in_sl = w->abandoned_in_sl;
	s->answer_ms = w->answer_ms, s->handle_ms = w->handle_ms;
	recent_sum(q, now, s, &recent_ms);
	/* the handle time the estimates use: the last 15 minutes', today's,
	 * the queue's moving average, a default */
	s->aht_s = s->handled_15m ? routing_wb_average_s(recent_ms, s->handled_15m)
		   : w->handled	  ? routing_wb_average_s(w->handle_ms, w->handled)
		   : q->aht_s	  ? q->aht_s
				  : ROUTING_AHT_DEFAULT_S;
	if (s->aht_s < 1)
		s->aht_s = 1;
	working = s->available + s->on_call + s->acw;
	s->expected_wait_s = routing_wb_expected_wait(s->waiting, free_agents, working, s->aht_s);
	s->forecast_wait_s =
		routing_wb_forecast_wait((int)working, s->arrivals_15m / 900.0, s->aht_s);
	s->sl_at_risk = s->expected_wait_s < 0 || s->expected_wait_s > s->threshold_s ||
			(s->arrivals_15m &&
			 (s->forecast_wait_s < 0 || s->forecast_wait_s > s->threshold_s));
	if (!s->waiting && !s->arrivals_15m)
		s->sl_at_risk = false; /* nobody calls: nothing is at risk */
}

/* What a push compares: every figure, as text. */
static void stats_key(const struct routing_queue_stats *s, char *buf, size_t size)
{
	snprintf(
		buf, size,
		"%s|%d %s|%zu|%lld|%zu %zu %zu %zu %zu %zu|%u %u %u %u %u %u %u %u|%lld %lld|%u %u "
		"%d %d %d %d",
		s->queue, s->threshold_s, s->sl_abandons, s->waiting, (long long)s->oldest_at,
		s->members, s->signed_in, s->available, s->on_call, s->acw, s->away, s->offered,
		s->answered, s->abandoned, s->transferred, s->answered_in_sl, s->abandoned_in_sl,
		s->handled, s->pending_in_sl, (long long)s->answer_ms, (long long)s->handle_ms,
		s->arrivals_15m, s->handled_15m, s->aht_s, s->expected_wait_s, s->forecast_wait_s,
		s->sl_at_risk);
}

static void flush(struct routing *r)
{
	struct wallboard *wb = wb_get(r);
	struct routing_queue_stats s;
	char key[sizeof(((struct wb_queue *)0)->pushed)];

	if (!wb)
		return;
	for (size_t i = 0; i < r->n_queues; i++) {
		struct queue *q = r->queues[i];
		if ((!q->wb.dirty && !wb->presence_dirty) || q->rec.deleted)
			continue;
		q->wb.dirty = false;
		routing_queue_stats(r, i, &s);
		queue_alert(r, q, &s);
		stats_key(&s, key, sizeof(key));
		if (!strcmp(key, q->wb.pushed))
			continue;
		str_copy(q->wb.pushed, key, sizeof(q->wb.pushed));
		routing_announce(r, &(struct routing_event){.kind = RT_EV_QUEUE_STATS,
							    .at = time_now_ms(),
							    .from = "",
							    .to = "",
							    .reason = "",
							    .interaction = "",
							    .actor = "system",
							    .queue = s.queue,
							    .qstats = &s});
	}
	wb->presence_dirty = false;
	wb->flushed_at = time_now_ms();
}

/* ---- the clock ---- */
static void tick_agents(struct routing *r, int64_t now)
{
	const struct routing_wb_cfg *cfg = &r->wb->cfg;

	for (size_t i = 0; i < r->n_users; i++) {
		struct user *u = r->users[i];
		if (u->presence == PRES_AFTER_CALL_WORK && !u->wb.acw_alert &&
		    now - u->presence_since >= (int64_t)cfg->acw_alert_s * 1000)
			agent_alert(r, u, "long_acw", &u->wb.acw_alert, true);
		if (u->wb.hold_since && !u->wb.hold_alert &&
		    now - u->wb.hold_since >= (int64_t)cfg->hold_alert_s * 1000)
			agent_alert(r, u, "long_hold", &u->wb.hold_alert, true);
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct routing *r = t->data;
	struct wallboard *wb = wb_get(r);
	int64_t now = time_now_ms();

	if (!wb)
		return;
	if (now / 60000 != wb->minute) { /* the 15-minute window moved (or the day) */
		wb->minute = now / 60000;
		for (size_t i = 0; i < r->n_queues; i++)
			r->queues[i]->wb.dirty = true;
	}
	/* a waiting caller may pass the threshold: the service level changes
	 * (pushed only if a figure did) */
	for (size_t i = 0; i < r->n_queues; i++)
		r->queues[i]->wb.dirty |= r->queues[i]->waiting > 0;
	schedule(r);
	tick_agents(r, now);
}

static uv_timer_t *timer_new(struct routing *r)
{
	uv_timer_t *t = calloc(1, sizeof(*t));

	if (t) {
		uv_timer_init(r->loop, t);
		t->data = r;
	}
	return t;
}

void routing_wallboard_start(struct routing *r, const struct routing_wb_cfg *cfg)
{
	struct wallboard *wb;

	tzset(); /* the local day: read the zone once, before the loop needs it */
	wb = wb_get(r);
	if (!wb)
		return;
	if (cfg)
		wb->cfg = *cfg;
	if (wb->cfg.push_ms < 0)
		wb->cfg.push_ms = wb_defaults.push_ms;
	if (!wb->flush)
		wb->flush = timer_new(r);
	if (!wb->tick && (wb->tick = timer_new(r)))
		uv_timer_start(wb->tick, tick_cb, 1000, 1000);
	wb->minute = time_now_ms() / 60000;
	for (size_t i = 0; i < r->n_queues; i++)
		r->queues[i]->wb.dirty = true;
	schedule(r);
}

static void handle_free(uv_handle_t *h)
{
	free(h);
}

void wb_free(struct routing *r)
{
	struct wallboard *wb = r->wb;

	if (!wb)
		return;
	if (wb->flush)
		uv_close((uv_handle_t *)wb->flush, handle_free);
	if (wb->tick)
		uv_close((uv_handle_t *)wb->tick, handle_free);
	free(wb);
	r->wb = NULL;
}

/* ---- the seed ---- */
int routing_wallboard_seed(struct routing *r)
{
	struct wallboard *wb = wb_get(r);
	struct st_queue_day *rows;
	size_t n;
	int err;

	if (!wb)
		return -ENOMEM;
	err = store_queue_day_now(r->store, wb->day_start, wb->day_end, &rows, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct queue *q = queue_by_id(r, rows[i].queue_id);
		struct wb_queue *w = q ? &q->wb : NULL;
		if (!w)
			continue;
		w->offered = (uint32_t)rows[i].offered, w->answered = (uint32_t)rows[i].answered;
		w->abandoned = (uint32_t)rows[i].abandoned;
		w->transferred = (uint32_t)rows[i].transferred;
		w->answered_in_sl = (uint32_t)rows[i].answered_in_sl;
		w->abandoned_in_sl = (uint32_t)rows[i].abandoned_in_sl;
		w->answer_ms = rows[i].answer_ms;
		w->handled = (uint32_t)rows[i].handled, w->handle_ms = rows[i].handle_ms;
		w->dirty = true;
		log_info("queue=%s action=today seeded: offered %u answered %u abandoned %u",
			 q->rec.name, w->offered, w->answered, w->abandoned);
	}
	free(rows);
	return 0;
}

/* ---- what routing tells the wallboard ---- */
/* A queue created or its settings changed (the threshold, the rule, the
 * members): its figures are pushed again. */
void wb_queue_changed(struct routing *r, struct queue *q)
{
	if (r->wb)
		dirty(r, q);
}

void wb_joined(struct routing *r, struct queue *q, const struct ix *x)
{
	if (today(r, x->queued_at))
		q->wb.offered++;
	minute_of(q, x->queued_at)->arrivals++;
	queue_event(r, q, x->rec.number, "joined", NULL, NULL, 0);
	dirty(r, q);
}

void wb_answered(struct routing *r, struct queue *q, const struct ix *x, const struct user *u)
{
	int64_t wait = time_now_ms() - x->queued_at;
	struct user *agent = routing_user_by_id(r, u->rec.id);

	if (today(r, x->queued_at)) {
		q->wb.answered++;
		q->wb.answer_ms += wait;
		q->wb.answered_in_sl += wait <= (int64_t)q->rec.sl_threshold_s * 1000;
	}
	if (agent) { /* an answered offer ends a run of missed ones */
		agent->wb.missed_row = 0;
		agent_alert(r, agent, "missed_offers", &agent->wb.missed_alert, false);
	}
	queue_event(r, q, x->rec.number, "answered", u, NULL, wait);
	dirty(r, q);
}

void wb_abandoned(struct routing *r, struct queue *q, const struct ix *x)
{
	int64_t wait = time_now_ms() - x->queued_at;

	if (today(r, x->queued_at)) {
		q->wb.abandoned++;
		q->wb.abandoned_in_sl += wait <= (int64_t)q->rec.sl_threshold_s * 1000;
	}
	queue_event(r, q, x->rec.number, "abandoned", NULL, "caller_hangup", wait);
	dirty(r, q);
}

void wb_left(struct routing *r, struct queue *q, const struct ix *x, const char *why)
{
	queue_event(r, q, x->rec.number, "left", NULL, why, time_now_ms() - x->queued_at);
	dirty(r, q);
}

void wb_offered(struct routing *r, struct queue *q, const struct ix *x, const struct user *u)
{
	queue_event(r, q, x->rec.number, "offered", u, NULL, time_now_ms() - x->queued_at);
}

void wb_missed(struct routing *r, const struct ix *x, struct user *u)
{
	const struct queue *q = x->entry ? x->entry->q : queue_by_id(r, x->rec.queue_id);
	struct wallboard *wb = wb_get(r);

	u->wb.missed_row++;
	queue_event(r, q, x->rec.number, "missed", u, NULL,
		    x->entry ? time_now_ms() - x->queued_at : 0);
	if (wb && u->wb.missed_row >= wb->cfg.missed_alert)
		agent_alert(r, u, "missed_offers", &u->wb.missed_alert, true);
}

void wb_transferred(struct routing *r, const struct st_ctr *seg)
{
	struct queue *q = seg->queue_id ? queue_by_id(r, seg->queue_id) : NULL;

	if (!q || !seg->connected_to_agent_at)
		return;
	if (today(r, seg->enqueue_at))
		q->wb.transferred++;
	queue_event(r, q, seg->interaction, "transferred",
		    seg->agent_user_id ? routing_user_by_id(r, seg->agent_user_id) : NULL,
		    seg->transferred_to, 0);
	dirty(r, q);
}

void wb_ctr_final(struct routing *r, const struct st_ctr *seg)
{
	struct queue *q = seg->queue_id ? queue_by_id(r, seg->queue_id) : NULL;
	int64_t handle = seg->talk_ms + seg->hold_ms + seg->acw_ms;
	struct wb_minute *b;

	if (!q || !seg->connected_to_agent_at || !seg->acw_end_at)
		return;
	if (today(r, seg->enqueue_at)) {
		q->wb.handled++;
		q->wb.handle_ms += handle;
	}
	b = minute_of(q, time_now_ms());
	b->handled++;
	b->handle_ms += handle;
	dirty(r, q);
}

void wb_hold(struct routing *r, const struct ix *x, bool on)
{
	struct user *u =
		x && x->rec.agent_user_id ? routing_user_by_id(r, x->rec.agent_user_id) : NULL;

	if (!u)
		return;
	if (on && !u->wb.hold_since)
		u->wb.hold_since = time_now_ms();
	if (!on) {
		u->wb.hold_since = 0;
		agent_alert(r, u, "long_hold", &u->wb.hold_alert, false);
	}
}

void wb_presence(struct routing *r, struct user *u)
{
	struct wallboard *wb = wb_get(r);

	if (u->presence != PRES_BUSY) {
		u->wb.hold_since = 0;
		agent_alert(r, u, "long_hold", &u->wb.hold_alert, false);
	}
	if (u->presence != PRES_AFTER_CALL_WORK)
		agent_alert(r, u, "long_acw", &u->wb.acw_alert, false);
	if (u->presence == PRES_OFFLINE) {
		u->wb.missed_row = 0;
		agent_alert(r, u, "missed_offers", &u->wb.missed_alert, false);
	}
	if (wb) {
		wb->presence_dirty = true;
		schedule(r);
	}
}
