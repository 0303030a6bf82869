/*
 * flow_load.c — reads a flow file (YAML, docs/FLOWS.md) into struct flow
 * and validates all of it: block kinds, the keys each kind takes, value
 * types and ranges, prompts, schedules, and that every branch goes to a
 * block that exists. Errors name the file, the line and the block.
 *
 * DESIGN
 * - libyaml's document API gives a node tree with line marks. Anchors and
 *   aliases are refused in a first pass over the events (a flow has no use
 *   for them, and they let a small file stand for a large tree).
 * - Branch targets are names until every block is known; the loader keeps
 *   the slots to fill and resolves them at the end, so a branch may point
 *   forward. Loops are allowed (the interpreter bounds the steps).
 * - A loaded flow is a refcounted block (mem_zalloc): call control holds
 *   one reference for the loaded set, and every call in the flow another,
 *   so a call keeps the version it started with through a reload.
 * - Everything a block owns is malloc'd; the last flow_free releases it. The block
 *   array and each block's branch arrays are sized once, so the pending
 *   slots stay valid.
 */
#define LOG_MODULE "flow"
#include "flow/flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define TEXT_MAX     2000 /* characters of a prompt or answer */
#define PHRASES_MAX  100
#define INTENTS_MAX  50
#define CHOICES_MAX  12
#define ATTRS_MAX    50
#define RANGES_MAX   64
#define HOLIDAYS_MAX 366

struct ref {
	int *slot;
	char target[FLOW_NAME];
	const char *key; /* the branch, for the message */
	int block, line;
};

struct ld {
	const char *name;
	char *err;
	size_t errsz;
	yaml_document_t doc;
	struct flow *f;
	struct ref *refs;
	size_t n_refs, cap_refs;
	const char *block; /* the block being read, for messages */
};

static int fail(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) /* values from the file may hold line breaks */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (l->block)
		snprintf(l->err, l->errsz, "%s:%zu: block '%s': %s", l->name,
			 n ? (size_t)n->start_mark.line + 1 : 1, l->block, msg);
	else
		snprintf(l->err, l->errsz, "%s:%zu: %s", l->name,
			 n ? (size_t)n->start_mark.line + 1 : 1, msg);
	return -EINVAL;
}

static yaml_node_t *node(struct ld *l, int i)
{
	return yaml_document_get_node(&l->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *node_kind(const yaml_node_t *n)
{
	return !n			       ? "nothing"
	       : n->type == YAML_MAPPING_NODE  ? "a mapping"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
	       : !n->data.scalar.length	       ? "an empty value"
					       : "a single value";
}

static size_t map_len(const yaml_node_t *n)
{
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* The value node of key in mapping n, or NULL. */
static yaml_node_t *map_get(struct ld *l, const yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node(l, p->key));
		if (k && !strcmp(k, key))
			return node(l, p->value);
	}
	return NULL;
}

/* Every key of mapping n is a string from allowed, and none repeats. */
static int map_keys(struct ld *l, const yaml_node_t *n, const char *const *allowed,
		    const char *what)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(l, p->key);
		const char *k = scalar(kn);
		size_t i;

		if (!k)
			return fail(l, kn, "a key must be a single value, not %s", node_kind(kn));
		for (i = 0; allowed[i] && strcmp(allowed[i], k); i++)
			;
		if (!allowed[i]) {
			char list[300] = "";
			for (size_t j = 0; allowed[j]; j++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 j ? ", " : "", allowed[j]);
			return fail(l, kn, "unknown key '%.40s' for %s (allowed: %s)", k, what,
				    list);
		}
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (scalar(node(l, q->key)) && !strcmp(scalar(node(l, q->key)), k))
				return fail(l, kn, "key '%s' is given twice", k);
	}
	return 0;
}

static bool name_ok(const char *s);

/* An attribute as prompts refer to it: a name, or dotted names
 * (caller.first_name, case.number). */
static bool attr_ref_ok(const char *s)
{
	char part[FLOW_NAME];
	size_t n;

	while (*s) {
		n = strcspn(s, ".");
		if (n == 0 || n >= sizeof(part))
			return false;
		memcpy(part, s, n);
		part[n] = '\0';
		if (!name_ok(part))
			return false;
		s += n;
		if (*s == '.' && !*++s)
			return false;
	}
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= FLOW_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* ---- typed values ---- */
static int get_str(struct ld *l, const yaml_node_t *n, const char *key, char *dst, size_t size,
		   bool required)
{
	yaml_node_t *v = map_get(l, n, key);
	const char *s = scalar(v);

	if (!v) {
		if (required)
			return fail(l, n, "'%s' is required", key);
		return 0;
	}
	if (!s || !s[0])
		return fail(l, v, "'%s' must be a single value, not %s", key, node_kind(v));
	if (strlen(s) >= size)
		return fail(l, v, "'%s' is longer than %zu characters", key, size - 1);
	str_copy(dst, s, size);
	return 0;
}

static int get_text(struct ld *l, const yaml_node_t *n, const char *key, char **dst)
{
	yaml_node_t *v = map_get(l, n, key);
	const char *s = scalar(v);

	if (!v)
		return 0;
	if (!s || !s[0])
		return fail(l, v, "'%s' must be text, not %s", key, node_kind(v));
	if (strlen(s) > TEXT_MAX)
		return fail(l, v, "'%s' is longer than %d characters", key, TEXT_MAX);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int get_int(struct ld *l, const yaml_node_t *n, const char *key, int min, int max, int *dst)
{
	yaml_node_t *v = map_get(l, n, key);
	const char *s = scalar(v);
	char *end;
	long x;

	if (!v)
		return 0;
	if (!s || !s[0])
		return fail(l, v, "'%s' must be a whole number, not %s", key, node_kind(v));
	x = strtol(s, &end, 10);
	if (*end || x < min || x > max)
		return fail(l, v, "'%s' must be a whole number from %d to %d, not '%.20s'", key,
			    min, max, s);
	*dst = (int)x;
	return 0;
}

static int get_bool(struct ld *l, const yaml_node_t *n, const char *key, bool *dst)
{
	yaml_node_t *v = map_get(l, n, key);
	const char *s = scalar(v);

	if (!v)
		return 0;
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*dst = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*dst = false;
	else
		return fail(l, v, "'%s' must be true or false", key);
	return 0;
}

/* A branch: remember the slot, resolve the name once every block is known. */
static int ref_add(struct ld *l, int *slot, const yaml_node_t *v, const char *key, int block)
{
	const char *s = scalar(v);
	struct ref *r;

	if (!s || !s[0])
		return fail(l, v, "'%s' must name a block, not %s", key, node_kind(v));
	if (!name_ok(s))
		return fail(l, v, "'%s' must name a block, and '%.40s' is not a block name", key,
			    s);
	if (l->n_refs == l->cap_refs) {
		size_t cap = l->cap_refs ? 2 * l->cap_refs : 64;
		struct ref *nr = realloc(l->refs, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		l->refs = nr, l->cap_refs = cap;
	}
	r = &l->refs[l->n_refs++];
	r->slot = slot;
	str_copy(r->target, s, sizeof(r->target));
	r->key = key;
	r->block = block;
	r->line = (int)v->start_mark.line + 1;
	return 0;
}

static int get_branch(struct ld *l, const yaml_node_t *n, const char *key, int *slot, int block,
		      bool required)
{
	yaml_node_t *v = map_get(l, n, key);

	if (!v)
		return required ? fail(l, n, "'%s' is required: the block to go to", key) : 0;
	return ref_add(l, slot, v, key, block);
}

/* ---- prompts ---- */
static int get_prompt(struct ld *l, const yaml_node_t *n, struct flow_block *b, bool required)
{
	int rc = get_text(l, n, "text", &b->prompt.text);

	if (!rc)
		rc = get_text(l, n, "file", &b->prompt.file);
	if (rc)
		return rc;
	if (b->prompt.text && b->prompt.file)
		return fail(l, n, "give 'text' (spoken) or 'file' (a WAV), not both");
	if (required && !b->prompt.text && !b->prompt.file)
		return fail(l, n, "a prompt is required: 'text' (spoken) or 'file' (a WAV)");
	return get_bool(l, n, "barge_in", &b->barge_in);
}

/* ---- the kinds ---- */
static const char *const play_keys[] = {"kind", "text", "file", "barge_in", "next", NULL};
static const char *const menu_keys[] = {"kind",	   "text",    "file",	  "barge_in", "choices",
					"timeout", "retries", "no_input", "no_match", NULL};
static const char *const collect_keys[] = {
	"kind",	      "text",	 "file",    "barge_in", "into",	    "min_digits", "max_digits",
	"terminator", "timeout", "retries", "next",	"no_input", NULL};
static const char *const bot_keys[] = {"kind",	   "text",	"file",	   "barge_in",
				       "intents",  "threshold", "timeout", "retries",
				       "no_match", "no_input",	NULL};
static const char *const hours_keys[] = {"kind", "timezone", "weekly", "holidays",
					 "open", "closed",   NULL};
static const char *const set_keys[] = {"kind", "attributes", "next", NULL};
static const char *const queue_keys[] = {"kind",     "queue",	       "priority",
					 "max_wait", "announce_every", "hold_music",
					 "overflow", "empty",	       NULL};
static const char *const transfer_keys[] = {"kind", "number", "failed", NULL};
static const char *const disconnect_keys[] = {"kind", NULL};
static const char *const intent_keys[] = {"phrases", "dtmf",	 "answer", "deflect",
					  "goto",    "requires", NULL};

static const struct {
	const char *name;
	const char *const *keys;
} kinds[] = {
	[FLOW_PLAY] = {"play", play_keys},
	[FLOW_MENU] = {"menu", menu_keys},
	[FLOW_COLLECT] = {"collect", collect_keys},
	[FLOW_BOT] = {"bot", bot_keys},
	[FLOW_HOURS] = {"hours", hours_keys},
	[FLOW_SET] = {"set", set_keys},
	[FLOW_QUEUE] = {"queue", queue_keys},
	[FLOW_TRANSFER] = {"transfer", transfer_keys},
	[FLOW_DISCONNECT] = {"disconnect", disconnect_keys},
};

const char *flow_kind_name(enum flow_kind k)
{
	return k <= FLOW_DISCONNECT ? kinds[k].name : "?";
}

static bool dtmf_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n >= 1 && n <= max && strspn(s, "0123456789*#") == n;
}

static int read_menu(struct ld *l, const yaml_node_t *n, struct flow_block *b, int bi)
{
	yaml_node_t *c = map_get(l, n, "choices");
	size_t k = 0;

	if (!c)
		return fail(l, n, "'choices' is required: keys to blocks, e.g. \"1\": support");
	if (c->type != YAML_MAPPING_NODE || !map_len(c) || map_len(c) > CHOICES_MAX)
		return fail(l, c, "'choices' must map 1 to %d keys (0-9, *, #) to blocks",
			    CHOICES_MAX);
	b->choices = calloc(map_len(c), sizeof(*b->choices));
	if (!b->choices)
		return -ENOMEM;
	for (yaml_node_pair_t *p = c->data.mapping.pairs.start; p < c->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(l, p->key);
		const char *key = scalar(kn);
		int rc;

		if (!key || strlen(key) != 1 || !dtmf_ok(key, 1))
			return fail(l, kn, "a choice is one key: 0-9, * or #, not '%.20s'",
				    key ? key : node_kind(kn));
		for (size_t j = 0; j < k; j++)
			if (!strcmp(b->choices[j].key, key))
				return fail(l, kn, "choice '%s' is given twice", key);
		str_copy(b->choices[k].key, key, sizeof(b->choices[k].key));
		b->choices[k].target = -1;
		rc = ref_add(l, &b->choices[k].target, node(l, p->value), "choices", bi);
		if (rc)
			return rc;
		b->n_choices = ++k;
	}
	return 0;
}

static int read_collect(struct ld *l, const yaml_node_t *n, struct flow_block *b)
{
	char term[4] = "";
	int rc = get_str(l, n, "into", b->into, sizeof(b->into), true);

	if (!rc && !name_ok(b->into))
		rc = fail(l, map_get(l, n, "into"),
			  "'into' must be an attribute name: a-z, 0-9, '_' and '-'");
	if (!rc)
		rc = get_int(l, n, "min_digits", 1, 32, &b->min_digits);
	if (!rc)
		rc = get_int(l, n, "max_digits", 1, 32, &b->max_digits);
	if (!rc && b->min_digits > b->max_digits)
		rc = fail(l, n, "'min_digits' (%d) is more than 'max_digits' (%d)", b->min_digits,
			  b->max_digits);
	if (!rc)
		rc = get_str(l, n, "terminator", term, sizeof(term), false);
	if (!rc && term[0] && (term[1] || (term[0] != '#' && term[0] != '*')))
		rc = fail(l, map_get(l, n, "terminator"), "'terminator' must be # or *");
	b->terminator = term[0];
	return rc;
}

static int read_phrases(struct ld *l, const yaml_node_t *v, struct flow_intent *it)
{
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(l, v, "intent '%s': 'phrases' must be a list of sentences", it->name);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > PHRASES_MAX)
		return fail(l, v, "intent '%s': at most %d phrases", it->name, PHRASES_MAX);
	it->phrases = calloc(n ? n : 1, sizeof(*it->phrases));
	if (!it->phrases)
		return -ENOMEM;
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *pn = node(l, *i);
		const char *s = scalar(pn);

		if (!s || !s[0] || strlen(s) > 200)
			return fail(l, pn,
				    "intent '%s': a phrase must be a sentence of 1 to 200 "
				    "characters",
				    it->name);
		it->phrases[it->n_phrases] = strdup(s);
		if (!it->phrases[it->n_phrases])
			return -ENOMEM;
		it->n_phrases++;
	}
	return 0;
}

static int read_intent(struct ld *l, yaml_node_t *kn, yaml_node_t *v, struct flow_intent *it,
		       int bi)
{
	const char *name = scalar(kn);
	yaml_node_t *ph;
	char what[100];
	int rc;

	if (!name || !name_ok(name))
		return fail(l, kn, "an intent name may hold a-z, 0-9, '_' and '-' only");
	str_copy(it->name, name, sizeof(it->name));
	it->target = -1;
	if (v->type != YAML_MAPPING_NODE)
		return fail(l, v,
			    "intent '%s' must be a mapping (phrases, dtmf, answer, deflect, "
			    "goto)",
			    name);
	snprintf(what, sizeof(what), "intent '%s'", name);
	rc = map_keys(l, v, intent_keys, what);
	if (!rc && (ph = map_get(l, v, "phrases")))
		rc = read_phrases(l, ph, it);
	if (!rc)
		rc = get_str(l, v, "dtmf", it->dtmf, sizeof(it->dtmf), false);
	if (!rc && it->dtmf[0] && !dtmf_ok(it->dtmf, 4))
		rc = fail(l, map_get(l, v, "dtmf"),
			  "intent '%s': 'dtmf' must be 1 to 4 keys of "
			  "0-9, * and #",
			  name);
	if (!rc && !it->n_phrases && !it->dtmf[0])
		rc = fail(l, v, "intent '%s' needs 'phrases' or 'dtmf'", name);
	if (!rc)
		rc = get_text(l, v, "answer", &it->answer);
	if (!rc)
		rc = get_bool(l, v, "deflect", &it->deflect);
	if (!rc && it->deflect && !it->answer)
		rc = fail(l, v, "intent '%s' deflects, so it needs an 'answer' to give", name);
	if (!rc)
		rc = get_str(l, v, "requires", it->requires, sizeof(it->requires), false);
	if (!rc && it->requires[0] && !attr_ref_ok(it->requires))
		rc = fail(l, map_get(l, v, "requires"),
			  "intent '%s': 'requires' must be an attribute name (a-z, 0-9, '_', "
			  "'-', '.')",
			  name);
	if (!rc && it->requires[0] && !it->deflect)
		rc = fail(l, map_get(l, v, "requires"),
			  "intent '%s': 'requires' names what a deflection needs, so it "
			  "needs 'deflect: true'",
			  name);
	if (!rc && it->deflect && !it->requires[0] && map_get(l, v, "goto"))
		rc = fail(l, map_get(l, v, "goto"),
			  "intent '%s' deflects (ends the call), so it "
			  "cannot also 'goto' (unless it 'requires' an attribute)",
			  name);
	if (!rc && (!it->deflect || it->requires[0]))
		rc = get_branch(l, v, "goto", &it->target, bi, true);
	return rc;
}

static int read_bot(struct ld *l, const yaml_node_t *n, struct flow_block *b, int bi)
{
	yaml_node_t *in = map_get(l, n, "intents");
	int pct = 60, rc = 0;

	if (!in)
		return fail(l, n, "'intents' is required: what the caller may ask for");
	if (in->type != YAML_MAPPING_NODE || !map_len(in) || map_len(in) > INTENTS_MAX)
		return fail(l, in, "'intents' must map 1 to %d intent names to their phrases",
			    INTENTS_MAX);
	b->intents = calloc(map_len(in), sizeof(*b->intents));
	if (!b->intents)
		return -ENOMEM;
	for (yaml_node_pair_t *p = in->data.mapping.pairs.start;
	     !rc && p < in->data.mapping.pairs.top; p++) {
		for (size_t j = 0; j < b->n_intents; j++)
			if (scalar(node(l, p->key)) &&
			    !strcmp(b->intents[j].name, scalar(node(l, p->key))))
				return fail(l, node(l, p->key), "intent '%s' is given twice",
					    b->intents[j].name);
		rc = read_intent(l, node(l, p->key), node(l, p->value), &b->intents[b->n_intents],
				 bi);
		b->n_intents++; /* also on error: flow_free releases it */
	}
	if (!rc)
		rc = get_int(l, n, "threshold", 1, 100, &pct);
	b->threshold = pct / 100.0;
	return rc;
}

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_of(const char *s, size_t n)
{
	for (int d = 0; d < 7; d++)
		if (n == 3 && !strncmp(s, day_names[d], 3))
			return d;
	return -1;
}

/* "mon", "mon-fri", "daily" → first and last day. */
static bool days_parse(const char *s, int *d0, int *d1)
{
	const char *dash = strchr(s, '-');

	if (!strcmp(s, "daily"))
		return *d0 = 0, *d1 = 6, true;
	*d0 = day_of(s, dash ? (size_t)(dash - s) : strlen(s));
	*d1 = dash ? day_of(dash + 1, strlen(dash + 1)) : *d0;
	return *d0 >= 0 && *d1 >= *d0;
}

static bool hhmm(const char *s, int *min)
{
	int h, m;
	char c;

	if (sscanf(s, "%2d:%2d%c", &h, &m, &c) != 2 || strlen(s) != 5 || h < 0 || h > 24 || m < 0 ||
	    m > 59 || (h == 24 && m))
		return false;
	*min = h * 60 + m;
	return true;
}

static int read_weekly(struct ld *l, const yaml_node_t *w, struct flow_block *b)
{
	if (w->type != YAML_MAPPING_NODE || !map_len(w))
		return fail(l, w,
			    "'weekly' must map days (mon, mon-fri, daily) to opening times "
			    "(\"08:00-18:00\", or \"closed\")");
	b->ranges = calloc(RANGES_MAX, sizeof(*b->ranges));
	if (!b->ranges)
		return -ENOMEM;
	for (yaml_node_pair_t *p = w->data.mapping.pairs.start; p < w->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(l, p->key), *vn = node(l, p->value);
		const char *days = scalar(kn), *spec = scalar(vn);
		char buf[200], *save = NULL, *tok;
		int d0, d1;

		if (!days || !days_parse(days, &d0, &d1))
			return fail(l, kn,
				    "'%.20s' is not a day or range of days (mon … sun, "
				    "mon-fri, daily)",
				    days ? days : node_kind(kn));
		if (!spec || !spec[0] || strlen(spec) >= sizeof(buf))
			return fail(l, vn,
				    "'%s' needs opening times like \"08:00-18:00\" or "
				    "\"closed\"",
				    days);
		if (!strcmp(spec, "closed"))
			continue;
		str_copy(buf, spec, sizeof(buf));
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char from[8] = "", to[8] = "";
			int a, z;

			while (*tok == ' ')
				tok++;
			if (sscanf(tok, "%7[0-9:]-%7[0-9:]", from, to) != 2 || !hhmm(from, &a) ||
			    !hhmm(to, &z) || a >= z)
				return fail(l, vn,
					    "'%.40s' is not an opening time like "
					    "\"08:00-18:00\" (from before to)",
					    tok);
			for (int d = d0; d <= d1; d++) {
				if (b->n_ranges == RANGES_MAX)
					return fail(l, vn, "at most %d opening ranges", RANGES_MAX);
				b->ranges[b->n_ranges++] = (struct flow_range){d, a, z};
			}
		}
	}
	return 0;
}

static bool date_ok(const char *s)
{
	int y, m, d;
	char c;

	return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &c) == 3 && s[4] == '-' &&
	       s[7] == '-' && y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool tz_ok(const char *tz)
{
	char path[200];

	if (strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") !=
		    strlen(tz) ||
	    strstr(tz, ".."))
		return false;
	if (!strcmp(tz, "UTC"))
		return true;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return access(path, R_OK) == 0;
}

static int read_hours(struct ld *l, const yaml_node_t *n, struct flow_block *b, int bi)
{
	yaml_node_t *w = map_get(l, n, "weekly"), *h = map_get(l, n, "holidays");
	int rc = get_str(l, n, "timezone", b->timezone, sizeof(b->timezone), true);

	if (!rc && !tz_ok(b->timezone))
		rc = fail(l, map_get(l, n, "timezone"),
			  "'%s' is not a time zone this machine knows (e.g. Europe/Paris, UTC)",
			  b->timezone);
	if (!rc && !w)
		rc = fail(l, n, "'weekly' is required: the opening times");
	if (!rc)
		rc = read_weekly(l, w, b);
	if (!rc && h) {
		size_t cnt = h->type == YAML_SEQUENCE_NODE ? (size_t)(h->data.sequence.items.top -
								      h->data.sequence.items.start)
							   : 0;
		if (h->type != YAML_SEQUENCE_NODE || cnt > HOLIDAYS_MAX)
			return fail(l, h,
				    "'holidays' must be a list of dates (YYYY-MM-DD), at most "
				    "%d",
				    HOLIDAYS_MAX);
		b->holidays = calloc(cnt ? cnt : 1, sizeof(*b->holidays));
		if (!b->holidays)
			return -ENOMEM;
		for (yaml_node_item_t *i = h->data.sequence.items.start;
		     i < h->data.sequence.items.top; i++) {
			const char *s = scalar(node(l, *i));
			if (!s || !date_ok(s))
				return fail(l, node(l, *i), "'%.20s' is not a date (YYYY-MM-DD)",
					    s ? s : "?");
			str_copy(b->holidays[b->n_holidays++], s, sizeof(b->holidays[0]));
		}
	}
	if (!rc)
		rc = get_branch(l, n, "open", &b->open, bi, true);
	if (!rc)
		rc = get_branch(l, n, "closed", &b->closed, bi, true);
	return rc;
}

static int read_set(struct ld *l, const yaml_node_t *n, struct flow_block *b)
{
	yaml_node_t *a = map_get(l, n, "attributes");

	if (!a)
		return fail(l, n, "'attributes' is required: names and values to set");
	if (a->type != YAML_MAPPING_NODE || !map_len(a) || map_len(a) > ATTRS_MAX)
		return fail(l, a, "'attributes' must map 1 to %d names to values", ATTRS_MAX);
	b->attrs = calloc(map_len(a), sizeof(*b->attrs));
	if (!b->attrs)
		return -ENOMEM;
	for (yaml_node_pair_t *p = a->data.mapping.pairs.start; p < a->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node(l, p->key)), *v = scalar(node(l, p->value));

		if (!k || !name_ok(k))
			return fail(l, node(l, p->key),
				    "an attribute name may hold a-z, 0-9, '_' "
				    "and '-' only");
		if (!v || strlen(v) > TEXT_MAX)
			return fail(l, node(l, p->value), "attribute '%s' needs a value (text)", k);
		str_copy(b->attrs[b->n_attrs].name, k, sizeof(b->attrs[0].name));
		b->attrs[b->n_attrs].value = strdup(v);
		if (!b->attrs[b->n_attrs++].value)
			return -ENOMEM;
	}
	return 0;
}

static int read_queue(struct ld *l, const yaml_node_t *n, struct flow_block *b, int bi)
{
	int rc = get_str(l, n, "queue", b->queue, sizeof(b->queue), true);

	if (!rc)
		rc = get_int(l, n, "priority", -100, 100, &b->priority);
	if (!rc)
		rc = get_int(l, n, "max_wait", 1, 86400, &b->max_wait_s);
	if (!rc)
		rc = get_int(l, n, "announce_every", 5, 3600, &b->announce_every_s);
	if (!rc)
		rc = get_text(l, n, "hold_music", &b->hold_music);
	if (!rc)
		rc = get_branch(l, n, "overflow", &b->overflow, bi, b->max_wait_s > 0);
	if (!rc && map_get(l, n, "overflow") && !b->max_wait_s)
		rc = fail(l, map_get(l, n, "overflow"), "'overflow' needs 'max_wait' (seconds)");
	if (!rc)
		rc = get_branch(l, n, "empty", &b->empty, bi, false);
	return rc;
}

static int read_kind(struct ld *l, const yaml_node_t *n, struct flow_block *b)
{
	yaml_node_t *kn = map_get(l, n, "kind");
	const char *k = scalar(kn);

	if (!kn)
		return fail(l, n,
			    "'kind' is required: play, menu, collect, bot, hours, set, queue, "
			    "transfer or disconnect");
	for (int i = 0; i <= FLOW_DISCONNECT; i++) {
		if (k && !strcmp(k, kinds[i].name)) {
			b->kind = (enum flow_kind)i;
			return map_keys(l, n, kinds[i].keys, kinds[i].name);
		}
	}
	return fail(l, kn,
		    "unknown kind '%.30s' (play, menu, collect, bot, hours, set, queue, "
		    "transfer, disconnect)",
		    k ? k : node_kind(kn));
}

static int read_block(struct ld *l, yaml_node_t *kn, yaml_node_t *n, int bi)
{
	struct flow_block *b = &l->f->blocks[bi];
	const char *name = scalar(kn);
	int rc;

	b->next = b->no_input = b->no_match = b->open = b->closed = b->overflow = b->empty =
		b->failed = -1;
	b->timeout_s = 5, b->retries = 2;
	b->line = (int)kn->start_mark.line + 1;
	if (!name || !name_ok(name))
		return fail(l, kn, "a block name may hold a-z, 0-9, '_' and '-' (1 to %d)",
			    FLOW_NAME - 1);
	str_copy(b->name, name, sizeof(b->name));
	for (int j = 0; j < bi; j++)
		if (!strcmp(l->f->blocks[j].name, name))
			return fail(l, kn, "block '%s' is given twice (also on line %d)", name,
				    l->f->blocks[j].line);
	l->block = b->name;
	if (n->type != YAML_MAPPING_NODE)
		return fail(l, n, "a block must be a mapping with a 'kind', not %s", node_kind(n));
	rc = read_kind(l, n, b);
	if (!rc && (b->kind == FLOW_PLAY || b->kind == FLOW_MENU || b->kind == FLOW_COLLECT ||
		    b->kind == FLOW_BOT))
		rc = get_prompt(l, n, b, b->kind != FLOW_BOT);
	if (!rc && b->kind != FLOW_PLAY && b->kind != FLOW_SET)
		rc = get_int(l, n, "timeout", 1, 60, &b->timeout_s);
	if (!rc)
		rc = get_int(l, n, "retries", 0, 10, &b->retries);
	if (rc)
		return rc;
	switch (b->kind) {
	case FLOW_PLAY: return get_branch(l, n, "next", &b->next, bi, true);
	case FLOW_MENU: rc = read_menu(l, n, b, bi); break;
	case FLOW_COLLECT:
		rc = read_collect(l, n, b);
		if (!rc)
			rc = get_branch(l, n, "next", &b->next, bi, true);
		break;
	case FLOW_BOT: rc = read_bot(l, n, b, bi); break;
	case FLOW_HOURS: return read_hours(l, n, b, bi);
	case FLOW_SET:
		rc = read_set(l, n, b);
		return rc ? rc : get_branch(l, n, "next", &b->next, bi, true);
	case FLOW_QUEUE: return read_queue(l, n, b, bi);
	case FLOW_TRANSFER:
		rc = get_str(l, n, "number", b->number, sizeof(b->number), true);
		if (!rc && (!b->number[0] || strspn(b->number, "+0123456789") != strlen(b->number)))
			rc = fail(l, map_get(l, n, "number"),
				  "'number' must be digits with an optional leading +");
		return rc ? rc : get_branch(l, n, "failed", &b->failed, bi, false);
	case FLOW_DISCONNECT: return 0;
	}
	if (!rc)
		rc = get_branch(l, n, "no_input", &b->no_input, bi, false);
	if (!rc && b->kind != FLOW_COLLECT)
		rc = get_branch(l, n, "no_match", &b->no_match, bi, false);
	return rc;
}

/* ---- the file ---- */
static const char *const top_keys[] = {"name", "start", "blocks", NULL};

static int refs_resolve(struct ld *l)
{
	for (size_t i = 0; i < l->n_refs; i++) {
		struct ref *r = &l->refs[i];
		int t = flow_block_index(l->f, r->target);

		if (t < 0) {
			snprintf(l->err, l->errsz,
				 "%s:%d: block '%s': '%s' goes to '%s', which is "
				 "not a block",
				 l->name, r->line, l->f->blocks[r->block].name, r->key, r->target);
			return -EINVAL;
		}
		*r->slot = t;
	}
	return 0;
}

static int read_flow(struct ld *l)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc), *blocks, *start;
	int rc;

	if (!root)
		return fail(l, NULL, "the file is empty; a flow needs 'start' and 'blocks'");
	if (root->type != YAML_MAPPING_NODE)
		return fail(l, root, "a flow must be a mapping with 'start' and 'blocks'");
	rc = map_keys(l, root, top_keys, "a flow");
	if (!rc)
		rc = get_str(l, root, "name", l->f->name, sizeof(l->f->name), false);
	if (rc)
		return rc;
	if (l->f->name[0] && !name_ok(l->f->name))
		return fail(l, map_get(l, root, "name"),
			    "a flow name may hold a-z, 0-9, '_' and '-' only");
	blocks = map_get(l, root, "blocks");
	if (!blocks || blocks->type != YAML_MAPPING_NODE || !map_len(blocks))
		return fail(l, blocks ? blocks : root,
			    "'blocks' is required: a mapping of block "
			    "names to blocks");
	if (map_len(blocks) > FLOW_MAX_BLKS)
		return fail(l, blocks, "at most %d blocks", FLOW_MAX_BLKS);
	l->f->blocks = calloc(map_len(blocks), sizeof(*l->f->blocks));
	if (!l->f->blocks)
		return -ENOMEM;
	for (yaml_node_pair_t *p = blocks->data.mapping.pairs.start;
	     p < blocks->data.mapping.pairs.top; p++) {
		int bi = (int)l->f->n_blocks++;
		rc = read_block(l, node(l, p->key), node(l, p->value), bi);
		if (rc)
			return rc;
		l->block = NULL;
	}
	start = map_get(l, root, "start");
	if (!start)
		return fail(l, root, "'start' is required: the first block");
	l->f->start = flow_block_index(l->f, scalar(start) ? scalar(start) : "");
	if (l->f->start < 0)
		return fail(l, start, "'start' goes to '%.40s', which is not a block",
			    scalar(start) ? scalar(start) : node_kind(start));
	return refs_resolve(l);
}

/* Anchors and aliases are refused before the document is composed. */
static int no_aliases(struct ld *l, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(l->err, l->errsz, "%s:%zu: %s", l->name,
				 (size_t)p.problem_mark.line + 1,
				 p.problem ? p.problem : "not valid YAML");
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT ||
		    (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
		    (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor) ||
		    (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor)) {
			snprintf(l->err, l->errsz,
				 "%s:%zu: anchors and aliases (& and *) are not "
				 "allowed in a flow",
				 l->name, (size_t)ev.start_mark.line + 1);
			rc = -EINVAL;
		}
		if (ev.type == YAML_DOCUMENT_END_EVENT && !rc) {
			yaml_event_delete(&ev);
			if (!yaml_parser_parse(&p, &ev)) {
				rc = -EINVAL;
				snprintf(l->err, l->errsz, "%s:%zu: not valid YAML", l->name,
					 (size_t)p.problem_mark.line + 1);
				break;
			}
			if (ev.type != YAML_STREAM_END_EVENT) {
				snprintf(l->err, l->errsz,
					 "%s:%zu: one flow a file: a second "
					 "document starts here",
					 l->name, (size_t)ev.start_mark.line + 1);
				rc = -EINVAL;
			}
		}
		if (rc || ev.type == YAML_STREAM_END_EVENT)
			break;
		yaml_event_delete(&ev);
	}
	yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	return rc;
}

static void flow_destroy(void *arg);

int flow_load_buf(struct flow **fp, const char *name, const char *buf, size_t len, char *err,
		  size_t errsz)
{
	struct ld l = {.name = name, .err = err, .errsz = errsz};
	yaml_parser_t p;
	int rc;

	*fp = NULL;
	err[0] = '\0';
	if (len > FLOW_MAX_SIZE) {
		snprintf(err, errsz, "%s: larger than %d bytes", name, FLOW_MAX_SIZE);
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errsz, "%s: a NUL byte; a flow is text", name);
		return -EINVAL;
	}
	rc = no_aliases(&l, buf, len);
	if (rc)
		return rc;
	l.f = mem_zalloc(sizeof(*l.f), flow_destroy);
	if (!l.f || !yaml_parser_initialize(&p)) {
		mem_deref(l.f);
		snprintf(err, errsz, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &l.doc)) {
		snprintf(err, errsz, "%s:%zu: %s", name, (size_t)p.problem_mark.line + 1,
			 p.problem ? p.problem : "not valid YAML");
		yaml_parser_delete(&p);
		mem_deref(l.f);
		return -EINVAL;
	}
	str_copy(l.f->file, name, sizeof(l.f->file));
	rc = read_flow(&l);
	if (rc == -ENOMEM)
		snprintf(err, errsz, "%s: out of memory", name);
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&p);
	free(l.refs);
	if (rc) {
		flow_free(l.f);
		return rc;
	}
	*fp = l.f;
	return 0;
}

int flow_load_file(struct flow **fp, const char *path, char *err, size_t errsz)
{
	FILE *fh = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	*fp = NULL;
	if (!fh) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return rc;
	}
	buf = malloc(FLOW_MAX_SIZE + 1);
	if (!buf) {
		fclose(fh);
		snprintf(err, errsz, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(buf, 1, FLOW_MAX_SIZE + 1, fh);
	fclose(fh);
	rc = flow_load_buf(fp, path, buf, n, err, errsz);
	free(buf);
	return rc;
}

int flow_block_index(const struct flow *f, const char *name)
{
	for (size_t i = 0; i < f->n_blocks; i++)
		if (!strcmp(f->blocks[i].name, name))
			return (int)i;
	return -1;
}

static void block_free(struct flow_block *b)
{
	free(b->prompt.text);
	free(b->prompt.file);
	free(b->choices);
	for (size_t i = 0; i < b->n_intents; i++) {
		for (size_t j = 0; j < b->intents[i].n_phrases; j++)
			free(b->intents[i].phrases[j]);
		free(b->intents[i].phrases);
		free(b->intents[i].answer);
	}
	free(b->intents);
	mem_deref(b->grammar);
	free(b->ranges);
	free(b->holidays);
	for (size_t i = 0; i < b->n_attrs; i++)
		free(b->attrs[i].value);
	free(b->attrs);
	free(b->hold_music);
}

static void flow_destroy(void *arg)
{
	struct flow *f = arg;

	for (size_t i = 0; i < f->n_blocks; i++)
		block_free(&f->blocks[i]);
	free(f->blocks);
}

struct flow *flow_ref(const struct flow *f)
{
	return mem_ref((void *)f); /* the count is not part of the flow's contents */
}

void flow_free(struct flow *f)
{
	mem_deref(f);
}
