/*
 * store_outbox.c — the SQLite backend's reads of the webhooks' outbox
 * (migration 012; docs/WEBHOOKS.md).
 *
 * DESIGN
 * - The writes are typed ops of store_sqlite.c: an event is fanned out in
 *   SQL (INSERT … SELECT over the active webhooks that take its type), in
 *   the transaction of the change that produced it, so the set of webhooks
 *   an event goes to is the one committed before it, in the writer's order.
 * - Reads run on a reader connection (WAL: beside the writer). A fetch
 *   reads the pending rows of one webhook after a seq cursor through the
 *   partial index webhook_outbox_pending, oldest first; the delivery engine
 *   keeps the cursor, so a row whose "delivered" write is still queued is
 *   never read back as pending.
 */
#define LOG_MODULE "sqlite"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define OUTBOX_FETCH_MAX 256

static int fetch_rows(sqlite3 *db, int64_t webhook_id, int64_t after_seq, int limit,
		      struct store_outbox_page *pg)
{
	static const char sql[] =
		"SELECT seq,id,webhook_id,event,created_at,attempts,next_attempt_at,body FROM "
		"webhook_outbox WHERE webhook_id=?1 AND seq>?2 AND delivered_at IS NULL AND "
		"expired_at IS NULL ORDER BY seq LIMIT ?3";
	sqlite3_stmt *st;
	int rc;

	pg->rows = calloc((size_t)limit, sizeof(*pg->rows));
	if (!pg->rows)
		return -ENOMEM;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	sqlite3_bind_int64(st, 1, webhook_id);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && pg->n < (size_t)limit) {
		struct st_outbox_row *r = &pg->rows[pg->n];

		r->seq = sqlite3_column_int64(st, 0);
		sq_col_text(st, 1, r->id, sizeof(r->id));
		r->webhook_id = sqlite3_column_int64(st, 2);
		sq_col_text(st, 3, r->type, sizeof(r->type));
		r->created_at = sqlite3_column_int64(st, 4);
		r->attempts = sqlite3_column_int(st, 5);
		r->next_attempt_at = sqlite3_column_int64(st, 6);
		r->body = sq_col_dup(st, 7);
		if (!r->body) {
			rc = SQLITE_NOMEM;
			break;
		}
		pg->n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : CC_ESTORE;
}

int sqlhook_outbox_fetch(void *p, int64_t webhook_id, int64_t after_seq, int limit,
			 struct store_outbox_page *pg)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db;

	if (limit < 1 || limit > OUTBOX_FETCH_MAX)
		return -EINVAL;
	db = sqlbe_reader_get(be, &slot);
	err = fetch_rows(db, webhook_id, after_seq, limit, pg);
	sqlbe_reader_put(be, slot);
	return err;
}

static int count_rows(sqlite3 *db, struct store_outbox_counts *c)
{
	static const char sql[] =
		"SELECT webhook_id,count(*),min(created_at) FROM webhook_outbox WHERE "
		"delivered_at IS NULL AND expired_at IS NULL GROUP BY webhook_id ORDER BY "
		"webhook_id";
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct st_outbox_count *nr = realloc(c->rows, ncap * sizeof(*nr));
			if (!nr) {
				rc = SQLITE_NOMEM;
				break;
			}
			c->rows = nr, cap = ncap;
		}
		c->rows[c->n].webhook_id = sqlite3_column_int64(st, 0);
		c->rows[c->n].pending = sqlite3_column_int64(st, 1);
		c->rows[c->n++].oldest_at = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : CC_ESTORE;
}

int sqlhook_outbox_counts(void *p, struct store_outbox_counts *c)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = count_rows(db, c);
	sqlbe_reader_put(be, slot);
	return err;
}
