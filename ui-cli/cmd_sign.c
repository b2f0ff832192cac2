/* cmd_sign.c - offca sign (CSRs -> certificates, one token login) and offca issue --generate-key. */
#include "cli.h"
#include "export_cli.h"
#include "sign_confirm.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "offca/bundle.h"
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
	"  --profile P       server (serverAuth), client (clientAuth) or mtls (both); with --pending:\n"
	"                    'requested' takes the profile the CSRs' provenance asks (offca-gateway)\n"
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
	"       offca issue --generate-key ... --layout certbot --out-dir DIR\n"
	"       offca issue --generate-key ... --k8s-secret NAME [--namespace NS] --sops --age R... --out FILE\n"
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
	"  --passphrase-file F  passphrase from the first line of F (0600); default: prompt twice\n"
	"  --layout certbot --out-dir DIR  instead of the PKCS#12: DIR/<first SAN>/ in certbot's layout\n"
	"                    (offca export --help) with privkey.pem (0600, unencrypted)\n"
	"  --k8s-secret NAME --sops --age R...  instead of the PKCS#12: a kubernetes.io/tls Secret with\n"
	"                    tls.key, as a SOPS document encrypted to the age recipients R (offca export)\n";

enum { O_HOME = 1, O_CSR, O_PROFILE, O_DAYS, O_OUT, O_OUTDIR, O_ISSUER, O_DRY, O_PENDING, O_PENDALL,
       O_PINFILE, O_MODULE, O_GENKEY, O_SUBJECT, O_SAN, O_LEGACY, O_PASSFILE, O_KEYTYPE, O_LAYOUT,
       O_K8S, O_NS, O_SOPS, O_AGE, O_YES };

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
	{"layout", required_argument, NULL, O_LAYOUT},     {"k8s-secret", required_argument, NULL, O_K8S},
	{"namespace", required_argument, NULL, O_NS},      {"sops", no_argument, NULL, O_SOPS},
	{"age", required_argument, NULL, O_AGE},           {"yes", no_argument, NULL, O_YES},
	{"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};

#define MAX_ARGS_LIST CA_SIGN_MAX_BATCH

struct opts {
	const char *home, *profile, *out, *out_dir, *issuer, *pin_file, *module, *subject, *pass_file, *key_type, *layout;
	const char *k8s, *ns;
	int sops;
	long days;
	int dry, pend_all, genkey, legacy, yes;
	const char **csrs; size_t n_csrs;
	uint64_t *pend; size_t n_pend;
	const char **sans; size_t n_sans;
	const char **ages; size_t n_ages;
	int last_list; /* 1 csr, 2 pending, 3 san, 4 age: where free words go */
};

static void opts_free(struct opts *o)
{
	free(o->csrs);
	free(o->pend);
	free(o->sans);
	free(o->ages);
}

static int push_word(const char *cmd, struct opts *o, int list, const char *w)
{
	if (list == 1 || list == 3 || list == 4) {
		const char ***arr = list == 1 ? &o->csrs : list == 3 ? &o->sans : &o->ages;
		size_t *n = list == 1 ? &o->n_csrs : list == 3 ? &o->n_sans : &o->n_ages;
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
		case O_LAYOUT: o->layout = optarg; break;
		case O_K8S: o->k8s = optarg; break;
		case O_NS: o->ns = optarg; break;
		case O_SOPS: o->sops = 1; break;
		case O_AGE: o->last_list = 4; r = push_word(cmd, o, 4, optarg); break;
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

/*
 * The records are committed but writing failed: a retry would sign a second certificate, so the
 * error has its own exit code (20, not 75's "nothing was half-written") and names every serial
 * not written with the command that writes it again. One line for one certificate; for more,
 * one line per unwritten serial first, then the error line.
 */
static offca_rc unwritten(const char *home, const struct opts *o, ca_outdir *od, const ca_sign_result *res)
{
	char cause[600], hex[2 * CA_SERIAL_LEN + 1];
	size_t missing = 0;

	snprintf(cause, sizeof(cause), "%s", ut_err_msg());
	if (o->out != NULL) {
		ca_serial_hex(&res->certs[0].serial, hex, sizeof(hex));
		return ut_err(OFFCA_E_UNWRITTEN, "%s; certificate %s is signed and recorded but %s was not written: "
				"do not sign again, write it with: offca export %s --home %s --format pem --out FILE",
			      cause, hex, o->out, hex, home);
	}
	for (size_t i = 0; i < res->n; i++) {
		if (ut_path_exists(ca_outdir_path(od, i)) == OFFCA_OK)
			continue;
		ca_serial_hex(&res->certs[i].serial, hex, sizeof(hex));
		fprintf(stderr, "offca: not written: %s (write it with: offca export %s --home %s --format pem --out FILE)\n",
			hex, hex, home);
		missing++;
	}
	return ut_err(OFFCA_E_UNWRITTEN, "%s; %zu of the %zu certificates are signed and recorded but not written "
			"(serials above): do not sign again, write them with offca export SERIAL", cause, missing, res->n);
}

/*
 * --profile requested: the one profile that the pending CSRs' provenance asks for (CSRs queued by
 * offca-gateway, docs/gateway.md). The issuer's policy still decides when signing.
 */
static offca_rc requested_profile(ca_store *st, const ca_sign_input *in, size_t n, ca_profile *out)
{
	char want[16] = "", p[16];
	offca_rc rc = OFFCA_OK;

	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		ca_pending pe;

		memset(&pe, 0, sizeof(pe));
		if (in[i].pending_id == 0)
			return ut_err(OFFCA_E_USAGE, "--profile requested takes pending CSRs only (--pending, --pending-all)");
		if ((rc = ca_store_pending_get(st, in[i].pending_id, &pe)) != OFFCA_OK)
			break;
		if (!xfr_provenance_profile(pe.source, p, sizeof(p)))
			rc = ut_err(OFFCA_E_USAGE, "pending %llu requests no profile (it did not come through offca-gateway): "
				    "give --profile server|client|mtls", (unsigned long long)pe.id);
		else if (want[0] != '\0' && strcmp(want, p) != 0)
			rc = ut_err(OFFCA_E_USAGE, "the pending CSRs request different profiles (%s, %s): sign each group "
				    "with --pending ID... --profile requested", want, p);
		else
			snprintf(want, sizeof(want), "%s", p);
		ca_pending_clear(&pe);
	}
	return rc != OFFCA_OK ? rc : ca_profile_parse(want, 1, out);
}

/* Write every certificate (after the commit). */
static offca_rc write_outputs(const char *home, const struct opts *o, ca_outdir *od, const ca_sign_result *res,
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
	return rc == OFFCA_OK ? OFFCA_OK : unwritten(home, o, od, res);
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
	char ck_msg[700];
	offca_rc rc, ck_rc = OFFCA_OK;
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
	if (o.profile == NULL || (o.n_csrs == 0 && o.n_pend == 0 && !o.pend_all) || o.genkey || o.n_sans || o.layout ||
	    o.k8s || o.sops || o.n_ages || o.ns) {
		opts_free(&o);
		return cli_usage_error("sign", "--profile and at least one --csr FILE or --pending ID are required");
	}
	if (o.pend_all && (o.n_pend || o.n_csrs)) {
		opts_free(&o);
		return cli_usage_error("sign", "--pending-all takes no --csr or --pending");
	}
	if (strcmp(o.profile, "requested") != 0 && (rc = ca_profile_parse(o.profile, 1, &so.profile)) != OFFCA_OK)
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
	if (strcmp(o.profile, "requested") == 0 && (rc = requested_profile(st, in, n, &so.profile)) != OFFCA_OK)
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
	ck_rc = cli_checkpoint(s, st, ck_msg, sizeof(ck_msg)); /* the session ends by signing the audit head */
	tok_key_free(key); /* log out as soon as the signatures are done */
	key = NULL;
	/* the signed CSRs left the pending queue in the records' transaction (ca_sign_input.pending_id) */
	rc = write_outputs(home, &o, od, &res, in);
	if (rc == OFFCA_OK)
		fprintf(stderr, "offca: %zu certificate%s signed by '%s'\n", n, n == 1 ? "" : "s", ca_signer_issuer_name(s));
	if (rc == OFFCA_OK && ck_rc != OFFCA_OK)
		rc = ut_err(ck_rc, "the certificates are recorded and written, but %s", ck_msg);
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
	EVP_PKEY *gkey = NULL;
	char pass[UT_MAX_SECRET] = "", hex[2 * CA_SERIAL_LEN + 1], ck_msg[700];
	offca_rc rc, ck_rc = OFFCA_OK;
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
	if (!o.genkey || o.subject == NULL || o.profile == NULL || o.n_csrs || o.n_pend || o.pend_all || o.dry ||
	    (o.layout == NULL && (o.out == NULL || o.out_dir)) ||
	    (o.layout != NULL && (o.out_dir == NULL || o.out || o.legacy || o.pass_file || o.k8s)) ||
	    ((o.k8s || o.sops || o.n_ages || o.ns) && (!o.k8s || !o.sops || !o.n_ages || o.legacy || o.pass_file))) {
		opts_free(&o);
		return cli_usage_error("issue", "--generate-key, --subject, --profile and --out FILE.p12 (or --layout "
						"certbot --out-dir DIR, or --k8s-secret NAME --sops --age R --out FILE) are required");
	}
	if (o.layout != NULL && strcmp(o.layout, "certbot") != 0) {
		opts_free(&o);
		return cli_usage_error("issue", "--layout: the one layout is 'certbot'");
	}
	if ((rc = ca_profile_parse(o.profile, 1, &req.profile)) != OFFCA_OK)
		goto out;
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK) {
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
	if (o.k8s != NULL && (rc = cli_export_sops_check(o.k8s, o.ns, o.ages, o.n_ages)) != OFFCA_OK)
		goto out;
	if (o.layout == NULL && o.k8s == NULL && (rc = get_pass(o.pass_file, pass, sizeof(pass))) != OFFCA_OK)
		goto out;
	pin.pin_file = o.pin_file;
	if ((rc = cli_signer_open_key(s, st, o.module, &pin, "issue --generate-key", &key)) != OFFCA_OK)
		goto out;
	req.subject = o.subject;
	req.sans = o.sans;
	req.n_sans = o.n_sans;
	req.key_type = o.key_type;
	req.days = (unsigned)o.days;
	req.pass = o.layout || o.k8s ? NULL : pass;
	req.legacy = o.legacy;
	req.key_out = o.layout || o.k8s ? &gkey : NULL;
	if ((rc = ca_issue_generated(s, st, &req, &p12, &p12_len, &info)) != OFFCA_OK)
		goto out;
	ck_rc = cli_checkpoint(s, st, ck_msg, sizeof(ck_msg)); /* a signing session: sign the audit head */
	ca_serial_hex(&info.serial, hex, sizeof(hex));
	if (o.layout != NULL)
		rc = cli_export_issued_layout(st, &info.serial, gkey, o.out_dir);
	else if (o.k8s != NULL)
		rc = cli_export_issued_sops(st, &info.serial, gkey, o.k8s, o.ns, o.ages, o.n_ages, o.out);
	else
		rc = ut_write_file(o.out, p12, p12_len, UT_WF_EXCL | UT_WF_SECRET);
	if (rc != OFFCA_OK) {
		/* recorded, and its key existed only in memory: the certificate is unusable */
		char cause[600];
		snprintf(cause, sizeof(cause), "%s", ut_err_msg());
		rc = ut_err(OFFCA_E_UNWRITTEN, "%s; certificate %s is recorded but its generated key is lost: "
				"revoke it with offca revoke %s --reason cessationOfOperation --home %s, then issue again",
			    cause, hex, hex, home);
		goto out;
	}
	if (o.layout != NULL || o.k8s != NULL) {
		if (ck_rc != OFFCA_OK)
			rc = ut_err(ck_rc, "the certificate is recorded and written, but %s", ck_msg);
		goto out;
	}
	printf("%s  serial %s  %s\n", o.out, hex, info.sans);
	fprintf(stderr,
		"offca: WARNING: this private key was generated here and now has to travel to its endpoint.\n"
		"offca: WARNING: move %s only over a channel you trust, delete every copy once installed,\n"
		"offca: WARNING: and prefer endpoint-generated keys (offca sign --csr) next time.\n", o.out);
	if (o.legacy)
		fprintf(stderr, "offca: WARNING: --legacy uses PBE-SHA1-3DES: weak protection, for old consumers only.\n");
	if (ck_rc != OFFCA_OK)
		rc = ut_err(ck_rc, "the certificate is recorded and written, but %s", ck_msg);
out:
	ut_memzero(pass, sizeof(pass));
	EVP_PKEY_free(gkey);
	OPENSSL_free(p12);
	OPENSSL_free(info.der);
	tok_key_free(key);
	ca_signer_free(s);
	ca_config_free(cfg);
	ca_store_free(st);
	opts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}
