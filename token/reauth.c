/*
 * reauth.c - keys that need the PIN for every signature (CKA_ALWAYS_AUTHENTICATE: a YubiKey's PIV
 * slot 9c through OpenSC, HSM keys with per-use authorisation).
 *
 * libp11 performs the context-specific login (CKU_CONTEXT_SPECIFIC) itself before each signature
 * and asks its context's OpenSSL UI_METHOD for the PIN; the default one prints a prompt on stdout
 * and reads the terminal. offca installs its own UI_METHOD that answers from the key's PIN source
 * instead: the PIN file (read again for every signature, never kept), else the no-echo prompt on
 * /dev/tty. Only a PIN handed over in memory by the caller (tok_pin_opts.pin_value, e.g. a
 * ceremony's credentials) is copied, into locked memory, and wiped at tok_key_free(): the caller
 * has no way to supply it again per signature.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/ui.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_REAUTH 16

struct tok_reauth {
	tok_ctx *ctx;
	char label[65];
	char *pin_file; /* path, or NULL */
	char *pin;      /* locked copy of a caller-supplied PIN, or NULL */
	size_t pin_cap;
};

static pthread_mutex_t reauth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tok_reauth *reauth[MAX_REAUTH];
static UI_METHOD *ui_method; /* created once, shared by every context */

/* The entry for the key libp11 asks about: the only one of the context, or the one whose label
 * ends libp11's prompt ("... PIN for LABEL:"). Call with reauth_lock held. */
static struct tok_reauth *find_entry(tok_ctx *ctx, const char *prompt)
{
	struct tok_reauth *only = NULL;
	size_t n = 0;

	for (size_t i = 0; i < MAX_REAUTH; i++) {
		char want[80];

		if (reauth[i] == NULL || reauth[i]->ctx != ctx)
			continue;
		n++;
		only = reauth[i];
		snprintf(want, sizeof(want), "for %s:", reauth[i]->label);
		if (prompt != NULL && strstr(prompt, want) != NULL)
			return reauth[i];
	}
	return n == 1 ? only : NULL;
}

static int ui_read(UI *ui, UI_STRING *uis)
{
	char pin[UT_MAX_SECRET] = "", prompt[128];
	tok_ctx *ctx = UI_get0_user_data(ui);
	struct tok_reauth *e;
	offca_rc rc = OFFCA_E_USAGE;
	int ok;

	if (UI_get_string_type(uis) != UIT_PROMPT && UI_get_string_type(uis) != UIT_VERIFY)
		return 1;
	pthread_mutex_lock(&reauth_lock);
	e = find_entry(ctx, UI_get0_output_string(uis));
	if (e != NULL && e->pin != NULL) {
		snprintf(pin, sizeof(pin), "%s", e->pin);
		rc = OFFCA_OK;
	} else if (e != NULL && e->pin_file != NULL) {
		rc = ut_secret_from_file(e->pin_file, 1, pin, sizeof(pin));
	} else {
		snprintf(prompt, sizeof(prompt), "PIN for key '%s' (asked for every signature): ",
			 e != NULL ? e->label : "?");
		rc = OFFCA_E_NOT_FOUND;
	}
	pthread_mutex_unlock(&reauth_lock);
	if (rc == OFFCA_E_NOT_FOUND)
		rc = ut_secret_prompt(prompt, pin, sizeof(pin));
	ok = rc == OFFCA_OK && UI_set_result(ui, uis, pin) >= 0;
	ut_memzero(pin, sizeof(pin));
	return ok ? 1 : -1;
}

/* Create the UI_METHOD once (under reauth_lock). */
static UI_METHOD *method(void)
{
	if (ui_method == NULL) {
		ui_method = UI_create_method("offca PIN source");
		if (ui_method != NULL && UI_method_set_reader(ui_method, ui_read) != 0) {
			UI_destroy_method(ui_method);
			ui_method = NULL;
		}
	}
	return ui_method;
}

offca_rc tok_reauth_add(tok_ctx *ctx, const char *label, const tok_uri *uri, const tok_pin_opts *opts,
			struct tok_reauth **out)
{
	struct tok_reauth *e = NULL;
	const char *src = tok_uri_get(uri, "pin-source");
	offca_rc rc = OFFCA_E_NOMEM;
	size_t slot = MAX_REAUTH;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto out;
	e->ctx = ctx;
	snprintf(e->label, sizeof(e->label), "%s", label);
	if (opts != NULL && opts->pin_value != NULL && opts->pin_file == NULL) {
		e->pin_cap = strlen(opts->pin_value) + 1;
		e->pin = malloc(e->pin_cap);
		if (e->pin == NULL)
			goto out;
		(void)mlock(e->pin, e->pin_cap); /* best effort: keep it out of swap */
		memcpy(e->pin, opts->pin_value, e->pin_cap);
	} else if (opts != NULL && opts->pin_file != NULL) {
		e->pin_file = strdup(opts->pin_file);
		if (e->pin_file == NULL)
			goto out;
	} else if (src != NULL) {
		e->pin_file = strdup(strncmp(src, "file:", 5) == 0 ? src + 5 : src);
		if (e->pin_file == NULL)
			goto out;
	} else if (opts != NULL && opts->no_prompt) {
		rc = ut_err(OFFCA_E_USAGE, "key '%s' needs the PIN for every signature: give a PIN file", label);
		goto out;
	}
	pthread_mutex_lock(&reauth_lock);
	for (size_t i = 0; i < MAX_REAUTH && slot == MAX_REAUTH; i++)
		if (reauth[i] == NULL)
			slot = i;
	if (slot < MAX_REAUTH && method() != NULL && PKCS11_set_ui_method(ctx->p11, method(), ctx) == 0) {
		reauth[slot] = e;
		rc = OFFCA_OK;
	} else {
		rc = ut_err(OFFCA_E_TOKEN, "cannot set up per-signature PIN entry for key '%s'", label);
	}
	pthread_mutex_unlock(&reauth_lock);
	if (rc != OFFCA_OK)
		goto out;
	*out = e;
	e = NULL;
out:
	tok_reauth_free(e);
	if (rc == OFFCA_E_NOMEM)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	return rc;
}

void tok_reauth_free(struct tok_reauth *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&reauth_lock);
	for (size_t i = 0; i < MAX_REAUTH; i++)
		if (reauth[i] == e)
			reauth[i] = NULL;
	pthread_mutex_unlock(&reauth_lock);
	if (e->pin != NULL) {
		ut_memzero(e->pin, e->pin_cap);
		munlock(e->pin, e->pin_cap);
		free(e->pin);
	}
	free(e->pin_file);
	free(e);
}
