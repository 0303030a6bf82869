/*
 * store_records.c — the SQLite backend's records: contacts, consumers,
 * cases and incidents (docs/DOMAIN.md "Records").
 *
 * DESIGN
 * - Writes run on the writer inside be_apply's transaction, so a record
 *   write commits with its batch or not at all. The store, not the client,
 *   assigns numbers: the table's highest number plus one (the number column
 *   is UNIQUE and fixed-width, so max() reads the index's last entry), under
 *   the writer's lock, hence never twice.
 * - A write names its party (a case's contact, an incident's caller) by
 *   table and key; it is resolved to an id here, and one that does not
 *   exist fails the write with CC_ENOTFOUND before anything is written.
 * - Updates are partial: each column is set only when its ST_F_* bit is, in
 *   one UPDATE (no read-modify-write race with another writer).
 * - Phones are matched on digits. Contacts and consumers keep their digits
 *   in columns indexed on the last seven; users' and the joined parties'
 *   phones go through sb_digits(), the same function registered on every
 *   connection. Two numbers match when equal, or when one is the other with
 *   a country code of 1-3 digits in front and the shorter has at least 7
 *   digits (routing_user_by_phone's rule), so both share the last seven.
 * - Every read is one statement on a borrowed reader connection.
 */
#define LOG_MODULE "sqlite"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const table_names[ST_T__N] = {
	[ST_T_USER] = "user", [ST_T_CONTACT] = "contact",   [ST_T_CONSUMER] = "consumer",
	[ST_T_CASE] = "case", [ST_T_INCIDENT] = "incident",
};
static const char *const table_sql[ST_T__N] = {
	[ST_T_USER] = "users", [ST_T_CONTACT] = "contacts",   [ST_T_CONSUMER] = "consumers",
	[ST_T_CASE] = "cases", [ST_T_INCIDENT] = "incidents",
};
static const char *const prefix[ST_T__N] = {[ST_T_CONTACT] = "CON",
					    [ST_T_CONSUMER] = "CSM",
					    [ST_T_CASE] = "CS",
					    [ST_T_INCIDENT] = "INC"};

const char *store_table_name(enum st_table t)
{
	return t > ST_T_NONE && t < ST_T__N ? table_names[t] : NULL;
}

int store_table_parse(const char *s, enum st_table *t)
{
	for (int i = ST_T_USER; s && i < ST_T__N; i++) {
		if (!strcmp(s, table_names[i])) {
			*t = (enum st_table)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void fn_digits(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char out[ST_PHONE];

	(void)argc;
	phone_digits((const char *)sqlite3_value_text(argv[0]), out, sizeof(out));
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

int sqlrec_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "sb_digits", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       fn_digits, NULL, NULL) == SQLITE_OK
		       ? 0
		       : CC_ESTORE;
}

/* The E.164-aware match of a digits column against ?6 (digits, never ""). */
#define PHONE_MATCH(col)                                                                           \
	"(substr(" col ",-7)=substr(?6,-7) AND (" col "=?6 OR (min(length(" col                    \
	"),length(?6))>=7 AND abs(length(" col ")-length(?6))<=3 AND (" col                        \
	" LIKE '%'||?6 OR ?6 LIKE '%'||" col "))))"

/* ---- writes ---- */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int64_t lookup_id(sqlite3 *db, enum st_table t, const char *key)
{
	char sql[96];
	sqlite3_stmt *st;
	int64_t id = 0;

	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE %s=?1", table_sql[t],
		 t == ST_T_USER ? "user_name" : "number");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* The next number of t: its highest plus one (from 1001). */
static int next_number(sqlite3 *db, enum st_table t, char out[ST_NUMBER])
{
	char sql[64];
	sqlite3_stmt *st;
	long long n = 1000;

	snprintf(sql, sizeof(sql), "SELECT max(number) FROM %s", table_sql[t]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		const char *max = (const char *)sqlite3_column_text(st, 0);
		long long v = strtoll(max + strlen(prefix[t]), NULL, 10);
		if (v > n)
			n = v;
	}
	sqlite3_finalize(st);
	if (n >= 9999999)
		return CC_ECONFLICT;
	snprintf(out, ST_NUMBER, "%s%07lld", prefix[t], n + 1);
	return 0;
}

static const char *const insert_sql[ST_T__N] = {
	[ST_T_CONTACT] = "INSERT INTO contacts(number,name,email,mobile_phone,business_phone,"
			 "mobile_digits,business_digits,account,created_at,updated_at) "
			 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?11,?11)",
	[ST_T_CONSUMER] = "INSERT INTO consumers(number,name,email,mobile_phone,business_phone,"
			  "mobile_digits,business_digits,created_at,updated_at) "
			  "VALUES(?1,?2,?3,?4,?5,?6,?7,?11,?11)",
	[ST_T_CASE] = "INSERT INTO cases(number,short_description,state,contact_user_id,"
		      "contact_id,consumer_id,opened_at,updated_at) VALUES(?1,?9,?10,"
		      "NULLIF(?13,0),NULLIF(?14,0),NULLIF(?15,0),?11,?11)",
	[ST_T_INCIDENT] = "INSERT INTO incidents(number,short_description,state,caller_user_id,"
			  "opened_at,updated_at) VALUES(?1,?9,?10,NULLIF(?13,0),?11,?11)",
};

/* Each column changes only when its ST_F_* bit is in ?12. */
static const char *const update_sql[ST_T__N] = {
	[ST_T_CONTACT] = "UPDATE contacts SET name=iif(?12&1,?2,name),email=iif(?12&2,?3,email),"
			 "mobile_phone=iif(?12&4,?4,mobile_phone),"
			 "mobile_digits=iif(?12&4,?6,mobile_digits),"
			 "business_phone=iif(?12&8,?5,business_phone),"
			 "business_digits=iif(?12&8,?7,business_digits),"
			 "account=iif(?12&16,?8,account),updated_at=?11 WHERE number=?1",
	[ST_T_CONSUMER] = "UPDATE consumers SET name=iif(?12&1,?2,name),email=iif(?12&2,?3,email),"
			  "mobile_phone=iif(?12&4,?4,mobile_phone),"
			  "mobile_digits=iif(?12&4,?6,mobile_digits),"
			  "business_phone=iif(?12&8,?5,business_phone),"
			  "business_digits=iif(?12&8,?7,business_digits),"
			  "updated_at=?11 WHERE number=?1",
	[ST_T_CASE] = "UPDATE cases SET short_description=iif(?12&32,?9,short_description),"
		      "state=iif(?12&64,?10,state),"
		      "contact_user_id=iif(?12&128,NULLIF(?13,0),contact_user_id),"
		      "contact_id=iif(?12&128,NULLIF(?14,0),contact_id),"
		      "consumer_id=iif(?12&128,NULLIF(?15,0),consumer_id),"
		      "updated_at=?11 WHERE number=?1",
	[ST_T_INCIDENT] = "UPDATE incidents SET short_description=iif(?12&32,?9,short_description),"
			  "state=iif(?12&64,?10,state),"
			  "caller_user_id=iif(?12&128,NULLIF(?13,0),caller_user_id),"
			  "updated_at=?11 WHERE number=?1",
};

static void bind_write(sqlite3_stmt *st, const struct st_record_write *w, const char *number,
		       const int64_t party_id[ST_T__N])
{
	char md[ST_PHONE], bd[ST_PHONE];

	phone_digits(w->mobile_phone, md, sizeof(md));
	phone_digits(w->business_phone, bd, sizeof(bd));
	/* Parameters a statement lacks are refused with SQLITE_RANGE: harmless. */
	sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
	bind_text(st, 2, w->name);
	bind_text(st, 3, w->email);
	bind_text(st, 4, w->mobile_phone);
	bind_text(st, 5, w->business_phone);
	sqlite3_bind_text(st, 6, md, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, bd, -1, SQLITE_TRANSIENT);
	bind_text(st, 8, w->account);
	bind_text(st, 9, w->short_description);
	bind_text(st, 10, w->state);
	sqlite3_bind_int64(st, 11, w->at);
	sqlite3_bind_int(st, 12, (int)w->set);
	sqlite3_bind_int64(st, 13, party_id[ST_T_USER]);
	sqlite3_bind_int64(st, 14, party_id[ST_T_CONTACT]);
	sqlite3_bind_int64(st, 15, party_id[ST_T_CONSUMER]);
}

/* Runs one statement; 0, CC_ECONFLICT (a constraint) or CC_ESTORE; *changes. */
static int run_write(sqlite3 *db, const char *sql, const struct st_record_write *w,
		     const char *number, const int64_t party_id[ST_T__N], int *changes)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("record write: %s", sqlite3_errmsg(db));
		return CC_ESTORE;
	}
	bind_write(st, w, number, party_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	*changes = sqlite3_changes(db);
	if (rc == SQLITE_DONE)
		return 0;
	log_warn("record write refused: %s", sqlite3_errmsg(db));
	return (rc & 0xff) == SQLITE_CONSTRAINT ? CC_ECONFLICT : CC_ESTORE;
}

static bool table_ok(const struct st_record_write *w, bool del)
{
	if (del)
		return w->table == ST_T_CONTACT || w->table == ST_T_CONSUMER;
	return w->table >= ST_T_CONTACT && w->table <= ST_T_INCIDENT;
}

int sqlrec_apply(struct sqlite_be *be, const struct store_op *op)
{
	const struct st_record_write *w = &op->u.rec;
	int64_t party_id[ST_T__N] = {0};
	char number[ST_NUMBER];
	int changes = 0, err;

	if (!table_ok(w, op->kind == STORE_OP_RECORD_DELETE))
		return -EINVAL;
	if (op->kind == STORE_OP_RECORD_DELETE) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE number=?1", table_sql[w->table]);
		err = run_write(be->writer, sql, w, w->number, party_id, &changes);
		return err ? err : changes ? 0 : CC_ENOTFOUND;
	}
	if (w->party_table != ST_T_NONE &&
	    (op->kind == STORE_OP_RECORD_INSERT || (w->set & ST_F_PARTY))) {
		if (w->party_table > ST_T_CONSUMER)
			return -EINVAL;
		party_id[w->party_table] = lookup_id(be->writer, w->party_table, w->party_key);
		if (party_id[w->party_table] <= 0)
			return party_id[w->party_table] ? CC_ESTORE : CC_ENOTFOUND;
	}
	if (op->kind == STORE_OP_RECORD_UPDATE) {
		err = run_write(be->writer, update_sql[w->table], w, w->number, party_id, &changes);
		return err ? err : changes ? 0 : CC_ENOTFOUND;
	}
	err = next_number(be->writer, w->table, number);
	if (!err)
		err = run_write(be->writer, insert_sql[w->table], w, number, party_id, &changes);
	if (!err && w->out_number)
		str_copy(w->out_number, number, ST_NUMBER);
	return err;
}

/* ---- reads ---- */
/* Every select yields the same columns, for row_record(). */
static const char *const select_sql[ST_T__N] = {
	[ST_T_USER] = "SELECT t.id,t.user_name,t.name,t.email,'','','',t.mobile_phone,"
		      "t.business_phone,0,'','',t.created_at,t.created_at FROM users t "
		      "WHERE 1=1",
	[ST_T_CONTACT] = "SELECT t.id,t.number,t.name,t.email,t.account,'','',t.mobile_phone,"
			 "t.business_phone,0,'','',t.created_at,t.updated_at FROM contacts t "
			 "WHERE 1=1",
	[ST_T_CONSUMER] = "SELECT t.id,t.number,t.name,t.email,'','','',t.mobile_phone,"
			  "t.business_phone,0,'','',t.created_at,t.updated_at FROM consumers t "
			  "WHERE 1=1",
	[ST_T_CASE] =
		"SELECT t.id,t.number,'','','',t.short_description,t.state,"
		"coalesce(u.mobile_phone,k.mobile_phone,m.mobile_phone,''),"
		"coalesce(u.business_phone,k.business_phone,m.business_phone,''),"
		"CASE WHEN u.id IS NOT NULL THEN 1 WHEN k.id IS NOT NULL THEN 2 "
		"WHEN m.id IS NOT NULL THEN 3 ELSE 0 END,"
		"coalesce(u.user_name,k.number,m.number,''),coalesce(u.name,k.name,m.name,''),"
		"t.opened_at,t.updated_at FROM cases t "
		"LEFT JOIN users u ON u.id=t.contact_user_id "
		"LEFT JOIN contacts k ON k.id=t.contact_id "
		"LEFT JOIN consumers m ON m.id=t.consumer_id WHERE 1=1",
	[ST_T_INCIDENT] = "SELECT t.id,t.number,'','','',t.short_description,t.state,"
			  "coalesce(u.mobile_phone,''),coalesce(u.business_phone,''),"
			  "CASE WHEN u.id IS NULL THEN 0 ELSE 1 END,coalesce(u.user_name,''),"
			  "coalesce(u.name,''),t.opened_at,t.updated_at FROM incidents t "
			  "LEFT JOIN users u ON u.id=t.caller_user_id WHERE 1=1",
};

static void row_record(sqlite3_stmt *st, enum st_table t, struct st_record *r)
{
	int pt;

	memset(r, 0, sizeof(*r));
	r->table = t;
	r->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, r->number, sizeof(r->number));
	sq_col_text(st, 2, r->name, sizeof(r->name));
	sq_col_text(st, 3, r->email, sizeof(r->email));
	sq_col_text(st, 4, r->account, sizeof(r->account));
	sq_col_text(st, 5, r->short_description, sizeof(r->short_description));
	sq_col_text(st, 6, r->state, sizeof(r->state));
	sq_col_text(st, 7, r->mobile_phone, sizeof(r->mobile_phone));
	sq_col_text(st, 8, r->business_phone, sizeof(r->business_phone));
	pt = sqlite3_column_int(st, 9);
	r->party_table = pt >= ST_T_USER && pt <= ST_T_CONSUMER ? (enum st_table)pt : ST_T_NONE;
	sq_col_text(st, 10, r->party_key, sizeof(r->party_key));
	sq_col_text(st, 11, r->party_name, sizeof(r->party_name));
	r->created_at = sqlite3_column_int64(st, 12);
	r->updated_at = sqlite3_column_int64(st, 13);
}

/* A record's phones against ?6: its own, or its contact's / caller's. */
#define CASE_PHONE(kind)                                                                           \
	"sb_digits(coalesce(u." kind "_phone,k." kind "_phone,m." kind "_phone,''))"
#define CALLER_PHONE(kind) "sb_digits(coalesce(u." kind "_phone,''))"
static const char *const phone_where[ST_T__N] = {
	[ST_T_CONTACT] =
		"(" PHONE_MATCH("t.mobile_digits") " OR " PHONE_MATCH("t.business_digits") ")",
	[ST_T_CONSUMER] =
		"(" PHONE_MATCH("t.mobile_digits") " OR " PHONE_MATCH("t.business_digits") ")",
	[ST_T_CASE] = "(" PHONE_MATCH(CASE_PHONE("mobile")) " OR " PHONE_MATCH(
		CASE_PHONE("business")) ")",
	[ST_T_INCIDENT] = "(" PHONE_MATCH(CALLER_PHONE("mobile")) " OR " PHONE_MATCH(
		CALLER_PHONE("business")) ")",
};

/* The WHERE terms of a list, bound as ?1 number, ?3 q, ?4 cursor, ?6 phone. */
static void list_where(const struct store_rec_filter *f, char *sql, size_t size)
{
	size_t n = strlen(sql);
	bool party = f->table == ST_T_CASE || f->table == ST_T_INCIDENT;

	if (f->number[0])
		n += snprintf(sql + n, size - n, " AND t.number=?1");
	if (f->q[0])
		n += snprintf(sql + n, size - n, " AND instr(lower(t.%s),lower(?3))>0",
			      party ? "short_description" : "name");
	if (f->before_id)
		n += snprintf(sql + n, size - n, " AND t.id<?4");
	if (f->phone[0])
		n += snprintf(sql + n, size - n, " AND %s", phone_where[f->table]);
	snprintf(sql + n, size - n, " ORDER BY t.id DESC LIMIT ?5");
}

static int list_query(sqlite3 *db, const struct store_rec_filter *f, struct store_rec_page *pg)
{
	char sql[4096];
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	snprintf(sql, sizeof(sql), "%s", select_sql[f->table]);
	list_where(f, sql, sizeof(sql));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("record list: %s", sqlite3_errmsg(db));
		return CC_ESTORE;
	}
	bind_text(st, 1, f->number);
	bind_text(st, 3, f->q);
	sqlite3_bind_int64(st, 4, f->before_id);
	sqlite3_bind_int(st, 5, f->limit + 1);
	bind_text(st, 6, f->phone);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (pg->n == (size_t)f->limit) {
			pg->more = true;
			continue;
		}
		if (pg->n == cap) {
			void *na =
				realloc(pg->rows, (cap = cap ? cap * 2 : 16) * sizeof(*pg->rows));
			if (!na) {
				rc = SQLITE_NOMEM;
				break;
			}
			pg->rows = na;
		}
		row_record(st, f->table, &pg->rows[pg->n++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

int sqlrec_list(void *p, const struct store_rec_filter *f, struct store_rec_page *pg)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db;

	if (f->table < ST_T_CONTACT || f->table > ST_T_INCIDENT || f->limit < 1)
		return -EINVAL;
	db = sqlbe_reader_get(be, &slot);
	err = list_query(db, f, pg);
	sqlbe_reader_put(be, slot);
	return err;
}

/* One row of sql (with ?1 bound to key, ?6 to digits) into r. */
static int one_row(struct sqlite_be *be, const char *sql, enum st_table t, const char *key,
		   const char *digits, struct st_record *r, bool *found)
{
	int slot, rc;
	sqlite3 *db = sqlbe_reader_get(be, &slot);
	sqlite3_stmt *st;

	*found = false;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		bind_text(st, 1, key);
		bind_text(st, 6, digits);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*found = true;
			row_record(st, t, r);
		}
		sqlite3_finalize(st);
	} else {
		log_error("record read: %s", sqlite3_errmsg(db));
	}
	sqlbe_reader_put(be, slot);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

int sqlrec_get(void *p, enum st_table t, const char *key, struct st_record *r, bool *found)
{
	char sql[1024];

	*found = false;
	if (t < ST_T_USER || t >= ST_T__N)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "%s AND t.%s=?1", select_sql[t],
		 t == ST_T_USER ? "user_name" : "number");
	return one_row(p, sql, t, key, "", r, found);
}

int sqlrec_party_by_phone(void *p, const char *digits, struct st_record *r, bool *found)
{
	static const enum st_table order[] = {ST_T_CONTACT, ST_T_CONSUMER};
	char sql[1024];
	int err = 0;

	*found = false;
	if (!digits || !digits[0])
		return 0;
	for (size_t i = 0; !err && !*found && i < 2; i++) {
		snprintf(sql, sizeof(sql), "%s AND (%s OR %s) ORDER BY t.id LIMIT 1",
			 select_sql[order[i]], PHONE_MATCH("t.mobile_digits"),
			 PHONE_MATCH("t.business_digits"));
		err = one_row(p, sql, order[i], "", digits, r, found);
	}
	return err;
}

int sqlrec_case_latest_of(void *p, enum st_table party, int64_t party_id, struct st_case *c,
			  bool *found)
{
	struct sqlite_be *be = p;
	char sql[256];
	int slot, rc;
	sqlite3 *db;
	sqlite3_stmt *st;

	*found = false;
	if (party != ST_T_CONTACT && party != ST_T_CONSUMER)
		return -EINVAL;
	snprintf(sql, sizeof(sql),
		 "SELECT id,number,short_description,state,opened_at,updated_at FROM cases "
		 "WHERE %s=?1 ORDER BY state='Closed', updated_at DESC, id DESC LIMIT 1",
		 party == ST_T_CONTACT ? "contact_id" : "consumer_id");
	db = sqlbe_reader_get(be, &slot);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, party_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*found = true;
			memset(c, 0, sizeof(*c));
			c->id = sqlite3_column_int64(st, 0);
			sq_col_text(st, 1, c->number, sizeof(c->number));
			sq_col_text(st, 2, c->short_description, sizeof(c->short_description));
			sq_col_text(st, 3, c->state, sizeof(c->state));
			c->opened_at = sqlite3_column_int64(st, 4);
			c->updated_at = sqlite3_column_int64(st, 5);
		}
		sqlite3_finalize(st);
	}
	sqlbe_reader_put(be, slot);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : CC_ESTORE;
}
