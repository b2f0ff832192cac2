/* test_audit.c - the hash-chained audit log: append, verify, and tampering found by verify
   (an entry modified, deleted, the tail truncated, a re-hashed entry that no longer chains).
   Tampering goes straight to the LMDB files, as an attacker with the disk would. */
#include "testutil.h"

#include <lmdb.h>
#include <openssl/evp.h>

#include "offca/store.h"
#include "offca/util.h"

static ca_store *fresh(char **dir, char *home, size_t cap)
{
	ca_store *st = NULL;
	char detail[64];

	*dir = strdup(tu_tmpdir());
	snprintf(home, cap, "%s/home", *dir);
	assert_int_equal(ca_store_open(home, 1, &st), OFFCA_OK);
	for (int i = 0; i < 5; i++) { /* entries 2..6 after "init" */
		snprintf(detail, sizeof(detail), "{\"n\":%d}", i);
		assert_int_equal(ca_store_audit(st, "key-use", detail), OFFCA_OK);
	}
	return st;
}

static void done(ca_store *st, char *dir)
{
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* Open the raw environment of home (store closed) and its "audit" database. */
static MDB_env *raw_open(const char *home, MDB_txn **txn, MDB_dbi *dbi, const char *db)
{
	MDB_env *env = NULL;
	char p[600];

	snprintf(p, sizeof(p), "%s/store", home);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)8 << 30), 0);
	assert_int_equal(mdb_env_open(env, p, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, db, 0, dbi), 0);
	return env;
}

static void raw_close(MDB_env *env, MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void key_of(uint64_t seq, unsigned char k[8])
{
	for (int i = 7; i >= 0; i--) {
		k[i] = (unsigned char)seq;
		seq >>= 8;
	}
}

struct rows {
	int n;
	uint64_t seq[16];
	char action[16][40];
};

static int grab(void *arg, const ca_audit_entry *e)
{
	struct rows *r = arg;

	if (r->n < 16) {
		r->seq[r->n] = e->seq;
		snprintf(r->action[r->n], sizeof(r->action[0]), "%s", e->action);
	}
	r->n++;
	return 0;
}

static void test_append_verify(void **state)
{
	char *dir, home[512];
	ca_store *st = fresh(&dir, home, sizeof(home));
	uint64_t n = 0;
	struct rows r = {0};
	char big[CA_STORE_MAX_DETAIL + 2];

	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(n, 6);
	assert_int_equal(ca_store_audit_each(st, 0, grab, &r), OFFCA_OK);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.action[0], "init");
	assert_int_equal(r.seq[0], 1);
	assert_int_equal(r.seq[5], 6);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ca_store_audit_each(st, 5, grab, &r), OFFCA_OK);
	assert_int_equal(r.n, 2);
	/* bad input refused, nothing appended */
	assert_int_equal(ca_store_audit(st, "Bad Action", "x"), OFFCA_E_USAGE);
	assert_int_equal(ca_store_audit(st, "", "x"), OFFCA_E_USAGE);
	assert_int_equal(ca_store_audit(st, "key-use", "two\nlines"), OFFCA_E_USAGE);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ca_store_audit(st, "key-use", big), OFFCA_E_TOO_BIG);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(n, 6);
	/* survives a restart, and appends continue the chain */
	ca_store_free(st);
	st = NULL;
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit(st, "login-failed", "{\"token\":\"ca\"}"), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(n, 7);
	done(st, dir);
}

/* Flip one byte of entry 3's detail: verify names entry #3. */
static void test_tamper_modify(void **state)
{
	char *dir, home[512];
	ca_store *st = fresh(&dir, home, sizeof(home));
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env;
	unsigned char k[8], *copy;
	MDB_val mk = {8, k}, mv;
	uint64_t n = 0;

	ca_store_free(st);
	st = NULL;
	env = raw_open(home, &txn, &dbi, "audit");
	key_of(3, k);
	assert_int_equal(mdb_get(txn, dbi, &mk, &mv), 0);
	copy = malloc(mv.mv_size);
	memcpy(copy, mv.mv_data, mv.mv_size);
	/* the detail text {"n":1} sits before the two hashes: change the digit */
	assert_true(mv.mv_size > 70);
	assert_int_equal(copy[mv.mv_size - 64 - 2], '1');
	copy[mv.mv_size - 64 - 2] = '9';
	mv.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &mk, &mv, 0), 0);
	raw_close(env, txn);
	free(copy);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "#3"));
	assert_int_equal(n, 0);
	done(st, dir);
}

/* Delete audit entry seq behind the store's back; verify must fail and name why. */
static void delete_entry_expect(uint64_t seq, const char *why)
{
	char *dir, home[512];
	ca_store *st = fresh(&dir, home, sizeof(home));
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env;
	unsigned char k[8];
	MDB_val mk = {8, k};
	uint64_t n;

	ca_store_free(st);
	st = NULL;
	env = raw_open(home, &txn, &dbi, "audit");
	key_of(seq, k);
	assert_int_equal(mdb_del(txn, dbi, &mk, NULL), 0);
	raw_close(env, txn);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), why));
	done(st, dir);
}

/* Delete entry 4: verify reports #4 missing. */
static void test_tamper_delete(void **state)
{
	(void)state;
	delete_entry_expect(4, "#4 is missing");
}

/* Delete the last entry (truncation): the head no longer matches. */
static void test_tamper_truncate(void **state)
{
	(void)state;
	delete_entry_expect(6, "head");
}

/* SHA-256 of an entry as docs/store.md specifies it (independent re-implementation). */
static void doc_hash(uint64_t seq, const unsigned char *val, size_t len, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char k[8];
	size_t alen = ((size_t)val[9] << 24) | ((size_t)val[10] << 16) | ((size_t)val[11] << 8) | val[12];
	const unsigned char *d = val + 13 + alen;

	key_of(seq, k);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "offca-audit-v1", 15);
	EVP_DigestUpdate(md, k, 8);
	EVP_DigestUpdate(md, val + 1, 8);            /* time */
	EVP_DigestUpdate(md, val + 9, 4 + alen);     /* len(action) || action */
	EVP_DigestUpdate(md, d, len - 64 - (size_t)(d - val)); /* len(detail) || detail */
	EVP_DigestUpdate(md, val + len - 64, 32);    /* prev_hash */
	EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
}

/* Change entry 5's detail AND store a correctly recomputed hash for it: entry 5 now checks out
   on its own, but entry 6 no longer chains to it. Also proves the documented hash formula. */
static void test_tamper_rehash(void **state)
{
	char *dir, home[512];
	ca_store *st = fresh(&dir, home, sizeof(home));
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env;
	unsigned char k[8], *copy, h[32];
	MDB_val mk = {8, k}, mv;
	uint64_t n;

	ca_store_free(st);
	st = NULL;
	env = raw_open(home, &txn, &dbi, "audit");
	key_of(5, k);
	assert_int_equal(mdb_get(txn, dbi, &mk, &mv), 0);
	copy = malloc(mv.mv_size);
	memcpy(copy, mv.mv_data, mv.mv_size);
	doc_hash(5, copy, mv.mv_size, h);
	assert_memory_equal(h, copy + mv.mv_size - 32, 32); /* the documented formula is the real one */
	assert_int_equal(copy[mv.mv_size - 64 - 2], '3');
	copy[mv.mv_size - 64 - 2] = '8';
	doc_hash(5, copy, mv.mv_size, h);
	memcpy(copy + mv.mv_size - 32, h, 32);
	mv.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &mk, &mv, 0), 0);
	raw_close(env, txn);
	free(copy);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_E_VERIFY);
	assert_non_null(strstr(ut_err_msg(), "entry #6 does not chain"));
	done(st, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_verify),
		cmocka_unit_test(test_tamper_modify),
		cmocka_unit_test(test_tamper_delete),
		cmocka_unit_test(test_tamper_truncate),
		cmocka_unit_test(test_tamper_rehash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
