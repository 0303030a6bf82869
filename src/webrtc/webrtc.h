/*
 * webrtc.h — WebRTC media for browser legs, in process, on the loop:
 * ICE-lite (STUN binding requests answered with MESSAGE-INTEGRITY and
 * FINGERPRINT, nomination, consent freshness), DTLS-SRTP (OpenSSL, the
 * peer's certificate checked against its SDP fingerprint), SRTP/SRTCP
 * on OpenSSL's ciphers over rtcp-mux (src/webrtc/srtp.c says why not
 * libsrtp2), Opus or G.711 (the codec is the media
 * leg's, src/media/codec.c). docs/WEBRTC.md says what is implemented of
 * each and what is not.
 *
 * A WebRTC leg is a transport under an ordinary media leg (struct mleg,
 * mleg_set_transport): once connected, the media leg plays, records,
 * joins conferences and feeds the bot like a SIP leg's. Signalling is the
 * caller's: it carries our SDP to the browser and the browser's back.
 *
 *   webrtc_alloc(&w, loop, &cfg)              once: certificate, DTLS context
 *   mleg_alloc(&m, media, id)                 a media leg (its socket, its port)
 *   webrtc_leg_alloc(&l, w, m, WEBRTC_SERVER, state_h, arg)
 *   webrtc_leg_answer(l, offer, addr, sdp, size)  the browser's offer -> our answer
 *     (or webrtc_leg_offer(l, addr, sdp, size), then webrtc_leg_remote(l, answer))
 *   ... state_h(CONNECTED): media flows (mleg_* as usual)
 *   ... state_h(FAILED, why): ICE, DTLS, fingerprint or consent failed
 *   webrtc_leg_free(l); mleg_free(m)          in this order
 *   webrtc_free(w)                            after its legs
 *
 * WEBRTC_CLIENT is the browser's side (full ICE, controlling: it sends
 * the checks, nominates, keeps consent): the project's own test client
 * for tests/unit/test_webrtc.c and bench/webrtc_bench.c.
 *
 * Thread: loop thread only. Errors: negative errno; -EBADMSG for SDP that
 * does not parse, -ENOTSUP for SDP we cannot use (no audio, no codec we
 * have, no fingerprint or ICE credentials, no rtcp-mux, more than one
 * m-line), -EINVAL for bad arguments or state.
 */
#ifndef SB_WEBRTC_H
#define SB_WEBRTC_H

#include "core/core.h"
#include "media/media.h"

struct webrtc;
struct webrtc_leg;

struct webrtc_cfg {
	int consent_ms;	    /* a leg whose peer sent no check for this long fails: 30000 */
	int keepalive_ms;   /* client: a consent check every this often: 5000 */
	int connect_ms;	    /* ICE and DTLS must be done this long after the remote SDP: 10000 */
	bool no_gcm;	    /* offer only SRTP_AES128_CM_SHA1_80 */
	int dtls_linger_ms; /* the SSL is freed this long after connecting: 10000 */
	int rtcp_ms;	    /* an RTCP report every this often (±25 %): 5000 */
};

/* Counters over every leg of the process (live and freed): what was
 * dropped and why. Logged, and shown by the media stats. */
struct webrtc_stats {
	uint64_t legs, connected, failed;
	uint64_t stun_ok;      /* binding requests answered / responses accepted */
	uint64_t stun_bad;     /* malformed STUN, or a FINGERPRINT that does not match */
	uint64_t stun_auth;    /* wrong USERNAME or MESSAGE-INTEGRITY: refused */
	uint64_t dtls_bad;     /* DTLS records refused (from elsewhere, after failure) */
	uint64_t dtls_fail;    /* handshakes that failed (alerts, timeouts) */
	uint64_t fp_mismatch;  /* peer certificate not the SDP's fingerprint */
	uint64_t srtp_auth;    /* SRTP/SRTCP with a bad authentication tag */
	uint64_t srtp_replay;  /* replayed SRTP */
	uint64_t srtp_bad;     /* SRTP otherwise unusable (before keys, from elsewhere) */
	uint64_t rtcp_in;      /* SRTCP received, decrypted and parsed */
	uint64_t rtcp_bad;     /* SRTCP that decrypted to a malformed compound */
	uint64_t rtcp_out;     /* our reports sent (SR or RR, over SRTCP) */
	uint64_t demux_bad;    /* first byte no protocol of RFC 7983 */
	uint64_t consent_fail; /* legs failed because consent expired */
};

enum webrtc_role {
	WEBRTC_SERVER, /* ICE-lite, controlled: answers checks (the server's legs) */
	WEBRTC_CLIENT, /* full ICE, controlling: sends checks (the test client) */
};

enum webrtc_state {
	WEBRTC_NEW,	  /* no remote SDP yet */
	WEBRTC_CHECKING,  /* ICE: waiting for (or sending) a valid check */
	WEBRTC_DTLS,	  /* the handshake runs */
	WEBRTC_CONNECTED, /* SRTP keys in, media flows */
	WEBRTC_FAILED,	  /* terminal: why says which step */
};
const char *webrtc_state_name(enum webrtc_state st);

/* Called from a timer on the loop (never from inside a receive), so it
 * may free the leg. why: NULL unless FAILED ("ice timeout", "dtls failed",
 * "fingerprint mismatch", "consent expired", ...). */
typedef void(webrtc_state_h)(struct webrtc_leg *l, enum webrtc_state st, const char *why,
			     void *arg);

/* A self-signed ECDSA P-256 certificate for the process, the DTLS
 * context. cfg NULL: defaults. -ENOMEM, -EIO (OpenSSL). Owner: the caller
 * (webrtc_free). */
int webrtc_alloc(struct webrtc **wp, uv_loop_t *loop, const struct webrtc_cfg *cfg);
void webrtc_free(struct webrtc *w);
/* "sha-256 AB:CD:..." of our certificate, as it goes into a=fingerprint. */
const char *webrtc_fingerprint(const struct webrtc *w);
void webrtc_totals(const struct webrtc *w, struct webrtc_stats *st);

/* A WebRTC transport under media leg m (which must have no SDP remote):
 * random ICE credentials; nothing flows until the remote SDP is in.
 * -EINVAL, -ENOMEM. Owner: the caller; free it before the media leg. */
int webrtc_leg_alloc(struct webrtc_leg **lp, struct webrtc *w, struct mleg *m,
		     enum webrtc_role role, webrtc_state_h *h, void *arg);
/* Detaches from the media leg (which then sends nothing) and frees. */
void webrtc_leg_free(struct webrtc_leg *l);
/* The codecs to offer / accept, in order of preference (default: Opus,
 * then PCMU). At most 3 of MEDIA_OPUS, MEDIA_PCMU, MEDIA_PCMA. */
int webrtc_leg_codecs(struct webrtc_leg *l, const enum media_codec *c, size_t n);
/* Our offer (a=setup:actpass), host candidate addr:port of the media leg. */
int webrtc_leg_offer(struct webrtc_leg *l, const char *addr, char *sdp, size_t size);
/* The far end's offer: applied, and our answer written. */
int webrtc_leg_answer(struct webrtc_leg *l, const char *offer, const char *addr, char *sdp,
		      size_t size);
/* The far end's answer to our offer. */
int webrtc_leg_remote(struct webrtc_leg *l, const char *answer);
enum webrtc_state webrtc_leg_state(const struct webrtc_leg *l);
struct mleg *webrtc_leg_media(const struct webrtc_leg *l);
/* The leg's own counters (the same fields as webrtc_totals). */
void webrtc_leg_stats(const struct webrtc_leg *l, struct webrtc_stats *st);
/* Call quality from RTCP (rtcp.c): what we measure of the browser's
 * stream and what its reports say of ours. rtt_ms -1 until the browser
 * has echoed one of our SRs. */
struct webrtc_quality {
	uint32_t clock;	     /* RTP clock rate of the codec (48000, 8000) */
	uint64_t rx_packets; /* RTP received from the browser */
	int64_t rx_lost;     /* cumulative lost (expected - received) */
	double rx_fraction;  /* lost in the last report interval, 0..1 */
	double rx_jitter_ms; /* interarrival jitter (RFC 3550 A.8) */
	uint64_t tx_packets, tx_octets;
	uint64_t reports_sent, reports_received;
	bool has_remote;	 /* the browser reported on our stream */
	double remote_fraction;	 /* its fraction lost of ours, 0..1 */
	int64_t remote_lost;	 /* its cumulative lost of ours */
	double remote_jitter_ms; /* its jitter of ours */
	int32_t rtt_ms;		 /* A - LSR - DLSR, -1 none yet */
};
void webrtc_leg_quality(const struct webrtc_leg *l, struct webrtc_quality *q);
/* The SRTP profile negotiated ("SRTP_AES128_CM_SHA1_80", ...), or "". */
const char *webrtc_leg_profile(const struct webrtc_leg *l);

/* ---- the parsers, public for tests and fuzzers ---- */

/* A WebRTC SDP (offer or answer), its first and only audio m-line. */
#define WEBRTC_SDP_MAX 16384
struct webrtc_sdp {
	char ufrag[257], pwd[257];
	uint8_t fp[32]; /* sha-256 */
	bool has_fp;
	enum {
		WEBRTC_SETUP_NONE,
		WEBRTC_SETUP_ACTPASS,
		WEBRTC_SETUP_ACTIVE,
		WEBRTC_SETUP_PASSIVE
	} setup;
	bool rtcp_mux, ice_lite;
	char mid[33];
	int opus_pt, pcmu_pt, pcma_pt, tev8_pt, tev48_pt; /* -1 when absent */
	int port;					  /* the m-line's */
	char cand_addr[64];				  /* first usable host candidate */
	int cand_port;					  /* 0: none */
};
/* -EBADMSG (malformed, too long), -ENOTSUP (see above). */
int webrtc_sdp_parse(const char *sdp, size_t len, struct webrtc_sdp *out);

/* STUN (RFC 8489) as ICE uses it. */
struct stun_msg {
	uint16_t type;
	uint8_t tid[12];
	const uint8_t *user; /* USERNAME, into the buffer */
	size_t user_len;
	int mi_off, fp_off; /* attribute offsets, -1 when absent */
	bool use_candidate, controlling, controlled, has_prio, has_xaddr;
	uint32_t prio;
	uint64_t tiebreak;
	struct sockaddr_storage xaddr; /* XOR-MAPPED-ADDRESS */
	int error;		       /* ERROR-CODE, 0 none */
};
#define STUN_BINDING_REQ 0x0001
#define STUN_BINDING_OK	 0x0101
#define STUN_BINDING_ERR 0x0111
/* Structure only (header, magic cookie, attribute lengths, MI and
 * FINGERPRINT placement). -EBADMSG. */
int stun_parse(const uint8_t *p, size_t n, struct stun_msg *m);
/* FINGERPRINT present and right. */
bool stun_fingerprint_ok(const uint8_t *p, size_t n, const struct stun_msg *m);
/* MESSAGE-INTEGRITY present and right for key (the ICE password). */
bool stun_integrity_ok(const uint8_t *p, size_t n, const struct stun_msg *m, const char *key);

/* RTCP (RFC 3550 §6): the SR/RR parts of a compound packet (SDES, BYE and
 * feedback are skipped by their lengths). -EBADMSG: a length beyond the
 * packet, a version not 2, a report count beyond its length. */
#define RTCP_BLOCKS_MAX 8
struct rtcp_block {
	uint32_t ssrc; /* the source reported on */
	uint8_t fraction;
	int32_t lost;
	uint32_t hiseq, jitter, lsr, dlsr;
};
struct rtcp_info {
	size_t npackets;
	bool has_sr;
	uint32_t sr_ssrc;
	uint64_t sr_ntp;
	uint32_t sr_rtp, sr_packets, sr_octets;
	size_t nblocks; /* at most RTCP_BLOCKS_MAX kept */
	struct rtcp_block blocks[RTCP_BLOCKS_MAX];
};
int rtcp_parse(const uint8_t *p, size_t n, struct rtcp_info *out);

#endif
