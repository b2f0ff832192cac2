/* bundle_codec.c - the container: serialize, and parse strictly through a bounds-checking cursor. */
#include "bundle_int.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define TAG_LEN 4u
#define HDR_LEN 8u /* 4-byte tag, 4-byte big-endian length */

/* ---- writing ---- */

static unsigned char *put_section(unsigned char *p, const char *tag, const unsigned char *data, size_t len)
{
	memcpy(p, tag, TAG_LEN);
	p[4] = (unsigned char)(len >> 24);
	p[5] = (unsigned char)(len >> 16);
	p[6] = (unsigned char)(len >> 8);
	p[7] = (unsigned char)len;
	if (len > 0)
		memcpy(p + HDR_LEN, data, len);
	return p + HDR_LEN + len;
}

offca_rc xfr_bundle_serialize(xfr_bundle *b, unsigned char **out, size_t *len)
{
	offca_rc rc;
	unsigned char *buf = NULL, *p, *der = NULL;
	size_t total;
	int n, ncerts = b->certs != NULL ? sk_X509_num(b->certs) : 0;

	*out = NULL;
	*len = 0;
	if (b->n_items == 0)
		return ut_err(OFFCA_E_STATE, "a bundle needs at least one item");
	if (b->manifest == NULL) {
		rc = xfr_manifest_build(b, &b->manifest, &b->manifest_len);
		if (rc != OFFCA_OK)
			return rc;
	}
	total = XFR_BUNDLE_MAGIC_LEN + HDR_LEN + b->manifest_len + HDR_LEN;
	for (size_t i = 0; i < b->n_items; i++)
		total += HDR_LEN + b->items[i].len;
	for (int i = 0; i < ncerts; i++) {
		n = i2d_X509(sk_X509_value(b->certs, i), NULL);
		if (n <= 0)
			return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode a signer certificate");
		total += HDR_LEN + (size_t)n;
	}
	if (b->sig != NULL)
		total += HDR_LEN + b->sig_len;
	if (total > XFR_MAX_BUNDLE)
		return ut_err(OFFCA_E_TOO_BIG, "bundle of %zu bytes exceeds %u", total, XFR_MAX_BUNDLE);
	buf = malloc(total);
	if (buf == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(buf, XFR_BUNDLE_MAGIC, XFR_BUNDLE_MAGIC_LEN);
	p = put_section(buf + XFR_BUNDLE_MAGIC_LEN, "MANI", b->manifest, b->manifest_len);
	for (size_t i = 0; i < b->n_items; i++)
		p = put_section(p, "ITEM", b->items[i].data, b->items[i].len);
	for (int i = 0; i < ncerts; i++) {
		n = i2d_X509(sk_X509_value(b->certs, i), &der);
		if (n <= 0) {
			free(buf);
			return ut_err_ssl(OFFCA_E_NOMEM, "cannot encode a signer certificate");
		}
		p = put_section(p, "CERT", der, (size_t)n);
		OPENSSL_free(der);
		der = NULL;
	}
	if (b->sig != NULL)
		p = put_section(p, "SIGN", b->sig, b->sig_len);
	p = put_section(p, "DONE", NULL, 0);
	if ((size_t)(p - buf) != total) {
		free(buf);
		return ut_err(OFFCA_E_INTERNAL, "bundle size mismatch while serializing");
	}
	SHA256(buf, total, b->digest);
	b->have_digest = 1;
	*out = buf;
	*len = total;
	return OFFCA_OK;
}

offca_rc xfr_bundle_write(xfr_bundle *b, const char *path)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;

	rc = xfr_bundle_serialize(b, &buf, &len);
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, buf, len, UT_WF_EXCL);
	free(buf);
	return rc;
}

/* ---- reading ---- */

struct cursor {
	const unsigned char *p;
	size_t len, off;
};

/* Read one section header and body; tag must be want (when not NULL); body length <= max. */
static offca_rc next_section(struct cursor *c, const char *want, size_t max, char tag[TAG_LEN + 1],
			     const unsigned char **data, size_t *dlen)
{
	const unsigned char *h;
	size_t n;

	if (c->len - c->off < HDR_LEN)
		return ut_err(OFFCA_E_PARSE, "bundle is truncated at byte %zu (expected a %s section)", c->off,
			      want != NULL ? want : "CERT, SIGN or DONE");
	h = c->p + c->off;
	memcpy(tag, h, TAG_LEN);
	tag[TAG_LEN] = '\0';
	for (size_t i = 0; i < TAG_LEN; i++)
		if (tag[i] < 'A' || tag[i] > 'Z')
			return ut_err(OFFCA_E_PARSE, "bundle: invalid section tag at byte %zu", c->off);
	if (want != NULL && strcmp(tag, want) != 0)
		return ut_err(OFFCA_E_PARSE, "bundle: found a %s section at byte %zu where %s was expected", tag,
			      c->off, want);
	n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | (size_t)h[7];
	if (n > max)
		return ut_err(OFFCA_E_TOO_BIG, "bundle: %s section of %zu bytes exceeds the %zu allowed", tag, n,
			      max);
	if (c->len - c->off - HDR_LEN < n)
		return ut_err(OFFCA_E_PARSE, "bundle is truncated: %s section at byte %zu needs %zu bytes, %zu left",
			      tag, c->off, n, c->len - c->off - HDR_LEN);
	*data = h + HDR_LEN;
	*dlen = n;
	c->off += HDR_LEN + n;
	return OFFCA_OK;
}

static offca_rc read_items(struct cursor *c, xfr_bundle *b)
{
	offca_rc rc;
	const unsigned char *d = NULL;
	size_t n = 0;
	char tag[TAG_LEN + 1];

	for (size_t i = 0; i < b->n_items; i++) {
		rc = next_section(c, "ITEM", XFR_MAX_ITEM, tag, &d, &n);
		if (rc != OFFCA_OK)
			return rc;
		if (n != b->items[i].len)
			return ut_err(OFFCA_E_VERIFY, "bundle item %zu (%s): %zu bytes but the manifest says %zu",
				      i + 1, b->items[i].name, n, b->items[i].len);
		b->items[i].data = malloc(n ? n : 1);
		if (b->items[i].data == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		memcpy(b->items[i].data, d, n);
	}
	return OFFCA_OK;
}

/* Non-zero when x encodes to exactly the n bytes at d. */
static int same_der(X509 *x, const unsigned char *d, size_t n)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der), same;

	same = len > 0 && (size_t)len == n && memcmp(der, d, n) == 0;
	OPENSSL_free(der);
	return same;
}

static offca_rc add_cert(xfr_bundle *b, const unsigned char *d, size_t n)
{
	const unsigned char *p = d;
	X509 *x;

	if (b->certs == NULL)
		b->certs = sk_X509_new_null();
	if (b->certs == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if ((size_t)sk_X509_num(b->certs) >= XFR_MAX_CERTS)
		return ut_err(OFFCA_E_TOO_BIG, "bundle: more than %u CERT sections", XFR_MAX_CERTS);
	x = d2i_X509(NULL, &p, (long)n);
	if (x == NULL || p != d + n) {
		X509_free(x);
		return ut_err_ssl(OFFCA_E_PARSE, "bundle: CERT section %d is not one DER certificate",
				  sk_X509_num(b->certs) + 1);
	}
	/* d2i takes some non-DER forms (a signature BIT STRING's unused bits) and i2d would write
	   other bytes: only a certificate that re-encodes to the section's bytes is accepted. */
	if (!same_der(x, d, n)) {
		X509_free(x);
		return ut_err(OFFCA_E_PARSE, "bundle: CERT section %d is not canonical DER", sk_X509_num(b->certs) + 1);
	}
	if (sk_X509_push(b->certs, x) <= 0) {
		X509_free(x);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	return OFFCA_OK;
}

/* CERT* SIGN DONE, or just DONE; then the end of the file. */
static offca_rc read_trailer(struct cursor *c, xfr_bundle *b)
{
	offca_rc rc;
	const unsigned char *d = NULL;
	size_t n = 0;
	char tag[TAG_LEN + 1];

	for (;;) {
		rc = next_section(c, NULL, XFR_MAX_CERT, tag, &d, &n);
		if (rc != OFFCA_OK)
			return rc;
		if (strcmp(tag, "CERT") == 0) {
			rc = add_cert(b, d, n);
		} else if (strcmp(tag, "SIGN") == 0) {
			if (b->certs == NULL || n == 0 || n > XFR_MAX_SIG || b->sig != NULL)
				return ut_err(OFFCA_E_PARSE, "bundle: SIGN section without CERT, repeated, or of "
					      "%zu bytes (1..%u)", n, XFR_MAX_SIG);
			b->sig = malloc(n);
			if (b->sig == NULL)
				return ut_err(OFFCA_E_NOMEM, "out of memory");
			memcpy(b->sig, d, n);
			b->sig_len = n;
		} else if (strcmp(tag, "DONE") == 0) {
			break;
		} else {
			return ut_err(OFFCA_E_PARSE, "bundle: unexpected %s section at byte %zu", tag,
				      c->off - HDR_LEN - n);
		}
		if (rc != OFFCA_OK)
			return rc;
		if (b->sig != NULL && strcmp(tag, "CERT") == 0)
			return ut_err(OFFCA_E_PARSE, "bundle: CERT section after SIGN");
	}
	if (n != 0)
		return ut_err(OFFCA_E_PARSE, "bundle: DONE section must be empty");
	if (b->certs != NULL && b->sig == NULL)
		return ut_err(OFFCA_E_PARSE, "bundle: certificates but no SIGN section");
	if (c->off != c->len)
		return ut_err(OFFCA_E_PARSE, "bundle: %zu bytes of trailing data after DONE", c->len - c->off);
	return OFFCA_OK;
}

static offca_rc check_hashes(const xfr_bundle *b)
{
	unsigned char md[32];

	for (size_t i = 0; i < b->n_items; i++) {
		SHA256(b->items[i].data, b->items[i].len, md);
		if (CRYPTO_memcmp(md, b->items[i].sha256, sizeof(md)) != 0)
			return ut_err(OFFCA_E_VERIFY, "bundle item %zu (%s): SHA-256 does not match the manifest "
				      "(the item was modified)", i + 1, b->items[i].name);
	}
	return OFFCA_OK;
}

offca_rc xfr_bundle_parse(const unsigned char *buf, size_t len, xfr_bundle **out)
{
	offca_rc rc;
	xfr_bundle *b = NULL;
	struct cursor c = {buf, len, 0};
	const unsigned char *d = NULL;
	size_t n = 0;
	char tag[TAG_LEN + 1];

	*out = NULL;
	if (len > XFR_MAX_BUNDLE)
		return ut_err(OFFCA_E_TOO_BIG, "bundle of %zu bytes exceeds %u", len, XFR_MAX_BUNDLE);
	if (len < XFR_BUNDLE_MAGIC_LEN || memcmp(buf, XFR_BUNDLE_MAGIC, XFR_BUNDLE_MAGIC_LEN) != 0)
		return ut_err(OFFCA_E_PARSE, "not an offca bundle (the file does not start with OFFCA-BUNDLE/1)");
	c.off = XFR_BUNDLE_MAGIC_LEN;
	b = xfr_bundle_alloc();
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = next_section(&c, "MANI", XFR_MAX_MANIFEST, tag, &d, &n);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_manifest_parse(d, n, b);
	if (rc != OFFCA_OK)
		goto out;
	b->manifest = malloc(n);
	if (b->manifest == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(b->manifest, d, n);
	b->manifest_len = n;
	rc = read_items(&c, b);
	if (rc != OFFCA_OK)
		goto out;
	rc = read_trailer(&c, b);
	if (rc != OFFCA_OK)
		goto out;
	if (b->sig != NULL) {
		rc = xfr_sig_check(sk_X509_value(b->certs, 0), b->manifest, b->manifest_len, b->sig, b->sig_len);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = check_hashes(b);
	if (rc != OFFCA_OK)
		goto out;
	SHA256(buf, len, b->digest);
	b->have_digest = 1;
	*out = b;
	b = NULL;
out:
	xfr_bundle_free(b);
	return rc;
}

offca_rc xfr_bundle_read(const char *path, xfr_bundle **out)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	rc = ut_read_file(path, XFR_MAX_BUNDLE, 1, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	rc = xfr_bundle_parse(buf, len, out);
	free(buf);
	return rc;
}
