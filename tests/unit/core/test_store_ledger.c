/* test_store_ledger.c - CRL numbers, the pending CSR queue, and a full store (disk full). */
#include "test_store_util.h"

static void test_crl_numbers(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	uint64_t n = 0, num = 0;
	int64_t tu = 0, nu = 0;
	unsigned char *der = NULL;
	size_t len = 0;
	offca_rc rc;

	for (uint64_t i = 1; i <= 5; i++) {
		assert_int_equal(ca_store_crl_next_number(st, "int", &n), OFFCA_OK);
		assert_int_equal(n, i);
	}
	assert_int_equal(ca_store_crl_next_number(st, "root", &n), OFFCA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ca_store_crl_current(st, "int", &num, &tu, &nu, &der, &len), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_crl_record(st, "int", 6, 1, 2, (const unsigned char *)"crl", 3), OFFCA_E_STATE);
	assert_int_equal(ca_store_crl_record(st, "int", 5, 100, 200, (const unsigned char *)"crl-5", 5), OFFCA_OK);
	ca_store_free(st);
	/* numbers survive a restart and keep growing */
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	rc = ca_store_crl_next_number(st, "int", &n);
	if (rc != OFFCA_OK)
		print_message("%s\n", ut_err_msg());
	assert_int_equal(rc, OFFCA_OK);
	assert_int_equal(n, 6);
	rc = ca_store_crl_current(st, "int", &num, &tu, &nu, &der, &len);
	if (rc != OFFCA_OK)
		print_message("%s\n", ut_err_msg());
	assert_int_equal(rc, OFFCA_OK);
	assert_int_equal(num, 5);
	assert_int_equal(tu, 100);
	assert_int_equal(nu, 200);
	assert_int_equal(len, 5);
	assert_memory_equal(der, "crl-5", 5);
	free(der);
	assert_int_equal(ca_store_crl_current(st, "int", NULL, NULL, NULL, NULL, NULL), OFFCA_OK);
	assert_int_equal(ca_store_crl_next_number(st, "", &n), OFFCA_E_USAGE);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static void test_pending(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	const unsigned char *ders[3] = {(const unsigned char *)"csr-one", (const unsigned char *)"csr-two",
					(const unsigned char *)"csr-three"};
	size_t lens[3] = {7, 7, 9}, n = 0;
	uint64_t ids[3];
	ca_pending *list = NULL, p;
	unsigned char *big = calloc(1, CA_STORE_MAX_DER + 1);

	assert_int_equal(ca_store_pending_add(st, ders, lens, 3, "bundle usb-1", ids), OFFCA_OK);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
	assert_int_equal(n, 3);
	assert_int_equal(list[1].id, 2);
	assert_int_equal(list[1].len, 7);
	assert_memory_equal(list[1].der, "csr-two", 7);
	assert_string_equal(list[2].source, "bundle usb-1");
	ca_pending_list_free(list, n);
	assert_int_equal(ca_store_pending_get(st, 3, &p), OFFCA_OK);
	assert_memory_equal(p.der, "csr-three", 9);
	ca_pending_clear(&p);
	assert_int_equal(ca_store_pending_remove(st, 2), OFFCA_OK);
	assert_int_equal(ca_store_pending_remove(st, 2), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_pending_get(st, 2, &p), OFFCA_E_NOT_FOUND);
	/* all or none: one oversized CSR in the batch adds nothing */
	ders[1] = big;
	lens[1] = CA_STORE_MAX_DER + 1;
	assert_int_equal(ca_store_pending_add(st, ders, lens, 3, "qr", ids), OFFCA_E_TOO_BIG);
	assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
	assert_int_equal(n, 2);
	ca_pending_list_free(list, n);
	/* batch removal: all or none */
	{
		uint64_t two[2] = {3, 99};

		assert_int_equal(ca_store_pending_remove_many(st, two, 2), OFFCA_E_NOT_FOUND);
		assert_int_equal(ca_store_pending_get(st, 3, &p), OFFCA_OK);
		ca_pending_clear(&p);
		two[1] = 1;
		assert_int_equal(ca_store_pending_remove_many(st, two, 2), OFFCA_OK);
		assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
		assert_int_equal(n, 0);
		ca_pending_list_free(list, n);
	}
	/* ids are never reused after a removal */
	lens[1] = 7;
	ders[1] = (const unsigned char *)"csr-new";
	assert_int_equal(ca_store_pending_add(st, ders + 1, lens + 1, 1, "qr", ids), OFFCA_OK);
	assert_int_equal(ids[0], 4);
	free(big);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static size_t pending_count(ca_store *st)
{
	ca_pending *list = NULL;
	size_t n = 0;

	assert_int_equal(ca_store_pending_list(st, &list, &n), OFFCA_OK);
	ca_pending_list_free(list, n);
	return n;
}

static int pending_has(ca_store *st, uint64_t id)
{
	ca_pending p;
	offca_rc rc = ca_store_pending_get(st, id, &p);

	ca_pending_clear(&p);
	return rc == OFFCA_OK;
}

/* ca_store_cert_commit_ex: records committed and their CSRs drained in one transaction. */
static void test_commit_pending(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	const unsigned char *ders[4] = {(const unsigned char *)"csr-1", (const unsigned char *)"csr-2",
					(const unsigned char *)"csr-3", (const unsigned char *)"csr-4"};
	size_t lens[4] = {5, 5, 5, 5}, count = 0;
	uint64_t ids[4], a0 = 0, a1 = 0, pick[2];
	ca_cert_record recs[2], stray;
	ca_serial unreserved;
	unsigned char *der;
	size_t len;

	(void)state;
	assert_int_equal(ca_store_pending_add(st, ders, lens, 4, "usb", ids), OFFCA_OK);
	/* success: exactly ids 1 and 3 leave the queue; 2 sign entries + 1 pending-remove entry */
	tsu_record(st, "int", "a.example", "DNS:a.example", 30, &recs[0]);
	tsu_record(st, "int", "b.example", "DNS:b.example", 30, &recs[1]);
	pick[0] = ids[0];
	pick[1] = ids[2];
	assert_int_equal(ca_store_audit_verify(st, &a0), OFFCA_OK);
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 2, pick, 2), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &a1), OFFCA_OK);
	assert_int_equal(a1, a0 + 3);
	assert_int_equal(ca_store_cert_count(st, &count), OFFCA_OK);
	assert_int_equal(count, 2);
	assert_int_equal(pending_count(st), 2);
	assert_false(pending_has(st, ids[0]));
	assert_true(pending_has(st, ids[1]));
	assert_false(pending_has(st, ids[2]));
	assert_true(pending_has(st, ids[3]));
	ca_cert_record_clear(&recs[0]);
	ca_cert_record_clear(&recs[1]);

	/* a record whose serial was never reserved: nothing committed, nothing drained */
	tsu_record(st, "int", "c.example", "DNS:c.example", 30, &recs[0]);
	memset(unreserved.b, 0x5a, CA_SERIAL_LEN);
	der = tsu_cert(&unreserved, "stray.example", "DNS:stray.example", 30, &len);
	assert_int_equal(ca_cert_record_from_der(der, len, "int", "server", "unit test", &stray), OFFCA_OK);
	OPENSSL_free(der);
	recs[1] = stray;
	pick[0] = ids[1];
	pick[1] = ids[3];
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 2, pick, 2), OFFCA_E_STATE);
	assert_int_equal(ca_store_cert_count(st, &count), OFFCA_OK);
	assert_int_equal(count, 2);
	assert_int_equal(pending_count(st), 2);
	ca_cert_record_clear(&stray);

	/* an id that is not pending (already drained): nothing committed, the other id stays */
	pick[0] = ids[1];
	pick[1] = ids[0];
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 1, pick, 2), OFFCA_E_USAGE); /* more ids than records */
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 1, pick + 1, 1), OFFCA_E_NOT_FOUND);
	assert_non_null(strstr(ut_err_msg(), "#1"));
	assert_int_equal(ca_store_cert_count(st, &count), OFFCA_OK);
	assert_int_equal(count, 2);
	assert_true(pending_has(st, ids[1]));
	/* the reservation is still open: the same record commits with a valid id */
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 1, pick, 1), OFFCA_OK);
	assert_false(pending_has(st, ids[1]));
	assert_int_equal(pending_count(st), 1);
	/* no ids: plain commit, the queue is untouched */
	ca_cert_record_clear(&recs[0]);
	tsu_record(st, "int", "d.example", "DNS:d.example", 30, &recs[0]);
	assert_int_equal(ca_store_cert_commit_ex(st, recs, 1, NULL, 0), OFFCA_OK);
	assert_int_equal(pending_count(st), 1);
	ca_cert_record_clear(&recs[0]);
	assert_int_equal(ca_store_audit_verify(st, &a1), OFFCA_OK);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* A store whose LMDB map is tiny: writes fail with OFFCA_E_DISK_FULL, commit nothing, and the
   audit log still verifies. */
static void test_disk_full(void **state)
{
	char *dir = strdup(tu_tmpdir()), home[512];
	ca_store *st = NULL;
	ca_cert_record recs[20];
	unsigned char *ders[20];
	size_t lens[20], count = 0, before = 0, n_pending = 0;
	uint64_t audit_before = 0, audit_after = 0;
	ca_pending *list = NULL;
	offca_rc rc = OFFCA_OK;
	int rounds = 0;
	const unsigned char *pq[2] = {(const unsigned char *)"csr-a", (const unsigned char *)"csr-b"};
	size_t pql[2] = {5, 5};
	uint64_t pq_ids[2];

	snprintf(home, sizeof(home), "%s/home", dir);
	assert_int_equal(ca_store_open_ex(home, 1, 256 * 1024, &st), OFFCA_OK);
	assert_int_equal(ca_store_pending_add(st, pq, pql, 2, "usb", pq_ids), OFFCA_OK);
	/* fill with certificate batches until the map is full */
	while (rc == OFFCA_OK && rounds < 200) {
		for (int i = 0; i < 20; i++)
			tsu_record(st, "int", "fill.example", "DNS:fill.example,DNS:another-name-to-take-space.example", 30,
				   &recs[i]);
		assert_int_equal(ca_store_cert_count(st, &before), OFFCA_OK);
		assert_int_equal(ca_store_audit_verify(st, &audit_before), OFFCA_OK);
		rc = ca_store_cert_commit(st, recs, 20);
		if (rc == OFFCA_E_DISK_FULL) /* the same batch with the queue's CSRs: all or none */
			assert_int_equal(ca_store_cert_commit_ex(st, recs, 20, pq_ids, 2), OFFCA_E_DISK_FULL);
		for (int i = 0; i < 20; i++)
			ca_cert_record_clear(&recs[i]);
		rounds++;
	}
	assert_int_equal(rc, OFFCA_E_DISK_FULL);
	assert_non_null(strstr(ut_err_msg(), "full"));
	assert_int_equal(ca_store_cert_count(st, &count), OFFCA_OK);
	assert_int_equal(count, before);
	assert_int_equal(ca_store_audit_verify(st, &audit_after), OFFCA_OK);
	assert_int_equal(audit_after, audit_before);
	/* the batch that did not fit, committed with its pending CSRs: none of the CSRs left */
	assert_int_equal(pending_count(st), 2);
	/* pending add on a full store: none of the batch lands */
	for (int i = 0; i < 20; i++) {
		ders[i] = malloc(30000);
		memset(ders[i], 'c', 30000);
		lens[i] = 30000;
	}
	assert_int_equal(ca_store_pending_add(st, (const unsigned char *const *)ders, lens, 20, "usb", NULL),
			 OFFCA_E_DISK_FULL);
	assert_int_equal(ca_store_pending_list(st, &list, &n_pending), OFFCA_OK);
	assert_int_equal(n_pending, 2);
	ca_pending_list_free(list, n_pending);
	for (int i = 0; i < 20; i++)
		free(ders[i]);
	ca_store_free(st);
	/* reopening works and the log still verifies */
	assert_int_equal(ca_store_open_ex(home, 0, 256 * 1024, &st), OFFCA_OK);
	assert_int_equal(ca_store_audit_verify(st, &audit_after), OFFCA_OK);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crl_numbers),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_commit_pending),
		cmocka_unit_test(test_disk_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
