/* hook_int.h — structures private to hook/: the webhooks in memory
 * (hook.c) and the delivery engine's state (deliver.c). */
#ifndef SB_HOOK_INT_H
#define SB_HOOK_INT_H

#include "hook/hook.h"

#include <curl/curl.h>

#define HOOK_FETCH	32	/* rows read ahead per webhook */
#define HOOK_BODY_MAX	65536	/* bytes of one event's body */
#define HOOK_PURGE_MS	3600000 /* the outbox purge, hourly */
#define HOOK_ERR_SIZE	128	/* last_error */
#define HOOK_USER_AGENT "User-Agent: Switchboard-Webhook/1"

/* One pending delivery read ahead from the outbox. */
struct hook_row {
	int64_t seq;
	char id[ST_DELIVERY_ID];
	char type[16];
	int64_t created_at;
	int attempts;
	int64_t next_attempt_at;
	char *body;
};

struct hook_xfer;

/* A webhook: its settings and its delivery state. Deliveries go one at a
 * time, in seq order (docs/WEBHOOKS.md "Order"). */
struct hook_wh {
	struct st_webhook rec;
	unsigned mask; /* HOOK_EV_BIT of rec.events */
	/* read ahead: rows[head..n) are pending, rows[head] is the next */
	struct hook_row *rows;
	size_t head, n;
	int64_t cursor;		/* the highest seq read so far */
	bool dirty;		/* rows may be pending past the cursor */
	bool fetching;		/* a read is on the pool */
	struct hook_xfer *xfer; /* a POST in flight, NULL = none */
	int64_t wait_until;	/* ms: no attempt before (backoff) */
	struct hook_status st;
};

/* A POST in flight; carries the webhook's id, never a pointer to it. */
struct hook_xfer {
	struct hook *h;
	int64_t webhook_id, seq;
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

/* A socket libcurl asked the loop to watch. */
struct hook_sock {
	struct hook_sock *prev, *next;
	struct hook *h;
	curl_socket_t fd;
	uv_poll_t poll;
};

struct hook {
	uv_loop_t *loop;
	struct store *st;
	struct routing *r;
	int timeout_ms, backoff_min_ms, backoff_max_ms;
	int64_t retention_ms;
	struct hook_wh **wh; /* by id (ids only grow) */
	size_t n_wh;
	int64_t next_id;
	unsigned active_mask; /* event types some active webhook takes */
	/* the engine */
	bool started, stopping;
	CURLM *multi;
	uv_timer_t curl_timer; /* libcurl's timeout */
	uv_timer_t timer;      /* backoff wake-ups and the hourly purge */
	int64_t next_purge;
	struct hook_sock *socks;
	size_t pending_reads; /* fetches on the pool */
};

/* hook.c */
struct hook_wh *hook_wh_find(const struct hook *h, int64_t id);

/* deliver.c: the engine */
int deliver_init(struct hook *h);
void deliver_start(struct hook *h);
void deliver_stop(struct hook *h);
/* Rows may be pending for w (or for every active webhook: w NULL). */
void deliver_kick(struct hook *h, struct hook_wh *w);
/* w is being deleted: drop its POST in flight and its read-ahead rows. */
void deliver_forget(struct hook *h, struct hook_wh *w);

#endif
