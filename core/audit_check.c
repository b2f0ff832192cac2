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

static int field_is(json_t *d, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(d, key));

	return v != NULL && strcmp(v, want) == 0;
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
	if (!bad && !field_is(d, "issuer", r.issuer))
		bad = 2;
	else if (!bad && !field_is(d, "profile", r.profile))
		bad = 3;
	else if (!bad && !field_is(d, "source", r.source))
		bad = 4;
	ca_cert_record_clear(&r);
	if (bad == 1)
		return fail_at(c, e, hex, "record holds another certificate than the one signed");
	if (bad)
		return fail_at(c, e, hex, bad == 2 ? "record names another issuer than the one that signed it" :
				bad == 3 ? "record names another profile than the one signed" :
					   "record names another source than the one signed");
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
	bad = r.status != CA_CERT_REVOKED || r.reason != ca_reason_code(reason) || r.revoked_at != (int64_t)when ||
	      !field_is(d, "issuer", r.issuer);
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

	if (strcmp(e->action, "checkpoint") == 0) { /* the checkpoint it announces is still stored */
		c->rc = ca_st_checkpoint_present(c->st, c->txn, e->seq - 1);
		return c->rc != OFFCA_OK;
	}
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

static int sans_equal(const ca_cert_record *a, const ca_cert_record *b)
{
	if (a->n_sans != b->n_sans)
		return 0;
	for (size_t i = 0; i < a->n_sans; i++)
		if (strcmp(a->sans[i], b->sans[i]) != 0)
			return 0;
	return 1;
}

/* What the record repeats from its DER (decoded again): serial, subject, SANs, validity. */
static offca_rc check_der_fields(const ca_cert_record *r)
{
	ca_cert_record d;
	char hex[2 * CA_SERIAL_LEN + 1], what[80] = "";
	offca_rc rc = ca_cert_record_from_der(r->der, r->der_len, r->issuer, r->profile, r->source, &d);

	ca_serial_hex(&r->serial, hex, sizeof(hex));
	if (rc != OFFCA_OK)
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s holds a DER that does "
			      "not decode", hex);
	if (memcmp(d.serial.b, r->serial.b, CA_SERIAL_LEN) != 0)
		snprintf(what, sizeof(what), "serial");
	else if (strcmp(d.subject ? d.subject : "", r->subject ? r->subject : "") != 0)
		snprintf(what, sizeof(what), "subject");
	else if (!sans_equal(&d, r))
		snprintf(what, sizeof(what), "SANs");
	else if (d.not_before != r->not_before || d.not_after != r->not_after)
		snprintf(what, sizeof(what), "validity (notBefore/notAfter)");
	ca_cert_record_clear(&d);
	if (what[0] != '\0')
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s record does not repeat "
			      "its certificate's %s", hex, what);
	return OFFCA_OK;
}

/* Every record, from its own bytes: bound to its entries (ca_st_cert_check_txn), its fields those
   of its DER, in the revocation index exactly when revoked. */
static offca_rc check_each_record(ca_store *st, MDB_txn *txn)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v, rv;
	ca_cert_record r;
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc = OFFCA_OK;
	int e = mdb_cursor_open(txn, st->dbi[DB_CERTS], &cur), indexed;

	if (e != MDB_SUCCESS)
		return ca_st_rc(e, "reading the certificate records");
	for (e = mdb_cursor_get(cur, &k, &v, MDB_FIRST); e == MDB_SUCCESS; e = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = ca_rec_decode(v.mv_data, v.mv_size, &r);
		if (rc != OFFCA_OK)
			break;
		if (k.mv_size != CA_SERIAL_LEN || memcmp(k.mv_data, r.serial.b, CA_SERIAL_LEN) != 0)
			rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s is stored under "
				    "another serial", ca_serial_hex(&r.serial, hex, sizeof(hex)));
		if (rc == OFFCA_OK)
			rc = ca_st_cert_check_txn(st, txn, &r);
		if (rc == OFFCA_OK)
			rc = check_der_fields(&r);
		indexed = mdb_get(txn, st->dbi[DB_REVOKED], &k, &rv) == MDB_SUCCESS;
		if (rc == OFFCA_OK && indexed != (r.status == CA_CERT_REVOKED))
			rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s is %s the revocation "
				    "index but its record says %s", ca_serial_hex(&r.serial, hex, sizeof(hex)),
				    indexed ? "in" : "missing from", indexed ? "valid" : "revoked");
		ca_cert_record_clear(&r);
		if (rc != OFFCA_OK)
			break;
	}
	if (rc == OFFCA_OK && e != MDB_NOTFOUND)
		rc = ca_st_rc(e, "reading the certificate records");
	mdb_cursor_close(cur);
	return rc;
}

/* Every pending CSR against its pending-add entry. */
static offca_rc check_each_pending(ca_store *st)
{
	ca_pending *p = NULL;
	size_t n = 0;
	offca_rc rc = ca_store_pending_list(st, &p, &n);

	for (size_t i = 0; rc == OFFCA_OK && i < n; i++)
		rc = ca_store_pending_check(st, p[i].id, p[i].der, p[i].len);
	ca_pending_list_free(p, n);
	return rc;
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
	uint64_t sum = 0;
	offca_rc rc;

	if (n_certs != NULL)
		*n_certs = 0;
	if (n_revoked != NULL)
		*n_revoked = 0;
	rc = ca_st_begin(st, 1, &c.txn);
	if (rc != OFFCA_OK)
		return rc;
	/* first the signed checkpoints: a log cut below one says so, rather than through the records
	   bound to the entries that were cut */
	rc = ca_store_checkpoint_verify(st, NULL, NULL);
	if (rc == OFFCA_OK)
		rc = ca_store_audit_each(st, 0, entry_cb, &c);
	if (rc == OFFCA_OK)
		rc = c.rc;
	if (rc == OFFCA_OK) /* before the counts: a record found wrong is named */
		rc = check_each_record(st, c.txn);
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
	if (rc == OFFCA_OK)
		rc = ca_st_revoked_counts_verify(st, &sum);
	if (rc == OFFCA_OK && sum != revoked)
		rc = ut_err(OFFCA_E_VERIFY, "store does not match the audit log: %zu revoked certificates but the issuers' "
			    "revocation counts add up to %llu", revoked, (unsigned long long)sum);
	if (rc == OFFCA_OK)
		rc = check_each_pending(st);
	if (rc == OFFCA_OK && n_certs != NULL)
		*n_certs = certs;
	if (rc == OFFCA_OK && n_revoked != NULL)
		*n_revoked = revoked;
	return rc;
}
