/*
 * sip_int.h — structures private to sip/. Two halves: what the loop thread
 * touches (the public API, event delivery, the live-leg set) and what only
 * the SIP thread touches (su_root, nua, handles, pending REGISTERs). The
 * queues and the nonce table in between are guarded by their own mutexes.
 */
#ifndef SB_SIP_INT_H
#define SB_SIP_INT_H

#include "sip/sip.h"

#include <pthread.h>
#include <stdatomic.h>
#include <uthash.h>

#define SIP_NONCE_TTL_MS (5 * 60 * 1000)
#define SIP_NONCE_MAX	 65536	     /* oldest dropped beyond this */
#define SIP_REQ_TTL_MS	 (40 * 1000) /* an unanswered REGISTER is dropped */
#define SIP_SHUTDOWN_MS	 5000
#define SIP_ACK_CHECK_MS 100  /* how often overdue ACKs are looked for */
#define SIP_SDP_MAX	 8192 /* SDP we send */
/* The largest SIP message we take, over UDP or TCP (headers and body): a
 * datagram cannot be larger, and nothing we handle needs more. Larger ones
 * are answered 413 (TCP) or 400 (UDP) by sofia and dropped. */
#define SIP_MAX_MESSAGE 65536
/* sip_sofia_fix.c: the fixes to sofia are in effect (logged at start). */
bool sip_sofia_fix_active(void);

/* ---- loop → SIP thread ---- */
enum sip_cmd_kind {
	CMD_RESPOND,	 /* leg, status, reason, sdp, nonce (401/407) */
	CMD_INVITE,	 /* leg, uri, from_user, from_name, sdp */
	CMD_HANGUP,	 /* leg */
	CMD_REINVITE,	 /* leg, sdp */
	CMD_REFER_REPLY, /* leg, status, reason: the answer to its REFER */
	CMD_REG_REPLY,	 /* req, status, reason, expires, nonce (401) */
	CMD_SHUTDOWN,
};

struct sip_cmd {
	enum sip_cmd_kind kind;
	sip_leg_t leg;
	uint64_t req;
	int status, expires;
	char reason[64];
	char nonce[33];
	char uri[256];
	char from_user[64], from_name[64];
	bool auto_answer; /* CMD_INVITE: Call-Info answer-after=0 */
	char *sdp;	  /* malloc'd, owned by the command */
	struct sip_cmd *next;
};

/* ---- SIP thread → loop ---- */
struct sip_evnode {
	struct sip_event ev;
	struct sip_evnode *next;
};

/* ---- loop thread: legs the loop may still act on ---- */
struct sip_live {
	sip_leg_t id;
	UT_hash_handle hh;
};

/* ---- shared: nonces we issued, in issue order ---- */
struct sip_nonce {
	char v[33];
	int64_t at;
	UT_hash_handle hh;
};

/* ---- SIP thread: a reason phrase kept alive for nua (it does not copy) ---- */
struct sip_phrase {
	char *s;
	UT_hash_handle hh;
};

/* ---- SIP thread: one INVITE dialog ---- */
struct sleg;
/* ---- SIP thread: one REGISTER waiting for the loop's verdict ---- */
struct sreq;

struct sip_ua {
	/* immutable while the thread runs */
	struct sip_ua_cfg cfg;
	uv_loop_t *loop;
	sip_event_h *h;
	void *arg;
	_Atomic uint64_t next_id; /* leg ids and REGISTER tokens */
	_Atomic int max_inbound;  /* inbound legs beyond this get 503 at once; 0 = no limit */

	/* loop → SIP commands */
	pthread_mutex_t cmd_lock;
	struct sip_cmd *cmd_head, *cmd_tail;
	int wake_fd; /* eventfd, registered with su_root */

	/* SIP → loop events */
	pthread_mutex_t ev_lock;
	struct sip_evnode *ev_head, *ev_tail;
	uv_async_t async;

	/* nonces (any thread) */
	pthread_mutex_t nonce_lock;
	struct sip_nonce *nonces;
	size_t n_nonces;

	/* SIP thread only: answered inbound legs waiting for their ACK, oldest
	 * first (answer order), checked by ack_timer (sip_leg.c) */
	struct sleg *ack_wait;

	/* start-up handshake */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	int start_err;
	bool started;

	/* loop thread only */
	pthread_t thread;
	struct sip_live *live;
	bool closing;

	/* SIP thread only (opaque sofia pointers) */
	void *root;	  /* su_root_t */
	void *nua;	  /* nua_t */
	void *sweep;	  /* su_timer_t: stale REGISTERs */
	void *stop_timer; /* su_timer_t: shutdown deadline */
	void *ack_timer;  /* su_timer_t: overdue ACKs, every SIP_ACK_CHECK_MS */
	struct sleg *legs;
	int n_inbound; /* live inbound legs */
	struct sreq *reqs;
	struct sip_phrase *phrases; /* interned reason phrases */
	size_t n_phrases;
	bool shutting_down;
};

/* sip_ua.c (either thread) */
void sip_event_push(struct sip_ua *ua, struct sip_evnode *n);
struct sip_evnode *sip_event_new(enum sip_event_kind kind, sip_leg_t leg);
uint64_t sip_id_next(struct sip_ua *ua);
/* SIP thread: takes the whole command list (clears the wake-up). */
struct sip_cmd *sip_cmd_take(struct sip_ua *ua);
void sip_cmds_free(struct sip_cmd *c);

/* sip_nonce.c (any thread) */
int sip_nonce_new(struct sip_ua *ua, char out[33]);
void sip_nonce_flush(struct sip_ua *ua);
/* The challenge header value for a nonce. */
void sip_challenge(const struct sip_ua *ua, const char *nonce, char *buf, size_t size);

/* sip_thread.c (SIP thread) */
void *sip_thread_main(void *arg);

#endif
