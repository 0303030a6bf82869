/*
 * endpoint.c — the SIP + RTP endpoint: what a leg's transport does, behind
 * struct leg_ops, so call control never reaches into sofia or RTP details.
 *
 * DESIGN
 * - One const vtable with a version (CONVENTIONS §12). A leg's ops are set
 *   when the call is made (cc->leg_ops: this one in the server, a recording
 *   fake in tests/unit/test_callctl.c); the browser's WebRTC leg is the
 *   next kind.
 * - Here a leg is a sofia leg id (signalling, on the SIP thread behind
 *   sip.h) plus a media leg on a media worker (struct mwleg: RTP on that
 *   worker's loop, media.h "media workers"). Every leg of a call, and its
 *   conference, is on one worker: the call's, chosen when it makes its
 *   first leg (the one with the fewest legs). Media legs are numbered from
 *   the call's id: 16n + the leg's sequence in the call.
 * - A browser's leg (browser.c) is a leg of the main loop's engine (l->lm,
 *   under its WebRTC transport) with a stand-in on the call's worker
 *   (mwleg_attach): everything below works on the stand-in.
 * - The call's legs meet in one media conference (c->conf, mwconf_*),
 *   made on the first join and freed with the call: two legs that hear
 *   each other are relayed as a plain bridge; a third mixes; the recording
 *   is the conference's (the customer, and what the customer hears).
 * - SDP: our offer lists PCMU and PCMA (with RFC 4733 events); an answer
 *   names the codec the far end offered first that we have. A far end's
 *   SDP that does not parse, or names no codec we have, is unusable (-1).
 *   A re-INVITE with sendonly, inactive or 0.0.0.0 is hold.
 */
#define LOG_MODULE "callctl"
#include "callctl/callctl_int.h"

#include <string.h>

static struct callctl *cc_of(const struct cleg *l)
{
	return l->call->cc;
}

static int local_sdp(struct callctl *cc, int port, int codec, char *buf, size_t size)
{
	struct sdp_audio a = {
		.port = port, .telephone_event_pt = 101, .dir = SDP_SENDRECV, .ptime = 20};

	str_copy(a.addr, cc->cfg.rtp_address, sizeof(a.addr));
	if (codec >= 0) {
		a.fmts[a.n_fmts++] = codec;
	} else {
		a.fmts[a.n_fmts++] = MEDIA_PCMU;
		a.fmts[a.n_fmts++] = MEDIA_PCMA;
	}
	return sdp_build(buf, size, &a, (uint64_t)time_now_ms(), 1) < 0 ? -ENOSPC : 0;
}

/* The far end's SDP: its audio and the codec we take (-1: unusable). */
static int remote_parse(const char *sdp, struct sdp_audio *a)
{
	if (!sdp || sdp_audio_parse(sdp, strlen(sdp), a) || a->port <= 0)
		return -1;
	return sdp_pick_codec(a);
}

/* Applies the far end's SDP to a worker's leg; returns the codec or -1. */
static int remote_apply(struct mwleg *m, const char *sdp)
{
	struct sdp_audio a;
	int codec = m ? remote_parse(sdp, &a) : -1;

	if (codec < 0)
		return -1;
	return mwleg_set_remote(m, a.addr, a.port, (enum media_codec)codec, a.telephone_event_pt)
		       ? -1
		       : codec;
}

int endpoint_sdp_answer(struct callctl *cc, struct mleg *m, const char *offer, char *buf,
			size_t size)
{
	struct sdp_audio a;
	int codec = remote_parse(offer, &a);

	if (codec < 0 ||
	    mleg_set_remote(m, a.addr, a.port, (enum media_codec)codec, a.telephone_event_pt))
		return -1;
	return local_sdp(cc, mleg_port(m), codec, buf, size) ? -1 : codec;
}

/* ---- signalling ---- */
static void ep_refuse(struct callctl *cc, sip_leg_t leg, int status, const char *reason)
{
	sip_leg_respond(cc->ua, leg, status, reason, NULL);
}

/* unique within the conference: at most CALL_MAX_LEGS live at once */
static uint64_t media_id(const struct cleg *l)
{
	return l->call->id * 16 + l->seq % 16;
}

/* The call's media worker: chosen when it makes its first leg. */
static int call_worker(struct call *c)
{
	if (c->worker < 0)
		c->worker = mw_place(c->cc->mw);
	return c->worker;
}

static int ep_media(struct cleg *l)
{
	if (l->m)
		return 0;
	return mwleg_alloc(&l->m, cc_of(l)->mw, call_worker(l->call), media_id(l)) ? -EADDRINUSE
										   : 0;
}

int endpoint_media_local(struct cleg *l)
{
	struct callctl *cc = cc_of(l);

	if (l->m)
		return 0;
	if (mleg_alloc(&l->lm, cc->media, media_id(l)))
		return -EADDRINUSE;
	if (mwleg_attach(&l->m, cc->mw, call_worker(l->call), media_id(l), l->lm)) {
		mleg_free(l->lm);
		l->lm = NULL;
		return -EADDRINUSE;
	}
	return 0;
}

static int ep_answer(struct cleg *l, const char *offer)
{
	char sdp[1024];
	int codec;

	if (ep_media(l))
		return 503;
	codec = remote_apply(l->m, offer);
	if (codec < 0)
		return 488;
	if (local_sdp(cc_of(l), mwleg_port(l->m), codec, sdp, sizeof(sdp)))
		return 500;
	return sip_leg_respond(cc_of(l)->ua, l->leg, 200, "OK", sdp) ? 500 : 0;
}

static int ep_dial(struct cleg *l, const char *uri, const char *from_user, const char *from_name,
		   bool auto_answer)
{
	struct callctl *cc = cc_of(l);
	char sdp[1024];
	sip_leg_t leg;
	int err = ep_media(l);

	if (err)
		return err;
	if (local_sdp(cc, mwleg_port(l->m), -1, sdp, sizeof(sdp)) ||
	    (auto_answer ? sip_leg_invite_auto : sip_leg_invite)(cc->ua, &leg, uri, from_user,
								 from_name, sdp))
		return -EIO;
	call_leg_bind(cc, l, leg);
	return 0;
}

static int ep_remote(struct cleg *l, const char *sdp)
{
	return remote_apply(l->m, sdp) < 0 ? -1 : 0;
}

static int ep_reoffer(struct cleg *l, const char *sdp, bool *hold)
{
	struct sdp_audio a;

	if (!l->m || !sdp || sdp_audio_parse(sdp, strlen(sdp), &a))
		return -1;
	*hold = a.dir == SDP_SENDONLY || a.dir == SDP_INACTIVE || !strcmp(a.addr, "0.0.0.0");
	if (!*hold && remote_apply(l->m, sdp) < 0)
		log_warn("call=%s action=re-INVITE with no usable media kept the old",
			 l->call->ix_number);
	return 0;
}

static void ep_hangup(struct cleg *l)
{
	sip_leg_hangup(cc_of(l)->ua, l->leg);
}

static int ep_refer_reply(struct cleg *l, int status, const char *reason)
{
	return sip_leg_refer_reply(cc_of(l)->ua, l->leg, status, reason);
}

static void ep_release(struct cleg *l)
{
	if (!l->m)
		return;
	mwleg_free(l->m); /* out of the call's conference too */
	l->m = NULL;
	mleg_free(l->lm); /* a browser's: its WebRTC leg was freed first */
	l->lm = NULL;
}

/* ---- media ---- */
static int ep_play(struct cleg *l, const int16_t *pcm, size_t n, bool loop)
{
	return l->m ? mwleg_play(l->m, pcm, n, loop) : -ENODEV;
}

static int ep_play_ref(struct cleg *l, int16_t *pcm, size_t n, bool loop)
{
	return l->m ? mwleg_play_ref(l->m, pcm, n, loop) : -ENODEV;
}

static void ep_stop(struct cleg *l)
{
	if (l->m)
		mwleg_stop(l->m);
}

static void ep_stats(const struct cleg *l, struct media_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (l->m)
		mwleg_stats(l->m, st);
}

static int ep_send_dtmf(struct cleg *l, char digit)
{
	return l->m ? mwleg_send_dtmf(l->m, digit) : -ENODEV;
}

static void ep_on_dtmf(struct cleg *l, mleg_dtmf_h *h, void *arg)
{
	if (l->m)
		mwleg_set_dtmf_handler(l->m, h, arg);
}

static void ep_on_audio(struct cleg *l, mleg_audio_h *h, void *arg)
{
	if (l->m)
		mwleg_set_audio_handler(l->m, h, arg);
}

/* ---- the call's conference, on the call's worker ---- */
static int ep_join(struct cleg *l, enum mixer_mode mode, struct cleg *target)
{
	struct call *c = l->call;

	if (!l->m || (target && !target->m))
		return -ENODEV;
	if (!c->conf && mwconf_alloc(&c->conf, cc_of(l)->mw, call_worker(c), c->id))
		return -ENOMEM;
	return mwconf_join(c->conf, l->m, mode, target ? target->m : NULL);
}

static int ep_leave(struct cleg *l)
{
	return l->m && l->call->conf ? mwconf_leave(l->call->conf, l->m) : -ENOENT;
}

static int ep_record_start(struct cleg *customer, const char *path)
{
	if (!customer->m || !customer->call->conf)
		return -ENODEV;
	return mwconf_record_start(customer->call->conf, customer->m, path);
}

static int ep_record_stop(struct call *c, media_record_done_h *done, void *arg)
{
	return c->conf ? mwconf_record_stop(c->conf, done, arg) : -ENODEV;
}

static void ep_conf_free(struct call *c)
{
	c->conf = mem_deref(c->conf);
}

const struct leg_ops sip_leg_ops = {
	.version = LEG_OPS_VERSION,
	.name = "sip",
	.refuse = ep_refuse,
	.media = ep_media,
	.answer = ep_answer,
	.dial = ep_dial,
	.remote = ep_remote,
	.reoffer = ep_reoffer,
	.hangup = ep_hangup,
	.refer_reply = ep_refer_reply,
	.release = ep_release,
	.play = ep_play,
	.play_ref = ep_play_ref,
	.stop = ep_stop,
	.stats = ep_stats,
	.send_dtmf = ep_send_dtmf,
	.on_dtmf = ep_on_dtmf,
	.on_audio = ep_on_audio,
	.join = ep_join,
	.leave = ep_leave,
	.record_start = ep_record_start,
	.record_stop = ep_record_stop,
	.conf_free = ep_conf_free,
};
