/* Unit tests for offca-acme's JOSE pieces: base64url, RFC 7638 thumbprint (RFC vector), ES256/RS256
 * signatures checked with OpenSSL's verifier, HS256 (RFC 4231 vector), dns-01 value, key process. */
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "b64.h"
#include "key.h"
#include "order.h"
#include "proc.h"

static void test_b64url(void **state)
{
	unsigned char in[] = {0xfb, 0xff, 0xfe, 0x00, 0x3e};
	unsigned char *out = NULL;
	size_t ol = 0;
	char *s = acme_b64url(in, sizeof(in));

	(void)state;
	assert_string_equal(s, "-__-AD4");
	assert_int_equal(acme_b64_decode(s, &out, &ol), OFFCA_OK);
	assert_int_equal(ol, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	free(s);
	assert_int_equal(acme_b64_decode("a", &out, &ol), OFFCA_E_PARSE);
	assert_int_equal(acme_b64_decode("ab$d", &out, &ol), OFFCA_E_PARSE);
	/* standard alphabet with padding (BIND key secrets) */
	assert_int_equal(acme_b64_decode("+/8=", &out, &ol), OFFCA_OK);
	assert_int_equal(ol, 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	free(out);
}

static void test_thumbprint_rfc7638(void **state)
{
	/* RFC 7638 section 3.1 */
	json_t *jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "e", "AQAB", "alg", "RS256", "n",
		"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
		"hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qM"
		"QvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK"
		"nqDKgw");
	char *t = NULL;

	(void)state;
	assert_int_equal(acme_jwk_thumbprint(jwk, &t), OFFCA_OK);
	assert_string_equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	assert_string_equal(acme_jwk_alg(jwk), "RS256");
	free(t);
	json_decref(jwk);
}

/* verify a JWS signature with OpenSSL, converting ES256's R||S back to DER */
static int verify(EVP_PKEY *k, const char *input, const unsigned char *sig, size_t sl)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int dl = 0, ok;

	if (EVP_PKEY_is_a(k, "EC")) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		assert_int_equal(sl, 64);
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		dl = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		sig = der;
		sl = (size_t)dl;
	}
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
	     EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)input, strlen(input)) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

static void sign_and_verify(const char *type, const char *alg)
{
	EVP_PKEY *k = NULL;
	json_t *jwk = NULL;
	unsigned char *sig = NULL;
	size_t sl = 0;
	const char *in = "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ";

	assert_int_equal(acme_key_generate(type, &k), OFFCA_OK);
	assert_int_equal(acme_key_jwk(k, &jwk), OFFCA_OK);
	assert_string_equal(acme_jwk_alg(jwk), alg);
	if (strcmp(alg, "ES256") == 0) {
		/* coordinates are fixed-width 32 bytes: 43 base64url characters */
		assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
		assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
	}
	assert_int_equal(acme_key_sign(k, (const unsigned char *)in, strlen(in), &sig, &sl), OFFCA_OK);
	assert_true(verify(k, in, sig, sl));
	sig[sl / 2] ^= 1;
	assert_false(verify(k, in, sig, sl));
	free(sig);
	json_decref(jwk);
	EVP_PKEY_free(k);
}

static void test_es256(void **state) { (void)state; sign_and_verify("ec", "ES256"); }
static void test_rs256(void **state) { (void)state; sign_and_verify("rsa", "RS256"); }

static void test_hs256_rfc4231(void **state)
{
	unsigned char key[20], mac[32];
	static const unsigned char want[32] = {0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf,
					       0xce, 0xaf, 0x0b, 0xf1, 0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83,
					       0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7};

	(void)state;
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(acme_hs256(key, sizeof(key), (const unsigned char *)"Hi There", 8, mac), OFFCA_OK);
	assert_memory_equal(mac, want, 32);
}

static void test_dns01_value(void **state)
{
	char *v = NULL;

	(void)state;
	/* printf 'tok-123.<thumbprint>' | openssl dgst -sha256 -binary | basenc --base64url */
	assert_int_equal(acme_dns01_value("tok-123", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", &v), OFFCA_OK);
	assert_string_equal(v, "NuEXa8GQJmJQd2K_9k53N22hEKkhZcV8cn8oGJ0PWsk");
	free(v);
}

static void test_keyproc(void **state)
{
	const char *dir = tu_tmpdir();
	char path[512];
	struct acme_keyproc_cfg cfg = {0};
	struct acme_proc *kp = NULL;
	json_t *jwk = NULL;
	unsigned char *sig = NULL;
	size_t sl = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	cfg.key_path = path;
	/* no key and no create: a clear error from the child */
	assert_int_equal(acme_keyproc_start(&cfg, &kp), OFFCA_E_NOT_FOUND);
	assert_null(kp);
	cfg.create = 1;
	assert_int_equal(acme_keyproc_start(&cfg, &kp), OFFCA_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(acme_keyproc_jwk(kp, 0, &jwk), OFFCA_OK);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
	assert_null(json_object_get(jwk, "d")); /* never the private part */
	assert_int_equal(acme_keyproc_sign(kp, 0, "a.b", &sig, &sl), OFFCA_OK);
	assert_int_equal(sl, 64);
	free(sig);
	assert_int_not_equal(acme_keyproc_sign(kp, 1, "a.b", &sig, &sl), OFFCA_OK); /* empty slot */
	assert_int_equal(acme_keyproc_eab(kp, "x", (unsigned char[32]){0}), OFFCA_E_USAGE);
	acme_proc_free(kp);
	json_decref(jwk);
	/* a key readable by others is refused */
	chmod(path, 0644);
	cfg.create = 0;
	assert_int_equal(acme_keyproc_start(&cfg, &kp), OFFCA_E_PERM);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),       cmocka_unit_test(test_thumbprint_rfc7638),
		cmocka_unit_test(test_es256),        cmocka_unit_test(test_rs256),
		cmocka_unit_test(test_hs256_rfc4231), cmocka_unit_test(test_dns01_value),
		cmocka_unit_test(test_keyproc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
