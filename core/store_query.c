/*
 * store_query.c - iterating certificate records through the indexes: all (by serial), revoked
 * only (revocation index), expiring before a time (expiry index), by SAN (SAN index).
 */
#include "store_int.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct filter {
	const char *issuer;
	int revoked_only;
	ca_cert_cb cb;
	void *arg;
	int stop;
};

/* Load the record of serial s and hand it to the callback if it passes the filter. */
static offca_rc visit(ca_store *st, MDB_txn *txn, const ca_serial *s, struct filter *f)
{
	ca_cert_record r;
	offca_rc rc = ca_st_cert_get_txn(st, txn, s, &r);

	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(OFFCA_E_STORE, "an index points to a missing certificate record (store damaged?)");
	if (rc != OFFCA_OK)
		return rc;
	if ((f->issuer == NULL || strcmp(f->issuer, r.issuer) == 0) && (!f->revoked_only || r.status == CA_CERT_REVOKED))
		f->stop = f->cb(f->arg, &r) != 0;
	ca_cert_record_clear(&r);
	return OFFCA_OK;
}

/*
 * A walk over a whole tree read as many keys as the tree's own count says it holds. LMDB keeps
 * that count apart from the pages: a damaged page (a flipped bit in its node count) that hides
 * or invents keys is caught here instead of listing a silently shortened store.
 */
static offca_rc check_count(MDB_txn *txn, MDB_dbi dbi, size_t seen)
{
	MDB_stat ms;
	int r = mdb_stat(txn, dbi, &ms);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the CA store");
	if (ms.ms_entries != seen)
		return ut_err(OFFCA_E_DAMAGED, "the store is damaged: see offca restore (an index holds %zu entries "
			      "but %zu could be read)", (size_t)ms.ms_entries, seen);
	return OFFCA_OK;
}

/* Walk index db from start (NULL: first key); serial_at: offset of the serial in each key;
   end: stop when the key's first end_len bytes compare >= end (NULL: no end). */
static offca_rc walk_index(ca_store *st, MDB_txn *txn, int db, const MDB_val *start, size_t serial_at,
			   const unsigned char *end, size_t end_len, struct filter *f)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	ca_serial s;
	offca_rc rc = OFFCA_OK;
	unsigned char prev[8 + CA_SERIAL_LEN]; /* the longest key walked: expiry's */
	size_t seen = 0;
	int r = mdb_cursor_open(txn, st->dbi[db], &cur);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the CA store");
	if (start != NULL) {
		k = *start;
		r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		r = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	for (; r == MDB_SUCCESS && !f->stop; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT), seen++) {
		if (end != NULL && (k.mv_size < end_len || memcmp(k.mv_data, end, end_len) >= 0))
			break;
		if (k.mv_size != serial_at + CA_SERIAL_LEN || k.mv_size > sizeof(prev)) {
			rc = ut_err(OFFCA_E_STORE, "malformed index key (store damaged?)");
			break;
		}
		/* keys come in strictly increasing order: a damaged page read twice or a node offset
		   pointing at its neighbour shows as a key that does not increase */
		if (seen > 0 && memcmp(prev, k.mv_data, k.mv_size) >= 0) {
			rc = ut_err(OFFCA_E_DAMAGED, "the store is damaged: see offca restore (index keys out of order)");
			break;
		}
		memcpy(prev, k.mv_data, k.mv_size);
		memcpy(s.b, (const unsigned char *)k.mv_data + serial_at, CA_SERIAL_LEN);
		rc = visit(st, txn, &s, f);
		if (rc != OFFCA_OK)
			break;
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the CA store");
	if (rc == OFFCA_OK && r == MDB_NOTFOUND && start == NULL && end == NULL)
		rc = check_count(txn, st->dbi[db], seen);
	mdb_cursor_close(cur);
	return rc;
}

offca_rc ca_store_cert_each(ca_store *st, const char *issuer, int64_t expiring_before, int revoked_only,
			    ca_cert_cb cb, void *arg)
{
	struct filter f = {issuer, revoked_only, cb, arg, 0};
	unsigned char end[8 + CA_SERIAL_LEN];
	MDB_txn *txn = NULL;
	ca_serial zero;
	offca_rc rc;

	if (cb == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_each: no callback");
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	if (expiring_before != 0) {
		memset(&zero, 0, sizeof(zero));
		ca_st_expiry_key(expiring_before, &zero, end);
		rc = walk_index(st, txn, DB_EXPIRY, NULL, 8, end, 8, &f);
	} else if (revoked_only) {
		rc = walk_index(st, txn, DB_REVOKED, NULL, 0, NULL, 0, &f);
	} else {
		rc = walk_index(st, txn, DB_CERTS, NULL, 0, NULL, 0, &f);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Like walk_index over the SAN index, but only keys that are exactly prefix || serial. */
static offca_rc walk_san(ca_store *st, MDB_txn *txn, const unsigned char *prefix, size_t plen, struct filter *f)
{
	MDB_cursor *cur = NULL;
	MDB_val k = {plen, (void *)prefix}, v;
	ca_serial s;
	offca_rc rc = OFFCA_OK;
	int r = mdb_cursor_open(txn, st->dbi[DB_SAN], &cur);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the SAN index");
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS && !f->stop;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size != plen + CA_SERIAL_LEN)
			continue; /* a longer SAN that merely starts with this one (cannot hold a NUL: skip) */
		memcpy(s.b, (const unsigned char *)k.mv_data + plen, CA_SERIAL_LEN);
		rc = visit(st, txn, &s, f);
		if (rc != OFFCA_OK)
			break;
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the SAN index");
	mdb_cursor_close(cur);
	return rc;
}

offca_rc ca_store_cert_by_san(ca_store *st, const char *san, ca_cert_cb cb, void *arg)
{
	struct filter f = {NULL, 0, cb, arg, 0};
	unsigned char prefix[STORE_SAN_KEY_MAX + 64];
	char *full = NULL;
	MDB_txn *txn = NULL;
	size_t plen;
	offca_rc rc;

	if (san == NULL || san[0] == '\0' || cb == NULL || strlen(san) > CA_STORE_MAX_SAN_LEN)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_by_san: SAN missing or too long");
	if (strchr(san, ':') == NULL) { /* a bare name means DNS */
		full = malloc(strlen(san) + 5);
		if (full == NULL)
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		memcpy(full, "DNS:", 4);
		memcpy(full + 4, san, strlen(san) + 1);
		san = full;
	}
	plen = ca_st_san_prefix(san, prefix, sizeof(prefix));
	free(full);
	if (plen == 0)
		return ut_err(OFFCA_E_INTERNAL, "SAN index key");
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = walk_san(st, txn, prefix, plen, &f);
	mdb_txn_abort(txn);
	return rc;
}

/* Does text end with suffix (DNS names: case-insensitive)? */
static int ends_with(const char *text, size_t tlen, const char *suffix)
{
	size_t sl = strlen(suffix);

	return tlen >= sl && strncasecmp(text + tlen - sl, suffix, sl) == 0;
}

/* The record's first SAN that ends with suffix is san: each record is yielded once. */
static int first_match(const ca_cert_record *r, const char *san, size_t len, const char *suffix)
{
	for (size_t i = 0; i < r->n_sans; i++) {
		size_t l = strlen(r->sans[i]);

		if (strncmp(r->sans[i], "DNS:", 4) == 0 && ends_with(r->sans[i], l, suffix))
			return l == len && strncasecmp(r->sans[i], san, len) == 0;
	}
	return 0;
}

/* Hand the record of serial s to the callback once: only for its first SAN under suffix (san). */
static offca_rc visit_suffix(ca_store *st, MDB_txn *txn, const ca_serial *s, const char *san, size_t len,
			     const char *suffix, struct filter *f)
{
	ca_cert_record rec;
	offca_rc rc = ca_st_cert_get_txn(st, txn, s, &rec);

	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(OFFCA_E_STORE, "the SAN index points to a missing certificate record (store damaged?)");
	if (rc != OFFCA_OK)
		return rc;
	if (first_match(&rec, san, len, suffix) && (f->issuer == NULL || strcmp(f->issuer, rec.issuer) == 0))
		f->stop = f->cb(f->arg, &rec) != 0;
	ca_cert_record_clear(&rec);
	return OFFCA_OK;
}

/* Walk the DNS part of the SAN index: every key whose name ends with suffix. */
static offca_rc walk_san_suffix(ca_store *st, MDB_txn *txn, const char *suffix, struct filter *f)
{
	MDB_cursor *cur = NULL;
	MDB_val k = {4, (void *)"DNS:"}, v;
	ca_serial s;
	offca_rc rc = OFFCA_OK;
	int r = mdb_cursor_open(txn, st->dbi[DB_SAN], &cur);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the SAN index");
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS && !f->stop && rc == OFFCA_OK;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t tlen = k.mv_size - CA_SERIAL_LEN - 1;

		if (k.mv_size < 4 + 1 + CA_SERIAL_LEN || memcmp(k.mv_data, "DNS:", 4) != 0)
			break;
		if (!ends_with(k.mv_data, tlen, suffix))
			continue;
		memcpy(s.b, (const unsigned char *)k.mv_data + tlen + 1, CA_SERIAL_LEN);
		rc = visit_suffix(st, txn, &s, k.mv_data, tlen, suffix, f);
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the SAN index");
	mdb_cursor_close(cur);
	return rc;
}

/* The reversed-name keys under suffix (".lab.example" -> 0x02 "example.lab." ...): a range. */
static offca_rc range_san_suffix(ca_store *st, MDB_txn *txn, const char *suffix, struct filter *f)
{
	unsigned char prefix[STORE_SAN_REV_MAX + 8], name[4 + STORE_SAN_REV_MAX + 8];
	size_t plen = ca_st_san_rev_prefix(suffix + 1, strlen(suffix) - 1, prefix, sizeof(prefix));
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	ca_serial s;
	offca_rc rc = OFFCA_OK;
	int r;

	if (plen == 0) /* a suffix longer than any DNS name: nothing under it */
		return OFFCA_OK;
	prefix[plen - 1] = '.'; /* the NUL: only names with one more label match */
	if ((r = mdb_cursor_open(txn, st->dbi[DB_SAN], &cur)) != MDB_SUCCESS)
		return ca_st_rc(r, "reading the SAN index");
	k.mv_size = plen;
	k.mv_data = prefix;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS && !f->stop && rc == OFFCA_OK;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t rl = k.mv_size - CA_SERIAL_LEN - 2; /* the reversed name, without 0x02 and NUL */

		if (k.mv_size < plen + 2 + CA_SERIAL_LEN || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		memcpy(name, "DNS:", 4); /* reversing the reversed name gives the name (lower case) */
		if (ca_st_san_rev_prefix((const char *)k.mv_data + 1, rl, name + 3, sizeof(name) - 3) != rl + 2) {
			rc = ut_err(OFFCA_E_STORE, "a reversed-name SAN key does not decode (store damaged?)");
			break;
		}
		name[3] = ':';
		memcpy(s.b, (const unsigned char *)k.mv_data + k.mv_size - CA_SERIAL_LEN, CA_SERIAL_LEN);
		rc = visit_suffix(st, txn, &s, (const char *)name, 4 + rl, suffix, f);
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the SAN index");
	mdb_cursor_close(cur);
	return rc;
}

offca_rc ca_store_cert_by_san_suffix(ca_store *st, const char *suffix, ca_cert_cb cb, void *arg)
{
	struct filter f = {NULL, 0, cb, arg, 0};
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (suffix == NULL || suffix[0] != '.' || suffix[1] == '\0' || cb == NULL || strlen(suffix) > CA_STORE_MAX_SAN_LEN)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_by_san_suffix: the suffix must start with '.'");
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_san_rev_ready(st, txn) ? range_san_suffix(st, txn, suffix, &f) : walk_san_suffix(st, txn, suffix, &f);
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_store_cert_count(ca_store *st, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_stat ms;
	offca_rc rc;
	int r;

	if (n == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_count: NULL argument");
	*n = 0;
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_stat(txn, st->dbi[DB_CERTS], &ms);
	mdb_txn_abort(txn);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "counting certificates");
	*n = ms.ms_entries;
	return OFFCA_OK;
}
