/* cmd_ceremony.c - offca ceremony run|validate|verify|print (docs/ceremony-guide.md, docs/ceremony-files.md). */
#include "cli.h"
#include "cli_opt.h"
#include "inventory.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/ceremony.h"
#include "offca/transcript.h"
#include "offca/util.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void print_diag(const char *file, const cer_diag *d)
{
	for (size_t i = 0; i < cer_diag_count(d); i++) {
		const char *m = cer_diag_msg(d, i);
		if (m == NULL)
			break;
		if (strncmp(m, file, strlen(file)) == 0)
			fprintf(stderr, "offca: %s\n", m);
		else
			fprintf(stderr, "offca: %s: %s\n", file, m);
	}
}

/* Every problem on its own line; a count after them only when there are several. */
static void print_problems(const char *file, const cer_diag *diag, const char *suffix)
{
	size_t n = cer_diag_count(diag);

	print_diag(file, diag);
	if (n > 1)
		fprintf(stderr, "offca: %s: %zu problems%s\n", file, n, suffix);
}

/* Print the certificates among the outputs (the demo says where they are). */
static void list_certs(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	size_t len = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (e->d_type == DT_DIR && depth < 2) {
			list_certs(path, depth + 1);
			continue;
		}
		if (ut_read_file(path, UT_MAX_CERT_FILE, 1, &buf, &len) == OFFCA_OK &&
		    strstr((const char *)buf, "-----BEGIN CERTIFICATE-----") != NULL)
			printf("Certificate: %s\n", path);
		free(buf);
		buf = NULL;
	}
	closedir(d);
}

static int load_creds(const char *path, cer_credentials **c)
{
	offca_rc rc;

	*c = NULL;
	if (path == NULL)
		return 0;
	rc = cer_credentials_load(path, c);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* The transcript's PDF next to it (TRANSCRIPT.pdf; an aborted run: TRANSCRIPT-aborted-N.pdf, the
   first N free, so a resumed ceremony's final PDF keeps the plain name). */
static void write_pdf(const char *transcript, int aborted)
{
	char pdf[PATH_MAX + 32];
	int base = (int)(strlen(transcript) - (strstr(transcript, ".jsonl") ? 6 : 0));
	offca_rc rc = OFFCA_E_EXISTS;

	if (!aborted) {
		snprintf(pdf, sizeof(pdf), "%.*s.pdf", base, transcript);
		rc = cer_transcript_pdf(transcript, pdf);
	}
	for (int i = 1; aborted && i < 100 && rc == OFFCA_E_EXISTS; i++) {
		snprintf(pdf, sizeof(pdf), "%.*s-aborted-%d.pdf", base, transcript, i);
		rc = cer_transcript_pdf(transcript, pdf);
	}
	if (rc == OFFCA_OK)
		fprintf(aborted ? stderr : stdout, "%s%s (print it, sign it, keep it with the tokens)\n",
			aborted ? "offca: PDF of the aborted ceremony: " : "PDF:        ", pdf);
	else
		fprintf(stderr, "offca: transcript PDF not written: %s\n", ut_err_msg());
}

static int cmd_run(const cli_cmd *cmd_d, const cli_args *a, int resume)
{
	const char *file = NULL, *answers = cli_str(a, "answers"), *creds_path = cli_str(a, "credentials");
	const char *home_opt = cli_str(a, "home"), *transcript = NULL;
	const char *cmd = cmd_d->name;
	char named[PATH_MAX];
	int dry = cli_opt_if(a, "dry-run") != NULL, no_pdf = cli_flag(a, "no-pdf"), ret;
	unsigned long wait_s = (unsigned long)cli_num(a, "token-wait", 0);
	cer_credentials *creds = NULL;
	cer_answers *ans = NULL;
	cer_diag *diag = NULL;
	cer_run_opts o;
	cer_run_result res;
	struct sigaction sa, old;
	offca_rc rc;

	if (resume) {
		transcript = a->pos[0];
		file = cli_opt_if(a, "file");
	} else {
		file = a->pos[0];
	}
	if (resume && transcript == NULL)
		return cli_usage_error(cmd, "missing the TRANSCRIPT of the aborted ceremony");
	if (resume && file == NULL) {
		unsigned next = 0;
		rc = cer_transcript_resume_point(transcript, named, sizeof(named), &next);
		if (rc != OFFCA_OK)
			return cli_fail(rc);
		file = named;
	}
	if (file == NULL)
		return cli_usage_error(cmd, "missing the ceremony FILE");
	ret = load_creds(creds_path, &creds);
	if (ret != 0)
		return ret;
	if (answers != NULL && (rc = cer_answers_load(answers, &ans)) != OFFCA_OK) {
		cer_credentials_free(creds);
		return cli_fail(rc);
	}
	if (cer_diag_new(&diag) != OFFCA_OK) {
		cer_credentials_free(creds);
		cer_answers_free(ans);
		return cli_fail(OFFCA_E_NOMEM);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a read at a prompt returns so the abort is noticed */
	sigaction(SIGINT, &sa, &old);
	memset(&o, 0, sizeof(o));
	o.file = file;
	o.home = home_opt ? home_opt : getenv("OFFCA_HOME");
	o.creds = creds;
	o.answers = ans;
	o.dry_run = dry;
	o.in = stdin;
	o.out = stdout;
	o.interrupted = &interrupted;
	o.token_wait_s = (unsigned)wait_s;
	o.resume = transcript;
	rc = cer_run(&o, diag, &res);
	sigaction(SIGINT, &old, NULL);
	if (rc != OFFCA_OK && cer_diag_count(diag) > 0) {
		print_problems(file, diag, ": nothing was touched");
		ret = ut_exit_code(rc);
	} else if (rc != OFFCA_OK) {
		ret = cli_fail(rc);
		if (res.transcript[0]) {
			fprintf(stderr, "offca: ceremony aborted; transcript (ends \"aborted\"): %s\n", res.transcript);
			if (!no_pdf)
				write_pdf(res.transcript, 1);
		}
	} else {
		ret = 0;
		printf("\nTranscript: %s\n", res.transcript);
		if (!no_pdf)
			write_pdf(res.transcript, 0);
		printf("Outputs:    %s\n", res.out_dir);
		list_certs(res.out_dir, 0);
		if (dry)
			printf("Dry run:    the throwaway tokens were deleted; outputs and the rehearsal CA home are "
			       "kept for review under %.*s (delete when done)\n",
			       (int)(strlen(res.out_dir) > 4 ? strlen(res.out_dir) - 4 : strlen(res.out_dir)), res.out_dir);
	}
	cer_diag_free(diag);
	cer_answers_free(ans);
	cer_credentials_free(creds);
	return ret;
}

static int run_validate(const cli_cmd *cmd, cli_args *a)
{
	const char *file = a->pos[0], *creds_path = cli_str(a, "credentials"), *home_opt = cli_str(a, "home");
	cer_credentials *creds = NULL;
	cer_diag *diag = NULL;
	cer_file *f = NULL;
	cer_env env;
	int offline = cli_flag(a, "offline"), ret;
	offca_rc rc;

	(void)cmd;
	ret = load_creds(creds_path, &creds);
	if (ret != 0)
		return ret;
	if (cer_diag_new(&diag) != OFFCA_OK) {
		cer_credentials_free(creds);
		return cli_fail(OFFCA_E_NOMEM);
	}
	memset(&env, 0, sizeof(env));
	env.module = cer_credentials_module(creds);
	env.home = home_opt ? home_opt : getenv("OFFCA_HOME");
	env.skip_tokens = offline;
	env.skip_store = offline;
	rc = cer_file_validate(file, &env, diag, &f);
	if (rc != OFFCA_OK && cer_diag_count(diag) > 0) {
		print_problems(file, diag, "");
		ret = ut_exit_code(rc);
	} else if (rc != OFFCA_OK) {
		ret = cli_fail(rc);
	} else {
		printf("%s: ceremony \"%s\" is valid%s\n", file, cer_file_name(f),
		       offline ? " (offline: tokens and CA home not checked)" : "");
		ret = 0;
	}
	cer_file_free(f);
	cer_diag_free(diag);
	cer_credentials_free(creds);
	return ret;
}

static void print_verify(const cer_verify_result *res, const char *ca, int outputs, const char *head)
{
	printf("  ceremony   %s\n  status     %s\n  entries    %u\n  signatures %u%s\n  outputs    %u%s\n"
	       "  head       %s\n",
	       res->ceremony, res->status, res->entries, res->signatures, ca ? " (including --ca)" : "",
	       res->outputs_checked, outputs ? " re-hashed, all match" : " (not checked)", head);
	if (res->resumptions > 0)
		printf("  resumed    %u time%s after an abort (same ceremony file)\n", res->resumptions,
		       res->resumptions == 1 ? "" : "s");
	if (!res->sealed)
		printf("  warning    entries after the last signature are not covered by any signature\n");
}

/* docs/json.md's transcript object: what verify checked. */
static int print_verify_json(const char *path, const char *ca, int outputs, const cer_verify_result *res)
{
	char *head = ut_hex(res->head, sizeof(res->head));
	json_t *j = head == NULL ? NULL
				 : json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:I,s:s?,s:b,s:I,s:b,s:s}", "file", path, "ceremony",
					     res->ceremony, "status", res->status, "entries", (json_int_t)res->entries,
					     "signatures", (json_int_t)res->signatures, "outputsChecked", outputs,
					     "outputs", (json_int_t)res->outputs_checked, "ca", ca, "trustedRoot",
					     ca != NULL && res->signatures > 0, "resumptions", (json_int_t)res->resumptions,
					     "sealed", res->sealed, "head", head);

	free(head);
	return cli_json_print(j);
}

static int run_verify(const cli_cmd *cmd, cli_args *a)
{
	const char *path = a->pos[0], *ca = cli_str(a, "ca");
	int outputs = !cli_flag(a, "no-outputs"), no_ca = cli_flag(a, "no-ca"), json = cli_flag(a, "json");
	X509 *trust = NULL;
	cer_verify_result res;
	char dir[PATH_MAX], head[CER_FP_LEN];
	offca_rc rc;

	if (ca != NULL && no_ca)
		return cli_usage_error(cmd->name, "--ca and --no-ca exclude each other");
	if (ca != NULL) {
		unsigned char *buf = NULL;
		size_t len = 0;
		BIO *b;
		rc = ut_read_file(ca, UT_MAX_CERT_FILE, 0, &buf, &len);
		if (rc != OFFCA_OK)
			return cli_fail(rc);
		b = BIO_new_mem_buf(buf, (int)len);
		trust = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		free(buf);
		if (trust == NULL)
			return cli_fail(ut_err(OFFCA_E_PARSE, "--ca %s: not a PEM certificate", ca));
	}
	snprintf(dir, sizeof(dir), "%s", path);
	rc = cer_transcript_verify(path, dirname(dir), outputs, trust, &res);
	X509_free(trust);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	cer_hex_grouped(res.head, sizeof(res.head), head, sizeof(head));
	if (json && print_verify_json(path, ca, outputs, &res) != 0)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	if (json)
		;
	else if (res.signatures == 0)
		printf("%s: UNSIGNED: no signature (aborted before any key was open); only the hash chain%s was checked\n",
		       path, outputs ? " and the output files" : "");
	else if (ca != NULL)
		printf("%s: OK, signed by the key of --ca %s\n", path, ca);
	else
		printf("%s: hash chain and signatures consistent, but the signatures were NOT checked against a "
		       "trusted root (no --ca)\n", path);
	if (!json)
		print_verify(&res, ca, outputs, head);
	if (ca == NULL && !no_ca)
		return cli_fail(ut_err(OFFCA_E_VERIFY, "%s: not checked against a trusted root: give --ca ROOT.pem "
					"(or --no-ca when only the chain and the transcript's own signatures matter)",
				       path));
	return 0;
}

static int run_print(const cli_cmd *cmd, cli_args *a)
{
	const char *path = a->pos[0], *out = cli_str(a, "out");
	offca_rc rc;

	(void)cmd;
	rc = cer_transcript_pdf(path, out);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s: written\n", out);
	return 0;
}

static int run_review(const cli_cmd *cmd, cli_args *a)
{
	const char *path = a->pos[0], *out = cli_str(a, "out");
	cer_diag *diag = NULL;
	offca_rc rc;
	int ret = 0;

	(void)cmd;
	rc = cer_diag_new(&diag);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	rc = cer_review_pdf(path, out, diag, stdout);
	if (rc != OFFCA_OK && cer_diag_count(diag) > 0) {
		print_problems(path, diag, "");
		ret = ut_exit_code(rc);
	} else if (rc != OFFCA_OK) {
		ret = cli_fail(rc);
	} else {
		printf("%s: written\n", out);
	}
	cer_diag_free(diag);
	return ret;
}

static int run_run(const cli_cmd *cmd, cli_args *a)
{
	return cmd_run(cmd, a, 0);
}

static int run_resume(const cli_cmd *cmd, cli_args *a)
{
	return cmd_run(cmd, a, 1);
}

#define CER_ANSWERS CLI_O("answers", CLI_PATH, "FILE", "answers to the prompts (YAML list, YAML map of prompt id -> " \
			  "answer, or lines)")
#define CER_CREDS CLI_O("credentials", CLI_SECRET, "FILE", "module path and PINs (mode 0600): never in the ceremony file")
#define CER_HOME CLI_O("home", CLI_PATH, "DIR", "the CA home (or $OFFCA_HOME) for the certificate steps")
#define CER_NOPDF CLI_O("no-pdf", CLI_FLAG, NULL, "do not render transcript.pdf after the run")
#define CER_WAIT CLI_O("token-wait", CLI_NUM, "SECONDS", "how long \"insert token X now\" waits (default 300)", \
		       .lo = 1, .hi = 86400)

static const cli_opt run_opts[] = {
	CLI_O("dry-run", CLI_FLAG, NULL, "rehearse on throwaway SoftHSM2 tokens with the same labels (temp dir: the "
	      "tokens are deleted at the end, the outputs kept for review)"),
	CER_ANSWERS, CER_CREDS, CER_HOME, CER_NOPDF, CER_WAIT, CLI_END};

static const cli_opt resume_opts[] = {
	CLI_O("file", CLI_PATH, "FILE", "the ceremony file (default: the one the transcript names; same SHA-256)"),
	CER_ANSWERS, CER_CREDS, CER_HOME, CER_NOPDF, CER_WAIT, CLI_END};

static const cli_opt validate_opts[] = {
	CER_CREDS, CER_HOME,
	CLI_O("offline", CLI_FLAG, NULL, "check the file and the outputs only (no tokens, no CA home)"),
	CLI_END};

static const cli_opt verify_opts[] = {
	CLI_O("ca", CLI_PATH, "CERT", "also require a signature by that certificate's key (the trusted root)"),
	CLI_O("no-ca", CLI_FLAG, NULL, "say that checking against no trusted root is intended"),
	CLI_O("no-outputs", CLI_FLAG, NULL, "do not re-hash the output files"),
	CLI_OPT_JSON,
	CLI_END};

static const cli_opt pdf_opts[] = {
	CLI_O("out", CLI_PATH, "FILE.pdf", "the PDF (never overwritten)", .flags = CLI_REQUIRED),
	CLI_END};

static const cli_cmd run_cmd = {
	.name = "ceremony run",
	.summary = "validate everything (nothing is touched when a problem is found), then walk the steps",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = run_opts,
	.usage = "offca ceremony run FILE [--dry-run] [--answers FILE] [--credentials FILE] [--home DIR] [--no-pdf]\n"
		 "                   [--token-wait SECONDS]",
	.details = "Confirm date and time, the people present, each step (type yes), insert tokens, PINs with echo off,\n"
		   "quorum approvals; outputs go to the file's output-dir (never overwritten) with a hash-chained\n"
		   "transcript signed at the end, and its PDF. Each token's PIN is asked once per ceremony.\n",
	.run = run_run,
};

static const cli_cmd resume_cmd = {
	.name = "ceremony resume",
	.summary = "continue an aborted ceremony at its first incomplete step, with the same ceremony file",
	.operands = "TRANSCRIPT",
	.min_pos = 1,
	.max_pos = 1,
	.opts = resume_opts,
	.details = "After the same time and people checks, appending to the same transcript (the abort and the\n"
		   "resumption are recorded). A dry run is never resumed: rehearse again from the start.\n",
	.run = run_resume,
};

static const cli_cmd validate_cmd = {
	.name = "ceremony validate",
	.summary = "report every problem of the file (one line each, naming the field path)",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = validate_opts,
	.run = run_validate,
};

static const cli_cmd verify_cmd = {
	.name = "ceremony verify",
	.summary = "check the transcript's hash chain, signatures and that its output files still match",
	.operands = "TRANSCRIPT",
	.min_pos = 1,
	.max_pos = 1,
	.opts = verify_opts,
	.usage = "offca ceremony verify TRANSCRIPT (--ca CERT | --no-ca) [--no-outputs] [--json]",
	.details = "Without --ca verify says the signatures were not checked against a trusted root and fails, unless\n"
		   "--no-ca says that is intended (--json: the object is printed, then the error).\n",
	.run = run_verify,
};

static const cli_cmd print_cmd = {
	.name = "ceremony print",
	.summary = "render the transcript as a printable PDF (QR code of the final hash)",
	.operands = "TRANSCRIPT",
	.min_pos = 1,
	.max_pos = 1,
	.opts = pdf_opts,
	.run = run_print,
};

static const cli_cmd review_cmd = {
	.name = "ceremony review",
	.summary = "before the ceremony: the ceremony file as a PDF for the witnesses",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = pdf_opts,
	.details = "With its SHA-256 (and QR code) and each step's description and step hash, the values the run\n"
		   "screen shows for comparison.\n",
	.run = run_review,
};

static const cli_cmd *const ceremony_subs[] = {&run_cmd, &resume_cmd, &validate_cmd, &verify_cmd, &print_cmd,
					       &review_cmd, NULL};

const cli_cmd cli_ceremony_cmd = {
	.name = "ceremony",
	.summary = "run, verify and print key ceremonies",
	.details = "Key ceremonies from a reviewable YAML file (docs/ceremony-files.md; step types: root-key,\n"
		   "root-cert, intermediate-key, intermediate-cert, sign-intermediate-csr, crl, signing-session,\n"
		   "ocsp-responses). See docs/ceremony-guide.md for running one on an air-gapped laptop.\n\n"
		   "Typing abort at a question, Ctrl-C then abort, three wrong PINs or a pulled token abort: nothing\n"
		   "of the step in progress is released, the transcript ends \"aborted\" and the screen says what\n"
		   "exists and how to resume. Any other answer is asked again. Exit status 0 on success.\n",
	.subs = ceremony_subs,
};
