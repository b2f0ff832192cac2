/* bundle_export.c - outbound bundles from the store: new certificates, the chain, current CRLs. */
#include "bundle_int.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/keyref.h"
#include "offca/store.h"
#include "offca/util.h"

#define MAX_DEPTH 8 /* issuer, its parents, ..., root */

void xfr_export_clear(xfr_export *e)
{
	if (e == NULL)
		return;
	xfr_bundle_free(e->bundle);
	X509_free(e->signer);
	sk_X509_pop_free(e->chain, X509_free);
	memset(e, 0, sizeof(*e));
}

static X509 *der_cert(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* PEM text of a DER object with the given PEM label appended to mem. */
static offca_rc pem_append(BIO *mem, const char *label, const unsigned char *der, size_t len)
{
	if (PEM_write_bio(mem, label, "", der, (long)len) <= 0)
		return ut_err_ssl(OFFCA_E_NOMEM, "cannot encode %s as PEM", label);
	return OFFCA_OK;
}

static offca_rc add_pem(xfr_bundle *b, xfr_item_type t, const char *name, const char *label,
			const unsigned char *der, size_t len)
{
	offca_rc rc;
	BIO *mem = BIO_new(BIO_s_mem());
	BUF_MEM *bm;

	if (mem == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = pem_append(mem, label, der, len);
	if (rc == OFFCA_OK) {
		BIO_get_mem_ptr(mem, &bm);
		rc = xfr_bundle_add(b, t, name, (const unsigned char *)bm->data, bm->length);
	}
	BIO_free(mem);
	return rc;
}

/* The issuer and its ancestors: iss[0] = issuer, iss[k] = root. */
static offca_rc lineage(ca_store *st, const char *name, ca_issuer *iss, size_t *n)
{
	offca_rc rc;

	*n = 0;
	rc = name != NULL ? ca_store_issuer_get(st, name, &iss[0]) : ca_store_issuer_default(st, &iss[0]);
	if (rc != OFFCA_OK)
		return rc;
	*n = 1;
	while (iss[*n - 1].parent[0] != '\0') {
		if (*n == MAX_DEPTH)
			return ut_err(OFFCA_E_STORE, "issuer chain of %s is deeper than %d", iss[0].name, MAX_DEPTH);
		rc = ca_store_issuer_get(st, iss[*n - 1].parent, &iss[*n]);
		if (rc != OFFCA_OK) {
			char prefix[160];

			snprintf(prefix, sizeof(prefix), "issuer %s: parent %s: ", iss[*n - 1].name, iss[*n - 1].parent);
			return xfr_err_wrap(rc, prefix, "");
		}
		(*n)++;
	}
	return OFFCA_OK;
}

struct collect {
	ca_store *st;
	xfr_bundle *b;
	int64_t since;
	const ca_serial *skip;
	size_t n, room;
	offca_rc rc;
};

static int collect_cb(void *arg, const ca_cert_record *r)
{
	struct collect *c = arg;
	char hex[2 * CA_SERIAL_LEN + 1], name[2 * CA_SERIAL_LEN + 8];

	if (r->status != CA_CERT_VALID || r->issued_at < c->since)
		return 0;
	if (c->skip != NULL && memcmp(c->skip->b, r->serial.b, CA_SERIAL_LEN) == 0)
		return 0;
	if (c->n == c->room) {
		c->rc = ut_err(OFFCA_E_TOO_BIG, "more than %zu certificates to export; use a later --since",
			       c->room);
		return 1;
	}
	/* what leaves is what the audit log recorded (docs/store.md, records bound to the audit log) */
	c->rc = ca_store_cert_check(c->st, r);
	if (c->rc != OFFCA_OK)
		return 1;
	snprintf(name, sizeof(name), "%s.pem", ca_serial_hex(&r->serial, hex, sizeof(hex)));
	c->rc = add_pem(c->b, XFR_ITEM_CERT, name, "CERTIFICATE", r->der, r->der_len);
	if (c->rc != OFFCA_OK)
		return 1;
	c->n++;
	return 0;
}

static offca_rc add_chain_and_crls(ca_store *st, xfr_export *e, ca_issuer *iss, size_t n)
{
	offca_rc rc = OFFCA_OK;
	BIO *mem = BIO_new(BIO_s_mem());
	BUF_MEM *bm;
	unsigned char *crl = NULL;
	size_t crl_len = 0;
	char name[96];

	if (mem == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		rc = pem_append(mem, "CERTIFICATE", iss[i].der, iss[i].der_len);
	if (rc == OFFCA_OK) {
		BIO_get_mem_ptr(mem, &bm);
		snprintf(name, sizeof(name), "chain-%.63s.pem", iss[0].name);
		rc = xfr_bundle_add(e->bundle, XFR_ITEM_CHAIN, name, (const unsigned char *)bm->data, bm->length);
	}
	BIO_free(mem);
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		rc = ca_store_crl_current(st, iss[i].name, NULL, NULL, NULL, &crl, &crl_len);
		if (rc == OFFCA_E_NOT_FOUND) {
			ut_err_clear();
			rc = OFFCA_OK;
			continue;
		}
		if (rc != OFFCA_OK)
			break;
		snprintf(name, sizeof(name), "crl-%.63s.pem", iss[i].name);
		rc = add_pem(e->bundle, XFR_ITEM_CRL, name, "X509 CRL", crl, crl_len);
		free(crl);
		crl = NULL;
		e->n_crls += rc == OFFCA_OK;
	}
	return rc;
}

static offca_rc signer_certs(xfr_export *e, ca_issuer *iss, size_t n)
{
	X509 *x;

	e->signer = der_cert(iss[0].der, iss[0].der_len);
	e->chain = sk_X509_new_null();
	if (e->signer == NULL || e->chain == NULL)
		return ut_err_ssl(OFFCA_E_STORE, "issuer %s: stored certificate does not parse", iss[0].name);
	for (size_t i = 1; i < n; i++) {
		x = der_cert(iss[i].der, iss[i].der_len);
		if (x == NULL || sk_X509_push(e->chain, x) <= 0) {
			X509_free(x);
			return ut_err_ssl(OFFCA_E_STORE, "issuer %s: stored certificate does not parse", iss[i].name);
		}
	}
	return OFFCA_OK;
}

/* The one issuer whose recorded key URI the given URI names (ca_key_uri_matches). */
static offca_rc issuer_by_uri(ca_store *st, const char *uri, char name[64])
{
	offca_rc rc;
	ca_issuer *all = NULL;
	size_t n = 0, hits = 0;

	rc = ca_store_issuer_list(st, &all, &n);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (all[i].key_uri[0] != '\0' && ca_key_uri_matches(all[i].key_uri, uri) == OFFCA_OK) {
			snprintf(name, 64, "%s", all[i].name);
			hits++;
		}
	}
	ca_issuer_list_free(all, n);
	if (hits != 1)
		return ut_err(OFFCA_E_NOT_FOUND, "no single issuer in the store has the key %s; name it with --issuer "
			      "or pass --signer-cert", uri);
	return OFFCA_OK;
}

offca_rc xfr_signer_from_store(ca_store *st, const char *issuer, const char *key_uri, xfr_export *out)
{
	offca_rc rc;
	ca_issuer iss[MAX_DEPTH];
	char name[64];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	memset(iss, 0, sizeof(iss));
	if (issuer == NULL && key_uri != NULL) {
		rc = issuer_by_uri(st, key_uri, name);
		if (rc != OFFCA_OK)
			return rc;
		issuer = name;
	}
	rc = lineage(st, issuer, iss, &n);
	if (rc == OFFCA_OK)
		rc = signer_certs(out, iss, n);
	if (rc == OFFCA_OK) {
		snprintf(out->issuer, sizeof(out->issuer), "%s", iss[0].name);
		snprintf(out->key_uri, sizeof(out->key_uri), "%s", iss[0].key_uri);
	}
	for (size_t i = 0; i < MAX_DEPTH; i++)
		ca_issuer_clear(&iss[i]);
	if (rc != OFFCA_OK)
		xfr_export_clear(out);
	return rc;
}

offca_rc xfr_bundle_export(ca_store *st, const xfr_export_opts *o, xfr_export *out)
{
	offca_rc rc;
	ca_issuer iss[MAX_DEPTH];
	ca_cert_record since_rec;
	struct collect c;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	memset(iss, 0, sizeof(iss));
	memset(&since_rec, 0, sizeof(since_rec));
	memset(&c, 0, sizeof(c));
	rc = lineage(st, o->issuer, iss, &n);
	if (rc != OFFCA_OK)
		goto out;
	rc = xfr_bundle_new(XFR_DIR_OUT, iss[0].name, &out->bundle);
	if (rc != OFFCA_OK)
		goto out;
	snprintf(out->issuer, sizeof(out->issuer), "%s", iss[0].name);
	snprintf(out->key_uri, sizeof(out->key_uri), "%s", iss[0].key_uri);
	c.st = st;
	c.b = out->bundle;
	c.since = o->since;
	c.room = XFR_MAX_ITEMS - 1 - n;
	if (o->since_serial != NULL) {
		rc = ca_store_cert_find(st, o->since_serial, &since_rec);
		if (rc != OFFCA_OK)
			goto out;
		c.since = since_rec.issued_at;
		c.skip = &since_rec.serial;
	}
	c.rc = OFFCA_OK;
	rc = ca_store_cert_each(st, iss[0].name, 0, 0, collect_cb, &c);
	if (rc == OFFCA_OK)
		rc = c.rc;
	if (rc != OFFCA_OK)
		goto out;
	out->n_certs = c.n;
	rc = add_chain_and_crls(st, out, iss, n);
	if (rc == OFFCA_OK)
		rc = signer_certs(out, iss, n);
out:
	ca_cert_record_clear(&since_rec);
	for (size_t i = 0; i < MAX_DEPTH; i++)
		ca_issuer_clear(&iss[i]);
	if (rc != OFFCA_OK)
		xfr_export_clear(out);
	return rc;
}

offca_rc xfr_export_audit(ca_store *st, const xfr_export *e)
{
	offca_rc rc;
	const unsigned char *d = xfr_bundle_digest(e->bundle);
	char *hex = d != NULL ? ut_hex(d, 32) : NULL;
	char *text = NULL;
	json_t *o = NULL;

	if (hex == NULL)
		return ut_err(OFFCA_E_STATE, "export bundle not written yet");
	o = json_pack("{s:s, s:s, s:I, s:I, s:b}", "bundle_sha256", hex, "issuer", e->issuer, "certificates",
		      (json_int_t)e->n_certs, "crls", (json_int_t)e->n_crls, "signed",
		      xfr_bundle_is_signed(e->bundle));
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text == NULL)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	else
		rc = ca_store_audit(st, "bundle-export", text);
	free(text);
	json_decref(o);
	free(hex);
	return rc;
}
