/*
 * fuzz_ur.c - UR strings as a camera or a text file delivers them (BCR-2020-005).
 *
 * The input is one or more frames separated by '\n'. Each frame goes through xfr_ur_parse()
 * (scheme, type, sequence, minimal Bytewords + CRC32, CBOR part), then all frames go to a
 * multi-message decoder (xfr_ur_multi: peeling fountain decoder behind it) as `offca qr decode`
 * does; a completed message is unwrapped. Every parsed single-part frame must re-encode to the
 * same frame (lower case, trimmed): the encoder and parser agree. The whole input is also decoded
 * as standard and URI Bytewords.
 *
 * FUZZ_MAX_LEN 16384 (two XFR_UR_MAX_TEXT frames)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offca/ur.h"
#include "offca/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (64u * 1024u)

static void roundtrip_single(const xfr_ur_id *id, const xfr_part *p)
{
	unsigned char *msg = NULL;
	size_t mlen = 0;
	const unsigned char *pl = NULL;
	size_t plen = 0;
	xfr_ur_encoder *e = NULL;
	char *s = NULL;
	xfr_ur_id id2;
	xfr_part p2;

	/* Only a message that is one CBOR byte string (what xfr_ur_wrap makes) can be re-encoded. */
	if (id->seq_len != 1 || xfr_ur_unwrap(p->data, p->data_len, &pl, &plen) != OFFCA_OK)
		return;
	if (xfr_ur_wrap(pl, plen, &msg, &mlen) != OFFCA_OK)
		return;
	if (mlen != p->data_len || memcmp(msg, p->data, mlen) != 0) {
		free(msg); /* a non-shortest CBOR head: unwrap is lenient there, nothing to compare */
		return;
	}
	free(msg);
	if (xfr_ur_encoder_new(id->type, pl, plen, XFR_UR_MAX_FRAGMENT, &e) != OFFCA_OK)
		return;
	if (xfr_ur_encoder_seq_len(e) == 1 && xfr_ur_encoder_part(e, 1, &s) == OFFCA_OK) {
		if (xfr_ur_parse(s, strlen(s), &id2, &p2) != OFFCA_OK || p2.data_len != p->data_len ||
		    memcmp(p2.data, p->data, p->data_len) != 0 || strcmp(id2.type, id->type) != 0)
			abort(); /* our own encoding of a parsed message does not parse back to it */
		xfr_part_clear(&p2);
	}
	free(s);
	xfr_ur_encoder_free(e);
}

static void one_frame(xfr_ur_multi *m, const char *t, size_t n)
{
	xfr_ur_id id;
	xfr_part p;
	xfr_part_status st;
	const xfr_ur_decoder *which = NULL;

	if (xfr_ur_parse(t, n, &id, &p) == OFFCA_OK) {
		if (id.seq_num == 0 || id.seq_len == 0 || p.data == NULL || !xfr_ur_type_valid(id.type))
			abort();
		roundtrip_single(&id, &p);
		xfr_part_clear(&p);
	} else if (p.data != NULL || id.seq_len != 0) {
		abort(); /* outputs must be left cleared on failure */
	}
	(void)xfr_ur_multi_add(m, t, n, &st, &which);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xfr_ur_multi *m = NULL;
	const xfr_ur_decoder *d;
	const char *t = (const char *)data, *nl;
	size_t left = size;
	unsigned char *bw = NULL;
	size_t bl = 0;

	if (size > FZ_MAX_INPUT)
		return 0;
	if (xfr_bytewords_decode(XFR_BW_STANDARD, t, size, &bw, &bl) == OFFCA_OK)
		free(bw);
	bw = NULL;
	if (xfr_bytewords_decode(XFR_BW_URI, t, size, &bw, &bl) == OFFCA_OK)
		free(bw);
	if (xfr_ur_multi_new(NULL, &m) != OFFCA_OK)
		return 0;
	while (left > 0) {
		size_t n;

		nl = memchr(t, '\n', left);
		n = nl != NULL ? (size_t)(nl - t) : left;
		one_frame(m, t, n);
		t += n + (nl != NULL);
		left -= n + (nl != NULL);
	}
	d = xfr_ur_multi_done(m);
	if (d != NULL) {
		const char *type = NULL;
		const unsigned char *pl = NULL;
		size_t plen = 0, have = 0, total = 0;
		xfr_ur_id id;

		if (!xfr_ur_decoder_done(d) || xfr_ur_decoder_id(d, &id) != OFFCA_OK)
			abort();
		xfr_ur_decoder_progress(d, &have, &total);
		if (have != total || total != id.seq_len)
			abort();
		(void)xfr_ur_decoder_result(d, &type, &pl, &plen);
	}
	xfr_ur_multi_free(m);
	ut_err_clear();
	return 0;
}
