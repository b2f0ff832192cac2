/* test_csr.c - strict CSR intake and policy on CSRs made by real tools (tests/data/csr, README.md). */
#include "testutil.h"

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <pthread.h>

struct csr_case {
	const char *file;
	offca_rc rc;       /* expected from parse + policy check with the default policy */
	const char *rule;  /* substring of the detail ("policy <rule>") or NULL */
};

static const struct csr_case cases[] = {
	{"ok_openssl_ec256.pem", OFFCA_OK, NULL},
	{"ok_openssl_ec256.der", OFFCA_OK, NULL},
	{"ok_openssl_ec384.pem", OFFCA_OK, NULL},
	{"ok_openssl_rsa2048.pem", OFFCA_OK, NULL},
	{"ok_openssl_wildcard.pem", OFFCA_OK, NULL},
	{"ok_openssl_ip.pem", OFFCA_OK, NULL},
	{"ok_openssl_mixedcase.pem", OFFCA_OK, NULL},
	{"ok_openssl_asks_ca.pem", OFFCA_OK, NULL},
	{"ok_certbot_empty_subject.pem", OFFCA_OK, NULL},
	{"ok_certtool_ec256.pem", OFFCA_OK, NULL},
	{"ok_keytool_cn_only.pem", OFFCA_OK, NULL},
	{"ok_keytool_san.pem", OFFCA_OK, NULL},
	{"ok_keytool_rsa.pem", OFFCA_OK, NULL},
	{"ok_crafted_v1.pem", OFFCA_OK, NULL},
	{"bad_rsa1024.pem", OFFCA_E_POLICY, "policy rsa-min-bits"},
	{"bad_p192.pem", OFFCA_E_POLICY, "policy ec-curve"},
	{"bad_secp256k1.pem", OFFCA_E_POLICY, "policy ec-curve"},
	{"bad_ed25519.pem", OFFCA_E_POLICY, "policy key-type"},
	{"bad_wildcard_middle.pem", OFFCA_E_POLICY, "policy san-wildcard"},
	{"bad_wildcard_partial.pem", OFFCA_E_POLICY, "policy san-wildcard"},
	{"bad_wildcard_tld.pem", OFFCA_E_POLICY, "policy san-wildcard"},
	{"bad_empty_label.pem", OFFCA_E_POLICY, "policy san-dns-syntax"},
	{"bad_underscore.pem", OFFCA_E_POLICY, "policy san-dns-syntax"},
	{"bad_long_label.pem", OFFCA_E_POLICY, "policy san-dns-syntax"},
	{"bad_trailing_dot.pem", OFFCA_E_POLICY, "policy san-dns-syntax"},
	{"bad_cn_not_in_san.pem", OFFCA_E_POLICY, "policy cn-not-in-san"},
	{"bad_email_san.pem", OFFCA_E_POLICY, "policy san-email"},
	{"bad_uri_san.pem", OFFCA_E_POLICY, "policy san-uri"},
	{"bad_no_name.pem", OFFCA_E_POLICY, "policy san-required"},
	{"bad_sha1.pem", OFFCA_E_POLICY, "policy csr-signature-digest"},
	{"bad_md5.pem", OFFCA_E_POLICY, "policy csr-signature-digest"},
	{"bad_bidi_subject.pem", OFFCA_E_POLICY, "policy format-char"},
	{"bad_unknown_critical.pem", OFFCA_E_POLICY, "policy csr-critical-ext"},
	{"bad_two_blocks.pem", OFFCA_E_POLICY, "policy csr-pem-count"},
	{"bad_trailing_garbage.der", OFFCA_E_PARSE, "policy csr-der"},
	{"bad_truncated.der", OFFCA_E_PARSE, "policy csr-der"},
	{"bad_signature.der", OFFCA_E_POLICY, "policy csr-signature"},
	{"bad_nonminimal_length.der", OFFCA_E_PARSE, "policy csr-der"},
	{"bad_version2.pem", OFFCA_E_POLICY, "policy csr-version"},
	{"bad_dup_san.pem", OFFCA_E_POLICY, "policy csr-duplicate-ext"},
};

static offca_rc load_and_check(const char *file, const ca_policy *pol, ca_request *req)
{
	char path[1024];
	ca_csr *csr = NULL;
	offca_rc rc;

	snprintf(path, sizeof(path), "%s/csr/%s", getenv("OFFCA_TEST_DATA"), file);
	rc = ca_csr_load(path, &csr);
	if (rc == OFFCA_OK)
		rc = ca_policy_check(pol, csr, req);
	ca_csr_free(csr);
	return rc;
}

static void test_table(void **state)
{
	ca_issuer_cfg d;

	(void)state;
	ca_config_defaults(&d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_request req;
		offca_rc rc = load_and_check(cases[i].file, &d.policy, &req);
		if (rc != cases[i].rc || (cases[i].rule != NULL && strstr(ut_err_msg(), cases[i].rule) == NULL))
			fail_msg("%s: got rc %d '%s', want %d '%s'", cases[i].file, rc,
				 rc ? ut_err_msg() : "", cases[i].rc, cases[i].rule ? cases[i].rule : "");
		ca_request_clear(&req);
	}
}

static void test_keytool_cn_only(void **state)
{
	ca_issuer_cfg d;
	ca_request req;
	char buf[256];

	(void)state;
	ca_config_defaults(&d);
	assert_int_equal(load_and_check("ok_keytool_cn_only.pem", &d.policy, &req), OFFCA_OK);
	assert_int_equal(req.cn_copied, 1);
	assert_int_equal(sk_GENERAL_NAME_num(req.sans), 1);
	ca_policy_san_text(sk_GENERAL_NAME_value(req.sans, 0), buf, sizeof(buf));
	assert_string_equal(buf, "DNS:java.example.com");
	ca_request_clear(&req);
	d.policy.cn_only = CA_CN_ONLY_REFUSE;
	assert_int_equal(load_and_check("ok_keytool_cn_only.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy cn-only"));
}

static void test_policy_knobs(void **state)
{
	ca_issuer_cfg d;
	ca_request req;
	char buf[256];

	(void)state;
	ca_config_defaults(&d);
	/* dns suffix */
	strcpy(d.policy.dns_suffixes[0], "corp.example");
	d.policy.n_dns_suffixes = 1;
	assert_int_equal(load_and_check("ok_openssl_ec256.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy san-dns-suffix"));
	strcpy(d.policy.dns_suffixes[0], "example.com");
	assert_int_equal(load_and_check("ok_openssl_ec256.pem", &d.policy, &req), OFFCA_OK);
	ca_request_clear(&req);
	/* IP forbidden */
	d.policy.allow_ip_san = 0;
	assert_int_equal(load_and_check("ok_openssl_ip.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy san-ip"));
	/* wildcard forbidden */
	d.policy.allow_wildcard = 0;
	assert_int_equal(load_and_check("ok_openssl_wildcard.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy san-wildcard"));
	/* RSA minimum raised, RSA forbidden, P-384 forbidden */
	d.policy.rsa_min_bits = 3072;
	assert_int_equal(load_and_check("ok_openssl_rsa2048.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy rsa-min-bits"));
	d.policy.allow_rsa = 0;
	assert_int_equal(load_and_check("ok_openssl_rsa2048.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy key-type"));
	d.policy.allow_p384 = 0;
	assert_int_equal(load_and_check("ok_openssl_ec384.pem", &d.policy, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy ec-curve"));
	/* email and URI allowed when configured */
	ca_config_defaults(&d);
	d.policy.allow_email_san = 1;
	d.policy.allow_uri_san = 1;
	assert_int_equal(load_and_check("bad_email_san.pem", &d.policy, &req), OFFCA_OK);
	ca_request_clear(&req);
	assert_int_equal(load_and_check("bad_uri_san.pem", &d.policy, &req), OFFCA_OK);
	ca_request_clear(&req);
	/* mixed case is normalized */
	ca_config_defaults(&d);
	assert_int_equal(load_and_check("ok_openssl_mixedcase.pem", &d.policy, &req), OFFCA_OK);
	ca_policy_san_text(sk_GENERAL_NAME_value(req.sans, 0), buf, sizeof(buf));
	assert_string_equal(buf, "DNS:mixed.example.com");
	ca_request_clear(&req);
}

static void test_dns_syntax(void **state)
{
	static const char *good[] = {"a.example", "xn--bcher-kva.example", "*.a.example", "a-b.c", "0a.example"};
	static const char *bad[] = {"", ".a.example", "a.example.", "a..b", "-a.example", "a-.example", "*.example",
				    "a.*.example", "*a.b.example", "b\xc3\xbc.example", "1.2.3.4", "a b.example"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ca_policy_dns_syntax(good[i], strlen(good[i])) != OFFCA_OK)
			fail_msg("%s refused: %s", good[i], ut_err_msg());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ca_policy_dns_syntax(bad[i], strlen(bad[i])) != OFFCA_E_POLICY)
			fail_msg("'%s' accepted", bad[i]);
	{
		char longname[300];
		memset(longname, 'a', sizeof(longname));
		for (int i = 60; i < 290; i += 61)
			longname[i] = '.';
		longname[299] = '\0';
		assert_int_equal(ca_policy_dns_syntax(longname, strlen(longname)), OFFCA_E_POLICY);
	}
}

static void test_size_and_label(void **state)
{
	unsigned char *big = calloc(1, 1024 * 1024 + 10);
	ca_csr *csr = NULL;
	const char *pem = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";

	(void)state;
	assert_non_null(big);
	memset(big, 'A', 1024 * 1024);
	assert_int_equal(ca_csr_parse(big, 1024 * 1024, &csr), OFFCA_E_TOO_BIG);
	assert_non_null(strstr(ut_err_msg(), "policy csr-size"));
	free(big);
	assert_int_equal(ca_csr_parse((const unsigned char *)pem, strlen(pem), &csr), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "policy csr-pem"));
	assert_int_equal(ca_csr_parse((const unsigned char *)"", 0, &csr), OFFCA_E_PARSE);
	assert_null(csr);
	{
		/* readable text before the block that happens to start with '0' (0x30) is still PEM */
		char path[1024], buf[8192];
		unsigned char *pemf = NULL;
		size_t plen = 0;
		int n;
		snprintf(path, sizeof(path), "%s/csr/ok_openssl_ec256.pem", getenv("OFFCA_TEST_DATA"));
		assert_int_equal(ut_read_file(path, 65536, 1, &pemf, &plen), OFFCA_OK);
		n = snprintf(buf, sizeof(buf), "0 notes: request for www\n%.*s", (int)plen, (const char *)pemf);
		assert_int_equal(ca_csr_parse((const unsigned char *)buf, (size_t)n, &csr), OFFCA_OK);
		assert_int_equal(ca_csr_is_keytool_label(csr), 0);
		ca_csr_free(csr);
		free(pemf);
	}
}

/* ---- key decoding and self-signature paths (core/csr_key.c) ---- */

/* The key as OpenSSL's own decoders give it (d2i_PUBKEY on the SubjectPublicKeyInfo). */
static EVP_PKEY *reference_key(const ca_csr *csr)
{
	unsigned char *spki = NULL;
	const unsigned char *p;
	EVP_PKEY *k;
	int n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(ca_csr_req(csr)), &spki);

	assert_true(n > 0);
	p = spki;
	k = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(spki);
	return k;
}

static void assert_same_key(const char *what, const ca_csr *csr)
{
	EVP_PKEY *got = ca_csr_pubkey(csr), *want = reference_key(csr);
	unsigned char *eg = NULL, *ew = NULL;
	size_t ng, nw;
	char gg[64] = "", gw[64] = "";

	if (want == NULL)
		fail_msg("%s: OpenSSL cannot decode the key", what);
	if (EVP_PKEY_eq(got, want) != 1 || strcmp(EVP_PKEY_get0_type_name(got), EVP_PKEY_get0_type_name(want)) != 0 ||
	    EVP_PKEY_get_base_id(got) != EVP_PKEY_get_base_id(want) || EVP_PKEY_get_bits(got) != EVP_PKEY_get_bits(want))
		fail_msg("%s: the key differs from OpenSSL's decoding (%s/%s)", what, EVP_PKEY_get0_type_name(got),
			 EVP_PKEY_get0_type_name(want));
	ng = EVP_PKEY_get1_encoded_public_key(got, &eg);
	nw = EVP_PKEY_get1_encoded_public_key(want, &ew);
	/* (EC and X25519/Ed25519 have an encoded form; RSA's n and e are compared by EVP_PKEY_eq) */
	if (ng != nw || (ng > 0 && memcmp(eg, ew, ng) != 0))
		fail_msg("%s: the encoded public key differs", what);
	if (EVP_PKEY_get_base_id(want) == EVP_PKEY_EC) {
		EVP_PKEY_get_utf8_string_param(got, OSSL_PKEY_PARAM_GROUP_NAME, gg, sizeof(gg), NULL);
		EVP_PKEY_get_utf8_string_param(want, OSSL_PKEY_PARAM_GROUP_NAME, gw, sizeof(gw), NULL);
		if (strcmp(gg, gw) != 0)
			fail_msg("%s: curve %s, OpenSSL says %s", what, gg, gw);
	}
	OPENSSL_free(eg);
	OPENSSL_free(ew);
	EVP_PKEY_free(want);
}

/* Every request of the table that parses: the same key as OpenSSL's decoders give. */
static void test_key_as_openssl(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[1024];
		ca_csr *csr = NULL;

		snprintf(path, sizeof(path), "%s/csr/%s", getenv("OFFCA_TEST_DATA"), cases[i].file);
		if (ca_csr_load(path, &csr) != OFFCA_OK)
			continue;
		assert_same_key(cases[i].file, csr);
		ca_csr_free(csr);
	}
}

/* The first occurrence of needle in buf, or NULL. */
static unsigned char *find_bytes(unsigned char *buf, size_t len, const void *needle, size_t nlen)
{
	for (size_t i = 0; nlen > 0 && i + nlen <= len; i++)
		if (memcmp(buf + i, needle, nlen) == 0)
			return buf + i;
	return NULL;
}

/* kind: "P-256", "P-384", "RSA", "ED25519" */
static EVP_PKEY *gen_key(const char *kind)
{
	EVP_PKEY *k;

	if (strcmp(kind, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(kind, "ED25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kind);
	assert_non_null(k);
	return k;
}

/* A DER request for CN=www.example.com signed by k with md (NULL: Ed25519), RSA-PSS if pss. */
static int make_csr(EVP_PKEY *k, const char *md, int pss, unsigned char **der)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int n;

	assert_non_null(r);
	assert_non_null(name);
	assert_non_null(mctx);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"www.example.com",
						    -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(r, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
	assert_int_equal(EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, k, NULL), 1);
	if (pss)
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_true(X509_REQ_sign_ctx(r, mctx) > 0);
	*der = NULL;
	n = i2d_X509_REQ(r, der);
	assert_true(n > 0);
	EVP_MD_CTX_free(mctx);
	X509_NAME_free(name);
	X509_REQ_free(r);
	return n;
}

static void expect_refused(const char *what, const unsigned char *der, int n, offca_rc want, const char *rule)
{
	ca_csr *csr = NULL;
	offca_rc rc = ca_csr_parse(der, (size_t)n, &csr);

	if (rc != want || strstr(ut_err_msg(), rule) == NULL)
		fail_msg("%s: got rc %d '%s', want %d '%s'", what, rc, rc ? ut_err_msg() : "", want, rule);
	assert_null(csr);
}

/* Each key type and digest: accepted, same key; a flipped bit in the signature or in the signed
   part refused. */
static void test_sig_algs(void **state)
{
	static const struct {
		const char *key, *md;
		int pss;
	} algs[] = {
		{"P-256", "SHA256", 0}, {"P-256", "SHA384", 0}, {"P-256", "SHA512", 0}, {"P-384", "SHA384", 0},
		{"P-384", "SHA256", 0}, {"RSA", "SHA256", 0},   {"RSA", "SHA384", 0},   {"RSA", "SHA512", 0},
		{"RSA", "SHA256", 1},   {"ED25519", NULL, 0},
	};
	EVP_PKEY *keys[4] = {gen_key("P-256"), gen_key("P-384"), gen_key("RSA"), gen_key("ED25519")};
	static const char *kinds[4] = {"P-256", "P-384", "RSA", "ED25519"};

	(void)state;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char what[64];
		unsigned char *der = NULL, *cn;
		ca_csr *csr = NULL;
		EVP_PKEY *k = NULL;
		int n;

		for (size_t j = 0; j < 4; j++)
			if (strcmp(kinds[j], algs[i].key) == 0)
				k = keys[j];
		snprintf(what, sizeof(what), "%s %s%s", algs[i].key, algs[i].md ? algs[i].md : "", algs[i].pss ? " PSS" : "");
		n = make_csr(k, algs[i].md, algs[i].pss, &der);
		if (ca_csr_parse(der, (size_t)n, &csr) != OFFCA_OK)
			fail_msg("%s: refused: %s", what, ut_err_msg());
		assert_int_equal(EVP_PKEY_eq(ca_csr_pubkey(csr), k), 1);
		assert_same_key(what, csr);
		ca_csr_free(csr);
		der[n - 1] ^= 0x01; /* the last byte of the signature */
		expect_refused(what, der, n, OFFCA_E_POLICY, "policy csr-signature");
		der[n - 1] ^= 0x01;
		cn = find_bytes(der, (size_t)n, "www.example.com", 15);
		assert_non_null(cn);
		cn[0] = 'v';
		expect_refused(what, der, n, OFFCA_E_POLICY, "policy csr-signature");
		OPENSSL_free(der);
	}
	for (size_t j = 0; j < 4; j++)
		EVP_PKEY_free(keys[j]);
}

/* The request's signature algorithm must belong to its key's type, and name the digest used. */
static void test_sig_alg_mismatch(void **state)
{
	static const struct {
		const char *key;
		int alg;
	} cases_mm[] = {
		{"P-256", NID_sha256WithRSAEncryption}, {"P-256", NID_ecdsa_with_SHA384}, {"P-256", NID_ED25519},
		{"P-384", NID_sha384WithRSAEncryption}, {"RSA", NID_ecdsa_with_SHA256},   {"RSA", NID_sha384WithRSAEncryption},
		{"RSA", NID_rsassaPss},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases_mm) / sizeof(cases_mm[0]); i++) {
		EVP_PKEY *k = gen_key(cases_mm[i].key);
		unsigned char *der = NULL, *der2 = NULL;
		const unsigned char *p;
		X509_REQ *r;
		X509_ALGOR *alg = X509_ALGOR_new();
		int n, n2;
		char what[64];

		n = make_csr(k, "SHA256", 0, &der);
		p = der;
		r = d2i_X509_REQ(NULL, &p, n);
		assert_non_null(r);
		assert_non_null(alg);
		assert_int_equal(X509_ALGOR_set0(alg, OBJ_nid2obj(cases_mm[i].alg), V_ASN1_UNDEF, NULL), 1);
		assert_int_equal(X509_REQ_set1_signature_algo(r, alg), 1);
		n2 = i2d_X509_REQ(r, &der2);
		assert_true(n2 > 0);
		snprintf(what, sizeof(what), "%s key, %s", cases_mm[i].key, OBJ_nid2sn(cases_mm[i].alg));
		expect_refused(what, der2, n2, OFFCA_E_POLICY, "policy csr-signature");
		X509_ALGOR_free(alg);
		X509_REQ_free(r);
		OPENSSL_free(der);
		OPENSSL_free(der2);
		EVP_PKEY_free(k);
	}
}

/* A point not on the curve is refused as an unreadable key; a compressed point is fine. */
static void test_ec_points(void **state)
{
	static const char *curves[] = {"P-256", "P-384"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *k = gen_key(curves[i]);
		unsigned char *der = NULL, *enc = NULL, *at;
		size_t elen;
		ca_csr *csr = NULL;
		int n;

		n = make_csr(k, "SHA256", 0, &der);
		elen = EVP_PKEY_get1_encoded_public_key(k, &enc);
		assert_true(elen > 0);
		at = find_bytes(der, (size_t)n, enc, elen);
		assert_non_null(at);
		at[elen - 1] ^= 0x01; /* y's last bit: (x, y+-1) is not on the curve */
		expect_refused(curves[i], der, n, OFFCA_E_PARSE, "policy csr-key");
		OPENSSL_free(der);
		OPENSSL_free(enc);

		assert_int_equal(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
								 "compressed"), 1);
		n = make_csr(k, "SHA256", 0, &der);
		if (ca_csr_parse(der, (size_t)n, &csr) != OFFCA_OK)
			fail_msg("%s compressed: refused: %s", curves[i], ut_err_msg());
		assert_int_equal(EVP_PKEY_eq(ca_csr_pubkey(csr), k), 1);
		assert_same_key(curves[i], csr);
		ca_csr_free(csr);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

/* A signature BIT STRING with unused bits is refused even when its bytes are a valid signature
   (as X509_REQ_verify does): find a signature whose last bit is 0, so DER stays canonical. */
static void test_sig_unused_bits(void **state)
{
	EVP_PKEY *k = gen_key("P-256");
	unsigned char *der = NULL;
	int n = 0, tries;

	(void)state;
	for (tries = 0; tries < 64; tries++) {
		n = make_csr(k, "SHA256", 0, &der);
		if ((der[n - 1] & 1) == 0)
			break;
		OPENSSL_free(der);
		der = NULL;
	}
	assert_non_null(der);
	{
		const unsigned char *p = der;
		X509_REQ *r = d2i_X509_REQ(NULL, &p, n);
		const ASN1_BIT_STRING *sig = NULL;
		ca_csr *csr = NULL;

		assert_non_null(r);
		X509_REQ_get0_signature(r, &sig, NULL);
		assert_int_equal(der[n - ASN1_STRING_length(sig) - 1], 0); /* the unused-bits octet */
		assert_int_equal(ca_csr_parse(der, (size_t)n, &csr), OFFCA_OK);
		ca_csr_free(csr);
		der[n - ASN1_STRING_length(sig) - 1] = 1;
		expect_refused("unused bits", der, n, OFFCA_E_POLICY, "policy csr-signature");
		X509_REQ_free(r);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* Two threads parsing at once (as sign_batch.c does), each with its own caches, freed at exit. */
struct par_job {
	const unsigned char *der[2];
	int n[2];
	int failures;
};

static void *par_run(void *arg)
{
	struct par_job *j = arg;

	for (int i = 0; i < 40; i++) {
		ca_csr *csr = NULL;

		if (ca_csr_parse(j->der[i % 2], (size_t)j->n[i % 2], &csr) != OFFCA_OK)
			j->failures++;
		ca_csr_free(csr);
	}
	return NULL;
}

static void test_threads(void **state)
{
	EVP_PKEY *ec = gen_key("P-256"), *rsa = gen_key("RSA");
	unsigned char *d1 = NULL, *d2 = NULL;
	struct par_job jobs[2];
	pthread_t th[2];

	(void)state;
	jobs[0].n[0] = make_csr(ec, "SHA256", 0, &d1);
	jobs[0].n[1] = make_csr(rsa, "SHA256", 0, &d2);
	jobs[0].der[0] = d1;
	jobs[0].der[1] = d2;
	jobs[0].failures = 0;
	jobs[1] = jobs[0];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, par_run, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(jobs[0].failures + jobs[1].failures, 0);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

/* What follows the PEM block: text is fine, a second block or a broken one is not. */
static void test_pem_after(void **state)
{
	static const struct {
		const char *tail;
		offca_rc rc;
		const char *rule;
	} tails[] = {
		{"", OFFCA_OK, NULL},
		{"\n\nnotes: no block here ----- BEGIN\n", OFFCA_OK, NULL},
		{"-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n", OFFCA_E_PARSE, "policy csr-pem: broken PEM"},
		{"x-----BEGIN X-----\nMAA=\n-----END X-----\n", OFFCA_OK, NULL}, /* not at a line start */
		{"-----BEGIN X-----\nMAA=\n-----END X-----\n", OFFCA_E_POLICY, "policy csr-pem-count"},
	};
	char path[1024], buf[8192];
	unsigned char *pem = NULL;
	size_t plen = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/csr/ok_openssl_ec256.pem", getenv("OFFCA_TEST_DATA"));
	assert_int_equal(ut_read_file(path, 65536, 1, &pem, &plen), OFFCA_OK);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		ca_csr *csr = NULL;
		offca_rc rc;
		int n = snprintf(buf, sizeof(buf), "%.*s%s", (int)plen, (const char *)pem, tails[i].tail);

		assert_true(n > 0 && (size_t)n < sizeof(buf));
		rc = ca_csr_parse((const unsigned char *)buf, (size_t)n, &csr);
		if (rc != tails[i].rc || (tails[i].rule != NULL && strstr(ut_err_msg(), tails[i].rule) == NULL))
			fail_msg("tail %zu: got rc %d '%s', want %d '%s'", i, rc, rc ? ut_err_msg() : "", tails[i].rc,
				 tails[i].rule ? tails[i].rule : "");
		ca_csr_free(csr);
	}
	free(pem);
}

static void test_days(void **state)
{
	ca_issuer_cfg d;
	unsigned days;

	(void)state;
	ca_config_defaults(&d);
	assert_int_equal(ca_policy_days(&d.policy, 0, &days), OFFCA_OK);
	assert_int_equal(days, 90);
	assert_int_equal(ca_policy_days(&d.policy, 397, &days), OFFCA_OK);
	assert_int_equal(ca_policy_days(&d.policy, 398, &days), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy max-validity"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),       cmocka_unit_test(test_keytool_cn_only),
		cmocka_unit_test(test_policy_knobs), cmocka_unit_test(test_dns_syntax),
		cmocka_unit_test(test_size_and_label), cmocka_unit_test(test_days),
		cmocka_unit_test(test_key_as_openssl), cmocka_unit_test(test_sig_algs),
		cmocka_unit_test(test_sig_alg_mismatch), cmocka_unit_test(test_ec_points),
		cmocka_unit_test(test_sig_unused_bits), cmocka_unit_test(test_threads),
		cmocka_unit_test(test_pem_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
