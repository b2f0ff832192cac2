/* slots.c - enumerating slots and tokens, and picking the token a URI names. */
#include "tok_int.h"
#include "offca/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *out, size_t cap, const char *in)
{
	if (in == NULL) {
		out[0] = '\0';
		return;
	}
	tok_copy_padded(out, cap, (const unsigned char *)in, strlen(in));
}

void tok_fill_info(tok_ctx *ctx, PKCS11_SLOT *slot, tok_info *info)
{
	CK_TOKEN_INFO ti;
	PKCS11_TOKEN *t = slot->token;

	memset(info, 0, sizeof(*info));
	info->slot_id = PKCS11_get_slotid_from_slot(slot);
	copy_str(info->slot_description, sizeof(info->slot_description), slot->description);
	info->removable = slot->removable != 0;
	if (t == NULL)
		return;
	info->present = 1;
	copy_str(info->label, sizeof(info->label), t->label);
	copy_str(info->manufacturer, sizeof(info->manufacturer), t->manufacturer);
	copy_str(info->model, sizeof(info->model), t->model);
	copy_str(info->serial, sizeof(info->serial), t->serialnr);
	info->initialized = t->initialized != 0;
	info->login_required = t->loginRequired != 0;
	info->protected_auth_path = t->secureLogin != 0;
	info->user_pin_count_low = t->userPinCountLow != 0;
	info->user_pin_final_try = t->userPinFinalTry != 0;
	info->user_pin_locked = t->userPinLocked != 0;
	/* libp11 read the flags when it enumerated; PIN counters change with every login attempt. */
	if (ctx->fl->C_GetTokenInfo(info->slot_id, &ti) == CKR_OK) {
		info->initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
		info->login_required = (ti.flags & CKF_LOGIN_REQUIRED) != 0;
		info->protected_auth_path = (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
		info->user_pin_count_low = (ti.flags & CKF_USER_PIN_COUNT_LOW) != 0;
		info->user_pin_final_try = (ti.flags & CKF_USER_PIN_FINAL_TRY) != 0;
		info->user_pin_locked = (ti.flags & CKF_USER_PIN_LOCKED) != 0;
	}
}

offca_rc tok_list(tok_ctx *ctx, tok_info **out, size_t *n)
{
	tok_info *arr = NULL;
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (ctx == NULL || out == NULL || n == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_list: NULL argument");
	rc = tok_ctx_enum(ctx);
	if (rc != OFFCA_OK)
		return rc;
	arr = calloc(ctx->nslots > 0 ? ctx->nslots : 1, sizeof(*arr));
	if (arr == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory listing slots");
	for (unsigned i = 0; i < ctx->nslots; i++)
		tok_fill_info(ctx, &ctx->slots[i], &arr[i]);
	*out = arr;
	*n = ctx->nslots;
	return OFFCA_OK;
}

static int str_eq(const char *want, const char *have)
{
	char buf[80];

	if (want == NULL)
		return 1;
	copy_str(buf, sizeof(buf), have);
	return strcmp(want, buf) == 0;
}

int tok_slot_matches(PKCS11_SLOT *slot, const tok_uri *uri)
{
	PKCS11_TOKEN *t = slot->token;
	const char *sid = tok_uri_get(uri, "slot-id");

	if (t == NULL || !t->initialized)
		return 0;
	if (sid != NULL && strtoul(sid, NULL, 10) != PKCS11_get_slotid_from_slot(slot))
		return 0;
	return str_eq(tok_uri_get(uri, "token"), t->label) && str_eq(tok_uri_get(uri, "serial"), t->serialnr) &&
	       str_eq(tok_uri_get(uri, "manufacturer"), t->manufacturer) &&
	       str_eq(tok_uri_get(uri, "model"), t->model) &&
	       str_eq(tok_uri_get(uri, "slot-description"), slot->description) &&
	       str_eq(tok_uri_get(uri, "slot-manufacturer"), slot->manufacturer);
}

static void describe(const tok_uri *uri, char *buf, size_t cap)
{
	const char *tok = tok_uri_get(uri, "token");
	const char *ser = tok_uri_get(uri, "serial");
	const char *sid = tok_uri_get(uri, "slot-id");
	int n;

	n = snprintf(buf, cap, "%s%s%s%s%s%s", tok ? "token=" : "", tok ? tok : "", ser ? " serial=" : "",
		     ser ? ser : "", sid ? " slot-id=" : "", sid ? sid : "");
	if (n <= 0 || (size_t)n >= cap)
		snprintf(buf, cap, "the URI");
}

offca_rc tok_find_slot(tok_ctx *ctx, const tok_uri *uri, PKCS11_SLOT **out)
{
	PKCS11_SLOT *found = NULL;
	unsigned count = 0;
	char what[160];

	*out = NULL;
	for (unsigned i = 0; i < ctx->nslots; i++) {
		if (!tok_slot_matches(&ctx->slots[i], uri))
			continue;
		if (found == NULL)
			found = &ctx->slots[i];
		count++;
	}
	describe(uri, what, sizeof(what));
	if (count == 0)
		return ut_err(OFFCA_E_TOKEN_ABSENT, "no token matching %s in module %s (is it plugged in? "
						    "see 'offca token list')",
			      what[0] ? what : "(any)", ctx->module);
	if (count > 1)
		return ut_err(OFFCA_E_USAGE, "%u tokens match %s: name one with token=... or serial=... in the URI",
			      count, what[0] ? what : "the URI");
	*out = found;
	return OFFCA_OK;
}
