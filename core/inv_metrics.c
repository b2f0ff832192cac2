/* inv_metrics.c - offca metrics: the store as Prometheus metrics in node_exporter's textfile format,
 * with x509-certificate-exporter's metric and label names (docs/monitoring.md). */
#include "inv_int.h"
#include "offca/util.h"

#include <openssl/bn.h>
#include <stdlib.h>
#include <string.h>

/* The per-certificate families: each is written to its own stream during the one walk (the text
   format wants a family's lines together), then appended to the file in this order. */
enum { F_NOT_AFTER, F_NOT_BEFORE, F_EXPIRED, F_REVOKED, F_COUNT };
static const char *const fam_name[F_COUNT] = {"x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired",
					      "offca_cert_revoked"};
static const char *const fam_help[F_COUNT] = {
	"Unix time of the certificate's notAfter", "Unix time of the certificate's notBefore",
	"1 if the certificate's notAfter has passed, else 0", "1 if offca has revoked the certificate, else 0"};

struct walk {
	FILE *f[F_COUNT];
	inv_issuers *is;
	int64_t now, keep_after;
	ca_inv_counts *c;
	offca_rc err;
};

/* A label value: backslash, double quote and newline escaped (the text format's rules). */
static void put_label(FILE *f, const char *name, const char *v, int first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void put_head(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The serial as a decimal integer, as x509-certificate-exporter prints it. */
static int serial_dec(const ca_serial *s, char *buf, size_t cap)
{
	BIGNUM *bn = BN_bin2bn(s->b, CA_SERIAL_LEN, NULL);
	char *d = bn != NULL ? BN_bn2dec(bn) : NULL;
	int ok = d != NULL && strlen(d) < cap;

	if (ok)
		memcpy(buf, d, strlen(d) + 1);
	OPENSSL_free(d);
	BN_free(bn);
	return ok;
}

static void put_labels(FILE *f, const char *serial, const char *cn, const char *icn, const char *issuer)
{
	fputc('{', f);
	put_label(f, "serial_number", serial, 1);
	put_label(f, "subject_CN", cn, 0);
	put_label(f, "issuer_CN", icn, 0);
	put_label(f, "issuer", issuer, 0);
	fputc('}', f);
}

static int on_cert(void *arg, const ca_cert_record *r)
{
	struct walk *w = arg;
	char dec[64], cn[256];
	const inv_issuer *i;
	int64_t v[F_COUNT];

	inv_count(w->is, r, w->now, w->c);
	if (r->not_after <= w->keep_after)
		return 0;
	if (!serial_dec(&r->serial, dec, sizeof(dec))) {
		w->err = ut_err(OFFCA_E_NOMEM, "out of memory");
		return 1;
	}
	inv_cn_of(r->subject, cn, sizeof(cn));
	i = inv_issuers_find(w->is, r->issuer);
	v[F_NOT_AFTER] = r->not_after;
	v[F_NOT_BEFORE] = r->not_before;
	v[F_EXPIRED] = r->not_after < w->now;
	v[F_REVOKED] = r->status == CA_CERT_REVOKED;
	for (int k = 0; k < F_COUNT; k++) {
		fputs(fam_name[k], w->f[k]);
		put_labels(w->f[k], dec, cn, i != NULL ? i->cn : "", r->issuer);
		fprintf(w->f[k], " %lld\n", (long long)v[k]);
	}
	w->c->series++;
	return 0;
}

static offca_rc append(FILE *dst, FILE *src)
{
	char buf[65536];
	size_t n;

	if (fflush(src) != 0 || ferror(src) || fseek(src, 0, SEEK_SET) != 0)
		return ut_err(OFFCA_E_IO, "temporary file: write failed");
	while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
		if (fwrite(buf, 1, n, dst) != n)
			return OFFCA_OK; /* reported by inv_out_check() */
	return ferror(src) ? ut_err(OFFCA_E_IO, "temporary file: read failed") : OFFCA_OK;
}

/* The CRL families and the totals, after the per-certificate ones. */
static void put_summary(FILE *f, const inv_issuers *is, const ca_inv_counts *c, int64_t now)
{
	static const char *const crl_fam[3] = {"x509_crl_next_update", "x509_crl_this_update", "offca_crl_number"};
	static const char *const crl_help[3] = {"Unix time of the issuer's current CRL's nextUpdate",
						"Unix time of the issuer's current CRL's thisUpdate",
						"cRLNumber of the issuer's current CRL"};
	static const char *const st[3] = {"valid", "revoked", "expired"};

	for (int k = 0; k < 3; k++) {
		put_head(f, crl_fam[k], crl_help[k]);
		for (size_t i = 0; i < is->n; i++) {
			const inv_issuer *x = &is->v[i];
			if (!x->has_crl)
				continue;
			fprintf(f, "%s{", crl_fam[k]);
			put_label(f, "issuer_CN", x->cn, 1);
			put_label(f, "issuer", x->iss.name, 0);
			fprintf(f, "} %lld\n", k == 0 ? (long long)x->crl_next : k == 1 ? (long long)x->crl_this
									: (long long)x->crl_number);
		}
	}
	put_head(f, "offca_certificates", "Certificate records in the store by issuer and status");
	for (size_t i = 0; i < is->n; i++) {
		size_t n[3] = {is->v[i].n_valid, is->v[i].n_revoked, is->v[i].n_expired};
		for (int k = 0; k < 3; k++) {
			fputs("offca_certificates{", f);
			put_label(f, "issuer", is->v[i].iss.name, 1);
			put_label(f, "status", st[k], 0);
			fprintf(f, "} %zu\n", n[k]);
		}
	}
	put_head(f, "offca_pending_csrs", "CSRs waiting in the pending queue to be signed");
	fprintf(f, "offca_pending_csrs %zu\n", c->pending);
	put_head(f, "offca_metrics_generated_timestamp_seconds", "Unix time offca metrics wrote this file");
	fprintf(f, "offca_metrics_generated_timestamp_seconds %lld\n", (long long)now);
}

offca_rc ca_inv_metrics_write(ca_store *st, const char *dir, int64_t now, unsigned keep_expired_days,
			      ca_inv_counts *c)
{
	char path[4096];
	inv_issuers is;
	inv_out out;
	ca_inv_counts cnt;
	struct walk w;
	offca_rc rc;
	int n;

	memset(&w, 0, sizeof(w));
	memset(&cnt, 0, sizeof(cnt));
	memset(&out, 0, sizeof(out));
	n = snprintf(path, sizeof(path), "%s/%s", dir, CA_INV_METRICS_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "%s: path too long", dir);
	rc = inv_issuers_load(st, &is);
	if (rc != OFFCA_OK)
		return rc;
	if ((rc = inv_pending_count(st, &cnt.pending)) != OFFCA_OK || (rc = inv_out_open(&out, path, 0)) != OFFCA_OK)
		goto out;
	w.f[0] = out.f;
	for (int k = 1; k < F_COUNT; k++)
		if ((w.f[k] = tmpfile()) == NULL) {
			rc = ut_err(OFFCA_E_IO, "cannot create a temporary file");
			goto out;
		}
	for (int k = 0; k < F_COUNT; k++)
		put_head(w.f[k], fam_name[k], fam_help[k]);
	w.is = &is;
	w.now = now;
	w.keep_after = now - (int64_t)keep_expired_days * 86400;
	w.c = &cnt;
	rc = ca_store_cert_each(st, NULL, 0, 0, on_cert, &w);
	if (rc == OFFCA_OK)
		rc = w.err;
	for (int k = 1; k < F_COUNT && rc == OFFCA_OK; k++)
		rc = append(out.f, w.f[k]);
	for (size_t i = 0; i < is.n; i++)
		cnt.crls += is.v[i].has_crl;
	if (rc == OFFCA_OK) {
		put_summary(out.f, &is, &cnt, now);
		rc = inv_out_check(&out);
	}
	if (rc == OFFCA_OK)
		rc = inv_out_commit(&out);
out:
	for (int k = 1; k < F_COUNT; k++)
		if (w.f[k] != NULL)
			fclose(w.f[k]);
	inv_out_abort(&out);
	inv_issuers_free(&is);
	if (rc == OFFCA_OK && c != NULL)
		*c = cnt;
	return rc;
}
