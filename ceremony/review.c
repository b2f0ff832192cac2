/* review.c - `offca ceremony review FILE --out FILE.pdf`: the reviewed ceremony file on paper
   before the ceremony, with the values the run screen later shows for comparison: the file's
   SHA-256 (and its QR code), each step's description and step hash. */
#include "ceremony_int.h"
#include "transcript_int.h"

#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define QR_SIZE 110.0
#define QR_X    (CER_PDF_W - CER_PDF_MARGIN - QR_SIZE)
#define BODY_W  (CER_PDF_W - 2 * CER_PDF_MARGIN)

static void line(cer_pdoc *d, cer_font f, double size, double width, const char *text, size_t max)
{
	cer_pdf_font(d, f, size);
	cer_pdf_para(d, CER_PDF_MARGIN, width, size + 3.5, text, max);
}

/* text with each line's leading spaces as no-break spaces (U+00A0), which the PDF's line
   wrapping keeps: the step's JSON stays indented. malloc'd, NULL on OOM. */
static char *keep_indent(const char *text)
{
	char *out = malloc(2 * strlen(text) + 1), *o = out;
	int lead = 1;

	if (out == NULL)
		return NULL;
	for (const char *p = text; *p; p++) {
		if (lead && *p == ' ') {
			*o++ = '\xc2';
			*o++ = '\xa0';
			continue;
		}
		lead = *p == '\n';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* The text the step hash is computed over (cfile_steps.c step_hash): malloc'd. */
static char *canonical(const cer_file *f, const cer_step *st)
{
	json_t *j = json_pack("{s:s, s:I, s:O}", "ceremony", f->name, "step", (json_int_t)st->index, "description",
			      st->desc);
	char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	return txt;
}

static offca_rc head_block(cer_pdoc *d, const cer_file *f)
{
	char buf[PATH_MAX + 64], fp[CER_FP_LEN];
	offca_rc rc;

	cer_pdf_new_page(d);
	cairo_set_source_rgb(d->cr, 0.08, 0.2, 0.4);
	line(d, CER_FONT_BOLD, 18, QR_X - 12 - CER_PDF_MARGIN, "Ceremony file review", 1);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	line(d, CER_FONT_SANS, 12, QR_X - 12 - CER_PDF_MARGIN, f->name, 2);
	rc = cer_pdf_qr(d, d->head_hex, QR_X, CER_PDF_MARGIN, QR_SIZE);
	if (rc != OFFCA_OK)
		return rc;
	cer_pdf_font(d, CER_FONT_SANS, 7);
	cer_pdf_text(d, QR_X + 4, CER_PDF_MARGIN + QR_SIZE + 6, "File SHA-256 (hex) as QR code");
	d->y += 8;
	snprintf(buf, sizeof(buf), "File: %s", f->path);
	line(d, CER_FONT_SANS, 9, QR_X - 12 - CER_PDF_MARGIN, buf, 3);
	line(d, CER_FONT_BOLD, 9, QR_X - 12 - CER_PDF_MARGIN, "File SHA-256 (the run screen shows it at the start):", 1);
	cer_hex_grouped(f->sha256, 32, fp, sizeof(fp));
	fp[39] = '\n';
	line(d, CER_FONT_MONO, 10, QR_X - 12 - CER_PDF_MARGIN, fp, 2);
	snprintf(buf, sizeof(buf), "Administrator: %s", f->administrator);
	line(d, CER_FONT_SANS, 9, BODY_W, buf, 2);
	for (size_t i = 0; i < f->n_witnesses; i++) {
		snprintf(buf, sizeof(buf), "Witness %zu: %s", i + 1, f->witnesses[i]);
		line(d, CER_FONT_SANS, 9, BODY_W, buf, 2);
	}
	snprintf(buf, sizeof(buf), "%zu step%s, outputs to %s", f->n_steps, f->n_steps == 1 ? "" : "s", f->out_dir);
	line(d, CER_FONT_SANS, 9, BODY_W, buf, 2);
	if (d->y < CER_PDF_MARGIN + QR_SIZE + 14)
		d->y = CER_PDF_MARGIN + QR_SIZE + 14;
	line(d, CER_FONT_SANS, 8.5, BODY_W,
	     "At the ceremony, the administrator reads aloud the file SHA-256 and each step hash the screen shows; "
	     "each witness compares them, group by group, with this copy. A difference means the file run is not "
	     "the file reviewed: stop.", 4);
	return OFFCA_OK;
}

static offca_rc step_block(cer_pdoc *d, const cer_file *f, const cer_step *st)
{
	char title[CER_MAX_STR + 64], fp[CER_FP_LEN];
	char *dump = json_dumps(st->desc, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *canon = canonical(f, st);
	char *shown = dump ? keep_indent(dump) : NULL;
	offca_rc rc = OFFCA_OK;

	free(dump);
	if (shown == NULL || canon == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(title, sizeof(title), "Step %u of %zu: %s (%s)", st->index, f->n_steps, st->title,
		 cer_step_type_name(st->type));
	cer_pdf_utf8_cut(title);
	cer_pdf_heading(d, title, 90);
	line(d, CER_FONT_BOLD, 8.5, BODY_W, "Step hash (the run screen shows it before the step):", 1);
	cer_hex_grouped(st->hash, 32, fp, sizeof(fp));
	line(d, CER_FONT_MONO, 10, BODY_W, fp, 1);
	d->y += 3;
	line(d, CER_FONT_BOLD, 8.5, BODY_W, "The step as written in the ceremony file:", 1);
	line(d, CER_FONT_MONO, 7.5, BODY_W, shown, CER_PDF_MAX_LINES);
	d->y += 3;
	line(d, CER_FONT_BOLD, 8.5, BODY_W,
	     "Canonical description (the step hash is the SHA-256 of this text; its line breaks here are only wrapping):", 1);
	line(d, CER_FONT_MONO, 6.5, BODY_W, canon, CER_PDF_MAX_LINES);
	d->y += 6;
out:
	free(shown);
	free(canon);
	return rc;
}

static void sign_block(cer_pdoc *d)
{
	cer_pdf_heading(d, "Reviewed by", 80);
	for (int i = 0; i < 3; i++) {
		cer_pdf_need(d, 26);
		d->y += 22;
		cairo_set_line_width(d->cr, 0.5);
		cairo_move_to(d->cr, CER_PDF_MARGIN, d->y);
		cairo_line_to(d->cr, CER_PDF_MARGIN + 300, d->y);
		cairo_move_to(d->cr, CER_PDF_MARGIN + 330, d->y);
		cairo_line_to(d->cr, CER_PDF_W - CER_PDF_MARGIN, d->y);
		cairo_stroke(d->cr);
		cer_pdf_font(d, CER_FONT_SANS, 8.5);
		cer_pdf_text(d, CER_PDF_MARGIN, d->y + 11, "Name and signature");
		cer_pdf_text(d, CER_PDF_MARGIN + 330, d->y + 11, "Date");
		d->y += 14;
	}
}

static offca_rc draw(cer_pdoc *d, void *arg)
{
	const cer_file *f = arg;
	offca_rc rc = head_block(d, f);

	for (size_t i = 0; rc == OFFCA_OK && i < f->n_steps; i++)
		rc = step_block(d, f, &f->steps[i]);
	if (rc != OFFCA_OK)
		return rc;
	sign_block(d);
	cer_pdf_end(d);
	return OFFCA_OK;
}

offca_rc cer_review_pdf(const char *file, const char *pdf_path, cer_diag *diag, FILE *summary)
{
	cer_file *f = NULL;
	cer_pdoc proto;
	char title[CER_MAX_STR + 64], fp[CER_FP_LEN], *hex;
	offca_rc rc;

	if (ut_path_exists(pdf_path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", pdf_path);
	rc = cer_file_load(file, diag, &f);
	if (rc != OFFCA_OK)
		return rc;
	memset(&proto, 0, sizeof(proto));
	hex = ut_hex(f->sha256, 32);
	if (hex == NULL) {
		cer_file_free(f);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(proto.head_hex, hex, 65);
	free(hex);
	snprintf(proto.ceremony, sizeof(proto.ceremony), "%.255s", f->name);
	cer_pdf_utf8_cut(proto.ceremony);
	proto.footer = "offca ceremony file review";
	snprintf(title, sizeof(title), "Ceremony file review: %s", f->name);
	rc = cer_pdf_write(&proto, title, draw, f, pdf_path);
	if (rc == OFFCA_OK && summary != NULL) {
		cer_hex_grouped(f->sha256, 32, fp, sizeof(fp));
		fprintf(summary, "%s: %zu step%s\n  file SHA-256  %s\n", file, f->n_steps, f->n_steps == 1 ? "" : "s", fp);
		for (size_t i = 0; i < f->n_steps; i++) {
			cer_hex_grouped(f->steps[i].hash, 32, fp, sizeof(fp));
			fprintf(summary, "  step %-2u hash  %s  %s\n", f->steps[i].index, fp, f->steps[i].title);
		}
	}
	cer_file_free(f);
	return rc;
}
