/*
 * test_sip_digest.c — sip/sip_digest.c: the RFC 2617 §3.5 vector (qop=auth), a
 * no-qop (RFC 2069) vector, wrong passwords, tampered fields and the
 * algorithms we refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/sip.h"

#include <string.h>

/* RFC 2617 §3.5: GET /dir/index.html, Mufasa / "Circle Of Life". */
static struct sip_digest rfc2617(void)
{
	struct sip_digest d = {0};

	str_copy(d.username, "Mufasa", sizeof(d.username));
	str_copy(d.realm, "testrealm@host.com", sizeof(d.realm));
	str_copy(d.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093", sizeof(d.nonce));
	str_copy(d.uri, "/dir/index.html", sizeof(d.uri));
	str_copy(d.qop, "auth", sizeof(d.qop));
	str_copy(d.nc, "00000001", sizeof(d.nc));
	str_copy(d.cnonce, "0a4f113b", sizeof(d.cnonce));
	str_copy(d.response, "6629fae49393a05397450978507c4ef1", sizeof(d.response));
	return d;
}

static void ha1_matches_known_value(void **state)
{
	char ha1[33];

	sip_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
}

static void rfc2617_qop_auth_vector_verifies(void **state)
{
	struct sip_digest d = rfc2617();
	char ha1[33];

	sip_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	assert_int_equal(sip_digest_verify(&d, "GET", ha1), 0);
	str_copy(d.algorithm, "MD5", sizeof(d.algorithm));
	assert_int_equal(sip_digest_verify(&d, "GET", ha1), 0);
	/* upper-case hex from a sloppy client still matches */
	str_copy(d.response, "6629FAE49393A05397450978507C4EF1", sizeof(d.response));
	assert_int_equal(sip_digest_verify(&d, "GET", ha1), 0);
}

/* RFC 2069 style: response = MD5(HA1:nonce:HA2), computed independently. */
static void no_qop_vector_verifies(void **state)
{
	struct sip_digest d = {0};
	char ha1[33];

	str_copy(d.username, "agent1", sizeof(d.username));
	str_copy(d.realm, "switchboard", sizeof(d.realm));
	str_copy(d.nonce, "0123456789abcdef0123456789abcdef", sizeof(d.nonce));
	str_copy(d.uri, "sip:127.0.0.1:5060", sizeof(d.uri));
	/* md5("agent1:switchboard:secret") = HA1; md5("REGISTER:sip:127.0.0.1:5060") = HA2;
	 * response = md5(HA1:nonce:HA2), worked out with `md5sum`. */
	str_copy(d.response, "1afc939028b4713c9b04fe7ab5f739b7", sizeof(d.response));
	sip_digest_ha1("agent1", "switchboard", "secret", ha1);
	assert_string_equal(ha1, "205d5a805444094cd0430baee470842f");
	assert_int_equal(sip_digest_verify(&d, "REGISTER", ha1), 0);
}

static void wrong_password_and_tampering_fail(void **state)
{
	struct sip_digest d = rfc2617(), t;
	char ha1[33], bad[33];

	sip_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	sip_digest_ha1("Mufasa", "testrealm@host.com", "circle of life", bad);
	assert_int_equal(sip_digest_verify(&d, "GET", bad), -EACCES);
	assert_int_equal(sip_digest_verify(&d, "POST", ha1), -EACCES);
	t = d, str_copy(t.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c094", sizeof(t.nonce));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.nc, "00000002", sizeof(t.nc));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.cnonce, "", sizeof(t.cnonce));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.response, "6629fae49393a05397450978507c4ef", sizeof(t.response));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.response, "6629fae49393a05397450978507c4ef10", sizeof(t.response));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.response, "", sizeof(t.response));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
}

static void unsupported_algorithms_are_refused(void **state)
{
	struct sip_digest d = rfc2617(), t;
	char ha1[33];

	sip_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	t = d, str_copy(t.algorithm, "MD5-sess", sizeof(t.algorithm));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.algorithm, "SHA-256", sizeof(t.algorithm));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	t = d, str_copy(t.qop, "auth-int", sizeof(t.qop));
	assert_int_equal(sip_digest_verify(&t, "GET", ha1), -EACCES);
	{
		char shortha1[33] = "939e7578ed9e3c518a452acee763bce";
		assert_int_equal(sip_digest_verify(&d, "GET", shortha1), -EACCES);
	}
	assert_int_equal(sip_digest_verify(NULL, "GET", ha1), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ha1_matches_known_value),
		cmocka_unit_test(rfc2617_qop_auth_vector_verifies),
		cmocka_unit_test(no_qop_vector_verifies),
		cmocka_unit_test(wrong_password_and_tampering_fail),
		cmocka_unit_test(unsupported_algorithms_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
