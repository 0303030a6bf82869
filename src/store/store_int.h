/* store_int.h — the SQLite backend's private parts, shared by store_sqlite.c
 * (connections, migrations, the typed ops), store_records.c (contacts,
 * consumers, cases and incidents) and store_outbox.c (the webhooks' outbox
 * reads). */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

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
};

/* store_sqlite.c: borrows a reader connection (blocks until one is free). */
sqlite3 *sqlbe_reader_get(struct sqlite_be *be, int *slot);
void sqlbe_reader_put(struct sqlite_be *be, int slot);

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

#endif
