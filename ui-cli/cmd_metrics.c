/* cmd_metrics.c - offca metrics --textfile DIR: the store as Prometheus metrics for node_exporter's
 * textfile collector (docs/monitoring.md). The work is core's ca_inv_metrics_write(). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/inventory.h"
#include "offca/util.h"

static const char metrics_usage[] =
	"usage: offca metrics --textfile DIR [--keep-expired DAYS] [--home DIR]\n"
	"\n"
	"Write DIR/offca.prom (replaced atomically: temporary file, fsync, rename) for\n"
	"prometheus-node-exporter's textfile collector (--collector.textfile.directory DIR). Metric and\n"
	"label names are x509-certificate-exporter's, so its alerts and dashboards work:\n"
	"  x509_cert_not_after, x509_cert_not_before, x509_cert_expired   per certificate, labels\n"
	"      serial_number (decimal), subject_CN, issuer_CN, and issuer (offca's issuer name)\n"
	"  offca_cert_revoked           1 for a revoked certificate, else 0 (same labels)\n"
	"  x509_crl_next_update, x509_crl_this_update, offca_crl_number   per issuer's current CRL\n"
	"  offca_certificates{issuer,status}, offca_pending_csrs, offca_metrics_generated_timestamp_seconds\n"
	"Certificates that expired more than DAYS days ago (default 30) get no per-certificate series.\n"
	"Run it from cron or a systemd timer after every signing session. Reads the store only.\n";

struct mopts {
	const char *home, *dir;
	long keep;
};

static int parse(int argc, char **argv, struct mopts *o)
{
	static const struct option lo[] = {{"home", required_argument, NULL, 'H'},
					   {"textfile", required_argument, NULL, 't'},
					   {"keep-expired", required_argument, NULL, 'k'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->keep = 30;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': o->home = optarg; break;
		case 't': o->dir = optarg; break;
		case 'k':
			errno = 0;
			o->keep = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || o->keep < 0 || o->keep > 36500)
				return cli_usage_error("metrics", "--keep-expired takes a number of days (0..36500)");
			break;
		case ':': return cli_usage_error("metrics", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("metrics", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("metrics", "unexpected argument '%s'", argv[optind]);
	if (o->dir == NULL)
		return cli_usage_error("metrics", "needs --textfile DIR");
	return 0;
}

int cli_cmd_metrics(int argc, char **argv)
{
	struct mopts o;
	const char *home;
	ca_store *st = NULL;
	ca_inv_counts c;
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(metrics_usage, stdout);
		return 0;
	}
	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if ((home = cli_home(o.home)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if ((rc = ca_store_open_ro(home, &st)) != OFFCA_OK)
		return cli_fail(rc);
	rc = ca_inv_metrics_write(st, o.dir, (int64_t)time(NULL), (unsigned)o.keep, &c);
	ca_store_free(st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s/%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu with series, %zu CRLs, "
	       "%zu pending CSRs\n", o.dir, CA_INV_METRICS_FILE, c.certs, c.valid, c.revoked, c.expired, c.series, c.crls,
	       c.pending);
	return 0;
}
