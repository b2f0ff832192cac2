/*
 * fuzz_csr.c - CSR intake as offca sign runs it: ca_csr_parse() on arbitrary bytes (PEM or DER),
 * and for a request it accepts, ca_policy_check() with a permissive and a strict policy, then for
 * each accepted request the leaf certificate built (ca_x509_build), signed and checked with a
 * throwaway issuer made once in LLVMFuzzerInitialize(), and linted (ca_lint_cert), with the
 * subject and SANs printed as offca prints them. Everything is freed: a leak is a finding. What the
 * strict policy promises is checked on what it accepts (key, SAN types and suffixes, no wildcard,
 * lower-cased names, the same SANs in the certificate, not a CA): a broken promise aborts. Under an
 * intermediate with name constraints (DNS, IP, email; permitted and excluded), what the policy
 * accepts must also pass OpenSSL's own name-constraint check (X509_verify_cert).
 *
 * A mutated request almost never keeps a valid self-signature, so the input is also read with
 * OpenSSL's lenient d2i_X509_REQ() and, when that works, re-signed by a harness key of the same
 * kind (EC P-256/P-384, RSA, Ed25519; the request's key replaced by it) and run through the same
 * steps: that way the mutations of the subject, attributes and extensions reach the strict
 * checks, the policy and the certificate builder.
 *
 * FUZZ_MAX_LEN 20000 (scripts/fuzz.sh reads this line; CA_CSR_MAX_INPUT is 64 KiB)
 */
#include "offca/csr.h"
#include "offca/lint.h"
#include "offca/policy.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K_P256, K_P384, K_RSA, K_ED25519, K_COUNT };

static EVP_PKEY *issuer_key, *nc_key;
static X509 *issuer_cert, *nc_cert;      /* nc_cert: an intermediate with name constraints */
static STACK_OF(X509) *nc_chain;         /* nc_cert, issuer_cert */
static EVP_PKEY *resign_key[K_COUNT];
static ca_policy pol_permissive, pol_strict;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_csr: setup failed: %s: %s\n", what, ut_err_msg());
	ERR_print_errors_fp(stderr);
	abort();
}

static void make_issuer(void)
{
	static const unsigned char serial[16] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	X509_NAME *n = NULL;
	ca_cert_spec spec;

	issuer_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (issuer_key == NULL || ca_x509_parse_dn("CN=fuzz issuer,O=offca fuzzing", &n) != OFFCA_OK)
		die("issuer key/name");
	memset(&spec, 0, sizeof(spec));
	spec.profile = CA_PROFILE_ROOT;
	spec.subject = n;
	spec.subject_key = issuer_key;
	spec.serial = serial;
	spec.serial_len = sizeof(serial);
	spec.not_before = 1700000000;
	spec.not_after = 1700000000 + 3650LL * 86400;
	spec.path_len = -1;
	if (ca_x509_build(&spec, &issuer_cert) != OFFCA_OK || ca_x509_sign(issuer_cert, issuer_key) != OFFCA_OK)
		die("issuer certificate");
	X509_NAME_free(n);
}

/* An intermediate under the issuer whose nameConstraints cover each form the policy enforces. */
static void make_constrained(void)
{
	static const unsigned char serial[16] = {0x43, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	static const char nc[] = "critical,permitted;DNS:example.com,permitted;DNS:.corp.example,"
				 "excluded;DNS:bad.example.com,permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:fd00::/ff00::,"
				 "excluded;IP:10.9.0.0/255.255.0.0,permitted;email:example.com,permitted;email:.corp.example";
	X509_NAME *n = NULL;
	X509_EXTENSION *e = NULL;
	ca_cert_spec spec;

	nc_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (nc_key == NULL || ca_x509_parse_dn("CN=fuzz constrained,O=offca fuzzing", &n) != OFFCA_OK)
		die("constrained key/name");
	memset(&spec, 0, sizeof(spec));
	spec.profile = CA_PROFILE_INTERMEDIATE;
	spec.subject = n;
	spec.subject_key = nc_key;
	spec.serial = serial;
	spec.serial_len = sizeof(serial);
	spec.not_before = 1700000000;
	spec.not_after = 1700000000 + 3000LL * 86400;
	spec.issuer = issuer_cert;
	spec.path_len = 0;
	if (ca_x509_build(&spec, &nc_cert) != OFFCA_OK ||
	    (e = X509V3_EXT_conf_nid(NULL, NULL, NID_name_constraints, nc)) == NULL ||
	    X509_add_ext(nc_cert, e, -1) != 1 || ca_x509_sign(nc_cert, issuer_key) != OFFCA_OK)
		die("constrained intermediate");
	X509_EXTENSION_free(e);
	X509_NAME_free(n);
	nc_chain = sk_X509_new_null();
	if (nc_chain == NULL || !sk_X509_push(nc_chain, nc_cert) || !sk_X509_push(nc_chain, issuer_cert))
		die("constrained chain");
}

static void make_policies(void)
{
	ca_issuer_cfg d;

	ca_config_defaults(&d);
	pol_permissive = d.policy;
	pol_permissive.allow_email_san = 1;
	pol_permissive.allow_uri_san = 1;
	pol_permissive.san_required = 0;

	pol_strict = d.policy;
	pol_strict.rsa_min_bits = 3072;
	pol_strict.allow_p256 = 0;
	pol_strict.allow_ip_san = 0;
	pol_strict.allow_wildcard = 0;
	pol_strict.cn_only = CA_CN_ONLY_REFUSE;
	snprintf(pol_strict.dns_suffixes[0], sizeof(pol_strict.dns_suffixes[0]), "example.com");
	snprintf(pol_strict.dns_suffixes[1], sizeof(pol_strict.dns_suffixes[1]), "corp.example");
	pol_strict.n_dns_suffixes = 2;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	make_issuer();
	make_constrained();
	make_policies();
	resign_key[K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	resign_key[K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	resign_key[K_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	resign_key[K_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	for (int i = 0; i < K_COUNT; i++)
		if (resign_key[i] == NULL)
			die("re-signing keys");
	ERR_clear_error();
	return 0;
}

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_csr: %s\n", what);
	abort();
}

static int under(const char *name, size_t len, const char *sfx)
{
	size_t s = strlen(sfx);

	if (len == s)
		return memcmp(name, sfx, s) == 0;
	return len > s + 1 && name[len - s - 1] == '.' && memcmp(name + len - s, sfx, s) == 0;
}

/* What the strict policy promises about a request it accepted (and about its certificate). */
static void strict_promises(const ca_request *req, X509 *x)
{
	GENERAL_NAMES *in_cert = NULL;
	int n = sk_GENERAL_NAME_num(req->sans);

	if (req->is_rsa ? req->key_bits < 3072 : strcmp(req->key_desc, "EC P-384") != 0)
		broken("the strict policy accepted a key it does not allow");
	if (n < 1 || n > CA_MAX_SANS_PER_CERT)
		broken("the strict policy accepted a request without SANs or with too many");
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(req->sans, i);
		const char *d;
		size_t len;

		if (gn->type != GEN_DNS)
			broken("the strict policy accepted a non-DNS SAN");
		d = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		len = (size_t)ASN1_STRING_length(gn->d.dNSName);
		if (memchr(d, '*', len) != NULL || memchr(d, '\0', len) != NULL ||
		    (!under(d, len, "example.com") && !under(d, len, "corp.example")))
			broken("the strict policy accepted a DNS SAN outside its suffixes");
		for (size_t k = 0; k < len; k++)
			if (d[k] >= 'A' && d[k] <= 'Z')
				broken("a DNS SAN was not lower-cased");
	}
	if (x == NULL)
		return;
	in_cert = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (in_cert == NULL || sk_GENERAL_NAME_num(in_cert) != n)
		broken("the certificate does not carry the accepted SANs");
	for (int i = 0; i < n; i++)
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(in_cert, i), sk_GENERAL_NAME_value(req->sans, i)) != 0)
			broken("the certificate carries other SANs than the accepted ones");
	GENERAL_NAMES_free(in_cert);
	if (X509_check_ca(x) != 0)
		broken("a leaf built from a request is a CA certificate");
}

/* Everything offca does with an accepted request under one policy. */
static void issue(const ca_policy *pol, const ca_csr *csr)
{
	static const unsigned char serial[16] = {0x7f, 0xee, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	ca_request req;
	ca_cert_spec spec;
	ca_lint_result lint;
	X509 *x = NULL;
	char text[CA_MAX_DN_TEXT];

	if (ca_policy_check(pol, csr, &req) != OFFCA_OK)
		return;
	(void)ca_x509_name_text(req.subject, text, sizeof(text));
	for (int i = 0; i < sk_GENERAL_NAME_num(req.sans); i++)
		ca_policy_san_text(sk_GENERAL_NAME_value(req.sans, i), text, sizeof(text));
	memset(&spec, 0, sizeof(spec));
	spec.profile = CA_PROFILE_SERVER;
	spec.subject = req.subject;
	spec.sans = req.sans;
	spec.subject_key = req.pubkey;
	spec.subject_spki = req.spki;
	spec.serial = serial;
	spec.serial_len = sizeof(serial);
	spec.not_before = 1750000000;
	spec.not_after = 1750000000 + 90LL * 86400;
	spec.issuer = issuer_cert;
	spec.path_len = -1;
	spec.crl_dp_url = "http://crl.example.com/fuzz.crl";
	if (ca_x509_build(&spec, &x) == OFFCA_OK && ca_x509_sign(x, issuer_key) == OFFCA_OK) {
		if (ca_x509_verify(x, issuer_key) != OFFCA_OK)
			broken("a certificate just signed does not verify");
		memset(&lint, 0, sizeof(lint));
		(void)ca_lint_cert(x, issuer_cert, NULL, &lint);
		ca_lint_result_clear(&lint);
	}
	if (pol == &pol_strict)
		strict_promises(&req, x);
	X509_free(x);
	ca_request_clear(&req);
}

/* What the name-constraints check promises: a request the policy accepts under the constrained
   intermediate gives a leaf OpenSSL's own verifier accepts (no name-constraint error). */
static void constrained(const ca_csr *csr)
{
	static const unsigned char serial[16] = {0x7e, 0xee, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	ca_request req;
	ca_cert_spec spec;
	X509 *x = NULL;
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	unsigned char *der = NULL;
	size_t dlen = 0;
	int err;

	if (ca_policy_check_chain(&pol_permissive, nc_chain, csr, &req) != OFFCA_OK)
		return;
	memset(&spec, 0, sizeof(spec));
	spec.profile = CA_PROFILE_SERVER;
	spec.subject = req.subject;
	spec.sans = req.sans;
	spec.subject_key = req.pubkey;
	spec.subject_spki = req.spki;
	spec.serial = serial;
	spec.serial_len = sizeof(serial);
	spec.not_before = 1750000000;
	spec.not_after = 1750000000 + 90LL * 86400;
	spec.issuer = nc_cert;
	spec.path_len = -1;
	if (ca_x509_build(&spec, &x) != OFFCA_OK || ca_x509_sign(x, nc_key) != OFFCA_OK ||
	    ca_x509_to_der(x, &der, &dlen) != OFFCA_OK)
		goto out;
	/* as a verifier sees it: from its DER (the built one holds the CSR's undecoded key) */
	X509_free(x);
	x = NULL;
	if (ca_x509_from_der(der, dlen, &x) != OFFCA_OK)
		goto out;
	st = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	untrusted = sk_X509_new_null();
	if (st == NULL || ctx == NULL || untrusted == NULL || !sk_X509_push(untrusted, nc_cert) ||
	    X509_STORE_add_cert(st, issuer_cert) != 1 || X509_STORE_CTX_init(ctx, st, x, untrusted) != 1)
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), 1750000000 + 3600);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		if (err == X509_V_ERR_PERMITTED_VIOLATION || err == X509_V_ERR_EXCLUDED_VIOLATION ||
		    err == X509_V_ERR_UNSUPPORTED_NAME_SYNTAX || err == X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX)
			broken("the policy accepted a name that OpenSSL's name-constraint check refuses");
	}
out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(x);
	OPENSSL_free(der);
	ca_request_clear(&req);
}

static void intake(const uint8_t *data, size_t size)
{
	ca_csr *csr = NULL;
	size_t dlen = 0;

	if (ca_csr_parse(data, size, &csr) != OFFCA_OK)
		return;
	if (ca_csr_der(csr, &dlen) == NULL || dlen == 0 || ca_csr_pubkey(csr) == NULL) {
		fprintf(stderr, "fuzz_csr: an accepted request without DER or key\n");
		abort();
	}
	issue(&pol_permissive, csr);
	issue(&pol_strict, csr);
	constrained(csr);
	ca_csr_free(csr);
}

/* The harness key standing in for the request's own (same kind when there is one of it). */
static EVP_PKEY *resign_key_for(X509_REQ *req)
{
	X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(req);
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *palg = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF;

	if (xpk == NULL || X509_PUBKEY_get0_param(&alg, NULL, NULL, &palg, xpk) != 1)
		return resign_key[K_P256];
	switch (OBJ_obj2nid(alg)) {
	case NID_rsaEncryption:
		return resign_key[K_RSA];
	case NID_ED25519:
		return resign_key[K_ED25519];
	case NID_X9_62_id_ecPublicKey:
		X509_ALGOR_get0(NULL, &ptype, &pval, palg);
		if (ptype == V_ASN1_OBJECT && OBJ_obj2nid(pval) == NID_secp384r1)
			return resign_key[K_P384];
		return resign_key[K_P256];
	default:
		return resign_key[K_P256];
	}
}

/* OpenSSL's lenient reading of the input (DER, else PEM), re-signed, then the strict intake. */
static void resigned_intake(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	EVP_PKEY *k;
	unsigned char *der = NULL;
	int n;

	if (size > CA_CSR_MAX_INPUT)
		return;
	req = d2i_X509_REQ(NULL, &p, (long)size);
	if (req == NULL) {
		bio = BIO_new_mem_buf(data, (int)size);
		if (bio != NULL)
			req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	}
	if (req == NULL)
		goto out;
	k = resign_key_for(req);
	if (X509_REQ_set_pubkey(req, k) != 1 ||
	    X509_REQ_sign(req, k, EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0)
		goto out;
	n = i2d_X509_REQ(req, &der);
	if (n > 0)
		intake(der, (size_t)n);
out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(bio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	intake(data, size);
	resigned_intake(data, size);
	ERR_clear_error();
	return 0;
}
