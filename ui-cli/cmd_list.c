/* cmd_list.c - offca list: find certificates by SAN, subject, issuer, expiry or renewal rule
 * (docs/inventory.md). --expiring and --due exit 1 when they list anything (cron, monitoring). */
#include "cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "offca/config.h"
#include "offca/store.h"
#include "offca/util.h"

#define MAX_DAYS 36500L

struct list_ctx {
	int json, watch, revoked, table_days;
	const char *issuer, *subject;
	int64_t now, before;     /* before: notAfter must be earlier (0: any) */
	const ca_config *cfg;    /* --due: each record's renew_before_days */
	size_t n;
	offca_rc err;
};

/* Does text contain needle, ignoring ASCII case? */
static int contains_nocase(const char *text, const char *needle)
{
	size_t n = strlen(needle);

	for (; *text != '\0'; text++)
		if (strncasecmp(text, needle, n) == 0)
			return 1;
	return n == 0;
}

/* Does the record pass every filter? */
static int wanted(const struct list_ctx *c, const ca_cert_record *r)
{
	if (c->issuer != NULL && strcmp(c->issuer, r->issuer) != 0)
		return 0;
	if (c->watch && r->status == CA_CERT_REVOKED && !c->revoked)
		return 0; /* watching expiry: a revoked certificate needs no renewal */
	if (!c->watch && c->revoked && r->status != CA_CERT_REVOKED)
		return 0;
	if (c->before != 0 && r->not_after >= c->before)
		return 0;
	if (c->cfg != NULL &&
	    r->not_after >= c->now + (int64_t)ca_config_renew_before(ca_config_issuer(c->cfg, r->issuer), r->profile) * 86400)
		return 0;
	if (c->subject != NULL && (r->subject == NULL || !contains_nocase(r->subject, c->subject)))
		return 0;
	return 1;
}

static int print_json_item(struct list_ctx *c, const ca_cert_record *r)
{
	json_t *j = cli_inv_record_json(r, c->now, 0);
	char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (txt == NULL) {
		c->err = ut_err(OFFCA_E_NOMEM, "out of memory");
		return 1;
	}
	printf("%s%s", c->n == 1 ? "[\n" : ",\n", txt); /* streamed: a million records never sit in memory */
	free(txt);
	return 0;
}

static int list_cb(void *arg, const ca_cert_record *r)
{
	struct list_ctx *c = arg;
	char hex[2 * CA_SERIAL_LEN + 1], na[32];

	if (!wanted(c, r))
		return 0;
	c->n++;
	if (c->json)
		return print_json_item(c, r);
	cli_fmt_time(r->not_after, na, sizeof(na));
	if (c->table_days)
		printf("%s  %-7s  %s  %5ld  %-12s  %s\n", ca_serial_hex(&r->serial, hex, sizeof(hex)),
		       cli_inv_status_text(r, c->now), na, cli_inv_days_left(r, c->now), r->profile, cli_inv_display_name(r));
	else
		printf("%s  %-7s  %s  %-12s  %s\n", ca_serial_hex(&r->serial, hex, sizeof(hex)), cli_inv_status_text(r, c->now),
		       na, r->profile, cli_inv_display_name(r));
	return 0;
}

/* The largest renew_before_days of any issuer or profile: --due walks the expiry index that far. */
static int64_t due_horizon(const ca_config *cfg, ca_store *st)
{
	ca_issuer *list = NULL;
	size_t n = 0;
	unsigned most = 0;
	static const char *const profiles[] = {"server", "client", "mtls", "root", "intermediate"};

	if (ca_store_issuer_list(st, &list, &n) != OFFCA_OK)
		n = 0;
	for (size_t i = 0; i <= n; i++) {
		const ca_issuer_cfg *ic = ca_config_issuer(cfg, i < n ? list[i].name : NULL);

		for (size_t p = 0; p < sizeof(profiles) / sizeof(profiles[0]); p++)
			if (ca_config_renew_before(ic, profiles[p]) > most)
				most = ca_config_renew_before(ic, profiles[p]);
	}
	ca_issuer_list_free(list, n);
	ut_err_clear();
	return (int64_t)most * 86400;
}

/* Walk the index that answers the question fastest; list_cb filters the rest. */
static offca_rc walk(const cli_args *a, cli_session *s, struct list_ctx *c)
{
	const char *san = cli_str(a, "san");

	if (san != NULL && strncmp(san, "*.", 2) == 0)
		return ca_store_cert_by_san_suffix(s->st, san + 1, list_cb, c);
	if (san != NULL)
		return ca_store_cert_by_san(s->st, san, list_cb, c);
	if (c->cfg != NULL)
		return ca_store_cert_each(s->st, c->issuer, c->now + due_horizon(c->cfg, s->st), 0, list_cb, c);
	return ca_store_cert_each(s->st, c->issuer, c->before, c->revoked && !c->watch, list_cb, c);
}

static int run_list(const cli_cmd *cmd, cli_args *a)
{
	struct list_ctx c = {0};
	cli_session s;
	int due = cli_flag(a, "due");
	offca_rc rc;

	if (due && cli_flag(a, "expiring"))
		return cli_usage_error(cmd->name, "--expiring and --due are two ways of asking: give one");
	c.json = cli_flag(a, "json");
	c.revoked = cli_flag(a, "revoked");
	c.watch = due || cli_flag(a, "expiring");
	c.table_days = c.watch;
	c.issuer = cli_str(a, "issuer");
	c.subject = cli_str(a, "subject");
	c.now = (int64_t)time(NULL);
	if (cli_flag(a, "expiring"))
		c.before = c.now + cli_num(a, "expiring", 0) * 86400;
	if ((rc = cli_session_open(&s, a, due ? CLI_S_STORE_RO | CLI_S_CONFIG : CLI_S_STORE_RO, NULL)) != OFFCA_OK)
		return cli_fail(rc);
	c.cfg = due ? s.cfg : NULL;
	if (!c.json && c.table_days)
		printf("%-32s  %-7s  %-20s  %5s  %-12s  %s\n", "SERIAL", "STATUS", "NOT AFTER", "DAYS", "PROFILE",
		       "SUBJECT / SAN");
	else if (!c.json)
		printf("%-32s  %-7s  %-20s  %-12s  %s\n", "SERIAL", "STATUS", "NOT AFTER", "PROFILE", "SUBJECT / SAN");
	rc = walk(a, &s, &c);
	cli_session_close(&s);
	if (rc == OFFCA_OK && c.err != OFFCA_OK)
		rc = c.err;
	if (rc == OFFCA_OK && c.json)
		printf("%s", c.n == 0 ? "[]\n" : "\n]\n");
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return c.watch && c.n > 0 ? 1 : 0;
}

static const cli_opt list_opts[] = {
	CLI_O("expiring", CLI_DAYS, "DAYS", "only certificates whose notAfter is less than DAYS days away (expired ones too), "
	 "soonest first, with the days left; exit 1 when any is listed", .lo = 0, .hi = MAX_DAYS),
	CLI_O("revoked", CLI_FLAG, NULL, "only revoked certificates; with --expiring or --due: revoked ones as well"),
	CLI_O("due", CLI_FLAG, NULL, "only certificates due for renewal by renew_before_days (config.json, default 30); "
	 "exit 1 when any is listed"),
	CLI_O("issuer", CLI_STR, "NAME", "only certificates issued by NAME"),
	CLI_O("san", CLI_STR, "NAME", "only certificates holding the SAN NAME (a bare name is DNS:NAME), or with "
	 "*.SUFFIX any DNS SAN ending in .SUFFIX"),
	CLI_O("subject", CLI_STR, "TEXT", "only certificates whose subject contains TEXT (case-insensitive)"),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_list_cmd = {
	.name = "list",
	.summary = "list and find issued certificates",
	.max_pos = 0,
	.opts = list_opts,
	.details = "List issued certificates: serial, status (valid, revoked, expired), notAfter, profile and\n"
		   "subject (or first SAN when the subject is empty). Filters combine. --json prints a JSON array\n"
		   "of certificate objects (docs/json.md).\n"
		   "Exit status with --expiring or --due: 0 nothing listed, 1 something is listed (time to renew),\n"
		   "as offca crl status does; revoked certificates are left out unless --revoked.\n",
	.run = run_list,
};
