/* cmd_ca.c - offca ca root | intermediate | list (docs/ca.md). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
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

static const char ca_usage[] =
	"usage: offca ca root --key URI --subject DN --days N [--path-len N] [--name NAME] [--out FILE]\n"
	"       offca ca intermediate --key URI --subject DN --days N [--path-len N] [--permit-dns SUFFIX...]\n"
	"                             [--issuer NAME] [--name NAME] [--issuer-pin-file F] [--out FILE]\n"
	"       offca ca intermediate --csr FILE [--subject DN] --days N [--path-len N] [--permit-dns SUFFIX...]\n"
	"                             [--issuer NAME] [--name NAME] [--out FILE]\n"
	"       offca ca list\n"
	"common: [--home DIR] [--pin-file F] [--module PATH]\n"
	"\n"
	"root          self-signed root whose key is on a token (URI: pkcs11:token=...;object=...).\n"
	"              basicConstraints CA:TRUE critical, keyCertSign+cRLSign critical, SKI/AKI; a\n"
	"              pathLenConstraint only with --path-len. Recorded as issuer NAME (default \"root\").\n"
	"intermediate  CA certificate signed by --issuer (default: the root) for a key on a token\n"
	"              (--key; may be another token: its PIN from --pin-file, the parent's from\n"
	"              --issuer-pin-file, else --pin-file, else the URIs' pin-source, else a prompt), or\n"
	"              for a key that lives elsewhere (--csr: the CSR's key and, without --subject, its\n"
	"              subject). --permit-dns adds critical DNS name constraints (repeat the flag or\n"
	"              list several suffixes after it). The newest intermediate becomes the default\n"
	"              issuer of offca sign. NAME defaults to int-YYYYMMDD.\n"
	"list          issuers with their parent, subject, validity and key URI.\n"
	"\n"
	"DN: \"CN=Example Root,O=Example\" (RFC 4514: most specific first, as offca list and show print\n"
	"it) or \"/O=Example/CN=Example Root\" (OpenSSL's slash form, in DER order): the same name.\n"
	"The certificate is printed as PEM on stdout, or written to --out FILE (never overwritten).\n"
	"Every step is in the audit log.\n";

enum { O_HOME = 1, O_KEY, O_SUBJECT, O_DAYS, O_PATHLEN, O_NAME, O_OUT, O_PINFILE, O_MODULE, O_ISSUER,
       O_PERMIT, O_CSR, O_IPINFILE };

static const struct option long_opts[] = {
	{"home", required_argument, NULL, O_HOME},       {"key", required_argument, NULL, O_KEY},
	{"subject", required_argument, NULL, O_SUBJECT}, {"days", required_argument, NULL, O_DAYS},
	{"path-len", required_argument, NULL, O_PATHLEN}, {"name", required_argument, NULL, O_NAME},
	{"out", required_argument, NULL, O_OUT},         {"pin-file", required_argument, NULL, O_PINFILE},
	{"module", required_argument, NULL, O_MODULE},   {"issuer", required_argument, NULL, O_ISSUER},
	{"permit-dns", required_argument, NULL, O_PERMIT}, {"csr", required_argument, NULL, O_CSR},
	{"issuer-pin-file", required_argument, NULL, O_IPINFILE}, {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}};

struct opts {
	const char *home, *key, *subject, *name, *out, *pin_file, *module, *issuer, *csr, *ipin_file;
	long days, path_len;
	const char *permit[CA_MAX_PERMIT_DNS];
	size_t n_permit;
	char *permit_buf;
};

static int add_permit(struct opts *o, char *list)
{
	char *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (o->n_permit >= CA_MAX_PERMIT_DNS)
			return cli_usage_error("ca", "at most %d --permit-dns suffixes", CA_MAX_PERMIT_DNS);
		o->permit[o->n_permit++] = t;
	}
	return 0;
}

static int parse_num(const char *flag, const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || *out < lo || *out > hi)
		return cli_usage_error("ca", "%s takes a number %ld..%ld", flag, lo, hi);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c, r = 0;

	memset(o, 0, sizeof(*o));
	o->days = -1;
	o->path_len = -1;
	optind = 0;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_HOME: o->home = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_SUBJECT: o->subject = optarg; break;
		case O_NAME: o->name = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_PINFILE: o->pin_file = optarg; break;
		case O_IPINFILE: o->ipin_file = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_CSR: o->csr = optarg; break;
		case O_DAYS: r = parse_num("--days", optarg, 1, 36600, &o->days); break;
		case O_PATHLEN: r = parse_num("--path-len", optarg, 0, 16, &o->path_len); break;
		case O_PERMIT: r = add_permit(o, optarg); break;
		default: return cli_usage_error("ca", "unknown or misplaced option '%s'", argv[optind - 1]);
		}
	}
	/* "--permit-dns a.example b.example": extra words are more suffixes */
	for (; r == 0 && optind < argc; optind++) {
		if (o->n_permit == 0)
			return cli_usage_error("ca", "unexpected argument '%s'", argv[optind]);
		r = add_permit(o, argv[optind]);
	}
	return r;
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

static offca_rc open_home(const struct opts *o, ca_store **st, ca_config **cfg)
{
	const char *home = cli_home(o->home);
	offca_rc rc;

	*st = NULL;
	*cfg = NULL;
	if (home == NULL)
		return OFFCA_E_USAGE;
	if ((rc = ca_store_open(home, 0, st)) != OFFCA_OK)
		return rc;
	/* the issuer being made may already have its section in config.json */
	if ((rc = ca_config_load_for_store(home, *st, &o->name, 1, cfg)) != OFFCA_OK) {
		ca_store_free(*st);
		*st = NULL;
	}
	return rc;
}

static int cmd_root(int argc, char **argv)
{
	struct opts o;
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

	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if (o.key == NULL || o.subject == NULL || o.days < 0)
		return cli_usage_error("ca root", "--key, --subject and --days are required");
	if (o.csr != NULL || o.n_permit > 0 || o.issuer != NULL)
		return cli_usage_error("ca root", "--csr, --permit-dns and --issuer are for intermediates");
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	if ((rc = ca_x509_parse_dn(o.subject, &subj)) != OFFCA_OK)
		goto out;
	if (o.name == NULL)
		o.name = "root";
	if ((rc = open_home(&o, &st, &cfg)) != OFFCA_OK)
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
	ca_config_free(cfg);
	ca_store_free(st);
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

static int cmd_intermediate(int argc, char **argv)
{
	struct opts o;
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

	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if ((o.key == NULL) == (o.csr == NULL) || o.days < 0)
		return cli_usage_error("ca intermediate", "one of --key or --csr, and --days, are required");
	if (o.key != NULL && o.subject == NULL)
		return cli_usage_error("ca intermediate", "--subject is required with --key");
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	gmtime_r(&now, &tm);
	strftime(defname, sizeof(defname), "int-%Y%m%d", &tm);
	if (o.name == NULL)
		o.name = defname;
	if ((rc = open_home(&o, &st, &cfg)) != OFFCA_OK)
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
	ca_config_free(cfg);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int cmd_list(int argc, char **argv)
{
	struct opts o;
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_issuer *list = NULL, def;
	size_t n = 0;
	offca_rc rc;
	int r;

	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	memset(&def, 0, sizeof(def));
	if ((rc = open_home(&o, &st, &cfg)) != OFFCA_OK)
		goto out;
	if ((rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK)
		goto out;
	if (ca_sign_default_issuer(st, def.name) != OFFCA_OK)
		def.name[0] = '\0';
	ut_err_clear();
	printf("%-3s %-20s %-12s %-22s %s\n", "", "NAME", "PARENT", "NOT AFTER", "SUBJECT / KEY");
	for (size_t i = 0; i < n; i++) {
		X509 *x = NULL;
		char subj[512] = "", na[64] = "";
		BIO *b = BIO_new(BIO_s_mem());
		if (ca_x509_from_der(list[i].der, list[i].der_len, &x) == OFFCA_OK && b != NULL) {
			(void)ca_x509_name_text(X509_get_subject_name(x), subj, sizeof(subj)); /* as offca list */
			if (ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1)
				BIO_read(b, na, sizeof(na) - 1);
		}
		printf("%-3s %-20s %-12s %-22s %s\n    %s\n", strcmp(def.name, list[i].name) == 0 ? "*" : "",
		       list[i].name, list[i].parent[0] ? list[i].parent : "(self)", na, subj,
		       list[i].key_uri[0] ? list[i].key_uri : "(key elsewhere)");
		BIO_free(b);
		X509_free(x);
	}
	if (n == 0)
		printf("(no issuers yet: offca ca root --key URI --subject DN --days N)\n");
	rc = OFFCA_OK;
out:
	ca_issuer_clear(&def);
	ca_issuer_list_free(list, n);
	ca_config_free(cfg);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

int cli_cmd_ca(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("ca", "missing subcommand: root, intermediate or list");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(ca_usage, stdout);
		return 0;
	}
	if (cli_wants_help(argc, argv)) {
		fputs(ca_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "root") == 0)
		return cmd_root(argc - 1, argv + 1);
	if (strcmp(argv[1], "intermediate") == 0)
		return cmd_intermediate(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	return cli_usage_error("ca", "unknown subcommand '%s' (root, intermediate, list)", argv[1]);
}
