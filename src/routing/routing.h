/*
 * routing.h — the contact center's domain state: users and roles, agents and
 * their presence, queues, and interactions, with the two state machines of
 * SPEC.md (interaction: §2 / seed Table 1; presence: §4 / seed Table 2).
 *
 * One source of truth: the loop thread owns every object here; the API, the
 * workspace and (next) the routing engine read the same state. Each change is
 * written through the store (in order) and, once committed, announced to the
 * event handler and reported to the caller's done callback.
 *
 * Thread: loop thread only. Pointers returned stay valid until the object is
 * removed (users and queues are never removed, only deactivated).
 */
#ifndef SB_ROUTING_H
#define SB_ROUTING_H

#include "core/core.h"
#include "store/store.h"

/* ---- roles (SPEC.md §5) ---- */
enum role {
	ROLE_OPENFRAME_USER,	/* sn_openframe.user */
	ROLE_INTERACTION_AGENT, /* interaction_agent */
	ROLE_AWA_AGENT,		/* awa_agent */
	ROLE_AWA_INTEGRATION,	/* awa_integration_user */
	ROLE_VOICE_MANAGER,	/* voice_manager */
	ROLE_ADMIN,		/* admin */
	ROLE__N
};
#define ROLE_BIT(r) (1u << (r))
const char *role_name(enum role r);
int role_parse(const char *s, enum role *r);
/* The seed's rule: both roles of the pair that applies may take/place calls. */
bool roles_can_handle_calls(unsigned mask, bool awa_enabled);
/* Holds any role of either agent pair (is listed as an agent). */
bool roles_is_agent(unsigned mask);

/* ---- agent presence FSM ---- */
enum presence {
	PRES_OFFLINE,
	PRES_AVAILABLE,
	PRES_AWAY,
	PRES_CALLING_CUSTOMER,
	PRES_BUSY,
	PRES_AFTER_CALL_WORK,
	PRES_FAILED_CONNECT,
	PRES_MISSED,
	PRES__N
};
enum agent_event {
	AG_EV_GO_AVAILABLE,	/* agent (or manager) asks for Available */
	AG_EV_GO_AWAY,		/* ... for Away with a reason */
	AG_EV_GO_OFFLINE,	/* ... for Offline, or signs out */
	AG_EV_OFFER_MISSED,	/* an offered call was rejected or timed out */
	AG_EV_INBOUND_ACCEPTED, /* an offered call was answered */
	AG_EV_DIAL,		/* click-to-call starts */
	AG_EV_OUTBOUND_CONNECTED,
	AG_EV_OUTBOUND_FAILED,
	AG_EV_FAILED_DONE, /* FailedConnectAgent has been shown */
	AG_EV_CALL_ENDED,  /* End call, or either side hung up */
	AG_EV_CLEAR,	   /* Clear contact, or wrap-up timeout */
	AG_EV__N
};
const char *presence_name(enum presence p);
int presence_parse(const char *s, enum presence *p);
const char *agent_event_name(enum agent_event ev);
/* Pure transition lookup: 0 and *to, or CC_EILLEGAL. */
int agent_fsm_next(enum presence from, enum agent_event ev, enum presence *to);

/* ---- interaction FSM ---- */
enum ix_state {
	IX_NEW,	   /* created, in the call flow */
	IX_QUEUED, /* waiting in a queue: shown as New */
	IX_WIP,	   /* assigned to an agent */
	IX_CLOSED_COMPLETE,
	IX_CLOSED_ABANDONED,
	IX__N
};
enum ix_event {
	IX_EV_ENQUEUE,	     /* the flow puts the caller in a queue */
	IX_EV_DEFLECT,	     /* the bot solved the request */
	IX_EV_CALLER_HANGUP, /* the caller disconnected */
	IX_EV_ASSIGN,	     /* an agent accepted */
	IX_EV_REASSIGN,	     /* a transfer completed to another agent */
	IX_EV_CLEAR,	     /* the agent cleared the contact */
	IX_EV_SYSTEM_CLOSE,  /* the call was lost (server restart) */
	IX_EV_DEQUEUE,	     /* left the queue without an agent (max wait: overflow) */
	IX_EV_ABANDON,	     /* the caller hung up in a transfer's queue, no agent left on it */
	IX_EV__N
};
/* API value: new | work_in_progress | closed_complete | closed_abandoned */
const char *ix_state_name(enum ix_state s);
const char *ix_state_label(enum ix_state s);	      /* "Work in Progress" */
int ix_state_parse(const char *s, enum ix_state *st); /* API value or internal "queued" */
const char *ix_event_name(enum ix_event ev);
/* For people: "contact cleared", "the caller hung up" …; a reason code as
 * words ("" when the event's label already says it). */
const char *ix_event_label(enum ix_event ev);
const char *ix_reason_label(const char *reason);
int ix_fsm_next(enum ix_state from, enum ix_event ev, enum ix_state *to);

/* ---- the domain objects (opaque) and their read-only views ---- */
struct routing;
struct user;
struct queue;

struct agent_view {
	enum presence presence;
	const char *away_reason;
	int64_t presence_since;
	const char *interaction; /* current interaction number, "" = none */
};
struct queue_view {
	int64_t id;
	const char *name;
	int priority, sl_threshold_s, max_wait_s;
	const struct st_queue *rec;	    /* every setting (deleted ones too) */
	size_t members, staffed, available; /* signed in / Available and allowed */
	size_t waiting;
	int64_t longest_wait_ms;
};

/* A committed change, for the event stream. Strings live until the handler returns. */
/* RT_EV_OFFER and RT_EV_CALL are announced by call control (routing_announce),
 * not stored: an offer ringing an agent (the screen pop) and the progress of
 * a click-to-call (to = "agent_ringing", "agent_answered", "customer_ringing",
 * "connected", "failed", "ended"; reason = details). */
/* RT_EV_DEVICE: an agent's phone registered or not (callctl/registrar.c):
 * to = "registered" | "unregistered", reason = what happened ("registered",
 * "unregistered", "expired", "restored"). */
/* RT_EV_CTR: a contact trace record is final (committed; docs/CTR.md):
 * ctr is the record, user its agent (NULL: none), interaction its number.
 * The hook for pushing CTRs elsewhere (webhooks); the event stream does not
 * show it. */
/* The wallboard's events (routing/wallboard.c, docs/WALLBOARD.md), not
 * stored, for managers only:
 * RT_EV_QUEUE: a caller in a queue (to = joined | left | offered | missed |
 * answered | abandoned | transferred; queue; user: the agent, if any;
 * reason: why it left, or where it was transferred; wait_ms: the time in
 * the queue so far).
 * RT_EV_QUEUE_STATS: a queue's figures changed (qstats).
 * RT_EV_ALERT: an alert was raised or cleared (alert).
 * RT_EV_LIVE: a live call changed (live; announced by call control). */
enum routing_event_kind {
	RT_EV_PRESENCE,
	RT_EV_INTERACTION,
	RT_EV_ROLES,
	RT_EV_OFFER,
	RT_EV_CALL,
	RT_EV_DEVICE,
	RT_EV_CTR,
	RT_EV_QUEUE,
	RT_EV_QUEUE_STATS,
	RT_EV_ALERT,
	RT_EV_LIVE
};
struct routing_queue_stats;
struct routing_alert;
struct routing_live_call;
struct routing_event {
	enum routing_event_kind kind;
	const struct user *user; /* the agent concerned (NULL for none) */
	int64_t at;
	const char *from, *to; /* presence names or interaction states */
	const char *reason;
	const char *interaction; /* number or "" */
	const char *actor;
	/* RT_EV_OFFER: the caller's number, the identified user's user_name and
	 * display name ("" = not identified), the queue (NULL for other kinds) */
	const char *caller_number, *caller_user, *caller_name, *queue;
	/* RT_EV_OFFER: what the call flow found (NULL or "" = nothing): the
	 * caller's record (table user|contact|consumer and its key), their case,
	 * and the intent the bot heard */
	const char *caller_table, *caller_key;
	const char *case_number, *case_state, *case_description, *intent;
	/* RT_EV_OFFER of a transfer: the first agent's user_name and why (NULL:
	 * not a transfer) */
	const char *transfer_from, *transfer_note;
	/* RT_EV_CTR: the record (NULL for other kinds) */
	const struct st_ctr *ctr;
	/* the wallboard's kinds (NULL for others) */
	int64_t wait_ms;
	const struct routing_queue_stats *qstats;
	const struct routing_alert *alert;
	const struct routing_live_call *live;
	/* RT_EV_DEVICE: "sip" or "browser" (NULL for other kinds) */
	const char *device;
};
typedef void(routing_event_h)(const struct routing_event *ev, void *arg);
typedef void(routing_done_h)(int err, void *arg);

/*
 * A durable outbox (hook/ delivers it to webhooks; docs/WEBHOOKS.md). Each
 * event of a change, as the event handler will see it once committed, is
 * shown to event_op() before the change is written: it may fill *op (zeroed;
 * an STORE_OP_OUTBOX_INSERT with a heap body, which routing frees once
 * store_write has copied it) and return 1, so the op goes into the change's
 * own transaction: the event is in the outbox exactly when the change is
 * stored. 0: nothing for this event; a negative errno: logged, and the
 * change is stored without it. committed() runs on the loop after a change
 * that carried such an op has been committed. Crash recovery's changes
 * (routing_recover) carry them too. Thread: loop (and start-up).
 */
struct routing_outbox {
	int (*event_op)(void *arg, const struct routing_event *ev, struct store_op *op);
	void (*committed)(void *arg);
};
/* ob: NULL removes it; it must outlive routing or its removal. */
void routing_outbox_set(struct routing *r, const struct routing_outbox *ob, void *arg);

int routing_alloc(struct routing **rp, uv_loop_t *loop, struct store *st, bool awa_enabled,
		  const struct st_snapshot *snap);
/* Closes the routing engine's timers; run the loop once more, then free. */
void routing_close(struct routing *r);
void routing_free(struct routing *r);
void routing_event_handler_set(struct routing *r, routing_event_h *h, void *arg);
bool routing_awa_enabled(const struct routing *r);
/*
 * At start: interactions left open by a crash or kill are closed with reason
 * "server_restart" (New → Closed Complete, queued → Closed Abandoned); agents
 * on a call go to AfterCallWork; agents who were Available/Away/Missed and
 * hold no unexpired session are signed out (Offline); those signed in keep
 * their presence. Writes synchronously: call before the loop runs.
 */
int routing_recover(struct routing *r);

/* users */
struct user *routing_user_find(struct routing *r, const char *user_name);
/*
 * The active user whose mobile or business phone is this caller's number,
 * or NULL: numbers compare by their digits ("+1 555 0199" = "15550199"),
 * an international "00" prefix dropped, and a number without its country
 * code (up to 3 digits) matches one with it. A linear scan (docs/FLOWS.md).
 */
struct user *routing_user_by_phone(struct routing *r, const char *number);
/* The store routing writes through, for call control's reads of records. */
struct store *routing_store(struct routing *r);
struct user *routing_user_by_id(struct routing *r, int64_t id);
size_t routing_user_count(const struct routing *r);
struct user *routing_user_at(struct routing *r, size_t i); /* by id order */
const struct st_user *user_record(const struct user *u);
unsigned user_roles(const struct user *u);
bool user_is_agent(const struct user *u);
bool user_can_handle_calls(const struct routing *r, const struct user *u);
void user_agent_view(const struct user *u, struct agent_view *v);
/* rec: id/created_at are assigned; roles: a mask. */
int routing_user_create(struct routing *r, const struct st_user *rec, unsigned roles,
			routing_done_h *done, void *arg, struct user **up);
int routing_user_update(struct routing *r, struct user *u, const struct st_user *rec,
			routing_done_h *done, void *arg);
/* grant (true) or revoke a role; a no-op change still calls done. */
int routing_role_set(struct routing *r, struct user *u, enum role role, bool grant,
		     const char *actor, routing_done_h *done, void *arg);

/*
 * Presence asked for by the agent or a manager (Available, Away, Offline).
 * CC_EFORBIDDEN: Available without the call roles; CC_EILLEGAL: not from the
 * current state (say, Busy). A request for the current state is a no-op (done
 * runs with 0).
 */
int routing_presence_request(struct routing *r, struct user *u, enum presence to,
			     const char *reason, const char *actor, routing_done_h *done,
			     void *arg);
/* Drives the presence FSM with any event (used by call control and tests). */
int routing_agent_event(struct routing *r, struct user *u, enum agent_event ev, const char *reason,
			const char *actor, routing_done_h *done, void *arg);
/* Clear contact: AfterCallWork → Available, the interaction → Closed Complete,
 * with an optional wrap-up note in its activity stream. */
int routing_agent_clear(struct routing *r, struct user *u, const char *note, const char *actor,
			routing_done_h *done, void *arg);
/* The same, with the wrap-up code stored on the interaction ("" = none). */
int routing_agent_clear_code(struct routing *r, struct user *u, const char *code, const char *note,
			     const char *actor, routing_done_h *done, void *arg);
/* Sign-in/out bookkeeping: the first session moves Offline → Away ("Signed
 * in"); the last one to end moves Available/Away/Missed → Offline. */
void routing_user_signed_in(struct routing *r, struct user *u);
void routing_user_signed_out(struct routing *r, struct user *u);

/* queues */
size_t routing_queue_count(const struct routing *r);
void routing_queue_view(const struct routing *r, size_t i, struct queue_view *v);
/* by name; 0 when unknown */
int64_t routing_queue_id(const struct routing *r, const char *name);
const char *routing_queue_name(const struct routing *r, int64_t id);
/* Members of queue i, for listing (user_name strings). */
size_t routing_queue_members(const struct routing *r, size_t i, const struct user **out,
			     size_t max);
/* The priority of member k of queue i (as routing_queue_members lists them
 * when none is missing). */
int routing_queue_member_priority(const struct routing *r, size_t i, const struct user *u);
/* The queue's settings by id, NULL when unknown. */
const struct st_queue *routing_queue_rec(const struct routing *r, int64_t id);

/* ---- queue administration (queues.c): each a change, applied in memory at
 * once (the routing engine and call control see it on the next call) and
 * committed with its audit entry; done runs after the commit. ----
 * rec: every field (the id is assigned on create). CC_ECONFLICT: the name is
 * taken. */
struct queue_member_list {
	struct user *const *users;
	const int *priority; /* beside users, 1..9; NULL = all 1 */
	size_t n;
};
/* m: the members (replacing any), NULL = leave them as they are. */
int routing_queue_create(struct routing *r, const struct st_queue *rec,
			 const struct queue_member_list *m, routing_done_h *done, void *arg,
			 int64_t *id);
int routing_queue_update(struct routing *r, int64_t id, const struct st_queue *rec,
			 const struct queue_member_list *m, routing_done_h *done, void *arg);
/* Refused while callers wait (CC_EBUSY); the row stays, renamed
 * "<name> (deleted <id>)", without members, so history still names it. */
int routing_queue_delete(struct routing *r, int64_t id, routing_done_h *done, void *arg);
/* Adds a member or sets its priority (1..9); remove: CC_ENOTFOUND when not one. */
int routing_queue_member_set(struct routing *r, int64_t id, struct user *u, int priority,
			     routing_done_h *done, void *arg);
int routing_queue_member_remove(struct routing *r, int64_t id, struct user *u, routing_done_h *done,
				void *arg);
/* How many callers wait in the queue now. */
size_t routing_queue_waiting(const struct routing *r, int64_t id);
/*
 * The wrap-up code the agent may give their current interaction: its
 * queue's codes (case-insensitive; *canon gets the code as the list writes
 * it), or any code when the queue has none or the call had no queue.
 * CC_ENOTFOUND: not one of the list, which *codes then points at.
 */
int routing_wrapup_code_check(struct routing *r, const struct user *u, const char *code,
			      char canon[ST_NAME], const char **codes);
/* The next change committed carries this audit entry (copied), in the same
 * transaction; NULL drops one attached but not used (the change failed). */
int routing_audit_attach(struct routing *r, const struct st_audit *a);

/* ---- the routing engine (AWA): calls, queues, offers ---- */
/* What call control provides: whether an agent's device can ring, and how
 * to ring it. offer() returns 0 when the agent's phone is being called; the
 * outcome comes back through routing_offer_answered/_missed. */
struct routing_ops {
	bool (*device_ready)(void *arg, const struct user *u);
	int (*offer)(void *arg, int64_t ix_id, struct user *u);
	/* The offer to u for ix_id must stop ringing (caller gone, or timeout). */
	void (*offer_cancel)(void *arg, int64_t ix_id, struct user *u);
};
void routing_ops_set(struct routing *r, const struct routing_ops *ops, void *arg);
/* Timeouts: an unanswered offer (ms), AfterCallWork before the system clears
 * it (ms, 0 = never). */
void routing_timeouts_set(struct routing *r, int offer_ms, int wrapup_ms);

/* A new inbound (or outbound) phone interaction in New (outbound: WIP). */
int routing_ix_open(struct routing *r, const char *direction, const char *caller_number,
		    int64_t *ix_id);
const char *routing_ix_number(struct routing *r, int64_t ix_id);
/* Puts a New interaction into a queue (New, queued); routing starts. */
int routing_ix_enqueue(struct routing *r, int64_t ix_id, int64_t queue_id, int priority);
/*
 * Takes a queued interaction out of its queue without closing it (queued →
 * New): the caller waited the queue's maximum and the flow goes on at its
 * overflow branch. A ringing offer is cancelled (call control lets a
 * ringing offer win before it calls this). `note` goes to the activity
 * stream (kind "queue"). CC_ENOTFOUND: not queued.
 */
int routing_ix_dequeue(struct routing *r, int64_t ix_id, const char *note);
/* Where a queued caller stands (for announcements). */
struct queue_wait {
	const char *queue;
	int position;	/* 1 = the next to be offered (priority, then arrival) */
	size_t working; /* members taking calls: Available, on a call, wrapping up */
	int aht_s;	/* the queue's average handle time, or ROUTING_AHT_DEFAULT_S */
	int waited_s;	/* in this queue so far */
	int estimate_s; /* routing_wait_estimate() */
};
#define ROUTING_AHT_DEFAULT_S 120 /* before the queue has handled a call */
/* 0 and *w, or CC_ENOTFOUND when the interaction is not queued. */
int routing_ix_queue_wait(struct routing *r, int64_t ix_id, struct queue_wait *w);
/* Pure: the expected wait (s) of the caller at `position` when `agents`
 * are signed in (0 counts as 1) and a call takes `aht_s` on average:
 * position × aht ÷ agents, rounded to the second (clamped to INT_MAX).
 * docs/FLOWS.md. */
int routing_wait_estimate(int position, size_t agents, int aht_s);
/* The caller hung up: New → Closed Complete, queued → Closed Abandoned,
 * Work in Progress stays (its agent goes to AfterCallWork). */
int routing_ix_caller_gone(struct routing *r, int64_t ix_id);
/* Appends to the interaction's activity stream (notes). */
int routing_ix_note(struct routing *r, int64_t ix_id, const char *kind, const char *text);
/* Links an open interaction to a record (table user|contact|consumer|case,
 * its key); a case replaces a party link, nothing replaces a case. */
int routing_ix_link(struct routing *r, int64_t ix_id, const char *table, const char *key);
/* The id an interaction number stands for ("INT0001234" → 234), 0 when it
 * is not one (numbers are INT + 7 digits, id + 1000). */
int64_t routing_ix_id_of(const char *number);
/* A note by `by` on an open interaction (during its call or wrap-up): its
 * agent's, or any with any_agent (managers). CC_ENOTFOUND when it is not
 * open or not theirs; done runs when the note is stored. */
int routing_ix_add_note(struct routing *r, const char *number, const struct user *by,
			bool any_agent, const char *text, routing_done_h *done, void *arg);
/* The call is being recorded: its URL goes to the activity stream now and
 * with every later status change (SPEC.md §2). */
int routing_ix_recorded(struct routing *r, int64_t ix_id);
/* A transcript's outcome (transcript/): the row (t's texts are copied) and
 * an activity-stream entry of kind "transcript" with text, in one
 * transaction. The interaction need not be open. */
int routing_transcript_done(struct routing *r, const struct st_transcript *t, const char *text);
/* The recording URL of an interaction number (the API serves it). */
void routing_recording_url(const char *number, char *buf, size_t size);
/* The agent's phone answered the offer: agent Busy, interaction WIP, assigned. */
int routing_offer_answered(struct routing *r, int64_t ix_id, struct user *u);
/* Rejected or timed out: agent → Missed, the call is offered to the next agent. */
int routing_offer_missed(struct routing *r, int64_t ix_id, struct user *u, const char *why);
/* The agent's call ended (either side): Busy → AfterCallWork. */
int routing_agent_call_ended(struct routing *r, struct user *u);
/* Whether call control reports the agent's phone registered. */
bool routing_agent_device_ready(const struct routing *r, const struct user *u);
/* Re-runs assignment (a device registered, a role was granted). */
void routing_dispatch_soon(struct routing *r);
/* The agent being offered or on this interaction, or NULL. */
struct user *routing_ix_agent(struct routing *r, int64_t ix_id);
/* Today's counters for queue i (the wallboard's, below). */
void routing_queue_today(const struct routing *r, size_t i, uint32_t *offered, uint32_t *answered,
			 uint32_t *abandoned);

/* ---- the wallboard: queues' figures, pushed (routing/wallboard.c,
 * docs/WALLBOARD.md) ---- */
struct routing_wb_cfg {
	int push_ms;	  /* a queue's figures are pushed at most once per push_ms (250) */
	int acw_alert_s;  /* an agent in AfterCallWork longer raises an alert (120) */
	int hold_alert_s; /* a customer on hold longer (90) */
	int missed_alert; /* offers missed in a row (3) */
};
/* Sets the limits and starts the wallboard's clock (loop thread). */
void routing_wallboard_start(struct routing *r, const struct routing_wb_cfg *cfg);
/* Today's counters from the store's contact trace records (start-up,
 * synchronous, after routing_recover). */
int routing_wallboard_seed(struct routing *r);
/* The local midnight that begins "today" (ms). */
int64_t routing_wallboard_day_start(const struct routing *r);

struct routing_queue_stats {
	int64_t queue_id;
	const char *queue;
	int threshold_s;	 /* the service-level threshold */
	const char *sl_abandons; /* "met", "excluded" or "missed" (the queue's) */
	/* now */
	size_t waiting;
	int64_t oldest_at; /* when the longest-waiting caller entered (ms), 0 = none */
	size_t members, signed_in, available, on_call, acw, away;
	/* today (since routing_wallboard_day_start) */
	uint32_t offered, answered, abandoned, transferred;
	uint32_t answered_in_sl, abandoned_in_sl, handled;
	uint32_t pending_in_sl;	      /* offered today, still waiting, within the threshold */
	int64_t answer_ms, handle_ms; /* sums: waits of the answered, handle times */
	/* the last 15 minutes */
	uint32_t arrivals_15m, handled_15m;
	int aht_s;	     /* the handle time the estimates use */
	int expected_wait_s; /* a caller arriving now; -1 = nobody takes calls */
	int forecast_wait_s; /* Erlang C from the last 15 minutes; -1 = overloaded */
	bool sl_at_risk;
};
/* Queue i's figures now (deleted queues too: members 0). */
void routing_queue_stats(struct routing *r, size_t i, struct routing_queue_stats *s);
/* Pure figures (tests/unit/test_wallboard.c): */
/* (answered + abandoned within the threshold) ÷ decided × 100, where
 * decided = offered less the callers still waiting within the threshold
 * (they may yet meet it); -1 = none decided */
double routing_wb_service_level(uint32_t in_sl, uint32_t offered);
/* The queue's service level under its rule for the callers who hang up
 * within the threshold (sl_abandons): "met" counts them as met (Amazon
 * Connect), "excluded" leaves them out of both sides, "missed" counts them
 * against; abandons past the threshold are missed under every rule. -1 =
 * none decided. */
double routing_wb_queue_service_level(const struct routing_queue_stats *s);
/* sum ÷ n in whole seconds (rounded); -1 when n is 0 */
int routing_wb_average_s(int64_t sum_ms, uint32_t n);
/* A caller arriving now: (waiting + 1 - free) × aht ÷ working, rounded, 0
 * when a free agent is left for them, -1 when nobody takes calls. */
int routing_wb_expected_wait(size_t waiting, size_t free_agents, size_t working, int aht_s);
/* Erlang C: the probability that a caller waits, n agents, a Erlangs
 * offered (a < n); and the average wait (s) of M/M/n with arrivals per
 * second and aht, -1 when a ≥ n (the queue grows), 0 without arrivals. */
double routing_wb_erlang_c(int n, double a);
int routing_wb_forecast_wait(int n, double arrivals_per_s, int aht_s);

#define ROUTING_ALERT_TEXT 200
struct routing_alert {
	const char *kind; /* sl_at_risk | long_acw | long_hold | missed_offers */
	bool active;	  /* raised (true) or cleared */
	const struct routing_queue_stats *qstats; /* sl_at_risk: its queue */
	const struct user *user;		  /* the agent's alerts */
	int64_t since;				  /* when it was raised (ms) */
	char text[ROUTING_ALERT_TEXT];
};
typedef void(routing_alert_each_h)(const struct routing_alert *a, void *arg);
/* Every alert raised now. */
void routing_alerts_each(struct routing *r, routing_alert_each_h *h, void *arg);

/* A live call as the wallboard shows it (call control fills it). */
struct routing_live_call {
	const char *interaction; /* its number */
	const char *phase;	 /* the call table's state */
	int64_t phase_since;	 /* ms */
	const char *caller;	 /* the customer's number */
	const char *queue;	 /* the queue it waits in or came from, NULL = none */
	const struct user *agent, *second, *monitor;
	const char *intent; /* the bot's last intent, NULL = none */
	bool outbound;
	bool ended; /* gone from the live calls */
};

/* ---- transfers between agents (SPEC.md §6; routing/transfer.c) ----
 * Whether `to` may receive a transfer from `from`: -EINVAL (themselves),
 * CC_EFORBIDDEN (not both roles of a pair), CC_EILLEGAL (not Available, or
 * being offered or on another call), -ENODEV (no registered phone); *why
 * says it in words. */
int routing_transfer_check(const struct routing *r, const struct user *from, const struct user *to,
			   const char **why);
/* The transfer of the (Work in Progress) interaction starts: `to` is
 * reserved while their phone rings; `text` goes to the activity stream. */
int routing_transfer_begin(struct routing *r, int64_t ix_id, struct user *from, struct user *to,
			   const char *text);
/* `to` answered: Available → Busy; the interaction is their current one
 * (still assigned to the first agent). */
int routing_transfer_accepted(struct routing *r, int64_t ix_id, struct user *to);
/* `to` did not answer or rejected (why): → Missed, as a missed offer. */
int routing_transfer_missed(struct routing *r, int64_t ix_id, struct user *to, const char *text,
			    const char *why);
/* The transfer to `to` ended without them taking the call (cancelled, the
 * customer gone, they hung up): ringing → stays Available; accepted → Busy
 * → AfterCallWork (their Clear contact does not close the interaction).
 * The call leaves a transfer's queue. to NULL: nobody rang yet. text (NULL:
 * none) goes to the activity stream. */
int routing_transfer_dropped(struct routing *r, int64_t ix_id, struct user *to, const char *actor,
			     const char *text);
/* The first agent left: the interaction is reassigned to `to` ("X left",
 * "Reassigned from X to Y"), `from` → AfterCallWork; counted once each. */
int routing_transfer_reassign(struct routing *r, int64_t ix_id, struct user *from, struct user *to);
/* The (Work in Progress) interaction waits in queue_id for the next agent
 * there, ahead of callers who arrived after its call began; `text` to the
 * activity stream. The routing engine offers it through routing_ops.offer
 * like any queued call; call control answers with routing_transfer_*. */
int routing_transfer_enqueue(struct routing *r, int64_t ix_id, int64_t queue_id,
			     const struct user *from, const char *text);
/* The first agent left while the call waits in a transfer's queue: nobody
 * is assigned until an agent there takes it (routing_transfer_reassign);
 * `from` → AfterCallWork (their Clear contact does not close it). */
int routing_transfer_unassign(struct routing *r, int64_t ix_id, struct user *from,
			      const char *text);
/* Today's transfers the agent took (in) and gave (out). */
void routing_agent_transfers(const struct user *u, uint32_t *in, uint32_t *out);

/* Sends a call-control event (RT_EV_OFFER, RT_EV_CALL) to the handler now. */
void routing_announce(struct routing *r, const struct routing_event *ev);

/* ---- contact trace records (SPEC.md §7; routing/ctr.c, docs/CTR.md) ----
 * Routing keeps one record per contact segment of an open interaction and
 * writes it when the segment's contact ends and when its after-contact
 * work ends. What routing cannot see, call control reports here; every
 * call is a no-op (CC_ENOTFOUND) for an interaction that is not open. */
enum ctr_reason {
	CTR_REASON_NONE,
	CTR_REASON_CUSTOMER,	/* the customer hung up, or never answered (outbound) */
	CTR_REASON_AGENT,	/* the agent hung up or ended the call */
	CTR_REASON_SYSTEM,	/* the flow ended it (deflected, disconnect), shutdown, restart */
	CTR_REASON_TRANSFER,	/* the segment ended by a transfer */
	CTR_REASON_THIRD_PARTY, /* the far end of a transfer to an external number hung up */
	CTR_REASON_ERROR,	/* a technical failure (no usable media, could not be placed) */
	CTR_REASON__N
};
const char *ctr_reason_name(enum ctr_reason r); /* "customer" ..., "" for NONE */
/* The system endpoint: the number dialled (inbound) or the caller id the
 * customer sees (outbound). */
int routing_ctr_endpoint(struct routing *r, int64_t ix_id, const char *system);
/* The agent put the customer on hold (the API's hold, or the agent's phone
 * holding) or took them off it; a repeat is a no-op. */
int routing_ctr_hold(struct routing *r, int64_t ix_id, bool on);
/* What the call flow set: the bot's intent (NULL or "" = none) and the
 * flow's attributes (replacing those reported before). */
struct routing_ctr_attr {
	const char *name, *value;
};
int routing_ctr_flow(struct routing *r, int64_t ix_id, const char *intent,
		     const struct routing_ctr_attr *attrs, size_t n);
/* Who or what ended the call, reported before the routing call that ends
 * it (routing_ix_caller_gone, routing_agent_call_ended, ...); the first
 * report of a segment counts, and its time is the disconnect time. */
int routing_ctr_disconnect(struct routing *r, int64_t ix_id, enum ctr_reason why);
/* The agent transferred the call to an external number (blind). */
int routing_ctr_transferred(struct routing *r, int64_t ix_id, const char *number);

/* ---- click-to-call (SPEC.md §3; routing/outbound.c) ---- */
/*
 * The agent u places a call to `number` from the record (table, key): checks
 * the roles (CC_EFORBIDDEN) and the presence FSM (CC_EILLEGAL: only from
 * Available, Away or Missed), then in one change: an interaction of type
 * phone, direction outbound, in Work in Progress, assigned to u and linked to
 * the record; u → CallingCustomer; a conversation when the flags say so
 * (routing_conversation_flag). *ix_id is set on success; done runs after the
 * commit.
 */
int routing_outbound_open(struct routing *r, struct user *u, const char *number, const char *table,
			  const char *key, const char *actor, int64_t *ix_id, routing_done_h *done,
			  void *arg);
/* The customer answered: CallingCustomer → Busy. */
int routing_outbound_connected(struct routing *r, int64_t ix_id);
/* The call did not go through (why: "busy (SIP 486)"…): CallingCustomer →
 * FailedConnectAgent; ROUTING_FAILED_SHOW_MS (2 s) later the interaction
 * closes Closed Complete (reason not_connected) and the agent is Available. */
int routing_outbound_failed(struct routing *r, int64_t ix_id, const char *why);
/* Which flag makes a conversation for a call placed from `table`, besides
 * createConversation (any form): the customer service application's for
 * case, contact and consumer, IT service's for incident and user; NULL for
 * another table. */
const char *routing_conversation_flag(const char *table);

/* ---- quick connects (SPEC.md §6; routing/quickconn.c): the external
 * numbers an administrator defines, which agents pick to transfer a call
 * to. Read from memory; each edit is one change, applied in memory at once
 * and committed with the audit entry attached (routing_audit_attach) in
 * the same transaction; done runs after the commit. Pointers returned stay
 * valid until the next edit of a quick connect. ---- */
#define ROUTING_QUICK_MAX 200
size_t routing_quick_count(const struct routing *r);
/* In id order (the order they were created); NULL past the end. */
const struct st_quick_connect *routing_quick_at(const struct routing *r, size_t i);
/* NULL when there is no such id. */
const struct st_quick_connect *routing_quick_find(const struct routing *r, int64_t id);
/* c: name and number (checked by the caller); the id is assigned (*id).
 * CC_ECONFLICT: the name is taken in any ASCII case; -ENOSPC: there are
 * ROUTING_QUICK_MAX already. */
int routing_quick_create(struct routing *r, const struct st_quick_connect *c, routing_done_h *done,
			 void *arg, int64_t *id);
/* Replaces the name and number of c->id: CC_ENOTFOUND, CC_ECONFLICT. */
int routing_quick_update(struct routing *r, const struct st_quick_connect *c, routing_done_h *done,
			 void *arg);
/* CC_ENOTFOUND when there is no such id. */
int routing_quick_delete(struct routing *r, int64_t id, routing_done_h *done, void *arg);

/* flags (SPEC.md §3, §5) */
const char *routing_flag_get(const struct routing *r, const char *name);
bool routing_flag_true(const struct routing *r, const char *name);
size_t routing_flag_count(const struct routing *r);
const struct st_flag *routing_flag_at(const struct routing *r, size_t i);
/* Sets a flag that exists (CC_ENOTFOUND otherwise); done after the commit. */
int routing_flag_set(struct routing *r, const char *name, const char *value, const char *actor,
		     routing_done_h *done, void *arg);

#endif
