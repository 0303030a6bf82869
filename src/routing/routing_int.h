/* routing_int.h — structures private to routing/. */
#ifndef SB_ROUTING_INT_H
#define SB_ROUTING_INT_H

#include "routing/routing.h"
#include <uthash.h>

/* wallboard.c: an agent's alerts */
struct wb_agent {
	int missed_row;	    /* offers missed since the last one answered */
	int64_t hold_since; /* their customer is on hold since (ms), 0 = not */
	int64_t acw_alert, hold_alert, missed_alert; /* raised at (ms), 0 = not */
};

struct user {
	struct st_user rec;
	struct wb_agent wb;
	unsigned roles;
	enum presence presence;
	char away_reason[ST_TEXT];
	int64_t presence_since;
	int64_t ix_id; /* current interaction, 0 = none */
	char ix_number[ST_NUMBER];
	int sessions;		    /* signed-in sessions */
	int64_t idle_since;	    /* became Available (longest-idle routing) */
	int64_t offered_ix;	    /* an offer (or a transfer) is ringing this agent, 0 = none */
	uint32_t xfer_in, xfer_out; /* transfers taken / given today (transfer.c) */
	int64_t xfer_day;
	uv_timer_t *wrapup; /* AfterCallWork timeout, NULL = none */
	struct routing *wrapup_r;
	/* the contact trace record of a segment this agent left by a transfer,
	 * waiting for their after-contact work to end (ctr.c), NULL = none */
	struct ctr_seg *ctr_acw;
	UT_hash_handle hh_name, hh_id;
};

struct qentry;

/* A contact segment's trace record while routing builds it (ctr.c). */
struct ctr_seg {
	struct st_ctr rec;
	int64_t held_since; /* the customer is on hold since (ms), 0 = not */
	bool ended;	    /* the contact ended (disconnect or transfer): talk is known */
};

struct ix {
	struct st_interaction rec;
	enum ix_state state;
	int64_t queued_at;
	int64_t answered_at;	  /* an agent took it (ms), 0 = not yet: handle time */
	struct qentry *entry;	  /* while waiting in a queue */
	bool recorded;		  /* a recording exists: its URL goes with every status change */
	struct ctr_seg *ctr;	  /* the current segment's record (ctr.c), NULL until needed */
	struct ctr_seg *ctr_next; /* the next one while a transfer is under way, or NULL */
	int ctr_segs;		  /* segments begun (numbering) */
	UT_hash_handle hh;
};

#define QENTRY_MAX_MISSED 8
/* A caller waiting in a queue. */
struct qentry {
	struct qentry *prev, *next;
	struct queue *q;
	struct ix *x;
	int priority;			   /* within the queue: higher first */
	int64_t arrived;		   /* ms: order within a priority (earliest first) */
	bool xfer;			   /* a transfer waits here (transfer.c): WIP, not queued */
	int64_t xfer_from;		   /* the agent who transferred it: never offered it back */
	int64_t offered_to;		   /* user id ringing now, 0 = none */
	int64_t missed[QENTRY_MAX_MISSED]; /* agents who missed this call */
	int64_t missed_at[QENTRY_MAX_MISSED]; /* when (ms) */
	size_t n_missed;
};

/* wallboard.c: a queue's figures of today and of the last 15 minutes */
#define WB_MINUTES 15
struct wb_minute {
	int64_t minute; /* since 1970 */
	uint32_t arrivals, handled;
	int64_t handle_ms;
};
struct wb_queue {
	uint32_t offered, answered, abandoned, transferred;
	uint32_t answered_in_sl, abandoned_in_sl, handled;
	int64_t answer_ms, handle_ms;
	struct wb_minute recent[WB_MINUTES]; /* by minute % WB_MINUTES */
	bool dirty;			     /* changed since the last push */
	int64_t at_risk;		     /* the sl_at_risk alert raised at (ms), 0 = not */
	char pushed[256];		     /* the last figures pushed, as compared */
};

struct queue {
	struct st_queue rec;
	struct wb_queue wb;
	int64_t *members; /* user ids */
	int *member_prio; /* beside members: 1 first */
	size_t n_members, cap_members;
	struct qentry *head, *tail; /* waiting callers, priority then arrival */
	size_t waiting;
	int aht_s; /* moving average handle time, 0 = none yet */
};

struct routing {
	uv_loop_t *loop;
	struct store *store;
	bool awa_enabled;
	struct user **users;
	size_t n_users, cap_users;
	struct user *by_name, *by_id;
	struct ix *open;
	struct queue **queues; /* by id order; a deleted queue stays (history names it) */
	size_t n_queues, cap_queues;
	int64_t next_queue_id;
	struct st_audit *audit_next; /* routing_audit_attach: goes with the next change */
	struct st_flag *flags;
	size_t n_flags;
	struct st_quick_connect *quick; /* quick connects, by id (quickconn.c) */
	size_t n_quick, cap_quick;
	int64_t next_quick_id;
	int64_t next_ix_id, next_user_id;
	int64_t next_conv_id; /* conversations (outbound.c) */
	routing_event_h *ev_h;
	void *ev_arg;
	const struct routing_outbox *outbox; /* routing_outbox_set (hook/), NULL = none */
	void *outbox_arg;
	const struct routing_ops *ops; /* call control (offers, devices) */
	void *ops_arg;
	int offer_timeout_ms, wrapup_timeout_ms;
	bool dispatching;
	uv_timer_t *dispatch_timer; /* runs dispatch on the next loop turn */
	struct wallboard *wb;	    /* wallboard.c, NULL until started */
};

struct ix *routing_ix_by_id(struct routing *r, int64_t id);
/* queues.c */
struct queue *queue_by_id(struct routing *r, int64_t id);
int queue_add(struct routing *r, const struct st_queue *rec, struct queue **qp);
int queue_member_put(struct queue *q, int64_t user_id, int priority);
void queue_free(struct queue *q);

/* quickconn.c: the quick connects of the snapshot */
int quick_load(struct routing *r, const struct st_snapshot *s);

/* change.c: building and committing a change (see its DESIGN block) */
#define CHANGE_MAX_EVENTS 6
/* user insert, agent upsert, a grant per role, audit, a contact trace
 * record; then an outbox op per event (change_submit adds them last) */
#define CHANGE_MAX_BASE_OPS (5 + ROLE__N)
#define CHANGE_MAX_OPS	    (CHANGE_MAX_BASE_OPS + CHANGE_MAX_EVENTS)
struct change_event {
	enum routing_event_kind kind;
	int64_t user_id;
	int64_t at;
	char from[24], to[24];
	char reason[ST_TEXT];
	char interaction[ST_NUMBER];
	char actor[ST_NAME];
	size_t ctr_op; /* RT_EV_CTR: 1 + the index of its STORE_OP_CTR_SET op */
};
struct change {
	struct routing *r;
	struct store_op ops[CHANGE_MAX_OPS];
	size_t n_ops;
	struct change_event ev[CHANGE_MAX_EVENTS];
	size_t n_ev;
	size_t n_outbox; /* outbox ops among ops (routing_outbox_set) */
	routing_done_h *done;
	void *arg;
};
struct change *change_new(struct routing *r, routing_done_h *done, void *arg);
int change_submit(struct change *c);
struct store_op *change_op(struct change *c, enum store_op_kind kind);
struct change_event *change_ev(struct change *c, enum routing_event_kind kind, const struct user *u,
			       const char *actor);
void change_activity(struct change *c, const struct ix *x, const char *kind, const char *actor,
		     const char *text);
/* The same by id, for an interaction no longer in memory (closed). */
void change_activity_id(struct change *c, int64_t ix_id, const char *kind, const char *actor,
			const char *text);
/* The same, about an interaction the agent is not assigned (a missed offer):
 * the history row and the event name it. */
void presence_apply_about(struct change *c, struct user *u, enum presence to, const char *reason,
			  const char *actor, const struct ix *about);
void presence_apply(struct change *c, struct user *u, enum presence to, const char *reason,
		    const char *actor);
int ix_apply(struct change *c, struct ix *x, enum ix_event ev, const struct user *agent,
	     const char *reason, const char *actor);
void ix_forget_if_closed(struct routing *r, struct ix *x);
void change_ix_store(struct change *c, const struct ix *x);
/* engine.c, for transfer.c: a caller into / out of a queue's waiting list */
/* A waiting entry and the change that records its entering (-ENOMEM). */
int engine_entry_alloc(struct routing *r, struct qentry **en, struct change **c);
/* x waits in q on en (filled in: priority, transfer fields): inserted by
 * priority then arrival (0 = now), counted offered today. */
void engine_entry_enter(struct queue *q, struct ix *x, struct qentry *en, int64_t arrived);
void engine_entry_add_missed(struct qentry *en, int64_t uid);
/* ---- wallboard.c: what routing tells the wallboard (docs/WALLBOARD.md) ---- */
void wb_joined(struct routing *r, struct queue *q, const struct ix *x);
void wb_queue_changed(struct routing *r, struct queue *q);
/* x left q (answered: u; abandoned; else why: overflow, transfer …). */
void wb_answered(struct routing *r, struct queue *q, const struct ix *x, const struct user *u);
void wb_abandoned(struct routing *r, struct queue *q, const struct ix *x);
void wb_left(struct routing *r, struct queue *q, const struct ix *x, const char *why);
void wb_offered(struct routing *r, struct queue *q, const struct ix *x, const struct user *u);
void wb_missed(struct routing *r, const struct ix *x, struct user *u);
/* a segment answered from queue_id was transferred (type, to) */
void wb_transferred(struct routing *r, const struct st_ctr *seg);
/* a segment's record is final: its handle time counts */
void wb_ctr_final(struct routing *r, const struct st_ctr *seg);
void wb_hold(struct routing *r, const struct ix *x, bool on);
void wb_presence(struct routing *r, struct user *u);
void wb_free(struct routing *r);
/* engine.c */
void engine_on_presence(struct routing *r, struct user *u, enum presence from);
void engine_entry_remove(struct routing *r, struct ix *x);
int user_add(struct routing *r, const struct st_user *rec, struct user **up);
/* ---- ctr.c: contact trace records (docs/CTR.md) ----
 * Pure parts, on a record alone (tests/unit/test_ctr.c): */
#define CTR_ATTR_VALUE_MAX 256 /* an attribute's value is cut to this (whole characters) */
/* Numbers the record: ids "<number>-<segment>", the initial "-1", the
 * previous "-<segment - 1>" (none for 1), channel VOICE, the method, the
 * initiation time. Other fields zero. */
void ctr_seg_init(struct ctr_seg *s, const char *number, int64_t ix_id, int segment,
		  const char *method, int64_t at);
/* The attributes as one JSON object in out: names and values escaped,
 * bytes that are not UTF-8 as '?', values cut to CTR_ATTR_VALUE_MAX; pairs
 * that do not fit are left out. Returns how many were left out. */
size_t ctr_attrs_json(char *out, size_t size, const struct routing_ctr_attr *a, size_t n);
/* Hold on (true) or off at now: counts holds, their total and the longest. */
void ctr_hold(struct ctr_seg *s, bool on, int64_t now);
/* The first report of who ended the contact (and when) counts. */
void ctr_disconnect(struct ctr_seg *s, enum ctr_reason why, int64_t now);
/* The contact ended (once): the disconnect (why, now) unless reported, an
 * open hold closed, the agent's talk time from connected to disconnect less
 * holds. */
void ctr_end(struct ctr_seg *s, enum ctr_reason why, int64_t now);
/* The agent's after-contact work ended (with their wrap-up code). */
void ctr_acw_end(struct ctr_seg *s, const char *code, int64_t now);
/* One line for the activity stream. */
void ctr_summary(const struct st_ctr *c, char *buf, size_t size);
/* Routing's side (routing state, changes): */
/* The interaction's current segment; made from its record for one loaded
 * at start (or NULL when out of memory). */
struct ctr_seg *ctr_of(struct routing *r, struct ix *x);
/* The segment a transfer's offer is for: the one being prepared, else the
 * current (a blind transfer to a queue has begun it already). */
struct ctr_seg *ctr_for_transfer(struct routing *r, struct ix *x);
void ctr_enqueue(struct ctr_seg *s, const struct queue *q, int64_t now);
/* The interaction left its queue entry (answered, abandoned, overflow ...). */
void ctr_dequeue(struct routing *r, struct ix *x, int64_t now);
void ctr_agent(struct ctr_seg *s, const struct user *u, int64_t now);
/* A transfer begins: the next segment is prepared (method transfer or
 * queue_transfer, the attributes carried over); dropped when the transfer
 * does not complete. */
struct ctr_seg *ctr_next_begin(struct routing *r, struct ix *x, const char *method);
void ctr_next_drop(struct ix *x);
/* The segment is written with c; final: with its activity entry and
 * RT_EV_CTR. */
void ctr_put(struct change *c, struct ctr_seg *s, bool final, int64_t now);
/* The transfer completed: the current segment ends (transfer, to `type`
 * `to`), `from` keeps it until their after-contact work ends (from_acw),
 * and the next segment becomes the current one. */
void ctr_promote(struct change *c, struct ix *x, struct user *from, bool from_acw, const char *type,
		 const char *to);
/* The agent's call ended: the contact ends, their after-contact work
 * begins (acw), the record is written (not final). */
void ctr_call_ended(struct change *c, struct ix *x, const struct user *u, bool acw);
/* The interaction closes (ix_apply): the current segment is final. */
void ctr_closed(struct change *c, struct ix *x, enum ix_event ev);
/* The agent's after-contact work ended (Clear contact): the segment they
 * left by a transfer is final (their code goes into it). */
void ctr_user_acw_end(struct change *c, struct user *u, const char *code);
void ctr_free(struct ix *x);

/* outbound.c: FailedConnectAgent has been shown (the per-agent timer). */
#define ROUTING_FAILED_SHOW_MS 2000
void outbound_failed_done(struct routing *r, struct user *u);

#endif
