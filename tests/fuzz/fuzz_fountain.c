/*
 * fuzz_fountain.c - the fountain decoder fed parts one at a time (the CBOR inside multi-part URs).
 *
 * Input: records of [2-byte big-endian length][body]. The first body is a CBOR part
 * [seqNum, seqLen, messageLen, checksum, fragment] parsed with xfr_part_from_cbor(); it pins the
 * message. Each later body is either another CBOR part (first byte odd: the rest is CBOR) or
 * (first byte even) a part of the pinned message made up here: a 4-byte big-endian seqNum and
 * fragment bytes (zero padded / cut to the fragment length), so that the peeling decoder sees
 * many consistent parts and not only foreign ones. The decoder must never report more fragments
 * than there are, and a completed message must pass its CRC32.
 *
 * FUZZ_MAX_LEN 16384
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offca/ur.h"
#include "offca/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (256u * 1024u)
#define MAX_PARTS 512u

static int next_record(const uint8_t **p, size_t *left, const uint8_t **body, size_t *blen)
{
	size_t n;

	if (*left < 2)
		return 0;
	n = (size_t)(*p)[0] << 8 | (*p)[1];
	if (n > *left - 2)
		n = *left - 2;
	*body = *p + 2;
	*blen = n;
	*p += 2 + n;
	*left -= 2 + n;
	return 1;
}

static int made_up(const xfr_part *pin, const uint8_t *b, size_t n, xfr_part *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 4)
		return 0;
	out->seq_num = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (out->seq_num == 0)
		return 0;
	out->seq_len = pin->seq_len;
	out->msg_len = pin->msg_len;
	out->checksum = pin->checksum;
	out->data_len = pin->data_len;
	out->data = calloc(1, pin->data_len ? pin->data_len : 1);
	if (out->data == NULL)
		return 0;
	memcpy(out->data, b + 4, n - 4 < pin->data_len ? n - 4 : pin->data_len);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xfr_fountain_dec *d = NULL;
	xfr_part first = {0}, p = {0};
	const uint8_t *cur = data, *b;
	size_t left = size, bl, have = 0, total = 0, parts = 0;
	xfr_part_status st;

	if (size > FZ_MAX_INPUT || !next_record(&cur, &left, &b, &bl))
		return 0;
	if (xfr_part_from_cbor(b, bl, &first) != OFFCA_OK) {
		if (first.data != NULL)
			abort();
		goto out;
	}
	if (first.seq_num == 0 || first.seq_len == 0 || first.data_len == 0 ||
	    (uint64_t)first.seq_len * first.data_len < first.msg_len)
		abort(); /* xfr_part_from_cbor let an inconsistent part through */
	if (xfr_fountain_dec_new(&d) != OFFCA_OK)
		goto out;
	if (xfr_fountain_dec_add(d, &first, &st) != OFFCA_OK)
		goto out;
	while (!xfr_fountain_dec_done(d) && parts++ < MAX_PARTS && next_record(&cur, &left, &b, &bl)) {
		int ok;

		if (bl > 0 && (b[0] & 1))
			ok = xfr_part_from_cbor(b + 1, bl - 1, &p) == OFFCA_OK;
		else
			ok = made_up(&first, bl > 0 ? b + 1 : b, bl > 0 ? bl - 1 : 0, &p);
		if (ok && xfr_fountain_dec_add(d, &p, &st) != OFFCA_OK) {
			xfr_part_clear(&p);
			break;
		}
		xfr_part_clear(&p);
		xfr_fountain_dec_progress(d, &have, &total);
		if (have > total || total != first.seq_len)
			abort();
	}
	if (xfr_fountain_dec_done(d)) {
		const unsigned char *msg = NULL;
		size_t mlen = 0;

		if (xfr_fountain_dec_result(d, &msg, &mlen) != OFFCA_OK || mlen != first.msg_len ||
		    xfr_crc32(msg, mlen) != first.checksum)
			abort();
	}
out:
	xfr_part_clear(&first);
	xfr_fountain_dec_free(d);
	ut_err_clear();
	return 0;
}
