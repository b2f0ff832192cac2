/* test_audit_records.c - records edited in LMDB behind the audit log's back are caught by
   ca_store_audit_check_records(): an undone revocation, a deleted record, a swapped certificate,
   a record added without a sign entry. The audit chain itself stays valid in each case. */
#include "test_store_util.h"
#include "store_int.h"

#include <lmdb.h>

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi certs, revoked, fp;
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
	assert_int_equal(mdb_dbi_open(w->txn, "fp", 0, &w->fp), 0);
}

static void raw_close(struct raw *w)
{
	assert_int_equal(mdb_txn_commit(w->txn), 0);
	mdb_env_close(w->env);
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

enum edit { UNREVOKE, DELETE, SWAP, ADD, REASON, N_EDITS };

static void run(enum edit what)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[3], r;
	struct raw w;
	size_t n = 0, nr = 0;
	uint64_t entries;
	MDB_val k;

	for (int i = 0; i < 3; i++)
		tsu_record(st, "int", "e.example", "DNS:e.example", 30, &recs[i]);
	assert_int_equal(ca_store_cert_commit(st, recs, 3), OFFCA_OK);
	assert_int_equal(ca_store_revoke(st, &recs[0].serial, 1, 1700000000), OFFCA_OK);
	assert_int_equal(ca_store_audit_check_records(st, &n, &nr), OFFCA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(nr, 1);
	ca_store_free(st);
	st = NULL;

	raw_open(home, &w);
	switch (what) {
	case UNREVOKE: /* make the revoked certificate valid again, index included */
		r = recs[0];
		r.status = CA_CERT_VALID;
		r.revoked_at = 0;
		r.reason = 0;
		raw_put_record(&w, &r);
		k.mv_size = CA_SERIAL_LEN;
		k.mv_data = recs[0].serial.b;
		assert_int_equal(mdb_del(w.txn, w.revoked, &k, NULL), 0);
		break;
	case REASON: /* keep it revoked, change the reason */
		r = recs[0];
		r.status = CA_CERT_REVOKED;
		r.revoked_at = 1700000000;
		r.reason = 4;
		raw_put_record(&w, &r);
		break;
	case DELETE:
		k.mv_size = CA_SERIAL_LEN;
		k.mv_data = recs[1].serial.b;
		assert_int_equal(mdb_del(w.txn, w.certs, &k, NULL), 0);
		break;
	case SWAP: /* record 2 now holds certificate 1 */
		r = recs[1];
		r.serial = recs[2].serial;
		raw_put_record(&w, &r);
		break;
	case ADD: /* a record nobody signed, under a fresh serial */
		r = recs[2];
		memset(r.serial.b, 0x5a, CA_SERIAL_LEN);
		raw_put_record(&w, &r);
		break;
	default:
		break;
	}
	raw_close(&w);

	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &entries), OFFCA_OK); /* the chain is intact */
	assert_int_equal(ca_store_audit_check_records(st, &n, &nr), OFFCA_E_VERIFY);
	print_message("edit %d: %s\n", (int)what, ut_err_msg());
	assert_non_null(strstr(ut_err_msg(), "does not match the audit log"));
	for (int i = 0; i < 3; i++)
		ca_cert_record_clear(&recs[i]);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static void test_edits(void **state)
{
	for (int e = 0; e < N_EDITS; e++)
		run((enum edit)e);
}

/* A record committed already revoked gets its revoke entry too, so the check passes. */
static void test_commit_revoked(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record rec;
	size_t n = 0, nr = 0;

	tsu_record(st, "int", "r.example", "DNS:r.example", 30, &rec);
	rec.status = CA_CERT_REVOKED;
	rec.reason = 1;
	rec.revoked_at = 1700000000;
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_OK);
	assert_int_equal(ca_store_audit_check_records(st, &n, &nr), OFFCA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(nr, 1);
	assert_int_equal(ca_store_revoke(st, &rec.serial, 1, 1700000001), OFFCA_E_STATE);
	ca_cert_record_clear(&rec);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static void test_reserved_actions(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	size_t n = 9, nr = 9;

	assert_int_equal(ca_store_audit(st, "sign", "{\"serial\":\"01\",\"sha256\":\"00\"}"), OFFCA_E_USAGE);
	assert_int_equal(ca_store_audit(st, "revoke", "{}"), OFFCA_E_USAGE);
	assert_int_equal(ca_store_audit(st, "key-use", "{}"), OFFCA_OK);
	assert_int_equal(ca_store_audit_check_records(st, &n, &nr), OFFCA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(nr, 0);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_commit_revoked),
		cmocka_unit_test(test_reserved_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
