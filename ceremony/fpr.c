/* fpr.c - the one way a hash or fingerprint is shown to people: upper-case hex in groups of four
   ("75BA 1446 ..."), on the run screen, in the review and transcript PDFs and in verify's output,
   so witnesses read aloud and compare the same characters everywhere. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "offca/ceremony.h"

void cer_hex_grouped(const unsigned char *raw, size_t n, char *buf, size_t cap)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t k = 0;

	if (cap == 0)
		return;
	for (size_t i = 0; i < n && k + 2 < cap; i++) { /* room for two digits and the NUL */
		if (i > 0 && i % 2 == 0) {
			if (k + 3 >= cap)
				break;
			buf[k++] = ' ';
		}
		buf[k++] = hx[raw[i] >> 4];
		buf[k++] = hx[raw[i] & 15];
	}
	buf[k] = '\0';
}

void cer_fp_text(const char *recorded, char *buf, size_t cap)
{
	unsigned char raw[64];
	size_t n = 0, digits = 0;
	int hi = -1;

	if (cap == 0)
		return;
	for (const char *p = recorded ? recorded : ""; *p; p++) {
		int v;
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || n == sizeof(raw))
			goto as_is;
		v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		digits++;
		if (hi < 0) {
			hi = v;
		} else {
			raw[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0 || digits < 16)
		goto as_is;
	cer_hex_grouped(raw, n, buf, cap);
	return;
as_is:
	snprintf(buf, cap, "%s", recorded ? recorded : "");
}
