/*
 * edge.c — what the HTTP edge refuses before a request reaches a route:
 * framing in doubt (request smuggling), paths that do not survive decoding,
 * upgrades we do not speak, and libwebsockets' own error pages.
 *
 * DESIGN
 * - Framing (RFC 9112 §6): libwebsockets 4.1 reads a request body only by
 *   Content-Length, parses the value with atoll, ignores Transfer-Encoding
 *   and reads no body for GET. So a body it did not expect was parsed as the
 *   next request on the connection (a smuggled GET for a static file was
 *   served). We refuse, with 400 and a closed connection, every request
 *   whose framing we would read differently from a proxy in front of us:
 *   any Transfer-Encoding (with or without Content-Length: we take bodies
 *   only with a length), a Content-Length that is not 1*DIGIT (or several
 *   that disagree), and a body on a method that has none here (GET, HEAD,
 *   DELETE, OPTIONS). A connection whose framing is in doubt is never
 *   reused: the bytes after the headers are never read as a request.
 * - Paths: lws percent-decodes the URI in place. A decoded NUL ("%00") cut
 *   the path at the NUL (/api/v1/users/%00 listed every user); control bytes
 *   and bytes that are not UTF-8 made replies that jansson cannot encode (an
 *   empty 404). Such paths are 400 invalid_path, closed. lws does not count
 *   a decoded NUL at the very end of the path ("/users/%00" reads as
 *   "/users/"), so an API path that ends in '/' is no route (404).
 * - Upgrade: only "websocket" (on /api/v1/events, ws.c). lws would switch an
 *   "Upgrade: h2c" request to HTTP/2 with a 101: refused 400, closed.
 * - lws answers what it cannot parse itself (a 40-character method, a bad
 *   request line) with lws_return_http_status() and an HTML page. It calls
 *   that function through its PLT, so the definition below, in our
 *   executable, is the one used: the same status (403 "forbidden" for a
 *   request lws could not parse becomes 400, which is what it is), with a
 *   JSON body {"error","message"} like every other reply, then lws closes.
 *   tests/integration/http_edge.test.mjs checks each case over a socket.
 */
#define LOG_MODULE "http"
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1–4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80		    ? 1
		     : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		     : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		     : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						    : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

bool api_text_is_utf8(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq((const unsigned char *)s + i, n - i)))
			return false;
	return true;
}

void api_text_utf8_fix(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq((unsigned char *)s + i, n - i))) {
			s[i] = '?';
			k = 1;
		}
}

/* After a refusal the connection closes once the reply is written. */
static bool refused(struct api_req *q)
{
	q->close_after = true;
	return true;
}

static bool digits_only(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool framing_refused(struct api_req *q, struct lws *wsi)
{
	char cl[32];
	int n_cl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	bool bodied = q->method == M_POST || q->method == M_PUT || q->method == M_PATCH;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		api_reply_error(
			q, 400, "bad_framing", "%s",
			n_cl > 0 ? "a request with both Content-Length and Transfer-Encoding "
				   "is refused (RFC 9112 section 6.3)"
				 : "Transfer-Encoding is not accepted: send the body with a "
				   "Content-Length");
		return refused(q);
	}
	if (n_cl <= 0)
		return false; /* none, or an empty value (lws keeps none): no body */
	if (n_cl >= (int)sizeof(cl) ||
	    lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) != n_cl ||
	    !digits_only(cl)) {
		api_reply_error(q, 400, "bad_framing",
				"Content-Length must be one decimal number of bytes");
		return refused(q);
	}
	if (!bodied && strspn(cl, "0") != strlen(cl)) {
		api_reply_error(q, 400, "bad_framing", "this method takes no request body");
		return refused(q);
	}
	return false;
}

static bool path_refused(struct api_req *q, const char *uri, int ulen)
{
	if (ulen <= 0)
		return false;
	const char *why = NULL;

	if (memchr(uri, '\0', (size_t)ulen))
		why = "the path contains a NUL byte (%00)";
	for (int i = 0; i < ulen && !why; i++)
		if ((unsigned char)uri[i] < 0x20 || uri[i] == 0x7f)
			why = "the path contains a control character";
	if (!why && !api_text_is_utf8(uri, (size_t)ulen))
		why = "the path is not valid UTF-8";
	if (why) {
		api_reply_error(q, 400, "invalid_path", "%s", why);
		return refused(q);
	}
	/* lws keeps no count of a decoded NUL at the end ("/users/%00" reads as
	 * "/users/"): no API path ends in '/', so neither is a route. */
	if (ulen > 1 && uri[ulen - 1] == '/' && api_path_is_api(q->path)) {
		api_reply_error(q, 404, "not_found", "no route %s (API paths do not end in '/')",
				q->path);
		return true;
	}
	return false;
}

bool api_edge_refused(struct api_req *q, struct lws *wsi, const char *uri, int ulen)
{
	return framing_refused(q, wsi) || path_refused(q, uri, ulen);
}

/* Content-Length by name, so lws does no body accounting (the body goes in
 * the same write as the headers, as in lws's own function). */
static int clen_header(struct lws *wsi, int n, unsigned char **p, unsigned char *end)
{
	char v[16];
	int len = snprintf(v, sizeof(v), "%d", n);

	return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
					    (const unsigned char *)v, len, p, end);
}

/* A JSON error written straight to the connection, for the replies that have
 * no api_req (lws's own refusals, upgrades); 0 when it was all written. */
static int edge_raw_error(struct lws *wsi, int status, const char *code, const char *msg)
{
	char buf[LWS_PRE + 768], body[256];
	unsigned char *start = (unsigned char *)buf + LWS_PRE, *p = start;
	unsigned char *end = (unsigned char *)buf + sizeof(buf) - 1;
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}", code, msg);

	if (lws_add_http_header_status(wsi, (unsigned)status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"application/json", 16, &p, end) ||
	    clen_header(wsi, n, &p, end) || lws_finalize_http_header(wsi, &p, end))
		return -1;
	memcpy(p, body, (size_t)n);
	p += n;
	return lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) == (int)(p - start) ? 0
											      : -1;
}

int api_edge_upgrade(struct lws *wsi, const char *upgrade)
{
	if (upgrade && !strcasecmp(upgrade, "websocket"))
		return 0; /* ws.c authorises it */
	edge_raw_error(wsi, 400, "upgrade_refused",
		       "only a WebSocket upgrade on /api/v1/events is accepted");
	return -1; /* and close */
}

/* Replaces libwebsockets' function of the same name (see DESIGN). lws uses
 * it for 403 (a request it could not parse, or an upgrade it does not know),
 * 404 and 401 (its own mounts, which we do not use). */
int lws_return_http_status(struct lws *wsi, unsigned int code, const char *html_body)
{
	if (!wsi || !lws_get_vhost(wsi))
		return 1;
	if (code == HTTP_STATUS_NOT_FOUND)
		return edge_raw_error(wsi, 404, "not_found", "no such path") ? 1 : 0;
	return edge_raw_error(wsi, 400, "bad_request",
			      "the request line or a header could not be parsed")
		       ? 1
		       : 0;
}
