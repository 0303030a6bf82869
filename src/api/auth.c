/*
 * auth.c — sign-in, sessions and role checks.
 *
 * DESIGN
 * - Passwords are argon2id hashes (libsodium crypto_pwhash_str, interactive
 *   limits). Verifying costs ~0.1 s and 64 MiB, so it runs on the worker
 *   pool; an unknown user name is verified against a dummy hash so that
 *   timing does not reveal which user names exist.
 * - A bearer token is 32 random bytes (hex). Only its hash is kept, in
 *   memory (uthash) and in the store, so a copy of the database grants no
 *   session. Sessions expire after auth.session_ttl seconds.
 * - Signing in and out drives presence (routing_user_signed_in/out).
 */
#define LOG_MODULE "auth"
#include "api/api_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

bool api_has_role(const struct user *u, enum role r)
{
	return u && (user_roles(u) & ROLE_BIT(r));
}

bool api_is_manager(const struct user *u)
{
	return api_has_role(u, ROLE_VOICE_MANAGER) || api_has_role(u, ROLE_ADMIN);
}

/* ---- sessions ---- */
static int session_add(struct api *a, const char *hash, int64_t user_id, int64_t expires)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	str_copy(s->token_hash, hash, sizeof(s->token_hash));
	s->user_id = user_id;
	s->expires_at = expires;
	HASH_ADD_STR(a->sessions, token_hash, s);
	return 0;
}

int api_sessions_load(struct api *a, const struct st_snapshot *snap)
{
	int64_t now = time_now_ms();

	for (size_t i = 0; i < snap->n_sessions; i++) {
		const struct st_session *ss = &snap->sessions[i];
		if (ss->expires_at > now &&
		    session_add(a, ss->token_hash, ss->user_id, ss->expires_at))
			return -ENOMEM;
	}
	return 0;
}

void api_sessions_free(struct api *a)
{
	struct session *s, *tmp;

	HASH_ITER(hh, a->sessions, s, tmp)
	{
		HASH_DEL(a->sessions, s);
		free(s);
	}
}

struct user *api_session_user(struct api *a, const char *token, char hash_out[65])
{
	struct session *s = NULL;
	struct user *u;

	token_hash_hex(token, hash_out);
	HASH_FIND_STR(a->sessions, hash_out, s);
	if (!s)
		return NULL;
	if (s->expires_at <= time_now_ms()) {
		HASH_DEL(a->sessions, s);
		free(s);
		return NULL;
	}
	u = routing_user_by_id(a->r, s->user_id);
	return u && user_record(u)->active ? u : NULL;
}

/* ---- login ---- */
struct login {
	struct api_req *q;
	struct req_login body;
	char hash[ST_HASH];
	int64_t user_id;
	bool ok;
	char token[65];
	struct st_session sess;
};

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	password_hash("no such user", dummy_hash, sizeof(dummy_hash));
}

static void login_verify(void *arg)
{
	struct login *l = arg;

	if (!l->hash[0]) { /* same cost for an unknown user */
		pthread_once(&dummy_once, dummy_init);
		password_verify(dummy_hash, l->body.password);
		return;
	}
	l->ok = !password_verify(l->hash, l->body.password);
}

static void login_stored(int err, void *arg)
{
	struct login *l = arg;
	struct api_req *q = l->q;
	struct user *u = routing_user_by_id(q->api->r, l->user_id);

	if (err || !u) {
		api_reply_err(q, err ? err : CC_ENOTFOUND, "sign-in failed");
	} else {
		routing_user_signed_in(q->api->r, u);
		api_reply_json(q, 200,
			       json_pack("{s:s,s:s,s:o,s:o}", "token", l->token, "token_type",
					 "Bearer", "expires_at", view_time(l->sess.expires_at),
					 "user", view_user(q->api->r, u, true)));
	}
	sodium_memzero(l, sizeof(*l));
	api_req_release(q);
	free(l);
}

static void login_done(void *arg)
{
	struct login *l = arg;
	struct api *a = l->q->api;
	struct store_op op = {.kind = STORE_OP_SESSION_INSERT};
	struct user *u = routing_user_by_id(a->r, l->user_id);

	if (!l->ok || !u || !user_record(u)->active) {
		log_info("user=%s action=sign-in refused", l->body.user_name);
		api_reply_error(l->q, 401, "bad_credentials", "wrong user name or password");
		api_req_release(l->q);
		sodium_memzero(l, sizeof(*l));
		free(l);
		return;
	}
	token_random_hex(l->token, sizeof(l->token), 32);
	token_hash_hex(l->token, l->sess.token_hash);
	l->sess.user_id = l->user_id;
	l->sess.created_at = time_now_ms();
	l->sess.expires_at = l->sess.created_at + (int64_t)a->cfg->session_ttl_s * 1000;
	op.u.session = l->sess;
	if (session_add(a, l->sess.token_hash, l->user_id, l->sess.expires_at) ||
	    store_write(a->st, &op, 1, login_stored, l))
		login_stored(-ENOMEM, l);
	log_info("user=%s action=signed in", l->body.user_name);
}

void api_route_login(struct api_req *q)
{
	struct login *l = calloc(1, sizeof(*l));
	char err[API_ERRSZ];
	struct user *u;

	if (!l) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	if (api_reply_bad_body(
		    q, req_decode_login(q->body, q->body_len, &l->body, err, sizeof(err)), err)) {
		free(l);
		return;
	}
	u = routing_user_find(q->api->r, l->body.user_name);
	if (u) {
		str_copy(l->hash, user_record(u)->password_hash, sizeof(l->hash));
		l->user_id = user_record(u)->id;
	}
	l->q = api_req_hold(q);
	if (work_submit(q->api->loop, login_verify, login_done, l)) {
		api_reply_err(q, -ENOMEM, "");
		api_req_release(q);
		free(l);
	}
}

static void logout_stored(int err, void *arg)
{
	struct api_req *q = arg;

	if (err)
		api_reply_err(q, err, "sign-out failed");
	else
		api_reply_json(q, 200, json_pack("{s:b}", "signed_out", 1));
	api_req_release(q);
}

void api_route_logout(struct api_req *q)
{
	struct session *s = NULL;
	struct store_op op = {.kind = STORE_OP_SESSION_DELETE};

	HASH_FIND_STR(q->api->sessions, q->token_hash, s);
	if (s) {
		HASH_DEL(q->api->sessions, s);
		free(s);
	}
	routing_user_signed_out(q->api->r, q->user);
	str_copy(op.u.session.token_hash, q->token_hash, sizeof(op.u.session.token_hash));
	if (store_write(q->api->st, &op, 1, logout_stored, api_req_hold(q)))
		logout_stored(-ENOMEM, q);
}
