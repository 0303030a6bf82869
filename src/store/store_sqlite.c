/*
 * store_sqlite.c — the SQLite backend of the records store.
 *
 * DESIGN
 * - One writer connection, used by one batch at a time (store_async.c
 *   guarantees it), and a small pool of reader connections handed out under
 *   a mutex to worker threads. WAL mode lets readers run beside the writer.
 * - synchronous=NORMAL in WAL: a committed transaction survives a crash or
 *   kill of the process (it is in the WAL file); only an OS crash or power
 *   loss may drop the last commits. docs/STORE.md states this.
 * - Migrations are embedded (tools/embed_sql.sh) and applied in order, each
 *   in its own transaction, recording schema_version.
 * - Write statements are prepared once per kind on the writer connection.
 */
#define LOG_MODULE "sqlite"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};
#include "migrations.h"

static const char *op_sql[N_OPS][2] = {
	[STORE_OP_USER_INSERT] = {"INSERT INTO users(id,user_name,name,email,mobile_phone,"
				  "business_phone,password_hash,active,created_at,sip_ha1) "
				  "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"},
	[STORE_OP_USER_UPDATE] = {"UPDATE users SET name=?3,email=?4,mobile_phone=?5,"
				  "business_phone=?6,password_hash=?7,active=?8,sip_ha1=?10 "
				  "WHERE id=?1"},
	[STORE_OP_ROLE_GRANT] = {"INSERT OR IGNORE INTO user_roles(user_id,role) VALUES(?1,?2)"},
	[STORE_OP_ROLE_REVOKE] = {"DELETE FROM user_roles WHERE user_id=?1 AND role=?2"},
	[STORE_OP_AGENT_UPSERT] =
		{"INSERT INTO agents(user_id,presence,away_reason,"
		 "presence_since,capacity,interaction_id) VALUES(?1,?2,?3,?4,?5,?6) "
		 "ON CONFLICT(user_id) DO UPDATE SET presence=?2,away_reason=?3,"
		 "presence_since=?4,capacity=?5,interaction_id=?6"},
	[STORE_OP_PRESENCE_CHANGE] =
		{"INSERT INTO presence_history(user_id,at,from_state,"
		 "to_state,reason,interaction_id) VALUES(?1,?2,?3,?4,?5,?6)",
		 "UPDATE agents SET presence=?4,"
		 "away_reason=CASE WHEN ?4='Away' THEN ?5 ELSE '' END,presence_since=?2,"
		 "interaction_id=CASE WHEN ?4 IN ('CallingCustomer','Busy',"
		 "'AfterCallWork','FailedConnectAgent') THEN ?6 ELSE 0 END "
		 "WHERE user_id=?1"},
	[STORE_OP_QUEUE_INSERT] = {"INSERT INTO queues(id,name,priority,sl_threshold_s,max_wait_s,"
				   "strategy,overflow_queue_id,hold_music,wrap_up_codes,deleted,"
				   "sl_abandons) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"},
	[STORE_OP_QUEUE_UPDATE] = {"UPDATE queues SET name=?2,priority=?3,sl_threshold_s=?4,"
				   "max_wait_s=?5,strategy=?6,overflow_queue_id=?7,hold_music=?8,"
				   "wrap_up_codes=?9,deleted=?10,sl_abandons=?11 WHERE id=?1"},
	[STORE_OP_MEMBER_ADD] = {"INSERT INTO queue_members(queue_id,user_id,priority) "
				 "VALUES(?1,?2,?3) ON CONFLICT(queue_id,user_id) "
				 "DO UPDATE SET priority=?3"},
	[STORE_OP_MEMBER_DELETE] = {"DELETE FROM queue_members WHERE queue_id=?1 "
				    "AND (?2=0 OR user_id=?2)"},
	[STORE_OP_AUDIT_INSERT] = {"INSERT INTO audit(at,actor,action,object,before,after) "
				   "VALUES(?1,?2,?3,?4,?5,?6)"},
	[STORE_OP_INTERACTION_INSERT] =
		{"INSERT INTO interactions(id,number,type,direction,state,"
		 "queued,caller_number,queue_id,agent_user_id,linked_table,"
		 "linked_number,opened_at,closed_at,close_reason,wrap_up_code) "
		 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"},
	[STORE_OP_INTERACTION_UPDATE] =
		{"UPDATE interactions SET state=?5,queued=?6,queue_id=?8,"
		 "agent_user_id=?9,linked_table=?10,linked_number=?11,"
		 "closed_at=?13,close_reason=?14,wrap_up_code=?15 WHERE id=?1"},
	[STORE_OP_ACTIVITY_INSERT] = {"INSERT INTO activity(interaction_id,at,kind,actor,text) "
				      "VALUES(?1,?2,?3,?4,?5)"},
	[STORE_OP_SESSION_INSERT] =
		{"INSERT INTO sessions(token_hash,user_id,created_at,expires_at)"
		 " VALUES(?1,?2,?3,?4)"},
	[STORE_OP_SESSION_DELETE] = {"DELETE FROM sessions WHERE token_hash=?1"},
	[STORE_OP_FLAG_SET] = {"INSERT INTO flags(name,value) VALUES(?1,?2) "
			       "ON CONFLICT(name) DO UPDATE SET value=?2"},
	[STORE_OP_NUMBER_SET] = {"INSERT INTO numbers(did,queue_id,flow) VALUES(?1,?2,?3) "
				 "ON CONFLICT(did) DO UPDATE SET queue_id=?2,flow=?3"},
	[STORE_OP_TRUNK_SET] = {"INSERT INTO trunks(name,address,username,sip_ha1) "
				"VALUES(?1,?2,?3,?4) ON CONFLICT(name) DO UPDATE SET "
				"address=?2,username=?3,sip_ha1=?4"},
	[STORE_OP_NUMBER_DELETE] = {"DELETE FROM numbers WHERE did=?1"},
	[STORE_OP_TRUNK_DELETE] = {"DELETE FROM trunks WHERE name=?1"},
	[STORE_OP_BINDING_SET] = {"INSERT INTO sip_bindings(user_id,contact,expires_at) "
				  "VALUES(?1,?2,?3) ON CONFLICT(user_id) DO UPDATE SET "
				  "contact=?2,expires_at=?3"},
	[STORE_OP_BINDING_DELETE] = {"DELETE FROM sip_bindings WHERE user_id=?1"},
	[STORE_OP_QUICK_CONNECT_SET] = {"INSERT INTO quick_connects(id,name,number) "
					"VALUES(?1,?2,?3) ON CONFLICT(id) DO UPDATE SET "
					"name=?2,number=?3"},
	[STORE_OP_QUICK_CONNECT_DELETE] = {"DELETE FROM quick_connects WHERE id=?1"},
	/* the second statement takes ?2 only (the other bindings are out of
	 * its range, which sqlite3_bind_* reports and ignores) */
	[STORE_OP_CTR_SET] =
		{"INSERT OR REPLACE INTO ctr(" CTR_COLS ") VALUES(?1,?2,?3,?4,?5,?6,"
		 "?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
		 "?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39)",
		 "UPDATE interactions SET "
		 "talk_ms=(SELECT coalesce(sum(talk_ms),0) FROM ctr WHERE interaction_id=?2),"
		 "hold_ms=(SELECT coalesce(sum(hold_ms),0) FROM ctr WHERE interaction_id=?2),"
		 "queue_ms=(SELECT coalesce(sum(queue_ms),0) FROM ctr WHERE interaction_id=?2),"
		 "acw_ms=(SELECT coalesce(sum(acw_ms),0) FROM ctr WHERE interaction_id=?2) "
		 "WHERE id=?2"},
	[STORE_OP_WEBHOOK_SET] = {"INSERT INTO webhooks(id,url,secret,events,active,created_at,"
				  "updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(id) DO "
				  "UPDATE SET url=?2,secret=?3,events=?4,active=?5,updated_at=?7"},
	[STORE_OP_WEBHOOK_DELETE] = {"DELETE FROM webhooks WHERE id=?1"},
	/* the fan-out: one row per active webhook that takes the event's type */
	[STORE_OP_OUTBOX_INSERT] = {"INSERT INTO webhook_outbox(id,webhook_id,event_id,event,body,"
				    "created_at,next_attempt_at) SELECT ?1||'-'||id,id,?1,?2,?3,"
				    "?4,?4 FROM webhooks WHERE active=1 AND "
				    "instr(','||events||',',','||?2||',')>0 ORDER BY id"},
	[STORE_OP_OUTBOX_RESULT] = {"UPDATE webhook_outbox SET attempts=?2,next_attempt_at=?3,"
				    "delivered_at=NULLIF(?4,0),expired_at=NULLIF(?5,0),"
				    "last_status=?6,last_error=?7 WHERE seq=?1"},
	[STORE_OP_OUTBOX_PURGE] = {"DELETE FROM webhook_outbox WHERE "
				   "coalesce(delivered_at,expired_at)<?1"},
	/* NULL utterances/text (a status change) keep the stored ones */
	[STORE_OP_TRANSCRIPT_SET] =
		{"INSERT INTO transcripts(interaction_id,status,engine,reason,requested_by,"
		 "redacted,utterances,text,error,audio_ms,decode_ms,created_at,updated_at) "
		 "VALUES(?1,?2,?3,?4,?5,?6,coalesce(?7,'[]'),coalesce(?8,''),?9,?10,?11,?12,?13) "
		 "ON CONFLICT(interaction_id) DO UPDATE SET status=?2,engine=?3,reason=?4,"
		 "requested_by=?5,redacted=?6,utterances=coalesce(?7,utterances),"
		 "text=coalesce(?8,text),error=?9,audio_ms=?10,decode_ms=?11,updated_at=?13"},
	[STORE_OP_TRANSCRIPT_POLICY_SET] =
		{"INSERT INTO transcript_policy(queue_id,percent) "
		 "SELECT ?1,?2 WHERE ?2>=0 ON CONFLICT(queue_id) DO "
		 "UPDATE SET percent=?2",
		 "DELETE FROM transcript_policy WHERE ?2<0 AND queue_id=?1 "
		 "AND queue_id<>0"},
	[STORE_OP_CASE_SET] = {"INSERT INTO cases(number,contact_user_id,short_description,state,"
			       "opened_at,updated_at) VALUES(?1,NULLIF(?2,0),?3,?4,?5,?6) "
			       "ON CONFLICT(number) DO UPDATE SET contact_user_id=NULLIF(?2,0),"
			       "short_description=?3,state=?4,updated_at=?6"},
	[STORE_OP_CONVERSATION_INSERT] =
		{"INSERT INTO conversations(id,number,interaction_id,"
		 "source_table,source_number,agent_user_id,flag,created_at) "
		 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"},
};

/* ---- connections and migrations ---- */
static int conn_open(sqlite3 **dbp, const char *path, bool readonly)
{
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return CC_ESTORE;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	if (sqlrec_register(db)) {
		sqlite3_close(db);
		return CC_ESTORE;
	}
	*dbp = db;
	return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sql failed: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return CC_ESTORE;
	}
	return 0;
}

static int schema_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = 0;

	if (exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(sqlite3 *db)
{
	int cur = schema_version(db);
	char buf[96];

	if (cur < 0)
		return CC_ESTORE;
	for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= cur)
			continue;
		snprintf(buf, sizeof(buf), "INSERT INTO schema_version VALUES(%d)", m->version);
		if (exec_sql(db, "BEGIN IMMEDIATE") || exec_sql(db, m->sql) || exec_sql(db, buf)) {
			exec_sql(db, "ROLLBACK");
			log_error("migration %s failed", m->name);
			return CC_ESTORE;
		}
		if (exec_sql(db, "COMMIT"))
			return CC_ESTORE;
		log_info("applied migration %s", m->name);
	}
	return 0;
}

static void be_close(void *p)
{
	struct sqlite_be *be = p;

	if (!be)
		return;
	for (int k = 0; k < N_OPS; k++)
		for (int j = 0; j < 2; j++)
			sqlite3_finalize(be->op_stmt[k][j]);
	sqlrep_close(be);
	for (int i = 0; i < be->n_readers; i++)
		sqlite3_close(be->readers[i]);
	if (be->writer) {
		sqlite3_exec(be->writer, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(be->writer);
	}
	pthread_mutex_destroy(&be->mtx);
	pthread_cond_destroy(&be->cond);
	free(be);
}

static int prepare_ops(struct sqlite_be *be)
{
	for (int k = 0; k < N_OPS; k++) {
		for (int j = 0; j < 2; j++) {
			if (!op_sql[k][j])
				continue;
			if (sqlite3_prepare_v3(be->writer, op_sql[k][j], -1,
					       SQLITE_PREPARE_PERSISTENT, &be->op_stmt[k][j],
					       NULL) != SQLITE_OK) {
				log_error("prepare: %s", sqlite3_errmsg(be->writer));
				return CC_ESTORE;
			}
		}
	}
	return 0;
}

static int be_open(void **bep, const char *path, int readers)
{
	struct sqlite_be *be = calloc(1, sizeof(*be));
	int err;

	if (!be)
		return -ENOMEM;
	pthread_mutex_init(&be->mtx, NULL);
	pthread_cond_init(&be->cond, NULL);
	err = conn_open(&be->writer, path, false);
	if (!err && exec_sql(be->writer, "PRAGMA journal_mode=WAL"))
		err = CC_ESTORE;
	if (!err)
		err = migrate(be->writer);
	if (!err)
		err = prepare_ops(be);
	if (!err)
		err = sqlrep_open(be); /* builds the aggregates if migration 014 asks */
	for (int i = 0; !err && i < readers && i < MAX_READERS; i++) {
		err = conn_open(&be->readers[i], path, true);
		if (!err)
			be->n_readers++;
	}
	if (err) {
		be_close(be);
		return err;
	}
	*bep = be;
	return 0;
}

sqlite3 *sqlbe_reader_get(struct sqlite_be *be, int *slot)
{
	pthread_mutex_lock(&be->mtx);
	for (;;) {
		for (int i = 0; i < be->n_readers; i++) {
			if (!be->busy[i]) {
				be->busy[i] = true;
				*slot = i;
				pthread_mutex_unlock(&be->mtx);
				return be->readers[i];
			}
		}
		pthread_cond_wait(&be->cond, &be->mtx);
	}
}

void sqlbe_reader_put(struct sqlite_be *be, int slot)
{
	pthread_mutex_lock(&be->mtx);
	be->busy[slot] = false;
	pthread_cond_signal(&be->cond);
	pthread_mutex_unlock(&be->mtx);
}

/* ---- column helpers ---- */
void sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	str_copy(dst, t ? (const char *)t : "", size);
}

char *sq_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, t, n);
		s[n] = '\0';
	}
	return s;
}

void sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	return realloc(arr, *cap * elem);
}

#define IX_COLS                                                                                    \
	"id,number,type,direction,state,queued,caller_number,queue_id,agent_user_id,"              \
	"linked_table,linked_number,opened_at,closed_at,close_reason,wrap_up_code,"                \
	"talk_ms,hold_ms,queue_ms,acw_ms"
#define IX_NCOLS 19

static void row_interaction(sqlite3_stmt *st, struct st_interaction *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, ix->number, sizeof(ix->number));
	sq_col_text(st, 2, ix->type, sizeof(ix->type));
	sq_col_text(st, 3, ix->direction, sizeof(ix->direction));
	sq_col_text(st, 4, ix->state, sizeof(ix->state));
	ix->queued = sqlite3_column_int(st, 5);
	sq_col_text(st, 6, ix->caller_number, sizeof(ix->caller_number));
	ix->queue_id = sqlite3_column_int64(st, 7);
	ix->agent_user_id = sqlite3_column_int64(st, 8);
	sq_col_text(st, 9, ix->linked_table, sizeof(ix->linked_table));
	sq_col_text(st, 10, ix->linked_number, sizeof(ix->linked_number));
	ix->opened_at = sqlite3_column_int64(st, 11);
	ix->closed_at = sqlite3_column_int64(st, 12);
	sq_col_text(st, 13, ix->close_reason, sizeof(ix->close_reason));
	sq_col_text(st, 14, ix->wrap_up_code, sizeof(ix->wrap_up_code));
	ix->talk_ms = sqlite3_column_int64(st, 15);
	ix->hold_ms = sqlite3_column_int64(st, 16);
	ix->queue_ms = sqlite3_column_int64(st, 17);
	ix->acw_ms = sqlite3_column_int64(st, 18);
}

/* An open interaction at load, with the highest CTR segment written. */
static void row_open_interaction(sqlite3_stmt *st, struct st_interaction *ix)
{
	row_interaction(st, ix);
	ix->ctr_segments = sqlite3_column_int(st, IX_NCOLS);
}

static void row_user(sqlite3_stmt *st, struct st_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, u->user_name, sizeof(u->user_name));
	sq_col_text(st, 2, u->name, sizeof(u->name));
	sq_col_text(st, 3, u->email, sizeof(u->email));
	sq_col_text(st, 4, u->mobile_phone, sizeof(u->mobile_phone));
	sq_col_text(st, 5, u->business_phone, sizeof(u->business_phone));
	sq_col_text(st, 6, u->password_hash, sizeof(u->password_hash));
	u->active = sqlite3_column_int(st, 7);
	u->created_at = sqlite3_column_int64(st, 8);
	sq_col_text(st, 9, u->sip_ha1, sizeof(u->sip_ha1));
}

static void row_user_role(sqlite3_stmt *st, struct st_user_role *r)
{
	r->user_id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, r->role, sizeof(r->role));
}

static void row_agent(sqlite3_stmt *st, struct st_agent *a)
{
	a->user_id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, a->presence, sizeof(a->presence));
	sq_col_text(st, 2, a->away_reason, sizeof(a->away_reason));
	a->presence_since = sqlite3_column_int64(st, 3);
	a->capacity = sqlite3_column_int(st, 4);
	a->interaction_id = sqlite3_column_int64(st, 5);
}

static void row_queue(sqlite3_stmt *st, struct st_queue *q)
{
	q->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, q->name, sizeof(q->name));
	q->priority = sqlite3_column_int(st, 2);
	q->sl_threshold_s = sqlite3_column_int(st, 3);
	q->max_wait_s = sqlite3_column_int(st, 4);
	sq_col_text(st, 5, q->strategy, sizeof(q->strategy));
	q->overflow_queue_id = sqlite3_column_int64(st, 6);
	sq_col_text(st, 7, q->hold_music, sizeof(q->hold_music));
	sq_col_text(st, 8, q->wrap_up_codes, sizeof(q->wrap_up_codes));
	q->deleted = sqlite3_column_int(st, 9);
	sq_col_text(st, 10, q->sl_abandons, sizeof(q->sl_abandons));
}

static void row_member(sqlite3_stmt *st, struct st_member *m)
{
	m->queue_id = sqlite3_column_int64(st, 0);
	m->user_id = sqlite3_column_int64(st, 1);
	m->priority = sqlite3_column_int(st, 2);
}

static void row_session(sqlite3_stmt *st, struct st_session *s)
{
	sq_col_text(st, 0, s->token_hash, sizeof(s->token_hash));
	s->user_id = sqlite3_column_int64(st, 1);
	s->created_at = sqlite3_column_int64(st, 2);
	s->expires_at = sqlite3_column_int64(st, 3);
}

static void row_flag(sqlite3_stmt *st, struct st_flag *f)
{
	sq_col_text(st, 0, f->name, sizeof(f->name));
	sq_col_text(st, 1, f->value, sizeof(f->value));
}

static void row_number(sqlite3_stmt *st, struct st_number *n)
{
	sq_col_text(st, 0, n->did, sizeof(n->did));
	n->queue_id = sqlite3_column_int64(st, 1);
	sq_col_text(st, 2, n->flow, sizeof(n->flow));
}

static void row_binding(sqlite3_stmt *st, struct st_binding *b)
{
	b->user_id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, b->contact, sizeof(b->contact));
	b->expires_at = sqlite3_column_int64(st, 2);
}

static void row_trunk(sqlite3_stmt *st, struct st_trunk *t)
{
	sq_col_text(st, 0, t->name, sizeof(t->name));
	sq_col_text(st, 1, t->address, sizeof(t->address));
	sq_col_text(st, 2, t->username, sizeof(t->username));
	sq_col_text(st, 3, t->sip_ha1, sizeof(t->sip_ha1));
}

static void row_quick_connect(sqlite3_stmt *st, struct st_quick_connect *c)
{
	c->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, c->name, sizeof(c->name));
	sq_col_text(st, 2, c->number, sizeof(c->number));
}

static void row_webhook(sqlite3_stmt *st, struct st_webhook *w)
{
	w->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, w->url, sizeof(w->url));
	sq_col_text(st, 2, w->secret, sizeof(w->secret));
	sq_col_text(st, 3, w->events, sizeof(w->events));
	w->active = sqlite3_column_int(st, 4);
	w->created_at = sqlite3_column_int64(st, 5);
	w->updated_at = sqlite3_column_int64(st, 6);
}

/* Runs sql and fills a growing array of elem-sized rows with fill(). */
typedef void(row_fill_h)(sqlite3_stmt *st, void *row);
static int load_rows(sqlite3 *db, const char *sql, row_fill_h *fill, size_t elem, void **arr,
		     size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*arr = NULL, *n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("load: %s", sqlite3_errmsg(db));
		return CC_ESTORE;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *na = grow(*arr, *n, &cap, elem);
		if (!na) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		*arr = na;
		memset((char *)*arr + *n * elem, 0, elem);
		fill(st, (char *)*arr + (*n)++ * elem);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

static int64_t scalar_i64(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#define LOAD(sql, fn, field)                                                                       \
	(err = err ? err                                                                           \
		   : load_rows(db, sql, (row_fill_h *)fn, sizeof(*s->field), (void **)&s->field,   \
			       &s->n_##field))

static int be_load(void *p, struct st_snapshot *s)
{
	struct sqlite_be *be = p;
	sqlite3 *db = be->writer;
	int err = 0;

	memset(s, 0, sizeof(*s));
	LOAD("SELECT id,user_name,name,email,mobile_phone,business_phone,password_hash,active,"
	     "created_at,sip_ha1 FROM users ORDER BY id",
	     row_user, users);
	LOAD("SELECT user_id,role FROM user_roles", row_user_role, user_roles);
	LOAD("SELECT user_id,presence,away_reason,presence_since,capacity,interaction_id "
	     "FROM agents",
	     row_agent, agents);
	LOAD("SELECT id,name,priority,sl_threshold_s,max_wait_s,strategy,overflow_queue_id,"
	     "hold_music,wrap_up_codes,deleted,sl_abandons FROM queues ORDER BY id",
	     row_queue, queues);
	LOAD("SELECT queue_id,user_id,priority FROM queue_members", row_member, members);
	LOAD("SELECT " IX_COLS ",(SELECT coalesce(max(segment),0) FROM ctr WHERE "
	     "interaction_id=interactions.id) FROM interactions WHERE state IN "
	     "('new','work_in_progress')",
	     row_open_interaction, open);
	LOAD("SELECT token_hash,user_id,created_at,expires_at FROM sessions", row_session,
	     sessions);
	LOAD("SELECT name,value FROM flags", row_flag, flags);
	LOAD("SELECT did,queue_id,flow FROM numbers", row_number, numbers);
	LOAD("SELECT name,address,username,sip_ha1 FROM trunks", row_trunk, trunks);
	LOAD("SELECT user_id,contact,expires_at FROM sip_bindings WHERE expires_at > "
	     "CAST(strftime('%s','now') AS INTEGER) * 1000",
	     row_binding, bindings);
	LOAD("SELECT id,name,number FROM quick_connects ORDER BY id", row_quick_connect,
	     quick_connects);
	s->max_interaction_id = scalar_i64(db, "SELECT max(id) FROM interactions");
	s->max_user_id = scalar_i64(db, "SELECT max(id) FROM users");
	s->max_queue_id = scalar_i64(db, "SELECT max(id) FROM queues");
	s->max_conversation_id = scalar_i64(db, "SELECT max(id) FROM conversations");
	/* AUTOINCREMENT's high-water mark: a deleted row's id is never reused */
	s->max_quick_connect_id =
		scalar_i64(db, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE "
			       "name='quick_connects'),0),coalesce((SELECT max(id) FROM "
			       "quick_connects),0))");
	LOAD("SELECT id,url,secret,events,active,created_at,updated_at FROM webhooks ORDER BY id",
	     row_webhook, webhooks);
	s->max_webhook_id =
		scalar_i64(db, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE "
			       "name='webhooks'),0),coalesce((SELECT max(id) FROM webhooks),0))");
	return err ? err : sqltr_load(db, s);
}

/* ---- writes ---- */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* ?1..?39 in CTR_COLS order. */
static void ctr_bind(sqlite3_stmt *st, const struct st_ctr *c)
{
	const char *text[] = {
		[1] = c->contact_id,
		[4] = c->initial_contact_id,
		[5] = c->previous_contact_id,
		[6] = c->next_contact_id,
		[7] = c->channel,
		[8] = c->initiation_method,
		[9] = c->customer_endpoint,
		[10] = c->system_endpoint,
		[11] = c->transfer_type,
		[12] = c->transferred_to,
		[18] = c->queue,
		[23] = c->agent,
		[24] = c->agent_name,
		[33] = c->wrap_up_code,
		[36] = c->intent,
		[37] = c->recording,
		[38] = c->disconnect_reason,
		[39] = c->attributes,
	};
	const int64_t num[] = {
		[2] = c->interaction_id, [3] = c->segment,
		[13] = c->initiation_at, [14] = c->connected_to_system_at,
		[15] = c->disconnect_at, [16] = c->last_update_at,
		[17] = c->queue_id,	 [19] = c->enqueue_at,
		[20] = c->dequeue_at,	 [21] = c->queue_ms,
		[22] = c->agent_user_id, [25] = c->connected_to_agent_at,
		[26] = c->talk_ms,	 [27] = c->hold_ms,
		[28] = c->holds,	 [29] = c->longest_hold_ms,
		[30] = c->acw_start_at,	 [31] = c->acw_end_at,
		[32] = c->acw_ms,	 [34] = c->connection_attempts,
		[35] = c->missed_offers,
	};

	for (int i = 1; i < (int)(sizeof(text) / sizeof(text[0])); i++) {
		if (text[i])
			bind_text(st, i, text[i]);
		else if (i < (int)(sizeof(num) / sizeof(num[0])))
			sqlite3_bind_int64(st, i, num[i]);
	}
}

static void bind_op(sqlite3_stmt *st, const struct store_op *op)
{
	const struct st_user *u = &op->u.user;
	const struct st_interaction *ix = &op->u.interaction;

	switch (op->kind) {
	case STORE_OP_USER_INSERT:
	case STORE_OP_USER_UPDATE:
		sqlite3_bind_int64(st, 1, u->id);
		bind_text(st, 2, u->user_name);
		bind_text(st, 3, u->name);
		bind_text(st, 4, u->email);
		bind_text(st, 5, u->mobile_phone);
		bind_text(st, 6, u->business_phone);
		bind_text(st, 7, u->password_hash);
		sqlite3_bind_int(st, 8, u->active);
		sqlite3_bind_int64(st, 9, u->created_at);
		bind_text(st, 10, u->sip_ha1);
		break;
	case STORE_OP_ROLE_GRANT:
	case STORE_OP_ROLE_REVOKE:
		sqlite3_bind_int64(st, 1, op->u.role.user_id);
		bind_text(st, 2, op->u.role.role);
		break;
	case STORE_OP_AGENT_UPSERT:
		sqlite3_bind_int64(st, 1, op->u.agent.user_id);
		bind_text(st, 2, op->u.agent.presence);
		bind_text(st, 3, op->u.agent.away_reason);
		sqlite3_bind_int64(st, 4, op->u.agent.presence_since);
		sqlite3_bind_int(st, 5, op->u.agent.capacity);
		sqlite3_bind_int64(st, 6, op->u.agent.interaction_id);
		break;
	case STORE_OP_PRESENCE_CHANGE:
		sqlite3_bind_int64(st, 1, op->u.presence.user_id);
		sqlite3_bind_int64(st, 2, op->u.presence.at);
		bind_text(st, 3, op->u.presence.from);
		bind_text(st, 4, op->u.presence.to);
		bind_text(st, 5, op->u.presence.reason);
		sqlite3_bind_int64(st, 6, op->u.presence.interaction_id);
		break;
	case STORE_OP_QUEUE_INSERT:
	case STORE_OP_QUEUE_UPDATE:
		sqlite3_bind_int64(st, 1, op->u.queue.id);
		bind_text(st, 2, op->u.queue.name);
		sqlite3_bind_int(st, 3, op->u.queue.priority);
		sqlite3_bind_int(st, 4, op->u.queue.sl_threshold_s);
		sqlite3_bind_int(st, 5, op->u.queue.max_wait_s);
		bind_text(st, 6, op->u.queue.strategy[0] ? op->u.queue.strategy : "longest_idle");
		sqlite3_bind_int64(st, 7, op->u.queue.overflow_queue_id);
		bind_text(st, 8, op->u.queue.hold_music);
		bind_text(st, 9, op->u.queue.wrap_up_codes);
		sqlite3_bind_int(st, 10, op->u.queue.deleted);
		bind_text(st, 11, op->u.queue.sl_abandons[0] ? op->u.queue.sl_abandons : "met");
		break;
	case STORE_OP_MEMBER_ADD:
	case STORE_OP_MEMBER_DELETE:
		sqlite3_bind_int64(st, 1, op->u.member.queue_id);
		sqlite3_bind_int64(st, 2, op->u.member.user_id);
		if (op->kind == STORE_OP_MEMBER_ADD)
			sqlite3_bind_int(st, 3, op->u.member.priority ? op->u.member.priority : 1);
		break;
	case STORE_OP_AUDIT_INSERT:
		sqlite3_bind_int64(st, 1, op->u.audit.at);
		bind_text(st, 2, op->u.audit.actor);
		bind_text(st, 3, op->u.audit.action);
		bind_text(st, 4, op->u.audit.object);
		bind_text(st, 5, op->u.audit.before);
		bind_text(st, 6, op->u.audit.after);
		break;
	case STORE_OP_INTERACTION_INSERT:
	case STORE_OP_INTERACTION_UPDATE:
		sqlite3_bind_int64(st, 1, ix->id);
		bind_text(st, 2, ix->number);
		bind_text(st, 3, ix->type);
		bind_text(st, 4, ix->direction);
		bind_text(st, 5, ix->state);
		sqlite3_bind_int(st, 6, ix->queued);
		bind_text(st, 7, ix->caller_number);
		sqlite3_bind_int64(st, 8, ix->queue_id);
		sqlite3_bind_int64(st, 9, ix->agent_user_id);
		bind_text(st, 10, ix->linked_table);
		bind_text(st, 11, ix->linked_number);
		sqlite3_bind_int64(st, 12, ix->opened_at);
		sqlite3_bind_int64(st, 13, ix->closed_at);
		bind_text(st, 14, ix->close_reason);
		bind_text(st, 15, ix->wrap_up_code);
		break;
	case STORE_OP_ACTIVITY_INSERT:
		sqlite3_bind_int64(st, 1, op->u.activity.interaction_id);
		sqlite3_bind_int64(st, 2, op->u.activity.at);
		bind_text(st, 3, op->u.activity.kind);
		bind_text(st, 4, op->u.activity.actor);
		bind_text(st, 5, op->u.activity.text);
		break;
	case STORE_OP_SESSION_INSERT:
	case STORE_OP_SESSION_DELETE:
		bind_text(st, 1, op->u.session.token_hash);
		sqlite3_bind_int64(st, 2, op->u.session.user_id);
		sqlite3_bind_int64(st, 3, op->u.session.created_at);
		sqlite3_bind_int64(st, 4, op->u.session.expires_at);
		break;
	case STORE_OP_FLAG_SET:
		bind_text(st, 1, op->u.flag.name);
		bind_text(st, 2, op->u.flag.value);
		break;
	case STORE_OP_NUMBER_SET:
		bind_text(st, 1, op->u.number.did);
		sqlite3_bind_int64(st, 2, op->u.number.queue_id);
		bind_text(st, 3, op->u.number.flow);
		break;
	case STORE_OP_TRUNK_SET:
		bind_text(st, 1, op->u.trunk.name);
		bind_text(st, 2, op->u.trunk.address);
		bind_text(st, 3, op->u.trunk.username);
		bind_text(st, 4, op->u.trunk.sip_ha1);
		break;
	case STORE_OP_NUMBER_DELETE: bind_text(st, 1, op->u.number.did); break;
	case STORE_OP_TRUNK_DELETE: bind_text(st, 1, op->u.trunk.name); break;
	case STORE_OP_BINDING_SET:
	case STORE_OP_BINDING_DELETE:
		sqlite3_bind_int64(st, 1, op->u.binding.user_id);
		if (op->kind == STORE_OP_BINDING_SET) {
			bind_text(st, 2, op->u.binding.contact);
			sqlite3_bind_int64(st, 3, op->u.binding.expires_at);
		}
		break;
	case STORE_OP_QUICK_CONNECT_SET:
	case STORE_OP_QUICK_CONNECT_DELETE:
		sqlite3_bind_int64(st, 1, op->u.quick.id);
		if (op->kind == STORE_OP_QUICK_CONNECT_SET) {
			bind_text(st, 2, op->u.quick.name);
			bind_text(st, 3, op->u.quick.number);
		}
		break;
	case STORE_OP_CTR_SET: ctr_bind(st, &op->u.ctr); break;
	case STORE_OP_WEBHOOK_SET:
	case STORE_OP_WEBHOOK_DELETE:
		sqlite3_bind_int64(st, 1, op->u.webhook.id);
		if (op->kind == STORE_OP_WEBHOOK_DELETE)
			break;
		bind_text(st, 2, op->u.webhook.url);
		bind_text(st, 3, op->u.webhook.secret);
		bind_text(st, 4, op->u.webhook.events);
		sqlite3_bind_int(st, 5, op->u.webhook.active);
		sqlite3_bind_int64(st, 6, op->u.webhook.created_at);
		sqlite3_bind_int64(st, 7, op->u.webhook.updated_at);
		break;
	case STORE_OP_OUTBOX_INSERT:
		bind_text(st, 1, op->u.outbox.event_id);
		bind_text(st, 2, op->u.outbox.type);
		bind_text(st, 3, op->u.outbox.body ? op->u.outbox.body : "");
		sqlite3_bind_int64(st, 4, op->u.outbox.at);
		break;
	case STORE_OP_OUTBOX_RESULT:
		sqlite3_bind_int64(st, 1, op->u.result.seq);
		sqlite3_bind_int(st, 2, op->u.result.attempts);
		sqlite3_bind_int64(st, 3, op->u.result.next_attempt_at);
		sqlite3_bind_int64(st, 4, op->u.result.delivered_at);
		sqlite3_bind_int64(st, 5, op->u.result.expired_at);
		sqlite3_bind_int(st, 6, op->u.result.last_status);
		bind_text(st, 7, op->u.result.last_error);
		break;
	case STORE_OP_OUTBOX_PURGE: sqlite3_bind_int64(st, 1, op->u.before); break;
	case STORE_OP_TRANSCRIPT_SET:
	case STORE_OP_TRANSCRIPT_POLICY_SET: sqltr_bind(st, op); break; /* store_transcript.c */
	case STORE_OP_RECORD_INSERT:
	case STORE_OP_RECORD_UPDATE:
	case STORE_OP_RECORD_DELETE: break; /* store_records.c */
	case STORE_OP_CASE_SET:
		bind_text(st, 1, op->u.kase.number);
		sqlite3_bind_int64(st, 2, op->u.kase.contact_user_id);
		bind_text(st, 3, op->u.kase.short_description);
		bind_text(st, 4, op->u.kase.state);
		sqlite3_bind_int64(st, 5, op->u.kase.opened_at);
		sqlite3_bind_int64(st, 6, op->u.kase.updated_at);
		break;
	case STORE_OP_CONVERSATION_INSERT:
		sqlite3_bind_int64(st, 1, op->u.conversation.id);
		bind_text(st, 2, op->u.conversation.number);
		sqlite3_bind_int64(st, 3, op->u.conversation.interaction_id);
		bind_text(st, 4, op->u.conversation.linked_table);
		bind_text(st, 5, op->u.conversation.linked_number);
		sqlite3_bind_int64(st, 6, op->u.conversation.agent_user_id);
		bind_text(st, 7, op->u.conversation.flag);
		sqlite3_bind_int64(st, 8, op->u.conversation.created_at);
		break;
	}
}

static int apply_one(struct sqlite_be *be, const struct store_op *op)
{
	int err;

	if (op->kind >= STORE_OP_RECORD_INSERT && op->kind <= STORE_OP_RECORD_DELETE)
		return sqlrec_apply(be, op); /* store_records.c */
	/* the report aggregates move with the record (store_reports.c) */
	err = op->kind == STORE_OP_CTR_SET	     ? sqlrep_ctr(be, &op->u.ctr)
	      : op->kind == STORE_OP_PRESENCE_CHANGE ? sqlrep_presence(be, &op->u.presence)
						     : 0;
	if (err)
		return err;
	for (int j = 0; j < 2; j++) {
		sqlite3_stmt *st = be->op_stmt[op->kind][j];
		int rc;
		if (!st)
			continue;
		bind_op(st, op);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE) {
			log_error("write op %d failed: %s", op->kind, sqlite3_errmsg(be->writer));
			return rc == SQLITE_CONSTRAINT ? CC_ECONFLICT : CC_ESTORE;
		}
	}
	return 0;
}

static int be_apply(void *p, const struct store_op *ops, size_t n)
{
	struct sqlite_be *be = p;
	int err;

	if (exec_sql(be->writer, "BEGIN IMMEDIATE"))
		return CC_ESTORE;
	for (size_t i = 0; i < n; i++) {
		err = apply_one(be, &ops[i]);
		if (err) {
			exec_sql(be->writer, "ROLLBACK");
			return err;
		}
	}
	return exec_sql(be->writer, "COMMIT");
}

/* ---- reads ---- */
/* The latest note of each row (the customer's history shows it). */
#define IX_LIST_SELECT                                                                             \
	"SELECT " IX_COLS ",(SELECT substr(a.text,1,159) FROM activity a WHERE "                   \
	"a.interaction_id=interactions.id AND a.kind='note' ORDER BY a.id DESC LIMIT 1)"
/* With words: where the transcript says them (store.h, ST_SNIPPET). */
#define IX_LIST_SNIPPET                                                                            \
	",(SELECT snippet(transcript_fts,0,char(1),char(2),'...',16) FROM transcript_fts "         \
	"WHERE transcript_fts MATCH ?10 AND rowid=interactions.id)"

static int ix_list_row(sqlite3_stmt *st, const struct store_ix_filter *f, struct store_ix_page *pg,
		       size_t *cap, size_t *scap)
{
	void *na = grow(pg->rows, pg->n, cap, sizeof(*pg->rows));

	if (!na)
		return SQLITE_NOMEM;
	pg->rows = na;
	if (f->words[0]) {
		void *ns = grow(pg->snippets, pg->n, scap, sizeof(*pg->snippets));
		if (!ns)
			return SQLITE_NOMEM;
		pg->snippets = ns;
		sq_col_text(st, IX_NCOLS + 1, pg->snippets[pg->n], sizeof(pg->snippets[pg->n]));
	}
	row_interaction(st, &pg->rows[pg->n]);
	sq_col_text(st, IX_NCOLS, pg->rows[pg->n].last_note, sizeof(pg->rows[pg->n].last_note));
	pg->n++;
	return SQLITE_ROW;
}

static int ix_list_query(sqlite3 *db, const struct store_ix_filter *f, struct store_ix_page *pg)
{
	/* The caller's number compared by its digits, as phone_digits writes them. */
	char sql[2048] = IX_LIST_SELECT;
	sqlite3_stmt *st;
	size_t cap = 0, scap = 0;
	int rc;

	if (f->words[0])
		strcat(sql, IX_LIST_SNIPPET);
	strcat(sql, " FROM interactions WHERE 1=1");
	if (f->state[0])
		strcat(sql, " AND state=?1");
	if (f->agent_user_id)
		strcat(sql, " AND agent_user_id=?2");
	if (f->queue_id)
		strcat(sql, " AND queue_id=?3");
	if (f->direction[0])
		strcat(sql, " AND direction=?4");
	if (f->from_ms)
		strcat(sql, " AND opened_at>=?5");
	if (f->to_ms)
		strcat(sql, " AND opened_at<?6");
	if (f->before_id)
		strcat(sql, " AND id<?7");
	if (f->phone[0])
		strcat(sql,
		       " AND replace(replace(replace(replace(replace(caller_number,'+',''),' ',''),"
		       "'-',''),'(',''),')','')=?9");
	if (f->words[0]) /* the transcripts' words (migration 013, FTS5) */
		strcat(sql, " AND id IN (SELECT rowid FROM transcript_fts WHERE transcript_fts "
			    "MATCH ?10)");
	strcat(sql, " ORDER BY id DESC LIMIT ?8");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	bind_text(st, 1, f->state);
	sqlite3_bind_int64(st, 2, f->agent_user_id);
	sqlite3_bind_int64(st, 3, f->queue_id);
	bind_text(st, 4, f->direction);
	sqlite3_bind_int64(st, 5, f->from_ms);
	sqlite3_bind_int64(st, 6, f->to_ms);
	sqlite3_bind_int64(st, 7, f->before_id);
	sqlite3_bind_int(st, 8, f->limit + 1);
	bind_text(st, 9, f->phone);
	bind_text(st, 10, f->words);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (pg->n == (size_t)f->limit) {
			pg->more = true;
			continue;
		}
		if ((rc = ix_list_row(st, f, pg, &cap, &scap)) != SQLITE_ROW)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

static int be_ix_list(void *p, const struct store_ix_filter *f, struct store_ix_page *pg)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = ix_list_query(db, f, pg);
	sqlbe_reader_put(be, slot);
	return err;
}

static void row_activity(sqlite3_stmt *st, struct st_activity *a)
{
	a->id = sqlite3_column_int64(st, 0);
	a->interaction_id = sqlite3_column_int64(st, 1);
	a->at = sqlite3_column_int64(st, 2);
	sq_col_text(st, 3, a->kind, sizeof(a->kind));
	sq_col_text(st, 4, a->actor, sizeof(a->actor));
	sq_col_text(st, 5, a->text, sizeof(a->text));
}

static void row_conversation(sqlite3_stmt *st, struct st_conversation *c)
{
	c->id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, c->number, sizeof(c->number));
	c->interaction_id = sqlite3_column_int64(st, 2);
	sq_col_text(st, 3, c->linked_table, sizeof(c->linked_table));
	sq_col_text(st, 4, c->linked_number, sizeof(c->linked_number));
	c->agent_user_id = sqlite3_column_int64(st, 5);
	sq_col_text(st, 6, c->flag, sizeof(c->flag));
	c->created_at = sqlite3_column_int64(st, 7);
}

/* The interaction of a number: 0 (and *found), or CC_ESTORE. */
int sqltr_ix_by_number(sqlite3 *db, const char *number, struct st_interaction *ix, bool *found)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT " IX_COLS " FROM interactions WHERE number=?1", -1, &st,
			       NULL) != SQLITE_OK)
		return CC_ESTORE;
	bind_text(st, 1, number);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = true;
		row_interaction(st, ix);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

#define ix_by_number sqltr_ix_by_number

static int ix_get_query(sqlite3 *db, const char *number, struct store_ix_detail *d)
{
	sqlite3_stmt *st;
	char sql[256];
	int rc = ix_by_number(db, number, &d->ix, &d->found);

	if (rc || !d->found)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SELECT id,interaction_id,at,kind,actor,text FROM activity "
		 "WHERE interaction_id=%lld ORDER BY id",
		 (long long)d->ix.id);
	rc = load_rows(db, sql, (row_fill_h *)row_activity, sizeof(*d->activity),
		       (void **)&d->activity, &d->n_activity);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT status FROM transcripts WHERE interaction_id=?1", -1,
			       &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	sqlite3_bind_int64(st, 1, d->ix.id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sq_col_text(st, 0, d->transcript, sizeof(d->transcript));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return CC_ESTORE;
	snprintf(sql, sizeof(sql),
		 "SELECT id,number,interaction_id,source_table,source_number,agent_user_id,flag,"
		 "created_at FROM conversations WHERE interaction_id=%lld ORDER BY id",
		 (long long)d->ix.id);
	return load_rows(db, sql, (row_fill_h *)row_conversation, sizeof(*d->conversations),
			 (void **)&d->conversations, &d->n_conversations);
}

static int be_ix_get(void *p, const char *number, struct store_ix_detail *d)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = ix_get_query(db, number, d);
	sqlbe_reader_put(be, slot);
	return err;
}

static int be_count(void *p, int64_t *n)
{
	struct sqlite_be *be = p;
	int slot;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	*n = scalar_i64(db, "SELECT count(*) FROM interactions");
	sqlbe_reader_put(be, slot);
	return 0;
}

static int be_case_latest(void *p, int64_t customer, struct st_case *c, bool *found)
{
	struct sqlite_be *be = p;
	int slot, rc;
	sqlite3 *db = sqlbe_reader_get(be, &slot);
	sqlite3_stmt *st;

	*found = false;
	rc = sqlite3_prepare_v2(
		db,
		"SELECT id,number,contact_user_id,short_description,state,opened_at,"
		"updated_at FROM cases WHERE contact_user_id=?1 "
		"ORDER BY state='Closed', updated_at DESC, id DESC LIMIT 1",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, customer);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*found = true;
			c->id = sqlite3_column_int64(st, 0);
			sq_col_text(st, 1, c->number, sizeof(c->number));
			c->contact_user_id = sqlite3_column_int64(st, 2);
			sq_col_text(st, 3, c->short_description, sizeof(c->short_description));
			sq_col_text(st, 4, c->state, sizeof(c->state));
			c->opened_at = sqlite3_column_int64(st, 5);
			c->updated_at = sqlite3_column_int64(st, 6);
		}
		sqlite3_finalize(st);
	}
	sqlbe_reader_put(be, slot);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

/* ---- contact trace records ---- */
static void row_ctr(sqlite3_stmt *st, struct st_ctr *c)
{
	struct {
		char *dst;
		size_t size;
	} text[] = {
		[0] = {c->contact_id, sizeof(c->contact_id)},
		[3] = {c->initial_contact_id, sizeof(c->initial_contact_id)},
		[4] = {c->previous_contact_id, sizeof(c->previous_contact_id)},
		[5] = {c->next_contact_id, sizeof(c->next_contact_id)},
		[6] = {c->channel, sizeof(c->channel)},
		[7] = {c->initiation_method, sizeof(c->initiation_method)},
		[8] = {c->customer_endpoint, sizeof(c->customer_endpoint)},
		[9] = {c->system_endpoint, sizeof(c->system_endpoint)},
		[10] = {c->transfer_type, sizeof(c->transfer_type)},
		[11] = {c->transferred_to, sizeof(c->transferred_to)},
		[17] = {c->queue, sizeof(c->queue)},
		[22] = {c->agent, sizeof(c->agent)},
		[23] = {c->agent_name, sizeof(c->agent_name)},
		[32] = {c->wrap_up_code, sizeof(c->wrap_up_code)},
		[35] = {c->intent, sizeof(c->intent)},
		[36] = {c->recording, sizeof(c->recording)},
		[37] = {c->disconnect_reason, sizeof(c->disconnect_reason)},
		[38] = {c->attributes, sizeof(c->attributes)},
	};
	int64_t *num[] = {
		[1] = &c->interaction_id,
		[12] = &c->initiation_at,
		[13] = &c->connected_to_system_at,
		[14] = &c->disconnect_at,
		[15] = &c->last_update_at,
		[16] = &c->queue_id,
		[18] = &c->enqueue_at,
		[19] = &c->dequeue_at,
		[20] = &c->queue_ms,
		[21] = &c->agent_user_id,
		[24] = &c->connected_to_agent_at,
		[25] = &c->talk_ms,
		[26] = &c->hold_ms,
		[28] = &c->longest_hold_ms,
		[29] = &c->acw_start_at,
		[30] = &c->acw_end_at,
		[31] = &c->acw_ms,
	};

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < (int)(sizeof(text) / sizeof(text[0])); i++) {
		if (text[i].dst)
			sq_col_text(st, i, text[i].dst, text[i].size);
		else if (i < (int)(sizeof(num) / sizeof(num[0])) && num[i])
			*num[i] = sqlite3_column_int64(st, i);
	}
	c->segment = sqlite3_column_int(st, 2);
	c->holds = sqlite3_column_int(st, 27);
	c->connection_attempts = sqlite3_column_int(st, 33);
	c->missed_offers = sqlite3_column_int(st, 34);
}

void sqlbe_row_ctr(sqlite3_stmt *st, struct st_ctr *c)
{
	row_ctr(st, c);
}

static int ctr_list_query(sqlite3 *db, const char *number, struct store_ctr_list *l)
{
	char sql[600];
	int rc = ix_by_number(db, number, &l->ix, &l->found);

	if (rc || !l->found)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SELECT " CTR_COLS " FROM ctr WHERE interaction_id=%lld ORDER BY segment",
		 (long long)l->ix.id);
	rc = load_rows(db, sql, (row_fill_h *)row_ctr, sizeof(*l->rows), (void **)&l->rows, &l->n);
	for (size_t i = 0; i < l->n; i++)
		str_copy(l->rows[i].interaction, l->ix.number, sizeof(l->rows[i].interaction));
	return rc;
}

static int be_ctr_list(void *p, const char *number, struct store_ctr_list *l)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = ctr_list_query(db, number, l);
	sqlbe_reader_put(be, slot);
	return err;
}

/* ---- the audit log ---- */
static void row_audit(sqlite3_stmt *st, struct st_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->at = sqlite3_column_int64(st, 1);
	sq_col_text(st, 2, a->actor, sizeof(a->actor));
	sq_col_text(st, 3, a->action, sizeof(a->action));
	sq_col_text(st, 4, a->object, sizeof(a->object));
	sq_col_text(st, 5, a->before, sizeof(a->before));
	sq_col_text(st, 6, a->after, sizeof(a->after));
}

static int audit_query(sqlite3 *db, const struct store_audit_filter *f, struct store_audit_page *pg)
{
	static const char sql[] =
		"SELECT id,at,actor,action,object,before,after FROM audit WHERE "
		"(?1='' OR actor=?1) AND (?2='' OR action=?2 OR "
		"substr(action,1,length(?2)+1)=?2||'.')"
		" AND (?3='' OR instr(object,?3)>0) AND (?4=0 OR at>=?4) AND (?5=0 OR at<?5)"
		" AND (?6=0 OR id<?6) ORDER BY id DESC LIMIT ?7";
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	bind_text(st, 1, f->actor);
	bind_text(st, 2, f->action);
	bind_text(st, 3, f->object);
	sqlite3_bind_int64(st, 4, f->from_ms);
	sqlite3_bind_int64(st, 5, f->to_ms);
	sqlite3_bind_int64(st, 6, f->before_id);
	sqlite3_bind_int(st, 7, f->limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *na;
		if (pg->n == (size_t)f->limit) {
			pg->more = true;
			continue;
		}
		na = grow(pg->rows, pg->n, &cap, sizeof(*pg->rows));
		if (!na) {
			rc = SQLITE_NOMEM;
			break;
		}
		pg->rows = na;
		row_audit(st, &pg->rows[pg->n++]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CC_ESTORE;
}

static int be_audit_list(void *p, const struct store_audit_filter *f, struct store_audit_page *pg)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = audit_query(db, f, pg);
	sqlbe_reader_put(be, slot);
	return err;
}

const struct store_backend store_backend_sqlite = {
	.version = STORE_BACKEND_VERSION,
	.name = "sqlite",
	.open = be_open,
	.close = be_close,
	.load = be_load,
	.apply = be_apply,
	.ix_list = be_ix_list,
	.ix_get = be_ix_get,
	.count_interactions = be_count,
	.case_latest = be_case_latest,
	.rec_list = sqlrec_list,
	.rec_get = sqlrec_get,
	.party_by_phone = sqlrec_party_by_phone,
	.case_latest_of = sqlrec_case_latest_of,
	.audit_list = be_audit_list,
	.ctr_list = be_ctr_list,
	.outbox_fetch = sqlhook_outbox_fetch,
	.outbox_counts = sqlhook_outbox_counts,
	.rep_query = sqlrep_query,
	.rep_segments = sqlrep_segments,
	.queue_day = sqlday_queue_day,
	.transcript_get = sqltr_transcript_get,
};
