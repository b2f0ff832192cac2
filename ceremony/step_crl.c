/* step_crl.c - crl: the (offline) issuer signs its CRL through the CA core (ca_crl_issue: number
   from the store's ledger, revoked entries from the store, signed on the token, verified, linted,
   recorded as the issuer's current CRL), then it is released with a signed publish bundle for
   the online side (transfer's bundle format) when outputs.bundle is set. */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/crl.h"
#include "offca/store.h"
#include "offca/util.h"
/* offca_ceremony does not list offca_transfer in ceremony/CMakeLists.txt (not ours to edit): the
   header is reached by path; the offca binary and the tests link offca_transfer after us. */
#include "offca/bundle.h"

static offca_rc stage_bundle(cer_run_t *r, const cer_step *st, cer_issuer_ctx *ic, const char *rel,
			     const unsigned char *der, size_t len)
{
	xfr_bundle *b = NULL;
	unsigned char *img = NULL;
	size_t img_len = 0;
	char name[96], fp[128];
	offca_rc rc;

	snprintf(name, sizeof(name), "%s.crl", ic->name);
	rc = xfr_bundle_new(XFR_DIR_OUT, ic->name, &b);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_add(b, XFR_ITEM_CRL, name, der, len);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_sign(b, tok_key_private(ic->key), ic->cert, NULL);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_serialize(b, &img, &img_len);
	if (rc == OFFCA_OK) {
		cer_fingerprint(img, img_len, fp, sizeof(fp));
		cer_say(r, "  Publish bundle (signed by '%s', for the online side): SHA-256 %s\n", ic->name, fp);
		rc = cer_log(r, "bundle", json_pack("{s:s, s:s, s:s}", "contents", name, "signed_by", ic->name, "sha256", fp));
	}
	if (rc == OFFCA_OK)
		rc = cer_stage(r, rel, img, img_len);
	(void)st;
	free(img);
	xfr_bundle_free(b);
	return rc;
}

offca_rc cer_step_crl(cer_run_t *r, const cer_step *st)
{
	cer_issuer_ctx ic;
	ca_lint_opts lo;
	ca_crl_info info;
	X509_CRL *crl = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	size_t len = 0;
	char *pem = NULL, fp[128];
	BIO *bio = NULL;
	long pl;
	offca_rc rc;

	memset(&info, 0, sizeof(info));
	cer_lint_opts(st, &lo);
	rc = cer_issuer_open(r, st, &ic);
	if (rc != OFFCA_OK)
		return rc;
	cer_say(r, "  Signing the CRL of '%s' on the token (next update in %u days)...\n", ic.name, st->validity.days);
	rc = cer_check_intr(r);
	if (rc == OFFCA_OK)
		rc = ca_crl_issue(r->store, ic.signer, st->validity.days, &lo, &der, &len, &info);
	if (rc != OFFCA_OK)
		goto out;
	cer_fingerprint(der, len, fp, sizeof(fp));
	cer_say(r, "  CRL number %llu: %zu revoked certificate%s; signature verified with the token's public key, "
		   "linted, recorded in the ledger.\n  CRL SHA-256 %s\n",
		(unsigned long long)info.number, info.n_revoked, info.n_revoked == 1 ? "" : "s", fp);
	{
		char tu[32], nu[32];
		time_t t1 = (time_t)info.this_update, t2 = (time_t)info.next_update;
		struct tm tm;
		strftime(tu, sizeof(tu), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t1, &tm));
		strftime(nu, sizeof(nu), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t2, &tm));
		cer_say(r, "  thisUpdate %s\n  nextUpdate %s (a new CRL must be signed and published before then)\n", tu,
			nu);
	}
	cer_log(r, "signature-verified", json_pack("{s:s, s:s}", "object", "crl", "with",
						   "the public key read back from the token"));
	rc = cer_log(r, "crl-signed", json_pack("{s:s, s:I, s:i, s:I, s:I, s:s}", "issuer", ic.name, "number",
						(json_int_t)info.number, "revoked", (int)info.n_revoked, "this_update",
						(json_int_t)info.this_update, "next_update", (json_int_t)info.next_update,
						"sha256", fp));
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	bio = BIO_new(BIO_s_mem());
	if (rc == OFFCA_OK && (crl == NULL || bio == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1))
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "encoding the CRL failed");
	if (rc != OFFCA_OK)
		goto out;
	pl = BIO_get_mem_data(bio, &pem);
	for (size_t o = 0; o < st->n_out && rc == OFFCA_OK; o++) {
		if (strcmp(st->out[o].key, "crl") == 0)
			rc = cer_stage(r, st->out[o].path, pem, (size_t)pl);
		else if (strcmp(st->out[o].key, "bundle") == 0)
			rc = stage_bundle(r, st, &ic, st->out[o].path, der, len);
	}
out:
	BIO_free(bio);
	X509_CRL_free(crl);
	OPENSSL_free(der);
	cer_issuer_close(&ic);
	return rc;
}
