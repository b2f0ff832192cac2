/*
 * fuzz_dn.c - subjects typed by the operator (--subject, ceremony files): ca_x509_parse_dn() on the
 * input as a NUL-terminated string (it stops at the first NUL, as a C string from argv or YAML
 * would), and for a name it accepts the one display convention and its promise:
 *  - ca_x509_name_text() into a buffer that fits, then ca_x509_parse_dn() of that text gives the
 *    same name back (same DER) -- the round trip x509.h promises -- whenever the text is within
 *    the parser's CA_MAX_DN_TEXT (escapes can make it up to 3 times the typed length);
 *  - ca_x509_name_text() into a buffer too small for it (size from the input) is cut at a UTF-8
 *    boundary, NUL-terminated, and is a prefix of the full text.
 * A broken promise aborts: it is a finding like a crash.
 *
 * FUZZ_MAX_LEN 2048 (CA_MAX_DN_TEXT is 1024; longer input is refused as a whole)
 */
#include "offca/util.h"
#include "offca/x509.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 2253 text of up to CA_MAX_DN_TEXT values, each escaped to at most 3 bytes per byte */
#define TEXT_CAP (4 * CA_MAX_DN_TEXT)

static void fail(const char *what, const char *in, const char *text)
{
	fprintf(stderr, "fuzz_dn: %s\n  input: '%s'\n  text:  '%s'\n  detail: %s\n", what, in, text,
		ut_err_msg());
	abort();
}

static void round_trip(const char *in, const X509_NAME *name)
{
	static char text[TEXT_CAP];
	X509_NAME *back = NULL;
	unsigned char *d1 = NULL, *d2 = NULL;
	int l1, l2;

	if (ca_x509_name_text(name, text, sizeof(text)) != OFFCA_OK)
		fail("an accepted name cannot be printed", in, "");
	/* escaping ('\>', '\07') can make the text longer than the CA_MAX_DN_TEXT the parser takes:
	   a documented limit (a clean refusal), not a broken round trip */
	if (strlen(text) >= CA_MAX_DN_TEXT)
		return;
	if (ca_x509_parse_dn(text, &back) != OFFCA_OK)
		fail("the printed text of an accepted name is refused", in, text);
	l1 = i2d_X509_NAME(name, &d1);
	l2 = i2d_X509_NAME(back, &d2);
	if (l1 <= 0 || l1 != l2 || memcmp(d1, d2, (size_t)l1) != 0)
		fail("the printed text gives another name back", in, text);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
	X509_NAME_free(back);
}

static void small_buffer(const char *in, const X509_NAME *name, size_t cap)
{
	static char full[TEXT_CAP];
	char small[64];
	size_t n;
	offca_rc rc;

	if (ca_x509_name_text(name, full, sizeof(full)) != OFFCA_OK)
		return;
	memset(small, 'X', sizeof(small));
	rc = ca_x509_name_text(name, small, cap);
	n = strnlen(small, cap);
	if (n >= cap)
		fail("cut text not NUL-terminated", in, full);
	if (strncmp(small, full, n) != 0)
		fail("cut text is not a prefix of the full text", in, small);
	if (rc == OFFCA_OK && strcmp(small, full) != 0)
		fail("text cut without OFFCA_E_TOO_BIG", in, small);
	if (rc == OFFCA_E_TOO_BIG && ((unsigned char)full[n] & 0xC0) == 0x80)
		fail("text cut inside a UTF-8 sequence", in, small);
	for (size_t i = cap; i < sizeof(small); i++)
		if (small[i] != 'X')
			fail("ca_x509_name_text wrote past the buffer it was given", in, small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	X509_NAME *name = NULL;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ca_x509_parse_dn(in, &name) == OFFCA_OK) {
		if (name == NULL || X509_NAME_entry_count(name) == 0)
			fail("accepted an empty name", in, "");
		round_trip(in, name);
		small_buffer(in, name, 1 + (size % 48));
	} else if (name != NULL) {
		fail("a refusal left a name behind", in, "");
	}
	X509_NAME_free(name);
	free(in);
	ERR_clear_error();
	return 0;
}
