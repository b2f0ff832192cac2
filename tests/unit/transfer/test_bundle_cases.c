/* Data-driven bundle corpus: every tests/data/bundles/cases/NAME.offca listed in cases.txt is read with
   xfr_bundle_read() and must give the listed outcome and an error detail naming the problem. */
#include "testutil.h"

#include "offca/bundle.h"
#include "offca/util.h"

static offca_rc expected_rc(const char *word)
{
	if (strcmp(word, "ok") == 0)
		return OFFCA_OK;
	if (strcmp(word, "parse") == 0)
		return OFFCA_E_PARSE;
	if (strcmp(word, "too_big") == 0)
		return OFFCA_E_TOO_BIG;
	if (strcmp(word, "verify") == 0)
		return OFFCA_E_VERIFY;
	fail_msg("unknown expectation '%s' in cases.txt", word);
	return OFFCA_E_INTERNAL;
}

static void test_corpus(void **state)
{
	const char *data = getenv("OFFCA_TEST_DATA");
	char path[1024], line[512], file[256], want[32], sub[128];
	xfr_bundle *b = NULL;
	offca_rc rc;
	FILE *f;
	int n = 0;

	(void)state;
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/bundles/cases.txt", data);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%255s %31s %127s", file, want, sub), 3);
		for (char *p = sub; *p != '\0'; p++)
			if (*p == '_')
				*p = ' ';
		snprintf(path, sizeof(path), "%s/bundles/cases/%s", data, file);
		ut_err_clear();
		rc = xfr_bundle_read(path, &b);
		if (rc != expected_rc(want))
			fail_msg("%s: got %s (%s), expected %s", file, ut_strerror(rc), ut_err_msg(), want);
		if (rc == OFFCA_OK) {
			assert_non_null(b);
			xfr_bundle_free(b);
			b = NULL;
		} else {
			assert_null(b);
			if (strcmp(sub, "-") != 0 && strstr(ut_err_msg(), sub) == NULL)
				fail_msg("%s: detail '%s' does not mention '%s'", file, ut_err_msg(), sub);
			assert_null(strchr(ut_err_msg(), '\n'));
		}
		n++;
	}
	fclose(f);
	assert_true(n >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
