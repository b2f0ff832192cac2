/* cmd_publish.c - offca publish: relay objects for delivery pattern 5 (docs/distribution.md). */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/bundle.h"
#include "offca/config.h"
#include "offca/publish.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"

static const char publish_usage[] =
	"usage: offca publish --out-dir DIR [--bundle-dir BDIR] [--issuer NAME] [--since TIME] [--home DIR]\n"
	"                     [--pin-file F] [--module PATH]\n"
	"       offca publish --out-dir DIR --deliver-key KEY.pem --to SERIAL|FINGERPRINT [--issuer NAME] ...\n"
	"\n"
	"Relay objects (delivery pattern 5): for every endpoint of the issuer (default: the newest\n"
	"intermediate, else the root), one file DIR/<hex SHA-256 of the endpoint's public key> holding\n"
	"its newest certificate, that certificate's chain and a sequence number, signed by the issuer's\n"
	"key on its token (CMS SignedData) and encrypted to the endpoint's certificate (CMS\n"
	"AuthEnvelopedData, AES-256-GCM; ECDH for EC keys, RSA-OAEP for RSA keys). An endpoint is a key:\n"
	"a key with any revoked certificate, or whose newest certificate has expired, gets nothing.\n"
	"Sequence numbers (HOME/relay/sequence.json) grow whenever an endpoint's certificate changes.\n"
	"The objects leave the CA in outbound bundles signed by the issuer (--bundle-dir, or offca\n"
	"bundle create --direction out other:DIR/...), on USB or as QR frames (offca qr encode);\n"
	"offca-gateway relay push puts them on the relay.\n"
	"\n"
	"  --out-dir DIR     where the objects go (created 0700; an endpoint's object is replaced)\n"
	"  --bundle-dir BDIR also write the objects of this run into outbound bundles signed by the\n"
	"                    issuer's key, BDIR/relay-<time>-NNN.offca, 256 objects each (a bundle's\n"
	"                    maximum); never overwritten\n"
	"  --since TIME      only endpoints whose newest certificate was issued at or after TIME\n"
	"                    (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME)\n"
	"  --deliver-key KEY.pem --to CERT  an issuer-generated key (offca issue --generate-key): one\n"
	"                    object for the endpoint holding certificate CERT (serial or SHA-256\n"
	"                    fingerprint), encrypted to that certificate, with the newest certificate of\n"
	"                    KEY.pem's key and the key itself\n"
	"  --pin-file F      the token PIN from the first line of F (0600); default: a no-echo prompt\n";

enum { O_HOME = 1, O_ISSUER, O_OUTDIR, O_SINCE, O_PINFILE, O_MODULE, O_KEY, O_TO, O_BUNDLE };

static const struct option long_opts[] = {
	{"home", required_argument, NULL, O_HOME},       {"issuer", required_argument, NULL, O_ISSUER},
	{"out-dir", required_argument, NULL, O_OUTDIR},  {"since", required_argument, NULL, O_SINCE},
	{"pin-file", required_argument, NULL, O_PINFILE}, {"module", required_argument, NULL, O_MODULE},
	{"deliver-key", required_argument, NULL, O_KEY}, {"to", required_argument, NULL, O_TO},
	{"bundle-dir", required_argument, NULL, O_BUNDLE}, {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}};

struct opts {
	const char *home, *issuer, *out_dir, *since, *pin_file, *module, *key, *to, *bundle_dir;
};

/* YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME; 0 when it is none of them */
static int parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	char *e;
	long long v;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (s[0] == '@') {
		v = strtoll(s + 1, &e, 10);
		*t = v;
		return e != s + 1 && *e == '\0' && v >= 0;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || s[n] != '\0') {
		memset(&tm, 0, sizeof(tm));
		n = 0;
		if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || s[n] != '\0')
			return 0;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm);
	return 1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_HOME: o->home = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_OUTDIR: o->out_dir = optarg; break;
		case O_SINCE: o->since = optarg; break;
		case O_PINFILE: o->pin_file = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_BUNDLE: o->bundle_dir = optarg; break;
		default: return cli_usage_error("publish", "unknown or misplaced option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("publish", "unexpected argument '%s'", argv[optind]);
	if (o->out_dir == NULL)
		return cli_usage_error("publish", "needs --out-dir DIR");
	if ((o->key == NULL) != (o->to == NULL))
		return cli_usage_error("publish", "--deliver-key and --to go together");
	if (o->key != NULL && o->since != NULL)
		return cli_usage_error("publish", "--since does not apply to --deliver-key");
	return 0;
}

/* bundle k (0-based) of the objects res->names[from..to) */
static offca_rc one_bundle(const struct opts *o, ca_store *st, const ca_signer *s, EVP_PKEY *priv,
			   const ca_publish_result *res, size_t from, size_t to, const char *stamp, size_t k)
{
	xfr_export ex;
	xfr_bundle *b = NULL;
	char spec[4400], path[4400];
	offca_rc rc;

	memset(&ex, 0, sizeof(ex));
	rc = xfr_signer_from_store(st, ca_signer_issuer_name(s), NULL, &ex);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_new(XFR_DIR_OUT, ca_signer_issuer_name(s), &b);
	for (size_t i = from; rc == OFFCA_OK && i < to; i++) {
		snprintf(spec, sizeof(spec), "other:%s/%s", o->out_dir, res->names[i]);
		rc = xfr_bundle_add_file(b, spec);
	}
	if (rc == OFFCA_OK)
		rc = xfr_bundle_sign(b, priv, ex.signer, ex.chain);
	if (rc == OFFCA_OK && snprintf(path, sizeof(path), "%s/relay-%s-%03zu.offca", o->bundle_dir, stamp, k + 1) >=
				      (int)sizeof(path))
		rc = ut_err(OFFCA_E_USAGE, "--bundle-dir path too long");
	if (rc == OFFCA_OK && (rc = xfr_bundle_write(b, path)) == OFFCA_OK)
		printf("%s: %zu relay objects, signed by '%s'\n", path, to - from, ca_signer_issuer_name(s));
	xfr_bundle_free(b);
	xfr_export_clear(&ex);
	return rc;
}

static offca_rc write_bundles(const struct opts *o, ca_store *st, const ca_signer *s, EVP_PKEY *priv,
			      const ca_publish_result *res)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	offca_rc rc = ut_mkdir_p(o->bundle_dir, 0700);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (size_t k = 0; rc == OFFCA_OK && k * XFR_MAX_ITEMS < res->written; k++) {
		size_t from = k * XFR_MAX_ITEMS, to = from + XFR_MAX_ITEMS;

		rc = one_bundle(o, st, s, priv, res, from, to < res->written ? to : res->written, stamp, k);
	}
	return rc;
}

static void report(const struct opts *o, const ca_signer *s, const ca_publish_result *res)
{
	printf("%s: %zu relay objects for issuer '%s' (%zu with their number unchanged)", o->out_dir, res->written,
	       ca_signer_issuer_name(s), res->unchanged_seq);
	if (res->skipped_revoked || res->skipped_expired)
		printf("; nothing for %zu revoked and %zu expired endpoints", res->skipped_revoked, res->skipped_expired);
	printf("\n");
}

int cli_cmd_publish(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *s = NULL;
	tok_key *key = NULL;
	tok_pin_opts pin = {0};
	ca_publish_opts po = {0};
	ca_publish_result res = {0};
	char ck_msg[700], why[700];
	offca_rc rc, ck_rc = OFFCA_OK;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(publish_usage, stdout);
		return 0;
	}
	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if (o.since != NULL && !parse_time(o.since, &po.since))
		return cli_usage_error("publish", "--since: '%s' is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME",
				       o.since);
	if ((home = cli_home(o.home)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	po.out_dir = o.out_dir;
	po.deliver_to = o.to;
	if (o.key != NULL && (rc = xfr_key_file_load(o.key, NULL, &po.deliver_key)) != OFFCA_OK)
		return cli_fail(rc);
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK || (rc = ca_config_load_for_store(home, st, NULL, 0, &cfg)) != OFFCA_OK ||
	    (rc = ca_signer_new(st, cfg, o.issuer, &s)) != OFFCA_OK)
		goto out;
	pin.pin_file = o.pin_file;
	if ((rc = cli_signer_open_key(s, st, o.module, &pin, "relay publish", &key)) != OFFCA_OK)
		goto out;
	rc = ca_publish(s, st, &po, &res);
	if (rc == OFFCA_OK && o.bundle_dir != NULL && res.written > 0 &&
	    (rc = write_bundles(&o, st, s, tok_key_private(key), &res)) != OFFCA_OK) {
		snprintf(why, sizeof(why), "%s", ut_err_msg()); /* ut_err() overwrites the detail */
		rc = ut_err(rc, "the relay objects are in %s, but a bundle failed: %s", o.out_dir, why);
	}
	if (res.written > 0)
		ck_rc = cli_checkpoint(s, st, ck_msg, sizeof(ck_msg));
	if (rc == OFFCA_OK || res.written > 0)
		report(&o, s, &res);
	if (rc == OFFCA_OK && ck_rc != OFFCA_OK)
		rc = ut_err(ck_rc, "the relay objects are written, but %s", ck_msg);
out:
	ca_publish_result_clear(&res);
	EVP_PKEY_free(po.deliver_key);
	tok_key_free(key);
	ca_signer_free(s);
	ca_config_free(cfg);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}
