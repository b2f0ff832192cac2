/* key.c - keys, JWK, thumbprints and JWS signature primitives (see key.h). */
#include "key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "b64.h"
#include "offca/util.h"

offca_rc acme_key_generate(const char *type, EVP_PKEY **out)
{
	*out = NULL;
	if (type == NULL || strcmp(type, "ec") == 0 || strcmp(type, "p256") == 0)
		*out = EVP_EC_gen("P-256");
	else if (strcmp(type, "rsa") == 0)
		*out = EVP_RSA_gen(3072);
	else
		return ut_err(OFFCA_E_USAGE, "key type %s: must be ec (P-256) or rsa", type);
	if (*out == NULL)
		return ut_err_ssl(OFFCA_E_CRYPTO, "key generation failed");
	return OFFCA_OK;
}

static offca_rc check_supported(EVP_PKEY *pkey, const char *what)
{
	char group[64] = "";
	size_t gl = 0;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return ut_err(OFFCA_E_UNSUPPORTED, "%s: RSA keys must have at least 2048 bits", what);
		return OFFCA_OK;
	}
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl) == 1 &&
	    strcmp(group, "prime256v1") == 0)
		return OFFCA_OK;
	return ut_err(OFFCA_E_UNSUPPORTED, "%s: only P-256 EC and RSA keys are supported", what);
}

offca_rc acme_key_load(const char *path, EVP_PKEY **out)
{
	offca_rc rc;
	ut_secret *sec = NULL;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	rc = ut_read_secret_file(path, ACME_MAX_KEY_FILE, &sec); /* the one secret-file policy */
	if (rc != OFFCA_OK)
		goto out;
	bio = BIO_new_mem_buf(sec->p, (int)sec->len);
	if (bio == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pkey == NULL) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "%s: not an unencrypted PEM private key", path);
		goto out;
	}
	rc = check_supported(pkey, path);
	if (rc != OFFCA_OK)
		goto out;
	*out = pkey;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ut_secret_free(sec);
	return rc;
}

offca_rc acme_key_pem(EVP_PKEY *pkey, char **pem, size_t *len)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	BIO *bio = NULL;
	char *data = NULL;
	long n;

	*pem = NULL;
	*len = 0;
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the private key");
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0) {
		rc = ut_err(OFFCA_E_CRYPTO, "cannot encode the private key");
		goto out;
	}
	*pem = malloc((size_t)n + 1);
	if (*pem == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*len = (size_t)n;
	rc = OFFCA_OK;
out:
	BIO_free(bio);
	return rc;
}

offca_rc acme_key_save(const char *path, EVP_PKEY *pkey)
{
	offca_rc rc;
	char *pem = NULL;
	size_t len = 0;

	rc = acme_key_pem(pkey, &pem, &len);
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, pem, len, UT_WF_EXCL | UT_WF_SECRET);
	ut_free_secret(pem, len);
	return rc;
}

/* base64url of a BIGNUM parameter, left-padded to pad bytes (0 = minimal) */
static char *bn_b64(EVP_PKEY *pkey, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s = NULL;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return NULL;
	if (pad == 0)
		pad = BN_num_bytes(bn);
	if (pad > 0 && (size_t)pad <= sizeof(buf)) {
		n = BN_bn2binpad(bn, buf, pad);
		if (n == pad)
			s = acme_b64url(buf, (size_t)n);
	}
	BN_free(bn);
	return s;
}

offca_rc acme_key_jwk(EVP_PKEY *pkey, json_t **out)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	char *a = NULL, *b = NULL;
	json_t *jwk = NULL;

	*out = NULL;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		a = bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		if (a != NULL && b != NULL)
			jwk = json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", a, "y", b);
	} else if (EVP_PKEY_is_a(pkey, "RSA")) {
		a = bn_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		b = bn_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		if (a != NULL && b != NULL)
			jwk = json_pack("{s:s, s:s, s:s}", "e", a, "kty", "RSA", "n", b);
	}
	if (jwk == NULL) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot build the JWK of the key");
		goto out;
	}
	*out = jwk;
	rc = OFFCA_OK;
out:
	free(a);
	free(b);
	return rc;
}

const char *acme_jwk_alg(const json_t *jwk)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));

	if (kty == NULL)
		return NULL;
	if (strcmp(kty, "EC") == 0)
		return "ES256";
	if (strcmp(kty, "RSA") == 0)
		return "RS256";
	return NULL;
}

offca_rc acme_jwk_thumbprint(const json_t *jwk, char **out)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	json_t *canon = NULL;
	char *s = NULL;
	unsigned char md[32];
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
	static const char *const rsa[] = {"e", "kty", "n", NULL};
	const char *const *members;

	*out = NULL;
	if (kty == NULL || (strcmp(kty, "EC") != 0 && strcmp(kty, "RSA") != 0)) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "JWK thumbprint: unsupported key type");
		goto out;
	}
	members = strcmp(kty, "EC") == 0 ? ec : rsa;
	canon = json_object();
	if (canon == NULL)
		goto oom;
	for (int i = 0; members[i] != NULL; i++) {
		json_t *v = json_object_get(jwk, members[i]);
		if (!json_is_string(v)) {
			rc = ut_err(OFFCA_E_PARSE, "JWK thumbprint: member %s missing", members[i]);
			goto out;
		}
		if (json_object_set(canon, members[i], v) != 0)
			goto oom;
	}
	/* RFC 7638: required members only, lexicographic order, no whitespace */
	s = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL)
		goto oom;
	if (EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
		goto out;
	}
	*out = acme_b64url(md, sizeof(md));
	if (*out == NULL)
		goto oom;
	rc = OFFCA_OK;
	goto out;
oom:
	rc = ut_err(OFFCA_E_NOMEM, "out of memory");
out:
	free(s);
	json_decref(canon);
	return rc;
}

static offca_rc der_to_raw(const unsigned char *der, size_t len, unsigned char *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	offca_rc rc = OFFCA_OK;

	if (es == NULL)
		return ut_err_ssl(OFFCA_E_CRYPTO, "bad ECDSA signature encoding");
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		rc = ut_err(OFFCA_E_CRYPTO, "ECDSA signature too large");
	ECDSA_SIG_free(es);
	return rc;
}

offca_rc acme_key_sign(EVP_PKEY *pkey, const unsigned char *data, size_t len, unsigned char **sig,
		       size_t *siglen)
{
	offca_rc rc = OFFCA_E_CRYPTO;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	size_t n = 0;

	*sig = NULL;
	*siglen = 0;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "signing failed");
		goto out;
	}
	buf = malloc(n > 64 ? n : 64);
	if (buf == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, buf, &n, data, len) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "signing failed");
		goto out;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		unsigned char raw[64];
		rc = der_to_raw(buf, n, raw);
		if (rc != OFFCA_OK)
			goto out;
		memcpy(buf, raw, 64);
		n = 64;
	}
	*sig = buf;
	*siglen = n;
	buf = NULL;
	rc = OFFCA_OK;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

offca_rc acme_hs256(const unsigned char *key, size_t keylen, const unsigned char *data, size_t len,
		    unsigned char mac[32])
{
	unsigned int ml = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, mac, &ml) == NULL || ml != 32)
		return ut_err_ssl(OFFCA_E_CRYPTO, "HMAC-SHA256 failed");
	return OFFCA_OK;
}
