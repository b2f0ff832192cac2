/*
 * fuzz_qrpayload.c - what `offca qr decode` / `offca qr scan` do with QR images and scanned texts.
 *
 * Three kinds of input, told apart by their first bytes:
 *  - image: a PNG or JPEG file (by its signature), as `offca qr decode photo.png` reads it: written
 *    to a per-process temp directory, loaded to grey (libpng / libjpeg), scanned with zbar
 *    (xfr_qr_frames_add_image), and the frames found decoded as below (images over 1 Mpixel are
 *    loaded but not scanned, to keep the target fast).
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
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offca/bundle.h"
#include "offca/payload.h"
#include "offca/qr.h"
#include "offca/ur.h"
#include "offca/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (128u * 1024u)

#define FZ_MAX_SCAN_PIXELS (1000u * 1000u)

static char dir[64], img_path[96];

static void cleanup(void)
{
	unlink(img_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-qr-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(img_path, sizeof(img_path), "%s/frame.img", dir);
	atexit(cleanup);
	return 0;
}

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

/* Decode the frame set as one message and take its payload. */
static void decode(const xfr_qr_frames *fs)
{
	xfr_ur_decoder *d = NULL;
	const char *urt = NULL;
	const unsigned char *pl = NULL;
	size_t plen = 0;
	xfr_payload_type ty;

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
}

static void frames(const uint8_t *data, size_t size)
{
	xfr_qr_frames *fs = NULL;
	const char *t = (const char *)data, *nl;
	size_t left = size;

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
	decode(fs);
	xfr_qr_frames_free(fs);
}

static int is_image(const uint8_t *d, size_t n)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

	return (n >= 8 && memcmp(d, png_sig, 8) == 0) || (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF);
}

static void image(const uint8_t *data, size_t size)
{
	xfr_image *img = NULL;
	xfr_qr_frames *fs = NULL;
	size_t codes = 0, not_ur = 0;
	int fd;

	unlink(img_path);
	fd = open(img_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (xfr_image_load(img_path, &img) != OFFCA_OK)
		return;
	if (xfr_image_width(img) <= 0 || xfr_image_height(img) <= 0 || xfr_image_gray(img) == NULL)
		abort();
	if ((uint64_t)xfr_image_width(img) * (uint64_t)xfr_image_height(img) <= FZ_MAX_SCAN_PIXELS &&
	    xfr_qr_frames_new(&fs) == OFFCA_OK) {
		if (xfr_qr_frames_add_image(fs, img_path, &codes, &not_ur) == OFFCA_OK && not_ur > codes)
			abort();
		decode(fs);
		xfr_qr_frames_free(fs);
	}
	xfr_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > FZ_MAX_INPUT)
		return 0;
	if (is_image(data, size))
		image(data, size);
	else if (is_frames(data, size))
		frames(data, size);
	else
		payload((xfr_payload_type)(data[0] % XFR_PL__COUNT), data + 1, size - 1);
	ut_err_clear();
	return 0;
}
