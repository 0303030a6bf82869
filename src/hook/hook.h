/*
 * hook.h — webhooks (issue 13, item 3; docs/WEBHOOKS.md): the endpoints an
 * administrator configures (URL, secret, event types, active), the durable
 * outbox that routing's committed changes write their events into, and the
 * delivery engine that POSTs every event to every webhook that takes it, at
 * least once, signed with HMAC-SHA256, retried with backoff across receiver
 * outages and server restarts.
 *
 * Thread: the loop thread, except where a prototype says otherwise. The
 * engine runs libcurl's multi interface on the loop (uv_poll + uv_timer);
 * the store is read on the pool and written through its ordered writer.
 * Lifecycle: hook_alloc (after routing_alloc, before routing_recover, so
 * recovery's events reach the outbox too) → hook_start → … → hook_stop
 * (at shutdown; run the loop so the handles close) → hook_free.
 */
#ifndef SB_HOOK_H
#define SB_HOOK_H

#include "core/core.h"
#include "routing/routing.h"
#include "store/store.h"

/* The event types a webhook may take. */
enum hook_event { HOOK_EV_CTR, HOOK_EV_INTERACTION, HOOK_EV_PRESENCE, HOOK_EV__N };
#define HOOK_EV_BIT(e) (1u << (e))
#define HOOK_EV_ALL    (HOOK_EV_BIT(HOOK_EV__N) - 1)
#define HOOK_MAX       50 /* webhooks on one server */

/* "ctr", "interaction", "presence" */
const char *hook_event_name(enum hook_event e);
/* 0 and *e, or -EINVAL */
int hook_event_parse(const char *s, enum hook_event *e);
/* A mask as the store keeps it: names in enum order, comma-separated. */
void hook_events_text(unsigned mask, char *buf, size_t size);
/* The mask of a stored list (unknown names are ignored). */
unsigned hook_events_mask(const char *text);
/* The webhook event type of a routing event kind: 0 and *e, or -ENOENT
 * for kinds webhooks do not carry (offers, call progress, roles, devices). */
int hook_event_of_kind(enum routing_event_kind kind, enum hook_event *e);
/* How a contact trace record reads as JSON (the API's view, the same as
 * GET /api/v1/interactions/{n}/ctr); set once at start, before recovery
 * (main.c). Until it is, "ctr" events have no body and are not queued. */
typedef struct json_t *(hook_ctr_view_h)(const struct st_ctr *c);
void hook_ctr_view_set(hook_ctr_view_h *h);

struct hook;

/*
 * Loads the webhooks of the snapshot and registers the outbox with routing
 * (routing_outbox_set). Delivery starts with hook_start. Timeouts, backoff
 * and retention come from cfg (webhooks.*). -ENOMEM, or a libcurl failure
 * as -EIO.
 */
int hook_alloc(struct hook **hp, uv_loop_t *loop, const struct config *cfg, struct store *st,
	       struct routing *r, const struct st_snapshot *snap);
/* Starts delivering: every pending row of every active webhook is resumed. */
void hook_start(struct hook *h);
/* Stops delivering (shutdown): transfers in flight are dropped (their rows
 * stay pending and go again after a restart) and the loop handles close;
 * changes committed until the end still write their events to the outbox.
 * Run the loop, then hook_free. Twice is harmless. */
void hook_stop(struct hook *h);
/* After hook_stop and the loop's last run: routing forgets the outbox.
 * NULL is ignored. */
void hook_free(struct hook *h);

/* ---- the administrators' webhooks (answered from memory) ---- */
size_t hook_count(const struct hook *h);
/* In id order; NULL past the end. */
const struct st_webhook *hook_at(const struct hook *h, size_t i);
const struct st_webhook *hook_find(const struct hook *h, int64_t id);

/* What the engine knows of a webhook's deliveries (memory only). */
struct hook_status {
	bool in_flight;		 /* a POST is on its way */
	unsigned failures;	 /* failed attempts of the delivery it is on */
	int64_t last_attempt_at; /* ms, 0 = none since start */
	int64_t last_success_at; /* ms, 0 = none since start */
	int64_t next_attempt_at; /* ms, 0 = as soon as there is something */
	int last_status;	 /* HTTP status of the last attempt, 0 = no answer */
	char last_error[128];	 /* "" = the last attempt succeeded (or none) */
};
/* -ENOENT when there is no such webhook. */
int hook_status_get(const struct hook *h, int64_t id, struct hook_status *s);

typedef void(hook_done_h)(int err, void *arg);
/*
 * Each change is applied in memory at once (the next event sees it) and
 * written with `audit` (an op, may be NULL) in one transaction; done runs on
 * the loop after the commit (err CC_ESTORE: not stored — a create is then
 * forgotten again). w: url, secret, events, active; the id and times are
 * assigned (*id). -ENOSPC: HOOK_MAX webhooks exist. Checking the fields is
 * the caller's job (api/json_req.c).
 */
int hook_create(struct hook *h, const struct st_webhook *w, const struct store_op *audit,
		hook_done_h *done, void *arg, int64_t *id);
/* Replaces url, secret, events and active of w->id: CC_ENOTFOUND. Pending
 * deliveries go to the new URL with the new secret. */
int hook_update(struct hook *h, const struct st_webhook *w, const struct store_op *audit,
		hook_done_h *done, void *arg);
/* Deletes the webhook and its pending deliveries (a POST in flight is
 * dropped): CC_ENOTFOUND. */
int hook_delete(struct hook *h, int64_t id, const struct store_op *audit, hook_done_h *done,
		void *arg);

/* ---- pure helpers (any thread; unit-tested) ---- */
#define HOOK_SIG_SIZE 72 /* "sha256=" + 64 hex + NUL */
/* "sha256=<hex HMAC-SHA256(secret, body)>" (the X-Switchboard-Signature). */
void hook_sign(const char *secret, const char *body, size_t len, char out[HOOK_SIG_SIZE]);
/* The wait after the n-th failed attempt (n >= 1): base = min_ms · 2^(n-1)
 * capped at max_ms, then jittered into [base/2, base] by rnd (0..UINT32_MAX). */
int64_t hook_backoff_ms(unsigned n, int min_ms, int max_ms, uint32_t rnd);
/* The JSON body of an event (malloc'd, compact):
 * {"id", "type", "at", "data": {...}}; NULL with *type unset when the kind
 * is not a webhook event, or out of memory. */
char *hook_event_body(const struct routing_event *ev, const char *event_id, enum hook_event *type);

#endif
