/*
 * export_k8s.c - Kubernetes objects as `kubectl create ... --dry-run=client -o yaml` prints them:
 * a kubernetes.io/tls Secret (tls.crt = full chain, tls.key, ca.crt = root) and a trust-bundle
 * ConfigMap (ca.crt). Maps in kubectl's order (keys sorted), base64 on one line.
 */
#include "export_int.h"
#include "offca/util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

offca_rc ex_text_add(ex_text *t, const char *s, size_t len)
{
	if (t->len + len + 1 > t->cap) {
		size_t cap = (t->len + len + 1) * 2;
		char *n = malloc(cap);
		if (n == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		if (t->p != NULL) {
			memcpy(n, t->p, t->len);
			ut_free_secret(t->p, t->cap);
		}
		t->p = n;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, len);
	t->len += len;
	t->p[t->len] = '\0';
	return OFFCA_OK;
}

offca_rc ex_text_str(ex_text *t, const char *s)
{
	return ex_text_add(t, s, strlen(s));
}

void ex_text_free(ex_text *t)
{
	ut_free_secret(t->p, t->cap);
	memset(t, 0, sizeof(*t));
}

offca_rc ex_b64(const unsigned char *p, size_t len, char **out)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	*out = NULL;
	if (s == NULL || len > 0x3fffffff) {
		free(s);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	*out = s;
	return OFFCA_OK;
}

/* RFC 1123 subdomain (label: one label, at most 63) as Kubernetes names and namespaces are. */
int ca_export_k8s_name_ok(const char *name, int label)
{
	size_t n = strlen(name), run = 0;

	if (n == 0 || n > (label ? 63u : (size_t)CA_EXPORT_K8S_NAME))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '.' && !label && run > 0 && name[i - 1] != '-') {
			run = 0;
			continue;
		}
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-'))
			return 0;
		if (c == '-' && run == 0)
			return 0;
		run++;
	}
	return name[n - 1] != '-' && name[n - 1] != '.';
}

static offca_rc meta(ex_text *t, const char *pad, const char *name, const char *ns)
{
	offca_rc rc = OFFCA_OK;

	if ((rc = ex_text_str(t, "metadata:\n")) == OFFCA_OK && (rc = ex_text_str(t, pad)) == OFFCA_OK &&
	    (rc = ex_text_str(t, "creationTimestamp: null\n")) == OFFCA_OK && (rc = ex_text_str(t, pad)) == OFFCA_OK &&
	    (rc = ex_text_str(t, "name: ")) == OFFCA_OK && (rc = ex_text_str(t, name)) == OFFCA_OK)
		rc = ex_text_str(t, "\n");
	if (rc == OFFCA_OK && ns != NULL && (rc = ex_text_str(t, pad)) == OFFCA_OK &&
	    (rc = ex_text_str(t, "namespace: ")) == OFFCA_OK && (rc = ex_text_str(t, ns)) == OFFCA_OK)
		rc = ex_text_str(t, "\n");
	return rc;
}

offca_rc ex_secret_yaml(const ca_export_item *it, const char *name, const char *ns, int ind, ex_value_fn fn,
			void *arg, ex_text *out)
{
	static const char *const keys[3] = {"ca.crt", "tls.crt", "tls.key"};
	const ca_export_buf *vals[3] = {&it->root, &it->fullchain, &it->key};
	char pad[8];
	char *b64 = NULL;
	offca_rc rc;

	snprintf(pad, sizeof(pad), "%*s", ind, "");
	rc = ex_text_str(out, "apiVersion: v1\ndata:\n");
	for (int i = 0; i < 3 && rc == OFFCA_OK; i++) {
		if ((rc = ex_b64((const unsigned char *)(vals[i]->p ? vals[i]->p : ""), vals[i]->len, &b64)) != OFFCA_OK)
			break;
		if ((rc = ex_text_str(out, pad)) == OFFCA_OK && (rc = ex_text_str(out, keys[i])) == OFFCA_OK &&
		    (rc = ex_text_str(out, ": ")) == OFFCA_OK && (rc = fn(arg, keys[i], b64, out)) == OFFCA_OK)
			rc = ex_text_str(out, "\n");
		ut_free_secret(b64, strlen(b64));
		b64 = NULL;
	}
	if (rc == OFFCA_OK && (rc = ex_text_str(out, "kind: Secret\n")) == OFFCA_OK &&
	    (rc = meta(out, pad, name, ns)) == OFFCA_OK)
		rc = ex_text_str(out, "type: kubernetes.io/tls\n");
	return rc;
}

static offca_rc plain_value(void *arg, const char *key, const char *b64, ex_text *out)
{
	(void)arg;
	(void)key;
	return ex_text_str(out, b64[0] != '\0' ? b64 : "\"\"");
}

offca_rc ex_check_names(const char *name, const char *ns)
{
	if (!ca_export_k8s_name_ok(name, 0))
		return ut_err(OFFCA_E_USAGE, "'%s' is not a Kubernetes object name (lower-case letters, digits, '-' "
					     "and '.', at most 253)", name);
	if (ns != NULL && !ca_export_k8s_name_ok(ns, 1))
		return ut_err(OFFCA_E_USAGE, "'%s' is not a Kubernetes namespace (lower-case letters, digits and '-', "
					     "at most 63)", ns);
	return OFFCA_OK;
}

offca_rc ca_export_k8s_secret(const ca_export_item *it, const char *name, const char *ns, char **yaml, size_t *len)
{
	ex_text t = {0};
	offca_rc rc;

	*yaml = NULL;
	*len = 0;
	if ((rc = ex_check_names(name, ns)) != OFFCA_OK)
		return rc;
	if ((rc = ex_secret_yaml(it, name, ns, 2, plain_value, NULL, &t)) != OFFCA_OK) {
		ex_text_free(&t);
		return rc;
	}
	*yaml = t.p;
	*len = t.len;
	return OFFCA_OK;
}

offca_rc ca_export_k8s_configmap(const ca_export_item *it, const char *name, const char *ns, char **yaml,
				 size_t *len)
{
	ex_text t = {0};
	const char *p = it->root.p, *end = it->root.p + it->root.len;
	offca_rc rc;

	*yaml = NULL;
	*len = 0;
	if ((rc = ex_check_names(name, ns)) != OFFCA_OK)
		return rc;
	rc = ex_text_str(&t, "apiVersion: v1\ndata:\n  ca.crt: |\n");
	while (rc == OFFCA_OK && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if ((rc = ex_text_str(&t, "    ")) == OFFCA_OK && (rc = ex_text_add(&t, p, n)) == OFFCA_OK)
			rc = ex_text_str(&t, "\n");
		p += n + 1;
	}
	if (rc == OFFCA_OK && (rc = ex_text_str(&t, "kind: ConfigMap\n")) == OFFCA_OK)
		rc = meta(&t, "  ", name, ns);
	if (rc != OFFCA_OK) {
		ex_text_free(&t);
		return rc;
	}
	*yaml = t.p;
	*len = t.len;
	return OFFCA_OK;
}
