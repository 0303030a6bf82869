/*
 * fuzz_sip_rx.c — libFuzzer target for sofia's real receive path in the
 * server's configuration (issue 17): the SIP user agent of sip/ (its nua
 * tags, NTATAG_MAXSIZE and the fixes of sip_sofia_fix.c) runs on its own
 * thread on a loopback port, and every input goes to it over a socket:
 * whole datagrams over UDP, or a byte stream over a TCP connection (the
 * first byte chooses). Inbound calls are refused 404 and REGISTERs 403, as
 * the server does for strangers, so nothing piles up.
 *
 * Beyond "no crash" (ASan sees the SIP thread too): after each input the
 * UA must still answer an OPTIONS within 5 s, or the target aborts — the
 * SIP thread died, hung, or stopped reading. (5 s, not 2: sofia resolves a
 * Via's host name on its own thread before it answers, and on a loaded CI
 * machine a mutant's "Via: SIP/2.0/TCP d" once kept it past 2 s.)
 * Seeds: tests/fuzz/corpus/sip_rx/ (a byte 0/1 then a SIP message).
 */
#include "sip/sip.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uv_loop_t loop;
static struct sip_ua *ua;
static int port, probe_fd;
static unsigned long probe_seq;

static void on_event(const struct sip_event *ev, void *arg)
{
	if (ev->kind == SIP_EV_INCOMING)
		sip_leg_respond(ua, ev->leg, 404, "No such number", NULL);
	else if (ev->kind == SIP_EV_REGISTER)
		sip_register_reply(ua, ev->req, 403, "Forbidden", 0);
}

static struct sockaddr_in target(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int bound_udp(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		abort();
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sip_ua_cfg cfg = {.address = "127.0.0.1", .realm = "switchboard"};
	int fd = bound_udp();

	port = cfg.port = local_port(fd); /* a free port, released for sofia */
	close(fd);
	log_level_set(LOG_ERROR);
	uv_loop_init(&loop);
	if (sip_ua_alloc(&ua, &loop, &cfg, on_event, NULL))
		abort();
	probe_fd = bound_udp();
	return 0;
}

static void send_udp(const uint8_t *d, size_t n)
{
	struct sockaddr_in a = target();
	int fd = bound_udp();

	sendto(fd, d, n > 65000 ? 65000 : n, 0, (struct sockaddr *)&a, sizeof(a));
	close(fd);
}

/* Writes the stream and half-closes; the OPTIONS probe that follows is
 * what waits for sofia to have read it. */
static void send_tcp(const uint8_t *d, size_t n)
{
	struct sockaddr_in a = target();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		for (size_t off = 0; off < n;) {
			ssize_t w = send(fd, d + off, n - off, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		shutdown(fd, SHUT_WR);
	}
	close(fd);
}

/* An OPTIONS with a fresh branch; true once its 200 came back. */
static bool ua_answers(void)
{
	struct sockaddr_in a = target();
	char msg[512], buf[2048];
	int n;

	probe_seq++;
	n = snprintf(msg, sizeof(msg),
		     "OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK-probe%lu\r\n"
		     "Max-Forwards: 70\r\nTo: <sip:127.0.0.1:%d>\r\n"
		     "From: <sip:probe@127.0.0.1>;tag=p%lu\r\nCall-ID: probe%lu@fuzz\r\n"
		     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		     port, local_port(probe_fd), probe_seq, port, probe_seq, probe_seq);
	sendto(probe_fd, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a));
	for (int waited = 0; waited < 5000; waited += 2) {
		struct pollfd p = {.fd = probe_fd, .events = POLLIN};
		uv_run(&loop, UV_RUN_NOWAIT); /* deliver events: answer INVITEs, REGISTERs */
		if (poll(&p, 1, 2) <= 0)
			continue;
		ssize_t r = recv(probe_fd, buf, sizeof(buf) - 1, 0);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		char want[64];
		snprintf(want, sizeof(want), "branch=z9hG4bK-probe%lu", probe_seq);
		if (strstr(buf, want) && !strncmp(buf, "SIP/2.0 200", 11))
			return true; /* answers to earlier probes are skipped */
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		send_tcp(data + 1, size - 1);
	else
		send_udp(data + 1, size - 1);
	if (!ua_answers()) {
		fprintf(stderr, "fuzz_sip_rx: the SIP thread stopped answering OPTIONS\n");
		abort();
	}
	return 0;
}
