/* lint.c - certificate lints (RFC 5280 + CA/B Forum basics) and the shared finding list. */
#include "offca/lint.h"
#include "offca/util.h"
#include "lint_int.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400

void ca_lint_result_clear(ca_lint_result *r)
{
	if (r == NULL)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}

void lint_add(lint_ctx *c, const char *name, const char *fmt, ...)
{
	ca_lint_finding *f, *items;
	va_list ap;

	items = realloc(c->res->items, (c->res->n + 1) * sizeof(*items));
	if (items == NULL) {
		c->oom = 1;
		return;
	}
	c->res->items = items;
	f = &items[c->res->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
	f->level = name[0] == 'w' ? CA_LINT_WARN : CA_LINT_ERROR;
	for (size_t i = 0; c->opts != NULL && i < c->opts->n_accept; i++)
		if (strcmp(c->opts->accept[i], name) == 0)
			f->accepted = 1;
	if (f->level == CA_LINT_ERROR && !f->accepted)
		c->res->n_errors++;
}

offca_rc lint_finish(lint_ctx *c)
{
	if (c->oom)
		return ut_err(OFFCA_E_NOMEM, "out of memory while linting");
	for (size_t i = 0; i < c->res->n; i++) {
		const ca_lint_finding *f = &c->res->items[i];
		if (f->level == CA_LINT_ERROR && !f->accepted)
			return ut_err(OFFCA_E_LINT, "lint %s: %s", f->name, f->detail);
	}
	return OFFCA_OK;
}

int lint_time_ok(const ASN1_TIME *t)
{
	struct tm tm;
	int len = ASN1_STRING_length(t);
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int year;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || len < 13 || d[len - 1] != 'Z')
		return 0;
	year = tm.tm_year + 1900;
	if (year >= 1950 && year < 2050)
		return ASN1_STRING_type(t) == V_ASN1_UTCTIME && len == 13;
	return ASN1_STRING_type(t) == V_ASN1_GENERALIZEDTIME && len == 15;
}

static void lint_serial(lint_ctx *c, X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	int len = ASN1_STRING_length(s);

	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER || len == 0 ||
	    (len == 1 && ASN1_STRING_get0_data(s)[0] == 0))
		lint_add(c, "e_serial_not_positive", "serial number must be positive");
	/* octets of the DER INTEGER: a leading 0x00 is added when the top bit is set */
	if (len + ((ASN1_STRING_get0_data(s)[0] & 0x80) ? 1 : 0) > 20)
		lint_add(c, "e_serial_too_long", "serial number longer than 20 octets");
	if (len < 8)
		lint_add(c, "e_serial_too_short", "serial number has fewer than 64 bits (CA/B: 64 bits of entropy)");
}

static void lint_validity(lint_ctx *c, X509 *x, X509 *issuer, int is_ca)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
	int days = 0, secs = 0;
	unsigned max = c->opts != NULL && c->opts->leaf_max_days ? c->opts->leaf_max_days : 397;

	if (!lint_time_ok(nb) || !lint_time_ok(na))
		lint_add(c, "e_time_encoding", "validity must be UTCTime before 2050 and GeneralizedTime from 2050, "
					       "in seconds with Z");
	if (ASN1_TIME_diff(&days, &secs, nb, na) != 1 || days < 0 || secs < 0 || (days == 0 && secs == 0)) {
		lint_add(c, "e_validity_order", "notBefore must be before notAfter");
		return;
	}
	if (!is_ca && ((unsigned)days > max || ((unsigned)days == max && secs > 0)))
		lint_add(c, "e_leaf_validity_too_long", "leaf validity of %d days is above %u", days, max);
	if (issuer != NULL && ASN1_TIME_compare(na, X509_get0_notAfter(issuer)) > 0)
		lint_add(c, "e_validity_outside_issuer", "notAfter is after the issuer's notAfter");
}

static void lint_names(lint_ctx *c, X509 *x, int is_ca)
{
	const X509_NAME *n = X509_get_subject_name(x);

	if (is_ca && X509_NAME_entry_count(n) == 0)
		lint_add(c, "e_subject_empty_ca", "a CA certificate needs a subject");
	for (int i = 0; i < X509_NAME_entry_count(n); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		int t = ASN1_STRING_type(X509_NAME_ENTRY_get_data(e));
		int ok = t == V_ASN1_UTF8STRING || t == V_ASN1_PRINTABLESTRING;
		if (nid == NID_countryName)
			ok = t == V_ASN1_PRINTABLESTRING && ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)) == 2;
		if (nid == NID_domainComponent || nid == NID_pkcs9_emailAddress)
			ok = t == V_ASN1_IA5STRING;
		if (!ok)
			lint_add(c, "e_subject_string_type", "subject %s must be PrintableString or UTF8String "
				 "(C: 2-letter PrintableString)", OBJ_nid2sn(nid));
	}
}

static void lint_extensions_dup(lint_ctx *c, X509 *x)
{
	int n = X509_get_ext_count(x);

	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (OBJ_cmp(X509_EXTENSION_get_object(X509_get_ext(x, i)),
				    X509_EXTENSION_get_object(X509_get_ext(x, j))) == 0)
				lint_add(c, "e_duplicate_extension", "extension %s appears twice",
					 OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, i)))));
}

static int ext_critical(X509 *x, int nid)
{
	int idx = X509_get_ext_by_NID(x, nid, -1);

	return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

static void lint_ca(lint_ctx *c, X509 *x, BASIC_CONSTRAINTS *bc, uint32_t ku, int self)
{
	if (bc == NULL) {
		lint_add(c, "e_basic_constraints_missing", "a CA needs basicConstraints");
	} else if (!ext_critical(x, NID_basic_constraints)) {
		lint_add(c, "e_basic_constraints_not_critical", "a CA's basicConstraints must be critical");
	}
	if (X509_get_ext_by_NID(x, NID_key_usage, -1) < 0) {
		lint_add(c, "e_ca_key_usage_missing", "a CA needs keyUsage");
		return;
	}
	if (!(ku & KU_KEY_CERT_SIGN))
		lint_add(c, "e_ca_key_cert_sign_missing", "a CA's keyUsage needs keyCertSign");
	if (!(ku & KU_CRL_SIGN))
		lint_add(c, "e_ca_crl_sign_missing", "a CA's keyUsage needs cRLSign");
	if (!ext_critical(x, NID_key_usage))
		lint_add(c, "e_key_usage_not_critical", "a CA's keyUsage must be critical");
	if (self && bc != NULL && bc->pathlen != NULL)
		lint_add(c, "w_root_path_len", "the root has a pathLenConstraint");
	if (X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0 && !ext_critical(x, NID_name_constraints))
		lint_add(c, "w_name_constraints_not_critical", "nameConstraints should be critical");
}

static int cn_in_sans(X509 *x, GENERAL_NAMES *sans)
{
	const X509_NAME *n = X509_get_subject_name(x);
	int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	unsigned char *cn = NULL;
	int len, found = 0;

	if (idx < 0)
		return 1;
	len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx)));
	for (int i = 0; len > 0 && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS && ASN1_STRING_length(gn->d.ia5) == len &&
		    OPENSSL_strncasecmp((const char *)ASN1_STRING_get0_data(gn->d.ia5), (char *)cn, (size_t)len) == 0)
			found = 1;
		if (gn->type == GEN_IPADD) {
			ASN1_OCTET_STRING *parsed = a2i_IPADDRESS((char *)cn);
			if (parsed != NULL && ASN1_STRING_cmp(parsed, gn->d.ip) == 0)
				found = 1;
			ASN1_OCTET_STRING_free(parsed);
		}
	}
	OPENSSL_free(cn);
	return found;
}

static int spki_alg(X509 *x, int *curve);

static void lint_leaf(lint_ctx *c, X509 *x, BASIC_CONSTRAINTS *bc, uint32_t ku)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);

	if (bc != NULL && bc->ca)
		lint_add(c, "e_leaf_is_ca", "a leaf must not be CA:TRUE");
	if (bc != NULL && bc->pathlen != NULL)
		lint_add(c, "e_leaf_path_len", "pathLenConstraint on a leaf");
	if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		lint_add(c, "e_leaf_key_cert_sign", "a leaf must not have keyCertSign or cRLSign");
	int curve;

	int alg = spki_alg(x, &curve);

	if (alg == NID_X9_62_id_ecPublicKey && (ku & KU_KEY_ENCIPHERMENT))
		lint_add(c, "e_ec_key_encipherment", "keyEncipherment with an EC key");
	if (alg == NID_ED25519 && (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT)))
		lint_add(c, "e_ed25519_key_usage", "keyEncipherment, dataEncipherment or keyAgreement with an "
			 "Ed25519 key (RFC 8410: signature usages only)");
	if (sans == NULL || sk_GENERAL_NAME_num(sans) == 0) {
		lint_add(c, "e_san_missing", "a leaf needs a subjectAltName");
	} else {
		if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 && !ext_critical(x, NID_subject_alt_name))
			lint_add(c, "e_san_not_critical_empty_subject", "subjectAltName must be critical when the "
				 "subject is empty");
		if (!cn_in_sans(x, sans))
			lint_add(c, "e_cn_not_in_san", "the CN is not one of the subjectAltNames");
	}
	if (eku == NULL || sk_ASN1_OBJECT_num(eku) == 0) {
		lint_add(c, "e_eku_missing", "a leaf needs extKeyUsage");
	} else {
		for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
			if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_anyExtendedKeyUsage)
				lint_add(c, "e_eku_any", "anyExtendedKeyUsage in a leaf");
	}
	GENERAL_NAMES_free(sans);
	EXTENDED_KEY_USAGE_free(eku);
}

/*
 * The linted certificate's extensions are decoded one by one (X509_get_ext_d2i) rather than
 * through X509_get_key_usage() / X509_get0_subject_key_id(), which make OpenSSL decode every
 * extension and hash the whole certificate (its extension cache) for each new certificate. The
 * issuer's are read through the cache: it is filled once per issuer.
 */
static void lint_keyids(lint_ctx *c, X509 *x, X509 *issuer, int is_ca)
{
	ASN1_OCTET_STRING *ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
	AUTHORITY_KEYID *akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	const ASN1_OCTET_STRING *aki = akid != NULL ? akid->keyid : NULL;
	const ASN1_OCTET_STRING *iski = issuer != NULL ? X509_get0_subject_key_id(issuer) : ski;

	if (ski == NULL)
		lint_add(c, "e_ski_missing", "subjectKeyIdentifier missing");
	if (issuer != NULL && aki == NULL)
		lint_add(c, "e_aki_missing", "authorityKeyIdentifier missing");
	if (aki != NULL && iski != NULL && ASN1_OCTET_STRING_cmp(aki, iski) != 0)
		lint_add(c, "e_aki_mismatch", "authorityKeyIdentifier is not the issuer's key identifier");
	if (issuer != NULL && X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)) != 0)
		lint_add(c, "e_issuer_dn_mismatch", "issuer name is not the issuer's subject");
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	(void)is_ca;
}

/* keyUsage bits as X509_get_key_usage() gives them: UINT32_MAX without the extension, 0 when it
   cannot be decoded (or appears twice: e_duplicate_extension says so) */
static uint32_t key_usage(X509 *x)
{
	int crit = 0;
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	uint32_t bits = 0;

	if (ku == NULL)
		return crit == -1 ? UINT32_MAX : 0; /* -1: absent; -2: twice; else undecodable */
	if (ku->length > 0)
		bits = ku->data[0];
	if (ku->length > 1)
		bits |= (uint32_t)ku->data[1] << 8;
	ASN1_BIT_STRING_free(ku);
	return bits;
}

/* Key algorithm and EC curve from the SPKI without decoding the key (decoding is slow in 3.0). */
static int spki_alg(X509 *x, int *curve)
{
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *pa = NULL;
	const ASN1_OBJECT *aobj = NULL;
	const void *pval = NULL;
	int ptype = 0;

	*curve = NID_undef;
	if (X509_PUBKEY_get0_param(&alg, NULL, NULL, &pa, X509_get_X509_PUBKEY(x)) != 1)
		return NID_undef;
	X509_ALGOR_get0(&aobj, &ptype, &pval, pa);
	if (ptype == V_ASN1_OBJECT)
		*curve = OBJ_obj2nid(pval);
	return OBJ_obj2nid(alg);
}

static int ed25519_params_absent(X509 *x)
{
	ASN1_OBJECT *alg;
	X509_ALGOR *pa;
	const ASN1_OBJECT *aobj;
	const void *pval;
	int ptype;

	if (X509_PUBKEY_get0_param(&alg, NULL, NULL, &pa, X509_get_X509_PUBKEY(x)) != 1)
		return 0;
	X509_ALGOR_get0(&aobj, &ptype, &pval, pa);
	return ptype == V_ASN1_UNDEF;
}

static void lint_key(lint_ctx *c, X509 *x)
{
	int curve, alg = spki_alg(x, &curve);
	EVP_PKEY *pk;

	if (alg == NID_rsaEncryption) {
		/* decode from the SPKI bytes: a certificate built with a copied SPKI has no cached key */
		unsigned char *spki = NULL;
		const unsigned char *p;
		int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
		p = spki;
		pk = len > 0 ? d2i_PUBKEY(NULL, &p, len) : NULL;
		if (pk == NULL || EVP_PKEY_get_bits(pk) < 2048)
			lint_add(c, "e_rsa_key_too_small", "RSA key of %d bits (at least 2048)", pk ? EVP_PKEY_get_bits(pk) : 0);
		EVP_PKEY_free(pk);
		OPENSSL_free(spki);
	} else if (alg == NID_ED25519) {
		if (!ed25519_params_absent(x))
			lint_add(c, "e_ed25519_params", "Ed25519 SubjectPublicKeyInfo with parameters (RFC 8410: absent)");
	} else if (alg == NID_X9_62_id_ecPublicKey) {
		if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1 && curve != NID_secp521r1)
			lint_add(c, "e_ec_curve", "EC key on curve '%s' (P-256, P-384 or P-521)",
				 curve == NID_undef ? "explicit parameters" : OBJ_nid2sn(curve));
	}
}

offca_rc ca_lint_cert(X509 *x, X509 *issuer, const ca_lint_opts *opts, ca_lint_result *out)
{
	lint_ctx c = {out, opts, 0};
	BASIC_CONSTRAINTS *bc;
	const X509_ALGOR *inner, *outer;
	const ASN1_BIT_STRING *iuid, *suid;
	uint32_t ku;
	int is_ca;

	memset(out, 0, sizeof(*out));
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	is_ca = bc != NULL && bc->ca;
	ku = key_usage(x);
	if (X509_get_version(x) != X509_VERSION_3)
		lint_add(&c, "e_version_not_v3", "certificate must be v3");
	lint_serial(&c, x);
	lint_validity(&c, x, issuer, is_ca);
	X509_get0_uids(x, &iuid, &suid);
	if (iuid != NULL || suid != NULL)
		lint_add(&c, "e_unique_id_present", "issuer/subject unique identifiers must not be used");
	lint_extensions_dup(&c, x);
	lint_names(&c, x, is_ca);
	lint_key(&c, x);
	if (is_ca)
		lint_ca(&c, x, bc, ku == UINT32_MAX ? 0 : ku, issuer == NULL);
	else
		lint_leaf(&c, x, bc, ku == UINT32_MAX ? 0 : ku);
	lint_keyids(&c, x, issuer, is_ca);
	X509_get0_signature(NULL, &outer, x);
	inner = X509_get0_tbs_sigalg(x);
	if (outer == NULL || inner == NULL || X509_ALGOR_cmp(inner, outer) != 0 ||
	    OBJ_obj2nid(inner->algorithm) == NID_undef)
		lint_add(&c, "e_signature_alg_mismatch", "tbs signature algorithm missing or differs from the outer one");
	BASIC_CONSTRAINTS_free(bc);
	return lint_finish(&c);
}
