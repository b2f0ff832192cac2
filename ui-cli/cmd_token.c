/*
 * cmd_token.c - offca token list|keygen|wait|show-key: tokens and CA keys on PKCS#11 tokens.
 * Documentation: docs/token.md (and docs/yubikey.md for YubiKey PIV).
 */
#include "cli.h"
#include "offca/token.h"
#include "offca/util.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: offca token list [--module PATH] [--json]\n"
	"       offca token keygen --token URI --label NAME --type TYPE [--pin-file F] [--module PATH]\n"
	"       offca token wait [--timeout SECONDS] [--token URI] [--module PATH]\n"
	"       offca token show-key URI [--pin-file F] [--module PATH] [--selftest]\n"
	"       offca token objects --token URI [--pin-file F] [--no-login] [--module PATH]\n\n"
	"Work with PKCS#11 tokens (SoftHSM2, smart cards and YubiKeys through OpenSC, HSMs).\n\n"
	"  list      list the module's slots and tokens (label, serial, flags)\n"
	"  keygen    generate a non-extractable key pair on a token; prints its pkcs11: URI\n"
	"            TYPE: ec-p256, ec-p384, rsa-3072, rsa-4096, ed25519\n"
	"  wait      wait until a token or smart card is present; prints the reader/token\n"
	"  show-key  log in, print the key's public key (PEM) and SHA-256 SPKI fingerprint\n"
	"  objects   list the keys and certificates on a token with their pkcs11: URIs\n\n"
	"The module is --module PATH, else the URI's module-path=, else $OFFCA_PKCS11_MODULE, else\n"
	"the installed SoftHSM2 or OpenSC module. PINs come from --pin-file F, the URI's\n"
	"pin-source=file:..., or a no-echo prompt; never from the command line.\n"
	"Run 'offca token SUBCOMMAND --help' for details. See docs/token.md.\n";

static const char list_help[] =
	"usage: offca token list [--module PATH] [--json]\n\n"
	"List every slot of the PKCS#11 module with its token: label, serial, manufacturer, model\n"
	"and flags (login required, PIN count low / final try / locked, protected authentication\n"
	"path). --json prints {\"module\": PATH, \"slots\": [...]} for scripts. No login needed.\n";

static const char keygen_help[] =
	"usage: offca token keygen --token URI --label NAME --type TYPE [--pin-file F] [--module PATH]\n\n"
	"Generate a key pair on the token URI names (e.g. pkcs11:token=root-ca). TYPE is one of\n"
	"ec-p256, ec-p384, rsa-3072, rsa-4096, ed25519 (where the token supports it; offca cannot\n"
	"yet sign certificates with Ed25519 token keys). The private key is CKA_SENSITIVE, not\n"
	"extractable, CKA_PRIVATE and on the token, with a random 16-byte CKA_ID. An existing object\n"
	"with the same label is never replaced. Prints the new key's pkcs11: URI on stdout.\n";

static const char wait_help[] =
	"usage: offca token wait [--timeout SECONDS] [--token URI] [--module PATH]\n\n"
	"Wait until a token or smart card is present (already present: return at once) and print\n"
	"the reader (or slot) and token that arrived. With the OpenSC module this sleeps on pcsc-lite\n"
	"reader events; other modules are polled once a second. --timeout 0 (default) waits forever;\n"
	"on timeout the exit code is non-zero. --token URI waits for that token only.\n";

static const char show_help[] =
	"usage: offca token show-key URI [--pin-file F] [--module PATH] [--selftest]\n\n"
	"Log in and print the key's canonical pkcs11: URI, its public key as PEM and the SHA-256\n"
	"fingerprint of its SubjectPublicKeyInfo (what a key ceremony records). --selftest also signs\n"
	"a random message on the token and verifies it with the public key.\n";

static const char objects_help[] =
	"usage: offca token objects --token URI [--pin-file F] [--no-login] [--module PATH]\n\n"
	"Log in to the token URI names and list its private keys, public keys and certificates, one\n"
	"per line: type, kind (ec-p384, rsa-3072, ...), label and the object's pkcs11: URI (the key\n"
	"URI to give other offca commands is the type=private one). --no-login lists public objects\n"
	"only, without a PIN.\n";

enum {
	OPT_MODULE = 1000, OPT_JSON, OPT_TOKEN, OPT_LABEL, OPT_TYPE, OPT_PINFILE, OPT_TIMEOUT, OPT_SELFTEST,
	OPT_NOLOGIN
};

static const struct option long_opts[] = {
	{"module", required_argument, NULL, OPT_MODULE},     {"json", no_argument, NULL, OPT_JSON},
	{"token", required_argument, NULL, OPT_TOKEN},       {"label", required_argument, NULL, OPT_LABEL},
	{"type", required_argument, NULL, OPT_TYPE},         {"pin-file", required_argument, NULL, OPT_PINFILE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},   {"selftest", no_argument, NULL, OPT_SELFTEST},
	{"no-login", no_argument, NULL, OPT_NOLOGIN},
	{NULL, 0, NULL, 0},
};

struct opts {
	const char *module, *token, *label, *type, *pin_file, *timeout;
	int json, selftest, no_login;
};

/* Parse options; allowed is a string of the OPT_* codes this subcommand takes. Returns 0 or exit code. */
static int parse(const char *cmd, int argc, char **argv, const int *allowed, struct opts *o)
{
	int c, li = 0;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, &li)) != -1) {
		int ok = 0;

		for (const int *a = allowed; *a != 0; a++)
			ok |= *a == c;
		if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (!ok)
			return cli_usage_error(cmd, "option '--%s' does not apply to %s", long_opts[li].name, cmd);
		switch (c) {
		case OPT_MODULE: o->module = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_TOKEN: o->token = optarg; break;
		case OPT_LABEL: o->label = optarg; break;
		case OPT_TYPE: o->type = optarg; break;
		case OPT_PINFILE: o->pin_file = optarg; break;
		case OPT_TIMEOUT: o->timeout = optarg; break;
		case OPT_SELFTEST: o->selftest = 1; break;
		case OPT_NOLOGIN: o->no_login = 1; break;
		default: break;
		}
	}
	return 0;
}

static const char *flags_text(const tok_info *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s%s", t->login_required ? "login-required " : "",
		 t->protected_auth_path ? "pin-pad " : "", t->user_pin_count_low ? "pin-count-low " : "",
		 t->user_pin_final_try ? "pin-final-try " : "", t->user_pin_locked ? "pin-locked " : "",
		 t->removable ? "removable" : "");
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
	return buf;
}

static json_t *slot_json(const tok_info *t)
{
	return json_pack("{s:I,s:s,s:b,s:b,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:b}", "slot_id",
			 (json_int_t)t->slot_id, "slot_description", t->slot_description, "token_present",
			 t->present, "initialized", t->initialized, "label", t->label, "serial", t->serial,
			 "manufacturer", t->manufacturer, "model", t->model, "login_required", t->login_required,
			 "user_pin_count_low", t->user_pin_count_low, "user_pin_final_try", t->user_pin_final_try,
			 "user_pin_locked", t->user_pin_locked, "protected_auth_path", t->protected_auth_path,
			 "removable", t->removable);
}

static int print_json(const char *module, const tok_info *v, size_t n)
{
	json_t *root = json_pack("{s:s,s:[]}", "module", module, "slots");
	json_t *arr = root != NULL ? json_object_get(root, "slots") : NULL;
	char *text = NULL;

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, slot_json(&v[i]));
	text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	if (text == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory writing JSON"));
	printf("%s\n", text);
	free(text);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	static const int allowed[] = {OPT_MODULE, OPT_JSON, 0};
	struct opts o;
	char module[PATH_MAX], flags[128];
	tok_ctx *ctx = NULL;
	tok_info *v = NULL;
	size_t n = 0;
	offca_rc rc;
	int ex;

	if (cli_wants_help(argc, argv)) {
		fputs(list_help, stdout);
		return 0;
	}
	ex = parse("token list", argc, argv, allowed, &o);
	if (ex != 0)
		return ex;
	if (optind < argc)
		return cli_usage_error("token list", "unexpected argument '%s'", argv[optind]);
	rc = tok_module_resolve(o.module, NULL, module, sizeof(module));
	if (rc == OFFCA_OK)
		rc = tok_ctx_open(module, &ctx);
	if (rc == OFFCA_OK)
		rc = tok_list(ctx, &v, &n);
	if (rc != OFFCA_OK) {
		tok_ctx_free(ctx);
		return cli_fail(rc);
	}
	if (o.json) {
		ex = print_json(module, v, n);
	} else {
		printf("module: %s\n", module);
		if (n == 0)
			printf("(no slots: no reader or token attached%s)\n",
			       strstr(module, "opensc") != NULL ? ", or pcscd is not running" : "");
		for (size_t i = 0; i < n; i++) {
			printf("slot %lu: %s\n", v[i].slot_id, v[i].slot_description);
			if (!v[i].present)
				printf("  (no token)\n");
			else if (!v[i].initialized)
				printf("  token: (not initialised)\n");
			else
				printf("  token: %s  serial: %s  manufacturer: %s  model: %s\n  flags: %s\n", v[i].label,
				       v[i].serial, v[i].manufacturer, v[i].model, flags_text(&v[i], flags, sizeof(flags)));
		}
	}
	free(v);
	tok_ctx_free(ctx);
	return ex;
}

static int cmd_keygen(int argc, char **argv)
{
	static const int allowed[] = {OPT_MODULE, OPT_TOKEN, OPT_LABEL, OPT_TYPE, OPT_PINFILE, 0};
	struct opts o;
	tok_pin_opts pin = {0};
	tok_keytype type;
	char *uri = NULL;
	offca_rc rc;
	int ex;

	if (cli_wants_help(argc, argv)) {
		fputs(keygen_help, stdout);
		return 0;
	}
	ex = parse("token keygen", argc, argv, allowed, &o);
	if (ex != 0)
		return ex;
	if (optind < argc)
		return cli_usage_error("token keygen", "unexpected argument '%s'", argv[optind]);
	if (o.token == NULL || o.label == NULL || o.type == NULL)
		return cli_usage_error("token keygen", "--token, --label and --type are required");
	rc = tok_keytype_parse(o.type, &type);
	if (rc != OFFCA_OK)
		return cli_usage_error("token keygen", "%s", ut_err_msg());
	pin.pin_file = o.pin_file;
	rc = tok_keygen(o.module, o.token, o.label, type, &pin, &uri);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s\n", uri);
	if (type == TOK_KEY_ED25519)
		fprintf(stderr, "offca: note: offca cannot sign with Ed25519 token keys yet (libp11 0.4.12); "
				"see docs/token.md\n");
	free(uri);
	return 0;
}

static int cmd_wait(int argc, char **argv)
{
	static const int allowed[] = {OPT_MODULE, OPT_TOKEN, OPT_TIMEOUT, 0};
	struct opts o;
	tok_arrival a;
	unsigned long t = 0;
	char *end = NULL;
	offca_rc rc;
	int ex;

	if (cli_wants_help(argc, argv)) {
		fputs(wait_help, stdout);
		return 0;
	}
	ex = parse("token wait", argc, argv, allowed, &o);
	if (ex != 0)
		return ex;
	if (optind < argc)
		return cli_usage_error("token wait", "unexpected argument '%s'", argv[optind]);
	if (o.timeout != NULL) {
		t = strtoul(o.timeout, &end, 10);
		if (o.timeout[0] < '0' || o.timeout[0] > '9' || *end != '\0' || t > 86400UL * 366)
			return cli_usage_error("token wait", "--timeout must be a number of seconds");
	}
	rc = tok_wait(o.module, o.token, (unsigned)t, &a);
	if (rc == OFFCA_E_TIMEOUT) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s (--timeout %lu s%s%s)", msg, t, o.token != NULL ? "; waiting for " : "",
			    o.token != NULL ? o.token : "");
	}
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("reader: %s\n", a.reader);
	if (a.token[0] != '\0')
		printf("token: %s\nserial: %s\n", a.token, a.serial);
	return 0;
}

static int cmd_show_key(int argc, char **argv)
{
	static const int allowed[] = {OPT_MODULE, OPT_PINFILE, OPT_SELFTEST, 0};
	struct opts o;
	tok_pin_opts pin = {0};
	tok_key *key = NULL;
	char *pem = NULL, *fp = NULL;
	offca_rc rc;
	int ex;

	if (cli_wants_help(argc, argv)) {
		fputs(show_help, stdout);
		return 0;
	}
	ex = parse("token show-key", argc, argv, allowed, &o);
	if (ex != 0)
		return ex;
	if (optind + 1 != argc)
		return cli_usage_error("token show-key", "expected exactly one key URI");
	pin.pin_file = o.pin_file;
	rc = tok_key_open(o.module, argv[optind], &pin, &key);
	if (rc == OFFCA_OK && o.selftest)
		rc = tok_key_selftest(key);
	if (rc == OFFCA_OK)
		rc = tok_pubkey_pem(tok_key_public(key), &pem);
	if (rc == OFFCA_OK)
		rc = tok_pubkey_fingerprint(tok_key_public(key), &fp);
	if (rc == OFFCA_OK) {
		printf("uri: %s\nsha256: %s\n%s%s", tok_key_uri(key), fp, o.selftest ? "selftest: ok\n" : "", pem);
		ex = 0;
	} else {
		ex = cli_fail(rc);
	}
	free(pem);
	free(fp);
	tok_key_free(key);
	return ex;
}

static int cmd_objects(int argc, char **argv)
{
	static const int allowed[] = {OPT_MODULE, OPT_TOKEN, OPT_PINFILE, OPT_NOLOGIN, 0};
	struct opts o;
	tok_pin_opts pin = {0};
	tok_object *v = NULL;
	size_t n = 0;
	offca_rc rc;
	int ex;

	if (cli_wants_help(argc, argv)) {
		fputs(objects_help, stdout);
		return 0;
	}
	ex = parse("token objects", argc, argv, allowed, &o);
	if (ex != 0)
		return ex;
	if (optind < argc)
		return cli_usage_error("token objects", "unexpected argument '%s'", argv[optind]);
	if (o.token == NULL)
		return cli_usage_error("token objects", "--token is required");
	pin.pin_file = o.pin_file;
	rc = tok_objects(o.module, o.token, o.no_login ? NULL : &pin, &v, &n);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	for (size_t i = 0; i < n; i++)
		printf("%-7s %-9s %-20s %s\n", v[i].type, v[i].kind, v[i].label[0] ? v[i].label : "-", v[i].uri);
	free(v);
	return 0;
}

int cli_cmd_token(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return cli_usage_error("token", "missing subcommand: list, keygen, wait, show-key or objects");
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(sub, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(sub, "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(sub, "wait") == 0)
		return cmd_wait(argc - 1, argv + 1);
	if (strcmp(sub, "show-key") == 0)
		return cmd_show_key(argc - 1, argv + 1);
	if (strcmp(sub, "objects") == 0)
		return cmd_objects(argc - 1, argv + 1);
	return cli_usage_error("token", "unknown subcommand '%s'", sub);
}
