/*
 * static.c — the web workspace's built files (web/dist) on every path that
 * is not under /api/, with index.html for the single-page app's own routes.
 *
 * DESIGN
 * - The root (http.web_root; "" = web/dist beside the binary's project) is
 *   resolved with realpath(3) once, when the API starts. A missing root is
 *   not an error: the workspace answers 404 "web_not_built" until it exists.
 * - The path is checked on the loop before any file is touched: only
 *   printable ASCII, no backslash, no "." or ".." segment (400), no hidden
 *   segment (404). No percent-decoding happens here (libwebsockets has
 *   decoded the URI already; a second decode would let "%252e" through).
 * - The file is found, resolved and read on the worker pool (realpath,
 *   stat, read: never on the loop). The resolved path must lie inside the
 *   root, so a symlink cannot lead out of it. A directory is never listed:
 *   it is a route of the app, as is a missing path whose last segment has
 *   no extension; both get index.html. A missing file with an extension
 *   (a stale asset, a typo) is a plain 404.
 * - Content-Type comes from a table of extensions (nosniff is sent too);
 *   Vite's hashed files under /assets/ are cached for a year, everything
 *   else is revalidated (no-cache), so a rebuild shows up on reload.
 */
#define LOG_MODULE "static"
#include "api/api_int.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILE (16u << 20)

struct static_job {
	struct api_req *q;
	char root[PATH_MAX];
	char rel[256]; /* the request path, checked, without the leading '/' */
	bool spa_ok;   /* a missing file may fall back to index.html */
	int err;       /* 0, -ENOENT, -EFBIG, -EIO */
	int status;
	const char *ctype;
	char *data;
	size_t len;
};

static const struct {
	const char *ext, *type;
} mime_types[] = {
	{"html", "text/html; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"webmanifest", "application/manifest+json"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"ico", "image/x-icon"},
	{"woff2", "font/woff2"},
	{"woff", "font/woff"},
	{"ttf", "font/ttf"},
	{"txt", "text/plain; charset=utf-8"},
	{"wav", "audio/wav"},
	{"mp3", "audio/mpeg"},
};

const char *api_static_mime(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
			if (!strcasecmp(dot + 1, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}

bool api_path_is_api(const char *path)
{
	return !strncmp(path, "/api/", 5) || !strcmp(path, "/api");
}

/* 0: fine; 400: malformed or a traversal attempt; 404: hidden. */
int api_static_check(const char *path)
{
	const char *seg;

	if (path[0] != '/')
		return 400;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '\\')
			return 400;
	for (seg = path + 1; *seg; seg++) {
		size_t n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 400;
		if (n && seg[0] == '.')
			return 404;
		seg += n;
		if (!*seg)
			break;
	}
	return 0;
}

/* Reads root/rel if it resolves inside root. -EISDIR for a directory. */
static int file_read(struct static_job *j, const char *rel)
{
	char want[PATH_MAX + 260], real[PATH_MAX];
	size_t rl = strlen(j->root);
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	snprintf(want, sizeof(want), "%s/%s", j->root, rel);
	if (!realpath(want, real))
		return -ENOENT;
	if (strncmp(real, j->root, rl) || (real[rl] != '/' && real[rl] != '\0'))
		return -ENOENT; /* a symlink out of the root */
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st)) {
		err = -EIO;
	} else if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
	} else if (!S_ISREG(st.st_mode)) {
		err = -ENOENT;
	} else if ((uint64_t)st.st_size > STATIC_MAX_FILE) {
		err = -EFBIG;
	} else {
		j->len = (size_t)st.st_size;
		j->data = malloc(j->len ? j->len : 1);
		n = j->data ? pread(fd, j->data, j->len, 0) : -1;
		if (n != (ssize_t)j->len)
			err = -EIO;
		j->ctype = api_static_mime(real);
	}
	close(fd);
	return err;
}

static void static_read(void *arg)
{
	struct static_job *j = arg;
	int err = j->rel[0] ? file_read(j, j->rel) : -EISDIR;

	if (err == -EISDIR || (err == -ENOENT && j->spa_ok)) {
		free(j->data);
		j->data = NULL;
		err = file_read(j, "index.html");
	}
	j->err = err;
}

static void static_done(void *arg)
{
	struct static_job *j = arg;
	struct api_req *q = j->q;

	if (j->err == -ENOENT)
		api_reply_error(q, 404, "not_found", "no file %.200s", q->path);
	else if (j->err == -EFBIG)
		api_reply_error(q, 500, "read_failed", "%.200s is too large to serve", q->path);
	else if (j->err)
		api_reply_error(q, 500, "read_failed", "%.200s could not be read", q->path);
	else {
		q->cache_control = strncmp(q->path, "/assets/", 8)
					   ? "no-cache"
					   : "public, max-age=31536000, immutable";
		api_reply_raw(q, 200, j->ctype, NULL, j->data, j->len);
	}
	free(j->data);
	api_req_release(q);
	free(j);
}

void api_static_serve(struct api_req *q)
{
	struct static_job *j;
	const char *last;
	int bad;

	q->is_static = true;
	if (q->path_too_long) {
		api_reply_error(q, 414, "invalid_parameter", "the path is too long");
		return;
	}
	if (q->method != M_GET) {
		api_reply_error(q, 405, "method_not_allowed", "the web workspace takes GET only");
		return;
	}
	if (!q->api->web_root[0]) {
		api_reply_error(q, 404, "web_not_built",
				"the web workspace is not built (run: cd web && npm ci && npm run "
				"build), or http.web_root points to no folder");
		return;
	}
	bad = api_static_check(q->path);
	if (bad) {
		api_reply_error(q, bad, bad == 400 ? "invalid_parameter" : "not_found",
				bad == 400 ? "malformed path" : "no file %.200s", q->path);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	str_copy(j->root, q->api->web_root, sizeof(j->root));
	str_copy(j->rel, q->path + 1, sizeof(j->rel));
	/* An app route ("/records/CS0001001", "/users/john.doe") falls back
	 * to index.html; a missing asset ("/assets/x.js", "/logo.png") is 404. */
	last = strrchr(q->path, '.');
	j->spa_ok = strncmp(q->path, "/assets/", 8) &&
		    (!last || strchr(last, '/') ||
		     !strcmp(api_static_mime(q->path), "application/octet-stream"));
	j->q = api_req_hold(q);
	if (work_submit(q->api->loop, static_read, static_done, j)) {
		api_reply_err(q, -ENOMEM, "");
		api_req_release(q);
		free(j);
	}
}

int api_static_root(struct api *a, const char *configured)
{
	char exe[PATH_MAX], guess[PATH_MAX + 16];
	const char *want = configured;
	ssize_t n;

	a->web_root[0] = '\0';
	if (!want[0]) {
		/* <project>/build/<mode>/switchboard → <project>/web/dist */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return -ENOENT;
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *s = strrchr(exe, '/');
			if (!s)
				return -ENOENT;
			*s = '\0';
		}
		snprintf(guess, sizeof(guess), "%s/web/dist", exe);
		want = guess;
	}
	if (!realpath(want, a->web_root)) {
		a->web_root[0] = '\0';
		log_warn("web workspace: no folder %s (http.web_root); / answers 404 until it is "
			 "built",
			 want);
		return -ENOENT;
	}
	log_info("web workspace served from %s", a->web_root);
	return 0;
}
