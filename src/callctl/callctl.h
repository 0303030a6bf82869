/*
 * callctl.h — call control: the B2BUA that binds SIP legs, media legs and
 * the routing engine into calls (SPEC.md §1–2). The one place where the
 * protocols meet the business rules.
 *
 * Thread: loop thread. Owns the SIP UA (its thread), the media engine, the
 * registrar's bindings, the dialled-number table and every live call.
 */
#ifndef SB_CALLCTL_H
#define SB_CALLCTL_H

#include "core/core.h"
#include "routing/routing.h"
#include "store/store.h"

struct callctl;
struct callctl_cfg {
	char sip_address[64];
	int sip_port;
	char realm[64];
	char rtp_address[64];
	int rtp_min, rtp_max;
	int media_workers;	/* media threads (0: mw_default_count) */
	int media_workers_nice; /* their nice value (0: as the process) */
	char record_dir[512];
	int max_calls;		 /* live calls before 503 */
	int ack_timeout_ms;	 /* an answered inbound call with no ACK is dropped */
	int greeting_ms;	 /* before the caller enters the queue */
	int offer_timeout_ms;	 /* ring an agent this long */
	int wrapup_timeout_ms;	 /* AfterCallWork before the system clears it; 0 = never */
	char greeting_wav[512];	 /* played before the queue ("" = a beep); the greeting
				   lasts at least as long as the prompt */
	char hold_wav[512];	 /* looping hold music ("" = the built-in tune) */
	char flows_dir[512];	 /* call flows: <name>.yaml files */
	char outbound_uri[128];	 /* a flow's transfers: "sip:host[:port]", "" = none */
	int transfer_timeout_ms; /* a transfer rings this long before its failed branch */
	int dial_timeout_ms;	 /* click-to-call: the customer rings this long */
	int demo_customer_port;	 /* demo: a built-in customer answers outbound calls on this
				    port (from there on) when outbound_uri is "" (0 = none) */
};

int callctl_alloc(struct callctl **ccp, uv_loop_t *loop, const struct callctl_cfg *cfg,
		  struct routing *r, const struct st_snapshot *snap);
/* HA1 = MD5(user:realm:password) for a SIP account (users' and trunks'),
 * as the registrar checks it: the API stores it without reaching into sip/. */
void callctl_sip_ha1(const char *user, const char *realm, const char *password, char ha1[33]);
/* Hangs up every call and stops SIP and media; run the loop after it. */
void callctl_free(struct callctl *cc);
size_t callctl_calls(const struct callctl *cc);
/* The path of an interaction's recording, "" when it has none. */
int callctl_recording_path(const struct callctl *cc, const char *ix_number, char *path,
			   size_t size);
/*
 * Dialled numbers and trunks, changed live by the admin API (which stores
 * them). number_set: did → queue; trunk_set: by name (at most 32 trunks:
 * -ENOSPC). The deletes return -ENOENT when there is no such entry.
 */
int callctl_number_set(struct callctl *cc, const char *did, int64_t queue_id);
int callctl_number_delete(struct callctl *cc, const char *did);
/* The queue column of a number (0 = no such number). */
int64_t callctl_number_queue(const struct callctl *cc, const char *did);
/* A number runs a loaded flow instead (-ENOENT: no flow of that name). */
int callctl_number_set_flow(struct callctl *cc, const char *did, const char *flow);
/* flow: "" when the number leads straight to queue_id. */
typedef void(callctl_number_h)(const char *did, int64_t queue_id, const char *flow, void *arg);
void callctl_numbers_each(const struct callctl *cc, callctl_number_h *h, void *arg);
int callctl_trunk_set(struct callctl *cc, const struct st_trunk *t);
int callctl_trunk_delete(struct callctl *cc, const char *name);
size_t callctl_trunk_count(const struct callctl *cc);
const struct st_trunk *callctl_trunk_at(const struct callctl *cc, size_t i);

/*
 * Call flows (docs/FLOWS.md), changed live by the admin API and SIGHUP. A
 * call in a flow keeps the version it started with; the next call gets the
 * new one. Every change is all or nothing and one runs at a time: another
 * change meanwhile gets -EBUSY (a reload without a callback, i.e. SIGHUP,
 * runs after it instead). Errors: -EINVAL (the flow does not load or names
 * no such queue: fe says file, line and block), CC_ECONFLICT (a number
 * would lose its flow: fe says which), -ENOENT (no such flow), -errno of a
 * file write. `done` runs on the loop with the outcome (-ECANCELED when
 * call control went away first); `fe` is valid during the call only.
 */
#define CALLCTL_FLOW_NAME_MAX 60 /* a flow's name: 1-60 of a-z 0-9 _ - */
struct callctl_flow_err {
	char message[700]; /* "main.yaml:23: block 'menu': ..." */
	char file[600];
	int line;	/* 0 = none */
	char block[64]; /* "" = none */
};
typedef void(callctl_flow_h)(int err, const struct callctl_flow_err *fe, void *arg);
bool callctl_flow_name_ok(const char *name);
/* Reads every <name>.yaml of calls.flows_dir on the pool; swaps the set. */
int callctl_flows_reload(struct callctl *cc, callctl_flow_h *done, void *arg);
/* Validates the YAML now (the error, if any, in fe); writes
 * <flows_dir>/<name>.yaml atomically on the pool; then swaps it in. */
int callctl_flow_put(struct callctl *cc, const char *name, const char *yaml, size_t len,
		     struct callctl_flow_err *fe, callctl_flow_h *done, void *arg);
/* Deletes the flow and its file; CC_ECONFLICT while a number runs it. */
int callctl_flow_delete(struct callctl *cc, const char *name, struct callctl_flow_err *fe,
			callctl_flow_h *done, void *arg);
struct callctl_flow_info {
	char name[CALLCTL_FLOW_NAME_MAX + 1];
	char file[600];
	size_t blocks;
	int64_t loaded_at;  /* ms since 1970 */
	char numbers[512];  /* the numbers that run it, comma-separated */
	const char *source; /* the YAML it was loaded from (borrowed) */
	size_t source_len;
};
typedef void(callctl_flow_each_h)(const struct callctl_flow_info *fi, void *arg);
void callctl_flows_each(const struct callctl *cc, callctl_flow_each_h *h, void *arg);
/* The loaded flows' prompts, the bot's sample phrases and answers, one a
 * line (*textp malloc'd, NULL when there is none): text the callers and
 * the bot say, for the transcripts' domain language model. */
int callctl_flow_text(const struct callctl *cc, char **textp, size_t *lenp);
/* A recording closed (the call ended): its interaction and the queue it
 * was taken from (0 = none). Loop thread; set once by main. */
typedef void(callctl_recorded_h)(int64_t ix_id, const char *ix_number, int64_t queue_id, void *arg);
void callctl_recorded_handler_set(struct callctl *cc, callctl_recorded_h *h, void *arg);
int callctl_flow_get(const struct callctl *cc, const char *name, struct callctl_flow_info *fi);

/* What stops a queue being deleted or renamed: a dialled number that leads
 * to it (by id) or a flow's queue block that names it. true and a sentence
 * in why ("number 5000 leads to it", "flow main (main.yaml:12) names it"). */
bool callctl_queue_in_use(const struct callctl *cc, int64_t queue_id, const char *name,
			  bool numbers_too, char *why, size_t size);
/* Loads a hold music file (relative to calls.flows_dir) as queues play it;
 * 0, or -errno with the reason in err. */
int callctl_music_check(struct callctl *cc, const char *file, char *err, size_t size);

/* Registered contact of an agent, or NULL. */
const char *callctl_agent_contact(const struct callctl *cc, const struct user *u);

/* ---- click-to-call and call controls (callctl/outbound.c) ---- */
/* A record to call (SPEC.md §3): table "user" now (contact, consumer, case
 * and incident come with the records), key its user_name; phone "mobile",
 * "business", or "" for the first there is (mobile, then business). */
struct callctl_target {
	char table[24];
	char key[64];
	char phone[16];
	/* for the records' tables (contact, consumer, case, incident), read from
	 * the store by the caller first (store_call_target): the number to call
	 * and whom it reaches */
	char number[32];
	char name[128];
};
struct callctl_resolved {
	char number[32]; /* as stored on the record */
	char name[128];	 /* the record's display name */
	char linked[64]; /* the key written to the interaction */
	const char *via; /* "registration" | "outbound_uri" | NULL: no route */
	char uri[200];	 /* where the customer's phone is called */
};
/*
 * Finds the number to call and the route to it: the target user's
 * registered device when they have one, else calls.outbound_uri with the
 * number's digits. A record of another table than user comes with its
 * number (t->number) from the store, and reaches the registered device of
 * the user who has that phone, if any. Errors: -EPROTONOSUPPORT (another
 * table without t->number), CC_ENOTFOUND (no such user), -ENODATA (the
 * user has no such phone).
 * A record with a number but no route has via NULL.
 */
int callctl_target_resolve(struct callctl *cc, const struct callctl_target *t,
			   struct callctl_resolved *out);
/*
 * The agent u clicks to call t: the checks (roles: CC_EFORBIDDEN; presence:
 * CC_EILLEGAL; u's phone not registered: -ENODEV; no route: -ENETUNREACH;
 * capacity: -EBUSY; and callctl_target_resolve's), the interaction
 * (routing_outbound_open), then the agent's phone is called with
 * auto-answer. Nothing is placed or written when it fails. ix_number
 * (ST_NUMBER bytes) gets the interaction's number; done runs after the
 * interaction is committed. The outcome follows as events.
 */
int callctl_dial(struct callctl *cc, struct user *u, const struct callctl_target *t,
		 struct callctl_resolved *res, char *ix_number, routing_done_h *done, void *arg);

enum callctl_action {
	CALLCTL_ACCEPT, /* an offer: ask the phone to answer (re-rings it with auto-answer) */
	CALLCTL_REJECT, /* an offer: the next agent; this one goes Missed */
	CALLCTL_HOLD,	/* the customer hears hold music, the agent silence */
	CALLCTL_RESUME,
	CALLCTL_MUTE, /* the agent's audio is not sent to the customer */
	CALLCTL_UNMUTE,
	CALLCTL_END, /* End call: both legs hung up (click-to-call not yet connected: cancelled) */
};
const char *callctl_action_name(enum callctl_action a);
int callctl_action_parse(const char *s, enum callctl_action *a);
/* The agent of a live call (ringing them or on it), and whether it is an
 * offer still ringing; NULL when there is no live call of that number. */
struct user *callctl_call_agent(struct callctl *cc, const char *ix_number, bool *offering);
/* CC_ENOTFOUND: no live call; CC_EILLEGAL: not in this state (hold while
 * not connected, accept of an answered call …). A repeat (hold when held)
 * is a no-op. */
int callctl_call_action(struct callctl *cc, const char *ix_number, enum callctl_action a,
			const char *actor);
/* ---- transfers between agents (callctl/xfer.c; SPEC.md §6) ---- */
/* Who is on a live call: its agent (assigned), the second agent of a
 * transfer in progress (NULL: none) and the phase (the call table's state
 * name). CC_ENOTFOUND: no live call of that number. */
#define CALLCTL_MAX_PARTIES 4
/* A browser leg's call quality from RTCP (docs/WEBRTC.md "RTCP"): what the
 * server measures of the browser's audio and what the browser's reports
 * say of the server's. */
struct callctl_rtc_quality {
	uint64_t rx_packets;
	int64_t rx_lost;
	double rx_fraction, rx_jitter_ms;
	bool has_remote; /* the browser has reported */
	int64_t remote_lost;
	double remote_fraction, remote_jitter_ms;
	int32_t rtt_ms; /* -1: none yet */
};
struct callctl_party {
	const char *role;  /* customer, agent, consult, supervisor, external */
	struct user *user; /* an agent's or consult leg: whose phone; else NULL */
	const char *state; /* the leg's: dialling, up, held, ending, ... */
	bool has_rtc;	   /* a browser leg: rtc holds its quality */
	struct callctl_rtc_quality rtc;
};
struct callctl_parties {
	struct user *agent, *second;
	bool offering;	     /* an offer rings the agent */
	bool second_ringing; /* the transfer rings the second agent */
	bool first_on;	     /* the agent's phone is on the call */
	bool customer_held;  /* the customer hears hold music (hold, or a transfer) */
	const char *phase;
	const char *queue; /* a transfer's queue while the customer waits in it, else NULL */
	struct callctl_party legs[CALLCTL_MAX_PARTIES];
	size_t n_legs;
};
int callctl_call_parties(struct callctl *cc, const char *ix_number, struct callctl_parties *p);
enum callctl_xfer_mode { CALLCTL_XFER_WARM, CALLCTL_XFER_BLIND };
/* Where a transfer goes: one of agent, queue_id, number. */
struct callctl_xfer_to {
	struct user *agent;
	int64_t queue_id;
	const char *number; /* an external number (blind only) */
	const char *label;  /* its name for the records ("Legal desk"), NULL = none */
};
/*
 * The call's agent `by` transfers it (note: why, for the screen pop and the
 * activity, may be ""): to an agent, the customer is put on hold and their
 * phone rings; to a queue, the customer waits there on hold and the next
 * agent there is offered it the same way; to an external number (blind
 * only) it is dialled and `by` leaves. Blind: `by` leaves at once. Errors,
 * with *why in words: CC_ENOTFOUND (no live call), CC_EFORBIDDEN (not by's
 * call), CC_EILLEGAL (not connected, or a transfer in progress), -EINVAL
 * (to yourself), CC_ECONFLICT (the agent cannot take it: roles, not
 * Available, on or offered another call, phone not registered), -ENOTSUP
 * (a warm transfer to an external number), -ENETUNREACH (no outbound
 * route), -EIO / -EADDRINUSE (the phone could not be called).
 */
int callctl_transfer(struct callctl *cc, const char *ix_number, struct user *by,
		     const struct callctl_xfer_to *to, enum callctl_xfer_mode mode,
		     const char *note, const char **why);
enum callctl_xfer_step {
	CALLCTL_JOIN,		 /* the second agent brings the customer in */
	CALLCTL_LEAVE,		 /* either agent leaves (the first: reassigned) */
	CALLCTL_CANCEL_TRANSFER, /* the first agent, before the join */
};
/* CC_ENOTFOUND, CC_EFORBIDDEN (not by's to do), CC_EILLEGAL (not in this
 * phase); *why says which. */
int callctl_transfer_step(struct callctl *cc, const char *ix_number, struct user *by,
			  enum callctl_xfer_step step, const char **why);

/* ---- live calls, for managers (monitor.c) ---- */
/* As routing_live_call (the wallboard's event carries the same). */
#define callctl_live routing_live_call
/* Up to max live calls (not yet ending), in no particular order; the count. */
size_t callctl_live_calls(struct callctl *cc, struct callctl_live *out, size_t max);

/* ---- monitoring (callctl/monitor.c; SPEC.md §8) ---- */
enum callctl_monitor_mode {
	CALLCTL_MONITOR_LISTEN,
	CALLCTL_MONITOR_WHISPER,
	CALLCTL_MONITOR_BARGE
};
/* "listen" | "whisper" | "barge": 0, or -EINVAL. */
int callctl_monitor_mode_parse(const char *s, enum callctl_monitor_mode *m);
/*
 * Manager `by` monitors the call: their registered phone is rung (auto-answer)
 * and joins the call's conference in the mode; on a session of theirs
 * already running, the mode changes (no new ring). Errors, *why in words:
 * CC_ENOTFOUND (no live call), CC_EILLEGAL (not connected; whisper with no
 * agent), CC_ECONFLICT (another manager monitors it), -ENODEV (by's phone not
 * registered), -EIO (it could not be called), -ENOSPC (too many legs).
 */
int callctl_monitor(struct callctl *cc, const char *ix_number, struct user *by,
		    enum callctl_monitor_mode mode, const char **why);
/* Ends by's session: CC_ENOTFOUND, CC_EILLEGAL (not theirs, or none). */
int callctl_monitor_stop(struct callctl *cc, const char *ix_number, struct user *by,
			 const char **why);
/* The session on a call, if any: who, the mode, their leg's state. */
int callctl_monitor_state(struct callctl *cc, const char *ix_number, const struct user **by,
			  const char **mode, const char **leg_state);

/* RFC 4733 digits to the customer (0-9 * # A-D, at most 32 queued): CC_EILLEGAL
 * when not connected, -ENOTSUP when the customer's phone takes no
 * telephone-event, -ENOBUFS when too many are queued. */
int callctl_call_dtmf(struct callctl *cc, const char *ix_number, const char *digits);

/*
 * The browser phone (browser.c, issue 15; the contract is docs/WEBRTC.md
 * "Signalling"): WebRTC legs signalled over the event WebSocket. The API
 * hands each rtc.* message of a socket to callctl_rtc_request with the
 * socket's id and signed-in user; what call control says to a socket goes
 * out through the sink as a callctl_rtc_msg (the API renders it as JSON:
 * the non-NULL fields, plus "registered"/"auto_answer" for the kinds that
 * carry them). A closed socket: callctl_rtc_closed. Thread: loop.
 */
struct callctl_rtc_msg {
	const char *type; /* "rtc.offer", "rtc.answer", "rtc.end", "rtc.error", ... */
	const char *ref, *leg, *sdp, *interaction, *reason, *state, *why, *code, *message;
	bool auto_answer; /* rtc.offer: the agent accepted already (API Accept, monitoring) */
};
typedef void(callctl_rtc_send_h)(void *arg, uint64_t sock, const struct callctl_rtc_msg *m);
void callctl_rtc_sink_set(struct callctl *cc, callctl_rtc_send_h *h, void *arg);
/* A client message (fields NULL when absent). */
struct callctl_rtc_req {
	const char *type, *ref, *leg, *sdp, *to, *digits;
};
void callctl_rtc_request(struct callctl *cc, uint64_t sock, struct user *u,
			 const struct callctl_rtc_req *rq);
/* An rtc.* message the API could not decode: rtc.error "bad_request". */
void callctl_rtc_bad_request(struct callctl *cc, uint64_t sock, const char *ref,
			     const char *message);
void callctl_rtc_closed(struct callctl *cc, uint64_t sock);
struct callctl_rtc_stats {
	uint64_t legs, connected, failed; /* WebRTC legs of the process */
	uint64_t stun_bad, stun_auth, dtls_bad, dtls_fail, fp_mismatch, srtp_auth, srtp_replay;
	uint64_t srtp_bad, demux_bad, consent_fail;
	uint64_t rtcp_in, rtcp_out, rtcp_bad; /* SRTCP reports received / sent / malformed */
	uint64_t forbidden;   /* rtc.* messages about a leg that is not the socket's */
	uint64_t bad_request; /* rtc.* messages that did not decode */
	size_t browsers;      /* agents' browsers registered now */
	size_t live;	      /* WebRTC legs live now */
};
void callctl_rtc_stats(const struct callctl *cc, struct callctl_rtc_stats *st);

/* The media workers' figures (as of their last push, at most 500 ms old):
 * how many workers there are (0 without the voice core), at most max of
 * them written to st. */
#define CALLCTL_WORKERS_MAX 64
struct callctl_worker_stats {
	uint64_t legs, legs_total, cpu_ns, rx_packets, rx_lost, clock_late;
};
int callctl_media_workers(const struct callctl *cc, struct callctl_worker_stats *st, int max);

#endif
