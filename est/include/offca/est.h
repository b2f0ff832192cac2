/*
 * offca/est.h - small pieces shared by offca-gateway and offca-agent (prefix est_): the EST
 * (RFC 7030) wire forms and the comparisons both sides must agree on. Depends on util and OpenSSL.
 * Every function returns offca_rc and records a one-line detail with ut_err().
 */
#ifndef OFFCA_EST_H
#define OFFCA_EST_H

#include <stddef.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "offca/err.h"

#define EST_MAX_BODY   (64u * 1024u) /* an EST request or response body (base64) */
#define EST_MAX_SANS_TEXT 4096u      /* est_sans_text() output */
#define EST_CT_CERTS   "application/pkcs7-mime; smime-type=certs-only"
#define EST_CT_CSR     "application/pkcs10"

/*
 * The subjectAltNames in gn as one canonical text: entries "DNS:name", "IP:addr", "email:x",
 * "URI:u", sorted, comma-separated, DNS names lower-cased ("" when gn is NULL or empty).
 * Errors: OFFCA_E_TOO_BIG (more than cap), OFFCA_E_UNSUPPORTED (another name type), OFFCA_E_PARSE.
 */
offca_rc est_sans_text(const GENERAL_NAMES *gn, char *buf, size_t cap);
/* The same for a certificate's subjectAltName extension. */
offca_rc est_cert_sans_text(X509 *x, char *buf, size_t cap);

/* SHA-256 of a public key's DER SubjectPublicKeyInfo. Errors: OFFCA_E_CRYPTO. */
offca_rc est_spki_sha256(EVP_PKEY *key, unsigned char out[32]);

/*
 * A PKCS#7 SignedData "certs-only" (no content, no signers) holding certs (in DER's SET OF order,
 * so strict DER readers accept it: do not rely on the order), base64 (64-column
 * lines, as `openssl pkcs7 -inform PEM` without its header lines reads it). *out is the caller's
 * (free()). Errors: OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc est_p7_encode(STACK_OF(X509) *certs, char **out, size_t *len);
/*
 * Decode an EST certs-only answer (base64, whitespace ignored, at most EST_MAX_BODY bytes) into its
 * certificates (1..16). *out is the caller's (sk_X509_pop_free). Errors: OFFCA_E_PARSE, OFFCA_E_TOO_BIG.
 */
offca_rc est_p7_decode(const unsigned char *b64, size_t len, STACK_OF(X509) **out);

/*
 * Base64 (whitespace ignored) to bytes. *out is the caller's (free()).
 * Errors: OFFCA_E_PARSE, OFFCA_E_TOO_BIG (more than max decoded bytes), OFFCA_E_NOMEM.
 */
offca_rc est_b64_decode(const unsigned char *in, size_t len, size_t max, unsigned char **out, size_t *olen);
/* Bytes to base64 on one line (NUL-terminated); *out the caller's (free()). Errors: OFFCA_E_NOMEM. */
offca_rc est_b64_encode(const unsigned char *in, size_t len, char **out);

/* SHA-256 fingerprint of a certificate's DER as 64 lower-case hex digits (hex: 65 bytes). */
offca_rc est_cert_sha256_hex(X509 *x, char hex[65]);
/* Parse a fingerprint given by a person: 64 hex digits, colons and case ignored. */
offca_rc est_fp_parse(const char *text, unsigned char out[32]);

#endif
