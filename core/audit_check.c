/*
 * audit_check.c - the records must be what the audit log says happened.
 *
 * The hash chain proves the log was not edited; this check proves the certificate records were
 * not edited behind the log's back (a revocation undone in LMDB, a record swapped or deleted):
 * every "sign" entry has its record with the same SHA-256, every "revoke" entry its record
 * revoked with the same reason and time, and there are exactly as many records and revoked
 * records as entries. Each entry costs one B-tree lookup; nothing is held in memory.
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct check {
	ca_store *st;
	MDB_txn *txn;
	size_t signs, revokes;
	offca_rc rc;
};

static int fail_at(struct check *c, const ca_audit_entry *e, const char *serial, const char *what)
{
	c->rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s %s (audit entry #%llu)",
		       serial, what, (unsigned long long)e->seq);
	return 1;
}

/* The record of serial text hex, inside the check's transaction. */
static offca_rc record_of(struct check *c, const char *hex, ca_cert_record *r)
{
	ca_serial s;

	if (ca_serial_parse(hex, &s) != OFFCA_OK)
		return OFFCA_E_PARSE;
	return ca_st_cert_get_txn(c->st, c->txn, &s, r);
}

static int check_sign(struct check *c, const ca_audit_entry *e, json_t *d)
{
	const char *hex = json_string_value(json_object_get(d, "serial"));
	const char *fp = json_string_value(json_object_get(d, "sha256"));
	unsigned char want[32];
	ca_cert_record r;
	offca_rc rc;
	int bad;

	if (hex == NULL || fp == NULL || ca_fp_parse(fp, want) != 0)
		return fail_at(c, e, hex ? hex : "?", "has a malformed sign entry");
	rc = record_of(c, hex, &r);
	if (rc == OFFCA_E_NOT_FOUND)
		return fail_at(c, e, hex, "was signed but its record is missing");
	if (rc != OFFCA_OK)
		return fail_at(c, e, hex, "has an unreadable record");
	bad = memcmp(r.sha256, want, 32) != 0;
	ca_cert_record_clear(&r);
	if (bad)
		return fail_at(c, e, hex, "record holds another certificate than the one signed");
	c->signs++;
	return 0;
}

static int check_revoke(struct check *c, const ca_audit_entry *e, json_t *d)
{
	const char *hex = json_string_value(json_object_get(d, "serial"));
	const char *reason = json_string_value(json_object_get(d, "reason"));
	json_int_t when = json_integer_value(json_object_get(d, "time"));
	ca_cert_record r;
	offca_rc rc;
	int bad;

	if (hex == NULL || reason == NULL)
		return fail_at(c, e, hex ? hex : "?", "has a malformed revoke entry");
	rc = record_of(c, hex, &r);
	if (rc != OFFCA_OK)
		return fail_at(c, e, hex, "was revoked but its record is missing");
	bad = r.status != CA_CERT_REVOKED || r.reason != ca_reason_code(reason) || r.revoked_at != (int64_t)when;
	ca_cert_record_clear(&r);
	if (bad)
		return fail_at(c, e, hex, "was revoked but its record says otherwise");
	c->revokes++;
	return 0;
}

static int entry_cb(void *arg, const ca_audit_entry *e)
{
	struct check *c = arg;
	int is_sign = strcmp(e->action, "sign") == 0, is_revoke = strcmp(e->action, "revoke") == 0, stop;
	json_t *d;

	if (!is_sign && !is_revoke)
		return 0;
	d = json_loads(e->detail, 0, NULL);
	if (d == NULL || !json_is_object(d)) {
		json_decref(d);
		return fail_at(c, e, "?", "has an entry whose detail is not JSON");
	}
	stop = is_sign ? check_sign(c, e, d) : check_revoke(c, e, d);
	json_decref(d);
	return stop;
}

static offca_rc count_db(ca_store *st, MDB_txn *txn, int db, size_t *n)
{
	MDB_stat ms;
	int r = mdb_stat(txn, st->dbi[db], &ms);

	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "counting records");
	*n = ms.ms_entries;
	return OFFCA_OK;
}

offca_rc ca_store_audit_check_records(ca_store *st, size_t *n_certs, size_t *n_revoked)
{
	struct check c = {st, NULL, 0, 0, OFFCA_OK};
	size_t certs = 0, revoked = 0;
	offca_rc rc;

	if (n_certs != NULL)
		*n_certs = 0;
	if (n_revoked != NULL)
		*n_revoked = 0;
	rc = ca_st_begin(st, 1, &c.txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_store_audit_each(st, 0, entry_cb, &c);
	if (rc == OFFCA_OK)
		rc = c.rc;
	if (rc == OFFCA_OK)
		rc = count_db(st, c.txn, DB_CERTS, &certs);
	if (rc == OFFCA_OK)
		rc = count_db(st, c.txn, DB_REVOKED, &revoked);
	if (rc == OFFCA_OK && certs != c.signs)
		rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: %zu certificate records but %zu sign "
			    "entries (a record was added or removed outside offca)", certs, c.signs);
	if (rc == OFFCA_OK && revoked != c.revokes)
		rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: %zu revoked certificates but %zu revoke "
			    "entries (a revocation was changed outside offca)", revoked, c.revokes);
	mdb_txn_abort(c.txn);
	if (rc == OFFCA_OK && n_certs != NULL)
		*n_certs = certs;
	if (rc == OFFCA_OK && n_revoked != NULL)
		*n_revoked = revoked;
	return rc;
}
