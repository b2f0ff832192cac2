/* cfile_yaml.c - YAML text -> JSON tree with libfyaml (no hand-written YAML), plus small helpers. */
#include "ceremony_int.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define MAX_DEPTH 16

static json_t *plain_scalar(const char *s, size_t len)
{
	char buf[32];
	char *end = NULL;
	long long v;

	if (len == 0 || (len == 1 && s[0] == '~') || (len == 4 && memcmp(s, "null", 4) == 0))
		return json_null();
	if (len == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (len == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (len < sizeof(buf) && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		errno = 0;
		v = strtoll(buf, &end, 10);
		if (errno == 0 && end != NULL && *end == '\0' && end != buf) {
			ut_memzero(buf, sizeof(buf)); /* a numeric PIN passes through here */
			return json_integer((json_int_t)v);
		}
		ut_memzero(buf, sizeof(buf));
	}
	return json_stringn(s, len);
}

static offca_rc convert(struct fy_node *n, int depth, json_t **out)
{
	offca_rc rc = OFFCA_E_PARSE;
	json_t *j = NULL, *v = NULL;
	struct fy_node *item, *k;
	struct fy_node_pair *pair;
	void *it = NULL;
	const char *s;
	size_t len;

	*out = NULL;
	if (depth > MAX_DEPTH) {
		rc = ut_err(OFFCA_E_TOO_BIG, "nested deeper than %d levels", MAX_DEPTH);
		goto out;
	}
	if (n == NULL) {
		j = json_null();
		rc = OFFCA_OK;
		goto out;
	}
	if (fy_node_get_style(n) == FYNS_ALIAS) {
		rc = ut_err(OFFCA_E_PARSE, "YAML aliases are not allowed");
		goto out;
	}
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		s = fy_node_get_scalar(n, &len);
		if (s == NULL)
			s = "", len = 0;
		if (len > CER_MAX_STR * 4) {
			rc = ut_err(OFFCA_E_TOO_BIG, "a value longer than %u bytes", CER_MAX_STR * 4);
			goto out;
		}
		j = fy_node_get_style(n) == FYNS_PLAIN ? plain_scalar(s, len) : json_stringn(s, len);
		break;
	case FYNT_SEQUENCE:
		j = json_array();
		while (j != NULL && (item = fy_node_sequence_iterate(n, &it)) != NULL) {
			if (json_array_size(j) >= CER_MAX_LIST) {
				rc = ut_err(OFFCA_E_TOO_BIG, "a list longer than %u entries", CER_MAX_LIST);
				goto out;
			}
			rc = convert(item, depth + 1, &v);
			if (rc != OFFCA_OK)
				goto out;
			json_array_append_new(j, v);
			v = NULL;
		}
		break;
	case FYNT_MAPPING:
		j = json_object();
		while (j != NULL && (pair = fy_node_mapping_iterate(n, &it)) != NULL) {
			k = fy_node_pair_key(pair);
			s = k != NULL && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
			if (s == NULL || len == 0 || len > 128 || memchr(s, '\0', len) != NULL) {
				rc = ut_err(OFFCA_E_PARSE, "mapping keys must be short plain strings");
				goto out;
			}
			rc = convert(fy_node_pair_value(pair), depth + 1, &v);
			if (rc != OFFCA_OK)
				goto out;
			{
				char key[129];
				memcpy(key, s, len);
				key[len] = '\0';
				json_object_set_new(j, key, v);
			}
			v = NULL;
		}
		break;
	default:
		rc = ut_err(OFFCA_E_PARSE, "unexpected YAML node");
		goto out;
	}
	if (j == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	*out = j;
	j = NULL;
	rc = OFFCA_OK;
out:
	json_decref(j);
	json_decref(v);
	return rc;
}

/*
 * The files are UTF-8 (YAML 1.2). Checked before libfyaml sees them: libfyaml 0.7.12 loops forever
 * on a '%' directive followed by a byte that is not UTF-8 ("%\x80", a 2-byte file). jansson's
 * string constructor does the UTF-8 check.
 */
static offca_rc utf8_check(const char *text, size_t len, const char *what)
{
	json_t *s = json_stringn(text, len);

	if (s == NULL)
		return ut_err(OFFCA_E_PARSE, "%s: not UTF-8 text", what);
	json_decref(s);
	return OFFCA_OK;
}

/*
 * Wipe every scalar's text inside the libfyaml document: for quoted, escaped or folded scalars
 * (a PIN in "..." is one) libfyaml keeps its own copy, which it frees without wiping.
 */
static void wipe_scalars(struct fy_node *n, int depth)
{
	struct fy_node *item;
	struct fy_node_pair *pair;
	void *it = NULL;
	const char *s;
	size_t len = 0;

	if (n == NULL || depth > MAX_DEPTH)
		return;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		s = fy_node_get_scalar(n, &len);
		if (s != NULL)
			ut_memzero((char *)s, len);
		break;
	case FYNT_SEQUENCE:
		while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
			wipe_scalars(item, depth + 1);
		break;
	case FYNT_MAPPING:
		while ((pair = fy_node_mapping_iterate(n, &it)) != NULL)
			wipe_scalars(fy_node_pair_value(pair), depth + 1);
		break;
	default:
		break;
	}
}

static offca_rc yaml_to_json(const char *text, size_t len, const char *what, int secret, json_t **out);

offca_rc cer_yaml_to_json(const char *text, size_t len, const char *what, json_t **out)
{
	return yaml_to_json(text, len, what, 0, out);
}

offca_rc cer_yaml_to_json_secret(const char *text, size_t len, const char *what, json_t **out)
{
	return yaml_to_json(text, len, what, 1, out);
}

static offca_rc yaml_to_json(const char *text, size_t len, const char *what, int secret, json_t **out)
{
	offca_rc rc = OFFCA_E_PARSE;
	ut_secret *copy = NULL;
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag = NULL;
	struct fy_parse_cfg pcfg;
	struct fy_document *doc = NULL;
	struct fy_diag_error *de;
	void *it = NULL;

	*out = NULL;
	rc = utf8_check(text, len, what);
	if (rc != OFFCA_OK)
		return rc;
	if (secret) { /* libfyaml parses in place: give it a locked copy it may wipe */
		copy = ut_secret_new(len);
		if (copy == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		memcpy(copy->p, text, len);
		copy->len = len;
		text = (const char *)copy->p;
	}
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (diag == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_DEFAULT_PARSE;
	pcfg.diag = diag;
	doc = fy_document_build_from_string(&pcfg, text, len);
	if (doc == NULL) {
		de = fy_diag_errors_iterate(diag, &it);
		if (de != NULL)
			rc = ut_err(OFFCA_E_PARSE, "%s: line %d, column %d: %s", what, de->line + 1,
				    de->column + 1, de->msg ? de->msg : "YAML syntax error");
		else
			rc = ut_err(OFFCA_E_PARSE, "%s: not valid YAML", what);
		goto out;
	}
	rc = convert(fy_document_root(doc), 0, out);
	if (rc != OFFCA_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg()); /* ut_err overwrites the detail it reads */
		rc = ut_err(rc, "%s: %s", what, msg);
	}
out:
	if (secret && doc != NULL)
		wipe_scalars(fy_document_root(doc), 0);
	fy_document_destroy(doc);
	if (diag != NULL)
		fy_diag_destroy(diag);
	ut_secret_free(copy);
	return rc;
}

offca_rc cer_path_join(const char *dir, const char *rel, char *out, size_t cap)
{
	int n;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		n = snprintf(out, cap, "%s", rel);
	else
		n = snprintf(out, cap, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "path too long: %s", rel);
	return OFFCA_OK;
}

void cer_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

offca_rc cer_key_uri(const cer_token *tk, const char *label, const char *type, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3 * CER_NAME_LEN + 1];
	size_t j = 0;
	int n;

	for (size_t i = 0; label[i] != '\0' && j + 4 < sizeof(enc); i++) {
		unsigned char c = (unsigned char)label[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~') {
			enc[j++] = (char)c;
		} else {
			enc[j++] = '%';
			enc[j++] = hex[c >> 4];
			enc[j++] = hex[c & 15];
		}
	}
	enc[j] = '\0';
	n = snprintf(out, cap, "%s%sobject=%s%s%s", tk->uri, strchr(tk->uri, '?') ? "" : ";", enc,
		     type ? ";type=" : "", type ? type : "");
	/* a URI with a query part: put the path attributes before it */
	if (strchr(tk->uri, '?') != NULL) {
		const char *q = strchr(tk->uri, '?');
		n = snprintf(out, cap, "%.*s;object=%s%s%s%s", (int)(q - tk->uri), tk->uri, enc,
			     type ? ";type=" : "", type ? type : "", q);
	}
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "key URI too long");
	return OFFCA_OK;
}
