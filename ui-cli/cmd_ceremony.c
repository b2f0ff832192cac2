/* cmd_ceremony.c - offca ceremony run|validate|verify|print (docs/ceremony-guide.md, docs/ceremony-files.md). */
#include "cli.h"

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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: offca ceremony run FILE [--dry-run] [--answers FILE] [--credentials FILE] [--home DIR] [--no-pdf]\n"
		"                               [--token-wait SECONDS]\n"
		"       offca ceremony resume TRANSCRIPT [--file FILE] [--answers FILE] [--credentials FILE]\n"
		"                                [--home DIR] [--no-pdf] [--token-wait SECONDS]\n"
		"       offca ceremony validate FILE [--credentials FILE] [--home DIR] [--offline]\n"
		"       offca ceremony verify TRANSCRIPT (--ca CERT | --no-ca) [--no-outputs]\n"
		"       offca ceremony print TRANSCRIPT --out FILE.pdf\n"
		"       offca ceremony review FILE --out FILE.pdf\n\n"
		"Key ceremonies from a reviewable YAML file (docs/ceremony-files.md; step types: root-key,\n"
		"root-cert, intermediate-key, intermediate-cert, sign-intermediate-csr, crl, signing-session,\n"
		"ocsp-responses). See docs/ceremony-guide.md for running one on an air-gapped laptop.\n\n"
		"run        validate everything (nothing is touched when a problem is found), then walk the\n"
		"           steps: confirm date and time, the people present, each step (type yes), insert\n"
		"           tokens, PINs with echo off, quorum approvals; outputs go to the file's output-dir\n"
		"           (never overwritten) with a hash-chained transcript signed at the end, and its PDF.\n"
		"           Each token's PIN is asked once per ceremony (again only if a token was missing).\n"
		"  --dry-run          rehearse on throwaway SoftHSM2 tokens with the same labels (temp dir:\n"
		"                     the tokens are deleted at the end, the outputs kept for review)\n"
		"  --answers FILE     answers to the prompts (YAML list, YAML map of prompt id -> answer, or lines)\n"
		"  --credentials FILE module path and PINs (mode 0600): never in the ceremony file\n"
		"  --home DIR         the CA home (or $OFFCA_HOME) for the certificate steps\n"
		"  --no-pdf           do not render transcript.pdf after the run\n"
		"  --token-wait SEC   how long \"insert token X now\" waits (default 300)\n"
		"resume     continue an aborted ceremony at its first incomplete step, with the same ceremony\n"
		"           file (the start entry's; same SHA-256), after the same time and people checks,\n"
		"           appending to the same transcript (the abort and the resumption are recorded)\n"
		"validate   report every problem of the file (one line each, naming the field path);\n"
		"           --offline checks the file and the outputs only (no tokens, no CA home)\n"
		"verify     check the transcript's hash chain, signatures and that its output files still match;\n"
		"           --ca CERT also requires a signature by that certificate's key (the trusted root);\n"
		"           without it verify says the signatures were not checked against a trusted root and\n"
		"           fails, unless --no-ca says that is intended\n"
		"print      render the transcript as a printable PDF (QR code of the final hash)\n"
		"review     before the ceremony: the ceremony file as a PDF for the witnesses, with its SHA-256\n"
		"           (and QR code) and each step's description and step hash, the values the run screen\n"
		"           shows for comparison\n\n"
		"Typing abort at a question, Ctrl-C then abort, three wrong PINs or a pulled token abort: nothing\n"
		"of the step in progress is released, the transcript ends \"aborted\" and the screen says what\n"
		"exists and how to resume. Any other answer is asked again. Exit status 0 on success.\n");
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

static int cmd_run(int argc, char **argv, int resume)
{
	const char *file = NULL, *answers = NULL, *creds_path = NULL, *home_opt = NULL, *transcript = NULL;
	const char *cmd = resume ? "ceremony resume" : "ceremony run";
	char named[PATH_MAX];
	int dry = 0, no_pdf = 0, ret;
	unsigned long wait_s = 0;
	char *end = NULL;
	cer_credentials *creds = NULL;
	cer_answers *ans = NULL;
	cer_diag *diag = NULL;
	cer_run_opts o;
	cer_run_result res;
	struct sigaction sa, old;
	offca_rc rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--no-pdf") == 0)
			no_pdf = 1;
		else if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc)
			answers = argv[++i];
		else if (strcmp(argv[i], "--credentials") == 0 && i + 1 < argc)
			creds_path = argv[++i];
		else if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			home_opt = argv[++i];
		else if (strcmp(argv[i], "--token-wait") == 0 && i + 1 < argc) {
			wait_s = strtoul(argv[++i], &end, 10);
			if (end == NULL || *end != '\0' || wait_s == 0 || wait_s > 86400)
				return cli_usage_error(cmd, "--token-wait: 1..86400 seconds");
		} else if (resume && strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[i]);
		else if (resume && transcript == NULL)
			transcript = argv[i];
		else if (!resume && file == NULL)
			file = argv[i];
		else
			return cli_usage_error(cmd, resume ? "one transcript only" : "one ceremony file only");
	}
	if (resume && transcript == NULL)
		return cli_usage_error(cmd, "missing the TRANSCRIPT of the aborted ceremony");
	if (resume && dry)
		return cli_usage_error(cmd, "a dry run is never resumed: rehearse again from the start");
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

static int cmd_validate(int argc, char **argv)
{
	const char *file = NULL, *creds_path = NULL, *home_opt = NULL;
	cer_credentials *creds = NULL;
	cer_diag *diag = NULL;
	cer_file *f = NULL;
	cer_env env;
	int offline = 0, ret;
	offca_rc rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--offline") == 0)
			offline = 1;
		else if (strcmp(argv[i], "--credentials") == 0 && i + 1 < argc)
			creds_path = argv[++i];
		else if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			home_opt = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage_error("ceremony validate", "unknown or incomplete option '%s'", argv[i]);
		else if (file == NULL)
			file = argv[i];
		else
			return cli_usage_error("ceremony validate", "one ceremony file only");
	}
	if (file == NULL)
		return cli_usage_error("ceremony validate", "missing the ceremony FILE");
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

static int cmd_verify(int argc, char **argv)
{
	const char *path = NULL, *ca = NULL;
	int outputs = 1, no_ca = 0;
	X509 *trust = NULL;
	cer_verify_result res;
	char dir[PATH_MAX], head[CER_FP_LEN];
	offca_rc rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-outputs") == 0)
			outputs = 0;
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(argv[i], "--no-ca") == 0)
			no_ca = 1;
		else if (argv[i][0] == '-')
			return cli_usage_error("ceremony verify", "unknown or incomplete option '%s'", argv[i]);
		else if (path == NULL)
			path = argv[i];
		else
			return cli_usage_error("ceremony verify", "one transcript only");
	}
	if (path == NULL)
		return cli_usage_error("ceremony verify", "missing the TRANSCRIPT");
	if (ca != NULL && no_ca)
		return cli_usage_error("ceremony verify", "--ca and --no-ca exclude each other");
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
	if (res.signatures == 0)
		printf("%s: UNSIGNED: no signature (aborted before any key was open); only the hash chain%s was checked\n",
		       path, outputs ? " and the output files" : "");
	else if (ca != NULL)
		printf("%s: OK, signed by the key of --ca %s\n", path, ca);
	else
		printf("%s: hash chain and signatures consistent, but the signatures were NOT checked against a "
		       "trusted root (no --ca)\n", path);
	printf("  ceremony   %s\n  status     %s\n  entries    %u\n  signatures %u%s\n  outputs    %u%s\n"
	       "  head       %s\n",
	       res.ceremony, res.status, res.entries, res.signatures, ca ? " (including --ca)" : "",
	       res.outputs_checked, outputs ? " re-hashed, all match" : " (not checked)", head);
	if (res.resumptions > 0)
		printf("  resumed    %u time%s after an abort (same ceremony file)\n", res.resumptions,
		       res.resumptions == 1 ? "" : "s");
	if (!res.sealed)
		printf("  warning    entries after the last signature are not covered by any signature\n");
	if (ca == NULL && !no_ca)
		return cli_fail(ut_err(OFFCA_E_VERIFY, "%s: not checked against a trusted root: give --ca ROOT.pem "
					"(or --no-ca when only the chain and the transcript's own signatures matter)",
				       path));
	return 0;
}

static int cmd_print(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	offca_rc rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage_error("ceremony print", "unknown or incomplete option '%s'", argv[i]);
		else if (path == NULL)
			path = argv[i];
		else
			return cli_usage_error("ceremony print", "one transcript only");
	}
	if (path == NULL || out == NULL)
		return cli_usage_error("ceremony print", "usage: offca ceremony print TRANSCRIPT --out FILE.pdf");
	rc = cer_transcript_pdf(path, out);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s: written\n", out);
	return 0;
}

static int cmd_review(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	cer_diag *diag = NULL;
	offca_rc rc;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage_error("ceremony review", "unknown or incomplete option '%s'", argv[i]);
		else if (path == NULL)
			path = argv[i];
		else
			return cli_usage_error("ceremony review", "one ceremony file only");
	}
	if (path == NULL || out == NULL)
		return cli_usage_error("ceremony review", "usage: offca ceremony review FILE --out FILE.pdf");
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

int cli_cmd_ceremony(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("ceremony", "missing subcommand: run, resume, validate, verify, print or review");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "resume") == 0)
		return cmd_run(argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "print") == 0)
		return cmd_print(argc - 1, argv + 1);
	if (strcmp(argv[1], "review") == 0)
		return cmd_review(argc - 1, argv + 1);
	return cli_usage_error("ceremony", "unknown subcommand '%s' (run, resume, validate, verify, print, review)", argv[1]);
}
