/*
 * export_bench.c - the delivery forms of offca export at scale (bench/export_bench.sh).
 *
 *   bench_export_bench HOME SERIALS-FILE N OUTDIR
 *
 * Takes N serials spread evenly over SERIALS-FILE (one hex serial a line, as bench_store_bench
 * --seed prints them), and for each form times the whole path offca export takes per certificate:
 * the record looked up by serial and read through ca_export_item_load() (DER check, chain, root,
 * metadata), then the artifact: certbot layout directories (one syncfs for the run), one ZIP of
 * all N, a Kubernetes Secret, a SOPS/age Secret (one age recipient): built in memory only, and
 * written one file each as `offca export --out FILE` does. Prints microseconds per certificate for
 * each form and the SOPS/Secret ratios. Not a test.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/export.h"
#include "offca/store.h"
#include "offca/util.h"

/* A fixed recipient (age-keygen output; its identity is not needed here). */
static const char *const RECIPIENT[] = {"age1hw3eq48f6443cjzpdz92xh6q3nmthw9as09ps05mqgavgzrl6d2slq5udh"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_export_bench: %s: %s\n", what, ut_err_msg());
	exit(1);
}

static ca_serial *pick(const char *file, size_t want, size_t *n)
{
	FILE *f = fopen(file, "r");
	char line[80];
	size_t total = 0, k = 0, step;
	ca_serial *v = calloc(want, sizeof(*v));

	if (f == NULL || v == NULL)
		die("serials file");
	while (fgets(line, sizeof(line), f) != NULL)
		total++;
	step = total / want ? total / want : 1;
	rewind(f);
	for (size_t i = 0; k < want && fgets(line, sizeof(line), f) != NULL; i++) {
		line[strcspn(line, "\n")] = '\0';
		if (i % step == 0 && ca_serial_parse(line, &v[k]) == OFFCA_OK)
			k++;
	}
	fclose(f);
	*n = k;
	return v;
}

static void load(ca_store *st, const ca_serial *s, ca_export_item *it)
{
	ca_cert_record rec;

	memset(&rec, 0, sizeof(rec));
	if (ca_store_cert_by_serial(st, s, &rec) != OFFCA_OK || ca_export_item_load(st, &rec, it) != OFFCA_OK)
		die("load");
	ca_cert_record_clear(&rec);
}

enum form { LOAD, LAYOUT, ZIP, SECRET, SOPS, SECRET_FILE, SOPS_FILE, FORMS };
static const char *const names[FORMS] = {"read only (lookup + ca_export_item_load)", "certbot layout (directories)",
					 "ZIP (one archive)", "Kubernetes Secret (in memory)", "SOPS/age Secret (in memory)",
					 "Kubernetes Secret, --out FILE each", "SOPS/age Secret, --out FILE each"};

static double run(ca_store *st, const ca_serial *v, size_t n, enum form f, const char *outdir)
{
	ca_export_item *items = calloc(n, sizeof(*items));
	char path[4200];
	double t0 = now_s();

	if (items == NULL)
		die("memory");
	for (size_t i = 0; i < n; i++) {
		char *yaml = NULL;
		size_t len = 0;
		load(st, &v[i], &items[i]);
		if ((f == SECRET || f == SECRET_FILE) &&
		    ca_export_k8s_secret(&items[i], "web-tls", "prod", &yaml, &len) != OFFCA_OK)
			die("secret");
		if ((f == SOPS || f == SOPS_FILE) &&
		    ca_export_sops_secret(&items[i], "web-tls", "prod", RECIPIENT, 1, (int64_t)time(NULL), &yaml, &len) != OFFCA_OK)
			die("sops");
		/* what offca export --out FILE does: temporary file, fsync, link without replacing */
		snprintf(path, sizeof(path), "%s/%s-%zu.yaml", outdir, f == SOPS_FILE ? "sops" : "secret", i);
		if ((f == SECRET_FILE || f == SOPS_FILE) && ut_write_file(path, yaml, len, UT_WF_EXCL) != OFFCA_OK)
			die("write");
		free(yaml);
		if (f != LAYOUT && f != ZIP)
			ca_export_item_clear(&items[i]);
	}
	snprintf(path, sizeof(path), "%s/layout", outdir);
	if (f == LAYOUT && ca_export_write_dirs(path, items, n) != OFFCA_OK)
		die("layout");
	snprintf(path, sizeof(path), "%s/all.zip", outdir);
	if (f == ZIP && ca_export_write_zip(path, items, n) != OFFCA_OK)
		die("zip");
	t0 = now_s() - t0;
	for (size_t i = 0; i < n; i++)
		ca_export_item_clear(&items[i]);
	free(items);
	return t0;
}

int main(int argc, char **argv)
{
	ca_store *st = NULL;
	ca_serial *v;
	size_t n = 0, total = 0;
	double t[FORMS];

	if (argc != 5) {
		fprintf(stderr, "usage: bench_export_bench HOME SERIALS-FILE N OUTDIR\n");
		return 2;
	}
	v = pick(argv[2], (size_t)strtoul(argv[3], NULL, 10), &n);
	if (ca_store_open(argv[1], 0, &st) != OFFCA_OK || ca_store_cert_count(st, &total) != OFFCA_OK)
		die("open");
	printf("store: %zu certificates; exporting %zu of them in each form\n", total, n);
	for (int f = 0; f < FORMS; f++) {
		t[f] = run(st, v, n, (enum form)f, argv[4]);
		printf("  %-42s %8.2f s  %8.1f us/certificate\n", names[f], t[f], t[f] * 1e6 / (double)n);
	}
	printf("SOPS/age Secret vs plain Secret: %.2fx in memory, %.2fx written as files (target: at most 2x)\n",
	       t[SOPS] / t[SECRET], t[SOPS_FILE] / t[SECRET_FILE]);
	ca_store_free(st);
	free(v);
	return 0;
}
