/* test_store_codec.c - damaged records read back from LMDB are refused (OFFCA_E_STORE), never read
   past: truncated, extended, unknown version, absurd counts and lengths. Runs under ASan. */
#include "test_store_util.h"

#include <lmdb.h>

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

enum damage { TRUNCATE, EXTEND, VERSION, SAN_COUNT, DER_LEN, ISSUER_LEN, N_DAMAGE };

/* Offsets in a version-1 record: version(1) serial(16) sha256(32) then str issuer. */
#define OFF_ISSUER_LEN 49

static void damage_record(const char *home, const ca_serial *s, enum damage d)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env = raw_open(home, &txn, &dbi, "certs");
	MDB_val k = {CA_SERIAL_LEN, (void *)s->b}, v;
	unsigned char *copy;
	size_t len;
	uint32_t ilen;

	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	len = v.mv_size;
	copy = calloc(1, len + 1);
	memcpy(copy, v.mv_data, len);
	ilen = (uint32_t)copy[OFF_ISSUER_LEN] << 24 | (uint32_t)copy[OFF_ISSUER_LEN + 1] << 16 |
	       (uint32_t)copy[OFF_ISSUER_LEN + 2] << 8 | copy[OFF_ISSUER_LEN + 3];
	assert_int_equal(ilen, 3); /* "int" */
	switch (d) {
	case TRUNCATE: len -= 1; break;
	case EXTEND: len += 1; break;
	case VERSION: copy[0] = 2; break;
	case ISSUER_LEN: copy[OFF_ISSUER_LEN] = 0x7f; break;
	case SAN_COUNT: {
		/* after issuer "int", profile "server", subject: find n_sans by walking the strings */
		size_t o = OFF_ISSUER_LEN + 4 + 3;
		for (int i = 0; i < 2; i++) {
			uint32_t l = (uint32_t)copy[o] << 24 | (uint32_t)copy[o + 1] << 16 | (uint32_t)copy[o + 2] << 8 | copy[o + 3];
			o += 4 + l;
		}
		copy[o] = 0xff; /* n_sans = 0xff00000x */
		break;
	}
	case DER_LEN: /* the DER blob is last: its u32 length sits der_len + 4 bytes before the end */
		{
			size_t der_len = 0;
			/* find it: the record ends with u32 len || der; try lengths until one matches */
			for (size_t dl = 1; dl + 4 < len; dl++) {
				size_t o = len - dl - 4;
				uint32_t l = (uint32_t)copy[o] << 24 | (uint32_t)copy[o + 1] << 16 | (uint32_t)copy[o + 2] << 8 | copy[o + 3];
				if (l == dl) {
					der_len = dl;
					break;
				}
			}
			assert_true(der_len > 0);
			copy[len - der_len - 4] = 0x40; /* 1 GiB */
		}
		break;
	default: break;
	}
	v.mv_data = copy;
	v.mv_size = len;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);
}

static int count(void *arg, const ca_cert_record *r)
{
	(*(int *)arg)++;
	return 0;
}

static void test_damaged_records(void **state)
{
	for (int d = 0; d < N_DAMAGE; d++) {
		char *dir, home[512];
		ca_store *st = tsu_home(&dir, home, sizeof(home));
		ca_cert_record rec, r;
		int n = 0;

		tsu_record(st, "int", "a.example", "DNS:a.example,DNS:b.example", 30, &rec);
		assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_OK);
		ca_store_free(st);
		st = NULL;
		damage_record(home, &rec.serial, (enum damage)d);
		assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
		assert_int_equal(ca_store_cert_by_serial(st, &rec.serial, &r), OFFCA_E_STORE);
		assert_null(r.der);
		assert_int_equal(ca_store_cert_by_fingerprint(st, rec.sha256, &r), OFFCA_E_STORE);
		assert_int_equal(ca_store_cert_by_san(st, "a.example", count, &n), OFFCA_E_STORE);
		assert_int_equal(ca_store_cert_each(st, NULL, 0, 0, count, &n), OFFCA_E_STORE);
		assert_int_equal(n, 0);
		ca_cert_record_clear(&rec);
		ca_store_free(st);
		tu_rmrf(dir);
		free(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_damaged_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
