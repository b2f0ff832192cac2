/*
 * sign_record.c - the store record of a certificate we just built, from the X509 in hand.
 *
 * ca_cert_record_from_der() (record_x509.c, the store's) parses the DER again, and OpenSSL 3.0
 * decodes the public key on every parse, which costs as much as the signature. This builds the
 * same record from the X509 we have: same subject format (RFC 2253, UTF-8 kept), same SAN strings,
 * same times. test_sign.c checks that both give identical records.
 */
#include "offca/util.h"
#include "sign_int.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static offca_rc unix_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return ut_err_ssl(OFFCA_E_PARSE, "certificate: bad validity time");
	*out = (int64_t)timegm(&tm);
	return OFFCA_OK;
}

static char *san_string(const GENERAL_NAME *gn)
{
	char buf[CA_STORE_MAX_SAN_LEN + 16];

	if (gn->type != GEN_DNS && gn->type != GEN_EMAIL && gn->type != GEN_URI && gn->type != GEN_IPADD)
		return NULL;
	ca_policy_san_text(gn, buf, sizeof(buf));
	return strdup(buf);
}

offca_rc sign_record(X509 *x, const unsigned char *der, size_t len, const char *issuer, const char *profile,
		     const char *source, const ca_serial *serial, ca_cert_record *r)
{
	offca_rc rc = OFFCA_E_NOMEM;
	GENERAL_NAMES *sans = NULL;
	char subj[CA_STORE_MAX_SUBJECT + 1];
	unsigned int mdlen = 0;
	int n;

	memset(r, 0, sizeof(*r));
	r->serial = *serial;
	if (EVP_Digest(der, len, r->sha256, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	if (strlen(issuer) >= sizeof(r->issuer) || strlen(profile) >= sizeof(r->profile) ||
	    strlen(source) >= sizeof(r->source)) {
		rc = ut_err(OFFCA_E_TOO_BIG, "record: issuer, profile or source too long");
		goto out;
	}
	memcpy(r->issuer, issuer, strlen(issuer) + 1);
	memcpy(r->profile, profile, strlen(profile) + 1);
	memcpy(r->source, source, strlen(source) + 1);
	sign_name_text(X509_get_subject_name(x), subj, sizeof(subj));
	if ((r->subject = strdup(subj)) == NULL)
		goto out;
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = sans != NULL ? sk_GENERAL_NAME_num(sans) : 0;
	r->sans = calloc((size_t)n + 1, sizeof(char *));
	if (r->sans == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		char *t = san_string(sk_GENERAL_NAME_value(sans, i));
		if (t != NULL)
			r->sans[r->n_sans++] = t;
	}
	if ((rc = unix_time(X509_get0_notBefore(x), &r->not_before)) != OFFCA_OK ||
	    (rc = unix_time(X509_get0_notAfter(x), &r->not_after)) != OFFCA_OK)
		goto out;
	r->status = CA_CERT_VALID;
	r->issued_at = (int64_t)time(NULL);
	r->der = malloc(len);
	if (r->der == NULL) {
		rc = OFFCA_E_NOMEM;
		goto out;
	}
	memcpy(r->der, der, len);
	r->der_len = len;
	rc = OFFCA_OK;
out:
	if (rc == OFFCA_E_NOMEM)
		ut_err(rc, "out of memory");
	if (rc != OFFCA_OK)
		ca_cert_record_clear(r);
	GENERAL_NAMES_free(sans);
	return rc;
}
