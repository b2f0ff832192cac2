/*
 * test_ur.c - Xoshiro256**, the fountain fragment choice, part CBOR and UR strings against the
 * reference vectors, and the standard "Wolf" vector file (tests/data/vectors) reproduced exactly.
 */
#include "testutil.h"

#include "offca/ur.h"

static unsigned char *make_message(size_t len, const char *seed)
{
	xfr_xoshiro r;
	unsigned char *m = malloc(len);

	xfr_xoshiro_seed(&r, (const unsigned char *)seed, strlen(seed));
	for (size_t i = 0; i < len; i++)
		m[i] = (unsigned char)xfr_xoshiro_next_int(&r, 0, 255);
	return m;
}

static char *hex(const unsigned char *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static void test_xoshiro(void **state)
{
	static const int mod100[] = {42, 81, 85, 8, 82, 84, 76, 73, 70, 88, 2, 74, 40, 48, 77, 54, 88, 7, 5, 88};
	static const int crcseq[] = {88, 44, 94, 74, 0, 99, 7, 77, 68, 35, 47, 78, 19, 21, 50, 15, 42, 36, 91, 11};
	static const int ints[] = {6, 5, 8, 4, 10, 5, 7, 10, 4, 9, 10, 9, 7, 7, 1, 1, 2, 9, 9, 2};
	unsigned char seed[4];
	uint32_t c = xfr_crc32((const unsigned char *)"Wolf", 4);
	xfr_xoshiro r;
	unsigned char *d;
	char *h;

	(void)state;
	xfr_xoshiro_seed(&r, (const unsigned char *)"Wolf", 4);
	for (int i = 0; i < 20; i++)
		assert_int_equal(xfr_xoshiro_next(&r) % 100, mod100[i]);
	for (int i = 0; i < 4; i++)
		seed[i] = (unsigned char)(c >> (24 - 8 * i));
	xfr_xoshiro_seed(&r, seed, 4);
	for (int i = 0; i < 20; i++)
		assert_int_equal(xfr_xoshiro_next(&r) % 100, crcseq[i]);
	xfr_xoshiro_seed(&r, (const unsigned char *)"Wolf", 4);
	for (int i = 0; i < 20; i++)
		assert_int_equal(xfr_xoshiro_next_int(&r, 1, 10), ints[i]);
	d = make_message(10, "Wolf");
	h = hex(d, 10);
	assert_string_equal(h, "916ec65cf77cadf55cd7");
	free(h);
	free(d);
}

static void test_shuffle(void **state)
{
	static const size_t want[2][10] = {{6, 4, 9, 3, 10, 5, 7, 8, 1, 2}, {10, 8, 6, 5, 1, 2, 3, 9, 7, 4}};
	xfr_xoshiro r;

	(void)state;
	xfr_xoshiro_seed(&r, (const unsigned char *)"Wolf", 4);
	for (int k = 0; k < 2; k++) {
		size_t v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

		xfr_fountain_shuffle(v, 10, &r);
		assert_memory_equal(v, want[k], sizeof(v));
	}
}

static void test_degree_and_choice(void **state)
{
	static const size_t degrees[] = {11, 3, 6, 5, 2, 1, 2, 11, 1, 3, 9, 10, 10, 4, 2, 1, 1, 2, 1, 1};
	static const char *choices[] = {"9", "2 5 6 8 9 10", "8", "1 5", "1", "0 2 4 5 8 10", "5", "2", "2",
					"0 1 3 4 5 7 9 10", "0 1 2 3 5 6 8 9 10", "0 2 4 5 7 8 9 10", "3 5", "4",
					"0 1 2 3 4 5 6 7 8 9 10", "0 1 3 4 5 6 7 9 10", "6", "5 6", "7"};
	unsigned char *m = make_message(1024, "Wolf");
	uint32_t crc = xfr_crc32(m, 1024);
	size_t fl, seq_len, idx[64], n, deg;

	(void)state;
	assert_int_equal(xfr_fountain_fragment_len(1024, 10, 100, &fl), OFFCA_OK);
	seq_len = (1024 + fl - 1) / fl;
	assert_int_equal(seq_len, 11);
	for (int i = 0; i < 20; i++) {
		char seed[16];
		xfr_xoshiro r;

		snprintf(seed, sizeof(seed), "Wolf-%d", i + 1);
		xfr_xoshiro_seed(&r, (const unsigned char *)seed, strlen(seed));
		assert_int_equal(xfr_fountain_degree(seq_len, &r, &deg), OFFCA_OK);
		assert_int_equal(deg, degrees[i]);
	}
	for (uint32_t s = 1; s <= 30; s++) {
		char got[128] = "";

		assert_int_equal(xfr_fountain_choose(s, seq_len, crc, idx, &n), OFFCA_OK);
		if (s <= 11) {
			assert_int_equal(n, 1);
			assert_int_equal(idx[0], s - 1);
			continue;
		}
		/* sort for comparison */
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++)
				if (idx[b] < idx[a]) {
					size_t t = idx[a];

					idx[a] = idx[b];
					idx[b] = t;
				}
		for (size_t a = 0; a < n; a++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), a ? " %zu" : "%zu", idx[a]);
		assert_string_equal(got, choices[s - 12]);
	}
	free(m);
}

static void test_fragment_len(void **state)
{
	size_t fl;

	(void)state;
	assert_int_equal(xfr_fountain_fragment_len(12345, 1005, 1955, &fl), OFFCA_OK);
	assert_int_equal(fl, 1764);
	assert_int_equal(xfr_fountain_fragment_len(12345, 1005, 30000, &fl), OFFCA_OK);
	assert_int_equal(fl, 12345);
	assert_int_equal(xfr_fountain_fragment_len(0, 10, 100, &fl), OFFCA_E_USAGE);
}

/* Reference fountain parts (raw message of 256 bytes, fragments of at most 30), CBOR hex. */
static void test_fountain_parts_cbor(void **state)
{
	static const struct {
		uint32_t seq;
		const char *cbor;
	} want[] = {
		{1, "8501091901001a0167aa07581d916ec65cf77cadf55cd7f9cda1a1030026ddd42e905b77adc36e4f2d3c"},
		{9, "8509091901001a0167aa07581d951e65305b56a3706e3e86eb01c803bbf915d80edcd64d4d0000000000"},
		{10, "850a091901001a0167aa07581d330f0f33a05eead4f331df229871bee733b50de71afd2e5a79f196de09"},
		{13, "850d091901001a0167aa07581d760be7ad1c6187902bbc04f539b9ee5eb8ea6833222edea36031306c01"},
		{20, "8514091901001a0167aa07581de055c2433562184fa71b4be94f262e200f01c6f74c284b0dc6fae6673f"},
	};
	unsigned char *m = make_message(256, "Wolf"), *cb;
	xfr_fountain_enc *e = NULL;
	size_t cbl;

	(void)state;
	assert_int_equal(xfr_fountain_enc_new(m, 256, 10, 30, &e), OFFCA_OK);
	assert_int_equal(xfr_fountain_enc_seq_len(e), 9);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		xfr_part p, back;
		char *h;

		assert_int_equal(xfr_fountain_enc_part(e, want[i].seq, &p), OFFCA_OK);
		assert_int_equal(xfr_part_to_cbor(&p, &cb, &cbl), OFFCA_OK);
		h = hex(cb, cbl);
		assert_string_equal(h, want[i].cbor);
		assert_int_equal(xfr_part_from_cbor(cb, cbl, &back), OFFCA_OK);
		assert_int_equal(back.seq_num, want[i].seq);
		assert_int_equal(back.checksum, 23570951u);
		assert_int_equal(back.data_len, 29);
		assert_memory_equal(back.data, p.data, 29);
		xfr_part_clear(&back);
		xfr_part_clear(&p);
		free(h);
		free(cb);
	}
	xfr_fountain_enc_free(e);
	free(m);
}

static void test_part_cbor_rejects(void **state)
{
	xfr_part p;
	/* [1, 9, 256, crc, h'00'] : 1 byte fragments cannot hold 256 bytes in 9 parts */
	static const unsigned char bad1[] = {0x85, 0x01, 0x09, 0x19, 0x01, 0x00, 0x01, 0x41, 0x00};
	/* 4-element array */
	static const unsigned char bad2[] = {0x84, 0x01, 0x01, 0x01, 0x41, 0x00};
	/* seqNum 0 */
	static const unsigned char bad3[] = {0x85, 0x00, 0x01, 0x01, 0x01, 0x41, 0x00};
	/* trailing byte */
	static const unsigned char bad4[] = {0x85, 0x01, 0x01, 0x01, 0x01, 0x41, 0x00, 0x00};
	/* fragment as text string */
	static const unsigned char bad5[] = {0x85, 0x01, 0x01, 0x01, 0x01, 0x61, 0x41};
	static const unsigned char good[] = {0x85, 0x01, 0x01, 0x01, 0x01, 0x41, 0x00};

	(void)state;
	assert_int_equal(xfr_part_from_cbor(bad1, sizeof(bad1), &p), OFFCA_E_PARSE);
	assert_int_equal(xfr_part_from_cbor(bad2, sizeof(bad2), &p), OFFCA_E_PARSE);
	assert_int_equal(xfr_part_from_cbor(bad3, sizeof(bad3), &p), OFFCA_E_PARSE);
	assert_int_equal(xfr_part_from_cbor(bad4, sizeof(bad4), &p), OFFCA_E_PARSE);
	assert_int_equal(xfr_part_from_cbor(bad5, sizeof(bad5), &p), OFFCA_E_PARSE);
	assert_int_equal(xfr_part_from_cbor(good, sizeof(good), &p), OFFCA_OK);
	xfr_part_clear(&p);
}

/* The reference vector file: ur:bytes/N-9/... for N = 1..20 of the 256-byte "Wolf" message. */
static void test_wolf_vector_file(void **state)
{
	const char *data = getenv("OFFCA_TEST_DATA");
	char path[512], line[1024];
	unsigned char *m = make_message(256, "Wolf");
	xfr_ur_encoder *e = NULL;
	xfr_ur_decoder *d = NULL;
	const unsigned char *payload;
	const char *type;
	size_t plen, have, total;
	FILE *f;
	uint32_t seq = 0;

	(void)state;
	assert_non_null(data);
	assert_true(snprintf(path, sizeof(path), "%s/vectors/bcur-wolf256-frag30.txt", data) <
		    (int)sizeof(path));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(xfr_ur_encoder_new("bytes", m, 256, 30, &e), OFFCA_OK);
	assert_int_equal(xfr_ur_encoder_seq_len(e), 9);
	assert_int_equal(xfr_ur_decoder_new("bytes", &d), OFFCA_OK);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *ur = NULL;
		xfr_part_status st;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		seq++;
		assert_int_equal(xfr_ur_encoder_part(e, seq, &ur), OFFCA_OK);
		assert_string_equal(ur, line);
		free(ur);
		/* decode without pure parts 2 and 7: fountain parts 12 and 17 stand in for them */
		if (seq != 2 && seq != 7 && !xfr_ur_decoder_done(d)) {
			assert_int_equal(xfr_ur_decoder_add(d, line, strlen(line), &st), OFFCA_OK);
			assert_true(st == XFR_PART_NEW || st == XFR_PART_DUPLICATE);
		}
	}
	fclose(f);
	assert_int_equal(seq, 20);
	xfr_ur_decoder_progress(d, &have, &total);
	assert_int_equal(total, 9);
	assert_true(xfr_ur_decoder_done(d));
	assert_int_equal(xfr_ur_decoder_result(d, &type, &payload, &plen), OFFCA_OK);
	assert_string_equal(type, "bytes");
	assert_int_equal(plen, 256);
	assert_memory_equal(payload, m, 256);
	xfr_ur_decoder_free(d);
	xfr_ur_encoder_free(e);
	free(m);
}

static void test_single_part_and_parse_errors(void **state)
{
	const unsigned char pl[] = "hello offca";
	xfr_ur_encoder *e = NULL;
	xfr_ur_id id;
	xfr_part p;
	char *ur = NULL, up[256];

	(void)state;
	assert_int_equal(xfr_ur_encoder_new("offca-csr", pl, 11, 100, &e), OFFCA_OK);
	assert_int_equal(xfr_ur_encoder_seq_len(e), 1);
	assert_int_equal(xfr_ur_encoder_part(e, 7, &ur), OFFCA_OK);
	assert_non_null(strstr(ur, "ur:offca-csr/"));
	assert_null(strchr(ur + 13, '/'));
	snprintf(up, sizeof(up), "%s\n", ur);
	for (char *c = up; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	assert_int_equal(xfr_ur_parse(up, strlen(up), &id, &p), OFFCA_OK);
	assert_string_equal(id.type, "offca-csr");
	assert_int_equal(id.seq_len, 1);
	assert_int_equal(p.data_len, 12); /* 0x4b + 11 bytes */
	xfr_part_clear(&p);
	assert_int_equal(xfr_ur_parse("http://x", 8, &id, NULL), OFFCA_E_PARSE);
	assert_int_equal(xfr_ur_parse("ur:bytes", 8, &id, NULL), OFFCA_E_PARSE);
	assert_int_equal(xfr_ur_parse("ur:by_tes/aeadaolazmjendeoti", 28, &id, NULL), OFFCA_E_PARSE);
	assert_int_equal(xfr_ur_parse("ur:bytes/0-9/aeadaolazmjendeoti", 31, &id, NULL), OFFCA_E_PARSE);
	assert_int_equal(xfr_ur_parse("ur:bytes/1-9/aeadaolazmjendeotu", 31, &id, NULL), OFFCA_E_PARSE);
	free(ur);
	xfr_ur_encoder_free(e);
	e = NULL;
	assert_int_equal(xfr_ur_encoder_new("Bad_Type", pl, 11, 100, &e), OFFCA_E_USAGE);
	assert_null(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xoshiro),
		cmocka_unit_test(test_shuffle),
		cmocka_unit_test(test_degree_and_choice),
		cmocka_unit_test(test_fragment_len),
		cmocka_unit_test(test_fountain_parts_cbor),
		cmocka_unit_test(test_part_cbor_rejects),
		cmocka_unit_test(test_wolf_vector_file),
		cmocka_unit_test(test_single_part_and_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
