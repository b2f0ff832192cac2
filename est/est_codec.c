/*
 * est_codec.c - EST wire forms: base64 bodies and PKCS#7 certs-only (RFC 7030 4.1.3, 4.2.3).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>

#include "offca/est.h"
#include "offca/util.h"

#define EST_MAX_P7_CERTS 16

offca_rc est_b64_decode(const unsigned char *in, size_t len, size_t max, unsigned char **out, size_t *olen)
{
	char *clean = NULL;
	unsigned char *buf = NULL;
	size_t n = 0, pad = 0;
	int dl;
	offca_rc rc = OFFCA_E_PARSE;

	*out = NULL;
	*olen = 0;
	if (len > 2 * max + 1024)
		return ut_err(OFFCA_E_TOO_BIG, "base64 body larger than %zu bytes", 2 * max + 1024);
	clean = malloc(len + 1);
	buf = malloc(len / 4 * 3 + 4);
	if (clean == NULL || buf == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if (isspace(in[i]))
			continue;
		if (!isalnum(in[i]) && in[i] != '+' && in[i] != '/' && in[i] != '=') {
			rc = ut_err(OFFCA_E_PARSE, "body is not base64 (byte 0x%02x at offset %zu)", in[i], i);
			goto out;
		}
		clean[n++] = (char)in[i];
	}
	if (n == 0 || n % 4 != 0) {
		rc = ut_err(OFFCA_E_PARSE, "body is not base64 (empty or length not a multiple of 4)");
		goto out;
	}
	pad = (clean[n - 1] == '=') + (clean[n - 2] == '=');
	dl = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (dl < 0 || (size_t)dl < pad) {
		rc = ut_err(OFFCA_E_PARSE, "body is not valid base64");
		goto out;
	}
	if ((size_t)dl - pad > max) {
		rc = ut_err(OFFCA_E_TOO_BIG, "decoded body larger than %zu bytes", max);
		goto out;
	}
	*out = buf;
	*olen = (size_t)dl - pad;
	buf = NULL;
	rc = OFFCA_OK;
out:
	free(clean);
	free(buf);
	return rc;
}

offca_rc est_b64_encode(const unsigned char *in, size_t len, char **out)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	*out = NULL;
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)s, in, (int)len);
	*out = s;
	return OFFCA_OK;
}

typedef struct der_cert {
	unsigned char *der;
	int len;
	X509 *x;
} der_cert;

/* DER's order of a SET OF: by encoding, as X.690 11.6 (and OpenSSL's der_cmp) */
static int cmp_der(const void *a, const void *b)
{
	const der_cert *x = a, *y = b;
	int c = memcmp(x->der, y->der, (size_t)(x->len < y->len ? x->len : y->len));

	return c != 0 ? c : x->len - y->len;
}

/* certs in DER order: OpenSSL writes a PKCS#7 certificate SET OF as given (unsorted), which strict
   DER readers (Python's cryptography, Go) refuse */
static STACK_OF(X509) *der_sorted(STACK_OF(X509) *certs)
{
	int n = sk_X509_num(certs), ok = 1;
	der_cert *v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	STACK_OF(X509) *sk = sk_X509_new_null();

	for (int i = 0; v != NULL && i < n && ok; i++) {
		v[i].x = sk_X509_value(certs, i);
		v[i].der = NULL;
		ok = (v[i].len = i2d_X509(v[i].x, &v[i].der)) > 0;
	}
	if (v != NULL && sk != NULL && ok) {
		qsort(v, (size_t)n, sizeof(*v), cmp_der);
		for (int i = 0; i < n && ok; i++)
			ok = sk_X509_push(sk, v[i].x) > 0;
	}
	for (int i = 0; v != NULL && i < n; i++)
		OPENSSL_free(v[i].der);
	free(v);
	if (v == NULL || !ok) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

offca_rc est_p7_encode(STACK_OF(X509) *certs, char **out, size_t *len)
{
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *sorted = NULL;
	unsigned char *der = NULL;
	char *b64 = NULL, *s = NULL;
	size_t bl, k = 0;
	int dl;
	offca_rc rc = OFFCA_E_CRYPTO;

	*out = NULL;
	*len = 0;
	if ((sorted = der_sorted(certs)) == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	p7 = PKCS7_sign(NULL, NULL, sorted, NULL, PKCS7_PARTIAL | PKCS7_DETACHED);
	if (p7 == NULL || (dl = i2d_PKCS7(p7, &der)) <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "building the PKCS#7 certs-only answer");
		goto out;
	}
	if ((rc = est_b64_encode(der, (size_t)dl, &b64)) != OFFCA_OK)
		goto out;
	bl = strlen(b64);
	s = malloc(bl + bl / 64 + 2);
	if (s == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < bl; i += 64) {
		size_t m = bl - i < 64 ? bl - i : 64;

		memcpy(s + k, b64 + i, m);
		k += m;
		s[k++] = '\n';
	}
	s[k] = '\0';
	*out = s;
	*len = k;
	s = NULL;
	rc = OFFCA_OK;
out:
	PKCS7_free(p7);
	sk_X509_free(sorted);
	OPENSSL_free(der);
	free(b64);
	free(s);
	return rc;
}

offca_rc est_p7_decode(const unsigned char *b64, size_t len, STACK_OF(X509) **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t dl = 0;
	PKCS7 *p7 = NULL;
	STACK_OF(X509) *certs = NULL, *copy = NULL;
	offca_rc rc;

	*out = NULL;
	if ((rc = est_b64_decode(b64, len, EST_MAX_BODY, &der, &dl)) != OFFCA_OK)
		return rc;
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)dl);
	if (p7 == NULL || p != der + dl || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
		rc = ut_err(OFFCA_E_PARSE, "answer is not a PKCS#7 certs-only structure");
		goto out;
	}
	certs = p7->d.sign->cert;
	if (certs == NULL || sk_X509_num(certs) < 1 || sk_X509_num(certs) > EST_MAX_P7_CERTS) {
		rc = ut_err(OFFCA_E_PARSE, "PKCS#7 answer holds %d certificates (1..%d expected)",
			    certs == NULL ? 0 : sk_X509_num(certs), EST_MAX_P7_CERTS);
		goto out;
	}
	copy = X509_chain_up_ref(certs);
	if (copy == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	*out = copy;
	rc = OFFCA_OK;
out:
	PKCS7_free(p7);
	free(der);
	return rc;
}
