/* test_api_range.c — HTTP Range parsing for recording downloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api_int.h"

static void check(const char *h, uint64_t size, int want, uint64_t first, uint64_t last)
{
	uint64_t f = 99, l = 99;
	int rc = api_range_parse(h, size, &f, &l);

	assert_int_equal(rc, want);
	if (!want) {
		assert_int_equal(f, first);
		assert_int_equal(l, last);
	}
}

static void ranges_within_the_file(void **state)
{
	check("bytes=0-43", 1000, 0, 0, 43);
	check("bytes=100-", 1000, 0, 100, 999);
	check("bytes=-100", 1000, 0, 900, 999);
	check("bytes=-5000", 1000, 0, 0, 999);
	check("bytes=990-5000", 1000, 0, 990, 999); /* clipped to the end */
	check("bytes=999-999", 1000, 0, 999, 999);
}

static void unsatisfiable_ranges(void **state)
{
	check("bytes=1000-", 1000, -ERANGE, 0, 0);
	check("bytes=5000-6000", 1000, -ERANGE, 0, 0);
	check("bytes=-0", 1000, -ERANGE, 0, 0);
	check("bytes=0-", 0, -ERANGE, 0, 0);
}

static void malformed_ranges(void **state)
{
	static const char *const bad[] = {
		"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=1-2,4-5",
		"items=0-1", "bytes=0-1x", "bytes= 0-1", "bytes=--1", "bytes=0--1",
	};
	uint64_t f, l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(api_range_parse(bad[i], 1000, &f, &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges_within_the_file),
		cmocka_unit_test(unsatisfiable_ranges),
		cmocka_unit_test(malformed_ranges),
	};

	return cmocka_run_group_tests_name("api_range", tests, NULL, NULL);
}
