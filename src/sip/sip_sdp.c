/*
 * sip_sdp.c — SDP (RFC 4566/3264) for one audio stream: parse an offer or
 * answer into struct sdp_audio, build ours, pick a codec.
 *
 * DESIGN
 * - Parsing goes through sofia's own SDP parser (<sofia-sip/sdp.h>) on a
 *   private su_home that lives for one call; the result is copied into the
 *   plain struct sdp_audio so no sofia type leaves this file. A body sofia
 *   refuses, one without an audio m= line, or an audio line without a
 *   usable c= address is -EBADMSG. Control bytes and malformed m= lines
 *   are refused before sofia sees the body: a separator byte in the format
 *   list sends sofia's parser into a 2 GB allocation (found by fuzzing).
 * - The first m=audio wins. c= is taken at media level, else session level.
 *   Direction comes from sofia's m_mode, which already folds a session-level
 *   a=sendonly/recvonly/inactive into each media; we re-check the session
 *   attributes for older parsers that do not.
 * - fmts holds the audio formats in offer order, telephone-event excluded
 *   (it is reported in telephone_event_pt); extra formats beyond
 *   SDP_MAX_FMTS are dropped, not an error.
 * - sdp_build writes a fixed, byte-exact layout (tests pin it down): only
 *   0 PCMU and 8 PCMA plus an optional telephone-event, ptime 20 unless set.
 */
#define LOG_MODULE "sip"
#include "sip/sip_int.h"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP_MAX_LEN 65536

/* ---- parse ---- */
static enum sdp_dir dir_from_mode(unsigned mode)
{
	switch (mode) {
	case sdp_inactive: return SDP_INACTIVE;
	case sdp_sendonly: return SDP_SENDONLY;
	case sdp_recvonly: return SDP_RECVONLY;
	default: return SDP_SENDRECV;
	}
}

/* Has the media (or, failing that, the session) an explicit direction? */
static bool attr_is_mode(const sdp_attribute_t *a)
{
	for (; a; a = a->a_next) {
		if (!strcasecmp(a->a_name, "sendonly") || !strcasecmp(a->a_name, "recvonly") ||
		    !strcasecmp(a->a_name, "inactive") || !strcasecmp(a->a_name, "sendrecv"))
			return true;
	}
	return false;
}

static enum sdp_dir media_dir(const sdp_session_t *s, const sdp_media_t *m)
{
	if (m->m_mode != sdp_sendrecv || attr_is_mode(m->m_attributes))
		return dir_from_mode(m->m_mode);
	return dir_from_mode(sdp_attribute_mode(s->sdp_attributes, sdp_sendrecv));
}

static int ptime_of(const sdp_attribute_t *a)
{
	const sdp_attribute_t *p = sdp_attribute_find(a, "ptime");
	long v;

	if (!p || !p->a_value)
		return 0;
	v = strtol(p->a_value, NULL, 10);
	return v > 0 && v <= 1000 ? (int)v : 0;
}

static bool is_telephone_event(const sdp_rtpmap_t *rm)
{
	return rm->rm_encoding && !strcasecmp(rm->rm_encoding, "telephone-event");
}

/* Formats in m= order. sofia keeps m_format (the m= tokens) and m_rtpmaps. */
static int formats_copy(const sdp_media_t *m, struct sdp_audio *out)
{
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (is_telephone_event(rm)) {
			if (out->telephone_event_pt < 0 && (!rm->rm_rate || rm->rm_rate == 8000))
				out->telephone_event_pt = rm->rm_pt;
			continue;
		}
		if (out->n_fmts < SDP_MAX_FMTS)
			out->fmts[out->n_fmts++] = rm->rm_pt;
	}
	/* A stream with formats sofia could not map to RTP (non-RTP proto) */
	return out->n_fmts || out->telephone_event_pt >= 0 || m->m_port == 0 ? 0 : -EBADMSG;
}

static int addr_copy(const sdp_session_t *s, const sdp_media_t *m, struct sdp_audio *out)
{
	const sdp_connection_t *c = m->m_connections ? m->m_connections : s->sdp_connection;

	if (!c || !c->c_address || c->c_nettype != sdp_net_in)
		return m->m_port == 0 ? 0 : -EBADMSG;
	if (c->c_addrtype != sdp_addr_ip4 && c->c_addrtype != sdp_addr_ip6)
		return -EBADMSG;
	if (strlen(c->c_address) >= sizeof(out->addr) || !c->c_address[0])
		return -EBADMSG;
	str_copy(out->addr, c->c_address, sizeof(out->addr));
	return 0;
}

static int audio_copy(const sdp_session_t *s, struct sdp_audio *out)
{
	const sdp_media_t *m;
	int err;

	for (m = s->sdp_media; m; m = m->m_next) {
		if (m->m_type == sdp_media_audio)
			break;
	}
	if (!m || m->m_port > 65535)
		return -EBADMSG;
	out->port = (int)m->m_port;
	out->telephone_event_pt = -1;
	err = addr_copy(s, m, out);
	if (!err)
		err = formats_copy(m, out);
	if (err)
		return err;
	out->dir = media_dir(s, m);
	out->ptime = ptime_of(m->m_attributes);
	if (!out->ptime)
		out->ptime = ptime_of(s->sdp_attributes);
	return 0;
}

/* An m= line exactly as RFC 4566 writes it:
 *   m=<media> SP <port>["/"<count>] SP <proto> 1*(SP <fmt>)
 * media and fmt tokens, port and count 1-5 digits (count not 0), proto
 * tokens joined by single '/'. sofia's non-strict parser loops allocating
 * (2 GB, found by fuzz_sip_sdp) on several near misses of this shape
 * (a separator in the format list, "5/0//", "R////"), so we check first. */
static bool is_tok(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`{|}~", c));
}

static const char *digits(const char *p, const char *end, bool nonzero)
{
	const char *f = p;

	while (p < end && p - f < 5 && *p >= '0' && *p <= '9')
		p++;
	if (p == f || (p < end && *p >= '0' && *p <= '9'))
		return NULL;
	if (nonzero) {
		const char *z = f;
		while (z < p && *z == '0')
			z++;
		if (z == p)
			return NULL;
	}
	return p;
}

static const char *tokens(const char *p, const char *end, bool slashes)
{
	for (;;) {
		const char *f = p;
		while (p < end && is_tok(*p))
			p++;
		if (p == f)
			return NULL;
		if (!slashes || p >= end || *p != '/')
			return p;
		p++;
	}
}

static bool m_line_ok(const char *p, const char *end)
{
	int fmts = 0;

	p = tokens(p + 2, end, false); /* media */
	if (!p || p >= end || *p++ != ' ' || !(p = digits(p, end, false)))
		return false;
	if (p < end && *p == '/' && !(p = digits(p + 1, end, true)))
		return false;
	if (p >= end || *p++ != ' ' || !(p = tokens(p, end, true)))
		return false;
	while (p < end && *p == ' ') {
		if (!(p = tokens(p + 1, end, false)))
			return false;
		fmts++;
	}
	return fmts > 0 && (p == end || *p == '\r' || *p == '\n');
}

/* Only blank lines from p to the end. */
static bool only_eol(const char *p, const char *end)
{
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	return p == end;
}

/* Bytes sofia's parser can be trusted with: every line `x=` with x a
 * lowercase letter (RFC 4566), CR only before LF, no control bytes but TAB;
 * non-ASCII only in the free-text s= and i= lines; m= lines well-formed.
 * (A bare CR followed by "\tm=" made sofia loop allocating too.) */
static bool text_ok(const char *buf, size_t len)
{
	const char *end = buf + len;
	bool free_text = false;

	for (const char *p = buf; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (p == buf || p[-1] == '\n') {
			if (only_eol(p, end))
				return true;
			if (c < 'a' || c > 'z' || p + 1 >= end || p[1] != '=')
				return false;
			free_text = c == 's' || c == 'i';
			if (c == 'm' && !m_line_ok(p, end))
				return false;
		}
		if (c == '\r' && (p + 1 >= end || p[1] != '\n'))
			return false;
		if (c == '\r' || c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
			continue;
		if (c < 0x80 || !free_text)
			return false;
	}
	return true;
}

int sdp_audio_parse(const char *buf, size_t len, struct sdp_audio *out)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct sdp_audio a = {0};
	sdp_parser_t *p;
	sdp_session_t *s;
	int err = -EBADMSG;

	if (!buf || !out || len == 0 || len > SDP_MAX_LEN || !text_ok(buf, len))
		return -EBADMSG;
	p = sdp_parse(home, buf, (issize_t)len, 0);
	s = p && !sdp_parsing_error(p) ? sdp_session(p) : NULL;
	if (s)
		err = audio_copy(s, &a);
	if (p)
		sdp_parser_free(p);
	su_home_deinit(home);
	if (!err)
		*out = a;
	return err;
}

int sdp_pick_codec(const struct sdp_audio *offer)
{
	for (int i = 0; i < offer->n_fmts && i < SDP_MAX_FMTS; i++) {
		if (offer->fmts[i] == 0 || offer->fmts[i] == 8)
			return offer->fmts[i];
	}
	return -1;
}

/* ---- build ---- */
static const char *dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	default: return "sendrecv";
	}
}

/* Only characters of an IPv4/IPv6 literal or a host name: no injection. */
static bool addr_ok(const char *a)
{
	return a[0] && strspn(a, "0123456789abcdefABCDEF.:-[]%"
				 "ghijklmnopqrstuvwxyz"
				 "GHIJKLMNOPQRSTUVWXYZ_") == strlen(a);
}

static bool build_input_ok(const struct sdp_audio *l)
{
	if (!addr_ok(l->addr) || l->port < 0 || l->port > 65535 || l->n_fmts < 1 ||
	    l->n_fmts > SDP_MAX_FMTS || l->telephone_event_pt > 127)
		return false;
	for (int i = 0; i < l->n_fmts; i++) {
		if (l->fmts[i] != 0 && l->fmts[i] != 8)
			return false;
	}
	return l->telephone_event_pt < 0 || l->telephone_event_pt >= 96;
}

/* Appends with snprintf semantics; *off may pass size (then -ENOSPC). */
static void put(char *buf, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*off < size ? buf + *off : NULL, *off < size ? size - *off : 0, fmt, ap);
	va_end(ap);
	*off += n > 0 ? (size_t)n : 0;
}

int sdp_build(char *buf, size_t size, const struct sdp_audio *l, uint64_t session_id,
	      uint64_t version)
{
	const char *ipv = strchr(l->addr, ':') ? "IP6" : "IP4";
	int te = l->telephone_event_pt;
	size_t off = 0;

	if (!build_input_ok(l))
		return -EINVAL;
	put(buf, size, &off, "v=0\r\no=switchboard %llu %llu IN %s %s\r\ns=-\r\n",
	    (unsigned long long)session_id, (unsigned long long)version, ipv, l->addr);
	put(buf, size, &off, "c=IN %s %s\r\nt=0 0\r\nm=audio %d RTP/AVP", ipv, l->addr, l->port);
	for (int i = 0; i < l->n_fmts; i++)
		put(buf, size, &off, " %d", l->fmts[i]);
	if (te >= 0)
		put(buf, size, &off, " %d", te);
	put(buf, size, &off, "\r\n");
	for (int i = 0; i < l->n_fmts; i++)
		put(buf, size, &off, "a=rtpmap:%d %s/8000\r\n", l->fmts[i],
		    l->fmts[i] == 0 ? "PCMU" : "PCMA");
	if (te >= 0)
		put(buf, size, &off, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", te,
		    te);
	put(buf, size, &off, "a=ptime:%d\r\na=%s\r\n", l->ptime > 0 ? l->ptime : 20,
	    dir_name(l->dir));
	if (off >= size)
		return -ENOSPC;
	return (int)off;
}
