/*
 * store_async.c — the loop thread's front to the store backend.
 *
 * DESIGN
 * - Writes: each store_write() copies its ops into an entry on a FIFO. When
 *   no batch is in flight, every queued entry becomes one batch handed to a
 *   pool thread and committed in one transaction (group commit): order is
 *   submission order, and under load many small writes cost one commit.
 *   If the batch fails, the worker retries entry by entry so one bad entry
 *   (say a constraint) fails alone and the others still commit.
 * - An op owns no memory but one: an outbox event's body (a heap string).
 *   store_write copies it with the ops and frees it with the entry, so the
 *   caller's ops stay the caller's, as for every other op.
 * - Reads run on the pool, any number at once, each on a reader connection.
 * - Completion callbacks run on the loop thread (uv_queue_work's after_cb).
 */
#define LOG_MODULE "store"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct write_entry {
	struct write_entry *next;
	struct store_op *ops;
	size_t n;
	store_done_h *done;
	void *arg;
	int err;
};

struct store {
	uv_loop_t *loop;
	const struct store_backend *be;
	void *bectx;
	struct write_entry *head, *tail; /* queued, not yet in flight */
	struct write_entry *batch;	 /* in flight */
	size_t pending;
	uv_work_t batch_req;
};

static void batch_flush(struct store *st);

int store_open(struct store **stp, uv_loop_t *loop, const struct config *cfg)
{
	struct store *st;
	int err;

	if (strcmp(cfg->store_backend, "sqlite"))
		return -ENOTSUP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->loop = loop;
	st->be = &store_backend_sqlite;
	err = st->be->open(&st->bectx, cfg->store_path, cfg->store_readers);
	if (err) {
		free(st);
		return err;
	}
	*stp = st;
	return 0;
}

/* Frees the outbox bodies and transcripts' texts of ops[0..n) (the
 * entry's own copies). */
static void ops_bodies_free(struct store_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind == STORE_OP_OUTBOX_INSERT)
			free(ops[i].u.outbox.body);
		if (ops[i].kind == STORE_OP_TRANSCRIPT_SET) {
			free(ops[i].u.transcript.utterances);
			free(ops[i].u.transcript.text);
		}
	}
}

/* A transcript's texts (NULL stays NULL: keep the stored ones). */
static int transcript_copy(struct st_transcript *t)
{
	char *u = t->utterances ? strdup(t->utterances) : NULL;
	char *x = t->text ? strdup(t->text) : NULL;

	if ((t->utterances && !u) || (t->text && !x)) {
		free(u);
		free(x);
		return -ENOMEM;
	}
	t->utterances = u, t->text = x;
	return 0;
}

/* Replaces each outbox body in ops (a copy of the caller's) with its own copy. */
static int ops_bodies_copy(struct store_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *b;

		if (ops[i].kind == STORE_OP_TRANSCRIPT_SET &&
		    transcript_copy(&ops[i].u.transcript)) {
			ops_bodies_free(ops, i);
			return -ENOMEM;
		}
		if (ops[i].kind != STORE_OP_OUTBOX_INSERT)
			continue;
		b = strdup(ops[i].u.outbox.body ? ops[i].u.outbox.body : "");
		if (!b) {
			ops_bodies_free(ops, i);
			return -ENOMEM;
		}
		ops[i].u.outbox.body = b;
	}
	return 0;
}

static void entry_free(struct write_entry *e)
{
	ops_bodies_free(e->ops, e->n);
	free(e->ops);
	free(e);
}

void store_close(struct store *st)
{
	struct write_entry *e, *next;

	if (!st)
		return;
	/* The loop has stopped: commit what is still queued synchronously. */
	for (e = st->head; e; e = next) {
		next = e->next;
		if (st->be->apply(st->bectx, e->ops, e->n))
			log_error("lost a write of %zu ops at shutdown", e->n);
		entry_free(e);
	}
	st->be->close(st->bectx);
	free(st);
}

int store_load(struct store *st, struct st_snapshot *snap)
{
	return st->be->load(st->bectx, snap);
}

int store_queue_day_now(struct store *st, int64_t from_ms, int64_t to_ms,
			struct st_queue_day **rows, size_t *n)
{
	return st->be->queue_day(st->bectx, from_ms, to_ms, rows, n);
}

int store_apply_now(struct store *st, const struct store_op *ops, size_t n)
{
	return st->be->apply(st->bectx, ops, n);
}

void store_snapshot_free(struct st_snapshot *s)
{
	free(s->users);
	free(s->user_roles);
	free(s->agents);
	free(s->queues);
	free(s->members);
	free(s->open);
	free(s->sessions);
	free(s->flags);
	free(s->numbers);
	free(s->trunks);
	free(s->bindings);
	free(s->quick_connects);
	free(s->webhooks);
	free(s->transcripts);
	free(s->record_text);
	free(s->transcript_policy);
	memset(s, 0, sizeof(*s));
}

size_t store_pending(const struct store *st)
{
	return st->pending;
}

/* ---- group commit ---- */
static void batch_work(uv_work_t *req)
{
	struct store *st = req->data;
	struct write_entry *e;
	size_t total = 0, k = 0;
	struct store_op *all;

	for (e = st->batch; e; e = e->next)
		total += e->n;
	all = malloc(total * sizeof(*all));
	if (all) {
		for (e = st->batch; e; e = e->next) {
			memcpy(all + k, e->ops, e->n * sizeof(*all));
			k += e->n;
		}
		if (st->be->apply(st->bectx, all, total) == 0) {
			free(all);
			return; /* every entry's err stays 0 */
		}
		free(all);
	}
	/* Retry one by one so only the failing entry fails. */
	for (e = st->batch; e; e = e->next)
		e->err = st->be->apply(st->bectx, e->ops, e->n);
}

static void batch_after(uv_work_t *req, int status)
{
	struct store *st = req->data;
	struct write_entry *e = st->batch, *next;

	st->batch = NULL;
	for (; e; e = next) {
		next = e->next;
		if (status)
			e->err = status;
		st->pending--;
		if (e->done)
			e->done(e->err, e->arg);
		entry_free(e);
	}
	batch_flush(st);
}

static void batch_flush(struct store *st)
{
	if (st->batch || !st->head)
		return;
	st->batch = st->head;
	st->head = st->tail = NULL;
	st->batch_req.data = st;
	if (uv_queue_work(st->loop, &st->batch_req, batch_work, batch_after)) {
		log_error("cannot queue a write batch");
		st->head = st->batch, st->batch = NULL;
	}
}

int store_write(struct store *st, const struct store_op *ops, size_t n, store_done_h *done,
		void *arg)
{
	struct write_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->ops = malloc(n * sizeof(*ops));
	if (!e->ops) {
		free(e);
		return -ENOMEM;
	}
	memcpy(e->ops, ops, n * sizeof(*ops));
	if (ops_bodies_copy(e->ops, n)) {
		free(e->ops);
		free(e);
		return -ENOMEM;
	}
	e->n = n, e->done = done, e->arg = arg;
	if (st->tail)
		st->tail->next = e;
	else
		st->head = e;
	st->tail = e;
	st->pending++;
	batch_flush(st);
	return 0;
}

/* ---- reads ---- */
enum read_kind {
	RD_IX_LIST,
	RD_IX_GET,
	RD_CASE,
	RD_CASE_OF,
	RD_REC_LIST,
	RD_REC_GET,
	RD_PARTY,
	RD_TARGET,
	RD_AUDIT,
	RD_CTR,
	RD_OUTBOX_FETCH,
	RD_OUTBOX_COUNTS,
	RD_REP,
	RD_REP_SEGMENTS,
	RD_TRANSCRIPT
};

struct read_req {
	uv_work_t req;
	struct store *st;
	enum read_kind kind;
	struct store_ix_filter filter;
	char number[ST_NUMBER];
	struct store_ix_page page;
	struct store_ix_detail detail;
	store_ix_list_h *list_h;
	store_ix_get_h *get_h;
	store_case_h *case_h;
	int64_t customer;
	enum st_table table;
	struct st_case kase;
	/* records */
	struct store_rec_filter rfilter;
	struct store_rec_page rpage;
	struct st_record rec;
	char key[ST_NAME];
	struct store_target target;
	store_rec_list_h *rec_list_h;
	store_rec_get_h *rec_get_h;
	store_target_h *target_h;
	struct store_audit_filter afilter;
	struct store_audit_page apage;
	store_audit_list_h *audit_h;
	struct store_ctr_list ctrs;
	store_ctr_list_h *ctr_h;
	struct store_transcript tr;
	store_transcript_h *tr_h;
	int64_t after_seq; /* outbox fetch: customer holds the webhook id */
	int limit;
	struct store_outbox_page opage;
	struct store_outbox_counts ocounts;
	store_outbox_fetch_h *ofetch_h;
	store_outbox_counts_h *ocounts_h;
	struct store_rep_query repq;
	struct store_rep_result repr;
	store_rep_h *rep_h;
	struct store_rep_drill drill;
	struct store_rep_segments segs;
	store_rep_segments_h *segs_h;
	bool found;
	void *arg;
	int err;
};

/* A call target: the record, then the number of the phone asked for. */
static int target_work(struct store *st, struct read_req *r)
{
	struct store_target *t = &r->target;
	const char *num;
	int err = st->be->rec_get(st->bectx, r->table, r->key, &r->rec, &t->found);

	if (err || !t->found)
		return err;
	num = strcmp(t->phone, "mobile") ? r->rec.business_phone : r->rec.mobile_phone;
	t->has_phone = num[0] != '\0';
	str_copy(t->number, num, sizeof(t->number));
	str_copy(t->name, r->rec.party_table ? r->rec.party_name : r->rec.name, sizeof(t->name));
	return 0;
}

static void read_work(uv_work_t *req)
{
	struct read_req *r = req->data;
	struct store *st = r->st;

	switch (r->kind) {
	case RD_IX_LIST: r->err = st->be->ix_list(st->bectx, &r->filter, &r->page); break;
	case RD_IX_GET: r->err = st->be->ix_get(st->bectx, r->number, &r->detail); break;
	case RD_CASE:
		r->err = st->be->case_latest(st->bectx, r->customer, &r->kase, &r->found);
		break;
	case RD_CASE_OF:
		r->err = st->be->case_latest_of(st->bectx, r->table, r->customer, &r->kase,
						&r->found);
		break;
	case RD_REC_LIST: r->err = st->be->rec_list(st->bectx, &r->rfilter, &r->rpage); break;
	case RD_REC_GET:
		r->err = st->be->rec_get(st->bectx, r->table, r->key, &r->rec, &r->found);
		break;
	case RD_PARTY:
		r->err = st->be->party_by_phone(st->bectx, r->key, &r->rec, &r->found);
		break;
	case RD_TARGET: r->err = target_work(st, r); break;
	case RD_AUDIT: r->err = st->be->audit_list(st->bectx, &r->afilter, &r->apage); break;
	case RD_CTR: r->err = st->be->ctr_list(st->bectx, r->number, &r->ctrs); break;
	case RD_OUTBOX_FETCH:
		r->err = st->be->outbox_fetch(st->bectx, r->customer, r->after_seq, r->limit,
					      &r->opage);
		break;
	case RD_OUTBOX_COUNTS: r->err = st->be->outbox_counts(st->bectx, &r->ocounts); break;
	case RD_REP: r->err = st->be->rep_query(st->bectx, &r->repq, &r->repr); break;
	case RD_REP_SEGMENTS: r->err = st->be->rep_segments(st->bectx, &r->drill, &r->segs); break;
	case RD_TRANSCRIPT: r->err = st->be->transcript_get(st->bectx, r->number, &r->tr); break;
	}
}

static void read_after(uv_work_t *req, int status)
{
	struct read_req *r = req->data;
	int err = status ? status : r->err;

	switch (r->kind) {
	case RD_IX_LIST: r->list_h(err, &r->page, r->arg); break;
	case RD_IX_GET: r->get_h(err, &r->detail, r->arg); break;
	case RD_CASE:
	case RD_CASE_OF: r->case_h(err, !err && r->found ? &r->kase : NULL, r->arg); break;
	case RD_REC_LIST: r->rec_list_h(err, &r->rpage, r->arg); break;
	case RD_REC_GET:
	case RD_PARTY: r->rec_get_h(err, !err && r->found ? &r->rec : NULL, r->arg); break;
	case RD_TARGET: r->target_h(err, &r->target, r->arg); break;
	case RD_AUDIT: r->audit_h(err, &r->apage, r->arg); break;
	case RD_CTR: r->ctr_h(err, &r->ctrs, r->arg); break;
	case RD_OUTBOX_FETCH: r->ofetch_h(err, &r->opage, r->arg); break;
	case RD_OUTBOX_COUNTS: r->ocounts_h(err, &r->ocounts, r->arg); break;
	case RD_REP: r->rep_h(err, &r->repr, r->arg); break;
	case RD_REP_SEGMENTS: r->segs_h(err, &r->segs, r->arg); break;
	case RD_TRANSCRIPT: r->tr_h(err, &r->tr, r->arg); break;
	}
	free(r->repr.rows);
	free(r->segs.rows);
	free(r->segs.seq);
	free(r->tr.t.utterances);
	free(r->tr.t.text);
	free(r->ctrs.rows);
	store_outbox_page_free(&r->opage);
	free(r->ocounts.rows);
	free(r->apage.rows);
	free(r->page.rows);
	free(r->page.snippets);
	free(r->detail.activity);
	free(r->rpage.rows);
	free(r->detail.conversations);
	free(r);
}

static struct read_req *read_new(struct store *st, enum read_kind kind, void *arg)
{
	struct read_req *r = calloc(1, sizeof(*r));

	if (r)
		r->st = st, r->kind = kind, r->arg = arg;
	return r;
}

static int read_submit(struct read_req *r)
{
	int err;

	if (!r)
		return -ENOMEM;
	r->req.data = r;
	err = uv_queue_work(r->st->loop, &r->req, read_work, read_after);
	if (err)
		free(r);
	return err;
}

int store_ix_list(struct store *st, const struct store_ix_filter *f, store_ix_list_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_IX_LIST, arg);

	if (r)
		r->filter = *f, r->list_h = h;
	return read_submit(r);
}

int store_ix_get(struct store *st, const char *number, store_ix_get_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_IX_GET, arg);

	if (r) {
		r->get_h = h;
		str_copy(r->number, number, sizeof(r->number));
	}
	return read_submit(r);
}

int store_ctr_list(struct store *st, const char *number, store_ctr_list_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_CTR, arg);

	if (r) {
		r->ctr_h = h;
		str_copy(r->number, number, sizeof(r->number));
	}
	return read_submit(r);
}

int store_rep_query(struct store *st, const struct store_rep_query *q, store_rep_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_REP, arg);

	if (r)
		r->repq = *q, r->rep_h = h;
	return read_submit(r);
}

int store_rep_segments(struct store *st, const struct store_rep_drill *d, store_rep_segments_h *h,
		       void *arg)
{
	struct read_req *r = read_new(st, RD_REP_SEGMENTS, arg);

	if (r)
		r->drill = *d, r->segs_h = h;
	return read_submit(r);
}

int store_transcript_get(struct store *st, const char *number, store_transcript_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_TRANSCRIPT, arg);

	if (r) {
		r->tr_h = h;
		str_copy(r->number, number, sizeof(r->number));
	}
	return read_submit(r);
}

int store_case_latest(struct store *st, int64_t contact_user_id, store_case_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_CASE, arg);

	if (r)
		r->case_h = h, r->customer = contact_user_id;
	return read_submit(r);
}

int store_case_latest_of(struct store *st, enum st_table party, int64_t party_id, store_case_h *h,
			 void *arg)
{
	struct read_req *r;

	if (party != ST_T_CONTACT && party != ST_T_CONSUMER)
		return -EINVAL;
	r = read_new(st, RD_CASE_OF, arg);
	if (r)
		r->case_h = h, r->customer = party_id, r->table = party;
	return read_submit(r);
}

int store_rec_list(struct store *st, const struct store_rec_filter *f, store_rec_list_h *h,
		   void *arg)
{
	struct read_req *r = read_new(st, RD_REC_LIST, arg);

	if (r)
		r->rfilter = *f, r->rec_list_h = h;
	return read_submit(r);
}

int store_rec_get(struct store *st, enum st_table t, const char *key, store_rec_get_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_REC_GET, arg);

	if (r) {
		r->table = t, r->rec_get_h = h;
		str_copy(r->key, key, sizeof(r->key));
	}
	return read_submit(r);
}

int store_audit_list(struct store *st, const struct store_audit_filter *f, store_audit_list_h *h,
		     void *arg)
{
	struct read_req *r = read_new(st, RD_AUDIT, arg);

	if (r)
		r->afilter = *f, r->audit_h = h;
	return read_submit(r);
}

void store_outbox_page_free(struct store_outbox_page *pg)
{
	for (size_t i = 0; pg->rows && i < pg->n; i++)
		free(pg->rows[i].body);
	free(pg->rows);
	pg->rows = NULL, pg->n = 0;
}

int store_outbox_fetch(struct store *st, int64_t webhook_id, int64_t after_seq, int limit,
		       store_outbox_fetch_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_OUTBOX_FETCH, arg);

	if (r)
		r->customer = webhook_id, r->after_seq = after_seq, r->limit = limit,
		r->ofetch_h = h;
	return read_submit(r);
}

int store_outbox_counts(struct store *st, store_outbox_counts_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_OUTBOX_COUNTS, arg);

	if (r)
		r->ocounts_h = h;
	return read_submit(r);
}

int store_party_by_phone(struct store *st, const char *number, store_rec_get_h *h, void *arg)
{
	struct read_req *r = read_new(st, RD_PARTY, arg);

	if (r) {
		r->rec_get_h = h;
		phone_digits(number, r->key, sizeof(r->key));
	}
	return read_submit(r);
}

int store_call_target(struct store *st, const char *table, const char *key, const char *phone,
		      store_target_h *h, void *arg)
{
	struct read_req *r;
	enum st_table t;

	if (store_table_parse(table, &t) || !key || !phone ||
	    (strcmp(phone, "mobile") && strcmp(phone, "business")))
		return -EINVAL;
	r = read_new(st, RD_TARGET, arg);
	if (r) {
		r->table = t, r->target_h = h;
		str_copy(r->key, key, sizeof(r->key));
		str_copy(r->target.table, table, sizeof(r->target.table));
		str_copy(r->target.key, key, sizeof(r->target.key));
		str_copy(r->target.phone, phone, sizeof(r->target.phone));
	}
	return read_submit(r);
}
