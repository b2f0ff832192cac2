/*
 * fuzz_acme_headers.c - the HTTP header values offca-acme reads from an ACME server: each
 * '\n'-separated line is a Link value (acme_link_parse for rel "alternate" and "up") and a
 * Retry-After value (acme_retry_after_parse).
 *
 * Checks: a Link URL is a NUL-terminated substring of the value found between '<' and '>', never
 * longer than the value; Retry-After is within 1..ACME_MAX_RETRY_AFTER or 0.
 *
 * FUZZ_MAX_LEN 8192
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void one(const char *v)
{
	static const char *const rels[] = {"alternate", "up", "index"};
	long ra;

	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		char *u = acme_link_parse(v, rels[i]);
		if (u == NULL)
			continue;
		if (strlen(u) > strlen(v) || strstr(v, u) == NULL)
			abort();
		free(u);
	}
	ra = acme_retry_after_parse(v);
	if (ra < 0 || ra > ACME_MAX_RETRY_AFTER)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *line, *save = NULL;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (line = strtok_r(s, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		one(line);
	free(s);
	return 0;
}
