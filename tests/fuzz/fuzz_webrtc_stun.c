/*
 * fuzz_webrtc_stun.c — libFuzzer target for the STUN parser and its
 * MESSAGE-INTEGRITY and FINGERPRINT checks (src/webrtc/stun.c).
 *
 * Beyond "no crash": on success the attribute offsets lie inside the input
 * (MESSAGE-INTEGRITY's 24 and FINGERPRINT's 8 bytes included), USERNAME
 * is a slice of it, FINGERPRINT is last; a binding request's fields built
 * again (stun_build_request) parse back the same and verify with the key
 * they were built with; a success response built for its transaction
 * verifies. On failure the result is -EBADMSG. Seeds:
 * tests/fuzz/corpus/webrtc_stun/ (RFC 5769's request and response, one
 * request of ours).
 */
#include "webrtc/webrtc_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_rebuild(const struct stun_msg *m)
{
	char user[600];
	uint8_t buf[1024];
	struct stun_req r = {.user = user,
			     .key = "fuzzfuzzfuzzfuzzfuzzfuzz",
			     .prio = m->prio,
			     .controlling = m->controlling,
			     .use_candidate = m->use_candidate,
			     .tiebreak = m->tiebreak};
	struct stun_msg back;
	struct sockaddr_in sa;
	int n;

	if (!m->user || memchr(m->user, '\0', m->user_len))
		return;
	memcpy(user, m->user, m->user_len);
	user[m->user_len] = '\0';
	memcpy(r.tid, m->tid, 12);
	n = stun_build_request(buf, sizeof(buf), &r);
	check(n > 0);
	check(stun_parse(buf, (size_t)n, &back) == 0);
	check(stun_fingerprint_ok(buf, (size_t)n, &back));
	check(stun_integrity_ok(buf, (size_t)n, &back, r.key));
	check(back.user_len == m->user_len && !memcmp(back.user, m->user, m->user_len));
	check(back.use_candidate == m->use_candidate && back.controlling == m->controlling);
	check(!memcmp(back.tid, m->tid, 12));
	uv_ip4_addr("192.0.2.1", 32853, &sa);
	n = stun_build_success(buf, sizeof(buf), m->tid, (struct sockaddr *)&sa, r.key);
	check(n > 0 && stun_parse(buf, (size_t)n, &back) == 0 && back.has_xaddr);
	check(stun_integrity_ok(buf, (size_t)n, &back, r.key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	int err = stun_parse(data, size, &m);

	if (err) {
		check(err == -EBADMSG);
		return 0;
	}
	check(size >= 20 && size <= STUN_MAX);
	check(m.mi_off < 0 || (size_t)m.mi_off + 24 <= size);
	check(m.fp_off < 0 || (size_t)m.fp_off + 8 == size);
	check(!m.user || (m.user >= data && m.user + m.user_len <= data + size));
	stun_fingerprint_ok(data, size, &m);
	stun_integrity_ok(data, size, &m, "VOkJxbRl1RmTxUk/WvJxBt");
	if (m.type == STUN_BINDING_REQ)
		check_rebuild(&m);
	return 0;
}
