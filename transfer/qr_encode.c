/* qr_encode.c - UR frames as QR symbols (libqrencode, alphanumeric mode, ECC M), PNG and text. */
#include "offca/qr.h"
#include "offca/util.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

struct xfr_qr_code {
	QRcode *q;
};

offca_rc xfr_qr_encode(const char *text, xfr_qr_code **out)
{
	offca_rc rc;
	xfr_qr_code *c = NULL;
	char *up = NULL;
	size_t n = text != NULL ? strlen(text) : 0;

	*out = NULL;
	if (n == 0)
		return ut_err(OFFCA_E_USAGE, "nothing to encode in a QR code");
	up = malloc(n + 1);
	c = calloc(1, sizeof(*c));
	if (up == NULL || c == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i <= n; i++)
		up[i] = (text[i] >= 'a' && text[i] <= 'z') ? (char)(text[i] - 'a' + 'A') : text[i];
	/* QR_MODE_8 is only the hint for non-alphanumeric runs; a UR is alphanumeric throughout */
	errno = 0;
	c->q = QRcode_encodeString(up, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (c->q == NULL) {
		rc = errno == ERANGE ? ut_err(OFFCA_E_TOO_BIG, "a frame of %zu characters does not fit in a QR "
							      "code at ECC M (use a smaller --fragment-size)", n)
				     : ut_err(OFFCA_E_NOMEM, "libqrencode failed to encode a frame");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = OFFCA_OK;
out:
	xfr_qr_code_free(c);
	free(up);
	return rc;
}

void xfr_qr_code_free(xfr_qr_code *c)
{
	if (c == NULL)
		return;
	if (c->q != NULL)
		QRcode_free(c->q);
	free(c);
}

int xfr_qr_code_width(const xfr_qr_code *c)
{
	return c->q->width;
}

int xfr_qr_code_version(const xfr_qr_code *c)
{
	return c->q->version;
}

int xfr_qr_code_dark(const xfr_qr_code *c, int x, int y)
{
	int w = c->q->width;

	if (x < 0 || y < 0 || x >= w || y >= w)
		return 0;
	return c->q->data[y * w + x] & 1;
}

offca_rc xfr_qr_png(const xfr_qr_code *c, int scale, int margin, unsigned char **png, size_t *len)
{
	offca_rc rc;
	png_image img;
	unsigned char *pix = NULL, *buf = NULL;
	png_alloc_size_t blen = 0;
	int side;

	*png = NULL;
	*len = 0;
	if (scale < 1 || scale > XFR_QR_MAX_SCALE || margin < 0 || margin > 64)
		return ut_err(OFFCA_E_USAGE, "QR scale must be 1..%d pixels per module", XFR_QR_MAX_SCALE);
	side = (c->q->width + 2 * margin) * scale;
	pix = malloc((size_t)side * (size_t)side);
	if (pix == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int y = 0; y < side; y++)
		for (int x = 0; x < side; x++)
			pix[(size_t)y * side + x] =
				xfr_qr_code_dark(c, x / scale - margin, y / scale - margin) ? 0 : 255;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)side;
	img.height = (png_uint_32)side;
	img.format = PNG_FORMAT_GRAY;
	if (!png_image_write_get_memory_size(img, blen, 0, pix, 0, NULL)) {
		rc = ut_err(OFFCA_E_INTERNAL, "libpng: %s", img.message);
		goto out;
	}
	buf = malloc(blen);
	if (buf == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (!png_image_write_to_memory(&img, buf, &blen, 0, pix, 0, NULL)) {
		rc = ut_err(OFFCA_E_INTERNAL, "libpng: %s", img.message);
		goto out;
	}
	*png = buf;
	*len = blen;
	buf = NULL;
	rc = OFFCA_OK;
out:
	png_image_free(&img);
	free(buf);
	free(pix);
	return rc;
}

offca_rc xfr_qr_text(const xfr_qr_code *c, int margin, char **out)
{
	static const char *cell[4] = {" ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88"}; /* ▀ ▄ █ */
	static const char on[] = "\x1b[30;107m", off[] = "\x1b[0m\n";
	int side = c->q->width + 2 * margin, rows = (side + 1) / 2;
	size_t cap = (size_t)rows * ((size_t)side * 3 + sizeof(on) + sizeof(off)) + 1, pos = 0;
	char *s = malloc(cap);

	*out = NULL;
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int r = 0; r < rows; r++) {
		memcpy(s + pos, on, sizeof(on) - 1);
		pos += sizeof(on) - 1;
		for (int x = 0; x < side; x++) {
			int top = xfr_qr_code_dark(c, x - margin, 2 * r - margin);
			int bot = xfr_qr_code_dark(c, x - margin, 2 * r + 1 - margin);
			const char *g = cell[top | (bot << 1)];
			size_t gl = strlen(g);

			memcpy(s + pos, g, gl);
			pos += gl;
		}
		memcpy(s + pos, off, sizeof(off) - 1);
		pos += sizeof(off) - 1;
	}
	s[pos] = '\0';
	*out = s;
	return OFFCA_OK;
}
