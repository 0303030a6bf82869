/*
 * stun.c — STUN (RFC 8489) as ICE needs it (RFC 8445 §7): binding
 * requests, success and error responses, MESSAGE-INTEGRITY (HMAC-SHA1
 * with the ICE password as the short-term key) and FINGERPRINT (CRC-32
 * xor 0x5354554e).
 *
 * DESIGN
 * - Hand-written: a binding request is a 20-byte header and a handful of
 *   TLV attributes. Debian's STUN code comes inside whole ICE agents
 *   (libnice with GLib's main loop and its own sockets; pjnath with
 *   pjlib's) that would own the sockets the media loop owns; what ICE-lite
 *   needs of them is these 300 lines (docs/WEBRTC.md).
 * - Bounded: every length is checked against what is left before it is
 *   read; attributes are walked once, at most 64 of them; a message is at
 *   most 1,500 bytes (it came in one datagram). Unknown attributes are
 *   skipped (comprehension-required ones are refused by ICE's rules only
 *   when they matter: none of those we do not know appear in checks).
 * - MESSAGE-INTEGRITY covers the message up to the attribute, with the
 *   header's length set as if the message ended after it; FINGERPRINT the
 *   same up to itself. Only FINGERPRINT may follow MESSAGE-INTEGRITY, and
 *   nothing may follow FINGERPRINT. Integrity is compared in constant time.
 * - Pure functions: no state, no allocation; fuzzed (fuzz_webrtc_stun).
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define STUN_HDR      20
#define STUN_ATTR_MAX 64
#define A_MAPPED      0x0001
#define A_USERNAME    0x0006
#define A_MI	      0x0008
#define A_ERROR	      0x0009
#define A_XOR_MAPPED  0x0020
#define A_PRIORITY    0x0024
#define A_USE_CAND    0x0025
#define A_FINGERPRINT 0x8028
#define A_CONTROLLED  0x8029
#define A_CONTROLLING 0x802A
#define FP_XOR	      0x5354554eu

/* ---- CRC-32 (IEEE 802.3, reflected), the table made once ---- */
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_table[1])
		crc_init(); /* loop thread (and fuzzers): no race */
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ---- parse ---- */
bool stun_is(const uint8_t *p, size_t n)
{
	return n >= STUN_HDR && p[0] < 4 && rd32(p + 4) == STUN_MAGIC;
}

static int xaddr_parse(const uint8_t *v, size_t len, const uint8_t *hdr,
		       struct sockaddr_storage *sa)
{
	uint16_t port;

	if (len < 8 || v[0] != 0)
		return -EBADMSG;
	port = rd16(v + 2) ^ (uint16_t)(STUN_MAGIC >> 16);
	memset(sa, 0, sizeof(*sa));
	if (v[1] == 1 && len == 8) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(rd32(v + 4) ^ STUN_MAGIC);
		return 0;
	}
	if (v[1] == 2 && len == 20) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			s6->sin6_addr.s6_addr[i] = v[4 + i] ^ hdr[4 + i]; /* cookie + tid */
		return 0;
	}
	return -EBADMSG;
}

/* One attribute at off (its header), value length len: fills m. */
static int attr_take(const uint8_t *p, int off, uint16_t type, size_t len, struct stun_msg *m)
{
	const uint8_t *v = p + off + 4;

	switch (type) {
	case A_USERNAME:
		if (len > 513)
			return -EBADMSG;
		m->user = v, m->user_len = len;
		return 0;
	case A_MI: m->mi_off = off; return len == 20 ? 0 : -EBADMSG;
	case A_FINGERPRINT: m->fp_off = off; return len == 4 ? 0 : -EBADMSG;
	case A_PRIORITY:
		m->has_prio = true, m->prio = len == 4 ? rd32(v) : 0;
		return len == 4 ? 0 : -EBADMSG;
	case A_USE_CAND: m->use_candidate = true; return len == 0 ? 0 : -EBADMSG;
	case A_CONTROLLING:
	case A_CONTROLLED:
		if (len != 8)
			return -EBADMSG;
		*(type == A_CONTROLLING ? &m->controlling : &m->controlled) = true;
		m->tiebreak = (uint64_t)rd32(v) << 32 | rd32(v + 4);
		return 0;
	case A_XOR_MAPPED: m->has_xaddr = true; return xaddr_parse(v, len, p, &m->xaddr);
	case A_ERROR:
		if (len < 4)
			return -EBADMSG;
		m->error = (v[2] & 7) * 100 + v[3] % 100;
		return 0;
	}
	return 0; /* unknown: skipped */
}

int stun_parse(const uint8_t *p, size_t n, struct stun_msg *m)
{
	size_t mlen, off = STUN_HDR;
	int nattr = 0;

	if (!p || !m || n < STUN_HDR || n > STUN_MAX || !stun_is(p, n))
		return -EBADMSG;
	memset(m, 0, sizeof(*m));
	m->mi_off = m->fp_off = -1;
	mlen = rd16(p + 2);
	if (mlen % 4 || STUN_HDR + mlen != n)
		return -EBADMSG;
	m->type = rd16(p);
	memcpy(m->tid, p + 8, 12);
	while (off < n) {
		uint16_t type, len;

		if (n - off < 4 || ++nattr > STUN_ATTR_MAX || m->fp_off >= 0)
			return -EBADMSG; /* nothing may follow FINGERPRINT */
		type = rd16(p + off), len = rd16(p + off + 2);
		if (len > n - off - 4 || (size_t)((len + 3) & ~3) > n - off - 4)
			return -EBADMSG;
		if (m->mi_off >= 0 && type != A_FINGERPRINT)
			return -EBADMSG; /* only FINGERPRINT after MESSAGE-INTEGRITY */
		if (attr_take(p, (int)off, type, len, m))
			return -EBADMSG;
		off += 4 + (size_t)((len + 3) & ~3);
	}
	return 0;
}

bool stun_fingerprint_ok(const uint8_t *p, size_t n, const struct stun_msg *m)
{
	size_t upto;

	/* the header's length already ends after FINGERPRINT: parse checked
	 * that nothing follows it */
	if (!m || m->fp_off < STUN_HDR || (size_t)m->fp_off + 8 != n)
		return false;
	upto = (size_t)m->fp_off;
	return (crc32_of(p, upto) ^ FP_XOR) == rd32(p + upto + 4);
}

/* HMAC-SHA1 of p[0..upto) with the header length set to `len`. */
static void mi_compute(const uint8_t *p, size_t upto, uint16_t len, const char *key,
		       uint8_t out[20])
{
	uint8_t buf[STUN_MAX];
	unsigned int olen = 20;

	memcpy(buf, p, upto);
	wr16(buf + 2, len);
	HMAC(EVP_sha1(), key, (int)strlen(key), buf, upto, out, &olen);
}

bool stun_integrity_ok(const uint8_t *p, size_t n, const struct stun_msg *m, const char *key)
{
	uint8_t mac[20];
	size_t upto;

	if (!m || !key || m->mi_off < STUN_HDR || (size_t)m->mi_off + 24 > n)
		return false;
	upto = (size_t)m->mi_off;
	mi_compute(p, upto, (uint16_t)(upto + 24 - STUN_HDR), key, mac);
	return CRYPTO_memcmp(mac, p + upto + 4, 20) == 0;
}

/* ---- build ---- */
struct sbuf {
	uint8_t *p;
	size_t cap, len;
	bool over;
};

static uint8_t *attr_put(struct sbuf *b, uint16_t type, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	uint8_t *v;

	if (b->over || b->len + 4 + padded > b->cap) {
		b->over = true;
		return NULL;
	}
	wr16(b->p + b->len, type);
	wr16(b->p + b->len + 2, (uint16_t)len);
	v = b->p + b->len + 4;
	memset(v, 0, padded);
	b->len += 4 + padded;
	wr16(b->p + 2, (uint16_t)(b->len - STUN_HDR));
	return v;
}

static void hdr_put(struct sbuf *b, uint16_t type, const uint8_t tid[12])
{
	if (b->cap < STUN_HDR) {
		b->over = true;
		return;
	}
	wr16(b->p, type);
	wr16(b->p + 2, 0);
	wr32(b->p + 4, STUN_MAGIC);
	memcpy(b->p + 8, tid, 12);
	b->len = STUN_HDR;
}

/* MESSAGE-INTEGRITY (if key) and FINGERPRINT close every message we send. */
static int msg_finish(struct sbuf *b, const char *key)
{
	uint8_t *v;

	if (key) {
		size_t upto = b->len;

		if ((v = attr_put(b, A_MI, 20)))
			mi_compute(b->p, upto, (uint16_t)(upto + 24 - STUN_HDR), key, v);
	}
	if ((v = attr_put(b, A_FINGERPRINT, 4)))
		wr32(v, crc32_of(b->p, b->len - 8) ^ FP_XOR);
	return b->over ? -ENOSPC : (int)b->len;
}

static void xaddr_put(struct sbuf *b, const struct sockaddr *sa)
{
	uint8_t *v;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		if (!(v = attr_put(b, A_XOR_MAPPED, 8)))
			return;
		v[1] = 1;
		wr16(v + 2, ntohs(s4->sin_port) ^ (uint16_t)(STUN_MAGIC >> 16));
		wr32(v + 4, ntohl(s4->sin_addr.s_addr) ^ STUN_MAGIC);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (!(v = attr_put(b, A_XOR_MAPPED, 20)))
			return;
		v[1] = 2;
		wr16(v + 2, ntohs(s6->sin6_port) ^ (uint16_t)(STUN_MAGIC >> 16));
		for (int i = 0; i < 16; i++)
			v[4 + i] = s6->sin6_addr.s6_addr[i] ^ b->p[4 + i];
	}
}

int stun_build_success(uint8_t *buf, size_t cap, const uint8_t tid[12],
		       const struct sockaddr *mapped, const char *key)
{
	struct sbuf b = {.p = buf, .cap = cap};

	hdr_put(&b, STUN_BINDING_OK, tid);
	xaddr_put(&b, mapped);
	return msg_finish(&b, key);
}

int stun_build_error(uint8_t *buf, size_t cap, const uint8_t tid[12], int code, const char *reason)
{
	struct sbuf b = {.p = buf, .cap = cap};
	size_t rl = strlen(reason);
	uint8_t *v;

	hdr_put(&b, STUN_BINDING_ERR, tid);
	if ((v = attr_put(&b, A_ERROR, 4 + rl))) {
		v[2] = (uint8_t)(code / 100), v[3] = (uint8_t)(code % 100);
		memcpy(v + 4, reason, rl);
	}
	return msg_finish(&b, NULL); /* no integrity: the request had none we trust */
}

int stun_build_request(uint8_t *buf, size_t cap, const struct stun_req *r)
{
	struct sbuf b = {.p = buf, .cap = cap};
	size_t ul = strlen(r->user);
	uint8_t *v;

	hdr_put(&b, STUN_BINDING_REQ, r->tid);
	if ((v = attr_put(&b, A_USERNAME, ul)))
		memcpy(v, r->user, ul);
	if ((v = attr_put(&b, A_PRIORITY, 4)))
		wr32(v, r->prio);
	if ((v = attr_put(&b, r->controlling ? A_CONTROLLING : A_CONTROLLED, 8))) {
		wr32(v, (uint32_t)(r->tiebreak >> 32));
		wr32(v + 4, (uint32_t)r->tiebreak);
	}
	if (r->use_candidate)
		attr_put(&b, A_USE_CAND, 0);
	return msg_finish(&b, r->key);
}
