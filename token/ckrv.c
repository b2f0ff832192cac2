/* ckrv.c - translating PKCS#11 CK_RV values into offca_rc (they never leave this module). */
#include "tok_int.h"

#include <stdio.h>

struct rvmap {
	CK_RV rv;
	const char *name;
	offca_rc rc;
	const char *text;
};

/* name derived from the constant, so the two cannot disagree */
#define RV(rv, rc, text) {rv, #rv, rc, text}

static const struct rvmap map[] = {
	RV(CKR_OK, OFFCA_OK, "ok"),
	RV(CKR_HOST_MEMORY, OFFCA_E_NOMEM, "out of memory"),
	RV(CKR_SLOT_ID_INVALID, OFFCA_E_TOKEN_ABSENT, "no such slot"),
	RV(CKR_GENERAL_ERROR, OFFCA_E_TOKEN, "general token error"),
	RV(CKR_FUNCTION_FAILED, OFFCA_E_TOKEN, "the token failed the operation"),
	RV(CKR_ARGUMENTS_BAD, OFFCA_E_INTERNAL, "bad arguments"),
	RV(CKR_ATTRIBUTE_SENSITIVE, OFFCA_E_TOKEN, "attribute is sensitive"),
	RV(CKR_ATTRIBUTE_TYPE_INVALID, OFFCA_E_UNSUPPORTED,
	 "attribute not supported by the token"),
	RV(CKR_ATTRIBUTE_VALUE_INVALID, OFFCA_E_UNSUPPORTED,
	 "attribute value not supported by the token"),
	RV(CKR_DEVICE_ERROR, OFFCA_E_TOKEN, "device error"),
	RV(CKR_DEVICE_MEMORY, OFFCA_E_TOKEN, "the token is out of memory (full?)"),
	RV(CKR_DEVICE_REMOVED, OFFCA_E_TOKEN_ABSENT, "the token was removed"),
	RV(CKR_KEY_TYPE_INCONSISTENT, OFFCA_E_UNSUPPORTED, "key type inconsistent"),
	RV(CKR_KEY_SIZE_RANGE, OFFCA_E_UNSUPPORTED, "key size not supported by the token"),
	RV(CKR_MECHANISM_INVALID, OFFCA_E_UNSUPPORTED, "mechanism not supported by the token"),
	RV(CKR_MECHANISM_PARAM_INVALID, OFFCA_E_UNSUPPORTED,
	 "mechanism parameter not supported"),
	RV(CKR_OBJECT_HANDLE_INVALID, OFFCA_E_NOT_FOUND, "object vanished"),
	RV(CKR_PIN_INCORRECT, OFFCA_E_PIN_INCORRECT, "wrong PIN"),
	RV(CKR_PIN_INVALID, OFFCA_E_PIN_INCORRECT, "PIN has invalid characters"),
	RV(CKR_PIN_LEN_RANGE, OFFCA_E_PIN_INCORRECT, "PIN has the wrong length"),
	RV(CKR_PIN_EXPIRED, OFFCA_E_PIN_INCORRECT, "PIN expired: change it first"),
	RV(CKR_PIN_LOCKED, OFFCA_E_PIN_LOCKED, "PIN locked"),
	RV(CKR_SESSION_CLOSED, OFFCA_E_TOKEN, "session closed"),
	RV(CKR_SESSION_COUNT, OFFCA_E_TOKEN, "too many sessions"),
	RV(CKR_SESSION_HANDLE_INVALID, OFFCA_E_TOKEN, "session no longer valid"),
	RV(CKR_SESSION_READ_ONLY, OFFCA_E_TOKEN, "read-only session"),
	RV(CKR_TEMPLATE_INCOMPLETE, OFFCA_E_UNSUPPORTED, "template incomplete"),
	RV(CKR_TEMPLATE_INCONSISTENT, OFFCA_E_UNSUPPORTED,
	 "the token refuses this attribute combination"),
	RV(CKR_TOKEN_NOT_PRESENT, OFFCA_E_TOKEN_ABSENT, "no token in the slot"),
	RV(CKR_TOKEN_NOT_RECOGNIZED, OFFCA_E_TOKEN, "token not recognised"),
	RV(CKR_TOKEN_WRITE_PROTECTED, OFFCA_E_TOKEN, "token is write-protected"),
	RV(CKR_USER_NOT_LOGGED_IN, OFFCA_E_TOKEN, "not logged in"),
	RV(CKR_USER_PIN_NOT_INITIALIZED, OFFCA_E_TOKEN,
	 "the token's user PIN is not initialised"),
	RV(CKR_USER_TYPE_INVALID, OFFCA_E_INTERNAL, "bad user type"),
	RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, OFFCA_E_TOKEN,
	 "the security officer is logged in"),
	RV(CKR_BUFFER_TOO_SMALL, OFFCA_E_INTERNAL, "buffer too small"),
	RV(CKR_CRYPTOKI_NOT_INITIALIZED, OFFCA_E_MODULE, "module not initialised"),
	RV(CKR_FUNCTION_NOT_SUPPORTED, OFFCA_E_UNSUPPORTED,
	 "function not supported by the module"),
	RV(CKR_DATA_LEN_RANGE, OFFCA_E_CRYPTO, "data length out of range"),
	RV(CKR_OPERATION_ACTIVE, OFFCA_E_TOKEN,
	 "an earlier operation is unfinished (after a refused PIN?): close and reopen the key"),
	RV(CKR_FUNCTION_CANCELED, OFFCA_E_ABORTED, "cancelled on the token (no touch?)"),
	RV(CKR_KEY_FUNCTION_NOT_PERMITTED, OFFCA_E_TOKEN,
	 "the key may not be used for this"),
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
