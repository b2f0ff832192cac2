/* cmd_sign.c - offca sign (CSRs -> certificates, one token login) and offca issue --generate-key. */
#include "cli.h"
#include "cli_session.h"
#include "export_cli.h"
#include "sign_confirm.h"

#include <errno.h>
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

#define MAX_ARGS_LIST CA_SIGN_MAX_BATCH

struct opts {
	const char *home, *profile, *out, *out_dir, *issuer, *pin_file, *module, *subject, *pass_file, *key_type, *layout;
	const char *k8s, *ns;
	int sops;
	long days;
	int dry, pend_all, genkey, legacy, yes;
	const char *const *csrs; size_t n_csrs;
	uint64_t *pend; size_t n_pend;
	const char *const *sans; size_t n_sans;
	const char *const *ages; size_t n_ages;
};

static void opts_free(struct opts *o)
{
	free(o->pend);
}

/* The pending ids: numbers, each once. */
static int parse_pending(const char *cmd, const char *const *w, size_t n, struct opts *o)
{
	char *end;
	unsigned long long v;

	if (n > MAX_ARGS_LIST)
		return cli_usage_error(cmd, "too many --pending ids (at most %u)", MAX_ARGS_LIST);
	o->pend = calloc(n + 1, sizeof(*o->pend));
	if (o->pend == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		v = strtoull(w[i], &end, 10);
		if (errno != 0 || *end != '\0' || end == w[i] || w[i][0] == '-')
			return cli_usage_error(cmd, "--pending takes pending ids (numbers), not '%s'", w[i]);
		for (size_t k = 0; k < o->n_pend; k++)
			if (o->pend[k] == (uint64_t)v)
				return cli_usage_error(cmd, "--pending %llu given twice", v);
		o->pend[o->n_pend++] = (uint64_t)v;
	}
	return 0;
}

/* The options of sign or issue (the ones a command does not declare stay unset). */
static int opts_from(const cli_cmd *cmd, const cli_args *a, struct opts *o)
{
	const char *const *pend;
	size_t n_pend = 0;

	memset(o, 0, sizeof(*o));
	o->home = cli_opt_if(a, "home");
	o->profile = cli_opt_if(a, "profile");
	o->out = cli_opt_if(a, "out");
	o->out_dir = cli_opt_if(a, "out-dir");
	o->issuer = cli_opt_if(a, "issuer");
	o->pin_file = cli_opt_if(a, "pin-file");
	o->module = cli_opt_if(a, "module");
	o->subject = cli_opt_if(a, "subject");
	o->pass_file = cli_opt_if(a, "passphrase-file");
	o->key_type = cli_opt_if(a, "key-type");
	o->layout = cli_opt_if(a, "layout");
	o->k8s = cli_opt_if(a, "k8s-secret");
	o->ns = cli_opt_if(a, "namespace");
	o->sops = cli_opt_if(a, "sops") != NULL;
	o->dry = cli_opt_if(a, "dry-run") != NULL;
	o->yes = cli_opt_if(a, "yes") != NULL;
	o->pend_all = cli_opt_if(a, "pending-all") != NULL;
	o->genkey = cli_opt_if(a, "generate-key") != NULL;
	o->legacy = cli_opt_if(a, "legacy") != NULL;
	o->days = cli_num(a, "days", 0);
	if (cli_opt_if(a, "csr") != NULL)
		o->csrs = cli_list(a, "csr", &o->n_csrs);
	if (cli_opt_if(a, "san") != NULL)
		o->sans = cli_list(a, "san", &o->n_sans);
	if (cli_opt_if(a, "age") != NULL)
		o->ages = cli_list(a, "age", &o->n_ages);
	if (o->n_csrs > MAX_ARGS_LIST || o->n_sans > MAX_ARGS_LIST || o->n_ages > MAX_ARGS_LIST)
		return cli_usage_error(cmd->name, "too many arguments (at most %u)", MAX_ARGS_LIST);
	if (cli_opt_if(a, "pending") == NULL)
		return 0;
	pend = cli_list(a, "pending", &n_pend);
	return parse_pending(cmd->name, pend, n_pend, o);
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
	if (o->out != NULL && o->out_dir != NULL)
		return ut_err(OFFCA_E_USAGE, "--out and --out-dir exclude each other");
	if (o->out != NULL && n != 1)
		return ut_err(OFFCA_E_USAGE, "--out takes one CSR; use --out-dir for %zu", n);
	if (o->out != NULL && ut_path_exists(o->out) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o->out);
	return o->out_dir != NULL ? cli_out_dir(o->out_dir) : OFFCA_OK;
}

static void print_dry(const ca_signer *s, const ca_sign_result *res, const ca_sign_input *in, const char *prof)
{
	printf("dry run: issuer '%s', profile %s; nothing signed, nothing recorded\n", ca_signer_issuer_name(s), prof);
	for (size_t i = 0; i < res->n; i++)
		printf("  %s: subject \"%s\"  %s%s\n", in[i].label, res->certs[i].subject, res->certs[i].sans,
		       res->certs[i].cn_copied ? " (CN copied into SAN)" : "");
}

static int run_sign(const cli_cmd *cmd, cli_args *a)
{
	struct opts o;
	const char *home = NULL;
	cli_session sess = {0};
	ca_store *st = NULL;
	ca_config *cfg = NULL;
	ca_signer *s = NULL;
	ca_sign_input *in = NULL;
	unsigned char **bufs = NULL;
	char **labels = NULL;
	size_t n = 0;
	ca_sign_opts so;
	ca_sign_result res;
	ca_outdir *od = NULL;
	char ck_msg[700];
	offca_rc rc, ck_rc = OFFCA_OK;
	int r;

	memset(&res, 0, sizeof(res));
	memset(&so, 0, sizeof(so));
	if ((r = opts_from(cmd, a, &o)) != 0) {
		opts_free(&o);
		return r;
	}
	if (o.n_csrs == 0 && o.n_pend == 0 && !o.pend_all) {
		opts_free(&o);
		return cli_usage_error("sign", "--profile and at least one --csr FILE or --pending ID are required");
	}
	if (o.pend_all && (o.n_pend || o.n_csrs)) {
		opts_free(&o);
		return cli_usage_error("sign", "--pending-all takes no --csr or --pending");
	}
	if (strcmp(o.profile, "requested") != 0 && (rc = ca_profile_parse(o.profile, 1, &so.profile)) != OFFCA_OK)
		goto out;
	if ((rc = cli_session_open(&sess, a, CLI_S_SIGNER, "sign")) != OFFCA_OK)
		goto out;
	home = sess.home;
	st = sess.st;
	cfg = sess.cfg;
	s = sess.signer;
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
	if ((rc = cli_session_open_key(&sess, a, "sign")) != OFFCA_OK)
		goto out;
	if ((rc = ca_sign_batch(s, st, in, n, &so, &res)) != OFFCA_OK)
		goto out;
	ck_rc = cli_checkpoint(s, st, ck_msg, sizeof(ck_msg)); /* the session ends by signing the audit head */
	cli_session_close_key(&sess); /* log out as soon as the signatures are done */
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
	cli_session_close(&sess);
	opts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int run_issue(const cli_cmd *cmd, cli_args *a)
{
	struct opts o;
	const char *home = NULL;
	cli_session sess = {0};
	ca_store *st = NULL;
	ca_signer *s = NULL;
	ca_issue_req req;
	ca_signed info;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	EVP_PKEY *gkey = NULL;
	char pass[UT_MAX_SECRET] = "", hex[2 * CA_SERIAL_LEN + 1], ck_msg[700];
	offca_rc rc, ck_rc = OFFCA_OK;
	int r;

	memset(&req, 0, sizeof(req));
	memset(&info, 0, sizeof(info));
	if ((r = opts_from(cmd, a, &o)) != 0) {
		opts_free(&o);
		return r;
	}
	if ((o.layout == NULL && (o.out == NULL || o.out_dir)) ||
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
	if ((rc = cli_session_open(&sess, a, CLI_S_SIGNER, "issue --generate-key")) != OFFCA_OK)
		goto out;
	home = sess.home;
	st = sess.st;
	s = sess.signer;
	if (o.out_dir != NULL && (rc = cli_out_dir(o.out_dir)) != OFFCA_OK)
		goto out;
	if (o.k8s != NULL && (rc = cli_export_sops_check(o.k8s, o.ns, o.ages, o.n_ages)) != OFFCA_OK)
		goto out;
	if (o.layout == NULL && o.k8s == NULL && (rc = cli_p12_passphrase(o.pass_file, pass, sizeof(pass))) != OFFCA_OK)
		goto out;
	if ((rc = cli_session_open_key(&sess, a, "issue --generate-key")) != OFFCA_OK)
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
	cli_session_close(&sess);
	opts_free(&o);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static const char *const sign_profiles[] = {"server", "client", "mtls", "requested", NULL};
static const char *const leaf_profiles[] = {"server", "client", "mtls", NULL};

static const cli_opt sign_opts[] = {
	CLI_O("csr", CLI_LIST, "FILE", "PEM (CERTIFICATE REQUEST / NEW CERTIFICATE REQUEST) or DER; repeat the flag or "
	      "list several files after it", .flags = CLI_WORDS),
	CLI_O("pending", CLI_LIST, "ID", "sign CSRs from the pending queue (offca pending list); signed entries "
	      "leave the queue", .flags = CLI_WORDS),
	CLI_O("pending-all", CLI_FLAG, NULL, "every CSR of the pending queue"),
	CLI_O("profile", CLI_ENUM, NULL, "server (serverAuth), client (clientAuth) or mtls (both); with --pending: "
	      "'requested' takes the profile the CSRs' provenance asks (offca-gateway)", .flags = CLI_REQUIRED,
	      .values = sign_profiles),
	CLI_O("days", CLI_DAYS, "N", "validity in days (default: the policy's leaf_days_default)", .lo = 1, .hi = 397),
	CLI_O("out", CLI_PATH, "FILE", "the certificate (PEM) for a single CSR; never overwritten"),
	CLI_O("out-dir", CLI_PATH, "DIR", "one SERIAL.pem per certificate in DIR, created 0700 when missing (default: "
	      "HOME/outbox)"),
	CLI_O("issuer", CLI_STR, "NAME", "issuing CA (default: the newest intermediate, else the root)"),
	CLI_O("dry-run", CLI_FLAG, NULL, "check everything and show what would be signed; no token, no store change"),
	CLI_O("yes", CLI_FLAG, NULL, "on a terminal, sign without showing the batch and asking for yes first"),
	CLI_OPT_HOME,
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

const cli_cmd cli_sign_cmd = {
	.name = "sign",
	.summary = "sign CSRs with a profile (server, client, mtls)",
	.opts = sign_opts,
	.max_pos = 0,
	.usage = "offca sign --csr FILE... --profile server|client|mtls [--days N] [--out FILE|--out-dir DIR]\n"
		 "           [--issuer NAME] [--dry-run] [--yes] [--home DIR] [--pin-file F] [--module PATH]\n"
		 "offca sign --pending ID... | --pending-all  --profile P [same options]",
	.details = "Sign certificate requests with the issuer's key on its token (one login for all of them).\n"
		   "Each CSR is parsed strictly and checked against the issuer's policy (config.json): key type\n"
		   "and size, SAN syntax and allowed names, CN among the SANs, validity (default 90 days, at most\n"
		   "397). Requested extensions other than subjectAltName are ignored. A refusal names the rule.\n"
		   "The batch is all or nothing: serials are reserved first, every certificate is verified and\n"
		   "linted after signing, all records are committed, and only then are files written.\n"
		   "\n"
		   "On a terminal, sign shows what it is about to sign (count, issuer, profile, validity, each\n"
		   "subject and SANs; a long batch: the first and last few) and signs only after \"yes\". Without a\n"
		   "terminal on standard input it does not ask (the token's touch is the human presence there).\n",
	.run = run_sign,
};

static const cli_opt issue_opts[] = {
	CLI_O("generate-key", CLI_FLAG, NULL, "generate the key here (the exception to endpoint-owned keys)",
	      .flags = CLI_REQUIRED),
	CLI_O("subject", CLI_STR, "DN", "\"CN=host,O=Example\" (RFC 4514, as offca list prints it) or "
	      "\"/O=Example/CN=host\" (OpenSSL's slash form, in DER order): the same name", .flags = CLI_REQUIRED),
	CLI_O("san", CLI_LIST, "NAME", "DNS:name, IP:addr, email:addr, URI:uri or a bare DNS name; repeatable, "
	      "comma-separated lists allowed", .flags = CLI_WORDS),
	CLI_O("profile", CLI_ENUM, NULL, "the certificate profile", .flags = CLI_REQUIRED, .values = leaf_profiles),
	CLI_O("out", CLI_PATH, "FILE", "the PKCS#12 (0600, never overwritten), or the SOPS Secret"),
	CLI_O("key-type", CLI_STR, "TYPE", "ec-p256 (default), ec-p384, rsa-2048 or rsa-3072"),
	CLI_O("days", CLI_DAYS, "N", "validity in days (default: the policy's leaf_days_default)", .lo = 1, .hi = 397),
	CLI_O("legacy", CLI_FLAG, NULL, "PBE-SHA1-3DES + SHA-1 MAC for old consumers (default: AES-256-CBC with "
	      "PBKDF2-HMAC-SHA256 and a SHA-256 MAC)"),
	CLI_O("passphrase-file", CLI_SECRET, "F", "passphrase from the first line of F (0600); default: prompt twice"),
	CLI_O("layout", CLI_STR, "certbot", "instead of the PKCS#12: DIR/<first SAN>/ in certbot's layout with "
	      "privkey.pem (0600, unencrypted)"),
	CLI_O("out-dir", CLI_PATH, "DIR", "the layout's directory (created 0700 when missing)"),
	CLI_O("k8s-secret", CLI_STR, "NAME", "instead of the PKCS#12: a kubernetes.io/tls Secret with tls.key, as a "
	      "SOPS document (--sops --age)"),
	CLI_O("namespace", CLI_STR, "NS", "the Secret's namespace"),
	CLI_O("sops", CLI_FLAG, NULL, "encrypt the Secret with SOPS/age"),
	CLI_O("age", CLI_LIST, "R", "an age recipient (age1...); repeatable", .flags = CLI_WORDS),
	CLI_O("issuer", CLI_STR, "NAME", "issuing CA (default: the newest intermediate, else the root)"),
	CLI_OPT_HOME,
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

const cli_cmd cli_issue_cmd = {
	.name = "issue",
	.summary = "issue with an issuer-generated key (the exception) as PKCS#12",
	.opts = issue_opts,
	.max_pos = 0,
	.usage = "offca issue --generate-key --subject DN --san NAME... --profile server|client|mtls\n"
		 "            --out FILE.p12 [--key-type ec-p256|ec-p384|rsa-2048|rsa-3072] [--days N]\n"
		 "            [--legacy] [--passphrase-file F] [--issuer NAME] [--home DIR]\n"
		 "            [--pin-file F] [--module PATH]\n"
		 "offca issue --generate-key ... --layout certbot --out-dir DIR\n"
		 "offca issue --generate-key ... --k8s-secret NAME [--namespace NS] --sops --age R... --out FILE",
	.details = "The exception to endpoint-owned keys: generate the key here (in software), sign it like any CSR\n"
		   "(same policy, lint and records) and write a passphrase-protected PKCS#12 (0600, never\n"
		   "overwritten) holding key, certificate and issuer chain. The key then has to travel: prefer\n"
		   "offca sign with a CSR made on the endpoint.\n",
	.run = run_issue,
};
