/*
 * cmd_metrics.c - offca-acme metrics --textfile DIR: the certificates of the state directory as
 * Prometheus metrics for node_exporter's textfile collector, with x509-certificate-exporter's
 * names and labels (x509_cert_not_before, x509_cert_not_after, x509_cert_expired;
 * serial_number in decimal, subject_CN, issuer_CN), written atomically to DIR/offca-acme.prom.
 */
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "offca/util.h"
#include "sandbox.h"

#define METRICS_MAX (4u * 1024u * 1024u)

struct out {
	char *buf;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

/* a label value as Prometheus' text format wants it: \ " and newline escaped */
static void label(char *dst, size_t cap, const char *src)
{
	size_t j = 0;

	for (size_t i = 0; src[i] != '\0' && j + 3 < cap; i++) {
		if (src[i] == '\\' || src[i] == '"') {
			dst[j++] = '\\';
			dst[j++] = src[i];
		} else if (src[i] == '\n') {
			dst[j++] = '\\';
			dst[j++] = 'n';
		} else {
			dst[j++] = src[i];
		}
	}
	dst[j] = '\0';
}

static void cn_of(const X509_NAME *name, char *buf, size_t cap)
{
	char raw[256] = "";

	if (X509_NAME_get_text_by_NID((X509_NAME *)name, NID_commonName, raw, sizeof(raw)) < 0)
		raw[0] = '\0';
	label(buf, cap, raw);
}

static offca_rc one(struct acme_opts *o, const char *name, struct out *m, time_t now)
{
	char rel[512], path[4096], subj[600], iss[600], *dec = NULL;
	X509 *cert = NULL;
	BIGNUM *bn = NULL;
	time_t nb = 0, na = 0;
	offca_rc rc;

	snprintf(rel, sizeof(rel), "live/%s/cert.pem", name);
	rc = acme_state_path(o, rel, path, sizeof(path));
	if (rc == OFFCA_OK)
		rc = acme_cert_load(path, &cert);
	if (rc == OFFCA_OK)
		rc = acme_cert_times(cert, &nb, &na);
	if (rc != OFFCA_OK)
		goto out;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	dec = bn != NULL ? BN_bn2dec(bn) : NULL;
	if (dec == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	cn_of(X509_get_subject_name(cert), subj, sizeof(subj));
	cn_of(X509_get_issuer_name(cert), iss, sizeof(iss));
	put(m, "x509_cert_not_before{serial_number=\"%s\",subject_CN=\"%s\",issuer_CN=\"%s\"} %lld\n", dec, subj, iss,
	    (long long)nb);
	put(m, "x509_cert_not_after{serial_number=\"%s\",subject_CN=\"%s\",issuer_CN=\"%s\"} %lld\n", dec, subj, iss,
	    (long long)na);
	put(m, "x509_cert_expired{serial_number=\"%s\",subject_CN=\"%s\",issuer_CN=\"%s\"} %d\n", dec, subj, iss,
	    na <= now ? 1 : 0);
out:
	OPENSSL_free(dec);
	BN_free(bn);
	X509_free(cert);
	return rc;
}

offca_rc acme_cmd_metrics(struct acme_opts *o)
{
	struct acme_names names = {0};
	struct out m = {0};
	char path[4096];
	time_t now = time(NULL);
	offca_rc rc;
	int n;

	if (o->textfile == NULL)
		return ut_err(OFFCA_E_USAGE, "metrics: --textfile DIR is required (node_exporter's textfile directory)");
	n = snprintf(path, sizeof(path), "%s/offca-acme.prom", o->textfile);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "--textfile %s: path too long", o->textfile);
	/* reads the state, writes only below the textfile directory, no network, no exec */
	rc = acme_sandbox_enter(ACME_SB_METRICS, o->textfile);
	if (rc != OFFCA_OK)
		return rc;
	m.cap = METRICS_MAX;
	m.buf = malloc(m.cap);
	if (m.buf == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	put(&m, "# HELP x509_cert_not_before Certificate validity start, seconds since the epoch\n"
		"# TYPE x509_cert_not_before gauge\n"
		"# HELP x509_cert_not_after Certificate validity end, seconds since the epoch\n"
		"# TYPE x509_cert_not_after gauge\n"
		"# HELP x509_cert_expired 1 when the certificate has expired\n"
		"# TYPE x509_cert_expired gauge\n");
	rc = acme_state_cert_names(o, &names);
	for (size_t i = 0; rc == OFFCA_OK && i < names.n; i++)
		rc = one(o, names.v[i], &m, now);
	if (rc == OFFCA_OK && m.full)
		rc = ut_err(OFFCA_E_TOO_BIG, "metrics: more than %u bytes", METRICS_MAX);
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, m.buf, m.len, 0); /* atomic: a reader sees the old or the new file */
	if (rc == OFFCA_OK && o->verbose)
		fprintf(stderr, "offca-acme: %zu certificate(s) -> %s\n", names.n, path);
	acme_names_clear(&names);
	free(m.buf);
	return rc;
}
