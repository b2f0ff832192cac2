/* sign_key.c - open a CA key on its token with an audit trail (key-use / login-failed). */
#include "offca/sign.h"
#include "offca/util.h"
#include "sign_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void audit(ca_store *st, const char *action, const char *uri, const char *k, const char *v)
{
	json_t *o;
	char *text;

	if (st == NULL)
		return;
	o = json_pack("{s:s, s:s}", "uri", uri, k, v);
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text != NULL && strlen(text) < CA_STORE_MAX_DETAIL)
		(void)ca_store_audit(st, action, text);
	free(text);
	json_decref(o);
}

offca_rc ca_key_open_audited(ca_store *st, const char *module, const char *uri, const tok_pin_opts *pin,
			     const char *purpose, tok_key **out)
{
	offca_rc rc;
	char msg[512];

	*out = NULL;
	if (uri == NULL || uri[0] == '\0')
		return ut_err(OFFCA_E_STATE, "no key URI: this CA's key lives elsewhere");
	rc = tok_key_open(module, uri, pin, out);
	if (rc == OFFCA_E_PIN_INCORRECT || rc == OFFCA_E_PIN_LOCKED) {
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		audit(st, "login-failed", uri, "error", msg);
		ut_err(rc, "%s", msg);
		return rc;
	}
	if (rc != OFFCA_OK)
		return rc;
	audit(st, "key-use", tok_key_uri(*out) ? tok_key_uri(*out) : uri, "purpose", purpose ? purpose : "");
	return OFFCA_OK;
}

offca_rc ca_signer_open_key(ca_signer *s, ca_store *st, const char *module, const tok_pin_opts *pin,
			    const char *purpose, tok_key **out)
{
	offca_rc rc;

	*out = NULL;
	if (s->iss.key_uri[0] == '\0')
		return ut_err(OFFCA_E_STATE, "issuer '%s' has no key on a token here (it was signed from a CSR): "
					     "it cannot sign on this machine", s->iss.name);
	if ((rc = ca_key_open_audited(st, module, s->iss.key_uri, pin, purpose, out)) != OFFCA_OK)
		return rc;
	rc = ca_signer_set_key(s, tok_key_private(*out), tok_key_public(*out));
	if (rc != OFFCA_OK) {
		tok_key_free(*out);
		*out = NULL;
	}
	return rc;
}
