/*
 * codec.c — a leg's codec: G.711 (stateless, the fast paths elsewhere) or
 * Opus (a WebRTC leg), seen by the rest of the engine as "decode one
 * packet to 8 kHz samples" and "encode one 20 ms frame".
 *
 * DESIGN
 * - The mixer, the recorder and the bot work on 8 kHz linear PCM. Opus
 *   runs at 48 kHz on the wire (its RTP clock is always 48,000/s), and
 *   libopus converts itself: a decoder created at 8 kHz decodes straight
 *   to 8 kHz (it skips the 48 kHz synthesis and the decimation, the
 *   cheapest way there), and an encoder created at 8 kHz takes the
 *   mixer's frames as they are (narrowband: all the bandwidth the mixer
 *   has). A speexdsp resampler between libopus at 48 kHz and the mixer
 *   would cost a conversion each way for the same audio (docs/WEBRTC.md).
 * - The encoder is CELT only (OPUS_APPLICATION_RESTRICTED_LOWDELAY),
 *   complexity 0, 32 kbit/s VBR: the encoder is most of an Opus leg's CPU,
 *   and libopus's SILK (the VOIP application) costs ~30 us a 20 ms frame
 *   at 8 kHz against ~11 us for CELT, which at 32 kbit/s for 4 kHz of
 *   audio also keeps the waveform closer to the mixer's (measured:
 *   docs/WEBRTC.md "Opus"). Any Opus decoder plays it (a browser's too).
 *   media_cfg.opus_silk makes the encoder a browser's instead (SILK,
 *   VOIP, 24 kbit/s: the bench's far ends send what a browser sends).
 * - Digital silence is not encoded again: once an all-zero frame has
 *   encoded to the same packet as the all-zero frame before it, the
 *   encoder sits at its silent fixed point (CELT's 3-byte silence packet)
 *   and further all-zero frames reuse that packet without calling libopus:
 *   the packet it would have made again. The first non-zero frame goes to
 *   the encoder as before; only its bit-rate bookkeeping has not moved on
 *   (the speech after a silence decodes as well, docs/WEBRTC.md). SILK's
 *   silence never repeats a packet, so a SILK encoder is always called.
 * - State per Opus leg: one encoder and one decoder (~30 KB together),
 *   made when the leg's codec becomes Opus (mleg_set_peer), freed with the
 *   leg. G.711 legs have none and keep their table-driven paths (jbuf.c
 *   decodes G.711 straight into the ring; bridge.c relays bytes).
 * - Timestamps: the jitter buffers and the outgoing stream count 8 kHz
 *   samples for G.711 and 48 kHz ticks for Opus; codec_ts8 maps a packet's
 *   RTP timestamp onto the 8 kHz axis of the jitter buffer (its wrap every
 *   24.8 hours resynchronises the buffer once: 40 ms of silence).
 * - Loop thread only; no allocation per packet.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <opus.h>
#include <string.h>

#define OPUS_MAX_8K    960 /* 120 ms at 8 kHz: the longest Opus packet */
#define OPUS_STILL_MAX 8   /* a silent packet worth remembering (CELT's is 3 bytes) */

struct mopus {
	OpusEncoder *enc;
	OpusDecoder *dec;
	uint8_t still[OPUS_STILL_MAX]; /* the packet of the last all-zero frame */
	size_t still_len;	       /* 0: the last frame was not all zero */
	bool at_rest;		       /* all-zero frames repeat `still` (DESIGN) */
};

static void opus_destroy(void *data)
{
	struct mopus *o = data;

	if (o->enc)
		opus_encoder_destroy(o->enc);
	if (o->dec)
		opus_decoder_destroy(o->dec);
}

static int opus_state_alloc(struct mopus **op, const struct media_cfg *cfg)
{
	struct mopus *o = mem_zalloc(sizeof(*o), opus_destroy);
	int app = cfg->opus_silk ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_RESTRICTED_LOWDELAY;
	int e1 = 0, e2 = 0;

	if (!o)
		return -ENOMEM;
	o->enc = opus_encoder_create(MEDIA_RATE, 1, app, &e1);
	o->dec = opus_decoder_create(MEDIA_RATE, 1, &e2);
	if (!o->enc || !o->dec || e1 != OPUS_OK || e2 != OPUS_OK) {
		mem_deref(o);
		return -ENOMEM;
	}
	/* the encoder is most of an Opus leg's CPU: CELT at complexity 0 by
	 * default (docs/WEBRTC.md "Opus"); media_cfg may raise it */
	opus_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(cfg->opus_complexity));
	opus_encoder_ctl(o->enc, OPUS_SET_BITRATE(cfg->opus_silk ? 24000 : 32000));
	opus_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	*op = o;
	return 0;
}

int codec_set(struct mleg *l, enum media_codec c)
{
	if (c == MEDIA_OPUS && !l->opus)
		return opus_state_alloc(&l->opus, &l->m->cfg);
	if (c != MEDIA_OPUS)
		l->opus = mem_deref(l->opus);
	return 0;
}

void codec_free(struct mleg *l)
{
	l->opus = mem_deref(l->opus);
}

bool codec_is_g711(enum media_codec c)
{
	return c == MEDIA_PCMU || c == MEDIA_PCMA;
}

uint32_t codec_ts_step(const struct mleg *l)
{
	return l->codec == MEDIA_OPUS ? MEDIA_FRAME * 6 : MEDIA_FRAME;
}

uint32_t codec_ts8(const struct mleg *l, uint32_t ts)
{
	return l->codec == MEDIA_OPUS ? ts / 6 : ts;
}

int codec_decode(struct mleg *l, const uint8_t *p, size_t n, int16_t *pcm, size_t max)
{
	int k;

	if (codec_is_g711(l->codec)) {
		n = n < max ? n : max;
		media_g711_decode(l->codec, p, pcm, n);
		return (int)n;
	}
	if (!l->opus || n == 0 || n > MEDIA_PKT_MAX)
		return -EBADMSG;
	k = opus_decode(l->opus->dec, p, (opus_int32)n, pcm, (int)max, 0);
	if (k < 0) {
		l->st.rx_undecodable++; /* counted (it was RTP), not played */
		return -EBADMSG;
	}
	return k;
}

static bool pcm_is_zero(const int16_t *pcm)
{
	int16_t any = 0;

	for (int i = 0; i < MEDIA_FRAME; i++)
		any |= pcm[i];
	return !any;
}

/* One 20 ms frame to Opus; all-zero frames at the encoder's rest repeat
 * its silent packet (DESIGN). */
static int opus_frame_encode(struct mopus *o, const int16_t *pcm, uint8_t *out, size_t cap)
{
	bool zero = pcm_is_zero(pcm);
	int k;

	if (zero && o->at_rest && cap >= o->still_len) {
		memcpy(out, o->still, o->still_len);
		return (int)o->still_len;
	}
	k = opus_encode(o->enc, pcm, MEDIA_FRAME, out, (opus_int32)cap);
	if (k < 0)
		return -EIO;
	if (!zero || k == 0 || (size_t)k > sizeof(o->still)) {
		o->still_len = 0, o->at_rest = false;
		return k;
	}
	o->at_rest = o->still_len == (size_t)k && !memcmp(o->still, out, (size_t)k);
	memcpy(o->still, out, (size_t)k);
	o->still_len = (size_t)k;
	return k;
}

int codec_encode(struct mleg *l, const int16_t *pcm, uint8_t *out, size_t cap)
{
	if (codec_is_g711(l->codec)) {
		if (cap < MEDIA_FRAME)
			return -ENOSPC;
		media_g711_encode(l->codec, pcm, out, MEDIA_FRAME);
		return MEDIA_FRAME;
	}
	if (!l->opus)
		return -EINVAL;
	return opus_frame_encode(l->opus, pcm, out, cap);
}

/* An Opus packet is decoded once, whoever consumes it (the decoder has
 * state: decoding a packet twice would corrupt it): into the recorder's
 * and the conference's jitter buffers, and for the audio listener. */
void codec_opus_rx(struct mleg *l, const struct rtp_hdr *h)
{
	int16_t pcm[OPUS_MAX_8K];
	struct jbuf *jb;
	int k;

	if (!l->rec && !l->conf && !l->audio_h)
		return;
	k = codec_decode(l, h->payload, h->payload_len, pcm, OPUS_MAX_8K);
	if (k <= 0)
		return;
	if ((jb = rec_jb(l)))
		jb_put_pcm(jb, codec_ts8(l, h->ts), pcm, (size_t)k);
	if ((jb = l->conf_jb))
		jb_put_pcm(jb, codec_ts8(l, h->ts), pcm, (size_t)k);
	if (l->audio_h)
		l->audio_h(l, pcm, (size_t)k, l->audio_arg);
}

const char *media_codec_name(enum media_codec c)
{
	switch (c) {
	case MEDIA_PCMU: return "PCMU";
	case MEDIA_PCMA: return "PCMA";
	case MEDIA_OPUS: return "opus";
	}
	return "?";
}
