/*
 * test_fountain.c - the UR decoder on real frame streams: shuffled, duplicated, lossy, mixed with
 * frames of another message (rejected, not merged), damaged.
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

/* n frames 1..n of payload under type */
static char **frames(const char *type, const unsigned char *pl, size_t len, size_t frag, size_t n, size_t *seq_len)
{
	xfr_ur_encoder *e = NULL;
	char **f = calloc(n, sizeof(*f));

	assert_int_equal(xfr_ur_encoder_new(type, pl, len, frag, &e), OFFCA_OK);
	*seq_len = xfr_ur_encoder_seq_len(e);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(xfr_ur_encoder_part(e, (uint32_t)(i + 1), &f[i]), OFFCA_OK);
	xfr_ur_encoder_free(e);
	return f;
}

static void free_frames(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

static void shuffle(char **f, size_t n, xfr_xoshiro *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)xfr_xoshiro_next_int(r, 0, i - 1);
		char *t = f[i - 1];

		f[i - 1] = f[j];
		f[j] = t;
	}
}

static void check_result(xfr_ur_decoder *d, const char *type, const unsigned char *pl, size_t len)
{
	const char *t;
	const unsigned char *p;
	size_t l;

	assert_true(xfr_ur_decoder_done(d));
	assert_int_equal(xfr_ur_decoder_result(d, &t, &p, &l), OFFCA_OK);
	assert_string_equal(t, type);
	assert_int_equal(l, len);
	assert_memory_equal(p, pl, len);
}

static void test_shuffled_and_duplicated(void **state)
{
	size_t len = 5000, seq_len, n = 160;
	unsigned char *pl = make_message(len, "shuffle");
	char **f = frames("offca-crl", pl, len, 100, n, &seq_len);
	xfr_ur_decoder *d = NULL;
	xfr_xoshiro r;
	size_t dups = 0, have, total;

	(void)state;
	assert_int_equal(seq_len, 51);
	xfr_xoshiro_seed(&r, (const unsigned char *)"order", 5);
	shuffle(f, n, &r);
	assert_int_equal(xfr_ur_decoder_new("offca-crl", &d), OFFCA_OK);
	for (size_t i = 0; i < n && !xfr_ur_decoder_done(d); i++) {
		xfr_part_status st;

		/* every frame twice */
		for (int k = 0; k < 2; k++) {
			assert_int_equal(xfr_ur_decoder_add(d, f[i], strlen(f[i]), &st), OFFCA_OK);
			assert_true(st != XFR_PART_FOREIGN);
			if (k == 1 && st == XFR_PART_DUPLICATE)
				dups++;
		}
		xfr_ur_decoder_progress(d, &have, &total);
		assert_int_equal(total, 51);
		assert_true(have <= total);
	}
	assert_true(dups > 0);
	check_result(d, "offca-crl", pl, len);
	xfr_ur_decoder_free(d);
	free_frames(f, n);
	free(pl);
}

/* 4x frames, 20% lost at random: the reference code decodes (the issue measured 30/30). */
static void test_loss(void **state)
{
	size_t len = 3000, seq_len, n, ok = 0;
	unsigned char *pl = make_message(len, "loss");
	char **f;

	(void)state;
	f = frames("offca-chain", pl, len, 200, 1, &seq_len);
	free_frames(f, 1);
	n = 4 * seq_len;
	f = frames("offca-chain", pl, len, 200, n, &seq_len);
	for (int trial = 0; trial < 20; trial++) {
		char seed[16];
		xfr_xoshiro r;
		xfr_ur_decoder *d = NULL;

		snprintf(seed, sizeof(seed), "trial-%d", trial);
		xfr_xoshiro_seed(&r, (const unsigned char *)seed, strlen(seed));
		assert_int_equal(xfr_ur_decoder_new(NULL, &d), OFFCA_OK);
		for (size_t i = 0; i < n; i++) {
			xfr_part_status st;

			if (xfr_xoshiro_next_double(&r) < 0.2)
				continue;
			assert_int_equal(xfr_ur_decoder_add(d, f[i], strlen(f[i]), &st), OFFCA_OK);
		}
		if (xfr_ur_decoder_done(d)) {
			check_result(d, "offca-chain", pl, len);
			ok++;
		}
		xfr_ur_decoder_free(d);
	}
	assert_true(ok >= 19);
	free_frames(f, n);
	free(pl);
}

static void test_foreign_frames_rejected(void **state)
{
	size_t len = 900, seq_len, seq_len2;
	unsigned char *a = make_message(len, "message-a"), *b = make_message(len, "message-b");
	char **fa = frames("offca-cert", a, len, 100, 12, &seq_len);
	char **fb = frames("offca-cert", b, len, 100, 12, &seq_len2);
	char **fc = frames("offca-csr", a, len, 100, 12, &seq_len2);
	xfr_ur_decoder *d = NULL;
	xfr_part_status st;

	(void)state;
	assert_int_equal(xfr_ur_decoder_new(NULL, &d), OFFCA_OK);
	for (size_t i = 0; i < 12 && !xfr_ur_decoder_done(d); i++) {
		/* same type, same length, other checksum */
		assert_int_equal(xfr_ur_decoder_add(d, fb[i], strlen(fb[i]), &st), OFFCA_OK);
		assert_int_equal(st, i == 0 ? XFR_PART_NEW : XFR_PART_FOREIGN);
		if (i == 0) {
			/* b came first and pinned the decoder: start again with a first */
			xfr_ur_decoder_free(d);
			assert_int_equal(xfr_ur_decoder_new(NULL, &d), OFFCA_OK);
		}
		assert_int_equal(xfr_ur_decoder_add(d, fa[i], strlen(fa[i]), &st), OFFCA_OK);
		assert_int_equal(st, XFR_PART_NEW);
		if (xfr_ur_decoder_done(d))
			break;
		/* same bytes, other type */
		assert_int_equal(xfr_ur_decoder_add(d, fc[i], strlen(fc[i]), &st), OFFCA_OK);
		assert_int_equal(st, XFR_PART_FOREIGN);
	}
	check_result(d, "offca-cert", a, len);
	assert_int_equal(xfr_ur_decoder_add(d, fa[0], strlen(fa[0]), &st), OFFCA_OK);
	assert_int_equal(st, XFR_PART_LATE);
	xfr_ur_decoder_free(d);
	/* a decoder told to expect a type rejects others */
	assert_int_equal(xfr_ur_decoder_new("offca-csr", &d), OFFCA_OK);
	assert_int_equal(xfr_ur_decoder_add(d, fa[0], strlen(fa[0]), &st), OFFCA_OK);
	assert_int_equal(st, XFR_PART_FOREIGN);
	xfr_ur_decoder_free(d);
	free_frames(fa, 12);
	free_frames(fb, 12);
	free_frames(fc, 12);
	free(a);
	free(b);
}

/*
 * A forged frame with the right header but a wrong fragment (its own Bytewords CRC is valid):
 * the joined message fails the message CRC32 and nothing is returned.
 */
static void test_forged_fragment_fails_crc(void **state)
{
	size_t len = 300, seq_len;
	unsigned char *pl = make_message(len, "forged"), *cb = NULL;
	char **f = frames("bytes", pl, len, 100, 4, &seq_len);
	xfr_ur_decoder *d = NULL;
	xfr_part_status st;
	xfr_ur_id id;
	xfr_part p;
	char *bw = NULL, forged[1024];
	size_t cbl;
	offca_rc rc = OFFCA_OK;

	(void)state;
	assert_int_equal(xfr_ur_parse(f[1], strlen(f[1]), &id, &p), OFFCA_OK);
	p.data[5] ^= 0x40;
	assert_int_equal(xfr_part_to_cbor(&p, &cb, &cbl), OFFCA_OK);
	assert_int_equal(xfr_bytewords_encode(XFR_BW_MINIMAL, cb, cbl, &bw), OFFCA_OK);
	snprintf(forged, sizeof(forged), "ur:bytes/%u-%u/%s", p.seq_num, p.seq_len, bw);
	assert_int_equal(xfr_ur_decoder_new(NULL, &d), OFFCA_OK);
	for (size_t i = 0; i < seq_len; i++) {
		const char *s = i == 1 ? forged : f[i];

		rc = xfr_ur_decoder_add(d, s, strlen(s), &st);
		if (rc != OFFCA_OK)
			break;
	}
	assert_int_equal(rc, OFFCA_E_VERIFY);
	assert_false(xfr_ur_decoder_done(d));
	/* a damaged UR string (one letter changed) is a parse error, decoder still usable */
	{
		char dam[1024];

		snprintf(dam, sizeof(dam), "%s", f[0]);
		dam[strlen(dam) - 10] = dam[strlen(dam) - 10] == 'a' ? 'e' : 'a';
		assert_int_equal(xfr_ur_decoder_add(d, dam, strlen(dam), &st), OFFCA_E_PARSE);
	}
	xfr_ur_decoder_free(d);
	xfr_part_clear(&p);
	free(cb);
	free(bw);
	free_frames(f, 4);
	free(pl);
}

/* A camera that first sees an older transfer still decodes the new one; at most 4 at once. */
static void test_multi_messages(void **state)
{
	size_t len = 700, sl;
	unsigned char *pl[5];
	char **f[5];
	xfr_ur_multi *m = NULL;
	const xfr_ur_decoder *d;
	xfr_part_status st;
	const char *type;
	const unsigned char *p;
	size_t plen;

	(void)state;
	for (int k = 0; k < 5; k++) {
		char seed[8];

		snprintf(seed, sizeof(seed), "m%d", k);
		pl[k] = make_message(len, seed);
		f[k] = frames("offca-cert", pl[k], len, 100, 30, &sl);
	}
	assert_int_equal(xfr_ur_multi_new("offca-cert", &m), OFFCA_OK);
	/* two frames each of messages 1..4 fill the four slots; message 0 (5th) finds no room */
	for (int k = 1; k < 5; k++)
		for (int i = 0; i < 2; i++) {
			assert_int_equal(xfr_ur_multi_add(m, f[k][i], strlen(f[k][i]), &st, &d), OFFCA_OK);
			assert_int_equal(st, XFR_PART_NEW);
			assert_non_null(d);
		}
	assert_int_equal(xfr_ur_multi_add(m, f[0][0], strlen(f[0][0]), &st, &d), OFFCA_OK);
	assert_int_equal(st, XFR_PART_FOREIGN);
	assert_null(d);
	/* message 3 completes */
	for (int i = 2; i < 30 && xfr_ur_multi_done(m) == NULL; i++)
		assert_int_equal(xfr_ur_multi_add(m, f[3][i], strlen(f[3][i]), &st, &d), OFFCA_OK);
	assert_non_null(xfr_ur_multi_done(m));
	assert_int_equal(xfr_ur_decoder_result(xfr_ur_multi_done(m), &type, &p, &plen), OFFCA_OK);
	assert_int_equal(plen, len);
	assert_memory_equal(p, pl[3], len);
	assert_int_equal(xfr_ur_multi_add(m, f[1][5], strlen(f[1][5]), &st, &d), OFFCA_OK);
	assert_int_equal(st, XFR_PART_LATE);
	xfr_ur_multi_free(m);
	for (int k = 0; k < 5; k++) {
		free_frames(f[k], 30);
		free(pl[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shuffled_and_duplicated),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_foreign_frames_rejected),
		cmocka_unit_test(test_forged_fragment_fails_crc),
		cmocka_unit_test(test_multi_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
