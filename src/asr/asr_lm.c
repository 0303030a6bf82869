/*
 * asr_lm.c — a small trigram language model builder: sentences in, an
 * ARPA-format back-off model out, for the transcripts' call-domain model
 * (docs/TRANSCRIPTS.md). Debian ships no tool that builds one (no
 * cmuclmtk; sphinxbase-utils only converts), so the project builds its own.
 *
 * DESIGN
 * - Text is normalised as grammar phrases are (lower case, words of
 *   [a-z0-9']); a line, and each of its '.', '?', '!' or ';', ends a
 *   sentence; a line starting with '#' is a comment. A word the dictionary lacks breaks the sentence there (the
 *   decoder could never produce it, and bridging the gap would invent an
 *   n-gram nobody said).
 * - Counts: unigrams, bigrams and trigrams with <s> and </s>, in sorted
 *   arrays of word-id tuples (ids in alphabetical order, so the output is
 *   sorted as ARPA readers like it).
 * - Probabilities: unigrams add-one (every word keeps some mass); bigrams
 *   and trigrams absolute discounting with back-off (Katz-style): a seen
 *   n-gram gets (c - D) / c(history), the mass D * types / c(history) goes
 *   to the lower order through the history's back-off weight, normalised
 *   over the words the history was not seen with. D per order from the
 *   counts of counts, D = n1 / (n1 + 2 n2) (Ney), clamped to 0.1..0.9.
 * - Pure C, no decoder: the server builds the domain model at start-up on
 *   the pool, the bench and a site's tooling through the same function.
 */
#include "asr/asr_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lm_gram {
	int w[3];
	unsigned c;
};

struct lm_words {
	char **w; /* sorted, unique */
	size_t n, cap;
};

struct lm_build {
	struct lm_words v;
	struct lm_gram *g[3]; /* 1..3-grams (w[0..k]) */
	size_t n[3], cap[3];
	asr_word_ok_h *ok;
	void *ok_arg;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int words_add(struct lm_words *v, const char *w)
{
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 256;
		char **nw = realloc(v->w, nc * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		v->w = nw, v->cap = nc;
	}
	v->w[v->n] = strdup(w);
	return v->w[v->n++] ? 0 : -ENOMEM;
}

static int word_id(const struct lm_words *v, const char *w)
{
	char **p = bsearch(&w, v->w, v->n, sizeof(*v->w), str_cmp);

	return p ? (int)(p - v->w) : -1;
}

/* Calls fn for each sentence of text: words[] (NUL-terminated, in buf). */
typedef int(sentence_h)(struct lm_build *b, char **words, size_t n);

#define LM_MAX_WORDS 128

static int text_each(struct lm_build *b, const char *text, size_t len, sentence_h *fn)
{
	char buf[LM_MAX_WORDS * 24], *words[LM_MAX_WORDS];
	size_t n = 0, o = 0;
	bool inword = false;
	int rc = 0;

	for (size_t i = 0; i <= len && !rc; i++) {
		int c = i < len ? tolower((unsigned char)text[i]) : '\n';
		if (c == '#' && (i == 0 || text[i - 1] == '\n')) { /* a comment line */
			while (i + 1 < len && text[i + 1] != '\n')
				i++;
			continue;
		}
		if ((isalnum(c) || c == '\'') && o + 2 < sizeof(buf)) {
			if (!inword)
				words[n] = buf + o;
			buf[o++] = (char)c;
			inword = true;
			continue;
		}
		if (inword) {
			buf[o++] = '\0';
			inword = false;
			if (b->ok && !b->ok(words[n], b->ok_arg)) {
				rc = n ? fn(b, words, n) : 0; /* an unknown word ends it */
				n = 0, o = 0;
			} else if (++n == LM_MAX_WORDS || o + 26 > sizeof(buf)) {
				rc = fn(b, words, n);
				n = 0, o = 0;
			}
		}
		if (!rc && (c == '\n' || c == '.' || c == '?' || c == '!' || c == ';') && n) {
			rc = fn(b, words, n);
			n = 0, o = 0;
		}
	}
	return rc;
}

static int vocab_sentence(struct lm_build *b, char **words, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = words_add(&b->v, words[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int gram_add(struct lm_build *b, int k, const int *w)
{
	struct lm_gram *g;

	if (b->n[k] == b->cap[k]) {
		size_t nc = b->cap[k] ? b->cap[k] * 2 : 1024;
		g = realloc(b->g[k], nc * sizeof(*g));
		if (!g)
			return -ENOMEM;
		b->g[k] = g, b->cap[k] = nc;
	}
	g = &b->g[k][b->n[k]++];
	memset(g, 0, sizeof(*g));
	memcpy(g->w, w, (size_t)(k + 1) * sizeof(int));
	g->c = 1;
	return 0;
}

static int count_sentence(struct lm_build *b, char **words, size_t n)
{
	int ids[LM_MAX_WORDS + 2], s = word_id(&b->v, "<s>"), e = word_id(&b->v, "</s>");
	size_t m = 0;
	int rc = 0;

	ids[m++] = s;
	for (size_t i = 0; i < n; i++)
		ids[m++] = word_id(&b->v, words[i]);
	ids[m++] = e;
	for (size_t i = 0; i < m && !rc; i++) {
		for (int k = 0; k < 3 && !rc && i >= (size_t)k; k++)
			rc = gram_add(b, k, &ids[i - (size_t)k]);
	}
	return rc;
}

static int gram_cmp(const void *a, const void *b)
{
	const struct lm_gram *x = a, *y = b;

	for (int i = 0; i < 3; i++) {
		if (x->w[i] != y->w[i])
			return x->w[i] < y->w[i] ? -1 : 1;
	}
	return 0;
}

/* Sorts and merges duplicates (unused tuple slots are 0 in both). */
static void grams_merge(struct lm_build *b, int k)
{
	size_t o = 0;

	qsort(b->g[k], b->n[k], sizeof(struct lm_gram), gram_cmp);
	for (size_t i = 0; i < b->n[k]; i++) {
		if (o && !gram_cmp(&b->g[k][o - 1], &b->g[k][i]))
			b->g[k][o - 1].c += b->g[k][i].c;
		else
			b->g[k][o++] = b->g[k][i];
	}
	b->n[k] = o;
}

static double discount(const struct lm_build *b, int k)
{
	double n1 = 0, n2 = 0, d;

	for (size_t i = 0; i < b->n[k]; i++) {
		n1 += b->g[k][i].c == 1;
		n2 += b->g[k][i].c == 2;
	}
	d = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
	return d < 0.1 ? 0.1 : d > 0.9 ? 0.9 : d;
}

static int prefix_cmp(const int *w, const int *h, int k)
{
	for (int i = 0; i < k; i++) {
		if (w[i] != h[i])
			return w[i] < h[i] ? -1 : 1;
	}
	return 0;
}

/* The range [*lo, *hi) of k-grams whose first k words are h (k >= 1). */
static void grams_with_prefix(const struct lm_build *b, int k, const int *h, size_t *lo, size_t *hi)
{
	size_t a = 0, z = b->n[k];

	while (a < z) { /* lower bound */
		size_t m = (a + z) / 2;
		if (prefix_cmp(b->g[k][m].w, h, k) < 0)
			a = m + 1;
		else
			z = m;
	}
	*lo = a;
	while (a < b->n[k] && !prefix_cmp(b->g[k][a].w, h, k))
		a++;
	*hi = a;
}

struct lm_probs {
	double *p[3];	/* log10 probability of each k-gram */
	double *bow[2]; /* log10 back-off of each 1- and 2-gram as a history */
};

static double uni_p(const struct lm_build *b, const struct lm_probs *pr, int w)
{
	return pow(10, pr->p[0][w]);
}

/* p(w | v) after back-off, linear. */
static double bi_p(const struct lm_build *b, const struct lm_probs *pr, int v, int w)
{
	size_t lo, hi;

	grams_with_prefix(b, 1, &v, &lo, &hi);
	for (size_t i = lo; i < hi; i++) {
		if (b->g[1][i].w[1] == w)
			return pow(10, pr->p[1][i]);
	}
	return pow(10, pr->bow[0][v]) * uni_p(b, pr, w);
}

/* Order k (1 = bigrams, 2 = trigrams): probabilities of the k-grams and
 * the back-off weights of their histories (the (k-1)-grams). */
static void probs_order(const struct lm_build *b, struct lm_probs *pr, int k, double d)
{
	for (size_t h = 0; h < b->n[k - 1]; h++) {
		const int *hw = b->g[k - 1][h].w;
		size_t lo, hi;
		double total = 0, seen_lower = 0, left;
		grams_with_prefix(b, k, hw, &lo, &hi);
		for (size_t i = lo; i < hi; i++)
			total += b->g[k][i].c;
		if (lo == hi) {
			pr->bow[k - 1][h] = 0;
			continue;
		}
		for (size_t i = lo; i < hi; i++) {
			const int *w = b->g[k][i].w;
			pr->p[k][i] = log10((b->g[k][i].c - d) / total);
			seen_lower += k == 1 ? uni_p(b, pr, w[1]) : bi_p(b, pr, w[1], w[2]);
		}
		left = d * (double)(hi - lo) / total;
		pr->bow[k - 1][h] =
			log10(left / (1.0 - seen_lower > 1e-6 ? 1.0 - seen_lower : 1e-6));
	}
}

static void probs_uni(const struct lm_build *b, struct lm_probs *pr, int s)
{
	double n = 0, v = (double)b->v.n - 1; /* <s> is never predicted */

	for (size_t i = 0; i < b->n[0]; i++)
		n += b->g[0][i].w[0] == s ? 0 : b->g[0][i].c;
	for (size_t i = 0; i < b->v.n; i++)
		pr->p[0][i] = (int)i == s ? -99 : log10(1.0 / (n + v));
	for (size_t i = 0; i < b->n[0]; i++) {
		int w = b->g[0][i].w[0];
		if (w != s)
			pr->p[0][w] = log10((b->g[0][i].c + 1.0) / (n + v));
	}
}

static void arpa_write(const struct lm_build *b, const struct lm_probs *pr, FILE *out)
{
	fprintf(out, "\\data\\\nngram 1=%zu\nngram 2=%zu\nngram 3=%zu\n\n\\1-grams:\n", b->v.n,
		b->n[1], b->n[2]);
	for (size_t i = 0; i < b->v.n; i++)
		fprintf(out, "%.4f %s %.4f\n", pr->p[0][i], b->v.w[i], pr->bow[0][i]);
	fprintf(out, "\n\\2-grams:\n");
	for (size_t i = 0; i < b->n[1]; i++)
		fprintf(out, "%.4f %s %s %.4f\n", pr->p[1][i], b->v.w[b->g[1][i].w[0]],
			b->v.w[b->g[1][i].w[1]], pr->bow[1][i]);
	fprintf(out, "\n\\3-grams:\n");
	for (size_t i = 0; i < b->n[2]; i++)
		fprintf(out, "%.4f %s %s %s\n", pr->p[2][i], b->v.w[b->g[2][i].w[0]],
			b->v.w[b->g[2][i].w[1]], b->v.w[b->g[2][i].w[2]]);
	fprintf(out, "\n\\end\\\n");
}

/* Unigrams are indexed by word id: make g[0] dense (one row per word). */
static int unigrams_dense(struct lm_build *b)
{
	struct lm_gram *g = calloc(b->v.n, sizeof(*g));

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < b->v.n; i++)
		g[i].w[0] = (int)i;
	for (size_t i = 0; i < b->n[0]; i++)
		g[b->g[0][i].w[0]].c = b->g[0][i].c;
	free(b->g[0]);
	b->g[0] = g;
	b->n[0] = b->cap[0] = b->v.n;
	return 0;
}

static int model_write(struct lm_build *b, FILE *out)
{
	struct lm_probs pr = {0};
	int rc = -ENOMEM;

	for (int k = 0; k < 3; k++)
		grams_merge(b, k);
	if (unigrams_dense(b))
		return -ENOMEM;
	for (int k = 0; k < 3; k++) {
		pr.p[k] = calloc(b->n[k] + 1, sizeof(double));
		if (k < 2)
			pr.bow[k] = calloc(b->n[k] + 1, sizeof(double));
		if (!pr.p[k] || (k < 2 && !pr.bow[k]))
			goto out;
	}
	probs_uni(b, &pr, word_id(&b->v, "<s>"));
	probs_order(b, &pr, 1, discount(b, 1));
	probs_order(b, &pr, 2, discount(b, 2));
	arpa_write(b, &pr, out);
	rc = ferror(out) ? -EIO : 0;
out:
	for (int k = 0; k < 3; k++)
		free(pr.p[k]);
	free(pr.bow[0]);
	free(pr.bow[1]);
	return rc;
}

static void vocab_unique(struct lm_words *v)
{
	size_t o = 0;

	qsort(v->w, v->n, sizeof(*v->w), str_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (o && !strcmp(v->w[o - 1], v->w[i]))
			free(v->w[i]);
		else
			v->w[o++] = v->w[i];
	}
	v->n = o;
}

int asr_lm_build(const char *text, size_t len, asr_word_ok_h *ok, void *ok_arg, FILE *out,
		 size_t *sentences)
{
	struct lm_build b = {.ok = ok, .ok_arg = ok_arg};
	int rc = words_add(&b.v, "<s>");

	if (!rc)
		rc = words_add(&b.v, "</s>");
	if (!rc)
		rc = text_each(&b, text, len, vocab_sentence);
	if (!rc) {
		vocab_unique(&b.v);
		rc = text_each(&b, text, len, count_sentence);
	}
	if (!rc && sentences) {
		*sentences = 0;
		for (size_t i = 0; i < b.n[0]; i++)
			*sentences += b.g[0][i].w[0] == word_id(&b.v, "<s>") ? b.g[0][i].c : 0;
	}
	if (!rc)
		rc = b.n[1] ? model_write(&b, out) : -ENODATA;
	for (size_t i = 0; i < b.v.n; i++)
		free(b.v.w[i]);
	free(b.v.w);
	for (int k = 0; k < 3; k++)
		free(b.g[k]);
	return rc;
}
