/* keyref_token.c - ca_keyref backed by a PKCS#11 token key (the token layer's tok_key). */
#include "offca/keyref.h"

#include <stdlib.h>

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
