/* pdf_write.c - render a PDF in two passes (the first counts the pages for "Page n of m") into
   memory, then write it to a new file (never overwriting): transcripts (pdf.c), reviews (review.c). */
#include "transcript_int.h"

#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>

#include "offca/util.h"

typedef struct membuf {
	unsigned char *p;
	size_t len, cap;
	int discard;
} membuf;

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int length)
{
	membuf *m = closure;
	unsigned char *np;
	size_t ncap;

	if (m->discard)
		return CAIRO_STATUS_SUCCESS;
	if (m->len + length > m->cap) {
		ncap = (m->cap == 0 ? 65536 : m->cap * 2) + length;
		np = realloc(m->p, ncap);
		if (np == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		m->p = np;
		m->cap = ncap;
	}
	memcpy(m->p + m->len, data, length);
	m->len += length;
	return CAIRO_STATUS_SUCCESS;
}

/* One layout pass into m; returns the page count in *pages. */
static offca_rc pass(const cer_pdoc *proto, const char *title, cer_pdf_draw_fn fn, void *arg, int pages_total,
		     membuf *m, int *pages)
{
	cairo_surface_t *s = NULL;
	offca_rc rc;
	cer_pdoc d = *proto;

	d.pages_total = pages_total;
	d.page = 0;
	s = cairo_pdf_surface_create_for_stream(mem_write, m, CER_PDF_W, CER_PDF_H);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "offca " OFFCA_VERSION);
	d.cr = cairo_create(s);
	rc = fn(&d, arg);
	if (rc != OFFCA_OK)
		goto out;
	cairo_surface_finish(s);
	if (cairo_status(d.cr) != CAIRO_STATUS_SUCCESS || cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		rc = ut_err(OFFCA_E_IO, "cannot render the PDF: %s",
			    cairo_status_to_string(cairo_surface_status(s) != CAIRO_STATUS_SUCCESS
							   ? cairo_surface_status(s) : cairo_status(d.cr)));
		goto out;
	}
	*pages = d.page;
	rc = OFFCA_OK;
out:
	cairo_destroy(d.cr);
	cairo_surface_destroy(s);
	return rc;
}

offca_rc cer_pdf_write(const cer_pdoc *proto, const char *title, cer_pdf_draw_fn fn, void *arg, const char *pdf_path)
{
	membuf m = {NULL, 0, 0, 1};
	int pages = 0;
	offca_rc rc;

	if (ut_path_exists(pdf_path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", pdf_path);
	rc = pass(proto, title, fn, arg, 0, &m, &pages); /* count the pages */
	if (rc == OFFCA_OK) {
		m.discard = 0;
		rc = pass(proto, title, fn, arg, pages, &m, &pages);
	}
	if (rc == OFFCA_OK)
		rc = ut_write_file(pdf_path, m.p, m.len, UT_WF_EXCL);
	free(m.p);
	return rc;
}
