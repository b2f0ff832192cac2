/*
 * keydel.c - destroying a key pair on a token (an endpoint's key cycling: offca-agent deletes the
 * key it replaced once the certificate of the new one is installed). Only a URI that names one
 * private key exactly, by its CKA_ID, is accepted: the private key and the public keys sharing its
 * id are destroyed; certificate objects are left alone.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <string.h>

#define MAX_HALVES 4

static offca_rc destroy_all(tok_session *ts, CK_OBJECT_CLASS cls, const char *label, const unsigned char *id,
			    size_t id_len, size_t *count)
{
	CK_OBJECT_HANDLE found[MAX_HALVES];
	size_t n = 0;
	offca_rc rc = tok_raw_find(ts->ctx, ts->s, cls, label, id, id_len, found, MAX_HALVES, &n);

	for (size_t i = 0; rc == OFFCA_OK && i < n; i++)
		rc = tok_rv(ts->ctx->fl->C_DestroyObject(ts->s, found[i]), "destroy the key object");
	*count = n;
	return rc;
}

offca_rc tok_key_destroy(const char *cli_module, const char *uri, const tok_pin_opts *opts)
{
	tok_session ts;
	CK_OBJECT_HANDLE found[2];
	const unsigned char *id;
	const char *label, *type;
	size_t id_len = 0, n = 0, pubs = 0;
	offca_rc rc;

	if (uri == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_key_destroy: NULL argument");
	rc = tok_session_open(cli_module, uri, 1, &ts);
	if (rc != OFFCA_OK)
		goto out;
	id = tok_uri_id(ts.uri, &id_len);
	label = tok_uri_get(ts.uri, "object");
	type = tok_uri_get(ts.uri, "type");
	if (id == NULL || id_len == 0 || (type != NULL && strcmp(type, "private") != 0)) {
		rc = ut_err(OFFCA_E_USAGE, "%s: a key to destroy must be named by its id (and type=private)", uri);
		goto out;
	}
	rc = tok_login(ts.ctx, ts.slot, ts.s, ts.uri, opts);
	if (rc == OFFCA_OK)
		rc = tok_raw_find(ts.ctx, ts.s, CKO_PRIVATE_KEY, label, id, id_len, found, 2, &n);
	if (rc == OFFCA_OK && n != 1)
		rc = ut_err(n == 0 ? OFFCA_E_NOT_FOUND : OFFCA_E_USAGE, "%s: %s", uri,
			    n == 0 ? "no such private key on the token" : "names several private keys");
	if (rc == OFFCA_OK)
		rc = tok_rv(ts.ctx->fl->C_DestroyObject(ts.s, found[0]), "destroy the private key");
	if (rc == OFFCA_OK)
		rc = destroy_all(&ts, CKO_PUBLIC_KEY, NULL, id, id_len, &pubs);
out:
	tok_session_close(&ts);
	return rc;
}
