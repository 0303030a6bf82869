/*
 * store_reports.c — the report aggregates (issue 14 points 5-6,
 * docs/REPORTS.md): sums and counts per queue and per agent and 15-minute
 * interval, kept as records are written, read back rolled up into hours,
 * days and weeks.
 *
 * DESIGN
 * - A contact trace record is written once or twice (at the contact's end,
 *   then final with its after-contact work), as INSERT OR REPLACE by
 *   contact id. So the aggregates are a pure function of the stored
 *   records: before the record's own statement, the previous version's
 *   rows (rep_ctr_rows) are taken out and the new one's put in, by upserts
 *   on the writer inside the same transaction. Nothing is recomputed from
 *   the interactions at read time and no write can count twice.
 * - Presence: a change closes the span of the state the agent was in since
 *   their previous change (presence_history's latest row), split over the
 *   15-minute intervals it covers (Offline is not counted); a change to
 *   Missed is one missed offer of that agent.
 * - The queue's service-level threshold is read when the record is
 *   written: a row counts "answered within the threshold" with the
 *   threshold the queue had then (a later change does not rewrite history).
 * - Backfill: migration 014 leaves rep_state.built = 0; the store, when it
 *   opens, rebuilds every aggregate from the ctr and presence_history
 *   tables in one transaction with the same functions, and sets it to 1.
 *   Setting it to 0 rebuilds them at the next start.
 * - Each row is kept at two grains: its 15 minutes and its UTC hour (the
 *   same upsert twice). A report by hour, day or week with a whole-hour
 *   offset reads the hour rows, a quarter as many: a month of 12 queues is
 *   8,640 rows instead of 34,560 (docs/PERFORMANCE.md, "Reports").
 * - Reads run on a reader connection: the rows of the period
 *   (primary key (kind, bucket, id): a range scan), sorted by (id, bucket)
 *   with qsort,
 *   rolled up in C (rep_rollup) with the site's UTC offset for days and
 *   weeks (Monday first).
 */
#define LOG_MODULE "reports"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define HOUR_MS	   (3600000LL)
#define REP_HOURLY (10) /* kind + 10: the hour rows */
#define DAY_MS	   (86400000LL)

/* The metric columns of rep_agg after kind, id, bucket, in the order the
 * upsert binds them (?4...) and the query reads them. */
#define REP_COLS(X)                                                                                \
	X(offered)                                                                                 \
	X(answered)                                                                                \
	X(answered_in_sl)                                                                          \
	X(abandoned)                                                                               \
	X(abandoned_in_sl)                                                                         \
	X(answer_wait_ms)                                                                          \
	X(abandon_wait_ms)                                                                         \
	X(handled)                                                                                 \
	X(outbound)                                                                                \
	X(talk_ms)                                                                                 \
	X(hold_ms)                                                                                 \
	X(holds)                                                                                   \
	X(acw_ms)                                                                                  \
	X(acw_count)                                                                               \
	X(transfers_in)                                                                            \
	X(transfers_out)                                                                           \
	X(missed_offers)
#define N_REP_COLS (17 + REP_P__N)

static const char *const presence_col[REP_P__N] = {
	"p_available_ms", "p_away_ms",	 "p_calling_ms", "p_busy_ms",
	"p_acw_ms",	  "p_failed_ms", "p_missed_ms",
};
static const char *const presence_names[REP_P__N] = {
	"Available",	      "Away",	"CallingCustomer", "Busy", "AfterCallWork",
	"FailedConnectAgent", "Missed",
};

/* ---- the pure parts ---- */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

int rep_interval_parse(const char *s, enum rep_interval *iv)
{
	static const char *const names[] = {"15min", "hour", "day", "week"};

	for (int i = 0; s && i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*iv = (enum rep_interval)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rep_interval_name(enum rep_interval iv)
{
	switch (iv) {
	case REP_I15: return "15min";
	case REP_HOUR: return "hour";
	case REP_DAY: return "day";
	case REP_WEEK: return "week";
	}
	return "?";
}

int64_t rep_interval_start(int64_t t, enum rep_interval iv, int tz_min)
{
	int64_t off = (int64_t)tz_min * 60000, d;

	switch (iv) {
	case REP_I15: return floor_div(t + off, REP_BUCKET_MS) * REP_BUCKET_MS - off;
	case REP_HOUR: return floor_div(t + off, HOUR_MS) * HOUR_MS - off;
	case REP_DAY: return floor_div(t + off, DAY_MS) * DAY_MS - off;
	case REP_WEEK:
		/* day 0 (1970-01-01) was a Thursday: Monday is 3 days before */
		d = floor_div(t + off, DAY_MS);
		d -= d + 3 - floor_div(d + 3, 7) * 7;
		return d * DAY_MS - off;
	}
	return t;
}

int64_t rep_interval_next(int64_t start, enum rep_interval iv, int tz_min)
{
	static const int64_t len[] = {REP_BUCKET_MS, HOUR_MS, DAY_MS, 7 * DAY_MS};

	(void)tz_min; /* a fixed offset: every interval has its nominal length */
	return start + len[iv];
}

int rep_presence_index(const char *state)
{
	for (int i = 0; state && i < REP_P__N; i++)
		if (!strcmp(state, presence_names[i]))
			return i;
	return -1;
}

const char *rep_presence_name(enum rep_presence p)
{
	return p < REP_P__N ? presence_names[p] : "?";
}

int64_t rep_span_piece(int64_t *from, int64_t to, int64_t *ms)
{
	int64_t b = floor_div(*from, REP_BUCKET_MS) * REP_BUCKET_MS;
	int64_t end = b + REP_BUCKET_MS < to ? b + REP_BUCKET_MS : to;

	*ms = end - *from;
	*from = end;
	return b;
}

/* What the agent did on the contact: talk, holds, after-contact work, a
 * transfer out. */
static void contact_add(struct st_rep_row *r, const struct st_ctr *c)
{
	r->talk_ms = c->talk_ms;
	r->hold_ms = c->hold_ms;
	r->holds = c->holds;
	r->acw_ms = c->acw_ms;
	r->acw_count = c->acw_end_at != 0;
	r->transfers_out = c->transfer_type[0] != '\0';
}

size_t rep_ctr_rows(const struct st_ctr *c, int64_t sl_ms, struct st_rep_row out[2])
{
	bool via_queue = !strcmp(c->initiation_method, "queue_transfer");
	size_t n = 0;

	memset(out, 0, 2 * sizeof(*out));
	if (c->queue_id && c->enqueue_at) {
		struct st_rep_row *q = &out[n++];
		q->kind = REP_QUEUE;
		q->id = c->queue_id;
		q->start = floor_div(c->enqueue_at, REP_BUCKET_MS) * REP_BUCKET_MS;
		q->offered = 1;
		q->transfers_in = via_queue;
		q->missed_offers = c->missed_offers;
		if (c->connected_to_agent_at) {
			q->answered = q->handled = 1;
			q->answer_wait_ms = c->queue_ms;
			q->answered_in_sl = c->queue_ms <= sl_ms;
			contact_add(q, c);
		} else if (!strcmp(c->disconnect_reason, "customer")) {
			q->abandoned = 1;
			q->abandon_wait_ms = c->queue_ms;
			q->abandoned_in_sl = c->queue_ms <= sl_ms;
		}
	}
	if (c->agent_user_id && c->connected_to_agent_at) {
		struct st_rep_row *a = &out[n++];
		a->kind = REP_AGENT;
		a->id = c->agent_user_id;
		a->start = floor_div(c->connected_to_agent_at, REP_BUCKET_MS) * REP_BUCKET_MS;
		a->handled = 1;
		a->answered = c->queue_id && c->enqueue_at;
		a->answer_wait_ms = a->answered ? c->queue_ms : 0;
		a->outbound = !strcmp(c->initiation_method, "outbound");
		a->transfers_in = via_queue || !strcmp(c->initiation_method, "transfer");
		contact_add(a, c);
	}
	return n;
}

void rep_row_add(struct st_rep_row *a, const struct st_rep_row *b)
{
#define ADD(f) a->f += b->f;
	REP_COLS(ADD)
#undef ADD
	for (int i = 0; i < REP_P__N; i++)
		a->presence_ms[i] += b->presence_ms[i];
}

static void row_negate(struct st_rep_row *r)
{
#define NEG(f) r->f = -r->f;
	REP_COLS(NEG)
#undef NEG
	for (int i = 0; i < REP_P__N; i++)
		r->presence_ms[i] = -r->presence_ms[i];
}

size_t rep_rollup(struct st_rep_row *rows, size_t n, enum rep_interval iv, int tz_min)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t s = rep_interval_start(rows[i].start, iv, tz_min);
		if (k && rows[k - 1].id == rows[i].id && rows[k - 1].start == s) {
			rep_row_add(&rows[k - 1], &rows[i]);
			continue;
		}
		rows[k] = rows[i];
		rows[k++].start = s;
	}
	return k;
}

/* ---- the writer's side ---- */
struct sqlrep {
	sqlite3_stmt *upsert, *old_ctr, *sl, *last_presence;
};

#define COL_NAME(f) "," #f
#define COL_ADD(f)  "," #f "=" #f "+excluded." #f

static int upsert_sql(char *sql, size_t size)
{
	size_t n = 0;

	n += (size_t)snprintf(sql + n, size - n,
			      "INSERT INTO rep_agg(kind,id,bucket" REP_COLS(COL_NAME));
	for (int i = 0; i < REP_P__N; i++)
		n += (size_t)snprintf(sql + n, size - n, ",%s", presence_col[i]);
	n += (size_t)snprintf(sql + n, size - n, ") VALUES(?1,?2,?3");
	for (int i = 0; i < N_REP_COLS; i++)
		n += (size_t)snprintf(sql + n, size - n, ",?%d", i + 4);
	n += (size_t)snprintf(sql + n, size - n,
			      ") ON CONFLICT(kind,bucket,id) DO UPDATE SET "
			      "kind=kind" REP_COLS(COL_ADD));
	for (int i = 0; i < REP_P__N; i++)
		n += (size_t)snprintf(sql + n, size - n, ",%s=%s+excluded.%s", presence_col[i],
				      presence_col[i], presence_col[i]);
	return n < size ? 0 : -ENOSPC;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
		return 0;
	log_error("prepare: %s", sqlite3_errmsg(db));
	return CC_ESTORE;
}

/* Adds r to one row of grain kind (REP_QUEUE, REP_AGENT, or + REP_HOURLY). */
static int row_upsert_at(struct sqlite_be *be, int kind, int64_t bucket, const struct st_rep_row *r)
{
	sqlite3_stmt *st = be->rep->upsert;
	int k = 4, rc;

	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, r->id);
	sqlite3_bind_int64(st, 3, bucket);
#define BIND(f) sqlite3_bind_int64(st, k++, r->f);
	REP_COLS(BIND)
#undef BIND
	for (int i = 0; i < REP_P__N; i++)
		sqlite3_bind_int64(st, k++, r->presence_ms[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	log_error("aggregate upsert failed: %s", sqlite3_errmsg(be->writer));
	return CC_ESTORE;
}

/* Adds r (a 15-minute row) to its 15-minute row and to its hour's. */
static int row_upsert(struct sqlite_be *be, const struct st_rep_row *r)
{
	int err = row_upsert_at(be, r->kind, r->start, r);

	return err ? err
		   : row_upsert_at(be, r->kind + REP_HOURLY, floor_div(r->start, HOUR_MS) * HOUR_MS,
				   r);
}

static int64_t queue_sl_ms(struct sqlite_be *be, int64_t queue_id)
{
	sqlite3_stmt *st = be->rep->sl;
	int64_t ms = 20000; /* migration 001's default */

	sqlite3_bind_int64(st, 1, queue_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		ms = sqlite3_column_int64(st, 0) * 1000;
	sqlite3_reset(st);
	return ms;
}

/* Adds (sign 1) or takes out (-1) what record c contributes. */
static int ctr_contribute(struct sqlite_be *be, const struct st_ctr *c, int sign)
{
	struct st_rep_row rows[2];
	size_t n = rep_ctr_rows(c, c->queue_id ? queue_sl_ms(be, c->queue_id) : 0, rows);
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		if (sign < 0)
			row_negate(&rows[i]);
		err = row_upsert(be, &rows[i]);
	}
	return err;
}

int sqlrep_ctr(struct sqlite_be *be, const struct st_ctr *c)
{
	sqlite3_stmt *st = be->rep->old_ctr;
	struct st_ctr *old = NULL;
	int rc, err = 0;

	sqlite3_bind_text(st, 1, c->contact_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		old = malloc(sizeof(*old));
		if (old)
			sqlbe_row_ctr(st, old);
		else
			err = -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		err = CC_ESTORE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!err && old)
		err = ctr_contribute(be, old, -1);
	free(old);
	return err ? err : ctr_contribute(be, c, 1);
}

/* The time an agent spent in state over [from, to), split by interval. */
static int presence_span(struct sqlite_be *be, int64_t user_id, const char *state, int64_t from,
			 int64_t to)
{
	int p = rep_presence_index(state), err = 0;

	while (p >= 0 && from < to && !err) {
		struct st_rep_row r = {.kind = REP_AGENT, .id = user_id};
		int64_t ms;
		r.start = rep_span_piece(&from, to, &ms);
		r.presence_ms[p] = ms;
		err = row_upsert(be, &r);
	}
	return err;
}

/* A change to Missed is one missed offer, in the change's interval. */
static int presence_missed(struct sqlite_be *be, int64_t user_id, int64_t at)
{
	struct st_rep_row r = {.kind = REP_AGENT, .id = user_id, .missed_offers = 1};

	r.start = floor_div(at, REP_BUCKET_MS) * REP_BUCKET_MS;
	return row_upsert(be, &r);
}

int sqlrep_presence(struct sqlite_be *be, const struct st_presence_change *p)
{
	sqlite3_stmt *st = be->rep->last_presence;
	char state[24] = "";
	int64_t since = 0;
	int rc, err = 0;

	sqlite3_bind_int64(st, 1, p->user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 1);
		since = sqlite3_column_int64(st, 0);
		str_copy(state, t ? (const char *)t : "", sizeof(state));
	} else if (rc != SQLITE_DONE) {
		err = CC_ESTORE;
	}
	sqlite3_reset(st);
	if (!err && since)
		err = presence_span(be, p->user_id, state, since, p->at);
	if (!err && !strcmp(p->to, "Missed"))
		err = presence_missed(be, p->user_id, p->at);
	return err;
}

/* ---- backfill ---- */
static int exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	log_error("reports: %s: %s", sql, sqlite3_errmsg(db));
	return CC_ESTORE;
}

static int backfill_ctr(struct sqlite_be *be, int64_t *n)
{
	sqlite3_stmt *st;
	struct st_ctr *c = malloc(sizeof(*c));
	int rc, err = 0;

	if (!c)
		return -ENOMEM;
	if (prepare(be->writer, "SELECT " CTR_COLS " FROM ctr", &st)) {
		free(c);
		return CC_ESTORE;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlbe_row_ctr(st, c);
		err = ctr_contribute(be, c, 1);
		++*n;
	}
	if (!err && rc != SQLITE_DONE)
		err = CC_ESTORE;
	sqlite3_finalize(st);
	free(c);
	return err;
}

static int backfill_presence(struct sqlite_be *be, int64_t *n)
{
	sqlite3_stmt *st;
	int64_t user = 0, since = 0;
	char state[24] = "";
	int rc, err = 0;

	if (prepare(be->writer,
		    "SELECT user_id,at,to_state FROM presence_history ORDER BY user_id,at,id", &st))
		return CC_ESTORE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t u = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 1);
		const unsigned char *to = sqlite3_column_text(st, 2);
		if (u == user && since)
			err = presence_span(be, u, state, since, at);
		if (!err && to && !strcmp((const char *)to, "Missed"))
			err = presence_missed(be, u, at);
		user = u, since = at;
		str_copy(state, to ? (const char *)to : "", sizeof(state));
		++*n;
	}
	if (!err && rc != SQLITE_DONE)
		err = CC_ESTORE;
	sqlite3_finalize(st);
	return err;
}

static int backfill(struct sqlite_be *be)
{
	int64_t t0 = time_now_ms(), nc = 0, np = 0;
	int err;

	if (exec(be->writer, "BEGIN IMMEDIATE"))
		return CC_ESTORE;
	err = exec(be->writer, "DELETE FROM rep_agg");
	if (!err)
		err = backfill_ctr(be, &nc);
	if (!err)
		err = backfill_presence(be, &np);
	if (!err)
		err = exec(be->writer, "UPDATE rep_state SET built=1");
	if (err) {
		exec(be->writer, "ROLLBACK");
		return err;
	}
	err = exec(be->writer, "COMMIT");
	log_info("report aggregates built from %lld records and %lld presence changes in %lld ms",
		 (long long)nc, (long long)np, (long long)(time_now_ms() - t0));
	return err;
}

int sqlrep_open(struct sqlite_be *be)
{
	char sql[2048];
	sqlite3_stmt *st;
	int built = 1;

	be->rep = calloc(1, sizeof(*be->rep));
	if (!be->rep)
		return -ENOMEM;
	if (upsert_sql(sql, sizeof(sql)) || prepare(be->writer, sql, &be->rep->upsert) ||
	    prepare(be->writer, "SELECT " CTR_COLS " FROM ctr WHERE contact_id=?1",
		    &be->rep->old_ctr) ||
	    prepare(be->writer, "SELECT sl_threshold_s FROM queues WHERE id=?1", &be->rep->sl) ||
	    prepare(be->writer,
		    "SELECT at,to_state FROM presence_history WHERE user_id=?1 "
		    "ORDER BY at DESC,id DESC LIMIT 1",
		    &be->rep->last_presence))
		return CC_ESTORE;
	if (sqlite3_prepare_v2(be->writer, "SELECT built FROM rep_state", -1, &st, NULL))
		return CC_ESTORE;
	if (sqlite3_step(st) == SQLITE_ROW)
		built = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return built ? 0 : backfill(be);
}

void sqlrep_close(struct sqlite_be *be)
{
	if (!be->rep)
		return;
	sqlite3_finalize(be->rep->upsert);
	sqlite3_finalize(be->rep->old_ctr);
	sqlite3_finalize(be->rep->sl);
	sqlite3_finalize(be->rep->last_presence);
	free(be->rep);
	be->rep = NULL;
}

/* ---- reads ---- */
static void row_read(sqlite3_stmt *st, struct st_rep_row *r)
{
	int k = 2;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->start = sqlite3_column_int64(st, 1);
#define READ(f) r->f = sqlite3_column_int64(st, k++);
	REP_COLS(READ)
#undef READ
	for (int i = 0; i < REP_P__N; i++)
		r->presence_ms[i] = sqlite3_column_int64(st, k++);
}

static int rep_rows(sqlite3 *db, const struct store_rep_query *q, struct store_rep_result *r)
{
	char sql[1024];
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	bool hourly;
	int rc;

	n = (size_t)snprintf(sql, sizeof(sql), "SELECT id,bucket" REP_COLS(COL_NAME));
	for (int i = 0; i < REP_P__N; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ",%s", presence_col[i]);
	snprintf(sql + n, sizeof(sql) - n,
		 " FROM rep_agg WHERE kind=?1 AND bucket>=?2 AND bucket<?3 "
		 "AND (?4=0 OR id=?4)");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	/* whole-hour intervals of a whole-hour offset add up from hour rows */
	hourly = q->iv != REP_I15 && q->tz_min % 60 == 0 && q->from % HOUR_MS == 0 &&
		 q->to % HOUR_MS == 0;
	sqlite3_bind_int(st, 1, q->kind + (hourly ? REP_HOURLY : 0));
	sqlite3_bind_int64(st, 2, q->from);
	sqlite3_bind_int64(st, 3, q->to);
	sqlite3_bind_int64(st, 4, q->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n == cap) {
			void *na = realloc(r->rows, (cap = cap ? cap * 2 : 256) * sizeof(*r->rows));
			if (!na) {
				rc = SQLITE_NOMEM;
				break;
			}
			r->rows = na;
		}
		row_read(st, &r->rows[r->n]);
		r->rows[r->n++].kind = q->kind;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

static int row_cmp(const void *a, const void *b)
{
	const struct st_rep_row *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

int sqlrep_query(void *p, const struct store_rep_query *q, struct store_rep_result *r)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = rep_rows(db, q, r);
	sqlbe_reader_put(be, slot);
	if (!err && r->n) {
		/* in C: SQLite's ORDER BY here sorts through a temporary file
		 * (200 ms for a month of 12 queues, against 3 ms for qsort) */
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
		r->n = rep_rollup(r->rows, r->n, q->iv, q->tz_min);
	}
	return err;
}

static int segments_query(sqlite3 *db, const struct store_rep_drill *d,
			  struct store_rep_segments *s)
{
	/* the segments a row counts: the queue's by their enqueue, the
	 * agent's by their connection (rep_ctr_rows) */
	static const char *const where[] = {
		[REP_QUEUE] = "queue_id=?1 AND enqueue_at>=?2 AND enqueue_at<?3",
		[REP_AGENT] = "agent_user_id=?1 AND connected_to_agent_at>=?2 AND "
			      "connected_to_agent_at<?3",
	};
	char sql[1024];
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT " CTR_COLS ",(SELECT number FROM interactions WHERE "
		 "id=ctr.interaction_id),rowid FROM ctr WHERE %s AND (?4=0 OR rowid<?4) "
		 "ORDER BY rowid DESC LIMIT ?5",
		 where[d->kind]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	sqlite3_bind_int64(st, 1, d->id);
	sqlite3_bind_int64(st, 2, d->from);
	sqlite3_bind_int64(st, 3, d->to);
	sqlite3_bind_int64(st, 4, d->before_seq);
	sqlite3_bind_int(st, 5, d->limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *num = sqlite3_column_text(st, 39);
		if (s->n == (size_t)d->limit) {
			s->more = true;
			continue;
		}
		if (s->n == cap) {
			void *nr, *ns;
			cap = cap ? cap * 2 : 32;
			nr = realloc(s->rows, cap * sizeof(*s->rows));
			if (nr)
				s->rows = nr;
			ns = nr ? realloc(s->seq, cap * sizeof(*s->seq)) : NULL;
			if (ns)
				s->seq = ns;
			if (!nr || !ns) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		sqlbe_row_ctr(st, &s->rows[s->n]);
		str_copy(s->rows[s->n].interaction, num ? (const char *)num : "",
			 sizeof(s->rows[s->n].interaction));
		s->seq[s->n++] = sqlite3_column_int64(st, 40);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

int sqlrep_segments(void *p, const struct store_rep_drill *d, struct store_rep_segments *s)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db;

	if (d->kind != REP_QUEUE && d->kind != REP_AGENT)
		return -EINVAL;
	db = sqlbe_reader_get(be, &slot);
	err = segments_query(db, d, s);
	sqlbe_reader_put(be, slot);
	return err;
}
