/*
 * asr.c — the recogniser's front on the loop: grammars, the job queue, the
 * pool hand-off and the statistics. The engine (asr_ps.c) does the rest.
 *
 * DESIGN
 * - struct asr is refcounted: asr_free drops the caller's reference, and
 *   every job on the pool and every grammar holds one, so a completion or a
 *   grammar released after asr_free still finds its owner. The engine (and
 *   its decoders) is freed when the last reference goes, on the loop.
 * - At most cfg->decoders jobs are on libuv's pool at once (a job holds a
 *   decoder for its whole run, so more would only wait there and take pool
 *   threads from the store and the recorder); the rest wait in a FIFO here,
 *   bounded by queue_max (-EBUSY beyond it: the bot takes its no-match
 *   branch rather than answer late).
 * - Done callbacks never run inside asr_recognize: they run from the pool
 *   job's completion. asr_free cancels waiting jobs at once (-ECANCELED);
 *   a job already on the pool completes later with -ECANCELED.
 * - Grammar text is normalised here (lower case, [a-z0-9'] words, single
 *   spaces), so every engine sees the same words and the result maps back
 *   by exact phrase match (asr_grammar_match).
 */
#define LOG_MODULE "asr"
#include "asr/asr_int.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct asr_job {
	struct asr *a;	       /* a reference */
	struct asr_grammar *g; /* a reference; NULL for a warm-up or free-speech job */
	int16_t *pcm;	       /* copy of the caller's samples */
	size_t n;
	asr_done_h *done;
	asr_text_h *tdone;     /* a free-speech job (asr_transcribe) */
	struct asr_text *text; /* its result */
	void *arg;
	int err;
	struct asr_result res;
	struct asr_job *next;
};

/* cfg->own_threads: the jobs' threads (at SCHED_IDLE) instead of libuv's
 * pool; finished jobs come back to the loop through an async handle. */
struct asr_threads {
	pthread_t th[16];
	unsigned n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct asr_job *todo, *todo_tail, *done;
	bool stop;
	uv_async_t *async;
};

/* Loop thread only; the pool sees a job and the engine state, never this. */
struct asr {
	uv_loop_t *loop;
	const struct asr_engine *eng;	 /* NULL until the engine is allocated */
	void *e;			 /* the engine's state */
	struct asr_job *q_head, *q_tail; /* waiting: not yet on the pool */
	size_t queued, queue_max;
	unsigned inflight, decoders; /* inflight <= decoders, always */
	unsigned next_gid;	     /* grammar ids: never reused, so a decoder's
					record of a dead grammar cannot alias a new one */
	struct asr_stats st;
	bool closing;		 /* asr_free ran: nothing new, completions cancelled */
	struct asr_threads *thr; /* cfg->own_threads, else NULL */
	bool free_speech;
};

static const struct asr_engine *const engines[] = {&asr_engine_ps};

static const struct asr_engine *engine_find(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		if (!strcmp(engines[i]->name, name) && engines[i]->version == ASR_ENGINE_VERSION)
			return engines[i];
	}
	return NULL;
}

/* ---- jobs ---- */
/* Loop thread. Drops the job's references: the grammar, then the owner
 * (possibly the last one: the engine is freed here after asr_free). */
static void job_free(struct asr_job *j)
{
	mem_deref(j->g);
	free(j->pcm);
	free(j->text);
	mem_deref(j->a);
	free(j);
}

static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Pool thread. */
static void job_work(void *arg)
{
	struct asr_job *j = arg;
	struct asr *a = j->a;
	uint64_t t0 = uv_hrtime(), c0 = thread_cpu_us();

	if (j->tdone)
		j->err = a->eng->transcribe(a->e, j->pcm, j->n, j->text);
	else if (!j->g)
		j->err = a->eng->warm(a->e);
	else
		j->err = a->eng->recognize(a->e, j->g, j->pcm, j->n, &j->res);
	if (j->text) {
		j->text->decode_us = (uv_hrtime() - t0) / 1000;
		j->text->cpu_us = thread_cpu_us() - c0;
	}
	j->res.decode_us = (uv_hrtime() - t0) / 1000;
}

static void queue_pump(struct asr *a);

static void job_account(struct asr *a, struct asr_job *j)
{
	if (j->tdone && !j->err)
		a->st.transcribed++;
	if (!j->g)
		return;
	a->st.recognitions++;
	a->st.decode_us_total += j->res.decode_us;
	if (j->err)
		a->st.failed++;
	else if (j->res.intent >= 0 && j->res.confidence >= ASR_CONFIDENCE_MIN)
		a->st.matched++;
}

/* Loop thread: the job's completion. */
static void job_done(void *arg)
{
	struct asr_job *j = arg;
	struct asr *a = j->a;

	a->inflight--;
	job_account(a, j);
	if (j->err && j->err != -ECANCELED)
		log_warn("action=recognize failed: %s", cc_strerror(j->err));
	if (j->tdone)
		j->tdone(a->closing ? -ECANCELED : j->err, a->closing || j->err ? NULL : j->text,
			 j->arg);
	else if (j->done) {
		if (a->closing)
			j->done(-ECANCELED, NULL, j->arg);
		else
			j->done(j->err, j->err ? NULL : &j->res, j->arg);
	}
	/* a still holds j's reference here, whatever done did */
	if (!a->closing)
		queue_pump(a);
	job_free(j);
}

/* ---- own threads (cfg->own_threads) ---- */
static void *thr_main(void *arg)
{
	struct asr_threads *t = arg;
	struct sched_param sp = {0};

	/* The lowest CPU priority there is: it runs when nothing else wants
	 * the core (media, the bot, the store never wait for it). */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp))
		log_warn("action=transcription thread: SCHED_IDLE refused, normal priority");
	pthread_mutex_lock(&t->mu);
	for (;;) {
		struct asr_job *j;
		while (!t->todo && !t->stop)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->stop)
			break;
		j = t->todo;
		t->todo = j->next;
		if (!t->todo)
			t->todo_tail = NULL;
		pthread_mutex_unlock(&t->mu);
		job_work(j);
		pthread_mutex_lock(&t->mu);
		j->next = t->done;
		t->done = j;
		uv_async_send(t->async);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Loop: the finished jobs, oldest first. */
static void thr_async(uv_async_t *h)
{
	struct asr_threads *t = h->data;
	struct asr_job *j, *rev = NULL;

	pthread_mutex_lock(&t->mu);
	j = t->done;
	t->done = NULL;
	pthread_mutex_unlock(&t->mu);
	while (j) {
		struct asr_job *next = j->next;
		j->next = rev;
		rev = j;
		j = next;
	}
	while (rev) {
		struct asr_job *next = rev->next;
		rev->next = NULL;
		job_done(rev);
		rev = next;
	}
}

static void thr_async_closed(uv_handle_t *h)
{
	free(h);
}

/* No job is queued or running (each holds a reference on the owner). */
static void thr_stop(struct asr_threads *t)
{
	struct sched_param sp = {0};

	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	/* The loop now waits for the utterance being decoded: let it finish
	 * at normal priority, not only on idle CPU (best effort). */
	for (unsigned i = 0; i < t->n; i++)
		pthread_setschedparam(t->th[i], SCHED_OTHER, &sp);
	for (unsigned i = 0; i < t->n; i++)
		pthread_join(t->th[i], NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	uv_close((uv_handle_t *)t->async, thr_async_closed);
	free(t);
}

static int thr_start(struct asr *a)
{
	struct asr_threads *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->async = calloc(1, sizeof(*t->async));
	if (!t->async || uv_async_init(a->loop, t->async, thr_async)) {
		free(t->async);
		free(t);
		return -ENOMEM;
	}
	t->async->data = t;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	a->thr = t;
	for (; t->n < a->decoders; t->n++) {
		if (pthread_create(&t->th[t->n], NULL, thr_main, t))
			return -EAGAIN;
	}
	return 0;
}

/* To the pool or to the own threads; done later on the loop. */
static int job_submit(struct asr *a, struct asr_job *j)
{
	struct asr_threads *t = a->thr;

	if (!t)
		return work_submit(a->loop, job_work, job_done, j);
	pthread_mutex_lock(&t->mu);
	if (t->todo_tail)
		t->todo_tail->next = j;
	else
		t->todo = j;
	t->todo_tail = j;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* Moves waiting jobs to the pool while a decoder is free. */
static void queue_pump(struct asr *a)
{
	while (a->q_head && a->inflight < a->decoders) {
		struct asr_job *j = a->q_head;
		a->q_head = j->next;
		if (!a->q_head)
			a->q_tail = NULL;
		a->queued--;
		j->next = NULL;
		a->inflight++;
		if (job_submit(a, j)) {
			j->err = -ENOMEM;
			job_done(j); /* on the loop, later than asr_recognize */
		}
	}
}

/* Straight to the pool when a decoder is free, else into the FIFO; -EBUSY
 * when the FIFO is full. Takes a reference on a for the job. */
static int job_enqueue(struct asr *a, struct asr_job *j)
{
	if (a->queued >= a->queue_max && a->inflight >= a->decoders)
		return -EBUSY;
	j->a = mem_ref(a);
	if (a->inflight < a->decoders) {
		if (job_submit(a, j)) {
			j->a = mem_deref(j->a);
			return -ENOMEM;
		}
		a->inflight++;
		return 0;
	}
	if (a->q_tail)
		a->q_tail->next = j;
	else
		a->q_head = j;
	a->q_tail = j;
	a->queued++;
	if (a->queued > a->st.queued_max)
		a->st.queued_max = a->queued;
	return 0;
}

int asr_recognize(struct asr *a, struct asr_grammar *g, const int16_t *pcm, size_t n,
		  asr_done_h *done, void *arg)
{
	struct asr_job *j;
	int err;

	if (!a || !g || g->owner != a || !pcm || !n || n > (size_t)ASR_RATE * ASR_MAX_SECONDS ||
	    !done || a->closing)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->pcm = malloc(n * sizeof(*pcm));
	if (!j->pcm) {
		free(j);
		return -ENOMEM;
	}
	memcpy(j->pcm, pcm, n * sizeof(*pcm));
	j->n = n, j->done = done, j->arg = arg;
	j->res.intent = -1;
	j->g = mem_ref(g);
	err = job_enqueue(a, j);
	if (err) {
		mem_deref(j->g);
		free(j->pcm);
		free(j);
	}
	return err;
}

int asr_transcribe(struct asr *a, const int16_t *pcm, size_t n, asr_text_h *done, void *arg)
{
	struct asr_job *j;
	int err;

	if (!a || !pcm || !n || n > (size_t)ASR_RATE * ASR_TEXT_SECONDS || !done || a->closing ||
	    !a->free_speech || !a->eng->transcribe)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->pcm = malloc(n * sizeof(*pcm));
	j->text = calloc(1, sizeof(*j->text));
	if (!j->pcm || !j->text) {
		free(j->pcm);
		free(j->text);
		free(j);
		return -ENOMEM;
	}
	memcpy(j->pcm, pcm, n * sizeof(*pcm));
	j->n = n, j->tdone = done, j->arg = arg;
	err = job_enqueue(a, j);
	if (err) {
		free(j->pcm);
		free(j->text);
		free(j);
	}
	return err;
}

/* One job without a grammar per decoder: each loads a fresh decoder. */
int asr_warm(struct asr *a)
{
	int err = 0;

	if (!a || a->closing)
		return -EINVAL;
	for (unsigned i = 0; i < a->decoders && !err; i++) {
		struct asr_job *j = calloc(1, sizeof(*j));
		if (!j)
			return -ENOMEM;
		err = job_enqueue(a, j);
		if (err)
			free(j);
	}
	return err;
}

/* ---- the recogniser ---- */
/* The last reference: no job is on the pool (each holds one). */
static void asr_destroy(void *data)
{
	struct asr *a = data;

	if (a->thr)
		thr_stop(a->thr);
	if (a->eng)
		a->eng->free(a->e);
}

static int cfg_check(const struct asr_cfg *cfg, const struct asr_engine **engp, char *err,
		     size_t errsz)
{
	const char *name = cfg && cfg->engine[0] ? cfg->engine : "pocketsphinx";

	if (cfg && (cfg->decoders < 0 || cfg->decoders > 16)) {
		snprintf(err, errsz, "decoders must be 1..16 (0 = 2), not %d", cfg->decoders);
		return -EINVAL;
	}
	if (cfg && (cfg->queue_max < 0 || cfg->queue_max > 10000)) {
		snprintf(err, errsz, "queue_max must be 0..10000, not %d", cfg->queue_max);
		return -EINVAL;
	}
	*engp = engine_find(name);
	if (!*engp) {
		snprintf(err, errsz, "unknown speech engine '%s'", name);
		return -EINVAL;
	}
	return 0;
}

int asr_alloc(struct asr **ap, uv_loop_t *loop, const struct asr_cfg *cfg, char *err, size_t errsz)
{
	static const struct asr_cfg none;
	const struct asr_engine *eng;
	struct asr *a;
	int rc;

	if (!ap || !loop)
		return -EINVAL;
	rc = cfg_check(cfg, &eng, err, errsz);
	if (rc)
		return rc;
	if (!cfg)
		cfg = &none;
	a = mem_zalloc(sizeof(*a), asr_destroy);
	if (!a)
		return -ENOMEM;
	a->loop = loop;
	a->decoders = cfg->decoders ? (unsigned)cfg->decoders : 2;
	a->queue_max = cfg->queue_max ? (size_t)cfg->queue_max : ASR_QUEUE_MAX;
	struct asr_cfg c = *cfg;
	c.decoders = (int)a->decoders;
	rc = eng->alloc(&a->e, &c, err, errsz);
	if (rc) {
		mem_deref(a);
		return rc;
	}
	a->eng = eng;
	a->free_speech = cfg->free_speech;
	if (cfg->own_threads && (rc = thr_start(a))) {
		snprintf(err, errsz, "the recogniser's threads did not start");
		mem_deref(a);
		return rc;
	}
	*ap = a;
	return 0;
}

void asr_free(struct asr *a)
{
	struct asr_job *j, *next;

	if (!a || a->closing)
		return;
	a->closing = true;
	j = a->q_head;
	a->q_head = a->q_tail = NULL;
	a->queued = 0;
	for (; j; j = next) {
		next = j->next;
		if (j->tdone)
			j->tdone(-ECANCELED, NULL, j->arg);
		else if (j->done)
			j->done(-ECANCELED, NULL, j->arg);
		job_free(j);
	}
	mem_deref(a);
}

void asr_stats(const struct asr *a, struct asr_stats *st)
{
	*st = a->st;
}

/* ---- grammars ---- */

/* Lower-cases and splits on anything but [a-z0-9']: "Where's my CASE?" ->
 * "where's my case". Returns the length (0 = no words). */
static size_t phrase_normalise(const char *in, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;

	for (; *in && o + 2 < size; in++) {
		int c = tolower((unsigned char)*in);
		if (isalnum(c) || c == '\'') {
			if (space && o)
				out[o++] = ' ';
			out[o++] = (char)c;
			space = false;
		} else {
			space = true;
		}
	}
	out[o] = '\0';
	return o;
}

/* Every word of a normalised phrase must be in the engine's dictionary;
 * err names the intent and the word. */
static int phrase_words_check(struct asr *a, const char *intent, const char *phrase, char *err,
			      size_t errsz)
{
	char word[ASR_PHRASE_MAX + 1];

	for (const char *p = phrase; *p;) {
		size_t l = strcspn(p, " ");
		int rc;
		memcpy(word, p, l);
		word[l] = '\0';
		rc = a->eng->word_check(a->e, word);
		if (rc == -ENOENT)
			snprintf(err, errsz, "intent '%s': the word '%s' is not in the dictionary",
				 intent, word);
		else if (rc)
			snprintf(err, errsz, "intent '%s': the dictionary failed: %s", intent,
				 cc_strerror(rc));
		if (rc)
			return rc == -ENOENT ? -EINVAL : rc;
		p += l;
		p += *p == ' ';
	}
	return 0;
}

/* Checks one intent definition and copies its normalised phrases. */
static int intent_fill(struct asr *a, struct asr_phrase_set *ps, const struct asr_intent_def *d,
		       char *err, size_t errsz)
{
	char buf[ASR_PHRASE_MAX + 2];

	if (!d->name || !d->name[0] || strlen(d->name) >= sizeof(ps->name) || !d->n_phrases ||
	    d->n_phrases > ASR_MAX_PHRASES || !d->phrases) {
		snprintf(err, errsz, "intent %s%s%s: needs a name (<64) and 1..%d phrases",
			 d->name ? "'" : "", d->name ? d->name : "without a name",
			 d->name ? "'" : "", ASR_MAX_PHRASES);
		return -EINVAL;
	}
	str_copy(ps->name, d->name, sizeof(ps->name));
	ps->phrases = calloc(d->n_phrases, sizeof(*ps->phrases));
	if (!ps->phrases)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_phrases; i++) {
		const char *p = d->phrases[i];
		if (!p || strlen(p) > ASR_PHRASE_MAX || !phrase_normalise(p, buf, sizeof(buf))) {
			snprintf(err, errsz, "intent '%s': phrase %zu is empty or longer than %d",
				 d->name, i + 1, ASR_PHRASE_MAX);
			return -EINVAL;
		}
		int rc = phrase_words_check(a, d->name, buf, err, errsz);
		if (rc)
			return rc;
		ps->phrases[i] = strdup(buf);
		if (!ps->phrases[i])
			return -ENOMEM;
		ps->n = i + 1;
	}
	return 0;
}

/* The last reference (no job holds g): the engine forgets it, then g drops
 * its reference on the owner. */
static void grammar_destroy(void *data)
{
	struct asr_grammar *g = data;

	if (g->eng)
		g->owner->eng->grammar_release(g->owner->e, g);
	for (size_t i = 0; g->intents && i < g->n; i++) {
		for (size_t k = 0; k < g->intents[i].n; k++)
			free(g->intents[i].phrases[k]);
		free(g->intents[i].phrases);
	}
	free(g->intents);
	mem_deref(g->owner);
}

int asr_grammar_alloc(struct asr *a, struct asr_grammar **gp, const struct asr_intent_def *defs,
		      size_t n, char *err, size_t errsz)
{
	struct asr_grammar *g;
	int rc = 0;

	if (!a || !gp || a->closing)
		return -EINVAL;
	if (!defs || !n || n > ASR_MAX_INTENTS) {
		snprintf(err, errsz, "a grammar needs 1..%d intents", ASR_MAX_INTENTS);
		return -EINVAL;
	}
	g = mem_zalloc(sizeof(*g), grammar_destroy);
	if (!g)
		return -ENOMEM;
	g->owner = mem_ref(a);
	g->id = ++a->next_gid;
	g->intents = calloc(n, sizeof(*g->intents));
	if (!g->intents)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		g->n = i + 1;
		rc = intent_fill(a, &g->intents[i], &defs[i], err, errsz);
	}
	if (!rc)
		rc = a->eng->grammar_compile(a->e, g);
	if (rc == -ENOMEM)
		snprintf(err, errsz, "out of memory");
	if (rc) {
		mem_deref(g);
		return rc;
	}
	*gp = g;
	return 0;
}

int asr_grammar_match(const struct asr_grammar *g, const char *text)
{
	for (size_t i = 0; i < g->n; i++) {
		for (size_t k = 0; k < g->intents[i].n; k++) {
			if (!strcmp(g->intents[i].phrases[k], text))
				return (int)i;
		}
	}
	return -1;
}
