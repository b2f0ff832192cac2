/*
 * flow_tokens.c - "insert token X now": is the token there, is this process still logged in to it,
 * and waiting for it.
 *
 * Keys stay open (logged in) for the whole ceremony: the token layer shares one module context per
 * library, so presence checks, waits and key generation no longer end other keys' sessions. Two
 * things still need care while keys are open:
 *  - presence is asked of the module directly (tok_wait with a short timeout): the shared
 *    context's slot list is not re-read while keys use it, so it would still show a pulled token;
 *  - a token that is NOT there can only be seen arriving once the module is reloaded (SoftHSM2
 *    sees new tokens at C_Initialize only; libp11's slot list is re-read only by the context's
 *    last user): so before waiting, every open key is closed. Their tokens ask for the PIN again
 *    the next time a key is needed. This happens only when a token has to be inserted (or comes
 *    back) during the ceremony.
 */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offca/util.h"

static int is_yubikey(const tok_info *ti)
{
	return strstr(ti->manufacturer, "Yubico") != NULL || strstr(ti->model, "YubiKey") != NULL;
}

/* Ask the module whether the token uri names is there now: OFFCA_OK, OFFCA_E_TIMEOUT (not there,
   after about a second), or the module's error. Works while keys are open. */
static offca_rc look(cer_run_t *r, const char *uri, tok_arrival *arr)
{
	offca_rc rc = tok_wait(r->module, uri, 1, arr);

	return rc == OFFCA_E_TOKEN ? ut_err(OFFCA_E_TIMEOUT, "token not ready") : rc;
}

/* A cer_token for a key URI (officers' tokens): label and serial from the URI. */
static void uri_token(const char *uri, cer_token *tk)
{
	tok_uri *u = NULL;

	memset(tk, 0, sizeof(*tk));
	snprintf(tk->uri, sizeof(tk->uri), "%s", uri);
	if (tok_uri_parse(uri, &u) != OFFCA_OK)
		return;
	if (tok_uri_get(u, "token") != NULL)
		snprintf(tk->label, sizeof(tk->label), "%s", tok_uri_get(u, "token"));
	if (tok_uri_get(u, "serial") != NULL)
		snprintf(tk->serial, sizeof(tk->serial), "%s", tok_uri_get(u, "serial"));
	tok_uri_free(u);
}

/*
 * The token is there (the module says so): does the loaded module context see it too? A token
 * that arrived while keys were open is missing from the shared context's slot list; then close
 * every key so that the next use reloads the module. Fills ti. 1 seen, 0 not (yet), -1 error.
 */
static int usable(cer_run_t *r, const cer_token *tk, const char *who, tok_info *ti)
{
	int p = cer_token_present(r->module, tk, ti);

	if (p == 0 && r->n_keys > 0) {
		cer_say(r, "  Token '%s' arrived during the ceremony: reloading the PKCS#11 module to use it "
			   "(tokens logged in so far will ask for their PIN once more).\n", who);
		cer_log(r, "module-reload", json_pack("{s:s, s:s}", "token", who, "reason",
						      "token inserted while keys were open"));
		cer_keys_close(r, NULL);
		p = cer_token_present(r->module, tk, ti);
	}
	return p;
}

/*
 * The keys of who are open: is this process still logged in to their token? A token pulled and
 * put back between two steps comes back logged out, and its open keys are dead: close them so
 * that the next use logs in again (PIN). Listing the token's objects with a login but no PIN
 * source succeeds only while logged in (no PIN is ever read here). Skipped for tokens with a PIN
 * pad (logging in there does not need a PIN from us: the check would log in and out again).
 */
static void login_check(cer_run_t *r, const char *who, const char *uri, const tok_info *ti)
{
	tok_pin_opts np = {.no_prompt = 1};
	tok_object *objs = NULL;
	size_t n = 0;
	offca_rc rc;

	if (!cer_keys_held(r, who) || (ti != NULL && ti->protected_auth_path))
		return;
	rc = tok_objects(r->module, uri, &np, &objs, &n);
	free(objs);
	if (rc != OFFCA_E_USAGE && rc != OFFCA_E_TOKEN_ABSENT && rc != OFFCA_E_TOKEN)
		return;
	cer_say(r, "  Token '%s' is no longer logged in (was it taken out?): its PIN is needed again.\n", who);
	cer_log(r, "login-lost", json_pack("{s:s, s:s}", "token", who, "detail", ut_err_msg()));
	cer_keys_close(r, who);
}

/*
 * Make sure the token tk names is there and usable: when it is not, close the open keys (see the
 * top of the file), tell the operator to insert it and wait (up to --token-wait). who: token id or
 * officer (whose keys); what: how to name the token to the operator ("token 'root'"). ti: what the
 * module says about the token.
 */
static offca_rc ready(cer_run_t *r, const cer_token *tk, const char *who, const char *what, tok_info *ti)
{
	unsigned wait_s = r->opts->token_wait_s ? r->opts->token_wait_s : 300, waited = 0;
	tok_arrival arr;
	offca_rc rc;
	int p = 0;

	memset(ti, 0, sizeof(*ti));
	rc = look(r, tk->uri, &arr);
	if (rc == OFFCA_OK)
		p = usable(r, tk, who, ti);
	else if (rc != OFFCA_E_TIMEOUT)
		return rc;
	if (p == 1) {
		login_check(r, who, tk->uri, ti);
		return OFFCA_OK;
	}
	if (r->n_keys > 0) {
		cer_say(r, "\n  Not there: %s. Closing the open keys so that the module sees it arrive "
			   "(tokens logged in so far will ask for their PIN once more).\n", what);
		cer_log(r, "token-missing", json_pack("{s:s, s:s}", "token", who, "note", "open keys closed"));
		cer_keys_close(r, NULL);
	}
	cer_say(r, "\n  >> Insert %s (%s) now. Waiting up to %u s...\n", what, tk->uri, wait_s);
	if (tk->description[0])
		cer_say(r, "     (%s)\n", tk->description);
	for (;;) {
		rc = cer_check_intr(r);
		if (rc != OFFCA_OK)
			return rc;
		rc = tok_wait(r->module, tk->uri, 2, &arr);
		/* settled: a token that is still there a moment later (a device being plugged in, a
		   token store being written, may show up half-way) */
		if (rc == OFFCA_OK && usleep(500000) == 0 && cer_token_present(r->module, tk, ti) == 1)
			return OFFCA_OK;
		if (rc == OFFCA_OK || rc == OFFCA_E_TOKEN) /* not settled / transient: wait on */
			sleep(1);
		else if (rc != OFFCA_E_TIMEOUT)
			return rc;
		waited += 2;
		if (waited >= wait_s)
			return ut_err(OFFCA_E_ABORTED, "%s was not inserted within %u s", what, wait_s);
	}
}

offca_rc cer_token_ready(cer_run_t *r, int token)
{
	const cer_token *tk = &r->f->tokens[token];
	char what[CER_NAME_LEN + 16];
	tok_info ti;
	offca_rc rc;

	snprintf(what, sizeof(what), "token '%s'", tk->id);
	rc = ready(r, tk, tk->id, what, &ti);
	if (rc != OFFCA_OK)
		return rc;
	r->tinfo[token] = ti;
	r->tinfo_ok[token] = 1;
	cer_say(r, "  Token '%s' present: label '%s', serial %s, %s %s%s%s\n", tk->id, ti.label, ti.serial,
		ti.manufacturer, ti.model, is_yubikey(&ti) ? " (YubiKey)" : "",
		cer_keys_held(r, tk->id) ? "; still logged in (no PIN needed)" : "");
	return cer_log(r, "token-inserted",
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "token", tk->id, "label", ti.label, "serial",
				 ti.serial, "manufacturer", ti.manufacturer, "model", ti.model, "protected_auth_path",
				 ti.protected_auth_path));
}

offca_rc cer_wait_uri(cer_run_t *r, const char *who, const char *uri)
{
	char what[CER_NAME_LEN + 16];
	cer_token tk;
	tok_info ti;
	offca_rc rc;

	uri_token(uri, &tk);
	snprintf(what, sizeof(what), "the token of %s", who);
	rc = ready(r, &tk, who, what, &ti);
	if (rc != OFFCA_OK)
		return rc;
	return cer_log(r, "token-inserted", json_pack("{s:s, s:s, s:s}", "token", who, "label", ti.label, "serial",
						      ti.serial));
}
