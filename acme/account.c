/* account.c - account operations (see account.h). */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "offca/util.h"
#include "problem.h"

static json_t *contact(const char *email)
{
	char buf[320];
	int n = snprintf(buf, sizeof(buf), "mailto:%s", email);

	if (n < 0 || (size_t)n >= sizeof(buf) || strchr(email, '@') == NULL || strpbrk(email, " ,<>\r\n") != NULL)
		return NULL;
	return json_pack("[s]", buf);
}

static offca_rc eab_jws(struct acme_client *c, const char *kid, json_t **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	json_t *prot = NULL;
	char *ps = NULL, *js = NULL, *p64 = NULL, *j64 = NULL, *in = NULL, *m64 = NULL;
	unsigned char mac[32];
	size_t il;

	*out = NULL;
	prot = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", kid, "url", acme_client_url(c, "newAccount"));
	ps = prot != NULL ? json_dumps(prot, JSON_COMPACT) : NULL;
	js = json_dumps(acme_client_jwk(c), JSON_COMPACT | JSON_SORT_KEYS);
	if (ps == NULL || js == NULL)
		goto out;
	p64 = acme_b64url((const unsigned char *)ps, strlen(ps));
	j64 = acme_b64url((const unsigned char *)js, strlen(js));
	if (p64 == NULL || j64 == NULL)
		goto out;
	il = strlen(p64) + strlen(j64) + 2;
	in = malloc(il);
	if (in == NULL)
		goto out;
	snprintf(in, il, "%s.%s", p64, j64);
	rc = acme_keyproc_eab(acme_client_keyproc(c), in, mac);
	if (rc != OFFCA_OK)
		goto out;
	m64 = acme_b64url(mac, sizeof(mac));
	*out = m64 != NULL ? json_pack("{s:s, s:s, s:s}", "protected", p64, "payload", j64, "signature", m64) : NULL;
	rc = *out != NULL ? OFFCA_OK : OFFCA_E_NOMEM;
out:
	if (rc == OFFCA_E_NOMEM)
		ut_err(rc, "out of memory");
	ut_memzero(mac, sizeof(mac));
	json_decref(prot);
	free(ps);
	free(js);
	free(p64);
	free(j64);
	free(in);
	free(m64);
	return rc;
}

offca_rc acme_account_new(struct acme_client *c, const char *email, const char *eab_kid, int only_existing,
			  char **url, json_t **acct)
{
	offca_rc rc;
	struct acme_resp r;
	json_t *payload = NULL, *eab = NULL, *a = NULL, *ct;
	char type[64];

	*url = NULL;
	if (acct != NULL)
		*acct = NULL;
	payload = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	if (payload == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (only_existing)
		json_object_set_new(payload, "onlyReturnExisting", json_true());
	if (email != NULL && !only_existing) {
		ct = contact(email);
		if (ct == NULL) {
			rc = ut_err(OFFCA_E_USAGE, "--email %s: not a plain e-mail address", email);
			goto out;
		}
		json_object_set_new(payload, "contact", ct);
	}
	if (eab_kid != NULL && !only_existing) {
		rc = eab_jws(c, eab_kid, &eab);
		if (rc != OFFCA_OK)
			goto out;
		json_object_set_new(payload, "externalAccountBinding", eab);
	}
	rc = acme_client_post(c, acme_client_url(c, "newAccount"), payload, 1, NULL, &r, &a);
	if (rc == OFFCA_E_PROTOCOL && only_existing &&
	    strcmp(acme_problem_type(r.body, r.len, type, sizeof(type)), "accountDoesNotExist") == 0)
		rc = ut_err(OFFCA_E_NOT_FOUND, "the CA has no account for this key");
	if (rc == OFFCA_OK && r.location == NULL)
		rc = ut_err(OFFCA_E_PROTOCOL, "the CA sent no account URL");
	if (rc == OFFCA_OK)
		rc = acme_client_set_kid(c, r.location);
	if (rc == OFFCA_OK) {
		*url = r.location;
		r.location = NULL;
		if (acct != NULL) {
			*acct = a;
			a = NULL;
		}
	}
	acme_resp_clear(&r);
out:
	json_decref(a);
	json_decref(payload);
	return rc;
}

static offca_rc post_account(struct acme_client *c, const json_t *payload, json_t **acct)
{
	offca_rc rc;
	struct acme_resp r;
	json_t *a = NULL;

	if (acct != NULL)
		*acct = NULL;
	rc = acme_client_post(c, acme_client_kid(c), payload, 0, NULL, &r, &a);
	acme_resp_clear(&r);
	if (rc == OFFCA_OK && acct != NULL)
		*acct = a;
	else
		json_decref(a);
	return rc;
}

offca_rc acme_account_get(struct acme_client *c, json_t **acct)
{
	return post_account(c, NULL, acct);
}

offca_rc acme_account_update(struct acme_client *c, const char *email, json_t **acct)
{
	offca_rc rc;
	json_t *ct = contact(email), *p;

	if (ct == NULL)
		return ut_err(OFFCA_E_USAGE, "--email %s: not a plain e-mail address", email);
	p = json_pack("{s:o}", "contact", ct);
	if (p == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = post_account(c, p, acct);
	json_decref(p);
	return rc;
}

offca_rc acme_account_deactivate(struct acme_client *c)
{
	offca_rc rc;
	json_t *p = json_pack("{s:s}", "status", "deactivated");

	if (p == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = post_account(c, p, NULL);
	json_decref(p);
	return rc;
}

offca_rc acme_account_rollover(struct acme_client *c, const char *type)
{
	offca_rc rc;
	const char *url = acme_client_url(c, "keyChange");
	json_t *inner_payload = NULL, *inner = NULL;
	struct acme_resp r;

	if (url == NULL)
		return ut_err(OFFCA_E_UNSUPPORTED, "the CA offers no keyChange");
	rc = acme_keyproc_newkey(acme_client_keyproc(c), type);
	if (rc != OFFCA_OK)
		return rc;
	inner_payload = json_pack("{s:s, s:O}", "account", acme_client_kid(c), "oldKey", acme_client_jwk(c));
	if (inner_payload == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	/* inner JWS: new key, "jwk", no nonce; outer: the account key and kid */
	rc = acme_client_jws(c, 1, url, inner_payload, 1, NULL, &inner);
	if (rc == OFFCA_OK) {
		rc = acme_client_post(c, url, inner, 0, NULL, &r, NULL);
		acme_resp_clear(&r);
	}
	if (rc == OFFCA_OK)
		rc = acme_keyproc_commit(acme_client_keyproc(c));
	if (rc == OFFCA_OK)
		rc = acme_client_reload_key(c);
	json_decref(inner);
	json_decref(inner_payload);
	return rc;
}
