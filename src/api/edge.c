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

/* 400 with the reason; the connection closes after the reply. */
static bool refuse(struct api_req *q, const char *code, const char *msg)
{
	q->close_after = true;
	api_reply_error(q, 400, code, "%s", msg);
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

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		return refuse(q, "bad_framing",
			      n_cl > 0 ? "a request with both Content-Length and Transfer-Encoding "
					 "is refused (RFC 9112 section 6.3)"
				       : "Transfer-Encoding is not accepted: send the body with a "
					 "Content-Length");
	if (n_cl <= 0)
		return false; /* none, or an empty value (lws keeps none): no body */
	if (n_cl >= (int)sizeof(cl) ||
	    lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) != n_cl ||
	    !digits_only(cl))
		return refuse(q, "bad_framing",
			      "Content-Length must be one decimal number of bytes");
	if (!bodied && strspn(cl, "0") != strlen(cl))
		return refuse(q, "bad_framing", "this method takes no request body");
	return false;
}

static bool path_refused(struct api_req *q, const char *uri, int ulen)
{
	if (ulen <= 0)
		return false;
	if (memchr(uri, '\0', (size_t)ulen))
		return refuse(q, "invalid_path", "the path contains a NUL byte (%00)");
	for (int i = 0; i < ulen; i++)
		if ((unsigned char)uri[i] < 0x20 || uri[i] == 0x7f)
			return refuse(q, "invalid_path", "the path contains a control character");
	if (!api_text_is_utf8(uri, (size_t)ulen))
		return refuse(q, "invalid_path", "the path is not valid UTF-8");
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

int api_edge_upgrade(struct lws *wsi, const char *upgrade)
{
	char buf[LWS_PRE + 512], body[160];
	unsigned char *start = (unsigned char *)buf + LWS_PRE, *p = start;
	unsigned char *end = (unsigned char *)buf + sizeof(buf) - 1;
	int n;

	if (upgrade && !strcasecmp(upgrade, "websocket"))
		return 0; /* ws.c authorises it */
	n = snprintf(body, sizeof(body),
		     "{\"error\":\"upgrade_refused\",\"message\":\"only a WebSocket upgrade on "
		     "/api/v1/events is accepted\"}");
	if (lws_add_http_header_status(wsi, 400, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"application/json", 16, &p, end) ||
	    clen_header(wsi, n, &p, end) || lws_finalize_http_header(wsi, &p, end))
		return -1;
	memcpy(p, body, (size_t)n);
	p += n;
	lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP);
	return -1; /* and close */
}

/* Replaces libwebsockets' function of the same name (see DESIGN). */
int lws_return_http_status(struct lws *wsi, unsigned int code, const char *html_body)
{
	char buf[LWS_PRE + 768], body[256];
	unsigned char *start = (unsigned char *)buf + LWS_PRE, *p = start;
	unsigned char *end = (unsigned char *)buf + sizeof(buf) - 1;
	const char *err = "http_error", *msg = "the request was refused";
	int n, m;

	if (!wsi || !lws_get_vhost(wsi))
		return 1;
	if (code == HTTP_STATUS_FORBIDDEN) {
		code = 400;
		err = "bad_request";
		msg = "the request line or a header could not be parsed";
	} else if (code == HTTP_STATUS_NOT_FOUND) {
		err = "not_found";
		msg = "no such path";
	} else if (code == HTTP_STATUS_UNAUTHORIZED) {
		err = "unauthorized";
		msg = "sign in first";
	}
	n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}", err, msg);
	if (lws_add_http_header_status(wsi, code, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"application/json", 16, &p, end) ||
	    clen_header(wsi, n, &p, end) || lws_finalize_http_header(wsi, &p, end))
		return 1;
	memcpy(p, body, (size_t)n);
	p += n;
	m = lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP);
	return m != (int)(p - start);
}
