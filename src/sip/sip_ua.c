/*
 * sip_ua.c — the loop side of the SIP module: starting and stopping the SIP
 * thread, the two queues, event delivery, and the public leg API, which
 * only validates and queues commands.
 *
 * DESIGN
 * - Commands (loop → SIP): a mutex-protected FIFO of struct sip_cmd, and an
 *   eventfd the SIP thread's su_root polls; one write wakes it for any
 *   number of commands, which it drains in order.
 * - Events (SIP → loop): a mutex-protected FIFO of struct sip_evnode and a
 *   uv_async; the async callback takes the whole list under the lock and
 *   delivers it in order without the lock held, so a handler may call back
 *   into this API.
 * - Ids: leg ids and REGISTER tokens come from one atomic counter, so the
 *   loop can name an outbound leg before the SIP thread has created it.
 * - Live legs: the loop keeps the set of legs it may still act on (added on
 *   INCOMING and sip_leg_invite, removed when FAILED or TERMINATED is
 *   delivered), so calls on a retired id fail with -ENOENT at once. Events
 *   that were in flight for a retired leg are still harmless: the SIP
 *   thread ignores commands for ids it no longer knows.
 * - Shutdown: sip_ua_free queues CMD_SHUTDOWN, joins the thread (nua_shutdown
 *   sends BYEs and finishes within SIP_SHUTDOWN_MS), drops undelivered
 *   events, and frees the struct in the uv_async close callback.
 */
#define LOG_MODULE "sip"
#include "sip/sip_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- ids and the event queue (either thread) ---- */
uint64_t sip_id_next(struct sip_ua *ua)
{
	return atomic_fetch_add(&ua->next_id, 1);
}

struct sip_evnode *sip_event_new(enum sip_event_kind kind, sip_leg_t leg)
{
	struct sip_evnode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ev.kind = kind;
	n->ev.leg = leg;
	n->ev.expires = -1;
	return n;
}

void sip_event_push(struct sip_ua *ua, struct sip_evnode *n)
{
	pthread_mutex_lock(&ua->ev_lock);
	if (ua->ev_tail)
		ua->ev_tail->next = n;
	else
		ua->ev_head = n;
	ua->ev_tail = n;
	pthread_mutex_unlock(&ua->ev_lock);
	uv_async_send(&ua->async);
}

/* ---- live legs (loop thread) ---- */
static struct sip_live *live_find(struct sip_ua *ua, sip_leg_t id)
{
	struct sip_live *l = NULL;

	HASH_FIND(hh, ua->live, &id, sizeof(id), l);
	return l;
}

static int live_add(struct sip_ua *ua, sip_leg_t id)
{
	struct sip_live *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->id = id;
	HASH_ADD(hh, ua->live, id, sizeof(l->id), l);
	return 0;
}

static void live_del(struct sip_ua *ua, sip_leg_t id)
{
	struct sip_live *l = live_find(ua, id);

	if (l) {
		HASH_DEL(ua->live, l);
		free(l);
	}
}

static void live_flush(struct sip_ua *ua)
{
	struct sip_live *l, *tmp;

	HASH_ITER(hh, ua->live, l, tmp)
	{
		HASH_DEL(ua->live, l);
		free(l);
	}
}

/* ---- event delivery (loop thread) ---- */
static void event_deliver(struct sip_ua *ua, const struct sip_event *ev)
{
	if (ev->kind == SIP_EV_INCOMING && live_add(ua, ev->leg)) {
		/* Cannot track it: refuse rather than leak a ringing call. */
		log_error("leg=%llu action=incoming dropped: out of memory",
			  (unsigned long long)ev->leg);
		return;
	}
	if (ev->kind == SIP_EV_TERMINATED || ev->kind == SIP_EV_FAILED)
		live_del(ua, ev->leg);
	ua->h(ev, ua->arg);
}

static void events_free(struct sip_evnode *n)
{
	while (n) {
		struct sip_evnode *next = n->next;
		free(n);
		n = next;
	}
}

static void async_cb(uv_async_t *a)
{
	struct sip_ua *ua = a->data;
	struct sip_evnode *n;

	pthread_mutex_lock(&ua->ev_lock);
	n = ua->ev_head;
	ua->ev_head = ua->ev_tail = NULL;
	pthread_mutex_unlock(&ua->ev_lock);
	while (n && !ua->closing) {
		struct sip_evnode *next = n->next;
		event_deliver(ua, &n->ev);
		free(n);
		n = next;
	}
	events_free(n); /* the handler freed the UA: drop the rest */
}

/* ---- commands (loop thread) ---- */
static struct sip_cmd *cmd_new(enum sip_cmd_kind kind, sip_leg_t leg)
{
	struct sip_cmd *c = calloc(1, sizeof(*c));

	if (c) {
		c->kind = kind;
		c->leg = leg;
	}
	return c;
}

static void cmd_push(struct sip_ua *ua, struct sip_cmd *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ua->cmd_lock);
	if (ua->cmd_tail)
		ua->cmd_tail->next = c;
	else
		ua->cmd_head = c;
	ua->cmd_tail = c;
	pthread_mutex_unlock(&ua->cmd_lock);
	if (write(ua->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("action=wake failed: %s", strerror(errno));
}

void sip_cmds_free(struct sip_cmd *c)
{
	while (c) {
		struct sip_cmd *next = c->next;
		free(c->sdp);
		free(c);
		c = next;
	}
}

/* Reason phrases and user parts go into headers: no control characters. */
static void text_clean(char *dst, const char *src, size_t size)
{
	str_copy(dst, src ? src : "", size);
	for (char *p = dst; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
}

static int sdp_dup(struct sip_cmd *c, const char *sdp)
{
	if (!sdp || !sdp[0])
		return 0;
	if (strlen(sdp) >= SIP_SDP_MAX)
		return -E2BIG;
	c->sdp = strdup(sdp);
	return c->sdp ? 0 : -ENOMEM;
}

/* Attaches a copy of sdp (may be NULL) and queues the command; frees it on
 * failure: -E2BIG or -ENOMEM. */
static int cmd_push_sdp(struct sip_ua *ua, struct sip_cmd *c, const char *sdp)
{
	int err = sdp_dup(c, sdp);

	if (err) {
		free(c);
		return err;
	}
	cmd_push(ua, c);
	return 0;
}

/* ---- start and stop ---- */
static int ua_init(struct sip_ua *ua, uv_loop_t *loop, const struct sip_ua_cfg *cfg, sip_event_h *h,
		   void *arg)
{
	ua->cfg = *cfg;
	if (!ua->cfg.address[0])
		str_copy(ua->cfg.address, "127.0.0.1", sizeof(ua->cfg.address));
	if (!ua->cfg.port)
		ua->cfg.port = 5060;
	if (!ua->cfg.realm[0])
		str_copy(ua->cfg.realm, "switchboard", sizeof(ua->cfg.realm));
	if (!ua->cfg.public_addr[0])
		str_copy(ua->cfg.public_addr, ua->cfg.address, sizeof(ua->cfg.public_addr));
	ua->loop = loop, ua->h = h, ua->arg = arg;
	ua->next_id = 1;
	pthread_mutex_init(&ua->cmd_lock, NULL);
	pthread_mutex_init(&ua->ev_lock, NULL);
	pthread_mutex_init(&ua->nonce_lock, NULL);
	pthread_mutex_init(&ua->start_lock, NULL);
	pthread_cond_init(&ua->start_cond, NULL);
	ua->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return ua->wake_fd < 0 ? -errno : 0;
}

static void ua_destroy(struct sip_ua *ua)
{
	sip_cmds_free(ua->cmd_head);
	events_free(ua->ev_head);
	live_flush(ua);
	sip_nonce_flush(ua);
	if (ua->wake_fd >= 0)
		close(ua->wake_fd);
	pthread_mutex_destroy(&ua->cmd_lock);
	pthread_mutex_destroy(&ua->ev_lock);
	pthread_mutex_destroy(&ua->nonce_lock);
	pthread_mutex_destroy(&ua->start_lock);
	pthread_cond_destroy(&ua->start_cond);
	free(ua);
}

static void async_close_cb(uv_handle_t *h)
{
	ua_destroy(h->data);
}

/* Waits for the SIP thread to report that nua is (or is not) listening. */
static int thread_start(struct sip_ua *ua)
{
	int err = pthread_create(&ua->thread, NULL, sip_thread_main, ua);

	if (err)
		return -err;
	pthread_mutex_lock(&ua->start_lock);
	while (!ua->started)
		pthread_cond_wait(&ua->start_cond, &ua->start_lock);
	err = ua->start_err;
	pthread_mutex_unlock(&ua->start_lock);
	if (err)
		pthread_join(ua->thread, NULL);
	return err;
}

int sip_ua_alloc(struct sip_ua **uap, uv_loop_t *loop, const struct sip_ua_cfg *cfg, sip_event_h *h,
		 void *arg)
{
	struct sip_ua *ua;
	int err;

	if (!uap || !loop || !cfg || !h || cfg->port < 0 || cfg->port > 65535)
		return -EINVAL;
	ua = calloc(1, sizeof(*ua));
	if (!ua)
		return -ENOMEM;
	ua->wake_fd = -1;
	err = ua_init(ua, loop, cfg, h, arg);
	if (!err)
		err = uv_async_init(loop, &ua->async, async_cb);
	if (err) {
		ua_destroy(ua);
		return err;
	}
	ua->async.data = ua;
	err = thread_start(ua);
	if (err) {
		log_error("action=start failed on %s:%d: %s", ua->cfg.address, ua->cfg.port,
			  cc_strerror(err));
		ua->closing = true;
		uv_close((uv_handle_t *)&ua->async, async_close_cb);
		return err;
	}
	log_info("action=listening sip:%s:%d (udp, tcp) realm=%s", ua->cfg.address, ua->cfg.port,
		 ua->cfg.realm);
	*uap = ua;
	return 0;
}

void sip_ua_set_max_inbound(struct sip_ua *ua, int max)
{
	atomic_store(&ua->max_inbound, max > 0 ? max : 0);
}

void sip_ua_free(struct sip_ua *ua)
{
	struct sip_cmd *c;

	if (!ua || ua->closing)
		return;
	ua->closing = true;
	c = cmd_new(CMD_SHUTDOWN, 0);
	if (c)
		cmd_push(ua, c);
	else
		log_error("action=shutdown: out of memory, waiting for the thread anyway");
	pthread_join(ua->thread, NULL);
	log_info("action=stopped");
	uv_close((uv_handle_t *)&ua->async, async_close_cb);
}

/* ---- public API (loop thread) ---- */
static bool leg_live(struct sip_ua *ua, sip_leg_t leg)
{
	return ua && !ua->closing && leg && live_find(ua, leg);
}

int sip_leg_respond(struct sip_ua *ua, sip_leg_t leg, int status, const char *reason,
		    const char *sdp)
{
	struct sip_cmd *c;

	if (status < 180 || status > 699)
		return -EINVAL;
	if (!leg_live(ua, leg))
		return -ENOENT;
	if (status / 100 == 2 && (!sdp || !sdp[0]))
		return -EINVAL;
	c = cmd_new(CMD_RESPOND, leg);
	if (!c)
		return -ENOMEM;
	c->status = status;
	text_clean(c->reason, reason, sizeof(c->reason));
	if ((status == 401 || status == 407) && sip_nonce_new(ua, c->nonce)) {
		free(c);
		return -ENOMEM;
	}
	return cmd_push_sdp(ua, c, sdp);
}

/* sip: or sips: URI, optionally in <>, no whitespace or control bytes. */
static int uri_clean(char *dst, const char *src, size_t size)
{
	size_t n;

	if (!src)
		return -EINVAL;
	if (src[0] == '<')
		src++;
	n = strcspn(src, ">");
	if (n == 0 || n >= size || (strncasecmp(src, "sip:", 4) && strncasecmp(src, "sips:", 5)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)src[i] <= 0x20 || src[i] == 0x7f || src[i] == '"')
			return -EINVAL;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int leg_invite(struct sip_ua *ua, sip_leg_t *legp, const char *to_uri, const char *from_user,
		      const char *from_name, const char *sdp, bool autoans)
{
	struct sip_cmd *c;
	int err;

	if (!ua || ua->closing || !legp || !sdp || !sdp[0])
		return -EINVAL;
	c = cmd_new(CMD_INVITE, sip_id_next(ua));
	if (!c)
		return -ENOMEM;
	if (uri_clean(c->uri, to_uri, sizeof(c->uri))) {
		free(c);
		return -EINVAL;
	}
	text_clean(c->from_user, from_user, sizeof(c->from_user));
	text_clean(c->from_name, from_name, sizeof(c->from_name));
	c->auto_answer = autoans;
	err = sdp_dup(c, sdp);
	if (!err)
		err = live_add(ua, c->leg);
	if (err) {
		sip_cmds_free(c);
		return err;
	}
	*legp = c->leg;
	cmd_push(ua, c);
	return 0;
}

int sip_leg_invite(struct sip_ua *ua, sip_leg_t *legp, const char *to_uri, const char *from_user,
		   const char *from_name, const char *sdp)
{
	return leg_invite(ua, legp, to_uri, from_user, from_name, sdp, false);
}

int sip_leg_invite_auto(struct sip_ua *ua, sip_leg_t *legp, const char *to_uri,
			const char *from_user, const char *from_name, const char *sdp)
{
	return leg_invite(ua, legp, to_uri, from_user, from_name, sdp, true);
}

int sip_leg_hangup(struct sip_ua *ua, sip_leg_t leg)
{
	struct sip_cmd *c;

	if (!leg_live(ua, leg))
		return -ENOENT;
	c = cmd_new(CMD_HANGUP, leg);
	if (!c)
		return -ENOMEM;
	cmd_push(ua, c);
	return 0;
}

int sip_leg_reinvite(struct sip_ua *ua, sip_leg_t leg, const char *sdp)
{
	struct sip_cmd *c;

	if (!sdp || !sdp[0])
		return -EINVAL;
	if (!leg_live(ua, leg))
		return -ENOENT;
	c = cmd_new(CMD_REINVITE, leg);
	if (!c)
		return -ENOMEM;
	return cmd_push_sdp(ua, c, sdp);
}

int sip_leg_refer_reply(struct sip_ua *ua, sip_leg_t leg, int status, const char *reason)
{
	struct sip_cmd *c;

	if (status < 200 || status > 699 || (status < 300 && status != 202))
		return -EINVAL;
	if (!leg_live(ua, leg))
		return -ENOENT;
	c = cmd_new(CMD_REFER_REPLY, leg);
	if (!c)
		return -ENOMEM;
	c->status = status;
	text_clean(c->reason, reason, sizeof(c->reason));
	cmd_push(ua, c);
	return 0;
}

int sip_register_reply(struct sip_ua *ua, uint64_t req, int status, const char *reason, int expires)
{
	struct sip_cmd *c;

	if (!ua || ua->closing || !req || status < 200 || status > 699 || expires < 0)
		return -EINVAL;
	c = cmd_new(CMD_REG_REPLY, 0);
	if (!c)
		return -ENOMEM;
	c->req = req;
	c->status = status;
	c->expires = expires;
	text_clean(c->reason, reason, sizeof(c->reason));
	if (status == 401 && sip_nonce_new(ua, c->nonce)) {
		free(c);
		return -ENOMEM;
	}
	cmd_push(ua, c);
	return 0;
}

/* ---- SIP thread: take every queued command ---- */
struct sip_cmd *sip_cmd_take(struct sip_ua *ua)
{
	struct sip_cmd *c;
	uint64_t v;

	if (read(ua->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("action=wake read failed: %s", strerror(errno));
	pthread_mutex_lock(&ua->cmd_lock);
	c = ua->cmd_head;
	ua->cmd_head = ua->cmd_tail = NULL;
	pthread_mutex_unlock(&ua->cmd_lock);
	return c;
}
