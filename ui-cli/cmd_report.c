/* cmd_report.c - offca report --html FILE: one self-contained HTML page about the CA home
 * (docs/monitoring.md). The work is core's ca_inv_report_write(). */
#include "cli.h"
#include "cli_opt.h"
#include "cli_session.h"

#include <time.h>

#include "offca/inventory.h"
#include "offca/util.h"

static int run_report(const cli_cmd *cmd, cli_args *a)
{
	const char *out = cli_str(a, "html");
	cli_session s;
	ca_inv_counts c;
	offca_rc rc;

	(void)cmd;
	if (ut_path_exists(out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", out));
	rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL);
	if (rc == OFFCA_OK)
		rc = ca_inv_report_write(s.st, out, (int64_t)time(NULL), &c);
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	if (cli_flag(a, "json"))
		return cli_inv_counts_json(out, NULL, &c);
	printf("%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu pending CSRs\n", out, c.certs, c.valid,
	       c.revoked, c.expired, c.pending);
	return 0;
}

static const cli_opt report_opts[] = {
	CLI_O("html", CLI_PATH, "FILE", "write the page to FILE (never overwritten)", .flags = CLI_REQUIRED),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_report_cmd = {
	.name = "report",
	.summary = "write a self-contained HTML report of the CA home",
	.opts = report_opts,
	.details = "One HTML page with inline CSS and SVG, no script, nothing fetched from anywhere: the issuer\n"
		   "hierarchy with what each issued (valid, revoked, expired), an expiry timeline of every valid\n"
		   "end-entity certificate (bars per week; per 30 days past a year), the ones expiring first,\n"
		   "revocations, each CRL's nextUpdate, pending CSRs, the signed audit checkpoints that end every\n"
		   "session and ceremony (their final hashes), and certificates issued by ceremonies. Reads the\n"
		   "store only (docs/monitoring.md).\n",
	.run = run_report,
};
