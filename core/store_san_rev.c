/*
 * store_san_rev.c - the reversed-name part of the SAN index: `list --san '*.suffix'` becomes a
 * range scan instead of a walk over every DNS name (docs/store.md). Keys 0x02 "example.b.a" '\0'
 * serial for "DNS:a.b.example", lower case, in the SAN database. Stores made before it existed get
 * it at their first writable open; meta "san_rev" says it is complete.
 */
#include "store_int.h"
#include "offca/util.h"

#include <string.h>

static MDB_val flag_key = {7, (void *)"san_rev"};

size_t ca_st_san_rev_prefix(const char *name, size_t n, unsigned char *key, size_t cap)
{
	size_t k = 1, end = n;

	if (n == 0 || n > STORE_SAN_REV_MAX || n + 2 > cap)
		return 0;
	key[0] = 0x02; /* reversed DNS names: no text SAN starts with 0x02, no hashed one either */
	while (end > 0) { /* the labels last to first, lower case: "a.b.example" -> "example.b.a" */
		size_t start = end;

		while (start > 0 && name[start - 1] != '.')
			start--;
		for (size_t i = start; i < end; i++)
			key[k++] = (unsigned char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
		if (start > 0)
			key[k++] = '.';
		end = start > 0 ? start - 1 : 0;
	}
	key[k++] = '\0';
	return k;
}

offca_rc ca_st_san_rev_put(ca_store *st, MDB_txn *txn, const char *san, size_t n, const ca_serial *s)
{
	unsigned char key[1 + STORE_SAN_REV_MAX + 1 + CA_SERIAL_LEN];
	MDB_val k, v = {0, ""};
	size_t kl;
	int r;

	if (n < 5 || strncmp(san, "DNS:", 4) != 0 || (kl = ca_st_san_rev_prefix(san + 4, n - 4, key, sizeof(key) - CA_SERIAL_LEN)) == 0)
		return OFFCA_OK; /* not a DNS name, or too long to be one: found by the walk only */
	memcpy(key + kl, s->b, CA_SERIAL_LEN);
	k.mv_size = kl + CA_SERIAL_LEN;
	k.mv_data = key;
	r = mdb_put(txn, st->dbi[DB_SAN], &k, &v, 0);
	return r == MDB_SUCCESS ? OFFCA_OK : ca_st_rc(r, "writing the reversed-name SAN index");
}

int ca_st_san_rev_ready(ca_store *st, MDB_txn *txn)
{
	MDB_val v;

	return mdb_get(txn, st->dbi[DB_META], &flag_key, &v) == MDB_SUCCESS;
}

/* Every DNS key of the SAN index gets its reversed key; then the flag. One transaction. */
static offca_rc backfill(ca_store *st, MDB_txn *txn)
{
	MDB_cursor *cur = NULL;
	MDB_val k = {4, (void *)"DNS:"}, v, one = {1, (void *)"1"};
	ca_serial s;
	offca_rc rc = OFFCA_OK;
	int r = mdb_cursor_open(txn, st->dbi[DB_SAN], &cur);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the SAN index");
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS && rc == OFFCA_OK;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 4 + 1 + CA_SERIAL_LEN || memcmp(k.mv_data, "DNS:", 4) != 0)
			break;
		memcpy(s.b, (const unsigned char *)k.mv_data + k.mv_size - CA_SERIAL_LEN, CA_SERIAL_LEN);
		rc = ca_st_san_rev_put(st, txn, k.mv_data, k.mv_size - CA_SERIAL_LEN - 1, &s);
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the SAN index");
	mdb_cursor_close(cur);
	if (rc == OFFCA_OK && (r = mdb_put(txn, st->dbi[DB_META], &flag_key, &one, 0)) != MDB_SUCCESS)
		rc = ca_st_rc(r, "writing the reversed-name SAN index");
	return rc;
}

offca_rc ca_st_san_rev_ensure(ca_store *st)
{
	MDB_txn *txn = NULL;
	offca_rc rc = ca_st_begin(st, 1, &txn);
	int ready;

	if (rc != OFFCA_OK)
		return rc;
	ready = ca_st_san_rev_ready(st, txn); /* the usual case: a read, no writer lock */
	mdb_txn_abort(txn);
	if (ready)
		return OFFCA_OK;
	if ((rc = ca_st_begin(st, 0, &txn)) != OFFCA_OK)
		return rc;
	rc = ca_st_san_rev_ready(st, txn) ? OFFCA_OK : backfill(st, txn); /* another writer may have done it */
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ca_st_commit(txn, "writing the reversed-name SAN index");
}
