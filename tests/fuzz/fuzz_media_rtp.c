/*
 * fuzz_media_rtp.c — libFuzzer target for the RTP and RFC 4733 parsers.
 *
 * Beyond "no crash", checks the parsers' contract: on success the payload
 * is a slice inside the input that ends no later than it, the payload type
 * fits 7 bits, and rebuilding the header with rtp_build then parsing again
 * gives the same fields and payload bytes; on failure the result is
 * -EBADMSG. The DTMF parser is run on the input and on any parsed payload:
 * 0 with a digit from "0123456789*#ABCD", -ENOTSUP or -EBADMSG, nothing
 * else. Seeds: tests/fuzz/corpus/media_rtp/.
 */
#include "media/media.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_dtmf(const uint8_t *p, size_t n)
{
	char digit = 0;
	bool end;
	uint16_t dur;
	int err = rtp_dtmf_parse(p, n, &digit, &end, &dur);

	check(err == 0 || err == -ENOTSUP || err == -EBADMSG);
	check(err != -EBADMSG || n < 4);
	if (!err)
		check(digit && strchr("0123456789*#ABCD", digit));
}

static void check_rebuild(const struct rtp_hdr *h)
{
	static uint8_t buf[65536 + 16];
	struct rtp_hdr back;
	int n = rtp_build(buf, sizeof(buf), h);

	check(n == (int)(12 + h->payload_len));
	check(rtp_parse(buf, (size_t)n, &back) == 0 || (buf[1] >= 200 && buf[1] <= 204));
	if (buf[1] >= 200 && buf[1] <= 204)
		return; /* marker + pt 72..76 looks like RTCP: refused on purpose */
	check(back.pt == h->pt && back.marker == h->marker && back.seq == h->seq);
	check(back.ts == h->ts && back.ssrc == h->ssrc);
	check(back.payload_len == h->payload_len);
	check(!memcmp(back.payload, h->payload, h->payload_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr h;
	int err = rtp_parse(data, size, &h);

	check_dtmf(data, size);
	if (err) {
		check(err == -EBADMSG);
		return 0;
	}
	check(h.pt < 128);
	check(h.payload >= data + 12 && h.payload <= data + size);
	check(h.payload + h.payload_len <= data + size);
	check_dtmf(h.payload, h.payload_len);
	check_rebuild(&h);
	return 0;
}
