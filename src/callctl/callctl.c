/*
 * callctl.c — the B2BUA: inbound calls from trunks, the greeting, the
 * queue with hold music, offers to agents' phones, the bridge and the
 * recording, and every way a call ends.
 *
 * DESIGN
 * - A call is created on SIP_EV_INCOMING and keyed by its interaction id;
 *   its legs (the customer's, then the agent's or an external number's) are
 *   keyed by SIP leg id. Its phases are the rows of call.c's table: this
 *   file turns SIP events into call events by the leg's role and holds the
 *   inbound actions. The routing engine decides who rings
 *   (routing_ops.offer); call control rings them and reports answered /
 *   missed / ended back.
 * - The caller is answered at once (200 with our SDP) and hears a short
 *   greeting, then hold music while queued (the next issue puts the call
 *   flow here). Hanging up during the greeting closes the interaction
 *   Closed Complete; while queued, Closed Abandoned (SPEC.md §2).
 * - An offer is an INVITE to the agent's registered contact with a ring
 *   timeout; on 2xx the media legs are bridged and recorded (caller left,
 *   agent right) to <record_dir>/<INT number>.wav, and the recording's URL
 *   goes to the activity stream.
 * - Trunks are recognised by source address or by digest credentials
 *   (407 challenge, MD5 HA1 stored). Refusals carry reasons: 403 Not a
 *   trunk / Wrong trunk credentials, 404 No such number, 488 codec, 503
 *   Over capacity.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void call_release(struct callctl *cc, struct call *c);
static void on_sip_event(const struct sip_event *ev, void *arg);

/* ---- lookups ---- */
static struct call *call_by_ix(struct callctl *cc, int64_t ix_id)
{
	struct call *c = NULL;

	HASH_FIND(hh, cc->calls, &ix_id, sizeof(ix_id), c);
	return c;
}

static struct cleg *leg_find(struct callctl *cc, sip_leg_t leg)
{
	struct cleg *l = NULL;

	HASH_FIND(hh, cc->legs, &leg, sizeof(leg), l);
	return l;
}

static void leg_bind(struct callctl *cc, struct cleg *l, sip_leg_t leg)
{
	l->leg = leg;
	HASH_ADD(hh, cc->legs, leg, sizeof(l->leg), l);
}

static void leg_release(struct callctl *cc, struct cleg *l)
{
	if (l->leg)
		HASH_DEL(cc->legs, l);
	l->leg = 0;
	cleg_state_set(l, LEG_IDLE);
	l->ops->release(l);
}

size_t callctl_calls(const struct callctl *cc)
{
	return cc->n_calls;
}

int callctl_recording_path(const struct callctl *cc, const char *ix_number, char *path, size_t size)
{
	struct stat st;

	if (strspn(ix_number, "INT0123456789") != strlen(ix_number) || !ix_number[0])
		return -EINVAL;
	snprintf(path, size, "%s/%s.wav", cc->cfg.record_dir, ix_number);
	return stat(path, &st) ? -ENOENT : 0;
}

/* ---- timers ---- */
static void timer_free_cb(uv_handle_t *h)
{
	free(h);
}

void ctimer_stop(uv_timer_t **slot)
{
	if (*slot) {
		uv_timer_stop(*slot);
		uv_close((uv_handle_t *)*slot, timer_free_cb);
		*slot = NULL;
	}
}

void ctimer_start(struct call *c, uv_timer_t **slot, uv_timer_cb cb, int ms)
{
	ctimer_stop(slot);
	*slot = calloc(1, sizeof(**slot));
	if (!*slot)
		return;
	uv_timer_init(c->cc->loop, *slot);
	(*slot)->data = c;
	uv_timer_start(*slot, cb, (uint64_t)ms, 0);
}

static void call_timer_stop(struct call *c)
{
	ctimer_stop(&c->timer);
}

static void call_timer_start(struct call *c, uv_timer_cb cb, int ms)
{
	ctimer_start(c, &c->timer, cb, ms);
}

/* ---- the caller's side ---- */
void hold_music(struct call *c)
{
	size_t n = c->cc->hold_n;
	const int16_t *pcm = c->cc->hold ? c->cc->hold : media_hold_music(&n);

	struct cleg *cu = call_customer(c);

	if (!cu || !cu->m)
		return;
	if (c->q.music) /* the flow's queue block chose it (queueopts.c) */
		cu->ops->play_ref(cu, c->q.music, c->q.music_n, true);
	else
		cu->ops->play(cu, pcm, n, true);
}

static void greeting_done(uv_timer_t *t)
{
	struct call *c = t->data;

	call_timer_stop(c);
	call_enqueue(c, c->queue_id, 0);
}

void call_enqueue(struct call *c, int64_t queue_id, int priority)
{
	struct call_arg a = {.queue_id = queue_id, .priority = priority};

	call_event(c, CEV_ENQUEUE, &a);
}

void act_enqueue(struct call *c, enum call_state from, struct call_arg *a)
{
	c->queue_id = a->queue_id;
	call_queue_defaults(c, a->queue_id); /* music first: hold_music plays it */
	hold_music(c);
	if (routing_ix_enqueue(c->cc->r, c->ix_id, a->queue_id, a->priority))
		log_error("call=%s action=enqueue failed", c->ix_number);
	(void)from;
}

/* A call: refcounted (CONVENTIONS §5). call control's table holds the
 * first reference until the call is released (act_release); async work
 * (prompts, recognitions, store reads) holds its own while in flight. */
static struct call *call_new(struct callctl *cc)
{
	struct call *c = mem_zalloc(sizeof(*c), NULL);
	struct cleg *cu;

	if (!c)
		return NULL;
	c->cc = cc;
	c->worker = -1;
	c->id = ++cc->next_call_id;
	if (call_leg_new(c, LEG_CUSTOMER, &cu)) { /* every call has its customer */
		mem_deref(c);
		return NULL;
	}
	return c;
}

/*
 * Is this INVITE from a trunk? 0 when its source address is a trunk's, or
 * it carries valid digest credentials of a trunk (Proxy-Authorization);
 * otherwise the status to refuse it with: 407 (challenge: no or stale
 * credentials) or 403 (not a trunk, or wrong credentials).
 */
static int trunk_check(const struct callctl *cc, const struct sip_event *ev, const char **why)
{
	const struct st_trunk *t = NULL;
	bool any_auth = false;

	for (size_t i = 0; i < cc->n_trunks; i++) {
		if (cc->trunks[i].address[0] && !strcmp(cc->trunks[i].address, ev->source))
			return 0;
		any_auth = any_auth || cc->trunks[i].username[0];
		if (ev->has_auth && cc->trunks[i].username[0] &&
		    !strcmp(cc->trunks[i].username, ev->auth.username))
			t = &cc->trunks[i];
	}
	*why = "Not a trunk";
	if (!any_auth)
		return 403;
	*why = "Proxy Authentication Required";
	if (!ev->has_auth || !sip_nonce_valid(cc->ua, ev->auth.nonce))
		return 407;
	*why = "Wrong trunk credentials";
	if (!t || strcmp(ev->auth.realm, cc->cfg.realm) || !t->sip_ha1[0] ||
	    sip_digest_verify(&ev->auth, "INVITE", t->sip_ha1))
		return 403;
	return 0;
}

static const struct number *number_find(const struct callctl *cc, const char *did)
{
	struct number *n = NULL;

	HASH_FIND_STR(cc->numbers, did, n);
	return n;
}

/* An INVITE from one agent's phone to another agent's user name: digest
 * as the calling agent (their SIP password), then a consult (xfer.c). */
static bool on_agent_invite(struct callctl *cc, const struct sip_event *ev)
{
	struct user *to = routing_user_find(cc->r, ev->to_user);
	struct user *from = routing_user_find(cc->r, ev->from_user);
	const struct st_user *rec = from ? user_record(from) : NULL;

	if (!to || !user_is_agent(to) || !from || !user_is_agent(from))
		return false;
	if (!ev->has_auth || !sip_nonce_valid(cc->ua, ev->auth.nonce)) {
		cc->leg_ops->refuse(cc, ev->leg, 407, "Proxy Authentication Required");
		return true;
	}
	if (strcmp(ev->auth.username, rec->user_name) || strcmp(ev->auth.realm, cc->cfg.realm) ||
	    !rec->sip_ha1[0] || sip_digest_verify(&ev->auth, "INVITE", rec->sip_ha1)) {
		log_info("call from=%s did=%s action=refused 403 wrong agent credentials",
			 ev->from_user, ev->to_user);
		cc->leg_ops->refuse(cc, ev->leg, 403, "Wrong credentials");
		return true;
	}
	xfer_on_consult_invite(cc, from, to, ev);
	return true;
}

static void on_incoming(struct callctl *cc, const struct sip_event *ev)
{
	const struct number *num = number_find(cc, ev->to_user);
	const char *why = NULL;
	int status;

	if (!num && on_agent_invite(cc, ev))
		return;
	status = trunk_check(cc, ev, &why);

	if (status) {
		log_info("call from=%s source=%s did=%s action=refused %d %s", ev->from_user,
			 ev->source, ev->to_user, status, why);
		cc->leg_ops->refuse(cc, ev->leg, status, why);
		return;
	}
	call_inbound(cc, cc->leg_ops, ev->leg, ev->to_user, ev->from_user, ev->sdp);
}

void call_inbound(struct callctl *cc, const struct leg_ops *ops, sip_leg_t leg, const char *did,
		  const char *from, const char *sdp)
{
	const struct number *num = number_find(cc, did);
	int64_t qid = num ? num->queue_id : 0;
	struct call *c;
	int status;

	if (!num || (!qid && !num->fl)) {
		ops->refuse(cc, leg, 404, "No such number");
		return;
	}
	if (cc->n_calls >= (size_t)cc->cfg.max_calls || !(c = call_new(cc))) {
		ops->refuse(cc, leg, 503, "Over capacity");
		return;
	}
	call_customer(c)->ops = ops;
	leg_bind(cc, call_customer(c), leg);
	c->queue_id = qid;
	str_copy(c->caller_number, from, sizeof(c->caller_number));
	status = call_customer(c)->ops->answer(call_customer(c), sdp);
	if (status || routing_ix_open(cc->r, "inbound", from, &c->ix_id)) {
		ops->refuse(cc, leg, status ? status : 500,
			    status == 488 ? "No common codec" : "Server error");
		call_free_unadded(c);
		return;
	}
	cleg_state_set(call_customer(c), LEG_UP);
	routing_ctr_endpoint(cc->r, c->ix_id, did); /* the number dialled */
	str_copy(c->ix_number, routing_ix_number(cc->r, c->ix_id), sizeof(c->ix_number));
	HASH_ADD(hh, cc->calls, ix_id, sizeof(c->ix_id), c);
	cc->n_calls++;
	if (num->fl) {
		struct call_arg a = {.flow = num->fl};
		log_info("call=%s action=answered from=%s did=%s flow=%s via=%s", c->ix_number,
			 from, did, num->flow, ops->name);
		call_event(c, CEV_FLOW, &a);
		return;
	}
	log_info("call=%s action=answered from=%s did=%s via=%s", c->ix_number, from, did,
		 ops->name);
	call_event(c, CEV_GREET, NULL);
}

void act_greet(struct call *c, enum call_state from, struct call_arg *a)
{
	struct callctl *cc = c->cc;
	size_t n = cc->greeting_n;
	const int16_t *prompt = cc->greeting ? cc->greeting : media_beep(&n);
	int prompt_ms = (int)(n * 1000 / MEDIA_RATE);

	call_customer(c)->ops->play(call_customer(c), prompt, n, false);
	call_timer_start(c, greeting_done,
			 cc->greeting && prompt_ms > cc->cfg.greeting_ms ? prompt_ms
									 : cc->cfg.greeting_ms);
	(void)from, (void)a;
}

/* ---- offers (routing_ops) ---- */
/* Hangs up a leg that is still up or ringing. */
void call_leg_hangup(struct callctl *cc, struct cleg *l)
{
	if (l->leg && !cleg_done(l)) {
		l->ops->hangup(l);
		cleg_state_set(l, LEG_ENDING);
	}
	(void)cc;
}

static void agent_leg_drop(struct callctl *cc, struct call *c)
{
	struct cleg *ag = call_leg(c, LEG_AGENT);

	if (ag) {
		call_leg_hangup(cc, ag);
		call_leg_drop(c, ag);
	}
	c->agent_user = NULL;
}

/* The agent did not answer in time, or refused: next agent. */
void call_offer_failed(struct call *c, const char *why)
{
	struct call_arg a = {.why = why};

	call_event(c, CEV_OFFER_FAIL, &a);
}

/* Why the agent's leg ended while it rang. */
static const char *offer_why(const struct call_arg *a, char *buf, size_t size)
{
	if (a->why)
		return a->why;
	if (!a->sip)
		return "ended";
	snprintf(buf, size, a->sip->kind == SIP_EV_FAILED ? "rejected %d" : "ended",
		 a->sip->status);
	return buf;
}

void act_offer_failed(struct call *c, enum call_state from, struct call_arg *a)
{
	struct callctl *cc = c->cc;
	struct user *u = c->agent_user;
	char buf[48];
	const char *why = offer_why(a, buf, sizeof(buf));

	call_timer_stop(c);
	agent_leg_drop(cc, c);
	if (u)
		routing_offer_missed(cc->r, c->ix_id, u, why);
	call_queue_offer_failed(c); /* the max wait may have passed meanwhile */
	(void)from;
}

void act_offer_cancelled(struct call *c, enum call_state from, struct call_arg *a)
{
	call_timer_stop(c);
	agent_leg_drop(c->cc, c);
	(void)from, (void)a;
}

static void offer_timeout(uv_timer_t *t)
{
	call_offer_failed(t->data, "no answer");
}

/* Calls the agent's contact on the agent leg (a fresh media leg and SIP
 * leg); auto_answer asks the phone to answer at once (accept from the API). */
int call_offer_ring(struct call *c, const char *contact, bool auto_answer)
{
	struct cleg *ag = call_leg(c, LEG_AGENT);
	int err = ag ? 0 : call_leg_new(c, LEG_AGENT, &ag);

	if (!err)
		err = call_leg_dial(ag, contact, c->caller_number,
				    c->out_name[0] ? c->out_name : c->caller_number, auto_answer);
	if (err) {
		if (ag)
			call_leg_drop(c, ag);
		return err == -EADDRINUSE || err == -ENOMEM ? err : -EIO;
	}
	cleg_state_set(ag, LEG_DIALLING);
	return 0;
}

static int op_offer(void *arg, int64_t ix_id, struct user *u)
{
	struct callctl *cc = arg;
	struct call *c = call_by_ix(cc, ix_id);
	const char *contact = callctl_agent_contact(cc, u);
	int err;

	if (c && contact && c->state == CALL_XFER_QUEUED)
		return xfer_queue_offer(c, u); /* a transfer waits in the queue */
	if (!c || !contact || c->state != CALL_QUEUED)
		return -ENOENT;
	err = call_offer_ring(c, contact, false);
	if (err)
		return err;
	c->agent_user = u;
	call_event(c, CEV_OFFER, NULL);
	log_info("call=%s agent=%s action=ringing contact=%s", c->ix_number,
		 user_record(u)->user_name, contact);
	outbound_offer_announce(cc, c, u); /* the screen pop */
	return 0;
}

void act_offer(struct call *c, enum call_state from, struct call_arg *a)
{
	call_timer_start(c, offer_timeout, c->cc->cfg.offer_timeout_ms);
	(void)from, (void)a;
}

static void op_offer_cancel(void *arg, int64_t ix_id, struct user *u)
{
	struct callctl *cc = arg;
	struct call *c = call_by_ix(cc, ix_id);

	if (c && c->agent_user == u)
		call_event(c, CEV_OFFER_CANCEL, NULL);
}

static const struct routing_ops callctl_ops = {
	.device_ready = registrar_device_ready,
	.offer = op_offer,
	.offer_cancel = op_offer_cancel,
};

/* ---- the agent answers: bridge and record ---- */
/* What recording_done reports: the call may be gone when the file closes. */
struct rec_closed {
	callctl_recorded_h *h; /* copied: call control may be freed first */
	void *h_arg;
	int64_t ix_id, queue_id;
	char ix_number[ST_NUMBER];
};

void callctl_recorded_handler_set(struct callctl *cc, callctl_recorded_h *h, void *arg)
{
	cc->recorded_h = h, cc->recorded_arg = arg;
}

static void recording_done(int err, uint64_t frames, void *arg)
{
	struct rec_closed *rc = arg;

	if (err)
		log_error("call=%s action=a recording failed: %s", rc ? rc->ix_number : "-",
			  cc_strerror(err));
	else
		log_debug("call=%s action=recording closed: %llu frames", rc ? rc->ix_number : "-",
			  (unsigned long long)frames);
	if (rc && !err && frames && rc->h)
		rc->h(rc->ix_id, rc->ix_number, rc->queue_id, rc->h_arg);
	free(rc);
}

/* A bridged leg that sent no RTP at all within NO_AUDIO_MS is one-way audio
 * (a phone that wrote an address we cannot reach in its SDP, a firewall):
 * said once per call in the activity stream and to the agent's softphone
 * (call event "no_audio", detail "agent" or "customer"), as well as in the
 * log. A leg on hold may be silent: it is not checked. */
#define NO_AUDIO_MS 4000

static void audio_check(uv_timer_t *t)
{
	struct call *c = t->data;
	struct media_stats a = {0}, b = {0};
	struct cleg *cu = call_customer(c), *peer = call_peer(c);
	char text[200];

	if (c->state != CALL_BRIDGED || c->held || !cu || !peer || peer->state == LEG_HELD)
		return;
	cu->ops->stats(cu, &a);
	peer->ops->stats(peer, &b);
	for (int i = 0; i < 2; i++) {
		bool agent = i == 1;
		if ((agent ? b : a).rx_packets || !(agent ? peer->m : cu->m))
			continue;
		snprintf(text, sizeof(text),
			 "No audio from the %s for %d s: the other side hears nothing. %s",
			 agent ? "agent's phone" : "customer", NO_AUDIO_MS / 1000,
			 agent ? "Check the phone's network settings (its SDP may name an address "
				 "this server cannot reach)."
			       : "The customer's phone or network may be blocking audio.");
		log_warn("call=%s action=no audio from the %s (rx=0 after %d ms)", c->ix_number,
			 agent ? "agent" : "customer", NO_AUDIO_MS);
		routing_ix_note(c->cc->r, c->ix_id, "call", text);
		call_no_audio_announce(c, agent ? "agent" : "customer");
	}
}

static void bridge_start(struct callctl *cc, struct call *c)
{
	char path[600];

	ctimer_start(c, &c->audio_timer, audio_check, NO_AUDIO_MS);
	struct cleg *cu = call_customer(c), *peer = call_peer(c);

	call_queue_opts_end(c); /* no more announcements or overflow */
	cu->ops->stop(cu);
	if (cu->ops->join(cu, MIXER_TALK, NULL) || peer->ops->join(peer, MIXER_TALK, NULL))
		log_error("call=%s action=the legs could not be joined", c->ix_number);
	mkdir(cc->cfg.record_dir, 0750);
	snprintf(path, sizeof(path), "%s/%s.wav", cc->cfg.record_dir, c->ix_number);
	if (!cu->ops->record_start(cu, path)) {
		c->recording = true;
		routing_ix_recorded(cc->r, c->ix_id);
	} else {
		log_error("call=%s action=record failed to start", c->ix_number);
	}
}

/* The agent's phone answered an offer: theirs, or the next agent's. */
static void on_offer_answered(struct callctl *cc, struct call *c, struct call_arg *a)
{
	struct user *u = c->agent_user;
	struct cleg *ag = call_leg(c, LEG_AGENT);

	if (!u || !ag || ag->ops->remote(ag, a->sip->sdp)) {
		call_offer_failed(c, "no usable answer");
		return;
	}
	if (routing_offer_answered(cc->r, c->ix_id, u)) {
		/* The agent changed state meanwhile (signed out…): not this one. */
		call_offer_failed(c, "agent no longer available");
		return;
	}
	call_event(c, CEV_AGENT_UP, a);
}

void act_bridge(struct call *c, enum call_state from, struct call_arg *a)
{
	call_timer_stop(c);
	cleg_state_set(call_leg(c, LEG_AGENT), LEG_UP);
	bridge_start(c->cc, c);
	log_info("call=%s agent=%s action=bridged", c->ix_number,
		 user_record(c->agent_user)->user_name);
	(void)from, (void)a;
}

/* ---- endings ---- */
static void recording_stop(struct call *c)
{
	struct cleg *cu = call_customer(c);

	if (c->recording && cu) {
		struct rec_closed *rc = calloc(1, sizeof(*rc));
		if (rc) {
			rc->h = c->cc->recorded_h, rc->h_arg = c->cc->recorded_arg;
			rc->ix_id = c->ix_id, rc->queue_id = c->queue_id;
			str_copy(rc->ix_number, c->ix_number, sizeof(rc->ix_number));
		}
		if (cu->ops->record_stop(c, recording_done, rc))
			free(rc);
		c->recording = false;
	}
}

/* One line per call with its RTP figures (what each leg received, and the
 * packets missing from each stream by sequence number). */
static void call_media_log(const struct call *c)
{
	struct media_stats a = {0}, b = {0};
	struct cleg *cu = call_customer(c), *peer = call_peer(c);

	if (cu)
		cu->ops->stats(cu, &a);
	if (peer)
		peer->ops->stats(peer, &b);
	log_info("call=%s action=media caller_rx=%llu caller_lost=%llu agent_rx=%llu "
		 "agent_lost=%llu",
		 c->ix_number, (unsigned long long)a.rx_packets, (unsigned long long)a.rx_lost,
		 (unsigned long long)b.rx_packets, (unsigned long long)b.rx_lost);
}

/* Releases what the call holds (legs, media, timers, its flow) and takes
 * it out of the table; the memory goes with the last reference. */
static void call_release(struct callctl *cc, struct call *c)
{
	call_media_log(c);
	call_flow_free(c);
	call_queue_opts_end(c);
	call_timer_stop(c);
	ctimer_stop(&c->audio_timer);
	recording_stop(c);
	while (c->n_legs)
		call_leg_drop(c, c->legs[c->n_legs - 1]);
	free(c->xfer_offer);
	c->xfer_offer = NULL;
	cc->leg_ops->conf_free(c);
	HASH_DEL(cc->calls, c);
	cc->n_calls--;
	mem_deref(c); /* the table's reference */
}

void act_release(struct call *c, enum call_state from, struct call_arg *a)
{
	call_release(c->cc, c);
	(void)from, (void)a;
}

/* Ends the call from our side: the agent to wrap-up if they talked, hang
 * up what is still up; released once every leg has ended. */
static void end_legs(struct call *c, enum call_state from)
{
	struct callctl *cc = c->cc;

	recording_stop(c);
	/* the agent on it to wrap-up (during a transfer's ring they are Busy
	 * even after their phone left: xfer.c); a second agent's part ends */
	if (c->agent_user &&
	    (from == CALL_BRIDGED || from == CALL_CONSULT || from == CALL_CONFERENCE ||
	     from == CALL_XFER_RING || from == CALL_XFER_QUEUED) &&
	    (call_leg(c, LEG_AGENT) || (from == CALL_XFER_RING && !c->xfer_queue_id)))
		routing_agent_call_ended(cc->r, c->agent_user);
	if (c->xfer_user) {
		routing_transfer_dropped(cc->r, c->ix_id, c->xfer_user, "system", NULL);
		c->xfer_user = NULL;
	}
	for (size_t i = 0; i < c->n_legs; i++)
		call_leg_hangup(cc, c->legs[i]);
	call_event(c, CEV_SETTLED, NULL);
}

void act_end(struct call *c, enum call_state from, struct call_arg *a)
{
	if (from == CALL_BRIDGED && a->leg && a->leg->role == LEG_AGENT)
		log_info("call=%s action=agent hung up", c->ix_number);
	routing_ctr_disconnect(c->cc->r, c->ix_id, CTR_REASON_AGENT); /* or End call */
	end_legs(c, from);
}

/* We end the call before any agent (the flow hung up, deflected, the far
 * end of a transfer hung up): the interaction closes as if the caller had
 * hung up (New → Closed Complete). */
void call_caller_closes(struct call *c)
{
	call_event(c, CEV_HANGUP, NULL);
}

void act_caller_closes(struct call *c, enum call_state from, struct call_arg *a)
{
	bool far = a->leg && a->leg->role == LEG_EXTERNAL;

	if (far)
		log_info("call=%s action=the far end of the transfer hung up", c->ix_number);
	routing_ctr_disconnect(c->cc->r, c->ix_id,
			       far ? CTR_REASON_THIRD_PARTY : CTR_REASON_SYSTEM);
	routing_ix_caller_gone(c->cc->r, c->ix_id);
	end_legs(c, from);
}

void act_customer_gone(struct call *c, enum call_state from, struct call_arg *a)
{
	log_info("call=%s action=caller hung up in state %s", c->ix_number, call_state_name(from));
	call_ctr_flow(c); /* hung up in the flow: what it found so far */
	routing_ctr_disconnect(c->cc->r, c->ix_id, CTR_REASON_CUSTOMER);
	routing_ix_caller_gone(c->cc->r, c->ix_id); /* also cancels a ringing offer */
	if (from == CALL_OFFERING)
		agent_leg_drop(c->cc, c);
	end_legs(c, from);
	(void)a;
}

void call_hangup_end(struct call *c)
{
	call_event(c, CEV_END, NULL);
}

/* A re-INVITE from either side (already answered by the SIP thread): follow
 * a new address or codec; when the agent holds (sendonly/inactive), the
 * caller hears hold music until the agent resumes. */
static void on_reinvite(struct callctl *cc, struct cleg *l, const struct sip_event *ev)
{
	struct call *c = l->call;
	bool hold = false;

	if (l->ops->reoffer(l, ev->sdp, &hold))
		return;
	if (l->role != LEG_AGENT || c->state != CALL_BRIDGED || hold == (l->state == LEG_HELD))
		return;
	cleg_state_set(l, hold ? LEG_HELD : LEG_UP);
	routing_ctr_hold(cc->r, c->ix_id, hold); /* the agent's phone holds */
	if (hold)
		hold_music(c);
	else
		call_customer(c)->ops->stop(call_customer(c));
	log_info("call=%s agent=%s action=%s", c->ix_number,
		 c->agent_user ? user_record(c->agent_user)->user_name : "-",
		 hold ? "hold" : "resume");
}

/* ---- SIP events ----
 * A leg's SIP event becomes the call's event by the leg's role; whether an
 * answer counts (usable media, routing still gives the agent the call) is
 * decided here, so the table sees facts. */
static void on_answered(struct callctl *cc, struct cleg *l, struct call_arg *a)
{
	struct call *c = l->call;
	bool usable;

	if (l->role == LEG_AGENT && c->state == CALL_OFFERING) {
		on_offer_answered(cc, c, a);
		return;
	}
	if (l->role == LEG_CONSULT) {
		xfer_answered(c, l, a);
		return;
	}
	if (l->role == LEG_SUPERVISOR) {
		monitor_answered(c, l, a);
		return;
	}
	usable = !l->ops->remote(l, a->sip->sdp);
	switch (l->role) {
	case LEG_CUSTOMER:
		a->why = "the customer's phone answered without usable media";
		call_event(c, usable ? CEV_CUSTOMER_UP : CEV_OUT_FAIL, a);
		break;
	case LEG_AGENT:
		a->why = "the agent's phone answered without usable media";
		call_event(c, usable ? CEV_AGENT_UP : CEV_OUT_FAIL, a);
		break;
	case LEG_EXTERNAL:
		a->why = "no usable media in the answer";
		call_event(c, usable ? CEV_EXTERNAL_UP : CEV_TRANSFER_FAIL, a);
		break;
	default: break;
	}
}

static void on_leg_gone(struct callctl *cc, struct cleg *l, struct call_arg *a)
{
	static const enum call_ev gone[LEG_ROLE__N] = {
		[LEG_CUSTOMER] = CEV_CUSTOMER_GONE, [LEG_AGENT] = CEV_AGENT_GONE,
		[LEG_CONSULT] = CEV_CONSULT_GONE,   [LEG_SUPERVISOR] = CEV_SETTLED,
		[LEG_EXTERNAL] = CEV_EXTERNAL_GONE, [LEG_TRANSFEROR] = CEV_SETTLED,
	};
	struct call *c = l->call;

	cleg_state_set(l, LEG_GONE); /* a ringing agent's leg is dropped by the offer's end */
	if (l->role == LEG_CONSULT && c->state == CALL_XFER_RING)
		xfer_leg_failed(c, a); /* a transfer not taken */
	else if (l->role == LEG_TRANSFEROR && c->state != CALL_ENDING)
		xfer_transferor_gone(c, l, a); /* the phone hung up its consult call */
	else if (l->role == LEG_SUPERVISOR && c->state != CALL_ENDING)
		monitor_gone(c, l); /* never ends the call */
	else
		call_event(c, gone[l->role], a);
	(void)cc;
}

void callctl_sip_event(const struct sip_event *ev, void *arg)
{
	on_sip_event(ev, arg);
}

static void on_sip_event(const struct sip_event *ev, void *arg)
{
	struct callctl *cc = arg;
	struct cleg *l;
	struct call_arg a = {.sip = ev};

	if (ev->kind == SIP_EV_REGISTER) {
		registrar_on_register(cc, ev);
		return;
	}
	if (ev->kind == SIP_EV_INCOMING) {
		on_incoming(cc, ev);
		return;
	}
	l = leg_find(cc, ev->leg);
	if (!l)
		return;
	a.leg = mem_ref(l); /* the event may drop the leg from its call */
	switch (ev->kind) {
	case SIP_EV_ANSWERED: on_answered(cc, l, &a); break;
	case SIP_EV_REINVITE: on_reinvite(cc, l, ev); break;
	case SIP_EV_REFER: xfer_on_refer(l->call, l, ev); break;
	case SIP_EV_FAILED:
	case SIP_EV_TERMINATED: on_leg_gone(cc, l, &a); break;
	default: break;
	}
	mem_deref(l);
}

/* ---- dialled numbers and trunks ---- */
int callctl_number_set(struct callctl *cc, const char *did, int64_t queue_id)
{
	struct number *n = NULL;

	HASH_FIND_STR(cc->numbers, did, n);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		str_copy(n->did, did, sizeof(n->did));
		HASH_ADD_STR(cc->numbers, did, n);
	}
	n->queue_id = queue_id;
	n->flow[0] = '\0'; /* set to a queue: no longer a flow */
	n->fl = NULL;
	return 0;
}

int callctl_number_delete(struct callctl *cc, const char *did)
{
	struct number *n = NULL;

	HASH_FIND_STR(cc->numbers, did, n);
	if (!n)
		return -ENOENT;
	HASH_DEL(cc->numbers, n);
	free(n);
	return 0;
}

int callctl_number_set_flow(struct callctl *cc, const char *did, const char *flow)
{
	struct flow_entry *e = NULL;
	struct number *n = NULL;
	int err;

	HASH_FIND_STR(cc->flows, flow, e);
	if (!e)
		return -ENOENT;
	HASH_FIND_STR(cc->numbers, did, n);
	if (!n) {
		struct queue_view v;
		routing_queue_view(cc->r, 0, &v); /* the column must name a queue */
		err = callctl_number_set(cc, did, v.id);
		if (err)
			return err;
		HASH_FIND_STR(cc->numbers, did, n);
	}
	str_copy(n->flow, flow, sizeof(n->flow));
	n->fl = e->f;
	return 0;
}

int64_t callctl_number_queue(const struct callctl *cc, const char *did)
{
	struct number *n = NULL;

	HASH_FIND_STR(cc->numbers, did, n);
	return n ? n->queue_id : 0;
}

void callctl_numbers_each(const struct callctl *cc, callctl_number_h *h, void *arg)
{
	for (const struct number *n = cc->numbers; n; n = n->hh.next)
		h(n->did, n->queue_id, n->flow, arg);
}

static struct st_trunk *trunk_find(struct callctl *cc, const char *name)
{
	for (size_t i = 0; i < cc->n_trunks; i++)
		if (!strcmp(cc->trunks[i].name, name))
			return &cc->trunks[i];
	return NULL;
}

int callctl_trunk_set(struct callctl *cc, const struct st_trunk *t)
{
	struct st_trunk *old = trunk_find(cc, t->name);

	if (!old && cc->n_trunks == CALLCTL_MAX_TRUNKS)
		return -ENOSPC;
	*(old ? old : &cc->trunks[cc->n_trunks++]) = *t;
	return 0;
}

int callctl_trunk_delete(struct callctl *cc, const char *name)
{
	struct st_trunk *t = trunk_find(cc, name);

	if (!t)
		return -ENOENT;
	*t = cc->trunks[--cc->n_trunks];
	return 0;
}

size_t callctl_trunk_count(const struct callctl *cc)
{
	return cc->n_trunks;
}

const struct st_trunk *callctl_trunk_at(const struct callctl *cc, size_t i)
{
	return i < cc->n_trunks ? &cc->trunks[i] : NULL;
}

/* ---- for outbound.c ---- */
struct call *call_alloc(struct callctl *cc)
{
	return call_new(cc);
}

void call_free_unadded(struct call *c)
{
	while (c->n_legs)
		call_leg_drop(c, c->legs[c->n_legs - 1]);
	mem_deref(c);
}

void call_add(struct callctl *cc, struct call *c)
{
	HASH_ADD(hh, cc->calls, ix_id, sizeof(c->ix_id), c);
	cc->n_calls++;
}

struct call *call_find(struct callctl *cc, int64_t ix_id)
{
	return call_by_ix(cc, ix_id);
}

void call_end_legs(struct call *c, enum call_state from)
{
	end_legs(c, from);
}

/* ---- for transfer.c ---- */
void call_bridge_start(struct callctl *cc, struct call *c)
{
	bridge_start(cc, c);
}

void call_leg_bind(struct callctl *cc, struct cleg *l, sip_leg_t leg)
{
	leg_bind(cc, l, leg);
}

void call_leg_release(struct callctl *cc, struct cleg *l)
{
	leg_release(cc, l);
}

/* ---- life cycle ---- */
static int tables_load(struct callctl *cc, const struct st_snapshot *snap)
{
	int err = 0;

	for (size_t i = 0; !err && i < snap->n_numbers; i++) {
		struct number *n = NULL;
		err = callctl_number_set(cc, snap->numbers[i].did, snap->numbers[i].queue_id);
		HASH_FIND_STR(cc->numbers, snap->numbers[i].did, n);
		if (!err && n)
			str_copy(n->flow, snap->numbers[i].flow, sizeof(n->flow));
	}
	for (size_t i = 0; i < snap->n_trunks && cc->n_trunks < CALLCTL_MAX_TRUNKS; i++)
		cc->trunks[cc->n_trunks++] = snap->trunks[i];
	return err;
}

/* The greeting prompt and hold music files, when configured. */
static int prompts_load(struct callctl *cc)
{
	char err[700];
	int rc = 0;

	if (cc->cfg.greeting_wav[0])
		rc = media_wav_load(cc->cfg.greeting_wav, &cc->greeting, &cc->greeting_n, err,
				    sizeof(err));
	if (!rc && cc->cfg.hold_wav[0])
		rc = media_wav_load(cc->cfg.hold_wav, &cc->hold, &cc->hold_n, err, sizeof(err));
	if (rc)
		log_error("cannot use a prompt: %s", err);
	return rc;
}

int callctl_alloc(struct callctl **ccp, uv_loop_t *loop, const struct callctl_cfg *cfg,
		  struct routing *r, const struct st_snapshot *snap)
{
	return callctl_alloc_ops(ccp, loop, cfg, r, snap, &sip_leg_ops);
}

int callctl_alloc_ops(struct callctl **ccp, uv_loop_t *loop, const struct callctl_cfg *cfg,
		      struct routing *r, const struct st_snapshot *snap, const struct leg_ops *ops)
{
	struct callctl *cc = calloc(1, sizeof(*cc));
	bool sip = ops == &sip_leg_ops;
	struct media_cfg mc = {.port_min = cfg->rtp_min,
			       .port_max = cfg->rtp_max,
			       .worker_nice = cfg->media_workers_nice};
	struct sip_ua_cfg sc = {.port = cfg->sip_port};
	int err;

	if (!cc)
		return -ENOMEM;
	if (transfer_uri_check(cfg->outbound_uri)) {
		log_error(
			"calls.outbound_uri must be sip:host or sip:host:port (the number goes in "
			"front), got '%.100s'",
			cfg->outbound_uri);
		free(cc);
		return -EINVAL;
	}
	cc->loop = loop, cc->cfg = *cfg, cc->r = r, cc->leg_ops = ops;
	str_copy(mc.address, cfg->rtp_address, sizeof(mc.address));
	str_copy(mc.record_dir, cfg->record_dir, sizeof(mc.record_dir));
	str_copy(sc.address, cfg->sip_address, sizeof(sc.address));
	str_copy(sc.realm, cfg->realm, sizeof(sc.realm));
	str_copy(sc.public_addr, cfg->sip_address, sizeof(sc.public_addr));
	sc.ack_timeout_ms = cfg->ack_timeout_ms;
	err = tables_load(cc, snap);
	if (!err)
		err = registrar_start(cc, snap);
	if (!err)
		err = prompts_load(cc);
	if (!err)
		err = flows_load(cc);
	if (!err && sip) /* the SIP + RTP endpoint's own context */
		err = media_alloc(&cc->media, loop, &mc);
	if (!err && sip) /* every call's media, one worker per call */
		err = mw_alloc(&cc->mw, loop, cc->media, &mc,
			       cfg->media_workers ? cfg->media_workers : mw_default_count());
	if (!err && sip) /* the browsers' WebRTC legs, next to the media engine */
		err = browser_start(cc);
	if (!err && sip)
		err = sip_ua_alloc(&cc->ua, loop, &sc, on_sip_event, cc);
	if (err) {
		callctl_free(cc);
		return err;
	}
	if (sip) {
		sip_ua_set_max_inbound(cc->ua, cfg->max_calls);
		democust_start(cc); /* demo only; never fatal */
	}
	routing_ops_set(r, &callctl_ops, cc);
	routing_timeouts_set(r, cfg->offer_timeout_ms, cfg->wrapup_timeout_ms);
	log_info("SIP on %s:%d (udp, tcp), RTP %s:%d-%d", cfg->sip_address, cfg->sip_port,
		 cfg->rtp_address, cfg->rtp_min, cfg->rtp_max);
	*ccp = cc;
	return 0;
}

int callctl_media_workers(const struct callctl *cc, struct callctl_worker_stats *st, int max)
{
	int n = cc ? mw_count(cc->mw) : 0;

	for (int i = 0; i < n && i < max; i++) {
		struct mw_worker_stats w;

		mw_worker_stats(cc->mw, i, &w);
		st[i] = (struct callctl_worker_stats){
			.legs = w.legs,
			.legs_total = w.legs_total,
			.cpu_ns = w.cpu_ns,
			.rx_packets = w.st.rx_packets,
			.rx_lost = w.st.rx_lost,
			.clock_late = w.clock.late,
		};
	}
	return n;
}

void callctl_free(struct callctl *cc)
{
	struct call *c, *tmp;
	struct number *n, *ntmp;

	if (!cc)
		return;
	routing_ops_set(cc->r, NULL, NULL);
	HASH_ITER(hh, cc->calls, c, tmp)
	{
		routing_ctr_disconnect(cc->r, c->ix_id, CTR_REASON_SYSTEM);
		if (c->agent_user && c->state == CALL_BRIDGED && call_leg(c, LEG_AGENT))
			routing_agent_call_ended(cc->r, c->agent_user);
		call_event(c, CEV_SHUTDOWN, NULL);
	}
	democust_free(cc);
	sip_ua_free(cc->ua);
	browser_free(cc);
	mw_free(cc->mw);
	cc->mw = NULL;
	media_free(cc->media);
	registrar_free(cc);
	flows_free(cc);
	free(cc->greeting);
	free(cc->hold);
	HASH_ITER(hh, cc->numbers, n, ntmp)
	{
		HASH_DEL(cc->numbers, n);
		free(n);
	}
	free(cc);
}
