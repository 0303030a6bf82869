/*
 * sip_sofia_fix.c — two bugs of Debian's sofia-sip (1.12.11, a 2011
 * snapshot; neither is fixed upstream as of 2026) fixed from outside the
 * library, by symbol interposition: libsofia-sip-ua.so calls both functions
 * through its PLT, so the definitions in our executable are the ones its own
 * parser and transport use. tests/integration/sip_edge.test.mjs proves both
 * over real sockets; if a future sofia binds them internally, that test fails.
 *
 * DESIGN
 * - msg_next(): when a TCP read holds more than one message, tport parses the
 *   rest in a message made by msg_create(), which has no maximum size (only
 *   the first message of a read gets nta's NTATAG_MAXSIZE). A second message
 *   saying "Content-Length: 2147483648" then made msg_extract_payload()
 *   allocate 2 GiB — an assertion in su_alloc under ASan, a 2 GiB allocation
 *   in release (issue 17). Ours calls the library's msg_next() and gives the
 *   new message its parent's maximum, so every message of a stream is bound
 *   by SIP_MAX_MESSAGE and an oversized one is answered 413 and dropped.
 * - sip_method_d(): sofia scans an unknown method with its "unreserved" table
 *   (alphanumerics and -_.!~*'()), so a method with '+' or '`' — both RFC 3261
 *   token characters — made the request line garbage and the request got no
 *   answer at all (RFC 4475 §3.1.1.2 "intmeth"). Ours is the same function
 *   with the token table; nua then answers 501 with Allow as for any other
 *   method it does not implement.
 * - msg_extract(): sofia keeps header text as C strings, so a NUL byte in the
 *   headers ends them early. Over UDP the header is then refused (400); over
 *   TCP the parser waits for the rest of a line that never comes, and the
 *   request is never answered. RFC 3261 allows NUL only as a quoted-pair
 *   ("\" %x00) inside a quoted string (RFC 4475's "intmeth" has one in its
 *   To display name). Before sofia parses the header part of a message, ours
 *   turns such a quoted NUL into a quoted space (the display name loses the
 *   NUL, nothing else changes); any other NUL makes the message malformed
 *   (flagged before sofia parses it), so the request gets its 400 over TCP
 *   as over UDP.
 *   Bodies are never touched.
 * - All of these run on the SIP thread, inside sofia's receive path; none
 *   keeps state.
 */
#define LOG_MODULE "sip"
#include "sip/sip_nua.h"

#include <dlfcn.h>
#include <sofia-sip/bnf.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/sip_parser.h>
#include <string.h>

typedef msg_t *(msg_next_f)(msg_t *);

msg_t *msg_next(msg_t *msg)
{
	static msg_next_f *real;
	msg_t *next;
	usize_t max;

	if (!real)
		real = (msg_next_f *)dlsym(RTLD_NEXT, "msg_next");
	if (!real)
		return NULL; /* cannot happen while sofia is linked; drop the rest */
	next = real(msg);
	if (next && msg && !msg_maxsize(next, 0)) {
		max = msg_maxsize(msg, 0); /* reads it: a 0 argument leaves it as is */
		msg_maxsize(next, max ? max : SIP_MAX_MESSAGE);
	}
	return next;
}

typedef int(msg_extract_f)(msg_t *);

/* Screens the header part of a message (up to its empty line) for NULs;
 * true when one was not a quoted-pair (the message is then malformed). */
static bool header_nul_screen(char *b, size_t n)
{
	bool bad = false;

	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n' && ((i + 1 < n && b[i + 1] == '\n') ||
				     (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')))
			break; /* the empty line: the body follows */
		if (b[i] != '\0')
			continue;
		if (i > 0 && b[i - 1] == '\\') {
			b[i] = ' ';
		} else {
			b[i] = 0x7f;
			bad = true;
		}
	}
	return bad;
}

int msg_extract(msg_t *msg)
{
	static msg_extract_f *real;

	if (!real)
		real = (msg_extract_f *)dlsym(RTLD_NEXT, "msg_extract");
	if (!real)
		return -1;
	/* A fatal error flagged before parsing: sofia parses what it has, then
	 * fails the message, and nta answers 400 when the Via could be read. */
	if (msg && !msg_get_flags(msg, MSG_FLG_BODY | MSG_FLG_COMPLETE) &&
	    header_nul_screen(msg_buf_committed_data(msg), msg_buf_committed(msg)))
		msg_object(msg)->msg_flags |= MSG_FLG_ERROR;
	return real(msg);
}

/* RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
 * "+" / "`" / "'" / "~"). */
static bool is_token_char(char c)
{
	return c && (IS_ALPHANUM(c) || strchr("-.!%*_+`'~", c));
}

static sip_method_t known_method(const char *s, size_t n)
{
	for (int m = sip_method_invite; m <= sip_method_publish; m++) {
		const char *name = sip_method_names[m];
		if (strlen(name) == n && !memcmp(s, name, n))
			return (sip_method_t)m;
	}
	return sip_method_unknown;
}

/* Same contract as sofia's: parses the method at *ss, NUL-terminates an
 * unknown one when return_name is given, skips the LWS after it and moves
 * *ss past it; returns the code, or sip_method_invalid (nothing moved). */
sip_method_t sip_method_d(char **ss, char const **return_name)
{
	char *s = *ss;
	size_t n = 0;
	sip_method_t code;
	const char *name;

	while (is_token_char(s[n]))
		n++;
	if (s[n] && !IS_LWS(s[n]))
		return sip_method_invalid; /* as sofia: an empty name is "unknown" */
	code = known_method(s, n);
	name = code == sip_method_unknown ? s : sip_method_names[code];
	if (code == sip_method_unknown && s[n] && return_name)
		s[n++] = '\0';
	while (IS_LWS(s[n]))
		n++;
	*ss = s + n;
	if (return_name)
		*return_name = name;
	return code;
}

/* True when sofia's own parser runs our sip_method_d (and so, by the same
 * PLT binding, our msg_next): sip_method_code() is sofia's and calls it. */
bool sip_sofia_fix_active(void)
{
	return sip_method_code("F+O`O") == sip_method_unknown;
}
