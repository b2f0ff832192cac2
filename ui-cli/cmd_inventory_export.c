/* cmd_inventory_export.c - offca inventory export --out FILE: the signed visibility export for a
 * monitoring service (docs/monitoring.md). The work is core's ca_inv_export_write(); here: who signs. */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/bundle.h"
#include "offca/inventory.h"
#include "offca/sign.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"

static const char export_usage[] =
	"usage: offca inventory export --out FILE [--sig SIGFILE] [--issuer NAME] [--pin-file F]\n"
	"                              [--module PATH] [--home DIR]\n"
	"       offca inventory export --out FILE [--sig SIGFILE] --sign-key-file KEY.pem\n"
	"                              --signer-cert CERT.pem [--pin-file F] [--home DIR]\n"
	"\n"
	"Write the visibility export, the one thing meant for a monitoring service: FILE (JSON, format\n"
	"offca-inventory/1: every certificate's serial, SHA-256 fingerprint, subject, SANs, issuer,\n"
	"profile, validity and status; each issuer with its current CRL's number, thisUpdate and\n"
	"nextUpdate; the number of pending CSRs) and SIGFILE (default FILE.p7s), a detached CMS\n"
	"signature (DER). It never holds a key, a PIN, a key URI or a CSR. Neither file is overwritten.\n"
	"Signed by the issuer's key on its token (--issuer NAME, default: the issuer offca signs with;\n"
	"PIN from --pin-file, the URI's pin-source or a prompt), or by an operator's software key\n"
	"(--sign-key-file with its certificate --signer-cert; passphrase from --pin-file or a prompt).\n"
	"Check it with:\n"
	"  openssl cms -verify -binary -inform DER -in FILE.p7s -content FILE -CAfile ROOT.pem \\\n"
	"      -purpose any -out /dev/null\n";

struct eopts {
	const char *home, *out, *sig, *issuer, *pin_file, *module, *key_file, *cert;
};

static int parse(int argc, char **argv, struct eopts *o)
{
	static const struct option lo[] = {
		{"home", required_argument, NULL, 'H'},          {"out", required_argument, NULL, 'o'},
		{"sig", required_argument, NULL, 's'},           {"issuer", required_argument, NULL, 'i'},
		{"pin-file", required_argument, NULL, 'p'},      {"module", required_argument, NULL, 'm'},
		{"sign-key-file", required_argument, NULL, 'k'}, {"signer-cert", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
	const char **dst;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		dst = c == 'H' ? &o->home : c == 'o' ? &o->out : c == 's' ? &o->sig : c == 'i' ? &o->issuer
		    : c == 'p' ? &o->pin_file : c == 'm' ? &o->module : c == 'k' ? &o->key_file : c == 'c' ? &o->cert : NULL;
		if (dst != NULL)
			*dst = optarg;
		else if (c == ':')
			return cli_usage_error("inventory export", "option '%s' needs a value", argv[optind - 1]);
		else
			return cli_usage_error("inventory export", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("inventory export", "unexpected argument '%s'", argv[optind]);
	if (o->out == NULL)
		return cli_usage_error("inventory export", "needs --out FILE");
	if ((o->key_file != NULL) != (o->cert != NULL))
		return cli_usage_error("inventory export", "--sign-key-file and --signer-cert go together");
	if (o->key_file != NULL && (o->issuer != NULL || o->module != NULL))
		return cli_usage_error("inventory export", "--issuer and --module name a token key: not with --sign-key-file");
	return 0;
}

/* Who signs: an operator's key file with its certificate, or the issuer's key on its token. */
struct esigner {
	xfr_export iss;           /* the issuer's certificate and chain (token path) */
	STACK_OF(X509) *certs;    /* --signer-cert: its chain (the signer taken off the front) */
	X509 *own_signer;         /* --signer-cert: the signer */
	X509 *signer;             /* borrowed: iss's or own_signer */
	STACK_OF(X509) *chain;
	EVP_PKEY *file_key;
	tok_key *tk;
};

static void esigner_clear(struct esigner *s)
{
	xfr_export_clear(&s->iss);
	sk_X509_pop_free(s->certs, X509_free);
	X509_free(s->own_signer);
	EVP_PKEY_free(s->file_key);
	tok_key_free(s->tk);
	memset(s, 0, sizeof(*s));
}

static offca_rc esigner_open(const struct eopts *o, const char *home, ca_store *st, struct esigner *s,
			     EVP_PKEY **key)
{
	tok_pin_opts pin = {0};
	offca_rc rc;

	memset(s, 0, sizeof(*s));
	if (o->key_file != NULL) {
		if ((rc = xfr_certs_load(o->cert, &s->certs)) != OFFCA_OK ||
		    (rc = xfr_key_file_load(o->key_file, o->pin_file, &s->file_key)) != OFFCA_OK)
			return rc;
		s->own_signer = sk_X509_shift(s->certs);
		s->signer = s->own_signer;
		s->chain = s->certs;
		*key = s->file_key;
		return OFFCA_OK;
	}
	if ((rc = xfr_signer_from_store(st, o->issuer, NULL, &s->iss)) != OFFCA_OK)
		return rc;
	if (s->iss.key_uri[0] == '\0')
		return ut_err(OFFCA_E_STATE, "issuer %s has no key URI on record: sign with --sign-key-file and "
			      "--signer-cert", s->iss.issuer);
	pin.pin_file = o->pin_file;
	rc = ca_key_open_audited(st, o->module, s->iss.key_uri, &pin, "inventory-export", &s->tk);
	if (rc == OFFCA_OK)
		rc = cli_home_key_touch(home, s->iss.issuer, &s->tk);
	if (rc != OFFCA_OK)
		return rc;
	s->signer = s->iss.signer;
	s->chain = s->iss.chain;
	*key = tok_key_private(s->tk);
	return OFFCA_OK;
}

/* Record the export in the audit log: its digest, how many certificates, who signed. */
static offca_rc audit(ca_store *st, const unsigned char md[32], const ca_inv_counts *c, X509 *signer)
{
	char subj[512] = "", *hex = ut_hex(md, 32), *text;
	json_t *j;
	offca_rc rc;

	(void)ca_x509_name_text(X509_get_subject_name(signer), subj, sizeof(subj)); /* cut to fit is fine */
	j = json_pack("{s:s,s:I,s:s}", "sha256", hex ? hex : "?", "certificates", (json_int_t)c->certs, "signer", subj);
	text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	rc = text != NULL ? ca_store_audit(st, "inventory-export", text) : ut_err(OFFCA_E_NOMEM, "out of memory");
	json_decref(j);
	free(text);
	free(hex);
	return rc;
}

static int cmd_export(int argc, char **argv)
{
	struct eopts o;
	struct esigner s;
	const char *home;
	char sig[4200], *hex = NULL;
	ca_store *st = NULL;
	EVP_PKEY *key = NULL;
	unsigned char md[32];
	ca_inv_counts c;
	offca_rc rc;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if (snprintf(sig, sizeof(sig), "%s", o.sig != NULL ? o.sig : o.out) >= (int)sizeof(sig) - 5)
		return cli_usage_error("inventory export", "path too long");
	if (o.sig == NULL)
		strcat(sig, ".p7s");
	if (ut_path_exists(o.out) == OFFCA_OK || ut_path_exists(sig) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it",
				       ut_path_exists(o.out) == OFFCA_OK ? o.out : sig));
	if ((home = cli_home(o.home)) == NULL)
		return cli_fail(OFFCA_E_USAGE);
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK || (rc = esigner_open(&o, home, st, &s, &key)) != OFFCA_OK)
		goto out;
	if ((rc = ca_inv_export_write(st, o.out, sig, (int64_t)time(NULL), key, s.signer, s.chain, md, &c)) != OFFCA_OK)
		goto out;
	hex = ut_hex(md, 32);
	printf("%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu CRLs, sha256 %s\n%s: detached CMS "
	       "signature by ", o.out, c.certs, c.valid, c.revoked, c.expired, c.crls, hex ? hex : "?", sig);
	cli_print_name(stdout, X509_get_subject_name(s.signer));
	printf("\n");
	rc = audit(st, md, &c, s.signer);
	if (rc != OFFCA_OK)
		rc = ut_err(rc, "the export is written, but its audit entry is not: %s", ut_err_msg());
out:
	free(hex);
	esigner_clear(&s);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

int cli_cmd_inventory(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cli_wants_help(argc, argv) ? (fputs(export_usage, stdout), 0) : cmd_export(argc - 1, argv + 1);
	if (cli_wants_help(argc, argv)) {
		fputs(export_usage, stdout);
		return 0;
	}
	return cli_usage_error("inventory", "unknown or missing subcommand (offca inventory export --out FILE)");
}
