/*
 * fuzz_json_req.c — libFuzzer target for the request-body decoders
 * (api/json_req.c). Each input is fed to every decoder, user create and
 * update both, under ASan and UBSan.
 *
 * Besides "no crash, no leak", it checks what the routes rely on:
 * - the result is 0, -EINVAL or -ENOMEM;
 * - the message is printable ASCII, NUL-terminated and within esz, with
 *   a tiny esz as well as the normal one; it is "" on success and never
 *   "" on failure;
 * - a failure leaves the output all zero;
 * - a success honours the rules: the decoded strings are terminated within
 *   their buffers, only Available/Away/Offline come through (with a reason
 *   exactly when Away), user names and phones pass their validators, and
 *   the role mask has only known bits; a record body (contact, consumer,
 *   case, incident, create and update) keeps to its table's fields, states
 *   and phone rule, names at most one party, and never carries a number;
 *   a quick connect's name is 1 to 64 characters on one line with no
 *   space at either end, and its number passes req_valid_phone; a
 *   webhook's URL passes req_webhook_url_problem, its secret is 16 to 256
 *   printable ASCII characters, its events a non-empty known mask, create
 *   has url, secret and events, update at least one field; a browser
 *   phone's rtc.* message has a type rtc.<word>, and each optional field
 *   is present exactly when it is non-empty.
 * Seeds: tests/fuzz/corpus/json_req/.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c) ((c) ? (void)0 : abort())

static bool zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		if (c[i])
			return false;
	}
	return true;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#define TERMINATED(field) CHECK(terminated(field, sizeof(field)))

/* The message: printable ASCII, within esz, "" exactly on success. */
static void check_err(int rc, const char *err, size_t esz)
{
	size_t n;

	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	CHECK(terminated(err, esz));
	n = strlen(err);
	CHECK(n < esz);
	for (size_t i = 0; i < n; i++)
		CHECK(err[i] >= 0x20 && err[i] <= 0x7e);
	CHECK(rc ? (n > 0 || esz == 1) : n == 0);
}

static void check_rtc(const char *b, size_t n, char *err, size_t esz)
{
	struct req_rtc *r = malloc(sizeof(*r));
	int rc;

	if (!r)
		return;
	rc = req_decode_rtc(b, n, r, err, esz);
	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(r, sizeof(*r)));
	} else {
		TERMINATED(r->type);
		TERMINATED(r->ref);
		TERMINATED(r->leg);
		TERMINATED(r->to);
		TERMINATED(r->digits);
		TERMINATED(r->sdp);
		CHECK(!strncmp(r->type, "rtc.", 4) && r->type[4]);
		CHECK(r->has_leg == !!r->leg[0] && r->has_to == !!r->to[0]);
		CHECK(r->has_digits == !!r->digits[0] && r->has_sdp == !!r->sdp[0]);
	}
	free(r);
}

static void check_login(const char *b, size_t n, char *err, size_t esz)
{
	struct req_login r;
	int rc = req_decode_login(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.user_name);
	TERMINATED(r.password);
	CHECK(r.user_name[0] && r.password[0]);
}

static void check_presence(const char *b, size_t n, char *err, size_t esz)
{
	struct req_presence r;
	int rc = req_decode_presence(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.reason);
	CHECK(r.status == PRES_AVAILABLE || r.status == PRES_AWAY || r.status == PRES_OFFLINE);
	CHECK((r.status == PRES_AWAY) == (r.reason[0] != '\0'));
}

static void check_clear(const char *b, size_t n, char *err, size_t esz)
{
	struct req_clear r;
	int rc = req_decode_clear(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.note);
	TERMINATED(r.wrap_up_code);
}

static bool ident(const char *s, const char *extra)
{
	return s[0] && strspn(s, extra) == strlen(s);
}

static void check_dial(const char *b, size_t n, char *err, size_t esz)
{
	struct req_dial r;
	int rc = req_decode_dial(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.table);
	TERMINATED(r.key);
	TERMINATED(r.phone);
	CHECK(ident(r.table, "abcdefghijklmnopqrstuvwxyz0123456789._-"));
	CHECK(ident(r.key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"));
	CHECK(!r.phone[0] || !strcmp(r.phone, "mobile") || !strcmp(r.phone, "business"));
}

static void check_dtmf_flag(const char *b, size_t n, char *err, size_t esz)
{
	struct req_dtmf d;
	struct req_flag f;
	int rc = req_decode_dtmf(b, n, &d, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&d, sizeof(d)));
	} else {
		TERMINATED(d.digits);
		CHECK(d.digits[0] && strspn(d.digits, "0123456789*#ABCD") == strlen(d.digits));
	}
	check_err(req_decode_none(b, n, err, esz), err, esz);
	rc = req_decode_flag(b, n, &f, err, esz);
	check_err(rc, err, esz);
	if (rc)
		CHECK(zero(&f, sizeof(f)));
	else
		CHECK(!strcmp(f.value, "true") || !strcmp(f.value, "false"));
}

/* A transfer: exactly one target (an agent's user name, a queue, a
 * phone number), mode warm or blind, terminated strings. */
static void check_transfer(const char *b, size_t n, char *err, size_t esz)
{
	struct req_transfer t;
	int rc = req_decode_transfer(b, n, &t, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&t, sizeof(t)));
		return;
	}
	TERMINATED(t.agent);
	TERMINATED(t.queue);
	TERMINATED(t.number);
	TERMINATED(t.mode);
	TERMINATED(t.note);
	CHECK((t.agent[0] != '\0') + (t.queue[0] != '\0') + (t.number[0] != '\0') +
		      (t.quick_connect != 0) ==
	      1);
	CHECK(t.quick_connect >= 0);
	CHECK(!t.agent[0] || req_valid_user_name(t.agent));
	CHECK(!t.number[0] || req_valid_phone(t.number));
	CHECK(!strcmp(t.mode, "warm") || !strcmp(t.mode, "blind"));
}

/* A monitoring body: one of the four modes. */
static void check_monitor(const char *b, size_t n, char *err, size_t esz)
{
	struct req_monitor m;
	int rc = req_decode_monitor(b, n, &m, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&m, sizeof(m)));
		return;
	}
	TERMINATED(m.mode);
	CHECK(!strcmp(m.mode, "listen") || !strcmp(m.mode, "whisper") || !strcmp(m.mode, "barge") ||
	      !strcmp(m.mode, "stop"));
}

/* "" or one '@' with text on both sides */
static bool email_ok(const char *e)
{
	const char *at = strchr(e, '@');

	if (!e[0])
		return true;
	return at && at != e && at[1] && !strchr(at + 1, '@');
}

static void check_user(const char *b, size_t n, bool create, char *err, size_t esz)
{
	struct req_user r;
	int rc = req_decode_user(b, n, create, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.rec.user_name);
	TERMINATED(r.rec.name);
	TERMINATED(r.rec.email);
	TERMINATED(r.password);
	CHECK(create ? req_valid_user_name(r.rec.user_name) : !r.rec.user_name[0]);
	CHECK(!create || (r.has_name && r.has_password && r.rec.name[0]));
	CHECK(!r.has_password || strlen(r.password) >= 8);
	CHECK(req_valid_phone(r.rec.mobile_phone) && req_valid_phone(r.rec.business_phone));
	CHECK(email_ok(r.rec.email));
	CHECK((r.roles & ~((1u << ROLE__N) - 1)) == 0);
	CHECK(r.has_roles || !r.roles);
	CHECK(create || r.has_name || r.has_email || r.has_mobile || r.has_business ||
	      r.has_password || r.has_roles || r.has_active || r.has_sip_password);
	CHECK(r.has_active || r.rec.active == create);
	CHECK(r.rec.id == 0 && r.rec.created_at == 0 && !r.rec.password_hash[0]);
}

static void check_number(const char *b, size_t n, char *err, size_t esz)
{
	struct req_number r;
	int rc = req_decode_number(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.queue);
	TERMINATED(r.flow);
	CHECK(!r.queue[0] != !r.flow[0]);
}

static void check_trunk(const char *b, size_t n, char *err, size_t esz)
{
	struct req_trunk r;
	int rc = req_decode_trunk(b, n, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.address);
	TERMINATED(r.username);
	TERMINATED(r.password);
	CHECK(r.address[0] || r.username[0]);
	CHECK(!r.username[0] || (req_valid_user_name(r.username) && strlen(r.password) >= 8));
	CHECK(r.username[0] || !r.password[0]);
}

/* A quick connect (create and update): the name's rule, counted in
 * characters; the number a phone number; create has both, update one. */
static void check_quick_connect(const char *b, size_t n, bool create, char *err, size_t esz)
{
	struct req_quick_connect r;
	int rc = req_decode_quick_connect(b, n, create, &r, err, esz);
	size_t len, chars = 0;

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.name);
	TERMINATED(r.number);
	CHECK(create ? r.has_name && r.has_number : r.has_name || r.has_number);
	CHECK(r.has_name == (r.name[0] != '\0') && r.has_number == (r.number[0] != '\0'));
	CHECK(req_valid_phone(r.number));
	len = strlen(r.name);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)r.name[i];
		CHECK(c >= 0x20 && c != 0x7f);
		CHECK(!(c == 0xc2 && (unsigned char)r.name[i + 1] >= 0x80 &&
			(unsigned char)r.name[i + 1] <= 0x9f));
		chars += (c & 0xc0) != 0x80;
	}
	CHECK(chars <= REQ_QC_NAME_CHARS);
	CHECK(!len || (r.name[0] != ' ' && r.name[len - 1] != ' '));
}

/* A webhook (create and update): the URL rule, the secret rule, the mask. */
static void check_webhook(const char *b, size_t n, bool create, char *err, size_t esz)
{
	static struct req_webhook r; /* 1.3 KiB */
	int rc = req_decode_webhook(b, n, create, &r, err, esz);
	size_t len;

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.url);
	TERMINATED(r.secret);
	CHECK(create ? r.has_url && r.has_secret && r.has_events
		     : r.has_url || r.has_secret || r.has_events || r.has_active);
	CHECK(r.has_url == (r.url[0] != '\0') && r.has_secret == (r.secret[0] != '\0'));
	CHECK(!r.has_url || req_webhook_url_problem(r.url) == NULL);
	CHECK(!r.has_url || !strncmp(r.url, "http://", 7) || !strncmp(r.url, "https://", 8));
	CHECK(!strchr(r.url, '#') && !strchr(r.url, ' '));
	len = strlen(r.secret);
	CHECK(!r.has_secret || (len >= REQ_SECRET_MIN && len < ST_SECRET));
	for (size_t i = 0; i < len; i++)
		CHECK(r.secret[i] > ' ' && r.secret[i] <= '~');
	CHECK((r.events & ~HOOK_EV_ALL) == 0);
	CHECK(r.has_events == (r.events != 0));
	CHECK(r.has_active || r.active == create);
}

static bool state_ok(enum st_table t, const char *s)
{
	const char *const *states = req_record_states(t);

	for (size_t i = 0; states && states[i]; i++)
		if (!strcmp(states[i], s))
			return true;
	return false;
}

/* A queue body: terminated strings, members resolved in order, ranges. */
static void check_queue(const char *b, size_t n, bool create, char *err, size_t esz)
{
	static struct req_queue r; /* 17 KiB: off the stack */
	int rc = req_decode_queue(b, n, create, &r, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&r, sizeof(r)));
		return;
	}
	TERMINATED(r.name);
	TERMINATED(r.overflow_queue);
	TERMINATED(r.hold_music);
	TERMINATED(r.wrap_up_codes);
	CHECK(!create || r.has_name);
	CHECK(!r.has_name || req_valid_queue_name(r.name));
	CHECK(!r.has_strategy || !strcmp(r.strategy, "longest_idle"));
	CHECK(r.n_members <= REQ_QUEUE_MEMBERS);
	for (size_t k = 0; k < r.n_members; k++) {
		TERMINATED(r.members[k]);
		CHECK(req_valid_user_name(r.members[k]));
		CHECK(r.member_prio[k] >= 1 && r.member_prio[k] <= 9);
	}
	CHECK(r.max_wait_s >= 0 && r.max_wait_s <= 86400);
}

static void check_record(const char *b, size_t n, enum st_table t, bool create, char *err,
			 size_t esz)
{
	struct st_record_write w;
	int rc = req_decode_record(b, n, t, create, &w, err, esz);
	bool person = t == ST_T_CONTACT || t == ST_T_CONSUMER;

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(&w, sizeof(w)));
		return;
	}
	CHECK(w.table == t && !w.number[0] && !w.out_number && !w.at);
	TERMINATED(w.name);
	TERMINATED(w.email);
	TERMINATED(w.account);
	TERMINATED(w.short_description);
	TERMINATED(w.party_key);
	CHECK(create || w.set);
	CHECK(req_valid_phone(w.mobile_phone) && req_valid_phone(w.business_phone));
	CHECK(email_ok(w.email));
	if (person) {
		CHECK(!create || w.name[0]);
		CHECK(!w.short_description[0] && !w.state[0] && w.party_table == ST_T_NONE);
		CHECK(t == ST_T_CONTACT || !w.account[0]);
		return;
	}
	CHECK(!w.name[0] && !w.email[0] && !w.mobile_phone[0] && !w.business_phone[0]);
	CHECK(!create || (w.short_description[0] && state_ok(t, w.state)));
	CHECK(!(w.set & ST_F_STATE) || state_ok(t, w.state));
	CHECK(t == ST_T_CASE ? w.party_table <= ST_T_CONSUMER
			     : (w.party_table == ST_T_NONE || w.party_table == ST_T_USER));
	CHECK((w.party_table == ST_T_NONE) == !w.party_key[0]);
}

/* A note (issue 10): decoded, or refused with the buffer zeroed; never
 * empty or only spaces, always terminated. */
static void check_note(const char *b, size_t n, char *err, size_t esz)
{
	char text[ST_NOTE + 1];
	int rc = req_decode_note(b, n, text, err, esz);

	check_err(rc, err, esz);
	if (rc) {
		CHECK(zero(text, sizeof(text)));
		return;
	}
	TERMINATED(text);
	CHECK(text[0] && strspn(text, " \t\r\n") < strlen(text));
}

static void run_all(const char *b, size_t n, char *err, size_t esz)
{
	for (int t = ST_T_CONTACT; t <= ST_T_INCIDENT; t++) {
		check_record(b, n, (enum st_table)t, true, err, esz);
		check_record(b, n, (enum st_table)t, false, err, esz);
	}
	check_number(b, n, err, esz);
	check_trunk(b, n, err, esz);
	check_quick_connect(b, n, true, err, esz);
	check_quick_connect(b, n, false, err, esz);
	check_webhook(b, n, true, err, esz);
	check_webhook(b, n, false, err, esz);
	check_queue(b, n, true, err, esz);
	check_queue(b, n, false, err, esz);
	check_login(b, n, err, esz);
	check_rtc(b, n, err, esz);
	check_presence(b, n, err, esz);
	check_clear(b, n, err, esz);
	check_note(b, n, err, esz);
	check_dial(b, n, err, esz);
	check_dtmf_flag(b, n, err, esz);
	check_transfer(b, n, err, esz);
	check_monitor(b, n, err, esz);
	check_user(b, n, true, err, esz);
	check_user(b, n, false, err, esz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[API_ERRSZ], tiny[5];
	/* An exact-size copy, so ASan catches any read past n. */
	char *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	run_all(b, size, err, sizeof(err));
	run_all(b, size, tiny, sizeof(tiny));
	free(b);
	return 0;
}
