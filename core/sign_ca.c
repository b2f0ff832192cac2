/* sign_ca.c - root and intermediate certificates: reserve, build, sign, verify, lint, record. */
#include "offca/sign.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CA_MAX_DAYS (100 * 366)

/* Serial (reserved) -> build, sign, verify, lint -> record + issuer (one commit). Signs with priv,
   verifies with pub. */
static offca_rc finish_ca(ca_store *st, const ca_ca_spec *spec, ca_cert_spec *cs, const char *parent,
			  EVP_PKEY *priv, EVP_PKEY *pub, X509 *issuer_cert, unsigned char **out_der, size_t *out_len)
{
	offca_rc rc;
	ca_serial serial;
	X509 *x = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	ca_cert_record rec;
	ca_lint_result lr;
	ca_issuer iss;
	int reserved = 0;

	memset(&rec, 0, sizeof(rec));
	memset(&iss, 0, sizeof(iss));
	if ((rc = ca_store_serial_reserve(st, parent[0] ? parent : spec->name, 1, &serial)) != OFFCA_OK)
		goto out;
	reserved = 1;
	cs->serial = serial.b;
	cs->serial_len = CA_SERIAL_LEN;
	if ((rc = ca_x509_build(cs, &x)) != OFFCA_OK || (rc = ca_x509_sign(x, priv)) != OFFCA_OK ||
	    (rc = ca_x509_verify(x, pub)) != OFFCA_OK)
		goto out;
	rc = ca_lint_cert(x, issuer_cert, spec->lint, &lr);
	ca_lint_result_clear(&lr);
	if (rc != OFFCA_OK)
		goto out;
	if ((rc = ca_x509_to_der(x, &der, &len)) != OFFCA_OK)
		goto out;
	if ((rc = ca_cert_record_from_x509(x, der, len, parent[0] ? parent : spec->name, ca_profile_name(cs->profile),
					   spec->source ? spec->source : "offca ca", &rec)) != OFFCA_OK)
		goto out;
	snprintf(iss.name, sizeof(iss.name), "%s", spec->name);
	snprintf(iss.parent, sizeof(iss.parent), "%s", parent);
	snprintf(iss.key_uri, sizeof(iss.key_uri), "%s", spec->key_uri ? spec->key_uri : "");
	iss.der = der;
	iss.der_len = len;
	iss.created = (int64_t)time(NULL);
	iss.is_root = parent[0] == '\0';
	/* the record and the issuer entry in ONE transaction: a crash cannot leave a CA certificate
	   recorded but unknown as an issuer */
	if ((rc = ca_store_issuer_commit(st, &rec, &iss)) != OFFCA_OK)
		goto out;
	reserved = 0;
	*out_der = der;
	*out_len = len;
	der = NULL;
	rc = OFFCA_OK;
out:
	if (reserved) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		(void)ca_store_serial_void(st, &serial, 1, "CA certificate failed");
		ut_err(rc, "%s", msg);
	}
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	X509_free(x);
	return rc;
}

static offca_rc check_spec(ca_store *st, const ca_ca_spec *spec)
{
	ca_issuer existing;
	offca_rc rc;

	if (spec->name == NULL || spec->name[0] == '\0' || strlen(spec->name) > 63)
		return ut_err(OFFCA_E_USAGE, "issuer name must be 1..63 characters");
	for (const char *c = spec->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '.'))
			return ut_err(OFFCA_E_USAGE, "issuer name '%s': use letters, digits, '-', '_', '.'", spec->name);
	if (spec->days == 0 || spec->days > CA_MAX_DAYS)
		return ut_err(OFFCA_E_USAGE, "--days must be 1..%d for a CA", CA_MAX_DAYS);
	if (spec->path_len < -1 || spec->path_len > 16)
		return ut_err(OFFCA_E_USAGE, "--path-len must be 0..16");
	if (spec->n_permit_dns > CA_MAX_PERMIT_DNS)
		return ut_err(OFFCA_E_USAGE, "at most %d --permit-dns", CA_MAX_PERMIT_DNS);
	memset(&existing, 0, sizeof(existing));
	rc = ca_store_issuer_get(st, spec->name, &existing);
	ca_issuer_clear(&existing);
	if (rc == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "an issuer named '%s' exists already (pick another --name)", spec->name);
	if (rc != OFFCA_E_NOT_FOUND)
		return rc;
	ut_err_clear();
	return OFFCA_OK;
}

offca_rc ca_sign_root(ca_store *st, const ca_ca_spec *spec, EVP_PKEY *priv, EVP_PKEY *pub,
		      unsigned char **out_der, size_t *out_len)
{
	offca_rc rc;
	ca_cert_spec cs;

	*out_der = NULL;
	*out_len = 0;
	if ((rc = check_spec(st, spec)) != OFFCA_OK)
		return rc;
	if (spec->n_permit_dns > 0)
		return ut_err(OFFCA_E_USAGE, "name constraints belong on an intermediate, not the root");
	memset(&cs, 0, sizeof(cs));
	cs.profile = CA_PROFILE_ROOT;
	cs.subject = spec->subject;
	cs.subject_key = pub;
	cs.not_before = (int64_t)time(NULL) - CA_SIGN_BACKDATE;
	cs.not_after = cs.not_before + (int64_t)spec->days * 86400;
	cs.path_len = spec->path_len;
	return finish_ca(st, spec, &cs, "", priv, pub, NULL, out_der, out_len);
}

static offca_rc check_permit(const char *d)
{
	const char *name = d[0] == '.' ? d + 1 : d;
	size_t n = strlen(name);

	if (n == 0 || n > 253)
		return ut_err(OFFCA_E_USAGE, "--permit-dns '%s': not a DNS suffix", d);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') ||
		    (c == '.' && (i == 0 || name[i + 1] == '.' || name[i + 1] == '\0')))
			return ut_err(OFFCA_E_USAGE, "--permit-dns '%s': lower-case A-label DNS suffix expected", d);
	}
	return OFFCA_OK;
}

/* A parent with pathLenConstraint p may sign CAs only when p > 0, and their pathLen must be < p. */
static offca_rc check_parent_path_len(const ca_signer *parent, int path_len)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(parent->cert, NID_basic_constraints, NULL, NULL);
	long p = -1;
	offca_rc rc = OFFCA_OK;

	if (bc == NULL || !bc->ca) {
		rc = ut_err(OFFCA_E_POLICY, "policy path-len: issuer '%s' is not a CA", parent->iss.name);
	} else if (bc->pathlen != NULL) {
		p = ASN1_INTEGER_get(bc->pathlen);
		if (p <= 0)
			rc = ut_err(OFFCA_E_POLICY, "policy path-len: issuer '%s' has pathLenConstraint 0: it may only "
						    "sign end-entity certificates", parent->iss.name);
		else if (path_len < 0 || path_len >= p)
			rc = ut_err(OFFCA_E_POLICY, "policy path-len: issuer '%s' has pathLenConstraint %ld: pass "
						    "--path-len %ld or less", parent->iss.name, p, p - 1);
	}
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

offca_rc ca_sign_intermediate(ca_store *st, ca_signer *parent, const ca_ca_spec *spec, EVP_PKEY *sub_pub,
			      unsigned char **out_der, size_t *out_len)
{
	offca_rc rc;
	ca_cert_spec cs;

	*out_der = NULL;
	*out_len = 0;
	if ((rc = check_spec(st, spec)) != OFFCA_OK)
		return rc;
	if (parent->priv == NULL)
		return ut_err(OFFCA_E_STATE, "no signing key attached to issuer '%s'", parent->iss.name);
	for (size_t i = 0; i < spec->n_permit_dns; i++)
		if ((rc = check_permit(spec->permit_dns[i])) != OFFCA_OK)
			return rc;
	if ((rc = check_parent_path_len(parent, spec->path_len)) != OFFCA_OK)
		return rc;
	memset(&cs, 0, sizeof(cs));
	cs.profile = CA_PROFILE_INTERMEDIATE;
	cs.subject = spec->subject;
	cs.subject_key = sub_pub;
	if ((rc = sign_validity(parent, spec->days, &cs.not_before, &cs.not_after)) != OFFCA_OK)
		return rc;
	cs.issuer = parent->cert;
	cs.path_len = spec->path_len;
	cs.permit_dns = spec->permit_dns;
	cs.n_permit_dns = spec->n_permit_dns;
	cs.aia_ca_issuers_url = parent->cfg->aia_ca_issuers_url;
	cs.ocsp_url = parent->cfg->ocsp_url;
	cs.crl_dp_url = parent->cfg->crl_dp_url;
	return finish_ca(st, spec, &cs, parent->iss.name, parent->priv, parent->pub, parent->cert, out_der, out_len);
}
