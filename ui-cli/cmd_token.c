/*
 * cmd_token.c - offca token list|keygen|wait|show-key: tokens and CA keys on PKCS#11 tokens.
 * Documentation: docs/token.md (and docs/yubikey.md for YubiKey PIV).
 */
#include "cli.h"
#include "cli_opt.h"
#include "inventory.h"
#include "offca/token.h"
#include "offca/util.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, slot_json(&v[i]));
	return cli_json_print(root);
}

static int run_list(const cli_cmd *cmd, cli_args *a)
{
	char module[PATH_MAX], flags[128];
	tok_ctx *ctx = NULL;
	tok_info *v = NULL;
	size_t n = 0;
	offca_rc rc;
	int ex;

	(void)cmd;
	rc = tok_module_resolve(cli_str(a, "module"), NULL, module, sizeof(module));
	if (rc == OFFCA_OK)
		rc = tok_ctx_open(module, &ctx);
	if (rc == OFFCA_OK)
		rc = tok_list(ctx, &v, &n);
	if (rc != OFFCA_OK) {
		tok_ctx_free(ctx);
		return cli_fail(rc);
	}
	if (cli_flag(a, "json")) {
		ex = print_json(module, v, n);
	} else {
		ex = 0;
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

static int run_keygen(const cli_cmd *cmd, cli_args *a)
{
	tok_pin_opts pin = {0};
	tok_keytype type;
	char *uri = NULL;
	offca_rc rc;

	rc = tok_keytype_parse(cli_str(a, "type"), &type);
	if (rc != OFFCA_OK)
		return cli_usage_error(cmd->name, "%s", ut_err_msg());
	pin.pin_file = cli_str(a, "pin-file");
	rc = tok_keygen(cli_str(a, "module"), cli_str(a, "token"), cli_str(a, "label"), type, &pin, &uri);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("%s\n", uri);
	if (type == TOK_KEY_ED25519)
		fprintf(stderr, "offca: note: offca cannot sign with Ed25519 token keys yet (libp11 0.4.12); "
				"see docs/token.md\n");
	free(uri);
	return 0;
}

static int run_wait(const cli_cmd *cmd, cli_args *args)
{
	const char *token = cli_str(args, "token");
	unsigned long t = (unsigned long)cli_num(args, "timeout", 0);
	tok_arrival a;
	offca_rc rc;

	(void)cmd;
	rc = tok_wait(cli_str(args, "module"), token, (unsigned)t, &a);
	if (rc == OFFCA_E_TIMEOUT) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s (--timeout %lu s%s%s)", msg, t, token != NULL ? "; waiting for " : "",
			    token != NULL ? token : "");
	}
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("reader: %s\n", a.reader);
	if (a.token[0] != '\0')
		printf("token: %s\nserial: %s\n", a.token, a.serial);
	return 0;
}

static int run_show_key(const cli_cmd *cmd, cli_args *a)
{
	int selftest = cli_flag(a, "selftest");
	tok_pin_opts pin = {0};
	tok_key *key = NULL;
	char *pem = NULL, *fp = NULL;
	offca_rc rc;
	int ex;

	(void)cmd;
	pin.pin_file = cli_str(a, "pin-file");
	rc = tok_key_open(cli_str(a, "module"), a->pos[0], &pin, &key);
	if (rc == OFFCA_OK && selftest)
		rc = tok_key_selftest(key);
	if (rc == OFFCA_OK)
		rc = tok_pubkey_pem(tok_key_public(key), &pem);
	if (rc == OFFCA_OK)
		rc = tok_pubkey_fingerprint(tok_key_public(key), &fp);
	if (rc == OFFCA_OK && cli_flag(a, "json")) {
		ex = cli_json_print(json_pack("{s:s,s:s,s:b,s:s}", "uri", tok_key_uri(key), "sha256", fp, "selftest", selftest,
					      "pem", pem));
	} else if (rc == OFFCA_OK) {
		printf("uri: %s\nsha256: %s\n%s%s", tok_key_uri(key), fp, selftest ? "selftest: ok\n" : "", pem);
		ex = 0;
	} else {
		ex = cli_fail(rc);
	}
	free(pem);
	free(fp);
	tok_key_free(key);
	return ex;
}

static int run_objects(const cli_cmd *cmd, cli_args *a)
{
	tok_pin_opts pin = {0};
	tok_object *v = NULL;
	json_t *arr = cli_flag(a, "json") ? json_array() : NULL;
	size_t n = 0;
	offca_rc rc;

	(void)cmd;
	pin.pin_file = cli_str(a, "pin-file");
	rc = tok_objects(cli_str(a, "module"), cli_str(a, "token"), cli_flag(a, "no-login") ? NULL : &pin, &v, &n);
	if (rc != OFFCA_OK) {
		json_decref(arr);
		return cli_fail(rc);
	}
	for (size_t i = 0; i < n; i++) {
		if (arr != NULL)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "type", v[i].type, "kind", v[i].kind, "label",
							     v[i].label, "uri", v[i].uri));
		else
			printf("%-7s %-9s %-20s %s\n", v[i].type, v[i].kind, v[i].label[0] ? v[i].label : "-", v[i].uri);
	}
	free(v);
	return arr != NULL ? cli_json_print(arr) : 0;
}

static const char *const key_types[] = {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096", "ed25519", NULL};

static const cli_opt list_opts[] = {CLI_OPT_MODULE, CLI_OPT_JSON, CLI_END};

static const cli_opt keygen_opts[] = {
	CLI_O("token", CLI_STR, "URI", "the token (pkcs11:token=root-ca)", .flags = CLI_REQUIRED),
	CLI_O("label", CLI_STR, "NAME", "the new key's label (an existing one is never replaced)", .flags = CLI_REQUIRED),
	CLI_O("type", CLI_ENUM, NULL, "the key type", .flags = CLI_REQUIRED,
	      .values = key_types),
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

static const cli_opt wait_opts[] = {
	CLI_O("timeout", CLI_NUM, "SECONDS", "give up after SECONDS (0, the default: wait forever)", .lo = 0,
	      .hi = 86400L * 366),
	CLI_O("token", CLI_STR, "URI", "wait for this token only"),
	CLI_OPT_MODULE,
	CLI_END};

static const cli_opt show_opts[] = {
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_O("selftest", CLI_FLAG, NULL, "also sign a random message on the token and verify it"),
	CLI_OPT_JSON,
	CLI_END};

static const cli_opt objects_opts[] = {
	CLI_O("token", CLI_STR, "URI", "the token", .flags = CLI_REQUIRED),
	CLI_OPT_PIN_FILE,
	CLI_O("no-login", CLI_FLAG, NULL, "public objects only, without a PIN"),
	CLI_OPT_MODULE,
	CLI_OPT_JSON,
	CLI_END};

static const cli_cmd list_cmd = {
	.name = "token list",
	.summary = "list the module's slots and tokens (label, serial, flags)",
	.opts = list_opts,
	.max_pos = 0,
	.details = "List every slot of the PKCS#11 module with its token: label, serial, manufacturer, model\n"
		   "and flags (login required, PIN count low / final try / locked, protected authentication\n"
		   "path). --json prints {\"module\": PATH, \"slots\": [...]} for scripts. No login needed.\n",
	.run = run_list,
};

static const cli_cmd keygen_cmd = {
	.name = "token keygen",
	.summary = "generate a non-extractable key pair on a token; prints its pkcs11: URI",
	.opts = keygen_opts,
	.max_pos = 0,
	.details = "The private key is CKA_SENSITIVE, not extractable, CKA_PRIVATE and on the token, with a random\n"
		   "16-byte CKA_ID (ed25519 where the token supports it; offca cannot yet sign certificates with\n"
		   "Ed25519 token keys).\n",
	.run = run_keygen,
};

static const cli_cmd wait_cmd = {
	.name = "token wait",
	.summary = "wait until a token or smart card is present; prints the reader/token",
	.opts = wait_opts,
	.max_pos = 0,
	.details = "Already present: return at once. With the OpenSC module this sleeps on pcsc-lite reader events;\n"
		   "other modules are polled once a second. On timeout the exit code is non-zero.\n",
	.run = run_wait,
};

static const cli_cmd show_cmd = {
	.name = "token show-key",
	.summary = "log in, print the key's public key (PEM) and SHA-256 SPKI fingerprint",
	.operands = "URI",
	.min_pos = 1,
	.max_pos = 1,
	.opts = show_opts,
	.details = "Prints the key's canonical pkcs11: URI, its public key as PEM and the SHA-256 fingerprint of\n"
		   "its SubjectPublicKeyInfo (what a key ceremony records).\n",
	.run = run_show_key,
};

static const cli_cmd objects_cmd = {
	.name = "token objects",
	.summary = "list the keys and certificates on a token with their pkcs11: URIs",
	.opts = objects_opts,
	.max_pos = 0,
	.details = "One per line: type, kind (ec-p384, rsa-3072, ...), label and the object's pkcs11: URI (the key\n"
		   "URI to give other offca commands is the type=private one).\n",
	.run = run_objects,
};

static const cli_cmd *const token_subs[] = {&list_cmd, &keygen_cmd, &wait_cmd, &show_cmd, &objects_cmd, NULL};

const cli_cmd cli_token_cmd = {
	.name = "token",
	.summary = "list tokens, generate keys on a token, wait for a token",
	.details = "Work with PKCS#11 tokens (SoftHSM2, smart cards and YubiKeys through OpenSC, HSMs).\n"
		   "The module is --module PATH, else the URI's module-path=, else $OFFCA_PKCS11_MODULE, else\n"
		   "the installed SoftHSM2 or OpenSC module. PINs come from --pin-file F, the URI's\n"
		   "pin-source=file:..., or a no-echo prompt; never from the command line. See docs/token.md.\n",
	.subs = token_subs,
};
