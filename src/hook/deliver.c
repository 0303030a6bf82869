/*
 * deliver.c — the delivery engine: reads pending outbox rows, POSTs them
 * with libcurl's multi interface on the loop, and writes each outcome.
 *
 * DESIGN
 * - One delivery in flight per webhook, in seq order (commit order): the
 *   head row is retried until it is delivered (or given up after the
 *   retention) before the next one goes. A receiver thus sees one webhook's
 *   events in the order they were committed, with retries of a row only
 *   before the rows after it (docs/WEBHOOKS.md "Order"). Webhooks do not
 *   wait for each other: at most HOOK_MAX POSTs are in flight.
 * - libcurl on the loop (its multi_socket API): curl tells us which sockets
 *   to watch (uv_poll) and when to time out (uv_timer); nothing blocks the
 *   loop — name lookups run in curl's resolver thread. The pool is kept for
 *   the store's reads: HOOK_FETCH rows at a time, after a seq cursor.
 * - An attempt's outcome is written through the store's ordered writer
 *   (STORE_OP_OUTBOX_RESULT) without waiting: the next row goes at once. A
 *   crash before that write commits sends the row again after the restart,
 *   with the same id (at least once).
 * - A failure (no answer within webhooks.timeout_ms, a status other than
 *   2xx, a refused connection) waits hook_backoff_ms(attempts) before the
 *   next try; the wait is stored with the row, so a restart keeps it. One
 *   timer (h->timer) wakes the earliest waiting webhook and runs the hourly
 *   purge; a linear scan over at most HOOK_MAX webhooks.
 * - Callbacks carry webhook ids, never pointers: a webhook deleted while its
 *   POST or read is out finds nothing when the answer comes back.
 */
#define LOG_MODULE "hook"
#include "hook/hook_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wh_pump(struct hook *h, struct hook_wh *w);
static void timer_arm(struct hook *h);
static void multi_check(struct hook *h);

/* ---- libcurl on the loop ---- */
static void sock_closed(uv_handle_t *hd)
{
	free(hd->data);
}

static void sock_close(struct hook_sock *s)
{
	struct hook *h = s->h;

	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct hook_sock *s = p->data;
	struct hook *h = s->h;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed by curl's socket callback from here on */
	curl_multi_socket_action(h->multi, s->fd, flags, &running);
	multi_check(h);
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct hook *h = userp;
	struct hook_sock *s = socketp;
	int ev = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(h->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || uv_poll_init_socket(h->loop, &s->poll, fd)) {
			free(s);
			log_error("cannot watch a webhook connection's socket");
			return -1;
		}
		s->h = h, s->fd = fd, s->poll.data = s;
		s->next = h->socks;
		if (h->socks)
			h->socks->prev = s;
		h->socks = s;
		curl_multi_assign(h->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&s->poll, ev, on_poll);
	return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
	struct hook *h = t->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	multi_check(h);
}

/* libcurl asks to be called back in ms (-1: no timeout). Never calls curl
 * from here: a 0 ms timeout runs on the next loop turn. */
static int on_curl_timer(CURLM *m, long ms, void *userp)
{
	struct hook *h = userp;

	(void)m;
	if (ms < 0)
		uv_timer_stop(&h->curl_timer);
	else
		uv_timer_start(&h->curl_timer, on_curl_timeout, (uint64_t)ms, 0);
	return 0;
}

int deliver_init(struct hook *h)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	h->multi = curl_multi_init();
	if (!h->multi) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	uv_timer_init(h->loop, &h->curl_timer);
	uv_timer_init(h->loop, &h->timer);
	h->curl_timer.data = h->timer.data = h;
	return 0;
}

/* ---- rows ---- */
static void row_pop(struct hook_wh *w)
{
	free(w->rows[w->head].body);
	w->rows[w->head].body = NULL;
	if (++w->head == w->n) /* all sent: start the buffer over */
		w->head = w->n = 0;
}

static void result_write(struct hook *h, const struct st_outbox_result *res)
{
	struct store_op op = {.kind = STORE_OP_OUTBOX_RESULT};

	op.u.result = *res;
	if (store_write(h->st, &op, 1, NULL, NULL))
		log_error("delivery seq=%lld: its outcome was not queued for storing",
			  (long long)res->seq);
}

/* The head row is older than the retention: given up, not sent. */
static void row_expire(struct hook *h, struct hook_wh *w)
{
	struct hook_row *row = &w->rows[w->head];
	struct st_outbox_result res = {.seq = row->seq,
				       .attempts = row->attempts,
				       .next_attempt_at = row->next_attempt_at,
				       .expired_at = time_now_ms()};

	log_warn("webhook=%lld delivery=%s action=given_up after %d attempts: older than %lld h",
		 (long long)w->rec.id, row->id, row->attempts,
		 (long long)(h->retention_ms / 3600000));
	str_copy(res.last_error, "given up: older than the retention", sizeof(res.last_error));
	result_write(h, &res);
	row_pop(w);
}

/* ---- reads ---- */
struct fetch {
	struct hook *h;
	int64_t webhook_id;
};

static void rows_take(struct hook_wh *w, struct store_outbox_page *pg)
{
	struct hook_row *nr;
	size_t k = 0;

	nr = realloc(w->rows, (w->n + pg->n) * sizeof(*nr));
	if (!nr && pg->n)
		return; /* out of memory: read again on the next kick */
	w->rows = nr;
	for (size_t i = 0; i < pg->n; i++) {
		struct st_outbox_row *s = &pg->rows[i];
		struct hook_row *d = &w->rows[w->n + k];

		if (s->seq <= w->cursor)
			continue;
		d->seq = s->seq;
		str_copy(d->id, s->id, sizeof(d->id));
		str_copy(d->type, s->type, sizeof(d->type));
		d->created_at = s->created_at;
		d->attempts = s->attempts;
		d->next_attempt_at = s->next_attempt_at;
		d->body = s->body;
		s->body = NULL; /* ours now */
		w->cursor = s->seq;
		k++;
	}
	if (k && w->head == w->n && w->rows[w->n].attempts) /* a backoff from the last run */
		w->wait_until = w->rows[w->n].next_attempt_at;
	w->n += k;
}

static void fetched(int err, struct store_outbox_page *pg, void *arg)
{
	struct fetch *f = arg;
	struct hook *h = f->h;
	struct hook_wh *w = hook_wh_find(h, f->webhook_id);

	h->pending_reads--;
	free(f);
	if (!w || h->stopping)
		return; /* deleted, or shutting down */
	w->fetching = false;
	if (err) {
		log_error("webhook=%lld action=read outbox failed: %s", (long long)w->rec.id,
			  cc_strerror(err));
		w->dirty = true;
		w->wait_until = time_now_ms() + h->backoff_min_ms;
		timer_arm(h);
		return;
	}
	rows_take(w, pg);
	if (pg->n == HOOK_FETCH)
		w->dirty = true; /* there may be more */
	wh_pump(h, w);
}

static void wh_fetch(struct hook *h, struct hook_wh *w)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return;
	f->h = h, f->webhook_id = w->rec.id;
	w->dirty = false;
	if (store_outbox_fetch(h->st, w->rec.id, w->cursor, HOOK_FETCH, fetched, f)) {
		free(f);
		w->dirty = true;
		return;
	}
	w->fetching = true;
	h->pending_reads++;
}

/* ---- sending ---- */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p, (void)arg;
	return size * n;
}

/* Appends one header line; false (and the list freed) when out of memory. */
static bool header_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n) {
		curl_slist_free_all(*l);
		*l = NULL;
		return false;
	}
	*l = n;
	return true;
}

static struct curl_slist *headers_make(const struct hook_wh *w, const struct hook_row *row)
{
	char sig[HOOK_SIG_SIZE], id[ST_DELIVERY_ID + 24], ev[48], sg[HOOK_SIG_SIZE + 32];
	struct curl_slist *l = NULL;

	hook_sign(w->rec.secret, row->body, strlen(row->body), sig);
	snprintf(id, sizeof(id), "X-Switchboard-Id: %s", row->id);
	snprintf(ev, sizeof(ev), "X-Switchboard-Event: %s", row->type);
	snprintf(sg, sizeof(sg), "X-Switchboard-Signature: %s", sig);
	/* "Expect:" drops curl's 100-continue round trip on bodies over 1 KiB */
	if (header_add(&l, "Content-Type: application/json") && header_add(&l, "Expect:") &&
	    header_add(&l, HOOK_USER_AGENT) && header_add(&l, id) && header_add(&l, ev))
		header_add(&l, sg);
	return l;
}

static void xfer_free(struct hook_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(x->h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	free(x);
}

static struct hook_xfer *xfer_new(struct hook *h, struct hook_wh *w, const struct hook_row *row)
{
	struct hook_xfer *x = calloc(1, sizeof(*x));
	CURL *e = curl_easy_init();

	if (!x || !e) {
		free(x);
		curl_easy_cleanup(e);
		return NULL;
	}
	x->h = h, x->webhook_id = w->rec.id, x->seq = row->seq, x->easy = e;
	x->headers = headers_make(w, row);
	if (!x->headers) {
		xfer_free(x);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, w->rec.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(row->body));
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, row->body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is a failure */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	return x;
}

static void wh_send(struct hook *h, struct hook_wh *w)
{
	struct hook_row *row = &w->rows[w->head];
	struct hook_xfer *x = xfer_new(h, w, row);

	if (!x || curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		log_error("webhook=%lld delivery=%s action=send cannot start a request",
			  (long long)w->rec.id, row->id);
		if (x)
			xfer_free(x);
		w->wait_until = time_now_ms() + h->backoff_min_ms;
		timer_arm(h);
		return;
	}
	w->xfer = x;
	w->st.last_attempt_at = time_now_ms();
	log_debug("webhook=%lld delivery=%s action=post attempt=%d url=%s", (long long)w->rec.id,
		  row->id, row->attempts + 1, w->rec.url);
}

/* Sends what is due, or reads ahead; nothing while one thing is out. */
static void wh_pump(struct hook *h, struct hook_wh *w)
{
	while (h->started && !h->stopping && w->rec.active && !w->xfer && !w->fetching) {
		if (w->head == w->n) {
			if (w->dirty)
				wh_fetch(h, w);
			return;
		}
		if (h->retention_ms &&
		    time_now_ms() - w->rows[w->head].created_at > h->retention_ms) {
			row_expire(h, w);
			continue;
		}
		if (w->wait_until > time_now_ms()) {
			timer_arm(h);
			return;
		}
		wh_send(h, w);
		return;
	}
}

/* ---- outcomes ---- */
static void attempt_ok(struct hook *h, struct hook_wh *w, long code)
{
	struct hook_row *row = &w->rows[w->head];
	struct st_outbox_result res = {.seq = row->seq,
				       .attempts = row->attempts + 1,
				       .next_attempt_at = row->next_attempt_at,
				       .delivered_at = time_now_ms(),
				       .last_status = (int)code};

	log_debug("webhook=%lld delivery=%s action=delivered status=%ld attempt=%d",
		  (long long)w->rec.id, row->id, code, res.attempts);
	if (row->attempts)
		log_info("webhook=%lld delivery=%s action=delivered after %d attempts",
			 (long long)w->rec.id, row->id, res.attempts);
	result_write(h, &res);
	row_pop(w);
	w->wait_until = 0;
	w->st.failures = 0;
	w->st.last_success_at = res.delivered_at;
	w->st.last_status = (int)code;
	w->st.last_error[0] = '\0';
}

static void attempt_failed(struct hook *h, struct hook_wh *w, long code, const char *why)
{
	struct hook_row *row = &w->rows[w->head];
	int64_t wait;
	struct st_outbox_result res = {.seq = row->seq, .last_status = (int)code};

	row->attempts++;
	wait = hook_backoff_ms((unsigned)row->attempts, h->backoff_min_ms, h->backoff_max_ms,
			       randombytes_random());
	row->next_attempt_at = w->wait_until = time_now_ms() + wait;
	res.attempts = row->attempts;
	res.next_attempt_at = row->next_attempt_at;
	str_copy(res.last_error, why, sizeof(res.last_error));
	log_warn("webhook=%lld delivery=%s action=failed attempt=%d: %s; next in %lld ms",
		 (long long)w->rec.id, row->id, row->attempts, why, (long long)wait);
	result_write(h, &res);
	w->st.failures = (unsigned)row->attempts;
	w->st.last_status = (int)code;
	str_copy(w->st.last_error, why, sizeof(w->st.last_error));
}

static void xfer_done(struct hook *h, struct hook_xfer *x, CURLcode rc)
{
	struct hook_wh *w = hook_wh_find(h, x->webhook_id);
	char why[HOOK_ERR_SIZE];
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (w && w->xfer == x && w->head < w->n && w->rows[w->head].seq == x->seq) {
		w->xfer = NULL;
		if (rc == CURLE_OK && code >= 200 && code < 300) {
			attempt_ok(h, w, code);
		} else {
			if (rc != CURLE_OK)
				str_copy(why, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc),
					 sizeof(why));
			else
				snprintf(why, sizeof(why), "HTTP %ld", code);
			attempt_failed(h, w, rc == CURLE_OK ? code : 0, why);
		}
	}
	xfer_free(x);
	if (w && !w->xfer)
		wh_pump(h, w);
	timer_arm(h);
}

/* Collects finished transfers (outside curl's callbacks). */
static void multi_check(struct hook *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct hook_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_done(h, x, m->data.result);
	}
}

/* ---- the timer: backoff wake-ups, the purge ---- */
static void purge(struct hook *h)
{
	struct store_op op = {.kind = STORE_OP_OUTBOX_PURGE};

	op.u.before = time_now_ms() - h->retention_ms;
	if (store_write(h->st, &op, 1, NULL, NULL))
		log_error("the outbox purge was not queued");
	h->next_purge = time_now_ms() + HOOK_PURGE_MS;
}

static void on_timer(uv_timer_t *t)
{
	struct hook *h = t->data;

	if (h->stopping)
		return;
	if (time_now_ms() >= h->next_purge)
		purge(h);
	for (size_t i = 0; i < h->n_wh; i++)
		wh_pump(h, h->wh[i]);
	timer_arm(h);
}

static void timer_arm(struct hook *h)
{
	int64_t now = time_now_ms(), at = h->next_purge;

	if (h->stopping || !h->started)
		return;
	for (size_t i = 0; i < h->n_wh; i++) {
		struct hook_wh *w = h->wh[i];
		if (w->rec.active && !w->xfer && !w->fetching && w->head < w->n &&
		    w->wait_until < at)
			at = w->wait_until;
	}
	uv_timer_start(&h->timer, on_timer, at > now ? (uint64_t)(at - now) : 0, 0);
}

/* ---- start, kick, stop ---- */
void deliver_start(struct hook *h)
{
	h->started = true;
	h->next_purge = time_now_ms(); /* once at start, then hourly */
	timer_arm(h);
}

void deliver_kick(struct hook *h, struct hook_wh *w)
{
	if (w) {
		w->dirty = true;
		w->wait_until = 0;
		wh_pump(h, w);
		return;
	}
	for (size_t i = 0; i < h->n_wh; i++) {
		h->wh[i]->dirty = true;
		wh_pump(h, h->wh[i]);
	}
}

void deliver_forget(struct hook *h, struct hook_wh *w)
{
	if (w->xfer) {
		xfer_free(w->xfer);
		w->xfer = NULL;
	}
	timer_arm(h);
}

void deliver_stop(struct hook *h)
{
	if (h->stopping)
		return;
	h->stopping = true;
	for (size_t i = 0; i < h->n_wh; i++)
		deliver_forget(h, h->wh[i]);
	/* Stop watching the cached connections' sockets before curl closes
	 * them (a closed fd's number may be reused at once); curl's REMOVE
	 * callbacks then find nothing assigned. */
	while (h->socks) {
		curl_multi_assign(h->multi, h->socks->fd, NULL);
		sock_close(h->socks);
	}
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	uv_timer_stop(&h->curl_timer);
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->curl_timer, NULL);
	uv_close((uv_handle_t *)&h->timer, NULL);
	curl_global_cleanup();
}
