/* pubkey.c - what a ceremony records about a token key: public key PEM, SPKI fingerprint, self-test. */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

offca_rc tok_pubkey_fingerprint(EVP_PKEY *pub, char **hex)
{
	unsigned char *der = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int len;
	offca_rc rc;

	if (hex != NULL)
		*hex = NULL;
	if (pub == NULL || hex == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_pubkey_fingerprint: NULL argument");
	len = i2d_PUBKEY(pub, &der);
	if (len <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the public key");
	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	*hex = ut_hex(md, mdlen);
	rc = *hex != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
out:
	OPENSSL_free(der);
	return rc;
}

offca_rc tok_pubkey_pem(EVP_PKEY *pub, char **pem)
{
	BIO *b = NULL;
	char *data = NULL;
	long len;
	offca_rc rc = OFFCA_E_CRYPTO;

	if (pem != NULL)
		*pem = NULL;
	if (pub == NULL || pem == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_pubkey_pem: NULL argument");
	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_PUBKEY(b, pub) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot write the public key as PEM");
		goto out;
	}
	len = BIO_get_mem_data(b, &data);
	*pem = malloc((size_t)len + 1);
	if (*pem == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pem, data, (size_t)len);
	(*pem)[len] = '\0';
	rc = OFFCA_OK;
out:
	BIO_free(b);
	return rc;
}

offca_rc tok_key_selftest(tok_key *key)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *priv = tok_key_private(key), *pub = tok_key_public(key);
	unsigned char msg[32], *sig = NULL;
	size_t siglen = 0;
	offca_rc rc = OFFCA_E_CRYPTO;

	if (priv == NULL || pub == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_key_selftest: no key");
	if (RAND_bytes(msg, sizeof(msg)) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "no random bytes");
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) != 1) {
		rc = tok_err_sign("self-test: cannot sign on the token");
		goto out;
	}
	siglen = TOK_MAX_SIG;
	sig = malloc(siglen);
	if (sig == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = tok_sign_message(priv, md, msg, sizeof(msg), sig, &siglen, "a self-test message",
			      "self-test: signing on the token failed");
	md = NULL; /* taken over */
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "self-test: the token's signature does not verify with the key's "
						"public key (public-key object does not match?)");
		goto out;
	}
	rc = OFFCA_OK;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

offca_rc tok_err_sign(const char *what)
{
	unsigned long e, ckr = 0;
	int lib = ERR_get_CKR_code();

	/* libp11 leaves the token's CK_RV as the reason of an error in its own library */
	while ((e = ERR_peek_error()) != 0) {
		if (ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) != 0)
			ckr = (unsigned long)ERR_GET_REASON(e);
		if (ckr != 0)
			break;
		ERR_get_error();
	}
	if (ckr == 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "%s", what);
	ERR_clear_error();
	if (ckr == CKR_PIN_INCORRECT || ckr == CKR_PIN_LEN_RANGE || ckr == CKR_PIN_INVALID)
		return ut_err(OFFCA_E_PIN_INCORRECT, "%s: the token refused the per-signature PIN (%s); close and "
						     "reopen the key before signing again", what, tok_rv_name(ckr));
	return tok_rv(ckr, what);
}
