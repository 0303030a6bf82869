/*
 * http.c — the HTTP edge: libwebsockets on the libuv loop (foreign loop),
 * request lifecycle, bodies, JSON replies and errors.
 *
 * DESIGN
 * - One lws protocol serves both HTTP and the WebSocket upgrade on
 *   /api/v1/events (ws.c). Each HTTP request is a refcounted api_req: the
 *   connection holds one reference, every piece of async work (store reads
 *   and writes, password hashing) takes another. When the connection closes
 *   first, q->wsi is cleared and the late reply is dropped: nothing touches
 *   a dead wsi (CONVENTIONS.md §8).
 * - Bodies are collected up to http.max_body; a larger Content-Length is
 *   refused with 413 before reading, and a body that grows past it without
 *   one is refused when complete.
 * - A reply is serialised at once into a buffer with LWS_PRE headroom and
 *   written from the WRITEABLE callback (headers + body in one go), then the
 *   transaction completes and keep-alive carries the next request.
 */
#define LOG_MODULE "http"
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
	struct api_req *req; /* current request, or NULL */
};

static void req_destroy(void *data)
{
	struct api_req *q = data;

	free(q->body);
	free(q->resp);
}

struct api_req *api_req_hold(struct api_req *q)
{
	q->api->busy++;
	return mem_ref(q);
}

void api_req_release(struct api_req *q)
{
	q->api->busy--;
	mem_deref(q);
}

/* ---- replies ---- */
void api_reply_json(struct api_req *q, int status, json_t *body)
{
	char *s;
	size_t len;

	if (q->replied) {
		json_decref(body);
		return;
	}
	q->replied = true;
	s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	len = s ? strlen(s) : 0;
	q->resp = malloc(LWS_PRE + len + 1);
	if (!q->resp) {
		free(s);
		return;
	}
	memcpy(q->resp + LWS_PRE, s ? s : "", len);
	free(s);
	q->resp_len = len;
	q->status = status;
	if (q->wsi)
		lws_callback_on_writable(q->wsi);
}

void api_reply_raw(struct api_req *q, int status, const char *content_type,
		   const char *content_range, const void *body, size_t len)
{
	if (q->replied)
		return;
	q->replied = true;
	q->resp = malloc(LWS_PRE + len + 1);
	if (!q->resp)
		return;
	memcpy(q->resp + LWS_PRE, body, len);
	q->resp_len = len;
	q->status = status;
	str_copy(q->content_type, content_type, sizeof(q->content_type));
	str_copy(q->content_range, content_range ? content_range : "", sizeof(q->content_range));
	if (q->wsi)
		lws_callback_on_writable(q->wsi);
}

static void reply_error_v(struct api_req *q, int status, const char *code, json_t *extra,
			  const char *fmt, va_list ap)
{
	char msg[API_ERRSZ];
	json_t *o;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	api_text_utf8_fix(msg); /* jansson refuses invalid UTF-8: no empty bodies */
	if (status >= 500)
		log_warn("%s %s → %d %s: %s", q->method == M_GET ? "GET" : "write", q->path, status,
			 code, msg);
	o = json_pack("{s:s,s:s}", "error", code, "message", msg);
	if (o && extra)
		json_object_update(o, extra);
	json_decref(extra);
	api_reply_json(q, status, o);
}

void api_reply_error(struct api_req *q, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_v(q, status, code, NULL, fmt, ap);
	va_end(ap);
}

void api_reply_error_x(struct api_req *q, int status, const char *code, json_t *extra,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_error_v(q, status, code, extra, fmt, ap);
	va_end(ap);
}

bool api_reply_bad_body(struct api_req *q, int rc, const char *msg)
{
	if (!rc)
		return false;
	if (rc == -ENOMEM)
		api_reply_error(q, 503, "overloaded", "out of memory reading the body; try again");
	else
		api_reply_error(q, 400, "invalid_body", "%s", msg);
	return true;
}

void api_reply_err(struct api_req *q, int err, const char *what)
{
	switch (err) {
	case CC_EILLEGAL: api_reply_error(q, 409, "illegal_transition", "%s", what); break;
	case CC_EFORBIDDEN: api_reply_error(q, 403, "forbidden", "%s", what); break;
	case CC_ENOTFOUND: api_reply_error(q, 404, "not_found", "%s", what); break;
	case CC_ECONFLICT: api_reply_error(q, 409, "conflict", "%s", what); break;
	case -ENOMEM: api_reply_error(q, 503, "overloaded", "out of memory; try again"); break;
	default:
		api_reply_error(q, 500, "store_failed", "the change could not be stored (%s)",
				cc_strerror(err));
	}
}

static void conn_req_end(struct conn *c)
{
	if (c && c->req) {
		c->req->wsi = NULL;
		c->req = mem_deref(c->req);
	}
}

/* Writes the reply and ends the request. lws may free the per-connection
 * data when the transaction completes, so the request is released first. */
static int reply_write(struct lws *wsi, struct conn *c)
{
	struct api_req *q = c->req;
	unsigned char *buf, *start, *p, *end;
	char clen[24];
	size_t hdr_room = 512;
	const char *ctype = q->content_type[0] ? q->content_type : "application/json";
	const char *cache = q->cache_control ? q->cache_control : "no-store";
	bool close_after = q->close_after;
	int rc = -1;

	/* Headers and body go out in one write (one send(2) per reply): the
	 * content-length is written by name so lws does no body accounting. */
	buf = malloc(LWS_PRE + hdr_room + q->resp_len);
	if (!buf)
		goto out;
	start = p = buf + LWS_PRE;
	end = start + hdr_room - 1;
	snprintf(clen, sizeof(clen), "%zu", q->resp_len);
	if (lws_add_http_header_status(wsi, (unsigned)q->status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)ctype, (int)strlen(ctype), &p,
					 end) ||
	    (q->content_type[0] && !q->is_static && !q->content_disposition[0] &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)"accept-ranges:",
					 (const unsigned char *)"bytes", 5, &p, end)) ||
	    (q->content_range[0] &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)"content-range:",
					 (const unsigned char *)q->content_range,
					 (int)strlen(q->content_range), &p, end)) ||
	    (q->content_disposition[0] &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)"content-disposition:",
					 (const unsigned char *)q->content_disposition,
					 (int)strlen(q->content_disposition), &p, end)) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"content-length:",
					(const unsigned char *)clen, (int)strlen(clen), &p, end) ||
	    lws_add_http_header_by_name(
		    wsi, (const unsigned char *)"cache-control:", (const unsigned char *)cache,
		    (int)strlen(cache), &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, &p, end) ||
	    (close_after &&
	     lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
					  5, &p, end)) ||
	    lws_finalize_http_header(wsi, &p, end))
		goto out;
	if (!q->head) { /* HEAD: the headers a GET would get, Content-Length included */
		memcpy(p, q->resp + LWS_PRE, q->resp_len);
		p += q->resp_len;
	}
	if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) >= 0)
		rc = 0;
out:
	free(buf);
	conn_req_end(c);
	if (rc || close_after)
		return -1; /* close_after: the bytes after this request are never read */
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- query strings ---- */
int api_query_int(struct api_req *q, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
	char buf[32], *end;
	int rc = api_query(q, name, buf, sizeof(buf));
	long long v;

	if (rc == -ENOENT)
		return 0;
	v = rc ? 0 : strtoll(buf, &end, 10);
	if (rc || !buf[0] || *end || v < lo || v > hi) {
		api_reply_error(q, 400, "invalid_parameter",
				"'%s' must be an integer from %lld to %lld", name, (long long)lo,
				(long long)hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

void api_reply_page(struct api_req *q, json_t *o, int64_t next_id)
{
	char cur[24];

	snprintf(cur, sizeof(cur), "%lld", (long long)next_id);
	json_object_set_new(o, "next_cursor", next_id ? json_string(cur) : json_null());
	api_reply_json(q, 200, o);
}

int api_query(struct api_req *q, const char *name, char *buf, size_t size)
{
	char frag[512];
	size_t nl = strlen(name);

	if (!q->wsi)
		return -ENOENT;
	for (int i = 0;
	     lws_hdr_copy_fragment(q->wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
	     i++) {
		if (strncmp(frag, name, nl) || frag[nl] != '=')
			continue;
		if (strlen(frag + nl + 1) >= size)
			return -E2BIG;
		str_copy(buf, frag + nl + 1, size);
		return 0;
	}
	return -ENOENT;
}

int api_query_check(struct api_req *q, const char *const *allowed)
{
	char frag[512], list[256] = "";

	for (int i = 0; q->wsi && lws_hdr_copy_fragment(q->wsi, frag, sizeof(frag),
							WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
	     i++) {
		char *eq = strchr(frag, '=');
		bool ok = false;
		if (eq)
			*eq = '\0';
		for (int k = 0; allowed[k]; k++)
			ok = ok || !strcmp(frag, allowed[k]);
		if (ok)
			continue;
		for (int k = 0; allowed[k]; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? ", " : "", allowed[k]);
		api_reply_error(q, 400, "unknown_parameter",
				"unknown query parameter '%.64s' (allowed: %s)", frag,
				list[0] ? list : "none");
		return -EINVAL;
	}
	return 0;
}

/* ---- request start ---- */
static enum api_method method_of(int m)
{
	switch (m) {
	case LWSHUMETH_GET:
	case LWSHUMETH_HEAD: return M_GET; /* q->head: the body is not sent */
	case LWSHUMETH_POST: return M_POST;
	case LWSHUMETH_PUT: return M_PUT;
	case LWSHUMETH_PATCH: return M_PATCH;
	case LWSHUMETH_DELETE: return M_DELETE;
	default: return M_OTHER;
	}
}

static void req_split(struct api_req *q)
{
	char *save = NULL, *tok;

	str_copy(q->segbuf, q->path, sizeof(q->segbuf));
	for (tok = strtok_r(q->segbuf, "/", &save); tok && q->nsegs < API_MAX_SEGS;
	     tok = strtok_r(NULL, "/", &save))
		q->segs[q->nsegs++] = tok;
}

static void req_auth(struct api_req *q)
{
	char hdr[256];
	int n = lws_hdr_copy(q->wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION);

	if (n > 7 && !strncasecmp(hdr, "Bearer ", 7))
		q->user = api_session_user(q->api, hdr + 7, q->token_hash);
	else if (n > 0)
		q->token_hash[0] = '?'; /* present but not a bearer token */
}

static struct api_req *req_start(struct api *a, struct lws *wsi, struct conn *c)
{
	struct api_req *q = mem_zalloc(sizeof(*q), req_destroy);
	char *uri = NULL;
	int ulen = 0, m;

	if (!q)
		return NULL;
	q->api = a;
	q->wsi = wsi;
	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	q->method = method_of(m);
	q->head = m == LWSHUMETH_HEAD;
	if (uri && ulen > 0)
		snprintf(q->path, sizeof(q->path), "%.*s", ulen, uri);
	q->path_too_long = ulen >= (int)sizeof(q->path);
	req_split(q);
	req_auth(q);
	c->req = q;
	api_edge_refused(q, wsi, uri, ulen); /* replies 400 and closes when refused */
	return q;
}

static bool req_has_body(struct api_req *q, struct lws *wsi)
{
	char cl[32];

	if (q->method != M_POST && q->method != M_PUT && q->method != M_PATCH)
		return false;
	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return false;
	if (strtoll(cl, NULL, 10) > q->api->cfg->http_max_body) {
		q->body_too_large = true;
		return false;
	}
	return strtoll(cl, NULL, 10) > 0;
}

static void req_body_append(struct api_req *q, const void *in, size_t len)
{
	size_t max = (size_t)q->api->cfg->http_max_body;

	if (!len)
		return;
	if (q->body_too_large || q->body_len + len > max) {
		q->body_too_large = true;
		return;
	}
	if (q->body_len + len + 1 > q->body_cap) {
		size_t cap = q->body_len + len + 1 > 4096 ? max + 1 : 4096;
		char *nb = realloc(q->body, cap);
		if (!nb) {
			q->body_too_large = true;
			return;
		}
		q->body = nb, q->body_cap = cap;
	}
	memcpy(q->body + q->body_len, in, len);
	q->body_len += len;
	q->body[q->body_len] = '\0';
}

static void req_run(struct api_req *q)
{
	/* lws reports a body completion for a POST with Content-Length: 0
	 * too, after we have already run it: a request runs once. */
	if (q->dispatched)
		return;
	q->dispatched = true;
	if (q->body_too_large) {
		api_reply_error(q, 413, "body_too_large",
				"the request body is larger than %d bytes",
				q->api->cfg->http_max_body);
		return;
	}
	if (api_path_is_api(q->path))
		api_dispatch(q);
	else
		api_static_serve(q);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct api *a = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!c)
			return -1;
		if (api_tls_plain(a, wsi))
			return api_tls_redirect(a, wsi, in);
		conn_req_end(c);
		if (!req_start(a, wsi, c))
			return -1;
		if (c->req->replied)
			return reply_write(wsi, c);
		if (req_has_body(c->req, wsi))
			return 0;
		req_run(c->req);
		/* Answered at once (no store or worker involved): write now and
		 * save a round trip through the writeable callback. */
		return c->req && c->req->replied && c->req->resp ? reply_write(wsi, c) : 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (c && c->req)
			req_body_append(c->req, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c || !c->req)
			return 0;
		req_run(c->req);
		return c->req && c->req->replied && c->req->resp ? reply_write(wsi, c) : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c || !c->req || !c->req->replied || !c->req->resp)
			return 0;
		return reply_write(wsi, c);
	case LWS_CALLBACK_CLOSED_HTTP: conn_req_end(c); return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return api_tls_plain(a, wsi) ? -1 : api_edge_upgrade(wsi, in);
	default: break;
	}
	if (api_ws_callback(wsi, reason, user, in, len))
		return -1;
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"switchboard", http_callback, sizeof(union {
		 struct conn c;
		 struct ws_client w;
	 }),
	 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	log_write(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "%.*s", (int)n, line);
}

int api_alloc(struct api **ap, uv_loop_t *loop, const struct config *cfg, struct routing *r,
	      struct store *st, struct callctl *cc, struct hook *hook,
	      const struct st_snapshot *snap)
{
	struct lws_context_creation_info info;
	struct api *a = calloc(1, sizeof(*a));
	void *loops[1] = {loop};
	int err;

	if (!a)
		return -ENOMEM;
	a->loop = loop, a->cfg = cfg, a->r = r, a->st = st, a->cc = cc, a->hook = hook;
	a->started_at = time_now_ms();
	callctl_rtc_sink_set(cc, api_ws_rtc_send, a);
	api_static_root(a, cfg->http_web_root); /* a missing folder only warns */
	err = api_sessions_load(a, snap);
	if (err) {
		free(a);
		return err;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = cfg->http_port;
	info.iface = strcmp(cfg->http_address, "0.0.0.0") ? cfg->http_address : NULL;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* lws binds an IPv6 socket on every address unless told the listen
	 * address is IPv4: then http.address (127.0.0.1 by default) holds. */
	if (info.iface && !strchr(info.iface, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	api_tls_listen(cfg, &info); /* HTTPS when http.tls_cert is set (tls.c) */
	info.foreign_loops = loops;
	info.user = a;
	info.timeout_secs = 30;
	info.max_http_header_data = 4096;
	info.keepalive_timeout = 60;
	a->ctx = lws_create_context(&info);
	if (!a->ctx) {
		api_sessions_free(a);
		free(a);
		return -EADDRINUSE;
	}
	routing_event_handler_set(r, api_ws_event, a);
	*ap = a;
	return 0;
}

size_t api_busy(const struct api *a)
{
	return a->busy;
}

void api_callctl_detach(struct api *a)
{
	if (a)
		a->cc = NULL; /* callctl_free may still tell sockets their legs ended */
}

void api_free(struct api *a)
{
	if (!a)
		return;
	routing_event_handler_set(a->r, NULL, NULL);
	callctl_rtc_sink_set(a->cc, NULL, NULL);
	lws_context_destroy(a->ctx);
	api_ws_close_all(a);
	api_sessions_free(a);
	free(a);
}
