/*
 * qr_frames.c - a set of UR frames gathered from many images (or texts), decoded as one message.
 * Frames of other messages are told apart by (type, seqLen, messageLen, checksum) and rejected;
 * the message most frames belong to wins, so a stray frame seen first cannot take over.
 */
#include "offca/qr.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct frame {
	char *text;
	char *src;
	xfr_ur_id id;
} frame;

struct xfr_qr_frames {
	frame *f;
	size_t n, cap;
};

offca_rc xfr_qr_frames_new(xfr_qr_frames **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
}

void xfr_qr_frames_free(xfr_qr_frames *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->f[i].text);
		free(fs->f[i].src);
	}
	free(fs->f);
	free(fs);
}

offca_rc xfr_qr_frames_add_text(xfr_qr_frames *fs, const char *text, size_t len, const char *src)
{
	offca_rc rc;
	xfr_ur_id id;
	frame *f;

	rc = xfr_ur_parse(text, len, &id, NULL);
	if (rc != OFFCA_OK)
		return rc;
	if (fs->n >= XFR_QR_MAX_FRAMES)
		return ut_err(OFFCA_E_TOO_BIG, "more than %u frames", XFR_QR_MAX_FRAMES);
	if (fs->n == fs->cap) {
		size_t nc = fs->cap ? fs->cap * 2 : 64;
		frame *nf = realloc(fs->f, nc * sizeof(*nf));

		if (nf == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		fs->f = nf;
		fs->cap = nc;
	}
	f = &fs->f[fs->n];
	f->text = strndup(text, len);
	f->src = strdup(src != NULL ? src : "-");
	if (f->text == NULL || f->src == NULL) {
		free(f->text);
		free(f->src);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	f->id = id;
	fs->n++;
	return OFFCA_OK;
}

offca_rc xfr_qr_frames_add_image(xfr_qr_frames *fs, const char *path, size_t *codes, size_t *not_ur)
{
	offca_rc rc;
	xfr_image *img = NULL;
	char **texts = NULL;
	size_t n = 0;

	*codes = 0;
	*not_ur = 0;
	rc = xfr_image_load(path, &img);
	if (rc == OFFCA_OK)
		rc = xfr_qr_scan(img, &texts, &n);
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		rc = xfr_qr_frames_add_text(fs, texts[i], strlen(texts[i]), path);
		if (rc == OFFCA_E_PARSE) {
			(*not_ur)++;
			rc = OFFCA_OK;
		}
	}
	if (rc == OFFCA_OK)
		*codes = n;
	xfr_qr_texts_free(texts, n);
	xfr_image_free(img);
	return rc;
}

static int same_message(const xfr_ur_id *a, const xfr_ur_id *b)
{
	return strcmp(a->type, b->type) == 0 && a->seq_len == b->seq_len && a->msg_len == b->msg_len &&
	       a->checksum == b->checksum;
}

#define MAX_MESSAGES 64u /* distinct messages counted in one set; frames of others only rejected */

/* The message most frames belong to; ties go to the one seen first. */
static const xfr_ur_id *pick(const xfr_qr_frames *fs, const char *want)
{
	const xfr_ur_id *ids[MAX_MESSAGES];
	size_t counts[MAX_MESSAGES], n_ids = 0, best = 0;

	for (size_t i = 0; i < fs->n; i++) {
		size_t k = 0;

		if (want != NULL && strcmp(fs->f[i].id.type, want) != 0)
			continue;
		while (k < n_ids && !same_message(ids[k], &fs->f[i].id))
			k++;
		if (k == n_ids) {
			if (n_ids == MAX_MESSAGES)
				continue;
			ids[n_ids] = &fs->f[i].id;
			counts[n_ids++] = 0;
		}
		counts[k]++;
	}
	for (size_t k = 1; k < n_ids; k++)
		if (counts[k] > counts[best])
			best = k;
	return n_ids > 0 ? ids[best] : NULL;
}

offca_rc xfr_qr_frames_decode(const xfr_qr_frames *fs, const char *want_type, xfr_qr_event_cb cb, void *arg,
			      xfr_ur_decoder **out)
{
	offca_rc rc;
	const xfr_ur_id *msg;
	xfr_ur_decoder *d = NULL;
	size_t have = 0, total = 0;

	*out = NULL;
	msg = pick(fs, want_type);
	if (msg == NULL)
		return ut_err(OFFCA_E_NOT_FOUND, "no UR frame%s%s among %zu frame(s)", want_type ? " of type ur:" : "",
			      want_type ? want_type : "", fs->n);
	rc = xfr_ur_decoder_new(msg->type, &d);
	/* every frame is looked at, so frames of other messages are reported even after completion */
	for (size_t i = 0; rc == OFFCA_OK && i < fs->n; i++) {
		const frame *f = &fs->f[i];
		xfr_part_status st;

		if (!same_message(&f->id, msg)) {
			if (cb != NULL)
				cb(arg, XFR_QR_EV_FOREIGN, f->src, &f->id, have, total);
			continue;
		}
		if (xfr_ur_decoder_done(d))
			continue;
		rc = xfr_ur_decoder_add(d, f->text, strlen(f->text), &st);
		xfr_ur_decoder_progress(d, &have, &total);
		if (rc == OFFCA_OK && st == XFR_PART_NEW && cb != NULL)
			cb(arg, XFR_QR_EV_PROGRESS, f->src, &f->id, have, total);
	}
	if (rc == OFFCA_OK && !xfr_ur_decoder_done(d))
		rc = ut_err(OFFCA_E_PARSE, "incomplete: %zu of %zu frames of ur:%s recovered; scan more frames", have,
			    total, msg->type);
	if (rc == OFFCA_OK) {
		*out = d;
		d = NULL;
	}
	xfr_ur_decoder_free(d);
	return rc;
}
