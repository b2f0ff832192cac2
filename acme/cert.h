/* cert.h - CSRs, certificate chains and names for offca-acme (OpenSSL). */
#ifndef ACME_CERT_H
#define ACME_CERT_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "offca/err.h"

#define ACME_MAX_NAMES    100 /* identifiers per order */
#define ACME_MAX_DNS_NAME 253
#define ACME_MAX_CHAIN    (64u * 1024u)

/* A list of DNS names (owned strings). */
struct acme_names {
	char *v[ACME_MAX_NAMES];
	size_t n;
};

void acme_names_clear(struct acme_names *l);
/* Validate (LDH labels, optional leading "*."), lower-case and append name unless already there. */
offca_rc acme_names_add(struct acme_names *l, const char *name);

/*
 * Load a CSR (PEM or DER, at most UT_MAX_CSR_FILE) from path, pass it through core's strict
 * intake (ca_csr_parse: errors OFFCA_E_POLICY/PARSE/TOO_BIG naming the rule), verify its
 * self-signature and collect its names (SAN dNSNames, plus the CN if it is a DNS name not in
 * the SANs).
 * *req is new (X509_REQ_free). Errors: OFFCA_E_PARSE, OFFCA_E_VERIFY, OFFCA_E_USAGE (no names).
 */
offca_rc acme_csr_load(const char *path, X509_REQ **req, struct acme_names *names);
/* Same from memory. */
offca_rc acme_csr_parse(const unsigned char *buf, size_t len, X509_REQ **req, struct acme_names *names);

/* A CSR for names signed by k (CN = first name when it fits, SAN = all). *req is new. */
offca_rc acme_csr_for_key(const struct acme_names *names, EVP_PKEY *k, X509_REQ **req);
/* A new key (key_type "ec" = P-256, the default for NULL, or "rsa") and its CSR for names. */
offca_rc acme_csr_generate(const struct acme_names *names, const char *key_type, EVP_PKEY **key, X509_REQ **req);

/* DER and PEM encodings (new buffers). */
offca_rc acme_csr_der(X509_REQ *req, unsigned char **der, size_t *len);
offca_rc acme_csr_pem(X509_REQ *req, char **pem, size_t *len);

/*
 * Split a PEM chain (leaf first): *leaf is the parsed first certificate, *cert_pem its PEM and
 * *chain_pem the rest (may be empty). All new.
 */
offca_rc acme_chain_split(const char *pem, size_t len, X509 **leaf, char **cert_pem, char **chain_pem);

/* Common name of the last certificate of a PEM chain (top issuer), into buf. */
offca_rc acme_chain_top_issuer(const char *pem, size_t len, char *buf, size_t cap);

/* The certificate's public key equals the CSR's. OFFCA_E_VERIFY otherwise. */
offca_rc acme_cert_matches_csr(X509 *cert, X509_REQ *req);

/* notBefore / notAfter as time_t. */
offca_rc acme_cert_times(X509 *cert, time_t *nb, time_t *na);
/* Serial as lower-case hex (new string). */
char *acme_cert_serial_hex(X509 *cert);
/* Load the first certificate of a PEM or DER file. */
offca_rc acme_cert_load(const char *path, X509 **out);

#endif
