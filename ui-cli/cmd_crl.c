/* cmd_crl.c - offca crl (sign a CRL on the token) and offca crl status. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/config.h"
#include "offca/crl.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"

static const char crl_usage[] =
	"usage: offca crl [--issuer NAME] [--days N] [--out FILE] [--home DIR] [--pin-file F] [--module PATH]\n"
	"       offca crl status [--issuer NAME] [--home DIR]\n"
	"\n"
	"crl         sign a CRL for an issuer (default: the newest intermediate, else the root) on its\n"
	"            token: v2, cRLNumber from the store's ledger (never reused), authorityKeyIdentifier,\n"
	"            one entry per revoked certificate with its reasonCode (none for unspecified),\n"
	"            nextUpdate = now + N days (default: the issuer's crl_days in config.json). The CRL\n"
	"            is verified, linted and recorded as the issuer's current CRL, then written as PEM\n"
	"            to FILE (never overwritten; default HOME/outbox/NAME-NUMBER.crl.pem).\n"
	"crl status  the current CRL of each issuer (or --issuer): number, thisUpdate, nextUpdate,\n"
	"            entries. Warns when less than a quarter of its validity is left (or less than 7\n"
	"            days of a CRL meant for 28 days or more), or when it has expired.\n"
	"            Exit status: 0 all fine, 1 a warning was printed (time to run offca crl).\n";

enum { O_HOME = 1, O_ISSUER, O_DAYS, O_OUT, O_PINFILE, O_MODULE };

static const struct option long_opts[] = {
	{"home", required_argument, NULL, O_HOME},     {"issuer", required_argument, NULL, O_ISSUER},
	{"days", required_argument, NULL, O_DAYS},     {"out", required_argument, NULL, O_OUT},
	{"pin-file", required_argument, NULL, O_PINFILE}, {"module", required_argument, NULL, O_MODULE},
	{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};

struct opts {
	const char *home, *issuer, *out, *pin_file, *module;
	long days;
};

static int parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_HOME: o->home = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_PINFILE: o->pin_file = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_DAYS:
			errno = 0;
			o->days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || o->days < 1 || o->days > CA_CRL_MAX_DAYS)
				return cli_usage_error(cmd, "--days takes a number 1..%d", CA_CRL_MAX_DAYS);
			break;
		default: return cli_usage_error(cmd, "unknown or misplaced option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static offca_rc write_pem(const char *path, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	offca_rc rc;

	if (crl == NULL || b == NULL || PEM_write_bio_X509_CRL(b, crl) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the CRL as PEM");
	} else {
		n = BIO_get_mem_data(b, &data);
		rc = ut_write_file(path, data, (size_t)n, UT_WF_EXCL);
	}
	X509_CRL_free(crl);
	BIO_free(b);
	return rc;
}

static int cmd_issue(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *s = NULL;
	tok_key *key = NULL;
	tok_pin_opts pin = {0};
	unsigned char *der = NULL;
	size_t len = 0;
	ca_crl_info info;
	char path[4400], tu[32], nu[32];
	offca_rc rc;
	int r;

	if ((r = parse("crl", argc, argv, &o)) != 0)
		return r;
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	if ((home = cli_home(o.home)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK || (rc = ca_config_load_for_store(home, st, NULL, 0, &cfg)) != OFFCA_OK ||
	    (rc = ca_signer_new(st, cfg, o.issuer, &s)) != OFFCA_OK)
		goto out;
	pin.pin_file = o.pin_file;
	if ((rc = cli_signer_open_key(s, st, o.module, &pin, "crl", &key)) != OFFCA_OK)
		goto out;
	if ((rc = ca_crl_issue(st, s, (unsigned)o.days, NULL, &der, &len, &info)) != OFFCA_OK)
		goto out;
	if (o.out != NULL)
		snprintf(path, sizeof(path), "%s", o.out);
	else
		snprintf(path, sizeof(path), "%s/outbox/%s-%llu.crl.pem", home, ca_signer_issuer_name(s),
			 (unsigned long long)info.number);
	if ((rc = write_pem(path, der, len)) != OFFCA_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s (CRL %llu is recorded: offca export or offca crl again)", msg,
			    (unsigned long long)info.number);
		goto out;
	}
	cli_fmt_time(info.this_update, tu, sizeof(tu));
	cli_fmt_time(info.next_update, nu, sizeof(nu));
	printf("%s: CRL %llu of '%s', %zu revoked, thisUpdate %s, nextUpdate %s\n", path,
	       (unsigned long long)info.number, ca_signer_issuer_name(s), info.n_revoked, tu, nu);
out:
	OPENSSL_free(der);
	tok_key_free(key);
	ca_signer_free(s);
	ca_config_free(cfg);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int status_one(ca_store *st, const char *name, int64_t now, int *warned)
{
	ca_crl_info info;
	char tu[32], nu[32];
	offca_rc rc = ca_crl_status(st, name, now, &info);

	if (rc == OFFCA_E_NOT_FOUND) {
		printf("%-20s no CRL issued yet\n", name);
		fprintf(stderr, "offca: warning: issuer '%s' has no CRL yet: run offca crl --issuer %s\n", name, name);
		*warned = 1;
		return 0;
	}
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	cli_fmt_time(info.this_update, tu, sizeof(tu));
	cli_fmt_time(info.next_update, nu, sizeof(nu));
	printf("%-20s CRL %llu  %zu revoked  thisUpdate %s  nextUpdate %s%s\n", name, (unsigned long long)info.number,
	       info.n_revoked, tu, nu, info.expired ? "  EXPIRED" : info.warn ? "  RENEW SOON" : "");
	if (info.warn) {
		long long hours = (long long)(info.next_update - now) / 3600;
		if (info.expired)
			fprintf(stderr, "offca: warning: the CRL of '%s' expired at %s: relying parties refuse its "
					"certificates; run offca crl --issuer %s\n", name, nu, name);
		else
			fprintf(stderr, "offca: warning: the CRL of '%s' expires in %lld hours (%s): run offca crl "
					"--issuer %s\n", name, hours, nu, name);
		*warned = 1;
	}
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	ca_issuer *list = NULL;
	size_t n = 0;
	offca_rc rc;
	int r, warned = 0;
	int64_t now = (int64_t)time(NULL);

	if ((r = parse("crl status", argc, argv, &o)) != 0)
		return r;
	if (o.out || o.days || o.pin_file || o.module)
		return cli_usage_error("crl status", "takes only --issuer and --home");
	if ((home = cli_home(o.home)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK)
		return cli_fail(rc);
	if (o.issuer != NULL) {
		ca_issuer iss;
		memset(&iss, 0, sizeof(iss));
		rc = ca_store_issuer_get(st, o.issuer, &iss);
		ca_issuer_clear(&iss);
		r = rc == OFFCA_OK ? status_one(st, o.issuer, now, &warned) : cli_fail(rc);
	} else if ((rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK) {
		r = cli_fail(rc);
	} else {
		r = 0;
		for (size_t i = 0; i < n && r == 0; i++)
			if (list[i].key_uri[0] != '\0')
				r = status_one(st, list[i].name, now, &warned);
		if (n == 0)
			printf("(no issuers yet)\n");
	}
	ca_issuer_list_free(list, n);
	ca_store_free(st);
	return r != 0 ? r : warned ? 1 : 0;
}

int cli_cmd_crl(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(crl_usage, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	return cmd_issue(argc, argv);
}
