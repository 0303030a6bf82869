/*
 * rtcp.c — RTCP on a WebRTC leg (RFC 3550 §6, over rtcp-mux and SRTCP):
 * reception statistics of the browser's stream, the reports we send, the
 * parser of the browser's, and what they say of the call's quality.
 *
 * DESIGN
 * - Per packet (rtcp_rx_rtp, rtcp_tx_rtp) only a few integer operations:
 *   the extended highest sequence number (RFC 3550 A.1, without the
 *   probation of a new source: a browser's SSRC is fixed for the call) and
 *   the interarrival jitter (A.8, the integer form scaled by 16) from one
 *   monotonic clock read (a transit jump of over a second, a timestamp
 *   discontinuity, is left out). A packet of another SSRC than the first one seen
 *   is not counted (a browser sends one audio SSRC a leg).
 * - The first report 1 s after connecting, one soon (100 ms) after the
 *   browser's first SR (so it has an RTT within a second of sending it),
 *   then every cfg.rtcp_ms (5 s, ±25 % so legs do not send in step), from the
 *   leg's one timer: an SR if we sent RTP since the last report, else an
 *   RR, with one report block for the browser's stream once it sent, and
 *   an SDES CNAME (RFC 3550 §6.1: a compound packet carries one); then
 *   SRTCP protect (srtp.c) and out to the nominated address.
 * - The browser's SR: its NTP middle 32 bits and when it came (our LSR and
 *   DLSR for it, so it can compute its round-trip time). Its report block
 *   about our SSRC: fraction and cumulative lost, jitter, and our RTT =
 *   A - LSR - DLSR (RFC 3550 §6.4.1) in 1/65536 s units, A our wall clock
 *   now, LSR our own SR's time echoed.
 * - rtcp_parse is bounded: each packet's length must fit the compound, the
 *   version be 2, an SR/RR's count fit its length; a malformed compound is
 *   dropped whole and counted (rtcp_bad). Other packet types (SDES, BYE,
 *   feedback) are skipped by their length.
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <string.h>
#include <time.h>

/* ---- the parser ---- */
static void block_read(const uint8_t *p, struct rtcp_block *b)
{
	int32_t lost = (int32_t)(rd32(p + 4) & 0xffffff);

	b->ssrc = rd32(p);
	b->fraction = p[4];
	b->lost = lost & 0x800000 ? lost - 0x1000000 : lost; /* 24-bit signed */
	b->hiseq = rd32(p + 8);
	b->jitter = rd32(p + 12);
	b->lsr = rd32(p + 16);
	b->dlsr = rd32(p + 20);
}

/* One SR or RR (its count checked against its length). */
static int report_read(const uint8_t *p, size_t len, struct rtcp_info *out)
{
	bool sr = p[1] == 200;
	size_t rc = p[0] & 31, off = sr ? 28 : 8;

	if (len < off + 24 * rc)
		return -EBADMSG;
	if (sr) {
		out->has_sr = true;
		out->sr_ssrc = rd32(p + 4);
		out->sr_ntp = (uint64_t)rd32(p + 8) << 32 | rd32(p + 12);
		out->sr_rtp = rd32(p + 16);
		out->sr_packets = rd32(p + 20);
		out->sr_octets = rd32(p + 24);
	}
	for (size_t i = 0; i < rc; i++, off += 24)
		if (out->nblocks < RTCP_BLOCKS_MAX)
			block_read(p + off, &out->blocks[out->nblocks++]);
	return 0;
}

int rtcp_parse(const uint8_t *p, size_t n, struct rtcp_info *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	if (n < 4 || n > STUN_MAX)
		return -EBADMSG;
	while (off < n) {
		size_t len;

		if (n - off < 4 || (p[off] >> 6) != 2)
			return -EBADMSG;
		len = 4 * ((size_t)rd16(p + off + 2) + 1);
		if (len > n - off)
			return -EBADMSG;
		if ((p[off + 1] == 200 || p[off + 1] == 201) && report_read(p + off, len, out))
			return -EBADMSG;
		out->npackets++;
		off += len;
	}
	return 0;
}

/* ---- clocks ---- */
static uint64_t mono_us(void)
{
	return uv_hrtime() / 1000;
}

/* Our wall clock as NTP (RFC 3550 §4: seconds since 1900, 32.32). */
static uint64_t ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + 2208988800u) << 32 |
	       (uint64_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u);
}

static uint32_t ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* ---- per packet ---- */
void rtcp_rx_rtp(struct rtcp_state *r, const uint8_t *p, size_t n)
{
	uint32_t ssrc, ts, arrival, transit, ad;
	uint16_t seq, udelta;
	int32_t d;

	if (n < 12)
		return;
	ssrc = rd32(p + 8), seq = rd16(p + 2), ts = rd32(p + 4);
	arrival = (uint32_t)(mono_us() * r->clock / 1000000);
	if (!r->rx_seen) {
		r->rx_seen = true;
		r->rx_ssrc = ssrc, r->base_seq = seq, r->max_seq = seq;
		r->transit = arrival - ts;
	} else if (ssrc != r->rx_ssrc) {
		return;
	}
	udelta = (uint16_t)(seq - r->max_seq);
	if (udelta && udelta < 3000) { /* in order, maybe with a gap */
		if (seq < r->max_seq)
			r->cycles += 65536;
		r->max_seq = seq;
	}
	r->received++;
	transit = arrival - ts; /* modulo 2^32, as the timestamps */
	d = (int32_t)(transit - r->transit);
	r->transit = transit;
	ad = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
	if (ad <= r->clock) /* a timestamp jump of over 1 s is no jitter */
		r->jitter += ad - ((r->jitter + 8) >> 4);
}

void rtcp_tx_rtp(struct rtcp_state *r, const uint8_t *p, size_t n)
{
	if (n < 12)
		return;
	r->tx_ssrc = rd32(p + 8);
	r->tx_ts = rd32(p + 4);
	r->tx_at_us = mono_us();
	r->tx_packets++;
	r->tx_octets += n - 12 - 4 * (size_t)(p[0] & 15);
	r->tx_since = true;
}

/* ---- our report ---- */
static uint32_t rx_expected(const struct rtcp_state *r)
{
	return r->cycles + r->max_seq - r->base_seq + 1;
}

/* Our report block about the browser's stream (RFC 3550 A.3). */
static void block_write(struct rtcp_state *r, uint8_t *p)
{
	uint32_t expected = rx_expected(r), received = (uint32_t)r->received;
	uint32_t exp_int = expected - r->expected_prior, rec_int = received - r->received_prior;
	int64_t lost = (int64_t)expected - received, lost_int = (int64_t)exp_int - rec_int;
	uint8_t fraction = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
	uint32_t dlsr = 0;

	r->expected_prior = expected, r->received_prior = received;
	lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost;
	if (r->lsr) /* 1/65536 s since its SR came */
		dlsr = (uint32_t)((mono_us() - r->lsr_at_us) * 65536 / 1000000);
	wr32(p, r->rx_ssrc);
	wr32(p + 4, (uint32_t)fraction << 24 | ((uint32_t)lost & 0xffffff));
	wr32(p + 8, r->cycles + r->max_seq);
	wr32(p + 12, r->jitter >> 4);
	wr32(p + 16, r->lsr);
	wr32(p + 20, dlsr);
	r->my_lost = (int32_t)lost, r->my_fraction = fraction;
}

int rtcp_build(struct rtcp_state *r, uint8_t *p, size_t cap)
{
	bool sr = r->tx_since;
	uint32_t ssrc = r->tx_ssrc ? r->tx_ssrc : r->own_ssrc;
	size_t off = sr ? 28 : 8, rc = r->rx_seen ? 1 : 0, cn = strlen(r->cname), sdes;

	sdes = 4 + 4 + ((2 + cn + 1 + 3) & ~(size_t)3); /* header, SSRC, CNAME, END, pad */
	if (cap < off + 24 * rc + sdes || cn > 255)
		return -ENOSPC;
	p[0] = (uint8_t)(0x80 | rc), p[1] = sr ? 200 : 201;
	wr16(p + 2, (uint16_t)((off + 24 * rc) / 4 - 1));
	wr32(p + 4, ssrc);
	if (sr) {
		uint64_t ntp = ntp_now(), now = mono_us();
		uint32_t ts = r->tx_ts + (uint32_t)((now - r->tx_at_us) * r->clock / 1000000);

		wr32(p + 8, (uint32_t)(ntp >> 32));
		wr32(p + 12, (uint32_t)ntp);
		wr32(p + 16, ts);
		wr32(p + 20, (uint32_t)r->tx_packets);
		wr32(p + 24, (uint32_t)r->tx_octets);
		r->tx_since = false;
	}
	if (rc)
		block_write(r, p + off);
	off += 24 * rc;
	memset(p + off, 0, sdes);
	p[off] = 0x81, p[off + 1] = 202;
	wr16(p + off + 2, (uint16_t)(sdes / 4 - 1));
	wr32(p + off + 4, ssrc);
	p[off + 8] = 1, p[off + 9] = (uint8_t)cn; /* CNAME */
	memcpy(p + off + 10, r->cname, cn);
	r->sent++;
	return (int)(off + sdes);
}

/* ---- the browser's report ---- */
bool rtcp_rx_report(struct rtcp_state *r, const struct rtcp_info *in)
{
	uint32_t ssrc = r->tx_ssrc ? r->tx_ssrc : r->own_ssrc;
	bool first = false;

	r->received_reports++;
	if (in->has_sr && (!r->rx_seen || in->sr_ssrc == r->rx_ssrc)) {
		first = !r->lsr;
		r->lsr = ntp_mid(in->sr_ntp);
		r->lsr_at_us = mono_us();
	}
	for (size_t i = 0; i < in->nblocks; i++) {
		const struct rtcp_block *b = &in->blocks[i];

		if (b->ssrc != ssrc)
			continue;
		r->has_peer_view = true;
		r->peer_fraction = b->fraction, r->peer_lost = b->lost;
		r->peer_jitter = b->jitter;
		if (b->lsr) { /* it has our SR: RTT = A - LSR - DLSR */
			uint32_t rtt = ntp_mid(ntp_now()) - b->lsr - b->dlsr;

			if (rtt < 65536 * 60) /* a negative one (clock) is no RTT */
				r->rtt_ms = (int32_t)((uint64_t)rtt * 1000 / 65536);
		}
	}
	return first;
}

void rtcp_quality(const struct rtcp_state *r, struct webrtc_quality *q)
{
	uint32_t expected = r->rx_seen ? rx_expected(r) : 0;
	int64_t lost = (int64_t)expected - (int64_t)r->received;

	memset(q, 0, sizeof(*q));
	q->clock = r->clock;
	q->rx_packets = r->received;
	q->rx_lost = lost;
	q->rx_fraction = r->my_fraction / 256.0;
	q->rx_jitter_ms = r->clock ? (r->jitter >> 4) * 1000.0 / r->clock : 0;
	q->tx_packets = r->tx_packets;
	q->tx_octets = r->tx_octets;
	q->reports_sent = r->sent;
	q->reports_received = r->received_reports;
	q->has_remote = r->has_peer_view;
	q->remote_fraction = r->peer_fraction / 256.0;
	q->remote_lost = r->peer_lost;
	q->remote_jitter_ms = r->clock ? r->peer_jitter * 1000.0 / r->clock : 0;
	q->rtt_ms = r->rtt_ms;
}
