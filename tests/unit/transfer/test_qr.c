/*
 * test_qr.c - QR symbols: the version a fragment size needs at ECC M (the numbers docs/qr.md
 * gives), PNG written by libpng and read back through image.c and zbar, terminal rendering,
 * unreadable images.
 */
#include "testutil.h"

#include "offca/qr.h"
#include "offca/ur.h"
#include "offca/util.h"

static unsigned char *make_message(size_t len, const char *seed)
{
	xfr_xoshiro r;
	unsigned char *m = malloc(len);

	xfr_xoshiro_seed(&r, (const unsigned char *)seed, strlen(seed));
	for (size_t i = 0; i < len; i++)
		m[i] = (unsigned char)xfr_xoshiro_next_int(&r, 0, 255);
	return m;
}

/* first frame of a message cut into 8 fragments of exactly frag bytes (3 bytes of CBOR head) */
static char *first_frame(size_t frag)
{
	size_t len = 8 * frag - 3;
	unsigned char *m = make_message(len, "qr");
	xfr_ur_encoder *e = NULL;
	char *ur = NULL;

	assert_int_equal(xfr_ur_encoder_new("offca-chain", m, len, frag, &e), OFFCA_OK);
	assert_int_equal(xfr_ur_encoder_fragment_len(e), frag);
	assert_int_equal(xfr_ur_encoder_part(e, 1, &ur), OFFCA_OK);
	xfr_ur_encoder_free(e);
	free(m);
	return ur;
}

static void test_versions_at_ecc_m(void **state)
{
	static const struct {
		size_t frag;
		int version;
	} want[] = {{100, 9}, {200, 13}, {400, 19}};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *ur = first_frame(want[i].frag);
		xfr_qr_code *c = NULL;

		assert_int_equal(xfr_qr_encode(ur, &c), OFFCA_OK);
		assert_int_equal(xfr_qr_code_version(c), want[i].version);
		assert_int_equal(xfr_qr_code_width(c), 17 + 4 * want[i].version);
		xfr_qr_code_free(c);
		free(ur);
	}
}

static void test_png_roundtrip(void **state)
{
	const char *dir = tu_tmpdir();
	char *ur = first_frame(200), path[512], **texts = NULL;
	xfr_qr_code *c = NULL;
	xfr_image *img = NULL;
	unsigned char *png = NULL;
	size_t len, n;

	(void)state;
	assert_int_equal(xfr_qr_encode(ur, &c), OFFCA_OK);
	assert_int_equal(xfr_qr_png(c, 3, 4, &png, &len), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/f.png", dir);
	assert_int_equal(ut_write_file(path, png, len, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(xfr_image_load(path, &img), OFFCA_OK);
	assert_int_equal(xfr_image_width(img), (xfr_qr_code_width(c) + 8) * 3);
	assert_int_equal(xfr_qr_scan(img, &texts, &n), OFFCA_OK);
	assert_int_equal(n, 1);
	/* zbar returns the upper-cased frame; UR parsing is case-insensitive */
	assert_int_equal(strlen(texts[0]), strlen(ur));
	assert_int_equal(strncasecmp(texts[0], ur, strlen(ur)), 0);
	for (size_t i = 0; ur[i]; i++)
		assert_true(texts[0][i] == ur[i] || texts[0][i] == ur[i] - 'a' + 'A');
	xfr_qr_texts_free(texts, n);
	xfr_image_free(img);
	xfr_qr_code_free(c);
	free(png);
	free(ur);
	tu_rmrf(dir);
}

static void test_blank_and_bad_images(void **state)
{
	const char *dir = tu_tmpdir();
	unsigned char white[64 * 64];
	xfr_image *img = NULL;
	char **texts = NULL, path[512];
	size_t n = 9;

	(void)state;
	memset(white, 255, sizeof(white));
	assert_int_equal(xfr_image_from_gray(white, 64, 64, &img), OFFCA_OK);
	assert_int_equal(xfr_qr_scan(img, &texts, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	xfr_qr_texts_free(texts, n);
	xfr_image_free(img);
	img = NULL;
	snprintf(path, sizeof(path), "%s/bad.png", dir);
	assert_int_equal(ut_write_file(path, "\x89PNG\r\n\x1a\nGARBAGE", 15, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(xfr_image_load(path, &img), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "bad.png"));
	snprintf(path, sizeof(path), "%s/bad.jpg", dir);
	assert_int_equal(ut_write_file(path, "\xff\xd8\xff\xe0garbage", 11, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(xfr_image_load(path, &img), OFFCA_E_PARSE);
	snprintf(path, sizeof(path), "%s/text.txt", dir);
	assert_int_equal(ut_write_file(path, "hello", 5, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(xfr_image_load(path, &img), OFFCA_E_PARSE);
	snprintf(path, sizeof(path), "%s/missing.png", dir);
	assert_int_equal(xfr_image_load(path, &img), OFFCA_E_NOT_FOUND);
	assert_null(img);
	assert_int_equal(xfr_image_from_gray(NULL, 100000, 100000, &img), OFFCA_E_TOO_BIG);
	tu_rmrf(dir);
}

static void test_text_rendering(void **state)
{
	xfr_qr_code *c = NULL;
	char *s = NULL;
	size_t lines = 0;

	(void)state;
	assert_int_equal(xfr_qr_encode("UR:BYTES/AEADAOLAZMJENDEOTI", &c), OFFCA_OK);
	assert_int_equal(xfr_qr_text(c, 2, &s), OFFCA_OK);
	for (char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, (size_t)(xfr_qr_code_width(c) + 4 + 1) / 2);
	assert_non_null(strstr(s, "\xe2\x96\x80")); /* upper half block */
	free(s);
	xfr_qr_code_free(c);
	assert_int_equal(xfr_qr_encode("", &c), OFFCA_E_USAGE);
}

static void test_too_big_for_qr(void **state)
{
	char *big = malloc(5001);
	xfr_qr_code *c = NULL;

	(void)state;
	memset(big, 'A', 5000);
	big[5000] = '\0';
	assert_int_equal(xfr_qr_encode(big, &c), OFFCA_E_TOO_BIG);
	assert_null(c);
	free(big);
}

static void test_video_device_missing(void **state)
{
	(void)state;
	assert_int_equal(xfr_qr_scan_video("/dev/offca-no-such-video", NULL, NULL, NULL), OFFCA_E_NOT_FOUND);
	assert_non_null(strstr(ut_err_msg(), "/dev/offca-no-such-video"));
	assert_int_equal(xfr_qr_scan_video("/etc/hostname", NULL, NULL, NULL), OFFCA_E_IO);
	assert_int_equal(xfr_qr_scan_video("/dev/null", NULL, NULL, NULL), OFFCA_E_IO);
	assert_non_null(strstr(ut_err_msg(), "not a video capture device"));
}

static void count_event(void *arg, xfr_qr_event ev, const char *src, const xfr_ur_id *id, size_t have,
			size_t total)
{
	size_t *n = arg;

	(void)src;
	(void)id;
	(void)have;
	(void)total;
	n[ev == XFR_QR_EV_FOREIGN]++;
}

/* A set with two messages: the one most frames belong to wins, the others are reported. */
static void test_frame_set(void **state)
{
	unsigned char *a = make_message(500, "set-a"), *b = make_message(500, "set-b");
	xfr_ur_encoder *ea = NULL, *eb = NULL;
	xfr_qr_frames *fs = NULL;
	xfr_ur_decoder *d = NULL;
	const unsigned char *pl;
	const char *type;
	size_t events[2] = {0, 0}, len;
	char *ur;

	(void)state;
	assert_int_equal(xfr_ur_encoder_new("offca-cert", a, 500, 100, &ea), OFFCA_OK);
	assert_int_equal(xfr_ur_encoder_new("offca-cert", b, 500, 100, &eb), OFFCA_OK);
	assert_int_equal(xfr_qr_frames_new(&fs), OFFCA_OK);
	for (uint32_t i = 1; i <= 2; i++) { /* b first */
		assert_int_equal(xfr_ur_encoder_part(eb, i, &ur), OFFCA_OK);
		assert_int_equal(xfr_qr_frames_add_text(fs, ur, strlen(ur), "b"), OFFCA_OK);
		free(ur);
	}
	assert_int_equal(xfr_qr_frames_add_text(fs, "hello", 5, "junk"), OFFCA_E_PARSE);
	/* a: too few frames yet */
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(xfr_ur_encoder_part(ea, i, &ur), OFFCA_OK);
		assert_int_equal(xfr_qr_frames_add_text(fs, ur, strlen(ur), "a"), OFFCA_OK);
		free(ur);
	}
	assert_int_equal(xfr_qr_frames_decode(fs, NULL, NULL, NULL, &d), OFFCA_E_PARSE);
	assert_non_null(strstr(ut_err_msg(), "incomplete"));
	assert_int_equal(xfr_qr_frames_decode(fs, "offca-crl", NULL, NULL, &d), OFFCA_E_NOT_FOUND);
	for (uint32_t i = 7; i <= 20; i++) { /* fountain frames of a */
		assert_int_equal(xfr_ur_encoder_part(ea, i, &ur), OFFCA_OK);
		assert_int_equal(xfr_qr_frames_add_text(fs, ur, strlen(ur), "a"), OFFCA_OK);
		free(ur);
	}
	assert_int_equal(xfr_qr_frames_decode(fs, NULL, count_event, events, &d), OFFCA_OK);
	assert_int_equal(events[1], 2);
	assert_true(events[0] >= 1);
	assert_int_equal(xfr_ur_decoder_result(d, &type, &pl, &len), OFFCA_OK);
	assert_int_equal(len, 500);
	assert_memory_equal(pl, a, 500);
	xfr_ur_decoder_free(d);
	xfr_qr_frames_free(fs);
	xfr_ur_encoder_free(ea);
	xfr_ur_encoder_free(eb);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_at_ecc_m),   cmocka_unit_test(test_png_roundtrip),
		cmocka_unit_test(test_blank_and_bad_images), cmocka_unit_test(test_text_rendering),
		cmocka_unit_test(test_too_big_for_qr),       cmocka_unit_test(test_video_device_missing),
		cmocka_unit_test(test_frame_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
