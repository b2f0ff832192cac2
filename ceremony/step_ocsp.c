/* step_ocsp.c - ocsp-responses: pre-signed OCSP responses for the intermediates of a root that
   stays offline (OpenSSL's OCSP_* API; signed by the root key on the token, verified before release). */
#include "ceremony_int.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/store.h"
#include "offca/util.h"

static const EVP_MD *md_for(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) >= 384)
		return EVP_sha384();
	return EVP_sha256();
}

/* Status of cert in the store: V_OCSP_CERTSTATUS_GOOD or _REVOKED (reason, when). */
static int cert_status(cer_run_t *r, X509 *cert, int *reason, int64_t *when)
{
	unsigned char md[32];
	unsigned char *der = NULL;
	ca_cert_record rec;
	int n = i2d_X509(cert, &der), st = V_OCSP_CERTSTATUS_GOOD;

	memset(&rec, 0, sizeof(rec));
	if (n > 0 && EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1 &&
	    ca_store_cert_by_fingerprint(r->store, md, &rec) == OFFCA_OK && rec.status == CA_CERT_REVOKED) {
		st = V_OCSP_CERTSTATUS_REVOKED;
		*reason = rec.reason;
		*when = rec.revoked_at;
	}
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	return st;
}

/* One OCSP_basic_sign as an operation of its own (tok_sign_guard): it holds the response while
   signing and hands it back only when done in time (else it frees it once the token returns). */
struct osign {
	OCSP_BASICRESP *bs;
	X509 *signer;
	EVP_PKEY *key;
	OCSP_BASICRESP **out;
	char name[128];
	int ok;
};

static offca_rc osign_run(void *p)
{
	struct osign *a = p;

	ERR_clear_error();
	if (OCSP_basic_sign(a->bs, a->signer, a->key, md_for(a->key), NULL, 0) != 1)
		return tok_err_sign("signing the OCSP response on the token failed");
	a->ok = 1;
	return OFFCA_OK;
}

static void osign_finish(void *p, int in_time)
{
	struct osign *a = p;

	if (in_time) {
		*a->out = a->bs;
		a->bs = NULL;
	}
	OCSP_BASICRESP_free(a->bs);
	X509_free(a->signer);
	EVP_PKEY_free(a->key);
	free(a);
}

/* Sign *bs with the issuer's token key (*bs is NULL after a signature abandoned for want of a touch). */
static offca_rc ocsp_sign(OCSP_BASICRESP **bs, cer_issuer_ctx *ic, const char *name)
{
	struct osign *a = calloc(1, sizeof(*a));
	char what[192];

	if (a == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (X509_up_ref(ic->cert) != 1 || EVP_PKEY_up_ref(tok_key_private(ic->key)) != 1) {
		free(a);
		return ut_err(OFFCA_E_INTERNAL, "cannot take a reference for signing");
	}
	a->bs = *bs;
	*bs = NULL;
	a->signer = ic->cert;
	a->key = tok_key_private(ic->key);
	a->out = bs;
	snprintf(what, sizeof(what), "the OCSP response for %s", name);
	return tok_sign_guard(a->key, what, osign_run, osign_finish, a);
}

static offca_rc one_response(cer_run_t *r, const cer_step *st, cer_issuer_ctx *ic, const char *name)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	ca_issuer iss;
	X509 *cert = NULL;
	OCSP_CERTID *id = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_STORE *store = NULL;
	unsigned char *der = NULL;
	char rel[PATH_MAX], fp[128];
	int status, reason = -1, n;
	int64_t when = 0;
	time_t now = time(NULL);

	memset(&iss, 0, sizeof(iss));
	rc = ca_store_issuer_get(r->store, name, &iss);
	if (rc != OFFCA_OK)
		goto out;
	if (strcmp(iss.parent, ic->name) != 0) {
		rc = ut_err(OFFCA_E_STATE, "'%s' is not issued by '%s' (its issuer is '%s')", name, ic->name, iss.parent);
		goto out;
	}
	rc = ca_x509_from_der(iss.der, iss.der_len, &cert);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	status = cert_status(r, cert, &reason, &when);
	id = OCSP_cert_to_id(EVP_sha1(), cert, ic->cert);
	bs = OCSP_BASICRESP_new();
	thisupd = ASN1_TIME_set(NULL, now);
	nextupd = ASN1_TIME_adj(NULL, now, (int)st->validity.days, 0);
	if (status == V_OCSP_CERTSTATUS_REVOKED)
		revtime = ASN1_TIME_set(NULL, (time_t)when);
	if (id == NULL || bs == NULL || thisupd == NULL || nextupd == NULL ||
	    OCSP_basic_add1_status(bs, id, status, reason, revtime, thisupd, nextupd) == NULL) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "building the OCSP response for %s failed", name);
		goto out;
	}
	rc = ocsp_sign(&bs, ic, name);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	/* verify before release: against the issuer certificate whose key matches the token's */
	certs = sk_X509_new_null();
	store = X509_STORE_new();
	if (certs == NULL || store == NULL || !sk_X509_push(certs, ic->cert) || X509_STORE_add_cert(store, ic->cert) != 1) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (OCSP_basic_verify(bs, certs, store, OCSP_TRUSTOTHER) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "the OCSP response for %s does not verify", name);
		goto out;
	}
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	n = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "encoding the OCSP response for %s failed", name);
		goto out;
	}
	cer_fingerprint(der, (size_t)n, fp, sizeof(fp));
	cer_say(r, "\n  OCSP response for '%s': %s, valid %u days\n    SHA-256 %s\n", name,
		OCSP_cert_status_str(status), st->validity.days, fp);
	rc = cer_log(r, "ocsp-signed", json_pack("{s:s, s:s, s:i, s:s}", "intermediate", name, "status",
						 OCSP_cert_status_str(status), "days", (int)st->validity.days, "sha256", fp));
	if (rc != OFFCA_OK)
		goto out;
	if (snprintf(rel, sizeof(rel), "%s/%s.ocsp.der", st->out[0].path, name) >= (int)sizeof(rel)) {
		rc = ut_err(OFFCA_E_TOO_BIG, "output path too long");
		goto out;
	}
	rc = cer_stage(r, rel, der, (size_t)n);
out:
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	X509_STORE_free(store);
	sk_X509_free(certs);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revtime);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	X509_free(cert);
	ca_issuer_clear(&iss);
	return rc;
}

offca_rc cer_step_ocsp(cer_run_t *r, const cer_step *st)
{
	cer_issuer_ctx ic;
	offca_rc rc;

	rc = cer_issuer_open(r, st, &ic);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < st->n_names && rc == OFFCA_OK; i++) {
		rc = cer_check_intr(r);
		if (rc == OFFCA_OK)
			rc = one_response(r, st, &ic, st->names[i]);
	}
	cer_issuer_close(&ic);
	return rc;
}
