/*
 * transcript.c — transcription jobs on the loop: the policy, the queue of
 * jobs (rows of the store), one job at a time through the recogniser's
 * free-speech pool, the result redacted, stored and announced.
 *
 * DESIGN
 * - The recogniser here is a struct asr of its own (asr.h), made with
 *   free_speech (the general model mixed with the domain model built at
 *   start from the shipped corpus and the site's flows) and own_threads
 *   (cfg->decoders threads at SCHED_IDLE): transcripts use no thread of
 *   libuv's pool but the short reads and writes of the audio, and only
 *   idle CPU. Nothing of the bot's recogniser is shared.
 * - A job: its row goes running; the recording is read and cut on the pool
 *   (audio.c); every utterance is handed to the recogniser at once, which
 *   keeps them in its FIFO and runs `decoders` at a time; when the last is
 *   back the utterances are put in time order, redacted (redact.c), and the
 *   row goes done with them and an activity entry in one transaction
 *   (routing_transcript_done). With redaction on and something redacted,
 *   the redacted recording is written first.
 * - A restart resumes: the rows queued or running come back in the
 *   snapshot and are queued again (a job is idempotent).
 * - The policy: a percent per queue (0 = the default row). A call is taken
 *   when a hash of its number mod 100 is under its queue's percent, so the
 *   sample is spread and repeatable.
 */
#define LOG_MODULE "transcript"
#include "transcript/transcript_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tjob {
	int64_t ix_id;
	char number[ST_NUMBER];
	char reason[12];
	char actor[ST_NAME];
	int64_t created_at;
	struct tjob *next;
};

struct transcript {
	uv_loop_t *loop;
	struct store *st;
	struct routing *r;
	struct asr *asr;
	struct transcript_cfg cfg;
	struct tjob *head, *tail, *cur;
	size_t queued;
	struct tr_audio *au; /* the running job's */
	size_t segs_left;
	struct st_transcript_policy *policy;
	size_t n_policy;
	struct transcript_stats stats;
	bool closing;
	unsigned busy; /* pool work and store writes in flight */
};

/* After transcript_free: the last completion frees what is left. */
static void tr_maybe_destroy(struct transcript *t)
{
	if (!t->closing || t->busy || t->segs_left)
		return;
	free(t->cur);
	tr_audio_free(t->au);
	free(t->policy);
	free(t);
}

/* ---- the job's row ---- */
static void row_write(struct transcript *t, const struct tjob *j, const char *status,
		      const char *error)
{
	struct store_op op = {.kind = STORE_OP_TRANSCRIPT_SET};
	struct st_transcript *x = &op.u.transcript;

	x->interaction_id = j->ix_id;
	str_copy(x->status, status, sizeof(x->status));
	str_copy(x->engine, TRANSCRIPT_ENGINE, sizeof(x->engine));
	str_copy(x->reason, j->reason, sizeof(x->reason));
	str_copy(x->requested_by, j->actor, sizeof(x->requested_by));
	str_copy(x->error, error ? error : "", sizeof(x->error));
	x->created_at = j->created_at;
	x->updated_at = time_now_ms();
	if (store_write(t->st, &op, 1, NULL, NULL))
		log_error("interaction=%s action=transcript %s not stored", j->number, status);
}

static void job_next(struct transcript *t);

static void job_end(struct transcript *t)
{
	free(t->cur);
	t->cur = NULL;
	tr_audio_free(t->au);
	t->au = NULL;
	t->queued--;
	job_next(t);
}

static void job_fail(struct transcript *t, const char *why)
{
	struct tjob *j = t->cur;
	struct st_transcript x = {.interaction_id = j->ix_id};
	char text[256];

	log_warn("interaction=%s action=transcript failed: %s", j->number, why);
	str_copy(x.status, "failed", sizeof(x.status));
	str_copy(x.engine, TRANSCRIPT_ENGINE, sizeof(x.engine));
	str_copy(x.reason, j->reason, sizeof(x.reason));
	str_copy(x.requested_by, j->actor, sizeof(x.requested_by));
	str_copy(x.error, why, sizeof(x.error));
	x.created_at = j->created_at;
	x.updated_at = time_now_ms();
	snprintf(text, sizeof(text), "Transcript failed: %s", why);
	if (routing_transcript_done(t->r, &x, text))
		log_error("interaction=%s action=transcript failure not stored", j->number);
	t->stats.jobs_failed++;
	job_end(t);
}

/* ---- the result ---- */
struct result {
	json_t *utts;
	char *text; /* every word, for the search */
	size_t len, cap;
	size_t items, n_utt[2];
	uint64_t cpu_us;
};

static int text_add(struct result *res, const char *w)
{
	size_t n = strlen(w);

	if (res->len + n + 2 > res->cap) {
		size_t nc = res->cap ? res->cap * 2 : 1024;
		char *nt;
		while (nc < res->len + n + 2)
			nc *= 2;
		nt = realloc(res->text, nc);
		if (!nt)
			return -ENOMEM;
		res->text = nt, res->cap = nc;
	}
	if (res->len)
		res->text[res->len++] = ' ';
	memcpy(res->text + res->len, w, n + 1);
	res->len += n;
	return 0;
}

/* Adds a span to redact in the copy (the words' times within the call). */
static int span_add(struct tr_audio *au, uint32_t from, uint32_t to)
{
	struct tr_span *ns = realloc(au->spans, (au->n_spans + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	au->spans = ns;
	au->spans[au->n_spans].from_ms = from;
	au->spans[au->n_spans++].to_ms = to;
	return 0;
}

/* One utterance into the result: its words, redacted, as one text. */
static int utt_add(struct transcript *t, struct result *res, const struct tr_seg *s)
{
	const char *w[ASR_WORDS_MAX];
	bool red[ASR_WORDS_MAX];
	char line[ASR_WORDS_MAX * (ASR_WORD_MAX + 1) + 1] = "";
	uint32_t base = (uint32_t)(s->s0 * 1000 / TR_RATE);
	size_t n = s->res.n_words, o = 0;
	json_t *u;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		w[i] = s->res.words[i].w;
	if (t->cfg.redact)
		res->items += transcript_redact_mark(w, n, red);
	else
		memset(red, 0, sizeof(red));
	for (size_t i = 0; i < n && !rc; i++) {
		bool first = !red[i] || i == 0 || !red[i - 1];
		const char *out = red[i] ? TRANSCRIPT_REDACTED : w[i];
		if (red[i])
			rc = span_add(t->au, base + s->res.words[i].start_ms,
				      base + s->res.words[i].end_ms);
		if (!first)
			continue; /* a run of redacted words is one [redacted] */
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s", o ? " " : "", out);
		if (!red[i])
			rc = text_add(res, out);
	}
	if (rc || !n)
		return rc;
	u = json_pack("{s:s,s:I,s:I,s:s}", "channel", s->ch ? "agent" : "customer", "start_ms",
		      (json_int_t)(base + s->res.words[0].start_ms), "end_ms",
		      (json_int_t)(base + s->res.words[n - 1].end_ms), "text", line);
	if (!u || json_array_append_new(res->utts, u))
		return -ENOMEM;
	res->n_utt[s->ch]++;
	return 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct tr_seg *x = a, *y = b;

	if (x->s0 != y->s0)
		return x->s0 < y->s0 ? -1 : 1;
	return x->ch - y->ch;
}

static void job_store(struct transcript *t, struct result *res)
{
	struct tjob *j = t->cur;
	struct st_transcript x = {.interaction_id = j->ix_id};
	char text[320];
	char *json = json_dumps(res->utts, JSON_COMPACT);

	if (!json) {
		job_fail(t, "out of memory");
		return;
	}
	str_copy(x.status, "done", sizeof(x.status));
	str_copy(x.engine, TRANSCRIPT_ENGINE, sizeof(x.engine));
	str_copy(x.reason, j->reason, sizeof(x.reason));
	str_copy(x.requested_by, j->actor, sizeof(x.requested_by));
	x.redacted = (int)res->items;
	x.utterances = json;
	x.text = res->text ? res->text : "";
	x.audio_ms = (int64_t)(t->au->n * 1000 / TR_RATE);
	x.decode_ms = (int64_t)(res->cpu_us / 1000);
	x.created_at = j->created_at;
	x.updated_at = time_now_ms();
	snprintf(text, sizeof(text),
		 "Transcript: %zu utterances (customer %zu, agent %zu)%s%s — "
		 "/api/v1/interactions/%s/transcript",
		 res->n_utt[0] + res->n_utt[1], res->n_utt[0], res->n_utt[1],
		 res->items ? ", personal data redacted" : "", "", j->number);
	if (routing_transcript_done(t->r, &x, text)) {
		free(json);
		job_fail(t, "the transcript could not be stored");
		return;
	}
	log_info("interaction=%s action=transcript done utterances=%zu redacted=%zu audio_ms=%lld "
		 "cpu_ms=%lld",
		 j->number, res->n_utt[0] + res->n_utt[1], res->items, (long long)x.audio_ms,
		 (long long)x.decode_ms);
	t->stats.jobs_done++;
	t->stats.audio_ms += (uint64_t)x.audio_ms;
	t->stats.cpu_ms += (uint64_t)x.decode_ms;
	free(json);
	job_end(t);
}

struct redact_work {
	struct transcript *t;
	struct result res;
};

static void redact_work(void *arg)
{
	struct redact_work *w = arg;

	tr_audio_redact(w->t->au);
}

static void redact_done(void *arg)
{
	struct redact_work *w = arg;
	struct transcript *t = w->t;

	t->busy--;
	if (t->closing)
		tr_maybe_destroy(t);
	else if (t->au->err)
		job_fail(t, t->au->errmsg);
	else
		job_store(t, &w->res);
	json_decref(w->res.utts);
	free(w->res.text);
	free(w);
}

/* Every utterance is back: the result, then the redacted copy if needed. */
static void job_finish(struct transcript *t)
{
	struct redact_work *w = calloc(1, sizeof(*w));
	struct tr_audio *au = t->au;
	int rc = w && (w->res.utts = json_array()) ? 0 : -ENOMEM;

	if (au->n_segs) /* a recording with no voice has none (segs NULL) */
		qsort(au->segs, au->n_segs, sizeof(*au->segs), seg_cmp);
	for (size_t i = 0; i < au->n_segs && !rc; i++) {
		if (au->segs[i].err)
			continue; /* one utterance lost is not the whole call */
		w->res.cpu_us += au->segs[i].res.cpu_us;
		rc = utt_add(t, &w->res, &au->segs[i]);
		t->stats.utterances++;
	}
	if (!rc && au->n_spans) {
		w->t = t;
		if (!work_submit(t->loop, redact_work, redact_done, w)) {
			t->busy++;
			return;
		}
		rc = -ENOMEM;
	}
	if (rc)
		job_fail(t, "out of memory");
	else
		job_store(t, &w->res);
	if (w) {
		json_decref(w->res.utts);
		free(w->res.text);
		free(w);
	}
}

static void seg_done(int err, const struct asr_text *res, void *arg)
{
	struct tr_seg *s = arg;
	struct transcript *t = s->t;

	s->done = true;
	s->err = err;
	if (res)
		s->res = *res;
	if (err && err != -ECANCELED)
		log_warn("action=utterance not transcribed: %s", cc_strerror(err));
	t->segs_left--;
	if (t->closing)
		tr_maybe_destroy(t);
	else if (!t->segs_left)
		job_finish(t);
}

/* ---- the audio ---- */
static void load_work(void *arg)
{
	tr_audio_load(arg);
}

static void load_done(void *arg)
{
	struct tr_audio *au = arg;
	struct transcript *t = au->owner;

	t->busy--;
	if (t->closing) {
		tr_maybe_destroy(t);
		return;
	}
	if (au->err) {
		job_fail(t, au->errmsg);
		return;
	}
	t->segs_left = au->n_segs;
	if (!au->n_segs) {
		job_finish(t);
		return;
	}
	for (size_t i = 0; i < au->n_segs; i++) {
		struct tr_seg *s = &au->segs[i];
		s->t = t;
		if (asr_transcribe(t->asr, au->ch[s->ch] + s->s0, s->s1 - s->s0, seg_done, s)) {
			s->err = -EIO;
			s->done = true;
			t->segs_left--;
		}
	}
	if (!t->segs_left)
		job_finish(t);
}

/* ---- the queue ---- */
static void job_next(struct transcript *t)
{
	struct tjob *j = t->head;
	struct tr_audio *au;

	if (t->cur || !j || t->closing)
		return;
	t->head = j->next;
	if (!t->head)
		t->tail = NULL;
	j->next = NULL;
	t->cur = j;
	au = calloc(1, sizeof(*au));
	if (!au) {
		job_fail(t, "out of memory");
		return;
	}
	au->owner = t;
	snprintf(au->path, sizeof(au->path), "%s/%s.wav", t->cfg.record_dir, j->number);
	snprintf(au->redacted_path, sizeof(au->redacted_path), "%s/%s.redacted.wav",
		 t->cfg.record_dir, j->number);
	t->au = au;
	row_write(t, j, "running", NULL);
	log_info("interaction=%s action=transcript running reason=%s", j->number, j->reason);
	if (work_submit(t->loop, load_work, load_done, au)) {
		job_fail(t, "out of memory");
		return;
	}
	t->busy++;
}

static bool job_known(const struct transcript *t, int64_t ix_id)
{
	if (t->cur && t->cur->ix_id == ix_id)
		return true;
	for (const struct tjob *j = t->head; j; j = j->next) {
		if (j->ix_id == ix_id)
			return true;
	}
	return false;
}

/* Queues a job; write: its row goes queued (not when resuming one). */
static int job_add(struct transcript *t, int64_t ix_id, const char *number, const char *reason,
		   const char *actor, int64_t created_at, bool write)
{
	struct tjob *j;

	if (job_known(t, ix_id))
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->ix_id = ix_id;
	str_copy(j->number, number, sizeof(j->number));
	str_copy(j->reason, reason, sizeof(j->reason));
	str_copy(j->actor, actor ? actor : "", sizeof(j->actor));
	j->created_at = created_at ? created_at : time_now_ms();
	if (t->tail)
		t->tail->next = j;
	else
		t->head = j;
	t->tail = j;
	t->queued++;
	if (write)
		row_write(t, j, "queued", NULL);
	job_next(t);
	return 0;
}

/* ---- the policy ---- */
int transcript_policy_of(const struct transcript *t, int64_t queue_id)
{
	int dflt = 100;

	for (size_t i = 0; i < t->n_policy; i++) {
		if (t->policy[i].queue_id == queue_id)
			return t->policy[i].percent;
		if (!t->policy[i].queue_id)
			dflt = t->policy[i].percent;
	}
	return dflt;
}

void transcript_policy_each(const struct transcript *t, transcript_policy_h *h, void *arg)
{
	for (size_t i = 0; i < t->n_policy; i++)
		h(t->policy[i].queue_id, t->policy[i].percent, arg);
}

static int policy_put(struct transcript *t, int64_t queue_id, int percent)
{
	for (size_t i = 0; i < t->n_policy; i++) {
		if (t->policy[i].queue_id != queue_id)
			continue;
		if (percent >= 0)
			t->policy[i].percent = percent;
		else
			t->policy[i] = t->policy[--t->n_policy];
		return 0;
	}
	if (percent < 0)
		return 0;
	struct st_transcript_policy *np =
		realloc(t->policy, (t->n_policy + 1) * sizeof(*t->policy));
	if (!np)
		return -ENOMEM;
	t->policy = np;
	t->policy[t->n_policy].queue_id = queue_id;
	t->policy[t->n_policy++].percent = percent;
	return 0;
}

int transcript_policy_set(struct transcript *t, int64_t queue_id, int percent,
			  const struct store_op *extra, store_done_h *done, void *arg)
{
	struct store_op op[2] = {{.kind = STORE_OP_TRANSCRIPT_POLICY_SET}};
	int rc;

	if (percent > 100 || queue_id < 0 || (percent < 0 && !queue_id))
		return -EINVAL;
	rc = policy_put(t, queue_id, percent);
	if (rc)
		return rc;
	op[0].u.tpolicy.queue_id = queue_id;
	op[0].u.tpolicy.percent = percent;
	if (extra)
		op[1] = *extra;
	return store_write(t->st, op, extra ? 2 : 1, done, arg);
}

bool transcript_redacting(const struct transcript *t)
{
	return t->cfg.redact;
}

/* FNV-1a of the number: the same call is always in or out of the sample. */
static unsigned number_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % 100;
}

void transcript_recorded(struct transcript *t, int64_t ix_id, const char *number, int64_t queue_id)
{
	int pct = transcript_policy_of(t, queue_id);

	if (t->closing || (int)number_hash(number) >= pct) {
		log_debug("interaction=%s action=transcript not chosen (queue %lld: %d%%)", number,
			  (long long)queue_id, pct);
		return;
	}
	if (job_add(t, ix_id, number, "policy", "", 0, true) == -ENOMEM)
		log_error("interaction=%s action=transcript not queued: out of memory", number);
}

int transcript_request(struct transcript *t, int64_t ix_id, const char *number, const char *actor)
{
	char path[CONF_PATH_MAX + 64];
	struct stat sb;

	if (t->closing)
		return -ECANCELED;
	snprintf(path, sizeof(path), "%s/%s.wav", t->cfg.record_dir, number);
	if (stat(path, &sb) || sb.st_size <= 44)
		return -ENOENT;
	return job_add(t, ix_id, number, "on_demand", actor, 0, true);
}

void transcript_stats(const struct transcript *t, struct transcript_stats *st)
{
	*st = t->stats;
	st->queued = t->queued;
}

/* ---- start and stop ---- */
static char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* The domain model: the corpus and the site's text, into
 * <data_dir>/transcripts/domain.arpa (start-up, before the loop runs). */
static int domain_build(const struct transcript_cfg *cfg, char *path, size_t size, char *err,
			size_t errsz)
{
	size_t clen = 0, n = 0;
	char *corpus = cfg->corpus[0] ? file_read(cfg->corpus, &clen) : NULL, *all;
	struct asr_dict *d = NULL;
	FILE *f;
	int rc;

	if (cfg->corpus[0] && !corpus) {
		snprintf(err, errsz, "transcripts: the corpus '%s' cannot be read", cfg->corpus);
		return -EINVAL;
	}
	all = malloc(clen + cfg->site_text_len + 2);
	if (!all) {
		free(corpus);
		return -ENOMEM;
	}
	memcpy(all, corpus ? corpus : "", clen);
	all[clen] = '\n';
	if (cfg->site_text_len)
		memcpy(all + clen + 1, cfg->site_text, cfg->site_text_len);
	free(corpus);
	snprintf(path, size, "%.400s/transcripts", cfg->data_dir);
	mkdir(path, 0750);
	snprintf(path, size, "%.400s/transcripts/domain.arpa", cfg->data_dir);
	rc = asr_dict_load(&d, cfg->model_dir);
	f = rc ? NULL : fopen(path, "w");
	if (!rc && !f)
		rc = -errno;
	if (f) {
		rc = asr_lm_build(all, clen + 1 + cfg->site_text_len, asr_dict_has, d, f, &n);
		if (fclose(f) && !rc)
			rc = -EIO;
	}
	asr_dict_free(d);
	free(all);
	if (rc)
		snprintf(err, errsz, "transcripts: the domain language model was not built (%s)",
			 cc_strerror(rc));
	else
		log_info("action=transcripts domain model: %zu sentences (corpus %zu bytes, the "
			 "site's flows and records %zu bytes) -> %s",
			 n, clen, cfg->site_text_len, path);
	return rc;
}

int transcript_alloc(struct transcript **tp, uv_loop_t *loop, const struct transcript_cfg *cfg,
		     struct store *st, struct routing *r, const struct st_snapshot *snap, char *err,
		     size_t errsz)
{
	struct asr_cfg ac = {.decoders = cfg->decoders,
			     .queue_max = 10000,
			     .free_speech = true,
			     .own_threads = true,
			     .domain_weight = cfg->domain_pct / 100.0};
	struct transcript *t;
	int rc = 0;

	if (cfg->domain_pct > 0)
		rc = domain_build(cfg, ac.domain_lm, sizeof(ac.domain_lm), err, errsz);
	if (rc)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = loop, t->st = st, t->r = r, t->cfg = *cfg;
	t->cfg.site_text = NULL, t->cfg.site_text_len = 0;
	str_copy(ac.model_dir, cfg->model_dir, sizeof(ac.model_dir));
	rc = asr_alloc(&t->asr, loop, &ac, err, errsz);
	for (size_t i = 0; !rc && i < snap->n_transcript_policy; i++)
		rc = policy_put(t, snap->transcript_policy[i].queue_id,
				snap->transcript_policy[i].percent);
	if (rc) {
		transcript_free(t);
		return rc;
	}
	for (size_t i = 0; i < snap->n_transcripts; i++) {
		const struct st_transcript *x = &snap->transcripts[i];
		log_info("interaction=%s action=transcript resumed (was %s)", x->number, x->status);
		job_add(t, x->interaction_id, x->number, x->reason, x->requested_by, x->created_at,
			false);
	}
	*tp = t;
	return 0;
}

void transcript_free(struct transcript *t)
{
	struct tjob *j, *next;

	if (!t)
		return;
	t->closing = true;
	for (j = t->head; j; j = next) {
		next = j->next;
		free(j);
	}
	t->head = t->tail = NULL;
	/* A running job's row stays "running": the next start runs it again. */
	t->busy++; /* asr_free cancels the waiting utterances right here */
	asr_free(t->asr);
	t->asr = NULL;
	t->busy--;
	tr_maybe_destroy(t);
}
