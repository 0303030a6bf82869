/*
 * media_int.h — private structures of the media module (CONVENTIONS.md §1).
 * Only the .c files of src/media include this header.
 *
 * Ownership in one picture:
 *   struct media  (mem_zalloc; refs: the owner, every open leg, every
 *                  recorder until its file is closed, the clock timer)
 *     ├─ legs     all open legs (intrusive list), each with two uv_udp_t
 *     ├─ players  legs that play or send DTMF (walked by the clock)
 *     ├─ recs     running two-party recordings (walked by the clock)
 *     └─ confs    conferences that mix or record (walked by the clock);
 *                 a conference (mem_zalloc, its owner's) refs the engine and
 *                 holds one member per leg; a leg points back at it
 */
#ifndef SB_MEDIA_INT_H
#define SB_MEDIA_INT_H

#include "media/media.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define MEDIA_PKT_MAX	      1500 /* largest datagram we read or build */
#define MEDIA_HDR_LEN	      12
#define MEDIA_CLOCK_MS	      20
#define MEDIA_CLOCK_MAXF      5	   /* frames one tick may catch up */
#define MEDIA_CLOCK_POLL_RX   64   /* reads between the read path's clock checks */
#define MEDIA_REC_CATCHUP_MAX 3000 /* frames (60 s) a late clock writes to recordings */
#define DTMF_QUEUE	      16   /* digits waiting to be sent on one leg */
#define JB_SAMPLES	      2048 /* jitter ring per recorded side (256 ms), power of 2 */
#define JB_DELAY	      320  /* 40 ms of playout delay (recorder, mixer) */
#define REC_CHUNK_FRAMES      12   /* 0.24 s of audio per pool write (7.5 KB) */
#define RX_BATCH	      1	   /* datagrams read per socket wake-up (leg.c: why 1) */

/* Intrusive doubly linked list (libre/Linux style). */
struct mlist {
	struct mlist *prev, *next;
};
void mlist_init(struct mlist *h);
void mlist_add(struct mlist *h, struct mlist *n);
void mlist_del(struct mlist *n); /* safe on an unlinked node */
bool mlist_linked(const struct mlist *n);
#define mlist_entry(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* Our outgoing RTP stream towards one far end: SSRC, seq and ts are ours. */
struct mstream {
	uint32_t ssrc;
	uint16_t seq;	  /* next sequence number to send */
	uint32_t ts;	  /* next timestamp (samples) */
	bool anchored;	  /* relay mapping valid */
	uint32_t in_ssrc; /* relayed stream the offsets belong to */
	uint16_t seq_off; /* out = in + off, while relaying */
	uint32_t ts_off;
	bool marker_next; /* set M on the next packet (new talkspurt) */
};

/* Playback state (built-in audio is referenced, anything else copied). */
struct mplay {
	const int16_t *pcm;
	int16_t *own; /* our copy, NULL for built-in audio */
	size_t n, pos;
	bool loop, active;
};

/* RFC 4733 sender: the digit in flight and a small queue behind it. */
struct mdtmf_tx {
	char q[DTMF_QUEUE];
	unsigned head, count;
	int step;    /* packets sent for the current digit, -1 = idle */
	uint32_t ts; /* event timestamp */
};

/* One consumed stream (a recorded side, a mixed leg): samples keyed by RTP
 * timestamp, zero = silence (jbuf.c). */
struct jbuf {
	int16_t ring[JB_SAMPLES];
	uint32_t read_ts; /* RTP ts of the next sample the clock takes */
	uint32_t hi_ts;	  /* end of the newest packet written */
	bool started;
};

struct mrec_chunk {
	struct mrec_chunk *next;
	size_t frames; /* stereo frames used */
	bool silent;   /* frames of silence on both sides: no pcm (allocated without it) */
	int16_t pcm[REC_CHUNK_FRAMES * MEDIA_FRAME * 2];
};

struct mrec;
struct mconf_member;
struct mopus;

struct mleg {
	struct media *m;
	uint64_t id;
	int port, pair;	     /* RTP port; index in m->ports */
	uv_poll_t rtp, rtcp; /* readiness of fd[0] (RTP), fd[1] (RTCP) */
	int fd[2];
	int open_handles; /* freed when both closed */
	bool closing, muted, has_remote;
	struct sockaddr_storage remote;
	socklen_t remote_len;
	enum media_codec codec;
	int pt;		    /* the codec's payload type (its enum value, or the SDP's for Opus) */
	int dtmf_pt;	    /* far end's telephone-event pt, -1 none */
	struct mopus *opus; /* Opus encoder and decoder (codec.c), NULL for G.711 */
	/* a secure transport under the leg (WebRTC): sees every datagram
	 * first, protects every RTP packet we send; remote then is where
	 * sendto goes (the socket is not connected: ICE picks the address) */
	const struct mleg_xport *xp;
	void *xp_arg;
	struct mstream out;
	struct mleg *peer; /* bridge partner */
	struct mplay play;
	struct mdtmf_tx dtx;
	struct mlist le;      /* in m->legs */
	struct mlist ple;     /* in m->players while playing or sending DTMF */
	struct mrec *rec;     /* recording this leg feeds, or NULL */
	int rec_side;	      /* 0 left, 1 right */
	struct mconf *conf;   /* conference this leg is in, or NULL */
	int conf_slot;	      /* its mixer slot there */
	struct jbuf *conf_jb; /* its member's jitter buffer, fed on receive:
			       * set only while the conference mixes or
			       * records (conf.c), so the receive path needs
			       * no look at the conference */
	/* receive side */
	bool rx_seen;
	uint16_t rx_seq;
	uint32_t rx_end_ts; /* ts of the last DTMF event whose end we raised */
	bool rx_end_valid;
	mleg_dtmf_h *dtmf_h;
	void *dtmf_arg;
	mleg_audio_h *audio_h; /* a listener of received audio (the bot) */
	void *audio_arg;
	struct media_stats st;
};

struct media {
	uv_loop_t *loop;
	struct media_cfg cfg;
	struct sockaddr_storage bind_addr;
	uint8_t *ports; /* 1 = pair in use */
	int npairs, cursor, nused;
	size_t nlegs;
	struct media_stats gone; /* counters of legs already freed */
	uint64_t legs_total;	 /* legs ever allocated */
	bool closing;
	uv_timer_t clock;
	bool clock_on;
	uint64_t clock_base, clock_done; /* ms origin, frames produced since */
	unsigned rx_since_clock;	 /* read callbacks since the last clock check */
	struct media_clock_stats clock_st;
	struct mlist legs, players, recs, confs;
	struct mrec_chunk *chunk_free; /* recycled recorder chunks */
	size_t chunk_nfree;
	size_t chunk_live, chunk_peak; /* allocated (in use or free), the most at once */
	/* the receive buffers of one read, shared by every leg (loop thread) */
	uint8_t rxbuf[RX_BATCH][MEDIA_PKT_MAX + 64];
	struct sockaddr_storage rxaddr[RX_BATCH];
	struct iovec rxiov[RX_BATCH];
	struct mmsghdr rxmsg[RX_BATCH];
	uint8_t txbuf[MEDIA_PKT_MAX + 64];
};

/* engine.c */
void media_clock_kick(struct media *m);
void media_clock_poll(struct media *m);	 /* from the read path: a due tick runs now */
void media_clock_frame(struct media *m); /* one 20 ms frame (fuzzer: direct) */
struct mrec_chunk *media_chunk_get(struct media *m);
struct mrec_chunk *media_chunk_silent(void); /* a chunk of silence: the header alone */
void media_chunk_put(struct media *m, struct mrec_chunk *c);

/* leg.c */
int mleg_send(struct mleg *l, const struct rtp_hdr *h);
/* One datagram from `from` (the fuzzer calls it directly); a transport
 * may rewrite p in place (SRTP is unprotected there). */
void mleg_rx(struct mleg *l, uint8_t *p, size_t n, const struct sockaddr *from);
void mleg_active_update(struct mleg *l);

/* stream: stamping our outgoing packets (bridge.c) */
void mstream_init(struct mstream *s);
void mstream_stamp_own(struct mstream *s, struct rtp_hdr *h, uint32_t samples);

/* bridge.c: one validated packet from l's far end */
void bridge_rx(struct mleg *l, const struct rtp_hdr *h);
/* Pairs a and b (each leaves any pair it was in) / leaves the pair: the
 * two-party bridge without media_bridge's checks (conf.c uses it too). */
void bridge_pair(struct mleg *a, struct mleg *b);
void bridge_unpair(struct mleg *a);
/* True when l takes audio from us now: open, not muted, a far end known, and
 * not playing or sending DTMF (those replace bridged and mixed audio). */
bool mleg_takes_audio(const struct mleg *l);

/* player.c: one 20 ms frame for a playing / DTMF-sending leg */
void player_tick(struct mleg *l);
void player_clear(struct mleg *l);
char dtmf_event_char(unsigned ev);
int dtmf_char_event(char c);

/* jbuf.c: the jitter buffer */
void jb_reset(struct jbuf *j);
void jb_put(struct jbuf *j, uint32_t ts, enum media_codec c, const uint8_t *p, size_t n);
void jb_put_pcm(struct jbuf *j, uint32_t ts, const int16_t *pcm, size_t n);
/* The next 20 ms frame into out (silence where nothing arrived); false when
 * it is certainly all silence (nothing arrived for it). */
bool jb_take(struct jbuf *j, int16_t *out);
/* The same into out[0], out[stride], ... (a recording's interleaved chunk). */
bool jb_take_into(struct jbuf *j, int16_t *out, size_t stride);
/* False when the next frame is certainly silence (jb_take would say so). */
bool jb_has_audio(const struct jbuf *j);

/* recorder.c */
void rec_rx(struct mleg *l, const struct rtp_hdr *h);
void rec_tick(struct mrec *r);
struct jbuf *rec_jb(struct mleg *l); /* l's side of its recording, or NULL */
void rec_leg_gone(struct mleg *l);
struct mrec *rec_from_le(struct mlist *n);
/* A stereo WAV writer fed by its owner (not on m->recs, no legs): the file is
 * opened on the pool now; -EINVAL for a bad path, -ENOMEM. */
int rec_alloc(struct mrec **rp, struct media *m, uint64_t id, const char *path);
/* Appends one 20 ms stereo frame (left, right: MEDIA_FRAME samples each). */
void rec_frame(struct mrec *r, const int16_t *left, const int16_t *right);
/* On the media clock: each tick takes a frame from left and right (NULL:
 * silence) / off it (the owner calls rec_frame). The buffers must outlive
 * the following, or be replaced first. */
void rec_follow(struct mrec *r, struct jbuf *left, struct jbuf *right);
void rec_unfollow(struct mrec *r);
/* Flushes and closes on the pool, then done (may be NULL) on the loop; the
 * recorder frees itself after. */
void rec_close(struct mrec *r, media_record_done_h *done, void *arg);

/* conf.c: conferences on the clock (the receive path feeds l->conf_jb) */
/* One frame: decode into the mixer, send each leg its mix (unless `catchup`:
 * then only the recording gets the frame), record, end the mixer's tick. */
void conf_tick(struct mconf *c, bool catchup);
struct mconf *conf_from_le(struct mlist *n);
void conf_leg_gone(struct mleg *l);
void conf_leg_codec(struct mleg *l); /* l's codec changed: relay or mix again */
/* media_free: stop the recording silently and leave the clock. */
void conf_engine_closing(struct mconf *c);

/* codec.c: G.711 or Opus per leg (DESIGN there) */
int codec_set(struct mleg *l, enum media_codec c);
void codec_free(struct mleg *l);
bool codec_is_g711(enum media_codec c);
uint32_t codec_ts_step(const struct mleg *l); /* RTP ticks per 20 ms frame */
uint32_t codec_ts8(const struct mleg *l, uint32_t ts);
/* One packet's payload to 8 kHz samples (at most max): the count, or
 * -EBADMSG (counted in rx_bad for Opus). */
int codec_decode(struct mleg *l, const uint8_t *p, size_t n, int16_t *pcm, size_t max);
/* One 20 ms frame (MEDIA_FRAME samples) in the leg's codec: the bytes. */
int codec_encode(struct mleg *l, const int16_t *pcm, uint8_t *out, size_t cap);
/* A received Opus packet, decoded once for every consumer. */
void codec_opus_rx(struct mleg *l, const struct rtp_hdr *h);

/* g711.c: byte-wise transcoding; built-in audio */
void media_audio_init(void);
bool media_audio_builtin(const int16_t *pcm, size_t n);
void g711_transcode_buf(enum media_codec from, enum media_codec to, const uint8_t *in, uint8_t *out,
			size_t n);

#endif
