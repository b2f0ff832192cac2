/* cfile_fields.c - typed field access for ceremony file validation; every problem names its path. */
#include "ceremony_int.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *type_of(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "a mapping";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "empty";
	}
}

void cer_f_unknown(cer_diag *d, json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *v;
	int ok;

	if (!json_is_object(obj))
		return;
	json_object_foreach(obj, key, v) {
		ok = 0;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				ok = 1;
		if (!ok)
			cer_diag_add(d, "%s%s%s: unknown field", path, path[0] ? "." : "", key);
	}
}

static int check_text(cer_diag *d, const char *path, const char *key, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			cer_diag_add(d, "%s%s%s: control characters are not allowed", path, path[0] ? "." : "", key);
			return 0;
		}
	}
	return 1;
}

int cer_f_str(cer_diag *d, json_t *obj, const char *path, const char *key, int required, char *buf, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	const char *sep = path[0] ? "." : "";

	if (cap > 0)
		buf[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required)
			cer_diag_add(d, "%s%s%s: missing (required)", path, sep, key);
		return 0;
	}
	if (!json_is_string(v)) {
		cer_diag_add(d, "%s%s%s: must be a string, not %s", path, sep, key, type_of(v));
		return 0;
	}
	if (json_string_length(v) == 0) {
		cer_diag_add(d, "%s%s%s: must not be empty", path, sep, key);
		return 0;
	}
	if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v)) {
		cer_diag_add(d, "%s%s%s: longer than %zu bytes", path, sep, key, cap - 1);
		return 0;
	}
	if (!check_text(d, path, key, json_string_value(v)))
		return 0;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 1;
}

int cer_f_int(cer_diag *d, json_t *obj, const char *path, const char *key, int required, long long min,
	      long long max, long long *out)
{
	json_t *v = json_object_get(obj, key);
	const char *sep = path[0] ? "." : "";

	if (v == NULL || json_is_null(v)) {
		if (required)
			cer_diag_add(d, "%s%s%s: missing (required)", path, sep, key);
		return 0;
	}
	if (!json_is_integer(v)) {
		cer_diag_add(d, "%s%s%s: must be an integer, not %s", path, sep, key, type_of(v));
		return 0;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		cer_diag_add(d, "%s%s%s: must be %lld..%lld, not %lld", path, sep, key, min, max,
			     (long long)json_integer_value(v));
		return 0;
	}
	*out = json_integer_value(v);
	return 1;
}

int cer_f_bool(cer_diag *d, json_t *obj, const char *path, const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		cer_diag_add(d, "%s%s%s: must be true or false, not %s", path, path[0] ? "." : "", key, type_of(v));
		return 0;
	}
	*out = json_is_true(v);
	return 1;
}

int cer_f_strv(cer_diag *d, json_t *obj, const char *path, const char *key, int required, size_t min_n,
	       char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *it;
	const char *sep = path[0] ? "." : "";
	char **arr = NULL;
	size_t i, k = 0;
	int ok = 1;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v)) {
		if (required)
			cer_diag_add(d, "%s%s%s: missing (required)", path, sep, key);
		return 0;
	}
	if (!json_is_array(v)) {
		cer_diag_add(d, "%s%s%s: must be a list, not %s", path, sep, key, type_of(v));
		return 0;
	}
	if (json_array_size(v) < min_n) {
		cer_diag_add(d, "%s%s%s: needs at least %zu entr%s", path, sep, key, min_n, min_n == 1 ? "y" : "ies");
		return 0;
	}
	arr = calloc(json_array_size(v) + 1, sizeof(*arr));
	if (arr == NULL)
		return 0;
	json_array_foreach(v, i, it) {
		if (!json_is_string(it) || json_string_length(it) == 0 || json_string_length(it) >= CER_MAX_STR ||
		    strlen(json_string_value(it)) != json_string_length(it)) {
			cer_diag_add(d, "%s%s%s[%zu]: must be a non-empty string", path, sep, key, i);
			ok = 0;
			continue;
		}
		arr[k] = strdup(json_string_value(it));
		if (arr[k] != NULL)
			k++;
	}
	if (!ok) {
		cer_strv_free(arr, k);
		return 0;
	}
	*out = arr;
	*n = k;
	return 1;
}

json_t *cer_f_obj(cer_diag *d, json_t *obj, const char *path, const char *key, int required)
{
	json_t *v = json_object_get(obj, key);
	const char *sep = path[0] ? "." : "";

	if (v == NULL || json_is_null(v)) {
		if (required)
			cer_diag_add(d, "%s%s%s: missing (required)", path, sep, key);
		return NULL;
	}
	if (!json_is_object(v)) {
		cer_diag_add(d, "%s%s%s: must be a mapping, not %s", path, sep, key, type_of(v));
		return NULL;
	}
	return v;
}

int cer_parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0;

	if (strlen(s) != 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 20)
		return -1;
	if (y < 1950 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59 ||
	    h < 0 || mi < 0 || se < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = (int64_t)timegm(&tm);
	gmtime_r(&(time_t){(time_t)*out}, &tm);
	if (tm.tm_mday != d) /* 2026-02-31 */
		return -1;
	return 0;
}
