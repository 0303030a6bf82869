/*
 * main.c — `switchboard serve|demo`: parse arguments, load the config, build
 * the root objects (store, routing, api) on one libuv loop, run, and shut
 * down cleanly on SIGINT/SIGTERM; SIGHUP reloads the call flows.
 *
 * DESIGN
 * - The loop thread owns routing and the API; blocking work runs on libuv's
 *   worker pool (store, password hashing). There are no other globals: the
 *   root object `struct app` is built here and passed down.
 * - Shutdown: stop taking signals and webhook deliveries (what was not
 *   delivered goes after the next start), wait (up to 10 s) until no request
 *   is waiting on the store and no write is queued, then destroy the HTTP
 *   context, let the loop close its handles, and close the store (which
 *   checkpoints the WAL).
 * - SIGHUP: call control reloads every flow file of calls.flows_dir, all or
 *   nothing, without dropping calls (callctl_flows_reload); the outcome is
 *   logged (an error names the file, line and block, and nothing changed).
 */
#define LOG_MODULE "main"
#include "api/api.h"
#include "callctl/callctl.h"
#include "core/core.h"
#include "demo/demo.h"
#include "hook/hook.h"
#include "routing/routing.h"
#include "store/store.h"
#include "transcript/transcript.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000

struct app {
	uv_loop_t loop;
	struct config cfg;
	struct store *st;
	struct routing *r;
	struct api *api;
	struct callctl *cc;
	struct hook *hook;
	struct transcript *transcript; /* NULL: transcripts off */
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t drain;
	int64_t drain_deadline;
	bool demo;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: switchboard serve|demo [--config FILE] [--http-port N] "
		   "[--data-dir DIR] [--sip-port N] [--log-level debug|info|warn|error]\n"
		   "       switchboard version\n"
		   "  serve  run the server (embedded defaults when no --config)\n"
		   "  demo   run it with a demo site created on first start\n");
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* Returns 0, or 2 after printing a usage error. */
static int args_parse(struct app *app, int argc, char **argv)
{
	const char *file = NULL, *port = NULL, *dir = NULL, *lvl = NULL, *sport = NULL;
	char err[512];

	for (int i = 2; i < argc; i++) {
		const char **slot = !strcmp(argv[i], "--config")      ? &file
				    : !strcmp(argv[i], "--http-port") ? &port
				    : !strcmp(argv[i], "--data-dir")  ? &dir
				    : !strcmp(argv[i], "--log-level") ? &lvl
				    : !strcmp(argv[i], "--sip-port")  ? &sport
								      : NULL;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "switchboard: %s '%s'\n",
				slot ? "missing value after" : "unknown option", argv[i]);
			usage(stderr);
			return 2;
		}
		*slot = argv[++i];
	}
	config_defaults(&app->cfg);
	if (file && config_load_file(&app->cfg, file, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (port && parse_port(port, &app->cfg.http_port)) {
		fprintf(stderr, "switchboard: --http-port must be 1..65535, got '%s'\n", port);
		return 2;
	}
	if (sport && parse_port(sport, &app->cfg.sip_port)) {
		fprintf(stderr, "switchboard: --sip-port must be 1..65535, got '%s'\n", sport);
		return 2;
	}
	if (dir && strlen(dir) > CONF_PATH_MAX - 32) {
		fprintf(stderr, "switchboard: --data-dir is longer than %d characters\n",
			CONF_PATH_MAX - 32);
		return 2;
	}
	if (dir) {
		str_copy(app->cfg.data_dir, dir, sizeof(app->cfg.data_dir));
		app->cfg.store_path[0] = '\0'; /* follows the data dir */
	}
	if (lvl && log_level_parse(lvl, &app->cfg.log_level)) {
		fprintf(stderr, "switchboard: --log-level must be debug, info, warn or error\n");
		return 2;
	}
	config_finish(&app->cfg);
	if (api_tls_check(&app->cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[CONF_PATH_MAX];

	str_copy(buf, path, sizeof(buf));
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0750) && errno != EEXIST ? -errno : 0;
}

/* ---- start ---- */
static int store_start(struct app *app, struct st_snapshot *snap)
{
	bool created = false;
	int err;

	err = mkdir_p(app->cfg.data_dir);
	if (err) {
		log_error("cannot create data dir %s: %s", app->cfg.data_dir, strerror(-err));
		return err;
	}
	err = store_open(&app->st, &app->loop, &app->cfg);
	if (err) {
		log_error("cannot open the store at %s", app->cfg.store_path);
		return err;
	}
	err = store_load(app->st, snap);
	if (!err)
		err = app->demo ? demo_seed_site(app->st, snap, app->cfg.sip_realm, &created)
				: demo_seed_admin(app->st, snap);
	if (!err && (created || !snap->n_users)) {
		store_snapshot_free(snap);
		err = store_load(app->st, snap);
	}
	return err;
}

static int voice_start(struct app *app, const struct st_snapshot *snap)
{
	struct callctl_cfg vc = {
		.sip_port = app->cfg.sip_port,
		.rtp_min = app->cfg.rtp_min,
		.rtp_max = app->cfg.rtp_max,
		.media_workers = app->cfg.media_workers,
		.media_workers_nice = app->cfg.media_workers_nice,
		.max_calls = app->cfg.max_calls,
		.ack_timeout_ms = app->cfg.sip_ack_timeout_ms,
		.greeting_ms = app->cfg.greeting_ms,
		.offer_timeout_ms = app->cfg.offer_timeout_s * 1000,
		.wrapup_timeout_ms = app->cfg.wrapup_timeout_s * 1000,
		.transfer_timeout_ms = app->cfg.transfer_timeout_s * 1000,
		.dial_timeout_ms = app->cfg.dial_timeout_s * 1000,
	};
	int err;

	str_copy(vc.sip_address, app->cfg.sip_address, sizeof(vc.sip_address));
	str_copy(vc.realm, app->cfg.sip_realm, sizeof(vc.realm));
	str_copy(vc.rtp_address, app->cfg.rtp_address, sizeof(vc.rtp_address));
	str_copy(vc.greeting_wav, app->cfg.greeting_wav, sizeof(vc.greeting_wav));
	str_copy(vc.hold_wav, app->cfg.hold_wav, sizeof(vc.hold_wav));
	str_copy(vc.outbound_uri, app->cfg.outbound_uri, sizeof(vc.outbound_uri));
	/* The demo ships a customer who answers (callctl/democust.c) unless the
	 * site says where outside numbers go. */
	if (app->demo && !vc.outbound_uri[0] && app->cfg.demo_customer)
		vc.demo_customer_port = app->cfg.sip_port + 2;
	if (app->cfg.flows_dir[0])
		str_copy(vc.flows_dir, app->cfg.flows_dir, sizeof(vc.flows_dir));
	else
		snprintf(vc.flows_dir, sizeof(vc.flows_dir), "%.480s/flows", app->cfg.data_dir);
	if (app->demo)
		demo_write_flows(vc.flows_dir);
	snprintf(vc.record_dir, sizeof(vc.record_dir), "%.480s/recordings", app->cfg.data_dir);
	err = callctl_alloc(&app->cc, &app->loop, &vc, app->r, snap);
	if (err)
		log_error("cannot start SIP on %s:%d or media on %s:%d-%d: %s", vc.sip_address,
			  vc.sip_port, vc.rtp_address, vc.rtp_min, vc.rtp_max, cc_strerror(err));
	return err;
}

/* ---- transcripts ---- */
/* A recording closed (callctl): the transcripts' policy decides. */
static void on_recorded(int64_t ix_id, const char *number, int64_t queue_id, void *arg)
{
	struct app *app = arg;

	if (app->transcript)
		transcript_recorded(app->transcript, ix_id, number, queue_id);
}

/* The shipped corpus: <project>/share/transcripts/contact_center_corpus.txt beside
 * <project>/build/<mode>/switchboard. */
static void corpus_default(char *out, size_t size)
{
	char exe[CONF_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat sb;

	out[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
	snprintf(out, size, "%.400s/share/transcripts/contact_center_corpus.txt", exe);
	if (stat(out, &sb))
		out[0] = '\0';
}

static int transcripts_start(struct app *app, const struct st_snapshot *snap)
{
	struct transcript_cfg tc = {.decoders = app->cfg.transcript_decoders,
				    .domain_pct = app->cfg.transcript_domain_pct,
				    .redact = app->cfg.transcript_redact};
	char *text = NULL, err[300] = "";
	size_t len = 0;
	int rc;

	if (!app->cfg.transcripts_enabled || !app->cc)
		return 0;
	snprintf(tc.record_dir, sizeof(tc.record_dir), "%.480s/recordings", app->cfg.data_dir);
	str_copy(tc.data_dir, app->cfg.data_dir, sizeof(tc.data_dir));
	if (app->cfg.transcript_corpus[0])
		str_copy(tc.corpus, app->cfg.transcript_corpus, sizeof(tc.corpus));
	else
		corpus_default(tc.corpus, sizeof(tc.corpus));
	if (!tc.corpus[0])
		log_warn("transcripts: no contact-center corpus found; the domain model is the "
			 "site's flows only (transcripts.corpus names one)");
	if (callctl_flow_text(app->cc, &text, &len))
		log_warn("transcripts: the flows' text was not read");
	/* ...and the records' short descriptions (the store's snapshot) */
	if (snap->record_text_len) {
		char *all = realloc(text, len + snap->record_text_len + 1);
		if (all) {
			memcpy(all + len, snap->record_text, snap->record_text_len + 1);
			text = all, len += snap->record_text_len;
		} else
			log_warn("transcripts: the records' text was left out (no memory)");
	}
	tc.site_text = text, tc.site_text_len = len;
	rc = transcript_alloc(&app->transcript, &app->loop, &tc, app->st, app->r, snap, err,
			      sizeof(err));
	free(text);
	if (rc) {
		log_error("cannot start transcripts: %s", err[0] ? err : cc_strerror(rc));
		return rc;
	}
	callctl_recorded_handler_set(app->cc, on_recorded, app);
	return 0;
}

static int app_start(struct app *app)
{
	struct st_snapshot snap = {0};
	int err;

	log_level_set(app->cfg.log_level);
	err = uv_loop_init(&app->loop);
	if (err)
		return err;
	err = store_start(app, &snap);
	if (!err)
		err = routing_alloc(&app->r, &app->loop, app->st, app->cfg.awa_enabled, &snap);
	/* webhooks before recovery: its closing events reach the outbox too */
	hook_ctr_view_set(api_ctr_view); /* before recovery: its records are events too */
	if (!err && (err = hook_alloc(&app->hook, &app->loop, &app->cfg, app->st, app->r, &snap)))
		log_error("cannot start webhooks: %s", cc_strerror(err));
	if (!err)
		err = routing_recover(app->r);
	/* today's figures from the records, after recovery closed its calls */
	if (!err && routing_wallboard_seed(app->r))
		log_warn("the wallboard starts today's figures from zero");
	if (!err)
		err = voice_start(app, &snap);
	if (!err)
		err = transcripts_start(app, &snap);
	if (!err) {
		err = api_alloc(&app->api, &app->loop, &app->cfg, app->r, app->st, app->cc,
				app->hook, &snap);
		if (err)
			log_error("cannot listen on %s:%d%s", app->cfg.http_address,
				  app->cfg.http_port, app->cfg.http_tls_cert[0] ? " with TLS" : "");
		else
			api_transcript_set(app->api, app->transcript);
	}
	if (!err)
		hook_start(app->hook);
	if (!err)
		routing_wallboard_start(app->r,
					&(struct routing_wb_cfg){
						.push_ms = app->cfg.wallboard_push_ms,
						.acw_alert_s = app->cfg.wallboard_acw_alert_s,
						.hold_alert_s = app->cfg.wallboard_hold_alert_s,
						.missed_alert = app->cfg.wallboard_missed_alert,
					});
	store_snapshot_free(&snap);
	return err;
}

/* ---- shutdown ---- */
static void drain_tick(uv_timer_t *t)
{
	struct app *app = t->data;

	if ((api_busy(app->api) || store_pending(app->st)) &&
	    uv_now(&app->loop) < (uint64_t)app->drain_deadline)
		return;
	if (api_busy(app->api) || store_pending(app->st))
		log_warn("shutting down with %zu requests and %zu writes unfinished",
			 api_busy(app->api), store_pending(app->st));
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, NULL);
	api_callctl_detach(app->api); /* the browsers' sockets outlive call control */
	callctl_free(app->cc);
	app->cc = NULL;
	transcript_free(app->transcript); /* after callctl: no new recordings */
	app->transcript = NULL;
	routing_close(app->r);
	api_free(app->api);
	app->api = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *app = s->data;

	log_info("signal %d: finishing in-flight requests, then stopping", signum);
	hook_stop(app->hook); /* what is not delivered goes after the next start */
	uv_close((uv_handle_t *)&app->sigint, NULL);
	uv_close((uv_handle_t *)&app->sigterm, NULL);
	uv_close((uv_handle_t *)&app->sighup, NULL);
	app->drain_deadline = (int64_t)uv_now(&app->loop) + SHUTDOWN_GRACE_MS;
	app->drain.data = app;
	uv_timer_init(&app->loop, &app->drain);
	uv_timer_start(&app->drain, drain_tick, 0, 20);
}

/* SIGHUP: reload the call flows; callctl logs the outcome. */
static void on_sighup(uv_signal_t *s, int signum)
{
	struct app *app = s->data;
	int err;

	(void)signum;
	log_info("signal SIGHUP: reloading the call flows");
	err = app->cc ? callctl_flows_reload(app->cc, NULL, NULL) : 0;
	if (err)
		log_error("flows not reloaded: %s", cc_strerror(err));
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void app_stop(struct app *app)
{
	api_callctl_detach(app->api); /* the browsers' sockets outlive call control */
	callctl_free(app->cc);
	app->cc = NULL;
	transcript_free(app->transcript);
	app->transcript = NULL;
	api_free(app->api);
	hook_stop(app->hook);
	routing_close(app->r);
	/* Let lws and libuv finish closing their handles. */
	uv_run(&app->loop, UV_RUN_DEFAULT);
	uv_walk(&app->loop, close_walk, NULL);
	uv_run(&app->loop, UV_RUN_DEFAULT);
	hook_free(app->hook);
	routing_free(app->r);
	store_close(app->st);
	if (uv_loop_close(&app->loop))
		log_warn("the loop still had handles at exit");
	log_info("stopped");
}

static int run(struct app *app)
{
	int err = app_start(app);

	if (err) {
		log_error("start failed: %s", cc_strerror(err));
		app_stop(app);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	app->sigint.data = app->sigterm.data = app->sighup.data = app;
	uv_signal_init(&app->loop, &app->sigint);
	uv_signal_init(&app->loop, &app->sigterm);
	uv_signal_init(&app->loop, &app->sighup);
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	uv_signal_start(&app->sighup, on_sighup, SIGHUP);
	log_info("listening on %s://%s:%d, store %s", app->cfg.http_tls_cert[0] ? "https" : "http",
		 app->cfg.http_address, app->cfg.http_port, app->cfg.store_path);
	if (app->demo)
		demo_print_welcome(&app->cfg);
	uv_run(&app->loop, UV_RUN_DEFAULT);
	app_stop(app);
	return 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	int rc;

	/* libuv's pool (4 threads by default) runs the store, recordings, TTS
	 * and up to two speech decoders (~30 ms each): 8 threads keep a burst of
	 * recognitions from delaying commits and reads. Before any uv call. */
	setenv("UV_THREADPOOL_SIZE", "8", 0);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "version")) {
		printf("switchboard 0.1.0\n");
		return 0;
	}
	if (strcmp(argv[1], "serve") && strcmp(argv[1], "demo")) {
		fprintf(stderr, "switchboard: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	app.demo = !strcmp(argv[1], "demo");
	rc = args_parse(&app, argc, argv);
	if (rc)
		return rc;
	return run(&app);
}
