/* cli_session.c - open the CA home, store, config, signer and key a command declares it needs. */
#include "cli_session.h"
#include "cli.h"

#include <string.h>

#include "offca/util.h"

#include "offca/config.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"

/* Each need brings the ones it stands on. */
static unsigned closure(unsigned need)
{
	if (need & CLI_S_KEY)
		need |= CLI_S_SIGNER;
	if (need & CLI_S_SIGNER)
		need |= CLI_S_CONFIG | CLI_S_ISSUER;
	if ((need & (CLI_S_CONFIG | CLI_S_ISSUER)) && !(need & CLI_S_STORE_RO))
		need |= CLI_S_STORE_RW;
	if (need & (CLI_S_STORE_RO | CLI_S_STORE_RW))
		need |= CLI_S_HOME;
	return need;
}

offca_rc cli_session_open_key(cli_session *s, const cli_args *a, const char *purpose)
{
	tok_pin_opts pin = {0};

	if (s->signer == NULL || s->key != NULL)
		return ut_err(OFFCA_E_INTERNAL, "cli_session_open_key: no signer, or its key is open already");
	pin.pin_file = cli_opt_if(a, "pin-file");
	return cli_signer_open_key(s->signer, s->st, cli_opt_if(a, "module"), &pin, purpose, &s->key);
}

void cli_session_close_key(cli_session *s)
{
	tok_key_free(s->key);
	s->key = NULL;
}

static offca_rc open_signer(cli_session *s, const cli_args *a, unsigned need, const char *purpose)
{
	offca_rc rc;

	if ((rc = ca_signer_new(s->st, s->cfg, cli_opt_if(a, "issuer"), &s->signer)) != OFFCA_OK)
		return rc;
	snprintf(s->issuer, sizeof(s->issuer), "%s", ca_signer_issuer_name(s->signer));
	return (need & CLI_S_KEY) ? cli_session_open_key(s, a, purpose) : OFFCA_OK;
}

offca_rc cli_session_open_ex(cli_session *s, const cli_args *a, unsigned need, const char *purpose,
			     const char *const *extra, size_t n_extra)
{
	const char *issuer = cli_opt_if(a, "issuer");
	offca_rc rc = OFFCA_OK;

	memset(s, 0, sizeof(*s));
	need = closure(need);
	if ((need & CLI_S_HOME) && (s->home = cli_home(cli_opt_if(a, "home"))) == NULL)
		return OFFCA_E_USAGE;
	if (need & CLI_S_STORE_RO)
		rc = ca_store_open_ro(s->home, &s->st);
	else if (need & CLI_S_STORE_RW)
		rc = ca_store_open(s->home, 0, &s->st);
	if (rc == OFFCA_OK && (need & CLI_S_CONFIG))
		rc = ca_config_load_for_store(s->home, s->st, extra, n_extra, &s->cfg);
	if (rc == OFFCA_OK && (need & CLI_S_SIGNER))
		rc = open_signer(s, a, need, purpose);
	else if (rc == OFFCA_OK && (need & CLI_S_ISSUER) && issuer != NULL)
		snprintf(s->issuer, sizeof(s->issuer), "%s", issuer);
	else if (rc == OFFCA_OK && (need & CLI_S_ISSUER))
		rc = ca_sign_default_issuer(s->st, s->issuer);
	if (rc != OFFCA_OK)
		cli_session_close(s);
	return rc;
}

offca_rc cli_session_open(cli_session *s, const cli_args *a, unsigned need, const char *purpose)
{
	return cli_session_open_ex(s, a, need, purpose, NULL, 0);
}

void cli_session_close(cli_session *s)
{
	tok_key_free(s->key);
	ca_signer_free(s->signer);
	ca_config_free(s->cfg);
	ca_store_free(s->st);
	memset(s, 0, sizeof(*s));
}
