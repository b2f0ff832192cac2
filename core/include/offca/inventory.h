/*
 * offca/inventory.h - what the store holds, for watching it from outside (prefix ca_inv_):
 * Prometheus metrics in node_exporter's textfile format, the signed visibility export (JSON with a
 * detached CMS signature) and the self-contained HTML report. docs/monitoring.md.
 *
 * Every writer walks the store once in one read transaction and streams its output (a million
 * records never sit in memory), into a temporary file in the target's directory that is fsynced
 * and then renamed (metrics) or linked (export, report: never overwritten) into place, with the
 * directory fsynced: the complete file appears or nothing does. None of them writes the store.
 * What they print never holds a key, a PIN, or a key URI (which may carry pin-value/pin-source).
 */
#ifndef OFFCA_INVENTORY_H
#define OFFCA_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/err.h"
#include "offca/store.h"

#define CA_INV_METRICS_FILE "offca.prom"
#define CA_INV_MAX_ISSUERS  4096u

/* What a writer counted (every field set on success). */
typedef struct ca_inv_counts {
	size_t certs;      /* certificate records */
	size_t valid, revoked, expired;
	size_t pending;    /* CSRs waiting in the queue */
	size_t crls;       /* issuers with a recorded CRL */
	size_t series;     /* metrics: per-certificate label sets written */
} ca_inv_counts;

/*
 * Write dir/offca.prom (0644; replaced atomically): for every certificate whose notAfter is later
 * than now - keep_expired_days days, x509_cert_not_after, x509_cert_not_before, x509_cert_expired
 * (labels serial_number (decimal, as x509-certificate-exporter prints it), subject_CN, issuer_CN,
 * plus offca's issuer name "issuer") and offca_cert_revoked; for each issuer's current CRL
 * x509_crl_next_update, x509_crl_this_update and offca_crl_number; offca_certificates{issuer,
 * status} over every record; offca_pending_csrs; offca_metrics_generated_timestamp_seconds.
 * dir must exist. c (may be NULL) gets the counts.
 * Errors: OFFCA_E_NOT_FOUND (dir missing), OFFCA_E_IO, OFFCA_E_DISK_FULL, OFFCA_E_PERM, those of
 * the store.
 */
offca_rc ca_inv_metrics_write(ca_store *st, const char *dir, int64_t now, unsigned keep_expired_days,
			      ca_inv_counts *c);

/*
 * Write the visibility export (docs/monitoring.md, "format offca-inventory/1") to path (0644,
 * never overwritten: OFFCA_E_EXISTS) and its detached CMS signature (SignedData, DER, SHA-256,
 * signing time) to sig_path, made with key (a token key through its touch guard, or an operator's
 * software key) for the certificate signer; chain (may be NULL) goes into the SignedData too.
 * signer must be key's certificate (OFFCA_E_VERIFY). Both files appear, or neither.
 * sha256 (may be NULL) receives the digest of the export. c (may be NULL) gets the counts.
 * Errors: OFFCA_E_EXISTS, OFFCA_E_VERIFY, OFFCA_E_CRYPTO, the token's, OFFCA_E_IO, OFFCA_E_DISK_FULL.
 */
offca_rc ca_inv_export_write(ca_store *st, const char *path, const char *sig_path, int64_t now, EVP_PKEY *key,
			     X509 *signer, STACK_OF(X509) *chain, unsigned char sha256[32], ca_inv_counts *c);

/*
 * Write the HTML report (one page, inline CSS and SVG, no script, nothing fetched) to path (0644,
 * never overwritten): the issuer hierarchy with counts under each issuer, the expiry timeline of
 * every valid end-entity certificate (bars per week, or per 30 days when they span more than a
 * year), the soonest to expire, revocations, each CRL's nextUpdate, pending CSRs, signed audit checkpoints
 * and certificates issued by ceremonies. Every text from a certificate, CSR or the audit log is
 * HTML-escaped. Errors: as ca_inv_export_write() without the signing ones.
 */
offca_rc ca_inv_report_write(ca_store *st, const char *path, int64_t now, ca_inv_counts *c);

#endif
