/*
 * ag_key.c - the endpoint's key (made here, never leaves: PEM file 0600) and its requests.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "agent.h"
#include "offca/keyref.h"
#include "offca/util.h"

offca_rc ag_key_new(EVP_PKEY **out)
{
	*out = EVP_EC_gen("P-256");
	return *out != NULL ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "making a P-256 key");
}

offca_rc ag_key_load(const char *path, EVP_PKEY **out)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	BIO *b;
	offca_rc rc = ut_read_file(path, 64 * 1024, 1, &buf, &n);

	*out = NULL;
	if (rc != OFFCA_OK)
		return ut_err(rc, "key %s: %s", path, ut_err_msg());
	b = BIO_new_mem_buf(buf, (int)n);
	*out = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ut_free_secret(buf, n);
	return *out != NULL ? OFFCA_OK : ut_err(OFFCA_E_PARSE, "key %s: not an unencrypted PEM private key", path);
}

offca_rc ag_key_write(const char *path, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p = NULL;
	long n;
	offca_rc rc;

	if (b == NULL || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) || (n = BIO_get_mem_data(b, &p)) <= 0) {
		BIO_free(b);
		return ut_err_ssl(OFFCA_E_CRYPTO, "encoding the key");
	}
	rc = ut_write_file(path, p, (size_t)n, UT_WF_EXCL | UT_WF_SECRET);
	BIO_free(b);
	return rc;
}

offca_rc ag_sans_parse(const char *const *words, size_t n, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gn = sk_GENERAL_NAME_new_null();
	offca_rc rc = OFFCA_OK;

	*out = NULL;
	if (gn == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		const char *w = words[i];
		int ip = strncmp(w, "IP:", 3) == 0;
		GENERAL_NAME *g;

		if (strncmp(w, "DNS:", 4) == 0)
			w += 4;
		else if (ip)
			w += 3;
		g = a2i_GENERAL_NAME(NULL, NULL, NULL, ip ? GEN_IPADD : GEN_DNS, w, 0);
		if (g == NULL || !sk_GENERAL_NAME_push(gn, g)) {
			GENERAL_NAME_free(g);
			rc = ut_err(OFFCA_E_USAGE, "--san '%s': not a DNS name or IP:address", words[i]);
		}
	}
	if (rc == OFFCA_OK)
		*out = gn;
	else
		GENERAL_NAMES_free(gn);
	return rc;
}

static offca_rc csr_done(offca_rc rc, X509_EXTENSION *ext, STACK_OF(X509_EXTENSION) *exts, X509_REQ *req)
{
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return rc;
}

offca_rc ag_csr_make(EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san, unsigned char **der,
		     size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	offca_rc rc = OFFCA_E_CRYPTO;
	int n;

	*der = NULL;
	*len = 0;
	if (req == NULL || !X509_REQ_set_version(req, 0) || !X509_REQ_set_pubkey(req, key) ||
	    (subject != NULL && !X509_REQ_set_subject_name(req, subject)))
		goto out;
	if (san != NULL && sk_GENERAL_NAME_num(san) > 0) {
		exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, (void *)san);
		if (exts == NULL || ext == NULL || !sk_X509_EXTENSION_push(exts, ext))
			goto out;
		ext = NULL;
		if (!X509_REQ_add_extensions(req, exts))
			goto out;
	}
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		rc = ca_key_err_sign("signing the certificate request"); /* the token's reason, for a token key */
		return csr_done(rc, ext, exts, req);
	}
	if ((n = i2d_X509_REQ(req, der)) <= 0)
		goto out;
	*len = (size_t)n;
	rc = OFFCA_OK;
out:
	if (rc != OFFCA_OK)
		ut_err_ssl(rc, "making the certificate request");
	return csr_done(rc, ext, exts, req);
}
