/* crl.c - build, sign, verify, lint and record a CRL; the status of the current one. */
#include "offca/crl.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

struct collect {
	X509_CRL *crl;
	size_t n;
	offca_rc rc;
};

static int add_entry(void *arg, const ca_cert_record *r)
{
	struct collect *c = arg;
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *t = NULL;
	BIGNUM *bn = BN_bin2bn(r->serial.b, CA_SERIAL_LEN, NULL);

	if (rev == NULL || bn == NULL || (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (t = ASN1_TIME_adj(NULL, (time_t)r->revoked_at, 0, 0)) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, serial) != 1 || X509_REVOKED_set_revocationDate(rev, t) != 1)
		goto fail;
	if (r->reason > 0 && r->reason <= 10 && r->reason != 7) {
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
		int ok = e != NULL && ASN1_ENUMERATED_set(e, r->reason) == 1 &&
			 X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0) == 1;
		ASN1_ENUMERATED_free(e);
		if (!ok)
			goto fail;
	}
	if (X509_CRL_add0_revoked(c->crl, rev) != 1)
		goto fail;
	rev = NULL;
	c->n++;
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	return 0;
fail:
	c->rc = ut_err_ssl(OFFCA_E_NOMEM, "cannot add a CRL entry");
	X509_REVOKED_free(rev);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	return 1;
}

static offca_rc add_crl_exts(X509_CRL *crl, X509 *issuer, uint64_t number)
{
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	offca_rc rc = OFFCA_OK;

	if (ski == NULL)
		rc = ut_err(OFFCA_E_STATE, "the issuer certificate has no subject key identifier");
	else if (aki == NULL || num == NULL || (aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
		 ASN1_INTEGER_set_uint64(num, number) != 1 ||
		 X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0, 0) != 1 ||
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot add CRL extensions");
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	return rc;
}

offca_rc ca_crl_issue(ca_store *st, ca_signer *s, unsigned days, const ca_lint_opts *lint,
		      unsigned char **der, size_t *len, ca_crl_info *info)
{
	offca_rc rc = OFFCA_E_NOMEM;
	struct collect c = {NULL, 0, OFFCA_OK};
	ASN1_TIME *tu = NULL, *nu = NULL;
	ca_lint_result lr;
	uint64_t number = 0;
	int64_t now = (int64_t)time(NULL), next;
	unsigned char *out = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if (days == 0)
		days = s->cfg->crl_days;
	if (days == 0 || days > CA_CRL_MAX_DAYS)
		return ut_err(OFFCA_E_USAGE, "--days must be 1..%d for a CRL", CA_CRL_MAX_DAYS);
	if (s->priv == NULL)
		return ut_err(OFFCA_E_STATE, "no signing key attached to issuer '%s'", s->iss.name);
	next = now + (int64_t)days * 86400;
	c.crl = X509_CRL_new();
	tu = ASN1_TIME_adj(NULL, (time_t)now, 0, 0);
	nu = ASN1_TIME_adj(NULL, (time_t)next, 0, 0);
	if (c.crl == NULL || tu == NULL || nu == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (X509_CRL_set_version(c.crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(c.crl, X509_get_subject_name(s->cert)) != 1 ||
	    X509_CRL_set1_lastUpdate(c.crl, tu) != 1 || X509_CRL_set1_nextUpdate(c.crl, nu) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot set CRL fields");
		goto out;
	}
	/* the revoked set must be the one the audit log recorded: never sign a shortened CRL */
	if ((rc = ca_store_revoked_check(st, s->iss.name, NULL)) != OFFCA_OK) {
		if (rc == OFFCA_E_VERIFY) {
			char msg[700];
			snprintf(msg, sizeof(msg), "%s", ut_err_msg());
			rc = ut_err(rc, "%s: refusing to sign the CRL of '%s' (run offca audit verify)", msg, s->iss.name);
		}
		goto out;
	}
	if ((rc = ca_store_cert_each(st, s->iss.name, 0, 1, add_entry, &c)) != OFFCA_OK)
		goto out;
	if ((rc = c.rc) != OFFCA_OK)
		goto out;
	X509_CRL_sort(c.crl);
	if ((rc = ca_store_crl_next_number(st, s->iss.name, &number)) != OFFCA_OK ||
	    (rc = add_crl_exts(c.crl, s->cert, number)) != OFFCA_OK ||
	    (rc = ca_x509_sign_crl(c.crl, s->priv)) != OFFCA_OK || (rc = ca_x509_verify_crl(c.crl, s->pub)) != OFFCA_OK)
		goto out;
	rc = ca_lint_crl(c.crl, s->cert, lint, &lr);
	ca_lint_result_clear(&lr);
	if (rc != OFFCA_OK)
		goto out;
	n = i2d_X509_CRL(c.crl, &out);
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the CRL");
		goto out;
	}
	if ((rc = ca_store_crl_record(st, s->iss.name, number, now, next, out, (size_t)n)) != OFFCA_OK)
		goto out;
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->number = number;
		info->this_update = now;
		info->next_update = next;
		info->n_revoked = c.n;
	}
	*der = out;
	*len = (size_t)n;
	out = NULL;
	rc = OFFCA_OK;
out:
	ERR_clear_error();
	OPENSSL_free(out);
	X509_CRL_free(c.crl);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

offca_rc ca_crl_status(ca_store *st, const char *issuer, int64_t now, ca_crl_info *info)
{
	offca_rc rc;
	unsigned char *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	int64_t total, left;

	memset(info, 0, sizeof(*info));
	rc = ca_store_crl_current(st, issuer, &info->number, &info->this_update, &info->next_update, &der, &len);
	if (rc != OFFCA_OK)
		return rc;
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL) {
		free(der);
		return ut_err_ssl(OFFCA_E_PARSE, "the stored CRL of '%s' does not parse", issuer);
	}
	{
		int nrev = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)); /* -1: no revokedCertificates */
		info->n_revoked = nrev > 0 ? (size_t)nrev : 0;
	}
	total = info->next_update - info->this_update;
	left = info->next_update - now;
	info->expired = left <= 0;
	/* less than a quarter of its validity left, or less than 7 days of a CRL meant to last 28+ */
	info->warn = info->expired || left * 4 < total || (total >= 28 * 86400 && left < 7 * 86400);
	X509_CRL_free(crl);
	free(der);
	return OFFCA_OK;
}
