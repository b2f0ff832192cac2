/* account.h - ACME accounts: create/find (with EAB), show, contact update, deactivate, key rollover. */
#ifndef ACME_ACCOUNT_H
#define ACME_ACCOUNT_H

#include <jansson.h>

#include "client.h"

/*
 * newAccount. email may be NULL. eab_kid non-NULL adds External Account Binding (HS256 by the key
 * process over the account JWK). only_existing: onlyReturnExisting (find). On success the
 * account URL is set as the client's kid, *url is a new string and *acct (may be NULL) the
 * account object. Errors: OFFCA_E_NOT_FOUND (find: no account for this key), OFFCA_E_PROTOCOL.
 */
offca_rc acme_account_new(struct acme_client *c, const char *email, const char *eab_kid, int only_existing,
			  char **url, json_t **acct);

/* POST-as-GET the account (kid must be set). */
offca_rc acme_account_get(struct acme_client *c, json_t **acct);
/* Replace the contact list by mailto:email. */
offca_rc acme_account_update(struct acme_client *c, const char *email, json_t **acct);
/* Deactivate the account (irreversible). */
offca_rc acme_account_deactivate(struct acme_client *c);
/* Key rollover (RFC 8555 7.3.5) to a new key of type ("ec"/"rsa") made by the key process. */
offca_rc acme_account_rollover(struct acme_client *c, const char *type);

#endif
