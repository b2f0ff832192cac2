/* attest.c - key attestation before the root signs an intermediate key.
 *
 * YubiKey PIV: the device signs an attestation certificate for a key generated in a slot (the
 * "f9" attestation key, itself certified by Yubico). Read through PKCS#11 it appears as a
 * certificate object next to the key. The token layer offers no call to fetch such an object
 * yet, so today the ceremony records, for every token, what it knows: for a YubiKey "attestation
 * not readable through this offca build" and for anything else (SoftHSM2) "no attestation
 * available". With attestation: required the step stops instead.
 */
#include "ceremony_int.h"

#include <string.h>

#include "offca/util.h"

offca_rc cer_attest_record(cer_run_t *r, int token, const char *key_uri, EVP_PKEY *pub, int required)
{
	const cer_token *tk = &r->f->tokens[token];
	tok_info ti;
	const char *status, *reason;
	int yubikey;

	memset(&ti, 0, sizeof(ti));
	if (r->tinfo_ok[token]) /* what cer_token_ready saw: no module access with keys open */
		ti = r->tinfo[token];
	yubikey = strstr(ti.manufacturer, "Yubico") != NULL || strstr(ti.model, "YubiKey") != NULL;
	(void)pub;
	if (yubikey) {
		status = "unavailable";
		reason = "YubiKey PIV attestation certificate not readable through the token layer of this build";
	} else {
		status = "none";
		reason = "no attestation available: the token offers no key attestation";
	}
	cer_say(r, "  Attestation of %s: %s\n", key_uri, reason);
	cer_log(r, "attestation", json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", tk->id, "key", key_uri, "status",
					    status, "reason", reason, "manufacturer", ti.manufacturer));
	if (required)
		return ut_err(OFFCA_E_POLICY, "attestation: required by the ceremony file, but %s", reason);
	return OFFCA_OK;
}
