/* attest_token.c - reading a YubiKey's PIV attestation through PKCS#11.
 *
 * Yubico's PKCS#11 module ykcs11 (yubico-piv-tool 2.x) shows, for a key in PIV slot NN, a
 * certificate object labelled "X.509 Certificate for PIV Attestation NN" with the key's own CKA_ID
 * (9a = 1, 9c = 2, 9d = 3, 9e = 4, retired 82..95 = 5..24): the attestation the device makes on
 * the fly with its f9 key. The f9 certificate itself is the certificate object labelled
 * "X.509 Certificate for PIV Attestation" (CKA_ID 25). OpenSC's PIV driver shows neither.
 *
 * The attestation is found by the key's CKA_ID and that label prefix, so it is never confused with
 * the slot's ordinary certificate ("X.509 Certificate for Digital Signature", same CKA_ID). Only
 * the two device certificates come from the token: the root they must chain to comes from the
 * ceremony file (attestation-root), never from the token.
 */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

static offca_rc parse_der(const unsigned char *der, size_t len, const char *label, X509 **out)
{
	const unsigned char *p = der;

	*out = d2i_X509(NULL, &p, (long)len);
	if (*out == NULL || p != der + len) {
		X509_free(*out);
		*out = NULL;
		return ut_err_ssl(OFFCA_E_PARSE, "attestation: the token's '%s' is not a DER certificate", label);
	}
	return OFFCA_OK;
}

offca_rc cer_attest_from_token(cer_run_t *r, int token, const char *key_uri, X509 **att, X509 **dev,
			       char *label, size_t label_cap)
{
	const cer_token *tk = &r->f->tokens[token];
	tok_uri *ku = NULL;
	const unsigned char *id;
	size_t id_len = 0, n = 0, dlen = 0;
	tok_certobj *v = NULL;
	unsigned char *dder = NULL;
	offca_rc rc;

	*att = NULL;
	*dev = NULL;
	label[0] = '\0';
	rc = tok_uri_parse(key_uri, &ku);
	if (rc != OFFCA_OK)
		goto out;
	id = tok_uri_id(ku, &id_len);
	if (id == NULL || id_len == 0)
		goto out; /* a key without CKA_ID has no attestation object we could match */
	/* no PIN: the step's key is open, so this process is logged in to the token already */
	rc = tok_certs_find(r->module, tk->uri, CER_YK_ATTEST_PREFIX, id, id_len, NULL, &v, &n);
	if (rc != OFFCA_OK || n == 0)
		goto out;
	if (n > 1) {
		rc = ut_err(OFFCA_E_VERIFY, "attestation: %zu attestation certificates on token '%s' share the key's id "
					    "('%s', '%s'): refusing to pick one", n, tk->id, v[0].label, v[1].label);
		goto out;
	}
	snprintf(label, label_cap, "%s", v[0].label);
	rc = parse_der(v[0].der, v[0].der_len, v[0].label, att);
	if (rc != OFFCA_OK)
		goto out;
	rc = tok_cert_by_label(r->module, tk->uri, CER_YK_F9_LABEL, NULL, &dder, &dlen);
	if (rc == OFFCA_E_NOT_FOUND)
		rc = ut_err(OFFCA_E_VERIFY, "attestation: token '%s' shows '%s' but not the device's attestation "
					    "certificate '%s' (slot f9)", tk->id, label, CER_YK_F9_LABEL);
	if (rc == OFFCA_OK)
		rc = parse_der(dder, dlen, CER_YK_F9_LABEL, dev);
out:
	if (rc != OFFCA_OK) {
		X509_free(*att);
		*att = NULL;
	}
	free(dder);
	tok_certs_free(v, n);
	tok_uri_free(ku);
	return rc;
}
