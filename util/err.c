/* err.c - the project's error table and per-thread detail message. */
#include "offca/err.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct rc_info {
	const char *msg;
	int exit_code;
};

/* Exit codes group the conditions a script can act on; docs/exit-codes.md lists them. */
static const struct rc_info table[OFFCA_E__COUNT] = {
	[OFFCA_OK] = {"success", 0},
	[OFFCA_E_INTERNAL] = {"internal error", 70},
	[OFFCA_E_NOMEM] = {"out of memory", 71},
	[OFFCA_E_USAGE] = {"invalid usage", 2},
	[OFFCA_E_IO] = {"input/output error", 74},
	[OFFCA_E_DISK_FULL] = {"disk full", 75},
	[OFFCA_E_EXISTS] = {"already exists (refusing to overwrite)", 73},
	[OFFCA_E_NOT_FOUND] = {"not found", 3},
	[OFFCA_E_PARSE] = {"malformed input", 65},
	[OFFCA_E_TOO_BIG] = {"input too large", 65},
	[OFFCA_E_POLICY] = {"refused by policy", 4},
	[OFFCA_E_LINT] = {"lint failed", 4},
	[OFFCA_E_CRYPTO] = {"cryptographic operation failed", 5},
	[OFFCA_E_VERIFY] = {"verification failed", 6},
	[OFFCA_E_PIN_INCORRECT] = {"incorrect PIN", 7},
	[OFFCA_E_PIN_LOCKED] = {"PIN locked", 8},
	[OFFCA_E_TOKEN_ABSENT] = {"token not present", 9},
	[OFFCA_E_TOKEN] = {"token error", 10},
	[OFFCA_E_MODULE] = {"PKCS#11 module could not be loaded", 11},
	[OFFCA_E_UNSUPPORTED] = {"not supported", 12},
	[OFFCA_E_STORE] = {"CA store error", 13},
	[OFFCA_E_STATE] = {"not possible in the current state", 14},
	[OFFCA_E_PERM] = {"permission problem", 77},
	[OFFCA_E_TIMEOUT] = {"timed out", 15},
	[OFFCA_E_ABORTED] = {"aborted", 16},
	[OFFCA_E_NETWORK] = {"network error", 17},
	[OFFCA_E_PROTOCOL] = {"the server reported an error", 18},
	[OFFCA_E_NO_TOUCH] = {"no touch on the token in time", 21},
};

static _Thread_local offca_rc last_rc;
static _Thread_local char last_msg[1024];

const char *ut_strerror(offca_rc rc)
{
	if ((int)rc < 0 || rc >= OFFCA_E__COUNT || table[rc].msg == NULL)
		return "unknown error";
	return table[rc].msg;
}

int ut_exit_code(offca_rc rc)
{
	if ((int)rc < 0 || rc >= OFFCA_E__COUNT)
		return 1;
	return table[rc].exit_code;
}

/*
 * Format into a scratch buffer first: callers may wrap an earlier detail, as in
 * ut_err(rc, "reading %s: %s", path, ut_err_msg()), whose argument is last_msg itself.
 */
__attribute__((format(printf, 2, 0))) static void vrecord(offca_rc rc, const char *fmt, va_list ap)
{
	char scratch[sizeof(last_msg)];
	int n;

	last_rc = rc;
	n = vsnprintf(scratch, sizeof(scratch), fmt, ap);
	if (n < 0)
		snprintf(scratch, sizeof(scratch), "%s", ut_strerror(rc));
	/* a truncated detail is still useful: keep what fits */
	memcpy(last_msg, scratch, sizeof(last_msg));
}

offca_rc ut_err(offca_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(rc, fmt, ap);
	va_end(ap);
	return rc;
}

offca_rc ut_err_ssl(offca_rc rc, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t used;
	char reason[256];

	va_start(ap, fmt);
	vrecord(rc, fmt, ap);
	va_end(ap);
	e = ERR_peek_error();
	if (e != 0) {
		ERR_error_string_n(e, reason, sizeof(reason));
		used = strlen(last_msg);
		if (used < sizeof(last_msg))
			snprintf(last_msg + used, sizeof(last_msg) - used, " (%s)", reason);
	}
	ERR_clear_error();
	return rc;
}

const char *ut_err_msg(void)
{
	if (last_msg[0] == '\0')
		return ut_strerror(last_rc);
	return last_msg;
}

offca_rc ut_err_last(void)
{
	return last_rc;
}

void ut_err_clear(void)
{
	last_rc = OFFCA_OK;
	last_msg[0] = '\0';
}
