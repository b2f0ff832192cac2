/*
 * fuzz_qrpayload.c - what `offca qr decode` / `offca qr scan` do with scanned QR texts.
 *
 * Two kinds of input, told apart by their first bytes:
 *  - frames: text starting with "ur:" (any case) or whitespace, one UR string per line, added
 *    to a frame set (xfr_qr_frames_add_text, lines that are not UR frames skipped), decoded as one
 *    message (xfr_qr_frames_decode: pick the message most frames belong to, fountain decode);
 *    a completed message then goes through the payload path below under its UR type.
 *  - raw: first byte selects the payload type (mod XFR_PL__COUNT), the rest is the decoded
 *    payload, so that the checks behind the CRC32 (DER CSR/cert/chain/CRL, bundle magic) are
 *    reached directly.
 * Payload path: xfr_payload_check(), then PEM output (xfr_payload_pem) as --pem does, and for a
 * bundle payload xfr_bundle_parse() as `offca bundle import` would do with the decoded file.
 *
 * FUZZ_MAX_LEN 16384
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offca/bundle.h"
#include "offca/payload.h"
#include "offca/qr.h"
#include "offca/ur.h"
#include "offca/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (128u * 1024u)

static void on_event(void *arg, xfr_qr_event ev, const char *src, const xfr_ur_id *id, size_t have, size_t total)
{
	(void)arg;
	(void)ev;
	if (src == NULL || id == NULL || have > total)
		abort();
}

static void payload(xfr_payload_type t, const unsigned char *p, size_t len)
{
	char *pem = NULL;
	size_t pl = 0;
	xfr_bundle *b = NULL;

	if (xfr_payload_check(t, p, len) != OFFCA_OK)
		return;
	if (t == XFR_PL_BUNDLE) {
		if (xfr_bundle_parse(p, len, &b) == OFFCA_OK)
			xfr_bundle_free(b);
		return;
	}
	if (t == XFR_PL_BYTES)
		return;
	if (xfr_payload_pem(t, p, len, &pem, &pl) != OFFCA_OK)
		abort(); /* a checked payload must have a PEM form */
	if (pem == NULL || strlen(pem) != pl)
		abort();
	free(pem);
}

static int is_frames(const uint8_t *d, size_t n)
{
	if (n > 0 && (d[0] == ' ' || d[0] == '\t' || d[0] == '\r' || d[0] == '\n'))
		return 1;
	return n >= 3 && (d[0] | 0x20) == 'u' && (d[1] | 0x20) == 'r' && d[2] == ':';
}

static void frames(const uint8_t *data, size_t size)
{
	xfr_qr_frames *fs = NULL;
	xfr_ur_decoder *d = NULL;
	const char *t = (const char *)data, *nl, *urt = NULL;
	const unsigned char *pl = NULL;
	size_t left = size, plen = 0;
	xfr_payload_type ty;

	if (xfr_qr_frames_new(&fs) != OFFCA_OK)
		return;
	while (left > 0) {
		size_t n;

		nl = memchr(t, '\n', left);
		n = nl != NULL ? (size_t)(nl - t) : left;
		/* zbar texts never hold a NUL (qr_scan skips such symbols); keep that promise here */
		if (n > 0 && memchr(t, '\0', n) == NULL)
			(void)xfr_qr_frames_add_text(fs, t, n, "fuzz");
		t += n + (nl != NULL);
		left -= n + (nl != NULL);
	}
	if (xfr_qr_frames_decode(fs, NULL, on_event, NULL, &d) == OFFCA_OK) {
		if (!xfr_ur_decoder_done(d))
			abort();
		if (xfr_ur_decoder_result(d, &urt, &pl, &plen) == OFFCA_OK &&
		    xfr_payload_type_from_ur(urt, &ty) == OFFCA_OK)
			payload(ty, pl, plen);
	} else if (d != NULL) {
		abort();
	}
	xfr_ur_decoder_free(d);
	xfr_qr_frames_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > FZ_MAX_INPUT)
		return 0;
	if (is_frames(data, size))
		frames(data, size);
	else
		payload((xfr_payload_type)(data[0] % XFR_PL__COUNT), data + 1, size - 1);
	ut_err_clear();
	return 0;
}
