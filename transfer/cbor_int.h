/* cbor_int.h - shape check of untrusted CBOR before libcbor builds it (transfer/ only). */
#ifndef OFFCA_CBOR_INT_H
#define OFFCA_CBOR_INT_H

#include <stddef.h>

/*
 * Non-zero when p[0..len) is exactly the sequence of CBOR heads shape names, one letter per head:
 * 'a' a definite array of `arr` items, 'u' an unsigned integer, 'b' a definite byte string (with
 * all its bytes present). Walks the heads with libcbor's streaming decoder, which allocates
 * nothing: cbor_load() allocates a container for the count a head declares before it reads a
 * single item, so a 5-byte frame could ask for gigabytes. Call this before cbor_load().
 */
int xfr_cbor_shape(const unsigned char *p, size_t len, const char *shape, size_t arr);

#endif
