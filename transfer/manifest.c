/* manifest.c - the bundle manifest: canonical JSON (jansson), built and strictly parsed. */
#include "bundle_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static json_t *item_json(const xfr_item *it)
{
	char *hex = ut_hex(it->sha256, sizeof(it->sha256));
	json_t *o = NULL;

	if (hex == NULL)
		return NULL;
	o = json_pack("{s:s, s:s, s:I, s:s}", "name", it->name, "sha256", hex, "size", (json_int_t)it->len,
		      "type", xfr_item_type_name(it->type));
	free(hex);
	return o;
}

offca_rc xfr_manifest_build(const xfr_bundle *b, unsigned char **out, size_t *len)
{
	offca_rc rc = OFFCA_E_NOMEM;
	json_t *root = NULL, *items = NULL, *it;
	char *text = NULL;

	*out = NULL;
	*len = 0;
	items = json_array();
	if (items == NULL)
		goto out;
	for (size_t i = 0; i < b->n_items; i++) {
		it = item_json(&b->items[i]);
		if (it == NULL || json_array_append_new(items, it) != 0)
			goto out;
	}
	root = json_pack("{s:i, s:s, s:I, s:s, s:O}", "format", XFR_FORMAT_VERSION, "direction",
			 xfr_direction_name(b->dir), "created", (json_int_t)b->created, "issuer", b->issuer,
			 "items", items);
	if (root == NULL)
		goto out;
	text = json_dumps(root, DUMP_FLAGS);
	if (text == NULL)
		goto out;
	*len = strlen(text);
	*out = (unsigned char *)text;
	text = NULL;
	rc = OFFCA_OK;
out:
	if (rc != OFFCA_OK)
		ut_err(rc, "out of memory building the bundle manifest");
	free(text);
	json_decref(root);
	json_decref(items);
	return rc;
}

/* ---- parsing ---- */

/* Every key of obj must be in allowed (NULL-terminated). */
static offca_rc only_keys(json_t *obj, const char *const *allowed, const char *path)
{
	const char *key;
	json_t *v;
	int ok;

	json_object_foreach(obj, key, v) {
		ok = 0;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = 1;
		if (!ok)
			return ut_err(OFFCA_E_PARSE, "bundle %s: unknown field \"%.40s\"", path, key);
	}
	return OFFCA_OK;
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static offca_rc parse_sha256(json_t *v, unsigned char out[32], const char *path)
{
	const char *s = json_string_value(v);
	int hi, lo;

	if (s == NULL || json_string_length(v) != 64)
		return ut_err(OFFCA_E_PARSE, "bundle %s.sha256: must be 64 lower-case hex digits", path);
	for (size_t i = 0; i < 32; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ut_err(OFFCA_E_PARSE, "bundle %s.sha256: must be 64 lower-case hex digits", path);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return OFFCA_OK;
}

static offca_rc parse_item(json_t *o, xfr_item *it, const char *path, size_t *total)
{
	static const char *const keys[] = {"name", "sha256", "size", "type", NULL};
	offca_rc rc;
	json_t *name, *size, *type;
	json_int_t sz;

	if (!json_is_object(o))
		return ut_err(OFFCA_E_PARSE, "bundle %s: must be an object", path);
	rc = only_keys(o, keys, path);
	if (rc != OFFCA_OK)
		return rc;
	name = json_object_get(o, "name");
	size = json_object_get(o, "size");
	type = json_object_get(o, "type");
	if (!json_is_string(name) || json_string_length(name) > XFR_MAX_NAME ||
	    strlen(json_string_value(name)) != json_string_length(name) || !xfr_name_valid(json_string_value(name)))
		return ut_err(OFFCA_E_PARSE, "bundle %s.name: must be 1..%u bytes of [A-Za-z0-9._+-] not "
			      "starting with '.' (no paths, no control characters)", path, XFR_MAX_NAME);
	memcpy(it->name, json_string_value(name), json_string_length(name) + 1);
	if (!json_is_string(type) || xfr_item_type_parse(json_string_value(type), &it->type) != OFFCA_OK ||
	    strcmp(json_string_value(type), xfr_item_type_name(it->type)) != 0)
		return ut_err(OFFCA_E_PARSE, "bundle %s.type: unknown item type", path);
	if (!json_is_integer(size))
		return ut_err(OFFCA_E_PARSE, "bundle %s.size: must be an integer", path);
	sz = json_integer_value(size);
	if (sz < 0 || sz > (json_int_t)XFR_MAX_ITEM)
		return ut_err(OFFCA_E_TOO_BIG, "bundle %s.size: %lld is outside 0..%u", path, (long long)sz,
			      XFR_MAX_ITEM);
	it->len = (size_t)sz;
	*total += it->len;
	if (*total > XFR_MAX_BUNDLE)
		return ut_err(OFFCA_E_TOO_BIG, "bundle items add up to more than %u bytes", XFR_MAX_BUNDLE);
	return parse_sha256(json_object_get(o, "sha256"), it->sha256, path);
}

static offca_rc parse_header(json_t *root, xfr_bundle *b)
{
	static const char *const keys[] = {"created", "direction", "format", "issuer", "items", NULL};
	offca_rc rc;
	json_t *v;

	if (!json_is_object(root))
		return ut_err(OFFCA_E_PARSE, "bundle manifest: must be a JSON object");
	rc = only_keys(root, keys, "manifest");
	if (rc != OFFCA_OK)
		return rc;
	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != XFR_FORMAT_VERSION)
		return ut_err(OFFCA_E_PARSE, "bundle manifest.format: unsupported version (this offca reads %d)",
			      XFR_FORMAT_VERSION);
	v = json_object_get(root, "direction");
	if (!json_is_string(v) || xfr_direction_parse(json_string_value(v), &b->dir) != OFFCA_OK)
		return ut_err(OFFCA_E_PARSE, "bundle manifest.direction: must be \"in\" or \"out\"");
	v = json_object_get(root, "created");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ut_err(OFFCA_E_PARSE, "bundle manifest.created: must be a non-negative integer");
	b->created = (int64_t)json_integer_value(v);
	v = json_object_get(root, "issuer");
	if (!json_is_string(v) || json_string_length(v) > XFR_MAX_ISSUER ||
	    !printable(json_string_value(v), json_string_length(v)))
		return ut_err(OFFCA_E_PARSE, "bundle manifest.issuer: must be at most %u printable ASCII bytes",
			      XFR_MAX_ISSUER);
	memcpy(b->issuer, json_string_value(v), json_string_length(v) + 1);
	return OFFCA_OK;
}

offca_rc xfr_manifest_parse(const unsigned char *buf, size_t len, xfr_bundle *b)
{
	offca_rc rc = OFFCA_E_PARSE;
	json_t *root = NULL, *items;
	json_error_t jerr;
	char *again = NULL;
	char path[48];
	size_t n, total = 0;

	if (len == 0 || len > XFR_MAX_MANIFEST)
		return ut_err(OFFCA_E_TOO_BIG, "bundle manifest of %zu bytes is outside 1..%u", len, XFR_MAX_MANIFEST);
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		rc = ut_err(OFFCA_E_PARSE, "bundle manifest: invalid JSON at byte %d: %s", jerr.position, jerr.text);
		goto out;
	}
	rc = parse_header(root, b);
	if (rc != OFFCA_OK)
		goto out;
	items = json_object_get(root, "items");
	n = json_array_size(items);
	if (!json_is_array(items) || n == 0 || n > XFR_MAX_ITEMS) {
		rc = ut_err(n > XFR_MAX_ITEMS ? OFFCA_E_TOO_BIG : OFFCA_E_PARSE,
			    "bundle manifest.items: must be an array of 1..%u items", XFR_MAX_ITEMS);
		goto out;
	}
	b->items = calloc(n, sizeof(*b->items));
	if (b->items == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	b->n_items = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "manifest.items[%zu]", i);
		rc = parse_item(json_array_get(items, i), &b->items[i], path, &total);
		if (rc != OFFCA_OK)
			goto out;
	}
	b->total = total;
	/* exactly one encoding is accepted: the one xfr_manifest_build() writes */
	again = json_dumps(root, DUMP_FLAGS);
	if (again == NULL || strlen(again) != len || memcmp(again, buf, len) != 0) {
		rc = ut_err(OFFCA_E_PARSE, "bundle manifest: not in canonical form (compact, sorted keys, ASCII)");
		goto out;
	}
	rc = OFFCA_OK;
out:
	free(again);
	json_decref(root);
	return rc;
}
