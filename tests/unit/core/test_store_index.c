/* test_store_index.c - lookups through every index (serial, fingerprint, SAN, expiry, revoked),
   revocation and issuers. */
#include "test_store_util.h"

#include <lmdb.h>
#include <string.h>

#define N_CERTS 40

struct seen {
	int n;
	int64_t last_not_after;
	int ordered;
	char first_san[64];
	char *names; /* collect_names: the records' first SANs, sorted, ' ' between */
	size_t cap;
};

static int collect(void *arg, const ca_cert_record *r)
{
	struct seen *s = arg;

	if (s->n > 0 && r->not_after < s->last_not_after)
		s->ordered = 0;
	s->last_not_after = r->not_after;
	if (s->n == 0 && r->n_sans > 0)
		snprintf(s->first_san, sizeof(s->first_san), "%s", r->sans[0]);
	s->n++;
	return 0;
}

/* insert r's first SAN into s->names keeping them sorted (a few short names) */
static int collect_names(void *arg, const ca_cert_record *r)
{
	struct seen *s = arg;
	char words[16][80], *p, *save = NULL;
	int n = 0, i;

	for (p = strtok_r(s->names, " ", &save); p != NULL && n < 15; p = strtok_r(NULL, " ", &save))
		snprintf(words[n++], sizeof(words[0]), "%s", p);
	for (i = n; i > 0 && strcmp(words[i - 1], r->sans[0]) > 0; i--)
		memcpy(words[i], words[i - 1], sizeof(words[0]));
	snprintf(words[i], sizeof(words[0]), "%s", r->sans[0]);
	n++;
	s->names[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(s->names + strlen(s->names), s->cap - strlen(s->names), "%s%s", i ? " " : "", words[i]);
	s->n++;
	return 0;
}

static int stop_after_two(void *arg, const ca_cert_record *r)
{
	struct seen *s = arg;

	s->n++;
	return s->n >= 2;
}

static void fill(ca_store *st, ca_cert_record *recs)
{
	char cn[64], sans[256];

	for (int i = 0; i < N_CERTS; i++) {
		/* host<i>.example, all share "DNS:shared.example"; validity 10 + i days (i even: 100 + i) */
		snprintf(cn, sizeof(cn), "host%d.example", i);
		snprintf(sans, sizeof(sans), "DNS:%s,DNS:shared.example%s", cn, i % 10 == 0 ? ",IP:192.0.2.7" : "");
		tsu_record(st, i < 30 ? "int" : "int2", cn, sans, i % 2 ? 10 + i : 100 + i, &recs[i]);
	}
	assert_int_equal(ca_store_cert_commit(st, recs, N_CERTS), OFFCA_OK);
}

static void test_lookups(void **state)
{
	char *dir, home[512], hex[40], *fp, text[200];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[N_CERTS], r;
	struct seen s;
	size_t n;

	fill(st, recs);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, N_CERTS);
	for (int i = 0; i < N_CERTS; i += 7) {
		assert_int_equal(ca_store_cert_by_serial(st, &recs[i].serial, &r), OFFCA_OK);
		assert_int_equal(r.der_len, recs[i].der_len);
		assert_memory_equal(r.der, recs[i].der, r.der_len);
		assert_string_equal(r.subject, recs[i].subject);
		assert_int_equal(r.n_sans, recs[i].n_sans);
		assert_int_equal(r.not_after, recs[i].not_after);
		ca_cert_record_clear(&r);
		assert_int_equal(ca_store_cert_by_fingerprint(st, recs[i].sha256, &r), OFFCA_OK);
		assert_memory_equal(r.serial.b, recs[i].serial.b, CA_SERIAL_LEN);
		ca_cert_record_clear(&r);
		/* text lookups: serial hex (lower case, colons), fingerprint hex with colons */
		fp = ut_hex_colon(recs[i].sha256, 32);
		assert_int_equal(ca_store_cert_find(st, fp, &r), OFFCA_OK);
		assert_memory_equal(r.serial.b, recs[i].serial.b, CA_SERIAL_LEN);
		ca_cert_record_clear(&r);
		free(fp);
		ca_serial_hex(&recs[i].serial, hex, sizeof(hex));
		for (char *p = hex; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		assert_int_equal(ca_store_cert_find(st, hex, &r), OFFCA_OK);
		assert_memory_equal(r.serial.b, recs[i].serial.b, CA_SERIAL_LEN);
		ca_cert_record_clear(&r);
	}
	assert_int_equal(ca_store_cert_find(st, "0123", &r), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_cert_find(st, "xyz", &r), OFFCA_E_PARSE);
	/* SAN index */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_by_san(st, "DNS:shared.example", collect, &s), OFFCA_OK);
	assert_int_equal(s.n, N_CERTS);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_by_san(st, "host7.example", collect, &s), OFFCA_OK); /* bare = DNS */
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_by_san(st, "IP:192.0.2.7", collect, &s), OFFCA_OK);
	assert_int_equal(s.n, 4);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_by_san(st, "DNS:host1.exampl", collect, &s), OFFCA_OK); /* no prefix match */
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_by_san(st, "DNS:shared.example", stop_after_two, &s), OFFCA_OK);
	assert_int_equal(s.n, 2);
	/* expiry index: odd i expire in 10+i days (< 50 days), in notAfter order */
	memset(&s, 0, sizeof(s));
	s.ordered = 1;
	assert_int_equal(ca_store_cert_each(st, NULL, (int64_t)time(NULL) + 50 * 86400, 0, collect, &s), OFFCA_OK);
	assert_int_equal(s.n, N_CERTS / 2);
	assert_true(s.ordered);
	assert_string_equal(s.first_san, "DNS:host1.example");
	/* issuer filter and all */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_each(st, "int2", 0, 0, collect, &s), OFFCA_OK);
	assert_int_equal(s.n, 10);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_each(st, NULL, 0, 0, collect, &s), OFFCA_OK);
	assert_int_equal(s.n, N_CERTS);
	/* a long SAN (hashed key) */
	{
		ca_cert_record lr;
		char longsan[1500];

		memset(text, 'a', 63);
		text[63] = '\0';
		snprintf(longsan, sizeof(longsan), "DNS:%s.%s.%s.%s.%s.%s.%s.example", text, text, text, text, text,
			 text, text);
		tsu_record(st, "int", "long", longsan, 30, &lr);
		assert_int_equal(ca_store_cert_commit(st, &lr, 1), OFFCA_OK);
		memset(&s, 0, sizeof(s));
		assert_int_equal(ca_store_cert_by_san(st, longsan + 4, collect, &s), OFFCA_OK);
		assert_int_equal(s.n, 1);
		ca_cert_record_clear(&lr);
	}
	for (int i = 0; i < N_CERTS; i++)
		ca_cert_record_clear(&recs[i]);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static void test_revoke(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record recs[N_CERTS], r;
	ca_serial unknown;
	struct seen s;

	fill(st, recs);
	assert_int_equal(ca_store_revoke(st, &recs[3].serial, ca_reason_code("keyCompromise"), 1700000000), OFFCA_OK);
	assert_int_equal(ca_store_revoke(st, &recs[4].serial, ca_reason_code("superseded"), 1700000001), OFFCA_OK);
	assert_int_equal(ca_store_cert_by_serial(st, &recs[3].serial, &r), OFFCA_OK);
	assert_int_equal(r.status, CA_CERT_REVOKED);
	assert_int_equal(r.revoked_at, 1700000000);
	assert_int_equal(r.reason, 1);
	assert_memory_equal(r.der, recs[3].der, r.der_len);
	ca_cert_record_clear(&r);
	/* twice: refused, record unchanged */
	assert_int_equal(ca_store_revoke(st, &recs[3].serial, 4, 1800000000), OFFCA_E_STATE);
	assert_non_null(strstr(ut_err_msg(), "already revoked"));
	assert_int_equal(ca_store_cert_by_serial(st, &recs[3].serial, &r), OFFCA_OK);
	assert_int_equal(r.reason, 1);
	ca_cert_record_clear(&r);
	memset(&unknown, 0x22, sizeof(unknown));
	assert_int_equal(ca_store_revoke(st, &unknown, 0, 1), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_revoke(st, &recs[5].serial, 7, 1), OFFCA_E_USAGE);
	assert_int_equal(ca_store_revoke(st, &recs[5].serial, 8, 1), OFFCA_E_USAGE);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_each(st, NULL, 0, 1, collect, &s), OFFCA_OK);
	assert_int_equal(s.n, 2);
	/* a batch: all or none (recs[3] is already revoked, so nothing of this batch lands) */
	{
		ca_serial batch[3] = {recs[10].serial, recs[11].serial, recs[3].serial};

		assert_int_equal(ca_store_revoke_many(st, batch, 3, 5, 1700000002), OFFCA_E_STATE);
		memset(&s, 0, sizeof(s));
		assert_int_equal(ca_store_cert_each(st, NULL, 0, 1, collect, &s), OFFCA_OK);
		assert_int_equal(s.n, 2);
		assert_int_equal(ca_store_revoke_many(st, batch, 2, 5, 1700000002), OFFCA_OK);
		memset(&s, 0, sizeof(s));
		assert_int_equal(ca_store_cert_each(st, NULL, 0, 1, collect, &s), OFFCA_OK);
		assert_int_equal(s.n, 4);
	}
	/* revoked + expiring: recs[3] and recs[11] expire in 13 and 21 days, recs[4] and [10] later */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ca_store_cert_each(st, NULL, (int64_t)time(NULL) + 50 * 86400, 1, collect, &s), OFFCA_OK);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < N_CERTS; i++)
		ca_cert_record_clear(&recs[i]);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

static void test_issuers(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_issuer iss, got, *list = NULL;
	size_t n = 0;
	ca_serial s;
	size_t len;

	assert_int_equal(ca_store_issuer_default(st, &got), OFFCA_E_STATE);
	memset(&iss, 0, sizeof(iss));
	memset(&s, 0x01, sizeof(s));
	iss.der = tsu_cert(&s, "Root", NULL, 3650, &len);
	iss.der_len = len;
	snprintf(iss.name, sizeof(iss.name), "root");
	snprintf(iss.key_uri, sizeof(iss.key_uri), "pkcs11:token=ca;object=root");
	iss.is_root = 1;
	iss.created = 1000;
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_E_EXISTS);
	assert_int_equal(ca_store_issuer_default(st, &got), OFFCA_OK);
	assert_string_equal(got.name, "root");
	ca_issuer_clear(&got);
	iss.is_root = 0;
	snprintf(iss.parent, sizeof(iss.parent), "root");
	snprintf(iss.name, sizeof(iss.name), "int-b");
	iss.created = 3000;
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	snprintf(iss.name, sizeof(iss.name), "int-a");
	iss.created = 2000;
	iss.key_uri[0] = '\0';
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	/* newest intermediate by creation time, not by name or insertion order */
	assert_int_equal(ca_store_issuer_default(st, &got), OFFCA_OK);
	assert_string_equal(got.name, "int-b");
	assert_string_equal(got.parent, "root");
	assert_int_equal(got.der_len, iss.der_len);
	assert_memory_equal(got.der, iss.der, got.der_len);
	ca_issuer_clear(&got);
	assert_int_equal(ca_store_issuer_get(st, "int-a", &got), OFFCA_OK);
	assert_string_equal(got.key_uri, "");
	assert_int_equal(got.created, 2000);
	ca_issuer_clear(&got);
	assert_int_equal(ca_store_issuer_get(st, "nope", &got), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_store_issuer_list(st, &list, &n), OFFCA_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "int-a");
	assert_string_equal(list[2].name, "root");
	ca_issuer_list_free(list, n);
	/* bad names, PIN in URI */
	snprintf(iss.name, sizeof(iss.name), "bad name");
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_E_USAGE);
	snprintf(iss.name, sizeof(iss.name), "int-c");
	snprintf(iss.key_uri, sizeof(iss.key_uri), "pkcs11:token=ca?pin-value=1234");
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_E_USAGE);
	OPENSSL_free(iss.der);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* A CA certificate recorded and added as issuer in one transaction: all or nothing. */
static void test_issuer_commit(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_cert_record rec;
	ca_issuer iss, got;
	size_t n = 0;
	int stt;

	tsu_record(st, "root", "Root", NULL, 3650, &rec);
	memset(&iss, 0, sizeof(iss));
	snprintf(iss.name, sizeof(iss.name), "root");
	iss.is_root = 1;
	iss.der = rec.der;
	iss.der_len = rec.der_len;
	/* invalid issuer (PIN in the URI): the record is not committed either */
	snprintf(iss.key_uri, sizeof(iss.key_uri), "pkcs11:token=a?pin-value=1");
	assert_int_equal(ca_store_issuer_commit(st, &rec, &iss), OFFCA_E_USAGE);
	/* duplicate issuer name: refused inside the transaction, nothing committed */
	snprintf(iss.key_uri, sizeof(iss.key_uri), "pkcs11:token=a;object=root");
	assert_int_equal(ca_store_issuer_add(st, &iss), OFFCA_OK);
	assert_int_equal(ca_store_issuer_commit(st, &rec, &iss), OFFCA_E_EXISTS);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ca_store_serial_state(st, &rec.serial, &stt), OFFCA_OK);
	assert_int_equal(stt, CA_SERIAL_RESERVED);
	snprintf(iss.name, sizeof(iss.name), "root2");
	assert_int_equal(ca_store_issuer_commit(st, &rec, &iss), OFFCA_OK);
	assert_int_equal(ca_store_cert_count(st, &n), OFFCA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ca_store_issuer_get(st, "root2", &got), OFFCA_OK);
	assert_memory_equal(got.der, rec.der, rec.der_len);
	ca_issuer_clear(&got);
	ca_cert_record_clear(&rec);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* root -> int1 -> int2 -> leaf: chain.pem rule (nearest first, root only for its direct children). */
static void test_chain(void **state)
{
	char *dir, home[512];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	const char *names[3] = {"root", "int1", "int2"}, *parents[3] = {"", "root", "int1"};
	ca_cert_record ca[3], leaf;
	ca_issuer iss;
	unsigned char **ders = NULL;
	size_t *lens = NULL, n = 0;

	for (int i = 0; i < 3; i++) {
		tsu_record(st, i == 0 ? "root" : parents[i], names[i], NULL, 365, &ca[i]);
		memset(&iss, 0, sizeof(iss));
		snprintf(iss.name, sizeof(iss.name), "%s", names[i]);
		snprintf(iss.parent, sizeof(iss.parent), "%s", parents[i]);
		iss.is_root = i == 0;
		iss.der = ca[i].der;
		iss.der_len = ca[i].der_len;
		assert_int_equal(ca_store_issuer_commit(st, &ca[i], &iss), OFFCA_OK);
	}
	tsu_record(st, "int2", "leaf.example", "DNS:leaf.example", 30, &leaf);
	assert_int_equal(ca_store_cert_commit(st, &leaf, 1), OFFCA_OK);
	assert_int_equal(ca_store_chain(st, &leaf, &ders, &lens, &n), OFFCA_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(ders[0], ca[2].der, lens[0]);
	assert_memory_equal(ders[1], ca[1].der, lens[1]);
	ca_der_list_free(ders, lens, n);
	assert_int_equal(ca_store_chain(st, &ca[1], &ders, &lens, &n), OFFCA_OK); /* int1: issued by root */
	assert_int_equal(n, 1);
	assert_memory_equal(ders[0], ca[0].der, lens[0]);
	ca_der_list_free(ders, lens, n);
	assert_int_equal(ca_store_chain(st, &ca[0], &ders, &lens, &n), OFFCA_E_STATE); /* self-signed root */
	assert_null(ders);
	snprintf(leaf.issuer, sizeof(leaf.issuer), "gone");
	assert_int_equal(ca_store_chain(st, &leaf, &ders, &lens, &n), OFFCA_E_STATE);
	for (int i = 0; i < 3; i++)
		ca_cert_record_clear(&ca[i]);
	ca_cert_record_clear(&leaf);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

/* Forget the reversed-name index as a store made before it existed lacks it (raw LMDB, the store
   closed): the keys starting 0x02 in "san" and meta "san_rev". Returns how many keys went. */
static size_t forget_san_rev(const char *home)
{
	char path[600];
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi san, meta;
	MDB_cursor *cur = NULL;
	MDB_val k = {1, (void *)"\x02"}, v, flag = {7, (void *)"san_rev"};
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/store", home);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)64 << 20), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "san", 0, &san), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(txn, meta, &flag, NULL), 0);
	assert_int_equal(mdb_cursor_open(txn, san, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && ((const unsigned char *)k.mv_data)[0] == 0x02) {
		assert_int_equal(mdb_cursor_del(cur, 0), 0);
		n++;
		k.mv_size = 1;
		k.mv_data = (void *)"\x02";
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	return n;
}

/* the first SANs of what ca_store_cert_by_san_suffix yields, sorted, joined by ' ' */
static void suffix_query(ca_store *st, const char *suffix, char *out, size_t cap)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	s.names = out;
	s.cap = cap;
	out[0] = '\0';
	assert_int_equal(ca_store_cert_by_san_suffix(st, suffix, collect_names, &s), OFFCA_OK);
}

static void test_san_suffix(void **state)
{
	char *dir, home[512], got[1024];
	ca_store *st = tsu_home(&dir, home, sizeof(home));
	ca_store *ro = NULL;
	ca_cert_record recs[6];
	static const char *const sans[6] = {
		"DNS:a.lab.example",          "DNS:B.X.Lab.Example",  "DNS:lab.example",
		"DNS:notlab.example,DNS:other.example", "DNS:*.lab.example,DNS:c.lab.example", "IP:192.0.2.9"};
	const char *want = "DNS:*.lab.example DNS:B.X.Lab.Example DNS:a.lab.example";

	(void)state;
	for (int i = 0; i < 6; i++)
		tsu_record(st, "int", i == 5 ? "ip.example" : strchr(sans[i], ':') + 1, sans[i], 30, &recs[i]);
	assert_int_equal(ca_store_cert_commit(st, recs, 6), OFFCA_OK);
	suffix_query(st, ".lab.example", got, sizeof(got)); /* range over the reversed names */
	assert_string_equal(got, want);
	suffix_query(st, ".LAB.example", got, sizeof(got));
	assert_string_equal(got, want);
	suffix_query(st, ".x.lab.example", got, sizeof(got));
	assert_string_equal(got, "DNS:B.X.Lab.Example");
	suffix_query(st, ".example", got, sizeof(got));
	assert_string_equal(got, "DNS:*.lab.example DNS:B.X.Lab.Example DNS:a.lab.example DNS:lab.example DNS:notlab.example");
	suffix_query(st, ".ab.example", got, sizeof(got)); /* labels, not characters */
	assert_string_equal(got, "");
	ca_store_free(st);
	/* a store without the reversed names (made before them): walked read-only, built at the
	   next writable open, same answers */
	assert_true(forget_san_rev(home) >= 7);
	assert_int_equal(ca_store_open_ro(home, &ro), OFFCA_OK);
	suffix_query(ro, ".lab.example", got, sizeof(got));
	assert_string_equal(got, want);
	ca_store_free(ro);
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	ca_store_free(st);
	assert_true(forget_san_rev(home) >= 7); /* the writable open built them again */
	assert_int_equal(ca_store_open(home, 0, &st), OFFCA_OK);
	suffix_query(st, ".lab.example", got, sizeof(got));
	assert_string_equal(got, want);
	for (int i = 0; i < 6; i++)
		ca_cert_record_clear(&recs[i]);
	ca_store_free(st);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_san_suffix),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_issuers),
		cmocka_unit_test(test_issuer_commit),
		cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
