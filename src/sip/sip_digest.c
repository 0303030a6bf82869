/*
 * sip_digest.c — HTTP digest (RFC 2617, RFC 7616 with MD5) for SIP: HA1 and
 * verification of a client's response.
 *
 * DESIGN
 * - MD5 is sofia's (<sofia-sip/su_md5.h>); pure functions, any thread.
 * - The registrar stores only HA1 = MD5(user:realm:password), never the
 *   password (docs/SIP.md).
 * - Supported: algorithm MD5 (or absent), qop "auth" (with cnonce and nc) or
 *   no qop (RFC 2069 compatibility). MD5-sess and auth-int are refused:
 *   nothing we challenge with asks for them.
 * - The final comparison runs over all 32 hex digits whatever the input
 *   (constant time), case-insensitively.
 * - Checking that the nonce is one we issued (sip_nonce_valid) and that the
 *   realm and user are right is the caller's job: this file only does the
 *   arithmetic.
 */
#define LOG_MODULE "sip"
#include "sip/sip_int.h"

#include <sofia-sip/su_md5.h>

#include <string.h>
#include <strings.h>

/* MD5 over the parts joined with ':' as 32 lowercase hex + NUL. */
static void md5_join(char out[33], const char *const *parts, size_t n)
{
	su_md5_t ctx;

	su_md5_init(&ctx);
	for (size_t i = 0; i < n; i++) {
		if (i)
			su_md5_update(&ctx, ":", 1);
		su_md5_strupdate(&ctx, parts[i]);
	}
	su_md5_hexdigest(&ctx, out);
	su_md5_deinit(&ctx);
}

void sip_digest_ha1(const char *user, const char *realm, const char *password, char ha1[33])
{
	const char *p[] = {user, realm, password};

	md5_join(ha1, p, 3);
}

static int hex_lower(int c)
{
	return c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c;
}

/* Constant-time over 32 digits; `given` is read up to its NUL only. */
static bool hex32_equal(const char want[33], const char *given)
{
	unsigned diff = strlen(given) != 32;
	size_t glen = strlen(given);

	for (size_t i = 0; i < 32; i++) {
		int g = i < glen ? given[i] : 0;
		diff |= (unsigned)(want[i] ^ hex_lower(g));
	}
	return diff == 0;
}

int sip_digest_verify(const struct sip_digest *d, const char *method, const char ha1[33])
{
	char ha2[33], want[33];

	if (!d || !method || !ha1 || strlen(ha1) != 32 || !d->nonce[0] || !d->uri[0])
		return -EACCES;
	if (d->algorithm[0] && strcasecmp(d->algorithm, "MD5"))
		return -EACCES;
	{
		const char *p[] = {method, d->uri};
		md5_join(ha2, p, 2);
	}
	if (!d->qop[0]) {
		const char *p[] = {ha1, d->nonce, ha2};
		md5_join(want, p, 3);
	} else if (!strcasecmp(d->qop, "auth") && d->cnonce[0] && d->nc[0]) {
		const char *p[] = {ha1, d->nonce, d->nc, d->cnonce, "auth", ha2};
		md5_join(want, p, 6);
	} else {
		return -EACCES;
	}
	return hex32_equal(want, d->response) ? 0 : -EACCES;
}
