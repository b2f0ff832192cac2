/*
 * store.c - offca-acme's state directory:
 *   account/key.pem (0600, only the key process reads it), account/account.json
 *   certs/NAME.json (what renew needs), certs/NAME.csr (the endpoint's CSR)
 *   live/NAME/{cert,chain,fullchain}.pem [+ privkey.pem 0600 for generated keys]
 * One small JSON file per certificate, replaced atomically (ut_write_file): a handful of
 * records, one writer at a time, readable by an operator with cat; LMDB would add a lock file
 * and a map size for no gain at this scale.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "offca/util.h"

int acme_cert_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > ACME_MAX_DNS_NAME)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == '_'))
			return 0;
	return strstr(name, "..") == NULL;
}

offca_rc acme_state_path(const struct acme_opts *o, const char *rel, char *buf, size_t cap)
{
	int n;

	if (o->state == NULL)
		return ut_err(OFFCA_E_USAGE, "--state DIR is required");
	n = snprintf(buf, cap, "%s/%s", o->state, rel);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_USAGE, "path too long under %s", o->state);
	return OFFCA_OK;
}

offca_rc acme_state_json(const struct acme_opts *o, const char *rel, json_t **out)
{
	offca_rc rc;
	char path[4096];
	unsigned char *buf = NULL;
	size_t len = 0;
	json_error_t err;

	*out = NULL;
	rc = acme_state_path(o, rel, path, sizeof(path));
	if (rc == OFFCA_OK)
		rc = ut_read_file(path, ACME_MAX_STATE_FILE, 1, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	*out = json_loadb((const char *)buf, len, 0, &err);
	free(buf);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ut_err(OFFCA_E_PARSE, "%s: malformed (%s)", path, err.text);
	}
	return OFFCA_OK;
}

offca_rc acme_state_put_json(struct acme_proc *fp, const char *rel, const json_t *j)
{
	offca_rc rc;
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = acme_fileproc_write(fp, rel, s, strlen(s), 0);
	free(s);
	return rc;
}

offca_rc acme_state_account(struct acme_opts *o, json_t **acct)
{
	offca_rc rc = acme_state_json(o, "account/account.json", acct);

	if (rc == OFFCA_E_NOT_FOUND)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no ACME account in %s (run: offca-acme --state %s account new ...)",
			    o->state, o->state);
	if (rc == OFFCA_OK && !json_is_string(json_object_get(*acct, "url")))
		rc = ut_err(OFFCA_E_PARSE, "%s/account/account.json: no account url", o->state);
	if (rc == OFFCA_OK && o->key_uri == NULL)
		o->key_uri = json_string_value(json_object_get(*acct, "key_uri"));
	return rc;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

offca_rc acme_state_cert_names(const struct acme_opts *o, struct acme_names *names)
{
	char path[4096];
	offca_rc rc;
	DIR *d;
	struct dirent *e;

	rc = acme_state_path(o, "certs", path, sizeof(path));
	if (rc != OFFCA_OK)
		return rc;
	d = opendir(path);
	if (d == NULL)
		return OFFCA_OK; /* nothing issued yet */
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if (names->n >= ACME_MAX_NAMES) {
			rc = ut_err(OFFCA_E_TOO_BIG, "more than %d certificates in %s", ACME_MAX_NAMES, path);
			break;
		}
		names->v[names->n] = strndup(e->d_name, l - 5);
		if (names->v[names->n] == NULL) {
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			break;
		}
		names->n++;
	}
	closedir(d);
	qsort(names->v, names->n, sizeof(names->v[0]), cmp);
	return rc;
}

offca_rc acme_session_open(struct acme_opts *o, struct acme_session *s, const char *dir, const char *ca_bundle,
			   int create)
{
	offca_rc rc;

	rc = acme_state_path(o, "account/key.pem", s->key_path, sizeof(s->key_path));
	if (rc != OFFCA_OK)
		return rc;
	s->kcfg.key_path = s->key_path;
	s->kcfg.create = create;
	s->kcfg.key_type = o->key_type;
	s->kcfg.eab_key_file = o->eab_key_file;
	s->kcfg.key_uri = o->key_uri;
	s->kcfg.pin_file = o->pin_file;
	s->kcfg.state_dir = o->state;
	rc = acme_keyproc_start(&s->kcfg, &s->kp);
	if (rc == OFFCA_OK)
		rc = acme_fileproc_start(o->state, &s->fp);
	if (rc == OFFCA_OK)
		rc = acme_client_new(dir, ca_bundle, s->kp, o->verbose, &s->cl);
	if (rc == OFFCA_OK && o->poll_timeout > 0)
		acme_client_set_poll_timeout(s->cl, o->poll_timeout);
	return rc;
}

void acme_session_close(struct acme_session *s)
{
	acme_client_free(s->cl);
	acme_proc_free(s->dp);
	acme_proc_free(s->fp);
	acme_proc_free(s->kp);
	s->cl = NULL;
	s->dp = s->fp = s->kp = NULL;
}
