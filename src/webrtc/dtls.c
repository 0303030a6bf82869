/*
 * dtls.c — DTLS-SRTP with OpenSSL (RFC 5763/5764): the process's
 * certificate, one SSL per leg driven by the media loop's socket, the
 * peer's certificate checked against the fingerprint of its SDP, and the
 * SRTP keys exported into the SRTP sessions (srtp.c).
 *
 * DESIGN
 * - One self-signed ECDSA P-256 certificate per process, made at start
 *   (a few milliseconds), valid 30 days; its SHA-256 fingerprint goes
 *   into every SDP. Browsers pin the certificate by that fingerprint, not
 *   by any chain, so a fresh one per run is what WebRTC endpoints do.
 * - The SSL reads from a memory BIO that the receive path fills with one
 *   datagram at a time (RFC 7983's demultiplexer, leg.c, hands us DTLS)
 *   and writes through a BIO of our own whose write is one sendto() on
 *   the leg's socket to the ICE-selected address: every record OpenSSL
 *   flushes is one datagram, fragmented to WEBRTC_MTU (1,200 bytes). No
 *   OpenSSL I/O touches a socket; the loop owns them.
 * - Roles per a=setup (RFC 5763 §5): we answer actpass with passive (we
 *   are the DTLS server, the browser connects once ICE succeeds), offer
 *   actpass, and take whatever the answer leaves us. The client starts the
 *   handshake as soon as ICE has a valid pair.
 * - Retransmission: DTLSv1_get_timeout gives the handshake's next
 *   deadline; leg.c's one timer per leg fires it (DTLSv1_handle_timeout).
 *   ICE and the whole handshake must end within cfg.connect_ms.
 * - After the handshake the SSL lingers cfg.dtls_linger_ms (10 s: a lost
 *   final flight is retransmitted by the client within that; a browser's
 *   close_notify in that time ends the leg at once), then it is freed: it
 *   held ~73 KB a leg, the rest of a G.711 leg ~14 KB (docs/WEBRTC.md).
 *   DTLS from the peer after that is dropped and counted (an alert's
 *   record header is not authenticated without the SSL, and signalling
 *   or consent tell us of a hang-up anyway); so is a close_notify we can
 *   no longer send: the browser sees the WebSocket's hang-up.
 * - The certificate is verified by fingerprint only: OpenSSL's chain check
 *   is told to accept (a self-signed certificate is the norm); after the
 *   handshake the peer's certificate's SHA-256 must equal the SDP's
 *   a=fingerprint, or the leg fails ("fingerprint mismatch", counted).
 * - use_srtp: SRTP_AEAD_AES_128_GCM (preferred) and SRTP_AES128_CM_SHA1_80;
 *   keys from SSL_export_keying_material("EXTRACTOR-dtls_srtp").
 */
#define LOG_MODULE "webrtc"
#include "webrtc/webrtc_int.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

/* ---- the certificate ---- */
static int cert_make(struct dtls_ctx *d)
{
	X509_NAME *name;
	uint32_t serial;

	d->key = EVP_EC_gen("P-256");
	d->cert = X509_new();
	if (!d->key || !d->cert)
		return -ENOMEM;
	if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		return -EIO;
	X509_set_version(d->cert, 2);
	ASN1_INTEGER_set_int64(X509_get_serialNumber(d->cert), (int64_t)(serial >> 1) + 1);
	X509_gmtime_adj(X509_getm_notBefore(d->cert), -86400);
	X509_gmtime_adj(X509_getm_notAfter(d->cert), 30L * 86400);
	X509_set_pubkey(d->cert, d->key);
	name = X509_get_subject_name(d->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"switchboard",
				   -1, -1, 0);
	X509_set_issuer_name(d->cert, name);
	return X509_sign(d->cert, d->key, EVP_sha256()) > 0 ? 0 : -EIO;
}

int dtls_cert_sha256(X509 *cert, uint8_t out[32])
{
	unsigned int n = 32;

	return X509_digest(cert, EVP_sha256(), out, &n) == 1 && n == 32 ? 0 : -EIO;
}

static void fp_format(const uint8_t md[32], char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char *p = out + strlen("sha-256 ");

	memcpy(out, "sha-256 ", 8);
	for (int i = 0; i < 32; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
		*p++ = i < 31 ? ':' : '\0';
	}
}

/* Chains mean nothing here: the fingerprint is checked after the handshake. */
static int verify_any(int ok, X509_STORE_CTX *ctx)
{
	return 1;
}

int dtls_ctx_init(struct dtls_ctx *d, bool no_gcm)
{
	uint8_t md[32];
	int err = cert_make(d);

	if (err)
		return err;
	if (dtls_cert_sha256(d->cert, md))
		return -EIO;
	fp_format(md, d->fingerprint);
	d->ctx = SSL_CTX_new(DTLS_method());
	if (!d->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION);
	if (SSL_CTX_use_certificate(d->ctx, d->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(d->ctx, d->key) != 1)
		return -EIO;
	SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	SSL_CTX_set_options(d->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
	SSL_CTX_set_read_ahead(d->ctx, 1);
	/* a connected leg's SSL idles (SRTP carries the media): its record
	 * buffers are released between reads (docs/WEBRTC.md, memory) */
	SSL_CTX_set_mode(d->ctx, SSL_MODE_RELEASE_BUFFERS);
	/* SSL_CTX_set_tlsext_use_srtp returns 0 on success */
	if (SSL_CTX_set_tlsext_use_srtp(d->ctx,
					no_gcm ? "SRTP_AES128_CM_SHA1_80"
					       : "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"))
		return -EIO;
	return 0;
}

void dtls_ctx_close(struct dtls_ctx *d)
{
	SSL_CTX_free(d->ctx);
	X509_free(d->cert);
	EVP_PKEY_free(d->key);
	memset(d, 0, sizeof(*d));
}

/* ---- the datagram BIO: each write is one datagram to the peer ---- */
static BIO_METHOD *bio_meth;

static int bio_dgram_write(BIO *b, const char *data, int len)
{
	struct webrtc_leg *l = BIO_get_data(b);

	if (len <= 0)
		return 0;
	leg_send_raw(l, (const uint8_t *)data,
		     (size_t)len); /* a full socket drops it: DTLS resends */
	return len;
}

static long bio_dgram_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH: return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU: return WEBRTC_MTU;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING: return 0;
	}
	return 0;
}

static int bio_dgram_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *bio_method(void)
{
	if (bio_meth)
		return bio_meth;
	bio_meth = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "switchboard dgram");
	if (!bio_meth)
		return NULL;
	BIO_meth_set_write(bio_meth, bio_dgram_write);
	BIO_meth_set_ctrl(bio_meth, bio_dgram_ctrl);
	BIO_meth_set_create(bio_meth, bio_dgram_create);
	return bio_meth; /* one per process, kept: OpenSSL frees it at exit */
}

/* ---- one leg's handshake ---- */
int dtls_leg_start(struct webrtc_leg *l)
{
	BIO *wbio;
	BIO_METHOD *meth = bio_method();

	if (l->ssl || !meth)
		return l->ssl ? 0 : -ENOMEM;
	l->ssl = SSL_new(l->w->dtls.ctx);
	l->rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(meth);
	if (!l->ssl || !l->rbio || !wbio) {
		BIO_free(l->rbio);
		BIO_free(wbio);
		l->rbio = NULL;
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(l->rbio, -1);
	BIO_set_data(wbio, l);
	SSL_set_bio(l->ssl, l->rbio, wbio); /* the SSL owns both now */
	SSL_set_mtu(l->ssl, WEBRTC_MTU);
	DTLS_set_link_mtu(l->ssl, WEBRTC_MTU);
	if (l->dtls_client)
		SSL_set_connect_state(l->ssl);
	else
		SSL_set_accept_state(l->ssl);
	l->dtls_started = true;
	if (l->dtls_client)
		SSL_do_handshake(l->ssl); /* the ClientHello goes out now */
	return 0;
}

static enum wsrtp_profile profile_of(SSL *ssl)
{
	SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);

	if (!p)
		return WSRTP_NONE;
	if (p->id == SRTP_AES128_CM_SHA1_80)
		return WSRTP_AES128_CM_SHA1_80;
	if (p->id == SRTP_AEAD_AES_128_GCM)
		return WSRTP_AEAD_AES_128_GCM;
	return WSRTP_NONE;
}

/* The handshake ended: the fingerprint, the profile, the keys. */
static void dtls_finish(struct webrtc_leg *l)
{
	X509 *peer = SSL_get1_peer_certificate(l->ssl);
	uint8_t md[32], km[2 * (16 + 14)];
	enum wsrtp_profile prof = profile_of(l->ssl);
	int ok;

	l->dtls_done = true;
	ok = peer && !dtls_cert_sha256(peer, md);
	X509_free(peer);
	if (!ok || !l->remote.has_fp || memcmp(md, l->remote.fp, 32)) {
		l->st.fp_mismatch++;
		leg_dtls_done(l, -EACCES, "fingerprint mismatch");
		return;
	}
	if (prof == WSRTP_NONE) {
		leg_dtls_done(l, -ENOTSUP, "no SRTP profile agreed");
		return;
	}
	if (SSL_export_keying_material(l->ssl, km, wsrtp_km_len(prof), "EXTRACTOR-dtls_srtp", 19,
				       NULL, 0, 0) != 1 ||
	    wsrtp_sessions(&l->tx, &l->rx, prof, km, l->dtls_client)) {
		leg_dtls_done(l, -EIO, "srtp keys");
		return;
	}
	OPENSSL_cleanse(km, sizeof(km));
	l->prof = prof;
	leg_dtls_done(l, 0, NULL);
}

/* Runs the handshake as far as it goes; a fatal error fails the leg. */
static void dtls_step(struct webrtc_leg *l)
{
	int r = SSL_do_handshake(l->ssl);

	if (r == 1) {
		if (!l->dtls_done)
			dtls_finish(l);
		return;
	}
	switch (SSL_get_error(l->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: return;
	default: {
		unsigned long e = ERR_get_error();

		log_info("port=%d action=dtls failed: %s", mleg_port(l->m),
			 e && ERR_reason_error_string(e) ? ERR_reason_error_string(e)
							 : "handshake");
		ERR_clear_error();
		l->st.dtls_fail++;
		leg_dtls_done(l, -EPROTO, "dtls failed");
	}
	}
}

void dtls_leg_rx(struct webrtc_leg *l, const uint8_t *p, size_t n)
{
	if (!l->ssl || l->state == WEBRTC_FAILED) { /* incl. after the SSL was released */
		l->st.dtls_bad++;
		return;
	}
	BIO_write(l->rbio, p, (int)n);
	if (!l->dtls_done) {
		dtls_step(l);
	} else {
		uint8_t buf[256];

		/* after the handshake: alerts (close_notify) and retransmitted
		 * Finished flights; application data is not used */
		int r = SSL_read(l->ssl, buf, sizeof(buf));

		if (r <= 0 && SSL_get_error(l->ssl, r) == SSL_ERROR_ZERO_RETURN)
			l->closed_by_peer = true, leg_fail(l, "dtls closed by peer");
		ERR_clear_error();
	}
	BIO_reset(l->rbio); /* one datagram at a time: nothing stale stays */
}

int64_t dtls_leg_due(struct webrtc_leg *l, int64_t now)
{
	struct timeval tv;

	if (!l->ssl || l->dtls_done || !DTLSv1_get_timeout(l->ssl, &tv))
		return 0;
	return now + (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void dtls_leg_timeout(struct webrtc_leg *l)
{
	if (!l->ssl || l->dtls_done)
		return;
	if (DTLSv1_handle_timeout(l->ssl) < 0) {
		l->st.dtls_fail++;
		leg_dtls_done(l, -ETIMEDOUT, "dtls timeout");
	}
}

void dtls_leg_release(struct webrtc_leg *l)
{
	SSL_free(l->ssl);
	l->ssl = NULL;
	l->rbio = NULL;
	ERR_clear_error();
}

void dtls_leg_free(struct webrtc_leg *l)
{
	if (l->ssl) {
		if (l->dtls_done && l->state != WEBRTC_FAILED)
			SSL_shutdown(l->ssl); /* close_notify, so the browser knows at once */
		SSL_free(l->ssl);
	}
	l->ssl = NULL;
	l->rbio = NULL;
	ERR_clear_error();
}
