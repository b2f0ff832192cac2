/* step_crl.c - crl: the (offline) issuer signs its CRL. The CRL number comes from the store's
   ledger, the revoked entries from the store; the CRL is signed on the token, verified with the
   public key read back from it, linted by core, recorded in the ledger, then released with a
   signed publish bundle for the online side (transfer's bundle format) when outputs.bundle is set. */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* offca_ceremony does not list offca_transfer in ceremony/CMakeLists.txt (not ours to edit): the
   header is reached by path; the offca binary and the tests link offca_transfer after us. */
#include "../transfer/include/offca/bundle.h"
#include "offca/store.h"
#include "offca/util.h"

struct revoked_list {
	X509_CRL *crl;
	offca_rc rc;
	size_t n;
};

static int add_revoked(void *arg, const ca_cert_record *rec)
{
	struct revoked_list *l = arg;
	X509_REVOKED *rv = X509_REVOKED_new();
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	BIGNUM *bn = BN_bin2bn(rec->serial.b, sizeof(rec->serial.b), NULL);
	int ok = 0;

	sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	t = ASN1_TIME_set(NULL, (time_t)rec->revoked_at);
	if (rv != NULL && sn != NULL && t != NULL && X509_REVOKED_set_serialNumber(rv, sn) == 1 &&
	    X509_REVOKED_set_revocationDate(rv, t) == 1) {
		ok = 1;
		if (rec->reason > 0) { /* unspecified (0) is left out, as RFC 5280 asks */
			reason = ASN1_ENUMERATED_new();
			ok = reason != NULL && ASN1_ENUMERATED_set(reason, rec->reason) == 1 &&
			     X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, 0) == 1;
		}
	}
	if (ok && X509_CRL_add0_revoked(l->crl, rv) == 1) {
		rv = NULL;
		l->n++;
	} else {
		l->rc = ut_err_ssl(OFFCA_E_CRYPTO, "adding a revoked entry to the CRL failed");
	}
	ASN1_ENUMERATED_free(reason);
	X509_REVOKED_free(rv);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return l->rc != OFFCA_OK;
}

static offca_rc build(cer_run_t *r, const cer_step *st, cer_issuer_ctx *ic, uint64_t number, time_t now,
		      X509_CRL **out, size_t *n_revoked)
{
	struct revoked_list l = {NULL, OFFCA_OK, 0};
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, now), *t2 = ASN1_TIME_adj(NULL, now, (int)st->validity.days, 0);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_EXTENSION *aki = NULL;
	X509V3_CTX ctx;
	offca_rc rc = OFFCA_E_CRYPTO;

	*out = NULL;
	l.crl = X509_CRL_new();
	if (l.crl == NULL || t1 == NULL || t2 == NULL || num == NULL || X509_CRL_set_version(l.crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(l.crl, X509_get_subject_name(ic->cert)) != 1 ||
	    X509_CRL_set1_lastUpdate(l.crl, t1) != 1 || X509_CRL_set1_nextUpdate(l.crl, t2) != 1 ||
	    ASN1_INTEGER_set_uint64(num, number) != 1 || X509_CRL_add1_ext_i2d(l.crl, NID_crl_number, num, 0, 0) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "building the CRL failed");
		goto out;
	}
	X509V3_set_ctx(&ctx, ic->cert, NULL, NULL, l.crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (aki == NULL || X509_CRL_add_ext(l.crl, aki, -1) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "CRL authority key identifier failed");
		goto out;
	}
	rc = ca_store_cert_each(r->store, ic->name, 0, 1, add_revoked, &l);
	if (rc == OFFCA_OK)
		rc = l.rc;
	if (rc != OFFCA_OK)
		goto out;
	X509_CRL_sort(l.crl);
	*n_revoked = l.n;
	*out = l.crl;
	l.crl = NULL;
out:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(l.crl);
	return rc;
}

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
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	char *pem = NULL, fp[128];
	BIO *bio = NULL;
	uint64_t number = 0;
	size_t n_revoked = 0;
	time_t now = time(NULL);
	int n;
	long pl;
	offca_rc rc;

	rc = cer_issuer_open(r, st, &ic);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_store_crl_next_number(r->store, ic.name, &number);
	if (rc == OFFCA_OK)
		rc = build(r, st, &ic, number, now, &crl, &n_revoked);
	if (rc != OFFCA_OK)
		goto out;
	cer_say(r, "  CRL number %llu for '%s': %zu revoked certificate%s, next update in %u days. Signing on the token...\n",
		(unsigned long long)number, ic.name, n_revoked, n_revoked == 1 ? "" : "s", st->validity.days);
	rc = ca_x509_sign_crl(crl, tok_key_private(ic.key));
	if (rc == OFFCA_OK)
		rc = ca_x509_verify_crl(crl, tok_key_public(ic.key));
	if (rc == OFFCA_OK)
		rc = cer_log(r, "signature-verified", json_pack("{s:s, s:s}", "object", "crl", "with",
								"the public key read back from the token"));
	if (rc == OFFCA_OK)
		rc = cer_lint_crl(r, st, crl, ic.cert);
	if (rc == OFFCA_OK)
		rc = cer_check_intr(r);
	if (rc != OFFCA_OK)
		goto out;
	n = i2d_X509_CRL(crl, &der);
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "encoding the CRL failed");
		goto out;
	}
	rc = ca_store_crl_record(r->store, ic.name, number, (int64_t)now,
				 (int64_t)now + (int64_t)st->validity.days * 86400, der, (size_t)n);
	if (rc != OFFCA_OK)
		goto out;
	cer_fingerprint(der, (size_t)n, fp, sizeof(fp));
	cer_say(r, "  CRL recorded in the ledger. SHA-256 %s\n", fp);
	rc = cer_log(r, "crl-signed", json_pack("{s:s, s:I, s:i, s:i, s:s}", "issuer", ic.name, "number",
						(json_int_t)number, "revoked", (int)n_revoked, "days", (int)st->validity.days,
						"sha256", fp));
	bio = BIO_new(BIO_s_mem());
	if (rc == OFFCA_OK && (bio == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1))
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "encoding the CRL failed");
	if (rc != OFFCA_OK)
		goto out;
	pl = BIO_get_mem_data(bio, &pem);
	for (size_t o = 0; o < st->n_out && rc == OFFCA_OK; o++) {
		if (strcmp(st->out[o].key, "crl") == 0)
			rc = cer_stage(r, st->out[o].path, pem, (size_t)pl);
		else if (strcmp(st->out[o].key, "bundle") == 0)
			rc = stage_bundle(r, st, &ic, st->out[o].path, der, (size_t)n);
	}
out:
	BIO_free(bio);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	cer_issuer_close(&ic);
	return rc;
}
