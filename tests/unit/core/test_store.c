/* test_store.c - the CA store: home layout and lock, serial reservation, records and indexes. */
#include "test_store_util.h"

#include <openssl/crypto.h>

static void test_init_layout(void **state)
{
	char *dir, home[512], p[600];
	ca_store *st = tsu_home(&dir, home, sizeof(home)), *st2 = NULL;
	struct stat sb;
	const char *paths[] = {"", "/store", "/outbox"};

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", home, paths[i]);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0700);
	}
	snprintf(p, sizeof(p), "%s/store/data.mdb", home);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/lock", home);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* a second handle on the same home is refused while the first is open */
	assert_int_equal(ca_store_open(home, 0, &st2), OFFCA_E_STATE);
	assert_null(st2);
	assert_non_null(strstr(ut_err_msg(), "in use"));
	ca_store_free(st);
	/* create again: refused */
	assert_int_equal(ca_store_open(home, 1, &st2), OFFCA_E_EXISTS);
	/* missing home */
	snprintf(p, sizeof(p), "%s/nothere", dir);
	assert_int_equal(ca_store_open(p, 0, &st2), OFFCA_E_STATE);
	assert_non_null(strstr(ut_err_msg(), "offca init"));
	/* group-writable store dir refused */
	snprintf(p, sizeof(p), "%s/store", home);
	chmod(p, 0770);
	assert_int_equal(ca_store_open(home, 0, &st2), OFFCA_E_PERM);
	chmod(p, 0700);
	assert_int_equal(ca_store_open(home, 0, &st2), OFFCA_OK);
	ca_store_free(st2);
	tu_rmrf(dir);
	free(dir);
}

static void test_reserve_commit_void(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_serial s[10], bogus;
	ca_cert_record rec;
	unsigned char *der;
	size_t len;
	int stt;

	assert_int_equal(ca_store_serial_reserve(st, "int", 10, s), OFFCA_OK);
	for (int i = 0; i < 10; i++) {
		int zero = 1;

		assert_int_equal(s[i].b[0] & 0x80, 0);
		assert_true(s[i].b[0] != 0); /* full 16 bytes */
		for (int j = 0; j < CA_SERIAL_LEN; j++)
			zero &= s[i].b[j] == 0;
		assert_false(zero);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(s[i].b, s[j].b, CA_SERIAL_LEN);
		assert_int_equal(ca_store_serial_state(st, &s[i], &stt), OFFCA_OK);
		assert_int_equal(stt, CA_SERIAL_RESERVED);
	}
	/* commit one: used */
	der = tsu_cert(&s[0], "a.example", "DNS:a.example", 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "unit", &rec), OFFCA_OK);
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_OK);
	assert_int_equal(ca_store_serial_state(st, &s[0], &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_USED);
	/* committing it again: not reserved any more */
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_E_STATE);
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	/* a record for another issuer than the reservation's is refused */
	der = tsu_cert(&s[1], "b.example", "DNS:b.example", 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "other", "server", "unit", &rec), OFFCA_OK);
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_E_STATE);
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	/* void: never usable again */
	assert_int_equal(ca_store_serial_void(st, &s[1], 9, "signing failed"), OFFCA_OK);
	assert_int_equal(ca_store_serial_state(st, &s[5], &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_VOID);
	assert_int_equal(ca_store_serial_void(st, &s[1], 1, "again"), OFFCA_E_STATE);
	assert_int_equal(ca_store_serial_void(st, &s[0], 1, "used"), OFFCA_E_STATE);
	der = tsu_cert(&s[2], "c.example", NULL, 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "unit", &rec), OFFCA_OK);
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_E_STATE);
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	/* a serial that was never reserved cannot be committed */
	memset(&bogus, 0x11, sizeof(bogus));
	assert_int_equal(ca_store_serial_state(st, &bogus, &stt), OFFCA_E_NOT_FOUND);
	der = tsu_cert(&bogus, "d.example", NULL, 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "unit", &rec), OFFCA_OK);
	assert_int_equal(ca_store_cert_commit(st, &rec, 1), OFFCA_E_STATE);
	ca_cert_record_clear(&rec);
	OPENSSL_free(der);
	assert_int_equal(ca_store_serial_reserve(st, "int", 0, s), OFFCA_E_USAGE);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* A batch where one record is bad commits nothing. */
static void test_commit_batch_atomic(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[3];
	size_t n = 99;
	uint64_t before, after;
	int stt;

	for (int i = 0; i < 3; i++)
		tsu_record(st, "int", "x.example", "DNS:x.example", 10, &recs[i]);
	assert_int_equal(ca_store_audit_verify(st, &before), OFFCA_OK);
	snprintf(recs[2].issuer, sizeof(recs[2].issuer), "wrong");
	assert_int_equal(ca_store_cert_commit(st, recs, 3), OFFCA_E_STATE);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ca_store_serial_state(st, &recs[0].serial, &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_RESERVED);
	assert_int_equal(ca_store_audit_verify(st, &after), OFFCA_OK);
	assert_int_equal(before, after);
	snprintf(recs[2].issuer, sizeof(recs[2].issuer), "int");
	assert_int_equal(ca_store_cert_commit(st, recs, 3), OFFCA_OK);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ca_store_audit_verify(st, &after), OFFCA_OK);
	assert_int_equal(after, before + 3); /* one "sign" entry per certificate */
	for (int i = 0; i < 3; i++)
		ca_cert_record_clear(&recs[i]);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

struct found {
	int n;
	int has_stale;
	char last_action[40];
};

static int count_stale(void *arg, const ca_audit_entry *e)
{
	struct found *f = arg;

	if (strcmp(e->action, "void-stale") == 0)
		f->has_stale++;
	f->n++;
	return 0;
}

/* Reservations of a run that died before committing are voided by the next open. */
static void test_restart_voids_stale(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_serial s[3];
	struct found f = {0};
	uint64_t n;
	int stt;

	assert_int_equal(ca_store_serial_reserve(st, "int", 3, s), OFFCA_OK);
	ca_store_free(st); /* "crash": reserved, never committed or voided */
	st = NULL;
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ca_store_serial_state(st, &s[i], &stt), OFFCA_OK);
		assert_int_equal(stt, CA_SERIAL_VOID);
	}
	assert_int_equal(ca_store_audit_each(st, 0, count_stale, &f), OFFCA_OK);
	assert_int_equal(f.has_stale, 1);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	ca_store_free(st);
	/* nothing stale the next time: no second void-stale entry */
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	memset(&f, 0, sizeof(f));
	assert_int_equal(ca_store_audit_each(st, 0, count_stale, &f), OFFCA_OK);
	assert_int_equal(f.has_stale, 1);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* A read-only open never writes: stale reservations stay reserved (no void-stale entry), every
   writer is refused, reads work; the lock is still exclusive; the next writable open voids them. */
static void test_open_ro(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home)), *other = NULL;
	ca_serial s[2], t;
	struct found f = {0};
	uint64_t n;
	int stt;

	(void)state;
	assert_int_equal(ca_store_serial_reserve(st, "int", 2, s), OFFCA_OK);
	ca_store_free(st); /* "crash" */
	st = NULL;
	assert_int_equal(ca_store_open_ro(home, &st), OFFCA_OK);
	assert_int_equal(ca_store_open_ro(home, &other), OFFCA_E_STATE); /* still one process per home */
	assert_int_equal(ca_store_serial_state(st, &s[0], &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_RESERVED);
	assert_int_equal(ca_store_audit_verify(st, &n), OFFCA_OK);
	assert_int_equal(ca_store_audit_each(st, 0, count_stale, &f), OFFCA_OK);
	assert_int_equal(f.has_stale, 0);
	assert_int_equal(ca_store_serial_reserve(st, "int", 1, &t), OFFCA_E_INTERNAL);
	assert_int_equal(ca_store_serial_void(st, s, 2, "test"), OFFCA_E_INTERNAL);
	assert_int_equal(ca_store_audit(st, "key-use", "{}"), OFFCA_E_INTERNAL);
	ca_store_free(st);
	st = NULL;
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	assert_int_equal(ca_store_serial_state(st, &s[1], &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_VOID);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* A meta page damaged on disk: every open refuses with OFFCA_E_DAMAGED before LMDB maps it. */
static void test_open_damaged_meta(void **state)
{
	char *dir, home[512], db[600];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	unsigned char b;
	FILE *f;

	(void)state;
	ca_store_free(st);
	st = NULL;
	snprintf(db, sizeof(db), "%s/store/data.mdb", home);
	f = fopen(db, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 16, SEEK_SET), 0); /* meta page 0's magic */
	assert_int_equal(fread(&b, 1, 1, f), 1);
	b ^= 0x01;
	assert_int_equal(fseek(f, 16, SEEK_SET), 0);
	assert_int_equal(fwrite(&b, 1, 1, f), 1);
	fclose(f);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_E_DAMAGED);
	assert_null(st);
	assert_non_null(strstr(ut_err_msg(), "the store is damaged: see offca restore"));
	assert_int_equal(ca_store_open_ro(home, &st), OFFCA_E_DAMAGED);
	assert_int_equal(ut_exit_code(OFFCA_E_DAMAGED), 19);
	assert_int_equal(ut_exit_code(OFFCA_E_UNWRITTEN), 20);
	tu_rmrf(dir);
	free(dir);
}

static void test_record_from_der(void **state)
{
	ca_serial s;
	ca_cert_record r;
	unsigned char *der, fp[32];
	size_t len;
	char hex[40];
	time_t now = time(NULL);

	assert_int_equal(ca_serial_parse("01:02:03", &s), OFFCA_OK);
	assert_string_equal(ca_serial_hex(&s, hex, sizeof(hex)), "00000000000000000000000000010203");
	memset(&s, 0, sizeof(s));
	s.b[0] = 0x12;
	s.b[15] = 0x34;
	der = tsu_cert(&s, "www.example.com",
		       "DNS:www.example.com,DNS:example.com,IP:10.0.0.1,IP:2001:db8::1,email:ops@example.com,"
		       "URI:https://example.com/",
		       90, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int-1", "server", "offca sign", &r), OFFCA_OK);
	assert_memory_equal(r.serial.b, s.b, CA_SERIAL_LEN);
	assert_string_equal(r.subject, "CN=www.example.com");
	assert_int_equal(r.n_sans, 6);
	assert_string_equal(r.sans[0], "DNS:www.example.com");
	assert_string_equal(r.sans[1], "DNS:example.com");
	assert_string_equal(r.sans[2], "IP:10.0.0.1");
	assert_string_equal(r.sans[3], "IP:2001:db8::1");
	assert_string_equal(r.sans[4], "email:ops@example.com");
	assert_string_equal(r.sans[5], "URI:https://example.com/");
	assert_true(r.not_after >= (int64_t)now + 90 * 86400 - 5 && r.not_after <= (int64_t)now + 90 * 86400 + 5);
	assert_true(r.not_before <= (int64_t)now && r.not_before >= (int64_t)now - 5);
	EVP_Digest(der, len, fp, NULL, EVP_sha256(), NULL);
	assert_memory_equal(r.sha256, fp, 32);
	assert_int_equal(r.der_len, len);
	assert_string_equal(r.issuer, "int-1");
	assert_string_equal(r.source, "offca sign");
	assert_int_equal(r.status, CA_CERT_VALID);
	ca_cert_record_clear(&r);
	/* trailing data, truncation, garbage */
	{
		unsigned char *big = malloc(len + 1);

		memcpy(big, der, len);
		big[len] = 0;
		assert_int_equal(ca_cert_record_from_der(big, len + 1, "i", "p", "s", &r), OFFCA_E_PARSE);
		assert_int_equal(ca_cert_record_from_der(big, len - 1, "i", "p", "s", &r), OFFCA_E_PARSE);
		free(big);
	}
	assert_int_equal(ca_cert_record_from_der((const unsigned char *)"junk", 4, "i", "p", "s", &r), OFFCA_E_PARSE);
	OPENSSL_free(der);
	assert_int_equal(ca_reason_code("keyCompromise"), 1);
	assert_string_equal(ca_reason_name(5), "cessationOfOperation");
	assert_int_equal(ca_reason_code("bogus"), -1);
}

/* from_x509 gives the same record as from_der (it only skips re-parsing). */
static void test_record_from_x509(void **state)
{
	ca_serial s;
	ca_cert_record a, b;
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	X509 *x;

	memset(&s, 0x3c, sizeof(s));
	der = tsu_cert(&s, "x.example", "DNS:x.example,IP:192.0.2.1", 10, &len);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "t", &a), OFFCA_OK);
	assert_int_equal(ca_cert_record_from_x509(x, der, len, "int", "server", "t", &b), OFFCA_OK);
	assert_memory_equal(a.serial.b, b.serial.b, CA_SERIAL_LEN);
	assert_memory_equal(a.sha256, b.sha256, 32);
	assert_string_equal(a.subject, b.subject);
	assert_int_equal(a.n_sans, 2);
	assert_int_equal(b.n_sans, 2);
	assert_string_equal(a.sans[1], b.sans[1]);
	assert_int_equal(a.not_after, b.not_after);
	assert_int_equal(a.der_len, b.der_len);
	assert_memory_equal(a.der, b.der, a.der_len);
	ca_cert_record_clear(&a);
	ca_cert_record_clear(&b);
	assert_int_equal(ca_cert_record_from_x509(NULL, der, len, "int", "server", "t", &b), OFFCA_E_USAGE);
	X509_free(x);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_reserve_commit_void),
		cmocka_unit_test(test_commit_batch_atomic),
		cmocka_unit_test(test_restart_voids_stale),
		cmocka_unit_test(test_open_ro),
		cmocka_unit_test(test_open_damaged_meta),
		cmocka_unit_test(test_record_from_der),
		cmocka_unit_test(test_record_from_x509),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
