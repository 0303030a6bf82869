/*
 * store_day.c — the SQLite backend's figures of a queue over a period, read
 * from the contact trace records (migration 011): what the wallboard's
 * "today" starts from after a restart (docs/WALLBOARD.md).
 *
 * DESIGN
 * - One aggregate query over the segments enqueued in [from, to), grouped
 *   by queue, joined to the queue's current service-level threshold. The
 *   index ctr_queue (queue_id, initiation_at) bounds it: a segment is
 *   initiated before it is enqueued, and no call waits a day.
 * - Every rule here is the one routing/wallboard.c applies live, so the
 *   figures after a restart are the figures before it: answered = reached
 *   an agent from the queue; abandoned = never reached one, the customer
 *   hung up, and left the queue when they hung up (not after an overflow);
 *   within the threshold = queue_ms ≤ threshold.
 * - Runs on a reader connection; at start-up only (store_queue_day_now).
 */
#define LOG_MODULE "sqlite"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static const char *day_sql =
	"SELECT c.queue_id, COUNT(*),"
	" SUM(c.connected_to_agent_at > 0),"
	" SUM(c.connected_to_agent_at = 0 AND c.disconnect_reason = 'customer'"
	"     AND ABS(c.disconnect_at - c.dequeue_at) <= 1000),"
	" SUM(c.connected_to_agent_at > 0 AND c.transfer_type <> ''),"
	" SUM(c.connected_to_agent_at > 0 AND c.queue_ms <= q.sl_threshold_s * 1000),"
	" SUM(c.connected_to_agent_at = 0 AND c.disconnect_reason = 'customer'"
	"     AND ABS(c.disconnect_at - c.dequeue_at) <= 1000"
	"     AND c.queue_ms <= q.sl_threshold_s * 1000),"
	" SUM(CASE WHEN c.connected_to_agent_at > 0 THEN c.queue_ms ELSE 0 END),"
	" SUM(c.connected_to_agent_at > 0 AND c.acw_end_at > 0),"
	" SUM(CASE WHEN c.connected_to_agent_at > 0 AND c.acw_end_at > 0"
	"     THEN c.talk_ms + c.hold_ms + c.acw_ms ELSE 0 END)"
	" FROM ctr c JOIN queues q ON q.id = c.queue_id"
	" WHERE c.queue_id > 0 AND c.initiation_at >= ?1 - 86400000 AND c.initiation_at < ?2"
	" AND c.enqueue_at >= ?1 AND c.enqueue_at < ?2"
	" GROUP BY c.queue_id ORDER BY c.queue_id";

static void day_row(sqlite3_stmt *st, struct st_queue_day *d)
{
	int64_t *f[] = {&d->queue_id,	 &d->offered,	     &d->answered,	  &d->abandoned,
			&d->transferred, &d->answered_in_sl, &d->abandoned_in_sl, &d->answer_ms,
			&d->handled,	 &d->handle_ms};

	for (int i = 0; i < (int)(sizeof(f) / sizeof(f[0])); i++)
		*f[i] = sqlite3_column_int64(st, i);
}

static int day_query(sqlite3 *db, int64_t from_ms, int64_t to_ms, struct st_queue_day **rows,
		     size_t *n)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, day_sql, -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct st_queue_day *g = realloc(*rows, ncap * sizeof(*g));
			if (!g) {
				rc = SQLITE_NOMEM;
				break;
			}
			*rows = g, cap = ncap;
		}
		memset(&(*rows)[*n], 0, sizeof(**rows));
		day_row(st, &(*rows)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	free(*rows);
	*rows = NULL;
	*n = 0;
	return rc == SQLITE_NOMEM ? -ENOMEM : CC_ESTORE;
}

int sqlday_queue_day(void *p, int64_t from_ms, int64_t to_ms, struct st_queue_day **rows, size_t *n)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = day_query(db, from_ms, to_ms, rows, n);
	sqlbe_reader_put(be, slot);
	if (err)
		log_error("the queues' figures of the day could not be read: %s", cc_strerror(err));
	return err;
}
