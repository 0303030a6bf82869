/*
 * media.h — RTP media on the loop thread: legs (one RTP socket each, from a
 * port range), G.711 µ-law/A-law with transcoding, RFC 4733 DTMF, a jitter
 * buffer where the server consumes audio, pass-through relay where it only
 * bridges, playback (prompts, looping hold music), two-party bridges,
 * conferences of N legs through the mixer, and stereo WAV recording (caller
 * left, agent right; or a conference's customer and what the customer
 * hears) written off the loop.
 *
 * One media clock (a 20 ms uv_timer) walks every playing leg, every
 * recording and every mixing conference; there is no timer per call. Thread: loop thread only (the
 * recorder's file writes run on libuv's worker pool).
 */
#ifndef SB_MEDIA_H
#define SB_MEDIA_H

#include "core/core.h"

#define MEDIA_RATE  8000
#define MEDIA_FRAME 160 /* samples in 20 ms */

/* The value is the codec's static payload type; Opus's (dynamic) is
 * whatever its SDP says (mleg_set_peer), 111 by default. */
enum media_codec { MEDIA_PCMU = 0, MEDIA_PCMA = 8, MEDIA_OPUS = 111 };
const char *media_codec_name(enum media_codec c);

/* ---- RTP (RFC 3550), parsed by hand: fuzzed ---- */
struct rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	const uint8_t *payload;
	size_t payload_len;
};
/* -EBADMSG when not RTP v2 or lengths do not add up. Payload points into buf. */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h);
/* Writes a 12-byte header + payload; returns the length or -ENOSPC. */
int rtp_build(uint8_t *buf, size_t size, const struct rtp_hdr *h);
/* RFC 4733 event payload: digit '0'-'9', '*', '#', 'A'-'D'; end flag, duration. */
int rtp_dtmf_parse(const uint8_t *p, size_t len, char *digit, bool *end, uint16_t *duration);

/* ---- G.711 ---- */
void media_g711_decode(enum media_codec c, const uint8_t *in, int16_t *out, size_t n);
void media_g711_encode(enum media_codec c, const int16_t *in, uint8_t *out, size_t n);

/* ---- the engine and its legs ---- */
struct media_cfg {
	char address[64];	/* bind/SDP address, default 127.0.0.1 */
	int port_min, port_max; /* even RTP ports (RTCP = +1), default 20000..29999 */
	char record_dir[512];	/* where recordings go */
	int worker_nice;	/* media workers' threads' nice value (0: as the process) */
	int opus_complexity;	/* Opus encoder, 0..10, default 0 (docs/WEBRTC.md "Opus") */
	bool opus_silk;		/* encode Opus as a browser does (SILK, 24 kbit/s) instead of
				 * CELT: the WebRTC bench's far ends; the server leaves it false */
};
struct media;
struct mleg;
struct media_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_lost;	 /* by sequence gaps */
	uint64_t rx_bad;	 /* not RTP / wrong source */
	uint64_t rx_undecodable; /* RTP the codec refused (a broken Opus packet) */
};
typedef void(mleg_dtmf_h)(struct mleg *l, char digit, void *arg);
/* Received audio of the leg's codec, decoded to 8 kHz samples, packet by
 * packet as it arrives (no jitter buffer: a listener such as the bot's
 * endpointer tolerates reordering). Must not free the leg. */
typedef void(mleg_audio_h)(struct mleg *l, const int16_t *pcm, size_t n, void *arg);

int media_alloc(struct media **mp, uv_loop_t *loop, const struct media_cfg *cfg);
/* Closes every leg; handles close on the loop, so run it once more after. */
void media_free(struct media *m);
/* Packet counters summed over every leg so far (live and freed), and the
 * number of legs ever allocated. Logged by media_free. */
void media_totals(const struct media *m, struct media_stats *st, uint64_t *legs);
size_t media_leg_count(const struct media *m);

/* How the media clock kept time: ticks that were more than 5 frames late
 * (playback skipped, logged as `clock late`), the frames skipped there, and
 * ticks that caught up 2-5 frames at once (a short stall, sent as a burst). */
struct media_clock_stats {
	uint64_t late, late_frames, catchup;
};
void media_clock_stats(const struct media *m, struct media_clock_stats *st);

/* A leg bound to the next free even port. Owner: the caller (mleg_free). */
int mleg_alloc(struct mleg **lp, struct media *m, uint64_t id);
/* A leg on two bound sockets (RTP, RTCP) handed over with their port: the
 * leg closes them; the pair is not in this engine's pool (worker.c). */
int mleg_adopt(struct mleg **lp, struct media *m, uint64_t id, const int fd[2], int port);
/* Binds the next free pair of m's pool into fd[0] (RTP) and fd[1] (RTCP):
 * the RTP port, or -EADDRINUSE / -ESHUTDOWN. media_port_put gives the pair
 * back (its sockets are someone else's to close). */
int media_port_take(struct media *m, int fd[2]);
void media_port_put(struct media *m, int port);
/* What mleg_set_remote refuses: -EINVAL for a bad address or port, a codec
 * other than PCMU/PCMA, a bad telephone-event payload type; with m, also
 * -EAFNOSUPPORT for an address of another family than m's sockets'. */
int media_remote_check(const struct media *m, const char *addr, int port, enum media_codec codec,
		       int dtmf_pt);
void mleg_free(struct mleg *l);
int mleg_port(const struct mleg *l);
/* Where to send and what to send: from the far end's SDP. */
int mleg_set_remote(struct mleg *l, const char *addr, int port, enum media_codec codec,
		    int dtmf_pt);
void mleg_set_dtmf_handler(struct mleg *l, mleg_dtmf_h *h, void *arg);

/*
 * A secure transport under a leg: the WebRTC leg (src/webrtc) puts ICE,
 * DTLS and SRTP here, so that everything above (conference, playback,
 * recording, the bot's listener) treats the leg as any other. With a
 * transport the leg's socket is not connected (ICE chooses the address):
 *   rx  sees every datagram first. It returns the length of a plain RTP
 *       packet it left in p (unprotected in place) for the normal receive
 *       path, 0 when it consumed the datagram (STUN, DTLS, RTCP), or a
 *       negative errno when it dropped it (counted in rx_bad). It must not
 *       free the leg (defer such news to a timer).
 *   tx  protects an RTP packet of n bytes in place (cap bytes of room):
 *       the new length, or a negative errno (not sent).
 * The transport's object must outlive the leg or be detached first
 * (mleg_set_transport(l, NULL, NULL)). Thread: loop.
 */
#define MLEG_XPORT_VERSION 1
struct sockaddr;
struct mleg_xport {
	int version;
	int (*rx)(void *arg, uint8_t *p, size_t n, const struct sockaddr *from);
	int (*tx)(void *arg, uint8_t *p, size_t n, size_t cap);
};
/* -EINVAL (NULL leg, closing, wrong version, a leg with an SDP remote). */
int mleg_set_transport(struct mleg *l, const struct mleg_xport *x, void *arg);
/* Sends a datagram as it is to `to` (STUN answers, DTLS records) on the
 * leg's socket. -ENOTCONN closing; -errno from sendto. */
int mleg_send_raw(struct mleg *l, const void *p, size_t n, const struct sockaddr *to);
/* The far end of a leg with a transport: where its media goes (the
 * nominated ICE address), the codec (PCMU, PCMA or Opus), the codec's
 * payload type and telephone-event's (-1 none). Media flows from now on.
 * -EINVAL, -ENOMEM (Opus state). */
int mleg_set_peer(struct mleg *l, const struct sockaddr *to, enum media_codec codec, int pt,
		  int dtmf_pt);
/* Stops media towards the far end and from it (a failed transport). */
void mleg_clear_peer(struct mleg *l);
/* The codec in use (PCMU before any far end). */
enum media_codec mleg_codec(const struct mleg *l);
/* h NULL stops listening. */
void mleg_set_audio_handler(struct mleg *l, mleg_audio_h *h, void *arg);
void mleg_stats(const struct mleg *l, struct media_stats *st);

/* Plays 8 kHz mono samples to the far end (copied; loop = hold music). While
 * playing, bridged audio towards this leg is replaced by the playback. */
int mleg_play(struct mleg *l, const int16_t *pcm, size_t n, bool loop);
/* The same without a copy: pcm comes from mem_zalloc and the leg holds a
 * reference while it plays (a prompt shared by every caller hearing it). */
int mleg_play_ref(struct mleg *l, int16_t *pcm, size_t n, bool loop);
void mleg_stop(struct mleg *l);
bool mleg_playing(const struct mleg *l);
/* Sends an RFC 4733 digit (~100 ms). */
int mleg_send_dtmf(struct mleg *l, char digit);
/* Holds: stop sending anything to the far end (and ignore what arrives). */
void mleg_mute(struct mleg *l, bool mute);

/* Two-way audio between a and b (transcoding when their codecs differ).
 * -EINVAL (NULL, a == b, closing, other engines); -EBUSY when either leg is
 * in a conference (the conference connects its legs). media_unbridge
 * ignores conference legs (use media_conf_remove). */
int media_bridge(struct mleg *a, struct mleg *b);
void media_unbridge(struct mleg *a);

/*
 * Records what `left` (the caller) receives and what `right` (the agent)
 * receives into a stereo 16-bit 8 kHz WAV at path, through a jitter buffer
 * per side; silence fills gaps. The file is complete after media_record_stop
 * and its done callback (on the loop) with the number of frames written.
 */
typedef void(media_record_done_h)(int err, uint64_t frames, void *arg);
int media_record_start(struct mleg *left, struct mleg *right, const char *path);
int media_record_stop(struct mleg *left, media_record_done_h *done, void *arg);

/*
 * Reads a WAV (or any file libsndfile reads) as 8 kHz mono 16-bit samples
 * for mleg_play: channels are mixed down; another sample rate is refused
 * (-EINVAL, with the way to convert it in err). At most 10 minutes.
 * Thread: any (do it at start-up). *pcm is malloc'd; free() it.
 */
int media_wav_load(const char *path, int16_t **pcm, size_t *n, char *err, size_t errsz);

/* Built-in audio: a gentle looping hold tune and a short beep, 8 kHz mono. */
const int16_t *media_hold_music(size_t *n);
const int16_t *media_beep(size_t *n);

/* ---- the mixer: N-party conference (src/media/mixer.c) ----
 * Up to MIXER_MAX participants (slots), 20 ms frames of 8 kHz linear PCM.
 * Listener L hears speaker S iff S != L, L's `hears` mask has S and S's
 * `heard_by` mask has L; the sum saturates to int16. Not bound to legs: the
 * caller feeds each participant's decoded frame per tick (mixer_put), takes
 * what each one hears (mixer_get), then calls mixer_tick. Owner: the caller
 * (mem_deref). Thread: loop thread only. Errors: -EINVAL for a NULL mixer,
 * a slot that is out of range or empty, or a bad argument; as listed below.
 */
#define MIXER_MAX	16
#define MIXER_ALL	UINT32_MAX /* everyone, later joiners included */
#define MIXER_BIT(slot) ((uint32_t)1 << (slot))
struct mixer;
enum mixer_mode {
	MIXER_TALK,    /* hears all, heard by all (the default on mixer_add) */
	MIXER_LISTEN,  /* hears all, heard by none (silent monitoring) */
	MIXER_WHISPER, /* hears all, heard by `target` only (coaching) */
	MIXER_BARGE,   /* hears all, heard by all (a supervisor joining in) */
	MIXER_HOLD,    /* hears none, heard by none (a customer on hold in a transfer) */
};
/* An empty mixer; call_id is only for logs. -ENOMEM. */
int mixer_alloc(struct mixer **mp, uint64_t call_id);
/* A participant (id: its leg's, unique in the mixer) in talk mode, in the
 * lowest free slot: *slotp. -ENOSPC when full, -EEXIST when id is there. */
int mixer_add(struct mixer *m, uint64_t id, int *slotp);
/* Frees the slot (its frame is dropped; it leaves every explicit mask and,
 * if it was the customer, there is no customer any more). */
int mixer_remove(struct mixer *m, int slot);
/* The slot of participant id, or -ENOENT. */
int mixer_find(const struct mixer *m, uint64_t id);
size_t mixer_count(const struct mixer *m);
/* Masks of MIXER_BIT(slot)s, or MIXER_ALL. An explicit mask names present
 * participants only (empty slots' bits are dropped), so a later joiner is
 * in MIXER_ALL but in no explicit mask. The own bit is ignored. */
int mixer_set_hears(struct mixer *m, int slot, uint32_t mask);
int mixer_set_heard_by(struct mixer *m, int slot, uint32_t mask);
/* Sets both masks from a mode; target is for MIXER_WHISPER only (another
 * present slot, else -EINVAL; if it leaves, the whisperer is heard by none). */
int mixer_set_mode(struct mixer *m, int slot, enum mixer_mode mode, int target);
/* Whether listener receives speaker (both masks agree, not itself). */
bool mixer_hears(const struct mixer *m, int listener, int speaker);
/* This participant's received audio for this tick: n <= MEDIA_FRAME samples
 * (copied; a short frame is padded with silence). One frame per tick: a
 * second one before mixer_tick is -EALREADY (the first stays). */
int mixer_put(struct mixer *m, int slot, const int16_t *pcm, size_t n);
/* Frees the per-tick frames while nobody mixes (between ticks; masks and
 * participants stay): mixer_put is then -ENOBUFS until mixer_reserve (or a
 * mixer_add) makes room for every participant again (-ENOMEM). */
void mixer_release(struct mixer *m);
int mixer_reserve(struct mixer *m);
/* What this participant hears this tick, MEDIA_FRAME samples into out:
 * the saturated sum of the frames it receives (silence for those that sent
 * none). Returns how many frames were mixed (0: out is silence). */
int mixer_get(struct mixer *m, int slot, int16_t *out);
/* Ends the tick: every participant's frame becomes silence until its next put. */
void mixer_tick(struct mixer *m);
/* True when exactly two participants remain and each hears the other: the
 * caller may keep the two-party media_bridge (relay, no decode or mixing)
 * instead of mixing; whether their codecs allow relay is the caller's
 * concern. *a < *b are their slots (either pointer may be NULL). */
bool mixer_relay_pair(const struct mixer *m, int *a, int *b);
/* Designates the customer for the recording (-1: none). */
int mixer_set_customer(struct mixer *m, int slot);
int mixer_customer(const struct mixer *m);
/* The two recorder channels for this tick, MEDIA_FRAME samples each:
 * customer = the customer's own frame (what they say, heard or not);
 * others = exactly what the customer hears (a supervisor on listen, or a
 * whisper to the agent, is not in it; a barge is). -ENOENT: no customer. */
int mixer_record(struct mixer *m, int16_t *customer, int16_t *others);

/* ---- conferences: N legs through the mixer (src/media/conf.c) ----
 * Each member hears what its mode says (mixer_set_mode): talk (the default:
 * hears all, heard by all, so three talkers each hear the other two),
 * listen (hears all, heard by none), whisper (heard by `target` only),
 * barge (heard by all). Every 20 ms clock frame each member's received RTP
 * (G.711, each leg its own codec) goes through a 40 ms jitter buffer into
 * the mixer; each member's mix is encoded in its codec and sent on its own
 * outgoing stream (our SSRC, continuous seq/ts), silence included.
 * Relay fast path: while exactly two members hear each other, they are a
 * plain two-party bridge (relay, or byte-wise PCMU<->PCMA; no decode, no
 * mixing, no clock); a third member switches to mixing and dropping back
 * to two switches back, the far ends' streams staying continuous.
 * While playing or sending DTMF (mleg_play, mleg_send_dtmf) a member gets
 * that instead of its mix; RFC 4733 events are forwarded only while
 * relaying (the DTMF handler runs in both modes).
 * Owner: the caller of media_conf_alloc (mem_deref frees it: its members
 * are detached, connected to nothing, and a recording is closed without a
 * callback). mleg_free takes a leg out of its conference. The conference
 * holds a reference on the engine; after media_free it has no members and
 * no recording. Thread: loop thread only.
 */
struct mconf;
/* An empty conference; id is for logs (the call's). -EINVAL, -ESHUTDOWN
 * (engine closing), -ENOMEM. */
int media_conf_alloc(struct mconf **cp, struct media *m, uint64_t id);
/* Adds l in `mode` (target: the whisper's listener, another member; else
 * ignored). A leg in a two-party bridge leaves it (its old peer hears
 * nothing more from it until it joins too). Leg ids must differ within a
 * conference. -EINVAL (NULL, closing, another engine, bad mode or target),
 * -EEXIST (already in c, or its id is), -EBUSY (in another conference),
 * -ENOSPC (MIXER_MAX members), -ENOMEM. */
int media_conf_add(struct mconf *c, struct mleg *l, enum mixer_mode mode, struct mleg *target);
/* Takes l out (it is connected to nothing afterwards); a whisper to it is
 * heard by no one. -EINVAL (NULL), -ENOENT (not in c). */
int media_conf_remove(struct mconf *c, struct mleg *l);
/* Changes a member's mode. -EINVAL (NULL, bad mode or target), -ENOENT. */
int media_conf_set_mode(struct mconf *c, struct mleg *l, enum mixer_mode mode, struct mleg *target);
size_t media_conf_count(const struct mconf *c);
/* True while the relay fast path is in use (two members, no mixer). */
bool media_conf_relaying(const struct mconf *c);
/*
 * Records the conference into a stereo 16-bit 8 kHz WAV at path: left =
 * what `customer` says, right = what the customer hears (everyone else the
 * customer receives: a supervisor on listen or a whisper to the agent is
 * not in it, a barge is). One frame per clock frame, through the jitter
 * buffers, in relay mode too; written on the worker pool like
 * media_record_start. If the customer leaves, both channels are silence.
 * -EINVAL (NULL, empty or too long path), -ESHUTDOWN, -ENOENT (customer not
 * a member), -EBUSY (already recording), -ENOMEM. The file is complete
 * after media_conf_record_stop's done (on the loop; -EIO when it could not
 * be written), which is not called when the conference is freed first.
 */
int media_conf_record_start(struct mconf *c, struct mleg *customer, const char *path);
/* -EINVAL (NULL), -ENOENT (not recording). done may be NULL. */
int media_conf_record_stop(struct mconf *c, media_record_done_h *done, void *arg);

/* ---- media workers: the engine on every core (src/media/worker.c) ----
 * n threads, each a libuv loop with its own engine. The legs of one call
 * and its conference live on one worker; the main loop (call control)
 * holds handles and talks to the workers through queues of messages that
 * carry numbers, never pointers (audio for playback is immutable and
 * refcounted). Commands are posted, not waited for: what the main loop
 * must know at once (a leg's port, whether a far end's SDP is usable) is
 * decided on the main loop; a worker's own failure is logged there.
 * Handlers (DTMF, received audio, a recording's end) run on the main loop;
 * the mleg argument of a DTMF or audio handler is NULL for a worker's leg.
 * A leg with a WebRTC transport stays on the main loop's engine (`local`);
 * mwleg_attach gives it a stand-in on a worker, joined over loopback RTP.
 * Thread: the main loop, except where said. Details: docs/MEDIA.md.
 */
struct mw;
struct mwleg;
struct mwconf;
#define MW_MAX 64
/* A worker's figures, pushed every 500 ms: its engine's totals, its clock,
 * its thread's CPU time. */
struct mw_worker_stats {
	struct media_stats st;
	uint64_t legs_total;
	size_t legs;
	struct media_clock_stats clock;
	uint64_t cpu_ns;
};
/* n workers (1..MW_MAX); ports come from local's pool. -EINVAL, -ENOMEM,
 * or a thread/loop error. */
int mw_alloc(struct mw **wp, uv_loop_t *loop, struct media *local, const struct media_cfg *cfg,
	     int n);
/* Stops the workers (joins them: recordings are flushed first) and runs
 * the handlers still due. Handles stay valid (and do nothing) until freed. */
void mw_free(struct mw *w);
int mw_count(const struct mw *w);
/* The worker a new call should go to: the one with the fewest legs. */
int mw_place(const struct mw *w);
/* The last figures of worker i (-EINVAL out of range). */
int mw_worker_stats(const struct mw *w, int i, struct mw_worker_stats *st);
/* The default number of workers: the cores less one for the main loop, at least 1. */
int mw_default_count(void);

/* A leg on worker i (its RTP port is known at once). -EINVAL, -EADDRINUSE,
 * -ENOMEM, -ESHUTDOWN. Owner: the caller (mwleg_free). */
int mwleg_alloc(struct mwleg **hp, struct mw *w, int i, uint64_t id);
/* A stand-in on worker i for `local`, a leg of the main loop's engine (a
 * browser's): what arrives on local is sent to the stand-in and back,
 * G.711 µ-law over loopback, through a two-member conference on the main
 * engine (Opus is transcoded there). Join, leave and record the stand-in;
 * play, DTMF, audio and stats stay on local. local must outlive it. */
int mwleg_attach(struct mwleg **hp, struct mw *w, int i, uint64_t id, struct mleg *local);
void mwleg_free(struct mwleg *h);
int mwleg_port(const struct mwleg *h);
int mwleg_worker(const struct mwleg *h);
/* As mleg_set_remote: -EINVAL is decided here (media_remote_check). */
int mwleg_set_remote(struct mwleg *h, const char *addr, int port, enum media_codec codec,
		     int dtmf_pt);
/* As mleg_play (copied), mleg_play_ref (shared: pcm from mem_zalloc, never
 * written again), mleg_stop, mleg_send_dtmf (-ENOTSUP: the far end's SDP
 * had no telephone-event; a full digit queue is the worker's to log). */
int mwleg_play(struct mwleg *h, const int16_t *pcm, size_t n, bool loop);
int mwleg_play_ref(struct mwleg *h, int16_t *pcm, size_t n, bool loop);
void mwleg_stop(struct mwleg *h);
int mwleg_send_dtmf(struct mwleg *h, char digit);
void mwleg_set_dtmf_handler(struct mwleg *h, mleg_dtmf_h *fn, void *arg);
void mwleg_set_audio_handler(struct mwleg *h, mleg_audio_h *fn, void *arg);
/* The counters as of the worker's last push (at most 500 ms old). */
void mwleg_stats(const struct mwleg *h, struct media_stats *st);

/* A call's conference on worker i, made there on the first join; id is
 * for logs. mem_deref frees it (on the worker). -EINVAL, -ENOMEM. */
int mwconf_alloc(struct mwconf **cp, struct mw *w, int i, uint64_t id);
/* As media_conf_add, or media_conf_set_mode for a member: l (and target)
 * must be on the conference's worker (-EXDEV). */
int mwconf_join(struct mwconf *c, struct mwleg *l, enum mixer_mode mode, struct mwleg *target);
int mwconf_leave(struct mwconf *c, struct mwleg *l);
int mwconf_record_start(struct mwconf *c, struct mwleg *customer, const char *path);
/* done runs exactly once on the main loop after this returns 0 (with the
 * worker's error if the recording could not be stopped or written). */
int mwconf_record_stop(struct mwconf *c, media_record_done_h *done, void *arg);

#endif
