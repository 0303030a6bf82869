/*
 * db_fx.h — test helpers shared by the suites that check what reached a
 * real SQLite file: open a second connection on it, read an integer or the
 * first column of every row, run a statement, and remove the file (with its
 * WAL and shared-memory files) and its temporary folder. Include after
 * cmocka.h. Functions are static inline so each suite takes what it uses.
 */
#ifndef SB_TEST_DB_FX_H
#define SB_TEST_DB_FX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static inline sqlite3 *dbfx_open(const char *path, bool rw)
{
	sqlite3 *db = NULL;
	int flags = rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
		fail_msg("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row, -1 when there is none. */
static inline int64_t dbfx_int(const char *path, const char *sql)
{
	sqlite3 *db = dbfx_open(path, false);
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The first column of every row, joined with ";". */
static inline void dbfx_rows(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = dbfx_open(path, false);
	sqlite3_stmt *st;
	size_t len = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ";" : "", t ? t : "");
		assert_true(len < size);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static inline void dbfx_exec(const char *path, const char *sql)
{
	sqlite3 *db = dbfx_open(path, true);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

/* Removes the database, its -wal/-shm/-journal files and the folder. */
static inline void dbfx_remove(const char *dir, const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[600];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(dir), 0);
}

#endif
