/* keyref_gen.c - making and destroying token keys for modules that own keys of their own
   (offca-agent's endpoint key), through the token layer and without a prompt. */
#include "offca/keyref.h"

#include <stdio.h>

#include "offca/token.h"

/* the label a key URI asks for: its object=, unless it pins an id= (that key cannot be made) */
static offca_rc label_of(const char *uri, char *buf, size_t cap)
{
	tok_uri *u = NULL;
	size_t id_len = 0;
	const char *obj;
	offca_rc rc = tok_uri_parse(uri, &u);

	if (rc != OFFCA_OK)
		return rc;
	obj = tok_uri_get(u, "object");
	if (tok_uri_id(u, &id_len) != NULL)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no such key on the token (a key named by id= is not made: "
			    "name a new one with object=LABEL)");
	else if (obj == NULL || obj[0] == '\0')
		rc = ut_err(OFFCA_E_USAGE, "no such key, and no object=LABEL to make one with");
	else if (snprintf(buf, cap, "%s", obj) >= (int)cap)
		rc = ut_err(OFFCA_E_USAGE, "object= label too long");
	tok_uri_free(u);
	return rc;
}

offca_rc ca_keyref_generate(const char *token_uri, const char *label, const char *pin_file, char **uri_out)
{
	tok_pin_opts opts = {.pin_file = pin_file, .no_prompt = 1};
	char own[128];
	offca_rc rc;

	*uri_out = NULL;
	if (label == NULL) {
		if ((rc = label_of(token_uri, own, sizeof(own))) != OFFCA_OK)
			return rc;
		label = own;
	}
	return tok_keygen_ex(NULL, token_uri, label, TOK_KEY_EC_P256, TOK_KEYGEN_DERIVE, &opts, uri_out);
}

offca_rc ca_keyref_destroy(const char *uri, const char *pin_file)
{
	tok_pin_opts opts = {.pin_file = pin_file, .no_prompt = 1};

	return tok_key_destroy(NULL, uri, &opts);
}
