/*
 * outbound.c — click-to-call (SPEC.md §3) and the API's call controls
 * (accept / reject an offer, hold, mute, DTMF, End call), plus the screen
 * pop of an inbound offer.
 *
 * DESIGN
 * - Click-to-call is two outbound legs on one struct call (c->outbound):
 *   the agent's own registered phone on the `agent` leg, called first with
 *   auto-answer (Call-Info answer-after=0; baresip's answermode=auto and
 *   desk phones' intercom setting answer at once), then the customer on the
 *   `caller` leg, so the recording's channels are as for inbound calls:
 *   customer left, agent right.
 * - The customer is dialled as soon as the agent's phone answers; the agent
 *   hears "This call will be recorded." (text-to-speech) while the customer
 *   rings, and the bridge replaces the rest of the notice when the customer
 *   answers early. Setup time (API → customer INVITE) is therefore not
 *   lengthened by the notice (docs/PERFORMANCE.md).
 * - Where the customer is called (callctl_target_resolve): the target
 *   user's registered device when they have one (a softphone of the site,
 *   and how tests reach a customer), else calls.outbound_uri with the
 *   number's digits ("+" kept), as a flow's transfer does (transfer.c).
 * - Every way it can fail — the agent's phone does not answer within
 *   calls.offer_timeout or refuses, the customer is busy / unknown /
 *   unreachable / does not answer within calls.dial_timeout, either side
 *   hangs up, End call before the answer — hangs up what is up and reports
 *   routing_outbound_failed (FailedConnectAgent, then Available and Closed
 *   Complete 2 s later). Once connected the call is an ordinary bridged
 *   call: callctl.c's endings apply (AfterCallWork).
 * - Controls act on the media only: hold plays hold music to the customer
 *   and silence to the agent; mute plays silence to the customer (the
 *   recording keeps both channels as received). A phone's own re-INVITE
 *   hold stays callctl.c's.
 * - Accept from the API cannot answer a SIP phone for it: the ringing
 *   INVITE is cancelled and the phone re-rung with auto-answer at once; a
 *   phone that ignores the header rings again and the agent answers it on
 *   the device (or the offer times out as usual). Reject is a missed
 *   offer: the agent goes Missed, the next agent is tried.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTICE "This call will be recorded."

static const char *const action_names[] = {
	[CALLCTL_ACCEPT] = "accept", [CALLCTL_REJECT] = "reject", [CALLCTL_HOLD] = "hold",
	[CALLCTL_RESUME] = "resume", [CALLCTL_MUTE] = "mute",	  [CALLCTL_UNMUTE] = "unmute",
	[CALLCTL_END] = "end",
};

const char *callctl_action_name(enum callctl_action a)
{
	return (unsigned)a <= CALLCTL_END ? action_names[a] : "?";
}

int callctl_action_parse(const char *s, enum callctl_action *a)
{
	for (int i = 0; i <= CALLCTL_END; i++) {
		if (!strcmp(s, action_names[i])) {
			*a = (enum callctl_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- events ---- */
void call_announce_to(struct call *c, const struct user *u, const char *what, const char *detail)
{
	struct routing_event ev = {
		.kind = RT_EV_CALL,
		.user = u ? u : c->agent_user,
		.at = time_now_ms(),
		.from = "",
		.to = what,
		.reason = detail ? detail : "",
		.interaction = c->ix_number,
		.actor = "system",
	};

	routing_announce(c->cc->r, &ev);
}

static void call_announce(struct call *c, const char *what, const char *detail)
{
	call_announce_to(c, NULL, what, detail);
}

void call_no_audio_announce(struct call *c, const char *side)
{
	call_announce(c, "no_audio", side);
}

/* An attribute the call's flow set, or NULL. */
static const char *flow_attr(const struct call *c, const char *name)
{
	return c->fc ? flow_call_get(c->fc, name) : NULL;
}

void outbound_offer_announce(struct callctl *cc, struct call *c, const struct user *u)
{
	call_offer_announce(cc, c, u, NULL, NULL);
}

void call_offer_announce(struct callctl *cc, struct call *c, const struct user *u, const char *from,
			 const char *note)
{
	const struct user *who = routing_user_by_phone(cc->r, c->caller_number);
	const char *contact = flow_attr(c, "caller.contact");
	const char *consumer = flow_attr(c, "caller.consumer");
	struct routing_event ev = {
		.kind = RT_EV_OFFER,
		.user = u,
		.at = time_now_ms(),
		.from = "",
		.to = "ringing",
		.reason = "",
		.interaction = c->ix_number,
		.actor = "system",
		.caller_number = c->caller_number,
		.caller_user = who ? user_record(who)->user_name : "",
		.caller_name = who ? user_record(who)->name : "",
		.queue = routing_queue_name(cc->r, c->queue_id),
		.case_number = flow_attr(c, "case.number"),
		.case_state = flow_attr(c, "case.state"),
		.case_description = flow_attr(c, "case.short_description"),
		.intent = flow_attr(c, "intent"),
		.transfer_from = from,
		.transfer_note = note,
	};

	if (who) {
		ev.caller_table = "user", ev.caller_key = user_record(who)->user_name;
	} else if (contact || consumer) { /* identified by the flow among the records */
		ev.caller_table = contact ? "contact" : "consumer";
		ev.caller_key = contact ? contact : consumer;
		ev.caller_name = flow_attr(c, "caller.name");
	}
	routing_announce(cc->r, &ev);
}

/* ---- targets ---- */
/* Where a number is called: a registered device of its owner (not the
 * calling agent's own), else the outbound route. */
static void route_pick(struct callctl *cc, const struct user *owner, const char *number,
		       struct callctl_resolved *out)
{
	const char *contact = owner ? callctl_agent_contact(cc, owner) : NULL;
	char digits[32];

	if (contact) {
		out->via = "registration";
		str_copy(out->uri, contact, sizeof(out->uri));
		return;
	}
	phone_digits(number, digits, sizeof(digits));
	if (cc->cfg.outbound_uri[0] && digits[0]) {
		out->via = "outbound_uri";
		snprintf(out->uri, sizeof(out->uri), "sip:%s%s@%s", number[0] == '+' ? "+" : "",
			 digits, cc->cfg.outbound_uri + 4);
	}
}

int call_number_uri(struct callctl *cc, const char *number, char *uri, size_t size)
{
	struct callctl_resolved out = {0};

	route_pick(cc, NULL, number, &out);
	if (!out.via)
		return -ENETUNREACH;
	str_copy(uri, out.uri, size);
	return 0;
}

/* The one place a record becomes a number: users from memory; the other
 * records (contact, consumer, case → its contact, incident → its caller)
 * with the number the store found, reaching the registered device of the
 * user who has that phone (an employee calling about an incident, say). */
int callctl_target_resolve(struct callctl *cc, const struct callctl_target *t,
			   struct callctl_resolved *out)
{
	const struct st_user *rec;
	const char *phone;
	struct user *u;

	memset(out, 0, sizeof(*out));
	if (strcmp(t->table, "user")) {
		if (!t->number[0])
			return -EPROTONOSUPPORT;
		str_copy(out->number, t->number, sizeof(out->number));
		str_copy(out->name, t->name, sizeof(out->name));
		str_copy(out->linked, t->key, sizeof(out->linked));
		route_pick(cc, routing_user_by_phone(cc->r, t->number), t->number, out);
		return 0;
	}
	u = routing_user_find(cc->r, t->key);
	if (!u || !user_record(u)->active)
		return CC_ENOTFOUND;
	rec = user_record(u);
	if (!strcmp(t->phone, "mobile"))
		phone = rec->mobile_phone;
	else if (!strcmp(t->phone, "business"))
		phone = rec->business_phone;
	else
		phone = rec->mobile_phone[0] ? rec->mobile_phone : rec->business_phone;
	if (!phone[0])
		return -ENODATA;
	str_copy(out->number, phone, sizeof(out->number));
	str_copy(out->name, rec->name, sizeof(out->name));
	str_copy(out->linked, rec->user_name, sizeof(out->linked));
	route_pick(cc, u, phone, out);
	return 0;
}

/* ---- failing ---- */
static void outbound_fail(struct call *c, const char *why)
{
	struct call_arg a = {.why = why};

	call_event(c, CEV_OUT_FAIL, &a);
}

static void agent_noanswer(uv_timer_t *t)
{
	struct call *c = t->data;

	if (c->state == CALL_OUT_AGENT)
		outbound_fail(c, "the agent's phone did not answer");
}

static void customer_noanswer(uv_timer_t *t)
{
	struct call *c = t->data;

	if (c->state == CALL_OUT_CUSTOMER)
		outbound_fail(c, "no answer");
}

static const char *customer_why(const struct sip_event *ev, char *buf, size_t size);

/* Why a click-to-call failed: given, or from the leg's SIP event. */
static const char *out_why(const struct call_arg *a, char *buf, size_t size)
{
	if (a->why)
		return a->why;
	if (!a->sip || !a->leg)
		return "failed";
	if (a->leg->role == LEG_CUSTOMER)
		return customer_why(a->sip, buf, size);
	if (a->sip->kind == SIP_EV_FAILED)
		snprintf(buf, size, "the agent's phone refused (SIP %d)", a->sip->status);
	else
		snprintf(buf, size, "the agent hung up");
	return buf;
}

/* Who a click-to-call that did not connect is put down to (docs/CTR.md):
 * a SIP failure of a leg is its side's, unless the network's (5xx); the
 * timers and the agent's cancel say it in words. */
static enum ctr_reason out_reason(const struct call_arg *a, const char *why)
{
	if (a->sip && a->leg && !a->why) {
		if (a->sip->kind == SIP_EV_FAILED && a->sip->status >= 500 && a->sip->status < 600)
			return CTR_REASON_ERROR;
		return a->leg->role == LEG_CUSTOMER ? CTR_REASON_CUSTOMER : CTR_REASON_AGENT;
	}
	if (strstr(why, "could not") || strstr(why, "usable"))
		return CTR_REASON_ERROR;
	return !strcmp(why, "no answer") ? CTR_REASON_CUSTOMER : CTR_REASON_AGENT;
}

void act_out_fail(struct call *c, enum call_state from, struct call_arg *a)
{
	char buf[96];
	const char *why = out_why(a, buf, sizeof(buf));

	ctimer_stop(&c->timer);
	routing_ctr_disconnect(c->cc->r, c->ix_id, out_reason(a, why));
	log_info("call=%s agent=%s action=outbound not connected: %s", c->ix_number,
		 c->agent_user ? user_record(c->agent_user)->user_name : "-", why);
	routing_outbound_failed(c->cc->r, c->ix_id, why);
	call_announce(c, "failed", why);
	call_end_legs(c, from);
}

static const char *customer_why(const struct sip_event *ev, char *buf, size_t size)
{
	int st = ev->status;
	const char *what = st == 486 || st == 600		 ? "busy"
			   : st == 603				 ? "declined"
			   : st == 404 || st == 604 || st == 484 ? "unknown number"
			   : st == 408 || st == 480 || st == 487 ? "no answer"
			   : st >= 500				 ? "unreachable"
								 : "failed";

	if (ev->kind == SIP_EV_TERMINATED)
		snprintf(buf, size, "the customer's call ended (%.40s)", ev->reason);
	else
		snprintf(buf, size, "%s (SIP %d)", what, st);
	return buf;
}

/* ---- the steps ---- */
/* The render holds a reference on the call (arg): a call that ended
 * meanwhile is still there to look at, and is not played to. */
static void notice_done(int err, const int16_t *pcm, size_t n, void *arg)
{
	struct call *c = arg;
	struct cleg *ag = c->state == CALL_GONE ? NULL : call_leg(c, LEG_AGENT);

	if (err != -ECANCELED && !err && ag && ag->m &&
	    (c->state == CALL_OUT_CUSTOMER || c->state == CALL_BRIDGED) && !c->held)
		ag->ops->play_ref(ag, (int16_t *)pcm, n, false); /* shared */
	else if (err && err != -ECANCELED && c->state != CALL_GONE)
		log_warn("call=%s action=recording notice not rendered: %s", c->ix_number,
			 cc_strerror(err));
	mem_deref(c);
}

static void notice_play(struct call *c)
{
	if (tts_render(c->cc->tts, NOTICE, NULL, notice_done, mem_ref(c))) {
		log_warn("call=%s action=recording notice not rendered", c->ix_number);
		mem_deref(c);
	}
}

static int64_t since_us(const struct call *c)
{
	return (int64_t)(uv_hrtime() / 1000) - c->out_t0_us;
}

/* The agent's phone answered (OUT_AGENT → OUT_CUSTOMER): the notice, and
 * the customer is dialled. */
void act_customer_dial(struct call *c, enum call_state from, struct call_arg *arg)
{
	struct callctl *cc = c->cc;
	const struct st_user *a = user_record(c->agent_user);
	char from_user[64];

	ctimer_stop(&c->timer);
	cleg_state_set(call_leg(c, LEG_AGENT), LEG_UP);
	log_info("call=%s action=outbound the agent's phone answered after_us=%lld", c->ix_number,
		 (long long)since_us(c));
	call_announce(c, "agent_answered", "");
	notice_play(c);
	phone_digits(a->business_phone, from_user, sizeof(from_user));
	/* what the customer's phone shows: the system endpoint */
	routing_ctr_endpoint(cc->r, c->ix_id, from_user[0] ? from_user : a->user_name);
	if (call_leg_dial(call_customer(c), c->out_uri, from_user[0] ? from_user : a->user_name,
			  a->name, false)) {
		outbound_fail(c, "the customer's phone could not be called");
		return;
	}
	cleg_state_set(call_customer(c), LEG_DIALLING);
	ctimer_start(c, &c->timer, customer_noanswer, cc->cfg.dial_timeout_ms);
	log_info("call=%s action=outbound dialling the customer %s setup_us=%lld", c->ix_number,
		 c->out_uri, (long long)since_us(c));
	call_announce(c, "customer_ringing", c->out_uri);
	(void)from, (void)arg;
}

/* The customer answered (OUT_CUSTOMER → BRIDGED). */
void act_out_connected(struct call *c, enum call_state from, struct call_arg *a)
{
	struct callctl *cc = c->cc;

	ctimer_stop(&c->timer);
	cleg_state_set(call_customer(c), LEG_UP);
	if (routing_outbound_connected(cc->r, c->ix_id))
		log_warn("call=%s action=outbound connected but the agent moved on", c->ix_number);
	call_bridge_start(cc, c);
	log_info("call=%s agent=%s action=bridged (outbound)", c->ix_number,
		 user_record(c->agent_user)->user_name);
	call_announce(c, "connected", "");
	(void)from, (void)a;
}

/* ---- dialling ---- */
static int dial_checks(struct callctl *cc, struct user *u, const struct callctl_target *t,
		       struct callctl_resolved *res)
{
	int err;

	if (!user_can_handle_calls(cc->r, u))
		return CC_EFORBIDDEN;
	err = callctl_target_resolve(cc, t, res);
	if (err)
		return err;
	if (!callctl_agent_contact(cc, u))
		return -ENODEV;
	if (!res->via || !strcmp(res->uri, callctl_agent_contact(cc, u)))
		return -ENETUNREACH;
	return cc->n_calls >= (size_t)cc->cfg.max_calls ? -EBUSY : 0;
}

int callctl_dial(struct callctl *cc, struct user *u, const struct callctl_target *t,
		 struct callctl_resolved *res, char *ix_number, routing_done_h *done, void *arg)
{
	const char *contact;
	struct call *c;
	int err = dial_checks(cc, u, t, res);

	if (err)
		return err;
	contact = callctl_agent_contact(cc, u);
	c = call_alloc(cc);
	if (!c)
		return -ENOMEM;
	c->out_t0_us = (int64_t)(uv_hrtime() / 1000);
	if (call_customer(c)->ops->media(call_customer(c))) { /* an RTP port now, or refused */
		call_free_unadded(c);
		return -EBUSY;
	}
	str_copy(c->caller_number, res->number, sizeof(c->caller_number));
	err = routing_outbound_open(cc->r, u, res->number, t->table, res->linked,
				    user_record(u)->user_name, &c->ix_id, done, arg);
	if (err) {
		call_free_unadded(c);
		return err;
	}
	/* From here the interaction exists: failures are outbound failures. */
	c->outbound = true;
	c->agent_user = u;
	str_copy(c->ix_number, routing_ix_number(cc->r, c->ix_id), sizeof(c->ix_number));
	str_copy(ix_number, c->ix_number, ST_NUMBER);
	str_copy(c->out_uri, res->uri, sizeof(c->out_uri));
	str_copy(c->out_name, res->name, sizeof(c->out_name));
	call_add(cc, c);
	/* The agent's phone shows the customer: their number and name. */
	str_copy(c->caller_number, res->number, sizeof(c->caller_number));
	log_info("call=%s agent=%s action=outbound for %s via %s", c->ix_number,
		 user_record(u)->user_name, res->uri, res->via);
	call_event(c, CEV_DIAL, &(struct call_arg){.contact = contact});
	return 0;
}

/* Click-to-call begins (NEW → OUT_AGENT): the agent's own phone rings
 * with auto-answer. */
void act_dial_agent(struct call *c, enum call_state from, struct call_arg *a)
{
	if (call_offer_ring(c, a->contact, true)) {
		outbound_fail(c, "the agent's phone could not be called");
		return;
	}
	ctimer_start(c, &c->timer, agent_noanswer, c->cc->cfg.offer_timeout_ms);
	log_info("call=%s agent=%s action=outbound ringing the agent's phone %s setup_us=%lld",
		 c->ix_number, user_record(c->agent_user)->user_name, a->contact,
		 (long long)since_us(c));
	call_announce(c, "agent_ringing", a->contact);
	(void)from;
}

/* ---- controls ---- */
static struct call *call_by_number(struct callctl *cc, const char *number)
{
	int64_t id = routing_ix_id_of(number);
	struct call *c = id ? call_find(cc, id) : NULL;

	return c && !strcmp(c->ix_number, number) ? c : NULL;
}

struct user *callctl_call_agent(struct callctl *cc, const char *ix_number, bool *offering)
{
	struct call *c = call_by_number(cc, ix_number);

	if (!c || c->state >= CALL_ENDING || call_leg(c, LEG_EXTERNAL))
		return NULL;
	*offering = c->state == CALL_OFFERING;
	return c->agent_user;
}

static void silence_play(struct cleg *l)
{
	static const int16_t zeros[MEDIA_FRAME];

	if (l->m)
		l->ops->play(l, zeros, MEDIA_FRAME, true);
}

/* What the customer hears now: hold music, silence (muted), or the agent. */
void call_media_apply(struct call *c)
{
	struct cleg *ag = call_leg(c, LEG_AGENT), *cu = call_customer(c);

	if (c->held) {
		hold_music(c);
		if (ag)
			silence_play(ag);
		return;
	}
	if (ag && ag->m)
		ag->ops->stop(ag);
	if (c->muted)
		silence_play(cu);
	else if (cu->m && (!ag || ag->state != LEG_HELD))
		cu->ops->stop(cu);
}

static int media_control(struct call *c, enum callctl_action a, const char *actor)
{
	bool *flag = a == CALLCTL_HOLD || a == CALLCTL_RESUME ? &c->held : &c->muted;
	bool on = a == CALLCTL_HOLD || a == CALLCTL_MUTE;
	char text[128];

	if (c->state != CALL_BRIDGED)
		return CC_EILLEGAL;
	if (*flag == on)
		return 0;
	*flag = on;
	call_media_apply(c);
	if (flag == &c->held)
		routing_ctr_hold(c->cc->r, c->ix_id, on);
	snprintf(text, sizeof(text), "%s by %s",
		 a == CALLCTL_HOLD     ? "Customer on hold"
		 : a == CALLCTL_RESUME ? "Customer off hold"
		 : a == CALLCTL_MUTE   ? "Agent muted"
				       : "Agent unmuted",
		 actor);
	routing_ix_note(c->cc->r, c->ix_id, "call", text);
	log_info("call=%s action=%s actor=%s", c->ix_number, callctl_action_name(a), actor);
	call_announce(c, callctl_action_name(a), actor);
	return 0;
}

static void accepted_noanswer(uv_timer_t *t)
{
	call_offer_failed(t->data, "accepted, but the phone did not answer");
}

/* Accept from the API (OFFERING → OFFERING): cancel the ringing INVITE (its
 * events are dropped with its leg) and ring the phone again with
 * auto-answer. */
static int offer_accept(struct call *c)
{
	if (c->state != CALL_OFFERING || !callctl_agent_contact(c->cc, c->agent_user))
		return CC_EILLEGAL;
	return call_event(c, CEV_ACCEPT, NULL);
}

void act_accept(struct call *c, enum call_state from, struct call_arg *a)
{
	const char *contact = callctl_agent_contact(c->cc, c->agent_user);

	struct cleg *ag = call_leg(c, LEG_AGENT);

	if (ag) { /* a fresh leg for the new INVITE: the old one's events are dropped */
		call_leg_hangup(c->cc, ag);
		call_leg_drop(c, ag);
	}
	if (!contact || call_offer_ring(c, contact, true)) {
		call_offer_failed(c, "the phone could not be asked to answer");
		return;
	}
	/* The call is the agent's now: the ring window starts again for the
	 * re-rung phone (it was still running from the first ring, so an Accept
	 * late in the offer ended as Missed). */
	ctimer_start(c, &c->timer, accepted_noanswer, c->cc->cfg.offer_timeout_ms);
	log_info("call=%s agent=%s action=accept: re-ringing with auto-answer", c->ix_number,
		 user_record(c->agent_user)->user_name);
	(void)from, (void)a;
}

int callctl_call_action(struct callctl *cc, const char *ix_number, enum callctl_action a,
			const char *actor)
{
	struct call *c = call_by_number(cc, ix_number);

	struct user *by = routing_user_find(cc->r, actor);
	bool xfer;

	if (!c || c->state >= CALL_ENDING || call_leg(c, LEG_EXTERNAL))
		return CC_ENOTFOUND;
	xfer = c->state == CALL_XFER_RING || c->state == CALL_CONSULT ||
	       c->state == CALL_CONFERENCE || c->state == CALL_XFER_QUEUED;
	if (xfer && by && by == c->xfer_user && c->state == CALL_XFER_RING &&
	    (a == CALLCTL_ACCEPT || a == CALLCTL_REJECT)) /* the second agent's offer */
		return a == CALLCTL_ACCEPT
			       ? (callctl_agent_contact(cc, by) ? call_event(c, CEV_ACCEPT, NULL)
								: CC_EILLEGAL)
			       : call_event(c, CEV_CONSULT_FAIL,
					    &(struct call_arg){.why = "rejected"});
	if (xfer && a == CALLCTL_END)
		return xfer_end_by(c, by); /* an agent's End call is their Leave */
	if (xfer && c->state == CALL_CONSULT && by && by == c->xfer_user && a == CALLCTL_ACCEPT)
		return 0; /* answered already */
	switch (a) {
	case CALLCTL_ACCEPT:
		if (c->state == CALL_BRIDGED && !c->outbound)
			return 0; /* the phone answered already */
		return offer_accept(c);
	case CALLCTL_REJECT:
		return call_event(c, CEV_OFFER_FAIL, &(struct call_arg){.why = "rejected"});
	case CALLCTL_END:
		if (c->state == CALL_OUT_AGENT || c->state == CALL_OUT_CUSTOMER)
			return call_event(c, CEV_OUT_FAIL,
					  &(struct call_arg){.why = "cancelled by the agent"});
		if (c->state == CALL_OFFERING)
			return call_event(c, CEV_OFFER_FAIL, &(struct call_arg){.why = "rejected"});
		return call_event(c, CEV_END, NULL); /* End call: AfterCallWork */
	default: return media_control(c, a, actor);
	}
}

int callctl_call_dtmf(struct callctl *cc, const char *ix_number, const char *digits)
{
	struct call *c = call_by_number(cc, ix_number);
	int err = 0;

	if (!c || c->state >= CALL_ENDING || call_leg(c, LEG_EXTERNAL))
		return CC_ENOTFOUND;
	if (c->state != CALL_BRIDGED || !call_customer(c)->m)
		return CC_EILLEGAL;
	for (size_t i = 0; digits[i] && !err; i++)
		err = call_customer(c)->ops->send_dtmf(call_customer(c), digits[i]);
	if (!err)
		log_info("call=%s action=dtmf to the customer: %zu digits", c->ix_number,
			 strlen(digits));
	return err;
}
