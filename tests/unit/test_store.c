/*
 * test_store.c — the SQLite backend's reads that no other suite covers,
 * against a real file: which case the bot talks about (case_latest).
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
	dbfx_exec(fx->path, "INSERT INTO users(id,user_name,name,password_hash,created_at) "
			    "VALUES (7,'amy','Amy','x',0),(8,'bob','Bob','x',0)");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_latest_open_case_is_the_one_to_talk_about,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_case_needs_an_existing_contact, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
