/*
 * store_chain.c - the issuer chain of a certificate record, certbot's chain.pem rule: the issuing
 * CA certificates nearest first, intermediates only; the root only when it issued the record
 * directly (otherwise the chain would be empty). A self-signed root has no chain.
 */
#include "store_int.h"
#include "offca/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_MAX_DEPTH 16

void ca_der_list_free(unsigned char **ders, size_t *lens, size_t n)
{
	for (size_t i = 0; ders != NULL && i < n; i++)
		free(ders[i]);
	free(ders);
	free(lens);
}

/* Move iss->der onto the end of the list. */
static offca_rc push(ca_issuer *iss, unsigned char **ders, size_t *lens, size_t *n)
{
	ders[*n] = iss->der;
	lens[*n] = iss->der_len;
	iss->der = NULL;
	iss->der_len = 0;
	(*n)++;
	return OFFCA_OK;
}

offca_rc ca_store_chain(ca_store *st, const ca_cert_record *rec, unsigned char ***ders_out, size_t **lens_out,
			size_t *n_out)
{
	unsigned char **ders = calloc(CHAIN_MAX_DEPTH, sizeof(*ders));
	size_t *lens = calloc(CHAIN_MAX_DEPTH, sizeof(*lens)), n = 0;
	ca_issuer iss;
	char name[64];
	offca_rc rc = OFFCA_OK;

	memset(&iss, 0, sizeof(iss));
	if (ders_out == NULL || lens_out == NULL || n_out == NULL || rec == NULL) {
		rc = ut_err(OFFCA_E_USAGE, "ca_store_chain: NULL argument");
		goto out;
	}
	*ders_out = NULL;
	*lens_out = NULL;
	*n_out = 0;
	if (ders == NULL || lens == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(name, sizeof(name), "%s", rec->issuer);
	for (;;) {
		rc = ca_store_issuer_get(st, name, &iss);
		if (rc == OFFCA_E_NOT_FOUND)
			rc = ut_err(OFFCA_E_STATE, "issuer '%s' of this certificate is not in the store", name);
		if (rc != OFFCA_OK)
			goto out;
		if (n == 0 && iss.der_len == rec->der_len && memcmp(iss.der, rec->der, iss.der_len) == 0) {
			rc = ut_err(OFFCA_E_STATE, "%s is a self-signed root: it has no chain", name);
			goto out;
		}
		if (iss.is_root && n > 0)
			break; /* the root stays out unless it issued rec directly */
		push(&iss, ders, lens, &n);
		if (iss.is_root || iss.parent[0] == '\0')
			break;
		if (n >= CHAIN_MAX_DEPTH) {
			rc = ut_err(OFFCA_E_STORE, "issuer chain of %s is longer than %d (loop?)", rec->issuer,
				    CHAIN_MAX_DEPTH);
			goto out;
		}
		snprintf(name, sizeof(name), "%s", iss.parent);
		ca_issuer_clear(&iss);
	}
	*ders_out = ders;
	*lens_out = lens;
	*n_out = n;
	ders = NULL;
	lens = NULL;
	n = 0;
	rc = OFFCA_OK;
out:
	ca_issuer_clear(&iss);
	ca_der_list_free(ders, lens, n);
	return rc;
}
