/*
 * offca/bundle.h - authenticated USB bundles (prefix xfr_). Format: docs/bundles.md.
 *
 * A bundle is one file: the magic line "OFFCA-BUNDLE/1\n", then length-prefixed sections
 * MANI (the manifest, canonical JSON), one ITEM per manifest item, optionally CERT... SIGN (the
 * signer certificate, its chain, and a signature over the magic line and the manifest bytes),
 * and a final empty END section. The manifest carries each item's type, name, size and SHA-256,
 * so the one signature covers every byte that matters.
 *
 * Outbound bundles (direction "out") are signed with the issuing CA's key; the online side checks
 * them against its root with xfr_bundle_verify_ca(). Inbound bundles ("in") may be signed by an
 * enrolled operator key (operator.c: xfr_operator_*); import checks that signer.
 *
 * Everything read from a bundle is bounded by the XFR_MAX_* maxima below, parsed through a cursor
 * that checks each length before it consumes it, and rejected as a whole on the first problem.
 * Every function returns offca_rc and records a one-line detail with ut_err().
 */
#ifndef OFFCA_BUNDLE_H
#define OFFCA_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/err.h"

/* ---- named maxima (every length read from a bundle is checked against one of these) ---- */
#define XFR_BUNDLE_MAGIC     "OFFCA-BUNDLE/1\n"
#define XFR_BUNDLE_MAGIC_LEN 15u
#define XFR_FORMAT_VERSION   1
#define XFR_MAX_BUNDLE       (64u * 1024u * 1024u) /* whole file */
#define XFR_MAX_ITEMS        256u                  /* items per bundle */
#define XFR_MAX_ITEM         (16u * 1024u * 1024u) /* one item's bytes */
#define XFR_MAX_MANIFEST     (256u * 1024u)        /* manifest JSON bytes */
#define XFR_MAX_NAME         128u                  /* item name bytes */
#define XFR_MAX_ISSUER       256u                  /* manifest "issuer" bytes */
#define XFR_MAX_CERTS        8u                    /* signer certificate + chain */
#define XFR_MAX_CERT         (64u * 1024u)         /* one DER certificate */
#define XFR_MAX_SIG          2048u                 /* signature bytes (RSA-8192 is 1024) */

typedef enum xfr_item_type {
	XFR_ITEM_CSR = 0,    /* "csr": PKCS#10 request, PEM or DER */
	XFR_ITEM_CERT,       /* "certificate": one X.509 certificate, PEM or DER */
	XFR_ITEM_CHAIN,      /* "chain": one or more certificates, PEM (or one DER) */
	XFR_ITEM_CRL,        /* "crl": an X.509 CRL, PEM or DER */
	XFR_ITEM_OCSP,       /* "ocsp": a DER OCSP response */
	XFR_ITEM_TRANSCRIPT, /* "transcript": ceremony transcript (text or PDF), opaque */
	XFR_ITEM_OTHER,      /* "other": opaque bytes */
	XFR_ITEM__COUNT
} xfr_item_type;

typedef enum xfr_direction {
	XFR_DIR_IN = 0, /* "in": towards the offline CA (CSRs) */
	XFR_DIR_OUT,    /* "out": from the offline CA (certificates, chains, CRLs) */
} xfr_direction;

/* Type name <-> enum. xfr_item_type_parse: OFFCA_E_USAGE for an unknown name. */
const char *xfr_item_type_name(xfr_item_type t);
offca_rc xfr_item_type_parse(const char *name, xfr_item_type *out);
const char *xfr_direction_name(xfr_direction d);
offca_rc xfr_direction_parse(const char *name, xfr_direction *out);

/*
 * Guess an item's type from its content: PEM label (CERTIFICATE REQUEST, CERTIFICATE (chain when
 * more than one), X509 CRL) or DER that parses completely as a request, certificate, CRL or OCSP
 * response; anything else is XFR_ITEM_OTHER. Never fails.
 */
xfr_item_type xfr_item_type_guess(const unsigned char *data, size_t len);

/*
 * Check that data really is what type says (csr: xfr_csr_to_der() accepts it;
 * certificate: exactly one certificate; chain: 1..XFR_MAX_CERTS certificates; crl; ocsp: a DER
 * OCSP response). transcript/other: always OK. Errors: OFFCA_E_PARSE, OFFCA_E_POLICY, OFFCA_E_TOO_BIG.
 */
offca_rc xfr_item_check(xfr_item_type type, const unsigned char *data, size_t len);

/*
 * A CSR item (PEM or DER) as canonical DER, after the X.509 module's strict intake
 * (ca_csr_parse(): one object, canonical DER, v1, self-signature, extension rules).
 * *der is the caller's (free with OPENSSL_free). Errors: those of ca_csr_parse()
 * (OFFCA_E_PARSE, OFFCA_E_POLICY, OFFCA_E_TOO_BIG), OFFCA_E_NOMEM.
 */
offca_rc xfr_csr_to_der(const unsigned char *data, size_t len, unsigned char **der, size_t *der_len);

/*
 * Make a safe item name from anything (a path, a name from elsewhere): the last path component,
 * bytes outside [A-Za-z0-9._+-] replaced by '_', leading dots dropped, at most XFR_MAX_NAME bytes,
 * "item" when nothing is left. out must hold XFR_MAX_NAME + 1 bytes.
 */
void xfr_name_sanitize(const char *in, char *out);
/* Non-zero when name is exactly what xfr_name_sanitize() can produce (the rule parse enforces). */
int xfr_name_valid(const char *name);

/* ---- the bundle object ---- */

typedef struct xfr_item {
	xfr_item_type type;
	char name[XFR_MAX_NAME + 1];
	unsigned char *data; /* owned by the bundle */
	size_t len;
	unsigned char sha256[32];
} xfr_item;

typedef struct xfr_bundle xfr_bundle;

/*
 * A new, empty, unsigned bundle created now. issuer: the CA (or operator) name recorded in the
 * manifest, may be NULL/"" (at most XFR_MAX_ISSUER bytes). Errors: OFFCA_E_NOMEM, OFFCA_E_TOO_BIG.
 */
offca_rc xfr_bundle_new(xfr_direction dir, const char *issuer, xfr_bundle **out);
/* Frees everything; NULL is fine. */
void xfr_bundle_free(xfr_bundle *b);

/*
 * Add a copy of data as an item. name is sanitized with xfr_name_sanitize(); the content is
 * checked with xfr_item_check(). Errors: OFFCA_E_STATE (already signed), OFFCA_E_TOO_BIG
 * (XFR_MAX_ITEMS / XFR_MAX_ITEM / XFR_MAX_BUNDLE), OFFCA_E_PARSE, OFFCA_E_VERIFY, OFFCA_E_NOMEM.
 */
offca_rc xfr_bundle_add(xfr_bundle *b, xfr_item_type type, const char *name, const unsigned char *data,
			size_t len);

/*
 * Add a file named by an ITEM argument "[type:]path": when type is absent (or the prefix is not a
 * type name) it is guessed with xfr_item_type_guess(). The file is read with ut_read_file()
 * (regular files only, symlinks refused). Errors: as xfr_bundle_add() and ut_read_file().
 */
offca_rc xfr_bundle_add_file(xfr_bundle *b, const char *spec);

/*
 * Sign: freeze the manifest, sign XFR_BUNDLE_MAGIC || manifest bytes with key (ECDSA/RSA
 * PKCS#1 v1.5 with SHA-256; Ed25519/Ed448 pure), then check the signature with signer's public
 * key (so a certificate that does not match the key is caught here). signer and chain (may be
 * NULL) are copied (up-referenced) into the bundle's CERT sections. After this no item may be
 * added. Errors: OFFCA_E_STATE (already signed, no items), OFFCA_E_CRYPTO, OFFCA_E_VERIFY
 * (certificate does not match the key), OFFCA_E_TOO_BIG (chain longer than XFR_MAX_CERTS).
 */
offca_rc xfr_bundle_sign(xfr_bundle *b, EVP_PKEY *key, X509 *signer, STACK_OF(X509) *chain);

/* The complete file image. *out is the caller's (free()). Errors: OFFCA_E_NOMEM, OFFCA_E_STATE. */
offca_rc xfr_bundle_serialize(xfr_bundle *b, unsigned char **out, size_t *len);
/* Serialize and write to path with ut_write_file(UT_WF_EXCL): never overwrites. */
offca_rc xfr_bundle_write(xfr_bundle *b, const char *path);

/*
 * Parse a file image strictly: magic, section order, every length against its maximum, the
 * manifest's schema (unknown fields rejected, canonical form required), each item's size and
 * SHA-256, and, when signed, the signature against the embedded signer certificate. Any problem
 * rejects the whole bundle. Errors: OFFCA_E_PARSE (malformed or truncated), OFFCA_E_TOO_BIG,
 * OFFCA_E_VERIFY (hash or signature mismatch), OFFCA_E_NOMEM.
 */
offca_rc xfr_bundle_parse(const unsigned char *buf, size_t len, xfr_bundle **out);
/* ut_read_file(path, XFR_MAX_BUNDLE, nofollow) then xfr_bundle_parse(). */
offca_rc xfr_bundle_read(const char *path, xfr_bundle **out);

/* ---- accessors (borrowed pointers, valid until xfr_bundle_free) ---- */
xfr_direction xfr_bundle_direction(const xfr_bundle *b);
int64_t xfr_bundle_created(const xfr_bundle *b);
const char *xfr_bundle_issuer(const xfr_bundle *b);
size_t xfr_bundle_count(const xfr_bundle *b);
const xfr_item *xfr_bundle_item(const xfr_bundle *b, size_t i); /* NULL when out of range */
int xfr_bundle_is_signed(const xfr_bundle *b);
/* Signer certificate, and every CERT section (signer first, then its chain); NULL when unsigned. */
X509 *xfr_bundle_signer(const xfr_bundle *b);
STACK_OF(X509) *xfr_bundle_chain(const xfr_bundle *b);
/* SHA-256 of the serialized file (after parse or serialize), for audit entries; NULL before. */
const unsigned char *xfr_bundle_digest(const xfr_bundle *b);

/*
 * Verify that a signed bundle's signer chains to one of roots (X509 verification at the current
 * time, purpose any, the bundle's CERT sections as untrusted intermediates) and that the signer is
 * a CA certificate (basicConstraints cA). Errors: OFFCA_E_VERIFY (unsigned, chain fails, signer not
 * a CA: the detail says which), OFFCA_E_NOMEM.
 */
offca_rc xfr_bundle_verify_ca(const xfr_bundle *b, STACK_OF(X509) *roots);

/*
 * Write every item into dir (created 0700 when missing) as "NN-<name>" (NN = 01.., the name
 * re-sanitized): nothing from the bundle is used as a path. Refuses (before writing anything)
 * when a target exists. Files are 0644, written atomically. Errors: OFFCA_E_EXISTS, OFFCA_E_IO,
 * OFFCA_E_DISK_FULL, OFFCA_E_PERM, OFFCA_E_USAGE (path too long).
 */
offca_rc xfr_bundle_extract(const xfr_bundle *b, const char *dir);

/* ---- certificate and key files (bundle_keys.c) ---- */

/*
 * Every certificate in path (PEM, one or more; or one DER certificate), 1..XFR_MAX_CERTS, read as a
 * regular file (no symlinks). *out is the caller's (sk_X509_pop_free(.., X509_free)).
 * Errors: OFFCA_E_PARSE, and those of ut_read_file().
 */
offca_rc xfr_certs_load(const char *path, STACK_OF(X509) **out);

/*
 * A PEM private key file (an operator's software signing key). An encrypted key's passphrase comes
 * from pin_file (first line, the file must not be group/other readable) or, when pin_file is NULL,
 * a no-echo prompt on the terminal; it is wiped after use. *out is the caller's (EVP_PKEY_free).
 * Errors: OFFCA_E_PARSE (not a key, or wrong passphrase), OFFCA_E_PERM, OFFCA_E_IO, OFFCA_E_ABORTED.
 */
offca_rc xfr_key_file_load(const char *path, const char *pin_file, EVP_PKEY **out);

/* ---- enrolled operators (operator.c): HOME/operators/NAME.pem ---- */

#define XFR_MAX_OPERATOR_NAME 63u
#define XFR_MAX_OPERATORS     256u

/*
 * Enroll the certificate in cert_path (PEM or DER, one certificate, not expired) as operator name
 * ([A-Za-z0-9._-], 1..63 bytes, not starting with '.'): written to HOME/operators/NAME.pem
 * (directory 0700, file 0644, never overwritten). The same certificate enrolled twice is refused.
 * On success fp_hex (65 bytes, may be NULL) receives its SHA-256 fingerprint.
 * Errors: OFFCA_E_USAGE (bad name), OFFCA_E_PARSE, OFFCA_E_STATE (expired), OFFCA_E_EXISTS, OFFCA_E_IO.
 */
offca_rc xfr_operator_enroll(const char *home, const char *name, const char *cert_path, char *fp_hex);

/*
 * Find the enrolled operator whose certificate is byte-for-byte signer (SHA-256 of the DER) and
 * which is valid now. name_out (XFR_MAX_OPERATOR_NAME + 1 bytes) receives its name.
 * Errors: OFFCA_E_VERIFY (not enrolled, or expired: the detail names the subject), OFFCA_E_IO.
 */
offca_rc xfr_operator_match(const char *home, X509 *signer, char *name_out);

/* ---- with the CA store (bundle_store.c) ---- */

typedef struct ca_store ca_store;

typedef struct xfr_import_opts {
	const char *home;   /* CA home: HOME/operators/ holds the enrolled operators */
	int require_signed; /* refuse unsigned bundles */
} xfr_import_opts;

typedef struct xfr_import_result {
	size_t n_csrs;                   /* CSRs added to the pending queue */
	uint64_t ids[XFR_MAX_ITEMS];     /* their pending ids */
	size_t n_skipped;                /* items that are not CSRs (transcripts, ...), not imported */
	char signer[XFR_MAX_OPERATOR_NAME + 1]; /* enrolled operator who signed; "" when unsigned */
} xfr_import_result;

/*
 * Import an inbound bundle (already parsed and hash/signature-checked by xfr_bundle_parse()):
 * direction must be "in"; a signature must come from an enrolled operator (xfr_operator_match);
 * an unsigned bundle is refused when require_signed; every CSR item must pass xfr_csr_to_der()
 * and must not already be pending. Then all CSRs go into the pending queue in ONE transaction
 * (ca_store_pending_add, which appends the audit "import" entry): all or none.
 * Errors: OFFCA_E_POLICY (outbound bundle), OFFCA_E_VERIFY (signer not enrolled, unsigned with
 * require_signed), OFFCA_E_NOT_FOUND (no CSR in the bundle), OFFCA_E_EXISTS (a CSR is already
 * pending), the CSR intake errors (detail prefixed with the item), store errors.
 */
offca_rc xfr_bundle_import(ca_store *st, const xfr_bundle *b, const xfr_import_opts *o, xfr_import_result *res);

/*
 * The duplicate check every CSR intake makes (bundle import, qr decode --import): is one of the n
 * DER CSRs already in the pending queue, byte for byte, or does one appear twice among them?
 * OFFCA_OK: none. OFFCA_E_EXISTS: *which is the index (0..n-1) of the first offender and *id the
 * pending id it duplicates, or 0 when it repeats an earlier one of the n; no detail is recorded,
 * the caller names the item. Other errors: those of ca_store_pending_list (with detail).
 */
offca_rc xfr_pending_dup(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n,
			 size_t *which, uint64_t *id);

typedef struct xfr_export_opts {
	const char *issuer;       /* issuer name; NULL: the store's default issuer */
	int64_t since;            /* certificates issued at or after this unix time (0: all) */
	const char *since_serial; /* or: issued at or after this certificate, excluding it (NULL: unused) */
} xfr_export_opts;

typedef struct xfr_export {
	xfr_bundle *bundle;     /* outbound, unsigned: sign with the issuer key, then write */
	X509 *signer;           /* the issuer's certificate */
	STACK_OF(X509) *chain;  /* its parents, up to the root */
	char issuer[64];
	char key_uri[4096];     /* the issuer's key (ca_issuer.key_uri), "" when not on record */
	size_t n_certs, n_crls;
} xfr_export;

/*
 * Build an outbound bundle from the store: every valid (not revoked) certificate of the issuer
 * issued since the given time or serial (type "certificate", named SERIAL.pem), the issuer's chain
 * up to the root ("chain", chain-NAME.pem) and the current CRL of the issuer and each ancestor
 * that has one ("crl", crl-NAME.pem). *out is cleared on entry; release it with xfr_export_clear().
 * Errors: OFFCA_E_STATE (no issuer), OFFCA_E_NOT_FOUND (issuer or since-serial unknown),
 * OFFCA_E_TOO_BIG (more certificates than fit: export with a later --since), store errors.
 */
offca_rc xfr_bundle_export(ca_store *st, const xfr_export_opts *o, xfr_export *out);
void xfr_export_clear(xfr_export *e);

/*
 * The signer of an outbound bundle made with `bundle create --direction out` on the CA: the store's
 * issuer named issuer (or, when issuer is NULL, the one issuer whose recorded key URI is exactly
 * key_uri; both NULL: the default issuer). Fills out->signer, out->chain (its parents up to the
 * root), out->issuer and out->key_uri; out->bundle stays NULL. Release with xfr_export_clear().
 * Errors: OFFCA_E_NOT_FOUND (no such issuer / no single issuer with that key), OFFCA_E_STATE,
 * OFFCA_E_STORE.
 */
offca_rc xfr_signer_from_store(ca_store *st, const char *issuer, const char *key_uri, xfr_export *out);

/* Append the audit entry "bundle-export" for a written export bundle (digest, issuer, counts). */
offca_rc xfr_export_audit(ca_store *st, const xfr_export *e);

#endif
