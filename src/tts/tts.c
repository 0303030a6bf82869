/*
 * tts.c — espeak-ng on the worker pool, resampled to 8 kHz with speexdsp,
 * cached by (voice, text) with a byte budget and LRU eviction.
 *
 * DESIGN
 * - espeak-ng keeps global state, so one render runs at a time in the whole
 *   process (a mutex around every espeak call, and one job in flight per
 *   struct tts). Requests queue in arrival order; a request for a key that
 *   is queued or rendering joins it instead of rendering twice.
 * - Output: espeak's own rate (22,050 Hz) resampled to 8 kHz once, at
 *   render time, so playback costs nothing more than a WAV prompt.
 * - Completion is always deferred: cache hits are delivered from a
 *   uv_async callback, renders from the pool job's completion. An entry with
 *   deliveries pending is pinned and never evicted under them.
 * - Errors (an unknown voice) are delivered and not cached.
 */
#define LOG_MODULE "tts"
#include "tts/tts.h"

#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct waiter {
	tts_done_h *done;
	void *arg;
	struct waiter *next;
};

struct entry {
	char *key; /* voice \x1f text */
	char voice[33];
	const char *text; /* inside key */
	int16_t *pcm;
	size_t n;
	int err;
	bool ready;		   /* rendered (or failed) */
	unsigned pins;		   /* deliveries pending */
	struct waiter *waiters;	   /* before ready: who waits for the render */
	struct entry *prev, *next; /* LRU (ready, cached) */
	struct entry *qnext;	   /* render queue */
	struct tts *owner;
	UT_hash_handle hh;
};

struct delivery {
	struct entry *e;
	struct waiter w;
	struct delivery *next;
};

struct tts {
	uv_loop_t *loop;
	char voice[33];
	size_t budget, bytes;
	struct entry *map;
	struct entry *lru_head, *lru_tail; /* head = most recent */
	struct entry *q_head, *q_tail;
	struct entry *job; /* on the pool now */
	struct delivery *ready, *ready_tail;
	uv_async_t async;
	struct tts_stats st;
	bool closing;
};

/* ---- espeak-ng, process-wide ---- */
static pthread_mutex_t es_lock = PTHREAD_MUTEX_INITIALIZER;
static int es_rate; /* 0 = not initialised, <0 = failed */

struct sbuf {
	int16_t *s;
	size_t n, cap;
	bool oom;
};

static int es_collect(short *wav, int n, espeak_EVENT *ev)
{
	struct sbuf *b = ev ? ev->user_data : NULL;

	if (!b || !wav || n <= 0)
		return 0;
	if (b->n + (size_t)n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32768;
		int16_t *ns;
		while (cap < b->n + (size_t)n)
			cap *= 2;
		ns = realloc(b->s, cap * sizeof(*ns));
		if (!ns) {
			b->oom = true;
			return 1; /* stop */
		}
		b->s = ns, b->cap = cap;
	}
	memcpy(b->s + b->n, wav, (size_t)n * sizeof(*wav));
	b->n += (size_t)n;
	return 0;
}

static int resample(const int16_t *in, size_t n, int rate, int16_t **out, size_t *on)
{
	SpeexResamplerState *rs;
	spx_uint32_t ilen = (spx_uint32_t)n, olen = (spx_uint32_t)(n * 8000 / (size_t)rate + 64);
	int err;

	*out = mem_zalloc(olen * sizeof(**out), NULL);
	if (!*out)
		return -ENOMEM;
	rs = speex_resampler_init(1, (spx_uint32_t)rate, 8000, 5, &err);
	if (!rs) {
		*out = mem_deref(*out);
		return -ENOMEM;
	}
	speex_resampler_skip_zeros(rs);
	speex_resampler_process_int(rs, 0, in, &ilen, *out, &olen);
	speex_resampler_destroy(rs);
	*on = olen;
	return 0;
}

/* Pool thread. */
static void render_work(void *arg)
{
	struct entry *e = arg;
	struct sbuf b = {0};

	pthread_mutex_lock(&es_lock);
	if (!es_rate) {
		es_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0);
		if (es_rate > 0)
			espeak_SetSynthCallback(es_collect);
		else
			es_rate = -1;
	}
	if (es_rate < 0)
		e->err = -EIO;
	else if (espeak_SetVoiceByName(e->voice) != EE_OK)
		e->err = -ENOENT;
	else if (espeak_Synth(e->text, strlen(e->text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
			      NULL, &b) != EE_OK)
		e->err = -EIO;
	else
		espeak_Synchronize();
	pthread_mutex_unlock(&es_lock);
	if (!e->err && b.oom)
		e->err = -ENOMEM;
	if (!e->err && !b.n)
		e->err = -EIO;
	if (!e->err)
		e->err = resample(b.s, b.n, es_rate, &e->pcm, &e->n);
	free(b.s);
}

/* ---- the cache ---- */
static void lru_unlink(struct tts *t, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else if (t->lru_head == e)
		t->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (t->lru_tail == e)
		t->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_front(struct tts *t, struct entry *e)
{
	lru_unlink(t, e);
	e->next = t->lru_head;
	if (t->lru_head)
		t->lru_head->prev = e;
	t->lru_head = e;
	if (!t->lru_tail)
		t->lru_tail = e;
}

static void entry_free(struct tts *t, struct entry *e)
{
	HASH_DEL(t->map, e);
	lru_unlink(t, e);
	if (e->ready && !e->err)
		t->bytes -= e->n * sizeof(*e->pcm);
	mem_deref(e->pcm);
	free(e->key);
	free(e);
}

static void evict(struct tts *t)
{
	struct entry *e = t->lru_tail, *prev;

	for (; e && t->bytes > t->budget; e = prev) {
		prev = e->prev;
		if (!e->pins)
			entry_free(t, e);
	}
}

static void deliver(struct tts *t, struct entry *e, struct waiter *w)
{
	if (t->closing)
		w->done(-ECANCELED, NULL, 0, w->arg);
	else
		w->done(e->err, e->err ? NULL : e->pcm, e->err ? 0 : e->n, w->arg);
}

static void queue_next(struct tts *t);

static void async_closed(uv_handle_t *h)
{
	free(h->data);
}

static void render_done(void *arg)
{
	struct entry *e = arg;
	struct tts *t = e->owner;
	struct waiter *w, *next;

	e->ready = true;
	t->job = NULL;
	t->st.renders++;
	if (!e->err) {
		t->bytes += e->n * sizeof(*e->pcm);
		lru_front(t, e);
	} else {
		log_warn("action=render failed voice=%s: %s", e->voice, cc_strerror(e->err));
	}
	e->pins++;
	for (w = e->waiters; w; w = next) {
		next = w->next;
		deliver(t, e, w);
		free(w);
	}
	e->waiters = NULL;
	e->pins--;
	if (e->err || t->closing)
		entry_free(t, e);
	else
		evict(t);
	if (t->closing && !t->job && !t->map) {
		uv_close((uv_handle_t *)&t->async, async_closed);
		return;
	}
	queue_next(t);
}

static void queue_next(struct tts *t)
{
	struct entry *e = t->q_head;

	if (t->job || !e)
		return;
	t->q_head = e->qnext;
	if (!t->q_head)
		t->q_tail = NULL;
	e->qnext = NULL;
	t->job = e;
	if (work_submit(t->loop, render_work, render_done, e)) {
		e->err = -ENOMEM;
		render_done(e);
	}
}

static void async_cb(uv_async_t *a)
{
	struct tts *t = a->data;
	struct delivery *d = t->ready, *next;

	t->ready = t->ready_tail = NULL;
	for (; d; d = next) {
		next = d->next;
		deliver(t, d->e, &d->w);
		d->e->pins--;
		free(d);
	}
	evict(t);
}

static bool voice_ok(const char *v)
{
	size_t n = strlen(v);

	return n >= 1 && n <= 32 && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_+-") == n;
}

int tts_render(struct tts *t, const char *text, const char *voice, tts_done_h *done, void *arg)
{
	const char *v = voice && voice[0] ? voice : t->voice;
	size_t tl = text ? strlen(text) : 0, kl;
	struct entry *e = NULL;
	char *key;

	if (!tl || tl > TTS_TEXT_MAX || !voice_ok(v) || !done || t->closing)
		return -EINVAL;
	kl = strlen(v) + 1 + tl;
	key = malloc(kl + 1);
	if (!key)
		return -ENOMEM;
	snprintf(key, kl + 1, "%s\x1f%s", v, text);
	HASH_FIND_STR(t->map, key, e);
	if (e && e->ready) { /* a hit: deliver on the next loop turn */
		struct delivery *d = calloc(1, sizeof(*d));
		free(key);
		if (!d)
			return -ENOMEM;
		d->e = e, d->w.done = done, d->w.arg = arg;
		if (t->ready_tail)
			t->ready_tail->next = d;
		else
			t->ready = d;
		t->ready_tail = d;
		e->pins++;
		lru_front(t, e);
		t->st.hits++;
		uv_async_send(&t->async);
		return 0;
	}
	{
		struct waiter *w = calloc(1, sizeof(*w));
		if (!w) {
			free(key);
			return -ENOMEM;
		}
		w->done = done, w->arg = arg;
		if (e) { /* queued or rendering: join it */
			free(key);
			w->next = e->waiters;
			e->waiters = w;
			t->st.waits++;
			return 0;
		}
		e = calloc(1, sizeof(*e));
		if (!e) {
			free(w);
			free(key);
			return -ENOMEM;
		}
		e->key = key;
		e->owner = t;
		e->text = key + strlen(v) + 1;
		str_copy(e->voice, v, sizeof(e->voice));
		e->waiters = w;
		HASH_ADD_KEYPTR(hh, t->map, e->key, strlen(e->key), e);
	}
	if (t->q_tail)
		t->q_tail->qnext = e;
	else
		t->q_head = e;
	t->q_tail = e;
	queue_next(t);
	return 0;
}

int tts_alloc(struct tts **tp, uv_loop_t *loop, const char *voice, size_t cache_bytes)
{
	struct tts *t;

	if (!voice_ok(voice))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->budget = cache_bytes;
	str_copy(t->voice, voice, sizeof(t->voice));
	if (uv_async_init(loop, &t->async, async_cb)) {
		free(t);
		return -ENOMEM;
	}
	t->async.data = t;
	*tp = t;
	return 0;
}

void tts_free(struct tts *t)
{
	struct entry *e, *tmp;

	if (!t)
		return;
	t->closing = true;
	async_cb(&t->async); /* hits still waiting: cancelled */
	/* queued requests: cancelled now; the render on the pool finishes later */
	for (e = t->q_head; e; e = e->qnext) {
		for (struct waiter *w = e->waiters, *next; w; w = next) {
			next = w->next;
			w->done(-ECANCELED, NULL, 0, w->arg);
			free(w);
		}
		e->waiters = NULL;
	}
	t->q_head = t->q_tail = NULL;
	HASH_ITER(hh, t->map, e, tmp)
	{
		if (e != t->job)
			entry_free(t, e);
	}
	if (!t->job)
		uv_close((uv_handle_t *)&t->async, async_closed);
}

void tts_stats(const struct tts *t, struct tts_stats *st)
{
	*st = t->st;
	st->cached_bytes = t->bytes;
	st->entries = HASH_COUNT(t->map);
}
