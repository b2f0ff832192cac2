/* pdf_draw.c - small cairo drawing helpers for the transcript PDF: fonts, pages, wrapping, QR. */
#include "transcript_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "offca/util.h"

void cer_pdf_font(cer_pdoc *d, cer_font f, double size)
{
	const char *face = f == CER_FONT_MONO ? "DejaVu Sans Mono" : "DejaVu Sans";

	cairo_select_font_face(d->cr, face, CAIRO_FONT_SLANT_NORMAL,
			       f == CER_FONT_BOLD ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(d->cr, size);
}

void cer_pdf_text(cer_pdoc *d, double x, double y, const char *text)
{
	cairo_move_to(d->cr, x, y);
	cairo_show_text(d->cr, text);
}

static size_t utf8_len(const char *s);

void cer_pdf_utf8_cut(char *s)
{
	size_t len = strlen(s), i;

	if (len == 0)
		return;
	i = len - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	if ((unsigned char)s[i] >= 0xc0 && i + utf8_len(s + i) > len)
		s[i] = '\0';
	else if ((unsigned char)s[i] >= 0xc0 && utf8_len(s + i) == 1)
		s[i] = '\0';
}

void cer_pdf_cell(cer_pdoc *d, double x, double y, double width, const char *text)
{
	char *line[1];

	if (cer_pdf_wrap(d, text, width, line, 1) == 1) {
		cer_pdf_text(d, x, y, line[0]);
		cer_pdf_free_lines(line, 1);
	}
}

static void footer(cer_pdoc *d)
{
	char left[CER_TRANSCRIPT_MAX_NAME + 128], right[64];
	cairo_text_extents_t ext;
	cairo_t *cr = d->cr;

	cairo_save(cr);
	cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
	cairo_set_line_width(cr, 0.5);
	cairo_move_to(cr, CER_PDF_MARGIN, CER_PDF_H - 45);
	cairo_line_to(cr, CER_PDF_W - CER_PDF_MARGIN, CER_PDF_H - 45);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cer_pdf_font(d, CER_FONT_SANS, 7.5);
	if (d->footer != NULL)
		snprintf(left, sizeof(left), "%s \xe2\x80\x94 %s", d->footer, d->ceremony);
	else
		snprintf(left, sizeof(left),
			 "final hash %.16s\xe2\x80\xa6 \xe2\x80\x94 offca ceremony transcript \xe2\x80\x94 %s",
			 d->head_hex, d->ceremony);
	cer_pdf_utf8_cut(left);
	cer_pdf_cell(d, CER_PDF_MARGIN, CER_PDF_H - 33, CER_PDF_W - 2 * CER_PDF_MARGIN - 60, left);
	if (d->pages_total > 0)
		snprintf(right, sizeof(right), "Page %d of %d", d->page, d->pages_total);
	else
		snprintf(right, sizeof(right), "Page %d", d->page);
	cairo_text_extents(cr, right, &ext);
	cer_pdf_text(d, CER_PDF_W - CER_PDF_MARGIN - ext.x_advance, CER_PDF_H - 33, right);
	cairo_restore(cr);
}

void cer_pdf_new_page(cer_pdoc *d)
{
	cairo_t *cr = d->cr;

	if (d->page > 0) {
		footer(d);
		cairo_show_page(cr);
	}
	d->page++;
	d->y = CER_PDF_MARGIN;
	cairo_set_source_rgb(cr, 0, 0, 0);
	if (d->page > 1) {
		/* running head on continuation pages */
		cairo_save(cr);
		cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
		cer_pdf_font(d, CER_FONT_SANS, 8);
		cer_pdf_cell(d, CER_PDF_MARGIN, CER_PDF_MARGIN - 14, CER_PDF_W - 2 * CER_PDF_MARGIN, d->ceremony);
		cairo_restore(cr);
		d->y = CER_PDF_MARGIN + 6;
	}
}

int cer_pdf_need(cer_pdoc *d, double h)
{
	if (d->page > 0 && d->y + h <= CER_PDF_BOTTOM)
		return 0;
	cer_pdf_new_page(d);
	return 1;
}

void cer_pdf_end(cer_pdoc *d)
{
	if (d->page == 0)
		cer_pdf_new_page(d);
	footer(d);
	cairo_show_page(d->cr);
}

static double width_of(cer_pdoc *d, const char *s, size_t n)
{
	cairo_text_extents_t ext;
	char buf[1024];

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	cer_pdf_utf8_cut(buf);
	cairo_text_extents(d->cr, buf, &ext);
	return ext.x_advance;
}

/* Length of the UTF-8 sequence starting at s (1 for invalid bytes, cairo shows those as boxes). */
static size_t utf8_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	size_t i;

	for (i = 1; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

void cer_pdf_free_lines(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i]);
}

/* Cut line to make room for an ellipsis. */
static char *ellipsize(cer_pdoc *d, const char *s, size_t n, double width)
{
	char *out;

	while (n > 0 && width_of(d, s, n) + width_of(d, "\xe2\x80\xa6", 3) > width) {
		n--;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	out = malloc(n + 4);
	if (out != NULL) {
		memcpy(out, s, n);
		memcpy(out + n, "\xe2\x80\xa6", 4);
	}
	return out;
}

size_t cer_pdf_wrap(cer_pdoc *d, const char *text, double width, char **lines, size_t max)
{
	const char *s = text, *brk;
	size_t count = 0, n, step, fit;

	if (max > CER_PDF_MAX_LINES)
		max = CER_PDF_MAX_LINES;
	while (*s != '\0' && count < max) {
		while (*s == ' ')
			s++;
		/* longest prefix that fits, on character boundaries, stopping at a newline */
		fit = 0;
		brk = NULL;
		for (n = 0; s[n] != '\0' && s[n] != '\n'; n += step) {
			step = utf8_len(s + n);
			if (width_of(d, s, n + step) > width)
				break;
			fit = n + step;
			if (s[n] == ' ')
				brk = s + n;
		}
		if (s[n] != '\0' && s[n] != '\n' && brk != NULL && brk > s)
			fit = (size_t)(brk - s); /* break at the last space */
		if (fit == 0 && s[0] != '\0' && s[0] != '\n')
			fit = utf8_len(s); /* one character wider than the column: show it anyway */
		if (count + 1 == max && s[fit] != '\0')
			lines[count] = ellipsize(d, s, fit, width);
		else
			lines[count] = strndup(s, fit);
		if (lines[count] == NULL) {
			cer_pdf_free_lines(lines, count);
			return 0;
		}
		count++;
		s += fit;
		if (*s == '\n')
			s++;
	}
	if (count == 0 && max > 0) {
		lines[0] = strdup("");
		count = lines[0] != NULL ? 1 : 0;
	}
	return count;
}

size_t cer_pdf_para(cer_pdoc *d, double x, double width, double lh, const char *text, size_t max)
{
	char *lines[CER_PDF_MAX_LINES];
	size_t n, i;

	n = cer_pdf_wrap(d, text, width, lines, max);
	for (i = 0; i < n; i++) {
		cer_pdf_need(d, lh);
		d->y += lh;
		cer_pdf_text(d, x, d->y, lines[i]);
	}
	cer_pdf_free_lines(lines, n);
	return n;
}

void cer_pdf_heading(cer_pdoc *d, const char *title, double keep)
{
	cairo_t *cr = d->cr;

	cer_pdf_need(d, 34 + keep); /* a heading never ends a page */
	d->y += 26;
	cairo_set_source_rgb(cr, 0.08, 0.2, 0.4);
	cer_pdf_font(d, CER_FONT_BOLD, 13);
	cer_pdf_text(d, CER_PDF_MARGIN, d->y, title);
	cairo_set_line_width(cr, 0.8);
	cairo_move_to(cr, CER_PDF_MARGIN, d->y + 5);
	cairo_line_to(cr, CER_PDF_W - CER_PDF_MARGIN, d->y + 5);
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	d->y += 8;
}

offca_rc cer_pdf_qr(cer_pdoc *d, const char *text, double x, double y, double size)
{
	QRcode *qr;
	cairo_t *cr = d->cr;
	double m;
	int r, c, quiet = 4;

	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return ut_err(OFFCA_E_CRYPTO, "cannot encode the final hash as a QR code");
	m = size / (qr->width + 2 * quiet);
	cairo_save(cr);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (r = 0; r < qr->width; r++) {
		for (c = 0; c < qr->width; c++) {
			if (qr->data[r * qr->width + c] & 1)
				cairo_rectangle(cr, x + (c + quiet) * m, y + (r + quiet) * m, m, m);
		}
	}
	cairo_fill(cr);
	cairo_restore(cr);
	QRcode_free(qr);
	return OFFCA_OK;
}
