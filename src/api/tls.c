/*
 * tls.c — HTTPS: the certificate and key of http.tls_cert / http.tls_key,
 * checked at start, and the listener options that serve them.
 *
 * DESIGN
 * - libwebsockets does the TLS (OpenSSL underneath); what it reports about a
 *   bad file is a line in its log and a context that fails to start. So the
 *   files are read here first, with OpenSSL, before anything listens: a file
 *   that is missing or unreadable, that holds no PEM certificate or no
 *   unencrypted PEM key, or a key that is not the certificate's, is a config
 *   error "FILE:LINE: ..." (the line the key was set on) and exit status 2,
 *   like any other config error. Never a prompt for a passphrase.
 * - A key file readable by other users, or a certificate that has expired
 *   or is not yet valid, only warns: the site may be replacing it.
 * - With TLS the port speaks both (lws's ALLOW_NON_SSL_ON_SSL_PORT and
 *   ALLOW_HTTP_ON_HTTPS_LISTENER), but plain HTTP only to be sent away: a plain
 *   HTTP request on it is answered with 308 and the same path over https://
 *   (api_tls_redirect; lws's own REDIRECT_HTTP_TO_HTTPS drops the path), so
 *   a typed http:// address still lands on the workspace, and a WebSocket
 *   upgrade over plain HTTP is refused. No page, token or event is served
 *   over plain HTTP then. The Host header is echoed only when it looks like
 *   a host[:port] (no header injection); otherwise http.address is used.
 * - The certificate file may hold the whole chain (Let's Encrypt's
 *   fullchain.pem): lws loads it with SSL_CTX_use_certificate_chain_file.
 *   A new certificate takes effect at the next start.
 */
#define LOG_MODULE "http"
#include "api/api_int.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* No passphrase is ever asked for: an encrypted key fails to load. */
static int tls_no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* "FILE:LINE: 'http.KEY' ..." — the config file and the key's line. */
__attribute__((format(printf, 5, 6))) static int
tls_fail(const struct config *cfg, int line, char *err, size_t errsz, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errsz)
		snprintf(err, errsz, "%s:%d: %s", cfg->file[0] ? cfg->file : "<config>", line, msg);
	ERR_clear_error();
	return CC_EBADCONF;
}

static FILE *tls_open(const struct config *cfg, const char *key, const char *path, int line,
		      char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		tls_fail(cfg, line, err, errsz, "'http.%s': cannot read '%s': %s", key, path,
			 strerror(errno));
	return f;
}

static void tls_warn_validity(const struct config *cfg, X509 *x)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warn("the certificate %s has expired: browsers will refuse it",
			 cfg->http_tls_cert);
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warn("the certificate %s is not valid yet", cfg->http_tls_cert);
}

int api_tls_check(const struct config *cfg, char *err, size_t errsz)
{
	const int cl = cfg->http_tls_cert_line, kl = cfg->http_tls_key_line;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	struct stat sb;
	FILE *f;
	int rc = 0;

	if (!cfg->http_tls_cert[0])
		return 0; /* plain HTTP; config.c refuses a key without a certificate */
	if (!(f = tls_open(cfg, "tls_cert", cfg->http_tls_cert, cl, err, errsz)))
		return CC_EBADCONF;
	x = PEM_read_X509(f, NULL, tls_no_pass, NULL);
	fclose(f);
	if (!x)
		return tls_fail(cfg, cl, err, errsz,
				"'http.tls_cert': '%s' holds no PEM certificate "
				"(\"-----BEGIN CERTIFICATE-----\")",
				cfg->http_tls_cert);
	tls_warn_validity(cfg, x);
	if (!(f = tls_open(cfg, "tls_key", cfg->http_tls_key, kl, err, errsz))) {
		X509_free(x);
		return CC_EBADCONF;
	}
	if (!fstat(fileno(f), &sb) && (sb.st_mode & (S_IRWXG | S_IRWXO)))
		log_warn("the private key %s can be read by other users (mode %03o): "
			 "chmod 600 it",
			 cfg->http_tls_key, (unsigned)(sb.st_mode & 0777));
	key = PEM_read_PrivateKey(f, NULL, tls_no_pass, NULL);
	fclose(f);
	if (!key)
		rc = tls_fail(cfg, kl, err, errsz,
			      "'http.tls_key': '%s' holds no PEM private key, or one encrypted "
			      "with a passphrase (not supported)",
			      cfg->http_tls_key);
	else if (X509_check_private_key(x, key) != 1)
		rc = tls_fail(cfg, kl, err, errsz,
			      "'http.tls_key': '%s' is not the private key of the certificate "
			      "'%s' (line %d)",
			      cfg->http_tls_key, cfg->http_tls_cert, cl);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

void api_tls_listen(const struct config *cfg, struct lws_context_creation_info *info)
{
	if (!cfg->http_tls_cert[0])
		return;
	info->alpn = "http/1.1";
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
			 LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT |
			 LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;
	info->ssl_cert_filepath = cfg->http_tls_cert;
	info->ssl_private_key_filepath = cfg->http_tls_key;
}

bool api_tls_plain(const struct api *a, struct lws *wsi)
{
	return a->cfg->http_tls_cert[0] && !lws_is_ssl(wsi);
}

/* Only letters, digits and ".-:[]" (a name, an IPv4 or [IPv6] and a port). */
static bool tls_host_ok(const char *h)
{
	size_t n = strlen(h);

	return n && n == strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789.-:[]");
}

/* A path is echoed when it is plain URL characters, else "/". */
static bool tls_path_ok(const char *p)
{
	size_t n = strlen(p);

	return *p == '/' && n < 1024 &&
	       n == strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789/._-~%");
}

int api_tls_redirect(struct api *a, struct lws *wsi, const char *path)
{
	unsigned char buf[LWS_PRE + 2048], *p = buf + LWS_PRE, *end = buf + sizeof(buf) - 1;
	char host[256] = "", loc[1400];
	int n;

	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0 || !tls_host_ok(host))
		snprintf(host, sizeof(host), "%s:%d", a->cfg->http_address, a->cfg->http_port);
	n = snprintf(loc, sizeof(loc), "https://%s%s", host,
		     path && tls_path_ok(path) ? path : "/");
	if (lws_http_redirect(wsi, 308, (unsigned char *)loc, n, &p, end) < 0)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}
