/* inv_issuers.c - the issuer table of an inventory walk (names, fingerprints, current CRL, counts
 * of what each issued) and the small text helpers the inventory writers share. */
#include "inv_int.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static offca_rc load_one(ca_store *st, inv_issuer *d)
{
	ca_cert_record r;
	offca_rc rc;

	memset(&r, 0, sizeof(r));
	rc = ca_cert_record_from_der(d->iss.der, d->iss.der_len, d->iss.name, "issuer", "-", &r);
	if (rc != OFFCA_OK)
		return ut_err(rc, "issuer %s: its certificate cannot be read: %s", d->iss.name, ut_err_msg());
	snprintf(d->subject, sizeof(d->subject), "%s", r.subject != NULL ? r.subject : "");
	inv_cn_of(d->subject, d->cn, sizeof(d->cn));
	ca_serial_hex(&r.serial, d->serial_hex, sizeof(d->serial_hex));
	memcpy(d->sha256, r.sha256, 32);
	d->not_before = r.not_before;
	d->not_after = r.not_after;
	ca_cert_record_clear(&r);
	rc = ca_store_crl_current(st, d->iss.name, &d->crl_number, &d->crl_this, &d->crl_next, NULL, NULL);
	if (rc == OFFCA_E_NOT_FOUND)
		return OFFCA_OK;
	d->has_crl = rc == OFFCA_OK;
	return rc;
}

offca_rc inv_issuers_load(ca_store *st, inv_issuers *out)
{
	ca_issuer *list = NULL;
	size_t n = 0;
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	rc = ca_store_issuer_list(st, &list, &n);
	if (rc != OFFCA_OK)
		return rc;
	if (n > CA_INV_MAX_ISSUERS) {
		ca_issuer_list_free(list, n);
		return ut_err(OFFCA_E_TOO_BIG, "more than %u issuers", CA_INV_MAX_ISSUERS);
	}
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (out->v == NULL) {
		ca_issuer_list_free(list, n);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) { /* move each issuer (its DER) into the table */
		out->v[i].iss = list[i];
		memset(&list[i], 0, sizeof(list[i]));
	}
	out->n = n;
	free(list);
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		rc = load_one(st, &out->v[i]);
	if (rc != OFFCA_OK)
		inv_issuers_free(out);
	return rc;
}

void inv_issuers_free(inv_issuers *is)
{
	for (size_t i = 0; is->v != NULL && i < is->n; i++)
		ca_issuer_clear(&is->v[i].iss);
	free(is->v);
	memset(is, 0, sizeof(*is));
}

inv_issuer *inv_issuers_find(inv_issuers *is, const char *name)
{
	for (size_t i = 0; i < is->n; i++)
		if (strcmp(is->v[i].iss.name, name) == 0)
			return &is->v[i];
	return NULL;
}

const char *inv_status(const ca_cert_record *r, int64_t now)
{
	if (r->status == CA_CERT_REVOKED)
		return "revoked";
	return r->not_after < now ? "expired" : "valid";
}

void inv_count(inv_issuers *is, const ca_cert_record *r, int64_t now, ca_inv_counts *c)
{
	inv_issuer *i = inv_issuers_find(is, r->issuer);
	const char *s = inv_status(r, now);

	c->certs++;
	if (s[0] == 'r') {
		c->revoked++;
		if (i != NULL)
			i->n_revoked++;
	} else if (s[0] == 'e') {
		c->expired++;
		if (i != NULL)
			i->n_expired++;
	} else {
		c->valid++;
		if (i != NULL)
			i->n_valid++;
	}
}

/* RFC 2253: "CN=a\,b,O=x": attributes separated by unescaped ',' or '+'; "\," "\XX" escapes. */
void inv_cn_of(const char *dn, char *buf, size_t cap)
{
	const char *p = dn;
	size_t n = 0;
	int at_start = 1;

	buf[0] = '\0';
	if (dn == NULL || cap == 0)
		return;
	while (*p != '\0') {
		if (at_start && strncmp(p, "CN=", 3) == 0) {
			for (p += 3; *p != '\0' && *p != ',' && *p != '+' && n + 1 < cap; p++) {
				if (*p == '\\' && ut_hexval(p[1]) >= 0 && ut_hexval(p[2]) >= 0) {
					buf[n++] = (char)(ut_hexval(p[1]) * 16 + ut_hexval(p[2]));
					p += 2;
				} else if (*p == '\\' && p[1] != '\0') {
					buf[n++] = *++p;
				} else {
					buf[n++] = *p;
				}
			}
			buf[n] = '\0';
			return;
		}
		at_start = 0;
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == ',' || *p == '+')
			at_start = 1;
		p++;
	}
}

void inv_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "@%lld", (long long)t);
}

/* pkcs11: URI attributes are separated by ';' (path) and '&' or '?' (query). */
void inv_uri_redact(const char *uri, char *buf, size_t cap)
{
	size_t n = 0, len;
	const char *p = uri, *end;

	if (cap == 0)
		return;
	buf[0] = '\0';
	while (p != NULL && *p != '\0') {
		end = p + strcspn(p + 1, ";?&") + 1;
		len = (size_t)(end - p);
		if (p == uri && strncmp(p, "pkcs11:pin-", 11) == 0)
			len = 7; /* keep "pkcs11:" only */
		if (!(p != uri && strncmp(p + 1, "pin-", 4) == 0) && n + len < cap) {
			memcpy(buf + n, p, len);
			n += len;
		}
		p = end;
	}
	buf[n] = '\0';
}

offca_rc inv_pending_count(ca_store *st, size_t *n)
{
	ca_pending *p = NULL;
	offca_rc rc = ca_store_pending_list(st, &p, n);

	if (rc == OFFCA_OK)
		ca_pending_list_free(p, *n);
	return rc;
}
