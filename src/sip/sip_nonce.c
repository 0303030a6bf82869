/*
 * sip_nonce.c — the digest nonces this UA issued, shared by both threads.
 *
 * DESIGN
 * - A nonce is 16 random bytes (libsodium, via token_random_hex) as hex. It
 *   is remembered with its issue time in a uthash table, which iterates in
 *   insertion order, so expired entries are always at the head: pruning
 *   stops at the first live one (amortised O(1)).
 * - Valid for SIP_NONCE_TTL_MS (5 minutes) and reusable within that time
 *   (clients send nc=00000002… with the same nonce); nc replay is not
 *   tracked (docs/SIP.md). At most SIP_NONCE_MAX are kept: a flood of
 *   unauthenticated REGISTERs pushes out the oldest, it cannot grow memory.
 * - One mutex: sip_register_reply / sip_leg_respond create nonces on the
 *   loop, sip_nonce_valid checks them on the loop, the table is freed at
 *   the end.
 */
#define LOG_MODULE "sip"
#include "sip/sip_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void prune_locked(struct sip_ua *ua, int64_t now)
{
	struct sip_nonce *n, *tmp;

	HASH_ITER(hh, ua->nonces, n, tmp)
	{
		if (now - n->at < SIP_NONCE_TTL_MS && ua->n_nonces < SIP_NONCE_MAX)
			break;
		HASH_DEL(ua->nonces, n);
		ua->n_nonces--;
		free(n);
	}
}

int sip_nonce_new(struct sip_ua *ua, char out[33])
{
	struct sip_nonce *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	err = token_random_hex(n->v, sizeof(n->v), 16);
	if (err) {
		free(n);
		return err;
	}
	n->at = time_now_ms();
	memcpy(out, n->v, sizeof(n->v));
	pthread_mutex_lock(&ua->nonce_lock);
	prune_locked(ua, n->at);
	HASH_ADD_STR(ua->nonces, v, n);
	ua->n_nonces++;
	pthread_mutex_unlock(&ua->nonce_lock);
	return 0;
}

bool sip_nonce_valid(struct sip_ua *ua, const char *nonce)
{
	struct sip_nonce *n = NULL;
	bool ok;

	if (!ua || !nonce || strlen(nonce) != 32)
		return false;
	pthread_mutex_lock(&ua->nonce_lock);
	HASH_FIND_STR(ua->nonces, nonce, n);
	ok = n && time_now_ms() - n->at < SIP_NONCE_TTL_MS;
	pthread_mutex_unlock(&ua->nonce_lock);
	return ok;
}

void sip_nonce_flush(struct sip_ua *ua)
{
	struct sip_nonce *n, *tmp;

	pthread_mutex_lock(&ua->nonce_lock);
	HASH_ITER(hh, ua->nonces, n, tmp)
	{
		HASH_DEL(ua->nonces, n);
		free(n);
	}
	ua->n_nonces = 0;
	pthread_mutex_unlock(&ua->nonce_lock);
}

void sip_challenge(const struct sip_ua *ua, const char *nonce, char *buf, size_t size)
{
	snprintf(buf, size, "Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", algorithm=MD5",
		 ua->cfg.realm, nonce);
}
