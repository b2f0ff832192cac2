/* test_bytewords.c - Bytewords and CRC32 against the reference vectors (bc-ur test suites). */
#include "testutil.h"

#include "offca/ur.h"

static unsigned char *unhex(const char *h, size_t *n)
{
	size_t l = strlen(h) / 2;
	unsigned char *b = malloc(l + 1);

	for (size_t i = 0; i < l; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		b[i] = (unsigned char)v;
	}
	*n = l;
	return b;
}

static void test_crc32(void **state)
{
	size_t n;
	unsigned char *b = unhex("d9012ca20150c7098580125e2ab0981253468b2dbc5202d8641947da", &n);

	(void)state;
	assert_int_equal(xfr_crc32((const unsigned char *)"Hello, world!", 13), 0xebe6c6e6u);
	assert_int_equal(xfr_crc32((const unsigned char *)"Wolf", 4), 0x598c84dcu);
	assert_int_equal(xfr_crc32(b, n), 0xd22c52b6u);
	assert_int_equal(xfr_crc32(NULL, 0), 0);
	free(b);
}

static const char *HEX = "d9012ca20150c7098580125e2ab0981253468b2dbc5202d8641947da";
static const char *STD = "tuna acid draw oboe acid good slot axis limp lava brag holy door puff monk brag "
			 "guru frog luau drop roof grim also trip idle chef fuel twin tied draw grim ramp";
static const char *MIN = "taaddwoeadgdstaslplabghydrpfmkbggufgludprfgmaotpiecffltntddwgmrp";

static void roundtrip(xfr_bw_style st, const char *expect)
{
	size_t n, m;
	unsigned char *b = unhex(HEX, &n), *back = NULL;
	char *s = NULL;

	assert_int_equal(xfr_bytewords_encode(st, b, n, &s), OFFCA_OK);
	assert_string_equal(s, expect);
	assert_int_equal(xfr_bytewords_decode(st, s, strlen(s), &back, &m), OFFCA_OK);
	assert_int_equal(m, n);
	assert_memory_equal(back, b, n);
	free(s);
	free(back);
	free(b);
}

static void test_styles(void **state)
{
	char uri[512];

	(void)state;
	snprintf(uri, sizeof(uri), "%s", STD);
	for (char *p = uri; *p; p++)
		if (*p == ' ')
			*p = '-';
	roundtrip(XFR_BW_STANDARD, STD);
	roundtrip(XFR_BW_URI, uri);
	roundtrip(XFR_BW_MINIMAL, MIN);
}

static void test_small_vector(void **state)
{
	const unsigned char in[] = {0, 1, 2, 128, 255};
	char *s = NULL;

	(void)state;
	assert_int_equal(xfr_bytewords_encode(XFR_BW_STANDARD, in, sizeof(in), &s), OFFCA_OK);
	assert_string_equal(s, "able acid also lava zoom jade need echo taxi");
	free(s);
	assert_int_equal(xfr_bytewords_encode(XFR_BW_MINIMAL, in, sizeof(in), &s), OFFCA_OK);
	assert_string_equal(s, "aeadaolazmjendeoti");
	free(s);
}

static void test_upper_case_decodes(void **state)
{
	char up[128];
	unsigned char *b = NULL;
	size_t n;

	(void)state;
	snprintf(up, sizeof(up), "%s", MIN);
	for (char *p = up; *p; p++)
		*p = (char)(*p - 'a' + 'A');
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, up, strlen(up), &b, &n), OFFCA_OK);
	assert_int_equal(n, 28);
	free(b);
}

static void test_bad_input(void **state)
{
	unsigned char *b = NULL;
	size_t n = 99;

	(void)state;
	/* checksum mismatch (reference "invalid checksums" vectors) */
	assert_int_equal(xfr_bytewords_decode(XFR_BW_STANDARD, "able acid also lava zero jade need echo wolf", 44,
					      &b, &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_URI, "able-acid-also-lava-zero-jade-need-echo-wolf", 44, &b,
					      &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, "aeadaolazojendeowf", 18, &b, &n), OFFCA_E_PARSE);
	/* too short, odd, not a word */
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, "wf", 2, &b, &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, "", 0, &b, &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, "aeadaolazmjendeot", 17, &b, &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_MINIMAL, "aeadaolazmjendeoqq", 18, &b, &n), OFFCA_E_PARSE);
	assert_int_equal(xfr_bytewords_decode(XFR_BW_STANDARD, "able acid also lava zoom jade need echo taxy", 44,
					      &b, &n), OFFCA_E_PARSE);
	assert_null(b);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),        cmocka_unit_test(test_styles),
		cmocka_unit_test(test_small_vector), cmocka_unit_test(test_upper_case_decodes),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
