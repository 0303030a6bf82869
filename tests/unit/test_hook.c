/*
 * test_hook.c — webhooks (hook/): the pure parts (event names and lists,
 * which routing events are webhook events, the body, the signature against
 * RFC 4231's vector, the backoff's bounds) and the delivery engine on a real
 * loop against a real store and a tiny HTTP server on loopback in this
 * process, scripted to answer 500, to answer nothing, or 2xx.
 *
 * Checked on the engine: one webhook's deliveries go in commit order, one at
 * a time, each with its delivery id, type and a signature over the exact
 * body; a failure is retried (same id, same body) after the backoff and the
 * rows after it wait; every outcome is stored; deliveries pending when the
 * engine stops go after it starts again on the same store; deleting a
 * webhook drops its POST in flight and its rows. ASan checks for leaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db_fx.h"

#include "hook/hook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OF_PAIR	 (ROLE_BIT(ROLE_OPENFRAME_USER) | ROLE_BIT(ROLE_INTERACTION_AGENT))
#define SECRET	 "test-secret-0123456789"
#define MAX_REQS 32

/* ---- the pure parts ---- */
static void event_names_and_lists_round_trip(void **state)
{
	enum hook_event e;
	char buf[ST_HOOK_EVENTS];

	assert_string_equal(hook_event_name(HOOK_EV_CTR), "ctr");
	assert_string_equal(hook_event_name(HOOK_EV_INTERACTION), "interaction");
	assert_string_equal(hook_event_name(HOOK_EV_PRESENCE), "presence");
	assert_int_equal(hook_event_parse("presence", &e), 0);
	assert_int_equal(e, HOOK_EV_PRESENCE);
	assert_int_equal(hook_event_parse("Presence", &e), -EINVAL);
	assert_int_equal(hook_event_parse("", &e), -EINVAL);
	hook_events_text(HOOK_EV_BIT(HOOK_EV_PRESENCE) | HOOK_EV_BIT(HOOK_EV_CTR), buf,
			 sizeof(buf));
	assert_string_equal(buf, "ctr,presence");
	hook_events_text(HOOK_EV_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "ctr,interaction,presence");
	hook_events_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(hook_events_mask("interaction,presence"),
			 HOOK_EV_BIT(HOOK_EV_INTERACTION) | HOOK_EV_BIT(HOOK_EV_PRESENCE));
	assert_int_equal(hook_events_mask("ctr,,bogus"), HOOK_EV_BIT(HOOK_EV_CTR));
	assert_int_equal(hook_event_of_kind(RT_EV_PRESENCE, &e), 0);
	assert_int_equal(e, HOOK_EV_PRESENCE);
	assert_int_equal(hook_event_of_kind(RT_EV_INTERACTION, &e), 0);
	assert_int_equal(e, HOOK_EV_INTERACTION);
	assert_int_equal(hook_event_of_kind(RT_EV_OFFER, &e), -ENOENT);
	assert_int_equal(hook_event_of_kind(RT_EV_CALL, &e), -ENOENT);
	assert_int_equal(hook_event_of_kind(RT_EV_ROLES, &e), -ENOENT);
	assert_int_equal(hook_event_of_kind(RT_EV_DEVICE, &e), -ENOENT);
}

/* RFC 4231 test case 2 (a key shorter than the block) and 6 (longer). */
static void the_signature_is_hmac_sha256_of_the_body(void **state)
{
	char sig[HOOK_SIG_SIZE], key[132];
	const char *body = "what do ya want for nothing?";
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";

	hook_sign("Jefe", body, strlen(body), sig);
	assert_string_equal(sig,
			    "sha256="
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 131);
	key[131] = '\0';
	hook_sign(key, big, strlen(big), sig);
	assert_string_equal(sig,
			    "sha256="
			    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void backoff_doubles_to_its_cap_with_jitter_in_the_upper_half(void **state)
{
	/* rnd 0: the whole base; rnd max: half of it */
	assert_int_equal(hook_backoff_ms(1, 1000, 300000, 0), 1000);
	assert_int_equal(hook_backoff_ms(1, 1000, 300000, UINT32_MAX), 500);
	assert_int_equal(hook_backoff_ms(2, 1000, 300000, 0), 2000);
	assert_int_equal(hook_backoff_ms(9, 1000, 300000, 0), 256000);
	assert_int_equal(hook_backoff_ms(10, 1000, 300000, 0), 300000);
	assert_int_equal(hook_backoff_ms(10000, 1000, 300000, 0), 300000);
	assert_int_equal(hook_backoff_ms(10000, 1000, 300000, UINT32_MAX), 150000);
	for (uint32_t r = 0; r < 4000000000u; r += 123456789) {
		int64_t w = hook_backoff_ms(3, 100, 1000, r);
		assert_true(w >= 200 && w <= 400);
	}
	assert_int_equal(hook_backoff_ms(1, 500, 100, 0), 500); /* max below min: min */
}

static void bodies_carry_the_websocket_events_fields(void **state)
{
	struct routing_event ev = {.kind = RT_EV_INTERACTION,
				   .at = 1796611207123,
				   .from = "new",
				   .to = "closed_abandoned",
				   .reason = "caller_hangup",
				   .interaction = "INT0001001",
				   .actor = "system"};
	enum hook_event type = HOOK_EV__N;
	char *b = hook_event_body(&ev, "00ff", &type);

	assert_non_null(b);
	assert_int_equal(type, HOOK_EV_INTERACTION);
	assert_string_equal(b, "{\"id\":\"00ff\",\"type\":\"interaction\",\"at\":"
			       "\"2026-12-07T02:40:07.123Z\",\"data\":{\"number\":\"INT0001001\","
			       "\"from\":\"new\",\"to\":\"closed_abandoned\",\"agent\":null,"
			       "\"reason\":\"caller_hangup\",\"actor\":\"system\"}}");
	free(b);
	ev = (struct routing_event){.kind = RT_EV_PRESENCE,
				    .at = 1796611207123,
				    .from = "Away",
				    .to = "Available",
				    .reason = "caf\xc3\xa9 \xff",
				    .interaction = "",
				    .actor = "ned"};
	b = hook_event_body(&ev, "01", &type);
	assert_int_equal(type, HOOK_EV_PRESENCE);
	assert_string_equal(b, "{\"id\":\"01\",\"type\":\"presence\",\"at\":"
			       "\"2026-12-07T02:40:07.123Z\",\"data\":{\"user_name\":\"\","
			       "\"from\":\"Away\",\"to\":\"Available\",\"reason\":\"caf?? ?\","
			       "\"interaction\":null,\"actor\":\"ned\"}}");
	free(b);
	ev.kind = RT_EV_OFFER;
	type = HOOK_EV__N;
	assert_null(hook_event_body(&ev, "02", &type));
	assert_int_equal(type, HOOK_EV__N);
}

/* ---- a tiny HTTP receiver on the test's loop ---- */
enum answer { ANS_OK, ANS_500, ANS_SILENT };

struct req {
	char id[ST_DELIVERY_ID], event[16], sig[HOOK_SIG_SIZE];
	char body[1024];
};

struct conn {
	uv_tcp_t tcp;
	struct recv *rv;
	char buf[8192];
	size_t len;
	bool answered;
};

struct recv {
	uv_tcp_t server;
	int port;
	enum answer script[MAX_REQS]; /* answer to request i; past the end: OK */
	size_t n_script;
	struct req reqs[MAX_REQS];
	size_t n_reqs;
	size_t open_conns;
};

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	c->rv->open_conns--;
	free(c);
}

static void on_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	free(w);
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void header(const char *head, const char *name, char *out, size_t size)
{
	const char *p = strcasestr(head, name), *e;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(name);
	e = strstr(p, "\r\n");
	snprintf(out, size, "%.*s", (int)(e - p), p);
}

/* A whole request is in: record it and answer as scripted. */
static void answer(struct conn *c, const char *body)
{
	static const char ok[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
	static const char err[] = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: "
				  "close\r\n\r\n";
	struct recv *rv = c->rv;
	size_t i = rv->n_reqs;
	struct req *r = &rv->reqs[i < MAX_REQS ? i : MAX_REQS - 1];
	enum answer a = i < rv->n_script ? rv->script[i] : ANS_OK;
	uv_write_t *w;
	uv_buf_t b;

	c->answered = true;
	header(c->buf, "\r\nX-Switchboard-Id: ", r->id, sizeof(r->id));
	header(c->buf, "\r\nX-Switchboard-Event: ", r->event, sizeof(r->event));
	header(c->buf, "\r\nX-Switchboard-Signature: ", r->sig, sizeof(r->sig));
	str_copy(r->body, body, sizeof(r->body));
	rv->n_reqs++;
	if (a == ANS_SILENT)
		return;
	w = calloc(1, sizeof(*w));
	w->data = c;
	b = uv_buf_init((char *)(a == ANS_OK ? ok : err),
			a == ANS_OK ? sizeof(ok) - 1 : sizeof(err) - 1);
	uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	*buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	char *end, len[16];

	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, conn_closed);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	header(c->buf, "\r\nContent-Length: ", len, sizeof(len));
	if (!c->answered && end && strlen(end + 4) >= (size_t)atoi(len))
		answer(c, end + 4);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct recv *rv = server->data;
	struct conn *c = calloc(1, sizeof(*c));

	assert_int_equal(status, 0);
	c->rv = rv;
	c->tcp.data = c;
	uv_tcp_init(server->loop, &c->tcp);
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	rv->open_conns++;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void recv_start(struct recv *rv, uv_loop_t *loop, int port)
{
	struct sockaddr_in a;
	struct sockaddr_storage got;
	int len = sizeof(got);

	uv_tcp_init(loop, &rv->server);
	rv->server.data = rv;
	uv_ip4_addr("127.0.0.1", port, &a);
	assert_int_equal(uv_tcp_bind(&rv->server, (const struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&rv->server, 16, on_connection), 0);
	uv_tcp_getsockname(&rv->server, (struct sockaddr *)&got, &len);
	rv->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h) && h->type == UV_TCP)
		uv_close(h, h->data && h->data != arg ? conn_closed : NULL);
}

/* ---- the fixture: store, routing, hook on one loop ---- */
struct fx {
	char dir[64], db[128];
	uv_loop_t loop;
	struct config cfg;
	struct store *st;
	struct routing *r;
	struct hook *h;
	struct recv rv;
};

static void fx_open(struct fx *fx)
{
	struct st_snapshot snap;

	assert_int_equal(store_open(&fx->st, &fx->loop, &fx->cfg), 0);
	assert_int_equal(store_load(fx->st, &snap), 0);
	assert_int_equal(routing_alloc(&fx->r, &fx->loop, fx->st, true, &snap), 0);
	assert_int_equal(hook_alloc(&fx->h, &fx->loop, &fx->cfg, fx->st, fx->r, &snap), 0);
	store_snapshot_free(&snap);
	hook_start(fx->h);
}

static void fx_close(struct fx *fx)
{
	hook_stop(fx->h);
	routing_close(fx->r);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	hook_free(fx->h);
	routing_free(fx->r);
	store_close(fx->st);
	fx->h = NULL, fx->r = NULL, fx->st = NULL;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	str_copy(fx->dir, "/tmp/sb_test_hook.XXXXXX", sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/switchboard.db", fx->dir);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	config_defaults(&fx->cfg);
	str_copy(fx->cfg.store_path, fx->db, sizeof(fx->cfg.store_path));
	fx->cfg.store_readers = 2;
	fx->cfg.webhook_timeout_ms = 300;
	fx->cfg.webhook_backoff_min_ms = 20;
	fx->cfg.webhook_backoff_max_ms = 40;
	recv_start(&fx->rv, &fx->loop, 0);
	fx_open(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	uv_walk(&fx->loop, close_walk, &fx->rv); /* the receiver and its connections */
	if (fx->h)
		fx_close(fx);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	dbfx_remove(fx->dir, fx->db);
	free(fx);
	return 0;
}

/* Runs the loop until cond holds (or fails after ms). */
static void run_until(struct fx *fx, bool (*cond)(struct fx *fx), int ms)
{
	int64_t end = time_now_ms() + ms;

	while (!cond(fx)) {
		if (time_now_ms() > end)
			fail_msg("timed out: %zu requests", fx->rv.n_reqs);
		uv_run(&fx->loop, UV_RUN_ONCE);
	}
}

static void on_done(int err, void *arg)
{
	*(int *)arg = err ? err : 1;
}

static int64_t webhook_make(struct fx *fx, const char *events, int port)
{
	struct st_webhook w = {.active = true};
	int64_t id = 0;
	int done = 0;

	snprintf(w.url, sizeof(w.url), "http://127.0.0.1:%d/in", port);
	str_copy(w.secret, SECRET, sizeof(w.secret));
	str_copy(w.events, events, sizeof(w.events));
	assert_int_equal(hook_create(fx->h, &w, NULL, on_done, &done, &id), 0);
	while (!done)
		uv_run(&fx->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
	return id;
}

static struct user *agent_make(struct fx *fx, const char *name)
{
	struct st_user rec = {.active = true};
	struct user *u = NULL;
	int done = 0;

	str_copy(rec.user_name, name, sizeof(rec.user_name));
	str_copy(rec.name, name, sizeof(rec.name));
	assert_int_equal(routing_user_create(fx->r, &rec, OF_PAIR, on_done, &done, &u), 0);
	while (!done)
		uv_run(&fx->loop, UV_RUN_ONCE);
	return u;
}

static void presence(struct fx *fx, struct user *u, enum presence p, const char *reason)
{
	int done = 0;

	assert_int_equal(routing_presence_request(fx->r, u, p, reason, "t", on_done, &done), 0);
	while (!done)
		uv_run(&fx->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
}

static size_t want_reqs;
static bool reqs_in(struct fx *fx)
{
	return fx->rv.n_reqs >= want_reqs;
}

static bool all_delivered(struct fx *fx)
{
	return dbfx_int(fx->db, "SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL") ==
	       0;
}

static void assert_signed(const struct req *r)
{
	char sig[HOOK_SIG_SIZE];
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)r->body, strlen(r->body));
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(sig, "sha256=", 7);
	sodium_bin2hex(sig + 7, sizeof(sig) - 7, mac, sizeof(mac));
	assert_string_equal(r->sig, sig);
}

/* 500, 500, then 2xx: the first event three times (same id, same body),
 * then the others in order; each signed; every outcome stored. */
static void deliveries_go_in_order_and_a_failure_is_retried_first(void **state)
{
	struct fx *fx = *state;
	struct user *u = agent_make(fx, "ned");
	int64_t id = webhook_make(fx, "presence", fx->rv.port);
	char rows[512], want[64];

	fx->rv.script[0] = fx->rv.script[1] = ANS_500;
	fx->rv.n_script = 2;
	presence(fx, u, PRES_AVAILABLE, "");
	presence(fx, u, PRES_AWAY, "Lunch");
	presence(fx, u, PRES_OFFLINE, "");
	want_reqs = 5;
	run_until(fx, reqs_in, 5000);
	run_until(fx, all_delivered, 5000);
	assert_int_equal(fx->rv.n_reqs, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(fx->rv.reqs[i].event, "presence");
		assert_signed(&fx->rv.reqs[i]);
		snprintf(want, sizeof(want), "-%lld", (long long)id);
		assert_non_null(strstr(fx->rv.reqs[i].id, want));
	}
	assert_string_equal(fx->rv.reqs[0].id, fx->rv.reqs[1].id);
	assert_string_equal(fx->rv.reqs[0].id, fx->rv.reqs[2].id);
	assert_string_equal(fx->rv.reqs[0].body, fx->rv.reqs[2].body);
	assert_string_not_equal(fx->rv.reqs[2].id, fx->rv.reqs[3].id);
	assert_non_null(strstr(fx->rv.reqs[0].body, "\"from\":\"Offline\",\"to\":\"Available\""));
	assert_non_null(strstr(fx->rv.reqs[3].body, "\"to\":\"Away\",\"reason\":\"Lunch\""));
	assert_non_null(strstr(fx->rv.reqs[4].body, "\"to\":\"Offline\""));
	dbfx_rows(fx->db,
		  "SELECT attempts||' '||last_status||' '||(delivered_at>0)||' '||last_error FROM "
		  "webhook_outbox ORDER BY seq",
		  rows, sizeof(rows));
	assert_string_equal(rows, "3 204 1 ;1 204 1 ;1 204 1 ");
}

static bool two_attempts(struct fx *fx)
{
	return dbfx_int(fx->db, "SELECT max(attempts) FROM webhook_outbox") >= 2;
}

/* A receiver that is down (nothing listens): attempts are stored with
 * their schedule; the engine stops; on the next start with the receiver up
 * everything pending arrives, oldest first, with the ids it had. */
static void pending_deliveries_survive_a_stop_and_go_after_the_start(void **state)
{
	struct fx *fx = *state;
	struct user *u = agent_make(fx, "beth");
	struct recv *rv = &fx->rv;
	int port = rv->port;
	char ids[256], got[256];

	uv_close((uv_handle_t *)&rv->server, NULL); /* down: connections are refused */
	webhook_make(fx, "presence,interaction", port);
	presence(fx, u, PRES_AVAILABLE, "");
	presence(fx, u, PRES_AWAY, "Break");
	run_until(fx, two_attempts, 5000);
	assert_int_equal(dbfx_int(fx->db, "SELECT count(*) FROM webhook_outbox WHERE "
					  "last_error LIKE '%Could%connect%' OR last_error LIKE "
					  "'%refused%'"),
			 1);
	dbfx_rows(fx->db, "SELECT id FROM webhook_outbox ORDER BY seq", ids, sizeof(ids));
	fx_close(fx);
	recv_start(rv, &fx->loop, port);
	fx_open(fx);
	want_reqs = 2;
	run_until(fx, reqs_in, 5000);
	run_until(fx, all_delivered, 5000);
	snprintf(got, sizeof(got), "%s;%s", rv->reqs[0].id, rv->reqs[1].id);
	assert_string_equal(got, ids);
}

/* Deleting a webhook drops its POST in flight (the receiver never answers)
 * and its pending rows; nothing is written for them afterwards. */
static void a_deleted_webhook_drops_what_it_had(void **state)
{
	struct fx *fx = *state;
	struct user *u = agent_make(fx, "mia");
	int64_t id;
	int done = 0;

	fx->rv.script[0] = ANS_SILENT;
	fx->rv.n_script = 1;
	id = webhook_make(fx, "presence", fx->rv.port);
	presence(fx, u, PRES_AVAILABLE, "");
	presence(fx, u, PRES_AWAY, "Break");
	want_reqs = 1;
	run_until(fx, reqs_in, 5000);
	assert_int_equal(hook_delete(fx->h, id, NULL, on_done, &done), 0);
	while (!done)
		uv_run(&fx->loop, UV_RUN_ONCE);
	assert_null(hook_find(fx->h, id));
	assert_int_equal(dbfx_int(fx->db, "SELECT count(*) FROM webhook_outbox"), 0);
	assert_int_equal(hook_delete(fx->h, id, NULL, on_done, &done), CC_ENOTFOUND);
	/* events with no webhook that takes them write nothing */
	presence(fx, u, PRES_OFFLINE, "");
	assert_int_equal(dbfx_int(fx->db, "SELECT count(*) FROM webhook_outbox"), 0);
	assert_int_equal(fx->rv.n_reqs, 1);
}

/* An inactive webhook gets no new events; its status says what happened. */
static void an_inactive_webhook_takes_nothing_and_status_reports(void **state)
{
	struct fx *fx = *state;
	struct user *u = agent_make(fx, "eve");
	struct st_webhook w;
	struct hook_status s;
	int64_t id = webhook_make(fx, "presence", fx->rv.port);
	int done = 0;

	presence(fx, u, PRES_AVAILABLE, "");
	run_until(fx, all_delivered, 5000);
	assert_int_equal(hook_status_get(fx->h, id, &s), 0);
	assert_int_equal(s.last_status, 204);
	assert_true(s.last_success_at > 0 && !s.in_flight && !s.failures);
	w = *hook_find(fx->h, id);
	w.active = false;
	assert_int_equal(hook_update(fx->h, &w, NULL, on_done, &done), 0);
	while (!done)
		uv_run(&fx->loop, UV_RUN_ONCE);
	presence(fx, u, PRES_AWAY, "Break");
	assert_int_equal(dbfx_int(fx->db, "SELECT count(*) FROM webhook_outbox"), 1);
	assert_int_equal(hook_status_get(fx->h, 999, &s), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(event_names_and_lists_round_trip),
		cmocka_unit_test(the_signature_is_hmac_sha256_of_the_body),
		cmocka_unit_test(backoff_doubles_to_its_cap_with_jitter_in_the_upper_half),
		cmocka_unit_test(bodies_carry_the_websocket_events_fields),
		cmocka_unit_test_setup_teardown(
			deliveries_go_in_order_and_a_failure_is_retried_first, setup, teardown),
		cmocka_unit_test_setup_teardown(
			pending_deliveries_survive_a_stop_and_go_after_the_start, setup, teardown),
		cmocka_unit_test_setup_teardown(a_deleted_webhook_drops_what_it_had, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			an_inactive_webhook_takes_nothing_and_status_reports, setup, teardown),
	};

	log_level_set(LOG_WARN);
	return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
