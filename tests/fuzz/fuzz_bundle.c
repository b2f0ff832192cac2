/*
 * fuzz_bundle.c - a USB bundle file image (docs/bundles.md) from an untrusted stick.
 *
 * Parses the bytes with xfr_bundle_parse() (magic, sections, manifest JSON, item hashes, embedded
 * signature); on success does what import/extract/inspect do next: every accessor, each item's
 * content check (xfr_item_check, xfr_csr_to_der for CSR items), the chain check against the
 * bundle's own last certificate as root, and a serialize round trip that must give back the very
 * same bytes (the format is canonical). Nothing is written to disk.
 *
 * Item contents behind the manifest's SHA-256 are hard to reach by mutating a whole file, so an
 * input that does not start with 'O' (the magic's first byte) builds a bundle instead, as
 * `offca bundle create` does: byte 0 picks the direction (bit 0) and the item type (the rest, mod
 * the type count), then a name up to the first NUL, then the item's bytes. xfr_bundle_add()
 * (name sanitizing, xfr_item_check of the content) and, when it accepts, serialize + parse must
 * give back the same direction, type, sanitized name and bytes.
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

static void build(const uint8_t *data, size_t size)
{
	xfr_bundle *b = NULL, *p = NULL;
	unsigned char *img = NULL;
	size_t ilen = 0, nlen;
	char name[256], clean[XFR_MAX_NAME + 1];
	const uint8_t *nul;
	xfr_direction dir;
	xfr_item_type type;
	const xfr_item *it;

	if (size < 1)
		return;
	dir = (data[0] & 1) ? XFR_DIR_OUT : XFR_DIR_IN;
	type = (xfr_item_type)((data[0] >> 1) % XFR_ITEM__COUNT);
	nul = memchr(data + 1, '\0', size - 1);
	nlen = nul != NULL ? (size_t)(nul - (data + 1)) : 0;
	if (nul == NULL || nlen >= sizeof(name))
		return;
	memcpy(name, data + 1, nlen);
	name[nlen] = '\0';
	data += 2 + nlen;
	size -= 2 + nlen;
	xfr_name_sanitize(name, clean);
	if (!xfr_name_valid(clean))
		abort(); /* the sanitizer made a name the parser refuses */
	if (xfr_bundle_new(dir, "fuzz", &b) != OFFCA_OK)
		return;
	if (xfr_bundle_add(b, type, name, data, size) != OFFCA_OK)
		goto out;
	if (xfr_bundle_serialize(b, &img, &ilen) != OFFCA_OK)
		goto out;
	if (xfr_bundle_parse(img, ilen, &p) != OFFCA_OK)
		abort(); /* a bundle we made does not parse back */
	it = xfr_bundle_item(p, 0);
	if (xfr_bundle_direction(p) != dir || xfr_bundle_count(p) != 1 || it == NULL || it->type != type ||
	    strcmp(it->name, clean) != 0 || it->len != size || (size > 0 && memcmp(it->data, data, size) != 0))
		abort();
out:
	free(img);
	xfr_bundle_free(p);
	xfr_bundle_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xfr_bundle *b = NULL;
	unsigned char *again = NULL;
	size_t alen = 0;

	if (size > 0 && data[0] != 'O') {
		build(data, size);
		ut_err_clear();
		return 0;
	}
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
