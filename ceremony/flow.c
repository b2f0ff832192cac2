/* flow.c - cer_run(): validate, confirm time and people, walk the steps, seal the transcript. */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offca/config.h"
#include "offca/store.h"
#include "offca/transcript.h"
#include "offca/util.h"

/* Lower-case hex as recorded in the transcript (machine values); people see cer_hex_grouped. */
static void hexs(const unsigned char *p, size_t n, char *buf, size_t cap)
{
	char *h = ut_hex(p, n);

	snprintf(buf, cap, "%s", h ? h : "");
	free(h);
}

static offca_rc confirm_time(cer_run_t *r)
{
	char utc[64], local[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(utc, sizeof(utc), "%Y-%m-%d %H:%M:%S UTC", &tm);
	localtime_r(&now, &tm);
	strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S %Z", &tm);
	cer_say(r, "\nThis machine's clock says: %s (local %s).\n"
		   "Air-gapped clocks drift: compare with a trusted clock (a phone, a watch).\n"
		   "Certificates get their validity from this clock.\n", utc, local);
	offca_rc rc = cer_confirm(r, "time", "Is this date and time correct? Type yes to go on");
	if (rc != OFFCA_OK)
		return rc;
	strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	return cer_log(r, "time-confirmed", json_pack("{s:s}", "system_time", utc));
}

static offca_rc confirm_people(cer_run_t *r)
{
	json_t *w = json_array();
	offca_rc rc;

	cer_say(r, "\nAdministrator: %s\n", r->f->administrator);
	for (size_t i = 0; i < r->f->n_witnesses; i++) {
		cer_say(r, "Witness %zu:     %s\n", i + 1, r->f->witnesses[i]);
		json_array_append_new(w, json_string(r->f->witnesses[i]));
	}
	rc = cer_confirm(r, "people", "Are the administrator and every witness present and identified? Type yes");
	if (rc != OFFCA_OK) {
		json_decref(w);
		return rc;
	}
	return cer_log(r, "operators", json_pack("{s:s, s:o}", "administrator", r->f->administrator, "witnesses", w));
}

/* The key that signs the transcript: transcript-signer, else the first root key, else the issuer
   key of the first step that uses one, else the first generated key. */
static offca_rc pick_signer(cer_run_t *r)
{
	const cer_file *f = r->f;
	const cer_step *st;
	ca_issuer iss;

	if (f->signer_token >= 0)
		return cer_key_uri(&f->tokens[f->signer_token], f->signer_label, NULL, r->signer_uri,
				   sizeof(r->signer_uri)) == OFFCA_OK
			       ? (snprintf(r->signer_who, sizeof(r->signer_who), "%s", f->tokens[f->signer_token].id), OFFCA_OK)
			       : ut_err_last();
	for (size_t i = 0; i < f->n_steps; i++) {
		st = &f->steps[i];
		if ((st->type == CER_ROOT_KEY || st->type == CER_ROOT_CERT) && st->token >= 0) {
			snprintf(r->signer_who, sizeof(r->signer_who), "%s", f->tokens[st->token].id);
			return cer_key_uri(&f->tokens[st->token], st->key_label, NULL, r->signer_uri, sizeof(r->signer_uri));
		}
	}
	for (size_t i = 0; i < f->n_steps; i++) {
		st = &f->steps[i];
		if (!cer_step_uses_issuer(st->type))
			continue;
		if (st->issuer_step >= 0) {
			const cer_step *is = &f->steps[st->issuer_step];
			if (is->token >= 0) {
				snprintf(r->signer_who, sizeof(r->signer_who), "%s", f->tokens[is->token].id);
				return cer_key_uri(&f->tokens[is->token], is->key_label, NULL, r->signer_uri,
						   sizeof(r->signer_uri));
			}
		} else if (r->store != NULL) {
			memset(&iss, 0, sizeof(iss));
			if (ca_store_issuer_get(r->store, st->issuer, &iss) == OFFCA_OK) {
				snprintf(r->signer_uri, sizeof(r->signer_uri), "%s", iss.key_uri);
				snprintf(r->signer_who, sizeof(r->signer_who), "%s", cer_who_for_uri(r, iss.key_uri));
				ca_issuer_clear(&iss);
				return OFFCA_OK;
			}
			ca_issuer_clear(&iss);
		}
	}
	for (size_t i = 0; i < f->n_steps; i++) {
		st = &f->steps[i];
		if (cer_step_makes_key(st->type) && st->token >= 0) {
			snprintf(r->signer_who, sizeof(r->signer_who), "%s", f->tokens[st->token].id);
			return cer_key_uri(&f->tokens[st->token], st->key_label, NULL, r->signer_uri, sizeof(r->signer_uri));
		}
	}
	return ut_err(OFFCA_E_STATE, "no key to sign the transcript with: add transcript-signer");
}

/* One sentence saying what the step will do, in the operator's words. */
static void summary(cer_run_t *r, const cer_step *st)
{
	const char *tok = st->token >= 0 ? r->f->tokens[st->token].id : "";

	switch (st->type) {
	case CER_ROOT_KEY:
	case CER_INT_KEY:
		cer_say(r, "Generate a new %s key '%s' on token '%s' (%s); it never leaves the token.\n",
			tok_keytype_name(st->key_type), st->key_label, tok, r->f->tokens[st->token].uri);
		break;
	case CER_ROOT_CERT:
		cer_say(r, "Self-sign the root certificate \"%s\" with key '%s' on token '%s'; record it as issuer '%s'.\n",
			st->subject, st->key_label, tok, st->name);
		break;
	case CER_INT_CERT:
		cer_say(r, "Issuer '%s' signs the intermediate \"%s\" for key '%s' on token '%s'; record it as '%s'.\n",
			st->issuer, st->subject, st->key_label, tok, st->name);
		break;
	case CER_SIGN_INT_CSR:
		cer_say(r, "Issuer '%s' signs an intermediate for the key in %s; record it as '%s'.\n", st->issuer,
			st->csr, st->name);
		break;
	case CER_CRL:
		cer_say(r, "Issuer '%s' signs its next CRL, valid %u days.\n", st->issuer, st->validity.days);
		break;
	case CER_SIGNING_SESSION:
		cer_say(r, "Issuer '%s' signs %s%s%s with profile %s; you approve each one.\n", st->issuer,
			st->n_csrs ? "the CSR files listed" : "", st->n_csrs && st->pending ? " and " : "",
			st->pending ? "the pending queue" : "", st->profile);
		break;
	case CER_OCSP:
		cer_say(r, "Issuer '%s' pre-signs OCSP responses for %zu intermediate%s, valid %u days.\n", st->issuer,
			st->n_names, st->n_names == 1 ? "" : "s", st->validity.days);
		break;
	default:
		break;
	}
}

static void show_step(cer_run_t *r, const cer_step *st)
{
	char *txt = json_dumps(st->desc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char h[CER_FP_LEN];

	cer_hex_grouped(st->hash, 32, h, sizeof(h));
	cer_say(r, "\n==== Step %u of %zu: %s (%s) ====\n", st->index, r->f->n_steps, st->title,
		cer_step_type_name(st->type));
	summary(r, st);
	cer_say(r, "The step as written in the ceremony file:\n%s\n", txt ? txt : "");
	cer_say(r, "Step %u hash (compare with the reviewed file's PDF): %s\n", st->index, h);
	free(txt);
}

static offca_rc run_step(cer_run_t *r, const cer_step *st)
{
	offca_rc rc;
	char id[32], h[65];

	snprintf(r->step_id, sizeof(r->step_id), "%u", st->index);
	snprintf(r->where, sizeof(r->where), "step %u (%s)", st->index, cer_step_type_name(st->type));
	show_step(r, st);
	hexs(st->hash, 32, h, sizeof(h));
	rc = cer_log(r, "step-start", json_pack("{s:s, s:s, s:s, s:O}", "type", cer_step_type_name(st->type), "title",
					       st->title, "step_sha256", h, "description", st->desc));
	if (rc == OFFCA_OK && st->quorum_m > 0)
		rc = cer_quorum(r, st);
	snprintf(id, sizeof(id), "step%u.confirm", st->index);
	if (rc == OFFCA_OK)
		rc = cer_confirm(r, id, "Go ahead with this step? Type yes");
	if (rc != OFFCA_OK)
		return rc;
	switch (st->type) {
	case CER_ROOT_KEY:
	case CER_INT_KEY: rc = cer_step_key(r, st); break;
	case CER_ROOT_CERT: rc = cer_step_root_cert(r, st); break;
	case CER_INT_CERT:
	case CER_SIGN_INT_CSR: rc = cer_step_int_cert(r, st); break;
	case CER_CRL: rc = cer_step_crl(r, st); break;
	case CER_SIGNING_SESSION: rc = cer_step_session(r, st); break;
	case CER_OCSP: rc = cer_step_ocsp(r, st); break;
	default: rc = ut_err(OFFCA_E_INTERNAL, "unknown step type"); break;
	}
	if (rc == OFFCA_E_LINT) { /* record the failing lint itself, then abort */
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cer_log(r, "lint", json_pack("{s:b, s:s}", "passed", 0, "detail", msg));
		cer_say(r, "  LINT FAILED: %s\n  Nothing was released. If this is intended, name the lint under "
			   "accepted-lints in the ceremony file.\n", msg);
		rc = ut_err(OFFCA_E_LINT, "%s", msg);
	}
	if (rc == OFFCA_OK)
		rc = cer_check_intr(r);
	if (rc == OFFCA_OK)
		rc = cer_release(r);
	if (rc == OFFCA_OK)
		rc = cer_log(r, "step-done", json_pack("{s:s}", "type", cer_step_type_name(st->type)));
	return rc;
}

static offca_rc seal(cer_run_t *r, int completed)
{
	offca_rc rc = OFFCA_OK;
	tok_key *k = NULL;
	unsigned char head[32];
	char h[CER_FP_LEN];

	snprintf(r->step_id, sizeof(r->step_id), "%s", "");
	/* the ceremony key signs; on an abort only if it is already open (no new PIN prompts) */
	if (!completed && r->signer_uri[0])
		k = cer_key_held(r, r->signer_uri);
	if (completed && r->signer_uri[0])
		rc = cer_key_get(r, r->signer_uri, r->signer_who, 0, &k); /* opened by seal_prepare */
	if (rc == OFFCA_OK && k != NULL)
		rc = cer_transcript_sign(r->t, "ceremony-key", tok_key_private(k), tok_key_public(k), NULL);
	for (size_t i = 0; rc == OFFCA_OK && i < r->f->n_officers; i++) {
		char signer[96], uri[TOK_MAX_URI];
		if (!r->approved[i])
			continue;
		snprintf(uri, sizeof(uri), "%s", r->f->officers[i].key_uri);
		k = cer_key_held(r, uri);
		if (k == NULL)
			continue; /* opened by seal_prepare when completed */
		snprintf(signer, sizeof(signer), "officer:%s", r->f->officers[i].name);
		rc = cer_transcript_sign(r->t, signer, tok_key_private(k), tok_key_public(k), NULL);
	}
	if (rc == OFFCA_OK && cer_transcript_head(r->t, head) == OFFCA_OK) {
		cer_hex_grouped(head, 32, h, sizeof(h));
		cer_say(r, "Transcript head (write it on the paper copy): %s\n", h);
	}
	return rc;
}

/* The config, every issuer section naming an issuer of the store or one this ceremony makes. */
static offca_rc load_config(cer_run_t *r)
{
	const char *made[CER_MAX_STEPS];
	size_t n = 0;

	for (size_t i = 0; i < r->f->n_steps; i++)
		if (cer_step_makes_ca(r->f->steps[i].type))
			made[n++] = r->f->steps[i].name;
	return ca_config_load_for_store(r->home, r->store, made, n, &r->cfg);
}

/* Before the "end" entry: the tokens of the keys that sign the transcript are there (one may have
   gone back into the safe) and still logged in, every token check before any key is used (a
   missing token closes the open keys); then the keys are open (normally since their steps: no
   PIN), so any new login is recorded too. */
static offca_rc seal_prepare(cer_run_t *r)
{
	offca_rc rc = OFFCA_OK;
	tok_key *k = NULL;

	snprintf(r->step_id, sizeof(r->step_id), "%s", "");
	snprintf(r->where, sizeof(r->where), "signing the transcript");
	if (r->signer_uri[0] == '\0')
		return OFFCA_OK;
	cer_say(r, "\nSigning the transcript with the ceremony key (%s).\n", r->signer_uri);
	for (size_t i = 0; i < r->f->n_tokens && rc == OFFCA_OK; i++)
		if (strcmp(r->f->tokens[i].id, r->signer_who) == 0)
			rc = cer_token_ready(r, (int)i);
	for (size_t i = 0; rc == OFFCA_OK && i < r->f->n_officers; i++)
		if (r->approved[i])
			rc = cer_wait_uri(r, r->f->officers[i].name, r->f->officers[i].key_uri);
	if (rc == OFFCA_OK)
		rc = cer_key_get(r, r->signer_uri, r->signer_who, 0, &k);
	for (size_t i = 0; rc == OFFCA_OK && i < r->f->n_officers; i++) {
		if (!r->approved[i])
			continue;
		cer_say(r, "Officer %s signs the transcript too.\n", r->f->officers[i].name);
		rc = cer_key_get(r, r->f->officers[i].key_uri, r->f->officers[i].name, 0, &k);
	}
	if (rc == OFFCA_OK)
		rc = cer_audit_checkpoint(r); /* the ceremony ends by signing the CA home's audit head */
	return rc;
}

/* The abort screen: what now exists, what did not happen, what to do next. */
static void abort_screen(cer_run_t *r, unsigned at)
{
	cer_say(r, "\nWhat now exists:\n");
	if (r->n_done == 0)
		cer_say(r, "  nothing: no key was made, nothing was recorded or written (but the transcript)\n");
	for (size_t i = 0; i < r->n_done; i++)
		cer_say(r, "  - %s\n", r->done[i]);
	cer_say(r, "  - the transcript %s/%s (ends \"aborted\")\n", r->out_dir, r->f->transcript);
	cer_say(r, "What did not happen:\n");
	for (size_t i = at > 0 ? at - 1 : 0; i < r->f->n_steps; i++)
		cer_say(r, "  - step %u: %s (%s)%s\n", r->f->steps[i].index, r->f->steps[i].title,
			cer_step_type_name(r->f->steps[i].type), i + 1 == at ? ": nothing of it was released" : "");
	if (at == 0 && r->f->n_steps > 0)
		cer_say(r, "  (no step started)\n");
	cer_say(r, "Next: fix the cause; then, with the same ceremony file (same SHA-256), the same people\n"
		   "  and the tokens at hand:  offca ceremony resume %s/%s%s%s\n"
		   "  continues at the first incomplete step and appends to the same transcript.\n",
		r->out_dir, r->f->transcript, r->home[0] ? " --home " : "", r->home);
}

static void abort_transcript(cer_run_t *r, offca_rc why)
{
	char reason[512];

	snprintf(reason, sizeof(reason), "%s", ut_err_msg());
	cer_unstage(r);
	if (r->t == NULL)
		return;
	cer_say(r, "\n*** ABORTED at %s: %s\n", r->where, reason);
	if (!r->dry_run)
		abort_screen(r, (unsigned)atoi(r->step_id));
	cer_log(r, "abort", json_pack("{s:s, s:s, s:s}", "where", r->where, "reason", reason, "error", ut_strerror(why)));
	snprintf(r->step_id, sizeof(r->step_id), "%s", "");
	cer_transcript_finish(r->t, "aborted", reason);
	seal(r, 0);
	ut_err(why, "%s", reason);
}

static offca_rc prepare(cer_run_t *r, cer_diag *diag)
{
	offca_rc rc;
	cer_env env;
	const char *home = r->opts->home;

	memset(&env, 0, sizeof(env));
	r->module = cer_credentials_module(r->opts->creds);
	if (r->dry_run) {
		/* the file alone first; then the rehearsal tokens and home it needs; then the rest */
		rc = cer_file_load(r->opts->file, diag, &r->f);
		if (rc == OFFCA_OK)
			rc = cer_dry_setup(r);
		if (rc != OFFCA_OK)
			return rc;
		env.module = r->module;
		env.home = r->home;
		env.out_dir = r->out_dir;
		rc = cer_file_check_env(r->f, &env, diag);
	} else {
		/* every problem of the file and of the world, before any token is used */
		env.module = r->module;
		env.home = home;
		env.resume_from = r->resume_from;
		rc = cer_file_validate(r->opts->file, &env, diag, &r->f);
		if (rc == OFFCA_OK) {
			snprintf(r->out_dir, sizeof(r->out_dir), "%s", r->f->out_dir);
			snprintf(r->home, sizeof(r->home), "%s", home ? home : "");
		}
	}
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < r->f->n_steps; i++)
		if (!cer_step_makes_key(r->f->steps[i].type)) {
			rc = ca_store_open(r->home, 0, &r->store);
			if (rc == OFFCA_OK)
				rc = load_config(r);
			if (rc != OFFCA_OK)
				return rc;
			break;
		}
	rc = ut_mkdir_p(r->out_dir, 0700);
	if (rc == OFFCA_OK)
		rc = pick_signer(r);
	return rc;
}

/* Free everything; a dry run's throwaway tokens are deleted once the keys are closed (its outputs
   stay when a transcript was started). Errors: those of cer_dry_cleanup(). */
static offca_rc cleanup(cer_run_t *r)
{
	int started = r->t != NULL;

	cer_unstage(r);
	cer_keys_close(r, NULL);
	for (size_t i = 0; i < CER_MAX_OFFICERS; i++)
		EVP_PKEY_free(r->officer_pub[i]);
	cer_transcript_free(r->t);
	ca_store_free(r->store);
	ca_config_free(r->cfg);
	cer_file_free(r->f);
	return cer_dry_cleanup(r, started);
}

offca_rc cer_run(const cer_run_opts *opts, cer_diag *diag, cer_run_result *res)
{
	offca_rc rc;
	cer_run_t *r = NULL;
	char tpath[PATH_MAX], name[CER_MAX_STR + 16], fsha[CER_FP_LEN];
	unsigned done = 0;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	r->opts = opts;
	r->dry_run = opts->dry_run;
	snprintf(r->where, sizeof(r->where), "validation");
	if (opts->resume != NULL) {
		char named[PATH_MAX];
		if (opts->dry_run) {
			rc = ut_err(OFFCA_E_USAGE, "a dry run is never resumed: rehearse again from the start");
			goto out;
		}
		rc = cer_transcript_resume_point(opts->resume, named, sizeof(named), &r->resume_from);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = prepare(r, diag);
	if (rc != OFFCA_OK)
		goto out;
	if (opts->resume != NULL) {
		snprintf(tpath, sizeof(tpath), "%s", opts->resume);
		rc = cer_transcript_resume(tpath, opts->file, r->resume_from, &r->t);
	} else {
		rc = cer_path_join(r->out_dir, r->f->transcript, tpath, sizeof(tpath));
		snprintf(name, sizeof(name), "%s%s", r->f->name, r->dry_run ? " (DRY RUN)" : "");
		if (rc == OFFCA_OK)
			rc = cer_transcript_create(tpath, name, opts->file, &r->t);
	}
	if (rc != OFFCA_OK)
		goto out;
	if (res != NULL) {
		snprintf(res->transcript, sizeof(res->transcript), "%s", tpath);
		snprintf(res->out_dir, sizeof(res->out_dir), "%s", r->out_dir);
	}
	snprintf(r->where, sizeof(r->where), "the start");
	cer_hex_grouped(r->f->sha256, 32, fsha, sizeof(fsha));
	cer_say(r, "\nCeremony: %s%s\nFile: %s\nFile SHA-256 (compare with the reviewed file's PDF): %s\n"
		   "Steps: %zu   Outputs: %s   Transcript: %s\n",
		r->f->name, r->dry_run ? "   *** DRY RUN on throwaway SoftHSM2 tokens ***" : "", opts->file, fsha,
		r->f->n_steps, r->out_dir, tpath);
	if (r->dry_run)
		cer_say(r, "Dry run: every rehearsal token's PIN is %s; nothing real is touched (%s).\n", CER_DRY_PIN,
			r->dry_dir);
	if (r->resume_from > 0)
		cer_say(r, "RESUMING the aborted ceremony at step %u of %zu (steps before it were done and recorded; "
			   "this run appends to the same transcript).\n", r->resume_from, r->f->n_steps);
	rc = cer_log(r, "mode", json_pack("{s:b, s:s, s:s, s:s}", "dry_run", r->dry_run, "output_dir", r->out_dir, "home",
					   r->home, "note",
					   r->dry_run ? "rehearsal: throwaway SoftHSM2 tokens with the same labels, rehearsal "
							"officer keys instead of the enrolled ones, temporary CA home"
						      : "real ceremony"));
	if (rc == OFFCA_OK)
		rc = confirm_time(r);
	if (rc == OFFCA_OK)
		rc = confirm_people(r);
	for (size_t i = r->resume_from ? r->resume_from - 1 : 0; rc == OFFCA_OK && i < r->f->n_steps; i++) {
		rc = run_step(r, &r->f->steps[i]);
		if (rc == OFFCA_OK)
			done++;
	}
	if (rc != OFFCA_OK) {
		abort_transcript(r, rc == OFFCA_E_ABORTED ? OFFCA_E_ABORTED : rc);
		rc = ut_err_last();
		if (res != NULL)
			snprintf(res->status, sizeof(res->status), "aborted");
		goto out;
	}
	rc = seal_prepare(r);
	if (rc != OFFCA_OK) {
		abort_transcript(r, rc);
		rc = ut_err_last();
		if (res != NULL)
			snprintf(res->status, sizeof(res->status), "aborted");
		goto out;
	}
	snprintf(r->where, sizeof(r->where), "the end");
	rc = cer_transcript_finish(r->t, "completed", NULL);
	if (rc == OFFCA_OK)
		rc = seal(r, 1);
	if (rc != OFFCA_OK)
		goto out;
	if (res != NULL)
		snprintf(res->status, sizeof(res->status), "completed");
	cer_say(r, "\nCeremony completed: %u step%s. Outputs in %s\n", done, done == 1 ? "" : "s", r->out_dir);
out:
	if (res != NULL)
		res->steps_done = done;
	if (rc != OFFCA_OK) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		cleanup(r);
		rc = ut_err(rc, "%s", msg);
	} else {
		rc = cleanup(r);
	}
	free(r);
	return rc;
}
