/*
 * interactions.c — GET /api/v1/interactions (filtered, keyset-paginated)
 * and GET /api/v1/interactions/{number} with its activity stream.
 *
 * DESIGN
 * - Both read the store on the worker pool; the loop only validates the
 *   query and renders JSON. Pages are keyset-paginated (next_cursor is the
 *   last id seen), so page 1,000 costs what page 1 costs.
 * - Agents see only interactions assigned to them; voice_manager and admin
 *   see all (SPEC.md §5/§8).
 */
#define LOG_MODULE "api"
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const list_params[] = {"state", "agent", "queue",  "direction", "phone", "from",
					  "to",	   "limit", "cursor", "text",	   NULL};

int api_query_time(struct api_req *q, const char *name, int64_t *out)
{
	char buf[64];
	int rc = api_query(q, name, buf, sizeof(buf));

	if (rc == -ENOENT)
		return 0;
	if (rc || time_parse(buf, out)) {
		api_reply_error(q, 400, "invalid_parameter",
				"'%s' must be a time like 2026-11-25T06:20:00Z, a date, or "
				"milliseconds since 1970",
				name);
		return -EINVAL;
	}
	return 0;
}

static int parse_state(struct api_req *q, struct store_ix_filter *f)
{
	enum ix_state st;
	int rc = api_query(q, "state", f->state, sizeof(f->state));

	if (rc == -ENOENT)
		return 0;
	if (rc || ix_state_parse(f->state, &st) || st == IX_QUEUED) {
		api_reply_error(q, 400, "invalid_parameter",
				"'state' must be one of new, "
				"work_in_progress, closed_complete, closed_abandoned");
		return -EINVAL;
	}
	return 0;
}

static int parse_names(struct api_req *q, struct store_ix_filter *f)
{
	char buf[ST_NAME];
	struct user *u;
	int rc;

	if ((rc = api_query(q, "agent", buf, sizeof(buf))) != -ENOENT) {
		u = rc ? NULL : routing_user_find(q->api->r, buf);
		if (!u) {
			api_reply_error(q, 400, "invalid_parameter", "'agent' names no user");
			return -EINVAL;
		}
		f->agent_user_id = user_record(u)->id;
	}
	if ((rc = api_query(q, "queue", buf, sizeof(buf))) != -ENOENT) {
		f->queue_id = rc ? 0 : routing_queue_id(q->api->r, buf);
		if (!f->queue_id) {
			api_reply_error(q, 400, "invalid_parameter", "'queue' names no queue");
			return -EINVAL;
		}
	}
	if ((rc = api_query(q, "phone", buf, sizeof(buf))) != -ENOENT) {
		if (!rc)
			phone_digits(buf, f->phone, sizeof(f->phone));
		if (rc || strlen(f->phone) < 4) {
			api_reply_error(q, 400, "invalid_parameter",
					"'phone' must be a phone number (at least 4 digits)");
			return -EINVAL;
		}
	}
	rc = api_query(q, "direction", f->direction, sizeof(f->direction));
	if (rc != -ENOENT &&
	    (rc || (strcmp(f->direction, "inbound") && strcmp(f->direction, "outbound")))) {
		api_reply_error(q, 400, "invalid_parameter",
				"'direction' must be inbound or outbound");
		return -EINVAL;
	}
	return 0;
}

/* `text`: words of the calls' transcripts, all of them (in any order,
 * any case). Each word goes to FTS5 as a quoted string, so nothing the
 * user types is FTS5 syntax: "refund AND NOT" is three words. A word is a
 * run of letters, digits and apostrophes (and any non-ASCII byte). */
static bool word_char(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c >= 0x80 || c == '\'' || (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int parse_words(struct api_req *q, struct store_ix_filter *f)
{
	char buf[200], *o = f->words, *end = f->words + sizeof(f->words) - 3;
	int rc = api_query(q, "text", buf, sizeof(buf)), n = 0;

	if (rc == -ENOENT)
		return 0;
	for (const char *p = buf; !rc && *p;) {
		if (!word_char(*p)) {
			p++;
			continue;
		}
		char *w0 = o;
		bool real = false; /* a letter or digit in it, not only apostrophes */
		if (o + 3 > end)
			break;
		if (n)
			*o++ = ' ';
		*o++ = '"';
		for (; o < end && *p; p++) {
			if (!word_char(*p))
				break;
			real |= *p != '\'';
			*o++ = *p;
		}
		*o++ = '"';
		if (real)
			n++;
		else
			o = w0;
	}
	*o = '\0';
	if (rc || !n) {
		api_reply_error(
			q, 400, "invalid_parameter",
			"'text' must hold at least one word (up to 199 characters): the words "
			"of a call's transcript to find");
		return -EINVAL;
	}
	return 0;
}

static int parse_filter(struct api_req *q, struct store_ix_filter *f)
{
	int64_t limit = 50, cursor = 0;

	memset(f, 0, sizeof(*f));
	if (api_query_check(q, list_params) || parse_state(q, f) || parse_names(q, f) ||
	    parse_words(q, f) || api_query_time(q, "from", &f->from_ms) ||
	    api_query_time(q, "to", &f->to_ms) || api_query_int(q, "limit", 1, 200, &limit) ||
	    api_query_int(q, "cursor", 1, INT64_MAX, &cursor))
		return -EINVAL;
	f->limit = (int)limit;
	f->before_id = cursor;
	return 0;
}

/* A search's matched words in context (store.h, ST_SNIPPET) as pieces:
 * [{"text": "... i was "}, {"text": "charged", "match": true}, ...], so a
 * client shows them without parsing markers. */
static json_t *view_snippet(const char *s)
{
	json_t *a = json_array();
	char piece[ST_SNIPPET];
	bool on = false;

	while (*s) {
		size_t n = strcspn(s, (char[]){ST_SNIP_ON, ST_SNIP_OFF, '\0'});
		if (n) {
			memcpy(piece, s, n);
			piece[n] = '\0';
			api_text_utf8_fix(piece); /* cut to fit by bytes */
			json_array_append_new(a,
					      on ? json_pack("{s:s,s:b}", "text", piece, "match", 1)
						 : json_pack("{s:s}", "text", piece));
		}
		s += n;
		if (*s)
			on = *s++ == ST_SNIP_ON;
	}
	return a;
}

static void list_done(int err, struct store_ix_page *pg, void *arg)
{
	struct api_req *q = arg;
	json_t *a, *o;

	if (err) {
		api_reply_err(q, CC_ESTORE, "");
		api_req_release(q);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < pg->n; i++) {
		json_t *x = view_interaction(q->api->r, &pg->rows[i]);
		if (pg->snippets) /* a search by transcript words */
			json_object_set_new(x, "transcript_match", view_snippet(pg->snippets[i]));
		json_array_append_new(a, x);
	}
	o = json_pack("{s:o}", "interactions", a);
	api_reply_page(q, o, pg->more && pg->n ? pg->rows[pg->n - 1].id : 0);
	api_req_release(q);
}

void api_route_interactions_list(struct api_req *q)
{
	struct store_ix_filter f;

	if (parse_filter(q, &f))
		return;
	if (!api_is_manager(q->user)) {
		if (!user_is_agent(q->user)) {
			api_reply_error(q, 403, "forbidden",
					"interactions are for agents (their own) and managers");
			return;
		}
		if (f.agent_user_id && f.agent_user_id != user_record(q->user)->id) {
			api_reply_error(q, 403, "forbidden",
					"an agent sees only their own interactions");
			return;
		}
		/* A customer's history (by their number) is every agent's to
		 * read, as the screen pop shows it; otherwise one's own only. */
		if (!f.phone[0])
			f.agent_user_id = user_record(q->user)->id;
	}
	if (store_ix_list(q->api->st, &f, list_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

static json_t *conversations_json(const struct store_ix_detail *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_conversations; i++) {
		const struct st_conversation *c = &d->conversations[i];
		json_array_append_new(a, json_pack("{s:s,s:{s:s,s:s},s:s,s:o}", "number", c->number,
						   "linked_record", "table", c->linked_table,
						   "number", c->linked_number, "flag", c->flag,
						   "created_at", view_time(c->created_at)));
	}
	return a;
}

/* Who may read an interaction: its assignee, managers, and an agent who
 * took part in it through a transfer (named in a `transfer` activity
 * entry, or on it now as a transfer's second agent). */
static bool may_read(const struct api_req *q, const struct store_ix_detail *d)
{
	const char *me = user_record(q->user)->user_name;
	struct agent_view v;

	if (api_is_manager(q->user) || d->ix.agent_user_id == user_record(q->user)->id)
		return true;
	user_agent_view(q->user, &v);
	if (v.interaction && !strcmp(v.interaction, d->ix.number))
		return true;
	for (size_t i = 0; i < d->n_activity; i++)
		if (!strcmp(d->activity[i].kind, "transfer") && !strcmp(d->activity[i].actor, me))
			return true;
	return false;
}

static void get_done(int err, struct store_ix_detail *d, void *arg)
{
	struct api_req *q = arg;
	json_t *o, *acts;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else if (!d->found || !may_read(q, d))
		/* Not yours: answer as if it did not exist (no record enumeration). */
		api_reply_error(q, 404, "not_found", "no interaction %s", q->segs[3]);
	else {
		o = view_interaction(q->api->r, &d->ix);
		acts = json_array();
		for (size_t i = 0; i < d->n_activity; i++) {
			const struct st_activity *ac = &d->activity[i];
			json_array_append_new(acts,
					      json_pack("{s:o,s:s,s:s,s:s}", "at",
							view_time(ac->at), "kind", ac->kind,
							"actor", ac->actor, "text", ac->text));
		}
		json_object_set_new(o, "activity", acts);
		json_object_set_new(o, "conversations", conversations_json(d));
		/* its transcript's status, so the form asks for one only when there
		 * is one (GET .../transcript; null = none) */
		json_object_set_new(o, "transcript",
				    d->transcript[0] ? json_string(d->transcript) : json_null());
		api_reply_json(q, 200, o);
	}
	api_req_release(q);
}

void api_route_interaction_get(struct api_req *q)
{
	const char *num = q->segs[3];

	if (strlen(num) >= ST_NUMBER) {
		api_reply_error(q, 404, "not_found", "no interaction %.32s", num);
		return;
	}
	if (store_ix_get(q->api->st, num, get_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

/* ---- contact trace records (docs/CTR.md) ---- */
static void ctr_done(int err, struct store_ctr_list *l, void *arg)
{
	struct api_req *q = arg;
	json_t *a;

	if (err)
		api_reply_err(q, CC_ESTORE, "");
	else if (!l->found ||
		 (!api_is_manager(q->user) && l->ix.agent_user_id != user_record(q->user)->id))
		/* the same rule as the interaction itself */
		api_reply_error(q, 404, "not_found", "no interaction %s", q->segs[3]);
	else {
		a = json_array();
		for (size_t i = 0; i < l->n; i++)
			json_array_append_new(a, view_ctr(&l->rows[i]));
		api_reply_json(q, 200,
			       json_pack("{s:s,s:s,s:o}", "interaction", l->ix.number, "state",
					 l->ix.state, "segments", a));
	}
	api_req_release(q);
}

void api_route_interaction_ctr(struct api_req *q)
{
	const char *num = q->segs[3];

	if (strlen(num) >= ST_NUMBER) {
		api_reply_error(q, 404, "not_found", "no interaction %.32s", num);
		return;
	}
	if (store_ctr_list(q->api->st, num, ctr_done, api_req_hold(q))) {
		api_req_release(q);
		api_reply_err(q, -ENOMEM, "");
	}
}

/* ---- notes during the call (issue 10) ---- */
struct note_req {
	struct api_req *q;
	char text[ST_NOTE + 1];
	int64_t at;
};

static void note_saved(int err, void *arg)
{
	struct note_req *n = arg;

	if (err)
		api_reply_err(n->q, err, "the note was not stored");
	else
		api_reply_json(n->q, 201,
			       json_pack("{s:o,s:s,s:s,s:s}", "at", view_time(n->at), "kind",
					 "note", "actor", user_record(n->q->user)->user_name,
					 "text", n->text));
	api_req_release(n->q);
	free(n);
}

void api_route_note_add(struct api_req *q)
{
	struct note_req *n = calloc(1, sizeof(*n));
	char err[API_ERRSZ];
	int rc;

	if (!n) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	if (api_reply_bad_body(q, req_decode_note(q->body, q->body_len, n->text, err, sizeof(err)),
			       err)) {
		free(n);
		return;
	}
	n->q = api_req_hold(q);
	n->at = time_now_ms();
	rc = routing_ix_add_note(q->api->r, q->segs[3], q->user, api_is_manager(q->user), n->text,
				 note_saved, n);
	if (rc) {
		api_req_release(q);
		free(n);
		if (rc == CC_ENOTFOUND)
			api_reply_error(
				q, 404, "not_found",
				"no open interaction %.32s of yours: notes are added while it is "
				"open (during the call or its wrap-up)",
				q->segs[3]);
		else
			api_reply_err(q, rc, "the note was not stored");
	}
}
