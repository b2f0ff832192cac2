/* lint_crl.c - CRL lints (RFC 5280 section 5). */
#include "offca/lint.h"
#include "offca/util.h"
#include "lint_int.h"

#include <openssl/x509v3.h>
#include <string.h>

static void lint_crl_exts(lint_ctx *c, X509_CRL *crl, X509 *issuer)
{
	ASN1_INTEGER *num;
	AUTHORITY_KEYID *aki;
	int crit = 0;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		lint_add(c, "e_crl_number_missing", "a CRL needs a cRLNumber");
	} else {
		if (crit)
			lint_add(c, "e_crl_number_critical", "cRLNumber must not be critical");
		if (ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER || ASN1_STRING_length(num) > 20)
			lint_add(c, "e_crl_number_missing", "cRLNumber must be a non-negative integer of <= 20 octets");
	}
	ASN1_INTEGER_free(num);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	if (aki == NULL || aki->keyid == NULL)
		lint_add(c, "e_crl_aki_missing", "a CRL needs an authorityKeyIdentifier keyIdentifier");
	else if (X509_get0_subject_key_id(issuer) == NULL ||
		 ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(issuer)) != 0)
		lint_add(c, "e_crl_aki_mismatch", "authorityKeyIdentifier is not the issuer's key identifier");
	AUTHORITY_KEYID_free(aki);
}

static void lint_crl_entries(lint_ctx *c, X509_CRL *crl)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int bad_serial = 0, unspecified = 0, bad_time = 0;

	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		const ASN1_INTEGER *s = X509_REVOKED_get0_serialNumber(r);
		ASN1_ENUMERATED *reason;

		if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER || ASN1_STRING_length(s) == 0)
			bad_serial++;
		if (!lint_time_ok(X509_REVOKED_get0_revocationDate(r)))
			bad_time++;
		reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		if (reason != NULL && ASN1_ENUMERATED_get(reason) == 0)
			unspecified++;
		ASN1_ENUMERATED_free(reason);
	}
	if (bad_serial)
		lint_add(c, "e_crl_entry_serial_not_positive", "%d revoked entries with a non-positive serial", bad_serial);
	if (bad_time)
		lint_add(c, "e_crl_time_encoding", "%d revocation dates badly encoded", bad_time);
	if (unspecified)
		lint_add(c, "w_crl_reason_unspecified", "%d entries carry reasonCode unspecified (should be absent)",
			 unspecified);
}

offca_rc ca_lint_crl(X509_CRL *crl, X509 *issuer, const ca_lint_opts *opts, ca_lint_result *out)
{
	lint_ctx c = {out, opts, 0};
	const ASN1_TIME *tu = X509_CRL_get0_lastUpdate(crl), *nu = X509_CRL_get0_nextUpdate(crl);
	const X509_ALGOR *outer = NULL;

	memset(out, 0, sizeof(*out));
	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2)
		lint_add(&c, "e_crl_version_not_v2", "CRL must be v2");
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		lint_add(&c, "e_crl_issuer_mismatch", "CRL issuer is not the issuer's subject");
	if (tu == NULL || !lint_time_ok(tu) || (nu != NULL && !lint_time_ok(nu)))
		lint_add(&c, "e_crl_time_encoding", "thisUpdate/nextUpdate must be UTCTime before 2050, "
			 "GeneralizedTime after");
	if (nu == NULL)
		lint_add(&c, "e_crl_next_update_missing", "a CRL needs nextUpdate");
	else if (tu != NULL && ASN1_TIME_compare(tu, nu) >= 0)
		lint_add(&c, "e_crl_next_update_order", "nextUpdate must be after thisUpdate");
	lint_crl_exts(&c, crl, issuer);
	lint_crl_entries(&c, crl);
	X509_CRL_get0_signature(crl, NULL, &outer);
	if (outer == NULL || OBJ_obj2nid(outer->algorithm) == NID_undef)
		lint_add(&c, "e_crl_signature_alg_missing", "the CRL is not signed");
	return lint_finish(&c);
}
