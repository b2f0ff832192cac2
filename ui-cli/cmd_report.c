/* cmd_report.c - offca report --html FILE: one self-contained HTML page about the CA home
 * (docs/monitoring.md). The work is core's ca_inv_report_write(). */
#include "cli.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#include "offca/inventory.h"
#include "offca/util.h"

static const char report_usage[] =
	"usage: offca report --html FILE [--home DIR]\n"
	"\n"
	"Write FILE (never overwritten): one HTML page with inline CSS and SVG, no script, nothing\n"
	"fetched from anywhere: the issuer hierarchy with what each issued (valid, revoked, expired), an\n"
	"expiry timeline of every valid certificate (bars per week; per 30 days past a year), the\n"
	"certificates expiring first, revocations, each CRL's nextUpdate, pending CSRs, the signed\n"
	"audit checkpoints that end every session and ceremony (their final hashes), and certificates\n"
	"issued by ceremonies. Reads the store only.\n";

int cli_cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {{"home", required_argument, NULL, 'H'},
					   {"html", required_argument, NULL, 'o'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	const char *home_opt = NULL, *out = NULL, *home;
	ca_store *st = NULL;
	ca_inv_counts c;
	offca_rc rc;
	int ch;

	if (cli_wants_help(argc, argv)) {
		fputs(report_usage, stdout);
		return 0;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (ch == 'H')
			home_opt = optarg;
		else if (ch == 'o')
			out = optarg;
		else if (ch == ':')
			return cli_usage_error("report", "option '%s' needs a value", argv[optind - 1]);
		else
			return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
	if (out == NULL)
		return cli_usage_error("report", "needs --html FILE");
	if (ut_path_exists(out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", out));
	if ((home = cli_home(home_opt)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if ((rc = ca_store_open_ro(home, &st)) != OFFCA_OK)
		return cli_fail(rc);
	rc = ca_inv_report_write(st, out, (int64_t)time(NULL), &c);
	ca_store_free(st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu pending CSRs\n", out, c.certs, c.valid,
	       c.revoked, c.expired, c.pending);
	return 0;
}
