/* inv_cms.c - the detached CMS signature of the visibility export (openssl cms -verify checks it):
 * SignedData over a file's bytes, signed through the token's touch guard like every signature. */
#include "inv_int.h"
#include "offca/token.h"
#include "offca/util.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#define CMS_FLAGS (CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP)

/* One CMS_final as an operation of its own (tok_sign_guard): it holds its references. */
struct csign {
	CMS_ContentInfo *cms;
	BIO *data;
	int ok;
	unsigned char **der; /* the caller's, written only in time */
	size_t *len;
	offca_rc rc;
};

static offca_rc csign_run(void *p)
{
	struct csign *a = p;

	ERR_clear_error();
	if (CMS_final(a->cms, a->data, NULL, CMS_FLAGS) != 1)
		return tok_err_sign("signing the inventory export failed");
	a->ok = 1;
	return OFFCA_OK;
}

static void csign_finish(void *p, int in_time)
{
	struct csign *a = p;
	unsigned char *der = NULL;
	int n;

	if (in_time && a->ok) {
		n = i2d_CMS_ContentInfo(a->cms, &der);
		if (n > 0) {
			*a->der = der;
			*a->len = (size_t)n;
		}
	}
	CMS_ContentInfo_free(a->cms);
	BIO_free(a->data);
	free(a);
}

/* The signature over path verifies with signer's key (catches a key that is not signer's). */
static offca_rc check(const char *path, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	BIO *data = BIO_new_file(path, "rb");
	offca_rc rc = OFFCA_OK;

	ERR_clear_error();
	if (cms == NULL || data == NULL ||
	    CMS_verify(cms, NULL, NULL, data, NULL, CMS_FLAGS | CMS_NO_SIGNER_CERT_VERIFY) != 1)
		rc = ut_err_ssl(OFFCA_E_VERIFY, "the export's signature does not verify with the signer certificate "
			       "(is the key the certificate's?)");
	CMS_ContentInfo_free(cms);
	BIO_free(data);
	return rc;
}

offca_rc inv_cms_sign_file(const char *path, EVP_PKEY *key, X509 *signer, STACK_OF(X509) *chain,
			   unsigned char **der, size_t *len)
{
	struct csign *a = calloc(1, sizeof(*a));
	offca_rc rc;

	*der = NULL;
	*len = 0;
	if (a == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	ERR_clear_error();
	if (X509_check_private_key(signer, key) != 1) {
		free(a);
		return ut_err(OFFCA_E_VERIFY, "the signing key is not the key of the signer certificate");
	}
	a->cms = CMS_sign(signer, key, NULL, NULL, CMS_FLAGS | CMS_PARTIAL);
	a->data = BIO_new_file(path, "rb");
	for (int i = 0; a->cms != NULL && chain != NULL && i < sk_X509_num(chain); i++)
		if (CMS_add1_cert(a->cms, sk_X509_value(chain, i)) != 1) {
			CMS_ContentInfo_free(a->cms);
			a->cms = NULL;
		}
	if (a->cms == NULL || a->data == NULL) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot set up the export's CMS signature");
		csign_finish(a, 0);
		return rc;
	}
	a->der = der;
	a->len = len;
	rc = tok_sign_guard(key, "the inventory export", csign_run, csign_finish, a);
	if (rc == OFFCA_OK && *der == NULL)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the export's CMS signature");
	if (rc == OFFCA_OK)
		rc = check(path, *der, *len);
	if (rc != OFFCA_OK) {
		OPENSSL_free(*der);
		*der = NULL;
		*len = 0;
	}
	return rc;
}
