/* cmd_pending.c - offca pending list|show|drop: the CSRs waiting to be signed. */
#include "cli.h"

#include <getopt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/store.h"
#include "offca/util.h"

static const char pending_usage[] =
	"usage: offca pending list [--home DIR]\n"
	"       offca pending show ID [--home DIR]\n"
	"       offca pending drop ID [--home DIR]\n"
	"\n"
	"CSRs waiting to be signed (filled by 'offca bundle import' and 'offca qr decode', taken by\n"
	"'offca sign' and ceremony signing sessions). show prints the request and its PEM; drop removes\n"
	"it (audited).\n";

/* The only option: --home DIR. Leaves optind at the first operand. */
static int parse_home(const char *cmd, int argc, char **argv, const char **home)
{
	static const struct option opts[] = {{"home", required_argument, NULL, 'H'}, {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'H')
			*home = optarg;
		else if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		else
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
	}
	return 0;
}

static int parse_id(const char *s, uint64_t *id)
{
	char *e;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &e, 10);
	if (*e != '\0')
		return -1;
	*id = v;
	return 0;
}

static X509_REQ *pending_req(const ca_pending *p)
{
	const unsigned char *d = p->der;

	return d2i_X509_REQ(NULL, &d, (long)p->len);
}

static void print_pending_line(const ca_pending *p)
{
	char when[32];
	X509_REQ *req = pending_req(p);

	cli_fmt_time(p->received, when, sizeof(when));
	printf("%-6llu %s  %-40s  ", (unsigned long long)p->id, when, p->source);
	if (req != NULL)
		cli_print_name(stdout, X509_REQ_get_subject_name(req));
	else
		fputs("(unparsable request)", stdout);
	putchar('\n');
	X509_REQ_free(req);
	ERR_clear_error();
}

static offca_rc pending_show(ca_store *st, uint64_t id)
{
	offca_rc rc;
	ca_pending p;
	X509_REQ *req = NULL;
	BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);

	memset(&p, 0, sizeof(p));
	rc = ca_store_pending_get(st, id, &p);
	if (rc == OFFCA_OK && out == NULL)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	if (rc == OFFCA_OK) {
		print_pending_line(&p);
		req = pending_req(&p);
		if (req == NULL) {
			rc = ut_err_ssl(OFFCA_E_STORE, "pending #%llu does not parse", (unsigned long long)id);
		} else {
			fflush(stdout);
			X509_REQ_print_ex(out, req, XN_FLAG_ONELINE, X509_FLAG_NO_SIGDUMP);
			PEM_write_bio_X509_REQ(out, req);
		}
	}
	BIO_free(out);
	X509_REQ_free(req);
	ca_pending_clear(&p);
	return rc;
}

int cli_cmd_pending(int argc, char **argv)
{
	offca_rc rc = OFFCA_OK;
	ca_store *st = NULL;
	ca_pending *list = NULL;
	size_t n = 0;
	uint64_t id = 0;
	const char *home = NULL, *sub;
	int r;

	if (argc < 2)
		return cli_usage_error("pending", "missing subcommand: list, show or drop");
	if (cli_wants_help(argc, argv)) {
		fputs(pending_usage, stdout);
		return 0;
	}
	sub = argv[1];
	r = parse_home("pending", argc - 1, argv + 1, &home);
	if (r != 0)
		return r;
	if (strcmp(sub, "list") == 0) {
		if (optind != argc - 1)
			return cli_usage_error("pending", "list takes no arguments");
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "drop") == 0) {
		if (optind + 1 != argc - 1 || parse_id(argv[1 + optind], &id) != 0)
			return cli_usage_error("pending", "%s needs one numeric ID", sub);
	} else {
		return cli_usage_error("pending", "unknown subcommand '%s'", sub);
	}
	home = cli_home(home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = ca_store_open(home, 0, &st);
	if (rc == OFFCA_OK && strcmp(sub, "list") == 0) {
		rc = ca_store_pending_list(st, &list, &n);
		if (rc == OFFCA_OK && n == 0)
			printf("no pending CSRs\n");
		for (size_t i = 0; rc == OFFCA_OK && i < n; i++)
			print_pending_line(&list[i]);
	} else if (rc == OFFCA_OK && strcmp(sub, "show") == 0) {
		rc = pending_show(st, id);
	} else if (rc == OFFCA_OK) {
		rc = ca_store_pending_remove(st, id);
		if (rc == OFFCA_OK)
			printf("dropped pending CSR #%llu\n", (unsigned long long)id);
	}
	ca_pending_list_free(list, n);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}
