/* test_audit_bind.c - records edited in the real LMDB with the audit chain left intact (what
   mdb_dump/mdb_load of one key does): every edit issue 11 lists is caught by
   ca_store_audit_check_records() (offca audit verify), and the check a command runs before acting
   on the record (export: ca_store_cert_check, sign --pending: ca_store_pending_check, crl:
   ca_store_revoked_check) refuses naming the serial or pending id. A chain cut below a signed
   checkpoint is detected. */
#include "test_store_util.h"
#include "store_int.h"

#include <lmdb.h>

#include "offca/sign.h"

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi certs, revoked, pending, audit, meta;
};

static void raw_open(const char *home, struct raw *w)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/store", home);
	assert_int_equal(mdb_env_create(&w->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(w->env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(w->env, (size_t)8 << 30), 0);
	assert_int_equal(mdb_env_open(w->env, p, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(w->env, NULL, 0, &w->txn), 0);
	assert_int_equal(mdb_dbi_open(w->txn, "certs", 0, &w->certs), 0);
	assert_int_equal(mdb_dbi_open(w->txn, "revoked", 0, &w->revoked), 0);
	assert_int_equal(mdb_dbi_open(w->txn, "pending", 0, &w->pending), 0);
	assert_int_equal(mdb_dbi_open(w->txn, "audit", 0, &w->audit), 0);
	assert_int_equal(mdb_dbi_open(w->txn, "meta", 0, &w->meta), 0);
}

static void raw_close(struct raw *w)
{
	assert_int_equal(mdb_txn_commit(w->txn), 0);
	mdb_env_close(w->env);
}

/* The stored record of serial s, decoded (caller clears). */
static void raw_get_record(struct raw *w, const ca_serial *s, ca_cert_record *r)
{
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v;

	assert_int_equal(mdb_get(w->txn, w->certs, &k, &v), 0);
	assert_int_equal(ca_rec_decode(v.mv_data, v.mv_size, r), OFFCA_OK);
}

static void raw_put_record(struct raw *w, const ca_cert_record *r)
{
	ca_wbuf b = {0};
	MDB_val k = {CA_SERIAL_LEN, (void *)r->serial.b}, v;

	assert_int_equal(ca_rec_encode(r, &b), OFFCA_OK);
	v.mv_size = b.len;
	v.mv_data = b.p;
	assert_int_equal(mdb_put(w->txn, w->certs, &k, &v, 0), 0);
	ca_wb_free(&b);
}

/* Pending record: u8 version=1 | i64 received | str source | blob der (store_pending.c). */
static void raw_put_pending(struct raw *w, uint64_t id, const char *der)
{
	unsigned char key[8];
	ca_wbuf b = {0};
	MDB_val k = {8, key}, v;

	ca_be64_put(key, id);
	ca_wb_u8(&b, 1);
	ca_wb_i64(&b, 1700000000);
	ca_wb_str(&b, "unit test");
	ca_wb_blob(&b, der, strlen(der));
	v.mv_size = b.len;
	v.mv_data = b.p;
	assert_int_equal(mdb_put(w->txn, w->pending, &k, &v, 0), 0);
	ca_wb_free(&b);
}

enum edit {
	REVOKED_ISSUER, /* a revoked certificate's record moved to another issuer (un-revocation) */
	DER_SWAP,       /* B's DER in A's record (A's fingerprint field kept) */
	DER_SWAP_FP,    /* B's DER and B's fingerprint in A's record */
	SUBJECT,
	SANS,
	NOT_AFTER,
	PROFILE,
	STATUS_REVOKED, /* a valid record says revoked (index included) */
	STATUS_VALID,   /* a revoked record says valid, the index left as it was */
	PENDING_DER,    /* a pending CSR replaced by another one */
	REVOKED_INDEX,  /* a serial deleted from the revocation index */
	N_EDITS
};

static const char *const edit_name[N_EDITS] = {"revoked-issuer", "der-swap", "der-swap-fp", "subject", "sans",
					       "not-after", "profile", "status-revoked", "status-valid",
					       "pending-der", "revoked-index"};

struct fixture {
	char *dir, home[512];
	ca_cert_record recs[3]; /* recs[0] revoked; recs[1], recs[2] valid */
	uint64_t ids[2];        /* pending CSRs */
};

static void setup(struct fixture *fx)
{
	ca_store *st = tsu_home(&fx->dir, fx->home, sizeof(fx->home));
	const unsigned char *ders[2] = {(const unsigned char *)"csr for a.example", (const unsigned char *)"csr for b.example"};
	size_t lens[2] = {17, 17}, n = 0, nr = 0;

	tsu_record(st, "int", "a.example", "DNS:a.example,DNS:www.a.example", 30, &fx->recs[0]);
	tsu_record(st, "int", "b.example", "DNS:b.example", 30, &fx->recs[1]);
	tsu_record(st, "int", "c.example", "DNS:c.example", 30, &fx->recs[2]);
	assert_int_equal(ca_store_cert_commit(st, fx->recs, 3), OFFCA_OK);
	assert_int_equal(ca_store_revoke(st, &fx->recs[0].serial, 1, 1700000000), OFFCA_OK);
	assert_int_equal(ca_store_pending_add(st, ders, lens, 2, "unit test", fx->ids), OFFCA_OK);
	/* untouched, everything passes */
	assert_int_equal(ca_store_audit_verify(st, NULL), OFFCA_OK);
	if (ca_store_audit_check_records(st, &n, &nr) != OFFCA_OK)
		fail_msg("untouched store: %s", ut_err_msg());
	assert_int_equal(n, 3);
	assert_int_equal(nr, 1);
	for (int i = 0; i < 3; i++) {
		ca_cert_record r;
		assert_int_equal(ca_store_cert_by_serial(st, &fx->recs[i].serial, &r), OFFCA_OK);
		assert_int_equal(ca_store_cert_check(st, &r), OFFCA_OK);
		ca_cert_record_clear(&r);
	}
	assert_int_equal(ca_store_cert_check(st, &fx->recs[0]), OFFCA_E_VERIFY); /* says valid: it was revoked */
	assert_int_equal(ca_store_pending_check(st, fx->ids[0], ders[0], lens[0]), OFFCA_OK);
	assert_int_equal(ca_store_revoked_check(st, "int", &n), OFFCA_OK);
	assert_int_equal(n, 1);
	ca_store_free(st);
}

static void edit(struct fixture *fx, enum edit what)
{
	struct raw w;
	ca_cert_record r, b;
	MDB_val k = {CA_SERIAL_LEN, NULL};

	memset(&r, 0, sizeof(r));
	memset(&b, 0, sizeof(b));
	raw_open(fx->home, &w);
	raw_get_record(&w, &fx->recs[what == STATUS_VALID || what == REVOKED_ISSUER ? 0 : 1].serial, &r);
	switch (what) {
	case REVOKED_ISSUER:
		snprintf(r.issuer, sizeof(r.issuer), "other");
		break;
	case DER_SWAP:
	case DER_SWAP_FP:
		raw_get_record(&w, &fx->recs[2].serial, &b);
		free(r.der);
		r.der = b.der;
		r.der_len = b.der_len;
		b.der = NULL;
		if (what == DER_SWAP_FP)
			memcpy(r.sha256, b.sha256, 32);
		break;
	case SUBJECT:
		free(r.subject);
		r.subject = strdup("CN=evil.example");
		break;
	case SANS:
		free(r.sans[0]);
		r.sans[0] = strdup("DNS:evil.example");
		break;
	case NOT_AFTER:
		r.not_after += 365 * 86400;
		break;
	case PROFILE:
		snprintf(r.profile, sizeof(r.profile), "client");
		break;
	case STATUS_REVOKED:
		r.status = CA_CERT_REVOKED;
		r.reason = 1;
		r.revoked_at = 1700000000;
		k.mv_data = r.serial.b;
		assert_int_equal(mdb_put(w.txn, w.revoked, &k, &(MDB_val){0, ""}, 0), 0);
		break;
	case STATUS_VALID:
		r.status = CA_CERT_VALID;
		r.reason = 0;
		r.revoked_at = 0;
		break;
	case PENDING_DER:
		raw_put_pending(&w, fx->ids[0], "csr for evil.exampl");
		break;
	case REVOKED_INDEX:
		k.mv_data = fx->recs[0].serial.b;
		assert_int_equal(mdb_del(w.txn, w.revoked, &k, NULL), 0);
		break;
	default:
		break;
	}
	if (what != PENDING_DER && what != REVOKED_INDEX)
		raw_put_record(&w, &r);
	ca_cert_record_clear(&r);
	ca_cert_record_clear(&b);
	raw_close(&w);
}

/* What a command reading the edited record is told (export, sign --pending, crl). */
static void command_refuses(ca_store *st, struct fixture *fx, enum edit what)
{
	ca_cert_record r;
	ca_pending p;
	char hex[2 * CA_SERIAL_LEN + 1], id[32];
	const ca_serial *s = &fx->recs[what == STATUS_VALID || what == REVOKED_ISSUER || what == REVOKED_INDEX ? 0 : 1].serial;

	ca_serial_hex(s, hex, sizeof(hex));
	switch (what) {
	case PENDING_DER: /* sign --pending: the CSR as read from the queue */
		assert_int_equal(ca_store_pending_get(st, fx->ids[0], &p), OFFCA_OK);
		assert_int_equal(ca_store_pending_check(st, p.id, p.der, p.len), OFFCA_E_VERIFY);
		snprintf(id, sizeof(id), "pending CSR #%llu", (unsigned long long)fx->ids[0]);
		assert_non_null(strstr(ut_err_msg(), id));
		ca_pending_clear(&p);
		return;
	case REVOKED_INDEX: /* crl: the revoked set of the issuer */
	case REVOKED_ISSUER:
	case STATUS_VALID:
		assert_int_equal(ca_store_revoked_check(st, "int", NULL), OFFCA_E_VERIFY);
		print_message("  crl: %s\n", ut_err_msg());
		assert_non_null(strstr(ut_err_msg(), hex));
		if (what == REVOKED_INDEX)
			return;
		break;
	default:
		break;
	}
	/* export: the record as found */
	assert_int_equal(ca_store_cert_by_serial(st, s, &r), OFFCA_OK);
	if (what == SANS || what == NOT_AFTER) {
		/* not repeated in the sign entry: export writes the DER, which is bound, so what leaves
		   is right; audit verify (decoding the DER) is what sees these */
		assert_int_equal(ca_store_cert_check(st, &r), OFFCA_OK);
	} else {
		assert_int_equal(ca_store_cert_check(st, &r), OFFCA_E_VERIFY);
		print_message("  export: %s\n", ut_err_msg());
		assert_non_null(strstr(ut_err_msg(), hex));
	}
	if (r.status == CA_CERT_VALID && what != SANS && what != NOT_AFTER) { /* revoke: never on an edited record */
		assert_int_equal(ca_store_revoke(st, s, 1, 1700000001), OFFCA_E_VERIFY);
		assert_non_null(strstr(ut_err_msg(), hex));
	}
	ca_cert_record_clear(&r);
}

static void run(enum edit what)
{
	struct fixture fx;
	ca_store *st = NULL;

	memset(&fx, 0, sizeof(fx));
	setup(&fx);
	edit(&fx, what);
	assert_int_equal(ca_store_open(fx.home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, NULL), OFFCA_OK); /* the chain itself is intact */
	assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_E_VERIFY);
	print_message("%s: %s\n", edit_name[what], ut_err_msg());
	assert_non_null(strstr(ut_err_msg(), "does not match the audit log"));
	command_refuses(st, &fx, what);
	for (int i = 0; i < 3; i++)
		ca_cert_record_clear(&fx.recs[i]);
	ca_store_free(st);
	tu_rmrf(fx.dir);
	free(fx.dir);
}

static void test_edits(void **state)
{
	(void)state;
	for (int e = 0; e < N_EDITS; e++)
		run((enum edit)e);
}

/* The entry detail of the audit entry seq, raw. */
static void raw_entry_hash(struct raw *w, uint64_t seq, unsigned char hash[32])
{
	unsigned char key[8];
	MDB_val k = {8, key}, v;

	ca_be64_put(key, seq);
	assert_int_equal(mdb_get(w->txn, w->audit, &k, &v), 0);
	memcpy(hash, (const unsigned char *)v.mv_data + v.mv_size - 32, 32);
}

/* An issuer "int" whose certificate holds tsu_key(): checkpoints verify with it. */
static void add_issuer(ca_store *st)
{
	ca_issuer iss;
	ca_serial s;

	memset(&iss, 0, sizeof(iss));
	memset(s.b, 0x11, CA_SERIAL_LEN);
	snprintf(iss.name, sizeof(iss.name), "int");
	iss.der = tsu_cert(&s, "Int CA", NULL, 365, &iss.der_len);
	iss.created = 1700000000;
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	OPENSSL_free(iss.der);
}

static void test_checkpoint_truncation(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	unsigned char hash[32], cut_hash[32], head[40];
	uint64_t seq = 0, cut, newest = 0, n = 0;
	size_t nck = 0;
	EVP_PKEY *other = EVP_EC_gen("P-256");
	struct raw w;
	MDB_val k, v;

	(void)state;
	add_issuer(st);
	assert_int_equal(ca_store_audit(st, "note", "one"), OFFCA_OK);
	assert_int_equal(ca_store_audit(st, "note", "two"), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &cut), OFFCA_OK); /* cut back to "one" below */
	cut--;
	assert_int_equal(ca_store_audit(st, "note", "three"), OFFCA_OK);
	/* a key that is not the issuer's cannot sign its checkpoint */
	assert_int_equal(ca_audit_checkpoint_key(st, "int", other, &seq, hash), OFFCA_E_VERIFY);
	assert_int_equal(ca_audit_checkpoint_key(st, "int", tsu_key(), &seq, hash), OFFCA_OK);
	assert_int_equal(seq, cut + 2);
	assert_int_equal(ca_store_audit(st, "note", "four"), OFFCA_OK);
	assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_OK);
	assert_int_equal(ca_store_checkpoint_verify(st, &nck, &newest), OFFCA_OK);
	assert_int_equal(nck, 1);
	assert_int_equal(newest, seq);
	ca_store_free(st);

	/* cut everything after "one" and rewrite the head: the chain alone cannot tell */
	raw_open(home, &w);
	raw_entry_hash(&w, cut, cut_hash);
	for (uint64_t s = cut + 1; s <= seq + 2; s++) {
		unsigned char key[8];
		ca_be64_put(key, s);
		k.mv_size = 8;
		k.mv_data = key;
		assert_int_equal(mdb_del(w.txn, w.audit, &k, NULL), 0);
	}
	ca_be64_put(head, cut);
	memcpy(head + 8, cut_hash, 32);
	k.mv_size = 10;
	k.mv_data = "audit_head";
	v.mv_size = 40;
	v.mv_data = head;
	assert_int_equal(mdb_put(w.txn, w.meta, &k, &v, 0), 0);
	raw_close(&w);

	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(n, cut);
	assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_E_VERIFY);
	print_message("truncated: %s\n", ut_err_msg());
	assert_non_null(strstr(ut_err_msg(), "entries were cut"));
	ca_store_free(st);
	EVP_PKEY_free(other);
	tu_rmrf(dir);
	free(dir);
}

/* A checkpoint whose signature was altered, and one removed while its entry stays. */
static void test_checkpoint_tampered(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	unsigned char hash[32], key[9];
	uint64_t seq = 0;
	struct raw w;
	MDB_dbi bind;
	MDB_val k = {9, key}, v;
	unsigned char *copy;

	(void)state;
	add_issuer(st);
	assert_int_equal(ca_audit_checkpoint_key(st, "int", tsu_key(), &seq, hash), OFFCA_OK);
	ca_store_free(st);
	key[0] = 'k';
	ca_be64_put(key + 1, seq);
	for (int pass = 0; pass < 2; pass++) {
		raw_open(home, &w);
		assert_int_equal(mdb_dbi_open(w.txn, "bind", 0, &bind), 0);
		if (pass == 0) { /* flip a bit of the signature (its last byte) */
			assert_int_equal(mdb_get(w.txn, bind, &k, &v), 0);
			copy = malloc(v.mv_size);
			assert_non_null(copy);
			memcpy(copy, v.mv_data, v.mv_size);
			copy[v.mv_size - 1] ^= 1;
			v.mv_data = copy;
			assert_int_equal(mdb_put(w.txn, bind, &k, &v, 0), 0);
			free(copy);
		} else {
			assert_int_equal(mdb_del(w.txn, bind, &k, NULL), 0);
		}
		raw_close(&w);
		assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
		assert_int_equal(ca_store_audit_verify(st, NULL), OFFCA_OK);
		assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_E_VERIFY);
		print_message("checkpoint %s: %s\n", pass == 0 ? "altered" : "removed", ut_err_msg());
		assert_non_null(strstr(ut_err_msg(), pass == 0 ? "does not verify" : "was removed"));
		ca_store_free(st);
	}
	tu_rmrf(dir);
	free(dir);
}

/* Entries are bound as committed: the pending-add entries carry each CSR's SHA-256, the revoke
   entry the issuer's running count; a removed CSR leaves no binding behind. */
static void test_entries(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	const unsigned char *ders[1] = {(const unsigned char *)"abc"};
	size_t lens[1] = {3};
	uint64_t id = 0;

	(void)state;
	assert_int_equal(ca_store_pending_add(st, ders, lens, 1, "unit test", &id), OFFCA_OK);
	/* SHA-256("abc") */
	assert_int_equal(ca_store_pending_check(st, id, ders[0], 3), OFFCA_OK);
	assert_int_equal(ca_store_pending_check(st, id, (const unsigned char *)"abd", 3), OFFCA_E_VERIFY);
	assert_int_equal(ca_store_pending_remove(st, id), OFFCA_OK);
	assert_int_equal(ca_store_pending_check(st, id, ders[0], 3), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_audit_check_records(st, NULL, NULL), OFFCA_OK);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_checkpoint_truncation),
		cmocka_unit_test(test_checkpoint_tampered),
		cmocka_unit_test(test_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
