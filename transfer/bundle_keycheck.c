/*
 * bundle_keycheck.c - is an item a private key anyone can read? `bundle create` refuses such an
 * item (unless --allow-plaintext-key): a bundle is authenticated, not encrypted.
 *
 * Plaintext: a PEM block PRIVATE KEY, RSA/EC/DSA PRIVATE KEY (without Proc-Type ENCRYPTED) or an
 * OpenSSH key whose cipher is "none"; a DER private key; a PKCS#12 with a key bag outside any
 * encrypted safe, or one that opens with an empty or no passphrase. "ENCRYPTED PRIVATE KEY" and
 * PKCS#12 files whose keys are shrouded under a passphrase pass.
 */
#include "offca/bundle.h"
#include "offca/util.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <string.h>

#define OPENSSH_MAGIC "openssh-key-v1"

static const unsigned char *find(const unsigned char *d, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(d + i, s, n) == 0)
			return d + i;
	return NULL;
}

/* The OpenSSH key block starting at begin: is its cipher "none"? */
static int openssh_plain(const unsigned char *begin, const unsigned char *end)
{
	unsigned char b64[128], raw[96];
	size_t k = 0;
	const unsigned char *p = memchr(begin, '\n', (size_t)(end - begin));
	int n;

	for (p = p ? p + 1 : end; p < end && k < sizeof(b64); p++)
		if (*p != '\n' && *p != '\r')
			b64[k++] = *p;
	k -= k % 4;
	if (k < 64)
		return 1; /* unreadable: treat as a key */
	n = EVP_DecodeBlock(raw, b64, (int)k);
	/* "openssh-key-v1\0", uint32 length, ciphername */
	if (n < 23 || memcmp(raw, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0)
		return 1;
	return raw[15] == 0 && raw[16] == 0 && raw[17] == 0 && raw[18] == 4 && memcmp(raw + 19, "none", 4) == 0;
}

static const char *pem_plain(const unsigned char *d, size_t len)
{
	static const char *const labels[] = {"-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----",
					     "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----"};
	static const char *const names[] = {"PEM PRIVATE KEY", "PEM RSA PRIVATE KEY", "PEM EC PRIVATE KEY",
					    "PEM DSA PRIVATE KEY"};
	const unsigned char *at, *end;

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if ((at = find(d, len, labels[i])) == NULL)
			continue;
		end = find(at, len - (size_t)(at - d), "-----END");
		end = end ? end : d + len;
		if (i == 0 || find(at, (size_t)(end - at), "Proc-Type: 4,ENCRYPTED") == NULL)
			return names[i];
	}
	if ((at = find(d, len, "-----BEGIN OPENSSH PRIVATE KEY-----")) != NULL) {
		end = find(at, len - (size_t)(at - d), "-----END");
		if (openssh_plain(at, end ? end : d + len))
			return "OPENSSH PRIVATE KEY (no passphrase)";
	}
	return NULL;
}

/* A key bag in a plain (not encrypted) safe, or a PKCS#12 that opens without a passphrase. */
static int p12_plain(PKCS12 *p12)
{
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int plain = 0;

	for (int i = 0; safes != NULL && i < sk_PKCS7_num(safes) && !plain; i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags;
		if (OBJ_obj2nid(p7->type) != NID_pkcs7_data || (bags = PKCS12_unpack_p7data(p7)) == NULL)
			continue;
		for (int k = 0; k < sk_PKCS12_SAFEBAG_num(bags); k++)
			plain |= PKCS12_SAFEBAG_get_nid(sk_PKCS12_SAFEBAG_value(bags, k)) == NID_keyBag;
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	for (int t = 0; t < 2 && !plain; t++) {
		const char *pass = t == 0 ? "" : NULL;
		if (PKCS12_parse(p12, pass, &key, &cert, &ca) == 1 && key != NULL)
			plain = 1;
		EVP_PKEY_free(key);
		X509_free(cert);
		sk_X509_pop_free(ca, X509_free);
		key = NULL;
		cert = NULL;
		ca = NULL;
	}
	return plain;
}

const char *xfr_item_plaintext_key(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	const char *what = pem_plain(data, len);
	EVP_PKEY *key;
	PKCS12 *p12;

	if (what != NULL)
		return what;
	key = d2i_AutoPrivateKey(NULL, &p, (long)len);
	if (key != NULL) {
		EVP_PKEY_free(key);
		return "a DER private key";
	}
	p = data;
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	if (p12 != NULL) {
		int plain = p12_plain(p12);
		PKCS12_free(p12);
		if (plain)
			return "a PKCS#12 with an unencrypted key";
	}
	ERR_clear_error();
	return NULL;
}
