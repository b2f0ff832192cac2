/* ckrv.c - translating PKCS#11 CK_RV values into offca_rc (they never leave this module). */
#include "tok_int.h"

#include <stdio.h>

struct rvmap {
	CK_RV rv;
	const char *name;
	offca_rc rc;
	const char *text;
};

static const struct rvmap map[] = {
	{CKR_OK, "CKR_OK", OFFCA_OK, "ok"},
	{CKR_HOST_MEMORY, "CKR_HOST_MEMORY", OFFCA_E_NOMEM, "out of memory"},
	{CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", OFFCA_E_TOKEN_ABSENT, "no such slot"},
	{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", OFFCA_E_TOKEN, "general token error"},
	{CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", OFFCA_E_TOKEN, "the token failed the operation"},
	{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", OFFCA_E_INTERNAL, "bad arguments"},
	{CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", OFFCA_E_TOKEN, "attribute is sensitive"},
	{CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", OFFCA_E_UNSUPPORTED,
	 "attribute not supported by the token"},
	{CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID", OFFCA_E_UNSUPPORTED,
	 "attribute value not supported by the token"},
	{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", OFFCA_E_TOKEN, "device error"},
	{CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", OFFCA_E_TOKEN, "the token is out of memory (full?)"},
	{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", OFFCA_E_TOKEN_ABSENT, "the token was removed"},
	{CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", OFFCA_E_UNSUPPORTED, "key type inconsistent"},
	{CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", OFFCA_E_UNSUPPORTED, "key size not supported by the token"},
	{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", OFFCA_E_UNSUPPORTED, "mechanism not supported by the token"},
	{CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", OFFCA_E_UNSUPPORTED,
	 "mechanism parameter not supported"},
	{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", OFFCA_E_NOT_FOUND, "object vanished"},
	{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", OFFCA_E_PIN_INCORRECT, "wrong PIN"},
	{CKR_PIN_INVALID, "CKR_PIN_INVALID", OFFCA_E_PIN_INCORRECT, "PIN has invalid characters"},
	{CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", OFFCA_E_PIN_INCORRECT, "PIN has the wrong length"},
	{CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", OFFCA_E_PIN_INCORRECT, "PIN expired: change it first"},
	{CKR_PIN_LOCKED, "CKR_PIN_LOCKED", OFFCA_E_PIN_LOCKED, "PIN locked"},
	{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", OFFCA_E_TOKEN, "session closed"},
	{CKR_SESSION_COUNT, "CKR_SESSION_COUNT", OFFCA_E_TOKEN, "too many sessions"},
	{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", OFFCA_E_TOKEN, "session no longer valid"},
	{CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", OFFCA_E_TOKEN, "read-only session"},
	{CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", OFFCA_E_UNSUPPORTED, "template incomplete"},
	{CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", OFFCA_E_UNSUPPORTED,
	 "the token refuses this attribute combination"},
	{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", OFFCA_E_TOKEN_ABSENT, "no token in the slot"},
	{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", OFFCA_E_TOKEN, "token not recognised"},
	{CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", OFFCA_E_TOKEN, "token is write-protected"},
	{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", OFFCA_E_TOKEN, "not logged in"},
	{CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", OFFCA_E_TOKEN,
	 "the token's user PIN is not initialised"},
	{CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", OFFCA_E_INTERNAL, "bad user type"},
	{CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", OFFCA_E_TOKEN,
	 "the security officer is logged in"},
	{CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", OFFCA_E_INTERNAL, "buffer too small"},
	{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", OFFCA_E_MODULE, "module not initialised"},
	{CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED", OFFCA_E_UNSUPPORTED,
	 "function not supported by the module"},
	{CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", OFFCA_E_CRYPTO, "data length out of range"},
	{CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", OFFCA_E_TOKEN,
	 "an earlier operation is unfinished (after a refused PIN?): close and reopen the key"},
	{CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", OFFCA_E_ABORTED, "cancelled on the token (no touch?)"},
	{CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED", OFFCA_E_TOKEN,
	 "the key may not be used for this"},
};

static const struct rvmap *lookup(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].rv == rv)
			return &map[i];
	return NULL;
}

const char *tok_rv_name(CK_RV rv)
{
	static _Thread_local char buf[32];
	const struct rvmap *m = lookup(rv);

	if (m != NULL)
		return m->name;
	snprintf(buf, sizeof(buf), "CKR 0x%lx", (unsigned long)rv);
	return buf;
}

offca_rc tok_rv(CK_RV rv, const char *what)
{
	const struct rvmap *m = lookup(rv);

	if (rv == CKR_OK)
		return OFFCA_OK;
	if (m == NULL)
		return ut_err(OFFCA_E_TOKEN, "%s: token error %s", what, tok_rv_name(rv));
	return ut_err(m->rc, "%s: %s (%s)", what, m->text, m->name);
}

void tok_copy_padded(char *out, size_t cap, const unsigned char *in, size_t n)
{
	size_t len = n < cap - 1 ? n : cap - 1;

	for (size_t i = 0; i < len; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) || in[i] >= 0x80 ? (char)in[i] : '?';
	while (len > 0 && (out[len - 1] == ' ' || out[len - 1] == '\0'))
		len--;
	out[len] = '\0';
}
