/*
 * export_p12.c - PKCS#12 for any certificate of the store: the certificate, its chain and the
 * root as certificate bags that Java trusts (Oracle's trusted-key-usage attribute, the one
 * `openssl pkcs12 -export -jdktrust anyExtendedKeyUsage` writes in OpenSSL 3.2+). Never a key: the
 * store holds none (a generated key's PKCS#12 is written by `offca issue` when it is made).
 * Algorithms as offca/pkcs12.h says.
 */
#include "offca/export.h"
#include "offca/pkcs12.h"
#include "offca/util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <string.h>

#define OID_JDK_TRUST "2.16.840.1.113894.746875.1.1" /* oracle-jdk-trustedkeyusage */
#define OID_ANY_EKU   "2.5.29.37.0"

/* Every certificate of a PEM buffer as a trusted certificate bag. */
static offca_rc add_certs(STACK_OF(PKCS12_SAFEBAG) **bags, const ca_export_buf *pem, const char *alias,
			  ASN1_OBJECT *any)
{
	BIO *b = BIO_new_mem_buf(pem->p, (int)pem->len);
	X509 *x;
	offca_rc rc = OFFCA_OK;
	int k = 0;

	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	while (rc == OFFCA_OK && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		PKCS12_SAFEBAG *bag = PKCS12_add_cert(bags, x);
		char name[96];
		snprintf(name, sizeof(name), k == 0 ? "%s" : "%s-%d", alias, k);
		if (bag == NULL || PKCS12_add_friendlyname_asc(bag, name, -1) != 1 ||
		    PKCS12_add1_attr_by_txt(bag, OID_JDK_TRUST, V_ASN1_OBJECT, (const unsigned char *)any, -1) != 1)
			rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build a PKCS#12 certificate bag");
		X509_free(x);
		k++;
	}
	ERR_clear_error(); /* the end of the PEM text */
	BIO_free(b);
	return rc;
}

offca_rc ca_export_p12(const ca_export_item *it, const char *pass, int legacy, unsigned char **der, size_t *len)
{
	STACK_OF(PKCS12_SAFEBAG) *certs = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	ASN1_OBJECT *any = OBJ_txt2obj(OID_ANY_EKU, 1);
	PKCS12 *p12 = NULL;
	int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
	int iter = legacy ? CA_PKCS12_LEGACY_ITER : CA_PKCS12_ITER, n;
	offca_rc rc;

	*der = NULL;
	*len = 0;
	if (pass == NULL || strlen(pass) < CA_PKCS12_MIN_PASS) {
		ASN1_OBJECT_free(any);
		return ut_err(OFFCA_E_USAGE, "the PKCS#12 passphrase must have at least %d characters", CA_PKCS12_MIN_PASS);
	}
	if (any == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = add_certs(&certs, &it->fullchain, it->name, any)) != OFFCA_OK ||
	    (rc = add_certs(&certs, &it->root, "root", any)) != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	if (PKCS12_add_safe(&safes, certs, nid, iter, pass) != 1 ||
	    (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
	    PKCS12_set_mac(p12, pass, -1, NULL, 0, iter, legacy ? EVP_sha1() : EVP_sha256()) != 1 ||
	    (n = i2d_PKCS12(p12, der)) <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the PKCS#12");
		goto out;
	}
	*len = (size_t)n;
	rc = OFFCA_OK;
out:
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
	ASN1_OBJECT_free(any);
	return rc;
}
