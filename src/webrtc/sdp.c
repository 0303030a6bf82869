/*
 * sdp.c — SDP for WebRTC (RFC 8829's subset that an audio-only browser
 * leg uses): ICE credentials, the DTLS fingerprint and setup role,
 * rtcp-mux, Opus, G.711 and telephone-event, host candidates.
 *
 * DESIGN
 * - Parsed here by hand, line by line, rather than with sofia's parser as
 *   src/sip/sip_sdp.c does: that parser lives behind the SIP module (its
 *   su_home and sdp_* types would cross into media's dependents), knows
 *   nothing of a=fingerprint/ice-ufrag/candidate beyond opaque attribute
 *   strings, and what a WebRTC leg needs is one m-line's dozen attributes.
 * - Bounded: the whole SDP at most WEBRTC_SDP_MAX bytes, no NUL, each
 *   line at most 2 KiB, every field copied with its length checked into
 *   a fixed buffer; numbers are parsed with their range. Malformed input
 *   is -EBADMSG; well-formed SDP we cannot use is -ENOTSUP (no audio, a
 *   second m-line, no ICE credentials or sha-256 fingerprint, no
 *   rtcp-mux, no codec we have). Fuzzed (fuzz_webrtc_sdp).
 * - One m-line only: the softphone's offers are ours (issue 15 point 2),
 *   audio only; BUNDLE of several m-lines is not needed and refused.
 * - Session-level attributes apply unless the m-line repeats them.
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 2048

struct pstate {
	struct webrtc_sdp *s;
	int nm;	    /* m-lines seen */
	bool audio; /* the m-line is audio */
	char c_addr[64];
};

/* A field of at most size-1 bytes, copied; false when too long. */
static bool field(char *dst, size_t size, const char *p, size_t n)
{
	if (n >= size)
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

static bool ice_chars(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '+' && p[i] != '/')
			return false;
	return true;
}

/* A decimal number in [0, max] at p (n bytes, digits only). */
static int num(const char *p, size_t n, long max, long *out)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -EBADMSG;
		v = v * 10 + (p[i] - '0');
	}
	if (v > max)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* The next space-separated token of [*p, end). */
static bool token(const char **p, const char *end, const char **t, size_t *tn)
{
	while (*p < end && **p == ' ')
		(*p)++;
	*t = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*tn = (size_t)(*p - *t);
	return *tn > 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "sha-256 AB:CD:..." (other hashes are ignored: not has_fp) */
static int fp_parse(struct webrtc_sdp *s, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *t;
	size_t tn;

	if (!token(&p, end, &t, &tn))
		return -EBADMSG;
	if (tn != 7 || strncasecmp(t, "sha-256", 7))
		return 0;
	if (!token(&p, end, &t, &tn) || tn != 32 * 3 - 1)
		return -EBADMSG;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(t[i * 3]), lo = hexval(t[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 31 && t[i * 3 + 2] != ':'))
			return -EBADMSG;
		s->fp[i] = (uint8_t)(hi << 4 | lo);
	}
	s->has_fp = true;
	return 0;
}

/* "<pt> <name>/<rate>[/<channels>]" */
static int rtpmap_parse(struct webrtc_sdp *s, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *t, *name;
	size_t tn, nn;
	long pt;

	if (!token(&p, end, &t, &tn) || num(t, tn, 127, &pt) || !token(&p, end, &name, &nn))
		return -EBADMSG;
	if (nn == 12 && !strncasecmp(name, "opus/48000/2", 12))
		s->opus_pt = (int)pt;
	else if (nn == 9 && !strncasecmp(name, "PCMU/8000", 9))
		s->pcmu_pt = (int)pt;
	else if (nn == 9 && !strncasecmp(name, "PCMA/8000", 9))
		s->pcma_pt = (int)pt;
	else if (nn == 20 && !strncasecmp(name, "telephone-event/8000", 20))
		s->tev8_pt = (int)pt;
	else if (nn == 21 && !strncasecmp(name, "telephone-event/48000", 21))
		s->tev48_pt = (int)pt;
	return 0;
}

static bool addr_literal(const char *a)
{
	unsigned char buf[16];

	return uv_inet_pton(AF_INET, a, buf) == 0 || uv_inet_pton(AF_INET6, a, buf) == 0;
}

/* "<foundation> <component> <transport> <priority> <addr> <port> typ <type> ..."
 * The first UDP candidate of component 1 with a literal address is kept
 * (mDNS .local names cannot be resolved here: skipped). */
static int cand_parse(struct webrtc_sdp *s, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *t[8];
	size_t tn[8];
	long comp, prio, port;
	char addr[64];

	for (int i = 0; i < 8; i++)
		if (!token(&p, end, &t[i], &tn[i]))
			return -EBADMSG;
	if (num(t[1], tn[1], 256, &comp) || num(t[3], tn[3], 4294967295L, &prio) ||
	    num(t[5], tn[5], 65535, &port) || tn[6] != 3 || strncmp(t[6], "typ", 3))
		return -EBADMSG;
	if (s->cand_port || comp != 1 || tn[2] != 3 || strncasecmp(t[2], "udp", 3) || port == 0)
		return 0;
	if (!field(addr, sizeof(addr), t[4], tn[4]) || !addr_literal(addr))
		return 0;
	str_copy(s->cand_addr, addr, sizeof(s->cand_addr));
	s->cand_port = (int)port;
	return 0;
}

static int attr_parse(struct pstate *ps, const char *v, size_t n)
{
	struct webrtc_sdp *s = ps->s;
	const char *colon = memchr(v, ':', n);
	size_t kn = colon ? (size_t)(colon - v) : n;
	const char *val = colon ? colon + 1 : v + n;
	size_t vn = (size_t)(v + n - val);

	if (ps->nm > 0 && !ps->audio)
		return 0;
#define KEY(k) (kn == sizeof(k) - 1 && !memcmp(v, k, kn))
	if (KEY("ice-ufrag"))
		return vn >= 4 && ice_chars(val, vn) && field(s->ufrag, sizeof(s->ufrag), val, vn)
			       ? 0
			       : -EBADMSG;
	if (KEY("ice-pwd"))
		return vn >= 22 && ice_chars(val, vn) && field(s->pwd, sizeof(s->pwd), val, vn)
			       ? 0
			       : -EBADMSG;
	if (KEY("fingerprint"))
		return fp_parse(s, val, vn);
	if (KEY("setup")) {
		s->setup = vn == 7 && !memcmp(val, "actpass", 7)   ? WEBRTC_SETUP_ACTPASS
			   : vn == 6 && !memcmp(val, "active", 6)  ? WEBRTC_SETUP_ACTIVE
			   : vn == 7 && !memcmp(val, "passive", 7) ? WEBRTC_SETUP_PASSIVE
								   : WEBRTC_SETUP_NONE;
		return s->setup == WEBRTC_SETUP_NONE ? -EBADMSG : 0;
	}
	if (KEY("rtcp-mux"))
		s->rtcp_mux = true;
	else if (KEY("ice-lite"))
		s->ice_lite = true;
	else if (KEY("mid"))
		return vn > 0 && field(s->mid, sizeof(s->mid), val, vn) ? 0 : -EBADMSG;
	else if (KEY("rtpmap") && ps->nm > 0)
		return rtpmap_parse(s, val, vn);
	else if (KEY("candidate") && ps->nm > 0)
		return cand_parse(s, val, vn);
#undef KEY
	return 0;
}

/* "audio <port> <proto> <fmt> ..." */
static int m_parse(struct pstate *ps, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *t;
	size_t tn;
	long port;

	if (++ps->nm > 1)
		return -ENOTSUP;
	if (!token(&p, end, &t, &tn))
		return -EBADMSG;
	ps->audio = tn == 5 && !memcmp(t, "audio", 5);
	if (!ps->audio)
		return -ENOTSUP;
	if (!token(&p, end, &t, &tn) || num(t, tn, 65535, &port) || !token(&p, end, &t, &tn))
		return -EBADMSG;
	if (!memmem(t, tn, "SAVP", 4))
		return -ENOTSUP; /* plain RTP/AVP: not a WebRTC leg */
	ps->s->port = (int)port;
	return 0;
}

/* "IN IP4 <addr>" */
static int c_parse(struct pstate *ps, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *t;
	size_t tn;

	for (int i = 0; i < 3; i++)
		if (!token(&p, end, &t, &tn))
			return -EBADMSG;
	if (!field(ps->c_addr, sizeof(ps->c_addr), t, tn))
		return -EBADMSG;
	return 0;
}

static int line_parse(struct pstate *ps, const char *l, size_t n)
{
	if (n == 0)
		return 0; /* a blank line (a trailing CRLF) */
	if (n < 2 || l[1] != '=' || !islower((unsigned char)l[0]) || n > LINE_MAX_LEN)
		return -EBADMSG;
	switch (l[0]) {
	case 'm': return m_parse(ps, l + 2, n - 2);
	case 'a': return attr_parse(ps, l + 2, n - 2);
	case 'c': return c_parse(ps, l + 2, n - 2);
	}
	return 0;
}

static int usable(struct pstate *ps)
{
	struct webrtc_sdp *s = ps->s;

	if (ps->nm == 0)
		return -ENOTSUP;
	if (!s->ufrag[0] || !s->pwd[0] || !s->has_fp || !s->rtcp_mux)
		return -ENOTSUP;
	if (s->opus_pt < 0 && s->pcmu_pt < 0 && s->pcma_pt < 0)
		return -ENOTSUP;
	if (!s->cand_port && s->port > 0 && addr_literal(ps->c_addr) &&
	    strcmp(ps->c_addr, "0.0.0.0")) {
		str_copy(s->cand_addr, ps->c_addr, sizeof(s->cand_addr));
		s->cand_port = s->port;
	}
	return 0;
}

int webrtc_sdp_parse(const char *sdp, size_t len, struct webrtc_sdp *out)
{
	struct pstate ps = {.s = out};
	const char *p = sdp, *end = sdp + len;
	int err;

	if (!sdp || !out || len > WEBRTC_SDP_MAX || memchr(sdp, '\0', len))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->opus_pt = out->pcmu_pt = out->pcma_pt = out->tev8_pt = out->tev48_pt = -1;
	if (len < 2 || memcmp(sdp, "v=", 2))
		return -EBADMSG;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);

		if (n && p[n - 1] == '\r')
			n--;
		err = line_parse(&ps, p, n);
		if (err)
			return err;
		p = nl ? nl + 1 : end;
	}
	return usable(&ps);
}

/* ---- ours ---- */
struct obuf {
	char *p;
	size_t size, len;
	bool over;
};

static void put(struct obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->size - b->len)
		b->over = true;
	else
		b->len += (size_t)n;
}

static int codec_pt(const struct webrtc_sdp_out *o, enum media_codec c)
{
	return c == MEDIA_OPUS ? o->opus_pt : (int)c;
}

static void put_codecs(struct obuf *b, const struct webrtc_sdp_out *o)
{
	for (size_t i = 0; i < o->ncodecs; i++) {
		enum media_codec c = o->codecs[i];

		/* maxplaybackrate: the mixer is 8 kHz, so a browser sends SILK
		 * narrowband (at maxaveragebitrate), which costs our 8 kHz decoder
		 * a third of the 48 kHz hybrid it sends otherwise (docs/WEBRTC.md) */
		if (c == MEDIA_OPUS)
			put(b,
			    "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1;"
			    "maxplaybackrate=8000;sprop-maxcapturerate=8000;maxaveragebitrate="
			    "20000\r\n",
			    o->opus_pt, o->opus_pt);
		else
			put(b, "a=rtpmap:%d %s/8000\r\n", (int)c, media_codec_name(c));
	}
	if (o->tev_pt >= 0)
		put(b, "a=rtpmap:%d telephone-event/%d\r\n", o->tev_pt, o->tev48 ? 48000 : 8000);
}

int webrtc_sdp_build(char *buf, size_t size, const struct webrtc_sdp_out *o)
{
	struct obuf b = {.p = buf, .size = size};
	const char *ipv = strchr(o->addr, ':') ? "IP6" : "IP4";

	put(&b, "v=0\r\no=- %llu 2 IN %s %s\r\ns=-\r\nt=0 0\r\n", (unsigned long long)o->sess_id,
	    ipv, o->addr);
	if (o->ice_lite)
		put(&b, "a=ice-lite\r\n");
	put(&b, "a=group:BUNDLE %s\r\n", o->mid);
	put(&b, "m=audio %d UDP/TLS/RTP/SAVPF", o->port);
	for (size_t i = 0; i < o->ncodecs; i++)
		put(&b, " %d", codec_pt(o, o->codecs[i]));
	if (o->tev_pt >= 0)
		put(&b, " %d", o->tev_pt);
	put(&b, "\r\nc=IN %s %s\r\na=mid:%s\r\na=sendrecv\r\na=rtcp-mux\r\n", ipv, o->addr, o->mid);
	put(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\n", o->ufrag,
	    o->pwd, o->fingerprint, o->setup);
	put_codecs(&b, o);
	put(&b, "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n", o->addr,
	    o->port);
	return b.over ? -ENOSPC : (int)b.len;
}
