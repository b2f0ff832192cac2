/* crc32.c - the CRC-32 (ISO-HDLC, as zlib and the UR spec use it) for frames and Bytewords. */
#include "offca/ur.h"

#include <pthread.h>

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

uint32_t xfr_crc32(const unsigned char *p, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;

	pthread_once(&table_once, table_init);
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}
