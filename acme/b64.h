/* b64.h - base64url (RFC 4648 section 5, no padding) on top of OpenSSL's EVP_EncodeBlock. */
#ifndef ACME_B64_H
#define ACME_B64_H

#include <stddef.h>

#include "offca/err.h"

/* Named maximum for decoded base64 input (keys, secrets, signatures). */
#define ACME_B64_MAX_IN (64u * 1024u)

/* base64url of p[0..len) into a new NUL-terminated string (caller frees); NULL on OOM. */
char *acme_b64url(const unsigned char *p, size_t len);

/*
 * Decode standard base64 or base64url (padding optional, no whitespace) into a new buffer
 * (caller frees with free(), wipe it if secret). Errors: OFFCA_E_PARSE, OFFCA_E_TOO_BIG,
 * OFFCA_E_NOMEM.
 */
offca_rc acme_b64_decode(const char *in, unsigned char **out, size_t *outlen);

#endif
