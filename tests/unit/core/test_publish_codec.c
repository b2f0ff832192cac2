/* test_publish_codec.c - RelayContent (offca/publish.h): what offca publish encodes, offca-agent
   decodes back field for field; the decoder takes only canonical DER of version 1 with a 32-byte
   endpoint and a positive sequence number, nothing after it. */
#include "testutil.h"

#include "offca/publish.h"
#include "offca/util.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, k));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

typedef struct fx {
	EVP_PKEY *k1, *k2;
	ca_pub_content c;
	unsigned char *der;
	size_t len;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	f->k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f->k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(f->k1);
	assert_non_null(f->k2);
	f->c.cert = self_signed(f->k1, "leaf");
	f->c.chain = sk_X509_new_null();
	assert_true(sk_X509_push(f->c.chain, self_signed(f->k2, "int")) > 0);
	assert_int_equal(ca_pub_key_hash(f->k1, f->c.endpoint), OFFCA_OK);
	f->c.sequence = 0x1234567890ull;
	assert_int_equal(ca_pub_content_encode(&f->c, &f->der, &f->len), OFFCA_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;

	ca_pub_content_clear(&f->c);
	OPENSSL_free(f->der);
	EVP_PKEY_free(f->k1);
	EVP_PKEY_free(f->k2);
	free(f);
	return 0;
}

static void test_key_hash_is_spki_sha256(void **state)
{
	fx *f = *state;
	unsigned char *spki = NULL, want[32];
	int n = i2d_PUBKEY(f->k1, &spki);
	char hex[65];

	assert_true(n > 0);
	SHA256(spki, (size_t)n, want);
	OPENSSL_free(spki);
	assert_memory_equal(f->c.endpoint, want, 32);
	ca_pub_hex(want, hex);
	assert_int_equal(strlen(hex), 64);
	assert_true(strspn(hex, "0123456789abcdef") == 64);
}

static void test_roundtrip(void **state)
{
	fx *f = *state;
	ca_pub_content d;

	assert_int_equal(ca_pub_content_decode(f->der, f->len, &d), OFFCA_OK);
	assert_memory_equal(d.endpoint, f->c.endpoint, 32);
	assert_true(d.sequence == 0x1234567890ull);
	assert_int_equal(X509_cmp(d.cert, f->c.cert), 0);
	assert_int_equal(sk_X509_num(d.chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(d.chain, 0), sk_X509_value(f->c.chain, 0)), 0);
	assert_null(d.key);
	ca_pub_content_clear(&d);
}

static void test_delivered_key(void **state)
{
	fx *f = *state;
	ca_pub_content d;
	unsigned char *der = NULL;
	size_t len = 0;

	f->c.key = f->k2;
	assert_int_equal(ca_pub_content_encode(&f->c, &der, &len), OFFCA_OK);
	f->c.key = NULL;
	assert_true(len > f->len);
	assert_int_equal(ca_pub_content_decode(der, len, &d), OFFCA_OK);
	assert_non_null(d.key);
	assert_int_equal(EVP_PKEY_eq(d.key, f->k2), 1);
	ca_pub_content_clear(&d);
	OPENSSL_free(der);
}

static void test_refused(void **state)
{
	fx *f = *state;
	ca_pub_content d, bad = f->c;
	unsigned char *b = malloc(f->len + 2), *out = NULL;
	size_t olen = 0;

	/* the encoder: no sequence 0, no missing certificate */
	bad.sequence = 0;
	assert_int_equal(ca_pub_content_encode(&bad, &out, &olen), OFFCA_E_USAGE);
	bad = f->c;
	bad.cert = NULL;
	assert_int_equal(ca_pub_content_encode(&bad, &out, &olen), OFFCA_E_USAGE);
	/* 30 82 LL LL | 02 01 01 (version) | 04 20 <32> (endpoint) | 02 05 <seq> ... */
	assert_int_equal(f->der[0], 0x30);
	assert_int_equal(f->der[1], 0x82);
	assert_memory_equal(f->der + 4, "\x02\x01\x01\x04\x20", 5);
	memcpy(b, f->der, f->len);
	b[6] = 2; /* version 2 */
	assert_int_equal(ca_pub_content_decode(b, f->len, &d), OFFCA_E_PARSE);
	memcpy(b, f->der, f->len);
	b[f->len] = 0; /* a byte after the structure */
	assert_int_equal(ca_pub_content_decode(b, f->len + 1, &d), OFFCA_E_PARSE);
	/* the same structure with a non-minimal outer length (30 83 00 LL LL): BER, not DER */
	b[0] = 0x30;
	b[1] = 0x83;
	b[2] = 0;
	memcpy(b + 3, f->der + 2, f->len - 2);
	assert_int_equal(ca_pub_content_decode(b, f->len + 1, &d), OFFCA_E_PARSE);
	/* truncated */
	assert_int_equal(ca_pub_content_decode(f->der, f->len - 1, &d), OFFCA_E_PARSE);
	/* sequence 0 written by someone else: 02 05 <5 bytes> -> 02 01 00 does not fit in place, so
	   an endpoint of 31 bytes instead: 04 1f */
	memcpy(b, f->der, f->len);
	b[8] = 0x1f;
	assert_int_equal(ca_pub_content_decode(b, f->len, &d), OFFCA_E_PARSE);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_hash_is_spki_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivered_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
