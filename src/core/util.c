/*
 * util.c — small core services shared by every module.
 *
 * DESIGN
 * - Logging writes one line per call to stderr with a UTC timestamp, the
 *   level and the module; a single fprintf keeps lines whole across threads.
 * - mem_zalloc/mem_deref are libre-style refcounted blocks: a header holds
 *   the count and the destructor; the live-block counter lets tests assert
 *   zero leaks, and mem_fail_after() injects OOM for the tests' OOM loops.
 * - Tokens come from libsodium's CSPRNG; only their hashes are ever stored.
 */
#define LOG_MODULE "core"
#include "core/core.h"

#include <malloc.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *cc_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case CC_EILLEGAL: return "illegal transition";
	case CC_EFORBIDDEN: return "forbidden";
	case CC_ENOTFOUND: return "not found";
	case CC_ECONFLICT: return "conflict";
	case CC_ESTORE: return "store failure";
	case CC_EBADCONF: return "bad configuration";
	default: return err < 0 && err > CC_EBASE ? strerror(-err) : "unknown error";
	}
}

/* ---- logging ---- */
static _Atomic int log_min = LOG_INFO;

void log_level_set(enum log_level lvl)
{
	log_min = lvl;
}

int log_level_parse(const char *s, enum log_level *lvl)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_write(enum log_level lvl, const char *mod, const char *fmt, ...)
{
	static const char *tag[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	char ts[32], msg[1024];
	va_list ap;

	if ((int)lvl < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_iso8601(time_now_ms(), ts, sizeof(ts));
	fprintf(stderr, "%s %-5s [%s] %s\n", ts, tag[lvl], mod, msg);
}

/* ---- refcounted memory ---- */
struct mem_hdr {
	_Atomic unsigned refs;
	mem_destroy_h *dh;
	max_align_t align[]; /* user data starts suitably aligned */
};

static _Atomic size_t mem_nlive, mem_nbytes;
static _Atomic unsigned mem_fail_n;

void mem_fail_after(unsigned n)
{
	mem_fail_n = n;
}

size_t mem_live(void)
{
	return mem_nlive;
}

size_t mem_live_bytes(void)
{
	return mem_nbytes;
}

void *mem_zalloc(size_t size, mem_destroy_h *dh)
{
	struct mem_hdr *h;

	if (mem_fail_n && --mem_fail_n == 0)
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->refs = 1;
	h->dh = dh;
	mem_nlive++;
	mem_nbytes += malloc_usable_size(h);
	return h->align;
}

void *mem_ref(void *data)
{
	if (data) {
		struct mem_hdr *h =
			(struct mem_hdr *)((char *)data - offsetof(struct mem_hdr, align));
		h->refs++;
	}
	return data;
}

void *mem_deref(void *data)
{
	struct mem_hdr *h;

	if (!data)
		return NULL;
	h = (struct mem_hdr *)((char *)data - offsetof(struct mem_hdr, align));
	if (--h->refs > 0)
		return NULL;
	if (h->dh)
		h->dh(data);
	mem_nlive--;
	mem_nbytes -= malloc_usable_size(h);
	free(h);
	return NULL;
}

/* ---- strings and time ---- */
size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_iso8601(int64_t ms, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The value of n decimal digits at s, or -1 if any is not a digit (stops
 * at the first non-digit, so it never reads past the NUL). */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Accepts "1732500000000" (ms), "2026-11-25", "2026-11-25T06:20:07Z" and
 * "2026-11-25T06:20:07.123Z": digits exactly where shown, no signs or
 * spaces, a real calendar day. Anything else is -EINVAL. */
int time_parse(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	size_t len = strlen(s);

	if (len && strspn(s, "0123456789") == len && len <= 15) {
		*ms = strtoll(s, NULL, 10);
		return 0;
	}
	if (len < 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	s += 10;
	if (*s == 'T') {
		if (strlen(s) < 10 || s[3] != ':' || s[6] != ':')
			return -EINVAL;
		h = digits(s + 1, 2), mi = digits(s + 4, 2), sec = digits(s + 7, 2);
		s += 9;
		if (*s == '.') {
			frac = digits(s + 1, 3);
			if (frac < 0)
				return -EINVAL;
			s += 4;
		}
		if (s[0] != 'Z' || s[1])
			return -EINVAL;
	} else if (*s) {
		return -EINVAL;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

/* ---- tokens ---- */
int token_random_hex(char *buf, size_t size, size_t nbytes)
{
	unsigned char raw[64];

	if (nbytes > sizeof(raw) || size < 2 * nbytes + 1)
		return -EINVAL;
	randombytes_buf(raw, nbytes);
	sodium_bin2hex(buf, size, raw, nbytes);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

void token_hash_hex(const char *token, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int password_hash(const char *password, char *out, size_t size)
{
	if (size < crypto_pwhash_STRBYTES)
		return -EINVAL;
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE))
		return -ENOMEM;
	return 0;
}

int password_verify(const char *encoded, const char *password)
{
	return crypto_pwhash_str_verify(encoded, password, strlen(password)) ? -EACCES : 0;
}

/* ---- worker pool ---- */
struct work {
	uv_work_t req;
	work_h *fn, *done;
	void *arg;
};

static void work_run(uv_work_t *req)
{
	struct work *w = req->data;
	w->fn(w->arg);
}

static void work_after(uv_work_t *req, int status)
{
	struct work *w = req->data;
	(void)status;
	if (w->done)
		w->done(w->arg);
	free(w);
}

int work_submit(uv_loop_t *loop, work_h *fn, work_h *done, void *arg)
{
	struct work *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->fn = fn, w->done = done, w->arg = arg;
	w->req.data = w;
	err = uv_queue_work(loop, &w->req, work_run, work_after);
	if (err)
		free(w);
	return err;
}

/* ---- phone numbers ---- */
void phone_digits(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; in && *in && o + 1 < size; in++)
		if (*in >= '0' && *in <= '9')
			out[o++] = *in;
	out[o] = '\0';
	if (o >= 2 && out[0] == '0' && out[1] == '0')
		memmove(out, out + 2, o - 1), o -= 2;
	if (o < 4)
		out[0] = '\0';
}
