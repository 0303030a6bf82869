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

enum call_state {
	CALL_FLOW,	   /* answered, in its call flow (flowctl.c) */
	CALL_GREETING,	   /* answered, greeting plays; not yet queued */
	CALL_QUEUED,	   /* hold music; waiting for an agent */
	CALL_OFFERING,	   /* an agent's phone rings */
	CALL_BRIDGED,	   /* caller and agent talk; recorded */
	CALL_ENDING,	   /* one side gone; waiting for the other leg to end */
	CALL_TRANSFER,	   /* the flow transfers: the external number rings (transfer.c) */
	CALL_OUT_AGENT,	   /* click-to-call: the agent's own phone rings (outbound.c) */
	CALL_OUT_CUSTOMER, /* click-to-call: the customer rings; the agent hears the notice */
};

struct call;
struct prompt_file;

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

/* One SIP leg with its media. */
struct cleg {
	sip_leg_t leg;
	struct mleg *m;
	struct call *call;
	bool is_agent;
	bool ended;
	UT_hash_handle hh; /* by leg id */
};

struct call {
	struct callctl *cc;
	uint64_t id;
	int64_t queue_id;
	int64_t ix_id;
	char ix_number[ST_NUMBER];
	enum call_state state;
	struct cleg caller, agent;
	struct user *agent_user;
	uv_timer_t *timer;	 /* greeting end / offer timeout */
	uv_timer_t *audio_timer; /* the bridge's no-audio check (callctl.c) */
	bool recording;
	bool agent_hold; /* the agent's phone holds: the caller hears music */
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
	/* a flow's transfer (transfer.c): the far end is the `agent` leg */
	bool xfer;
	int xfer_failed; /* the block's failed branch, -1 = none */
	char xfer_number[32];
	/* click-to-call (outbound.c): the customer is the `caller` leg, the
	 * agent's own phone the `agent` leg */
	bool outbound;
	char out_uri[200];  /* where the customer is dialled */
	char out_name[128]; /* the customer's name, shown on the agent's phone */
	int64_t out_t0_us;  /* the API call, for the setup-time log */
	/* the API's call controls */
	bool held, muted;
	UT_hash_handle hh; /* by ix_id */
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
	struct callctl_cfg cfg;
	struct routing *r;
	struct sip_ua *ua;
	struct media *media;
	struct call *calls; /* by ix_id */
	struct cleg *legs;  /* by SIP leg id */
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
	struct asr *asr; /* when a flow has a bot with phrases */
};

/* callctl.c, for flowctl.c */
void ctimer_start(struct call *c, uv_timer_t **slot, uv_timer_cb cb, int ms);
void ctimer_stop(uv_timer_t **slot);
void hold_music(struct call *c);
void call_enqueue(struct call *c, int64_t queue_id, int priority);
void call_caller_closes(struct call *c);
/* callctl.c, for transfer.c */
int call_sdp_local(struct callctl *cc, struct mleg *m, int codec, char *buf, size_t size);
int call_sdp_apply(struct mleg *m, const char *sdp); /* the codec, or -1 */
void call_bridge_start(struct callctl *cc, struct call *c);
int call_local_sdp(struct callctl *cc, struct mleg *m, int codec, char *buf, size_t size);
/* democust.c: the demo's built-in far end (cfg.demo_customer_port) */
int democust_start(struct callctl *cc);
void democust_free(struct callctl *cc);
/* outbound.c: the call event "no_audio" (detail: "agent" or "customer"). */
void call_no_audio_announce(struct call *c, const char *side);
void call_leg_bind(struct callctl *cc, struct cleg *l, sip_leg_t leg);
void call_leg_release(struct callctl *cc, struct cleg *l);

/* callctl.c, for outbound.c */
struct call *call_alloc(struct callctl *cc); /* not yet in the table */
void call_add(struct callctl *cc, struct call *c);
struct call *call_find(struct callctl *cc, int64_t ix_id);
void call_hangup(struct call *c); /* hang up what is up; settle; free when both ended */
/* An offer not taken (rejected, timed out): the agent Missed, the next one. */
void call_offer_failed(struct call *c, const char *why);
/* The agent's leg of an offer (re-)rings with auto-answer: 0, or -errno. */
int call_offer_ring(struct call *c, const char *contact, bool auto_answer);

/* outbound.c: click-to-call and the API's call controls */
bool outbound_on_sip_event(struct callctl *cc, struct cleg *l, const struct sip_event *ev);
/* An offer rings an agent: the screen pop (an RT_EV_OFFER event). */
void outbound_offer_announce(struct callctl *cc, struct call *c, const struct user *u);

/* transfer.c: a flow's transfer block */
int transfer_uri_check(const char *uri);
void call_transfer_start(struct call *c, const struct flow_block *b);
bool transfer_on_sip_event(struct callctl *cc, struct call *c, const struct sip_event *ev);

/* flowctl.c: call flows on live calls */
int flows_load(struct callctl *cc);
void flows_free(struct callctl *cc);
int call_flow_start(struct callctl *cc, struct call *c, const struct flow *f);
void call_flow_free(struct call *c);
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
bool registrar_device_ready(void *arg, const struct user *u);
void registrar_free(struct callctl *cc);
/* Loads the stored, unexpired bindings and starts the expiry sweep. */
int registrar_start(struct callctl *cc, const struct st_snapshot *snap);

#endif
