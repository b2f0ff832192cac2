/* cmd_metrics.c - offca metrics --textfile DIR: the store as Prometheus metrics for node_exporter's
 * textfile collector (docs/monitoring.md). The work is core's ca_inv_metrics_write(). */
#include "cli.h"
#include "cli_opt.h"
#include "cli_session.h"

#include <time.h>

#include "offca/inventory.h"

static int run_metrics(const cli_cmd *cmd, cli_args *a)
{
	const char *dir = cli_str(a, "textfile");
	cli_session s;
	ca_inv_counts c;
	offca_rc rc;

	(void)cmd;
	rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL);
	if (rc == OFFCA_OK)
		rc = ca_inv_metrics_write(s.st, dir, (int64_t)time(NULL), (unsigned)cli_num(a, "keep-expired", 30), &c);
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	if (cli_flag(a, "json")) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, CA_INV_METRICS_FILE); /* written there: it fits */
		return cli_inv_counts_json(path, NULL, &c);
	}
	printf("%s/%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu with series, %zu CRLs, "
	       "%zu pending CSRs\n", dir, CA_INV_METRICS_FILE, c.certs, c.valid, c.revoked, c.expired, c.series, c.crls,
	       c.pending);
	return 0;
}

static const cli_opt metrics_opts[] = {
	CLI_O("textfile", CLI_PATH, "DIR", "write DIR/offca.prom (the directory must exist)", .flags = CLI_REQUIRED),
	CLI_O("keep-expired", CLI_DAYS, "DAYS", "series for certificates expired at most DAYS days ago (default 30)",
	      .lo = 0, .hi = 36500),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_metrics_cmd = {
	.name = "metrics",
	.summary = "write Prometheus metrics for node_exporter's textfile collector",
	.opts = metrics_opts,
	.details =
		"Write DIR/offca.prom (replaced atomically: temporary file, fsync, rename) for\n"
		"prometheus-node-exporter's textfile collector (--collector.textfile.directory DIR). Metric and\n"
		"label names are x509-certificate-exporter's, so its alerts and dashboards work:\n"
		"  x509_cert_not_after, x509_cert_not_before, x509_cert_expired   per certificate, labels\n"
		"      serial_number (decimal), subject_CN, issuer_CN, and issuer (offca's issuer name)\n"
		"  offca_cert_revoked           1 for a revoked certificate, else 0 (same labels)\n"
		"  x509_crl_next_update, x509_crl_this_update, offca_crl_number   per issuer's current CRL\n"
		"  offca_certificates{issuer,status}, offca_pending_csrs, offca_metrics_generated_timestamp_seconds\n"
		"Run it from cron or a systemd timer after every signing session. Reads the store only\n"
		"(docs/monitoring.md).\n",
	.run = run_metrics,
};
