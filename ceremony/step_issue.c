/* step_issue.c - issuers, lint, and the reserve -> sign -> verify -> lint -> commit -> release path,
   all through core (x509, lint, store); the ceremony only orchestrates and records. */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/lint.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

offca_rc cer_issuer_prepare(cer_run_t *r, const cer_step *st, cer_issuer_ctx *out)
{
	offca_rc rc;
	const char *who;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", st->issuer);
	rc = ca_signer_new(r->store, r->cfg, st->issuer, &out->signer);
	if (rc != OFFCA_OK)
		return rc;
	out->cert = ca_signer_issuer_cert(out->signer);
	/* the issuer's token: the ceremony token its URI names, waited for like any other */
	who = cer_who_for_uri(r, ca_signer_key_uri(out->signer));
	for (size_t i = 0; i < r->f->n_tokens; i++)
		if (strcmp(r->f->tokens[i].id, who) == 0) {
			rc = cer_token_ready(r, (int)i);
			if (rc != OFFCA_OK) {
				cer_issuer_close(out);
				return rc;
			}
		}
	return OFFCA_OK;
}

offca_rc cer_issuer_key(cer_run_t *r, cer_issuer_ctx *ic)
{
	offca_rc rc;

	rc = cer_key_get(r, ca_signer_key_uri(ic->signer), cer_who_for_uri(r, ca_signer_key_uri(ic->signer)), 0,
			 &ic->key);
	if (rc == OFFCA_OK)
		rc = ca_signer_set_key(ic->signer, tok_key_private(ic->key), tok_key_public(ic->key));
	if (rc != OFFCA_OK)
		cer_issuer_close(ic);
	return rc;
}

offca_rc cer_issuer_open(cer_run_t *r, const cer_step *st, cer_issuer_ctx *out)
{
	offca_rc rc = cer_issuer_prepare(r, st, out);

	return rc == OFFCA_OK ? cer_issuer_key(r, out) : rc;
}

void cer_issuer_close(cer_issuer_ctx *ic)
{
	ca_signer_free(ic->signer);
	ic->signer = NULL;
	ic->cert = NULL;
	ic->key = NULL;
}

void cer_lint_opts(const cer_step *st, ca_lint_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->accept = (const char *const *)st->accepted_lints;
	lo->n_accept = st->n_accepted_lints;
}

static offca_rc record_lint(cer_run_t *r, const char *what, const ca_lint_result *lr, offca_rc rc)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < lr->n; i++) {
		const ca_lint_finding *f = &lr->items[i];
		cer_say(r, "  lint %s %s%s: %s\n", f->level == CA_LINT_ERROR ? "ERROR" : "warning", f->name,
			f->accepted ? " (accepted by the ceremony file)" : "", f->detail);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "lint", f->name, "level",
						     f->level == CA_LINT_ERROR ? "error" : "warning", "detail", f->detail,
						     "accepted", f->accepted));
	}
	if (rc == OFFCA_OK)
		cer_say(r, "  lint: %s passes (%zu finding%s)\n", what, lr->n, lr->n == 1 ? "" : "s");
	return cer_log(r, "lint", json_pack("{s:s, s:b, s:o}", "object", what, "passed", rc == OFFCA_OK, "findings",
					    arr));
}

/* Log a lint result (rc: the lint's verdict) and return the verdict, the log's error otherwise;
   a refusal keeps the lint's message, followed by hint. */
static offca_rc lint_done(cer_run_t *r, const char *what, ca_lint_result *lr, offca_rc rc, const char *hint)
{
	offca_rc lrc;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	lrc = record_lint(r, what, lr, rc);
	ca_lint_result_clear(lr);
	if (rc != OFFCA_OK)
		return ut_err(rc, "%s%s", msg, hint);
	return lrc;
}

offca_rc cer_lint_cert(cer_run_t *r, const cer_step *st, X509 *cert, X509 *issuer)
{
	ca_lint_opts lo = {(const char *const *)st->accepted_lints, st->n_accepted_lints, 0};
	ca_lint_result lr;

	memset(&lr, 0, sizeof(lr));
	return lint_done(r, "certificate", &lr, ca_lint_cert(cert, issuer, &lo, &lr),
			 " (stopped before anything left the ceremony; accept it under accepted-lints if intended)");
}

offca_rc cer_lint_crl(cer_run_t *r, const cer_step *st, X509_CRL *crl, X509 *issuer)
{
	ca_lint_opts lo = {(const char *const *)st->accepted_lints, st->n_accepted_lints, 0};
	ca_lint_result lr;

	memset(&lr, 0, sizeof(lr));
	return lint_done(r, "crl", &lr, ca_lint_crl(crl, issuer, &lo, &lr), "");
}

offca_rc cer_cert_pem(X509 *x, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	*pem = NULL;
	if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
		BIO_free(b);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the certificate");
	}
	n = BIO_get_mem_data(b, &p);
	*pem = malloc((size_t)n + 1);
	if (*pem != NULL) {
		memcpy(*pem, p, (size_t)n);
		(*pem)[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(b);
	return *pem ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t cap)
{
	struct tm tm;

	buf[0] = '\0';
	if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cer_cert_ids(X509 *x, char *serial, size_t serial_cap, char *fp, size_t fp_cap)
{
	unsigned char *der = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	int n = i2d_X509(x, &der);

	fp[0] = '\0';
	if (n > 0)
		cer_fingerprint(der, (size_t)n, fp, fp_cap);
	snprintf(serial, serial_cap, "%s", hex ? hex : "?");
	OPENSSL_free(der);
	OPENSSL_free(hex);
	BN_free(bn);
}

offca_rc cer_show_cert(cer_run_t *r, const char *what, X509 *x)
{
	unsigned char *der = NULL;
	char fp[128], nb[32], na[32], subj[512], *serial = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	int n = i2d_X509(x, &der);
	offca_rc rc;

	fp[0] = '\0';
	if (n > 0)
		cer_fingerprint(der, (size_t)n, fp, sizeof(fp));
	OPENSSL_free(der);
	serial = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	if (ca_x509_name_text(X509_get_subject_name(x), subj, sizeof(subj)) != OFFCA_OK)
		snprintf(subj, sizeof(subj), "(unprintable subject)");
	asn1_time_text(X509_get0_notBefore(x), nb, sizeof(nb));
	asn1_time_text(X509_get0_notAfter(x), na, sizeof(na));
	cer_say(r, "\n  %s\n    subject   %s\n    serial    %s\n    validity  %s .. %s\n    SHA-256   %s\n", what, subj,
		serial ? serial : "?", nb, na, fp);
	rc = cer_log(r, "cert-signed", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "what", what, "subject", subj,
						 "serial", serial ? serial : "", "not_before", nb, "not_after", na,
						 "sha256", fp));
	OPENSSL_free(serial);
	return rc;
}

