/*
 * publish.c - offca publish: one relay object per endpoint of an issuer (offca/publish.h).
 * An endpoint is a key: every certificate of the issuer (CA certificates left out) is grouped by
 * the SHA-256 of its SubjectPublicKeyInfo; the newest one of each group is delivered, encrypted to
 * that key. A key with any revoked certificate, or whose newest certificate has expired, gets
 * nothing. Numbers first (sequence.json), then the objects, then one audit entry.
 */
#include "publish_int.h"
#include "sign_int.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ep {
	unsigned char key[32];  /* SPKI hash */
	unsigned char fp[32];   /* certificate fingerprint */
	int64_t issued, not_after;
	int revoked;
} ep;

typedef struct collect {
	ep *v;
	size_t n, cap;
	offca_rc rc;
} collect;

static int collect_cb(void *arg, const ca_cert_record *r)
{
	collect *c = arg;
	const unsigned char *p = r->der;
	X509 *x = d2i_X509(NULL, &p, (long)r->der_len);
	ep *e;

	if (x == NULL) {
		c->rc = ut_err_ssl(OFFCA_E_STORE, "a certificate record does not parse");
		return 1;
	}
	if (X509_check_ca(x) != 0) {
		X509_free(x);
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		ep *v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL) {
			X509_free(x);
			c->rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	e = &c->v[c->n];
	if ((c->rc = ca_pub_key_hash(X509_get0_pubkey(x), e->key)) == OFFCA_OK) {
		memcpy(e->fp, r->sha256, 32);
		e->issued = r->issued_at;
		e->not_after = r->not_after;
		e->revoked = r->status == CA_CERT_REVOKED;
		c->n++;
	}
	X509_free(x);
	return c->rc != OFFCA_OK;
}

/* by key, newest last */
static int ep_cmp(const void *a, const void *b)
{
	const ep *x = a, *y = b;
	int d = memcmp(x->key, y->key, 32);

	if (d != 0)
		return d;
	if (x->issued != y->issued)
		return x->issued < y->issued ? -1 : 1;
	return memcmp(x->fp, y->fp, 32);
}

/* keep the newest certificate of each key that may get an object; count the others */
static size_t select_targets(ep *v, size_t n, const ca_publish_opts *o, ca_publish_result *res)
{
	size_t out = 0, i = 0;
	int64_t now = (int64_t)time(NULL);

	qsort(v, n, sizeof(*v), ep_cmp);
	while (i < n) {
		size_t j = i;
		int revoked = 0;

		for (; j < n && memcmp(v[j].key, v[i].key, 32) == 0; j++)
			revoked |= v[j].revoked;
		if (revoked)
			res->skipped_revoked++;
		else if (v[j - 1].not_after < now)
			res->skipped_expired++;
		else if (v[j - 1].issued >= o->since)
			v[out++] = v[j - 1];
		i = j;
	}
	return out;
}

/* the signer's parents without the root: the certificates SignedData carries */
static STACK_OF(X509) *signer_parents(const ca_signer *s)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	for (int i = 1; sk != NULL && i < sk_X509_num(s->chain); i++) {
		X509 *x = sk_X509_value(s->chain, i);

		if (X509_check_issued(x, x) == X509_V_OK)
			continue;
		if (!X509_up_ref(x) || sk_X509_push(sk, x) <= 0) {
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
	}
	return sk;
}

/* the content for certificate fp (its chain without the root) */
static offca_rc make_content(ca_store *st, const unsigned char fp[32], ca_pub_content *c)
{
	ca_cert_record r = {0};
	unsigned char **ders = NULL;
	size_t *lens = NULL, n = 0;
	offca_rc rc = ca_store_cert_by_fingerprint(st, fp, &r);

	if (rc == OFFCA_OK)
		rc = ca_x509_from_der(r.der, r.der_len, &c->cert);
	if (rc == OFFCA_OK)
		rc = ca_store_chain(st, &r, &ders, &lens, &n);
	if (rc == OFFCA_OK && (c->chain = sk_X509_new_null()) == NULL)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		X509 *x = NULL;

		if ((rc = ca_x509_from_der(ders[i], lens[i], &x)) != OFFCA_OK)
			break;
		if (X509_check_issued(x, x) == X509_V_OK || sk_X509_push(c->chain, x) <= 0)
			X509_free(x);
	}
	ca_der_list_free(ders, lens, n);
	ca_cert_record_clear(&r);
	return rc;
}

typedef struct job {
	ca_signer *s;
	ca_store *st;
	STACK_OF(X509) *parents;
	const char *dir;
} job;

/* seal content c to recipient and stage DIR/<endpoint hex> (named in res) */
static offca_rc write_object(const job *j, const ca_pub_content *c, X509 *recipient, ca_publish_result *res)
{
	unsigned char *der = NULL, *obj = NULL;
	size_t len = 0, olen = 0;
	char hex[65];
	offca_rc rc = ca_pub_content_encode(c, &der, &len);

	if (rc == OFFCA_OK)
		rc = ca_pub_seal(der, len, j->s->cert, j->s->priv, j->parents, recipient, &obj, &olen);
	OPENSSL_clear_free(der, len);
	ca_pub_hex(c->endpoint, hex);
	if (rc == OFFCA_OK)
		rc = pub_out_stage(j->dir, hex, obj, olen);
	if (rc == OFFCA_OK)
		memcpy(res->names[res->written++], hex, sizeof(hex));
	OPENSSL_free(obj);
	return rc;
}

/* number every target (same certificate: same number), then save the numbers */
static offca_rc number(const char *home, ep *v, size_t n, uint64_t *seqs, ca_publish_result *res)
{
	pub_seq sq;
	char hex[65], fph[65];
	int same = 0;
	offca_rc rc = pub_seq_load(home, &sq);

	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		ca_pub_hex(v[i].key, hex);
		ca_pub_hex(v[i].fp, fph);
		rc = pub_seq_next(&sq, hex, fph, &seqs[i], &same);
		res->unchanged_seq += same;
	}
	if (rc == OFFCA_OK)
		rc = pub_seq_save(&sq);
	pub_seq_free(&sq);
	return rc;
}

static offca_rc publish_all(const job *j, ep *v, size_t n, ca_publish_result *res)
{
	uint64_t *seqs = calloc(n ? n : 1, sizeof(*seqs));
	offca_rc rc = seqs != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");

	if (rc == OFFCA_OK)
		rc = number(ca_store_home(j->st), v, n, seqs, res);
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		ca_pub_content c = {0};

		memcpy(c.endpoint, v[i].key, 32);
		c.sequence = seqs[i];
		if ((rc = make_content(j->st, v[i].fp, &c)) == OFFCA_OK)
			rc = write_object(j, &c, c.cert, res);
		ca_pub_content_clear(&c);
	}
	free(seqs);
	return rc;
}

/* the newest unrevoked certificate of the key hashed kh among v (sorted), or NULL */
static const ep *newest_of(const ep *v, size_t n, const unsigned char kh[32])
{
	const ep *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (memcmp(v[i].key, kh, 32) != 0)
			continue;
		if (v[i].revoked)
			return NULL;
		best = &v[i];
	}
	return best;
}

static int key_revoked(const ep *v, size_t n, const unsigned char kh[32])
{
	for (size_t i = 0; i < n; i++)
		if (v[i].revoked && memcmp(v[i].key, kh, 32) == 0)
			return 1;
	return 0;
}

/* an issuer-generated key and its newest certificate, to the endpoint holding certificate `to` */
static offca_rc deliver(const job *j, ep *v, size_t n, const ca_publish_opts *o, ca_publish_result *res)
{
	ca_cert_record to = {0};
	ca_pub_content c = {0};
	X509 *rcpt = NULL;
	unsigned char kh[32];
	const ep *e;
	ep target;
	offca_rc rc = ca_store_cert_find(j->st, o->deliver_to, &to);

	if (rc == OFFCA_OK && to.status == CA_CERT_REVOKED)
		rc = ut_err(OFFCA_E_STATE, "certificate %s is revoked: its endpoint gets nothing", o->deliver_to);
	if (rc == OFFCA_OK)
		rc = ca_x509_from_der(to.der, to.der_len, &rcpt);
	if (rc == OFFCA_OK)
		rc = ca_pub_key_hash(o->deliver_key, kh);
	qsort(v, n, sizeof(*v), ep_cmp);
	if (rc == OFFCA_OK && (e = newest_of(v, n, kh)) == NULL)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no valid certificate of issuer '%s' for the delivered key",
			    j->s->iss.name);
	if (rc == OFFCA_OK) {
		target = *e;
		rc = ca_pub_key_hash(X509_get0_pubkey(rcpt), target.key);
	}
	if (rc == OFFCA_OK && key_revoked(v, n, target.key))
		rc = ut_err(OFFCA_E_STATE, "the key of certificate %s has a revoked certificate: its endpoint gets nothing",
			    o->deliver_to);
	if (rc == OFFCA_OK)
		rc = number(ca_store_home(j->st), &target, 1, &c.sequence, res);
	if (rc == OFFCA_OK && (rc = make_content(j->st, target.fp, &c)) == OFFCA_OK && EVP_PKEY_up_ref(o->deliver_key)) {
		c.key = o->deliver_key;
		memcpy(c.endpoint, target.key, 32);
		rc = write_object(j, &c, rcpt, res);
	}
	ca_pub_content_clear(&c);
	X509_free(rcpt);
	ca_cert_record_clear(&to);
	return rc;
}

static void audit(ca_store *st, const ca_signer *s, const ca_publish_opts *o, const ca_publish_result *res)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:I}", "issuer", s->iss.name, "dir", o->out_dir, "objects",
			      (json_int_t)res->written, "revoked_skipped", (json_int_t)res->skipped_revoked);
	char *js;

	if (j != NULL && o->deliver_to != NULL)
		json_object_set_new(j, "key_delivered_to", json_string(o->deliver_to));
	js = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (js != NULL)
		(void)ca_store_audit(st, "relay-publish", js); /* the objects are out: a failed entry is only logged */
	free(js);
	json_decref(j);
}

void ca_publish_result_clear(ca_publish_result *r)
{
	free(r->names);
	memset(r, 0, sizeof(*r));
}

offca_rc ca_publish(ca_signer *s, ca_store *st, const ca_publish_opts *o, ca_publish_result *res)
{
	collect c = {0};
	job j = {s, st, NULL, o->out_dir};
	offca_rc rc;

	memset(res, 0, sizeof(*res));
	if (s->priv == NULL)
		return ut_err(OFFCA_E_STATE, "no key attached to issuer '%s'", s->iss.name);
	if ((o->deliver_key == NULL) != (o->deliver_to == NULL))
		return ut_err(OFFCA_E_USAGE, "a delivered key needs the endpoint's certificate, and back");
	if ((rc = ut_mkdir_p(o->out_dir, 0700)) != OFFCA_OK)
		return rc;
	rc = ca_store_cert_each(st, s->iss.name, 0, 0, collect_cb, &c);
	if (rc == OFFCA_OK)
		rc = c.rc;
	if (rc == OFFCA_OK && ((j.parents = signer_parents(s)) == NULL ||
			       (res->names = calloc(c.n ? c.n : 1, sizeof(*res->names))) == NULL))
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	if (rc == OFFCA_OK && o->deliver_key != NULL)
		rc = deliver(&j, c.v, c.n, o, res);
	else if (rc == OFFCA_OK)
		rc = publish_all(&j, c.v, select_targets(c.v, c.n, o, res), res);
	if (rc == OFFCA_OK)
		rc = pub_out_commit(o->out_dir, (const char (*)[65])res->names, res->written);
	if (rc != OFFCA_OK && res->names != NULL) { /* any renamed one is a complete object */
		pub_out_drop(o->out_dir, (const char (*)[65])res->names, res->written);
		res->written = 0;
	}
	if (res->written > 0)
		audit(st, s, o, res);
	sk_X509_pop_free(j.parents, X509_free);
	free(c.v);
	return rc;
}
