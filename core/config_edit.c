/*
 * config_edit.c - the one change offca itself makes to config.json: an intermediate made with
 * --permit-dns gets the same names as issuers.<name>.policy.dns_suffixes, unless the operator's
 * config already sets that key (the operator's value wins; the name constraints in the
 * certificate are enforced at signing either way). The file is rewritten atomically (mode 0600),
 * only after the new text passed the config's own strict parsing.
 */
#include "offca/config.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* obj[key] as an object, created when absent; NULL (detail set) when it is something else. */
static json_t *child(json_t *obj, const char *key, const char *path)
{
	json_t *c = json_object_get(obj, key);

	if (c == NULL) {
		c = json_object();
		if (c == NULL || json_object_set_new(obj, key, c) != 0) {
			ut_err(OFFCA_E_NOMEM, "out of memory");
			return NULL;
		}
	} else if (!json_is_object(c)) {
		ut_err(OFFCA_E_PARSE, "config %s: must be an object", path);
		return NULL;
	}
	return c;
}

static offca_rc suffix_array(const char *const *dns, size_t n, json_t **out)
{
	json_t *a = json_array();

	*out = NULL;
	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(dns[i][0] == '.' ? dns[i] + 1 : dns[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	if (a == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	*out = a;
	return OFFCA_OK;
}

/* Text of doc with a final newline, checked by ca_config_parse(). */
static offca_rc render(json_t *doc, char **text)
{
	char *t = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *t2;
	ca_config *cfg = NULL;
	offca_rc rc;
	size_t l;

	*text = NULL;
	if (t == NULL || (t2 = realloc(t, (l = strlen(t)) + 2)) == NULL) {
		free(t);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	t2[l] = '\n';
	t2[l + 1] = '\0';
	if ((rc = ca_config_parse(t2, l + 1, &cfg)) != OFFCA_OK) {
		free(t2);
		return rc;
	}
	ca_config_free(cfg);
	*text = t2;
	return OFFCA_OK;
}

offca_rc ca_config_adopt_permit_dns(const char *home, const char *issuer, const char *const *dns, size_t n,
				    int *written)
{
	char path[4096], sub[128];
	unsigned char *buf = NULL;
	size_t len = 0;
	json_t *doc = NULL, *iss, *sect, *pol, *arr = NULL;
	json_error_t jerr;
	char *text = NULL;
	offca_rc rc;
	int k;

	*written = 0;
	if (n == 0)
		return OFFCA_OK;
	k = snprintf(path, sizeof(path), "%s/%s", home, CA_CONFIG_FILE);
	if (k < 0 || (size_t)k >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "CA home path too long");
	if ((rc = ut_read_file(path, CA_CONFIG_MAX_BYTES, 1, &buf, &len)) != OFFCA_OK)
		return rc;
	doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		rc = ut_err(OFFCA_E_PARSE, "config: line %d: %s", jerr.line, doc == NULL ? jerr.text : "not an object");
		goto out;
	}
	snprintf(sub, sizeof(sub), "issuers.%s", issuer);
	rc = OFFCA_E_PARSE;
	if ((iss = child(doc, "issuers", "issuers")) == NULL || (sect = child(iss, issuer, sub)) == NULL)
		goto out;
	snprintf(sub, sizeof(sub), "issuers.%s.policy", issuer);
	if ((pol = child(sect, "policy", sub)) == NULL)
		goto out;
	rc = OFFCA_OK;
	if (json_object_get(pol, "dns_suffixes") != NULL)
		goto out; /* the operator's setting wins */
	if ((rc = suffix_array(dns, n, &arr)) != OFFCA_OK)
		goto out;
	json_object_set_new(pol, "dns_suffixes", arr);
	if ((rc = render(doc, &text)) != OFFCA_OK ||
	    (rc = ut_write_file(path, text, strlen(text), UT_WF_SECRET)) != OFFCA_OK)
		goto out;
	*written = 1;
out:
	if (rc == OFFCA_E_PARSE && strncmp(ut_err_msg(), "config", 6) != 0)
		ut_err(rc, "config: cannot be read back");
	free(text);
	json_decref(doc);
	free(buf);
	return rc;
}
