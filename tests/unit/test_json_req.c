/*
 * test_json_req.c — the request-body decoders of api/json_req.c.
 *
 * Valid bodies for each decoder, then a corpus of malformed ones, each
 * checked against its exact message. Every test counts jansson's live
 * allocations through json_set_alloc_funcs (zero leaks). An OOM loop fails
 * each allocation in turn: the answer is -ENOMEM wherever jansson reports
 * the cause, and there is never a leak or a half-filled struct.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- jansson allocator hooks: leak count and OOM injection ---- */
static size_t live;
static unsigned fail_at; /* fail the Nth allocation from now; 0 = never */
static unsigned n_alloc;

static void *t_malloc(size_t size)
{
	void *p;

	if (fail_at && ++n_alloc == fail_at)
		return NULL;
	p = malloc(size);
	if (p)
		live++;
	return p;
}

static void t_free(void *p)
{
	if (p)
		live--;
	free(p);
}

static int setup(void **state)
{
	json_set_alloc_funcs(t_malloc, t_free);
	live = 0;
	fail_at = 0;
	n_alloc = 0;
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(live, 0);
	return 0;
}

/* ---- one entry point over the five decoders ---- */
enum dec { D_LOGIN, D_PRESENCE, D_CLEAR, D_CREATE, D_UPDATE };

union out {
	struct req_login login;
	struct req_presence presence;
	struct req_clear clear;
	struct req_user user;
};

static int decode_n(enum dec d, const char *b, size_t n, union out *o, char *err, size_t esz)
{
	switch (d) {
	case D_LOGIN: return req_decode_login(b, n, &o->login, err, esz);
	case D_PRESENCE: return req_decode_presence(b, n, &o->presence, err, esz);
	case D_CLEAR: return req_decode_clear(b, n, &o->clear, err, esz);
	case D_CREATE: return req_decode_user(b, n, true, &o->user, err, esz);
	case D_UPDATE: return req_decode_user(b, n, false, &o->user, err, esz);
	}
	return -1;
}

static int decode(enum dec d, const char *b, union out *o, char *err)
{
	return decode_n(d, b, strlen(b), o, err, API_ERRSZ);
}

static size_t out_size(enum dec d)
{
	switch (d) {
	case D_LOGIN: return sizeof(struct req_login);
	case D_PRESENCE: return sizeof(struct req_presence);
	case D_CLEAR: return sizeof(struct req_clear);
	default: return sizeof(struct req_user);
	}
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		if (c[i])
			return false;
	}
	return true;
}

/* A body {"<key>":"<n bytes of ch>"} plus extra members (may be ""). */
static char *body_with_len(const char *key, size_t n, char ch, const char *extra)
{
	size_t cap = n + strlen(key) + strlen(extra) + 16;
	char *b = malloc(cap), *s = malloc(n + 1);

	assert_non_null(b);
	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	snprintf(b, cap, "{\"%s\":\"%s\"%s}", key, s, extra);
	free(s);
	return b;
}

/* ---- valid bodies ---- */

static void login_accepts_name_and_password(void **state)
{
	char err[API_ERRSZ] = "stale";
	union out o;

	assert_int_equal(
		decode(D_LOGIN, "{\"user_name\":\"ada\",\"password\":\"s3cret!\"}", &o, err), 0);
	assert_string_equal(o.login.user_name, "ada");
	assert_string_equal(o.login.password, "s3cret!");
	assert_string_equal(err, ""); /* success clears a stale message */
}

static void login_accepts_any_key_order_and_whitespace(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_LOGIN,
				"\r\n { \"password\" : \"p\",\n\t\"user_name\":\"B.b\" }\n", &o,
				err),
			 0);
	assert_string_equal(o.login.user_name, "B.b"); /* login does not validate the name */
	assert_string_equal(o.login.password, "p");
}

static void presence_accepts_the_three_agent_statuses(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_PRESENCE, "{\"status\":\"Available\"}", &o, err), 0);
	assert_int_equal(o.presence.status, PRES_AVAILABLE);
	assert_string_equal(o.presence.reason, "");
	assert_int_equal(decode(D_PRESENCE, "{\"status\":\"Offline\",\"reason\":\"\"}", &o, err),
			 0);
	assert_int_equal(o.presence.status, PRES_OFFLINE);
	assert_int_equal(decode(D_PRESENCE, "{\"reason\":\"Lunch\",\"status\":\"Away\"}", &o, err),
			 0);
	assert_int_equal(o.presence.status, PRES_AWAY);
	assert_string_equal(o.presence.reason, "Lunch");
}

static void presence_keeps_utf8_reason(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_PRESENCE,
				"{\"status\":\"Away\",\"reason\":\"Caf\\u00e9 \xe2\x98\x95\"}", &o,
				err),
			 0);
	assert_string_equal(o.presence.reason, "Caf\xc3\xa9 \xe2\x98\x95");
}

static void clear_accepts_empty_body_as_no_note(void **state)
{
	char err[API_ERRSZ];
	union out o;

	memset(&o, 0x55, sizeof(o));
	assert_int_equal(decode_n(D_CLEAR, "", 0, &o, err, sizeof(err)), 0);
	assert_true(all_zero(&o.clear, sizeof(o.clear)));
	assert_int_equal(decode_n(D_CLEAR, NULL, 0, &o, err, sizeof(err)), 0);
	assert_int_equal(decode(D_CLEAR, " \n\t\r ", &o, err), 0);
	assert_int_equal(decode(D_CLEAR, "{}", &o, err), 0);
	assert_string_equal(o.clear.note, "");
}

static void clear_accepts_note_and_wrap_up_code(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_CLEAR,
				"{\"note\":\"Refund \\\"ok\\\"\\n\",\"wrap_up_code\":\"R1\"}", &o,
				err),
			 0);
	assert_string_equal(o.clear.note, "Refund \"ok\"\n");
	assert_string_equal(o.clear.wrap_up_code, "R1");
}

/* ---- queues (issue 10) ---- */
static struct req_queue qr; /* 17 KiB: off the stack */

static void queue_decodes_members_codes_and_settings(void **state)
{
	static const char body[] =
		"{\"name\":\"Tier 2\",\"priority\":-3,\"max_wait_seconds\":60,"
		"\"overflow_queue\":\"Billing\",\"wrap_up_codes\":[\"Fixed\",\"Not fixed\"],"
		"\"members\":[\"ned\",{\"user_name\":\"beth\",\"priority\":2}]}";
	char err[API_ERRSZ];

	assert_int_equal(req_decode_queue(body, strlen(body), true, &qr, err, sizeof(err)), 0);
	assert_string_equal(qr.name, "Tier 2");
	assert_int_equal(qr.priority, -3);
	assert_true(qr.has_priority && qr.has_max_wait && qr.has_overflow && !qr.has_sl);
	assert_string_equal(qr.wrap_up_codes, "Fixed\nNot fixed");
	assert_int_equal(qr.n_members, 2);
	assert_string_equal(qr.members[1], "beth");
	assert_int_equal(qr.member_prio[0], 1);
	assert_int_equal(qr.member_prio[1], 2);
}

static void queue_refuses_with_a_reason(void **state)
{
	static const struct {
		bool create;
		const char *body, *msg;
	} cases[] = {
		{true, "{}", "'name' is required"},
		{false, "{\"name\":\"\"}", "'name' must not be empty"},
		{true, "{\"name\":\" x\"}",
		 "'name' must be 1-40 of A-Z, a-z, 0-9, space, '_', '.', '-' (no space at either "
		 "end)"},
		{true, "{\"name\":\"x\",\"priority\":101}",
		 "'priority' must be a whole number from -100 to 100"},
		{true, "{\"name\":\"x\",\"priority\":1.5}",
		 "'priority' must be a whole number from -100 to 100"},
		{true, "{\"name\":\"x\",\"strategy\":\"random\"}",
		 "'strategy' must be \"longest_idle\" (the only one so far: the member of the "
		 "lowest "
		 "priority number who has waited longest)"},
		{true, "{\"name\":\"x\",\"wrap_up_codes\":\"a\"}",
		 "'wrap_up_codes' must be an array of strings"},
		{true, "{\"name\":\"x\",\"wrap_up_codes\":[\"\"]}",
		 "wrap-up code 1 must be a string of 1 to 40 characters on one line"},
		{true, "{\"name\":\"x\",\"wrap_up_codes\":[\"a\",\"A\"]}",
		 "wrap-up code 2 repeats code 1"},
		{true, "{\"name\":\"x\",\"members\":{}}",
		 "'members' must be an array of user_names or {\"user_name\", \"priority\"} "
		 "objects"},
		{true, "{\"name\":\"x\",\"members\":[\"Ned!\"]}",
		 "member 1 must be a user_name, or {\"user_name\", \"priority\" 1-9}"},
		{true, "{\"name\":\"x\",\"members\":[{\"user_name\":\"ned\",\"level\":1}]}",
		 "unknown field 'level' (allowed: user_name, priority)"},
		{true, "{\"name\":\"x\",\"members\":[\"ned\",{\"user_name\":\"ned\"}]}",
		 "member 2 repeats member 1"},
	};
	char err[API_ERRSZ];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(req_decode_queue(cases[i].body, strlen(cases[i].body),
						  cases[i].create, &qr, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].msg);
		assert_true(all_zero(&qr, sizeof(qr)));
	}
}

static void transfer_decodes_each_target_and_refuses_with_a_reason(void **state)
{
	static const struct {
		const char *body, *msg;
	} bad[] = {
		{"{}", "'to' is required: {\"agent\": \"beth\"}, {\"queue\": \"Billing\"}, "
		       "{\"number\": \"+15550100\"} or {\"quick_connect\": 1}"},
		{"{\"to\":{\"agent\":\"beth\",\"queue\":\"Billing\"}}",
		 "'to' must be an object with one of 'agent', 'queue', 'number' or "
		 "'quick_connect'"},
		{"{\"to\":{\"agent\":\"Beth!\"}}",
		 "'to.agent' must be a user name (a-z 0-9 . _ -)"},
		{"{\"to\":{\"number\":\"call me\"}}", "'to.number' must be a phone number"},
		{"{\"to\":{\"quick_connect\":0}}",
		 "'quick_connect' must be a whole number from 1 to 2147483647"},
		{"{\"to\":{\"agent\":\"beth\"},\"mode\":\"sideways\"}",
		 "'mode' must be warm or blind"},
		{"{\"to\":{\"agent\":\"beth\"},\"why\":\"x\"}",
		 "unknown field 'why' (allowed: to, mode, note)"},
	};
	struct req_transfer t;
	char err[API_ERRSZ];
	const char *ok = "{\"to\":{\"quick_connect\":7},\"note\":\"legal\"}";

	assert_int_equal(req_decode_transfer(ok, strlen(ok), &t, err, sizeof(err)), 0);
	assert_int_equal(t.quick_connect, 7);
	assert_string_equal(t.mode, "warm"); /* the default */
	assert_string_equal(t.note, "legal");
	ok = "{\"to\":{\"queue\":\"Billing\"},\"mode\":\"blind\"}";
	assert_int_equal(req_decode_transfer(ok, strlen(ok), &t, err, sizeof(err)), 0);
	assert_string_equal(t.queue, "Billing");
	assert_string_equal(t.mode, "blind");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			req_decode_transfer(bad[i].body, strlen(bad[i].body), &t, err, sizeof(err)),
			-EINVAL);
		assert_string_equal(err, bad[i].msg);
		assert_true(all_zero(&t, sizeof(t)));
	}
}

static void monitor_takes_the_four_modes_only(void **state)
{
	static const char *const ok[] = {"listen", "whisper", "barge", "stop"};
	struct req_monitor m;
	char err[API_ERRSZ], body[64];

	for (size_t i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", ok[i]);
		assert_int_equal(req_decode_monitor(body, strlen(body), &m, err, sizeof(err)), 0);
		assert_string_equal(m.mode, ok[i]);
	}
	assert_int_equal(req_decode_monitor("{}", 2, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'mode' is required: listen, whisper, barge or stop");
	assert_int_equal(req_decode_monitor("{\"mode\":\"spy\"}", 14, &m, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "'mode' must be listen, whisper, barge or stop");
	assert_true(all_zero(&m, sizeof(m)));
}

static void member_priority_body_is_optional(void **state)
{
	char err[API_ERRSZ];
	int prio = 0;

	assert_int_equal(req_decode_member("", 0, &prio, err, sizeof(err)), 0);
	assert_int_equal(prio, 1);
	assert_int_equal(req_decode_member("{\"priority\":9}", 14, &prio, err, sizeof(err)), 0);
	assert_int_equal(prio, 9);
	assert_int_equal(req_decode_member("{\"priority\":0}", 14, &prio, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "'priority' must be a whole number from 1 to 9");
}

static void user_create_fills_every_field(void **state)
{
	static const char body[] =
		"{\"user_name\":\"ada.l-1_x\",\"name\":\"Ada Lovelace\","
		"\"email\":\"ada@example.com\",\"mobile_phone\":\"+44 (20) 7946-0018\","
		"\"business_phone\":\"020.7946.0019\",\"password\":\"correct horse\","
		"\"roles\":[\"sn_openframe.user\",\"interaction_agent\",\"admin\",\"admin\"],"
		"\"active\":false}";
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_CREATE, body, &o, err), 0);
	assert_string_equal(o.user.rec.user_name, "ada.l-1_x");
	assert_string_equal(o.user.rec.name, "Ada Lovelace");
	assert_string_equal(o.user.rec.email, "ada@example.com");
	assert_string_equal(o.user.rec.mobile_phone, "+44 (20) 7946-0018");
	assert_string_equal(o.user.rec.business_phone, "020.7946.0019");
	assert_string_equal(o.user.password, "correct horse");
	assert_int_equal(o.user.roles, ROLE_BIT(ROLE_OPENFRAME_USER) |
					       ROLE_BIT(ROLE_INTERACTION_AGENT) |
					       ROLE_BIT(ROLE_ADMIN));
	assert_false(o.user.rec.active);
	assert_true(o.user.has_name && o.user.has_email && o.user.has_mobile &&
		    o.user.has_business && o.user.has_password && o.user.has_roles &&
		    o.user.has_active);
	assert_int_equal(o.user.rec.id, 0);
	assert_string_equal(o.user.rec.password_hash, "");
}

static void user_create_defaults_active_and_flags_absent_fields(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(
		decode(D_CREATE,
		       "{\"user_name\":\"7up\",\"name\":\"S\",\"password\":"
		       "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		       &o, err),
		0);
	assert_true(o.user.rec.active);
	assert_false(o.user.has_active);
	assert_true(o.user.has_name && o.user.has_password);
	assert_false(o.user.has_email || o.user.has_mobile || o.user.has_business ||
		     o.user.has_roles);
	assert_int_equal(o.user.roles, 0);
}

static void user_create_accepts_empty_optional_strings_and_roles(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_CREATE,
				"{\"user_name\":\"a\",\"name\":\"A\",\"password\":"
				"\"12345678\",\"email\":\"\",\"mobile_phone\":\"\","
				"\"business_phone\":\"\",\"roles\":[],\"active\":true}",
				&o, err),
			 0);
	assert_true(o.user.has_email && o.user.has_mobile && o.user.has_business &&
		    o.user.has_roles && o.user.has_active);
	assert_string_equal(o.user.rec.email, "");
	assert_int_equal(o.user.roles, 0);
	assert_true(o.user.rec.active);
}

static void user_update_takes_only_what_is_present(void **state)
{
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode(D_UPDATE, "{\"active\":false}", &o, err), 0);
	assert_true(o.user.has_active);
	assert_false(o.user.rec.active);
	assert_false(o.user.has_name || o.user.has_password || o.user.has_roles ||
		     o.user.has_email || o.user.has_mobile || o.user.has_business);
	assert_int_equal(decode(D_UPDATE, "{\"password\":\"new password\"}", &o, err), 0);
	assert_false(o.user.has_roles);
	assert_true(o.user.has_password);
	assert_string_equal(o.user.password, "new password");
	assert_false(o.user.rec.active);
	assert_false(o.user.has_active);
}

/* ---- malformed bodies: exact messages ---- */
struct bad {
	enum dec d;
	const char *body;
	const char *msg;
};

#define UCREATE_ALLOWED                                                                            \
	"(allowed: user_name, name, email, mobile_phone, business_phone, password, sip_password, " \
	"roles, active)"
#define OK_USER "\"user_name\":\"bob\",\"name\":\"Bob\",\"password\":\"12345678\""

static const struct bad corpus[] = {
	/* the body itself */
	{D_LOGIN, "", "the body is empty; expected a JSON object"},
	{D_PRESENCE, "  \n", "the body is empty; expected a JSON object"},
	{D_CREATE, "", "the body is empty; expected a JSON object"},
	{D_UPDATE, "\t", "the body is empty; expected a JSON object"},
	{D_LOGIN, "{", "invalid JSON at line 1, column 1: string or '}' expected near end of file"},
	{D_CLEAR, "{\"note\":\"a\"",
	 "invalid JSON at line 1, column 11: '}' expected near end of file"},
	{D_LOGIN, "{\"user_name\":'bob'}",
	 "invalid JSON at line 1, column 14: invalid token near '''"},
	{D_LOGIN, "{\"user_name\":\"a\",}",
	 "invalid JSON at line 1, column 18: string or '}' expected near '}'"},
	{D_PRESENCE, "{\n\"status\":\"Away\"\n\"reason\":\"x\"}",
	 "invalid JSON at line 3, column 8: '}' expected near '\"reason\"'"},
	{D_LOGIN, "{} {}", "invalid JSON at line 1, column 4: end of file expected near '{'"},
	{D_LOGIN, "{\"user_name\":\"a\",\"user_name\":\"b\"}",
	 "invalid JSON at line 1, column 28: duplicate object key near '\"user_name\"'"},
	{D_CLEAR, "{\"note\":\"\xff\"}",
	 "invalid JSON at line 1, column 9: unable to decode byte 0xff near '\"'"},
	{D_CLEAR, "{\"note\":\"a\x01\"}",
	 "invalid JSON at line 1, column 10: control character 0x1 near '\"a'"},
	{D_CLEAR, "{\"n\\u0000\":1}",
	 "invalid JSON at line 1, column 10: NUL byte in object key not supported near "
	 "'\"n\\u0000\"'"},
	{D_LOGIN, "42", "the body must be a JSON object"},
	{D_LOGIN, "\"user_name\"", "the body must be a JSON object"},
	{D_CLEAR, "null", "the body must be a JSON object"},
	{D_CREATE, "[{\"user_name\":\"bob\"}]", "the body must be a JSON object"},
	/* unknown fields */
	{D_LOGIN, "{\"username\":\"bob\"}",
	 "unknown field 'username' (allowed: user_name, password)"},
	{D_PRESENCE, "{\"status\":\"Away\",\"Reason\":\"x\"}",
	 "unknown field 'Reason' (allowed: status, reason)"},
	{D_CLEAR, "{\"notes\":\"x\"}", "unknown field 'notes' (allowed: note, wrap_up_code)"},
	{D_CREATE, "{" OK_USER ",\"id\":7}", "unknown field 'id' " UCREATE_ALLOWED},
	{D_UPDATE, "{\"password_hash\":\"x\"}",
	 "unknown field 'password_hash' (allowed: name, email, mobile_phone, business_phone, "
	 "password, sip_password, active)"},
	{D_CLEAR, "{\"caf\xc3\xa9\":1}", "unknown field 'caf?\?' (allowed: note, wrap_up_code)"},
	{D_CLEAR, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
	 "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (allowed: note, wrap_up_code)"},
	/* login */
	{D_LOGIN, "{}", "'user_name' is required"},
	{D_LOGIN, "{\"user_name\":\"bob\"}", "'password' is required"},
	{D_LOGIN, "{\"user_name\":\"\",\"password\":\"x\"}", "'user_name' must not be empty"},
	{D_LOGIN, "{\"user_name\":\"bob\",\"password\":\"\"}", "'password' must not be empty"},
	{D_LOGIN, "{\"user_name\":null,\"password\":\"x\"}", "'user_name' must be a string"},
	{D_LOGIN, "{\"user_name\":\"bob\",\"password\":12345678}", "'password' must be a string"},
	{D_LOGIN, "{\"user_name\":\"bo\\u0000b\",\"password\":\"x\"}",
	 "'user_name' contains a NUL byte"},
	/* presence */
	{D_PRESENCE, "{}", "'status' is required"},
	{D_PRESENCE, "{\"reason\":\"Lunch\"}", "'status' is required"},
	{D_PRESENCE, "{\"status\":1}", "'status' must be a string"},
	{D_PRESENCE, "{\"status\":[\"Away\"]}", "'status' must be a string"},
	{D_PRESENCE, "{\"status\":\"available\"}",
	 "'status' must be one of Available, Away, Offline"},
	{D_PRESENCE, "{\"status\":\"\"}", "'status' must be one of Available, Away, Offline"},
	{D_PRESENCE, "{\"status\":\"Away\\u0000x\",\"reason\":\"x\"}",
	 "'status' contains a NUL byte"},
	{D_PRESENCE, "{\"status\":\"Busy\"}",
	 "status 'Busy' is set by the system; an agent may ask for Available, Away or Offline"},
	{D_PRESENCE, "{\"status\":\"CallingCustomer\"}",
	 "status 'CallingCustomer' is set by the system; an agent may ask for Available, Away or "
	 "Offline"},
	{D_PRESENCE, "{\"status\":\"AfterCallWork\"}",
	 "status 'AfterCallWork' is set by the system; an agent may ask for Available, Away or "
	 "Offline"},
	{D_PRESENCE, "{\"status\":\"FailedConnectAgent\"}",
	 "status 'FailedConnectAgent' is set by the system; an agent may ask for Available, Away "
	 "or Offline"},
	{D_PRESENCE, "{\"status\":\"Missed\"}",
	 "status 'Missed' is set by the system; an agent may ask for Available, Away or Offline"},
	{D_PRESENCE, "{\"status\":\"Away\"}", "'reason' is required when status is Away"},
	{D_PRESENCE, "{\"status\":\"Away\",\"reason\":\"\"}",
	 "'reason' is required when status is Away"},
	{D_PRESENCE, "{\"status\":\"Available\",\"reason\":\"Back\"}",
	 "'reason' is only allowed with status Away"},
	{D_PRESENCE, "{\"status\":\"Offline\",\"reason\":\"Bye\"}",
	 "'reason' is only allowed with status Away"},
	{D_PRESENCE, "{\"status\":\"Away\",\"reason\":false}", "'reason' must be a string"},
	{D_PRESENCE, "{\"status\":\"Away\",\"reason\":\"a\\u0000\"}",
	 "'reason' contains a NUL byte"},
	/* clear */
	{D_CLEAR, "{\"note\":7}", "'note' must be a string"},
	{D_CLEAR, "{\"wrap_up_code\":{}}", "'wrap_up_code' must be a string"},
	{D_CLEAR, "{\"note\":\"\\u0000\"}", "'note' contains a NUL byte"},
	/* user create */
	{D_CREATE, "{}", "'user_name' is required"},
	{D_CREATE, "{\"user_name\":\"bob\",\"password\":\"12345678\"}", "'name' is required"},
	{D_CREATE, "{\"user_name\":\"bob\",\"name\":\"Bob\"}", "'password' is required"},
	{D_CREATE, "{\"user_name\":\"Bob\",\"name\":\"Bob\",\"password\":\"12345678\"}",
	 "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-'"},
	{D_CREATE, "{\"user_name\":\"\",\"name\":\"Bob\",\"password\":\"12345678\"}",
	 "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-'"},
	{D_CREATE, "{\"user_name\":\"-bob\",\"name\":\"Bob\",\"password\":\"12345678\"}",
	 "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-'"},
	{D_CREATE, "{\"user_name\":\"bob smith\",\"name\":\"Bob\",\"password\":\"12345678\"}",
	 "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-'"},
	{D_CREATE, "{\"user_name\":[\"bob\"]}", "'user_name' must be a string"},
	{D_CREATE, "{\"user_name\":\"bob\\u0000\",\"name\":\"B\",\"password\":\"12345678\"}",
	 "'user_name' contains a NUL byte"},
	{D_CREATE, "{\"user_name\":\"bob\",\"name\":\"\",\"password\":\"12345678\"}",
	 "'name' must not be empty"},
	{D_CREATE, "{\"user_name\":\"bob\",\"name\":\"Bob\",\"password\":\"1234567\"}",
	 "'password' must be at least 8 characters"},
	{D_CREATE,
	 "{\"user_name\":\"bob\",\"name\":\"Bob\",\"password\":"
	 "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	 "'password' must be at least 8 characters"},
	{D_CREATE, "{" OK_USER ",\"email\":\"bob\"}",
	 "'email' is not an email address: expected one '@' with text on both sides"},
	{D_CREATE, "{" OK_USER ",\"email\":\"@example.com\"}",
	 "'email' is not an email address: expected one '@' with text on both sides"},
	{D_CREATE, "{" OK_USER ",\"email\":\"bob@\"}",
	 "'email' is not an email address: expected one '@' with text on both sides"},
	{D_CREATE, "{" OK_USER ",\"email\":\"bob@a@b\"}",
	 "'email' is not an email address: expected one '@' with text on both sides"},
	{D_CREATE, "{" OK_USER ",\"email\":1}", "'email' must be a string"},
	{D_CREATE, "{" OK_USER ",\"mobile_phone\":\"12\"}",
	 "'mobile_phone' is not a phone number: it must have 3 to 20 digits"},
	{D_CREATE, "{" OK_USER ",\"mobile_phone\":\"123456789012345678901\"}",
	 "'mobile_phone' is not a phone number: it must have 3 to 20 digits"},
	{D_CREATE, "{" OK_USER ",\"mobile_phone\":\"555-CALL\"}",
	 "'mobile_phone' is not a phone number: only digits, spaces and '+', '-', '(', ')', '.' "
	 "are allowed"},
	{D_CREATE, "{" OK_USER ",\"business_phone\":\"1+555 0100\"}",
	 "'business_phone' is not a phone number: '+' is only allowed at the start"},
	{D_CREATE, "{" OK_USER ",\"business_phone\":\"++15550100\"}",
	 "'business_phone' is not a phone number: '+' is only allowed at the start"},
	{D_CREATE, "{" OK_USER ",\"business_phone\":\"+1 555 0100 0100 0100 0100 0100 0\"}",
	 "'business_phone' is longer than 31 characters"},
	{D_CREATE, "{" OK_USER ",\"roles\":\"admin\"}", "'roles' must be an array of role names"},
	{D_CREATE, "{" OK_USER ",\"roles\":[\"admin\",1]}",
	 "'roles' must be an array of role names"},
	{D_CREATE, "{" OK_USER ",\"roles\":[[\"admin\"]]}",
	 "'roles' must be an array of role names"},
	{D_CREATE, "{" OK_USER ",\"roles\":[\"Admin\"]}", "unknown role 'Admin'"},
	{D_CREATE, "{" OK_USER ",\"roles\":[\"\"]}", "unknown role ''"},
	{D_CREATE, "{" OK_USER ",\"roles\":[\"admin\\u0000\"]}", "'roles' contains a NUL byte"},
	{D_CREATE, "{" OK_USER ",\"roles\":[\"\\u00e9\\n\"]}", "unknown role '?\?\?'"},
	{D_CREATE, "{" OK_USER ",\"active\":\"true\"}", "'active' must be a boolean"},
	{D_CREATE, "{" OK_USER ",\"active\":1}", "'active' must be a boolean"},
	{D_CREATE, "{" OK_USER ",\"active\":null}", "'active' must be a boolean"},
	/* user update */
	{D_UPDATE, "{}", "nothing to update"},
	{D_UPDATE, "{\"user_name\":\"bob\"}", "'user_name' cannot be changed"},
	{D_UPDATE, "{\"name\":\"Bob\",\"user_name\":\"bob\"}", "'user_name' cannot be changed"},
	{D_UPDATE, "{\"name\":\"\"}", "'name' must not be empty"},
	{D_UPDATE, "{\"name\":null}", "'name' must be a string"},
	{D_UPDATE, "{\"password\":\"short\"}", "'password' must be at least 8 characters"},
	{D_UPDATE, "{\"password\":\"\"}", "'password' must be at least 8 characters"},
	{D_UPDATE, "{\"email\":\"x@\"}",
	 "'email' is not an email address: expected one '@' with text on both sides"},
	{D_UPDATE, "{\"mobile_phone\":\"+\"}",
	 "'mobile_phone' is not a phone number: it must have 3 to 20 digits"},
	{D_UPDATE, "{\"roles\":{\"admin\":true}}",
	 "'roles' cannot be changed here; use PUT or DELETE "
	 "/api/v1/users/{user_name}/roles/{role}"},
	{D_UPDATE, "{\"roles\":[\"supervisor\"]}",
	 "'roles' cannot be changed here; use PUT or DELETE "
	 "/api/v1/users/{user_name}/roles/{role}"},
	{D_UPDATE, "{\"active\":\"no\"}", "'active' must be a boolean"},
};

static void malformed_bodies_get_exact_messages(void **state)
{
	size_t n = sizeof(corpus) / sizeof(corpus[0]);

	assert_true(n >= 25);
	for (size_t i = 0; i < n; i++) {
		char err[API_ERRSZ];
		union out o;
		int rc;

		memset(&o, 0x55, sizeof(o));
		rc = decode(corpus[i].d, corpus[i].body, &o, err);
		if (rc != -EINVAL || strcmp(err, corpus[i].msg))
			print_error("corpus[%zu] %s\n  got %d \"%s\"\n  want \"%s\"\n", i,
				    corpus[i].body, rc, err, corpus[i].msg);
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(err, corpus[i].msg);
		/* a failure leaves nothing half-decoded (passwords included) */
		assert_true(all_zero(&o, out_size(corpus[i].d)));
	}
}

/* ---- lengths at and past each limit ---- */
struct limit {
	enum dec d;
	const char *key;
	size_t max;
	char ch;
	const char *extra;
};

static const struct limit limits[] = {
	{D_LOGIN, "user_name", ST_NAME - 1, 'u', ",\"password\":\"x\""},
	{D_LOGIN, "password", 1023, 'p', ",\"user_name\":\"u\""},
	{D_PRESENCE, "reason", ST_TEXT - 1, 'r', ",\"status\":\"Away\""},
	{D_CLEAR, "note", ST_NOTE, 'n', ""}, /* 255 before issue 10 */
	{D_CLEAR, "wrap_up_code", ST_NAME - 1, 'w', ""},
	{D_CREATE, "name", ST_TEXT - 1, 'n', ",\"user_name\":\"u\",\"password\":\"12345678\""},
	{D_CREATE, "password", 1023, 'p', ",\"user_name\":\"u\",\"name\":\"U\""},
	{D_CREATE, "mobile_phone", ST_PHONE - 1, ' ',
	 ",\"user_name\":\"u\",\"name\":\"U\",\"password\":\"12345678\",\"business_phone\":"
	 "\"123\""},
	{D_UPDATE, "business_phone", ST_PHONE - 1, ' ', ",\"mobile_phone\":\"123\""},
	{D_UPDATE, "name", ST_TEXT - 1, 'n', ""},
	{D_UPDATE, "password", 1023, 'p', ""},
};

static void fields_at_their_limit_pass_and_one_more_fails(void **state)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		const struct limit *l = &limits[i];
		char err[API_ERRSZ], want[API_ERRSZ], *b;
		union out o;
		int rc;

		if (l->ch == ' ') { /* phones: "123" padded with spaces */
			b = body_with_len(l->key, l->max, ' ', l->extra);
			memcpy(strstr(b, "\":\"") + 3, "123", 3);
		} else {
			b = body_with_len(l->key, l->max, l->ch, l->extra);
		}
		rc = decode(l->d, b, &o, err);
		if (rc)
			print_error("limits[%zu]: %s\n", i, err);
		assert_int_equal(rc, 0);
		free(b);
		b = body_with_len(l->key, l->max + 1, l->ch == ' ' ? '1' : l->ch, l->extra);
		snprintf(want, sizeof(want), "'%s' is longer than %zu characters", l->key, l->max);
		assert_int_equal(decode(l->d, b, &o, err), -EINVAL);
		assert_string_equal(err, want);
		free(b);
	}
}

static void email_at_its_limit_passes_and_one_more_fails(void **state)
{
	char err[API_ERRSZ], body[512], local[ST_TEXT];
	union out o;

	memset(local, 'e', sizeof(local));
	local[ST_TEXT - 1 - 4] = '\0'; /* 123 + "@x.y" = 127 */
	snprintf(body, sizeof(body), "{" OK_USER ",\"email\":\"%s@x.y\"}", local);
	assert_int_equal(decode(D_CREATE, body, &o, err), 0);
	assert_int_equal(strlen(o.user.rec.email), ST_TEXT - 1);
	snprintf(body, sizeof(body), "{" OK_USER ",\"email\":\"%s@x.yz\"}", local);
	assert_int_equal(decode(D_CREATE, body, &o, err), -EINVAL);
	assert_string_equal(err, "'email' is longer than 127 characters");
}

static void user_name_of_63_passes_and_64_fails(void **state)
{
	char err[API_ERRSZ], *b;
	union out o;

	b = body_with_len("user_name", ST_NAME - 1, 'z',
			  ",\"name\":\"Z\",\"password\":\"12345678\"");
	assert_int_equal(decode(D_CREATE, b, &o, err), 0);
	assert_int_equal(strlen(o.user.rec.user_name), ST_NAME - 1);
	free(b);
	b = body_with_len("user_name", ST_NAME, 'z', ",\"name\":\"Z\",\"password\":\"12345678\"");
	assert_int_equal(decode(D_CREATE, b, &o, err), -EINVAL);
	assert_string_equal(err,
			    "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-'");
	free(b);
}

/* ---- bytes that are not JSON text ---- */

static void raw_nul_byte_in_the_body_is_invalid_json(void **state)
{
	static const char body[] = "{\"note\":\"a\0b\"}";
	char err[API_ERRSZ];
	union out o;

	assert_int_equal(decode_n(D_CLEAR, body, sizeof(body) - 1, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid JSON at line 1, column"));
	/* a trailing NUL after the object is trailing garbage too */
	assert_int_equal(decode_n(D_CLEAR, "{}", 3, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid JSON at line 1"));
}

static void body_length_is_respected_without_a_terminator(void **state)
{
	char err[API_ERRSZ], buf[64];
	union out o;

	/* only the first n bytes count; what follows is never read as JSON */
	memcpy(buf, "{\"status\":\"Available\"}GARBAGE", 30);
	assert_int_equal(decode_n(D_PRESENCE, buf, 22, &o, err, sizeof(err)), 0);
	assert_int_equal(o.presence.status, PRES_AVAILABLE);
	assert_int_equal(decode_n(D_PRESENCE, buf, 21, &o, err, sizeof(err)), -EINVAL);
}

static void deep_nesting_is_refused_not_a_crash(void **state)
{
	size_t depth = 100000;
	char *b = malloc(2 * depth + 16), err[API_ERRSZ];
	union out o;

	assert_non_null(b);
	memcpy(b, "{\"note\":", 8);
	memset(b + 8, '[', depth);
	memset(b + 8 + depth, ']', depth);
	memcpy(b + 8 + 2 * depth, "}", 2);
	assert_int_equal(decode(D_CLEAR, b, &o, err), -EINVAL);
	assert_non_null(strstr(err, "maximum parsing depth"));
	free(b);
}

/* ---- the message buffer ---- */

static void message_is_truncated_to_esz_and_terminated(void **state)
{
	static const char ok[] = "{\"user_name\":\"a\",\"password\":\"b\"}";
	char err[16];
	union out o;

	memset(err, 'X', sizeof(err));
	assert_int_equal(decode_n(D_LOGIN, "{}", 2, &o, err, 8), -EINVAL);
	assert_string_equal(err, "'user_n");
	assert_int_equal(err[8], 'X'); /* nothing written past esz */
	assert_int_equal(decode_n(D_LOGIN, "{}", 2, &o, err, 1), -EINVAL);
	assert_string_equal(err, "");
	assert_int_equal(decode_n(D_LOGIN, "{}", 2, &o, NULL, 0), -EINVAL);
	assert_int_equal(decode_n(D_LOGIN, ok, strlen(ok), &o, NULL, 0), 0);
}

static void message_is_printable_ascii_even_when_cut_mid_character(void **state)
{
	char err[API_ERRSZ];
	union out o;

	/* 31 ASCII bytes then U+00E9: the 32-byte cut splits it */
	assert_int_equal(
		decode(D_CLEAR, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\":1}", &o, err),
		-EINVAL);
	assert_string_equal(err, "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?...' (allowed: "
				 "note, wrap_up_code)");
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
}

/* ---- validators ---- */

static void valid_user_name_follows_the_rule(void **state)
{
	static const char *const good[] = {"a",	    "0",      "ada", "ada.l",
					   "a_b-c", "9lives", "a..", NULL};
	static const char *const bad[] = {"",	"A",   "ada L",	      ".ada", "_a",
					  "-a", "ad@", "caf\xc3\xa9", "a\tb", NULL};

	for (size_t i = 0; good[i]; i++)
		assert_true(req_valid_user_name(good[i]));
	for (size_t i = 0; bad[i]; i++)
		assert_false(req_valid_user_name(bad[i]));
	assert_false(req_valid_user_name(NULL));
	char s[ST_NAME + 1];
	memset(s, 'a', ST_NAME);
	s[ST_NAME] = '\0';
	assert_false(req_valid_user_name(s));
	s[ST_NAME - 1] = '\0';
	assert_true(req_valid_user_name(s));
}

static void valid_phone_follows_the_rule(void **state)
{
	static const char *const good[] = {"",
					   "123",
					   "+1 (555) 010-0100",
					   "020.7946.0018",
					   "12345678901234567890",
					   "+ 1 2 3",
					   "(((123)))",
					   NULL};
	static const char *const bad[] = {"12",
					  "+",
					  "   ",
					  "123456789012345678901",
					  "1+23",
					  "555-CALL",
					  "123#",
					  "12\t3",
					  "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7",
					  NULL};

	for (size_t i = 0; good[i]; i++)
		assert_true(req_valid_phone(good[i]));
	for (size_t i = 0; bad[i]; i++) {
		if (req_valid_phone(bad[i]))
			print_error("accepted \"%s\"\n", bad[i]);
		assert_false(req_valid_phone(bad[i]));
	}
	assert_false(req_valid_phone(NULL));
}

/*
 * OOM: every allocation jansson makes fails once, in turn. Most are reported
 * as -ENOMEM; a failure inside the lexer's string copy is reported by jansson
 * as a syntax error (it sets no error code there), so -EINVAL is allowed too.
 * Either way: no leak, and no half-decoded output.
 */
static const struct {
	enum dec d;
	const char *body;
} oom_bodies[] = {
	{D_LOGIN, "{\"user_name\":\"ada\",\"password\":\"s3cret!\"}"},
	{D_PRESENCE, "{\"status\":\"Away\",\"reason\":\"Lunch\"}"},
	{D_CLEAR, "{\"note\":\"n\",\"wrap_up_code\":\"w\"}"},
	{D_CREATE, "{" OK_USER ",\"email\":\"b@x\",\"roles\":[\"admin\",\"awa_agent\"],"
		   "\"active\":true,\"mobile_phone\":\"123\"}"},
	{D_UPDATE, "{\"name\":\"N\",\"email\":\"n@example.com\"}"},
};

static void out_of_memory_is_enomem_without_leaks(void **state)
{
	for (size_t i = 0; i < sizeof(oom_bodies) / sizeof(oom_bodies[0]); i++) {
		char err[API_ERRSZ];
		union out o;
		int rc = -ENOMEM;
		unsigned k, n_enomem = 0;

		for (k = 1; k < 1000 && rc; k++) {
			fail_at = k;
			n_alloc = 0;
			rc = decode(oom_bodies[i].d, oom_bodies[i].body, &o, err);
			assert_int_equal(live, 0);
			if (rc == -ENOMEM) {
				assert_string_equal(err, "out of memory");
				n_enomem++;
			} else if (rc) {
				/* jansson's lexer drops a failed string copy as a bad
				 * token: a syntax error, never a crash or a leak */
				assert_int_equal(rc, -EINVAL);
				assert_non_null(strstr(err, "invalid JSON at line 1"));
			}
			if (rc)
				assert_true(all_zero(&o, out_size(oom_bodies[i].d)));
		}
		fail_at = 0;
		assert_int_equal(rc, 0);
		assert_true(k > 2); /* at least one allocation was failed */
		assert_true(n_enomem > 0);
	}
}

/* ---- records: contacts, consumers, cases, incidents ---- */
static int rec(enum st_table t, bool create, const char *body, struct st_record_write *w, char *err)
{
	return req_decode_record(body, strlen(body), t, create, w, err, API_ERRSZ);
}

static void record_bodies_fill_what_is_present(void **state)
{
	char err[API_ERRSZ];
	struct st_record_write w;

	assert_int_equal(rec(ST_T_CONTACT, true,
			     "{\"name\":\"Paula\",\"email\":\"p@acme.example\",\"mobile_phone\":"
			     "\"+1 (555) 0140\",\"account\":\"Acme\"}",
			     &w, err),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(w.table, ST_T_CONTACT);
	assert_string_equal(w.name, "Paula");
	assert_string_equal(w.mobile_phone, "+1 (555) 0140");
	assert_string_equal(w.account, "Acme");
	assert_true(w.set & ST_F_BUSINESS); /* create: every field, absent ones "" */
	assert_int_equal(w.party_table, ST_T_NONE);

	assert_int_equal(rec(ST_T_CONSUMER, false, "{\"business_phone\":\"\"}", &w, err), 0);
	assert_int_equal(w.set, ST_F_BUSINESS);

	assert_int_equal(rec(ST_T_CASE, true, "{\"short_description\":\"Broken\"}", &w, err), 0);
	assert_string_equal(w.state, "New");
	assert_int_equal(w.party_table, ST_T_NONE);
	assert_int_equal(rec(ST_T_CASE, true,
			     "{\"short_description\":\"x\",\"consumer\":\"CSM0001001\",\"state\":"
			     "\"On Hold\"}",
			     &w, err),
			 0);
	assert_int_equal(w.party_table, ST_T_CONSUMER);
	assert_string_equal(w.party_key, "CSM0001001");
	assert_string_equal(w.state, "On Hold");
	assert_int_equal(rec(ST_T_CASE, false, "{\"contact_user\":\"\"}", &w, err), 0);
	assert_int_equal(w.set, ST_F_PARTY); /* "" removes the contact */
	assert_int_equal(w.party_table, ST_T_NONE);
	assert_int_equal(rec(ST_T_CASE, false, "{\"state\":\"Resolved\"}", &w, err), 0);
	assert_int_equal(w.set, ST_F_STATE);

	assert_int_equal(rec(ST_T_INCIDENT, true,
			     "{\"short_description\":\"VPN\",\"caller\":\"ned\",\"state\":"
			     "\"Canceled\"}",
			     &w, err),
			 0);
	assert_int_equal(w.party_table, ST_T_USER);
	assert_string_equal(w.party_key, "ned");
	assert_string_equal(w.state, "Canceled");
}

static void malformed_record_bodies_get_exact_messages(void **state)
{
	static const struct {
		enum st_table t;
		bool create;
		const char *body, *msg;
	} bad[] = {
		{ST_T_CONTACT, true, "{}", "'name' is required"},
		{ST_T_CONTACT, true, "{\"name\":\"\"}", "'name' must not be empty"},
		{ST_T_CONTACT, false, "{}", "nothing to update"},
		{ST_T_CONTACT, false, "{\"name\":\"\"}", "'name' must not be empty"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"number\":\"CON1\"}",
		 "'number' is assigned by the server and cannot be set"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"nick\":1}",
		 "unknown field 'nick' (allowed: name, email, mobile_phone, business_phone, "
		 "account)"},
		{ST_T_CONSUMER, true, "{\"name\":\"X\",\"account\":\"A\"}",
		 "unknown field 'account' (allowed: name, email, mobile_phone, business_phone)"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"email\":\"a@b@c\"}",
		 "'email' is not an email address: expected one '@' with text on both sides"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"mobile_phone\":\"call me\"}",
		 "'mobile_phone' is not a phone number: only digits, spaces and '+', '-', '(', "
		 "')', '.' are allowed"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"business_phone\":12345}",
		 "'business_phone' must be a string"},
		{ST_T_CONTACT, true, "{\"name\":\"X\",\"account\":null}",
		 "'account' must be a string"},
		{ST_T_CASE, true, "{\"state\":\"New\"}", "'short_description' is required"},
		{ST_T_CASE, true, "{\"short_description\":\"x\",\"state\":\"Canceled\"}",
		 "'state' must be one of New, In Progress, On Hold, Resolved, Closed"},
		{ST_T_CASE, true, "{\"short_description\":\"x\",\"state\":\"new\"}",
		 "'state' must be one of New, In Progress, On Hold, Resolved, Closed"},
		{ST_T_CASE, true,
		 "{\"short_description\":\"x\",\"contact\":\"CON0001001\",\"contact_user\":"
		 "\"amy\"}",
		 "give one of 'contact_user', 'contact' and 'consumer'"},
		{ST_T_CASE, true, "{\"short_description\":\"x\",\"contact\":7}",
		 "'contact' must be a string"},
		{ST_T_CASE, true, "{\"short_description\":\"x\",\"caller\":\"ned\"}",
		 "unknown field 'caller' (allowed: short_description, state, contact_user, "
		 "contact, consumer)"},
		{ST_T_INCIDENT, true, "{\"short_description\":\"x\",\"state\":\"Open\"}",
		 "'state' must be one of New, In Progress, On Hold, Resolved, Closed, Canceled"},
		{ST_T_INCIDENT, true, "{\"short_description\":\"x\",\"contact\":\"CON0001001\"}",
		 "unknown field 'contact' (allowed: short_description, state, caller)"},
		{ST_T_INCIDENT, true, "[]", "the body must be a JSON object"},
		{ST_T_INCIDENT, true, "", "the body is empty; expected a JSON object"},
	};
	char err[API_ERRSZ];
	struct st_record_write w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = rec(bad[i].t, bad[i].create, bad[i].body, &w, err);

		if (rc != -EINVAL || strcmp(err, bad[i].msg))
			fail_msg("%s: rc %d, got '%s', want '%s'", bad[i].body, rc, err,
				 bad[i].msg);
		assert_true(all_zero(&w, sizeof(w)));
	}
	assert_int_equal(req_decode_record("{}", 2, ST_T_USER, true, &w, err, sizeof(err)),
			 -EINVAL);
}

static void record_fields_at_their_limit_pass_and_one_more_fails(void **state)
{
	char err[API_ERRSZ], *b;
	struct st_record_write w;

	b = body_with_len("name", ST_TEXT - 1, 'n', "");
	assert_int_equal(rec(ST_T_CONTACT, true, b, &w, err), 0);
	free(b);
	b = body_with_len("name", ST_TEXT, 'n', "");
	assert_int_equal(rec(ST_T_CONTACT, true, b, &w, err), -EINVAL);
	assert_string_equal(err, "'name' is longer than 127 characters");
	free(b);
	b = body_with_len("contact", ST_NAME, 'c', ",\"short_description\":\"x\"");
	assert_int_equal(rec(ST_T_CASE, true, b, &w, err), -EINVAL);
	assert_string_equal(err, "'contact' is longer than 63 characters");
	free(b);
}

static void record_decoder_out_of_memory_is_enomem_without_leaks(void **state)
{
	static const char body[] = "{\"short_description\":\"Broken router\",\"state\":\"On "
				   "Hold\",\"contact\":\"CON0001001\"}";
	char err[API_ERRSZ];
	struct st_record_write w;
	int rc = -ENOMEM;
	unsigned k, n_enomem = 0;

	for (k = 1; k < 1000 && rc; k++) {
		fail_at = k;
		n_alloc = 0;
		rc = req_decode_record(body, strlen(body), ST_T_CASE, true, &w, err, sizeof(err));
		assert_int_equal(live, 0);
		if (rc == -ENOMEM)
			n_enomem++;
		/* jansson 2.14 drops a byte of a string (here a key longer than its
		 * 16-byte buffer) when growing it fails, without an error: the
		 * key is then unknown. -EINVAL with a message, never a leak. */
		else if (rc && (rc != -EINVAL || !err[0]))
			fail_msg("allocation %u failed: rc %d '%s'", k, rc, err);
		if (rc)
			assert_true(all_zero(&w, sizeof(w)));
	}
	fail_at = 0;
	assert_int_equal(rc, 0);
	assert_true(n_enomem > 0);
}

/* ---- dialled numbers and trunks ---- */
static void number_and_trunk_bodies_are_checked(void **state)
{
	char err[API_ERRSZ];
	struct req_number num;
	struct req_trunk t;
	const char *body;
	static const struct {
		const char *body, *msg;
	} bad[] = {
		{"{\"address\":\"203.0.113.999\"}", "'address' must be an IPv4 or IPv6 address"},
		{"{\"username\":\"carrier\"}", "needs a 'password' of at least 8"},
		{"{\"username\":\"Carrier!\",\"password\":\"12345678\"}", "'username' may hold"},
		{"{\"password\":\"12345678\"}", "'password' needs a 'username'"},
		{"{}", "a trunk needs an 'address'"},
		{"{\"address\":\"1.2.3.4\",\"sip_ha1\":\"x\"}", "unknown field 'sip_ha1'"},
	};

	(void)state;
	assert_int_equal(req_decode_number("{\"queue\":\"Support\"}", 19, &num, err, sizeof(err)),
			 0);
	assert_string_equal(num.queue, "Support");
	assert_int_equal(req_decode_number("{\"queue\":\"\"}", 12, &num, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "give 'queue' (the queue this number leads to) or 'flow'"));
	body = "{\"flow\":\"main\"}";
	assert_int_equal(req_decode_number(body, strlen(body), &num, err, sizeof(err)), 0);
	assert_string_equal(num.flow, "main");
	body = "{\"flow\":\"main\",\"queue\":\"Support\"}";
	assert_int_equal(req_decode_number(body, strlen(body), &num, err, sizeof(err)), -EINVAL);
	assert_int_equal(req_decode_trunk("{\"address\":\"::1\"}", 17, &t, err, sizeof(err)), 0);
	assert_string_equal(t.address, "::1");
	body = "{\"username\":\"c-1\",\"password\":\"12345678\"}";
	assert_int_equal(req_decode_trunk(body, strlen(body), &t, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			req_decode_trunk(bad[i].body, strlen(bad[i].body), &t, err, sizeof(err)),
			-EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].body, err, bad[i].msg);
	}
	assert_true(req_valid_did("+15550100"));
	assert_true(req_valid_did("5000"));
	assert_false(req_valid_did(""));
	assert_false(req_valid_did("50 00"));
	assert_false(req_valid_did("12345678901234567890123456789012"));
}

/* ---- quick connects ---- */
static int qc(bool create, const char *body, struct req_quick_connect *r, char *err)
{
	return req_decode_quick_connect(body, strlen(body), create, r, err, API_ERRSZ);
}

static void quick_connect_bodies_decode(void **state)
{
	char err[API_ERRSZ] = "stale";
	struct req_quick_connect r;

	assert_int_equal(qc(true, "{\"name\":\"Legal desk\",\"number\":\"+1 555 0170\"}", &r, err),
			 0);
	assert_string_equal(err, "");
	assert_string_equal(r.name, "Legal desk");
	assert_string_equal(r.number, "+1 555 0170");
	assert_true(r.has_name && r.has_number);
	/* characters, not bytes: 64 of U+00E9 (128 bytes) and of U+1F4DE (256) */
	char body[600], name[300];
	for (int i = 0; i < 64; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x93\x9e", 4);
	name[256] = '\0';
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"number\":\"123\"}", name);
	assert_int_equal(qc(true, body, &r, err), 0);
	assert_string_equal(r.name, name);
	assert_int_equal(strlen(r.name), 256);
	/* update: either field, or both */
	assert_int_equal(qc(false, "{\"number\":\"(020) 7946 0018\"}", &r, err), 0);
	assert_false(r.has_name);
	assert_true(r.has_number);
	assert_string_equal(r.number, "(020) 7946 0018");
	assert_int_equal(qc(false, "{\"name\":\"Caf\\u00e9 line\"}", &r, err), 0);
	assert_string_equal(r.name, "Caf\xc3\xa9 line");
	assert_false(r.has_number);
}

static void quick_connect_bodies_refused_with_exact_messages(void **state)
{
	static const struct {
		bool create;
		const char *body, *msg;
	} bad[] = {
		{true, "{}", "'name' is required"},
		{true, "{\"name\":\"X\"}", "'number' is required"},
		{true, "{\"number\":\"123\"}", "'name' is required"},
		{true, "{\"name\":\"\",\"number\":\"123\"}", "'name' must not be empty"},
		{true, "{\"name\":\"X\",\"number\":\"\"}", "'number' must not be empty"},
		{true, "{\"name\":\" X\",\"number\":\"123\"}",
		 "'name' must not start or end with a space"},
		{true, "{\"name\":\"X \",\"number\":\"123\"}",
		 "'name' must not start or end with a space"},
		{true, "{\"name\":\"   \",\"number\":\"123\"}",
		 "'name' must not start or end with a space"},
		{true, "{\"name\":\"a\\nb\",\"number\":\"123\"}",
		 "'name' must be one line, without control characters"},
		{true, "{\"name\":\"a\\tb\",\"number\":\"123\"}",
		 "'name' must be one line, without control characters"},
		{true, "{\"name\":\"a\\u0085b\",\"number\":\"123\"}",
		 "'name' must be one line, without control characters"},
		{true, "{\"name\":\"a\\u007fb\",\"number\":\"123\"}",
		 "'name' must be one line, without control characters"},
		{true, "{\"name\":\"a\\u0000b\",\"number\":\"123\"}", "'name' contains a NUL byte"},
		{true, "{\"name\":7,\"number\":\"123\"}", "'name' must be a string"},
		{true, "{\"name\":\"X\",\"number\":15550170}", "'number' must be a string"},
		{true, "{\"name\":\"X\",\"number\":null}", "'number' must be a string"},
		{true, "{\"name\":\"X\",\"number\":\"call legal\"}",
		 "'number' is not a phone number: only digits, spaces and '+', '-', '(', ')', '.' "
		 "are allowed"},
		{true, "{\"name\":\"X\",\"number\":\"12\"}",
		 "'number' is not a phone number: it must have 3 to 20 digits"},
		{true, "{\"name\":\"X\",\"number\":\"1+2\"}",
		 "'number' is not a phone number: '+' is only allowed at the start"},
		{true, "{\"name\":\"X\",\"number\":\"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7\"}",
		 "'number' is longer than 31 characters"},
		{true, "{\"name\":\"X\",\"number\":\"123\",\"id\":4}",
		 "unknown field 'id' (allowed: name, number)"},
		{false, "{}", "nothing to update: give 'name', 'number' or both"},
		{false, "{\"name\":\"\"}", "'name' must not be empty"},
		{false, "{\"number\":\"#1\"}",
		 "'number' is not a phone number: only digits, spaces and '+', '-', '(', ')', '.' "
		 "are allowed"},
		{false, "", "the body is empty; expected a JSON object"},
		{false, "[\"name\"]", "the body must be a JSON object"},
		{false, "{\"name\":\"X\",\"name\":\"Y\"}",
		 "invalid JSON at line 1, column 18: duplicate object key near '\"name\"'"},
	};
	char err[API_ERRSZ];
	struct req_quick_connect r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = qc(bad[i].create, bad[i].body, &r, err);

		if (rc != -EINVAL || strcmp(err, bad[i].msg))
			fail_msg("%s: rc %d, got '%s', want '%s'", bad[i].body, rc, err,
				 bad[i].msg);
		assert_true(all_zero(&r, sizeof(r)));
	}
}

static void quick_connect_name_of_64_characters_passes_and_65_fails(void **state)
{
	char err[API_ERRSZ], *b;
	struct req_quick_connect r;

	b = body_with_len("name", 64, 'n', ",\"number\":\"123\"");
	assert_int_equal(qc(true, b, &r, err), 0);
	assert_int_equal(strlen(r.name), 64);
	free(b);
	b = body_with_len("name", 65, 'n', ",\"number\":\"123\"");
	assert_int_equal(qc(true, b, &r, err), -EINVAL);
	assert_string_equal(err, "'name' must be 1 to 64 characters");
	free(b);
	/* 65 two-byte characters: 130 bytes, still refused by characters */
	char body[400];
	size_t k = (size_t)snprintf(body, sizeof(body), "{\"name\":\"");
	for (int i = 0; i < 65; i++, k += 2)
		memcpy(body + k, "\xc3\xa9", 2);
	snprintf(body + k, sizeof(body) - k, "\",\"number\":\"123\"}");
	assert_int_equal(qc(true, body, &r, err), -EINVAL);
	assert_string_equal(err, "'name' must be 1 to 64 characters");
	assert_true(all_zero(&r, sizeof(r)));
	b = body_with_len("number", 31, '1', ",\"name\":\"X\"");
	assert_int_equal(qc(true, b, &r, err), -EINVAL); /* 31 digits: too many */
	assert_string_equal(err, "'number' is not a phone number: it must have 3 to 20 digits");
	free(b);
}

static void quick_connect_out_of_memory_is_enomem_without_leaks(void **state)
{
	static const char body[] = "{\"name\":\"Field service desk\",\"number\":\"+1 555 0171\"}";
	char err[API_ERRSZ];
	struct req_quick_connect r;
	int rc = -ENOMEM;
	unsigned k, n_enomem = 0;

	for (k = 1; k < 1000 && rc; k++) {
		fail_at = k;
		n_alloc = 0;
		rc = req_decode_quick_connect(body, strlen(body), true, &r, err, sizeof(err));
		assert_int_equal(live, 0);
		if (rc == -ENOMEM)
			n_enomem++;
		else if (rc && (rc != -EINVAL || !err[0])) /* jansson's lexer: see above */
			fail_msg("allocation %u failed: rc %d '%s'", k, rc, err);
		if (rc)
			assert_true(all_zero(&r, sizeof(r)));
	}
	fail_at = 0;
	assert_int_equal(rc, 0);
	assert_true(n_enomem > 0);
}

/* ---- webhooks ---- */
#define WH_OK ",\"secret\":\"0123456789abcdef\",\"events\":[\"presence\"]"

static int wh(bool create, const char *body, struct req_webhook *r, char *err)
{
	return req_decode_webhook(body, strlen(body), create, r, err, API_ERRSZ);
}

static void webhook_bodies_decode(void **state)
{
	char err[API_ERRSZ] = "stale";
	struct req_webhook r;

	assert_int_equal(wh(true,
			    "{\"url\":\"https://hooks.example.com:8443/in?src=sb&x=%20\","
			    "\"secret\":\"s3cr3t-!#$%&'()*+,-./:;<=>?@[]^_`{|}~\","
			    "\"events\":[\"presence\",\"ctr\",\"interaction\"]}",
			    &r, err),
			 0);
	assert_string_equal(err, "");
	assert_string_equal(r.url, "https://hooks.example.com:8443/in?src=sb&x=%20");
	assert_string_equal(r.secret, "s3cr3t-!#$%&'()*+,-./:;<=>?@[]^_`{|}~");
	assert_int_equal(r.events, HOOK_EV_ALL);
	assert_true(r.active && r.has_url && r.has_secret && r.has_events && !r.has_active);
	assert_int_equal(
		wh(true, "{\"url\":\"http://127.0.0.1:9000\"" WH_OK ",\"active\":false}", &r, err),
		0);
	assert_false(r.active);
	assert_true(r.has_active);
	assert_int_equal(r.events, HOOK_EV_BIT(HOOK_EV_PRESENCE));
	assert_int_equal(wh(true, "{\"url\":\"http://[::1]:8080/h\"" WH_OK "}", &r, err), 0);
	assert_int_equal(wh(true, "{\"url\":\"http://[fe80::1%25eth0]/h\"" WH_OK "}", &r, err),
			 -EINVAL); /* a zone id is not accepted */
	/* update: any one field */
	assert_int_equal(wh(false, "{\"active\":true}", &r, err), 0);
	assert_true(r.has_active && r.active && !r.has_url && !r.has_secret && !r.has_events);
	assert_int_equal(wh(false, "{\"events\":[\"interaction\"]}", &r, err), 0);
	assert_int_equal(r.events, HOOK_EV_BIT(HOOK_EV_INTERACTION));
	assert_false(r.active);
	assert_int_equal(
		wh(false, "{\"url\":\"http://h\",\"secret\":\"abcdefghijklmnop\"}", &r, err), 0);
	assert_string_equal(r.url, "http://h");
}

static void webhook_bodies_refused_with_exact_messages(void **state)
{
	static const struct {
		bool create;
		const char *body, *msg;
	} bad[] = {
		{true, "{}", "'url' is required"},
		{true, "{\"url\":\"http://h\"}", "'secret' is required"},
		{true, "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\"}",
		 "'events' is required: a subset of [\"ctr\", \"interaction\", \"presence\"]"},
		{true, "{\"url\":\"\"" WH_OK "}", "'url' must not be empty"},
		{true, "{\"url\":\"ftp://h/x\"" WH_OK "}",
		 "'url' is not an http(s) URL: it must start with http:// or https://"},
		{true, "{\"url\":\"HTTP://h/x\"" WH_OK "}",
		 "'url' is not an http(s) URL: it must start with http:// or https://"},
		{true, "{\"url\":\"http://\"" WH_OK "}",
		 "'url' is not an http(s) URL: it needs a host name or address (A-Z a-z 0-9 . -)"},
		{true, "{\"url\":\"http:///path\"" WH_OK "}",
		 "'url' is not an http(s) URL: it needs a host name or address (A-Z a-z 0-9 . -)"},
		{true, "{\"url\":\"http://:80/\"" WH_OK "}",
		 "'url' is not an http(s) URL: it needs a host name or address (A-Z a-z 0-9 . -)"},
		{true, "{\"url\":\"http://h_x/\"" WH_OK "}",
		 "'url' is not an http(s) URL: it needs a host name or address (A-Z a-z 0-9 . -)"},
		{true, "{\"url\":\"http://h:0/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its port must be a number from 1 to 65535"},
		{true, "{\"url\":\"http://h:65536/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its port must be a number from 1 to 65535"},
		{true, "{\"url\":\"http://h:/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its port must be a number from 1 to 65535"},
		{true, "{\"url\":\"http://h:8x/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its port must be a number from 1 to 65535"},
		{true, "{\"url\":\"http://[::1/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its [IPv6] host is malformed"},
		{true, "{\"url\":\"http://[]/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its [IPv6] host is malformed"},
		{true, "{\"url\":\"http://[::1]x/\"" WH_OK "}",
		 "'url' is not an http(s) URL: its [IPv6] host is malformed"},
		{true, "{\"url\":\"http://user:pw@h/\"" WH_OK "}",
		 "'url' is not an http(s) URL: it must not hold a user name or password "
		 "(user@host): the secret signs each delivery"},
		{true, "{\"url\":\"http://h/a b\"" WH_OK "}",
		 "'url' is not an http(s) URL: it may hold only the characters of RFC 3986 "
		 "(percent-encode the rest)"},
		{true, "{\"url\":\"http://h/\\u00e9\"" WH_OK "}",
		 "'url' is not an http(s) URL: it may hold only the characters of RFC 3986 "
		 "(percent-encode the rest)"},
		{true, "{\"url\":\"http://h/\\\\x\"" WH_OK "}",
		 "'url' is not an http(s) URL: it may hold only the characters of RFC 3986 "
		 "(percent-encode the rest)"},
		{true, "{\"url\":\"http://h/x#frag\"" WH_OK "}",
		 "'url' is not an http(s) URL: it must not have a #fragment"},
		{true, "{\"url\":7" WH_OK "}", "'url' must be a string"},
		{true, "{\"url\":\"http://h\",\"secret\":\"short\",\"events\":[\"ctr\"]}",
		 "'secret' must be at least 16 characters"},
		{true,
		 "{\"url\":\"http://h\",\"secret\":\"with a space in it\",\"events\":[\"ctr\"]}",
		 "'secret' must be printable ASCII without spaces"},
		{true,
		 "{\"url\":\"http://h\",\"secret\":\"caf\\u00e9caf\\u00e9caf\\u00e9caf\\u00e9\","
		 "\"events\":[\"ctr\"]}",
		 "'secret' must be printable ASCII without spaces"},
		{true, "{\"url\":\"http://h\",\"secret\":null,\"events\":[\"ctr\"]}",
		 "'secret' must be a string"},
		{true, "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\",\"events\":[]}",
		 "'events' must name at least one event type (ctr, interaction, presence)"},
		{true,
		 "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\",\"events\":\"presence\"}",
		 "'events' must be an array of event types (ctr, interaction, presence)"},
		{true, "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\",\"events\":[1]}",
		 "event type 1 must be a string"},
		{true,
		 "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\",\"events\":"
		 "[\"presence\",\"Presence\"]}",
		 "unknown event type 'Presence' (one of ctr, interaction, presence)"},
		{true,
		 "{\"url\":\"http://h\",\"secret\":\"0123456789abcdef\",\"events\":"
		 "[\"presence\",\"ctr\",\"presence\"]}",
		 "'events' names 'presence' twice"},
		{true, "{\"url\":\"http://h\"" WH_OK ",\"active\":\"yes\"}",
		 "'active' must be a boolean"},
		{true, "{\"url\":\"http://h\"" WH_OK ",\"id\":3}",
		 "unknown field 'id' (allowed: url, secret, events, active)"},
		{false, "{}", "nothing to update: give 'url', 'secret', 'events' or 'active'"},
		{false, "{\"url\":\"\"}", "'url' must not be empty"},
		{false, "{\"secret\":\"\"}", "'secret' must be at least 16 characters"},
		{false, "", "the body is empty; expected a JSON object"},
		{false, "[]", "the body must be a JSON object"},
	};
	char err[API_ERRSZ];
	struct req_webhook r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = wh(bad[i].create, bad[i].body, &r, err);

		if (rc != -EINVAL || strcmp(err, bad[i].msg))
			fail_msg("%s: rc %d, got '%s', want '%s'", bad[i].body, rc, err,
				 bad[i].msg);
		assert_true(all_zero(&r, sizeof(r)));
	}
}

static void webhook_fields_at_their_limit_pass_and_one_more_fails(void **state)
{
	char err[API_ERRSZ], *b, *url;
	struct req_webhook r;
	size_t n = ST_URL - 1 - strlen("http://h/");

	/* a URL of 1023 bytes passes, 1024 is too long */
	url = malloc(ST_URL + 8);
	snprintf(url, ST_URL + 8, "http://h/%0*d", (int)n, 0);
	b = malloc(ST_URL + 128);
	snprintf(b, ST_URL + 128, "{\"url\":\"%s\"" WH_OK "}", url);
	assert_int_equal(wh(true, b, &r, err), 0);
	assert_int_equal(strlen(r.url), ST_URL - 1);
	snprintf(b, ST_URL + 128, "{\"url\":\"%s0\"" WH_OK "}", url);
	assert_int_equal(wh(true, b, &r, err), -EINVAL);
	assert_string_equal(err, "'url' is longer than 1023 characters");
	free(b);
	free(url);
	/* a secret of 256 passes, 257 fails; 16 passes, 15 fails */
	b = body_with_len("secret", 256, 'k', ",\"url\":\"http://h\",\"events\":[\"ctr\"]");
	assert_int_equal(wh(true, b, &r, err), 0);
	assert_int_equal(strlen(r.secret), 256);
	free(b);
	b = body_with_len("secret", 257, 'k', ",\"url\":\"http://h\",\"events\":[\"ctr\"]");
	assert_int_equal(wh(true, b, &r, err), -EINVAL);
	assert_string_equal(err, "'secret' is longer than 256 characters");
	free(b);
	b = body_with_len("secret", 16, 'k', "");
	assert_int_equal(wh(false, b, &r, err), 0);
	free(b);
	b = body_with_len("secret", 15, 'k', "");
	assert_int_equal(wh(false, b, &r, err), -EINVAL);
	free(b);
	assert_null(req_webhook_url_problem("http://h:65535"));
	assert_null(req_webhook_url_problem("https://a.b-c.d:1/?q=1&r=[x]"));
}

static void webhook_out_of_memory_is_enomem_without_leaks(void **state)
{
	static const char body[] = "{\"url\":\"http://127.0.0.1:9000/hook\",\"secret\":"
				   "\"0123456789abcdef\",\"events\":[\"presence\","
				   "\"interaction\"],\"active\":true}";
	char err[API_ERRSZ];
	struct req_webhook r;
	int rc = -ENOMEM;
	unsigned k, n_enomem = 0;

	for (k = 1; k < 1000 && rc; k++) {
		fail_at = k;
		n_alloc = 0;
		rc = req_decode_webhook(body, strlen(body), true, &r, err, sizeof(err));
		assert_int_equal(live, 0);
		if (rc == -ENOMEM)
			n_enomem++;
		else if (rc && (rc != -EINVAL || !err[0])) /* jansson's lexer: see above */
			fail_msg("allocation %u failed: rc %d '%s'", k, rc, err);
		if (rc)
			assert_true(all_zero(&r, sizeof(r)));
	}
	fail_at = 0;
	assert_int_equal(rc, 0);
	assert_true(n_enomem > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(login_accepts_name_and_password, setup, teardown),
		cmocka_unit_test_setup_teardown(monitor_takes_the_four_modes_only, setup, teardown),
		cmocka_unit_test_setup_teardown(
			transfer_decodes_each_target_and_refuses_with_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(login_accepts_any_key_order_and_whitespace, setup,
						teardown),
		cmocka_unit_test_setup_teardown(presence_accepts_the_three_agent_statuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(presence_keeps_utf8_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_accepts_empty_body_as_no_note, setup,
						teardown),
		cmocka_unit_test_setup_teardown(clear_accepts_note_and_wrap_up_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(queue_decodes_members_codes_and_settings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(queue_refuses_with_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(member_priority_body_is_optional, setup, teardown),
		cmocka_unit_test_setup_teardown(user_create_fills_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(user_create_defaults_active_and_flags_absent_fields,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			user_create_accepts_empty_optional_strings_and_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(user_update_takes_only_what_is_present, setup,
						teardown),
		cmocka_unit_test_setup_teardown(malformed_bodies_get_exact_messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fields_at_their_limit_pass_and_one_more_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(email_at_its_limit_passes_and_one_more_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(user_name_of_63_passes_and_64_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(raw_nul_byte_in_the_body_is_invalid_json, setup,
						teardown),
		cmocka_unit_test_setup_teardown(body_length_is_respected_without_a_terminator,
						setup, teardown),
		cmocka_unit_test_setup_teardown(deep_nesting_is_refused_not_a_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(message_is_truncated_to_esz_and_terminated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			message_is_printable_ascii_even_when_cut_mid_character, setup, teardown),
		cmocka_unit_test_setup_teardown(valid_user_name_follows_the_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(valid_phone_follows_the_rule, setup, teardown),
		cmocka_unit_test(number_and_trunk_bodies_are_checked),
		cmocka_unit_test_setup_teardown(record_bodies_fill_what_is_present, setup,
						teardown),
		cmocka_unit_test_setup_teardown(malformed_record_bodies_get_exact_messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			record_fields_at_their_limit_pass_and_one_more_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(
			record_decoder_out_of_memory_is_enomem_without_leaks, setup, teardown),
		cmocka_unit_test_setup_teardown(out_of_memory_is_enomem_without_leaks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(quick_connect_bodies_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(quick_connect_bodies_refused_with_exact_messages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			quick_connect_name_of_64_characters_passes_and_65_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(quick_connect_out_of_memory_is_enomem_without_leaks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(webhook_bodies_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(webhook_bodies_refused_with_exact_messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			webhook_fields_at_their_limit_pass_and_one_more_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(webhook_out_of_memory_is_enomem_without_leaks,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
