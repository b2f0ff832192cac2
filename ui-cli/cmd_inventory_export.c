/* cmd_inventory_export.c - offca inventory export --out FILE: the signed visibility export for a
 * monitoring service (docs/monitoring.md). The work is core's ca_inv_export_write(); here: who signs. */
#include "cli.h"
#include "cli_opt.h"
#include "cli_session.h"

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

struct eopts {
	const char *home, *out, *sig, *issuer, *pin_file, *module, *key_file, *cert;
};

static int check_opts(const cli_args *a, struct eopts *o)
{
	memset(o, 0, sizeof(*o));
	o->out = cli_str(a, "out");
	o->sig = cli_str(a, "sig");
	o->issuer = cli_str(a, "issuer");
	o->pin_file = cli_str(a, "pin-file");
	o->module = cli_str(a, "module");
	o->key_file = cli_str(a, "sign-key-file");
	o->cert = cli_str(a, "signer-cert");
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

static int run_export(const cli_cmd *cmd, cli_args *a)
{
	struct eopts o;
	struct esigner s;
	cli_session ss;
	char sig[4200], *hex = NULL;
	EVP_PKEY *key = NULL;
	unsigned char md[32];
	ca_inv_counts c;
	offca_rc rc;
	int r = 0;

	(void)cmd;
	memset(&s, 0, sizeof(s));
	if ((r = check_opts(a, &o)) != 0)
		return r;
	if (snprintf(sig, sizeof(sig), "%s", o.sig != NULL ? o.sig : o.out) >= (int)sizeof(sig) - 5)
		return cli_usage_error("inventory export", "path too long");
	if (o.sig == NULL)
		strcat(sig, ".p7s");
	if (ut_path_exists(o.out) == OFFCA_OK || ut_path_exists(sig) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it",
				       ut_path_exists(o.out) == OFFCA_OK ? o.out : sig));
	if ((rc = cli_session_open(&ss, a, CLI_S_STORE_RW, NULL)) != OFFCA_OK ||
	    (rc = esigner_open(&o, ss.home, ss.st, &s, &key)) != OFFCA_OK)
		goto out;
	if ((rc = ca_inv_export_write(ss.st, o.out, sig, (int64_t)time(NULL), key, s.signer, s.chain, md, &c)) != OFFCA_OK)
		goto out;
	if ((rc = audit(ss.st, md, &c, s.signer)) != OFFCA_OK)
		rc = ut_err(rc, "the export is written, but its audit entry is not: %s", ut_err_msg());
	hex = ut_hex(md, 32);
	if (rc == OFFCA_OK && cli_flag(a, "json")) {
		r = cli_inv_counts_json(o.out, hex, &c);
		goto out;
	}
	if (rc == OFFCA_OK) {
		printf("%s: %zu certificates (%zu valid, %zu revoked, %zu expired), %zu CRLs, sha256 %s\n%s: detached "
		       "CMS signature by ", o.out, c.certs, c.valid, c.revoked, c.expired, c.crls, hex ? hex : "?", sig);
		cli_print_name(stdout, X509_get_subject_name(s.signer));
		printf("\n");
	}
out:
	free(hex);
	esigner_clear(&s);
	cli_session_close(&ss);
	return rc == OFFCA_OK ? r : cli_fail(rc);
}

static const cli_opt export_opts[] = {
	CLI_O("out", CLI_PATH, "FILE", "write the export (JSON) to FILE (never overwritten)", .flags = CLI_REQUIRED),
	CLI_O("sig", CLI_PATH, "SIGFILE", "write the detached CMS signature (DER) to SIGFILE (default FILE.p7s)"),
	CLI_O("issuer", CLI_STR, "NAME", "sign with this issuer's key on its token (default: the issuer offca signs with)"),
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_O("sign-key-file", CLI_PATH, "KEY.pem", "sign with an operator's software key instead (passphrase: --pin-file)"),
	CLI_O("signer-cert", CLI_PATH, "CERT.pem", "the certificate of --sign-key-file (then its chain)"),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

static const cli_cmd export_cmd = {
	.name = "inventory export",
	.summary = "write the signed visibility export, the one thing meant for a monitoring service",
	.opts = export_opts,
	.usage = "offca inventory export --out FILE [--sig SIGFILE] [--issuer NAME] [--pin-file F] [--module PATH]\n"
		 "offca inventory export --out FILE [--sig SIGFILE] --sign-key-file KEY.pem --signer-cert CERT.pem\n"
		 "offca inventory export ... [--json] [--home DIR]",
	.details =
		"FILE is JSON (format offca-inventory/1, docs/monitoring.md): every certificate's serial, SHA-256\n"
		"fingerprint, subject, SANs, issuer, profile, validity and status (with revocation time and reason);\n"
		"each issuer with its current CRL's number, thisUpdate and nextUpdate; the number of pending CSRs.\n"
		"It never holds a key, a PIN, a key URI or a CSR. SIGFILE is a detached CMS signature (DER) by the\n"
		"issuer's key on its token (PIN from --pin-file, the URI's pin-source or a prompt) or by an\n"
		"operator's key (--sign-key-file with --signer-cert). Check it with:\n"
		"  openssl cms -verify -binary -inform DER -in FILE.p7s -content FILE -CAfile ROOT.pem -purpose any\n"
		"The export's SHA-256 is recorded in the audit log (inventory-export).\n",
	.run = run_export,
};

static const cli_cmd *const inventory_subs[] = {&export_cmd, NULL};

const cli_cmd cli_inventory_cmd = {
	.name = "inventory",
	.summary = "inventory export: the signed visibility export for monitoring",
	.subs = inventory_subs,
};
