/*
 * main.c - offca-agent: enrolls an endpoint through offca-gateway (EST), renews it with mutual TLS,
 * installs atomically, reloads the service. Exit codes: agent.h / docs/agent.md.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ag_relay.h"
#include "offca/util.h"

static const char usage[] =
	"usage: offca-agent enroll --server URL --root-sha256 FP --token-file F --san NAME...\n"
	"                          [--key FILE | --key pkcs11:URI --pin-file F]\n"
	"                          --out-dir DIR [--wait SECONDS] [--deploy-hook CMD]\n"
	"       offca-agent run --out-dir DIR [--renew-at FRACTION] [--jitter FRACTION] [--reuse-key] [--force]\n"
	"                       [--wait SECONDS] [--deploy-hook CMD] [--server URL] [--pin-file F]\n"
	"       offca-agent run --relay URL --out-dir DIR [--relay-cacert F] [--relay-client-auth]\n"
	"                       [--deploy-hook CMD]\n"
	"       offca-agent --help | --version\n"
	"Exit codes: 0 done (or not due), 2 usage/state, 3 refused by the gateway, 4 answer failed\n"
	"verification (kept the installed certificate), 5 gateway unreachable, 6 install failed,\n"
	"7 deploy hook failed, 8 the key's token failed (absent, wrong PIN, PIN file refused), 75 waiting\n"
	"for the offline CA (run again later). See docs/agent.md.\n"
	"run --relay fetches URL/<hex SHA-256 of this endpoint's public key> (pattern 5): 404 is nothing\n"
	"new (0); the object must decrypt with this endpoint's key, verify to the pinned root and carry a\n"
	"higher sequence number than the last one installed (else 4); --relay-cacert F: the relay's TLS\n"
	"trust (default: the system's); --relay-client-auth: present the installed certificate and key.\n";

enum { O_SERVER = 256, O_FP, O_TOKEN, O_SAN, O_KEY, O_DIR, O_WAIT, O_HOOK, O_RENEW, O_JITTER, O_REUSE, O_FORCE, O_HELP, O_PIN,
       O_RELAY, O_RELAY_CA, O_RELAY_AUTH };

static const struct option longopts[] = {
	{"server", required_argument, NULL, O_SERVER},   {"root-sha256", required_argument, NULL, O_FP},
	{"token-file", required_argument, NULL, O_TOKEN}, {"san", required_argument, NULL, O_SAN},
	{"key", required_argument, NULL, O_KEY},          {"out-dir", required_argument, NULL, O_DIR},
	{"wait", required_argument, NULL, O_WAIT},        {"deploy-hook", required_argument, NULL, O_HOOK},
	{"renew-at", required_argument, NULL, O_RENEW},   {"jitter", required_argument, NULL, O_JITTER},
	{"reuse-key", no_argument, NULL, O_REUSE},        {"force", no_argument, NULL, O_FORCE},
	{"relay", required_argument, NULL, O_RELAY},      {"relay-cacert", required_argument, NULL, O_RELAY_CA},
	{"relay-client-auth", no_argument, NULL, O_RELAY_AUTH}, {"pin-file", required_argument, NULL, O_PIN},
	{"help", no_argument, NULL, O_HELP},              {NULL, 0, NULL, 0},
};

static int num(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end = NULL;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || d < lo || d > hi) {
		fprintf(stderr, "offca-agent: --%s '%s': a number from %g to %g\n", name, v, lo, hi);
		return 0;
	}
	*out = d;
	return 1;
}

static int parse(int argc, char **argv, ag_opts *o, int *help)
{
	int c;
	double d;

	o->renew_at = 2.0 / 3.0;
	o->jitter = 0.05;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case O_SERVER: o->server = optarg; break;
		case O_FP: o->root_fp = optarg; break;
		case O_TOKEN: o->token_file = optarg; break;
		case O_KEY:
			if (strncmp(optarg, "pkcs11:", 7) == 0)
				o->key_uri = optarg; /* a key on a token (ag_tokkey.c) */
			else
				o->key_file = optarg;
			break;
		case O_PIN: o->pin_file = optarg; break;
		case O_DIR: o->dir = optarg; break;
		case O_HOOK: o->deploy_hook = optarg; break;
		case O_REUSE: o->reuse_key = 1; break;
		case O_FORCE: o->force = 1; break;
		case O_HELP: *help = 1; break;
		case O_RELAY: o->relay = optarg; break;
		case O_RELAY_CA: o->relay_cacert = optarg; break;
		case O_RELAY_AUTH: o->relay_client_auth = 1; break;
		case O_SAN:
			if (o->n_sans >= AG_MAX_SANS) {
				fprintf(stderr, "offca-agent: at most %d --san\n", AG_MAX_SANS);
				return 0;
			}
			o->sans[o->n_sans++] = optarg;
			while (optind < argc && argv[optind][0] != '-' && o->n_sans < AG_MAX_SANS)
				o->sans[o->n_sans++] = argv[optind++];
			break;
		case O_WAIT:
			if (!num("wait", optarg, 0, 7 * 86400, &d))
				return 0;
			o->max_wait = (unsigned)d;
			break;
		case O_RENEW:
			if (!num("renew-at", optarg, 0, 1, &o->renew_at))
				return 0;
			break;
		case O_JITTER:
			if (!num("jitter", optarg, 0, 0.5, &o->jitter))
				return 0;
			break;
		default:
			fprintf(stderr, "offca-agent: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return 0;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "offca-agent: unexpected argument '%s'\n", argv[optind]);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	ag_opts o = {0};
	int help = 0, code;
	const char *cmd = argc > 1 ? argv[1] : NULL;

	ut_harden_process();
	if (cmd == NULL || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? AG_EXIT_USAGE : 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("offca-agent %s\n", OFFCA_VERSION);
		return 0;
	}
	if (!parse(argc - 1, argv + 1, &o, &help))
		return AG_EXIT_USAGE;
	if (help) {
		fputs(usage, stdout);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (o.relay == NULL && (o.relay_cacert != NULL || o.relay_client_auth)) {
		fprintf(stderr, "offca-agent: --relay-cacert and --relay-client-auth go with run --relay URL\n");
		code = AG_EXIT_USAGE;
	} else if (strcmp(cmd, "enroll") == 0 && o.relay != NULL) {
		fprintf(stderr, "offca-agent: --relay belongs to run (enroll goes through the gateway)\n");
		code = AG_EXIT_USAGE;
	} else if (strcmp(cmd, "enroll") == 0)
		code = ag_enroll(&o);
	else if (strcmp(cmd, "run") == 0)
		code = o.relay != NULL ? ag_relay_run(&o) : ag_run(&o);
	else {
		fprintf(stderr, "offca-agent: unknown command '%s' (enroll, run)\n", cmd);
		code = AG_EXIT_USAGE;
	}
	curl_global_cleanup();
	return code;
}
