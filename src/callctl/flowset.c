/*
 * flowset.c — the loaded set of call flows and how it changes at run time:
 * loaded and checked at start, reloaded from calls.flows_dir (SIGHUP or
 * POST /api/v1/flows/reload), one flow replaced (PUT) or deleted (DELETE)
 * over the API, without dropping calls in progress (docs/FLOWS.md).
 *
 * DESIGN
 * - Flows are refcounted (flow/flow.h): the set holds one reference per
 *   flow, each call in a flow another. Replacing the set or one entry drops
 *   only the set's reference, so a call keeps running the version it
 *   started with; the next call finds the new one. Numbers point at flows
 *   by name (struct number.flow) and their resolved pointer `fl` is
 *   re-pointed on every change.
 * - A change is all or nothing: a reload reads and parses every file on the
 *   pool, then on the loop checks them against the site (queues exist,
 *   every number's flow is in the new set) and only then swaps the sets. A
 *   failure changes nothing and says which file, line and block.
 * - A number whose flow would disappear (its file deleted, or DELETE of a
 *   flow in use) refuses the change (CC_ECONFLICT): the safe choice, since
 *   the number would otherwise answer 404.
 * - File writes run on the pool: the YAML goes to a temp file in flows_dir,
 *   fsync, rename over <name>.yaml, fsync the folder. The set changes on
 *   the loop after the rename succeeded, so disk and memory agree.
 * - One change at a time (cc->flow_job): a second API change meanwhile gets
 *   -EBUSY; a SIGHUP meanwhile runs after it. At shutdown an in-flight job
 *   is orphaned (job->cc = NULL) and only freed when the pool returns it.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum job_kind { JOB_RELOAD, JOB_PUT, JOB_DELETE };

struct flow_job {
	struct callctl *cc; /* NULL once call control is gone */
	enum job_kind kind;
	char dir[512];
	char name[CALLCTL_FLOW_NAME_MAX + 1];
	struct flow_entry *set; /* reload: what was read; put: the one entry */
	int err;
	struct callctl_flow_err fe;
	callctl_flow_h *done;
	void *arg;
};

bool callctl_flow_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= CALLCTL_FLOW_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* ---- errors: "file:line: block 'x': message" into its parts ---- */
static void err_set(struct callctl_flow_err *fe, const char *file, const char *msg)
{
	const char *p = msg, *b;
	size_t fl = strlen(file);

	str_copy(fe->message, msg, sizeof(fe->message));
	str_copy(fe->file, file, sizeof(fe->file));
	fe->line = 0;
	fe->block[0] = '\0';
	if (!strncmp(p, file, fl) && p[fl] == ':')
		fe->line = atoi(p + fl + 1);
	b = strstr(p, "block '");
	if (b)
		snprintf(fe->block, sizeof(fe->block), "%.*s", (int)strcspn(b + 7, "'"), b + 7);
}

/* ---- entries ---- */
static void entry_free(struct flow_entry *e)
{
	if (!e)
		return;
	flow_free(e->f);
	free(e->src);
	free(e);
}

static void set_free(struct flow_entry **set)
{
	struct flow_entry *e, *tmp;

	HASH_ITER(hh, *set, e, tmp)
	{
		HASH_DEL(*set, e);
		entry_free(e);
	}
}

/* Parses a flow from its source; takes `src` (malloc'd) on success. */
static int entry_parse(struct flow_entry **ep, const char *name, const char *file, char *src,
		       size_t len, struct callctl_flow_err *fe)
{
	struct flow_entry *e = calloc(1, sizeof(*e));
	char msg[700];
	int err;

	if (!e)
		return -ENOMEM;
	err = flow_load_buf(&e->f, file, src, len, msg, sizeof(msg));
	if (err) {
		err_set(fe, file, msg);
		free(e);
		return err;
	}
	str_copy(e->name, name, sizeof(e->name));
	str_copy(e->file, file, sizeof(e->file));
	e->src = src, e->src_len = len;
	e->loaded_at = time_now_ms();
	*ep = e;
	return 0;
}

static int file_read(const char *path, char **bufp, size_t *lenp)
{
	FILE *fh = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!fh)
		return -errno;
	buf = malloc(FLOW_MAX_SIZE + 2);
	if (!buf) {
		fclose(fh);
		return -ENOMEM;
	}
	n = fread(buf, 1, FLOW_MAX_SIZE + 1, fh);
	fclose(fh);
	buf[n] = '\0';
	*bufp = buf, *lenp = n;
	return 0;
}

/* One file of the folder into the set (pool or start-up: no site checks). */
static int dir_read_one(const char *dir, const char *fname, struct flow_entry **set,
			struct callctl_flow_err *fe)
{
	size_t len = strlen(fname);
	char path[1100], name[CALLCTL_FLOW_NAME_MAX + 1], *src = NULL;
	struct flow_entry *e;
	size_t n = 0;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	snprintf(name, sizeof(name), "%.*s", (int)(len - 5), fname);
	err = file_read(path, &src, &n);
	if (err) {
		snprintf(fe->message, sizeof(fe->message), "%.600s: %s", path, strerror(-err));
		str_copy(fe->file, path, sizeof(fe->file));
		return err;
	}
	err = entry_parse(&e, name, path, src, n, fe);
	if (err) {
		free(src);
		return err;
	}
	HASH_ADD_STR(*set, name, e);
	return 0;
}

/* Every <name>.yaml of dir (a missing folder is an empty set). */
static int dir_read(const char *dir, struct flow_entry **set, struct callctl_flow_err *fe)
{
	DIR *d = dir[0] ? opendir(dir) : NULL;
	struct dirent *de;
	int err = 0;

	while (d && !err && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char base[256];

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), de->d_name);
		if (!callctl_flow_name_ok(base)) {
			log_warn("action=flow file %s/%s skipped: a flow's name is 1-%d of a-z 0-9 "
				 "_ -",
				 dir, de->d_name, CALLCTL_FLOW_NAME_MAX);
			continue;
		}
		err = dir_read_one(dir, de->d_name, set, fe);
	}
	if (d)
		closedir(d);
	if (err)
		set_free(set);
	return err;
}

/* ---- site checks (loop) ---- */
/* A queue block names a queue of the site and its hold music loads (shared
 * by every caller in the queue); a bot's phrases compile into a grammar. */
static int check_site(struct callctl *cc, struct flow *f, struct callctl_flow_err *fe)
{
	char msg[1400], why[700];

	for (size_t i = 0; i < f->n_blocks; i++) {
		const struct flow_block *b = &f->blocks[i];
		if (b->kind != FLOW_QUEUE)
			continue;
		if (routing_queue_id(cc->r, b->queue) <= 0) {
			snprintf(msg, sizeof(msg), "%s:%d: block '%s': no queue named '%s'",
				 f->file, b->line, b->name, b->queue);
			err_set(fe, f->file, msg);
			return -EINVAL;
		}
		if (b->hold_music && !prompt_file_get(cc, b->hold_music, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "%s:%d: block '%s': hold music '%s': %s",
				 f->file, b->line, b->name, b->hold_music, why);
			err_set(fe, f->file, msg);
			return -EINVAL;
		}
	}
	if (bot_grammars_attach(cc, f, msg, sizeof(msg))) {
		err_set(fe, f->file, msg);
		return -EINVAL;
	}
	return 0;
}

/* Would every number still find its flow in `set`? */
static int check_numbers(struct callctl *cc, struct flow_entry *set, const char *gone,
			 struct callctl_flow_err *fe)
{
	for (struct number *n = cc->numbers; n; n = n->hh.next) {
		struct flow_entry *e = NULL;
		if (!n->flow[0])
			continue;
		HASH_FIND_STR(set, n->flow, e);
		if (!e || (gone && !strcmp(gone, n->flow))) {
			snprintf(fe->message, sizeof(fe->message),
				 "number %s runs the flow '%s'%s: point it elsewhere first "
				 "(PUT /api/v1/numbers/%s)",
				 n->did, n->flow,
				 gone ? "" : ", and its file is gone from calls.flows_dir", n->did);
			return CC_ECONFLICT;
		}
	}
	return 0;
}

static int set_check(struct callctl *cc, struct flow_entry *set, struct callctl_flow_err *fe)
{
	int err = 0;

	for (struct flow_entry *e = set; e && !err; e = e->hh.next)
		err = check_site(cc, e->f, fe);
	return err ? err : check_numbers(cc, set, NULL, fe);
}

/* ---- applying (loop) ---- */
static void numbers_resolve(struct callctl *cc)
{
	for (struct number *n = cc->numbers; n; n = n->hh.next) {
		struct flow_entry *e = NULL;
		if (n->flow[0])
			HASH_FIND_STR(cc->flows, n->flow, e);
		n->fl = e ? e->f : NULL;
	}
}

/* Prompt files may have changed with the flows: read them again on use
 * (legs playing one hold their own reference to its audio). */
static void prompts_forget(struct callctl *cc)
{
	struct prompt_file *p, *tmp;

	HASH_ITER(hh, cc->prompts, p, tmp)
	{
		HASH_DEL(cc->prompts, p);
		mem_deref(p->pcm);
		free(p->path);
		free(p);
	}
}

static void entry_log(const struct flow_entry *e, const char *what)
{
	log_info("action=flow %s name=%s blocks=%zu file=%s", what, e->name, e->f->n_blocks,
		 e->file);
}

/* Replaces the loaded set; calls in progress keep their flows. */
static void set_swap(struct callctl *cc, struct flow_entry *set)
{
	struct flow_entry *e, *old = NULL;

	for (e = set; e; e = e->hh.next) {
		HASH_FIND_STR(cc->flows, e->name, old);
		if (old && old->src_len == e->src_len && !memcmp(old->src, e->src, e->src_len))
			e->loaded_at = old->loaded_at; /* unchanged */
		else
			entry_log(e, old ? "replaced" : "loaded");
	}
	for (e = cc->flows; e; e = e->hh.next) {
		HASH_FIND_STR(set, e->name, old);
		if (!old)
			entry_log(e, "removed");
	}
	set_free(&cc->flows);
	cc->flows = set;
	numbers_resolve(cc);
	prompts_forget(cc);
}

/* ---- start-up ---- */
int flowset_load(struct callctl *cc)
{
	struct callctl_flow_err fe;
	struct flow_entry *set = NULL;
	int err;

	memset(&fe, 0, sizeof(fe));
	err = dir_read(cc->cfg.flows_dir, &set, &fe);

	if (!err)
		err = set_check(cc, set, &fe);
	if (err) {
		log_error("%s", fe.message);
		set_free(&set);
		return err;
	}
	set_swap(cc, set);
	return 0;
}

void flowset_free(struct callctl *cc)
{
	if (cc->flow_job)
		cc->flow_job->cc = NULL; /* freed when the pool hands it back */
	cc->flow_job = NULL;
	set_free(&cc->flows);
}

/* ---- jobs on the pool ---- */
static void job_end(struct flow_job *j)
{
	struct callctl *cc = j->cc;
	bool again;

	if (j->done)
		j->done(cc ? j->err : -ECANCELED, &j->fe, j->arg);
	set_free(&j->set);
	free(j);
	if (!cc)
		return;
	cc->flow_job = NULL;
	again = cc->reload_pending;
	cc->reload_pending = false;
	if (again)
		callctl_flows_reload(cc, NULL, NULL);
}

static int job_start(struct flow_job *j, work_h *work, work_h *done)
{
	int err = work_submit(j->cc->loop, work, done, j);

	if (err) {
		set_free(&j->set);
		free(j);
		return err;
	}
	j->cc->flow_job = j;
	return 0;
}

static struct flow_job *job_new(struct callctl *cc, enum job_kind kind, const char *name,
				callctl_flow_h *done, void *arg)
{
	struct flow_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->cc = cc, j->kind = kind, j->done = done, j->arg = arg;
	str_copy(j->dir, cc->cfg.flows_dir, sizeof(j->dir));
	str_copy(j->name, name ? name : "", sizeof(j->name));
	return j;
}

static void reload_work(void *arg)
{
	struct flow_job *j = arg;

	j->err = dir_read(j->dir, &j->set, &j->fe);
}

static void reload_done(void *arg)
{
	struct flow_job *j = arg;

	if (j->cc && !j->err)
		j->err = set_check(j->cc, j->set, &j->fe);
	if (j->cc && !j->err) {
		set_swap(j->cc, j->set);
		j->set = NULL;
		log_info("action=flows reloaded count=%u dir=%s", HASH_COUNT(j->cc->flows), j->dir);
	} else if (j->cc) {
		log_error("action=flows not reloaded (nothing changed): %s", j->fe.message);
	}
	job_end(j);
}

int callctl_flows_reload(struct callctl *cc, callctl_flow_h *done, void *arg)
{
	struct flow_job *j;

	if (cc->flow_job) {
		if (done)
			return -EBUSY;
		cc->reload_pending = true; /* a signal: run it after the change in flight */
		return 0;
	}
	j = job_new(cc, JOB_RELOAD, NULL, done, arg);
	return j ? job_start(j, reload_work, reload_done) : -ENOMEM;
}

/* ---- one flow: write or delete its file ---- */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n, len -= (size_t)n;
	}
	return 0;
}

static int file_write_atomic(const char *dir, const char *name, const char *buf, size_t len)
{
	char tmp[1100], path[1100];
	int fd, err;

	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s/.%s.yaml.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err ? err : fsync_dir(dir);
}

static void put_work(void *arg)
{
	struct flow_job *j = arg;

	j->err = file_write_atomic(j->dir, j->name, j->set->src, j->set->src_len);
	if (j->err)
		snprintf(j->fe.message, sizeof(j->fe.message), "cannot write %s/%s.yaml: %s",
			 j->dir, j->name, strerror(-j->err));
}

/* Puts one entry into the loaded set in place of its namesake. */
static void entry_swap(struct callctl *cc, struct flow_entry *e)
{
	struct flow_entry *old = NULL;

	HASH_FIND_STR(cc->flows, e->name, old);
	if (old) {
		HASH_DEL(cc->flows, old);
		entry_free(old);
	}
	HASH_ADD_STR(cc->flows, name, e);
	numbers_resolve(cc);
	prompts_forget(cc);
}

static void put_done(void *arg)
{
	struct flow_job *j = arg;
	struct flow_entry *e = j->set;

	if (j->cc && !j->err) {
		HASH_DEL(j->set, e);
		snprintf(e->file, sizeof(e->file), "%s/%s.yaml", j->dir, j->name);
		entry_log(e, "written");
		entry_swap(j->cc, e);
	} else if (j->cc) {
		log_error("action=flow %s not replaced: %s", j->name, j->fe.message);
	}
	job_end(j);
}

int callctl_flow_put(struct callctl *cc, const char *name, const char *yaml, size_t len,
		     struct callctl_flow_err *fe, callctl_flow_h *done, void *arg)
{
	struct flow_entry *e = NULL;
	char file[CALLCTL_FLOW_NAME_MAX + 8], *src;
	struct flow_job *j;
	int err;

	memset(fe, 0, sizeof(*fe));
	if (cc->flow_job)
		return -EBUSY;
	snprintf(file, sizeof(file), "%s.yaml", name);
	src = malloc(len + 1);
	if (!src)
		return -ENOMEM;
	memcpy(src, yaml, len);
	src[len] = '\0';
	err = entry_parse(&e, name, file, src, len, fe);
	if (err) {
		free(src);
		return err;
	}
	err = check_site(cc, e->f, fe);
	j = err ? NULL : job_new(cc, JOB_PUT, name, done, arg);
	if (!j) {
		entry_free(e);
		return err ? err : -ENOMEM;
	}
	HASH_ADD_STR(j->set, name, e);
	return job_start(j, put_work, put_done);
}

static void delete_work(void *arg)
{
	struct flow_job *j = arg;
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s.yaml", j->dir, j->name);
	j->err = unlink(path) && errno != ENOENT ? -errno : 0;
	if (!j->err)
		j->err = fsync_dir(j->dir);
	if (j->err)
		snprintf(j->fe.message, sizeof(j->fe.message), "cannot delete %.600s: %s", path,
			 strerror(-j->err));
}

static void delete_done(void *arg)
{
	struct flow_job *j = arg;
	struct flow_entry *old = NULL;

	if (j->cc && !j->err) {
		HASH_FIND_STR(j->cc->flows, j->name, old);
		if (old) {
			entry_log(old, "deleted");
			HASH_DEL(j->cc->flows, old);
			entry_free(old);
		}
		numbers_resolve(j->cc);
	}
	job_end(j);
}

int callctl_flow_delete(struct callctl *cc, const char *name, struct callctl_flow_err *fe,
			callctl_flow_h *done, void *arg)
{
	struct flow_entry *e = NULL;
	struct flow_job *j;
	int err;

	memset(fe, 0, sizeof(*fe));
	HASH_FIND_STR(cc->flows, name, e);
	if (!e)
		return -ENOENT;
	if (cc->flow_job)
		return -EBUSY;
	err = check_numbers(cc, cc->flows, name, fe);
	if (err)
		return err;
	j = job_new(cc, JOB_DELETE, name, done, arg);
	return j ? job_start(j, delete_work, delete_done) : -ENOMEM;
}

/* ---- reading ---- */
static void numbers_of(const struct callctl *cc, const char *flow, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (const struct number *n = cc->numbers; n; n = n->hh.next)
		if (!strcmp(n->flow, flow) && o + strlen(n->did) + 2 < size)
			o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", n->did);
}

static void info_fill(const struct callctl *cc, const struct flow_entry *e,
		      struct callctl_flow_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	str_copy(fi->name, e->name, sizeof(fi->name));
	str_copy(fi->file, e->file, sizeof(fi->file));
	fi->blocks = e->f->n_blocks;
	fi->loaded_at = e->loaded_at;
	fi->source = e->src, fi->source_len = e->src_len;
	numbers_of(cc, e->name, fi->numbers, sizeof(fi->numbers));
}

void callctl_flows_each(const struct callctl *cc, callctl_flow_each_h *h, void *arg)
{
	struct callctl_flow_info fi;

	for (const struct flow_entry *e = cc->flows; e; e = e->hh.next) {
		info_fill(cc, e, &fi);
		h(&fi, arg);
	}
}

int callctl_flow_get(const struct callctl *cc, const char *name, struct callctl_flow_info *fi)
{
	struct flow_entry *e = NULL;

	HASH_FIND_STR(cc->flows, name, e);
	if (!e)
		return -ENOENT;
	info_fill(cc, e, fi);
	return 0;
}

/* ---- what names a queue ---- */
bool callctl_queue_in_use(const struct callctl *cc, int64_t queue_id, const char *name,
			  bool numbers_too, char *why, size_t size)
{
	for (const struct number *n = cc->numbers; numbers_too && n; n = n->hh.next)
		if (!n->flow[0] && n->queue_id == queue_id) {
			snprintf(why, size, "number %s leads to it", n->did);
			return true;
		}
	for (const struct flow_entry *e = cc->flows; e; e = e->hh.next)
		for (size_t i = 0; i < e->f->n_blocks; i++) {
			const struct flow_block *b = &e->f->blocks[i];
			if (b->kind == FLOW_QUEUE && !strcmp(b->queue, name)) {
				snprintf(why, size, "flow %s (%s:%d, block '%s') names it", e->name,
					 e->f->file, b->line, b->name);
				return true;
			}
		}
	return false;
}

int callctl_music_check(struct callctl *cc, const char *file, char *err, size_t size)
{
	return prompt_file_get(cc, file, err, size) ? 0 : -EINVAL;
}

/* ---- the flows' words, for the transcripts' domain language model ---- */
static int text_add(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n)
		return 0;
	if (*len + n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 4096;
		char *nb;
		while (nc < *len + n + 2)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (!nb)
			return -ENOMEM;
		*buf = nb, *cap = nc;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = '\0';
	return 0;
}

static int block_text(const struct flow_block *b, char **buf, size_t *len, size_t *cap)
{
	int rc = text_add(buf, len, cap, b->prompt.text);

	for (size_t i = 0; !rc && i < b->n_intents; i++) {
		for (size_t k = 0; !rc && k < b->intents[i].n_phrases; k++)
			rc = text_add(buf, len, cap, b->intents[i].phrases[k]);
		if (!rc)
			rc = text_add(buf, len, cap, b->intents[i].answer);
	}
	return rc;
}

int callctl_flow_text(const struct callctl *cc, char **textp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	for (const struct flow_entry *e = cc->flows; e && !rc; e = e->hh.next) {
		for (size_t i = 0; i < e->f->n_blocks && !rc; i++)
			rc = block_text(&e->f->blocks[i], &buf, &len, &cap);
	}
	if (rc) {
		free(buf);
		return rc;
	}
	*textp = buf, *lenp = len;
	return 0;
}
