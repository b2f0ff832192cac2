/*
 * audit_log.c - the append-only, hash-chained audit log inside the CA store.
 *
 * Entry seq (key: be64 seq, seq = 1, 2, ...), value version 1:
 *   u8 version=1 | i64 time | str action | str detail | prev_hash[32] | hash[32]
 * hash = SHA-256( "offca-audit-v1\0" || be64 seq || be64 time || be32 len(action) || action ||
 *                 be32 len(detail) || detail || prev_hash )
 * prev_hash of entry 1 is 32 zero bytes. The meta key "audit_head" holds be64 seq || hash of the
 * last entry, updated in the same transaction, so a truncated tail is detected too.
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_VERSION 1u
#define AUDIT_DOMAIN "offca-audit-v1"
#define HEAD_KEY "audit_head"

/* The entry hash with the digest context md (re-initialised) and implementation type. */
static offca_rc entry_hash_md(EVP_MD_CTX *md, const EVP_MD *type, uint64_t seq, int64_t t, const char *action,
			      size_t alen, const char *detail, size_t dlen, const unsigned char prev[32],
			      unsigned char out[32])
{
	unsigned char b8[8], b4[4];
	int ok;

	ok = EVP_DigestInit_ex2(md, type, NULL);
	ok = ok && EVP_DigestUpdate(md, AUDIT_DOMAIN, sizeof(AUDIT_DOMAIN)); /* with its NUL */
	ca_be64_put(b8, seq);
	ok = ok && EVP_DigestUpdate(md, b8, 8);
	ca_be64_put(b8, (uint64_t)t);
	ok = ok && EVP_DigestUpdate(md, b8, 8);
	b4[0] = (unsigned char)(alen >> 24); b4[1] = (unsigned char)(alen >> 16);
	b4[2] = (unsigned char)(alen >> 8); b4[3] = (unsigned char)alen;
	ok = ok && EVP_DigestUpdate(md, b4, 4) && EVP_DigestUpdate(md, action, alen);
	b4[0] = (unsigned char)(dlen >> 24); b4[1] = (unsigned char)(dlen >> 16);
	b4[2] = (unsigned char)(dlen >> 8); b4[3] = (unsigned char)dlen;
	ok = ok && EVP_DigestUpdate(md, b4, 4) && EVP_DigestUpdate(md, detail, dlen);
	ok = ok && EVP_DigestUpdate(md, prev, 32) && EVP_DigestFinal_ex(md, out, NULL);
	if (!ok)
		return ut_err_ssl(OFFCA_E_CRYPTO, "audit log: SHA-256 failed");
	return OFFCA_OK;
}

static offca_rc entry_hash(uint64_t seq, int64_t t, const char *action, size_t alen, const char *detail,
			   size_t dlen, const unsigned char prev[32], unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	offca_rc rc;

	if (md == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = entry_hash_md(md, EVP_sha256(), seq, t, action, alen, detail, dlen, prev, out);
	EVP_MD_CTX_free(md);
	return rc;
}

static offca_rc check_text(const char *action, const char *detail)
{
	size_t n;

	if (action == NULL || action[0] == '\0' || strnlen(action, CA_STORE_MAX_ACTION + 1) > CA_STORE_MAX_ACTION)
		return ut_err(OFFCA_E_USAGE, "audit: action missing or longer than %u bytes", CA_STORE_MAX_ACTION);
	for (const char *p = action; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return ut_err(OFFCA_E_USAGE, "audit: action '%s' may only hold a-z, 0-9 and '-'", action);
	n = detail ? strnlen(detail, CA_STORE_MAX_DETAIL + 1) : 0;
	if (n > CA_STORE_MAX_DETAIL)
		return ut_err(OFFCA_E_TOO_BIG, "audit: detail longer than %u bytes", CA_STORE_MAX_DETAIL);
	if (detail != NULL && (strchr(detail, '\n') != NULL || strchr(detail, '\r') != NULL))
		return ut_err(OFFCA_E_USAGE, "audit: detail must be one line");
	return OFFCA_OK;
}

/* Read the head (seq, hash) inside txn; an empty log gives seq 0 and zero hash. */
static offca_rc read_head(ca_store *st, MDB_txn *txn, uint64_t *seq, unsigned char hash[32])
{
	MDB_val k = {sizeof(HEAD_KEY) - 1, HEAD_KEY}, v;
	int r = mdb_get(txn, st->dbi[DB_META], &k, &v);

	*seq = 0;
	memset(hash, 0, 32);
	if (r == MDB_NOTFOUND)
		return OFFCA_OK;
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "audit log head");
	if (v.mv_size != 40)
		return ut_err(OFFCA_E_VERIFY, "audit log head is malformed");
	*seq = ca_be64_get(v.mv_data);
	memcpy(hash, (const unsigned char *)v.mv_data + 8, 32);
	return OFFCA_OK;
}

offca_rc ca_audit_tail_load(ca_store *st, MDB_txn *txn, ca_audit_tail *t)
{
	offca_rc rc;

	ca_audit_tail_clear(t);
	t->md_ctx = EVP_MD_CTX_new();
	t->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (t->md_ctx == NULL || t->md == NULL) {
		ca_audit_tail_clear(t);
		return ut_err_ssl(OFFCA_E_CRYPTO, "audit log: no SHA-256");
	}
	rc = read_head(st, txn, &t->seq, t->hash);
	if (rc != OFFCA_OK) {
		ca_audit_tail_clear(t);
		return rc;
	}
	t->loaded = 1;
	return OFFCA_OK;
}

offca_rc ca_audit_tail_append(ca_store *st, MDB_txn *txn, ca_audit_tail *t, const char *action,
			      const char *detail)
{
	unsigned char hash[32], key[8], *p;
	uint64_t seq;
	int64_t now = (int64_t)time(NULL);
	size_t alen, dlen, len;
	MDB_val k = {8, key}, v;
	offca_rc rc;
	int r;

	if (!t->loaded)
		return ut_err(OFFCA_E_INTERNAL, "audit log: tail not loaded");
	rc = check_text(action, detail);
	if (rc != OFFCA_OK)
		return rc;
	if (detail == NULL)
		detail = "";
	alen = strlen(action);
	dlen = strlen(detail);
	seq = t->seq + 1;
	rc = entry_hash_md(t->md_ctx, t->md, seq, now, action, alen, detail, dlen, t->hash, hash);
	if (rc != OFFCA_OK)
		return rc;
	/* u8 version | i64 time | str action | str detail | prev_hash | hash, written in place */
	len = 1 + 8 + 4 + alen + 4 + dlen + 32 + 32;
	ca_be64_put(key, seq);
	v.mv_size = len;
	v.mv_data = NULL;
	r = mdb_put(txn, st->dbi[DB_AUDIT], &k, &v, MDB_NOOVERWRITE | MDB_APPEND | MDB_RESERVE);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "appending to the audit log");
	p = v.mv_data;
	*p++ = AUDIT_VERSION;
	ca_be64_put(p, (uint64_t)now);
	p += 8;
	p[0] = 0; p[1] = 0; p[2] = (unsigned char)(alen >> 8); p[3] = (unsigned char)alen;
	memcpy(p + 4, action, alen);
	p += 4 + alen;
	p[0] = 0; p[1] = 0; p[2] = (unsigned char)(dlen >> 8); p[3] = (unsigned char)dlen;
	memcpy(p + 4, detail, dlen);
	p += 4 + dlen;
	memcpy(p, t->hash, 32);
	memcpy(p + 32, hash, 32);
	t->seq = seq;
	memcpy(t->hash, hash, 32);
	t->dirty = 1;
	return OFFCA_OK;
}

offca_rc ca_audit_tail_flush(ca_store *st, MDB_txn *txn, ca_audit_tail *t)
{
	unsigned char head[40];
	MDB_val hk = {sizeof(HEAD_KEY) - 1, HEAD_KEY}, hv = {40, head};
	int r;

	if (!t->dirty)
		return OFFCA_OK;
	ca_be64_put(head, t->seq);
	memcpy(head + 8, t->hash, 32);
	r = mdb_put(txn, st->dbi[DB_META], &hk, &hv, 0);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "appending to the audit log");
	t->dirty = 0;
	return OFFCA_OK;
}

void ca_audit_tail_clear(ca_audit_tail *t)
{
	if (t == NULL)
		return;
	EVP_MD_CTX_free(t->md_ctx);
	EVP_MD_free(t->md);
	memset(t, 0, sizeof(*t));
}

offca_rc ca_audit_append_txn(ca_store *st, MDB_txn *txn, const char *action, const char *detail)
{
	return ca_audit_append_txn_seq(st, txn, action, detail, NULL);
}

offca_rc ca_audit_append_txn_seq(ca_store *st, MDB_txn *txn, const char *action, const char *detail,
				 uint64_t *seq)
{
	ca_audit_tail t = {0};
	offca_rc rc;

	if (detail == NULL)
		detail = "";
	rc = check_text(action, detail);
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_load(st, txn, &t);
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_append(st, txn, &t, action, detail);
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_flush(st, txn, &t);
	if (rc == OFFCA_OK && seq != NULL)
		*seq = t.seq;
	ca_audit_tail_clear(&t);
	return rc;
}

char *ca_audit_json(const char *fmt, ...)
{
	json_t *j;
	json_error_t jerr;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	j = json_vpack_ex(&jerr, 0, fmt, ap);
	va_end(ap);
	if (j == NULL) {
		ut_err(OFFCA_E_INTERNAL, "audit detail: %s", jerr.text);
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL)
		ut_err(OFFCA_E_NOMEM, "out of memory");
	else if (strlen(s) > CA_STORE_MAX_DETAIL) {
		free(s);
		s = NULL;
		ut_err(OFFCA_E_TOO_BIG, "audit detail longer than %u bytes", CA_STORE_MAX_DETAIL);
	}
	return s;
}

/* Actions only the store writes (their details are checked against the records). */
static const char *const store_actions[] = {"init", "reserve", "sign", "void", "void-stale", "revoke",
					    "issuer-add", "pending-add", "checkpoint", NULL};

offca_rc ca_store_audit(ca_store *st, const char *action, const char *detail)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	for (int i = 0; action != NULL && store_actions[i] != NULL; i++)
		if (strcmp(action, store_actions[i]) == 0)
			return ut_err(OFFCA_E_USAGE, "audit action '%s' is written by the store itself", action);
	rc = ca_st_check_no_batch(st, "appending to the audit log");
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_audit_append_txn(st, txn, action, detail);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ca_st_commit(txn, "appending to the audit log");
}

/* Decode one entry value; action/detail point into buffers of the caller. */
static offca_rc decode_entry(const MDB_val *v, ca_audit_entry *e, char *action, size_t acap, char *detail,
			     size_t dcap)
{
	ca_rcur c = {v->mv_data, v->mv_size, 0};

	if (ca_rc_u8(&c) != AUDIT_VERSION)
		c.bad = 1;
	e->time = ca_rc_i64(&c);
	ca_rc_str(&c, CA_STORE_MAX_ACTION, action, acap);
	ca_rc_str(&c, CA_STORE_MAX_DETAIL, detail, dcap);
	ca_rc_bytes(&c, e->prev_hash, 32);
	ca_rc_bytes(&c, e->hash, 32);
	if (c.bad || c.left != 0)
		return OFFCA_E_VERIFY;
	e->action = action;
	e->detail = detail;
	return OFFCA_OK;
}

struct walk {
	ca_audit_cb cb;
	void *arg;
	uint64_t from;
	int verify;
	uint64_t count;
};

/* Walk every entry in order: with verify, check numbering, the chain and each hash. */
static offca_rc walk(ca_store *st, struct walk *w)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	ca_audit_entry e;
	char action[CA_STORE_MAX_ACTION + 1], *detail = NULL;
	unsigned char prev[32] = {0}, calc[32], head_hash[32];
	uint64_t expect = 1, head_seq = 0;
	offca_rc rc = ca_st_begin(st, 1, &txn);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	detail = malloc(CA_STORE_MAX_DETAIL + 1);
	if (detail == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = read_head(st, txn, &head_seq, head_hash);
	if (rc != OFFCA_OK)
		goto out;
	r = mdb_cursor_open(txn, st->dbi[DB_AUDIT], &cur);
	if (r != MDB_SUCCESS) {
		rc = ca_st_rc(r, "reading the audit log");
		goto out;
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == MDB_SUCCESS; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		memset(&e, 0, sizeof(e));
		if (k.mv_size != 8) {
			rc = ut_err(OFFCA_E_VERIFY, "audit log: entry after #%llu has a malformed key",
				    (unsigned long long)(expect - 1));
			goto out;
		}
		e.seq = ca_be64_get(k.mv_data);
		if (w->verify && e.seq != expect) {
			rc = ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is missing (next entry is #%llu)",
				    (unsigned long long)expect, (unsigned long long)e.seq);
			goto out;
		}
		if (decode_entry(&v, &e, action, sizeof(action), detail, CA_STORE_MAX_DETAIL + 1) != OFFCA_OK) {
			rc = ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is malformed", (unsigned long long)e.seq);
			goto out;
		}
		if (w->verify) {
			if (memcmp(e.prev_hash, prev, 32) != 0) {
				rc = ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu does not chain to entry #%llu",
					    (unsigned long long)e.seq, (unsigned long long)(e.seq - 1));
				goto out;
			}
			rc = entry_hash(e.seq, e.time, action, strlen(action), detail, strlen(detail), prev, calc);
			if (rc != OFFCA_OK)
				goto out;
			if (memcmp(calc, e.hash, 32) != 0) {
				rc = ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu (%s) was modified: its hash does not match",
					    (unsigned long long)e.seq, action);
				goto out;
			}
			memcpy(prev, e.hash, 32);
		}
		expect = e.seq + 1;
		w->count++;
		if (w->cb != NULL && e.seq >= w->from && w->cb(w->arg, &e) != 0)
			break;
	}
	if (r != MDB_SUCCESS && r != MDB_NOTFOUND) {
		rc = ca_st_rc(r, "reading the audit log");
		goto out;
	}
	if (w->verify && (head_seq != expect - 1 || memcmp(head_hash, prev, 32) != 0)) {
		rc = ut_err(OFFCA_E_VERIFY, "audit log: the head records entry #%llu but the log ends at #%llu "
			    "(entries removed or head altered)", (unsigned long long)head_seq,
			    (unsigned long long)(expect - 1));
		goto out;
	}
	rc = OFFCA_OK;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	free(detail);
	return rc;
}

offca_rc ca_store_audit_verify(ca_store *st, uint64_t *count)
{
	struct walk w = {NULL, NULL, 0, 1, 0};
	offca_rc rc;

	if (count != NULL)
		*count = 0;
	rc = walk(st, &w);
	if (rc == OFFCA_OK && w.count == 0)
		rc = ut_err(OFFCA_E_VERIFY, "audit log is empty (the init entry is missing)");
	if (rc == OFFCA_OK && count != NULL)
		*count = w.count;
	return rc;
}

offca_rc ca_store_audit_each(ca_store *st, uint64_t from, ca_audit_cb cb, void *arg)
{
	struct walk w = {cb, arg, from, 0, 0};

	if (cb == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_audit_each: no callback");
	return walk(st, &w);
}

offca_rc ca_audit_head_txn(ca_store *st, MDB_txn *txn, uint64_t *seq, unsigned char hash[32])
{
	return read_head(st, txn, seq, hash);
}

/* The prev_hash of entry seq (the 64 bytes before its end are prev_hash || hash). */
static offca_rc next_prev_hash(ca_store *st, MDB_txn *txn, uint64_t seq, unsigned char prev[32])
{
	unsigned char key[8];
	MDB_val k = {8, key}, v;
	int r;

	ca_be64_put(key, seq);
	r = mdb_get(txn, st->dbi[DB_AUDIT], &k, &v);
	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is missing", (unsigned long long)seq);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the audit log");
	if (v.mv_size < 1 + 8 + 4 + 4 + 64)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is malformed", (unsigned long long)seq);
	memcpy(prev, (const unsigned char *)v.mv_data + v.mv_size - 64, 32);
	return OFFCA_OK;
}

offca_rc ca_audit_entry_get(ca_store *st, MDB_txn *txn, uint64_t seq, ca_audit_entry *e, char *action,
			    char *detail)
{
	unsigned char key[8], calc[32], next[32], head_hash[32];
	unsigned long long n = (unsigned long long)seq;
	uint64_t head_seq = 0;
	MDB_val k = {8, key}, v;
	offca_rc rc;
	int r;

	memset(e, 0, sizeof(*e));
	ca_be64_put(key, seq);
	r = mdb_get(txn, st->dbi[DB_AUDIT], &k, &v);
	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is missing", n);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the audit log");
	if (decode_entry(&v, e, action, CA_STORE_MAX_ACTION + 1, detail, CA_STORE_MAX_DETAIL + 1) != OFFCA_OK)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is malformed", n);
	e->seq = seq;
	rc = entry_hash(seq, e->time, action, strlen(action), detail, strlen(detail), e->prev_hash, calc);
	if (rc != OFFCA_OK)
		return rc;
	if (memcmp(calc, e->hash, 32) != 0)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu (%s) was modified: its hash does not match", n, action);
	rc = read_head(st, txn, &head_seq, head_hash);
	if (rc != OFFCA_OK)
		return rc;
	if (seq > head_seq)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu lies beyond the head (#%llu)", n,
			      (unsigned long long)head_seq);
	if (seq == head_seq)
		rc = memcmp(head_hash, e->hash, 32) == 0 ? OFFCA_OK :
			ut_err(OFFCA_E_VERIFY, "audit log: the head does not chain to entry #%llu", n);
	else if ((rc = next_prev_hash(st, txn, seq + 1, next)) == OFFCA_OK && memcmp(next, e->hash, 32) != 0)
		rc = ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu does not chain to entry #%llu", n + 1, n);
	return rc;
}
