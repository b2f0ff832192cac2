/*
 * store_pending.c - the queue of CSRs waiting to be signed.
 *
 * DB_PENDING: be64 id -> u8 version=1 | i64 received | str source | blob der
 * meta "pending_next": be64 last id handed out (ids are never reused).
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING_VERSION 1u
#define NEXT_KEY "pending_next"

void ca_pending_clear(ca_pending *p)
{
	if (p == NULL)
		return;
	free(p->der);
	memset(p, 0, sizeof(*p));
}

void ca_pending_list_free(ca_pending *arr, size_t n)
{
	for (size_t i = 0; arr != NULL && i < n; i++)
		ca_pending_clear(&arr[i]);
	free(arr);
}

static offca_rc decode_pending(const MDB_val *k, const MDB_val *v, ca_pending *out)
{
	ca_rcur c = {v->mv_data, v->mv_size, 0};
	const unsigned char *der;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (k->mv_size != 8 || ca_rc_u8(&c) != PENDING_VERSION)
		c.bad = 1;
	out->received = ca_rc_i64(&c);
	ca_rc_str(&c, sizeof(out->source) - 1, out->source, sizeof(out->source));
	der = ca_rc_blob(&c, CA_STORE_MAX_DER, &n);
	if (c.bad || c.left != 0 || n == 0) {
		memset(out, 0, sizeof(*out));
		return ut_err(OFFCA_E_STORE, "pending CSR record is malformed (store damaged?)");
	}
	out->id = ca_be64_get(k->mv_data);
	out->der = malloc(n);
	if (out->der == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(out->der, der, n);
	out->len = n;
	return OFFCA_OK;
}

/* The CSR's own audit entry {"id","sha256","source"}, bound to it (store_bind.c). */
static offca_rc bind_one(ca_store *st, MDB_txn *txn, ca_audit_tail *tail, uint64_t id, const char *source,
			 const unsigned char *der, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char h[32], key[8];
	char fp[65], *detail;
	offca_rc rc;

	if (EVP_Digest(der, len, h, NULL, EVP_sha256(), NULL) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
	for (size_t i = 0; i < 32; i++) {
		fp[2 * i] = hx[h[i] >> 4];
		fp[2 * i + 1] = hx[h[i] & 15];
	}
	fp[64] = '\0';
	detail = ca_audit_json("{s:I,s:s,s:s}", "id", (json_int_t)id, "sha256", fp, "source", source);
	if (detail == NULL)
		return ut_err_last();
	rc = ca_audit_tail_append(st, txn, tail, "pending-add", detail);
	free(detail);
	ca_be64_put(key, id);
	if (rc == OFFCA_OK)
		rc = ca_st_bind_put(st, txn, 'p', key, 8, tail->seq);
	return rc;
}

static offca_rc put_one(ca_store *st, MDB_txn *txn, uint64_t id, int64_t now, const char *source,
			const unsigned char *der, size_t len)
{
	unsigned char key[8];
	ca_wbuf b = {0};
	MDB_val k = {8, key}, v;
	int r;

	ca_be64_put(key, id);
	ca_wb_u8(&b, PENDING_VERSION);
	ca_wb_i64(&b, now);
	ca_wb_str(&b, source);
	ca_wb_blob(&b, der, len);
	if (b.failed) {
		ca_wb_free(&b);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	v.mv_size = b.len;
	v.mv_data = b.p;
	r = mdb_put(txn, st->dbi[DB_PENDING], &k, &v, MDB_NOOVERWRITE);
	ca_wb_free(&b);
	return ca_st_rc(r, "queueing a CSR");
}

static offca_rc check_add(const unsigned char *const *ders, const size_t *lens, size_t n, const char *source)
{
	if (ders == NULL || lens == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_add: 1..%u CSRs", CA_STORE_MAX_BATCH);
	if (source == NULL || strnlen(source, 128) > 127)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_add: source missing or longer than 127 bytes");
	for (size_t i = 0; i < n; i++)
		if (ders[i] == NULL || lens[i] == 0 || lens[i] > CA_STORE_MAX_DER)
			return ut_err(OFFCA_E_TOO_BIG, "CSR %zu is empty or larger than %u bytes", i + 1, CA_STORE_MAX_DER);
	return OFFCA_OK;
}

offca_rc ca_store_pending_add(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n,
			      const char *source, uint64_t *ids_out)
{
	return ca_store_pending_add_ex(st, ders, lens, n, source, NULL, ids_out);
}

offca_rc ca_store_pending_add_ex(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n,
				 const char *source, const char *const *item_sources, uint64_t *ids_out)
{
	MDB_txn *txn = NULL;
	MDB_val k = {sizeof(NEXT_KEY) - 1, NEXT_KEY}, v;
	unsigned char nb[8];
	uint64_t next = 0;
	int64_t now = (int64_t)time(NULL);
	char *detail = NULL;
	ca_audit_tail tail = {0};
	offca_rc rc = check_add(ders, lens, n, source);
	int r;

	for (size_t i = 0; rc == OFFCA_OK && item_sources != NULL && i < n; i++)
		if (item_sources[i] != NULL && strnlen(item_sources[i], 128) > 127)
			rc = ut_err(OFFCA_E_USAGE, "ca_store_pending_add: source of CSR %zu longer than 127 bytes", i + 1);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (r == MDB_SUCCESS && v.mv_size == 8)
		next = ca_be64_get(v.mv_data);
	else if (r != MDB_NOTFOUND) {
		rc = r == MDB_SUCCESS ? ut_err(OFFCA_E_STORE, "pending counter malformed") : ca_st_rc(r, "pending counter");
		goto out;
	}
	rc = ca_audit_tail_load(st, txn, &tail);
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		const char *src = item_sources != NULL && item_sources[i] != NULL ? item_sources[i] : source;

		rc = put_one(st, txn, next + 1 + i, now, src, ders[i], lens[i]);
		if (rc == OFFCA_OK)
			rc = bind_one(st, txn, &tail, next + 1 + i, src, ders[i], lens[i]);
	}
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_flush(st, txn, &tail);
	if (rc != OFFCA_OK)
		goto out;
	ca_be64_put(nb, next + n);
	v.mv_size = 8;
	v.mv_data = nb;
	rc = ca_st_rc(mdb_put(txn, st->dbi[DB_META], &k, &v, 0), "pending counter");
	if (rc != OFFCA_OK)
		goto out;
	detail = ca_audit_json("{s:s,s:I,s:I,s:I}", "source", source, "count", (json_int_t)n, "first",
			       (json_int_t)(next + 1), "last", (json_int_t)(next + n));
	rc = detail ? ca_audit_append_txn(st, txn, "import", detail) : ut_err_last();
	if (rc != OFFCA_OK)
		goto out;
	rc = ca_st_commit(txn, "queueing CSRs");
	txn = NULL;
	if (rc == OFFCA_OK && ids_out != NULL)
		for (size_t i = 0; i < n; i++)
			ids_out[i] = next + 1 + i;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	ca_audit_tail_clear(&tail);
	free(detail);
	return rc;
}

offca_rc ca_store_pending_list(ca_store *st, ca_pending **out, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_stat ms;
	ca_pending *arr = NULL;
	size_t cnt = 0;
	offca_rc rc;
	int r;

	if (out == NULL || n == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_list: NULL argument");
	*out = NULL;
	*n = 0;
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_stat(txn, st->dbi[DB_PENDING], &ms);
	if (r == MDB_SUCCESS)
		r = mdb_cursor_open(txn, st->dbi[DB_PENDING], &cur);
	if (r != MDB_SUCCESS) {
		rc = ca_st_rc(r, "listing pending CSRs");
		goto out;
	}
	arr = calloc(ms.ms_entries + 1, sizeof(*arr));
	if (arr == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == MDB_SUCCESS && cnt < ms.ms_entries;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = decode_pending(&k, &v, &arr[cnt]);
		if (rc != OFFCA_OK)
			goto out;
		cnt++;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
	rc = OFFCA_OK;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	ca_pending_list_free(arr, cnt);
	return rc;
}

offca_rc ca_store_pending_get(ca_store *st, uint64_t id, ca_pending *out)
{
	MDB_txn *txn = NULL;
	unsigned char key[8];
	MDB_val k = {8, key}, v;
	offca_rc rc;
	int r;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_get: NULL argument");
	memset(out, 0, sizeof(*out));
	ca_be64_put(key, id);
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_get(txn, st->dbi[DB_PENDING], &k, &v);
	if (r == MDB_NOTFOUND)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no pending CSR #%llu", (unsigned long long)id);
	else if (r != MDB_SUCCESS)
		rc = ca_st_rc(r, "reading a pending CSR");
	else
		rc = decode_pending(&k, &v, out);
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_st_pending_remove_txn(ca_store *st, MDB_txn *txn, const uint64_t *ids, size_t n)
{
	unsigned char key[8];
	MDB_val k = {8, key};
	json_t *arr = NULL;
	char *detail = NULL;
	offca_rc rc = OFFCA_OK;
	int r;

	if (ids == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "removing pending CSRs: 1..%u ids", CA_STORE_MAX_BATCH);
	arr = json_array();
	if (arr == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		ca_be64_put(key, ids[i]);
		r = mdb_del(txn, st->dbi[DB_PENDING], &k, NULL);
		if (r == MDB_NOTFOUND) {
			rc = ut_err(OFFCA_E_NOT_FOUND, "no pending CSR #%llu (already signed or removed?): nothing was "
				    "changed", (unsigned long long)ids[i]);
			goto out;
		}
		rc = ca_st_rc(r, "removing a pending CSR");
		if (rc == OFFCA_OK)
			rc = ca_st_bind_del(st, txn, 'p', key, 8);
		if (rc != OFFCA_OK)
			goto out;
		if (i < 64) /* the detail names the first 64 ids and the count */
			json_array_append_new(arr, json_integer((json_int_t)ids[i]));
	}
	detail = ca_audit_json("{s:I,s:O}", "count", (json_int_t)n, "ids", arr);
	rc = detail ? ca_audit_append_txn(st, txn, "pending-remove", detail) : ut_err_last();
out:
	json_decref(arr);
	free(detail);
	return rc;
}

offca_rc ca_store_pending_remove_many(ca_store *st, const uint64_t *ids, size_t n)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (ids == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_remove_many: 1..%u ids", CA_STORE_MAX_BATCH);
	rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_pending_remove_txn(st, txn, ids, n);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ca_st_commit(txn, "removing pending CSRs");
}

offca_rc ca_store_pending_remove(ca_store *st, uint64_t id)
{
	return ca_store_pending_remove_many(st, &id, 1);
}
