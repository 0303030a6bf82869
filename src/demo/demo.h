/*
 * demo.h — first-start content: the demo site (`switchboard demo`) or, for
 * `switchboard serve` on an empty store, one bootstrap admin account.
 *
 * Thread: main thread, before the loop runs (writes synchronously).
 */
#ifndef SB_DEMO_H
#define SB_DEMO_H

#include "core/core.h"
#include "store/store.h"

/* Creates the demo site when the store has no users; *created tells.
 * Agents get SIP accounts in `realm` with the demo password; dialled numbers
 * 5000 (Support) and 5001 (Billing); calls accepted from 127.0.0.1. */
int demo_seed_site(struct store *st, const struct st_snapshot *snap, const char *realm,
		   bool *created);
/* Creates user "admin" with the password from $SWITCHBOARD_ADMIN_PASSWORD,
 * or a random one printed once, when the store has no users. */
int demo_seed_admin(struct store *st, const struct st_snapshot *snap);
/* Prints how to sign in to the demo. */
void demo_print_welcome(const struct config *cfg);
/* Writes the demo's call flow (dir/main.yaml, run by number 5002) unless a
 * file of that name exists; creates dir. */
int demo_write_flows(const char *dir);

#endif
