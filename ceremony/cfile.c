/* cfile.c - load a ceremony file and validate its top level (people, tokens, officers, steps). */
#include "ceremony_int.h"

#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

static const char *const top_fields[] = {"version", "name", "description", "output-dir", "transcript",
					 "administrator", "witnesses", "tokens", "officers",
					 "transcript-signer", "steps", NULL};

const char *const cer_step_type_names[] = {"root-key", "root-cert", "intermediate-key", "intermediate-cert",
					   "sign-intermediate-csr", "crl", "signing-session", "ocsp-responses",
					   NULL};

const char *cer_step_type_name(cer_step_type t)
{
	return t < CER_STEP__COUNT ? cer_step_type_names[t] : "?";
}

int cer_step_makes_key(cer_step_type t)
{
	return t == CER_ROOT_KEY || t == CER_INT_KEY;
}

int cer_step_makes_ca(cer_step_type t)
{
	return t == CER_ROOT_CERT || t == CER_INT_CERT || t == CER_SIGN_INT_CSR;
}

int cer_step_uses_issuer(cer_step_type t)
{
	return t == CER_INT_CERT || t == CER_SIGN_INT_CSR || t == CER_CRL || t == CER_SIGNING_SESSION ||
	       t == CER_OCSP;
}

static int valid_id(const char *s)
{
	if (s[0] == '\0')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

/* touch: always | cached | never (default: what the key's attestation says). */
static void parse_touch(cer_diag *d, json_t *t, const char *path, cer_token *tk)
{
	char touch[16];
	tok_touch_mode m;

	tk->touch = -1;
	if (!cer_f_str(d, t, path, "touch", 0, touch, sizeof(touch)))
		return;
	if (tok_touch_mode_parse(touch, &m) != OFFCA_OK)
		cer_diag_add(d, "%s.touch: must be one of always, cached, never", path);
	else
		tk->touch = (int)m;
}

static void parse_tokens(cer_file *f, json_t *doc, cer_diag *d)
{
	json_t *toks = cer_f_obj(d, doc, "", "tokens", 1), *t;
	static const char *const fields[] = {"uri", "description", "insert", "touch", "touch-timeout", NULL};
	const char *id;
	char path[160], insert[32];
	long long tmo;
	tok_uri *u = NULL;

	if (toks == NULL)
		return;
	if (json_object_size(toks) == 0)
		cer_diag_add(d, "tokens: needs at least one token");
	json_object_foreach(toks, id, t) {
		cer_token *tk;
		snprintf(path, sizeof(path), "tokens.%s", id);
		if (f->n_tokens >= CER_MAX_TOKENS) {
			cer_diag_add(d, "tokens: more than %u tokens", CER_MAX_TOKENS);
			break;
		}
		if (!valid_id(id) || strlen(id) >= CER_NAME_LEN) {
			cer_diag_add(d, "%s: a token id is letters, digits, '-', '_', '.' (max %d)", path, CER_NAME_LEN - 1);
			continue;
		}
		if (!json_is_object(t)) {
			cer_diag_add(d, "%s: must be a mapping with uri", path);
			continue;
		}
		tk = &f->tokens[f->n_tokens++];
		snprintf(tk->id, sizeof(tk->id), "%s", id);
		cer_f_unknown(d, t, path, fields);
		cer_f_str(d, t, path, "description", 0, tk->description, sizeof(tk->description));
		if (cer_f_str(d, t, path, "insert", 0, insert, sizeof(insert))) {
			if (strcmp(insert, "when-needed") == 0)
				tk->when_needed = 1;
			else if (strcmp(insert, "at-start") != 0)
				cer_diag_add(d, "%s.insert: must be one of at-start, when-needed", path);
		}
		parse_touch(d, t, path, tk);
		if (cer_f_int(d, t, path, "touch-timeout", 0, 1, TOK_TOUCH_TIMEOUT_MAX, &tmo))
			tk->touch_timeout = (unsigned)tmo;
		if (!cer_f_str(d, t, path, "uri", 1, tk->uri, sizeof(tk->uri)))
			continue;
		if (tok_uri_parse(tk->uri, &u) != OFFCA_OK) {
			cer_diag_add(d, "%s.uri: %s", path, ut_err_msg());
			continue;
		}
		if (tok_uri_get(u, "token") == NULL && tok_uri_get(u, "serial") == NULL)
			cer_diag_add(d, "%s.uri: must name the token (token= or serial=)", path);
		if (tok_uri_get(u, "object") != NULL || tok_uri_id(u, &(size_t){0}) != NULL)
			cer_diag_add(d, "%s.uri: names a token, not a key: drop object=/id= (steps name the key label)", path);
		if (tok_uri_get(u, "pin-source") != NULL)
			cer_diag_add(d, "%s.uri: pin-source does not belong in a ceremony file: use --credentials", path);
		snprintf(tk->label, sizeof(tk->label), "%s", tok_uri_get(u, "token") ? tok_uri_get(u, "token") : "");
		snprintf(tk->serial, sizeof(tk->serial), "%s", tok_uri_get(u, "serial") ? tok_uri_get(u, "serial") : "");
		tok_uri_free(u);
		u = NULL;
	}
}

static void check_pubkey_file(cer_diag *d, const char *path, const char *file, int is_cert)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;

	if (ut_read_file(file, UT_MAX_CERT_FILE, 0, &buf, &len) != OFFCA_OK) {
		cer_diag_add(d, "%s: %s", path, ut_err_msg());
		return;
	}
	b = BIO_new_mem_buf(buf, (int)len);
	if (b != NULL && is_cert)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	else if (b != NULL)
		pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (pk == NULL && x == NULL)
		cer_diag_add(d, "%s: %s is not a PEM %s", path, file, is_cert ? "certificate" : "public key");
	X509_free(x);
	EVP_PKEY_free(pk);
	BIO_free(b);
	free(buf);
}

static void parse_officers(cer_file *f, json_t *doc, cer_diag *d)
{
	json_t *offs = cer_f_obj(d, doc, "", "officers", 0), *o;
	static const char *const fields[] = {"key", "public-key", "certificate", NULL};
	const char *name;
	char path[160], rel[PATH_MAX], fpath[200];

	if (offs == NULL)
		return;
	json_object_foreach(offs, name, o) {
		cer_officer *of;
		int has_pk, has_cert;
		snprintf(path, sizeof(path), "officers.%s", name);
		if (f->n_officers >= CER_MAX_OFFICERS) {
			cer_diag_add(d, "officers: more than %u officers", CER_MAX_OFFICERS);
			break;
		}
		if (!valid_id(name) || strlen(name) >= CER_NAME_LEN) {
			cer_diag_add(d, "%s: an officer name is letters, digits, '-', '_', '.'", path);
			continue;
		}
		if (!json_is_object(o)) {
			cer_diag_add(d, "%s: must be a mapping with key and public-key or certificate", path);
			continue;
		}
		of = &f->officers[f->n_officers++];
		snprintf(of->name, sizeof(of->name), "%s", name);
		cer_f_unknown(d, o, path, fields);
		if (cer_f_str(d, o, path, "key", 1, of->key_uri, sizeof(of->key_uri))) {
			tok_uri *u = NULL;
			if (tok_uri_parse(of->key_uri, &u) != OFFCA_OK)
				cer_diag_add(d, "%s.key: %s", path, ut_err_msg());
			else if (tok_uri_get(u, "object") == NULL && tok_uri_id(u, &(size_t){0}) == NULL)
				cer_diag_add(d, "%s.key: must name the officer's key (object= or id=)", path);
			tok_uri_free(u);
		}
		has_pk = json_object_get(o, "public-key") != NULL;
		has_cert = json_object_get(o, "certificate") != NULL;
		if (has_pk == has_cert) {
			cer_diag_add(d, "%s: give exactly one of public-key or certificate (the enrolled key)", path);
			continue;
		}
		of->is_cert = has_cert;
		if (!cer_f_str(d, o, path, has_cert ? "certificate" : "public-key", 1, rel, sizeof(rel)))
			continue;
		if (cer_path_join(f->dir, rel, of->pubkey_file, sizeof(of->pubkey_file)) != OFFCA_OK) {
			cer_diag_add(d, "%s: path too long", path);
			continue;
		}
		snprintf(fpath, sizeof(fpath), "%s.%s", path, has_cert ? "certificate" : "public-key");
		check_pubkey_file(d, fpath, of->pubkey_file, has_cert);
	}
}

static void parse_signer(cer_file *f, json_t *doc, cer_diag *d)
{
	static const char *const fields[] = {"token", "label", NULL};
	json_t *s = cer_f_obj(d, doc, "", "transcript-signer", 0);
	char tok[CER_NAME_LEN];

	f->signer_token = -1;
	if (s == NULL)
		return;
	cer_f_unknown(d, s, "transcript-signer", fields);
	cer_f_str(d, s, "transcript-signer", "label", 1, f->signer_label, sizeof(f->signer_label));
	if (cer_f_str(d, s, "transcript-signer", "token", 1, tok, sizeof(tok))) {
		for (size_t i = 0; i < f->n_tokens; i++)
			if (strcmp(f->tokens[i].id, tok) == 0)
				f->signer_token = (int)i;
		if (f->signer_token < 0)
			cer_diag_add(d, "transcript-signer.token: no token '%s' under tokens", tok);
	}
}

static void parse_top(cer_file *f, json_t *doc, cer_diag *d)
{
	long long version = 0;
	json_t *steps, *st;
	size_t i;
	char desc[CER_MAX_STR];

	cer_f_unknown(d, doc, "", top_fields);
	if (cer_f_int(d, doc, "", "version", 1, 1, 1000, &version) && version != 1)
		cer_diag_add(d, "version: must be 1 (this offca reads version 1 ceremony files)");
	cer_f_str(d, doc, "", "name", 1, f->name, sizeof(f->name));
	cer_f_str(d, doc, "", "description", 0, desc, sizeof(desc));
	cer_f_str(d, doc, "", "output-dir", 1, f->out_dir, sizeof(f->out_dir));
	if (!cer_f_str(d, doc, "", "transcript", 0, f->transcript, sizeof(f->transcript)))
		snprintf(f->transcript, sizeof(f->transcript), "transcript.jsonl");
	if (strchr(f->transcript, '/') != NULL)
		cer_diag_add(d, "transcript: a file name inside output-dir, without '/'");
	cer_f_str(d, doc, "", "administrator", 1, f->administrator, sizeof(f->administrator));
	cer_f_strv(d, doc, "", "witnesses", 1, 1, &f->witnesses, &f->n_witnesses);
	parse_tokens(f, doc, d);
	parse_officers(f, doc, d);
	parse_signer(f, doc, d);
	steps = json_object_get(doc, "steps");
	if (steps == NULL) {
		cer_diag_add(d, "steps: missing (required)");
		return;
	}
	if (!json_is_array(steps) || json_array_size(steps) == 0) {
		cer_diag_add(d, "steps: must be a non-empty list of steps");
		return;
	}
	if (json_array_size(steps) > CER_MAX_STEPS) {
		cer_diag_add(d, "steps: more than %u steps", CER_MAX_STEPS);
		return;
	}
	json_array_foreach(steps, i, st) {
		cer_step_parse(f, i, st, d, &f->steps[i]);
		f->n_steps = i + 1;
	}
	cer_steps_check(f, d);
	cer_steps_check_nc(f, d);
}

static offca_rc load(const char *path, cer_diag *d, int keep_partial, cer_file **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	unsigned char *buf = NULL;
	size_t len = 0, before = cer_diag_count(d);
	cer_file *f = NULL;
	json_t *doc = NULL;
	char tmp[PATH_MAX];

	*out = NULL;
	rc = ut_read_file(path, CER_MAX_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK) {
		cer_diag_add(d, "%s", ut_err_msg());
		goto out;
	}
	rc = cer_yaml_to_json((const char *)buf, len, path, &doc);
	if (rc != OFFCA_OK) {
		cer_diag_add(d, "%s", ut_err_msg());
		goto out;
	}
	if (!json_is_object(doc)) {
		cer_diag_add(d, "%s: the top level must be a mapping (version, name, tokens, steps, ...)", path);
		rc = ut_err(OFFCA_E_PARSE, "%s: not a ceremony file", path);
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	EVP_Digest(buf, len, f->sha256, NULL, EVP_sha256(), NULL); /* the bytes parsed */
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(f->dir, sizeof(f->dir), "%s", dirname(tmp));
	f->doc = doc;
	doc = NULL;
	parse_top(f, f->doc, d);
	if (cer_diag_count(d) > before) {
		rc = ut_err(OFFCA_E_PARSE, "%s: %zu problem%s", path, cer_diag_count(d) - before,
			    cer_diag_count(d) - before == 1 ? "" : "s");
		if (keep_partial) {
			*out = f;
			f = NULL;
		}
		goto out;
	}
	*out = f;
	f = NULL;
	rc = OFFCA_OK;
out:
	cer_file_free(f);
	json_decref(doc);
	free(buf);
	return rc;
}

offca_rc cer_file_load(const char *path, cer_diag *d, cer_file **out)
{
	return load(path, d, 0, out);
}

offca_rc cer_file_validate(const char *path, const cer_env *env, cer_diag *d, cer_file **out)
{
	offca_rc rc, erc;
	cer_file *f = NULL;

	*out = NULL;
	rc = load(path, d, 1, &f);
	if (f == NULL)
		return rc;
	erc = cer_file_check_env(f, env, d);
	if (rc == OFFCA_OK && erc == OFFCA_OK) {
		*out = f;
		return OFFCA_OK;
	}
	cer_file_free(f);
	return ut_err(rc != OFFCA_OK ? rc : erc, "%s: %zu problem%s", path, cer_diag_count(d),
		      cer_diag_count(d) == 1 ? "" : "s");
}

void cer_file_free(cer_file *f)
{
	if (f == NULL)
		return;
	cer_strv_free(f->witnesses, f->n_witnesses);
	for (size_t i = 0; i < f->n_steps; i++) {
		cer_step *s = &f->steps[i];
		json_decref(s->desc);
		cer_strv_free(s->permit_dns, s->n_permit_dns);
		cer_strv_free(s->accepted_lints, s->n_accepted_lints);
		cer_strv_free(s->csrs, s->n_csrs);
		cer_strv_free(s->names, s->n_names);
	}
	json_decref(f->doc);
	free(f);
}

const char *cer_file_name(const cer_file *f)
{
	return f->name;
}
