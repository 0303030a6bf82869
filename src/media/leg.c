/*
 * leg.c — one RTP leg: a socket pair bound from the engine's port range,
 * the receive path with source validation, and the send primitive.
 *
 * DESIGN
 * - Sockets are created and bound with plain socket()/bind() while the
 *   range is searched (a failed bind then costs no uv handle), then watched
 *   with uv_poll_t. We do the I/O ourselves instead of using uv_udp_t:
 *   uv_udp reads until EAGAIN, i.e. two recvmsg calls for the usual one
 *   waiting packet; here a wake-up reads one datagram (RX_BATCH) and
 *   level-triggered epoll brings us back for the rest. At 100k packets/s
 *   that was a third of the loop's CPU (docs/MEDIA.md, benchmark). A batch
 *   of 8 per recvmmsg cost ~8 % more per packet than 1: a leg has one
 *   packet per 20 ms, and the kernel tried a second read every time, which
 *   found nothing (docs/PERFORMANCE.md "One read per wake-up"); and with
 *   one datagram, recvmsg costs ~8 % less per packet than recvmmsg.
 * - Every leg shares the engine's receive buffers; each datagram is handled
 *   completely inside the callback, so they are free again when it returns.
 *   No allocation per packet anywhere on this path, nor on the send path
 *   (sendto from the engine's transmit buffer; a full socket drops it).
 * - Only datagrams from the far end's address and port (from its SDP) are
 *   accepted (no latching): the RTP socket is connect()ed to the far end,
 *   so the kernel drops other sources (and caches the route, and demuxes
 *   early: cheaper both ways); what still arrives from elsewhere (before a
 *   remote is set) or is not RTP counts as rx_bad. Incoming RTCP is read
 *   and dropped; we send none yet (docs/MEDIA.md).
 * - Lifetime (CONVENTIONS.md §5, §8): mleg_free marks the leg closing,
 *   detaches it from conference, bridge, player and recorder, and closes
 *   both handles;
 *   the last close callback releases the port pair and frees the leg. A
 *   handler may therefore call mleg_free (on this leg or its peer) from
 *   inside a packet callback: memory stays valid until the loop's close
 *   phase, and the receive path checks `closing` after every callback.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the port pool ---- */
static int sock_bind(const struct media *m, int port)
{
	struct sockaddr_storage sa = m->bind_addr;
	socklen_t len = sizeof(struct sockaddr_in);
	int fd, err = 0;

	if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	}
	fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		err = errno == EACCES ? -EADDRINUSE : -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Binds RTP (even) and RTCP (odd) of one pair, or neither. */
static int pair_bind(const struct media *m, int port, int fd[2])
{
	fd[0] = sock_bind(m, port);
	if (fd[0] < 0)
		return fd[0];
	fd[1] = sock_bind(m, port + 1);
	if (fd[1] < 0) {
		close(fd[0]);
		return fd[1];
	}
	return 0;
}

/* Binds the next free pair into fd[0] (RTP) and fd[1] (RTCP). */
static int leg_ports_take(struct mleg *l, int fd[2])
{
	struct media *m = l->m;
	int err;

	if (m->nused >= m->npairs)
		return -EADDRINUSE;
	for (int i = 0; i < m->npairs; i++) {
		int idx = (m->cursor + i) % m->npairs;

		if (m->ports[idx])
			continue;
		err = pair_bind(m, m->cfg.port_min + 2 * idx, fd);
		if (err == -EADDRINUSE)
			continue; /* someone else's port */
		if (err)
			return err;
		m->ports[idx] = 1;
		m->nused++;
		m->cursor = (idx + 1) % m->npairs;
		l->pair = idx;
		l->port = m->cfg.port_min + 2 * idx;
		return 0;
	}
	return -EADDRINUSE;
}

/* ---- receive ---- */
static bool addr_same(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

static void leg_seq_track(struct mleg *l, uint16_t seq)
{
	uint16_t gap = (uint16_t)(seq - l->rx_seq - 1);

	if (l->rx_seen && gap > 0 && gap < 3000)
		l->st.rx_lost += gap;
	if (!l->rx_seen || (uint16_t)(seq - l->rx_seq) < 0x8000)
		l->rx_seq = seq; /* ignore late (reordered) packets */
	l->rx_seen = true;
}

/* Decodes one packet's payload for the listener. */
static void leg_audio_deliver(struct mleg *l, const struct rtp_hdr *h)
{
	int16_t pcm[MEDIA_PKT_MAX];
	int n = codec_decode(l, h->payload, h->payload_len, pcm, MEDIA_PKT_MAX);

	if (n > 0)
		l->audio_h(l, pcm, (size_t)n, l->audio_arg);
}

/* A transport's datagram: STUN and DTLS stay there; SRTP comes back as RTP. */
static int leg_xport_rx(struct mleg *l, uint8_t *p, size_t n, const struct sockaddr *from)
{
	int k = l->xp->rx(l->xp_arg, p, n, from);

	if (k < 0)
		l->st.rx_bad++;
	return k;
}

void mleg_rx(struct mleg *l, uint8_t *p, size_t n, const struct sockaddr *from)
{
	struct rtp_hdr h;

	if (l->xp) {
		int k = leg_xport_rx(l, p, n, from); /* unprotects in place */

		if (k <= 0 || l->closing)
			return;
		n = (size_t)k;
	}
	if (l->muted)
		return;
	if (!l->has_remote || (!l->xp && !addr_same(from, &l->remote)) || rtp_parse(p, n, &h)) {
		l->st.rx_bad++;
		return;
	}
	l->st.rx_packets++;
	l->st.rx_bytes += n;
	leg_seq_track(l, h.seq);
	if (h.pt == (uint8_t)l->pt && !codec_is_g711(l->codec))
		codec_opus_rx(l, &h);
	if (h.pt == (uint8_t)l->pt && codec_is_g711(l->codec)) {
		if (l->rec)
			rec_rx(l, &h);
		if (l->conf_jb) /* its conference mixes or records */
			jb_put(l->conf_jb, h.ts, l->codec, h.payload, h.payload_len);
		if (l->audio_h)
			leg_audio_deliver(l, &h);
	}
	bridge_rx(l, &h); /* may run the DTMF handler: l may be closing after */
}

/* Reads one datagram with recvmsg into the shared buffers (RX_BATCH is 1:
 * with one datagram, recvmmsg only adds its own per-call work). */
_Static_assert(RX_BATCH == 1, "leg_read reads one datagram per wake-up");
static int leg_read(struct mleg *l, int fd)
{
	struct media *m = l->m;
	ssize_t r;

	m->rxiov[0] = (struct iovec){m->rxbuf[0], sizeof(m->rxbuf[0])};
	m->rxmsg[0].msg_hdr = (struct msghdr){.msg_name = &m->rxaddr[0],
					      .msg_namelen = sizeof(m->rxaddr[0]),
					      .msg_iov = &m->rxiov[0],
					      .msg_iovlen = 1};
	r = recvmsg(fd, &m->rxmsg[0].msg_hdr, MSG_DONTWAIT);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNREFUSED) /* an ICMP error for a connected socket */
			log_debug("leg=%llu action=recv error %s", (unsigned long long)l->id,
				  strerror(errno));
		return 0;
	}
	m->rxmsg[0].msg_len = (unsigned)r;
	return 1;
}

/*
 * One wake-up reads one batch and returns: epoll is level-triggered, so
 * anything left is reported again on the next loop turn (a read budget
 * that keeps one busy leg from starving the rest and the clock), and the
 * common case of one waiting packet costs one system call, not two.
 */
static void leg_rtp_readable(uv_poll_t *p, int status, int events)
{
	struct mleg *l = p->data;
	struct media *m = l->m;
	int n;

	if (status < 0 || l->closing)
		return;
	n = leg_read(l, l->fd[0]);
	for (int i = 0; i < n && !l->closing; i++) {
		struct msghdr *mh = &m->rxmsg[i].msg_hdr;

		if (mh->msg_flags & MSG_TRUNC) {
			l->st.rx_bad++;
			continue;
		}
		mleg_rx(l, m->rxbuf[i], m->rxmsg[i].msg_len, (const struct sockaddr *)mh->msg_name);
	}
	media_clock_poll(m); /* may free legs: l is not used after */
}

/* Incoming RTCP is drained and ignored: nothing in it is acted upon yet. */
static void leg_rtcp_readable(uv_poll_t *p, int status, int events)
{
	struct mleg *l = p->data;

	if (status >= 0 && !l->closing)
		leg_read(l, l->fd[1]);
}

/* ---- send ---- */
int mleg_send(struct mleg *l, const struct rtp_hdr *h)
{
	struct media *m = l->m;
	int n;
	ssize_t w;

	if (l->closing || l->muted || !l->has_remote)
		return -ENOTCONN;
	n = rtp_build(m->txbuf, sizeof(m->txbuf), h);
	if (n < 0)
		return n;
	if (l->xp) { /* SRTP, to the address ICE chose */
		n = l->xp->tx(l->xp_arg, m->txbuf, (size_t)n, sizeof(m->txbuf));
		if (n < 0)
			return n;
		w = sendto(l->fd[0], m->txbuf, (size_t)n, MSG_DONTWAIT,
			   (const struct sockaddr *)&l->remote, l->remote_len);
	} else {
		w = send(l->fd[0], m->txbuf, (size_t)n, MSG_DONTWAIT); /* connected to remote */
	}
	if (w < 0)
		return -errno; /* -EAGAIN: socket full, dropped; -ECONNREFUSED: ICMP */
	l->st.tx_packets++;
	l->st.tx_bytes += (uint64_t)w;
	return 0;
}

/* ---- lifetime ---- */
static void leg_release(struct mleg *l)
{
	struct media *m = l->m;

	for (int i = 0; i < 2; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	if (l->pair >= 0) {
		m->ports[l->pair] = 0;
		m->nused--;
	}
	mlist_del(&l->le);
	codec_free(l);
	mem_deref(l);
	mem_deref(m);
}

static void leg_closed(uv_handle_t *h)
{
	struct mleg *l = h->data;

	if (--l->open_handles == 0)
		leg_release(l);
}

static void leg_handles_close(struct mleg *l)
{
	uv_close((uv_handle_t *)&l->rtp, leg_closed);
	if (l->open_handles == 2)
		uv_close((uv_handle_t *)&l->rtcp, leg_closed);
}

/* On error, open_handles says how many handles leg_handles_close must close. */
static int leg_handles_open(struct mleg *l)
{
	int err = uv_poll_init_socket(l->m->loop, &l->rtp, l->fd[0]);

	if (err)
		return err; /* e.g. -ENOSPC: epoll's max_user_watches */
	l->rtp.data = l;
	l->open_handles = 1;
	err = uv_poll_init_socket(l->m->loop, &l->rtcp, l->fd[1]);
	if (err)
		return err;
	l->rtcp.data = l;
	l->open_handles = 2;
	err = uv_poll_start(&l->rtp, UV_READABLE, leg_rtp_readable);
	return err ? err : uv_poll_start(&l->rtcp, UV_READABLE, leg_rtcp_readable);
}

/* Closes handed-over sockets a leg could not take. */
static int fds_refuse(const int fd[2], int err)
{
	for (int i = 0; fd && i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return err;
}

/* A leg on sockets bound here (fd NULL) or handed over (worker.c: the leg
 * owns them from here on, whatever happens). */
static int leg_new(struct mleg **lp, struct media *m, uint64_t id, const int fd[2], int port)
{
	struct mleg *l;
	int err;

	if (!lp || !m)
		return fds_refuse(fd, -EINVAL);
	if (m->closing)
		return fds_refuse(fd, -ESHUTDOWN);
	l = mem_zalloc(sizeof(*l), NULL);
	if (!l)
		return fds_refuse(fd, -ENOMEM);
	l->m = mem_ref(m), l->id = id, l->pair = -1, l->dtmf_pt = -1;
	l->fd[0] = l->fd[1] = -1;
	l->dtx.step = -1;
	mstream_init(&l->out);
	mlist_add(&m->legs, &l->le);
	if (fd) {
		l->fd[0] = fd[0], l->fd[1] = fd[1], l->port = port;
		err = 0;
	} else {
		err = leg_ports_take(l, l->fd);
	}
	if (!err)
		err = leg_handles_open(l);
	if (err) {
		log_warn("leg=%llu action=alloc failed: %s", (unsigned long long)id,
			 uv_strerror(err));
		l->closing = true;
		if (l->open_handles)
			leg_handles_close(l); /* frees l and the port in the close phase */
		else
			leg_release(l);
		return err;
	}
	m->nlegs++;
	m->legs_total++;
	log_debug("leg=%llu action=alloc port=%d", (unsigned long long)id, l->port);
	*lp = l;
	return 0;
}

int mleg_alloc(struct mleg **lp, struct media *m, uint64_t id)
{
	return leg_new(lp, m, id, NULL, 0);
}

int mleg_adopt(struct mleg **lp, struct media *m, uint64_t id, const int fd[2], int port)
{
	if (!fd || fd[0] < 0 || fd[1] < 0)
		return fds_refuse(fd, -EINVAL);
	return leg_new(lp, m, id, fd, port);
}

int media_port_take(struct media *m, int fd[2])
{
	struct mleg probe = {.m = m, .pair = -1};
	int err;

	if (!m || !fd)
		return -EINVAL;
	if (m->closing)
		return -ESHUTDOWN;
	err = leg_ports_take(&probe, fd);
	return err ? err : probe.port;
}

void media_port_put(struct media *m, int port)
{
	int idx;

	if (!m || port < m->cfg.port_min)
		return;
	idx = (port - m->cfg.port_min) / 2;
	if (idx >= m->npairs || !m->ports[idx])
		return;
	m->ports[idx] = 0;
	m->nused--;
}

void mleg_free(struct mleg *l)
{
	if (!l || l->closing)
		return;
	conf_leg_gone(l); /* first: the conference may re-pair its other legs */
	bridge_unpair(l);
	player_clear(l);
	rec_leg_gone(l);
	l->closing = true;
	l->m->nlegs--;
	l->m->gone.rx_packets += l->st.rx_packets;
	l->m->gone.tx_packets += l->st.tx_packets;
	l->m->gone.rx_bytes += l->st.rx_bytes;
	l->m->gone.tx_bytes += l->st.tx_bytes;
	l->m->gone.rx_lost += l->st.rx_lost;
	l->m->gone.rx_bad += l->st.rx_bad;
	l->m->gone.rx_undecodable += l->st.rx_undecodable;
	log_debug("leg=%llu action=free port=%d rx=%llu tx=%llu lost=%llu bad=%llu",
		  (unsigned long long)l->id, l->port, (unsigned long long)l->st.rx_packets,
		  (unsigned long long)l->st.tx_packets, (unsigned long long)l->st.rx_lost,
		  (unsigned long long)l->st.rx_bad);
	leg_handles_close(l);
}

/* ---- accessors ---- */
int mleg_port(const struct mleg *l)
{
	return l ? l->port : -EINVAL;
}

static int remote_parse(const char *addr, int port, struct sockaddr_storage *sa)
{
	if (!addr || port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (!uv_ip4_addr(addr, port, (struct sockaddr_in *)sa))
		return 0;
	if (!uv_ip6_addr(addr, port, (struct sockaddr_in6 *)sa))
		return 0;
	return -EINVAL;
}

int media_remote_check(const struct media *m, const char *addr, int port, enum media_codec codec,
		       int dtmf_pt)
{
	struct sockaddr_storage sa;

	if ((codec != MEDIA_PCMU && codec != MEDIA_PCMA) || dtmf_pt > 127 || dtmf_pt == (int)codec)
		return -EINVAL;
	if (remote_parse(addr, port, &sa))
		return -EINVAL;
	/* an IPv6 far end for our IPv4 sockets (or the reverse): connect() would fail */
	return m && sa.ss_family != m->bind_addr.ss_family ? -EAFNOSUPPORT : 0;
}

int mleg_set_remote(struct mleg *l, const char *addr, int port, enum media_codec codec, int dtmf_pt)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (!l || l->closing || l->xp || media_remote_check(NULL, addr, port, codec, dtmf_pt))
		return -EINVAL;
	remote_parse(addr, port, &sa);
	len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (connect(l->fd[0], (struct sockaddr *)&sa, len) < 0) {
		log_warn("leg=%llu action=remote %s:%d: %s", (unsigned long long)l->id, addr, port,
			 strerror(errno));
		return -errno;
	}
	if (!l->has_remote || memcmp(&sa, &l->remote, sizeof(sa)))
		l->rx_seen = false, l->rx_end_valid = false; /* a new far end */
	l->remote = sa;
	l->remote_len = len;
	codec_free(l);
	l->codec = codec;
	l->pt = (int)codec;
	l->dtmf_pt = dtmf_pt < 0 ? -1 : dtmf_pt;
	l->has_remote = true;
	log_info("leg=%llu action=remote %s:%d codec=%s dtmf_pt=%d", (unsigned long long)l->id,
		 addr, port, media_codec_name(codec), l->dtmf_pt);
	return 0;
}

/* ---- a transport under the leg (WebRTC) ---- */
int mleg_set_transport(struct mleg *l, const struct mleg_xport *x, void *arg)
{
	if (!l || l->closing || (x && x->version != MLEG_XPORT_VERSION) ||
	    (x && l->has_remote && !l->xp))
		return -EINVAL;
	l->xp = x;
	l->xp_arg = x ? arg : NULL;
	if (!x)
		l->has_remote = false;
	return 0;
}

int mleg_send_raw(struct mleg *l, const void *p, size_t n, const struct sockaddr *to)
{
	socklen_t len;

	if (!l || l->closing)
		return -ENOTCONN;
	if (!p || !to || (to->sa_family != AF_INET && to->sa_family != AF_INET6))
		return -EINVAL;
	len = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (sendto(l->fd[0], p, n, MSG_DONTWAIT, to, len) < 0)
		return -errno;
	l->st.tx_bytes += n;
	return 0;
}

static bool codec_pt_ok(enum media_codec codec, int pt, int dtmf_pt)
{
	if (codec != MEDIA_PCMU && codec != MEDIA_PCMA && codec != MEDIA_OPUS)
		return false;
	if (pt < 0 || pt > 127 || (codec != MEDIA_OPUS && pt != (int)codec))
		return false;
	return dtmf_pt <= 127 && dtmf_pt != pt;
}

int mleg_set_peer(struct mleg *l, const struct sockaddr *to, enum media_codec codec, int pt,
		  int dtmf_pt)
{
	int err;

	if (!l || l->closing || !l->xp || !to || !codec_pt_ok(codec, pt, dtmf_pt))
		return -EINVAL;
	if (to->sa_family != AF_INET && to->sa_family != AF_INET6)
		return -EINVAL;
	err = codec_set(l, codec);
	if (err)
		return err;
	l->remote_len = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	memset(&l->remote, 0, sizeof(l->remote));
	memcpy(&l->remote, to, l->remote_len);
	if (!l->has_remote || l->codec != codec)
		l->rx_seen = false, l->rx_end_valid = false;
	l->codec = codec;
	l->pt = pt;
	l->dtmf_pt = dtmf_pt < 0 ? -1 : dtmf_pt;
	l->has_remote = true;
	log_info("leg=%llu action=peer codec=%s pt=%d dtmf_pt=%d", (unsigned long long)l->id,
		 media_codec_name(codec), pt, l->dtmf_pt);
	conf_leg_codec(l);
	return 0;
}

void mleg_clear_peer(struct mleg *l)
{
	if (!l || !l->has_remote)
		return;
	l->has_remote = false;
	log_info("leg=%llu action=peer cleared", (unsigned long long)l->id);
}

enum media_codec mleg_codec(const struct mleg *l)
{
	return l ? l->codec : MEDIA_PCMU;
}

void mleg_set_dtmf_handler(struct mleg *l, mleg_dtmf_h *h, void *arg)
{
	if (!l)
		return;
	l->dtmf_h = h;
	l->dtmf_arg = arg;
}

void mleg_set_audio_handler(struct mleg *l, mleg_audio_h *h, void *arg)
{
	if (!l)
		return;
	l->audio_h = h;
	l->audio_arg = arg;
}

void mleg_stats(const struct mleg *l, struct media_stats *st)
{
	if (!st)
		return;
	if (l)
		*st = l->st;
	else
		memset(st, 0, sizeof(*st));
}

void mleg_mute(struct mleg *l, bool mute)
{
	if (!l || l->closing || l->muted == mute)
		return;
	l->muted = mute;
	l->out.marker_next = true;
	l->out.anchored = false;
	log_info("leg=%llu action=%s", (unsigned long long)l->id, mute ? "hold" : "resume");
}
