/*
 * sip_thread.c — the SIP thread: owns su_root and nua, dispatches nua events to
 * sip_leg.c / sip_reg.c, runs the loop's commands, and shuts nua down cleanly.
 *
 * DESIGN
 * - One su_root per UA, created on this thread (sofia's reactor is
 *   per-thread). nua listens on sip:ADDR:PORT; without a transport
 *   parameter sofia binds both UDP and TCP on that port.
 * - nua is configured so the application makes every decision that needs
 *   business rules: AUTOANSWER off (INVITEs reach us as nua_i_invite and
 *   wait), MEDIA off (we carry SDP ourselves; sofia's soa never touches it),
 *   REGISTER as an application method (nua_i_register), AUTOACK on, and the
 *   session timer off for our own requests; a peer that asks for one
 *   (Session-Expires) is honoured by nua, which refreshes or ends the
 *   dialog. OPTIONS, 100 Trying, malformed requests (400), CANCEL (487) and
 *   retransmissions are sofia's.
 * - Commands arrive through an eventfd registered with su_root; they are
 *   drained in order. Nothing here blocks.
 * - Every 5 s (the registration sweep's timer) malloc_trim(0) hands the
 *   free pages inside every malloc arena back to the kernel. Setting up
 *   and tearing down calls leaves freed holes below long-lived blocks —
 *   sofia's messages and transactions on this thread's arena most of all,
 *   ~35 MB at 1,000 calls set up on a loaded machine — which RSS kept
 *   (issue 16, docs/PERFORMANCE.md). It runs here, not on the loop, once per
 *   period whatever the number of UAs, and is logged when it takes 5 ms or
 *   more (it locks each arena in turn: 7-68 ms under load at 1,000 calls).
 * - Shutdown: nua_shutdown, then su_root_break on nua_r_shutdown (final) or
 *   after SIP_SHUTDOWN_MS; handles still bound are destroyed before
 *   nua_destroy.
 */
#define LOG_MODULE "sip"
#include "sip/sip_nua.h"

#include <sofia-sip/nta_tag.h>

#include <malloc.h>
#include <stdatomic.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- reason phrases ---- */
#define SIP_PHRASES_MAX 256

const char *sip_phrase(struct sip_ua *ua, const char *reason, int status)
{
	const char *std = sip_status_phrase(status);
	struct sip_phrase *p = NULL;

	if (!reason || !reason[0] || (std && !strcmp(reason, std)))
		return std ? std : "Unknown";
	HASH_FIND_STR(ua->phrases, reason, p);
	if (p)
		return p->s;
	p = ua->n_phrases < SIP_PHRASES_MAX ? calloc(1, sizeof(*p)) : NULL;
	if (p && !(p->s = strdup(reason))) {
		free(p);
		p = NULL;
	}
	if (!p)
		return std ? std : "Unknown"; /* too many distinct phrases: standard one */
	HASH_ADD_KEYPTR(hh, ua->phrases, p->s, strlen(p->s), p);
	ua->n_phrases++;
	return p->s;
}

static void phrases_free(struct sip_ua *ua)
{
	struct sip_phrase *p, *tmp;

	HASH_ITER(hh, ua->phrases, p, tmp)
	{
		HASH_DEL(ua->phrases, p);
		free(p->s);
		free(p);
	}
	ua->n_phrases = 0;
}

/* ---- nua events ---- */
static void on_options(struct sip_ua *ua, nua_t *nua, nua_handle_t *nh, struct sleg *sl,
		       sip_t const *sip)
{
	struct sip_evnode *n = sip_event_new(SIP_EV_OPTIONS, sl ? sl->id : 0);

	if (n) {
		msg_source(nua, sip, n->ev.source, sizeof(n->ev.source));
		if (sip && sip->sip_from)
			msg_addr_user(sip->sip_from, n->ev.from_user, sizeof(n->ev.from_user),
				      n->ev.from_name, sizeof(n->ev.from_name));
		sip_event_push(ua, n);
	}
	if (!sl)
		nua_handle_destroy(nh); /* out of dialog: nua answered, nothing to keep */
}

/* Out-of-dialog requests nua answers itself leave a handle we must drop. */
static bool is_oob_request(nua_event_t e)
{
	return e == nua_i_message || e == nua_i_info || e == nua_i_refer || e == nua_i_subscribe ||
	       e == nua_i_publish || e == nua_i_notify || e == nua_i_method || e == nua_i_update;
}

static void nua_cb(NUA_CB_ARGS)
{
	switch (event) {
	case nua_i_invite: leg_on_invite(event, status, phrase, nua, ua, nh, sl, sip, tags); break;
	case nua_i_state: leg_on_state(event, status, phrase, nua, ua, nh, sl, sip, tags); break;
	case nua_r_invite:
		leg_on_r_invite(event, status, phrase, nua, ua, nh, sl, sip, tags);
		break;
	case nua_i_bye:
		if (sl && !sl->reason)
			sl->reason = "bye";
		break;
	case nua_i_cancel:
		if (sl && !sl->reason)
			sl->reason = "cancel";
		break;
	case nua_i_register:
		reg_on_register(event, status, phrase, nua, ua, nh, sl, sip, tags);
		break;
	case nua_i_options: on_options(ua, nua, nh, sl, sip); break;
	case nua_i_refer:
		if (sl) {
			leg_on_refer(ua, nua, sl, sip);
		} else if (nh) { /* out of dialog: no call to transfer */
			nua_respond(nh, 481, "No call to transfer", NUTAG_WITH_THIS(nua),
				    TAG_END());
			nua_handle_destroy(nh);
		}
		break;
	case nua_r_shutdown:
		log_debug("action=shutdown status=%d %s", status, phrase);
		if (status >= 200)
			su_root_break(ua->root);
		break;
	case nua_i_error: log_warn("action=nua error %d %s", status, phrase); break;
	default:
		log_debug("leg=%llu action=event %s %d %s", sl ? (unsigned long long)sl->id : 0ULL,
			  nua_event_name(event), status, phrase ? phrase : "");
		if (!sl && nh && is_oob_request(event))
			nua_handle_destroy(nh);
		break;
	}
}

/* ---- commands ---- */
static void stop_timeout(struct sip_ua *ua, su_timer_t *t, struct sip_ua *arg);

static void shutdown_begin(struct sip_ua *ua)
{
	if (ua->shutting_down)
		return;
	ua->shutting_down = true;
	log_debug("action=shutdown begin");
	su_timer_set(ua->stop_timer, stop_timeout, ua);
	nua_shutdown(ua->nua);
}

static int wake_cb(struct sip_ua *ua, su_wait_t *w, struct sip_ua *arg)
{
	struct sip_cmd *c = sip_cmd_take(ua);

	for (struct sip_cmd *p = c; p; p = p->next) {
		if (p->kind == CMD_SHUTDOWN)
			shutdown_begin(ua);
		else if (ua->shutting_down)
			continue;
		else if (p->kind == CMD_REG_REPLY)
			reg_cmd_reply(ua, p);
		else
			leg_cmd(ua, p);
	}
	sip_cmds_free(c);
	return 0;
}

static void stop_timeout(struct sip_ua *ua, su_timer_t *t, struct sip_ua *arg)
{
	if (ua->shutting_down) {
		log_warn("action=shutdown timed out after %d ms", SIP_SHUTDOWN_MS);
		su_root_break(ua->root);
	}
}

/* True for one caller per 4 s however many UA threads ask (the trim is
 * process-wide). */
static bool sip_trim_due(time_t now)
{
	static _Atomic time_t last;
	time_t prev = atomic_load(&last);

	return now - prev >= 4 && atomic_compare_exchange_strong(&last, &prev, now);
}

static void sweep_cb(struct sip_ua *ua, su_timer_t *t, struct sip_ua *arg)
{
	struct timespec a, b;
	long us;

	reg_sweep(ua, false);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (!sip_trim_due(a.tv_sec))
		return; /* another UA's thread trimmed in this period */
	malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
	if (us >= 5000)
		log_info("action=malloc_trim took %ld us", us);
}

static void ack_cb(struct sip_ua *ua, su_timer_t *t, struct sip_ua *arg)
{
	if (!ua->shutting_down)
		leg_ack_check(ua);
}

/* ---- start ---- */
static void listen_url(const struct sip_ua_cfg *cfg, char *buf, size_t size)
{
	bool v6 = strchr(cfg->address, ':') != NULL;

	snprintf(buf, size, "sip:%s%s%s:%d", v6 ? "[" : "", cfg->address, v6 ? "]" : "", cfg->port);
}

static int nua_start(struct sip_ua *ua, su_root_t *root)
{
	char url[128];

	listen_url(&ua->cfg, url, sizeof(url));
	ua->nua = nua_create(root, nua_cb, ua, NUTAG_URL(url), NUTAG_USER_AGENT("Switchboard"),
			     NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
			     NUTAG_AUTOALERT(0), NUTAG_ENABLEINVITE(1), NUTAG_SESSION_TIMER(0),
			     NUTAG_MIN_SE(90), /* RFC 4028's floor: accept what peers ask */
			     NUTAG_APPL_METHOD("REGISTER"), NUTAG_APPL_METHOD("REFER"),
			     NUTAG_ALLOW("REGISTER"), NUTAG_ALLOW("REFER"), NUTAG_ENABLEMESSAGE(0),
			     SIPTAG_SUPPORTED_STR("timer"), SIPTAG_ACCEPT_STR("application/sdp"),
			     NTATAG_MAXSIZE(SIP_MAX_MESSAGE), /* see sip_sofia_fix.c */
			     TAG_END());
	if (!ua->nua)
		return -EADDRINUSE;
	if (!sip_sofia_fix_active())
		log_error("action=start sofia's parser does not use our fixes (sip_sofia_fix.c): "
			  "oversized TCP messages and some methods are not handled safely");
	/* Advertise only what we handle (the default adds MESSAGE, SUBSCRIBE…);
	 * REFER in a dialog is a transfer from a phone (leg_on_refer). */
	nua_set_params(
		ua->nua,
		SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, REGISTER, REFER"),
		TAG_END());
	return 0;
}

/* Is addr:port free for UDP and TCP? Checked before sofia tries: a failed
 * nua_create leaks its su_port (seen under LeakSanitizer). */
static int port_probe(const struct sip_ua_cfg *cfg)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE}, *ai = NULL;
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
	char port[8];
	int err = 0;

	snprintf(port, sizeof(port), "%d", cfg->port);
	if (getaddrinfo(cfg->address, port, &hints, &ai) || !ai)
		return -EADDRNOTAVAIL;
	for (int i = 0; i < 2 && !err; i++) {
		int one = 1, fd = socket(ai->ai_family, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			break;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen))
			err = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	return err;
}

static int root_start(struct sip_ua *ua, su_wait_t *w)
{
	int err = ua->cfg.port ? port_probe(&ua->cfg) : 0;
	su_root_t *root = err ? NULL : su_root_create(ua);

	if (err || !root)
		return err ? err : -ENOMEM;
	ua->root = root;
	su_root_threading(root, 0); /* nua's stack runs on this thread too */
	if (su_wait_create(w, ua->wake_fd, SU_WAIT_IN) ||
	    su_root_register(root, w, wake_cb, ua, 0) < 0)
		return -EIO;
	ua->sweep = su_timer_create(su_root_task(root), 5000);
	ua->stop_timer = su_timer_create(su_root_task(root), SIP_SHUTDOWN_MS);
	ua->ack_timer = su_timer_create(su_root_task(root), SIP_ACK_CHECK_MS);
	if (!ua->sweep || !ua->stop_timer || !ua->ack_timer)
		return -ENOMEM;
	/* su_timer_run repeats at the timer's duration; su_timer_set_interval,
	 * despite its name, fires once (the REGISTER sweep ran only once). */
	su_timer_run(ua->sweep, sweep_cb, ua);
	su_timer_run(ua->ack_timer, ack_cb, ua);
	return nua_start(ua, root);
}

static void start_report(struct sip_ua *ua, int err)
{
	pthread_mutex_lock(&ua->start_lock);
	ua->start_err = err;
	ua->started = true;
	pthread_cond_signal(&ua->start_cond);
	pthread_mutex_unlock(&ua->start_lock);
}

static void root_stop(struct sip_ua *ua, su_wait_t *w)
{
	reg_sweep(ua, true);
	leg_free_all(ua);
	if (ua->nua)
		nua_destroy(ua->nua);
	ua->nua = NULL;
	if (ua->sweep)
		su_timer_destroy(ua->sweep);
	if (ua->stop_timer)
		su_timer_destroy(ua->stop_timer);
	if (ua->ack_timer)
		su_timer_destroy(ua->ack_timer);
	ua->sweep = ua->stop_timer = ua->ack_timer = NULL;
	if (ua->root) {
		su_root_unregister(ua->root, w, wake_cb, ua);
		su_root_destroy(ua->root);
	}
	ua->root = NULL;
	phrases_free(ua); /* after nua_destroy: nothing refers to them now */
}

/* Runs until CMD_SHUTDOWN completes. */
void *sip_thread_main(void *arg)
{
	struct sip_ua *ua = arg;
	su_wait_t w[1] = {SU_WAIT_INIT};
	int err;

	su_init();
	err = root_start(ua, w);
	if (err) {
		root_stop(ua, w);
		su_deinit();
		start_report(ua, err);
		return NULL;
	}
	start_report(ua, 0);
	su_root_run(ua->root);
	root_stop(ua, w);
	su_deinit();
	return NULL;
}
