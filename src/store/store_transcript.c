/*
 * store_transcript.c — the SQLite backend's transcripts (migration 013;
 * docs/TRANSCRIPTS.md): the binding of their two ops, the jobs and the
 * policy loaded at start, and an interaction's transcript read by number.
 *
 * DESIGN
 * - A transcript row is the job and its result at once: transcript/ writes
 *   queued, then running, then done (with the utterances) or failed, each
 *   a STORE_OP_TRANSCRIPT_SET through the ordered writer. A row left queued
 *   or running by a stop is loaded again at start (st_snapshot.transcripts)
 *   and run again from the recording: the job is idempotent.
 * - The search index (transcript_fts) is kept by triggers on the text
 *   column, in the same transaction as the row.
 */
#define LOG_MODULE "sqlite"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

void sqltr_bind(sqlite3_stmt *st, const struct store_op *op)
{
	const struct st_transcript *t = &op->u.transcript;

	if (op->kind == STORE_OP_TRANSCRIPT_POLICY_SET) {
		sqlite3_bind_int64(st, 1, op->u.tpolicy.queue_id);
		sqlite3_bind_int(st, 2, op->u.tpolicy.percent);
		return;
	}
	sqlite3_bind_int64(st, 1, t->interaction_id);
	sq_bind_text(st, 2, t->status);
	sq_bind_text(st, 3, t->engine);
	sq_bind_text(st, 4, t->reason);
	sq_bind_text(st, 5, t->requested_by);
	sqlite3_bind_int(st, 6, t->redacted);
	sq_bind_text(st, 7, t->utterances);
	sq_bind_text(st, 8, t->text);
	sq_bind_text(st, 9, t->error);
	sqlite3_bind_int64(st, 10, t->audio_ms);
	sqlite3_bind_int64(st, 11, t->decode_ms);
	sqlite3_bind_int64(st, 12, t->created_at);
	sqlite3_bind_int64(st, 13, t->updated_at);
}

#define TR_COLS                                                                                    \
	"interaction_id,status,engine,reason,requested_by,redacted,error,audio_ms,decode_ms,"      \
	"created_at,updated_at,(SELECT number FROM interactions i WHERE "                          \
	"i.id=transcripts.interaction_id)"

static void row_transcript(sqlite3_stmt *st, struct st_transcript *t)
{
	memset(t, 0, sizeof(*t));
	t->interaction_id = sqlite3_column_int64(st, 0);
	sq_col_text(st, 1, t->status, sizeof(t->status));
	sq_col_text(st, 2, t->engine, sizeof(t->engine));
	sq_col_text(st, 3, t->reason, sizeof(t->reason));
	sq_col_text(st, 4, t->requested_by, sizeof(t->requested_by));
	t->redacted = sqlite3_column_int(st, 5);
	sq_col_text(st, 6, t->error, sizeof(t->error));
	t->audio_ms = sqlite3_column_int64(st, 7);
	t->decode_ms = sqlite3_column_int64(st, 8);
	t->created_at = sqlite3_column_int64(st, 9);
	t->updated_at = sqlite3_column_int64(st, 10);
	sq_col_text(st, 11, t->number, sizeof(t->number));
}

/* Appends one row to a malloc'd array. */
static int push(void **arr, size_t *n, size_t elem, const void *row)
{
	void *na = realloc(*arr, (*n + 1) * elem);

	if (!na)
		return -ENOMEM;
	memcpy((char *)na + *n * elem, row, elem);
	*arr = na;
	(*n)++;
	return 0;
}

/* The records' short descriptions, newest first, one a line: the words a
 * site's callers use (the transcripts' domain language model). */
static int record_text_load(sqlite3 *db, struct st_snapshot *s)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT short_description FROM (SELECT short_description,opened_at "
			       "FROM cases UNION ALL SELECT short_description,opened_at FROM "
			       "incidents) WHERE short_description<>'' ORDER BY opened_at DESC "
			       "LIMIT 20000",
			       -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (s->record_text_len + n + 2 > cap) {
			size_t nc = cap ? cap * 2 : 8192;
			char *nb;
			while (nc < s->record_text_len + n + 2)
				nc *= 2;
			nb = realloc(s->record_text, nc);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			s->record_text = nb, cap = nc;
		}
		memcpy(s->record_text + s->record_text_len, t, n);
		s->record_text_len += n;
		s->record_text[s->record_text_len++] = '\n';
		s->record_text[s->record_text_len] = '\0';
	}
	sqlite3_finalize(st);
	return err;
}

int sqltr_load(sqlite3 *db, struct st_snapshot *s)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT " TR_COLS " FROM transcripts WHERE status IN "
			       "('queued','running') ORDER BY created_at, interaction_id",
			       -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct st_transcript t;
		row_transcript(st, &t);
		err = push((void **)&s->transcripts, &s->n_transcripts, sizeof(t), &t);
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	if (sqlite3_prepare_v2(db,
			       "SELECT queue_id,percent FROM transcript_policy ORDER BY queue_id",
			       -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct st_transcript_policy p = {sqlite3_column_int64(st, 0),
						 sqlite3_column_int(st, 1)};
		err = push((void **)&s->transcript_policy, &s->n_transcript_policy, sizeof(p), &p);
	}
	sqlite3_finalize(st);
	return err ? err : record_text_load(db, s);
}

static int transcript_query(sqlite3 *db, const char *number, struct store_transcript *t)
{
	sqlite3_stmt *st;
	int rc = sqltr_ix_by_number(db, number, &t->ix, &t->found);

	if (rc || !t->found)
		return rc;
	if (sqlite3_prepare_v2(db,
			       "SELECT " TR_COLS ",utterances,text FROM transcripts WHERE "
			       "interaction_id=?1",
			       -1, &st, NULL) != SQLITE_OK)
		return CC_ESTORE;
	sqlite3_bind_int64(st, 1, t->ix.id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t->has = true;
		row_transcript(st, &t->t);
		t->t.utterances = sq_col_dup(st, 12);
		t->t.text = sq_col_dup(st, 13);
		if (!t->t.utterances || !t->t.text)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : CC_ESTORE;
}

int sqltr_transcript_get(void *p, const char *number, struct store_transcript *t)
{
	struct sqlite_be *be = p;
	int slot, err;
	sqlite3 *db = sqlbe_reader_get(be, &slot);

	err = transcript_query(db, number, t);
	sqlbe_reader_put(be, slot);
	return err;
}
