/*
 * fsm.c — the two domain state machines as transition tables
 * (CONVENTIONS.md §9): presence (SPEC.md §4, seed Table 2) and interaction
 * (SPEC.md §2, seed Table 1), plus the role rules of SPEC.md §5.
 *
 * DESIGN
 * - Each table is a list of {from, event, to}; anything not listed is
 *   illegal (CC_EILLEGAL). The lookups are pure, so the unit tests walk every
 *   (state, event) pair. routing.c is the one entry point that applies them,
 *   logs from→to, persists and announces the change.
 * - Decisions where the seed is silent (docs/DOMAIN.md): a missed or rejected
 *   offer moves the agent to "Missed" (not routable) until the agent asks for
 *   Available again; outbound calls may start from Available, Away or Missed;
 *   AfterCallWork only ends with Clear contact (or the wrap-up timeout);
 *   a queued interaction shows as New.
 */
#include "routing/routing.h"

#include <string.h>

struct ag_trans {
	enum presence from;
	enum agent_event ev;
	enum presence to;
};

static const struct ag_trans ag_table[] = {
	{PRES_OFFLINE, AG_EV_GO_AVAILABLE, PRES_AVAILABLE},
	{PRES_OFFLINE, AG_EV_GO_AWAY, PRES_AWAY},
	{PRES_AVAILABLE, AG_EV_GO_AWAY, PRES_AWAY},
	{PRES_AVAILABLE, AG_EV_GO_OFFLINE, PRES_OFFLINE},
	{PRES_AVAILABLE, AG_EV_OFFER_MISSED, PRES_MISSED},
	{PRES_AVAILABLE, AG_EV_INBOUND_ACCEPTED, PRES_BUSY},
	{PRES_AVAILABLE, AG_EV_DIAL, PRES_CALLING_CUSTOMER},
	{PRES_AWAY, AG_EV_GO_AVAILABLE, PRES_AVAILABLE},
	{PRES_AWAY, AG_EV_GO_AWAY, PRES_AWAY}, /* a new reason */
	{PRES_AWAY, AG_EV_GO_OFFLINE, PRES_OFFLINE},
	{PRES_AWAY, AG_EV_DIAL, PRES_CALLING_CUSTOMER},
	{PRES_MISSED, AG_EV_GO_AVAILABLE, PRES_AVAILABLE},
	{PRES_MISSED, AG_EV_GO_AWAY, PRES_AWAY},
	{PRES_MISSED, AG_EV_GO_OFFLINE, PRES_OFFLINE},
	{PRES_MISSED, AG_EV_DIAL, PRES_CALLING_CUSTOMER},
	{PRES_CALLING_CUSTOMER, AG_EV_OUTBOUND_CONNECTED, PRES_BUSY},
	{PRES_CALLING_CUSTOMER, AG_EV_OUTBOUND_FAILED, PRES_FAILED_CONNECT},
	{PRES_FAILED_CONNECT, AG_EV_FAILED_DONE, PRES_AVAILABLE},
	{PRES_BUSY, AG_EV_CALL_ENDED, PRES_AFTER_CALL_WORK},
	{PRES_AFTER_CALL_WORK, AG_EV_CLEAR, PRES_AVAILABLE},
};

int agent_fsm_next(enum presence from, enum agent_event ev, enum presence *to)
{
	for (size_t i = 0; i < sizeof(ag_table) / sizeof(ag_table[0]); i++) {
		if (ag_table[i].from == from && ag_table[i].ev == ev) {
			*to = ag_table[i].to;
			return 0;
		}
	}
	return CC_EILLEGAL;
}

static const char *const presence_names[PRES__N] = {
	[PRES_OFFLINE] = "Offline",
	[PRES_AVAILABLE] = "Available",
	[PRES_AWAY] = "Away",
	[PRES_CALLING_CUSTOMER] = "CallingCustomer",
	[PRES_BUSY] = "Busy",
	[PRES_AFTER_CALL_WORK] = "AfterCallWork",
	[PRES_FAILED_CONNECT] = "FailedConnectAgent",
	[PRES_MISSED] = "Missed",
};

const char *presence_name(enum presence p)
{
	return (unsigned)p < PRES__N ? presence_names[p] : "?";
}

int presence_parse(const char *s, enum presence *p)
{
	for (int i = 0; i < PRES__N; i++) {
		if (!strcmp(s, presence_names[i])) {
			*p = (enum presence)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const agent_event_names[AG_EV__N] = {
	[AG_EV_GO_AVAILABLE] = "go_available",
	[AG_EV_GO_AWAY] = "go_away",
	[AG_EV_GO_OFFLINE] = "go_offline",
	[AG_EV_OFFER_MISSED] = "offer_missed",
	[AG_EV_INBOUND_ACCEPTED] = "inbound_accepted",
	[AG_EV_DIAL] = "dial",
	[AG_EV_OUTBOUND_CONNECTED] = "outbound_connected",
	[AG_EV_OUTBOUND_FAILED] = "outbound_failed",
	[AG_EV_FAILED_DONE] = "failed_done",
	[AG_EV_CALL_ENDED] = "call_ended",
	[AG_EV_CLEAR] = "clear_contact",
};

const char *agent_event_name(enum agent_event ev)
{
	return (unsigned)ev < AG_EV__N ? agent_event_names[ev] : "?";
}

/* ---- interactions ---- */
struct ix_trans {
	enum ix_state from;
	enum ix_event ev;
	enum ix_state to;
};

static const struct ix_trans ix_table[] = {
	{IX_NEW, IX_EV_ENQUEUE, IX_QUEUED},
	{IX_NEW, IX_EV_DEFLECT, IX_CLOSED_COMPLETE},
	{IX_NEW, IX_EV_CALLER_HANGUP, IX_CLOSED_COMPLETE},
	{IX_NEW, IX_EV_ASSIGN, IX_WIP},
	{IX_NEW, IX_EV_SYSTEM_CLOSE, IX_CLOSED_COMPLETE},
	{IX_QUEUED, IX_EV_ENQUEUE, IX_QUEUED}, /* overflow to another queue */
	{IX_QUEUED, IX_EV_CALLER_HANGUP, IX_CLOSED_ABANDONED},
	{IX_QUEUED, IX_EV_ASSIGN, IX_WIP},
	{IX_QUEUED, IX_EV_SYSTEM_CLOSE, IX_CLOSED_ABANDONED},
	{IX_QUEUED, IX_EV_DEQUEUE, IX_NEW},    /* max wait: the flow's overflow branch */
	{IX_WIP, IX_EV_CALLER_HANGUP, IX_WIP}, /* the agent still wraps up */
	{IX_WIP, IX_EV_REASSIGN, IX_WIP},
	{IX_WIP, IX_EV_CLEAR, IX_CLOSED_COMPLETE},
	{IX_WIP, IX_EV_SYSTEM_CLOSE, IX_CLOSED_COMPLETE}, /* an outbound call lost while dialling */
	{IX_WIP, IX_EV_ABANDON, IX_CLOSED_ABANDONED},	  /* gone in a transfer's queue */
};

int ix_fsm_next(enum ix_state from, enum ix_event ev, enum ix_state *to)
{
	for (size_t i = 0; i < sizeof(ix_table) / sizeof(ix_table[0]); i++) {
		if (ix_table[i].from == from && ix_table[i].ev == ev) {
			*to = ix_table[i].to;
			return 0;
		}
	}
	return CC_EILLEGAL;
}

static const char *const ix_names[IX__N] = {
	[IX_NEW] = "new",
	[IX_QUEUED] = "new",
	[IX_WIP] = "work_in_progress",
	[IX_CLOSED_COMPLETE] = "closed_complete",
	[IX_CLOSED_ABANDONED] = "closed_abandoned",
};
static const char *const ix_labels[IX__N] = {
	[IX_NEW] = "New",
	[IX_QUEUED] = "New",
	[IX_WIP] = "Work in Progress",
	[IX_CLOSED_COMPLETE] = "Closed Complete",
	[IX_CLOSED_ABANDONED] = "Closed Abandoned",
};

const char *ix_state_name(enum ix_state s)
{
	return (unsigned)s < IX__N ? ix_names[s] : "?";
}

const char *ix_state_label(enum ix_state s)
{
	return (unsigned)s < IX__N ? ix_labels[s] : "?";
}

int ix_state_parse(const char *s, enum ix_state *st)
{
	if (!strcmp(s, "queued")) {
		*st = IX_QUEUED;
		return 0;
	}
	for (int i = 0; i < IX__N; i++) {
		if (i != IX_QUEUED && !strcmp(s, ix_names[i])) {
			*st = (enum ix_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const ix_event_names[IX_EV__N] = {
	[IX_EV_ENQUEUE] = "enqueue",
	[IX_EV_DEFLECT] = "deflect",
	[IX_EV_CALLER_HANGUP] = "caller_hangup",
	[IX_EV_ASSIGN] = "assign",
	[IX_EV_REASSIGN] = "reassign",
	[IX_EV_CLEAR] = "clear_contact",
	[IX_EV_SYSTEM_CLOSE] = "system_close",
	[IX_EV_DEQUEUE] = "dequeue",
	[IX_EV_ABANDON] = "abandon",
};

const char *ix_event_name(enum ix_event ev)
{
	return (unsigned)ev < IX_EV__N ? ix_event_names[ev] : "?";
}

/* What the activity stream says (issue 10: people read it, not codes). */
static const char *const ix_event_labels[IX_EV__N] = {
	[IX_EV_ENQUEUE] = "queued",
	[IX_EV_DEFLECT] = "solved by the bot",
	[IX_EV_CALLER_HANGUP] = "the caller hung up",
	[IX_EV_ASSIGN] = "assigned",
	[IX_EV_REASSIGN] = "reassigned",
	[IX_EV_CLEAR] = "contact cleared",
	[IX_EV_SYSTEM_CLOSE] = "closed by the system",
	[IX_EV_DEQUEUE] = "left the queue",
	[IX_EV_ABANDON] = "the caller hung up waiting for the transfer",
};

const char *ix_event_label(enum ix_event ev)
{
	return (unsigned)ev < IX_EV__N ? ix_event_labels[ev] : "?";
}

const char *ix_reason_label(const char *reason)
{
	static const char *const map[][2] = {
		{"caller_hangup", ""}, /* the event's label says it */
		{"max_wait", "the maximum wait passed"},
		{"server_restart", "the server restarted"},
		{"deflected", ""},
	};

	for (size_t i = 0; reason && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(reason, map[i][0]))
			return map[i][1];
	return reason ? reason : "";
}

/* ---- roles ---- */
static const char *const role_names[ROLE__N] = {
	[ROLE_OPENFRAME_USER] = "sn_openframe.user",
	[ROLE_INTERACTION_AGENT] = "interaction_agent",
	[ROLE_AWA_AGENT] = "awa_agent",
	[ROLE_AWA_INTEGRATION] = "awa_integration_user",
	[ROLE_VOICE_MANAGER] = "voice_manager",
	[ROLE_ADMIN] = "admin",
};

const char *role_name(enum role r)
{
	return (unsigned)r < ROLE__N ? role_names[r] : "?";
}

int role_parse(const char *s, enum role *r)
{
	for (int i = 0; i < ROLE__N; i++) {
		if (!strcmp(s, role_names[i])) {
			*r = (enum role)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* SPEC.md §5 and the seed: the openframe pair always qualifies; the awa
 * pair qualifies too while the routing engine (AWA) is enabled. */
bool roles_can_handle_calls(unsigned mask, bool awa_enabled)
{
	unsigned of = ROLE_BIT(ROLE_OPENFRAME_USER) | ROLE_BIT(ROLE_INTERACTION_AGENT);
	unsigned awa = ROLE_BIT(ROLE_AWA_AGENT) | ROLE_BIT(ROLE_AWA_INTEGRATION);

	return (mask & of) == of || (awa_enabled && (mask & awa) == awa);
}

bool roles_is_agent(unsigned mask)
{
	return mask & (ROLE_BIT(ROLE_OPENFRAME_USER) | ROLE_BIT(ROLE_INTERACTION_AGENT) |
		       ROLE_BIT(ROLE_AWA_AGENT) | ROLE_BIT(ROLE_AWA_INTEGRATION));
}
