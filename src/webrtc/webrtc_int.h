/*
 * webrtc_int.h — private structures of the WebRTC module (CONVENTIONS.md
 * §1). Only the .c files of src/webrtc include this header.
 *
 *   struct webrtc  (mem_zalloc; the owner's): the certificate, the DTLS
 *                  SSL_CTX, the counters of freed legs, the live legs
 *   struct webrtc_leg (mem_zalloc; the owner's): ICE credentials and state,
 *                  one SSL with a memory BIO in and a datagram BIO out,
 *                  two SRTP sessions (srtp.c), one uv_timer; it refs the
 *                  webrtc and points at its media leg (not refcounted:
 *                  the owner frees the WebRTC leg first)
 */
#ifndef SB_WEBRTC_INT_H
#define SB_WEBRTC_INT_H

#include "webrtc/webrtc.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#define STUN_MAGIC 0x2112A442u
#define STUN_MAX   1500
#define WEBRTC_MTU 1200 /* DTLS records fit any path a browser uses */

/* stun.c: what a binding request we send carries */
struct stun_req {
	uint8_t tid[12];
	const char *user; /* "their-ufrag:our-ufrag" */
	const char *key;  /* their ice-pwd */
	uint32_t prio;
	bool controlling, use_candidate;
	uint64_t tiebreak;
};
bool stun_is(const uint8_t *p, size_t n);
int stun_build_request(uint8_t *buf, size_t cap, const struct stun_req *r);
int stun_build_success(uint8_t *buf, size_t cap, const uint8_t tid[12],
		       const struct sockaddr *mapped, const char *key);
int stun_build_error(uint8_t *buf, size_t cap, const uint8_t tid[12], int code, const char *reason);

/* sdp.c: our SDP */
struct webrtc_sdp_out {
	const char *addr; /* host candidate and c= */
	int port;
	const char *ufrag, *pwd, *fingerprint; /* "sha-256 AB:..." */
	const char *setup;		       /* actpass / active / passive */
	const char *mid;		       /* echo of the offer's, or "0" */
	bool ice_lite;
	enum media_codec codecs[3]; /* in order */
	size_t ncodecs;
	int opus_pt, tev_pt; /* payload types to use; tev_pt -1: none */
	bool tev48;	     /* telephone-event/48000 (with Opus) */
	uint64_t sess_id;
};
int webrtc_sdp_build(char *buf, size_t size, const struct webrtc_sdp_out *o);

/* dtls.c */
struct dtls_ctx {
	SSL_CTX *ctx;
	X509 *cert;
	EVP_PKEY *key;
	char fingerprint[8 + 32 * 3]; /* "sha-256 " + "AB:" x 32 */
};
int dtls_ctx_init(struct dtls_ctx *d, bool no_gcm);
void dtls_ctx_close(struct dtls_ctx *d);
/* The SHA-256 of a certificate, 32 bytes. */
int dtls_cert_sha256(X509 *cert, uint8_t out[32]);

/* srtp.c: one direction's SRTP/SRTCP session (OpenSSL; DESIGN there) */
enum wsrtp_profile { WSRTP_NONE, WSRTP_AES128_CM_SHA1_80, WSRTP_AEAD_AES_128_GCM };
#define WSRTP_TRAILER 16 /* room protect needs after a packet */
struct wsrtp;
/* A session from its master key (16) and salt (14 CM, 12 GCM); inbound:
 * it unprotects, else protects. -EINVAL, -ENOMEM, -EIO. mem_deref frees. */
int wsrtp_alloc(struct wsrtp **sp, enum wsrtp_profile prof, const uint8_t *key, const uint8_t *salt,
		bool inbound);
void wsrtp_free(struct wsrtp *s);
/* Keys from the DTLS exporter into a tx and an rx session. */
int wsrtp_sessions(struct wsrtp **tx, struct wsrtp **rx, enum wsrtp_profile prof, const uint8_t *km,
		   bool we_are_client);
/* SRTP or SRTCP in place: the plain RTP or RTCP length. -EACCES (bad
 * tag), -EALREADY (replay), -EBADMSG. */
int wsrtp_unprotect(struct wsrtp *rx, uint8_t *p, size_t n, bool rtcp);
/* RTP in place: the SRTP length, or -ENOSPC (room, a fifth SSRC), -EIO. */
int wsrtp_protect(struct wsrtp *tx, uint8_t *p, size_t n, size_t cap);
/* RTCP in place (encrypted, E set): the SRTCP length; it needs
 * WSRTCP_TRAILER bytes of room. -ENOSPC, -EBADMSG, -EIO. */
#define WSRTCP_TRAILER 20
int wsrtp_protect_rtcp(struct wsrtp *tx, uint8_t *p, size_t n, size_t cap);
size_t wsrtp_km_len(enum wsrtp_profile prof);

/* rtcp.c: one leg's RTCP (DESIGN there) */
struct rtcp_state {
	uint32_t clock; /* RTP clock rate */
	char cname[17];
	uint32_t own_ssrc; /* ours before we send RTP */
	int64_t next_ms;   /* the next report (0: not connected) */
	/* the browser's stream (RFC 3550 A.1, A.3, A.8) */
	bool rx_seen;
	uint32_t rx_ssrc, cycles, base_seq;
	uint16_t max_seq;
	uint64_t received;
	uint32_t expected_prior, received_prior;
	uint32_t transit; /* arrival - timestamp, modulo 2^32 */
	uint32_t jitter;  /* x16 */
	int32_t my_lost;
	uint8_t my_fraction;
	uint32_t lsr; /* its last SR's NTP middle 32 bits, when it came */
	uint64_t lsr_at_us;
	/* ours */
	uint32_t tx_ssrc, tx_ts;
	uint64_t tx_at_us, tx_packets, tx_octets;
	bool tx_since; /* RTP sent since the last report: an SR */
	/* its view of ours */
	bool has_peer_view;
	uint8_t peer_fraction;
	int32_t peer_lost;
	uint32_t peer_jitter;
	int32_t rtt_ms;
	uint64_t sent, received_reports;
};
void rtcp_rx_rtp(struct rtcp_state *r, const uint8_t *p, size_t n);
void rtcp_tx_rtp(struct rtcp_state *r, const uint8_t *p, size_t n);
/* Our compound report into p: its length, -ENOSPC. */
int rtcp_build(struct rtcp_state *r, uint8_t *p, size_t cap);
/* true: the browser's first SR (answer it soon, for its RTT) */
bool rtcp_rx_report(struct rtcp_state *r, const struct rtcp_info *in);
void rtcp_quality(const struct rtcp_state *r, struct webrtc_quality *q);

struct webrtc {
	uv_loop_t *loop;
	struct webrtc_cfg cfg;
	struct dtls_ctx dtls;
	struct webrtc_stats gone; /* counters of freed legs */
	size_t nlegs;
	struct webrtc_leg *legs; /* live legs (for webrtc_totals) */
};

struct webrtc_leg {
	struct webrtc *w;
	struct mleg *m;
	enum webrtc_role role;
	enum webrtc_state state;
	webrtc_state_h *h;
	void *arg;
	const char *why; /* a failure's reason (static string) */
	bool report;	 /* state changed: tell the owner from the timer */
	enum webrtc_state reported;
	/* ICE */
	char ufrag[9], pwd[33];	  /* ours */
	struct webrtc_sdp remote; /* theirs (parsed SDP) */
	bool has_remote;
	struct sockaddr_storage peer; /* the selected address (a valid check) */
	bool has_peer, nominated;
	int64_t last_check_ms; /* last valid check from / response to the peer */
	int64_t next_check_ms; /* client: when to send the next check */
	uint8_t check_tid[12]; /* client: the check in flight */
	uint64_t tiebreak;
	int checks_sent;
	/* DTLS */
	SSL *ssl;
	BIO *rbio;
	bool dtls_client, dtls_started, dtls_done;
	bool closed_by_peer; /* its close_notify: a hang-up, logged as such */
	int64_t ssl_free_ms; /* when the connected leg's SSL goes (0: not yet due) */
	int64_t dtls_deadline_ms;
	/* SRTP */
	struct wsrtp *tx, *rx;
	enum wsrtp_profile prof;
	/* codecs */
	enum media_codec pref[3];
	size_t npref;
	enum media_codec codec;
	int pt, dtmf_pt;
	uv_timer_t timer;
	bool timer_open;
	struct webrtc_leg *prev, *next; /* in w->legs */
	struct webrtc_stats st;
	struct rtcp_state rtcp;
};

/* leg.c <-> dtls.c */
int dtls_leg_start(struct webrtc_leg *l);
/* One DTLS datagram from the peer. */
void dtls_leg_rx(struct webrtc_leg *l, const uint8_t *p, size_t n);
/* The handshake's retransmission timer: when it is due (ms, 0 none). */
int64_t dtls_leg_due(struct webrtc_leg *l, int64_t now);
void dtls_leg_timeout(struct webrtc_leg *l);
void dtls_leg_free(struct webrtc_leg *l);
/* The handshake is long settled: the SSL goes (~73 KB a leg), quietly. */
void dtls_leg_release(struct webrtc_leg *l);
/* leg.c: DTLS connected (keys in) or failed */
void leg_dtls_done(struct webrtc_leg *l, int err, const char *why);
void leg_fail(struct webrtc_leg *l, const char *why);
int leg_send_raw(struct webrtc_leg *l, const uint8_t *p, size_t n);

#endif
