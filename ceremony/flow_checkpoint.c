/* flow_checkpoint.c - a ceremony that used the CA home ends by signing its audit head with an
   issuer key it holds open (the ceremony key first): stored in the store and in the transcript. */
#include "ceremony_int.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"

/* The open key holding the issuer's key (its certificate's public key): only when it is `only`
   (the ceremony key), or any open key when only is NULL. NULL if none. */
static tok_key *issuer_key(cer_run_t *r, const ca_issuer *iss, tok_key *only)
{
	const unsigned char *p = iss->der;
	X509 *x = d2i_X509(NULL, &p, (long)iss->der_len);
	EVP_PKEY *pub = x ? X509_get0_pubkey(x) : NULL, *kp;
	tok_key *found = NULL;

	for (size_t i = 0; pub != NULL && found == NULL && i < r->n_keys; i++) {
		tok_key *k = r->keys[i].key;
		if (k == NULL || (only != NULL && k != only))
			continue;
		kp = tok_key_public(k);
		if (kp != NULL && EVP_PKEY_eq(kp, pub) == 1)
			found = k;
	}
	X509_free(x);
	ERR_clear_error();
	return found;
}

offca_rc cer_audit_checkpoint(cer_run_t *r)
{
	ca_issuer *list = NULL;
	tok_key *key = NULL, *ceremony_key;
	const char *name = NULL;
	unsigned char hash[32];
	uint64_t seq = 0;
	size_t n = 0;
	char hex[65];
	offca_rc rc;

	if (r->store == NULL)
		return OFFCA_OK;
	ceremony_key = r->signer_uri[0] ? cer_key_held(r, r->signer_uri) : NULL;
	rc = ca_store_issuer_list(r->store, &list, &n);
	for (int pass = ceremony_key ? 0 : 1; rc == OFFCA_OK && key == NULL && pass < 2; pass++)
		for (size_t i = 0; key == NULL && i < n; i++)
			if ((key = issuer_key(r, &list[i], pass == 0 ? ceremony_key : NULL)) != NULL)
				name = list[i].name;
	if (rc == OFFCA_OK && key == NULL) {
		ca_issuer_list_free(list, n);
		return cer_log(r, "audit-checkpoint", json_pack("{s:s}", "skipped", "no issuer key of the CA home is open"));
	}
	if (rc == OFFCA_OK)
		rc = ca_audit_checkpoint_key(r->store, name, tok_key_private(key), &seq, hash);
	if (rc == OFFCA_OK) {
		for (size_t i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", hash[i]);
		cer_say(r, "Audit log head #%llu (sha256 %s) signed by issuer '%s'.\n", (unsigned long long)seq, hex, name);
		rc = cer_log(r, "audit-checkpoint", json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "sha256", hex,
							    "issuer", name));
	}
	ca_issuer_list_free(list, n);
	return rc;
}
