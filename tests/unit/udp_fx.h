/*
 * udp_fx.h — a far end's socket for the media suites: UDP, non-blocking,
 * bound to 127.0.0.1 on a port the kernel picks. Include after cmocka.h.
 */
#ifndef SB_TEST_UDP_FX_H
#define SB_TEST_UDP_FX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* The socket; its port in *port. */
static inline int udpfx_open(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

#endif
