/* pkcs12.c - PKCS#12 with AES-256/PBKDF2 (default) or PBE-SHA1-3DES (--legacy). */
#include "offca/pkcs12.h"
#include "offca/util.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <string.h>

offca_rc ca_pkcs12_build(EVP_PKEY *key, X509 *cert, STACK_OF(X509) *chain, const char *name, const char *pass,
			 int legacy, unsigned char **der, size_t *len)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	PKCS12 *p12 = NULL;
	int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
	int iter = legacy ? CA_PKCS12_LEGACY_ITER : CA_PKCS12_ITER;
	int n;

	*der = NULL;
	*len = 0;
	if (pass == NULL || strlen(pass) < CA_PKCS12_MIN_PASS)
		return ut_err(OFFCA_E_USAGE, "the PKCS#12 passphrase must have at least %d characters", CA_PKCS12_MIN_PASS);
	ERR_clear_error();
	/* mac_iter -1: no MAC yet; set it below with the digest we want */
	p12 = PKCS12_create(pass, name, key, cert, chain, nid, nid, iter, -1, 0);
	if (p12 == NULL) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the PKCS#12");
		goto out;
	}
	if (PKCS12_set_mac(p12, pass, -1, NULL, 0, iter, legacy ? EVP_sha1() : EVP_sha256()) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot add the PKCS#12 MAC");
		goto out;
	}
	n = i2d_PKCS12(p12, der);
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the PKCS#12");
		goto out;
	}
	*len = (size_t)n;
	rc = OFFCA_OK;
out:
	PKCS12_free(p12);
	return rc;
}
