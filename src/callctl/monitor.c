/*
 * monitor.c — a manager listens to, whispers to or barges into a live call
 * (SPEC.md §8, issue 14 item 3; docs/DOMAIN.md "Monitoring").
 *
 * DESIGN
 * - The manager's own device (their registered phone) is a SUPERVISOR leg
 *   of the call, rung with auto-answer; when it answers it joins the call's
 *   media conference in the mode asked for: listen (hears everyone, heard
 *   by no one), whisper (heard by the call's agent only) or barge (heard by
 *   everyone). A change of mode on the same session re-joins the leg in the
 *   new mode (the mixer's masks): the phone is not rung again. Stop hangs
 *   the leg up.
 * - Monitoring does not change the call's phase: it is a leg beside the
 *   call's own, like the customer's hold, so it is not a row of the call
 *   table. The leg's end (the manager hangs up, or the call ends and every
 *   leg is hung up) only drops it; it never ends the call.
 * - Agents are not told (no event to the agent's softphone): the site's
 *   policy of announcing monitoring is a notice the site gives its agents,
 *   not a tone in the call. Every action goes to the interaction's activity
 *   stream (kind `monitor`); the API adds an audit entry to the same change.
 * - At most one monitoring session per call (one SUPERVISOR leg).
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <string.h>

static const char *const mode_names[] = {
	[CALLCTL_MONITOR_LISTEN] = "listen",
	[CALLCTL_MONITOR_WHISPER] = "whisper",
	[CALLCTL_MONITOR_BARGE] = "barge",
};

int callctl_monitor_mode_parse(const char *s, enum callctl_monitor_mode *m)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(s, mode_names[i])) {
			*m = (enum callctl_monitor_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

static enum mixer_mode mixer_mode_of(enum callctl_monitor_mode m)
{
	return m == CALLCTL_MONITOR_WHISPER ? MIXER_WHISPER
	       : m == CALLCTL_MONITOR_BARGE ? MIXER_BARGE
					    : MIXER_LISTEN;
}

/* The monitoring leg joins (or changes mode) in the conference. */
static int supervisor_join(struct call *c, struct cleg *l)
{
	struct cleg *ag = call_leg(c, LEG_AGENT);

	if (c->mon_mode == CALLCTL_MONITOR_WHISPER && !ag)
		return CC_EILLEGAL; /* whisper to whom? */
	return l->ops->join(l, mixer_mode_of(c->mon_mode),
			    c->mon_mode == CALLCTL_MONITOR_WHISPER ? ag : NULL);
}

static void note(struct call *c, const struct user *u, const char *what)
{
	char text[200];

	snprintf(text, sizeof(text), "%s %s", user_record(u)->name, what);
	routing_ix_note(c->cc->r, c->ix_id, "monitor", text);
	log_info("call=%s manager=%s action=%s", c->ix_number, user_record(u)->user_name, what);
}

static bool monitorable(const struct call *c)
{
	return c->state == CALL_BRIDGED || c->state == CALL_CONSULT || c->state == CALL_CONFERENCE;
}

int callctl_monitor(struct callctl *cc, const char *ix_number, struct user *by,
		    enum callctl_monitor_mode mode, const char **why)
{
	int64_t id = routing_ix_id_of(ix_number);
	struct call *c = id ? call_find(cc, id) : NULL;
	struct cleg *l;
	const char *contact;
	char what[64];
	int err;

	*why = "";
	if (!c || strcmp(c->ix_number, ix_number) || c->state >= CALL_ENDING ||
	    call_leg(c, LEG_EXTERNAL))
		return CC_ENOTFOUND;
	if (!monitorable(c)) {
		*why = "only a connected call can be monitored";
		return CC_EILLEGAL;
	}
	l = call_leg(c, LEG_SUPERVISOR);
	if (l && l->user != by) {
		*why = "another manager is monitoring this call";
		return CC_ECONFLICT;
	}
	if (mode == CALLCTL_MONITOR_WHISPER && !call_leg(c, LEG_AGENT)) {
		*why = "no agent on the call to whisper to";
		return CC_EILLEGAL;
	}
	snprintf(what, sizeof(what), "started to %s", mode_names[mode]);
	if (l) { /* the same session: a change of mode, no new ring */
		enum callctl_monitor_mode was = c->mon_mode;
		if (was == mode)
			return 0;
		c->mon_mode = mode;
		if (l->state == LEG_UP && (err = supervisor_join(c, l))) {
			c->mon_mode = was;
			*why = "the mode could not be changed";
			return err;
		}
		snprintf(what, sizeof(what), "switched from %s to %s", mode_names[was],
			 mode_names[mode]);
		note(c, by, what);
		return 0;
	}
	contact = callctl_agent_contact(cc, by);
	if (!contact) {
		*why = "your phone is not registered: register a SIP phone, or this browser as "
		       "your phone, to monitor calls";
		return -ENODEV;
	}
	err = call_leg_new(c, LEG_SUPERVISOR, &l);
	if (err) {
		*why = "too many parties on the call";
		return err;
	}
	l->user = by;
	c->mon_mode = mode;
	err = call_leg_dial(l, contact, c->caller_number, "Monitoring", true);
	if (err) {
		call_leg_drop(c, l);
		*why = "your phone could not be called";
		return -EIO;
	}
	cleg_state_set(l, LEG_DIALLING);
	note(c, by, what);
	return 0;
}

int callctl_monitor_stop(struct callctl *cc, const char *ix_number, struct user *by,
			 const char **why)
{
	int64_t id = routing_ix_id_of(ix_number);
	struct call *c = id ? call_find(cc, id) : NULL;
	struct cleg *l = c ? call_leg(c, LEG_SUPERVISOR) : NULL;

	*why = "";
	if (!c || strcmp(c->ix_number, ix_number) || c->state >= CALL_ENDING)
		return CC_ENOTFOUND;
	if (!l || l->user != by) {
		*why = "you are not monitoring this call";
		return CC_EILLEGAL;
	}
	call_leg_hangup(cc, l);
	call_leg_drop(c, l);
	note(c, by, "stopped monitoring");
	return 0;
}

void monitor_answered(struct call *c, struct cleg *l, struct call_arg *a)
{
	if (!monitorable(c) || l->ops->remote(l, a->sip->sdp)) {
		log_warn("call=%s action=the monitoring phone's answer is not used", c->ix_number);
		call_leg_hangup(c->cc, l);
		call_leg_drop(c, l);
		return;
	}
	cleg_state_set(l, LEG_UP);
	if (supervisor_join(c, l)) {
		log_error("call=%s action=the monitoring leg could not join", c->ix_number);
		call_leg_hangup(c->cc, l);
		call_leg_drop(c, l);
	}
}

void monitor_gone(struct call *c, struct cleg *l)
{
	const struct user *u = l->user;

	call_leg_drop(c, l);
	if (c->state < CALL_ENDING && u)
		note(c, u, "hung up the monitoring call");
}

int callctl_monitor_state(struct callctl *cc, const char *ix_number, const struct user **by,
			  const char **mode, const char **leg_state)
{
	int64_t id = routing_ix_id_of(ix_number);
	struct call *c = id ? call_find(cc, id) : NULL;
	struct cleg *l = c ? call_leg(c, LEG_SUPERVISOR) : NULL;

	if (!l)
		return CC_ENOTFOUND;
	*by = l->user;
	*mode = mode_names[c->mon_mode];
	*leg_state = cleg_state_name(l->state);
	return 0;
}

/* The call as the wallboard shows it. */
static void live_fill(struct callctl *cc, struct call *c, struct routing_live_call *l)
{
	struct cleg *sup = call_leg(c, LEG_SUPERVISOR);
	int64_t qid = c->xfer_queue_id ? c->xfer_queue_id : c->queue_id;

	*l = (struct routing_live_call){
		.interaction = c->ix_number,
		.phase = call_state_name(c->state),
		.phase_since = c->state_since,
		.caller = c->caller_number,
		.queue = qid ? routing_queue_name(cc->r, qid) : NULL,
		.agent = c->agent_user,
		.second = c->xfer_user,
		.monitor = sup ? sup->user : NULL,
		.intent = c->fc ? flow_call_get(c->fc, "intent") : NULL,
		.outbound = c->outbound,
		.ended = c->state >= CALL_ENDING,
	};
}

size_t callctl_live_calls(struct callctl *cc, struct callctl_live *out, size_t max)
{
	struct call *c, *tmp;
	size_t n = 0;

	HASH_ITER(hh, cc->calls, c, tmp)
	{
		if (n == max)
			break;
		if (c->state >= CALL_ENDING || !c->ix_number[0])
			continue;
		live_fill(cc, c, &out[n++]);
	}
	return n;
}

void call_live_announce(struct call *c)
{
	struct routing_live_call l;

	if (!c->ix_number[0])
		return;
	live_fill(c->cc, c, &l);
	routing_announce(c->cc->r, &(struct routing_event){.kind = RT_EV_LIVE,
							   .at = time_now_ms(),
							   .from = "",
							   .to = l.phase,
							   .reason = "",
							   .interaction = c->ix_number,
							   .actor = "system",
							   .live = &l});
}
