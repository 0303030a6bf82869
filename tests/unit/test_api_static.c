/* test_api_static.c — the web workspace's path checks and content types
 * (src/api/static.c); the files themselves: tests/integration/static.test.mjs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api_int.h"

static void api_paths_are_not_files(void **state)
{
	assert_true(api_path_is_api("/api"));
	assert_true(api_path_is_api("/api/"));
	assert_true(api_path_is_api("/api/v1/health"));
	assert_false(api_path_is_api("/"));
	assert_false(api_path_is_api("/apiary"));
	assert_false(api_path_is_api("/assets/api/x.js"));
}

static void ordinary_paths_pass(void **state)
{
	static const char *const ok[] = {
		"/",
		"/index.html",
		"/assets/index-a9Sqo-4O.js",
		"/records/case/CS0001001",
		"/users/john.doe",
		"/a/b/c/",
		"/x..y",
		"/a%2e%2e",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(api_static_check(ok[i]), 0);
}

static void traversal_and_garbage_are_refused(void **state)
{
	static const char *const bad[] = {
		"",	 "index.html", "/..",	"/../etc/passwd", "/a/../b",
		"/a/..", "/.",	       "/./x",	"/a/./b",	  "/a\\..\\b",
		"/a b",	 "/a\tb",      "/\x01", "/caf\xc3\xa9",	  "/a\x7f",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(api_static_check(bad[i]), 400);
}

static void hidden_files_are_absent(void **state)
{
	assert_int_equal(api_static_check("/.env"), 404);
	assert_int_equal(api_static_check("/..."), 404);
	assert_int_equal(api_static_check("/.git/config"), 404);
	assert_int_equal(api_static_check("/assets/.cache/x"), 404);
}

static void content_types_by_extension(void **state)
{
	assert_string_equal(api_static_mime("/index.html"), "text/html; charset=utf-8");
	assert_string_equal(api_static_mime("/assets/a.JS"), "text/javascript; charset=utf-8");
	assert_string_equal(api_static_mime("/assets/a.css"), "text/css; charset=utf-8");
	assert_string_equal(api_static_mime("/favicon.svg"), "image/svg+xml");
	assert_string_equal(api_static_mime("/assets/f.woff2"), "font/woff2");
	assert_string_equal(api_static_mime("/x.unknown"), "application/octet-stream");
	assert_string_equal(api_static_mime("/no-extension"), "application/octet-stream");
	assert_string_equal(api_static_mime("/dir.html/file"), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_paths_are_not_files),
		cmocka_unit_test(ordinary_paths_pass),
		cmocka_unit_test(traversal_and_garbage_are_refused),
		cmocka_unit_test(hidden_files_are_absent),
		cmocka_unit_test(content_types_by_extension),
	};

	return cmocka_run_group_tests_name("api_static", tests, NULL, NULL);
}
