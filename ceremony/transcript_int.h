/*
 * transcript_int.h - internals shared by transcript.c, transcript_sig.c, transcript_verify.c and
 * pdf*.c. Not part of the public API (see include/offca/transcript.h).
 */
#ifndef OFFCA_TRANSCRIPT_INT_H
#define OFFCA_TRANSCRIPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "offca/transcript.h"

#define CER_TR_FORMAT  "offca-transcript/1"
#define CER_TR_SIG_CTX "offca-transcript-head:"
#define CER_TR_MAX_SIG 1024u /* raw signature bytes (RSA-8192 fits) */

/* Canonical serialization (JSON_COMPACT | JSON_SORT_KEYS); caller frees. NULL on failure. */
char *cer_tr_canon(const json_t *obj);

/* SHA-256 of the canonical serialization of entry (which must not hold "hash"). */
offca_rc cer_tr_hash_entry(const json_t *entry, unsigned char out[32]);

/* Non-zero if data (recursively) holds a key naming a secret, or a real number. *bad gets the
 * offending key (borrowed from data) when known. */
int cer_tr_data_refused(const json_t *data, const char **bad);

/* Parse 64 lower-case hex digits. Returns 0 on success. */
int cer_tr_unhex32(const char *hex, unsigned char out[32]);

/* Stream a regular file through SHA-256. Errors: OFFCA_E_NOT_FOUND, OFFCA_E_IO, OFFCA_E_PERM. */
offca_rc cer_tr_sha256_file(const char *path, unsigned char out[32], uint64_t *size);

/* Algorithm name for a public key: "ecdsa-sha256", "ecdsa-sha384", "rsa-pkcs1-sha256",
 * "ed25519"; NULL when unsupported. *md is the digest (NULL for ed25519). */
const char *cer_tr_alg_for_key(const EVP_PKEY *pub, const EVP_MD **md);

/* Verify sig over the head message with pub and the named algorithm (must be the key's).
 * Errors: OFFCA_E_VERIFY (with detail), OFFCA_E_NOMEM. */
offca_rc cer_tr_sig_check(EVP_PKEY *pub, const char *alg, const unsigned char head[32],
			  const unsigned char *sig, size_t siglen);

/* SPKI PEM of key (caller frees) and SHA-256 of the SPKI DER. */
offca_rc cer_tr_spki(EVP_PKEY *key, char **pem, unsigned char fpr[32]);

/* Append a "signature" entry (allowed after finish()). data is borrowed. In transcript.c. */
offca_rc cer_tr_append_signature(cer_transcript *t, json_t *data);

/*
 * Load and verify a transcript (see cer_transcript_verify()). When entries is non-NULL, *entries
 * receives a JSON array of every entry (caller decrefs) on success.
 */
offca_rc cer_tr_load(const char *path, const char *base_dir, int check_outputs, X509 *trust_cert,
		     cer_verify_result *res, json_t **entries);

#endif
