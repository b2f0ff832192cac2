/* x509_build.c - unsigned certificate from a spec: fields and per-profile extensions. */
#include "offca/x509.h"
#include "offca/util.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

static offca_rc add_ext(X509 *x, int nid, int crit, void *value)
{
	if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_REPLACE) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
	return OFFCA_OK;
}

static offca_rc add_basic_constraints(X509 *x, const ca_cert_spec *s)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	offca_rc rc;

	if (bc == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	bc->ca = ca_profile_is_ca(s->profile) ? 0xff : 0;
	if (bc->ca && s->path_len >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (bc->pathlen == NULL || !ASN1_INTEGER_set(bc->pathlen, s->path_len)) {
			BASIC_CONSTRAINTS_free(bc);
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		}
	}
	rc = add_ext(x, NID_basic_constraints, 1, bc);
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

static offca_rc add_key_usage(X509 *x, const ca_cert_spec *s)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	offca_rc rc;
	int ok = ku != NULL;

	if (ca_profile_is_ca(s->profile)) {
		ok = ok && ASN1_BIT_STRING_set_bit(ku, 5, 1) && ASN1_BIT_STRING_set_bit(ku, 6, 1);
	} else {
		ok = ok && ASN1_BIT_STRING_set_bit(ku, 0, 1);
		if (EVP_PKEY_get_base_id(s->subject_key) == EVP_PKEY_RSA)
			ok = ok && ASN1_BIT_STRING_set_bit(ku, 2, 1);
	}
	if (!ok) {
		ASN1_BIT_STRING_free(ku);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	rc = add_ext(x, NID_key_usage, 1, ku);
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static offca_rc add_eku(X509 *x, ca_profile p)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	offca_rc rc;
	int ok = eku != NULL;

	if (ok && (p == CA_PROFILE_SERVER || p == CA_PROFILE_MTLS))
		ok = sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0;
	if (ok && (p == CA_PROFILE_CLIENT || p == CA_PROFILE_MTLS))
		ok = sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) > 0;
	if (!ok) {
		sk_ASN1_OBJECT_free(eku);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	rc = add_ext(x, NID_ext_key_usage, 0, eku);
	sk_ASN1_OBJECT_free(eku); /* static objects from OBJ_nid2obj: nothing to free inside */
	return rc;
}

/* SKI = SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 4.2.1.2 method 1). */
static offca_rc add_ski(X509 *x, ASN1_OCTET_STRING **ski_out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	offca_rc rc;

	*ski_out = NULL;
	if (ski == NULL || X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1 ||
	    !ASN1_OCTET_STRING_set(ski, md, (int)mdlen)) {
		ASN1_OCTET_STRING_free(ski);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot compute the subject key identifier");
	}
	rc = add_ext(x, NID_subject_key_identifier, 0, ski);
	if (rc == OFFCA_OK)
		*ski_out = ski;
	else
		ASN1_OCTET_STRING_free(ski);
	return rc;
}

static offca_rc add_aki(X509 *x, const ca_cert_spec *s, const ASN1_OCTET_STRING *own_ski)
{
	const ASN1_OCTET_STRING *kid = s->issuer != NULL ? X509_get0_subject_key_id(s->issuer) : own_ski;
	AUTHORITY_KEYID *aki;
	offca_rc rc;

	if (kid == NULL)
		return ut_err(OFFCA_E_USAGE, "the issuer certificate has no subject key identifier");
	aki = AUTHORITY_KEYID_new();
	if (aki == NULL || (aki->keyid = ASN1_OCTET_STRING_dup(kid)) == NULL) {
		AUTHORITY_KEYID_free(aki);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	rc = add_ext(x, NID_authority_key_identifier, 0, aki);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

static GENERAL_NAME *uri_name(const char *url)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || !ASN1_STRING_set(s, url, (int)strlen(url))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	return gn;
}

static offca_rc add_aia(X509 *x, const ca_cert_spec *s)
{
	AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
	const char *urls[2] = {s->ocsp_url, s->aia_ca_issuers_url};
	int nids[2] = {NID_ad_OCSP, NID_ad_ca_issuers};
	offca_rc rc = OFFCA_E_NOMEM;

	if (aia == NULL)
		goto out;
	for (int i = 0; i < 2; i++) {
		ACCESS_DESCRIPTION *ad;
		if (urls[i] == NULL || urls[i][0] == '\0')
			continue;
		ad = ACCESS_DESCRIPTION_new();
		if (ad == NULL || !sk_ACCESS_DESCRIPTION_push(aia, ad)) {
			ACCESS_DESCRIPTION_free(ad);
			goto out;
		}
		ASN1_OBJECT_free(ad->method);
		ad->method = OBJ_nid2obj(nids[i]);
		GENERAL_NAME_free(ad->location);
		ad->location = uri_name(urls[i]);
		if (ad->location == NULL)
			goto out;
	}
	rc = sk_ACCESS_DESCRIPTION_num(aia) > 0 ? add_ext(x, NID_info_access, 0, aia) : OFFCA_OK;
out:
	if (rc == OFFCA_E_NOMEM)
		ut_err(rc, "out of memory");
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

static offca_rc add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gn = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	if (url == NULL || url[0] == '\0')
		return OFFCA_OK;
	dps = sk_DIST_POINT_new_null();
	dp = DIST_POINT_new();
	gn = uri_name(url);
	if (dps == NULL || dp == NULL || gn == NULL)
		goto out;
	dp->distpoint = DIST_POINT_NAME_new();
	if (dp->distpoint == NULL)
		goto out;
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	if (dp->distpoint->name.fullname == NULL || !sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn))
		goto out;
	gn = NULL;
	if (!sk_DIST_POINT_push(dps, dp))
		goto out;
	dp = NULL;
	rc = add_ext(x, NID_crl_distribution_points, 0, dps);
out:
	if (rc == OFFCA_E_NOMEM)
		ut_err(rc, "out of memory");
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return rc;
}

offca_rc ca_x509_nc_permit_dns(const char *const *permit_dns, size_t n, NAME_CONSTRAINTS **out)
{
	NAME_CONSTRAINTS *nc = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	*out = NULL;
	if (n == 0)
		return OFFCA_OK;
	nc = NAME_CONSTRAINTS_new();
	if (nc == NULL || (nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null()) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();
		ASN1_IA5STRING *v = ASN1_IA5STRING_new();
		if (st == NULL || v == NULL || !ASN1_STRING_set(v, permit_dns[i], (int)strlen(permit_dns[i])) ||
		    !sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, st)) {
			GENERAL_SUBTREE_free(st);
			ASN1_IA5STRING_free(v);
			goto out;
		}
		GENERAL_NAME_set0_value(st->base, GEN_DNS, v);
	}
	*out = nc;
	nc = NULL;
	rc = OFFCA_OK;
out:
	if (rc == OFFCA_E_NOMEM)
		ut_err(rc, "out of memory");
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

static offca_rc add_name_constraints(X509 *x, const ca_cert_spec *s)
{
	NAME_CONSTRAINTS *nc = NULL;
	offca_rc rc;

	if ((rc = ca_x509_nc_permit_dns(s->permit_dns, s->n_permit_dns, &nc)) != OFFCA_OK || nc == NULL)
		return rc;
	rc = add_ext(x, NID_name_constraints, 1, nc);
	NAME_CONSTRAINTS_free(nc);
	return rc;
}

static offca_rc add_extensions(X509 *x, const ca_cert_spec *s)
{
	ASN1_OCTET_STRING *ski = NULL;
	offca_rc rc;
	int is_ca = ca_profile_is_ca(s->profile);

	if ((rc = add_basic_constraints(x, s)) != OFFCA_OK || (rc = add_key_usage(x, s)) != OFFCA_OK)
		goto out;
	if (!is_ca && (rc = add_eku(x, s->profile)) != OFFCA_OK)
		goto out;
	if ((rc = add_ski(x, &ski)) != OFFCA_OK || (rc = add_aki(x, s, ski)) != OFFCA_OK)
		goto out;
	if (!is_ca && s->sans != NULL && sk_GENERAL_NAME_num(s->sans) > 0 &&
	    (rc = add_ext(x, NID_subject_alt_name, X509_NAME_entry_count(s->subject) == 0, (void *)s->sans)) != OFFCA_OK)
		goto out;
	if (s->profile == CA_PROFILE_INTERMEDIATE && (rc = add_name_constraints(x, s)) != OFFCA_OK)
		goto out;
	if (s->profile != CA_PROFILE_ROOT) {
		if ((rc = add_aia(x, s)) != OFFCA_OK || (rc = add_crl_dp(x, s->crl_dp_url)) != OFFCA_OK)
			goto out;
	}
	rc = OFFCA_OK;
out:
	ASN1_OCTET_STRING_free(ski);
	return rc;
}

static offca_rc check_spec(const ca_cert_spec *s)
{
	if (s->subject == NULL || s->subject_key == NULL || s->serial == NULL || s->serial_len == 0 ||
	    s->serial_len > 20 || (s->serial[0] & 0x80) != 0)
		return ut_err(OFFCA_E_USAGE, "certificate spec: subject, key and a positive serial are required");
	if (s->not_after <= s->not_before)
		return ut_err(OFFCA_E_USAGE, "certificate spec: notAfter must be after notBefore");
	if ((s->issuer == NULL) != (s->profile == CA_PROFILE_ROOT))
		return ut_err(OFFCA_E_USAGE, "certificate spec: only a root is self-signed");
	if (!ca_profile_is_ca(s->profile) && X509_NAME_entry_count(s->subject) == 0 &&
	    (s->sans == NULL || sk_GENERAL_NAME_num(s->sans) == 0))
		return ut_err(OFFCA_E_USAGE, "certificate spec: a leaf needs a subject or a SAN");
	if (ca_profile_is_ca(s->profile) && X509_NAME_entry_count(s->subject) == 0)
		return ut_err(OFFCA_E_USAGE, "a CA certificate needs a non-empty subject");
	return OFFCA_OK;
}

/*
 * Copy the SPKI (algorithm, parameters, key bits) as it is, without decoding the key: OpenSSL 3.0
 * runs its provider decoders on every X509_set_pubkey(), which cost more than the signature.
 */
static offca_rc copy_spki(X509 *x, const X509_PUBKEY *src)
{
	ASN1_OBJECT *alg = NULL;
	const ASN1_OBJECT *palg = NULL, *aobj = NULL;
	const unsigned char *pk = NULL;
	X509_ALGOR *pa = NULL;
	const void *pval = NULL;
	void *nval = NULL;
	unsigned char *bits = NULL;
	int pklen = 0, ptype = V_ASN1_UNDEF, unknown = 0;

	if (X509_PUBKEY_get0_param((ASN1_OBJECT **)&palg, &pk, &pklen, &pa, (X509_PUBKEY *)src) != 1 || pklen <= 0)
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot read the subject public key");
	X509_ALGOR_get0(&aobj, &ptype, &pval, pa);
	alg = OBJ_dup(palg);
	bits = OPENSSL_memdup(pk, (size_t)pklen);
	if (ptype == V_ASN1_OBJECT)
		nval = OBJ_dup(pval);
	else if (ptype == V_ASN1_SEQUENCE)
		nval = ASN1_STRING_dup(pval);
	else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) /* V_ASN1_UNDEF: absent (Ed25519) */
		unknown = 1;
	if (alg == NULL || bits == NULL || unknown || ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) && nval == NULL) ||
	    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), alg, ptype, nval, bits, pklen) != 1) {
		ASN1_OBJECT_free(alg);
		OPENSSL_free(bits);
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(nval);
		else if (ptype == V_ASN1_SEQUENCE)
			ASN1_STRING_free(nval);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot set the subject public key");
	}
	return OFFCA_OK;
}

offca_rc ca_x509_build(const ca_cert_spec *s, X509 **out)
{
	offca_rc rc;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;

	*out = NULL;
	if ((rc = check_spec(s)) != OFFCA_OK)
		goto out;
	rc = OFFCA_E_CRYPTO;
	x = X509_new();
	bn = BN_bin2bn(s->serial, (int)s->serial_len, NULL);
	serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	nb = ASN1_TIME_adj(NULL, (time_t)s->not_before, 0, 0);
	na = ASN1_TIME_adj(NULL, (time_t)s->not_after, 0, 0);
	if (x == NULL || serial == NULL || nb == NULL || na == NULL) {
		rc = ut_err_ssl(OFFCA_E_NOMEM, "out of memory building a certificate");
		goto out;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_subject_name(x, (X509_NAME *)s->subject) != 1 ||
	    X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer) : (X509_NAME *)s->subject) != 1 ||
	    X509_set1_notBefore(x, nb) != 1 || X509_set1_notAfter(x, na) != 1 ||
	    (s->subject_spki == NULL && X509_set_pubkey(x, s->subject_key) != 1)) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot set certificate fields");
		goto out;
	}
	if (s->subject_spki != NULL && (rc = copy_spki(x, s->subject_spki)) != OFFCA_OK)
		goto out;
	if ((rc = add_extensions(x, s)) != OFFCA_OK)
		goto out;
	*out = x;
	x = NULL;
	rc = OFFCA_OK;
out:
	ERR_clear_error();
	X509_free(x);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return rc;
}
