/*
 * key.h - account and certificate keys: generation, loading (0600 files), JWK (RFC 7517),
 * JWK thumbprint (RFC 7638), JWS signatures ES256 (P-256) / RS256 (RSA), HS256 for EAB.
 * Used inside the key process; the network process only sees JWKs and signatures.
 */
#ifndef ACME_KEY_H
#define ACME_KEY_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#include "offca/err.h"

#define ACME_MAX_KEY_FILE (16u * 1024u)

/* Generate a key: type "ec" (P-256, the default) or "rsa" (3072 bits). Errors: USAGE, CRYPTO. */
offca_rc acme_key_generate(const char *type, EVP_PKEY **out);

/*
 * Load a PEM private key from path. The file must not be readable by group/other
 * (OFFCA_E_PERM otherwise). Only P-256 EC and RSA >= 2048 keys are accepted (OFFCA_E_UNSUPPORTED).
 */
offca_rc acme_key_load(const char *path, EVP_PKEY **out);

/* Write pkey as unencrypted PKCS#8 PEM, 0600, never overwriting (OFFCA_E_EXISTS). */
offca_rc acme_key_save(const char *path, EVP_PKEY *pkey);

/* PKCS#8 PEM of pkey in a new buffer (caller wipes and frees). */
offca_rc acme_key_pem(EVP_PKEY *pkey, char **pem, size_t *len);

/* Public JWK of pkey (new reference, caller json_decref()s). */
offca_rc acme_key_jwk(EVP_PKEY *pkey, json_t **out);

/* "ES256" or "RS256" for a JWK, NULL if the key type is not supported. */
const char *acme_jwk_alg(const json_t *jwk);

/* RFC 7638 thumbprint (base64url of SHA-256 of the canonical JWK); caller frees. */
offca_rc acme_jwk_thumbprint(const json_t *jwk, char **out);

/*
 * JWS signature over data with pkey: ES256 as the 64-byte R||S, RS256 as PKCS#1 v1.5.
 * *sig is a new buffer (caller frees).
 */
offca_rc acme_key_sign(EVP_PKEY *pkey, const unsigned char *data, size_t len, unsigned char **sig,
		       size_t *siglen);

/* HMAC-SHA256 of data with key into mac[32]. */
offca_rc acme_hs256(const unsigned char *key, size_t keylen, const unsigned char *data, size_t len,
		    unsigned char mac[32]);

#endif
