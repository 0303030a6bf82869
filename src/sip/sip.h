/*
 * sip.h — Switchboard's SIP edge: sofia-sip's nua running in its own thread,
 * hidden behind a leg API that speaks in ids and plain structs. No sofia
 * type crosses this header (CONVENTIONS.md §7, STACK.md).
 *
 * Threads: sip_ua_alloc starts the SIP thread. Every other function here is
 * called on the loop thread; commands are queued to the SIP thread. Events
 * from the SIP thread are queued back and delivered on the loop thread
 * (uv_async), in order. Messages carry leg ids, never pointers.
 */
#ifndef SB_SIP_H
#define SB_SIP_H

#include "core/core.h"

/* ---- SDP (RFC 4566/3264), audio only ---- */
#define SDP_MAX_FMTS 8
enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
struct sdp_audio {
	char addr[64];		/* c= address (IPv4 dotted or IPv6) */
	int port;		/* m=audio port; 0 = rejected stream */
	int fmts[SDP_MAX_FMTS]; /* payload types in offer order */
	int n_fmts;
	int telephone_event_pt; /* RFC 4733 payload type, -1 = none */
	enum sdp_dir dir;
	int ptime; /* ms, 0 = not given */
};
/* Parses an SDP body; -EBADMSG when malformed or no audio stream.
 * (Not `sdp_parse`: libsofia-sip-ua exports a function of that name.) */
int sdp_audio_parse(const char *buf, size_t len, struct sdp_audio *out);
/*
 * Writes our SDP: one audio stream at addr:port offering fmts (0 PCMU, 8
 * PCMA) and telephone-event (if pt >= 0). Returns the length, or -ENOSPC;
 * -EINVAL for another format or an address that is not a plain host/IP.
 */
int sdp_build(char *buf, size_t size, const struct sdp_audio *local, uint64_t session_id,
	      uint64_t version);
/* Picks the first of the offer's formats we support (0 or 8), or -1. */
int sdp_pick_codec(const struct sdp_audio *offer);

/* ---- digest authentication (RFC 2617/7616, MD5) ---- */
struct sip_digest {
	char username[64], realm[64], nonce[128], uri[256], response[64];
	char cnonce[128], nc[16], qop[16], algorithm[16];
};
/* HA1 = MD5(user:realm:password), as 32 lowercase hex chars + NUL. */
void sip_digest_ha1(const char *user, const char *realm, const char *password, char ha1[33]);
/* 0 when the response matches for this method and HA1; -EACCES otherwise. */
int sip_digest_verify(const struct sip_digest *d, const char *method, const char ha1[33]);

/* ---- the user agent ---- */
struct sip_ua;
typedef uint64_t sip_leg_t; /* 0 = none */

struct sip_ua_cfg {
	char address[64];     /* listen address, default 127.0.0.1 */
	int port;	      /* UDP and TCP, default 5060 */
	char realm[64];	      /* digest realm, default "switchboard" */
	char public_addr[64]; /* address written in Contact/SDP, default = address */
	int ack_timeout_ms;   /* our 2xx to an INVITE not ACKed in this time: the leg is
				 dropped without a BYE (TERMINATED "timeout", 408);
				 0 = RFC 3261's 32 s (Timer H) */
};

enum sip_event_kind {
	SIP_EV_REGISTER,   /* REGISTER: reply with sip_register_reply(req) */
	SIP_EV_INCOMING,   /* a new inbound INVITE on `leg` (100 Trying already sent) */
	SIP_EV_PROGRESS,   /* outbound leg: 180/183 */
	SIP_EV_ANSWERED,   /* outbound leg: 2xx received and ACKed; sdp = the answer */
	SIP_EV_CONFIRMED,  /* inbound leg: our 2xx was ACKed */
	SIP_EV_FAILED,	   /* outbound leg: final non-2xx `status`; the leg is gone */
	SIP_EV_TERMINATED, /* the leg ended: BYE or CANCEL from the far end, or our hangup done */
	SIP_EV_REINVITE,   /* in-dialog INVITE with new sdp (hold/resume); answered already with
			      the leg's current local SDP, direction mirrored */
	SIP_EV_OPTIONS,	   /* informational: OPTIONS answered 200 by the SIP thread */
	SIP_EV_REFER,	   /* in-dialog REFER: to_user = Refer-To's user part; replaces =
			      it carries Replaces (an attended transfer). Answer with
			      sip_leg_refer_reply */
};

struct sip_event {
	enum sip_event_kind kind;
	sip_leg_t leg;
	uint64_t req;	    /* SIP_EV_REGISTER: token for sip_register_reply */
	int status;	    /* FAILED: final status; TERMINATED: 0 or the cause */
	char from_user[64]; /* INCOMING/REGISTER: user part of From */
	char from_name[64]; /* display name */
	char to_user[64];   /* INCOMING: user part of the request URI (the DID) */
	char source[64];    /* the packet's source IP */
	char contact[256];  /* REGISTER: Contact URI; "" with expires 0 or "*" */
	int expires;	    /* REGISTER: requested seconds (-1 = not given) */
	bool has_auth;	    /* REGISTER/INCOMING: an Authorization header was sent */
	struct sip_digest auth;
	char reason[64]; /* TERMINATED: "bye", "cancel", "timeout", "local" */
	bool replaces;	 /* REFER: Refer-To has a Replaces header */
	char sdp[2048];	 /* INCOMING/ANSWERED/REINVITE body ("" = none) */
};
typedef void(sip_event_h)(const struct sip_event *ev, void *arg);

/* Starts the SIP thread listening on cfg (UDP+TCP). Events go to h on the loop. */
int sip_ua_alloc(struct sip_ua **uap, uv_loop_t *loop, const struct sip_ua_cfg *cfg, sip_event_h *h,
		 void *arg);
/* Inbound INVITEs beyond `max` live inbound legs are answered 503 "Over
 * capacity" by the SIP thread itself, with no event (0 = no limit). */
void sip_ua_set_max_inbound(struct sip_ua *ua, int max);
/* Stops the SIP thread (ends dialogs with BYE where possible), frees. Loop thread. */
void sip_ua_free(struct sip_ua *ua);

/* REGISTER replies: 200 (with the granted expires and contact echoed), or
 * 401 with a fresh challenge (nonce made by the SIP module), or 403/400. */
int sip_register_reply(struct sip_ua *ua, uint64_t req, int status, const char *reason,
		       int expires);
/* New nonce for a challenge this UA issued recently (valid 5 min); used by
 * sip_register_reply(401) and sip_leg_respond(407) internally. Exposed for tests. */
bool sip_nonce_valid(struct sip_ua *ua, const char *nonce);

/* Inbound legs: 180 Ringing, 2xx with our SDP, or a final error with a reason
 * phrase (e.g. 404 "No such number", 503 "Over capacity"). 401/407 add a challenge. */
int sip_leg_respond(struct sip_ua *ua, sip_leg_t leg, int status, const char *reason,
		    const char *sdp);
/* Outbound INVITE to a URI (an agent's registered contact, or a trunk). */
int sip_leg_invite(struct sip_ua *ua, sip_leg_t *legp, const char *to_uri, const char *from_user,
		   const char *from_name, const char *sdp);
/* The same, asking the device to answer at once (intercom style): adds
 * `Call-Info: <sip:ADDR>;answer-after=0` (RFC 3261 Call-Info with the
 * answer-after parameter, honoured by Polycom, Yealink, Snom, Grandstream,
 * Cisco SPA …) and `Alert-Info: <http://ADDR/>;info=alert-autoanswer`.
 * A device that ignores both just rings. */
int sip_leg_invite_auto(struct sip_ua *ua, sip_leg_t *legp, const char *to_uri,
			const char *from_user, const char *from_name, const char *sdp);
/* Ends a leg: BYE when confirmed, CANCEL when outbound and early, 480 when
 * inbound and unanswered. SIP_EV_TERMINATED follows. */
int sip_leg_hangup(struct sip_ua *ua, sip_leg_t leg);
/* In-dialog re-INVITE with new SDP (hold: a=sendonly; resume: sendrecv). */
int sip_leg_reinvite(struct sip_ua *ua, sip_leg_t leg, const char *sdp);
/* The answer to the leg's REFER (RFC 3515): 202 accepts it and reports its
 * outcome at once, a NOTIFY "SIP/2.0 200 OK" that ends the implicit
 * subscription (our transfers are blind: the referrer's part is done);
 * any 4xx-6xx refuses it and the call goes on. */
int sip_leg_refer_reply(struct sip_ua *ua, sip_leg_t leg, int status, const char *reason);

#endif
