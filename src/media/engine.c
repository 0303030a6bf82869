/*
 * engine.c — the media engine: configuration, the RTP port pool, the one
 * media clock, recycled recorder chunks, and the engine's lifetime.
 *
 * DESIGN
 * - Ports: the range [port_min, port_max] is cut into even/odd pairs (RTP,
 *   RTCP). A byte map marks pairs we hold and a cursor moves round the
 *   range, so the next free pair is usually the one under the cursor (O(1)
 *   typical, O(range) worst case when nearly full). A pair someone else
 *   holds fails bind() and is skipped; when no pair can be bound,
 *   mleg_alloc returns -EADDRINUSE.
 * - The media clock is one repeating 20 ms uv_timer for the whole engine.
 *   It runs only while some leg plays / sends DTMF, some recording runs or
 *   some conference mixes (or records), and walks just those three
 *   intrusive lists: conferences first, so a leg whose playback ends this
 *   frame gets its mix from the next one (one packet a frame). Each tick
 *   computes from uv_now() how many 20 ms frames are due since the clock
 *   started, so a late timer is caught up (at most 5 frames a tick; beyond
 *   that the frames are skipped rather than sent in a burst, but still
 *   given to recordings).
 * - Lifetime: struct media is refcounted. The owner, every open leg (until
 *   its sockets' close callbacks), every recorder (until its file is
 *   closed), every conference and the clock handle hold a reference, so
 *   media_free can return at once and memory goes when the last of them
 *   lets go. media_free stops conference recordings (the legs leave their
 *   conferences as they close).
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_FREE_MAX 64 /* recycled chunks kept (480 KB) */

/* ---- intrusive list ---- */
void mlist_init(struct mlist *h)
{
	h->prev = h->next = h;
}

void mlist_add(struct mlist *h, struct mlist *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

void mlist_del(struct mlist *n)
{
	if (!mlist_linked(n))
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

bool mlist_linked(const struct mlist *n)
{
	return n->next != NULL;
}

/* ---- recorder chunks ---- */
struct mrec_chunk *media_chunk_get(struct media *m)
{
	struct mrec_chunk *c = m->chunk_free;

	if (c) {
		m->chunk_free = c->next;
		m->chunk_nfree--;
	} else {
		c = mem_zalloc(sizeof(*c), NULL);
		if (!c)
			return NULL;
		if (++m->chunk_live > m->chunk_peak)
			m->chunk_peak = m->chunk_live;
	}
	c->next = NULL;
	c->frames = 0;
	return c;
}

struct mrec_chunk *media_chunk_silent(void)
{
	struct mrec_chunk *c = mem_zalloc(offsetof(struct mrec_chunk, pcm), NULL);

	if (c)
		c->silent = true;
	return c;
}

void media_chunk_put(struct media *m, struct mrec_chunk *c)
{
	if (c && c->silent) {
		mem_deref(c);
		return;
	}
	if (!c)
		return;
	if (m->chunk_nfree >= CHUNK_FREE_MAX) {
		mem_deref(c);
		m->chunk_live--;
		return;
	}
	c->next = m->chunk_free;
	m->chunk_free = c;
	m->chunk_nfree++;
}

/* ---- the clock ---- */
void media_clock_frame(struct media *m)
{
	struct mlist *n, *next;

	for (n = m->confs.next; n != &m->confs; n = next) {
		next = n->next;
		conf_tick(conf_from_le(n), false);
	}
	for (n = m->players.next; n != &m->players; n = next) {
		next = n->next; /* player_tick may unlink n */
		player_tick(mlist_entry(n, struct mleg, ple));
	}
	for (n = m->recs.next; n != &m->recs; n = next) {
		next = n->next;
		rec_tick(rec_from_le(n));
	}
}

static bool media_clock_idle(const struct media *m)
{
	return m->players.next == &m->players && m->recs.next == &m->recs &&
	       m->confs.next == &m->confs;
}

static void media_clock_cb(uv_timer_t *t)
{
	struct media *m = t->data;
	uint64_t due = (uv_now(m->loop) - m->clock_base) / MEDIA_CLOCK_MS;

	if (due > m->clock_done + MEDIA_CLOCK_MAXF) {
		uint64_t skip = due - m->clock_done - MEDIA_CLOCK_MAXF;
		struct mlist *n, *next;

		log_warn("leg=- action=clock late by %llu frames, skipping playback",
			 (unsigned long long)skip);
		m->clock_st.late++;
		m->clock_st.late_frames += skip;
		/* Playback skips ahead (no burst to the far end), but a
		 * recording keeps the call's length: its missed frames are
		 * written now (silence where no audio was buffered). */
		for (uint64_t f = 0; f < skip && f < MEDIA_REC_CATCHUP_MAX; f++) {
			for (n = m->recs.next; n != &m->recs; n = next) {
				next = n->next;
				rec_tick(rec_from_le(n));
			}
			for (n = m->confs.next; n != &m->confs; n = next) {
				next = n->next;
				conf_tick(conf_from_le(n), true);
			}
		}
		m->clock_done = due - MEDIA_CLOCK_MAXF;
	} else if (due > m->clock_done + 1) {
		m->clock_st.catchup++;
	}
	while (m->clock_done < due) {
		m->clock_done++;
		media_clock_frame(m);
	}
	if (media_clock_idle(m)) {
		uv_timer_stop(&m->clock);
		m->clock_on = false;
	}
}

/*
 * The clock's timer runs only between libuv's I/O passes, and a pass may
 * last long: when more sockets are readable than one epoll_wait returns
 * (1,024), libuv polls again, up to 48 times, before it runs timers. At
 * 2,000 legs a loop after a preemption sat in such passes for 100-200 ms
 * and its clock skipped frames. So the read path asks every
 * MEDIA_CLOCK_POLL_RX reads whether a tick is due and runs it there.
 */
void media_clock_poll(struct media *m)
{
	if (++m->rx_since_clock < MEDIA_CLOCK_POLL_RX || !m->clock_on || m->closing)
		return;
	m->rx_since_clock = 0;
	uv_update_time(m->loop);
	if ((uv_now(m->loop) - m->clock_base) / MEDIA_CLOCK_MS > m->clock_done)
		media_clock_cb(&m->clock);
}

void media_clock_kick(struct media *m)
{
	if (m->clock_on || m->closing || media_clock_idle(m))
		return;
	m->clock_base = uv_now(m->loop);
	m->clock_done = 0;
	m->clock_on = true;
	uv_timer_start(&m->clock, media_clock_cb, MEDIA_CLOCK_MS, MEDIA_CLOCK_MS);
}

/* ---- configuration ---- */
static int media_cfg_apply(struct media *m, const struct media_cfg *cfg)
{
	int min, max;

	m->cfg = *cfg;
	if (!m->cfg.address[0])
		str_copy(m->cfg.address, "127.0.0.1", sizeof(m->cfg.address));
	min = cfg->port_min ? cfg->port_min : 20000;
	max = cfg->port_max ? cfg->port_max : 29999;
	min += min & 1;
	if (min < 1 || max > 65535 || max < min + 1)
		return -EINVAL;
	if (cfg->opus_complexity < 0 || cfg->opus_complexity > 10)
		return -EINVAL;
	m->cfg.port_min = min, m->cfg.port_max = max;
	m->npairs = (max - min + 1) / 2;
	if (!uv_ip4_addr(m->cfg.address, 0, (struct sockaddr_in *)&m->bind_addr))
		return 0;
	if (!uv_ip6_addr(m->cfg.address, 0, (struct sockaddr_in6 *)&m->bind_addr))
		return 0;
	return -EINVAL;
}

static void media_destroy(void *data)
{
	struct media *m = data;
	struct mrec_chunk *c;

	while ((c = m->chunk_free)) {
		m->chunk_free = c->next;
		mem_deref(c);
	}
	free(m->ports);
}

int media_alloc(struct media **mp, uv_loop_t *loop, const struct media_cfg *cfg)
{
	struct media *m;
	int err;

	if (!mp || !loop || !cfg)
		return -EINVAL;
	m = mem_zalloc(sizeof(*m), media_destroy);
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	mlist_init(&m->legs), mlist_init(&m->players), mlist_init(&m->recs);
	mlist_init(&m->confs);
	err = media_cfg_apply(m, cfg);
	if (err)
		goto out;
	m->ports = calloc((size_t)m->npairs, 1);
	if (!m->ports) {
		err = -ENOMEM;
		goto out;
	}
	err = uv_timer_init(loop, &m->clock);
	if (err)
		goto out;
	m->clock.data = mem_ref(m); /* dropped in the clock's close callback */
	media_audio_init();
	/* debug: every media worker has an engine of its own (call control
	 * logs the range and the workers once) */
	log_debug("leg=- action=started rtp %s:%d-%d (%d pairs)", m->cfg.address, m->cfg.port_min,
		  m->cfg.port_max, m->npairs);
	*mp = m;
	return 0;
out:
	mem_deref(m);
	return err;
}

static void media_clock_closed(uv_handle_t *h)
{
	mem_deref(h->data);
}

void media_clock_stats(const struct media *m, struct media_clock_stats *st)
{
	*st = m->clock_st;
}

void media_totals(const struct media *m, struct media_stats *st, uint64_t *legs)
{
	*st = m->gone;
	*legs = m->legs_total;
	for (const struct mlist *n = m->legs.next; n != &m->legs; n = n->next) {
		const struct mleg *l = mlist_entry(n, struct mleg, le);
		st->rx_packets += l->st.rx_packets, st->tx_packets += l->st.tx_packets;
		st->rx_bytes += l->st.rx_bytes, st->tx_bytes += l->st.tx_bytes;
		st->rx_lost += l->st.rx_lost, st->rx_bad += l->st.rx_bad;
		st->rx_undecodable += l->st.rx_undecodable;
	}
}

void media_free(struct media *m)
{
	struct mlist *n, *next;
	struct media_stats st;
	uint64_t legs;

	if (!m || m->closing)
		return;
	media_totals(m, &st, &legs);
	log_info("leg=- action=totals legs=%llu rx=%llu tx=%llu lost=%llu bad=%llu "
		 "rec_chunks_peak=%zu (%zu bytes each) clock_late=%llu catchup=%llu",
		 (unsigned long long)legs, (unsigned long long)st.rx_packets,
		 (unsigned long long)st.tx_packets, (unsigned long long)st.rx_lost,
		 (unsigned long long)st.rx_bad, m->chunk_peak, sizeof(struct mrec_chunk),
		 (unsigned long long)m->clock_st.late, (unsigned long long)m->clock_st.catchup);
	m->closing = true;
	for (n = m->legs.next; n != &m->legs; n = next) {
		next = n->next;
		mleg_free(mlist_entry(n, struct mleg, le));
	}
	for (n = m->confs.next; n != &m->confs; n = next) {
		next = n->next;
		conf_engine_closing(conf_from_le(n));
	}
	uv_timer_stop(&m->clock);
	uv_close((uv_handle_t *)&m->clock, media_clock_closed);
	mem_deref(m);
}

size_t media_leg_count(const struct media *m)
{
	return m ? m->nlegs : 0;
}
