/*
 * srtp.c — SRTP and SRTCP (RFC 3711; AEAD_AES_128_GCM per RFC 7714) on
 * OpenSSL's ciphers, keyed from the DTLS exporter (RFC 5764 §4.2).
 *
 * DESIGN
 * - Why not libsrtp2: Debian builds it against NSS, which creates a
 *   PKCS#11 context for every packet: 1.4 µs (GCM) to 2.9 µs (CM) a
 *   packet, about 0.035 % of a core per leg at 50 packets/s each way,
 *   more than half of the 0.06 % a G.711 SRTP leg may cost in all
 *   (bench/webrtc_bench.c, docs/WEBRTC.md "SRTP"). OpenSSL's AES-GCM with
 *   a context keyed once is 0.2 µs. libsrtp2 stays the reference the tests
 *   check this file against, packet for packet, both ways
 *   (tests/unit/test_webrtc.c).
 * - One struct wsrtp per direction: the session keys derived once (the
 *   AES-CM PRF, RFC 3711 §4.3, key derivation rate 0; RFC 7714's 12-byte
 *   salt padded with two zero bytes, as libsrtp does), one cipher context
 *   per stream kind keyed once, per packet only the IV changes. HMAC-SHA1
 *   (CM profile) through an EVP_MAC context re-initialised with its key.
 * - Receiving: the packet index from the highest sequence number seen and
 *   the rollover counter (RFC 3711 §3.3.1), a 128-packet replay window
 *   behind the highest index; state is updated only after the tag checks.
 *   Up to four SSRCs per direction (a browser sends one audio SSRC); a
 *   fifth is refused (-EBADMSG), so a peer cannot make us keep state for
 *   any number of streams.
 * - SRTCP both ways (RFC 3711 §3.4, RFC 7714 §9): reports we send are
 *   encrypted (E set) with a per-SSRC index from 0; reports received are
 *   authenticated, replay-checked (a 64-report window) and decrypted for
 *   rtcp.c.
 * - Everything is in place in the caller's buffer; protect needs
 *   WSRTP_TRAILER bytes of room after the packet.
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define MAX_SSRC    4
#define WINDOW_BITS 128
#define CM_TAG	    10
#define GCM_TAG	    16

struct sstate {
	uint32_t ssrc;
	bool used;	   /* the slot is this SSRC's */
	bool rtp;	   /* roc, s_l and win are set (an RTP packet went or came) */
	uint32_t roc;	   /* rollover counter */
	uint16_t s_l;	   /* highest sequence number (receiver) / next (sender) */
	uint64_t win[2];   /* replay window: bit i = index (highest - i) seen */
	uint32_t rtcp_hi;  /* SRTCP: highest index seen + 1 (receiver) */
	uint64_t rtcp_win; /* its window */
};

struct wsrtp {
	enum wsrtp_profile prof;
	bool inbound;
	EVP_CIPHER_CTX *rtp, *rtcp;
	EVP_MAC_CTX *rtp_mac, *rtcp_mac; /* CM only */
	uint8_t rtp_salt[14], rtcp_salt[14];
	struct sstate st[MAX_SSRC];
};

/* ---- keys ---- */
/* The AES-CM PRF: n bytes of keystream for `label` (RFC 3711 §4.3.1). */
static int kdf(const uint8_t *mkey, const uint8_t msalt[14], uint8_t label, uint8_t *out, size_t n)
{
	uint8_t iv[16] = {0}, zero[32] = {0};
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol, ok;

	memcpy(iv, msalt, 14);
	iv[7] ^= label;
	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) == 1 &&
	     EVP_EncryptUpdate(c, out, &ol, zero, (int)n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

static EVP_MAC_CTX *mac_new(const uint8_t key[20])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
			       OSSL_PARAM_construct_end()};

	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (ctx && EVP_MAC_init(ctx, key, 20, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The cipher, salt and (CM) MAC of one stream kind: labels base .. base+2. */
static int kind_init(struct wsrtp *s, const uint8_t *mkey, const uint8_t msalt[14], uint8_t base,
		     EVP_CIPHER_CTX **cp, EVP_MAC_CTX **mp, uint8_t *salt)
{
	bool gcm = s->prof == WSRTP_AEAD_AES_128_GCM;
	uint8_t key[16], auth[20];
	int err = kdf(mkey, msalt, base, key, 16);

	if (!err)
		err = kdf(mkey, msalt, (uint8_t)(base + 2), salt, gcm ? 12 : 14);
	if (!err && !gcm)
		err = kdf(mkey, msalt, (uint8_t)(base + 1), auth, 20);
	*cp = err ? NULL : EVP_CIPHER_CTX_new();
	if (!*cp || EVP_CipherInit_ex(*cp, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, key,
				      NULL, s->inbound ? 0 : 1) != 1)
		err = -EIO;
	if (!err && !gcm && !(*mp = mac_new(auth)))
		err = -EIO;
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(auth, sizeof(auth));
	return err;
}

static void wsrtp_destroy(void *data)
{
	struct wsrtp *s = data;

	EVP_CIPHER_CTX_free(s->rtp);
	EVP_CIPHER_CTX_free(s->rtcp);
	EVP_MAC_CTX_free(s->rtp_mac);
	EVP_MAC_CTX_free(s->rtcp_mac);
	OPENSSL_cleanse(s->rtp_salt, sizeof(s->rtp_salt));
	OPENSSL_cleanse(s->rtcp_salt, sizeof(s->rtcp_salt));
}

int wsrtp_alloc(struct wsrtp **sp, enum wsrtp_profile prof, const uint8_t *key, const uint8_t *salt,
		bool inbound)
{
	struct wsrtp *s;
	uint8_t msalt[14] = {0};
	int err;

	if (prof != WSRTP_AES128_CM_SHA1_80 && prof != WSRTP_AEAD_AES_128_GCM)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s), wsrtp_destroy);
	if (!s)
		return -ENOMEM;
	s->prof = prof, s->inbound = inbound;
	memcpy(msalt, salt, prof == WSRTP_AEAD_AES_128_GCM ? 12 : 14);
	err = kind_init(s, key, msalt, 0, &s->rtp, &s->rtp_mac, s->rtp_salt);
	if (!err)
		err = kind_init(s, key, msalt, 3, &s->rtcp, &s->rtcp_mac, s->rtcp_salt);
	OPENSSL_cleanse(msalt, sizeof(msalt));
	if (err) {
		mem_deref(s);
		return err;
	}
	*sp = s;
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

int wsrtp_sessions(struct wsrtp **tx, struct wsrtp **rx, enum wsrtp_profile prof, const uint8_t *km,
		   bool we_are_client)
{
	size_t kl = key_len(prof), sl = salt_len(prof);
	const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
	int err;

	if (prof == WSRTP_NONE)
		return -EINVAL;
	err = wsrtp_alloc(tx, prof, we_are_client ? ck : sk, we_are_client ? cs : ss, false);
	if (err)
		return err;
	err = wsrtp_alloc(rx, prof, we_are_client ? sk : ck, we_are_client ? ss : cs, true);
	if (err)
		*tx = mem_deref(*tx);
	return err;
}

/* ---- per SSRC state ---- */
static struct sstate *state_of(struct wsrtp *s, uint32_t ssrc, bool make)
{
	for (int i = 0; i < MAX_SSRC; i++)
		if (s->st[i].used && s->st[i].ssrc == ssrc)
			return &s->st[i];
	for (int i = 0; make && i < MAX_SSRC; i++)
		if (!s->st[i].used)
			return &s->st[i]; /* marked used once a packet authenticates */
	return NULL;
}

/* The RTP header's length (CSRCs, extension), or -EBADMSG. */
static int rtp_hdr_len(const uint8_t *p, size_t n)
{
	size_t h;

	if (n < 12 || (p[0] >> 6) != 2)
		return -EBADMSG;
	h = 12 + 4 * (size_t)(p[0] & 15);
	if (p[0] & 0x10) {
		if (n < h + 4)
			return -EBADMSG;
		h += 4 + 4 * (size_t)rd16(p + h + 2);
	}
	return h <= n ? (int)h : -EBADMSG;
}

/* The receiver's estimate of the packet's rollover counter (RFC 3711 §3.3.1). */
static uint32_t roc_guess(const struct sstate *st, uint16_t seq)
{
	if (!st->rtp)
		return 0;
	if (st->s_l < 32768)
		return (int)seq - (int)st->s_l > 32768 ? st->roc - 1 : st->roc;
	return (int)st->s_l - 32768 > (int)seq ? st->roc + 1 : st->roc;
}

static uint64_t index_of(uint32_t roc, uint16_t seq)
{
	return (uint64_t)roc << 16 | seq;
}

/* 0 new, -EALREADY replayed or too old. */
static int replay_check(const struct sstate *st, uint64_t idx)
{
	uint64_t hi = index_of(st->roc, st->s_l), d;

	if (!st->rtp || idx > hi)
		return 0;
	d = hi - idx;
	if (d >= WINDOW_BITS)
		return -EALREADY;
	return st->win[d / 64] >> (d % 64) & 1 ? -EALREADY : 0;
}

static void replay_mark(struct sstate *st, uint32_t ssrc, uint64_t idx)
{
	uint64_t hi = index_of(st->roc, st->s_l);

	if (!st->rtp) {
		st->ssrc = ssrc, st->used = st->rtp = true;
		st->roc = (uint32_t)(idx >> 16), st->s_l = (uint16_t)idx;
		st->win[0] = st->win[1] = 0;
		hi = idx;
	}
	if (idx > hi) { /* shift the window up */
		uint64_t sh = idx - hi;

		if (sh >= WINDOW_BITS) {
			st->win[0] = st->win[1] = 0;
		} else if (sh >= 64) {
			st->win[1] = st->win[0] << (sh - 64), st->win[0] = 0;
		} else if (sh) {
			st->win[1] = st->win[1] << sh | st->win[0] >> (64 - sh);
			st->win[0] <<= sh;
		}
		st->roc = (uint32_t)(idx >> 16), st->s_l = (uint16_t)idx;
		hi = idx;
	}
	st->win[(hi - idx) / 64] |= (uint64_t)1 << ((hi - idx) % 64);
}

/* ---- the ciphers ---- */
static void cm_iv(uint8_t iv[16], const uint8_t salt[14], uint32_t ssrc, uint64_t idx)
{
	memset(iv, 0, 16);
	memcpy(iv, salt, 14);
	iv[4] ^= (uint8_t)(ssrc >> 24), iv[5] ^= (uint8_t)(ssrc >> 16);
	iv[6] ^= (uint8_t)(ssrc >> 8), iv[7] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(idx >> (40 - 8 * i));
}

static int ctr_crypt(EVP_CIPHER_CTX *c, const uint8_t iv[16], uint8_t *p, size_t n)
{
	int ol;

	return EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) == 1 &&
			       EVP_CipherUpdate(c, p, &ol, p, (int)n) == 1
		       ? 0
		       : -EIO;
}

/* HMAC-SHA1 of p[0..n) || roc (RTP; RTCP passes no roc), 10 bytes out. */
static int cm_tag(EVP_MAC_CTX *m, const uint8_t *p, size_t n, const uint8_t *roc, uint8_t *tag)
{
	uint8_t full[20];
	size_t ol;

	if (EVP_MAC_init(m, NULL, 0, NULL) != 1 || EVP_MAC_update(m, p, n) != 1 ||
	    (roc && EVP_MAC_update(m, roc, 4) != 1) || EVP_MAC_final(m, full, &ol, 20) != 1)
		return -EIO;
	memcpy(tag, full, CM_TAG);
	return 0;
}

/* AES-GCM of p[aad..n) with p[0..aad) (plus extra) as associated data. */
static int gcm_crypt(EVP_CIPHER_CTX *c, const uint8_t iv[12], uint8_t *p, size_t aad, size_t n,
		     const uint8_t *extra, size_t extra_n, uint8_t *tag, bool enc)
{
	int ol;

	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &ol, p, (int)aad) != 1 ||
	    (extra_n && EVP_CipherUpdate(c, NULL, &ol, extra, (int)extra_n) != 1) ||
	    EVP_CipherUpdate(c, p + aad, &ol, p + aad, (int)(n - aad)) != 1)
		return -EIO;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) != 1)
		return -EIO;
	if (EVP_CipherFinal_ex(c, p + n, &ol) != 1)
		return enc ? -EIO : -EACCES;
	return enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) != 1 ? -EIO : 0;
}

static void gcm_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint32_t roc,
		   uint16_t seq)
{
	memset(iv, 0, 12);
	wr32(iv + 2, ssrc);
	wr32(iv + 6, roc);
	iv[10] = (uint8_t)(seq >> 8), iv[11] = (uint8_t)seq;
	for (int i = 0; i < 12; i++)
		iv[i] ^= salt[i];
}

/* ---- RTP ---- */
int wsrtp_protect(struct wsrtp *s, uint8_t *p, size_t n, size_t cap)
{
	int h = rtp_hdr_len(p, n);
	uint32_t ssrc;
	uint16_t seq;
	struct sstate *st;
	uint8_t iv[16], roc[4];

	if (!s || s->inbound)
		return -ENOTCONN;
	if (h < 0)
		return h;
	if (n + WSRTP_TRAILER > cap)
		return -ENOSPC;
	ssrc = rd32(p + 8), seq = rd16(p + 2);
	if (!(st = state_of(s, ssrc, true)))
		return -ENOSPC; /* we send one SSRC per leg */
	if (!st->rtp)		/* rtcp_hi stays: an RR may have gone out on this SSRC */
		*st = (struct sstate){.ssrc = ssrc,
				      .used = true,
				      .rtp = true,
				      .s_l = seq,
				      .rtcp_hi = st->rtcp_hi};
	else if (seq < st->s_l && st->s_l - seq > 32768)
		st->roc++; /* our sequence numbers wrapped */
	st->s_l = seq;
	if (s->prof == WSRTP_AEAD_AES_128_GCM) {
		gcm_iv(iv, s->rtp_salt, ssrc, st->roc, seq);
		return gcm_crypt(s->rtp, iv, p, (size_t)h, n, NULL, 0, p + n, true)
			       ? -EIO
			       : (int)(n + GCM_TAG);
	}
	cm_iv(iv, s->rtp_salt, ssrc, index_of(st->roc, seq));
	wr32(roc, st->roc);
	if (ctr_crypt(s->rtp, iv, p + h, n - (size_t)h) || cm_tag(s->rtp_mac, p, n, roc, p + n))
		return -EIO;
	return (int)(n + CM_TAG);
}

int wsrtp_unprotect_rtp(struct wsrtp *s, uint8_t *p, size_t n)
{
	int h = rtp_hdr_len(p, n), err;
	bool gcm = s->prof == WSRTP_AEAD_AES_128_GCM;
	size_t tl = gcm ? GCM_TAG : CM_TAG, body;
	uint32_t ssrc, roc;
	uint16_t seq;
	struct sstate *st;
	uint8_t iv[16], rocb[4], tag[CM_TAG];

	if (h < 0 || n < (size_t)h + tl)
		return -EBADMSG;
	body = n - tl;
	ssrc = rd32(p + 8), seq = rd16(p + 2);
	if (!(st = state_of(s, ssrc, true)))
		return -EBADMSG; /* a fifth SSRC */
	roc = roc_guess(st, seq);
	if ((err = replay_check(st, index_of(roc, seq))))
		return err;
	if (gcm) {
		gcm_iv(iv, s->rtp_salt, ssrc, roc, seq);
		if ((err = gcm_crypt(s->rtp, iv, p, (size_t)h, body, NULL, 0, p + body, false)))
			return err;
	} else {
		wr32(rocb, roc);
		if (cm_tag(s->rtp_mac, p, body, rocb, tag))
			return -EIO;
		if (CRYPTO_memcmp(tag, p + body, CM_TAG))
			return -EACCES;
		cm_iv(iv, s->rtp_salt, ssrc, index_of(roc, seq));
		if (ctr_crypt(s->rtp, iv, p + h, body - (size_t)h))
			return -EIO;
	}
	replay_mark(st, ssrc, index_of(roc, seq));
	return (int)body;
}

/* ---- SRTCP ---- */
static void rtcp_gcm_iv(const struct wsrtp *s, uint8_t iv[12], uint32_t ssrc, uint32_t idx)
{
	memset(iv, 0, 12);
	wr32(iv + 2, ssrc);
	wr32(iv + 8, idx);
	for (int i = 0; i < 12; i++)
		iv[i] ^= s->rtcp_salt[i];
}

int wsrtp_protect_rtcp(struct wsrtp *s, uint8_t *p, size_t n, size_t cap)
{
	uint32_t ssrc, idx;
	struct sstate *st;
	uint8_t iv[16], e[4];

	if (!s || s->inbound)
		return -ENOTCONN;
	if (n < 8 || (p[0] >> 6) != 2)
		return -EBADMSG;
	if (n + WSRTCP_TRAILER > cap)
		return -ENOSPC;
	ssrc = rd32(p + 4);
	if (!(st = state_of(s, ssrc, true)))
		return -ENOSPC;
	st->ssrc = ssrc, st->used = true;
	idx = st->rtcp_hi++ & 0x7fffffff; /* sender: the next index */
	wr32(e, 0x80000000u | idx);
	if (s->prof == WSRTP_AEAD_AES_128_GCM) { /* ... | tag | E|index */
		rtcp_gcm_iv(s, iv, ssrc, idx);
		if (gcm_crypt(s->rtcp, iv, p, 8, n, e, 4, p + n, true))
			return -EIO;
		memcpy(p + n + GCM_TAG, e, 4);
		return (int)(n + GCM_TAG + 4);
	}
	cm_iv(iv, s->rtcp_salt, ssrc, idx); /* ... | E|index | tag */
	if (ctr_crypt(s->rtcp, iv, p + 8, n - 8))
		return -EIO;
	memcpy(p + n, e, 4);
	if (cm_tag(s->rtcp_mac, p, n + 4, NULL, p + n + 4))
		return -EIO;
	return (int)(n + 4 + CM_TAG);
}

/* Authenticated, replay-checked, decrypted: the plain RTCP length. */
int wsrtp_check_rtcp(struct wsrtp *s, uint8_t *p, size_t n)
{
	bool gcm = s->prof == WSRTP_AEAD_AES_128_GCM;
	size_t tl = gcm ? GCM_TAG : CM_TAG;
	uint32_t ssrc, eidx, idx;
	struct sstate *st;
	uint8_t tag[CM_TAG], iv[12];
	int err;

	if (n < 8 + 4 + tl)
		return -EBADMSG;
	ssrc = rd32(p + 4);
	/* CM: ... | E|index | tag;  GCM: ... | tag | E|index */
	eidx = rd32(p + n - (gcm ? 4 : tl + 4));
	idx = eidx & 0x7fffffff;
	if (!(st = state_of(s, ssrc, true)))
		return -EBADMSG;
	if (st->rtcp_hi && ((uint64_t)idx + 64 < st->rtcp_hi ||
			    (idx < st->rtcp_hi && st->rtcp_win >> (st->rtcp_hi - 1 - idx) & 1)))
		return -EALREADY; /* a 64-report window */
	if (gcm) {
		uint8_t e[4];

		memcpy(e, p + n - 4, 4);
		rtcp_gcm_iv(s, iv, ssrc, idx);
		/* AAD: the first 8 bytes and E|index (unencrypted: 8 + all) */
		err = gcm_crypt(s->rtcp, iv, p, eidx >> 31 ? 8 : n - 4 - tl, n - 4 - tl, e, 4,
				p + n - 4 - tl, false);
		if (err)
			return err;
	} else {
		if (cm_tag(s->rtcp_mac, p, n - tl, NULL, tag))
			return -EIO;
		if (CRYPTO_memcmp(tag, p + n - tl, CM_TAG))
			return -EACCES;
		if (eidx >> 31) {
			uint8_t civ[16];

			cm_iv(civ, s->rtcp_salt, ssrc, idx);
			if (ctr_crypt(s->rtcp, civ, p + 8, n - tl - 4 - 8))
				return -EIO;
		}
	}
	st->ssrc = ssrc, st->used = true;
	if (idx + 1 > st->rtcp_hi) {
		uint32_t sh = idx + 1 - st->rtcp_hi;

		st->rtcp_win = sh >= 64 ? 0 : st->rtcp_win << sh;
		st->rtcp_hi = idx + 1;
	}
	st->rtcp_win |= (uint64_t)1 << (st->rtcp_hi - 1 - idx);
	return (int)(n - tl - 4);
}

int wsrtp_unprotect(struct wsrtp *s, uint8_t *p, size_t n, bool rtcp)
{
	if (!s || !s->inbound || n > STUN_MAX)
		return -EBADMSG;
	return rtcp ? wsrtp_check_rtcp(s, p, n) : wsrtp_unprotect_rtp(s, p, n);
}

void wsrtp_free(struct wsrtp *s)
{
	mem_deref(s);
}
