/* transcript_sig.c - signatures over the transcript's chain head (software or token keys). */
#include "transcript_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "offca/keyref.h"
#include "offca/token.h"
#include "offca/util.h"

const char *cer_tr_alg_for_key(const EVP_PKEY *pub, const EVP_MD **md)
{
	*md = NULL;
	if (EVP_PKEY_is_a(pub, "EC")) {
		if (EVP_PKEY_get_bits(pub) >= 384) {
			*md = EVP_sha384();
			return "ecdsa-sha384";
		}
		*md = EVP_sha256();
		return "ecdsa-sha256";
	}
	if (EVP_PKEY_is_a(pub, "RSA")) {
		*md = EVP_sha256();
		return "rsa-pkcs1-sha256";
	}
	if (EVP_PKEY_is_a(pub, "ED25519"))
		return "ed25519";
	return NULL;
}

/* "offca-transcript-head:" + 64 hex digits, into buf (at least 96 bytes). */
static size_t head_message(const unsigned char head[32], char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(CER_TR_SIG_CTX), i;

	if (cap < n + 65)
		return 0;
	memcpy(buf, CER_TR_SIG_CTX, n);
	for (i = 0; i < 32; i++) {
		buf[n + 2 * i] = digits[head[i] >> 4];
		buf[n + 2 * i + 1] = digits[head[i] & 0xf];
	}
	buf[n + 64] = '\0';
	return n + 64;
}

offca_rc cer_tr_sig_check(EVP_PKEY *pub, const char *alg, const unsigned char head[32],
			  const unsigned char *sig, size_t siglen)
{
	offca_rc rc = OFFCA_E_VERIFY;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	const char *want;
	char msg[128];
	size_t mlen;

	want = cer_tr_alg_for_key(pub, &md);
	if (want == NULL || alg == NULL || strcmp(want, alg) != 0)
		return ut_err(OFFCA_E_VERIFY, "algorithm %s does not fit the signer's key", alg ? alg : "(none)");
	mlen = head_message(head, msg, sizeof(msg));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "cannot set up signature verification");
		goto out;
	}
	if (EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "cannot select RSA PKCS#1 v1.5");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, mlen) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "signature does not verify");
		goto out;
	}
	rc = OFFCA_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

offca_rc cer_tr_spki(EVP_PKEY *key, char **pem, unsigned char fpr[32])
{
	offca_rc rc = OFFCA_E_CRYPTO;
	unsigned char *der = NULL;
	unsigned int n = 0;
	BIO *bio = NULL;
	char *p = NULL;
	long blen;
	int dlen;

	*pem = NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the public key");
		goto out;
	}
	blen = BIO_get_mem_data(bio, &p);
	dlen = i2d_PUBKEY(key, &der);
	if (blen <= 0 || dlen <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the public key");
		goto out;
	}
	if (EVP_Digest(der, (size_t)dlen, fpr, &n, EVP_sha256(), NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	*pem = strndup(p, (size_t)blen);
	if (*pem == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = OFFCA_OK;
out:
	OPENSSL_free(der);
	BIO_free(bio);
	return rc;
}

static offca_rc cert_pem(X509 *cert, char **out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	*out = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
		BIO_free(bio);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the signer's certificate");
	}
	n = BIO_get_mem_data(bio, &p);
	if (n > 0)
		*out = strndup(p, (size_t)n);
	BIO_free(bio);
	return *out != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
}

static offca_rc sign_head(EVP_PKEY *priv, EVP_PKEY *pub, const unsigned char head[32],
			  unsigned char *sig, size_t *siglen)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;
	char msg[128];
	size_t mlen, need = 0;

	if (cer_tr_alg_for_key(pub, &md) == NULL)
		return ut_err(OFFCA_E_USAGE, "transcript signature: unsupported key type");
	mlen = head_message(head, msg, sizeof(msg));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, priv) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "transcript signature: cannot use the signing key");
		goto out;
	}
	if (EVP_PKEY_is_a(pub, "RSA") && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "transcript signature: cannot select RSA PKCS#1 v1.5");
		goto out;
	}
	if (EVP_DigestSign(ctx, NULL, &need, (const unsigned char *)msg, mlen) != 1 || need > *siglen) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "transcript signature: cannot size the signature");
		goto out;
	}
	rc = tok_sign_message(priv, ctx, msg, mlen, sig, siglen, "the transcript's final hash", "transcript signature");
	ctx = NULL; /* taken over */
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

offca_rc cer_transcript_sign(cer_transcript *t, const char *signer, EVP_PKEY *priv, EVP_PKEY *pub, X509 *cert)
{
	offca_rc rc = OFFCA_E_NOMEM;
	unsigned char head[32], fpr[32], sig[CER_TR_MAX_SIG];
	unsigned char b64[4 * ((CER_TR_MAX_SIG + 2) / 3) + 1];
	size_t siglen = sizeof(sig);
	char *spki = NULL, *certpem = NULL, *fhex = NULL, *hhex = NULL;
	const EVP_MD *md = NULL;
	const char *alg;
	json_t *data = NULL;
	offca_rc vrc;

	if (t == NULL || signer == NULL || *signer == '\0' || priv == NULL || pub == NULL)
		return ut_err(OFFCA_E_USAGE, "transcript signature: handle, signer, private and public key required");
	if (strlen(signer) > CER_TRANSCRIPT_MAX_NAME)
		return ut_err(OFFCA_E_USAGE, "transcript signature: signer name too long");
	alg = cer_tr_alg_for_key(pub, &md);
	if (alg == NULL)
		return ut_err(OFFCA_E_USAGE, "transcript signature: %s's key type is not supported", signer);
	if (cert != NULL && EVP_PKEY_eq(X509_get0_pubkey(cert), pub) != 1)
		return ut_err(OFFCA_E_USAGE, "transcript signature: %s's certificate is for another key", signer);
	cer_transcript_head(t, head);
	rc = sign_head(priv, pub, head, sig, &siglen);
	if (rc != OFFCA_OK)
		goto out;
	vrc = cer_tr_sig_check(pub, alg, head, sig, siglen);
	if (vrc != OFFCA_OK) {
		rc = ut_err(OFFCA_E_VERIFY, "transcript signature by %s does not verify with its public key "
			    "(wrong key?)", signer);
		goto out;
	}
	rc = cer_tr_spki(pub, &spki, fpr);
	if (rc != OFFCA_OK)
		goto out;
	if (cert != NULL) {
		rc = cert_pem(cert, &certpem);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = OFFCA_E_NOMEM;
	fhex = ut_hex(fpr, 32);
	hhex = ut_hex(head, 32);
	if (fhex == NULL || hhex == NULL || EVP_EncodeBlock(b64, sig, (int)siglen) <= 0)
		goto out;
	data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "signer", signer, "algorithm", alg, "spki", spki,
			 "key_sha256", fhex, "signed_head", hhex, "signature", (const char *)b64);
	if (data == NULL) {
		rc = ut_err(OFFCA_E_USAGE, "transcript signature: signer name is not valid UTF-8");
		goto out;
	}
	if (certpem != NULL && json_object_set_new(data, "cert", json_string(certpem)) != 0)
		goto out;
	rc = cer_tr_append_signature(t, data);
out:
	if (rc == OFFCA_E_NOMEM && ut_err_last() != OFFCA_E_NOMEM)
		ut_err(OFFCA_E_NOMEM, "transcript signature: out of memory");
	json_decref(data);
	free(spki);
	free(certpem);
	free(fhex);
	free(hhex);
	return rc;
}
