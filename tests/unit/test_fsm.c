/*
 * test_fsm.c — the pure state machines and role rules of routing/fsm.c.
 *
 * The expected tables below are written from SPEC.md, not copied from
 * fsm.c: presence from §4 (seed Table 2) plus the decisions in fsm.c's
 * DESIGN block (a missed offer → Missed until the agent asks for Available;
 * outbound calls start from Available, Away or Missed; AfterCallWork ends
 * only with Clear contact; Away → Away sets a new reason), interactions from
 * §2 (seed Table 1) plus routing.h's recovery rule (server restart closes
 * New as Complete and queued as Abandoned). Every (state × event) pair is
 * checked, so a transition added to or dropped from fsm.c shows up here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "routing/routing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE (-1) /* illegal: agent_fsm_next / ix_fsm_next answer CC_EILLEGAL */

/* ---- presence: expected[from][event] = to, or NONE ---- */
static int pres_expected[PRES__N][AG_EV__N];

static void pres_allow(enum presence from, enum agent_event ev, enum presence to)
{
	pres_expected[from][ev] = (int)to;
}

static void pres_table_build(void)
{
	for (int s = 0; s < PRES__N; s++)
		for (int e = 0; e < AG_EV__N; e++)
			pres_expected[s][e] = NONE;
	/* Offline: signing in (Away "Signed in") or straight to Available. */
	pres_allow(PRES_OFFLINE, AG_EV_GO_AVAILABLE, PRES_AVAILABLE);
	pres_allow(PRES_OFFLINE, AG_EV_GO_AWAY, PRES_AWAY);
	/* Available: ready for work; offered calls, outbound calls, breaks. */
	pres_allow(PRES_AVAILABLE, AG_EV_GO_AWAY, PRES_AWAY);
	pres_allow(PRES_AVAILABLE, AG_EV_GO_OFFLINE, PRES_OFFLINE);
	pres_allow(PRES_AVAILABLE, AG_EV_OFFER_MISSED, PRES_MISSED);
	pres_allow(PRES_AVAILABLE, AG_EV_INBOUND_ACCEPTED, PRES_BUSY);
	pres_allow(PRES_AVAILABLE, AG_EV_DIAL, PRES_CALLING_CUSTOMER);
	/* Away: not routable, but may phone a customer. */
	pres_allow(PRES_AWAY, AG_EV_GO_AVAILABLE, PRES_AVAILABLE);
	pres_allow(PRES_AWAY, AG_EV_GO_AWAY, PRES_AWAY);
	pres_allow(PRES_AWAY, AG_EV_GO_OFFLINE, PRES_OFFLINE);
	pres_allow(PRES_AWAY, AG_EV_DIAL, PRES_CALLING_CUSTOMER);
	/* Missed: like Away until the agent asks for Available again. */
	pres_allow(PRES_MISSED, AG_EV_GO_AVAILABLE, PRES_AVAILABLE);
	pres_allow(PRES_MISSED, AG_EV_GO_AWAY, PRES_AWAY);
	pres_allow(PRES_MISSED, AG_EV_GO_OFFLINE, PRES_OFFLINE);
	pres_allow(PRES_MISSED, AG_EV_DIAL, PRES_CALLING_CUSTOMER);
	/* Outbound: connecting, then Busy or FailedConnectAgent → Available. */
	pres_allow(PRES_CALLING_CUSTOMER, AG_EV_OUTBOUND_CONNECTED, PRES_BUSY);
	pres_allow(PRES_CALLING_CUSTOMER, AG_EV_OUTBOUND_FAILED, PRES_FAILED_CONNECT);
	pres_allow(PRES_FAILED_CONNECT, AG_EV_FAILED_DONE, PRES_AVAILABLE);
	/* On a call: End call → AfterCallWork; Clear contact → Available. */
	pres_allow(PRES_BUSY, AG_EV_CALL_ENDED, PRES_AFTER_CALL_WORK);
	pres_allow(PRES_AFTER_CALL_WORK, AG_EV_CLEAR, PRES_AVAILABLE);
}

static void presence_every_pair_matches_the_spec_table(void **state)
{
	int legal = 0;

	pres_table_build();
	for (int s = 0; s < PRES__N; s++) {
		for (int e = 0; e < AG_EV__N; e++) {
			enum presence to = (enum presence)99;
			int err = agent_fsm_next((enum presence)s, (enum agent_event)e, &to);
			int want = pres_expected[s][e];
			char what[96];

			snprintf(what, sizeof(what), "%s + %s", presence_name(s),
			         agent_event_name(e));
			if (want == NONE) {
				if (err != CC_EILLEGAL)
					fail_msg("%s: expected illegal, got err=%d to=%s", what,
					         err, presence_name(to));
				/* an illegal lookup leaves *to alone */
				assert_int_equal(to, 99);
			} else {
				if (err != 0 || (int)to != want)
					fail_msg("%s: expected %s, got err=%d to=%s", what,
					         presence_name(want), err,
					         err ? "-" : presence_name(to));
				legal++;
			}
		}
	}
	assert_int_equal(legal, 20);
}

/* Walks a path of events from `from`, checking each step's state. */
static void pres_walk(enum presence from, const enum agent_event *evs, const enum presence *want,
                      size_t n)
{
	enum presence cur = from;

	for (size_t i = 0; i < n; i++) {
		enum presence to;
		int err = agent_fsm_next(cur, evs[i], &to);
		if (err)
			fail_msg("step %zu: %s + %s is illegal", i, presence_name(cur),
			         agent_event_name(evs[i]));
		assert_string_equal(presence_name(to), presence_name(want[i]));
		cur = to;
	}
}

static void outbound_call_connects_then_wraps_up_to_available(void **state)
{
	const enum agent_event evs[] = {AG_EV_DIAL, AG_EV_OUTBOUND_CONNECTED, AG_EV_CALL_ENDED,
	                                AG_EV_CLEAR};
	const enum presence want[] = {PRES_CALLING_CUSTOMER, PRES_BUSY, PRES_AFTER_CALL_WORK,
	                              PRES_AVAILABLE};

	pres_walk(PRES_AVAILABLE, evs, want, 4);
}

static void outbound_call_fails_then_agent_is_available(void **state)
{
	const enum agent_event evs[] = {AG_EV_DIAL, AG_EV_OUTBOUND_FAILED, AG_EV_FAILED_DONE};
	const enum presence want[] = {PRES_CALLING_CUSTOMER, PRES_FAILED_CONNECT, PRES_AVAILABLE};
	enum presence to;

	pres_walk(PRES_AVAILABLE, evs, want, 3);
	/* FailedConnectAgent is shown, not wrapped up: no AfterCallWork. */
	assert_int_equal(agent_fsm_next(PRES_FAILED_CONNECT, AG_EV_CLEAR, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_FAILED_CONNECT, AG_EV_CALL_ENDED, &to), CC_EILLEGAL);
}

static void outbound_call_may_start_from_away_or_missed_not_offline(void **state)
{
	enum presence to;

	assert_int_equal(agent_fsm_next(PRES_AWAY, AG_EV_DIAL, &to), 0);
	assert_int_equal(to, PRES_CALLING_CUSTOMER);
	assert_int_equal(agent_fsm_next(PRES_MISSED, AG_EV_DIAL, &to), 0);
	assert_int_equal(to, PRES_CALLING_CUSTOMER);
	assert_int_equal(agent_fsm_next(PRES_OFFLINE, AG_EV_DIAL, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_BUSY, AG_EV_DIAL, &to), CC_EILLEGAL);
}

static void inbound_call_accepted_makes_available_agent_busy(void **state)
{
	const enum agent_event evs[] = {AG_EV_INBOUND_ACCEPTED, AG_EV_CALL_ENDED, AG_EV_CLEAR};
	const enum presence want[] = {PRES_BUSY, PRES_AFTER_CALL_WORK, PRES_AVAILABLE};
	enum presence to;

	pres_walk(PRES_AVAILABLE, evs, want, 3);
	/* only an Available agent is offered calls */
	for (int s = 0; s < PRES__N; s++)
		if (s != PRES_AVAILABLE)
			assert_int_equal(agent_fsm_next(s, AG_EV_INBOUND_ACCEPTED, &to),
			                 CC_EILLEGAL);
}

static void missed_offer_is_not_offered_again_until_go_available(void **state)
{
	enum presence to;

	assert_int_equal(agent_fsm_next(PRES_AVAILABLE, AG_EV_OFFER_MISSED, &to), 0);
	assert_int_equal(to, PRES_MISSED);
	/* Missed is not routable: no further offers can be missed or accepted. */
	assert_int_equal(agent_fsm_next(PRES_MISSED, AG_EV_OFFER_MISSED, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_MISSED, AG_EV_INBOUND_ACCEPTED, &to), CC_EILLEGAL);
	/* until the agent asks for Available again */
	assert_int_equal(agent_fsm_next(PRES_MISSED, AG_EV_GO_AVAILABLE, &to), 0);
	assert_int_equal(to, PRES_AVAILABLE);
	assert_int_equal(agent_fsm_next(to, AG_EV_INBOUND_ACCEPTED, &to), 0);
	assert_int_equal(to, PRES_BUSY);
}

static void after_call_work_ends_only_with_clear_contact(void **state)
{
	enum presence to;

	assert_int_equal(agent_fsm_next(PRES_AFTER_CALL_WORK, AG_EV_GO_OFFLINE, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_AFTER_CALL_WORK, AG_EV_GO_AVAILABLE, &to),
	                 CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_AFTER_CALL_WORK, AG_EV_GO_AWAY, &to), CC_EILLEGAL);
	for (int e = 0; e < AG_EV__N; e++) {
		int err = agent_fsm_next(PRES_AFTER_CALL_WORK, e, &to);
		assert_int_equal(err, e == AG_EV_CLEAR ? 0 : CC_EILLEGAL);
	}
	assert_int_equal(to, PRES_AVAILABLE);
}

static void busy_agent_cannot_go_away_offline_or_available(void **state)
{
	enum presence to;

	assert_int_equal(agent_fsm_next(PRES_BUSY, AG_EV_GO_AWAY, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_BUSY, AG_EV_GO_OFFLINE, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_BUSY, AG_EV_GO_AVAILABLE, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_CALLING_CUSTOMER, AG_EV_GO_AWAY, &to), CC_EILLEGAL);
}

static void out_of_range_presence_or_event_is_illegal(void **state)
{
	enum presence to;

	assert_int_equal(agent_fsm_next(PRES__N, AG_EV_GO_AVAILABLE, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next(PRES_OFFLINE, AG_EV__N, &to), CC_EILLEGAL);
	assert_int_equal(agent_fsm_next((enum presence) - 1, AG_EV_GO_AVAILABLE, &to), CC_EILLEGAL);
}

/* ---- interactions: expected[from][event] = to, or NONE ---- */
static int ix_expected[IX__N][IX_EV__N];

static void ix_table_build(void)
{
	for (int s = 0; s < IX__N; s++)
		for (int e = 0; e < IX_EV__N; e++)
			ix_expected[s][e] = NONE;
	/* New: in the call flow, not yet routed. */
	ix_expected[IX_NEW][IX_EV_ENQUEUE] = IX_QUEUED;
	ix_expected[IX_NEW][IX_EV_DEFLECT] = IX_CLOSED_COMPLETE;
	ix_expected[IX_NEW][IX_EV_CALLER_HANGUP] = IX_CLOSED_COMPLETE; /* before the queue */
	ix_expected[IX_NEW][IX_EV_ASSIGN] = IX_WIP;
	ix_expected[IX_NEW][IX_EV_SYSTEM_CLOSE] = IX_CLOSED_COMPLETE;
	/* Queued (shown as New): waiting for an agent. */
	ix_expected[IX_QUEUED][IX_EV_ENQUEUE] = IX_QUEUED; /* overflow to another queue */
	ix_expected[IX_QUEUED][IX_EV_CALLER_HANGUP] = IX_CLOSED_ABANDONED;
	ix_expected[IX_QUEUED][IX_EV_ASSIGN] = IX_WIP;
	ix_expected[IX_QUEUED][IX_EV_SYSTEM_CLOSE] = IX_CLOSED_ABANDONED;
	ix_expected[IX_QUEUED][IX_EV_DEQUEUE] = IX_NEW; /* max wait: overflow */
	/* Work in Progress: the agent owns it until Clear contact. */
	ix_expected[IX_WIP][IX_EV_CALLER_HANGUP] = IX_WIP;
	ix_expected[IX_WIP][IX_EV_REASSIGN] = IX_WIP;
	ix_expected[IX_WIP][IX_EV_CLEAR] = IX_CLOSED_COMPLETE;
	/* An outbound call still connecting when the server stopped. */
	ix_expected[IX_WIP][IX_EV_SYSTEM_CLOSE] = IX_CLOSED_COMPLETE;
	/* Transferred to a queue by an agent who then left: nobody assigned. */
	ix_expected[IX_WIP][IX_EV_ABANDON] = IX_CLOSED_ABANDONED;
	/* Closed Complete / Closed Abandoned: final. */
}

static void interaction_every_pair_matches_the_spec_table(void **state)
{
	int legal = 0;

	ix_table_build();
	for (int s = 0; s < IX__N; s++) {
		for (int e = 0; e < IX_EV__N; e++) {
			enum ix_state to = (enum ix_state)99;
			int err = ix_fsm_next((enum ix_state)s, (enum ix_event)e, &to);
			int want = ix_expected[s][e];
			/* ix_state_name shows queued as "new": use the label + index */
			if (want == NONE) {
				if (err != CC_EILLEGAL)
					fail_msg("state %d (%s) + %s: expected illegal, got %d/%d",
					         s, ix_state_label(s), ix_event_name(e), err, to);
				assert_int_equal(to, 99);
			} else {
				if (err != 0 || (int)to != want)
					fail_msg(
					        "state %d (%s) + %s: expected %d, got err=%d to=%d",
					        s, ix_state_label(s), ix_event_name(e), want, err,
					        to);
				legal++;
			}
		}
	}
	assert_int_equal(legal, 15);
}

static void deflect_or_hangup_before_queue_closes_complete(void **state)
{
	enum ix_state to;

	assert_int_equal(ix_fsm_next(IX_NEW, IX_EV_DEFLECT, &to), 0);
	assert_int_equal(to, IX_CLOSED_COMPLETE);
	assert_int_equal(ix_fsm_next(IX_NEW, IX_EV_CALLER_HANGUP, &to), 0);
	assert_int_equal(to, IX_CLOSED_COMPLETE);
}

static void assign_makes_work_in_progress(void **state)
{
	enum ix_state to;

	assert_int_equal(ix_fsm_next(IX_NEW, IX_EV_ENQUEUE, &to), 0);
	assert_int_equal(to, IX_QUEUED);
	assert_int_equal(ix_fsm_next(to, IX_EV_ASSIGN, &to), 0);
	assert_int_equal(to, IX_WIP);
	assert_string_equal(ix_state_name(to), "work_in_progress");
	assert_string_equal(ix_state_label(to), "Work in Progress");
}

static void caller_hangup_while_queued_closes_abandoned(void **state)
{
	enum ix_state to;

	assert_int_equal(ix_fsm_next(IX_QUEUED, IX_EV_CALLER_HANGUP, &to), 0);
	assert_int_equal(to, IX_CLOSED_ABANDONED);
	/* the bot no longer acts once the caller is queued */
	assert_int_equal(ix_fsm_next(IX_QUEUED, IX_EV_DEFLECT, &to), CC_EILLEGAL);
}

static void clear_contact_closes_complete_and_hangup_during_call_does_not(void **state)
{
	enum ix_state to;

	/* the caller hanging up during the call leaves it for the agent's wrap-up */
	assert_int_equal(ix_fsm_next(IX_WIP, IX_EV_CALLER_HANGUP, &to), 0);
	assert_int_equal(to, IX_WIP);
	assert_int_equal(ix_fsm_next(IX_WIP, IX_EV_CLEAR, &to), 0);
	assert_int_equal(to, IX_CLOSED_COMPLETE);
	/* only an assigned interaction is cleared */
	assert_int_equal(ix_fsm_next(IX_NEW, IX_EV_CLEAR, &to), CC_EILLEGAL);
	assert_int_equal(ix_fsm_next(IX_QUEUED, IX_EV_CLEAR, &to), CC_EILLEGAL);
}

static void closed_interaction_cannot_be_reopened(void **state)
{
	const enum ix_state closed[] = {IX_CLOSED_COMPLETE, IX_CLOSED_ABANDONED};
	enum ix_state to;

	for (size_t i = 0; i < 2; i++)
		for (int e = 0; e < IX_EV__N; e++)
			assert_int_equal(ix_fsm_next(closed[i], e, &to), CC_EILLEGAL);
}

static void out_of_range_ix_state_or_event_is_illegal(void **state)
{
	enum ix_state to;

	assert_int_equal(ix_fsm_next(IX__N, IX_EV_ASSIGN, &to), CC_EILLEGAL);
	assert_int_equal(ix_fsm_next(IX_NEW, IX_EV__N, &to), CC_EILLEGAL);
}

static void ix_state_names_labels_and_parse_round_trip(void **state)
{
	static const struct {
		enum ix_state st;
		const char *name, *label;
	} want[] = {
	        {IX_NEW, "new", "New"},
	        {IX_QUEUED, "new", "New"}, /* queued is displayed as New */
	        {IX_WIP, "work_in_progress", "Work in Progress"},
	        {IX_CLOSED_COMPLETE, "closed_complete", "Closed Complete"},
	        {IX_CLOSED_ABANDONED, "closed_abandoned", "Closed Abandoned"},
	};
	static const char *const bad[] = {"",
	                                  "New",
	                                  "NEW",
	                                  "wip",
	                                  "Work in Progress",
	                                  "closed",
	                                  "new ",
	                                  " new",
	                                  "closed_complete\n",
	                                  "?",
	                                  "queued2",
	                                  "Queued"};
	enum ix_state st;

	assert_int_equal(sizeof(want) / sizeof(want[0]), IX__N);
	for (size_t i = 0; i < IX__N; i++) {
		assert_string_equal(ix_state_name(want[i].st), want[i].name);
		assert_string_equal(ix_state_label(want[i].st), want[i].label);
		st = (enum ix_state)99;
		assert_int_equal(ix_state_parse(want[i].name, &st), 0);
		/* "new" parses to New, never to the internal queued state */
		assert_int_equal(st, want[i].st == IX_QUEUED ? IX_NEW : want[i].st);
	}
	assert_int_equal(ix_state_parse("queued", &st), 0);
	assert_int_equal(st, IX_QUEUED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = (enum ix_state)99;
		assert_int_equal(ix_state_parse(bad[i], &st), -EINVAL);
		assert_int_equal(st, 99);
	}
	assert_string_equal(ix_state_name(IX__N), "?");
	assert_string_equal(ix_state_label(IX__N), "?");
}

static void event_names_are_distinct_and_known(void **state)
{
	for (int i = 0; i < AG_EV__N; i++) {
		assert_string_not_equal(agent_event_name(i), "?");
		for (int k = 0; k < i; k++)
			assert_string_not_equal(agent_event_name(i), agent_event_name(k));
	}
	for (int i = 0; i < IX_EV__N; i++) {
		assert_string_not_equal(ix_event_name(i), "?");
		for (int k = 0; k < i; k++)
			assert_string_not_equal(ix_event_name(i), ix_event_name(k));
	}
	assert_string_equal(agent_event_name(AG_EV__N), "?");
	assert_string_equal(ix_event_name(IX_EV__N), "?");
}

/* ---- names ---- */
static void presence_names_round_trip_and_unknown_is_einval(void **state)
{
	static const char *const want[PRES__N] = {
	        [PRES_OFFLINE] = "Offline",
	        [PRES_AVAILABLE] = "Available",
	        [PRES_AWAY] = "Away",
	        [PRES_CALLING_CUSTOMER] = "CallingCustomer",
	        [PRES_BUSY] = "Busy",
	        [PRES_AFTER_CALL_WORK] = "AfterCallWork",
	        [PRES_FAILED_CONNECT] = "FailedConnectAgent",
	        [PRES_MISSED] = "Missed",
	};
	static const char *const bad[] = {
	        "",       "offline",         "AVAILABLE",     "Available ", " Busy",
	        "Busy\n", "After Call Work", "FailedConnect", "?",          "Calling Customer",
	        "away",   "Missed!"};
	enum presence p;

	for (int i = 0; i < PRES__N; i++) {
		assert_string_equal(presence_name(i), want[i]);
		p = (enum presence)99;
		assert_int_equal(presence_parse(want[i], &p), 0);
		assert_int_equal(p, i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = (enum presence)99;
		assert_int_equal(presence_parse(bad[i], &p), -EINVAL);
		assert_int_equal(p, 99);
	}
	assert_string_equal(presence_name(PRES__N), "?");
	assert_string_equal(presence_name((enum presence) - 1), "?");
}

static void role_names_round_trip_and_unknown_is_einval(void **state)
{
	static const char *const want[ROLE__N] = {
	        [ROLE_OPENFRAME_USER] = "sn_openframe.user",
	        [ROLE_INTERACTION_AGENT] = "interaction_agent",
	        [ROLE_AWA_AGENT] = "awa_agent",
	        [ROLE_AWA_INTEGRATION] = "awa_integration_user",
	        [ROLE_VOICE_MANAGER] = "voice_manager",
	        [ROLE_ADMIN] = "admin",
	};
	static const char *const bad[] = {"",       "sn_openframe",    "openframe.user",    "Admin",
	                                  "admin ", "awa_integration", "interaction-agent", "?"};
	enum role r;

	for (int i = 0; i < ROLE__N; i++) {
		assert_string_equal(role_name(i), want[i]);
		r = (enum role)99;
		assert_int_equal(role_parse(want[i], &r), 0);
		assert_int_equal(r, i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (enum role)99;
		assert_int_equal(role_parse(bad[i], &r), -EINVAL);
		assert_int_equal(r, 99);
	}
	assert_string_equal(role_name(ROLE__N), "?");
}

/* Bit i of `combo` grants agent role i (ROLE_OPENFRAME_USER..ROLE_AWA_INTEGRATION). */
static unsigned agent_roles_mask(unsigned combo)
{
	static const enum role agent_roles[4] = {ROLE_OPENFRAME_USER, ROLE_INTERACTION_AGENT,
	                                         ROLE_AWA_AGENT, ROLE_AWA_INTEGRATION};
	unsigned mask = 0;

	for (int i = 0; i < 4; i++)
		if (combo & (1u << i))
			mask |= ROLE_BIT(agent_roles[i]);
	return mask;
}

static void calls_need_openframe_pair_or_awa_pair_when_awa_enabled(void **state)
{
	const unsigned extra[] = {0, ROLE_BIT(ROLE_VOICE_MANAGER), ROLE_BIT(ROLE_ADMIN),
	                          ROLE_BIT(ROLE_VOICE_MANAGER) | ROLE_BIT(ROLE_ADMIN)};
	int n_yes_awa = 0, n_yes_no_awa = 0;

	for (unsigned combo = 0; combo < 16; combo++) {
		bool of = (combo & 3u) == 3u;    /* sn_openframe.user + interaction_agent */
		bool awa = (combo & 12u) == 12u; /* awa_agent + awa_integration_user */
		/* manager and admin roles never change the answer */
		for (size_t k = 0; k < 4; k++) {
			unsigned mask = agent_roles_mask(combo) | extra[k];
			if (roles_can_handle_calls(mask, true) != (of || awa))
				fail_msg("combo %#x (awa on): expected %d", combo, of || awa);
			if (roles_can_handle_calls(mask, false) != of)
				fail_msg("combo %#x (awa off): expected %d", combo, of);
		}
		n_yes_awa += of || awa;
		n_yes_no_awa += of;
	}
	/* 4 combos hold the openframe pair, 4 the awa pair, 1 both */
	assert_int_equal(n_yes_awa, 7);
	assert_int_equal(n_yes_no_awa, 4);
	/* one of each pair is not enough */
	assert_false(roles_can_handle_calls(
	        ROLE_BIT(ROLE_OPENFRAME_USER) | ROLE_BIT(ROLE_AWA_AGENT), true));
	assert_false(
	        roles_can_handle_calls(ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_VOICE_MANAGER), true));
	assert_false(roles_can_handle_calls(0, true));
}

static void any_agent_role_lists_the_user_as_agent(void **state)
{
	for (unsigned combo = 0; combo < 16; combo++) {
		unsigned mask = agent_roles_mask(combo);
		assert_int_equal(roles_is_agent(mask), combo != 0);
		assert_int_equal(roles_is_agent(mask | ROLE_BIT(ROLE_ADMIN)), combo != 0);
	}
	assert_false(roles_is_agent(ROLE_BIT(ROLE_VOICE_MANAGER)));
	assert_false(roles_is_agent(ROLE_BIT(ROLE_ADMIN)));
	assert_false(roles_is_agent(ROLE_BIT(ROLE_VOICE_MANAGER) | ROLE_BIT(ROLE_ADMIN)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(presence_every_pair_matches_the_spec_table),
	        cmocka_unit_test(outbound_call_connects_then_wraps_up_to_available),
	        cmocka_unit_test(outbound_call_fails_then_agent_is_available),
	        cmocka_unit_test(outbound_call_may_start_from_away_or_missed_not_offline),
	        cmocka_unit_test(inbound_call_accepted_makes_available_agent_busy),
	        cmocka_unit_test(missed_offer_is_not_offered_again_until_go_available),
	        cmocka_unit_test(after_call_work_ends_only_with_clear_contact),
	        cmocka_unit_test(busy_agent_cannot_go_away_offline_or_available),
	        cmocka_unit_test(out_of_range_presence_or_event_is_illegal),
	        cmocka_unit_test(interaction_every_pair_matches_the_spec_table),
	        cmocka_unit_test(deflect_or_hangup_before_queue_closes_complete),
	        cmocka_unit_test(assign_makes_work_in_progress),
	        cmocka_unit_test(caller_hangup_while_queued_closes_abandoned),
	        cmocka_unit_test(clear_contact_closes_complete_and_hangup_during_call_does_not),
	        cmocka_unit_test(closed_interaction_cannot_be_reopened),
	        cmocka_unit_test(out_of_range_ix_state_or_event_is_illegal),
	        cmocka_unit_test(ix_state_names_labels_and_parse_round_trip),
	        cmocka_unit_test(event_names_are_distinct_and_known),
	        cmocka_unit_test(presence_names_round_trip_and_unknown_is_einval),
	        cmocka_unit_test(role_names_round_trip_and_unknown_is_einval),
	        cmocka_unit_test(calls_need_openframe_pair_or_awa_pair_when_awa_enabled),
	        cmocka_unit_test(any_agent_role_lists_the_user_as_agent),
	};

	if (getenv("SB_TEST_FILTER")) /* e.g. SB_TEST_FILTER='pending_*' */
		cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
