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

#define OPUS_MAX_8K 960 /* 120 ms at 8 kHz: the longest Opus packet */

struct mopus {
	OpusEncoder *enc;
	OpusDecoder *dec;
};

static void opus_destroy(void *data)
{
	struct mopus *o = data;

	if (o->enc)
		opus_encoder_destroy(o->enc);
	if (o->dec)
		opus_decoder_destroy(o->dec);
}

static int opus_state_alloc(struct mopus **op, int complexity)
{
	struct mopus *o = mem_zalloc(sizeof(*o), opus_destroy);
	int e1 = 0, e2 = 0;

	if (!o)
		return -ENOMEM;
	o->enc = opus_encoder_create(MEDIA_RATE, 1, OPUS_APPLICATION_VOIP, &e1);
	o->dec = opus_decoder_create(MEDIA_RATE, 1, &e2);
	if (!o->enc || !o->dec || e1 != OPUS_OK || e2 != OPUS_OK) {
		mem_deref(o);
		return -ENOMEM;
	}
	/* the encoder is most of an Opus leg's CPU: 1 by default (about a
	 * third of 5's cost, docs/WEBRTC.md "Opus"); media_cfg may raise it */
	opus_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(complexity));
	opus_encoder_ctl(o->enc, OPUS_SET_BITRATE(24000));
	opus_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	*op = o;
	return 0;
}

int codec_set(struct mleg *l, enum media_codec c)
{
	if (c == MEDIA_OPUS && !l->opus)
		return opus_state_alloc(&l->opus, l->m->cfg.opus_complexity);
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

int codec_encode(struct mleg *l, const int16_t *pcm, uint8_t *out, size_t cap)
{
	int k;

	if (codec_is_g711(l->codec)) {
		if (cap < MEDIA_FRAME)
			return -ENOSPC;
		media_g711_encode(l->codec, pcm, out, MEDIA_FRAME);
		return MEDIA_FRAME;
	}
	if (!l->opus)
		return -EINVAL;
	k = opus_encode(l->opus->enc, pcm, MEDIA_FRAME, out, (opus_int32)cap);
	return k < 0 ? -EIO : k;
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
