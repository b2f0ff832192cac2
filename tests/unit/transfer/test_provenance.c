/*
 * test_provenance.c - the provenance offca-gateway puts in CSR item names: the two accepted forms,
 * and every near miss (other profiles, non-hex ids, extra parts, over-long ids) yields nothing, so
 * a crafted name can never inject text into a pending record's source.
 */
#include "testutil.h"

#include <string.h>

#include "offca/bundle.h"

static void test_forms(void **state)
{
	char out[128], prof[16];

	(void)state;
	assert_int_equal(xfr_provenance_of_name("est-0123abcd.tok-00d8eab7d7f4e5c6.p-server.csr", out, sizeof(out)), 1);
	assert_string_equal(out, "est token=00d8eab7d7f4e5c6 profile=server");
	assert_int_equal(xfr_provenance_profile("est token=00d8eab7d7f4e5c6 profile=server; bundle 0a operator gw", prof,
						sizeof(prof)), 1);
	assert_string_equal(prof, "server");
	assert_int_equal(xfr_provenance_of_name("est-ff.renew-7A3F00C1.p-mtls.csr", out, sizeof(out)), 1);
	assert_string_equal(out, "est renew=7A3F00C1 profile=mtls");
	assert_int_equal(xfr_provenance_profile(out, prof, sizeof(prof)), 1);
	assert_string_equal(prof, "mtls");
	assert_int_equal(xfr_provenance_of_name("est-ff.tok-aa.p-client.csr", out, sizeof(out)), 1);
}

static void test_near_misses(void **state)
{
	static const char *const bad[] = {
		"csr1.pem", "est-.tok-aa.p-server.csr", "est-zz.tok-aa.p-server.csr", "est-ff.tok-.p-server.csr",
		"est-ff.tok-aa.p-root.csr", "est-ff.tok-aa.p-intermediate.csr", "est-ff.tok-aa.p-server.csr.pem",
		"est-ff.tok-aa.p-server", "est-ff.tok-aa;x.p-server.csr", "est-ff.other-aa.p-server.csr",
		"est-ff.tok-aa.p-serverx.csr", "est-ff.tok-aa.q-server.csr",
		"est-ff.tok-00000000000000000000000000000000000000000000.p-server.csr",
		"est-000000000000000000000000000000000.tok-aa.p-server.csr",
	};
	char out[128], prof[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xfr_provenance_of_name(bad[i], out, sizeof(out)), 0);
		assert_string_equal(out, "");
	}
	assert_int_equal(xfr_provenance_profile("bundle 0a operator est profile=server", prof, sizeof(prof)), 0);
	assert_int_equal(xfr_provenance_profile("est token=aa profile=root", prof, sizeof(prof)), 0);
	assert_int_equal(xfr_provenance_profile(NULL, prof, sizeof(prof)), 0);
	assert_string_equal(prof, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_near_misses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
