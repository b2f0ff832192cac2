/* inv_export.c - offca inventory export: the visibility export (format offca-inventory/1, JSON)
 * with its detached CMS signature. What may leave the CA for a monitoring service: fingerprints,
 * serials, names, validity, status, CRL times. Never a key, a PIN, a key URI or a CSR. */
#include "inv_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORMAT "offca-inventory/1"

struct walk {
	FILE *f;
	inv_issuers *is;
	int64_t now;
	ca_inv_counts *c;
	offca_rc err;
};

/* Dump j (taken over) on f, compact; non-zero on failure. */
static int put_json(FILE *f, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (s == NULL)
		return 1;
	fputs(s, f);
	free(s);
	return 0;
}

static json_t *cert_json(const ca_cert_record *r, int64_t now)
{
	char hex[2 * CA_SERIAL_LEN + 1], nb[32], na[32], ra[32];
	char *fp = ut_hex_colon(r->sha256, 32); /* as list --json and openssl -fingerprint */
	json_t *j = NULL, *sans = json_array();

	for (size_t i = 0; sans != NULL && i < r->n_sans; i++)
		json_array_append_new(sans, json_string(r->sans[i]));
	inv_time(r->not_before, nb, sizeof(nb));
	inv_time(r->not_after, na, sizeof(na));
	if (fp != NULL && sans != NULL)
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:s}", "serial", ca_serial_hex(&r->serial, hex, sizeof(hex)),
			      "sha256", fp, "issuer", r->issuer, "profile", r->profile, "subject",
			      r->subject != NULL ? r->subject : "", "sans", sans, "notBefore", nb, "notAfter", na, "status",
			      inv_status(r, now));
	if (j != NULL && r->status == CA_CERT_REVOKED) {
		inv_time(r->revoked_at, ra, sizeof(ra));
		json_object_set_new(j, "revokedAt", json_string(ra));
		json_object_set_new(j, "reason", json_string(ca_reason_name(r->reason) ? ca_reason_name(r->reason) : "?"));
	}
	json_decref(sans);
	free(fp);
	return j;
}

static int on_cert(void *arg, const ca_cert_record *r)
{
	struct walk *w = arg;

	fputs(w->c->certs == 0 ? "\n" : ",\n", w->f);
	inv_count(w->is, r, w->now, w->c);
	if (put_json(w->f, cert_json(r, w->now)) != 0) {
		w->err = ut_err(OFFCA_E_NOMEM, "out of memory");
		return 1;
	}
	return 0;
}

static json_t *issuer_json(const inv_issuer *x)
{
	char nb[32], na[32], tu[32], nu[32];
	char *fp = ut_hex_colon(x->sha256, 32);
	json_t *j, *crl = json_null();

	inv_time(x->not_before, nb, sizeof(nb));
	inv_time(x->not_after, na, sizeof(na));
	if (x->has_crl) {
		inv_time(x->crl_this, tu, sizeof(tu));
		inv_time(x->crl_next, nu, sizeof(nu));
		crl = json_pack("{s:I,s:s,s:s}", "number", (json_int_t)x->crl_number, "thisUpdate", tu, "nextUpdate", nu);
	}
	j = fp != NULL && crl != NULL
		    ? json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "name", x->iss.name, "parent", x->iss.parent, "subject",
				x->subject, "serial", x->serial_hex, "sha256", fp, "notBefore", nb, "notAfter", na, "crl", crl)
		    : NULL;
	json_decref(crl);
	free(fp);
	return j;
}

/* The issuers (with their CRL) and the pending count: what comes before the certificates. */
static offca_rc put_head(FILE *f, const inv_issuers *is, size_t pending, int64_t now)
{
	char t[32];

	inv_time(now, t, sizeof(t));
	fprintf(f, "{\"format\":\"%s\",\"generated\":\"%s\",\"pendingCsrs\":%zu,\"issuers\":[", FORMAT, t, pending);
	for (size_t i = 0; i < is->n; i++) {
		fputs(i == 0 ? "\n" : ",\n", f);
		if (put_json(f, issuer_json(&is->v[i])) != 0)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	fputs("\n],\"certificates\":[", f);
	return OFFCA_OK;
}

static offca_rc file_sha256(const char *path, unsigned char md[32])
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536];
	size_t n;
	offca_rc rc = OFFCA_OK;

	if (f == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		rc = ut_err(OFFCA_E_IO, "%s: cannot read it back", path);
	while (rc == OFFCA_OK && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			rc = ut_err(OFFCA_E_CRYPTO, "SHA-256 failed");
	if (rc == OFFCA_OK && (ferror(f) || EVP_DigestFinal_ex(ctx, md, NULL) != 1))
		rc = ut_err(OFFCA_E_IO, "%s: cannot read it back", path);
	EVP_MD_CTX_free(ctx);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Sign the finished temporary export, write the signature (never overwritten), then link the
   export into place; the signature goes again when that fails. */
static offca_rc sign_and_commit(inv_out *out, const char *sig_path, EVP_PKEY *key, X509 *signer,
				STACK_OF(X509) *chain, unsigned char md[32])
{
	unsigned char *der = NULL;
	size_t len = 0;
	offca_rc rc;

	if (fflush(out->f) != 0 || ferror(out->f))
		return inv_out_check(out);
	rc = file_sha256(out->tmp, md);
	if (rc == OFFCA_OK)
		rc = inv_cms_sign_file(out->tmp, key, signer, chain, &der, &len);
	if (rc == OFFCA_OK)
		rc = ut_write_file(sig_path, der, len, UT_WF_EXCL);
	OPENSSL_free(der);
	if (rc != OFFCA_OK)
		return rc;
	rc = inv_out_commit(out);
	if (rc != OFFCA_OK && (rc == OFFCA_E_EXISTS || ut_path_exists(out->path) != OFFCA_OK))
		unlink(sig_path); /* the export is not there: take the signature back */
	return rc;
}

offca_rc ca_inv_export_write(ca_store *st, const char *path, const char *sig_path, int64_t now, EVP_PKEY *key,
			     X509 *signer, STACK_OF(X509) *chain, unsigned char sha256[32], ca_inv_counts *c)
{
	inv_issuers is;
	inv_out out;
	ca_inv_counts cnt;
	struct walk w;
	unsigned char md[32];
	offca_rc rc;

	memset(&w, 0, sizeof(w));
	memset(&cnt, 0, sizeof(cnt));
	memset(&out, 0, sizeof(out));
	if (key == NULL || signer == NULL)
		return ut_err(OFFCA_E_USAGE, "the export needs a signing key and its certificate");
	if (ut_path_exists(sig_path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", sig_path);
	rc = inv_issuers_load(st, &is);
	if (rc != OFFCA_OK)
		return rc;
	if ((rc = inv_pending_count(st, &cnt.pending)) != OFFCA_OK || (rc = inv_out_open(&out, path, 1)) != OFFCA_OK ||
	    (rc = put_head(out.f, &is, cnt.pending, now)) != OFFCA_OK)
		goto out;
	w.f = out.f;
	w.is = &is;
	w.now = now;
	w.c = &cnt;
	rc = ca_store_cert_each(st, NULL, 0, 0, on_cert, &w);
	if (rc == OFFCA_OK)
		rc = w.err;
	if (rc != OFFCA_OK)
		goto out;
	for (size_t i = 0; i < is.n; i++)
		cnt.crls += is.v[i].has_crl;
	fprintf(out.f, "\n],\"count\":%zu}\n", cnt.certs);
	rc = sign_and_commit(&out, sig_path, key, signer, chain, md);
out:
	inv_out_abort(&out);
	inv_issuers_free(&is);
	if (rc == OFFCA_OK && c != NULL)
		*c = cnt;
	if (rc == OFFCA_OK && sha256 != NULL)
		memcpy(sha256, md, 32);
	return rc;
}
