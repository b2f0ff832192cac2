/* attest.c - key attestation before the root signs an intermediate key.
 *
 * YubiKey PIV: the device signs an attestation certificate for a key generated in a slot with
 * its "f9" attestation key, whose certificate is itself signed by Yubico's PIV attestation CA.
 * The attestation certificate carries the device serial (1.3.6.1.4.1.41482.3.7), the firmware
 * version (.3.3) and the PIN/touch policies (.3.8). cer_attest_verify() checks that chain and that
 * the attested key is exactly the key about to be certified.
 *
 * Where the certificates come from: the ceremony file's attestation-files (exported during the
 * ceremony with yubico-piv-tool -a attest / -a read-certificate -s f9). The token layer offers no
 * call yet to read them as PKCS#11 objects, so without files a YubiKey is recorded as "attestation
 * not read" and anything else (SoftHSM2) as "no attestation available". attestation: required
 * stops the step unless a verified attestation was recorded.
 */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define YK_OID_FIRMWARE "1.3.6.1.4.1.41482.3.3"
#define YK_OID_SERIAL   "1.3.6.1.4.1.41482.3.7"
#define YK_OID_POLICY   "1.3.6.1.4.1.41482.3.8"

static const ASN1_OCTET_STRING *ext_data(X509 *x, const char *oid_text)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
	int i = oid ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
	X509_EXTENSION *e = i >= 0 ? X509_get_ext(x, i) : NULL;

	ASN1_OBJECT_free(oid);
	return e ? X509_EXTENSION_get_data(e) : NULL;
}

static void read_info(X509 *attest, cer_attest_info *info)
{
	static const char *const pin[] = {"default", "never", "once", "always"};
	static const char *const touch[] = {"default", "never", "always", "cached"};
	const ASN1_OCTET_STRING *os;
	const unsigned char *p;
	ASN1_INTEGER *ai;
	long v;

	memset(info, 0, sizeof(*info));
	os = ext_data(attest, YK_OID_FIRMWARE);
	if (os != NULL && ASN1_STRING_length(os) == 3) {
		p = ASN1_STRING_get0_data(os);
		snprintf(info->firmware, sizeof(info->firmware), "%u.%u.%u", p[0], p[1], p[2]);
	}
	os = ext_data(attest, YK_OID_SERIAL);
	if (os != NULL) {
		p = ASN1_STRING_get0_data(os);
		ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os));
		if (ai != NULL && (v = ASN1_INTEGER_get(ai)) > 0)
			info->serial = (unsigned long)v;
		ASN1_INTEGER_free(ai);
	}
	os = ext_data(attest, YK_OID_POLICY);
	if (os != NULL && ASN1_STRING_length(os) == 2) {
		p = ASN1_STRING_get0_data(os);
		snprintf(info->pin_policy, sizeof(info->pin_policy), "%s", p[0] < 4 ? pin[p[0]] : "unknown");
		snprintf(info->touch_policy, sizeof(info->touch_policy), "%s", p[1] < 4 ? touch[p[1]] : "unknown");
	}
}

offca_rc cer_attest_verify(X509 *attest, X509 *device, X509 *ca, EVP_PKEY *key, cer_attest_info *info)
{
	EVP_PKEY *dk = X509_get0_pubkey(device);

	memset(info, 0, sizeof(*info));
	if (dk == NULL || X509_verify(attest, dk) != 1)
		return ut_err_ssl(OFFCA_E_VERIFY, "attestation: the attestation certificate is not signed by the device's "
						  "attestation key (f9)");
	if (ca != NULL && (X509_get0_pubkey(ca) == NULL || X509_verify(device, X509_get0_pubkey(ca)) != 1))
		return ut_err_ssl(OFFCA_E_VERIFY, "attestation: the device's attestation certificate is not signed by the "
						  "attestation CA");
	if (X509_get0_pubkey(attest) == NULL || EVP_PKEY_eq(X509_get0_pubkey(attest), key) != 1)
		return ut_err(OFFCA_E_VERIFY, "attestation: it attests a different key than the one to be certified");
	read_info(attest, info);
	return OFFCA_OK;
}

static offca_rc load_pem(const char *path, X509 **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *b;
	offca_rc rc;

	*out = NULL;
	rc = ut_read_file(path, UT_MAX_CERT_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	b = BIO_new_mem_buf(buf, (int)len);
	*out = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	free(buf);
	return *out ? OFFCA_OK : ut_err_ssl(OFFCA_E_PARSE, "attestation: %s is not a PEM certificate", path);
}

static offca_rc from_files(cer_run_t *r, const cer_step *st, const char *key_uri, EVP_PKEY *pub)
{
	X509 *att = NULL, *dev = NULL, *ca = NULL;
	cer_attest_info info;
	offca_rc rc;

	rc = load_pem(st->attest_cert, &att);
	if (rc == OFFCA_OK)
		rc = load_pem(st->attest_device, &dev);
	if (rc == OFFCA_OK && st->attest_ca[0])
		rc = load_pem(st->attest_ca, &ca);
	if (rc == OFFCA_OK)
		rc = cer_attest_verify(att, dev, ca, pub, &info);
	if (rc != OFFCA_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cer_log(r, "attestation", json_pack("{s:s, s:s, s:s}", "key", key_uri, "status", "failed", "reason", msg));
		rc = ut_err(rc == OFFCA_E_VERIFY ? OFFCA_E_VERIFY : rc, "%s", msg);
	} else {
		cer_say(r, "  Attestation verified: key generated on device serial %lu (firmware %s, PIN policy %s, "
			   "touch policy %s)%s\n", info.serial, info.firmware[0] ? info.firmware : "?",
			info.pin_policy[0] ? info.pin_policy : "?", info.touch_policy[0] ? info.touch_policy : "?",
			ca ? ", chain to the attestation CA checked" : "");
		rc = cer_log(r, "attestation",
			     json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b}", "key", key_uri, "status", "verified",
				       "device_serial", (json_int_t)info.serial, "firmware", info.firmware, "pin_policy",
				       info.pin_policy, "touch_policy", info.touch_policy, "ca_checked", ca != NULL));
	}
	X509_free(att);
	X509_free(dev);
	X509_free(ca);
	return rc;
}

offca_rc cer_attest_record(cer_run_t *r, const cer_step *st, int token, const char *key_uri, EVP_PKEY *pub,
			   int required)
{
	const cer_token *tk = &r->f->tokens[token];
	const char *status, *reason;
	tok_info ti;
	int yubikey;

	if (st != NULL && st->attest_cert[0])
		return from_files(r, st, key_uri, pub);
	memset(&ti, 0, sizeof(ti));
	if (r->tinfo_ok[token]) /* what cer_token_ready saw */
		ti = r->tinfo[token];
	yubikey = strstr(ti.manufacturer, "Yubico") != NULL || strstr(ti.model, "YubiKey") != NULL;
	if (yubikey) {
		status = "not-read";
		reason = "YubiKey attestation not read: this build's token layer cannot read it through PKCS#11; "
			 "export it with yubico-piv-tool and name it under attestation-files";
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
