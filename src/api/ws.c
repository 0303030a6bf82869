/*
 * ws.c — GET /api/v1/events: the WebSocket event stream.
 *
 * DESIGN
 * - The upgrade is authorised in FILTER_PROTOCOL_CONNECTION with the bearer
 *   token from the Authorization header or ?access_token= (browsers cannot
 *   set headers on a WebSocket); a bad one is refused before the upgrade.
 * - Each committed change (routing_event) is rendered once and queued to
 *   every client allowed to see it: agents see their own, voice_manager and
 *   admin see all. A client is closed ("too slow") when the oldest message
 *   it has not taken is WS_MAX_LAG_MS old, or its backlog passes
 *   WS_MAX_BYTES, rather than letting memory grow. Not a count of
 *   messages: at 1,000 calls a manager's stream carries ~800 a second and
 *   a busy loop turns a few times a second, so thousands queue between
 *   two writes and go out in one (bench/voice.sh wallboard,
 *   docs/PERFORMANCE.md).
 * - Each writable callback writes queued messages until the socket would
 *   block (lws_send_pipe_choked) or WS_WRITE_BUDGET (4,096, ~20 ms of
 *   sends) are out: a busy stream costs one callback per backlog, not one
 *   per message.
 * - The first message is {"type":"hello"} with the user and, for an agent,
 *   the current presence, so a client knows where the stream starts.
 * - Liveness of a browser phone's socket (one that sent an rtc.* message):
 *   a socket that dies without a TCP close (a sleeping laptop, a dropped
 *   network) must not keep the agent "registered", so offers would ring
 *   nobody. Its wsi gets an lws timer every http.ws_idle / 3 s (no uv
 *   timer of ours, no list walk); when it fires a WebSocket ping goes at
 *   the next writable callback, and when nothing at all (a frame, a pong:
 *   browsers answer pings by themselves) came for http.ws_idle (30 s) the
 *   socket is closed: LWS_CALLBACK_CLOSED unregisters its phone and ends
 *   its legs as a closed tab does. Other event sockets are not pinged.
 */
#define LOG_MODULE "ws"
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define WS_MAX_LAG_MS	10000		   /* the oldest message not taken */
#define WS_MAX_BYTES	(32 * 1024 * 1024) /* a client's backlog */
#define WS_WRITE_BUDGET 4096		   /* messages written per writable callback, at most */

static int ws_token(struct lws *wsi, char *tok, size_t size)
{
	char hdr[256], frag[256];

	if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    !strncasecmp(hdr, "Bearer ", 7)) {
		str_copy(tok, hdr + 7, size);
		return 0;
	}
	for (int i = 0;
	     lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		if (!strncmp(frag, "access_token=", 13)) {
			str_copy(tok, frag + 13, size);
			return 0;
		}
	}
	return -ENOENT;
}

static struct user *ws_auth(struct api *a, struct lws *wsi)
{
	char path[64] = "", tok[160], hash[65];

	lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
	if (strcmp(path, "/api/v1/events")) {
		log_info("refused a WebSocket upgrade on %s", path);
		return NULL;
	}
	if (ws_token(wsi, tok, sizeof(tok)))
		return NULL;
	return api_session_user(a, tok, hash);
}

static bool ws_too_slow(const struct ws_client *c)
{
	return c->overflow || (c->head && time_now_ms() - c->head->at > WS_MAX_LAG_MS);
}

static void ws_queue(struct ws_client *c, const char *s, size_t len)
{
	struct ws_msg *m;

	if (c->overflow)
		return;
	m = c->bytes + len <= WS_MAX_BYTES ? malloc(sizeof(*m) + LWS_PRE + len) : NULL;
	if (m) {
		m->next = NULL;
		m->at = time_now_ms();
		m->len = len;
		memcpy(m->buf + LWS_PRE, s, len);
		if (c->tail)
			c->tail->next = m;
		else
			c->head = m;
		c->tail = m;
		c->queued++;
		c->bytes += len;
	} else {
		c->overflow = true; /* a gap in the stream: it must end */
	}
	lws_callback_on_writable(c->wsi);
	/* closed with a reason at the next write; a client that stopped
	 * reading gets no writable callback: killed 5 s later */
	if (!c->closing && ws_too_slow(c)) {
		c->closing = true;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
	}
}

static void ws_send_json(struct ws_client *c, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s)
		ws_queue(c, s, strlen(s));
	free(s);
	json_decref(o);
}

static void ws_established(struct api *a, struct lws *wsi, struct ws_client *c)
{
	json_t *hello;

	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->sock = ++a->next_sock;
	c->user = ws_auth(a, wsi);
	c->all = api_is_manager(c->user);
	c->next = a->clients;
	if (a->clients)
		a->clients->prev = c;
	a->clients = c;
	hello = json_pack("{s:s,s:o,s:s}", "type", "hello", "user", view_user(a->r, c->user, false),
			  "scope", c->all ? "all" : "own");
	if (user_is_agent(c->user))
		json_object_set_new(hello, "agent", view_agent(a->r, c->user));
	ws_send_json(c, hello);
	/* managers start from the wallboard's snapshot; pushed changes follow */
	if (c->all)
		ws_send_json(c, api_wallboard_snapshot(a));
}

static void ws_closed(struct api *a, struct ws_client *c)
{
	struct ws_msg *m, *next;

	log_info("user=%s action=event stream ended: %llu messages written in %llu callbacks, "
		 "the socket full %llu times, %zu not sent",
		 c->user ? user_record(c->user)->user_name : "", (unsigned long long)c->sent,
		 (unsigned long long)c->writable, (unsigned long long)c->choked, c->queued);
	for (m = c->head; m; m = next) {
		next = m->next;
		free(m);
	}
	c->head = c->tail = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else if (a->clients == c)
		a->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->wsi = NULL;
	if (a->cc) /* its browser phone and legs, if any (once it is out of the list) */
		callctl_rtc_closed(a->cc, c->sock);
}

static int ws_writeable(struct ws_client *c)
{
	struct ws_msg *m;

	if (ws_too_slow(c)) {
		log_warn("user=%s action=event stream closed: %zu messages (%zu KiB) behind, "
			 "the oldest %lld ms (too slow); %llu written in %llu callbacks, the "
			 "socket full %llu times",
			 user_record(c->user)->user_name, c->queued, c->bytes / 1024,
			 c->head ? (long long)(time_now_ms() - c->head->at) : 0LL,
			 (unsigned long long)c->sent, (unsigned long long)c->writable,
			 (unsigned long long)c->choked);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"too slow", 8);
		return -1;
	}
	/* as many as the socket takes now, up to a budget: at 1,000 calls the
	 * loop served a manager's socket ~3 times a second, so one message
	 * (or 256) per callback fell behind (docs/PERFORMANCE.md) */
	if (c->ping_due) { /* alone in its callback, then the queue */
		/* a payload: lws does not report an empty pong */
		uint8_t ping[LWS_PRE + 4] = {[LWS_PRE] = 's', 'b', 'p', 'g'};

		c->ping_due = false;
		if (lws_write(c->wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 4)
			return -1;
		if (c->head)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	c->writable++;
	for (int n = 0; (m = c->head) && n < WS_WRITE_BUDGET; n++) {
		if (lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
			return -1;
		c->head = m->next;
		if (!c->head)
			c->tail = NULL;
		c->queued--;
		c->bytes -= m->len;
		c->sent++;
		free(m);
		if (lws_send_pipe_choked(c->wsi)) {
			c->choked++;
			break;
		}
	}
	if (c->head)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* rtc.* (the browser phone, docs/WEBRTC.md "Signalling"): decoded by
 * req_decode_rtc (json_req.c, fuzzed), handed to call control; a message
 * that does not decode is rtc.error "bad_request" (with its ref if that
 * much is readable). */
static void ws_rtc(struct api *a, struct ws_client *c, json_t *o, const char *in, size_t len)
{
	struct req_rtc *r = malloc(sizeof(*r));
	char err[API_ERRSZ];
	const char *ref = json_string_value(json_object_get(o, "ref"));

	if (ref && strlen(ref) > 64)
		ref = NULL;
	if (!a->cc || !r) {
		ws_send_json(c, json_pack("{s:s,s:s,s:s}", "type", "rtc.error", "code",
					  a->cc ? "server_error" : "unavailable", "message",
					  a->cc ? "out of memory" : "no call control"));
	} else if (req_decode_rtc(in, len, r, err, sizeof(err))) {
		callctl_rtc_bad_request(a->cc, c->sock, ref, err);
	} else {
		struct callctl_rtc_req rq = {
			.type = r->type,
			.ref = r->has_ref ? r->ref : NULL,
			.leg = r->has_leg ? r->leg : NULL,
			.sdp = r->has_sdp ? r->sdp : NULL,
			.to = r->has_to ? r->to : NULL,
			.digits = r->has_digits ? r->digits : NULL,
		};
		callctl_rtc_request(a->cc, c->sock, c->user, &rq);
	}
	free(r);
}

/* ---- a browser phone's socket: pinged, closed when silent ---- */
static int64_t ws_ping_us(const struct api *a)
{
	return (int64_t)a->cfg->http_ws_idle_s * 1000000 / 3;
}

static void ws_rtc_watch(struct api *a, struct ws_client *c)
{
	if (c->rtc)
		return;
	c->rtc = true;
	lws_set_timer_usecs(c->wsi, ws_ping_us(a));
}

static int ws_rtc_timer(struct api *a, struct ws_client *c)
{
	int64_t quiet = time_now_ms() - c->last_rx_ms;

	if (quiet >= (int64_t)a->cfg->http_ws_idle_s * 1000) {
		log_warn("user=%s action=event stream closed: a browser phone's socket silent for "
			 "%lld ms (no pong)",
			 user_record(c->user)->user_name, (long long)quiet);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return 0; /* LWS_CALLBACK_CLOSED follows: the phone is unregistered */
	}
	c->ping_due = true;
	lws_callback_on_writable(c->wsi);
	lws_set_timer_usecs(c->wsi, ws_ping_us(a));
	return 0;
}

static void ws_receive(struct api *a, struct ws_client *c, const char *in, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(in, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = json_string_value(json_object_get(o, "type"));

	if (type && !strcmp(type, "ping"))
		ws_send_json(c, json_pack("{s:s}", "type", "pong"));
	else if (type && !strncmp(type, "rtc.", 4) && json_is_object(o))
		ws_rtc_watch(a, c), ws_rtc(a, c, o, in, len);
	else
		ws_send_json(c, json_pack("{s:s,s:s}", "type", "error", "message",
					  "this stream is server-to-client, but for the browser "
					  "phone's rtc.* messages; send {\"type\":\"ping\"} to "
					  "check it"));
	json_decref(o);
}

/* callctl's message to one socket (its non-NULL fields). */
void api_ws_rtc_send(void *arg, uint64_t sock, const struct callctl_rtc_msg *m)
{
	struct api *a = arg;
	struct ws_client *c;
	json_t *o;

	for (c = a->clients; c && c->sock != sock; c = c->next)
		;
	if (!c || !c->wsi)
		return;
	o = json_pack("{s:s}", "type", m->type);
	if (!o)
		return;
#define RTC_SET(f)                                                                                 \
	if (m->f)                                                                                  \
	json_object_set_new(o, #f, json_string(m->f))
	RTC_SET(ref);
	RTC_SET(leg);
	RTC_SET(code);
	RTC_SET(message);
	RTC_SET(state);
	RTC_SET(why);
	RTC_SET(reason);
	RTC_SET(sdp);
#undef RTC_SET
	if (!strcmp(m->type, "rtc.offer")) {
		json_object_set_new(o, "interaction",
				    m->interaction ? json_string(m->interaction) : json_null());
		json_object_set_new(o, "auto_answer", json_boolean(m->auto_answer));
	}
	ws_send_json(c, o);
}

int api_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct api *a = lws_context_user(lws_get_context(wsi));
	struct ws_client *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return ws_auth(a, wsi) ? 0 : -1;
	case LWS_CALLBACK_ESTABLISHED:
		if (!c || !ws_auth(a, wsi))
			return -1;
		ws_established(a, wsi, c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE: return c && c->wsi ? ws_writeable(c) : 0;
	case LWS_CALLBACK_RECEIVE:
		if (c && c->wsi) {
			c->last_rx_ms = time_now_ms();
			ws_receive(a, c, in, len);
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (c && c->wsi)
			c->last_rx_ms = time_now_ms();
		return 0;
	case LWS_CALLBACK_TIMER: return c && c->wsi && c->rtc ? ws_rtc_timer(a, c) : 0;
	case LWS_CALLBACK_CLOSED:
		if (c && c->wsi)
			ws_closed(a, c);
		return 0;
	default: return 0;
	}
}

/* ---- events ---- */

/* The screen pop's records: the caller's (user, contact or consumer) and
 * the case the flow found, each with what the forms open it by. */
static json_t *offer_records(const struct routing_event *ev)
{
	json_t *a = json_array();

	if (ev->caller_table && ev->caller_key && ev->caller_key[0])
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "table", ev->caller_table,
						   "number", ev->caller_key, "name",
						   ev->caller_name ? ev->caller_name : ""));
	if (ev->case_number && ev->case_number[0])
		json_array_append_new(
			a, json_pack("{s:s,s:s,s:s,s:s}", "table", "case", "number",
				     ev->case_number, "state", ev->case_state ? ev->case_state : "",
				     "short_description",
				     ev->case_description ? ev->case_description : ""));
	return a;
}

static json_t *event_json(struct api *a, const struct routing_event *ev)
{
	const char *who = ev->user ? user_record(ev->user)->user_name : "";
	json_t *o;

	switch (ev->kind) {
	case RT_EV_PRESENCE:
		o = json_pack("{s:s,s:s,s:s,s:s}", "type", "presence", "user_name", who, "from",
			      ev->from, "to", ev->to);
		json_object_set_new(o, "reason", json_string(ev->reason));
		break;
	case RT_EV_INTERACTION:
		o = json_pack("{s:s,s:s,s:s,s:s}", "type", "interaction", "number", ev->interaction,
			      "from", ev->from, "to", ev->to);
		json_object_set_new(o, "agent", who[0] ? json_string(who) : json_null());
		json_object_set_new(o, "reason", json_string(ev->reason));
		break;
	case RT_EV_OFFER: /* the screen pop: who is calling */
		o = json_pack("{s:s,s:s,s:s,s:{s:s,s:o,s:o}}", "type", "offer", "interaction",
			      ev->interaction, "agent", who, "caller", "number",
			      ev->caller_number ? ev->caller_number : "", "user_name",
			      ev->caller_user && ev->caller_user[0] ? json_string(ev->caller_user)
								    : json_null(),
			      "name",
			      ev->caller_name && ev->caller_name[0] ? json_string(ev->caller_name)
								    : json_null());
		json_object_set_new(o, "queue",
				    ev->queue && ev->queue[0] ? json_string(ev->queue)
							      : json_null());
		json_object_set_new(o, "records", offer_records(ev));
		json_object_set_new(o, "intent",
				    ev->intent && ev->intent[0] ? json_string(ev->intent)
								: json_null());
		json_object_set_new(o, "transfer",
				    ev->transfer_from
					    ? json_pack("{s:s,s:s}", "from", ev->transfer_from,
							"note",
							ev->transfer_note ? ev->transfer_note : "")
					    : json_null());
		break;
	case RT_EV_DEVICE: /* the agent's phone registered or not */
		o = json_pack("{s:s,s:s,s:b,s:s,s:s}", "type", "device", "user_name", who,
			      "registered", !strcmp(ev->to, "registered"), "reason", ev->reason,
			      "device", ev->device ? ev->device : "sip");
		break;
	case RT_EV_CALL: /* click-to-call progress and call controls */
		o = json_pack("{s:s,s:s,s:s,s:s}", "type", "call", "interaction", ev->interaction,
			      "agent", who, "event", ev->to);
		json_object_set_new(o, "detail", json_string(ev->reason));
		break;
	case RT_EV_QUEUE: /* a caller in a queue (the wallboard) */
		o = json_pack("{s:s,s:s,s:s,s:s}", "type", "queue", "event", ev->to, "queue",
			      ev->queue ? ev->queue : "", "interaction", ev->interaction);
		json_object_set_new(o, "agent", who[0] ? json_string(who) : json_null());
		json_object_set_new(o, "wait_ms", json_integer((json_int_t)ev->wait_ms));
		json_object_set_new(o, "reason", json_string(ev->reason));
		break;
	case RT_EV_QUEUE_STATS:
		o = view_queue_stats(ev->qstats);
		json_object_set_new(o, "type", json_string("queue_stats"));
		break;
	case RT_EV_ALERT:
		o = view_alert(ev->alert);
		json_object_set_new(o, "type", json_string("alert"));
		break;
	case RT_EV_LIVE:
		o = view_live_call(ev->live);
		json_object_set_new(o, "type", json_string("live_call"));
		break;
	default:
		o = json_pack("{s:s,s:s,s:s,s:s}", "type", "roles", "user_name", who, "change",
			      ev->to, "role", ev->reason);
		break;
	}
	if (ev->interaction[0] && ev->kind == RT_EV_PRESENCE)
		json_object_set_new(o, "interaction", json_string(ev->interaction));
	json_object_set_new(o, "at", view_time(ev->at));
	json_object_set_new(o, "actor", json_string(ev->actor));
	return o;
}

static bool ws_has_manager(const struct api *a)
{
	for (const struct ws_client *c = a->clients; c; c = c->next)
		if (c->all)
			return true;
	return false;
}

void api_ws_event(const struct routing_event *ev, void *arg)
{
	struct api *a = arg;
	json_t *o;
	char *s;

	/* RT_EV_CTR is a hook for other consumers (webhooks): the stream's
	 * clients read records through GET .../ctr instead */
	if (!a->clients || ev->kind == RT_EV_CTR)
		return;
	if (ev->kind >= RT_EV_QUEUE && !ws_has_manager(a))
		return; /* nobody to render it for */
	o = event_json(a, ev);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return;
	/* the wallboard's kinds go to managers only (checked at subscribe) */
	bool managers = ev->kind >= RT_EV_QUEUE;
	for (struct ws_client *c = a->clients; c; c = c->next)
		if (c->all || (!managers && ev->user && c->user == ev->user))
			ws_queue(c, s, strlen(s));
	free(s);
}

void api_ws_close_all(struct api *a)
{
	while (a->clients)
		ws_closed(a, a->clients);
}
