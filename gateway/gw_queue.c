/*
 * gw_queue.c - the queue crosses the air gap as bundle files (transfer/'s format, docs/bundles.md).
 *
 * export: the waiting CSRs as an inbound bundle signed with the gateway's operator key (enrolled on
 * the CA with `offca bundle enroll-operator`). Each CSR item's name carries its provenance, covered
 * by the signature over the manifest: est-RID.tok-TOKENID.p-PROFILE.csr (first enrollment) or
 * est-RID.renew-SERIAL.p-PROFILE.csr (re-enrollment); `offca bundle import` keeps it in the queue.
 *
 * import: an outbound bundle from the CA, accepted only when signed by a CA chaining to a root the
 * gateway pins; each certificate answers the waiting request for the same public key (after its
 * chain is checked against the pinned roots); CRLs are kept (newest per issuer) for the client
 * certificate checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "gw.h"
#include "offca/bundle.h"
#include "offca/util.h"

typedef struct pick {
	xfr_bundle *b;
	int all;
	size_t n;
	char (*rids)[GW_RID_LEN + 1];
	offca_rc rc;
	size_t more;
} pick;

static int add_one(void *arg, const char *key, json_t *q)
{
	pick *p = arg;
	const char *state = json_string_value(json_object_get(q, "state"));
	const char *kind = json_string_value(json_object_get(q, "kind"));
	const char *prof = json_string_value(json_object_get(q, "profile"));
	const char *csr = json_string_value(json_object_get(q, "csr"));
	const char *who = json_string_value(json_object_get(q, strcmp(kind ? kind : "", "renew") == 0 ? "serial" : "token"));
	unsigned char *der = NULL;
	size_t n = 0;
	char name[XFR_MAX_NAME + 1];

	if (state == NULL || kind == NULL || prof == NULL || csr == NULL || who == NULL) {
		p->rc = ut_err(OFFCA_E_STORE, "queue record %s is malformed", key);
		return 1;
	}
	if (strcmp(state, "waiting") != 0 && !(p->all && strcmp(state, "exported") == 0))
		return 0;
	if (p->n >= XFR_MAX_ITEMS) {
		p->more++;
		return 0;
	}
	snprintf(name, sizeof(name), "est-%.16s.%s-%s.p-%s.csr", key, strcmp(kind, "renew") == 0 ? "renew" : "tok", who, prof);
	if ((p->rc = est_b64_decode((const unsigned char *)csr, strlen(csr), GW_MAX_CSR_DER, &der, &n)) == OFFCA_OK)
		p->rc = xfr_bundle_add(p->b, XFR_ITEM_CSR, name, der, n);
	free(der);
	if (p->rc != OFFCA_OK)
		return 1;
	snprintf(p->rids[p->n++], GW_RID_LEN + 1, "%s", key);
	return 0;
}

static offca_rc mark_exported(gw_state *st, const pick *p)
{
	MDB_txn *txn = NULL;
	offca_rc rc = gw_txn_begin(st, &txn);

	for (size_t i = 0; rc == OFFCA_OK && i < p->n; i++) {
		json_t *q = NULL;

		rc = gw_get(st, GW_DB_QUEUE, p->rids[i], &q);
		if (rc == OFFCA_OK) {
			json_object_set_new(q, "state", json_string("exported"));
			json_object_set_new(q, "exported", json_integer((json_int_t)time(NULL)));
			rc = gw_put(st, txn, GW_DB_QUEUE, p->rids[i], q);
		}
		json_decref(q);
	}
	if (txn == NULL)
		return rc;
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return gw_txn_commit(txn);
}

offca_rc gw_queue_export(gw_state *st, const gw_export_opts *o, size_t *n_out)
{
	pick p = {0};
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	offca_rc rc;

	*n_out = 0;
	p.all = o->all;
	p.rids = calloc(XFR_MAX_ITEMS, sizeof(*p.rids));
	if (p.rids == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if ((rc = ut_path_exists(o->out)) == OFFCA_OK) {
		rc = ut_err(OFFCA_E_EXISTS, "%s exists (queue export never overwrites)", o->out);
		goto out;
	}
	if ((rc = xfr_key_file_load(o->key_file, o->pin_file, &key)) != OFFCA_OK ||
	    (rc = xfr_certs_load(o->cert_file, &certs)) != OFFCA_OK)
		goto out;
	if ((rc = xfr_bundle_new(XFR_DIR_IN, "offca-gateway", &p.b)) != OFFCA_OK)
		goto out;
	if ((rc = gw_each(st, GW_DB_QUEUE, add_one, &p)) != OFFCA_OK || (rc = p.rc) != OFFCA_OK)
		goto out;
	if (p.n == 0) {
		rc = ut_err(OFFCA_E_NOT_FOUND, "no request is waiting (nothing exported)");
		goto out;
	}
	chain = sk_X509_new_null();
	for (int i = 1; chain != NULL && i < sk_X509_num(certs); i++)
		sk_X509_push(chain, sk_X509_value(certs, i));
	if ((rc = xfr_bundle_sign(p.b, key, sk_X509_value(certs, 0), chain)) != OFFCA_OK ||
	    (rc = xfr_bundle_write(p.b, o->out)) != OFFCA_OK)
		goto out;
	if ((rc = mark_exported(st, &p)) != OFFCA_OK)
		goto out;
	*n_out = p.n;
	if (p.more > 0)
		gw_log("%zu more requests wait: run queue export again", p.more);
out:
	sk_X509_free(chain);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	xfr_bundle_free(p.b);
	free(p.rids);
	return rc;
}

/* ---- import ---- */

typedef struct want {
	char spki[65];
	char rid[GW_RID_LEN + 1];
	char renews[CA_STORE_SERIAL_HEX]; /* the serial a re-enrollment renews ("" for enrollments) */
	X509 *best;                       /* the newest certificate for this key in the bundle */
} want;

typedef struct wants {
	want *v;
	size_t n, cap;
} wants;

static int collect(void *arg, const char *key, json_t *q)
{
	wants *w = arg;
	const char *state = json_string_value(json_object_get(q, "state"));
	const char *spki = json_string_value(json_object_get(q, "spki"));

	if (state == NULL || spki == NULL || strcmp(state, "issued") == 0 || strlen(spki) != 64)
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 256;
		want *nv = realloc(w->v, nc * sizeof(*nv));

		if (nv == NULL)
			return 1;
		w->v = nv;
		w->cap = nc;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	memcpy(w->v[w->n].spki, spki, 65);
	if (json_is_string(json_object_get(q, "serial")))
		snprintf(w->v[w->n].renews, sizeof(w->v[w->n].renews), "%s", json_string_value(json_object_get(q, "serial")));
	snprintf(w->v[w->n].rid, sizeof(w->v[w->n].rid), "%s", key);
	w->n++;
	return 0;
}

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const want *)a)->spki, ((const want *)b)->spki);
}

/* the certificate's path to a pinned root: leaf + intermediates (root left out) */
static offca_rc cert_path(X509 *leaf, STACK_OF(X509) *roots, STACK_OF(X509) *untrusted, STACK_OF(X509) **path)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *full = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	*path = NULL;
	if (store == NULL || ctx == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(roots, i));
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		rc = ut_err(OFFCA_E_VERIFY, "a certificate in the bundle does not chain to the pinned root: %s",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	full = X509_STORE_CTX_get1_chain(ctx);
	if (full != NULL && sk_X509_num(full) > 1)
		X509_free(sk_X509_pop(full));
	*path = full;
	rc = full != NULL ? OFFCA_OK : OFFCA_E_NOMEM;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static offca_rc answer_one(gw_state *st, MDB_txn *txn, const want *w, X509 *leaf, STACK_OF(X509) *path)
{
	json_t *q = NULL;
	char *p7 = NULL, sh[CA_STORE_SERIAL_HEX];
	size_t n = 0;
	offca_rc rc = est_p7_encode(path, &p7, &n);

	if (rc == OFFCA_OK)
		rc = gw_get(st, GW_DB_QUEUE, w->rid, &q);
	if (rc == OFFCA_OK) {
		gw_serial_hex(leaf, sh);
		json_object_set_new(q, "state", json_string("issued"));
		json_object_set_new(q, "p7", json_string(p7));
		json_object_set_new(q, "issued_serial", json_string(sh));
		json_object_set_new(q, "answered", json_integer((json_int_t)time(NULL)));
		rc = gw_put(st, txn, GW_DB_QUEUE, w->rid, q);
	}
	json_decref(q);
	free(p7);
	return rc;
}

/* remember the newest certificate for each waiting key (a bundle may also hold older ones for the
   same key: the certificate being renewed with --reuse-key is never its own answer) */
static offca_rc pick_cert(wants *w, const xfr_item *it)
{
	BIO *bio = BIO_new_mem_buf(it->data, (int)it->len);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	want key = {0}, *hit;
	unsigned char md[32];
	char sh[CA_STORE_SERIAL_HEX];
	offca_rc rc;

	BIO_free(bio);
	if (x == NULL) {
		const unsigned char *p = it->data;

		x = d2i_X509(NULL, &p, (long)it->len);
	}
	if (x == NULL)
		return ut_err(OFFCA_E_PARSE, "bundle item %s is not a certificate", it->name);
	if ((rc = est_spki_sha256(X509_get0_pubkey(x), md)) != OFFCA_OK)
		goto out;
	for (int i = 0; i < 32; i++)
		snprintf(key.spki + 2 * i, 3, "%02x", md[i]);
	gw_serial_hex(x, sh);
	hit = w->n > 0 ? bsearch(&key, w->v, w->n, sizeof(*w->v), cmp_want) : NULL; /* w->v NULL when empty */
	/* every waiting request for this key (several when keys are reused) */
	while (hit != NULL && hit > w->v && strcmp(hit[-1].spki, key.spki) == 0)
		hit--;
	for (; hit != NULL && hit < w->v + w->n && strcmp(hit->spki, key.spki) == 0; hit++) {
		if (strcmp(hit->renews, sh) == 0)
			continue;
		if (hit->best == NULL || ASN1_TIME_compare(X509_get0_notBefore(x), X509_get0_notBefore(hit->best)) > 0) {
			X509_free(hit->best);
			X509_up_ref(x);
			hit->best = x;
		}
	}
out:
	X509_free(x);
	return rc;
}

static offca_rc answer_all(gw_state *st, MDB_txn *txn, wants *w, STACK_OF(X509) *roots, STACK_OF(X509) *untrusted,
			   size_t *n)
{
	offca_rc rc = OFFCA_OK;

	for (size_t i = 0; i < w->n && rc == OFFCA_OK; i++) {
		STACK_OF(X509) *path = NULL;

		if (w->v[i].best == NULL)
			continue;
		if ((rc = cert_path(w->v[i].best, roots, untrusted, &path)) == OFFCA_OK &&
		    (rc = answer_one(st, txn, &w->v[i], w->v[i].best, path)) == OFFCA_OK)
			(*n)++;
		sk_X509_pop_free(path, X509_free);
	}
	return rc;
}

static offca_rc import_crl(gw_state *st, MDB_txn *txn, const xfr_item *it, STACK_OF(X509) *cas, size_t *n)
{
	BIO *bio = BIO_new_mem_buf(it->data, (int)it->len);
	X509_CRL *crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32];
	char *b64 = NULL, key[65];
	json_t *old = NULL, *rec = NULL;
	ASN1_INTEGER *num;
	long number = 0;
	int dl, ok = 0;
	offca_rc rc;

	BIO_free(bio);
	if (crl == NULL) {
		const unsigned char *p = it->data;

		crl = d2i_X509_CRL(NULL, &p, (long)it->len);
	}
	if (crl == NULL)
		return ut_err(OFFCA_E_PARSE, "bundle item %s is not a CRL", it->name);
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);

		if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			ok = 1;
	}
	if (!ok) {
		rc = ut_err(OFFCA_E_VERIFY, "CRL %s is not signed by a CA of the pinned chain", it->name);
		goto out;
	}
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	number = num != NULL ? ASN1_INTEGER_get(num) : 0;
	ASN1_INTEGER_free(num);
	dl = i2d_X509_NAME(X509_CRL_get_issuer(crl), &der);
	SHA256(der, dl > 0 ? (size_t)dl : 0, md);
	OPENSSL_free(der);
	der = NULL;
	for (int i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", md[i]);
	if (gw_get(st, GW_DB_CRL, key, &old) == OFFCA_OK && json_integer_value(json_object_get(old, "number")) >= number) {
		rc = OFFCA_OK; /* we hold this one or a newer one */
		goto out;
	}
	dl = i2d_X509_CRL(crl, &der);
	if (dl <= 0 || (rc = est_b64_encode(der, (size_t)dl, &b64)) != OFFCA_OK) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rec = json_pack("{s:I,s:s}", "number", (json_int_t)number, "der", b64);
	rc = rec != NULL ? gw_put(st, txn, GW_DB_CRL, key, rec) : ut_err(OFFCA_E_NOMEM, "out of memory");
	if (rc == OFFCA_OK)
		(*n)++;
out:
	json_decref(old);
	json_decref(rec);
	free(b64);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return rc;
}

static offca_rc bundle_certs(const xfr_bundle *b, STACK_OF(X509) *pinned, STACK_OF(X509) **out)
{
	STACK_OF(X509) *all = sk_X509_new_null();

	*out = NULL;
	if (all == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int i = 0; i < sk_X509_num(pinned); i++)
		sk_X509_push(all, sk_X509_value(pinned, i));
	for (size_t i = 0; i < xfr_bundle_count(b); i++) {
		const xfr_item *it = xfr_bundle_item(b, i);
		BIO *bio;
		X509 *x;

		if (it->type != XFR_ITEM_CHAIN)
			continue;
		bio = BIO_new_mem_buf(it->data, (int)it->len);
		while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			sk_X509_push(all, x); /* owned: freed with the stack below (pinned ones are up-ref'd) */
		BIO_free(bio);
	}
	for (int i = 0; i < sk_X509_num(pinned); i++)
		X509_up_ref(sk_X509_value(pinned, i));
	*out = all;
	return OFFCA_OK;
}

offca_rc gw_queue_import(gw_state *st, STACK_OF(X509) *chain, const char *file, size_t *n_certs, size_t *n_crls)
{
	xfr_bundle *b = NULL;
	STACK_OF(X509) *roots = gw_roots_of(chain), *cas = NULL;
	wants w = {0};
	MDB_txn *txn = NULL;
	offca_rc rc;

	*n_certs = *n_crls = 0;
	if ((rc = xfr_bundle_read(file, &b)) != OFFCA_OK)
		goto out;
	if (!xfr_bundle_is_signed(b) || xfr_bundle_direction(b) != XFR_DIR_OUT) {
		rc = ut_err(OFFCA_E_VERIFY, "%s is not an outbound bundle signed by the CA; nothing imported", file);
		goto out;
	}
	if ((rc = xfr_bundle_verify_ca(b, roots)) != OFFCA_OK) {
		rc = ut_err(rc, "%s: %s (the gateway pins its --ca-chain); nothing imported", file, ut_err_msg());
		goto out;
	}
	if ((rc = bundle_certs(b, chain, &cas)) != OFFCA_OK || (rc = gw_each(st, GW_DB_QUEUE, collect, &w)) != OFFCA_OK)
		goto out;
	if (w.n > 0) /* a bundle of CRLs only, with nothing waiting: w.v is NULL, qsort(NULL) is undefined */
		qsort(w.v, w.n, sizeof(*w.v), cmp_want);
	if ((rc = gw_txn_begin(st, &txn)) != OFFCA_OK)
		goto out;
	for (size_t i = 0; rc == OFFCA_OK && i < xfr_bundle_count(b); i++) {
		const xfr_item *it = xfr_bundle_item(b, i);

		if (it->type == XFR_ITEM_CERT)
			rc = pick_cert(&w, it);
		else if (it->type == XFR_ITEM_CRL)
			rc = import_crl(st, txn, it, cas, n_crls);
	}
	if (rc == OFFCA_OK)
		rc = answer_all(st, txn, &w, roots, cas, n_certs);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		rc = ut_err(rc, "%s; nothing imported", ut_err_msg());
	} else
		rc = gw_txn_commit(txn);
out:
	for (size_t i = 0; i < w.n; i++)
		X509_free(w.v[i].best);
	free(w.v);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_pop_free(roots, X509_free);
	xfr_bundle_free(b);
	return rc;
}
