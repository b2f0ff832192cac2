/* keyref_token.c - ca_keyref backed by a PKCS#11 token key (the token layer's tok_key). */
#include "offca/keyref.h"

#include <stdlib.h>
#include <string.h>

#include "offca/token.h"

struct ca_keyref {
	tok_key *key;
};

offca_rc ca_keyref_open(const char *uri, const char *pin_file, ca_keyref **out)
{
	tok_pin_opts opts = {0};
	ca_keyref *s = NULL;
	offca_rc rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	opts.pin_file = pin_file;
	rc = tok_key_open(NULL, uri, &opts, &s->key);
	if (rc != OFFCA_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return OFFCA_OK;
}

EVP_PKEY *ca_keyref_private(ca_keyref *s)
{
	return tok_key_private(s->key);
}

EVP_PKEY *ca_keyref_public(ca_keyref *s)
{
	return tok_key_public(s->key);
}

void ca_keyref_free(ca_keyref *s)
{
	if (s == NULL)
		return;
	tok_key_free(s->key);
	free(s);
}

/* The path attributes a key URI can carry (RFC 7512 section 2.3), id compared separately. */
static const char *const key_attrs[] = {"token", "manufacturer", "serial", "model", "object", "type",
					"slot-id", "slot-description", "slot-manufacturer", NULL};

offca_rc ca_key_uri_matches(const char *recorded, const char *given)
{
	tok_uri *r = NULL, *g = NULL;
	const unsigned char *rid, *gid;
	const char *rv, *gv;
	size_t rlen = 0, glen = 0;
	offca_rc rc;

	rc = tok_uri_parse(recorded, &r);
	if (rc == OFFCA_OK)
		rc = tok_uri_parse(given, &g);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_NOT_FOUND;
	for (size_t i = 0; key_attrs[i] != NULL; i++) {
		gv = tok_uri_get(g, key_attrs[i]);
		rv = tok_uri_get(r, key_attrs[i]);
		if (gv != NULL && (rv == NULL || strcmp(gv, rv) != 0))
			goto out;
	}
	gid = tok_uri_id(g, &glen);
	rid = tok_uri_id(r, &rlen);
	if (gid != NULL && (rid == NULL || glen != rlen || memcmp(gid, rid, glen) != 0))
		goto out;
	rc = OFFCA_OK;
out:
	tok_uri_free(r);
	tok_uri_free(g);
	return rc;
}

offca_rc ca_key_err_sign(const char *what)
{
	return tok_err_sign(what);
}

offca_rc ca_key_sign_message(EVP_PKEY *priv, EVP_MD_CTX *ctx, const void *msg, size_t mlen, unsigned char *sig,
			     size_t *siglen, const char *what, const char *fail_what)
{
	return tok_sign_message(priv, ctx, msg, mlen, sig, siglen, what, fail_what);
}

const char *ca_keyref_uri(const ca_keyref *s)
{
	return tok_key_uri(s->key);
}

const char *ca_keyref_label(const ca_keyref *s)
{
	return tok_key_label(s->key);
}
