/* csr.c - strict PKCS#10 intake: PEM/DER detection, canonical DER, version, signature, extensions. */
#include "csr_int.h"
#include "offca/util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

struct ca_csr {
	X509_REQ *req;
	EVP_PKEY *pub; /* decoded here: the X509_REQ itself holds the key bits only */
	unsigned char *der;
	size_t der_len;
	GENERAL_NAMES *sans;
	int keytool_label;
};

#define LABEL_CSR     "CERTIFICATE REQUEST"
#define LABEL_NEW_CSR "NEW CERTIFICATE REQUEST"

/* Requested extensions offca knows (and may ignore). Any other one marked critical is refused. */
static const int known_ext_nids[] = {
	NID_subject_alt_name, NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
	NID_subject_key_identifier, NID_certificate_policies, NID_tlsfeature,
};

void ca_csr_free(ca_csr *csr)
{
	if (csr == NULL)
		return;
	X509_REQ_free(csr->req);
	EVP_PKEY_free(csr->pub);
	OPENSSL_free(csr->der);
	GENERAL_NAMES_free(csr->sans);
	free(csr);
}

X509_REQ *ca_csr_req(const ca_csr *csr) { return csr->req; }
EVP_PKEY *ca_csr_pubkey(const ca_csr *csr) { return csr->pub; }
const GENERAL_NAMES *ca_csr_sans(const ca_csr *csr) { return csr->sans; }
int ca_csr_is_keytool_label(const ca_csr *csr) { return csr->keytool_label; }

const unsigned char *ca_csr_der(const ca_csr *csr, size_t *len)
{
	*len = csr->der_len;
	return csr->der;
}

/* ERR_clear_error() walks the whole queue; most calls find it empty. */
static void clear_errors(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

/* 1 when the unread rest of the memory BIO holds "-----BEGIN " anywhere (or cannot be seen).
   PEM_read_bio() only starts a block at a line (or line chunk) that begins with it, so without one
   it can only fail with PEM_R_NO_START_LINE: no need to run it, nor raise and clear its error. */
static int begin_line_follows(BIO *bio)
{
	static const char begin[] = "-----BEGIN ";
	const size_t blen = sizeof(begin) - 1;
	char *rest = NULL;
	long n = BIO_get_mem_data(bio, &rest);

	if (n < 0 || (n > 0 && rest == NULL))
		return 1;
	for (size_t i = 0; i + blen <= (size_t)n; i++)
		if (rest[i] == '-' && memcmp(rest + i, begin, blen) == 0)
			return 1;
	return 0;
}

/* Decode exactly one PEM block with a CSR label; text before it is allowed (certtool). */
static offca_rc pem_decode(const unsigned char *buf, size_t len, unsigned char **der, long *der_len,
			   int *keytool)
{
	offca_rc rc = OFFCA_E_PARSE;
	BIO *bio = NULL;
	char *name = NULL, *header = NULL, *name2 = NULL, *header2 = NULL;
	unsigned char *data = NULL, *data2 = NULL;
	long dlen = 0, dlen2 = 0;
	unsigned long e;

	*der = NULL;
	*der_len = 0;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory reading a CSR");
		goto out;
	}
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-pem: not a DER or PEM certificate request");
		goto out;
	}
	if (strcmp(name, LABEL_CSR) == 0) {
		*keytool = 0;
	} else if (strcmp(name, LABEL_NEW_CSR) == 0) {
		*keytool = 1;
	} else {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-pem: PEM label \"%s\" is not a certificate request",
			    name);
		goto out;
	}
	if (header != NULL && header[0] != '\0') {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-pem: PEM headers (encryption) are not allowed");
		goto out;
	}
	if (begin_line_follows(bio)) {
		if (PEM_read_bio(bio, &name2, &header2, &data2, &dlen2) == 1) {
			rc = ut_err(OFFCA_E_POLICY, "policy csr-pem-count: more than one PEM block (one request "
						    "per file)");
			goto out;
		}
		e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
			rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-pem: broken PEM after the request");
			goto out;
		}
	}
	*der = data;
	*der_len = dlen;
	data = NULL;
	rc = OFFCA_OK;
out:
	clear_errors();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	OPENSSL_free(name2);
	OPENSSL_free(header2);
	OPENSSL_free(data2);
	BIO_free(bio);
	return rc;
}

/* DER must be exactly the canonical encoding of what it decodes to. */
static offca_rc strict_der(const unsigned char *der, size_t len, X509_REQ **out)
{
	offca_rc rc = OFFCA_E_PARSE;
	const unsigned char *p = der;
	unsigned char *re = NULL;
	X509_REQ *req = NULL;
	OSSL_LIB_CTX *nokey_ctx;
	int n;

	*out = NULL;
	/* parsed without decoding the key (csr_key.c): the request's own key pointer stays NULL */
	nokey_ctx = csr_nokey_ctx();
	if (nokey_ctx == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "cannot set up OpenSSL to read a CSR");
		goto out;
	}
	req = (X509_REQ *)ASN1_item_d2i_ex(NULL, &p, (long)len, ASN1_ITEM_rptr(X509_REQ), nokey_ctx, NULL);
	if (req == NULL) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-der: not a DER certificate request");
		goto out;
	}
	if ((size_t)(p - der) != len) {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-der: %zu bytes of trailing data after the request",
			    len - (size_t)(p - der));
		goto out;
	}
	/* re-encode the signed part from the parsed fields (not the cached bytes), then the whole */
	if (i2d_re_X509_REQ_tbs(req, NULL) <= 0) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-der: cannot re-encode the request");
		goto out;
	}
	n = i2d_X509_REQ(req, &re);
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-der: cannot re-encode the request");
		goto out;
	}
	if ((size_t)n != len || memcmp(re, der, len) != 0) {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-der: not canonical DER (non-minimal or indefinite "
				     "lengths, or non-DER encodings)");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = OFFCA_OK;
out:
	OPENSSL_free(re);
	X509_REQ_free(req);
	return rc;
}

static int is_known_ext(int nid)
{
	for (size_t i = 0; i < sizeof(known_ext_nids) / sizeof(known_ext_nids[0]); i++)
		if (known_ext_nids[i] == nid)
			return 1;
	return 0;
}

static offca_rc ext_attr_count(X509_REQ *req)
{
	int count = 0, nids[2] = {NID_ext_req, NID_ms_ext_req};

	for (int k = 0; k < 2; k++) {
		int idx = -1;
		while ((idx = X509_REQ_get_attr_by_NID(req, nids[k], idx)) >= 0) {
			X509_ATTRIBUTE *a = X509_REQ_get_attr(req, idx);
			count++;
			if (X509_ATTRIBUTE_count(a) != 1)
				return ut_err(OFFCA_E_POLICY, "policy csr-duplicate-ext: the extensionRequest "
							      "attribute must hold exactly one value");
		}
	}
	if (count > 1)
		return ut_err(OFFCA_E_POLICY, "policy csr-duplicate-ext: %d extensionRequest attributes", count);
	return OFFCA_OK;
}

/* SAN extension value: decode and insist on canonical DER inside the OCTET STRING too. */
static offca_rc decode_san(X509_EXTENSION *ext, GENERAL_NAMES **out)
{
	offca_rc rc = OFFCA_E_PARSE;
	ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
	const unsigned char *p = ASN1_STRING_get0_data(os);
	long len = ASN1_STRING_length(os);
	const unsigned char *start = p;
	GENERAL_NAMES *gens = NULL;
	unsigned char *re = NULL;
	int n;

	*out = NULL;
	gens = d2i_GENERAL_NAMES(NULL, &p, len);
	if (gens == NULL || p - start != len) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-san: the subjectAltName request is not valid DER");
		goto out;
	}
	n = i2d_GENERAL_NAMES(gens, &re);
	if (n != len || memcmp(re, start, (size_t)len) != 0) {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-san: the subjectAltName request is not canonical DER");
		goto out;
	}
	*out = gens;
	gens = NULL;
	rc = OFFCA_OK;
out:
	OPENSSL_free(re);
	GENERAL_NAMES_free(gens);
	return rc;
}

static offca_rc check_extensions(ca_csr *csr)
{
	offca_rc rc;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	char oid[80];

	if ((rc = ext_attr_count(csr->req)) != OFFCA_OK)
		return rc;
	exts = X509_REQ_get_extensions(csr->req);
	if (exts == NULL) {
		if (X509_REQ_get_attr_by_NID(csr->req, NID_ext_req, -1) >= 0 ||
		    X509_REQ_get_attr_by_NID(csr->req, NID_ms_ext_req, -1) >= 0)
			return ut_err_ssl(OFFCA_E_PARSE, "policy csr-der: unreadable extensionRequest");
		clear_errors();
		return OFFCA_OK;
	}
	rc = OFFCA_OK;
	for (int i = 0; i < sk_X509_EXTENSION_num(exts) && rc == OFFCA_OK; i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
		int nid = OBJ_obj2nid(obj);

		OBJ_obj2txt(oid, sizeof(oid), obj, 0);
		for (int j = 0; j < i; j++)
			if (OBJ_cmp(obj, X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, j))) == 0)
				rc = ut_err(OFFCA_E_POLICY, "policy csr-duplicate-ext: extension %s requested twice",
					    oid);
		if (rc != OFFCA_OK)
			break;
		if (X509_EXTENSION_get_critical(ext) && !is_known_ext(nid)) {
			rc = ut_err(OFFCA_E_POLICY, "policy csr-critical-ext: unknown critical extension %s "
						    "requested", oid);
			break;
		}
		if (nid == NID_subject_alt_name)
			rc = decode_san(ext, &csr->sans);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

offca_rc ca_csr_parse(const unsigned char *buf, size_t len, ca_csr **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	ca_csr *csr = NULL;
	unsigned char *pem_der = NULL;
	long pem_len = 0;
	const unsigned char *der = buf;
	size_t der_len = len;
	int keytool = 0;

	*out = NULL;
	clear_errors();
	if (len > CA_CSR_MAX_INPUT) {
		rc = ut_err(OFFCA_E_TOO_BIG, "policy csr-size: %zu bytes is more than the %u allowed", len,
			    CA_CSR_MAX_INPUT);
		goto out;
	}
	if (len == 0) {
		rc = ut_err(OFFCA_E_PARSE, "policy csr-der: empty input");
		goto out;
	}
	/* DER: a SEQUENCE with a long-form length (every real CSR is over 127 bytes); anything else
	   is PEM, possibly with readable text first (a text starting with '0' is not DER) */
	if (!(len > 4 && buf[0] == 0x30 && buf[1] >= 0x81 && buf[1] <= 0x84)) {
		if ((rc = pem_decode(buf, len, &pem_der, &pem_len, &keytool)) != OFFCA_OK)
			goto out;
		der = pem_der;
		der_len = (size_t)pem_len;
	}
	if (der_len > CA_CSR_MAX_DER) {
		rc = ut_err(OFFCA_E_TOO_BIG, "policy csr-size: the request is %zu bytes, more than the %u "
					     "allowed", der_len, CA_CSR_MAX_DER);
		goto out;
	}
	csr = calloc(1, sizeof(*csr));
	if (csr == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory reading a CSR");
		goto out;
	}
	csr->keytool_label = keytool;
	if ((rc = strict_der(der, der_len, &csr->req)) != OFFCA_OK)
		goto out;
	if (X509_REQ_get_version(csr->req) != X509_REQ_VERSION_1) {
		rc = ut_err(OFFCA_E_POLICY, "policy csr-version: version %ld (only v1 = 0 exists)",
			    X509_REQ_get_version(csr->req));
		goto out;
	}
	if ((rc = csr_key_decode(csr->req, &csr->pub)) != OFFCA_OK)
		goto out;
	if ((rc = csr_sig_verify(csr->req, csr->pub, der, der_len)) != OFFCA_OK)
		goto out;
	if ((rc = check_extensions(csr)) != OFFCA_OK)
		goto out;
	if (pem_der != NULL) { /* the PEM's DER becomes the handle's: no copy */
		csr->der = pem_der;
		pem_der = NULL;
	} else {
		csr->der = OPENSSL_memdup(der, der_len);
	}
	if (csr->der == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory reading a CSR");
		goto out;
	}
	csr->der_len = der_len;
	*out = csr;
	csr = NULL;
	rc = OFFCA_OK;
out:
	clear_errors();
	OPENSSL_free(pem_der);
	ca_csr_free(csr);
	return rc;
}

offca_rc ca_csr_load(const char *path, ca_csr **out)
{
	offca_rc rc;
	unsigned char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	rc = ut_read_file(path, CA_CSR_MAX_INPUT, 1, &buf, &len);
	if (rc == OFFCA_E_TOO_BIG)
		return ut_err(rc, "%s: policy csr-size: more than %u bytes", path, CA_CSR_MAX_INPUT);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_csr_parse(buf, len, out);
	if (rc != OFFCA_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		ut_err(rc, "%s: %s", path, msg);
	}
	free(buf);
	return rc;
}
