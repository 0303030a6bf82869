/*
 * xfer.c — transfers (SPEC.md §6, docs/DOMAIN.md "Transfers and
 * conferences"): the call's agent transfers it to a second agent, to a
 * queue (whose next agent is then offered it the same way) or to an
 * external number; the second agent consults with the first, joins the
 * customer in (three parties), and the first agent stays or leaves, when
 * the interaction is reassigned. From desk phones: a REFER (blind), or the
 * phone's own consult call then a REFER with Replaces (attended).
 *
 * DESIGN
 * - The second agent's phone is a CONSULT leg of the same call, in the
 *   call's media conference: while it rings and during the consult the
 *   customer is in it on hold (MIXER_HOLD: hears no one, is heard by no
 *   one) and hears the hold music; Join sets the customer back to talk, so
 *   the three hear each other. When the first agent leaves, their leg goes
 *   and the consult leg becomes the call's AGENT leg: two talkers again, so
 *   the conference falls back to the relay. The recording is the
 *   conference's and runs across the whole call.
 * - The phases are rows of the call's table (call.c): xfer_queued,
 *   xfer_ring, consult, conference (and transfer, for an external number);
 *   the actions are here. A queue transfer waits in routing's queue as a
 *   transfer entry; routing offers it through routing_ops.offer, which
 *   rings the CONSULT leg (xfer_queue_offer) and a miss puts it back.
 * - The first agent's phone hanging up (or their Leave) during the consult
 *   or the conference completes the transfer, as an attended transfer on
 *   hang-up does. During the ring it goes on blind: to an agent the first
 *   stays Busy until the second answers (reassigned) or misses (the call
 *   ends: nobody to give the customer back to); to a queue, where the wait
 *   may be long, they wrap up at once and the interaction waits unassigned.
 *   End call by an agent in these phases is their Leave.
 * - A desk phone's attended transfer: its consult call to another agent's
 *   user name (callctl.c authenticates it) becomes a TRANSFEROR leg of the
 *   customer's call and a warm transfer to that agent; it is answered when
 *   the second agent answers and talks to them (the first leg is held by
 *   the phone and put on MIXER_HOLD). REFER with Replaces completes it; the
 *   phone hanging up that call cancels it.
 * - Presence and records are routing's (routing/transfer.c): each step
 *   writes one change with its activity entry; call control announces the
 *   softphones' events (RT_EV_CALL: transfer_ringing, transfer_queued,
 *   transfer_accepted, consult, joined, left, transferred, transfer_failed,
 *   transfer_cancelled, second_left) and the second agent's offer
 *   (RT_EV_OFFER with who transfers and why).
 * - Whether a phone's answer counts (usable media, routing still lets the
 *   second agent take it) is decided before the event, like an offer's.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <string.h>

static const char *uname(const struct user *u)
{
	return u ? user_record(u)->user_name : "-";
}

static const char *dname(const struct user *u)
{
	return u ? user_record(u)->name : "-";
}

static void leg_end(struct call *c, struct cleg *l)
{
	if (!l)
		return;
	call_leg_hangup(c->cc, l);
	call_leg_drop(c, l);
}

/* The customer in the conference: on hold (music, hears and is heard by
 * no one) or talking again (what they hear follows c->held, c->muted). */
static void customer_hold(struct call *c, bool hold)
{
	struct cleg *cu = call_customer(c);

	if (!cu || !cu->m)
		return;
	if (cu->ops->join(cu, hold ? MIXER_HOLD : MIXER_TALK, NULL))
		log_warn("call=%s action=the customer's conference mode did not change",
			 c->ix_number);
	if (hold)
		hold_music(c);
	else
		call_media_apply(c);
}

/* The first agent's phone's own consult call (an attended transfer from a
 * desk phone) ends: refused while unanswered, else hung up. Their first
 * leg talks in the conference again. */
static void transferor_end(struct call *c, int status)
{
	struct cleg *t = call_leg(c, LEG_TRANSFEROR), *ag = call_leg(c, LEG_AGENT);

	if (!t)
		return;
	if (t->state == LEG_DIALLING) { /* inbound, not answered: refused */
		t->ops->refuse(c->cc, t->leg, status, status == 487 ? "Request Terminated" : NULL);
		cleg_state_set(t, LEG_GONE);
	}
	call_leg_hangup(c->cc, t);
	call_leg_drop(c, t);
	free(c->xfer_offer);
	c->xfer_offer = NULL;
	if (ag && ag->m && ag->ops->join(ag, MIXER_TALK, NULL))
		log_warn("call=%s action=the first agent's leg did not rejoin", c->ix_number);
}

/* Back to a two-party call with the first agent: no transfer in flight. */
static void xfer_clear(struct call *c)
{
	transferor_end(c, 487);
	c->xfer_user = NULL;
	c->xfer_queue_id = 0;
	c->xfer_queue[0] = '\0';
}

static void xfer_noanswer(uv_timer_t *t)
{
	call_event(t->data, CEV_CONSULT_FAIL, &(struct call_arg){.why = "no answer"});
}

static void xfer_external_noanswer(uv_timer_t *t)
{
	call_event(t->data, CEV_TRANSFER_FAIL, &(struct call_arg){.why = "no answer"});
}

/* Rings the second agent's phone on a new CONSULT leg. */
static int consult_dial(struct call *c, struct user *to, bool auto_answer)
{
	const char *contact = callctl_agent_contact(c->cc, to);
	struct cleg *l;
	int err;

	if (!contact)
		return -ENODEV;
	err = call_leg_new(c, LEG_CONSULT, &l);
	if (err)
		return err;
	l->user = to;
	err = call_leg_dial(l, contact, c->caller_number,
			    c->out_name[0] ? c->out_name : c->caller_number, auto_answer);
	if (err) {
		call_leg_drop(c, l);
		return err == -EADDRINUSE || err == -ENOMEM ? err : -EIO;
	}
	cleg_state_set(l, LEG_DIALLING);
	return 0;
}

/* The second agent answered: the first agent's phone's consult call is
 * answered too, and talks to them in the conference (its first leg is on
 * hold there: the phone held it). */
static void transferor_answer(struct call *c)
{
	struct cleg *t = call_leg(c, LEG_TRANSFEROR), *ag = call_leg(c, LEG_AGENT);
	int status;

	if (!t || t->state != LEG_DIALLING)
		return;
	status = t->ops->answer(t, c->xfer_offer ? c->xfer_offer : "");
	if (status) {
		log_warn("call=%s action=the transferor's consult call not answered: %d",
			 c->ix_number, status);
		t->ops->refuse(c->cc, t->leg, status, NULL);
		cleg_state_set(t, LEG_GONE);
		call_leg_drop(c, t);
		return;
	}
	cleg_state_set(t, LEG_UP);
	if (t->ops->join(t, MIXER_TALK, NULL) || (ag && ag->ops->join(ag, MIXER_HOLD, NULL)))
		log_error("call=%s action=the transferor's consult call not joined", c->ix_number);
}

/* ---- an attended transfer from a desk phone ---- */
static struct call *call_of_agent(struct callctl *cc, const struct user *u)
{
	struct call *c, *tmp;

	HASH_ITER(hh, cc->calls, c, tmp)
	if (c->agent_user == u && call_leg(c, LEG_AGENT) && c->state < CALL_ENDING)
		return c;
	return NULL;
}

static int refer_status(int err);

void xfer_on_consult_invite(struct callctl *cc, struct user *from, struct user *to,
			    const struct sip_event *ev)
{
	struct call *c = call_of_agent(cc, from);
	struct callctl_xfer_to x = {.agent = to};
	const char *why = "";
	struct cleg *t;
	int err;

	if (!c) { /* calls between agents are only a consult during a call */
		cc->leg_ops->refuse(cc, ev->leg, 403, "Only a consult during a call");
		log_info("call from=%s to=%s action=refused: not on a call",
			 user_record(from)->user_name, user_record(to)->user_name);
		return;
	}
	if (c->n_legs == CALL_MAX_LEGS || call_leg(c, LEG_TRANSFEROR)) {
		cc->leg_ops->refuse(cc, ev->leg, 486, "A transfer is in progress");
		return;
	}
	err = call_leg_new(c, LEG_TRANSFEROR, &t);
	if (!err) {
		call_leg_bind(cc, t, ev->leg);
		t->user = from;
		cleg_state_set(t, LEG_DIALLING); /* inbound, answered when the second agent is */
		c->xfer_offer = strdup(ev->sdp);
		err = c->xfer_offer ? 0 : -ENOMEM;
	}
	if (!err)
		err = callctl_transfer(cc, c->ix_number, from, &x, CALLCTL_XFER_WARM,
				       "from the phone", &why);
	if (err) {
		log_info("call=%s action=consult from the phone to %s refused: %s", c->ix_number,
			 user_record(to)->user_name, why);
		if ((t = call_leg(c, LEG_TRANSFEROR))) {
			t->ops->refuse(cc, t->leg, refer_status(err), why[0] ? why : NULL);
			cleg_state_set(t, LEG_GONE);
			call_leg_drop(c, t);
		} else {
			cc->leg_ops->refuse(cc, ev->leg, 500, NULL);
		}
		free(c->xfer_offer);
		c->xfer_offer = NULL;
		return;
	}
	log_info("call=%s agent=%s action=consult from the phone to %s", c->ix_number,
		 user_record(from)->user_name, user_record(to)->user_name);
}

void xfer_transferor_gone(struct call *c, struct cleg *l, struct call_arg *a)
{
	/* the phone hung up (or cancelled) its consult call: a cancel before
	 * the join (xfer_clear drops the leg); after it, the leg goes alone */
	a->leg = call_leg(c, LEG_AGENT);
	if (call_event(c, CEV_XFER_CANCEL, a))
		transferor_end(c, 487);
	(void)l;
}

/* ---- the API ---- */
static struct call *call_of(struct callctl *cc, const char *number)
{
	int64_t id = routing_ix_id_of(number);
	struct call *c = id ? call_find(cc, id) : NULL;

	return c && !strcmp(c->ix_number, number) && c->state < CALL_ENDING ? c : NULL;
}

int callctl_call_parties(struct callctl *cc, const char *ix_number, struct callctl_parties *p)
{
	struct call *c = call_of(cc, ix_number);

	memset(p, 0, sizeof(*p));
	if (!c || call_leg(c, LEG_EXTERNAL))
		return CC_ENOTFOUND;
	p->agent = c->agent_user;
	p->second = c->xfer_user;
	p->offering = c->state == CALL_OFFERING;
	p->second_ringing = c->state == CALL_XFER_RING && c->xfer_user;
	p->first_on = call_leg(c, LEG_AGENT) != NULL;
	p->phase = call_state_name(c->state);
	p->customer_held = c->held || c->state == CALL_XFER_RING || c->state == CALL_CONSULT ||
			   c->state == CALL_XFER_QUEUED;
	p->queue = c->xfer_queue_id ? c->xfer_queue : NULL;
	for (size_t i = 0; i < c->n_legs && i < CALLCTL_MAX_PARTIES; i++) {
		const struct cleg *l = c->legs[i];
		p->legs[p->n_legs++] = (struct callctl_party){
			.role = cleg_role_name(l->role),
			.user = l->role == LEG_AGENT ? c->agent_user : l->user,
			.state = cleg_state_name(l->state),
		};
		p->legs[p->n_legs - 1].has_rtc =
			browser_leg_quality(cc, l, &p->legs[p->n_legs - 1].rtc);
	}
	return 0;
}

/* Why a transfer cannot start on c by `by`, or NULL. */
static int transfer_refused(const struct call *c, const struct user *by, const char **why)
{
	if (c->agent_user != by || !call_leg(c, LEG_AGENT)) {
		*why = "only the call's agent may transfer it";
		return CC_EFORBIDDEN;
	}
	if (c->state != CALL_BRIDGED) {
		*why = c->state == CALL_XFER_RING || c->state == CALL_CONSULT ||
				       c->state == CALL_CONFERENCE || c->state == CALL_XFER_QUEUED
			       ? "a transfer is already in progress"
			       : "only a connected call can be transferred";
		return CC_EILLEGAL;
	}
	return 0;
}

static int transfer_external(struct call *c, struct user *by, const struct callctl_xfer_to *to,
			     enum callctl_xfer_mode mode, const char **why)
{
	char uri[200];

	if (mode != CALLCTL_XFER_BLIND) {
		*why = "a warm transfer to an external number is not built yet: use \"mode\": "
		       "\"blind\"";
		return -ENOTSUP;
	}
	if (call_number_uri(c->cc, to->number, uri, sizeof(uri))) {
		*why = "no outbound route for external numbers (calls.outbound_uri)";
		return -ENETUNREACH;
	}
	str_copy(c->xfer_number, to->number, sizeof(c->xfer_number));
	str_copy(c->xfer_label, to->label ? to->label : "", sizeof(c->xfer_label));
	return call_event(c, CEV_XFER_EXTERNAL, &(struct call_arg){.actor = uname(by)});
}

int callctl_transfer(struct callctl *cc, const char *ix_number, struct user *by,
		     const struct callctl_xfer_to *to, enum callctl_xfer_mode mode,
		     const char *note, const char **why)
{
	struct call *c = call_of(cc, ix_number);
	int err;

	*why = "";
	if (!c)
		return CC_ENOTFOUND;
	err = transfer_refused(c, by, why);
	if (err)
		return err;
	str_copy(c->xfer_note, note ? note : "", sizeof(c->xfer_note));
	str_copy(c->xfer_by, uname(by), sizeof(c->xfer_by));
	if (to->number)
		return transfer_external(c, by, to, mode, why);
	if (to->queue_id) {
		err = call_event(c, CEV_XFER_QUEUE, &(struct call_arg){.queue_id = to->queue_id});
	} else {
		err = routing_transfer_check(cc->r, by, to->agent, why);
		if (err)
			return err == -EINVAL ? err : CC_ECONFLICT; /* they cannot take it */
		err = consult_dial(c, to->agent, false);
		if (err) {
			*why = "the second agent's phone could not be called";
			return err;
		}
		err = call_event(c, CEV_XFER,
				 &(struct call_arg){.user = to->agent, .actor = uname(by)});
	}
	if (!err && mode == CALLCTL_XFER_BLIND)
		err = call_event(
			c, CEV_LEAVE,
			&(struct call_arg){.leg = call_leg(c, LEG_AGENT), .actor = uname(by)});
	return err;
}

/* What a REFER's Refer-To names: an agent (user name), a number that
 * leads to a queue, or an external number (digits, '+' first allowed). */
static int refer_target(struct call *c, const char *user, struct callctl_xfer_to *to)
{
	struct number *n = NULL;
	size_t digits = 0;

	to->agent = routing_user_find(c->cc->r, user);
	if (to->agent && user_is_agent(to->agent))
		return 0;
	to->agent = NULL;
	HASH_FIND_STR(c->cc->numbers, user, n);
	if (n && n->queue_id) {
		to->queue_id = n->queue_id;
		return 0;
	}
	for (const char *p = user; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!(*p == '+' && p == user))
			return CC_ENOTFOUND;
	}
	if (digits < 3)
		return CC_ENOTFOUND;
	to->number = user;
	return 0;
}

/* The SIP status a refused transfer reads as in the phone's NOTIFY. */
static int refer_status(int err)
{
	switch (err) {
	case CC_ENOTFOUND:
	case CC_EFORBIDDEN: return 403; /* not 404: it would end the dialog */
	case CC_EILLEGAL: return 491;
	case -EINVAL: return 400;
	case CC_ECONFLICT: return 480;
	case -ENETUNREACH: return 503;
	default: return 500;
	}
}

void xfer_on_refer(struct call *c, struct cleg *l, const struct sip_event *ev)
{
	struct callctl_xfer_to to = {0};
	const char *why = "";
	char reason[64];
	int err;

	if (!c || l->role != LEG_AGENT || !c->agent_user) {
		l->ops->refer_reply(l, 403, "Only the call's agent transfers it");
		return;
	}
	if (ev->replaces) { /* the phone's consult call replaces it: the transfer completes */
		if (!call_leg(c, LEG_TRANSFEROR) ||
		    (c->state != CALL_XFER_RING && c->state != CALL_CONSULT &&
		     c->state != CALL_CONFERENCE)) {
			l->ops->refer_reply(l, 403, "No consult call to transfer to");
			return;
		}
		l->ops->refer_reply(l, 202, "Accepted");
		mem_ref(l);
		transferor_end(c, 487);
		call_event(c, CEV_LEAVE,
			   &(struct call_arg){.leg = l, .actor = uname(c->agent_user)});
		log_info("call=%s action=attended transfer from the phone completed", c->ix_number);
		mem_deref(l);
		return;
	}
	err = refer_target(c, ev->to_user, &to);
	if (err) { /* not 404: it ends the dialog (RFC 5057), and the call goes on */
		snprintf(reason, sizeof(reason), "No agent, queue or number '%.32s'", ev->to_user);
		l->ops->refer_reply(l, 403, reason);
		log_info("call=%s action=refer to %s refused: unknown", c->ix_number, ev->to_user);
		return;
	}
	mem_ref(l);
	/* the answer before the BYE a blind transfer sends to this phone */
	err = transfer_refused(c, c->agent_user, &why);
	if (!err && to.agent) {
		err = routing_transfer_check(c->cc->r, c->agent_user, to.agent, &why);
		err = err && err != -EINVAL ? CC_ECONFLICT : err; /* they cannot take it */
	}
	if (!err)
		l->ops->refer_reply(l, 202, "Accepted");
	else
		l->ops->refer_reply(l, refer_status(err), why);
	if (!err)
		err = callctl_transfer(c->cc, c->ix_number, c->agent_user, &to, CALLCTL_XFER_BLIND,
				       "from the phone", &why);
	log_info("call=%s action=refer to %s: %s", c->ix_number, ev->to_user,
		 err ? why : "transferred");
	mem_deref(l);
}

int xfer_queue_offer(struct call *c, struct user *u)
{
	int err;

	if (c->state != CALL_XFER_QUEUED)
		return -ENOENT;
	err = consult_dial(c, u, false);
	if (err)
		return err;
	return call_event(c, CEV_OFFER, &(struct call_arg){.user = u});
}

int callctl_transfer_step(struct callctl *cc, const char *ix_number, struct user *by,
			  enum callctl_xfer_step step, const char **why)
{
	struct call *c = call_of(cc, ix_number);
	struct call_arg a = {.actor = uname(by)};
	bool first = c && by == c->agent_user, second = c && by == c->xfer_user;

	*why = "";
	if (!c)
		return CC_ENOTFOUND;
	if (!first && !second) {
		*why = "you are not on this call";
		return CC_EFORBIDDEN;
	}
	switch (step) {
	case CALLCTL_JOIN:
		if (!second) {
			*why = "only the agent receiving the transfer joins the customer in";
			return CC_EFORBIDDEN;
		}
		*why = "join is possible during the consult only";
		return call_event(c, CEV_JOIN, &a);
	case CALLCTL_CANCEL_TRANSFER:
		if (!first) {
			*why = "only the transferring agent cancels the transfer";
			return CC_EFORBIDDEN;
		}
		*why = "cancel is possible before the join only";
		return call_event(c, CEV_XFER_CANCEL, &a);
	default:
		a.leg = call_leg(c, first ? LEG_AGENT : LEG_CONSULT);
		*why = "leave is possible during a transfer only";
		if (!a.leg || (second && c->state == CALL_XFER_RING))
			return CC_EILLEGAL;
		return call_event(c, CEV_LEAVE, &a);
	}
}

int xfer_end_by(struct call *c, const struct user *u)
{
	struct call_arg a = {.actor = uname(u)};

	if (u == c->xfer_user && c->state == CALL_XFER_RING)
		return call_event(c, CEV_CONSULT_FAIL, &(struct call_arg){.why = "rejected"});
	a.leg = u == c->agent_user  ? call_leg(c, LEG_AGENT)
		: u == c->xfer_user ? call_leg(c, LEG_CONSULT)
				    : NULL;
	return a.leg ? call_event(c, CEV_LEAVE, &a) : CC_EILLEGAL;
}

/* ---- SIP, decided into facts ---- */
void xfer_answered(struct call *c, struct cleg *l, struct call_arg *a)
{
	if (c->state != CALL_XFER_RING || !c->xfer_user) {
		leg_end(c, l); /* a stray answer: nothing wants it */
		return;
	}
	if (l->ops->remote(l, a->sip->sdp)) {
		a->why = "no usable answer";
		call_event(c, CEV_CONSULT_FAIL, a);
		return;
	}
	if (routing_transfer_accepted(c->cc->r, c->ix_id, c->xfer_user)) {
		a->why = "agent no longer available";
		call_event(c, CEV_CONSULT_FAIL, a);
		return;
	}
	call_event(c, CEV_CONSULT_UP, a);
}

void xfer_leg_failed(struct call *c, struct call_arg *a)
{
	char why[80];

	if (a->sip && a->sip->kind == SIP_EV_FAILED)
		snprintf(why, sizeof(why), "%s (SIP %d)",
			 a->sip->status == 486 || a->sip->status == 603 ? "rejected"
			 : a->sip->status == 408			? "no answer"
									: "not answered",
			 a->sip->status);
	else
		str_copy(why, "the phone hung up", sizeof(why));
	a->why = why;
	call_event(c, CEV_CONSULT_FAIL, a);
	a->why = NULL;
}

/* ---- the table's actions ---- */
/* The customer on hold, the first agent hearing silence (or the consult). */
static void hold_for_transfer(struct call *c)
{
	struct cleg *ag = call_leg(c, LEG_AGENT);

	if (ag)
		ag->ops->stop(ag);
	c->held = false;
	customer_hold(c, true);
}

/* A second agent's phone rings (xfer_ring): the ring timer, their screen
 * pop with who transfers and why, INTERNAL-TRANSFER on the first's. */
static void ring_second(struct call *c, struct user *to)
{
	c->xfer_user = to;
	ctimer_start(c, &c->timer, xfer_noanswer, c->cc->cfg.offer_timeout_ms);
	call_offer_announce(c->cc, c, to, c->xfer_by, c->xfer_note);
	call_announce_to(c, c->agent_user, "transfer_ringing", uname(to));
	log_info("call=%s agent=%s action=transfer to %s: ringing", c->ix_number,
		 uname(c->agent_user), uname(to));
}

/* BRIDGED → XFER_RING: the consult leg rings (callctl_transfer dialled it). */
void act_xfer_start(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[300];

	snprintf(text, sizeof(text), "Transfer to %s started%s%s", dname(a->user),
		 c->xfer_note[0] ? ": " : "", c->xfer_note);
	routing_transfer_begin(c->cc->r, c->ix_id, c->agent_user, a->user, text);
	hold_for_transfer(c);
	ring_second(c, a->user);
	(void)from;
}

/* BRIDGED → XFER_QUEUED: the customer waits in the queue, on hold with its
 * music; the first agent stays on (INTERNAL-TRANSFER) unless they leave. */
void act_xferq_start(struct call *c, enum call_state from, struct call_arg *a)
{
	const char *name = routing_queue_name(c->cc->r, a->queue_id);
	char text[300];

	c->xfer_queue_id = a->queue_id;
	str_copy(c->xfer_queue, name ? name : "?", sizeof(c->xfer_queue));
	call_queue_music(c, a->queue_id);
	hold_for_transfer(c);
	snprintf(text, sizeof(text), "Transfer to queue %s started%s%s", c->xfer_queue,
		 c->xfer_note[0] ? ": " : "", c->xfer_note);
	if (routing_transfer_enqueue(c->cc->r, c->ix_id, a->queue_id, c->agent_user, text))
		log_error("call=%s action=transfer to queue %s: not enqueued", c->ix_number,
			  c->xfer_queue);
	call_announce_to(c, c->agent_user, "transfer_queued", c->xfer_queue);
	log_info("call=%s agent=%s action=transfer to queue %s", c->ix_number, uname(c->agent_user),
		 c->xfer_queue);
	(void)from;
}

/* XFER_QUEUED → XFER_RING: the queue offers the call to the next agent
 * (xfer_queue_offer rang their phone). */
void act_xferq_offer(struct call *c, enum call_state from, struct call_arg *a)
{
	ring_second(c, a->user);
	(void)from;
}

/* BRIDGED → TRANSFER: a blind transfer to an external number: it rings as
 * the call's EXTERNAL leg; the agent leaves at once and wraps up. */
void act_xfer_external(struct call *c, enum call_state from, struct call_arg *a)
{
	struct callctl *cc = c->cc;
	char uri[200], text[512]; /* every part at its longest: never cut */
	struct cleg *far;
	int err = call_number_uri(cc, c->xfer_number, uri, sizeof(uri));

	snprintf(text, sizeof(text), "Transfer to %s%s%s%s started by %s%s%s", c->xfer_label,
		 c->xfer_label[0] ? " (" : "", c->xfer_number, c->xfer_label[0] ? ")" : "",
		 dname(c->agent_user), c->xfer_note[0] ? ": " : "", c->xfer_note);
	routing_ix_note(cc->r, c->ix_id, "transfer", text);
	leg_end(c, call_leg(c, LEG_AGENT));
	routing_ctr_transferred(cc->r, c->ix_id, c->xfer_number); /* the agent's part ends */
	routing_ctr_disconnect(cc->r, c->ix_id, CTR_REASON_TRANSFER);
	routing_agent_call_ended(cc->r, c->agent_user);
	call_announce_to(c, c->agent_user, "left", c->xfer_number);
	if (!err)
		err = call_leg_new(c, LEG_EXTERNAL, &far);
	if (!err) {
		err = far->ops->dial(far, uri, c->caller_number, c->caller_number, false);
		if (err)
			call_leg_drop(c, far);
		else
			cleg_state_set(far, LEG_DIALLING);
	}
	hold_music(c);
	if (err) {
		call_event(c, CEV_TRANSFER_FAIL,
			   &(struct call_arg){.why = "the call could not be placed"});
		return;
	}
	ctimer_start(c, &c->timer, xfer_external_noanswer, cc->cfg.transfer_timeout_ms);
	log_info("call=%s action=transfer dialling %s", c->ix_number, uri);
	(void)from, (void)a;
}

/* TRANSFER → ENDING: the external number did not answer; the agent had
 * left, so the call ends (the interaction is theirs to wrap up). */
void act_xfer_external_failed(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[200], why[80];
	const char *w = a->why;

	ctimer_stop(&c->timer);
	if (!w && a->sip && a->sip->kind == SIP_EV_FAILED)
		snprintf(why, sizeof(why), "SIP %d", a->sip->status), w = why;
	snprintf(text, sizeof(text), "Transfer to %s failed: %s; the call ended", c->xfer_number,
		 w ? w : "the far end hung up");
	routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	log_info("call=%s action=%s", c->ix_number, text);
	leg_end(c, call_leg(c, LEG_EXTERNAL));
	routing_ix_caller_gone(c->cc->r, c->ix_id);
	call_end_legs(c, from);
}

/* XFER_RING → XFER_RING: Accept from the second agent's softphone: ring
 * their phone again with auto-answer. */
void act_xfer_accept(struct call *c, enum call_state from, struct call_arg *a)
{
	leg_end(c, call_leg(c, LEG_CONSULT));
	if (consult_dial(c, c->xfer_user, true)) {
		call_event(c, CEV_CONSULT_FAIL,
			   &(struct call_arg){.why = "the phone could not be asked to answer"});
		return;
	}
	ctimer_start(c, &c->timer, xfer_noanswer, c->cc->cfg.offer_timeout_ms);
	(void)from, (void)a;
}

/* The second agent's phone answered: it talks in the conference. */
static void second_up(struct call *c)
{
	struct cleg *l = call_leg(c, LEG_CONSULT);

	ctimer_stop(&c->timer);
	cleg_state_set(l, LEG_UP);
	if (l->ops->join(l, MIXER_TALK, NULL))
		log_error("call=%s action=the second agent could not be joined", c->ix_number);
}

/* XFER_RING → CONSULT: the second agent answered; the agents talk. */
void act_consult_up(struct call *c, enum call_state from, struct call_arg *a)
{
	second_up(c);
	transferor_answer(c);
	call_announce_to(c, c->agent_user, "transfer_accepted", uname(c->xfer_user));
	call_announce_to(c, c->xfer_user, "consult", uname(c->agent_user));
	log_info("call=%s agent=%s action=consult with %s", c->ix_number, uname(c->agent_user),
		 uname(c->xfer_user));
	(void)from, (void)a;
}

/* The first agent is gone: the second agent has the call. */
static void handover(struct call *c)
{
	struct user *from = c->agent_user, *to = c->xfer_user;
	struct cleg *l = call_leg(c, LEG_CONSULT);

	routing_transfer_reassign(c->cc->r, c->ix_id, from, to);
	l->role = LEG_AGENT;
	c->agent_user = to;
	xfer_clear(c);
	c->held = false, c->muted = false;
	customer_hold(c, false);
	call_announce_to(c, from, "left", uname(to));
	call_announce_to(c, to, "transferred", uname(from));
	log_info("call=%s agent=%s action=transferred from %s", c->ix_number, uname(to),
		 uname(from));
}

/* XFER_RING → BRIDGED: the second agent answered after the first left. */
void act_xfer_complete(struct call *c, enum call_state from, struct call_arg *a)
{
	second_up(c);
	handover(c);
	(void)from, (void)a;
}

static void missed(struct call *c, const char *why, const char *then)
{
	char text[300];

	ctimer_stop(&c->timer);
	leg_end(c, call_leg(c, LEG_CONSULT));
	transferor_end(c, 480);
	snprintf(text, sizeof(text), "Transfer to %s failed: %s%s", dname(c->xfer_user),
		 why ? why : "not answered", then);
	routing_transfer_missed(c->cc->r, c->ix_id, c->xfer_user, text, why ? why : "not answered");
	log_info("call=%s action=%s", c->ix_number, text);
	snprintf(text, sizeof(text), "%s: %s", uname(c->xfer_user), why ? why : "not answered");
	call_announce_to(c, c->agent_user, "transfer_failed", text);
	c->xfer_user = NULL;
}

/* XFER_RING → BRIDGED: not taken; the customer stays on hold with the
 * first agent, who may resume or transfer again. */
void act_xfer_failed(struct call *c, enum call_state from, struct call_arg *a)
{
	missed(c, a->why, "");
	c->held = true;
	customer_hold(c, false); /* talk mode, but held: the music goes on */
	(void)from;
}

/* XFER_RING → XFER_QUEUED: not taken; the call waits in the queue for the
 * next agent there (the first agent, if still on, is told). */
void act_xferq_missed(struct call *c, enum call_state from, struct call_arg *a)
{
	missed(c, a->why, "; the call waits in the queue");
	(void)from;
}

/* XFER_RING → ENDING: not taken, and the first agent had left. */
void act_xfer_orphaned(struct call *c, enum call_state from, struct call_arg *a)
{
	missed(c, a->why, "; the transferring agent had left, so the call ended");
	routing_ctr_disconnect(c->cc->r, c->ix_id, CTR_REASON_SYSTEM);
	call_end_legs(c, from);
}

/* XFER_QUEUED / XFER_RING / CONSULT → BRIDGED: the first agent cancels. */
void act_xfer_cancel(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[300];
	struct user *to = c->xfer_user;

	ctimer_stop(&c->timer);
	leg_end(c, call_leg(c, LEG_CONSULT));
	if (c->xfer_queue_id && !to)
		snprintf(text, sizeof(text), "Transfer to queue %s cancelled by %s", c->xfer_queue,
			 dname(c->agent_user));
	else
		snprintf(text, sizeof(text), "Transfer to %s cancelled by %s", dname(to),
			 dname(c->agent_user));
	routing_transfer_dropped(c->cc->r, c->ix_id, to, uname(c->agent_user), text);
	xfer_clear(c);
	c->held = false;
	customer_hold(c, false);
	call_announce_to(c, c->agent_user, "transfer_cancelled", to ? uname(to) : "");
	if (to)
		call_announce_to(c, to, "transfer_cancelled", uname(c->agent_user));
	log_info("call=%s action=%s", c->ix_number, text);
	(void)from, (void)a;
}

/* XFER_RING / XFER_QUEUED: the first agent left (or hung up) before anyone
 * took the call: the transfer goes on as a blind one. To an agent, the
 * first stays Busy until the second answers or misses (a short ring); to a
 * queue, where the wait may be long, they go to wrap-up now and the
 * interaction waits unassigned for the agent who takes it. */
void act_first_left(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[300];

	leg_end(c, call_leg(c, LEG_AGENT));
	if (c->xfer_queue_id) {
		snprintf(text, sizeof(text), "%s left; the call waits in queue %s",
			 dname(c->agent_user), c->xfer_queue);
		routing_transfer_unassign(c->cc->r, c->ix_id, c->agent_user, text);
	} else {
		snprintf(text, sizeof(text), "%s left; the transfer to %s goes on",
			 dname(c->agent_user), dname(c->xfer_user));
		routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	}
	call_announce_to(c, c->agent_user, "left",
			 c->xfer_user ? uname(c->xfer_user) : c->xfer_queue);
	log_info("call=%s action=%s", c->ix_number, text);
	(void)from, (void)a;
}

/* CONSULT / CONFERENCE → BRIDGED: the first agent left or hung up. */
void act_first_left_complete(struct call *c, enum call_state from, struct call_arg *a)
{
	leg_end(c, call_leg(c, LEG_AGENT));
	handover(c);
	(void)from, (void)a;
}

/* CONSULT → CONFERENCE: the second agent brings the customer in. */
void act_join(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[200];

	c->held = false;
	customer_hold(c, false);
	snprintf(text, sizeof(text), "%s joined", dname(c->xfer_user));
	routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	call_announce_to(c, c->agent_user, "joined", uname(c->xfer_user));
	call_announce_to(c, c->xfer_user, "joined", uname(c->xfer_user));
	log_info("call=%s action=%s: three parties", c->ix_number, text);
	(void)from, (void)a;
}

/* CONSULT / CONFERENCE → BRIDGED: the second agent left or hung up; the
 * first keeps the call (after a consult the customer is still on hold). */
void act_consult_gone(struct call *c, enum call_state from, struct call_arg *a)
{
	struct user *to = c->xfer_user;
	char text[200];

	leg_end(c, call_leg(c, LEG_CONSULT));
	snprintf(text, sizeof(text), "%s left", dname(to));
	routing_transfer_dropped(c->cc->r, c->ix_id, to, uname(to), text);
	xfer_clear(c);
	c->held = from == CALL_CONSULT;
	customer_hold(c, false);
	call_announce_to(c, c->agent_user, "second_left", uname(to));
	call_announce_to(c, to, "left", uname(c->agent_user));
	log_info("call=%s action=%s", c->ix_number, text);
	(void)a;
}
