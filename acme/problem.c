/* problem.c - problem documents into clear one-line messages (see problem.h). */
#include "problem.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define MAX_SUBPROBLEMS 8

static void append(char *buf, size_t cap, const char *s)
{
	size_t used = strlen(buf);

	for (; *s != '\0' && used + 1 < cap; s++)
		buf[used++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[used] = '\0';
}

static const char *short_type(const char *t)
{
	size_t nl = strlen(ACME_ERR_NS);

	if (t == NULL)
		return "";
	return strncmp(t, ACME_ERR_NS, nl) == 0 ? t + nl : t;
}

char *acme_problem_type(const unsigned char *body, size_t len, char *buf, size_t cap)
{
	json_t *j = NULL;
	json_error_t err;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (body != NULL && len > 0)
		j = json_loadb((const char *)body, len, 0, &err);
	if (json_is_object(j)) {
		const char *t = json_string_value(json_object_get(j, "type"));
		size_t nl = strlen(ACME_ERR_NS), n;
		/* only an ACME type (letters and digits after the namespace) that fits: never a cut or
		 * escaped string that a caller could compare with one of ours (found by fuzz_acme_problem) */
		if (t != NULL && strncmp(t, ACME_ERR_NS, nl) == 0) {
			t += nl;
			n = strlen(t);
			if (n > 0 && n < cap && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n)
				memcpy(buf, t, n + 1);
		}
	}
	json_decref(j);
	return buf;
}

char *acme_problem_line(const unsigned char *body, size_t len, long status, char *buf, size_t cap)
{
	json_t *j = NULL, *subs, *sp;
	json_error_t err;
	const char *type, *detail;
	char tmp[32];
	size_t i;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (body != NULL && len > 0)
		j = json_loadb((const char *)body, len, 0, &err);
	type = json_string_value(json_object_get(j, "type"));
	if (!json_is_object(j) || type == NULL) {
		snprintf(tmp, sizeof(tmp), "HTTP %ld", status);
		append(buf, cap, tmp);
		goto out;
	}
	append(buf, cap, short_type(type));
	detail = json_string_value(json_object_get(j, "detail"));
	if (detail != NULL && detail[0] != '\0') {
		append(buf, cap, ": ");
		append(buf, cap, detail);
	}
	subs = json_object_get(j, "subproblems");
	json_array_foreach(subs, i, sp) {
		if (i >= MAX_SUBPROBLEMS) {
			append(buf, cap, " [...]");
			break;
		}
		json_t *id = json_object_get(sp, "identifier");
		append(buf, cap, " [");
		if (json_string_value(json_object_get(id, "value")) != NULL) {
			append(buf, cap, json_string_value(json_object_get(id, "value")));
			append(buf, cap, ": ");
		}
		append(buf, cap, short_type(json_string_value(json_object_get(sp, "type"))));
		if (json_string_value(json_object_get(sp, "detail")) != NULL) {
			append(buf, cap, ": ");
			append(buf, cap, json_string_value(json_object_get(sp, "detail")));
		}
		append(buf, cap, "]");
	}
out:
	json_decref(j);
	return buf;
}
