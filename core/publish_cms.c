/*
 * publish_cms.c - a relay object: CMS SignedData by the issuer (its token key, through the touch
 * guard like every CA signature), inside CMS AuthEnvelopedData (AES-256-GCM) to the endpoint's
 * certificate: ECDH (RFC 5753: dhSinglePass-stdDH-sha256kdf-scheme, AES-256 key wrap) for
 * EC, RSAES-OAEP (SHA-256, MGF1-SHA-256) for RSA. OpenSSL's CMS builds every byte.
 */
#include "offca/publish.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the signing step as an operation of its own (tok_sign_guard): it owns everything it touches */
struct psign {
	CMS_ContentInfo *cms;
	BIO *in;
	unsigned char *der;
	int len;
	unsigned char **out;
	size_t *olen;
};

static offca_rc psign_run(void *p)
{
	struct psign *a = p;

	ERR_clear_error();
	if (CMS_final(a->cms, a->in, NULL, CMS_BINARY) != 1)
		return tok_err_sign("signing the relay object failed");
	if ((a->len = i2d_CMS_ContentInfo(a->cms, &a->der)) <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the signed relay content");
	return OFFCA_OK;
}

static void psign_finish(void *p, int in_time)
{
	struct psign *a = p;

	if (in_time && a->der != NULL) {
		*a->out = a->der;
		*a->olen = (size_t)a->len;
		a->der = NULL;
	}
	OPENSSL_clear_free(a->der, a->len > 0 ? (size_t)a->len : 0);
	CMS_ContentInfo_free(a->cms);
	BIO_free(a->in);
	free(a);
}

static offca_rc sign_content(const unsigned char *content, size_t clen, X509 *signer, EVP_PKEY *priv,
			     STACK_OF(X509) *chain, const char *what, unsigned char **out, size_t *olen)
{
	struct psign *a = calloc(1, sizeof(*a));
	const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;

	if (a == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	a->out = out;
	a->olen = olen;
	a->in = BIO_new_mem_buf(content, (int)clen);
	a->cms = a->in != NULL ? CMS_sign(signer, priv, chain, NULL, flags) : NULL;
	if (a->cms == NULL) {
		psign_finish(a, 0);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot set up the relay object's SignedData");
	}
	return tok_sign_guard(priv, what, psign_run, psign_finish, a);
}

static offca_rc set_oaep(CMS_RecipientInfo *ri)
{
	EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);

	if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot select RSA-OAEP for the endpoint");
	return OFFCA_OK;
}

/* the ECDH KDF: dhSinglePass-stdDH-sha256kdf-scheme (OpenSSL's default would be SHA-1) */
static offca_rc set_kdf(CMS_RecipientInfo *ri)
{
	EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);

	if (pctx == NULL || EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot select the SHA-256 KDF for the endpoint");
	return OFFCA_OK;
}

static offca_rc envelope(const unsigned char *data, size_t len, X509 *recipient, unsigned char **out, size_t *olen)
{
	CMS_ContentInfo *cms = CMS_AuthEnvelopedData_create(EVP_aes_256_gcm());
	EVP_PKEY *pk = X509_get0_pubkey(recipient);
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_RecipientInfo *ri = NULL;
	unsigned char *der = NULL;
	int n = -1;
	offca_rc rc = OFFCA_OK;

	if (pk == NULL || (!EVP_PKEY_is_a(pk, "EC") && !EVP_PKEY_is_a(pk, "RSA")))
		rc = ut_err(OFFCA_E_UNSUPPORTED, "relay objects go to EC or RSA endpoint keys only");
	else if (cms == NULL || in == NULL || CMS_set_detached(cms, 0) != 1 ||
		 (ri = CMS_add1_recipient_cert(cms, recipient, CMS_KEY_PARAM | CMS_BINARY)) == NULL)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot set up the relay object's AuthEnvelopedData");
	if (rc == OFFCA_OK && EVP_PKEY_is_a(pk, "RSA"))
		rc = set_oaep(ri);
	else if (rc == OFFCA_OK)
		rc = set_kdf(ri);
	if (rc == OFFCA_OK && CMS_final(cms, in, NULL, CMS_BINARY) != 1)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encrypt the relay object");
	if (rc == OFFCA_OK && (n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the relay object");
	if (rc == OFFCA_OK) {
		*out = der;
		*olen = (size_t)n;
	}
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}

offca_rc ca_pub_seal(const unsigned char *content, size_t clen, X509 *signer, EVP_PKEY *priv,
		     STACK_OF(X509) *chain, X509 *recipient, unsigned char **out, size_t *olen)
{
	unsigned char *sd = NULL;
	size_t sdlen = 0;
	char what[400] = "a relay object", subj[300] = "";
	offca_rc rc;

	if (tok_touch_wanted(priv) && ca_x509_name_text(X509_get_subject_name(recipient), subj, sizeof(subj)) == OFFCA_OK)
		snprintf(what, sizeof(what), "the relay object for %s", subj[0] ? subj : "(empty subject)");
	rc = sign_content(content, clen, signer, priv, chain, what, &sd, &sdlen);

	if (rc != OFFCA_OK)
		return rc;
	rc = envelope(sd, sdlen, recipient, out, olen);
	OPENSSL_clear_free(sd, sdlen); /* may hold a delivered key */
	return rc;
}
