/* cfile_env.c - check a ceremony against the world before any token is used. */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>

#include "offca/store.h"
#include "offca/util.h"

/* Is the token present? 1 yes, 0 no, -1 the module could not be used (problem reported). */
int cer_token_present(const char *module, const cer_token *tk, tok_info *info_out)
{
	char path[PATH_MAX];
	tok_ctx *ctx = NULL;
	tok_info *infos = NULL;
	size_t n = 0;
	int found = -1;

	if (tok_module_resolve(module, NULL, path, sizeof(path)) != OFFCA_OK || tok_ctx_open(path, &ctx) != OFFCA_OK)
		return -1;
	if (tok_list(ctx, &infos, &n) != OFFCA_OK)
		goto out;
	found = 0;
	for (size_t i = 0; i < n; i++) {
		if (!infos[i].present)
			continue;
		if (tk->label[0] && strcmp(infos[i].label, tk->label) != 0)
			continue;
		if (tk->serial[0] && strcmp(infos[i].serial, tk->serial) != 0)
			continue;
		found = 1;
		if (info_out != NULL)
			*info_out = infos[i];
		break;
	}
out:
	free(infos);
	tok_ctx_free(ctx);
	return found;
}

static void check_tokens(const cer_file *f, const cer_env *env, cer_diag *d, int *present, tok_info *infos)
{
	int r;

	for (size_t i = 0; i < f->n_tokens; i++) {
		present[i] = 0;
		if (f->tokens[i].when_needed)
			continue;
		r = cer_token_present(env->module, &f->tokens[i], &infos[i]);
		if (r < 0) {
			cer_diag_add(d, "tokens.%s: cannot look for the token: %s", f->tokens[i].id, ut_err_msg());
			continue;
		}
		if (r == 0)
			cer_diag_add(d, "tokens.%s: token %s is not present: insert it (or mark it insert: when-needed)",
				     f->tokens[i].id, f->tokens[i].uri);
		present[i] = r;
	}
}

/* Yubico's ykcs11 shows a private key only after login (and its public key under another label):
   a key not seen before login may still be there. It is looked for after login, at run time. */
static int hides_keys_before_login(const tok_info *ti)
{
	return strstr(ti->manufacturer, "Yubico") != NULL || strstr(ti->model, "YubiKey") != NULL;
}

static void check_labels(const cer_file *f, const cer_env *env, cer_diag *d, const int *present,
			 const tok_info *infos)
{
	offca_rc rc;

	for (size_t i = 0; i < f->n_steps; i++) {
		const cer_step *st = &f->steps[i];
		int need_absent = cer_step_makes_key(st->type);
		/* a key made by an earlier step of an aborted run: it must be on the token now */
		int need_present = (st->type == CER_ROOT_CERT || st->type == CER_INT_CERT) &&
				   (st->key_step < 0 || (unsigned)st->key_step + 1 < env->resume_from);

		if (st->index < env->resume_from)
			continue; /* done before the abort */
		if (st->token < 0 || !present[st->token] || (!need_absent && !need_present))
			continue;
		rc = tok_label_exists(env->module, f->tokens[st->token].uri, st->key_label);
		if (need_absent && rc == OFFCA_OK)
			cer_diag_add(d, "steps[%zu].key.label: token %s already holds an object labelled '%s' "
				     "(never overwritten: pick a new label)", i, f->tokens[st->token].id, st->key_label);
		else if (need_present && rc == OFFCA_E_NOT_FOUND && !hides_keys_before_login(&infos[st->token]))
			cer_diag_add(d, "steps[%zu].key.label: no key '%s' on token %s and no earlier step generates it", i,
				     st->key_label, f->tokens[st->token].id);
		else if (rc != OFFCA_OK && rc != OFFCA_E_NOT_FOUND)
			cer_diag_add(d, "steps[%zu].key.label: cannot check token %s: %s", i, f->tokens[st->token].id,
				     ut_err_msg());
	}
}

static void check_outputs(const cer_file *f, const cer_env *env, cer_diag *d)
{
	const char *dir = env->out_dir ? env->out_dir : f->out_dir;
	char path[PATH_MAX];

	if (env->resume_from == 0 && cer_path_join(dir, f->transcript, path, sizeof(path)) == OFFCA_OK &&
	    ut_path_exists(path) == OFFCA_OK)
		cer_diag_add(d, "transcript: %s already exists (never overwritten)", path);
	for (size_t i = env->resume_from ? env->resume_from - 1 : 0; i < f->n_steps; i++)
		for (size_t o = 0; o < f->steps[i].n_out; o++)
			if (cer_path_join(dir, f->steps[i].out[o].path, path, sizeof(path)) == OFFCA_OK &&
			    ut_path_exists(path) == OFFCA_OK)
				cer_diag_add(d, "steps[%zu].outputs.%s: %s already exists (never overwritten)", i,
					     f->steps[i].out[o].key, path);
}

static int needs_store(const cer_file *f)
{
	for (size_t i = 0; i < f->n_steps; i++)
		if (!cer_step_makes_key(f->steps[i].type))
			return 1;
	return 0;
}

static int made_before(const cer_file *f, size_t before, const char *name)
{
	for (size_t j = 0; j < before; j++)
		if (cer_step_makes_ca(f->steps[j].type) && strcmp(f->steps[j].name, name) == 0)
			return 1;
	return 0;
}

static void check_store(const cer_file *f, const cer_env *env, cer_diag *d)
{
	ca_store *st = NULL;
	ca_issuer iss;

	if (!needs_store(f))
		return;
	if (env->home == NULL || env->home[0] == '\0') {
		cer_diag_add(d, "home: the certificate steps record into a CA home: pass --home DIR or set OFFCA_HOME");
		return;
	}
	if (ca_store_open(env->home, 0, &st) != OFFCA_OK) {
		cer_diag_add(d, "home: %s", ut_err_msg());
		return;
	}
	for (size_t i = 0; i < f->n_steps; i++) {
		const cer_step *s = &f->steps[i];
		memset(&iss, 0, sizeof(iss));
		if (s->index < env->resume_from)
			continue; /* done before the abort */
		if (cer_step_makes_ca(s->type) && s->name[0] && ca_store_issuer_get(st, s->name, &iss) == OFFCA_OK)
			cer_diag_add(d, "steps[%zu].name: the CA home already has an issuer '%s'", i, s->name);
		ca_issuer_clear(&iss);
		if (cer_step_uses_issuer(s->type) && s->issuer[0] &&
		    (s->issuer_step < 0 || (unsigned)s->issuer_step + 1 < env->resume_from)) {
			if (ca_store_issuer_get(st, s->issuer, &iss) != OFFCA_OK)
				cer_diag_add(d, "steps[%zu].issuer: no issuer '%s' in the CA home %s", i, s->issuer, env->home);
			else if (iss.key_uri[0] == '\0')
				cer_diag_add(d, "steps[%zu].issuer: '%s' has no key on a token (signed from a CSR)", i, s->issuer);
			ca_issuer_clear(&iss);
		}
		for (size_t k = 0; s->type == CER_OCSP && k < s->n_names; k++) {
			if (made_before(f, i, s->names[k]))
				continue;
			if (ca_store_issuer_get(st, s->names[k], &iss) != OFFCA_OK)
				cer_diag_add(d, "steps[%zu].intermediates[%zu]: no issuer '%s' in the CA home", i, k,
					     s->names[k]);
			ca_issuer_clear(&iss);
		}
	}
	cer_steps_check_nc_store(f, st, d);
	ca_store_free(st);
}

offca_rc cer_file_check_env(const cer_file *f, const cer_env *env, cer_diag *d)
{
	size_t before = cer_diag_count(d);
	int present[CER_MAX_TOKENS] = {0};
	tok_info infos[CER_MAX_TOKENS];

	memset(infos, 0, sizeof(infos));
	if (!env->skip_tokens) {
		check_tokens(f, env, d, present, infos);
		check_labels(f, env, d, present, infos);
	}
	check_outputs(f, env, d);
	if (!env->skip_store)
		check_store(f, env, d);
	if (cer_diag_count(d) > before)
		return ut_err(OFFCA_E_STATE, "%s: %zu problem%s", f->path, cer_diag_count(d) - before,
			      cer_diag_count(d) - before == 1 ? "" : "s");
	return OFFCA_OK;
}
