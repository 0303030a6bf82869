/*
 * records.c — the records the workspace's forms show: contacts, consumers,
 * cases and incidents (docs/DOMAIN.md "Records"), and the click-to-call
 * targets in their JSON.
 *
 * DESIGN
 * - One set of handlers serves the four collections; the table comes from
 *   the path (/api/v1/{contacts,consumers,cases,incidents}[/{number}]).
 * - Reads run on the pool (store_rec_list / store_rec_get), as
 *   interactions.c does. Writes go through the store's ordered group
 *   commit; the reply waits for the commit and then reads the record back,
 *   so a 201/200 shows exactly what is stored (with its number, which the
 *   store assigns). A refused write (validation here, or the store's check
 *   of the contact / caller) writes nothing.
 * - Who (SPEC.md §5): agents (either full role pair), managers and admins
 *   read; agents and admins create and update; only admins delete.
 * - The JSON (views.c, view_record) carries call_targets: the record's
 *   phones (a case's contact's, an incident's caller's) as click-to-call
 *   targets; the key is absent when there are none, as a form shows no link.
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const list_params[] = {"number", "phone", "q", "limit", "cursor", NULL};

/* The collection of the path: segs[2]. */
static enum st_table path_table(const struct api_req *q)
{
	static const char *const names[] = {[ST_T_CONTACT] = "contacts",
					    [ST_T_CONSUMER] = "consumers",
					    [ST_T_CASE] = "cases",
					    [ST_T_INCIDENT] = "incidents"};

	for (int t = ST_T_CONTACT; t <= ST_T_INCIDENT; t++)
		if (q->nsegs > 2 && !strcmp(q->segs[2], names[t]))
			return (enum st_table)t;
	return ST_T_NONE;
}

static const char *collection(enum st_table t)
{
	return t == ST_T_CONTACT    ? "contacts"
	       : t == ST_T_CONSUMER ? "consumers"
	       : t == ST_T_CASE	    ? "cases"
				    : "incidents";
}

/* ---- who may ---- */
enum rec_access { RA_READ, RA_WRITE, RA_DELETE };

static bool may(struct api_req *q, enum rec_access a)
{
	struct user *u = q->user;
	bool agent = user_can_handle_calls(q->api->r, u);
	bool admin = api_has_role(u, ROLE_ADMIN);

	if (a == RA_READ && (agent || api_is_manager(u)))
		return true;
	if (a == RA_WRITE && (agent || admin))
		return true;
	if (a == RA_DELETE && admin)
		return true;
	api_reply_error(q, 403, "forbidden", "%s",
			a == RA_READ	? "records are for agents (sn_openframe.user + "
					  "interaction_agent, or awa_agent + awa_integration_user), "
					  "managers and admins"
			: a == RA_WRITE ? "creating and changing records is for agents and admins"
					: "only an admin may delete a record");
	return false;
}

/* ---- list ---- */
static int text_param(struct api_req *q, const char *name, char *buf, size_t size)
{
	int rc = api_query(q, name, buf, size);

	if (rc == -ENOENT || (!rc && buf[0]))
		return 0;
	buf[0] = '\0';
	api_reply_error(q, 400, "invalid_parameter", "'%s' must be 1 to %zu characters", name,
			size - 1);
	return -EINVAL;
}

static int phone_param(struct api_req *q, struct store_rec_filter *f)
{
	char buf[ST_PHONE];
	int rc = api_query(q, "phone", buf, sizeof(buf));

	if (rc == -ENOENT)
		return 0;
	if (!rc && req_valid_phone(buf))
		phone_digits(buf, f->phone, sizeof(f->phone));
	if (rc || !f->phone[0]) {
		api_reply_error(q, 400, "invalid_parameter",
				"'phone' must be a phone number of at least 4 digits (digits, "
				"spaces, '+', '-', '(', ')', '.')");
		return -EINVAL;
	}
	return 0;
}

static int parse_filter(struct api_req *q, struct store_rec_filter *f)
{
	int64_t limit = 50, cursor = 0;

	memset(f, 0, sizeof(*f));
	f->table = path_table(q);
	if (api_query_check(q, list_params) ||
	    text_param(q, "number", f->number, sizeof(f->number)) ||
	    text_param(q, "q", f->q, sizeof(f->q)) || phone_param(q, f) ||
	    api_query_int(q, "limit", 1, 200, &limit) ||
	    api_query_int(q, "cursor", 1, INT64_MAX, &cursor))
		return -EINVAL;
	f->limit = (int)limit;
	f->before_id = cursor;
	return 0;
}

static void list_done(int err, struct store_rec_page *pg, void *arg)
{
	struct api_req *q = arg;
	json_t *a, *o;

	if (err) {
		api_reply_err(q, CC_ESTORE, "");
		api_req_release(q);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < pg->n; i++)
		json_array_append_new(a, view_record(&pg->rows[i]));
	o = json_pack("{s:o}", collection(path_table(q)), a);
	api_reply_page(q, o, pg->more && pg->n ? pg->rows[pg->n - 1].id : 0);
	api_req_release(q);
}

void api_route_records_list(struct api_req *q)
{
	struct store_rec_filter f;

	if (!may(q, RA_READ) || parse_filter(q, &f))
		return;
	if (store_rec_list(q->api->st, &f, list_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

/* ---- one record ---- */
/* The number in the path, or a 404 (a number the store could never hold). */
static const char *path_number(struct api_req *q)
{
	const char *num = q->segs[3];

	if (strlen(num) >= ST_NUMBER) {
		api_reply_error(q, 404, "not_found", "no %s %.32s", store_table_name(path_table(q)),
				num);
		return NULL;
	}
	return num;
}

struct rec_job {
	struct api_req *q;
	enum st_table table;
	struct store_op op;
	char number[ST_NUMBER];
	int status; /* of the reply once read back */
};

static void job_end(struct rec_job *j)
{
	api_req_release(j->q);
	free(j);
}

static void got_one(int err, const struct st_record *r, void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else if (!r)
		api_reply_error(q, 404, "not_found", "no %s %s", store_table_name(j->table),
				j->number);
	else
		api_reply_json(q, j->status, view_record(r));
	job_end(j);
}

/* Reads the record back (or for a GET) and replies with status. */
static void read_back(struct rec_job *j, int status)
{
	j->status = status;
	if (store_rec_get(j->q->api->st, j->table, j->number, got_one, j)) {
		api_reply_err(j->q, -ENOMEM, "");
		job_end(j);
	}
}

static struct rec_job *job_new(struct api_req *q, const char *number)
{
	struct rec_job *j = calloc(1, sizeof(*j));

	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return NULL;
	}
	j->q = api_req_hold(q);
	j->table = path_table(q);
	if (number)
		str_copy(j->number, number, sizeof(j->number));
	return j;
}

void api_route_record_get(struct api_req *q)
{
	const char *num;
	struct rec_job *j;

	if (!may(q, RA_READ) || !(num = path_number(q)) || !(j = job_new(q, num)))
		return;
	read_back(j, 200);
}

/* The field that named a party the store did not find. */
static const char *party_field(const struct st_record_write *w)
{
	if (w->table == ST_T_INCIDENT)
		return "caller";
	return w->party_table == ST_T_USER	? "contact_user"
	       : w->party_table == ST_T_CONTACT ? "contact"
						: "consumer";
}

static void reply_unknown_party(struct api_req *q, const struct st_record_write *w)
{
	api_reply_error(q, 422, "unknown_reference", "'%s': no %s '%.64s'", party_field(w),
			store_table_name(w->party_table), w->party_key);
}

static void created(int err, void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;

	if (err == CC_ENOTFOUND)
		reply_unknown_party(q, &j->op.u.rec);
	else if (err)
		api_reply_err(q, err, "the record could not be stored");
	if (err) {
		job_end(j);
		return;
	}
	log_info("%s=%s action=created actor=%s", store_table_name(j->table), j->number,
		 user_record(q->user)->user_name);
	read_back(j, 201);
}

/* Decodes the body into j->op; false after replying 400. */
static bool decode(struct api_req *q, struct rec_job *j, bool create)
{
	char err[API_ERRSZ];
	struct st_record_write *w = &j->op.u.rec;

	if (api_reply_bad_body(
		    q,
		    req_decode_record(q->body, q->body_len, j->table, create, w, err, sizeof(err)),
		    err)) {
		job_end(j);
		return false;
	}
	w->at = time_now_ms();
	return true;
}

static void submit(struct rec_job *j, store_done_h *done)
{
	if (store_write(j->q->api->st, &j->op, 1, done, j)) {
		api_reply_err(j->q, -ENOMEM, "");
		job_end(j);
	}
}

void api_route_record_create(struct api_req *q)
{
	struct rec_job *j;

	if (!may(q, RA_WRITE) || !(j = job_new(q, NULL)) || !decode(q, j, true))
		return;
	j->op.kind = STORE_OP_RECORD_INSERT;
	j->op.u.rec.out_number = j->number; /* written on the pool, read after the commit */
	submit(j, created);
}

/* A refused update: the record is missing (404) or what it names (422). */
static void update_refused(int err, const struct st_record *r, void *arg)
{
	struct rec_job *j = arg;

	if (!err && r)
		reply_unknown_party(j->q, &j->op.u.rec);
	else if (!err)
		api_reply_error(j->q, 404, "not_found", "no %s %s", store_table_name(j->table),
				j->number);
	else
		api_reply_err(j->q, CC_ESTORE, "");
	job_end(j);
}

static void updated(int err, void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;

	if (err == CC_ENOTFOUND && (j->op.u.rec.set & ST_F_PARTY) &&
	    j->op.u.rec.party_table != ST_T_NONE) {
		if (store_rec_get(q->api->st, j->table, j->number, update_refused, j)) {
			api_reply_err(q, -ENOMEM, "");
			job_end(j);
		}
		return;
	}
	if (err) {
		if (err == CC_ENOTFOUND)
			api_reply_error(q, 404, "not_found", "no %s %s", store_table_name(j->table),
					j->number);
		else
			api_reply_err(q, err, "the record could not be stored");
		job_end(j);
		return;
	}
	read_back(j, 200);
}

void api_route_record_update(struct api_req *q)
{
	const char *num;
	struct rec_job *j;

	if (!may(q, RA_WRITE) || !(num = path_number(q)) || !(j = job_new(q, num)) ||
	    !decode(q, j, false))
		return;
	j->op.kind = STORE_OP_RECORD_UPDATE;
	str_copy(j->op.u.rec.number, num, sizeof(j->op.u.rec.number));
	submit(j, updated);
}

static void deleted(int err, void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;
	const char *what = store_table_name(j->table);

	if (err == CC_ENOTFOUND)
		api_reply_error(q, 404, "not_found", "no %s %s", what, j->number);
	else if (err == CC_ECONFLICT)
		api_reply_error(q, 409, "conflict",
				"%s %s is the contact of a case; change the case's contact first",
				what, j->number);
	else if (err)
		api_reply_err(q, err, "the record could not be deleted");
	else {
		log_info("%s=%s action=deleted actor=%s", what, j->number,
			 user_record(q->user)->user_name);
		api_reply_json(q, 200, json_pack("{s:s,s:b}", "number", j->number, "deleted", 1));
	}
	job_end(j);
}

void api_route_record_delete(struct api_req *q)
{
	const char *num;
	struct rec_job *j;

	if (!may(q, RA_DELETE) || !(num = path_number(q)) || !(j = job_new(q, num)))
		return;
	j->op.kind = STORE_OP_RECORD_DELETE;
	j->op.u.rec.table = j->table;
	str_copy(j->op.u.rec.number, num, sizeof(j->op.u.rec.number));
	submit(j, deleted);
}
