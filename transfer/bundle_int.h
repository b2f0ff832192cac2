/* bundle_int.h - the bundle object's insides, shared by transfer/bundle*.c and manifest.c only. */
#ifndef OFFCA_BUNDLE_INT_H
#define OFFCA_BUNDLE_INT_H

#include "offca/bundle.h"

struct xfr_bundle {
	xfr_direction dir;
	int64_t created;
	char issuer[XFR_MAX_ISSUER + 1];
	xfr_item *items;
	size_t n_items;
	size_t total;              /* sum of item sizes */
	unsigned char *manifest;   /* frozen canonical manifest bytes (NULL until signed/serialized) */
	size_t manifest_len;
	unsigned char *sig;        /* signature over MAGIC || manifest (NULL: unsigned) */
	size_t sig_len;
	STACK_OF(X509) *certs;     /* signer first, then chain (NULL: unsigned) */
	unsigned char digest[32];  /* SHA-256 of the file image */
	int have_digest;
};

/* manifest.c: build the canonical manifest bytes of b (caller frees with free()). */
offca_rc xfr_manifest_build(const xfr_bundle *b, unsigned char **out, size_t *len);
/* manifest.c: parse and validate manifest bytes into b (dir, created, issuer, items' type, name,
   len, sha256; data left NULL). */
offca_rc xfr_manifest_parse(const unsigned char *buf, size_t len, xfr_bundle *b);

/* bundle_sign.c: check sig over MAGIC || manifest with the public key of cert. */
offca_rc xfr_sig_check(X509 *cert, const unsigned char *manifest, size_t mlen, const unsigned char *sig,
		       size_t slen);

/* Re-record the current error detail with a prefix and suffix (the detail is copied first: it
   lives in the buffer ut_err() writes). Returns rc. */
offca_rc xfr_err_wrap(offca_rc rc, const char *prefix, const char *suffix);

/* bundle.c: allocate an empty bundle object. */
xfr_bundle *xfr_bundle_alloc(void);

#endif
