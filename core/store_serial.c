/*
 * store_serial.c - serial reservation: reserve (commit) -> sign -> record (commit) -> release.
 *
 * DB_RESV keeps every serial ever reserved (serial -> u8 version | u8 state | i64 time |
 * u32 pid | str issuer), so a serial is never handed out twice, even after void. DB_RESV_OPEN
 * lists the reservations still in state "reserved": at open (under the exclusive home lock) they
 * belong to a run that died between reserve and record, and are voided.
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESV_VERSION 1u
#define RAND_TRIES 64
#define RESV_MAX (1 + 1 + 8 + 4 + 4 + 63) /* a reservation's value: issuer names are <= 63 bytes */

/* A reservation's value: u8 version | u8 state | i64 time | u32 pid | str issuer; *len its length. */
static offca_rc resv_encode(ca_store *st, int state, const char *issuer, unsigned char buf[RESV_MAX], size_t *len)
{
	ca_wbuf b = ca_wb_fixed(buf, RESV_MAX);

	if (st->pid == 0)
		st->pid = (uint32_t)getpid(); /* a system call each time otherwise */
	ca_wb_u8(&b, RESV_VERSION);
	ca_wb_u8(&b, (uint8_t)state);
	ca_wb_i64(&b, (int64_t)time(NULL));
	ca_wb_u32(&b, st->pid);
	ca_wb_str(&b, issuer);
	if (b.failed)
		return ut_err(OFFCA_E_USAGE, "serial reservation: issuer name too long");
	*len = b.len;
	return OFFCA_OK;
}

static offca_rc resv_put(ca_store *st, MDB_txn *txn, const ca_serial *s, int state, const char *issuer,
			 unsigned flags)
{
	unsigned char buf[RESV_MAX];
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v = {0, buf};
	offca_rc rc = resv_encode(st, state, issuer, buf, &v.mv_size);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	r = mdb_put(txn, st->dbi[DB_RESV], &k, &v, flags);
	if (r == MDB_KEYEXIST)
		return OFFCA_E_EXISTS; /* caller retries with another random serial: no detail */
	return ca_st_rc(r, "recording a serial reservation");
}

/* Decode a reservation's value: state and issuer (iss holds 64 bytes). */
static offca_rc resv_parse(const MDB_val *v, int *state, char *iss)
{
	ca_rcur c = {v->mv_data, v->mv_size, 0};

	if (ca_rc_u8(&c) != RESV_VERSION)
		c.bad = 1;
	*state = ca_rc_u8(&c);
	(void)ca_rc_i64(&c);
	(void)ca_rc_u32(&c);
	ca_rc_str(&c, 63, iss, 64);
	if (c.bad || c.left != 0 || *state > CA_SERIAL_VOID)
		return ut_err(OFFCA_E_STORE, "serial reservation record is malformed (store damaged?)");
	return OFFCA_OK;
}

/* MDB_NOTFOUND: OFFCA_E_NOT_FOUND naming the serial; other LMDB codes translated. */
static offca_rc resv_missing(int r, const ca_serial *s)
{
	char hex[2 * CA_SERIAL_LEN + 1];

	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_NOT_FOUND, "serial %s was never reserved", ca_serial_hex(s, hex, sizeof(hex)));
	return ca_st_rc(r, "reading a serial reservation");
}

/* Read a reservation: state and issuer (issuer may be NULL). */
static offca_rc resv_get(ca_store *st, MDB_txn *txn, const ca_serial *s, int *state, char *issuer, size_t cap)
{
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v;
	char iss[64];
	int r = mdb_get(txn, st->dbi[DB_RESV], &k, &v);
	offca_rc rc;

	if (r != MDB_SUCCESS)
		return resv_missing(r, s);
	rc = resv_parse(&v, state, iss);
	if (rc == OFFCA_OK && issuer != NULL)
		snprintf(issuer, cap, "%s", iss);
	return rc;
}

offca_rc ca_st_resv_close(ca_store *st, MDB_txn *txn, MDB_cursor *cur, const ca_serial *s, int state,
			  char *issuer, size_t cap)
{
	char iss[64], hex[2 * CA_SERIAL_LEN + 1];
	unsigned char buf[RESV_MAX];
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v, nv = {0, buf};
	int now = 0, r;
	offca_rc rc;

	if (cur != NULL)
		r = mdb_cursor_get(cur, &k, &v, MDB_SET); /* k stays s->b */
	else
		r = mdb_get(txn, st->dbi[DB_RESV], &k, &v);
	rc = r == MDB_SUCCESS ? resv_parse(&v, &now, iss) : resv_missing(r, s);
	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(OFFCA_E_STATE, "serial %s was not reserved in this store",
			      ca_serial_hex(s, hex, sizeof(hex)));
	if (rc != OFFCA_OK)
		return rc;
	if (now != CA_SERIAL_RESERVED)
		return ut_err(OFFCA_E_STATE, "serial %s is already %s, not reserved", ca_serial_hex(s, hex, sizeof(hex)),
			      now == CA_SERIAL_USED ? "used" : "void");
	rc = resv_encode(st, state, iss, buf, &nv.mv_size);
	if (rc != OFFCA_OK)
		return rc;
	/* with a cursor: rewritten where it stands, without a second search */
	if (cur != NULL)
		r = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
	else
		r = mdb_put(txn, st->dbi[DB_RESV], &k, &nv, 0);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "recording a serial reservation");
	r = mdb_del(txn, st->dbi[DB_RESV_OPEN], &k, NULL);
	if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
		return ca_st_rc(r, "closing a serial reservation");
	if (issuer != NULL && cap > 0) {
		size_t n = strnlen(iss, cap - 1);

		memcpy(issuer, iss, n);
		issuer[n] = '\0';
	}
	return OFFCA_OK;
}

static offca_rc fresh_serial(ca_store *st, MDB_txn *txn, const char *issuer, ca_serial *out)
{
	MDB_val k = {CA_SERIAL_LEN, out->b}, v = {0, ""};
	offca_rc rc;
	int r;

	for (int i = 0; i < RAND_TRIES; i++) {
		if (RAND_bytes(out->b, CA_SERIAL_LEN) != 1)
			return ut_err_ssl(OFFCA_E_CRYPTO, "no random bytes for a serial number");
		out->b[0] &= 0x7f;
		if (out->b[0] == 0)
			out->b[0] = 0x01; /* full 16 bytes, positive, never zero */
		rc = resv_put(st, txn, out, CA_SERIAL_RESERVED, issuer, MDB_NOOVERWRITE);
		if (rc == OFFCA_E_EXISTS)
			continue;
		if (rc != OFFCA_OK)
			return rc;
		r = mdb_put(txn, st->dbi[DB_RESV_OPEN], &k, &v, 0);
		return ca_st_rc(r, "recording a serial reservation");
	}
	return ut_err(OFFCA_E_CRYPTO, "random serials keep colliding: the random generator is broken");
}

offca_rc ca_store_serial_reserve(ca_store *st, const char *issuer, size_t n, ca_serial *out)
{
	MDB_txn *txn = NULL;
	char *detail = NULL, hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;

	if (out == NULL || n == 0 || n > CA_STORE_MAX_BATCH || issuer == NULL || issuer[0] == '\0' ||
	    strlen(issuer) > 63)
		return ut_err(OFFCA_E_USAGE, "ca_store_serial_reserve: need an issuer name and 1..%u serials",
			      CA_STORE_MAX_BATCH);
	memset(out, 0, n * sizeof(*out));
	rc = ca_st_check_no_batch(st, "reserving serial numbers");
	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = fresh_serial(st, txn, issuer, &out[i]);
		if (rc != OFFCA_OK)
			goto fail;
	}
	detail = ca_audit_json("{s:s,s:I,s:s}", "issuer", issuer, "count", (json_int_t)n, "first",
			       ca_serial_hex(&out[0], hex, sizeof(hex)));
	if (detail == NULL) {
		rc = ut_err_last();
		goto fail;
	}
	rc = ca_audit_append_txn(st, txn, "reserve", detail);
	free(detail);
	if (rc != OFFCA_OK)
		goto fail;
	rc = ca_st_commit(txn, "reserving serial numbers");
	if (rc != OFFCA_OK)
		memset(out, 0, n * sizeof(*out));
	return rc;
fail:
	mdb_txn_abort(txn);
	memset(out, 0, n * sizeof(*out));
	return rc;
}

offca_rc ca_store_serial_void(ca_store *st, const ca_serial *serials, size_t n, const char *why)
{
	MDB_txn *txn = NULL;
	char *detail = NULL, hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;

	if (serials == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "ca_store_serial_void: 1..%u serials", CA_STORE_MAX_BATCH);
	rc = ca_st_check_no_batch(st, "voiding serial numbers");
	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = ca_st_resv_close(st, txn, NULL, &serials[i], CA_SERIAL_VOID, NULL, 0);
		if (rc != OFFCA_OK)
			goto fail;
	}
	detail = ca_audit_json("{s:I,s:s,s:s%}", "count", (json_int_t)n, "first",
			       ca_serial_hex(&serials[0], hex, sizeof(hex)), "why", why ? why : "",
			       why ? strnlen(why, 256) : (size_t)0);
	if (detail == NULL) /* a reason that is not valid UTF-8 must not keep the serials alive */
		detail = ca_audit_json("{s:I,s:s,s:s}", "count", (json_int_t)n, "first", hex, "why", "(unprintable)");
	if (detail == NULL) {
		rc = ut_err_last();
		goto fail;
	}
	rc = ca_audit_append_txn(st, txn, "void", detail);
	free(detail);
	if (rc != OFFCA_OK)
		goto fail;
	return ca_st_commit(txn, "voiding serial numbers");
fail:
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_store_serial_state(ca_store *st, const ca_serial *s, int *state)
{
	MDB_txn *txn = NULL;
	offca_rc rc;
	int v = -1;

	if (state == NULL || s == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_serial_state: NULL argument");
	*state = -1;
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = resv_get(st, txn, s, &v, NULL, 0);
	mdb_txn_abort(txn);
	if (rc == OFFCA_OK)
		*state = v;
	return rc;
}

offca_rc ca_st_void_stale(ca_store *st)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	ca_serial s;
	size_t n = 0;
	char detail[160], hex[2 * CA_SERIAL_LEN + 1] = "";
	offca_rc rc = ca_st_begin(st, 0, &txn);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	r = mdb_cursor_open(txn, st->dbi[DB_RESV_OPEN], &cur);
	if (r != MDB_SUCCESS) {
		rc = ca_st_rc(r, "reading open reservations");
		goto fail;
	}
	/* each close deletes the current key: always restart at the first one */
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == MDB_SUCCESS; r = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) {
		if (k.mv_size != CA_SERIAL_LEN) {
			rc = ut_err(OFFCA_E_STORE, "open reservation with a malformed key (store damaged?)");
			goto fail;
		}
		memcpy(s.b, k.mv_data, CA_SERIAL_LEN);
		if (n == 0)
			ca_serial_hex(&s, hex, sizeof(hex));
		rc = ca_st_resv_close(st, txn, NULL, &s, CA_SERIAL_VOID, NULL, 0);
		if (rc != OFFCA_OK)
			goto fail;
		n++;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (r != MDB_NOTFOUND) {
		rc = ca_st_rc(r, "reading open reservations");
		goto fail;
	}
	if (n == 0) {
		mdb_txn_abort(txn);
		return OFFCA_OK;
	}
	snprintf(detail, sizeof(detail), "{\"count\":%zu,\"first\":\"%s\",\"why\":\"left reserved by an interrupted run\"}",
		 n, hex);
	rc = ca_audit_append_txn(st, txn, "void-stale", detail);
	if (rc != OFFCA_OK)
		goto fail;
	return ca_st_commit(txn, "voiding stale serial reservations");
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}
