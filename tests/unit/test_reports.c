/*
 * test_reports.c — the report aggregates (store/store_reports.c,
 * docs/REPORTS.md).
 *
 * The pure parts first: interval names, the start of the interval holding
 * a time (15 minutes, hour, day, week from Monday; UTC offsets east and
 * west, a half-hour one, times before 1970), a span split over 15-minute
 * intervals, what one contact trace record adds (answered within and past
 * the threshold, abandoned early and late, a transfer out, a queue
 * transfer in, an outbound call, after-contact work not yet ended), and
 * the roll-up of 15-minute rows into hours, days and weeks.
 * Then the backend on a real SQLite file: a record written twice (at the
 * contact's end, then final) counts once, with its final figures, at both
 * grains; presence changes become time per state and missed offers; the
 * backfill at open rebuilds exactly what the writes kept; a read rolls up
 * and the drill-down lists the segments behind a row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

#include "db_fx.h"

#define MIN_MS	(60000LL)
#define T_WED	(1796821650000LL) /* 2026-12-09T13:07:30Z, a Wednesday */
#define D_MON	(1796601600000LL) /* 2026-12-07T00:00:00Z, a Monday */
#define D_WED	(1796774400000LL) /* 2026-12-09T00:00:00Z */
#define H_13	(1796821200000LL) /* 2026-12-09T13:00:00Z */
#define DAY_MS	(86400000LL)
#define HOUR_MS (3600000LL)

/* ---- the pure parts ---- */
static void interval_names_parse_both_ways(void **state)
{
	static const char *const names[] = {"15min", "hour", "day", "week"};
	enum rep_interval iv;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rep_interval_parse(names[i], &iv), 0);
		assert_int_equal(iv, i);
		assert_string_equal(rep_interval_name(iv), names[i]);
	}
	assert_int_equal(rep_interval_parse("minute", &iv), -EINVAL);
	assert_int_equal(rep_interval_parse("", &iv), -EINVAL);
	assert_int_equal(rep_interval_parse("Hour", &iv), -EINVAL);
	assert_int_equal(rep_interval_parse(NULL, &iv), -EINVAL);
}

static void intervals_start_where_a_site_expects(void **state)
{
	(void)state;
	/* UTC */
	assert_int_equal(rep_interval_start(T_WED, REP_I15, 0), H_13);
	assert_int_equal(rep_interval_start(T_WED, REP_HOUR, 0), H_13);
	assert_int_equal(rep_interval_start(T_WED, REP_DAY, 0), D_WED);
	assert_int_equal(rep_interval_start(T_WED, REP_WEEK, 0), D_MON);
	/* a start is its own start; the last ms before the next is still in */
	assert_int_equal(rep_interval_start(D_MON, REP_WEEK, 0), D_MON);
	assert_int_equal(rep_interval_start(D_MON + 7 * DAY_MS - 1, REP_WEEK, 0), D_MON);
	assert_int_equal(rep_interval_start(D_MON + 7 * DAY_MS, REP_WEEK, 0), D_MON + 7 * DAY_MS);
	assert_int_equal(rep_interval_start(H_13 + 15 * MIN_MS - 1, REP_I15, 0), H_13);
	/* 5 h west (UTC-5): 08:07 local on the 9th; its day began at 05:00Z */
	assert_int_equal(rep_interval_start(T_WED, REP_DAY, -300), D_WED + 5 * HOUR_MS);
	assert_int_equal(rep_interval_start(T_WED, REP_WEEK, -300), D_MON + 5 * HOUR_MS);
	assert_int_equal(rep_interval_start(T_WED, REP_HOUR, -300), H_13);
	/* 5:30 east: 18:37 local; its hour began at 12:30Z */
	assert_int_equal(rep_interval_start(T_WED, REP_HOUR, 330), H_13 - 30 * MIN_MS);
	assert_int_equal(rep_interval_start(T_WED, REP_I15, 330), H_13);
	/* Sunday 23:45Z is Monday 00:45 an hour east: that Monday's week */
	assert_int_equal(rep_interval_start(D_MON - 15 * MIN_MS, REP_WEEK, 60), D_MON - HOUR_MS);
	assert_int_equal(rep_interval_start(D_MON - 15 * MIN_MS, REP_WEEK, 0), D_MON - 7 * DAY_MS);
	/* before 1970: 1969-12-31T23:59:59Z, a Wednesday */
	assert_int_equal(rep_interval_start(-1000, REP_I15, 0), -15 * MIN_MS);
	assert_int_equal(rep_interval_start(-1000, REP_DAY, 0), -DAY_MS);
	assert_int_equal(rep_interval_start(-1000, REP_WEEK, 0), -3 * DAY_MS);
	/* the next one */
	assert_int_equal(rep_interval_next(H_13, REP_I15, 0), H_13 + 15 * MIN_MS);
	assert_int_equal(rep_interval_next(H_13, REP_HOUR, 0), H_13 + HOUR_MS);
	assert_int_equal(rep_interval_next(D_WED, REP_DAY, 0), D_WED + DAY_MS);
	assert_int_equal(rep_interval_next(D_MON, REP_WEEK, 0), D_MON + 7 * DAY_MS);
}

static void a_span_splits_at_every_quarter_hour(void **state)
{
	int64_t from = H_13 + 7 * MIN_MS, to = H_13 + 52 * MIN_MS, ms, b;
	const int64_t want_b[] = {H_13, H_13 + 15 * MIN_MS, H_13 + 30 * MIN_MS, H_13 + 45 * MIN_MS};
	const int64_t want_ms[] = {8 * MIN_MS, 15 * MIN_MS, 15 * MIN_MS, 7 * MIN_MS};
	int k = 0;

	(void)state;
	while (from < to) {
		assert_true(k < 4);
		b = rep_span_piece(&from, to, &ms);
		assert_int_equal(b, want_b[k]);
		assert_int_equal(ms, want_ms[k]);
		k++;
	}
	assert_int_equal(k, 4);
	assert_int_equal(from, to);
	/* inside one interval: one piece */
	from = H_13 + MIN_MS;
	b = rep_span_piece(&from, H_13 + 2 * MIN_MS, &ms);
	assert_int_equal(b, H_13);
	assert_int_equal(ms, MIN_MS);
	assert_int_equal(from, H_13 + 2 * MIN_MS);
}

static void presence_names_map_to_columns(void **state)
{
	(void)state;
	for (int p = 0; p < REP_P__N; p++)
		assert_int_equal(rep_presence_index(rep_presence_name(p)), p);
	assert_int_equal(rep_presence_index("Available"), REP_P_AVAILABLE);
	assert_int_equal(rep_presence_index("AfterCallWork"), REP_P_ACW);
	assert_int_equal(rep_presence_index("Offline"), -1);
	assert_int_equal(rep_presence_index("available"), -1);
	assert_int_equal(rep_presence_index(NULL), -1);
}

/* An inbound call to queue 3 at T_WED that waited wait_ms. */
static void ctr_inbound(struct st_ctr *c, int64_t wait_ms, bool answered)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->contact_id, "INT0001001-1", sizeof(c->contact_id));
	c->interaction_id = 1001;
	c->segment = 1;
	str_copy(c->initiation_method, "inbound", sizeof(c->initiation_method));
	c->initiation_at = T_WED - 20000;
	c->queue_id = 3;
	c->enqueue_at = T_WED;
	c->queue_ms = wait_ms;
	c->dequeue_at = T_WED + wait_ms;
	if (answered) {
		c->agent_user_id = 7;
		c->connected_to_agent_at = T_WED + wait_ms;
		c->talk_ms = 60000;
		c->hold_ms = 5000;
		c->holds = 1;
		c->acw_start_at = c->connected_to_agent_at + 65000;
		c->connection_attempts = 2;
		c->missed_offers = 1;
		str_copy(c->disconnect_reason, "agent", sizeof(c->disconnect_reason));
	} else {
		str_copy(c->disconnect_reason, "customer", sizeof(c->disconnect_reason));
	}
}

static void a_record_adds_to_its_queue_and_its_agent(void **state)
{
	struct st_rep_row r[2];
	struct st_ctr c;

	(void)state;
	/* answered within a 10 s threshold, after-contact work not ended yet */
	ctr_inbound(&c, 8000, true);
	assert_int_equal(rep_ctr_rows(&c, 10000, r), 2);
	assert_int_equal(r[0].kind, REP_QUEUE);
	assert_int_equal(r[0].id, 3);
	assert_int_equal(r[0].start, H_13); /* the enqueue's interval */
	assert_int_equal(r[0].offered, 1);
	assert_int_equal(r[0].answered, 1);
	assert_int_equal(r[0].handled, 1);
	assert_int_equal(r[0].answered_in_sl, 1);
	assert_int_equal(r[0].abandoned, 0);
	assert_int_equal(r[0].answer_wait_ms, 8000);
	assert_int_equal(r[0].talk_ms, 60000);
	assert_int_equal(r[0].hold_ms, 5000);
	assert_int_equal(r[0].holds, 1);
	assert_int_equal(r[0].acw_count, 0);
	assert_int_equal(r[0].missed_offers, 1);
	assert_int_equal(r[0].transfers_in + r[0].transfers_out, 0);
	assert_int_equal(r[1].kind, REP_AGENT);
	assert_int_equal(r[1].id, 7);
	assert_int_equal(r[1].start, H_13); /* the connection's */
	assert_int_equal(r[1].handled, 1);
	assert_int_equal(r[1].answered, 1);
	assert_int_equal(r[1].outbound, 0);
	assert_int_equal(r[1].talk_ms, 60000);
	assert_int_equal(r[1].missed_offers, 0); /* the agent's come from presence */
	/* final: its after-contact work counts */
	c.acw_end_at = c.acw_start_at + 30000, c.acw_ms = 30000;
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].acw_ms, 30000);
	assert_int_equal(r[0].acw_count, 1);
	assert_int_equal(r[1].acw_count, 1);
	/* exactly at the threshold is within it; a ms more is not */
	ctr_inbound(&c, 10000, true);
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].answered_in_sl, 1);
	ctr_inbound(&c, 10001, true);
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].answered_in_sl, 0);
	assert_int_equal(r[0].answered, 1);
	/* connected in the next interval: the agent's row is there */
	ctr_inbound(&c, 15 * MIN_MS, true);
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].start, H_13);
	assert_int_equal(r[1].start, H_13 + 15 * MIN_MS);
}

static void abandons_transfers_and_outbound_calls(void **state)
{
	struct st_rep_row r[2];
	struct st_ctr c;

	(void)state;
	/* abandoned early (within the threshold) and late */
	ctr_inbound(&c, 4000, false);
	assert_int_equal(rep_ctr_rows(&c, 10000, r), 1);
	assert_int_equal(r[0].offered, 1);
	assert_int_equal(r[0].abandoned, 1);
	assert_int_equal(r[0].abandoned_in_sl, 1);
	assert_int_equal(r[0].abandon_wait_ms, 4000);
	assert_int_equal(r[0].answered + r[0].answered_in_sl, 0);
	ctr_inbound(&c, 40000, false);
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].abandoned, 1);
	assert_int_equal(r[0].abandoned_in_sl, 0);
	/* left the queue without an agent and not by hanging up: neither */
	str_copy(c.disconnect_reason, "system", sizeof(c.disconnect_reason));
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].offered, 1);
	assert_int_equal(r[0].abandoned + r[0].answered, 0);
	/* answered then transferred out */
	ctr_inbound(&c, 2000, true);
	str_copy(c.transfer_type, "agent", sizeof(c.transfer_type));
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].transfers_out, 1);
	assert_int_equal(r[1].transfers_out, 1);
	/* the next segment: a queue transfer into queue 3, taken by agent 7 */
	ctr_inbound(&c, 2000, true);
	str_copy(c.initiation_method, "queue_transfer", sizeof(c.initiation_method));
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].transfers_in, 1);
	assert_int_equal(r[1].transfers_in, 1);
	/* an agent-to-agent transfer: no queue, the agent's transfer in */
	ctr_inbound(&c, 0, true);
	c.queue_id = 0, c.enqueue_at = 0;
	str_copy(c.initiation_method, "transfer", sizeof(c.initiation_method));
	assert_int_equal(rep_ctr_rows(&c, 10000, r), 1);
	assert_int_equal(r[0].kind, REP_AGENT);
	assert_int_equal(r[0].transfers_in, 1);
	assert_int_equal(r[0].answered, 0);
	assert_int_equal(r[0].handled, 1);
	/* outbound */
	str_copy(c.initiation_method, "outbound", sizeof(c.initiation_method));
	rep_ctr_rows(&c, 10000, r);
	assert_int_equal(r[0].outbound, 1);
	assert_int_equal(r[0].transfers_in, 0);
	/* a click-to-call the customer never answered: nothing */
	c.connected_to_agent_at = 0;
	assert_int_equal(rep_ctr_rows(&c, 10000, r), 0);
}

static struct st_rep_row row(int64_t id, int64_t start, int64_t offered, int64_t talk)
{
	struct st_rep_row r = {.kind = REP_QUEUE, .id = id, .start = start};

	r.offered = offered, r.talk_ms = talk, r.presence_ms[REP_P_BUSY] = talk;
	return r;
}

static void fifteen_minute_rows_roll_up(void **state)
{
	struct st_rep_row rows[8];
	size_t n;

	(void)state;
	/* queue 1: 13:00, 13:15, 13:45, 14:00 on Wednesday, and Thursday 00:15;
	 * queue 2: 13:30 */
	rows[0] = row(1, H_13, 1, 10);
	rows[1] = row(1, H_13 + 15 * MIN_MS, 2, 20);
	rows[2] = row(1, H_13 + 45 * MIN_MS, 4, 40);
	rows[3] = row(1, H_13 + HOUR_MS, 8, 80);
	rows[4] = row(1, D_WED + DAY_MS + 15 * MIN_MS, 16, 160);
	rows[5] = row(2, H_13 + 30 * MIN_MS, 32, 320);
	n = rep_rollup(rows, 6, REP_I15, 0);
	assert_int_equal(n, 6); /* already 15-minute rows */
	n = rep_rollup(rows, 6, REP_HOUR, 0);
	assert_int_equal(n, 4);
	assert_int_equal(rows[0].start, H_13);
	assert_int_equal(rows[0].offered, 7);
	assert_int_equal(rows[0].talk_ms, 70);
	assert_int_equal(rows[0].presence_ms[REP_P_BUSY], 70);
	assert_int_equal(rows[1].start, H_13 + HOUR_MS);
	assert_int_equal(rows[1].offered, 8);
	assert_int_equal(rows[2].start, D_WED + DAY_MS);
	assert_int_equal(rows[3].id, 2);
	assert_int_equal(rows[3].offered, 32);
	n = rep_rollup(rows, n, REP_DAY, 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].start, D_WED);
	assert_int_equal(rows[0].offered, 15);
	assert_int_equal(rows[1].start, D_WED + DAY_MS);
	n = rep_rollup(rows, n, REP_WEEK, 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].start, D_MON);
	assert_int_equal(rows[0].offered, 31);
	assert_int_equal(rows[0].talk_ms, 310);
	assert_int_equal(rows[1].id, 2);
	/* 14 h east: Wednesday 13:00Z is Thursday 03:00 local, with Thursday's */
	rows[0] = row(1, H_13, 1, 0);
	rows[1] = row(1, D_WED + DAY_MS + 15 * MIN_MS, 16, 0);
	n = rep_rollup(rows, 2, REP_DAY, 840);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].offered, 17);
	assert_int_equal(rows[0].start, D_WED + DAY_MS - 14 * HOUR_MS);
}

/* ---- the backend on a real file ---- */
struct fx {
	char dir[64], path[128];
	void *be;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/sb-test-reports-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sb.db", fx->dir);
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 2), 0);
	dbfx_exec(fx->path, "INSERT INTO users(id,user_name,name,password_hash,created_at) VALUES "
			    "(7,'ned','Ned','x',0)");
	dbfx_exec(fx->path, "INSERT INTO queues(id,name,sl_threshold_s) VALUES (3,'Support',10)");
	dbfx_exec(fx->path, "INSERT INTO interactions(id,number,type,direction,state,opened_at) "
			    "VALUES (1001,'INT0001001','phone','inbound','closed_complete',0),"
			    "(1002,'INT0001002','phone','inbound','closed_abandoned',0)");
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

static void ctr_write(struct fx *fx, const struct st_ctr *c)
{
	struct store_op op = {.kind = STORE_OP_CTR_SET};

	op.u.ctr = *c;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

static void presence(struct fx *fx, int64_t at, const char *from, const char *to)
{
	struct store_op op = {.kind = STORE_OP_PRESENCE_CHANGE};

	op.u.presence.user_id = 7;
	op.u.presence.at = at;
	str_copy(op.u.presence.from, from, sizeof(op.u.presence.from));
	str_copy(op.u.presence.to, to, sizeof(op.u.presence.to));
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

/* One aggregate column of (kind, id, bucket); -1 when there is no row. */
static int64_t agg(struct fx *fx, int kind, int64_t id, int64_t bucket, const char *col)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM rep_agg WHERE kind=%d AND id=%lld AND bucket=%lld", col, kind,
		 (long long)id, (long long)bucket);
	return dbfx_int(fx->path, sql);
}

/* The two records of the day: an answered call (written at its end, then
 * final with 30 s of after-contact work) and an abandoned one. */
static void two_calls(struct fx *fx)
{
	struct st_ctr c;

	ctr_inbound(&c, 8000, true);
	ctr_write(fx, &c);
	c.acw_end_at = c.acw_start_at + 30000, c.acw_ms = 30000;
	ctr_write(fx, &c);
	ctr_inbound(&c, 40000, false);
	str_copy(c.contact_id, "INT0001002-1", sizeof(c.contact_id));
	c.interaction_id = 1002;
	ctr_write(fx, &c);
}

static void a_record_written_twice_counts_once(void **state)
{
	struct fx *fx = *state;

	two_calls(fx);
	for (int grain = 0; grain <= 10; grain += 10) {
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "offered"), 2);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "answered"), 1);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "answered_in_sl"), 1);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "abandoned"), 1);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "abandoned_in_sl"), 0);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "answer_wait_ms"), 8000);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "abandon_wait_ms"), 40000);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "talk_ms"), 60000);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "acw_ms"), 30000);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "acw_count"), 1);
		assert_int_equal(agg(fx, REP_QUEUE + grain, 3, H_13, "missed_offers"), 1);
		assert_int_equal(agg(fx, REP_AGENT + grain, 7, H_13, "handled"), 1);
		assert_int_equal(agg(fx, REP_AGENT + grain, 7, H_13, "acw_ms"), 30000);
	}
	/* the threshold is the queue's when written: 10 s; a later change of
	 * it does not rewrite what was counted */
	dbfx_exec(fx->path, "UPDATE queues SET sl_threshold_s=5 WHERE id=3");
	assert_int_equal(agg(fx, REP_QUEUE, 3, H_13, "answered_in_sl"), 1);
}

static void presence_becomes_time_per_state_and_missed_offers(void **state)
{
	struct fx *fx = *state;

	/* Away 13:00-13:05, Available 13:05-13:20, Missed 13:20-13:21,
	 * Available 13:21-13:40, Busy 13:40-13:50, then Offline (not counted) */
	presence(fx, H_13, "Offline", "Away");
	presence(fx, H_13 + 5 * MIN_MS, "Away", "Available");
	presence(fx, H_13 + 20 * MIN_MS, "Available", "Missed");
	presence(fx, H_13 + 21 * MIN_MS, "Missed", "Available");
	presence(fx, H_13 + 40 * MIN_MS, "Available", "Busy");
	presence(fx, H_13 + 50 * MIN_MS, "Busy", "Offline");
	presence(fx, H_13 + 3 * HOUR_MS, "Offline", "Away");
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13, "p_away_ms"), 5 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13, "p_available_ms"), 10 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 15 * MIN_MS, "p_available_ms"),
			 5 * MIN_MS + 9 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 15 * MIN_MS, "p_missed_ms"), MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 15 * MIN_MS, "missed_offers"), 1);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 30 * MIN_MS, "p_available_ms"), 10 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 30 * MIN_MS, "p_busy_ms"), 5 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT, 7, H_13 + 45 * MIN_MS, "p_busy_ms"), 5 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT + 10, 7, H_13, "p_available_ms"), 34 * MIN_MS);
	assert_int_equal(agg(fx, REP_AGENT + 10, 7, H_13, "missed_offers"), 1);
	/* Offline's three hours left nothing */
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM rep_agg WHERE kind=2"), 4);
}

static void the_backfill_rebuilds_what_the_writes_kept(void **state)
{
	struct fx *fx = *state;
	static const char sum[] =
		"SELECT sum(kind*7 + id*13 + bucket/900000 + offered*3 + answered*5 "
		"+ answered_in_sl*11 + abandoned*17 + answer_wait_ms + talk_ms + "
		"acw_ms*2 + acw_count*19 + missed_offers*23 + p_available_ms*3 + "
		"p_busy_ms*5 + p_away_ms*7 + p_missed_ms*11) || '/' || count(*) "
		"FROM rep_agg";
	char before[64], after[64];

	two_calls(fx);
	presence(fx, H_13, "Offline", "Available");
	presence(fx, H_13 + 20 * MIN_MS, "Available", "Missed");
	presence(fx, H_13 + 21 * MIN_MS, "Missed", "Busy");
	dbfx_rows(fx->path, sum, before, sizeof(before));
	store_backend_sqlite.close(fx->be);
	dbfx_exec(fx->path, "DELETE FROM rep_agg WHERE kind=1");
	dbfx_exec(fx->path, "UPDATE rep_agg SET talk_ms=talk_ms+1");
	dbfx_exec(fx->path, "UPDATE rep_state SET built=0");
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 2), 0);
	dbfx_rows(fx->path, sum, after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(dbfx_int(fx->path, "SELECT built FROM rep_state"), 1);
}

static void a_read_rolls_up_and_drills_down(void **state)
{
	struct fx *fx = *state;
	struct store_rep_query q = {.kind = REP_QUEUE, .from = D_WED, .to = D_WED + DAY_MS};
	struct store_rep_result r = {0};
	struct store_rep_drill d = {.kind = REP_QUEUE, .id = 3, .from = H_13, .limit = 1};
	struct store_rep_segments s = {0};

	two_calls(fx);
	q.iv = REP_DAY;
	assert_int_equal(store_backend_sqlite.rep_query(fx->be, &q, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rows[0].start, D_WED);
	assert_int_equal(r.rows[0].offered, 2);
	assert_int_equal(r.rows[0].abandoned, 1);
	free(r.rows);
	memset(&r, 0, sizeof(r));
	/* 15 minutes (read from the 15-minute rows), one queue, outside: none */
	q.iv = REP_I15, q.id = 3;
	assert_int_equal(store_backend_sqlite.rep_query(fx->be, &q, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rows[0].start, H_13);
	free(r.rows);
	memset(&r, 0, sizeof(r));
	q.from = D_WED + DAY_MS, q.to = D_WED + 2 * DAY_MS;
	assert_int_equal(store_backend_sqlite.rep_query(fx->be, &q, &r), 0);
	assert_int_equal(r.n, 0);
	free(r.rows);
	/* the drill-down: newest first, one a page */
	d.to = H_13 + 15 * MIN_MS;
	assert_int_equal(store_backend_sqlite.rep_segments(fx->be, &d, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.more);
	assert_string_equal(s.rows[0].contact_id, "INT0001002-1");
	assert_string_equal(s.rows[0].interaction, "INT0001002");
	d.before_seq = s.seq[0];
	free(s.rows), free(s.seq);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_backend_sqlite.rep_segments(fx->be, &d, &s), 0);
	assert_int_equal(s.n, 1);
	assert_false(s.more);
	assert_string_equal(s.rows[0].contact_id, "INT0001001-1");
	assert_int_equal(s.rows[0].acw_ms, 30000);
	free(s.rows), free(s.seq);
	memset(&s, 0, sizeof(s));
	/* the agent's: connected at 13:07:38 */
	d.kind = REP_AGENT, d.id = 7, d.before_seq = 0, d.limit = 10;
	assert_int_equal(store_backend_sqlite.rep_segments(fx->be, &d, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.rows[0].contact_id, "INT0001001-1");
	free(s.rows), free(s.seq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interval_names_parse_both_ways),
		cmocka_unit_test(intervals_start_where_a_site_expects),
		cmocka_unit_test(a_span_splits_at_every_quarter_hour),
		cmocka_unit_test(presence_names_map_to_columns),
		cmocka_unit_test(a_record_adds_to_its_queue_and_its_agent),
		cmocka_unit_test(abandons_transfers_and_outbound_calls),
		cmocka_unit_test(fifteen_minute_rows_roll_up),
		cmocka_unit_test_setup_teardown(a_record_written_twice_counts_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(presence_becomes_time_per_state_and_missed_offers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_backfill_rebuilds_what_the_writes_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_read_rolls_up_and_drills_down, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
