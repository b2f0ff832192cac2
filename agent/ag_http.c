/*
 * ag_http.c - the EST client side, libcurl: bounded answers, Retry-After, HTTP Basic or a client
 * certificate. Only ag_bootstrap_root() talks to the gateway unverified, and it keeps nothing but
 * a root whose SHA-256 is the pinned fingerprint.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "agent.h"
#include "offca/util.h"

#define EST_PATH "/.well-known/est/"

void ag_resp_clear(ag_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

size_t ag_resp_body_cb(char *p, size_t sz, size_t n, void *arg)
{
	ag_resp *r = arg;
	size_t k = sz * n;
	unsigned char *nb;

	if (r->len + k > (r->max != 0 ? r->max : EST_MAX_BODY))
		return 0; /* too big: curl fails with CURLE_WRITE_ERROR */
	nb = realloc(r->body, r->len + k + 1);
	if (nb == NULL)
		return 0;
	memcpy(nb + r->len, p, k);
	r->body = nb;
	r->len += k;
	r->body[r->len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	ag_resp *r = arg;
	size_t k = sz * n;

	if (k > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		long v = strtol(p + 12, NULL, 10);

		r->retry_after = v < 1 ? 1 : v > 86400 ? 86400 : (unsigned)v;
	}
	return k;
}

static offca_rc perform(CURL *c, const char *url, ag_resp *r)
{
	CURLcode cc;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ag_resp_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		return ut_err(OFFCA_E_NETWORK, "%s: %s", url, cc == CURLE_WRITE_ERROR ? "answer too large" :
			      curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	return OFFCA_OK;
}

static offca_rc url_of(char *buf, size_t cap, const char *server, const char *op)
{
	size_t n = strlen(server);

	while (n > 0 && server[n - 1] == '/')
		n--;
	if (strncmp(server, "https://", 8) != 0)
		return ut_err(OFFCA_E_USAGE, "--server must be an https:// URL");
	if (snprintf(buf, cap, "%.*s%s%s", (int)n, server, EST_PATH, op) >= (int)cap)
		return ut_err(OFFCA_E_USAGE, "--server URL too long");
	return OFFCA_OK;
}

offca_rc ag_bootstrap_root(const char *server, const unsigned char fp[32], const char *root_path)
{
	CURL *c = curl_easy_init();
	ag_resp r = {0};
	STACK_OF(X509) *certs = NULL;
	char url[2048];
	X509 *root = NULL;
	BIO *b = NULL;
	char *pem = NULL;
	long pl;
	offca_rc rc;

	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "curl_easy_init failed");
	if ((rc = url_of(url, sizeof(url), server, "cacerts")) != OFFCA_OK)
		goto out;
	/* the one unverified call: what it returns is only kept if it hashes to the pinned fingerprint */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	if ((rc = perform(c, url, &r)) != OFFCA_OK)
		goto out;
	if (r.status != 200) {
		rc = ut_err(OFFCA_E_NETWORK, "%s answered HTTP %ld", url, r.status);
		goto out;
	}
	if ((rc = est_p7_decode(r.body, r.len, &certs)) != OFFCA_OK) {
		rc = ut_err(rc, "cacerts: %s", ut_err_msg());
		goto out;
	}
	for (int i = 0; i < sk_X509_num(certs) && root == NULL; i++) {
		X509 *x = sk_X509_value(certs, i);
		unsigned char md[32];
		unsigned int ml = 0;

		if (X509_digest(x, EVP_sha256(), md, &ml) && ml == 32 && memcmp(md, fp, 32) == 0 &&
		    X509_check_issued(x, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(x)) == 1)
			root = x;
	}
	if (root == NULL) {
		rc = ut_err(OFFCA_E_VERIFY, "the gateway's CA certificates hold no root with the pinned SHA-256 "
			    "fingerprint (wrong --root-sha256, or not the right gateway)");
		goto out;
	}
	b = BIO_new(BIO_s_mem());
	if (b == NULL || !PEM_write_bio_X509(b, root) || (pl = BIO_get_mem_data(b, &pem)) <= 0) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = ut_write_file(root_path, pem, (size_t)pl, 0);
out:
	BIO_free(b);
	sk_X509_pop_free(certs, X509_free);
	ag_resp_clear(&r);
	curl_easy_cleanup(c);
	return rc;
}

struct tls_client {
	const char *chain; /* PEM: the client certificate, then its intermediates */
	EVP_PKEY *key;     /* private operations on the token */
};

/* libcurl's OpenSSL backend hands over the SSL_CTX before the handshake: the client key goes in here */
static CURLcode use_client_key(CURL *c, void *sslctx, void *arg)
{
	const struct tls_client *tc = arg;

	(void)c;
	if (SSL_CTX_use_certificate_chain_file(sslctx, tc->chain) != 1 || SSL_CTX_use_PrivateKey(sslctx, tc->key) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CERTPROBLEM;
	}
	return CURLE_OK;
}

static offca_rc post(const char *server, const char *op, const char *cafile, const char *user, const char *pass,
		     const char *cert, const char *key, struct tls_client *tc, const char *body, ag_resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048];
	offca_rc rc;

	memset(r, 0, sizeof(*r));
	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "curl_easy_init failed");
	if ((rc = url_of(url, sizeof(url), server, op)) != OFFCA_OK)
		goto out;
	h = curl_slist_append(h, "Content-Type: " EST_CT_CSR);
	h = curl_slist_append(h, "Content-Transfer-Encoding: base64");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	}
	if (cert != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	if (tc != NULL) {
		const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

		if (v->ssl_version == NULL || strncmp(v->ssl_version, "OpenSSL/", 8) != 0 ||
		    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, use_client_key) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, tc) != CURLE_OK) {
			rc = ut_err(OFFCA_E_UNSUPPORTED, "libcurl here uses %s, not OpenSSL: it cannot authenticate with a "
				    "key on a token", v->ssl_version != NULL ? v->ssl_version : "no TLS library");
			goto out;
		}
	}
	rc = perform(c, url, r);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

offca_rc ag_post(const char *server, const char *op, const char *cafile, const char *user, const char *pass,
		 const char *cert, const char *key, const char *body, ag_resp *r)
{
	return post(server, op, cafile, user, pass, cert, key, NULL, body, r);
}

offca_rc ag_post_pkey(const char *server, const char *op, const char *cafile, const char *chain, EVP_PKEY *key,
		      const char *body, ag_resp *r)
{
	struct tls_client tc = {chain, key};

	return post(server, op, cafile, NULL, NULL, NULL, NULL, &tc, body, r);
}
