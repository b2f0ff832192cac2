/* test_lint.c - each lint fires on a certificate/CRL broken in exactly that way, not on good ones. */
#include "testutil.h"

#include "offca/lint.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <time.h>

static EVP_PKEY *key;
static X509 *issuer;

static X509 *make(ca_profile prof, int days, const unsigned char *serial, size_t slen, int with_san)
{
	X509_NAME *subj = NULL;
	GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	ca_cert_spec spec;
	X509 *x = NULL;
	static const unsigned char def_serial[16] = {0x11, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

	ASN1_STRING_set(s, "a.example.com", -1);
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	sk_GENERAL_NAME_push(sans, gn);
	assert_int_equal(ca_x509_parse_dn(prof == CA_PROFILE_ROOT ? "/CN=Lint Root" : "/CN=a.example.com", &subj),
			 OFFCA_OK);
	memset(&spec, 0, sizeof(spec));
	spec.profile = prof;
	spec.subject = subj;
	spec.sans = with_san ? sans : NULL;
	spec.subject_key = key;
	spec.serial = serial ? serial : def_serial;
	spec.serial_len = serial ? slen : sizeof(def_serial);
	spec.not_before = (int64_t)time(NULL) - 60;
	spec.not_after = spec.not_before + (int64_t)days * 86400;
	spec.issuer = prof == CA_PROFILE_ROOT ? NULL : issuer;
	spec.path_len = -1;
	assert_int_equal(ca_x509_build(&spec, &x), OFFCA_OK);
	X509_NAME_free(subj);
	GENERAL_NAMES_free(sans);
	return x;
}

static void sign(X509 *x)
{
	assert_int_equal(ca_x509_sign(x, key), OFFCA_OK);
}

static int has(const ca_lint_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return 1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	issuer = make(CA_PROFILE_ROOT, 3650, NULL, 0, 0);
	sign(issuer);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(issuer);
	EVP_PKEY_free(key);
	return 0;
}

/* Replace x's keyUsage (critical) by one with exactly the given bits set. */
static void set_key_usage(X509 *x, const int *bits, size_t n)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();

	for (size_t i = 0; i < n; i++)
		ASN1_BIT_STRING_set_bit(ku, bits[i], 1);
	assert_int_equal(X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE), 1);
	ASN1_BIT_STRING_free(ku);
}

static void expect(X509 *x, X509 *iss, const char *lint, const ca_lint_opts *o, offca_rc want)
{
	ca_lint_result r;
	offca_rc rc = ca_lint_cert(x, iss, o, &r);

	if (lint != NULL && !has(&r, lint))
		fail_msg("lint %s did not fire (%s)", lint, rc ? ut_err_msg() : "ok");
	if (rc != want)
		fail_msg("rc %d, want %d: %s", rc, want, ut_err_msg());
	ca_lint_result_clear(&r);
	X509_free(x);
}

static void test_good(void **state)
{
	ca_lint_result r;
	X509 *x = make(CA_PROFILE_SERVER, 90, NULL, 0, 1);

	(void)state;
	sign(x);
	assert_int_equal(ca_lint_cert(x, issuer, NULL, &r), OFFCA_OK);
	assert_int_equal(r.n_errors, 0);
	ca_lint_result_clear(&r);
	X509_free(x);
	assert_int_equal(ca_lint_cert(issuer, NULL, NULL, &r), OFFCA_OK);
	ca_lint_result_clear(&r);
}

static void test_bad_certs(void **state)
{
	static const unsigned char long_serial[21] = {0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	static const unsigned char short_serial[4] = {1, 2, 3, 4};
	const char *accept[] = {"e_serial_too_short"};
	ca_lint_opts o = {accept, 1, 0};
	X509 *x;

	(void)state;
	/* ca_x509_build refuses a long serial itself; set it afterwards */
	assert_int_equal(ca_x509_build(&(ca_cert_spec){.profile = CA_PROFILE_SERVER, .subject = X509_get_subject_name(issuer),
		.subject_key = key, .serial = long_serial, .serial_len = sizeof(long_serial), .not_before = 1, .not_after = 2,
		.issuer = issuer, .path_len = -1}, &x), OFFCA_E_USAGE);
	x = make(CA_PROFILE_SERVER, 90, NULL, 0, 1);
	{
		BIGNUM *bn = BN_bin2bn(long_serial, sizeof(long_serial), NULL);
		ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
		X509_set_serialNumber(x, ai);
		ASN1_INTEGER_free(ai);
		BN_free(bn);
	}
	sign(x);
	expect(x, issuer, "e_serial_too_long", NULL, OFFCA_E_LINT);
	x = make(CA_PROFILE_SERVER, 90, short_serial, sizeof(short_serial), 1);
	sign(x);
	expect(x, issuer, "e_serial_too_short", NULL, OFFCA_E_LINT);
	x = make(CA_PROFILE_SERVER, 90, short_serial, sizeof(short_serial), 1);
	sign(x);
	expect(x, issuer, "e_serial_too_short", &o, OFFCA_OK); /* accepted by the caller */
	x = make(CA_PROFILE_SERVER, 400, NULL, 0, 1);
	sign(x);
	expect(x, issuer, "e_leaf_validity_too_long", NULL, OFFCA_E_LINT);
	x = make(CA_PROFILE_SERVER, 90, NULL, 0, 0);
	sign(x);
	expect(x, issuer, "e_san_missing", NULL, OFFCA_E_LINT);
	/* EC key with keyEncipherment */
	x = make(CA_PROFILE_SERVER, 90, NULL, 0, 1);
	set_key_usage(x, (const int[]){0, 2}, 2); /* digitalSignature, keyEncipherment */
	sign(x);
	expect(x, issuer, "e_ec_key_encipherment", NULL, OFFCA_E_LINT);
	/* CA without keyUsage */
	x = make(CA_PROFILE_ROOT, 365, NULL, 0, 0);
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1)));
	sign(x);
	expect(x, NULL, "e_ca_key_usage_missing", NULL, OFFCA_E_LINT);
	/* leaf without AKI */
	x = make(CA_PROFILE_CLIENT, 90, NULL, 0, 1);
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_authority_key_identifier, -1)));
	sign(x);
	expect(x, issuer, "e_aki_missing", NULL, OFFCA_E_LINT);
	/* leaf without SKI */
	x = make(CA_PROFILE_CLIENT, 90, NULL, 0, 1);
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_subject_key_identifier, -1)));
	sign(x);
	expect(x, issuer, "e_ski_missing", NULL, OFFCA_E_LINT);
	/* leaf whose AKI is not the issuer's SKI */
	x = make(CA_PROFILE_SERVER, 90, NULL, 0, 1);
	{
		AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
		unsigned char other[20] = {1, 2, 3, 4, 5};
		ak->keyid = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(ak->keyid, other, sizeof(other));
		X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, X509V3_ADD_REPLACE);
		AUTHORITY_KEYID_free(ak);
	}
	sign(x);
	expect(x, issuer, "e_aki_mismatch", NULL, OFFCA_E_LINT);
	/* leaf with keyCertSign; CA keyUsage without keyCertSign */
	x = make(CA_PROFILE_SERVER, 90, NULL, 0, 1);
	set_key_usage(x, (const int[]){0, 5}, 2); /* digitalSignature, keyCertSign */
	sign(x);
	expect(x, issuer, "e_leaf_key_cert_sign", NULL, OFFCA_E_LINT);
	x = make(CA_PROFILE_ROOT, 365, NULL, 0, 0);
	set_key_usage(x, (const int[]){6}, 1); /* cRLSign only */
	sign(x);
	expect(x, NULL, "e_ca_key_cert_sign_missing", NULL, OFFCA_E_LINT);
	/* a CA keyUsage that cannot be decoded counts as no usage at all */
	x = make(CA_PROFILE_ROOT, 365, NULL, 0, 0);
	{
		ASN1_OCTET_STRING *junk = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;
		ASN1_OCTET_STRING_set(junk, (const unsigned char *)"\x04\x01\x00", 3); /* not a BIT STRING */
		e = X509_EXTENSION_create_by_NID(NULL, NID_key_usage, 1, junk);
		X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1)));
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(junk);
	}
	sign(x);
	expect(x, NULL, "e_ca_key_cert_sign_missing", NULL, OFFCA_E_LINT);
	/* unsigned: algorithms differ/missing */
	x = make(CA_PROFILE_CLIENT, 90, NULL, 0, 1);
	expect(x, issuer, "e_signature_alg_mismatch", NULL, OFFCA_E_LINT);
}

static void test_crl(void **state)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, time(NULL), 0, 0), *t0 = ASN1_TIME_adj(NULL, time(NULL) - 86400, 0, 0);
	ca_lint_result r;

	(void)state;
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, t1);
	X509_CRL_set1_nextUpdate(crl, t0);
	assert_int_equal(ca_x509_sign_crl(crl, key), OFFCA_OK);
	assert_int_equal(ca_lint_crl(crl, issuer, NULL, &r), OFFCA_E_LINT);
	assert_true(has(&r, "e_crl_number_missing"));
	assert_true(has(&r, "e_crl_aki_missing"));
	assert_true(has(&r, "e_crl_next_update_order"));
	ca_lint_result_clear(&r);
	X509_CRL_free(crl);
	ASN1_TIME_free(t0);
	ASN1_TIME_free(t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_certs),
		cmocka_unit_test(test_crl),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
