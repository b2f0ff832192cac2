/*
 * csr_key.c - a CSR's public key and the check of its self-signature, without OpenSSL 3.0's
 * per-call setup (see csr_int.h).
 *
 * csr.c parses the request in a library context whose only provider is "null", so d2i leaves the
 * SubjectPublicKeyInfo as bytes (OpenSSL 3.0 would build a provider decoder chain on every parse).
 * The key is then built here, in the default context:
 *  - EC on a named P-256 or P-384 curve: a copy of a per-thread key that holds the group only, given
 *    the point with EVP_PKEY_set1_encoded_public_key(); that ends in EC_KEY_oct2key(), the call
 *    OpenSSL's own decoder ends in (the point must decode and lie on the curve);
 *  - RSA (rsaEncryption): RSAPublicKey read with a template of the same shape as OpenSSL's (a
 *    SEQUENCE of two BIGNUMs, nothing after them checked, as d2i_RSAPublicKey()), then
 *    EVP_PKEY_fromdata(n, e) on a per-thread context;
 *  - anything else, or whenever the above fails: an OSSL_DECODER_CTX kept per thread and key type,
 *    built as OpenSSL's own (DER, SubjectPublicKeyInfo, the OID's name, public key).
 * The first two give the same key as the decoder (same type, parameters and EVP_PKEY_eq) and accept
 * nothing it refuses; when they fail the decoder decides, so refusals read as before.
 *
 * The self-signature of ecdsa-with-SHA256/384/512 and sha256/384/512WithRSAEncryption requests is
 * checked as ASN1_item_verify() checks it (no unused bits in the signature, the algorithm's key type
 * is the key's), over the request's own CertificationRequestInfo bytes (csr.c has checked they are
 * exactly its re-encoding, which is what ASN1_item_verify() would hash) with a digest fetched once.
 * Every other algorithm (RSA-PSS, Ed25519...) and any mismatch goes through X509_REQ_verify_ex().
 */
#include "csr_int.h"
#include "offca/util.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEC_SLOTS 4

static const struct {
	int nid;
	const char *group;
} ec_curves[] = {
	{NID_X9_62_prime256v1, "P-256"},
	{NID_secp384r1, "P-384"},
};
#define N_CURVES (sizeof(ec_curves) / sizeof(ec_curves[0]))

static const struct {
	int nid;
	const char *name;
} sig_mds[] = {
	{NID_sha256, "SHA256"},
	{NID_sha384, "SHA384"},
	{NID_sha512, "SHA512"},
};
#define N_MDS (sizeof(sig_mds) / sizeof(sig_mds[0]))

/* RSAPublicKey (RFC 8017 A.1.1), read as OpenSSL's RSAPublicKey template reads it */
typedef struct rsa_pub {
	BIGNUM *n;
	BIGNUM *e;
} rsa_pub;

ASN1_SEQUENCE(rsa_pub) = {
	ASN1_SIMPLE(rsa_pub, n, BIGNUM),
	ASN1_SIMPLE(rsa_pub, e, BIGNUM),
} static_ASN1_SEQUENCE_END(rsa_pub)

typedef struct key_cache {
	EVP_PKEY *dec_out; /* the decoders' output, taken after each decode */
	struct {
		char type[64];
		OSSL_DECODER_CTX *ctx;
	} slot[DEC_SLOTS];
	unsigned next;                 /* slot replaced when all are used */
	EVP_PKEY *ec_tmpl[N_CURVES];   /* group only, made on first use */
	EVP_PKEY_CTX *rsa_fromdata;    /* made on first use */
	struct key_cache *prev, *nxt;
} key_cache;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *nokey_ctx;    /* process lifetime */
static EVP_MD *md_fetched[N_MDS];  /* process lifetime; NULL: that digest goes the slow way */
static pthread_key_t cache_key;
static int cache_key_ok;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static key_cache *cache_all; /* every live thread's cache (reachable until its thread exits) */

static void cache_free(void *p)
{
	key_cache *c = p;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	if (c->prev != NULL)
		c->prev->nxt = c->nxt;
	else
		cache_all = c->nxt;
	if (c->nxt != NULL)
		c->nxt->prev = c->prev;
	pthread_mutex_unlock(&cache_lock);
	for (size_t i = 0; i < DEC_SLOTS; i++)
		OSSL_DECODER_CTX_free(c->slot[i].ctx);
	for (size_t i = 0; i < N_CURVES; i++)
		EVP_PKEY_free(c->ec_tmpl[i]);
	EVP_PKEY_CTX_free(c->rsa_fromdata);
	EVP_PKEY_free(c->dec_out);
	free(c);
}

static void key_init(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (ctx != NULL && OSSL_PROVIDER_load(ctx, "null") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	nokey_ctx = ctx;
	for (size_t i = 0; i < N_MDS; i++)
		md_fetched[i] = EVP_MD_fetch(NULL, sig_mds[i].name, NULL);
	ERR_clear_error();
	cache_key_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

OSSL_LIB_CTX *csr_nokey_ctx(void)
{
	pthread_once(&init_once, key_init);
	return nokey_ctx;
}

static key_cache *cache_get(void)
{
	key_cache *c;

	if (!cache_key_ok)
		return NULL;
	c = pthread_getspecific(cache_key);
	if (c != NULL)
		return c;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (pthread_setspecific(cache_key, c) != 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&cache_lock);
	c->nxt = cache_all;
	if (cache_all != NULL)
		cache_all->prev = c;
	cache_all = c;
	pthread_mutex_unlock(&cache_lock);
	return c;
}

/* This thread's decoder context for keys of type (an OID name), created on first use. */
static OSSL_DECODER_CTX *dec_ctx_for(key_cache *c, const char *type)
{
	unsigned i;

	for (i = 0; i < DEC_SLOTS; i++)
		if (c->slot[i].ctx != NULL && strcmp(c->slot[i].type, type) == 0)
			return c->slot[i].ctx;
	for (i = 0; i < DEC_SLOTS && c->slot[i].ctx != NULL; i++)
		;
	if (i == DEC_SLOTS) {
		i = c->next++ % DEC_SLOTS;
		OSSL_DECODER_CTX_free(c->slot[i].ctx);
		c->slot[i].ctx = NULL;
	}
	c->slot[i].ctx = OSSL_DECODER_CTX_new_for_pkey(&c->dec_out, "DER", "SubjectPublicKeyInfo", type,
						       EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (c->slot[i].ctx != NULL)
		snprintf(c->slot[i].type, sizeof(c->slot[i].type), "%s", type);
	return c->slot[i].ctx;
}

/* Any key type: OpenSSL's decoders, on the re-encoded SubjectPublicKeyInfo. */
static offca_rc decode_generic(key_cache *c, X509_PUBKEY *xpk, const ASN1_OBJECT *alg, EVP_PKEY **out)
{
	offca_rc rc = OFFCA_E_PARSE;
	unsigned char *spki = NULL;
	const unsigned char *p;
	OSSL_DECODER_CTX *dctx;
	char type[64];
	size_t left;
	int n;

	*out = NULL;
	n = OBJ_obj2txt(type, sizeof(type), alg, 0);
	if (n <= 0 || (size_t)n >= sizeof(type)) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-key: unreadable public key");
		goto out;
	}
	n = i2d_X509_PUBKEY(xpk, &spki);
	if (n <= 0) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-key: unreadable public key");
		goto out;
	}
	dctx = dec_ctx_for(c, type);
	if (dctx == NULL) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-key: unreadable public key (%s)", type);
		goto out;
	}
	p = spki;
	left = (size_t)n;
	EVP_PKEY_free(c->dec_out);
	c->dec_out = NULL;
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || c->dec_out == NULL) {
		rc = ut_err_ssl(OFFCA_E_PARSE, "policy csr-key: unreadable public key");
		goto out;
	}
	*out = c->dec_out;
	c->dec_out = NULL;
	rc = OFFCA_OK;
out:
	EVP_PKEY_free(c->dec_out);
	c->dec_out = NULL;
	OPENSSL_free(spki);
	return rc;
}

/* This thread's key holding only the group of ec_curves[i], made on first use (NULL on failure). */
static EVP_PKEY *ec_template(key_cache *c, size_t i)
{
	EVP_PKEY_CTX *pctx = NULL;
	OSSL_PARAM params[2];

	if (c->ec_tmpl[i] != NULL)
		return c->ec_tmpl[i];
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)ec_curves[i].group, 0);
	params[1] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, &c->ec_tmpl[i], EVP_PKEY_KEY_PARAMETERS, params) != 1) {
		EVP_PKEY_free(c->ec_tmpl[i]);
		c->ec_tmpl[i] = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return c->ec_tmpl[i];
}

/* EC key on a named P-256/P-384 curve, or NULL (the decoder then decides). */
static EVP_PKEY *ec_key(key_cache *c, const X509_ALGOR *palg, const unsigned char *pk, int pklen)
{
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF, nid;
	size_t i;
	EVP_PKEY *tmpl, *k = NULL;

	X509_ALGOR_get0(NULL, &ptype, &pval, palg);
	if (ptype != V_ASN1_OBJECT || pk == NULL || pklen <= 0)
		return NULL;
	nid = OBJ_obj2nid(pval);
	for (i = 0; i < N_CURVES && ec_curves[i].nid != nid; i++)
		;
	if (i == N_CURVES || (tmpl = ec_template(c, i)) == NULL)
		return NULL;
	k = EVP_PKEY_dup(tmpl);
	if (k == NULL || EVP_PKEY_set1_encoded_public_key(k, pk, (size_t)pklen) != 1) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* RSA key (rsaEncryption), or NULL (the decoder then decides). */
static EVP_PKEY *rsa_key(key_cache *c, const unsigned char *pk, int pklen)
{
	const unsigned char *p = pk;
	rsa_pub *rp = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *k = NULL;

	if (c->rsa_fromdata == NULL) {
		c->rsa_fromdata = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		if (c->rsa_fromdata != NULL && EVP_PKEY_fromdata_init(c->rsa_fromdata) != 1) {
			EVP_PKEY_CTX_free(c->rsa_fromdata);
			c->rsa_fromdata = NULL;
		}
		if (c->rsa_fromdata == NULL)
			goto out;
	}
	if (pk == NULL || pklen <= 0)
		goto out;
	rp = (rsa_pub *)ASN1_item_d2i(NULL, &p, pklen, ASN1_ITEM_rptr(rsa_pub));
	if (rp == NULL)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, rp->n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, rp->e) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL)
		goto out;
	if (EVP_PKEY_fromdata(c->rsa_fromdata, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(k);
		k = NULL;
	}
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ASN1_item_free((ASN1_VALUE *)rp, ASN1_ITEM_rptr(rsa_pub));
	return k;
}

offca_rc csr_key_decode(X509_REQ *req, EVP_PKEY **out)
{
	X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(req);
	ASN1_OBJECT *alg = NULL;
	const unsigned char *pk = NULL;
	X509_ALGOR *palg = NULL;
	key_cache *c;
	EVP_PKEY *k = NULL;
	int pklen = 0;

	*out = NULL;
	pthread_once(&init_once, key_init);
	c = cache_get();
	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory reading a CSR");
	if (xpk == NULL || X509_PUBKEY_get0_param(&alg, &pk, &pklen, &palg, xpk) != 1)
		return ut_err_ssl(OFFCA_E_PARSE, "policy csr-key: unreadable public key");
	switch (OBJ_obj2nid(alg)) {
	case NID_X9_62_id_ecPublicKey:
		k = ec_key(c, palg, pk, pklen);
		break;
	case NID_rsaEncryption:
		k = rsa_key(c, pk, pklen);
		break;
	default:
		break;
	}
	if (k != NULL) {
		*out = k;
		return OFFCA_OK;
	}
	ERR_clear_error(); /* a failed fast path must not colour the decoder's verdict */
	return decode_generic(c, xpk, alg, out);
}

/* The CertificationRequestInfo: the first element of the request's outer SEQUENCE (both constructed,
   definite lengths: the DER was checked canonical before). */
static int tbs_span(const unsigned char *der, size_t len, const unsigned char **tbs, size_t *tlen)
{
	const unsigned char *p = der, *start;
	long l = 0;
	int tag = 0, cls = 0;

	if (len > CA_CSR_MAX_DER || ASN1_get_object(&p, &l, &tag, &cls, (long)len) != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE)
		return 0;
	start = p;
	if (ASN1_get_object(&p, &l, &tag, &cls, (long)(len - (size_t)(start - der))) != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE)
		return 0;
	*tbs = start;
	*tlen = (size_t)(p - start) + (size_t)l;
	return 1;
}

/* 1: the signature verifies, 0: it does not, -1: not a case for this path (X509_REQ_verify_ex). */
static int verify_direct(X509_REQ *req, EVP_PKEY *pub, const unsigned char *der, size_t len)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *oid = NULL;
	const unsigned char *tbs = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_PKEY_CTX *pctx = NULL;
	size_t tlen = 0, i;
	int mdnid = NID_undef, pknid = NID_undef, base, ok = -1;

	X509_REQ_get0_signature(req, &sig, &alg);
	if (sig == NULL || alg == NULL)
		return -1;
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	if (oid == NULL || OBJ_find_sigid_algs(OBJ_obj2nid(oid), &mdnid, &pknid) != 1)
		return -1;
	for (i = 0; i < N_MDS && sig_mds[i].nid != mdnid; i++)
		;
	if (i == N_MDS || md_fetched[i] == NULL)
		return -1;
	base = EVP_PKEY_get_base_id(pub);
	if (!(pknid == NID_X9_62_id_ecPublicKey && base == EVP_PKEY_EC) &&
	    !(pknid == NID_rsaEncryption && base == EVP_PKEY_RSA))
		return -1;
	/* ASN1_item_verify()'s own key type check, kept as is */
	if (!EVP_PKEY_is_a(pub, OBJ_nid2sn(pknid)) || !tbs_span(der, len, &tbs, &tlen))
		return -1;
	/* ASN1_item_verify(): a signature with unused bits is refused */
	if (sig->type == V_ASN1_BIT_STRING && (sig->flags & 0x7) != 0)
		return 0;
	if (EVP_Digest(tbs, tlen, md, &mdlen, md_fetched[i], NULL) != 1)
		goto out;
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	if (pctx == NULL || EVP_PKEY_verify_init(pctx) != 1)
		goto out;
	/* RSA needs the digest for its DigestInfo; ECDSA verifies the hash it is given (the digest set
	   would only check the hash's length, which is the digest's by construction) */
	if (base == EVP_PKEY_RSA && EVP_PKEY_CTX_set_signature_md(pctx, md_fetched[i]) != 1)
		goto out;
	ok = EVP_PKEY_verify(pctx, sig->data, (size_t)sig->length, md, mdlen) == 1 ? 1 : 0;
out:
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* The digest of the request's self-signature (RSA-PSS: its hashAlgorithm, SHA-1 when absent);
   NID_undef for algorithms without one (Ed25519). */
static int sig_digest(X509_REQ *req)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype, md = NID_undef, pk = NID_undef;

	X509_REQ_get0_signature(req, NULL, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (OBJ_obj2nid(obj) == NID_rsassaPss) {
		RSA_PSS_PARAMS *pss = ptype == V_ASN1_SEQUENCE ?
			ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter) : NULL;
		md = pss == NULL ? NID_undef : pss->hashAlgorithm == NULL ? NID_sha1 :
		     OBJ_obj2nid(pss->hashAlgorithm->algorithm);
		RSA_PSS_PARAMS_free(pss);
		ERR_clear_error();
		return md;
	}
	if (OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md, &pk) != 1)
		return NID_undef;
	return md;
}

/* Boulder's rule: a request signed with a broken digest is refused, whatever its key. */
static offca_rc check_sig_digest(X509_REQ *req)
{
	static const int weak[] = {NID_md2, NID_md4, NID_md5, NID_sha1, NID_mdc2, NID_ripemd160, NID_sha224};
	int md = sig_digest(req);

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (md == weak[i])
			return ut_err(OFFCA_E_POLICY, "policy csr-signature-digest: the request is self-signed with %s "
						      "(SHA-256 or stronger, or Ed25519, expected): make it again with a "
						      "current tool", OBJ_nid2sn(md));
	return OFFCA_OK;
}

offca_rc csr_sig_verify(X509_REQ *req, EVP_PKEY *pub, const unsigned char *der, size_t len)
{
	int ok;
	offca_rc rc;

	if ((rc = check_sig_digest(req)) != OFFCA_OK)
		return rc;
	pthread_once(&init_once, key_init);
	ok = verify_direct(req, pub, der, len);
	if (ok < 0) {
		ERR_clear_error();
		/* _ex with the default context: the request's own context has no algorithms */
		ok = X509_REQ_verify_ex(req, pub, NULL, NULL) == 1;
	}
	if (ok != 1)
		return ut_err_ssl(OFFCA_E_POLICY, "policy csr-signature: the request's signature does not verify");
	return OFFCA_OK;
}
