/*
 * xfer.c — transfers between agents (SPEC.md §6, docs/DOMAIN.md
 * "Transfers"): the first agent transfers the call to a second agent, whose
 * phone is offered it while the customer is on hold; the second agent
 * accepts and consults with the first, then joins the customer in (three
 * parties) or the first agent leaves, and the interaction is reassigned.
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
 * - The phases are rows of the call's table (call.c): xfer_ring, consult,
 *   conference; the actions are here. The first agent's phone hanging up
 *   (or their Leave) during the ring or the consult completes the transfer
 *   as an attended transfer on hang-up does: during the ring the first
 *   agent stays Busy until the second answers (then the interaction is
 *   reassigned) or misses (then the call ends: there is no one to give the
 *   customer back to, and the interaction stays the first agent's to wrap
 *   up). End call by an agent in these phases is their Leave.
 * - Presence and records are routing's (routing/transfer.c): each step
 *   writes one change with its activity entry; call control announces the
 *   softphones' events (RT_EV_CALL: transfer_ringing, transfer_accepted,
 *   consult, joined, left, transferred, transfer_failed,
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

static void xfer_noanswer(uv_timer_t *t)
{
	call_event(t->data, CEV_CONSULT_FAIL, &(struct call_arg){.why = "no answer"});
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
	err = l->ops->dial(l, contact, c->caller_number,
			   c->out_name[0] ? c->out_name : c->caller_number, auto_answer);
	if (err) {
		call_leg_drop(c, l);
		return err == -EADDRINUSE || err == -ENOMEM ? err : -EIO;
	}
	cleg_state_set(l, LEG_DIALLING);
	return 0;
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
	p->customer_held = c->held || c->state == CALL_XFER_RING || c->state == CALL_CONSULT;
	for (size_t i = 0; i < c->n_legs && i < CALLCTL_MAX_PARTIES; i++) {
		const struct cleg *l = c->legs[i];
		p->legs[p->n_legs++] = (struct callctl_party){
			.role = cleg_role_name(l->role),
			.user = l->role == LEG_AGENT ? c->agent_user : l->user,
			.state = cleg_state_name(l->state),
		};
	}
	return 0;
}

int callctl_transfer(struct callctl *cc, const char *ix_number, struct user *by, struct user *to,
		     enum callctl_xfer_mode mode, const char *note, const char **why)
{
	struct call *c = call_of(cc, ix_number);
	int err;

	*why = "";
	if (!c)
		return CC_ENOTFOUND;
	if (c->agent_user != by || !call_leg(c, LEG_AGENT)) {
		*why = "only the call's agent may transfer it";
		return CC_EFORBIDDEN;
	}
	if (c->state != CALL_BRIDGED) {
		*why = c->state == CALL_XFER_RING || c->state == CALL_CONSULT ||
				       c->state == CALL_CONFERENCE
			       ? "a transfer is already in progress"
			       : "only a connected call can be transferred";
		return CC_EILLEGAL;
	}
	err = routing_transfer_check(cc->r, by, to, why);
	if (err)
		return err == -EINVAL ? err : CC_ECONFLICT; /* the second agent cannot take it */
	err = consult_dial(c, to, false);
	if (err) {
		*why = "the second agent's phone could not be called";
		return err;
	}
	str_copy(c->xfer_note, note ? note : "", sizeof(c->xfer_note));
	str_copy(c->xfer_by, uname(by), sizeof(c->xfer_by));
	err = call_event(c, CEV_XFER, &(struct call_arg){.user = to, .actor = uname(by)});
	if (!err && mode == CALLCTL_XFER_BLIND)
		err = call_event(c, CEV_LEAVE,
				 &(struct call_arg){.leg = call_leg(c, LEG_AGENT), .actor = uname(by)});
	return err;
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
	a.leg = u == c->agent_user ? call_leg(c, LEG_AGENT)
	      : u == c->xfer_user  ? call_leg(c, LEG_CONSULT)
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
/* BRIDGED → XFER_RING: the consult leg rings (callctl_transfer dialled it). */
void act_xfer_start(struct call *c, enum call_state from, struct call_arg *a)
{
	struct cleg *ag = call_leg(c, LEG_AGENT);
	char text[300];

	c->xfer_user = a->user;
	snprintf(text, sizeof(text), "Transfer to %s started%s%s", dname(a->user),
		 c->xfer_note[0] ? ": " : "", c->xfer_note);
	routing_transfer_begin(c->cc->r, c->ix_id, c->agent_user, a->user, text);
	if (ag)
		ag->ops->stop(ag); /* the first agent hears the consult, not silence */
	c->held = false;
	customer_hold(c, true);
	ctimer_start(c, &c->timer, xfer_noanswer, c->cc->cfg.offer_timeout_ms);
	call_offer_announce(c->cc, c, a->user, c->xfer_by, c->xfer_note);
	call_announce_to(c, c->agent_user, "transfer_ringing", uname(a->user));
	log_info("call=%s agent=%s action=transfer to %s: ringing", c->ix_number,
		 uname(c->agent_user), uname(a->user));
	(void)from;
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

/* XFER_RING → CONSULT: the second agent answered; the agents talk. */
void act_consult_up(struct call *c, enum call_state from, struct call_arg *a)
{
	struct cleg *l = call_leg(c, LEG_CONSULT);

	ctimer_stop(&c->timer);
	cleg_state_set(l, LEG_UP);
	if (l->ops->join(l, MIXER_TALK, NULL))
		log_error("call=%s action=the second agent could not be joined", c->ix_number);
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
	c->xfer_user = NULL;
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
	struct cleg *l = call_leg(c, LEG_CONSULT);

	ctimer_stop(&c->timer);
	cleg_state_set(l, LEG_UP);
	if (l->ops->join(l, MIXER_TALK, NULL))
		log_error("call=%s action=the second agent could not be joined", c->ix_number);
	handover(c);
	(void)from, (void)a;
}

static void missed(struct call *c, const char *why, const char *then)
{
	char text[300];

	ctimer_stop(&c->timer);
	leg_end(c, call_leg(c, LEG_CONSULT));
	snprintf(text, sizeof(text), "Transfer to %s failed: %s%s", dname(c->xfer_user),
		 why ? why : "not answered", then);
	routing_transfer_missed(c->cc->r, c->ix_id, c->xfer_user, text,
				why ? why : "not answered");
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

/* XFER_RING → ENDING: not taken, and the first agent had left. */
void act_xfer_orphaned(struct call *c, enum call_state from, struct call_arg *a)
{
	missed(c, a->why, "; the transferring agent had left, so the call ended");
	call_end_legs(c, from);
}

/* XFER_RING / CONSULT → BRIDGED: the first agent cancels. */
void act_xfer_cancel(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[300];
	struct user *to = c->xfer_user;

	ctimer_stop(&c->timer);
	leg_end(c, call_leg(c, LEG_CONSULT));
	snprintf(text, sizeof(text), "Transfer to %s cancelled by %s", dname(to),
		 dname(c->agent_user));
	routing_transfer_dropped(c->cc->r, c->ix_id, to, uname(c->agent_user), text);
	c->xfer_user = NULL;
	c->held = false;
	customer_hold(c, false);
	call_announce_to(c, c->agent_user, "transfer_cancelled", uname(to));
	call_announce_to(c, to, "transfer_cancelled", uname(c->agent_user));
	log_info("call=%s action=%s", c->ix_number, text);
	(void)from, (void)a;
}

/* XFER_RING → XFER_RING: the first agent left (or hung up) while the
 * second's phone rings: the transfer goes on as a blind one. */
void act_first_left(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[300];

	leg_end(c, call_leg(c, LEG_AGENT));
	snprintf(text, sizeof(text), "%s left; the transfer to %s goes on", dname(c->agent_user),
		 dname(c->xfer_user));
	routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	call_announce_to(c, c->agent_user, "left", uname(c->xfer_user));
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
	c->xfer_user = NULL;
	c->held = from == CALL_CONSULT;
	customer_hold(c, false);
	call_announce_to(c, c->agent_user, "second_left", uname(to));
	call_announce_to(c, to, "left", uname(c->agent_user));
	log_info("call=%s action=%s", c->ix_number, text);
	(void)a;
}
