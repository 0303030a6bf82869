/*
 * player.c — what we originate on a leg: playback of 8 kHz PCM (prompts,
 * looping hold music) and RFC 4733 digits, one 20 ms frame per media-clock
 * tick.
 *
 * DESIGN
 * - A leg is on the engine's `players` list exactly while it plays or has
 *   digits to send (mleg_active_update keeps that true); the clock walks
 *   that list only.
 * - Audio passed to mleg_play is copied, except the built-in hold music
 *   and beep, which are static and referenced (1,000 callers on hold share
 *   one 128 KB tune instead of holding a copy each); mleg_play_ref takes a
 *   reference on refcounted audio instead (rendered prompts, prompt files).
 * - A digit is 7 packets on successive ticks: durations 160..800 samples
 *   (100 ms) with the event timestamp fixed at its start, the last one sent
 *   three times with the end bit (RFC 4733 §2.5.1.4). Audio to that leg
 *   pauses meanwhile; then the stream's timestamp moves past the event.
 * - Frames are produced even without a far end or while muted (time
 *   passes for the playback), but mleg_send drops them.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

#define DTMF_STEP_END 4 /* first packet with the end bit */
#define DTMF_STEPS    7 /* 4 progress + 3 end packets */
#define DTMF_VOLUME   10

void mleg_active_update(struct mleg *l)
{
	bool want = !l->closing && (l->play.active || l->dtx.step >= 0 || l->dtx.count);

	if (want && !mlist_linked(&l->ple)) {
		mlist_add(&l->m->players, &l->ple);
		media_clock_kick(l->m);
	} else if (!want && mlist_linked(&l->ple)) {
		mlist_del(&l->ple);
	}
}

static void play_release(struct mleg *l)
{
	l->play.own = mem_deref(l->play.own);
	l->play.pcm = NULL;
	l->play.active = false;
}

/* Fills one frame from the playback; false when it has ended. */
static bool play_frame(struct mplay *p, int16_t *f)
{
	size_t k = 0;

	while (k < MEDIA_FRAME) {
		size_t take = p->n - p->pos;

		if (take > MEDIA_FRAME - k)
			take = MEDIA_FRAME - k;
		memcpy(f + k, p->pcm + p->pos, take * sizeof(*f));
		k += take, p->pos += take;
		if (p->pos < p->n)
			continue;
		if (!p->loop) {
			memset(f + k, 0, (MEDIA_FRAME - k) * sizeof(*f));
			return false;
		}
		p->pos = 0;
	}
	return true;
}

static void play_tick(struct mleg *l)
{
	int16_t f[MEDIA_FRAME];
	struct rtp_hdr h = {.pt = (uint8_t)l->pt};
	bool more = play_frame(&l->play, f);
	int n = codec_encode(l, f, l->m->txbuf + MEDIA_HDR_LEN, MEDIA_PKT_MAX - MEDIA_HDR_LEN);

	h.payload = l->m->txbuf + MEDIA_HDR_LEN;
	h.payload_len = n < 0 ? 0 : (size_t)n;
	mstream_stamp_own(&l->out, &h, codec_ts_step(l));
	if (n > 0)
		mleg_send(l, &h);
	if (!more) {
		log_debug("leg=%llu action=playback ended", (unsigned long long)l->id);
		play_release(l);
	}
}

static void dtmf_tick(struct mleg *l)
{
	struct mdtmf_tx *d = &l->dtx;
	uint8_t *pl = l->m->txbuf + MEDIA_HDR_LEN;
	int step = d->step < 0 ? 0 : d->step;
	uint16_t dur = (uint16_t)(MEDIA_FRAME * (step < DTMF_STEP_END ? step + 1 : 5));
	struct rtp_hdr h = {.pt = (uint8_t)l->dtmf_pt, .payload = pl, .payload_len = 4};

	if (d->step < 0) { /* a new digit starts */
		d->ts = l->out.ts;
		d->step = 0;
	}
	pl[0] = (uint8_t)dtmf_char_event(d->q[d->head]);
	pl[1] = (uint8_t)((step >= DTMF_STEP_END ? 0x80 : 0) | DTMF_VOLUME);
	pl[2] = (uint8_t)(dur >> 8), pl[3] = (uint8_t)dur;
	h.ssrc = l->out.ssrc, h.seq = l->out.seq++, h.ts = d->ts, h.marker = step == 0;
	if (l->dtmf_pt >= 0)
		mleg_send(l, &h);
	if (++d->step < DTMF_STEPS)
		return;
	d->step = -1; /* digit done: the stream moves past the event */
	d->head = (d->head + 1) % DTMF_QUEUE;
	d->count--;
	l->out.ts = d->ts + 5 * MEDIA_FRAME;
	l->out.anchored = false;
	l->out.marker_next = true;
}

void player_tick(struct mleg *l)
{
	if (l->dtx.step >= 0 || l->dtx.count)
		dtmf_tick(l);
	else if (l->play.active)
		play_tick(l);
	mleg_active_update(l);
}

void player_clear(struct mleg *l)
{
	play_release(l);
	l->dtx.count = 0;
	l->dtx.step = -1;
	mlist_del(&l->ple);
}

int mleg_play(struct mleg *l, const int16_t *pcm, size_t n, bool loop)
{
	if (!l || l->closing || !pcm || !n)
		return -EINVAL;
	play_release(l);
	if (!media_audio_builtin(pcm, n)) {
		l->play.own = mem_zalloc(n * sizeof(*pcm), NULL);
		if (!l->play.own)
			return -ENOMEM;
		memcpy(l->play.own, pcm, n * sizeof(*pcm));
		pcm = l->play.own;
	}
	l->play = (struct mplay){
		.pcm = pcm, .own = l->play.own, .n = n, .loop = loop, .active = true};
	l->out.marker_next = true;
	log_debug("leg=%llu action=play samples=%zu loop=%d", (unsigned long long)l->id, n, loop);
	mleg_active_update(l);
	return 0;
}

int mleg_play_ref(struct mleg *l, int16_t *pcm, size_t n, bool loop)
{
	if (!l || l->closing || !pcm || !n)
		return -EINVAL;
	play_release(l);
	l->play = (struct mplay){
		.pcm = pcm, .own = mem_ref(pcm), .n = n, .loop = loop, .active = true};
	l->out.marker_next = true;
	log_debug("leg=%llu action=play shared samples=%zu loop=%d", (unsigned long long)l->id, n,
		  loop);
	mleg_active_update(l);
	return 0;
}

void mleg_stop(struct mleg *l)
{
	if (!l || !l->play.active)
		return;
	play_release(l);
	log_debug("leg=%llu action=play stopped", (unsigned long long)l->id);
	mleg_active_update(l);
}

bool mleg_playing(const struct mleg *l)
{
	return l && l->play.active;
}

int mleg_send_dtmf(struct mleg *l, char digit)
{
	struct mdtmf_tx *d;

	if (!l || l->closing || dtmf_char_event(digit) < 0)
		return -EINVAL;
	if (l->dtmf_pt < 0 || !codec_is_g711(l->codec))
		return -ENOTSUP; /* no telephone-event offered; an Opus leg's (48 kHz clock) is not done */
	d = &l->dtx;
	if (d->count >= DTMF_QUEUE)
		return -ENOBUFS;
	d->q[(d->head + d->count) % DTMF_QUEUE] = digit;
	d->count++;
	log_debug("leg=%llu action=send dtmf digit=%c", (unsigned long long)l->id, digit);
	mleg_active_update(l);
	return 0;
}
