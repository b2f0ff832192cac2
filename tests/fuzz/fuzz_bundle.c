/*
 * fuzz_bundle.c - a USB bundle file image (docs/bundles.md) from an untrusted stick.
 *
 * Parses the bytes with xfr_bundle_parse() (magic, sections, manifest JSON, item hashes, embedded
 * signature); on success does what import/extract/inspect do next: every accessor, each item's
 * content check (xfr_item_check, xfr_csr_to_der for CSR items), the chain check against the
 * bundle's own last certificate as root, and a serialize round trip that must give back the very
 * same bytes (the format is canonical). Nothing is written to disk.
 *
 * FUZZ_MAX_LEN 32768 (the seeds are up to ~31 KiB: the oversize-manifest case)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "offca/bundle.h"
#include "offca/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_items(const xfr_bundle *b)
{
	for (size_t i = 0; i < xfr_bundle_count(b); i++) {
		const xfr_item *it = xfr_bundle_item(b, i);
		unsigned char *der = NULL;
		size_t dl = 0;

		if (it == NULL || !xfr_name_valid(it->name))
			abort(); /* parse accepted an item it should have refused */
		(void)xfr_item_check(it->type, it->data, it->len);
		(void)xfr_item_type_guess(it->data, it->len);
		if (it->type == XFR_ITEM_CSR && xfr_csr_to_der(it->data, it->len, &der, &dl) == OFFCA_OK)
			OPENSSL_free(der);
	}
	if (xfr_bundle_item(b, xfr_bundle_count(b)) != NULL)
		abort();
}

static void check_signed(const xfr_bundle *b)
{
	STACK_OF(X509) *chain = xfr_bundle_chain(b), *roots = NULL;

	if (!xfr_bundle_is_signed(b) || chain == NULL || xfr_bundle_signer(b) == NULL)
		return;
	roots = sk_X509_new_null();
	if (roots == NULL)
		return;
	if (sk_X509_push(roots, sk_X509_value(chain, sk_X509_num(chain) - 1)) > 0)
		(void)xfr_bundle_verify_ca(b, roots);
	sk_X509_free(roots); /* borrowed certificates */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xfr_bundle *b = NULL;
	unsigned char *again = NULL;
	size_t alen = 0;

	if (xfr_bundle_parse(data, size, &b) != OFFCA_OK) {
		if (b != NULL)
			abort(); /* output must stay NULL on failure */
		ut_err_clear();
		return 0;
	}
	(void)xfr_bundle_direction(b);
	(void)xfr_bundle_created(b);
	if (xfr_bundle_issuer(b) == NULL || xfr_bundle_digest(b) == NULL)
		abort();
	check_items(b);
	check_signed(b);
	if (xfr_bundle_serialize(b, &again, &alen) != OFFCA_OK || alen != size || memcmp(again, data, size) != 0)
		abort(); /* a parsed bundle re-serializes to different bytes */
	free(again);
	xfr_bundle_free(b);
	ut_err_clear();
	return 0;
}
