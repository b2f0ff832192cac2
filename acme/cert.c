/* cert.c - CSRs, chains and names (see cert.h). */
#define _GNU_SOURCE /* memmem */
#include "cert.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "offca/csr.h"
#include "offca/util.h"

void acme_names_clear(struct acme_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static int name_valid(const char *s)
{
	size_t len = strlen(s), ll = 0;

	if (strncmp(s, "*.", 2) == 0)
		s += 2, len -= 2;
	if (len == 0 || len > ACME_MAX_DNS_NAME || s[0] == '.' || s[len - 1] == '.' || strchr(s, '.') == NULL)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (ll == 0 || p[-1] == '-')
				return 0;
			ll = 0;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || (*p == '-' && ll > 0)) || ++ll > 63)
			return 0;
	}
	return 1;
}

offca_rc acme_names_add(struct acme_names *l, const char *name)
{
	char *s;

	if (!name_valid(name))
		return ut_err(OFFCA_E_USAGE, "%s is not a valid DNS name (or wildcard *.name)", name);
	s = strdup(name);
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0) {
			free(s);
			return OFFCA_OK;
		}
	if (l->n >= ACME_MAX_NAMES) {
		free(s);
		return ut_err(OFFCA_E_TOO_BIG, "more than %d names", ACME_MAX_NAMES);
	}
	l->v[l->n++] = s;
	return OFFCA_OK;
}

static offca_rc collect_names(X509_REQ *req, struct acme_names *names)
{
	offca_rc rc = OFFCA_OK;
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *gens = NULL;
	X509_NAME *subj = X509_REQ_get_subject_name(req);
	char cn[256];
	int idx;

	gens = exts != NULL ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && rc == OFFCA_OK; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
		int l = ASN1_STRING_length(g->d.dNSName);
		if (l <= 0 || (size_t)l >= sizeof(cn) || memchr(d, 0, (size_t)l) != NULL) {
			rc = ut_err(OFFCA_E_PARSE, "CSR: malformed dNSName");
			break;
		}
		memcpy(cn, d, (size_t)l);
		cn[l] = '\0';
		rc = acme_names_add(names, cn);
	}
	idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (rc == OFFCA_OK && idx >= 0 && X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) > 0 &&
	    name_valid(cn))
		rc = acme_names_add(names, cn);
	if (rc == OFFCA_OK && names->n == 0)
		rc = ut_err(OFFCA_E_USAGE, "the CSR names no DNS name (subjectAltName dNSName or CN)");
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

offca_rc acme_csr_parse(const unsigned char *buf, size_t len, X509_REQ **req, struct acme_names *names)
{
	offca_rc rc;
	BIO *bio = NULL;
	X509_REQ *r = NULL;
	EVP_PKEY *pk;
	const unsigned char *p = buf;

	*req = NULL;
	if (len > 10 && memmem(buf, len, "-----BEGIN", 10) != NULL) {
		bio = BIO_new_mem_buf(buf, (int)len);
		r = bio != NULL ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	} else {
		r = d2i_X509_REQ(NULL, &p, (long)len);
	}
	if (r == NULL) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "not a PKCS#10 CSR (PEM or DER)");
		goto out;
	}
	pk = X509_REQ_get0_pubkey(r);
	if (pk == NULL || X509_REQ_verify(r, pk) != 1) {
		rc = ut_err_ssl(OFFCA_E_VERIFY, "the CSR's self-signature does not verify");
		goto out;
	}
	rc = collect_names(r, names);
	if (rc != OFFCA_OK)
		goto out;
	*req = r;
	r = NULL;
out:
	X509_REQ_free(r);
	BIO_free(bio);
	return rc;
}

offca_rc acme_csr_load(const char *path, X509_REQ **req, struct acme_names *names)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;
	ca_csr *strict = NULL;

	*req = NULL;
	rc = ut_read_file(path, UT_MAX_CSR_FILE, 0, &buf, &len);
	/* core's strict PKCS#10 intake first (canonical DER, one PEM block, v1, signature, no
	 * duplicate or unknown critical extensions): the CSR crossed a trust boundary */
	if (rc == OFFCA_OK)
		rc = ca_csr_parse(buf, len, &strict);
	ca_csr_free(strict);
	if (rc == OFFCA_OK) {
		rc = acme_csr_parse(buf, len, req, names);
		if (rc != OFFCA_OK) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", ut_err_msg());
			rc = ut_err(rc, "%s: %s", path, msg);
		}
	}
	free(buf);
	return rc;
}

offca_rc acme_csr_for_key(const struct acme_names *names, EVP_PKEY *k, X509_REQ **req)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	X509_REQ *r = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;

	*req = NULL;
	if (names->n == 0)
		return ut_err(OFFCA_E_USAGE, "a CSR needs at least one name");
	r = X509_REQ_new();
	gens = GENERAL_NAMES_new();
	exts = sk_X509_EXTENSION_new_null();
	if (r == NULL || gens == NULL || exts == NULL)
		goto ssl;
	if (strlen(names->v[0]) <= 64 &&
	    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(r), NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)names->v[0], -1, -1, 0) != 1)
		goto ssl;
	for (size_t i = 0; i < names->n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		if (g == NULL || s == NULL || ASN1_STRING_set(s, names->v[i], -1) != 1) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			goto ssl;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		if (sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			goto ssl;
		}
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0)
		goto ssl;
	ext = NULL;
	if (X509_REQ_set_version(r, 0) != 1 || X509_REQ_set_pubkey(r, k) != 1 || X509_REQ_add_extensions(r, exts) != 1 ||
	    X509_REQ_sign(r, k, EVP_sha256()) <= 0)
		goto ssl;
	*req = r;
	r = NULL;
	rc = OFFCA_OK;
	goto out;
ssl:
	rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the CSR");
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(r);
	return rc;
}

offca_rc acme_csr_generate(const struct acme_names *names, const char *key_type, EVP_PKEY **key, X509_REQ **req)
{
	EVP_PKEY *k = NULL;
	offca_rc rc;

	*key = NULL;
	*req = NULL;
	rc = acme_key_generate(key_type != NULL ? key_type : "ec", &k);
	if (rc == OFFCA_OK)
		rc = acme_csr_for_key(names, k, req);
	if (rc == OFFCA_OK)
		*key = k;
	else
		EVP_PKEY_free(k);
	return rc;
}

offca_rc acme_csr_der(X509_REQ *req, unsigned char **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509_REQ(req, &p);

	*der = NULL;
	*len = 0;
	if (n <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the CSR");
	*der = p;
	*len = (size_t)n;
	return OFFCA_OK;
}

static offca_rc bio_string(BIO *bio, char **out, size_t *len)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	*out = malloc(n > 0 ? (size_t)n + 1 : 1);
	if (*out == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (n > 0)
		memcpy(*out, data, (size_t)n);
	(*out)[n > 0 ? n : 0] = '\0';
	if (len != NULL)
		*len = n > 0 ? (size_t)n : 0;
	return OFFCA_OK;
}

offca_rc acme_csr_pem(X509_REQ *req, char **pem, size_t *len)
{
	offca_rc rc;
	BIO *bio = BIO_new(BIO_s_mem());

	*pem = NULL;
	if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the CSR");
	else
		rc = bio_string(bio, pem, len);
	BIO_free(bio);
	return rc;
}

offca_rc acme_chain_split(const char *pem, size_t len, X509 **leaf, char **cert_pem, char **chain_pem)
{
	offca_rc rc = OFFCA_E_PARSE;
	BIO *in = NULL, *a = NULL, *b = NULL;
	X509 *x = NULL, *first = NULL;
	int count = 0;

	*leaf = NULL;
	*cert_pem = NULL;
	*chain_pem = NULL;
	if (len > ACME_MAX_CHAIN)
		return ut_err(OFFCA_E_TOO_BIG, "certificate chain larger than %u bytes", ACME_MAX_CHAIN);
	in = BIO_new_mem_buf(pem, (int)len);
	a = BIO_new(BIO_s_mem());
	b = BIO_new(BIO_s_mem());
	if (in == NULL || a == NULL || b == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (PEM_write_bio_X509(count == 0 ? a : b, x) != 1) {
			rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode a certificate");
			goto out;
		}
		if (count++ == 0)
			first = x;
		else
			X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	if (first == NULL) {
		rc = ut_err(OFFCA_E_PROTOCOL, "the CA sent no PEM certificate");
		goto out;
	}
	rc = bio_string(a, cert_pem, NULL);
	if (rc == OFFCA_OK)
		rc = bio_string(b, chain_pem, NULL);
	if (rc != OFFCA_OK)
		goto out;
	*leaf = first;
	first = NULL;
out:
	if (rc != OFFCA_OK) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	X509_free(first);
	BIO_free(in);
	BIO_free(a);
	BIO_free(b);
	return rc;
}

offca_rc acme_chain_top_issuer(const char *pem, size_t len, char *buf, size_t cap)
{
	BIO *in = BIO_new_mem_buf(pem, (int)len);
	X509 *x, *last = NULL;

	buf[0] = '\0';
	if (in == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		X509_free(last);
		last = x;
	}
	ERR_clear_error();
	if (last != NULL)
		X509_NAME_get_text_by_NID(X509_get_issuer_name(last), NID_commonName, buf, (int)cap);
	X509_free(last);
	BIO_free(in);
	return OFFCA_OK;
}

offca_rc acme_cert_matches_csr(X509 *cert, X509_REQ *req)
{
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), X509_REQ_get0_pubkey(req)) != 1)
		return ut_err(OFFCA_E_VERIFY, "the CA's certificate does not carry the CSR's public key");
	return OFFCA_OK;
}

offca_rc acme_cert_times(X509 *cert, time_t *nb, time_t *na)
{
	struct tm t;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &t) != 1)
		return ut_err(OFFCA_E_PARSE, "bad notBefore");
	*nb = timegm(&t);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t) != 1)
		return ut_err(OFFCA_E_PARSE, "bad notAfter");
	*na = timegm(&t);
	return OFFCA_OK;
}

char *acme_cert_serial_hex(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *h = bn != NULL ? BN_bn2hex(bn) : NULL, *out = NULL;

	if (h != NULL) {
		out = strdup(h);
		for (char *p = out; out != NULL && *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	OPENSSL_free(h);
	BN_free(bn);
	return out;
}

offca_rc acme_cert_load(const char *path, X509 **out)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	const unsigned char *p;

	*out = NULL;
	rc = ut_read_file(path, UT_MAX_CERT_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		bio = BIO_new_mem_buf(buf, (int)len);
		*out = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	} else {
		p = buf;
		*out = d2i_X509(NULL, &p, (long)len);
	}
	if (*out == NULL)
		rc = ut_err_ssl(OFFCA_E_PARSE, "%s: not a certificate (PEM or DER)", path);
	BIO_free(bio);
	free(buf);
	return rc;
}
