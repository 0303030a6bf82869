/* callctl_int.h — structures private to callctl/. */
#ifndef SB_CALLCTL_INT_H
#define SB_CALLCTL_INT_H

#include "callctl/callctl.h"
#include "asr/asr.h"
#include "flow/flow.h"
#include "media/media.h"
#include "sip/sip.h"
#include "tts/tts.h"
#include <uthash.h>

/* ---- the call's phases and the events that move them (call.c) ---- */
enum call_state {
	CALL_NEW,	   /* created; nothing answered yet */
	CALL_FLOW,	   /* answered, in its call flow (flowctl.c) */
	CALL_GREETING,	   /* answered, greeting plays; not yet queued */
	CALL_QUEUED,	   /* hold music; waiting for an agent */
	CALL_OFFERING,	   /* an agent's phone rings */
	CALL_BRIDGED,	   /* the customer and the agent (or external number) talk; recorded */
	CALL_TRANSFER,	   /* the flow transfers: the external number rings (transfer.c) */
	CALL_OUT_AGENT,	   /* click-to-call: the agent's own phone rings (outbound.c) */
	CALL_OUT_CUSTOMER, /* click-to-call: the customer rings; the agent hears the notice */
	CALL_XFER_QUEUED,  /* a transfer to a queue: the customer waits there on hold */
	CALL_XFER_RING,	   /* a transfer: the second agent's phone rings; the customer on hold */
	CALL_CONSULT,	   /* the two agents talk; the customer on hold (xfer.c) */
	CALL_CONFERENCE,   /* the second agent joined: three parties hear each other */
	CALL_ENDING,	   /* hung up; waiting for the other legs to end */
	CALL_GONE,	   /* every leg ended; released (async work may still hold it) */
	CALL__N
};

enum call_ev {
	CEV_FLOW,	   /* the number runs a flow (arg: flow) */
	CEV_GREET,	   /* the number leads straight to a queue: the greeting */
	CEV_DIAL,	   /* click-to-call: ring the agent's own phone (arg: contact) */
	CEV_ENQUEUE,	   /* into a queue (arg: queue_id, priority) */
	CEV_OFFER,	   /* routing offers the call: the agent's phone rings */
	CEV_OFFER_CANCEL,  /* routing takes the offer back */
	CEV_OFFER_FAIL,	   /* not taken: rejected, no answer, unusable answer (arg: why) */
	CEV_ACCEPT,	   /* Accept from the API: re-ring with auto-answer */
	CEV_OVERFLOW,	   /* a flow's queue block waited its max: resume (arg: block) */
	CEV_TRANSFER,	   /* a flow's transfer block (arg: flow block) */
	CEV_TRANSFER_FAIL, /* the transfer did not connect (arg: why, NULL: no route) */
	CEV_OUT_FAIL,	   /* click-to-call did not connect (arg: why) */
	CEV_CUSTOMER_UP,   /* the customer's leg answered with usable media */
	CEV_CUSTOMER_GONE, /* the customer's leg ended (BYE, CANCEL, failure) */
	CEV_AGENT_UP,	   /* the agent's leg answered, usable, routing gave them the call */
	CEV_AGENT_GONE,	   /* the agent's leg ended (arg: why) */
	CEV_EXTERNAL_UP,   /* the transfer's far end answered with usable media */
	CEV_EXTERNAL_GONE, /* the far end's leg ended (arg: why) */
	CEV_HANGUP,	   /* we end it before any agent: as if the caller hung up */
	CEV_END,	   /* we end it (End call): the agent goes to wrap-up */
	CEV_SETTLED,	   /* hung up what was up: release when nothing remains */
	CEV_XFER,	   /* the agent transfers to another agent (arg: user; xfer.c) */
	CEV_XFER_QUEUE,	   /* ... to a queue (arg: queue_id) */
	CEV_XFER_EXTERNAL, /* ... to an external number, blind (c->xfer_number) */
	CEV_CONSULT_UP,	   /* the second agent's leg answered with usable media */
	CEV_CONSULT_FAIL,  /* ... did not (rejected, no answer, unusable: arg why) */
	CEV_CONSULT_GONE,  /* the second agent's leg ended after it was up */
	CEV_XFER_CANCEL,   /* the first agent cancels before the join */
	CEV_JOIN,	   /* the second agent brings the customer in */
	CEV_LEAVE,	   /* an agent leaves (arg: leg, theirs) */
	CEV_SHUTDOWN,	   /* call control stops: released in any state */
	CEV__N
};

/* ---- legs (call.c): a role and a small machine each ---- */
/* LEG_TRANSFEROR: the first agent's phone's own consult call to the second
 * agent (an attended transfer from a desk phone, xfer.c) */
enum leg_role {
	LEG_CUSTOMER,
	LEG_AGENT,
	LEG_CONSULT,
	LEG_SUPERVISOR,
	LEG_EXTERNAL,
	LEG_TRANSFEROR,
	LEG_ROLE__N
};
enum leg_state {
	LEG_IDLE,     /* no SIP leg (never had one, or released) */
	LEG_DIALLING, /* we sent an INVITE: ringing */
	LEG_UP,	      /* answered */
	LEG_HELD,     /* the phone put us on hold (re-INVITE sendonly/inactive) */
	LEG_ENDING,   /* we sent BYE/CANCEL: waiting for the end */
	LEG_GONE,     /* ended */
	LEG__N
};

#define CALL_MAX_LEGS 6 /* customer, agent or external, consult, transferor; supervisor next */
struct call;
struct cleg;
struct callctl;
struct prompt_file;
struct flow_block;
struct flow;

/*
 * A leg's transport (endpoint.c: SIP signalling + RTP media). Call control
 * uses nothing else of sip/ and media/ for a call's legs; tests put a
 * recording fake here. Errors: 0, a SIP status (answer), or -errno.
 */
#define LEG_OPS_VERSION 3
struct leg_ops {
	int version;
	const char *name;
	/* an inbound leg refused before any call exists */
	void (*refuse)(struct callctl *cc, sip_leg_t leg, int status, const char *reason);
	int (*media)(struct cleg *l); /* media for l (if none yet) */
	int (*answer)(struct cleg *l,
		      const char *offer); /* media + 200 with our SDP; or a status */
	/* media + INVITE with our offer; binds l->leg (call_leg_bind) */
	int (*dial)(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		    bool auto_answer);
	int (*remote)(struct cleg *l, const char *sdp); /* the answer's SDP: 0, or -1 unusable */
	int (*reoffer)(struct cleg *l, const char *sdp, bool *hold); /* a re-INVITE's SDP */
	void (*hangup)(struct cleg *l);				     /* BYE or CANCEL */
	/* the answer to a REFER from the leg's phone (202, or a refusal) */
	int (*refer_reply)(struct cleg *l, int status, const char *reason);
	void (*release)(struct cleg *l); /* unbridge; free the media */
	int (*play)(struct cleg *l, const int16_t *pcm, size_t n, bool loop);
	int (*play_ref)(struct cleg *l, int16_t *pcm, size_t n, bool loop); /* refcounted pcm */
	void (*stop)(struct cleg *l);
	void (*stats)(const struct cleg *l, struct media_stats *st);
	int (*send_dtmf)(struct cleg *l, char digit);
	void (*on_dtmf)(struct cleg *l, mleg_dtmf_h *h, void *arg);
	void (*on_audio)(struct cleg *l, mleg_audio_h *h, void *arg);
	/* The call's conference (made on the first join, c->conf): l joins in
	 * a mode (target: a whisper's listener), changes mode, or leaves it.
	 * Two members that hear each other are a plain bridge (relay). */
	int (*join)(struct cleg *l, enum mixer_mode mode, struct cleg *target);
	int (*leave)(struct cleg *l);
	/* customer's channel, and what the customer hears */
	int (*record_start)(struct cleg *customer, const char *path);
	int (*record_stop)(struct call *c, media_record_done_h *done, void *arg);
	void (*conf_free)(struct call *c); /* after the last leg is released */
};
extern const struct leg_ops sip_leg_ops;
/* callctl_alloc with another transport (tests): no SIP UA, no RTP engine;
 * SIP events come in through callctl_sip_event. */
int callctl_alloc_ops(struct callctl **ccp, uv_loop_t *loop, const struct callctl_cfg *cfg,
		      struct routing *r, const struct st_snapshot *snap, const struct leg_ops *ops);
void callctl_sip_event(const struct sip_event *ev, void *cc);
/* endpoint.c, for democust.c (a far end of its own): applies an offer to m
 * and writes our answer; the codec, or -1. */
int endpoint_sdp_answer(struct callctl *cc, struct mleg *m, const char *offer, char *buf,
			size_t size);
/* endpoint.c, for browser.c: l's media as a leg of the main loop's engine
 * (l->lm, for a WebRTC transport) with its stand-in on the call's worker
 * (l->m). -EADDRINUSE. */
int endpoint_media_local(struct cleg *l);

/* What a flow's queue block asks of the wait (queueopts.c); zero = none. */
struct call_qopts {
	int max_wait_s, announce_every_s;
	int overflow;	      /* block index to resume at */
	char overflow_to[80]; /* for the activity: "Billing" or "block 'x'" */
	char queue[64];	      /* the queue's name */
	int16_t *music;	      /* a reference to shared samples, NULL: default */
	size_t music_n;
	int64_t since_ms;	   /* entered the queue */
	bool overflow_due;	   /* max wait passed while an offer rang */
	int64_t overflow_queue_id; /* the queue's own overflow (not the flow's), 0 = none */
	bool announcing;	   /* an announcement plays (announce_timer: its end) */
	unsigned announce_seq;	   /* a late TTS result is dropped */
};

/* One leg of a call: its transport behind ops (endpoint.c: SIP + RTP). */
struct leg_ops;
struct cleg {
	const struct leg_ops *ops;
	sip_leg_t leg;	 /* the signalling leg's id, 0 = none */
	struct mwleg *m; /* the endpoint's media handle: call control only tests it for NULL */
	struct mleg *lm; /* a browser's leg on the main loop's engine (its WebRTC transport);
			    m is then its stand-in on the call's worker */
	struct call *call;
	enum leg_role role;
	enum leg_state state;
	unsigned seq;	   /* the call's n-th leg (0: the first): media ids differ */
	struct user *user; /* an agent's or consult leg: whose phone */
	UT_hash_handle hh; /* by leg id */
};

/* What an event carries (call_event); unused fields zero. */
struct call_arg {
	struct cleg *leg;	     /* the leg the event is about */
	const struct sip_event *sip; /* the SIP event, if any */
	const char *why;	     /* a failure's reason */
	const char *contact;	     /* CEV_DIAL: the agent's contact */
	int64_t queue_id;	     /* CEV_ENQUEUE */
	int priority;		     /* CEV_ENQUEUE */
	int block;		     /* CEV_OVERFLOW: the flow block to resume at */
	const struct flow_block *fb; /* CEV_TRANSFER */
	const struct flow *flow;     /* CEV_FLOW */
	struct user *user;	     /* CEV_XFER: the second agent */
	const char *actor;	     /* who asked (API), for the records */
};
typedef bool(call_guard_h)(const struct call *c, const struct call_arg *a);
typedef void(call_action_h)(struct call *c, enum call_state from, struct call_arg *a);
struct call_row {
	enum call_state state;
	enum call_ev event;
	call_guard_h *guard; /* NULL: always */
	enum call_state next;
	call_action_h *action; /* NULL: none */
};

struct call {
	struct callctl *cc;
	uint64_t id;
	int64_t queue_id;
	int64_t ix_id;
	char ix_number[ST_NUMBER];
	enum call_state state; /* written by call_event() only (call.c) */
	int64_t state_since;   /* ms: when it entered it */
	/* the legs, each holding one reference: [0] the customer's while the
	 * call lives, then the agent's or the external number's (call.c) */
	struct cleg *legs[CALL_MAX_LEGS];
	size_t n_legs;
	struct mwconf *conf; /* the legs' conference: the endpoint's (call control tests NULL) */
	int worker;	     /* the media worker of its legs and conference, -1 before the first */
	unsigned legs_made;  /* legs ever made, for cleg.seq */
	struct user *agent_user;
	uv_timer_t *timer;	 /* greeting end / offer timeout */
	uv_timer_t *audio_timer; /* the bridge's no-audio check (callctl.c) */
	bool recording;
	/* in a call flow */
	struct flow_call *fc;
	uv_timer_t *prompt_timer, *flow_timer;
	unsigned prompt_seq;	/* which prompt is current (a late TTS result is dropped) */
	struct bot_listen *bot; /* while a bot block listens (botctl.c) */
	unsigned listen_seq;	/* which listen is current (a late result is dropped) */
	char caller_number[64];
	/* waiting in a flow's queue block */
	struct call_qopts q;
	uv_timer_t *wait_timer, *announce_timer;
	/* a flow's transfer (transfer.c): the far end is the EXTERNAL leg */
	int xfer_failed; /* the block's failed branch, -1 = none */
	char xfer_number[32];
	/* click-to-call (outbound.c): the customer is the `caller` leg, the
	 * agent's own phone the `agent` leg; what the call is, not a phase */
	bool outbound;
	char out_uri[200];  /* where the customer is dialled */
	char out_name[128]; /* the customer's name, shown on the agent's phone */
	int64_t out_t0_us;  /* the API call, for the setup-time log */
	/* the API's call controls */
	bool held, muted;
	/* a transfer to another agent (xfer.c): the second agent, why */
	struct user *xfer_user;
	char xfer_note[128];
	char xfer_by[64];      /* the first agent's user_name */
	int64_t xfer_queue_id; /* a transfer to a queue: the queue, 0 = to an agent */
	char xfer_queue[64];   /* its name */
	char xfer_label[80];   /* an external number's name ("Legal desk"), "" = none */
	char *xfer_offer; /* the transferor leg's INVITE SDP, answered when the second agent is */
	enum callctl_monitor_mode mon_mode; /* the SUPERVISOR leg's mode (monitor.c) */
	UT_hash_handle hh;		    /* by ix_id */
};

struct binding {
	int64_t user_id;
	char contact[256];
	int64_t expires_at;
	UT_hash_handle hh;
};

struct number {
	char did[32];
	int64_t queue_id;
	char flow[64];	       /* "" = straight to the queue */
	const struct flow *fl; /* resolved when flows load */
	UT_hash_handle hh;
};

/* A loaded flow, by name (the file's base name); holds one reference. */
struct flow_entry {
	char name[64];
	struct flow *f;
	char file[600];
	char *src; /* the YAML it was loaded from */
	size_t src_len;
	int64_t loaded_at; /* ms */
	UT_hash_handle hh;
};
struct flow_job;

/* A prompt file, loaded once. */
struct prompt_file {
	char *path;
	int16_t *pcm;
	size_t n;
	UT_hash_handle hh;
};

#define CALLCTL_MAX_TRUNKS 32
struct callctl {
	uv_loop_t *loop;
	callctl_recorded_h *recorded_h; /* a recording closed (main: transcripts) */
	void *recorded_arg;
	const struct leg_ops *leg_ops; /* every leg's transport (sip_leg_ops) */
	struct callctl_cfg cfg;
	struct routing *r;
	struct sip_ua *ua;
	struct media *media; /* the main loop's engine: browsers' legs, the ports */
	struct mw *mw;	     /* the media workers: every call's legs and conference */
	struct call *calls;  /* by ix_id */
	struct cleg *legs;   /* by SIP leg id */
	struct binding *bindings;
	uv_timer_t *reg_sweep;	   /* expired bindings (registrar.c) */
	struct democust *democust; /* the demo's customers (democust.c), or NULL */
	struct number *numbers;
	struct st_trunk trunks[CALLCTL_MAX_TRUNKS];
	size_t n_trunks;
	size_t n_calls;
	uint64_t next_call_id;
	int16_t *greeting, *hold; /* from files, or NULL: the built-in beep and tune */
	size_t greeting_n, hold_n;
	struct flow_entry *flows;
	struct flow_job *flow_job; /* the flow change in flight (flowset.c) */
	bool reload_pending;	   /* a SIGHUP came meanwhile */
	struct prompt_file *prompts;
	struct tts *tts;
	struct asr *asr;	 /* when a flow has a bot with phrases */
	struct browser *browser; /* the browser phones and their WebRTC legs (browser.c) */
};

/* call.c: the table */
int call_event(struct call *c, enum call_ev ev, struct call_arg *a); /* 0 or CC_EILLEGAL */
/* The call's phase, queue, agents or intent changed: RT_EV_LIVE to the
 * wallboard (monitor.c); a call without an interaction yet is not shown. */
void call_live_announce(struct call *c);
const char *call_state_name(enum call_state s);
const char *call_event_name(enum call_ev e);
const char *cleg_state_name(enum leg_state s);
const char *cleg_role_name(enum leg_role r);
const struct call_row *call_rows(size_t *n); /* for tests */
unsigned call_row_hits(size_t i);	     /* times row i was taken */
void cleg_state_set(struct cleg *l, enum leg_state to);
/* The call's legs: a new one (refcounted, the call's list holds it; its
 * transport cc->leg_ops), dropped (released, out of the list, deref'd). */
int call_leg_new(struct call *c, enum leg_role role, struct cleg **lp);
void call_leg_drop(struct call *c, struct cleg *l);
struct cleg *call_leg(const struct call *c, enum leg_role role); /* the first, or NULL */
struct cleg *call_customer(const struct call *c); /* NULL once the call is released */
struct cleg *call_peer(const struct call *c);	  /* the agent's or external leg, or NULL */
bool cleg_done(const struct cleg *l);		  /* idle or gone */
/* Async work on a call holds a reference (call.c): */
struct call_work {
	struct call *c;
	unsigned seq;		    /* which prompt / listen / announcement */
	uint64_t t0;		    /* when it began (ns), for timing logs */
	const struct flow_block *b; /* the block it is for */
};
struct call_work *call_work_new(struct call *c, unsigned seq); /* NULL: out of memory */
struct call *call_work_call(const struct call_work *w);	       /* NULL once the call is gone */
void call_work_free(struct call_work *w);

/* the table's actions (each in the file of its feature) */
call_action_h act_flow_start, act_greet, act_caller_closes, act_dial_agent, act_out_fail;
call_action_h act_enqueue, act_customer_gone, act_transfer_start, act_offer;
call_action_h act_overflow_resume, act_bridge, act_offer_failed, act_offer_cancelled;
call_action_h act_accept, act_transfer_bridged, act_transfer_failed, act_customer_dial;
call_action_h act_out_connected, act_end, act_release;
call_action_h act_xfer_start, act_consult_up, act_xfer_complete, act_xfer_failed;
call_action_h act_xfer_orphaned, act_xfer_cancel, act_first_left, act_first_left_complete;
call_action_h act_join, act_consult_gone, act_xfer_accept;
call_action_h act_xferq_start, act_xferq_offer, act_xferq_missed, act_xfer_external;
call_action_h act_xfer_external_failed;

/* callctl.c, for flowctl.c */
void ctimer_start(struct call *c, uv_timer_t **slot, uv_timer_cb cb, int ms);
void ctimer_stop(uv_timer_t **slot);
void hold_music(struct call *c);
void call_enqueue(struct call *c, int64_t queue_id, int priority);
void call_caller_closes(struct call *c);
/* callctl.c, for transfer.c */
void call_bridge_start(struct callctl *cc, struct call *c);
/* democust.c: the demo's built-in far end (cfg.demo_customer_port) */
int democust_start(struct callctl *cc);
void democust_free(struct callctl *cc);
/* outbound.c: the call event "no_audio" (detail: "agent" or "customer"). */
void call_no_audio_announce(struct call *c, const char *side);
void call_leg_bind(struct callctl *cc, struct cleg *l, sip_leg_t leg);
void call_leg_release(struct callctl *cc, struct cleg *l);

/* callctl.c: an inbound call to number did from `from` on leg (a SIP
 * INVITE already checked, or a browser's rtc.call): the number's flow or
 * queue, its customer leg on ops. Refused through ops->refuse. */
void call_inbound(struct callctl *cc, const struct leg_ops *ops, sip_leg_t leg, const char *did,
		  const char *from, const char *sdp);
/* call.c: l rings uri on the transport uri names (a browser's "browser:"
 * contact, else SIP): ops->dial. */
int call_leg_dial(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		  bool auto_answer);

/* browser.c: agents' browsers as phones, WebRTC legs (struct leg_ops) */
int browser_start(struct callctl *cc);
void browser_free(struct callctl *cc);
/* u's registered browser as a contact ("browser:<user id>"), or NULL */
const char *browser_contact(const struct callctl *cc, const struct user *u);
/* l's RTCP quality when it is a browser leg (true), else false. */
bool browser_leg_quality(const struct callctl *cc, const struct cleg *l,
			 struct callctl_rtc_quality *q);
/* The transport for a contact: the browser's for "browser:...", else cc->leg_ops */
const struct leg_ops *browser_ops_for(const struct callctl *cc, const char *uri);

/* callctl.c, for outbound.c */
struct call *call_alloc(struct callctl *cc); /* not yet in the table */
void call_add(struct callctl *cc, struct call *c);
struct call *call_find(struct callctl *cc, int64_t ix_id);
void call_free_unadded(struct call *c); /* one that never got into the table */
/* Hangs up what is up (the agent to wrap-up when from == BRIDGED); the call
 * is released once every leg has ended. For the table's actions. */
void call_end_legs(struct call *c, enum call_state from);
void call_hangup_end(struct call *c);			  /* End call (CEV_END) */
void call_leg_hangup(struct callctl *cc, struct cleg *l); /* BYE/CANCEL if up or ringing */
/* An offer not taken (rejected, timed out): the agent Missed, the next one. */
void call_offer_failed(struct call *c, const char *why);
/* The agent's leg of an offer (re-)rings with auto-answer: 0, or -errno. */
int call_offer_ring(struct call *c, const char *contact, bool auto_answer);

/* monitor.c: a manager's SUPERVISOR leg answered / ended (never the call) */
void monitor_answered(struct call *c, struct cleg *l, struct call_arg *a);
void monitor_gone(struct call *c, struct cleg *l);

/* xfer.c: transfers between agents */
/* A consult leg's SIP ended while it rang (arg why from the status). */
void xfer_leg_failed(struct call *c, struct call_arg *a);
/* The consult leg answered: CEV_CONSULT_UP, or CEV_CONSULT_FAIL when its
 * media is unusable or routing no longer lets the agent take it. */
void xfer_answered(struct call *c, struct cleg *l, struct call_arg *a);
/* routing offers a call waiting in a transfer's queue to u: their phone
 * rings on a CONSULT leg (0), or -errno (routing skips them). */
int xfer_queue_offer(struct call *c, struct user *u);
/* A REFER from a leg's phone (SIP_EV_REFER): the agent's blind transfer
 * to an agent's user name, a number that leads to a queue, or an external
 * number; NOTIFY with the outcome. */
void xfer_on_refer(struct call *c, struct cleg *l, const struct sip_event *ev);
/* An INVITE from an agent's phone to another agent's user name (already
 * authenticated as `from`): their phone's consult call during a call, the
 * first half of an attended transfer (then REFER with Replaces). */
void xfer_on_consult_invite(struct callctl *cc, struct user *from, struct user *to,
			    const struct sip_event *ev);
/* The transferor leg ended (the phone hung up its consult call). */
void xfer_transferor_gone(struct call *c, struct cleg *l, struct call_arg *a);
/* End call / hang-up of user u in a transfer's phases: their leave. */
int xfer_end_by(struct call *c, const struct user *u);
/* What the customer hears now (outbound.c): hold music, silence, the agent. */
void call_media_apply(struct call *c);
/* RT_EV_CALL to u (NULL: the call's agent): what, detail. */
void call_announce_to(struct call *c, const struct user *u, const char *what, const char *detail);
/* An offer rings u: the screen pop, with who transfers and why (NULLs: none). */
void call_offer_announce(struct callctl *cc, struct call *c, const struct user *u, const char *from,
			 const char *note);

/* outbound.c: click-to-call and the API's call controls */
/* An offer rings an agent: the screen pop (an RT_EV_OFFER event). */
void outbound_offer_announce(struct callctl *cc, struct call *c, const struct user *u);
/* Where an external number is called (calls.outbound_uri): 0, or
 * -ENETUNREACH when there is no route. */
int call_number_uri(struct callctl *cc, const char *number, char *uri, size_t size);

/* transfer.c: a flow's transfer block */
int transfer_uri_check(const char *uri);
void call_transfer_start(struct call *c, const struct flow_block *b);

/* flowctl.c: call flows on live calls */
int flows_load(struct callctl *cc);
void flows_free(struct callctl *cc);
int call_flow_start(struct callctl *cc, struct call *c, const struct flow *f);
void call_flow_free(struct call *c);
/* What the flow set (its attributes, the bot's intent) to the call's
 * contact trace record (routing_ctr_flow); nothing without a flow. */
void call_ctr_flow(struct call *c);
/* A prompt file of the flows dir (or absolute), loaded once and shared
 * (pcm refcounted, for mleg_play_ref); NULL with the reason in err. */
const struct prompt_file *prompt_file_get(struct callctl *cc, const char *file, char *err,
					  size_t errsz);

/* queueopts.c: a flow's queue options while the caller waits */
void call_queue_opts_begin(struct call *c, const struct flow_block *b);
void call_queue_opts_end(struct call *c);
void call_queue_offer_failed(struct call *c);
/* The queue's own settings for what the flow's block left unset (queueopts.c). */
void call_queue_defaults(struct call *c, int64_t queue_id);
/* The queue's own hold music (a transfer waits there), if it has one. */
void call_queue_music(struct call *c, int64_t queue_id);

/* botctl.c: the bot's listening and the caller's case */
/* Compiles the grammar of every bot block with phrases; on error the
 * message (file:line: block 'x': …) is in msg. */
int bot_grammars_attach(struct callctl *cc, struct flow *f, char *msg, size_t size);
void bot_listen(struct call *c, const struct flow_block *b);
void bot_stop(struct call *c);
void bot_case_lookup(struct callctl *cc, struct call *c, int64_t user_id);
/* The same for a caller identified as a contact or a consumer (party_id). */
void bot_case_lookup_of(struct callctl *cc, struct call *c, enum st_table party, int64_t party_id);
void bot_free(struct callctl *cc);

/* flowset.c: the loaded set of flows */
int flowset_load(struct callctl *cc);
void flowset_free(struct callctl *cc);

/* registrar.c */
void registrar_on_register(struct callctl *cc, const struct sip_event *ev);
/* RT_EV_DEVICE for u: device "sip" or "browser". */
void registrar_device_announce(struct callctl *cc, const struct user *u, bool registered,
			       const char *why, const char *actor, const char *device);
/* u's SIP phone binding, unexpired: its contact, or NULL. */
const char *registrar_sip_contact(const struct callctl *cc, const struct user *u);
bool registrar_device_ready(void *arg, const struct user *u);
void registrar_free(struct callctl *cc);
/* Loads the stored, unexpired bindings and starts the expiry sweep. */
int registrar_start(struct callctl *cc, const struct st_snapshot *snap);

#endif
