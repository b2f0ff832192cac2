/*
 * ag_relay_open.c - open and check one relay object (docs/formats.md, "Relay object"): the outer
 * AuthEnvelopedData must open with the endpoint's key (AES-GCM: any changed byte fails the tag),
 * the inner SignedData must verify to the pinned root with a CA certificate as signer that issued
 * the delivered certificate, the content must name this endpoint and hold a certificate for its
 * key (or for the key it delivers) that chains to the root. Nothing is written here.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ag_relay.h"
#include "offca/publish.h"
#include "offca/util.h"

void ag_relay_obj_clear(ag_relay_obj *o)
{
	ag_issued_clear(&o->is);
	EVP_PKEY_free(o->key);
	memset(o, 0, sizeof(*o));
}

static offca_rc bio_take(BIO *b, unsigned char **out, size_t *len)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);

	*out = n > 0 ? malloc((size_t)n) : NULL;
	if (*out == NULL)
		return ut_err(OFFCA_E_VERIFY, "the relay object is empty inside");
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return OFFCA_OK;
}

/* the SignedData inside, decrypted with key: no certificate named, since the object goes to the
   endpoint's newest certificate for that key, which may not be the installed one yet */
static offca_rc decrypt(const unsigned char *obj, size_t len, EVP_PKEY *key, unsigned char **sd,
			size_t *sdlen)
{
	const unsigned char *p = obj;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	BIO *out = BIO_new(BIO_s_mem());
	offca_rc rc = OFFCA_OK;

	ERR_clear_error();
	if (cms == NULL || p != obj + len)
		rc = ut_err(OFFCA_E_VERIFY, "the relay's answer is not a CMS object (garbage or a damaged object)");
	else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_id_smime_ct_authEnvelopedData)
		rc = ut_err(OFFCA_E_VERIFY, "the relay object is not CMS AuthEnvelopedData");
	else if (out == NULL || CMS_decrypt(cms, key, NULL, NULL, out, CMS_BINARY) != 1)
		rc = ut_err_ssl(OFFCA_E_VERIFY, "the relay object does not decrypt with this endpoint's key (encrypted "
						"to another endpoint, or altered)");
	if (rc == OFFCA_OK)
		rc = bio_take(out, sd, sdlen);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	return rc;
}

/* verify the SignedData to root; *signer (a CA certificate) and the content */
static offca_rc verify_sd(const unsigned char *sd, size_t len, X509 *root, X509 **signer, unsigned char **ct,
			  size_t *ctlen)
{
	const unsigned char *p = sd;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	X509_STORE *st = X509_STORE_new();
	BIO *out = BIO_new(BIO_s_mem());
	STACK_OF(X509) *signers = NULL;
	offca_rc rc = OFFCA_OK;

	ERR_clear_error();
	if (cms == NULL || p != sd + len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data)
		rc = ut_err(OFFCA_E_VERIFY, "the relay object does not hold CMS SignedData of data");
	else if (st == NULL || out == NULL || !X509_STORE_add_cert(st, root) || !X509_STORE_set_purpose(st, X509_PURPOSE_ANY))
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	else if (CMS_verify(cms, NULL, st, NULL, out, CMS_BINARY) != 1)
		rc = ut_err_ssl(OFFCA_E_VERIFY, "the relay object's signature does not verify to the pinned root "
						"(signed by another CA, or altered)");
	else if ((signers = CMS_get0_signers(cms)) == NULL || sk_X509_num(signers) != 1)
		rc = ut_err(OFFCA_E_VERIFY, "the relay object has %d signers, not one", signers ? sk_X509_num(signers) : 0);
	else if (X509_check_ca(sk_X509_value(signers, 0)) <= 0)
		rc = ut_err(OFFCA_E_VERIFY, "the relay object is signed by a certificate that is not a CA");
	if (rc == OFFCA_OK && (rc = bio_take(out, ct, ctlen)) == OFFCA_OK) {
		*signer = sk_X509_value(signers, 0);
		X509_up_ref(*signer);
	}
	sk_X509_free(signers);
	BIO_free(out);
	X509_STORE_free(st);
	CMS_ContentInfo_free(cms);
	return rc;
}

static offca_rc check_content(ca_pub_content *c, EVP_PKEY *key, X509 *signer, X509 *root,
			      const unsigned char endpoint[32], ag_relay_obj *out)
{
	EVP_PKEY *want = c->key != NULL ? c->key : key;
	offca_rc rc;

	if (memcmp(c->endpoint, endpoint, 32) != 0)
		return ut_err(OFFCA_E_VERIFY, "the relay object is meant for another endpoint");
	if (EVP_PKEY_eq(X509_get0_pubkey(c->cert), want) != 1)
		return ut_err(OFFCA_E_VERIFY, "the delivered certificate is not for %s",
			      c->key != NULL ? "the delivered key" : "this endpoint's key");
	if (X509_check_issued(signer, c->cert) != X509_V_OK)
		return ut_err(OFFCA_E_VERIFY, "the relay object is not signed by the certificate's issuer");
	if ((rc = ag_chain_to_root(c->cert, c->chain, root, &out->is.inter)) != OFFCA_OK)
		return rc;
	out->is.leaf = c->cert;
	out->key = c->key;
	out->seq = (unsigned long long)c->sequence;
	c->cert = NULL;
	c->key = NULL;
	return OFFCA_OK;
}

offca_rc ag_relay_open(const unsigned char *obj, size_t len, EVP_PKEY *key, EVP_PKEY *pub, X509 *root,
		       const unsigned char endpoint[32], ag_relay_obj *out)
{
	unsigned char *sd = NULL, *ct = NULL;
	size_t sdlen = 0, ctlen = 0;
	X509 *signer = NULL;
	ca_pub_content c;
	offca_rc rc = decrypt(obj, len, key, &sd, &sdlen);

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (rc == OFFCA_OK)
		rc = verify_sd(sd, sdlen, root, &signer, &ct, &ctlen);
	if (rc == OFFCA_OK && (rc = ca_pub_content_decode(ct, ctlen, &c)) != OFFCA_OK)
		rc = ut_err(OFFCA_E_VERIFY, "%s", ut_err_msg());
	if (rc == OFFCA_OK)
		rc = check_content(&c, pub, signer, root, endpoint, out);
	if (rc != OFFCA_OK)
		ag_relay_obj_clear(out);
	ca_pub_content_clear(&c);
	X509_free(signer);
	if (sd != NULL)
		OPENSSL_cleanse(sd, sdlen);
	if (ct != NULL)
		OPENSSL_cleanse(ct, ctlen);
	free(sd);
	free(ct);
	return rc;
}
