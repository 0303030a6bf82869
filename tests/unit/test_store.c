/*
 * test_store.c — the SQLite backend's reads that no other suite covers,
 * against a real file: which case the bot talks about (case_latest), and
 * the records (contacts, consumers, cases, incidents): numbering, partial
 * updates, refused writes that change nothing, search by phone, a case's
 * contact's phones, caller identification, the asynchronous front's
 * click-to-call target on a real loop, contact trace records (every field
 * round-trips; the interaction's sums follow every write); the webhooks'
 * outbox (migration 012):
 * the fan-out to active webhooks that take the type, in the writer's order,
 * fetching after a cursor, outcomes, the purge, a delete's cascade, the
 * snapshot, and store_write's own copy of an event's body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

#include "db_fx.h"

struct fx {
	char dir[64], path[128];
	void *be;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/sb-test-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sb.db", fx->dir);
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 1), 0);
	dbfx_exec(fx->path, "INSERT INTO users(id,user_name,name,password_hash,created_at,"
			    "mobile_phone,business_phone) VALUES (7,'amy','Amy','x',0,"
			    "'+1 555 0199',''),(8,'bob','Bob','x',0,'','')");
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

static void case_put(struct fx *fx, const char *number, int64_t contact, const char *state,
		     int64_t updated)
{
	struct store_op op = {.kind = STORE_OP_CASE_SET};

	str_copy(op.u.kase.number, number, sizeof(op.u.kase.number));
	op.u.kase.contact_user_id = contact;
	str_copy(op.u.kase.short_description, "Router drops", sizeof(op.u.kase.short_description));
	str_copy(op.u.kase.state, state, sizeof(op.u.kase.state));
	op.u.kase.opened_at = 1;
	op.u.kase.updated_at = updated;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

/* ---- contact trace records (STORE_OP_CTR_SET, ctr_list) ---- */
/* A record with every field set to something of its own. */
static void ctr_make(struct st_ctr *c, int segment, int64_t base)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->contact_id, sizeof(c->contact_id), "INT0001001-%d", segment);
	str_copy(c->initial_contact_id, "INT0001001-1", sizeof(c->initial_contact_id));
	if (segment > 1)
		snprintf(c->previous_contact_id, sizeof(c->previous_contact_id), "INT0001001-%d",
			 segment - 1);
	snprintf(c->next_contact_id, sizeof(c->next_contact_id), "next-%d", segment);
	c->interaction_id = 1;
	str_copy(c->interaction, "INT0001001", sizeof(c->interaction));
	c->segment = segment;
	str_copy(c->channel, "VOICE", sizeof(c->channel));
	str_copy(c->initiation_method, segment > 1 ? "transfer" : "inbound",
		 sizeof(c->initiation_method));
	str_copy(c->customer_endpoint, "+15550199", sizeof(c->customer_endpoint));
	str_copy(c->system_endpoint, "5000", sizeof(c->system_endpoint));
	str_copy(c->transfer_type, "agent", sizeof(c->transfer_type));
	str_copy(c->transferred_to, "beth", sizeof(c->transferred_to));
	c->initiation_at = base + 1, c->connected_to_system_at = base + 2;
	c->disconnect_at = base + 3, c->last_update_at = base + 4;
	c->queue_id = 2;
	str_copy(c->queue, "Support", sizeof(c->queue));
	c->enqueue_at = base + 5, c->dequeue_at = base + 6, c->queue_ms = base + 7;
	c->agent_user_id = 7;
	str_copy(c->agent, "amy", sizeof(c->agent));
	str_copy(c->agent_name, "Amy", sizeof(c->agent_name));
	c->connected_to_agent_at = base + 8, c->talk_ms = base + 9, c->hold_ms = base + 10;
	c->longest_hold_ms = base + 11, c->holds = 3;
	c->acw_start_at = base + 12, c->acw_end_at = base + 13, c->acw_ms = base + 14;
	str_copy(c->wrap_up_code, "Resolved", sizeof(c->wrap_up_code));
	c->connection_attempts = 4, c->missed_offers = 2;
	str_copy(c->intent, "status", sizeof(c->intent));
	str_copy(c->recording, "/api/v1/interactions/INT0001001/recording", sizeof(c->recording));
	str_copy(c->disconnect_reason, "customer", sizeof(c->disconnect_reason));
	str_copy(c->attributes, "{\"caller.name\":\"Amy\"}", sizeof(c->attributes));
}

static void ctr_put(struct fx *fx, const struct st_ctr *c)
{
	struct store_op op = {.kind = STORE_OP_CTR_SET};

	op.u.ctr = *c;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

static void contact_trace_records_round_trip_and_sum_into_the_interaction(void **state)
{
	struct fx *fx = *state;
	struct store_ctr_list l = {0};
	struct store_ix_detail d = {0};
	struct st_ctr c[2];

	dbfx_exec(fx->path, "INSERT INTO interactions(id,number,type,direction,state,opened_at) "
			    "VALUES (1,'INT0001001','phone','inbound','work_in_progress',1)");
	ctr_make(&c[1], 2, 2000); /* written out of order: read by segment */
	ctr_put(fx, &c[1]);
	ctr_make(&c[0], 1, 1000);
	c[0].acw_end_at = 0; /* written at the reassignment, */
	ctr_put(fx, &c[0]);
	ctr_make(&c[0], 1, 1000); /* then replaced when final */
	ctr_put(fx, &c[0]);
	assert_int_equal(store_backend_sqlite.ctr_list(fx->be, "INT0001001", &l), 0);
	assert_true(l.found);
	assert_string_equal(l.ix.number, "INT0001001");
	assert_int_equal(l.n, 2);
	/* every field, byte for byte */
	assert_memory_equal(&l.rows[0], &c[0], sizeof(c[0]));
	assert_memory_equal(&l.rows[1], &c[1], sizeof(c[1]));
	/* the interaction's sums: recomputed by every write, read with it */
	assert_int_equal(l.ix.talk_ms, 1009 + 2009);
	assert_int_equal(l.ix.hold_ms, 1010 + 2010);
	assert_int_equal(l.ix.queue_ms, 1007 + 2007);
	assert_int_equal(l.ix.acw_ms, 1014 + 2014);
	free(l.rows);
	assert_int_equal(store_backend_sqlite.ix_get(fx->be, "INT0001001", &d), 0);
	assert_int_equal(d.ix.talk_ms, 3018);
	free(d.activity);
	free(d.conversations);
	/* an interaction update leaves them alone */
	{
		struct store_op op = {.kind = STORE_OP_INTERACTION_UPDATE};
		op.u.interaction = d.ix;
		op.u.interaction.talk_ms = 0;
		str_copy(op.u.interaction.state, "closed_complete", sizeof(op.u.interaction.state));
		assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	}
	assert_int_equal(dbfx_int(fx->path, "SELECT talk_ms FROM interactions WHERE id=1"), 3018);
	/* an interaction without records; none at all */
	dbfx_exec(fx->path, "INSERT INTO interactions(id,number,type,direction,state,opened_at) "
			    "VALUES (2,'INT0001002','phone','inbound','new',1)");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_backend_sqlite.ctr_list(fx->be, "INT0001002", &l), 0);
	assert_true(l.found);
	assert_int_equal(l.n, 0);
	free(l.rows);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_backend_sqlite.ctr_list(fx->be, "INT9999999", &l), 0);
	assert_false(l.found);
	assert_int_equal(l.n, 0);
}

/* The open case updated last wins; a Closed one only when nothing is open. */
static void the_latest_open_case_is_the_one_to_talk_about(void **state)
{
	struct fx *fx = *state;
	struct st_case c;
	bool found = true;

	assert_int_equal(store_backend_sqlite.case_latest(fx->be, 7, &c, &found), 0);
	assert_false(found);
	case_put(fx, "CS0000001", 7, "Closed", 500);
	assert_int_equal(store_backend_sqlite.case_latest(fx->be, 7, &c, &found), 0);
	assert_true(found);
	assert_string_equal(c.number, "CS0000001");
	case_put(fx, "CS0000002", 7, "In Progress", 100);
	case_put(fx, "CS0000003", 7, "New", 50);
	case_put(fx, "CS0000004", 8, "New", 900); /* bob's */
	assert_int_equal(store_backend_sqlite.case_latest(fx->be, 7, &c, &found), 0);
	assert_true(found);
	assert_string_equal(c.number, "CS0000002");
	assert_string_equal(c.state, "In Progress");
	assert_string_equal(c.short_description, "Router drops");
	assert_int_equal(c.contact_user_id, 7);
	/* an update moves it: CS0000003 is now the latest open one */
	case_put(fx, "CS0000003", 7, "On Hold", 200);
	assert_int_equal(store_backend_sqlite.case_latest(fx->be, 7, &c, &found), 0);
	assert_string_equal(c.number, "CS0000003");
	assert_string_equal(c.state, "On Hold");
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM cases"), 4);
}

/* A case for a user that does not exist is refused by the foreign key. */
static void a_case_needs_an_existing_contact(void **state)
{
	struct fx *fx = *state;
	struct store_op op = {.kind = STORE_OP_CASE_SET};

	str_copy(op.u.kase.number, "CS0000009", sizeof(op.u.kase.number));
	op.u.kase.contact_user_id = 99;
	str_copy(op.u.kase.state, "New", sizeof(op.u.kase.state));
	assert_int_not_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM cases"), 0);
}

/* ---- records ---- */
static int rec_put(struct fx *fx, enum store_op_kind kind, const struct st_record_write *w,
		   char *number)
{
	struct store_op op = {.kind = kind};

	op.u.rec = *w;
	op.u.rec.out_number = number;
	return store_backend_sqlite.apply(fx->be, &op, 1);
}

static void person(struct st_record_write *w, enum st_table t, const char *name, const char *mobile,
		   const char *business)
{
	memset(w, 0, sizeof(*w));
	w->table = t;
	w->set = ~0u;
	w->at = 1000;
	str_copy(w->name, name, sizeof(w->name));
	str_copy(w->mobile_phone, mobile, sizeof(w->mobile_phone));
	str_copy(w->business_phone, business, sizeof(w->business_phone));
}

static void ticket(struct st_record_write *w, enum st_table t, const char *what,
		   enum st_table party, const char *key)
{
	memset(w, 0, sizeof(*w));
	w->table = t;
	w->set = ~0u;
	w->at = 2000;
	str_copy(w->short_description, what, sizeof(w->short_description));
	str_copy(w->state, "New", sizeof(w->state));
	w->party_table = party;
	str_copy(w->party_key, key, sizeof(w->party_key));
}

static void get_one(struct fx *fx, enum st_table t, const char *key, struct st_record *r)
{
	bool found = false;

	assert_int_equal(store_backend_sqlite.rec_get(fx->be, t, key, r, &found), 0);
	assert_true(found);
}

/* Numbers come from the table's highest; digits are stored for search. */
static void records_are_numbered_by_the_store(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	char n1[ST_NUMBER] = "", n2[ST_NUMBER] = "", n3[ST_NUMBER] = "";

	person(&w, ST_T_CONTACT, "Paula", "+1 (555) 0140", "");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, n1), 0);
	assert_string_equal(n1, "CON0001001");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, n2), 0);
	assert_string_equal(n2, "CON0001002");
	assert_int_equal(dbfx_int(fx->path, "SELECT mobile_digits FROM contacts WHERE id=1"),
			 15550140);
	person(&w, ST_T_CONSUMER, "Connie", "", "0015550150");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, n3), 0);
	assert_string_equal(n3, "CSM0001001");
	assert_int_equal(dbfx_int(fx->path, "SELECT business_digits FROM consumers"), 15550150);
	/* cases continue from the highest number already there */
	case_put(fx, "CS0001007", 7, "Closed", 1);
	ticket(&w, ST_T_CASE, "Broken", ST_T_CONTACT, "CON0001001");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, n1), 0);
	assert_string_equal(n1, "CS0001008");
	ticket(&w, ST_T_INCIDENT, "VPN", ST_T_USER, "amy");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, n1), 0);
	assert_string_equal(n1, "INC0001001");
}

/* A write naming a party that does not exist fails and writes nothing, not
 * even the other ops of its transaction. */
static void a_refused_record_write_changes_nothing(void **state)
{
	struct fx *fx = *state;
	struct store_op ops[2] = {{.kind = STORE_OP_RECORD_INSERT},
				  {.kind = STORE_OP_RECORD_INSERT}};
	struct st_record_write w;

	person(&ops[0].u.rec, ST_T_CONTACT, "Paula", "", "");
	ticket(&ops[1].u.rec, ST_T_CASE, "x", ST_T_CONTACT, "CON0009999");
	assert_int_equal(store_backend_sqlite.apply(fx->be, ops, 2), CC_ENOTFOUND);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM contacts"), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM cases"), 0);
	ticket(&w, ST_T_INCIDENT, "x", ST_T_USER, "ghost");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), CC_ENOTFOUND);
	/* an update of a number that does not exist */
	person(&w, ST_T_CONTACT, "Nobody", "", "");
	str_copy(w.number, "CON0001001", sizeof(w.number));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_UPDATE, &w, NULL), CC_ENOTFOUND);
	w.table = ST_T_CASE; /* cases cannot be deleted */
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_DELETE, &w, NULL), -EINVAL);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM incidents"), 0);
}

/* Only the fields whose bit is set change; the party can be replaced. */
static void a_record_update_is_partial(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	struct st_record r;
	char con[ST_NUMBER], cs[ST_NUMBER];

	person(&w, ST_T_CONTACT, "Paula", "+1 555 0140", "+1 555 0141");
	str_copy(w.account, "Acme", sizeof(w.account));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, con), 0);
	memset(&w, 0, sizeof(w));
	w.table = ST_T_CONTACT, w.set = ST_F_MOBILE, w.at = 5000;
	str_copy(w.number, con, sizeof(w.number));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_UPDATE, &w, NULL), 0);
	get_one(fx, ST_T_CONTACT, con, &r);
	assert_string_equal(r.name, "Paula");
	assert_string_equal(r.account, "Acme");
	assert_string_equal(r.mobile_phone, "");
	assert_string_equal(r.business_phone, "+1 555 0141");
	assert_int_equal(r.updated_at, 5000);
	assert_int_equal(dbfx_int(fx->path, "SELECT length(mobile_digits) FROM contacts"), 0);

	ticket(&w, ST_T_CASE, "Broken", ST_T_CONTACT, con);
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, cs), 0);
	get_one(fx, ST_T_CASE, cs, &r);
	assert_int_equal(r.party_table, ST_T_CONTACT);
	assert_string_equal(r.party_key, con);
	assert_string_equal(r.party_name, "Paula");
	assert_string_equal(r.business_phone, "+1 555 0141"); /* the contact's */
	memset(&w, 0, sizeof(w));
	w.table = ST_T_CASE, w.set = ST_F_PARTY | ST_F_STATE, w.party_table = ST_T_USER;
	str_copy(w.party_key, "amy", sizeof(w.party_key));
	str_copy(w.state, "Resolved", sizeof(w.state));
	str_copy(w.number, cs, sizeof(w.number));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_UPDATE, &w, NULL), 0);
	get_one(fx, ST_T_CASE, cs, &r);
	assert_int_equal(r.party_table, ST_T_USER);
	assert_string_equal(r.party_key, "amy");
	assert_string_equal(r.mobile_phone, "+1 555 0199");
	assert_string_equal(r.state, "Resolved");
	assert_string_equal(r.short_description, "Broken");
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM cases WHERE contact_id IS NULL "
					    "AND contact_user_id=7"),
			 1);
}

/* A contact a case refers to cannot go; one nobody refers to can. */
static void a_referenced_contact_is_not_deleted(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	char a[ST_NUMBER], b[ST_NUMBER];

	person(&w, ST_T_CONTACT, "A", "", "");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, a), 0);
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, b), 0);
	ticket(&w, ST_T_CASE, "x", ST_T_CONTACT, a);
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	memset(&w, 0, sizeof(w));
	w.table = ST_T_CONTACT;
	str_copy(w.number, a, sizeof(w.number));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_DELETE, &w, NULL), CC_ECONFLICT);
	str_copy(w.number, b, sizeof(w.number));
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_DELETE, &w, NULL), 0);
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_DELETE, &w, NULL), CC_ENOTFOUND);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM contacts"), 1);
}

static size_t list(struct fx *fx, struct store_rec_filter *f, char *out, size_t size)
{
	struct store_rec_page pg = {0};

	out[0] = '\0';
	assert_int_equal(store_backend_sqlite.rec_list(fx->be, f, &pg), 0);
	for (size_t i = 0; i < pg.n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "",
			 pg.rows[i].number);
	free(pg.rows);
	return pg.n;
}

/* Search by phone: with or without the country code, on either phone. */
static void phone_search_is_e164_aware(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	struct store_rec_filter f = {.table = ST_T_CONTACT, .limit = 10};
	char out[256];
	static const struct {
		const char *query, *want;
	} cases[] = {{"+1 555 0140", "CON0001001"},
		     {"5550140", "CON0001001"},
		     {"1-555-0140", "CON0001001"},
		     {"4415550140", "CON0001001"},
		     {"2079460958", "CON0001002"},
		     {"+44 20 7946 0958", "CON0001002"},
		     {"0140", ""},
		     {"5550141", ""},
		     {"999915550140", ""}};

	person(&w, ST_T_CONTACT, "Paula", "+1 555 0140", "");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	person(&w, ST_T_CONTACT, "Omar", "", "+44 20 7946 0958");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		phone_digits(cases[i].query, f.phone, sizeof(f.phone));
		list(fx, &f, out, sizeof(out));
		if (strcmp(out, cases[i].want))
			fail_msg("phone %s: got '%s', want '%s'", cases[i].query, out,
				 cases[i].want);
	}
	/* and by number, name, keyset page */
	memset(f.phone, 0, sizeof(f.phone));
	str_copy(f.q, "OMA", sizeof(f.q));
	list(fx, &f, out, sizeof(out));
	assert_string_equal(out, "CON0001002");
	f.q[0] = '\0';
	f.limit = 1;
	list(fx, &f, out, sizeof(out));
	assert_string_equal(out, "CON0001002");
	f.before_id = 2;
	list(fx, &f, out, sizeof(out));
	assert_string_equal(out, "CON0001001");
	f.limit = 10, f.before_id = 0;
	str_copy(f.number, "CON0001001", sizeof(f.number));
	list(fx, &f, out, sizeof(out));
	assert_string_equal(out, "CON0001001");
}

/* Caller identification: contacts first, then consumers; the latest case. */
static void a_caller_is_found_among_contacts_then_consumers(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	struct st_record r;
	struct st_case c;
	bool found = true;
	char digits[ST_PHONE];

	person(&w, ST_T_CONSUMER, "Connie", "+1 555 0150", "");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	phone_digits("5550150", digits, sizeof(digits));
	assert_int_equal(store_backend_sqlite.party_by_phone(fx->be, digits, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r.table, ST_T_CONSUMER);
	assert_string_equal(r.name, "Connie");
	person(&w, ST_T_CONTACT, "Carla", "", "15550150");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	assert_int_equal(store_backend_sqlite.party_by_phone(fx->be, digits, &r, &found), 0);
	assert_int_equal(r.table, ST_T_CONTACT);
	assert_string_equal(r.number, "CON0001001");
	assert_int_equal(store_backend_sqlite.party_by_phone(fx->be, "5550199", &r, &found), 0);
	assert_false(found); /* amy is a user: the loop finds users */
	assert_int_equal(
		store_backend_sqlite.case_latest_of(fx->be, ST_T_CONTACT, r.id, &c, &found), 0);
	assert_false(found);
	ticket(&w, ST_T_CASE, "Old", ST_T_CONTACT, "CON0001001");
	str_copy(w.state, "Closed", sizeof(w.state));
	w.at = 9000;
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	ticket(&w, ST_T_CASE, "Open", ST_T_CONTACT, "CON0001001");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	assert_int_equal(store_backend_sqlite.case_latest_of(fx->be, ST_T_CONTACT, 1, &c, &found),
			 0);
	assert_true(found);
	assert_string_equal(c.short_description, "Open");
	assert_int_equal(store_backend_sqlite.case_latest_of(fx->be, ST_T_CONSUMER, 1, &c, &found),
			 0);
	assert_false(found);
}

/* ---- the asynchronous front on a real loop: click-to-call targets ---- */
struct target_seen {
	int calls, err;
	struct store_target t;
};

static void target_cb(int err, const struct store_target *t, void *arg)
{
	struct target_seen *s = arg;

	s->calls++;
	s->err = err;
	s->t = *t;
}

static struct target_seen target(struct store *st, uv_loop_t *loop, const char *table,
				 const char *key, const char *phone)
{
	struct target_seen s = {0};

	assert_int_equal(store_call_target(st, table, key, phone, target_cb, &s), 0);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	return s;
}

static void call_targets_resolve_to_a_number(void **state)
{
	struct fx *fx = *state;
	struct st_record_write w;
	struct config cfg;
	struct store *st;
	uv_loop_t loop;
	struct target_seen s;

	person(&w, ST_T_CONTACT, "Nora", "", "");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	ticket(&w, ST_T_CASE, "x", ST_T_USER, "amy");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	ticket(&w, ST_T_INCIDENT, "y", ST_T_USER, "bob");
	assert_int_equal(rec_put(fx, STORE_OP_RECORD_INSERT, &w, NULL), 0);
	store_backend_sqlite.close(fx->be);
	fx->be = NULL;

	config_defaults(&cfg);
	str_copy(cfg.store_path, fx->path, sizeof(cfg.store_path));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(store_open(&st, &loop, &cfg), 0);
	s = target(st, &loop, "case", "CS0001001", "mobile");
	assert_true(s.t.found && s.t.has_phone);
	assert_string_equal(s.t.number, "+1 555 0199");
	assert_string_equal(s.t.name, "Amy");
	assert_string_equal(s.t.table, "case");
	s = target(st, &loop, "case", "CS0001001", "business");
	assert_true(s.t.found);
	assert_false(s.t.has_phone);
	s = target(st, &loop, "user", "amy", "mobile");
	assert_string_equal(s.t.number, "+1 555 0199");
	s = target(st, &loop, "incident", "INC0001001", "mobile");
	assert_true(s.t.found);
	assert_false(s.t.has_phone); /* bob has no phone */
	s = target(st, &loop, "contact", "CON0001001", "mobile");
	assert_true(s.t.found);
	assert_false(s.t.has_phone);
	s = target(st, &loop, "consumer", "CSM0001001", "mobile");
	assert_false(s.t.found);
	assert_int_equal(store_call_target(st, "account", "x", "mobile", target_cb, NULL), -EINVAL);
	assert_int_equal(store_call_target(st, "case", "x", "fax", target_cb, NULL), -EINVAL);
	store_close(st);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 1), 0);
}

/* ---- the webhooks' outbox ---- */
static void webhook_put(struct fx *fx, int64_t id, const char *events, bool active)
{
	struct store_op op = {.kind = STORE_OP_WEBHOOK_SET};

	op.u.webhook.id = id;
	snprintf(op.u.webhook.url, sizeof(op.u.webhook.url), "http://127.0.0.1:9/h%lld",
		 (long long)id);
	str_copy(op.u.webhook.secret, "0123456789abcdef", sizeof(op.u.webhook.secret));
	str_copy(op.u.webhook.events, events, sizeof(op.u.webhook.events));
	op.u.webhook.active = active;
	op.u.webhook.created_at = op.u.webhook.updated_at = 1000 + id;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

static void event_op(struct store_op *op, const char *id, const char *type, char *body)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_OUTBOX_INSERT;
	str_copy(op->u.outbox.event_id, id, sizeof(op->u.outbox.event_id));
	str_copy(op->u.outbox.type, type, sizeof(op->u.outbox.type));
	op->u.outbox.at = 5000;
	op->u.outbox.body = body;
}

static void event_put(struct fx *fx, const char *id, const char *type)
{
	struct store_op op;
	char body[64];

	snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
	event_op(&op, id, type, body);
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

/* An event goes to each active webhook that takes its type, once each,
 * with "<event id>-<webhook id>" as the delivery id; none to the others. */
static void an_event_fans_out_to_the_active_webhooks_that_take_it(void **state)
{
	struct fx *fx = *state;
	char rows[512];

	webhook_put(fx, 1, "interaction,presence", true);
	webhook_put(fx, 2, "presence", true);
	webhook_put(fx, 3, "ctr,interaction", true);
	webhook_put(fx, 4, "presence", false);
	event_put(fx, "e1", "presence");
	event_put(fx, "e2", "interaction");
	event_put(fx, "e3", "ctr");
	event_put(fx, "e4", "bogus");
	dbfx_rows(fx->path,
		  "SELECT id||' '||webhook_id||' '||event||' '||body||' '||attempts||' '||"
		  "next_attempt_at||' '||created_at||' '||ifnull(delivered_at,'-') FROM "
		  "webhook_outbox ORDER BY seq",
		  rows, sizeof(rows));
	assert_string_equal(rows, "e1-1 1 presence {\"id\":\"e1\"} 0 5000 5000 -;"
				  "e1-2 2 presence {\"id\":\"e1\"} 0 5000 5000 -;"
				  "e2-1 1 interaction {\"id\":\"e2\"} 0 5000 5000 -;"
				  "e2-3 3 interaction {\"id\":\"e2\"} 0 5000 5000 -;"
				  "e3-3 3 ctr {\"id\":\"e3\"} 0 5000 5000 -");
	/* a webhook made inactive takes nothing new; its rows stay */
	webhook_put(fx, 1, "interaction,presence", false);
	event_put(fx, "e5", "presence");
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox WHERE "
					    "event_id='e5'"),
			 1);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox WHERE "
					    "webhook_id=1"),
			 2);
}

/* The webhook and its events in one transaction, in order: an event sees
 * the webhook created before it in the same batch, not one created after. */
static void the_fan_out_follows_the_writers_order(void **state)
{
	struct fx *fx = *state;
	struct store_op ops[3];
	char b1[] = "{}", b2[] = "{}";

	event_op(&ops[0], "before", "presence", b1);
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].kind = STORE_OP_WEBHOOK_SET;
	ops[1].u.webhook.id = 9;
	str_copy(ops[1].u.webhook.url, "http://h", sizeof(ops[1].u.webhook.url));
	str_copy(ops[1].u.webhook.events, "presence", sizeof(ops[1].u.webhook.events));
	ops[1].u.webhook.active = true;
	event_op(&ops[2], "after", "presence", b2);
	assert_int_equal(store_backend_sqlite.apply(fx->be, ops, 3), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox"), 1);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox WHERE "
					    "id='after-9'"),
			 1);
}

static void fetch(struct fx *fx, int64_t wh, int64_t after, int limit, struct store_outbox_page *pg)
{
	memset(pg, 0, sizeof(*pg));
	assert_int_equal(store_backend_sqlite.outbox_fetch(fx->be, wh, after, limit, pg), 0);
}

static void result_put(struct fx *fx, int64_t seq, int attempts, int64_t next, int64_t delivered,
		       int64_t expired)
{
	struct store_op op = {.kind = STORE_OP_OUTBOX_RESULT};

	op.u.result = (struct st_outbox_result){.seq = seq,
						.attempts = attempts,
						.next_attempt_at = next,
						.delivered_at = delivered,
						.expired_at = expired,
						.last_status = delivered ? 204 : 503};
	str_copy(op.u.result.last_error, delivered ? "" : "HTTP 503",
		 sizeof(op.u.result.last_error));
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
}

/* Pending rows come in seq order after the cursor, a page at a time; a
 * delivered or given-up row is not pending; a retry keeps its schedule. */
static void pending_rows_are_fetched_in_order_after_a_cursor(void **state)
{
	struct fx *fx = *state;
	struct store_outbox_page pg;
	struct store_outbox_counts c = {0};
	char id[16];

	webhook_put(fx, 1, "presence", true);
	webhook_put(fx, 2, "presence", true);
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		event_put(fx, id, "presence");
	}
	fetch(fx, 1, 0, 3, &pg);
	assert_int_equal(pg.n, 3);
	assert_string_equal(pg.rows[0].id, "p1-1");
	assert_string_equal(pg.rows[2].id, "p3-1");
	assert_string_equal(pg.rows[0].type, "presence");
	assert_string_equal(pg.rows[0].body, "{\"id\":\"p1\"}");
	assert_int_equal(pg.rows[0].webhook_id, 1);
	assert_true(pg.rows[0].seq < pg.rows[1].seq && pg.rows[1].seq < pg.rows[2].seq);
	result_put(fx, pg.rows[0].seq, 1, 0, 7000, 0);	  /* delivered */
	result_put(fx, pg.rows[1].seq, 2, 9000, 0, 0);	  /* to retry */
	result_put(fx, pg.rows[2].seq, 9, 9000, 0, 8000); /* given up */
	int64_t cursor = pg.rows[2].seq, retry_seq = pg.rows[1].seq;
	store_outbox_page_free(&pg);
	fetch(fx, 1, cursor, 3, &pg);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.rows[0].id, "p4-1");
	assert_string_equal(pg.rows[1].id, "p5-1");
	store_outbox_page_free(&pg);
	fetch(fx, 1, 0, 10, &pg); /* from the start: the retry first, with its schedule */
	assert_int_equal(pg.n, 3);
	assert_int_equal(pg.rows[0].seq, retry_seq);
	assert_int_equal(pg.rows[0].attempts, 2);
	assert_int_equal(pg.rows[0].next_attempt_at, 9000);
	store_outbox_page_free(&pg);
	assert_int_equal(store_backend_sqlite.outbox_counts(fx->be, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.rows[0].webhook_id, 1);
	assert_int_equal(c.rows[0].pending, 3);
	assert_int_equal(c.rows[1].pending, 5);
	assert_int_equal(c.rows[1].oldest_at, 5000);
	free(c.rows);
	assert_int_equal(store_backend_sqlite.outbox_fetch(fx->be, 1, 0, 0, &pg), -EINVAL);
	free(pg.rows);
}

/* The purge drops what was delivered or given up before the cutoff; a
 * deleted webhook takes its rows with it. */
static void purge_and_delete_remove_rows(void **state)
{
	struct fx *fx = *state;
	struct store_op op = {.kind = STORE_OP_OUTBOX_PURGE};

	webhook_put(fx, 1, "presence", true);
	webhook_put(fx, 2, "presence", true);
	event_put(fx, "a", "presence");
	event_put(fx, "b", "presence");
	event_put(fx, "c", "presence");
	result_put(fx, 1, 1, 0, 100, 0); /* a-1 delivered at 100 */
	result_put(fx, 3, 1, 0, 300, 0); /* b-1 delivered at 300 */
	result_put(fx, 5, 7, 0, 0, 150); /* c-1 given up at 150 */
	op.u.before = 200;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox"), 4);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox WHERE seq IN "
					    "(1,5)"),
			 0);
	memset(&op, 0, sizeof(op));
	op.kind = STORE_OP_WEBHOOK_DELETE;
	op.u.webhook.id = 2;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox"), 1);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhooks"), 1);
}

/* The snapshot has the webhooks by id and the highest id ever given. */
static void the_snapshot_holds_webhooks_and_their_high_water_mark(void **state)
{
	struct fx *fx = *state;
	struct store_op op = {.kind = STORE_OP_WEBHOOK_DELETE};
	struct st_snapshot snap;

	webhook_put(fx, 1, "presence", true);
	webhook_put(fx, 2, "ctr,interaction", false);
	op.u.webhook.id = 2;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	webhook_put(fx, 3, "interaction", true);
	op.u.webhook.id = 3;
	assert_int_equal(store_backend_sqlite.apply(fx->be, &op, 1), 0);
	assert_int_equal(store_backend_sqlite.load(fx->be, &snap), 0);
	assert_int_equal(snap.n_webhooks, 1);
	assert_int_equal(snap.webhooks[0].id, 1);
	assert_string_equal(snap.webhooks[0].url, "http://127.0.0.1:9/h1");
	assert_string_equal(snap.webhooks[0].secret, "0123456789abcdef");
	assert_string_equal(snap.webhooks[0].events, "presence");
	assert_true(snap.webhooks[0].active);
	assert_int_equal(snap.webhooks[0].created_at, 1001);
	assert_int_equal(snap.max_webhook_id, 3);
	store_snapshot_free(&snap);
}

static void wrote(int err, void *arg)
{
	*(int *)arg = err + 1;
}

/* store_write keeps its own copy of an event's body: the caller's buffer
 * may change or go before the commit. */
static void store_write_copies_an_events_body(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	struct store *st;
	uv_loop_t loop;
	struct store_op op;
	char *body = strdup("{\"n\":1}");
	int done = 0;

	webhook_put(fx, 1, "presence", true);
	store_backend_sqlite.close(fx->be);
	fx->be = NULL;
	config_defaults(&cfg);
	str_copy(cfg.store_path, fx->path, sizeof(cfg.store_path));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(store_open(&st, &loop, &cfg), 0);
	event_op(&op, "k", "presence", body);
	assert_int_equal(store_write(st, &op, 1, wrote, &done), 0);
	memset(body, 'x', strlen(body));
	free(body);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(done, 1);
	store_close(st);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(dbfx_int(fx->path, "SELECT count(*) FROM webhook_outbox WHERE "
					    "body='{\"n\":1}'"),
			 1);
	assert_int_equal(store_backend_sqlite.open(&fx->be, fx->path, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_latest_open_case_is_the_one_to_talk_about,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_case_needs_an_existing_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(records_are_numbered_by_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(a_refused_record_write_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_record_update_is_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(a_referenced_contact_is_not_deleted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(phone_search_is_e164_aware, setup, teardown),
		cmocka_unit_test_setup_teardown(a_caller_is_found_among_contacts_then_consumers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(call_targets_resolve_to_a_number, setup, teardown),
		cmocka_unit_test_setup_teardown(
			contact_trace_records_round_trip_and_sum_into_the_interaction, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			an_event_fans_out_to_the_active_webhooks_that_take_it, setup, teardown),
		cmocka_unit_test_setup_teardown(the_fan_out_follows_the_writers_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(pending_rows_are_fetched_in_order_after_a_cursor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(purge_and_delete_remove_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(
			the_snapshot_holds_webhooks_and_their_high_water_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(store_write_copies_an_events_body, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
