/* cmd_ca.c - offca ca root | intermediate (docs/ca.md); ca list and ca show are in cmd_ca_show.c. */
#include "cli.h"
#include "cli_session.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"

struct opts {
	const char *home, *key, *subject, *name, *out, *pin_file, *module, *issuer, *csr, *ipin_file;
	long days, path_len;
	const char *permit[CA_MAX_PERMIT_DNS];
	size_t n_permit;
};

/* The options of ca root / ca intermediate (the ones a subcommand does not declare stay unset). */
static int opts_from(const cli_cmd *cmd, const cli_args *a, struct opts *o)
{
	const char *const *permit;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->home = cli_opt_if(a, "home");
	o->key = cli_opt_if(a, "key");
	o->subject = cli_opt_if(a, "subject");
	o->name = cli_opt_if(a, "name");
	o->out = cli_opt_if(a, "out");
	o->pin_file = cli_opt_if(a, "pin-file");
	o->ipin_file = cli_opt_if(a, "issuer-pin-file");
	o->module = cli_opt_if(a, "module");
	o->issuer = cli_opt_if(a, "issuer");
	o->csr = cli_opt_if(a, "csr");
	o->days = cli_num(a, "days", -1);
	o->path_len = cli_num(a, "path-len", -1);
	if (cli_opt_if(a, "permit-dns") == NULL)
		return 0;
	permit = cli_list(a, "permit-dns", &n);
	if (n > CA_MAX_PERMIT_DNS)
		return cli_usage_error(cmd->name, "at most %d --permit-dns suffixes", CA_MAX_PERMIT_DNS);
	for (size_t i = 0; i < n; i++)
		o->permit[i] = permit[i];
	o->n_permit = n;
	return 0;
}

static offca_rc emit_cert(const char *out, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	offca_rc rc = OFFCA_E_NOMEM;

	if (x == NULL || b == NULL || PEM_write_bio_X509(b, x) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the certificate as PEM");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (out != NULL)
		rc = ut_write_file(out, data, (size_t)n, UT_WF_EXCL);
	else
		rc = fwrite(data, 1, (size_t)n, stdout) == (size_t)n ? OFFCA_OK : ut_err(OFFCA_E_IO, "stdout: write failed");
out:
	X509_free(x);
	BIO_free(b);
	return rc;
}

/* The store (writable) and config; the issuer being made may already have its section there. */
static offca_rc open_home(cli_session *s, const cli_args *a, const struct opts *o, ca_store **st, ca_config **cfg)
{
	offca_rc rc = cli_session_open_ex(s, a, CLI_S_STORE_RW | CLI_S_CONFIG, NULL, &o->name, 1);

	*st = s->st;
	*cfg = s->cfg;
	return rc;
}

static int run_root(const cli_cmd *cmd, cli_args *a)
{
	struct opts o;
	cli_session sess = {0};
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	tok_key *key = NULL;
	X509_NAME *subj = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	ca_ca_spec spec;
	tok_pin_opts pin = {0};
	offca_rc rc;
	int r;

	if ((r = opts_from(cmd, a, &o)) != 0)
		return r;
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	if ((rc = ca_x509_parse_dn(o.subject, &subj)) != OFFCA_OK)
		goto out;
	if (o.name == NULL)
		o.name = "root";
	if ((rc = open_home(&sess, a, &o, &st, &cfg)) != OFFCA_OK)
		goto out;
	pin.pin_file = o.pin_file;
	if ((rc = ca_key_open_audited(st, o.module, o.key, &pin, "ca root", &key)) != OFFCA_OK ||
	    (rc = cli_key_touch(&key, ca_config_issuer(cfg, NULL))) != OFFCA_OK)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.name = o.name ? o.name : "root";
	spec.subject = subj;
	spec.days = (unsigned)o.days;
	spec.path_len = (int)o.path_len;
	spec.key_uri = tok_key_uri(key) ? tok_key_uri(key) : o.key;
	spec.source = "offca ca root";
	if ((rc = ca_sign_root(st, &spec, tok_key_private(key), tok_key_public(key), &der, &len)) != OFFCA_OK)
		goto out;
	if ((rc = emit_cert(o.out, der, len)) != OFFCA_OK)
		goto out;
	fprintf(stderr, "offca: root '%s' created (%u days), key %s\n", spec.name, spec.days, spec.key_uri);
out:
	OPENSSL_free(der);
	X509_NAME_free(subj);
	tok_key_free(key);
	cli_session_close(&sess);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* Parent: --issuer, else the only root. */
static offca_rc pick_parent(ca_store *st, const char *issuer, char *name, size_t cap)
{
	ca_issuer *list = NULL;
	size_t n = 0, roots = 0;
	offca_rc rc;

	if (issuer != NULL) {
		snprintf(name, cap, "%s", issuer);
		return OFFCA_OK;
	}
	if ((rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (list[i].is_root) {
			roots++;
			snprintf(name, cap, "%s", list[i].name);
		}
	}
	ca_issuer_list_free(list, n);
	if (roots == 0)
		return ut_err(OFFCA_E_STATE, "no root yet: run offca ca root first");
	if (roots > 1)
		return ut_err(OFFCA_E_USAGE, "several roots: pick the parent with --issuer NAME");
	return OFFCA_OK;
}

/* The new intermediate's public key and subject: from its token key, or from a CSR. */
static offca_rc subject_key(const struct opts *o, ca_store *st, const ca_config *cfg, tok_key **key,
			    ca_csr **csr, X509_NAME **subj, EVP_PKEY **pub)
{
	tok_pin_opts pin = {0};
	offca_rc rc;

	pin.pin_file = o->pin_file;
	if (o->subject != NULL && (rc = ca_x509_parse_dn(o->subject, subj)) != OFFCA_OK)
		return rc;
	if (o->key != NULL) {
		if ((rc = ca_key_open_audited(st, o->module, o->key, &pin, "ca intermediate (subject key)", key)) != OFFCA_OK)
			return rc;
		*pub = tok_key_public(*key);
		return OFFCA_OK;
	}
	if ((rc = ca_csr_load(o->csr, csr)) != OFFCA_OK)
		return rc;
	*pub = ca_csr_pubkey(*csr);
	if ((rc = ca_policy_check_key(&ca_config_issuer(cfg, NULL)->policy, *pub, NULL, 0)) != OFFCA_OK)
		return rc;
	if (*subj == NULL) {
		*subj = X509_NAME_dup(X509_REQ_get_subject_name(ca_csr_req(*csr)));
		if (*subj == NULL || X509_NAME_entry_count(*subj) == 0)
			return ut_err(OFFCA_E_USAGE, "the CSR has an empty subject: pass --subject DN");
	}
	return OFFCA_OK;
}

/* --permit-dns also becomes the issuer's policy.dns_suffixes, unless config.json sets them. The
   intermediate exists by now: a failure here says so and how to finish by hand. */
static offca_rc adopt_permit(const struct opts *o, const char *name)
{
	char msg[512];
	int written = 0;
	offca_rc rc;

	if (o->n_permit == 0)
		return OFFCA_OK;
	rc = ca_config_adopt_permit_dns(cli_home(o->home), name, o->permit, o->n_permit, &written);
	if (rc == OFFCA_OK) {
		fprintf(stderr, "offca: config.json: issuers.%s.policy.dns_suffixes %s\n", name,
			written ? "set to the --permit-dns names" : "already set there: kept (it wins; the name "
			"constraints still apply at signing)");
		return OFFCA_OK;
	}
	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	return ut_err(rc, "intermediate '%s' was made, but config.json was not updated (%s): set "
		      "issuers.%s.policy.dns_suffixes by hand", name, msg, name);
}

static int run_intermediate(const cli_cmd *cmd, cli_args *a)
{
	struct opts o;
	cli_session sess = {0};
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *parent = NULL;
	tok_key *pkey = NULL, *skey = NULL;
	ca_csr *csr = NULL;
	X509_NAME *subj = NULL;
	EVP_PKEY *pub = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	ca_ca_spec spec;
	tok_pin_opts pin = {0};
	char pname[64], defname[64];
	time_t now = time(NULL);
	struct tm tm;
	offca_rc rc;
	int r;

	if ((r = opts_from(cmd, a, &o)) != 0)
		return r;
	if ((o.key == NULL) == (o.csr == NULL))
		return cli_usage_error(cmd->name, "give one of --key or --csr");
	if (o.key != NULL && o.subject == NULL)
		return cli_usage_error(cmd->name, "--subject is required with --key");
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	gmtime_r(&now, &tm);
	strftime(defname, sizeof(defname), "int-%Y%m%d", &tm);
	if (o.name == NULL)
		o.name = defname;
	if ((rc = open_home(&sess, a, &o, &st, &cfg)) != OFFCA_OK)
		goto out;
	if ((rc = pick_parent(st, o.issuer, pname, sizeof(pname))) != OFFCA_OK ||
	    (rc = ca_signer_new(st, cfg, pname, &parent)) != OFFCA_OK)
		goto out;
	if ((rc = subject_key(&o, st, cfg, &skey, &csr, &subj, &pub)) != OFFCA_OK)
		goto out;
	pin.pin_file = o.ipin_file ? o.ipin_file : o.pin_file;
	if ((rc = cli_signer_open_key(parent, st, o.module, &pin, "ca intermediate", &pkey)) != OFFCA_OK)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.name = o.name;
	spec.subject = subj;
	spec.days = (unsigned)o.days;
	spec.path_len = (int)o.path_len;
	spec.permit_dns = o.permit;
	spec.n_permit_dns = o.n_permit;
	spec.key_uri = skey != NULL ? (tok_key_uri(skey) ? tok_key_uri(skey) : o.key) : "";
	spec.source = o.csr ? "offca ca intermediate --csr" : "offca ca intermediate";
	if ((rc = ca_sign_intermediate(st, parent, &spec, pub, &der, &len)) != OFFCA_OK)
		goto out;
	if ((rc = emit_cert(o.out, der, len)) != OFFCA_OK)
		goto out;
	fprintf(stderr, "offca: intermediate '%s' signed by '%s' (%u days)%s\n", spec.name, pname, spec.days,
		o.csr ? "; its key lives elsewhere, so it cannot sign here" : "");
	rc = adopt_permit(&o, spec.name);
out:
	OPENSSL_free(der);
	X509_NAME_free(subj);
	ca_csr_free(csr);
	tok_key_free(skey);
	ca_signer_free(parent);
	tok_key_free(pkey);
	cli_session_close(&sess);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static const cli_opt root_opts[] = {
	CLI_O("key", CLI_STR, "URI", "the root's key on a token (pkcs11:token=...;object=...)", .flags = CLI_REQUIRED),
	CLI_O("subject", CLI_STR, "DN", "the root's name (\"CN=Example Root,O=Example\" or \"/O=Example/CN=...\")",
	      .flags = CLI_REQUIRED),
	CLI_O("days", CLI_DAYS, "N", "validity in days", .flags = CLI_REQUIRED, .lo = 1, .hi = 36600),
	CLI_O("path-len", CLI_NUM, "N", "pathLenConstraint (none unless given)", .lo = 0, .hi = 16),
	CLI_O("name", CLI_STR, "NAME", "the issuer's name in the store (default \"root\")"),
	CLI_O("out", CLI_PATH, "FILE", "write the certificate there (never overwritten) instead of stdout"),
	CLI_OPT_HOME,
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

static const cli_opt intermediate_opts[] = {
	CLI_O("key", CLI_STR, "URI", "the intermediate's key on a token (or --csr)"),
	CLI_O("csr", CLI_PATH, "FILE", "a CSR for a key that lives elsewhere (instead of --key)"),
	CLI_O("subject", CLI_STR, "DN", "the intermediate's name (required with --key; default: the CSR's subject)"),
	CLI_O("days", CLI_DAYS, "N", "validity in days", .flags = CLI_REQUIRED, .lo = 1, .hi = 36600),
	CLI_O("path-len", CLI_NUM, "N", "pathLenConstraint", .lo = 0, .hi = 16),
	CLI_O("permit-dns", CLI_LIST, "SUFFIX", "critical DNS name constraints (repeat, comma-separate or list "
	      "several after it)", .flags = CLI_WORDS | CLI_COMMA),
	CLI_O("issuer", CLI_STR, "NAME", "the parent issuer (default: the only root)"),
	CLI_O("name", CLI_STR, "NAME", "the issuer's name in the store (default int-YYYYMMDD)"),
	CLI_O("issuer-pin-file", CLI_SECRET, "F", "the parent key's PIN (default: --pin-file)"),
	CLI_O("out", CLI_PATH, "FILE", "write the certificate there (never overwritten) instead of stdout"),
	CLI_OPT_HOME,
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

static const char ca_dn_text[] =
	"DN: \"CN=Example Root,O=Example\" (RFC 4514: most specific first, as offca list and show print\n"
	"it) or \"/O=Example/CN=Example Root\" (OpenSSL's slash form, in DER order): the same name.\n"
	"The certificate is printed as PEM on stdout, or written to --out FILE (never overwritten).\n"
	"Every step is in the audit log.\n";

static const cli_cmd root_cmd = {
	.name = "ca root",
	.summary = "a self-signed root whose key is on a token",
	.opts = root_opts,
	.details = "basicConstraints CA:TRUE critical, keyCertSign+cRLSign critical, SKI/AKI; a pathLenConstraint\n"
		   "only with --path-len. Recorded as issuer NAME (default \"root\").\n",
	.run = run_root,
};

static const cli_cmd intermediate_cmd = {
	.name = "ca intermediate",
	.summary = "a CA certificate signed by --issuer (default: the root) for a key on a token or elsewhere",
	.opts = intermediate_opts,
	.max_pos = 0,
	.usage = "offca ca intermediate --key URI --subject DN --days N [--path-len N] [--permit-dns SUFFIX...]\n"
		 "                      [--issuer NAME] [--name NAME] [--issuer-pin-file F] [--out FILE]\n"
		 "offca ca intermediate --csr FILE [--subject DN] --days N [--path-len N] [--permit-dns SUFFIX...]\n"
		 "                      [--issuer NAME] [--name NAME] [--out FILE]",
	.details = "For a key on a token (--key; may be another token: its PIN from --pin-file, the parent's from\n"
		   "--issuer-pin-file, else --pin-file, else the URIs' pin-source, else a prompt), or for a key\n"
		   "that lives elsewhere (--csr: the CSR's key and, without --subject, its subject). --permit-dns\n"
		   "adds critical DNS name constraints. The newest intermediate becomes the default issuer of\n"
		   "offca sign. NAME defaults to int-YYYYMMDD.\n",
	.run = run_intermediate,
};

static const cli_cmd *const ca_subs[] = {&root_cmd, &intermediate_cmd, &cli_ca_list_cmd, &cli_ca_show_cmd, NULL};

const cli_cmd cli_ca_cmd = {
	.name = "ca",
	.summary = "create the root and intermediates whose keys are on tokens; list and show them",
	.details = ca_dn_text,
	.subs = ca_subs,
};
