/*
 * main.c - offca-acme: the online ACME helper. Parses the command line, dispatches to one file per
 * command, prints the one-line error and picks the exit code. Secrets never come from argv: the
 * TSIG secret and the EAB key are named by file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "offca/util.h"
#include "sandbox.h"

enum {
	OPT_STATE = 256, OPT_CA_BUNDLE, OPT_DIRECTORY, OPT_EMAIL, OPT_EAB_KID, OPT_EAB_KEY, OPT_DOMAIN, OPT_CSR, OPT_DNS, OPT_DNS_SERVER,
	OPT_TSIG_KEY, OPT_TSIG_SECRET, OPT_TSIG_ALG, OPT_DNS_HOOK, OPT_DNS_ZONE, OPT_GENKEY, OPT_ALL, OPT_FORCE, OPT_REASON, OPT_JSON,
	OPT_VERBOSE, OPT_VERSION, OPT_HELP, OPT_CERT_NAME, OPT_KEY_TYPE, OPT_PREFERRED, OPT_PROP_TIMEOUT, OPT_POLL_TIMEOUT, OPT_DNS_TCP,
	OPT_KEY_URI, OPT_PIN_FILE, OPT_DEPLOY_HOOK, OPT_EAB_KEY_OLD, OPT_USER, OPT_NO_SANDBOX, OPT_KEY_POLICY, OPT_TEXTFILE,
};

static const struct option longopts[] = {
	{"state", required_argument, NULL, OPT_STATE},
	{"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
	{"directory", required_argument, NULL, OPT_DIRECTORY},
	{"email", required_argument, NULL, OPT_EMAIL},
	{"eab-kid", required_argument, NULL, OPT_EAB_KID},
	{"eab-hmac-key-file", required_argument, NULL, OPT_EAB_KEY},
	{"eab-hmac-key", required_argument, NULL, OPT_EAB_KEY_OLD},
	{"user", required_argument, NULL, OPT_USER},
	{"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
	{"key-policy", required_argument, NULL, OPT_KEY_POLICY},
	{"textfile", required_argument, NULL, OPT_TEXTFILE},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"csr", required_argument, NULL, OPT_CSR},
	{"dns", required_argument, NULL, OPT_DNS},
	{"dns-server", required_argument, NULL, OPT_DNS_SERVER},
	{"tsig-key", required_argument, NULL, OPT_TSIG_KEY},
	{"tsig-secret-file", required_argument, NULL, OPT_TSIG_SECRET},
	{"tsig-algorithm", required_argument, NULL, OPT_TSIG_ALG},
	{"dns-hook", required_argument, NULL, OPT_DNS_HOOK},
	{"dns-zone", required_argument, NULL, OPT_DNS_ZONE},
	{"dns-tcp", no_argument, NULL, OPT_DNS_TCP},
	{"propagation-timeout", required_argument, NULL, OPT_PROP_TIMEOUT},
	{"poll-timeout", required_argument, NULL, OPT_POLL_TIMEOUT},
	{"generate-key", no_argument, NULL, OPT_GENKEY},
	{"cert-name", required_argument, NULL, OPT_CERT_NAME},
	{"key-type", required_argument, NULL, OPT_KEY_TYPE},
	{"key-uri", required_argument, NULL, OPT_KEY_URI},
	{"pin-file", required_argument, NULL, OPT_PIN_FILE},
	{"deploy-hook", required_argument, NULL, OPT_DEPLOY_HOOK},
	{"preferred-chain", required_argument, NULL, OPT_PREFERRED},
	{"all", no_argument, NULL, OPT_ALL},
	{"force", no_argument, NULL, OPT_FORCE},
	{"reason", required_argument, NULL, OPT_REASON},
	{"json", no_argument, NULL, OPT_JSON},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const char usage_main[] =
	"usage: offca-acme --state DIR [--ca-bundle FILE] [--verbose] COMMAND [ARGS...]\n"
	"       offca-acme COMMAND --help | --help | --version\n\n"
	"offca-acme obtains public certificates from an ACME CA (RFC 8555) with DNS-01 challenges.\n"
	"The endpoint keeps its private key: issue takes its CSR.\n\n"
	"Commands:\n"
	"  account    new | find | show | update | deactivate | rollover\n"
	"  issue      order a certificate for a CSR (or --domain ... --generate-key)\n"
	"  renew      renew what is due (ARI window or two thirds of the lifetime); for timers\n"
	"  revoke     revoke a certificate\n"
	"  list       list the certificates in the state directory\n"
	"  metrics    write Prometheus metrics of the certificates (--textfile DIR)\n\n"
	"Global options: --state DIR (required), --ca-bundle FILE (trust this CA for HTTPS instead of the\n"
	"system store), --pin-file FILE (account key on a token), --verbose, --user NAME (started as root:\n"
	"every process runs as NAME, default offca-acme), --no-sandbox (debugging only: no seccomp filter,\n"
	"no Landlock; warns on every run). Exit codes: docs/acme.md.\n"
	"Secrets are never taken from the command line.\n";

static const char usage_account[] =
	"usage: offca-acme --state DIR account new --directory URL [--email ADDR]\n"
	"                                          [--key-type ec|rsa | --key-uri PKCS11-URI [--pin-file F]]\n"
	"                                          [--eab-kid KID --eab-hmac-key-file FILE]\n"
	"       offca-acme --state DIR account find --directory URL\n"
	"       offca-acme --state DIR account show | update --email ADDR | deactivate | rollover [--key-type ec|rsa]\n\n"
	"new creates STATE/account/key.pem (0600, P-256 unless --key-type rsa) and registers it; an\n"
	"existing key is reused (the CA then returns its account). find looks the key's account up\n"
	"(onlyReturnExisting). --eab-hmac-key-file names a 0600 file with the base64url MAC key from the CA.\n"
	"--key-uri keeps the account key on a PKCS#11 token (P-256 or RSA key made with offca token\n"
	"keygen or pkcs11-tool); the PIN comes from --pin-file, the URI's pin-source or a prompt.\n"
	"rollover replaces the account key (RFC 8555 7.3.5); deactivate is irreversible.\n";

static const char usage_issue[] =
	"usage: offca-acme --state DIR issue (--csr FILE | --domain NAME... [--generate-key])\n"
	"         (--dns rfc2136 --dns-server HOST:PORT --tsig-key NAME --tsig-secret-file FILE\n"
	"          [--tsig-algorithm hmac-sha256|hmac-sha512] [--dns-zone ZONE] [--dns-tcp] | --dns-hook CMD)\n"
	"         [--propagation-timeout SECS] [--poll-timeout SECS] [--cert-name NAME]\n"
	"         [--preferred-chain ISSUER-CN] [--deploy-hook CMD] [--force]\n"
	"         [--key-policy new|reuse|reuse-for DAYS]\n\n"
	"The TSIG secret file (base64, 0600) defaults to STATE/dns/tsig.secret.\n"
	"Orders a certificate for every name of the CSR (or the --domain names, wildcards allowed),\n"
	"publishes the dns-01 TXT records, waits until every authoritative server of the zone serves\n"
	"them (default 120 s), lets the CA validate, removes the records (also on failure) and writes\n"
	"STATE/live/NAME/{cert,chain,fullchain}.pem (+ privkey.pem, 0600, for --generate-key).\n"
	"--dns-hook CMD is run as: CMD add|remove _acme-challenge.NAME VALUE (exit 0 = done).\n"
	"--deploy-hook CMD runs after each issuance and renewal of this certificate (kept for renew)\n"
	"with RENEWED_LINEAGE=STATE/live/NAME and RENEWED_DOMAINS=\"names\" (as certbot's).\n"
	"--key-policy (with --generate-key, recorded for renew): new key at every renewal (new, the\n"
	"default), keep the key (reuse), or a new key once the current one is DAYS old (reuse-for DAYS).\n"
	"Every chain the CA offers is kept in live/NAME/chains/N.pem (list --json names them).\n";

static const char usage_renew[] =
	"usage: offca-acme --state DIR renew [--all | NAME...] [--force] [--deploy-hook CMD]\n\n"
	"Renews each certificate that is due: inside the CA's ARI window (RFC 9773) when the CA offers\n"
	"renewalInfo, else after two thirds of its lifetime. --force renews now. Idempotent: exit 0 when\n"
	"nothing is due or everything due was renewed; otherwise the exit code of the first failure.\n"
	"--deploy-hook CMD runs after each renewal (in addition to the one recorded at issue).\n";

static const char usage_revoke[] =
	"usage: offca-acme --state DIR revoke CERT [--reason N]\n\n"
	"CERT is a PEM/DER certificate file or a certificate name (STATE/live/NAME/cert.pem). N is an\n"
	"RFC 5280 reason code (0 unspecified, 1 keyCompromise, 4 superseded, 5 cessationOfOperation...).\n";

static const char usage_metrics[] =
	"usage: offca-acme --state DIR metrics --textfile DIR\n\n"
	"Writes DIR/offca-acme.prom (atomically: node_exporter's textfile collector never reads half a file)\n"
	"with x509_cert_not_before, x509_cert_not_after and x509_cert_expired for every certificate in\n"
	"live/, labelled serial_number, subject_CN and issuer_CN: x509-certificate-exporter's names,\n"
	"so one alert rule can cover public and private certificates.\n";

static const char usage_list[] =
	"usage: offca-acme --state DIR list [--json]\n\n"
	"Lists the certificates with their status (valid, due, expired), serial, names and mode.\n";

static long num(const char *s, const char *opt, long lo, long hi, int *bad)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi) {
		ut_err(OFFCA_E_USAGE, "%s %s: a number from %ld to %ld expected", opt, s, lo, hi);
		*bad = 1;
	}
	return v;
}

/* --key-policy new | reuse | reuse-for DAYS (DAYS is the next argument) */
static int key_policy(int argc, char **argv, struct acme_opts *o)
{
	int bad = 0;

	o->key_policy = optarg;
	if (strcmp(optarg, "new") == 0 || strcmp(optarg, "reuse") == 0)
		return 0;
	if (strcmp(optarg, "reuse-for") != 0) {
		ut_err(OFFCA_E_USAGE, "--key-policy %s: new, reuse or reuse-for DAYS", optarg);
		return -1;
	}
	if (optind >= argc) {
		ut_err(OFFCA_E_USAGE, "--key-policy reuse-for needs a number of days");
		return -1;
	}
	o->key_days = (int)num(argv[optind++], "--key-policy reuse-for", 1, 3650, &bad);
	return bad ? -1 : 0;
}

static int parse(int argc, char **argv, struct acme_opts *o)
{
	int c, bad = 0;

	opterr = 0;
	while (!bad && (c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE: o->state = optarg; break;
		case OPT_CA_BUNDLE: o->ca_bundle = optarg; break;
		case OPT_DIRECTORY: o->directory = optarg; break;
		case OPT_EMAIL: o->email = optarg; break;
		case OPT_EAB_KID: o->eab_kid = optarg; break;
		case OPT_EAB_KEY: o->eab_key_file = optarg; break;
		case OPT_EAB_KEY_OLD: /* certbot's --eab-hmac-key takes the key itself: never repeat it */
			ut_err(OFFCA_E_USAGE, "--eab-hmac-key is not accepted: certbot's option of that name takes the key "
					      "itself, and a key on the command line is seen by every user (ps, /proc) and "
					      "kept in shell history; put it in a 0600 file and use --eab-hmac-key-file FILE");
			bad = 1;
			break;
		case OPT_USER: o->user = optarg; break;
		case OPT_NO_SANDBOX: o->no_sandbox = 1; break;
		case OPT_KEY_POLICY: bad = key_policy(argc, argv, o) != 0; break;
		case OPT_TEXTFILE: o->textfile = optarg; break;
		case OPT_DOMAIN:
			if (acme_names_add(&o->domains, optarg) != OFFCA_OK)
				bad = 1;
			break;
		case OPT_CSR: o->csr = optarg; break;
		case OPT_DNS: o->dns_method = optarg; break;
		case OPT_DNS_SERVER: o->dns_server = optarg; break;
		case OPT_TSIG_KEY: o->tsig_key = optarg; break;
		case OPT_TSIG_SECRET: o->tsig_secret_file = optarg; break;
		case OPT_TSIG_ALG: o->tsig_alg = optarg; break;
		case OPT_DNS_HOOK: o->dns_hook = optarg; break;
		case OPT_DNS_ZONE: o->dns_zone = optarg; break;
		case OPT_DNS_TCP: o->dns_tcp = 1; break;
		case OPT_PROP_TIMEOUT: o->propagation_timeout = (int)num(optarg, "--propagation-timeout", 0, 3600, &bad); break;
		case OPT_POLL_TIMEOUT: o->poll_timeout = (int)num(optarg, "--poll-timeout", 1, 3600, &bad); break;
		case OPT_GENKEY: o->generate_key = 1; break;
		case OPT_CERT_NAME: o->cert_name = optarg; break;
		case OPT_KEY_TYPE: o->key_type = optarg; break;
		case OPT_KEY_URI: o->key_uri = optarg; break;
		case OPT_PIN_FILE: o->pin_file = optarg; break;
		case OPT_DEPLOY_HOOK: o->deploy_hook = optarg; break;
		case OPT_PREFERRED: o->preferred_chain = optarg; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_REASON: o->reason = (int)num(optarg, "--reason", 0, 10, &bad); break;
		case OPT_JSON: o->json = 1; break;
		case OPT_VERBOSE: o->verbose = 1; break;
		case OPT_VERSION: o->help = 2; break;
		case OPT_HELP: o->help = 1; break;
		case ':':
			ut_err(OFFCA_E_USAGE, "%s needs a value", argv[optind - 1]);
			bad = 1;
			break;
		default:
			ut_err(OFFCA_E_USAGE, "unknown option %s (see offca-acme --help)", argv[optind - 1]);
			bad = 1;
			break;
		}
	}
	return bad ? -1 : 0;
}

struct command {
	const char *name;
	offca_rc (*fn)(struct acme_opts *);
	const char *usage;
};

/*
 * One offca-acme at a time per state directory (a timer's renew and an operator's issue must not
 * interleave their writes): an exclusive flock on STATE/lock, released when the process ends.
 * list and metrics only read and take no lock; a state directory that does not exist yet is left alone.
 * A state directory others may write to is refused (they could plant files or links in it).
 */
static offca_rc lock_state(const struct acme_opts *o, const struct command *cmd, int *fd)
{
	char path[4096];
	int n;

	struct stat st;

	*fd = -1;
	if (stat(o->state, &st) != 0 && errno == ENOENT && strcmp(cmd->name, "account") == 0 &&
	    mkdir(o->state, 0700) != 0 && errno != EEXIST)
		return ut_err(OFFCA_E_IO, "--state %s: cannot create it: %s", o->state, strerror(errno));
	if (stat(o->state, &st) != 0) {
		if (errno == EACCES)
			return ut_err(OFFCA_E_PERM, "--state %s: not accessible to uid %u (chown the state directory to "
						    "the user offca-acme runs as)", o->state, (unsigned)geteuid());
		return OFFCA_OK; /* nothing there yet: the command says what is missing */
	}
	if (!S_ISDIR(st.st_mode))
		return ut_err(OFFCA_E_USAGE, "--state %s is not a directory", o->state);
	if ((st.st_mode & 022) != 0)
		return ut_err(OFFCA_E_PERM, "state directory %s is writable by others (mode %03o); chmod 700 it",
			      o->state, (unsigned)(st.st_mode & 0777));
	if (strcmp(cmd->name, "list") == 0 || strcmp(cmd->name, "metrics") == 0)
		return OFFCA_OK; /* they only read */
	n = snprintf(path, sizeof(path), "%s/lock", o->state);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "--state %s: path too long", o->state);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return ut_err(OFFCA_E_IO, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return ut_err(OFFCA_E_STATE, "another offca-acme is working on %s (lock %s)", o->state, path);
	return OFFCA_OK;
}

/*
 * Before any input from the disk or the network: the unprivileged user (started as root), then
 * no_new_privs and the main process's seccomp filter. Commands that may run hooks (issue with a
 * hook, renew: records name hooks) first fork the hook runner, the only process that may exec:
 * the main process never execs, and the helpers narrow its filter further.
 */
static offca_rc confine(struct acme_opts *o, const struct command *cmd)
{
	offca_rc rc = acme_drop_privileges(o->user);
	int hooks = strcmp(cmd->name, "renew") == 0 ||
		    (strcmp(cmd->name, "issue") == 0 && (o->dns_hook != NULL || o->deploy_hook != NULL));

	if (rc != OFFCA_OK)
		return rc;
	if (o->no_sandbox) {
		fprintf(stderr, "offca-acme: warning: --no-sandbox: no seccomp filter and no Landlock in any process "
				"(for debugging only)\n");
		acme_sandbox_disable();
	}
	if (hooks) {
		o->hooks_renew = strcmp(cmd->name, "renew") == 0;
		rc = acme_hookproc_start(o, &o->hooks);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (o->no_sandbox)
		return OFFCA_OK;
	/* list only reads: no file written (Landlock). The others start the key process, whose token
	 * module may keep its files anywhere: their writes are confined in the key and file processes */
	return acme_sandbox_enter(ACME_SB_MAIN,
				  strcmp(cmd->name, "list") == 0 ? ACME_SB_NO_WRITES : NULL);
}

static const struct command commands[] = {
	{"account", acme_cmd_account, usage_account}, {"issue", acme_cmd_issue, usage_issue},
	{"renew", acme_cmd_renew, usage_renew},       {"revoke", acme_cmd_revoke, usage_revoke},
	{"list", acme_cmd_list, usage_list},         {"metrics", acme_cmd_metrics, usage_metrics},
};

int main(int argc, char **argv)
{
	struct acme_opts o;
	const struct command *cmd = NULL;
	offca_rc rc;
	int lockfd = -1;

	ut_harden_process();
	/* nothing inherited beyond stdin/stdout/stderr (a caller's files, a test runner's log) */
	acme_close_fds_except(-1);
	signal(SIGPIPE, SIG_IGN); /* a helper that died shows up as an error, not a signal */
	memset(&o, 0, sizeof(o));
	o.propagation_timeout = 120;
	if (parse(argc, argv, &o) != 0) {
		fprintf(stderr, "offca-acme: %s\n", ut_err_msg());
		acme_names_clear(&o.domains);
		return ut_exit_code(OFFCA_E_USAGE);
	}
	if (optind < argc) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(commands[i].name, argv[optind]) == 0)
				cmd = &commands[i];
	}
	if (o.help == 2) {
		printf("offca-acme %s\n", OFFCA_VERSION);
		acme_names_clear(&o.domains);
		return 0;
	}
	if (o.help == 1 || optind >= argc) {
		fputs(cmd != NULL ? cmd->usage : usage_main, o.help ? stdout : stderr);
		acme_names_clear(&o.domains);
		return o.help ? 0 : ut_exit_code(OFFCA_E_USAGE);
	}
	if (cmd == NULL) {
		fprintf(stderr, "offca-acme: unknown command %s (see offca-acme --help)\n", argv[optind]);
		acme_names_clear(&o.domains);
		return ut_exit_code(OFFCA_E_USAGE);
	}
	o.argc = argc - optind - 1;
	o.argv = argv + optind + 1;
	if (o.state == NULL)
		rc = ut_err(OFFCA_E_USAGE, "--state DIR is required");
	else
		rc = confine(&o, cmd);
	if (rc == OFFCA_OK)
		rc = lock_state(&o, cmd, &lockfd);
	if (rc == OFFCA_OK)
		rc = cmd->fn(&o);
	acme_proc_free(o.hooks); /* keeps the error being reported */
	if (lockfd >= 0)
		close(lockfd);
	if (rc != OFFCA_OK)
		fprintf(stderr, "offca-acme: %s\n", ut_err_msg());
	acme_names_clear(&o.domains);
	return ut_exit_code(rc);
}
