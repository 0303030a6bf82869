/*
 * core.h — Switchboard's core utilities: logging, errors, refcounted memory,
 * time, random tokens and the configuration loader.
 *
 * Every other module may include this header; core/ includes no other module.
 * Thread: everything here is thread-safe unless a prototype says otherwise.
 */
#ifndef SB_CORE_H
#define SB_CORE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- errors: 0 ok, negative errno, domain codes below CC_EBASE ---- */
enum {
	CC_EBASE = -10000,
	CC_EILLEGAL = CC_EBASE - 1,   /* illegal state-machine event */
	CC_EFORBIDDEN = CC_EBASE - 2, /* caller lacks a role */
	CC_ENOTFOUND = CC_EBASE - 3,  /* no such record */
	CC_ECONFLICT = CC_EBASE - 4,  /* record exists / state conflict */
	CC_ESTORE = CC_EBASE - 5,     /* the store failed */
	CC_EBADCONF = CC_EBASE - 6,   /* configuration error */
};
const char *cc_strerror(int err);

/* ---- logging (per-file LOG_MODULE, see CONVENTIONS.md §16) ---- */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_level_set(enum log_level lvl);
int log_level_parse(const char *s, enum log_level *lvl);
void log_write(enum log_level lvl, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#ifndef LOG_MODULE
#define LOG_MODULE "?"
#endif
#define log_debug(...) log_write(LOG_DEBUG, LOG_MODULE, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, LOG_MODULE, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, LOG_MODULE, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, LOG_MODULE, __VA_ARGS__)

/* ---- refcounted memory (libre mem_alloc/mem_deref) ---- */
typedef void(mem_destroy_h)(void *data);
/* Zeroed, refcount 1. Returns NULL on OOM. */
void *mem_zalloc(size_t size, mem_destroy_h *dh);
void *mem_ref(void *data);
/* Drops one reference; at zero runs the destructor and frees. Returns NULL. */
void *mem_deref(void *data);
/* Test hook: fail the Nth allocation from now (0 = never). */
void mem_fail_after(unsigned n);
/* Number of live mem_zalloc blocks (tests assert zero leaks). */
size_t mem_live(void);
/* Their size as the allocator gives it (headers included): what a test
 * can hold a structure's memory to. */
size_t mem_live_bytes(void);

/* ---- strings and time ---- */
/* strlcpy semantics: always NUL-terminates when size > 0; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Milliseconds since the Unix epoch (wall clock). */
int64_t time_now_ms(void);
/* Formats ms since epoch as ISO 8601 UTC "2026-11-25T06:20:07.123Z". */
void time_iso8601(int64_t ms, char *buf, size_t size);
/* Parses ISO 8601 UTC ("YYYY-MM-DDTHH:MM:SS[.mmm]Z" or a date) or plain ms. */
int time_parse(const char *s, int64_t *ms);

/* ---- network byte order, for the wire formats (RTP, RTCP, STUN, SRTP) ---- */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* ---- random tokens (libsodium) ---- */
/* Fills buf with 2*nbytes hex chars + NUL; size >= 2*nbytes+1. */
int token_random_hex(char *buf, size_t size, size_t nbytes);
/* SHA-256-sized generic hash of a token, as hex (65 bytes incl NUL). */
void token_hash_hex(const char *token, char out[65]);

/* Argon2id (libsodium crypto_pwhash_str, interactive limits: ~0.1 s and
 * 64 MiB). Blocking: call on a worker thread or at start-up. size >= 128. */
int password_hash(const char *password, char *out, size_t size);
/* 0 when password matches the encoded hash. Blocking, like password_hash. */
int password_verify(const char *encoded, const char *password);

/* ---- worker pool (libuv's threadpool) ---- */
typedef void(work_h)(void *arg);
/* Runs fn(arg) on a worker thread, then done(arg) on the loop thread. */
int work_submit(uv_loop_t *loop, work_h *fn, work_h *done, void *arg);

/* ---- phone numbers ----
 * Only the digits of a phone number, without a leading international "00";
 * "" when fewer than 4. The one rule behind caller identification, the
 * records' search by phone and dialling (docs/DOMAIN.md). */
void phone_digits(const char *in, char *out, size_t size);

/* ---- configuration ---- */
#define CONF_PATH_MAX 512
struct config {
	char file[CONF_PATH_MAX];	/* the file it was loaded from, "" = defaults */
	char data_dir[CONF_PATH_MAX];	/* default "./data" */
	char http_address[64];		/* default "0.0.0.0" */
	int http_port;			/* default 8080 */
	char store_backend[16];		/* "sqlite" (default) */
	char store_path[CONF_PATH_MAX]; /* default "<data_dir>/switchboard.db" */
	int store_readers;		/* read connections, default 4 */
	bool awa_enabled;		/* routing engine on (default true) */
	bool demo_customer;		/* demo: a built-in customer answers outbound calls */
	int session_ttl_s;		/* bearer token lifetime, default 28800 */
	int http_max_body;		/* bytes, default 65536 */
	int http_ws_idle_s; /* a browser phone's silent event socket closes after, default 30 */
	/* the built web workspace; "" = <project>/web/dist */
	char http_web_root[CONF_PATH_MAX];
	/* HTTPS (docs/WEB.md): PEM certificate chain and key, "" = plain HTTP;
	 * the lines they were set on, for api_tls_check's messages */
	char http_tls_cert[CONF_PATH_MAX];
	char http_tls_key[CONF_PATH_MAX];
	int http_tls_cert_line, http_tls_key_line;
	enum log_level log_level; /* default info */
	/* voice core */
	char sip_address[64];		  /* default "127.0.0.1" */
	int sip_port;			  /* UDP and TCP, default 5060 */
	char sip_realm[64];		  /* digest realm, default "switchboard" */
	char rtp_address[64];		  /* default "127.0.0.1" */
	int rtp_min, rtp_max;		  /* default 20000..29999 */
	int media_workers;		  /* media threads, 0 = the cores less one (at least 1) */
	int media_workers_nice;		  /* their nice value, default -10 (needs CAP_SYS_NICE) */
	int max_calls;			  /* live calls before 503, default 2000 */
	int sip_ack_timeout_ms;		  /* an answered call with no ACK is dropped, 2000 */
	int greeting_ms;		  /* before entering the queue, default 1500 */
	int offer_timeout_s;		  /* ring an agent, default 20 */
	int wrapup_timeout_s;		  /* AfterCallWork limit, default 0 = none */
	char greeting_wav[CONF_PATH_MAX]; /* prompt before the queue, "" = a beep */
	char hold_wav[CONF_PATH_MAX];	  /* looping hold music, "" = the built-in tune */
	char flows_dir[CONF_PATH_MAX];	  /* call flows, "" = <data_dir>/flows */
	char outbound_uri[128];		  /* external numbers: "sip:host[:port]", "" = none */
	int transfer_timeout_s;		  /* a transfer rings this long, default 30 */
	int dial_timeout_s; /* click-to-call: the customer rings this long, default 30 */
	/* webhooks (docs/WEBHOOKS.md) */
	int webhook_timeout_ms;	    /* one delivery attempt, default 5000 */
	int webhook_backoff_min_ms; /* the first retry's wait, default 1000 */
	int webhook_backoff_max_ms; /* the longest wait between attempts, default 300000 */
	int webhook_retention_h;    /* undelivered rows given up, delivered ones purged: 168 */
	/* the wallboard (docs/WALLBOARD.md) */
	int wallboard_push_ms;	    /* a queue's figures at most once per, default 250 */
	int wallboard_acw_alert_s;  /* after-call work longer raises an alert, default 120 */
	int wallboard_hold_alert_s; /* a customer on hold longer, default 90 */
	int wallboard_missed_alert; /* offers missed in a row, default 3 */
	/* transcripts (docs/TRANSCRIPTS.md) */
	bool transcripts_enabled;  /* default true */
	int transcript_decoders;   /* decoders of the transcription pool, default 1 */
	int transcript_domain_pct; /* the domain model's weight in %, default 40 */
	bool transcript_redact;	   /* PII redaction, default true */
	char transcript_corpus
		[CONF_PATH_MAX]; /* "" = <project>/share/transcripts/contact_center_corpus.txt */
};
/* Fills cfg with the embedded defaults. */
void config_defaults(struct config *cfg);
/*
 * Loads a YAML config over the defaults already in cfg. On error returns
 * -CC_EBADCONF... i.e. CC_EBADCONF and writes "file:line: message" to err.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errsz);
/* Same, from a buffer; `name` is used in error messages. */
int config_load_buf(struct config *cfg, const char *name, const char *buf, size_t len, char *err,
		    size_t errsz);
/* Fills derived defaults (store_path from data_dir). Call after overrides. */
void config_finish(struct config *cfg);

#endif
