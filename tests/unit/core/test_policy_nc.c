/*
 * test_policy_nc.c - name constraints of the issuing chain enforced by the policy (issue 11,
 * point 2), cross-checked with OpenSSL's own verifier: for each request, the leaf built from it
 * (without the chain check) is signed by a constrained intermediate and X509_verify_cert() judges
 * it; the policy with the chain must refuse exactly what OpenSSL refuses (one documented case
 * where offca is stricter: a wildcard covering an excluded host). Also ip_ranges, format-char,
 * Ed25519, weak CSR digests and the config's issuer names and ip_ranges.
 */
#include "testutil.h"

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <time.h>

static EVP_PKEY *root_key, *int_key, *leaf_key;

/* A CSR (DER, signed by leaf_key with SHA-256) for subject text and a SAN list ("" none). */
static ca_csr *make_csr(const char *subject, const char *san)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = NULL;
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	unsigned char *der = NULL;
	int len;
	ca_csr *csr = NULL;

	assert_int_equal(ca_x509_parse_dn(subject, &n), OFFCA_OK);
	assert_int_equal(X509_REQ_set_subject_name(req, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, leaf_key), 1);
	if (san[0] != '\0') {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		assert_non_null(e);
		sk_X509_EXTENSION_push(exts, e);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	}
	assert_true(X509_REQ_sign(req, leaf_key, EVP_sha256()) > 0);
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	if (ca_csr_parse(der, (size_t)len, &csr) != OFFCA_OK)
		fail_msg("%s / %s: %s", subject, san, ut_err_msg());
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return csr;
}

static X509 *build(ca_profile prof, const char *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer,
		   const char *nc, const GENERAL_NAMES *sans, const X509_NAME *sub_name)
{
	static unsigned char serial = 1;
	unsigned char ser[16] = {0x40};
	X509_NAME *n = NULL;
	ca_cert_spec spec;
	X509 *x = NULL;
	int64_t now = (int64_t)time(NULL);

	ser[15] = serial++;
	if (sub_name == NULL)
		assert_int_equal(ca_x509_parse_dn(subject, &n), OFFCA_OK);
	memset(&spec, 0, sizeof(spec));
	spec.profile = prof;
	spec.subject = sub_name != NULL ? sub_name : n;
	spec.sans = sans;
	spec.subject_key = key;
	spec.serial = ser;
	spec.serial_len = sizeof(ser);
	spec.not_before = now - 3600;
	spec.not_after = now + (prof == CA_PROFILE_SERVER ? 30 : 3000) * 86400LL;
	spec.issuer = issuer;
	spec.path_len = -1;
	assert_int_equal(ca_x509_build(&spec, &x), OFFCA_OK);
	if (nc != NULL) {
		/* dirName:dir_sect refers to this section (DER order: C first) */
		static const char sect[] = "[dir_sect]\nC=DE\nO=Lab\n";
		BIO *b = BIO_new_mem_buf(sect, -1);
		CONF *conf = NCONF_new(NULL);
		X509V3_CTX v3;
		X509_EXTENSION *e;
		assert_true(NCONF_load_bio(conf, b, NULL) > 0);
		X509V3_set_ctx_nodb(&v3);
		X509V3_set_nconf(&v3, conf);
		e = X509V3_EXT_nconf_nid(conf, &v3, NID_name_constraints, nc);
		NCONF_free(conf);
		BIO_free(b);
		if (e == NULL)
			fail_msg("nameConstraints '%s' does not parse", nc);
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	assert_int_equal(ca_x509_sign(x, signer), OFFCA_OK);
	X509_NAME_free(n);
	return x;
}

struct chain {
	X509 *root, *inter;
	STACK_OF(X509) *sk; /* inter, root: what the signer holds */
};

static void chain_make(struct chain *c, const char *nc)
{
	c->root = build(CA_PROFILE_ROOT, "CN=NC Root,O=offca tests", root_key, NULL, root_key, NULL, NULL, NULL);
	c->inter = build(CA_PROFILE_INTERMEDIATE, "CN=NC Intermediate,O=offca tests", int_key, c->root, root_key, nc,
			 NULL, NULL);
	c->sk = sk_X509_new_null();
	sk_X509_push(c->sk, c->inter);
	sk_X509_push(c->sk, c->root);
}

static void chain_free(struct chain *c)
{
	sk_X509_free(c->sk);
	X509_free(c->inter);
	X509_free(c->root);
}

/* OpenSSL's verdict on the leaf made from req under c: X509_V_OK or the error. */
static int openssl_verdict(const struct chain *c, const ca_request *req)
{
	X509 *leaf = build(CA_PROFILE_SERVER, NULL, req->pubkey, c->inter, int_key, NULL, req->sans, req->subject);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok, err;

	sk_X509_push(untrusted, c->inter);
	X509_STORE_add_cert(st, c->root);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
	ok = X509_verify_cert(ctx);
	err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	X509_free(leaf);
	ERR_clear_error();
	return err;
}

struct nc_case {
	const char *subject, *san;
	int ok;             /* the policy accepts it */
	const char *msg;    /* substring of the refusal */
	int stricter;       /* offca refuses what OpenSSL accepts (documented) */
};

static const char *const NC =
	"critical,permitted;DNS:lab.example,permitted;DNS:.corp.example,excluded;DNS:bad.lab.example,"
	"permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:fd00::/ffff::,excluded;IP:10.9.0.0/255.255.0.0,"
	"permitted;email:lab.example,permitted;email:.mail.example,permitted;email:user@x.example";

static const struct nc_case nc_cases[] = {
	{"CN=x.lab.example", "DNS:x.lab.example", 1, NULL, 0},
	{"CN=lab.example", "DNS:lab.example", 1, NULL, 0},
	{"CN=X.Lab.Example", "DNS:X.Lab.Example", 1, NULL, 0},
	{"CN=*.lab.example", "DNS:*.lab.example", 0, "DNS:*.lab.example is in the excluded subtree DNS:bad.lab.example", 1},
	{"CN=mqtt.iot.example", "DNS:mqtt.iot.example", 0,
	 "policy name-constraints: DNS:mqtt.iot.example is not within the permitted subtrees of CA 'CN=NC Intermediate,O=offca tests'", 0},
	{"CN=dev1.iot.example", "", 0, "DNS:dev1.iot.example is not within the permitted subtrees", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,DNS:dev1.iot.example", 0, "DNS:dev1.iot.example", 0},
	{"CN=xlab.example", "DNS:xlab.example", 0, "DNS:xlab.example is not within", 0},
	{"CN=bad.lab.example", "DNS:bad.lab.example", 0, "DNS:bad.lab.example is in the excluded subtree DNS:bad.lab.example", 0},
	{"CN=a.bad.lab.example", "DNS:a.bad.lab.example", 0, "excluded subtree DNS:bad.lab.example", 0},
	{"CN=corp.example", "DNS:corp.example", 0, "DNS:corp.example is not within", 0},
	{"CN=h.corp.example", "DNS:h.corp.example", 1, NULL, 0},
	{"CN=x.lab.example", "DNS:x.lab.example,IP:10.1.2.3", 1, NULL, 0},
	{"CN=10.1.2.3", "", 0, "DNS:10.1.2.3 is not within", 0}, /* OpenSSL reads such a CN as a DNS name */
	{"CN=10.1.2.3", "DNS:x.lab.example,IP:10.1.2.3", 1, NULL, 0}, /* a DNS SAN: the CN is not read */
	{"CN=x.lab.example", "DNS:x.lab.example,IP:10.9.1.1", 0, "IP:10.9.1.1 is in the excluded subtree", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,IP:11.0.0.1", 0, "IP:11.0.0.1 is not within", 0},
	{"CN=11.0.0.1", "", 0, "IP:11.0.0.1 is not within", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,IP:fd00::5", 1, NULL, 0},
	{"CN=x.lab.example", "DNS:x.lab.example,IP:fe80::1", 0, "IP:fe80::1 is not within", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:a@lab.example", 1, NULL, 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:a@sub.lab.example", 0, "email:a@sub.lab.example", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:a@h.mail.example", 1, NULL, 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:a@mail.example", 0, "email:a@mail.example", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:user@X.example", 1, NULL, 0},
	{"CN=x.lab.example", "DNS:x.lab.example,email:other@x.example", 0, "email:other@x.example", 0},
	{"CN=x.lab.example", "DNS:x.lab.example,URI:https://anything.example/x", 1, NULL, 0},
};

static ca_policy open_policy(void)
{
	ca_issuer_cfg d;

	ca_config_defaults(&d);
	d.policy.allow_email_san = 1;
	d.policy.allow_uri_san = 1;
	return d.policy;
}

static void test_against_openssl(void **state)
{
	struct chain c;
	ca_policy pol = open_policy();

	(void)state;
	chain_make(&c, NC);
	for (size_t i = 0; i < sizeof(nc_cases) / sizeof(nc_cases[0]); i++) {
		const struct nc_case *k = &nc_cases[i];
		ca_csr *csr = make_csr(k->subject, k->san);
		ca_request plain, chained;
		offca_rc rc;
		int v;

		/* without the chain (the old behaviour) every one of them passes */
		assert_int_equal(ca_policy_check(&pol, csr, &plain), OFFCA_OK);
		v = openssl_verdict(&c, &plain);
		rc = ca_policy_check_chain(&pol, c.sk, csr, &chained);
		if (k->ok ? rc != OFFCA_OK : (rc != OFFCA_E_POLICY || strstr(ut_err_msg(), k->msg) == NULL))
			fail_msg("case %zu (%s / %s): rc %d '%s', want %s '%s'", i, k->subject, k->san, rc,
				 rc ? ut_err_msg() : "", k->ok ? "ok" : "refusal", k->msg ? k->msg : "");
		if (k->stricter) {
			assert_int_equal(v, X509_V_OK);
		} else if ((v == X509_V_OK) != (rc == OFFCA_OK)) {
			fail_msg("case %zu (%s / %s): OpenSSL says '%s', the policy %s", i, k->subject, k->san,
				 X509_verify_cert_error_string(v), rc == OFFCA_OK ? "accepts" : "refuses");
		}
		if (rc != OFFCA_OK && !k->stricter)
			assert_true(v == X509_V_ERR_PERMITTED_VIOLATION || v == X509_V_ERR_EXCLUDED_VIOLATION);
		ca_request_clear(&plain);
		ca_request_clear(&chained);
		ca_csr_free(csr);
	}
	chain_free(&c);
}

/* --permit-dns lab.example, as offca ca intermediate makes it; constraints on the root apply too */
static void test_permit_dns_and_root(void **state)
{
	const char *const permit[] = {"lab.example"};
	NAME_CONSTRAINTS *nc = NULL;
	ca_policy pol = open_policy();
	struct chain c;
	ca_csr *csr;
	ca_request req;

	(void)state;
	assert_int_equal(ca_x509_nc_permit_dns(permit, 1, &nc), OFFCA_OK);
	csr = make_csr("CN=mqtt.iot.example", "DNS:mqtt.iot.example");
	assert_int_equal(ca_policy_name_constraints(nc, "int1", X509_REQ_get_subject_name(ca_csr_req(csr)),
						    ca_csr_sans(csr)), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "DNS:mqtt.iot.example is not within the permitted subtrees of CA 'int1'"));
	ca_csr_free(csr);
	csr = make_csr("CN=x.lab.example", "DNS:x.lab.example");
	assert_int_equal(ca_policy_name_constraints(nc, "int1", NULL, ca_csr_sans(csr)), OFFCA_OK);
	ca_csr_free(csr);
	NAME_CONSTRAINTS_free(nc);

	/* the intermediate is unconstrained, the root excludes iot.example: the root is named */
	c.root = build(CA_PROFILE_ROOT, "CN=Strict Root", root_key, NULL, root_key, "critical,excluded;DNS:iot.example",
		       NULL, NULL);
	c.inter = build(CA_PROFILE_INTERMEDIATE, "CN=Free Intermediate", int_key, c.root, root_key, NULL, NULL, NULL);
	c.sk = sk_X509_new_null();
	sk_X509_push(c.sk, c.inter);
	sk_X509_push(c.sk, c.root);
	csr = make_csr("CN=dev1.iot.example", "");
	assert_int_equal(ca_policy_check_chain(&pol, c.sk, csr, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "DNS:dev1.iot.example is in the excluded subtree DNS:iot.example of CA 'CN=Strict Root'"));
	ca_csr_free(csr);
	/* a name outside the constraints is refused by name-constraints before the issuer's suffixes */
	strcpy(pol.dns_suffixes[0], "lab.example");
	pol.n_dns_suffixes = 1;
	csr = make_csr("CN=a.iot.example", "DNS:a.iot.example");
	assert_int_equal(ca_policy_check_chain(&pol, c.sk, csr, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy name-constraints"));
	ca_csr_free(csr);
	chain_free(&c);
}

/* directoryName subtrees judge the subject (canonical comparison, as OpenSSL) */
static void test_dirname(void **state)
{
	struct chain c;
	ca_policy pol = open_policy();
	static const struct {
		const char *subject;
		int ok;
	} cases[] = {
		{"CN=a.lab.example,O=Lab,C=DE", 1},
		{"CN=a.lab.example,O=LAB,C=DE", 1}, /* case-insensitive, as RFC 5280's matching rule */
		{"CN=a.lab.example,O=Other,C=DE", 0},
		{"CN=a.lab.example,C=DE", 0},
	};

	(void)state;
	chain_make(&c, "critical,permitted;dirName:dir_sect");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_csr *csr = make_csr(cases[i].subject, "DNS:a.lab.example");
		ca_request plain, req;
		offca_rc rc;
		int v;

		assert_int_equal(ca_policy_check(&pol, csr, &plain), OFFCA_OK);
		v = openssl_verdict(&c, &plain);
		rc = ca_policy_check_chain(&pol, c.sk, csr, &req);
		if ((rc == OFFCA_OK) != cases[i].ok || (v == X509_V_OK) != cases[i].ok)
			fail_msg("%s: policy %d '%s', OpenSSL '%s'", cases[i].subject, rc, rc ? ut_err_msg() : "",
				 X509_verify_cert_error_string(v));
		if (!cases[i].ok)
			assert_non_null(strstr(ut_err_msg(), "subject CN=a.lab.example"));
		ca_request_clear(&plain);
		ca_request_clear(&req);
		ca_csr_free(csr);
	}
	chain_free(&c);
}

/* URI subtrees judge the URI's host; a subtree with a maximum (forbidden) refuses everything */
static void test_uri_and_minmax(void **state)
{
	struct chain c;
	ca_policy pol = open_policy();
	static const struct {
		const char *san;
		int ok;
	} cases[] = {
		{"DNS:a.lab.example,URI:https://a.lab.example/x", 1},
		{"DNS:a.lab.example,URI:https://user@b.lab.example:8443/p?q", 1},
		{"DNS:a.lab.example,URI:https://lab.example/", 0},
		{"DNS:a.lab.example,URI:https://evil.example/a.lab.example", 0},
		{"DNS:a.lab.example,URI:urn:uuid:1234", 0},
	};
	NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
	GENERAL_SUBTREE *t = GENERAL_SUBTREE_new();
	ASN1_IA5STRING *v = ASN1_IA5STRING_new();
	ca_csr *csr;

	(void)state;
	chain_make(&c, "critical,permitted;URI:.lab.example,permitted;DNS:lab.example");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_request plain, req;
		offca_rc rc;
		int verdict;
		csr = make_csr("CN=a.lab.example", cases[i].san);
		assert_int_equal(ca_policy_check(&pol, csr, &plain), OFFCA_OK);
		verdict = openssl_verdict(&c, &plain);
		rc = ca_policy_check_chain(&pol, c.sk, csr, &req);
		if ((rc == OFFCA_OK) != cases[i].ok || (verdict == X509_V_OK) != cases[i].ok)
			fail_msg("%s: policy %d '%s', OpenSSL '%s'", cases[i].san, rc, rc ? ut_err_msg() : "",
				 X509_verify_cert_error_string(verdict));
		ca_request_clear(&plain);
		ca_request_clear(&req);
		ca_csr_free(csr);
	}
	chain_free(&c);

	assert_non_null(nc);
	nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
	assert_true(ASN1_STRING_set(v, "lab.example", -1));
	GENERAL_NAME_set0_value(t->base, GEN_DNS, v);
	t->maximum = ASN1_INTEGER_new();
	assert_true(ASN1_INTEGER_set(t->maximum, 3));
	sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, t);
	csr = make_csr("CN=a.lab.example", "DNS:a.lab.example");
	assert_int_equal(ca_policy_name_constraints(nc, "odd CA", NULL, ca_csr_sans(csr)), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "CA 'odd CA' has a subtree with minimum/maximum"));
	ca_csr_free(csr);
	NAME_CONSTRAINTS_free(nc);
}

static void test_ip_ranges(void **state)
{
	ca_config *cfg = NULL;
	const char *json = "{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":[\"10.0.0.0/8\",\"fd00::/8\"]}}}";
	ca_policy pol;
	static const struct {
		const char *san;
		int ok;
	} cases[] = {
		{"DNS:h.example,IP:10.1.2.3", 1},    {"DNS:h.example,IP:10.255.255.255", 1},
		{"DNS:h.example,IP:fd12::1", 1},     {"DNS:h.example,IP:::ffff:10.0.0.1", 1},
		{"DNS:h.example,IP:11.0.0.1", 0},    {"DNS:h.example,IP:192.168.0.1", 0},
		{"DNS:h.example,IP:fe80::1", 0},     {"DNS:h.example,IP:::ffff:192.168.0.1", 0},
		{"DNS:h.example,IP:::a00:1", 0}, /* IPv4-compatible (deprecated), not mapped: an IPv6 address */
	};

	(void)state;
	assert_int_equal(ca_config_parse(json, strlen(json), &cfg), OFFCA_OK);
	pol = ca_config_issuer(cfg, NULL)->policy;
	assert_int_equal(pol.n_ip_ranges, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_csr *csr = make_csr("CN=h.example", cases[i].san);
		ca_request req;
		offca_rc rc = ca_policy_check(&pol, csr, &req);
		if ((rc == OFFCA_OK) != cases[i].ok || (!cases[i].ok && strstr(ut_err_msg(), "policy san-ip-range") == NULL))
			fail_msg("%s: rc %d '%s'", cases[i].san, rc, rc ? ut_err_msg() : "");
		ca_request_clear(&req);
		ca_csr_free(csr);
	}
	ca_config_free(cfg);
}

static void test_format_chars(void **state)
{
	ca_policy pol = open_policy();
	static const char *const hidden[] = {"\xe2\x80\xae", "\xe2\x80\x8b", "\xe2\x80\x8e", "\xe2\x80\x8f",
					     "\xe2\x81\xa6", "\xe2\x81\xa9", "\xef\xbb\xbf", "\xc2\xad", "\xc2\x85",
					     "\xf3\xa0\x80\x81", "\xe2\x80\xa8"};
	char subject[128];

	(void)state;
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		ca_csr *csr;
		ca_request req;
		snprintf(subject, sizeof(subject), "CN=f.example,O=Acme%sCorp", hidden[i]);
		csr = make_csr(subject, "DNS:f.example");
		if (ca_policy_check(&pol, csr, &req) != OFFCA_E_POLICY || strstr(ut_err_msg(), "policy format-char: O holds U+") == NULL)
			fail_msg("hidden char %zu accepted or wrong rule: %s", i, ut_err_msg());
		ca_csr_free(csr);
	}
	/* SANs are IA5 (ASCII); bytes of a format character in one are named as such */
	{
		static const char *const sans[] = {"DNS:f.example,DNS:f\xe2\x80\xae.example",
						   "DNS:f.example,email:a\xe2\x80\x8b@f.example",
						   "DNS:f.example,URI:https://f.example/\xe2\x81\xa6"};
		for (size_t i = 0; i < sizeof(sans) / sizeof(sans[0]); i++) {
			ca_csr *csr = make_csr("CN=f.example", sans[i]);
			ca_request req;
			if (ca_policy_check(&pol, csr, &req) != OFFCA_E_POLICY ||
			    strstr(ut_err_msg(), "policy format-char: the ") == NULL)
				fail_msg("%s: %s", sans[i], ut_err_msg());
			ca_csr_free(csr);
		}
	}
	/* visible non-ASCII stays allowed */
	{
		ca_csr *csr = make_csr("CN=f.example,O=M\xc3\xbcller \xe6\x9d\xb1\xe4\xba\xac", "DNS:f.example");
		ca_request req;
		assert_int_equal(ca_policy_check(&pol, csr, &req), OFFCA_OK);
		ca_request_clear(&req);
		ca_csr_free(csr);
	}
}

static offca_rc load_data(const char *file, const ca_policy *pol, ca_request *req)
{
	char path[1024];
	ca_csr *csr = NULL;
	offca_rc rc;

	memset(req, 0, sizeof(*req));
	snprintf(path, sizeof(path), "%s/csr/%s", getenv("OFFCA_TEST_DATA"), file);
	rc = ca_csr_load(path, &csr);
	if (rc == OFFCA_OK)
		rc = ca_policy_check(pol, csr, req);
	ca_csr_free(csr);
	return rc;
}

static void test_ed25519_and_digests(void **state)
{
	ca_policy pol = open_policy();
	ca_request req;

	(void)state;
	assert_int_equal(load_data("bad_ed25519.pem", &pol, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy key-type: Ed25519"));
	pol.allow_ed25519 = 1;
	assert_int_equal(load_data("bad_ed25519.pem", &pol, &req), OFFCA_OK);
	assert_string_equal(req.key_desc, "Ed25519");
	ca_request_clear(&req);
	assert_int_equal(load_data("bad_sha1.pem", &pol, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy csr-signature-digest"));
	assert_int_equal(load_data("bad_md5.pem", &pol, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy csr-signature-digest"));
	assert_int_equal(load_data("bad_bidi_subject.pem", &pol, &req), OFFCA_E_POLICY);
	assert_non_null(strstr(ut_err_msg(), "policy format-char: O holds U+202E"));
}

static void test_config_issuers(void **state)
{
	const char *json = "{\"version\":1,\"issuers\":{\"Int1\":{\"policy\":{\"leaf_days_max\":30,"
			   "\"leaf_days_default\":30}}}}";
	const char *const known[] = {"root", "int1"}, *const with[] = {"root", "int1", "Int1"};
	ca_config *cfg = NULL;
	static const char *const bad[] = {
		"{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":[\"10.0.0.1/8\"]}}}",
		"{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":[\"10.0.0.0/33\"]}}}",
		"{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":[\"10.0.0.0\"]}}}",
		"{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":[\"fd00::/08\"]}}}",
		"{\"version\":1,\"defaults\":{\"policy\":{\"ip_ranges\":\"10.0.0.0/8\"}}}",
		"{\"version\":1,\"defaults\":{\"policy\":{\"key_types\":[\"ed448\"]}}}",
	};

	(void)state;
	assert_int_equal(ca_config_parse(json, strlen(json), &cfg), OFFCA_OK);
	assert_int_equal(ca_config_check_issuers(cfg, known, 2), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "config issuers.Int1: no issuer is named 'Int1'"));
	assert_non_null(strstr(ut_err_msg(), "root, int1"));
	assert_int_equal(ca_config_check_issuers(cfg, with, 3), OFFCA_OK);
	ca_config_free(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = NULL;
		if (ca_config_parse(bad[i], strlen(bad[i]), &cfg) != OFFCA_E_PARSE)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(ut_err_msg(), "config defaults.policy."));
	}
	json = "{\"version\":1,\"defaults\":{\"policy\":{\"key_types\":[\"ed25519\"]}}}";
	assert_int_equal(ca_config_parse(json, strlen(json), &cfg), OFFCA_OK);
	assert_true(ca_config_issuer(cfg, NULL)->policy.allow_ed25519);
	assert_false(ca_config_issuer(cfg, NULL)->policy.allow_rsa);
	ca_config_free(cfg);
}

static int setup(void **state)
{
	(void)state;
	root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	int_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return root_key && int_key && leaf_key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_openssl),
		cmocka_unit_test(test_permit_dns_and_root),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_uri_and_minmax),
		cmocka_unit_test(test_ip_ranges),
		cmocka_unit_test(test_format_chars),
		cmocka_unit_test(test_ed25519_and_digests),
		cmocka_unit_test(test_config_issuers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
