/*
 * offca/publish.h - relay objects (delivery pattern 5, prefix ca_pub_ / ca_publish): for each
 * endpoint one file named by the hex SHA-256 of its key (SubjectPublicKeyInfo DER), holding a CMS
 * AuthEnvelopedData (RFC 5083, AES-256-GCM; ECDH per RFC 5753 for EC endpoints, RSA-OAEP for RSA)
 * to the endpoint's certificate, around a CMS SignedData by the issuing CA's token key, around the
 * RelayContent below (docs/formats.md gives the bytes):
 *
 *   RelayContent ::= SEQUENCE {
 *     version      INTEGER (1),
 *     endpoint     OCTET STRING (SIZE (32)),  -- SHA-256 of the endpoint's current SPKI = object name
 *     sequence     INTEGER (1..MAX),          -- per endpoint, grows whenever the content changes
 *     certificate  Certificate,               -- the new certificate
 *     chain        SEQUENCE OF Certificate,   -- its issuers, nearest first, root left out
 *     privateKey   [0] EXPLICIT PrivateKeyInfo OPTIONAL }  -- only for an issuer-generated key
 *
 * The codec (publish_codec.c) is shared with offca-agent, which reads what offca publish wrote.
 */
#ifndef OFFCA_PUBLISH_H
#define OFFCA_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/err.h"

#define CA_PUB_VERSION   1
#define CA_PUB_MAX_CHAIN 8
#define CA_PUB_MAX_OBJ   (256u * 1024u) /* bytes of one relay object (reader's bound) */

typedef struct ca_pub_content {
	unsigned char endpoint[32];
	uint64_t sequence;
	X509 *cert;
	STACK_OF(X509) *chain; /* nearest first, may be empty */
	EVP_PKEY *key;         /* only for an issuer-generated key, else NULL */
} ca_pub_content;

void ca_pub_content_clear(ca_pub_content *c);
/* DER of c (OPENSSL_free). Errors: OFFCA_E_CRYPTO, OFFCA_E_USAGE (no certificate, sequence 0). */
offca_rc ca_pub_content_encode(const ca_pub_content *c, unsigned char **der, size_t *len);
/* Strict parse (whole input, version 1, 32-byte endpoint, sequence >= 1). Errors: OFFCA_E_PARSE. */
offca_rc ca_pub_content_decode(const unsigned char *der, size_t len, ca_pub_content *out);

/* SHA-256 of the DER SubjectPublicKeyInfo of key: the object name of the endpoint holding it. */
offca_rc ca_pub_key_hash(EVP_PKEY *key, unsigned char out[32]);
void ca_pub_hex(const unsigned char h[32], char out[65]);

/*
 * CMS SignedData (id-data, binary) of content by signer (the issuer's certificate; priv on its
 * token: the signature goes through the token's touch guard like every CA signature), with
 * signer and chain (its parents, root excluded) as certificates, then AuthEnvelopedData of that
 * to recipient. *out: DER (OPENSSL_free). Errors: OFFCA_E_CRYPTO, the token's (tok_sign_guard).
 */
offca_rc ca_pub_seal(const unsigned char *content, size_t clen, X509 *signer, EVP_PKEY *priv,
		     STACK_OF(X509) *chain, X509 *recipient, unsigned char **out, size_t *olen);

typedef struct ca_signer ca_signer;
typedef struct ca_store ca_store;

typedef struct ca_publish_opts {
	const char *out_dir;  /* created 0700 when missing; existing object files are replaced */
	int64_t since;        /* endpoints whose newest certificate was issued at or after (0: all) */
	/* issuer-generated key: deliver key with the newest certificate for it to the endpoint
	   holding certificate `to` (serial or fingerprint); NULL: none */
	EVP_PKEY *deliver_key;
	const char *deliver_to;
} ca_publish_opts;

typedef struct ca_publish_result {
	size_t written, unchanged_seq, skipped_revoked, skipped_expired;
	char (*names)[65];      /* the objects written (hex names), `written` of them */
} ca_publish_result;
void ca_publish_result_clear(ca_publish_result *r);

/*
 * Publish one object per endpoint of the signer's issuer (key attached: ca_signer_set_key):
 * an endpoint is a key; its newest certificate is delivered; a key with any revoked certificate
 * gets nothing. Sequence numbers: HOME/relay/sequence.json, rewritten atomically BEFORE any
 * object (a crash may skip a number, never repeat one). Errors: OFFCA_E_STATE, OFFCA_E_NOT_FOUND,
 * OFFCA_E_IO, OFFCA_E_DISK_FULL, store and token errors.
 */
offca_rc ca_publish(ca_signer *s, ca_store *st, const ca_publish_opts *o, ca_publish_result *res);

#endif
