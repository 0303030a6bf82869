/*
 * test_wallboard.c — the wallboard's figures (routing/wallboard.c,
 * store/store_day.c; docs/WALLBOARD.md).
 *
 * (a) The pure maths against values computed by hand (each test says how):
 *     service level, averages (ASA, AHT), the expected wait of a new caller,
 *     Erlang C and the forecast wait from the last 15 minutes.
 * (c) Routing with a real store and loop: 200 callers join at once, then
 *     50 hang up — the queue events go out one per caller, the figures are
 *     coalesced (a push at most every push_ms), the alert is raised once,
 *     and after a restart the seed gives the decided calls back.
 * (b) The seed of "today" from contact trace records on a real SQLite file
 *     (what a restart starts from): a scripted day of segments — answered
 *     within and outside the threshold, abandoned early and late, an
 *     overflow that is not an abandon, a transfer, yesterday's call, a call
 *     still in wrap-up — figure by figure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db_fx.h"

#include "routing/routing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- (a) the maths ---- */
static void service_level_counts_what_left_within_the_threshold_over_offered(void **state)
{
	/* 17 of 20 within: 85 %; 1 of 3: 33.33 %; none offered: none (-1) */
	assert_true(fabs(routing_wb_service_level(17, 20) - 85.0) < 1e-9);
	assert_true(fabs(routing_wb_service_level(1, 3) - 100.0 / 3) < 1e-9);
	assert_true(fabs(routing_wb_service_level(0, 4) - 0.0) < 1e-9);
	assert_true(routing_wb_service_level(0, 0) < 0);
}

static void abandons_within_the_threshold_count_as_the_queue_defines(void **state)
{
	/* 10 offered today, 1 still waiting within the threshold: 9 decided;
	 * 5 answered within, 2 abandoned within, 2 missed it (answered or
	 * abandoned later) */
	struct routing_queue_stats s = {
		.offered = 10, .pending_in_sl = 1, .answered_in_sl = 5, .abandoned_in_sl = 2};

	s.sl_abandons = "met"; /* (5 + 2) / 9 */
	assert_true(fabs(routing_wb_queue_service_level(&s) - 700.0 / 9) < 1e-9);
	s.sl_abandons = NULL; /* the default */
	assert_true(fabs(routing_wb_queue_service_level(&s) - 700.0 / 9) < 1e-9);
	s.sl_abandons = "excluded"; /* 5 / (9 - 2) */
	assert_true(fabs(routing_wb_queue_service_level(&s) - 500.0 / 7) < 1e-9);
	s.sl_abandons = "missed"; /* 5 / 9 */
	assert_true(fabs(routing_wb_queue_service_level(&s) - 500.0 / 9) < 1e-9);
	/* every decided caller abandoned within: none left to judge when excluded */
	s = (struct routing_queue_stats){
		.offered = 2, .abandoned_in_sl = 2, .sl_abandons = "excluded"};
	assert_true(routing_wb_queue_service_level(&s) < 0);
	s.sl_abandons = "missed";
	assert_true(fabs(routing_wb_queue_service_level(&s) - 0.0) < 1e-9);
}

static void averages_are_rounded_seconds(void **state)
{
	/* ASA of waits 10 s, 20 s, 30 s, 35 s = 95 s / 4 = 23.75 s → 24 */
	assert_int_equal(routing_wb_average_s(95000, 4), 24);
	/* 1.499 s → 1; 1.5 s → 2 (half up) */
	assert_int_equal(routing_wb_average_s(1499, 1), 1);
	assert_int_equal(routing_wb_average_s(1500, 1), 2);
	/* AHT: talk 200 + hold 30 + ACW 70 and talk 100 + ACW 20 = 420 s / 2 = 210 s */
	assert_int_equal(routing_wb_average_s(420000, 2), 210);
	assert_int_equal(routing_wb_average_s(0, 0), -1);
}

static void expected_wait_of_a_new_caller(void **state)
{
	/* a free agent left for them: 0 */
	assert_int_equal(routing_wb_expected_wait(0, 1, 3, 180), 0);
	assert_int_equal(routing_wb_expected_wait(1, 2, 3, 180), 0);
	/* 2 wait, 1 free: 2 ahead of the free ones × 180 s ÷ 3 agents = 120 s */
	assert_int_equal(routing_wb_expected_wait(2, 1, 3, 180), 120);
	/* 4 wait, none free: 5 × 100 ÷ 3 = 166.7 → 167 */
	assert_int_equal(routing_wb_expected_wait(4, 0, 3, 100), 167);
	/* nobody waits, 2 agents busy: 1 × 90 ÷ 2 = 45 */
	assert_int_equal(routing_wb_expected_wait(0, 0, 2, 90), 45);
	/* nobody takes calls: unknown (-1), even with nobody waiting */
	assert_int_equal(routing_wb_expected_wait(0, 0, 0, 90), -1);
	assert_int_equal(routing_wb_expected_wait(3, 0, 0, 90), -1);
}

static void erlang_c_matches_hand_computed_values(void **state)
{
	/* n = 1: C = a */
	assert_true(fabs(routing_wb_erlang_c(1, 0.5) - 0.5) < 1e-9);
	/* n = 2, a = 1: B1 = 1/2, B2 = (1/2)/(2 + 1/2) = 1/5,
	 * C = 2 (1/5) / (2 - 1 (4/5)) = 0.4 / 1.2 = 1/3 */
	assert_true(fabs(routing_wb_erlang_c(2, 1.0) - 1.0 / 3) < 1e-9);
	/* n = 3, a = 2: B1 = 2/3, B2 = 2/5, B3 = 0.8 / 3.8 = 4/19,
	 * C = (12/19) / (3 - 2 (15/19)) = (12/19) / (27/19) = 4/9 */
	assert_true(fabs(routing_wb_erlang_c(3, 2.0) - 4.0 / 9) < 1e-9);
	/* no load: nobody waits; a load at or over the staff: everyone does */
	assert_true(routing_wb_erlang_c(2, 0) == 0.0);
	assert_true(routing_wb_erlang_c(2, 2.0) == 1.0);
	assert_true(routing_wb_erlang_c(0, 1.0) == 1.0);
}

static void forecast_wait_from_arrivals_and_handle_times(void **state)
{
	/* 2 agents, a call every 180 s, 180 s each: a = 1, W = (1/3) 180 / (2 - 1) = 60 s */
	assert_int_equal(routing_wb_forecast_wait(2, 1.0 / 180, 180), 60);
	/* 3 agents, 2 calls per 300 s of 300 s: a = 2, W = (4/9) 300 / 1 = 133.3 → 133 */
	assert_int_equal(routing_wb_forecast_wait(3, 2.0 / 300, 300), 133);
	/* 1 agent, 1 call in 15 minutes, 120 s: a = 2/15, W = (2/15) 120 / (13/15) = 18.46 → 18 */
	assert_int_equal(routing_wb_forecast_wait(1, 1.0 / 900, 120), 18);
	/* the load reaches the staff: the queue grows (-1) */
	assert_int_equal(routing_wb_forecast_wait(2, 2.0 / 180, 180), -1);
	assert_int_equal(routing_wb_forecast_wait(0, 1.0 / 900, 120), -1);
	/* no arrivals: no wait */
	assert_int_equal(routing_wb_forecast_wait(3, 0, 100), 0);
}

/* ---- (b) the seed from contact trace records ---- */
struct fx {
	char dir[64], path[128];
	void *be;
	int64_t next_ix;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/sb-test-wb-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sb.db", fx->dir);
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 1), 0);
	dbfx_exec(fx->path, "INSERT INTO queues(id,name,priority,sl_threshold_s) VALUES "
			    "(1,'Support',1,20),(2,'Billing',2,30)");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	store_backend_sqlite.close(fx->be);
	dbfx_remove(fx->dir, fx->path);
	free(fx);
	return 0;
}

#define DAY  86400000LL
#define T0   (20000 * DAY) /* the day's start */
#define S(x) ((int64_t)(x)*1000)

/* One segment of its own interaction: queued at `enq` for `wait_s` in
 * queue q; answered (agent != 0) with talk, hold, ACW (acw_s < 0: still in
 * wrap-up); else disconnected by `who` when it left the queue (or later by
 * `late_s`). */
struct seg {
	int64_t q, enq;
	int wait_s;
	bool agent;
	int talk_s, hold_s, acw_s;
	const char *who; /* disconnect reason */
	int late_s;	 /* disconnect after leaving the queue (s) */
	const char *transfer;
};

static void seg_put(struct fx *fx, const struct seg *g)
{
	struct store_op op = {.kind = STORE_OP_CTR_SET};
	struct st_ctr *c = &op.u.ctr;
	int64_t id = ++fx->next_ix, deq = g->enq + S(g->wait_s);
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO interactions(id,number,type,direction,state,opened_at) "
		 "VALUES (%lld,'INT%07lld','phone','inbound','closed_complete',%lld)",
		 (long long)id, (long long)(1000 + id), (long long)(g->enq - 1000));
	dbfx_exec(fx->path, sql);
	snprintf(c->contact_id, sizeof(c->contact_id), "INT%07lld-1", (long long)(1000 + id));
	str_copy(c->initial_contact_id, c->contact_id, sizeof(c->initial_contact_id));
	c->interaction_id = id, c->segment = 1;
	snprintf(c->interaction, sizeof(c->interaction), "INT%07lld", (long long)(1000 + id));
	str_copy(c->initiation_method, "inbound", sizeof(c->initiation_method));
	c->initiation_at = c->connected_to_system_at = g->enq - 1000;
	c->queue_id = g->q;
	c->enqueue_at = g->enq, c->dequeue_at = deq, c->queue_ms = S(g->wait_s);
	if (g->agent) {
		c->agent_user_id = 7, c->connected_to_agent_at = deq;
		c->talk_ms = S(g->talk_s), c->hold_ms = S(g->hold_s);
		c->disconnect_at = deq + S(g->talk_s + g->hold_s);
		c->acw_start_at = c->disconnect_at;
		if (g->acw_s >= 0)
			c->acw_end_at = c->acw_start_at + S(g->acw_s), c->acw_ms = S(g->acw_s);
		str_copy(c->disconnect_reason, g->transfer ? "transfer" : "customer",
			 sizeof(c->disconnect_reason));
		if (g->transfer) {
			str_copy(c->transfer_type, "agent", sizeof(c->transfer_type));
			str_copy(c->transferred_to, g->transfer, sizeof(c->transferred_to));
		}
	} else {
		c->disconnect_at = deq + S(g->late_s);
		str_copy(c->disconnect_reason, g->who, sizeof(c->disconnect_reason));
	}
	c->last_update_at = c->disconnect_at;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

static void seed_of_a_scripted_day_matches_hand_computed_figures(void **state)
{
	struct fx *fx = *state;
	/* Support (threshold 20 s) */
	const struct seg day[] = {
		/* answered in 5 s: talk 100, hold 20, ACW 30 → handle 150 */
		{1, T0 + S(3600), 5, true, 100, 20, 30, NULL, 0, NULL},
		/* answered in 20 s (at the threshold: within): talk 200, ACW 40 → 240 */
		{1, T0 + S(3700), 20, true, 200, 0, 40, NULL, 0, NULL},
		/* answered in 45 s (outside), then transferred to beth: talk 60, ACW 0 → 60 */
		{1, T0 + S(3800), 45, true, 60, 0, 0, NULL, 0, "beth"},
		/* answered in 10 s, still in wrap-up: answered, not yet handled */
		{1, T0 + S(3900), 10, true, 50, 0, -1, NULL, 0, NULL},
		/* abandoned early (8 s) and late (50 s) */
		{1, T0 + S(4000), 8, false, 0, 0, 0, "customer", 0, NULL},
		{1, T0 + S(4100), 50, false, 0, 0, 0, "customer", 0, NULL},
		/* left by overflow after 30 s, hung up 40 s later in the flow: not abandoned here */
		{1, T0 + S(4200), 30, false, 0, 0, 0, "customer", 40, NULL},
		/* closed by a restart while waiting: not abandoned */
		{1, T0 + S(4300), 12, false, 0, 0, 0, "system", 0, NULL},
		/* yesterday's: not today */
		{1, T0 - S(600), 5, true, 100, 0, 10, NULL, 0, NULL},
		/* Billing (threshold 30 s): answered in 25 s, talk 90, ACW 10 */
		{2, T0 + S(5000), 25, true, 90, 0, 10, NULL, 0, NULL},
	};
	struct st_queue_day *rows = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(day) / sizeof(day[0]); i++)
		seg_put(fx, &day[i]);
	assert_int_equal(store_backend_sqlite.queue_day(fx->be, T0, T0 + DAY, &rows, &n), 0);
	assert_int_equal(n, 2);
	/* Support: 8 offered today; answered 4 (5, 20, 45, 10 s); abandoned 2
	 * (8 s within, 50 s not); transferred 1; within the threshold:
	 * answered 3 (5, 20, 10), abandoned 1 (8); answer waits 5+20+45+10 =
	 * 80 s; handled 3 (150 + 240 + 60 = 450 s) */
	assert_int_equal(rows[0].queue_id, 1);
	assert_int_equal(rows[0].offered, 8);
	assert_int_equal(rows[0].answered, 4);
	assert_int_equal(rows[0].abandoned, 2);
	assert_int_equal(rows[0].transferred, 1);
	assert_int_equal(rows[0].answered_in_sl, 3);
	assert_int_equal(rows[0].abandoned_in_sl, 1);
	assert_int_equal(rows[0].answer_ms, S(80));
	assert_int_equal(rows[0].handled, 3);
	assert_int_equal(rows[0].handle_ms, S(450));
	/* so: service level (3 + 1) / 8 = 50 %, ASA 80 / 4 = 20 s, AHT 450 / 3 = 150 s */
	assert_true(fabs(routing_wb_service_level(4, 8) - 50.0) < 1e-9);
	assert_int_equal(routing_wb_average_s(rows[0].answer_ms, (uint32_t)rows[0].answered), 20);
	assert_int_equal(routing_wb_average_s(rows[0].handle_ms, (uint32_t)rows[0].handled), 150);
	/* Billing: one answered in 25 s (within 30), handled in 100 s */
	assert_int_equal(rows[1].queue_id, 2);
	assert_int_equal(rows[1].offered, 1);
	assert_int_equal(rows[1].answered, 1);
	assert_int_equal(rows[1].answered_in_sl, 1);
	assert_int_equal(rows[1].abandoned, 0);
	assert_int_equal(rows[1].handle_ms, S(100));
	free(rows);
	/* a day with nothing */
	assert_int_equal(store_backend_sqlite.queue_day(fx->be, T0 + DAY, T0 + 2 * DAY, &rows, &n),
			 0);
	assert_int_equal(n, 0);
	free(rows);
}

/* ---- (c) routing: coalesced pushes and the seed after a restart ---- */
struct rfx {
	char dir[64], db[128];
	uv_loop_t loop;
	struct store *st;
	struct routing *r;
	int joined, abandoned, stats, alerts_on, alerts_off;
	struct routing_queue_stats last; /* the last pushed figures */
	int64_t first_push, last_push;
};

static void r_event(const struct routing_event *ev, void *arg)
{
	struct rfx *fx = arg;

	if (ev->kind == RT_EV_QUEUE) {
		fx->joined += !strcmp(ev->to, "joined");
		fx->abandoned += !strcmp(ev->to, "abandoned");
	} else if (ev->kind == RT_EV_QUEUE_STATS) {
		fx->stats++;
		fx->last = *ev->qstats;
		fx->last.queue = NULL; /* not kept past the event */
		if (!fx->first_push)
			fx->first_push = time_now_ms();
		fx->last_push = time_now_ms();
	} else if (ev->kind == RT_EV_ALERT) {
		assert_string_equal(ev->alert->kind, "sl_at_risk");
		fx->alerts_on += ev->alert->active;
		fx->alerts_off += !ev->alert->active;
	}
}

static void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for ms (the wallboard's clock repeats: stopped by a timer). */
static void r_run(struct rfx *fx, int ms)
{
	uv_timer_t t;

	uv_timer_init(&fx->loop, &t);
	uv_timer_start(&t, stop_cb, (uint64_t)ms, 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
}

static void r_open(struct rfx *fx)
{
	struct st_snapshot snap = {0};
	struct config cfg;
	const struct routing_wb_cfg wb = {
		.push_ms = 200, .acw_alert_s = 120, .hold_alert_s = 90, .missed_alert = 3};

	config_defaults(&cfg);
	str_copy(cfg.store_path, fx->db, sizeof(cfg.store_path));
	cfg.store_readers = 1;
	assert_int_equal(store_open(&fx->st, &fx->loop, &cfg), 0);
	assert_int_equal(store_load(fx->st, &snap), 0);
	if (!snap.n_queues) { /* first open: Support, threshold 20 s */
		struct store_op op = {.kind = STORE_OP_QUEUE_INSERT};
		op.u.queue = (struct st_queue){.id = 1, .priority = 1, .sl_threshold_s = 20};
		str_copy(op.u.queue.name, "Support", sizeof(op.u.queue.name));
		assert_int_equal(store_apply_now(fx->st, &op, 1), 0);
		store_snapshot_free(&snap);
		assert_int_equal(store_load(fx->st, &snap), 0);
	}
	assert_int_equal(routing_alloc(&fx->r, &fx->loop, fx->st, true, &snap), 0);
	store_snapshot_free(&snap);
	assert_int_equal(routing_recover(fx->r), 0);
	assert_int_equal(routing_wallboard_seed(fx->r), 0);
	routing_event_handler_set(fx->r, r_event, fx);
	routing_wallboard_start(fx->r, &wb);
}

static void r_close(struct rfx *fx)
{
	r_run(fx, 50);
	routing_close(fx->r);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	routing_free(fx->r);
	store_close(fx->st);
	fx->r = NULL, fx->st = NULL;
}

static void figures_are_pushed_coalesced_and_survive_a_restart(void **state)
{
	struct rfx *fx = calloc(1, sizeof(*fx));
	int64_t ix[200], t0;
	struct routing_queue_stats s;

	assert_non_null(fx);
	str_copy(fx->dir, "/tmp/sb_test_wb.XXXXXX", sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/switchboard.db", fx->dir);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	r_open(fx);
	r_run(fx, 300); /* the start's push */
	fx->stats = 0, fx->first_push = 0;

	/* 200 callers join at once: 200 queue events, the figures coalesced */
	t0 = time_now_ms();
	for (int i = 0; i < 200; i++) {
		assert_int_equal(routing_ix_open(fx->r, "inbound", "+15550100", &ix[i]), 0);
		assert_int_equal(routing_ix_enqueue(fx->r, ix[i], 1, 0), 0);
	}
	assert_int_equal(fx->joined, 200);
	r_run(fx, 700);
	/* one push within push_ms of the burst, then nothing (no change):
	 * at most 1 + 700/200 even if the clock marked it again */
	assert_true(fx->stats >= 1 && fx->stats <= 4);
	assert_true(fx->first_push - t0 <= 200 + 400); /* a loaded machine: slack */
	assert_int_equal(fx->last.waiting, 200);
	assert_int_equal(fx->last.offered, 200);
	assert_int_equal(fx->last.pending_in_sl, 200);
	assert_int_equal(fx->last.arrivals_15m, 200);
	assert_int_equal(fx->last.expected_wait_s, -1); /* nobody takes calls */
	assert_true(fx->last.sl_at_risk);
	assert_int_equal(fx->alerts_on, 1);

	/* 50 hang up within the threshold */
	fx->stats = 0;
	for (int i = 0; i < 50; i++)
		assert_int_equal(routing_ix_caller_gone(fx->r, ix[i]), 0);
	assert_int_equal(fx->abandoned, 50);
	r_run(fx, 500);
	assert_true(fx->stats >= 1 && fx->stats <= 3);
	assert_int_equal(fx->last.waiting, 150);
	assert_int_equal(fx->last.abandoned, 50);
	assert_int_equal(fx->last.abandoned_in_sl, 50);
	/* decided: 200 offered - 150 still within the threshold = 50, all met */
	assert_true(
		fabs(routing_wb_service_level(fx->last.answered_in_sl + fx->last.abandoned_in_sl,
					      fx->last.offered - fx->last.pending_in_sl) -
		     100.0) < 1e-9);
	r_close(fx);

	/* a restart: recovery closes the 150 still waiting (server_restart,
	 * not abandoned: their records never reached a queue entry); the seed
	 * gives the rest of today back from the records */
	memset(&fx->last, 0, sizeof(fx->last));
	r_open(fx);
	routing_queue_stats(fx->r, 0, &s);
	assert_int_equal(s.offered, 50); /* those waiting at the stop are not (WALLBOARD.md) */
	assert_int_equal(s.abandoned, 50);
	assert_int_equal(s.abandoned_in_sl, 50);
	assert_int_equal(s.answered, 0);
	assert_int_equal(s.waiting, 0);
	r_close(fx);
	uv_loop_close(&fx->loop);
	dbfx_remove(fx->dir, fx->db);
	free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(service_level_counts_what_left_within_the_threshold_over_offered),
		cmocka_unit_test(abandons_within_the_threshold_count_as_the_queue_defines),
		cmocka_unit_test(averages_are_rounded_seconds),
		cmocka_unit_test(expected_wait_of_a_new_caller),
		cmocka_unit_test(erlang_c_matches_hand_computed_values),
		cmocka_unit_test(forecast_wait_from_arrivals_and_handle_times),
		cmocka_unit_test_setup_teardown(
			seed_of_a_scripted_day_matches_hand_computed_figures, setup, teardown),
		cmocka_unit_test(figures_are_pushed_coalesced_and_survive_a_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
