/*
 * bridge.c — our outgoing RTP streams and two-party bridges: pass-through
 * relay for equal codecs, PCMU<->PCMA transcoding otherwise, and RFC 4733
 * events (forwarded to the peer, reported once per digit to the handler).
 *
 * DESIGN
 * - Each leg has one outgoing stream (struct mstream) with our own SSRC,
 *   sequence number and timestamp; playback, DTMF and relayed packets all go
 *   out on it, so the far end sees one continuous stream whatever we switch.
 * - Relay re-stamps: when relaying starts (or the incoming SSRC changes, or
 *   its seq/ts jumps), the offsets out = in + off are anchored so the next
 *   relayed packet continues exactly where our stream stands, with M set.
 *   After that, incoming gaps and reordering are preserved as they are.
 *   Nothing else is rewritten: the payload is copied as is (or transcoded
 *   byte by byte through a table); CSRCs, extensions and padding are dropped.
 * - While the receiving leg plays or sends DTMF, bridged audio towards it is
 *   dropped (the playback replaces it).
 * - RFC 4733: events go to the peer re-stamped with the peer's telephone-event
 *   payload type (dropped when the peer has none: no in-band generation yet).
 *   A digit is reported on its first end packet; the two retransmitted end
 *   packets (same event timestamp) are recognised and ignored. The handler
 *   runs last, so it may free either leg.
 * - A conference (conf.c) pairs its two legs here too while it relays; such
 *   a pair belongs to the conference: media_bridge refuses its legs and
 *   media_unbridge leaves them alone.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

static _Thread_local uint64_t rng_state; /* per engine thread (media workers) */

static uint32_t rng_u32(void)
{
	uint64_t x = rng_state;

	if (!x)
		x = uv_hrtime() ^ 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&rng_state;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	rng_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

void mstream_init(struct mstream *s)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = rng_u32();
	s->seq = (uint16_t)rng_u32();
	s->ts = rng_u32();
	s->marker_next = true;
}

/* Stamps a packet we generate (playback): `samples` long. */
void mstream_stamp_own(struct mstream *s, struct rtp_hdr *h, uint32_t samples)
{
	h->ssrc = s->ssrc;
	h->seq = s->seq++;
	h->ts = s->ts;
	h->marker = s->marker_next;
	s->ts += samples;
	s->marker_next = false;
	s->anchored = false; /* relay re-anchors after our own packets */
}

static bool mstream_jumped(const struct mstream *s, const struct rtp_hdr *in)
{
	int16_t dseq = (int16_t)(uint16_t)(in->seq + s->seq_off - s->seq);
	int32_t dts = (int32_t)(in->ts + s->ts_off - s->ts);

	return dseq > 100 || dseq < -100 || dts > 60 * MEDIA_RATE || dts < -MEDIA_RATE;
}

/* Rewrites h's seq/ts/ssrc from the incoming stream's onto ours. */
static void mstream_stamp_relay(struct mstream *s, struct rtp_hdr *h, uint32_t samples)
{
	bool anchor = !s->anchored || h->ssrc != s->in_ssrc || mstream_jumped(s, h);

	if (anchor) {
		s->seq_off = (uint16_t)(s->seq - h->seq);
		s->ts_off = s->ts - h->ts;
		s->in_ssrc = h->ssrc;
		s->anchored = true;
		s->marker_next = true;
	}
	h->seq = (uint16_t)(h->seq + s->seq_off);
	h->ts += s->ts_off;
	h->ssrc = s->ssrc;
	h->marker = h->marker || s->marker_next;
	s->marker_next = false;
	if ((int16_t)(uint16_t)(h->seq + 1 - s->seq) > 0)
		s->seq = (uint16_t)(h->seq + 1);
	if ((int32_t)(h->ts + samples - s->ts) > 0)
		s->ts = h->ts + samples;
}

/* True when b takes relayed (or mixed) packets now (not playing its own audio). */
bool mleg_takes_audio(const struct mleg *b)
{
	return b && !b->closing && !b->muted && b->has_remote && !b->play.active &&
	       b->dtx.step < 0 && !b->dtx.count;
}

static void bridge_audio(struct mleg *a, struct mleg *b, const struct rtp_hdr *in)
{
	struct rtp_hdr out = *in;
	uint8_t *pl = b->m->txbuf + MEDIA_HDR_LEN;

	if (!mleg_takes_audio(b) || in->payload_len > MEDIA_PKT_MAX - MEDIA_HDR_LEN ||
	    !codec_is_g711(a->codec) || !codec_is_g711(b->codec))
		return; /* Opus legs are mixed (conf.c), never relayed */
	g711_transcode_buf(a->codec, b->codec, in->payload, pl, in->payload_len);
	out.payload = pl;
	out.pt = (uint8_t)b->codec;
	mstream_stamp_relay(&b->out, &out, (uint32_t)in->payload_len);
	mleg_send(b, &out);
}

static void bridge_event(struct mleg *b, const struct rtp_hdr *in)
{
	struct rtp_hdr out = *in;

	if (!mleg_takes_audio(b) || b->dtmf_pt < 0 || in->payload_len > 64)
		return;
	out.pt = (uint8_t)b->dtmf_pt;
	mstream_stamp_relay(&b->out, &out, 0);
	mleg_send(b, &out);
}

static void dtmf_rx(struct mleg *l, const struct rtp_hdr *h)
{
	char digit;
	bool end;

	if (rtp_dtmf_parse(h->payload, h->payload_len, &digit, &end, NULL))
		return;
	if (l->peer)
		bridge_event(l->peer, h);
	if (!end || (l->rx_end_valid && l->rx_end_ts == h->ts))
		return; /* not the end, or a retransmitted end */
	l->rx_end_valid = true;
	l->rx_end_ts = h->ts;
	log_info("leg=%llu action=dtmf digit=%c", (unsigned long long)l->id, digit);
	if (l->dtmf_h)
		l->dtmf_h(l, digit, l->dtmf_arg); /* last: it may free l or its peer */
}

void bridge_rx(struct mleg *l, const struct rtp_hdr *h)
{
	if (h->pt == (uint8_t)l->pt) {
		if (l->peer)
			bridge_audio(l, l->peer, h);
	} else if (l->dtmf_pt >= 0 && h->pt == (uint8_t)l->dtmf_pt) {
		dtmf_rx(l, h);
	}
	/* anything else (comfort noise, other codecs) is ignored */
}

void bridge_pair(struct mleg *a, struct mleg *b)
{
	bridge_unpair(a);
	bridge_unpair(b);
	a->peer = b, b->peer = a;
	a->out.anchored = b->out.anchored = false; /* the next relayed packet anchors, M set */
	log_info("leg=%llu action=bridge peer=%llu mode=%s", (unsigned long long)a->id,
		 (unsigned long long)b->id, a->codec == b->codec ? "relay" : "transcode");
}

void bridge_unpair(struct mleg *a)
{
	if (!a->peer)
		return;
	log_info("leg=%llu action=unbridge peer=%llu", (unsigned long long)a->id,
		 (unsigned long long)a->peer->id);
	a->peer->peer = NULL;
	a->peer = NULL;
}

int media_bridge(struct mleg *a, struct mleg *b)
{
	if (!a || !b || a == b || a->closing || b->closing || a->m != b->m)
		return -EINVAL;
	if (a->conf || b->conf)
		return -EBUSY; /* the conference connects its legs */
	bridge_pair(a, b);
	return 0;
}

void media_unbridge(struct mleg *a)
{
	if (a && !a->conf)
		bridge_unpair(a);
}
