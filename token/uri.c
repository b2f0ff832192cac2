/* uri.c - RFC 7512 pkcs11: URIs: strict parsing, percent-decoding, building key URIs. */
#include "tok_int.h"
#include "offca/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ATTRS 24

struct tok_attr {
	char name[32];
	unsigned char *val; /* decoded, NUL-terminated (id may hold NULs: use len) */
	size_t len;
};

struct tok_uri {
	struct tok_attr a[MAX_ATTRS];
	size_t n;
};

static const char *const path_attrs[] = {"token", "manufacturer", "serial", "model", "object", "id", "type",
					 "slot-id", "slot-description", "slot-manufacturer",
					 "library-manufacturer", "library-description", "library-version", NULL};
static const char *const query_attrs[] = {"pin-source", "module-name", "module-path", NULL};
static const char *const types[] = {"public", "private", "cert", "secret-key", "data", NULL};

static int in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode src[0..n) into a new buffer. */
static offca_rc pct_decode(const char *src, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	size_t j = 0;
	offca_rc rc = OFFCA_E_NOMEM;

	buf = malloc(n + 1);
	if (buf == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (src[i] != '%') {
			buf[j++] = (unsigned char)src[i];
			continue;
		}
		if (i + 2 >= n) {
			rc = ut_err(OFFCA_E_PARSE, "pkcs11 URI: truncated percent-escape");
			goto out;
		}
		if (hexval(src[i + 1]) < 0 || hexval(src[i + 2]) < 0) {
			rc = ut_err(OFFCA_E_PARSE, "pkcs11 URI: bad percent-escape '%%%c%c'", src[i + 1], src[i + 2]);
			goto out;
		}
		buf[j++] = (unsigned char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
		i += 2;
	}
	buf[j] = '\0';
	*out = buf;
	*outlen = j;
	buf = NULL;
	rc = OFFCA_OK;
out:
	free(buf);
	return rc;
}

static int valid_char(int c)
{
	/* RFC 3986 unreserved, RFC 7512 pk11-res-avail / query chars, '%' (escapes) */
	return c != 0 && (isalnum(c) || strchr("-._~:[]@!$'()*+,=&/?|%;", c) != NULL);
}

static offca_rc check_value(const char *name, const unsigned char *v, size_t len)
{
	if (strcmp(name, "id") != 0 && memchr(v, '\0', len) != NULL)
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: attribute '%s' contains a NUL byte", name);
	if (strcmp(name, "type") == 0 && !in_list(types, (const char *)v))
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: type=%s is not public|private|cert|secret-key|data",
			      (const char *)v);
	if (strcmp(name, "slot-id") == 0) {
		if (len == 0 || len > 19 || strspn((const char *)v, "0123456789") != len)
			return ut_err(OFFCA_E_PARSE, "pkcs11 URI: slot-id must be a decimal number");
	}
	if (strcmp(name, "id") == 0 && len > TOK_MAX_ID)
		return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI: id longer than %d bytes", TOK_MAX_ID);
	return OFFCA_OK;
}

/* Parse one "name=value" component of length n. */
static offca_rc parse_attr(tok_uri *uri, const char *s, size_t n, int query)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen;
	struct tok_attr *a;
	offca_rc rc;

	if (n == 0)
		return OFFCA_OK; /* empty component ("pkcs11:" or a trailing ';') */
	if (eq == NULL)
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: '%.*s' is not name=value", (int)(n > 40 ? 40 : n), s);
	nlen = (size_t)(eq - s);
	if (nlen == 0 || nlen >= sizeof(uri->a[0].name))
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: bad attribute name '%.*s'", (int)(nlen > 40 ? 40 : nlen), s);
	if (uri->n >= MAX_ATTRS)
		return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI: more than %d attributes", MAX_ATTRS);
	a = &uri->a[uri->n];
	memcpy(a->name, s, nlen);
	a->name[nlen] = '\0';
	if (query && strcmp(a->name, "pin-value") == 0)
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: pin-value is refused (a PIN never belongs in a URI; "
					     "use pin-source=file:... or --pin-file)");
	if (strncmp(a->name, "x-", 2) != 0 && !in_list(query ? query_attrs : path_attrs, a->name))
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: unknown %s attribute '%s'", query ? "query" : "path",
			      a->name);
	if (tok_uri_get(uri, a->name) != NULL)
		return ut_err(OFFCA_E_PARSE, "pkcs11 URI: attribute '%s' appears twice", a->name);
	rc = pct_decode(eq + 1, n - nlen - 1, &a->val, &a->len);
	if (rc != OFFCA_OK)
		return rc;
	uri->n++;
	return check_value(a->name, a->val, a->len);
}

static offca_rc parse_part(tok_uri *uri, const char *s, size_t n, char sep, int query)
{
	size_t start = 0;
	offca_rc rc;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != sep)
			continue;
		rc = parse_attr(uri, s + start, i - start, query);
		if (rc != OFFCA_OK)
			return rc;
		start = i + 1;
	}
	return OFFCA_OK;
}

offca_rc tok_uri_parse(const char *text, tok_uri **out)
{
	tok_uri *uri = NULL;
	const char *body, *q;
	size_t len;
	offca_rc rc = OFFCA_E_NOMEM;

	if (out != NULL)
		*out = NULL;
	if (text == NULL || out == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_uri_parse: NULL argument");
	len = strnlen(text, TOK_MAX_URI + 1);
	if (len > TOK_MAX_URI)
		return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI longer than %d bytes", TOK_MAX_URI);
	if (strncasecmp(text, "pkcs11:", 7) != 0)
		return ut_err(OFFCA_E_PARSE, "not a pkcs11: URI: '%.60s'", text);
	for (size_t i = 7; i < len; i++) {
		if (!valid_char((unsigned char)text[i]))
			return ut_err(OFFCA_E_PARSE, "pkcs11 URI: character 0x%02x at offset %zu must be percent-encoded",
				      (unsigned char)text[i], i);
	}
	uri = calloc(1, sizeof(*uri));
	if (uri == NULL)
		goto out;
	body = text + 7;
	q = strchr(body, '?');
	rc = parse_part(uri, body, q != NULL ? (size_t)(q - body) : strlen(body), ';', 0);
	if (rc != OFFCA_OK)
		goto out;
	if (q != NULL) {
		rc = parse_part(uri, q + 1, strlen(q + 1), '&', 1);
		if (rc != OFFCA_OK)
			goto out;
	}
	*out = uri;
	uri = NULL;
	rc = OFFCA_OK;
out:
	tok_uri_free(uri);
	return rc;
}

void tok_uri_free(tok_uri *uri)
{
	if (uri == NULL)
		return;
	for (size_t i = 0; i < uri->n; i++)
		ut_free_secret(uri->a[i].val, uri->a[i].len + 1);
	free(uri);
}

const char *tok_uri_get(const tok_uri *uri, const char *attr)
{
	if (uri == NULL || attr == NULL)
		return NULL;
	for (size_t i = 0; i < uri->n; i++)
		if (strcmp(uri->a[i].name, attr) == 0)
			return (const char *)uri->a[i].val;
	return NULL;
}

const unsigned char *tok_uri_id(const tok_uri *uri, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (uri == NULL)
		return NULL;
	for (size_t i = 0; i < uri->n; i++) {
		if (strcmp(uri->a[i].name, "id") == 0) {
			if (len != NULL)
				*len = uri->a[i].len;
			return uri->a[i].val;
		}
	}
	return NULL;
}

/* Characters left as they are inside a path attribute value. */
static int plain_char(int c)
{
	return isalnum(c) || strchr("-._~:[]@!$'()*+,&", c) != NULL;
}

offca_rc tok_uri_append(char *buf, size_t cap, const char *attr, const unsigned char *val, size_t len, int all)
{
	size_t used = strlen(buf);
	int n;

	n = snprintf(buf + used, cap - used, "%s%s=", (used > 0 && buf[used - 1] == ':') ? "" : ";", attr);
	if (n < 0 || (size_t)n >= cap - used)
		return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI too long");
	used += (size_t)n;
	for (size_t i = 0; i < len; i++) {
		if (!all && plain_char(val[i])) {
			if (used + 1 >= cap)
				return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI too long");
			buf[used++] = (char)val[i];
			buf[used] = '\0';
			continue;
		}
		n = snprintf(buf + used, cap - used, "%%%02x", val[i]);
		if (n < 0 || (size_t)n >= cap - used)
			return ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI too long");
		used += (size_t)n;
	}
	return OFFCA_OK;
}

offca_rc tok_key_uri_make(const char *token_label, const unsigned char *id, size_t id_len, const char *label,
			  char **out)
{
	return tok_obj_uri_make(token_label, id, id_len, label, "private", out);
}

offca_rc tok_obj_uri_make(const char *token_label, const unsigned char *id, size_t id_len, const char *label,
			  const char *type, char **out)
{
	char *buf = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	*out = NULL;
	buf = calloc(1, TOK_MAX_URI);
	if (buf == NULL)
		goto out;
	strcpy(buf, "pkcs11:");
	rc = tok_uri_append(buf, TOK_MAX_URI, "token", (const unsigned char *)token_label, strlen(token_label), 0);
	if (rc == OFFCA_OK && id != NULL && id_len > 0)
		rc = tok_uri_append(buf, TOK_MAX_URI, "id", id, id_len, 1);
	if (rc == OFFCA_OK && label != NULL && label[0] != '\0')
		rc = tok_uri_append(buf, TOK_MAX_URI, "object", (const unsigned char *)label, strlen(label), 0);
	if (rc == OFFCA_OK)
		rc = tok_uri_append(buf, TOK_MAX_URI, "type", (const unsigned char *)type, strlen(type), 0);
	if (rc != OFFCA_OK)
		goto out;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	return rc;
}
