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
 * - The far end is an EXTERNAL leg of the call, so the
 *   bridge, the recording and re-INVITEs are those of an agent call; the
 *   call's table (call.c) sends its events to the actions here, and its
 *   hang-up when bridged closes the interaction (act_caller_closes).
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

/* TRANSFER → FLOW: drop the far end's leg, say why, then the failed branch. */
void act_transfer_failed(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[160], why[80];
	const char *w = a->why;
	struct cleg *far = call_leg(c, LEG_EXTERNAL);

	ctimer_stop(&c->timer);
	if (far) {
		call_leg_hangup(c->cc, far);
		call_leg_drop(c, far);
	}
	if (!w && a->sip && a->sip->kind == SIP_EV_FAILED)
		snprintf(why, sizeof(why), "SIP %d", a->sip->status), w = why;
	else if (!w && a->sip)
		snprintf(why, sizeof(why), "ended (%.60s)", a->sip->reason), w = why;
	if (w) { /* no route: said when the transfer began */
		log_info("call=%s action=transfer to %s failed: %s", c->ix_number, c->xfer_number,
			 w);
		snprintf(text, sizeof(text), "Transfer to %s failed: %s", c->xfer_number, w);
		routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	}
	if (call_customer(c)->m)
		call_customer(c)->ops->stop(call_customer(c));
	flow_call_resume(c->fc, c->xfer_failed);
	(void)from;
}

static void transfer_failed(struct call *c, const char *why)
{
	struct call_arg a = {.why = why};

	call_event(c, CEV_TRANSFER_FAIL, &a);
}

static void transfer_timeout(uv_timer_t *t)
{
	transfer_failed(t->data, "no answer");
}

static void transfer_no_route(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->timer);
	call_event(c, CEV_TRANSFER_FAIL, NULL);
}

static int transfer_dial(struct callctl *cc, struct call *c)
{
	char uri[200];
	struct cleg *far;
	int err = call_leg_new(c, LEG_EXTERNAL, &far);

	if (err)
		return err;
	snprintf(uri, sizeof(uri), "sip:%s@%s", c->xfer_number, cc->cfg.outbound_uri + 4);
	err = far->ops->dial(far, uri, c->caller_number, c->caller_number, false);
	if (err) {
		call_leg_drop(c, far);
		return err;
	}
	cleg_state_set(far, LEG_DIALLING);
	log_info("call=%s action=transfer dialling %s", c->ix_number, uri);
	return 0;
}

void call_transfer_start(struct call *c, const struct flow_block *b)
{
	call_event(c, CEV_TRANSFER, &(struct call_arg){.fb = b});
}

/* FLOW → TRANSFER: the far end is an EXTERNAL leg in the second slot. */
void act_transfer_start(struct call *c, enum call_state from, struct call_arg *a)
{
	struct callctl *cc = c->cc;
	const struct flow_block *b = a->fb;

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
		/* deferred: the interpreter is not re-entered from its own end */
		ctimer_start(c, &c->timer, transfer_no_route, 0);
		return;
	}
	hold_music(c);
	ctimer_start(c, &c->timer, transfer_timeout, cc->cfg.transfer_timeout_ms);
	(void)from;
}

/* TRANSFER → BRIDGED: the far end answered with usable media. */
void act_transfer_bridged(struct call *c, enum call_state from, struct call_arg *a)
{
	char text[120];

	ctimer_stop(&c->timer);
	cleg_state_set(call_leg(c, LEG_EXTERNAL), LEG_UP);
	call_bridge_start(c->cc, c);
	snprintf(text, sizeof(text), "Transferred to %s", c->xfer_number);
	routing_ix_note(c->cc->r, c->ix_id, "transfer", text);
	routing_ctr_transferred(c->cc->r, c->ix_id, c->xfer_number); /* a flow's, or an agent's */
	log_info("call=%s action=transferred to %s: bridged", c->ix_number, c->xfer_number);
	(void)from, (void)a;
}
