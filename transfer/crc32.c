/* crc32.c - the CRC-32 (ISO-HDLC, as zlib and the UR spec use it) for frames and Bytewords. */
#include "offca/ur.h"

static uint32_t table_entry(uint32_t c)
{
	for (int k = 0; k < 8; k++)
		c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
	return c;
}

uint32_t xfr_crc32(const unsigned char *p, size_t len)
{
	static uint32_t table[256];
	static int ready;
	uint32_t c = 0xFFFFFFFFu;

	if (!ready) {
		/* idempotent: concurrent first calls write the same values */
		for (uint32_t i = 0; i < 256; i++)
			table[i] = table_entry(i);
		ready = 1;
	}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}
