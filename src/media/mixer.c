/*
 * mixer.c — an N-party audio mixer (a conference): up to MIXER_MAX
 * participants, each with a mask of whom it hears and a mask of who hears
 * it, mixed once per 20 ms tick in 8 kHz linear PCM with saturation.
 * It knows no legs: conf.c binds it to legs and the media clock.
 *
 * DESIGN
 * - A participant is a slot (0..MIXER_MAX-1) with two masks over slots:
 *   `hears` (whom it listens to) and `heard_by` (who may listen to it).
 *   Listener L receives speaker S iff S != L, L hears S and S is heard by L.
 *   The call primitives are mask pairs (mixer_set_mode): talk = hears all,
 *   heard by all (the default; a three-party call is three talkers, each
 *   hearing all but itself); listen = hears all, heard by none; whisper =
 *   hears all, heard by one participant; barge = heard by all (talk, under
 *   the name supervisors use). Anything else: mixer_set_hears/_heard_by.
 * - MIXER_ALL means "everyone, later joiners included". Any other mask is a
 *   set of present participants: bits of empty slots are dropped when it is
 *   set, and a leaving participant's bit is cleared from every such mask,
 *   so whoever takes a freed slot later inherits no one's whisper (a
 *   whisperer whose target leaves is heard by no one).
 * - The effective matrix eff[L] (the speakers L receives) and its union
 *   `heard` are recomputed only when membership or a mask changes
 *   (MIXER_MAX^2 bit tests), never per tick.
 * - A tick: mixer_put copies each participant's received frame and marks it
 *   present; mixer_get mixes for one listener; mixer_tick forgets the
 *   frames (O(1): a bit mask). A participant without a frame this tick is
 *   silence and costs nothing. No allocation on the tick: the tick's total
 *   and the frames live in one block that mixer_add grows (room for 2
 *   slots, then 4, 8, 16), so a two-party call keeps 640 bytes of frames
 *   rather than 16 slots' 5 KB, and the accumulator is on the stack. An
 *   owner that stops mixing for a while (conf.c's relay fast path) frees
 *   the block with mixer_release (a mixer is then ~1 KB of masks) and gets
 *   it back with mixer_reserve before the next put.
 * - Saturation: contributions are summed exactly in int32 (16 x 32768 is
 *   far from overflow) and clamped to int16 once, at the end, so loud
 *   talkers clip at 32767 / -32768 instead of wrapping, and the result is
 *   the same whatever the order of the terms.
 * - Cost: for a listener receiving `want` speakers that sent a frame, with
 *   `extra` more heard-by-someone speakers it must not receive (itself, a
 *   whisper to someone else), mixer_get either sums its `want` frames or
 *   takes the tick's total of every heard frame (computed once per tick, on
 *   first need) minus the `extra` ones, whichever passes over fewer frames.
 *   The common shapes are one fused pass per listener: a three-party call
 *   is sat(a + b), a conference sat(total - own). So an all-talk conference
 *   of N costs N passes for the total plus one per listener: O(N) per tick,
 *   not O(N^2); one speaker is a copy, none a memset. Measured (-O2, one
 *   core, bench/mixer_bench.c): ~100-120 ns per participant per tick
 *   (put + get) from 3 to 16 participants, against 290 ns for a naive
 *   per-listener sum at 16.
 * - Relay fast path: mixer_relay_pair is true when exactly two participants
 *   remain and hear each other; call control then keeps the two-party
 *   media_bridge (pass-through relay: no decode, no mix). Whether the two
 *   codecs allow relay (or need PCMU<->PCMA transcoding, which
 *   media_bridge does) is the caller's concern.
 * - Recording: the customer channel is the customer's own frame (what they
 *   say, whether or not anyone hears it); the other channel is exactly what
 *   the customer hears. So a listening supervisor (heard by none) and a
 *   whisper to the agent are not recorded; a barge is.
 * - Thread: loop thread only; no locks. Logs: call=<id> leg=<id> action=.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

_Static_assert(MIXER_MAX <= 32, "slot masks are uint32_t");

#define SLOTS_ALL ((uint32_t)((1ull << MIXER_MAX) - 1))

/* What a tick works on, in one block that exists only while mixing. */
struct mixer_frames {
	int32_t total[MEDIA_FRAME];
	int16_t frame[][MEDIA_FRAME]; /* cap of them, by slot */
};

struct mixer {
	uint64_t call;		   /* for logs */
	uint32_t used;		   /* occupied slots */
	uint32_t have;		   /* slots whose frame arrived this tick */
	uint32_t heard;		   /* speakers at least one listener receives */
	uint32_t hears[MIXER_MAX]; /* MIXER_ALL or a subset of used */
	uint32_t heard_by[MIXER_MAX];
	uint32_t eff[MIXER_MAX]; /* speakers each listener receives */
	uint64_t id[MIXER_MAX];
	int customer;		 /* slot, -1 = none */
	bool total_ok;		 /* fr->total holds the sum of the heard & have frames */
	int cap;		 /* slots the frames have room for (0: none) */
	struct mixer_frames *fr; /* refcounted block: grown by mixer_add */
};

static inline uint32_t bit(int slot)
{
	return (uint32_t)1 << slot;
}

static inline int lowest(uint32_t set)
{
	return __builtin_ctz(set);
}

static bool slot_ok(const struct mixer *m, int slot)
{
	return m && slot >= 0 && slot < MIXER_MAX && (m->used & bit(slot));
}

static uint32_t mask_norm(const struct mixer *m, uint32_t mask)
{
	return mask == MIXER_ALL ? MIXER_ALL : mask & m->used;
}

/* Recomputes eff[] and heard after a membership or mask change. */
static void mixer_update(struct mixer *m)
{
	uint32_t heard = 0;

	for (int l = 0; l < MIXER_MAX; l++) {
		uint32_t cand = 0, eff = 0;

		if (m->used & bit(l))
			cand = m->hears[l] & m->used & ~bit(l);
		for (; cand; cand &= cand - 1) {
			int s = lowest(cand);

			if (m->heard_by[s] & bit(l))
				eff |= bit(s);
		}
		m->eff[l] = eff;
		heard |= eff;
	}
	m->heard = heard;
	m->total_ok = false;
}

static void mixer_destroy(void *arg)
{
	struct mixer *m = arg;

	mem_deref(m->fr);
}

/* Room for the frames of every slot in `set`: the frames grow 2, 4, 8, 16
 * (a two-party call keeps 640 bytes of frames, not 16 slots' 5 KB). Only
 * here, outside the tick: the tick never allocates. */
static int frames_fit(struct mixer *m, uint32_t set)
{
	int hi = set ? 31 - __builtin_clz(set) : 0;
	int cap = m->cap ? m->cap : 2;
	struct mixer_frames *f;

	if (hi < m->cap)
		return 0;
	while (cap <= hi)
		cap *= 2;
	f = mem_zalloc(sizeof(*f) + (size_t)cap * sizeof(f->frame[0]), NULL);
	if (!f)
		return -ENOMEM;
	if (m->fr) /* this tick's frames, if any */
		memcpy(f, m->fr, sizeof(*f) + (size_t)m->cap * sizeof(f->frame[0]));
	mem_deref(m->fr);
	m->fr = f, m->cap = cap;
	return 0;
}

int mixer_reserve(struct mixer *m)
{
	return m ? frames_fit(m, m->used) : -EINVAL;
}

void mixer_release(struct mixer *m)
{
	if (!m)
		return;
	m->fr = mem_deref(m->fr);
	m->cap = 0;
	m->have = 0; /* nothing put survives (between ticks there is nothing) */
	m->total_ok = false;
}

int mixer_alloc(struct mixer **mp, uint64_t call_id)
{
	struct mixer *m;

	if (!mp)
		return -EINVAL;
	m = mem_zalloc(sizeof(*m), mixer_destroy);
	if (!m)
		return -ENOMEM;
	m->call = call_id;
	m->customer = -1;
	*mp = m;
	return 0;
}

int mixer_find(const struct mixer *m, uint64_t id)
{
	if (!m)
		return -EINVAL;
	for (uint32_t set = m->used; set; set &= set - 1)
		if (m->id[lowest(set)] == id)
			return lowest(set);
	return -ENOENT;
}

size_t mixer_count(const struct mixer *m)
{
	return m ? (size_t)__builtin_popcount(m->used) : 0;
}

int mixer_add(struct mixer *m, uint64_t id, int *slotp)
{
	uint32_t free_slots;
	int slot;

	if (!m || !slotp)
		return -EINVAL;
	if (mixer_find(m, id) >= 0)
		return -EEXIST;
	free_slots = ~m->used & SLOTS_ALL;
	if (!free_slots)
		return -ENOSPC;
	slot = lowest(free_slots);
	if (frames_fit(m, m->used | bit(slot)))
		return -ENOMEM;
	m->used |= bit(slot);
	m->have &= ~bit(slot);
	m->id[slot] = id;
	m->hears[slot] = m->heard_by[slot] = MIXER_ALL; /* talk */
	mixer_update(m);
	*slotp = slot;
	log_debug("call=%llu leg=%llu action=mixer add slot=%d n=%zu", (unsigned long long)m->call,
		  (unsigned long long)id, slot, mixer_count(m));
	return 0;
}

int mixer_remove(struct mixer *m, int slot)
{
	if (!slot_ok(m, slot))
		return -EINVAL;
	m->used &= ~bit(slot);
	m->have &= ~bit(slot);
	for (int i = 0; i < MIXER_MAX; i++) {
		/* explicit masks name present participants only (see DESIGN) */
		if (m->hears[i] != MIXER_ALL)
			m->hears[i] &= ~bit(slot);
		if (m->heard_by[i] != MIXER_ALL)
			m->heard_by[i] &= ~bit(slot);
	}
	if (m->customer == slot)
		m->customer = -1;
	mixer_update(m);
	log_debug("call=%llu leg=%llu action=mixer remove slot=%d n=%zu",
		  (unsigned long long)m->call, (unsigned long long)m->id[slot], slot,
		  mixer_count(m));
	return 0;
}

int mixer_set_hears(struct mixer *m, int slot, uint32_t mask)
{
	if (!slot_ok(m, slot))
		return -EINVAL;
	m->hears[slot] = mask_norm(m, mask);
	mixer_update(m);
	return 0;
}

int mixer_set_heard_by(struct mixer *m, int slot, uint32_t mask)
{
	if (!slot_ok(m, slot))
		return -EINVAL;
	m->heard_by[slot] = mask_norm(m, mask);
	mixer_update(m);
	return 0;
}

static const char *const mode_name[] = {
	[MIXER_TALK] = "talk",	 [MIXER_LISTEN] = "listen", [MIXER_WHISPER] = "whisper",
	[MIXER_BARGE] = "barge", [MIXER_HOLD] = "hold",
};

int mixer_set_mode(struct mixer *m, int slot, enum mixer_mode mode, int target)
{
	uint32_t heard_by, hears = MIXER_ALL;

	if (!slot_ok(m, slot))
		return -EINVAL;
	switch (mode) {
	case MIXER_TALK:
	case MIXER_BARGE: heard_by = MIXER_ALL; break;
	case MIXER_LISTEN: heard_by = 0; break;
	case MIXER_HOLD: heard_by = 0, hears = 0; break;
	case MIXER_WHISPER:
		if (!slot_ok(m, target) || target == slot)
			return -EINVAL;
		heard_by = bit(target);
		break;
	default: return -EINVAL;
	}
	m->hears[slot] = hears;
	m->heard_by[slot] = heard_by;
	mixer_update(m);
	log_debug("call=%llu leg=%llu action=mixer %s slot=%d target=%d",
		  (unsigned long long)m->call, (unsigned long long)m->id[slot], mode_name[mode],
		  slot, mode == MIXER_WHISPER ? target : -1);
	return 0;
}

bool mixer_hears(const struct mixer *m, int listener, int speaker)
{
	return slot_ok(m, listener) && slot_ok(m, speaker) && (m->eff[listener] & bit(speaker));
}

int mixer_put(struct mixer *m, int slot, const int16_t *pcm, size_t n)
{
	if (!slot_ok(m, slot) || !pcm || !n || n > MEDIA_FRAME)
		return -EINVAL;
	if (m->have & bit(slot))
		return -EALREADY; /* one frame per tick; the first one stays */
	if (slot >= m->cap)
		return -ENOBUFS; /* released (mixer_release) and not reserved again */
	memcpy(m->fr->frame[slot], pcm, n * sizeof(*pcm));
	memset(m->fr->frame[slot] + n, 0, (MEDIA_FRAME - n) * sizeof(*pcm));
	m->have |= bit(slot);
	if (m->heard & bit(slot))
		m->total_ok = false;
	return 0;
}

/* ---- mixing ----
 * `restrict`: out is the caller's buffer, never a frame, and saying so lets
 * -O2 vectorise these loops (GCC's cheap cost model adds no alias checks). */
static inline int16_t sat16(int32_t v)
{
	return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

static void acc_add(int32_t *acc, const int16_t *f)
{
	for (int i = 0; i < MEDIA_FRAME; i++)
		acc[i] += f[i];
}

/* The sum of every frame someone hears this tick, once per tick. */
static const int32_t *mixer_total(struct mixer *m)
{
	if (!m->total_ok) {
		memset(m->fr->total, 0, sizeof(m->fr->total));
		for (uint32_t set = m->heard & m->have; set; set &= set - 1)
			acc_add(m->fr->total, m->fr->frame[lowest(set)]);
		m->total_ok = true;
	}
	return m->fr->total;
}

/* out = sat(total - the extra frames): one pass when at most one is extra
 * (a conference: the listener itself). */
static void mix_total_minus(struct mixer *m, uint32_t extra, int16_t *restrict out)
{
	const int32_t *restrict t = mixer_total(m);
	int32_t acc[MEDIA_FRAME];
	const int16_t *restrict f;

	if (!extra) {
		for (int i = 0; i < MEDIA_FRAME; i++)
			out[i] = sat16(t[i]);
		return;
	}
	f = m->fr->frame[lowest(extra)];
	extra &= extra - 1;
	if (!extra) {
		for (int i = 0; i < MEDIA_FRAME; i++)
			out[i] = sat16(t[i] - f[i]);
		return;
	}
	for (int i = 0; i < MEDIA_FRAME; i++)
		acc[i] = t[i] - f[i];
	for (; extra; extra &= extra - 1) {
		f = m->fr->frame[lowest(extra)];
		for (int i = 0; i < MEDIA_FRAME; i++)
			acc[i] -= f[i];
	}
	for (int i = 0; i < MEDIA_FRAME; i++)
		out[i] = sat16(acc[i]);
}

/* out = sat(sum of the wanted frames), two or more: one pass for two (a
 * three-party call). */
static void mix_sum(struct mixer *m, uint32_t want, int16_t *restrict out)
{
	const int16_t *restrict a = m->fr->frame[lowest(want)], *restrict b;
	int32_t acc[MEDIA_FRAME];

	want &= want - 1;
	b = m->fr->frame[lowest(want)];
	want &= want - 1;
	if (!want) {
		for (int i = 0; i < MEDIA_FRAME; i++)
			out[i] = sat16((int32_t)a[i] + b[i]);
		return;
	}
	for (int i = 0; i < MEDIA_FRAME; i++)
		acc[i] = (int32_t)a[i] + b[i];
	for (; want; want &= want - 1)
		acc_add(acc, m->fr->frame[lowest(want)]);
	for (int i = 0; i < MEDIA_FRAME; i++)
		out[i] = sat16(acc[i]);
}

int mixer_get(struct mixer *m, int slot, int16_t *out)
{
	uint32_t want, extra;
	int nwant;

	if (!slot_ok(m, slot) || !out)
		return -EINVAL;
	want = m->eff[slot] & m->have;
	extra = m->heard & m->have & ~want;
	nwant = __builtin_popcount(want);
	if (nwant == 0)
		memset(out, 0, MEDIA_FRAME * sizeof(*out));
	else if (nwant == 1)
		memcpy(out, m->fr->frame[lowest(want)], MEDIA_FRAME * sizeof(*out));
	else if (__builtin_popcount(extra) + 1 < nwant) /* fewer passes (DESIGN) */
		mix_total_minus(m, extra, out);
	else
		mix_sum(m, want, out);
	return nwant;
}

void mixer_tick(struct mixer *m)
{
	if (!m)
		return;
	m->have = 0;
	m->total_ok = false;
}

bool mixer_relay_pair(const struct mixer *m, int *a, int *b)
{
	int s0, s1;

	if (!m || __builtin_popcount(m->used) != 2)
		return false;
	s0 = lowest(m->used);
	s1 = lowest(m->used & (m->used - 1));
	if (m->eff[s0] != bit(s1) || m->eff[s1] != bit(s0))
		return false;
	if (a)
		*a = s0;
	if (b)
		*b = s1;
	return true;
}

/* ---- recorder channels ---- */
int mixer_set_customer(struct mixer *m, int slot)
{
	if (!m || (slot != -1 && !slot_ok(m, slot)))
		return -EINVAL;
	m->customer = slot;
	return 0;
}

int mixer_customer(const struct mixer *m)
{
	return m ? m->customer : -1;
}

int mixer_record(struct mixer *m, int16_t *customer, int16_t *others)
{
	int c = m ? m->customer : -1;
	int n;

	if (!m || !customer || !others)
		return -EINVAL;
	if (c < 0)
		return -ENOENT;
	if (m->have & bit(c))
		memcpy(customer, m->fr->frame[c], MEDIA_FRAME * sizeof(*customer));
	else
		memset(customer, 0, MEDIA_FRAME * sizeof(*customer));
	n = mixer_get(m, c, others);
	return n < 0 ? n : 0;
}
