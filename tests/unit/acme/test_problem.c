/* Unit tests: problem documents to one line, Link header parsing, RFC 3339 times, the RFC 9773
 * certID example, CSR name collection and chain splitting. */
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ari.h"
#include "cert.h"
#include "http.h"
#include "problem.h"

static void test_problem_line(void **state)
{
	const char *doc = "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"detail\":\"bad\\nnames\","
			  "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA forbids\","
			  "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}}]}";
	char buf[256], t[64];

	(void)state;
	acme_problem_line((const unsigned char *)doc, strlen(doc), 400, buf, sizeof(buf));
	assert_string_equal(buf, "rejectedIdentifier: bad?names [a.example: caa: CAA forbids]");
	assert_string_equal(acme_problem_type((const unsigned char *)doc, strlen(doc), t, sizeof(t)), "rejectedIdentifier");
	acme_problem_line((const unsigned char *)"<html>", 6, 502, buf, sizeof(buf));
	assert_string_equal(buf, "HTTP 502");
	assert_string_equal(acme_problem_type((const unsigned char *)"[1]", 3, t, sizeof(t)), "");
	/* a tiny buffer truncates, never overflows */
	acme_problem_line((const unsigned char *)doc, strlen(doc), 400, buf, 8);
	assert_string_equal(buf, "rejecte");
}

static void test_link(void **state)
{
	char *u;

	(void)state;
	u = acme_link_parse("<https://ca/cert/1/alt>;rel=\"alternate\"", "alternate");
	assert_string_equal(u, "https://ca/cert/1/alt");
	free(u);
	u = acme_link_parse("<https://ca/dir>; rel=index", "index");
	assert_string_equal(u, "https://ca/dir");
	free(u);
	assert_null(acme_link_parse("<https://ca/dir>;rel=\"index\"", "alternate"));
	assert_null(acme_link_parse("https://ca/dir;rel=\"alternate\"", "alternate"));
	assert_null(acme_link_parse("<https://x>;rel=alternatex", "alternate"));
}

static void test_rfc3339(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(acme_rfc3339("2025-01-02T03:04:05Z", &t), OFFCA_OK);
	assert_int_equal(t, 1735787045);
	assert_int_equal(acme_rfc3339("2025-01-02T03:04:05.123456789Z", &t), OFFCA_OK);
	assert_int_equal(t, 1735787045);
	assert_int_equal(acme_rfc3339("2025-01-02T05:04:05+02:00", &t), OFFCA_OK);
	assert_int_equal(t, 1735787045);
	assert_int_equal(acme_rfc3339("2025-01-02 03:04:05", &t), OFFCA_E_PARSE);
	assert_int_equal(acme_rfc3339("2025-01-02T03:04:05Zjunk", &t), OFFCA_E_PARSE);
}

static void test_ari_certid(void **state)
{
	/* RFC 9773 section 4.1 example: keyIdentifier 69:88:5B:..., serial 0x0087654321 */
	static const unsigned char kid[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
					    0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
	X509 *x = X509_new();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	BIGNUM *bn = NULL;
	char *id = NULL;

	(void)state;
	akid->keyid = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(akid->keyid, kid, sizeof(kid));
	BN_hex2bn(&bn, "87654321");
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	X509_set_pubkey(x, k);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(acme_ari_certid(x, &id), OFFCA_OK);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	free(id);
	BN_free(bn);
	AUTHORITY_KEYID_free(akid);
	EVP_PKEY_free(k);
	X509_free(x);
}

static void test_csr_names(void **state)
{
	struct acme_names n = {0}, m = {0};
	EVP_PKEY *k = NULL;
	X509_REQ *r = NULL, *r2 = NULL;
	char *pem = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(acme_names_add(&n, "WWW.example.test"), OFFCA_OK);
	assert_int_equal(acme_names_add(&n, "*.example.test"), OFFCA_OK);
	assert_int_equal(acme_names_add(&n, "www.example.test"), OFFCA_OK); /* duplicate ignored */
	assert_int_equal(n.n, 2);
	assert_int_equal(acme_names_add(&n, "*.*.example.test"), OFFCA_E_USAGE);
	assert_int_equal(acme_names_add(&n, "-a.example.test"), OFFCA_E_USAGE);
	assert_int_equal(acme_names_add(&n, "localhost"), OFFCA_E_USAGE);
	assert_int_equal(acme_names_add(&n, "a_b.example.test"), OFFCA_E_USAGE);
	assert_int_equal(acme_csr_generate(&n, NULL, &k, &r), OFFCA_OK);
	assert_int_equal(acme_csr_pem(r, &pem, &len), OFFCA_OK);
	assert_int_equal(acme_csr_parse((unsigned char *)pem, len, &r2, &m), OFFCA_OK);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0], "www.example.test");
	assert_string_equal(m.v[1], "*.example.test");
	/* a tampered CSR does not verify */
	X509_REQ_free(r2);
	r2 = NULL;
	acme_names_clear(&m);
	unsigned char *der = NULL;
	size_t dl = 0;
	assert_int_equal(acme_csr_der(r, &der, &dl), OFFCA_OK);
	der[dl - 5] ^= 0x40;
	assert_int_not_equal(acme_csr_parse(der, dl, &r2, &m), OFFCA_OK);
	assert_null(r2);
	OPENSSL_free(der);
	free(pem);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	acme_names_clear(&n);
	acme_names_clear(&m);
}

static void test_chain_split(void **state)
{
	X509 *leaf = NULL;
	char *c = NULL, *rest = NULL;

	(void)state;
	assert_int_equal(acme_chain_split("garbage", 7, &leaf, &c, &rest), OFFCA_E_PROTOCOL);
	assert_null(leaf);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_line), cmocka_unit_test(test_link),
		cmocka_unit_test(test_rfc3339),      cmocka_unit_test(test_ari_certid),
		cmocka_unit_test(test_csr_names),    cmocka_unit_test(test_chain_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
