/*
 * test_config.c — the YAML configuration loader (core/config.c).
 *
 * Defaults, a full valid file, each key overridden alone, the accepted
 * spellings and range boundaries, then a corpus of broken inputs each checked
 * against its exact "file:line: message". A failed load must leave the
 * config untouched. libyaml allocates with plain malloc, so leaks are caught
 * by ASan's leak checker over the whole run rather than a per-test counter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRSZ 512

static int load(struct config *cfg, const char *yaml, char *err)
{
	config_defaults(cfg);
	return config_load_buf(cfg, "x.yaml", yaml, strlen(yaml), err, ERRSZ);
}

/* Loads yaml over the defaults; the load must succeed. */
static void load_ok(struct config *cfg, const char *yaml)
{
	char err[ERRSZ] = "stale";

	assert_int_equal(load(cfg, yaml, err), 0);
	assert_string_equal(err, "");
}

/* Loads yaml; it must fail with exactly `want` and leave the defaults. */
static void load_bad(const char *yaml, const char *want)
{
	struct config cfg, def;
	char err[ERRSZ];

	config_defaults(&def);
	assert_int_equal(load(&cfg, yaml, err), CC_EBADCONF);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &def, sizeof(cfg));
}

/* "<prefix><n times ch><suffix>", malloc'd. */
static char *repeat(const char *prefix, size_t n, char ch, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	assert_non_null(s);
	memcpy(s, prefix, lp);
	memset(s + lp, ch, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

/* ---- defaults and config_finish ---- */

static void defaults_are_the_embedded_values(void **state)
{
	struct config cfg;

	memset(&cfg, 0x55, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.file, "");
	assert_string_equal(cfg.data_dir, "./data");
	assert_string_equal(cfg.http_address, "127.0.0.1");
	assert_int_equal(cfg.http_port, 8080);
	assert_string_equal(cfg.store_backend, "sqlite");
	assert_string_equal(cfg.store_path, "");
	assert_int_equal(cfg.store_readers, 4);
	assert_true(cfg.awa_enabled);
	assert_int_equal(cfg.session_ttl_s, 28800);
	assert_int_equal(cfg.http_max_body, 65536);
	assert_int_equal(cfg.log_level, LOG_INFO);
}

static void finish_derives_store_path_from_data_dir(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	config_finish(&cfg);
	assert_string_equal(cfg.store_path, "./data/switchboard.db");

	config_defaults(&cfg);
	strcpy(cfg.data_dir, "/var/lib/sb//");
	config_finish(&cfg);
	assert_string_equal(cfg.store_path, "/var/lib/sb/switchboard.db");

	config_defaults(&cfg);
	strcpy(cfg.data_dir, "/");
	config_finish(&cfg);
	assert_string_equal(cfg.store_path, "/switchboard.db");
}

static void finish_keeps_an_explicit_store_path(void **state)
{
	struct config cfg;

	load_ok(&cfg, "data_dir: /srv\nstore:\n  path: /db/sb.db\n");
	config_finish(&cfg);
	assert_string_equal(cfg.store_path, "/db/sb.db");
}

static void finish_leaves_path_empty_when_data_dir_too_long(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	memset(cfg.data_dir, 'd', sizeof(cfg.data_dir) - 1);
	cfg.data_dir[sizeof(cfg.data_dir) - 1] = '\0';
	config_finish(&cfg); /* logs an error; must not overflow */
	assert_string_equal(cfg.store_path, "");
}

static void finish_accepts_the_longest_file_data_dir(void **state)
{
	char *y = repeat("data_dir: /", 495, 'd', "\n"); /* 496 characters */
	struct config cfg;

	load_ok(&cfg, y);
	config_finish(&cfg);
	assert_int_equal(strlen(cfg.store_path), 496 + strlen("/switchboard.db"));
	assert_string_equal(cfg.store_path + 496, "/switchboard.db");
	free(y);
}

/* ---- valid files ---- */

static const char full_file[] = "# Switchboard\n"
				"data_dir: /var/lib/switchboard\n"
				"http:\n"
				"  address: 127.0.0.1\n"
				"  port: 8081\n"
				"  max_body: 131072\n"
				"store:\n"
				"  backend: sqlite        # only sqlite for now\n"
				"  path: /var/lib/switchboard/sb.db\n"
				"  readers: 8\n"
				"routing:\n"
				"  awa_enabled: false\n"
				"auth:\n"
				"  session_ttl: 3600     # seconds\n"
				"log:\n"
				"  level: debug\n";

static void full_file_sets_every_key(void **state)
{
	struct config cfg;

	load_ok(&cfg, full_file);
	assert_string_equal(cfg.data_dir, "/var/lib/switchboard");
	assert_string_equal(cfg.http_address, "127.0.0.1");
	assert_int_equal(cfg.http_port, 8081);
	assert_int_equal(cfg.http_max_body, 131072);
	assert_string_equal(cfg.store_backend, "sqlite");
	assert_string_equal(cfg.store_path, "/var/lib/switchboard/sb.db");
	assert_int_equal(cfg.store_readers, 8);
	assert_false(cfg.awa_enabled);
	assert_int_equal(cfg.session_ttl_s, 3600);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.file, ""); /* only config_load_file names the file */
}

static void flow_style_is_accepted(void **state)
{
	struct config cfg;

	load_ok(&cfg, "{http: {port: 9000, address: \"::1\"}, log: {level: 'warn'}}");
	assert_int_equal(cfg.http_port, 9000);
	assert_string_equal(cfg.http_address, "::1");
	assert_int_equal(cfg.log_level, LOG_WARN);
}

static void empty_inputs_mean_defaults(void **state)
{
	static const char *const inputs[] = {
		"",
		"\n\n",
		"# only a comment\n",
		"---\n",
		"---\n...\n",
		"~\n",
		"http:\nstore: ~\nlog: null\n",
		"{}",
		"\xef\xbb\xbf# BOM\n",
	};
	struct config cfg, def;
	char err[ERRSZ];

	config_defaults(&def);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		assert_int_equal(load(&cfg, inputs[i], err), 0);
		assert_memory_equal(&cfg, &def, sizeof(cfg));
	}
	assert_int_equal(config_load_buf(&cfg, "x.yaml", NULL, 0, err, sizeof(err)), 0);
	assert_memory_equal(&cfg, &def, sizeof(cfg));
}

/* ---- each key alone ---- */

static void override_data_dir(void **state)
{
	struct config cfg;

	load_ok(&cfg, "data_dir: \"/srv/switch board\"\n");
	assert_string_equal(cfg.data_dir, "/srv/switch board");
	assert_int_equal(cfg.http_port, 8080); /* the rest stays default */
}

static void override_http_address(void **state)
{
	struct config cfg;

	load_ok(&cfg, "http:\n  address: 10.0.0.7\n");
	assert_string_equal(cfg.http_address, "10.0.0.7");
	assert_int_equal(cfg.http_port, 8080);
}

static void override_http_port_bounds(void **state)
{
	struct config cfg;

	load_ok(&cfg, "http:\n  port: 1\n");
	assert_int_equal(cfg.http_port, 1);
	load_ok(&cfg, "http:\n  port: 65535\n");
	assert_int_equal(cfg.http_port, 65535);
	load_ok(&cfg, "http:\n  port: +443\n");
	assert_int_equal(cfg.http_port, 443);
}

static void override_http_max_body_bounds(void **state)
{
	struct config cfg;

	load_ok(&cfg, "http:\n  max_body: 1024\n");
	assert_int_equal(cfg.http_max_body, 1024);
	load_ok(&cfg, "http:\n  max_body: 16777216\n");
	assert_int_equal(cfg.http_max_body, 16777216);
}

static void override_store_backend_path_readers(void **state)
{
	struct config cfg;

	load_ok(&cfg, "store:\n  backend: SQLite\n");
	assert_string_equal(cfg.store_backend, "sqlite");
	load_ok(&cfg, "store:\n  path: rel/sb.db\n");
	assert_string_equal(cfg.store_path, "rel/sb.db");
	load_ok(&cfg, "store:\n  path: ''\n"); /* explicit "derive it" */
	assert_string_equal(cfg.store_path, "");
	load_ok(&cfg, "store:\n  readers: 1\n");
	assert_int_equal(cfg.store_readers, 1);
	load_ok(&cfg, "store:\n  readers: 64\n");
	assert_int_equal(cfg.store_readers, 64);
}

static void override_awa_enabled_spellings(void **state)
{
	static const char *const no[] = {"false", "no", "off", "False", "OFF"};
	static const char *const yes[] = {"true", "yes", "on", "True", "YES"};
	struct config cfg;
	char y[64];

	for (size_t i = 0; i < 5; i++) {
		snprintf(y, sizeof(y), "routing:\n  awa_enabled: %s\n", no[i]);
		load_ok(&cfg, y);
		assert_false(cfg.awa_enabled);
		cfg.awa_enabled = false;
		snprintf(y, sizeof(y), "routing:\n  awa_enabled: %s\n", yes[i]);
		assert_int_equal(config_load_buf(&cfg, "x", y, strlen(y), NULL, 0), 0);
		assert_true(cfg.awa_enabled);
	}
}

static void override_session_ttl_bounds(void **state)
{
	struct config cfg;

	load_ok(&cfg, "auth:\n  session_ttl: 60\n");
	assert_int_equal(cfg.session_ttl_s, 60);
	load_ok(&cfg, "auth:\n  session_ttl: 2592000\n");
	assert_int_equal(cfg.session_ttl_s, 2592000);
}

static void override_wallboard_limits(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_int_equal(cfg.wallboard_push_ms, 250);
	assert_int_equal(cfg.wallboard_acw_alert_s, 120);
	assert_int_equal(cfg.wallboard_hold_alert_s, 90);
	assert_int_equal(cfg.wallboard_missed_alert, 3);
	load_ok(&cfg, "wallboard:\n  push_ms: 0\n  acw_alert: 30\n  hold_alert: 45\n"
		      "  missed_offers_alert: 5\n");
	assert_int_equal(cfg.wallboard_push_ms, 0);
	assert_int_equal(cfg.wallboard_acw_alert_s, 30);
	assert_int_equal(cfg.wallboard_hold_alert_s, 45);
	assert_int_equal(cfg.wallboard_missed_alert, 5);
	load_bad("wallboard:\n  acw_alert: 0\n",
		 "x.yaml:2: 'wallboard.acw_alert' must be an integer from 1 to 86400, got '0'");
}

static void override_log_level_each(void **state)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	struct config cfg;
	char y[64];

	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		snprintf(y, sizeof(y), "log:\n  level: %s\n", names[i]);
		load_ok(&cfg, y);
		assert_int_equal(cfg.log_level, i);
	}
}

/* HTTPS: both files or neither; each keeps the line it was set on (the
 * files themselves are checked by api_tls_check, tests/integration). */
static void http_tls_pair_and_lines(void **state)
{
	struct config cfg;

	load_ok(&cfg, "http:\n  port: 8443\n  tls_key: /k.pem\n  tls_cert: /c.pem\n");
	assert_string_equal(cfg.http_tls_cert, "/c.pem");
	assert_string_equal(cfg.http_tls_key, "/k.pem");
	assert_int_equal(cfg.http_tls_cert_line, 4);
	assert_int_equal(cfg.http_tls_key_line, 3);
	load_ok(&cfg, "http:\n  port: 8443\n");
	assert_string_equal(cfg.http_tls_cert, "");
	load_bad("http:\n  tls_cert: /c.pem\n",
		 "x.yaml:2: 'http.tls_cert' needs 'http.tls_key' (the certificate's private key)");
	load_bad("http: {port: 1,\n  tls_key: /k.pem}\n",
		 "x.yaml:2: 'http.tls_key' needs 'http.tls_cert' (the certificate it belongs to)");
}

static void later_load_overrides_earlier(void **state)
{
	struct config cfg;
	char err[ERRSZ];

	load_ok(&cfg, "http: {port: 1000}\n");
	assert_int_equal(config_load_buf(&cfg, "b", "log: {level: error}", 19, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.http_port, 1000);
	assert_int_equal(cfg.log_level, LOG_ERROR);
}

/* ---- config_load_file ---- */

static void load_file_reads_and_names_the_file(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX", err[ERRSZ];
	int fd = mkstemp(path);
	struct config cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_file, strlen(full_file)), (ssize_t)strlen(full_file));
	close(fd);
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.file, path);
	assert_int_equal(cfg.http_port, 8081);
	unlink(path);
}

static void load_file_reports_file_and_line(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX", err[ERRSZ], want[ERRSZ + 64];
	static const char y[] = "http:\n  address: 127.0.0.1\n  prot: 8080\n";
	int fd = mkstemp(path);
	struct config cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), CC_EBADCONF);
	snprintf(want, sizeof(want),
		 "%s:3: unknown key 'prot' in section 'http' (expected: address, port, max_body, "
		 "web_root, tls_cert, tls_key, ws_idle)",
		 path);
	assert_string_equal(err, want);
	assert_string_equal(cfg.file, ""); /* untouched on failure */
	unlink(path);
}

static void load_file_unreadable(void **state)
{
	struct config cfg;
	char err[ERRSZ];

	config_defaults(&cfg);
	assert_int_equal(config_load_file(&cfg, "/nonexistent/sb.yaml", err, sizeof(err)),
			 CC_EBADCONF);
	assert_string_equal(err, "/nonexistent/sb.yaml: cannot read: No such file or directory");
	assert_int_equal(config_load_file(&cfg, "/tmp", err, sizeof(err)), CC_EBADCONF);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");
}

/* ---- error reporting ---- */

struct bad {
	const char *yaml;
	const char *want;
};

static const struct bad bad_inputs[] = {
	{"http:\n  address: 127.0.0.1\n  prot: 8080\n",
	 "x.yaml:3: unknown key 'prot' in section 'http' (expected: address, port, max_body, "
	 "web_root, tls_cert, tls_key, ws_idle)"},
	{"datadir: /srv\n", "x.yaml:1: unknown key 'datadir' at the top level "
			    "(expected: data_dir, http, store, routing, auth, log, sip, media, "
			    "calls, webhooks, wallboard, transcripts)"},
	{"Data_dir: /srv\n", "x.yaml:1: unknown key 'Data_dir' at the top level "
			     "(expected: data_dir, http, store, routing, auth, log, sip, media, "
			     "calls, webhooks, wallboard, transcripts)"},
	{"# c\n\nhttp:\n  address: 1.2.3.4\n  port: abc\n",
	 "x.yaml:5: 'http.port' must be an integer from 1 to 65535, got 'abc'"},
	{"http:\n  port: 0\n", "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got '0'"},
	{"http:\n  port: 65536\n",
	 "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got '65536'"},
	{"http:\n  port: 0x50\n",
	 "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got '0x50'"},
	{"http:\n  port: 8080.0\n",
	 "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got '8080.0'"},
	{"http:\n  port: 99999999999999999999\n",
	 "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got '99999999999999999999'"},
	{"http:\n  port:\n", "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got ''"},
	{"http:\n  max_body: 1023\n",
	 "x.yaml:2: 'http.max_body' must be an integer from 1024 to 16777216, got '1023'"},
	{"store:\n  readers: 65\n",
	 "x.yaml:2: 'store.readers' must be an integer from 1 to 64, got '65'"},
	{"auth:\n  session_ttl: 59\n",
	 "x.yaml:2: 'auth.session_ttl' must be an integer from 60 to 2592000, got '59'"},
	{"auth:\n  session_ttl: -1\n",
	 "x.yaml:2: 'auth.session_ttl' must be an integer from 60 to 2592000, got '-1'"},
	{"data_dir: /srv\nhttp:\n  port: 1\n address: x\n",
	 "x.yaml:4: YAML syntax error: did not find expected key"},
	{"data_dir: a: b\n",
	 "x.yaml:1: YAML syntax error: mapping values are not allowed in this context"},
	{"\"\\q\": 1\n", "x.yaml:1: YAML syntax error: found unknown escape character"},
	{"log: {level: info\n", "x.yaml:2: YAML syntax error: did not find expected ',' or '}'"},
	{"http:\n\tport: 1\n",
	 "x.yaml:2: YAML syntax error: found character that cannot start any token"},
	{"data_dir: \"/srv\n", "x.yaml:2: YAML syntax error: found unexpected end of stream"},
	{"data_dir: /srv\nlog: {level: \xff}\n",
	 "x.yaml:2: YAML syntax error: invalid leading UTF-8 octet"},
	{"hello\n", "x.yaml:1: the top level must be a mapping"},
	{"\n- a\n- b\n", "x.yaml:2: the top level must be a mapping"},
	{"'~'\n", "x.yaml:1: the top level must be a mapping"},
	{"http:\n  port: 1\n  address: a\n  port: 2\n", "x.yaml:4: duplicate key 'port'"},
	{"http: {}\nlog: {}\nhttp: {}\n", "x.yaml:3: duplicate key 'http'"},
	{"store:\n  backend: postgresql\n",
	 "x.yaml:2: 'store.backend': postgresql is not available yet (use sqlite)"},
	{"store:\n  backend: mysql\n", "x.yaml:2: 'store.backend' must be sqlite, got 'mysql'"},
	{"routing:\n  awa_enabled: maybe\n",
	 "x.yaml:2: 'routing.awa_enabled' must be true or false, got 'maybe'"},
	{"routing:\n  awa_enabled: 1\n",
	 "x.yaml:2: 'routing.awa_enabled' must be true or false, got '1'"},
	{"log:\n  level: verbose\n",
	 "x.yaml:2: 'log.level' must be debug, info, warn or error, got 'verbose'"},
	{"http: 8080\n", "x.yaml:1: 'http' must be a mapping (keys: address, port, max_body, "
			 "web_root, tls_cert, tls_key, ws_idle)"},
	{"log: [debug]\n", "x.yaml:1: 'log' must be a mapping (keys: level)"},
	{"http:\n  port:\n    value: 1\n",
	 "x.yaml:3: 'http.port' must be a single value, not a mapping"},
	{"data_dir: [a, b]\n", "x.yaml:1: 'data_dir' must be a single value, not a list"},
	{"? [a]\n: 1\n", "x.yaml:1: a key must be a name, not a list"},
	{"data_dir: ''\n", "x.yaml:1: 'data_dir' must not be empty"},
	{"http:\n  address:\n", "x.yaml:2: 'http.address' must not be empty"},
	{"data_dir: \"/a\\0b\"\n", "x.yaml:1: 'data_dir' must not contain NUL characters"},
	{"data_dir: &d /srv\n", "x.yaml:1: anchors (&d) are not supported"},
	{"http: &h\n  port: 1\n", "x.yaml:1: anchors (&h) are not supported"},
	{"data_dir: *d\n", "x.yaml:1: aliases (*name) are not supported"},
	{"log: {}\n---\nlog: {}\n", "x.yaml:2: only one YAML document is allowed"},
	{"\"a\\tb\": 1\n", "x.yaml:1: unknown key 'a?b' at the top level "
			   "(expected: data_dir, http, store, routing, auth, log, sip, media, "
			   "calls, webhooks, wallboard, transcripts)"},
};

static void broken_inputs_report_file_line_and_reason(void **state)
{
	struct config cfg, def;
	char err[ERRSZ];

	config_defaults(&def);
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		int rc = load(&cfg, bad_inputs[i].yaml, err);

		if (rc != CC_EBADCONF || strcmp(err, bad_inputs[i].want))
			fail_msg("bad_inputs[%zu]: rc %d\n  got:  %s\n  want: %s", i, rc, err,
				 bad_inputs[i].want);
		assert_memory_equal(&cfg, &def, sizeof(cfg));
	}
}

static void too_long_strings_are_refused(void **state)
{
	char *path = repeat("store:\n  path: /", 511, 'p', "\n");
	char *dir = repeat("# long\ndata_dir: /", 496, 'd', "\n");
	char *addr = repeat("http:\n  address: ", 64, 'a', "\n");

	load_bad(path, "x.yaml:2: 'store.path' is longer than 511 characters");
	load_bad(dir, "x.yaml:2: 'data_dir' is longer than 496 characters");
	load_bad(addr, "x.yaml:2: 'http.address' is longer than 63 characters");
	free(path);
	free(dir);
	free(addr);
}

static void long_bad_values_are_cut_in_messages(void **state)
{
	char *y = repeat("http:\n  port: ", 300, '7', "\n");
	char *k = repeat("http:\n  ", 100, 'k', ": 1\n");

	load_bad(y, "x.yaml:2: 'http.port' must be an integer from 1 to 65535, got "
		    "'7777777777777777777777777777777777777...'");
	load_bad(
		k,
		"x.yaml:2: unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' in section "
		"'http' (expected: address, port, max_body, web_root, tls_cert, tls_key, ws_idle)");
	free(y);
	free(k);
}

static void deep_nesting_stops_at_the_first_unexpected_node(void **state)
{
	char *y = repeat("http:\n  port: ", 100000, '[', "\n");

	load_bad(y, "x.yaml:2: 'http.port' must be a single value, not a list");
	free(y);
}

static void error_buffer_may_be_small_or_absent(void **state)
{
	static const char y[] = "http:\n  port: abc\n";
	struct config cfg;
	char err[12];

	config_defaults(&cfg);
	assert_int_equal(config_load_buf(&cfg, "x.yaml", y, strlen(y), err, sizeof(err)),
			 CC_EBADCONF);
	assert_string_equal(err, "x.yaml:2: '");
	assert_int_equal(config_load_buf(&cfg, "x.yaml", y, strlen(y), NULL, 0), CC_EBADCONF);
	assert_int_equal(config_load_buf(&cfg, "x.yaml", y, strlen(y), err, 0), CC_EBADCONF);
	assert_int_equal(config_load_file(&cfg, "/nonexistent", NULL, 0), CC_EBADCONF);
}

static void buffer_need_not_be_nul_terminated(void **state)
{
	static const char y[] = "http: {port: 1234}XXXX";
	struct config cfg;
	char err[ERRSZ];

	config_defaults(&cfg);
	assert_int_equal(config_load_buf(&cfg, "x.yaml", y, 18, err, sizeof(err)), 0);
	assert_int_equal(cfg.http_port, 1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_the_embedded_values),
		cmocka_unit_test(override_wallboard_limits),
		cmocka_unit_test(finish_derives_store_path_from_data_dir),
		cmocka_unit_test(finish_keeps_an_explicit_store_path),
		cmocka_unit_test(finish_leaves_path_empty_when_data_dir_too_long),
		cmocka_unit_test(finish_accepts_the_longest_file_data_dir),
		cmocka_unit_test(full_file_sets_every_key),
		cmocka_unit_test(flow_style_is_accepted),
		cmocka_unit_test(empty_inputs_mean_defaults),
		cmocka_unit_test(override_data_dir),
		cmocka_unit_test(override_http_address),
		cmocka_unit_test(override_http_port_bounds),
		cmocka_unit_test(override_http_max_body_bounds),
		cmocka_unit_test(override_store_backend_path_readers),
		cmocka_unit_test(override_awa_enabled_spellings),
		cmocka_unit_test(override_session_ttl_bounds),
		cmocka_unit_test(override_log_level_each),
		cmocka_unit_test(http_tls_pair_and_lines),
		cmocka_unit_test(later_load_overrides_earlier),
		cmocka_unit_test(load_file_reads_and_names_the_file),
		cmocka_unit_test(load_file_reports_file_and_line),
		cmocka_unit_test(load_file_unreadable),
		cmocka_unit_test(broken_inputs_report_file_line_and_reason),
		cmocka_unit_test(too_long_strings_are_refused),
		cmocka_unit_test(long_bad_values_are_cut_in_messages),
		cmocka_unit_test(deep_nesting_stops_at_the_first_unexpected_node),
		cmocka_unit_test(error_buffer_may_be_small_or_absent),
		cmocka_unit_test(buffer_need_not_be_nul_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
