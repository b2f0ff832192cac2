/* bundle.c - the bundle object: create, add items, accessors, free. */
#include "bundle_int.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/util.h"

offca_rc xfr_err_wrap(offca_rc rc, const char *prefix, const char *suffix)
{
	char msg[768];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	return ut_err(rc, "%s%s%s", prefix, msg, suffix);
}

xfr_bundle *xfr_bundle_alloc(void)
{
	return calloc(1, sizeof(xfr_bundle));
}

offca_rc xfr_bundle_new(xfr_direction dir, const char *issuer, xfr_bundle **out)
{
	xfr_bundle *b;

	*out = NULL;
	if (issuer == NULL)
		issuer = "";
	if (strlen(issuer) > XFR_MAX_ISSUER)
		return ut_err(OFFCA_E_TOO_BIG, "issuer name longer than %u bytes", XFR_MAX_ISSUER);
	for (const char *p = issuer; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return ut_err(OFFCA_E_USAGE, "issuer name must be printable ASCII");
	b = xfr_bundle_alloc();
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	b->dir = dir;
	b->created = (int64_t)time(NULL);
	memcpy(b->issuer, issuer, strlen(issuer) + 1);
	*out = b;
	return OFFCA_OK;
}

void xfr_bundle_free(xfr_bundle *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n_items; i++)
		free(b->items[i].data);
	free(b->items);
	free(b->manifest);
	free(b->sig);
	sk_X509_pop_free(b->certs, X509_free);
	free(b);
}

offca_rc xfr_bundle_add(xfr_bundle *b, xfr_item_type type, const char *name, const unsigned char *data,
			size_t len)
{
	offca_rc rc;
	xfr_item *grown, *it;
	unsigned char *copy;

	if (b->manifest != NULL || b->sig != NULL)
		return ut_err(OFFCA_E_STATE, "bundle is already sealed; no item can be added");
	if (b->n_items >= XFR_MAX_ITEMS)
		return ut_err(OFFCA_E_TOO_BIG, "a bundle holds at most %u items", XFR_MAX_ITEMS);
	if (len > XFR_MAX_ITEM)
		return ut_err(OFFCA_E_TOO_BIG, "%s: %zu bytes is more than the %u allowed per item", name, len,
			      XFR_MAX_ITEM);
	if (b->total + len > XFR_MAX_BUNDLE - XFR_MAX_MANIFEST)
		return ut_err(OFFCA_E_TOO_BIG, "bundle would exceed %u bytes", XFR_MAX_BUNDLE);
	rc = xfr_item_check(type, data, len);
	if (rc != OFFCA_OK)
	{
		char prefix[XFR_MAX_NAME + 64];

		snprintf(prefix, sizeof(prefix), "%.128s (%s): ", name, xfr_item_type_name(type));
		return xfr_err_wrap(rc, prefix, "");
	}
	copy = malloc(len ? len : 1);
	grown = realloc(b->items, (b->n_items + 1) * sizeof(*b->items));
	if (grown != NULL)
		b->items = grown;
	if (copy == NULL || grown == NULL) {
		free(copy);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(copy, data, len);
	it = &b->items[b->n_items];
	memset(it, 0, sizeof(*it));
	it->type = type;
	xfr_name_sanitize(name, it->name);
	it->data = copy;
	it->len = len;
	SHA256(copy, len, it->sha256);
	b->n_items++;
	b->total += len;
	return OFFCA_OK;
}

offca_rc xfr_bundle_add_file(xfr_bundle *b, const char *spec)
{
	return xfr_bundle_add_file_checked(b, spec, 1);
}

offca_rc xfr_bundle_add_file_checked(xfr_bundle *b, const char *spec, int allow_plain_key)
{
	const char *key;
	offca_rc rc;
	const char *colon = strchr(spec, ':');
	const char *path = spec;
	char tname[16];
	xfr_item_type type = XFR_ITEM_OTHER;
	int typed = 0;
	unsigned char *data = NULL;
	size_t len = 0;

	if (colon != NULL && (size_t)(colon - spec) < sizeof(tname)) {
		memcpy(tname, spec, (size_t)(colon - spec));
		tname[colon - spec] = '\0';
		if (xfr_item_type_parse(tname, &type) == OFFCA_OK) {
			typed = 1;
			path = colon + 1;
		}
		ut_err_clear();
	}
	rc = ut_read_file(path, XFR_MAX_ITEM, 1, &data, &len);
	if (rc != OFFCA_OK)
		return rc;
	if (len == 0) {
		free(data);
		return ut_err(OFFCA_E_PARSE, "%s: is empty; nothing to put in a bundle", path);
	}
	if (!allow_plain_key && (key = xfr_item_plaintext_key(data, len)) != NULL) {
		free(data);
		return ut_err(OFFCA_E_POLICY, "%s: holds an unencrypted private key (%s): refusing to bundle it "
					      "(encrypt it, or --allow-plaintext-key)", path, key);
	}
	if (!typed)
		type = xfr_item_type_guess(data, len);
	rc = xfr_bundle_add(b, type, path, data, len);
	free(data);
	return rc;
}

xfr_direction xfr_bundle_direction(const xfr_bundle *b)
{
	return b->dir;
}

int64_t xfr_bundle_created(const xfr_bundle *b)
{
	return b->created;
}

const char *xfr_bundle_issuer(const xfr_bundle *b)
{
	return b->issuer;
}

size_t xfr_bundle_count(const xfr_bundle *b)
{
	return b->n_items;
}

const xfr_item *xfr_bundle_item(const xfr_bundle *b, size_t i)
{
	return i < b->n_items ? &b->items[i] : NULL;
}

int xfr_bundle_is_signed(const xfr_bundle *b)
{
	return b->sig != NULL;
}

X509 *xfr_bundle_signer(const xfr_bundle *b)
{
	return b->certs != NULL && sk_X509_num(b->certs) > 0 ? sk_X509_value(b->certs, 0) : NULL;
}

STACK_OF(X509) *xfr_bundle_chain(const xfr_bundle *b)
{
	return b->certs;
}

const unsigned char *xfr_bundle_digest(const xfr_bundle *b)
{
	return b->have_digest ? b->digest : NULL;
}
