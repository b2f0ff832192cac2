/* bundle_keys.c - signer certificates, trust roots and operator key files for bundle signing. */
#include "offca/bundle.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

offca_rc xfr_certs_load(const char *path, STACK_OF(X509) **out)
{
	offca_rc rc;
	unsigned char *data = NULL;
	const unsigned char *p;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x;
	STACK_OF(X509) *sk = sk_X509_new_null();

	*out = NULL;
	if (sk == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ut_read_file(path, UT_MAX_CERT_FILE, 1, &data, &len);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_PARSE;
	if (len > 0 && data[0] == 0x30) {
		p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && (p != data + len || sk_X509_push(sk, x) <= 0))
			X509_free(x);
	} else {
		bio = BIO_new_mem_buf(data, (int)len);
		while (bio != NULL && sk_X509_num(sk) <= (int)XFR_MAX_CERTS) {
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			if (x == NULL)
				break;
			if (sk_X509_push(sk, x) <= 0)
				X509_free(x);
		}
		ERR_clear_error();
	}
	if (sk_X509_num(sk) == 0 || sk_X509_num(sk) > (int)XFR_MAX_CERTS) {
		rc = ut_err(OFFCA_E_PARSE, "%s: expected 1..%u certificates (PEM or DER)", path, XFR_MAX_CERTS);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = OFFCA_OK;
out:
	BIO_free(bio);
	free(data);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

struct pw_ctx {
	const char *pin_file;
	offca_rc rc;
};

static int pw_cb(char *buf, int size, int rwflag, void *arg)
{
	struct pw_ctx *c = arg;
	char secret[UT_MAX_SECRET];
	size_t n;

	(void)rwflag;
	c->rc = c->pin_file != NULL ? ut_secret_from_file(c->pin_file, 1, secret, sizeof(secret))
				    : ut_secret_prompt("Passphrase for the signing key: ", secret, sizeof(secret));
	if (c->rc != OFFCA_OK)
		return -1;
	n = strlen(secret);
	if (n >= (size_t)size) {
		ut_memzero(secret, sizeof(secret));
		return -1;
	}
	memcpy(buf, secret, n);
	ut_memzero(secret, sizeof(secret));
	return (int)n;
}

offca_rc xfr_key_file_load(const char *path, const char *pin_file, EVP_PKEY **out)
{
	offca_rc rc;
	unsigned char *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	struct pw_ctx pw = {pin_file, OFFCA_OK};

	*out = NULL;
	rc = ut_read_file(path, UT_MAX_CERT_FILE, 1, &data, &len);
	if (rc != OFFCA_OK)
		return rc;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio != NULL)
		*out = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
	if (*out == NULL)
		rc = pw.rc != OFFCA_OK ? pw.rc : ut_err_ssl(OFFCA_E_PARSE, "%s: cannot read the private key", path);
	BIO_free(bio);
	ut_free_secret(data, len);
	return rc;
}

