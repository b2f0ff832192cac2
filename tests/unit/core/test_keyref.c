/* Unit tests for core's key-URI matching (ca_key_uri_matches). */
#include "testutil.h"

#include "offca/keyref.h"

static const char *rec = "pkcs11:token=ca%20one;id=%01%02%ff;object=int;type=private";

static void test_subset_matches(void **state)
{
	(void)state;
	assert_int_equal(ca_key_uri_matches(rec, rec), OFFCA_OK);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:token=ca%20one;object=int;type=private"), OFFCA_OK);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:object=int"), OFFCA_OK);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:id=%01%02%FF"), OFFCA_OK);
	/* query attributes do not take part */
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:object=int?pin-source=file:/tmp/x"), OFFCA_OK);
}

static void test_mismatches(void **state)
{
	(void)state;
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:token=ca;object=int"), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:object=root"), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:id=%01%02"), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:object=int;serial=1234"), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_key_uri_matches(rec, "pkcs11:object=int;type=public"), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_key_uri_matches(rec, "http://example/"), OFFCA_E_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subset_matches),
		cmocka_unit_test(test_mismatches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
