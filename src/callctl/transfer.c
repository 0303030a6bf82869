/*
 * transfer.c — a flow's `transfer` block (docs/FLOWS.md): Switchboard dials
 * the external number through the outbound route and bridges the caller to
 * the far end, or continues the flow at the block's `failed` branch.
 *
 * DESIGN
 * - The outbound route is calls.outbound_uri ("sip:host[:port]", e.g. the
 *   provider's SBC or a PBX); the INVITE goes to sip:<number>@host:port
 *   with our SDP, the caller's number as From, like an offer to an agent.
 *   No route configured: logged, and the failed branch.
 * - The far end uses the call's second leg slot (c->agent) with c->xfer
 *   set, so the bridge, the recording, re-INVITEs (hold) and every ending
 *   are those of an agent call; only the SIP events of that leg while
 *   ringing or bridged come here first (transfer_on_sip_event).
 * - While it rings the caller hears hold music. A final non-2xx, or no
 *   answer within calls.transfer_timeout (CANCEL), takes the failed branch
 *   through flow_call_resume, deferred to a 0 ms timer when it fails at
 *   once so the interpreter is not re-entered from its own end callback.
 * - The interaction (SPEC.md Table 1: handled by the flow, never queued)
 *   stays New with an activity entry "Transferred to <number>" and closes
 *   Closed Complete when either side hangs up.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <string.h>

/* "sip:host[:port]" (no user part, no parameters); 0 or -EINVAL. */
int transfer_uri_check(const char *uri)
{
	const char *host = uri + 4;

	if (!uri[0])
		return 0;
	if (strncmp(uri, "sip:", 4) || !host[0] || strpbrk(host, "@;?<> \t\"") || strlen(uri) > 100)
		return -EINVAL;
	return 0;
}

static void transfer_resume(struct call *c)
{
	int block = c->xfer_failed;

	c->xfer = false;
	c->state = CALL_FLOW;
	if (c->caller.m)
		mleg_stop(c->caller.m);
	flow_call_resume(c->fc, block);
}

/* The far end did not take the call: drop its leg, then the failed branch. */
static void transfer_failed(struct call *c, const char *why)
{
	char text[160];

	ctimer_stop(&c->timer);
	if (c->agent.leg && !c->agent.ended)
		sip_leg_hangup(c->cc->ua, c->agent.leg);
	call_leg_release(c->cc, &c->agent);
	log_info("call=%s action=transfer to %s failed: %s", c->ix_number, c->xfer_number, why);
	snprintf(text, sizeof(text), "Transfer to %s failed: %s", c->xfer_number, why);
	routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	transfer_resume(c);
}

static void transfer_timeout(uv_timer_t *t)
{
	struct call *c = t->data;

	if (c->state == CALL_TRANSFER)
		transfer_failed(c, "no answer");
}

static void transfer_no_route(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->timer);
	if (c->state == CALL_TRANSFER)
		transfer_resume(c);
}

static int transfer_dial(struct callctl *cc, struct call *c)
{
	char sdp[1024], uri[200];
	sip_leg_t leg;

	snprintf(uri, sizeof(uri), "sip:%s@%s", c->xfer_number, cc->cfg.outbound_uri + 4);
	if (mleg_alloc(&c->agent.m, cc->media, c->id * 2 + 1))
		return -EADDRINUSE;
	if (call_sdp_local(cc, c->agent.m, -1, sdp, sizeof(sdp)) ||
	    sip_leg_invite(cc->ua, &leg, uri, c->caller_number, c->caller_number, sdp)) {
		call_leg_release(cc, &c->agent);
		return -EIO;
	}
	call_leg_bind(cc, &c->agent, leg);
	c->agent.ended = false;
	log_info("call=%s action=transfer dialling %s", c->ix_number, uri);
	return 0;
}

void call_transfer_start(struct call *c, const struct flow_block *b)
{
	struct callctl *cc = c->cc;

	c->state = CALL_TRANSFER;
	c->xfer = true;
	c->xfer_failed = b->failed;
	str_copy(c->xfer_number, b->number, sizeof(c->xfer_number));
	if (!cc->cfg.outbound_uri[0] || transfer_dial(cc, c)) {
		log_warn("call=%s block=%s action=transfer to %s impossible: %s", c->ix_number,
			 b->name, b->number,
			 cc->cfg.outbound_uri[0] ? "the INVITE could not be sent"
						 : "no outbound route (calls.outbound_uri)");
		routing_ix_note(cc->r, c->ix_id, "transfer",
				cc->cfg.outbound_uri[0]
					? "Transfer failed: the call could not be placed"
					: "Transfer failed: no outbound route");
		ctimer_start(c, &c->timer, transfer_no_route, 0);
		return;
	}
	hold_music(c);
	ctimer_start(c, &c->timer, transfer_timeout, cc->cfg.transfer_timeout_ms);
}

static void transfer_answered(struct callctl *cc, struct call *c, const struct sip_event *ev)
{
	char text[120];

	ctimer_stop(&c->timer);
	if (call_sdp_apply(c->agent.m, ev->sdp) < 0) {
		transfer_failed(c, "no usable media in the answer");
		return;
	}
	c->state = CALL_BRIDGED;
	call_bridge_start(cc, c);
	snprintf(text, sizeof(text), "Transferred to %s", c->xfer_number);
	routing_ix_note(cc->r, c->ix_id, "transfer", text);
	log_info("call=%s action=transferred to %s: bridged", c->ix_number, c->xfer_number);
}

/*
 * SIP events of the far end's leg. Returns true when handled here; false
 * leaves the event to callctl.c (re-INVITEs; the ending of a bridged call).
 */
bool transfer_on_sip_event(struct callctl *cc, struct call *c, const struct sip_event *ev)
{
	char why[80];

	if (c->state == CALL_TRANSFER) {
		if (ev->kind == SIP_EV_ANSWERED) {
			transfer_answered(cc, c, ev);
		} else if (ev->kind == SIP_EV_FAILED || ev->kind == SIP_EV_TERMINATED) {
			c->agent.ended = true;
			if (ev->kind == SIP_EV_FAILED)
				snprintf(why, sizeof(why), "SIP %d", ev->status);
			else
				snprintf(why, sizeof(why), "ended (%.60s)", ev->reason);
			transfer_failed(c, why);
		}
		return ev->kind != SIP_EV_REINVITE;
	}
	if (c->state == CALL_BRIDGED && ev->kind == SIP_EV_TERMINATED) {
		log_info("call=%s action=the far end of the transfer hung up", c->ix_number);
		c->agent.ended = true;
		call_caller_closes(c);
		return true;
	}
	return false;
}
