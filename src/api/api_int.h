/* api_int.h — structures private to api/. */
#ifndef SB_API_INT_H
#define SB_API_INT_H

#include "api/api.h"
#include "callctl/callctl.h"
#include "hook/hook.h"
#include "transcript/transcript.h"
#include <jansson.h>
#include <limits.h>
#include <libwebsockets.h>
#include <uthash.h>

#define API_MAX_SEGS 8
#define API_ERRSZ    256

struct session {
	char token_hash[65];
	int64_t user_id;
	int64_t expires_at;
	UT_hash_handle hh;
};

struct ws_msg {
	struct ws_msg *next;
	int64_t at; /* queued (ms) */
	size_t len;
	unsigned char buf[]; /* LWS_PRE headroom + payload */
};

struct ws_client {
	struct ws_client *prev, *next;
	struct lws *wsi;
	struct user *user;
	bool all; /* sees every event (manager/admin) */
	struct ws_msg *head, *tail;
	size_t queued, bytes;		 /* messages and payload bytes not written yet */
	bool overflow;			 /* past WS_MAX_BYTES: closed at the next write */
	bool closing;			 /* too slow: closed at the next write, or killed */
	uint64_t sent, writable, choked; /* messages written, callbacks, socket full */
	uint64_t sock;			 /* the browser phone's socket id (callctl_rtc_*) */
	bool rtc;			 /* it spoke rtc.*: pinged, closed when silent */
	bool ping_due;			 /* a ping goes at the next writable callback */
	int64_t last_rx_ms;		 /* anything (a frame, a pong) came */
};

struct api {
	uv_loop_t *loop;
	const struct config *cfg;
	struct routing *r;
	struct store *st;
	struct callctl *cc;	       /* dialled numbers and trunks (live) */
	struct hook *hook;	       /* webhooks (NULL: their routes answer 503) */
	struct transcript *transcript; /* NULL: transcripts off (their routes answer 503) */
	struct lws_context *ctx;
	struct session *sessions;
	struct ws_client *clients;
	uint64_t next_sock; /* ws_client.sock */
	size_t busy;
	int64_t started_at;
	char web_root[PATH_MAX]; /* resolved http.web_root, "" = none (static.c) */
};

/* tls.c: the TLS options of the listener when http.tls_cert is set. */
void api_tls_listen(const struct config *cfg, struct lws_context_creation_info *info);
/* A plain-HTTP connection on a TLS port: redirect it (a 308 to https://, the
 * same path; returns the callback's result) or refuse its upgrade. */
bool api_tls_plain(const struct api *a, struct lws *wsi);
int api_tls_redirect(struct api *a, struct lws *wsi, const char *path);

enum api_method { M_GET, M_POST, M_PUT, M_PATCH, M_DELETE, M_OTHER };

/* One HTTP request; refcounted so async work can outlive the connection. */
struct api_req {
	struct api *api;
	struct lws *wsi; /* NULL once the connection has closed */
	enum api_method method;
	char path[256];
	bool path_too_long;	  /* the URI did not fit path[] */
	char *segs[API_MAX_SEGS]; /* path split on '/', into segbuf */
	int nsegs;
	char segbuf[256];
	char *body;
	size_t body_len, body_cap;
	bool body_too_large;
	bool dispatched;   /* api_dispatch ran (lws may still report a body completion) */
	struct user *user; /* authenticated user, or NULL */
	char token_hash[65];
	/* response */
	int status;
	unsigned char *resp; /* LWS_PRE + body */
	size_t resp_len;
	char content_type[40];	      /* "" = application/json */
	char content_range[80];	      /* 206 replies */
	char content_disposition[96]; /* "" = none (a CSV download: reports.c) */
	const char *cache_control;    /* static string, NULL = "no-store" */
	bool is_static;		      /* a web workspace file (no accept-ranges) */
	bool replied;
	bool close_after; /* framing in doubt (edge.c): close, never reuse */
	bool head;	  /* a HEAD request: served as GET, the reply without its body */
};

/* ---- edge.c: what is refused before routing (see its DESIGN) ---- */
/* true when q was refused (400, close_after set): framing, path bytes. */
bool api_edge_refused(struct api_req *q, struct lws *wsi, const char *uri, int ulen);
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 lets a WebSocket upgrade go on;
 * anything else is answered 400 in JSON and -1 closes. */
int api_edge_upgrade(struct lws *wsi, const char *upgrade);
bool api_text_is_utf8(const char *s, size_t n);
/* Replaces each byte that is not part of valid UTF-8 with '?', in place. */
void api_text_utf8_fix(char *s);

/* ---- http.c ---- */
void api_reply_json(struct api_req *q, int status, json_t *body); /* steals body */
/* Any body (copied), e.g. audio; content_range may be NULL. */
void api_reply_raw(struct api_req *q, int status, const char *content_type,
		   const char *content_range, const void *body, size_t len);
void api_reply_error(struct api_req *q, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with more fields in the body (extra: an object, stolen). */
void api_reply_error_x(struct api_req *q, int status, const char *code, json_t *extra,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Maps a domain error to a status and message. */
void api_reply_err(struct api_req *q, int err, const char *what);
/* For a request decoder's result: false when rc is 0; otherwise replies 400
 * invalid_body with the decoder's message (503 overloaded for -ENOMEM). */
bool api_reply_bad_body(struct api_req *q, int rc, const char *msg);
/* Query argument by name ("state"); returns 0 and copies, -ENOENT, -E2BIG. */
int api_query(struct api_req *q, const char *name, char *buf, size_t size);
/* An integer query parameter from lo to hi into *out (left as it is when
 * absent); replies 400 invalid_parameter and returns -EINVAL otherwise. */
int api_query_int(struct api_req *q, const char *name, int64_t lo, int64_t hi, int64_t *out);
/* Replies 200 with a keyset page: o gets "next_cursor" (the last row's id,
 * or null when next_id is 0, the last page). Takes o. */
void api_reply_page(struct api_req *q, json_t *o, int64_t next_id);
/* Rejects query args not in allowed (NULL-terminated); 0 = ok (replied otherwise). */
int api_query_check(struct api_req *q, const char *const *allowed);
/* A time query parameter (ISO 8601, a date, or ms) into *out (left when
 * absent); replies 400 invalid_parameter and returns -EINVAL otherwise. */
int api_query_time(struct api_req *q, const char *name, int64_t *out);
/* ---- the audit log (audit.c): who changed what, before → after ----
 * before/after (stolen, may be NULL) are JSON objects of the changed fields.
 * api_audit: the next routing change carries it (routing_audit_attach);
 * api_audit_op: fills a store op, for changes written beside routing. */
void api_audit(struct api_req *q, const char *action, const char *object, json_t *before,
	       json_t *after);
void api_audit_op(struct api_req *q, struct store_op *op, const char *action, const char *object,
		  json_t *before, json_t *after);
/* Drops the fields equal in both (api_audit does it itself). */
void api_audit_strip_equal(json_t *before, json_t *after);
void api_route_audit_list(struct api_req *q);
/* A user's audited fields (no password, only whether a SIP account exists). */
json_t *api_audit_user(const struct st_user *rec, unsigned roles);

/* Async work holds the request (ref + busy count) and releases it after. */
struct api_req *api_req_hold(struct api_req *q);
void api_req_release(struct api_req *q);

/* ---- routes.c ---- */
void api_dispatch(struct api_req *q);

/* ---- static.c: the web workspace (web/dist) ---- */
/* True for /api and /api/…: the REST routes; anything else is a file. */
bool api_path_is_api(const char *path);
/* 0 when the path may be looked up; 400 malformed or "."/".." segments; 404 hidden. */
int api_static_check(const char *path);
/* Content-Type by the path's extension (application/octet-stream if unknown). */
const char *api_static_mime(const char *path);
/* Serves a GET of a non-API path from a->web_root (reads on the pool). */
void api_static_serve(struct api_req *q);
/* Resolves http.web_root ("" = <project>/web/dist beside the binary) into
 * a->web_root; -ENOENT (and a warning) when there is no such folder. */
int api_static_root(struct api *a, const char *configured);

/* ---- auth.c ---- */
int api_sessions_load(struct api *a, const struct st_snapshot *snap);
void api_sessions_free(struct api *a);
/* Finds the session for a bearer token; NULL if unknown or expired. */
struct user *api_session_user(struct api *a, const char *token, char hash_out[65]);
void api_route_login(struct api_req *q);
void api_route_logout(struct api_req *q);
bool api_has_role(const struct user *u, enum role r);
bool api_is_manager(const struct user *u); /* voice_manager or admin */

/* ---- json_req.c: request bodies, decoded defensively (fuzzed) ---- */
struct req_login {
	char user_name[ST_NAME];
	char password[1024];
};
struct req_presence {
	enum presence status;
	char reason[ST_TEXT];
};
struct req_clear {
	char note[ST_NOTE + 1];
	char wrap_up_code[ST_NAME];
};
struct req_user {
	struct st_user rec;
	char password[1024];
	char sip_password[128]; /* "" removes the SIP account */
	unsigned roles;
	bool has_name, has_email, has_mobile, has_business, has_password, has_roles, has_active;
	bool has_sip_password;
};
int req_decode_login(const char *b, size_t n, struct req_login *r, char *err, size_t esz);
/* A browser phone's rtc.* message on the event WebSocket (docs/WEBRTC.md):
 * "type" rtc.<word> required; ref, leg, to, digits, sdp optional strings
 * within their buffers; other fields are ignored (the contract may grow). */
#define REQ_RTC_SDP_MAX 16384
struct req_rtc {
	char type[33], ref[65], leg[33], to[33], digits[33];
	char sdp[REQ_RTC_SDP_MAX + 1];
	bool has_ref, has_leg, has_to, has_digits, has_sdp;
};
int req_decode_rtc(const char *b, size_t n, struct req_rtc *r, char *err, size_t esz);
int req_decode_presence(const char *b, size_t n, struct req_presence *r, char *err, size_t esz);
int req_decode_clear(const char *b, size_t n, struct req_clear *r, char *err, size_t esz);
/* {"text": 1..ST_NOTE bytes, not only spaces} */
int req_decode_note(const char *b, size_t n, char text[ST_NOTE + 1], char *err, size_t esz);
/* create: user_name, name and password required; update: user_name refused. */
int req_decode_user(const char *b, size_t n, bool create, struct req_user *r, char *err,
		    size_t esz);
bool req_valid_user_name(const char *s);
struct req_number {
	char queue[ST_NAME]; /* one of queue and flow */
	char flow[64];
};
struct req_trunk {
	char address[64];  /* "" = none: credentials only */
	char username[64]; /* "" = address only */
	char password[128];
};
int req_decode_number(const char *b, size_t n, struct req_number *r, char *err, size_t esz);
/* POST and PATCH /api/v1/queues: every field optional on PATCH (has_*). */
#define REQ_QUEUE_MEMBERS 256
#define REQ_WRAPUP_CODES  20
struct req_queue {
	char name[41];
	int priority, sl_s, max_wait_s;
	char overflow_queue[ST_NAME]; /* "" = none */
	char hold_music[256];	      /* "" = the default music */
	char strategy[16];
	char sl_abandons[12];		     /* "met", "excluded", "missed" */
	char wrap_up_codes[ST_WRAPUP_CODES]; /* one per line */
	char members[REQ_QUEUE_MEMBERS][ST_NAME];
	int member_prio[REQ_QUEUE_MEMBERS];
	size_t n_members;
	bool has_name, has_priority, has_sl, has_max_wait, has_overflow, has_hold_music;
	bool has_strategy, has_codes, has_members, has_sl_abandons;
};
int req_decode_queue(const char *b, size_t n, bool create, struct req_queue *r, char *err,
		     size_t esz);
/* PUT /api/v1/queues/{name}/members/{user}: {"priority": 1..9}, may be empty. */
int req_decode_member(const char *b, size_t n, int *priority, char *err, size_t esz);
bool req_valid_queue_name(const char *s);
/* At least an address or a username (with a password of 8+ characters). */
int req_decode_trunk(const char *b, size_t n, struct req_trunk *r, char *err, size_t esz);
/* POST (name and number required) and PATCH (one of them at least)
 * /api/v1/quick-connects: a name of 1 to REQ_QC_NAME_CHARS characters on
 * one line, no space at either end; a phone number (req_valid_phone). */
#define REQ_QC_NAME_CHARS 64
struct req_quick_connect {
	char name[ST_QC_NAME];
	char number[ST_PHONE];
	bool has_name, has_number;
};
int req_decode_quick_connect(const char *b, size_t n, bool create, struct req_quick_connect *r,
			     char *err, size_t esz);
/* POST (url, secret and events required; active defaults to true) and PATCH
 * (one field at least) /api/v1/webhooks: an http(s) URL (RFC 3986
 * characters, a host, no credentials, no fragment), a secret of
 * REQ_SECRET_MIN to 256 printable ASCII characters, 1 to 3 distinct event
 * types (a HOOK_EV_BIT mask). */
#define REQ_SECRET_MIN 16
struct req_webhook {
	char url[ST_URL];
	char secret[ST_SECRET];
	unsigned events;
	bool active;
	bool has_url, has_secret, has_events, has_active;
};
int req_decode_webhook(const char *b, size_t n, bool create, struct req_webhook *r, char *err,
		       size_t esz);
/* PUT /api/v1/transcripts/policy/{queue}: {"percent": 0..100} */
int req_decode_transcript_policy(const char *b, size_t n, int *percent, char *err, size_t esz);
/* Why s is not a webhook URL, or NULL when it is one. */
const char *req_webhook_url_problem(const char *s);
/* POST /api/v1/calls: {"record": {"table", "key"}, "phone": "mobile"|"business"} */
struct req_dial {
	char table[24];
	char key[64];
	char phone[16]; /* "" = the first the record has */
};
#define REQ_DTMF_MAX 16 /* digits per request (the media leg's queue) */
struct req_dtmf {
	char digits[REQ_DTMF_MAX + 1];
};
struct req_flag {
	char value[8]; /* "true" | "false" */
};
int req_decode_dial(const char *b, size_t n, struct req_dial *r, char *err, size_t esz);
int req_decode_dtmf(const char *b, size_t n, struct req_dtmf *r, char *err, size_t esz);
/* {"to": {"agent"|"queue"|"number"|"quick_connect": ...}, "mode": "warm"|"blind", "note"} */
struct req_transfer {
	char agent[64], queue[64], number[32]; /* one of them, */
	int quick_connect;		       /* or an external quick connect's id */
	char mode[16];			       /* warm (default) | blind */
	char note[128];
};
int req_decode_transfer(const char *b, size_t n, struct req_transfer *r, char *err, size_t esz);
int req_decode_flag(const char *b, size_t n, struct req_flag *r, char *err, size_t esz);
/* {"mode": "listen"|"whisper"|"barge"|"stop"} */
struct req_monitor {
	char mode[16];
};
int req_decode_monitor(const char *b, size_t n, struct req_monitor *r, char *err, size_t esz);
/* An empty body, or {}. */
int req_decode_none(const char *b, size_t n, char *err, size_t esz);
/* A dialled number as a path segment: 1-31 of 0-9 A-Z a-z + * # . _ - */
bool req_valid_did(const char *s);
bool req_valid_phone(const char *s);

/*
 * A contact, consumer, case or incident (t) to create or update (PATCH: only
 * what is present, w->set). Strings are checked for length, email shape,
 * phone characters and the table's states; a case names its contact with
 * one of contact_user (a user_name), contact (CON…) or consumer (CSM…), an
 * incident its caller (a user_name); "" removes it. Whether that record
 * exists is the store's check. 'number' is refused: the server assigns it.
 */
int req_decode_record(const char *b, size_t n, enum st_table t, bool create,
		      struct st_record_write *w, char *err, size_t esz);
/* The states a case or an incident may be in (NULL-terminated), else NULL. */
const char *const *req_record_states(enum st_table t);

/* ---- records.c: contacts, consumers, cases, incidents ---- */
void api_route_records_list(struct api_req *q);
void api_route_record_create(struct api_req *q);
void api_route_record_get(struct api_req *q);
void api_route_record_update(struct api_req *q);
void api_route_record_delete(struct api_req *q);
/* "call_targets" of a record's phones, or NULL when it has none. */
json_t *view_call_targets(const char *mobile, const char *business);
json_t *view_record(const struct st_record *r);

/* ---- recording.c ---- */
void api_route_recording(struct api_req *q);
void api_route_note_add(struct api_req *q); /* POST /interactions/{n}/notes */

/* ---- telephony.c: dialled numbers and trunks (admins) ---- */
void api_route_numbers_list(struct api_req *q);
void api_route_callable_numbers(struct api_req *q);
void api_route_queues_list(struct api_req *q);
void api_route_queue_get(struct api_req *q);
void api_route_queue_create(struct api_req *q);
void api_route_queue_update(struct api_req *q);
void api_route_queue_delete(struct api_req *q);
void api_route_queue_member(struct api_req *q);
void api_route_number_put(struct api_req *q);
void api_route_number_delete(struct api_req *q);
void api_route_trunks_list(struct api_req *q);
void api_route_trunk_put(struct api_req *q);
void api_route_trunk_delete(struct api_req *q);
/* Parses "bytes=a-b", "bytes=a-", "bytes=-n" against a size: 0 and the
 * inclusive [first, last]; -ERANGE when unsatisfiable; -EINVAL malformed. */
int api_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last);

/* ---- quickconn.c: quick connects (agents, queues, external numbers) ---- */
void api_route_quick_list(struct api_req *q);
void api_route_quick_create(struct api_req *q);
void api_route_quick_update(struct api_req *q);
void api_route_quick_delete(struct api_req *q);

/* ---- webhooks.c: the administrators' webhooks (docs/WEBHOOKS.md) ---- */
void api_route_webhooks_list(struct api_req *q);
void api_route_webhook_create(struct api_req *q);
void api_route_webhook_get(struct api_req *q);
void api_route_webhook_update(struct api_req *q);
void api_route_webhook_delete(struct api_req *q);

/* ---- flows.c: call flows (managers read, admins change) ---- */
void api_route_flows_list(struct api_req *q);
void api_route_flow_get(struct api_req *q);
void api_route_flow_put(struct api_req *q);
void api_route_flow_delete(struct api_req *q);
void api_route_flows_reload(struct api_req *q);

/* ---- calls.c: click-to-call, call controls, flags ---- */
void api_route_call_create(struct api_req *q);
void api_route_call_get(struct api_req *q);
void api_route_calls_list(struct api_req *q);
void api_route_call_action(struct api_req *q);
void api_route_flags_list(struct api_req *q);
void api_route_flag_put(struct api_req *q);

/* ---- reports.c: historical reports (docs/REPORTS.md) ---- */
void api_route_report_queues(struct api_req *q);
void api_route_report_agents(struct api_req *q);
void api_route_report_queue_segments(struct api_req *q);
void api_route_report_agent_segments(struct api_req *q);

/* ---- ws.c ---- */
void api_ws_event(const struct routing_event *ev, void *arg);
/* callctl's messages to a browser's socket (callctl_rtc_sink_set) */
void api_ws_rtc_send(void *arg, uint64_t sock, const struct callctl_rtc_msg *m);
int api_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);
void api_ws_close_all(struct api *a);

/* ---- wallboard.c: the wallboard's JSON (docs/WALLBOARD.md) ---- */
json_t *view_queue_stats(const struct routing_queue_stats *s);
json_t *view_alert(const struct routing_alert *a);
json_t *view_live_call(const struct routing_live_call *l);
/* {"type":"wallboard", day_start, queues, calls, alerts, at} */
json_t *api_wallboard_snapshot(struct api *a);
void api_route_wallboard(struct api_req *q);

/* ---- views.c: JSON of domain objects ---- */
json_t *view_user(const struct routing *r, const struct user *u, bool full);
json_t *view_agent(const struct routing *r, const struct user *u);
json_t *view_queue(const struct routing *r, size_t i);
json_t *view_interaction(const struct routing *r, const struct st_interaction *ix);
/* A contact trace record as GET /api/v1/interactions/{n}/ctr shows it (and
 * as anything that forwards RT_EV_CTR should). */
json_t *view_ctr(const struct st_ctr *c);
json_t *view_time(int64_t ms);

#endif
