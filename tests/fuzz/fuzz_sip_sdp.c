/*
 * fuzz_sip_sdp.c — libFuzzer target for sdp_audio_parse (sip/sip_sdp.c,
 * sofia's SDP parser underneath).
 *
 * Beyond "no crash": a parse either fails with -EBADMSG leaving the output
 * untouched, or yields in-range fields (terminated address, port, payload
 * types, direction, ptime). A parsed offer with a codec we support must
 * also give an answer sdp_build accepts or refuses with -EINVAL (an address
 * we would not write), and that answer must parse back to the same stream.
 * Seeds: tests/fuzz/corpus/sip_sdp/.
 */
#include "sip/sip.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_fields(const struct sdp_audio *a)
{
	check(memchr(a->addr, '\0', sizeof(a->addr)) != NULL);
	check(a->port >= 0 && a->port <= 65535);
	check(a->port == 0 || a->addr[0]);
	check(a->n_fmts >= 0 && a->n_fmts <= SDP_MAX_FMTS);
	for (int i = 0; i < a->n_fmts; i++)
		check(a->fmts[i] >= 0 && a->fmts[i] <= 127);
	check(a->telephone_event_pt >= -1 && a->telephone_event_pt <= 127);
	check(a->dir >= SDP_SENDRECV && a->dir <= SDP_INACTIVE);
	check(a->ptime >= 0 && a->ptime <= 1000);
}

static void check_answer(const struct sdp_audio *offer)
{
	struct sdp_audio ans = *offer, back;
	char buf[1024];
	int codec = sdp_pick_codec(offer), n;

	if (codec < 0 || offer->port == 0)
		return;
	ans.fmts[0] = codec;
	ans.n_fmts = 1;
	if (ans.telephone_event_pt >= 0 && ans.telephone_event_pt < 96)
		ans.telephone_event_pt = -1;
	n = sdp_build(buf, sizeof(buf), &ans, 1, 1);
	check(n > 0 || n == -EINVAL);
	if (n <= 0)
		return;
	check(sdp_audio_parse(buf, (size_t)n, &back) == 0);
	check(back.port == ans.port && back.fmts[0] == codec && back.dir == ans.dir);
	check(!strcmp(back.addr, ans.addr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_audio a, untouched;
	int rc;

	memset(&a, 0x5a, sizeof(a));
	untouched = a;
	rc = sdp_audio_parse((const char *)data, size, &a);
	if (rc) {
		check(rc == -EBADMSG);
		check(!memcmp(&a, &untouched, sizeof(a)));
		return 0;
	}
	check_fields(&a);
	check_answer(&a);
	return 0;
}
