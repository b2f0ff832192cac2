/*
 * offca/csr.h - strict PKCS#10 intake (prefix ca_csr_).
 *
 * OpenSSL's own parser is lenient; offca refuses on its own what a careful CA must refuse:
 *  - PEM with label "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST" (Java keytool); readable
 *    text before the block is fine (GnuTLS certtool), a second PEM block or PEM headers are not;
 *  - strict DER: the bytes must be exactly what a canonical re-encoding gives (non-minimal
 *    lengths, indefinite lengths, trailing garbage are refused);
 *  - a size bound (CA_CSR_MAX_INPUT for the file, CA_CSR_MAX_DER for the request);
 *  - version v1 (0) only; the self-signature must verify;
 *  - at most one extensionRequest attribute, no extension twice (e.g. two SAN extensions),
 *    no critical extension offca does not know.
 * Requested extensions other than subjectAltName are ignored when a certificate is built.
 * Every refusal is OFFCA_E_POLICY (or OFFCA_E_PARSE / OFFCA_E_TOO_BIG) with a detail
 * "policy <rule>: ..." naming the rule (docs/policy.md lists them).
 */
#ifndef OFFCA_CSR_H
#define OFFCA_CSR_H

#include <stddef.h>
#include <openssl/x509v3.h>

#include "offca/err.h"

#define CA_CSR_MAX_INPUT (64u * 1024u) /* PEM or DER input, bytes */
#define CA_CSR_MAX_DER   (16u * 1024u) /* the DER request, bytes */

typedef struct ca_csr ca_csr;

/*
 * Parse and check a CSR from memory (PEM or DER, detected). Verifies the self-signature.
 * *out: new handle (ca_csr_free). Errors: OFFCA_E_TOO_BIG ("policy csr-size"), OFFCA_E_PARSE
 * ("policy csr-pem", "policy csr-der"), OFFCA_E_POLICY ("policy csr-version", "policy
 * csr-signature", "policy csr-duplicate-ext", "policy csr-critical-ext", "policy csr-pem-count"),
 * OFFCA_E_NOMEM.
 */
offca_rc ca_csr_parse(const unsigned char *buf, size_t len, ca_csr **out);

/* Read path (regular file, no symlink, <= CA_CSR_MAX_INPUT) and ca_csr_parse() it. The detail of
   an error is prefixed with the file name. */
offca_rc ca_csr_load(const char *path, ca_csr **out);

void ca_csr_free(ca_csr *csr);

/* Borrowed views, valid until ca_csr_free(). The X509_REQ is parsed without decoding its key
   (OpenSSL 3.0 would build its key decoders on every parse): X509_REQ_get0_pubkey() and
   X509_REQ_verify() on it fail; take the key from ca_csr_pubkey() (decoded once, never NULL) and
   the SubjectPublicKeyInfo bytes from X509_REQ_get_X509_PUBKEY() + X509_PUBKEY_get0_param(). */
X509_REQ *ca_csr_req(const ca_csr *csr);
EVP_PKEY *ca_csr_pubkey(const ca_csr *csr);
/* The canonical DER of the request. */
const unsigned char *ca_csr_der(const ca_csr *csr, size_t *len);
/* Requested subjectAltName (NULL when the CSR asks for none). */
const GENERAL_NAMES *ca_csr_sans(const ca_csr *csr);
/* 1 when the PEM label was "NEW CERTIFICATE REQUEST" (keytool), 0 otherwise. */
int ca_csr_is_keytool_label(const ca_csr *csr);

#endif
