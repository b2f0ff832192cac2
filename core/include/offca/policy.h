/*
 * offca/policy.h - issuance policy applied to a parsed CSR (prefix ca_policy_ / ca_request_).
 *
 * ca_policy_check() turns a CSR that passed ca_csr_parse() into a normalized request: the key
 * checked against the policy (type, RSA size, EC curve), the SANs checked (syntax and policy),
 * the subject rebuilt from allowed attributes as UTF8String (PrintableString for C), and the CN
 * matched against the SANs. Nothing else from the CSR is used: requested extensions other than
 * subjectAltName never reach a certificate. Each refusal is OFFCA_E_POLICY with
 * "policy <rule>: ..." (rules in docs/policy.md).
 */
#ifndef OFFCA_POLICY_H
#define OFFCA_POLICY_H

#include <openssl/x509v3.h>

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/err.h"

#define CA_MAX_SANS_PER_CERT 100 /* more SANs in one request is refused (rule "san-count") */

typedef struct ca_request {
	X509_NAME *subject;    /* normalized subject (may be empty, certbot style), owned */
	GENERAL_NAMES *sans;   /* normalized SANs (DNS lower-cased), owned; NULL only if none */
	EVP_PKEY *pubkey;      /* the CSR's public key (own reference) */
	X509_PUBKEY *spki;     /* the CSR's SubjectPublicKeyInfo (own copy) */
	int is_rsa;            /* 1 RSA, 0 EC or Ed25519 */
	int key_bits;          /* RSA modulus bits, EC field bits, 253 for Ed25519 */
	int cn_copied;         /* the CN was copied into a SAN (policy cn_only copy-cn-to-san) */
	char key_desc[32];     /* "RSA 2048", "EC P-256", "Ed25519" */
} ca_request;

/*
 * Check csr against policy pol; on success fill *out (clear with ca_request_clear()).
 * Rules: key-type, rsa-min-bits, rsa-exponent, ec-curve, san-type, san-dns-syntax,
 * san-wildcard, san-dns-suffix, san-ip, san-ip-range, san-email, san-uri, san-count,
 * san-required, cn-only, cn-not-in-san, cn-multiple, subject-attr, subject-syntax, format-char.
 * Errors: OFFCA_E_POLICY, OFFCA_E_NOMEM.
 */
offca_rc ca_policy_check(const ca_policy *pol, const ca_csr *csr, ca_request *out);

/*
 * ca_policy_check() for a request the CAs of chain would sign (the issuer first, then its issuers
 * up to the root; NULL: none): each name is also checked against every CA's name constraints
 * (rule "name-constraints", see ca_policy_chain_constraints), right after its syntax, so a name
 * outside them is refused by that rule, naming the constraining CA, before the issuer's own
 * dns_suffixes / ip_ranges. What offca sign, --dry-run, issue and ceremony sessions run.
 */
offca_rc ca_policy_check_chain(const ca_policy *pol, const STACK_OF(X509) *chain, const ca_csr *csr,
			       ca_request *out);

/*
 * Check only a public key against the policy's key rules (key-type, rsa-min-bits, rsa-exponent,
 * ec-curve), e.g. for an intermediate's CSR. desc (may be NULL) receives "EC P-256" / "RSA 3072".
 */
offca_rc ca_policy_check_key(const ca_policy *pol, EVP_PKEY *pk, char *desc, size_t cap);

/* Free what *r owns and zero it. r may be NULL. */
void ca_request_clear(ca_request *r);

/*
 * Check one DNS name (A-labels only, labels 1..63 of [a-z0-9-] not starting/ending with '-',
 * total <= 253, no empty label, no trailing dot, '*' only as the whole leftmost label followed by
 * at least two labels, not an IPv4 literal). Case-insensitive. Errors: OFFCA_E_POLICY
 * ("policy san-dns-syntax" / "policy san-wildcard").
 */
offca_rc ca_policy_dns_syntax(const char *name, size_t len);

/*
 * Leaf validity in days: requested (0 = the policy default) against leaf_days_max.
 * Errors: OFFCA_E_POLICY ("policy max-validity").
 */
offca_rc ca_policy_days(const ca_policy *pol, unsigned requested, unsigned *days);

/*
 * Name constraints (RFC 5280 4.2.1.10) of one CA against a request's names: every SAN (DNS, IP,
 * email, URI), the subject (directoryName subtrees) and a CN that is a DNS name or IP address.
 * nc NULL: nothing to check. ca names the constraining CA in the message. Subtree forms in
 * docs/policy.md ("name-constraints"). subject and sans may be NULL.
 * Errors: OFFCA_E_POLICY ("policy name-constraints: DNS:x is not within the permitted subtrees
 * of CA '<ca>'"), OFFCA_E_NOMEM.
 */
offca_rc ca_policy_name_constraints(const NAME_CONSTRAINTS *nc, const char *ca, const X509_NAME *subject,
				    const GENERAL_NAMES *sans);

/*
 * The same against every CA certificate of chain (the issuer first, then its issuers up to the
 * root); the message names the constraining CA by its subject. A nameConstraints extension that
 * does not decode is refused. Errors: as ca_policy_name_constraints().
 */
offca_rc ca_policy_chain_constraints(const STACK_OF(X509) *chain, const X509_NAME *subject,
				     const GENERAL_NAMES *sans);

/* One SAN as text: "DNS:a.example", "IP:10.0.0.1", "email:x@y", "URI:https://..." into buf. */
void ca_policy_san_text(const GENERAL_NAME *gn, char *buf, size_t cap);

#endif
