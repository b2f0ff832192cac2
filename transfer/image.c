/* image.c - PNG (libpng) and JPEG (libjpeg) files as 8-bit grey pixels for the QR scanner. */
#include "offca/qr.h"
#include "offca/util.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

struct xfr_image {
	int w, h;
	unsigned char *gray;
};

offca_rc xfr_image_from_gray(const unsigned char *gray, int w, int h, xfr_image **out)
{
	xfr_image *img;

	*out = NULL;
	if (w <= 0 || h <= 0)
		return ut_err(OFFCA_E_USAGE, "empty image");
	if ((uint64_t)w * (uint64_t)h > XFR_IMAGE_MAX_PIXELS)
		return ut_err(OFFCA_E_TOO_BIG, "image of %dx%d pixels exceeds the maximum of %u pixels", w, h,
			      XFR_IMAGE_MAX_PIXELS);
	img = calloc(1, sizeof(*img));
	if (img != NULL)
		img->gray = malloc((size_t)w * (size_t)h);
	if (img == NULL || img->gray == NULL) {
		free(img);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if (gray != NULL)
		memcpy(img->gray, gray, (size_t)w * (size_t)h);
	img->w = w;
	img->h = h;
	*out = img;
	return OFFCA_OK;
}

void xfr_image_free(xfr_image *img)
{
	if (img == NULL)
		return;
	free(img->gray);
	free(img);
}

int xfr_image_width(const xfr_image *img)
{
	return img->w;
}

int xfr_image_height(const xfr_image *img)
{
	return img->h;
}

const unsigned char *xfr_image_gray(const xfr_image *img)
{
	return img->gray;
}

/* Re-record the last error's detail prefixed with path (copied first: ut_err reuses its buffer). */
static offca_rc with_path(offca_rc rc, const char *path)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	return ut_err(rc, "%s: %s", path, msg);
}

static offca_rc load_png(const char *path, const unsigned char *buf, size_t len, xfr_image **out)
{
	offca_rc rc;
	png_image pi;
	png_color white = {255, 255, 255};
	xfr_image *img = NULL;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, buf, len)) {
		rc = ut_err(OFFCA_E_PARSE, "%s: not a readable PNG image (%s)", path, pi.message);
		goto out;
	}
	if (pi.width == 0 || pi.height == 0 || pi.width > 100000 || pi.height > 100000) {
		rc = ut_err(OFFCA_E_TOO_BIG, "%s: PNG size %ux%u out of range", path, pi.width, pi.height);
		goto out;
	}
	pi.format = PNG_FORMAT_GRAY;
	rc = xfr_image_from_gray(NULL, (int)pi.width, (int)pi.height, &img);
	if (rc != OFFCA_OK) {
		rc = with_path(rc, path);
		goto out;
	}
	if (!png_image_finish_read(&pi, &white, img->gray, 0, NULL)) {
		rc = ut_err(OFFCA_E_PARSE, "%s: damaged PNG image (%s)", path, pi.message);
		goto out;
	}
	*out = img;
	img = NULL;
	rc = OFFCA_OK;
out:
	png_image_free(&pi);
	xfr_image_free(img);
	return rc;
}

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr ci)
{
	struct jerr *e = (struct jerr *)ci->err;

	(*ci->err->format_message)(ci, e->msg);
	longjmp(e->jb, 1);
}

static void jpeg_quiet(j_common_ptr ci, int level)
{
	(void)ci;
	(void)level;
}

static offca_rc load_jpeg(const char *path, const unsigned char *buf, size_t len, xfr_image **out)
{
	struct jpeg_decompress_struct ci;
	struct jerr je;
	xfr_image *volatile img = NULL;
	volatile offca_rc rc = OFFCA_E_PARSE;

	*out = NULL;
	memset(&ci, 0, sizeof(ci));
	ci.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jpeg_fail;
	je.pub.emit_message = jpeg_quiet;
	je.msg[0] = '\0';
	if (setjmp(je.jb) != 0) {
		if (rc == OFFCA_E_PARSE)
			rc = ut_err(OFFCA_E_PARSE, "%s: damaged JPEG image (%s)", path, je.msg);
		goto out;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, buf, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	ci.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&ci);
	if (ci.output_components != 1) {
		rc = ut_err(OFFCA_E_PARSE, "%s: JPEG did not decode to grey", path);
		goto out;
	}
	{
		xfr_image *tmp = NULL;
		offca_rc r = xfr_image_from_gray(NULL, (int)ci.output_width, (int)ci.output_height, &tmp);

		if (r != OFFCA_OK) {
			rc = with_path(r, path);
			goto out;
		}
		img = tmp;
	}
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = img->gray + (size_t)ci.output_scanline * (size_t)img->w;

		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	*out = img;
	img = NULL;
	rc = OFFCA_OK;
out:
	jpeg_destroy_decompress(&ci);
	xfr_image_free(img);
	return rc;
}

offca_rc xfr_image_load(const char *path, xfr_image **out)
{
	static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	rc = ut_read_file(path, XFR_IMAGE_MAX_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	if (len >= 8 && memcmp(buf, png_sig, 8) == 0)
		rc = load_png(path, buf, len, out);
	else if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
		rc = load_jpeg(path, buf, len, out);
	else
		rc = ut_err(OFFCA_E_PARSE, "%s: not a PNG or JPEG image", path);
	free(buf);
	return rc;
}
