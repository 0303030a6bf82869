/*
 * sip_msg.c — reads what the loop needs out of a parsed SIP request (sofia's
 * sip_t) into the plain, fixed-size fields of struct sip_event.
 *
 * DESIGN
 * - Every copy is bounded; an over-long value is truncated, which at worst
 *   makes a digest fail to verify or a user not match: never an overflow.
 * - Quoted strings (display names, digest parameters) are unquoted here,
 *   with backslash escapes, so the loop sees plain text.
 * - The source address is the socket's peer (the message's addrinfo), which
 *   a caller cannot forge in the Via; the Via's received/host is only the
 *   fallback.
 */
#define LOG_MODULE "sip"
#include "sip/sip_nua.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su.h>

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* Copies s, dropping surrounding quotes and backslash escapes. */
static void unquote(char *dst, const char *s, size_t size)
{
	size_t o = 0;

	if (!size)
		return;
	if (s && *s == '"') {
		for (s++; *s && *s != '"' && o + 1 < size; s++) {
			if (*s == '\\' && s[1])
				s++;
			dst[o++] = *s;
		}
		dst[o] = '\0';
		return;
	}
	str_copy(dst, s ? s : "", size);
}

void msg_source(nua_t *nua, sip_t const *sip, char *buf, size_t size)
{
	msg_t *m = nua_current_request(nua);
	su_addrinfo_t *ai = m ? msg_addrinfo(m) : NULL;
	su_sockaddr_t const *sa = ai ? (su_sockaddr_t const *)ai->ai_addr : NULL;

	buf[0] = '\0';
	if (sa && sa->su_family == AF_INET &&
	    inet_ntop(AF_INET, &sa->su_sin.sin_addr, buf, (socklen_t)size))
		return;
	if (sa && sa->su_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sa->su_sin6.sin6_addr, buf, (socklen_t)size))
		return;
	if (sip && sip->sip_via)
		str_copy(buf,
			 sip->sip_via->v_received ? sip->sip_via->v_received : sip->sip_via->v_host,
			 size);
}

static void param_get(msg_param_t const *params, const char *name, char *dst, size_t size)
{
	char key[32];
	const char *v;

	snprintf(key, sizeof(key), "%s=", name);
	v = params ? msg_params_find(params, key) : NULL;
	unquote(dst, v ? v : "", size);
}

void msg_auth(sip_t const *sip, bool *has, struct sip_digest *d)
{
	msg_auth_t const *au =
		sip->sip_authorization ? sip->sip_authorization : sip->sip_proxy_authorization;

	memset(d, 0, sizeof(*d));
	*has = false;
	if (!au || !au->au_scheme || strcasecmp(au->au_scheme, "Digest"))
		return;
	*has = true;
	param_get(au->au_params, "username", d->username, sizeof(d->username));
	param_get(au->au_params, "realm", d->realm, sizeof(d->realm));
	param_get(au->au_params, "nonce", d->nonce, sizeof(d->nonce));
	param_get(au->au_params, "uri", d->uri, sizeof(d->uri));
	param_get(au->au_params, "response", d->response, sizeof(d->response));
	param_get(au->au_params, "cnonce", d->cnonce, sizeof(d->cnonce));
	param_get(au->au_params, "nc", d->nc, sizeof(d->nc));
	param_get(au->au_params, "qop", d->qop, sizeof(d->qop));
	param_get(au->au_params, "algorithm", d->algorithm, sizeof(d->algorithm));
}

void msg_addr_user(sip_addr_t const *a, char *user, size_t usize, char *name, size_t nsize)
{
	str_copy(user, a && a->a_url->url_user ? a->a_url->url_user : "", usize);
	unquote(name, a && a->a_display ? a->a_display : "", nsize);
}

/* The SDP body, NUL-terminated; "" when there is none. -E2BIG if too long. */
int msg_sdp(sip_t const *sip, char *buf, size_t size)
{
	sip_payload_t const *pl = sip ? sip->sip_payload : NULL;
	sip_content_type_t const *ct = sip ? sip->sip_content_type : NULL;

	buf[0] = '\0';
	if (!pl || !pl->pl_data || !pl->pl_len)
		return 0;
	if (ct && ct->c_type && strcasecmp(ct->c_type, "application/sdp"))
		return 0;
	if (pl->pl_len >= size)
		return -E2BIG;
	memcpy(buf, pl->pl_data, pl->pl_len);
	buf[pl->pl_len] = '\0';
	return 0;
}
