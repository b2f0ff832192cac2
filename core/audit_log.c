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

static offca_rc entry_hash(uint64_t seq, int64_t t, const char *action, size_t alen, const char *detail,
			   size_t dlen, const unsigned char prev[32], unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char b8[8], b4[4];
	int ok;

	if (md == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
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
	EVP_MD_CTX_free(md);
	if (!ok)
		return ut_err_ssl(OFFCA_E_CRYPTO, "audit log: SHA-256 failed");
	return OFFCA_OK;
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

offca_rc ca_audit_append_txn(ca_store *st, MDB_txn *txn, const char *action, const char *detail)
{
	unsigned char prev[32], hash[32], key[8], head[40];
	uint64_t seq;
	int64_t now = (int64_t)time(NULL);
	ca_wbuf b = {0};
	MDB_val k = {8, key}, v, hk = {sizeof(HEAD_KEY) - 1, HEAD_KEY}, hv = {40, head};
	offca_rc rc = check_text(action, detail);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	if (detail == NULL)
		detail = "";
	rc = read_head(st, txn, &seq, prev);
	if (rc != OFFCA_OK)
		return rc;
	seq++;
	rc = entry_hash(seq, now, action, strlen(action), detail, strlen(detail), prev, hash);
	if (rc != OFFCA_OK)
		return rc;
	ca_wb_u8(&b, AUDIT_VERSION);
	ca_wb_i64(&b, now);
	ca_wb_str(&b, action);
	ca_wb_str(&b, detail);
	ca_wb_bytes(&b, prev, 32);
	ca_wb_bytes(&b, hash, 32);
	if (b.failed) {
		ca_wb_free(&b);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	ca_be64_put(key, seq);
	v.mv_size = b.len;
	v.mv_data = b.p;
	r = mdb_put(txn, st->dbi[DB_AUDIT], &k, &v, MDB_NOOVERWRITE | MDB_APPEND);
	ca_wb_free(&b);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "appending to the audit log");
	ca_be64_put(head, seq);
	memcpy(head + 8, hash, 32);
	r = mdb_put(txn, st->dbi[DB_META], &hk, &hv, 0);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "appending to the audit log");
	return OFFCA_OK;
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
					    "issuer-add", NULL};

offca_rc ca_store_audit(ca_store *st, const char *action, const char *detail)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	for (int i = 0; action != NULL && store_actions[i] != NULL; i++)
		if (strcmp(action, store_actions[i]) == 0)
			return ut_err(OFFCA_E_USAGE, "audit action '%s' is written by the store itself", action);
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
