/* flow_keys.c - PINs (3 tries), keys opened once and kept open (one login per token for the whole
   ceremony); staged outputs released all or nothing. Token presence: flow_tokens.c. */
#include "ceremony_int.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offca/transcript.h"
#include "offca/util.h"

#define PIN_TRIES 3

const char *cer_who_for_uri(cer_run_t *r, const char *uri)
{
	tok_uri *u = NULL;
	const char *who = "issuer";

	if (tok_uri_parse(uri, &u) != OFFCA_OK)
		return who;
	for (size_t i = 0; i < r->f->n_tokens; i++) {
		const char *l = tok_uri_get(u, "token"), *s = tok_uri_get(u, "serial");
		if ((l != NULL && strcmp(r->f->tokens[i].label, l) == 0) ||
		    (s != NULL && strcmp(r->f->tokens[i].serial, s) == 0)) {
			who = r->f->tokens[i].id;
			break;
		}
	}
	tok_uri_free(u);
	return who;
}

static int touch_needed(cer_run_t *r, const char *who)
{
	for (size_t i = 0; i < r->f->n_tokens; i++)
		if (strcmp(r->f->tokens[i].id, who) == 0 && r->tinfo_ok[i])
			return r->tinfo[i].protected_auth_path || strstr(r->tinfo[i].manufacturer, "Yubico") != NULL ||
			       strstr(r->tinfo[i].model, "YubiKey") != NULL;
	return 0;
}

void cer_keys_close(cer_run_t *r, const char *who)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n_keys; i++) {
		if (who == NULL || strcmp(r->keys[i].who, who) == 0) {
			tok_key_free(r->keys[i].key);
			continue;
		}
		if (k != i)
			r->keys[k] = r->keys[i];
		k++;
	}
	memset(&r->keys[k], 0, (r->n_keys - k) * sizeof(r->keys[0]));
	r->n_keys = k;
}

int cer_keys_held(const cer_run_t *r, const char *who)
{
	for (size_t i = 0; i < r->n_keys; i++)
		if (strcmp(r->keys[i].who, who) == 0)
			return 1;
	return 0;
}

/* Does attribute attr of the URI (when present) equal have? */
static int attr_ok(const tok_uri *u, const char *attr, const char *have)
{
	const char *want = tok_uri_get(u, attr);

	return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

/* Does the key URI text name the open key k? Only URIs whose every attribute can be checked
   against the key (token/serial, object/id, type=private) match; others are opened anew (no PIN
   then: the token is logged in already). */
static int names_key(const char *text, tok_key *k)
{
	static const char *const unchecked[] = {"manufacturer", "model", "slot-id", "slot-description",
						"slot-manufacturer", "library-manufacturer", "library-description",
						"library-version", NULL};
	tok_uri *u = NULL, *ku = NULL;
	const unsigned char *id, *kid;
	size_t id_len = 0, kid_len = 0;
	int ok = 0;

	if (tok_uri_parse(text, &u) != OFFCA_OK || tok_uri_parse(tok_key_uri(k), &ku) != OFFCA_OK)
		goto out;
	for (size_t i = 0; unchecked[i] != NULL; i++)
		if (tok_uri_get(u, unchecked[i]) != NULL)
			goto out;
	id = tok_uri_id(u, &id_len);
	kid = tok_uri_id(ku, &kid_len);
	if ((tok_uri_get(u, "token") == NULL && tok_uri_get(u, "serial") == NULL) ||
	    (tok_uri_get(u, "object") == NULL && id == NULL))
		goto out;
	ok = attr_ok(u, "token", tok_key_token_label(k)) && attr_ok(u, "serial", tok_key_token_serial(k)) &&
	     attr_ok(u, "object", tok_key_label(k)) && attr_ok(u, "type", "private") &&
	     (id == NULL || (id_len == kid_len && memcmp(id, kid, id_len) == 0));
out:
	tok_uri_free(u);
	tok_uri_free(ku);
	return ok;
}

tok_key *cer_key_held(cer_run_t *r, const char *uri)
{
	for (size_t i = 0; i < r->n_keys; i++)
		if (strcmp(r->keys[i].uri, uri) == 0 || names_key(uri, r->keys[i].key))
			return r->keys[i].key;
	return NULL;
}

/* One typed PIN: an empty one is asked again (it costs no try: the token never sees it); Ctrl-C
   asks whether to abort and, if not, asks for the PIN again. */
static offca_rc typed_pin(cer_run_t *r, const char *who, const char *prompt, char *pin, size_t cap)
{
	offca_rc rc;

	for (;;) {
		rc = ut_secret_prompt(prompt, pin, cap);
		if (rc == OFFCA_OK && !cer_interrupted(r) && pin[0] != '\0')
			return OFFCA_OK;
		ut_memzero(pin, cap);
		if (cer_interrupted(r)) {
			rc = cer_check_intr(r);
			if (rc != OFFCA_OK)
				return rc;
			continue;
		}
		if (rc == OFFCA_E_IO)
			return ut_err(OFFCA_E_USAGE, "no terminal to ask for the PIN of %s: run on a terminal "
				      "or give the PIN in a --credentials file", who);
		if (rc != OFFCA_OK)
			return rc;
		cer_say(r, "  The PIN is empty: type the PIN of %s and press Enter (an empty PIN costs no try; "
			   "Ctrl-C to abort).\n", who);
	}
}

offca_rc cer_pin_loop(cer_run_t *r, const char *who, int touch_hint, cer_pin_fn fn, void *arg)
{
	offca_rc rc = OFFCA_E_INTERNAL;
	char pin[UT_MAX_SECRET + 1], prompt[256];
	int from_creds;

	if (cer_keys_held(r, who)) {
		/* a key of this token is open: this process is logged in, no PIN needed */
		rc = fn(r, NULL, arg);
		if (rc == OFFCA_OK) {
			cer_say(r, "  Token of %s: still logged in from an earlier step (no PIN needed).\n", who);
			return cer_log(r, "login", json_pack("{s:s, s:s}", "token", who, "with", "earlier login"));
		}
		if (rc != OFFCA_E_USAGE) /* USAGE: no PIN source, i.e. not logged in after all */
			return rc;
	}
	from_creds = cer_credentials_pin(r->opts->creds, who, pin, sizeof(pin)) == OFFCA_OK;
	/* dry run: the real PIN would not open the throwaway token; a non-interactive rehearsal
	   (--answers) types the rehearsal PIN itself */
	if (r->dry_run && (from_creds || r->opts->answers != NULL)) {
		snprintf(pin, sizeof(pin), "%s", CER_DRY_PIN);
		from_creds = 1;
	}
	for (int attempt = 1; attempt <= PIN_TRIES; attempt++) {
		rc = cer_check_intr(r);
		if (rc != OFFCA_OK)
			goto out;
		if (!from_creds) {
			snprintf(prompt, sizeof(prompt), "  PIN for %s (typing is not shown): ", who);
			rc = typed_pin(r, who, prompt, pin, sizeof(pin));
			if (rc != OFFCA_OK)
				goto out;
		} else if (attempt == 1) {
			cer_say(r, "  PIN for %s: %s\n", who,
				r->dry_run ? "the rehearsal PIN (dry run)" : "from the credentials file");
		}
		if (touch_hint || touch_needed(r, who))
			cer_say(r, "  >> Touch the YubiKey now if it blinks.\n");
		rc = fn(r, pin, arg);
		ut_memzero(pin, sizeof(pin));
		if (rc == OFFCA_OK) {
			rc = cer_log(r, "login", json_pack("{s:s, s:s}", "token", who, "with",
							  r->dry_run && from_creds ? "dry run"
							  : from_creds		  ? "credentials file"
										  : "typed"));
			break;
		}
		if (rc != OFFCA_E_PIN_INCORRECT)
			goto out;
		cer_log(r, "pin-incorrect", json_pack("{s:s, s:i}", "token", who, "attempt", attempt));
		cer_say(r, "  %s\n", ut_err_msg());
		if (from_creds) {
			rc = ut_err(OFFCA_E_ABORTED, "the credentials file's PIN for %s is wrong", who);
			goto out;
		}
		if (attempt == PIN_TRIES) {
			rc = ut_err(OFFCA_E_ABORTED, "wrong PIN three times for %s", who);
			goto out;
		}
	}
out:
	ut_memzero(pin, sizeof(pin));
	return rc;
}

offca_rc cer_keep_key(cer_run_t *r, const char *who, tok_key *key)
{
	if (r->n_keys >= CER_MAX_KEYSLOTS) {
		tok_key_free(key);
		return ut_err(OFFCA_E_TOO_BIG, "too many keys in one ceremony");
	}
	snprintf(r->keys[r->n_keys].uri, sizeof(r->keys[0].uri), "%s", tok_key_uri(key));
	snprintf(r->keys[r->n_keys].who, sizeof(r->keys[0].who), "%s", who);
	r->keys[r->n_keys++].key = key;
	return cer_touch_apply(r, who, key);
}

struct open_arg {
	const char *uri;
	tok_key *key;
};

static offca_rc open_cb(cer_run_t *r, const char *pin, void *arg)
{
	struct open_arg *a = arg;
	tok_pin_opts po;

	memset(&po, 0, sizeof(po));
	po.pin_value = pin;
	po.no_prompt = 1;
	return tok_key_open(r->module, a->uri, &po, &a->key);
}

offca_rc cer_key_get(cer_run_t *r, const char *uri, const char *who, int touch_hint, tok_key **out)
{
	struct open_arg a = {uri, NULL};
	offca_rc rc;

	*out = cer_key_held(r, uri);
	if (*out != NULL)
		return OFFCA_OK;
	rc = cer_pin_loop(r, who, touch_hint, open_cb, &a);
	if (rc != OFFCA_OK) {
		tok_key_free(a.key);
		return rc;
	}
	/* remember it under the URI we were given too (it may differ from the canonical one) */
	if (r->n_keys >= CER_MAX_KEYSLOTS) {
		tok_key_free(a.key);
		return ut_err(OFFCA_E_TOO_BIG, "too many keys in one ceremony");
	}
	snprintf(r->keys[r->n_keys].uri, sizeof(r->keys[0].uri), "%s", uri);
	snprintf(r->keys[r->n_keys].who, sizeof(r->keys[0].who), "%s", who);
	r->keys[r->n_keys++].key = a.key;
	*out = a.key;
	rc = cer_touch_apply(r, who, a.key);
	if (rc != OFFCA_OK)
		return rc;
	return cer_log(r, "key-opened", json_pack("{s:s, s:s}", "token", who, "key", tok_key_uri(a.key)));
}

void cer_fingerprint(const void *data, size_t len, char *buf, size_t cap)
{
	unsigned char md[32];

	buf[0] = '\0';
	if (EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) != 1)
		return;
	cer_hex_grouped(md, sizeof(md), buf, cap);
}

offca_rc cer_stage(cer_run_t *r, const char *rel, const void *data, size_t len)
{
	cer_staged *s;

	if (r->n_staged >= CER_MAX_STAGED)
		return ut_err(OFFCA_E_TOO_BIG, "more than %u outputs in one step", CER_MAX_STAGED);
	s = &r->staged[r->n_staged];
	s->data = malloc(len ? len : 1);
	if (s->data == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(s->data, data, len);
	s->len = len;
	snprintf(s->rel, sizeof(s->rel), "%s", rel);
	r->n_staged++;
	return OFFCA_OK;
}

void cer_unstage(cer_run_t *r)
{
	for (size_t i = 0; i < r->n_staged; i++)
		free(r->staged[i].data);
	r->n_staged = 0;
}

/* The transcript lives in the output dir: record output paths relative to it, so the directory
   can be moved as a whole (verify resolves them against the transcript's directory). */
static offca_rc add_output_rel(cer_run_t *r, const char *rel)
{
	offca_rc rc;
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (here < 0)
		return ut_err(OFFCA_E_IO, "cannot open the current directory");
	if (chdir(r->out_dir) != 0) {
		close(here);
		return ut_err(OFFCA_E_IO, "cannot enter %s", r->out_dir);
	}
	rc = cer_transcript_add_output(r->t, r->step_id, rel);
	if (fchdir(here) != 0 && rc == OFFCA_OK)
		rc = ut_err(OFFCA_E_IO, "cannot return to the working directory");
	close(here);
	return rc;
}

offca_rc cer_release(cer_run_t *r)
{
	offca_rc rc = OFFCA_OK;
	char path[PATH_MAX], dir[PATH_MAX];
	size_t written = 0;

	for (size_t i = 0; i < r->n_staged && rc == OFFCA_OK; i++) {
		rc = cer_path_join(r->out_dir, r->staged[i].rel, path, sizeof(path));
		if (rc != OFFCA_OK)
			break;
		snprintf(dir, sizeof(dir), "%s", path);
		rc = ut_mkdir_p(dirname(dir), 0700);
		if (rc == OFFCA_OK)
			rc = ut_write_file(path, r->staged[i].data, r->staged[i].len, UT_WF_EXCL);
		if (rc == OFFCA_OK)
			written = i + 1;
	}
	if (rc != OFFCA_OK) {
		offca_rc keep = rc;
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		for (size_t i = 0; i < written; i++)
			if (cer_path_join(r->out_dir, r->staged[i].rel, path, sizeof(path)) == OFFCA_OK)
				unlink(path);
		cer_unstage(r);
		return ut_err(keep, "writing outputs: %s", msg);
	}
	for (size_t i = 0; i < r->n_staged; i++) {
		rc = add_output_rel(r, r->staged[i].rel);
		if (rc != OFFCA_OK)
			break;
		cer_say(r, "  wrote %s/%s\n", r->out_dir, r->staged[i].rel);
		cer_note_output(r, r->staged[i].rel);
	}
	cer_unstage(r);
	return rc;
}
