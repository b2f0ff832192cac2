/*
 * client.h - the RFC 8555 client core of the network process: directory, nonces, JWS-signed
 * POSTs (signatures come from the key process), bounded polling.
 */
#ifndef ACME_CLIENT_H
#define ACME_CLIENT_H

#include <jansson.h>

#include "http.h"
#include "offca/err.h"
#include "proc.h"

#define ACME_MAX_NONCE_RETRIES 10 /* badNonce: retry with the fresh nonce, bounded */
#define ACME_POLL_TIMEOUT      120 /* seconds, default bound for polling authz/order */

struct acme_client;

/*
 * Fetch the directory at dir_url and learn the account key's JWK from the key process kp
 * (borrowed; must outlive the client). Errors: OFFCA_E_NETWORK, OFFCA_E_PROTOCOL (not an ACME
 * directory), OFFCA_E_NOMEM.
 */
offca_rc acme_client_new(const char *dir_url, const char *ca_bundle, struct acme_proc *kp, int verbose,
			 struct acme_client **out);
void acme_client_free(struct acme_client *c);

/* Directory entry (e.g. "newOrder"), NULL if absent. Borrowed. */
const char *acme_client_url(struct acme_client *c, const char *name);
/* The directory object (borrowed). */
json_t *acme_client_dir(struct acme_client *c);
/* Account URL used as "kid"; copied. */
offca_rc acme_client_set_kid(struct acme_client *c, const char *kid);
const char *acme_client_kid(struct acme_client *c);
/* Account key JWK (borrowed) and its RFC 7638 thumbprint (borrowed). */
json_t *acme_client_jwk(struct acme_client *c);
const char *acme_client_thumbprint(struct acme_client *c);
/* Reload the JWK after a key rollover. */
offca_rc acme_client_reload_key(struct acme_client *c);
struct acme_proc *acme_client_keyproc(struct acme_client *c);
int acme_client_verbose(struct acme_client *c);
void acme_client_set_poll_timeout(struct acme_client *c, int seconds);

/*
 * Flattened JWS over payload (NULL = empty payload for POST-as-GET) for url, signed with key
 * slot (0 account, 1 new key) by the key process, with "jwk" (use_jwk) or "kid". If nonce is
 * NULL no nonce is included (inner rollover JWS). *out is a new JSON object.
 */
offca_rc acme_client_jws(struct acme_client *c, int slot, const char *url, const json_t *payload,
			 int use_jwk, const char *nonce, json_t **out);

/*
 * POST a JWS to url (payload NULL = POST-as-GET). Retries on badNonce (bounded). On an HTTP
 * error status the problem document becomes the detail message and OFFCA_E_PROTOCOL is returned
 * with *resp still filled (for acme_problem_type). On success *json (may be NULL) receives the
 * parsed body when it is JSON. Caller clears resp.
 */
offca_rc acme_client_post(struct acme_client *c, const char *url, const json_t *payload, int use_jwk,
			  const char *accept, struct acme_resp *resp, json_t **json);

/* POST-as-GET url until its "status" leaves pending/processing (bounded, backoff). */
offca_rc acme_client_poll(struct acme_client *c, const char *url, const char *what, json_t **obj);

/* Plain GET of url (renewalInfo). */
offca_rc acme_client_get(struct acme_client *c, const char *url, struct acme_resp *resp);

#endif
