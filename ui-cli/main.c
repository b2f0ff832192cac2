/* main.c - offca: the offline CA appliance command line. Dispatches to one file per command group. */
#include "cli.h"
#include "offca/util.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
};

static const struct command commands[] = {
	{"init", cli_cmd_init, "create a CA home (LMDB store, config, audit log)"},
	{"token", cli_cmd_token, "list tokens, generate keys on a token, wait for a token"},
	{"ca", cli_cmd_ca, "create the root and intermediates whose keys are on tokens"},
	{"sign", cli_cmd_sign, "sign CSRs with a profile (server, client, mtls)"},
	{"issue", cli_cmd_issue, "issue with an issuer-generated key (the exception) as PKCS#12"},
	{"list", cli_cmd_list, "list issued certificates"},
	{"show", cli_cmd_show, "show one issued certificate"},
	{"revoke", cli_cmd_revoke, "revoke a certificate"},
	{"crl", cli_cmd_crl, "sign a CRL on the token; crl status warns before nextUpdate"},
	{"export", cli_cmd_export, "export a certificate, its chain or full chain"},
	{"audit", cli_cmd_audit, "verify or show the hash-chained audit log"},
	{"pending", cli_cmd_pending, "list, show or drop CSRs waiting to be signed"},
	{"bundle", cli_cmd_bundle, "create, verify, import and export authenticated USB bundles"},
	{"publish", cli_cmd_publish, "encrypted, signed relay objects for endpoints (pattern 5)"},
	{"qr", cli_cmd_qr, "encode, show, decode and scan multi-frame QR codes"},
	{"ceremony", cli_cmd_ceremony, "run, verify and print key ceremonies"},
	{"backup", cli_cmd_backup, "write a verified, consistent copy of the CA home"},
	{"restore", cli_cmd_restore, "put a verified backup back (a damaged store's way back)"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: offca COMMAND [ARGS...]\n"
		   "       offca help [COMMAND]\n"
		   "       offca --version\n\n"
		   "offca is an offline certificate authority whose keys stay on PKCS#11 tokens.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEvery command takes --help. The CA home is --home DIR or $OFFCA_HOME.\n"
		   "PINs are never taken from the command line: use a no-echo prompt, --pin-file FILE,\n"
		   "or pin-source=file:... in the key's pkcs11: URI. Documentation: docs/.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char *help_argv[3];

	ut_harden_process();
	cli_fault_install();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("offca %s (%s)\n", OFFCA_VERSION, OpenSSL_version(OPENSSL_VERSION));
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		cmd = find(argv[2]);
		if (cmd == NULL) {
			fprintf(stderr, "offca: unknown command '%s' (see 'offca help')\n", argv[2]);
			return 2;
		}
		help_argv[0] = argv[2];
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		return cmd->fn(2, help_argv);
	}
	cmd = find(argv[1]);
	if (cmd == NULL) {
		fprintf(stderr, "offca: unknown command '%s' (see 'offca help')\n", argv[1]);
		return 2;
	}
	return cmd->fn(argc - 1, argv + 1);
}
