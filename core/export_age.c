/*
 * export_age.c - encryption to age recipients in the age v1 format (https://age-encryption.org/v1),
 * which is how SOPS wraps its data key for "age1..." recipients.
 *
 * The primitives all come from OpenSSL 3: X25519, HKDF-SHA256, HMAC-SHA256, ChaCha20-Poly1305.
 * Written here by hand, because no Debian library offers them: the bech32 decoding of the
 * recipient string (BIP 173, checksum constant 1, HRP "age") and the age framing (stanzas, header
 * MAC, one STREAM chunk, ASCII armor).
 */
#include "offca/export.h"
#include "offca/util.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AGE_MAX_RECIPIENT 200   /* an age1 recipient is 62 characters */
#define AGE_MAX_MSG       65536 /* one STREAM chunk */
#define FILE_KEY_LEN      16

/*
 * The algorithms, fetched once per process (an implicit fetch on every call costs more than the
 * X25519 arithmetic itself: bench/export_bench.sh). Kept until exit, like OpenSSL's own caches.
 */
static struct {
	EVP_KDF *hkdf;
	EVP_MAC *hmac;
	EVP_CIPHER *chacha;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
	algs.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	algs.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

static offca_rc algs_get(void)
{
	if (pthread_once(&algs_once, algs_fetch) != 0 || algs.hkdf == NULL || algs.hmac == NULL || algs.chacha == NULL)
		return ut_err_ssl(OFFCA_E_CRYPTO, "OpenSSL lacks HKDF, HMAC or ChaCha20-Poly1305");
	return OFFCA_OK;
}

static const char bech32_chars[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t top = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

offca_rc ca_age_recipient_parse(const char *text, unsigned char pub[32])
{
	size_t n = strlen(text), nd;
	uint32_t chk = 1, acc = 0;
	unsigned char vals[AGE_MAX_RECIPIENT];
	int bits = 0, upper = 0, lower = 0;
	size_t out = 0;

	if (strncasecmp(text, "AGE-SECRET-KEY-", 15) == 0) /* never repeat a secret in a message */
		return ut_err(OFFCA_E_PARSE, "that is an age identity (a secret key), not a recipient: give its public "
					     "key (age-keygen -y), and keep the identity off command lines");
	if (n < 8 || n > AGE_MAX_RECIPIENT)
		return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': not an age1... string", text);
	for (size_t i = 0; i < n; i++) {
		upper |= text[i] >= 'A' && text[i] <= 'Z';
		lower |= text[i] >= 'a' && text[i] <= 'z';
	}
	if ((upper && lower) || (strncmp(text, "age1", 4) != 0 && strncmp(text, "AGE1", 4) != 0))
		return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': not an age1... string", text);
	/* HRP "age" expanded: high bits, 0, low bits */
	for (int i = 0; i < 3; i++)
		chk = polymod_step(chk, (unsigned)("age"[i] >> 5));
	chk = polymod_step(chk, 0);
	for (int i = 0; i < 3; i++)
		chk = polymod_step(chk, (unsigned)("age"[i] & 31));
	nd = n - 4;
	for (size_t i = 0; i < nd; i++) {
		char c = text[4 + i];
		const char *p = strchr(bech32_chars, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		if (c == '\0' || p == NULL)
			return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': '%c' is not a bech32 character", text, c);
		vals[i] = (unsigned char)(p - bech32_chars);
		chk = polymod_step(chk, vals[i]);
	}
	if (chk != 1 || nd < 6)
		return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': bad checksum (mistyped?)", text);
	for (size_t i = 0; i + 6 < nd; i++) {
		acc = (acc << 5) | vals[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (out >= 32)
				return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': not a 32-byte X25519 key", text);
			pub[out++] = (unsigned char)(acc >> bits);
		}
	}
	if (out != 32 || bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return ut_err(OFFCA_E_PARSE, "age recipient '%.80s': not a 32-byte X25519 key", text);
	return OFFCA_OK;
}

static offca_rc hkdf(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt, size_t salt_len,
		     const char *info, unsigned char out[32])
{
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(algs.hkdf);
	OSSL_PARAM p[5], *q = p;
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt_len > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	ok = c != NULL && EVP_KDF_derive(c, out, 32, p) == 1;
	EVP_KDF_CTX_free(c);
	return ok ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "HKDF-SHA256 failed");
}

/* ChaCha20-Poly1305 of msg under key and a 12-byte nonce: out gets len + 16 bytes (tag last). */
static offca_rc seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *msg,
		     size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	int ok = c != NULL && EVP_EncryptInit_ex2(c, algs.chacha, key, nonce, NULL) == 1 && /* 12-byte nonce: the default */
		 (len == 0 || EVP_EncryptUpdate(c, out, &n, msg, (int)len) == 1) &&
		 EVP_EncryptFinal_ex(c, out + n, &f) == 1 && (size_t)(n + f) == len &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + len) == 1;

	EVP_CIPHER_CTX_free(c);
	return ok ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "ChaCha20-Poly1305 failed");
}

static offca_rc hmac_sha256(const unsigned char key[32], const unsigned char *msg, size_t len, unsigned char mac[32])
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(algs.hmac);
	OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			  OSSL_PARAM_construct_end()};
	size_t n = 0;
	int ok = c != NULL && EVP_MAC_init(c, key, 32, p) == 1 && EVP_MAC_update(c, msg, len) == 1 &&
		 EVP_MAC_final(c, mac, &n, 32) == 1 && n == 32;

	EVP_MAC_CTX_free(c);
	return ok ? OFFCA_OK : ut_err_ssl(OFFCA_E_CRYPTO, "HMAC-SHA256 failed");
}

/* Unpadded base64 (age's header encoding), appended to t at *off; t has room. */
static size_t b64_raw(const unsigned char *p, size_t len, char *t)
{
	int n = EVP_EncodeBlock((unsigned char *)t, p, (int)len);

	while (n > 0 && t[n - 1] == '=')
		n--;
	t[n] = '\0';
	return (size_t)n;
}

/* One "-> X25519" stanza for pub wrapping file_key, appended to hdr. */
static offca_rc stanza(const unsigned char pub[32], const unsigned char file_key[FILE_KEY_LEN], char *hdr,
		       size_t *hlen)
{
	EVP_PKEY *eph = NULL, *peer = NULL;
	EVP_PKEY_CTX *dc = NULL;
	unsigned char priv[32], share[32], shared[32], salt[64], wrap[32], body[FILE_KEY_LEN + 16], zero[32] = {0};
	unsigned char nonce[12] = {0};
	size_t slen = 32, sharedlen = 32;
	offca_rc rc;

	/* the ephemeral key from 32 random bytes (X25519 clamps them), cheaper than a keygen context */
	if (RAND_priv_bytes(priv, sizeof(priv)) == 1)
		eph = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, sizeof(priv));
	ut_memzero(priv, sizeof(priv));
	peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pub, 32);
	if (eph == NULL || peer == NULL || EVP_PKEY_get_raw_public_key(eph, share, &slen) != 1 ||
	    (dc = EVP_PKEY_CTX_new(eph, NULL)) == NULL || EVP_PKEY_derive_init(dc) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(dc, peer, 0) != 1 || /* low order: the all-zero check below, as age */
	    EVP_PKEY_derive(dc, shared, &sharedlen) != 1 || sharedlen != 32) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "X25519 failed");
		goto out;
	}
	if (CRYPTO_memcmp(shared, zero, 32) == 0) {
		rc = ut_err(OFFCA_E_PARSE, "age recipient: a low-order X25519 point");
		goto out;
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, pub, 32);
	if ((rc = hkdf(shared, 32, salt, 64, "age-encryption.org/v1/X25519", wrap)) != OFFCA_OK ||
	    (rc = seal(wrap, nonce, file_key, FILE_KEY_LEN, body)) != OFFCA_OK)
		goto out;
	memcpy(hdr + *hlen, "-> X25519 ", 10);
	*hlen += 10;
	*hlen += b64_raw(share, 32, hdr + *hlen);
	hdr[(*hlen)++] = '\n';
	*hlen += b64_raw(body, sizeof(body), hdr + *hlen); /* 43 columns: one (final) line */
	hdr[(*hlen)++] = '\n';
	rc = OFFCA_OK;
out:
	ut_memzero(shared, sizeof(shared));
	ut_memzero(wrap, sizeof(wrap));
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(eph);
	return rc;
}

/* ASCII armor: BEGIN line, padded base64 in 64-column lines, END line. */
static offca_rc armor(const unsigned char *bin, size_t len, char **out)
{
	static const char begin[] = "-----BEGIN AGE ENCRYPTED FILE-----\n", end[] = "-----END AGE ENCRYPTED FILE-----\n";
	size_t cap = sizeof(begin) + sizeof(end) + (len / 48 + 2) * 66, k = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(s, begin, sizeof(begin) - 1);
	k = sizeof(begin) - 1;
	for (size_t off = 0; off < len; off += 48) {
		size_t n = len - off < 48 ? len - off : 48;
		k += (size_t)EVP_EncodeBlock((unsigned char *)s + k, bin + off, (int)n);
		s[k++] = '\n';
	}
	memcpy(s + k, end, sizeof(end));
	*out = s;
	return OFFCA_OK;
}

offca_rc ca_age_encrypt(const unsigned char (*pubs)[32], size_t n, const unsigned char *msg, size_t len,
			char **armored)
{
	unsigned char file_key[FILE_KEY_LEN], hkey[32], mac[32], pkey[32], stream_nonce[12] = {0};
	size_t hcap = 128 + n * 128, hlen = 0, blen;
	char *hdr = NULL;
	unsigned char *bin = NULL;
	offca_rc rc;

	*armored = NULL;
	if (n == 0 || n > CA_EXPORT_MAX_AGE || len > AGE_MAX_MSG)
		return ut_err(OFFCA_E_USAGE, "age: 1..%d recipients and at most %d bytes", CA_EXPORT_MAX_AGE, AGE_MAX_MSG);
	if ((rc = algs_get()) != OFFCA_OK)
		return rc;
	if ((hdr = malloc(hcap)) == NULL || (bin = malloc(hcap + 16 + len + 16)) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (RAND_bytes(file_key, sizeof(file_key)) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "no random bytes");
		goto out;
	}
	hlen = (size_t)snprintf(hdr, hcap, "age-encryption.org/v1\n");
	for (size_t i = 0; i < n; i++)
		if ((rc = stanza(pubs[i], file_key, hdr, &hlen)) != OFFCA_OK)
			goto out;
	memcpy(hdr + hlen, "---", 3);
	hlen += 3;
	if ((rc = hkdf(file_key, sizeof(file_key), NULL, 0, "header", hkey)) != OFFCA_OK)
		goto out;
	if ((rc = hmac_sha256(hkey, (const unsigned char *)hdr, hlen, mac)) != OFFCA_OK)
		goto out;
	hdr[hlen++] = ' ';
	hlen += b64_raw(mac, 32, hdr + hlen);
	hdr[hlen++] = '\n';
	memcpy(bin, hdr, hlen);
	blen = hlen;
	if (RAND_bytes(bin + blen, 16) != 1) { /* the payload nonce */
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "no random bytes");
		goto out;
	}
	if ((rc = hkdf(file_key, sizeof(file_key), bin + blen, 16, "payload", pkey)) != OFFCA_OK)
		goto out;
	blen += 16;
	stream_nonce[11] = 1; /* counter 0, last chunk */
	if ((rc = seal(pkey, stream_nonce, msg, len, bin + blen)) != OFFCA_OK)
		goto out;
	blen += len + 16;
	rc = armor(bin, blen, armored);
out:
	ut_memzero(file_key, sizeof(file_key));
	ut_memzero(hkey, sizeof(hkey));
	ut_memzero(pkey, sizeof(pkey));
	free(hdr);
	free(bin);
	return rc;
}
