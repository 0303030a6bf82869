/*
 * asr_ps.c — the pocketsphinx engine (Debian's 0.8+5prealpha, old API):
 * JSGF grammars, a small pool of decoders, 8 kHz telephone audio made
 * acceptable to the 16 kHz model, and a confidence from the acoustic score.
 *
 * DESIGN
 * - Decoders are heavy (~0.2 s and ~20 MiB to load) and not thread-safe. The
 *   engine keeps up to cfg->decoders of them, created lazily on the pool by
 *   the first jobs; a job borrows one from a free list under a mutex and
 *   gives it back. The front never runs more jobs than decoders at once.
 *   Creation is serialised (sphinxbase's logging and config are global).
 * - A grammar becomes one JSGF string, `public <utt> = <intent_0> | ...;`
 *   with each intent's phrases as alternatives. A decoder adds it as the
 *   named search "g<id>" the first time it sees the grammar and keeps a
 *   list of the ids it holds; a released grammar's id goes on a dead list
 *   and each decoder drops that search the next time it is borrowed.
 * - The hypothesis maps back to an intent by exact match of its words
 *   against the normalised phrases (asr_grammar_match); a phrase in two
 *   intents goes to the first.
 * - Audio (STACK.md, measured again in docs/ASR.md): 8 kHz is upsampled to
 *   16 kHz with speexdsp, and white noise band-limited to 4.2-8 kHz (8 kHz
 *   noise upsampled, then shifted up by multiplying by (-1)^n) is mixed in
 *   at 3% of full scale (RMS), from a fixed seed so results repeat.
 * - Confidence = coverage x logistic(score), both from the best path:
 *   score is the acoustic score a frame of the grammar's words (pocketsphinx
 *   scores every frame against that frame's best senone, so this is a
 *   distance from the best unconstrained match); coverage is the share of
 *   the non-silent frames that the words explain, because speech the
 *   grammar cannot place is absorbed by silence/noise fillers that then
 *   score like speech, not like silence. Measured on espeak-ng through
 *   G.711 (docs/ASR.md): sample phrases score -24..-37 with coverage ~1;
 *   unrelated sentences either reach no end of the grammar (no hypothesis)
 *   or are forced onto a phrase at -43 with coverage < 0.5. A phone-loop
 *   second pass separated no better and cost 2-5x the decode time.
 * - Words are checked on the loop against the dictionary file itself (the
 *   words sorted once, binary search), the same file the decoders load, so
 *   no decoder is needed to build a grammar.
 */
#define LOG_MODULE "asr"
#include "asr/asr_int.h"

#include <math.h>
#include <pocketsphinx.h>
#include <pthread.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>

#define PS_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#define PS_RATE	     16000
#ifndef PS_NOISE_FRAC	   /* -DPS_NOISE_FRAC=0 re-measures without it (docs/ASR.md) */
#define PS_NOISE_FRAC 0.03 /* of full scale, RMS: 2-4% measured, 3% best */
#endif
#define PS_NOISE_RMS  (PS_NOISE_FRAC * 32767)
#define PS_CONF_MID   (-41.0) /* word score a frame at confidence 0.5 (coverage 1) */
#define PS_CONF_SCALE 1.5
#define PS_SIL_BOUND  (-25.0) /* a filler worse than this a frame is not silence */
/* Free speech scores the 6 best Gaussians of each senone's codebook, not the
 * default 4: human read speech through G.711 32.4 % word error instead of
 * 35.2 %, for ~10-20 % more decoding time (docs/TRANSCRIPTS.md). The bot's
 * grammars keep the default (its latency matters more). */
#define PS_FREE_TOPN "6"
#ifndef PS_DOMAIN_WEIGHT
#define PS_DOMAIN_WEIGHT 0.4f /* the domain model's share (docs/TRANSCRIPTS.md) */
#endif

struct ps_dec {
	ps_decoder_t *ps;
	unsigned *ids; /* grammar ids this decoder has a search for */
	size_t n_ids, cap_ids;
	struct ps_dec *next;
};

struct ps_eng {
	char hmm[300], dict[300];
	unsigned max;
	pthread_mutex_t lock; /* free list, all, dead list */
	struct ps_dec *free_list;
	struct ps_dec *all[16]; /* every decoder made, by slot */
	unsigned *dead;		/* released grammar ids (4 bytes each, kept: a decoder
			   borrowed later may still hold the search) */
	size_t n_dead, cap_dead;
	struct asr_dict *dictw; /* the dictionary's words, loop thread only */
	/* free speech: the general model, the domain model and its weight */
	bool free_speech;
	char lm[300], domain_lm[512];
	float domain_weight;
};

static pthread_mutex_t ps_init_lock = PTHREAD_MUTEX_INITIALIZER;

static int ids_add(unsigned **ids, size_t *n, size_t *cap, unsigned id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		unsigned *ni = realloc(*ids, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		*ids = ni, *cap = nc;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

/* ---- the dictionary, for word_check on the loop ---- */
struct asr_dict {
	char *buf;
	char **words; /* sorted */
	size_t n;
};

static int word_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dict_index(struct asr_dict *d, char *buf, size_t len)
{
	size_t n = 0, cap = 1;

	for (size_t i = 0; i < len; i++)
		cap += buf[i] == '\n';
	d->words = calloc(cap, sizeof(*d->words));
	if (!d->words)
		return -ENOMEM;
	for (char *p = buf, *nl; p < buf + len && n < cap; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (!nl)
			nl = buf + len;
		*nl = '\0';
		p[strcspn(p, " \t(")] = '\0'; /* "word(2) ..." is a variant of word */
		if (*p)
			d->words[n++] = p;
	}
	qsort(d->words, n, sizeof(*d->words), word_cmp);
	d->n = n;
	return 0;
}

static int dict_read(struct asr_dict *d, const char *path)
{
	FILE *f = fopen(path, "rb");
	long len;
	int rc = -EIO;

	if (!f)
		return -ENOENT;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
		goto out;
	d->buf = malloc((size_t)len + 1);
	rc = -ENOMEM;
	if (!d->buf)
		goto out;
	rc = -EIO;
	if (fread(d->buf, 1, (size_t)len, f) != (size_t)len)
		goto out;
	d->buf[len] = '\0';
	rc = dict_index(d, d->buf, (size_t)len);
out:
	fclose(f);
	return rc;
}

void asr_dict_free(struct asr_dict *d)
{
	if (!d)
		return;
	free(d->words);
	free(d->buf);
	free(d);
}

static int dict_open(struct asr_dict **dp, const char *path)
{
	struct asr_dict *d = calloc(1, sizeof(*d));
	int rc = d ? dict_read(d, path) : -ENOMEM;

	if (rc) {
		asr_dict_free(d);
		return rc;
	}
	*dp = d;
	return 0;
}

int asr_dict_load(struct asr_dict **dp, const char *model_dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/cmudict-en-us.dict",
		 model_dir && model_dir[0] ? model_dir : PS_MODEL_DIR);
	return dict_open(dp, path);
}

bool asr_dict_has(const char *word, void *dict)
{
	struct asr_dict *d = dict;

	return bsearch(&word, d->words, d->n, sizeof(*d->words), word_cmp) != NULL;
}

static int ps_word_check(void *e, const char *word)
{
	struct ps_eng *pe = e;
	int rc;

	if (!pe->dictw) {
		rc = dict_open(&pe->dictw, pe->dict);
		if (rc)
			return rc;
	}
	return asr_dict_has(word, pe->dictw) ? 0 : -ENOENT;
}

/* ---- grammars: JSGF ---- */
static int jsgf_append(char **s, size_t *len, size_t *cap, const char *part)
{
	size_t pl = strlen(part);

	if (*len + pl + 1 > *cap) {
		size_t nc = *cap ? *cap : 1024;
		char *ns;
		while (nc < *len + pl + 1)
			nc *= 2;
		ns = realloc(*s, nc);
		if (!ns)
			return -ENOMEM;
		*s = ns, *cap = nc;
	}
	memcpy(*s + *len, part, pl + 1);
	*len += pl;
	return 0;
}

static int ps_grammar_compile(void *e, struct asr_grammar *g)
{
	char *s = NULL, num[48];
	size_t len = 0, cap = 0;
	int rc = jsgf_append(&s, &len, &cap, "#JSGF V1.0;\ngrammar sb;\n");

	for (size_t i = 0; !rc && i < g->n; i++) {
		snprintf(num, sizeof(num), "<intent_%zu> = ", i);
		rc = jsgf_append(&s, &len, &cap, num);
		for (size_t k = 0; !rc && k < g->intents[i].n; k++) {
			rc = jsgf_append(&s, &len, &cap, k ? " | " : "");
			if (!rc)
				rc = jsgf_append(&s, &len, &cap, g->intents[i].phrases[k]);
		}
		if (!rc)
			rc = jsgf_append(&s, &len, &cap, ";\n");
	}
	for (size_t i = 0; !rc && i < g->n; i++) {
		snprintf(num, sizeof(num), "%s<intent_%zu>", i ? " | " : "public <utt> = ", i);
		rc = jsgf_append(&s, &len, &cap, num);
	}
	if (!rc)
		rc = jsgf_append(&s, &len, &cap, ";\n");
	if (rc) {
		free(s);
		return rc;
	}
	g->eng = s;
	return 0;
}

static void ps_grammar_release(void *e, struct asr_grammar *g)
{
	struct ps_eng *pe = e;

	free(g->eng);
	g->eng = NULL;
	pthread_mutex_lock(&pe->lock);
	if (ids_add(&pe->dead, &pe->n_dead, &pe->cap_dead, g->id))
		log_warn("action=grammar release: out of memory, its searches stay");
	pthread_mutex_unlock(&pe->lock);
}

/* ---- decoders ---- */
/* Free speech: the general model mixed with the domain model (linear
 * interpolation, ngram_model_set_init) as the search "free". The set owns
 * the models; the search takes its own reference on the set. */
static int dec_lm_set(struct ps_eng *pe, ps_decoder_t *ps)
{
	cmd_ln_t *c = ps_get_config(ps);
	logmath_t *lmath = ps_get_logmath(ps);
	ngram_model_t *m[2] = {NULL, NULL}, *set = NULL;
	const char *names[2] = {"general", "domain"};
	float32 w[2] = {1.0f - pe->domain_weight, pe->domain_weight};
	int32 n = pe->domain_lm[0] ? 2 : 1;
	int rc = -EIO;

	m[0] = ngram_model_read(c, pe->lm, NGRAM_AUTO, lmath);
	if (m[0] && n == 2)
		m[1] = ngram_model_read(c, pe->domain_lm, NGRAM_ARPA, lmath);
	if (!m[0] || (n == 2 && !m[1]))
		goto out;
	set = ngram_model_set_init(c, m, (char **)names, w, n);
	if (!set)
		goto out;
	/* the set holds its own references to the models */
	if (ps_set_lm(ps, "free", set) >= 0 && ps_set_search(ps, "free") >= 0)
		rc = 0;
out:
	ngram_model_free(set);
	ngram_model_free(m[0]);
	ngram_model_free(m[1]);
	return rc;
}

static int dec_create(struct ps_eng *pe, struct ps_dec **dp)
{
	struct ps_dec *d = calloc(1, sizeof(*d));
	cmd_ln_t *c;
	int rc = 0;

	if (!d)
		return -ENOMEM;
	pthread_mutex_lock(&ps_init_lock);
	err_set_logfp(NULL); /* sphinxbase logs to stderr by default: silence */
	c = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", pe->hmm, "-dict", pe->dict, "-topn",
			pe->free_speech ? PS_FREE_TOPN : "4", NULL);
	d->ps = c ? ps_init(c) : NULL;
	if (d->ps && pe->free_speech)
		rc = dec_lm_set(pe, d->ps);
	cmd_ln_free_r(c); /* the decoder holds its own reference */
	pthread_mutex_unlock(&ps_init_lock);
	if (!d->ps || rc) {
		if (d->ps)
			ps_free(d->ps);
		free(d);
		return -EIO;
	}
	*dp = d;
	return 0;
}

static void dec_free(struct ps_dec *d)
{
	ps_free(d->ps);
	free(d->ids);
	free(d);
}

#define DEC_RESERVED ((struct ps_dec *)&ps_init_lock) /* a slot being filled */

/* Pool thread. Takes a free decoder or makes one in a free slot (there are
 * never more borrowers than max); fresh (warm-up) prefers making one. */
static int dec_borrow(struct ps_eng *pe, bool fresh, struct ps_dec **dp)
{
	struct ps_dec *d;
	unsigned slot = 0;
	int rc;

	pthread_mutex_lock(&pe->lock);
	while (slot < pe->max && pe->all[slot])
		slot++;
	d = fresh && slot < pe->max ? NULL : pe->free_list;
	if (d)
		pe->free_list = d->next;
	else if (slot < pe->max)
		pe->all[slot] = DEC_RESERVED;
	pthread_mutex_unlock(&pe->lock);
	if (d) {
		*dp = d;
		return 0;
	}
	if (slot >= pe->max)
		return -EBUSY;
	rc = dec_create(pe, &d);
	pthread_mutex_lock(&pe->lock);
	pe->all[slot] = rc ? NULL : d;
	pthread_mutex_unlock(&pe->lock);
	if (!rc)
		*dp = d;
	return rc;
}

static void dec_return(struct ps_eng *pe, struct ps_dec *d)
{
	pthread_mutex_lock(&pe->lock);
	d->next = pe->free_list;
	pe->free_list = d;
	pthread_mutex_unlock(&pe->lock);
}

static bool id_in(const unsigned *ids, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

/* Drops the searches of released grammars from d (the caller owns d). */
static void dec_prune(struct ps_eng *pe, struct ps_dec *d)
{
	char name[24];

	pthread_mutex_lock(&pe->lock);
	for (size_t i = 0; i < d->n_ids;) {
		if (!id_in(pe->dead, pe->n_dead, d->ids[i])) {
			i++;
			continue;
		}
		snprintf(name, sizeof(name), "g%u", d->ids[i]);
		ps_unset_search(d->ps, name);
		d->ids[i] = d->ids[--d->n_ids];
	}
	pthread_mutex_unlock(&pe->lock);
}

/* ps_set_jsgf_string of 0.8+5prealpha leaks the parsed grammar (~10 KiB
 * each time): parse and build the FSG here, and free the parse. */
static int dec_add_jsgf(ps_decoder_t *ps, const char *name, const char *text)
{
	jsgf_t *j = jsgf_parse_string(text, NULL);
	jsgf_rule_t *r = j ? jsgf_get_public_rule(j) : NULL;
	float32 lw = (float32)cmd_ln_float32_r(ps_get_config(ps), "-lw");
	fsg_model_t *fsg = r ? jsgf_build_fsg(j, r, ps_get_logmath(ps), lw) : NULL;
	int rc = fsg && ps_set_fsg(ps, name, fsg) >= 0 ? 0 : -EINVAL;

	if (fsg)
		fsg_model_free(fsg); /* the search keeps its own reference */
	if (j)
		jsgf_grammar_free(j);
	return rc;
}

static int dec_use_grammar(struct ps_eng *pe, struct ps_dec *d, const struct asr_grammar *g)
{
	char name[24];

	snprintf(name, sizeof(name), "g%u", g->id);
	if (!id_in(d->ids, d->n_ids, g->id)) {
		if (ids_add(&d->ids, &d->n_ids, &d->cap_ids, g->id))
			return -ENOMEM;
		if (dec_add_jsgf(d->ps, name, g->eng)) {
			d->n_ids--;
			return -EINVAL;
		}
	}
	if (ps_set_search(d->ps, name))
		return -EINVAL;
	dec_prune(pe, d); /* after the switch: never unset the active search */
	return 0;
}

/* ---- audio: 8 kHz -> 16 kHz with band-limited noise above 4.2 kHz ---- */
static int upsample(const int16_t *in, size_t n, int16_t *out, size_t *on)
{
	spx_uint32_t il = (spx_uint32_t)n, ol = (spx_uint32_t)*on;
	int err;
	SpeexResamplerState *rs = speex_resampler_init(1, ASR_RATE, PS_RATE, 5, &err);

	if (!rs)
		return -ENOMEM;
	speex_resampler_skip_zeros(rs);
	speex_resampler_process_int(rs, 0, in, &il, out, &ol);
	speex_resampler_destroy(rs);
	*on = ol;
	return 0;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Adds to x (16 kHz, n samples) noise whose spectrum is 8 kHz white noise
 * upsampled (0-3.8 kHz) and mirrored by (-1)^i into 4.2-8 kHz. */
static int noise_add(int16_t *x, size_t n)
{
	size_t n8 = n / 2 + 1, nn = n + 64;
	int16_t *w = malloc(n8 * sizeof(*w)), *up = malloc(nn * sizeof(*up));
	uint32_t seed = 0x9e3779b9u;
	double sum = 0, k;
	int rc = -ENOMEM;

	if (!w || !up)
		goto out;
	for (size_t i = 0; i < n8; i++)
		w[i] = (int16_t)((int32_t)(xorshift(&seed) & 0xffff) - 32768) / 2;
	rc = upsample(w, n8, up, &nn);
	if (rc || !nn)
		goto out;
	for (size_t i = 0; i < nn; i++)
		sum += (double)up[i] * up[i];
	k = sum > 0 ? PS_NOISE_RMS / sqrt(sum / (double)nn) : 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i] + ((i & 1) ? -k : k) * up[i % nn];
		x[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
out:
	free(w);
	free(up);
	return rc;
}

static int audio_prepare(const int16_t *pcm, size_t n, bool noise, int16_t **outp, size_t *on)
{
	size_t cap = n * 2 + 64;
	int16_t *out = malloc(cap * sizeof(*out));
	int rc;

	if (!out)
		return -ENOMEM;
	*on = cap;
	rc = upsample(pcm, n, out, on);
	if (!rc && noise)
		rc = noise_add(out, *on);
	if (rc) {
		free(out);
		return rc;
	}
	*outp = out;
	return 0;
}

/* ---- recognition ---- */
static bool word_is_filler(const char *w)
{
	return w[0] == '<' || w[0] == '[';
}

/* The two measures of the best path (DESIGN): the acoustic score per frame
 * of its words, and the share of the frames that are not silence which
 * its words explain (a filler scoring worse than PS_SIL_BOUND a frame is
 * speech the grammar could not place). */
struct path_fit {
	double score, coverage;
};

static struct path_fit path_fit(ps_decoder_t *ps)
{
	int64_t ascr_sum = 0, frames = 0, lost = 0;
	struct path_fit f = {-1e9, 0};

	for (ps_seg_t *s = ps_seg_iter(ps); s; s = ps_seg_next(s)) {
		int32 ascr, lscr, lback;
		int sf, ef;
		ps_seg_prob(s, &ascr, &lscr, &lback);
		ps_seg_frames(s, &sf, &ef);
		if (ef < sf)
			continue;
		if (!word_is_filler(ps_seg_word(s))) {
			ascr_sum += ascr;
			frames += ef - sf + 1;
		} else if ((double)ascr / (ef - sf + 1) < PS_SIL_BOUND) {
			lost += ef - sf + 1;
		}
	}
	if (frames > 0) {
		f.score = (double)ascr_sum / (double)frames;
		f.coverage = (double)frames / (double)(frames + lost);
	}
	return f;
}

static void result_fill(ps_decoder_t *ps, const struct asr_grammar *g, struct asr_result *res)
{
	int32 score;
	const char *hyp = ps_get_hyp(ps, &score);
	struct path_fit f;

	res->intent = -1;
	res->confidence = 0;
	res->text[0] = '\0';
	if (!hyp || !hyp[0])
		return; /* the grammar's end was not reached: nothing matched */
	str_copy(res->text, hyp, sizeof(res->text));
	res->intent = asr_grammar_match(g, res->text);
	f = path_fit(ps);
	res->score = f.score;
	res->coverage = f.coverage;
	if (res->intent >= 0)
		res->confidence =
			f.coverage / (1.0 + exp(-(f.score - PS_CONF_MID) / PS_CONF_SCALE));
}

static int decode(ps_decoder_t *ps, const int16_t *x, size_t n)
{
	if (ps_start_utt(ps) < 0)
		return -EIO;
	if (ps_process_raw(ps, x, n, FALSE, TRUE) < 0) {
		ps_end_utt(ps);
		return -EIO;
	}
	return ps_end_utt(ps) < 0 ? -EIO : 0;
}

static int ps_recognize(void *e, const struct asr_grammar *g, const int16_t *pcm, size_t n,
			struct asr_result *res)
{
	struct ps_eng *pe = e;
	struct ps_dec *d;
	int16_t *x;
	size_t xn;
	int rc = audio_prepare(pcm, n, true, &x, &xn);

	if (rc)
		return rc;
	rc = dec_borrow(pe, false, &d);
	if (!rc) {
		rc = dec_use_grammar(pe, d, g);
		if (!rc)
			rc = decode(d->ps, x, xn);
		if (!rc)
			result_fill(d->ps, g, res);
		dec_return(pe, d);
	}
	free(x);
	return rc;
}

/* ---- free speech ---- */
/* The best path's words (fillers and silences dropped, "word(2)" as
 * "word") with their times; frames are 10 ms. */
static void words_fill(ps_decoder_t *ps, struct asr_text *res)
{
	int32 score;

	res->n_words = 0;
	if (!ps_get_hyp(ps, &score))
		return;
	for (ps_seg_t *s = ps_seg_iter(ps); s && res->n_words < ASR_WORDS_MAX; s = ps_seg_next(s)) {
		const char *w = ps_seg_word(s);
		struct asr_word *o;
		int sf, ef;
		if (word_is_filler(w))
			continue;
		ps_seg_frames(s, &sf, &ef);
		o = &res->words[res->n_words++];
		str_copy(o->w, w, sizeof(o->w));
		o->w[strcspn(o->w, "(")] = '\0';
		o->start_ms = (uint32_t)(sf < 0 ? 0 : sf) * 10;
		o->end_ms = (uint32_t)(ef < sf ? sf : ef + 1) * 10;
	}
}

/* Free speech needs no noise (it hurts here: docs/TRANSCRIPTS.md); the
 * 8 -> 16 kHz resample is the same filtered one. */
static int ps_transcribe(void *e, const int16_t *pcm, size_t n, struct asr_text *res)
{
	struct ps_eng *pe = e;
	struct ps_dec *d;
	int16_t *x;
	size_t xn;
	int rc;

	if (!pe->free_speech)
		return -EINVAL;
	rc = audio_prepare(pcm, n, false, &x, &xn);
	if (rc)
		return rc;
	rc = dec_borrow(pe, false, &d);
	if (!rc) {
		rc = decode(d->ps, x, xn);
		if (!rc)
			words_fill(d->ps, res);
		dec_return(pe, d);
	}
	free(x);
	return rc;
}

static int ps_warm(void *e)
{
	struct ps_eng *pe = e;
	struct ps_dec *d;
	int rc = dec_borrow(pe, true, &d);

	if (!rc)
		dec_return(pe, d);
	return rc == -EBUSY ? 0 : rc;
}

/* ---- the engine ---- */
static int ps_alloc(void **ep, const struct asr_cfg *cfg, char *err, size_t errsz)
{
	const char *dir = cfg->model_dir[0] ? cfg->model_dir : PS_MODEL_DIR;
	struct ps_eng *pe;
	FILE *f;

	if ((unsigned)cfg->decoders > sizeof(pe->all) / sizeof(pe->all[0])) {
		snprintf(err, errsz, "at most 16 decoders");
		return -EINVAL;
	}
	pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	snprintf(pe->hmm, sizeof(pe->hmm), "%s/en-us", dir);
	snprintf(pe->dict, sizeof(pe->dict), "%s/cmudict-en-us.dict", dir);
	f = fopen(pe->dict, "rb");
	if (!f) {
		snprintf(err, errsz, "no pocketsphinx model in '%s' (%s missing)", dir, pe->dict);
		free(pe);
		return -EINVAL;
	}
	fclose(f);
	pe->max = (unsigned)cfg->decoders;
	pe->free_speech = cfg->free_speech;
	snprintf(pe->lm, sizeof(pe->lm), "%s/en-us.lm.bin", dir);
	str_copy(pe->domain_lm, cfg->domain_lm, sizeof(pe->domain_lm));
	pe->domain_weight = cfg->domain_weight > 0 && cfg->domain_weight < 1
				    ? (float)cfg->domain_weight
				    : PS_DOMAIN_WEIGHT;
	if (pe->free_speech && pe->domain_lm[0] && access(pe->domain_lm, R_OK)) {
		snprintf(err, errsz, "the domain language model '%s' cannot be read",
			 pe->domain_lm);
		free(pe);
		return -EINVAL;
	}
	pthread_mutex_init(&pe->lock, NULL);
	*ep = pe;
	return 0;
}

static void ps_eng_free(void *e)
{
	struct ps_eng *pe = e;

	for (unsigned i = 0; i < pe->max; i++) {
		if (pe->all[i])
			dec_free(pe->all[i]);
	}
	pthread_mutex_destroy(&pe->lock);
	free(pe->dead);
	asr_dict_free(pe->dictw);
	free(pe);
}

const struct asr_engine asr_engine_ps = {
	.version = ASR_ENGINE_VERSION,
	.name = "pocketsphinx",
	.alloc = ps_alloc,
	.free = ps_eng_free,
	.word_check = ps_word_check,
	.grammar_compile = ps_grammar_compile,
	.grammar_release = ps_grammar_release,
	.warm = ps_warm,
	.recognize = ps_recognize,
	.transcribe = ps_transcribe,
};
