/* policy.c - key strength, subject and CN rules of the issuance policy (SANs: policy_san.c). */
#include "offca/policy.h"
#include "offca/util.h"
#include "policy_int.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <string.h>

void ca_request_clear(ca_request *r)
{
	if (r == NULL)
		return;
	X509_NAME_free(r->subject);
	GENERAL_NAMES_free(r->sans);
	EVP_PKEY_free(r->pubkey);
	X509_PUBKEY_free(r->spki);
	memset(r, 0, sizeof(*r));
}

offca_rc ca_policy_days(const ca_policy *pol, unsigned requested, unsigned *days)
{
	unsigned d = requested == 0 ? pol->leaf_days_default : requested;

	*days = 0;
	if (d > pol->leaf_days_max)
		return ut_err(OFFCA_E_POLICY, "policy max-validity: %u days is more than the %u allowed", d,
			      pol->leaf_days_max);
	*days = d;
	return OFFCA_OK;
}

static offca_rc check_rsa(const ca_policy *pol, EVP_PKEY *pk, ca_request *out)
{
	BIGNUM *e = NULL;
	offca_rc rc = OFFCA_OK;
	int bits = EVP_PKEY_get_bits(pk);

	if (!pol->allow_rsa)
		return ut_err(OFFCA_E_POLICY, "policy key-type: RSA keys are not allowed by this issuer");
	if (bits < 0 || (unsigned)bits < pol->rsa_min_bits)
		return ut_err(OFFCA_E_POLICY, "policy rsa-min-bits: RSA-%d is below the %u-bit minimum", bits,
			      pol->rsa_min_bits);
	if (bits > 16384)
		return ut_err(OFFCA_E_POLICY, "policy rsa-min-bits: RSA-%d is larger than 16384 bits", bits);
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return ut_err_ssl(OFFCA_E_POLICY, "policy rsa-exponent: cannot read the public exponent");
	if (!BN_is_odd(e) || BN_num_bits(e) < 17 || BN_num_bits(e) > 256)
		rc = ut_err(OFFCA_E_POLICY, "policy rsa-exponent: public exponent must be odd and in "
					    "2^16+1..2^256");
	BN_free(e);
	out->is_rsa = 1;
	out->key_bits = bits;
	snprintf(out->key_desc, sizeof(out->key_desc), "RSA %d", bits);
	return rc;
}

static offca_rc check_ec(const ca_policy *pol, EVP_PKEY *pk, ca_request *out)
{
	char group[64] = "";
	size_t glen = 0;

	if (!pol->allow_ec)
		return ut_err(OFFCA_E_POLICY, "policy key-type: EC keys are not allowed by this issuer");
	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) != 1) {
		ERR_clear_error();
		return ut_err(OFFCA_E_POLICY, "policy ec-curve: explicit curve parameters are not allowed "
					      "(use a named curve, P-256 or P-384)");
	}
	if (strcmp(group, "prime256v1") == 0 && pol->allow_p256) {
		snprintf(out->key_desc, sizeof(out->key_desc), "EC P-256");
	} else if (strcmp(group, "secp384r1") == 0 && pol->allow_p384) {
		snprintf(out->key_desc, sizeof(out->key_desc), "EC P-384");
	} else {
		return ut_err(OFFCA_E_POLICY, "policy ec-curve: curve %s is not allowed (%s%s%s)", group,
			      pol->allow_p256 ? "P-256" : "", pol->allow_p256 && pol->allow_p384 ? ", " : "",
			      pol->allow_p384 ? "P-384" : "");
	}
	out->is_rsa = 0;
	out->key_bits = EVP_PKEY_get_bits(pk);
	return OFFCA_OK;
}

static offca_rc check_ed25519(const ca_policy *pol, EVP_PKEY *pk, ca_request *out)
{
	if (!pol->allow_ed25519)
		return ut_err(OFFCA_E_POLICY, "policy key-type: Ed25519 keys are not allowed by this issuer "
					      "(add \"ed25519\" to key_types in config.json)");
	out->is_rsa = 0;
	out->key_bits = EVP_PKEY_get_bits(pk);
	snprintf(out->key_desc, sizeof(out->key_desc), "Ed25519");
	return OFFCA_OK;
}

static offca_rc check_key(const ca_policy *pol, EVP_PKEY *pk, ca_request *out)
{
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		return check_rsa(pol, pk, out);
	case EVP_PKEY_EC:
		return check_ec(pol, pk, out);
	case EVP_PKEY_ED25519:
		return check_ed25519(pol, pk, out);
	default:
		return ut_err(OFFCA_E_POLICY, "policy key-type: %s keys are not allowed (RSA, EC%s only)",
			      OBJ_nid2sn(EVP_PKEY_get_base_id(pk)), pol->allow_ed25519 ? ", Ed25519" : "");
	}
}

offca_rc ca_policy_check_key(const ca_policy *pol, EVP_PKEY *pk, char *desc, size_t cap)
{
	ca_request r;
	offca_rc rc;

	memset(&r, 0, sizeof(r));
	rc = check_key(pol, pk, &r);
	if (rc == OFFCA_OK && desc != NULL)
		snprintf(desc, cap, "%s", r.key_desc);
	return rc;
}

/* Subject attributes copied into certificates; everything else is refused. */
static const struct {
	int nid;
	int max;
} subject_attrs[] = {
	{NID_commonName, 64}, {NID_organizationName, 64}, {NID_organizationalUnitName, 64},
	{NID_countryName, 2}, {NID_stateOrProvinceName, 128}, {NID_localityName, 128},
	{NID_serialNumber, 64}, {NID_domainComponent, 63},
};

static int subject_attr_max(int nid)
{
	for (size_t i = 0; i < sizeof(subject_attrs) / sizeof(subject_attrs[0]); i++)
		if (subject_attrs[i].nid == nid)
			return subject_attrs[i].max;
	return -1;
}

/* Rebuild the subject: allowed attributes only, UTF8String (PrintableString for C / IA5 for DC). */
static offca_rc rebuild_subject(const X509_NAME *in, X509_NAME **out, char *cn, size_t cn_cap)
{
	offca_rc rc = OFFCA_E_NOMEM;
	X509_NAME *name = X509_NAME_new();
	int n_cn = 0;

	*out = NULL;
	cn[0] = '\0';
	if (name == NULL)
		goto out;
	for (int i = 0; i < X509_NAME_entry_count(in); i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(in, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
		int max = subject_attr_max(nid);
		unsigned char *utf8 = NULL;
		int ulen, ok, set;
		uint32_t cp;

		if (max < 0) {
			char oid[80];
			OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(ne), 0);
			rc = ut_err(OFFCA_E_POLICY, "policy subject-attr: subject attribute %s is not allowed", oid);
			goto out;
		}
		ulen = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
		if (ulen < 0) {
			rc = ut_err_ssl(OFFCA_E_POLICY, "policy subject-syntax: undecodable %s", OBJ_nid2sn(nid));
			goto out;
		}
		if (ulen >= 1 && policy_hidden_char((const char *)utf8, (size_t)ulen, &cp)) {
			OPENSSL_free(utf8);
			rc = ut_err(OFFCA_E_POLICY, "policy format-char: %s holds U+%04X, an invisible or "
						    "bidirectional character (or bytes that are not UTF-8)",
				    OBJ_nid2sn(nid), (unsigned)cp);
			goto out;
		}
		ok = ulen >= 1 && ulen <= max && memchr(utf8, 0, (size_t)ulen) == NULL;
		for (int k = 0; ok && k < ulen; k++)
			if (utf8[k] < 0x20 || utf8[k] == 0x7f)
				ok = 0;
		if (ok && nid == NID_commonName) {
			n_cn++;
			if ((size_t)ulen < cn_cap) {
				memcpy(cn, utf8, (size_t)ulen);
				cn[ulen] = '\0';
			}
		}
		/* multi-valued RDNs stay multi-valued; string types come from OpenSSL's table
		   (UTF8String, PrintableString for C, IA5String for DC) */
		set = i > 0 && X509_NAME_ENTRY_set(ne) == X509_NAME_ENTRY_set(X509_NAME_get_entry(in, i - 1)) ? -1 : 0;
		if (ok)
			ok = X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, utf8, ulen, -1, set) == 1;
		OPENSSL_free(utf8);
		if (!ok) {
			rc = ut_err_ssl(OFFCA_E_POLICY, "policy subject-syntax: %s must be 1..%d printable "
							"characters", OBJ_nid2sn(nid), max);
			goto out;
		}
	}
	if (n_cn > 1) {
		rc = ut_err(OFFCA_E_POLICY, "policy cn-multiple: the subject has %d CNs", n_cn);
		goto out;
	}
	*out = name;
	name = NULL;
	rc = OFFCA_OK;
out:
	X509_NAME_free(name);
	return rc;
}

offca_rc ca_policy_check(const ca_policy *pol, const ca_csr *csr, ca_request *out)
{
	return ca_policy_check_chain(pol, NULL, csr, out);
}

offca_rc ca_policy_check_chain(const ca_policy *pol, const STACK_OF(X509) *chain, const ca_csr *csr,
			       ca_request *out)
{
	offca_rc rc;
	char cn[256];
	policy_ncs ncs;

	memset(out, 0, sizeof(*out));
	memset(&ncs, 0, sizeof(ncs));
	ERR_clear_error();
	if ((rc = check_key(pol, ca_csr_pubkey(csr), out)) != OFFCA_OK)
		goto out;
	if ((rc = rebuild_subject(X509_REQ_get_subject_name(ca_csr_req(csr)), &out->subject, cn,
				  sizeof(cn))) != OFFCA_OK)
		goto out;
	if ((rc = policy_ncs_load(chain, &ncs)) != OFFCA_OK ||
	    (rc = policy_check_sans(pol, &ncs, ca_csr_sans(csr), cn, out)) != OFFCA_OK ||
	    (rc = policy_nc_subject(&ncs, out->subject, out->sans)) != OFFCA_OK)
		goto out;
	out->spki = X509_PUBKEY_dup(X509_REQ_get_X509_PUBKEY(ca_csr_req(csr)));
	if (out->spki == NULL) {
		rc = ut_err_ssl(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	out->pubkey = ca_csr_pubkey(csr);
	EVP_PKEY_up_ref(out->pubkey);
	rc = OFFCA_OK;
out:
	policy_ncs_clear(&ncs);
	if (rc != OFFCA_OK)
		ca_request_clear(out);
	return rc;
}
