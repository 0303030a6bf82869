/* routing_int.h — structures private to routing/. */
#ifndef SB_ROUTING_INT_H
#define SB_ROUTING_INT_H

#include "routing/routing.h"
#include <uthash.h>

struct user {
	struct st_user rec;
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
	UT_hash_handle hh_name, hh_id;
};

struct qentry;

struct ix {
	struct st_interaction rec;
	enum ix_state state;
	int64_t queued_at;
	int64_t answered_at;  /* an agent took it (ms), 0 = not yet: handle time */
	struct qentry *entry; /* while waiting in a queue */
	bool recorded;	      /* a recording exists: its URL goes with every status change */
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

struct queue {
	struct st_queue rec;
	int64_t *members; /* user ids */
	int *member_prio; /* beside members: 1 first */
	size_t n_members, cap_members;
	struct qentry *head, *tail; /* waiting callers, priority then arrival */
	size_t waiting;
	uint32_t offered, answered, abandoned; /* today */
	int64_t day;			       /* the day the counters are for */
	int aht_s;			       /* moving average handle time, 0 = none yet */
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
#define CHANGE_MAX_EVENTS 4
/* user insert, agent upsert, a grant per role, audit; then an outbox op per
 * event (change_submit adds them last) */
#define CHANGE_MAX_BASE_OPS (3 + ROLE__N)
#define CHANGE_MAX_OPS	    (CHANGE_MAX_BASE_OPS + CHANGE_MAX_EVENTS)
struct change_event {
	enum routing_event_kind kind;
	int64_t user_id;
	int64_t at;
	char from[24], to[24];
	char reason[ST_TEXT];
	char interaction[ST_NUMBER];
	char actor[ST_NAME];
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
void change_activity(struct change *c, const struct ix *x, const char *kind, const char *actor,
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
void engine_entry_insert(struct queue *q, struct qentry *en);
void engine_entry_add_missed(struct qentry *en, int64_t uid);
void engine_queue_day_roll(struct queue *q);
/* engine.c */
void engine_on_presence(struct routing *r, struct user *u, enum presence from);
void engine_entry_remove(struct routing *r, struct ix *x);
int user_add(struct routing *r, const struct st_user *rec, struct user **up);
/* outbound.c: FailedConnectAgent has been shown (the per-agent timer). */
#define ROUTING_FAILED_SHOW_MS 2000
void outbound_failed_done(struct routing *r, struct user *u);

#endif
