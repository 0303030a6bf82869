/*
 * test_mixer.c — the N-party mixer (src/media/mixer.c), no sockets: every
 * participant talks at its own constant level (or its own sine), chosen so
 * that each sum names its terms, and each test checks who hears whom:
 * three-way calls, listen, whisper, barge, saturation, removal and slot
 * reuse, the relay fast path, the recorder channels, bad arguments, and an
 * OOM-injection loop. Every test asserts no mem_* block is left live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/media.h"

#include <math.h>
#include <string.h>

/* Levels whose sums are all distinct: a sum tells who was mixed in. */
#define LV_CUST	 1
#define LV_AGENT 10
#define LV_SUP	 100
#define LV_THIRD 1000

static int teardown(void **state)
{
	mem_fail_after(0);
	assert_int_equal(mem_live(), 0);
	return 0;
}

static void put_level(struct mixer *m, int slot, int16_t level)
{
	int16_t f[MEDIA_FRAME];

	for (int i = 0; i < MEDIA_FRAME; i++)
		f[i] = level;
	assert_int_equal(mixer_put(m, slot, f, MEDIA_FRAME), 0);
}

/* What slot hears this tick, checked to be constant; returns the level. */
static int heard_level(struct mixer *m, int slot)
{
	int16_t out[MEDIA_FRAME];

	assert_true(mixer_get(m, slot, out) >= 0);
	for (int i = 1; i < MEDIA_FRAME; i++)
		assert_int_equal(out[i], out[0]);
	return out[0];
}

/* customer (slot 0), agent (1) and supervisor (2), all talking. */
static void three(struct mixer **mp, int *c, int *a, int *s)
{
	assert_int_equal(mixer_alloc(mp, 7), 0);
	assert_int_equal(mixer_add(*mp, 100, c), 0);
	assert_int_equal(mixer_add(*mp, 200, a), 0);
	assert_int_equal(mixer_add(*mp, 300, s), 0);
}

static void put_three(struct mixer *m, int c, int a, int s)
{
	put_level(m, c, LV_CUST);
	put_level(m, a, LV_AGENT);
	put_level(m, s, LV_SUP);
}

/* ---- who hears whom ---- */
static void three_way_each_leg_hears_the_other_two_not_itself(void **state)
{
	struct mixer *m;
	int c, a, s;

	three(&m, &c, &a, &s);
	assert_int_equal(c, 0);
	assert_int_equal(a, 1);
	assert_int_equal(s, 2);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), LV_AGENT + LV_SUP);
	assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP);
	assert_int_equal(heard_level(m, s), LV_CUST + LV_AGENT);
	assert_true(mixer_hears(m, c, a));
	assert_false(mixer_hears(m, c, c));
	mem_deref(m);
}

static void supervisor_on_listen_hears_all_and_is_heard_by_none(void **state)
{
	struct mixer *m;
	int c, a, s;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_mode(m, s, MIXER_LISTEN, -1), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, s), LV_CUST + LV_AGENT);
	assert_int_equal(heard_level(m, c), LV_AGENT);
	assert_int_equal(heard_level(m, a), LV_CUST);
	assert_false(mixer_hears(m, c, s));
	assert_false(mixer_hears(m, a, s));
	mem_deref(m);
}

static void whisper_is_heard_by_the_agent_only(void **state)
{
	struct mixer *m;
	int c, a, s;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_mode(m, s, MIXER_WHISPER, a), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP);
	assert_int_equal(heard_level(m, c), LV_AGENT); /* the customer does not hear it */
	assert_int_equal(heard_level(m, s), LV_CUST + LV_AGENT);
	mem_deref(m);
}

static void barge_is_heard_by_all(void **state)
{
	struct mixer *m;
	int c, a, s;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_mode(m, s, MIXER_LISTEN, -1), 0);
	assert_int_equal(mixer_set_mode(m, s, MIXER_BARGE, -1), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), LV_AGENT + LV_SUP);
	assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP);
	assert_int_equal(heard_level(m, s), LV_CUST + LV_AGENT);
	mem_deref(m);
}

/* A transfer's consult: the customer (on hold) hears no one and is heard
 * by no one; the two agents hear each other; the recording's "what the
 * customer hears" is silence. */
static void a_held_customer_hears_and_is_heard_by_none(void **state)
{
	struct mixer *m;
	int c, a, s;
	int16_t cust[MEDIA_FRAME], others[MEDIA_FRAME];

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_customer(m, c), 0);
	assert_int_equal(mixer_set_mode(m, c, MIXER_HOLD, -1), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), 0);
	assert_int_equal(heard_level(m, a), LV_SUP);
	assert_int_equal(heard_level(m, s), LV_AGENT);
	assert_false(mixer_hears(m, c, a));
	assert_false(mixer_hears(m, a, c));
	assert_int_equal(mixer_record(m, cust, others), 0);
	assert_int_equal(cust[0], LV_CUST);
	assert_int_equal(others[0], 0);
	assert_false(mixer_relay_pair(m, NULL, NULL)); /* three members: the agents are mixed */
	mixer_tick(m);
	/* the join: everyone hears everyone */
	assert_int_equal(mixer_set_mode(m, c, MIXER_TALK, -1), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), LV_AGENT + LV_SUP);
	assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP);
	mem_deref(m);
}

static void explicit_masks_need_both_sides_to_agree(void **state)
{
	struct mixer *m;
	int c, a, s, t;

	three(&m, &c, &a, &s);
	/* the customer on consult hold: hears nobody, heard by nobody */
	assert_int_equal(mixer_set_hears(m, c, 0), 0);
	assert_int_equal(mixer_set_heard_by(m, c, 0), 0);
	/* the agent hears only the supervisor, but the supervisor is heard by all */
	assert_int_equal(mixer_set_hears(m, a, MIXER_BIT(s) | MIXER_BIT(a)), 0);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), 0);
	assert_int_equal(heard_level(m, a), LV_SUP);
	assert_int_equal(heard_level(m, s), LV_AGENT);
	mixer_tick(m);
	/* a later joiner is in MIXER_ALL masks, not in explicit ones */
	assert_int_equal(mixer_add(m, 400, &t), 0);
	put_three(m, c, a, s);
	put_level(m, t, LV_THIRD);
	assert_int_equal(heard_level(m, s), LV_AGENT + LV_THIRD);
	assert_int_equal(heard_level(m, t), LV_AGENT + LV_SUP);
	assert_int_equal(heard_level(m, a), LV_SUP);
	/* explicit masks with empty slots' bits: dropped, so slot 9's later
	 * occupant is not heard by the agent (but is by the supervisor) */
	assert_int_equal(mixer_set_hears(m, a, MIXER_BIT(s) | MIXER_BIT(9)), 0);
	for (int p = 4; p <= 9; p++) {
		assert_int_equal(mixer_add(m, 500 + p, &t), 0);
		assert_int_equal(t, p);
	}
	assert_false(mixer_hears(m, a, 9));
	assert_true(mixer_hears(m, s, 9));
	assert_true(mixer_hears(m, a, s));
	mem_deref(m);
}

/* ---- samples ---- */
static int16_t ref_clamp(int32_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* 16 talkers with their own sines, one of them whispering, one listening:
 * every sample of every output equals a naive per-listener sum, on both
 * the summing and the total-minus-extra paths. */
static void mix_is_sample_exact_against_a_naive_sum(void **state)
{
	static int16_t in[MIXER_MAX][MEDIA_FRAME];
	struct mixer *m;
	int slot[MIXER_MAX];

	assert_int_equal(mixer_alloc(&m, 1), 0);
	for (int p = 0; p < MIXER_MAX; p++)
		assert_int_equal(mixer_add(m, 1000 + p, &slot[p]), 0);
	assert_int_equal(mixer_set_mode(m, slot[14], MIXER_WHISPER, slot[3]), 0);
	assert_int_equal(mixer_set_mode(m, slot[15], MIXER_LISTEN, -1), 0);
	for (int tick = 0; tick < 3; tick++) {
		for (int p = 0; p < MIXER_MAX; p++) {
			for (int i = 0; i < MEDIA_FRAME; i++)
				in[p][i] = (int16_t)(6000 * sin(2 * M_PI * (200 + 97 * p) *
								(tick * MEDIA_FRAME + i) / 8000.0));
			if (p != 5 || tick != 1) /* slot 5 sends nothing on tick 1 */
				assert_int_equal(mixer_put(m, slot[p], in[p], MEDIA_FRAME), 0);
		}
		for (int l = 0; l < MIXER_MAX; l++) {
			int16_t out[MEDIA_FRAME];
			int n = mixer_get(m, slot[l], out), want = 0;

			for (int i = 0; i < MEDIA_FRAME; i++) {
				int32_t sum = 0;

				want = 0;
				for (int p = 0; p < MIXER_MAX; p++) {
					if (p == l || p == 15 || (p == 14 && l != 3) ||
					    (p == 5 && tick == 1))
						continue;
					sum += in[p][i];
					want++;
				}
				assert_int_equal(out[i], ref_clamp(sum));
			}
			assert_int_equal(n, want);
		}
		mixer_tick(m);
	}
	mem_deref(m);
}

static void loud_talkers_saturate_instead_of_wrapping(void **state)
{
	struct mixer *m;
	int c, a, s, l;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_add(m, 400, &l), 0);
	assert_int_equal(mixer_set_mode(m, l, MIXER_LISTEN, -1), 0);
	put_level(m, c, 32000);
	put_level(m, a, 32767);
	put_level(m, s, 30000);
	assert_int_equal(heard_level(m, l), 32767); /* 94767 would wrap to 29231 */
	assert_int_equal(heard_level(m, c), 32767);
	assert_int_equal(heard_level(m, a), 32767);
	mixer_tick(m);
	put_level(m, c, -32768);
	put_level(m, a, -32000);
	put_level(m, s, -30000);
	assert_int_equal(heard_level(m, l), -32768);
	assert_int_equal(heard_level(m, s), -32768);
	mixer_tick(m);
	/* clamped once, at the end: 30000 + 30000 - 30000 is 30000, not 2767 */
	put_level(m, c, 30000);
	put_level(m, a, 30000);
	put_level(m, s, -30000);
	assert_int_equal(heard_level(m, l), 30000);
	mem_deref(m);
}

static void sixteen_full_scale_talkers_clamp_on_the_total_path(void **state)
{
	struct mixer *m;
	int slot;

	assert_int_equal(mixer_alloc(&m, 1), 0);
	for (int p = 0; p < MIXER_MAX; p++) {
		assert_int_equal(mixer_add(m, p + 1, &slot), 0);
		put_level(m, slot, 32767);
	}
	/* each hears 15 others: the total (16 x 32767) minus itself, clamped */
	for (int p = 0; p < MIXER_MAX; p++)
		assert_int_equal(heard_level(m, p), 32767);
	mixer_tick(m);
	for (int p = 0; p < MIXER_MAX; p++)
		put_level(m, p, -32768);
	for (int p = 0; p < MIXER_MAX; p++)
		assert_int_equal(heard_level(m, p), -32768);
	mem_deref(m);
}

static void a_missing_or_short_frame_is_silence(void **state)
{
	struct mixer *m;
	int c, a, s;
	int16_t half[MEDIA_FRAME / 2], out[MEDIA_FRAME];

	three(&m, &c, &a, &s);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), LV_AGENT + LV_SUP);
	mixer_tick(m);
	/* tick 2: only the agent sends, and half a frame */
	for (int i = 0; i < MEDIA_FRAME / 2; i++)
		half[i] = LV_AGENT;
	assert_int_equal(mixer_put(m, a, half, MEDIA_FRAME / 2), 0);
	assert_int_equal(mixer_get(m, c, out), 1);
	assert_int_equal(out[0], LV_AGENT);
	assert_int_equal(out[MEDIA_FRAME / 2 - 1], LV_AGENT);
	assert_int_equal(out[MEDIA_FRAME / 2], 0);
	assert_int_equal(out[MEDIA_FRAME - 1], 0);
	assert_int_equal(mixer_get(m, a, out), 0); /* nobody else sent */
	assert_int_equal(heard_level(m, a), 0);
	mixer_tick(m);
	assert_int_equal(heard_level(m, s), 0);
	mem_deref(m);
}

/* Five talkers, so that listeners take the total-minus-extra path: a late
 * frame and a mode change must both refresh the tick's total. */
static void the_total_follows_late_frames_and_mode_changes(void **state)
{
	static const int16_t lv[] = {1, 10, 100, 1000, 10000};
	struct mixer *m;
	int slot;

	assert_int_equal(mixer_alloc(&m, 1), 0);
	for (int p = 0; p < 5; p++)
		assert_int_equal(mixer_add(m, p + 1, &slot), 0);
	for (int p = 0; p < 4; p++)
		put_level(m, p, lv[p]);
	assert_int_equal(heard_level(m, 4), 1111);
	put_level(m, 4, lv[4]); /* after a get: the total must include it */
	assert_int_equal(heard_level(m, 0), 11110);
	assert_int_equal(mixer_set_mode(m, 4, MIXER_LISTEN, -1), 0);
	assert_int_equal(heard_level(m, 0), 1110);
	assert_int_equal(heard_level(m, 4), 1111);
	assert_int_equal(mixer_set_mode(m, 4, MIXER_WHISPER, 1), 0);
	assert_int_equal(heard_level(m, 1), 11101);
	assert_int_equal(heard_level(m, 2), 1011);
	mem_deref(m);
}

static void a_second_frame_in_one_tick_is_refused(void **state)
{
	struct mixer *m;
	int c, a, s;
	int16_t f[MEDIA_FRAME] = {5};

	three(&m, &c, &a, &s);
	put_three(m, c, a, s);
	assert_int_equal(mixer_put(m, c, f, MEDIA_FRAME), -EALREADY);
	assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP); /* the first stays */
	mixer_tick(m);
	assert_int_equal(mixer_put(m, c, f, MEDIA_FRAME), 0); /* a new tick */
	mem_deref(m);
}

/* ---- membership ---- */
static void removing_participants_stops_their_audio(void **state)
{
	struct mixer *m;
	int c, a, s, t;

	three(&m, &c, &a, &s);
	put_three(m, c, a, s);
	assert_int_equal(mixer_remove(m, a), 0); /* its frame goes with it */
	assert_int_equal(mixer_count(m), 2);
	assert_int_equal(heard_level(m, c), LV_SUP);
	assert_int_equal(heard_level(m, s), LV_CUST);
	assert_int_equal(mixer_find(m, 200), -ENOENT);
	assert_int_equal(mixer_get(m, a, (int16_t[MEDIA_FRAME]){0}), -EINVAL);
	mixer_tick(m);
	/* the freed slot is reused, in talk mode */
	assert_int_equal(mixer_add(m, 400, &t), 0);
	assert_int_equal(t, a);
	assert_int_equal(mixer_find(m, 400), t);
	put_level(m, c, LV_CUST);
	put_level(m, s, LV_SUP);
	put_level(m, t, LV_THIRD);
	assert_int_equal(heard_level(m, c), LV_SUP + LV_THIRD);
	assert_int_equal(heard_level(m, t), LV_CUST + LV_SUP);
	assert_int_equal(mixer_remove(m, c), 0);
	assert_int_equal(mixer_remove(m, s), 0);
	assert_int_equal(heard_level(m, t), 0);
	assert_int_equal(mixer_remove(m, t), 0);
	assert_int_equal(mixer_count(m), 0);
	mem_deref(m);
}

static void a_whisper_whose_target_leaves_is_heard_by_nobody(void **state)
{
	struct mixer *m;
	int c, a, s, t;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_mode(m, s, MIXER_WHISPER, a), 0);
	assert_int_equal(mixer_remove(m, a), 0);
	assert_int_equal(mixer_add(m, 400, &t), 0); /* takes the agent's slot */
	assert_int_equal(t, a);
	put_level(m, c, LV_CUST);
	put_level(m, s, LV_SUP);
	put_level(m, t, LV_THIRD);
	assert_int_equal(heard_level(m, t), LV_CUST); /* not the old whisper */
	assert_int_equal(heard_level(m, c), LV_THIRD);
	assert_int_equal(heard_level(m, s), LV_CUST + LV_THIRD);
	mem_deref(m);
}

static void explicit_masks_forget_a_participant_who_leaves(void **state)
{
	struct mixer *m;
	int c, a, s, t;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_set_hears(m, c, MIXER_BIT(a)), 0); /* hears the agent only */
	assert_int_equal(mixer_set_heard_by(m, s, MIXER_BIT(a)), 0);
	assert_int_equal(mixer_remove(m, a), 0);
	assert_int_equal(mixer_add(m, 400, &t), 0);
	assert_int_equal(t, a);
	put_level(m, c, LV_CUST);
	put_level(m, s, LV_SUP);
	put_level(m, t, LV_THIRD);
	assert_int_equal(heard_level(m, c), 0);	      /* not the newcomer */
	assert_int_equal(heard_level(m, t), LV_CUST); /* nor the old heard_by */
	mem_deref(m);
}

/* ---- relay fast path ---- */
static void relay_pair_only_for_exactly_two_mutual_listeners(void **state)
{
	struct mixer *m;
	int c, a, s, x = -1, y = -1;

	assert_int_equal(mixer_alloc(&m, 7), 0);
	assert_false(mixer_relay_pair(m, &x, &y)); /* empty */
	assert_int_equal(mixer_add(m, 100, &c), 0);
	assert_false(mixer_relay_pair(m, &x, &y)); /* alone */
	assert_int_equal(mixer_add(m, 200, &a), 0);
	assert_true(mixer_relay_pair(m, &x, &y));
	assert_int_equal(x, c);
	assert_int_equal(y, a);
	assert_int_equal(mixer_add(m, 300, &s), 0);
	assert_false(mixer_relay_pair(m, NULL, NULL)); /* three talkers */
	assert_int_equal(mixer_set_mode(m, s, MIXER_LISTEN, -1), 0);
	assert_false(mixer_relay_pair(m, NULL, NULL)); /* a listener is there */
	assert_int_equal(mixer_remove(m, c), 0);
	assert_false(mixer_relay_pair(m, NULL, NULL)); /* two, one-way */
	assert_int_equal(mixer_set_mode(m, s, MIXER_TALK, -1), 0);
	x = y = -1;
	assert_true(mixer_relay_pair(m, &x, &y));
	assert_int_equal(x, a);
	assert_int_equal(y, s);
	assert_int_equal(mixer_set_hears(m, a, 0), 0);
	assert_false(mixer_relay_pair(m, NULL, NULL)); /* a hears no one */
	assert_int_equal(mixer_set_hears(m, a, MIXER_ALL), 0);
	assert_int_equal(mixer_set_mode(m, a, MIXER_WHISPER, s), 0);
	assert_true(mixer_relay_pair(m, NULL, NULL)); /* heard by s only = by all */
	assert_false(mixer_relay_pair(NULL, NULL, NULL));
	mem_deref(m);
}

/* Released frames (a relaying conference): masks and members stay, puts
 * are refused until reserved again, which covers every slot in use. */
static void released_frames_refuse_puts_until_reserved(void **state)
{
	struct mixer *m;
	int c, a, s;
	size_t live;

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_remove(m, a), 0); /* slots 0 and 2 in use */
	live = mem_live();
	put_level(m, c, LV_CUST); /* mid-tick frames die with the release */
	mixer_release(m);
	assert_int_equal(mem_live(), live - 1);
	assert_int_equal(heard_level(m, s), 0);
	mixer_release(m); /* twice is harmless */
	assert_int_equal(mixer_put(m, c, (int16_t[MEDIA_FRAME]){0}, MEDIA_FRAME), -ENOBUFS);
	assert_int_equal(mixer_put(m, s, (int16_t[MEDIA_FRAME]){0}, MEDIA_FRAME), -ENOBUFS);
	assert_true(mixer_relay_pair(m, NULL, NULL)); /* the masks are intact */
	assert_int_equal(mixer_reserve(m), 0);
	assert_int_equal(mem_live(), live);
	assert_int_equal(mixer_reserve(m), 0); /* enough room already: no-op */
	assert_int_equal(mem_live(), live);
	put_level(m, c, LV_CUST);
	put_level(m, s, LV_SUP);
	assert_int_equal(heard_level(m, c), LV_SUP);
	assert_int_equal(heard_level(m, s), LV_CUST);
	mixer_tick(m);
	/* released, then a join into a higher slot than the lowest free one
	 * needs room for every slot in use, not just the new one */
	mixer_release(m);
	assert_int_equal(mixer_add(m, 200, &a), 0);
	assert_int_equal(a, 1);
	put_three(m, c, a, s);
	assert_int_equal(heard_level(m, c), LV_AGENT + LV_SUP);
	assert_int_equal(heard_level(m, s), LV_CUST + LV_AGENT);
	mixer_tick(m);
	/* out of memory: nothing changes, puts still refused */
	mixer_release(m);
	mem_fail_after(1);
	assert_int_equal(mixer_reserve(m), -ENOMEM);
	mem_fail_after(0);
	assert_int_equal(mixer_put(m, c, (int16_t[MEDIA_FRAME]){0}, MEDIA_FRAME), -ENOBUFS);
	assert_int_equal(mixer_reserve(NULL), -EINVAL);
	mixer_release(NULL);
	mem_deref(m);
}

/* ---- recorder channels ---- */
static void record(struct mixer *m, int *cust, int *others)
{
	int16_t c[MEDIA_FRAME], o[MEDIA_FRAME];

	assert_int_equal(mixer_record(m, c, o), 0);
	for (int i = 1; i < MEDIA_FRAME; i++) {
		assert_int_equal(c[i], c[0]);
		assert_int_equal(o[i], o[0]);
	}
	*cust = c[0];
	*others = o[0];
}

static void recorder_channels_hold_what_the_customer_says_and_hears(void **state)
{
	struct mixer *m;
	int c, a, s, rc, ro;
	int16_t b1[MEDIA_FRAME], b2[MEDIA_FRAME];

	three(&m, &c, &a, &s);
	assert_int_equal(mixer_record(m, b1, b2), -ENOENT); /* no customer yet */
	assert_int_equal(mixer_customer(m), -1);
	assert_int_equal(mixer_set_customer(m, c), 0);
	assert_int_equal(mixer_customer(m), c);
	put_three(m, c, a, s);
	record(m, &rc, &ro);
	assert_int_equal(rc, LV_CUST);
	assert_int_equal(ro, LV_AGENT + LV_SUP); /* a three-way call */
	assert_int_equal(mixer_set_mode(m, s, MIXER_LISTEN, -1), 0);
	record(m, &rc, &ro);
	assert_int_equal(ro, LV_AGENT); /* the listening supervisor is not recorded */
	assert_int_equal(mixer_set_mode(m, s, MIXER_WHISPER, a), 0);
	record(m, &rc, &ro);
	assert_int_equal(ro, LV_AGENT); /* nor the whisper to the agent */
	assert_int_equal(mixer_set_mode(m, s, MIXER_BARGE, -1), 0);
	record(m, &rc, &ro);
	assert_int_equal(ro, LV_AGENT + LV_SUP); /* a barge is */
	/* the customer muted to the others is still recorded */
	assert_int_equal(mixer_set_heard_by(m, c, 0), 0);
	record(m, &rc, &ro);
	assert_int_equal(rc, LV_CUST);
	mixer_tick(m);
	put_level(m, a, LV_AGENT); /* the customer sends nothing this tick */
	record(m, &rc, &ro);
	assert_int_equal(rc, 0);
	assert_int_equal(ro, LV_AGENT);
	assert_int_equal(mixer_remove(m, c), 0);
	assert_int_equal(mixer_customer(m), -1);
	assert_int_equal(mixer_record(m, b1, b2), -ENOENT);
	assert_int_equal(mixer_set_customer(m, a), 0);
	assert_int_equal(mixer_set_customer(m, -1), 0);
	assert_int_equal(mixer_record(m, b1, b2), -ENOENT);
	mem_deref(m);
}

/* ---- bad arguments ---- */
static void a_full_mixer_and_duplicate_ids_are_refused(void **state)
{
	struct mixer *m;
	int slot = -1;

	assert_int_equal(mixer_alloc(&m, 1), 0);
	for (int p = 0; p < MIXER_MAX; p++) {
		assert_int_equal(mixer_add(m, 10 + p, &slot), 0);
		assert_int_equal(slot, p);
	}
	slot = -7;
	assert_int_equal(mixer_add(m, 99, &slot), -ENOSPC);
	assert_int_equal(slot, -7);
	assert_int_equal(mixer_count(m), MIXER_MAX);
	assert_int_equal(mixer_remove(m, 5), 0);
	assert_int_equal(mixer_add(m, 10, &slot), -EEXIST);
	assert_int_equal(mixer_add(m, 99, &slot), 0);
	assert_int_equal(slot, 5);
	mem_deref(m);
}

static void bad_slots_and_arguments_are_einval(void **state)
{
	struct mixer *m, *keep;
	int16_t f[MEDIA_FRAME] = {0}, g[MEDIA_FRAME];
	int c, a, bad[] = {-1, MIXER_MAX, 31, 32, 5}; /* 5: an empty slot */

	assert_int_equal(mixer_alloc(NULL, 1), -EINVAL);
	assert_int_equal(mixer_alloc(&m, 1), 0);
	assert_int_equal(mixer_add(m, 1, &c), 0);
	assert_int_equal(mixer_add(m, 2, &a), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int b = bad[i];

		assert_int_equal(mixer_remove(m, b), -EINVAL);
		assert_int_equal(mixer_put(m, b, f, MEDIA_FRAME), -EINVAL);
		assert_int_equal(mixer_get(m, b, g), -EINVAL);
		assert_int_equal(mixer_set_hears(m, b, MIXER_ALL), -EINVAL);
		assert_int_equal(mixer_set_heard_by(m, b, MIXER_ALL), -EINVAL);
		assert_int_equal(mixer_set_mode(m, b, MIXER_TALK, -1), -EINVAL);
		assert_int_equal(mixer_set_mode(m, c, MIXER_WHISPER, b), -EINVAL);
		assert_int_equal(mixer_set_customer(m, b == -1 ? -2 : b), -EINVAL);
		assert_false(mixer_hears(m, c, b));
	}
	assert_int_equal(mixer_set_mode(m, c, MIXER_WHISPER, c), -EINVAL); /* to itself */
	assert_int_equal(mixer_set_mode(m, c, (enum mixer_mode)42, -1), -EINVAL);
	assert_int_equal(mixer_put(m, c, NULL, MEDIA_FRAME), -EINVAL);
	assert_int_equal(mixer_put(m, c, f, 0), -EINVAL);
	assert_int_equal(mixer_put(m, c, f, MEDIA_FRAME + 1), -EINVAL);
	assert_int_equal(mixer_get(m, c, NULL), -EINVAL);
	assert_int_equal(mixer_add(m, 3, NULL), -EINVAL);
	assert_int_equal(mixer_record(m, NULL, g), -EINVAL);
	/* a failed call changed nothing */
	assert_true(mixer_relay_pair(m, NULL, NULL));
	/* NULL mixer */
	assert_int_equal(mixer_add(NULL, 3, &c), -EINVAL);
	assert_int_equal(mixer_remove(NULL, 0), -EINVAL);
	assert_int_equal(mixer_find(NULL, 1), -EINVAL);
	assert_int_equal(mixer_put(NULL, 0, f, MEDIA_FRAME), -EINVAL);
	assert_int_equal(mixer_get(NULL, 0, g), -EINVAL);
	assert_int_equal(mixer_set_customer(NULL, -1), -EINVAL);
	assert_int_equal(mixer_record(NULL, f, g), -EINVAL);
	assert_int_equal(mixer_count(NULL), 0);
	mixer_tick(NULL);
	/* the mixer is refcounted like every shared object */
	keep = mem_ref(m);
	assert_null(mem_deref(m));
	assert_int_equal(mixer_count(keep), 2);
	mem_deref(keep);
}

/* ---- OOM ---- */
/* A whole three-way call with a whisper; any allocation may fail. */
static int scenario(void)
{
	struct mixer *m = NULL;
	int c, a, s, err;

	err = mixer_alloc(&m, 9);
	if (err) {
		assert_null(m);
		return err;
	}
	/* the frames grow with the slots (2, then 4): an add may fail */
	err = mixer_add(m, 1, &c);
	err = err ? err : mixer_add(m, 2, &a);
	err = err ? err : mixer_add(m, 3, &s);
	if (err) {
		assert_int_equal(err, -ENOMEM);
		mem_deref(m);
		return err;
	}
	assert_int_equal(mixer_set_mode(m, s, MIXER_WHISPER, a), 0);
	assert_int_equal(mixer_set_customer(m, c), 0);
	for (int t = 0; t < 5; t++) {
		put_three(m, c, a, s);
		assert_int_equal(heard_level(m, a), LV_CUST + LV_SUP);
		mixer_tick(m);
	}
	mem_deref(m);
	return 0;
}

static void oom_at_every_allocation_unwinds_without_leaks(void **state)
{
	unsigned n;
	int err;

	for (n = 1;; n++) {
		mem_fail_after(n);
		err = scenario();
		mem_fail_after(0);
		assert_int_equal(mem_live(), 0);
		if (!err)
			break;
		assert_int_equal(err, -ENOMEM);
	}
	/* the mixer, its frames for 2 slots, then for 4: none per tick */
	assert_int_equal(n, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(three_way_each_leg_hears_the_other_two_not_itself,
					  teardown),
		cmocka_unit_test_teardown(supervisor_on_listen_hears_all_and_is_heard_by_none,
					  teardown),
		cmocka_unit_test_teardown(whisper_is_heard_by_the_agent_only, teardown),
		cmocka_unit_test_teardown(barge_is_heard_by_all, teardown),
		cmocka_unit_test_teardown(a_held_customer_hears_and_is_heard_by_none, teardown),
		cmocka_unit_test_teardown(explicit_masks_need_both_sides_to_agree, teardown),
		cmocka_unit_test_teardown(mix_is_sample_exact_against_a_naive_sum, teardown),
		cmocka_unit_test_teardown(loud_talkers_saturate_instead_of_wrapping, teardown),
		cmocka_unit_test_teardown(sixteen_full_scale_talkers_clamp_on_the_total_path,
					  teardown),
		cmocka_unit_test_teardown(a_missing_or_short_frame_is_silence, teardown),
		cmocka_unit_test_teardown(the_total_follows_late_frames_and_mode_changes, teardown),
		cmocka_unit_test_teardown(a_second_frame_in_one_tick_is_refused, teardown),
		cmocka_unit_test_teardown(removing_participants_stops_their_audio, teardown),
		cmocka_unit_test_teardown(a_whisper_whose_target_leaves_is_heard_by_nobody,
					  teardown),
		cmocka_unit_test_teardown(explicit_masks_forget_a_participant_who_leaves, teardown),
		cmocka_unit_test_teardown(released_frames_refuse_puts_until_reserved, teardown),
		cmocka_unit_test_teardown(relay_pair_only_for_exactly_two_mutual_listeners,
					  teardown),
		cmocka_unit_test_teardown(recorder_channels_hold_what_the_customer_says_and_hears,
					  teardown),
		cmocka_unit_test_teardown(a_full_mixer_and_duplicate_ids_are_refused, teardown),
		cmocka_unit_test_teardown(bad_slots_and_arguments_are_einval, teardown),
		cmocka_unit_test_teardown(oom_at_every_allocation_unwinds_without_leaks, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
