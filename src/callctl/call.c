/*
 * call.c — a call's state table: the one entry point (call_event) that
 * moves a call from phase to phase, and the legs' own small machine.
 *
 * DESIGN
 * - A call's phase is one of enum call_state; it changes only here, by a
 *   row {state, event, guard, next, action} of call_table. call_event()
 *   looks the row up (the first whose guard passes), sets the next state,
 *   logs "from→to" with the call, interaction and leg, then runs the
 *   action. An event the table does not hold for the state is refused
 *   (CC_EILLEGAL, logged at debug): a late timer or a stale SIP event of a
 *   call that has moved on does nothing.
 * - Events are facts, decided where they happen: "the agent's leg is up
 *   with usable media and routing gave them the call" is CEV_AGENT_UP; an
 *   answer without usable media is CEV_OFFER_FAIL. Feature files (flowctl,
 *   queueopts, botctl, outbound, transfer) raise events and provide the
 *   actions; they never write the state.
 * - An action runs with the new state set and may raise further events;
 *   the call holds a reference across it (mem_ref), so an action that ends
 *   and releases the call leaves call_event a valid object to return from.
 * - Which kind of call this is (inbound, click-to-call, a flow's transfer)
 *   shows in the legs it has and their roles, not in flags: the far end of
 *   a transfer is an EXTERNAL leg, an agent's phone an AGENT leg, the
 *   customer (calling in or called) the CUSTOMER leg.
 * - A leg has its own machine (idle → dialling → up ⇄ held → ending →
 *   gone), set through cleg_state_set() and logged the same way.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[CALL__N] = {
	[CALL_NEW] = "new",
	[CALL_FLOW] = "flow",
	[CALL_GREETING] = "greeting",
	[CALL_QUEUED] = "queued",
	[CALL_OFFERING] = "offering",
	[CALL_BRIDGED] = "bridged",
	[CALL_TRANSFER] = "transfer",
	[CALL_OUT_AGENT] = "out_agent",
	[CALL_OUT_CUSTOMER] = "out_customer",
	[CALL_XFER_QUEUED] = "xfer_queued",
	[CALL_XFER_RING] = "xfer_ring",
	[CALL_CONSULT] = "consult",
	[CALL_CONFERENCE] = "conference",
	[CALL_ENDING] = "ending",
	[CALL_GONE] = "gone",
};

static const char *const event_names[CEV__N] = {
	[CEV_FLOW] = "flow",
	[CEV_GREET] = "greet",
	[CEV_DIAL] = "dial",
	[CEV_ENQUEUE] = "enqueue",
	[CEV_OFFER] = "offer",
	[CEV_OFFER_CANCEL] = "offer_cancel",
	[CEV_OFFER_FAIL] = "offer_fail",
	[CEV_ACCEPT] = "accept",
	[CEV_OVERFLOW] = "overflow",
	[CEV_TRANSFER] = "transfer",
	[CEV_TRANSFER_FAIL] = "transfer_fail",
	[CEV_OUT_FAIL] = "out_fail",
	[CEV_CUSTOMER_UP] = "customer_up",
	[CEV_CUSTOMER_GONE] = "customer_gone",
	[CEV_AGENT_UP] = "agent_up",
	[CEV_AGENT_GONE] = "agent_gone",
	[CEV_EXTERNAL_UP] = "external_up",
	[CEV_EXTERNAL_GONE] = "external_gone",
	[CEV_HANGUP] = "hangup",
	[CEV_END] = "end",
	[CEV_SETTLED] = "settled",
	[CEV_XFER] = "xfer",
	[CEV_XFER_QUEUE] = "xfer_queue",
	[CEV_XFER_EXTERNAL] = "xfer_external",
	[CEV_CONSULT_UP] = "consult_up",
	[CEV_CONSULT_FAIL] = "consult_fail",
	[CEV_CONSULT_GONE] = "consult_gone",
	[CEV_XFER_CANCEL] = "xfer_cancel",
	[CEV_JOIN] = "join",
	[CEV_LEAVE] = "leave",
	[CEV_SHUTDOWN] = "shutdown",
};

static const char *const leg_state_names[LEG__N] = {
	[LEG_IDLE] = "idle", [LEG_DIALLING] = "dialling", [LEG_UP] = "up",
	[LEG_HELD] = "held", [LEG_ENDING] = "ending",	  [LEG_GONE] = "gone",
};

static const char *const leg_role_names[LEG_ROLE__N] = {
	[LEG_CUSTOMER] = "customer", [LEG_AGENT] = "agent",
	[LEG_CONSULT] = "consult",   [LEG_SUPERVISOR] = "supervisor",
	[LEG_EXTERNAL] = "external", [LEG_TRANSFEROR] = "transferor",
};

const char *call_state_name(enum call_state s)
{
	return (unsigned)s < CALL__N ? state_names[s] : "?";
}

const char *call_event_name(enum call_ev e)
{
	return (unsigned)e < CEV__N ? event_names[e] : "?";
}

const char *cleg_state_name(enum leg_state s)
{
	return (unsigned)s < LEG__N ? leg_state_names[s] : "?";
}

const char *cleg_role_name(enum leg_role r)
{
	return (unsigned)r < LEG_ROLE__N ? leg_role_names[r] : "?";
}

/* ---- guards ---- */
/* Every leg of the call has ended: the call can go. */
static bool g_all_gone(const struct call *c, const struct call_arg *a)
{
	(void)a;
	for (size_t i = 0; i < c->n_legs; i++)
		if (!cleg_done(c->legs[i]))
			return false;
	return true;
}

/* The first agent is still on the call (a transfer's consult). */
static bool g_has_agent(const struct call *c, const struct call_arg *a)
{
	(void)a;
	return call_leg(c, LEG_AGENT) != NULL;
}

/* The leg that leaves is the first agent's (not the second's). */
static bool g_first_leaves(const struct call *c, const struct call_arg *a)
{
	return a->leg ? a->leg->role == LEG_AGENT : g_has_agent(c, a);
}

/* The transfer is to a queue (the customer waits there between offers). */
static bool g_to_queue(const struct call *c, const struct call_arg *a)
{
	(void)a;
	return c->xfer_queue_id != 0;
}

/* An agent transferred the call (not a flow's transfer block). */
static bool g_by_agent(const struct call *c, const struct call_arg *a)
{
	(void)a;
	return c->agent_user != NULL;
}

/* ---- the table ----
 * Read it as: in state, on event, if guard (NULL: always), go to next and
 * run action (NULL: nothing more). Rows of a state are tried in order. */
#define ROW(s, e, g, n, a)                                                                         \
	{                                                                                          \
		CALL_##s, CEV_##e, g, CALL_##n, a                                                  \
	}
static const struct call_row call_table[] = {
	/* an inbound call, answered */
	ROW(NEW, FLOW, NULL, FLOW, act_flow_start),
	ROW(NEW, GREET, NULL, GREETING, act_greet),
	/* click-to-call: the agent's own phone rings first */
	ROW(NEW, DIAL, NULL, OUT_AGENT, act_dial_agent),
	/* the greeting, the flow */
	ROW(GREETING, ENQUEUE, NULL, QUEUED, act_enqueue),
	ROW(GREETING, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	ROW(FLOW, ENQUEUE, NULL, QUEUED, act_enqueue),
	ROW(FLOW, TRANSFER, NULL, TRANSFER, act_transfer_start),
	ROW(FLOW, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	ROW(FLOW, HANGUP, NULL, ENDING, act_caller_closes),
	/* waiting in a queue */
	ROW(QUEUED, ENQUEUE, NULL, QUEUED, act_enqueue), /* a queue's own overflow */
	ROW(QUEUED, OFFER, NULL, OFFERING, act_offer),
	ROW(QUEUED, OVERFLOW, NULL, FLOW, act_overflow_resume),
	ROW(QUEUED, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* an agent's phone rings */
	ROW(OFFERING, AGENT_UP, NULL, BRIDGED, act_bridge),
	ROW(OFFERING, OFFER_FAIL, NULL, QUEUED, act_offer_failed),
	ROW(OFFERING, AGENT_GONE, NULL, QUEUED, act_offer_failed),
	ROW(OFFERING, OFFER_CANCEL, NULL, QUEUED, act_offer_cancelled),
	ROW(OFFERING, ACCEPT, NULL, OFFERING, act_accept),
	ROW(OFFERING, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* a flow's transfer: the external number rings */
	ROW(TRANSFER, EXTERNAL_UP, NULL, BRIDGED, act_transfer_bridged),
	ROW(TRANSFER, EXTERNAL_GONE, g_by_agent, ENDING, act_xfer_external_failed),
	ROW(TRANSFER, TRANSFER_FAIL, g_by_agent, ENDING, act_xfer_external_failed),
	ROW(TRANSFER, EXTERNAL_GONE, NULL, FLOW, act_transfer_failed),
	ROW(TRANSFER, TRANSFER_FAIL, NULL, FLOW, act_transfer_failed),
	ROW(TRANSFER, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* click-to-call: the agent's phone, then the customer's */
	ROW(OUT_AGENT, AGENT_UP, NULL, OUT_CUSTOMER, act_customer_dial),
	ROW(OUT_AGENT, AGENT_GONE, NULL, ENDING, act_out_fail),
	ROW(OUT_AGENT, OUT_FAIL, NULL, ENDING, act_out_fail),
	ROW(OUT_CUSTOMER, CUSTOMER_UP, NULL, BRIDGED, act_out_connected),
	ROW(OUT_CUSTOMER, CUSTOMER_GONE, NULL, ENDING, act_out_fail),
	ROW(OUT_CUSTOMER, AGENT_GONE, NULL, ENDING, act_out_fail),
	ROW(OUT_CUSTOMER, OUT_FAIL, NULL, ENDING, act_out_fail),
	/* talking */
	ROW(BRIDGED, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	ROW(BRIDGED, AGENT_GONE, NULL, ENDING, act_end),
	ROW(BRIDGED, EXTERNAL_GONE, NULL, ENDING, act_caller_closes),
	ROW(BRIDGED, END, NULL, ENDING, act_end),
	ROW(BRIDGED, XFER, NULL, XFER_RING, act_xfer_start),
	ROW(BRIDGED, XFER_QUEUE, NULL, XFER_QUEUED, act_xferq_start),
	ROW(BRIDGED, XFER_EXTERNAL, NULL, TRANSFER, act_xfer_external),
	/* a transfer to a queue: the customer waits there on hold; the queue
	 * offers the next agent (then as a transfer to that agent) */
	ROW(XFER_QUEUED, OFFER, NULL, XFER_RING, act_xferq_offer),
	ROW(XFER_QUEUED, XFER_CANCEL, g_has_agent, BRIDGED, act_xfer_cancel),
	ROW(XFER_QUEUED, LEAVE, g_has_agent, XFER_QUEUED, act_first_left),
	ROW(XFER_QUEUED, AGENT_GONE, NULL, XFER_QUEUED, act_first_left),
	ROW(XFER_QUEUED, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* a transfer to another agent (xfer.c): their phone rings, the
	 * customer on hold; the first agent may leave, cancel, or wait */
	ROW(XFER_RING, CONSULT_UP, g_has_agent, CONSULT, act_consult_up),
	ROW(XFER_RING, CONSULT_UP, NULL, BRIDGED, act_xfer_complete), /* the first had left */
	ROW(XFER_RING, CONSULT_FAIL, g_to_queue, XFER_QUEUED, act_xferq_missed),
	ROW(XFER_RING, CONSULT_FAIL, g_has_agent, BRIDGED, act_xfer_failed),
	ROW(XFER_RING, CONSULT_FAIL, NULL, ENDING, act_xfer_orphaned),
	ROW(XFER_RING, ACCEPT, NULL, XFER_RING, act_xfer_accept),
	ROW(XFER_RING, XFER_CANCEL, g_has_agent, BRIDGED, act_xfer_cancel),
	ROW(XFER_RING, AGENT_GONE, NULL, XFER_RING, act_first_left),
	ROW(XFER_RING, LEAVE, g_has_agent, XFER_RING, act_first_left),
	ROW(XFER_RING, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* the consult: the two agents talk */
	ROW(CONSULT, JOIN, NULL, CONFERENCE, act_join),
	ROW(CONSULT, XFER_CANCEL, NULL, BRIDGED, act_xfer_cancel),
	ROW(CONSULT, CONSULT_GONE, NULL, BRIDGED, act_consult_gone),
	ROW(CONSULT, LEAVE, g_first_leaves, BRIDGED, act_first_left_complete),
	ROW(CONSULT, LEAVE, NULL, BRIDGED, act_consult_gone),
	ROW(CONSULT, AGENT_GONE, NULL, BRIDGED, act_first_left_complete),
	ROW(CONSULT, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* three parties: either agent may leave */
	ROW(CONFERENCE, LEAVE, g_first_leaves, BRIDGED, act_first_left_complete),
	ROW(CONFERENCE, LEAVE, NULL, BRIDGED, act_consult_gone),
	ROW(CONFERENCE, AGENT_GONE, NULL, BRIDGED, act_first_left_complete),
	ROW(CONFERENCE, CONSULT_GONE, NULL, BRIDGED, act_consult_gone),
	ROW(CONFERENCE, CUSTOMER_GONE, NULL, ENDING, act_customer_gone),
	/* ending: the other legs' BYEs come back; gone once all have (an
	 * external leg only ends last: its call has no third leg to wait for) */
	ROW(ENDING, CUSTOMER_GONE, g_all_gone, GONE, act_release),
	ROW(ENDING, AGENT_GONE, g_all_gone, GONE, act_release),
	ROW(ENDING, EXTERNAL_GONE, g_all_gone, GONE, act_release),
	ROW(ENDING, SETTLED, g_all_gone, GONE, act_release),
	ROW(ENDING, CONSULT_GONE, g_all_gone, GONE, act_release),
	ROW(ENDING, CUSTOMER_GONE, NULL, ENDING, NULL),
	ROW(ENDING, AGENT_GONE, NULL, ENDING, NULL),
	ROW(ENDING, CONSULT_GONE, NULL, ENDING, NULL),
	ROW(ENDING, SETTLED, NULL, ENDING, NULL),
	/* any state but gone (CALL__N: every state) */
	ROW(_N, SHUTDOWN, NULL, GONE, act_release),
};
#undef ROW

/* How often each row was taken (tests check that every row is reached). */
static unsigned row_hits[sizeof(call_table) / sizeof(call_table[0])];

unsigned call_row_hits(size_t i)
{
	return i < sizeof(row_hits) / sizeof(row_hits[0]) ? row_hits[i] : 0;
}

const struct call_row *call_rows(size_t *n)
{
	*n = sizeof(call_table) / sizeof(call_table[0]);
	return call_table;
}

static const char *leg_label(const struct call_arg *a)
{
	return a && a->leg ? cleg_role_name(a->leg->role) : "-";
}

int call_event(struct call *c, enum call_ev ev, struct call_arg *a)
{
	struct call_arg none = {0};
	enum call_state from = c->state;
	const struct call_row *row = NULL;

	if (!a)
		a = &none;
	for (size_t i = 0; i < sizeof(call_table) / sizeof(call_table[0]) && !row; i++) {
		const struct call_row *r = &call_table[i];
		if ((r->state == from || (r->state == CALL__N && from != CALL_GONE)) &&
		    r->event == ev && (!r->guard || r->guard(c, a)))
			row = r;
	}
	if (!row) {
		log_debug("call=%llu ix=%s leg=%s action=refused %s in state %s",
			  (unsigned long long)c->id, c->ix_number, leg_label(a),
			  call_event_name(ev), call_state_name(from));
		return CC_EILLEGAL;
	}
	if (c->state != row->next)
		c->state_since = time_now_ms();
	c->state = row->next;
	row_hits[row - call_table]++;
	log_debug("call=%llu ix=%s leg=%s action=%s: %s→%s", (unsigned long long)c->id,
		  c->ix_number, leg_label(a), call_event_name(ev), call_state_name(from),
		  call_state_name(row->next));
	mem_ref(c); /* the action may release the call: keep it to return */
	if (row->action)
		row->action(c, from, a);
	/* the wallboard's live calls: once per phase, until it ends */
	if (from != row->next && from < CALL_ENDING)
		call_live_announce(c);
	mem_deref(c);
	return 0;
}

/* ---- legs ---- */
int call_leg_new(struct call *c, enum leg_role role, struct cleg **lp)
{
	struct cleg *l;

	if (c->n_legs == CALL_MAX_LEGS)
		return -ENOSPC;
	l = mem_zalloc(sizeof(*l), NULL);
	if (!l)
		return -ENOMEM;
	l->call = c, l->role = role, l->ops = c->cc->leg_ops, l->seq = c->legs_made++;
	c->legs[c->n_legs++] = l;
	*lp = l;
	return 0;
}

int call_leg_dial(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		  bool auto_answer)
{
	/* both transports make their media alike: a leg's media stays */
	l->ops = browser_ops_for(l->call->cc, uri);
	return l->ops->dial(l, uri, from_user, from_name, auto_answer);
}

void call_leg_drop(struct call *c, struct cleg *l)
{
	for (size_t i = 0; i < c->n_legs; i++) {
		if (c->legs[i] != l)
			continue;
		call_leg_release(c->cc, l);
		memmove(&c->legs[i], &c->legs[i + 1], (c->n_legs - i - 1) * sizeof(c->legs[0]));
		c->n_legs--;
		mem_deref(l);
		return;
	}
}

struct cleg *call_leg(const struct call *c, enum leg_role role)
{
	for (size_t i = 0; i < c->n_legs; i++)
		if (c->legs[i]->role == role)
			return c->legs[i];
	return NULL;
}

struct cleg *call_customer(const struct call *c)
{
	return c->n_legs && c->legs[0]->role == LEG_CUSTOMER ? c->legs[0] : NULL;
}

struct cleg *call_peer(const struct call *c)
{
	struct cleg *l = call_leg(c, LEG_AGENT);

	return l ? l : call_leg(c, LEG_EXTERNAL);
}

bool cleg_done(const struct cleg *l)
{
	return l->state == LEG_IDLE || l->state == LEG_GONE;
}

void cleg_state_set(struct cleg *l, enum leg_state to)
{
	if (l->state == to)
		return;
	log_debug("call=%llu ix=%s leg=%s sip=%u action=leg %s→%s",
		  (unsigned long long)(l->call ? l->call->id : 0),
		  l->call ? l->call->ix_number : "", cleg_role_name(l->role), (unsigned)l->leg,
		  cleg_state_name(l->state), cleg_state_name(to));
	l->state = to;
}

/* ---- async work on a call ----
 * A TTS render, a recognition or a store read holds a reference on the
 * call, so its completion finds the call (perhaps gone) instead of looking
 * an id up; seq tells a late result from the current one. */
struct call_work *call_work_new(struct call *c, unsigned seq)
{
	struct call_work *w = calloc(1, sizeof(*w));

	if (w)
		w->c = mem_ref(c), w->seq = seq;
	return w;
}

struct call *call_work_call(const struct call_work *w)
{
	return w->c->state == CALL_GONE ? NULL : w->c;
}

void call_work_free(struct call_work *w)
{
	if (!w)
		return;
	mem_deref(w->c);
	free(w);
}
