/* callctl_int.h — structures private to callctl/. */
#ifndef SB_CALLCTL_INT_H
#define SB_CALLCTL_INT_H

#include "callctl/callctl.h"
#include "media/media.h"
#include "sip/sip.h"
#include <uthash.h>

enum call_state {
	CALL_GREETING, /* answered, greeting plays; not yet queued */
	CALL_QUEUED,   /* hold music; waiting for an agent */
	CALL_OFFERING, /* an agent's phone rings */
	CALL_BRIDGED,  /* caller and agent talk; recorded */
	CALL_ENDING,   /* one side gone; waiting for the other leg to end */
};

struct call;

/* One SIP leg with its media. */
struct cleg {
	sip_leg_t leg;
	struct mleg *m;
	struct call *call;
	bool is_agent;
	bool ended;
	UT_hash_handle hh; /* by leg id */
};

struct call {
	struct callctl *cc;
	uint64_t id;
	int64_t queue_id;
	int64_t ix_id;
	char ix_number[ST_NUMBER];
	enum call_state state;
	struct cleg caller, agent;
	struct user *agent_user;
	uv_timer_t *timer; /* greeting end / offer timeout */
	bool recording;
	bool agent_hold; /* the agent's phone holds: the caller hears music */
	char caller_number[64];
	UT_hash_handle hh; /* by ix_id */
};

struct binding {
	int64_t user_id;
	char contact[256];
	int64_t expires_at;
	UT_hash_handle hh;
};

struct number {
	char did[32];
	int64_t queue_id;
	UT_hash_handle hh;
};

#define CALLCTL_MAX_TRUNKS 32
struct callctl {
	uv_loop_t *loop;
	struct callctl_cfg cfg;
	struct routing *r;
	struct sip_ua *ua;
	struct media *media;
	struct call *calls; /* by ix_id */
	struct cleg *legs;  /* by SIP leg id */
	struct binding *bindings;
	struct number *numbers;
	struct st_trunk trunks[CALLCTL_MAX_TRUNKS];
	size_t n_trunks;
	size_t n_calls;
	uint64_t next_call_id;
	int16_t *greeting, *hold; /* from files, or NULL: the built-in beep and tune */
	size_t greeting_n, hold_n;
};

/* registrar.c */
void registrar_on_register(struct callctl *cc, const struct sip_event *ev);
bool registrar_device_ready(void *arg, const struct user *u);
void registrar_free(struct callctl *cc);

#endif
