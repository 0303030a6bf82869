/*
 * fuzz_webrtc_sdp.c — libFuzzer target for the WebRTC SDP parser
 * (src/webrtc/sdp.c).
 *
 * Beyond "no crash": the result is 0, -EBADMSG or -ENOTSUP; on success
 * every field is in range (ICE credentials of legal length and
 * characters, payload types -1..127, ports 0..65535, some codec we have)
 * and the SDP we would write from those fields (webrtc_sdp_build) parses
 * back to the same credentials, fingerprint, codecs and candidate. Seeds:
 * tests/fuzz/corpus/webrtc_sdp/ (a browser's offer, our offer and answer).
 */
#include "webrtc/webrtc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool pt_ok(int pt)
{
	return pt >= -1 && pt <= 127;
}

static void fp_hex(const uint8_t *fp, char *out)
{
	char *p = out + sprintf(out, "sha-256 ");

	for (int i = 0; i < 32; i++)
		p += sprintf(p, i < 31 ? "%02X:" : "%02X", fp[i]);
}

static void check_rebuild(const struct webrtc_sdp *s)
{
	static char buf[8192];
	char fp[8 + 32 * 3 + 1];
	struct webrtc_sdp_out o = {.addr = s->cand_port ? s->cand_addr : "127.0.0.1",
				   .port = s->cand_port ? s->cand_port : 9,
				   .ufrag = s->ufrag,
				   .pwd = s->pwd,
				   .fingerprint = fp,
				   .setup = "passive",
				   .mid = s->mid[0] ? s->mid : "0",
				   .opus_pt = s->opus_pt >= 0 ? s->opus_pt : 111,
				   .tev_pt = -1};
	struct webrtc_sdp back;
	int n;

	if (strchr(s->mid, ' '))
		return; /* a mid with a space is legal in a=mid, not in BUNDLE */
	fp_hex(s->fp, fp);
	if (s->opus_pt >= 0)
		o.codecs[o.ncodecs++] = MEDIA_OPUS;
	if (s->pcmu_pt == 0)
		o.codecs[o.ncodecs++] = MEDIA_PCMU;
	if (s->pcma_pt == 8)
		o.codecs[o.ncodecs++] = MEDIA_PCMA;
	if (!o.ncodecs)
		return; /* G.711 under a dynamic pt only: we would write the static one */
	n = webrtc_sdp_build(buf, sizeof(buf), &o);
	check(n > 0);
	check(webrtc_sdp_parse(buf, (size_t)n, &back) == 0);
	check(!strcmp(back.ufrag, s->ufrag) && !strcmp(back.pwd, s->pwd));
	check(back.has_fp && !memcmp(back.fp, s->fp, 32));
	check((back.opus_pt >= 0) == (s->opus_pt >= 0));
	check(!s->cand_port ||
	      (back.cand_port == s->cand_port && !strcmp(back.cand_addr, s->cand_addr)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webrtc_sdp s;
	int err = webrtc_sdp_parse((const char *)data, size, &s);

	check(err == 0 || err == -EBADMSG || err == -ENOTSUP);
	if (err)
		return 0;
	check(strlen(s.ufrag) >= 4 && strlen(s.ufrag) <= 256);
	check(strlen(s.pwd) >= 22 && strlen(s.pwd) <= 256);
	check(s.has_fp && s.rtcp_mux);
	check(pt_ok(s.opus_pt) && pt_ok(s.pcmu_pt) && pt_ok(s.pcma_pt));
	check(pt_ok(s.tev8_pt) && pt_ok(s.tev48_pt));
	check(s.opus_pt >= 0 || s.pcmu_pt >= 0 || s.pcma_pt >= 0);
	check(s.port >= 0 && s.port <= 65535 && s.cand_port >= 0 && s.cand_port <= 65535);
	check(strlen(s.mid) <= 32 && strlen(s.cand_addr) < 64);
	check_rebuild(&s);
	return 0;
}
