/*
 * media_bench.c — N bridged + recorded G.711 calls (or N conferences of K
 * legs) through src/media on one libuv loop, driven by a UDP sender thread
 * at 50 packets/s per stream.
 *
 * Build (release flags, from the repository root): make media-bench
 * Run:
 *   build/media_bench N [seconds=20] [record_dir=/tmp/media_bench] [transcode=0] [record=1] \
 *       [conf=0] [workers=0|W|raw] [nice=-10] [readback=1] [net=lo|tun]
 *
 * workers=W (W >= 1): the calls run on W media workers (src/media/worker.c)
 * the way the server runs them: each call a conference of its legs on the
 * worker with the fewest legs, recorded; CPU is then the workers' threads'
 * (their schedstat), not this loop's; nice: their nice value, as the
 * server's media.workers_nice (-10; needs root). readback=0: the generator
 * only sends and never reads what the server relays (the kernel drops it at
 * the far sockets), so the far ends take less of the machine's cores; the
 * server's own counters still say what it received and sent. E.g. 2,000
 * calls on 2 workers:
 *   build/media_bench 2000 20 /tmp/media_bench 0 1 2 2
 *
 * conf=0: N two-party calls through media_bridge / media_record_start.
 * conf=K (K >= 2): N conferences of K legs through media_conf_add (talk);
 * K = 2 is the relay fast path, K >= 3 mixes on the media clock; record=1
 * records each with media_conf_record_start (leg 0 the customer). It then
 * also prints the loop's CPU per participant (% of one core) and RSS per
 * conference. E.g. 100 three-party conferences, no recording, and the same
 * number of two-party bridges for comparison:
 *   build/media_bench 100 20 /tmp/media_bench 0 0 3
 *   build/media_bench 100 20 /tmp/media_bench 0 0 0
 *
 * What it does: allocates 2N legs (caller, agent) from 20000-29999, bridges
 * each pair and records it to <record_dir>/<i>.wav. The far ends are a few
 * sockets in a sender thread (each leg's SDP peer is one of them): every
 * 20 ms it sends one 160-byte PCMU packet to every leg (sendmmsg) and counts
 * what the bridges relay back (recvmmsg). After 2 s of warm-up it measures
 * for `seconds`: CPU of the media's threads (media_cpu_s), packets
 * sent to the server vs relayed back (lost = the difference, counted after
 * the sender stops and the pipes drain), the legs' own loss counters, and
 * RSS growth per call (VmRSS after warm-up minus VmRSS before the legs),
 * the media clock's late and catch-up ticks over the window; a last line,
 * SUMMARY, gives CPU and memory per call and whether the N calls were held
 * with zero loss in the server and zero late ticks (issue 16). workers=0
 * is the engine alone on this loop; workers=W the media workers.
 * transcode=1 makes the agent legs PCMA (PCMU<->PCMA transcoding); in a
 * conference, leg 1 of each.
 *
 * workers=raw: the floor to compare with, measured the same way at the same
 * moment. The same 2N sockets (one per leg, bound where the legs would be,
 * each connected to its far end) are read by one thread (sb-media-raw)
 * with plain epoll, one datagram per read, and every packet is sent on
 * unchanged from its call's other socket: no RTP parsing, no jitter buffer,
 * no recording, no clock. Its CPU per call is what the kernel and the
 * per-leg-socket design cost by themselves; the machine's speed changes by
 * ±25 % from hour to hour, so compare a Switchboard run with a raw run just
 * before or after it. E.g.
 *   build/media_bench 1000 10 /tmp/mb 0 1 2 raw -10 0 tun
 *   build/media_bench 1000 10 /tmp/mb 0 1 2 1 -10 0 tun
 */
#include "media/media.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define NFAR	    8
#define BATCH	    64
#define OFFERED_MIN 0.99 /* the share of the planned packets a run must offer to count */

struct bench {
	int n, seconds, transcode, record;
	int conf, k; /* conf: legs per conference (0 = media_bridge); k: legs per call */
	struct mconf **confs;
	uint64_t iter_max_ms, iter_last;
	uv_check_t chk;
	char dir[256];
	uv_loop_t loop;
	struct media *m;
	struct mleg **legs; /* k * n: leg j of call i is k * i + j (caller 0, agent 1) */
	int far_fd[NFAR], far_port[NFAR];
	int *leg_port;
	pthread_t tid;
	atomic_bool sending, stop;
	atomic_uint_fast64_t sent, received;
	uint64_t sent_mark, sent_window; /* the generator's count: at the window's start, in it */
	int recs_open;
	double cpu0, wall0, rss_base, rss_calls, wait0, sender_cpu, proc0;
	double t_start, run_s; /* since the legs were set up; for the tx rate */
	double user0, sys0;    /* the loop thread's user / kernel CPU (getrusage) */
	struct media_clock_stats
		clk0; /* the clock's counters when the window opened, then over it */
	uv_timer_t t;
	int phase;
	/* workers >= 1: the calls on media workers (media.h), as the server runs them */
	int workers;
	struct mw *mw;
	struct mwleg **wl;
	struct mwconf **wc;
	double wcpu0; /* the workers' threads' CPU seconds when the window opened */
	int nice;     /* the workers' nice value */
	int readback; /* 0: the generator does not read what comes back (a light far end) */
	/* workers=raw: the plain relay (raw_main) instead of src/media */
	bool raw;
	int *raw_fd, raw_ep;
	pthread_t raw_tid;
	uint64_t raw_rx, raw_tx;      /* the raw thread's; read after it is joined */
	atomic_int main_tid, gen_tid; /* this loop's thread, the generator's */
	struct in_addr server_addr;   /* where the server's legs are bound */
	bool tun; /* net=tun: the far ends are off loopback, behind a tun device */
	int tun_fd;
	char tun_name[IFNAMSIZ];
};

/*
 * The media's CPU seconds so far, from the threads' schedstat: every
 * thread but the generator's (chosen by thread id, not by name: libuv's
 * pool threads, which write the recordings, are named after whichever
 * thread started them, or libuv-worker in later libuv), and with workers
 * (or raw) not this loop's either: it is call control's, idle here.
 */
static double media_cpu_s(const struct bench *b)
{
	char path[300];
	unsigned long long run, sum = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");

	while (dir && (d = readdir(dir))) {
		int tid = atoi(d->d_name);
		FILE *f;

		if (tid <= 0 || tid == b->gen_tid || ((b->workers || b->raw) && tid == b->main_tid))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.200s/schedstat", d->d_name);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%llu", &run) == 1)
				sum += run;
			fclose(f);
		}
	}
	if (dir)
		closedir(dir);
	return sum / 1e9;
}

/* The workers' clocks, summed (as of their last push). */
static void workers_clock(struct bench *b, struct media_clock_stats *clk)
{
	memset(clk, 0, sizeof(*clk));
	for (int i = 0; i < b->workers; i++) {
		struct mw_worker_stats ws;

		mw_worker_stats(b->mw, i, &ws);
		clk->late += ws.clock.late, clk->late_frames += ws.clock.late_frames;
		clk->catchup += ws.clock.catchup;
	}
}

static void clock_now(struct bench *b, struct media_clock_stats *clk)
{
	if (b->workers)
		workers_clock(b, clk);
	else
		media_clock_stats(b->m, clk);
}

static double now_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This thread's user and system CPU seconds so far. */
static void thread_rusage(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Seconds this thread waited on a run queue (ready but not running). */
static double runq_wait_s(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f && fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	if (f)
		fclose(f);
	return wait / 1e9;
}

static double rss_kb(void)
{
	char line[256];
	double kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atof(line + 6);
	if (f)
		fclose(f);
	return kb;
}

/* ---- the far ends (sender thread) ---- */
/*
 * net=tun (root): on loopback every packet the server relays is also
 * received by the far end inside the server's send (the loopback device
 * runs the receiver's whole input path in the sender's softirq): ~25 % of
 * a worker's CPU in perf, which a server sending to a network card does
 * not pay. With net=tun the server's legs bind TUN_LOCAL on a tun device
 * and the far ends are addresses behind it (TUN_NET.f, sent from with
 * IP_TRANSPARENT), so what the server sends leaves through a network
 * device's transmit path (qdisc, driver) and is dropped there (nobody
 * reads the tun), as a card would put it on the wire. What the far ends
 * send still reaches the server over loopback. Nothing comes back to the
 * generator: readback is off.
 */
#define TUN_LOCAL "10.201.0.254"
#define TUN_NET	  "10.201.0."

static const char *far_addr(const struct bench *b, int f, char *buf, size_t n)
{
	if (!b->tun)
		return "127.0.0.1";
	snprintf(buf, n, TUN_NET "%d", 1 + f);
	return buf;
}

static void tun_up(struct bench *b)
{
	struct ifreq ifr = {.ifr_flags = IFF_TUN | IFF_NO_PI};
	struct sockaddr_in *sa = (struct sockaddr_in *)&ifr.ifr_addr;
	int s;

	b->tun_fd = open("/dev/net/tun", O_RDWR);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "sbmb%d", (int)(getpid() % 10000));
	if (b->tun_fd < 0 || ioctl(b->tun_fd, TUNSETIFF, &ifr)) {
		perror("net=tun needs root and /dev/net/tun");
		exit(2);
	}
	snprintf(b->tun_name, sizeof(b->tun_name), "%s", ifr.ifr_name);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	*sa = (struct sockaddr_in){.sin_family = AF_INET};
	inet_pton(AF_INET, TUN_LOCAL, &sa->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		perror("SIOCSIFADDR"), exit(2);
	inet_pton(AF_INET, "255.255.0.0", &sa->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		perror("SIOCSIFNETMASK"), exit(2);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			perror("SIOCSIFFLAGS"), exit(2);
	}
	close(s);
}

static int far_open(const struct bench *b, int f, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), sz = 4 << 20, one = 1;
	char a[32];

	inet_pton(AF_INET, far_addr(b, f, a, sizeof(a)), &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (b->tun && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)))
		perror("IP_TRANSPARENT"), exit(2);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void far_drain(struct bench *b)
{
	static uint8_t buf[BATCH][256];
	struct mmsghdr mh[BATCH];
	struct iovec iov[BATCH];

	for (int f = 0; f < NFAR; f++) {
		int got;

		do {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
				mh[i] = (struct mmsghdr){
					.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
			}
			got = recvmmsg(b->far_fd[f], mh, BATCH, MSG_DONTWAIT, NULL);
			if (got > 0)
				b->received += (uint64_t)got;
		} while (got == BATCH);
	}
}

/* One 20 ms round: a packet to every leg, in batches per far socket. */
static void far_send_round(struct bench *b, uint16_t seq, uint32_t ts)
{
	static uint8_t pkt[BATCH][172];
	static struct sockaddr_in to[BATCH];
	struct mmsghdr mh[BATCH];
	struct iovec iov[BATCH];
	int total = b->k * b->n;

	for (int base = 0; base < total; base += BATCH) {
		int k = total - base < BATCH ? total - base : BATCH;
		int f = (base / BATCH) % NFAR;

		for (int i = 0; i < k; i++) {
			int leg = base + i;
			struct rtp_hdr h = {.pt = leg % b->k == 1 && b->transcode ? 8 : 0,
					    .seq = seq,
					    .ts = ts,
					    .ssrc = 0x5000u + (unsigned)leg};
			uint8_t pl[160];

			for (int j = 0; j < 160; j++)
				pl[j] = (uint8_t)(0x20 +
						  ((j + leg) & 0x3f)); /* loud, not silence */
			h.payload = pl, h.payload_len = 160;
			rtp_build(pkt[i], sizeof(pkt[i]), &h);
			to[i] = (struct sockaddr_in){.sin_family = AF_INET,
						     .sin_port = htons((uint16_t)b->leg_port[leg]),
						     .sin_addr = b->server_addr};
			iov[i] = (struct iovec){pkt[i], 172};
			mh[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to[i],
							     .msg_namelen = sizeof(to[i]),
							     .msg_iov = &iov[i],
							     .msg_iovlen = 1}};
		}
		for (int done = 0; done < k;) {
			int r = sendmmsg(b->far_fd[f], mh + done, (unsigned)(k - done), 0);
			if (r <= 0)
				break;
			done += r;
		}
		b->sent += (uint64_t)k;
	}
}

static void *sender_main(void *arg)
{
	struct bench *b = arg;
	struct pollfd pf[NFAR];
	double next = now_s(CLOCK_MONOTONIC);
	uint16_t seq = 1;
	uint32_t ts = 0;

	b->gen_tid = gettid(); /* not counted as the media's */
	pthread_setname_np(pthread_self(), "mb-generator");

	for (int f = 0; f < NFAR; f++)
		pf[f] = (struct pollfd){.fd = b->far_fd[f], .events = POLLIN};
	while (!b->stop) {
		double wait = next - now_s(CLOCK_MONOTONIC);

		if (wait <= 0) {
			if (b->sending)
				far_send_round(b, seq++, ts += 160);
			next += 0.020;
			continue;
		}
		poll(pf, b->readback ? NFAR : 0, (int)(wait * 1000) + 1);
		if (b->readback)
			far_drain(b);
	}
	return NULL;
}

/* ---- workers=raw: the plain relay to compare with ---- */
static void *raw_main(void *arg)
{
	struct bench *b = arg;
	struct epoll_event ev[1024];
	uint8_t buf[2048];

	pthread_setname_np(pthread_self(), "sb-media-raw");
	if (b->nice)
		setpriority(PRIO_PROCESS, 0, b->nice); /* as the workers (root) */
	while (!b->stop) {
		int n = epoll_wait(b->raw_ep, ev, 1024, 100);

		for (int i = 0; i < n; i++) {
			int x = (int)ev[i].data.u32;
			ssize_t r = recv(b->raw_fd[x], buf, sizeof(buf), MSG_DONTWAIT);

			if (r <= 0)
				continue;
			b->raw_rx++;
			if (send(b->raw_fd[x ^ 1], buf, (size_t)r, MSG_DONTWAIT) == r)
				b->raw_tx++;
		}
	}
	return NULL;
}

/* 2N sockets where the legs would be, each connected to its far end. */
static void raw_setup(struct bench *b)
{
	b->raw_fd = calloc((size_t)(b->k * b->n), sizeof(int));
	b->raw_ep = epoll_create1(0);
	if (!b->raw_fd || b->raw_ep < 0)
		perror("workers=raw"), exit(2);
	for (int x = 0; x < b->k * b->n; x++) {
		int f = (x / BATCH) % NFAR, sz = 256 << 10;
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = b->server_addr}, to;
		socklen_t len = sizeof(sa);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)x};
		char a[32];

		b->raw_fd[x] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		setsockopt(b->raw_fd[x], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		to = (struct sockaddr_in){.sin_family = AF_INET,
					  .sin_port = htons((uint16_t)b->far_port[f])};
		inet_pton(AF_INET, far_addr(b, f, a, sizeof(a)), &to.sin_addr);
		if (b->raw_fd[x] < 0 || bind(b->raw_fd[x], (struct sockaddr *)&sa, sizeof(sa)) ||
		    connect(b->raw_fd[x], (struct sockaddr *)&to, sizeof(to)) ||
		    epoll_ctl(b->raw_ep, EPOLL_CTL_ADD, b->raw_fd[x], &ev))
			perror("workers=raw: a socket"), exit(2);
		getsockname(b->raw_fd[x], (struct sockaddr *)&sa, &len);
		b->leg_port[x] = ntohs(sa.sin_port);
	}
	if (pthread_create(&b->raw_tid, NULL, raw_main, b))
		fprintf(stderr, "workers=raw: no thread\n"), exit(2);
}

static void raw_end(struct bench *b)
{
	for (int x = 0; x < b->k * b->n; x++)
		close(b->raw_fd[x]);
	close(b->raw_ep);
	free(b->raw_fd);
	media_free(b->m);
	uv_close((uv_handle_t *)&b->t, NULL);
	uv_close((uv_handle_t *)&b->chk, NULL);
}

/* ---- the loop side ---- */
static void rec_done(int err, uint64_t frames, void *arg)
{
	struct bench *b = arg;

	if (err)
		fprintf(stderr, "recording failed: %d\n", err);
	b->recs_open--;
}

static void stats_sum(struct bench *b, struct media_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (b->raw) {
		sum->rx_packets = b->raw_rx, sum->tx_packets = b->raw_tx;
		return;
	}
	for (int i = 0; i < b->k * b->n; i++) {
		struct media_stats st;

		if (b->workers)
			mwleg_stats(b->wl[i], &st);
		else
			mleg_stats(b->legs[i], &st);
		sum->rx_packets += st.rx_packets, sum->tx_packets += st.tx_packets;
		sum->rx_lost += st.rx_lost, sum->rx_bad += st.rx_bad;
	}
}

static void bench_report(struct bench *b, double wall)
{
	/* the media's threads (media_cpu_s) over the window */
	double cpu = b->wcpu0;
	struct media_stats s;
	uint64_t sent = b->sent, recv = b->received;
	double offered;
	long long lost;

	stats_sum(b, &s);

	printf("calls=%d legs_per_call=%d workers=%d nice=%d mode=%s transcode=%d record=%d "
	       "seconds=%.1f "
	       "longest_loop_iteration=%llu ms\n",
	       b->n, b->k, b->workers, b->workers || b->raw ? b->nice : 0,
	       b->raw	     ? "raw relay (the floor: no RTP, no jitter buffer, no recording)"
	       : !b->conf    ? "media_bridge"
	       : b->conf < 3 ? "conference (relay fast path)"
			     : "conference (mixing)",
	       b->transcode, b->record, wall, (unsigned long long)b->iter_max_ms);
	printf("loop_cpu_per_participant=%.4f%% of one core (%d participants) "
	       "rss_per_call=%.1f KB\n",
	       100 * cpu / wall / (b->n * b->k), b->n * b->k, (b->rss_calls - b->rss_base) / b->n);
	printf("loop_user=%.1f%% loop_sys=%.1f%% (getrusage)\n", 100 * b->user0 / wall,
	       100 * b->sys0 / wall);
	printf("loop_cpu=%.1f%% (of one core) loop_runqueue_wait=%.2f s process_cpu=%.0f%% "
	       "(loop + generator + pool)\n",
	       100 * cpu / wall, b->wait0, 100 * b->proc0 / wall);
	/* sent -> server rx (kernel drops before us) -> server tx -> back (generator's drops) */
	if (!b->readback)
		printf("readback=0: the generator did not read what the server relayed "
		       "(relayed_back and lost_end_to_end below are not measured)\n");
	printf("packets sent=%llu server_rx=%llu server_tx=%llu relayed_back=%llu\n",
	       (unsigned long long)sent, (unsigned long long)s.rx_packets,
	       (unsigned long long)s.tx_packets, (unsigned long long)recv);
	if (b->conf >= 3) /* mixing: every leg gets 50 packets/s whatever it sends */
		printf("mixing: server_tx per leg = %.1f packets/s (50 expected); "
		       "not received by the server %lld\n",
		       s.tx_packets / b->run_s / (b->n * b->k), (long long)(sent - s.rx_packets));
	else
		printf("lost_end_to_end=%lld lost_in_server=%lld (not received %lld, not relayed "
		       "%lld) server_seq_gaps=%llu rx_bad=%llu\n",
		       (long long)(sent - recv), (long long)(sent - s.tx_packets),
		       (long long)(sent - s.rx_packets), (long long)(s.rx_packets - s.tx_packets),
		       (unsigned long long)s.rx_lost, (unsigned long long)s.rx_bad);
	printf("rss_base=%.0f KB rss_with_calls=%.0f KB per_call=%.1f KB\n", b->rss_base,
	       b->rss_calls, (b->rss_calls - b->rss_base) / b->n);
	printf("media clock over the window: late=%llu (frames skipped %llu) catchup_ticks=%llu\n",
	       (unsigned long long)b->clk0.late, (unsigned long long)b->clk0.late_frames,
	       (unsigned long long)b->clk0.catchup);
	/* the summary issue 16 asks for: per call (a bridged + recorded pair, or
	 * one conference) at the full rate, and whether this many were held
	 * cleanly. The generator shares the cores: when it falls behind, the
	 * server gets fewer packets than 50/s per leg, and a per-call figure
	 * not scaled back up would flatter the server. */
	offered = b->sent_window / (50.0 * wall * b->n * b->k);
	printf("offered_load=%.1f%% of 50 packets/s per leg in the window (the generator%s)\n",
	       100 * offered, offered < OFFERED_MIN ? " fell behind" : " kept up");
	lost = b->conf >= 3 ? (long long)(sent - s.rx_packets)
			    : (long long)(sent - s.tx_packets) + (long long)s.rx_lost;
	printf("SUMMARY%s calls=%d%s cpu_per_call=%.4f%% of one core (at 50 packets/s per leg) "
	       "memory_per_call=%.1f KiB server_lost=%lld late_ticks=%llu offered=%.0f%% -> %s\n",
	       b->raw ? " RAW-RELAY" : "", b->n, b->record && !b->raw ? " recorded" : "",
	       100 * cpu / wall / b->n / (offered > 0 ? offered : 1),
	       (b->rss_calls - b->rss_base) / b->n, lost, (unsigned long long)b->clk0.late,
	       100 * offered,
	       lost > 0 || b->clk0.late ? "NOT held cleanly"
	       : offered < OFFERED_MIN	? "NOT held: the generator could not offer the full load"
					: "held with zero loss and zero late ticks");
}

static void bench_workers_end(struct bench *b);

static void bench_phase(uv_timer_t *t)
{
	struct bench *b = t->data;

	switch (b->phase++) {
	case 0: /* warm-up over: start measuring */
		b->cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		thread_rusage(&b->user0, &b->sys0);
		b->wait0 = runq_wait_s();
		b->proc0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		b->wcpu0 = media_cpu_s(b);
		b->wall0 = now_s(CLOCK_MONOTONIC);
		b->sent_mark = b->sent;
		b->rss_calls = rss_kb();
		clock_now(b, &b->clk0);
		uv_timer_start(t, bench_phase, (uint64_t)b->seconds * 1000, 0);
		break;
	case 1: { /* window over: stop the sender, let the pipes drain */
		double cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - b->cpu0, user, sys;
		struct media_clock_stats clk;

		clock_now(b, &clk);
		b->wcpu0 = media_cpu_s(b) - b->wcpu0;
		b->clk0 = (struct media_clock_stats){clk.late - b->clk0.late,
						     clk.late_frames - b->clk0.late_frames,
						     clk.catchup - b->clk0.catchup};

		thread_rusage(&user, &sys);
		b->user0 = user - b->user0, b->sys0 = sys - b->sys0;
		double wall = now_s(CLOCK_MONOTONIC) - b->wall0;

		b->rss_calls = b->rss_calls > rss_kb() ? b->rss_calls : rss_kb();
		b->sent_window = b->sent - b->sent_mark;
		b->sending = false;
		b->cpu0 = cpu, b->wall0 = wall;
		b->wait0 = runq_wait_s() - b->wait0;
		b->proc0 = now_s(CLOCK_PROCESS_CPUTIME_ID) - b->proc0;
		/* the workers push their legs' counters every 500 ms */
		uv_timer_start(t, bench_phase, b->workers ? 1200 : 500, 0);
		break;
	}
	case 2:
		b->stop = true;
		pthread_join(b->tid, NULL);
		if (b->raw) /* its counters are read below */
			pthread_join(b->raw_tid, NULL);
		far_drain(b);
		b->run_s = now_s(CLOCK_MONOTONIC) - b->t_start;
		bench_report(b, b->wall0);
		if (b->workers) {
			bench_workers_end(b);
			break;
		}
		if (b->raw) {
			raw_end(b);
			break;
		}
		for (int i = 0; i < b->n; i++)
			if (b->conf)
				media_conf_record_stop(b->confs[i], rec_done, b);
			else
				media_record_stop(b->legs[2 * i], rec_done, b);
		for (int i = 0; i < b->k * b->n; i++)
			mleg_free(b->legs[i]);
		for (int i = 0; b->conf && i < b->n; i++)
			mem_deref(b->confs[i]);
		media_free(b->m);
		uv_close((uv_handle_t *)t, NULL);
		uv_close((uv_handle_t *)&b->chk, NULL);
		break;
	}
}

static void bench_workers_end(struct bench *b)
{
	for (int i = 0; b->record && i < b->n; i++)
		mwconf_record_stop(b->wc[i], rec_done, b);
	for (int i = 0; i < b->k * b->n; i++)
		mwleg_free(b->wl[i]);
	for (int i = 0; i < b->n; i++)
		mem_deref(b->wc[i]);
	mw_free(b->mw); /* joins the workers: the recordings' ends run here */
	media_free(b->m);
	uv_close((uv_handle_t *)&b->t, NULL);
	uv_close((uv_handle_t *)&b->chk, NULL);
}

/* Call i on the workers: k legs on one worker (the one with the fewest
 * legs, as call control places a call), a conference, its recording. */
static void workers_call_setup(struct bench *b, int i)
{
	int w = mw_place(b->mw);
	char path[512];

	for (int j = 0; j < b->k; j++) {
		int x = b->k * i + j, f = (x / BATCH) % NFAR;
		enum media_codec c = j == 1 && b->transcode ? MEDIA_PCMA : MEDIA_PCMU;
		char a[32];

		if (mwleg_alloc(&b->wl[x], b->mw, w, (uint64_t)x))
			abort();
		b->leg_port[x] = mwleg_port(b->wl[x]);
		mwleg_set_remote(b->wl[x], far_addr(b, f, a, sizeof(a)), b->far_port[f], c, 101);
	}
	if (mwconf_alloc(&b->wc[i], b->mw, w, (uint64_t)i))
		abort();
	for (int j = 0; j < b->k; j++)
		if (mwconf_join(b->wc[i], b->wl[b->k * i + j], MIXER_TALK, NULL))
			abort();
	snprintf(path, sizeof(path), "%s/w%d.wav", b->dir, i);
	if (b->record && !mwconf_record_start(b->wc[i], b->wl[b->k * i], path))
		b->recs_open++;
}

/* The longest loop iteration seen (a starved clock shows here first). */
static void iter_check(uv_check_t *c)
{
	struct bench *b = c->data;
	uint64_t now = uv_hrtime() / 1000000;

	if (b->iter_last && now - b->iter_last > b->iter_max_ms && b->phase == 1)
		b->iter_max_ms = now - b->iter_last;
	b->iter_last = now;
}

/* Conference i: legs k*i .. k*i+k-1, all talking; leg k*i the customer. */
static void conf_setup(struct bench *b, int i)
{
	struct mleg **l = b->legs + b->k * i;
	char path[512];

	if (media_conf_alloc(&b->confs[i], b->m, (uint64_t)i))
		abort();
	for (int j = 0; j < b->k; j++)
		if (media_conf_add(b->confs[i], l[j], MIXER_TALK, NULL))
			abort();
	snprintf(path, sizeof(path), "%s/conf%d.wav", b->dir, i);
	if (b->record && !media_conf_record_start(b->confs[i], l[0], path))
		b->recs_open++;
}

static void bench_setup(struct bench *b)
{
	struct media_cfg cfg = {.address = "127.0.0.1", .port_min = 20000, .port_max = 29999};
	char path[512];

	if (b->tun) {
		tun_up(b);
		snprintf(cfg.address, sizeof(cfg.address), "%s", TUN_LOCAL);
	}
	inet_pton(AF_INET, cfg.address, &b->server_addr);
	if (media_alloc(&b->m, &b->loop, &cfg))
		abort();
	for (int f = 0; f < NFAR; f++)
		b->far_fd[f] = far_open(b, f, &b->far_port[f]);
	b->legs = calloc((size_t)(b->k * b->n), sizeof(*b->legs));
	b->leg_port = calloc((size_t)(b->k * b->n), sizeof(int));
	b->confs = calloc((size_t)b->n, sizeof(*b->confs));
	if (b->raw) {
		b->rss_base = rss_kb();
		raw_setup(b);
		b->t_start = now_s(CLOCK_MONOTONIC);
		return;
	}
	if (b->workers) {
		cfg.worker_nice = b->nice;
		if (mw_alloc(&b->mw, &b->loop, b->m, &cfg, b->workers))
			abort();
		b->wl = calloc((size_t)(b->k * b->n), sizeof(*b->wl));
		b->wc = calloc((size_t)b->n, sizeof(*b->wc));
		mkdir(b->dir, 0755);
		b->rss_base = rss_kb();
		for (int i = 0; i < b->n; i++)
			workers_call_setup(b, i);
		b->t_start = now_s(CLOCK_MONOTONIC);
		return;
	}
	b->rss_base = rss_kb();
	for (int i = 0; i < b->k * b->n; i++) {
		int f = (i / BATCH) % NFAR; /* the far socket that sends to this leg */
		enum media_codec c = i % b->k == 1 && b->transcode ? MEDIA_PCMA : MEDIA_PCMU;
		char a[32];

		if (mleg_alloc(&b->legs[i], b->m, (uint64_t)i))
			abort();
		b->leg_port[i] = mleg_port(b->legs[i]);
		mleg_set_remote(b->legs[i], far_addr(b, f, a, sizeof(a)), b->far_port[f], c, 101);
	}
	mkdir(b->dir, 0755);
	for (int i = 0; i < b->n && !b->conf; i++) {
		media_bridge(b->legs[2 * i], b->legs[2 * i + 1]);
		snprintf(path, sizeof(path), "%s/%d.wav", b->dir, i);
		if (b->record && !media_record_start(b->legs[2 * i], b->legs[2 * i + 1], path))
			b->recs_open++;
	}
	for (int i = 0; i < b->n && b->conf; i++)
		conf_setup(b, i);
	b->t_start = now_s(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	static struct bench b;

	b.n = argc > 1 ? atoi(argv[1]) : 200;
	b.seconds = argc > 2 ? atoi(argv[2]) : 20;
	snprintf(b.dir, sizeof(b.dir), "%s", argc > 3 ? argv[3] : "/tmp/media_bench");
	b.transcode = argc > 4 ? atoi(argv[4]) : 0;
	b.record = argc > 5 ? atoi(argv[5]) : 1;
	b.conf = argc > 6 ? atoi(argv[6]) : 0;
	b.raw = argc > 7 && !strcmp(argv[7], "raw");
	b.workers = argc > 7 && !b.raw ? atoi(argv[7]) : 0;
	b.nice = argc > 8 ? atoi(argv[8]) : -10; /* the server's default (media.workers_nice) */
	b.readback = argc > 9 ? atoi(argv[9]) : 1;
	b.tun = argc > 10 && !strcmp(argv[10], "tun");
	if (b.tun)
		b.readback = 0; /* the relayed packets end at the tun device */
	if ((b.workers || b.raw) && !b.conf)
		b.conf = 2; /* on workers a call is a conference, as in the server */
	b.k = b.conf ? b.conf : 2;
	if (b.n < 1 || b.k < 2 || b.k > MIXER_MAX || b.workers < 0 || b.workers > MW_MAX ||
	    (b.raw && b.k != 2)) {
		fprintf(stderr,
			"usage: %s N [seconds] [record_dir] [transcode] [record] "
			"[conf=0|2..%d] [workers=0|1..%d|raw] [nice=-10] [readback=1] "
			"[net=lo|tun]\n",
			argv[0], MIXER_MAX, MW_MAX);
		return 2;
	}
	log_level_set(LOG_WARN);
	b.main_tid = gettid();
	uv_loop_init(&b.loop);
	bench_setup(&b);
	b.sending = true;
	pthread_create(&b.tid, NULL, sender_main, &b);
	uv_timer_init(&b.loop, &b.t);
	b.t.data = &b;
	uv_timer_start(&b.t, bench_phase, 2000, 0);
	uv_check_init(&b.loop, &b.chk);
	b.chk.data = &b;
	uv_check_start(&b.chk, iter_check);
	uv_unref((uv_handle_t *)&b.chk);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	printf("recordings still open at exit: %d\n", b.recs_open);
	uv_loop_close(&b.loop);
	return 0;
}
