/*
 * test_sip_ua.c — sip/sip_ua.c and friends against real peers: a UA on
 * 127.0.0.1 (free port), the uv loop run by the test, and sipp spawned with
 * uv_spawn (built-in scenarios, or scenario XML written to a temp dir).
 *
 * Each test is bounded: sipp gets -m 1 -timeout 10s, and every wait on the
 * loop has its own deadline. Every test frees the UA and checks no mem_*
 * block is live (ASan's leak checker covers the mallocs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/sip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_EV	 64
#define PASSWORD "secret"

struct h {
	uv_loop_t loop;
	struct sip_ua *ua;
	int port;
	char dir[64];
	struct sip_event ev[MAX_EV];
	int n_ev;
	/* policy */
	int incoming_status; /* respond with this to INCOMING (0 = nothing) */
	const char *incoming_reason;
	bool hangup_on_answer;
	bool reg_wrong_password;
	bool hangup_on_confirm, reinvite_on_confirm, hangup_on_incoming, auth_incoming;
	int reg_verified; /* REGISTERs whose digest verified */
	sip_leg_t out_leg;
	/* the running sipp */
	uv_process_t proc;
	bool sipp_running;
	int64_t sipp_status;
};

/* ---- helpers ---- */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(u, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	if (bind(t, (struct sockaddr *)&a, sizeof(a)))
		port = 0; /* TCP side taken: try again */
	close(u);
	close(t);
	return port ? port : free_port();
}

static const char *our_sdp(void)
{
	static char buf[512];
	struct sdp_audio a = {.addr = "127.0.0.1",
			      .port = 20000,
			      .fmts = {0, 8},
			      .n_fmts = 2,
			      .telephone_event_pt = 101,
			      .dir = SDP_SENDRECV};

	assert_true(sdp_build(buf, sizeof(buf), &a, 1, 1) > 0);
	return buf;
}

static const char *hold_sdp(void)
{
	static char buf[512];
	struct sdp_audio a = {.addr = "127.0.0.1",
			      .port = 20000,
			      .fmts = {0},
			      .n_fmts = 1,
			      .telephone_event_pt = 101,
			      .dir = SDP_SENDONLY};

	assert_true(sdp_build(buf, sizeof(buf), &a, 1, 2) > 0);
	return buf;
}

/* Trunk authentication: 407 first, then verify the Proxy-Authorization. */
static void on_incoming_auth(struct h *h, const struct sip_event *ev)
{
	char ha1[33];

	if (!ev->has_auth) {
		assert_int_equal(sip_leg_respond(h->ua, ev->leg, 407, NULL, NULL), 0);
		return;
	}
	sip_digest_ha1(ev->auth.username, ev->auth.realm, PASSWORD, ha1);
	if (sip_nonce_valid(h->ua, ev->auth.nonce) &&
	    !sip_digest_verify(&ev->auth, "INVITE", ha1)) {
		h->reg_verified++;
		assert_int_equal(sip_leg_respond(h->ua, ev->leg, 200, "OK", our_sdp()), 0);
	} else {
		assert_int_equal(sip_leg_respond(h->ua, ev->leg, 403, "Bad credentials", NULL), 0);
	}
}

static void on_register(struct h *h, const struct sip_event *ev)
{
	char ha1[33];

	if (!ev->has_auth) {
		assert_int_equal(sip_register_reply(h->ua, ev->req, 401, "Unauthorized", 0), 0);
		return;
	}
	sip_digest_ha1(ev->auth.username, "switchboard", h->reg_wrong_password ? "nope" : PASSWORD,
		       ha1);
	if (sip_nonce_valid(h->ua, ev->auth.nonce) && !strcmp(ev->auth.realm, "switchboard") &&
	    !sip_digest_verify(&ev->auth, "REGISTER", ha1)) {
		h->reg_verified++;
		assert_int_equal(sip_register_reply(h->ua, ev->req, 200, "OK", ev->expires), 0);
	} else {
		assert_int_equal(sip_register_reply(h->ua, ev->req, 401, "Unauthorized", 0), 0);
	}
}

static void on_event(const struct sip_event *ev, void *arg)
{
	struct h *h = arg;

	if (h->n_ev < MAX_EV)
		h->ev[h->n_ev++] = *ev;
	switch (ev->kind) {
	case SIP_EV_REGISTER: on_register(h, ev); break;
	case SIP_EV_INCOMING:
		if (h->auth_incoming) {
			on_incoming_auth(h, ev);
			break;
		}
		if (h->hangup_on_incoming) {
			assert_int_equal(sip_leg_hangup(h->ua, ev->leg), 0);
			break;
		}
		if (h->incoming_status)
			sip_leg_respond(h->ua, ev->leg, h->incoming_status, h->incoming_reason,
					h->incoming_status / 100 == 2 ? our_sdp() : NULL);
		break;
	case SIP_EV_CONFIRMED:
		if (h->hangup_on_confirm)
			assert_int_equal(sip_leg_hangup(h->ua, ev->leg), 0);
		if (h->reinvite_on_confirm)
			assert_int_equal(sip_leg_reinvite(h->ua, ev->leg, hold_sdp()), 0);
		break;
	case SIP_EV_ANSWERED:
		if (h->hangup_on_answer)
			assert_int_equal(sip_leg_hangup(h->ua, ev->leg), 0);
		break;
	default: break;
	}
}

static const struct sip_event *ev_find(struct h *h, enum sip_event_kind k, int nth)
{
	for (int i = 0; i < h->n_ev; i++) {
		if (h->ev[i].kind == k && nth-- == 0)
			return &h->ev[i];
	}
	return NULL;
}

static int ev_count(struct h *h, enum sip_event_kind k)
{
	int n = 0;

	for (int i = 0; i < h->n_ev; i++)
		n += h->ev[i].kind == k;
	return n;
}

/* ---- running the loop until something happens ---- */
typedef bool(pred_h)(struct h *h);

static void poll_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop until pred(h) or timeout_ms; returns pred's last value. */
static bool run_until(struct h *h, pred_h *pred, int timeout_ms)
{
	uv_timer_t t;
	uint64_t end = uv_now(&h->loop) + (uint64_t)timeout_ms;
	bool ok;

	uv_timer_init(&h->loop, &t);
	uv_timer_start(&t, poll_cb, 10, 10);
	while (!(ok = pred(h)) && uv_now(&h->loop) < end)
		uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&h->loop, UV_RUN_NOWAIT);
	return ok;
}

static bool sipp_done(struct h *h)
{
	return !h->sipp_running;
}

static bool never(struct h *h)
{
	return false;
}

static void sipp_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct h *h = p->data;

	h->sipp_status = sig ? 128 + sig : status;
	h->sipp_running = false;
	uv_close((uv_handle_t *)p, NULL);
}

/* Starts sipp with args (NULL-terminated, after the program name). */
static void sipp_start(struct h *h, const char *const *args)
{
	char *argv[40];
	uv_stdio_container_t io[3] = {
		{.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2}};
	uv_process_options_t o = {.file = "sipp",
				  .args = argv,
				  .cwd = h->dir,
				  .exit_cb = sipp_exit_cb,
				  .stdio = io,
				  .stdio_count = 3};
	int n = 0;

	argv[n++] = "sipp";
	for (; *args && n < 38; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	h->proc.data = h;
	h->sipp_running = true;
	assert_int_equal(uv_spawn(&h->loop, &h->proc, &o), 0);
}

/* Runs sipp to completion (≤ 15 s) and returns its exit status. */
static int64_t sipp_run(struct h *h, const char *const *args)
{
	sipp_start(h, args);
	if (!run_until(h, sipp_done, 15000)) {
		uv_process_kill(&h->proc, SIGKILL);
		run_until(h, sipp_done, 2000);
		fail_msg("sipp did not finish");
	}
	return h->sipp_status;
}

static void scenario_write(struct h *h, const char *name, const char *xml)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(xml, f);
	fclose(f);
}

/* sipp against our UA with a scenario file (or -sn builtin) and extras. */
#define SIPP_COMMON "-m", "1", "-timeout", "10s", "-nostdin", "-i", "127.0.0.1"

/* ---- setup / teardown ---- */
static int setup_with(void **state, int ack_timeout_ms)
{
	struct h *h = calloc(1, sizeof(*h));
	struct sip_ua_cfg cfg = {
		.address = "127.0.0.1", .realm = "switchboard", .ack_timeout_ms = ack_timeout_ms};

	assert_non_null(h);
	uv_loop_init(&h->loop);
	h->port = cfg.port = free_port();
	str_copy(h->dir, "/tmp/sb_sip_XXXXXX", sizeof(h->dir));
	assert_non_null(mkdtemp(h->dir));
	assert_int_equal(sip_ua_alloc(&h->ua, &h->loop, &cfg, on_event, h), 0);
	*state = h;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 0);
}

static int setup_ack_600(void **state)
{
	return setup_with(state, 600);
}

static int teardown(void **state)
{
	struct h *h = *state;
	char cmd[128];

	if (h->sipp_running) {
		uv_process_kill(&h->proc, SIGKILL);
		run_until(h, sipp_done, 2000);
	}
	sip_ua_free(h->ua);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&h->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	assert_int_equal(system(cmd), 0);
	free(h);
	assert_int_equal(mem_live(), 0);
	return 0;
}

static const char *target(struct h *h)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "127.0.0.1:%d", h->port);
	return buf;
}

static const char *num(int v)
{
	static char buf[4][16];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%d", v);
	return buf[i];
}

/* ---- scenarios (written to the temp dir) ---- */
#define SC_HDR "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"t\">\n"
#define SC_END "</scenario>\n"
#define INVITE_SDP(cseq, extra, sdpextra)                                                          \
	"<send retrans=\"500\"><![CDATA[\n"                                                        \
	"INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"                                 \
	"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"                       \
	"From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"          \
	"To: <sip:[service]@[remote_ip]:[remote_port]>" extra "\n"                                 \
	"Call-ID: [call_id]\n"                                                                     \
	"CSeq: " cseq " INVITE\n"                                                                  \
	"Contact: sip:sipp@[local_ip]:[local_port]\n"                                              \
	"Max-Forwards: 70\n"                                                                       \
	"Content-Type: application/sdp\n"                                                          \
	"Content-Length: [len]\n\n"                                                                \
	"v=0\n"                                                                                    \
	"o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n"                            \
	"s=-\n"                                                                                    \
	"c=IN IP[media_ip_type] [media_ip]\n"                                                      \
	"t=0 0\n"                                                                                  \
	"m=audio [media_port] RTP/AVP 0\n"                                                         \
	"a=rtpmap:0 PCMU/8000\n" sdpextra "]]></send>\n"
#define IN_DIALOG(method, cseq)                                                                    \
	"<send><![CDATA[\n" method " sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"            \
	"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"                       \
	"From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"          \
	"To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n"                          \
	"Call-ID: [call_id]\n"                                                                     \
	"CSeq: " cseq " " method "\n"                                                              \
	"Contact: sip:sipp@[local_ip]:[local_port]\n"                                              \
	"Max-Forwards: 70\n"                                                                       \
	"Content-Length: 0\n]]></send>\n"
#define ACK_NON2XX                                                                                 \
	"<send><![CDATA[\nACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"                   \
	"[last_Via:]\n"                                                                            \
	"From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"          \
	"[last_To:]\n"                                                                             \
	"Call-ID: [call_id]\n"                                                                     \
	"CSeq: 1 ACK\n"                                                                            \
	"Max-Forwards: 70\n"                                                                       \
	"Content-Length: 0\n]]></send>\n"
#define REGISTER_MSG(cseq, auth, expires)                                                          \
	"<send retrans=\"500\"><![CDATA[\n"                                                        \
	"REGISTER sip:[remote_ip]:[remote_port] SIP/2.0\n"                                         \
	"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"                       \
	"From: <sip:[service]@[remote_ip]>;tag=[pid]SIPpTag02[call_number]\n"                      \
	"To: <sip:[service]@[remote_ip]>\n"                                                        \
	"Call-ID: [call_id]\n"                                                                     \
	"CSeq: " cseq " REGISTER\n"                                                                \
	"Contact: <sip:[service]@[local_ip]:[local_port]>\n" auth "Expires: " expires "\n"         \
	"Max-Forwards: 70\n"                                                                       \
	"Content-Length: 0\n]]></send>\n"

static const char SC_OPTIONS[] =
	SC_HDR "<send><![CDATA[\n"
	       "OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0\n"
	       "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
	       "From: <sip:probe@[local_ip]:[local_port]>;tag=[call_number]\n"
	       "To: <sip:[remote_ip]:[remote_port]>\n"
	       "Call-ID: [call_id]\n"
	       "CSeq: 1 OPTIONS\n"
	       "Max-Forwards: 70\n"
	       "Content-Length: 0\n]]></send>\n"
	       "<recv response=\"200\"/>\n" SC_END;

static const char SC_REGISTER_OK[] =
	SC_HDR REGISTER_MSG("1", "", "600") "<recv response=\"401\" auth=\"true\"/>\n" REGISTER_MSG(
		"2", "[authentication]\n", "600") "<recv response=\"200\"/>\n" SC_END;

static const char SC_REGISTER_401[] =
	SC_HDR REGISTER_MSG("1", "", "600") "<recv response=\"401\" auth=\"true\"/>\n" REGISTER_MSG(
		"2", "[authentication]\n", "600") "<recv response=\"401\"/>\n" SC_END;

static const char SC_UNREGISTER[] =
	SC_HDR REGISTER_MSG("1", "", "0") "<recv response=\"401\"/>\n" SC_END;

static const char SC_REFUSED_404[] = SC_HDR INVITE_SDP(
	"1", "",
	"") "<recv response=\"100\"/>\n" /* nua sends it at once */
	    "<recv response=\"404\"><action><ereg regexp=\"SIP/2.0 404 No such number\" "
	    "search_in=\"msg\" check_it=\"true\" assign_to=\"m\"/></action></recv>\n" ACK_NON2XX
	    "<Reference variables=\"m\"/>\n" SC_END;

static const char SC_CANCEL[] = SC_HDR INVITE_SDP(
	"1", "",
	"") "<recv response=\"100\" optional=\"true\"/>\n"
	    "<recv response=\"180\"/>\n"
	    "<send><![CDATA[\nCANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
	    "[last_Via:]\n"
	    "From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
	    "To: <sip:[service]@[remote_ip]:[remote_port]>\n"
	    "Call-ID: [call_id]\n"
	    "CSeq: 1 CANCEL\n"
	    "Max-Forwards: 70\n"
	    "Content-Length: 0\n]]></send>\n"
	    "<recv response=\"200\"/>\n"
	    "<recv response=\"487\"/>\n" ACK_NON2XX SC_END;

static const char
	SC_HOLD[] =
		SC_HDR INVITE_SDP("1", "", "") "<recv response=\"100\" optional=\"true\"/>\n"
					       "<recv response=\"180\" optional=\"true\"/>\n"
					       "<recv response=\"200\"/>\n" IN_DIALOG("ACK", "1") "<pause milliseconds=\"100\"/>\n" INVITE_SDP(
						       "2", "[peer_tag_param]",
						       "a=sendonly\n") "<recv response=\"100\" "
								       "optional=\"true\"/>\n"
								       "<recv "
								       "response=\"200\"><action><"
								       "ereg regexp=\"a=recvonly\" "
								       "search_in=\"body\" "
								       "check_it=\"true\" "
								       "assign_to=\"m\"/></"
								       "action></recv>\n" IN_DIALOG(
									       "ACK", "2")
									       IN_DIALOG(
										       "BYE",
										       "3") "<recv "
											    "respon"
											    "se="
											    "\"200"
											    "\"/>\n"
											    "<Refer"
											    "ence "
											    "variab"
											    "les="
											    "\"m\"/"
											    ">"
											    "\n" SC_END;

static const char SC_SESSION_TIMER[] =
	SC_HDR "<send retrans=\"500\"><![CDATA[\n"
	       "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
	       "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
	       "From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
	       "To: <sip:[service]@[remote_ip]:[remote_port]>\n"
	       "Call-ID: [call_id]\n"
	       "CSeq: 1 INVITE\n"
	       "Contact: sip:sipp@[local_ip]:[local_port]\n"
	       "Supported: timer\n"
	       "Session-Expires: 90;refresher=uac\n"
	       "Min-SE: 90\n"
	       "Max-Forwards: 70\n"
	       "Content-Type: application/sdp\n"
	       "Content-Length: [len]\n\n"
	       "v=0\n"
	       "o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n"
	       "s=-\n"
	       "c=IN IP[media_ip_type] [media_ip]\n"
	       "t=0 0\n"
	       "m=audio [media_port] RTP/AVP 0\n"
	       "a=rtpmap:0 PCMU/8000\n]]></send>\n"
	       "<recv response=\"100\" optional=\"true\"/>\n"
	       "<recv response=\"200\"><action><ereg regexp=\"90;refresher=uac\" search_in=\"hdr\" "
	       "header=\"Session-Expires:\" check_it=\"true\" "
	       "assign_to=\"m\"/></action></recv>\n" IN_DIALOG("ACK", "1")
		       IN_DIALOG("BYE", "2") "<recv response=\"200\"/>\n"
					     "<Reference variables=\"m\"/>\n" SC_END;

/* Answered, then waits for our BYE (we hang up, or the UA shuts down). */
static const char SC_WAIT_BYE[] = SC_HDR INVITE_SDP(
	"1", "",
	"") "<recv response=\"100\" optional=\"true\"/>\n"
	    "<recv response=\"200\"/>\n" IN_DIALOG(
		    "ACK",
		    "1") "<recv request=\"BYE\"/>\n"
			 "<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n"
			 "[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n]]></send>\n" SC_END;

/* A caller that never ACKs our 200 (a flood tool), then stays quiet. */
static const char SC_NO_ACK[] =
	SC_HDR INVITE_SDP("1", "", "") "<recv response=\"100\" optional=\"true\"/>\n"
				       "<recv response=\"200\"/>\n"
				       "<pause milliseconds=\"4000\"/>\n" SC_END;

/* Answered, then our re-INVITE (hold) arrives and is answered by sipp. */
static const char SC_OUR_REINVITE[] = SC_HDR INVITE_SDP(
	"1", "",
	"") "<recv response=\"100\" optional=\"true\"/>\n"
	    "<recv response=\"200\"/>\n" IN_DIALOG(
		    "ACK",
		    "1") "<recv request=\"INVITE\"><action><ereg regexp=\"a=sendonly\" "
			 "search_in=\"body\" "
			 "check_it=\"true\" assign_to=\"m\"/></action></recv>\n"
			 "<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n"
			 "[last_Call-ID:]\n[last_CSeq:]\nContact: "
			 "<sip:sipp@[local_ip]:[local_port]>\n"
			 "Content-Type: application/sdp\nContent-Length: [len]\n\n"
			 "v=0\no=user1 1 2 IN IP4 [local_ip]\ns=-\nc=IN IP4 [media_ip]\nt=0 0\n"
			 "m=audio [media_port] RTP/AVP 0\na=recvonly\n]]></send>\n"
			 "<recv request=\"ACK\"/>\n" IN_DIALOG(
				 "BYE", "2") "<recv response=\"200\"/>\n"
					     "<Reference variables=\"m\"/>\n" SC_END;

/* A trunk that must authenticate: 407, then INVITE with Proxy-Authorization. */
static const char SC_INVITE_AUTH[] = SC_HDR INVITE_SDP(
	"1", "",
	"") "<recv response=\"100\" optional=\"true\"/>\n"
	    "<recv response=\"407\" auth=\"true\"/>\n" ACK_NON2XX
	    "<send retrans=\"500\"><![CDATA[\n"
	    "INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
	    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
	    "From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
	    "To: <sip:[service]@[remote_ip]:[remote_port]>\n"
	    "Call-ID: [call_id]\nCSeq: 2 INVITE\nContact: sip:sipp@[local_ip]:[local_port]\n"
	    "[authentication]\nMax-Forwards: 70\nContent-Type: application/sdp\n"
	    "Content-Length: [len]\n\nv=0\no=user1 1 1 IN IP4 [local_ip]\ns=-\n"
	    "c=IN IP4 [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 8\n]]></send>\n"
	    "<recv response=\"100\" optional=\"true\"/>\n<recv response=\"200\"/>\n" IN_DIALOG(
		    "ACK", "2") IN_DIALOG("BYE", "3") "<recv response=\"200\"/>\n" SC_END;

static const char SC_UAS_BUSY[] =
	SC_HDR "<recv request=\"INVITE\"/>\n"
	       "<send><![CDATA[\nSIP/2.0 486 Busy Here\n"
	       "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n"
	       "[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n]]></send>\n"
	       "<recv request=\"ACK\"/>\n" SC_END;

static const char SC_UAS_RING_CANCEL[] =
	SC_HDR "<recv request=\"INVITE\"><action><ereg regexp=\"([0-9]+)\" search_in=\"hdr\" "
	       "header=\"CSeq:\" assign_to=\"all,cseqn\"/></action></recv>\n"
	       "<send><![CDATA[\nSIP/2.0 180 Ringing\n"
	       "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n"
	       "[last_Call-ID:]\n[last_CSeq:]\nContact: <sip:[local_ip]:[local_port]>\n"
	       "Content-Length: 0\n]]></send>\n"
	       "<recv request=\"CANCEL\"/>\n"
	       "<send><![CDATA[\nSIP/2.0 200 OK\n"
	       "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n"
	       "[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n]]></send>\n"
	       "<send><![CDATA[\nSIP/2.0 487 Request Terminated\n"
	       "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n"
	       "[last_Call-ID:]\nCSeq: [$cseqn] INVITE\nContent-Length: 0\n]]></send>\n"
	       "<recv request=\"ACK\"/>\n<Reference variables=\"all\"/>\n" SC_END;

/* ---- tests ---- */
static void options_is_answered_200(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),	"-sf", "options.xml", SIPP_COMMON, "-p",
			      num(free_port()), NULL};

	scenario_write(h, "options.xml", SC_OPTIONS);
	assert_int_equal(sipp_run(h, args), 0);
	run_until(h, never, 100);
	assert_non_null(ev_find(h, SIP_EV_OPTIONS, 0));
	assert_string_equal(ev_find(h, SIP_EV_OPTIONS, 0)->source, "127.0.0.1");
}

static void register_is_challenged_then_accepted(void **state)
{
	struct h *h = *state;
	const char *args[] = {
		target(h), "-sf",    "register.xml", SIPP_COMMON, "-p", num(free_port()),
		"-au",	   "agent1", "-ap",	     PASSWORD,	  "-s", "agent1",
		NULL};
	const struct sip_event *first, *second;

	scenario_write(h, "register.xml", SC_REGISTER_OK);
	assert_int_equal(sipp_run(h, args), 0);
	first = ev_find(h, SIP_EV_REGISTER, 0);
	second = ev_find(h, SIP_EV_REGISTER, 1);
	assert_non_null(first);
	assert_non_null(second);
	assert_false(first->has_auth);
	assert_string_equal(first->from_user, "agent1");
	assert_string_equal(first->to_user, "agent1");
	assert_int_equal(first->expires, 600);
	assert_true(strstr(first->contact, "sip:agent1@127.0.0.1:") == first->contact);
	assert_true(second->has_auth);
	assert_string_equal(second->auth.username, "agent1");
	assert_string_equal(second->auth.realm, "switchboard");
	assert_string_equal(second->auth.qop, "auth");
	assert_true(second->auth.cnonce[0] && second->auth.nc[0]);
	assert_true(sip_nonce_valid(h->ua, second->auth.nonce));
	assert_false(sip_nonce_valid(h->ua, "00000000000000000000000000000000"));
	assert_int_equal(h->reg_verified, 1);
	{
		char bad[33];
		sip_digest_ha1("agent1", "switchboard", "wrong", bad);
		assert_int_equal(sip_digest_verify(&second->auth, "REGISTER", bad), -EACCES);
	}
}

static void register_with_wrong_password_stays_401(void **state)
{
	struct h *h = *state;
	const char *args[] = {
		target(h), "-sf",    "register.xml", SIPP_COMMON, "-p", num(free_port()),
		"-au",	   "agent1", "-ap",	     PASSWORD,	  "-s", "agent1",
		NULL};

	h->reg_wrong_password = true;
	scenario_write(h, "register.xml", SC_REGISTER_401);
	assert_int_equal(sipp_run(h, args), 0);
	assert_int_equal(h->reg_verified, 0);
	assert_int_equal(ev_count(h, SIP_EV_REGISTER), 2);
}

static void register_expires_zero_has_no_contact(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),	"-sf", "unreg.xml", SIPP_COMMON, "-p",
			      num(free_port()), NULL};

	scenario_write(h, "unreg.xml", SC_UNREGISTER);
	assert_int_equal(sipp_run(h, args), 0);
	assert_int_equal(ev_find(h, SIP_EV_REGISTER, 0)->expires, 0);
	assert_string_equal(ev_find(h, SIP_EV_REGISTER, 0)->contact, "");
}

static bool terminated(struct h *h)
{
	return ev_find(h, SIP_EV_TERMINATED, 0) || ev_find(h, SIP_EV_FAILED, 0);
}

static void check_answered_call(struct h *h)
{
	const struct sip_event *in = ev_find(h, SIP_EV_INCOMING, 0), *end;

	assert_true(run_until(h, terminated, 3000));
	assert_non_null(in);
	assert_string_equal(in->to_user, "5551234");
	assert_string_equal(in->from_user, "sipp");
	assert_string_equal(in->from_name, "sipp");
	assert_string_equal(in->source, "127.0.0.1");
	assert_false(in->has_auth);
	assert_non_null(strstr(in->sdp, "m=audio"));
	assert_non_null(ev_find(h, SIP_EV_CONFIRMED, 0));
	end = ev_find(h, SIP_EV_TERMINATED, 0);
	assert_int_equal(end->leg, in->leg);
	assert_string_equal(end->reason, "bye");
	assert_int_equal(ev_count(h, SIP_EV_TERMINATED), 1);
	/* the id is retired */
	assert_int_equal(sip_leg_hangup(h->ua, in->leg), -ENOENT);
}

static void inbound_call_answered_then_caller_byes(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h), "-sn",
			      "uac",	 "-s",
			      "5551234", SIPP_COMMON,
			      "-p",	 num(free_port()),
			      "-mp",	 num(free_port()),
			      NULL};

	h->incoming_status = 200;
	assert_int_equal(sipp_run(h, args), 0);
	check_answered_call(h);
}

static void inbound_call_over_tcp(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h), "-sn",
			      "uac",	 "-s",
			      "5551234", "-t",
			      "t1",	 SIPP_COMMON,
			      "-p",	 num(free_port()),
			      "-mp",	 num(free_port()),
			      NULL};

	h->incoming_status = 200;
	assert_int_equal(sipp_run(h, args), 0);
	check_answered_call(h);
}

static void inbound_call_rejected_404(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "refused.xml",    "-s", "999",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};
	const struct sip_event *end;

	h->incoming_status = 404;
	h->incoming_reason = "No such number";
	scenario_write(h, "refused.xml", SC_REFUSED_404);
	assert_int_equal(sipp_run(h, args), 0);
	assert_true(run_until(h, terminated, 3000));
	end = ev_find(h, SIP_EV_TERMINATED, 0);
	assert_string_equal(end->reason, "local");
	assert_int_equal(end->status, 404);
	assert_null(ev_find(h, SIP_EV_CONFIRMED, 0));
}

static void caller_cancels_before_answer(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "cancel.xml",	    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};
	const struct sip_event *end;

	h->incoming_status = 180;
	scenario_write(h, "cancel.xml", SC_CANCEL);
	assert_int_equal(sipp_run(h, args), 0);
	assert_true(run_until(h, terminated, 3000));
	end = ev_find(h, SIP_EV_TERMINATED, 0);
	assert_string_equal(end->reason, "cancel");
	assert_int_equal(end->leg, ev_find(h, SIP_EV_INCOMING, 0)->leg);
	assert_int_equal(ev_count(h, SIP_EV_TERMINATED), 1);
}

static void reinvite_hold_is_answered_recvonly(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "hold.xml",	    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};
	const struct sip_event *re;

	h->incoming_status = 200;
	scenario_write(h, "hold.xml", SC_HOLD);
	assert_int_equal(sipp_run(h, args), 0); /* it checks a=recvonly in our 200 */
	assert_true(run_until(h, terminated, 3000));
	re = ev_find(h, SIP_EV_REINVITE, 0);
	assert_non_null(re);
	assert_non_null(strstr(re->sdp, "a=sendonly"));
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "bye");
}

static void session_timer_asked_by_peer_is_honoured(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "timer.xml",	    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};

	h->incoming_status = 200;
	scenario_write(h, "timer.xml", SC_SESSION_TIMER);
	assert_int_equal(sipp_run(h, args), 0); /* it checks Session-Expires in our 200 */
	assert_true(run_until(h, terminated, 3000));
}

static void we_hang_up_an_answered_inbound_call(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "waitbye.xml",    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};

	h->incoming_status = 200;
	h->hangup_on_confirm = true;
	scenario_write(h, "waitbye.xml", SC_WAIT_BYE);
	assert_int_equal(sipp_run(h, args), 0);
	assert_true(run_until(h, terminated, 3000));
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "local");
	assert_int_equal(ev_count(h, SIP_EV_TERMINATED), 1);
}

static void answered_call_without_ack_is_dropped_after_the_deadline(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),
			      "-sf",
			      "noack.xml",
			      "-s",
			      "5551234",
			      SIPP_COMMON,
			      "-p",
			      num(free_port()),
			      "-default_behaviors",
			      "none",
			      NULL};
	const struct sip_event *t;
	uint64_t t0 = uv_now(&h->loop);

	h->incoming_status = 200;
	scenario_write(h, "noack.xml", SC_NO_ACK);
	sipp_start(h, args);
	assert_true(run_until(h, terminated, 3000));
	/* 600 ms after the 200 (checked every 100 ms), never RFC 3261's 32 s */
	assert_in_range(uv_now(&h->loop) - t0, 550, 2000);
	t = ev_find(h, SIP_EV_TERMINATED, 0);
	assert_non_null(t);
	assert_string_equal(t->reason, "timeout");
	assert_int_equal(t->status, 408);
	assert_null(ev_find(h, SIP_EV_CONFIRMED, 0));
	assert_int_equal(ev_count(h, SIP_EV_TERMINATED), 1);
}

static void we_hang_up_a_ringing_inbound_call_480(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "refused.xml",    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};
	static char sc[sizeof(SC_REFUSED_404) + 16];
	char *p;

	/* the 404 scenario, expecting 480 Temporarily Unavailable instead */
	str_copy(sc, SC_REFUSED_404, sizeof(sc));
	while ((p = strstr(sc, "404")))
		memcpy(p, "480", 3);
	p = strstr(sc, "No such number");
	memcpy(p, "Temporarily Un", 14);
	h->hangup_on_incoming = true;
	scenario_write(h, "refused.xml", sc);
	assert_int_equal(sipp_run(h, args), 0);
	assert_true(run_until(h, terminated, 3000));
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "local");
}

static void we_send_a_reinvite_for_hold(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "reinv.xml",	    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};

	h->incoming_status = 200;
	h->reinvite_on_confirm = true;
	scenario_write(h, "reinv.xml", SC_OUR_REINVITE);
	assert_int_equal(sipp_run(h, args), 0); /* sipp checked a=sendonly */
	assert_true(run_until(h, terminated, 3000));
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "bye");
}

static bool two_terminated(struct h *h)
{
	return ev_count(h, SIP_EV_TERMINATED) == 2;
}

static void trunk_invite_is_challenged_407_then_answered(void **state)
{
	struct h *h = *state;
	const char *args[] = {
		target(h),	  "-sf", "auth.xml", "-s",  "5551234", SIPP_COMMON, "-p",
		num(free_port()), "-au", "trunk1",   "-ap", PASSWORD,  NULL};
	const struct sip_event *first, *second;

	h->auth_incoming = true;
	scenario_write(h, "auth.xml", SC_INVITE_AUTH);
	assert_int_equal(sipp_run(h, args), 0);
	assert_true(run_until(h, two_terminated, 3000));
	first = ev_find(h, SIP_EV_INCOMING, 0);
	second = ev_find(h, SIP_EV_INCOMING, 1);
	assert_false(first->has_auth);
	assert_true(second->has_auth);
	assert_string_equal(second->auth.username, "trunk1");
	assert_string_equal(second->auth.realm, "switchboard");
	assert_int_equal(h->reg_verified, 1);
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "local"); /* the 407 */
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 1)->reason, "bye");
}

static bool confirmed(struct h *h)
{
	return ev_find(h, SIP_EV_CONFIRMED, 0) != NULL;
}

static void shutdown_ends_live_calls_with_bye(void **state)
{
	struct h *h = *state;
	const char *args[] = {target(h),   "-sf", "waitbye.xml",    "-s", "5551234",
			      SIPP_COMMON, "-p",  num(free_port()), NULL};

	h->incoming_status = 200;
	scenario_write(h, "waitbye.xml", SC_WAIT_BYE);
	sipp_start(h, args);
	assert_true(run_until(h, confirmed, 5000));
	sip_ua_free(h->ua); /* BYE goes out during the shutdown */
	h->ua = NULL;
	assert_true(run_until(h, sipp_done, 5000));
	assert_int_equal(h->sipp_status, 0);
}

/* Starts a sipp UAS and waits until it listens. */
static int uas_start(struct h *h, const char *scenario_or_null)
{
	static const char *args[24];
	int port = free_port(), n = 0;

	args[n++] = "-p", args[n++] = num(port);
	if (scenario_or_null)
		args[n++] = "-sf", args[n++] = scenario_or_null;
	else
		args[n++] = "-sn", args[n++] = "uas";
	args[n++] = "-m", args[n++] = "1", args[n++] = "-timeout", args[n++] = "10s";
	args[n++] = "-nostdin", args[n++] = "-i", args[n++] = "127.0.0.1";
	args[n++] = "-mp", args[n++] = num(free_port());
	args[n] = NULL;
	sipp_start(h, args);
	run_until(h, never, 400); /* let it bind */
	return port;
}

static void outbound_answered_then_we_hang_up(void **state)
{
	struct h *h = *state;
	int port = uas_start(h, NULL);
	char uri[64];
	const struct sip_event *ans, *end;

	snprintf(uri, sizeof(uri), "sip:agent1@127.0.0.1:%d", port);
	h->hangup_on_answer = true;
	assert_int_equal(
		sip_leg_invite(h->ua, &h->out_leg, uri, "5551234", "Caller \"X\"", our_sdp()), 0);
	assert_true(h->out_leg != 0);
	assert_true(run_until(h, terminated, 5000));
	ans = ev_find(h, SIP_EV_ANSWERED, 0);
	assert_non_null(ans);
	assert_int_equal(ans->leg, h->out_leg);
	assert_non_null(strstr(ans->sdp, "m=audio"));
	end = ev_find(h, SIP_EV_TERMINATED, 0);
	assert_string_equal(end->reason, "local");
	assert_int_equal(end->leg, h->out_leg);
	assert_true(run_until(h, sipp_done, 5000));
	assert_int_equal(h->sipp_status, 0);
	assert_int_equal(sip_leg_hangup(h->ua, h->out_leg), -ENOENT);
}

static void outbound_busy_fails_486(void **state)
{
	struct h *h = *state;
	int port;
	char uri[64];

	scenario_write(h, "busy.xml", SC_UAS_BUSY);
	port = uas_start(h, "busy.xml");
	snprintf(uri, sizeof(uri), "<sip:agent1@127.0.0.1:%d>", port);
	assert_int_equal(sip_leg_invite(h->ua, &h->out_leg, uri, "5551234", "", our_sdp()), 0);
	assert_true(run_until(h, terminated, 5000));
	assert_int_equal(ev_find(h, SIP_EV_FAILED, 0)->status, 486);
	assert_null(ev_find(h, SIP_EV_TERMINATED, 0));
	assert_true(run_until(h, sipp_done, 5000));
	assert_int_equal(h->sipp_status, 0);
}

static void outbound_cancelled_while_ringing(void **state)
{
	struct h *h = *state;
	int port;
	char uri[64];

	scenario_write(h, "ring.xml", SC_UAS_RING_CANCEL);
	port = uas_start(h, "ring.xml");
	snprintf(uri, sizeof(uri), "sip:agent1@127.0.0.1:%d", port);
	assert_int_equal(sip_leg_invite(h->ua, &h->out_leg, uri, "5551234", "Caller", our_sdp()),
			 0);
	assert_true(run_until(h, terminated, 1000) || ev_find(h, SIP_EV_PROGRESS, 0));
	assert_non_null(ev_find(h, SIP_EV_PROGRESS, 0));
	assert_int_equal(sip_leg_hangup(h->ua, h->out_leg), 0);
	assert_true(run_until(h, terminated, 5000));
	assert_string_equal(ev_find(h, SIP_EV_TERMINATED, 0)->reason, "local");
	assert_null(ev_find(h, SIP_EV_FAILED, 0));
	assert_true(run_until(h, sipp_done, 5000));
	assert_int_equal(h->sipp_status, 0);
}

static void api_refuses_bad_arguments(void **state)
{
	struct h *h = *state;
	sip_leg_t leg = 0;
	struct sip_ua *ua2 = NULL;
	struct sip_ua_cfg cfg = {.address = "127.0.0.1", .port = h->port};

	assert_int_equal(sip_leg_invite(h->ua, &leg, "http://x", "a", "b", our_sdp()), -EINVAL);
	assert_int_equal(sip_leg_invite(h->ua, &leg, "sip:a b@c", "a", "b", our_sdp()), -EINVAL);
	assert_int_equal(sip_leg_invite(h->ua, &leg, "sip:a@c", "a", "b", ""), -EINVAL);
	assert_int_equal(sip_leg_respond(h->ua, 12345, 200, "OK", our_sdp()), -ENOENT);
	assert_int_equal(sip_leg_respond(h->ua, 12345, 99, "OK", NULL), -EINVAL);
	assert_int_equal(sip_leg_hangup(h->ua, 0), -ENOENT);
	assert_int_equal(sip_leg_reinvite(h->ua, 777, our_sdp()), -ENOENT);
	assert_int_equal(sip_register_reply(h->ua, 0, 200, "OK", 60), -EINVAL);
	/* the port is ours already */
	assert_true(sip_ua_alloc(&ua2, &h->loop, &cfg, on_event, h) < 0);
	assert_null(ua2);
	uv_run(&h->loop, UV_RUN_NOWAIT);
}

/* ---- malformed messages, raw over UDP and TCP ---- */
static int raw_socket(struct h *h, int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
	struct timeval tv = {.tv_sec = 3};
	int fd = socket(AF_INET, type, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static void raw_send(int fd, const char *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
	(void)n; /* a TCP peer may already have closed on us: fine */
}

static const char *const malformed[] = {
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;bra", /* truncated */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: cl1\r\nCSeq: 1 INVITE\r\n"
	"Content-Length: 500\r\n\r\nv=0\r\n", /* Content-Length beyond the datagram */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK2\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: cl2\r\nCSeq: 1 INVITE\r\n"
	"Content-Length: abc\r\n\r\n",
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK3\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCSeq: 1 INVITE\r\n"
	"Content-Length: 0\r\n\r\n", /* no Call-ID */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK4\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: x4\r\n"
	"Content-Length: 0\r\n\r\n", /* no CSeq */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\n"
	"Call-ID: x5\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", /* no Via */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK6\r\n"
	"Call-ID: x6\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", /* no From/To */
	"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK7\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:1@127.0.0.1>\r\nCall-ID: x7\r\nCSeq: 1 INVITE\r\n"
	"Content-Type: application/sdp\r\nContent-Length: 9\r\n\r\nnot sdp!!", /* bad SDP */
	"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK8\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x8\r\nCSeq: 1 REGISTER\r\n"
	"Contact: *\r\nAuthorization: Digest ,,,=\"\r\nContent-Length: 0\r\n\r\n",
	"FOO sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK9\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:x@b>\r\nCall-ID: x9\r\nCSeq: 1 FOO\r\n"
	"Content-Length: 0\r\n\r\n",
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKstray\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:x@b>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\n"
	"Content-Length: 0\r\n\r\n",
	"\r\n\r\n",
	"INVITE  SIP/2.0\r\n\r\n",
	"\x01\x02\xff\xfe garbage \x00\x00 more",
};

static void send_huge(int fd)
{
	size_t n = 30000;
	char *buf = malloc(n + 256);

	assert_non_null(buf);
	memcpy(buf, "OPTIONS sip:127.0.0.1 SIP/2.0\r\nSubject: ", 40);
	memset(buf + 40, 'A', n);
	memcpy(buf + 40 + n, "\r\n\r\n", 4);
	raw_send(fd, buf, 44 + n);
	free(buf);
}

static void options_text(char *buf, size_t size, const char *tp, int lport, const char *callid)
{
	snprintf(buf, size,
		 "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\n"
		 "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1>\r\n"
		 "Call-ID: %s\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		 tp, lport, callid, callid);
}

/* Reads until the 200 for call id `callid` arrives (stray 400s are skipped). */
static void expect_options_200(int fd, const char *callid)
{
	char buf[8192];

	for (int i = 0; i < 40; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		if (!strstr(buf, callid) || strncmp(buf, "SIP/2.0 ", 8))
			continue;
		assert_true(!strncmp(buf, "SIP/2.0 200", 11));
		assert_non_null(strstr(buf, "Allow:"));
		assert_null(strstr(buf, "MESSAGE")); /* only what we handle */
		assert_non_null(strstr(buf, "REGISTER"));
		assert_non_null(strstr(buf, "INVITE"));
		assert_non_null(strstr(buf, "Accept: application/sdp"));
		return;
	}
	fail_msg("no 200 for %s", callid);
}

static void malformed_udp_and_tcp_leave_the_ua_alive(void **state)
{
	struct h *h = *state;
	size_t n_bad = sizeof(malformed) / sizeof(malformed[0]);
	char msg[1024];
	int fd;

	h->incoming_status = 488;
	fd = raw_socket(h, SOCK_DGRAM);
	static const char binary[] = "\x01\x02\xff\xfe garbage \x00\x00 more\r\n\r\n";

	for (size_t i = 0; i < n_bad; i++)
		raw_send(fd, malformed[i], strlen(malformed[i]));
	raw_send(fd, binary, sizeof(binary) - 1);
	raw_send(fd, "", 0);
	send_huge(fd);
	options_text(msg, sizeof(msg), "UDP", local_port(fd), "alive-udp");
	raw_send(fd, msg, strlen(msg));
	expect_options_200(fd, "alive-udp");
	close(fd);

	for (size_t i = 0; i < n_bad; i++) { /* one connection per message, then closed */
		fd = raw_socket(h, SOCK_STREAM);
		raw_send(fd, malformed[i], strlen(malformed[i]));
		close(fd);
	}
	fd = raw_socket(h, SOCK_STREAM);
	send_huge(fd);
	close(fd);
	fd = raw_socket(h, SOCK_STREAM);
	options_text(msg, sizeof(msg), "TCP", local_port(fd), "alive-tcp");
	raw_send(fd, msg, strlen(msg));
	expect_options_200(fd, "alive-tcp");
	close(fd);
	run_until(h, never, 300); /* whatever reached the loop is delivered, no crash */
	for (int i = 0; i < h->n_ev; i++)
		assert_true(h->ev[i].kind <= SIP_EV_OPTIONS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(options_is_answered_200, setup, teardown),
		cmocka_unit_test_setup_teardown(register_is_challenged_then_accepted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(register_with_wrong_password_stays_401, setup,
						teardown),
		cmocka_unit_test_setup_teardown(register_expires_zero_has_no_contact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(inbound_call_answered_then_caller_byes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(inbound_call_over_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(inbound_call_rejected_404, setup, teardown),
		cmocka_unit_test_setup_teardown(caller_cancels_before_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(reinvite_hold_is_answered_recvonly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(session_timer_asked_by_peer_is_honoured, setup,
						teardown),
		cmocka_unit_test_setup_teardown(we_hang_up_an_answered_inbound_call, setup,
						teardown),
		cmocka_unit_test_setup_teardown(we_hang_up_a_ringing_inbound_call_480, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			answered_call_without_ack_is_dropped_after_the_deadline, setup_ack_600,
			teardown),
		cmocka_unit_test_setup_teardown(we_send_a_reinvite_for_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(trunk_invite_is_challenged_407_then_answered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shutdown_ends_live_calls_with_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(outbound_answered_then_we_hang_up, setup, teardown),
		cmocka_unit_test_setup_teardown(outbound_busy_fails_486, setup, teardown),
		cmocka_unit_test_setup_teardown(outbound_cancelled_while_ringing, setup, teardown),
		cmocka_unit_test_setup_teardown(api_refuses_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_udp_and_tcp_leave_the_ua_alive, setup,
						teardown),
	};
	if (getenv("SB_TEST_FILTER")) /* e.g. SB_TEST_FILTER='outbound*' */
		cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
