/*
 * store_bind.c - every record that matters is bound to the audit entry that committed it.
 *
 * DB_BIND keys (docs/store.md, "Records bound to the audit log"):
 *   'c' serial(16)  -> be64 seq of the certificate's "sign" entry (SHA-256 of the DER, issuer, ...)
 *   'r' serial(16)  -> be64 seq of its "revoke" entry (serial, issuer, reason, time, count)
 *   'p' be64 id     -> be64 seq of the pending CSR's "pending-add" entry (id, SHA-256 of the DER)
 *   'n' issuer      -> be64 number of revocations of that issuer || be64 seq of the last one
 * Checking one record is a few B-tree lookups and one entry checked where it stands
 * (ca_audit_entry_get: its hash recomputes and its successor chains to it), never a chain walk.
 * The commands that act on the store (export, sign --pending, crl) check what they use here.
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define BIND_KEY_MAX (1 + 64)

static size_t bind_key(unsigned char *key, char kind, const void *id, size_t len)
{
	key[0] = (unsigned char)kind;
	memcpy(key + 1, id, len);
	return 1 + len;
}

offca_rc ca_st_bind_put(ca_store *st, MDB_txn *txn, char kind, const void *id, size_t len, uint64_t seq)
{
	unsigned char key[BIND_KEY_MAX], val[8];
	MDB_val k = {bind_key(key, kind, id, len), key}, v = {8, val};

	ca_be64_put(val, seq);
	return ca_st_rc(mdb_put(txn, st->dbi[DB_BIND], &k, &v, 0), "binding a record to the audit log");
}

offca_rc ca_st_bind_del(ca_store *st, MDB_txn *txn, char kind, const void *id, size_t len)
{
	unsigned char key[BIND_KEY_MAX];
	MDB_val k = {bind_key(key, kind, id, len), key};
	int r = mdb_del(txn, st->dbi[DB_BIND], &k, NULL);

	return r == MDB_NOTFOUND ? OFFCA_OK : ca_st_rc(r, "unbinding a record from the audit log");
}

/* The seq bound to (kind, id): OFFCA_E_NOT_FOUND (no detail recorded) when there is none. */
static offca_rc bind_get(ca_store *st, MDB_txn *txn, char kind, const void *id, size_t len, uint64_t *seq)
{
	unsigned char key[BIND_KEY_MAX];
	MDB_val k = {bind_key(key, kind, id, len), key}, v;
	int r = mdb_get(txn, st->dbi[DB_BIND], &k, &v);

	*seq = 0;
	if (r == MDB_NOTFOUND)
		return OFFCA_E_NOT_FOUND;
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the audit bindings");
	if (v.mv_size != 8)
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: a binding is malformed");
	*seq = ca_be64_get(v.mv_data);
	return OFFCA_OK;
}

offca_rc ca_st_revoked_count(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t *count, uint64_t *seq)
{
	unsigned char key[BIND_KEY_MAX];
	size_t n = strnlen(issuer, 63);
	MDB_val k = {bind_key(key, 'n', issuer, n), key}, v;
	int r = mdb_get(txn, st->dbi[DB_BIND], &k, &v);

	*count = 0;
	*seq = 0;
	if (r == MDB_NOTFOUND)
		return OFFCA_OK;
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the revocation count");
	if (v.mv_size != 16)
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: the revocation count of '%s' is "
			      "malformed", issuer);
	*count = ca_be64_get(v.mv_data);
	*seq = ca_be64_get((const unsigned char *)v.mv_data + 8);
	return OFFCA_OK;
}

offca_rc ca_st_revoked_count_put(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t count, uint64_t seq)
{
	unsigned char key[BIND_KEY_MAX], val[16];
	size_t n = strnlen(issuer, 63);
	MDB_val k = {bind_key(key, 'n', issuer, n), key}, v = {16, val};

	ca_be64_put(val, count);
	ca_be64_put(val + 8, seq);
	return ca_st_rc(mdb_put(txn, st->dbi[DB_BIND], &k, &v, 0), "counting a revocation");
}

/* One bound entry read and checked, its detail parsed. */
struct bound {
	ca_audit_entry e;
	char action[CA_STORE_MAX_ACTION + 1];
	char detail[CA_STORE_MAX_DETAIL + 1];
	json_t *d;
};

static offca_rc mismatch(const char *what, const char *id, const char *how, uint64_t seq)
{
	if (seq == 0)
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: %s %s %s", what, id, how);
	return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: %s %s %s (audit entry #%llu)", what, id,
		      how, (unsigned long long)seq);
}

/* The entry seq (action want) checked where it stands, its detail a JSON object in b->d. */
static offca_rc load_bound(ca_store *st, MDB_txn *txn, uint64_t seq, const char *want, const char *what,
			   const char *id, struct bound *b)
{
	char msg[300];
	offca_rc rc = ca_audit_entry_get(st, txn, seq, &b->e, b->action, b->detail);

	b->d = NULL;
	if (rc == OFFCA_E_VERIFY) {
		snprintf(msg, sizeof(msg), "is bound to an entry that fails its check (%s)", ut_err_msg());
		return mismatch(what, id, msg, seq);
	}
	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(b->action, want) != 0) {
		snprintf(msg, sizeof(msg), "is bound to a '%s' entry, not its '%s' entry", b->action, want);
		return mismatch(what, id, msg, seq);
	}
	b->d = json_loads(b->detail, 0, NULL);
	if (b->d == NULL || !json_is_object(b->d)) {
		json_decref(b->d);
		b->d = NULL;
		return mismatch(what, id, "is bound to an entry whose detail is not JSON", seq);
	}
	return OFFCA_OK;
}

static int field_is(json_t *d, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(d, key));

	return v != NULL && strcmp(v, want) == 0;
}

static void hex32(const unsigned char *h, char out[65])
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[64] = '\0';
}

/* The subject as the sign entry holds it (see store_cert.c subject_cut). */
static void subject_cut(const char *subject, char subj[513])
{
	size_t n = subject ? strnlen(subject, 512) : 0;

	memcpy(subj, subject ? subject : "", n);
	while (n > 0 && n == 512 && ((unsigned char)subj[n - 1] & 0xC0) == 0x80)
		n--;
	subj[n] = '\0';
}

static offca_rc check_sign_entry(ca_store *st, MDB_txn *txn, const ca_cert_record *r, const char *hex)
{
	struct bound b;
	unsigned char calc[32];
	char fp[65], subj[513];
	const char *es;
	uint64_t seq;
	offca_rc rc;

	if (r->der == NULL || EVP_Digest(r->der, r->der_len, calc, NULL, EVP_sha256(), NULL) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
	if (memcmp(calc, r->sha256, 32) != 0)
		return mismatch("certificate", hex, "record holds a DER whose SHA-256 is not the record's", 0);
	rc = bind_get(st, txn, 'c', r->serial.b, CA_SERIAL_LEN, &seq);
	if (rc == OFFCA_E_NOT_FOUND)
		return mismatch("certificate", hex, "is bound to no sign entry", 0);
	if (rc != OFFCA_OK)
		return rc;
	rc = load_bound(st, txn, seq, "sign", "certificate", hex, &b);
	if (rc != OFFCA_OK)
		return rc;
	hex32(calc, fp);
	subject_cut(r->subject, subj);
	es = json_string_value(json_object_get(b.d, "subject"));
	if (!field_is(b.d, "serial", hex))
		rc = mismatch("certificate", hex, "is bound to the sign entry of another serial", seq);
	else if (!field_is(b.d, "sha256", fp))
		rc = mismatch("certificate", hex, "record holds another certificate than the one signed", seq);
	else if (!field_is(b.d, "issuer", r->issuer))
		rc = mismatch("certificate", hex, "record names another issuer than the one that signed it", seq);
	else if (!field_is(b.d, "profile", r->profile))
		rc = mismatch("certificate", hex, "record names another profile than the one signed", seq);
	else if (!field_is(b.d, "source", r->source))
		rc = mismatch("certificate", hex, "record names another source than the one signed", seq);
	else if (es != NULL && strcmp(es, subj) != 0)
		rc = mismatch("certificate", hex, "record names another subject than the one signed", seq);
	json_decref(b.d);
	return rc;
}

static offca_rc check_revoke_entry(ca_store *st, MDB_txn *txn, const ca_cert_record *r, const char *hex)
{
	struct bound b;
	uint64_t seq;
	json_int_t when;
	offca_rc rc = bind_get(st, txn, 'r', r->serial.b, CA_SERIAL_LEN, &seq);

	if (rc == OFFCA_E_NOT_FOUND)
		return r->status == CA_CERT_REVOKED ? mismatch("certificate", hex, "record says revoked but no revoke "
							       "entry is bound to it", 0) : OFFCA_OK;
	if (rc != OFFCA_OK)
		return rc;
	if (r->status != CA_CERT_REVOKED)
		return mismatch("certificate", hex, "was revoked but its record says valid", seq);
	rc = load_bound(st, txn, seq, "revoke", "certificate", hex, &b);
	if (rc != OFFCA_OK)
		return rc;
	when = json_integer_value(json_object_get(b.d, "time"));
	if (!field_is(b.d, "serial", hex) || !field_is(b.d, "issuer", r->issuer))
		rc = mismatch("certificate", hex, "record's issuer or serial is not the revoked one", seq);
	else if (ca_reason_name(r->reason) == NULL || !field_is(b.d, "reason", ca_reason_name(r->reason)) ||
		 (int64_t)when != r->revoked_at)
		rc = mismatch("certificate", hex, "was revoked but its record says otherwise", seq);
	json_decref(b.d);
	return rc;
}

offca_rc ca_st_cert_check_txn(ca_store *st, MDB_txn *txn, const ca_cert_record *r)
{
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;

	ca_serial_hex(&r->serial, hex, sizeof(hex));
	rc = check_sign_entry(st, txn, r, hex);
	if (rc == OFFCA_OK)
		rc = check_revoke_entry(st, txn, r, hex);
	return rc;
}

offca_rc ca_store_cert_check(ca_store *st, const ca_cert_record *r)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (st == NULL || r == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_check: NULL argument");
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_cert_check_txn(st, txn, r);
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_store_pending_check(ca_store *st, uint64_t id, const unsigned char *der, size_t len)
{
	MDB_txn *txn = NULL;
	unsigned char key[8], calc[32];
	char fp[65], name[32];
	struct bound b;
	uint64_t seq;
	json_int_t bid;
	MDB_val k, v;
	offca_rc rc;
	int e;

	if (st == NULL || der == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_pending_check: NULL argument");
	snprintf(name, sizeof(name), "#%llu", (unsigned long long)id);
	if (EVP_Digest(der, len, calc, NULL, EVP_sha256(), NULL) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
	hex32(calc, fp);
	ca_be64_put(key, id);
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	k.mv_size = 8;
	k.mv_data = key;
	if ((e = mdb_get(txn, st->dbi[DB_PENDING], &k, &v)) != MDB_SUCCESS) {
		rc = e == MDB_NOTFOUND ? ut_err(OFFCA_E_NOT_FOUND, "no pending CSR #%llu (already signed or removed?)",
						(unsigned long long)id) : ca_st_rc(e, "reading a pending CSR");
		mdb_txn_abort(txn);
		return rc;
	}
	rc = bind_get(st, txn, 'p', key, 8, &seq);
	if (rc == OFFCA_E_NOT_FOUND)
		rc = mismatch("pending CSR", name, "is bound to no pending-add entry", 0);
	else if (rc == OFFCA_OK && (rc = load_bound(st, txn, seq, "pending-add", "pending CSR", name, &b)) == OFFCA_OK) {
		bid = json_integer_value(json_object_get(b.d, "id"));
		if ((uint64_t)bid != id)
			rc = mismatch("pending CSR", name, "is bound to the entry of another CSR", seq);
		else if (!field_is(b.d, "sha256", fp))
			rc = mismatch("pending CSR", name, "holds another CSR than the one queued", seq);
		json_decref(b.d);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* The revoke entry the issuer's count points at must say that count (0: nothing revoked yet). */
static offca_rc check_count_entry(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t count, uint64_t seq)
{
	struct bound b;
	offca_rc rc;

	if (count == 0 && seq == 0)
		return OFFCA_OK;
	rc = load_bound(st, txn, seq, "revoke", "the revocation count of issuer", issuer, &b);
	if (rc != OFFCA_OK)
		return rc;
	if (!field_is(b.d, "issuer", issuer) ||
	    (uint64_t)json_integer_value(json_object_get(b.d, "count")) != count)
		rc = mismatch("the revocation count of issuer", issuer, "is not the one its last revoke entry says", seq);
	json_decref(b.d);
	return rc;
}

struct missing {
	ca_store *st;
	MDB_txn *txn;
	const char *issuer;
	char serial[2 * CA_SERIAL_LEN + 1];
	uint64_t seq;
};

/* A revoke entry of the issuer whose serial the revoked index lacks (the slow path of a refusal). */
static int find_missing(void *arg, const ca_audit_entry *e)
{
	struct missing *m = arg;
	json_t *d;
	const char *hex;
	ca_serial s;
	MDB_val k = {CA_SERIAL_LEN, s.b}, v;
	int found = 0;

	if (strcmp(e->action, "revoke") != 0 || (d = json_loads(e->detail, 0, NULL)) == NULL)
		return 0;
	hex = json_string_value(json_object_get(d, "serial"));
	if (field_is(d, "issuer", m->issuer) && hex != NULL && ca_serial_parse(hex, &s) == OFFCA_OK &&
	    mdb_get(m->txn, m->st->dbi[DB_REVOKED], &k, &v) == MDB_NOTFOUND) {
		snprintf(m->serial, sizeof(m->serial), "%s", hex);
		m->seq = e->seq;
		found = 1;
	}
	json_decref(d);
	return found;
}

static offca_rc shortened(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t count, size_t have)
{
	struct missing m = {st, txn, issuer, "", 0};

	ca_store_audit_each(st, 0, find_missing, &m);
	if (m.seq != 0)
		return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: certificate %s of issuer '%s' was "
			      "revoked (audit entry #%llu) but the store no longer lists it as revoked", m.serial, issuer,
			      (unsigned long long)m.seq);
	return ut_err(OFFCA_E_VERIFY, "store does not match the audit log: issuer '%s' has %llu revocations in the "
		      "audit log but %zu revoked records in the store", issuer, (unsigned long long)count, have);
}

/* One serial of the revocation index: its record checked, revoked; *mine set when it is issuer's. */
static offca_rc check_revoked_one(ca_store *st, MDB_txn *txn, const MDB_val *k, const char *issuer, int *mine)
{
	ca_cert_record r;
	ca_serial s;
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;

	*mine = 0;
	if (k->mv_size != CA_SERIAL_LEN)
		return ut_err(OFFCA_E_STORE, "revocation index entry is malformed (store damaged?)");
	memcpy(s.b, k->mv_data, CA_SERIAL_LEN);
	rc = ca_st_cert_get_txn(st, txn, &s, &r);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_cert_check_txn(st, txn, &r);
	if (rc == OFFCA_OK && r.status != CA_CERT_REVOKED)
		rc = mismatch("certificate", ca_serial_hex(&s, hex, sizeof(hex)), "is in the revocation index but its "
			      "record says valid", 0);
	*mine = strcmp(r.issuer, issuer) == 0;
	ca_cert_record_clear(&r);
	return rc;
}

offca_rc ca_store_revoked_check(ca_store *st, const char *issuer, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t count = 0, seq = 0;
	size_t have = 0;
	offca_rc rc;
	int e = MDB_NOTFOUND, mine;

	if (n != NULL)
		*n = 0;
	if (st == NULL || issuer == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_revoked_check: NULL argument");
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_revoked_count(st, txn, issuer, &count, &seq);
	if (rc == OFFCA_OK)
		rc = check_count_entry(st, txn, issuer, count, seq);
	if (rc == OFFCA_OK && (e = mdb_cursor_open(txn, st->dbi[DB_REVOKED], &cur)) != MDB_SUCCESS)
		rc = ca_st_rc(e, "reading the revocation index");
	if (rc == OFFCA_OK)
		e = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == OFFCA_OK && e == MDB_SUCCESS) {
		rc = check_revoked_one(st, txn, &k, issuer, &mine);
		have += rc == OFFCA_OK && mine;
		if (rc == OFFCA_OK)
			e = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == OFFCA_OK && e != MDB_NOTFOUND)
		rc = ca_st_rc(e, "reading the revocation index");
	if (rc == OFFCA_OK && have != count)
		rc = shortened(st, txn, issuer, count, have);
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc == OFFCA_OK && n != NULL)
		*n = have;
	return rc;
}

/* Every issuer with revocations: its revoked set checked (ca_store_revoked_check); *sum gets the
   total of their counts. */
offca_rc ca_st_revoked_counts_verify(ca_store *st, uint64_t *sum)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	unsigned char start = 'n';
	MDB_val k = {1, &start}, v;
	char (*names)[64] = NULL, (*grown)[64];
	size_t n = 0, cap = 0, have;
	offca_rc rc = ca_st_begin(st, 1, &txn);
	int r = MDB_NOTFOUND;

	*sum = 0;
	if (rc == OFFCA_OK && (r = mdb_cursor_open(txn, st->dbi[DB_BIND], &cur)) != MDB_SUCCESS)
		rc = ca_st_rc(r, "reading the revocation counts");
	for (r = rc == OFFCA_OK ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
	     r == MDB_SUCCESS && k.mv_size > 1 && k.mv_size <= 64 && ((const unsigned char *)k.mv_data)[0] == 'n';
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = ut_err(OFFCA_E_NOMEM, "out of memory");
				break;
			}
			names = grown;
		}
		memcpy(names[n], (const char *)k.mv_data + 1, k.mv_size - 1);
		names[n][k.mv_size - 1] = '\0';
		n++;
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		rc = ca_store_revoked_check(st, names[i], &have);
		*sum += have;
	}
	free(names);
	return rc;
}
