/* policy_text.c - characters a person reading a certificate cannot see: refused in subject and SANs. */
#include "policy_int.h"

#include <stddef.h>
#include <stdint.h>

/* Unicode general category Cf (format: bidirectional controls, zero-width characters, tags...),
   the C1 controls, the line/paragraph separators and characters that render as nothing (Hangul
   fillers, grapheme joiner, variation selectors). Sorted, inclusive. */
static const struct {
	uint32_t lo, hi;
} hidden[] = {
	{0x0080, 0x009F}, {0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x0600, 0x0605}, {0x061C, 0x061C},
	{0x06DD, 0x06DD}, {0x070F, 0x070F}, {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x115F, 0x1160},
	{0x180B, 0x180F}, {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F},
	{0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF9, 0xFFFB},
	{0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
	{0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xE0100, 0xE01EF},
};

static int is_hidden(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (cp >= hidden[i].lo && cp <= hidden[i].hi)
			return 1;
	return 0;
}

/* Next code point of UTF-8 at s[*i] (n bytes); 0xFFFFFFFF for a malformed sequence. */
static uint32_t next_cp(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);

	if (len == 0 || *i + len > n) {
		(*i)++;
		return 0xFFFFFFFFu;
	}
	for (size_t k = 1; k < len; k++) {
		if ((s[*i + k] & 0xC0) != 0x80) {
			(*i)++;
			return 0xFFFFFFFFu;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3Fu);
	}
	*i += len;
	return cp;
}

int policy_hidden_char(const char *text, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	*cp = 0;
	while (i < n) {
		size_t at = i;
		uint32_t c = next_cp(s, n, &i);
		if (c == 0xFFFFFFFFu || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF || is_hidden(c)) {
			*cp = c == 0xFFFFFFFFu ? s[at] : c;
			return 1;
		}
	}
	return 0;
}
