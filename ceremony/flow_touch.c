/* flow_touch.c - the ceremony's keys that need a touch: the token's "touch" in the ceremony file,
   else the touch policy the key's attestation stated; the prompt goes to the ceremony's screen. */
#include "ceremony_int.h"

#include <stdio.h>
#include <string.h>

#include "offca/keyref.h"
#include "offca/util.h"

static void say(void *arg, const char *line)
{
	cer_say(arg, "  >> %s\n", line);
}

static const cer_token *token_of(cer_run_t *r, const char *who)
{
	for (size_t i = 0; i < r->f->n_tokens; i++)
		if (strcmp(r->f->tokens[i].id, who) == 0)
			return &r->f->tokens[i];
	return NULL;
}

/* The attested policy of key (TOK_TOUCH_NEVER when none was recorded). */
static int attested_mode(cer_run_t *r, tok_key *key)
{
	for (size_t i = 0; i < r->n_attested; i++)
		if (strcmp(r->attested[i].uri, tok_key_uri(key)) == 0 ||
		    ca_key_uri_matches(tok_key_uri(key), r->attested[i].uri) == OFFCA_OK)
			return r->attested[i].mode;
	return TOK_TOUCH_NEVER;
}

offca_rc cer_touch_apply(cer_run_t *r, const char *who, tok_key *key)
{
	const cer_token *tk = token_of(r, who);
	tok_touch_opts o;

	memset(&o, 0, sizeof(o));
	o.mode = tk != NULL && tk->touch >= 0 ? (tok_touch_mode)tk->touch : (tok_touch_mode)attested_mode(r, key);
	if (o.mode == TOK_TOUCH_NEVER && !tok_touch_wanted(tok_key_private(key)))
		return OFFCA_OK;
	o.timeout_s = tk != NULL ? tk->touch_timeout : 0;
	o.notify = say;
	o.notify_arg = r;
	o.interrupted = r->opts->interrupted;
	return tok_key_set_touch(key, &o);
}

offca_rc cer_touch_attested(cer_run_t *r, const char *key_uri, const char *policy)
{
	tok_touch_mode m = TOK_TOUCH_NEVER;
	tok_key *held;

	if (policy == NULL || tok_touch_mode_parse(policy, &m) != OFFCA_OK)
		m = TOK_TOUCH_NEVER; /* "default" (never for PIV keys) or unknown */
	if (strlen(key_uri) >= sizeof(r->attested[0].uri) || r->n_attested >= CER_MAX_KEYSLOTS)
		return ut_err(OFFCA_E_TOO_BIG, "too many attested keys, or a key URI over %zu bytes",
			      sizeof(r->attested[0].uri) - 1);
	snprintf(r->attested[r->n_attested].uri, sizeof(r->attested[0].uri), "%s", key_uri);
	r->attested[r->n_attested++].mode = (int)m;
	held = cer_key_held(r, key_uri);
	return held != NULL ? cer_touch_apply(r, cer_who_for_uri(r, key_uri), held) : OFFCA_OK;
}
