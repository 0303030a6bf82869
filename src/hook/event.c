/*
 * event.c — what a webhook receives: the event types, which routing event
 * kinds map to them, the JSON body, its signature and the retry backoff.
 *
 * DESIGN
 * - One table maps a routing event kind to a webhook event type and the
 *   function that renders its "data". A kind with no row is not a webhook
 *   event (offers, call progress, roles and devices are not stored changes,
 *   or not asked for). A final contact trace record (RT_EV_CTR) is rendered
 *   by the API's view of it (hook_ctr_view_set: hook/ may not include api/).
 * - The body is rendered once, when the change is written, and stored in
 *   the outbox: every attempt sends the same bytes with the same ids.
 *   {"id": event id, "type", "at": ISO 8601, "data": the WebSocket event's
 *   fields} (docs/WEBHOOKS.md "The body").
 * - The signature is standard HMAC-SHA256 with the secret's bytes as the
 *   key (libsodium's init/update/final takes a key of any length), hex in
 *   "sha256=…", what receivers compute with their own HMAC.
 * - Backoff: min · 2^(n-1) capped at max, with "equal jitter" (a random
 *   point in the upper half) so receivers coming back are not hit by every
 *   server at once.
 */
#define LOG_MODULE "hook"
#include "hook/hook_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[HOOK_EV__N] = {
	[HOOK_EV_CTR] = "ctr",
	[HOOK_EV_INTERACTION] = "interaction",
	[HOOK_EV_PRESENCE] = "presence",
};

const char *hook_event_name(enum hook_event e)
{
	return e < HOOK_EV__N ? event_names[e] : "?";
}

int hook_event_parse(const char *s, enum hook_event *e)
{
	for (int i = 0; s && i < HOOK_EV__N; i++) {
		if (!strcmp(s, event_names[i])) {
			*e = (enum hook_event)i;
			return 0;
		}
	}
	return -EINVAL;
}

void hook_events_text(unsigned mask, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < HOOK_EV__N; i++)
		if (mask & HOOK_EV_BIT(i))
			used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
						 used ? "," : "", event_names[i]);
}

unsigned hook_events_mask(const char *text)
{
	char buf[ST_HOOK_EVENTS], *save = NULL;
	unsigned mask = 0;
	enum hook_event e;

	str_copy(buf, text, sizeof(buf));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!hook_event_parse(t, &e))
			mask |= HOOK_EV_BIT(e);
	return mask;
}

/* ---- the body ---- */
/* A JSON string of s; bytes that are not UTF-8 become '?' (never dropped). */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s ? s : "");
	char *copy;

	if (v || !s)
		return v;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

static const char *who(const struct routing_event *ev)
{
	return ev->user ? user_record(ev->user)->user_name : "";
}

/* The WebSocket stream's presence event (api/ws.c), less type and at. */
static json_t *presence_data(const struct routing_event *ev)
{
	return json_pack(
		"{s:o,s:o,s:o,s:o,s:o,s:o}", "user_name", jstr(who(ev)), "from", jstr(ev->from),
		"to", jstr(ev->to), "reason", jstr(ev->reason), "interaction",
		ev->interaction && ev->interaction[0] ? jstr(ev->interaction) : json_null(),
		"actor", jstr(ev->actor));
}

static json_t *interaction_data(const struct routing_event *ev)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "number", jstr(ev->interaction), "from",
			 jstr(ev->from), "to", jstr(ev->to), "agent",
			 who(ev)[0] ? jstr(who(ev)) : json_null(), "reason", jstr(ev->reason),
			 "actor", jstr(ev->actor));
}

static hook_ctr_view_h *ctr_view;

void hook_ctr_view_set(hook_ctr_view_h *h)
{
	ctr_view = h;
}

/* A final contact trace record (RT_EV_CTR): the record as the API shows it. */
static json_t *ctr_data(const struct routing_event *ev)
{
	return ev->ctr && ctr_view ? ctr_view(ev->ctr) : NULL;
}

static const struct {
	enum routing_event_kind kind;
	enum hook_event type;
	json_t *(*data)(const struct routing_event *ev);
} kinds[] = {
	{RT_EV_PRESENCE, HOOK_EV_PRESENCE, presence_data},
	{RT_EV_INTERACTION, HOOK_EV_INTERACTION, interaction_data},
	{RT_EV_CTR, HOOK_EV_CTR, ctr_data},
};

int hook_event_of_kind(enum routing_event_kind kind, enum hook_event *e)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].kind == kind) {
			*e = kinds[i].type;
			return 0;
		}
	}
	return -ENOENT;
}

char *hook_event_body(const struct routing_event *ev, const char *event_id, enum hook_event *type)
{
	char at[40];
	json_t *o;
	char *s;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].kind != ev->kind)
			continue;
		time_iso8601(ev->at, at, sizeof(at));
		o = json_pack("{s:s,s:s,s:s,s:o}", "id", event_id, "type",
			      event_names[kinds[i].type], "at", at, "data", kinds[i].data(ev));
		s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (s)
			*type = kinds[i].type;
		return s;
	}
	return NULL;
}

/* ---- signature and backoff ---- */
void hook_sign(const char *secret, const char *body, size_t len, char out[HOOK_SIG_SIZE])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, HOOK_SIG_SIZE - 7, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

int64_t hook_backoff_ms(unsigned n, int min_ms, int max_ms, uint32_t rnd)
{
	int64_t base = min_ms > 0 ? min_ms : 1, cap = max_ms > base ? max_ms : base;

	for (unsigned i = 1; i < n && base < cap; i++)
		base *= 2;
	if (base > cap)
		base = cap;
	/* equal jitter: [base/2, base] */
	return base - (int64_t)((uint64_t)(base / 2) * rnd / UINT32_MAX);
}
