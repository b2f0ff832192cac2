/*
 * offca/qr.h - QR symbols for UR frames (prefix xfr_qr_, xfr_image_). Guide: docs/qr.md.
 *
 * Encoding: libqrencode, the UR string upper-cased so the whole frame is QR alphanumeric mode,
 * error correction M (L failed under moderate glare in our measurements, M did not). Output as a
 * PNG (libpng) or as UTF-8 half blocks for a terminal.
 * Decoding: PNG (libpng) and JPEG (libjpeg) images read into 8-bit grey, then zbar with only the QR
 * symbology enabled and ZBAR_CFG_BINARY set (the data length comes from zbar, never strlen).
 * Webcams: zbar's video processor.
 */
#ifndef OFFCA_QR_H
#define OFFCA_QR_H

#include <stddef.h>
#include <signal.h>

#include "offca/err.h"
#include "offca/ur.h"

#define XFR_IMAGE_MAX_FILE   (64u * 1024u * 1024u) /* bytes of one image file */
#define XFR_IMAGE_MAX_PIXELS (40u * 1000u * 1000u) /* width * height */
#define XFR_QR_MAX_SYMBOLS   16u                   /* QR codes taken from one image */
#define XFR_QR_MAX_SCALE     40                    /* pixels per module in a PNG */

/* ---- one QR symbol (qr_encode.c) ---- */
typedef struct xfr_qr_code xfr_qr_code;

/*
 * Encode text (a UR string; it is upper-cased first) at ECC M in the smallest version that holds
 * it. *out: new handle. Errors: OFFCA_E_TOO_BIG (does not fit in version 40: use smaller
 * fragments), OFFCA_E_USAGE (empty text), OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_encode(const char *text, xfr_qr_code **out);
void xfr_qr_code_free(xfr_qr_code *c);
/* Modules per side, and the QR version (1..40). */
int xfr_qr_code_width(const xfr_qr_code *c);
int xfr_qr_code_version(const xfr_qr_code *c);
/* 1 when module (x, y) is dark; 0 outside the symbol. */
int xfr_qr_code_dark(const xfr_qr_code *c, int x, int y);

/*
 * The code as an 8-bit greyscale PNG in memory: scale pixels per module (1..XFR_QR_MAX_SCALE),
 * margin modules of quiet zone (4 is the standard). *png (caller frees). Errors: OFFCA_E_USAGE,
 * OFFCA_E_NOMEM, OFFCA_E_INTERNAL (libpng failed).
 */
offca_rc xfr_qr_png(const xfr_qr_code *c, int scale, int margin, unsigned char **png, size_t *len);

/*
 * The code as UTF-8 text for a terminal: two module rows per line with upper/lower half blocks,
 * black on white (ANSI colours), margin modules of quiet zone. *out (caller frees, NUL-terminated).
 * Errors: OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_text(const xfr_qr_code *c, int margin, char **out);

/* ---- images (image.c) ---- */
typedef struct xfr_image xfr_image;

/*
 * Load a PNG or JPEG file (told apart by its signature, not its name) as 8-bit grey; transparent
 * pixels are laid over white. Errors: OFFCA_E_NOT_FOUND, OFFCA_E_TOO_BIG (file or pixel count),
 * OFFCA_E_PARSE (not a PNG or JPEG, or damaged), OFFCA_E_IO, OFFCA_E_NOMEM. The detail names path.
 */
offca_rc xfr_image_load(const char *path, xfr_image **out);
/* Wrap a copy of w*h grey pixels. Errors: OFFCA_E_USAGE, OFFCA_E_TOO_BIG, OFFCA_E_NOMEM. */
offca_rc xfr_image_from_gray(const unsigned char *gray, int w, int h, xfr_image **out);
void xfr_image_free(xfr_image *img);
int xfr_image_width(const xfr_image *img);
int xfr_image_height(const xfr_image *img);
/* Borrowed view of the width * height grey pixels (row-major, 0 = black), valid until free. */
const unsigned char *xfr_image_gray(const xfr_image *img);

/* ---- decoding (qr_scan.c) ---- */

/*
 * Every QR symbol zbar finds in img (at most XFR_QR_MAX_SYMBOLS). *texts: array of *n
 * NUL-terminated copies (the data may not contain NUL: such symbols are skipped); free with
 * xfr_qr_texts_free(). Finding nothing is not an error (*n == 0). Errors: OFFCA_E_NOMEM,
 * OFFCA_E_INTERNAL (zbar failed).
 */
offca_rc xfr_qr_scan(const xfr_image *img, char ***texts, size_t *n);
void xfr_qr_texts_free(char **texts, size_t n);

/*
 * Called for each QR symbol the camera sees; return non-zero to stop scanning (done).
 * Runs on the caller's thread, inside xfr_qr_scan_video().
 */
typedef int (*xfr_qr_text_cb)(void *arg, const char *text, size_t len);

/*
 * Scan a video device (e.g. "/dev/video0") with zbar's video processor until cb returns non-zero
 * or *stop becomes non-zero (a signal handler sets it). The device must be a V4L2 capture device
 * (checked first); zbar opens it without a window, QR only, binary. Errors: OFFCA_E_NOT_FOUND (no
 * such device), OFFCA_E_PERM (no access), OFFCA_E_IO (not a capture device, or zbar cannot open or
 * read it; zbar's reason on one line), OFFCA_E_ABORTED (*stop), OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_scan_video(const char *device, xfr_qr_text_cb cb, void *arg, const volatile sig_atomic_t *stop);

/* ---- frame sets (qr_frames.c): frames from many images or texts, decoded as one message ---- */
#define XFR_QR_MAX_FRAMES 100000u /* frames in one set */

typedef struct xfr_qr_frames xfr_qr_frames;

offca_rc xfr_qr_frames_new(xfr_qr_frames **out);
void xfr_qr_frames_free(xfr_qr_frames *fs);

/*
 * Add one UR string (copied) that came from src (copied; a file name for messages). Errors:
 * OFFCA_E_PARSE and the others of xfr_ur_parse() (the text is not a UR frame; nothing added),
 * OFFCA_E_TOO_BIG (XFR_QR_MAX_FRAMES), OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_frames_add_text(xfr_qr_frames *fs, const char *text, size_t len, const char *src);

/*
 * Load image path and add the UR frames of its QR codes. *codes: QR codes found; *not_ur: those
 * that were not UR frames (skipped). Errors: those of xfr_image_load() and xfr_qr_scan(),
 * OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_frames_add_image(xfr_qr_frames *fs, const char *path, size_t *codes, size_t *not_ur);

/* What xfr_qr_frames_decode() reports about each frame it looks at. */
typedef enum xfr_qr_event {
	XFR_QR_EV_PROGRESS = 0, /* a frame of the message told the decoder something new */
	XFR_QR_EV_FOREIGN       /* a frame of another message: rejected, not merged */
} xfr_qr_event;

/* id: the frame's message; have/total: fragments recovered so far and their count. */
typedef void (*xfr_qr_event_cb)(void *arg, xfr_qr_event ev, const char *src, const xfr_ur_id *id,
				size_t have, size_t total);

/*
 * Pick the message most frames belong to (only UR type want_type when non-NULL; ties: the first
 * seen), feed its frames in the order they were added, and report every frame of another message
 * through cb (may be NULL). On success *out is a decoder that is done (free it). Errors:
 * OFFCA_E_NOT_FOUND (no frame of the wanted type), OFFCA_E_PARSE ("incomplete: k of n frames"),
 * OFFCA_E_VERIFY (the joined message fails its checksum), OFFCA_E_NOMEM.
 */
offca_rc xfr_qr_frames_decode(const xfr_qr_frames *fs, const char *want_type, xfr_qr_event_cb cb, void *arg,
			      xfr_ur_decoder **out);

#endif
