/* bundle_item.c - item types: names, guessing from content, strict content checks, safe names. */
#include "bundle_int.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "offca/csr.h"
#include "offca/util.h"

static const char *const type_names[XFR_ITEM__COUNT] = {
	[XFR_ITEM_CSR] = "csr",       [XFR_ITEM_CERT] = "certificate", [XFR_ITEM_CHAIN] = "chain",
	[XFR_ITEM_CRL] = "crl",       [XFR_ITEM_OCSP] = "ocsp",        [XFR_ITEM_TRANSCRIPT] = "transcript",
	[XFR_ITEM_OTHER] = "other",
};

const char *xfr_item_type_name(xfr_item_type t)
{
	if ((int)t < 0 || t >= XFR_ITEM__COUNT)
		return "?";
	return type_names[t];
}

offca_rc xfr_item_type_parse(const char *name, xfr_item_type *out)
{
	for (int i = 0; i < XFR_ITEM__COUNT; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (xfr_item_type)i;
			return OFFCA_OK;
		}
	}
	if (strcmp(name, "cert") == 0) {
		*out = XFR_ITEM_CERT;
		return OFFCA_OK;
	}
	return ut_err(OFFCA_E_USAGE, "unknown item type '%.40s' (csr, certificate, chain, crl, ocsp, "
		      "transcript, other)", name);
}

const char *xfr_direction_name(xfr_direction d)
{
	return d == XFR_DIR_OUT ? "out" : "in";
}

offca_rc xfr_direction_parse(const char *name, xfr_direction *out)
{
	if (strcmp(name, "in") == 0)
		*out = XFR_DIR_IN;
	else if (strcmp(name, "out") == 0)
		*out = XFR_DIR_OUT;
	else
		return ut_err(OFFCA_E_USAGE, "direction must be 'in' or 'out', not '%.20s'", name);
	return OFFCA_OK;
}

/* ---- decoding PEM (every object) or DER (one object) ---- */

#define MAX_OBJS (XFR_MAX_CERTS + 1)

struct objs {
	size_t n;
	int pem;
	char *label[MAX_OBJS];        /* PEM label; NULL for DER */
	unsigned char *der[MAX_OBJS]; /* OPENSSL_malloc'd for PEM, borrowed for DER */
	long len[MAX_OBJS];
};

static void objs_clear(struct objs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		OPENSSL_free(o->label[i]);
		if (o->pem)
			OPENSSL_free(o->der[i]);
	}
	memset(o, 0, sizeof(*o));
}

static int looks_der(const unsigned char *data, size_t len)
{
	return len >= 2 && data[0] == 0x30;
}

/* Decode every PEM object (at most MAX_OBJS) or take data as one DER object. */
static offca_rc objs_decode(const unsigned char *data, size_t len, struct objs *o)
{
	offca_rc rc = OFFCA_E_PARSE;
	BIO *bio = NULL;
	char *hdr = NULL;
	unsigned long e;

	memset(o, 0, sizeof(*o));
	if (len > XFR_MAX_ITEM || len > INT32_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "item of %zu bytes is larger than %u", len, XFR_MAX_ITEM);
	if (looks_der(data, len)) {
		o->der[0] = (unsigned char *)data;
		o->len[0] = (long)len;
		o->n = 1;
		return OFFCA_OK;
	}
	o->pem = 1;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	ERR_clear_error();
	for (;;) {
		char *label = NULL;
		unsigned char *der = NULL;
		long dlen = 0;

		if (PEM_read_bio(bio, &label, &hdr, &der, &dlen) != 1)
			break;
		OPENSSL_free(hdr);
		hdr = NULL;
		if (o->n == MAX_OBJS) {
			OPENSSL_free(label);
			OPENSSL_free(der);
			rc = ut_err(OFFCA_E_TOO_BIG, "more than %u PEM objects in one item", (unsigned)XFR_MAX_CERTS);
			goto out;
		}
		o->label[o->n] = label;
		o->der[o->n] = der;
		o->len[o->n] = dlen;
		o->n++;
	}
	e = ERR_peek_last_error();
	if (o->n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "neither DER nor well-formed PEM");
		goto out;
	}
	ERR_clear_error();
	rc = OFFCA_OK;
out:
	BIO_free(bio);
	if (rc != OFFCA_OK)
		objs_clear(o);
	return rc;
}

static int label_is(const struct objs *o, size_t i, const char *want)
{
	return !o->pem || (o->label[i] != NULL && strcmp(o->label[i], want) == 0);
}

static int label_is_csr(const struct objs *o, size_t i)
{
	return label_is(o, i, "CERTIFICATE REQUEST") || label_is(o, i, "NEW CERTIFICATE REQUEST");
}

/* Does der parse as one it (X509, X509_REQ, ...) that consumes exactly len bytes (no trailing bytes)?
   On failure OpenSSL's reason stays on its error queue for ut_err_ssl(). */
static int parses_exactly(const ASN1_ITEM *it, const unsigned char *der, long len)
{
	const unsigned char *p = der;
	ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, len, it);
	int ok = v != NULL && p == der + len;

	ASN1_item_free(v, it);
	return ok;
}

xfr_item_type xfr_item_type_guess(const unsigned char *data, size_t len)
{
	xfr_item_type t = XFR_ITEM_OTHER;
	/* DER: the first type the object parses as, exactly */
	const struct {
		const ASN1_ITEM *it;
		xfr_item_type type;
	} der_types[] = {
		{ASN1_ITEM_rptr(X509), XFR_ITEM_CERT},
		{ASN1_ITEM_rptr(X509_REQ), XFR_ITEM_CSR},
		{ASN1_ITEM_rptr(X509_CRL), XFR_ITEM_CRL},
		{ASN1_ITEM_rptr(OCSP_RESPONSE), XFR_ITEM_OCSP},
	};
	struct objs o;

	if (objs_decode(data, len, &o) != OFFCA_OK) {
		ut_err_clear();
		return XFR_ITEM_OTHER;
	}
	if (o.pem) {
		if (label_is_csr(&o, 0))
			t = XFR_ITEM_CSR;
		else if (label_is(&o, 0, "CERTIFICATE"))
			t = o.n > 1 ? XFR_ITEM_CHAIN : XFR_ITEM_CERT;
		else if (label_is(&o, 0, "X509 CRL"))
			t = XFR_ITEM_CRL;
	} else {
		for (size_t i = 0; i < sizeof(der_types) / sizeof(der_types[0]); i++) {
			if (parses_exactly(der_types[i].it, o.der[0], o.len[0])) {
				t = der_types[i].type;
				break;
			}
		}
	}
	objs_clear(&o);
	ERR_clear_error();
	return t;
}

offca_rc xfr_csr_to_der(const unsigned char *data, size_t len, unsigned char **der, size_t *der_len)
{
	offca_rc rc;
	ca_csr *csr = NULL;
	const unsigned char *d;
	size_t n = 0;

	*der = NULL;
	*der_len = 0;
	/* the X.509 module's strict intake: one PEM block or canonical DER, v1, self-signature,
	   no duplicate or unknown critical extensions */
	rc = ca_csr_parse(data, len, &csr);
	if (rc != OFFCA_OK)
		return rc;
	d = ca_csr_der(csr, &n);
	*der = OPENSSL_memdup(d, n);
	if (*der == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	} else {
		*der_len = n;
		rc = OFFCA_OK;
	}
	ca_csr_free(csr);
	return rc;
}

static offca_rc check_certs(const struct objs *o, size_t min, size_t max, const char *what)
{
	if (o->n < min || o->n > max)
		return ut_err(OFFCA_E_PARSE, "%s: expected %zu..%zu certificates, found %zu objects", what, min,
			      max, o->n);
	for (size_t i = 0; i < o->n; i++) {
		if (!label_is(o, i, "CERTIFICATE"))
			return ut_err(OFFCA_E_PARSE, "%s: object %zu is not a CERTIFICATE", what, i + 1);
		if (!parses_exactly(ASN1_ITEM_rptr(X509), o->der[i], o->len[i]))
			return ut_err_ssl(OFFCA_E_PARSE, "%s: object %zu is not a valid certificate", what, i + 1);
	}
	return OFFCA_OK;
}

offca_rc xfr_item_check(xfr_item_type type, const unsigned char *data, size_t len)
{
	offca_rc rc = OFFCA_OK;
	struct objs o;
	unsigned char *der = NULL;
	size_t dlen = 0;

	if (len > XFR_MAX_ITEM)
		return ut_err(OFFCA_E_TOO_BIG, "item of %zu bytes is larger than %u", len, XFR_MAX_ITEM);
	switch (type) {
	case XFR_ITEM_CSR:
		rc = xfr_csr_to_der(data, len, &der, &dlen);
		OPENSSL_free(der);
		return rc;
	case XFR_ITEM_TRANSCRIPT:
	case XFR_ITEM_OTHER:
		return OFFCA_OK;
	case XFR_ITEM_OCSP:
		if (!parses_exactly(ASN1_ITEM_rptr(OCSP_RESPONSE), data, (long)len))
			return ut_err_ssl(OFFCA_E_PARSE, "not a DER OCSP response");
		return OFFCA_OK;
	default:
		break;
	}
	rc = objs_decode(data, len, &o);
	if (rc != OFFCA_OK)
		return rc;
	if (type == XFR_ITEM_CERT) {
		rc = check_certs(&o, 1, 1, "certificate");
	} else if (type == XFR_ITEM_CHAIN) {
		rc = check_certs(&o, 1, XFR_MAX_CERTS, "chain");
	} else if (type == XFR_ITEM_CRL) {
		if (o.n != 1 || !label_is(&o, 0, "X509 CRL")) {
			rc = ut_err(OFFCA_E_PARSE, "crl: expected one X509 CRL");
		} else {
			if (!parses_exactly(ASN1_ITEM_rptr(X509_CRL), o.der[0], o.len[0]))
				rc = ut_err_ssl(OFFCA_E_PARSE, "crl: not a valid CRL");
		}
	} else {
		rc = ut_err(OFFCA_E_INTERNAL, "unknown item type %d", (int)type);
	}
	objs_clear(&o);
	return rc;
}

/* ---- names ---- */

static int name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-' || c == '+';
}

void xfr_name_sanitize(const char *in, char *out)
{
	const char *base = in, *p;
	size_t n = 0;

	for (p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	while (*base == '.')
		base++;
	for (p = base; *p != '\0' && n < XFR_MAX_NAME; p++)
		out[n++] = name_char_ok((unsigned char)*p) ? *p : '_';
	out[n] = '\0';
	if (n == 0)
		snprintf(out, XFR_MAX_NAME + 1, "item");
}

int xfr_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > XFR_MAX_NAME || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok((unsigned char)name[i]))
			return 0;
	return 1;
}
