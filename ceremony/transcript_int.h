/*
 * transcript_int.h - internals shared by transcript.c, transcript_sig.c, transcript_verify.c and
 * pdf*.c. Not part of the public API (see include/offca/transcript.h).
 */
#ifndef OFFCA_TRANSCRIPT_INT_H
#define OFFCA_TRANSCRIPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "offca/transcript.h"

#define CER_TR_FORMAT  "offca-transcript/1"
#define CER_TR_SIG_CTX "offca-transcript-head:"
#define CER_TR_MAX_SIG 1024u /* raw signature bytes (RSA-8192 fits) */

/* Canonical serialization (JSON_COMPACT | JSON_SORT_KEYS); caller frees. NULL on failure. */
char *cer_tr_canon(const json_t *obj);

/* SHA-256 of the canonical serialization of entry (which must not hold "hash"). */
offca_rc cer_tr_hash_entry(const json_t *entry, unsigned char out[32]);

/* Non-zero if data (recursively) holds a key naming a secret, or a real number. *bad gets the
 * offending key (borrowed from data) when known. */
int cer_tr_data_refused(const json_t *data, const char **bad);

/* Parse 64 lower-case hex digits. Returns 0 on success. */
int cer_tr_unhex32(const char *hex, unsigned char out[32]);

/* Stream a regular file through SHA-256. Errors: OFFCA_E_NOT_FOUND, OFFCA_E_IO, OFFCA_E_PERM. */
offca_rc cer_tr_sha256_file(const char *path, unsigned char out[32], uint64_t *size);

/* Algorithm name for a public key: "ecdsa-sha256", "ecdsa-sha384", "rsa-pkcs1-sha256",
 * "ed25519"; NULL when unsupported. *md is the digest (NULL for ed25519). */
const char *cer_tr_alg_for_key(const EVP_PKEY *pub, const EVP_MD **md);

/* Verify sig over the head message with pub and the named algorithm (must be the key's).
 * Errors: OFFCA_E_VERIFY (with detail), OFFCA_E_NOMEM. */
offca_rc cer_tr_sig_check(EVP_PKEY *pub, const char *alg, const unsigned char head[32],
			  const unsigned char *sig, size_t siglen);

/* SPKI PEM of key (caller frees) and SHA-256 of the SPKI DER. */
offca_rc cer_tr_spki(EVP_PKEY *key, char **pem, unsigned char fpr[32]);

/* Append a "signature" entry (allowed after finish()). data is borrowed. In transcript.c. */
offca_rc cer_tr_append_signature(cer_transcript *t, json_t *data);

/*
 * Load and verify a transcript (see cer_transcript_verify()). When entries is non-NULL, *entries
 * receives a JSON array of every entry (caller decrefs) on success.
 */
offca_rc cer_tr_load(const char *path, const char *base_dir, int check_outputs, X509 *trust_cert,
		     cer_verify_result *res, json_t **entries);

/* ---- PDF drawing helpers (pdf_draw.c), used by pdf.c ---- */

#include <cairo.h>

#define CER_PDF_W      595.276 /* A4 in points */
#define CER_PDF_H      841.890
#define CER_PDF_MARGIN 50.0
#define CER_PDF_BOTTOM (CER_PDF_H - 62.0) /* content ends here; the footer is below */
#define CER_PDF_MAX_LINES 64

typedef enum { CER_FONT_SANS, CER_FONT_BOLD, CER_FONT_MONO } cer_font;

typedef struct cer_pdoc {
	cairo_t *cr;
	int page;            /* current page, 1-based; 0 before the first */
	int pages_total;     /* known in the second pass, 0 in the first */
	double y;            /* next baseline position */
	char ceremony[CER_TRANSCRIPT_MAX_NAME];
	char head_hex[65];
	const char *footer;  /* footer text before the ceremony's name; NULL: the transcript's */
} cer_pdoc;

void cer_pdf_font(cer_pdoc *d, cer_font f, double size);
/* Start a new page (finishing the current one with its footer). */
void cer_pdf_new_page(cer_pdoc *d);
/* Make sure h points fit below d->y, else start a new page. Returns 1 if a page was started. */
int cer_pdf_need(cer_pdoc *d, double h);
/* Finish the last page (footer, show page). */
void cer_pdf_end(cer_pdoc *d);
/* Wrap UTF-8 text to width with the current font into at most max lines (the last one ends in
 * "..." when cut). lines[i] are malloc'ed; returns the count (0 on OOM). */
size_t cer_pdf_wrap(cer_pdoc *d, const char *text, double width, char **lines, size_t max);
void cer_pdf_free_lines(char **lines, size_t n);
/* Cut an incomplete UTF-8 sequence off the end of s (after a truncating snprintf). */
void cer_pdf_utf8_cut(char *s);
/* One line of text at (x, y), cut with an ellipsis to width. */
void cer_pdf_cell(cer_pdoc *d, double x, double y, double width, const char *text);
/* Draw text at (x, y) (baseline) with the current font. */
void cer_pdf_text(cer_pdoc *d, double x, double y, const char *text);
/* Wrapped text at x from d->y on, advancing d->y by the line height per line; returns lines. */
size_t cer_pdf_para(cer_pdoc *d, double x, double width, double lh, const char *text, size_t max);
/* Section heading with a rule under it, kept on one page with the next keep points. */
void cer_pdf_heading(cer_pdoc *d, const char *title, double keep);
/* Render with fn (which draws every page and ends with cer_pdf_end) in two passes ("Page n of m")
   and write the PDF to pdf_path, never overwriting. proto: ceremony name, head, footer.
   Errors: fn's, OFFCA_E_EXISTS, OFFCA_E_IO. */
typedef offca_rc (*cer_pdf_draw_fn)(cer_pdoc *d, void *arg);
offca_rc cer_pdf_write(const cer_pdoc *proto, const char *title, cer_pdf_draw_fn fn, void *arg, const char *pdf_path);
/* Draw a QR code of text with its top-left corner at (x, y), size points square.
 * Errors: OFFCA_E_CRYPTO (encoding failed). */
offca_rc cer_pdf_qr(cer_pdoc *d, const char *text, double x, double y, double size);

#endif
