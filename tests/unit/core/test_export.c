/* Unit tests for core/export_*: age recipients (bech32), age armor, Kubernetes names and YAML, the
   certbot layout's file list. Real readers (age, sops-age, kubectl, unzip, keytool) are in
   tests/e2e/export_*.sh. */
#include "testutil.h"

#include <openssl/evp.h>

#include "offca/export.h"
#include "offca/util.h"

/* RFC 7748 section 6.1, Alice's X25519 public key; its age1 form is accepted by the age CLI. */
static const char *const ALICE_AGE = "age1s5s0qzvfxzn4gayt0hwtg0hhtgxm7wsdycup4a8t5j5ca25mfe4qt4hs7q";
static const unsigned char ALICE_PUB[32] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
	0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};

static void test_recipient_parse(void **state)
{
	unsigned char pub[32];
	char buf[128];

	(void)state;
	assert_int_equal(ca_age_recipient_parse(ALICE_AGE, pub), OFFCA_OK);
	assert_memory_equal(pub, ALICE_PUB, 32);
	for (size_t i = 0; ALICE_AGE[i]; i++) /* bech32 allows all upper case */
		buf[i] = (char)(ALICE_AGE[i] >= 'a' && ALICE_AGE[i] <= 'z' ? ALICE_AGE[i] - 32 : ALICE_AGE[i]);
	buf[strlen(ALICE_AGE)] = '\0';
	assert_int_equal(ca_age_recipient_parse(buf, pub), OFFCA_OK);
	assert_memory_equal(pub, ALICE_PUB, 32);
	buf[5] = (char)(buf[5] + 32); /* mixed case */
	assert_int_equal(ca_age_recipient_parse(buf, pub), OFFCA_E_PARSE);
	snprintf(buf, sizeof(buf), "%s", ALICE_AGE);
	buf[strlen(buf) - 1] = 'p'; /* checksum */
	assert_int_equal(ca_age_recipient_parse(buf, pub), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "bad checksum"));
	snprintf(buf, sizeof(buf), "%s", ALICE_AGE);
	buf[10] = buf[10] == 'q' ? 'p' : 'q'; /* one data character */
	assert_int_equal(ca_age_recipient_parse(buf, pub), OFFCA_E_PARSE);
	snprintf(buf, sizeof(buf), "%s", ALICE_AGE);
	buf[12] = 'b'; /* not in the bech32 alphabet */
	assert_int_equal(ca_age_recipient_parse(buf, pub), OFFCA_E_PARSE);
	assert_int_equal(ca_age_recipient_parse("age1", pub), OFFCA_E_PARSE);
	assert_int_equal(ca_age_recipient_parse("ssh-ed25519 AAAAC3Nz", pub), OFFCA_E_PARSE);
	assert_int_equal(ca_age_recipient_parse("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", pub),
			 OFFCA_E_PARSE);
	assert_int_equal(ca_age_recipient_parse("AGE-SECRET-KEY-1QQQSECRETSECRET", pub), OFFCA_E_PARSE);
	assert_null(strstr(ut_err_msg(), "SECRETSECRET")); /* a secret is never repeated */
}

static void test_age_armor(void **state)
{
	const unsigned char key[32] = {1, 2, 3};
	unsigned char bin[512];
	char *arm = NULL, b64[700] = "", *line;
	size_t k = 0;
	int n;

	(void)state;
	assert_int_equal(ca_age_encrypt((const unsigned char(*)[32])ALICE_PUB, 1, key, 32, &arm), OFFCA_OK);
	assert_true(strncmp(arm, "-----BEGIN AGE ENCRYPTED FILE-----\n", 35) == 0);
	assert_non_null(strstr(arm, "\n-----END AGE ENCRYPTED FILE-----\n"));
	for (line = strchr(arm, '\n') + 1; strncmp(line, "-----END", 8) != 0; line = strchr(line, '\n') + 1) {
		size_t len = (size_t)(strchr(line, '\n') - line);
		assert_true(len <= 64);
		memcpy(b64 + k, line, len);
		k += len;
	}
	n = EVP_DecodeBlock(bin, (unsigned char *)b64, (int)k);
	assert_true(n > 100);
	assert_true(memcmp(bin, "age-encryption.org/v1\n-> X25519 ", 32) == 0);
	assert_non_null(memchr(bin, '-', (size_t)n));
	free(arm);
	assert_int_equal(ca_age_encrypt((const unsigned char(*)[32])ALICE_PUB, 0, key, 32, &arm), OFFCA_E_USAGE);
	assert_null(arm);
}

static void test_k8s_names(void **state)
{
	(void)state;
	assert_true(ca_export_k8s_name_ok("web-tls", 0));
	assert_true(ca_export_k8s_name_ok("a.b-c.d", 0));
	assert_false(ca_export_k8s_name_ok("a.b", 1)); /* a namespace is one label */
	assert_false(ca_export_k8s_name_ok("Web", 0));
	assert_false(ca_export_k8s_name_ok("-web", 0));
	assert_false(ca_export_k8s_name_ok("web-", 0));
	assert_false(ca_export_k8s_name_ok("a..b", 0));
	assert_false(ca_export_k8s_name_ok("a_b", 0));
	assert_false(ca_export_k8s_name_ok("", 0));
}

static void fake_item(ca_export_item *it)
{
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "web.example.com");
	it->cert.p = strdup("C\n");
	it->cert.len = 2;
	it->chain.p = strdup("I\n");
	it->chain.len = 2;
	it->fullchain.p = strdup("C\nI\n");
	it->fullchain.len = 4;
	it->root.p = strdup("R1\nR2\n");
	it->root.len = 6;
	it->metadata.p = strdup("{}\n");
	it->metadata.len = 3;
}

static void test_k8s_yaml(void **state)
{
	ca_export_item it;
	char *y = NULL;
	size_t len = 0;

	(void)state;
	fake_item(&it);
	assert_int_equal(ca_export_k8s_secret(&it, "web-tls", "prod", &y, &len), OFFCA_OK);
	assert_string_equal(y, "apiVersion: v1\ndata:\n  ca.crt: UjEKUjIK\n  tls.crt: QwpJCg==\n  tls.key: \"\"\n"
			       "kind: Secret\nmetadata:\n  creationTimestamp: null\n  name: web-tls\n  namespace: prod\n"
			       "type: kubernetes.io/tls\n");
	assert_int_equal(len, strlen(y));
	free(y);
	assert_int_equal(ca_export_k8s_configmap(&it, "trust", NULL, &y, &len), OFFCA_OK);
	assert_string_equal(y, "apiVersion: v1\ndata:\n  ca.crt: |\n    R1\n    R2\nkind: ConfigMap\nmetadata:\n"
			       "  creationTimestamp: null\n  name: trust\n");
	free(y);
	assert_int_equal(ca_export_k8s_secret(&it, "Bad_Name", NULL, &y, &len), OFFCA_E_USAGE);
	assert_null(y);
	ca_export_item_clear(&it);
}

static void test_sops_shape(void **state)
{
	ca_export_item it;
	const char *const age[] = {ALICE_AGE, "age1bad"};
	char *y = NULL, *p;
	size_t len = 0;
	int enc = 0;

	(void)state;
	fake_item(&it);
	assert_int_equal(ca_export_sops_secret(&it, "web-tls", NULL, age, 1, 0, &y, &len), OFFCA_OK);
	for (p = y; (p = strstr(p, "ENC[AES256_GCM,data:")) != NULL; p++)
		enc++;
	assert_int_equal(enc, 3); /* ca.crt, tls.crt, mac; tls.key stays "" */
	assert_non_null(strstr(y, "    tls.key: \"\"\n"));
	assert_non_null(strstr(y, "    lastmodified: \"1970-01-01T00:00:00Z\"\n"));
	assert_non_null(strstr(y, "        - recipient: age1s5s0qzvfxzn4gayt0hwtg0hhtgxm7wsdycup4a8t5j5ca25mfe4qt4hs7q\n"
				  "          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n"));
	assert_non_null(strstr(y, "    encrypted_regex: ^(data|stringData)$\n"));
	assert_null(strstr(y, "UjEKUjIK")); /* the base64 of ca.crt is not in clear */
	free(y);
	y = NULL;
	assert_int_equal(ca_export_sops_secret(&it, "web-tls", NULL, age, 2, 0, &y, &len), OFFCA_E_PARSE);
	assert_null(y);
	ca_export_item_clear(&it);
}

static void test_layout_files(void **state)
{
	ca_export_item it;
	ca_export_file f[CA_EXPORT_MAX_FILES];
	size_t n = 0;

	(void)state;
	fake_item(&it);
	ca_export_layout_files(&it, f, &n);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(strcmp(f[i].name, "privkey.pem"), 0);
	it.key.p = strdup("K\n");
	it.key.len = 2;
	ca_export_layout_files(&it, f, &n);
	assert_int_equal(n, 7);
	assert_string_equal(f[6].name, "privkey.pem");
	assert_int_equal(f[6].mode, 0600);
	ca_export_item_clear(&it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipient_parse), cmocka_unit_test(test_age_armor),
		cmocka_unit_test(test_k8s_names),       cmocka_unit_test(test_k8s_yaml),
		cmocka_unit_test(test_sops_shape),      cmocka_unit_test(test_layout_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
