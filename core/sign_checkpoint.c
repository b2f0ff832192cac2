/* sign_checkpoint.c - the audit head signed with an issuer's token key (ca_store_checkpoint). */
#include "offca/sign.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>

/* The head is signed through tok_sign_message (tok_sign_guard): a key that needs a touch announces
 * "the audit checkpoint" like every other signature, and a missing touch times out the same way. */
static offca_rc sign_with_key(void *arg, const unsigned char *msg, size_t len, unsigned char **sig, size_t *sig_len)
{
	EVP_PKEY *priv = arg;
	EVP_MD_CTX *md = NULL;
	const EVP_MD *dg;
	unsigned char *out = NULL;
	size_t n = 0;
	offca_rc rc;
	int ok;

	*sig = NULL;
	*sig_len = 0;
	dg = ca_x509_digest_for(priv, &ok);
	ERR_clear_error();
	if (!ok)
		return ut_err(OFFCA_E_UNSUPPORTED, "cannot sign with a %s key", OBJ_nid2sn(EVP_PKEY_get_base_id(priv)));
	n = (size_t)EVP_PKEY_get_size(priv);
	if ((md = EVP_MD_CTX_new()) == NULL || (out = OPENSSL_malloc(n)) == NULL) {
		EVP_MD_CTX_free(md);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if (EVP_DigestSignInit(md, NULL, dg, NULL, priv) != 1) {
		EVP_MD_CTX_free(md);
		OPENSSL_free(out);
		return tok_err_sign("signing the audit head failed");
	}
	/* md is taken over in every case */
	rc = tok_sign_message(priv, md, msg, len, out, &n, "the audit checkpoint (the audit log's head)",
			      "signing the audit head failed");
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
