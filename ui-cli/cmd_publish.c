/* cmd_publish.c - offca publish: relay objects for delivery pattern 5 (docs/distribution.md). */
#include "cli.h"
#include "cli_opt.h"
#include "cli_session.h"

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

struct opts {
	const char *out_dir, *bundle_dir;
};

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

static int run_publish(const cli_cmd *cmd, cli_args *a)
{
	struct opts o = {cli_str(a, "out-dir"), cli_str(a, "bundle-dir")};
	const char *since = cli_str(a, "since"), *key_file = cli_str(a, "deliver-key");
	cli_session ss;
	ca_publish_opts po = {0};
	ca_publish_result res = {0};
	char ck_msg[700], why[700];
	offca_rc rc, ck_rc = OFFCA_OK;

	(void)cmd;
	if ((key_file == NULL) != (cli_str(a, "to") == NULL))
		return cli_usage_error("publish", "--deliver-key and --to go together");
	if (key_file != NULL && since != NULL)
		return cli_usage_error("publish", "--since does not apply to --deliver-key");
	if (since != NULL && cli_parse_time(since, &po.since) != 1)
		return cli_usage_error("publish", "--since: '%s' is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME",
				       since);
	po.out_dir = o.out_dir;
	po.deliver_to = cli_str(a, "to");
	if (key_file != NULL && (rc = xfr_key_file_load(key_file, NULL, &po.deliver_key)) != OFFCA_OK)
		return cli_fail(rc);
	rc = cli_session_open(&ss, a, CLI_S_STORE_RW | CLI_S_KEY, "relay publish");
	if (rc == OFFCA_OK)
		rc = ca_publish(ss.signer, ss.st, &po, &res);
	if (rc == OFFCA_OK && o.bundle_dir != NULL && res.written > 0 &&
	    (rc = write_bundles(&o, ss.st, ss.signer, tok_key_private(ss.key), &res)) != OFFCA_OK) {
		snprintf(why, sizeof(why), "%s", ut_err_msg()); /* ut_err() overwrites the detail */
		rc = ut_err(rc, "the relay objects are in %s, but a bundle failed: %s", o.out_dir, why);
	}
	if (res.written > 0)
		ck_rc = cli_checkpoint(ss.signer, ss.st, ck_msg, sizeof(ck_msg));
	if (rc == OFFCA_OK || res.written > 0)
		report(&o, ss.signer, &res);
	if (rc == OFFCA_OK && ck_rc != OFFCA_OK)
		rc = ut_err(ck_rc, "the relay objects are written, but %s", ck_msg);
	ca_publish_result_clear(&res);
	EVP_PKEY_free(po.deliver_key);
	cli_session_close(&ss);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static const cli_opt publish_opts[] = {
	CLI_O("out-dir", CLI_PATH, "DIR", "where the objects go (created 0700; an endpoint's object is replaced)",
	      .flags = CLI_REQUIRED),
	CLI_O("bundle-dir", CLI_PATH, "BDIR", "also write this run's objects into outbound bundles signed by the "
					      "issuer's key, BDIR/relay-<time>-NNN.offca, 256 objects each; never overwritten"),
	CLI_O("issuer", CLI_STR, "NAME", "the issuer (default: the newest intermediate, else the root)"),
	CLI_O("since", CLI_STR, "TIME", "only endpoints whose newest certificate was issued at or after TIME "
					"(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME)"),
	CLI_O("deliver-key", CLI_PATH, "KEY.pem", "an issuer-generated key (offca issue --generate-key): one object "
						  "holding it, for the endpoint of --to"),
	CLI_O("to", CLI_STR, "SERIAL|FINGERPRINT", "with --deliver-key: the certificate the object is encrypted to"),
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_publish_cmd = {
	.name = "publish",
	.summary = "encrypted, signed relay objects for endpoints (pattern 5)",
	.opts = publish_opts,
	.usage = "offca publish --out-dir DIR [--bundle-dir BDIR] [--issuer NAME] [--since TIME] [--home DIR]\n"
		 "              [--pin-file F] [--module PATH]\n"
		 "offca publish --out-dir DIR --deliver-key KEY.pem --to SERIAL|FINGERPRINT [--issuer NAME] ...",
	.details =
		"Relay objects (delivery pattern 5): for every endpoint of the issuer (default: the newest\n"
		"intermediate, else the root), one file DIR/<hex SHA-256 of the endpoint's public key> holding\n"
		"its newest certificate, that certificate's chain and a sequence number, signed by the issuer's\n"
		"key on its token (CMS SignedData) and encrypted to the endpoint's certificate (CMS\n"
		"AuthEnvelopedData, AES-256-GCM; ECDH for EC keys, RSA-OAEP for RSA keys). An endpoint is a key:\n"
		"a key with any revoked certificate, or whose newest certificate has expired, gets nothing.\n"
		"Sequence numbers (HOME/relay/sequence.json) grow whenever an endpoint's certificate changes.\n"
		"The objects leave the CA in outbound bundles signed by the issuer (--bundle-dir, or offca\n"
		"bundle create --direction out other:DIR/...), on USB or as QR frames (offca qr encode);\n"
		"offca-gateway relay push puts them on the relay (docs/distribution.md, pattern 5).\n",
	.run = run_publish,
};
