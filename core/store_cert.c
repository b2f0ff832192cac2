/*
 * store_cert.c - certificate records: commit (with every index and an audit entry per
 * certificate, in one transaction), lookups by serial / fingerprint / text, revocation.
 * Iteration and the SAN index live in store_query.c.
 */
#include "store_int.h"
#include "offca/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* be64(notAfter with the sign bit flipped, so negative times sort first) || serial */
void ca_st_expiry_key(int64_t not_after, const ca_serial *s, unsigned char key[8 + CA_SERIAL_LEN])
{
	ca_be64_put(key, (uint64_t)not_after ^ (UINT64_C(1) << 63));
	memcpy(key + 8, s->b, CA_SERIAL_LEN);
}

size_t ca_st_san_prefix(const char *san, unsigned char *key, size_t cap)
{
	size_t n = strlen(san);

	if (n <= STORE_SAN_KEY_MAX && n + 1 <= cap) {
		memcpy(key, san, n);
		key[n] = '\0';
		return n + 1;
	}
	if (cap < 34)
		return 0;
	key[0] = 0x01; /* long SAN: its SHA-256 stands in (no text SAN starts with 0x01) */
	if (EVP_Digest(san, n, key + 1, NULL, EVP_sha256(), NULL) != 1)
		return 0;
	key[33] = '\0';
	return 34;
}

static offca_rc put_index(ca_store *st, MDB_txn *txn, int db, const void *k, size_t klen, const void *v,
			  size_t vlen, unsigned flags, const char *what)
{
	MDB_val mk = {klen, (void *)k}, mv = {vlen, (void *)v};
	int r = mdb_put(txn, st->dbi[db], &mk, &mv, flags);

	return ca_st_rc(r, what);
}

/* The subject as the "sign" entry shows it: at most 512 bytes, never cutting a UTF-8 sequence. */
static size_t subject_cut(const ca_cert_record *r, char subj[513])
{
	size_t n = r->subject ? strnlen(r->subject, 512) : 0;

	memcpy(subj, r->subject ? r->subject : "", n);
	while (n > 0 && n == 512 && ((unsigned char)subj[n - 1] & 0xC0) == 0x80)
		n--; /* never cut a UTF-8 sequence */
	subj[n] = '\0';
	return n;
}

/* Printable ASCII only (0x20..0x7e): JSON needs nothing escaped there but '"' and '\\'. */
static int plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Append "key":"value" (value plain ASCII, see plain_ascii()) to d at *n; 0 if it does not fit. */
static int put_field(char *d, size_t cap, size_t *n, const char *key, const char *val)
{
	size_t i = *n, kl = strlen(key);

	if (i + kl + 6 >= cap)
		return 0;
	d[i] = i == 0 ? '{' : ',';
	i++;
	d[i++] = '"';
	memcpy(d + i, key, kl);
	i += kl;
	d[i++] = '"';
	d[i++] = ':';
	d[i++] = '"';
	for (; *val; val++) {
		if (i + 4 >= cap)
			return 0;
		if (*val == '"' || *val == '\\')
			d[i++] = '\\';
		d[i++] = *val;
	}
	d[i++] = '"';
	*n = i;
	return 1;
}

/*
 * The "sign" entry's detail into d (CA_STORE_MAX_DETAIL + 1 bytes): the compact JSON object
 * {"serial","issuer","profile","subject","sha256","source"} in that order, exactly as jansson's
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes it. Strings that are all printable ASCII
 * (the usual case) are written here; anything else (control characters, UTF-8, invalid UTF-8)
 * goes through jansson as before: a subject that is not valid UTF-8 is then left out.
 */
static offca_rc sign_detail(const ca_cert_record *r, char *d, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	char hex[2 * CA_SERIAL_LEN + 1], fp[65], subj[513], *j = NULL;
	size_t n = 0;

	ca_serial_hex(&r->serial, hex, sizeof(hex));
	for (size_t i = 0; i < 32; i++) {
		fp[2 * i] = hx[r->sha256[i] >> 4];
		fp[2 * i + 1] = hx[r->sha256[i] & 15];
	}
	fp[64] = '\0';
	subject_cut(r, subj);
	if (plain_ascii(r->issuer) && plain_ascii(r->profile) && plain_ascii(subj) && plain_ascii(r->source)) {
		if (put_field(d, cap, &n, "serial", hex) && put_field(d, cap, &n, "issuer", r->issuer) &&
		    put_field(d, cap, &n, "profile", r->profile) && put_field(d, cap, &n, "subject", subj) &&
		    put_field(d, cap, &n, "sha256", fp) && put_field(d, cap, &n, "source", r->source) && n + 1 < cap) {
			d[n++] = '}';
			d[n] = '\0';
			return OFFCA_OK;
		}
		return ut_err(OFFCA_E_TOO_BIG, "audit detail longer than %u bytes", CA_STORE_MAX_DETAIL);
	}
	j = ca_audit_json("{s:s,s:s,s:s,s:s,s:s,s:s}", "serial", hex, "issuer", r->issuer, "profile", r->profile,
			  "subject", subj, "sha256", fp, "source", r->source);
	if (j == NULL) /* a subject that is not valid UTF-8 is left out rather than failing the commit */
		j = ca_audit_json("{s:s,s:s,s:s,s:s,s:s}", "serial", hex, "issuer", r->issuer, "profile", r->profile,
				  "sha256", fp, "source", r->source);
	if (j == NULL)
		return ut_err_last();
	n = strlen(j);
	if (n >= cap) {
		free(j);
		return ut_err(OFFCA_E_TOO_BIG, "audit detail longer than %u bytes", CA_STORE_MAX_DETAIL);
	}
	memcpy(d, j, n + 1);
	free(j);
	return OFFCA_OK;
}

/* count: the issuer's number of revocations with this one (bound in the store, see store_bind.c). */
static char *revoke_detail(const ca_cert_record *r, uint64_t count)
{
	char hex[2 * CA_SERIAL_LEN + 1];
	const char *name = ca_reason_name(r->reason);

	if (name == NULL) {
		ut_err(OFFCA_E_USAGE, "revocation reason %d unknown", r->reason);
		return NULL;
	}
	return ca_audit_json("{s:s,s:s,s:s,s:I,s:I}", "serial", ca_serial_hex(&r->serial, hex, sizeof(hex)), "issuer",
			     r->issuer, "reason", name, "time", (json_int_t)r->revoked_at, "count", (json_int_t)count);
}

/* The revocation of r: its entry (through tail, or alone when tail is NULL), bound to r, and the
   issuer's revocation count moved on to it. */
static offca_rc revoke_entry(ca_store *st, MDB_txn *txn, ca_audit_tail *tail, const ca_cert_record *r)
{
	uint64_t count = 0, seq = 0;
	char *detail = NULL;
	offca_rc rc = ca_st_revoked_count(st, txn, r->issuer, &count, &seq);

	if (rc != OFFCA_OK)
		return rc;
	count++;
	detail = revoke_detail(r, count);
	if (detail == NULL)
		return ut_err_last();
	if (tail != NULL) {
		rc = ca_audit_tail_append(st, txn, tail, "revoke", detail);
		seq = tail->seq;
	} else {
		rc = ca_audit_append_txn_seq(st, txn, "revoke", detail, &seq);
	}
	free(detail);
	if (rc == OFFCA_OK)
		rc = ca_st_bind_put(st, txn, 'r', r->serial.b, CA_SERIAL_LEN, seq);
	if (rc == OFFCA_OK)
		rc = ca_st_revoked_count_put(st, txn, r->issuer, count, seq);
	return rc;
}

/* The record under its serial, encoded straight into LMDB's page (MDB_RESERVE). */
static offca_rc put_record(ca_store *st, MDB_txn *txn, const ca_cert_record *r)
{
	MDB_val k = {CA_SERIAL_LEN, (void *)r->serial.b}, v = {ca_rec_encoded_len(r), NULL};
	int e = mdb_put(txn, st->dbi[DB_CERTS], &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);

	if (e != MDB_SUCCESS)
		return ca_st_rc(e, "storing a certificate record");
	return ca_rec_encode_into(r, v.mv_data, v.mv_size);
}

offca_rc ca_st_cert_put_txn(ca_store *st, MDB_txn *txn, ca_audit_tail *tail, MDB_cursor *resv,
			    const ca_cert_record *r)
{
	unsigned char key[STORE_SAN_KEY_MAX + 1 + CA_SERIAL_LEN + 34];
	char iss[64], hex[2 * CA_SERIAL_LEN + 1], detail[CA_STORE_MAX_DETAIL + 1];
	size_t kl;
	offca_rc rc = ca_rec_check(r);

	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_resv_close(st, txn, resv, &r->serial, CA_SERIAL_USED, iss, sizeof(iss));
	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(iss, r->issuer) != 0)
		return ut_err(OFFCA_E_STATE, "serial %s was reserved for issuer '%s', not '%s'",
			      ca_serial_hex(&r->serial, hex, sizeof(hex)), iss, r->issuer);
	rc = put_record(st, txn, r);
	if (rc == OFFCA_OK)
		rc = put_index(st, txn, DB_FP, r->sha256, 32, r->serial.b, CA_SERIAL_LEN, MDB_NOOVERWRITE,
			       "certificate fingerprint index");
	if (rc == OFFCA_E_EXISTS)
		return ut_err(OFFCA_E_EXISTS, "this certificate (same SHA-256) is already in the store");
	if (rc != OFFCA_OK)
		return rc;
	ca_st_expiry_key(r->not_after, &r->serial, key);
	rc = put_index(st, txn, DB_EXPIRY, key, 8 + CA_SERIAL_LEN, "", 0, 0, "certificate expiry index");
	for (size_t i = 0; rc == OFFCA_OK && i < r->n_sans; i++) {
		kl = ca_st_san_prefix(r->sans[i], key, sizeof(key) - CA_SERIAL_LEN);
		if (kl == 0)
			return ut_err(OFFCA_E_INTERNAL, "SAN index key");
		memcpy(key + kl, r->serial.b, CA_SERIAL_LEN);
		rc = put_index(st, txn, DB_SAN, key, kl + CA_SERIAL_LEN, "", 0, 0, "certificate SAN index");
		if (rc == OFFCA_OK)
			rc = ca_st_san_rev_put(st, txn, r->sans[i], strlen(r->sans[i]), &r->serial);
	}
	if (rc == OFFCA_OK && r->status == CA_CERT_REVOKED)
		rc = put_index(st, txn, DB_REVOKED, r->serial.b, CA_SERIAL_LEN, "", 0, 0, "revocation index");
	if (rc == OFFCA_OK)
		rc = sign_detail(r, detail, sizeof(detail));
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_append(st, txn, tail, "sign", detail);
	if (rc == OFFCA_OK)
		rc = ca_st_bind_put(st, txn, 'c', r->serial.b, CA_SERIAL_LEN, tail->seq);
	if (rc != OFFCA_OK || r->status != CA_CERT_REVOKED)
		return rc;
	/* recorded as revoked from the start (imports, benchmarks): the log says so too */
	return revoke_entry(st, txn, tail, r);
}

offca_rc ca_st_cert_commit_txn(ca_store *st, MDB_txn *txn, const ca_cert_record *r)
{
	ca_audit_tail tail = {0};
	offca_rc rc = ca_audit_tail_load(st, txn, &tail);

	if (rc == OFFCA_OK)
		rc = ca_st_cert_put_txn(st, txn, &tail, NULL, r);
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_flush(st, txn, &tail);
	ca_audit_tail_clear(&tail);
	return rc;
}

offca_rc ca_st_cert_get_txn(ca_store *st, MDB_txn *txn, const ca_serial *s, ca_cert_record *out)
{
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v;
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;
	int r = mdb_get(txn, st->dbi[DB_CERTS], &k, &v);

	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_NOT_FOUND, "no certificate with serial %s in the store",
			      ca_serial_hex(s, hex, sizeof(hex)));
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading a certificate record");
	rc = ca_rec_decode(v.mv_data, v.mv_size, out);
	if (rc == OFFCA_OK && memcmp(out->serial.b, s->b, CA_SERIAL_LEN) != 0) {
		ca_cert_record_clear(out);
		return ut_err(OFFCA_E_STORE, "certificate record under serial %s holds another serial (store damaged?)",
			      ca_serial_hex(s, hex, sizeof(hex)));
	}
	return rc;
}

offca_rc ca_store_cert_by_serial(ca_store *st, const ca_serial *s, ca_cert_record *out)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (out == NULL || s == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_by_serial: NULL argument");
	memset(out, 0, sizeof(*out));
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_cert_get_txn(st, txn, s, out);
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_store_cert_by_fingerprint(ca_store *st, const unsigned char sha256[32], ca_cert_record *out)
{
	MDB_txn *txn = NULL;
	MDB_val k = {32, (void *)sha256}, v;
	ca_serial s;
	offca_rc rc;
	int r;

	if (out == NULL || sha256 == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_by_fingerprint: NULL argument");
	memset(out, 0, sizeof(*out));
	rc = ca_st_begin(st, 1, &txn);
	if (rc != OFFCA_OK)
		return rc;
	r = mdb_get(txn, st->dbi[DB_FP], &k, &v);
	if (r == MDB_NOTFOUND) {
		rc = ut_err(OFFCA_E_NOT_FOUND, "no certificate with this SHA-256 fingerprint in the store");
	} else if (r != MDB_SUCCESS || v.mv_size != CA_SERIAL_LEN) {
		rc = r != MDB_SUCCESS ? ca_st_rc(r, "fingerprint index") :
					ut_err(OFFCA_E_STORE, "fingerprint index entry is malformed");
	} else {
		memcpy(s.b, v.mv_data, CA_SERIAL_LEN);
		rc = ca_st_cert_get_txn(st, txn, &s, out);
	}
	mdb_txn_abort(txn);
	return rc;
}

offca_rc ca_store_cert_find(ca_store *st, const char *serial_or_fp, ca_cert_record *out)
{
	unsigned char fp[32];
	ca_serial s;
	offca_rc rc;

	if (out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_find: NULL argument");
	memset(out, 0, sizeof(*out));
	if (serial_or_fp == NULL)
		return ut_err(OFFCA_E_USAGE, "no serial or fingerprint given");
	if (ca_fp_parse(serial_or_fp, fp) == 0)
		return ca_store_cert_by_fingerprint(st, fp, out);
	rc = ca_serial_parse(serial_or_fp, &s);
	if (rc != OFFCA_OK)
		return ut_err(OFFCA_E_PARSE, "'%.80s' is neither a serial (up to 32 hex digits) nor a SHA-256 "
			      "fingerprint (64 hex digits)", serial_or_fp);
	return ca_store_cert_by_serial(st, &s, out);
}

static int reason_allowed(int reason)
{
	return (reason >= 0 && reason <= 6) || reason == 9;
}

/* Revoke one certificate inside txn, with its audit entry. */
static offca_rc revoke_txn(ca_store *st, MDB_txn *txn, const ca_serial *s, int reason, int64_t when)
{
	ca_cert_record r;
	ca_wbuf b = {0};
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;

	ca_serial_hex(s, hex, sizeof(hex));
	rc = ca_st_cert_get_txn(st, txn, s, &r);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_st_cert_check_txn(st, txn, &r); /* never revoke a record edited behind the log */
	if (rc != OFFCA_OK)
		goto out;
	if (r.status == CA_CERT_REVOKED) {
		rc = ut_err(OFFCA_E_STATE, "certificate %s is already revoked (reason %s): refusing to revoke it twice",
			    hex, ca_reason_name(r.reason) ? ca_reason_name(r.reason) : "?");
		goto out;
	}
	r.status = CA_CERT_REVOKED;
	r.revoked_at = when;
	r.reason = reason;
	rc = ca_rec_encode(&r, &b);
	if (rc == OFFCA_OK)
		rc = put_index(st, txn, DB_CERTS, s->b, CA_SERIAL_LEN, b.p, b.len, 0, "revoking: updating a certificate record");
	if (rc == OFFCA_OK)
		rc = put_index(st, txn, DB_REVOKED, s->b, CA_SERIAL_LEN, "", 0, 0, "revoking: revocation index");
	if (rc == OFFCA_OK)
		rc = revoke_entry(st, txn, NULL, &r);
out:
	ca_wb_free(&b);
	ca_cert_record_clear(&r);
	return rc;
}

offca_rc ca_store_revoke_many(ca_store *st, const ca_serial *serials, size_t n, int reason, int64_t when)
{
	MDB_txn *txn = NULL;
	offca_rc rc;

	if (serials == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "revoke: 1..%u certificates", CA_STORE_MAX_BATCH);
	if (!reason_allowed(reason))
		return ut_err(OFFCA_E_USAGE, "revoke: reason code %d is not one offca issues", reason);
	rc = ca_st_check_no_batch(st, "revoking");
	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = revoke_txn(st, txn, &serials[i], reason, when);
		if (rc != OFFCA_OK) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	return ca_st_commit(txn, "revoking certificates");
}

offca_rc ca_store_revoke(ca_store *st, const ca_serial *s, int reason, int64_t when)
{
	if (s == NULL)
		return ut_err(OFFCA_E_USAGE, "revoke: no serial");
	return ca_store_revoke_many(st, s, 1, reason, when);
}
