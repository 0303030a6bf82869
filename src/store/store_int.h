/* store_int.h — the SQLite backend's private parts, shared by store_sqlite.c
 * (connections, migrations, the typed ops), store_records.c (contacts,
 * consumers, cases and incidents), store_outbox.c (the webhooks' outbox
 * reads) and store_reports.c (the report aggregates). */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

/* A contact trace record's columns, in the order STORE_OP_CTR_SET binds
 * them (?1..?39) and row_ctr reads them. */
#define CTR_COLS                                                                                   \
	"contact_id,interaction_id,segment,initial_contact_id,"                                    \
	"previous_contact_id,next_contact_id,channel,initiation_method,"                           \
	"customer_endpoint,system_endpoint,transfer_type,transferred_to,"                          \
	"initiation_at,connected_to_system_at,disconnect_at,last_update_at,"                       \
	"queue_id,queue,enqueue_at,dequeue_at,queue_ms,agent_user_id,agent,"                       \
	"agent_name,connected_to_agent_at,talk_ms,hold_ms,holds,"                                  \
	"longest_hold_ms,acw_start_at,acw_end_at,acw_ms,wrap_up_code,"                             \
	"connection_attempts,missed_offers,intent,recording,disconnect_reason,"                    \
	"attributes"

#define MAX_READERS 64
#define N_OPS	    (STORE_OP_TRANSCRIPT_POLICY_SET + 1)

struct sqlite_be {
	sqlite3 *writer;
	sqlite3_stmt *op_stmt[N_OPS][2]; /* up to two statements per op kind */
	sqlite3 *readers[MAX_READERS];
	bool busy[MAX_READERS];
	int n_readers;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct sqlrep *rep; /* store_reports.c: its statements on the writer */
};

/* store_sqlite.c: column helpers of every backend file. sq_col_text copies
 * column i (NULL as "") into dst; sq_col_dup returns it as a heap string
 * (NULL when out of memory); sq_bind_text binds s, or NULL when s is. */
void sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t size);
char *sq_col_dup(sqlite3_stmt *st, int i);
void sq_bind_text(sqlite3_stmt *st, int i, const char *s);

/* store_sqlite.c: borrows a reader connection (blocks until one is free). */
sqlite3 *sqlbe_reader_get(struct sqlite_be *be, int *slot);
void sqlbe_reader_put(struct sqlite_be *be, int slot);

/* store_sqlite.c: a ctr row selected as CTR_COLS. */
void sqlbe_row_ctr(sqlite3_stmt *st, struct st_ctr *c);

/* store_reports.c (docs/REPORTS.md): prepares its statements and, when
 * rep_state says so, builds the aggregates from the stored records. */
int sqlrep_open(struct sqlite_be *be);
void sqlrep_close(struct sqlite_be *be);
/* Inside the writer's open transaction, before the op's own statements. */
int sqlrep_ctr(struct sqlite_be *be, const struct st_ctr *c);
int sqlrep_presence(struct sqlite_be *be, const struct st_presence_change *p);
int sqlrep_query(void *be, const struct store_rep_query *q, struct store_rep_result *r);
int sqlrep_segments(void *be, const struct store_rep_drill *d, struct store_rep_segments *s);

/* store_records.c */
/* Adds sb_digits(x) (phone_digits) to a connection. */
int sqlrec_register(sqlite3 *db);
/* Applies one STORE_OP_RECORD_* on the writer, inside the open transaction. */
int sqlrec_apply(struct sqlite_be *be, const struct store_op *op);
int sqlrec_list(void *be, const struct store_rec_filter *f, struct store_rec_page *pg);
int sqlrec_get(void *be, enum st_table t, const char *key, struct st_record *r, bool *found);
int sqlrec_party_by_phone(void *be, const char *digits, struct st_record *r, bool *found);
int sqlrec_case_latest_of(void *be, enum st_table party, int64_t party_id, struct st_case *c,
			  bool *found);

/* store_transcript.c */
int sqltr_transcript_get(void *be, const char *number, struct store_transcript *t);
int sqltr_load(sqlite3 *db, struct st_snapshot *s);
void sqltr_bind(sqlite3_stmt *st, const struct store_op *op);
int sqltr_ix_by_number(sqlite3 *db, const char *number, struct st_interaction *ix, bool *found);

/* store_outbox.c */
int sqlhook_outbox_fetch(void *be, int64_t webhook_id, int64_t after_seq, int limit,
			 struct store_outbox_page *pg);
int sqlhook_outbox_counts(void *be, struct store_outbox_counts *c);

/* store_day.c */
int sqlday_queue_day(void *be, int64_t from_ms, int64_t to_ms, struct st_queue_day **rows,
		     size_t *n);

#endif
