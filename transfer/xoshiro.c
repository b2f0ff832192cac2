/* xoshiro.c - Xoshiro256** seeded from SHA-256, as the UR fountain code uses it. */
#include "offca/ur.h"

#include <openssl/sha.h>

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void xfr_xoshiro_seed(xfr_xoshiro *x, const unsigned char *seed, size_t len)
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(seed, len, d);
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;

		for (int n = 0; n < 8; n++)
			v = (v << 8) | d[i * 8 + n];
		x->s[i] = v;
	}
}

uint64_t xfr_xoshiro_next(xfr_xoshiro *x)
{
	uint64_t *s = x->s;
	const uint64_t result = rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double xfr_xoshiro_next_double(xfr_xoshiro *x)
{
	/* 2^64 exactly, as (double)UINT64_MAX + 1 is in the reference */
	const double m = 18446744073709551616.0;

	return (double)xfr_xoshiro_next(x) / m;
}

uint64_t xfr_xoshiro_next_int(xfr_xoshiro *x, uint64_t low, uint64_t high)
{
	return (uint64_t)(xfr_xoshiro_next_double(x) * (double)(high - low + 1)) + low;
}
