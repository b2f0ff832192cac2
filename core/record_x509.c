/*
 * record_x509.c - certificate records built from DER (OpenSSL does all the parsing), serial
 * formatting and parsing, CRLReason names.
 */
#include "store_int.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ca_cert_record_clear(ca_cert_record *r)
{
	if (r == NULL)
		return;
	free(r->subject);
	for (size_t i = 0; r->sans != NULL && i < r->n_sans; i++)
		free(r->sans[i]);
	free(r->sans);
	free(r->der);
	memset(r, 0, sizeof(*r));
}

char *ca_serial_hex(const ca_serial *s, char *buf, size_t cap)
{
	static const char hx[] = "0123456789ABCDEF";

	if (cap == 0)
		return buf;
	if (cap < 2 * CA_SERIAL_LEN + 1) {
		buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; i < CA_SERIAL_LEN; i++) {
		buf[2 * i] = hx[s->b[i] >> 4];
		buf[2 * i + 1] = hx[s->b[i] & 15];
	}
	buf[2 * CA_SERIAL_LEN] = '\0';
	return buf;
}

/* Hex digits of text (colons and spaces skipped) into digits[cap]; returns count or -1. */
static int hex_digits(const char *text, char *digits, size_t cap)
{
	size_t n = 0;

	for (const char *p = text; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (ut_hexval((unsigned char)*p) < 0 || n >= cap)
			return -1;
		digits[n++] = *p;
	}
	return (int)n;
}

offca_rc ca_serial_parse(const char *hex, ca_serial *out)
{
	char d[2 * CA_SERIAL_LEN];
	int n;

	memset(out, 0, sizeof(*out));
	if (hex == NULL)
		return ut_err(OFFCA_E_PARSE, "serial missing");
	n = hex_digits(hex, d, sizeof(d));
	if (n <= 0)
		return ut_err(OFFCA_E_PARSE, "'%.80s' is not a serial number (up to %d hex digits)", hex,
			      2 * CA_SERIAL_LEN);
	/* right-align: digit i of n goes to nibble (2*LEN - n + i) */
	for (int i = 0; i < n; i++) {
		int pos = 2 * CA_SERIAL_LEN - n + i;
		int v = ut_hexval((unsigned char)d[i]);

		out->b[pos / 2] |= (unsigned char)(pos % 2 ? v : v << 4);
	}
	return OFFCA_OK;
}

int ca_fp_parse(const char *text, unsigned char fp[32])
{
	char d[64];

	if (hex_digits(text, d, sizeof(d)) != 64)
		return -1;
	for (int i = 0; i < 32; i++)
		fp[i] = (unsigned char)(ut_hexval((unsigned char)d[2 * i]) << 4 | ut_hexval((unsigned char)d[2 * i + 1]));
	return 0;
}

static const char *const reason_names[11] = {
	"unspecified", "keyCompromise", "caCompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL /* 7 unused */, "removeFromCRL",
	"privilegeWithdrawn", "aACompromise"};

int ca_reason_code(const char *name)
{
	for (int i = 0; name != NULL && i < 11; i++)
		if (reason_names[i] != NULL && strcmp(reason_names[i], name) == 0)
			return i;
	return -1;
}

const char *ca_reason_name(int code)
{
	if (code < 0 || code > 10)
		return NULL;
	return reason_names[code];
}

static offca_rc asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return ut_err_ssl(OFFCA_E_PARSE, "certificate: bad validity time");
	*out = (int64_t)timegm(&tm);
	return OFFCA_OK;
}

static offca_rc get_subject(const X509 *x, char **out)
{
	char buf[CA_STORE_MAX_SUBJECT + 1];
	offca_rc rc = ca_x509_name_text(X509_get_subject_name(x), buf, sizeof(buf));

	if (rc == OFFCA_E_TOO_BIG)
		return ut_err(OFFCA_E_TOO_BIG, "certificate: subject longer than %u bytes", CA_STORE_MAX_SUBJECT);
	if (rc != OFFCA_OK)
		return ut_err(rc, "certificate: cannot print subject: %s", ut_err_msg());
	*out = strdup(buf);
	if (*out == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	return OFFCA_OK;
}

/* One GENERAL_NAME as "DNS:..", "IP:..", "email:..", "URI:.."; NULL (skip) for other types. */
static offca_rc gn_string(const GENERAL_NAME *gn, char **out)
{
	const char *pfx = NULL;
	const ASN1_STRING *s = NULL;
	char ip[64];
	const char *val;
	int len;
	char *r;

	*out = NULL;
	switch (gn->type) {
	case GEN_DNS: pfx = "DNS:"; s = gn->d.dNSName; break;
	case GEN_EMAIL: pfx = "email:"; s = gn->d.rfc822Name; break;
	case GEN_URI: pfx = "URI:"; s = gn->d.uniformResourceIdentifier; break;
	case GEN_IPADD: pfx = "IP:"; s = gn->d.iPAddress; break;
	default: return OFFCA_OK;
	}
	if (gn->type == GEN_IPADD) {
		if (s->length != 4 && s->length != 16)
			return ut_err(OFFCA_E_PARSE, "certificate: IP SAN of %d bytes", s->length);
		if (inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, ip, sizeof(ip)) == NULL)
			return ut_err(OFFCA_E_PARSE, "certificate: bad IP SAN");
		val = ip;
		len = (int)strlen(ip);
	} else {
		val = (const char *)ASN1_STRING_get0_data(s);
		len = ASN1_STRING_length(s);
		if (len <= 0 || memchr(val, '\0', (size_t)len) != NULL)
			return ut_err(OFFCA_E_PARSE, "certificate: empty SAN or SAN with a NUL byte");
	}
	if ((size_t)len + strlen(pfx) > CA_STORE_MAX_SAN_LEN)
		return ut_err(OFFCA_E_TOO_BIG, "certificate: SAN longer than %u bytes", CA_STORE_MAX_SAN_LEN);
	r = malloc(strlen(pfx) + (size_t)len + 1);
	if (r == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(r, pfx, strlen(pfx));
	memcpy(r + strlen(pfx), val, (size_t)len);
	r[strlen(pfx) + (size_t)len] = '\0';
	*out = r;
	return OFFCA_OK;
}

static offca_rc get_sans(const X509 *x, ca_cert_record *r)
{
	GENERAL_NAMES *gens = NULL;
	int crit = -1, n;
	offca_rc rc = OFFCA_E_INTERNAL;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		if (crit == -1)
			return OFFCA_OK; /* no SAN extension */
		return ut_err_ssl(OFFCA_E_PARSE, "certificate: malformed subjectAltName");
	}
	n = sk_GENERAL_NAME_num(gens);
	if (n < 0 || (size_t)n > CA_STORE_MAX_SANS) {
		rc = ut_err(OFFCA_E_TOO_BIG, "certificate: more than %u SANs", CA_STORE_MAX_SANS);
		goto out;
	}
	r->sans = calloc((size_t)n + 1, sizeof(char *));
	if (r->sans == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char *s = NULL;

		rc = gn_string(sk_GENERAL_NAME_value(gens, i), &s);
		if (rc != OFFCA_OK)
			goto out;
		if (s != NULL)
			r->sans[r->n_sans++] = s;
	}
	rc = OFFCA_OK;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static offca_rc get_serial(const X509 *x, ca_serial *out)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = NULL;
	offca_rc rc = OFFCA_E_INTERNAL;

	bn = ai ? ASN1_INTEGER_to_BN(ai, NULL) : NULL;
	if (bn == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "certificate: bad serial number");
	if (BN_is_negative(bn) || BN_is_zero(bn) || BN_num_bytes(bn) > CA_SERIAL_LEN) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "certificate: serial must be positive and at most %d bytes",
			    CA_SERIAL_LEN);
		goto out;
	}
	if (BN_bn2binpad(bn, out->b, CA_SERIAL_LEN) != CA_SERIAL_LEN) {
		rc = ut_err_ssl(OFFCA_E_INTERNAL, "certificate: serial conversion failed");
		goto out;
	}
	rc = OFFCA_OK;
out:
	BN_free(bn);
	return rc;
}

static offca_rc copy_field(char *dst, size_t cap, const char *src, const char *what)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "certificate record: %s longer than %zu bytes", what, cap - 1);
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return OFFCA_OK;
}

/* Every field parsed from x or copied from the arguments, in order; first failure wins. */
static offca_rc fill_fields(const X509 *x, const char *issuer, const char *profile, const char *source,
			    ca_cert_record *r)
{
	offca_rc rc = copy_field(r->issuer, sizeof(r->issuer), issuer, "issuer");

	if (rc == OFFCA_OK)
		rc = copy_field(r->profile, sizeof(r->profile), profile, "profile");
	if (rc == OFFCA_OK)
		rc = copy_field(r->source, sizeof(r->source), source, "source");
	if (rc == OFFCA_OK)
		rc = get_serial(x, &r->serial);
	if (rc == OFFCA_OK)
		rc = get_subject(x, &r->subject);
	if (rc == OFFCA_OK)
		rc = get_sans(x, r);
	if (rc == OFFCA_OK)
		rc = asn1_time_unix(X509_get0_notBefore(x), &r->not_before);
	if (rc == OFFCA_OK)
		rc = asn1_time_unix(X509_get0_notAfter(x), &r->not_after);
	return rc;
}

/* The record of x whose DER is der/len (already checked against the maxima). */
static offca_rc build(const X509 *x, const unsigned char *der, size_t len, const char *issuer, const char *profile,
		      const char *source, ca_cert_record *out)
{
	ca_cert_record r;
	offca_rc rc;

	memset(&r, 0, sizeof(r));
	rc = fill_fields(x, issuer, profile, source, &r);
	if (rc != OFFCA_OK)
		goto out;
	if (EVP_Digest(der, len, r.sha256, NULL, EVP_sha256(), NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	r.der = malloc(len);
	if (r.der == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(r.der, der, len);
	r.der_len = len;
	r.status = CA_CERT_VALID;
	r.issued_at = (int64_t)time(NULL);
	*out = r;
	memset(&r, 0, sizeof(r));
	rc = OFFCA_OK;
out:
	ca_cert_record_clear(&r);
	return rc;
}

static offca_rc check_args(const unsigned char *der, size_t len, ca_cert_record *out)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (der == NULL || out == NULL || len == 0)
		return ut_err(OFFCA_E_USAGE, "certificate record: no certificate");
	if (len > CA_STORE_MAX_DER)
		return ut_err(OFFCA_E_TOO_BIG, "certificate larger than %u bytes", CA_STORE_MAX_DER);
	return OFFCA_OK;
}

offca_rc ca_cert_record_from_der(const unsigned char *der, size_t len, const char *issuer,
				 const char *profile, const char *source, ca_cert_record *out)
{
	X509 *x = NULL;
	const unsigned char *p = der;
	offca_rc rc = check_args(der, len, out);

	if (rc != OFFCA_OK)
		return rc;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len)
		rc = ut_err_ssl(OFFCA_E_PARSE, "not a DER certificate (or trailing data after it)");
	else
		rc = build(x, der, len, issuer, profile, source, out);
	X509_free(x);
	return rc;
}

offca_rc ca_cert_record_from_x509(const struct x509_st *x, const unsigned char *der, size_t len,
				  const char *issuer, const char *profile, const char *source, ca_cert_record *out)
{
	offca_rc rc = check_args(der, len, out);

	if (rc != OFFCA_OK)
		return rc;
	if (x == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_cert_record_from_x509: no certificate");
	return build(x, der, len, issuer, profile, source, out);
}
