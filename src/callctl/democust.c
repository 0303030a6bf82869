/*
 * democust.c — the demo's customers: a built-in far end that answers every
 * call and speaks, so that click-to-call works on a fresh demo (issue 10: it
 * failed with "calls.outbound_uri is not set", and every record's phone link
 * was dead until an administrator set up a trunk).
 *
 * DESIGN
 * - Only in demo mode and only when calls.outbound_uri is not configured:
 *   main.c gives call control a port (the SIP port + 2) and points
 *   outbound_uri at it, so the customer leg of a click-to-call is an
 *   ordinary outbound SIP call, through the same code as a real trunk.
 * - A second SIP user agent of sip/ (its own SIP thread) on 127.0.0.1 at that
 *   port. Each INVITE is answered 200 at once with a media leg that plays a
 *   customer's sentence in a loop (espeak-ng through tts/, rendered once at
 *   start; a beep until it is ready); BYE or CANCEL ends it. No interaction
 *   is written for these legs: they are the outside world.
 * - The struct is refcounted: the text-to-speech render holds a reference,
 *   so a render that completes after democust_free touches only this struct.
 * - Everything runs on the loop thread except the UA's own SIP thread.
 */
#define LOG_MODULE "democust"
#include "callctl/callctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMOCUST_LEG_BASE (1ull << 40) /* media leg ids apart from the calls' */

struct dc_leg {
	sip_leg_t leg;
	struct mleg *m;
	UT_hash_handle hh;
};

struct democust {
	struct callctl *cc; /* NULL once freed (a late render finds it so) */
	struct sip_ua *ua;
	struct dc_leg *legs;
	int16_t *voice; /* refcounted by tts/ (mem_ref) */
	size_t voice_n;
	uint64_t next_id;
};

static const char SENTENCE[] =
	"Hello, this is the customer. Thank you for calling me back. My router keeps dropping "
	"the connection every evening, and I have restarted it twice already. What should I "
	"try next?";

static void dc_destroy(void *data)
{
	struct democust *d = data;

	if (d->voice)
		mem_deref(d->voice);
}

static void leg_end(struct democust *d, struct dc_leg *l)
{
	HASH_DEL(d->legs, l);
	mleg_free(l->m);
	free(l);
}

static void voice_done(int err, const int16_t *pcm, size_t n, void *arg)
{
	struct democust *d = arg;

	if (!err && d->cc && !d->voice) {
		d->voice = mem_ref((void *)pcm);
		d->voice_n = n;
	} else if (err && err != -ECANCELED) {
		log_warn("action=voice not rendered (%s): the demo customer beeps instead",
			 cc_strerror(err));
	}
	mem_deref(d);
}

static void play(struct democust *d, struct dc_leg *l)
{
	size_t n = 0;
	const int16_t *beep = media_beep(&n);

	if (d->voice)
		mleg_play_ref(l->m, d->voice, d->voice_n, true);
	else
		mleg_play(l->m, beep, n, true);
}

static void on_incoming(struct democust *d, const struct sip_event *ev)
{
	struct dc_leg *l = calloc(1, sizeof(*l));
	char sdp[1024];
	int codec;

	if (!l || mleg_alloc(&l->m, d->cc->media, DEMOCUST_LEG_BASE + d->next_id++)) {
		free(l);
		sip_leg_respond(d->ua, ev->leg, 503, "Demo customer busy", NULL);
		return;
	}
	codec = endpoint_sdp_answer(d->cc, l->m, ev->sdp, sdp, sizeof(sdp));
	if (codec < 0) {
		mleg_free(l->m);
		free(l);
		sip_leg_respond(d->ua, ev->leg, 488, "No common codec", NULL);
		return;
	}
	l->leg = ev->leg;
	HASH_ADD(hh, d->legs, leg, sizeof(l->leg), l);
	sip_leg_respond(d->ua, ev->leg, 200, "OK", sdp);
	play(d, l);
	log_info("leg=%llu action=answered number=%s (the demo's customer)",
		 (unsigned long long)ev->leg, ev->to_user);
}

static void on_event(const struct sip_event *ev, void *arg)
{
	struct democust *d = arg;
	struct dc_leg *l = NULL;

	switch (ev->kind) {
	case SIP_EV_INCOMING: on_incoming(d, ev); break;
	case SIP_EV_REGISTER: sip_register_reply(d->ua, ev->req, 403, "Not a registrar", 0); break;
	case SIP_EV_TERMINATED:
	case SIP_EV_FAILED:
		HASH_FIND(hh, d->legs, &ev->leg, sizeof(ev->leg), l);
		if (l)
			leg_end(d, l);
		break;
	default: break;
	}
}

/* Never fatal: without it click-to-call to outside numbers answers 409
 * no_route, as on a site with no trunk. */
int democust_start(struct callctl *cc)
{
	struct sip_ua_cfg sc = {0};
	struct democust *d;
	int err = -EADDRINUSE;

	if (!cc->cfg.demo_customer_port || cc->cfg.outbound_uri[0])
		return 0;
	d = mem_zalloc(sizeof(*d), dc_destroy);
	if (!d)
		return 0;
	d->cc = cc;
	str_copy(sc.address, cc->cfg.sip_address, sizeof(sc.address));
	str_copy(sc.realm, cc->cfg.realm, sizeof(sc.realm));
	/* the port asked for, else the next few (a test's random SIP port may
	 * have a neighbour in use) */
	for (int i = 0; i < 10 && err; i++) {
		sc.port = cc->cfg.demo_customer_port + i;
		if (sc.port <= 65535)
			err = sip_ua_alloc(&d->ua, cc->loop, &sc, on_event, d);
	}
	if (err) {
		log_warn("action=no demo customer (%s): click-to-call to outside numbers is "
			 "refused until calls.outbound_uri is set",
			 cc_strerror(err));
		mem_deref(d);
		return 0;
	}
	cc->democust = d;
	snprintf(cc->cfg.outbound_uri, sizeof(cc->cfg.outbound_uri), "sip:%s:%d", sc.address,
		 sc.port);
	if (cc->tts) {
		mem_ref(d); /* held by the render; voice_done drops it */
		if (tts_render(cc->tts, SENTENCE, NULL, voice_done, d))
			mem_deref(d);
	}
	log_info("action=listening sip:%s:%d: every number dialled out is answered by a demo "
		 "customer who speaks (calls.outbound_uri is not set)",
		 sc.address, sc.port);
	return 0;
}

void democust_free(struct callctl *cc)
{
	struct democust *d = cc->democust;
	struct dc_leg *l, *tmp;

	if (!d)
		return;
	cc->democust = NULL;
	sip_ua_free(d->ua);
	HASH_ITER(hh, d->legs, l, tmp) leg_end(d, l);
	d->cc = NULL;
	mem_deref(d);
}
