/* cbor_shape.c - check the heads of untrusted CBOR with libcbor's streaming decoder (cbor_int.h). */
#include "cbor_int.h"

#include <cbor.h>

struct head {
	char kind; /* 'a', 'u', 'b'; 0 for anything else (the empty callbacks leave it) */
	size_t size;
};

static void on_array(void *ctx, size_t size)
{
	((struct head *)ctx)->kind = 'a';
	((struct head *)ctx)->size = size;
}

static void on_u8(void *ctx, uint8_t v)
{
	(void)v;
	((struct head *)ctx)->kind = 'u';
}

static void on_u16(void *ctx, uint16_t v)
{
	(void)v;
	((struct head *)ctx)->kind = 'u';
}

static void on_u32(void *ctx, uint32_t v)
{
	(void)v;
	((struct head *)ctx)->kind = 'u';
}

static void on_u64(void *ctx, uint64_t v)
{
	(void)v;
	((struct head *)ctx)->kind = 'u';
}

static void on_bytes(void *ctx, cbor_data d, size_t n)
{
	(void)d;
	((struct head *)ctx)->kind = 'b';
	((struct head *)ctx)->size = n;
}

int xfr_cbor_shape(const unsigned char *p, size_t len, const char *shape, size_t arr)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct cbor_decoder_result r;
	struct head h;
	size_t off = 0;

	cb.array_start = on_array;
	cb.uint8 = on_u8;
	cb.uint16 = on_u16;
	cb.uint32 = on_u32;
	cb.uint64 = on_u64;
	cb.byte_string = on_bytes;
	for (; *shape != '\0'; shape++) {
		if (off >= len)
			return 0;
		h.kind = 0;
		h.size = 0;
		r = cbor_stream_decode(p + off, len - off, &cb, &h);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0 || r.read > len - off)
			return 0;
		off += r.read;
		if (h.kind != *shape || (h.kind == 'a' && h.size != arr))
			return 0;
	}
	return off == len;
}
