/*
 * test_ctr.c — contact trace records (routing/ctr.c, docs/CTR.md).
 *
 * Two layers. The pure parts on a record alone: numbering and the chain's
 * ids, the flow's attributes as a JSON object (escapes, bytes that are not
 * UTF-8, values cut at whole characters, pairs left out when the object is
 * full, every output parsed back with jansson, random input included),
 * holds, the disconnect's first report, talk time, after-contact work, the
 * activity's summary. Then the records routing writes, against a real
 * SQLite file, driven the way call control drives routing (a recording
 * harness behind struct routing_ops, as in test_engine.c): an inbound call
 * with a missed offer and a hold, an abandoned call, a warm transfer (two
 * segments chained; the first final at its agent's Clear contact), a blind
 * transfer to a queue, a transfer that does not complete, and a restart.
 * What was committed is read back with sqlite3 on the same file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db_fx.h"

#include "routing/routing.h"
#include "routing/routing_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OF_PAIR	   (ROLE_BIT(ROLE_OPENFRAME_USER) | ROLE_BIT(ROLE_INTERACTION_AGENT))
#define MAX_UID	   16
#define MAX_EVENTS 128

/* ---- the pure parts ---- */
static void numbering_and_the_chain(void **state)
{
	struct ctr_seg s;

	(void)state;
	ctr_seg_init(&s, "INT0001234", 234, 1, "inbound", 1000);
	assert_string_equal(s.rec.contact_id, "INT0001234-1");
	assert_string_equal(s.rec.initial_contact_id, "INT0001234-1");
	assert_string_equal(s.rec.previous_contact_id, "");
	assert_string_equal(s.rec.next_contact_id, "");
	assert_string_equal(s.rec.interaction, "INT0001234");
	assert_int_equal(s.rec.interaction_id, 234);
	assert_int_equal(s.rec.segment, 1);
	assert_string_equal(s.rec.channel, "VOICE");
	assert_string_equal(s.rec.initiation_method, "inbound");
	assert_int_equal(s.rec.initiation_at, 1000);
	assert_string_equal(s.rec.attributes, "{}");
	assert_int_equal(s.held_since, 0);
	assert_false(s.ended);
	ctr_seg_init(&s, "INT0001234", 234, 3, "queue_transfer", 2000);
	assert_string_equal(s.rec.contact_id, "INT0001234-3");
	assert_string_equal(s.rec.initial_contact_id, "INT0001234-1");
	assert_string_equal(s.rec.previous_contact_id, "INT0001234-2");
	assert_string_equal(s.rec.initiation_method, "queue_transfer");
	for (int r = 0; r < CTR_REASON__N; r++)
		assert_non_null(ctr_reason_name(r));
	assert_string_equal(ctr_reason_name(CTR_REASON_NONE), "");
	assert_string_equal(ctr_reason_name(CTR_REASON_CUSTOMER), "customer");
	assert_string_equal(ctr_reason_name(CTR_REASON_AGENT), "agent");
	assert_string_equal(ctr_reason_name(CTR_REASON_SYSTEM), "system");
	assert_string_equal(ctr_reason_name(CTR_REASON_TRANSFER), "transfer");
	assert_string_equal(ctr_reason_name(CTR_REASON_THIRD_PARTY), "third_party");
	assert_string_equal(ctr_reason_name(CTR_REASON_ERROR), "error");
	assert_string_equal(ctr_reason_name(CTR_REASON__N), "");
}

/* out must parse as a JSON object; returns it (the caller decrefs). */
static json_t *parsed(const char *out)
{
	json_error_t err;
	json_t *o = json_loads(out, 0, &err);

	if (!json_is_object(o))
		fail_msg("not a JSON object: %s (%s)", out, err.text);
	return o;
}

static void attributes_as_json(void **state)
{
	const struct routing_ctr_attr a[] = {
		{"caller.number", "15550199"},
		{"caller.name", "Zoë \"Z\" O'Brien\\"},
		{"note", "two\nlines\t\x01"},
		{"bad", "a\xff"
			"b\xc0\xaf"
			"c\xed\xa0\x80"
			"d"}, /* invalid, overlong, surrogate */
		{"empty", ""},
		{NULL, NULL},
	};
	char out[ST_CTR_ATTRS];
	json_t *o;

	(void)state;
	assert_int_equal(ctr_attrs_json(out, sizeof(out), a, 6), 0);
	assert_string_equal(out, "{\"caller.number\":\"15550199\","
				 "\"caller.name\":\"Zoë \\\"Z\\\" O'Brien\\\\\","
				 "\"note\":\"two\\u000alines\\u0009\\u0001\","
				 "\"bad\":\"a?b??c???d\",\"empty\":\"\",\"\":\"\"}");
	o = parsed(out);
	assert_string_equal(json_string_value(json_object_get(o, "caller.name")),
			    "Zoë \"Z\" O'Brien\\");
	json_decref(o);
	assert_int_equal(ctr_attrs_json(out, sizeof(out), a, 0), 0);
	assert_string_equal(out, "{}");
}

static void attribute_values_are_cut_at_whole_characters(void **state)
{
	char big[600], out[ST_CTR_ATTRS];
	struct routing_ctr_attr a = {"v", big};
	json_t *o;
	size_t len;

	(void)state;
	/* 255 ASCII bytes, then a 2-byte character across the limit: left out whole */
	memset(big, 'x', 255);
	strcpy(big + 255, "é and more");
	assert_int_equal(ctr_attrs_json(out, sizeof(out), &a, 1), 0);
	o = parsed(out);
	len = strlen(json_string_value(json_object_get(o, "v")));
	assert_int_equal(len, 255);
	json_decref(o);
	/* 254 + 'é' fits exactly: 256 bytes */
	memset(big, 'x', 254);
	strcpy(big + 254, "éz");
	assert_int_equal(ctr_attrs_json(out, sizeof(out), &a, 1), 0);
	o = parsed(out);
	len = strlen(json_string_value(json_object_get(o, "v")));
	assert_int_equal(len, CTR_ATTR_VALUE_MAX);
	assert_memory_equal(json_string_value(json_object_get(o, "v")) + 254, "é", 2);
	json_decref(o);
}

static void a_full_object_leaves_pairs_out_whole(void **state)
{
	struct routing_ctr_attr a[40];
	char names[40][16], vals[40][256], out[ST_CTR_ATTRS], tiny[32];
	json_t *o;
	size_t left;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "attr%02d", i);
		memset(vals[i], 'a' + i % 26, 200);
		vals[i][200] = '\0';
		a[i] = (struct routing_ctr_attr){names[i], vals[i]};
	}
	left = ctr_attrs_json(out, sizeof(out), a, 40);
	assert_true(left > 0 && left < 40);
	assert_true(strlen(out) < sizeof(out));
	o = parsed(out);
	assert_int_equal(json_object_size(o), 40 - left);
	assert_non_null(json_object_get(o, "attr00"));
	assert_null(json_object_get(o, "attr39"));
	json_decref(o);
	/* a small one later still fits after a big one was left out */
	a[1] = (struct routing_ctr_attr){"k", "v"};
	assert_int_equal(ctr_attrs_json(tiny, sizeof(tiny), a, 2), 1);
	assert_string_equal(tiny, "{\"k\":\"v\"}");
	/* the smallest buffers */
	assert_int_equal(ctr_attrs_json(tiny, 3, a + 1, 1), 1);
	assert_string_equal(tiny, "{}");
	assert_int_equal(ctr_attrs_json(tiny, 2, a + 1, 1), 1);
	assert_string_equal(tiny, "");
	assert_int_equal(ctr_attrs_json(tiny, 0, a + 1, 1), 1);
}

/* Random bytes in random buffers: always a JSON object jansson accepts. */
static void random_attributes_always_make_valid_json(void **state)
{
	char names[4][20], vals[4][300], out[ST_CTR_ATTRS];
	struct routing_ctr_attr a[4];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t size = 3 + (size_t)(rand_r(&seed) % (sizeof(out) - 3));
		for (int i = 0; i < 4; i++) {
			size_t nl = (size_t)rand_r(&seed) % sizeof(names[i]),
			       vl = (size_t)rand_r(&seed) % sizeof(vals[i]);
			for (size_t k = 0; k < nl; k++)
				names[i][k] = (char)(1 + rand_r(&seed) % 255);
			for (size_t k = 0; k < vl; k++)
				vals[i][k] = (char)(1 + rand_r(&seed) % 255);
			names[i][nl] = vals[i][vl] = '\0';
			a[i] = (struct routing_ctr_attr){names[i], vals[i]};
		}
		ctr_attrs_json(out, size, a, 4);
		assert_true(strlen(out) < size);
		json_decref(parsed(out));
	}
}

static void holds_talk_and_the_first_disconnect(void **state)
{
	struct ctr_seg s;

	(void)state;
	ctr_seg_init(&s, "INT0001001", 1, 1, "inbound", 1000);
	s.rec.connected_to_agent_at = 2000;
	ctr_hold(&s, false, 2500); /* not on hold: nothing */
	assert_int_equal(s.rec.holds, 0);
	ctr_hold(&s, true, 3000);
	ctr_hold(&s, true, 3500); /* a repeat */
	ctr_hold(&s, false, 4000);
	ctr_hold(&s, true, 5000);
	ctr_hold(&s, false, 8000);
	assert_int_equal(s.rec.holds, 2);
	assert_int_equal(s.rec.hold_ms, 4000);
	assert_int_equal(s.rec.longest_hold_ms, 3000);
	ctr_hold(&s, true, 9000);		   /* still on at the disconnect: ends there */
	ctr_disconnect(&s, CTR_REASON_NONE, 9100); /* not a report */
	assert_int_equal(s.rec.disconnect_at, 0);
	ctr_disconnect(&s, CTR_REASON_CUSTOMER, 10000);
	ctr_disconnect(&s, CTR_REASON_AGENT, 10050); /* the first report counts */
	ctr_end(&s, CTR_REASON_SYSTEM, 10100);
	assert_true(s.ended);
	assert_int_equal(s.rec.disconnect_at, 10000);
	assert_string_equal(s.rec.disconnect_reason, "customer");
	assert_int_equal(s.rec.holds, 3);
	assert_int_equal(s.rec.hold_ms, 5000);
	assert_int_equal(s.rec.longest_hold_ms, 3000);
	assert_int_equal(s.rec.talk_ms, 10000 - 2000 - 5000);
	/* once ended, nothing moves */
	ctr_hold(&s, true, 11000);
	ctr_disconnect(&s, CTR_REASON_AGENT, 11000);
	ctr_end(&s, CTR_REASON_AGENT, 12000);
	assert_int_equal(s.rec.holds, 3);
	assert_int_equal(s.rec.disconnect_at, 10000);
	assert_int_equal(s.rec.talk_ms, 3000);

	/* no agent: no talk; a reason given at the end when none was reported */
	ctr_seg_init(&s, "INT0001002", 2, 1, "inbound", 1000);
	ctr_end(&s, CTR_REASON_SYSTEM, 5000);
	assert_int_equal(s.rec.disconnect_at, 5000);
	assert_string_equal(s.rec.disconnect_reason, "system");
	assert_int_equal(s.rec.talk_ms, 0);
	/* clock skew never makes a negative time */
	ctr_seg_init(&s, "INT0001003", 3, 1, "inbound", 1000);
	s.rec.connected_to_agent_at = 6000;
	ctr_end(&s, CTR_REASON_AGENT, 5000);
	assert_int_equal(s.rec.talk_ms, 0);
}

static void after_contact_work_ends_once(void **state)
{
	struct ctr_seg s;

	(void)state;
	ctr_seg_init(&s, "INT0001001", 1, 1, "inbound", 1000);
	ctr_acw_end(&s, "Resolved", 5000); /* never began: nothing */
	assert_int_equal(s.rec.acw_end_at, 0);
	assert_string_equal(s.rec.wrap_up_code, "");
	s.rec.acw_start_at = 6000;
	ctr_acw_end(&s, "Resolved", 9500);
	ctr_acw_end(&s, "Other", 12000);
	assert_int_equal(s.rec.acw_end_at, 9500);
	assert_int_equal(s.rec.acw_ms, 3500);
	assert_string_equal(s.rec.wrap_up_code, "Resolved");
}

static void the_summary_says_it_in_one_line(void **state)
{
	struct ctr_seg s;
	char buf[480];

	(void)state;
	ctr_seg_init(&s, "INT0001001", 1, 1, "inbound", 1000);
	ctr_end(&s, CTR_REASON_SYSTEM, 2000);
	ctr_summary(&s.rec, buf, sizeof(buf));
	assert_string_equal(buf, "Contact trace record INT0001001-1 (inbound); disconnect: system");
	ctr_seg_init(&s, "INT0001001", 1, 2, "queue_transfer", 1000);
	str_copy(s.rec.queue, "Billing", sizeof(s.rec.queue));
	s.rec.queue_ms = 12400;
	str_copy(s.rec.agent, "beth", sizeof(s.rec.agent));
	s.rec.talk_ms = 40600, s.rec.hold_ms = 5000, s.rec.holds = 1, s.rec.acw_ms = 8000;
	str_copy(s.rec.wrap_up_code, "Refund issued", sizeof(s.rec.wrap_up_code));
	s.rec.missed_offers = 2;
	str_copy(s.rec.transfer_type, "agent", sizeof(s.rec.transfer_type));
	str_copy(s.rec.transferred_to, "ned", sizeof(s.rec.transferred_to));
	str_copy(s.rec.disconnect_reason, "transfer", sizeof(s.rec.disconnect_reason));
	ctr_summary(&s.rec, buf, sizeof(buf));
	assert_string_equal(buf,
			    "Contact trace record INT0001001-2 (queue_transfer): queue Billing, "
			    "waited 12 s; agent beth, talk 41 s, hold 5 s (1), after-call work "
			    "8 s, wrap-up Refund issued; missed offers 2; transferred to agent "
			    "ned; disconnect: transfer");
	ctr_summary(&s.rec, buf, 20); /* cut, terminated */
	assert_int_equal(strlen(buf), 19);
}

/* ---- the records routing writes (a real store) ---- */
struct seen {
	enum routing_event_kind kind;
	char user[ST_NAME];
	char interaction[ST_NUMBER];
	char contact[ST_CTR_ID];
	char reason[16];
};

struct fx {
	char dir[64];
	char db[128];
	uv_loop_t loop;
	struct store *st;
	struct routing *r;
	char offers[512]; /* "ix>user;..." */
	struct seen ev[MAX_EVENTS];
	size_t n_ev;
};

static bool h_ready(void *arg, const struct user *u)
{
	(void)arg, (void)u;
	return true;
}

static int h_offer(void *arg, int64_t ix_id, struct user *u)
{
	struct fx *fx = arg;
	size_t len = strlen(fx->offers);

	snprintf(fx->offers + len, sizeof(fx->offers) - len, "%s%lld>%s", len ? ";" : "",
		 (long long)ix_id, user_record(u)->user_name);
	return 0;
}

static void h_offer_cancel(void *arg, int64_t ix_id, struct user *u)
{
	(void)arg, (void)ix_id, (void)u;
}

static const struct routing_ops harness_ops = {h_ready, h_offer, h_offer_cancel};

static void on_event(const struct routing_event *ev, void *arg)
{
	struct fx *fx = arg;
	struct seen *s;

	assert_true(fx->n_ev < MAX_EVENTS);
	s = &fx->ev[fx->n_ev++];
	memset(s, 0, sizeof(*s));
	s->kind = ev->kind;
	str_copy(s->user, ev->user ? user_record(ev->user)->user_name : "", sizeof(s->user));
	str_copy(s->interaction, ev->interaction, sizeof(s->interaction));
	if (ev->kind == RT_EV_CTR) { /* the record rides with the event */
		assert_non_null(ev->ctr);
		str_copy(s->contact, ev->ctr->contact_id, sizeof(s->contact));
		str_copy(s->reason, ev->ctr->disconnect_reason, sizeof(s->reason));
		assert_string_equal(ev->reason, ev->ctr->contact_id);
	} else {
		assert_null(ev->ctr);
	}
}

static void fx_settle(struct fx *fx)
{
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(store_pending(fx->st), 0);
}

static void fx_open(struct fx *fx)
{
	struct config cfg;
	struct st_snapshot snap;

	config_defaults(&cfg);
	str_copy(cfg.store_path, fx->db, sizeof(cfg.store_path));
	cfg.store_readers = 1;
	assert_int_equal(store_open(&fx->st, &fx->loop, &cfg), 0);
	assert_int_equal(store_load(fx->st, &snap), 0);
	assert_int_equal(routing_alloc(&fx->r, &fx->loop, fx->st, true, &snap), 0);
	store_snapshot_free(&snap);
	routing_event_handler_set(fx->r, on_event, fx);
	routing_ops_set(fx->r, &harness_ops, fx);
	routing_timeouts_set(fx->r, 15000, 0);
}

static void fx_close(struct fx *fx)
{
	fx_settle(fx);
	routing_close(fx->r);
	fx_settle(fx);
	routing_free(fx->r);
	store_close(fx->st);
	fx->r = NULL, fx->st = NULL;
}

static struct user *U(struct fx *fx, const char *name)
{
	struct user *u = routing_user_find(fx->r, name);

	assert_non_null(u);
	return u;
}

static void user_make(struct fx *fx, const char *name)
{
	struct st_user rec = {.active = true};
	struct user *u = NULL;

	str_copy(rec.user_name, name, sizeof(rec.user_name));
	snprintf(rec.name, sizeof(rec.name), "Agent %s", name);
	str_copy(rec.password_hash, "not-a-real-hash", sizeof(rec.password_hash));
	assert_int_equal(routing_user_create(fx->r, &rec, OF_PAIR, NULL, NULL, &u), 0);
}

/* Support (id 1): ned, beth; Billing (id 2): beth. */
static void queues_make(struct fx *fx)
{
	struct st_queue q = {.sl_threshold_s = 20};
	const struct user *ned = U(fx, "ned"), *beth = U(fx, "beth");
	struct user *both[] = {(struct user *)ned, (struct user *)beth};
	struct queue_member_list m = {both, NULL, 2};
	int64_t id;

	str_copy(q.name, "Support", sizeof(q.name));
	assert_int_equal(routing_queue_create(fx->r, &q, &m, NULL, NULL, &id), 0);
	str_copy(q.name, "Billing", sizeof(q.name));
	m.users = both + 1, m.n = 1;
	assert_int_equal(routing_queue_create(fx->r, &q, &m, NULL, NULL, &id), 0);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	str_copy(fx->dir, "/tmp/sb_test_ctr.XXXXXX", sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/switchboard.db", fx->dir);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx_open(fx);
	user_make(fx, "ned");
	user_make(fx, "beth");
	queues_make(fx);
	fx_settle(fx);
	fx->n_ev = 0;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	fx_close(fx);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	dbfx_remove(fx->dir, fx->db);
	free(fx);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- steps ---- */
static void available(struct fx *fx, const char *name)
{
	usleep(2000); /* idle times differ */
	assert_int_equal(
		routing_presence_request(fx->r, U(fx, name), PRES_AVAILABLE, "", name, NULL, NULL),
		0);
	fx_settle(fx);
}

static int64_t call_in(struct fx *fx, const char *queue)
{
	int64_t ix = 0;

	assert_int_equal(routing_ix_open(fx->r, "inbound", "+1 555 0199", &ix), 0);
	assert_int_equal(routing_ctr_endpoint(fx->r, ix, "5000"), 0);
	usleep(5000);
	assert_int_equal(routing_ix_enqueue(fx->r, ix, routing_queue_id(fx->r, queue), 0), 0);
	fx_settle(fx); /* dispatch: offers */
	return ix;
}

static void clear(struct fx *fx, const char *name, const char *code)
{
	assert_int_equal(routing_agent_clear_code(fx->r, U(fx, name), code, "", name, NULL, NULL),
			 0);
	fx_settle(fx);
}

/* One field of a record, as text ("" when there is no such record). */
static void field(struct fx *fx, const char *contact, const char *expr, char *out, size_t size)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "SELECT %s FROM ctr WHERE contact_id='%s'", expr, contact);
	dbfx_rows(fx->db, sql, out, size);
}

static int64_t num(struct fx *fx, const char *contact, const char *expr)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "SELECT %s FROM ctr WHERE contact_id='%s'", expr, contact);
	return dbfx_int(fx->db, sql);
}

static int64_t count(struct fx *fx, const char *sql)
{
	return dbfx_int(fx->db, sql);
}

static size_t ctr_events(const struct fx *fx, const char **contacts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < fx->n_ev; i++)
		if (fx->ev[i].kind == RT_EV_CTR && n < max)
			contacts[n++] = fx->ev[i].contact;
	return n;
}

static void an_inbound_call_with_a_missed_offer_and_a_hold(void **state)
{
	struct fx *fx = *state;
	const char *seen[4];
	char buf[600];
	int64_t ix;

	available(fx, "ned");
	available(fx, "beth"); /* ned is idle longer: offered first */
	ix = call_in(fx, "Support");
	assert_string_equal(fx->offers, "1>ned");
	assert_int_equal(routing_offer_missed(fx->r, ix, U(fx, "ned"), "rejected"), 0);
	fx_settle(fx);
	assert_string_equal(fx->offers, "1>ned;1>beth");
	usleep(3000);
	assert_int_equal(routing_offer_answered(fx->r, ix, U(fx, "beth")), 0);
	assert_int_equal(routing_ctr_hold(fx->r, ix, true), 0);
	usleep(20000);
	assert_int_equal(routing_ctr_hold(fx->r, ix, false), 0);
	usleep(10000);
	assert_int_equal(routing_ctr_disconnect(fx->r, ix, CTR_REASON_CUSTOMER), 0);
	assert_int_equal(routing_ix_caller_gone(fx->r, ix), 0);
	assert_int_equal(routing_agent_call_ended(fx->r, U(fx, "beth")), 0);
	fx_settle(fx);
	/* written when the call ended: not final (no activity, no event) */
	field(fx, "INT0001001-1", "disconnect_reason||'|'||(acw_start_at>0)||'|'||acw_end_at", buf,
	      sizeof(buf));
	assert_string_equal(buf, "customer|1|0");
	assert_int_equal(count(fx, "SELECT count(*) FROM activity WHERE kind='ctr'"), 0);
	assert_int_equal(ctr_events(fx, seen, 4), 0);
	usleep(5000);
	clear(fx, "beth", "Resolved");

	field(fx, "INT0001001-1",
	      "interaction_id||'|'||segment||'|'||initial_contact_id||'|'||previous_contact_id||'|'"
	      "||"
	      "next_contact_id||'|'||channel||'|'||initiation_method||'|'||customer_endpoint||'|'||"
	      "system_endpoint||'|'||transfer_type||'|'||transferred_to||'|'||queue||'|'||agent||'|"
	      "'"
	      "||agent_name||'|'||holds||'|'||wrap_up_code||'|'||connection_attempts||'|'||"
	      "missed_offers||'|'||intent||'|'||recording||'|'||disconnect_reason||'|'||attributes",
	      buf, sizeof(buf));
	assert_string_equal(buf, "1|1|INT0001001-1|||VOICE|inbound|+15550199|5000|||Support|beth|"
				 "Agent beth|1|Resolved|2|1|||customer|{}");
	/* the times, in order */
	assert_int_equal(num(fx, "INT0001001-1", "initiation_at=connected_to_system_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "enqueue_at>initiation_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "dequeue_at>enqueue_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "queue_ms=dequeue_at-enqueue_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "connected_to_agent_at>=dequeue_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "hold_ms>=20 AND longest_hold_ms=hold_ms"), 1);
	assert_int_equal(
		num(fx, "INT0001001-1", "talk_ms=disconnect_at-connected_to_agent_at-hold_ms"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "acw_start_at>=disconnect_at"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "acw_ms=acw_end_at-acw_start_at AND acw_ms>0"), 1);
	assert_int_equal(num(fx, "INT0001001-1", "last_update_at=acw_end_at"), 1);
	/* the interaction's sums */
	assert_int_equal(
		count(fx, "SELECT count(*) FROM interactions i JOIN ctr c ON "
			  "c.interaction_id=i.id WHERE i.talk_ms=c.talk_ms AND "
			  "i.hold_ms=c.hold_ms AND i.queue_ms=c.queue_ms AND i.acw_ms=c.acw_ms "
			  "AND i.wrap_up_code='Resolved'"),
		1);
	/* final: one activity entry, one event with the record */
	dbfx_rows(fx->db, "SELECT text FROM activity WHERE kind='ctr'", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Contact trace record INT0001001-1 (inbound): queue Support"));
	assert_non_null(strstr(buf, "agent beth"));
	assert_non_null(strstr(buf, "(1), after-call work"));
	assert_non_null(strstr(buf, "wrap-up Resolved; missed offers 1; disconnect: customer"));
	assert_int_equal(ctr_events(fx, seen, 4), 1);
	assert_string_equal(seen[0], "INT0001001-1");
	for (size_t i = 0; i < fx->n_ev; i++)
		if (fx->ev[i].kind == RT_EV_CTR)
			assert_string_equal(fx->ev[i].user, "beth");
}

static void an_abandoned_call_is_final_when_it_closes(void **state)
{
	struct fx *fx = *state;
	const char *seen[2];
	char buf[300];
	int64_t ix = call_in(fx, "Support"); /* nobody Available */

	usleep(10000);
	assert_int_equal(routing_ctr_disconnect(fx->r, ix, CTR_REASON_CUSTOMER), 0);
	assert_int_equal(routing_ix_caller_gone(fx->r, ix), 0);
	fx_settle(fx);
	field(fx, "INT0001001-1",
	      "queue||'|'||agent||'|'||connection_attempts||'|'||disconnect_reason||'|'||"
	      "(queue_ms>=10)||'|'||(dequeue_at=disconnect_at)||'|'||"
	      "(last_update_at-disconnect_at BETWEEN 0 AND 100)",
	      buf, sizeof(buf));
	assert_string_equal(buf, "Support||0|customer|1|1|1");
	assert_int_equal(ctr_events(fx, seen, 2), 1);
	/* closed: what call control reports now finds nothing open */
	assert_int_equal(routing_ctr_hold(fx->r, ix, true), CC_ENOTFOUND);
	assert_int_equal(routing_ctr_endpoint(fx->r, ix, "x"), CC_ENOTFOUND);
	assert_int_equal(routing_ctr_disconnect(fx->r, ix, CTR_REASON_AGENT), CC_ENOTFOUND);
	assert_int_equal(routing_ctr_transferred(fx->r, ix, "1"), CC_ENOTFOUND);
	assert_int_equal(routing_ctr_flow(fx->r, ix, NULL, NULL, 0), CC_ENOTFOUND);
}

/* Ned has Amy's call (answered from Support). */
static int64_t ned_has_a_call(struct fx *fx)
{
	int64_t ix;
	const struct routing_ctr_attr a[] = {{"caller.name", "Amy"}, {"intent", "agent"}};

	available(fx, "ned");
	ix = call_in(fx, "Support");
	assert_int_equal(routing_offer_answered(fx->r, ix, U(fx, "ned")), 0);
	assert_int_equal(routing_ctr_flow(fx->r, ix, "agent", a, 2), 0);
	assert_int_equal(routing_ix_recorded(fx->r, ix), 0);
	fx_settle(fx);
	return ix;
}

static void a_warm_transfer_is_two_segments_chained(void **state)
{
	struct fx *fx = *state;
	const char *seen[4];
	char buf[600];
	int64_t ix = ned_has_a_call(fx);

	available(fx, "beth");
	usleep(5000);
	assert_int_equal(routing_transfer_begin(fx->r, ix, U(fx, "ned"), U(fx, "beth"), "Transfer"),
			 0);
	usleep(5000);
	assert_int_equal(routing_transfer_accepted(fx->r, ix, U(fx, "beth")), 0);
	usleep(5000);
	assert_int_equal(routing_transfer_reassign(fx->r, ix, U(fx, "ned"), U(fx, "beth")), 0);
	fx_settle(fx);
	/* Ned's segment is written at the reassignment; his wrap-up is open */
	field(fx, "INT0001001-1",
	      "next_contact_id||'|'||disconnect_reason||'|'||transfer_type||'|'||transferred_to||'|"
	      "'"
	      "||agent||'|'||(acw_start_at=disconnect_at)||'|'||acw_end_at",
	      buf, sizeof(buf));
	assert_string_equal(buf, "INT0001001-2|transfer|agent|beth|ned|1|0");
	assert_int_equal(count(fx, "SELECT count(*) FROM ctr"), 1);
	assert_int_equal(ctr_events(fx, seen, 4), 0);
	/* his Clear contact makes it final (the interaction is Beth's, open) */
	usleep(5000);
	clear(fx, "ned", "Escalated");
	assert_int_equal(ctr_events(fx, seen, 4), 1);
	assert_string_equal(seen[0], "INT0001001-1");
	field(fx, "INT0001001-1", "wrap_up_code||'|'||(acw_end_at>acw_start_at)", buf, sizeof(buf));
	assert_string_equal(buf, "Escalated|1");
	/* Beth's part ends; her Clear contact closes the interaction */
	usleep(5000);
	assert_int_equal(routing_ctr_disconnect(fx->r, ix, CTR_REASON_CUSTOMER), 0);
	assert_int_equal(routing_ix_caller_gone(fx->r, ix), 0);
	assert_int_equal(routing_agent_call_ended(fx->r, U(fx, "beth")), 0);
	fx_settle(fx);
	clear(fx, "beth", "Resolved");
	assert_int_equal(ctr_events(fx, seen, 4), 2);
	assert_string_equal(seen[1], "INT0001001-2");

	dbfx_rows(fx->db,
		  "SELECT contact_id||'|'||initial_contact_id||'|'||previous_contact_id||'|'||"
		  "next_contact_id||'|'||initiation_method||'|'||queue||'|'||agent||'|'||"
		  "disconnect_reason||'|'||wrap_up_code||'|'||connection_attempts||'|'||intent||'|'"
		  "||attributes||'|'||recording||'|'||customer_endpoint||'|'||system_endpoint "
		  "FROM ctr ORDER BY segment",
		  buf, sizeof(buf));
	assert_string_equal(
		buf,
		"INT0001001-1|INT0001001-1||INT0001001-2|inbound|Support|ned|transfer|Escalated|"
		"1|agent|{\"caller.name\":\"Amy\",\"intent\":\"agent\"}|"
		"/api/v1/interactions/INT0001001/recording|+15550199|5000;"
		"INT0001001-2|INT0001001-1|INT0001001-1||transfer||beth|customer|Resolved|1|"
		"agent|{\"caller.name\":\"Amy\",\"intent\":\"agent\"}|"
		"/api/v1/interactions/INT0001001/recording|+15550199|5000");
	/* Beth's began with the transfer, connected when she answered, before Ned left */
	assert_int_equal(
		count(fx,
		      "SELECT (b.initiation_at<b.connected_to_agent_at) AND "
		      "(b.connected_to_agent_at<a.disconnect_at) AND (b.initiation_at>a."
		      "connected_to_agent_at) AND b.connected_to_system_at=b.initiation_at FROM "
		      "ctr a, ctr b WHERE a.segment=1 AND b.segment=2"),
		1);
	assert_int_equal(count(fx, "SELECT count(*) FROM ctr WHERE talk_ms=disconnect_at-"
				   "connected_to_agent_at AND acw_ms=acw_end_at-acw_start_at"),
			 2);
	/* the sums over both */
	assert_int_equal(count(fx, "SELECT i.talk_ms=(SELECT sum(talk_ms) FROM ctr) AND "
				   "i.acw_ms=(SELECT sum(acw_ms) FROM ctr) FROM interactions i"),
			 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM activity WHERE kind='ctr'"), 2);
}

static void a_blind_transfer_to_a_queue_begins_the_queues_segment(void **state)
{
	struct fx *fx = *state;
	char buf[600];
	int64_t ix = ned_has_a_call(fx);
	int64_t billing = routing_queue_id(fx->r, "Billing");

	usleep(5000);
	assert_int_equal(routing_transfer_enqueue(fx->r, ix, billing, U(fx, "ned"), "to Billing"),
			 0);
	assert_int_equal(routing_transfer_unassign(fx->r, ix, U(fx, "ned"), "Ned left"), 0);
	fx_settle(fx);
	field(fx, "INT0001001-1", "disconnect_reason||'|'||transfer_type||'|'||transferred_to", buf,
	      sizeof(buf));
	assert_string_equal(buf, "transfer|queue|Billing");
	usleep(10000);
	available(fx, "beth"); /* the queue offers it to her (never back to Ned) */
	assert_string_equal(fx->offers, "1>ned;1>beth");
	assert_int_equal(routing_transfer_missed(fx->r, ix, U(fx, "beth"), "missed", "no answer"),
			 0);
	fx_settle(fx);
	available(fx, "beth");
	assert_string_equal(fx->offers, "1>ned;1>beth;1>beth");
	usleep(3000);
	assert_int_equal(routing_transfer_accepted(fx->r, ix, U(fx, "beth")), 0);
	assert_int_equal(routing_transfer_reassign(fx->r, ix, U(fx, "ned"), U(fx, "beth")), 0);
	assert_int_equal(routing_ix_caller_gone(fx->r, ix), 0);
	assert_int_equal(routing_agent_call_ended(fx->r, U(fx, "beth")), 0);
	fx_settle(fx);
	clear(fx, "beth", "");
	clear(fx, "ned", "");
	field(fx, "INT0001001-2",
	      "previous_contact_id||'|'||next_contact_id||'|'||initiation_method||'|'||queue||'|'"
	      "||agent||'|'||connection_attempts||'|'||missed_offers||'|'||disconnect_reason",
	      buf, sizeof(buf));
	assert_string_equal(buf, "INT0001001-1||queue_transfer|Billing|beth|2|1|customer");
	assert_int_equal(num(fx, "INT0001001-2",
			     "enqueue_at=initiation_at AND queue_ms>=10 AND "
			     "queue_ms=dequeue_at-enqueue_at AND "
			     "connected_to_agent_at>=dequeue_at"),
			 1);
	assert_int_equal(count(fx, "SELECT count(*) FROM ctr"), 2);
	assert_int_equal(count(fx, "SELECT count(*) FROM activity WHERE kind='ctr'"), 2);
}

static void a_transfer_that_does_not_complete_makes_no_segment(void **state)
{
	struct fx *fx = *state;
	char buf[300];
	int64_t ix = ned_has_a_call(fx);

	available(fx, "beth");
	/* missed: no next segment; cancelled after an answer: none either */
	assert_int_equal(routing_transfer_begin(fx->r, ix, U(fx, "ned"), U(fx, "beth"), "t"), 0);
	assert_int_equal(routing_transfer_missed(fx->r, ix, U(fx, "beth"), "missed", "rejected"),
			 0);
	fx_settle(fx);
	available(fx, "beth");
	assert_int_equal(routing_transfer_begin(fx->r, ix, U(fx, "ned"), U(fx, "beth"), "t"), 0);
	assert_int_equal(routing_transfer_accepted(fx->r, ix, U(fx, "beth")), 0);
	assert_int_equal(routing_transfer_dropped(fx->r, ix, U(fx, "beth"), "ned", "cancelled"), 0);
	fx_settle(fx);
	clear(fx, "beth", ""); /* her part: no record */
	assert_int_equal(routing_ix_caller_gone(fx->r, ix), 0);
	assert_int_equal(routing_agent_call_ended(fx->r, U(fx, "ned")), 0);
	fx_settle(fx);
	clear(fx, "ned", "Resolved");
	dbfx_rows(fx->db,
		  "SELECT contact_id||'|'||next_contact_id||'|'||agent||'|'||disconnect_reason||'|'"
		  "||transfer_type FROM ctr",
		  buf, sizeof(buf));
	assert_string_equal(buf, "INT0001001-1||ned|customer|");
}

static void a_restart_settles_what_was_left_open(void **state)
{
	struct fx *fx = *state;
	char buf[400];

	assert_int_equal(ned_has_a_call(fx), 1);     /* INT0001001: Ned on it */
	assert_int_equal(call_in(fx, "Support"), 2); /* INT0001002 waits: nobody else */
	/* a crash: nothing more written; start again and recover */
	routing_close(fx->r);
	fx_settle(fx);
	routing_free(fx->r);
	store_close(fx->st);
	fx_open(fx);
	assert_int_equal(routing_recover(fx->r), 0);
	fx_settle(fx);
	field(fx, "INT0001002-1",
	      "initiation_method||'|'||queue||'|'||agent||'|'||disconnect_reason||'|'||"
	      "(disconnect_at>0)||'|'||(last_update_at=disconnect_at)",
	      buf, sizeof(buf));
	assert_string_equal(buf, "inbound|Support||system|1|1");
	/* Ned's call: written with his wrap-up starting, final at his Clear contact */
	field(fx, "INT0001001-1",
	      "agent||'|'||disconnect_reason||'|'||(acw_start_at>0)||'|'||acw_end_at", buf,
	      sizeof(buf));
	assert_string_equal(buf, "ned|system|1|0");
	assert_int_equal(count(fx, "SELECT count(*) FROM activity WHERE kind='ctr'"), 1);
	clear(fx, "ned", "Resolved");
	field(fx, "INT0001001-1", "wrap_up_code||'|'||(acw_end_at>=acw_start_at)", buf,
	      sizeof(buf));
	assert_string_equal(buf, "Resolved|1");
	assert_int_equal(count(fx, "SELECT count(*) FROM activity WHERE kind='ctr'"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbering_and_the_chain),
		cmocka_unit_test(attributes_as_json),
		cmocka_unit_test(attribute_values_are_cut_at_whole_characters),
		cmocka_unit_test(a_full_object_leaves_pairs_out_whole),
		cmocka_unit_test(random_attributes_always_make_valid_json),
		cmocka_unit_test(holds_talk_and_the_first_disconnect),
		cmocka_unit_test(after_contact_work_ends_once),
		cmocka_unit_test(the_summary_says_it_in_one_line),
		cmocka_unit_test_setup_teardown(an_inbound_call_with_a_missed_offer_and_a_hold,
						setup, teardown),
		cmocka_unit_test_setup_teardown(an_abandoned_call_is_final_when_it_closes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_warm_transfer_is_two_segments_chained, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_blind_transfer_to_a_queue_begins_the_queues_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(a_transfer_that_does_not_complete_makes_no_segment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_restart_settles_what_was_left_open, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
