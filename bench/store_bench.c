/*
 * store_bench.c - the CA store at scale, and a seeding helper for the inventory e2e tests.
 *
 *   bench_store_bench [N]            insert N certificates (default 100000) into a fresh store in
 *                                    batches of 1000 (reserve -> commit), then time lookups by
 *                                    serial, fingerprint, SAN and expiry; prints the rates.
 *   bench_store_bench --seed HOME N  add issuers "root" and "int" (a real chain made with software
 *                                    keys) and N leaves "hostI.example" issued by "int" to the
 *                                    existing CA home HOME; prints the leaf serials, one per line.
 *                                    When HOME already has "int", only the leaves are added.
 *   bench_store_bench --seed-cn HOME N CN
 *                                    the same, with CN as every leaf's subject CN (any text: the
 *                                    HTML injection test of tests/e2e/monitoring_report.sh).
 *   bench_store_bench --commit N [ROUNDS]
 *                                    the cost of recording one signed batch as `offca sign` does:
 *                                    per round, reserve N serials, make N leaf records (two SANs,
 *                                    CN + O subject), then time ca_store_cert_commit_ex() (wall and
 *                                    CPU of this process, i.e. without the fsync wait) and the same
 *                                    through the incremental batch API (add in chunks of 256, as
 *                                    the pipeline does, then commit). Prints microseconds per record.
 *   bench_store_bench --bind N [REVOKED] [HOME]
 *                                    the records bound to the audit log at scale: seed N leaves
 *                                    (REVOKED of them revoked, default N/100) into a fresh store
 *                                    (or HOME, kept for timing the offca commands, see
 *                                    bench/bind_bench.sh), then time what `offca export` checks
 *                                    per certificate (lookup + ca_store_cert_check), what `offca
 *                                    crl` checks (ca_store_revoked_check) next to the walk of the
 *                                    revoked records it does anyway, and what `sign --pending`
 *                                    checks per CSR (ca_store_pending_check).
 *   bench_store_bench --reserve-and-die HOME N
 *                                    reserve N serials in HOME, then SIGKILL itself (a crash between
 *                                    reserve and record, for tests/e2e/store_crash.sh).
 * Not a test: no assertions beyond "every lookup found its record".
 */
#include <openssl/evp.h>
#include <signal.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/store.h"
#include "offca/util.h"

#define BATCH 1000

static EVP_PKEY *leaf_key, *int_key, *root_key;
static double t_commit, t_reserve; /* seconds spent in the store itself */
static const char *seed_cn;        /* --seed-cn: the subject CN of every seeded leaf */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_store_bench: %s: %s\n", what, ut_err_msg());
	exit(1);
}

static void add_ext(X509 *x, X509 *iss, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
	if (e == NULL || X509_add_ext(x, e, -1) != 1) {
		fprintf(stderr, "bench_store_bench: extension %s\n", val);
		exit(1);
	}
	X509_EXTENSION_free(e);
}

/* Certificate for serial s, CN cn, optional SANs, valid days, signed by (iss, ikey) or self. */
static X509 *make(const unsigned char *serial, const char *cn, const char *sans, long days, EVP_PKEY *key,
		  X509 *iss, EVP_PKEY *ikey, int ca)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	BIGNUM *bn = BN_bin2bn(serial, CA_SERIAL_LEN, NULL);

	X509_set_version(x, 2);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, iss ? X509_get_subject_name(iss) : nm);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, NULL); /* clear of day boundaries */
	X509_set_pubkey(x, key);
	add_ext(x, iss ? iss : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, iss ? iss : x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, iss ? iss : x, NID_subject_key_identifier, "hash");
	if (!ca)
		add_ext(x, iss, NID_ext_key_usage, "serverAuth");
	add_ext(x, iss ? iss : x, NID_authority_key_identifier, "keyid");
	if (sans != NULL)
		add_ext(x, iss ? iss : x, NID_subject_alt_name, sans);
	if (X509_sign(x, ikey ? ikey : key, EVP_sha256()) <= 0) {
		fprintf(stderr, "bench_store_bench: signing failed\n");
		exit(1);
	}
	X509_NAME_free(nm);
	BN_free(bn);
	return x;
}

/* Turn leaf x (made by make() once) into the leaf for serial/cn/days with SANs dns1 and dns2, and
   sign it again: ten times cheaper than make() (no extension parsing, no new objects), so a million
   leaves seed in minutes. */
static void relabel(X509 *x, const unsigned char *serial, const char *cn, const char *dns1, const char *dns2,
		    long days)
{
	BIGNUM *bn = BN_bin2bn(serial, CA_SERIAL_LEN, NULL);
	X509_NAME *nm = X509_NAME_new();
	GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
	const char *dns[2] = {dns1, dns2};

	for (int i = 0; i < 2; i++) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_IA5STRING *v = ASN1_IA5STRING_new();
		if (gn == NULL || v == NULL || ASN1_STRING_set(v, dns[i], -1) != 1) {
			fprintf(stderr, "bench_store_bench: out of memory\n");
			exit(1);
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, v);
		sk_GENERAL_NAME_push(g, gn);
	}
	if (bn == NULL || nm == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, nm) != 1 || X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, -3600, NULL) == NULL ||
	    X509_add1_ext_i2d(x, NID_subject_alt_name, g, 0, X509V3_ADD_REPLACE) != 1 ||
	    X509_sign(x, int_key, EVP_sha256()) <= 0) {
		fprintf(stderr, "bench_store_bench: relabel failed\n");
		exit(1);
	}
	GENERAL_NAMES_free(g);
	X509_NAME_free(nm);
	BN_free(bn);
}

static void to_record(X509 *x, const char *issuer, const char *profile, ca_cert_record *r)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	/* from the parsed certificate: d2i_X509 would cost ~120 us per record (public-key decoding) */
	if (n <= 0 || ca_cert_record_from_x509(x, der, (size_t)n, issuer, profile, "bench_store_bench", r) != OFFCA_OK)
		die("record");
	OPENSSL_free(der);
}

static void add_issuer(ca_store *st, X509 *x, const char *name, const char *parent, int is_root)
{
	ca_issuer iss;
	int n;

	memset(&iss, 0, sizeof(iss));
	snprintf(iss.name, sizeof(iss.name), "%s", name);
	snprintf(iss.parent, sizeof(iss.parent), "%s", parent);
	iss.is_root = is_root;
	n = i2d_X509(x, &iss.der);
	if (n <= 0)
		die("issuer DER");
	iss.der_len = (size_t)n;
	if (ca_store_issuer_add(st, &iss) != OFFCA_OK)
		die("issuer add");
	OPENSSL_free(iss.der);
}

/* Issue root, int and n leaves (batches of BATCH); print leaf serials when print != 0; out (may
   be NULL) receives the n leaf serials. */
static void seed(ca_store *st, size_t n, int print, ca_serial *out)
{
	ca_serial s[BATCH];
	ca_cert_record recs[BATCH];
	X509 *root, *inter, *leaf = NULL;
	char cn[64], sans[160], hex[2 * CA_SERIAL_LEN + 1];
	ca_issuer existing;
	const unsigned char *p;

	if (ca_store_issuer_get(st, "int", &existing) == OFFCA_OK) {
		/* seeded before: issue more leaves under the recorded "int" (signed by a fresh key here:
		   the store does not verify signatures, the crash test only counts records) */
		p = existing.der;
		inter = d2i_X509(NULL, &p, (long)existing.der_len);
		ca_issuer_clear(&existing);
		if (inter == NULL)
			die("existing intermediate");
		root = NULL;
		goto leaves;
	}
	if (ca_store_serial_reserve(st, "root", 1, s) != OFFCA_OK)
		die("reserve");
	root = make(s[0].b, "offca bench root", NULL, 3650, root_key, NULL, NULL, 1);
	to_record(root, "root", "root", &recs[0]);
	if (ca_store_cert_commit(st, recs, 1) != OFFCA_OK)
		die("commit root");
	ca_cert_record_clear(&recs[0]);
	add_issuer(st, root, "root", "", 1);
	if (ca_store_serial_reserve(st, "root", 1, s) != OFFCA_OK)
		die("reserve");
	inter = make(s[0].b, "offca bench intermediate", NULL, 1825, int_key, root, root_key, 1);
	to_record(inter, "root", "intermediate", &recs[0]);
	if (ca_store_cert_commit(st, recs, 1) != OFFCA_OK)
		die("commit intermediate");
	ca_cert_record_clear(&recs[0]);
	add_issuer(st, inter, "int", "root", 0);
leaves:
	for (size_t done = 0; done < n;) {
		size_t b = n - done < BATCH ? n - done : BATCH;

		double t = now_s();

		if (ca_store_serial_reserve(st, "int", b, s) != OFFCA_OK)
			die("reserve");
		t_reserve += now_s() - t;
		for (size_t i = 0; i < b; i++) {
			snprintf(cn, sizeof(cn), "host%zu.example", done + i);
			snprintf(sans, sizeof(sans), "group%zu.example", (done + i) % 100);
			if (leaf == NULL)
				leaf = make(s[i].b, "template", "DNS:template.example", 1, leaf_key, inter, int_key, 0);
			relabel(leaf, s[i].b, seed_cn != NULL ? seed_cn : cn, cn, sans, 1 + (long)((done + i) % 397));
			to_record(leaf, "int", "server", &recs[i]);
		}
		t = now_s();
		if (ca_store_cert_commit(st, recs, b) != OFFCA_OK)
			die("commit");
		t_commit += now_s() - t;
		for (size_t i = 0; i < b; i++) {
			if (print)
				printf("%s\n", ca_serial_hex(&recs[i].serial, hex, sizeof(hex)));
			if (out != NULL)
				out[done + i] = recs[i].serial;
			ca_cert_record_clear(&recs[i]);
		}
		done += b;
	}
	X509_free(leaf);
	X509_free(root);
	X509_free(inter);
}

static int count_cb(void *arg, const ca_cert_record *r)
{
	(*(size_t *)arg)++;
	return 0;
}

static int first_cb(void *arg, const ca_cert_record *r)
{
	*(ca_serial *)arg = r->serial;
	return 0;
}

static void bench(size_t n)
{
	char dir[] = "/tmp/offca-bench.XXXXXX", home[64], cn[64];
	ca_store *st = NULL;
	ca_cert_record r;
	ca_serial *serials;
	unsigned char (*fps)[32];
	size_t k = 0, found = 0, lookups = n < 10000 ? n : 10000;
	double t0, t1;

	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(home, sizeof(home), "%s/home", dir);
	if (ca_store_open(home, 1, &st) != OFFCA_OK)
		die("open");
	t0 = now_s();
	seed(st, n, 0, NULL);
	t1 = now_s();
	printf("insert: %zu certificates (sign + record + commit in batches of %d) in %.2f s: %.0f/s\n", n, BATCH,
	       t1 - t0, (double)n / (t1 - t0));
	printf("  of which store: reserve %.2f s (%.0f serials/s), commit %.2f s (%.0f records/s)\n", t_reserve,
	       (double)n / t_reserve, t_commit, (double)n / t_commit);
	serials = calloc(lookups, sizeof(*serials));
	fps = calloc(lookups, sizeof(*fps));
	/* sample serials through the expiry index: the first `lookups` to expire */
	t0 = now_s();
	if (ca_store_cert_each(st, NULL, (int64_t)time(NULL) + 3 * 86400, 0, count_cb, &k) != OFFCA_OK)
		die("expiry");
	t1 = now_s();
	printf("expiry index: %zu certificates expiring within 3 days found in %.4f s\n", k, t1 - t0);
	for (size_t i = 0; i < lookups; i++) {
		snprintf(cn, sizeof(cn), "host%zu.example", (i * 7919) % n);
		if (ca_store_cert_by_san(st, cn, first_cb, &serials[i]) != OFFCA_OK)
			die("san");
	}
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		snprintf(cn, sizeof(cn), "host%zu.example", (i * 7919) % n);
		if (ca_store_cert_by_san(st, cn, count_cb, &found) != OFFCA_OK)
			die("san");
	}
	t1 = now_s();
	printf("SAN lookups: %zu in %.3f s: %.0f/s (%zu found)\n", lookups, t1 - t0, (double)lookups / (t1 - t0), found);
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		if (ca_store_cert_by_serial(st, &serials[i], &r) != OFFCA_OK)
			die("serial lookup");
		memcpy(fps[i], r.sha256, 32);
		ca_cert_record_clear(&r);
	}
	t1 = now_s();
	printf("serial lookups: %zu in %.3f s: %.0f/s\n", lookups, t1 - t0, (double)lookups / (t1 - t0));
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		if (ca_store_cert_by_fingerprint(st, fps[i], &r) != OFFCA_OK)
			die("fingerprint lookup");
		ca_cert_record_clear(&r);
	}
	t1 = now_s();
	printf("fingerprint lookups: %zu in %.3f s: %.0f/s\n", lookups, t1 - t0, (double)lookups / (t1 - t0));
	t0 = now_s();
	if (ca_store_audit_verify(st, (uint64_t *)&k) != OFFCA_OK)
		die("audit verify");
	t1 = now_s();
	printf("audit verify: %zu entries in %.2f s\n", k, t1 - t0);
	t0 = now_s();
	if (ca_store_audit_check_records(st, &k, NULL) != OFFCA_OK)
		die("audit check records");
	t1 = now_s();
	printf("records checked against the log: %zu in %.2f s\n", k, t1 - t0);
	free(serials);
	free(fps);
	ca_store_free(st);
	snprintf(cn, sizeof(cn), "rm -rf '%s'", dir);
	if (system(cn) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

static int revoked_cb(void *arg, const ca_cert_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/* Seed n leaves (nr revoked) into home (created), then time the checks the commands make. */
static void bind_bench(const char *home, size_t n, size_t nr)
{
	ca_store *st = NULL;
	ca_serial *serials = calloc(n, sizeof(*serials)), *revs;
	ca_cert_record r;
	size_t lookups = n < 10000 ? n : 10000, k = 0, have = 0;
	static unsigned char bufs[1000][200];
	const unsigned char *ders[1000];
	size_t lens[1000];
	uint64_t ids[1000];
	double t0, t1, t_lookup, t_check;

	if (serials == NULL || ca_store_open(home, 1, &st) != OFFCA_OK)
		die("open");
	t0 = now_s();
	seed(st, n, 0, serials);
	revs = calloc(nr, sizeof(*revs));
	if (revs == NULL)
		die("out of memory");
	for (size_t i = 0; i < nr; i++) /* spread over the serial order of issue */
		revs[i] = serials[i * (n / nr)];
	for (size_t done = 0; done < nr;) {
		size_t b = nr - done < CA_STORE_MAX_BATCH ? nr - done : CA_STORE_MAX_BATCH;
		if (ca_store_revoke_many(st, revs + done, b, 1, (int64_t)time(NULL)) != OFFCA_OK)
			die("revoke");
		done += b;
	}
	free(revs);
	for (size_t i = 0; i < 1000; i++) { /* the queue takes any bytes: 1000 different "CSRs" */
		memset(bufs[i], (int)(i & 0xff), sizeof(bufs[i]));
		bufs[i][0] = (unsigned char)(i >> 8);
		ders[i] = bufs[i];
		lens[i] = sizeof(bufs[i]);
	}
	if (ca_store_pending_add(st, ders, lens, 1000, "bench", ids) != OFFCA_OK)
		die("pending add");
	t1 = now_s();
	printf("seed: %zu certificates, %zu revoked, 1000 pending CSRs in %.1f s\n", n, nr, t1 - t0);
	/* export: one record found by serial, then checked against its sign (and revoke) entry */
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		if (ca_store_cert_by_serial(st, &serials[(i * 7919) % n], &r) != OFFCA_OK)
			die("lookup");
		ca_cert_record_clear(&r);
	}
	t_lookup = now_s() - t0;
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		if (ca_store_cert_by_serial(st, &serials[(i * 7919) % n], &r) != OFFCA_OK ||
		    ca_store_cert_check(st, &r) != OFFCA_OK)
			die("export check");
		ca_cert_record_clear(&r);
	}
	t_check = now_s() - t0;
	printf("export: lookup alone %.1f us, lookup + check against the audit log %.1f us per certificate "
	       "(%zu random serials of %zu)\n", t_lookup / (double)lookups * 1e6, t_check / (double)lookups * 1e6, lookups, n);
	/* crl: the revoked set checked, then walked as ca_crl_issue() walks it */
	t0 = now_s();
	if (ca_store_revoked_check(st, "int", &have) != OFFCA_OK)
		die("revoked check");
	t1 = now_s();
	if (ca_store_cert_each(st, "int", 0, 1, revoked_cb, &k) != OFFCA_OK || k != have)
		die("revoked walk");
	printf("crl: revoked set of %zu checked against the audit log in %.3f s; the walk the CRL makes anyway "
	       "%.3f s\n", have, t1 - t0, now_s() - t1);
	t0 = now_s();
	for (size_t i = 0; i < 1000; i++)
		if (ca_store_pending_check(st, ids[i], ders[i], lens[i]) != OFFCA_OK)
			die("pending check");
	printf("sign --pending: %.1f us per CSR checked against its pending-add entry\n", (now_s() - t0) / 1000 * 1e6);
	t0 = now_s();
	if (ca_store_audit_verify(st, (uint64_t *)&k) != OFFCA_OK)
		die("audit verify");
	printf("audit verify (the chain): %zu entries in %.2f s\n", k, now_s() - t0);
	t0 = now_s();
	if (ca_store_audit_check_records(st, &k, NULL) != OFFCA_OK)
		die("audit check records");
	printf("audit verify (every record decoded and checked against its entries): %zu in %.2f s\n", k, now_s() - t0);
	ca_store_free(st);
	free(serials);
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One round's n fresh leaf records for issuer "int" (serials reserved, certificates made). */
static void commit_records(ca_store *st, X509 *inter, size_t n, size_t base, ca_serial *s, ca_cert_record *recs)
{
	char cn[64], sans[160];
	X509 *x;

	if (ca_store_serial_reserve(st, "int", n, s) != OFFCA_OK)
		die("reserve");
	for (size_t i = 0; i < n; i++) {
		snprintf(cn, sizeof(cn), "host%zu.example", base + i);
		snprintf(sans, sizeof(sans), "DNS:%s,DNS:www.host%zu.example", cn, base + i);
		x = make(s[i].b, cn, sans, 90, leaf_key, inter, int_key, 0);
		to_record(x, "int", "server", &recs[i]);
		X509_free(x);
	}
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define MAX_ROUNDS 64

/* Per round: time ca_store_cert_commit_ex() of n records, then (a new round) the batch API. */
static void commit_bench(size_t n, int rounds)
{
	char dir[] = "/tmp/offca-bench.XXXXXX", home[64], cmd[96];
	ca_store *st = NULL;
	ca_serial *s = calloc(n, sizeof(*s));
	ca_cert_record *recs = calloc(n, sizeof(*recs));
	unsigned char one[CA_SERIAL_LEN] = {0x42};
	X509 *inter;
	double w, c, ex_w[MAX_ROUNDS], ex_c[MAX_ROUNDS], add_w[MAX_ROUNDS], add_c[MAX_ROUNDS], cm_w[MAX_ROUNDS];
	double us = 1e6 / (double)n;
	size_t chunk = 256;

	if (s == NULL || recs == NULL || mkdtemp(dir) == NULL || rounds < 1 || rounds > MAX_ROUNDS)
		exit(1);
	snprintf(home, sizeof(home), "%s/home", dir);
	if (ca_store_open(home, 1, &st) != OFFCA_OK)
		die("open");
	inter = make(one, "offca bench intermediate", NULL, 1825, int_key, NULL, NULL, 1);
	for (int r = 0; r < rounds; r++) {
		ca_cert_batch *b = NULL;

		commit_records(st, inter, n, (size_t)(2 * r) * n, s, recs);
		w = now_s();
		c = cpu_s();
		if (ca_store_cert_commit_ex(st, recs, n, NULL, 0) != OFFCA_OK)
			die("commit");
		ex_c[r] = cpu_s() - c;
		ex_w[r] = now_s() - w;
		for (size_t i = 0; i < n; i++)
			ca_cert_record_clear(&recs[i]);
		commit_records(st, inter, n, (size_t)(2 * r + 1) * n, s, recs);
		w = now_s();
		c = cpu_s();
		if (ca_store_cert_batch_begin(st, &b) != OFFCA_OK)
			die("batch begin");
		for (size_t k = 0; k < n; k += chunk)
			if (ca_store_cert_batch_add(b, recs + k, n - k < chunk ? n - k : chunk) != OFFCA_OK)
				die("batch add");
		add_c[r] = cpu_s() - c;
		add_w[r] = now_s() - w;
		w = now_s();
		if (ca_store_cert_batch_commit(b, NULL, 0) != OFFCA_OK)
			die("batch commit");
		cm_w[r] = now_s() - w;
		for (size_t i = 0; i < n; i++)
			ca_cert_record_clear(&recs[i]);
	}
	qsort(ex_w, (size_t)rounds, sizeof(double), cmp_dbl);
	qsort(ex_c, (size_t)rounds, sizeof(double), cmp_dbl);
	qsort(add_w, (size_t)rounds, sizeof(double), cmp_dbl);
	qsort(add_c, (size_t)rounds, sizeof(double), cmp_dbl);
	qsort(cm_w, (size_t)rounds, sizeof(double), cmp_dbl);
	printf("%zu records per commit, %d rounds, median (min) per record:\n", n, rounds);
	printf("  commit_ex:                wall %.2f (%.2f) us, CPU %.2f (%.2f) us\n", ex_w[rounds / 2] * us,
	       ex_w[0] * us, ex_c[rounds / 2] * us, ex_c[0] * us);
	printf("  batch begin+add (x%zu):   wall %.2f (%.2f) us, CPU %.2f (%.2f) us\n", chunk, add_w[rounds / 2] * us,
	       add_w[0] * us, add_c[rounds / 2] * us, add_c[0] * us);
	printf("  batch commit (left at the end): %.1f ms median (%.1f min) for the batch\n", cm_w[rounds / 2] * 1e3,
	       cm_w[0] * 1e3);
	if (ca_store_audit_verify(st, NULL) != OFFCA_OK || ca_store_audit_check_records(st, NULL, NULL) != OFFCA_OK)
		die("audit verify");
	X509_free(inter);
	ca_store_free(st);
	free(s);
	free(recs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

int main(int argc, char **argv)
{
	ca_store *st = NULL;
	long n;

	leaf_key = EVP_EC_gen("P-256");
	int_key = EVP_EC_gen("P-256");
	root_key = EVP_EC_gen("P-256");
	if (leaf_key == NULL || int_key == NULL || root_key == NULL)
		return 1;
	if (argc == 5 && strcmp(argv[1], "--seed-cn") == 0) {
		seed_cn = argv[4];
		argv[1] = "--seed";
		argc = 4;
	}
	if (argc == 4 && strcmp(argv[1], "--seed") == 0) {
		n = strtol(argv[3], NULL, 10);
		if (n < 0 || n > 1000000)
			return 2;
		if (ca_store_open(argv[2], 0, &st) != OFFCA_OK)
			die("open");
		seed(st, (size_t)n, 1, NULL);
		ca_store_free(st);
	} else if ((argc == 3 || argc == 4) && strcmp(argv[1], "--commit") == 0) {
		n = strtol(argv[2], NULL, 10);
		if (n < 1 || n > CA_STORE_MAX_BATCH)
			return 2;
		commit_bench((size_t)n, argc == 4 ? (int)strtol(argv[3], NULL, 10) : 5);
	} else if (argc >= 3 && argc <= 5 && strcmp(argv[1], "--bind") == 0) {
		char dir[] = "/tmp/offca-bench.XXXXXX", home[64], cmd[128];
		long nr;

		n = strtol(argv[2], NULL, 10);
		nr = argc >= 4 ? strtol(argv[3], NULL, 10) : n / 100;
		if (n < 1 || n > 10000000 || nr < 1 || nr > n)
			return 2;
		if (argc == 5) {
			bind_bench(argv[4], (size_t)n, (size_t)nr);
		} else {
			if (mkdtemp(dir) == NULL)
				return 1;
			snprintf(home, sizeof(home), "%s/home", dir);
			bind_bench(home, (size_t)n, (size_t)nr);
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				fprintf(stderr, "cleanup of %s failed\n", dir);
		}
	} else if (argc == 4 && strcmp(argv[1], "--reserve-and-die") == 0) {
		ca_serial s[BATCH];

		n = strtol(argv[3], NULL, 10);
		if (n < 1 || n > BATCH)
			return 2;
		if (ca_store_open(argv[2], 0, &st) != OFFCA_OK)
			die("open");
		if (ca_store_serial_reserve(st, "int", (size_t)n, s) != OFFCA_OK)
			die("reserve");
		fflush(stdout);
		raise(SIGKILL);
	} else {
		n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
		if (n < 1 || n > 10000000)
			return 2;
		bench((size_t)n);
	}
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(root_key);
	return 0;
}
