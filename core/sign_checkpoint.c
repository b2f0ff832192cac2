/* sign_checkpoint.c - the audit head signed with an issuer's token key (ca_store_checkpoint). */
#include "offca/sign.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>

static offca_rc sign_with_key(void *arg, const unsigned char *msg, size_t len, unsigned char **sig, size_t *sig_len)
{
	EVP_PKEY *priv = arg;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *dg;
	unsigned char *out = NULL;
	size_t n = 0;
	offca_rc rc = OFFCA_OK;
	int ok;

	*sig = NULL;
	*sig_len = 0;
	if (md == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	dg = ca_x509_digest_for(priv, &ok);
	ERR_clear_error();
	if (!ok)
		rc = ut_err(OFFCA_E_UNSUPPORTED, "cannot sign with a %s key", OBJ_nid2sn(EVP_PKEY_get_base_id(priv)));
	else if (EVP_DigestSignInit(md, NULL, dg, NULL, priv) != 1 || EVP_DigestSign(md, NULL, &n, msg, len) != 1 ||
		 (out = OPENSSL_malloc(n)) == NULL || EVP_DigestSign(md, out, &n, msg, len) != 1)
		rc = tok_err_sign("signing the audit head failed"); /* names a removed token, a refused PIN */
	EVP_MD_CTX_free(md);
	if (rc != OFFCA_OK) {
		OPENSSL_free(out);
		return rc;
	}
	*sig = out;
	*sig_len = n;
	return OFFCA_OK;
}

offca_rc ca_audit_checkpoint_key(ca_store *st, const char *issuer, EVP_PKEY *priv, uint64_t *seq,
				 unsigned char hash[32])
{
	if (priv == NULL)
		return ut_err(OFFCA_E_STATE, "no signing key to sign the audit head with");
	return ca_store_checkpoint(st, issuer, sign_with_key, priv, seq, hash);
}

offca_rc ca_signer_checkpoint(ca_signer *s, ca_store *st, uint64_t *seq, unsigned char hash[32])
{
	return ca_audit_checkpoint_key(st, s->iss.name, s->priv, seq, hash);
}
