/*
 * provenance.c - where a CSR of an inbound bundle comes from, read from its item name (covered by
 * the bundle's signature): offca-gateway names its queue items
 *     est-RID.tok-TOKENID.p-PROFILE.csr      first enrollment with an enrollment token
 *     est-RID.renew-SERIAL.p-PROFILE.csr     re-enrollment of the certificate SERIAL
 * and the CA keeps "est token=TOKENID profile=PROFILE" / "est renew=SERIAL profile=PROFILE" as the
 * start of the pending CSR's source. See docs/gateway.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "offca/bundle.h"
#include "offca/util.h"

static size_t span_hex(const char *s)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[n]))
		n++;
	return n;
}

static int profile_ok(const char *p, size_t n)
{
	return (n == 6 && strncmp(p, "server", 6) == 0) || (n == 6 && strncmp(p, "client", 6) == 0) ||
	       (n == 4 && strncmp(p, "mtls", 4) == 0);
}

int xfr_provenance_of_name(const char *name, char *out, size_t cap)
{
	const char *p = name, *who, *prof;
	size_t n, wn;
	int renew;

	if (cap > 0)
		out[0] = '\0';
	if (strncmp(p, "est-", 4) != 0)
		return 0;
	p += 4;
	if ((n = span_hex(p)) == 0 || n > 32 || p[n] != '.')
		return 0;
	p += n + 1;
	renew = strncmp(p, "renew-", 6) == 0;
	if (!renew && strncmp(p, "tok-", 4) != 0)
		return 0;
	who = p + (renew ? 6 : 4);
	if ((wn = span_hex(who)) == 0 || wn > 40 || strncmp(who + wn, ".p-", 3) != 0)
		return 0;
	prof = who + wn + 3;
	if ((n = strcspn(prof, ".")) == 0 || !profile_ok(prof, n) || strcmp(prof + n, ".csr") != 0)
		return 0;
	return snprintf(out, cap, "est %s=%.*s profile=%.*s", renew ? "renew" : "token", (int)wn, who, (int)n, prof) <
	       (int)cap;
}

int xfr_provenance_profile(const char *source, char *out, size_t cap)
{
	const char *p;
	size_t n;

	if (cap > 0)
		out[0] = '\0';
	if (source == NULL || strncmp(source, "est ", 4) != 0 || (p = strstr(source, " profile=")) == NULL)
		return 0;
	p += 9;
	n = strcspn(p, "; ");
	if (!profile_ok(p, n) || n >= cap)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}
