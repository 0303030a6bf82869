/*
 * reports.c — historical reports per queue and per agent (issue 14 points
 * 5-7, docs/REPORTS.md): GET /api/v1/reports/queues and /agents over a
 * period by 15 minutes, hour, day or week, as JSON or CSV, and the
 * drill-down to the contact segments behind a row
 * (GET /api/v1/reports/{queues|agents}/interactions).
 *
 * DESIGN
 * - Managers and admins only (403 for anyone else), checked first.
 * - The period is aligned outwards to whole intervals of the site's UTC
 *   offset (tz_offset, minutes east) and capped per interval (a month by
 *   15 minutes, a quarter by hour, two years by day or week): the answer
 *   says the period it covers.
 * - The store reads the 15-minute aggregates and rolls them up
 *   (store_rep_query); this file adds the agents' open presence span (the
 *   state they are in now, not yet closed by a change, so not in the
 *   aggregates), derives the rates and averages, and writes JSON or CSV
 *   by hand into one buffer: a month of hours for every queue is thousands
 *   of rows, and a jansson tree per cell would cost more than the read.
 * - One table of columns (name, unit, how it is computed from a row)
 *   drives both formats, so the CSV and the JSON cannot disagree.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400000LL)

/* ---- the columns ---- */
enum unit { U_COUNT, U_SECONDS, U_RATE };
struct col {
	const char *name;
	unsigned kinds; /* 1 << REP_QUEUE | 1 << REP_AGENT */
	enum unit unit;
	/* the value, or NAN when undefined (an average of nothing) */
	double (*val)(const struct st_rep_row *r);
};

#define KQ (1u << REP_QUEUE)
#define KA (1u << REP_AGENT)

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static double handle_ms(const struct st_rep_row *r)
{
	return (double)(r->talk_ms + r->hold_ms + r->acw_ms);
}

static double on_contact_ms(const struct st_rep_row *r)
{
	return (double)(r->presence_ms[REP_P_BUSY] + r->presence_ms[REP_P_ACW] +
			r->presence_ms[REP_P_CALLING]);
}

static double staffed_ms(const struct st_rep_row *r)
{
	double t = 0;

	for (int i = 0; i < REP_P__N; i++)
		t += (double)r->presence_ms[i];
	return t;
}

#define V(fn, expr)                                                                                \
	static double fn(const struct st_rep_row *r)                                               \
	{                                                                                          \
		return (expr);                                                                     \
	}
V(v_offered, (double)r->offered)
V(v_answered, (double)r->answered)
V(v_abandoned, (double)r->abandoned)
V(v_abandon_rate, ratio((double)r->abandoned, (double)r->offered))
V(v_ans_sl, (double)r->answered_in_sl)
V(v_aban_sl, (double)r->abandoned_in_sl)
V(v_sl, ratio((double)r->answered_in_sl, (double)r->offered))
V(v_asa, ratio((double)r->answer_wait_ms, (double)r->answered))
V(v_aban_time, ratio((double)r->abandon_wait_ms, (double)r->abandoned))
V(v_handled, (double)r->handled)
V(v_outbound, (double)r->outbound)
V(v_aht, ratio(handle_ms(r), (double)r->handled))
V(v_talk, (double)r->talk_ms)
V(v_hold, (double)r->hold_ms)
V(v_holds, (double)r->holds)
V(v_acw, (double)r->acw_ms)
V(v_avg_acw, ratio((double)r->acw_ms, (double)r->acw_count))
V(v_xin, (double)r->transfers_in)
V(v_xout, (double)r->transfers_out)
V(v_missed, (double)r->missed_offers)
V(v_occupancy, ratio(on_contact_ms(r), on_contact_ms(r) + (double)r->presence_ms[REP_P_AVAILABLE]))
V(v_staffed, staffed_ms(r))
V(v_p_avail, (double)r->presence_ms[REP_P_AVAILABLE])
V(v_p_away, (double)r->presence_ms[REP_P_AWAY])
V(v_p_calling, (double)r->presence_ms[REP_P_CALLING])
V(v_p_busy, (double)r->presence_ms[REP_P_BUSY])
V(v_p_acw, (double)r->presence_ms[REP_P_ACW])
V(v_p_failed, (double)r->presence_ms[REP_P_FAILED])
V(v_p_missed, (double)r->presence_ms[REP_P_MISSED])
#undef V

static const struct col cols[] = {
	{"offered", KQ, U_COUNT, v_offered},
	{"handled", KA, U_COUNT, v_handled},
	{"answered", KQ | KA, U_COUNT, v_answered},
	{"outbound", KA, U_COUNT, v_outbound},
	{"abandoned", KQ, U_COUNT, v_abandoned},
	{"abandonment_rate", KQ, U_RATE, v_abandon_rate},
	{"answered_within_threshold", KQ, U_COUNT, v_ans_sl},
	{"abandoned_within_threshold", KQ, U_COUNT, v_aban_sl},
	{"service_level", KQ, U_RATE, v_sl},
	{"average_speed_of_answer_seconds", KQ, U_SECONDS, v_asa},
	{"average_abandon_time_seconds", KQ, U_SECONDS, v_aban_time},
	{"average_handle_time_seconds", KQ | KA, U_SECONDS, v_aht},
	{"talk_seconds", KQ | KA, U_SECONDS, v_talk},
	{"hold_seconds", KQ | KA, U_SECONDS, v_hold},
	{"holds", KQ | KA, U_COUNT, v_holds},
	{"after_call_work_seconds", KQ | KA, U_SECONDS, v_acw},
	{"average_after_call_work_seconds", KQ | KA, U_SECONDS, v_avg_acw},
	{"transfers_in", KQ | KA, U_COUNT, v_xin},
	{"transfers_out", KQ | KA, U_COUNT, v_xout},
	{"missed_offers", KQ | KA, U_COUNT, v_missed},
	{"occupancy", KA, U_RATE, v_occupancy},
	{"staffed_seconds", KA, U_SECONDS, v_staffed},
	{"available_seconds", KA, U_SECONDS, v_p_avail},
	{"away_seconds", KA, U_SECONDS, v_p_away},
	{"calling_customer_seconds", KA, U_SECONDS, v_p_calling},
	{"busy_seconds", KA, U_SECONDS, v_p_busy},
	{"after_call_work_state_seconds", KA, U_SECONDS, v_p_acw},
	{"failed_connect_seconds", KA, U_SECONDS, v_p_failed},
	{"missed_seconds", KA, U_SECONDS, v_p_missed},
};
#define N_COLS (sizeof(cols) / sizeof(cols[0]))

/* ---- an output buffer ---- */
struct obuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void ob_printf(struct obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (b->p && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->n + (size_t)k + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np, b->cap = cap;
	}
}

/* len bytes of s, as they are. */
static void ob_put(struct obuf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *np;
		while (cap < b->n + len + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np, b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void ob_str(struct obuf *b, const char *s)
{
	ob_put(b, s, strlen(s));
}

/* n as decimal digits, with a point before the last `decimals` of them
 * (by hand: a month of rows is a few hundred thousand numbers). */
static void ob_fixed(struct obuf *b, int64_t n, int decimals)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	bool neg = n < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	int d = 0;

	do {
		if (decimals && d == decimals)
			*--p = '.';
		*--p = (char)('0' + u % 10);
		u /= 10, d++;
	} while (u || d <= decimals);
	if (neg)
		*--p = '-';
	ob_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* A value as its unit shows it: counts whole, seconds to 0.1, rates to
 * 0.0001; an undefined one as null (JSON) or empty (CSV). */
static void ob_value(struct obuf *b, const struct col *c, double v, bool csv)
{
	if (isnan(v))
		ob_str(b, csv ? "" : "null");
	else if (c->unit == U_COUNT)
		ob_fixed(b, llround(v), 0);
	else if (c->unit == U_SECONDS)
		ob_fixed(b, llround(v / 100.0), 1);
	else
		ob_fixed(b, llround(v * 10000.0), 4);
}

/* A JSON string (jansson escapes it). */
static void ob_jstr(struct obuf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	ob_printf(b, "%s", t ? t : "\"\"");
	free(t);
	json_decref(j);
}

/* A CSV field: quoted when it must be; a leading = + - @ is escaped with '
 * so a spreadsheet does not run it as a formula. */
static void ob_csv(struct obuf *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	ob_printf(b, "%s%s", quote ? "\"" : "", strchr("=+-@", s[0]) && s[0] ? "'" : "");
	for (const char *p = s; *p; p++)
		ob_printf(b, *p == '"' ? "\"\"" : "%c", *p);
	ob_printf(b, "%s", quote ? "\"" : "");
}

/* ---- the request ---- */
struct rep_req {
	struct api_req *q;
	struct store_rep_query sq;
	bool csv;
	int64_t now;
};

static const int64_t max_days[] = {
	[REP_I15] = 31, [REP_HOUR] = 92, [REP_DAY] = 731, [REP_WEEK] = 731};

static const char *entity(enum rep_kind k)
{
	return k == REP_QUEUE ? "queue" : "agent";
}

/* The name of row r's queue or agent (user_name), and the agent's name. */
static const char *row_name(struct api_req *q, enum rep_kind k, int64_t id, const char **full,
			    char *buf, size_t size)
{
	*full = NULL;
	if (k == REP_QUEUE) {
		const char *n = routing_queue_name(q->api->r, id);
		if (n)
			return n;
	} else {
		struct user *u = routing_user_by_id(q->api->r, id);
		if (u) {
			*full = user_record(u)->name;
			return user_record(u)->user_name;
		}
	}
	snprintf(buf, size, "%s %lld", entity(k), (long long)id);
	return buf;
}

static int row_cmp(const void *a, const void *b)
{
	const struct st_rep_row *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/* The row of (id, start): searched in the sorted first n0 rows, else
 * appended (each (agent, interval) is asked for once). */
static struct st_rep_row *row_at(struct store_rep_result *r, size_t n0, size_t *cap, int64_t id,
				 int64_t start)
{
	struct st_rep_row key = {.id = id, .start = start}, *hit;

	hit = bsearch(&key, r->rows, n0, sizeof(*r->rows), row_cmp);
	if (hit)
		return hit;
	if (r->n == *cap) {
		void *na = realloc(r->rows, (*cap = r->n + 256) * sizeof(*r->rows));
		if (!na)
			return NULL;
		r->rows = na;
	}
	r->rows[r->n] = (struct st_rep_row){.kind = REP_AGENT, .id = id, .start = start};
	return &r->rows[r->n++];
}

/* The state each agent is in now has run since their last change: no
 * change has closed it, so it is not in the aggregates. Added here for
 * the part of it inside the period, by interval. */
static int add_open_spans(struct rep_req *j, struct store_rep_result *r)
{
	struct routing *rt = j->q->api->r;
	size_t cap = r->n, n0 = r->n;
	int64_t to = j->now < j->sq.to ? j->now : j->sq.to;

	for (size_t i = 0; i < routing_user_count(rt); i++) {
		struct user *u = routing_user_at(rt, i);
		struct agent_view v;
		int64_t from;
		int p;
		if (j->sq.id && user_record(u)->id != j->sq.id)
			continue;
		user_agent_view(u, &v);
		p = rep_presence_index(presence_name(v.presence));
		from = v.presence_since > j->sq.from ? v.presence_since : j->sq.from;
		while (p >= 0 && from < to) {
			int64_t s = rep_interval_start(from, j->sq.iv, j->sq.tz_min);
			int64_t e = rep_interval_next(s, j->sq.iv, j->sq.tz_min);
			struct st_rep_row *row = row_at(r, n0, &cap, user_record(u)->id, s);
			if (!row)
				return -ENOMEM;
			row->presence_ms[p] += (e < to ? e : to) - from;
			from = e;
		}
	}
	if (r->n != n0)
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
	return 0;
}

static void json_cols(struct obuf *b, enum rep_kind k, const struct st_rep_row *r)
{
	for (size_t c = 0; c < N_COLS; c++) {
		if (!(cols[c].kinds & (1u << k)))
			continue;
		ob_put(b, ",\"", 2);
		ob_str(b, cols[c].name);
		ob_put(b, "\":", 2);
		ob_value(b, &cols[c], cols[c].val(r), false);
	}
}

/* {"queue": name (or "agent": user_name, "agent_name": name); the JSON of
 * the names is made once per id (rows come by id). */
struct ent_cache {
	int64_t id;
	struct obuf text;
};

static void json_entity(struct obuf *b, struct api_req *q, enum rep_kind k, int64_t id,
			struct ent_cache *ec)
{
	if (!ec->text.p || ec->id != id) {
		const char *full;
		char buf[40];
		const char *name = row_name(q, k, id, &full, buf, sizeof(buf));
		ec->text.n = 0, ec->id = id;
		ob_printf(&ec->text, "{\"%s\":", entity(k));
		ob_jstr(&ec->text, name);
		if (k == REP_AGENT) {
			ob_printf(&ec->text, ",\"agent_name\":");
			ob_jstr(&ec->text, full ? full : "");
		}
	}
	ob_put(b, ec->text.p ? ec->text.p : "{", ec->text.p ? ec->text.n : 1);
}

/* The totals per queue or agent over the period: the rows (by id) summed. */
static size_t json_totals(struct obuf *b, struct rep_req *j, const struct store_rep_result *r,
			  struct st_rep_row *all, struct ent_cache *ec)
{
	bool first = true;
	size_t n = 0;

	ob_printf(b, "],\"totals\":[");
	for (size_t i = 0; i < r->n;) {
		struct st_rep_row t = r->rows[i];
		for (i++; i < r->n && r->rows[i].id == t.id; i++)
			rep_row_add(&t, &r->rows[i]);
		rep_row_add(all, &t);
		ob_printf(b, "%s", first ? "" : ",");
		first = false;
		json_entity(b, j->q, j->sq.kind, t.id, ec);
		if (j->sq.kind == REP_QUEUE) {
			const struct st_queue *qr = routing_queue_rec(j->q->api->r, t.id);
			ob_printf(b, ",\"service_level_threshold_seconds\":%d",
				  qr ? qr->sl_threshold_s : 0);
		}
		json_cols(b, j->sq.kind, &t);
		ob_printf(b, "}");
		n++;
	}
	return n;
}

static void reply_json(struct rep_req *j, const struct store_rep_result *r, struct obuf *b)
{
	char from[40], to[40], at[40];
	struct st_rep_row all = {0};
	struct ent_cache ec = {0};

	time_iso8601(j->sq.from, from, sizeof(from));
	time_iso8601(j->sq.to, to, sizeof(to));
	ob_printf(b,
		  "{\"report\":\"%ss\",\"interval\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
		  "\"tz_offset\":%d,\"rows\":[",
		  entity(j->sq.kind), rep_interval_name(j->sq.iv), from, to, j->sq.tz_min);
	for (size_t i = 0; i < r->n; i++) {
		ob_printf(b, "%s", i ? "," : "");
		json_entity(b, j->q, j->sq.kind, r->rows[i].id, &ec);
		time_iso8601(r->rows[i].start, at, sizeof(at));
		ob_put(b, ",\"interval_start\":\"", 19);
		ob_str(b, at);
		ob_put(b, "\"", 1);
		json_cols(b, j->sq.kind, &r->rows[i]);
		ob_printf(b, "}");
	}
	size_t n_ids = json_totals(b, j, r, &all, &ec);
	ob_printf(b, "],\"total\":{\"%ss\":%zu", entity(j->sq.kind), n_ids);
	json_cols(b, j->sq.kind, &all);
	ob_printf(b, "}}");
	free(ec.text.p);
	b->oom = b->oom || ec.text.oom;
}

static void reply_csv(struct rep_req *j, const struct store_rep_result *r, struct obuf *b)
{
	enum rep_kind k = j->sq.kind;
	char at[40];

	ob_printf(b, "%s%s,interval_start", entity(k), k == REP_AGENT ? ",agent_name" : "");
	for (size_t c = 0; c < N_COLS; c++)
		if (cols[c].kinds & (1u << k))
			ob_printf(b, ",%s", cols[c].name);
	ob_printf(b, "\r\n");
	for (size_t i = 0; i < r->n; i++) {
		const char *full;
		char buf[40];
		ob_csv(b, row_name(j->q, k, r->rows[i].id, &full, buf, sizeof(buf)));
		if (k == REP_AGENT) {
			ob_printf(b, ",");
			ob_csv(b, full ? full : "");
		}
		time_iso8601(r->rows[i].start, at, sizeof(at));
		ob_printf(b, ",%s", at);
		for (size_t c = 0; c < N_COLS; c++) {
			if (!(cols[c].kinds & (1u << k)))
				continue;
			ob_printf(b, ",");
			ob_value(b, &cols[c], cols[c].val(&r->rows[i]), true);
		}
		ob_printf(b, "\r\n");
	}
}

static void rep_done(int err, struct store_rep_result *r, void *arg)
{
	struct rep_req *j = arg;
	struct api_req *q = j->q;
	struct obuf b = {0};

	if (!err && j->sq.kind == REP_AGENT)
		err = add_open_spans(j, r);
	if (err) {
		api_reply_err(q, err == -ENOMEM ? err : CC_ESTORE, "");
	} else {
		if (j->csv)
			reply_csv(j, r, &b);
		else
			reply_json(j, r, &b);
		if (b.oom) {
			api_reply_err(q, -ENOMEM, "");
		} else if (j->csv) {
			char d[96], day[40];
			time_iso8601(j->sq.from, day, sizeof(day));
			day[10] = '\0';
			snprintf(d, sizeof(d), "attachment; filename=\"%ss-%s-%s.csv\"",
				 entity(j->sq.kind), rep_interval_name(j->sq.iv), day);
			str_copy(q->content_disposition, d, sizeof(q->content_disposition));
			api_reply_raw(q, 200, "text/csv; charset=utf-8", NULL, b.p, b.n);
		} else {
			api_reply_raw(q, 200, "", NULL, b.p, b.n);
		}
	}
	free(b.p);
	api_req_release(q);
	free(j);
}

/* ---- parameters ---- */
static int manager_only(struct api_req *q)
{
	if (api_is_manager(q->user))
		return 0;
	api_reply_error(q, 403, "forbidden", "reports need the voice_manager or admin role");
	return -EPERM;
}

/* The queue or agent named by the query parameter of kind k, into *id
 * (left 0 when absent, unless required). */
static int entity_param(struct api_req *q, enum rep_kind k, bool required, int64_t *id)
{
	const char *name = entity(k);
	char buf[ST_NAME];
	int rc = api_query(q, name, buf, sizeof(buf));

	if (rc == -ENOENT && !required)
		return 0;
	if (rc == -ENOENT) {
		api_reply_error(q, 400, "missing_parameter", "'%s' is required", name);
		return -EINVAL;
	}
	if (!rc && k == REP_QUEUE)
		*id = routing_queue_id(q->api->r, buf);
	if (!rc && k == REP_AGENT) {
		struct user *u = routing_user_find(q->api->r, buf);
		*id = u ? user_record(u)->id : 0;
	}
	if (rc || *id <= 0) {
		api_reply_error(q, 400, "invalid_parameter", "no %s named '%.64s'", name,
				rc ? "(too long)" : buf);
		return -EINVAL;
	}
	return 0;
}

static int interval_param(struct api_req *q, enum rep_interval *iv)
{
	char buf[16];
	int rc = api_query(q, "interval", buf, sizeof(buf));

	if (rc == -ENOENT)
		return 0;
	if (rc || rep_interval_parse(buf, iv)) {
		api_reply_error(q, 400, "invalid_parameter",
				"'interval' must be one of 15min, hour, day, week");
		return -EINVAL;
	}
	return 0;
}

static int format_param(struct api_req *q, bool *csv)
{
	char buf[16], accept[128];
	int rc = api_query(q, "format", buf, sizeof(buf));

	if (rc == -ENOENT) {
		*csv = q->wsi &&
		       lws_hdr_copy(q->wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT) > 0 &&
		       strstr(accept, "text/csv");
		return 0;
	}
	if (rc || (strcmp(buf, "csv") && strcmp(buf, "json"))) {
		api_reply_error(q, 400, "invalid_parameter", "'format' must be json or csv");
		return -EINVAL;
	}
	*csv = !strcmp(buf, "csv");
	return 0;
}

/* from/to: defaults today (in tz) to now; from before to; aligned outwards
 * to whole intervals; no longer than max_days[iv]. */
static int period_params(struct api_req *q, enum rep_interval iv, int tz, int64_t *from,
			 int64_t *to)
{
	int64_t now = time_now_ms();

	*from = 0, *to = 0;
	if (api_query_time(q, "from", from) || api_query_time(q, "to", to))
		return -EINVAL;
	if (!*to)
		*to = now;
	if (!*from)
		*from = rep_interval_start(*to - 1, REP_DAY, tz);
	if (*from >= *to) {
		api_reply_error(q, 400, "invalid_period", "'from' must be before 'to'");
		return -EINVAL;
	}
	*from = rep_interval_start(*from, iv, tz);
	*to = rep_interval_next(rep_interval_start(*to - 1, iv, tz), iv, tz);
	if (*to - *from > max_days[iv] * DAY_MS) {
		api_reply_error(q, 400, "period_too_long",
				"a report by %s covers at most %lld days; this one covers %lld",
				rep_interval_name(iv), (long long)max_days[iv],
				(long long)((*to - *from + DAY_MS - 1) / DAY_MS));
		return -EINVAL;
	}
	return 0;
}

static int tz_param(struct api_req *q, int *tz)
{
	int64_t v = 0;

	if (api_query_int(q, "tz_offset", -720, 840, &v))
		return -EINVAL;
	if (v % 15) {
		api_reply_error(q, 400, "invalid_parameter",
				"'tz_offset' must be a multiple of 15 minutes");
		return -EINVAL;
	}
	*tz = (int)v;
	return 0;
}

static void report(struct api_req *q, enum rep_kind k)
{
	static const char *const params[][7] = {
		[REP_QUEUE] = {"from", "to", "interval", "queue", "tz_offset", "format", NULL},
		[REP_AGENT] = {"from", "to", "interval", "agent", "tz_offset", "format", NULL},
	};
	struct rep_req *j;
	struct store_rep_query sq = {.kind = k, .iv = REP_HOUR};
	bool csv = false;

	if (manager_only(q) || api_query_check(q, params[k]) || interval_param(q, &sq.iv) ||
	    tz_param(q, &sq.tz_min) || entity_param(q, k, false, &sq.id) || format_param(q, &csv) ||
	    period_params(q, sq.iv, sq.tz_min, &sq.from, &sq.to))
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	j->q = api_req_hold(q), j->sq = sq, j->csv = csv, j->now = time_now_ms();
	if (store_rep_query(q->api->st, &sq, rep_done, j)) {
		free(j);
		api_req_release(q);
		api_reply_error(q, 503, "overloaded", "the report cannot be read now; try again");
	}
}

void api_route_report_queues(struct api_req *q)
{
	report(q, REP_QUEUE);
}

void api_route_report_agents(struct api_req *q)
{
	report(q, REP_AGENT);
}

/* ---- the drill-down ---- */
static const char *outcome(const struct st_ctr *c)
{
	if (c->connected_to_agent_at)
		return "answered";
	if (c->queue_id && c->enqueue_at && !strcmp(c->disconnect_reason, "customer"))
		return "abandoned";
	return "not_answered";
}

static void drill_done(int err, struct store_rep_segments *s, void *arg)
{
	struct api_req *q = arg;
	json_t *a;

	if (err) {
		api_reply_err(q, CC_ESTORE, "");
		api_req_release(q);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < s->n; i++) {
		json_t *o = view_ctr(&s->rows[i]);
		json_object_set_new(o, "outcome", json_string(outcome(&s->rows[i])));
		json_array_append_new(a, o);
	}
	api_reply_page(q, json_pack("{s:o}", "segments", a),
		       s->more && s->n ? s->seq[s->n - 1] : 0);
	api_req_release(q);
}

static void drill(struct api_req *q, enum rep_kind k)
{
	static const char *const params[][6] = {
		[REP_QUEUE] = {"from", "to", "queue", "limit", "cursor", NULL},
		[REP_AGENT] = {"from", "to", "agent", "limit", "cursor", NULL},
	};
	struct store_rep_drill d = {.kind = k};
	int64_t limit = 100, cursor = 0;

	if (manager_only(q) || api_query_check(q, params[k]) || entity_param(q, k, true, &d.id) ||
	    api_query_int(q, "limit", 1, 500, &limit) ||
	    api_query_int(q, "cursor", 1, INT64_MAX, &cursor) ||
	    period_params(q, REP_I15, 0, &d.from, &d.to))
		return;
	d.limit = (int)limit, d.before_seq = cursor;
	if (store_rep_segments(q->api->st, &d, drill_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_error(q, 503, "overloaded", "the segments cannot be read now; try again");
	}
}

void api_route_report_queue_segments(struct api_req *q)
{
	drill(q, REP_QUEUE);
}

void api_route_report_agent_segments(struct api_req *q)
{
	drill(q, REP_AGENT);
}
