/*
 * worker.c — media workers: the engine on every core (issue 16 point 1).
 *
 * DESIGN
 * - n threads, each running a libuv loop of its own with a struct media
 *   engine on it: the same engine the main loop has, unchanged (legs,
 *   clock, conferences, recorder). A leg lives on one worker for its whole
 *   life; call control puts every leg of a call, and the call's
 *   conference, on one worker (mw_place: the one with the fewest legs when
 *   the call makes its first), so nothing in a call ever crosses threads.
 * - Main -> worker: per worker a mutex-protected FIFO of struct wcmd and a
 *   uv_async; worker -> main: one FIFO of struct wev and a uv_async on the
 *   main loop (the SIP thread's pattern, sip/sip_ua.c). A message names
 *   legs, conferences and recordings by key, a number the main loop hands
 *   out and never reuses, so a late event for a handle freed meanwhile
 *   finds nothing and is dropped. The only memory that crosses is audio
 *   for playback: immutable, refcounted (mem_ref is atomic) or built in.
 * - Commands are posted and not waited for. What call control needs at
 *   once is known on the main loop: a leg's port (the main loop binds the
 *   RTP/RTCP pair from its own engine's pool, media_port_take, and the
 *   worker adopts the two sockets, mleg_adopt), whether an SDP's address
 *   and codec are usable (media_remote_check). A worker's own failure
 *   (connect, ENOMEM) is logged there. A recording's end comes back as an
 *   event and its handler always runs once.
 * - Counters: every 500 ms each worker pushes, in one event, the counters
 *   of the legs that changed, its engine's totals, its clock's late ticks
 *   and its thread's CPU time; mwleg_stats and mw_worker_stats read those.
 * - A browser's leg has a WebRTC transport (ICE, DTLS, SRTP, Opus) that
 *   lives on the main loop's engine with its signalling. mwleg_attach
 *   joins it to the call's worker by a stand-in: a worker leg whose far
 *   end is a plain "trunk" leg on the main engine, over loopback UDP in
 *   G.711 µ-law, and a two-member conference on the main engine between
 *   the browser's leg and the trunk (relay for a G.711 browser, decode and
 *   encode for Opus). The call's conference and recording see the stand-in
 *   as any other leg. It costs two loopback packets per 20 ms each way and
 *   up to 40 ms more delay (the main engine's jitter buffer when it
 *   transcodes); moving the WebRTC transport itself onto the workers is
 *   the next step (docs/MEDIA.md "Media workers").
 * - Shutdown: mw_free posts a last command to each worker, which frees
 *   what is left and closes its loop; recordings being flushed finish on
 *   the pool first. The main loop joins the threads and then runs the
 *   handlers of the events still queued (a recording's end).
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#define STATS_MS      500
#define DTMF_DIGIT_MS (7 * MEDIA_CLOCK_MS) /* an RFC 4733 digit: 7 packets (player.c) */
#define TRUNK_BIT     (1ULL << 62) /* the trunk's id beside the browser leg's in their conference */

enum wc_kind {
	WC_LEG_NEW,
	WC_LEG_FREE,
	WC_LEG_REMOTE,
	WC_LEG_PLAY,
	WC_LEG_STOP,
	WC_LEG_DTMF,
	WC_LEG_ON_DTMF,
	WC_LEG_ON_AUDIO,
	WC_CONF_JOIN,
	WC_CONF_LEAVE,
	WC_CONF_FREE,
	WC_REC_START,
	WC_REC_STOP,
	WC_QUIT,
};

struct wcmd {
	struct wcmd *next;
	enum wc_kind kind;
	uint64_t leg, conf, target; /* keys (0: none) */
	uint64_t id;		    /* the engine's id of a new leg or conference (logs, members) */
	int fd[2], port; /* WC_LEG_NEW: the bound pair; WC_LEG_REMOTE: the far end's port */
	char addr[64];
	enum media_codec codec;
	int dtmf_pt;
	int16_t *pcm; /* WC_LEG_PLAY: a mem reference, or built-in audio */
	size_t n;
	bool loop, on;
	char digit;
	enum mixer_mode mode;
	char *path; /* WC_REC_START (malloc) */
};

enum we_kind { WE_DTMF, WE_AUDIO, WE_REC_DONE, WE_STATS };

struct wstat {
	uint64_t key;
	struct media_stats st;
};

struct wev {
	struct wev *next;
	enum we_kind kind;
	int worker;
	uint64_t key; /* a leg's, or a recording's token */
	char digit;
	int err;
	uint64_t frames;
	struct mw_worker_stats ws;
	size_t n;   /* samples (WE_AUDIO) or entries (WE_STATS) */
	void *data; /* int16_t[n] or struct wstat[n] (malloc) */
};

/* Worker-side records (the worker's thread only). */
struct wleg {
	uint64_t key;
	struct mleg *l;
	struct mwk *k;
	struct media_stats sent; /* as last pushed */
	UT_hash_handle hh;
};
struct wconf {
	uint64_t key;
	struct mconf *c;
	UT_hash_handle hh;
};
struct wtok {
	struct mwk *k;
	uint64_t token;
};

struct mwk {
	struct mw *w;
	int idx;
	pthread_t th;
	bool started;
	uv_loop_t loop;
	uv_async_t async;
	uv_timer_t timer;
	pthread_mutex_t lock;
	struct wcmd *head, **tail;
	bool gone; /* main: the last command was posted */
	bool loop_on, async_on, timer_on;
	/* the worker's thread */
	struct media *m;
	struct wleg *legs;
	struct wconf *confs;
	/* the main loop's */
	size_t nlegs;
	struct mw_worker_stats st;
};

struct mwrec {
	uint64_t token;
	media_record_done_h *done;
	void *arg;
	UT_hash_handle hh;
};

struct mw {
	uv_loop_t *loop;
	struct media *local;
	struct media_cfg cfg;
	int n;
	struct mwk *wk;
	uv_async_t async;
	pthread_mutex_t ev_lock;
	struct wev *ev_head, **ev_tail;
	uint64_t next_key;
	int nice;	    /* the workers' threads' nice value (media_cfg.worker_nice) */
	struct mwleg *legs; /* by key */
	struct mwrec *recs; /* stops waiting for their end, by token */
	bool closing;
};

struct mwleg {
	struct mw *w;
	int worker;
	uint64_t key, id;
	int port;
	int dtmf_pt;	     /* the far end's telephone-event (mwleg_set_remote), -1 none */
	uint64_t dtmf_until; /* when the digits sent so far are out (uv_now, ms) */
	mleg_dtmf_h *dtmf_h;
	void *dtmf_arg;
	mleg_audio_h *audio_h;
	void *audio_arg;
	struct media_stats st;
	struct mleg *local, *trunk; /* a stand-in's (mwleg_attach) */
	struct mconf *lconf;
	UT_hash_handle hh;
};

struct mwconf {
	struct mw *w;
	int worker;
	uint64_t key, id;
};

/* ---- messages ---- */
static void cmd_drop(struct wcmd *c)
{
	for (int i = 0; c->kind == WC_LEG_NEW && i < 2; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	if (c->kind == WC_LEG_PLAY && !media_audio_builtin(c->pcm, c->n))
		mem_deref(c->pcm);
	free(c->path);
	free(c);
}

static struct wcmd *cmd_new(enum wc_kind kind, uint64_t leg)
{
	struct wcmd *c = calloc(1, sizeof(*c));

	if (c)
		c->kind = kind, c->leg = leg, c->fd[0] = c->fd[1] = -1;
	return c;
}

/* Hands c to worker i (or drops it: stopped workers): 0 or -ESHUTDOWN. */
static int cmd_post(struct mw *w, int i, struct wcmd *c)
{
	struct mwk *k = &w->wk[i];

	if (k->gone) {
		cmd_drop(c);
		return -ESHUTDOWN;
	}
	if (c->kind == WC_QUIT)
		k->gone = true;
	pthread_mutex_lock(&k->lock);
	*k->tail = c;
	k->tail = &c->next;
	pthread_mutex_unlock(&k->lock);
	uv_async_send(&k->async);
	return 0;
}

/* A command with no payload; false when out of memory (logged). */
static bool cmd_simple(struct mw *w, int i, enum wc_kind kind, uint64_t leg, uint64_t conf)
{
	struct wcmd *c = cmd_new(kind, leg);

	if (!c) {
		log_error("leg=- action=media command lost: out of memory");
		return false;
	}
	c->conf = conf;
	return !cmd_post(w, i, c);
}

static void ev_post(struct mw *w, struct wev *e)
{
	pthread_mutex_lock(&w->ev_lock);
	*w->ev_tail = e;
	w->ev_tail = &e->next;
	pthread_mutex_unlock(&w->ev_lock);
	uv_async_send(&w->async);
}

static struct wev *ev_new(struct mwk *k, enum we_kind kind, uint64_t key)
{
	struct wev *e = calloc(1, sizeof(*e));

	if (e)
		e->kind = kind, e->worker = k->idx, e->key = key;
	else
		log_error("leg=- action=media event lost: out of memory");
	return e;
}

/* ---- the worker's side ---- */
static struct wleg *wleg_find(struct mwk *k, uint64_t key)
{
	struct wleg *wl = NULL;

	if (key)
		HASH_FIND(hh, k->legs, &key, sizeof(key), wl);
	return wl;
}

static struct wconf *wconf_find(struct mwk *k, uint64_t key)
{
	struct wconf *wc = NULL;

	HASH_FIND(hh, k->confs, &key, sizeof(key), wc);
	return wc;
}

static void wk_on_dtmf(struct mleg *l, char digit, void *arg)
{
	struct wleg *wl = arg;
	struct wev *e = ev_new(wl->k, WE_DTMF, wl->key);

	(void)l;
	if (e) {
		e->digit = digit;
		ev_post(wl->k->w, e);
	}
}

static void wk_on_audio(struct mleg *l, const int16_t *pcm, size_t n, void *arg)
{
	struct wleg *wl = arg;
	struct wev *e = ev_new(wl->k, WE_AUDIO, wl->key);

	(void)l;
	if (!e)
		return;
	e->data = malloc(n * sizeof(*pcm));
	if (!e->data) {
		free(e);
		return;
	}
	memcpy(e->data, pcm, n * sizeof(*pcm));
	e->n = n;
	ev_post(wl->k->w, e);
}

static void wk_rec_done(int err, uint64_t frames, void *arg)
{
	struct wtok *t = arg;
	struct wev *e = ev_new(t->k, WE_REC_DONE, t->token);

	if (e) {
		e->err = err, e->frames = frames;
		ev_post(t->k->w, e);
	}
	free(t);
}

static void wk_leg_new(struct mwk *k, struct wcmd *c)
{
	struct wleg *wl = calloc(1, sizeof(*wl));
	int err = !wl ? -ENOMEM : !k->m ? -ESHUTDOWN : 0;

	if (!err)
		err = mleg_adopt(&wl->l, k->m, c->id, c->fd, c->port); /* the fds are its now */
	else
		close(c->fd[0]), close(c->fd[1]);
	if (err) {
		log_error("leg=%llu action=worker %d could not take the leg: %s",
			  (unsigned long long)c->id, k->idx, strerror(-err));
		free(wl);
		return;
	}
	wl->key = c->leg, wl->k = k;
	HASH_ADD(hh, k->legs, key, sizeof(wl->key), wl);
}

static void wk_leg_free(struct mwk *k, struct wleg *wl)
{
	HASH_DEL(k->legs, wl);
	mleg_free(wl->l);
	free(wl);
}

static void wk_play(struct wleg *wl, struct wcmd *c)
{
	bool builtin = media_audio_builtin(c->pcm, c->n);
	int err = builtin ? mleg_play(wl->l, c->pcm, c->n, c->loop)
			  : mleg_play_ref(wl->l, c->pcm, c->n, c->loop);

	if (err)
		log_warn("leg=%llu action=play failed: %s", (unsigned long long)wl->l->id,
			 strerror(-err));
}

static void wk_join(struct mwk *k, struct wcmd *c, struct wleg *wl)
{
	struct wconf *wc = wconf_find(k, c->conf);
	struct wleg *t = wleg_find(k, c->target);
	int err = 0;

	if (!wc) {
		wc = calloc(1, sizeof(*wc));
		if (!wc || media_conf_alloc(&wc->c, k->m, c->id)) {
			free(wc);
			log_error("call=%llu action=worker %d could not make the conference",
				  (unsigned long long)c->id, k->idx);
			return;
		}
		wc->key = c->conf;
		HASH_ADD(hh, k->confs, key, sizeof(wc->key), wc);
	}
	if (!wl || (c->target && !t))
		err = -ENOENT;
	if (!err)
		err = media_conf_add(wc->c, wl->l, c->mode, t ? t->l : NULL);
	if (err == -EEXIST)
		err = media_conf_set_mode(wc->c, wl->l, c->mode, t ? t->l : NULL);
	if (err)
		log_warn("call=%llu action=join failed on worker %d: %s", (unsigned long long)c->id,
			 k->idx, strerror(-err));
}

static void wk_rec_stop(struct mwk *k, struct wcmd *c)
{
	struct wconf *wc = wconf_find(k, c->conf);
	struct wtok *t = malloc(sizeof(*t));
	int err = !t ? -ENOMEM : !wc ? -ENOENT : 0;

	if (t)
		t->k = k, t->token = c->leg;
	if (!err)
		err = media_conf_record_stop(wc->c, wk_rec_done, t);
	if (err) {
		struct wev *e = ev_new(k, WE_REC_DONE, c->leg);
		if (e) {
			e->err = err;
			ev_post(k->w, e);
		}
		free(t);
	}
}

static void wk_closed(uv_handle_t *h)
{
	(void)h;
}

static void wk_quit(struct mwk *k)
{
	struct wleg *wl, *tl;
	struct wconf *wc, *tc;

	HASH_ITER(hh, k->legs, wl, tl)
	{
		wk_leg_free(k, wl);
	}
	HASH_ITER(hh, k->confs, wc, tc)
	{
		HASH_DEL(k->confs, wc);
		mem_deref(wc->c);
		free(wc);
	}
	media_free(k->m);
	k->m = NULL;
	uv_timer_stop(&k->timer);
	uv_close((uv_handle_t *)&k->timer, wk_closed);
	uv_close((uv_handle_t *)&k->async, wk_closed);
}

static void wk_do(struct mwk *k, struct wcmd *c)
{
	struct wleg *wl = wleg_find(k, c->leg);
	struct wconf *wc;
	int err = 0;

	if (c->kind == WC_LEG_NEW) {
		wk_leg_new(k, c);
		c->fd[0] = c->fd[1] = -1;
		return;
	}
	if (c->kind == WC_QUIT) {
		wk_quit(k);
		return;
	}
	if (c->kind == WC_CONF_FREE) {
		if ((wc = wconf_find(k, c->conf))) {
			HASH_DEL(k->confs, wc);
			mem_deref(wc->c);
			free(wc);
		}
		return;
	}
	if (c->kind == WC_CONF_JOIN) {
		wk_join(k, c, wl);
		return;
	}
	if (c->kind == WC_REC_STOP) {
		wk_rec_stop(k, c);
		return;
	}
	if (!wl)
		return; /* its creation failed (logged) */
	switch (c->kind) {
	case WC_LEG_FREE: wk_leg_free(k, wl); break;
	case WC_LEG_REMOTE:
		err = mleg_set_remote(wl->l, c->addr, c->port, c->codec, c->dtmf_pt);
		break;
	case WC_LEG_PLAY: wk_play(wl, c); break;
	case WC_LEG_STOP: mleg_stop(wl->l); break;
	case WC_LEG_DTMF: err = mleg_send_dtmf(wl->l, c->digit); break;
	case WC_LEG_ON_DTMF: mleg_set_dtmf_handler(wl->l, c->on ? wk_on_dtmf : NULL, wl); break;
	case WC_LEG_ON_AUDIO: mleg_set_audio_handler(wl->l, c->on ? wk_on_audio : NULL, wl); break;
	case WC_CONF_LEAVE:
		wc = wconf_find(k, c->conf);
		err = wc ? media_conf_remove(wc->c, wl->l) : -ENOENT;
		break;
	case WC_REC_START:
		wc = wconf_find(k, c->conf);
		err = wc ? media_conf_record_start(wc->c, wl->l, c->path) : -ENOENT;
		break;
	default: break;
	}
	if (err)
		log_warn("leg=%llu action=command %d failed on worker %d: %s",
			 (unsigned long long)c->id, (int)c->kind, k->idx, strerror(-err));
}

static void wk_async(uv_async_t *a)
{
	struct mwk *k = a->data;
	struct wcmd *c, *next;

	pthread_mutex_lock(&k->lock);
	c = k->head;
	k->head = NULL, k->tail = &k->head;
	pthread_mutex_unlock(&k->lock);
	for (; c; c = next) {
		next = c->next;
		wk_do(k, c);
		cmd_drop(c); /* the play command's reference, the path */
	}
}

static bool stats_differ(const struct media_stats *a, const struct media_stats *b)
{
	return a->rx_packets != b->rx_packets || a->tx_packets != b->tx_packets ||
	       a->rx_bad != b->rx_bad || a->rx_lost != b->rx_lost;
}

static void wk_stats(uv_timer_t *t)
{
	struct mwk *k = t->data;
	struct wev *e = ev_new(k, WE_STATS, 0);
	struct wstat *s;
	struct wleg *wl, *tmp;
	struct timespec ts;
	size_t n = 0;

	if (!e || !k->m) {
		free(e);
		return;
	}
	s = malloc((HASH_COUNT(k->legs) + 1) * sizeof(*s));
	if (!s) {
		free(e);
		return;
	}
	HASH_ITER(hh, k->legs, wl, tmp)
	{
		if (!stats_differ(&wl->l->st, &wl->sent))
			continue;
		wl->sent = wl->l->st;
		s[n++] = (struct wstat){wl->key, wl->l->st};
	}
	media_totals(k->m, &e->ws.st, &e->ws.legs_total);
	e->ws.legs = media_leg_count(k->m);
	media_clock_stats(k->m, &e->ws.clock);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	e->ws.cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e->data = s, e->n = n;
	ev_post(k->w, e);
}

static void *wk_main(void *arg)
{
	struct mwk *k = arg;
	char name[16];

	snprintf(name, sizeof(name), "sb-media-%d", k->idx);
	pthread_setname_np(pthread_self(), name);
	/* media ahead of the API, the store and the transcripts when cores are
	 * short: a late clock is heard, a late reply is not (needs CAP_SYS_NICE) */
	if (k->w->nice && setpriority(PRIO_PROCESS, (id_t)gettid(), k->w->nice) && !k->idx)
		log_info("leg=- action=media workers at normal priority: %s", strerror(errno));
	uv_run(&k->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* ---- the main loop's side ---- */
static struct mwleg *mwleg_find(struct mw *w, uint64_t key)
{
	struct mwleg *h = NULL;

	HASH_FIND(hh, w->legs, &key, sizeof(key), h);
	return h;
}

static void ev_handle(struct mw *w, struct wev *e)
{
	struct mwleg *h;
	struct mwrec *r = NULL;
	struct wstat *s = e->data;

	switch (e->kind) {
	case WE_DTMF:
		if ((h = mwleg_find(w, e->key)) && h->dtmf_h)
			h->dtmf_h(NULL, e->digit, h->dtmf_arg);
		break;
	case WE_AUDIO:
		if ((h = mwleg_find(w, e->key)) && h->audio_h)
			h->audio_h(NULL, e->data, e->n, h->audio_arg);
		break;
	case WE_REC_DONE:
		HASH_FIND(hh, w->recs, &e->key, sizeof(e->key), r);
		if (r) {
			HASH_DEL(w->recs, r);
			r->done(e->err, e->frames, r->arg);
			free(r);
		}
		break;
	case WE_STATS:
		w->wk[e->worker].st = e->ws;
		for (size_t i = 0; i < e->n; i++)
			if ((h = mwleg_find(w, s[i].key)))
				h->st = s[i].st;
		break;
	}
}

static void ev_run(struct mw *w)
{
	struct wev *e, *next;

	pthread_mutex_lock(&w->ev_lock);
	e = w->ev_head;
	w->ev_head = NULL, w->ev_tail = &w->ev_head;
	pthread_mutex_unlock(&w->ev_lock);
	for (; e; e = next) {
		next = e->next;
		ev_handle(w, e);
		free(e->data);
		free(e);
	}
}

static void mw_async(uv_async_t *a)
{
	ev_run(a->data);
}

static void mw_destroy(void *data)
{
	struct mw *w = data;

	for (int i = 0; w->wk && i < w->n; i++)
		pthread_mutex_destroy(&w->wk[i].lock);
	free(w->wk);
	pthread_mutex_destroy(&w->ev_lock);
	mem_deref(w->local);
}

static void mw_async_closed(uv_handle_t *h)
{
	mem_deref(h->data);
}

/* Worker i's loop, engine, queue and timer; its thread starts later. */
static int wk_init(struct mw *w, int i)
{
	struct mwk *k = &w->wk[i];
	int err;

	k->w = w, k->idx = i, k->tail = &k->head;
	pthread_mutex_init(&k->lock, NULL);
	err = uv_loop_init(&k->loop);
	if (err)
		return err;
	k->loop_on = true;
	err = uv_async_init(&k->loop, &k->async, wk_async);
	if (!err) {
		k->async_on = true, k->async.data = k;
		err = uv_timer_init(&k->loop, &k->timer);
	}
	if (!err) {
		k->timer_on = true, k->timer.data = k;
		err = uv_timer_start(&k->timer, wk_stats, STATS_MS, STATS_MS);
	}
	if (!err)
		err = media_alloc(&k->m, &k->loop, &w->cfg);
	return err;
}

static int wk_start(struct mwk *k)
{
	sigset_t all, old;
	int err;

	/* signals are the main loop's (uv_signal) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&k->th, NULL, wk_main, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	k->started = true;
	return 0;
}

int mw_default_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

	return n < 1 ? 1 : n > MW_MAX ? MW_MAX : (int)n;
}

int mw_alloc(struct mw **wp, uv_loop_t *loop, struct media *local, const struct media_cfg *cfg,
	     int n)
{
	struct mw *w;
	int err = 0;

	if (!wp || !loop || !local || !cfg || n < 1 || n > MW_MAX)
		return -EINVAL;
	w = mem_zalloc(sizeof(*w), mw_destroy);
	if (!w)
		return -ENOMEM;
	w->loop = loop, w->local = mem_ref(local), w->cfg = *cfg, w->n = n;
	w->nice = cfg->worker_nice;
	w->ev_tail = &w->ev_head;
	pthread_mutex_init(&w->ev_lock, NULL);
	w->wk = calloc((size_t)n, sizeof(*w->wk));
	if (!w->wk || uv_async_init(loop, &w->async, mw_async)) {
		free(w->wk);
		w->wk = NULL;
		mem_deref(w);
		return -ENOMEM;
	}
	w->async.data = mem_ref(w); /* dropped when the handle has closed */
	for (int i = 0; i < n && !err; i++)
		err = wk_init(w, i);
	for (int i = 0; i < n && !err; i++)
		err = wk_start(&w->wk[i]);
	if (err) {
		log_error("leg=- action=media workers failed to start: %s", strerror(-err));
		mw_free(w);
		return err;
	}
	log_info("leg=- action=media workers started: %d", n);
	*wp = w;
	return 0;
}

void mw_free(struct mw *w)
{
	struct mwrec *r, *tmp;

	if (!w || w->closing)
		return;
	w->closing = true;
	for (int i = 0; i < w->n; i++) {
		struct mwk *k = &w->wk[i];
		if (!k->loop_on) /* wk_init never got that far */
			continue;
		if (k->started) {
			cmd_simple(w, i, WC_QUIT, 0, 0);
			pthread_join(k->th, NULL);
		} else { /* a half-made worker (mw_alloc failed): close it here */
			media_free(k->m);
			if (k->timer_on)
				uv_close((uv_handle_t *)&k->timer, wk_closed);
			if (k->async_on)
				uv_close((uv_handle_t *)&k->async, wk_closed);
			uv_run(&k->loop, UV_RUN_DEFAULT);
		}
		k->gone = true;
		uv_loop_close(&k->loop);
	}
	ev_run(w); /* the last recordings' ends */
	HASH_ITER(hh, w->recs, r, tmp)
	{
		HASH_DEL(w->recs, r);
		r->done(-ESHUTDOWN, 0, r->arg);
		free(r);
	}
	uv_close((uv_handle_t *)&w->async, mw_async_closed);
	mem_deref(w);
}

int mw_count(const struct mw *w)
{
	return w ? w->n : 0;
}

int mw_place(const struct mw *w)
{
	int best = 0;

	for (int i = 1; w && i < w->n; i++)
		if (w->wk[i].nlegs < w->wk[best].nlegs)
			best = i;
	return best;
}

int mw_worker_stats(const struct mw *w, int i, struct mw_worker_stats *st)
{
	if (!w || !st || i < 0 || i >= w->n)
		return -EINVAL;
	*st = w->wk[i].st;
	return 0;
}

/* ---- legs ---- */
int mwleg_alloc(struct mwleg **hp, struct mw *w, int i, uint64_t id)
{
	struct mwleg *h;
	struct wcmd *c;
	int fd[2], port;

	if (!hp || !w || i < 0 || i >= w->n)
		return -EINVAL;
	if (w->closing)
		return -ESHUTDOWN;
	port = media_port_take(w->local, fd);
	if (port < 0)
		return port;
	h = calloc(1, sizeof(*h));
	c = cmd_new(WC_LEG_NEW, 0);
	if (!h || !c) {
		free(h), free(c);
		close(fd[0]), close(fd[1]);
		media_port_put(w->local, port);
		return -ENOMEM;
	}
	h->w = mem_ref(w), h->worker = i, h->key = ++w->next_key, h->id = id, h->port = port;
	h->dtmf_pt = -1;
	c->leg = h->key, c->id = id, c->fd[0] = fd[0], c->fd[1] = fd[1], c->port = port;
	HASH_ADD(hh, w->legs, key, sizeof(h->key), h);
	w->wk[i].nlegs++;
	cmd_post(w, i, c);
	*hp = h;
	return 0;
}

void mwleg_free(struct mwleg *h)
{
	struct mw *w;

	if (!h)
		return;
	w = h->w;
	h->lconf = mem_deref(h->lconf); /* the browser's leg and the trunk leave it */
	mleg_free(h->trunk);
	cmd_simple(w, h->worker, WC_LEG_FREE, h->key, 0);
	media_port_put(w->local, h->port);
	HASH_DEL(w->legs, h);
	w->wk[h->worker].nlegs--;
	free(h);
	mem_deref(w);
}

int mwleg_attach(struct mwleg **hp, struct mw *w, int i, uint64_t id, struct mleg *local)
{
	struct mwleg *h;
	int err;

	if (!local)
		return -EINVAL;
	err = mwleg_alloc(&h, w, i, id);
	if (err)
		return err;
	err = mleg_alloc(&h->trunk, w->local, id ^ TRUNK_BIT);
	if (!err)
		err = mleg_set_remote(h->trunk, w->local->cfg.address, h->port, MEDIA_PCMU, -1);
	if (!err)
		err = mwleg_set_remote(h, w->local->cfg.address, mleg_port(h->trunk), MEDIA_PCMU,
				       -1);
	if (!err)
		err = media_conf_alloc(&h->lconf, w->local, id);
	if (!err)
		err = media_conf_add(h->lconf, local, MIXER_TALK, NULL);
	if (!err)
		err = media_conf_add(h->lconf, h->trunk, MIXER_TALK, NULL);
	if (err) {
		mwleg_free(h);
		return err;
	}
	h->local = local;
	*hp = h;
	return 0;
}

int mwleg_port(const struct mwleg *h)
{
	return h ? h->port : -EINVAL;
}

int mwleg_worker(const struct mwleg *h)
{
	return h ? h->worker : -EINVAL;
}

int mwleg_set_remote(struct mwleg *h, const char *addr, int port, enum media_codec codec,
		     int dtmf_pt)
{
	struct wcmd *c;

	int err = h ? media_remote_check(h->w->local, addr, port, codec, dtmf_pt) : -EINVAL;

	if (err)
		return err;
	c = cmd_new(WC_LEG_REMOTE, h->key);
	if (!c)
		return -ENOMEM;
	str_copy(c->addr, addr, sizeof(c->addr));
	c->port = port, c->codec = codec, c->dtmf_pt = dtmf_pt, c->id = h->id;
	h->dtmf_pt = dtmf_pt < 0 ? -1 : dtmf_pt;
	return cmd_post(h->w, h->worker, c);
}

/* pcm: built-in audio, or a mem block this call's reference goes with. */
static int play_post(struct mwleg *h, int16_t *pcm, size_t n, bool loop)
{
	struct wcmd *c = cmd_new(WC_LEG_PLAY, h->key);

	if (!c) {
		if (!media_audio_builtin(pcm, n))
			mem_deref(pcm);
		return -ENOMEM;
	}
	c->pcm = pcm, c->n = n, c->loop = loop, c->id = h->id;
	return cmd_post(h->w, h->worker, c);
}

int mwleg_play(struct mwleg *h, const int16_t *pcm, size_t n, bool loop)
{
	int16_t *copy;

	if (!h || !pcm || !n)
		return -EINVAL;
	if (h->local)
		return mleg_play(h->local, pcm, n, loop);
	if (media_audio_builtin(pcm, n))
		return play_post(h, (int16_t *)pcm, n, loop);
	copy = mem_zalloc(n * sizeof(*pcm), NULL);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, pcm, n * sizeof(*pcm));
	return play_post(h, copy, n, loop);
}

int mwleg_play_ref(struct mwleg *h, int16_t *pcm, size_t n, bool loop)
{
	if (!h || !pcm || !n)
		return -EINVAL;
	if (h->local)
		return mleg_play_ref(h->local, pcm, n, loop);
	return play_post(h, mem_ref(pcm), n, loop);
}

void mwleg_stop(struct mwleg *h)
{
	if (h && h->local)
		mleg_stop(h->local);
	else if (h)
		cmd_simple(h->w, h->worker, WC_LEG_STOP, h->key, 0);
}

int mwleg_send_dtmf(struct mwleg *h, char digit)
{
	struct wcmd *c;
	uint64_t now;

	if (!h || dtmf_char_event(digit) < 0)
		return -EINVAL;
	if (h->local)
		return mleg_send_dtmf(h->local, digit);
	if (h->dtmf_pt < 0)
		return -ENOTSUP; /* the far end offered no telephone-event */
	/* the worker's queue (DTMF_QUEUE digits) as seen from here: each digit
	 * is sent for DTMF_DIGIT_MS after the one before */
	now = uv_now(h->w->loop);
	if (h->dtmf_until < now)
		h->dtmf_until = now;
	if (h->dtmf_until - now >= (uint64_t)DTMF_QUEUE * DTMF_DIGIT_MS)
		return -ENOBUFS;
	c = cmd_new(WC_LEG_DTMF, h->key);
	if (!c)
		return -ENOMEM;
	c->digit = digit, c->id = h->id;
	h->dtmf_until += DTMF_DIGIT_MS;
	return cmd_post(h->w, h->worker, c);
}

/* The worker forwards a kind of event only while someone listens: told
 * when that changes (had: a handler before, has: one now). */
static void listen_post(struct mwleg *h, enum wc_kind kind, bool had, bool has)
{
	struct wcmd *c;

	if (had == has || !(c = cmd_new(kind, h->key)))
		return;
	c->on = has;
	cmd_post(h->w, h->worker, c);
}

void mwleg_set_dtmf_handler(struct mwleg *h, mleg_dtmf_h *fn, void *arg)
{
	bool had = h && h->dtmf_h;

	if (h && h->local)
		mleg_set_dtmf_handler(h->local, fn, arg);
	else if (h)
		h->dtmf_h = fn, h->dtmf_arg = arg, listen_post(h, WC_LEG_ON_DTMF, had, fn != NULL);
}

void mwleg_set_audio_handler(struct mwleg *h, mleg_audio_h *fn, void *arg)
{
	bool had = h && h->audio_h;

	if (h && h->local)
		mleg_set_audio_handler(h->local, fn, arg);
	else if (h)
		h->audio_h = fn, h->audio_arg = arg,
		listen_post(h, WC_LEG_ON_AUDIO, had, fn != NULL);
}

void mwleg_stats(const struct mwleg *h, struct media_stats *st)
{
	if (h && h->local)
		mleg_stats(h->local, st);
	else if (h)
		*st = h->st;
	else
		memset(st, 0, sizeof(*st));
}

/* ---- conferences ---- */
static void mwconf_destroy(void *data)
{
	struct mwconf *c = data;

	cmd_simple(c->w, c->worker, WC_CONF_FREE, 0, c->key);
	mem_deref(c->w);
}

int mwconf_alloc(struct mwconf **cp, struct mw *w, int i, uint64_t id)
{
	struct mwconf *c;

	if (!cp || !w || i < 0 || i >= w->n)
		return -EINVAL;
	if (w->closing)
		return -ESHUTDOWN;
	c = mem_zalloc(sizeof(*c), mwconf_destroy);
	if (!c)
		return -ENOMEM;
	c->w = mem_ref(w), c->worker = i, c->key = ++w->next_key, c->id = id;
	*cp = c;
	return 0;
}

int mwconf_join(struct mwconf *c, struct mwleg *l, enum mixer_mode mode, struct mwleg *target)
{
	struct wcmd *cmd;

	if (!c || !l || mode < MIXER_TALK || mode > MIXER_HOLD)
		return -EINVAL;
	if (l->worker != c->worker || (target && target->worker != c->worker))
		return -EXDEV;
	cmd = cmd_new(WC_CONF_JOIN, l->key);
	if (!cmd)
		return -ENOMEM;
	cmd->conf = c->key, cmd->target = target ? target->key : 0, cmd->mode = mode;
	cmd->id = c->id;
	return cmd_post(c->w, c->worker, cmd);
}

int mwconf_leave(struct mwconf *c, struct mwleg *l)
{
	if (!c || !l)
		return -EINVAL;
	if (l->worker != c->worker)
		return -EXDEV;
	return cmd_simple(c->w, c->worker, WC_CONF_LEAVE, l->key, c->key) ? 0 : -ENOMEM;
}

int mwconf_record_start(struct mwconf *c, struct mwleg *customer, const char *path)
{
	struct wcmd *cmd;

	if (!c || !customer || !path || !*path || strlen(path) >= 1024)
		return -EINVAL;
	if (customer->worker != c->worker)
		return -EXDEV;
	cmd = cmd_new(WC_REC_START, customer->key);
	if (!cmd || !(cmd->path = strdup(path))) {
		free(cmd);
		return -ENOMEM;
	}
	cmd->conf = c->key, cmd->id = c->id;
	return cmd_post(c->w, c->worker, cmd);
}

int mwconf_record_stop(struct mwconf *c, media_record_done_h *done, void *arg)
{
	struct mwrec *r;
	int err;

	if (!c || !done)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->token = ++c->w->next_key, r->done = done, r->arg = arg;
	HASH_ADD(hh, c->w->recs, token, sizeof(r->token), r);
	err = cmd_simple(c->w, c->worker, WC_REC_STOP, r->token, c->key) ? 0 : -ESHUTDOWN;
	if (err) {
		HASH_DEL(c->w->recs, r);
		free(r);
	}
	return err;
}
