/*
 * test_callctl.c — call control (callctl/) on its state table, with the
 * legs' transport replaced by a recording fake behind struct leg_ops and
 * everything else real: routing and its engine on a real SQLite store (the
 * demo site, seeded once into a template file that each test copies), the
 * flows loaded from files, the registrar's stored bindings.
 *
 * SIP events are injected as the SIP thread would deliver them
 * (callctl_sip_event); the fake logs what call control asked of the legs
 * ("dial agent sip:ned@…", "bridge", "record", "hangup agent"...) and gives
 * dialled legs ids 101, 102... Timers and the store's completions run on
 * the test's loop (fx_turn, fx_settle).
 *
 * Covered: every row of the call table (counted, and the last test fails
 * if a row was never taken), every event refused in each state the tests
 * reach, every way a call ends, a failing recording and a failing store
 * write; all with a leak check, and an OOM loop over the call's allocation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "db_fx.h"

#include "callctl/callctl_int.h"
#include "demo/demo.h"
#include "routing/routing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_SIZE 4096

/* ---- the fake transport ---- */
struct fake {
	char log[LOG_SIZE];
	sip_leg_t next_leg;
	bool fail_dial, fail_record, fail_answer;
	int refused; /* the last status refused */
};
static struct fake fk;
static char media_marker[8]; /* what a fake leg's media handle points at */

static void fk_log(const char *fmt, ...)
{
	size_t used = strlen(fk.log);
	va_list ap;

	if (used + 2 >= sizeof(fk.log))
		return;
	if (used)
		fk.log[used++] = ';', fk.log[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(fk.log + used, sizeof(fk.log) - used, fmt, ap);
	va_end(ap);
}

static const char *role(const struct cleg *l)
{
	return cleg_role_name(l->role);
}

static void fk_refuse(struct callctl *cc, sip_leg_t leg, int status, const char *reason)
{
	fk.refused = status;
	fk_log("refuse %d %s", status, reason);
}

static int fk_media(struct cleg *l)
{
	l->m = (struct mwleg *)media_marker;
	return 0;
}

static int fk_answer(struct cleg *l, const char *offer)
{
	if (fk.fail_answer || !strcmp(offer, "bad"))
		return 488;
	fk_media(l);
	fk_log("answer %s", role(l));
	return 0;
}

static int fk_dial(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		   bool auto_answer)
{
	if (fk.fail_dial)
		return -EIO;
	fk_media(l);
	call_leg_bind(l->call->cc, l, ++fk.next_leg);
	fk_log("dial %s %s%s", role(l), uri, auto_answer ? " auto" : "");
	return 0;
}

static int fk_remote(struct cleg *l, const char *sdp)
{
	return strcmp(sdp, "ok") ? -1 : 0;
}

static int fk_reoffer(struct cleg *l, const char *sdp, bool *hold)
{
	*hold = strstr(sdp, "sendonly") != NULL;
	return 0;
}

static void fk_hangup(struct cleg *l)
{
	fk_log("hangup %s", role(l));
}

static int fk_refer_reply(struct cleg *l, int status, const char *reason)
{
	fk_log("refer reply %s %d", role(l), status);
	return 0;
}

static void fk_release(struct cleg *l)
{
	l->m = NULL;
}

static int fk_play(struct cleg *l, const int16_t *pcm, size_t n, bool loop)
{
	fk_log("play %s%s", role(l), loop ? " loop" : "");
	return 0;
}

static int fk_play_ref(struct cleg *l, int16_t *pcm, size_t n, bool loop)
{
	return fk_play(l, pcm, n, loop);
}

static void fk_stop(struct cleg *l)
{
	fk_log("stop %s", role(l));
}

static void fk_stats(const struct cleg *l, struct media_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rx_packets = 50; /* audio flows: no "no audio" warning */
}

static int fk_send_dtmf(struct cleg *l, char digit)
{
	fk_log("dtmf %c", digit);
	return 0;
}

static void fk_on_dtmf(struct cleg *l, mleg_dtmf_h *h, void *arg)
{
}

static void fk_on_audio(struct cleg *l, mleg_audio_h *h, void *arg)
{
}

static const char *const fk_modes[] = {"talk", "listen", "whisper", "barge", "hold"};

static int fk_join(struct cleg *l, enum mixer_mode mode, struct cleg *target)
{
	if (!l->m)
		return -ENODEV;
	l->call->conf = (struct mwconf *)&fk; /* a conference exists: conf_free must come */
	if (target)
		fk_log("join %s %s %s", role(l), fk_modes[mode], role(target));
	else
		fk_log("join %s %s", role(l), fk_modes[mode]);
	return 0;
}

static int fk_leave(struct cleg *l)
{
	fk_log("leave %s", role(l));
	return 0;
}

static int fk_record_start(struct cleg *customer, const char *path)
{
	if (fk.fail_record)
		return -EIO;
	fk_log("record");
	return 0;
}

static int fk_record_stop(struct call *c, media_record_done_h *done, void *arg)
{
	fk_log("record stop");
	done(0, 0, arg);
	return 0;
}

static void fk_conf_free(struct call *c)
{
	if (c->conf)
		fk_log("conf free");
	c->conf = NULL;
}

static const struct leg_ops fake_ops = {
	.version = LEG_OPS_VERSION,
	.name = "fake",
	.refuse = fk_refuse,
	.media = fk_media,
	.answer = fk_answer,
	.dial = fk_dial,
	.remote = fk_remote,
	.reoffer = fk_reoffer,
	.hangup = fk_hangup,
	.refer_reply = fk_refer_reply,
	.release = fk_release,
	.play = fk_play,
	.play_ref = fk_play_ref,
	.stop = fk_stop,
	.stats = fk_stats,
	.send_dtmf = fk_send_dtmf,
	.on_dtmf = fk_on_dtmf,
	.on_audio = fk_on_audio,
	.join = fk_join,
	.leave = fk_leave,
	.record_start = fk_record_start,
	.record_stop = fk_record_stop,
	.conf_free = fk_conf_free,
};

/* ---- the fixture ---- */
static char tmpl_dir[64], tmpl_db[128];

struct fx {
	char dir[64], db[128], flows[128];
	uv_loop_t loop;
	struct store *st;
	struct routing *r;
	struct callctl *cc;
};

static void fx_settle(struct fx *fx)
{
	for (int i = 0; i < 50 && store_pending(fx->st); i++)
		uv_run(&fx->loop, UV_RUN_ONCE);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
}

static void fx_turn(struct fx *fx)
{
	uv_run(&fx->loop, UV_RUN_NOWAIT);
}

/* Runs the loop for ms (timers fire). */
static void fx_wait(struct fx *fx, int ms)
{
	uint64_t until = uv_now(&fx->loop) + (uint64_t)ms;

	while (uv_now(&fx->loop) < until) {
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		usleep(2000);
		uv_update_time(&fx->loop);
	}
	fx_settle(fx);
}

static void file_write(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void file_copy(const char *from, const char *to)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static int64_t user_id_in(const struct st_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n_users; i++)
		if (!strcmp(s->users[i].user_name, name))
			return s->users[i].id;
	return 0;
}

static void op_number(struct store *st, const char *did, const char *flow)
{
	struct store_op op = {.kind = STORE_OP_NUMBER_SET};

	str_copy(op.u.number.did, did, sizeof(op.u.number.did));
	op.u.number.queue_id = 1;
	str_copy(op.u.number.flow, flow, sizeof(op.u.number.flow));
	assert_int_equal(store_apply_now(st, &op, 1), 0);
}

static void op_binding(struct store *st, int64_t uid, const char *contact)
{
	struct store_op op = {.kind = STORE_OP_BINDING_SET};

	op.u.binding.user_id = uid;
	str_copy(op.u.binding.contact, contact, sizeof(op.u.binding.contact));
	op.u.binding.expires_at = time_now_ms() + 3600 * 1000;
	assert_int_equal(store_apply_now(st, &op, 1), 0);
}

/* The demo site once (argon2id hashing is slow), with flows' numbers and
 * ned's and beth's phones registered. */
static int group_setup(void **state)
{
	struct config cfg;
	struct st_snapshot snap;
	struct store *st;
	uv_loop_t loop;
	bool created;

	log_level_set(LOG_ERROR);
	str_copy(tmpl_dir, "/tmp/sb_test_callctl.XXXXXX", sizeof(tmpl_dir));
	assert_non_null(mkdtemp(tmpl_dir));
	snprintf(tmpl_db, sizeof(tmpl_db), "%s/template.db", tmpl_dir);
	assert_int_equal(uv_loop_init(&loop), 0);
	config_defaults(&cfg);
	str_copy(cfg.store_path, tmpl_db, sizeof(cfg.store_path));
	cfg.store_readers = 1;
	assert_int_equal(store_open(&st, &loop, &cfg), 0);
	assert_int_equal(store_load(st, &snap), 0);
	assert_int_equal(demo_seed_site(st, &snap, "switchboard", &created), 0);
	store_snapshot_free(&snap);
	op_number(st, "7001", "q");
	op_number(st, "7002", "x");
	op_number(st, "7003", "h");
	assert_int_equal(store_load(st, &snap), 0);
	op_binding(st, user_id_in(&snap, "ned"), "sip:ned@127.0.0.1:5991");
	op_binding(st, user_id_in(&snap, "beth"), "sip:beth@127.0.0.1:5992");
	op_binding(st, user_id_in(&snap, "mia"), "sip:mia@127.0.0.1:5993");
	store_snapshot_free(&snap);
	store_close(st);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

static int group_teardown(void **state)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/template.db-wal", tmpl_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/template.db-shm", tmpl_dir);
	unlink(path);
	unlink(tmpl_db);
	rmdir(tmpl_dir);
	return 0;
}

static const char FLOW_Q[] = "start: q\nblocks:\n"
			     "  q: {kind: queue, queue: Support, max_wait: 1, overflow: bye}\n"
			     "  bye: {kind: disconnect}\n";
static const char FLOW_X[] = "start: t\nblocks:\n"
			     "  t: {kind: transfer, number: \"15550123\", failed: q}\n"
			     "  q: {kind: queue, queue: Support}\n";
static const char FLOW_H[] = "start: out\nblocks:\n  out: {kind: disconnect}\n";

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct callctl_cfg vc = {
		.max_calls = 10,
		.greeting_ms = 120, /* long enough to see GREETING on a loaded machine */
		.offer_timeout_ms = 300,
		.transfer_timeout_ms = 300,
		.dial_timeout_ms = 300,
		.wrapup_timeout_ms = 0,
	};
	struct config cfg;
	struct st_snapshot snap;

	assert_non_null(fx);
	memset(&fk, 0, sizeof(fk));
	fk.next_leg = 100;
	str_copy(fx->dir, "/tmp/sb_test_callctl1.XXXXXX", sizeof(fx->dir));
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/switchboard.db", fx->dir);
	snprintf(fx->flows, sizeof(fx->flows), "%s/flows", fx->dir);
	assert_int_equal(mkdir(fx->flows, 0700), 0);
	file_write(fx->flows, "q.yaml", FLOW_Q);
	file_write(fx->flows, "x.yaml", FLOW_X);
	file_write(fx->flows, "h.yaml", FLOW_H);
	file_write(fx->flows, "main.yaml", FLOW_H);
	file_copy(tmpl_db, fx->db);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	config_defaults(&cfg);
	str_copy(cfg.store_path, fx->db, sizeof(cfg.store_path));
	cfg.store_readers = 1;
	assert_int_equal(store_open(&fx->st, &fx->loop, &cfg), 0);
	assert_int_equal(store_load(fx->st, &snap), 0);
	assert_int_equal(routing_alloc(&fx->r, &fx->loop, fx->st, true, &snap), 0);
	str_copy(vc.realm, "switchboard", sizeof(vc.realm));
	str_copy(vc.record_dir, fx->dir, sizeof(vc.record_dir));
	str_copy(vc.flows_dir, fx->flows, sizeof(vc.flows_dir));
	str_copy(vc.outbound_uri, "sip:127.0.0.1:5999", sizeof(vc.outbound_uri));
	assert_int_equal(callctl_alloc_ops(&fx->cc, &fx->loop, &vc, fx->r, &snap, &fake_ops), 0);
	store_snapshot_free(&snap);
	fx_settle(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[200];

	callctl_free(fx->cc);
	fx_settle(fx);
	routing_close(fx->r);
	fx_settle(fx);
	routing_free(fx->r);
	store_close(fx->st);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- steps ---- */
static sip_leg_t leg_of(const struct call *c, enum leg_role r)
{
	const struct cleg *l = call_leg(c, r);

	return l ? l->leg : 0;
}

static struct call *only_call(struct fx *fx)
{
	assert_int_equal(callctl_calls(fx->cc), 1);
	return fx->cc->calls;
}

static void sip(struct fx *fx, enum sip_event_kind kind, sip_leg_t leg, int status, const char *sdp)
{
	static struct sip_event ev; /* 3 KiB */

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind, ev.leg = leg, ev.status = status;
	str_copy(ev.sdp, sdp ? sdp : "", sizeof(ev.sdp));
	str_copy(ev.reason, kind == SIP_EV_TERMINATED ? "bye" : "", sizeof(ev.reason));
	callctl_sip_event(&ev, fx->cc);
}

/* An INVITE from the demo trunk (127.0.0.1) to did, on SIP leg 1. */
static void incoming_from(struct fx *fx, const char *did, const char *sdp, const char *from)
{
	static struct sip_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SIP_EV_INCOMING, ev.leg = 1;
	str_copy(ev.from_user, from, sizeof(ev.from_user));
	str_copy(ev.to_user, did, sizeof(ev.to_user));
	str_copy(ev.source, "127.0.0.1", sizeof(ev.source));
	str_copy(ev.sdp, sdp, sizeof(ev.sdp));
	callctl_sip_event(&ev, fx->cc);
}

/* From amy's number (a user: identified in memory, no store lookup); then
 * one loop turn. */
static void incoming(struct fx *fx, const char *did, const char *sdp)
{
	incoming_from(fx, did, sdp, "15550199");
	fx_turn(fx);
}

static void expect_log(const char *want)
{
	if (!strstr(fk.log, want))
		fail_msg("want \"%s\" in the legs' log: %s", want, fk.log);
}

static void log_clear(void)
{
	fk.log[0] = '\0';
}

static void available(struct fx *fx, const char *name)
{
	struct user *u = routing_user_find(fx->r, name);

	assert_non_null(u);
	routing_user_signed_in(fx->r, u);
	fx_settle(fx);
	assert_int_equal(routing_presence_request(fx->r, u, PRES_AVAILABLE, "", name, NULL, NULL),
			 0);
	fx_settle(fx);
}

static enum presence presence(struct fx *fx, const char *name)
{
	struct agent_view v;

	user_agent_view(routing_user_find(fx->r, name), &v);
	return v.presence;
}

static const char *ix_state(struct fx *fx, const char *number)
{
	static char buf[64];
	char sql[128];

	fx_settle(fx);
	snprintf(sql, sizeof(sql), "SELECT state FROM interactions WHERE number='%s'", number);
	dbfx_rows(fx->db, sql, buf, sizeof(buf));
	return buf;
}

/* Every event the table does not hold for c's state is refused and changes
 * nothing. */
static void refuses_the_rest(struct call *c)
{
	size_t n;
	const struct call_row *rows = call_rows(&n);
	enum call_state s = c->state;

	for (int ev = 0; ev < CEV__N; ev++) {
		bool held = false;
		for (size_t i = 0; i < n; i++)
			held = held || ((rows[i].state == s || rows[i].state == CALL__N) &&
					rows[i].event == (enum call_ev)ev);
		if (held)
			continue;
		assert_int_equal(call_event(c, (enum call_ev)ev, NULL), CC_EILLEGAL);
		assert_int_equal(c->state, s);
	}
}

/* Caller in Support with nobody Available: queued, hearing music. */
static struct call *queued_call(struct fx *fx)
{
	struct call *c;

	incoming(fx, "5000", "ok");
	c = only_call(fx);
	assert_int_equal(c->state, CALL_GREETING);
	refuses_the_rest(c);
	fx_wait(fx, 160); /* the greeting */
	assert_int_equal(c->state, CALL_QUEUED);
	return c;
}

/* Then ned goes Available: his phone rings (leg 101). */
static struct call *offering_call(struct fx *fx)
{
	struct call *c = queued_call(fx);

	available(fx, "ned");
	fx_turn(fx);
	assert_int_equal(c->state, CALL_OFFERING);
	expect_log("dial agent sip:ned@127.0.0.1:5991");
	return c;
}

static struct call *bridged_call(struct fx *fx)
{
	struct call *c = offering_call(fx);

	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	fx_settle(fx);
	return c;
}

/* ---- inbound ---- */
static void a_queued_call_is_offered_answered_bridged_and_recorded(void **state)
{
	struct fx *fx = *state;
	struct call *c = queued_call(fx);
	char number[ST_NUMBER];

	refuses_the_rest(c);
	expect_log("answer customer");
	expect_log("play customer loop"); /* hold music */
	available(fx, "ned");
	fx_turn(fx);
	assert_int_equal(c->state, CALL_OFFERING);
	refuses_the_rest(c);
	log_clear();
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_int_equal(call_leg(c, LEG_AGENT)->state, LEG_UP);
	refuses_the_rest(c);
	expect_log("stop customer;join customer talk;join agent talk;record");
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_BUSY);
	str_copy(number, c->ix_number, sizeof(number));
	assert_string_equal(ix_state(fx, number), "work_in_progress");
	/* the agent hangs up: wrap-up; the customer's leg is hung up, then gone */
	log_clear();
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(c->state, CALL_ENDING);
	refuses_the_rest(c);
	expect_log("record stop;hangup customer");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	expect_log("conf free"); /* the conference goes with the call */
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
}

static void the_customer_hangs_up_while_bridged(void **state)
{
	struct fx *fx = *state;
	struct call *c = bridged_call(fx);

	log_clear();
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	expect_log("hangup agent");
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, 101, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
}

static void end_call_from_the_api_puts_the_agent_in_wrap_up(void **state)
{
	struct fx *fx = *state;
	struct call *c = bridged_call(fx);

	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_HOLD, "ned"), 0);
	expect_log("play customer loop");
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_RESUME, "ned"), 0);
	assert_int_equal(callctl_call_dtmf(fx->cc, c->ix_number, "12"), 0);
	expect_log("dtmf 1;dtmf 2");
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_REJECT, "ned"),
			 CC_EILLEGAL);
	log_clear();
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_END, "ned"), 0);
	expect_log("hangup customer;hangup agent");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	sip(fx, SIP_EV_TERMINATED, 101, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
}

static void the_agents_phone_holds_and_resumes(void **state)
{
	struct fx *fx = *state;
	struct call *c = bridged_call(fx);

	log_clear();
	sip(fx, SIP_EV_REINVITE, 101, 0, "a=sendonly");
	assert_int_equal(call_leg(c, LEG_AGENT)->state, LEG_HELD);
	expect_log("play customer loop");
	sip(fx, SIP_EV_REINVITE, 101, 0, "a=sendrecv");
	assert_int_equal(call_leg(c, LEG_AGENT)->state, LEG_UP);
	expect_log("stop customer");
	assert_int_equal(c->state, CALL_BRIDGED);
}

static void a_missed_offer_goes_back_to_the_queue_and_the_agent_is_missed(void **state)
{
	struct fx *fx = *state;
	struct call *c = offering_call(fx);

	log_clear();
	fx_wait(fx, 400); /* the offer timeout */
	assert_int_equal(c->state, CALL_QUEUED);
	expect_log("hangup agent");
	assert_int_equal(presence(fx, "ned"), PRES_MISSED);
	assert_null(call_leg(c, LEG_AGENT)); /* dropped */
}

static void a_rejected_or_refused_offer_goes_to_the_next_agent(void **state)
{
	struct fx *fx = *state;
	struct call *c = offering_call(fx);

	available(fx, "beth");
	/* the phone refuses with 486: the leg is gone, the call back in the queue */
	sip(fx, SIP_EV_FAILED, 101, 486, NULL);
	fx_turn(fx);
	assert_int_equal(presence(fx, "ned"), PRES_MISSED);
	assert_int_equal(c->state, CALL_OFFERING); /* beth's phone rings now */
	expect_log("dial agent sip:beth@127.0.0.1:5992");
	/* an answer without usable media is not an answer */
	sip(fx, SIP_EV_ANSWERED, 102, 200, "bad");
	fx_turn(fx);
	assert_int_equal(presence(fx, "beth"), PRES_MISSED);
	assert_int_equal(c->state, CALL_QUEUED);
}

static void accept_from_the_api_rerings_with_auto_answer_and_reject_misses(void **state)
{
	struct fx *fx = *state;
	struct call *c = offering_call(fx);
	bool offering = false;

	assert_ptr_equal(callctl_call_agent(fx->cc, c->ix_number, &offering),
			 routing_user_find(fx->r, "ned"));
	assert_true(offering);
	log_clear();
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_ACCEPT, "ned"), 0);
	expect_log("hangup agent;dial agent sip:ned@127.0.0.1:5991 auto");
	assert_int_equal(c->state, CALL_OFFERING);
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_REJECT, "ned"), 0);
	assert_int_equal(c->state, CALL_QUEUED);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_MISSED);
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_ACCEPT, "ned"),
			 CC_EILLEGAL);
}

static void an_offer_taken_back_by_routing_returns_the_call_to_the_queue(void **state)
{
	struct fx *fx = *state;
	struct call *c = offering_call(fx);

	/* routing takes the caller out of the queue while ned's phone rings
	 * (as a maximum wait does): it cancels the offer through routing_ops */
	log_clear();
	assert_int_equal(routing_ix_dequeue(fx->r, c->ix_id, "test"), 0);
	assert_int_equal(c->state, CALL_QUEUED);
	expect_log("hangup agent");
	assert_null(call_leg(c, LEG_AGENT)); /* dropped */
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AVAILABLE); /* not Missed */
}

static void the_caller_hangs_up_in_each_state(void **state)
{
	struct fx *fx = *state;
	struct call *c;

	/* during the greeting: Closed Complete */
	incoming(fx, "5000", "ok");
	c = only_call(fx);
	str_copy(fk.log, "", sizeof(fk.log));
	{
		char number[ST_NUMBER];
		str_copy(number, c->ix_number, sizeof(number));
		sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
		assert_int_equal(callctl_calls(fx->cc), 0);
		assert_string_equal(ix_state(fx, number), "closed_complete");
	}
	/* queued: Closed Abandoned */
	c = queued_call(fx);
	{
		char number[ST_NUMBER];
		str_copy(number, c->ix_number, sizeof(number));
		sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
		assert_int_equal(callctl_calls(fx->cc), 0);
		assert_string_equal(ix_state(fx, number), "closed_abandoned");
	}
	/* in the flow, before it starts (the caller lookup is on the pool):
	 * the lookup's completion finds the call gone (no loop turn between:
	 * the lookup must not have come back yet) */
	incoming_from(fx, "7003", "ok", "15557777");
	c = only_call(fx);
	assert_int_equal(c->state, CALL_FLOW);
	refuses_the_rest(c);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	/* while an agent's phone rings: the offer is dropped, ned not Missed */
	c = offering_call(fx);
	log_clear();
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	expect_log("hangup agent");
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AVAILABLE);
}

static void refusals_before_a_call_and_an_unusable_offer(void **state)
{
	struct fx *fx = *state;

	incoming(fx, "9999", "ok");
	assert_int_equal(fk.refused, 404);
	incoming(fx, "5000", "bad");
	assert_int_equal(fk.refused, 488);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
}

static void a_recording_that_fails_to_start_leaves_the_call_up(void **state)
{
	struct fx *fx = *state;
	struct call *c;

	fk.fail_record = true;
	c = bridged_call(fx);
	assert_false(c->recording);
	assert_int_equal(c->state, CALL_BRIDGED);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	sip(fx, SIP_EV_TERMINATED, 101, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

static void a_store_that_fails_still_ends_the_call_cleanly(void **state)
{
	struct fx *fx = *state;
	struct call *c = bridged_call(fx);

	/* every later write of an activity entry fails */
	dbfx_exec(fx->db, "DROP TABLE activity");
	sip(fx, SIP_EV_TERMINATED, 101, 0, NULL);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	fx_settle(fx);
	assert_int_equal(callctl_calls(fx->cc), 0);
	(void)c;
}

static void a_queues_own_maximum_wait_moves_the_caller_to_its_overflow_queue(void **state)
{
	struct fx *fx = *state;
	int64_t support = routing_queue_id(fx->r, "Support");
	struct st_queue rec = *routing_queue_rec(fx->r, support);
	struct call *c;

	rec.max_wait_s = 1;
	rec.overflow_queue_id = routing_queue_id(fx->r, "Billing");
	assert_int_equal(routing_queue_update(fx->r, support, &rec, NULL, NULL, NULL), 0);
	fx_settle(fx);
	c = queued_call(fx);
	assert_int_equal(c->queue_id, support);
	fx_wait(fx, 1300);
	assert_int_equal(c->state, CALL_QUEUED);
	assert_int_equal(c->queue_id, rec.overflow_queue_id);
	assert_int_equal(routing_queue_waiting(fx->r, rec.overflow_queue_id), 1);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

/* ---- flows ---- */
static void a_flow_queues_then_overflows_and_hangs_up(void **state)
{
	struct fx *fx = *state;
	struct call *c;
	char number[ST_NUMBER];

	incoming(fx, "7001", "ok");
	c = only_call(fx);
	str_copy(number, c->ix_number, sizeof(number));
	fx_settle(fx); /* the caller lookup, then the flow */
	for (int i = 0; i < 50 && c->state != CALL_QUEUED; i++)
		fx_wait(fx, 10);
	assert_int_equal(c->state, CALL_QUEUED);
	/* max_wait 1 s: QUEUED → FLOW → the overflow block disconnects */
	log_clear();
	fx_wait(fx, 1300);
	expect_log("hangup customer");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	assert_string_equal(ix_state(fx, number), "closed_complete");
}

static void a_flow_that_hangs_up_closes_the_interaction(void **state)
{
	struct fx *fx = *state;

	incoming(fx, "7003", "ok");
	fx_settle(fx);
	for (int i = 0; i < 50 && callctl_calls(fx->cc) && only_call(fx)->state != CALL_ENDING; i++)
		fx_wait(fx, 10);
	expect_log("hangup customer");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

static struct call *transferring_call(struct fx *fx)
{
	struct call *c;

	incoming(fx, "7002", "ok");
	c = only_call(fx);
	fx_settle(fx);
	for (int i = 0; i < 50 && c->state != CALL_TRANSFER; i++)
		fx_wait(fx, 10);
	assert_int_equal(c->state, CALL_TRANSFER);
	assert_non_null(call_leg(c, LEG_EXTERNAL));
	refuses_the_rest(c);
	expect_log("dial external sip:15550123@127.0.0.1:5999");
	return c;
}

static void a_transfer_is_bridged_and_ends_when_the_far_end_hangs_up(void **state)
{
	struct fx *fx = *state;
	struct call *c = transferring_call(fx);
	char number[ST_NUMBER];
	bool offering;

	str_copy(number, c->ix_number, sizeof(number));
	sip(fx, SIP_EV_ANSWERED, 101, 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_null(callctl_call_agent(fx->cc, number, &offering)); /* no agent on it */
	assert_int_equal(callctl_call_action(fx->cc, number, CALLCTL_HOLD, "x"), CC_ENOTFOUND);
	log_clear();
	sip(fx, SIP_EV_TERMINATED, 101, 0, NULL);
	expect_log("hangup customer");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	assert_string_equal(ix_state(fx, number), "closed_complete");
}

static void a_failed_transfer_takes_the_failed_branch(void **state)
{
	struct fx *fx = *state;
	struct call *c = transferring_call(fx);

	sip(fx, SIP_EV_FAILED, 101, 486, NULL);
	fx_settle(fx);
	assert_null(call_leg(c, LEG_EXTERNAL)); /* dropped */
	for (int i = 0; i < 50 && c->state != CALL_QUEUED; i++)
		fx_wait(fx, 10);
	assert_int_equal(c->state, CALL_QUEUED); /* failed: q */
	/* the caller hangs up in the queue */
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

static void an_unanswered_or_unusable_transfer_fails_too(void **state)
{
	struct fx *fx = *state;
	struct call *c = transferring_call(fx);

	fx_wait(fx, 400); /* transfer_timeout */
	for (int i = 0; i < 50 && c->state != CALL_QUEUED; i++)
		fx_wait(fx, 10);
	assert_int_equal(c->state, CALL_QUEUED);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	c = transferring_call(fx);
	sip(fx, SIP_EV_ANSWERED, fk.next_leg, 200, "bad");
	for (int i = 0; i < 50 && c->state != CALL_QUEUED; i++)
		fx_wait(fx, 10);
	assert_int_equal(c->state, CALL_QUEUED);
	/* the caller hangs up while the far end rings, next time */
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	c = transferring_call(fx);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	expect_log("hangup external");
	sip(fx, SIP_EV_TERMINATED, fk.next_leg, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

/* ---- click-to-call ---- */
static struct call *dial_amy(struct fx *fx)
{
	struct callctl_target t = {.table = "user", .key = "amy"};
	struct callctl_resolved res;
	struct user *ned = routing_user_find(fx->r, "ned");
	char number[ST_NUMBER];
	struct call *c;

	routing_user_signed_in(fx->r, ned);
	fx_settle(fx);
	assert_int_equal(callctl_dial(fx->cc, ned, &t, &res, number, NULL, NULL), 0);
	c = only_call(fx);
	assert_int_equal(c->state, CALL_OUT_AGENT);
	refuses_the_rest(c);
	expect_log("dial agent sip:ned@127.0.0.1:5991 auto");
	return c;
}

static void click_to_call_rings_the_agent_then_the_customer_and_bridges(void **state)
{
	struct fx *fx = *state;
	struct call *c = dial_amy(fx);
	sip_leg_t agent = leg_of(c, LEG_AGENT);

	log_clear();
	sip(fx, SIP_EV_ANSWERED, agent, 200, "ok");
	assert_int_equal(c->state, CALL_OUT_CUSTOMER);
	refuses_the_rest(c);
	expect_log("dial customer sip:+15550199@127.0.0.1:5999");
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CUSTOMER), 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	expect_log("join customer talk;join agent talk;record");
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_BUSY);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CUSTOMER), 0, NULL);
	sip(fx, SIP_EV_TERMINATED, agent, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
}

static void click_to_call_fails_every_way_before_it_connects(void **state)
{
	struct fx *fx = *state;
	struct call *c;

	/* the agent's phone refuses */
	c = dial_amy(fx);
	sip(fx, SIP_EV_FAILED, leg_of(c, LEG_AGENT), 603, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100); /* FailedConnectAgent shows 2 s */
	/* the customer is busy */
	c = dial_amy(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	log_clear();
	sip(fx, SIP_EV_FAILED, leg_of(c, LEG_CUSTOMER), 486, NULL);
	expect_log("hangup agent");
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	/* End call while the customer rings; then the agent's phone answers
	 * without usable media; then it never answers */
	c = dial_amy(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_END, "ned"), 0);
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CUSTOMER), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	c = dial_amy(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "bad");
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	c = dial_amy(fx);
	fx_wait(fx, 400); /* offer_timeout: the agent's phone did not answer */
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	/* the agent hangs up while the customer rings; the customer never answers */
	c = dial_amy(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CUSTOMER), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	c = dial_amy(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	fx_wait(fx, 400); /* dial_timeout */
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CUSTOMER), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
}

static void a_customer_who_answers_unusably_or_a_dial_that_fails(void **state)
{
	struct fx *fx = *state;
	struct call *c = dial_amy(fx);

	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_AGENT), 200, "ok");
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CUSTOMER), 200, "bad");
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CUSTOMER), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_wait(fx, 2100);
	/* the agent's phone cannot be called at all: OUT_FAIL from NEW's dial */
	fk.fail_dial = true;
	{
		struct callctl_target t = {.table = "user", .key = "amy"};
		struct callctl_resolved res;
		char number[ST_NUMBER];
		assert_int_equal(callctl_dial(fx->cc, routing_user_find(fx->r, "ned"), &t, &res,
					      number, NULL, NULL),
				 0);
	}
	assert_int_equal(callctl_calls(fx->cc), 0);
	fk.fail_dial = false;
}

/* ---- transfers between agents, to queues and out (xfer.c) ---- */
static struct user *usr(struct fx *fx, const char *name)
{
	return routing_user_find(fx->r, name);
}

static int xfer_to(struct fx *fx, struct call *c, const char *by, const struct callctl_xfer_to *to,
		   enum callctl_xfer_mode mode)
{
	const char *why;
	int err = callctl_transfer(fx->cc, c->ix_number, usr(fx, by), to, mode, "why", &why);

	fx_turn(fx);
	return err;
}

static int step(struct fx *fx, struct call *c, const char *by, enum callctl_xfer_step st)
{
	const char *why;

	return callctl_transfer_step(fx->cc, c->ix_number, usr(fx, by), st, &why);
}

/* beth takes no call from the queue (so ned's phone gets it). */
static void away(struct fx *fx, const char *name)
{
	fx_settle(fx);
	if (presence(fx, name) == PRES_AVAILABLE || presence(fx, name) == PRES_MISSED)
		assert_int_equal(routing_presence_request(fx->r, usr(fx, name), PRES_AWAY, "Break",
							  name, NULL, NULL),
				 0);
	fx_settle(fx);
}

/* ned's call with nobody else Available (the offer is his). */
static struct call *fresh_bridged(struct fx *fx)
{
	away(fx, "ned");
	away(fx, "beth");
	return bridged_call(fx);
}

/* ned's call, then a warm transfer to beth: her phone rings. */
static struct call *xfer_ringing(struct fx *fx)
{
	struct call *c;
	struct callctl_xfer_to to;

	c = fresh_bridged(fx);
	to = (struct callctl_xfer_to){.agent = usr(fx, "beth")};

	available(fx, "beth");
	log_clear();
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	assert_int_equal(c->state, CALL_XFER_RING);
	expect_log("dial consult sip:beth@127.0.0.1:5992");
	expect_log("join customer hold");
	expect_log("play customer loop"); /* hold music */
	refuses_the_rest(c);
	return c;
}

/* ... and beth answers: the consult. */
static struct call *consulting(struct fx *fx)
{
	struct call *c = xfer_ringing(fx);

	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(c->state, CALL_CONSULT);
	expect_log("join consult talk");
	refuses_the_rest(c);
	fx_settle(fx);
	assert_int_equal(presence(fx, "beth"), PRES_BUSY);
	return c;
}

/* The call is gone once every leg's BYE came back. */
static void all_hang_up(struct fx *fx, struct call *c)
{
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	while (callctl_calls(fx->cc) && c->n_legs) {
		struct cleg *l = NULL;
		for (size_t i = 0; i < c->n_legs && !l; i++)
			if (!cleg_done(c->legs[i]))
				l = c->legs[i];
		if (!l)
			break;
		sip(fx, SIP_EV_TERMINATED, l->leg, 0, NULL);
	}
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
}

static void clear(struct fx *fx, const char *name)
{
	fx_settle(fx);
	if (presence(fx, name) == PRES_AFTER_CALL_WORK)
		assert_int_equal(routing_agent_clear(fx->r, usr(fx, name), "", name, NULL, NULL),
				 0);
	fx_settle(fx);
}

static void a_warm_transfer_consults_joins_and_the_first_agent_leaves(void **state)
{
	struct fx *fx = *state;
	struct call *c = consulting(fx);
	char number[ST_NUMBER];

	str_copy(number, c->ix_number, sizeof(number));
	/* only the second agent joins; not while it rings for anyone else */
	assert_int_equal(step(fx, c, "ned", CALLCTL_JOIN), CC_EFORBIDDEN);
	log_clear();
	assert_int_equal(step(fx, c, "beth", CALLCTL_JOIN), 0);
	assert_int_equal(c->state, CALL_CONFERENCE);
	expect_log("join customer talk");
	refuses_the_rest(c);
	assert_int_equal(step(fx, c, "ned", CALLCTL_LEAVE), 0);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_ptr_equal(c->agent_user, usr(fx, "beth"));
	assert_int_equal(call_leg(c, LEG_AGENT)->leg, 102); /* her leg is the agent's now */
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	assert_ptr_equal(routing_ix_agent(fx->r, c->ix_id), usr(fx, "beth"));
	all_hang_up(fx, c);
	assert_int_equal(presence(fx, "beth"), PRES_AFTER_CALL_WORK);
	assert_string_equal(ix_state(fx, number), "work_in_progress");
}

static void the_consult_ends_every_way_back_to_the_first_agent(void **state)
{
	struct fx *fx = *state;
	struct call *c = xfer_ringing(fx);
	struct callctl_xfer_to to = {.agent = usr(fx, "beth")};

	/* Accept from beth's softphone re-rings with auto-answer; then no answer */
	log_clear();
	assert_int_equal(callctl_call_action(fx->cc, c->ix_number, CALLCTL_ACCEPT, "beth"), 0);
	expect_log("hangup consult;dial consult sip:beth@127.0.0.1:5992 auto");
	fx_wait(fx, 400);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_true(c->held); /* the customer stays on hold: ned resumes */
	assert_null(call_leg(c, LEG_CONSULT));
	assert_int_equal(presence(fx, "beth"), PRES_MISSED);
	/* cancelled while it rings */
	available(fx, "beth");
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	assert_int_equal(step(fx, c, "beth", CALLCTL_CANCEL_TRANSFER), CC_EFORBIDDEN);
	assert_int_equal(step(fx, c, "ned", CALLCTL_CANCEL_TRANSFER), 0);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_false(c->held);
	fx_settle(fx);
	assert_int_equal(presence(fx, "beth"), PRES_AVAILABLE);
	/* cancelled in the consult: beth wraps up her part */
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(step(fx, c, "ned", CALLCTL_CANCEL_TRANSFER), 0);
	assert_int_equal(c->state, CALL_BRIDGED);
	clear(fx, "beth");
	/* beth's phone hangs up in the consult */
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CONSULT), 0, NULL);
	assert_int_equal(c->state, CALL_BRIDGED);
	clear(fx, "beth");
	/* beth leaves the consult */
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(step(fx, c, "beth", CALLCTL_LEAVE), 0);
	assert_int_equal(c->state, CALL_BRIDGED);
	clear(fx, "beth");
	/* beth leaves the three-party call, then again her phone hangs up */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
		sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
		assert_int_equal(step(fx, c, "beth", CALLCTL_JOIN), 0);
		if (i == 0)
			assert_int_equal(step(fx, c, "beth", CALLCTL_LEAVE), 0);
		else
			sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CONSULT), 0, NULL);
		assert_int_equal(c->state, CALL_BRIDGED);
		assert_ptr_equal(c->agent_user, usr(fx, "ned"));
		clear(fx, "beth");
	}
	/* ned's phone hangs up in the three-party call: beth has it */
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(step(fx, c, "beth", CALLCTL_JOIN), 0);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_ptr_equal(c->agent_user, usr(fx, "beth"));
	all_hang_up(fx, c);
}

static void the_first_agent_leaving_completes_or_orphans_the_transfer(void **state)
{
	struct fx *fx = *state;
	struct call *c = xfer_ringing(fx);
	struct callctl_xfer_to to = {.agent = usr(fx, "beth")};
	char number[ST_NUMBER];

	/* ned's phone hangs up while beth's rings; she answers: hers */
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(c->state, CALL_XFER_RING);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_BUSY); /* until she answers */
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_ptr_equal(c->agent_user, usr(fx, "beth"));
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	all_hang_up(fx, c);
	clear(fx, "ned");
	clear(fx, "beth");
	/* blind: ned leaves at once; beth never answers: the call ends */
	c = fresh_bridged(fx);
	str_copy(number, c->ix_number, sizeof(number));
	available(fx, "beth");
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_BLIND), 0);
	assert_int_equal(c->state, CALL_XFER_RING);
	assert_null(call_leg(c, LEG_AGENT));
	log_clear();
	fx_wait(fx, 400);
	assert_int_equal(c->state, CALL_ENDING);
	expect_log("hangup consult");
	expect_log("hangup customer");
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	clear(fx, "ned");
	assert_string_equal(ix_state(fx, number), "closed_complete");
	clear(fx, "beth");
	available(fx, "beth");
	/* in the consult: ned leaves, then (next call) his phone hangs up */
	for (int i = 0; i < 2; i++) {
		c = consulting(fx);
		if (i == 0)
			assert_int_equal(step(fx, c, "ned", CALLCTL_LEAVE), 0);
		else
			sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
		assert_int_equal(c->state, CALL_BRIDGED);
		assert_ptr_equal(c->agent_user, usr(fx, "beth"));
		all_hang_up(fx, c);
		clear(fx, "ned");
		clear(fx, "beth");
	}
}

static void the_customer_hangs_up_during_each_transfer_phase(void **state)
{
	struct fx *fx = *state;
	struct call *c;

	/* while beth's phone rings: her offer ends, ned wraps up */
	c = xfer_ringing(fx);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(c->state, CALL_ENDING);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_CONSULT), 0, NULL); /* not yet all */
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	fx_settle(fx);
	assert_int_equal(presence(fx, "beth"), PRES_AVAILABLE);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	clear(fx, "ned");
	/* in the consult and in the three-party call: both wrap up */
	for (int i = 0; i < 2; i++) {
		c = consulting(fx);
		if (i)
			assert_int_equal(step(fx, c, "beth", CALLCTL_JOIN), 0);
		sip_leg_t consult = leg_of(c, LEG_CONSULT);
		sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
		assert_int_equal(c->state, CALL_ENDING);
		sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
		sip(fx, SIP_EV_TERMINATED, consult, 0, NULL); /* the consult's: the last */
		assert_int_equal(callctl_calls(fx->cc), 0);
		fx_settle(fx);
		assert_int_equal(presence(fx, "beth"), PRES_AFTER_CALL_WORK);
		assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
		clear(fx, "ned");
		clear(fx, "beth");
	}
}

static void a_transfer_to_a_queue_waits_offers_and_misses(void **state)
{
	struct fx *fx = *state;
	struct call *c = fresh_bridged(fx);
	struct callctl_xfer_to to = {.queue_id = routing_queue_id(fx->r, "Billing")};
	char number[ST_NUMBER];

	str_copy(number, c->ix_number, sizeof(number));
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	assert_int_equal(c->state, CALL_XFER_QUEUED);
	refuses_the_rest(c);
	assert_int_equal(routing_queue_waiting(fx->r, to.queue_id), 1);
	/* beth comes: offered as a transfer; no answer: back in the queue */
	available(fx, "beth");
	fx_turn(fx);
	assert_int_equal(c->state, CALL_XFER_RING);
	assert_ptr_equal(c->xfer_user, usr(fx, "beth"));
	fx_wait(fx, 400);
	assert_int_equal(c->state, CALL_XFER_QUEUED);
	assert_int_equal(presence(fx, "beth"), PRES_MISSED);
	assert_int_equal(routing_queue_waiting(fx->r, to.queue_id), 1);
	/* cancelled while it waits: back to ned */
	assert_int_equal(step(fx, c, "ned", CALLCTL_CANCEL_TRANSFER), 0);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_int_equal(routing_queue_waiting(fx->r, to.queue_id), 0);
	/* again; ned leaves (blind): unassigned, ned wraps up at once */
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_BLIND), 0);
	assert_int_equal(c->state, CALL_XFER_QUEUED);
	assert_null(call_leg(c, LEG_AGENT));
	fx_settle(fx);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	assert_null(routing_ix_agent(fx->r, c->ix_id));
	/* beth answers now: reassigned to her */
	available(fx, "beth");
	fx_turn(fx);
	assert_int_equal(c->state, CALL_XFER_RING);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_ptr_equal(routing_ix_agent(fx->r, c->ix_id), usr(fx, "beth"));
	all_hang_up(fx, c);
	clear(fx, "ned");
	clear(fx, "beth");
	/* ned's phone hangs up while the call waits; the customer hangs up
	 * there: Closed Abandoned */
	c = fresh_bridged(fx);
	str_copy(number, c->ix_number, sizeof(number));
	assert_int_equal(xfer_to(fx, c, "ned", &to, CALLCTL_XFER_WARM), 0);
	sip(fx, SIP_EV_TERMINATED, leg_of(c, LEG_AGENT), 0, NULL);
	assert_int_equal(c->state, CALL_XFER_QUEUED);
	sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
	assert_int_equal(callctl_calls(fx->cc), 0);
	assert_string_equal(ix_state(fx, number), "closed_abandoned");
	clear(fx, "ned");
}

static void transfers_refused_and_to_an_external_number(void **state)
{
	struct fx *fx = *state;
	struct call *c = fresh_bridged(fx);
	struct callctl_xfer_to self = {.agent = usr(fx, "ned")}, ext = {.number = "+15550150"};
	struct callctl_xfer_to beth = {.agent = usr(fx, "beth")};
	char number[ST_NUMBER];

	str_copy(number, c->ix_number, sizeof(number));
	assert_int_equal(xfer_to(fx, c, "ned", &self, CALLCTL_XFER_WARM), -EINVAL);
	assert_int_equal(xfer_to(fx, c, "beth", &beth, CALLCTL_XFER_WARM), CC_EFORBIDDEN);
	assert_int_equal(xfer_to(fx, c, "ned", &beth, CALLCTL_XFER_WARM), CC_ECONFLICT);
	assert_int_equal(xfer_to(fx, c, "ned", &ext, CALLCTL_XFER_WARM), -ENOTSUP);
	assert_int_equal(c->state, CALL_BRIDGED);
	/* blind out: ned wraps up; the far end refuses: the call ends */
	log_clear();
	assert_int_equal(xfer_to(fx, c, "ned", &ext, CALLCTL_XFER_BLIND), 0);
	assert_int_equal(c->state, CALL_TRANSFER);
	expect_log("hangup agent");
	expect_log("dial external sip:+15550150@127.0.0.1:5999");
	sip(fx, SIP_EV_FAILED, leg_of(c, LEG_EXTERNAL), 486, NULL);
	assert_int_equal(c->state, CALL_ENDING);
	all_hang_up(fx, c);
	assert_int_equal(presence(fx, "ned"), PRES_AFTER_CALL_WORK);
	clear(fx, "ned");
	/* again; nobody answers there */
	c = fresh_bridged(fx);
	assert_int_equal(xfer_to(fx, c, "ned", &ext, CALLCTL_XFER_BLIND), 0);
	fx_wait(fx, 400);
	assert_int_equal(c->state, CALL_ENDING);
	all_hang_up(fx, c);
	clear(fx, "ned");
}

/* A REFER from the agent's phone (what the SIP thread delivers). */
static void refer(struct fx *fx, sip_leg_t leg, const char *to, bool replaces)
{
	static struct sip_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SIP_EV_REFER, ev.leg = leg, ev.replaces = replaces;
	str_copy(ev.to_user, to, sizeof(ev.to_user));
	callctl_sip_event(&ev, fx->cc);
	fx_turn(fx);
}

static void a_refer_from_the_agents_phone_is_a_blind_transfer(void **state)
{
	struct fx *fx = *state;
	struct call *c = fresh_bridged(fx);

	/* unknown, attended, from the customer, to an agent not Available:
	 * refused with a NOTIFY, the call goes on */
	log_clear();
	refer(fx, leg_of(c, LEG_AGENT), "nobody", false);
	expect_log("refer reply agent 403");
	refer(fx, leg_of(c, LEG_AGENT), "beth", true); /* no consult call of the phone's */
	expect_log("refer reply agent 403");
	refer(fx, 1, "beth", false);
	expect_log("refer reply customer 403");
	refer(fx, leg_of(c, LEG_AGENT), "beth", false);
	expect_log("refer reply agent 480");
	assert_int_equal(c->state, CALL_BRIDGED);
	/* to a number that leads to a queue: 200, ned leaves, it waits there */
	log_clear();
	refer(fx, leg_of(c, LEG_AGENT), "5001", false);
	expect_log("refer reply agent 202;");
	expect_log("hangup agent");
	assert_int_equal(c->state, CALL_XFER_QUEUED);
	all_hang_up(fx, c);
	clear(fx, "ned");
	/* to beth's user name: she is offered it, blind */
	c = fresh_bridged(fx);
	available(fx, "beth");
	refer(fx, leg_of(c, LEG_AGENT), "beth", false);
	assert_int_equal(c->state, CALL_XFER_RING);
	assert_null(call_leg(c, LEG_AGENT));
	all_hang_up(fx, c);
	clear(fx, "ned");
	/* to an external number */
	c = fresh_bridged(fx);
	log_clear();
	refer(fx, leg_of(c, LEG_AGENT), "+15550150", false);
	expect_log("refer reply agent 202");
	assert_int_equal(c->state, CALL_TRANSFER);
	all_hang_up(fx, c);
	clear(fx, "ned");
}

/* An attended transfer from ned's desk phone: it holds the customer, calls
 * beth through the server (its own consult call: the transferor leg, SIP
 * leg 50), then REFERs the customer's call with Replaces. */
static struct call *phone_consult(struct fx *fx)
{
	static struct sip_event ev;
	struct call *c = fresh_bridged(fx);

	available(fx, "beth");
	sip(fx, SIP_EV_REINVITE, leg_of(c, LEG_AGENT), 0, "a=sendonly");
	memset(&ev, 0, sizeof(ev));
	ev.kind = SIP_EV_INCOMING, ev.leg = 50;
	str_copy(ev.sdp, "ok", sizeof(ev.sdp));
	log_clear();
	xfer_on_consult_invite(fx->cc, usr(fx, "ned"), usr(fx, "beth"), &ev);
	assert_int_equal(c->state, CALL_XFER_RING);
	assert_int_equal(call_leg(c, LEG_TRANSFEROR)->state, LEG_DIALLING);
	expect_log("dial consult sip:beth@127.0.0.1:5992");
	return c;
}

static void an_attended_transfer_from_a_desk_phone(void **state)
{
	struct fx *fx = *state;
	struct call *c = phone_consult(fx);
	static struct sip_event ev;

	/* beth answers: so is ned's consult call; his first leg is on hold */
	log_clear();
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	assert_int_equal(c->state, CALL_CONSULT);
	expect_log("answer transferor");
	expect_log("join transferor talk;join agent hold");
	/* a second consult call while one is in flight: refused */
	memset(&ev, 0, sizeof(ev));
	ev.kind = SIP_EV_INCOMING, ev.leg = 51;
	xfer_on_consult_invite(fx->cc, usr(fx, "ned"), usr(fx, "beth"), &ev);
	expect_log("refuse 486");
	/* REFER with Replaces on the customer's call: it completes */
	log_clear();
	refer(fx, leg_of(c, LEG_AGENT), "beth", true);
	expect_log("refer reply agent 202");
	expect_log("hangup transferor");
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_ptr_equal(c->agent_user, usr(fx, "beth"));
	assert_null(call_leg(c, LEG_TRANSFEROR));
	all_hang_up(fx, c);
	clear(fx, "ned");
	clear(fx, "beth");
	/* the phone hangs up its consult call instead: a cancel; ned resumes */
	c = phone_consult(fx);
	sip(fx, SIP_EV_ANSWERED, leg_of(c, LEG_CONSULT), 200, "ok");
	log_clear();
	sip(fx, SIP_EV_TERMINATED, 50, 0, NULL);
	assert_int_equal(c->state, CALL_BRIDGED);
	expect_log("hangup consult");
	expect_log("join agent talk");
	assert_null(call_leg(c, LEG_TRANSFEROR));
	/* a REFER with Replaces without a consult call: refused */
	refer(fx, leg_of(c, LEG_AGENT), "beth", true);
	expect_log("refer reply agent 403");
	all_hang_up(fx, c);
	clear(fx, "ned");
	clear(fx, "beth");
	/* beth does not answer: ned's consult call is refused (480) */
	c = phone_consult(fx);
	log_clear();
	fx_wait(fx, 400);
	expect_log("refuse 480");
	assert_int_equal(c->state, CALL_BRIDGED);
	all_hang_up(fx, c);
	clear(fx, "ned");
	/* not on a call: refused */
	memset(&ev, 0, sizeof(ev));
	ev.kind = SIP_EV_INCOMING, ev.leg = 52;
	log_clear();
	xfer_on_consult_invite(fx->cc, usr(fx, "ned"), usr(fx, "beth"), &ev);
	expect_log("refuse 403");
}

/* ---- monitoring (monitor.c) ---- */
static void a_manager_listens_whispers_barges_and_never_ends_the_call(void **state)
{
	struct fx *fx = *state;
	struct call *c = fresh_bridged(fx);
	const char *why;
	sip_leg_t sup;

	/* an agent's call control is not a manager's: the API checks roles;
	 * here: no live call, a bad state, another's session */
	assert_int_equal(
		callctl_monitor(fx->cc, "INT0009999", usr(fx, "mia"), CALLCTL_MONITOR_LISTEN, &why),
		CC_ENOTFOUND);
	assert_int_equal(callctl_monitor_stop(fx->cc, c->ix_number, usr(fx, "mia"), &why),
			 CC_EILLEGAL);
	log_clear();
	assert_int_equal(
		callctl_monitor(fx->cc, c->ix_number, usr(fx, "mia"), CALLCTL_MONITOR_LISTEN, &why),
		0);
	expect_log("dial supervisor sip:mia@127.0.0.1:5993 auto");
	sup = leg_of(c, LEG_SUPERVISOR);
	assert_int_equal(
		callctl_monitor(fx->cc, c->ix_number, usr(fx, "ned"), CALLCTL_MONITOR_LISTEN, &why),
		CC_ECONFLICT);
	sip(fx, SIP_EV_ANSWERED, sup, 200, "ok");
	expect_log("join supervisor listen");
	assert_int_equal(c->state, CALL_BRIDGED); /* no phase of its own */
	log_clear();
	assert_int_equal(callctl_monitor(fx->cc, c->ix_number, usr(fx, "mia"),
					 CALLCTL_MONITOR_WHISPER, &why),
			 0);
	expect_log("join supervisor whisper agent");
	assert_int_equal(
		callctl_monitor(fx->cc, c->ix_number, usr(fx, "mia"), CALLCTL_MONITOR_BARGE, &why),
		0);
	expect_log("join supervisor barge");
	assert_null(strstr(fk.log, "dial supervisor")); /* no new ring */
	/* stop, then again; the manager's phone hangs up: the call goes on */
	assert_int_equal(callctl_monitor_stop(fx->cc, c->ix_number, usr(fx, "mia"), &why), 0);
	expect_log("hangup supervisor");
	assert_null(call_leg(c, LEG_SUPERVISOR));
	assert_int_equal(
		callctl_monitor(fx->cc, c->ix_number, usr(fx, "mia"), CALLCTL_MONITOR_LISTEN, &why),
		0);
	sup = leg_of(c, LEG_SUPERVISOR);
	sip(fx, SIP_EV_ANSWERED, sup, 200, "ok");
	sip(fx, SIP_EV_TERMINATED, sup, 0, NULL);
	assert_int_equal(c->state, CALL_BRIDGED);
	assert_null(call_leg(c, LEG_SUPERVISOR));
	/* a session running when the call ends: hung up with the rest */
	assert_int_equal(
		callctl_monitor(fx->cc, c->ix_number, usr(fx, "mia"), CALLCTL_MONITOR_LISTEN, &why),
		0);
	all_hang_up(fx, c);
	clear(fx, "ned");
}

/* ---- shutdown and memory ---- */
static void shutdown_releases_calls_in_every_state(void **state)
{
	struct fx *fx = *state;

	bridged_call(fx);
	/* teardown frees call control with the call up: no leak, no event after */
}

static void out_of_memory_on_the_call_refuses_it_cleanly(void **state)
{
	struct fx *fx = *state;
	bool made = false;

	for (unsigned n = 1; n < 20 && !made; n++) {
		fk.refused = 0;
		mem_fail_after(n);
		incoming(fx, "5000", "ok");
		mem_fail_after(0);
		if (callctl_calls(fx->cc)) {
			made = true;
			sip(fx, SIP_EV_TERMINATED, 1, 0, NULL);
		} else {
			assert_int_equal(fk.refused, 503);
		}
		fx_settle(fx);
		assert_int_equal(callctl_calls(fx->cc), 0);
	}
	assert_true(made);
}

/* Last: every row of the table was taken by some test above. */
static void every_row_of_the_call_table_is_covered(void **state)
{
	size_t n, missing = 0;
	const struct call_row *rows = call_rows(&n);

	for (size_t i = 0; i < n; i++) {
		if (call_row_hits(i))
			continue;
		print_error("row %zu (%s, %s → %s) was never taken\n", i,
			    rows[i].state == CALL__N ? "any" : call_state_name(rows[i].state),
			    call_event_name(rows[i].event), call_state_name(rows[i].next));
		missing++;
	}
	assert_int_equal(missing, 0);
	(void)state;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_queued_call_is_offered_answered_bridged_and_recorded),
		T(the_customer_hangs_up_while_bridged),
		T(end_call_from_the_api_puts_the_agent_in_wrap_up),
		T(the_agents_phone_holds_and_resumes),
		T(a_missed_offer_goes_back_to_the_queue_and_the_agent_is_missed),
		T(a_rejected_or_refused_offer_goes_to_the_next_agent),
		T(accept_from_the_api_rerings_with_auto_answer_and_reject_misses),
		T(an_offer_taken_back_by_routing_returns_the_call_to_the_queue),
		T(the_caller_hangs_up_in_each_state),
		T(refusals_before_a_call_and_an_unusable_offer),
		T(a_recording_that_fails_to_start_leaves_the_call_up),
		T(a_store_that_fails_still_ends_the_call_cleanly),
		T(a_queues_own_maximum_wait_moves_the_caller_to_its_overflow_queue),
		T(a_flow_queues_then_overflows_and_hangs_up),
		T(a_flow_that_hangs_up_closes_the_interaction),
		T(a_transfer_is_bridged_and_ends_when_the_far_end_hangs_up),
		T(a_failed_transfer_takes_the_failed_branch),
		T(an_unanswered_or_unusable_transfer_fails_too),
		T(click_to_call_rings_the_agent_then_the_customer_and_bridges),
		T(click_to_call_fails_every_way_before_it_connects),
		T(a_customer_who_answers_unusably_or_a_dial_that_fails),
		T(a_warm_transfer_consults_joins_and_the_first_agent_leaves),
		T(the_consult_ends_every_way_back_to_the_first_agent),
		T(the_first_agent_leaving_completes_or_orphans_the_transfer),
		T(the_customer_hangs_up_during_each_transfer_phase),
		T(a_transfer_to_a_queue_waits_offers_and_misses),
		T(transfers_refused_and_to_an_external_number),
		T(a_refer_from_the_agents_phone_is_a_blind_transfer),
		T(an_attended_transfer_from_a_desk_phone),
		T(a_manager_listens_whispers_barges_and_never_ends_the_call),
		T(shutdown_releases_calls_in_every_state),
		T(out_of_memory_on_the_call_refuses_it_cleanly),
		cmocka_unit_test(every_row_of_the_call_table_is_covered),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
