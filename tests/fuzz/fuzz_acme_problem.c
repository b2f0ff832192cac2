/*
 * fuzz_acme_problem.c - what offca-acme makes of an ACME server's response body: the problem
 * document line (acme_problem_line, acme_problem_type) for a status taken from the first two
 * bytes, the RFC 3339 timestamps of ARI answers (acme_rfc3339 on the body as a string), and the
 * JSON fields the client reads from order, authorization and challenge objects.
 *
 * Checks: the line is NUL-terminated inside its buffer, has no control character (the server's
 * are replaced), and a cut buffer gives a prefix of the full line; the type is "" or letters and
 * digits only (an ACME error type).
 *
 * FUZZ_MAX_LEN 8192
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ari.h"
#include "problem.h"

static void check_line(const char *line, size_t cap)
{
	size_t n = strnlen(line, cap);

	if (n >= cap)
		abort(); /* not terminated */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort(); /* a control character from the server got through */
}

static void walk_fields(const unsigned char *body, size_t len)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)body, len, 0, &err), *x;
	size_t i;

	if (j == NULL)
		return;
	/* what order.c reads: status, authorizations[], finalize, certificate, challenges[].type/token/url */
	(void)json_string_value(json_object_get(j, "status"));
	(void)json_string_value(json_object_get(j, "finalize"));
	(void)json_string_value(json_object_get(j, "certificate"));
	json_array_foreach(json_object_get(j, "authorizations"), i, x) (void)json_string_value(x);
	json_array_foreach(json_object_get(j, "challenges"), i, x) {
		(void)json_string_value(json_object_get(x, "type"));
		(void)json_string_value(json_object_get(x, "token"));
		(void)json_string_value(json_object_get(x, "url"));
	}
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char full[1024], cut[17], type[64];
	long status = 400;
	char *s;
	time_t t;

	if (size >= 2) {
		status = 100 + (data[0] << 8 | data[1]) % 500;
		data += 2;
		size -= 2;
	}
	acme_problem_line(data, size, status, full, sizeof(full));
	check_line(full, sizeof(full));
	acme_problem_line(data, size, status, cut, sizeof(cut));
	check_line(cut, sizeof(cut));
	if (strncmp(full, cut, strlen(cut)) != 0)
		abort(); /* a smaller buffer must give a prefix */
	acme_problem_type(data, size, type, sizeof(type));
	for (const char *p = type; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			abort(); /* callers compare it with ACME types: nothing else may come out */
	walk_fields(data, size);
	s = malloc(size + 1);
	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
		(void)acme_rfc3339(s, &t);
		free(s);
	}
	return 0;
}
