/* Unit tests for util/: the error convention, atomic never-overwrite writes, secret files. */
#include "testutil.h"

#include <sys/stat.h>

#include "offca/util.h"

static char dir[256];

static void test_err_detail(void **state)
{
	(void)state;
	ut_err_clear();
	assert_int_equal(ut_err(OFFCA_E_POLICY, "policy %s: nope", "dns-suffix"), OFFCA_E_POLICY);
	assert_string_equal(ut_err_msg(), "policy dns-suffix: nope");
	assert_int_equal(ut_err_last(), OFFCA_E_POLICY);
	assert_int_equal(ut_exit_code(OFFCA_E_USAGE), 2);
	assert_int_not_equal(ut_exit_code(OFFCA_E_PIN_INCORRECT), 0);
	assert_string_equal(ut_strerror((offca_rc)9999), "unknown error");
	/* wrapping the previous detail must not garble it (the argument aliases the buffer) */
	ut_err(OFFCA_E_IO, "disk on fire");
	ut_err(OFFCA_E_IO, "reading %s: %s", "x.pem", ut_err_msg());
	assert_string_equal(ut_err_msg(), "reading x.pem: disk on fire");
	ut_err_clear();
	assert_string_equal(ut_err_msg(), "success");
}

static void test_write_excl_never_overwrites(void **state)
{
	char path[512];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.pem", dir);
	assert_int_equal(ut_write_file(path, "first", 5, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(ut_write_file(path, "second", 6, UT_WF_EXCL), OFFCA_E_EXISTS);
	assert_int_equal(ut_read_file(path, 100, 1, &buf, &len), OFFCA_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "first", 5);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* replace mode swaps atomically */
	assert_int_equal(ut_write_file(path, "second", 6, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ut_read_file(path, 100, 1, &buf, &len), OFFCA_OK);
	assert_memory_equal(buf, "second", 6);
	free(buf);
}

static void test_read_limits(void **state)
{
	char path[512], link[512];
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(ut_write_file(path, "0123456789", 10, 0), OFFCA_OK);
	assert_int_equal(ut_read_file(path, 9, 1, &buf, &len), OFFCA_E_TOO_BIG);
	assert_null(buf);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ut_read_file(link, 100, 1, &buf, &len), OFFCA_E_PERM);
	assert_int_equal(ut_read_file(link, 100, 0, &buf, &len), OFFCA_OK);
	free(buf);
	assert_int_equal(ut_read_file("/dev/null", 100, 0, &buf, &len), OFFCA_E_IO);
	assert_int_equal(ut_read_file("/nonexistent/x", 100, 0, &buf, &len), OFFCA_E_NOT_FOUND);
	assert_int_equal(ut_write_file("/nonexistent/dir/x", "a", 1, UT_WF_EXCL), OFFCA_E_NOT_FOUND);
	assert_string_equal(ut_err_msg(), "/nonexistent/dir/x: its directory does not exist");
}

static void test_secret_file(void **state)
{
	char path[512], pin[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/pin", dir);
	assert_int_equal(ut_write_file(path, "123456\n", 7, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_OK);
	assert_string_equal(pin, "123456");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_E_PERM);
	assert_int_equal(ut_secret_from_file(path, 0, pin, sizeof(pin)), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 0, pin, 4), OFFCA_E_TOO_BIG);
	assert_int_equal(ut_write_file(path, "\n", 1, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_E_PARSE);
}

static void test_hex(void **state)
{
	const unsigned char b[] = {0x00, 0xab, 0x10};
	char *h;

	(void)state;
	h = ut_hex(b, 3);
	assert_string_equal(h, "00ab10");
	free(h);
	h = ut_hex_colon(b, 3);
	assert_string_equal(h, "00:AB:10");
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_detail),
		cmocka_unit_test(test_write_excl_never_overwrites),
		cmocka_unit_test(test_read_limits),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_hex),
	};
	int rc;

	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tu_rmrf(dir);
	return rc;
}
