/* touch.c - the touch prompt of a signing key that needs a touch (config "touch", "touch_timeout"). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#include "offca/config.h"
#include "offca/sign.h"
#include "offca/token.h"

/* The prompt goes to stderr at once: the operator must see it before the token blinks. */
static void say(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

offca_rc cli_key_touch(tok_key **key, const ca_issuer_cfg *c)
{
	tok_touch_opts o = {0};
	offca_rc rc;

	if (c == NULL || c->touch == TOK_TOUCH_NEVER)
		return OFFCA_OK;
	o.mode = (tok_touch_mode)c->touch;
	o.timeout_s = c->touch_timeout;
	o.notify = say;
	rc = tok_key_set_touch(*key, &o);
	if (rc != OFFCA_OK) {
		tok_key_free(*key);
		*key = NULL;
	}
	return rc;
}

offca_rc cli_home_key_touch(const char *home_opt, const char *issuer, tok_key **key)
{
	const char *home = home_opt != NULL ? home_opt : getenv("OFFCA_HOME");
	ca_config *cfg = NULL;
	offca_rc rc;

	if (home == NULL || home[0] == '\0')
		return OFFCA_OK; /* no CA home: no config, no touch policy */
	rc = ca_config_load(home, &cfg);
	if (rc == OFFCA_E_STATE) /* no config.json there */
		return OFFCA_OK;
	if (rc == OFFCA_OK)
		rc = cli_key_touch(key, ca_config_issuer(cfg, issuer != NULL && issuer[0] ? issuer : NULL));
	ca_config_free(cfg);
	if (rc != OFFCA_OK && *key != NULL) {
		tok_key_free(*key);
		*key = NULL;
	}
	return rc;
}

offca_rc cli_signer_open_key(ca_signer *s, ca_store *st, const char *module, const tok_pin_opts *pin,
			     const char *purpose, tok_key **out)
{
	offca_rc rc = ca_signer_open_key(s, st, module, pin, purpose, out);

	return rc == OFFCA_OK ? cli_key_touch(out, ca_signer_settings(s)) : rc;
}
