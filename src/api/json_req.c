/*
 * json_req.c — decodes REST request bodies (login, presence, clear contact,
 * users, records, queues, numbers, trunks, quick connects, webhooks, call
 * controls) into the fixed-size structs of api_int.h.
 *
 * DESIGN
 * - Parse once at the edge (CONVENTIONS.md, anti-pattern 3). Each decoder
 *   turns untrusted bytes into a typed struct, or returns -EINVAL with one
 *   human sentence in err, which the routes send back with the 400. The only
 *   memory used is jansson's tree, and it is released before every return.
 *   When jansson reports that it ran out of memory, the result is -ENOMEM
 *   ("out of memory"). There is one exception: jansson 2.14's lexer drops a
 *   failed string copy without setting an error code, so that case comes back
 *   as -EINVAL with a syntax message. The unit OOM loop pins this down.
 * - Strict on purpose. Unknown fields are refused, and the message names the
 *   allowed ones. Types are exact: null is not a string. Duplicate keys are
 *   refused (JSON_REJECT_DUPLICATES). Trailing bytes after the object are an
 *   error, because the EOF check stays on. Two other flags exist only to give
 *   better messages. JSON_DECODE_ANY lets a scalar body parse, so "42" gets
 *   "the body must be a JSON object" rather than a lexer message.
 *   JSON_ALLOW_NUL lets "\u0000" reach our own check, so the client reads
 *   "'x' contains a NUL byte" instead of a jansson flag name. Every consumer
 *   treats these fields as C strings, so none may hold a NUL.
 * - A body with nothing but JSON whitespace counts as empty.
 * - Lengths are in bytes, as the store's fixed-size columns are. The
 *   exceptions count characters (UTF-8 code points): the password minimum,
 *   and a quick connect's name (1 to 64, its buffer sized for the longest
 *   in bytes). jansson has already checked the encoding.
 * - Messages are always printable ASCII and always NUL-terminated within
 *   esz. They are formatted with vsnprintf, which truncates, and then every
 *   byte outside 0x20..0x7e becomes '?'. Client strings that are echoed back
 *   (field names, roles) are cut to QUOTE_MAX bytes. The message is therefore
 *   valid UTF-8, which json_string() needs when the routes wrap it.
 * - Tests: tests/unit/test_json_req.c holds exact messages for a corpus of
 *   malformed bodies, plus a leak check and an OOM loop through jansson's
 *   allocator hooks. Fuzzing: tests/fuzz/fuzz_json_req.c.
 */
#define LOG_MODULE "json"
#include "api/api_int.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define QUOTE_MAX	 32 /* bytes of a client string echoed in a message */
#define PASSWORD_MIN	 8  /* characters */
#define PHONE_DIGITS_MIN 3
#define PHONE_DIGITS_MAX 20

#define JR_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* jr_str/jr_strval flags */
enum {
	JR_REQUIRED = 1 << 0, /* absent: "'x' is required" */
	JR_NONEMPTY = 1 << 1, /* "": "'x' must not be empty" */
};

/* One decoding: the parsed body (NULL when empty) and where errors go. */
struct jr {
	json_t *o;
	char *err;
	size_t esz;
};

static const char *const login_fields[] = {"user_name", "password", NULL};
static const char *const presence_fields[] = {"status", "reason", NULL};
static const char *const clear_fields[] = {"note", "wrap_up_code", NULL};
static const char *const note_fields[] = {"text", NULL};
static const char *const number_fields[] = {"queue", "flow", NULL};
static const char *const dial_fields[] = {"record", "phone", NULL};
static const char *const record_fields[] = {"table", "key", NULL};
static const char *const dtmf_fields[] = {"digits", NULL};
static const char *const transfer_fields[] = {"to", "mode", "note", NULL};
static const char *const transfer_to_fields[] = {"agent", "queue", "number", "quick_connect", NULL};
static const char *const flag_fields[] = {"value", NULL};
static const char *const monitor_fields[] = {"mode", NULL};
static const char *const trunk_fields[] = {"address", "username", "password", NULL};
static const char *const quick_connect_fields[] = {"name", "number", NULL};
static const char *const webhook_fields[] = {"url", "secret", "events", "active", NULL};
static const char *const queue_fields[] = {"name",
					   "priority",
					   "service_level_seconds",
					   "max_wait_seconds",
					   "overflow_queue",
					   "hold_music",
					   "strategy",
					   "wrap_up_codes",
					   "members",
					   "service_level_abandons",
					   NULL};
static const char *const member_fields[] = {"priority", NULL};
static const char *const member_obj_fields[] = {"user_name", "priority", NULL};
static const char *const user_create_fields[] = {
	"user_name", "name",	     "email", "mobile_phone", "business_phone",
	"password",  "sip_password", "roles", "active",	      NULL};
/* The same less user_name and roles, which have their own messages on update. */
static const char *const user_update_fields[] = {"name",	   "email",    "mobile_phone",
						 "business_phone", "password", "sip_password",
						 "active",	   NULL};

/* ---- errors ---- */

/* Writes the message (truncated, printable ASCII) and returns rc. */
__attribute__((format(printf, 3, 4))) static int jr_fail_rc(struct jr *j, int rc, const char *fmt,
							    ...)
{
	va_list ap;

	if (!j->err || !j->esz)
		return rc;
	j->err[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(j->err, j->esz, fmt, ap);
	va_end(ap);
	for (char *p = j->err; *p; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	}
	return rc;
}
#define jr_fail(j, ...) jr_fail_rc(j, -EINVAL, __VA_ARGS__)

/* A client string fit to echo: at most QUOTE_MAX bytes, then "...". */
static const char *quote(char buf[QUOTE_MAX + 4], const char *s)
{
	if (strlen(s) <= QUOTE_MAX)
		return s;
	snprintf(buf, QUOTE_MAX + 4, "%.*s...", QUOTE_MAX, s);
	return buf;
}

/* ---- parsing the body ---- */

static bool body_blank(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
			return false;
	}
	return true;
}

/*
 * Parses b into j->o. An empty body is an error unless empty_ok, in which case
 * 0 is returned and j->o stays NULL: the field getters then see every field
 * as absent.
 */
static int jr_open(struct jr *j, const char *b, size_t n, bool empty_ok)
{
	json_error_t e;

	memset(&e, 0, sizeof(e)); /* jansson leaves the code unset on some paths */
	if (!b || body_blank(b, n))
		return empty_ok ? 0 : jr_fail(j, "the body is empty; expected a JSON object");
	j->o = json_loadb(b, n, JR_FLAGS, &e);
	if (!j->o) {
		if (json_error_code(&e) == json_error_out_of_memory || !e.text[0])
			return jr_fail_rc(j, -ENOMEM, "out of memory");
		if (e.line < 1)
			return jr_fail(j, "invalid JSON: %s", e.text);
		return jr_fail(j, "invalid JSON at line %d, column %d: %s", e.line, e.column,
			       e.text);
	}
	if (!json_is_object(j->o))
		return jr_fail(j, "the body must be a JSON object");
	return 0;
}

/* Releases the tree and, on failure, leaves the output all zero. */
static int jr_close(struct jr *j, int rc, void *out, size_t size)
{
	json_decref(j->o);
	j->o = NULL;
	if (rc)
		memset(out, 0, size);
	else if (j->err && j->esz)
		j->err[0] = '\0';
	return rc;
}

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++) {
		if (!strcmp(list[i], s))
			return true;
	}
	return false;
}

static int jr_unknown(struct jr *j, const char *key, const char *const *allowed)
{
	char list[256] = "", q[QUOTE_MAX + 4];

	for (size_t i = 0; allowed[i]; i++) {
		size_t used = strlen(list);

		snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", allowed[i]);
	}
	return jr_fail(j, "unknown field '%s' (allowed: %s)", quote(q, key), list);
}

/* Refuses any key not in allowed (NULL-terminated). */
static int jr_fields(struct jr *j, const char *const *allowed)
{
	for (void *it = json_object_iter(j->o); it; it = json_object_iter_next(j->o, it)) {
		const char *key = json_object_iter_key(it);

		if (!in_list(allowed, key))
			return jr_unknown(j, key, allowed);
	}
	return 0;
}

/* ---- typed fields ---- */

/*
 * Finds string field key: *sp is its value, or NULL when it is absent and
 * optional. Checks presence, type, NUL bytes and JR_NONEMPTY, but not length.
 */
static int jr_strval(struct jr *j, const char *key, unsigned flags, const char **sp)
{
	json_t *v = json_object_get(j->o, key);

	*sp = NULL;
	if (!v)
		return (flags & JR_REQUIRED) ? jr_fail(j, "'%s' is required", key) : 0;
	if (!json_is_string(v))
		return jr_fail(j, "'%s' must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return jr_fail(j, "'%s' contains a NUL byte", key);
	if ((flags & JR_NONEMPTY) && !json_string_length(v))
		return jr_fail(j, "'%s' must not be empty", key);
	*sp = json_string_value(v);
	return 0;
}

/* Copies string field key into dst, which holds at most dsz - 1 bytes. *has
 * (may be NULL) says whether the field was present. */
static int jr_str(struct jr *j, const char *key, unsigned flags, char *dst, size_t dsz, bool *has)
{
	const char *s;
	int rc = jr_strval(j, key, flags, &s);

	if (has)
		*has = s != NULL;
	if (rc || !s)
		return rc;
	if (strlen(s) >= dsz)
		return jr_fail(j, "'%s' is longer than %zu characters", key, dsz - 1);
	str_copy(dst, s, dsz);
	return 0;
}

static int jr_bool(struct jr *j, const char *key, bool *dst, bool *has)
{
	json_t *v = json_object_get(j->o, key);

	*has = v != NULL;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return jr_fail(j, "'%s' must be a boolean", key);
	*dst = json_is_true(v);
	return 0;
}

/* An integer field in [min, max]. */
static int jr_int(struct jr *j, const char *key, int min, int max, int *dst, bool *has)
{
	json_t *v = json_object_get(j->o, key);

	*has = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return jr_fail(j, "'%s' must be a whole number from %d to %d", key, min, max);
	*dst = (int)json_integer_value(v);
	return 0;
}

/* "roles": ["admin", ...] → a ROLE_BIT mask. Repeats are harmless. */
static int jr_roles(struct jr *j, unsigned *mask, bool *has)
{
	json_t *v = json_object_get(j->o, "roles"), *e;
	char q[QUOTE_MAX + 4];
	enum role role;
	size_t i;

	*has = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return jr_fail(j, "'roles' must be an array of role names");
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);

		if (!s)
			return jr_fail(j, "'roles' must be an array of role names");
		if (strlen(s) != json_string_length(e))
			return jr_fail(j, "'roles' contains a NUL byte");
		if (role_parse(s, &role))
			return jr_fail(j, "unknown role '%s'", quote(q, s));
		*mask |= ROLE_BIT(role);
	}
	return 0;
}

/* ---- the browser phone's messages ---- */

int req_decode_rtc(const char *b, size_t n, struct req_rtc *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_str(&j, "type", JR_REQUIRED | JR_NONEMPTY, r->type, sizeof(r->type), NULL);
	if (!rc && (strncmp(r->type, "rtc.", 4) || !r->type[4]))
		rc = jr_fail(&j, "'type' must be rtc.<message>");
	if (!rc)
		rc = jr_str(&j, "ref", 0, r->ref, sizeof(r->ref), &r->has_ref);
	if (!rc)
		rc = jr_str(&j, "leg", JR_NONEMPTY, r->leg, sizeof(r->leg), &r->has_leg);
	if (!rc)
		rc = jr_str(&j, "to", JR_NONEMPTY, r->to, sizeof(r->to), &r->has_to);
	if (!rc)
		rc = jr_str(&j, "digits", JR_NONEMPTY, r->digits, sizeof(r->digits),
			    &r->has_digits);
	if (!rc)
		rc = jr_str(&j, "sdp", JR_NONEMPTY, r->sdp, sizeof(r->sdp), &r->has_sdp);
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- login ---- */

int req_decode_login(const char *b, size_t n, struct req_login *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, login_fields);
	if (!rc)
		rc = jr_str(&j, "user_name", JR_REQUIRED | JR_NONEMPTY, r->user_name,
			    sizeof(r->user_name), NULL);
	if (!rc)
		rc = jr_str(&j, "password", JR_REQUIRED | JR_NONEMPTY, r->password,
			    sizeof(r->password), NULL);
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- presence ---- */

/* An agent may ask only for Available, Away or Offline; the rest follow calls. */
static int presence_status(struct jr *j, enum presence *p)
{
	const char *s;
	int rc = jr_strval(j, "status", JR_REQUIRED, &s);

	if (rc)
		return rc;
	if (presence_parse(s, p))
		return jr_fail(j, "'status' must be one of Available, Away, Offline");
	if (*p != PRES_AVAILABLE && *p != PRES_AWAY && *p != PRES_OFFLINE)
		return jr_fail(j,
			       "status '%s' is set by the system; an agent may ask for "
			       "Available, Away or Offline",
			       presence_name(*p));
	return 0;
}

int req_decode_presence(const char *b, size_t n, struct req_presence *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, presence_fields);
	if (!rc)
		rc = presence_status(&j, &r->status);
	if (!rc)
		rc = jr_str(&j, "reason", 0, r->reason, sizeof(r->reason), NULL);
	/* Away needs a reason to show; other statuses must not carry one. */
	if (!rc && r->status == PRES_AWAY && !r->reason[0])
		rc = jr_fail(&j, "'reason' is required when status is Away");
	if (!rc && r->status != PRES_AWAY && r->reason[0])
		rc = jr_fail(&j, "'reason' is only allowed with status Away");
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- clear contact ---- */

int req_decode_clear(const char *b, size_t n, struct req_clear *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, true); /* no body: no note */
	if (!rc)
		rc = jr_fields(&j, clear_fields);
	if (!rc)
		rc = jr_str(&j, "note", 0, r->note, sizeof(r->note), NULL);
	if (!rc)
		rc = jr_str(&j, "wrap_up_code", 0, r->wrap_up_code, sizeof(r->wrap_up_code), NULL);
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_note(const char *b, size_t n, char text[ST_NOTE + 1], char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	text[0] = '\0';
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, note_fields);
	if (!rc)
		rc = jr_str(&j, "text", JR_REQUIRED | JR_NONEMPTY, text, ST_NOTE + 1, NULL);
	if (!rc && strspn(text, " \t\r\n") == strlen(text))
		rc = jr_fail(&j, "'text' must not be only spaces");
	return jr_close(&j, rc, text, ST_NOTE + 1);
}

/* ---- click-to-call, DTMF, flags ---- */

/* A table name or a record key: 1.. of a-z 0-9 . _ - (keys also A-Z). */
static bool ident_ok(const char *s, bool upper)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || (upper && c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

static int dial_record(struct jr *j, struct req_dial *r)
{
	json_t *v = json_object_get(j->o, "record");
	struct jr sub = {.o = v, .err = j->err, .esz = j->esz};
	int rc;

	if (!v)
		return jr_fail(j, "'record' is required: {\"table\": \"user\", \"key\": \"amy\"}");
	if (!json_is_object(v))
		return jr_fail(j, "'record' must be an object with 'table' and 'key'");
	rc = jr_fields(&sub, record_fields);
	if (!rc)
		rc = jr_str(&sub, "table", JR_REQUIRED | JR_NONEMPTY, r->table, sizeof(r->table),
			    NULL);
	if (!rc)
		rc = jr_str(&sub, "key", JR_REQUIRED | JR_NONEMPTY, r->key, sizeof(r->key), NULL);
	if (!rc && !ident_ok(r->table, false))
		rc = jr_fail(j, "'record.table' must be a table name such as user, contact, "
				"consumer, case or incident");
	if (!rc && !ident_ok(r->key, true))
		rc = jr_fail(j, "'record.key' must be a record number or user name "
				"(A-Z a-z 0-9 . _ -)");
	return rc;
}

int req_decode_dial(const char *b, size_t n, struct req_dial *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, dial_fields);
	if (!rc)
		rc = dial_record(&j, r);
	if (!rc)
		rc = jr_str(&j, "phone", 0, r->phone, sizeof(r->phone), NULL);
	if (!rc && r->phone[0] && strcmp(r->phone, "mobile") && strcmp(r->phone, "business"))
		rc = jr_fail(&j, "'phone' must be mobile or business");
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_dtmf(const char *b, size_t n, struct req_dtmf *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, dtmf_fields);
	if (!rc)
		rc = jr_str(&j, "digits", JR_REQUIRED | JR_NONEMPTY, r->digits, sizeof(r->digits),
			    NULL);
	if (!rc && strspn(r->digits, "0123456789*#ABCD") != strlen(r->digits))
		rc = jr_fail(&j, "'digits' may hold only 0-9, *, # and A-D");
	return jr_close(&j, rc, r, sizeof(*r));
}

static int transfer_to(struct jr *j, struct req_transfer *r)
{
	bool has_qc = false;
	json_t *v = json_object_get(j->o, "to");
	struct jr sub = {.o = v, .err = j->err, .esz = j->esz};
	int rc;

	if (!v)
		return jr_fail(
			j, "'to' is required: {\"agent\": \"beth\"}, {\"queue\": "
			   "\"Billing\"}, {\"number\": \"+15550100\"} or {\"quick_connect\": 1}");
	if (!json_is_object(v) || json_object_size(v) != 1)
		return jr_fail(j,
			       "'to' must be an object with one of 'agent', 'queue', 'number' or "
			       "'quick_connect'");
	rc = jr_fields(&sub, transfer_to_fields);
	if (!rc)
		rc = jr_str(&sub, "agent", JR_NONEMPTY, r->agent, sizeof(r->agent), NULL);
	if (!rc)
		rc = jr_str(&sub, "queue", JR_NONEMPTY, r->queue, sizeof(r->queue), NULL);
	if (!rc)
		rc = jr_str(&sub, "number", JR_NONEMPTY, r->number, sizeof(r->number), NULL);
	if (!rc)
		rc = jr_int(&sub, "quick_connect", 1, INT32_MAX, &r->quick_connect, &has_qc);
	if (!rc && r->agent[0] && !req_valid_user_name(r->agent))
		rc = jr_fail(j, "'to.agent' must be a user name (a-z 0-9 . _ -)");
	if (!rc && r->number[0] && !req_valid_phone(r->number))
		rc = jr_fail(j, "'to.number' must be a phone number");
	return rc;
}

int req_decode_transfer(const char *b, size_t n, struct req_transfer *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, transfer_fields);
	if (!rc)
		rc = transfer_to(&j, r);
	if (!rc)
		rc = jr_str(&j, "mode", 0, r->mode, sizeof(r->mode), NULL);
	if (!rc && !r->mode[0])
		str_copy(r->mode, "warm", sizeof(r->mode));
	if (!rc && strcmp(r->mode, "warm") && strcmp(r->mode, "blind"))
		rc = jr_fail(&j, "'mode' must be warm or blind");
	if (!rc)
		rc = jr_str(&j, "note", 0, r->note, sizeof(r->note), NULL);
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_monitor(const char *b, size_t n, struct req_monitor *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, monitor_fields);
	if (!rc)
		rc = jr_str(&j, "mode", JR_NONEMPTY, r->mode, sizeof(r->mode), NULL);
	if (!rc && !r->mode[0])
		rc = jr_fail(&j, "'mode' is required: listen, whisper, barge or stop");
	if (!rc && strcmp(r->mode, "listen") && strcmp(r->mode, "whisper") &&
	    strcmp(r->mode, "barge") && strcmp(r->mode, "stop"))
		rc = jr_fail(&j, "'mode' must be listen, whisper, barge or stop");
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_none(const char *b, size_t n, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	char dummy;
	int rc = jr_open(&j, b, n, true);

	if (!rc && j.o && json_object_size(j.o))
		rc = jr_fail(&j, "this call control takes no body (or {})");
	return jr_close(&j, rc, &dummy, 0);
}

int req_decode_flag(const char *b, size_t n, struct req_flag *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, flag_fields);
	if (!rc)
		rc = jr_str(&j, "value", JR_REQUIRED, r->value, sizeof(r->value), NULL);
	if (!rc && strcmp(r->value, "true") && strcmp(r->value, "false"))
		rc = jr_fail(&j, "'value' must be the string \"true\" or \"false\"");
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- users ---- */

bool req_valid_user_name(const char *s)
{
	size_t n;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n < ST_NAME;
}

/* Why s is not a phone number, or NULL when it is one (or empty). */
static const char *phone_problem(const char *s)
{
	size_t digits = 0;

	if (!*s)
		return NULL;
	if (strlen(s) >= ST_PHONE)
		return "it is longer than 31 characters";
	if (*s == '+')
		s++;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s == '+')
			return "'+' is only allowed at the start";
		else if (!strchr(" -().", *s))
			return "only digits, spaces and '+', '-', '(', ')', '.' are allowed";
	}
	if (digits < PHONE_DIGITS_MIN || digits > PHONE_DIGITS_MAX)
		return "it must have 3 to 20 digits";
	return NULL;
}

bool req_valid_phone(const char *s)
{
	return s && !phone_problem(s);
}

/* Characters, not bytes: jansson has already checked the UTF-8. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int user_name_field(struct jr *j, struct req_user *r)
{
	const char *s;
	int rc = jr_strval(j, "user_name", JR_REQUIRED, &s);

	if (rc)
		return rc;
	if (!req_valid_user_name(s))
		return jr_fail(j, "'user_name' must be 1 to 63 characters of a-z, 0-9, '.', "
				  "'_' or '-'");
	str_copy(r->rec.user_name, s, sizeof(r->rec.user_name));
	return 0;
}

static int user_password(struct jr *j, struct req_user *r, bool create)
{
	int rc = jr_str(j, "password", create ? JR_REQUIRED : 0, r->password, sizeof(r->password),
			&r->has_password);

	if (rc || !r->has_password)
		return rc;
	if (utf8_len(r->password) < PASSWORD_MIN)
		return jr_fail(j, "'password' must be at least %d characters", PASSWORD_MIN);
	return 0;
}

/* Optional SIP password for the user's phone; "" removes the SIP account. */
static int user_sip_password(struct jr *j, struct req_user *r)
{
	int rc = jr_str(j, "sip_password", 0, r->sip_password, sizeof(r->sip_password),
			&r->has_sip_password);

	if (rc || !r->has_sip_password || !r->sip_password[0])
		return rc;
	if (utf8_len(r->sip_password) < PASSWORD_MIN)
		return jr_fail(j,
			       "'sip_password' must be at least %d characters (or \"\" to "
			       "remove the SIP account)",
			       PASSWORD_MIN);
	return 0;
}

/* Optional; "" means no address. Otherwise one '@' with text on both sides. */
static int user_email(struct jr *j, struct req_user *r)
{
	char *e = r->rec.email, *at;
	int rc = jr_str(j, "email", 0, e, sizeof(r->rec.email), &r->has_email);

	if (rc || !e[0])
		return rc;
	at = strchr(e, '@');
	if (!at || at == e || !at[1] || strchr(at + 1, '@'))
		return jr_fail(j, "'email' is not an email address: expected one '@' with "
				  "text on both sides");
	return 0;
}

static int user_phone(struct jr *j, const char *key, char *dst, size_t dsz, bool *has)
{
	const char *why;
	int rc = jr_str(j, key, 0, dst, dsz, has);

	if (rc)
		return rc;
	why = phone_problem(dst);
	return why ? jr_fail(j, "'%s' is not a phone number: %s", key, why) : 0;
}

/* The fields create and update treat alike. */
static int user_common(struct jr *j, struct req_user *r)
{
	struct st_user *u = &r->rec;
	int rc = user_email(j, r);

	if (!rc)
		rc = user_phone(j, "mobile_phone", u->mobile_phone, sizeof(u->mobile_phone),
				&r->has_mobile);
	if (!rc)
		rc = user_phone(j, "business_phone", u->business_phone, sizeof(u->business_phone),
				&r->has_business);
	if (!rc)
		rc = user_sip_password(j, r);
	if (!rc)
		rc = jr_roles(j, &r->roles, &r->has_roles);
	if (!rc)
		rc = jr_bool(j, "active", &u->active, &r->has_active);
	return rc;
}

static int user_create(struct jr *j, struct req_user *r)
{
	int rc = jr_fields(j, user_create_fields);

	r->rec.active = true; /* unless the body says otherwise */
	if (!rc)
		rc = user_name_field(j, r);
	if (!rc)
		rc = jr_str(j, "name", JR_REQUIRED | JR_NONEMPTY, r->rec.name, sizeof(r->rec.name),
			    &r->has_name);
	if (!rc)
		rc = user_password(j, r, true);
	if (!rc)
		rc = user_common(j, r);
	return rc;
}

static int user_update(struct jr *j, struct req_user *r)
{
	int rc;

	if (!json_object_size(j->o))
		return jr_fail(j, "nothing to update");
	if (json_object_get(j->o, "user_name"))
		return jr_fail(j, "'user_name' cannot be changed");
	/* Roles change one at a time, with their own events and checks. */
	if (json_object_get(j->o, "roles"))
		return jr_fail(j, "'roles' cannot be changed here; use PUT or DELETE "
				  "/api/v1/users/{user_name}/roles/{role}");
	rc = jr_fields(j, user_update_fields);
	if (!rc)
		rc = jr_str(j, "name", JR_NONEMPTY, r->rec.name, sizeof(r->rec.name), &r->has_name);
	if (!rc)
		rc = user_password(j, r, false);
	if (!rc)
		rc = user_common(j, r);
	return rc;
}

int req_decode_user(const char *b, size_t n, bool create, struct req_user *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = create ? user_create(&j, r) : user_update(&j, r);
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- records: contacts, consumers, cases, incidents ---- */
static const char *const contact_fields[] = {"name",	       "email",	  "mobile_phone",
					     "business_phone", "account", NULL};
static const char *const consumer_fields[] = {"name", "email", "mobile_phone", "business_phone",
					      NULL};
static const char *const case_fields[] = {"short_description", "state",	   "contact_user",
					  "contact",	       "consumer", NULL};
static const char *const incident_fields[] = {"short_description", "state", "caller", NULL};
static const char *const case_states[] = {"New",      "In Progress", "On Hold",
					  "Resolved", "Closed",	     NULL};
static const char *const incident_states[] = {"New",	"In Progress", "On Hold", "Resolved",
					      "Closed", "Canceled",    NULL};

const char *const *req_record_states(enum st_table t)
{
	return t == ST_T_CASE ? case_states : t == ST_T_INCIDENT ? incident_states : NULL;
}

/* A string field copied into dst; sets bit in w->set when present. */
static int rec_str(struct jr *j, const char *key, unsigned flags, char *dst, size_t dsz,
		   struct st_record_write *w, unsigned bit)
{
	bool has = false;
	int rc = jr_str(j, key, flags, dst, dsz, &has);

	if (!rc && has)
		w->set |= bit;
	return rc;
}

static int rec_email(struct jr *j, struct st_record_write *w)
{
	char *e = w->email, *at;
	int rc = rec_str(j, "email", 0, e, sizeof(w->email), w, ST_F_EMAIL);

	if (rc || !e[0])
		return rc;
	at = strchr(e, '@');
	if (!at || at == e || !at[1] || strchr(at + 1, '@'))
		return jr_fail(j, "'email' is not an email address: expected one '@' with "
				  "text on both sides");
	return 0;
}

static int rec_phone(struct jr *j, const char *key, char *dst, size_t dsz,
		     struct st_record_write *w, unsigned bit)
{
	bool has = false;
	int rc = user_phone(j, key, dst, dsz, &has);

	if (!rc && has)
		w->set |= bit;
	return rc;
}

/* A contact or a consumer: a person with phones. */
static int rec_person(struct jr *j, bool create, struct st_record_write *w)
{
	int rc = rec_str(j, "name", (create ? JR_REQUIRED : 0) | JR_NONEMPTY, w->name,
			 sizeof(w->name), w, ST_F_NAME);

	if (!rc)
		rc = rec_email(j, w);
	if (!rc)
		rc = rec_phone(j, "mobile_phone", w->mobile_phone, sizeof(w->mobile_phone), w,
			       ST_F_MOBILE);
	if (!rc)
		rc = rec_phone(j, "business_phone", w->business_phone, sizeof(w->business_phone), w,
			       ST_F_BUSINESS);
	if (!rc && w->table == ST_T_CONTACT)
		rc = rec_str(j, "account", 0, w->account, sizeof(w->account), w, ST_F_ACCOUNT);
	return rc;
}

static int rec_state(struct jr *j, bool create, struct st_record_write *w)
{
	const char *const *states = req_record_states(w->table);
	char list[128] = "";
	const char *s;
	int rc = jr_strval(j, "state", 0, &s);

	if (rc)
		return rc;
	if (!s) {
		if (create)
			str_copy(w->state, "New", sizeof(w->state));
		return 0;
	}
	if (in_list(states, s)) {
		str_copy(w->state, s, sizeof(w->state));
		w->set |= ST_F_STATE;
		return 0;
	}
	for (size_t i = 0; states[i]; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", states[i]);
	}
	return jr_fail(j, "'state' must be one of %s", list);
}

/* A case's contact (one of three fields) or an incident's caller; "" = none. */
static int rec_party(struct jr *j, struct st_record_write *w)
{
	static const struct {
		const char *key;
		enum st_table t;
	} parties[] = {{"contact_user", ST_T_USER},
		       {"contact", ST_T_CONTACT},
		       {"consumer", ST_T_CONSUMER},
		       {"caller", ST_T_USER}};
	const char *s;
	int rc;

	for (size_t i = 0; i < 4; i++) {
		if (w->table == ST_T_CASE ? i == 3 : i != 3)
			continue;
		rc = jr_strval(j, parties[i].key, 0, &s);
		if (rc)
			return rc;
		if (!s)
			continue;
		if (w->set & ST_F_PARTY)
			return jr_fail(j, "give one of 'contact_user', 'contact' and 'consumer'");
		if (strlen(s) >= sizeof(w->party_key))
			return jr_fail(j, "'%s' is longer than %zu characters", parties[i].key,
				       sizeof(w->party_key) - 1);
		w->set |= ST_F_PARTY;
		w->party_table = s[0] ? parties[i].t : ST_T_NONE;
		str_copy(w->party_key, s, sizeof(w->party_key));
	}
	return 0;
}

/* A case or an incident: a short description, a state and a party. */
static int rec_ticket(struct jr *j, bool create, struct st_record_write *w)
{
	int rc = rec_str(j, "short_description", (create ? JR_REQUIRED : 0) | JR_NONEMPTY,
			 w->short_description, sizeof(w->short_description), w, ST_F_DESCRIPTION);

	if (!rc)
		rc = rec_state(j, create, w);
	if (!rc)
		rc = rec_party(j, w);
	return rc;
}

static int rec_decode(struct jr *j, enum st_table t, bool create, struct st_record_write *w)
{
	const char *const *fields = t == ST_T_CONTACT	 ? contact_fields
				    : t == ST_T_CONSUMER ? consumer_fields
				    : t == ST_T_CASE	 ? case_fields
							 : incident_fields;
	int rc;

	w->table = t;
	if (json_object_get(j->o, "number"))
		return jr_fail(j, "'number' is assigned by the server and cannot be set");
	if (!create && !json_object_size(j->o))
		return jr_fail(j, "nothing to update");
	rc = jr_fields(j, fields);
	if (!rc)
		rc = t == ST_T_CONTACT || t == ST_T_CONSUMER ? rec_person(j, create, w)
							     : rec_ticket(j, create, w);
	if (!rc && create)
		w->set = ~0u & (ST_F_PARTY * 2 - 1);
	return rc;
}

int req_decode_record(const char *b, size_t n, enum st_table t, bool create,
		      struct st_record_write *w, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(w, 0, sizeof(*w));
	if (t < ST_T_CONTACT || t > ST_T_INCIDENT)
		return jr_fail(&j, "no such table");
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = rec_decode(&j, t, create, w);
	return jr_close(&j, rc, w, sizeof(*w));
}

/* ---- dialled numbers and trunks ---- */
bool req_valid_did(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') || strchr("+*#._-", s[i])))
			return false;
	return true;
}

int req_decode_number(const char *b, size_t n, struct req_number *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, number_fields);
	if (!rc)
		rc = jr_str(&j, "queue", 0, r->queue, sizeof(r->queue), NULL);
	if (!rc)
		rc = jr_str(&j, "flow", 0, r->flow, sizeof(r->flow), NULL);
	if (!rc && !r->queue[0] == !r->flow[0])
		rc = jr_fail(&j,
			     "give 'queue' (the queue this number leads to) or 'flow' (the call "
			     "flow it runs), not both");
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_trunk(const char *b, size_t n, struct req_trunk *r, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	unsigned char ip[16];
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, trunk_fields);
	if (!rc)
		rc = jr_str(&j, "address", 0, r->address, sizeof(r->address), NULL);
	if (!rc)
		rc = jr_str(&j, "username", 0, r->username, sizeof(r->username), NULL);
	if (!rc)
		rc = jr_str(&j, "password", 0, r->password, sizeof(r->password), NULL);
	if (!rc && r->address[0] && inet_pton(AF_INET, r->address, ip) != 1 &&
	    inet_pton(AF_INET6, r->address, ip) != 1)
		rc = jr_fail(&j, "'address' must be an IPv4 or IPv6 address (or \"\" for none)");
	if (!rc && r->username[0] && !req_valid_user_name(r->username))
		rc = jr_fail(&j, "'username' may hold a-z, 0-9, '.', '_' and '-' only");
	if (!rc && r->username[0] && utf8_len(r->password) < PASSWORD_MIN)
		rc = jr_fail(&j,
			     "a trunk with a 'username' needs a 'password' of at least %d "
			     "characters",
			     PASSWORD_MIN);
	if (!rc && !r->username[0] && r->password[0])
		rc = jr_fail(&j, "'password' needs a 'username'");
	if (!rc && !r->address[0] && !r->username[0])
		rc = jr_fail(&j,
			     "a trunk needs an 'address', a 'username' and 'password', or both");
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- quick connects ---- */
/* A control character at s (C0, DEL or C1 in UTF-8): a name is one line. */
static bool control_at(const unsigned char *s)
{
	return *s < 0x20 || *s == 0x7f || (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f);
}

/* "name": 1 to REQ_QC_NAME_CHARS characters on one line, no space at
 * either end. Characters, not bytes: it is what people read in a picker,
 * and the buffer holds the longest in UTF-8. */
static int quick_connect_name(struct jr *j, bool create, struct req_quick_connect *r)
{
	const char *s;
	size_t n;
	int rc = jr_strval(j, "name", (create ? JR_REQUIRED : 0) | JR_NONEMPTY, &s);

	r->has_name = s != NULL;
	if (rc || !s)
		return rc;
	n = strlen(s);
	if (utf8_len(s) > REQ_QC_NAME_CHARS || n >= sizeof(r->name))
		return jr_fail(j, "'name' must be 1 to %d characters", REQ_QC_NAME_CHARS);
	for (size_t i = 0; i < n; i++)
		if (control_at((const unsigned char *)s + i))
			return jr_fail(j, "'name' must be one line, without control characters");
	if (s[0] == ' ' || s[n - 1] == ' ')
		return jr_fail(j, "'name' must not start or end with a space");
	str_copy(r->name, s, sizeof(r->name));
	return 0;
}

int req_decode_quick_connect(const char *b, size_t n, bool create, struct req_quick_connect *r,
			     char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	const char *why;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, quick_connect_fields);
	if (!rc)
		rc = quick_connect_name(&j, create, r);
	if (!rc)
		rc = jr_str(&j, "number", (create ? JR_REQUIRED : 0) | JR_NONEMPTY, r->number,
			    sizeof(r->number), &r->has_number);
	if (!rc && (why = phone_problem(r->number)) != NULL)
		rc = jr_fail(&j, "'number' is not a phone number: %s", why);
	if (!rc && !r->has_name && !r->has_number)
		rc = jr_fail(&j, "nothing to update: give 'name', 'number' or both");
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- webhooks ---- */
/* The characters RFC 3986 allows in a URI, less '#' (no fragment). */
static bool url_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~:/?[]@!$&'()*+,;=%", c));
}

/* The port after ':' (p up to end): 1-65535. */
static bool url_port_ok(const char *p, const char *end)
{
	long port = 0;

	if (p == end || end - p > 5)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

/* host[:port] of an http(s) URL (a[0..n)): a name or IPv4 (A-Z a-z 0-9 .
 * -) or an [IPv6] literal. Why not, or NULL. */
static const char *url_authority(const char *a, size_t n)
{
	const char *end = a + n, *colon;

	if (memchr(a, '@', n))
		return "it must not hold a user name or password (user@host): the secret signs "
		       "each delivery";
	if (n && a[0] == '[') {
		const char *rb = memchr(a, ']', n);
		if (!rb || rb == a + 1 ||
		    strspn(a + 1, "0123456789abcdefABCDEF:.") < (size_t)(rb - a - 1) ||
		    (rb + 1 < end && rb[1] != ':'))
			return "its [IPv6] host is malformed";
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(a, ':', n);
		if (colon == a || !n ||
		    strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") <
			    (size_t)((colon ? colon : end) - a))
			return "it needs a host name or address (A-Z a-z 0-9 . -)";
	}
	if (colon && !url_port_ok(colon + 1, end))
		return "its port must be a number from 1 to 65535";
	return NULL;
}

const char *req_webhook_url_problem(const char *s)
{
	size_t skip, n;

	if (!strncmp(s, "http://", 7))
		skip = 7;
	else if (!strncmp(s, "https://", 8))
		skip = 8;
	else
		return "it must start with http:// or https://";
	for (const char *p = s; *p; p++) {
		if (*p == '#')
			return "it must not have a #fragment";
		if (!url_char(*p))
			return "it may hold only the characters of RFC 3986 (percent-encode the "
			       "rest)";
	}
	n = strcspn(s + skip, "/?");
	return url_authority(s + skip, n);
}

/* "events": ["presence", ...]: 1 to 3 distinct event types, as a mask. */
static int webhook_events(struct jr *j, struct req_webhook *r)
{
	json_t *v = json_object_get(j->o, "events"), *e;
	char q[QUOTE_MAX + 4];
	enum hook_event ev;
	size_t i;

	r->has_events = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return jr_fail(j, "'events' must be an array of event types (ctr, interaction, "
				  "presence)");
	if (!json_array_size(v))
		return jr_fail(j, "'events' must name at least one event type (ctr, "
				  "interaction, presence)");
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);

		if (!s || strlen(s) != json_string_length(e))
			return jr_fail(j, "event type %zu must be a string", i + 1);
		if (hook_event_parse(s, &ev))
			return jr_fail(
				j, "unknown event type '%s' (one of ctr, interaction, presence)",
				quote(q, s));
		if (r->events & HOOK_EV_BIT(ev))
			return jr_fail(j, "'events' names '%s' twice", s);
		r->events |= HOOK_EV_BIT(ev);
	}
	return 0;
}

/* "secret": REQ_SECRET_MIN to 256 printable ASCII characters, no spaces. */
static int webhook_secret(struct jr *j, bool create, struct req_webhook *r)
{
	int rc = jr_str(j, "secret", create ? JR_REQUIRED : 0, r->secret, sizeof(r->secret),
			&r->has_secret);
	size_t n = strlen(r->secret);

	if (rc || !r->has_secret)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (r->secret[i] <= ' ' || r->secret[i] > '~')
			return jr_fail(j, "'secret' must be printable ASCII without spaces");
	if (n < REQ_SECRET_MIN)
		return jr_fail(j, "'secret' must be at least %d characters", REQ_SECRET_MIN);
	return 0;
}

int req_decode_webhook(const char *b, size_t n, bool create, struct req_webhook *r, char *err,
		       size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	const char *why;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = jr_fields(&j, webhook_fields);
	if (!rc)
		rc = jr_str(&j, "url", (create ? JR_REQUIRED : 0) | JR_NONEMPTY, r->url,
			    sizeof(r->url), &r->has_url);
	if (!rc && r->has_url && (why = req_webhook_url_problem(r->url)) != NULL)
		rc = jr_fail(&j, "'url' is not an http(s) URL: %s", why);
	if (!rc)
		rc = webhook_secret(&j, create, r);
	if (!rc)
		rc = webhook_events(&j, r);
	if (!rc && create && !r->has_events)
		rc = jr_fail(&j, "'events' is required: a subset of [\"ctr\", \"interaction\", "
				 "\"presence\"]");
	if (!rc)
		rc = jr_bool(&j, "active", &r->active, &r->has_active);
	if (!rc && create && !r->has_active)
		r->active = true;
	if (!rc && !create && !r->has_url && !r->has_secret && !r->has_events && !r->has_active)
		rc = jr_fail(&j, "nothing to update: give 'url', 'secret', 'events' or 'active'");
	return jr_close(&j, rc, r, sizeof(*r));
}

/* ---- transcripts ---- */
static const char *const tpolicy_fields[] = {"percent", NULL};

int req_decode_transcript_policy(const char *b, size_t n, int *percent, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	bool has = false;
	int rc = jr_open(&j, b, n, false);

	*percent = 0;
	if (!rc)
		rc = jr_fields(&j, tpolicy_fields);
	if (!rc)
		rc = jr_int(&j, "percent", 0, 100, percent, &has);
	if (!rc && !has)
		rc = jr_fail(&j, "'percent' is required: the share of the queue's recorded calls "
				 "to transcribe, 0 to 100");
	return jr_close(&j, rc, percent, sizeof(*percent));
}

/* ---- queues ---- */
/* 1-40 of A-Z a-z 0-9, space, '_', '.', '-'; no space at either end. */
bool req_valid_queue_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 40 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == ' ' || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* "wrap_up_codes": ["Resolved", ...] → one per line; no repeats (any case). */
static int queue_codes(struct jr *j, struct req_queue *r)
{
	json_t *v = json_object_get(j->o, "wrap_up_codes"), *e;
	size_t i, used = 0;

	r->has_codes = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return jr_fail(j, "'wrap_up_codes' must be an array of strings");
	if (json_array_size(v) > REQ_WRAPUP_CODES)
		return jr_fail(j, "'wrap_up_codes' holds at most %d codes", REQ_WRAPUP_CODES);
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);
		size_t n = s ? strlen(s) : 0;
		if (!s || n != json_string_length(e) || !n || n > 40 || strchr(s, '\n') ||
		    strchr(s, '\r'))
			return jr_fail(j,
				       "wrap-up code %zu must be a string of 1 to 40 characters "
				       "on one line",
				       i + 1);
		for (size_t k = 0; k < i; k++)
			if (!strcasecmp(json_string_value(json_array_get(v, k)), s))
				return jr_fail(j, "wrap-up code %zu repeats code %zu", i + 1,
					       k + 1);
		used += (size_t)snprintf(r->wrap_up_codes + used, sizeof(r->wrap_up_codes) - used,
					 "%s%s", i ? "\n" : "", s);
	}
	return 0;
}

/* One member: "ned" or {"user_name": "ned", "priority": 2}. */
static int queue_member(struct jr *j, json_t *e, size_t i, struct req_queue *r)
{
	json_t *o = j->o;
	const char *s = json_string_value(e);
	bool has;
	int rc = 0;

	r->member_prio[i] = 1;
	if (json_is_object(e)) {
		j->o = e;
		rc = jr_fields(j, member_obj_fields);
		if (!rc)
			rc = jr_strval(j, "user_name", JR_REQUIRED | JR_NONEMPTY, &s);
		if (!rc)
			rc = jr_int(j, "priority", 1, 9, &r->member_prio[i], &has);
		j->o = o;
		if (rc)
			return rc;
	}
	if (!s || strlen(s) >= ST_NAME || !req_valid_user_name(s))
		return jr_fail(j,
			       "member %zu must be a user_name, or {\"user_name\", \"priority\" "
			       "1-9}",
			       i + 1);
	for (size_t k = 0; k < i; k++)
		if (!strcmp(r->members[k], s))
			return jr_fail(j, "member %zu repeats member %zu", i + 1, k + 1);
	str_copy(r->members[i], s, sizeof(r->members[i]));
	return 0;
}

static int queue_members(struct jr *j, struct req_queue *r)
{
	json_t *v = json_object_get(j->o, "members"), *e;
	size_t i;
	int rc = 0;

	r->has_members = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return jr_fail(j, "'members' must be an array of user_names or "
				  "{\"user_name\", \"priority\"} objects");
	if (json_array_size(v) > REQ_QUEUE_MEMBERS)
		return jr_fail(j, "'members' holds at most %d agents", REQ_QUEUE_MEMBERS);
	json_array_foreach(v, i, e)
	{
		rc = queue_member(j, e, i, r);
		if (rc)
			return rc;
		r->n_members = i + 1;
	}
	return 0;
}

static int queue_fields_decode(struct jr *j, bool create, struct req_queue *r)
{
	int rc = jr_fields(j, queue_fields);

	if (!rc)
		rc = jr_str(j, "name", create ? JR_REQUIRED | JR_NONEMPTY : JR_NONEMPTY, r->name,
			    sizeof(r->name), &r->has_name);
	if (!rc && r->has_name && !req_valid_queue_name(r->name))
		rc = jr_fail(j, "'name' must be 1-40 of A-Z, a-z, 0-9, space, '_', '.', '-' "
				"(no space at either end)");
	if (!rc)
		rc = jr_int(j, "priority", -100, 100, &r->priority, &r->has_priority);
	if (!rc)
		rc = jr_int(j, "service_level_seconds", 1, 3600, &r->sl_s, &r->has_sl);
	if (!rc)
		rc = jr_int(j, "max_wait_seconds", 0, 86400, &r->max_wait_s, &r->has_max_wait);
	if (!rc)
		rc = jr_str(j, "overflow_queue", 0, r->overflow_queue, sizeof(r->overflow_queue),
			    &r->has_overflow);
	if (!rc)
		rc = jr_str(j, "hold_music", 0, r->hold_music, sizeof(r->hold_music),
			    &r->has_hold_music);
	if (!rc)
		rc = jr_str(j, "strategy", JR_NONEMPTY, r->strategy, sizeof(r->strategy),
			    &r->has_strategy);
	if (!rc && r->has_strategy && strcmp(r->strategy, "longest_idle"))
		rc = jr_fail(j, "'strategy' must be \"longest_idle\" (the only one so far: the "
				"member of the lowest priority number who has waited longest)");
	if (!rc)
		rc = jr_str(j, "service_level_abandons", JR_NONEMPTY, r->sl_abandons,
			    sizeof(r->sl_abandons), &r->has_sl_abandons);
	if (!rc && r->has_sl_abandons && strcmp(r->sl_abandons, "met") &&
	    strcmp(r->sl_abandons, "excluded") && strcmp(r->sl_abandons, "missed"))
		rc = jr_fail(j, "'service_level_abandons' must be \"met\", \"excluded\" or "
				"\"missed\": how callers who hang up within the threshold count in "
				"the service level");
	if (!rc)
		rc = queue_codes(j, r);
	if (!rc)
		rc = queue_members(j, r);
	return rc;
}

int req_decode_queue(const char *b, size_t n, bool create, struct req_queue *r, char *err,
		     size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	int rc;

	memset(r, 0, sizeof(*r));
	rc = jr_open(&j, b, n, false);
	if (!rc)
		rc = queue_fields_decode(&j, create, r);
	return jr_close(&j, rc, r, sizeof(*r));
}

int req_decode_member(const char *b, size_t n, int *priority, char *err, size_t esz)
{
	struct jr j = {.err = err, .esz = esz};
	bool has;
	int rc;

	*priority = 1;
	rc = jr_open(&j, b, n, true);
	if (!rc && j.o)
		rc = jr_fields(&j, member_fields);
	if (!rc && j.o)
		rc = jr_int(&j, "priority", 1, 9, priority, &has);
	return jr_close(&j, rc, priority, 0);
}
