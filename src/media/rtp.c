/*
 * rtp.c — RTP (RFC 3550) and RFC 4733 telephone-event wire formats.
 *
 * DESIGN
 * - Every datagram is untrusted. rtp_parse() checks the version, then each
 *   length in the order the header declares them (CSRC list, extension,
 *   padding) against what is left, and returns -EBADMSG the moment one does
 *   not fit; the payload is a slice into the caller's buffer (no copy, no
 *   allocation). Packets whose second byte is 200..204 are RTCP that strayed
 *   onto the RTP port (no rtcp-mux here) and are refused the same way.
 * - rtp_build() writes a plain 12-byte header (no CSRC, extension or
 *   padding): what we send is always our own stream, never a forwarded
 *   header. The payload may already sit at buf + 12 (memmove).
 * - Both parsers are fuzzed: tests/fuzz/fuzz_media_rtp.c.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <string.h>

/* Offset of the payload after the CSRC list and extension, or -EBADMSG. */
static int rtp_payload_offset(const uint8_t *buf, size_t len)
{
	size_t off = MEDIA_HDR_LEN + 4u * (buf[0] & 0x0f);

	if (off > len)
		return -EBADMSG; /* CSRC count past the end */
	if (buf[0] & 0x10) {
		if (len - off < 4)
			return -EBADMSG;
		off += 4 + 4u * rd16(buf + off + 2);
		if (off > len)
			return -EBADMSG; /* extension length past the end */
	}
	return (int)off;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h)
{
	int off;
	size_t pad = 0;

	if (!buf || !h || len < MEDIA_HDR_LEN || len > 65535)
		return -EBADMSG;
	if ((buf[0] >> 6) != 2)
		return -EBADMSG;
	if (buf[1] >= 200 && buf[1] <= 204)
		return -EBADMSG; /* RTCP SR/RR/SDES/BYE/APP */
	off = rtp_payload_offset(buf, len);
	if (off < 0)
		return off;
	if (buf[0] & 0x20) {
		pad = buf[len - 1];
		if (pad == 0 || pad > len - (size_t)off)
			return -EBADMSG; /* padding bigger than the payload */
	}
	h->marker = buf[1] >> 7;
	h->pt = buf[1] & 0x7f;
	h->seq = rd16(buf + 2);
	h->ts = rd32(buf + 4);
	h->ssrc = rd32(buf + 8);
	h->payload = buf + off;
	h->payload_len = len - (size_t)off - pad;
	return 0;
}

int rtp_build(uint8_t *buf, size_t size, const struct rtp_hdr *h)
{
	size_t n;

	if (!buf || !h || (h->payload_len && !h->payload))
		return -EINVAL;
	n = MEDIA_HDR_LEN + h->payload_len;
	if (size < n || n > 65535)
		return -ENOSPC;
	if (h->payload_len && h->payload != buf + MEDIA_HDR_LEN)
		memmove(buf + MEDIA_HDR_LEN, h->payload, h->payload_len);
	buf[0] = 0x80;
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f));
	wr16(buf + 2, h->seq);
	wr32(buf + 4, h->ts);
	wr32(buf + 8, h->ssrc);
	return (int)n;
}

/* ---- RFC 4733 ---- */
static const char dtmf_chars[] = "0123456789*#ABCD";

char dtmf_event_char(unsigned ev)
{
	return ev < 16 ? dtmf_chars[ev] : 0;
}

int dtmf_char_event(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'd')
		c = (char)(c - 'a' + 'A');
	p = c ? strchr(dtmf_chars, c) : NULL;
	return p ? (int)(p - dtmf_chars) : -EINVAL;
}

/*
 * Payload: event(8) | E(1) R(1) volume(6) | duration(16). Events above 15
 * (flash, tones) are valid 4733 but not digits: -ENOTSUP.
 */
int rtp_dtmf_parse(const uint8_t *p, size_t len, char *digit, bool *end, uint16_t *duration)
{
	if (!p || len < 4)
		return -EBADMSG;
	if (p[0] > 15)
		return -ENOTSUP;
	if (digit)
		*digit = dtmf_event_char(p[0]);
	if (end)
		*end = (p[1] & 0x80) != 0;
	if (duration)
		*duration = rd16(p + 2);
	return 0;
}
