/* inv_int.h - what the inventory writers (inv_*.c) share: the atomic output file, the issuer table,
 * names and times as text. Internal to core. */
#ifndef OFFCA_INV_INT_H
#define OFFCA_INV_INT_H

#include <stdint.h>
#include <stdio.h>

#include "offca/inventory.h"

/* ---- an output file that appears complete or not at all (inv_out.c) ---- */
typedef struct inv_out {
	char path[4096], tmp[4120];
	FILE *f;
	int excl; /* link (never overwrite) instead of rename */
} inv_out;
/* Create path.tmp.XXXXXX (mode 0644) next to path; excl: path must not exist (OFFCA_E_EXISTS). */
offca_rc inv_out_open(inv_out *o, const char *path, int excl);
/* Flush, fsync, link or rename into place, fsync the directory. Closes o in every case. */
offca_rc inv_out_commit(inv_out *o);
/* Close and remove the temporary file (o may be unopened). */
void inv_out_abort(inv_out *o);
/* OFFCA_OK, or the error of a failed write to o->f (ferror: disk full names ENOSPC). */
offca_rc inv_out_check(inv_out *o);

/* ---- the issuers, loaded once per walk (inv_issuers.c) ---- */
typedef struct inv_issuer {
	ca_issuer iss;           /* from the store (der owned) */
	char cn[256];            /* subject CN ("" when none) */
	char subject[1024];      /* RFC 2253 */
	char serial_hex[2 * CA_SERIAL_LEN + 1];
	unsigned char sha256[32];
	int64_t not_before, not_after;
	int has_crl;
	uint64_t crl_number;
	int64_t crl_this, crl_next;
	size_t n_valid, n_revoked, n_expired; /* records it issued, counted by the walk */
} inv_issuer;
typedef struct inv_issuers {
	inv_issuer *v;
	size_t n;
} inv_issuers;
/* Load every issuer with its certificate's names and its current CRL. */
offca_rc inv_issuers_load(ca_store *st, inv_issuers *out);
void inv_issuers_free(inv_issuers *is);
/* The issuer named name, or NULL. */
inv_issuer *inv_issuers_find(inv_issuers *is, const char *name);
/* Count r (valid/revoked/expired at now) under its issuer and in c. */
void inv_count(inv_issuers *is, const ca_cert_record *r, int64_t now, ca_inv_counts *c);
/* How many CSRs wait in the pending queue. */
offca_rc inv_pending_count(ca_store *st, size_t *n);

/* ---- the export's detached CMS signature (inv_cms.c) ---- */
/* SignedData (DER in *der, OPENSSL_free) over the bytes of path, by key for signer, with chain;
   checked against signer's public key afterwards (OFFCA_E_VERIFY). */
offca_rc inv_cms_sign_file(const char *path, EVP_PKEY *key, X509 *signer, STACK_OF(X509) *chain,
			   unsigned char **der, size_t *len);

/* ---- text ---- */
/* The first CN= value of an RFC 2253 name (escapes undone) into buf; "" when none. */
void inv_cn_of(const char *rfc2253, char *buf, size_t cap);
/* RFC 3339 UTC ("2026-11-25T14:52:00Z"). */
void inv_time(int64_t t, char *buf, size_t cap);
/* "valid", "revoked" or "expired" at now. */
const char *inv_status(const ca_cert_record *r, int64_t now);
/* A key URI without its secret-bearing attributes (pin-value, pin-source) into buf. */
void inv_uri_redact(const char *uri, char *buf, size_t cap);

#endif
