/* pdf.c - the printable transcript: summary, step table, outputs, signatures, witness lines, QR. */
#include "transcript_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "offca/ceremony.h"
#include "offca/util.h"
#include "offca/x509.h"

#define LABEL_X   CER_PDF_MARGIN
#define VALUE_X   (CER_PDF_MARGIN + 118.0)
#define QR_SIZE   128.0
#define QR_X      (CER_PDF_W - CER_PDF_MARGIN - QR_SIZE)
#define MAX_PEOPLE 64

/* Step table columns: x offsets and widths. */
static const double col_x[] = {CER_PDF_MARGIN, CER_PDF_MARGIN + 28, CER_PDF_MARGIN + 128, CER_PDF_MARGIN + 160,
			       CER_PDF_MARGIN + 250};
static const double col_w[] = {26, 98, 30, 88, CER_PDF_W - 2 * CER_PDF_MARGIN - 252};

typedef struct person {
	const char *name;
	const char *role;
} person;

static const char *sget(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

static json_t *find_event(json_t *entries, const char *event, int last)
{
	json_t *e, *found = NULL;
	size_t i;

	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), event) == 0) {
			found = e;
			if (!last)
				break;
		}
	}
	return found;
}

/* "2026-11-25T15:01:06Z" -> "2026-11-25 15:01:06 UTC". */
static void pretty_time(const char *t, char out[32])
{
	if (strlen(t) == 20)
		snprintf(out, 32, "%.10s %.8s UTC", t, t + 11);
	else
		snprintf(out, 32, "%s", t);
}

/* A recorded hash in the one grouped format (cer_fp_text: "75BA 1446 ..."), a SHA-256 in two
   lines of 8 groups joined with '\n'; a value that is not a hash is shown as recorded. */
static char *fingerprint(const char *hex)
{
	char buf[2 * CER_FP_LEN];

	cer_fp_text(hex, buf, sizeof(buf));
	if (strlen(buf) == CER_FP_LEN - 1 && buf[39] == ' ')
		buf[39] = '\n';
	return strdup(buf);
}

/* A string, except that PEM blocks are named rather than printed (the fingerprints are elsewhere). */
static void put_string(FILE *f, const char *v)
{
	const char *pem = strstr(v, "-----BEGIN ");
	size_t n;

	if (pem == NULL) {
		fputs(v, f);
		return;
	}
	pem += strlen("-----BEGIN ");
	n = strcspn(pem, "-\n");
	fprintf(f, "(PEM %.*s, %zu bytes)", (int)(n < 40 ? n : 40), pem, strlen(v));
}

/* An array as "a, b, c" (strings unquoted, anything else compact JSON). */
static void put_list(FILE *f, json_t *arr)
{
	json_t *v;
	char *dump;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (i > 0)
			fputs(", ", f);
		if (json_is_string(v)) {
			put_string(f, json_string_value(v));
		} else {
			dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			fputs(dump != NULL ? dump : "?", f);
			free(dump);
		}
	}
}

/* A short human summary of an entry's data. Caller frees. */
static char *summary(json_t *e)
{
	const char *event = sget(e, "event"), *key;
	json_t *data = json_object_get(e, "data"), *v;
	char *buf = NULL, *dump;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	if (strcmp(event, "start") == 0) {
		fprintf(f, "ceremony %s", sget(data, "ceremony"));
		if (json_object_get(data, "ceremony_file") != NULL)
			fprintf(f, " from %s", sget(data, "ceremony_file"));
	} else if (strcmp(event, "output") == 0) {
		fprintf(f, "%s (%lld bytes)", sget(data, "path"), (long long)json_integer_value(json_object_get(data, "size")));
	} else if (strcmp(event, "signature") == 0) {
		fprintf(f, "signed by %s (%s)", sget(data, "signer"), sget(data, "algorithm"));
	} else {
		json_object_foreach(data, key, v) {
			fprintf(f, "%s%s: ", ftell(f) > 0 ? "; " : "", key);
			if (json_is_string(v)) {
				put_string(f, json_string_value(v));
			} else if (json_is_array(v)) {
				put_list(f, v);
			} else {
				dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				fputs(dump != NULL ? dump : "?", f);
				free(dump);
			}
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void kv(cer_pdoc *d, const char *label, const char *value, cer_font vfont, double width)
{
	double y0;

	cer_pdf_need(d, 14);
	y0 = d->y;
	cairo_set_source_rgb(d->cr, 0.35, 0.35, 0.35);
	cer_pdf_font(d, CER_FONT_BOLD, 8.5);
	cer_pdf_text(d, LABEL_X, y0 + 12, label);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	cer_pdf_font(d, vfont, vfont == CER_FONT_MONO ? 8 : 9.5);
	cer_pdf_para(d, VALUE_X, width, 12, value, 6);
	d->y += 2;
}

static offca_rc summary_block(cer_pdoc *d, json_t *entries, const cer_verify_result *res)
{
	json_t *start = find_event(entries, "start", 0), *end = find_event(entries, "end", 1);
	json_t *sd = json_object_get(start, "data"), *ed = json_object_get(end, "data");
	double w = QR_X - 12 - VALUE_X;
	char when[32], buf[512], *fp;
	offca_rc rc;

	cer_pdf_new_page(d);
	cer_pdf_font(d, CER_FONT_BOLD, 20);
	cairo_set_source_rgb(d->cr, 0.08, 0.2, 0.4);
	if (strcmp(res->status, "completed") != 0) {
		/* an aborted (or cut off) ceremony: marked on every first page, in red */
		cairo_set_source_rgb(d->cr, 0.75, 0.05, 0.05);
		cer_pdf_text(d, CER_PDF_MARGIN, d->y + 18,
			     strcmp(res->status, "aborted") == 0 ? "Key ceremony transcript: ABORTED"
								 : "Key ceremony transcript: INCOMPLETE");
	} else {
		cer_pdf_text(d, CER_PDF_MARGIN, d->y + 18, "Key ceremony transcript");
	}
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	cer_pdf_font(d, CER_FONT_SANS, 13);
	d->y += 24;
	cer_pdf_para(d, CER_PDF_MARGIN, QR_X - 12 - CER_PDF_MARGIN, 18, res->ceremony, 2);
	d->y += 10;
	rc = cer_pdf_qr(d, d->head_hex, QR_X, CER_PDF_MARGIN, QR_SIZE);
	if (rc != OFFCA_OK)
		return rc;
	cer_pdf_font(d, CER_FONT_SANS, 7);
	cer_pdf_text(d, QR_X + 14, CER_PDF_MARGIN + QR_SIZE + 6, "Final hash (SHA-256) as QR code");
	kv(d, "Ceremony", res->ceremony, CER_FONT_SANS, w);
	if (json_object_get(sd, "ceremony_file") != NULL) {
		kv(d, "Ceremony file", sget(sd, "ceremony_file"), CER_FONT_SANS, w);
		fp = fingerprint(sget(sd, "ceremony_sha256"));
		kv(d, "Ceremony file SHA-256", fp != NULL ? fp : "", CER_FONT_MONO, w);
		free(fp);
	}
	kv(d, "offca version", sget(sd, "offca_version"), CER_FONT_SANS, w);
	pretty_time(sget(start, "time"), when);
	kv(d, "Started", when, CER_FONT_SANS, w);
	pretty_time(end != NULL ? sget(end, "time") : "(no end entry)", when);
	kv(d, "Ended", when, CER_FONT_SANS, w);
	if (end != NULL && json_object_get(ed, "reason") != NULL)
		snprintf(buf, sizeof(buf), "%s: %s", res->status, sget(ed, "reason"));
	else
		snprintf(buf, sizeof(buf), "%s", res->status);
	cer_pdf_utf8_cut(buf);
	kv(d, "Status", buf, CER_FONT_BOLD, w);
	snprintf(buf, sizeof(buf), "%u entries, %u signature%s%s", res->entries, res->signatures,
		 res->signatures == 1 ? "" : "s", res->sealed ? ", the last entry is a signature" : "");
	kv(d, "Transcript", buf, CER_FONT_SANS, w);
	fp = fingerprint(d->head_hex);
	kv(d, "Final hash", fp != NULL ? fp : "", CER_FONT_MONO, w);
	free(fp);
	if (d->y < CER_PDF_MARGIN + QR_SIZE + 10)
		d->y = CER_PDF_MARGIN + QR_SIZE + 10;
	return OFFCA_OK;
}

static void table_header(cer_pdoc *d)
{
	static const char *const names[] = {"#", "Time (UTC)", "Step", "Event", "Details"};
	size_t i;

	cairo_set_source_rgb(d->cr, 0.88, 0.91, 0.95);
	cairo_rectangle(d->cr, CER_PDF_MARGIN, d->y + 4, CER_PDF_W - 2 * CER_PDF_MARGIN, 15);
	cairo_fill(d->cr);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	cer_pdf_font(d, CER_FONT_BOLD, 8);
	for (i = 0; i < 5; i++)
		cer_pdf_text(d, col_x[i] + 2, d->y + 15, names[i]);
	d->y += 19;
}

static offca_rc step_row(cer_pdoc *d, json_t *e, int shade)
{
	char *lines[6], *sum, when[32], seq[24];
	size_t n, i;
	double h;

	sum = summary(e);
	if (sum == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	cer_pdf_font(d, CER_FONT_SANS, 7.5);
	n = cer_pdf_wrap(d, sum, col_w[4] - 4, lines, 4);
	free(sum);
	if (n == 0)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	h = 4 + 9.5 * (double)n;
	if (cer_pdf_need(d, h))
		table_header(d);
	if (shade) {
		cairo_set_source_rgb(d->cr, 0.965, 0.965, 0.965);
		cairo_rectangle(d->cr, CER_PDF_MARGIN, d->y, CER_PDF_W - 2 * CER_PDF_MARGIN, h);
		cairo_fill(d->cr);
		cairo_set_source_rgb(d->cr, 0, 0, 0);
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
	pretty_time(sget(e, "time"), when);
	when[19] = '\0'; /* the column says UTC */
	cer_pdf_font(d, CER_FONT_SANS, 7.5);
	cer_pdf_text(d, col_x[0] + 2, d->y + 9.5, seq);
	cer_pdf_text(d, col_x[1] + 2, d->y + 9.5, when);
	cer_pdf_cell(d, col_x[2] + 2, d->y + 9.5, col_w[2] - 2, sget(e, "step"));
	cer_pdf_font(d, CER_FONT_BOLD, 7.5);
	cer_pdf_cell(d, col_x[3] + 2, d->y + 9.5, col_w[3] - 2, sget(e, "event"));
	cer_pdf_font(d, CER_FONT_SANS, 7.5);
	for (i = 0; i < n; i++)
		cer_pdf_text(d, col_x[4] + 2, d->y + 9.5 * (double)(i + 1), lines[i]);
	cer_pdf_free_lines(lines, n);
	d->y += h;
	return OFFCA_OK;
}

static offca_rc steps_block(cer_pdoc *d, json_t *entries)
{
	json_t *e;
	size_t i;
	offca_rc rc;

	cer_pdf_heading(d, "Steps", 60);
	table_header(d);
	json_array_foreach(entries, i, e) {
		rc = step_row(d, e, (int)(i % 2));
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

static void outputs_block(cer_pdoc *d, json_t *entries)
{
	double w = CER_PDF_W - CER_PDF_MARGIN - VALUE_X;
	char buf[128], *fp;
	json_t *e, *data;
	size_t i;
	int any = 0;

	cer_pdf_heading(d, "Output files and the SHA-256 of each file", 60);
	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), "output") != 0)
			continue;
		any = 1;
		data = json_object_get(e, "data");
		cer_pdf_need(d, 52);
		d->y += 4;
		kv(d, "File", sget(data, "path"), CER_FONT_BOLD, w);
		snprintf(buf, sizeof(buf), "%lld bytes, step %s, entry %lld",
			 (long long)json_integer_value(json_object_get(data, "size")), sget(e, "step"),
			 (long long)json_integer_value(json_object_get(e, "seq")));
		cer_pdf_utf8_cut(buf);
		kv(d, "Size", buf, CER_FONT_SANS, w);
		fp = fingerprint(sget(data, "sha256"));
		kv(d, "File SHA-256", fp != NULL ? fp : "", CER_FONT_MONO, w);
		free(fp);
	}
	if (!any) {
		cer_pdf_font(d, CER_FONT_SANS, 9.5);
		cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 14, "No output files were recorded.", 1);
	}
}

/* One signed certificate or CRL: what the screen showed, with the fingerprint of its DER in full. */
static void signed_item(cer_pdoc *d, json_t *e, double w)
{
	json_t *data = json_object_get(e, "data");
	int crl = strcmp(sget(e, "event"), "crl-signed") == 0;
	char buf[512], *fp;

	cer_pdf_need(d, 80);
	d->y += 4;
	if (crl) {
		snprintf(buf, sizeof(buf), "CRL of %s, number %lld", sget(data, "issuer"),
			 (long long)json_integer_value(json_object_get(data, "number")));
		cer_pdf_utf8_cut(buf);
		kv(d, "CRL", buf, CER_FONT_BOLD, w);
	} else {
		kv(d, "Certificate", sget(data, "what"), CER_FONT_BOLD, w);
		kv(d, "Subject", sget(data, "subject"), CER_FONT_SANS, w);
		kv(d, "Serial", sget(data, "serial"), CER_FONT_MONO, w);
		snprintf(buf, sizeof(buf), "%s .. %s", sget(data, "not_before"), sget(data, "not_after"));
		cer_pdf_utf8_cut(buf);
		kv(d, "Validity", buf, CER_FONT_SANS, w);
	}
	snprintf(buf, sizeof(buf), "step %s, entry %lld", sget(e, "step"),
		 (long long)json_integer_value(json_object_get(e, "seq")));
	cer_pdf_utf8_cut(buf);
	kv(d, "Recorded", buf, CER_FONT_SANS, w);
	fp = fingerprint(sget(data, "sha256"));
	kv(d, "SHA-256 of DER", fp != NULL ? fp : "", CER_FONT_MONO, w);
	free(fp);
}

/* Every certificate and CRL signed, with the fingerprint the screen showed and the guide tells
   witnesses to compare (SHA-256 of the DER: openssl x509 -noout -fingerprint -sha256), in full. */
static void certificates_block(cer_pdoc *d, json_t *entries)
{
	double w = CER_PDF_W - CER_PDF_MARGIN - VALUE_X;
	json_t *e;
	size_t i;
	int any = 0;

	cer_pdf_heading(d, "Certificates and CRLs signed: SHA-256 fingerprints of the DER", 80);
	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), "cert-signed") != 0 && strcmp(sget(e, "event"), "crl-signed") != 0)
			continue;
		any = 1;
		signed_item(d, e, w);
	}
	if (!any) {
		cer_pdf_font(d, CER_FONT_SANS, 9.5);
		cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 14,
			     "No certificate or CRL was signed.", 1);
	}
}

/* One key generated or CSR reviewed: the public-key (and CSR) SHA-256 the screen showed, in full. */
static void key_item(cer_pdoc *d, json_t *e, double w)
{
	json_t *data = json_object_get(e, "data");
	int csr = strcmp(sget(e, "event"), "csr-details") == 0;
	char buf[512], *fp;

	cer_pdf_need(d, 60);
	d->y += 4;
	snprintf(buf, sizeof(buf), "%s (step %s, entry %lld)", csr ? sget(data, "csr") : sget(data, "label"),
		 sget(e, "step"), (long long)json_integer_value(json_object_get(e, "seq")));
	cer_pdf_utf8_cut(buf);
	kv(d, csr ? "CSR reviewed" : "Key generated", buf, CER_FONT_BOLD, w);
	if (csr) {
		kv(d, "Subject", sget(data, "subject_openssl"), CER_FONT_SANS, w);
		fp = fingerprint(sget(data, "csr_sha256"));
		kv(d, "CSR SHA-256 (DER)", fp != NULL ? fp : "", CER_FONT_MONO, w);
		free(fp);
	}
	fp = fingerprint(csr ? sget(data, "key_sha256") : sget(data, "spki_sha256"));
	kv(d, "Public key SHA-256", fp != NULL ? fp : "", CER_FONT_MONO, w);
	free(fp);
}

/* Each step started, with the step hash the screen showed (and the review PDF holds), in full. */
static void step_hashes_block(cer_pdoc *d, json_t *entries)
{
	double w = CER_PDF_W - CER_PDF_MARGIN - VALUE_X;
	char buf[512], *fp;
	json_t *e, *data;
	size_t i;
	int any = 0;

	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), "step-start") != 0)
			continue;
		if (!any)
			cer_pdf_heading(d, "Step hashes (compare with the reviewed ceremony file's PDF)", 60);
		any = 1;
		data = json_object_get(e, "data");
		cer_pdf_need(d, 40);
		d->y += 4;
		snprintf(buf, sizeof(buf), "%s: %s (%s)", sget(e, "step"), sget(data, "title"), sget(data, "type"));
		cer_pdf_utf8_cut(buf);
		kv(d, "Step", buf, CER_FONT_BOLD, w);
		fp = fingerprint(sget(data, "step_sha256"));
		kv(d, "Step hash", fp != NULL ? fp : "", CER_FONT_MONO, w);
		free(fp);
	}
}

static void keys_block(cer_pdoc *d, json_t *entries)
{
	double w = CER_PDF_W - CER_PDF_MARGIN - VALUE_X;
	json_t *e;
	size_t i;
	int any = 0;

	json_array_foreach(entries, i, e) {
		const char *ev = sget(e, "event");
		if ((strcmp(ev, "key-generated") != 0 || json_object_get(json_object_get(e, "data"), "spki_sha256") == NULL) &&
		    strcmp(ev, "csr-details") != 0)
			continue;
		if (!any)
			cer_pdf_heading(d, "Keys generated and CSRs reviewed: SHA-256 of the public keys", 80);
		any = 1;
		key_item(d, e, w);
	}
}

/* Subject of the PEM certificate in a signature entry, or "". */
static void cert_subject(const char *pem, char *out, size_t cap)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	out[0] = '\0';
	if (cert != NULL)
		(void)ca_x509_name_text(X509_get_subject_name(cert), out, cap); /* cut to fit is fine */
	X509_free(cert);
	BIO_free(bio);
}

static void signatures_block(cer_pdoc *d, json_t *entries)
{
	double w = CER_PDF_W - CER_PDF_MARGIN - VALUE_X;
	char buf[512], when[32], *fp;
	json_t *e, *data;
	size_t i;
	int any = 0;

	cer_pdf_heading(d, "Signatures over the transcript", 80);
	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), "signature") != 0)
			continue;
		any = 1;
		data = json_object_get(e, "data");
		cer_pdf_need(d, 76);
		d->y += 4;
		kv(d, "Signer", sget(data, "signer"), CER_FONT_BOLD, w);
		pretty_time(sget(e, "time"), when);
		snprintf(buf, sizeof(buf), "%s, %s, covers entries 1 to %lld", sget(data, "algorithm"), when,
			 (long long)json_integer_value(json_object_get(e, "seq")) - 1);
		kv(d, "Signature", buf, CER_FONT_SANS, w);
		fp = fingerprint(sget(data, "key_sha256"));
		kv(d, "Key SHA-256", fp != NULL ? fp : "", CER_FONT_MONO, w);
		free(fp);
		if (json_object_get(data, "cert") != NULL) {
			cert_subject(sget(data, "cert"), buf, sizeof(buf));
			kv(d, "Certificate", buf, CER_FONT_SANS, w);
		}
	}
	if (!any) {
		cer_pdf_font(d, CER_FONT_SANS, 9.5);
		cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 14,
			     "This transcript carries no signature.", 1);
	}
}

static size_t add_person(person *p, size_t n, const char *name, const char *role)
{
	size_t i;

	if (name == NULL || *name == '\0' || n >= MAX_PEOPLE)
		return n;
	for (i = 0; i < n; i++) {
		if (strcmp(p[i].name, name) == 0)
			return n;
	}
	p[n].name = name;
	p[n].role = role;
	return n + 1;
}

static size_t collect_people(json_t *entries, person *p)
{
	json_t *e, *data, *w;
	size_t i, j, n = 0;

	json_array_foreach(entries, i, e) {
		if (strcmp(sget(e, "event"), "operators") != 0)
			continue;
		data = json_object_get(e, "data");
		n = add_person(p, n, json_string_value(json_object_get(data, "administrator")), "Administrator");
		json_array_foreach(json_object_get(data, "witnesses"), j, w)
			n = add_person(p, n, json_string_value(w), "Witness");
	}
	return n;
}

static void sign_line(cer_pdoc *d, const char *name, const char *role)
{
	cairo_t *cr = d->cr;
	char label[CER_TRANSCRIPT_MAX_NAME + 64];

	cer_pdf_need(d, 62);
	d->y += 40;
	cairo_set_line_width(cr, 0.6);
	cairo_move_to(cr, CER_PDF_MARGIN, d->y);
	cairo_line_to(cr, CER_PDF_MARGIN + 300, d->y);
	cairo_move_to(cr, CER_PDF_MARGIN + 330, d->y);
	cairo_line_to(cr, CER_PDF_W - CER_PDF_MARGIN, d->y);
	cairo_stroke(cr);
	cer_pdf_font(d, CER_FONT_SANS, 8.5);
	if (name != NULL)
		snprintf(label, sizeof(label), "%s \xe2\x80\x94 %s", role, name);
	else
		snprintf(label, sizeof(label), "%s \xe2\x80\x94 name: ____________________", role);
	cer_pdf_utf8_cut(label);
	cer_pdf_cell(d, CER_PDF_MARGIN, d->y + 11, 300, label);
	cer_pdf_text(d, CER_PDF_MARGIN + 330, d->y + 11, "Date");
	d->y += 14;
}

static void witness_block(cer_pdoc *d, json_t *entries)
{
	person people[MAX_PEOPLE];
	size_t n, i;

	n = collect_people(entries, people);
	cer_pdf_heading(d, "Witness signatures", 120);
	cer_pdf_font(d, CER_FONT_SANS, 9);
	cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 12,
		     "By signing below I confirm that I was present at this ceremony, that the steps listed "
		     "above took place as recorded, and that the final hash printed on this copy matches the "
		     "one shown by \"offca ceremony verify\" for the transcript file.", 5);
	d->y += 4;
	cer_pdf_font(d, CER_FONT_BOLD, 8.5);
	cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 12, "Final hash (SHA-256) of the transcript:", 1);
	cer_pdf_font(d, CER_FONT_MONO, 9);
	{
		char g[CER_FP_LEN];
		cer_fp_text(d->head_hex, g, sizeof(g));
		cer_pdf_para(d, CER_PDF_MARGIN, CER_PDF_W - 2 * CER_PDF_MARGIN, 12, g, 1);
	}
	for (i = 0; i < n; i++)
		sign_line(d, people[i].name, people[i].role);
	if (n == 0) {
		sign_line(d, NULL, "Administrator");
		sign_line(d, NULL, "Witness");
	}
}

static offca_rc render(cer_pdoc *d, json_t *entries, const cer_verify_result *res)
{
	offca_rc rc;

	rc = summary_block(d, entries, res);
	if (rc != OFFCA_OK)
		return rc;
	rc = steps_block(d, entries);
	if (rc != OFFCA_OK)
		return rc;
	step_hashes_block(d, entries);
	keys_block(d, entries);
	certificates_block(d, entries);
	outputs_block(d, entries);
	signatures_block(d, entries);
	witness_block(d, entries);
	cer_pdf_end(d);
	return OFFCA_OK;
}

struct tr_pdf {
	json_t *entries;
	const cer_verify_result *res;
};

static offca_rc draw_transcript(cer_pdoc *d, void *arg)
{
	struct tr_pdf *t = arg;

	return render(d, t->entries, t->res);
}

offca_rc cer_transcript_pdf(const char *transcript_path, const char *pdf_path)
{
	cer_verify_result res;
	json_t *entries = NULL;
	struct tr_pdf t;
	char title[CER_TRANSCRIPT_MAX_NAME + 64], *hex;
	cer_pdoc proto;
	offca_rc rc;

	if (transcript_path == NULL || pdf_path == NULL)
		return ut_err(OFFCA_E_USAGE, "cer_transcript_pdf: transcript and PDF paths required");
	if (ut_path_exists(pdf_path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", pdf_path);
	rc = cer_tr_load(transcript_path, NULL, 0, NULL, &res, &entries);
	if (rc != OFFCA_OK)
		goto out;
	memset(&proto, 0, sizeof(proto));
	hex = ut_hex(res.head, 32);
	if (hex == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(proto.head_hex, hex, 65);
	free(hex);
	snprintf(proto.ceremony, sizeof(proto.ceremony), "%s", res.ceremony);
	snprintf(title, sizeof(title), "Key ceremony transcript: %s", res.ceremony);
	t.entries = entries;
	t.res = &res;
	rc = cer_pdf_write(&proto, title, draw_transcript, &t, pdf_path);
out:
	json_decref(entries);
	return rc;
}
