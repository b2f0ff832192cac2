/*
 * x509_keyctx.c - signing and checking many certificates with one issuer key, the contexts set
 * up once.
 *
 * X509_sign() and X509_verify() fetch the digest and build a fresh key context for every
 * certificate (about 10 us of a 70 us operation with OpenSSL 3.0). Here the signing context is
 * initialised once and copied for each certificate (X509_sign_ctx() then encodes the TBS and
 * fills both signature algorithm fields exactly as X509_sign() would); the check hashes the
 * certificate's TBS encoding with a digest fetched once and verifies on a kept public-key
 * context. Key types without a separate digest (Ed25519) are checked with X509_verify().
 */
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

struct ca_x509_keyctx {
	EVP_PKEY *priv;        /* NULL when checking only */
	EVP_PKEY *pub;
	EVP_MD_CTX *sign_tmpl; /* initialised for priv; NULL when checking only */
	EVP_MD *md;            /* fetched once; NULL: no separate digest (Ed25519) */
	EVP_PKEY_CTX *vctx;    /* verify context on pub (NULL with md == NULL) */
	int sig_nid;           /* the signature algorithm priv produces (checked on verify) */
};

void ca_x509_keyctx_free(ca_x509_keyctx *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->sign_tmpl);
	EVP_MD_free(k->md);
	EVP_PKEY_CTX_free(k->vctx);
	free(k);
}

offca_rc ca_x509_keyctx_new(EVP_PKEY *priv, EVP_PKEY *pub, ca_x509_keyctx **out)
{
	ca_x509_keyctx *k;
	const EVP_MD *md;
	offca_rc rc = OFFCA_E_CRYPTO;
	int ok, base = EVP_PKEY_get_base_id(pub);

	*out = NULL;
	md = ca_x509_digest_for(pub, &ok);
	if (!ok)
		return ut_err(OFFCA_E_UNSUPPORTED, "cannot sign with a %s key", OBJ_nid2sn(base));
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	k->pub = pub;
	k->priv = priv;
	ERR_clear_error();
	if (md != NULL) {
		if ((k->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(md), NULL)) == NULL ||
		    !OBJ_find_sigid_by_algs(&k->sig_nid, EVP_MD_get_type(md), base) ||
		    (k->vctx = EVP_PKEY_CTX_new(pub, NULL)) == NULL || EVP_PKEY_verify_init(k->vctx) <= 0 ||
		    (base == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(k->vctx, RSA_PKCS1_PADDING) <= 0) ||
		    EVP_PKEY_CTX_set_signature_md(k->vctx, k->md) <= 0) {
			rc = ut_err_ssl(OFFCA_E_CRYPTO, "preparing the check of new signatures");
			goto out;
		}
	}
	if (priv != NULL) {
		/* the same digest X509_sign() would use for priv (ca_x509_digest_for) */
		if ((k->sign_tmpl = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(k->sign_tmpl, NULL, k->md, NULL, priv) != 1) {
			rc = tok_err_sign("preparing to sign certificates");
			goto out;
		}
	}
	*out = k;
	k = NULL;
	rc = OFFCA_OK;
out:
	ca_x509_keyctx_free(k);
	return rc;
}

/* One signature as an operation of its own (tok_sign_guard): its context, a reference to cert. */
struct ksign {
	X509 *cert;
	EVP_MD_CTX *c;
};

static offca_rc ksign_run(void *p)
{
	struct ksign *a = p;

	ERR_clear_error();
	if (X509_sign_ctx(a->cert, a->c) <= 0)
		return tok_err_sign("signing the certificate failed"); /* names a removed token, a refused PIN */
	return OFFCA_OK;
}

static void ksign_free(void *p, int in_time)
{
	struct ksign *a = p;

	EVP_MD_CTX_free(a->c);
	X509_free(a->cert);
	free(a);
}

offca_rc ca_x509_keyctx_sign(ca_x509_keyctx *k, X509 *cert)
{
	struct ksign a = {cert, NULL}, *op;
	char what[384] = "";
	offca_rc rc;

	if (k->sign_tmpl == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_x509_keyctx_sign: no signing key");
	ERR_clear_error();
	if ((a.c = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(a.c, k->sign_tmpl) != 1) {
		EVP_MD_CTX_free(a.c);
		return ut_err_ssl(OFFCA_E_CRYPTO, "copying the signing context");
	}
	if (!tok_touch_wanted(k->priv)) { /* the fast path of big batches: no allocation, no thread */
		rc = ksign_run(&a);
		EVP_MD_CTX_free(a.c);
		return rc;
	}
	/* the guarded path: the operation holds its own context and certificate reference */
	ca_x509_sign_what(cert, what, sizeof(what));
	if ((op = malloc(sizeof(*op))) == NULL || X509_up_ref(cert) != 1) {
		free(op);
		EVP_MD_CTX_free(a.c);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	*op = a;
	return tok_sign_guard(k->priv, what, ksign_run, ksign_free, op);
}

offca_rc ca_x509_keyctx_verify(ca_x509_keyctx *k, X509 *cert)
{
	const ASN1_BIT_STRING *sig = NULL;
	unsigned char *tbs = NULL, h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	int tl, ok = 0;

	if (k->md == NULL)
		return ca_x509_verify(cert, k->pub);
	ERR_clear_error();
	X509_get0_signature(&sig, NULL, cert);
	if (X509_get_signature_nid(cert) != k->sig_nid || sig == NULL || (sig->flags & 0x07) != 0)
		return ut_err(OFFCA_E_VERIFY, "the new certificate's signature algorithm is not the issuer key's");
	tl = i2d_re_X509_tbs(cert, &tbs); /* encoded again: the bytes i2d_X509() will emit */
	if (tl > 0 && EVP_Digest(tbs, (size_t)tl, h, &hl, k->md, NULL) == 1)
		ok = EVP_PKEY_verify(k->vctx, sig->data, (size_t)sig->length, h, hl) == 1;
	OPENSSL_free(tbs);
	if (!ok)
		return ut_err_ssl(OFFCA_E_VERIFY, "the new certificate's signature does not verify with the "
						  "issuer's public key");
	return OFFCA_OK;
}
