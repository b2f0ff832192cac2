/*
 * store_issuer.c - the issuers (root and intermediates) of this CA.
 *
 * DB_ISSUERS: name -> u8 version=1 | str name | str parent | str key_uri | i64 created |
 *             u8 is_root | u64 order (insertion counter) | blob der
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISSUER_VERSION 1u
#define ORDER_KEY "issuer_next"

void ca_issuer_clear(ca_issuer *iss)
{
	if (iss == NULL)
		return;
	free(iss->der);
	memset(iss, 0, sizeof(*iss));
}

void ca_issuer_list_free(ca_issuer *arr, size_t n)
{
	for (size_t i = 0; arr != NULL && i < n; i++)
		ca_issuer_clear(&arr[i]);
	free(arr);
}

static int name_ok(const char *name)
{
	size_t n = name ? strnlen(name, 64) : 0;

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

static offca_rc decode_issuer(const MDB_val *v, ca_issuer *out, uint64_t *order)
{
	ca_rcur c = {v->mv_data, v->mv_size, 0};
	const unsigned char *der;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (ca_rc_u8(&c) != ISSUER_VERSION)
		c.bad = 1;
	ca_rc_str(&c, sizeof(out->name) - 1, out->name, sizeof(out->name));
	ca_rc_str(&c, sizeof(out->parent) - 1, out->parent, sizeof(out->parent));
	ca_rc_str(&c, sizeof(out->key_uri) - 1, out->key_uri, sizeof(out->key_uri));
	out->created = ca_rc_i64(&c);
	out->is_root = ca_rc_u8(&c) != 0;
	*order = (uint64_t)ca_rc_i64(&c);
	der = ca_rc_blob(&c, CA_STORE_MAX_DER, &len);
	if (c.bad || c.left != 0 || len == 0) {
		memset(out, 0, sizeof(*out));
		return ut_err(OFFCA_E_STORE, "issuer record is malformed (store damaged?)");
	}
	out->der = malloc(len);
	if (out->der == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(out->der, der, len);
	out->der_len = len;
	return OFFCA_OK;
}

static offca_rc next_order(ca_store *st, MDB_txn *txn, uint64_t *order)
{
	MDB_val k = {sizeof(ORDER_KEY) - 1, ORDER_KEY}, v;
	unsigned char b[8];
	int r = mdb_get(txn, st->dbi[DB_META], &k, &v);

	*order = 1;
	if (r == MDB_SUCCESS && v.mv_size == 8)
		*order = ca_be64_get(v.mv_data) + 1;
	else if (r != MDB_NOTFOUND)
		return r == MDB_SUCCESS ? ut_err(OFFCA_E_STORE, "issuer counter malformed") : ca_st_rc(r, "issuer counter");
	ca_be64_put(b, *order);
	v.mv_size = 8;
	v.mv_data = b;
	return ca_st_rc(mdb_put(txn, st->dbi[DB_META], &k, &v, 0), "issuer counter");
}

static offca_rc check_issuer(const ca_issuer *iss)
{
	if (iss == NULL || !name_ok(iss->name))
		return ut_err(OFFCA_E_USAGE, "issuer name must be 1-63 characters of A-Z a-z 0-9 . _ -");
	if (iss->parent[0] != '\0' && !name_ok(iss->parent))
		return ut_err(OFFCA_E_USAGE, "issuer parent name is not a valid issuer name");
	if (strnlen(iss->key_uri, sizeof(iss->key_uri)) >= sizeof(iss->key_uri))
		return ut_err(OFFCA_E_TOO_BIG, "issuer key URI too long");
	if (strstr(iss->key_uri, "pin-value") != NULL)
		return ut_err(OFFCA_E_USAGE, "issuer key URI must not carry a PIN (pin-value): the store holds no secrets");
	if (iss->der == NULL || iss->der_len == 0 || iss->der_len > CA_STORE_MAX_DER)
		return ut_err(OFFCA_E_TOO_BIG, "issuer certificate missing or larger than %u bytes", CA_STORE_MAX_DER);
	return OFFCA_OK;
}

offca_rc ca_st_issuer_add_txn(ca_store *st, MDB_txn *txn, const ca_issuer *iss)
{
	MDB_val k, v;
	ca_wbuf b = {0};
	uint64_t order = 0;
	char *detail = NULL;
	offca_rc rc = check_issuer(iss);
	int r;

	if (rc == OFFCA_OK)
		rc = next_order(st, txn, &order);
	if (rc != OFFCA_OK)
		return rc;
	ca_wb_u8(&b, ISSUER_VERSION);
	ca_wb_str(&b, iss->name);
	ca_wb_str(&b, iss->parent);
	ca_wb_str(&b, iss->key_uri);
	ca_wb_i64(&b, iss->created ? iss->created : (int64_t)time(NULL));
	ca_wb_u8(&b, iss->is_root ? 1 : 0);
	ca_wb_i64(&b, (int64_t)order);
	ca_wb_blob(&b, iss->der, iss->der_len);
	if (b.failed) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	k.mv_size = strlen(iss->name);
	k.mv_data = (void *)iss->name;
	v.mv_size = b.len;
	v.mv_data = b.p;
	r = mdb_put(txn, st->dbi[DB_ISSUERS], &k, &v, MDB_NOOVERWRITE);
	if (r == MDB_KEYEXIST) {
		rc = ut_err(OFFCA_E_EXISTS, "an issuer named '%s' already exists", iss->name);
		goto out;
	}
	rc = ca_st_rc(r, "adding an issuer");
	if (rc != OFFCA_OK)
		goto out;
	detail = ca_audit_json("{s:s,s:s,s:s%,s:b}", "name", iss->name, "parent", iss->parent, "key", iss->key_uri,
			       strcspn(iss->key_uri, "?"), "root", iss->is_root ? 1 : 0);
	rc = detail ? ca_audit_append_txn(st, txn, "issuer-add", detail) : ut_err_last();
out:
	free(detail);
	ca_wb_free(&b);
	return rc;
}

offca_rc ca_store_issuer_add(ca_store *st, const ca_issuer *iss)
{
	MDB_txn *txn = NULL;
	offca_rc rc = check_issuer(iss);

	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_issuer_add_txn(st, txn, iss);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ca_st_commit(txn, "adding an issuer");
}

offca_rc ca_store_issuer_commit(ca_store *st, const ca_cert_record *rec, const ca_issuer *iss)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (rec == NULL || iss == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_issuer_commit: NULL argument");
	if (rec->der_len != iss->der_len || rec->der == NULL || iss->der == NULL ||
	    memcmp(rec->der, iss->der, rec->der_len) != 0)
		return ut_err(OFFCA_E_USAGE, "ca_store_issuer_commit: the record and the issuer hold different certificates");
	rc = check_issuer(iss);
	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_cert_commit_txn(st, txn, rec);
	if (rc == OFFCA_OK)
		rc = ca_st_issuer_add_txn(st, txn, iss);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ca_st_commit(txn, "committing a CA certificate");
}

offca_rc ca_store_issuer_get(ca_store *st, const char *name, ca_issuer *out)
{
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uint64_t order;
	offca_rc rc;
	int r;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_issuer_get: NULL argument");
	memset(out, 0, sizeof(*out));
	if (name == NULL)
		return ca_store_issuer_default(st, out);
	if (!name_ok(name))
		return ut_err(OFFCA_E_NOT_FOUND, "no issuer named '%.64s'", name);
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	k.mv_size = strlen(name);
	k.mv_data = (void *)name;
	r = mdb_get(txn, st->dbi[DB_ISSUERS], &k, &v);
	if (r == MDB_NOTFOUND)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no issuer named '%s' (see 'offca ca list')", name);
	else if (r != MDB_SUCCESS)
		rc = ca_st_rc(r, "reading an issuer");
	else
		rc = decode_issuer(&v, out, &order);
	mdb_txn_abort(txn);
	return rc;
}

/* Every issuer in name order; *orders (may be NULL) gets their insertion counters. */
static offca_rc list_all(ca_store *st, ca_issuer **out, uint64_t **orders, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_stat ms;
	ca_issuer *arr = NULL;
	uint64_t *ord = NULL;
	size_t cnt = 0;
	offca_rc rc = ca_st_begin(st, 1, &txn);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	r = mdb_stat(txn, st->dbi[DB_ISSUERS], &ms);
	if (r == MDB_SUCCESS)
		r = mdb_cursor_open(txn, st->dbi[DB_ISSUERS], &cur);
	if (r != MDB_SUCCESS) {
		rc = ca_st_rc(r, "listing issuers");
		goto out;
	}
	arr = calloc(ms.ms_entries + 1, sizeof(*arr));
	ord = calloc(ms.ms_entries + 1, sizeof(*ord));
	if (arr == NULL || ord == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == MDB_SUCCESS && cnt < ms.ms_entries;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = decode_issuer(&v, &arr[cnt], &ord[cnt]);
		if (rc != OFFCA_OK)
			goto out;
		cnt++;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
	if (orders != NULL) {
		*orders = ord;
		ord = NULL;
	}
	rc = OFFCA_OK;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	ca_issuer_list_free(arr, cnt);
	free(ord);
	return rc;
}

offca_rc ca_store_issuer_list(ca_store *st, ca_issuer **out, size_t *n)
{
	if (out == NULL || n == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_issuer_list: NULL argument");
	*out = NULL;
	*n = 0;
	return list_all(st, out, NULL, n);
}

offca_rc ca_store_issuer_default(ca_store *st, ca_issuer *out)
{
	ca_issuer *arr = NULL;
	uint64_t *ord = NULL;
	size_t n = 0, best = SIZE_MAX, root = SIZE_MAX;
	offca_rc rc;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_issuer_default: NULL argument");
	memset(out, 0, sizeof(*out));
	rc = list_all(st, &arr, &ord, &n);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (arr[i].is_root) {
			if (root == SIZE_MAX || ord[i] > ord[root])
				root = i;
			continue;
		}
		if (best == SIZE_MAX || arr[i].created > arr[best].created ||
		    (arr[i].created == arr[best].created && ord[i] > ord[best]))
			best = i;
	}
	if (best == SIZE_MAX)
		best = root;
	if (best == SIZE_MAX) {
		rc = ut_err(OFFCA_E_STATE, "this CA has no issuer yet: run 'offca ca root' first");
	} else {
		*out = arr[best];
		memset(&arr[best], 0, sizeof(arr[best]));
		rc = OFFCA_OK;
	}
	ca_issuer_list_free(arr, n);
	free(ord);
	return rc;
}
