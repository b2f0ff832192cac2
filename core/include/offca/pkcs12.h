/*
 * offca/pkcs12.h - PKCS#12 files for issuer-generated keys (`offca issue`) (prefix ca_pkcs12_).
 *
 * Modern (default): key and certificates encrypted with AES-256-CBC under PBES2/PBKDF2
 * (HMAC-SHA256, CA_PKCS12_ITER iterations), MAC HMAC-SHA256. Legacy (--legacy, for old Java,
 * Windows and macOS consumers): PBE-SHA1-3DES for key and certificates, MAC SHA-1, 2048 iterations.
 */
#ifndef OFFCA_PKCS12_H
#define OFFCA_PKCS12_H

#include <stddef.h>
#include <openssl/x509.h>

#include "offca/err.h"

#define CA_PKCS12_ITER        200000
#define CA_PKCS12_LEGACY_ITER 2048
#define CA_PKCS12_MIN_PASS    8  /* shorter passphrases are refused (OFFCA_E_USAGE) */

/*
 * Build a PKCS#12 holding key, cert and chain (may be NULL), friendly name name (may be NULL),
 * protected by pass. *der (OPENSSL_free, wipe not needed: encrypted) receives the DER.
 * Errors: OFFCA_E_USAGE (passphrase too short), OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc ca_pkcs12_build(EVP_PKEY *key, X509 *cert, STACK_OF(X509) *chain, const char *name, const char *pass,
			 int legacy, unsigned char **der, size_t *len);

#endif
