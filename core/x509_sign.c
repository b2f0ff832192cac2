/* x509_sign.c - digest choice, signing and verifying certificates/CRLs, DER helpers, DN text. */
#include "offca/x509.h"
#include "offca/token.h"
#include "offca/util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const EVP_MD *ca_x509_digest_for(EVP_PKEY *key, int *ok)
{
	int id = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key);

	*ok = 1;
	switch (id) {
	case EVP_PKEY_RSA:
		return bits >= 4096 ? EVP_sha384() : EVP_sha256();
	case EVP_PKEY_EC:
		return bits >= 384 ? EVP_sha384() : EVP_sha256();
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return NULL;
	default:
		*ok = 0;
		return NULL;
	}
}

void ca_x509_sign_what(X509 *cert, char *buf, size_t cap)
{
	char subj[256] = "";
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	(void)ca_x509_name_text(X509_get_subject_name(cert), subj, sizeof(subj)); /* cut to fit is fine */
	snprintf(buf, cap, "the certificate for %s (serial %s)", subj[0] ? subj : "(empty subject)", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* One X509_sign as an operation of its own (tok_sign_guard): it holds its references. */
struct xsign {
	X509 *cert;
	X509_CRL *crl;
	EVP_PKEY *key;
	const EVP_MD *md;
};

static offca_rc xsign_run(void *p)
{
	struct xsign *a = p;

	ERR_clear_error();
	if (a->cert != NULL && X509_sign(a->cert, a->key, a->md) <= 0)
		return tok_err_sign("signing the certificate failed"); /* names a removed token, a refused PIN */
	if (a->crl != NULL && X509_CRL_sign(a->crl, a->key, a->md) <= 0)
		return tok_err_sign("signing the CRL failed");
	return OFFCA_OK;
}

static void xsign_release(void *p, int in_time)
{
	struct xsign *a = p;

	X509_free(a->cert);
	X509_CRL_free(a->crl);
	EVP_PKEY_free(a->key);
	free(a);
}

static offca_rc xsign(X509 *cert, X509_CRL *crl, EVP_PKEY *signer, const EVP_MD *md, const char *what)
{
	struct xsign *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if ((cert != NULL && X509_up_ref(cert) != 1) || (crl != NULL && X509_CRL_up_ref(crl) != 1) ||
	    EVP_PKEY_up_ref(signer) != 1) {
		free(a);
		return ut_err(OFFCA_E_INTERNAL, "cannot take a reference for signing");
	}
	a->cert = cert;
	a->crl = crl;
	a->key = signer;
	a->md = md;
	return tok_sign_guard(signer, what, xsign_run, xsign_release, a);
}

offca_rc ca_x509_sign(X509 *cert, EVP_PKEY *signer)
{
	int ok;
	const EVP_MD *md = ca_x509_digest_for(signer, &ok);
	char what[384] = "";

	if (!ok)
		return ut_err(OFFCA_E_UNSUPPORTED, "cannot sign with a %s key", OBJ_nid2sn(EVP_PKEY_get_base_id(signer)));
	if (tok_touch_wanted(signer))
		ca_x509_sign_what(cert, what, sizeof(what));
	return xsign(cert, NULL, signer, md, what);
}

offca_rc ca_x509_verify(X509 *cert, EVP_PKEY *pub)
{
	ERR_clear_error();
	if (X509_verify(cert, pub) != 1)
		return ut_err_ssl(OFFCA_E_VERIFY, "the new certificate's signature does not verify with the "
						  "issuer's public key");
	return OFFCA_OK;
}

offca_rc ca_x509_sign_crl(X509_CRL *crl, EVP_PKEY *signer)
{
	int ok;
	const EVP_MD *md = ca_x509_digest_for(signer, &ok);

	char what[320] = "", iss[256] = "";

	if (!ok)
		return ut_err(OFFCA_E_UNSUPPORTED, "cannot sign with a %s key", OBJ_nid2sn(EVP_PKEY_get_base_id(signer)));
	if (tok_touch_wanted(signer)) {
		(void)ca_x509_name_text(X509_CRL_get_issuer(crl), iss, sizeof(iss)); /* cut to fit is fine */
		snprintf(what, sizeof(what), "the CRL of %s", iss);
	}
	return xsign(NULL, crl, signer, md, what);
}

offca_rc ca_x509_verify_crl(X509_CRL *crl, EVP_PKEY *pub)
{
	ERR_clear_error();
	if (X509_CRL_verify(crl, pub) != 1)
		return ut_err_ssl(OFFCA_E_VERIFY, "the CRL's signature does not verify with the issuer's public key");
	return OFFCA_OK;
}

offca_rc ca_x509_to_der(X509 *cert, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	*len = 0;
	n = i2d_X509(cert, der);
	if (n <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode a certificate");
	*len = (size_t)n;
	return OFFCA_OK;
}

offca_rc ca_x509_der_to_pem(const unsigned char *der, size_t len, char **pem, size_t *plen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	offca_rc rc = OFFCA_OK;

	*pem = NULL;
	if (b == NULL || PEM_write_bio(b, PEM_STRING_X509, "", der, (long)len) <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode PEM");
	} else {
		n = BIO_get_mem_data(b, &data);
		*pem = malloc((size_t)n);
		if (*pem == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		else
			memcpy(*pem, data, (size_t)n);
		*plen = (size_t)n;
	}
	BIO_free(b);
	return rc;
}

offca_rc ca_x509_from_der(const unsigned char *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || (size_t)(p - der) != len) {
		X509_free(x);
		return ut_err_ssl(OFFCA_E_PARSE, "not a DER certificate");
	}
	*out = x;
	return OFFCA_OK;
}

int ca_x509_time_invalid(X509 *cert, int64_t now)
{
	time_t t = (time_t)now;

	return X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0 || X509_cmp_time(X509_get0_notBefore(cert), &t) >= 0;
}

/* ---- DN text ---- */

static const char *const dn_attrs[] = {"CN", "O", "OU", "C", "ST", "L", "DC", "serialNumber", NULL};

/* The attribute's canonical spelling (types are case-insensitive, RFC 4514), NULL if not allowed. */
static const char *attr_canon(const char *a)
{
	for (size_t i = 0; dn_attrs[i] != NULL; i++)
		if (strcasecmp(a, dn_attrs[i]) == 0)
			return dn_attrs[i];
	return NULL;
}

/*
 * Split the next "ATTR=value" off *p up to an unescaped sep; unescape into val: "\XX" (two hex
 * digits, RFC 4514) is that byte, "\c" is c. In the RFC 4514 form an unescaped '+' (a multi-valued
 * RDN) is refused rather than taken literally.
 */
static offca_rc next_rdn(const char **p, char sep, char *attr, size_t acap, char *val, size_t vcap)
{
	const char *s = *p;
	size_t a = 0, v = 0;

	while (*s == ' ')
		s++;
	while (*s != '\0' && *s != '=' && *s != sep) {
		if (a + 1 >= acap)
			return ut_err(OFFCA_E_USAGE, "subject: attribute name too long");
		attr[a++] = *s++;
	}
	while (a > 0 && attr[a - 1] == ' ')
		a--;
	attr[a] = '\0';
	if (*s != '=' || a == 0)
		return ut_err(OFFCA_E_USAGE, "subject: expected ATTR=value, not '%.40s'", *p);
	s++;
	while (*s != '\0' && *s != sep) {
		char c = *s++;
		if (c == '\\' && *s != '\0') {
			int hi = ut_hexval(s[0]), lo = hi >= 0 ? ut_hexval(s[1]) : -1;
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi << 4 | lo);
				s += 2;
			} else {
				c = *s++;
			}
		} else if (c == '+' && sep == ',') {
			return ut_err(OFFCA_E_USAGE, "subject: '+' (a multi-valued RDN) is not supported: write \\+ "
						     "for a literal plus");
		}
		if (v + 1 >= vcap)
			return ut_err(OFFCA_E_USAGE, "subject: value too long");
		if (c == '\0')
			return ut_err(OFFCA_E_USAGE, "subject: NUL byte in %s", attr);
		val[v++] = c;
	}
	val[v] = '\0';
	if (*s == sep) {
		s++;
		if (*s == '\0' && sep == ',')
			return ut_err(OFFCA_E_USAGE, "subject: nothing after the last ','");
	}
	*p = s;
	return OFFCA_OK;
}

offca_rc ca_x509_parse_dn(const char *text, X509_NAME **out)
{
	offca_rc rc = OFFCA_E_USAGE;
	X509_NAME *name = NULL;
	const char *p = text;
	char sep = ',';
	char attr[32], val[CA_MAX_DN_TEXT];
	const char *canon;

	*out = NULL;
	if (text == NULL || strlen(text) >= CA_MAX_DN_TEXT || text[0] == '\0') {
		rc = ut_err(OFFCA_E_USAGE, "subject: must be 1..%d bytes", CA_MAX_DN_TEXT - 1);
		goto out;
	}
	if (p[0] == '/') {
		sep = '/';
		p++;
	}
	name = X509_NAME_new();
	if (name == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	while (*p != '\0') {
		if ((rc = next_rdn(&p, sep, attr, sizeof(attr), val, sizeof(val))) != OFFCA_OK)
			goto out;
		if ((canon = attr_canon(attr)) == NULL) {
			rc = ut_err(OFFCA_E_USAGE, "subject: attribute '%s' not allowed (CN, O, OU, C, ST, L, DC, "
						   "serialNumber)", attr);
			goto out;
		}
		/* "/O=y/CN=x" is in DER order (append); RFC 4514 "CN=x,O=y" lists the last RDN first
		   (insert each at the front) */
		if (val[0] == '\0' || X509_NAME_add_entry_by_txt(name, canon, MBSTRING_UTF8, (unsigned char *)val,
								 -1, sep == '/' ? -1 : 0, 0) != 1) {
			rc = ut_err_ssl(OFFCA_E_USAGE, "subject: bad value for %s", attr);
			goto out;
		}
	}
	if (X509_NAME_entry_count(name) == 0) {
		rc = ut_err(OFFCA_E_USAGE, "subject: empty");
		goto out;
	}
	*out = name;
	name = NULL;
	rc = OFFCA_OK;
out:
	X509_NAME_free(name);
	return rc;
}

offca_rc ca_x509_name_text(const X509_NAME *name, char *buf, size_t cap)
{
	BIO *b = NULL;
	char *p = NULL;
	long n;
	offca_rc rc = OFFCA_OK;

	if (buf == NULL || cap == 0)
		return ut_err(OFFCA_E_USAGE, "ca_x509_name_text: no buffer");
	buf[0] = '\0';
	if (name == NULL)
		return OFFCA_OK;
	b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (X509_NAME_print_ex(b, name, 0, CA_X509_NAME_FLAGS) < 0) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "cannot print a distinguished name");
		goto out;
	}
	n = BIO_get_mem_data(b, &p);
	if (n < 0)
		n = 0;
	if ((size_t)n >= cap) {
		n = (long)cap - 1;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--; /* never cut a UTF-8 sequence */
		rc = ut_err(OFFCA_E_TOO_BIG, "distinguished name longer than %zu bytes", cap - 1);
	}
	if (n > 0) /* an empty name leaves the BIO without data: p may be NULL */
		memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
out:
	BIO_free(b);
	return rc;
}
