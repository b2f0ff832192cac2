/*
 * test_store_util.h - helpers for the store unit tests: a throwaway EC key and certificates with
 * chosen serial, SANs and validity, built with OpenSSL (the real parser reads them back).
 */
#ifndef OFFCA_TEST_STORE_UTIL_H
#define OFFCA_TEST_STORE_UTIL_H

#include "testutil.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "offca/store.h"
#include "offca/util.h"

static EVP_PKEY *tsu_key(void)
{
	static EVP_PKEY *k;

	if (k == NULL)
		k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

/* A self-signed certificate with serial s, CN cn, SANs "DNS:a,IP:1.2.3.4" style (may be NULL),
   notAfter = now + days. *len gets its length; caller frees. */
static unsigned char *tsu_cert(const ca_serial *s, const char *cn, const char *sans, long days, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	BIGNUM *bn = BN_bin2bn(s->b, CA_SERIAL_LEN, NULL);
	X509V3_CTX ctx;
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_non_null(bn);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, nm), 1);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL));
	assert_int_equal(X509_set_pubkey(x, tsu_key()), 1);
	if (sans != NULL) {
		X509_EXTENSION *ext;

		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, sans);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, tsu_key(), EVP_sha256()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_free(x);
	X509_NAME_free(nm);
	BN_free(bn);
	return der;
}

/* Reserve one serial for issuer, build a certificate for it and turn it into a record. */
static void tsu_record(ca_store *st, const char *issuer, const char *cn, const char *sans, long days,
		       ca_cert_record *rec)
{
	ca_serial s;
	unsigned char *der;
	size_t len;

	assert_int_equal(ca_store_serial_reserve(st, issuer, 1, &s), OFFCA_OK);
	der = tsu_cert(&s, cn, sans, days, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, issuer, "server", "unit test", rec), OFFCA_OK);
	OPENSSL_free(der);
}

/* A fresh CA home (store created) under a new temp dir; *dir gets the temp dir (strdup). */
static ca_store *tsu_home(char **dir, char *home, size_t cap)
{
	ca_store *st = NULL;

	*dir = strdup(tu_tmpdir());
	assert_non_null(*dir);
	snprintf(home, cap, "%s/home", *dir);
	assert_int_equal(ca_store_open(home, 1, &st), OFFCA_OK);
	return st;
}

#endif
