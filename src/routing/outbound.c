/*
 * outbound.c — the domain side of click-to-call (SPEC.md §3, seed
 * "Initiating outbound calls"): the outbound interaction, the agent's
 * CallingCustomer → Busy | FailedConnectAgent → Available, conversation
 * records, and the flags that decide them.
 *
 * DESIGN
 * - One change per step, committed in order like every other: opening
 *   writes the interaction (Work in Progress, assigned, linked to the
 *   record), the agent's CallingCustomer (its activity entry included,
 *   since the agent holds the interaction from the start) and, when a flag
 *   says so, the conversation row with its own activity entry.
 * - Conversations: created when createConversation (Voice core, any form)
 *   is true, OR the flag of the application the record belongs to is true
 *   (customer service: case, contact, consumer; IT service: incident,
 *   user). At most one per call; `flag` names the first that applied.
 * - A failed call shows FailedConnectAgent for ROUTING_FAILED_SHOW_MS (the
 *   agent's one timer, engine.c), then closes the interaction Closed
 *   Complete with reason not_connected and makes the agent Available; both
 *   changes land in the interaction's activity stream. The interaction
 *   stays open meanwhile, which crash recovery already settles
 *   (change.c, recover_outbound).
 * - Call control's progress events (offers, click-to-call steps) are not
 *   stored; routing_announce hands them to the same event handler.
 */
#define LOG_MODULE "routing"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void routing_announce(struct routing *r, const struct routing_event *ev)
{
	if (r->ev_h)
		r->ev_h(ev, r->ev_arg);
}

/* ---- flags ---- */
bool routing_flag_true(const struct routing *r, const char *name)
{
	const char *v = routing_flag_get(r, name);

	return v && !strcmp(v, "true");
}

size_t routing_flag_count(const struct routing *r)
{
	return r->n_flags;
}

const struct st_flag *routing_flag_at(const struct routing *r, size_t i)
{
	return i < r->n_flags ? &r->flags[i] : NULL;
}

int routing_flag_set(struct routing *r, const char *name, const char *value, const char *actor,
		     routing_done_h *done, void *arg)
{
	struct st_flag *f = NULL;
	struct change *c;

	for (size_t i = 0; i < r->n_flags && !f; i++)
		if (!strcmp(r->flags[i].name, name))
			f = &r->flags[i];
	if (!f)
		return CC_ENOTFOUND;
	c = change_new(r, done, arg);
	if (!c)
		return -ENOMEM;
	log_info("flag=%s action=set '%s'→'%s' actor=%s", name, f->value, value,
		 actor ? actor : "system");
	str_copy(f->value, value, sizeof(f->value));
	c->ops[c->n_ops].kind = STORE_OP_FLAG_SET;
	c->ops[c->n_ops++].u.flag = *f;
	return change_submit(c);
}

const char *routing_conversation_flag(const char *table)
{
	static const char *const csm[] = {"case", "contact", "consumer"};
	static const char *const itsm[] = {"incident", "user"};

	for (size_t i = 0; i < sizeof(csm) / sizeof(csm[0]); i++)
		if (!strcmp(table, csm[i]))
			return "sn_cti_csm_cnt.enable_ims_update";
	for (size_t i = 0; i < sizeof(itsm) / sizeof(itsm[0]); i++)
		if (!strcmp(table, itsm[i]))
			return "sn_cti_itsm_cnt.enable_ims_update";
	return NULL;
}

/* The flag that asks for a conversation for a call from `table`, or NULL. */
static const char *conversation_wanted(const struct routing *r, const char *table)
{
	const char *app = routing_conversation_flag(table);

	if (routing_flag_true(r, "createConversation"))
		return "createConversation";
	return app && routing_flag_true(r, app) ? app : NULL;
}

static void conversation_add(struct change *c, const struct ix *x, const char *flag)
{
	struct st_conversation *cv = &c->ops[c->n_ops].u.conversation;
	char text[256];

	c->ops[c->n_ops++].kind = STORE_OP_CONVERSATION_INSERT;
	memset(cv, 0, sizeof(*cv));
	cv->id = c->r->next_conv_id++;
	snprintf(cv->number, sizeof(cv->number), "CNV%07lld",
		 (long long)((1000 + cv->id) % 100000000000LL));
	cv->interaction_id = x->rec.id;
	str_copy(cv->linked_table, x->rec.linked_table, sizeof(cv->linked_table));
	str_copy(cv->linked_number, x->rec.linked_number, sizeof(cv->linked_number));
	cv->agent_user_id = x->rec.agent_user_id;
	str_copy(cv->flag, flag, sizeof(cv->flag));
	cv->created_at = time_now_ms();
	snprintf(text, sizeof(text), "Conversation %s created (flag %s)", cv->number, flag);
	change_activity(c, x, "conversation", "system", text);
}

/* ---- the outbound interaction ---- */
static struct ix *outbound_ix_new(struct routing *r, struct user *u, const char *number,
				  const char *table, const char *key)
{
	struct ix *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->rec.id = r->next_ix_id++;
	snprintf(x->rec.number, sizeof(x->rec.number), "INT%07lld",
		 (long long)((1000 + x->rec.id) % 100000000000LL));
	str_copy(x->rec.type, "phone", sizeof(x->rec.type));
	str_copy(x->rec.direction, "outbound", sizeof(x->rec.direction));
	x->state = IX_WIP;
	str_copy(x->rec.state, ix_state_name(IX_WIP), sizeof(x->rec.state));
	str_copy(x->rec.caller_number, number, sizeof(x->rec.caller_number));
	str_copy(x->rec.linked_table, table, sizeof(x->rec.linked_table));
	str_copy(x->rec.linked_number, key, sizeof(x->rec.linked_number));
	x->rec.agent_user_id = u->rec.id;
	x->rec.opened_at = time_now_ms();
	HASH_ADD(hh, r->open, rec.id, sizeof(x->rec.id), x);
	ctr_of(r, x); /* its first contact segment: outbound, the agent's */
	return x;
}

int routing_outbound_open(struct routing *r, struct user *u, const char *number, const char *table,
			  const char *key, const char *actor, int64_t *ix_id, routing_done_h *done,
			  void *arg)
{
	struct change_event *e;
	enum presence to;
	struct change *c;
	const char *flag;
	struct ix *x;
	char text[256];

	if (!user_can_handle_calls(r, u))
		return CC_EFORBIDDEN;
	if (agent_fsm_next(u->presence, AG_EV_DIAL, &to) || u->offered_ix || u->ix_id)
		return CC_EILLEGAL;
	c = change_new(r, done, arg);
	x = c ? outbound_ix_new(r, u, number, table, key) : NULL;
	if (!x) {
		free(c);
		return -ENOMEM;
	}
	c->ops[c->n_ops].kind = STORE_OP_INTERACTION_INSERT;
	c->ops[c->n_ops++].u.interaction = x->rec;
	snprintf(text, sizeof(text),
		 "Created: outbound phone call to %s from %s %s, Work in Progress, assigned to %s",
		 number, table, key, u->rec.user_name);
	change_activity(c, x, "state", actor, text);
	e = &c->ev[c->n_ev++];
	memset(e, 0, sizeof(*e));
	e->kind = RT_EV_INTERACTION, e->at = x->rec.opened_at, e->user_id = u->rec.id;
	str_copy(e->to, x->rec.state, sizeof(e->to));
	str_copy(e->reason, "outbound", sizeof(e->reason));
	str_copy(e->interaction, x->rec.number, sizeof(e->interaction));
	str_copy(e->actor, actor, sizeof(e->actor));
	flag = conversation_wanted(r, table);
	if (flag)
		conversation_add(c, x, flag);
	u->ix_id = x->rec.id;
	str_copy(u->ix_number, x->rec.number, sizeof(u->ix_number));
	presence_apply(c, u, to, "click-to-call", actor);
	log_info("interaction=%s agent=%s action=outbound to %s (%s %s) conversation=%s",
		 x->rec.number, u->rec.user_name, number, table, key, flag ? flag : "none");
	*ix_id = x->rec.id;
	return change_submit(c);
}

static struct user *outbound_agent(struct routing *r, int64_t ix_id, struct ix **xp)
{
	struct ix *x = routing_ix_by_id(r, ix_id);
	struct user *u = x ? routing_user_by_id(r, x->rec.agent_user_id) : NULL;

	*xp = x;
	return u && u->ix_id == ix_id ? u : NULL;
}

int routing_outbound_connected(struct routing *r, int64_t ix_id)
{
	struct ix *x;
	struct user *u = outbound_agent(r, ix_id, &x);
	struct ctr_seg *s;

	if (!u)
		return CC_ENOTFOUND;
	x->answered_at = time_now_ms();
	if ((s = ctr_of(r, x))) { /* connected when the customer answers */
		s->rec.connected_to_system_at = x->answered_at;
		ctr_agent(s, u, x->answered_at);
	}
	return routing_agent_event(r, u, AG_EV_OUTBOUND_CONNECTED, "customer answered", "system",
				   NULL, NULL);
}

int routing_outbound_failed(struct routing *r, int64_t ix_id, const char *why)
{
	struct ix *x;
	struct user *u = outbound_agent(r, ix_id, &x);
	struct ctr_seg *s;
	enum presence to;
	struct change *c;
	char text[256];

	if (!u)
		return CC_ENOTFOUND;
	if (agent_fsm_next(u->presence, AG_EV_OUTBOUND_FAILED, &to))
		return CC_EILLEGAL;
	c = change_new(r, NULL, NULL);
	if (!c)
		return -ENOMEM;
	if ((s = ctr_of(r, x))) /* call control reported who, if it knew */
		ctr_end(s, CTR_REASON_ERROR, time_now_ms());
	snprintf(text, sizeof(text), "Not connected: %s", why);
	change_activity(c, x, "call", "system", text);
	presence_apply(c, u, to, why, "system"); /* arms the 2 s timer (engine.c) */
	return change_submit(c);
}

void outbound_failed_done(struct routing *r, struct user *u)
{
	struct ix *x = u->ix_id ? routing_ix_by_id(r, u->ix_id) : NULL;
	enum presence to;
	struct change *c;

	if (agent_fsm_next(u->presence, AG_EV_FAILED_DONE, &to))
		return;
	c = change_new(r, NULL, NULL);
	if (!c) {
		log_error("agent=%s action=FailedConnectAgent done: out of memory",
			  u->rec.user_name);
		return;
	}
	if (x)
		ix_apply(c, x, IX_EV_SYSTEM_CLOSE, u, "not_connected", "system");
	presence_apply(c, u, to, "", "system"); /* written to x's activity too */
	u->ix_id = 0;
	u->ix_number[0] = '\0';
	if (x)
		ix_forget_if_closed(r, x);
	if (change_submit(c))
		log_error("agent=%s action=FailedConnectAgent done not stored", u->rec.user_name);
}
