/* cmd_sign.c - offca sign (CSRs -> certificates, one token login) and offca issue --generate-key. */
#include "cli.h"
#include "sign_confirm.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "offca/config.h"
#include "offca/csr.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"
#include "offca/x509.h"

static const char sign_usage[] =
	"usage: offca sign --csr FILE... --profile server|client|mtls [--days N] [--out FILE|--out-dir DIR]\n"
	"                  [--issuer NAME] [--dry-run] [--home DIR] [--pin-file F] [--module PATH]\n"
	"       offca sign --pending ID... | --pending-all  --profile P [same options]\n"
	"\n"
	"Sign certificate requests with the issuer's key on its token (one login for all of them).\n"
	"Each CSR is parsed strictly and checked against the issuer's policy (config.json): key type\n"
	"and size, SAN syntax and allowed names, CN among the SANs, validity (default 90 days, at most\n"
	"397). Requested extensions other than subjectAltName are ignored. A refusal names the rule.\n"
	"The batch is all or nothing: serials are reserved first, every certificate is verified and\n"
	"linted after signing, all records are committed, and only then are files written.\n"
	"\n"
	"  --csr FILE...     PEM (CERTIFICATE REQUEST / NEW CERTIFICATE REQUEST) or DER; repeat the flag\n"
	"                    or list several files after it\n"
	"  --pending ID...   sign CSRs from the pending queue (offca pending list); --pending-all: all;\n"
	"                    signed entries leave the queue\n"
	"  --profile P       server (serverAuth), client (clientAuth) or mtls (both)\n"
	"  --days N          validity in days (default: the policy's leaf_days_default)\n"
	"  --out FILE        the certificate (PEM) for a single CSR; never overwritten\n"
	"  --out-dir DIR     one SERIAL.pem per certificate in DIR (default: HOME/outbox)\n"
	"  --issuer NAME     issuing CA (default: the newest intermediate, else the root)\n"
	"  --dry-run         check everything and show what would be signed; no token, no store change\n"
	"  --yes             on a terminal, sign without showing the batch and asking for yes first\n"
	"\n"
	"On a terminal, sign shows what it is about to sign (count, issuer, profile, validity, each\n"
	"subject and SANs; a long batch: the first and last few) and signs only after \"yes\". Without a\n"
	"terminal on standard input it does not ask (the token's touch is the human presence there).\n";

static const char issue_usage[] =
	"usage: offca issue --generate-key --subject DN --san NAME... --profile server|client|mtls\n"
	"                   --out FILE.p12 [--key-type ec-p256|ec-p384|rsa-2048|rsa-3072] [--days N]\n"
	"                   [--legacy] [--passphrase-file F] [--issuer NAME] [--home DIR]\n"
	"                   [--pin-file F] [--module PATH]\n"
	"\n"
	"The exception to endpoint-owned keys: generate the key here (in software), sign it like any CSR\n"
	"(same policy, lint and records) and write a passphrase-protected PKCS#12 (0600, never\n"
	"overwritten) holding key, certificate and issuer chain. The key then has to travel: prefer\n"
	"offca sign with a CSR made on the endpoint.\n"
	"\n"
	"  --subject DN      \"CN=host,O=Example\" (RFC 4514, as offca list prints it) or\n"
	"                    \"/O=Example/CN=host\" (OpenSSL's slash form, in DER order): the same name\n"
	"  --san NAME        DNS:name, IP:addr, email:addr, URI:uri or a bare DNS name; repeatable,\n"
	"                    comma-separated lists allowed\n"
	"  --legacy          PBE-SHA1-3DES + SHA-1 MAC for old consumers (default: AES-256-CBC with\n"
	"                    PBKDF2-HMAC-SHA256 and a SHA-256 MAC)\n"
	"  --passphrase-file F  passphrase from the first line of F (0600); default: prompt twice\n";

enum { O_HOME = 1, O_CSR, O_PROFILE, O_DAYS, O_OUT, O_OUTDIR, O_ISSUER, O_DRY, O_PENDING, O_PENDALL,
       O_PINFILE, O_MODULE, O_GENKEY, O_SUBJECT, O_SAN, O_LEGACY, O_PASSFILE, O_KEYTYPE, O_YES };

static const struct option long_opts[] = {
	{"home", required_argument, NULL, O_HOME},         {"csr", required_argument, NULL, O_CSR},
	{"profile", required_argument, NULL, O_PROFILE},   {"days", required_argument, NULL, O_DAYS},
	{"out", required_argument, NULL, O_OUT},           {"out-dir", required_argument, NULL, O_OUTDIR},
	{"issuer", required_argument, NULL, O_ISSUER},     {"dry-run", no_argument, NULL, O_DRY},
	{"pending", required_argument, NULL, O_PENDING},   {"pending-all", no_argument, NULL, O_PENDALL},
	{"pin-file", required_argument, NULL, O_PINFILE},  {"module", required_argument, NULL, O_MODULE},
	{"generate-key", no_argument, NULL, O_GENKEY},     {"subject", required_argument, NULL, O_SUBJECT},
	{"san", required_argument, NULL, O_SAN},           {"legacy", no_argument, NULL, O_LEGACY},
	{"passphrase-file", required_argument, NULL, O_PASSFILE}, {"key-type", required_argument, NULL, O_KEYTYPE},
	{"yes", no_argument, NULL, O_YES},
	{"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};

#define MAX_ARGS_LIST CA_SIGN_MAX_BATCH

struct opts {
	const char *home, *profile, *out, *out_dir, *issuer, *pin_file, *module, *subject, *pass_file, *key_type;
	long days;
	int dry, pend_all, genkey, legacy, yes;
	const char **csrs; size_t n_csrs;
	uint64_t *pend; size_t n_pend;
	const char **sans; size_t n_sans;
	int last_list; /* 1 csr, 2 pending, 3 san: where free words go */
};

static void opts_free(struct opts *o)
{
	free(o->csrs);
	free(o->pend);
	free(o->sans);
}

static int push_word(const char *cmd, struct opts *o, int list, const char *w)
{
	if (list == 1 || list == 3) {
		const char ***arr = list == 1 ? &o->csrs : &o->sans;
		size_t *n = list == 1 ? &o->n_csrs : &o->n_sans;
		const char **na;
		if (*n >= MAX_ARGS_LIST)
			return cli_usage_error(cmd, "too many arguments (at most %u)", MAX_ARGS_LIST);
		na = realloc(*arr, (*n + 1) * sizeof(*na));
		if (na == NULL)
			return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
		*arr = na;
		na[(*n)++] = w;
		return 0;
	}
	if (list == 2) {
		char *end;
		unsigned long long v;
		uint64_t *np;
		errno = 0;
		v = strtoull(w, &end, 10);
		if (errno != 0 || *end != '\0' || end == w || w[0] == '-')
			return cli_usage_error(cmd, "--pending takes pending ids (numbers), not '%s'", w);
		if (o->n_pend >= MAX_ARGS_LIST)
			return cli_usage_error(cmd, "too many --pending ids");
		for (size_t k = 0; k < o->n_pend; k++)
			if (o->pend[k] == (uint64_t)v)
				return cli_usage_error(cmd, "--pending %llu given twice", v);
		np = realloc(o->pend, (o->n_pend + 1) * sizeof(*np));
		if (np == NULL)
			return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
		o->pend = np;
		np[o->n_pend++] = (uint64_t)v;
		return 0;
	}
	return cli_usage_error(cmd, "unexpected argument '%s'", w);
}

static int parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	int c, r = 0;
	char *end;

	memset(o, 0, sizeof(*o));
	o->days = 0;
	optind = 0;
	opterr = 0;
	while (r == 0 && (c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_HOME: o->home = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_OUTDIR: o->out_dir = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_DRY: o->dry = 1; break;
		case O_YES: o->yes = 1; break;
		case O_PENDALL: o->pend_all = 1; break;
		case O_PINFILE: o->pin_file = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_GENKEY: o->genkey = 1; break;
		case O_SUBJECT: o->subject = optarg; break;
		case O_LEGACY: o->legacy = 1; break;
		case O_PASSFILE: o->pass_file = optarg; break;
		case O_KEYTYPE: o->key_type = optarg; break;
		case O_CSR: o->last_list = 1; r = push_word(cmd, o, 1, optarg); break;
		case O_PENDING: o->last_list = 2; r = push_word(cmd, o, 2, optarg); break;
		case O_SAN: o->last_list = 3; r = push_word(cmd, o, 3, optarg); break;
		case O_DAYS:
			errno = 0;
			o->days = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || o->days < 1 || o->days > 397)
				return cli_usage_error(cmd, "--days takes a number 1..397");
			break;
		default: return cli_usage_error(cmd, "unknown or misplaced option '%s'", argv[optind - 1]);
		}
	}
	for (; r == 0 && optind < argc; optind++)
		r = push_word(cmd, o, o->last_list, argv[optind]);
	return r;
}

/* Inputs from files or the pending queue. bufs[i] owned (free). */
static offca_rc load_inputs(const struct opts *o, ca_store *st, ca_sign_input **in, unsigned char ***bufs,
			    char ***labels, size_t *n)
{
	ca_pending *plist = NULL;
	size_t np = 0, cnt;
	offca_rc rc = OFFCA_OK;

	if (o->pend_all) {
		if ((rc = ca_store_pending_list(st, &plist, &np)) != OFFCA_OK)
			return rc;
		if (np == 0) {
			ca_pending_list_free(plist, np);
			return ut_err(OFFCA_E_NOT_FOUND, "the pending queue is empty");
		}
	}
	cnt = o->pend_all ? np : o->n_pend + o->n_csrs;
	*in = calloc(cnt, sizeof(**in));
	*bufs = calloc(cnt, sizeof(**bufs));
	*labels = calloc(cnt, sizeof(**labels));
	*n = cnt;
	if (*in == NULL || *bufs == NULL || *labels == NULL) {
		ca_pending_list_free(plist, np);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < cnt && rc == OFFCA_OK; i++) {
		char lab[160];
		size_t len = 0;
		if (o->pend_all || i < o->n_pend) {
			ca_pending p;
			memset(&p, 0, sizeof(p));
			if (o->pend_all) {
				p = plist[i];
				memset(&plist[i], 0, sizeof(plist[i]));
			} else if ((rc = ca_store_pending_get(st, o->pend[i], &p)) != OFFCA_OK) {
				break;
			}
			(*in)[i].pending_id = p.id;
			snprintf(lab, sizeof(lab), "pending %llu", (unsigned long long)p.id);
			(*bufs)[i] = p.der;
			len = p.len;
			p.der = NULL;
			ca_pending_clear(&p);
		} else {
			const char *f = o->csrs[i - o->n_pend];
			snprintf(lab, sizeof(lab), "%s", f);
			rc = ut_read_file(f, CA_CSR_MAX_INPUT, 1, &(*bufs)[i], &len);
			if (rc == OFFCA_E_TOO_BIG)
				rc = ut_err(rc, "%s: policy csr-size: more than %u bytes", f, CA_CSR_MAX_INPUT);
		}
		(*labels)[i] = strdup(lab);
		(*in)[i].label = (*labels)[i] ? (*labels)[i] : "csr";
		(*in)[i].csr = (*bufs)[i];
		(*in)[i].csr_len = len;
	}
	ca_pending_list_free(plist, np);
	return rc;
}

/* Write every certificate (after the commit). */
static offca_rc write_outputs(const struct opts *o, ca_outdir *od, const ca_sign_result *res,
			      const ca_sign_input *in)
{
	char hex[2 * CA_SERIAL_LEN + 1], *pem = NULL;
	size_t plen = 0;
	offca_rc rc;

	if (o->out != NULL) {
		rc = ca_x509_der_to_pem(res->certs[0].der, res->certs[0].der_len, &pem, &plen);
		if (rc == OFFCA_OK)
			rc = ut_write_file(o->out, pem, plen, UT_WF_EXCL);
		free(pem);
		ca_serial_hex(&res->certs[0].serial, hex, sizeof(hex));
		if (rc == OFFCA_OK)
			printf("%s -> %s  serial %s  %s%s\n", in[0].label, o->out, hex, res->certs[0].sans,
			       res->certs[0].cn_copied ? " (CN copied into SAN)" : "");
	} else {
		rc = ca_outdir_release(od, res);
		for (size_t i = 0; rc == OFFCA_OK && i < res->n; i++) {
			const char *path = ca_outdir_path(od, i), *slash = strrchr(path, '/');
			printf("%s -> %s  serial %.32s  %s%s\n", in[i].label, path, slash ? slash + 1 : path,
			       res->certs[i].sans, res->certs[i].cn_copied ? " (CN copied into SAN)" : "");
		}
	}
	if (rc != OFFCA_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: the %zu certificate(s) are signed and recorded but not all were written: "
				"get them with offca export SERIAL (offca list)", msg, res->n);
	}
	return rc;
}

static offca_rc check_outputs(const struct opts *o, size_t n)
{
	struct stat sb;

	if (o->out != NULL && o->out_dir != NULL)
		return ut_err(OFFCA_E_USAGE, "--out and --out-dir exclude each other");
	if (o->out != NULL && n != 1)
		return ut_err(OFFCA_E_USAGE, "--out takes one CSR; use --out-dir for %zu", n);
	if (o->out != NULL && ut_path_exists(o->out) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o->out);
	if (o->out_dir != NULL && (stat(o->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		return ut_err(OFFCA_E_NOT_FOUND, "--out-dir %s: not a directory", o->out_dir);
	return OFFCA_OK;
}

static void print_dry(const ca_signer *s, const ca_sign_result *res, const ca_sign_input *in, const char *prof)
{
	printf("dry run: issuer '%s', profile %s; nothing signed, nothing recorded\n", ca_signer_issuer_name(s), prof);
	for (size_t i = 0; i < res->n; i++)
		printf("  %s: subject \"%s\"  %s%s\n", in[i].label, res->certs[i].subject, res->certs[i].sans,
		       res->certs[i].cn_copied ? " (CN copied into SAN)" : "");
}

int cli_cmd_sign(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *s = NULL;
	tok_key *key = NULL;
	ca_sign_input *in = NULL;
	unsigned char **bufs = NULL;
	char **labels = NULL;
	size_t n = 0;
	ca_sign_opts so;
	ca_sign_result res;
	ca_outdir *od = NULL;
	tok_pin_opts pin = {0};
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(sign_usage, stdout);
		return 0;
	}
	if ((r = parse("sign", argc, argv, &o)) != 0) {
		opts_free(&o);
		return r;
	}
	memset(&res, 0, sizeof(res));
	memset(&so, 0, sizeof(so));
	if (o.profile == NULL || (o.n_csrs == 0 && o.n_pend == 0 && !o.pend_all) || o.genkey || o.n_sans) {
		opts_free(&o);
		return cli_usage_error("sign", "--profile and at least one --csr FILE or --pending ID are required");
	}
	if (o.pend_all && (o.n_pend || o.n_csrs)) {
		opts_free(&o);
		return cli_usage_error("sign", "--pending-all takes no --csr or --pending");
	}
	if ((rc = ca_profile_parse(o.profile, 1, &so.profile)) != OFFCA_OK)
		goto out;
	if ((home = cli_home(o.home)) == NULL) {
		rc = OFFCA_E_USAGE;
		goto out;
	}
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK || (rc = ca_config_load_for_store(home, st, NULL, 0, &cfg)) != OFFCA_OK ||
	    (rc = ca_signer_new(st, cfg, o.issuer, &s)) != OFFCA_OK)
		goto out;
	if ((rc = load_inputs(&o, st, &in, &bufs, &labels, &n)) != OFFCA_OK ||
	    (rc = check_outputs(&o, n)) != OFFCA_OK)
		goto out;
	so.days = (unsigned)o.days;
	so.source = o.n_pend || o.pend_all ? "offca sign --pending" : "offca sign";
	so.threads = 2;
	/* on a terminal, a person sees the batch and types yes before any file or token is touched */
	if (!o.dry && !o.yes && isatty(STDIN_FILENO) &&
	    (rc = cli_sign_confirm(s, cfg, in, n, &so, o.profile, stdin, stdout)) != OFFCA_OK)
		goto out;
	if (o.out == NULL && !o.dry) {
		char dir[4096];
		if (o.out_dir != NULL)
			snprintf(dir, sizeof(dir), "%s", o.out_dir);
		else
			snprintf(dir, sizeof(dir), "%s/outbox", home);
		if ((rc = ca_outdir_new(dir, n, &od)) != OFFCA_OK)
			goto out;
		so.stage_out = ca_outdir_stage;
		so.stage_sync = ca_outdir_sync;
		so.stage_arg = od;
	}
	if (o.dry) {
		if ((rc = ca_sign_check(s, in, n, &so, &res)) == OFFCA_OK)
			print_dry(s, &res, in, o.profile);
		goto out;
	}
	pin.pin_file = o.pin_file;
	if ((rc = cli_signer_open_key(s, st, o.module, &pin, "sign", &key)) != OFFCA_OK)
		goto out;
	if ((rc = ca_sign_batch(s, st, in, n, &so, &res)) != OFFCA_OK)
		goto out;
	tok_key_free(key); /* log out as soon as the signatures are done */
	key = NULL;
	/* the signed CSRs left the pending queue in the records' transaction (ca_sign_input.pending_id) */
	rc = write_outputs(&o, od, &res, in);
	if (rc == OFFCA_OK)
		fprintf(stderr, "offca: %zu certificate%s signed by '%s'\n", n, n == 1 ? "" : "s", ca_signer_issuer_name(s));
out:
	ca_outdir_free(od);
	ca_sign_result_clear(&res);
	for (size_t i = 0; i < n; i++) {
		if (bufs)
			free(bufs[i]);
		if (labels)
			free(labels[i]);
	}
	free(bufs);
	free(labels);
	free(in);
	tok_key_free(key);
	ca_signer_free(s);
	ca_config_free(cfg);
	ca_store_free(st);
	opts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* Passphrase from --passphrase-file or a no-echo prompt (twice). */
static offca_rc get_pass(const char *file, char *buf, size_t cap)
{
	char again[UT_MAX_SECRET];
	offca_rc rc;

	if (file != NULL)
		return ut_secret_from_file(file, 1, buf, cap);
	if ((rc = ut_secret_prompt("PKCS#12 passphrase: ", buf, cap)) != OFFCA_OK)
		return rc;
	rc = ut_secret_prompt("PKCS#12 passphrase (again): ", again, sizeof(again));
	if (rc == OFFCA_OK && strcmp(buf, again) != 0)
		rc = ut_err(OFFCA_E_USAGE, "the passphrases differ");
	ut_memzero(again, sizeof(again));
	return rc;
}

int cli_cmd_issue(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *s = NULL;
	tok_key *key = NULL;
	tok_pin_opts pin = {0};
	ca_issue_req req;
	ca_signed info;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	char pass[UT_MAX_SECRET] = "", hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(issue_usage, stdout);
		return 0;
	}
	if ((r = parse("issue", argc, argv, &o)) != 0) {
		opts_free(&o);
		return r;
	}
	memset(&req, 0, sizeof(req));
	memset(&info, 0, sizeof(info));
	if (!o.genkey || o.subject == NULL || o.profile == NULL || o.out == NULL || o.n_csrs || o.n_pend ||
	    o.pend_all || o.dry || o.out_dir) {
		opts_free(&o);
		return cli_usage_error("issue", "--generate-key, --subject, --profile and --out FILE.p12 are required");
	}
	if ((rc = ca_profile_parse(o.profile, 1, &req.profile)) != OFFCA_OK)
		goto out;
	if (ut_path_exists(o.out) == OFFCA_OK) {
		rc = ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out);
		goto out;
	}
	if ((home = cli_home(o.home)) == NULL) {
		rc = OFFCA_E_USAGE;
		goto out;
	}
	if ((rc = ca_store_open(home, 0, &st)) != OFFCA_OK || (rc = ca_config_load_for_store(home, st, NULL, 0, &cfg)) != OFFCA_OK ||
	    (rc = ca_signer_new(st, cfg, o.issuer, &s)) != OFFCA_OK)
		goto out;
	if ((rc = get_pass(o.pass_file, pass, sizeof(pass))) != OFFCA_OK)
		goto out;
	pin.pin_file = o.pin_file;
	if ((rc = cli_signer_open_key(s, st, o.module, &pin, "issue --generate-key", &key)) != OFFCA_OK)
		goto out;
	req.subject = o.subject;
	req.sans = o.sans;
	req.n_sans = o.n_sans;
	req.key_type = o.key_type;
	req.days = (unsigned)o.days;
	req.pass = pass;
	req.legacy = o.legacy;
	if ((rc = ca_issue_generated(s, st, &req, &p12, &p12_len, &info)) != OFFCA_OK)
		goto out;
	if ((rc = ut_write_file(o.out, p12, p12_len, UT_WF_EXCL | UT_WF_SECRET)) != OFFCA_OK)
		goto out;
	ca_serial_hex(&info.serial, hex, sizeof(hex));
	printf("%s  serial %s  %s\n", o.out, hex, info.sans);
	fprintf(stderr,
		"offca: WARNING: this private key was generated here and now has to travel to its endpoint.\n"
		"offca: WARNING: move %s only over a channel you trust, delete every copy once installed,\n"
		"offca: WARNING: and prefer endpoint-generated keys (offca sign --csr) next time.\n", o.out);
	if (o.legacy)
		fprintf(stderr, "offca: WARNING: --legacy uses PBE-SHA1-3DES: weak protection, for old consumers only.\n");
out:
	ut_memzero(pass, sizeof(pass));
	OPENSSL_free(p12);
	OPENSSL_free(info.der);
	tok_key_free(key);
	ca_signer_free(s);
	ca_config_free(cfg);
	ca_store_free(st);
	opts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}
