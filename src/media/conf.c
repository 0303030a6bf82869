/*
 * conf.c — conferences of media legs: N legs through the mixer (mixer.c)
 * on the engine's one media clock, with the two-party relay as a fast path
 * and a two-channel recording (the customer, and what the customer hears).
 *
 * DESIGN
 * - A conference owns a mixer and one member per leg (the leg's mixer slot,
 *   and a jitter buffer, jbuf.c, while the conference mixes or records);
 *   the leg points back at its conference. Neither holds a reference on
 *   the other: mleg_free takes the leg out of
 *   its conference, and the conference's destructor detaches its legs (they
 *   live on, connected to nothing). The conference refs the engine.
 * - Two modes, chosen after every change of membership or mask
 *   (conf_update):
 *   relay: exactly two members that hear each other (mixer_relay_pair).
 *     They are paired as a two-party bridge (bridge.c): payloads relayed
 *     as they are (or PCMU<->PCMA through the byte table), no decode, no
 *     mixing, no clock, no jitter buffer: a bridged call in a conference
 *     costs the CPU a media_bridge costs (and the mixer's ~6 KB).
 *   mix: anything else with at least one member. The conference is on the
 *     engine's `confs` list and each clock frame (conf_tick) takes every
 *     member's 20 ms frame from its jitter buffer into the mixer (nothing
 *     arrived: no put, which is silence at no cost), encodes each member's
 *     mix in that leg's own codec and sends it on the leg's own outgoing
 *     stream (mstream_stamp_own: our SSRC, seq + 1, ts + 160), then ends the
 *     mixer's tick. A leg that plays, sends DTMF, is on hold or has no far
 *     end yet gets nothing (as in a bridge). Every member gets a packet
 *     every frame, silence included, so its far end sees a continuous stream.
 * - Switching keeps each far end's stream continuous: the outgoing stream is
 *   the same object in both modes, so relay -> mix continues at the next
 *   seq/ts (M set), and mix -> relay anchors the next relayed packet there
 *   (M set). No burst and nothing stale: on relay -> mix every jitter buffer
 *   is emptied (they may hold audio that was already relayed, or left over
 *   from an earlier mix), so mixing starts with what arrives next, 40 ms
 *   behind; on mix -> relay what was still buffered is dropped and relay
 *   goes on with the next packet. Either way a far end hears at most the
 *   jitter buffer's 40 ms of silence at the switch.
 * - The receive path (leg.c) decodes into the member's jitter buffer,
 *   which the leg points at (l->conf_jb) only while the conference mixes or
 *   records: the relay alone decodes nothing and holds no jitter buffer (4
 *   KB a leg) and no mixer frames (mixer_release). Whatever may end a relay
 *   (add, set_mode) first makes every member's buffer and the mixer's
 *   frames, and record_start the buffers, so each fails with -ENOMEM
 *   before changing anything rather than mix a leg without one. The hot
 *   paths chase no pointers through the conference: a packet goes from the
 *   leg to its buffer, and a recording relay's tick goes from the recorder
 *   to its two buffers, as a two-party recording's does.
 * - Recording: the customer channel is the customer's own frame and the
 *   other channel what the customer hears, so a supervisor on listen or a
 *   whisper to the agent is not recorded and a barge is. While mixing, the
 *   conference's tick hands the recorder the mixer's two channels
 *   (mixer_record, rec_frame). While relaying, the customer hears exactly
 *   the other member of the pair, so the recorder itself goes on the clock
 *   (rec_follow) and takes the customer's buffer and the other member's
 *   each tick, as a two-party recording does: the conference is off the
 *   clock, no mixer put, mix or tick, so a recorded bridged call costs what
 *   media_record_start costs. One writer in both modes, switched between
 *   ticks (conf_rec_route), so the file goes on on the same clock. The
 *   writer (recorder.c: chunks, WAV written on the pool) holds no jitter
 *   buffer of its own.
 * - Loop thread only. Callbacks: none run from here; a leg's DTMF handler
 *   (the end of its receive path) may free legs or the conference.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

struct mconf_member {
	struct mleg *l;
	struct jbuf *jb; /* while the conference mixes or records (DESIGN) */
};

struct mconf {
	struct media *m;
	uint64_t id;
	struct mixer *mx;
	struct mconf_member *mb[MIXER_MAX]; /* by mixer slot */
	uint32_t used;			    /* slots with a member */
	struct mleg *pair[2];		    /* the bridged pair while relaying */
	bool relaying;
	struct mlist le;  /* in m->confs while mixing or recording */
	struct mrec *rec; /* the recording, or NULL */
};

static const char *const mode_name[] = {
	[MIXER_TALK] = "talk",	 [MIXER_LISTEN] = "listen", [MIXER_WHISPER] = "whisper",
	[MIXER_BARGE] = "barge", [MIXER_HOLD] = "hold",
};

struct mconf *conf_from_le(struct mlist *n)
{
	return mlist_entry(n, struct mconf, le);
}

static inline int lowest(uint32_t set)
{
	return __builtin_ctz(set);
}

/* ---- modes ---- */
static void conf_relay_end(struct mconf *c)
{
	for (int i = 0; i < 2; i++)
		c->pair[i]->out.marker_next = true; /* the first mixed packet, if any */
	bridge_unpair(c->pair[0]);
	c->pair[0] = c->pair[1] = NULL;
	c->relaying = false;
}

/* Every member's buffer starts again with what arrives next (DESIGN). */
static void conf_jb_reset(struct mconf *c)
{
	for (uint32_t set = c->used; set; set &= set - 1)
		if (c->mb[lowest(set)]->jb)
			jb_reset(c->mb[lowest(set)]->jb);
}

/* Gives every member a jitter buffer: -ENOMEM (those made so far stay). */
static int conf_jb_ensure(struct mconf *c)
{
	for (uint32_t set = c->used; set; set &= set - 1) {
		struct mconf_member *mb = c->mb[lowest(set)];

		if (!mb->jb && !(mb->jb = mem_zalloc(sizeof(*mb->jb), NULL)))
			return -ENOMEM;
		mb->l->conf_jb = mb->jb; /* the receive path feeds it now */
	}
	return 0;
}

/* Jitter buffers and the mixer's frames, before anything may start mixing:
 * -ENOMEM (what was made so far stays; conf_trim takes it back). */
static int conf_mix_ensure(struct mconf *c)
{
	int err = conf_jb_ensure(c);

	return err ? err : mixer_reserve(c->mx);
}

/* A relay mixes nothing, so it needs no mixer frames, and unless it records
 * no jitter buffer either: a bridged call in a conference costs the mixer's
 * masks more than a media_bridge (~1 KB), and a recorded one the two
 * buffers a two-party recording has too. */
static void conf_trim(struct mconf *c)
{
	if (!c->relaying)
		return;
	mixer_release(c->mx);
	if (c->rec)
		return;
	for (uint32_t set = c->used; set; set &= set - 1) {
		struct mconf_member *mb = c->mb[lowest(set)];

		mb->jb = mem_deref(mb->jb);
		mb->l->conf_jb = NULL;
	}
}

/* Who feeds the recording, after every change of membership, mode or
 * recording: while relaying, the clock takes the customer's buffer and the
 * other member's straight into it (a two-party recording: no conference,
 * member or mixer on the way); while mixing, conf_tick hands it the
 * mixer's channels. */
static void conf_rec_route(struct mconf *c)
{
	int s = mixer_customer(c->mx), o;

	if (!c->rec)
		return;
	if (!c->relaying) {
		rec_unfollow(c->rec);
	} else if (s < 0) {
		rec_follow(c->rec, NULL, NULL); /* the customer left: silence */
	} else {
		o = (c->pair[0]->conf_slot == s ? c->pair[1] : c->pair[0])->conf_slot;
		rec_follow(c->rec, c->mb[s]->jb, c->mb[o]->jb);
	}
}

/* On the clock while mixing (some member). */
static void conf_clock_update(struct mconf *c)
{
	bool want = !c->m->closing && !c->relaying && c->used; /* a relay's recording
								   * is on the clock itself */

	if (want && !mlist_linked(&c->le)) {
		mlist_add(&c->m->confs, &c->le);
		media_clock_kick(c->m);
	} else if (!want && mlist_linked(&c->le)) {
		mlist_del(&c->le);
	}
}

/* Picks relay or mix after a change of membership or masks. */
static void conf_update(struct mconf *c)
{
	int a, b;
	bool relay = mixer_relay_pair(c->mx, &a, &b);

	/* the relay moves G.711 bytes: an Opus member is always mixed */
	if (relay && (!codec_is_g711(c->mb[a]->l->codec) || !codec_is_g711(c->mb[b]->l->codec)))
		relay = false;

	if (relay && c->relaying && c->pair[0] == c->mb[a]->l && c->pair[1] == c->mb[b]->l) {
		conf_trim(c); /* the same pair still relays: what was made for a mix goes */
		conf_rec_route(c);
		return;
	}
	if (c->relaying) {
		conf_relay_end(c);
		conf_jb_reset(c); /* mixing starts: nothing stale in the buffers */
	}
	if (relay) {
		/* anchoring marks the pair's next relayed packets (M) */
		c->pair[0] = c->mb[a]->l, c->pair[1] = c->mb[b]->l;
		bridge_pair(c->pair[0], c->pair[1]);
		c->relaying = true;
		conf_trim(c);
	} else if (conf_mix_ensure(c)) {
		/* only after a removal (the other paths ensure first): a member
		 * left without a buffer is silence, and without the mixer's
		 * frames everyone is, until the next change */
		log_warn("call=%llu leg=- action=conf mix: out of memory for a jitter buffer",
			 (unsigned long long)c->id);
	}
	conf_rec_route(c);
	log_info("call=%llu leg=- action=conf %s n=%zu", (unsigned long long)c->id,
		 relay ? "relay" : "mix", mixer_count(c->mx));
	conf_clock_update(c);
}

/* A member's codec changed (a WebRTC leg's is known once it connects):
 * an Opus member cannot be relayed, a G.711 pair can again. */
void conf_leg_codec(struct mleg *l)
{
	if (l->conf)
		conf_update(l->conf);
}

/* ---- the clock ---- */
/* Encodes what slot s hears in its leg's codec and sends it on its stream. */
static void conf_send(struct mconf *c, int s)
{
	struct mleg *l = c->mb[s]->l;
	int16_t pcm[MEDIA_FRAME];
	uint8_t *pl = c->m->txbuf + MEDIA_HDR_LEN;
	struct rtp_hdr h = {.pt = (uint8_t)l->pt, .payload = pl};
	int n;

	if (!mleg_takes_audio(l))
		return;
	mixer_get(c->mx, s, pcm);
	n = codec_encode(l, pcm, pl, MEDIA_PKT_MAX - MEDIA_HDR_LEN);
	if (n < 0)
		return;
	h.payload_len = (size_t)n;
	mstream_stamp_own(&l->out, &h, codec_ts_step(l));
	mleg_send(l, &h);
}

static void conf_record(struct mconf *c)
{
	int16_t cust[MEDIA_FRAME], others[MEDIA_FRAME];

	if (mixer_record(c->mx, cust, others)) { /* the customer has left: silence */
		memset(cust, 0, sizeof(cust));
		memset(others, 0, sizeof(others));
	}
	rec_frame(c->rec, cust, others);
}

void conf_tick(struct mconf *c, bool catchup)
{
	int16_t f[MEDIA_FRAME];
	bool feed = c->rec || !catchup; /* a skipped frame only moves the buffers on */

	if (c->relaying)
		return; /* not on the clock (conf_clock_update) */

	for (uint32_t set = c->used; set; set &= set - 1) {
		int s = lowest(set);

		if (c->mb[s]->jb && jb_take(c->mb[s]->jb, f) && feed)
			mixer_put(c->mx, s, f, MEDIA_FRAME);
	}
	if (!catchup && !c->relaying)
		for (uint32_t set = c->used; set; set &= set - 1)
			conf_send(c, lowest(set));
	if (c->rec)
		conf_record(c);
	mixer_tick(c->mx);
}

/* ---- membership ---- */
static bool mode_ok(enum mixer_mode mode)
{
	return mode >= MIXER_TALK && mode <= MIXER_HOLD;
}

/* The whisper target's slot (-1 when not whispering); -EINVAL when it is
 * not another member of c. */
static int conf_target(const struct mconf *c, const struct mleg *l, enum mixer_mode mode,
		       const struct mleg *target)
{
	if (mode != MIXER_WHISPER)
		return -1;
	if (!target || target == l || target->conf != c)
		return -EINVAL;
	return target->conf_slot;
}

static void member_destroy(void *data)
{
	struct mconf_member *mb = data;

	mem_deref(mb->jb);
}

static void conf_member_drop(struct mconf *c, struct mleg *l)
{
	int s = l->conf_slot;

	mixer_remove(c->mx, s);
	c->mb[s] = mem_deref(c->mb[s]);
	c->used &= ~MIXER_BIT(s);
	l->conf = NULL;
	l->conf_slot = -1;
	l->conf_jb = NULL;
}

int media_conf_add(struct mconf *c, struct mleg *l, enum mixer_mode mode, struct mleg *target)
{
	struct mconf_member *mb;
	int slot, tslot, err;

	if (!c || !l || l->closing || l->m != c->m || !mode_ok(mode))
		return -EINVAL;
	if (l->conf)
		return l->conf == c ? -EEXIST : -EBUSY;
	tslot = conf_target(c, l, mode, target);
	if (tslot == -EINVAL)
		return -EINVAL;
	/* buffers first, so that whatever mode follows, nothing fails after */
	mb = mem_zalloc(sizeof(*mb), member_destroy);
	err = !mb || !(mb->jb = mem_zalloc(sizeof(*mb->jb), NULL)) ? -ENOMEM : conf_jb_ensure(c);
	if (!err)
		err = mixer_add(c->mx, l->id, &slot); /* -ENOSPC full, -EEXIST same id */
	if (!err && mode != MIXER_TALK && (err = mixer_set_mode(c->mx, slot, mode, tslot)))
		mixer_remove(c->mx, slot);
	if (err) {
		conf_trim(c);
		mem_deref(mb);
		return err;
	}
	bridge_unpair(l); /* taken over from a two-party bridge, if it was in one */
	mb->l = l;
	c->mb[slot] = mb;
	c->used |= MIXER_BIT(slot);
	l->conf = c, l->conf_slot = slot, l->conf_jb = mb->jb;
	log_info("call=%llu leg=%llu action=conf add slot=%d mode=%s n=%zu",
		 (unsigned long long)c->id, (unsigned long long)l->id, slot, mode_name[mode],
		 mixer_count(c->mx));
	conf_update(c);
	return 0;
}

int media_conf_remove(struct mconf *c, struct mleg *l)
{
	if (!c || !l)
		return -EINVAL;
	if (l->conf != c)
		return -ENOENT;
	conf_member_drop(c, l);
	log_info("call=%llu leg=%llu action=conf remove n=%zu", (unsigned long long)c->id,
		 (unsigned long long)l->id, mixer_count(c->mx));
	conf_update(c); /* ends the relay if l was in the pair */
	return 0;
}

void conf_leg_gone(struct mleg *l)
{
	if (l->conf)
		media_conf_remove(l->conf, l);
}

int media_conf_set_mode(struct mconf *c, struct mleg *l, enum mixer_mode mode, struct mleg *target)
{
	int tslot, err;

	if (!c || !l || !mode_ok(mode))
		return -EINVAL;
	if (l->conf != c)
		return -ENOENT;
	tslot = conf_target(c, l, mode, target);
	if (tslot == -EINVAL)
		return -EINVAL;
	err = conf_mix_ensure(c); /* in case this ends a relay */
	if (!err)
		err = mixer_set_mode(c->mx, l->conf_slot, mode, tslot);
	if (err) {
		conf_trim(c);
		return err;
	}
	log_info("call=%llu leg=%llu action=conf mode=%s target=%lld", (unsigned long long)c->id,
		 (unsigned long long)l->id, mode_name[mode],
		 target && mode == MIXER_WHISPER ? (long long)target->id : -1LL);
	conf_update(c);
	return 0;
}

size_t media_conf_count(const struct mconf *c)
{
	return c ? mixer_count(c->mx) : 0;
}

bool media_conf_relaying(const struct mconf *c)
{
	return c && c->relaying;
}

/* ---- recording ---- */
int media_conf_record_start(struct mconf *c, struct mleg *customer, const char *path)
{
	int err;

	if (!c || !customer || !path)
		return -EINVAL;
	if (c->m->closing)
		return -ESHUTDOWN;
	if (customer->conf != c)
		return -ENOENT;
	if (c->rec)
		return -EBUSY;
	err = conf_jb_ensure(c); /* a relay that records feeds the buffers too */
	if (!err)
		err = rec_alloc(&c->rec, c->m, c->id, path);
	if (err) {
		conf_trim(c);
		return err;
	}
	mixer_set_customer(c->mx, customer->conf_slot);
	if (c->relaying)
		conf_jb_reset(c); /* not fed while relaying: start them afresh */
	conf_rec_route(c);
	conf_clock_update(c);
	log_info("call=%llu leg=%llu action=conf record start path=%s", (unsigned long long)c->id,
		 (unsigned long long)customer->id, path);
	return 0;
}

int media_conf_record_stop(struct mconf *c, media_record_done_h *done, void *arg)
{
	struct mrec *r;

	if (!c)
		return -EINVAL;
	if (!c->rec)
		return -ENOENT;
	r = c->rec;
	rec_unfollow(r);
	c->rec = NULL;
	mixer_set_customer(c->mx, -1);
	conf_trim(c);
	conf_rec_route(c);
	conf_clock_update(c);
	log_info("call=%llu leg=- action=conf record stop", (unsigned long long)c->id);
	rec_close(r, done, arg);
	return 0;
}

void conf_engine_closing(struct mconf *c)
{
	if (c->rec) {
		rec_close(c->rec, NULL, NULL);
		c->rec = NULL;
	}
	mlist_del(&c->le);
}

/* ---- lifetime ---- */
static void conf_destroy(void *data)
{
	struct mconf *c = data;

	if (c->relaying)
		conf_relay_end(c);
	for (uint32_t set = c->used; set; set &= set - 1) {
		struct mconf_member *mb = c->mb[lowest(set)];

		mb->l->conf = NULL;
		mb->l->conf_slot = -1;
		mb->l->conf_jb = NULL;
		mem_deref(mb);
	}
	if (c->rec)
		rec_close(c->rec, NULL, NULL);
	mlist_del(&c->le);
	mem_deref(c->mx);
	mem_deref(c->m);
}

int media_conf_alloc(struct mconf **cp, struct media *m, uint64_t id)
{
	struct mconf *c;
	int err;

	if (!cp || !m)
		return -EINVAL;
	if (m->closing)
		return -ESHUTDOWN;
	c = mem_zalloc(sizeof(*c), conf_destroy);
	if (!c)
		return -ENOMEM;
	c->m = mem_ref(m);
	c->id = id;
	err = mixer_alloc(&c->mx, id);
	if (err) {
		mem_deref(c);
		return err;
	}
	*cp = c;
	log_debug("call=%llu leg=- action=conf alloc", (unsigned long long)id);
	return 0;
}
