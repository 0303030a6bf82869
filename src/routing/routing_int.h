/* routing_int.h — structures private to routing/. */
#ifndef SB_ROUTING_INT_H
#define SB_ROUTING_INT_H

#include "routing/routing.h"
#include <uthash.h>

struct user {
	struct st_user rec;
	unsigned roles;
	enum presence presence;
	char away_reason[ST_TEXT];
	int64_t presence_since;
	int64_t ix_id;              /* current interaction, 0 = none */
	char ix_number[ST_NUMBER];
	int sessions;               /* signed-in sessions */
	UT_hash_handle hh_name, hh_id;
};

struct ix {
	struct st_interaction rec;
	enum ix_state state;
	int64_t queued_at;
	UT_hash_handle hh;
};

struct queue {
	struct st_queue rec;
	int64_t *members;
	size_t n_members;
};

struct routing {
	uv_loop_t *loop;
	struct store *store;
	bool awa_enabled;
	struct user **users;
	size_t n_users, cap_users;
	struct user *by_name, *by_id;
	struct ix *open;
	struct queue *queues;
	size_t n_queues;
	struct st_flag *flags;
	size_t n_flags;
	int64_t next_ix_id, next_user_id;
	routing_event_h *ev_h;
	void *ev_arg;
};

struct ix *routing_ix_by_id(struct routing *r, int64_t id);
int user_add(struct routing *r, const struct st_user *rec, struct user **up);

#endif
