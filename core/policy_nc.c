/*
 * policy_nc.c - name constraints (RFC 5280 4.2.1.10) of the issuing CAs applied before signing.
 *
 * The constraints come from OpenSSL's decoded NAME_CONSTRAINTS (X509_get_ext_d2i), never from
 * hand-parsed DER. For each name of the request (every SAN, the subject for directoryName
 * subtrees, a CN that is a DNS name or an IP address): inside no excluded subtree of its type,
 * and inside one permitted subtree of its type when the CA lists any of that type. Forms, as
 * OpenSSL and Go verify them:
 *   DNS    "lab.example" = the name and any subdomain; ".lab.example" = subdomains only; "" = all.
 *   IP     address + mask, IPv4 (8 bytes) or IPv6 (32 bytes); an address of the other family
 *          never matches.
 *   email  "user@host" = that mailbox; "host" = every mailbox at host; ".domain" = every mailbox
 *          at a host under domain.
 *   URI    the URI's host, as DNS ("host" exactly, ".domain" below it).
 *   dirName  the subject begins with the subtree's RDNs (compared canonically, X509_NAME_cmp).
 * A wildcard SAN "*.S" also falls in an excluded "L.S" (it covers that host).
 * Refusals: OFFCA_E_POLICY "policy name-constraints: <name> ... of CA '<subject>'".
 */
#include "offca/policy.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "policy_int.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CA_TEXT 512

/* Bytes of an IA5String as a (ptr, len) pair. */
struct span {
	const char *p;
	size_t n;
};

static struct span ia5(const ASN1_STRING *s)
{
	struct span r = {(const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)};
	return r;
}

static int ends_with_ci(struct span s, struct span sfx)
{
	return s.n >= sfx.n && strncasecmp(s.p + s.n - sfx.n, sfx.p, sfx.n) == 0;
}

/* DNS host against a DNS-style base (DNS subtrees, URI hosts with leading-dot domains). */
static int dns_match(struct span name, struct span base)
{
	if (base.n == 0)
		return 1;
	if (!ends_with_ci(name, base))
		return 0;
	if (base.p[0] == '.')
		return name.n > base.n;
	return name.n == base.n || name.p[name.n - base.n - 1] == '.';
}

/* "*.S" covers every "L.S": an excluded "L.S" (no leading dot) is hit by the wildcard. */
static int wildcard_hits(struct span name, struct span base)
{
	struct span s = {name.p + 1, name.n - 1}; /* ".S" */
	const char *dot;

	if (name.n < 3 || name.p[0] != '*' || name.p[1] != '.' || base.n == 0 || base.p[0] == '.')
		return 0;
	dot = memchr(base.p, '.', base.n);
	return dot != NULL && dot != base.p && (size_t)(base.p + base.n - dot) == s.n &&
	       strncasecmp(dot, s.p, s.n) == 0;
}

static int ip_match(const ASN1_OCTET_STRING *ip, const ASN1_OCTET_STRING *base)
{
	int n = ASN1_STRING_length(ip);
	const unsigned char *a = ASN1_STRING_get0_data(ip), *b = ASN1_STRING_get0_data(base);

	if ((n != 4 && n != 16) || ASN1_STRING_length(base) != 2 * n)
		return 0;
	for (int i = 0; i < n; i++)
		if ((a[i] & b[n + i]) != (b[i] & b[n + i]))
			return 0;
	return 1;
}

static int email_match(struct span mail, struct span base)
{
	const char *at = mail.n > 0 ? memchr(mail.p, '@', mail.n) : NULL;
	struct span host;

	if (at == NULL || base.n == 0) /* an empty email subtree matches no mailbox, as OpenSSL reads it */
		return 0;
	host.p = at + 1;
	host.n = mail.n - (size_t)(host.p - mail.p);
	if (memchr(base.p, '@', base.n) != NULL) {
		const char *bat = memchr(base.p, '@', base.n);
		size_t lp = (size_t)(bat - base.p);
		struct span bhost = {bat + 1, base.n - lp - 1};
		return (size_t)(at - mail.p) == lp && memcmp(mail.p, base.p, lp) == 0 && host.n == bhost.n &&
		       strncasecmp(host.p, bhost.p, host.n) == 0;
	}
	if (base.n > 0 && base.p[0] == '.')
		return host.n > base.n && ends_with_ci(host, base);
	return host.n == base.n && strncasecmp(host.p, base.p, base.n) == 0;
}

/* Host of an absolute URI "scheme://[user@]host[:port][/...]"; n = 0 when there is none. */
static struct span uri_host(struct span u)
{
	struct span h = {NULL, 0};
	const char *p = memchr(u.p, ':', u.n), *end = u.p + u.n, *q;

	if (p == NULL || end - p < 3 || p[1] != '/' || p[2] != '/')
		return h;
	p += 3;
	for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
		;
	for (const char *a = p; a < q; a++)
		if (*a == '@')
			p = a + 1;
	h.p = p;
	for (h.n = 0; p + h.n < q && p[h.n] != ':'; h.n++)
		;
	return h;
}

static int uri_match(struct span uri, struct span base)
{
	struct span host = uri_host(uri);

	if (host.n == 0)
		return 0;
	if (base.n > 0 && base.p[0] == '.')
		return host.n > base.n && ends_with_ci(host, base);
	return host.n == base.n && strncasecmp(host.p, base.p, base.n) == 0;
}

/* The subject begins with base's RDNs (canonical comparison). 1 match, 0 not, -1 no memory. */
static int dn_match(const X509_NAME *subject, const X509_NAME *base)
{
	X509_NAME *head;
	int nb = X509_NAME_entry_count(base), r;

	if (nb > X509_NAME_entry_count(subject))
		return 0;
	if ((head = X509_NAME_dup(subject)) == NULL)
		return -1;
	while (X509_NAME_entry_count(head) > nb)
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(head, X509_NAME_entry_count(head) - 1));
	r = X509_NAME_cmp(head, base) == 0;
	X509_NAME_free(head);
	return r;
}

/* One name against one subtree base of the same type: 1 match, 0 not, -1 error. */
static int subtree_match(const GENERAL_NAME *name, const GENERAL_NAME *base, int excluded)
{
	switch (name->type) {
	case GEN_DNS:
		return dns_match(ia5(name->d.ia5), ia5(base->d.ia5)) ||
		       (excluded && wildcard_hits(ia5(name->d.ia5), ia5(base->d.ia5)));
	case GEN_IPADD:
		return ip_match(name->d.ip, base->d.ip);
	case GEN_EMAIL:
		return email_match(ia5(name->d.ia5), ia5(base->d.ia5));
	case GEN_URI:
		return uri_match(ia5(name->d.uniformResourceIdentifier), ia5(base->d.ia5));
	case GEN_DIRNAME:
		return dn_match(name->d.directoryName, base->d.directoryName);
	default:
		return 0;
	}
}

static void name_text(const GENERAL_NAME *gn, char *buf, size_t cap)
{
	if (gn->type == GEN_DIRNAME) {
		char dn[300];
		if (ca_x509_name_text(gn->d.directoryName, dn, sizeof(dn)) != OFFCA_OK && dn[0] == '\0')
			snprintf(dn, sizeof(dn), "(unprintable)");
		snprintf(buf, cap, "subject %s", dn);
		return;
	}
	ca_policy_san_text(gn, buf, cap);
}

/* Who constrains: a text given by the caller, or a CA certificate whose subject is printed only
   when a refusal needs it. */
struct who {
	const char *text;
	X509 *cert;
};

/* The constraining CA as the messages name it. */
static void who_text(const struct who *ca, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (ca->text != NULL)
		snprintf(buf, cap, "%s", ca->text);
	else if (ca_x509_name_text(X509_get_subject_name(ca->cert), buf, cap) != OFFCA_OK && buf[0] == '\0')
		snprintf(buf, cap, "(unprintable subject)");
}

static offca_rc refuse(const GENERAL_NAME *gn, const GENERAL_NAME *base, const struct who *ca)
{
	char n[320], b[320] = "", text[CA_TEXT];

	name_text(gn, n, sizeof(n));
	who_text(ca, text, sizeof(text));
	if (base == NULL)
		return ut_err(OFFCA_E_POLICY, "policy name-constraints: %s is not within the permitted subtrees "
					      "of CA '%s'", n, text);
	name_text(base, b, sizeof(b));
	return ut_err(OFFCA_E_POLICY, "policy name-constraints: %s is in the excluded subtree %s of CA '%s'", n, b,
		      text);
}

/* Subtrees with minimum/maximum are not allowed by RFC 5280 (and not evaluated by verifiers). */
static offca_rc check_minmax(const STACK_OF(GENERAL_SUBTREE) *sk, const struct who *ca)
{
	char text[CA_TEXT];

	for (int i = 0; i < sk_GENERAL_SUBTREE_num(sk); i++) {
		const GENERAL_SUBTREE *t = sk_GENERAL_SUBTREE_value(sk, i);
		if (t->maximum == NULL && (t->minimum == NULL || ASN1_INTEGER_get(t->minimum) == 0))
			continue;
		who_text(ca, text, sizeof(text));
		return ut_err(OFFCA_E_POLICY, "policy name-constraints: CA '%s' has a subtree with minimum/maximum, "
					      "which RFC 5280 forbids: nothing can be checked against it", text);
	}
	return OFFCA_OK;
}

static offca_rc check_one(const NAME_CONSTRAINTS *nc, const struct who *ca, const GENERAL_NAME *gn)
{
	int have_permitted = 0;
	offca_rc rc;

	if ((rc = check_minmax(nc->permittedSubtrees, ca)) != OFFCA_OK ||
	    (rc = check_minmax(nc->excludedSubtrees, ca)) != OFFCA_OK)
		return rc;
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); i++) {
		const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i)->base;
		int m;
		if (base->type != gn->type)
			continue;
		if ((m = subtree_match(gn, base, 1)) < 0)
			return ut_err(OFFCA_E_NOMEM, "out of memory checking name constraints");
		if (m)
			return refuse(gn, base, ca);
	}
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
		int m;
		if (base->type != gn->type)
			continue;
		have_permitted = 1;
		if ((m = subtree_match(gn, base, 0)) < 0)
			return ut_err(OFFCA_E_NOMEM, "out of memory checking name constraints");
		if (m)
			return OFFCA_OK;
	}
	return have_permitted ? refuse(gn, NULL, ca) : OFFCA_OK;
}

/* The CN as a GENERAL_NAME when it is a DNS name or an IP address (*out NULL otherwise). */
static offca_rc cn_as_name(const X509_NAME *subject, GENERAL_NAME **out)
{
	int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	unsigned char *cn = NULL, ip[16];
	int len, iplen = 0, ok;
	GENERAL_NAME *gn = NULL;
	ASN1_STRING *s = NULL;

	*out = NULL;
	if (idx < 0)
		return OFFCA_OK;
	len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
	if (len <= 0 || memchr(cn, 0, (size_t)len) != NULL) {
		OPENSSL_free(cn);
		ERR_clear_error();
		return OFFCA_OK;
	}
	if (inet_pton(AF_INET, (char *)cn, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, (char *)cn, ip) == 1)
		iplen = 16;
	else if (ca_policy_dns_syntax((char *)cn, (size_t)len) != OFFCA_OK)
		len = 0; /* not a host name: no DNS constraint applies to it */
	ok = len > 0 && (gn = GENERAL_NAME_new()) != NULL;
	if (ok && iplen != 0)
		ok = (s = ASN1_OCTET_STRING_new()) != NULL && ASN1_OCTET_STRING_set(s, ip, iplen);
	else if (ok)
		ok = (s = ASN1_IA5STRING_new()) != NULL && ASN1_STRING_set(s, cn, len);
	OPENSSL_free(cn);
	if (len <= 0)
		return OFFCA_OK;
	if (!ok) {
		ASN1_STRING_free(s);
		GENERAL_NAME_free(gn);
		return ut_err(OFFCA_E_NOMEM, "out of memory checking name constraints");
	}
	GENERAL_NAME_set0_value(gn, iplen != 0 ? GEN_IPADD : GEN_DNS, s);
	*out = gn;
	return OFFCA_OK;
}

static int has_dns(const GENERAL_NAMES *sans)
{
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++)
		if (sk_GENERAL_NAME_value(sans, i)->type == GEN_DNS)
			return 1;
	return 0;
}

/* OpenSSL (NAME_CONSTRAINTS_check_CN) reads a CN of digits and dots as a DNS name when no DNS SAN
   exists, and holds it against the DNS subtrees: so does the policy, or openssl verify would
   refuse a certificate signed here ("CN=10.1.2.3" with only an IP SAN under DNS constraints). */
static offca_rc cn_ip_as_dns(const NAME_CONSTRAINTS *nc, const struct who *ca, const X509_NAME *subject)
{
	int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	offca_rc rc;

	if (gn == NULL || s == NULL || !ASN1_STRING_set(s, ASN1_STRING_get0_data(v), ASN1_STRING_length(v))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return ut_err(OFFCA_E_NOMEM, "out of memory checking name constraints");
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	rc = check_one(nc, ca, gn);
	GENERAL_NAME_free(gn);
	return rc;
}

/* The subject (directoryName subtrees) and its CN when it is a name; sans only tell whether a DNS
   SAN exists. */
static offca_rc check_subject(const NAME_CONSTRAINTS *nc, const struct who *ca, const X509_NAME *subject,
			      const GENERAL_NAMES *sans)
{
	offca_rc rc;
	GENERAL_NAME dn, *cn = NULL;

	if (subject == NULL)
		return OFFCA_OK;
	if (X509_NAME_entry_count(subject) > 0) {
		dn.type = GEN_DIRNAME;
		dn.d.directoryName = (X509_NAME *)subject;
		if ((rc = check_one(nc, ca, &dn)) != OFFCA_OK)
			return rc;
	}
	if ((rc = cn_as_name(subject, &cn)) != OFFCA_OK || cn == NULL)
		return rc;
	rc = check_one(nc, ca, cn);
	if (rc == OFFCA_OK && cn->type == GEN_IPADD && ASN1_STRING_length(cn->d.ip) == 4 && !has_dns(sans))
		rc = cn_ip_as_dns(nc, ca, subject);
	GENERAL_NAME_free(cn);
	return rc;
}

/* Every name of the request against one CA's constraints. */
static offca_rc check_names(const NAME_CONSTRAINTS *nc, const struct who *ca, const X509_NAME *subject,
			    const GENERAL_NAMES *sans)
{
	offca_rc rc;

	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++)
		if ((rc = check_one(nc, ca, sk_GENERAL_NAME_value(sans, i))) != OFFCA_OK)
			return rc;
	return check_subject(nc, ca, subject, sans);
}

offca_rc ca_policy_name_constraints(const NAME_CONSTRAINTS *nc, const char *ca, const X509_NAME *subject,
				    const GENERAL_NAMES *sans)
{
	struct who w = {ca != NULL ? ca : "(unnamed)", NULL};

	return nc == NULL ? OFFCA_OK : check_names(nc, &w, subject, sans);
}

/* The decoded nameConstraints of a CA certificate (*nc NULL: none). */
static offca_rc get_nc(X509 *ca, size_t i, NAME_CONSTRAINTS **nc)
{
	int crit = 0;

	*nc = X509_get_ext_d2i(ca, NID_name_constraints, &crit, NULL);
	if (*nc == NULL && crit != -1) {
		ERR_clear_error();
		return ut_err(OFFCA_E_POLICY, "policy name-constraints: CA certificate %zu of the chain has an "
					      "undecodable or repeated nameConstraints extension", i);
	}
	return OFFCA_OK;
}

void policy_ncs_clear(policy_ncs *s)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		NAME_CONSTRAINTS_free(s->nc[i]);
	if (s != NULL)
		memset(s, 0, sizeof(*s));
}

offca_rc policy_ncs_load(const STACK_OF(X509) *chain, policy_ncs *out)
{
	offca_rc rc = OFFCA_OK;

	memset(out, 0, sizeof(*out));
	if (sk_X509_num(chain) > POLICY_NC_MAX)
		return ut_err(OFFCA_E_POLICY, "policy name-constraints: a chain of more than %d CAs", POLICY_NC_MAX);
	for (int i = 0; rc == OFFCA_OK && i < sk_X509_num(chain); i++) {
		NAME_CONSTRAINTS *nc = NULL;
		rc = get_nc(sk_X509_value(chain, i), (size_t)i, &nc);
		if (nc != NULL) {
			out->nc[out->n] = nc;
			out->ca[out->n++] = sk_X509_value(chain, i);
		}
	}
	if (rc != OFFCA_OK)
		policy_ncs_clear(out);
	return rc;
}

offca_rc policy_nc_subject(const policy_ncs *s, const X509_NAME *subject, const GENERAL_NAMES *sans)
{
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		struct who w = {NULL, s->ca[i]};
		offca_rc rc = check_subject(s->nc[i], &w, subject, sans);
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

offca_rc policy_nc_name(const policy_ncs *s, const GENERAL_NAME *gn)
{
	for (size_t i = 0; s != NULL && i < s->n; i++) {
		struct who w = {NULL, s->ca[i]};
		offca_rc rc = check_one(s->nc[i], &w, gn);
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}

offca_rc ca_policy_chain_constraints(const STACK_OF(X509) *chain, const X509_NAME *subject,
				     const GENERAL_NAMES *sans)
{
	policy_ncs s;
	offca_rc rc = policy_ncs_load(chain, &s);

	for (int i = 0; rc == OFFCA_OK && sans != NULL && i < sk_GENERAL_NAME_num(sans); i++)
		rc = policy_nc_name(&s, sk_GENERAL_NAME_value(sans, i));
	if (rc == OFFCA_OK)
		rc = policy_nc_subject(&s, subject, sans);
	policy_ncs_clear(&s);
	return rc;
}
