/*
 * raw.c - the few raw PKCS#11 calls libp11 0.4.12 does not offer: sessions for login and key
 * generation, object search by label/id, attribute reads, and building a public key from a
 * public-key object's attributes (libp11's PKCS11_get_public_key gave no usable EC key).
 */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

offca_rc tok_raw_session(tok_ctx *ctx, CK_SLOT_ID slot_id, int rw, CK_SESSION_HANDLE *out)
{
	CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = ctx->fl->C_OpenSession(slot_id, fl, NULL, NULL, out);
	if (rv != CKR_OK) {
		*out = CK_INVALID_HANDLE;
		return tok_rv(rv, "open session");
	}
	return OFFCA_OK;
}

offca_rc tok_raw_find(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
		      const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *out, size_t max, size_t *n)
{
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0, got = 0;
	CK_RV rv;

	*n = 0;
	if (cls != CK_UNAVAILABLE_INFORMATION) {
		tmpl[nt].type = CKA_CLASS;
		tmpl[nt].pValue = &cls;
		tmpl[nt].ulValueLen = sizeof(cls);
		nt++;
	}
	if (label != NULL) {
		tmpl[nt].type = CKA_LABEL;
		tmpl[nt].pValue = (void *)label;
		tmpl[nt].ulValueLen = strlen(label);
		nt++;
	}
	if (id != NULL) {
		tmpl[nt].type = CKA_ID;
		tmpl[nt].pValue = (void *)id;
		tmpl[nt].ulValueLen = id_len;
		nt++;
	}
	rv = ctx->fl->C_FindObjectsInit(s, tmpl, nt);
	if (rv != CKR_OK)
		return tok_rv(rv, "find objects");
	rv = ctx->fl->C_FindObjects(s, out, (CK_ULONG)max, &got);
	ctx->fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return tok_rv(rv, "find objects");
	*n = got;
	return OFFCA_OK;
}

offca_rc tok_raw_attr(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
		      unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	unsigned char *buf = NULL;
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = ctx->fl->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK)
		return tok_rv(rv, "read key attribute");
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > TOK_MAX_ATTR)
		return ut_err(OFFCA_E_TOO_BIG, "token attribute 0x%lx: unavailable or larger than %d bytes",
			      (unsigned long)type, TOK_MAX_ATTR);
	buf = malloc(a.ulValueLen + 1);
	if (buf == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	a.pValue = buf;
	rv = ctx->fl->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK) {
		free(buf);
		return tok_rv(rv, "read key attribute");
	}
	buf[a.ulValueLen] = '\0';
	*val = buf;
	*len = a.ulValueLen;
	return OFFCA_OK;
}

static offca_rc rsa_pub(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, EVP_PKEY **out)
{
	unsigned char *mod = NULL, *exp = NULL;
	size_t mlen, elen;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	offca_rc rc;

	rc = tok_raw_attr(ctx, s, o, CKA_MODULUS, &mod, &mlen);
	if (rc == OFFCA_OK)
		rc = tok_raw_attr(ctx, s, o, CKA_PUBLIC_EXPONENT, &exp, &elen);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	n = BN_bin2bn(mod, (int)mlen, NULL);
	e = BN_bin2bn(exp, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (n == NULL || e == NULL || bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto ssl;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto ssl;
	rc = OFFCA_OK;
	goto out;
ssl:
	rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the RSA public key from the token's attributes");
out:
	free(mod);
	free(exp);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

/* CKA_EC_POINT is a DER OCTET STRING holding the point; some tokens return the bare point. */
static ASN1_OCTET_STRING *ec_point(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)len);

	if (os != NULL && q == p + len)
		return os;
	ASN1_OCTET_STRING_free(os);
	os = ASN1_OCTET_STRING_new();
	if (os != NULL && !ASN1_OCTET_STRING_set(os, p, (int)len)) {
		ASN1_OCTET_STRING_free(os);
		os = NULL;
	}
	return os;
}

/* nid of CKA_EC_PARAMS: an OID (namedCurve), or the PrintableString "edwards25519". */
static int ec_params_nid(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &q, (long)len);
	ASN1_PRINTABLESTRING *ps = NULL;
	int nid = NID_undef;

	if (obj != NULL) {
		nid = OBJ_obj2nid(obj);
		ASN1_OBJECT_free(obj);
		return nid;
	}
	q = p;
	ps = d2i_ASN1_PRINTABLESTRING(NULL, &q, (long)len);
	if (ps != NULL && ASN1_STRING_length(ps) == 12 && memcmp(ASN1_STRING_get0_data(ps), "edwards25519", 12) == 0)
		nid = NID_ED25519;
	ASN1_STRING_free(ps);
	return nid;
}

static offca_rc ec_pub(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, EVP_PKEY **out)
{
	unsigned char *par = NULL, *pt = NULL;
	size_t plen, ptlen;
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL;
	int nid;
	offca_rc rc;

	rc = tok_raw_attr(ctx, s, o, CKA_EC_PARAMS, &par, &plen);
	if (rc == OFFCA_OK)
		rc = tok_raw_attr(ctx, s, o, CKA_EC_POINT, &pt, &ptlen);
	if (rc != OFFCA_OK)
		goto out;
	nid = ec_params_nid(par, plen);
	os = ec_point(pt, ptlen);
	if (nid == NID_undef || os == NULL) {
		rc = ut_err(OFFCA_E_PARSE, "the token's EC key attributes are malformed or name an unknown curve");
		goto out;
	}
	if (nid == NID_ED25519) {
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, ASN1_STRING_get0_data(os),
						   (size_t)ASN1_STRING_length(os));
		rc = *out != NULL ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "bad Ed25519 public key on the token");
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)OBJ_nid2sn(nid), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)ASN1_STRING_get0_data(os),
						      (size_t)ASN1_STRING_length(os));
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the EC public key from the token's attributes");
		goto out;
	}
	rc = OFFCA_OK;
out:
	free(par);
	free(pt);
	ASN1_OCTET_STRING_free(os);
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

offca_rc tok_raw_pubkey(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, EVP_PKEY **out)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_RV rv;

	*out = NULL;
	rv = ctx->fl->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK)
		return tok_rv(rv, "read public key type");
	if (kt == CKK_RSA)
		return rsa_pub(ctx, s, o, out);
	if (kt == CKK_EC || kt == CKK_EC_EDWARDS)
		return ec_pub(ctx, s, o, out);
	return ut_err(OFFCA_E_UNSUPPORTED, "public key type 0x%lx on the token is not supported", (unsigned long)kt);
}

offca_rc tok_raw_key_census(tok_ctx *ctx, CK_SESSION_HANDLE s, size_t *edwards, size_t *other)
{
	CK_OBJECT_HANDLE h[TOK_MAX_KEYS];
	size_t n = 0;
	offca_rc rc;

	*edwards = 0;
	*other = 0;
	rc = tok_raw_find(ctx, s, CKO_PRIVATE_KEY, NULL, NULL, 0, h, TOK_MAX_KEYS, &n);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		CK_KEY_TYPE kt = 0;
		CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};

		if (ctx->fl->C_GetAttributeValue(s, h[i], &a, 1) != CKR_OK)
			continue;
		if (kt == CKK_EC_EDWARDS)
			(*edwards)++;
		else
			(*other)++;
	}
	return OFFCA_OK;
}
