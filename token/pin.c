/*
 * pin.c - where a PIN comes from, and logging in with it.
 *
 * Order: the caller's in-memory pin_value (ceremony credentials), --pin-file, the URI's
 * pin-source (file:PATH or a plain PATH), then a no-echo prompt on the terminal. The PIN lives in
 * one stack buffer that is wiped before tok_login() returns. Login goes through the raw
 * C_Login of the module rather than PKCS11_login(): libp11 keeps a copy of the PIN in the slot
 * for the slot's lifetime (to log in again after fork()), offca does not want that copy.
 * PKCS#11 login state belongs to the application, so the sessions libp11 opens for signing are
 * logged in too, as long as at least one session on the token stays open: the caller keeps the
 * raw session it logged in with until it is done with the token.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

offca_rc tok_pin_get(const tok_pin_opts *opts, const tok_uri *uri, const char *token_label, char *buf,
		     size_t cap)
{
	const char *src = tok_uri_get(uri, "pin-source");
	char prompt[96];
	size_t len;
	offca_rc rc;

	buf[0] = '\0';
	if (opts != NULL && opts->pin_value != NULL) {
		len = strlen(opts->pin_value);
		if (len == 0 || len >= cap)
			return ut_err(OFFCA_E_USAGE, "the PIN supplied for token '%s' is empty or too long", token_label);
		memcpy(buf, opts->pin_value, len + 1);
		return OFFCA_OK;
	}
	if (opts != NULL && opts->pin_file != NULL)
		return ut_secret_from_file(opts->pin_file, 1, buf, cap);
	if (src != NULL) {
		if (strncmp(src, "file:", 5) == 0)
			src += 5;
		if (src[0] == '|')
			return ut_err(OFFCA_E_UNSUPPORTED, "pkcs11 URI: pin-source=|command is not supported "
							   "(use a file)");
		return ut_secret_from_file(src, 1, buf, cap);
	}
	if (opts != NULL && opts->no_prompt)
		return ut_err(OFFCA_E_USAGE, "no PIN for token '%s': use --pin-file FILE or pin-source=file:... "
					     "in the URI", token_label);
	if (snprintf(prompt, sizeof(prompt), "PIN for token '%s': ", token_label) >= (int)sizeof(prompt))
		snprintf(prompt, sizeof(prompt), "PIN for the token: ");
	rc = ut_secret_prompt(prompt, buf, cap);
	if (rc == OFFCA_OK && buf[0] == '\0')
		rc = ut_err(OFFCA_E_ABORTED, "empty PIN: login aborted");
	return rc;
}

/* The error for a failed login, with the token's fresh PIN counters. */
static offca_rc login_error(tok_ctx *ctx, CK_SLOT_ID sid, CK_RV rv, const char *label)
{
	CK_TOKEN_INFO ti;
	CK_FLAGS fl = 0;

	if (ctx->fl->C_GetTokenInfo(sid, &ti) == CKR_OK)
		fl = ti.flags;
	if (rv == CKR_PIN_LOCKED || (fl & CKF_USER_PIN_LOCKED))
		return ut_err(OFFCA_E_PIN_LOCKED, "token '%s': the user PIN is locked; unblock it with the SO PIN "
						  "(e.g. pkcs11-tool --init-pin / ykman piv access unblock-pin)", label);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE) {
		if (fl & CKF_USER_PIN_FINAL_TRY)
			return ut_err(OFFCA_E_PIN_INCORRECT, "token '%s': wrong PIN (final try: one more wrong PIN "
							     "locks the token)", label);
		if (fl & CKF_USER_PIN_COUNT_LOW)
			return ut_err(OFFCA_E_PIN_INCORRECT, "token '%s': wrong PIN (count low: few tries left "
							     "before the token locks)", label);
		return ut_err(OFFCA_E_PIN_INCORRECT, "token '%s': wrong PIN", label);
	}
	return tok_rv(rv, "login");
}

offca_rc tok_login(tok_ctx *ctx, PKCS11_SLOT *slot, CK_SESSION_HANDLE s, const tok_uri *uri,
		   const tok_pin_opts *opts)
{
	char pin[UT_MAX_SECRET] = "";
	char label[33];
	CK_SLOT_ID sid = PKCS11_get_slotid_from_slot(slot);
	CK_SESSION_INFO si;
	CK_RV rv;
	offca_rc rc;

	(void)mlock(pin, sizeof(pin)); /* best effort: keep the PIN out of swap */
	tok_copy_padded(label, sizeof(label), (const unsigned char *)(slot->token ? slot->token->label : ""),
			slot->token && slot->token->label ? strlen(slot->token->label) : 0);
	rv = ctx->fl->C_GetSessionInfo(s, &si);
	if (rv == CKR_OK && (si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS)) {
		rc = OFFCA_OK; /* this process is logged in to the token already */
		goto out;
	}
	if (slot->token != NULL && slot->token->secureLogin) {
		/* PIN pad / touch: the device collects the PIN itself */
		rv = ctx->fl->C_Login(s, CKU_USER, NULL, 0);
	} else {
		rc = tok_pin_get(opts, uri, label, pin, sizeof(pin));
		if (rc != OFFCA_OK)
			goto out;
		rv = ctx->fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = login_error(ctx, sid, rv, label);
		goto out;
	}
	rc = OFFCA_OK;
out:
	ut_memzero(pin, sizeof(pin));
	(void)munlock(pin, sizeof(pin));
	return rc;
}
