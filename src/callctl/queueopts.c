/*
 * queueopts.c — what a flow's queue block asks of the wait (docs/FLOWS.md):
 * its own hold music, periodic position and expected-wait announcements,
 * and a maximum wait after which the caller leaves the queue and the flow
 * goes on at the block's overflow branch.
 *
 * DESIGN
 * - The options are copied into the call (struct call_qopts) when the flow
 *   ends into the queue, so nothing here reads the flow while the caller
 *   waits; the hold music is a shared prompt file (prompt_file_get), played
 *   by reference and looped.
 * - Two timers per waiting call: the max wait, and the announcement (which
 *   also times the announcement's end). An announcement is rendered by TTS
 *   on the pool; the result is dropped if the call left the queue meanwhile
 *   (announce_seq; the render holds a reference on the call).
 *   The next announcement is announce_every seconds after the last one
 *   ended, so a long sentence never stacks on the next.
 * - The max wait lets a ringing offer win: when it passes while an agent's
 *   phone rings, the call overflows only if that offer fails (a caller is
 *   not pulled away from an agent who is picking up). The offer is bounded
 *   by the offer timeout, so the overflow is late by at most that much.
 * - The queue's own settings (an administrator's, queues.c in routing) fill
 *   in what the block left unset: its hold music, and its maximum wait with
 *   an overflow queue. A queue's overflow moves the caller to that queue
 *   (where that queue's settings apply in turn); a block's resumes the flow.
 * - Overflow: routing takes the caller out of the queue without closing
 *   the interaction (queued → New, an activity note), then the flow resumes
 *   (flow_call_resume). A hang-up from there is "before the queue": Closed
 *   Complete (SPEC.md Table 1; docs/FLOWS.md).
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void announce_arm(struct call *c);
static void music_ref(struct call *c, const char *file);

/* The call an announcement is for, while it still waits in the queue. */
static struct call *queued_call(const struct call_work *w)
{
	struct call *c = call_work_call(w);

	return c && (c->state == CALL_QUEUED || c->state == CALL_OFFERING) ? c : NULL;
}

/* ---- announcements ---- */
/* "You are number 2 in the queue. The expected wait is about 4 minutes." */
static void announce_text(const struct queue_wait *w, char *out, size_t size)
{
	int m = (w->estimate_s + 30) / 60;
	char wait[48];

	if (w->estimate_s < 60)
		snprintf(wait, sizeof(wait), "less than a minute");
	else
		snprintf(wait, sizeof(wait), "about %d minute%s", m, m == 1 ? "" : "s");
	snprintf(out, size, "You are number %d in the queue. The expected wait is %s.", w->position,
		 wait);
}

/* The announcement has played: music again, and the next one later. */
static void announce_over(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->announce_timer);
	c->q.announcing = false;
	if (c->state != CALL_QUEUED && c->state != CALL_OFFERING)
		return;
	hold_music(c);
	announce_arm(c);
}

static void announce_rendered(int err, const int16_t *pcm, size_t n, void *arg)
{
	struct call_work *r = arg;
	struct call *c = err == -ECANCELED ? NULL : queued_call(r);

	if (c && c->q.announce_seq == r->seq) {
		if (err || !call_customer(c)->m ||
		    call_customer(c)->ops->play_ref(call_customer(c), (int16_t *)pcm, n, false)) {
			log_warn("call=%s action=announcement not played: %s", c->ix_number,
				 cc_strerror(err ? err : -EIO));
			announce_arm(c);
		} else {
			c->q.announcing = true;
			ctimer_start(c, &c->announce_timer, announce_over,
				     (int)(n * 1000 / MEDIA_RATE) + 1);
		}
	}
	call_work_free(r);
}

static void announce_fired(uv_timer_t *t)
{
	struct call *c = t->data;
	struct call_work *r;
	struct queue_wait w;
	char text[160];

	ctimer_stop(&c->announce_timer);
	if (c->state != CALL_QUEUED || routing_ix_queue_wait(c->cc->r, c->ix_id, &w)) {
		announce_arm(c); /* an agent's phone rings: not now */
		return;
	}
	announce_text(&w, text, sizeof(text));
	log_debug("call=%s queue=%s action=announce position=%d estimate_s=%d aht_s=%d "
		  "working=%zu waited_s=%d text=\"%s\"",
		  c->ix_number, w.queue, w.position, w.estimate_s, w.aht_s, w.working, w.waited_s,
		  text);
	r = call_work_new(c, ++c->q.announce_seq);
	if (!r || tts_render(c->cc->tts, text, NULL, announce_rendered, r)) {
		call_work_free(r);
		log_warn("call=%s action=announcement not rendered", c->ix_number);
		announce_arm(c);
	}
}

static void announce_arm(struct call *c)
{
	if (c->q.announce_every_s > 0)
		ctimer_start(c, &c->announce_timer, announce_fired, c->q.announce_every_s * 1000);
}

/* ---- the maximum wait ---- */
static void overflow(struct call *c)
{
	int waited = (int)((time_now_ms() - c->q.since_ms + 500) / 1000);
	int target = c->q.overflow;
	char note[200];

	snprintf(note, sizeof(note), "Left queue %s after %d s: overflow to %s", c->q.queue, waited,
		 c->q.overflow_to);
	log_info("call=%s queue=%s action=max wait (%d s) passed: overflow to %s", c->ix_number,
		 c->q.queue, c->q.max_wait_s, c->q.overflow_to);
	if (routing_ix_dequeue(c->cc->r, c->ix_id, note))
		log_error("call=%s action=dequeue failed", c->ix_number);
	if (c->q.overflow_queue_id) { /* the queue's own overflow: the next queue */
		int64_t to = c->q.overflow_queue_id;
		call_queue_opts_end(c);
		call_enqueue(c, to, 0);
		return;
	}
	call_queue_opts_end(c);
	call_event(c, CEV_OVERFLOW, &(struct call_arg){.block = target});
}

/* QUEUED → FLOW: the flow goes on at the block's overflow branch. */
void act_overflow_resume(struct call *c, enum call_state from, struct call_arg *a)
{
	if (call_customer(c)->m)
		call_customer(c)->ops->stop(call_customer(c));
	flow_call_resume(c->fc, a->block); /* may end the call */
	(void)from;
}

static void wait_fired(uv_timer_t *t)
{
	struct call *c = t->data;

	ctimer_stop(&c->wait_timer);
	if (c->state == CALL_OFFERING) {
		log_info("call=%s action=max wait passed while an offer rings: it goes on",
			 c->ix_number);
		c->q.overflow_due = true;
		return;
	}
	if (c->state == CALL_QUEUED)
		overflow(c);
}

void call_queue_offer_failed(struct call *c)
{
	if (c->q.overflow_due && c->state == CALL_QUEUED && (c->fc || c->q.overflow_queue_id))
		overflow(c);
}

/* ---- entering and leaving ---- */
/* What the activity says the caller overflows to: a queue, or a block. */
static void overflow_name(struct call *c, const struct flow_block *b)
{
	const struct flow_block *to = c->fc ? flow_call_block(c->fc, b->overflow) : NULL;

	c->q.overflow = b->overflow;
	if (!to)
		snprintf(c->q.overflow_to, sizeof(c->q.overflow_to), "hang up");
	else if (to->kind == FLOW_QUEUE)
		snprintf(c->q.overflow_to, sizeof(c->q.overflow_to), "%.60s", to->queue);
	else
		snprintf(c->q.overflow_to, sizeof(c->q.overflow_to), "block '%.60s'", to->name);
}

void call_queue_opts_begin(struct call *c, const struct flow_block *b)
{
	call_queue_opts_end(c);
	str_copy(c->q.queue, b->queue, sizeof(c->q.queue));
	c->q.since_ms = time_now_ms();
	c->q.max_wait_s = c->fc ? b->max_wait_s : 0; /* overflow resumes the flow */
	c->q.announce_every_s = b->announce_every_s;
	overflow_name(c, b);
	if (b->hold_music)
		music_ref(c, b->hold_music);
	if (c->q.max_wait_s > 0)
		ctimer_start(c, &c->wait_timer, wait_fired, c->q.max_wait_s * 1000);
	announce_arm(c);
}

static void music_ref(struct call *c, const char *file)
{
	char err[700];
	const struct prompt_file *p = prompt_file_get(c->cc, file, err, sizeof(err));

	/* our own reference: a reload may drop the prompt cache meanwhile */
	c->q.music = p ? mem_ref(p->pcm) : NULL;
	c->q.music_n = p ? p->n : 0;
	if (c->q.music)
		log_info("call=%s queue=%s action=hold music file=%s", c->ix_number, c->q.queue,
			 file);
	else
		log_warn("call=%s queue=%s action=hold music %s: %s (the default plays)",
			 c->ix_number, c->q.queue, file, err);
}

void call_queue_defaults(struct call *c, int64_t queue_id)
{
	const struct st_queue *q = routing_queue_rec(c->cc->r, queue_id);
	const struct st_queue *to;

	if (!q)
		return;
	if (!c->q.queue[0]) { /* no flow block: the queue's settings alone */
		str_copy(c->q.queue, q->name, sizeof(c->q.queue));
		c->q.since_ms = time_now_ms();
		c->q.overflow = -1;
	}
	if (!c->q.music && q->hold_music[0])
		music_ref(c, q->hold_music);
	to = q->overflow_queue_id ? routing_queue_rec(c->cc->r, q->overflow_queue_id) : NULL;
	if (c->q.max_wait_s || q->max_wait_s <= 0 || !to || to->deleted || to->id == q->id)
		return;
	c->q.max_wait_s = q->max_wait_s;
	c->q.overflow_queue_id = to->id;
	snprintf(c->q.overflow_to, sizeof(c->q.overflow_to), "%.60s", to->name);
	ctimer_start(c, &c->wait_timer, wait_fired, c->q.max_wait_s * 1000);
}

void call_queue_music(struct call *c, int64_t queue_id)
{
	const struct st_queue *q = routing_queue_rec(c->cc->r, queue_id);

	call_queue_opts_end(c);
	if (!q)
		return;
	str_copy(c->q.queue, q->name, sizeof(c->q.queue));
	if (q->hold_music[0])
		music_ref(c, q->hold_music);
}

void call_queue_opts_end(struct call *c)
{
	ctimer_stop(&c->wait_timer);
	ctimer_stop(&c->announce_timer);
	mem_deref(c->q.music);
	memset(&c->q, 0, sizeof(c->q));
	c->q.overflow = -1;
}
