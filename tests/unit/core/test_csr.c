/* test_csr.c - strict CSR intake and policy on CSRs made by real tools (tests/data/csr, README.md). */
#include "testutil.h"

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/util.h"

#include <openssl/x509v3.h>

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
