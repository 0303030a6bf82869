/*
 * config.c — the YAML configuration loader (format: docs/CONFIG.md).
 *
 * DESIGN
 * - libyaml's event API drives a small recursive-descent reader:
 *   stream → one document → top-level mapping → section mappings → scalars.
 *   The schema is a set of static tables (conf_top and its sections), so the
 *   reader has no per-key code: a new key is one table row.
 * - The schema is two levels deep and the reader never enters a node it does
 *   not expect; anything else is an error at its first event. Nesting depth is
 *   therefore bounded (at most two open mappings) whatever the input, and no
 *   "skip a subtree" code exists. Anchors and aliases are refused outright.
 * - A load parses into a copy of the caller's config and commits it only on
 *   success, so a failed load leaves the config untouched.
 * - Every error is one line "NAME:LINE: message" (LINE 1-based, from
 *   libyaml's marks) and CC_EBADCONF; values quoted back are cut to
 *   CONF_ECHO_MAX bytes with control bytes shown as '?'.
 * - Only libc and libyaml are used (plus log_error in config_finish), so the
 *   loader is unit-tested and fuzzed on its own.
 */
#define LOG_MODULE "config"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONF_FILE_MAX (1024 * 1024) /* bytes; a real config is under 1 KiB */
#define CONF_ECHO_MAX 40	    /* bytes of a bad value quoted back */
#define CONF_DB_NAME  "/switchboard.db"
/* A data_dir from the file always leaves room for "<data_dir>/switchboard.db". */
#define CONF_DATA_DIR_SIZE (CONF_PATH_MAX - sizeof(CONF_DB_NAME) + 1)

enum conf_type { CONF_SECTION, CONF_STRING, CONF_INT, CONF_BOOL, CONF_LEVEL, CONF_BACKEND };

/* An accepted word of a BOOL/LEVEL/BACKEND key; value < 0: known, refused. */
struct conf_word {
	const char *word;
	int value;
};

struct conf_section;

/* One schema row: the field at `off`, and what it accepts. */
struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off, size;		/* size: STRING and BACKEND buffer */
	long min, max;			/* INT range; STRING: min = least length */
	const struct conf_word *words;	/* BOOL, LEVEL, BACKEND; NULL-ended */
	const char *hint;		/* the words, for messages */
	const struct conf_section *sub; /* SECTION */
	size_t line_off;		/* != 0: an int field given the key's line */
};

struct conf_section {
	const char *name; /* "" for the top level */
	const struct conf_key *keys;
	size_t n; /* <= 32: duplicates are tracked in a uint32_t */
};

static const struct conf_word conf_bools[] = {
	{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"on", 1}, {"off", 0}, {NULL, 0},
};
static const struct conf_word conf_levels[] = {
	{"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN},
	{"error", LOG_ERROR}, {NULL, 0},
};
static const struct conf_word conf_backends[] = {
	{"sqlite", 0},
	{"postgresql", -1},
	{"postgres", -1},
	{NULL, 0},
};

#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define KEY_STR(nm, f, least)                                                                      \
	{                                                                                          \
		.name = nm, .type = CONF_STRING, FIELD(f), .min = least                            \
	}
/* A file path checked after loading (api_tls_check): its line is kept. */
#define KEY_PATH(nm, f, lf)                                                                        \
	{                                                                                          \
		.name = nm, .type = CONF_STRING, FIELD(f), .line_off = offsetof(struct config, lf) \
	}
#define KEY_INT(nm, f, lo, hi)                                                                     \
	{                                                                                          \
		.name = nm, .type = CONF_INT, FIELD(f), .min = lo, .max = hi                       \
	}
#define KEY_WORD(nm, t, f, w, h)                                                                   \
	{                                                                                          \
		.name = nm, .type = t, FIELD(f), .words = w, .hint = h                             \
	}
#define KEY_SECTION(nm, s)                                                                         \
	{                                                                                          \
		.name = nm, .type = CONF_SECTION, .sub = &s                                        \
	}
#define SECTION(nm, k)                                                                             \
	{                                                                                          \
		.name = nm, .keys = k, .n = sizeof(k) / sizeof(k[0])                               \
	}

static const struct conf_key conf_http_keys[] = {
	KEY_STR("address", http_address, 1),
	KEY_INT("port", http_port, 1, 65535),
	KEY_INT("max_body", http_max_body, 1024, 16777216),
	KEY_STR("web_root", http_web_root, 0), /* "" = <project>/web/dist */
	KEY_PATH("tls_cert", http_tls_cert, http_tls_cert_line),
	KEY_PATH("tls_key", http_tls_key, http_tls_key_line),
	KEY_INT("ws_idle", http_ws_idle_s, 3, 600),
};
static const struct conf_key conf_store_keys[] = {
	KEY_WORD("backend", CONF_BACKEND, store_backend, conf_backends, "sqlite"),
	KEY_STR("path", store_path, 0), /* "" = derived from data_dir */
	KEY_INT("readers", store_readers, 1, 64),
};
static const struct conf_key conf_routing_keys[] = {
	KEY_WORD("awa_enabled", CONF_BOOL, awa_enabled, conf_bools, "true or false"),
};
static const struct conf_key conf_auth_keys[] = {
	KEY_INT("session_ttl", session_ttl_s, 60, 2592000),
};
static const struct conf_key conf_log_keys[] = {
	KEY_WORD("level", CONF_LEVEL, log_level, conf_levels, "debug, info, warn or error"),
};
static const struct conf_key conf_sip_keys[] = {
	KEY_STR("address", sip_address, 1),
	KEY_INT("port", sip_port, 1, 65535),
	KEY_STR("realm", sip_realm, 1),
	KEY_INT("max_calls", max_calls, 1, 100000),
	KEY_INT("ack_timeout_ms", sip_ack_timeout_ms, 500, 32000),
};
static const struct conf_key conf_media_keys[] = {
	KEY_STR("address", rtp_address, 1),
	KEY_INT("rtp_min", rtp_min, 1024, 65534),
	KEY_INT("rtp_max", rtp_max, 1025, 65535),
	KEY_STR("hold_music", hold_wav, 0),
	/* media threads; 0: the cores less one, at least 1 */
	KEY_INT("workers", media_workers, 0, 64),
	KEY_INT("workers_nice", media_workers_nice, -20, 19),
};
static const struct conf_key conf_calls_keys[] = {
	KEY_INT("greeting_ms", greeting_ms, 0, 60000),
	KEY_INT("offer_timeout", offer_timeout_s, 1, 600),
	KEY_INT("wrapup_timeout", wrapup_timeout_s, 0, 86400),
	KEY_STR("greeting", greeting_wav, 0),
	KEY_STR("flows_dir", flows_dir, 0),
	KEY_STR("outbound_uri", outbound_uri, 0), /* "" = no transfers out */
	KEY_INT("transfer_timeout", transfer_timeout_s, 1, 300),
	KEY_INT("dial_timeout", dial_timeout_s, 1, 300),
	/* demo mode only: the built-in customer behind an empty outbound_uri */
	KEY_WORD("demo_customer", CONF_BOOL, demo_customer, conf_bools, "true or false"),
};
static const struct conf_key conf_webhooks_keys[] = {
	KEY_INT("timeout_ms", webhook_timeout_ms, 100, 120000),
	KEY_INT("backoff_min_ms", webhook_backoff_min_ms, 10, 3600000),
	KEY_INT("backoff_max_ms", webhook_backoff_max_ms, 10, 86400000),
	KEY_INT("retention_hours", webhook_retention_h, 1, 8760),
};
static const struct conf_key conf_wallboard_keys[] = {
	KEY_INT("push_ms", wallboard_push_ms, 0, 10000),
	KEY_INT("acw_alert", wallboard_acw_alert_s, 1, 86400),
	KEY_INT("hold_alert", wallboard_hold_alert_s, 1, 86400),
	KEY_INT("missed_offers_alert", wallboard_missed_alert, 1, 100),
};
static const struct conf_section conf_wallboard = SECTION("wallboard", conf_wallboard_keys);
static const struct conf_key conf_transcripts_keys[] = {
	KEY_WORD("enabled", CONF_BOOL, transcripts_enabled, conf_bools, "true or false"),
	KEY_INT("decoders", transcript_decoders, 1, 16),
	KEY_INT("domain_weight_percent", transcript_domain_pct, 0, 90),
	KEY_WORD("redact", CONF_BOOL, transcript_redact, conf_bools, "true or false"),
	KEY_STR("corpus", transcript_corpus, 0),
};
static const struct conf_section conf_transcripts = SECTION("transcripts", conf_transcripts_keys);
static const struct conf_section conf_sip = SECTION("sip", conf_sip_keys);
static const struct conf_section conf_media = SECTION("media", conf_media_keys);
static const struct conf_section conf_calls = SECTION("calls", conf_calls_keys);
static const struct conf_section conf_http = SECTION("http", conf_http_keys);
static const struct conf_section conf_store = SECTION("store", conf_store_keys);
static const struct conf_section conf_routing = SECTION("routing", conf_routing_keys);
static const struct conf_section conf_auth = SECTION("auth", conf_auth_keys);
static const struct conf_section conf_log = SECTION("log", conf_log_keys);
static const struct conf_section conf_webhooks = SECTION("webhooks", conf_webhooks_keys);
static const struct conf_key conf_top_keys[] = {
	/* Capped so that "<data_dir>/switchboard.db" always fits store_path. */
	{.name = "data_dir",
	 .type = CONF_STRING,
	 .off = offsetof(struct config, data_dir),
	 .size = CONF_DATA_DIR_SIZE,
	 .min = 1},
	KEY_SECTION("http", conf_http),
	KEY_SECTION("store", conf_store),
	KEY_SECTION("routing", conf_routing),
	KEY_SECTION("auth", conf_auth),
	KEY_SECTION("log", conf_log),
	KEY_SECTION("sip", conf_sip),
	KEY_SECTION("media", conf_media),
	KEY_SECTION("calls", conf_calls),
	KEY_SECTION("webhooks", conf_webhooks),
	KEY_SECTION("wallboard", conf_wallboard),
	KEY_SECTION("transcripts", conf_transcripts),
};
static const struct conf_section conf_top = SECTION("", conf_top_keys);

/* One load in progress. `ev` is valid (and owned) while has_ev is set. */
struct conf_parser {
	yaml_parser_t yp;
	yaml_event_t ev;
	bool has_ev;
	const char *name;
	const char *buf;
	size_t len;
	struct config *cfg;
	char *err;
	size_t errsz;
};

/* ---- small helpers ---- */

/* strlcpy: dst always NUL-terminated (size > 0). */
static void conf_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A printable, bounded copy of s[0..len) for quoting in a message. */
static const char *conf_echo(const char *s, size_t len, char out[CONF_ECHO_MAX + 4])
{
	size_t n = len;

	if (len > CONF_ECHO_MAX) {
		n = CONF_ECHO_MAX - 3;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* do not split a UTF-8 sequence */
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	strcpy(out + n, n < len ? "..." : "");
	return out;
}

static size_t conf_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

__attribute__((format(printf, 3, 4))) static int conf_fail(struct conf_parser *p, size_t line,
							   const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (!p->errsz)
		return CC_EBADCONF;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%s:%zu: %s", p->name, line, msg);
	return CC_EBADCONF;
}

static int conf_fail_oom(struct conf_parser *p)
{
	if (p->errsz)
		snprintf(p->err, p->errsz, "%s: out of memory", p->name);
	return -ENOMEM;
}

/* libyaml's reader errors carry a byte offset, not a mark. */
static size_t conf_offset_line(const struct conf_parser *p, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off && i < p->len; i++)
		line += p->buf[i] == '\n';
	return line;
}

static int conf_fail_yaml(struct conf_parser *p)
{
	const yaml_parser_t *yp = &p->yp;
	size_t line = yp->problem_mark.line + 1;

	if (yp->error == YAML_MEMORY_ERROR)
		return conf_fail_oom(p);
	if (yp->error == YAML_READER_ERROR)
		line = conf_offset_line(p, yp->problem_offset);
	return conf_fail(p, line, "YAML syntax error: %s", yp->problem ? yp->problem : "unknown");
}

/* ---- events ---- */

static const yaml_char_t *conf_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT: return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor;
	default: return NULL;
	}
}

/* Advances to the next event; refuses aliases and anchors. */
static int conf_next(struct conf_parser *p)
{
	const char *anchor;
	char echo[CONF_ECHO_MAX + 4];

	if (p->has_ev)
		yaml_event_delete(&p->ev);
	p->has_ev = false;
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return conf_fail_yaml(p);
	p->has_ev = true;
	if (p->ev.type == YAML_ALIAS_EVENT)
		return conf_fail(p, conf_line(&p->ev), "aliases (*name) are not supported");
	anchor = (const char *)conf_anchor(&p->ev);
	if (anchor)
		return conf_fail(p, conf_line(&p->ev), "anchors (&%s) are not supported",
				 conf_echo(anchor, strlen(anchor), echo));
	return 0;
}

/* An empty value, "~" or "null", written plain: an empty section. */
static bool conf_is_null(const yaml_event_t *ev)
{
	const char *v;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)ev->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

static const char *conf_kind(const yaml_event_t *ev)
{
	return ev->type == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping";
}

/* "address, port, max_body" */
static const char *conf_key_list(const struct conf_section *sec, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < sec->n; i++) {
		if (i)
			strncat(buf, ", ", size - strlen(buf) - 1);
		strncat(buf, sec->keys[i].name, size - strlen(buf) - 1);
	}
	return buf;
}

/* ---- scalar values ---- */

/* A plain decimal integer of at most 9 digits (every range fits in that). */
static bool conf_long_parse(const char *s, long *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	size_t n = strspn(d, "0123456789");

	if (!n || d[n] || n > 9)
		return false;
	*out = strtol(s, NULL, 10);
	return true;
}

static int conf_set_string(struct conf_parser *p, const struct conf_key *k, const char *path,
			   const char *v, size_t len)
{
	if (len < (size_t)k->min)
		return conf_fail(p, conf_line(&p->ev), "'%s' must not be empty", path);
	if (len >= k->size)
		return conf_fail(p, conf_line(&p->ev), "'%s' is longer than %zu characters", path,
				 k->size - 1);
	memcpy((char *)p->cfg + k->off, v, len + 1);
	if (k->line_off)
		*(int *)((char *)p->cfg + k->line_off) = (int)conf_line(&p->ev);
	return 0;
}

static int conf_set_int(struct conf_parser *p, const struct conf_key *k, const char *path,
			const char *v, size_t len)
{
	char echo[CONF_ECHO_MAX + 4];
	long n;

	if (!conf_long_parse(v, &n) || n < k->min || n > k->max)
		return conf_fail(p, conf_line(&p->ev),
				 "'%s' must be an integer from %ld to %ld, got '%s'", path, k->min,
				 k->max, conf_echo(v, len, echo));
	*(int *)((char *)p->cfg + k->off) = (int)n;
	return 0;
}

/* BOOL, LEVEL, BACKEND: one of k->words, any case. */
static int conf_set_word(struct conf_parser *p, const struct conf_key *k, const char *path,
			 const char *v, size_t len)
{
	char echo[CONF_ECHO_MAX + 4], *f = (char *)p->cfg + k->off;
	const struct conf_word *w = k->words;

	while (w->word && strcasecmp(v, w->word))
		w++;
	if (!w->word)
		return conf_fail(p, conf_line(&p->ev), "'%s' must be %s, got '%s'", path, k->hint,
				 conf_echo(v, len, echo));
	if (w->value < 0)
		return conf_fail(p, conf_line(&p->ev), "'%s': %s is not available yet (use %s)",
				 path, w->word, k->hint);
	if (k->type == CONF_BOOL)
		*(bool *)f = w->value;
	else if (k->type == CONF_LEVEL)
		*(enum log_level *)f = (enum log_level)w->value;
	else
		conf_copy(f, w->word, k->size);
	return 0;
}

/* Stores the current scalar event into the field named by k. */
static int conf_set(struct conf_parser *p, const struct conf_key *k, const char *path)
{
	const char *v = (const char *)p->ev.data.scalar.value;
	size_t len = p->ev.data.scalar.length;

	if (memchr(v, '\0', len))
		return conf_fail(p, conf_line(&p->ev), "'%s' must not contain NUL characters",
				 path);
	switch (k->type) {
	case CONF_STRING: return conf_set_string(p, k, path, v, len);
	case CONF_INT: return conf_set_int(p, k, path, v, len);
	default: return conf_set_word(p, k, path, v, len);
	}
}

/* ---- structure ---- */

static int conf_parse_map(struct conf_parser *p, const struct conf_section *sec);

/* The value of key k in sec; the current event is its first event. */
static int conf_parse_value(struct conf_parser *p, const struct conf_section *sec,
			    const struct conf_key *k)
{
	char path[64], keys[128];

	snprintf(path, sizeof(path), "%s%s%s", sec->name, *sec->name ? "." : "", k->name);
	if (k->type == CONF_SECTION) {
		if (p->ev.type == YAML_MAPPING_START_EVENT)
			return conf_parse_map(p, k->sub);
		if (conf_is_null(&p->ev))
			return 0; /* "http:" alone: nothing to change */
		return conf_fail(p, conf_line(&p->ev), "'%s' must be a mapping (keys: %s)", path,
				 conf_key_list(k->sub, keys, sizeof(keys)));
	}
	if (p->ev.type != YAML_SCALAR_EVENT)
		return conf_fail(p, conf_line(&p->ev), "'%s' must be a single value, not %s", path,
				 conf_kind(&p->ev));
	return conf_set(p, k, path);
}

/* Finds the current key event in sec; refuses unknown and duplicate keys. */
static int conf_parse_key(struct conf_parser *p, const struct conf_section *sec, uint32_t *seen,
			  const struct conf_key **kp)
{
	char echo[CONF_ECHO_MAX + 4], keys[128];
	const char *v;
	size_t len, i;

	if (p->ev.type != YAML_SCALAR_EVENT)
		return conf_fail(p, conf_line(&p->ev), "a key must be a name, not %s",
				 conf_kind(&p->ev));
	v = (const char *)p->ev.data.scalar.value;
	len = p->ev.data.scalar.length;
	for (i = 0; i < sec->n; i++) {
		if (strlen(sec->keys[i].name) == len && !memcmp(sec->keys[i].name, v, len))
			break;
	}
	conf_echo(v, len, echo);
	conf_key_list(sec, keys, sizeof(keys));
	if (i == sec->n && !*sec->name)
		return conf_fail(p, conf_line(&p->ev),
				 "unknown key '%s' at the top level (expected: %s)", echo, keys);
	if (i == sec->n)
		return conf_fail(p, conf_line(&p->ev),
				 "unknown key '%s' in section '%s' (expected: %s)", echo, sec->name,
				 keys);
	if (*seen & (1u << i))
		return conf_fail(p, conf_line(&p->ev), "duplicate key '%s'", echo);
	*seen |= 1u << i;
	*kp = &sec->keys[i];
	return 0;
}

/* The current event is MAPPING_START; consumes through MAPPING_END. */
static int conf_parse_map(struct conf_parser *p, const struct conf_section *sec)
{
	const struct conf_key *k = NULL;
	uint32_t seen = 0;
	int err;

	for (;;) {
		if ((err = conf_next(p)))
			return err;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if ((err = conf_parse_key(p, sec, &seen, &k)) || (err = conf_next(p)) ||
		    (err = conf_parse_value(p, sec, k)))
			return err;
	}
}

/* STREAM_START, then nothing (empty file) or exactly one document. */
static int conf_parse_stream(struct conf_parser *p)
{
	int err;

	if ((err = conf_next(p)) || (err = conf_next(p)))
		return err;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty, or only comments: the defaults */
	if ((err = conf_next(p)))
		return err;
	if (p->ev.type == YAML_MAPPING_START_EVENT)
		err = conf_parse_map(p, &conf_top);
	else if (!conf_is_null(&p->ev)) /* "---" alone is an empty document */
		err = conf_fail(p, conf_line(&p->ev), "the top level must be a mapping");
	if (err || (err = conf_next(p)) || (err = conf_next(p)))
		return err; /* DOCUMENT_END, then STREAM_END or another document */
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return conf_fail(p, conf_line(&p->ev), "only one YAML document is allowed");
	return 0;
}

/* A certificate needs its key and a key its certificate; whether the files
 * hold them is api_tls_check's part (the loader reads only YAML). */
static int conf_check_tls(struct conf_parser *p)
{
	const struct config *c = p->cfg;

	if (c->http_tls_cert[0] && !c->http_tls_key[0])
		return conf_fail(
			p, (size_t)c->http_tls_cert_line,
			"'http.tls_cert' needs 'http.tls_key' (the certificate's private key)");
	if (c->http_tls_key[0] && !c->http_tls_cert[0])
		return conf_fail(
			p, (size_t)c->http_tls_key_line,
			"'http.tls_key' needs 'http.tls_cert' (the certificate it belongs to)");
	return 0;
}

/* ---- public ---- */

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	conf_copy(cfg->data_dir, "./data", sizeof(cfg->data_dir));
	conf_copy(cfg->http_address, "127.0.0.1", sizeof(cfg->http_address));
	cfg->http_port = 8080;
	conf_copy(cfg->store_backend, "sqlite", sizeof(cfg->store_backend));
	cfg->store_readers = 4;
	cfg->awa_enabled = true;
	cfg->demo_customer = true;
	cfg->session_ttl_s = 28800;
	cfg->http_max_body = 65536;
	cfg->http_ws_idle_s = 30;
	cfg->log_level = LOG_INFO;
	conf_copy(cfg->sip_address, "127.0.0.1", sizeof(cfg->sip_address));
	cfg->sip_port = 5060;
	conf_copy(cfg->sip_realm, "switchboard", sizeof(cfg->sip_realm));
	conf_copy(cfg->rtp_address, "127.0.0.1", sizeof(cfg->rtp_address));
	cfg->rtp_min = 20000;
	cfg->media_workers_nice = -10;
	cfg->rtp_max = 29999;
	cfg->max_calls = 2000;
	cfg->sip_ack_timeout_ms = 2000;
	cfg->greeting_ms = 1500;
	cfg->offer_timeout_s = 20;
	cfg->transfer_timeout_s = 30;
	cfg->dial_timeout_s = 30;
	cfg->wrapup_timeout_s = 0;
	cfg->webhook_timeout_ms = 5000;
	cfg->webhook_backoff_min_ms = 1000;
	cfg->webhook_backoff_max_ms = 300000;
	cfg->webhook_retention_h = 168;
	cfg->wallboard_push_ms = 250;
	cfg->wallboard_acw_alert_s = 120;
	cfg->wallboard_hold_alert_s = 90;
	cfg->wallboard_missed_alert = 3;
	cfg->transcripts_enabled = true;
	cfg->transcript_decoders = 1;
	cfg->transcript_domain_pct = 40;
	cfg->transcript_redact = true;
}

int config_load_buf(struct config *cfg, const char *name, const char *buf, size_t len, char *err,
		    size_t errsz)
{
	struct config tmp = *cfg;
	struct conf_parser p = {
		.name = name ? name : "<config>",
		.buf = buf ? buf : "",
		.len = buf ? len : 0,
		.cfg = &tmp,
		.err = err,
		.errsz = err ? errsz : 0,
	};
	int rc;

	if (p.errsz)
		err[0] = '\0';
	if (!yaml_parser_initialize(&p.yp))
		return conf_fail_oom(&p);
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)p.buf, p.len);
	rc = conf_parse_stream(&p);
	if (!rc)
		rc = conf_check_tls(&p);
	if (p.has_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yp);
	if (!rc)
		*cfg = tmp;
	return rc;
}

/* Reads a whole file of at most CONF_FILE_MAX bytes; *bufp is malloc'd. */
static int conf_file_read(const char *path, char **bufp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	int e = 0;

	if (!f)
		return -errno;
	buf = malloc(CONF_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	errno = 0;
	*lenp = fread(buf, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f))
		e = errno ? errno : EIO;
	else if (*lenp > CONF_FILE_MAX)
		e = EFBIG;
	fclose(f);
	if (e) {
		free(buf);
		return -e;
	}
	*bufp = buf;
	return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = conf_file_read(path, &buf, &len);

	if (rc) {
		if (err && errsz)
			snprintf(err, errsz, "%s: cannot read: %s", path, strerror(-rc));
		return rc == -ENOMEM ? rc : CC_EBADCONF;
	}
	rc = config_load_buf(cfg, path, buf, len, err, errsz);
	free(buf);
	if (!rc)
		conf_copy(cfg->file, path, sizeof(cfg->file));
	return rc;
}

void config_finish(struct config *cfg)
{
	const char *dir = cfg->data_dir[0] ? cfg->data_dir : ".";
	size_t n = strlen(dir);

	if (cfg->store_path[0])
		return;
	while (n && dir[n - 1] == '/')
		n--; /* "/var/sb/" and "/" must not give "//switchboard.db" */
	if (n + sizeof(CONF_DB_NAME) > sizeof(cfg->store_path)) {
		/* Only a --data-dir override can get here; the file caps data_dir. */
		log_error("data_dir is too long to derive the store path (%zu > %zu characters); "
			  "set store.path",
			  n, sizeof(cfg->store_path) - sizeof(CONF_DB_NAME));
		return;
	}
	memcpy(cfg->store_path, dir, n);
	memcpy(cfg->store_path + n, CONF_DB_NAME, sizeof(CONF_DB_NAME));
}
