/*
 * offca/export.h - delivery artifacts made from store records (prefix ca_export_), docs/distribution.md.
 *
 * Patterns 1-3 of the delivery model: a certificate of the store becomes a certbot-layout
 * directory or ZIP, a PKCS#12 trust bundle, a Kubernetes Secret/ConfigMap, or a SOPS document whose
 * values are encrypted to age recipients. Everything is built in memory from one ca_export_item;
 * files are written complete or not at all (temporary name, fsync, rename without replace).
 *
 * Every record reaches an artifact through ca_export_item_load(): the one place that reads the
 * record's DER (and checks it), so that any check of a stored certificate before it leaves (the
 * audit chain) goes there.
 */
#ifndef OFFCA_EXPORT_H
#define OFFCA_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "offca/err.h"
#include "offca/store.h"

#define CA_EXPORT_MAX_NAME   64   /* directory name made from the first SAN or CN */
#define CA_EXPORT_MAX_AGE    64   /* age recipients per SOPS document */
#define CA_EXPORT_K8S_NAME   253  /* Kubernetes object name (DNS subdomain) */

/* A buffer the item owns; secret ones are wiped when freed. */
typedef struct ca_export_buf { char *p; size_t len; } ca_export_buf;

typedef struct ca_export_item {
	char name[CA_EXPORT_MAX_NAME + 1]; /* directory name: first DNS SAN (or other SAN, or CN), sanitized */
	char serial[2 * CA_SERIAL_LEN + 1];
	ca_export_buf cert;       /* cert.pem */
	ca_export_buf chain;      /* chain.pem: intermediates (the root only when it issued the cert) */
	ca_export_buf fullchain;  /* fullchain.pem: cert + chain */
	ca_export_buf root;       /* ca.crt: the root at the top of the chain */
	ca_export_buf metadata;   /* metadata.json */
	ca_export_buf key;        /* privkey.pem (PKCS#8), only for keys offca generated; secret */
	unsigned char *der;       /* the certificate's DER as stored (checked against the record) */
	size_t der_len;
	int self_signed;          /* the record is a root: chain and fullchain hold the cert alone */
	int64_t not_after;
	char *sans_text;          /* "DNS:a, DNS:b" for messages */
} ca_export_item;

/*
 * Build *out from rec: reads rec's DER (must parse and match the record's SHA-256, else
 * OFFCA_E_STORE), the issuer chain up to the root from st, and renders PEMs and metadata.json
 * (serial, sha256, sans, subject, issuer DN and name, not_before/not_after/renew_before in ISO 8601
 * UTC, profile, status). renew_before = notAfter - lifetime/3 (certbot's 30 days for 90 days).
 * Errors: OFFCA_E_STORE, OFFCA_E_STATE (issuer missing), OFFCA_E_NOMEM. Clear with ca_export_item_clear().
 */
offca_rc ca_export_item_load(ca_store *st, const ca_cert_record *rec, ca_export_item *out);
/* Add privkey.pem (PKCS#8 PEM, unencrypted) for a key offca generated. */
offca_rc ca_export_item_set_key(ca_export_item *it, EVP_PKEY *key);
/* Free (and wipe the key) and zero. it may be NULL. */
void ca_export_item_clear(ca_export_item *it);

/* ---- certbot layout (export_layout.c) ---- */
typedef struct ca_export_file { const char *name; const char *data; size_t len; unsigned mode; } ca_export_file;
#define CA_EXPORT_MAX_FILES 8
/* The files of it's layout (pointers into it and static text), *n of them. */
void ca_export_layout_files(const ca_export_item *it, ca_export_file files[CA_EXPORT_MAX_FILES], size_t *n);
/*
 * Write items[0..n) as parent/<name>/ directories (parent created 0755 if missing). Each
 * directory is filled under a temporary name (files fsynced, privkey.pem 0600), then renamed into
 * place without replacing anything. Existing names are refused before anything is written
 * (OFFCA_E_EXISTS); two items with one name get "-SERIAL" appended to the second.
 * Errors: OFFCA_E_EXISTS, OFFCA_E_IO, OFFCA_E_DISK_FULL.
 */
offca_rc ca_export_write_dirs(const char *parent, ca_export_item *items, size_t n);

/* ---- ZIP (export_zip.c, libzip) ---- */
/* The same layout, one <name>/ folder per item, as one ZIP at path (never replaced; written to a
   temporary file, fsynced, linked into place). Errors: OFFCA_E_EXISTS, OFFCA_E_IO. */
offca_rc ca_export_write_zip(const char *path, ca_export_item *items, size_t n);

/* ---- PKCS#12 trust bundle (export_p12.c) ---- */
/*
 * cert + chain + root as certificate bags marked trusted for Java (Oracle's trusted-key-usage
 * attribute, anyExtendedKeyUsage: keytool lists them as trustedCertEntry); never the key (the
 * key's PKCS#12 is `offca issue`'s); AES-256-CBC/PBKDF2 and a SHA-256 MAC, or the legacy
 * algorithms (offca/pkcs12.h).
 * *der: OPENSSL_free. Errors: OFFCA_E_USAGE (passphrase too short), OFFCA_E_CRYPTO.
 */
offca_rc ca_export_p12(const ca_export_item *it, const char *pass, int legacy, unsigned char **der, size_t *len);

/* ---- Kubernetes (export_k8s.c) ---- */
/* Is name a valid Kubernetes object name / namespace (RFC 1123 subdomain / label)? */
int ca_export_k8s_name_ok(const char *name, int label);
/*
 * A kubernetes.io/tls Secret as `kubectl create secret tls NAME --cert fullchain.pem --key
 * privkey.pem --dry-run=client -o yaml` prints it (tls.crt = full chain, tls.key = the key or
 * empty when offca did not generate it), plus ca.crt = the root. namespace may be NULL.
 * *yaml: malloc'd, NUL-terminated, wiped and freed by the caller (it may hold the key).
 */
offca_rc ca_export_k8s_secret(const ca_export_item *it, const char *name, const char *ns, char **yaml, size_t *len);
/* A ConfigMap with ca.crt = the root (`kubectl create configmap NAME --from-file=ca.crt`). */
offca_rc ca_export_k8s_configmap(const ca_export_item *it, const char *name, const char *ns, char **yaml,
				 size_t *len);

/* ---- age and SOPS (export_age.c, export_sops.c) ---- */
/* Decode an "age1..." recipient (bech32, HRP "age", 32 bytes: an X25519 public key).
   Errors: OFFCA_E_PARSE naming what is wrong. */
offca_rc ca_age_recipient_parse(const char *text, unsigned char pub[32]);
/*
 * Encrypt msg to the recipients in the age v1 format (one X25519 stanza each, header MAC, one
 * STREAM chunk), ASCII-armored. *armored: malloc'd, NUL-terminated.
 * Errors: OFFCA_E_USAGE (no recipient / too long), OFFCA_E_CRYPTO.
 */
offca_rc ca_age_encrypt(const unsigned char (*pubs)[32], size_t n, const unsigned char *msg, size_t len,
			char **armored);
/*
 * The Secret of ca_export_k8s_secret() as a SOPS document: apiVersion, kind, metadata and type in
 * clear, every data value AES-256-GCM encrypted under a fresh data key (encrypted_regex
 * ^(data|stringData)$), the data key wrapped to each age recipient ("age1..."), the MAC (SHA-512
 * over the values, encrypted with lastmodified as associated data), lastmodified = now.
 * Errors: OFFCA_E_PARSE (a recipient), OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc ca_export_sops_secret(const ca_export_item *it, const char *name, const char *ns, const char *const *age,
			       size_t n_age, int64_t now, char **yaml, size_t *len);

#endif
