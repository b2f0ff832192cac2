/* attest.c - key attestation before the root signs an intermediate key.
 *
 * YubiKey PIV: the device signs an attestation certificate for a key generated in a slot with
 * its "f9" attestation key, whose certificate is itself signed by Yubico's PIV attestation CA.
 * The attestation certificate carries the device serial (1.3.6.1.4.1.41482.3.7), the firmware
 * version (.3.3) and the PIN/touch policies (.3.8). cer_attest_verify() checks that chain and that
 * the attested key is exactly the key about to be certified.
 *
 * Where the certificates come from: the step's attestation-files (exported during the ceremony
 * with yubico-piv-tool -a attest / -a read-certificate -s f9) when given; otherwise the token
 * itself, read through PKCS#11 where the module shows them (Yubico's ykcs11: attest_token.c).
 * The root they must chain to is the ceremony file's attestation-root (or attestation-files' ca),
 * never a certificate read from the token. A token without attestation objects is recorded as
 * "no attestation available" (a YubiKey through OpenSC: "attestation not read");
 * attestation: required stops the step unless a verified attestation was recorded, and a
 * failing attestation always stops it, before the issuer signs.
 */
#include "ceremony_int.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define YK_OID_FIRMWARE "1.3.6.1.4.1.41482.3.3"
#define YK_OID_SERIAL   "1.3.6.1.4.1.41482.3.7"
#define YK_OID_POLICY   "1.3.6.1.4.1.41482.3.8"
#define MAX_CHAIN 4     /* device -> intermediates -> root, within the root file */
#define MAX_ROOTS 16    /* certificates in an attestation-root file */

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

static int signed_by(X509 *x, X509 *by)
{
	EVP_PKEY *k = X509_get0_pubkey(by);
	int ok = k != NULL && X509_verify(x, k) == 1;

	ERR_clear_error();
	return ok;
}

/* device -> (certificates of the root file) -> a self-signed certificate of the root file, which
   is returned (borrowed); NULL: no such chain. */
static X509 *chains_to_root(X509 *device, STACK_OF(X509) *roots)
{
	X509 *cur = device;

	for (int depth = 0; depth < MAX_CHAIN; depth++) {
		X509 *up = NULL;
		for (int i = 0; up == NULL && i < sk_X509_num(roots); i++)
			if (sk_X509_value(roots, i) != cur && signed_by(cur, sk_X509_value(roots, i)))
				up = sk_X509_value(roots, i);
		if (up == NULL)
			return NULL;
		if (signed_by(up, up))
			return up;
		cur = up;
	}
	return NULL;
}

static void cert_fp(X509 *x, char *buf, size_t cap)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	buf[0] = '\0';
	if (n > 0)
		cer_fingerprint(der, (size_t)n, buf, cap);
	OPENSSL_free(der);
}

offca_rc cer_attest_verify(X509 *attest, X509 *device, STACK_OF(X509) *roots, EVP_PKEY *key,
			   cer_attest_info *info)
{
	X509 *anchor = NULL;

	memset(info, 0, sizeof(*info));
	if (!signed_by(attest, device))
		return ut_err(OFFCA_E_VERIFY, "attestation: the attestation certificate is not signed by the device's "
					      "attestation key (f9)");
	if (roots != NULL && (anchor = chains_to_root(device, roots)) == NULL)
		return ut_err(OFFCA_E_VERIFY, "attestation: the device's attestation certificate (f9) does not chain to "
					      "the attestation root named in the ceremony file");
	if (X509_get0_pubkey(attest) == NULL || EVP_PKEY_eq(X509_get0_pubkey(attest), key) != 1)
		return ut_err(OFFCA_E_VERIFY, "attestation: it attests a different key than the one to be certified");
	read_info(attest, info);
	if (anchor != NULL)
		cert_fp(anchor, info->root_sha256, sizeof(info->root_sha256));
	return OFFCA_OK;
}

/* Every PEM certificate in path (at least one). */
static offca_rc load_pems(const char *path, STACK_OF(X509) **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x;
	offca_rc rc;

	*out = NULL;
	rc = ut_read_file(path, UT_MAX_CERT_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	b = BIO_new_mem_buf(buf, (int)len);
	*out = sk_X509_new_null();
	while (b != NULL && *out != NULL && sk_X509_num(*out) < MAX_ROOTS &&
	       (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(*out, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error(); /* the end of the file */
	BIO_free(b);
	free(buf);
	if (*out == NULL || sk_X509_num(*out) == 0) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return ut_err(OFFCA_E_PARSE, "attestation: %s holds no PEM certificate", path);
	}
	return OFFCA_OK;
}

offca_rc cer_attest_check_root(const char *path)
{
	STACK_OF(X509) *roots = NULL;
	offca_rc rc = load_pems(path, &roots);
	int self = 0;

	for (int i = 0; rc == OFFCA_OK && i < sk_X509_num(roots); i++)
		self |= signed_by(sk_X509_value(roots, i), sk_X509_value(roots, i));
	if (rc == OFFCA_OK && !self)
		rc = ut_err(OFFCA_E_PARSE, "attestation: %s holds no self-signed (root) certificate", path);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}

static offca_rc load_pem(const char *path, X509 **out)
{
	STACK_OF(X509) *v = NULL;
	offca_rc rc = load_pems(path, &v);

	*out = rc == OFFCA_OK ? sk_X509_shift(v) : NULL;
	sk_X509_pop_free(v, X509_free);
	return rc;
}

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

/* What was read and from where, for the transcript. */
typedef struct att_src {
	const char *source;      /* "files" | "token" */
	const char *what;        /* shown: the files or the token objects */
	const char *root_file;   /* "" none */
} att_src;

static offca_rc check_and_log(cer_run_t *r, const att_src *src, const char *key_uri, X509 *att, X509 *dev,
			      EVP_PKEY *pub)
{
	STACK_OF(X509) *roots = NULL;
	cer_attest_info info;
	char afp[128], dfp[128], msg[512];
	char *apem = NULL, *dpem = NULL;
	offca_rc rc = OFFCA_OK;

	if (src->root_file[0])
		rc = load_pems(src->root_file, &roots);
	if (rc == OFFCA_OK)
		rc = cer_attest_verify(att, dev, roots, pub, &info);
	if (rc != OFFCA_OK) {
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cer_say(r, "  Attestation of %s FAILED (%s): %s\n", key_uri, src->what, msg);
		cer_log(r, "attestation", json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", key_uri, "status", "failed",
						    "source", src->source, "from", src->what, "reason", msg));
		rc = ut_err(rc, "%s", msg);
		goto out;
	}
	cert_fp(att, afp, sizeof(afp));
	cert_fp(dev, dfp, sizeof(dfp));
	apem = pem_of(att);
	dpem = pem_of(dev);
	cer_say(r, "  Attestation verified: key generated on device serial %lu (firmware %s, PIN policy %s, "
		   "touch policy %s)%s\n    read from %s\n", info.serial, info.firmware[0] ? info.firmware : "?",
		info.pin_policy[0] ? info.pin_policy : "?", info.touch_policy[0] ? info.touch_policy : "?",
		roots ? ", chain to the attestation CA checked" : ", chain NOT checked (no attestation root given)",
		src->what);
	if (roots != NULL)
		cer_say(r, "    attestation root %s, SHA-256 %s\n", src->root_file, info.root_sha256);
	rc = cer_log(r, "attestation",
		     json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s}", "key", key_uri,
			       "status", "verified", "source", src->source, "from", src->what, "device_serial",
			       (json_int_t)info.serial, "firmware", info.firmware, "pin_policy", info.pin_policy,
			       "touch_policy", info.touch_policy, "ca_checked", roots != NULL, "attestation_root",
			       src->root_file, "attestation_root_sha256", info.root_sha256, "attestation_sha256", afp, "device_cert_sha256", dfp,
			       "attestation_pem", apem ? apem : "", "device_cert_pem", dpem ? dpem : ""));
	if (rc == OFFCA_OK)
		rc = cer_touch_attested(r, key_uri, info.touch_policy);
out:
	free(apem);
	free(dpem);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}

static offca_rc from_files(cer_run_t *r, const cer_step *st, const char *key_uri, EVP_PKEY *pub)
{
	X509 *att = NULL, *dev = NULL;
	char what[2 * PATH_MAX + 16];
	att_src src = {"files", what, st->attest_ca[0] ? st->attest_ca : st->attest_root};
	offca_rc rc;

	snprintf(what, sizeof(what), "%s and %s", st->attest_cert, st->attest_device);
	rc = load_pem(st->attest_cert, &att);
	if (rc == OFFCA_OK)
		rc = load_pem(st->attest_device, &dev);
	if (rc == OFFCA_OK) {
		rc = check_and_log(r, &src, key_uri, att, dev, pub); /* logs either way */
	} else {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cer_log(r, "attestation", json_pack("{s:s, s:s, s:s, s:s}", "key", key_uri, "status", "failed", "source",
						    "files", "reason", msg));
		rc = ut_err(rc, "%s", msg);
	}
	X509_free(att);
	X509_free(dev);
	return rc;
}

/* Nothing verified: record why; required stops the step. */
static offca_rc none(cer_run_t *r, int token, const char *key_uri, int required)
{
	const cer_token *tk = &r->f->tokens[token];
	const char *status, *reason;
	tok_info ti;
	int yubikey;

	memset(&ti, 0, sizeof(ti));
	if (r->tinfo_ok[token]) /* what cer_token_ready saw */
		ti = r->tinfo[token];
	yubikey = strstr(ti.manufacturer, "Yubico") != NULL || strstr(ti.model, "YubiKey") != NULL ||
		  strstr(ti.slot_description, "Yubico") != NULL || strstr(ti.slot_description, "YubiKey") != NULL;
	if (yubikey) {
		status = "not-read";
		reason = "YubiKey attestation not read: the PKCS#11 module shows no attestation objects for this key "
			 "(OpenSC's PIV driver never does; use Yubico's ykcs11 module, or export the attestation with "
			 "yubico-piv-tool and name it under attestation-files)";
	} else {
		status = "none";
		reason = "no attestation available: the token shows no attestation certificate for this key";
	}
	cer_say(r, "  Attestation of %s: %s\n", key_uri, reason);
	cer_log(r, "attestation", json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", tk->id, "key", key_uri, "status",
					    status, "reason", reason, "manufacturer", ti.manufacturer));
	if (required && r->dry_run) {
		cer_say(r, "  (dry run: the rehearsal token has no attestation; the real run stops here unless the "
			   "token shows a verified one)\n");
		return OFFCA_OK;
	}
	if (required)
		return ut_err(OFFCA_E_POLICY, "attestation: required by the ceremony file, but %s", reason);
	return OFFCA_OK;
}

offca_rc cer_attest_record(cer_run_t *r, const cer_step *st, int token, const char *key_uri, EVP_PKEY *pub,
			   int required)
{
	const cer_token *tk = &r->f->tokens[token];
	X509 *att = NULL, *dev = NULL;
	char label[80], what[256];
	att_src src = {"token", what, st != NULL ? st->attest_root : ""};
	offca_rc rc;

	if (st != NULL && st->attest_cert[0]) {
		if (r->dry_run) { /* the rehearsal key is not the key the files attest */
			cer_say(r, "  Attestation files not checked in a dry run (the rehearsal key is not the attested "
				   "key); the real run checks them here\n");
			return cer_log(r, "attestation", json_pack("{s:s, s:s, s:s}", "key", key_uri, "status",
								   "rehearsal", "source", "files"));
		}
		return from_files(r, st, key_uri, pub);
	}
	rc = cer_attest_from_token(r, token, key_uri, &att, &dev, label, sizeof(label));
	if (rc != OFFCA_OK) {
		char msg[512];
		/* the module could not produce it (e.g. a key imported into the slot cannot be attested):
		   nothing to check, which only a required attestation refuses; anything read but wrong stops */
		int unreadable = rc == OFFCA_E_TOKEN && !required;
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cer_say(r, "  Attestation of %s %s: %s\n", key_uri, unreadable ? "not read" : "FAILED", msg);
		cer_log(r, "attestation", json_pack("{s:s, s:s, s:s, s:s}", "key", key_uri, "status",
						    unreadable ? "not-read" : "failed", "source", "token", "reason", msg));
		return unreadable ? OFFCA_OK : ut_err(rc, "%s", msg);
	}
	if (att == NULL)
		return none(r, token, key_uri, required);
	snprintf(what, sizeof(what), "token '%s' through PKCS#11 ('%s', '%s')", tk->id, label, CER_YK_F9_LABEL);
	rc = check_and_log(r, &src, key_uri, att, dev, pub);
	X509_free(att);
	X509_free(dev);
	return rc;
}
