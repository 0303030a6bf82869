/*
 * sip_nua.h — the SIP thread's view: sofia magic types, the per-dialog leg
 * and the pending-REGISTER record, and the handlers sip_thread.c dispatches to.
 * Included only by the files that run on the SIP thread.
 */
#ifndef SB_SIP_NUA_H
#define SB_SIP_NUA_H

#include "sip/sip_int.h"

#define NUA_MAGIC_T	struct sip_ua
#define NUA_HMAGIC_T	struct sleg
#define SU_ROOT_MAGIC_T struct sip_ua
#define SU_WAKEUP_ARG_T struct sip_ua
#define SU_TIMER_ARG_T	struct sip_ua

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

/* One INVITE dialog, bound to its nua handle (nua_handle_magic). */
struct sleg {
	sip_leg_t id;
	nua_handle_t *nh;
	bool inbound;
	bool answered;			  /* 2xx sent (inbound) or received (outbound) */
	bool confirmed;			  /* inbound: ACK seen, CONFIRMED raised */
	bool hangup;			  /* we ended it (hangup or reject) */
	bool ended;			  /* the terminal event was raised */
	const char *reason;		  /* for TERMINATED: "bye", "cancel", "local", "timeout" */
	char *local_sdp;		  /* the SDP we last sent (malloc'd) */
	uint64_t answered_ms;		  /* inbound: when our 2xx went out */
	struct sleg *ack_prev, *ack_next; /* in ua->ack_wait while unconfirmed */
	nua_saved_event_t refer[1];	  /* a REFER waiting for the loop's answer */
	bool refer_pending;
	UT_hash_handle hh; /* ua->legs by id */
};

/* One REGISTER waiting for sip_register_reply. */
struct sreq {
	uint64_t id;
	nua_handle_t *nh;
	nua_saved_event_t saved[1];
	char contact[256]; /* echoed in the 200 */
	int64_t at;
	UT_hash_handle hh;
};

#define NUA_CB_ARGS                                                                                \
	nua_event_t event, int status, char const *phrase, nua_t *nua, struct sip_ua *ua,          \
		nua_handle_t *nh, struct sleg *sl, sip_t const *sip, tagi_t tags[]

/* sip_thread.c: a reason phrase that lives as long as the UA (nua_respond keeps
 * the pointer, it does not copy it); falls back to the standard phrase. */
const char *sip_phrase(struct sip_ua *ua, const char *reason, int status);

/* sip_leg.c */
void leg_on_invite(NUA_CB_ARGS);
void leg_on_state(NUA_CB_ARGS);
void leg_on_r_invite(NUA_CB_ARGS);
void leg_cmd(struct sip_ua *ua, struct sip_cmd *c);
void leg_on_refer(struct sip_ua *ua, nua_t *nua, struct sleg *sl, sip_t const *sip);
void leg_free_all(struct sip_ua *ua);
/* Ends answered inbound legs whose ACK is overdue (cfg.ack_timeout_ms). */
void leg_ack_check(struct sip_ua *ua);

/* sip_reg.c */
void reg_on_register(NUA_CB_ARGS);
void reg_cmd_reply(struct sip_ua *ua, struct sip_cmd *c);
void reg_sweep(struct sip_ua *ua, bool all);

/* sip_msg.c: reading requests into plain fields */
void msg_source(nua_t *nua, sip_t const *sip, char *buf, size_t size);
void msg_auth(sip_t const *sip, bool *has, struct sip_digest *d);
void msg_addr_user(sip_addr_t const *a, char *user, size_t usize, char *name, size_t nsize);
int msg_sdp(sip_t const *sip, char *buf, size_t size);

#endif
