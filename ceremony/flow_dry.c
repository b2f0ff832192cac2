/* flow_dry.c - --dry-run: throwaway SoftHSM2 tokens with the same labels, a temp CA home and outputs. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "ceremony_int.h"

#include <errno.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offca/config.h"
#include "offca/store.h"
#include "offca/util.h"

extern char **environ;

static const char *const softhsm_paths[] = {"/usr/lib/softhsm/libsofthsm2.so",
					    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
					    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", NULL};

static offca_rc run_util(const char *label)
{
	char so_pin[] = "rehearsal-so-pin";
	char pin[] = CER_DRY_PIN;
	char lab[64];
	char *argv[] = {"softhsm2-util", "--init-token", "--free", "--label", lab, "--so-pin", so_pin,
			"--pin", pin, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = 0;

	snprintf(lab, sizeof(lab), "%s", label);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 01 /* O_WRONLY */, 0);
	if (posix_spawnp(&pid, "softhsm2-util", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return ut_err(OFFCA_E_UNSUPPORTED, "dry run: softhsm2-util is not installed");
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return ut_err(OFFCA_E_TOKEN, "dry run: softhsm2-util could not create token '%s'", label);
	return OFFCA_OK;
}

static offca_rc officer_token(cer_run_t *r, size_t i)
{
	offca_rc rc;
	tok_uri *u = NULL;
	char tok_uri_txt[TOK_MAX_URI];
	char *key_uri = NULL;
	tok_pin_opts po = {.pin_value = CER_DRY_PIN, .no_prompt = 1};
	tok_key *k = NULL;

	rc = tok_uri_parse(r->f->officers[i].key_uri, &u);
	if (rc != OFFCA_OK)
		goto out;
	if (tok_uri_get(u, "token") == NULL || tok_uri_get(u, "object") == NULL) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "dry run: officer %s's key URI needs token= and object=",
			    r->f->officers[i].name);
		goto out;
	}
	if (cer_dry_token_made(r, tok_uri_get(u, "token")) == 0) {
		rc = run_util(tok_uri_get(u, "token"));
		if (rc != OFFCA_OK)
			goto out;
	}
	snprintf(tok_uri_txt, sizeof(tok_uri_txt), "pkcs11:token=%s", tok_uri_get(u, "token"));
	rc = tok_keygen(r->module, tok_uri_txt, tok_uri_get(u, "object"), TOK_KEY_EC_P256, &po, &key_uri);
	if (rc != OFFCA_OK)
		goto out;
	rc = tok_key_open(r->module, key_uri, &po, &k);
	if (rc != OFFCA_OK)
		goto out;
	r->officer_pub[i] = tok_key_public(k);
	EVP_PKEY_up_ref(r->officer_pub[i]);
out:
	tok_key_free(k);
	free(key_uri);
	tok_uri_free(u);
	return rc;
}

offca_rc cer_dry_setup(cer_run_t *r)
{
	offca_rc rc;
	char conf[PATH_MAX], tokens[PATH_MAX], text[PATH_MAX + 128];

	r->module = NULL;
	for (int i = 0; softhsm_paths[i] != NULL; i++)
		if (access(softhsm_paths[i], R_OK) == 0) {
			snprintf(r->module_buf, sizeof(r->module_buf), "%s", softhsm_paths[i]);
			r->module = r->module_buf;
			break;
		}
	if (r->module == NULL)
		return ut_err(OFFCA_E_UNSUPPORTED, "dry run: SoftHSM2 is not installed");
	snprintf(r->dry_dir, sizeof(r->dry_dir), "/tmp/offca-dry-run.XXXXXX");
	if (mkdtemp(r->dry_dir) == NULL)
		return ut_err(OFFCA_E_IO, "dry run: cannot create a temp dir");
	if (snprintf(conf, sizeof(conf), "%s/softhsm2.conf", r->dry_dir) >= (int)sizeof(conf) ||
	    snprintf(tokens, sizeof(tokens), "%s/tokens", r->dry_dir) >= (int)sizeof(tokens))
		return ut_err(OFFCA_E_TOO_BIG, "dry run: temp path too long");
	rc = ut_mkdir_p(tokens, 0700);
	if (rc != OFFCA_OK)
		return rc;
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
	rc = ut_write_file(conf, text, strlen(text), UT_WF_EXCL);
	if (rc != OFFCA_OK)
		return rc;
	/* the private SoftHSM2 configuration for this process only (never the system token store);
	   the caller's is put back by cer_dry_cleanup() */
	if (getenv("SOFTHSM2_CONF") != NULL) {
		snprintf(r->dry_old_conf, sizeof(r->dry_old_conf), "%s", getenv("SOFTHSM2_CONF"));
		r->dry_had_conf = 1;
	}
	setenv("SOFTHSM2_CONF", conf, 1);
	r->dry_conf_set = 1;
	for (size_t i = 0; i < r->f->n_tokens; i++) {
		if (r->f->tokens[i].label[0] == '\0')
			return ut_err(OFFCA_E_UNSUPPORTED, "dry run: token %s is named by serial only; name it by token=",
				      r->f->tokens[i].id);
		if (cer_dry_token_made(r, r->f->tokens[i].label))
			continue;
		rc = run_util(r->f->tokens[i].label);
		if (rc != OFFCA_OK)
			return rc;
	}
	for (size_t i = 0; i < r->f->n_officers; i++) {
		rc = officer_token(r, i);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (snprintf(r->home, sizeof(r->home), "%.4000s/home", r->dry_dir) >= (int)sizeof(r->home))
		return ut_err(OFFCA_E_TOO_BIG, "dry run: temp path too long");
	rc = ut_mkdir_p(r->home, 0700);
	if (rc == OFFCA_OK) {
		ca_store *st = NULL;
		rc = ca_store_open(r->home, 1, &st);
		ca_store_free(st);
	}
	if (rc == OFFCA_OK)
		rc = ca_config_write_default(r->home);
	if (rc != OFFCA_OK)
		return rc;
	if (snprintf(r->out_dir, sizeof(r->out_dir), "%.4000s/out", r->dry_dir) >= (int)sizeof(r->out_dir))
		return ut_err(OFFCA_E_TOO_BIG, "dry run: temp path too long");
	return OFFCA_OK;
}

/* Has a token with this label been made for the dry run already? (several ids, one token) */
int cer_dry_token_made(cer_run_t *r, const char *label)
{
	for (size_t i = 0; i < r->n_dry_labels; i++)
		if (strcmp(r->dry_labels[i], label) == 0)
			return 1;
	if (r->n_dry_labels < CER_MAX_TOKENS + CER_MAX_OFFICERS)
		snprintf(r->dry_labels[r->n_dry_labels++], sizeof(r->dry_labels[0]), "%s", label);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

offca_rc cer_dry_cleanup(cer_run_t *r, int keep_outputs)
{
	char path[PATH_MAX];
	offca_rc rc = OFFCA_OK;

	if (!r->dry_run || r->dry_dir[0] == '\0')
		return OFFCA_OK;
	/* keys are closed by now: the throwaway tokens (keys, PINs) go, the outputs stay for review */
	if (!keep_outputs && nftw(r->dry_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = ut_err(OFFCA_E_IO, "dry run: cannot delete %s", r->dry_dir);
	if (keep_outputs && snprintf(path, sizeof(path), "%s/tokens", r->dry_dir) < (int)sizeof(path) &&
	    ut_path_exists(path) == OFFCA_OK && nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = ut_err(OFFCA_E_IO, "dry run: cannot delete the throwaway tokens in %s", path);
	if (keep_outputs && snprintf(path, sizeof(path), "%s/softhsm2.conf", r->dry_dir) < (int)sizeof(path) &&
	    unlink(path) != 0 && errno != ENOENT && rc == OFFCA_OK)
		rc = ut_err(OFFCA_E_IO, "dry run: cannot delete %s", path);
	if (r->dry_conf_set) {
		if (r->dry_had_conf)
			setenv("SOFTHSM2_CONF", r->dry_old_conf, 1);
		else
			unsetenv("SOFTHSM2_CONF");
		r->dry_conf_set = 0;
	}
	return rc;
}
