/*
 * p11_delay.c - a PKCS#11 module for tests: every call goes to the real module named by
 * $OFFCA_SHIM_MODULE (default: the installed SoftHSM2), except that C_Sign first sleeps
 * $OFFCA_SHIM_SIGN_DELAY_MS milliseconds (0 or unset: no delay), like a YubiKey waiting for a touch.
 * With $OFFCA_SHIM_SIGN_RV set (a number, e.g. 0x50 for CKR_FUNCTION_CANCELED) C_Sign returns that
 * after the delay instead of signing, as a YubiKey does when nobody touched it. Only the call that
 * produces the signature is delayed (not a length query with a NULL buffer).
 * Each delayed C_Sign appends a line to $OFFCA_SHIM_LOG when set, so a test can count signatures.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static const char *const softhsm[] = {"/usr/lib/softhsm/libsofthsm2.so",
				      "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
				      "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", NULL};

static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST mine;

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static CK_RV delayed_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
			  CK_ULONG_PTR siglen)
{
	const char *d = getenv("OFFCA_SHIM_SIGN_DELAY_MS"), *rv = getenv("OFFCA_SHIM_SIGN_RV");
	const char *log = getenv("OFFCA_SHIM_LOG");
	FILE *f;

	if (sig != NULL) {
		if (log != NULL && (f = fopen(log, "a")) != NULL) {
			fprintf(f, "C_Sign\n");
			fclose(f);
		}
		if (d != NULL)
			pause_ms(strtol(d, NULL, 10));
		if (rv != NULL && *rv != '\0')
			return (CK_RV)strtoul(rv, NULL, 0);
	}
	return real->C_Sign(s, data, len, sig, siglen);
}

static CK_RV load(void)
{
	const char *path = getenv("OFFCA_SHIM_MODULE");
	CK_C_GetFunctionList get;
	void *dl = NULL;

	if (real != NULL)
		return CKR_OK;
	if (path != NULL)
		dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	for (size_t i = 0; path == NULL && dl == NULL && softhsm[i] != NULL; i++)
		dl = dlopen(softhsm[i], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return CKR_GENERAL_ERROR;
	get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&real) != CKR_OK || real == NULL)
		return CKR_GENERAL_ERROR;
	mine = *real;
	mine.C_Sign = delayed_sign;
	return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = load();
	if (rv != CKR_OK)
		return rv;
	*out = &mine;
	return CKR_OK;
}
