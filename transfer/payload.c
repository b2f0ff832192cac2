/* payload.c - the payload types carried by QR frames: detection, PEM to DER, checks, PEM out. */
#include "offca/payload.h"
#include "offca/bundle.h"
#include "offca/csr.h"
#include "offca/util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *ur;
} TYPES[XFR_PL__COUNT] = {
	{"csr", "offca-csr"},   {"cert", "offca-cert"},     {"chain", "offca-chain"},
	{"crl", "offca-crl"},   {"bundle", "offca-bundle"}, {"bytes", "bytes"},
};

const char *xfr_payload_name(xfr_payload_type t)
{
	return (unsigned)t < XFR_PL__COUNT ? TYPES[t].name : "?";
}

const char *xfr_payload_ur_type(xfr_payload_type t)
{
	return (unsigned)t < XFR_PL__COUNT ? TYPES[t].ur : "?";
}

offca_rc xfr_payload_type_parse(const char *name, xfr_payload_type *out)
{
	for (int i = 0; i < XFR_PL__COUNT; i++) {
		if (strcmp(name, TYPES[i].name) == 0 || strcmp(name, TYPES[i].ur) == 0 ||
		    (i == XFR_PL_CERT && strcmp(name, "certificate") == 0)) {
			*out = (xfr_payload_type)i;
			return OFFCA_OK;
		}
	}
	return ut_err(OFFCA_E_USAGE, "unknown payload type '%s' (csr, cert, chain, crl, bundle, bytes)", name);
}

offca_rc xfr_payload_type_from_ur(const char *ur_type, xfr_payload_type *out)
{
	for (int i = 0; i < XFR_PL__COUNT; i++) {
		if (strcmp(ur_type, TYPES[i].ur) == 0) {
			*out = (xfr_payload_type)i;
			return OFFCA_OK;
		}
	}
	return ut_err(OFFCA_E_PARSE, "frames carry 'ur:%s', which is not an offca payload type", ur_type);
}

/* Count DER certificates filling p exactly; -1 when p is not a whole sequence of them. */
static int count_certs(const unsigned char *p, size_t len)
{
	const unsigned char *c = p, *end = p + len;
	int n = 0;

	while (c < end) {
		X509 *x = d2i_X509(NULL, &c, (long)(end - c));

		if (x == NULL || n >= (int)XFR_PAYLOAD_MAX_CHAIN) {
			X509_free(x);
			ERR_clear_error();
			return -1;
		}
		X509_free(x);
		n++;
	}
	return n;
}

static int is_der_csr(const unsigned char *p, size_t len)
{
	const unsigned char *c = p;
	X509_REQ *r = d2i_X509_REQ(NULL, &c, (long)len);
	int ok = r != NULL && c == p + len;

	X509_REQ_free(r);
	ERR_clear_error();
	return ok;
}

static int is_der_crl(const unsigned char *p, size_t len)
{
	const unsigned char *c = p;
	X509_CRL *r = d2i_X509_CRL(NULL, &c, (long)len);
	int ok = r != NULL && c == p + len;

	X509_CRL_free(r);
	ERR_clear_error();
	return ok;
}

static int has_bundle_magic(const unsigned char *p, size_t len)
{
	return len >= XFR_BUNDLE_MAGIC_LEN && memcmp(p, XFR_BUNDLE_MAGIC, XFR_BUNDLE_MAGIC_LEN) == 0;
}

offca_rc xfr_payload_check(xfr_payload_type t, const unsigned char *p, size_t len)
{
	offca_rc rc;
	ca_csr *csr = NULL;
	const unsigned char *der;
	size_t dlen;
	int n;

	if (len == 0)
		return ut_err(OFFCA_E_PARSE, "%s payload is empty", xfr_payload_name(t));
	if (len > XFR_PAYLOAD_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "%s payload of %zu bytes exceeds the maximum of %u", xfr_payload_name(t),
			      len, XFR_PAYLOAD_MAX);
	switch (t) {
	case XFR_PL_CSR:
		if (p[0] != 0x30)
			return ut_err(OFFCA_E_PARSE, "csr payload is not DER");
		rc = ca_csr_parse(p, len, &csr);
		if (rc != OFFCA_OK)
			return rc;
		der = ca_csr_der(csr, &dlen);
		rc = dlen == len && memcmp(der, p, len) == 0
			     ? OFFCA_OK
			     : ut_err(OFFCA_E_PARSE, "csr payload is not in canonical DER");
		ca_csr_free(csr);
		return rc;
	case XFR_PL_CERT:
	case XFR_PL_CHAIN:
		n = count_certs(p, len);
		if (n < 1)
			return ut_err(OFFCA_E_PARSE, "%s payload is not a sequence of 1..%u DER certificates",
				      xfr_payload_name(t), XFR_PAYLOAD_MAX_CHAIN);
		if (t == XFR_PL_CERT && n != 1)
			return ut_err(OFFCA_E_PARSE, "cert payload holds %d certificates (use type chain)", n);
		return OFFCA_OK;
	case XFR_PL_CRL:
		return is_der_crl(p, len) ? OFFCA_OK : ut_err(OFFCA_E_PARSE, "crl payload is not one DER CRL");
	case XFR_PL_BUNDLE:
		return has_bundle_magic(p, len) ? OFFCA_OK
						: ut_err(OFFCA_E_PARSE, "bundle payload does not start with the bundle magic line");
	case XFR_PL_BYTES:
		return OFFCA_OK;
	default:
		return ut_err(OFFCA_E_USAGE, "unknown payload type %d", (int)t);
	}
}

/* first occurrence of needle in hay (memmem is a GNU extension) */
static const unsigned char *find(const void *hay, size_t hlen, const char *needle, size_t nlen)
{
	const unsigned char *h = hay;

	for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (h[i] == (unsigned char)needle[0] && memcmp(h + i, needle, nlen) == 0)
			return h + i;
	return NULL;
}

static int is_pem(const unsigned char *p, size_t len)
{
	return find(p, len, "-----BEGIN ", 11) != NULL;
}

static int pem_has(const unsigned char *p, size_t len, const char *label)
{
	char l[64];
	int w = snprintf(l, sizeof(l), "-----BEGIN %s-----", label);

	return w > 0 && (size_t)w < sizeof(l) && find(p, len, l, (size_t)w) != NULL;
}

/* Append the DER of x to *buf. */
static offca_rc append_der(unsigned char **buf, size_t *len, const unsigned char *der, int dl)
{
	unsigned char *nb;

	if (dl <= 0)
		return ut_err_ssl(OFFCA_E_PARSE, "cannot encode certificate");
	if (*len + (size_t)dl > XFR_PAYLOAD_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "payload exceeds the maximum of %u bytes", XFR_PAYLOAD_MAX);
	nb = realloc(*buf, *len + (size_t)dl);
	if (nb == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(nb + *len, der, (size_t)dl);
	*buf = nb;
	*len += (size_t)dl;
	return OFFCA_OK;
}

/* PEM certificates (or one CRL) -> concatenated DER */
static offca_rc pem_to_der(int crl, const unsigned char *in, size_t len, unsigned char **out, size_t *outlen)
{
	offca_rc rc = OFFCA_OK;
	BIO *b = BIO_new_mem_buf(in, (int)len);
	unsigned char *der = NULL;
	int n = 0, dl;

	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	while (rc == OFFCA_OK) {
		X509 *x = NULL;
		X509_CRL *c = NULL;

		if (crl)
			c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		else
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (x == NULL && c == NULL)
			break;
		der = NULL;
		dl = crl ? i2d_X509_CRL(c, &der) : i2d_X509(x, &der);
		rc = append_der(out, outlen, der, dl);
		OPENSSL_free(der);
		X509_free(x);
		X509_CRL_free(c);
		n++;
		if (crl)
			break;
		if (n > (int)XFR_PAYLOAD_MAX_CHAIN)
			rc = ut_err(OFFCA_E_TOO_BIG, "more than %u certificates", XFR_PAYLOAD_MAX_CHAIN);
	}
	ERR_clear_error();
	BIO_free(b);
	if (rc == OFFCA_OK && n == 0)
		rc = ut_err(OFFCA_E_PARSE, "no PEM %s found", crl ? "CRL" : "certificate");
	return rc;
}

static int pem_count_certs(const unsigned char *p, size_t len)
{
	static const char B[] = "-----BEGIN CERTIFICATE-----";
	const unsigned char *c = p, *end = p + len, *hit;
	int n = 0;

	for (hit = find(c, (size_t)(end - c), B, sizeof(B) - 1); hit != NULL;
	     hit = find(c, (size_t)(end - c), B, sizeof(B) - 1)) {
		n++;
		c = hit + sizeof(B) - 1;
	}
	return n;
}

static offca_rc detect(const unsigned char *in, size_t len, xfr_payload_type *t)
{
	int n = -1;

	if (!has_bundle_magic(in, len) && !is_pem(in, len) && !is_der_csr(in, len))
		n = count_certs(in, len);
	if (has_bundle_magic(in, len)) {
		*t = XFR_PL_BUNDLE;
	} else if (is_pem(in, len)) {
		if (pem_has(in, len, "CERTIFICATE REQUEST") || pem_has(in, len, "NEW CERTIFICATE REQUEST"))
			*t = XFR_PL_CSR;
		else if (pem_has(in, len, "X509 CRL"))
			*t = XFR_PL_CRL;
		else if (pem_has(in, len, "CERTIFICATE"))
			*t = pem_count_certs(in, len) > 1 ? XFR_PL_CHAIN : XFR_PL_CERT;
		else
			return ut_err(OFFCA_E_PARSE, "PEM input is not a CSR, certificate or CRL (pass --type)");
	} else if (is_der_csr(in, len)) {
		*t = XFR_PL_CSR;
	} else if (n >= 1) {
		*t = n == 1 ? XFR_PL_CERT : XFR_PL_CHAIN;
	} else if (is_der_crl(in, len)) {
		*t = XFR_PL_CRL;
	} else {
		return ut_err(OFFCA_E_PARSE, "input is not a CSR, certificate, chain, CRL or bundle "
					     "(use --type bytes to send opaque bytes)");
	}
	return OFFCA_OK;
}

offca_rc xfr_payload_prepare(const unsigned char *in, size_t len, const xfr_payload_type *want,
			     xfr_payload_type *type, unsigned char **out, size_t *outlen)
{
	offca_rc rc;
	xfr_payload_type t;
	ca_csr *csr = NULL;
	unsigned char *buf = NULL;
	size_t blen = 0;
	const unsigned char *der;
	size_t dlen;

	*out = NULL;
	*outlen = 0;
	if (len == 0)
		return ut_err(OFFCA_E_PARSE, "input is empty");
	if (len > XFR_PAYLOAD_MAX + 4u * 1024u * 1024u)
		return ut_err(OFFCA_E_TOO_BIG, "input of %zu bytes is too large for QR transfer", len);
	t = want != NULL ? *want : XFR_PL_BYTES;
	if (want == NULL) {
		rc = detect(in, len, &t);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (t == XFR_PL_CSR) {
		rc = ca_csr_parse(in, len, &csr);
		if (rc != OFFCA_OK)
			goto out;
		der = ca_csr_der(csr, &dlen);
		rc = append_der(&buf, &blen, der, (int)dlen);
	} else if ((t == XFR_PL_CERT || t == XFR_PL_CHAIN || t == XFR_PL_CRL) && is_pem(in, len)) {
		rc = pem_to_der(t == XFR_PL_CRL, in, len, &buf, &blen);
	} else {
		blen = len;
		buf = malloc(len);
		rc = buf != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
		if (buf != NULL)
			memcpy(buf, in, len);
	}
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_payload_check(t, buf, blen);
	if (rc != OFFCA_OK)
		goto out;
	*type = t;
	*out = buf;
	*outlen = blen;
	buf = NULL;
out:
	ca_csr_free(csr);
	free(buf);
	return rc;
}

static offca_rc bio_text(BIO *b, char **pem, size_t *pemlen)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return ut_err_ssl(OFFCA_E_INTERNAL, "PEM encoding failed");
	*pem = malloc((size_t)n + 1);
	if (*pem == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*pemlen = (size_t)n;
	return OFFCA_OK;
}

offca_rc xfr_payload_pem(xfr_payload_type t, const unsigned char *p, size_t len, char **pem, size_t *pemlen)
{
	offca_rc rc;
	BIO *b = NULL;
	const unsigned char *c = p, *end = p + len;
	int ok = 1;

	*pem = NULL;
	*pemlen = 0;
	if (t == XFR_PL_BUNDLE || t == XFR_PL_BYTES)
		return ut_err(OFFCA_E_USAGE, "%s payloads have no PEM form", xfr_payload_name(t));
	rc = xfr_payload_check(t, p, len);
	if (rc != OFFCA_OK)
		return rc;
	b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	while (ok && c < end) {
		if (t == XFR_PL_CSR) {
			X509_REQ *r = d2i_X509_REQ(NULL, &c, (long)(end - c));

			ok = r != NULL && PEM_write_bio_X509_REQ(b, r) == 1;
			X509_REQ_free(r);
		} else if (t == XFR_PL_CRL) {
			X509_CRL *r = d2i_X509_CRL(NULL, &c, (long)(end - c));

			ok = r != NULL && PEM_write_bio_X509_CRL(b, r) == 1;
			X509_CRL_free(r);
		} else {
			X509 *x = d2i_X509(NULL, &c, (long)(end - c));

			ok = x != NULL && PEM_write_bio_X509(b, x) == 1;
			X509_free(x);
		}
	}
	rc = ok ? bio_text(b, pem, pemlen) : ut_err_ssl(OFFCA_E_PARSE, "cannot convert the payload to PEM");
	BIO_free(b);
	return rc;
}
