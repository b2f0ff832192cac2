/* flow_checkpoint.c - a ceremony that used the CA home ends by signing its audit head with an
   issuer key it holds open (the ceremony key first): stored in the store and in the transcript. */
#include "ceremony_int.h"

#include <jansson.h>
#include <string.h>

#include "offca/keyref.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"

/* The open key slot of an issuer (pass 0: only the ceremony key's slot), or NULL. */
static cer_keyslot *issuer_slot(cer_run_t *r, const ca_issuer *iss, int pass)
{
	if (iss->key_uri[0] == '\0')
		return NULL;
	for (size_t i = 0; i < r->n_keys; i++) {
		cer_keyslot *k = &r->keys[i];
		if (k->key == NULL || (pass == 0 && strcmp(k->uri, r->signer_uri) != 0))
			continue;
		if (ca_key_uri_matches(iss->key_uri, k->uri) == OFFCA_OK)
			return k;
	}
	return NULL;
}

offca_rc cer_audit_checkpoint(cer_run_t *r)
{
	ca_issuer *list = NULL;
	cer_keyslot *slot = NULL;
	const char *name = NULL;
	unsigned char hash[32];
	uint64_t seq = 0;
	size_t n = 0;
	char hex[65];
	offca_rc rc;

	if (r->store == NULL)
		return OFFCA_OK;
	rc = ca_store_issuer_list(r->store, &list, &n);
	for (int pass = 0; rc == OFFCA_OK && slot == NULL && pass < 2; pass++)
		for (size_t i = 0; slot == NULL && i < n; i++)
			if ((slot = issuer_slot(r, &list[i], pass)) != NULL)
				name = list[i].name;
	if (rc == OFFCA_OK && slot == NULL) {
		ca_issuer_list_free(list, n);
		return cer_log(r, "audit-checkpoint", json_pack("{s:s}", "skipped", "no issuer key of the CA home is open"));
	}
	if (rc == OFFCA_OK)
		rc = ca_audit_checkpoint_key(r->store, name, tok_key_private(slot->key), &seq, hash);
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
