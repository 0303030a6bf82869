/*
 * test_sip_sdp.c — sip/sip_sdp.c: byte-exact sdp_build, sdp_audio_parse on real
 * offers (sipp's uac, baresip, linphone), c=/direction at session or media
 * level, IPv6, and a corpus of malformed bodies that must give -EBADMSG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/sip.h"

#include <stdio.h>
#include <string.h>

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), 0);
	return 0;
}

static int parse(const char *s, struct sdp_audio *a)
{
	return sdp_audio_parse(s, strlen(s), a);
}

/* ---- build ---- */
static void build_writes_the_exact_offer(void **state)
{
	struct sdp_audio a = {.addr = "10.0.0.5",
			      .port = 20002,
			      .fmts = {0, 8},
			      .n_fmts = 2,
			      .telephone_event_pt = 101,
			      .dir = SDP_SENDRECV};
	const char *want = "v=0\r\n"
			   "o=switchboard 42 7 IN IP4 10.0.0.5\r\n"
			   "s=-\r\n"
			   "c=IN IP4 10.0.0.5\r\n"
			   "t=0 0\r\n"
			   "m=audio 20002 RTP/AVP 0 8 101\r\n"
			   "a=rtpmap:0 PCMU/8000\r\n"
			   "a=rtpmap:8 PCMA/8000\r\n"
			   "a=rtpmap:101 telephone-event/8000\r\n"
			   "a=fmtp:101 0-16\r\n"
			   "a=ptime:20\r\n"
			   "a=sendrecv\r\n";
	char buf[1024];
	int n = sdp_build(buf, sizeof(buf), &a, 42, 7);

	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void build_answer_one_codec_sendonly_ipv6_no_dtmf(void **state)
{
	struct sdp_audio a = {.addr = "::1",
			      .port = 4000,
			      .fmts = {8},
			      .n_fmts = 1,
			      .telephone_event_pt = -1,
			      .dir = SDP_SENDONLY,
			      .ptime = 30};
	const char *want = "v=0\r\n"
			   "o=switchboard 1 2 IN IP6 ::1\r\n"
			   "s=-\r\n"
			   "c=IN IP6 ::1\r\n"
			   "t=0 0\r\n"
			   "m=audio 4000 RTP/AVP 8\r\n"
			   "a=rtpmap:8 PCMA/8000\r\n"
			   "a=ptime:30\r\n"
			   "a=sendonly\r\n";
	char buf[512];

	assert_int_equal(sdp_build(buf, sizeof(buf), &a, 1, 2), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void build_reports_enospc_and_einval(void **state)
{
	struct sdp_audio a = {.addr = "10.0.0.5",
			      .port = 20002,
			      .fmts = {0},
			      .n_fmts = 1,
			      .telephone_event_pt = 101};
	char buf[400];
	int full = sdp_build(buf, sizeof(buf), &a, 1, 1);

	assert_true(full > 0);
	assert_int_equal(sdp_build(buf, (size_t)full, &a, 1, 1), -ENOSPC); /* no room for NUL */
	assert_int_equal(sdp_build(buf, (size_t)full + 1, &a, 1, 1), full);
	a.fmts[0] = 18;
	assert_int_equal(sdp_build(buf, sizeof(buf), &a, 1, 1), -EINVAL);
	a.fmts[0] = 0;
	str_copy(a.addr, "1.2.3.4\r\na=evil", sizeof(a.addr));
	assert_int_equal(sdp_build(buf, sizeof(buf), &a, 1, 1), -EINVAL);
}

static void build_then_parse_round_trips(void **state)
{
	struct sdp_audio a = {.addr = "192.0.2.9",
			      .port = 30000,
			      .fmts = {8, 0},
			      .n_fmts = 2,
			      .telephone_event_pt = 96,
			      .dir = SDP_INACTIVE,
			      .ptime = 20};
	struct sdp_audio b;
	char buf[1024];

	assert_true(sdp_build(buf, sizeof(buf), &a, 9, 9) > 0);
	assert_int_equal(parse(buf, &b), 0);
	assert_string_equal(b.addr, "192.0.2.9");
	assert_int_equal(b.port, 30000);
	assert_int_equal(b.n_fmts, 2);
	assert_int_equal(b.fmts[0], 8);
	assert_int_equal(b.fmts[1], 0);
	assert_int_equal(b.telephone_event_pt, 96);
	assert_int_equal(b.dir, SDP_INACTIVE);
	assert_int_equal(b.ptime, 20);
}

/* ---- parse: real offers ---- */
static void parse_sipp_uac_offer(void **state)
{
	const char *s = "v=0\r\n"
			"o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
			"s=-\r\n"
			"c=IN IP4 127.0.0.1\r\n"
			"t=0 0\r\n"
			"m=audio 6000 RTP/AVP 0\r\n"
			"a=rtpmap:0 PCMU/8000\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_string_equal(a.addr, "127.0.0.1");
	assert_int_equal(a.port, 6000);
	assert_int_equal(a.n_fmts, 1);
	assert_int_equal(a.fmts[0], 0);
	assert_int_equal(a.telephone_event_pt, -1);
	assert_int_equal(a.dir, SDP_SENDRECV);
	assert_int_equal(a.ptime, 0);
	assert_int_equal(sdp_pick_codec(&a), 0);
}

static void parse_baresip_offer(void **state)
{
	const char *s = "v=0\r\n"
			"o=- 1856390866 1315428963 IN IP4 127.0.0.1\r\n"
			"s=-\r\n"
			"c=IN IP4 127.0.0.1\r\n"
			"t=0 0\r\n"
			"m=audio 10342 RTP/AVP 0 8 101\r\n"
			"b=AS:64\r\n"
			"a=rtpmap:0 PCMU/8000\r\n"
			"a=rtpmap:8 PCMA/8000\r\n"
			"a=rtpmap:101 telephone-event/8000\r\n"
			"a=fmtp:101 0-15\r\n"
			"a=sendrecv\r\n"
			"a=label:1\r\n"
			"a=ssrc:1430424453 cname:a3f1e8b2-1b5c\r\n"
			"a=rtcp-mux\r\n"
			"a=ptime:20\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_int_equal(a.port, 10342);
	assert_int_equal(a.n_fmts, 2);
	assert_int_equal(a.fmts[0], 0);
	assert_int_equal(a.fmts[1], 8);
	assert_int_equal(a.telephone_event_pt, 101);
	assert_int_equal(a.ptime, 20);
	assert_int_equal(a.dir, SDP_SENDRECV);
}

static void parse_linphone_offer_many_codecs(void **state)
{
	const char *s =
		"v=0\r\n"
		"o=agent2 1234 5678 IN IP4 192.168.1.20\r\n"
		"s=Talk\r\n"
		"c=IN IP4 192.168.1.20\r\n"
		"t=0 0\r\n"
		"a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
		"m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n"
		"a=rtpmap:96 opus/48000/2\r\n"
		"a=fmtp:96 useinbandfec=1\r\n"
		"a=rtpmap:97 speex/16000\r\n"
		"a=fmtp:97 vbr=on\r\n"
		"a=rtpmap:98 speex/8000\r\n"
		"a=fmtp:98 vbr=on\r\n"
		"a=fmtp:18 annexb=yes\r\n"
		"a=rtpmap:101 telephone-event/48000\r\n"
		"a=rtpmap:99 telephone-event/16000\r\n"
		"a=rtpmap:100 telephone-event/8000\r\n"
		"a=rtcp:7079\r\n"
		"a=rtcp-fb:* trr-int 1000\r\n"
		"a=rtcp-fb:* ccm tmmbr\r\n";
	static const int want[] = {96, 97, 98, 0, 8, 18};
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_string_equal(a.addr, "192.168.1.20");
	assert_int_equal(a.port, 7078);
	assert_int_equal(a.n_fmts, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(a.fmts[i], want[i]);
	assert_int_equal(a.telephone_event_pt, 100);
	assert_int_equal(sdp_pick_codec(&a), 0);
}

static void parse_media_level_c_and_direction(void **state)
{
	const char *s = "v=0\r\n"
			"o=- 1 1 IN IP4 198.51.100.1\r\n"
			"s=-\r\n"
			"c=IN IP4 198.51.100.1\r\n"
			"t=0 0\r\n"
			"m=video 5000 RTP/AVP 96\r\n"
			"a=rtpmap:96 H264/90000\r\n"
			"m=audio 5002 RTP/AVP 8 0\r\n"
			"c=IN IP4 198.51.100.2\r\n"
			"a=recvonly\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_string_equal(a.addr, "198.51.100.2");
	assert_int_equal(a.port, 5002);
	assert_int_equal(a.dir, SDP_RECVONLY);
	assert_int_equal(sdp_pick_codec(&a), 8);
}

static void parse_session_level_direction_and_ipv6(void **state)
{
	const char *s = "v=0\r\n"
			"o=- 1 1 IN IP6 2001:db8::1\r\n"
			"s=-\r\n"
			"c=IN IP6 2001:db8::1\r\n"
			"t=0 0\r\n"
			"a=sendonly\r\n"
			"a=ptime:30\r\n"
			"m=audio 6000 RTP/AVP 0\r\n";
	const char *inactive = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
			       "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=inactive\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_string_equal(a.addr, "2001:db8::1");
	assert_int_equal(a.dir, SDP_SENDONLY);
	assert_int_equal(a.ptime, 30);
	assert_int_equal(parse(inactive, &a), 0);
	assert_int_equal(a.dir, SDP_INACTIVE);
}

static void parse_rejected_stream_and_no_common_codec(void **state)
{
	const char *s = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
			"t=0 0\r\nm=audio 0 RTP/AVP 0\r\n";
	const char *g729 = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
			   "t=0 0\r\nm=audio 7000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(parse(g729, &a), 0);
	assert_int_equal(sdp_pick_codec(&a), -1);
}

static void parse_accepts_utf8_session_name(void **state)
{
	const char *s = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=Caf\xc3\xa9\r\n"
			"c=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8\r\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_int_equal(a.fmts[0], 8);
}

static void parse_bare_lf_line_ends(void **state)
{
	const char *s = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
			"m=audio 7000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\n";
	struct sdp_audio a;

	assert_int_equal(parse(s, &a), 0);
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.telephone_event_pt, 101);
}

/* ---- parse: malformed ---- */
static void parse_refuses_malformed_bodies(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"\r\n\r\n",
		"v=0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=video 5000 RTP/AVP 96\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\n"
		"m=audio 5000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio abc RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 70000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 5000 RTP/AVP\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"
		"c=IN IP4 "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		"t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=XX IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 5000 RTP/AVP 0\r\n",
		"m=audio 5000 RTP/AVP 0\r\nv=0\r\n",
		"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 5000 RTP/AVP 0\r\n",
		/* found by fuzz_sip_sdp: each made sofia's parser allocate 2 GB */
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\t"
		"m=aurtc 78 RT@/AVP 7 94 98\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n s=-\r\n",
		"v=0\nm=o 5/0// R/////////////////\n",
		"v=0\nm=audio 5000 RTP/AVP\n", /* no format */
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 2 RT\x01/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 5002 5000 RTP/AVP \xda=IN IP4 1.2.3.4\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 1 2 RTP/AVP 0 @\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 1 2 RTP/AVP \"\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio  5000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.rtcp IN IPcN PII=4 1.2.3.4te0\r\nm=audio 0TRP /AVP "
		"0\r\n",
		"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
		"m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU\x80/8000\r\n",
	};
	const char nul[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
			   "m=audio 5000 RTP/AVP 0\r\n\0a=x\r\n";
	struct sdp_audio a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &a);
		if (rc != -EBADMSG)
			fail_msg("bad[%zu] → %d, expected -EBADMSG", i, rc);
	}
	assert_int_equal(sdp_audio_parse(nul, sizeof(nul) - 1, &a), -EBADMSG);
	assert_int_equal(sdp_audio_parse(NULL, 0, &a), -EBADMSG);
}

static void parse_truncations_never_crash(void **state)
{
	const char *s = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
			"m=audio 5000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
			"a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
	struct sdp_audio a;

	for (size_t n = 0; n <= strlen(s); n++) {
		int rc = sdp_audio_parse(s, n, &a);
		assert_true(rc == 0 || rc == -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(build_writes_the_exact_offer, teardown),
		cmocka_unit_test_teardown(build_answer_one_codec_sendonly_ipv6_no_dtmf, teardown),
		cmocka_unit_test_teardown(build_reports_enospc_and_einval, teardown),
		cmocka_unit_test_teardown(build_then_parse_round_trips, teardown),
		cmocka_unit_test_teardown(parse_sipp_uac_offer, teardown),
		cmocka_unit_test_teardown(parse_baresip_offer, teardown),
		cmocka_unit_test_teardown(parse_linphone_offer_many_codecs, teardown),
		cmocka_unit_test_teardown(parse_media_level_c_and_direction, teardown),
		cmocka_unit_test_teardown(parse_session_level_direction_and_ipv6, teardown),
		cmocka_unit_test_teardown(parse_rejected_stream_and_no_common_codec, teardown),
		cmocka_unit_test_teardown(parse_accepts_utf8_session_name, teardown),
		cmocka_unit_test_teardown(parse_bare_lf_line_ends, teardown),
		cmocka_unit_test_teardown(parse_refuses_malformed_bodies, teardown),
		cmocka_unit_test_teardown(parse_truncations_never_crash, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
