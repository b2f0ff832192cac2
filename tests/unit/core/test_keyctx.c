/* test_keyctx.c - prepared signing/checking (ca_x509_keyctx) against X509_sign/X509_verify:
   same signature algorithm and TBS, signatures OpenSSL accepts, and refusals of a flipped
   signature bit, another issuer's key and a signature algorithm the key does not use. Software
   keys stand in for the token (same EVP_PKEY interface). */
#include "testutil.h"

#include "offca/x509.h"

#include <openssl/evp.h>
#include <string.h>
#include <time.h>

static X509 *unsigned_root(EVP_PKEY *key)
{
	X509_NAME *n = NULL;
	X509 *x = NULL;
	ca_cert_spec spec;
	unsigned char serial[16] = {0x11, 0x22, 0x33};

	assert_int_equal(ca_x509_parse_dn("CN=keyctx test", &n), OFFCA_OK);
	memset(&spec, 0, sizeof(spec));
	spec.profile = CA_PROFILE_ROOT;
	spec.subject = n;
	spec.subject_key = key;
	spec.serial = serial;
	spec.serial_len = sizeof(serial);
	spec.not_before = (int64_t)time(NULL) - 60;
	spec.not_after = spec.not_before + 86400;
	spec.path_len = -1;
	assert_int_equal(ca_x509_build(&spec, &x), OFFCA_OK);
	X509_NAME_free(n);
	return x;
}

static X509 *der_copy(X509 *x, int flip_last_bit)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(x, &der);
	X509 *y;

	assert_true(len > 0);
	if (flip_last_bit)
		der[len - 1] ^= 0x01; /* inside the signature value */
	p = der;
	y = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	assert_non_null(y);
	return y;
}

static void check_key(EVP_PKEY *key, EVP_PKEY *other)
{
	ca_x509_keyctx *k = NULL, *ko = NULL, *vo = NULL;
	X509 *a = unsigned_root(key), *b = unsigned_root(key), *bad;
	unsigned char *ta = NULL, *tb = NULL;
	int la, lb;

	assert_int_equal(ca_x509_keyctx_new(key, key, &k), OFFCA_OK);
	assert_int_equal(ca_x509_keyctx_new(NULL, key, &vo), OFFCA_OK);
	assert_int_equal(ca_x509_keyctx_new(other, other, &ko), OFFCA_OK);
	/* several signatures from one context, each accepted by OpenSSL's own check */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ca_x509_keyctx_sign(k, a), OFFCA_OK);
		assert_int_equal(X509_verify(a, key), 1);
		assert_int_equal(ca_x509_keyctx_verify(k, a), OFFCA_OK);
		assert_int_equal(ca_x509_keyctx_verify(vo, a), OFFCA_OK);
	}
	/* the same algorithm and the same TBS bytes as X509_sign through ca_x509_sign */
	assert_int_equal(ca_x509_sign(b, key), OFFCA_OK);
	assert_int_equal(X509_get_signature_nid(a), X509_get_signature_nid(b));
	la = i2d_re_X509_tbs(a, &ta);
	lb = i2d_re_X509_tbs(b, &tb);
	assert_int_equal(la, lb);
	assert_memory_equal(ta, tb, (size_t)la);
	/* refusals */
	bad = der_copy(a, 1);
	assert_int_equal(ca_x509_keyctx_verify(vo, bad), OFFCA_E_VERIFY);
	assert_int_equal(ca_x509_verify(bad, key), OFFCA_E_VERIFY);
	X509_free(bad);
	assert_int_equal(ca_x509_keyctx_verify(ko, a), OFFCA_E_VERIFY);
	assert_int_equal(ca_x509_keyctx_sign(vo, b), OFFCA_E_USAGE);
	OPENSSL_free(ta);
	OPENSSL_free(tb);
	X509_free(a);
	X509_free(b);
	ca_x509_keyctx_free(k);
	ca_x509_keyctx_free(ko);
	ca_x509_keyctx_free(vo);
}

static void test_ec_p256(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *o = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	check_key(k, o);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

static void test_ec_p384(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), *o = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

	(void)state;
	check_key(k, o);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

static void test_rsa(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *o = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	(void)state;
	check_key(k, o);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

static void test_ed25519(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *o = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	check_key(k, o);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

/* a P-256 key whose certificate says ecdsa-with-SHA384: X509_verify accepts it, the prepared
   check does not (it only accepts what this key signs with) */
static void test_other_algorithm(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca_x509_keyctx *v = NULL;
	X509 *x = unsigned_root(k);

	(void)state;
	assert_true(X509_sign(x, k, EVP_sha384()) > 0);
	assert_int_equal(ca_x509_verify(x, k), OFFCA_OK);
	assert_int_equal(ca_x509_keyctx_new(NULL, k, &v), OFFCA_OK);
	assert_int_equal(ca_x509_keyctx_verify(v, x), OFFCA_E_VERIFY);
	ca_x509_keyctx_free(v);
	X509_free(x);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_p256),
		cmocka_unit_test(test_ec_p384),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_other_algorithm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
