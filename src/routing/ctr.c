/*
 * ctr.c — contact trace records (SPEC.md §7, docs/CTR.md): one record per
 * contact segment of an interaction, modelled on Amazon Connect's contact
 * record, built in memory while the call goes on and written through the
 * store like every other change.
 *
 * DESIGN
 * - The facts are spread: routing knows the interaction, the queue times,
 *   the offers and the agent, presence and after-contact work (engine.c,
 *   change.c, transfer.c, outbound.c feed this file); call control reports
 *   what only it sees through routing_ctr_* (the dialled number, holds, the
 *   flow's attributes and intent, who hung up). Module boundaries stay:
 *   call control calls routing, never the reverse.
 * - A segment is one agent's or queue's leg of the contact. The interaction
 *   holds the current one (x->ctr) and, while a transfer is under way, the
 *   next (x->ctr_next: method transfer or queue_transfer, begun when the
 *   transfer starts, dropped when it does not complete). At the reassignment
 *   the current segment ends (disconnect reason transfer) and the next one
 *   becomes current; the first agent keeps theirs (u->ctr_acw) until their
 *   after-contact work ends.
 * - Written twice at most, as STORE_OP_CTR_SET (insert or replace by
 *   contact id) in the change that makes the fact: when the segment's
 *   contact ends (the agent's call ended, or the transfer) and when it is
 *   final (the interaction closes, or the first agent's Clear contact). Only
 *   the final write adds the activity entry (kind ctr) and announces
 *   RT_EV_CTR, the hook for webhooks. A crash loses what was not written:
 *   an interaction left open is settled by routing_recover with a record
 *   made from what the store kept (disconnect reason system).
 * - Contact ids are "<interaction number>-<segment>" (INT0001001-1,
 *   INT0001001-2 …): unique because interaction numbers are, readable, and
 *   the chain's previous and next ids follow from the numbering.
 * - The pure parts (numbering, attributes as JSON, holds, talk time, the
 *   summary) work on a record alone; tests/unit/test_ctr.c checks them.
 */
#define LOG_MODULE "ctr"
#include "routing/routing.h"
#include "routing/routing_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[CTR_REASON__N] = {
	[CTR_REASON_NONE] = "",
	[CTR_REASON_CUSTOMER] = "customer",
	[CTR_REASON_AGENT] = "agent",
	[CTR_REASON_SYSTEM] = "system",
	[CTR_REASON_TRANSFER] = "transfer",
	[CTR_REASON_THIRD_PARTY] = "third_party",
	[CTR_REASON_ERROR] = "error",
};

const char *ctr_reason_name(enum ctr_reason r)
{
	return (unsigned)r < CTR_REASON__N ? reason_names[r] : "";
}

/* ---- the record alone ---- */
void ctr_seg_init(struct ctr_seg *s, const char *number, int64_t ix_id, int segment,
		  const char *method, int64_t at)
{
	struct st_ctr *c = &s->rec;

	memset(s, 0, sizeof(*s));
	snprintf(c->contact_id, sizeof(c->contact_id), "%s-%d", number, segment);
	snprintf(c->initial_contact_id, sizeof(c->initial_contact_id), "%s-1", number);
	if (segment > 1)
		snprintf(c->previous_contact_id, sizeof(c->previous_contact_id), "%s-%d", number,
			 segment - 1);
	c->interaction_id = ix_id;
	str_copy(c->interaction, number, sizeof(c->interaction));
	c->segment = segment;
	str_copy(c->channel, "VOICE", sizeof(c->channel));
	str_copy(c->initiation_method, method, sizeof(c->initiation_method));
	c->initiation_at = at;
	str_copy(c->attributes, "{}", sizeof(c->attributes));
}

/* The length of the UTF-8 character at p (1-4), 0 when it is not one
 * (overlong forms and surrogates included). Reads no further than the
 * first byte that fails, so a NUL ends it. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned lo = 0x80, hi = 0xBF;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, lo = p[0] == 0xE0 ? 0xA0 : lo, hi = p[0] == 0xED ? 0x9F : hi;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, lo = p[0] == 0xF0 ? 0x90 : lo, hi = p[0] == 0xF4 ? 0x8F : hi;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Appends s as a JSON string at out + *o, at most max bytes of s (whole
 * characters); false when it does not fit in size (with room for a NUL). */
static bool json_str(char *out, size_t size, size_t *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = *o, used = 0;
	char esc[8];

	if (k + 2 > size)
		return false;
	out[k++] = '"';
	while (*p) {
		size_t n = utf8_len(p), len = n;
		const char *piece = (const char *)p;
		if (!n) /* not UTF-8: one byte, shown as '?' */
			n = 1, len = 1, piece = "?";
		else if (*p == '"' || *p == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *p), piece = esc, len = 2;
		else if (*p < 0x20)
			snprintf(esc, sizeof(esc), "\\u%04x", *p), piece = esc, len = 6;
		if (used + n > max)
			break;
		if (k + len + 2 > size)
			return false;
		memcpy(out + k, piece, len);
		k += len, p += n, used += n;
	}
	out[k++] = '"';
	*o = k;
	return true;
}

size_t ctr_attrs_json(char *out, size_t size, const struct routing_ctr_attr *a, size_t n)
{
	size_t o = 1, left = 0;

	if (size < 3) {
		if (size)
			out[0] = '\0';
		return n;
	}
	out[0] = '{';
	for (size_t i = 0; i < n; i++) {
		size_t k = o;
		bool ok = true;
		if (o > 1)
			out[k++] = ','; /* room: o + 2 <= size always */
		ok = json_str(out, size, &k, a[i].name ? a[i].name : "", SIZE_MAX) && k + 2 < size;
		if (ok)
			out[k++] = ':';
		ok = ok &&
		     json_str(out, size, &k, a[i].value ? a[i].value : "", CTR_ATTR_VALUE_MAX) &&
		     k + 2 <= size;
		if (!ok) {
			left++;
			continue;
		}
		o = k;
	}
	out[o++] = '}';
	out[o] = '\0';
	return left;
}

void ctr_hold(struct ctr_seg *s, bool on, int64_t now)
{
	int64_t d;

	if (s->ended || on == (s->held_since != 0))
		return;
	if (on) {
		s->held_since = now;
		s->rec.holds++;
		return;
	}
	d = now > s->held_since ? now - s->held_since : 0;
	s->rec.hold_ms += d;
	if (d > s->rec.longest_hold_ms)
		s->rec.longest_hold_ms = d;
	s->held_since = 0;
}

void ctr_disconnect(struct ctr_seg *s, enum ctr_reason why, int64_t now)
{
	if (s->ended || s->rec.disconnect_at || why == CTR_REASON_NONE)
		return;
	s->rec.disconnect_at = now;
	str_copy(s->rec.disconnect_reason, ctr_reason_name(why), sizeof(s->rec.disconnect_reason));
}

void ctr_end(struct ctr_seg *s, enum ctr_reason why, int64_t now)
{
	struct st_ctr *c = &s->rec;
	int64_t talk;

	if (s->ended)
		return;
	ctr_disconnect(s, why, now);
	ctr_hold(s, false, c->disconnect_at);
	if (c->connected_to_agent_at) {
		talk = c->disconnect_at - c->connected_to_agent_at - c->hold_ms;
		c->talk_ms = talk > 0 ? talk : 0;
	}
	s->ended = true;
}

void ctr_acw_end(struct ctr_seg *s, const char *code, int64_t now)
{
	struct st_ctr *c = &s->rec;

	if (!c->acw_start_at || c->acw_end_at)
		return;
	c->acw_end_at = now;
	c->acw_ms = now > c->acw_start_at ? now - c->acw_start_at : 0;
	str_copy(c->wrap_up_code, code ? code : "", sizeof(c->wrap_up_code));
}

static long long secs(int64_t ms)
{
	return (long long)((ms + 500) / 1000);
}

void ctr_summary(const struct st_ctr *c, char *buf, size_t size)
{
	size_t o;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		o = strlen(buf);                                                                   \
		snprintf(buf + o, size - o, __VA_ARGS__);                                          \
	} while (0)
	if (!size)
		return;
	snprintf(buf, size, "Contact trace record %s (%s)", c->contact_id, c->initiation_method);
	if (c->queue[0])
		PUT(": queue %s, waited %lld s", c->queue, secs(c->queue_ms));
	if (c->agent[0])
		PUT("%s agent %s, talk %lld s, hold %lld s (%d), after-call work %lld s%s%s",
		    c->queue[0] ? ";" : ":", c->agent, secs(c->talk_ms), secs(c->hold_ms), c->holds,
		    secs(c->acw_ms), c->wrap_up_code[0] ? ", wrap-up " : "", c->wrap_up_code);
	if (c->missed_offers)
		PUT("; missed offers %d", c->missed_offers);
	if (c->transfer_type[0])
		PUT("; transferred to %s %s", c->transfer_type, c->transferred_to);
	PUT("; disconnect: %s", c->disconnect_reason[0] ? c->disconnect_reason : "unknown");
#undef PUT
}

/* An endpoint's address: a phone number as its digits ("+" kept in front:
 * "+1 555 0199" is "+15550199"), anything else (a SIP user) as it is. */
static void ctr_address(char *dst, size_t size, const char *src)
{
	char digits[ST_PHONE - 1]; /* room for a "+" in front */

	phone_digits(src, digits, sizeof(digits));
	if (!digits[0] || strspn(src, "+0123456789 -().") != strlen(src)) {
		str_copy(dst, src, size);
		return;
	}
	snprintf(dst, size, "%s%s", src[strspn(src, " ")] == '+' ? "+" : "", digits);
}

/* ---- routing's side ---- */
/* The facts the interaction itself holds, copied in before each write. */
static void ctr_sync(const struct ix *x, struct ctr_seg *s)
{
	if (x->recorded)
		routing_recording_url(x->rec.number, s->rec.recording, sizeof(s->rec.recording));
}

struct ctr_seg *ctr_of(struct routing *r, struct ix *x)
{
	struct ctr_seg *s;
	struct queue *q;
	struct user *u;
	bool out = !strcmp(x->rec.direction, "outbound");
	int seg;

	if (x->ctr)
		return x->ctr;
	s = malloc(sizeof(*s));
	if (!s) {
		log_error("interaction=%s action=no contact trace record: out of memory",
			  x->rec.number);
		return NULL;
	}
	/* a new interaction's first, or one loaded at start: after those written */
	seg = (x->ctr_segs ? x->ctr_segs : x->rec.ctr_segments) + 1;
	ctr_seg_init(s, x->rec.number, x->rec.id, seg,
		     seg > 1 ? "transfer"
		     : out   ? "outbound"
			     : "inbound",
		     seg > 1 ? time_now_ms() : x->rec.opened_at);
	ctr_address(s->rec.customer_endpoint, sizeof(s->rec.customer_endpoint),
		    x->rec.caller_number);
	if (!out || seg > 1) /* inbound calls are answered at once */
		s->rec.connected_to_system_at = s->rec.initiation_at;
	q = x->rec.queue_id ? queue_by_id(r, x->rec.queue_id) : NULL;
	if (q) {
		s->rec.queue_id = q->rec.id;
		str_copy(s->rec.queue, q->rec.name, sizeof(s->rec.queue));
	}
	u = x->rec.agent_user_id ? routing_user_by_id(r, x->rec.agent_user_id) : NULL;
	if (u) {
		s->rec.agent_user_id = u->rec.id;
		str_copy(s->rec.agent, u->rec.user_name, sizeof(s->rec.agent));
		str_copy(s->rec.agent_name, u->rec.name, sizeof(s->rec.agent_name));
	}
	x->ctr_segs = seg;
	x->ctr = s;
	return s;
}

struct ctr_seg *ctr_for_transfer(struct routing *r, struct ix *x)
{
	return x->ctr_next ? x->ctr_next : ctr_of(r, x);
}

void ctr_enqueue(struct ctr_seg *s, const struct queue *q, int64_t now)
{
	if (!s)
		return;
	if (!s->rec.enqueue_at)
		s->rec.enqueue_at = now;
	s->rec.dequeue_at = 0;
	s->rec.queue_id = q->rec.id;
	str_copy(s->rec.queue, q->rec.name, sizeof(s->rec.queue));
}

void ctr_dequeue(struct routing *r, struct ix *x, int64_t now)
{
	/* no record is made here: routing_free comes this way too */
	struct ctr_seg *s = x->entry && x->entry->xfer && x->ctr_next ? x->ctr_next : x->ctr;

	(void)r;
	if (!s || !x->entry)
		return;
	/* a caller who hung up left the queue when they did (reported first) */
	if (s->rec.disconnect_at && s->rec.disconnect_at < now)
		now = s->rec.disconnect_at;
	if (x->queued_at && now > x->queued_at)
		s->rec.queue_ms += now - x->queued_at;
	s->rec.dequeue_at = now;
}

void ctr_agent(struct ctr_seg *s, const struct user *u, int64_t now)
{
	if (!s)
		return;
	s->rec.agent_user_id = u->rec.id;
	str_copy(s->rec.agent, u->rec.user_name, sizeof(s->rec.agent));
	str_copy(s->rec.agent_name, u->rec.name, sizeof(s->rec.agent_name));
	s->rec.connected_to_agent_at = now;
}

void ctr_next_drop(struct ix *x)
{
	free(x->ctr_next);
	x->ctr_next = NULL;
}

struct ctr_seg *ctr_next_begin(struct routing *r, struct ix *x, const char *method)
{
	struct ctr_seg *cur = ctr_of(r, x), *n;

	ctr_next_drop(x);
	if (!cur || !(n = malloc(sizeof(*n)))) {
		log_error("interaction=%s action=no next contact trace record: out of memory",
			  x->rec.number);
		return NULL;
	}
	ctr_seg_init(n, x->rec.number, x->rec.id, cur->rec.segment + 1, method, time_now_ms());
	n->rec.connected_to_system_at = n->rec.initiation_at; /* the customer is on the call */
	/* the contact's own facts carry over */
	str_copy(n->rec.customer_endpoint, cur->rec.customer_endpoint,
		 sizeof(n->rec.customer_endpoint));
	str_copy(n->rec.system_endpoint, cur->rec.system_endpoint, sizeof(n->rec.system_endpoint));
	str_copy(n->rec.intent, cur->rec.intent, sizeof(n->rec.intent));
	str_copy(n->rec.attributes, cur->rec.attributes, sizeof(n->rec.attributes));
	x->ctr_next = n;
	return n;
}

void ctr_put(struct change *c, struct ctr_seg *s, bool final, int64_t now)
{
	struct store_op *op;
	struct change_event *e;
	char text[480];

	s->rec.last_update_at = now;
	op = change_op(c, STORE_OP_CTR_SET);
	op->u.ctr = s->rec;
	log_info("interaction=%s contact=%s action=ctr %s agent=%s disconnect=%s",
		 s->rec.interaction, s->rec.contact_id, final ? "final" : "written",
		 s->rec.agent[0] ? s->rec.agent : "-", s->rec.disconnect_reason);
	if (!final)
		return;
	wb_ctr_final(c->r, &s->rec);
	ctr_summary(&s->rec, text, sizeof(text));
	change_activity_id(c, s->rec.interaction_id, "ctr", "system", text);
	e = change_ev(c, RT_EV_CTR,
		      s->rec.agent_user_id ? routing_user_by_id(c->r, s->rec.agent_user_id) : NULL,
		      "system");
	str_copy(e->interaction, s->rec.interaction, sizeof(e->interaction));
	str_copy(e->reason, s->rec.contact_id, sizeof(e->reason));
	e->ctr_op = (size_t)(op - c->ops) + 1;
}

/* The segment an agent left by a transfer is final now. */
static void acw_final(struct change *c, struct user *u, const char *code, int64_t now)
{
	struct ctr_seg *s = u->ctr_acw;

	if (!s)
		return;
	ctr_acw_end(s, code, now);
	ctr_put(c, s, true, now);
	free(s);
	u->ctr_acw = NULL;
}

void ctr_promote(struct change *c, struct ix *x, struct user *from, bool from_acw, const char *type,
		 const char *to)
{
	struct ctr_seg *cur = ctr_of(c->r, x), *next;
	int64_t now = time_now_ms();

	if (!cur)
		return;
	next = x->ctr_next ? x->ctr_next : ctr_next_begin(c->r, x, "transfer");
	x->ctr_next = NULL;
	ctr_sync(x, cur);
	if (!cur->ended) { /* ended by the transfer, whatever was reported before */
		cur->rec.disconnect_at = 0;
		cur->rec.disconnect_reason[0] = '\0';
	}
	ctr_end(cur, CTR_REASON_TRANSFER, now);
	if (!cur->rec.transfer_type[0]) { /* counted once (wallboard) */
		str_copy(cur->rec.transferred_to, to, sizeof(cur->rec.transferred_to));
		wb_transferred(c->r, &cur->rec);
	}
	str_copy(cur->rec.transfer_type, type, sizeof(cur->rec.transfer_type));
	str_copy(cur->rec.transferred_to, to, sizeof(cur->rec.transferred_to));
	if (next)
		str_copy(cur->rec.next_contact_id, next->rec.contact_id,
			 sizeof(cur->rec.next_contact_id));
	from_acw = from_acw && from && cur->rec.agent_user_id == from->rec.id;
	if (from_acw)
		cur->rec.acw_start_at = now;
	ctr_put(c, cur, !from_acw, now);
	if (from_acw) {
		acw_final(c, from, "", now); /* none should be left: one ACW at a time */
		from->ctr_acw = cur;
	} else {
		free(cur);
	}
	x->ctr = next;
	if (next)
		x->ctr_segs = next->rec.segment;
}

void ctr_call_ended(struct change *c, struct ix *x, const struct user *u, bool acw)
{
	struct ctr_seg *s = ctr_of(c->r, x);
	int64_t now = time_now_ms();

	if (!s || s->rec.agent_user_id != u->rec.id)
		return;
	ctr_sync(x, s);
	ctr_end(s, CTR_REASON_AGENT, now);
	if (acw && !s->rec.acw_start_at)
		s->rec.acw_start_at = now;
	ctr_put(c, s, false, now);
}

void ctr_closed(struct change *c, struct ix *x, enum ix_event ev)
{
	struct ctr_seg *s = ctr_of(c->r, x);
	int64_t now = time_now_ms();

	ctr_next_drop(x);
	if (!s)
		return;
	ctr_sync(x, s);
	ctr_end(s,
		ev == IX_EV_CLEAR				  ? CTR_REASON_AGENT
		: ev == IX_EV_SYSTEM_CLOSE || ev == IX_EV_DEFLECT ? CTR_REASON_SYSTEM
								  : CTR_REASON_CUSTOMER,
		now);
	ctr_acw_end(s, x->rec.wrap_up_code, now);
	ctr_put(c, s, true, now);
	free(s);
	x->ctr = NULL;
}

void ctr_user_acw_end(struct change *c, struct user *u, const char *code)
{
	acw_final(c, u, code, time_now_ms());
}

void ctr_free(struct ix *x)
{
	free(x->ctr);
	free(x->ctr_next);
	x->ctr = x->ctr_next = NULL;
}

/* ---- what call control reports ---- */
static struct ctr_seg *open_seg(struct routing *r, int64_t ix_id)
{
	struct ix *x = routing_ix_by_id(r, ix_id);

	return x ? ctr_of(r, x) : NULL;
}

int routing_ctr_endpoint(struct routing *r, int64_t ix_id, const char *system)
{
	struct ctr_seg *s = open_seg(r, ix_id);

	if (!s)
		return CC_ENOTFOUND;
	ctr_address(s->rec.system_endpoint, sizeof(s->rec.system_endpoint), system);
	return 0;
}

int routing_ctr_hold(struct routing *r, int64_t ix_id, bool on)
{
	struct ctr_seg *s = open_seg(r, ix_id);

	if (!s)
		return CC_ENOTFOUND;
	ctr_hold(s, on, time_now_ms());
	wb_hold(r, routing_ix_by_id(r, ix_id), on);
	return 0;
}

int routing_ctr_flow(struct routing *r, int64_t ix_id, const char *intent,
		     const struct routing_ctr_attr *attrs, size_t n)
{
	struct ctr_seg *s = open_seg(r, ix_id);
	size_t left;

	if (!s)
		return CC_ENOTFOUND;
	str_copy(s->rec.intent, intent ? intent : "", sizeof(s->rec.intent));
	left = ctr_attrs_json(s->rec.attributes, sizeof(s->rec.attributes), attrs, n);
	if (left)
		log_warn("interaction=%s action=ctr: %zu of %zu attributes left out (%zu bytes)",
			 s->rec.interaction, left, n, sizeof(s->rec.attributes));
	return 0;
}

int routing_ctr_disconnect(struct routing *r, int64_t ix_id, enum ctr_reason why)
{
	struct ctr_seg *s = open_seg(r, ix_id);

	if (!s)
		return CC_ENOTFOUND;
	ctr_disconnect(s, why, time_now_ms());
	return 0;
}

int routing_ctr_transferred(struct routing *r, int64_t ix_id, const char *number)
{
	struct ctr_seg *s = open_seg(r, ix_id);

	if (!s)
		return CC_ENOTFOUND;
	str_copy(s->rec.transferred_to, number, sizeof(s->rec.transferred_to));
	if (!s->rec.transfer_type[0])
		wb_transferred(r, &s->rec); /* counted once (wallboard) */
	str_copy(s->rec.transfer_type, "number", sizeof(s->rec.transfer_type));
	return 0;
}
