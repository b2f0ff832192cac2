/* mem.c - wiping and hex formatting. */
#include "offca/util.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

void ut_memzero(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void ut_free_secret(void *p, size_t len)
{
	ut_memzero(p, len);
	free(p);
}

static char *hex_fmt(const unsigned char *p, size_t len, int colon)
{
	static const char lo[] = "0123456789abcdef";
	static const char up[] = "0123456789ABCDEF";
	const char *digits = colon ? up : lo;
	size_t per = colon ? 3 : 2;
	size_t i, n;
	char *out;

	n = len * per + 1;
	out = malloc(n);
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		out[i * per] = digits[p[i] >> 4];
		out[i * per + 1] = digits[p[i] & 0xf];
		if (colon)
			out[i * per + 2] = ':';
	}
	if (colon && len > 0)
		out[len * per - 1] = '\0';
	else
		out[len * per] = '\0';
	return out;
}

char *ut_hex(const unsigned char *p, size_t len)
{
	return hex_fmt(p, len, 0);
}

int ut_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *ut_hex_colon(const unsigned char *p, size_t len)
{
	return hex_fmt(p, len, 1);
}
