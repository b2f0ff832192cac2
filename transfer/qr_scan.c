/*
 * qr_scan.c - QR symbols out of images and webcams with zbar. Only the QR symbology is enabled
 * (with defaults zbar once read a frame as an I2/5 linear barcode) and ZBAR_CFG_BINARY is set, so
 * the data and its length come from zbar untouched.
 */
#include "offca/qr.h"
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zbar.h>

static void qr_only(zbar_image_scanner_t *sc)
{
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
}

void xfr_qr_texts_free(char **texts, size_t n)
{
	if (texts == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

/* Copy the QR symbols of a scanned zbar image into a NULL-free array of strings. */
static offca_rc collect(const zbar_symbol_t *sym, char ***texts, size_t *n)
{
	char **t = calloc(XFR_QR_MAX_SYMBOLS, sizeof(*t));
	size_t k = 0;

	if (t == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (; sym != NULL && k < XFR_QR_MAX_SYMBOLS; sym = zbar_symbol_next(sym)) {
		const char *d = zbar_symbol_get_data(sym);
		unsigned len = zbar_symbol_get_data_length(sym);

		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE || d == NULL || len == 0 || memchr(d, '\0', len) != NULL)
			continue;
		t[k] = malloc((size_t)len + 1);
		if (t[k] == NULL) {
			xfr_qr_texts_free(t, k);
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		}
		memcpy(t[k], d, len);
		t[k][len] = '\0';
		k++;
	}
	*texts = t;
	*n = k;
	return OFFCA_OK;
}

offca_rc xfr_qr_scan(const xfr_image *img, char ***texts, size_t *n)
{
	offca_rc rc;
	zbar_image_scanner_t *sc = NULL;
	zbar_image_t *zi = NULL;
	int w = xfr_image_width(img), h = xfr_image_height(img);

	*texts = NULL;
	*n = 0;
	sc = zbar_image_scanner_create();
	zi = zbar_image_create();
	if (sc == NULL || zi == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "zbar: out of memory");
		goto out;
	}
	qr_only(sc);
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)w, (unsigned)h);
	/* zbar only reads the pixels; no cleanup handler, the image keeps them */
	zbar_image_set_data(zi, xfr_image_gray(img), (unsigned long)w * (unsigned long)h, NULL);
	if (zbar_scan_image(sc, zi) < 0) {
		rc = ut_err(OFFCA_E_INTERNAL, "zbar failed to scan the image");
		goto out;
	}
	rc = collect(zbar_image_first_symbol(zi), texts, n);
out:
	if (zi != NULL)
		zbar_image_destroy(zi);
	if (sc != NULL)
		zbar_image_scanner_destroy(sc);
	return rc;
}

struct video_ctx {
	xfr_qr_text_cb cb;
	void *arg;
	int done;
};

static void on_frame(zbar_image_t *zi, const void *userdata)
{
	struct video_ctx *v = (struct video_ctx *)userdata;

	for (const zbar_symbol_t *s = zbar_image_first_symbol(zi); s != NULL && !v->done; s = zbar_symbol_next(s)) {
		const char *d = zbar_symbol_get_data(s);
		unsigned len = zbar_symbol_get_data_length(s);

		if (zbar_symbol_get_type(s) != ZBAR_QRCODE || d == NULL || len == 0 || memchr(d, '\0', len) != NULL)
			continue;
		if (v->cb(v->arg, d, len) != 0)
			v->done = 1;
	}
}

/* zbar's multi-line error text as one line: the system error part when there is one. */
static const char *one_line(zbar_processor_t *p, char *buf, size_t cap)
{
	const char *m = zbar_processor_error_string(p, 0), *se;
	size_t k = 0;

	se = m != NULL ? strstr(m, "system error: ") : NULL;
	m = se != NULL ? se + 14 : (m != NULL ? m : "unknown error");
	for (; *m != '\0' && k + 1 < cap; m++) {
		char c = (*m == '\n' || *m == '\t') ? ' ' : *m;

		if (c == ' ' && (k == 0 || buf[k - 1] == ' '))
			continue;
		buf[k++] = c;
	}
	while (k > 0 && buf[k - 1] == ' ')
		k--;
	buf[k] = '\0';
	return buf;
}

/* A V4L2 capture device? (checked before zbar, which prints its own complaints otherwise) */
static offca_rc check_v4l2(const char *device)
{
	struct v4l2_capability cap;
	int fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return ut_err(errno == EACCES ? OFFCA_E_PERM : OFFCA_E_IO, "video device %s: %s", device, strerror(errno));
	memset(&cap, 0, sizeof(cap));
	ok = ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0 && (cap.capabilities & V4L2_CAP_VIDEO_CAPTURE) != 0;
	close(fd);
	return ok ? OFFCA_OK : ut_err(OFFCA_E_IO, "%s is not a video capture device", device);
}

offca_rc xfr_qr_scan_video(const char *device, xfr_qr_text_cb cb, void *arg, const volatile sig_atomic_t *stop)
{
	offca_rc rc;
	zbar_processor_t *p = NULL;
	struct video_ctx v = {cb, arg, 0};
	struct stat st;
	char msg[256];

	if (stat(device, &st) != 0)
		return ut_err(errno == ENOENT ? OFFCA_E_NOT_FOUND : OFFCA_E_IO,
			      "video device %s: %s (no camera? 'offca qr decode IMAGE...' reads image files)", device,
			      strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return ut_err(OFFCA_E_IO, "%s is not a video device", device);
	rc = check_v4l2(device);
	if (rc != OFFCA_OK)
		return rc;
	p = zbar_processor_create(0);
	if (p == NULL)
		return ut_err(OFFCA_E_NOMEM, "zbar: out of memory");
	zbar_processor_set_config(p, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_processor_set_config(p, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_processor_set_config(p, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	if (zbar_processor_init(p, device, 0) != 0) {
		rc = ut_err(OFFCA_E_IO, "video device %s: zbar cannot use it: %s", device,
			    one_line(p, msg, sizeof(msg)));
		goto out;
	}
	zbar_processor_set_data_handler(p, on_frame, &v);
	if (zbar_processor_set_active(p, 1) != 0) {
		rc = ut_err(OFFCA_E_IO, "video device %s: cannot start capture: %s", device,
			    one_line(p, msg, sizeof(msg)));
		goto out;
	}
	rc = OFFCA_OK;
	while (!v.done) {
		if (stop != NULL && *stop) {
			rc = ut_err(OFFCA_E_ABORTED, "scan interrupted");
			break;
		}
		/* one decoded video frame (on_frame sees its symbols) or a timeout */
		if (zbar_process_one(p, 250) < 0) {
			rc = ut_err(OFFCA_E_IO, "video device %s: %s", device, one_line(p, msg, sizeof(msg)));
			break;
		}
	}
	zbar_processor_set_active(p, 0);
out:
	zbar_processor_destroy(p);
	return rc;
}
