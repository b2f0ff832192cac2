/*
 * wait.c - waiting until a token or smart card appears.
 *
 * With the OpenSC module (smart cards, YubiKey PIV) the wait sleeps in pcsc-lite's
 * SCardGetStatusChange on every reader plus "\\?PnP?\Notification" (readers plugged in later).
 * A card in any reader ends the wait when no token URI was given; with a URI the module is asked
 * whether the named token is there. Other modules (SoftHSM2, HSMs) are polled once a second by
 * loading the module afresh, since some (SoftHSM2) only see new tokens at C_Initialize.
 * pcsc-lite honours $PCSCLITE_CSOCK_NAME, which the tests use to talk to a private pcscd.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <PCSC/winscard.h>
#include <PCSC/pcsclite.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_READERS 16
#define MAX_READERS_BUF 4096
#define POLL_MS 1000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline (-1: forever), capped at cap. */
static long left_ms(long long deadline, long cap)
{
	long long left;

	if (deadline < 0)
		return cap;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left < cap ? (long)left : cap;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int is_opensc(const char *module)
{
	const char *base = strrchr(module, '/');

	base = base != NULL ? base + 1 : module;
	return strstr(base, "opensc") != NULL;
}

static void set_str(char *out, size_t cap, const char *in)
{
	snprintf(out, cap, "%s", in != NULL ? in : "");
}

static int field_eq(const char *want, const unsigned char *field, size_t n)
{
	char buf[80];

	if (want == NULL)
		return 1;
	tok_copy_padded(buf, sizeof(buf), field, n);
	return strcmp(want, buf) == 0;
}

/* Does the token in slot sid match the URI? Fills out when it does. */
static int raw_match(tok_ctx *ctx, CK_SLOT_ID sid, const tok_uri *uri, tok_arrival *out)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	const char *want_sid = tok_uri_get(uri, "slot-id");

	if (ctx->fl->C_GetSlotInfo(sid, &si) != CKR_OK || ctx->fl->C_GetTokenInfo(sid, &ti) != CKR_OK)
		return 0;
	if (!(ti.flags & CKF_TOKEN_INITIALIZED))
		return 0;
	if (want_sid != NULL && strtoul(want_sid, NULL, 10) != sid)
		return 0;
	if (!field_eq(tok_uri_get(uri, "token"), ti.label, sizeof(ti.label)) ||
	    !field_eq(tok_uri_get(uri, "serial"), ti.serialNumber, sizeof(ti.serialNumber)) ||
	    !field_eq(tok_uri_get(uri, "manufacturer"), ti.manufacturerID, sizeof(ti.manufacturerID)) ||
	    !field_eq(tok_uri_get(uri, "model"), ti.model, sizeof(ti.model)) ||
	    !field_eq(tok_uri_get(uri, "slot-description"), si.slotDescription, sizeof(si.slotDescription)) ||
	    !field_eq(tok_uri_get(uri, "slot-manufacturer"), si.manufacturerID, sizeof(si.manufacturerID)))
		return 0;
	tok_copy_padded(out->reader, sizeof(out->reader), si.slotDescription, sizeof(si.slotDescription));
	tok_copy_padded(out->token, sizeof(out->token), ti.label, sizeof(ti.label));
	tok_copy_padded(out->serial, sizeof(out->serial), ti.serialNumber, sizeof(ti.serialNumber));
	return 1;
}

/*
 * One look at the module: is a matching initialised token present? OFFCA_E_NOT_FOUND if not.
 * Raw C_GetSlotList/C_GetTokenInfo rather than libp11's slot list: it reflects tokens that came
 * and went even while other tok_keys share the context (whose libp11 slots are never refreshed).
 */
static offca_rc probe_module(const char *module, const tok_uri *uri, tok_arrival *out)
{
	tok_ctx *ctx = NULL;
	CK_SLOT_ID slots[64];
	CK_ULONG n = sizeof(slots) / sizeof(slots[0]);
	CK_RV rv;
	offca_rc rc;

	rc = tok_ctx_open(module, &ctx);
	if (rc != OFFCA_OK)
		return rc;
	rv = ctx->fl->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv == CKR_BUFFER_TOO_SMALL)
		rc = ut_err(OFFCA_E_TOO_BIG, "PKCS#11 module %s has more than 64 slots with tokens", module);
	else if (rv != CKR_OK)
		rc = tok_rv(rv, "list slots");
	else
		rc = ut_err(OFFCA_E_NOT_FOUND, "no matching token yet");
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
		if (raw_match(ctx, slots[i], uri, out)) {
			rc = OFFCA_OK;
			break;
		}
	}
	tok_ctx_free(ctx);
	return rc;
}

static offca_rc wait_poll(const char *module, const tok_uri *uri, long long deadline, tok_arrival *out)
{
	offca_rc rc;

	for (;;) {
		rc = probe_module(module, uri, out);
		/* a token being created or plugged in can make one look fail (SoftHSM2: CKR_GENERAL_ERROR
		 * while softhsm2-util writes it): try again, fail only on a module that cannot load */
		if (rc != OFFCA_E_NOT_FOUND && rc != OFFCA_E_TOKEN && rc != OFFCA_E_TOKEN_ABSENT)
			return rc;
		if (deadline >= 0 && left_ms(deadline, POLL_MS) == 0)
			return ut_err(OFFCA_E_TIMEOUT, "timed out waiting for a token in module %s", module);
		sleep_ms(left_ms(deadline, POLL_MS));
	}
}

static offca_rc pcsc_error(LONG r, const char *what)
{
	if (r == (LONG)SCARD_E_NO_SERVICE || r == (LONG)SCARD_E_SERVICE_STOPPED)
		return ut_err(OFFCA_E_TOKEN, "%s: pcsc-lite has no service (is pcscd running?)", what);
	return ut_err(OFFCA_E_TOKEN, "%s: %s", what, pcsc_stringify_error(r));
}

/* Reader names into states[] (after the PnP entry at index 0); returns the count of readers. */
static offca_rc list_readers(SCARDCONTEXT sc, char *buf, DWORD cap, SCARD_READERSTATE *st, DWORD *n)
{
	DWORD len = cap;
	LONG r = SCardListReaders(sc, NULL, buf, &len);
	DWORD k = 0;

	*n = 0;
	if (r == (LONG)SCARD_E_NO_READERS_AVAILABLE)
		return OFFCA_OK;
	if (r != SCARD_S_SUCCESS)
		return pcsc_error(r, "list smart card readers");
	for (char *p = buf; p < buf + len && *p != '\0' && k < MAX_READERS; p += strlen(p) + 1, k++) {
		memset(&st[k + 1], 0, sizeof(st[k + 1]));
		st[k + 1].szReader = p;
		st[k + 1].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	*n = k;
	return OFFCA_OK;
}

static offca_rc wait_pcsc(const char *module, const tok_uri *uri, long long deadline, tok_arrival *out)
{
	SCARDCONTEXT sc = 0;
	SCARD_READERSTATE st[MAX_READERS + 1];
	char *names = NULL;
	DWORD n = 0;
	LONG r;
	offca_rc rc;

	r = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &sc);
	if (r != SCARD_S_SUCCESS)
		return pcsc_error(r, "connect to pcscd");
	names = malloc(MAX_READERS_BUF);
	if (names == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memset(&st[0], 0, sizeof(st[0]));
	st[0].szReader = "\\\\?PnP?\\Notification";
	st[0].dwCurrentState = SCARD_STATE_UNAWARE;
	rc = list_readers(sc, names, MAX_READERS_BUF, st, &n);
	if (rc != OFFCA_OK)
		goto out;
	for (;;) {
		r = SCardGetStatusChange(sc, (DWORD)left_ms(deadline, POLL_MS), st, n + 1);
		if (r != SCARD_S_SUCCESS && r != (LONG)SCARD_E_TIMEOUT) {
			rc = pcsc_error(r, "wait for smart card events");
			goto out;
		}
		for (DWORD i = 1; r == SCARD_S_SUCCESS && i <= n; i++) {
			/* first round (UNAWARE) or a change: look; a timeout changed nothing */
			if (!(st[i].dwEventState & SCARD_STATE_PRESENT) || (st[i].dwEventState & SCARD_STATE_MUTE))
				continue;
			memset(out, 0, sizeof(*out));
			set_str(out->reader, sizeof(out->reader), st[i].szReader);
			if (uri == NULL) {
				rc = OFFCA_OK;
				goto out;
			}
			rc = probe_module(module, uri, out);
			if (rc != OFFCA_E_NOT_FOUND && rc != OFFCA_E_TOKEN && rc != OFFCA_E_TOKEN_ABSENT)
				goto out; /* a card still being reset may make one look fail: keep waiting */
		}
		if (deadline >= 0 && left_ms(deadline, POLL_MS) == 0) {
			rc = ut_err(OFFCA_E_TIMEOUT, "timed out waiting for a smart card or token");
			goto out;
		}
		for (DWORD i = 0; i <= n; i++)
			st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
		if (st[0].dwEventState & SCARD_STATE_CHANGED) {
			/* a reader came or went: start over with the new list */
			rc = list_readers(sc, names, MAX_READERS_BUF, st, &n);
			if (rc != OFFCA_OK)
				goto out;
		}
	}
out:
	free(names);
	SCardReleaseContext(sc);
	return rc;
}

offca_rc tok_wait(const char *cli_module, const char *token_uri, unsigned timeout_s, tok_arrival *out)
{
	tok_uri *uri = NULL;
	char module[PATH_MAX];
	long long deadline = timeout_s > 0 ? now_ms() + (long long)timeout_s * 1000 : -1;
	offca_rc rc;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_wait: NULL argument");
	memset(out, 0, sizeof(*out));
	if (token_uri != NULL) {
		rc = tok_uri_parse(token_uri, &uri);
		if (rc != OFFCA_OK)
			return rc;
	}
	rc = tok_module_resolve(cli_module, uri, module, sizeof(module));
	if (rc == OFFCA_OK)
		rc = is_opensc(module) ? wait_pcsc(module, uri, deadline, out) : wait_poll(module, uri, deadline, out);
	tok_uri_free(uri);
	return rc;
}
