/* cmd_account.c - offca-acme account new|find|show|update|deactivate|rollover. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "account.h"
#include "client.h"
#include "cmd.h"
#include "offca/util.h"

static offca_rc save_account(struct acme_session *s, const char *dir, const char *url, const char *email,
			     const char *ca_bundle, const char *status)
{
	offca_rc rc;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "directory", dir, "url", url, "key",
			      s->kcfg.key_uri != NULL ? s->kcfg.key_uri : "account/key.pem", "status", status);
	char bundle[4096];

	if (j == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (email != NULL)
		json_object_set_new(j, "email", json_string(email));
	if (s->kcfg.key_uri != NULL)
		json_object_set_new(j, "key_uri", json_string(s->kcfg.key_uri));
	if (ca_bundle != NULL) {
		/* renewals from a timer run elsewhere: keep an absolute path */
		if (realpath(ca_bundle, bundle) != NULL)
			json_object_set_new(j, "ca_bundle", json_string(bundle));
	}
	rc = acme_state_put_json(s->fp, "account/account.json", j);
	json_decref(j);
	return rc;
}

/* A deactivated account's key can never be used again: keep it aside, a new key is made. */
static offca_rc retire_key(const struct acme_opts *o)
{
	char from[4096], to[4200];
	int n;
	offca_rc rc = acme_state_path(o, "account/key.pem", from, sizeof(from));

	if (rc != OFFCA_OK || ut_path_exists(from) != OFFCA_OK)
		return rc;
	n = snprintf(to, sizeof(to), "%s.deactivated.%lld", from, (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(to))
		return ut_err(OFFCA_E_USAGE, "path too long");
	if (rename(from, to) != 0)
		return ut_err(OFFCA_E_IO, "cannot move the deactivated account's key aside (%s)", from);
	return OFFCA_OK;
}

static offca_rc account_new(struct acme_opts *o, int find)
{
	offca_rc rc;
	struct acme_session s;
	char *url = NULL, path[4096], *bundle = NULL, *email = NULL;
	json_t *old = NULL;
	const char *st;

	memset(&s, 0, sizeof(s));
	if (o->directory == NULL)
		return ut_err(OFFCA_E_USAGE, "account %s: --directory URL is required", find ? "find" : "new");
	if ((o->eab_kid == NULL) != (o->eab_key_file == NULL))
		return ut_err(OFFCA_E_USAGE, "--eab-kid and --eab-hmac-key FILE go together");
	rc = acme_state_path(o, "account", path, sizeof(path));
	if (rc == OFFCA_OK)
		rc = ut_mkdir_p(path, 0700);
	if (rc != OFFCA_OK)
		goto out;
	chmod(o->state, 0700);
	if (acme_state_json(o, "account/account.json", &old) == OFFCA_OK) {
		st = json_string_value(json_object_get(old, "status"));
		if (!find && (st == NULL || strcmp(st, "deactivated") != 0)) {
			rc = ut_err(OFFCA_E_EXISTS, "%s already holds an account (account show; account find re-reads it)",
				    o->state);
			goto out;
		}
		if (!find && o->key_uri == NULL) {
			rc = retire_key(o);
			if (rc != OFFCA_OK)
				goto out;
		}
		/* keep what the operator gave before unless given again */
		if (o->ca_bundle == NULL && json_string_value(json_object_get(old, "ca_bundle")) != NULL)
			bundle = strdup(json_string_value(json_object_get(old, "ca_bundle")));
		if (o->email == NULL && json_string_value(json_object_get(old, "email")) != NULL)
			email = strdup(json_string_value(json_object_get(old, "email")));
	}
	rc = acme_session_open(o, &s, o->directory, bundle != NULL ? bundle : o->ca_bundle, !find);
	if (rc == OFFCA_OK)
		rc = acme_account_new(s.cl, o->email, o->eab_kid, find, &url, NULL);
	if (rc == OFFCA_OK)
		rc = save_account(&s, o->directory, url, email != NULL ? email : o->email,
				  bundle != NULL ? bundle : o->ca_bundle, "valid");
	if (rc == OFFCA_OK)
		printf("account %s\n", url);
out:
	json_decref(old);
	free(url);
	free(bundle);
	free(email);
	acme_session_close(&s);
	return rc;
}

static offca_rc open_existing(struct acme_opts *o, struct acme_session *s, json_t **acct)
{
	offca_rc rc;
	const char *bundle;

	rc = acme_state_account(o, acct);
	if (rc != OFFCA_OK)
		return rc;
	bundle = o->ca_bundle != NULL ? o->ca_bundle : json_string_value(json_object_get(*acct, "ca_bundle"));
	rc = acme_session_open(o, s, o->directory != NULL ? o->directory : json_string_value(json_object_get(*acct, "directory")),
			       bundle, 0);
	if (rc == OFFCA_OK)
		rc = acme_client_set_kid(s->cl, json_string_value(json_object_get(*acct, "url")));
	return rc;
}

static void print_account(const json_t *a, const char *url)
{
	json_t *ct = json_object_get(a, "contact"), *x;
	size_t i;

	printf("url:     %s\nstatus:  %s\n", url, json_string_value(json_object_get(a, "status")));
	json_array_foreach(ct, i, x) printf("contact: %s\n", json_string_value(x));
}

offca_rc acme_cmd_account(struct acme_opts *o)
{
	offca_rc rc;
	struct acme_session s;
	json_t *acct = NULL, *a = NULL;
	const char *sub = o->argc > 0 ? o->argv[0] : NULL;
	const char *email;

	memset(&s, 0, sizeof(s));
	if (sub == NULL)
		return ut_err(OFFCA_E_USAGE, "account: new, find, show, update, deactivate or rollover expected");
	if (strcmp(sub, "new") == 0 || strcmp(sub, "find") == 0)
		return account_new(o, strcmp(sub, "find") == 0);
	if (strcmp(sub, "show") != 0 && strcmp(sub, "update") != 0 && strcmp(sub, "deactivate") != 0 &&
	    strcmp(sub, "rollover") != 0)
		return ut_err(OFFCA_E_USAGE, "account %s: unknown (new, find, show, update, deactivate, rollover)", sub);
	if (strcmp(sub, "update") == 0 && o->email == NULL)
		return ut_err(OFFCA_E_USAGE, "account update: --email ADDR is required");
	rc = open_existing(o, &s, &acct);
	if (rc != OFFCA_OK)
		goto out;
	email = json_string_value(json_object_get(acct, "email"));
	if (strcmp(sub, "show") == 0) {
		rc = acme_account_get(s.cl, &a);
		if (rc == OFFCA_OK)
			print_account(a, acme_client_kid(s.cl));
	} else if (strcmp(sub, "update") == 0) {
		rc = acme_account_update(s.cl, o->email, &a);
		if (rc == OFFCA_OK)
			rc = save_account(&s, json_string_value(json_object_get(acct, "directory")), acme_client_kid(s.cl),
					  o->email, json_string_value(json_object_get(acct, "ca_bundle")), "valid");
		if (rc == OFFCA_OK)
			print_account(a, acme_client_kid(s.cl));
	} else if (strcmp(sub, "deactivate") == 0) {
		rc = acme_account_deactivate(s.cl);
		if (rc == OFFCA_OK)
			rc = save_account(&s, json_string_value(json_object_get(acct, "directory")), acme_client_kid(s.cl),
					  email, json_string_value(json_object_get(acct, "ca_bundle")), "deactivated");
		if (rc == OFFCA_OK)
			printf("account %s deactivated\n", acme_client_kid(s.cl));
	} else {
		rc = acme_account_rollover(s.cl, o->key_type);
		if (rc == OFFCA_OK)
			printf("account %s now uses a new key (thumbprint %s)\n", acme_client_kid(s.cl),
			       acme_client_thumbprint(s.cl));
	}
out:
	json_decref(a);
	json_decref(acct);
	acme_session_close(&s);
	return rc;
}
