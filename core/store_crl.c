/*
 * store_crl.c - the CRL-number ledger and the current CRL of each issuer.
 *
 * DB_CRL: 'n' || issuer -> be64 last allocated CRL number
 *         'c' || issuer -> u8 version=1 | i64 number | i64 thisUpdate | i64 nextUpdate | blob der
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CRL_VERSION 1u

static offca_rc crl_key(char kind, const char *issuer, unsigned char *key, size_t *klen)
{
	size_t n = issuer ? strnlen(issuer, 64) : 0;

	if (n == 0 || n > 63)
		return ut_err(OFFCA_E_USAGE, "CRL ledger: issuer name missing or too long");
	key[0] = (unsigned char)kind;
	memcpy(key + 1, issuer, n);
	*klen = n + 1;
	return OFFCA_OK;
}

static offca_rc last_number(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t *out)
{
	unsigned char key[65];
	MDB_val k, v;
	offca_rc rc = crl_key('n', issuer, key, &k.mv_size);
	int r;

	*out = 0;
	if (rc != OFFCA_OK)
		return rc;
	k.mv_data = key;
	r = mdb_get(txn, st->dbi[DB_CRL], &k, &v);
	if (r == MDB_NOTFOUND)
		return OFFCA_OK;
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the CRL number");
	if (v.mv_size != 8)
		return ut_err(OFFCA_E_STORE, "CRL number of '%s' is malformed (store damaged?)", issuer);
	*out = ca_be64_get(v.mv_data);
	return OFFCA_OK;
}

offca_rc ca_store_crl_next_number(ca_store *st, const char *issuer, uint64_t *out)
{
	MDB_txn *txn = NULL;
	unsigned char key[65], b[8];
	MDB_val k, v = {8, b};
	uint64_t n = 0;
	offca_rc rc;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_crl_next_number: NULL argument");
	*out = 0;
	rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = last_number(st, txn, issuer, &n);
	if (rc == OFFCA_OK && n >= (UINT64_C(1) << 62))
		rc = ut_err(OFFCA_E_STATE, "CRL numbers of '%s' exhausted", issuer);
	if (rc == OFFCA_OK)
		rc = crl_key('n', issuer, key, &k.mv_size);
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	k.mv_data = key;
	ca_be64_put(b, n + 1);
	rc = ca_st_rc(mdb_put(txn, st->dbi[DB_CRL], &k, &v, 0), "allocating a CRL number");
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = ca_st_commit(txn, "allocating a CRL number");
	if (rc == OFFCA_OK)
		*out = n + 1;
	return rc;
}

offca_rc ca_store_crl_record(ca_store *st, const char *issuer, uint64_t number, int64_t this_update,
			     int64_t next_update, const unsigned char *der, size_t len)
{
	MDB_txn *txn = NULL;
	unsigned char key[65];
	MDB_val k, v;
	ca_wbuf b = {0};
	uint64_t last = 0;
	char *detail = NULL;
	offca_rc rc;

	if (der == NULL || len == 0 || len > CA_STORE_MAX_CRL_DER)
		return ut_err(OFFCA_E_TOO_BIG, "CRL missing or larger than %u bytes", CA_STORE_MAX_CRL_DER);
	rc = crl_key('c', issuer, key, &k.mv_size);
	if (rc != OFFCA_OK)
		return rc;
	k.mv_data = key;
	rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = last_number(st, txn, issuer, &last);
	if (rc == OFFCA_OK && (number == 0 || number > last))
		rc = ut_err(OFFCA_E_STATE, "CRL number %llu of '%s' was never allocated", (unsigned long long)number,
			    issuer);
	if (rc != OFFCA_OK)
		goto out;
	ca_wb_u8(&b, CRL_VERSION);
	ca_wb_i64(&b, (int64_t)number);
	ca_wb_i64(&b, this_update);
	ca_wb_i64(&b, next_update);
	ca_wb_blob(&b, der, len);
	if (b.failed) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	v.mv_size = b.len;
	v.mv_data = b.p;
	rc = ca_st_rc(mdb_put(txn, st->dbi[DB_CRL], &k, &v, 0), "recording a CRL");
	if (rc != OFFCA_OK)
		goto out;
	detail = ca_audit_json("{s:s,s:I,s:I,s:I,s:I}", "issuer", issuer, "number", (json_int_t)number,
			       "thisUpdate", (json_int_t)this_update, "nextUpdate", (json_int_t)next_update, "bytes",
			       (json_int_t)len);
	rc = detail ? ca_audit_append_txn(st, txn, "crl", detail) : ut_err_last();
	if (rc != OFFCA_OK)
		goto out;
	rc = ca_st_commit(txn, "recording a CRL");
	txn = NULL;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(detail);
	ca_wb_free(&b);
	return rc;
}

offca_rc ca_store_crl_current(ca_store *st, const char *issuer, uint64_t *number, int64_t *this_update,
			      int64_t *next_update, unsigned char **der, size_t *len)
{
	MDB_txn *txn = NULL;
	unsigned char key[65];
	MDB_val k, v;
	ca_rcur c;
	const unsigned char *p;
	int64_t num, tu, nu;
	size_t n = 0;
	offca_rc rc;
	int r;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	rc = crl_key('c', issuer, key, &k.mv_size);
	if (rc != OFFCA_OK)
		return rc;
	k.mv_data = key;
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_get(txn, st->dbi[DB_CRL], &k, &v);
	if (r != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		if (r == MDB_NOTFOUND)
			return ut_err(OFFCA_E_NOT_FOUND, "no CRL has been issued for '%s' yet", issuer);
		return ca_st_rc(r, "reading the current CRL");
	}
	c.p = v.mv_data;
	c.left = v.mv_size;
	c.bad = 0;
	if (ca_rc_u8(&c) != CRL_VERSION)
		c.bad = 1;
	num = ca_rc_i64(&c);
	tu = ca_rc_i64(&c);
	nu = ca_rc_i64(&c);
	p = ca_rc_blob(&c, CA_STORE_MAX_CRL_DER, &n);
	if (c.bad || c.left != 0 || n == 0) {
		mdb_txn_abort(txn);
		return ut_err(OFFCA_E_STORE, "current CRL record of '%s' is malformed (store damaged?)", issuer);
	}
	if (der != NULL) {
		*der = malloc(n);
		if (*der == NULL) {
			mdb_txn_abort(txn);
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		}
		memcpy(*der, p, n);
	}
	mdb_txn_abort(txn);
	if (len != NULL)
		*len = n;
	if (number != NULL)
		*number = (uint64_t)num;
	if (this_update != NULL)
		*this_update = tu;
	if (next_update != NULL)
		*next_update = nu;
	return OFFCA_OK;
}
