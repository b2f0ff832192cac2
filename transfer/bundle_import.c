/* bundle_import.c - inbound bundles into the pending CSR queue: all items or none. */
#include "bundle_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/store.h"
#include "offca/util.h"

/* Who signed: an enrolled operator, or nobody (allowed unless require_signed). */
static offca_rc check_signer(const xfr_bundle *b, const xfr_import_opts *o, xfr_import_result *res)
{
	if (b->sig == NULL) {
		if (o->require_signed)
			return ut_err(OFFCA_E_VERIFY, "bundle is not signed and signed bundles are required "
				      "(--require-signed); nothing imported");
		return OFFCA_OK;
	}
	return xfr_operator_match(o->home, xfr_bundle_signer(b), res->signer);
}

offca_rc xfr_pending_dup(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n,
			 size_t *which, uint64_t *id)
{
	offca_rc rc;
	ca_pending *list = NULL;
	size_t np = 0;

	*which = 0;
	*id = 0;
	rc = ca_store_pending_list(st, &list, &np);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		for (size_t j = 0; j < np && rc == OFFCA_OK; j++)
			if (list[j].len == lens[i] && memcmp(list[j].der, ders[i], lens[i]) == 0) {
				*id = list[j].id;
				rc = OFFCA_E_EXISTS;
			}
		for (size_t j = 0; j < i && rc == OFFCA_OK; j++)
			if (lens[j] == lens[i] && memcmp(ders[j], ders[i], lens[i]) == 0)
				rc = OFFCA_E_EXISTS;
		if (rc == OFFCA_E_EXISTS)
			*which = i;
	}
	ca_pending_list_free(list, np);
	return rc;
}

/* Refuse a CSR that is already waiting (a bundle imported twice). */
static offca_rc check_not_pending(ca_store *st, unsigned char **ders, size_t *lens, size_t n,
				  const size_t *item_of, const xfr_bundle *b)
{
	size_t i = 0;
	uint64_t id = 0;
	offca_rc rc;

	rc = xfr_pending_dup(st, (const unsigned char *const *)ders, lens, n, &i, &id);
	if (rc != OFFCA_E_EXISTS)
		return rc;
	if (id != 0)
		return ut_err(OFFCA_E_EXISTS, "bundle item %zu (%s): this CSR is already pending as #%llu; nothing "
			      "imported", item_of[i] + 1, b->items[item_of[i]].name, (unsigned long long)id);
	return ut_err(OFFCA_E_EXISTS, "bundle item %zu (%s): the same CSR appears twice; nothing imported",
		      item_of[i] + 1, b->items[item_of[i]].name);
}

offca_rc xfr_bundle_import(ca_store *st, const xfr_bundle *b, const xfr_import_opts *o, xfr_import_result *res)
{
	offca_rc rc;
	unsigned char *ders[XFR_MAX_ITEMS] = {0};
	size_t lens[XFR_MAX_ITEMS] = {0}, item_of[XFR_MAX_ITEMS] = {0}, n = 0;
	char source[128], hex12[13];

	memset(res, 0, sizeof(*res));
	if (b->dir != XFR_DIR_IN)
		return ut_err(OFFCA_E_POLICY, "bundle is outbound (direction \"out\"); only inbound bundles can "
			      "be imported; nothing imported");
	rc = check_signer(b, o, res);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < b->n_items; i++) {
		if (b->items[i].type != XFR_ITEM_CSR) {
			res->n_skipped++;
			continue;
		}
		rc = xfr_csr_to_der(b->items[i].data, b->items[i].len, &ders[n], &lens[n]);
		if (rc != OFFCA_OK) {
			char prefix[XFR_MAX_NAME + 48];

			snprintf(prefix, sizeof(prefix), "bundle item %zu (%s): ", i + 1, b->items[i].name);
			rc = xfr_err_wrap(rc, prefix, "; nothing imported");
			goto out;
		}
		item_of[n++] = i;
	}
	if (n == 0) {
		rc = ut_err(OFFCA_E_NOT_FOUND, "bundle holds no CSR to import");
		goto out;
	}
	rc = check_not_pending(st, ders, lens, n, item_of, b);
	if (rc != OFFCA_OK)
		goto out;
	for (size_t i = 0; i < 6; i++)
		snprintf(hex12 + 2 * i, 3, "%02x", b->have_digest ? b->digest[i] : 0);
	snprintf(source, sizeof(source), "bundle %s %s%s", hex12, res->signer[0] ? "operator " : "unsigned",
		 res->signer);
	rc = ca_store_pending_add(st, (const unsigned char *const *)ders, lens, n, source, res->ids);
	if (rc != OFFCA_OK)
		goto out;
	res->n_csrs = n;
out:
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(ders[i]);
	return rc;
}
