/*
 * offca/x509.h - building, signing and checking certificates (prefix ca_x509_).
 *
 * ca_x509_build() makes an unsigned certificate from a spec (profile, subject, SANs, key, serial,
 * validity, issuer); ca_x509_sign() signs it with any EVP_PKEY (a token key from
 * tok_key_private(): the private operation runs on the token), choosing the digest from the
 * signing key: RSA < 4096 bits sha256, RSA >= 4096 sha384 (PKCS#1 v1.5), EC P-256
 * ecdsa-with-SHA256, EC P-384 ecdsa-with-SHA384, Ed25519 none. ca_x509_verify() checks the
 * signature with the issuer's public key (do it after every signature on a token).
 */
#ifndef OFFCA_X509_H
#define OFFCA_X509_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509v3.h>

#include "offca/err.h"
#include "offca/profile.h"

#define CA_MAX_PERMIT_DNS 32  /* --permit-dns entries */
#define CA_MAX_DN_TEXT    1024 /* --subject text */

typedef struct ca_cert_spec {
	ca_profile profile;
	const X509_NAME *subject;       /* may be empty for a leaf with SANs (SAN then critical) */
	const GENERAL_NAMES *sans;      /* leaf SANs (NULL for CAs) */
	EVP_PKEY *subject_key;          /* the subject's public key */
	const X509_PUBKEY *subject_spki; /* optional: the same key as encoded in a CSR; copied as is
					    (faster than re-encoding subject_key) */
	const unsigned char *serial;    /* big-endian serial bytes (positive) */
	size_t serial_len;
	int64_t not_before, not_after;  /* unix times */
	X509 *issuer;                   /* issuer certificate; NULL = self-signed (root) */
	int path_len;                   /* CA pathLenConstraint, -1 = none */
	const char *const *permit_dns;  /* intermediate: permitted DNS subtrees (NULL/0: none) */
	size_t n_permit_dns;
	const char *aia_ca_issuers_url; /* NULL or "" = none */
	const char *ocsp_url;
	const char *crl_dp_url;
} ca_cert_spec;

/*
 * Build the unsigned certificate described by spec into *out (X509_free). Version v3, issuer
 * name from spec->issuer (or the subject when self-signed), extensions per profile.
 * Errors: OFFCA_E_USAGE (inconsistent spec), OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc ca_x509_build(const ca_cert_spec *spec, X509 **out);

/*
 * The nameConstraints an intermediate made with these permitted DNS subtrees carries (what
 * ca_x509_build() puts in it; also what `ceremony validate` checks a session's CSRs against
 * before the intermediate exists). n 0: *out NULL. Errors: OFFCA_E_NOMEM.
 */
offca_rc ca_x509_nc_permit_dns(const char *const *permit_dns, size_t n, NAME_CONSTRAINTS **out);

/* Digest for signing with key (NULL for Ed25519/Ed448); *ok = 0 when the key type is unusable. */
const EVP_MD *ca_x509_digest_for(EVP_PKEY *key, int *ok);

/* Sign cert with signer (token or software key). A failed signature goes through tok_err_sign()
   (call on the thread that signs): OFFCA_E_TOKEN_ABSENT (token removed), OFFCA_E_PIN_INCORRECT /
   OFFCA_E_PIN_LOCKED (per-signature PIN refused: reopen the key before signing again), other
   token errors, else OFFCA_E_CRYPTO (detail from OpenSSL). OFFCA_E_UNSUPPORTED (key type). */
offca_rc ca_x509_sign(X509 *cert, EVP_PKEY *signer);
/* The signatures above (and ca_x509_keyctx_sign, ca_x509_sign_crl) go through tok_sign_guard():
   with a key that needs a touch they announce it and can also fail with OFFCA_E_NO_TOUCH (no touch
   within the key's timeout; the key is then stuck, see offca/token.h). */

/* "the certificate for <subject> (serial <hex>)", what a touch prompt names; cut to fit cap. */
void ca_x509_sign_what(X509 *cert, char *buf, size_t cap);

/* Verify cert's signature with pub. Errors: OFFCA_E_VERIFY. */
offca_rc ca_x509_verify(X509 *cert, EVP_PKEY *pub);

/*
 * Prepared signing and checking with one issuer key for many certificates (offca sign's
 * pipeline): the digest, the signing context and the verifying context are set up once instead
 * of for every certificate. A ca_x509_keyctx is used by one thread at a time (one per thread).
 * ca_x509_keyctx_new: priv may be NULL (checking only); both borrowed, keep them alive.
 * Errors: OFFCA_E_UNSUPPORTED (key type), OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 * ca_x509_keyctx_sign: as ca_x509_sign() (same certificate bytes, same errors; OFFCA_E_USAGE
 * without priv). ca_x509_keyctx_verify: as ca_x509_verify(); it also requires the certificate's
 * signature algorithm to be the one this key signs with (OFFCA_E_VERIFY otherwise).
 */
typedef struct ca_x509_keyctx ca_x509_keyctx;
offca_rc ca_x509_keyctx_new(EVP_PKEY *priv, EVP_PKEY *pub, ca_x509_keyctx **out);
offca_rc ca_x509_keyctx_sign(ca_x509_keyctx *k, X509 *cert);
offca_rc ca_x509_keyctx_verify(ca_x509_keyctx *k, X509 *cert);
void ca_x509_keyctx_free(ca_x509_keyctx *k);

/* Same for a CRL (same errors as ca_x509_sign). */
offca_rc ca_x509_sign_crl(X509_CRL *crl, EVP_PKEY *signer);
offca_rc ca_x509_verify_crl(X509_CRL *crl, EVP_PKEY *pub);

/*
 * Parse a distinguished name given on the command line, in one of two forms:
 *   RFC 4514 "CN=x,OU=u,O=y": the most specific RDN first, as offca prints names (and as
 *     `openssl x509 -nameopt RFC2253` does): the DER order is the reverse, O then OU then CN;
 *   OpenSSL's slash form "/O=y/OU=u/CN=x" (leading '/'): RDNs in DER order, as `openssl req -subj`.
 * Both examples give the same name, printed back "CN=x,OU=u,O=y". A backslash escapes the next
 * character; "\XX" (two hex digits) is that byte (RFC 4514). An unescaped '+' (a multi-valued
 * RDN) is refused in the RFC 4514 form. Attributes (any case): CN, O, OU, C, ST, L, DC, serialNumber.
 * Values UTF-8. Errors: OFFCA_E_USAGE (detail names the problem), OFFCA_E_NOMEM.
 */
offca_rc ca_x509_parse_dn(const char *text, X509_NAME **out);

/*
 * The one display convention for names, used by the store's records (offca list/show), the
 * signing output and the CLI: RFC 2253/4514 one-line, most specific RDN first, UTF-8 kept
 * (CA_X509_NAME_FLAGS for X509_NAME_print_ex), so ca_x509_parse_dn(text) gives the name back.
 * Writes into buf (cap bytes, NUL-terminated; "" for an empty or NULL name). Errors:
 * OFFCA_E_TOO_BIG (cut at a UTF-8 boundary to fit), OFFCA_E_PARSE, OFFCA_E_NOMEM, OFFCA_E_USAGE.
 */
#define CA_X509_NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
offca_rc ca_x509_name_text(const X509_NAME *name, char *buf, size_t cap);

/* DER of a certificate in a new buffer (OPENSSL_free). Errors: OFFCA_E_CRYPTO. */
offca_rc ca_x509_to_der(X509 *cert, unsigned char **der, size_t *len);
/*
 * PEM ("CERTIFICATE") of a certificate's DER, without parsing it: *pem is a new buffer of *plen
 * bytes (not NUL-terminated; free with free()). Errors: OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc ca_x509_der_to_pem(const unsigned char *der, size_t len, char **pem, size_t *plen);
/* Parse one DER certificate (exactly len bytes). Errors: OFFCA_E_PARSE. */
offca_rc ca_x509_from_der(const unsigned char *der, size_t len, X509 **out);

/* 1 when the certificate's notAfter is before now (expired) or notBefore after now. */
int ca_x509_time_invalid(X509 *cert, int64_t now);

#endif
