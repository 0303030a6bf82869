/*
 * jbuf.c — the jitter buffer of every place where the server consumes a
 * leg's audio on the media clock: each recorded side (recorder.c) and each
 * mixed conference leg (conf.c).
 *
 * DESIGN
 * - A ring of 2,048 samples indexed by RTP timestamp (ts mod ring). A
 *   packet is decoded straight into its place, so reordering needs no
 *   sorting and a lost packet leaves the zeros that the reader left behind:
 *   silence. The read point starts 40 ms behind the first packet; samples
 *   older than it are dropped (too late), and a packet that lands outside
 *   the ring (SSRC change, a jump, drift over 256 ms) resynchronises it.
 * - The reader takes one 20 ms frame per clock tick and zeroes what it
 *   took. `hi_ts` (the end of the newest packet written) tells it when the
 *   frame cannot hold anything: then it only moves on, and says so, which
 *   lets the mixer skip a silent leg entirely.
 * - Loop thread only; no allocation (the ring lives in its owner).
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

#define JB_MASK (JB_SAMPLES - 1)

static void jb_resync(struct jbuf *j, uint32_t ts)
{
	memset(j->ring, 0, sizeof(j->ring));
	j->read_ts = ts - JB_DELAY;
	j->hi_ts = ts;
	j->started = true;
}

void jb_reset(struct jbuf *j)
{
	if (j->started)
		memset(j->ring, 0, sizeof(j->ring));
	j->started = false;
}

/* Where n samples at ts go in the ring: the start index and how many of
 * the first samples are too late (skipped); false when all of them are. */
static bool jb_place(struct jbuf *j, uint32_t ts, size_t *n, size_t *skip, size_t *idx, size_t *seg)
{
	int32_t d;

	if (*n > JB_SAMPLES - JB_DELAY)
		*n = JB_SAMPLES - JB_DELAY;
	if (!j->started)
		jb_resync(j, ts);
	d = (int32_t)(ts - j->read_ts);
	if (d < -JB_SAMPLES || d + (int64_t)*n > JB_SAMPLES) {
		jb_resync(j, ts);
		d = JB_DELAY;
	}
	*skip = d < 0 ? (size_t)-d : 0; /* the late part is dropped */
	if (*skip >= *n)
		return false;
	*idx = (ts + *skip) & JB_MASK;
	*seg = *n - *skip < JB_SAMPLES - *idx ? *n - *skip : JB_SAMPLES - *idx;
	return true;
}

static void jb_hi(struct jbuf *j, uint32_t ts, size_t n)
{
	if ((int32_t)(ts + (uint32_t)n - j->hi_ts) > 0)
		j->hi_ts = ts + (uint32_t)n;
}

/* Decodes a packet of n G.711 bytes straight into its place in the ring. */
void jb_put(struct jbuf *j, uint32_t ts, enum media_codec c, const uint8_t *p, size_t n)
{
	size_t skip, idx, seg;

	if (!jb_place(j, ts, &n, &skip, &idx, &seg))
		return;
	media_g711_decode(c, p + skip, j->ring + idx, seg);
	media_g711_decode(c, p + skip + seg, j->ring, n - skip - seg); /* the wrapped part */
	jb_hi(j, ts, n);
}

/* The same for samples already decoded (an Opus leg's, codec.c). */
void jb_put_pcm(struct jbuf *j, uint32_t ts, const int16_t *pcm, size_t n)
{
	size_t skip, idx, seg;

	if (!jb_place(j, ts, &n, &skip, &idx, &seg))
		return;
	memcpy(j->ring + idx, pcm + skip, seg * sizeof(*pcm));
	memcpy(j->ring, pcm + skip + seg, (n - skip - seg) * sizeof(*pcm));
	jb_hi(j, ts, n);
}

bool jb_has_audio(const struct jbuf *j)
{
	return j->started && (int32_t)(j->hi_ts - j->read_ts) > 0;
}

bool jb_take_into(struct jbuf *j, int16_t *out, size_t stride)
{
	size_t idx = j->read_ts & JB_MASK;

	if (!j->started || (int32_t)(j->hi_ts - j->read_ts) <= 0) {
		/* nothing was written at or after read_ts: the ring is zero there */
		for (size_t k = 0; k < MEDIA_FRAME; k++)
			out[k * stride] = 0;
		if (j->started)
			j->read_ts += MEDIA_FRAME;
		return false;
	}
	/* what nobody writes again is silence: zero what we took; seg samples
	 * up to the ring's end, the rest from its start */
	size_t seg = MEDIA_FRAME < JB_SAMPLES - idx ? MEDIA_FRAME : JB_SAMPLES - idx;

	for (size_t k = 0; k < seg; k++)
		out[k * stride] = j->ring[idx + k];
	for (size_t k = seg; k < MEDIA_FRAME; k++)
		out[k * stride] = j->ring[k - seg];
	memset(j->ring + idx, 0, seg * sizeof(j->ring[0]));
	memset(j->ring, 0, (MEDIA_FRAME - seg) * sizeof(j->ring[0]));
	j->read_ts += MEDIA_FRAME;
	return true;
}

bool jb_take(struct jbuf *j, int16_t *out)
{
	size_t idx = j->read_ts & JB_MASK;
	size_t seg = MEDIA_FRAME < JB_SAMPLES - idx ? MEDIA_FRAME : JB_SAMPLES - idx;

	if (!jb_has_audio(j)) {
		/* nothing was written at or after read_ts: the ring is zero there */
		memset(out, 0, MEDIA_FRAME * sizeof(*out));
		if (j->started)
			j->read_ts += MEDIA_FRAME;
		return false;
	}
	/* what nobody writes again is silence: zero what we took */
	memcpy(out, j->ring + idx, seg * sizeof(*out));
	memset(j->ring + idx, 0, seg * sizeof(*out));
	memcpy(out + seg, j->ring, (MEDIA_FRAME - seg) * sizeof(*out));
	memset(j->ring, 0, (MEDIA_FRAME - seg) * sizeof(*out));
	j->read_ts += MEDIA_FRAME;
	return true;
}
