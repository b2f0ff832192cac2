/* Unit tests for token/uri.c and module resolution: RFC 7512 parsing, percent-decoding, refusals. */
#include "testutil.h"

#include "offca/token.h"
#include "offca/util.h"

static tok_uri *parse_ok(const char *text)
{
	tok_uri *u = NULL;

	assert_int_equal(tok_uri_parse(text, &u), OFFCA_OK);
	assert_non_null(u);
	return u;
}

static void parse_fails(const char *text, offca_rc want, const char *msg_part)
{
	tok_uri *u = (tok_uri *)1;

	assert_int_equal(tok_uri_parse(text, &u), want);
	assert_null(u);
	if (msg_part != NULL && strstr(ut_err_msg(), msg_part) == NULL)
		fail_msg("'%s': error '%s' lacks '%s'", text, ut_err_msg(), msg_part);
}

static void test_path_attributes(void **state)
{
	tok_uri *u;

	(void)state;
	u = parse_ok("pkcs11:token=My%20Root%20CA;manufacturer=SoftHSM%20project;serial=4cba0f4;"
		     "object=root%3bca;type=private;slot-id=7;model=SoftHSM%20v2");
	assert_string_equal(tok_uri_get(u, "token"), "My Root CA");
	assert_string_equal(tok_uri_get(u, "manufacturer"), "SoftHSM project");
	assert_string_equal(tok_uri_get(u, "serial"), "4cba0f4");
	assert_string_equal(tok_uri_get(u, "object"), "root;ca"); /* %3b: a literal ';' */
	assert_string_equal(tok_uri_get(u, "type"), "private");
	assert_string_equal(tok_uri_get(u, "slot-id"), "7");
	assert_null(tok_uri_get(u, "id"));
	assert_null(tok_uri_get(u, "module-path"));
	tok_uri_free(u);

	/* scheme is case-insensitive; an empty URI names any token */
	u = parse_ok("PKCS11:");
	assert_null(tok_uri_get(u, "token"));
	tok_uri_free(u);
	tok_uri_free(NULL);
}

static void test_id_raw_bytes(void **state)
{
	tok_uri *u;
	const unsigned char *id;
	size_t len = 99;

	(void)state;
	u = parse_ok("pkcs11:id=%01%00%fF%7e;object=k");
	id = tok_uri_id(u, &len);
	assert_non_null(id);
	assert_int_equal(len, 4);
	assert_memory_equal(id, "\x01\x00\xff\x7e", 4);
	tok_uri_free(u);

	u = parse_ok("pkcs11:object=k");
	assert_null(tok_uri_id(u, &len));
	assert_int_equal(len, 0);
	tok_uri_free(u);
}

static void test_query_attributes(void **state)
{
	tok_uri *u;

	(void)state;
	u = parse_ok("pkcs11:token=ca;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so&"
		     "pin-source=file:/run/pins/ca%20pin");
	assert_string_equal(tok_uri_get(u, "module-path"), "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(tok_uri_get(u, "pin-source"), "file:/run/pins/ca pin");
	tok_uri_free(u);
	/* vendor attributes (x-...) are allowed */
	u = parse_ok("pkcs11:token=ca;x-vendor=1?x-q=2");
	assert_string_equal(tok_uri_get(u, "x-vendor"), "1");
	tok_uri_free(u);
}

static void test_refusals(void **state)
{
	char big[TOK_MAX_URI + 64];

	(void)state;
	parse_fails("pkcs11:token=ca?pin-value=123456", OFFCA_E_PARSE, "pin-value is refused");
	assert_null(strstr(ut_err_msg(), "123456"));
	parse_fails("https://example/key", OFFCA_E_PARSE, "not a pkcs11: URI");
	parse_fails("pkcs11:token=a b", OFFCA_E_PARSE, "percent-encoded");
	parse_fails("pkcs11:token=%4", OFFCA_E_PARSE, "truncated");
	parse_fails("pkcs11:token=%g1", OFFCA_E_PARSE, "percent-escape");
	parse_fails("pkcs11:token=a;token=b", OFFCA_E_PARSE, "twice");
	parse_fails("pkcs11:tokn=a", OFFCA_E_PARSE, "unknown path attribute 'tokn'");
	parse_fails("pkcs11:token=a?object=b", OFFCA_E_PARSE, "unknown query attribute 'object'");
	parse_fails("pkcs11:type=secret", OFFCA_E_PARSE, "type=secret");
	parse_fails("pkcs11:slot-id=abc", OFFCA_E_PARSE, "slot-id");
	parse_fails("pkcs11:token", OFFCA_E_PARSE, "name=value");
	parse_fails("pkcs11:=x", OFFCA_E_PARSE, "attribute name");
	parse_fails("pkcs11:token=a%00b", OFFCA_E_PARSE, "NUL");
	parse_fails("pkcs11:token=a\nb", OFFCA_E_PARSE, "percent-encoded");
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "pkcs11:token=", 13);
	big[sizeof(big) - 1] = '\0';
	parse_fails(big, OFFCA_E_TOO_BIG, NULL);
	assert_int_equal(tok_uri_parse(NULL, NULL), OFFCA_E_USAGE);
}

static void test_keytypes(void **state)
{
	static const char *names[] = {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096", "ed25519"};
	tok_keytype t;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(tok_keytype_parse(names[i], &t), OFFCA_OK);
		assert_string_equal(tok_keytype_name(t), names[i]);
	}
	assert_int_equal(tok_keytype_parse("rsa-1024", &t), OFFCA_E_USAGE);
	assert_int_equal(tok_keytype_parse(NULL, &t), OFFCA_E_USAGE);
}

static void test_module_resolve(void **state)
{
	const char *softhsm = tu_softhsm_module();
	char out[4096], uri_text[600];
	tok_uri *u;

	(void)state;
	if (softhsm == NULL)
		skip();
	/* --module wins over the URI and the environment */
	snprintf(uri_text, sizeof(uri_text), "pkcs11:token=x?module-path=/nonexistent/uri.so");
	u = parse_ok(uri_text);
	setenv("OFFCA_PKCS11_MODULE", "/nonexistent/env.so", 1);
	assert_int_equal(tok_module_resolve(softhsm, u, out, sizeof(out)), OFFCA_OK);
	assert_string_equal(out, softhsm);
	/* then module-path */
	assert_int_equal(tok_module_resolve(NULL, u, out, sizeof(out)), OFFCA_E_MODULE);
	assert_non_null(strstr(ut_err_msg(), "module-path"));
	tok_uri_free(u);
	/* then the environment */
	assert_int_equal(tok_module_resolve(NULL, NULL, out, sizeof(out)), OFFCA_E_MODULE);
	assert_non_null(strstr(ut_err_msg(), "OFFCA_PKCS11_MODULE"));
	setenv("OFFCA_PKCS11_MODULE", softhsm, 1);
	assert_int_equal(tok_module_resolve(NULL, NULL, out, sizeof(out)), OFFCA_OK);
	assert_string_equal(out, softhsm);
	/* then discovery: an installed SoftHSM2 or OpenSC module */
	unsetenv("OFFCA_PKCS11_MODULE");
	assert_int_equal(tok_module_resolve(NULL, NULL, out, sizeof(out)), OFFCA_OK);
	assert_int_equal(access(out, R_OK), 0);
	/* module-name= is looked up in the usual directories */
	u = parse_ok("pkcs11:?module-name=softhsm2");
	assert_int_equal(tok_module_resolve(NULL, u, out, sizeof(out)), OFFCA_OK);
	assert_non_null(strstr(out, "libsofthsm2.so"));
	tok_uri_free(u);
	u = parse_ok("pkcs11:?module-name=../evil");
	assert_int_not_equal(tok_module_resolve(NULL, u, out, sizeof(out)), OFFCA_OK);
	tok_uri_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_attributes), cmocka_unit_test(test_id_raw_bytes),
		cmocka_unit_test(test_query_attributes), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_keytypes),        cmocka_unit_test(test_module_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
