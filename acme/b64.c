/* b64.c - base64url via OpenSSL EVP_EncodeBlock/EVP_DecodeBlock plus the alphabet translation. */
#include "b64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

char *acme_b64url(const unsigned char *p, size_t len)
{
	char *out;
	size_t n;
	int w;

	if (len > (size_t)1 << 28)
		return NULL;
	n = 4 * ((len + 2) / 3) + 1;
	out = malloc(n);
	if (out == NULL)
		return NULL;
	w = EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	while (w > 0 && out[w - 1] == '=')
		w--;
	out[w] = '\0';
	for (int i = 0; i < w; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

offca_rc acme_b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	offca_rc rc = OFFCA_E_PARSE;
	size_t len = strlen(in), pad = 0, cap = 0;
	char *tmp = NULL;
	unsigned char *buf = NULL;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len > ACME_B64_MAX_IN) {
		rc = ut_err(OFFCA_E_TOO_BIG, "base64 input longer than %u characters", ACME_B64_MAX_IN);
		goto out;
	}
	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len == 0 || len % 4 == 1) {
		rc = ut_err(OFFCA_E_PARSE, "malformed base64");
		goto out;
	}
	pad = (4 - len % 4) % 4;
	cap = len + pad + 1;
	tmp = malloc(cap);
	buf = malloc(cap);
	if (tmp == NULL || buf == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '+' || c == '/')) {
			rc = ut_err(OFFCA_E_PARSE, "malformed base64 (character %zu)", i + 1);
			goto out;
		}
		tmp[i] = c;
	}
	memset(tmp + len, '=', pad);
	tmp[len + pad] = '\0';
	n = EVP_DecodeBlock(buf, (const unsigned char *)tmp, (int)(len + pad));
	if (n < 0) {
		rc = ut_err(OFFCA_E_PARSE, "malformed base64");
		goto out;
	}
	*outlen = (size_t)n - pad;
	*out = buf;
	buf = NULL;
	rc = OFFCA_OK;
out:
	ut_free_secret(tmp, cap);
	ut_free_secret(buf, cap);
	return rc;
}
