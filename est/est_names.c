/*
 * est_names.c - the comparisons both sides of EST make: subjectAltNames as canonical text, public
 * key and certificate hashes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "offca/est.h"
#include "offca/util.h"

static offca_rc one_name(const GENERAL_NAME *g, char *buf, size_t cap)
{
	const ASN1_STRING *s;
	const char *pfx;
	char ip[INET6_ADDRSTRLEN];
	int n;

	switch (g->type) {
	case GEN_DNS: pfx = "DNS"; s = g->d.dNSName; break;
	case GEN_EMAIL: pfx = "email"; s = g->d.rfc822Name; break;
	case GEN_URI: pfx = "URI"; s = g->d.uniformResourceIdentifier; break;
	case GEN_IPADD:
		s = g->d.iPAddress;
		if (s->length != 4 && s->length != 16)
			return ut_err(OFFCA_E_PARSE, "IP subjectAltName of %d bytes", s->length);
		inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, ip, sizeof(ip));
		n = snprintf(buf, cap, "IP:%s", ip);
		return n < 0 || (size_t)n >= cap ? ut_err(OFFCA_E_TOO_BIG, "subjectAltName too long") : OFFCA_OK;
	default:
		return ut_err(OFFCA_E_UNSUPPORTED, "subjectAltName of type %d is not supported", g->type);
	}
	if (memchr(s->data, 0, (size_t)s->length) != NULL)
		return ut_err(OFFCA_E_PARSE, "subjectAltName holds a NUL byte");
	n = snprintf(buf, cap, "%s:%.*s", pfx, s->length, (const char *)s->data);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "subjectAltName too long");
	if (g->type == GEN_DNS)
		for (char *p = buf + 4; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return OFFCA_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

offca_rc est_sans_text(const GENERAL_NAMES *gn, char *buf, size_t cap)
{
	int n = gn == NULL ? 0 : sk_GENERAL_NAME_num(gn);
	char **v = NULL;
	size_t k = 0;
	offca_rc rc = OFFCA_OK;

	if (cap == 0)
		return ut_err(OFFCA_E_USAGE, "est_sans_text: no room");
	buf[0] = '\0';
	if (n <= 0)
		return OFFCA_OK;
	if (n > 1024)
		return ut_err(OFFCA_E_TOO_BIG, "more than 1024 subjectAltNames");
	v = calloc((size_t)n, sizeof(*v));
	if (v == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int i = 0; i < n && rc == OFFCA_OK; i++) {
		char one[1100];

		rc = one_name(sk_GENERAL_NAME_value(gn, i), one, sizeof(one));
		if (rc == OFFCA_OK && (v[i] = strdup(one)) == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if (rc == OFFCA_OK) {
		qsort(v, (size_t)n, sizeof(*v), cmp_str);
		for (int i = 0; i < n && rc == OFFCA_OK; i++) {
			size_t l = strlen(v[i]);

			if (k + l + 2 > cap)
				rc = ut_err(OFFCA_E_TOO_BIG, "subjectAltNames longer than %zu bytes", cap);
			else {
				if (k > 0)
					buf[k++] = ',';
				memcpy(buf + k, v[i], l + 1);
				k += l;
			}
		}
	}
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (rc != OFFCA_OK)
		buf[0] = '\0';
	return rc;
}

offca_rc est_cert_sans_text(X509 *x, char *buf, size_t cap)
{
	int crit = 0;
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	offca_rc rc;

	if (gn == NULL && crit >= 0)
		return ut_err(OFFCA_E_PARSE, "certificate subjectAltName extension is malformed");
	rc = est_sans_text(gn, buf, cap);
	GENERAL_NAMES_free(gn);
	return rc;
}

offca_rc est_spki_sha256(EVP_PKEY *key, unsigned char out[32])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);

	if (n <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "encoding a public key");
	SHA256(der, (size_t)n, out);
	OPENSSL_free(der);
	return OFFCA_OK;
}

offca_rc est_cert_sha256_hex(X509 *x, char hex[65])
{
	unsigned char md[32];
	unsigned int ml = 0;

	if (!X509_digest(x, EVP_sha256(), md, &ml) || ml != 32)
		return ut_err_ssl(OFFCA_E_CRYPTO, "hashing a certificate");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return OFFCA_OK;
}

offca_rc est_fp_parse(const char *text, unsigned char out[32])
{
	size_t k = 0;

	for (const char *p = text; *p; p++) {
		int hi;

		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || k >= 64)
			return ut_err(OFFCA_E_PARSE, "fingerprint must be 64 hex digits (SHA-256), colons allowed");
		hi = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
		if (k % 2 == 0)
			out[k / 2] = (unsigned char)(hi << 4);
		else
			out[k / 2] |= (unsigned char)hi;
		k++;
	}
	if (k != 64)
		return ut_err(OFFCA_E_PARSE, "fingerprint must be 64 hex digits (SHA-256), colons allowed");
	return OFFCA_OK;
}
