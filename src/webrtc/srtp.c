/*
 * srtp.c — SRTP and SRTCP (RFC 3711, RFC 7714) with libsrtp2: the two
 * sessions of a leg keyed from the DTLS exporter (RFC 5764 §4.2).
 *
 * DESIGN
 * - Two sessions per leg: tx (our SSRC, whatever it is: ssrc_any_outbound)
 *   and rx (any inbound SSRC), each with the same policy for RTP and RTCP
 *   (rtcp-mux: both on the one socket).
 * - Key material from the exporter is client key | server key | client
 *   salt | server salt; the DTLS client sends with the client's half.
 * - Profiles: SRTP_AES128_CM_SHA1_80 (every browser) and
 *   SRTP_AEAD_AES_128_GCM (preferred by Chrome and Firefox when offered).
 * - Everything is in place in the caller's buffer: protect needs
 *   SRTP_MAX_TRAILER_LEN bytes of room after the packet.
 * - libsrtp2's global init runs once (srtp_init is not reference counted;
 *   srtp_shutdown would break a second webrtc object, so it is not called:
 *   it frees only its debug modules' list).
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <string.h>

static bool srtp_ready;

int wsrtp_global_init(void)
{
	if (srtp_ready)
		return 0;
	if (srtp_init() != srtp_err_status_ok)
		return -EIO;
	srtp_ready = true;
	return 0;
}

static size_t key_len(enum wsrtp_profile p)
{
	return p == WSRTP_NONE ? 0 : 16;
}

static size_t salt_len(enum wsrtp_profile p)
{
	return p == WSRTP_AEAD_AES_128_GCM ? 12 : p == WSRTP_AES128_CM_SHA1_80 ? 14 : 0;
}

size_t wsrtp_km_len(enum wsrtp_profile p)
{
	return 2 * (key_len(p) + salt_len(p));
}

static int session(srtp_t *s, enum wsrtp_profile prof, const uint8_t *key, const uint8_t *salt,
		   bool inbound)
{
	srtp_policy_t pol;
	uint8_t master[16 + 14];
	srtp_err_status_t e;

	memset(&pol, 0, sizeof(pol));
	if (prof == WSRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	}
	memcpy(master, key, key_len(prof));
	memcpy(master + key_len(prof), salt, salt_len(prof));
	pol.key = master;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 1024;
	pol.allow_repeat_tx = 0;
	e = srtp_create(s, &pol);
	memset(master, 0, sizeof(master));
	return e == srtp_err_status_ok ? 0 : -EIO;
}

int wsrtp_sessions(srtp_t *tx, srtp_t *rx, enum wsrtp_profile prof, const uint8_t *km,
		   bool we_are_client)
{
	size_t kl = key_len(prof), sl = salt_len(prof);
	const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
	int err;

	if (prof == WSRTP_NONE)
		return -EINVAL;
	err = session(tx, prof, we_are_client ? ck : sk, we_are_client ? cs : ss, false);
	if (err)
		return err;
	err = session(rx, prof, we_are_client ? sk : ck, we_are_client ? ss : cs, true);
	if (err) {
		srtp_dealloc(*tx);
		*tx = NULL;
	}
	return err;
}

int wsrtp_unprotect(srtp_t rx, uint8_t *p, size_t n, bool rtcp)
{
	int len = (int)n;
	srtp_err_status_t e;

	if (!rx || n > STUN_MAX)
		return -EBADMSG;
	e = rtcp ? srtp_unprotect_rtcp(rx, p, &len) : srtp_unprotect(rx, p, &len);
	switch (e) {
	case srtp_err_status_ok: return len;
	case srtp_err_status_auth_fail: return -EACCES;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old: return -EALREADY;
	default: return -EBADMSG;
	}
}

int wsrtp_protect(srtp_t tx, uint8_t *p, size_t n, size_t cap)
{
	int len = (int)n;

	if (!tx)
		return -ENOTCONN;
	if (n + SRTP_MAX_TRAILER_LEN > cap)
		return -ENOSPC;
	return srtp_protect(tx, p, &len) == srtp_err_status_ok ? len : -EIO;
}
