/*
 * test_webrtc.c — WebRTC legs (src/webrtc) over real UDP on 127.0.0.1:
 * a server leg (ICE-lite, what the browser talks to) and the project's
 * test client (full ICE controlling, DTLS, SRTP, Opus: what a browser
 * does), each with its own certificate, on one uv loop run by the test.
 *
 * Byte-exact STUN vectors from RFC 5769 (an outside reference for
 * MESSAGE-INTEGRITY and FINGERPRINT), malformed STUN and SDP, a browser's
 * offer; then over the network: the handshake completes with Opus and
 * with G.711, both SRTP profiles; known tones go each way and come out
 * with their energy at their own frequency; a wrong fingerprint fails the
 * leg and is counted; an SRTP packet with a bad tag is dropped and
 * counted while audio goes on; a binding request with a bad
 * MESSAGE-INTEGRITY gets a 401 and changes nothing; consent expires when
 * the peer's checks stop and holds while they come. The Opus encoder
 * sends CELT narrowband (SILK when asked), and digital silence settles on
 * one repeated packet a browser's decoder plays as silence, the stream
 * staying in step. Leak-checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/media_int.h"
#include "webrtc/webrtc_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/rand.h>
#include <opus.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PMIN	41000
#define PMAX	41999
#define REC_MAX (8000 * 4)
#define SR	8000.0

static int teardown(void **state)
{
	mem_fail_after(0);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- RFC 5769 vectors ---- */
static const uint8_t rfc5769_req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
	0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
	0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
	0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
static const uint8_t rfc5769_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
	0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
	0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};
static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void stun_rfc5769_vectors_verify(void **state)
{
	struct stun_msg m;
	uint8_t bad[sizeof(rfc5769_req)];
	const struct sockaddr_in *sa;

	assert_int_equal(stun_parse(rfc5769_req, sizeof(rfc5769_req), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_REQ);
	assert_int_equal(m.user_len, 9);
	assert_memory_equal(m.user, "evtj:h6vY", 9);
	assert_true(m.has_prio && m.prio == 0x6e0001ff);
	assert_true(m.controlled && !m.controlling && !m.use_candidate);
	assert_true(m.tiebreak == 0x932ff9b151263b36ull);
	assert_true(stun_fingerprint_ok(rfc5769_req, sizeof(rfc5769_req), &m));
	assert_true(stun_integrity_ok(rfc5769_req, sizeof(rfc5769_req), &m, rfc5769_pwd));
	assert_false(
		stun_integrity_ok(rfc5769_req, sizeof(rfc5769_req), &m, "VOkJxbRl1RmTxUk/WvJxBu"));
	/* one bit anywhere before MESSAGE-INTEGRITY: both checks fail */
	memcpy(bad, rfc5769_req, sizeof(bad));
	bad[30] ^= 1;
	assert_int_equal(stun_parse(bad, sizeof(bad), &m), 0);
	assert_false(stun_integrity_ok(bad, sizeof(bad), &m, rfc5769_pwd));
	assert_false(stun_fingerprint_ok(bad, sizeof(bad), &m));

	assert_int_equal(stun_parse(rfc5769_resp4, sizeof(rfc5769_resp4), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_OK);
	assert_true(stun_fingerprint_ok(rfc5769_resp4, sizeof(rfc5769_resp4), &m));
	assert_true(stun_integrity_ok(rfc5769_resp4, sizeof(rfc5769_resp4), &m, rfc5769_pwd));
	assert_true(m.has_xaddr);
	sa = (const struct sockaddr_in *)&m.xaddr;
	assert_int_equal(sa->sin_family, AF_INET);
	assert_int_equal(ntohs(sa->sin_port), 32853);
	assert_int_equal(ntohl(sa->sin_addr.s_addr), 0xc0000201); /* 192.0.2.1 */
}

static void stun_malformed_is_refused(void **state)
{
	struct stun_msg m;
	uint8_t b[sizeof(rfc5769_req) + 8];

	for (size_t n = 0; n < sizeof(rfc5769_req); n++) /* every truncation */
		assert_int_equal(stun_parse(rfc5769_req, n, &m), -EBADMSG);
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	b[4] ^= 0xff; /* magic cookie */
	assert_int_equal(stun_parse(b, sizeof(rfc5769_req), &m), -EBADMSG);
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	b[23] = 0xf0; /* SOFTWARE's length past the end */
	assert_int_equal(stun_parse(b, sizeof(rfc5769_req), &m), -EBADMSG);
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	b[3] = 0x57; /* message length not a multiple of 4 */
	assert_int_equal(stun_parse(b, sizeof(rfc5769_req), &m), -EBADMSG);
	/* an attribute after FINGERPRINT */
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	memcpy(b + sizeof(rfc5769_req), (uint8_t[]){0x80, 0x22, 0, 4, 'x', 'x', 'x', 'x'}, 8);
	b[3] = 0x60;
	assert_int_equal(stun_parse(b, sizeof(b), &m), -EBADMSG);
	/* MESSAGE-INTEGRITY of the wrong length */
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	b[79] = 0x10;
	assert_int_equal(stun_parse(b, sizeof(rfc5769_req), &m), -EBADMSG);
	/* not STUN at all: an RTP first byte */
	memcpy(b, rfc5769_req, sizeof(rfc5769_req));
	b[0] = 0x80;
	assert_int_equal(stun_parse(b, sizeof(rfc5769_req), &m), -EBADMSG);
}

static void stun_request_we_build_verifies(void **state)
{
	uint8_t buf[256], resp[256];
	struct stun_req r = {.tid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
			     .user = "abcd:efgh",
			     .key = "0123456789abcdefghijklmnop",
			     .prio = 12345,
			     .controlling = true,
			     .use_candidate = true,
			     .tiebreak = 42};
	struct sockaddr_in sa;
	struct stun_msg m;
	int n = stun_build_request(buf, sizeof(buf), &r), k;

	assert_true(n > 0);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_true(stun_fingerprint_ok(buf, (size_t)n, &m));
	assert_true(stun_integrity_ok(buf, (size_t)n, &m, r.key));
	assert_true(m.controlling && m.use_candidate && m.prio == 12345 && m.tiebreak == 42);
	assert_int_equal(m.user_len, 9);
	uv_ip4_addr("10.1.2.3", 4567, &sa);
	k = stun_build_success(resp, sizeof(resp), m.tid, (struct sockaddr *)&sa, r.key);
	assert_true(k > 0);
	assert_int_equal(stun_parse(resp, (size_t)k, &m), 0);
	assert_true(stun_integrity_ok(resp, (size_t)k, &m, r.key));
	assert_true(m.has_xaddr);
	assert_memory_equal(&((struct sockaddr_in *)&m.xaddr)->sin_addr, &sa.sin_addr, 4);
	assert_int_equal(stun_build_request(buf, 40, &r), -ENOSPC);
}

/* ---- SRTP against libsrtp2, the reference ---- */
static void ref_session(srtp_t *s, bool gcm, const uint8_t *master, bool inbound)
{
	srtp_policy_t pol;

	memset(&pol, 0, sizeof(pol));
	if (gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	}
	pol.key = (uint8_t *)master;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 128;
	assert_int_equal(srtp_create(s, &pol), srtp_err_status_ok);
}

static size_t rtp_make(uint8_t *p, uint16_t seq, int i)
{
	static const uint8_t hdr[] = {
		0x90, 111,  0,	  0,	0, 0, 0,    0,	  0xca, 0xfe,
		0xba, 0xbe, 0xbe, 0xde, 0, 1, 0x10, 0x55, 0,	0}; /* one extension word */

	memcpy(p, hdr, sizeof(hdr));
	p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
	p[7] = (uint8_t)i;
	for (int k = 0; k < 40 + i % 50; k++)
		p[sizeof(hdr) + k] = (uint8_t)(k * 7 + i);
	return sizeof(hdr) + 40 + (size_t)(i % 50);
}

/* 300 packets across a sequence number wrap (the rollover counter), each
 * way between libsrtp2 and ours; then a replay, a bad tag, SRTCP. */
static void srtp_matches_libsrtp2(bool gcm)
{
	enum wsrtp_profile prof = gcm ? WSRTP_AEAD_AES_128_GCM : WSRTP_AES128_CM_SHA1_80;
	size_t sl = gcm ? 12 : 14;
	uint8_t master[30], p[400], q[400];
	srtp_t ref_tx, ref_rx;
	struct wsrtp *our_tx, *our_rx;
	int n, k;

	static bool ref_ready; /* srtp_init may run once per process */

	if (!ref_ready)
		assert_int_equal(srtp_init(), srtp_err_status_ok);
	ref_ready = true;
	RAND_bytes(master, sizeof(master));
	ref_session(&ref_tx, gcm, master, false);
	ref_session(&ref_rx, gcm, master, true);
	assert_int_equal(wsrtp_alloc(&our_tx, prof, master, master + 16, false), 0);
	assert_int_equal(wsrtp_alloc(&our_rx, prof, master, master + 16, true), 0);
	(void)sl;
	for (int i = 0; i < 300; i++) {
		uint16_t seq = (uint16_t)(65400 + i);
		size_t len = rtp_make(p, seq, i);

		/* libsrtp2 protects, we unprotect */
		memcpy(q, p, len);
		n = (int)len;
		assert_int_equal(srtp_protect(ref_tx, q, &n), srtp_err_status_ok);
		k = wsrtp_unprotect(our_rx, q, (size_t)n, false);
		assert_int_equal(k, (int)len);
		assert_memory_equal(q, p, len);
		/* we protect, libsrtp2 unprotects */
		memcpy(q, p, len);
		n = wsrtp_protect(our_tx, q, len, sizeof(q));
		assert_true(n > (int)len);
		assert_int_equal(srtp_unprotect(ref_rx, q, &n), srtp_err_status_ok);
		assert_int_equal(n, (int)len);
		assert_memory_equal(q, p, len);
	}
	/* a replay, then a bad tag */
	{
		size_t len = rtp_make(p, 164, 1); /* the next after the loop */

		n = (int)len;
		assert_int_equal(srtp_protect(ref_tx, p, &n), srtp_err_status_ok);
		memcpy(q, p, (size_t)n);
		assert_true(wsrtp_unprotect(our_rx, q, (size_t)n, false) > 0);
		memcpy(q, p, (size_t)n);
		assert_int_equal(wsrtp_unprotect(our_rx, q, (size_t)n, false), -EALREADY);
		len = rtp_make(p, 165, 2);
		n = (int)len;
		assert_int_equal(srtp_protect(ref_tx, p, &n), srtp_err_status_ok);
		memcpy(q, p, (size_t)n);
		q[n - 1] ^= 1;
		assert_int_equal(wsrtp_unprotect(our_rx, q, (size_t)n, false), -EACCES);
		/* the forgery did not burn the packet's index */
		assert_int_equal(wsrtp_unprotect(our_rx, p, (size_t)n, false), (int)len);
	}
	/* SRTCP from libsrtp2: authenticated, replay refused, bad tag refused */
	{
		uint8_t r[] = {0x81, 201, 0,  7,  0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8,
			       9,    10,  11, 12, 13,	14,   0,    0,	  0, 0, 0, 0, 0, 0, 0, 0};

		memcpy(p, r, sizeof(r));
		n = (int)sizeof(r);
		assert_int_equal(srtp_protect_rtcp(ref_tx, p, &n), srtp_err_status_ok);
		memcpy(q, p, (size_t)n);
		assert_int_equal(wsrtp_unprotect(our_rx, q, (size_t)n, true), (int)sizeof(r));
		assert_memory_equal(q, r, sizeof(r)); /* decrypted */
		memcpy(q, p, (size_t)n);
		assert_int_equal(wsrtp_unprotect(our_rx, q, (size_t)n, true), -EALREADY);
		memcpy(p, r, sizeof(r));
		n = (int)sizeof(r);
		assert_int_equal(srtp_protect_rtcp(ref_tx, p, &n), srtp_err_status_ok);
		p[12] ^= 0x40;
		assert_int_equal(wsrtp_unprotect(our_rx, p, (size_t)n, true), -EACCES);
		/* we protect SRTCP, libsrtp2 unprotects: three reports in a row */
		for (int i = 0; i < 3; i++) {
			memcpy(p, r, sizeof(r));
			p[8] = (uint8_t)i;
			memcpy(q, p, sizeof(r));
			n = wsrtp_protect_rtcp(our_tx, q, sizeof(r), sizeof(q));
			assert_int_equal(n, (int)sizeof(r) + (gcm ? 20 : 14));
			assert_memory_not_equal(q + 8, p + 8, sizeof(r) - 8); /* encrypted */
			assert_int_equal(srtp_unprotect_rtcp(ref_rx, q, &n), srtp_err_status_ok);
			assert_int_equal(n, (int)sizeof(r));
			assert_memory_equal(q, p, sizeof(r));
		}
	}
	srtp_dealloc(ref_tx);
	srtp_dealloc(ref_rx);
	wsrtp_free(our_tx);
	wsrtp_free(our_rx);
}

static void srtp_cm_sha1_80_matches_libsrtp2(void **state)
{
	srtp_matches_libsrtp2(false);
}

static void srtp_aead_gcm_matches_libsrtp2(void **state)
{
	srtp_matches_libsrtp2(true);
}

/* ---- SDP ---- */
static const char chrome_offer[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 5b7d9e1f\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:1467250027 1 udp 2122260223 192.168.1.20 46243 typ host generation 0\r\n"
	"a=candidate:2 1 udp 2122260223 4f1c0a6e-5d2b.local 46244 typ host generation 0\r\n"
	"a=ice-ufrag:Wl5q\r\n"
	"a=ice-pwd:lsRWQ6FXzTzV5bGOzJVv+V1N\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 "
	"8B:87:09:8A:5D:C2:F3:33:EF:C5:B1:F6:84:3A:3D:D6:A3:E2:9C:17:4C:E7:46:3B:1B:CE:84:98:DD:"
	"8E:AF:7B\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=sendrecv\r\n"
	"a=msid:5b7d9e1f 0f3c2a77\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=rtcp-fb:111 transport-cc\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:63 red/48000/2\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:13 CN/8000\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=ssrc:3735928559 cname:abcdEFGH\r\n";

static void sdp_parses_a_browser_offer(void **state)
{
	struct webrtc_sdp s;

	assert_int_equal(webrtc_sdp_parse(chrome_offer, strlen(chrome_offer), &s), 0);
	assert_string_equal(s.ufrag, "Wl5q");
	assert_string_equal(s.pwd, "lsRWQ6FXzTzV5bGOzJVv+V1N");
	assert_true(s.has_fp && s.fp[0] == 0x8b && s.fp[31] == 0x7b);
	assert_int_equal(s.setup, WEBRTC_SETUP_ACTPASS);
	assert_true(s.rtcp_mux && !s.ice_lite);
	assert_string_equal(s.mid, "0");
	assert_int_equal(s.opus_pt, 111);
	assert_int_equal(s.pcmu_pt, 0);
	assert_int_equal(s.pcma_pt, 8);
	assert_int_equal(s.tev48_pt, 110);
	assert_int_equal(s.tev8_pt, 126);
	assert_string_equal(s.cand_addr, "192.168.1.20");
	assert_int_equal(s.cand_port, 46243);
}

/* The offer with one line replaced by another (NULL: removed). */
static void sdp_edit(char *out, size_t size, const char *find, const char *with)
{
	const char *p = strstr(chrome_offer, find), *eol;

	assert_non_null(p);
	eol = strstr(p, "\r\n") + 2;
	snprintf(out, size, "%.*s%s%s", (int)(p - chrome_offer), chrome_offer, with ? with : "",
		 eol);
}

static void sdp_refuses_what_it_cannot_use(void **state)
{
	static const struct {
		const char *find, *with;
		int err;
	} cases[] = {
		{"a=ice-ufrag", NULL, -ENOTSUP},
		{"a=ice-pwd", NULL, -ENOTSUP},
		{"a=fingerprint", NULL, -ENOTSUP},
		{"a=rtcp-mux", NULL, -ENOTSUP},
		{"a=ice-pwd", "a=ice-pwd:short\r\n", -EBADMSG},
		{"a=ice-ufrag", "a=ice-ufrag:bad ufrag\r\n", -EBADMSG},
		{"a=fingerprint", "a=fingerprint:sha-256 8B:87:09\r\n", -EBADMSG},
		{"a=fingerprint", "a=fingerprint:sha-1 8B:87:09\r\n", -ENOTSUP},
		{"a=setup", "a=setup:sideways\r\n", -EBADMSG},
		{"m=audio", "m=audio 9 RTP/AVP 0\r\n", -ENOTSUP},
		{"m=audio", "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", -ENOTSUP},
		{"m=audio", "m=audio 99999 UDP/TLS/RTP/SAVPF 111\r\n", -EBADMSG},
		{"a=rtpmap:111", "a=rtpmap:300 opus/48000/2\r\n", -EBADMSG},
		{"a=candidate:1467", "a=candidate:1 1 udp\r\n", -EBADMSG},
		{"s=-", "S=-\r\n", -EBADMSG},
		{"a=ssrc", "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", -ENOTSUP},
	};
	char buf[4096];
	struct webrtc_sdp s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sdp_edit(buf, sizeof(buf), cases[i].find, cases[i].with);
		assert_int_equal(webrtc_sdp_parse(buf, strlen(buf), &s), cases[i].err);
	}
	/* no codec we have */
	strcpy(buf, chrome_offer);
	for (char *p; (p = strstr(buf, "opus/")) || (p = strstr(buf, "PCM"));)
		p[0] = 'X';
	assert_int_equal(webrtc_sdp_parse(buf, strlen(buf), &s), -ENOTSUP);
	/* a NUL inside, too long, not SDP */
	memcpy(buf, chrome_offer, sizeof(chrome_offer));
	buf[100] = '\0';
	assert_int_equal(webrtc_sdp_parse(buf, sizeof(chrome_offer) - 1, &s), -EBADMSG);
	assert_int_equal(webrtc_sdp_parse(chrome_offer, WEBRTC_SDP_MAX + 1, &s), -EBADMSG);
	assert_int_equal(webrtc_sdp_parse("hello", 5, &s), -EBADMSG);
}

/* ---- over the network ---- */
struct side {
	struct webrtc *w;
	struct mleg *m;
	struct webrtc_leg *l;
	enum webrtc_state st;
	const char *why;
	int16_t *rec;
	size_t nrec;
	int states;
};

struct net {
	uv_loop_t loop;
	uv_timer_t stop;
	struct media *media;
	struct side srv, cli;
	bool done;
	size_t want_srv, want_cli; /* audio_both_ways: samples to have recorded */
};

static void on_state(struct webrtc_leg *l, enum webrtc_state st, const char *why, void *arg)
{
	struct side *s = arg;

	s->st = st;
	s->why = why;
	s->states++;
}

static void on_audio(struct mleg *l, const int16_t *pcm, size_t n, void *arg)
{
	struct side *s = arg;

	if (s->nrec + n > REC_MAX)
		n = REC_MAX - s->nrec;
	memcpy(s->rec + s->nrec, pcm, n * sizeof(*pcm));
	s->nrec += n;
}

static void net_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for ms, or until pred holds (checked every turn). */
static void net_run(struct net *n, uint64_t ms, bool (*pred)(struct net *))
{
	uint64_t end = uv_now(&n->loop) + ms;

	uv_timer_start(&n->stop, net_stop, ms, 0);
	while (uv_now(&n->loop) < end && !(pred && pred(n))) {
		uv_run(&n->loop, UV_RUN_ONCE);
		uv_update_time(&n->loop);
	}
	uv_timer_stop(&n->stop);
}

static bool both_connected(struct net *n)
{
	return n->srv.st == WEBRTC_CONNECTED && n->cli.st == WEBRTC_CONNECTED;
}

static bool any_failed(struct net *n)
{
	return n->srv.st == WEBRTC_FAILED || n->cli.st == WEBRTC_FAILED;
}

static bool settled(struct net *n)
{
	return both_connected(n) || any_failed(n);
}

static void side_open(struct net *n, struct side *s, const struct webrtc_cfg *cfg, int id,
		      enum webrtc_role role)
{
	assert_int_equal(webrtc_alloc(&s->w, &n->loop, cfg), 0);
	assert_int_equal(mleg_alloc(&s->m, n->media, (uint64_t)id), 0);
	assert_int_equal(webrtc_leg_alloc(&s->l, s->w, s->m, role, on_state, s), 0);
	s->rec = calloc(REC_MAX, sizeof(*s->rec));
	assert_non_null(s->rec);
	mleg_set_audio_handler(s->m, on_audio, s);
}

static void net_open(struct net *n, const struct webrtc_cfg *scfg, const struct webrtc_cfg *ccfg)
{
	struct media_cfg mc = {.address = "127.0.0.1", .port_min = PMIN, .port_max = PMAX};

	memset(n, 0, sizeof(*n));
	assert_int_equal(uv_loop_init(&n->loop), 0);
	uv_timer_init(&n->loop, &n->stop);
	assert_int_equal(media_alloc(&n->media, &n->loop, &mc), 0);
	side_open(n, &n->srv, scfg, 1, WEBRTC_SERVER);
	side_open(n, &n->cli, ccfg, 2, WEBRTC_CLIENT);
}

static void side_close(struct side *s)
{
	if (s->l)
		webrtc_leg_free(s->l);
	if (s->m)
		mleg_free(s->m);
	if (s->w)
		webrtc_free(s->w);
	free(s->rec);
	memset(s, 0, sizeof(*s));
}

static void net_close(struct net *n)
{
	side_close(&n->srv);
	side_close(&n->cli);
	media_free(n->media);
	uv_close((uv_handle_t *)&n->stop, NULL);
	uv_run(&n->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&n->loop), 0);
}

/* The browser's way round: the client offers, the server answers. */
static void net_negotiate(struct net *n, bool tamper_offer_fp)
{
	char offer[4096], answer[4096];

	assert_int_equal(webrtc_leg_offer(n->cli.l, "127.0.0.1", offer, sizeof(offer)), 0);
	if (tamper_offer_fp) { /* the first hex digit changed: never the same */
		char *p = strstr(offer, "a=fingerprint:sha-256 ");

		assert_non_null(p);
		p[22] = p[22] == 'A' ? 'B' : 'A';
	}
	assert_int_equal(webrtc_leg_answer(n->srv.l, offer, "127.0.0.1", answer, sizeof(answer)),
			 0);
	assert_non_null(strstr(answer, "a=ice-lite"));
	assert_non_null(strstr(answer, "a=setup:passive"));
	assert_int_equal(webrtc_leg_remote(n->cli.l, answer), 0);
}

/* Power of f in x (Goertzel), per sample. */
static double tone_power(const int16_t *x, size_t n, double f)
{
	double w = 2 * M_PI * f / SR, c = 2 * cos(w), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1, s1 = s0;
	}
	return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

static double rms(const int16_t *x, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return n ? sqrt(e / (double)n) : 0;
}

static int16_t *tone(double f, size_t n)
{
	int16_t *p = malloc(n * sizeof(*p));

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (int16_t)(8000 * sin(2 * M_PI * f * (double)i / SR));
	return p;
}

/* The last half second a side received: loud, and at f rather than g. */
static void assert_heard(const struct side *s, double f, double g)
{
	const int16_t *x;
	size_t n = 4000;
	double pf, pg, r;

	assert_true(s->nrec >= n);
	x = s->rec + s->nrec - n;
	r = rms(x, n);
	pf = tone_power(x, n, f);
	pg = tone_power(x, n, g);
	print_message("    heard rms %.0f, power at %.0f Hz %.0f, at %.0f Hz %.0f\n", r, f, pf, g,
		      pg);
	assert_true(r > 2500 && r < 8000); /* a 8000-peak sine is 5657 RMS */
	assert_true(pf > 100 * pg);
}

static bool heard_enough(struct net *n)
{
	return n->srv.nrec >= n->want_srv && n->cli.nrec >= n->want_cli;
}

/* Two tones, one each way, until each side has recorded one second more
 * (at most 5 s: a loaded machine's loop may be late, never the audio). */
static void audio_both_ways(struct net *n)
{
	int16_t *a = tone(440, 8000), *b = tone(1000, 8000);

	n->want_srv = n->srv.nrec + 8000, n->want_cli = n->cli.nrec + 8000;
	assert_true(n->want_srv <= REC_MAX && n->want_cli <= REC_MAX);
	assert_int_equal(mleg_play(n->cli.m, a, 8000, true), 0);
	assert_int_equal(mleg_play(n->srv.m, b, 8000, true), 0);
	net_run(n, 5000, heard_enough);
	assert_heard(&n->srv, 440, 1000);
	assert_heard(&n->cli, 1000, 440);
	free(a);
	free(b);
}

static void connect_and_talk(enum media_codec c, bool no_gcm, const char *profile)
{
	struct net n;
	struct webrtc_cfg ccfg = {.no_gcm = no_gcm};
	struct webrtc_stats st;
	struct media_stats ms;

	net_open(&n, NULL, &ccfg);
	assert_int_equal(webrtc_leg_codecs(n.cli.l, &c, 1), 0);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_int_equal(n.srv.st, WEBRTC_CONNECTED);
	assert_int_equal(n.cli.st, WEBRTC_CONNECTED);
	assert_string_equal(webrtc_leg_profile(n.srv.l), profile);
	assert_int_equal(mleg_codec(n.srv.m), c);
	audio_both_ways(&n);
	mleg_stats(n.srv.m, &ms);
	assert_true(ms.rx_packets >= 50 && ms.tx_packets >= 50);
	assert_int_equal(ms.rx_bad, 0);
	webrtc_leg_stats(n.srv.l, &st);
	assert_true(st.stun_ok >= 1);
	assert_int_equal(st.stun_auth + st.stun_bad + st.srtp_auth + st.srtp_bad + st.fp_mismatch,
			 0);
	net_close(&n);
}

static void opus_call_connects_and_audio_goes_both_ways(void **state)
{
	connect_and_talk(MEDIA_OPUS, false, "SRTP_AEAD_AES_128_GCM");
}

static void pcmu_over_srtp_cm_sha1_80_goes_both_ways(void **state)
{
	connect_and_talk(MEDIA_PCMU, true, "SRTP_AES128_CM_SHA1_80");
}

static void wrong_fingerprint_fails_the_leg(void **state)
{
	struct net n;
	struct webrtc_stats st;

	net_open(&n, NULL, NULL);
	net_negotiate(&n, true); /* the offer's fingerprint no longer the client's */
	net_run(&n, 5000, any_failed);
	assert_int_equal(n.srv.st, WEBRTC_FAILED);
	assert_string_equal(n.srv.why, "fingerprint mismatch");
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.fp_mismatch, 1);
	assert_int_equal(st.connected, 0);
	/* no media goes to a failed leg's peer */
	assert_int_equal(mleg_play(n.srv.m, media_beep(&(size_t){0}), 1600, false), 0);
	net_run(&n, 200, NULL);
	assert_int_equal(n.cli.nrec, 0);
	net_close(&n);
}

static void bad_srtp_tag_is_dropped_and_counted(void **state)
{
	struct net n;
	struct webrtc_stats st;
	struct sockaddr_in to;
	uint8_t pkt[12 + 40 + 16] = {0x80, 111, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef};
	int16_t *a = tone(440, 8000);

	net_open(&n, NULL, NULL);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	assert_int_equal(mleg_play(n.cli.m, a, 8000, true), 0);
	uv_ip4_addr("127.0.0.1", mleg_port(n.srv.m), &to);
	for (size_t i = 12; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 37);
	for (int i = 0; i < 5; i++) { /* from the peer's own address: only the tag is wrong */
		pkt[3] = (uint8_t)i;
		assert_int_equal(mleg_send_raw(n.cli.m, pkt, sizeof(pkt), (struct sockaddr *)&to),
				 0);
	}
	n.want_srv = n.srv.nrec + 6000, n.want_cli = 0; /* 0.75 s of the tone, at most 5 s */
	assert_true(n.want_srv <= REC_MAX);
	net_run(&n, 5000, heard_enough);
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.srtp_auth, 5);
	webrtc_totals(n.srv.w, &st); /* the process's counters include live legs */
	assert_int_equal(st.srtp_auth, 5);
	assert_int_equal(st.legs, 1);
	assert_int_equal(n.srv.st, WEBRTC_CONNECTED);
	assert_heard(&n.srv, 440, 1000); /* the real stream went on */
	free(a);
	net_close(&n);
}

/* The loop runs until the server's reply reaches fd (at most 3 s). */
static int recv_reply(struct net *n, int fd, uint8_t *buf, size_t size)
{
	for (int i = 0; i < 150; i++) {
		ssize_t k;

		net_run(n, 20, NULL);
		k = recv(fd, buf, size, MSG_DONTWAIT);
		if (k > 0)
			return (int)k;
	}
	return -1;
}

static void bad_message_integrity_gets_401_and_changes_nothing(void **state)
{
	struct net n;
	struct webrtc_stats st;
	char offer[4096], answer[4096], user[600];
	struct webrtc_sdp sa, so;
	struct sockaddr_in to, me = {.sin_family = AF_INET};
	socklen_t mlen = sizeof(me);
	uint8_t buf[512];
	struct stun_req r = {.tid = {9, 9, 9},
			     .user = user,
			     .prio = 1,
			     .controlling = true,
			     .use_candidate = true,
			     .tiebreak = 7};
	struct stun_msg m;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), k;

	net_open(&n, NULL, NULL);
	assert_int_equal(webrtc_leg_offer(n.cli.l, "127.0.0.1", offer, sizeof(offer)), 0);
	assert_int_equal(webrtc_leg_answer(n.srv.l, offer, "127.0.0.1", answer, sizeof(answer)), 0);
	assert_int_equal(webrtc_sdp_parse(answer, strlen(answer), &sa), 0);
	assert_int_equal(webrtc_sdp_parse(offer, strlen(offer), &so), 0);
	snprintf(user, sizeof(user), "%s:%s", sa.ufrag, so.ufrag);
	r.key = "not-the-servers-password-at-all";
	uv_ip4_addr("127.0.0.1", 0, &me);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	getsockname(fd, (struct sockaddr *)&me, &mlen);
	uv_ip4_addr("127.0.0.1", sa.cand_port, &to);
	k = stun_build_request(buf, sizeof(buf), &r);
	assert_true(k > 0);
	assert_int_equal(sendto(fd, buf, (size_t)k, 0, (struct sockaddr *)&to, sizeof(to)), k);
	k = recv_reply(&n, fd, buf, sizeof(buf));
	assert_true(k > 0);
	assert_int_equal(stun_parse(buf, (size_t)k, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_ERR);
	assert_int_equal(m.error, 401);
	assert_true(stun_fingerprint_ok(buf, (size_t)k, &m));
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.stun_auth, 1);
	assert_int_equal(st.stun_ok, 0);
	assert_int_equal(webrtc_leg_state(n.srv.l), WEBRTC_CHECKING); /* no pair from it */
	/* the same request with the right password is answered */
	r.key = sa.pwd;
	r.tid[0] = 10;
	k = stun_build_request(buf, sizeof(buf), &r);
	sendto(fd, buf, (size_t)k, 0, (struct sockaddr *)&to, sizeof(to));
	k = recv_reply(&n, fd, buf, sizeof(buf));
	assert_true(k > 0);
	assert_int_equal(stun_parse(buf, (size_t)k, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_OK);
	assert_true(stun_integrity_ok(buf, (size_t)k, &m, sa.pwd));
	assert_int_equal(ntohs(((struct sockaddr_in *)&m.xaddr)->sin_port), ntohs(me.sin_port));
	close(fd);
	net_close(&n);
}

static void consent_expires_when_checks_stop(void **state)
{
	struct net n;
	/* checks every 100 ms until connected (a loaded machine may take a
	 * while to connect), then none: consent (1 s) must expire */
	struct webrtc_cfg scfg = {.consent_ms = 1000}, ccfg = {.keepalive_ms = 100};
	struct webrtc_stats st;

	net_open(&n, &scfg, &ccfg);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	n.cli.w->cfg.keepalive_ms = 3600000; /* after the one already due */
	net_run(&n, 4000, any_failed);
	assert_int_equal(n.srv.st, WEBRTC_FAILED);
	assert_string_equal(n.srv.why, "consent expired");
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.consent_fail, 1);
	net_close(&n);
}

static void consent_holds_while_checks_come(void **state)
{
	struct net n;
	/* consent 1 s, a check every 100 ms: only a loop stalled for 0.9 s
	 * (both legs share it) could fail it; run for two and a half windows */
	struct webrtc_cfg scfg = {.consent_ms = 1000, .dtls_linger_ms = 200},
			  ccfg = {.keepalive_ms = 100};

	net_open(&n, &scfg, &ccfg);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	net_run(&n, 2500, any_failed);
	assert_int_equal(n.srv.st, WEBRTC_CONNECTED);
	/* the server's SSL was released after 200 ms: media goes on */
	assert_null(n.srv.l->ssl);
	audio_both_ways(&n);
	net_close(&n);
}

/* A browser that closes its RTCPeerConnection sends close_notify: while
 * the server's SSL lingers that ends the leg at once, as a hang-up; once
 * the SSL is released the alert is dropped and counted, and the leg is
 * left to signalling or consent (docs/WEBRTC.md, DTLS). */
static void peer_close_notify_ends_the_leg_while_the_ssl_lingers(void **state)
{
	struct net n;
	struct webrtc_cfg scfg = {.dtls_linger_ms = 200};
	struct webrtc_stats st;

	net_open(&n, NULL, NULL);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	webrtc_leg_free(n.cli.l); /* its close_notify goes out */
	n.cli.l = NULL;
	net_run(&n, 1000, any_failed);
	assert_int_equal(n.srv.st, WEBRTC_FAILED);
	assert_string_equal(n.srv.why, "dtls closed by peer");
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.consent_fail + st.dtls_fail + st.dtls_bad, 0);
	net_close(&n);

	net_open(&n, &scfg, NULL);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	net_run(&n, 400, any_failed);
	assert_null(n.srv.l->ssl);
	webrtc_leg_free(n.cli.l);
	n.cli.l = NULL;
	net_run(&n, 300, any_failed);
	assert_int_equal(n.srv.st, WEBRTC_CONNECTED);
	webrtc_leg_stats(n.srv.l, &st);
	assert_int_equal(st.dtls_bad, 1);
	net_close(&n);
}

static void server_offer_client_answer_also_connects(void **state)
{
	struct net n;
	char offer[4096], answer[4096];

	net_open(&n, NULL, NULL);
	/* the server offers (ringing a browser); the client answers: it
	 * takes passive from actpass, so here the server is the DTLS client */
	assert_int_equal(webrtc_leg_offer(n.srv.l, "127.0.0.1", offer, sizeof(offer)), 0);
	assert_non_null(strstr(offer, "a=setup:actpass"));
	assert_int_equal(webrtc_leg_answer(n.cli.l, offer, "127.0.0.1", answer, sizeof(answer)), 0);
	assert_int_equal(webrtc_leg_remote(n.srv.l, answer), 0);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	audio_both_ways(&n);
	net_close(&n);
}

/* A plain G.711 far end on a raw socket: sends a tone, keeps what it gets. */
struct g711_far {
	int fd;
	uint16_t seq;
	int16_t got[REC_MAX];
	size_t ngot;
};

static void g711_far_send(struct g711_far *f, int port, const int16_t *pcm, size_t frame)
{
	uint8_t pkt[12 + 160] = {0x80, 0};
	struct sockaddr_in to;
	uint32_t ts = f->seq * 160u;

	pkt[2] = (uint8_t)(f->seq >> 8), pkt[3] = (uint8_t)f->seq;
	pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16), pkt[6] = (uint8_t)(ts >> 8),
	pkt[7] = (uint8_t)ts;
	pkt[8] = 0x0d, pkt[11] = 0x01;
	media_g711_encode(MEDIA_PCMU, pcm + frame * 160, pkt + 12, 160);
	uv_ip4_addr("127.0.0.1", port, &to);
	sendto(f->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to));
	f->seq++;
}

static void g711_far_drain(struct g711_far *f)
{
	uint8_t pkt[1500];
	ssize_t n;

	while ((n = recv(f->fd, pkt, sizeof(pkt), MSG_DONTWAIT)) > 12 && f->ngot + 160 <= REC_MAX) {
		media_g711_decode(MEDIA_PCMU, pkt + 12, f->got + f->ngot, (size_t)n - 12);
		f->ngot += (size_t)n - 12;
	}
}

static void opus_leg_in_a_conference_with_a_g711_leg(void **state)
{
	struct net n;
	struct mconf *c;
	struct mleg *g;
	struct g711_far *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int16_t *a = tone(440, 8000), *b = tone(1000, 8000);
	struct side heard = {0};
	uint64_t t0, sent = 0;
	size_t want;

	assert_non_null(f);
	net_open(&n, NULL, NULL);
	/* the browser leg joins before it connects: its codec is not known yet */
	assert_int_equal(media_conf_alloc(&c, n.media, 7), 0);
	assert_int_equal(media_conf_add(c, n.srv.m, MIXER_TALK, NULL), 0);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(f->fd, (struct sockaddr *)&sa, &len);
	assert_int_equal(mleg_alloc(&g, n.media, 3), 0);
	assert_int_equal(mleg_set_remote(g, "127.0.0.1", ntohs(sa.sin_port), MEDIA_PCMU, -1), 0);
	assert_int_equal(media_conf_add(c, g, MIXER_TALK, NULL), 0);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	assert_false(media_conf_relaying(c)); /* Opus and G.711: mixed */
	assert_int_equal(mleg_play(n.cli.m, a, 8000, true), 0);
	/* the SIP side's tone, a packet every 20 ms by the clock (a loaded
	 * machine's loop turns late: then the packets due go together), until
	 * both ends have heard a second (at most 5 s) */
	want = n.cli.nrec + 8000;
	assert_true(want <= REC_MAX);
	g711_far_drain(f); /* the mix's silence while the browser connected */
	f->ngot = 0;
	t0 = uv_now(&n.loop);
	for (uint64_t now = t0; now < t0 + 5000 && (f->ngot < 8000 || n.cli.nrec < want);) {
		for (; t0 + 20 * sent <= now; sent++)
			g711_far_send(f, mleg_port(g), b, (size_t)(sent % 50));
		net_run(&n, t0 + 20 * sent - now, NULL);
		g711_far_drain(f);
		uv_update_time(&n.loop);
		now = uv_now(&n.loop);
	}
	heard.rec = f->got, heard.nrec = f->ngot;
	print_message("    the SIP side:\n");
	assert_heard(&heard, 440, 1000);
	print_message("    the browser:\n");
	assert_heard(&n.cli, 1000, 440);
	mleg_free(g);
	mem_deref(c);
	close(f->fd);
	free(f), free(a), free(b);
	net_close(&n);
}

/* ---- the Opus encoder (codec.c) ---- */
/* Encodes frames [from, to) of x on leg l; decodes each packet with a
 * browser's decoder (libopus at 48 kHz) into y at 8 kHz (every 6th sample
 * of the 48 kHz output is enough for energy and tone checks). */
static void opus_run(struct mleg *l, OpusDecoder *d, const int16_t *x, int16_t *y, int from, int to,
		     uint8_t (*pk)[MEDIA_PKT_MAX], int *len)
{
	int16_t wide[MEDIA_FRAME * 6];

	for (int f = from; f < to; f++) {
		len[f] = codec_encode(l, x + f * MEDIA_FRAME, pk[f], MEDIA_PKT_MAX);
		assert_true(len[f] > 0);
		assert_int_equal(opus_decode(d, pk[f], len[f], wide, MEDIA_FRAME * 6, 0),
				 MEDIA_FRAME * 6);
		for (int i = 0; i < MEDIA_FRAME; i++)
			y[f * MEDIA_FRAME + i] = wide[i * 6];
	}
}

/* CELT narrowband at the default settings; digital silence settles on one
 * repeated packet that a browser's decoder plays as silence, and the tone
 * after it comes out as loud and at its frequency as before (the stream
 * stayed in step). media_cfg.opus_silk gives SILK narrowband instead. */
static void opus_encoder_is_celt_and_repeats_its_silence(void **state)
{
	enum { NF = 150 }; /* 1 s tone, 1 s digital silence, 1 s tone */
	uv_loop_t loop;
	struct media *m;
	struct mleg *l;
	struct media_cfg mc = {.address = "127.0.0.1", .port_min = PMIN, .port_max = PMAX};
	int16_t *a = tone(440, 8000), *x = calloc(NF * MEDIA_FRAME, sizeof(*x));
	int16_t *y = calloc(NF * MEDIA_FRAME, sizeof(*y));
	uint8_t(*pk)[MEDIA_PKT_MAX] = calloc(NF, MEDIA_PKT_MAX);
	int len[NF], err, same = 0;
	OpusDecoder *d = opus_decoder_create(48000, 1, &err);

	assert_non_null(x), assert_non_null(y), assert_non_null(pk), assert_non_null(d);
	memcpy(x, a, 8000 * sizeof(*x));
	memcpy(x + 16000, a, 8000 * sizeof(*x));
	assert_int_equal(uv_loop_init(&loop), 0);
	for (int silk = 0; silk < 2; silk++) {
		mc.opus_silk = silk;
		assert_int_equal(media_alloc(&m, &loop, &mc), 0);
		assert_int_equal(mleg_alloc(&l, m, 1), 0);
		assert_int_equal(codec_set(l, MEDIA_OPUS), 0);
		l->codec = MEDIA_OPUS;
		opus_decoder_ctl(d, OPUS_RESET_STATE);
		opus_run(l, d, x, y, 0, NF, pk, len);
		/* the TOC's configuration, 20 ms: 1 SILK narrowband, 19 CELT narrowband */
		for (int f = 0; f < NF; f++)
			assert_int_equal(pk[f][0] >> 3, silk ? 1 : 19);
		for (int f = 51; f < 100; f++)
			same += len[f] == len[f - 1] && !memcmp(pk[f], pk[f - 1], (size_t)len[f]);
		print_message("    %s: %d bytes a tone frame, %d the last silent one, %d of 49 "
			      "silent packets repeat the one before; heard rms %.0f, %.1f, %.0f\n",
			      silk ? "SILK" : "CELT", len[40], len[99], same, rms(y + 4000, 4000),
			      rms(y + 12000, 4000), rms(y + 20000, 4000));
		if (!silk) { /* settles on a 3-byte silence (the last 0.5 s), played as 0 */
			assert_true(same >= 25);
			for (int f = 75; f < 100; f++)
				assert_memory_equal(pk[f], pk[99], 3);
			assert_int_equal(len[99], 3);
			assert_true(rms(y + 12000, 4000) == 0);
		}
		assert_true(rms(y + 12000, 4000) < 5);
		for (int o = 4000; o <= 20000; o += 16000) { /* before and after it */
			assert_true(rms(y + o, 4000) > 2500);
			assert_true(tone_power(y + o, 4000, 440) >
				    100 * tone_power(y + o, 4000, 1000));
		}
		mleg_free(l);
		media_free(m);
		uv_run(&loop, UV_RUN_DEFAULT);
		same = 0;
	}
	assert_int_equal(uv_loop_close(&loop), 0);
	opus_decoder_destroy(d);
	free(a), free(x), free(y), free(pk);
}

static bool reports_both_ways(struct net *n)
{
	struct webrtc_quality a, b;

	webrtc_leg_quality(n->srv.l, &a);
	webrtc_leg_quality(n->cli.l, &b);
	return a.rtt_ms >= 0 && b.rtt_ms >= 0 && a.reports_received >= 3 && b.reports_received >= 3;
}

/* RTCP both ways over SRTCP: each side's SR echoed in the other's report
 * block (RTT from LSR/DLSR), then 5 packets the client never sends (its
 * sequence numbers skip) counted lost by the server and reported back to
 * the client in the server's next report. */
static void rtcp_reports_give_rtt_and_count_loss(bool no_gcm)
{
	struct net n;
	struct webrtc_cfg cfg = {.rtcp_ms = 300, .no_gcm = no_gcm};
	struct webrtc_quality s, c;
	struct webrtc_stats st;
	int16_t *a = tone(440, 8000), *b = tone(1000, 8000);
	uint64_t sent;

	net_open(&n, &cfg, &cfg);
	net_negotiate(&n, false);
	net_run(&n, 5000, settled);
	assert_true(both_connected(&n));
	assert_int_equal(mleg_play(n.cli.m, a, 8000, true), 0);
	assert_int_equal(mleg_play(n.srv.m, b, 8000, true), 0);
	net_run(&n, 5000, reports_both_ways);
	webrtc_leg_quality(n.srv.l, &s);
	webrtc_leg_quality(n.cli.l, &c);
	print_message("    server: rtt %d ms, rx %" PRIu64 " lost %" PRId64
		      " jitter %.2f ms; client: rtt %d ms, rx %" PRIu64 " jitter %.2f ms\n",
		      s.rtt_ms, s.rx_packets, s.rx_lost, s.rx_jitter_ms, c.rtt_ms, c.rx_packets,
		      c.rx_jitter_ms);
	assert_true(s.rtt_ms >= 0 && s.rtt_ms < 500); /* loopback: a loaded loop at most */
	assert_true(c.rtt_ms >= 0 && c.rtt_ms < 500);
	assert_int_equal(s.clock, 48000);
	assert_true(s.rx_packets >= 10 && c.rx_packets >= 10);
	assert_int_equal(s.rx_lost, 0);
	assert_true(s.has_remote && c.has_remote);
	assert_int_equal(c.remote_lost, 0); /* the server saw none of the client's lost */
	assert_true(s.rx_jitter_ms < 100);
	/* five of the client's packets never go */
	n.cli.m->out.seq = (uint16_t)(n.cli.m->out.seq + 5);
	sent = s.reports_sent;
	for (int i = 0; i < 40; i++) { /* two more reports from the server at least */
		net_run(&n, 100, NULL);
		webrtc_leg_quality(n.srv.l, &s);
		webrtc_leg_quality(n.cli.l, &c);
		if (s.reports_sent >= sent + 2 && c.remote_lost == 5)
			break;
	}
	assert_int_equal(s.rx_lost, 5);
	assert_int_equal(c.remote_lost, 5); /* the browser's view, from our report */
	webrtc_leg_stats(n.srv.l, &st);
	assert_true(st.rtcp_in >= 3 && st.rtcp_out >= 3);
	assert_int_equal(st.rtcp_bad + st.srtp_auth + st.srtp_bad + st.srtp_replay, 0);
	free(a);
	free(b);
	net_close(&n);
}

static void rtcp_over_srtcp_gcm_gives_rtt_and_counts_loss(void **state)
{
	rtcp_reports_give_rtt_and_count_loss(false);
}

static void rtcp_over_srtcp_cm_gives_rtt_and_counts_loss(void **state)
{
	rtcp_reports_give_rtt_and_count_loss(true);
}

/* The parser: real compounds parse; every truncation and a bad length,
 * version or count is refused. */
static void rtcp_parser_is_bounded(void **state)
{
	uint8_t sr[] = {0x81, 200, 0,	 12,  1,    2,	  3, 4, /* SR, one block */
			0xe0, 0,   0,	 1,   0x80, 0,	  0, 0,	 0,    0, 3,	0xc0, 0,   0,
			0,    50,  0,	 0,   0x1f, 0x40, 9, 9,	 9,    9, 0x10, 0,    0,   5,
			0,    1,   0,	 7,   0,    0,	  0, 33, 0xe0, 0, 0x80, 0,    0,   1,
			0,    0,   0x81, 202, 0,    2,	  1, 2,	 3,    4, 1,	1,    'x', 0};
	struct rtcp_info ri;

	assert_int_equal(rtcp_parse(sr, sizeof(sr), &ri), 0);
	assert_int_equal(ri.npackets, 2);
	assert_true(ri.has_sr);
	assert_int_equal(ri.sr_ssrc, 0x01020304);
	assert_int_equal(ri.sr_packets, 50);
	assert_int_equal(ri.nblocks, 1);
	assert_int_equal(ri.blocks[0].ssrc, 0x09090909);
	assert_int_equal(ri.blocks[0].fraction, 0x10);
	assert_int_equal(ri.blocks[0].lost, 5);
	assert_int_equal(ri.blocks[0].jitter, 33);
	assert_int_equal(ri.blocks[0].lsr, 0xe0008000);
	assert_int_equal(ri.blocks[0].dlsr, 0x00010000);
	for (size_t k = 0; k < sizeof(sr); k++) /* every truncation but the SR alone */
		if (k != 52)
			assert_int_equal(rtcp_parse(sr, k, &ri), -EBADMSG);
	sr[0] = 0x41; /* version 1 */
	assert_int_equal(rtcp_parse(sr, sizeof(sr), &ri), -EBADMSG);
	sr[0] = 0x83; /* three blocks in the room of one */
	assert_int_equal(rtcp_parse(sr, sizeof(sr), &ri), -EBADMSG);
	sr[0] = 0x81, sr[3] = 40; /* longer than the datagram */
	assert_int_equal(rtcp_parse(sr, sizeof(sr), &ri), -EBADMSG);
	sr[3] = 12; /* a cumulative lost of -1 (24-bit signed) */
	memset(sr + 33, 0xff, 3);
	assert_int_equal(rtcp_parse(sr, sizeof(sr), &ri), 0);
	assert_int_equal(ri.blocks[0].lost, -1);
}

static void bad_arguments_are_refused(void **state)
{
	struct net n;
	char buf[64];

	net_open(&n, NULL, NULL);
	assert_int_equal(webrtc_leg_alloc(NULL, n.srv.w, n.srv.m, WEBRTC_SERVER, NULL, NULL),
			 -EINVAL);
	assert_int_equal(webrtc_leg_codecs(n.srv.l, (enum media_codec[]){(enum media_codec)9}, 1),
			 -EINVAL);
	assert_int_equal(webrtc_leg_offer(n.srv.l, "127.0.0.1", buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(webrtc_leg_answer(n.srv.l, "v=0\r\n", "127.0.0.1", buf, sizeof(buf)),
			 -ENOTSUP);
	assert_int_equal(webrtc_leg_remote(n.srv.l, "garbage"), -EBADMSG);
	/* an SDP remote on a WebRTC leg's media is refused */
	assert_int_equal(mleg_set_remote(n.srv.m, "127.0.0.1", 9, MEDIA_PCMU, -1), -EINVAL);
	net_close(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(stun_rfc5769_vectors_verify, teardown),
		cmocka_unit_test_teardown(stun_malformed_is_refused, teardown),
		cmocka_unit_test_teardown(stun_request_we_build_verifies, teardown),
		cmocka_unit_test_teardown(srtp_cm_sha1_80_matches_libsrtp2, teardown),
		cmocka_unit_test_teardown(srtp_aead_gcm_matches_libsrtp2, teardown),
		cmocka_unit_test_teardown(sdp_parses_a_browser_offer, teardown),
		cmocka_unit_test_teardown(sdp_refuses_what_it_cannot_use, teardown),
		cmocka_unit_test_teardown(opus_call_connects_and_audio_goes_both_ways, teardown),
		cmocka_unit_test_teardown(pcmu_over_srtp_cm_sha1_80_goes_both_ways, teardown),
		cmocka_unit_test_teardown(wrong_fingerprint_fails_the_leg, teardown),
		cmocka_unit_test_teardown(bad_srtp_tag_is_dropped_and_counted, teardown),
		cmocka_unit_test_teardown(bad_message_integrity_gets_401_and_changes_nothing,
					  teardown),
		cmocka_unit_test_teardown(consent_expires_when_checks_stop, teardown),
		cmocka_unit_test_teardown(consent_holds_while_checks_come, teardown),
		cmocka_unit_test_teardown(peer_close_notify_ends_the_leg_while_the_ssl_lingers,
					  teardown),
		cmocka_unit_test_teardown(server_offer_client_answer_also_connects, teardown),
		cmocka_unit_test_teardown(opus_leg_in_a_conference_with_a_g711_leg, teardown),
		cmocka_unit_test_teardown(opus_encoder_is_celt_and_repeats_its_silence, teardown),
		cmocka_unit_test_teardown(rtcp_over_srtcp_gcm_gives_rtt_and_counts_loss, teardown),
		cmocka_unit_test_teardown(rtcp_over_srtcp_cm_gives_rtt_and_counts_loss, teardown),
		cmocka_unit_test_teardown(rtcp_parser_is_bounded, teardown),
		cmocka_unit_test_teardown(bad_arguments_are_refused, teardown),
	};

	log_level_set(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
