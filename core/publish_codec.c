/*
 * publish_codec.c - RelayContent (offca/publish.h) through OpenSSL's ASN.1 templates: encode for
 * offca publish, strict decode (canonical DER only: re-encoded bytes must match) for offca-agent.
 */
#include "offca/publish.h"
#include "offca/util.h"

#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

typedef struct relay_asn1 {
	ASN1_INTEGER *version;
	ASN1_OCTET_STRING *endpoint;
	ASN1_INTEGER *sequence;
	X509 *cert;
	STACK_OF(X509) *chain;
	PKCS8_PRIV_KEY_INFO *key;
} RELAY_ASN1;

ASN1_SEQUENCE(RELAY_ASN1) = {
	ASN1_SIMPLE(RELAY_ASN1, version, ASN1_INTEGER),
	ASN1_SIMPLE(RELAY_ASN1, endpoint, ASN1_OCTET_STRING),
	ASN1_SIMPLE(RELAY_ASN1, sequence, ASN1_INTEGER),
	ASN1_SIMPLE(RELAY_ASN1, cert, X509),
	ASN1_SEQUENCE_OF(RELAY_ASN1, chain, X509),
	ASN1_EXP_OPT(RELAY_ASN1, key, PKCS8_PRIV_KEY_INFO, 0),
} static_ASN1_SEQUENCE_END(RELAY_ASN1)

void ca_pub_content_clear(ca_pub_content *c)
{
	X509_free(c->cert);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static void relay_free(RELAY_ASN1 *r)
{
	ASN1_item_free((ASN1_VALUE *)r, ASN1_ITEM_rptr(RELAY_ASN1));
}

offca_rc ca_pub_content_encode(const ca_pub_content *c, unsigned char **der, size_t *len)
{
	RELAY_ASN1 *r;
	unsigned char *out = NULL;
	int n = -1, ok;

	if (c->cert == NULL || c->sequence == 0)
		return ut_err(OFFCA_E_USAGE, "relay content needs a certificate and a sequence number");
	r = (RELAY_ASN1 *)ASN1_item_new(ASN1_ITEM_rptr(RELAY_ASN1));
	if (r == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	ok = ASN1_INTEGER_set(r->version, CA_PUB_VERSION) && ASN1_OCTET_STRING_set(r->endpoint, c->endpoint, 32) &&
	     ASN1_INTEGER_set_uint64(r->sequence, c->sequence) && X509_up_ref(c->cert);
	if (ok) {
		X509_free(r->cert);
		r->cert = c->cert;
	}
	for (int i = 0; ok && c->chain != NULL && i < sk_X509_num(c->chain); i++) {
		X509 *x = sk_X509_value(c->chain, i);

		ok = X509_up_ref(x) && sk_X509_push(r->chain, x) > 0;
	}
	if (ok && c->key != NULL)
		ok = (r->key = EVP_PKEY2PKCS8(c->key)) != NULL;
	if (ok)
		n = ASN1_item_i2d((ASN1_VALUE *)r, &out, ASN1_ITEM_rptr(RELAY_ASN1));
	relay_free(r); /* PKCS8_PRIV_KEY_INFO_free cleanses the key bytes */
	if (n <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the relay content");
	*der = out;
	*len = (size_t)n;
	return OFFCA_OK;
}

static offca_rc from_asn1(const RELAY_ASN1 *r, ca_pub_content *out)
{
	uint64_t seq = 0;
	long v = ASN1_INTEGER_get(r->version);

	if (v != CA_PUB_VERSION)
		return ut_err(OFFCA_E_PARSE, "relay content version %ld (this reader knows %d)", v, CA_PUB_VERSION);
	if (ASN1_STRING_length(r->endpoint) != 32)
		return ut_err(OFFCA_E_PARSE, "relay content: the endpoint hash is not 32 bytes");
	if (!ASN1_INTEGER_get_uint64(&seq, r->sequence) || seq == 0)
		return ut_err(OFFCA_E_PARSE, "relay content: the sequence number is not a positive 64-bit number");
	if (sk_X509_num(r->chain) > CA_PUB_MAX_CHAIN)
		return ut_err(OFFCA_E_PARSE, "relay content: more than %d chain certificates", CA_PUB_MAX_CHAIN);
	memcpy(out->endpoint, ASN1_STRING_get0_data(r->endpoint), 32);
	out->sequence = seq;
	if (!X509_up_ref(r->cert) || (out->chain = sk_X509_new_null()) == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	out->cert = r->cert;
	for (int i = 0; i < sk_X509_num(r->chain); i++) {
		X509 *x = sk_X509_value(r->chain, i);

		if (!X509_up_ref(x))
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		if (sk_X509_push(out->chain, x) <= 0) {
			X509_free(x);
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		}
	}
	if (r->key != NULL && (out->key = EVP_PKCS82PKEY(r->key)) == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "relay content: the delivered key does not parse");
	return OFFCA_OK;
}

offca_rc ca_pub_content_decode(const unsigned char *der, size_t len, ca_pub_content *out)
{
	const unsigned char *p = der;
	unsigned char *again = NULL;
	RELAY_ASN1 *r;
	int n;
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	if (len > CA_PUB_MAX_OBJ)
		return ut_err(OFFCA_E_PARSE, "relay content larger than %u bytes", CA_PUB_MAX_OBJ);
	r = (RELAY_ASN1 *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(RELAY_ASN1));
	if (r == NULL || p != der + len) {
		relay_free(r);
		return ut_err_ssl(OFFCA_E_PARSE, "the relay content is not a RelayContent structure");
	}
	n = ASN1_item_i2d((ASN1_VALUE *)r, &again, ASN1_ITEM_rptr(RELAY_ASN1));
	if (n != (int)len || memcmp(again, der, len) != 0)
		rc = ut_err(OFFCA_E_PARSE, "the relay content is not canonical DER");
	else
		rc = from_asn1(r, out);
	OPENSSL_clear_free(again, n > 0 ? (size_t)n : 0);
	relay_free(r);
	if (rc != OFFCA_OK)
		ca_pub_content_clear(out);
	return rc;
}

offca_rc ca_pub_key_hash(EVP_PKEY *key, unsigned char out[32])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	unsigned int mdlen = 0;
	int ok = n > 0 && EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1;

	OPENSSL_free(der);
	return ok ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "cannot hash the public key");
}

void ca_pub_hex(const unsigned char h[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[64] = '\0';
}
