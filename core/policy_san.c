/* policy_san.c - subjectAltName syntax and policy (DNS suffixes, IP/email/URI), CN vs SAN. */
#include "offca/policy.h"
#include "offca/util.h"
#include "policy_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DNS_NAME 253
#define MAX_LABEL    63
#define MAX_URI      1024
#define MAX_EMAIL    254

static int ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

offca_rc ca_policy_dns_syntax(const char *name, size_t len)
{
	size_t start = 0, labels = 0;
	int wildcard = 0, all_digits_last = 0;

	if (len == 0)
		return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: empty DNS name");
	if (len > MAX_DNS_NAME)
		return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: DNS name longer than %d bytes", MAX_DNS_NAME);
	if (memchr(name, 0, len) != NULL)
		return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: DNS name holds a NUL byte");
	if (name[len - 1] == '.')
		return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s' ends with a dot (certificates name "
					      "hosts without the trailing dot)", (int)len, name);
	while (start <= len) {
		const char *dot = memchr(name + start, '.', len - start);
		size_t end = dot != NULL ? (size_t)(dot - name) : len;
		size_t l = end - start;
		const char *lab = name + start;

		if (l == 0)
			return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s' has an empty label", (int)len, name);
		if (l > MAX_LABEL)
			return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s' has a label longer than %d",
				      (int)len, name, MAX_LABEL);
		if (memchr(lab, '*', l) != NULL) {
			if (labels != 0 || l != 1)
				return ut_err(OFFCA_E_POLICY, "policy san-wildcard: '%.*s': a wildcard must be the "
							      "whole leftmost label", (int)len, name);
			wildcard = 1;
		} else {
			all_digits_last = 1;
			for (size_t i = 0; i < l; i++) {
				if (!ldh(lab[i]))
					return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s' is not an A-label "
								      "name (letters, digits, hyphen)", (int)len, name);
				if (!isdigit((unsigned char)lab[i]))
					all_digits_last = 0;
			}
			if (lab[0] == '-' || lab[l - 1] == '-')
				return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s': a label starts or ends "
							      "with a hyphen", (int)len, name);
		}
		labels++;
		if (dot == NULL)
			break;
		start = end + 1;
	}
	if (all_digits_last)
		return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: '%.*s' looks like an IP address "
					      "(use an IP SAN)", (int)len, name);
	if (wildcard && labels < 3)
		return ut_err(OFFCA_E_POLICY, "policy san-wildcard: '%.*s': a wildcard needs at least two "
					      "labels after it", (int)len, name);
	return OFFCA_OK;
}

static int under_suffix(const char *name, const char *sfx)
{
	size_t n = strlen(name), s = strlen(sfx);

	if (strcmp(name, sfx) == 0)
		return 1;
	return n > s + 1 && name[n - s - 1] == '.' && strcmp(name + n - s, sfx) == 0;
}

/* Syntax and wildcard rules of a lower-cased DNS name. */
static offca_rc dns_rules(const ca_policy *pol, const char *name)
{
	offca_rc rc = ca_policy_dns_syntax(name, strlen(name));

	if (rc != OFFCA_OK)
		return rc;
	if (name[0] == '*' && !pol->allow_wildcard)
		return ut_err(OFFCA_E_POLICY, "policy san-wildcard: wildcard names (%s) are not allowed "
					      "by this issuer", name);
	return OFFCA_OK;
}

static offca_rc dns_suffix(const ca_policy *pol, const char *name)
{
	const char *base = name[0] == '*' ? name + 2 : name;

	if (pol->n_dns_suffixes == 0)
		return OFFCA_OK;
	for (size_t i = 0; i < pol->n_dns_suffixes; i++)
		if (under_suffix(base, pol->dns_suffixes[i]))
			return OFFCA_OK;
	return ut_err(OFFCA_E_POLICY, "policy san-dns-suffix: %s is not under an allowed suffix (%s%s)", name,
		      pol->dns_suffixes[0], pol->n_dns_suffixes > 1 ? ", ..." : "");
}

/* The issuer's IPv4 / IPv6 ranges (none: any address); an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
   is judged as the IPv4 address it maps. */
static offca_rc ip_range(const ca_policy *pol, const GENERAL_NAME *gn)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a = ASN1_STRING_get0_data(gn->d.ip);
	size_t n = (size_t)ASN1_STRING_length(gn->d.ip);
	char text[64];

	if (pol->n_ip_ranges == 0)
		return OFFCA_OK;
	if (n == 16 && memcmp(a, mapped, sizeof(mapped)) == 0) {
		a += 12;
		n = 4;
	}
	for (size_t i = 0; i < pol->n_ip_ranges; i++) {
		const ca_ip_range *r = &pol->ip_ranges[i];
		unsigned full = r->prefix / 8, rest = r->prefix % 8;
		if (r->len != n || memcmp(a, r->addr, full) != 0)
			continue;
		if (rest == 0 || ((a[full] ^ r->addr[full]) & (0xff00u >> rest)) == 0)
			return OFFCA_OK;
	}
	ca_policy_san_text(gn, text, sizeof(text));
	return ut_err(OFFCA_E_POLICY, "policy san-ip-range: %s is outside the allowed ranges (see ip_ranges "
				      "in config.json)", text);
}

static offca_rc check_uri(const char *u, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > MAX_URI || !isalpha((unsigned char)u[0]))
		return ut_err(OFFCA_E_POLICY, "policy san-uri: URI SAN must start with a scheme");
	while (i < len && (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
		i++;
	if (i == len || u[i] != ':' || i + 1 == len)
		return ut_err(OFFCA_E_POLICY, "policy san-uri: '%.*s' is not an absolute URI", (int)len, u);
	for (i = 0; i < len; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return ut_err(OFFCA_E_POLICY, "policy san-uri: URI SAN holds a space or non-ASCII byte");
	return OFFCA_OK;
}

static offca_rc check_email(const char *e, size_t len)
{
	const char *at = memchr(e, '@', len);

	if (len > MAX_EMAIL || at == NULL || at == e || memchr(at + 1, '@', len - (size_t)(at + 1 - e)) != NULL)
		return ut_err(OFFCA_E_POLICY, "policy san-email: '%.*s' is not local@domain", (int)len, e);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)e[i] <= 0x20 || (unsigned char)e[i] >= 0x7f)
			return ut_err(OFFCA_E_POLICY, "policy san-email: address holds a space or non-ASCII byte");
	if (ca_policy_dns_syntax(at + 1, len - (size_t)(at + 1 - e)) != OFFCA_OK || at[1] == '*')
		return ut_err(OFFCA_E_POLICY, "policy san-email: bad domain in '%.*s'", (int)len, e);
	return OFFCA_OK;
}

void ca_policy_san_text(const GENERAL_NAME *gn, char *buf, size_t cap)
{
	const ASN1_STRING *s;
	char ip[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	switch (gn->type) {
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		s = gn->d.ia5;
		snprintf(buf, cap, "%s:%.*s", gn->type == GEN_DNS ? "DNS" : gn->type == GEN_EMAIL ? "email" : "URI",
			 ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
		break;
	case GEN_IPADD:
		s = gn->d.ip;
		if (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16) {
			inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), ip, sizeof(ip));
			snprintf(buf, cap, "IP:%s", ip);
		} else {
			snprintf(buf, cap, "IP:?");
		}
		break;
	default:
		snprintf(buf, cap, "othername");
	}
}

static offca_rc add_dns(GENERAL_NAMES *out, const char *lower)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || !ASN1_STRING_set(s, lower, (int)strlen(lower))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return ut_err(OFFCA_E_NOMEM, "out of memory building SANs");
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	if (!sk_GENERAL_NAME_push(out, gn)) {
		GENERAL_NAME_free(gn);
		return ut_err(OFFCA_E_NOMEM, "out of memory building SANs");
	}
	return OFFCA_OK;
}

static offca_rc add_copy(GENERAL_NAMES *out, const GENERAL_NAME *in)
{
	GENERAL_NAME *gn = GENERAL_NAME_dup(in);

	if (gn == NULL || !sk_GENERAL_NAME_push(out, gn)) {
		GENERAL_NAME_free(gn);
		return ut_err(OFFCA_E_NOMEM, "out of memory building SANs");
	}
	return OFFCA_OK;
}

static int already_has(const GENERAL_NAMES *out, const GENERAL_NAME *gn)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(out); i++)
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(out, i), (GENERAL_NAME *)gn) == 0)
			return 1;
	return 0;
}

/* The name just appended to out against the issuing CAs' name constraints. */
static offca_rc last_nc(const policy_ncs *ncs, const GENERAL_NAMES *out)
{
	return policy_nc_name(ncs, sk_GENERAL_NAME_value(out, sk_GENERAL_NAME_num(out) - 1));
}

/* A lower-cased DNS name: its rules, the issuing CAs' name constraints, then the suffixes. */
static offca_rc dns_name(const ca_policy *pol, const policy_ncs *ncs, const char *lower, GENERAL_NAMES *out)
{
	offca_rc rc;

	if ((rc = dns_rules(pol, lower)) != OFFCA_OK || (rc = add_dns(out, lower)) != OFFCA_OK ||
	    (rc = last_nc(ncs, out)) != OFFCA_OK)
		return rc;
	return dns_suffix(pol, lower);
}

/* Rule format-char for a SAN's text (DNS, email and URI are ASCII-only: caught here first so the
   refusal names the reason). */
static offca_rc ia5_text(const GENERAL_NAME *gn, const char *what)
{
	const ASN1_STRING *s = gn->d.ia5;
	uint32_t cp;

	if (policy_hidden_char((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), &cp))
		return ut_err(OFFCA_E_POLICY, "policy format-char: the %s SAN holds U+%04X, an invisible or "
					      "bidirectional character (or bytes that are not UTF-8)", what, (unsigned)cp);
	return OFFCA_OK;
}

/* Check one requested SAN and append its normalized form to out. */
static offca_rc one_san(const ca_policy *pol, const policy_ncs *ncs, const GENERAL_NAME *gn,
			GENERAL_NAMES *out)
{
	offca_rc rc;
	char name[MAX_DNS_NAME + 1];
	const ASN1_STRING *s;
	int len;

	switch (gn->type) {
	case GEN_DNS:
		if ((rc = ia5_text(gn, "DNS")) != OFFCA_OK)
			return rc;
		s = gn->d.ia5;
		len = ASN1_STRING_length(s);
		if (len <= 0 || len > MAX_DNS_NAME)
			return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: DNS name of %d bytes", len);
		for (int i = 0; i < len; i++)
			name[i] = (char)tolower(ASN1_STRING_get0_data(s)[i]);
		name[len] = '\0';
		if ((int)strlen(name) != len)
			return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: DNS name holds a NUL byte");
		return dns_name(pol, ncs, name, out);
	case GEN_IPADD:
		len = ASN1_STRING_length(gn->d.ip);
		if (len != 4 && len != 16)
			return ut_err(OFFCA_E_POLICY, "policy san-ip: IP SAN of %d bytes (4 or 16)", len);
		if (!pol->allow_ip_san)
			return ut_err(OFFCA_E_POLICY, "policy san-ip: IP address SANs are not allowed by this issuer");
		if ((rc = add_copy(out, gn)) != OFFCA_OK || (rc = last_nc(ncs, out)) != OFFCA_OK)
			return rc;
		return ip_range(pol, gn);
	case GEN_EMAIL:
		if (!pol->allow_email_san)
			return ut_err(OFFCA_E_POLICY, "policy san-email: email SANs are not allowed by this issuer");
		if ((rc = ia5_text(gn, "email")) != OFFCA_OK ||
		    (rc = check_email((const char *)ASN1_STRING_get0_data(gn->d.ia5), (size_t)ASN1_STRING_length(gn->d.ia5))) != OFFCA_OK)
			return rc;
		if ((rc = add_copy(out, gn)) != OFFCA_OK)
			return rc;
		return last_nc(ncs, out);
	case GEN_URI:
		if (!pol->allow_uri_san)
			return ut_err(OFFCA_E_POLICY, "policy san-uri: URI SANs are not allowed by this issuer");
		if ((rc = ia5_text(gn, "URI")) != OFFCA_OK ||
		    (rc = check_uri((const char *)ASN1_STRING_get0_data(gn->d.ia5), (size_t)ASN1_STRING_length(gn->d.ia5))) != OFFCA_OK)
			return rc;
		if ((rc = add_copy(out, gn)) != OFFCA_OK)
			return rc;
		return last_nc(ncs, out);
	default:
		return ut_err(OFFCA_E_POLICY, "policy san-type: only DNS, IP, email and URI SANs are allowed");
	}
}

/* Is cn (already validated UTF-8) one of the SANs? DNS case-insensitive, IP by address. */
static int cn_in_sans(const char *cn, const GENERAL_NAMES *sans)
{
	unsigned char ip[16];
	int iplen = 0;

	if (inet_pton(AF_INET, cn, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, cn, ip) == 1)
		iplen = 16;
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS && ASN1_STRING_length(gn->d.ia5) == (int)strlen(cn) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(gn->d.ia5), cn, strlen(cn)) == 0)
			return 1;
		if (gn->type == GEN_IPADD && iplen != 0 && ASN1_STRING_length(gn->d.ip) == iplen &&
		    memcmp(ASN1_STRING_get0_data(gn->d.ip), ip, (size_t)iplen) == 0)
			return 1;
	}
	return 0;
}

/* keytool-style CSR: CN only. Copy it into a SAN (checked like any SAN) or refuse. */
static offca_rc copy_cn(const ca_policy *pol, const policy_ncs *ncs, const char *cn, GENERAL_NAMES *out)
{
	unsigned char ip[16];
	int iplen = 0;
	GENERAL_NAME *gn = NULL;
	offca_rc rc;

	if (pol->cn_only == CA_CN_ONLY_REFUSE)
		return ut_err(OFFCA_E_POLICY, "policy cn-only: the CSR has CN=%s but no subjectAltName (with "
					      "keytool, add -ext SAN=dns:%s to -certreq)", cn, cn);
	if (inet_pton(AF_INET, cn, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, cn, ip) == 1)
		iplen = 16;
	if (iplen != 0) {
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		gn = GENERAL_NAME_new();
		if (os == NULL || gn == NULL || !ASN1_OCTET_STRING_set(os, ip, iplen)) {
			ASN1_OCTET_STRING_free(os);
			GENERAL_NAME_free(gn);
			return ut_err(OFFCA_E_NOMEM, "out of memory building SANs");
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
		rc = one_san(pol, ncs, gn, out);
		GENERAL_NAME_free(gn);
		return rc;
	}
	{
		char lower[MAX_DNS_NAME + 1];
		size_t n = strlen(cn);
		if (n > MAX_DNS_NAME)
			return ut_err(OFFCA_E_POLICY, "policy san-dns-syntax: CN is longer than a DNS name");
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)tolower((unsigned char)cn[i]);
		return dns_name(pol, ncs, lower, out);
	}
}

offca_rc policy_check_sans(const ca_policy *pol, const policy_ncs *ncs, const GENERAL_NAMES *req,
			   const char *cn, ca_request *out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
	int n = req != NULL ? sk_GENERAL_NAME_num(req) : 0;

	if (sans == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory building SANs");
		goto out;
	}
	if (n > CA_MAX_SANS_PER_CERT) {
		rc = ut_err(OFFCA_E_POLICY, "policy san-count: %d SANs, at most %d", n, CA_MAX_SANS_PER_CERT);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
		if (one == NULL)
			goto out;
		rc = one_san(pol, ncs, sk_GENERAL_NAME_value(req, i), one);
		if (rc == OFFCA_OK && !already_has(sans, sk_GENERAL_NAME_value(one, 0))) {
			sk_GENERAL_NAME_push(sans, sk_GENERAL_NAME_value(one, 0));
			sk_GENERAL_NAME_free(one);
		} else {
			GENERAL_NAMES_free(one);
		}
		if (rc != OFFCA_OK)
			goto out;
	}
	if (cn[0] != '\0' && sk_GENERAL_NAME_num(sans) == 0) {
		if ((rc = copy_cn(pol, ncs, cn, sans)) != OFFCA_OK)
			goto out;
		out->cn_copied = 1;
	} else if (cn[0] != '\0' && !cn_in_sans(cn, sans)) {
		rc = ut_err(OFFCA_E_POLICY, "policy cn-not-in-san: CN=%s is not one of the subjectAltNames", cn);
		goto out;
	}
	if (sk_GENERAL_NAME_num(sans) == 0 && pol->san_required) {
		rc = ut_err(OFFCA_E_POLICY, "policy san-required: the CSR names no subjectAltName and no CN");
		goto out;
	}
	out->sans = sans;
	sans = NULL;
	rc = OFFCA_OK;
out:
	GENERAL_NAMES_free(sans);
	return rc;
}
