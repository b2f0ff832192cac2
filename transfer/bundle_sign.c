/* bundle_sign.c - signing a bundle's manifest and checking the signature and the signer's chain. */
#include "bundle_int.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "offca/keyref.h"
#include "offca/util.h"
#include "offca/x509.h"

/* The digest for a key: none for EdDSA (pure), SHA-256 for ECDSA and RSA (PKCS#1 v1.5). */
static const EVP_MD *md_for(EVP_PKEY *pub)
{
	if (EVP_PKEY_is_a(pub, "ED25519") || EVP_PKEY_is_a(pub, "ED448"))
		return NULL;
	return EVP_sha256();
}

/* MAGIC || manifest: the signed message (domain-separated from anything else the key signs). */
static unsigned char *signed_message(const unsigned char *manifest, size_t mlen, size_t *len)
{
	unsigned char *m = malloc(XFR_BUNDLE_MAGIC_LEN + mlen);

	if (m == NULL)
		return NULL;
	memcpy(m, XFR_BUNDLE_MAGIC, XFR_BUNDLE_MAGIC_LEN);
	memcpy(m + XFR_BUNDLE_MAGIC_LEN, manifest, mlen);
	*len = XFR_BUNDLE_MAGIC_LEN + mlen;
	return m;
}

static void subject_of(X509 *x, char *buf, size_t cap)
{
	if (ca_x509_name_text(X509_get_subject_name(x), buf, cap) != OFFCA_OK)
		snprintf(buf, cap, "(unprintable subject)");
}

offca_rc xfr_sig_check(X509 *cert, const unsigned char *manifest, size_t mlen, const unsigned char *sig,
		       size_t slen)
{
	offca_rc rc = OFFCA_E_VERIFY;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char *msg = NULL;
	size_t len = 0;

	if (pub == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "bundle signer certificate has no usable public key");
	msg = signed_message(manifest, mlen, &len);
	ctx = EVP_MD_CTX_new();
	if (msg == NULL || ctx == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, md_for(pub), NULL, pub) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot verify with the signer's key type");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, slen, msg, len) != 1) {
		ERR_clear_error();
		rc = ut_err(OFFCA_E_VERIFY, "bundle signature does not verify (manifest modified or wrong signer)");
		goto out;
	}
	rc = OFFCA_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(msg);
	return rc;
}

static offca_rc do_sign(EVP_PKEY *key, const EVP_MD *md, const unsigned char *msg, size_t len,
			unsigned char **sig, size_t *slen)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *s = NULL;
	size_t n = 0;

	*sig = NULL;
	if (ctx == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 || EVP_DigestSign(ctx, NULL, &n, msg, len) != 1) {
		rc = ca_key_err_sign("cannot sign the bundle with this key");
		goto out;
	}
	if (n == 0 || n > XFR_MAX_SIG) {
		rc = ut_err(OFFCA_E_CRYPTO, "signature size %zu is outside 1..%u", n, XFR_MAX_SIG);
		goto out;
	}
	if (EVP_PKEY_get_size(key) > 0 && (size_t)EVP_PKEY_get_size(key) > n)
		n = (size_t)EVP_PKEY_get_size(key);
	s = malloc(n);
	if (s == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = ca_key_sign_message(key, ctx, msg, len, s, &n, "the bundle", "signing the bundle failed");
	ctx = NULL; /* taken over */
	if (rc != OFFCA_OK)
		goto out;
	*sig = s;
	*slen = n;
	s = NULL;
	rc = OFFCA_OK;
out:
	free(s);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static offca_rc push_ref(STACK_OF(X509) *sk, X509 *x)
{
	if (!X509_up_ref(x))
		return ut_err(OFFCA_E_INTERNAL, "X509_up_ref failed");
	if (sk_X509_push(sk, x) <= 0) {
		X509_free(x);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	return OFFCA_OK;
}

offca_rc xfr_bundle_sign(xfr_bundle *b, EVP_PKEY *key, X509 *signer, STACK_OF(X509) *chain)
{
	offca_rc rc;
	STACK_OF(X509) *certs = NULL;
	unsigned char *msg = NULL, *sig = NULL;
	size_t len = 0, slen = 0;
	int nchain = chain != NULL ? sk_X509_num(chain) : 0;

	if (b->sig != NULL)
		return ut_err(OFFCA_E_STATE, "bundle is already signed");
	if (b->n_items == 0)
		return ut_err(OFFCA_E_STATE, "a bundle needs at least one item");
	if ((size_t)nchain + 1 > XFR_MAX_CERTS)
		return ut_err(OFFCA_E_TOO_BIG, "signer chain longer than %u certificates", XFR_MAX_CERTS);
	if (X509_get0_pubkey(signer) == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "signer certificate has no usable public key");
	if (b->manifest == NULL) {
		rc = xfr_manifest_build(b, &b->manifest, &b->manifest_len);
		if (rc != OFFCA_OK)
			return rc;
	}
	msg = signed_message(b->manifest, b->manifest_len, &len);
	certs = sk_X509_new_null();
	if (msg == NULL || certs == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = push_ref(certs, signer);
	for (int i = 0; rc == OFFCA_OK && i < nchain; i++)
		rc = push_ref(certs, sk_X509_value(chain, i));
	if (rc != OFFCA_OK)
		goto out;
	rc = do_sign(key, md_for(X509_get0_pubkey(signer)), msg, len, &sig, &slen);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_sig_check(signer, b->manifest, b->manifest_len, sig, slen);
	if (rc != OFFCA_OK) {
		rc = ut_err(OFFCA_E_VERIFY, "the signer certificate does not match the signing key");
		goto out;
	}
	b->sig = sig;
	b->sig_len = slen;
	b->certs = certs;
	sig = NULL;
	certs = NULL;
out:
	free(msg);
	free(sig);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

offca_rc xfr_bundle_verify_ca(const xfr_bundle *b, STACK_OF(X509) *roots)
{
	offca_rc rc = OFFCA_E_VERIFY;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *signer = xfr_bundle_signer(b);
	char subj[256], root[256];
	int err;

	if (b->sig == NULL || signer == NULL)
		return ut_err(OFFCA_E_VERIFY, "bundle is not signed");
	if (roots == NULL || sk_X509_num(roots) == 0)
		return ut_err(OFFCA_E_USAGE, "no trust root given");
	subject_of(signer, subj, sizeof(subj));
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(roots); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
			rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot use trust root %d", i + 1);
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, store, signer, b->certs) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot set up chain verification");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		subject_of(sk_X509_value(roots, 0), root, sizeof(root));
		rc = ut_err(OFFCA_E_VERIFY, "bundle signer %s does not chain to the given root %s%s (%s)", subj, root,
			    sk_X509_num(roots) > 1 ? " or the others given" : "", X509_verify_cert_error_string(err));
		goto out;
	}
	if (X509_check_ca(signer) <= 0) {
		rc = ut_err(OFFCA_E_VERIFY, "bundle signer %s is not a CA certificate", subj);
		goto out;
	}
	rc = OFFCA_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}
