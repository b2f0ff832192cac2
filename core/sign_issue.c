/* sign_issue.c - issuer-generated keys: software key, in-memory CSR, normal signing, PKCS#12. */
#include "offca/pkcs12.h"
#include "offca/sign.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static offca_rc gen_key(const char *type, EVP_PKEY **out)
{
	*out = NULL;
	if (type == NULL || strcmp(type, "ec-p256") == 0)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "ec-p384") == 0)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "rsa-2048") == 0)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "rsa-3072") == 0)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		return ut_err(OFFCA_E_USAGE, "--key-type %s: use ec-p256, ec-p384, rsa-2048 or rsa-3072", type);
	if (*out == NULL)
		return ut_err_ssl(OFFCA_E_CRYPTO, "key generation failed");
	return OFFCA_OK;
}

/* "DNS:a,IP:1.2.3.4,b.example" -> GENERAL_NAMES (syntax only; policy checks come later). */
static offca_rc parse_sans(const char *const *sans, size_t n, GENERAL_NAMES **out)
{
	GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
	offca_rc rc = OFFCA_OK;

	*out = NULL;
	if (g == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		char *copy = strdup(sans[i]), *save = NULL;
		if (copy == NULL) {
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			break;
		}
		for (char *t = strtok_r(copy, ",", &save); t != NULL && rc == OFFCA_OK; t = strtok_r(NULL, ",", &save)) {
			GENERAL_NAME *gn;
			int type = GEN_DNS;
			const char *v = t;
			if (strncmp(t, "DNS:", 4) == 0) { v = t + 4; }
			else if (strncmp(t, "IP:", 3) == 0) { type = GEN_IPADD; v = t + 3; }
			else if (strncmp(t, "email:", 6) == 0) { type = GEN_EMAIL; v = t + 6; }
			else if (strncmp(t, "URI:", 4) == 0) { type = GEN_URI; v = t + 4; }
			gn = a2i_GENERAL_NAME(NULL, NULL, NULL, type, v, 0);
			if (gn == NULL || !sk_GENERAL_NAME_push(g, gn)) {
				GENERAL_NAME_free(gn);
				rc = ut_err_ssl(OFFCA_E_USAGE, "--san '%s': not a DNS name, IP address, email or URI", t);
			}
		}
		free(copy);
	}
	if (rc == OFFCA_OK)
		*out = g;
	else
		GENERAL_NAMES_free(g);
	return rc;
}

static offca_rc make_csr(EVP_PKEY *key, const ca_issue_req *r, unsigned char **der, size_t *len)
{
	offca_rc rc;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = NULL;
	GENERAL_NAMES *sans = NULL;
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = NULL;
	int ok, n;

	*der = NULL;
	if (req == NULL || exts == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_x509_parse_dn(r->subject, &name)) != OFFCA_OK || (rc = parse_sans(r->sans, r->n_sans, &sans)) != OFFCA_OK)
		goto out;
	ok = X509_REQ_set_subject_name(req, name) == 1 && X509_REQ_set_pubkey(req, key) == 1;
	if (ok && sk_GENERAL_NAME_num(sans) > 0) {
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
		ok = ext != NULL && sk_X509_EXTENSION_push(exts, ext) > 0;
		if (ok)
			ext = NULL;
		ok = ok && X509_REQ_add_extensions(req, exts) == 1;
	}
	ok = ok && X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_bits(key) >= 384 ?
					     EVP_sha384() : EVP_sha256()) > 0;
	n = ok ? i2d_X509_REQ(req, der) : 0;
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot make the certificate request");
		goto out;
	}
	*len = (size_t)n;
	rc = OFFCA_OK;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(sans);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

offca_rc ca_issue_generated(ca_signer *s, ca_store *st, const ca_issue_req *r, unsigned char **p12,
			    size_t *p12_len, ca_signed *info)
{
	offca_rc rc;
	EVP_PKEY *key = NULL;
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	ca_sign_input in;
	ca_sign_opts o;
	ca_sign_result res;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;

	*p12 = NULL;
	*p12_len = 0;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	memset(&res, 0, sizeof(res));
	if (r->key_out != NULL)
		*r->key_out = NULL;
	if ((r->pass == NULL && r->key_out == NULL) || (r->pass != NULL && strlen(r->pass) < CA_PKCS12_MIN_PASS)) {
		rc = ut_err(OFFCA_E_USAGE, "the PKCS#12 passphrase must have at least %d characters", CA_PKCS12_MIN_PASS);
		goto out;
	}
	if ((rc = gen_key(r->key_type, &key)) != OFFCA_OK || (rc = make_csr(key, r, &csr, &csr_len)) != OFFCA_OK)
		goto out;
	memset(&in, 0, sizeof(in));
	in.label = "generated key";
	in.csr = csr;
	in.csr_len = csr_len;
	memset(&o, 0, sizeof(o));
	o.profile = r->profile;
	o.days = r->days;
	o.source = "offca issue --generate-key";
	o.threads = 1;
	if ((rc = ca_sign_batch(s, st, &in, 1, &o, &res)) != OFFCA_OK)
		goto out;
	if ((rc = ca_x509_from_der(res.certs[0].der, res.certs[0].der_len, &cert)) != OFFCA_OK)
		goto out;
	chain = sk_X509_new_null();
	if (chain == NULL || !sk_X509_push(chain, s->cert)) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (r->pass != NULL && (rc = ca_pkcs12_build(key, cert, chain, NULL, r->pass, r->legacy, p12, p12_len)) != OFFCA_OK)
		goto out;
	if (r->key_out != NULL) {
		*r->key_out = key;
		key = NULL;
	}
	if (info != NULL) {
		*info = res.certs[0];
		res.certs[0].der = NULL;
	}
	rc = OFFCA_OK;
out:
	sk_X509_free(chain);
	X509_free(cert);
	ca_sign_result_clear(&res);
	OPENSSL_free(csr);
	EVP_PKEY_free(key); /* OpenSSL clears private key material on free */
	return rc;
}
