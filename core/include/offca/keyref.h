/*
 * offca/keyref.h - core's key interface for modules that must not reach the token layer
 * directly (acme, transfer): a key named by a pkcs11: URI, opened through core, handed out as an
 * EVP_PKEY pair whose private operations run on the token.
 */
#ifndef OFFCA_KEYREF_H
#define OFFCA_KEYREF_H

#include <openssl/evp.h>

#include "offca/err.h"

typedef struct ca_keyref ca_keyref;

/*
 * Open the key named by uri (RFC 7512; module from the URI's module-path, $OFFCA_PKCS11_MODULE or
 * discovery). The PIN comes from pin_file when set, else the URI's pin-source, else a no-echo
 * prompt. One login serves every signature until ca_keyref_free().
 * Errors: those of tok_key_open() (OFFCA_E_PARSE, OFFCA_E_MODULE, OFFCA_E_TOKEN_ABSENT,
 * OFFCA_E_PIN_INCORRECT, OFFCA_E_PIN_LOCKED, OFFCA_E_NOT_FOUND, OFFCA_E_TOKEN), OFFCA_E_NOMEM.
 */
offca_rc ca_keyref_open(const char *uri, const char *pin_file, ca_keyref **out);
/* Borrowed handles, valid until ca_keyref_free(). */
EVP_PKEY *ca_keyref_private(ca_keyref *s);
EVP_PKEY *ca_keyref_public(ca_keyref *s);
/* Close the session (NULL is fine). */
void ca_keyref_free(ca_keyref *s);

/* The canonical URI of the opened key (token=...;id=...;object=...;type=private), borrowed. */
const char *ca_keyref_uri(const ca_keyref *s);
/* The key's CKA_LABEL (may be empty), borrowed. */
const char *ca_keyref_label(const ca_keyref *s);

/*
 * Make an EC P-256 key pair on the token token_uri names, labelled label (NULL: the URI's
 * object=, refused with OFFCA_E_USAGE when the URI has none or names an id=) (sensitive,
 * non-extractable; it signs and derives (ECDH), so it can open the relay objects encrypted to it;
 * the token layer's key generation). PIN as for ca_keyref_open but
 * never a prompt (pin_file, else the URI's pin-source, else OFFCA_E_USAGE). *uri_out: the new
 * private key's canonical URI (caller frees). Errors: those of tok_keygen (OFFCA_E_EXISTS for a
 * label in use, OFFCA_E_TOKEN_ABSENT, OFFCA_E_PIN_INCORRECT, ...).
 */
offca_rc ca_keyref_generate(const char *token_uri, const char *label, const char *pin_file, char **uri_out);

/*
 * Destroy the key pair the URI names by its id= (a key ca_keyref_generate made and its owner
 * replaced). PIN as for ca_keyref_generate. Errors: those of tok_key_destroy.
 */
offca_rc ca_keyref_destroy(const char *uri, const char *pin_file);

/*
 * Does the pkcs11: URI `given` name the key recorded as `recorded`? True (OFFCA_OK) when every
 * path attribute present in given (token, serial, object, id, type, ...) is present in recorded
 * with the same decoded value, so "pkcs11:token=ca;object=int" matches the canonical
 * "pkcs11:token=ca;id=%01%02;object=int;type=private". Query attributes (pin-source,
 * module-path) are ignored. Errors: OFFCA_E_NOT_FOUND (no match), OFFCA_E_PARSE (bad URI).
 */
offca_rc ca_key_uri_matches(const char *recorded, const char *given);

/*
 * After a signature with a key opened through core failed (EVP_DigestSign and friends), record
 * why: the token's reason when there is one (removed token: OFFCA_E_TOKEN_ABSENT, refused
 * per-signature PIN: OFFCA_E_PIN_INCORRECT / OFFCA_E_PIN_LOCKED), else OpenSSL's (OFFCA_E_CRYPTO).
 * The detail reads "what: reason". Call it on the thread that signed.
 */
offca_rc ca_key_err_sign(const char *what);

/*
 * EVP_DigestSign of one message with a key that may need a touch on its token (the prompt and the
 * "no touch within N s" bound of offca/token.h's tok_sign_message, which this forwards to): ctx is
 * initialised for priv and taken over; *siglen is sig's capacity (at least EVP_PKEY_get_size(priv))
 * on entry, the signature's length on success. Errors: OFFCA_E_NO_TOUCH, those of ca_key_err_sign.
 */
offca_rc ca_key_sign_message(EVP_PKEY *priv, EVP_MD_CTX *ctx, const void *msg, size_t mlen, unsigned char *sig,
			     size_t *siglen, const char *what, const char *fail_what);

#endif
