/* cfile_steps.c - validate each step of a ceremony file and the references between steps. */
#include "ceremony_int.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h> /* before offca/csr.h, which uses GENERAL_NAMES */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/util.h"
#include "offca/x509.h"

#define MAX_DAYS 36500

/* Allowed fields per type (besides type, title, quorum). */
static const char *const f_key[] = {"type", "title", "quorum", "token", "key", "outputs", NULL};
static const char *const f_int_key[] = {"type", "title", "quorum", "token", "key", "attestation",
					"attestation-root", "outputs", NULL};
static const char *const f_root_cert[] = {"type", "title", "quorum", "token", "key", "name", "subject",
					  "validity", "path-len", "accepted-lints", "outputs", NULL};
static const char *const f_int_cert[] = {"type", "title", "quorum", "issuer", "token", "key", "name",
					 "subject", "validity", "path-len", "permit-dns", "attestation",
					 "attestation-files", "attestation-root", "accepted-lints", "outputs", NULL};
static const char *const f_csr[] = {"type", "title", "quorum", "issuer", "csr", "name", "subject", "validity",
				    "path-len", "permit-dns", "accepted-lints", "outputs", NULL};
static const char *const f_crl[] = {"type", "title", "quorum", "issuer", "next-update-days", "accepted-lints",
				    "outputs", NULL};
static const char *const f_session[] = {"type", "title", "quorum", "issuer", "profile", "days", "csrs",
					"pending", "accepted-lints", "outputs", NULL};
static const char *const f_ocsp[] = {"type", "title", "quorum", "issuer", "intermediates", "validity-days",
				     "accepted-lints", "outputs", NULL};

static const char *const *fields_of(cer_step_type t)
{
	switch (t) {
	case CER_ROOT_KEY: return f_key;
	case CER_INT_KEY: return f_int_key;
	case CER_ROOT_CERT: return f_root_cert;
	case CER_INT_CERT: return f_int_cert;
	case CER_SIGN_INT_CSR: return f_csr;
	case CER_CRL: return f_crl;
	case CER_SIGNING_SESSION: return f_session;
	default: return f_ocsp;
	}
}

/* Output keys per type: required first, then optional; NULL ends. */
static void outputs_of(cer_step_type t, const char **req, const char **opt)
{
	*opt = NULL;
	switch (t) {
	case CER_ROOT_KEY:
	case CER_INT_KEY: *req = "public-key"; break;
	case CER_CRL: *req = "crl"; *opt = "bundle"; break;
	case CER_SIGNING_SESSION:
	case CER_OCSP: *req = "directory"; break;
	default: *req = "certificate"; break;
	}
}

static int find_token(const cer_file *f, const char *id)
{
	for (size_t i = 0; i < f->n_tokens; i++)
		if (strcmp(f->tokens[i].id, id) == 0)
			return (int)i;
	return -1;
}

static void parse_outputs(cer_step *st, json_t *obj, const char *path, cer_diag *d)
{
	const char *req, *opt, *key;
	const char *fields[3];
	json_t *o, *v;
	char p[128];

	outputs_of(st->type, &req, &opt);
	fields[0] = req;
	fields[1] = opt;
	fields[2] = NULL;
	snprintf(p, sizeof(p), "%s.outputs", path);
	o = cer_f_obj(d, obj, path, "outputs", 1);
	if (o == NULL)
		return;
	cer_f_unknown(d, o, p, fields);
	json_object_foreach(o, key, v) {
		cer_output *out;
		if (st->n_out >= CER_MAX_OUTPUTS || (strcmp(key, req) != 0 && (opt == NULL || strcmp(key, opt) != 0)))
			continue;
		out = &st->out[st->n_out];
		if (!cer_f_str(d, o, p, key, 1, out->path, sizeof(out->path)))
			continue;
		if (out->path[0] == '/' || strstr(out->path, "..") != NULL) {
			cer_diag_add(d, "%s.%s: a relative path inside output-dir, without '..'", p, key);
			continue;
		}
		snprintf(out->key, sizeof(out->key), "%s", key);
		st->n_out++;
	}
	if (json_object_get(o, req) == NULL)
		cer_diag_add(d, "%s.%s: missing (required)", p, req);
}

static void parse_key(cer_file *f, cer_step *st, json_t *obj, const char *path, cer_diag *d, int gen)
{
	static const char *const kf_gen[] = {"label", "type", NULL};
	static const char *const kf_use[] = {"label", "type", NULL}; /* type: a message of its own */
	char p[128], tok[CER_NAME_LEN], type[32];
	json_t *k;

	st->token = -1;
	if (cer_f_str(d, obj, path, "token", 1, tok, sizeof(tok))) {
		st->token = find_token(f, tok);
		if (st->token < 0)
			cer_diag_add(d, "%s.token: no token '%s' under tokens", path, tok);
	}
	snprintf(p, sizeof(p), "%s.key", path);
	k = cer_f_obj(d, obj, path, "key", 1);
	if (k == NULL)
		return;
	cer_f_unknown(d, k, p, gen ? kf_gen : kf_use);
	cer_f_str(d, k, p, "label", 1, st->key_label, sizeof(st->key_label));
	if (gen && cer_f_str(d, k, p, "type", 1, type, sizeof(type)) &&
	    tok_keytype_parse(type, &st->key_type) != OFFCA_OK)
		cer_diag_add(d, "%s.type: must be one of ec-p256, ec-p384, rsa-3072, rsa-4096, ed25519", p);
	else if (!gen && json_object_get(k, "type") != NULL)
		cer_diag_add(d, "%s.type: the key already exists; its type comes from the key", p);
}

/* validity: {days: N} or {not-after: RFC 3339 UTC}; certificates start at the moment of signing
   (the core backdates by a few minutes for clock skew). */
static void parse_validity(cer_step *st, json_t *obj, const char *path, cer_diag *d, time_t now)
{
	static const char *const vf[] = {"days", "not-after", NULL};
	char p[128], na[64];
	long long days = 0;
	int has_na, has_days;
	json_t *v;

	snprintf(p, sizeof(p), "%s.validity", path);
	v = cer_f_obj(d, obj, path, "validity", 1);
	if (v == NULL)
		return;
	cer_f_unknown(d, v, p, vf);
	has_days = cer_f_int(d, v, p, "days", 0, 1, MAX_DAYS, &days);
	has_na = cer_f_str(d, v, p, "not-after", 0, na, sizeof(na));
	if (has_na && cer_parse_time(na, &st->validity.not_after) != 0) {
		cer_diag_add(d, "%s.not-after: must be RFC 3339 UTC like 2046-01-01T00:00:00Z", p);
		return;
	}
	if (!has_days && !has_na && json_object_get(v, "days") == NULL && json_object_get(v, "not-after") == NULL) {
		cer_diag_add(d, "%s: give days or not-after", p);
		return;
	}
	if (json_object_get(v, "days") != NULL && json_object_get(v, "not-after") != NULL) {
		cer_diag_add(d, "%s: give days or not-after, not both", p);
		return;
	}
	st->validity.days = (unsigned)days;
	if (has_na) {
		if (st->validity.not_after <= (int64_t)now)
			cer_diag_add(d, "%s: impossible validity: not-after %s is not after now", p, na);
		else if (st->validity.not_after - (int64_t)now > (int64_t)MAX_DAYS * 86400)
			cer_diag_add(d, "%s: impossible validity: longer than %d days", p, MAX_DAYS);
		st->abs_not_after = st->validity.not_after;
	} else if (has_days) {
		st->abs_not_after = (int64_t)now + (int64_t)days * 86400;
	}
}

static void parse_quorum(cer_file *f, cer_step *st, json_t *obj, const char *path, cer_diag *d)
{
	static const char *const qf[] = {"required", "officers", NULL};
	char p[128];
	char **names = NULL;
	size_t n = 0;
	long long m = 0;
	json_t *q;

	snprintf(p, sizeof(p), "%s.quorum", path);
	q = cer_f_obj(d, obj, path, "quorum", 0);
	if (q == NULL)
		return;
	cer_f_unknown(d, q, p, qf);
	cer_f_int(d, q, p, "required", 1, 1, CER_MAX_OFFICERS, &m);
	if (cer_f_strv(d, q, p, "officers", 1, 1, &names, &n)) {
		for (size_t i = 0; i < n && i < CER_MAX_OFFICERS; i++) {
			int found = -1;
			for (size_t j = 0; j < f->n_officers; j++)
				if (strcmp(f->officers[j].name, names[i]) == 0)
					found = (int)j;
			if (found < 0)
				cer_diag_add(d, "%s.officers[%zu]: no officer '%s' under officers", p, i, names[i]);
			else
				st->quorum_officers[st->n_quorum++] = found;
		}
		if (m > 0 && (size_t)m > n)
			cer_diag_add(d, "%s.required: %lld approvals required but only %zu officers listed", p, m, n);
	}
	st->quorum_m = (unsigned)m;
	cer_strv_free(names, n);
}

/* attestation-files: {certificate, device, ca}: exported during the ceremony (yubico-piv-tool
   -a attest / -a read-certificate -s f9), so they need not exist yet at validation. */
static void parse_attest_files(cer_file *f, cer_step *st, json_t *obj, const char *path, cer_diag *d)
{
	static const char *const af[] = {"certificate", "device", "ca", NULL};
	char p[128], rel[PATH_MAX];
	json_t *a;

	snprintf(p, sizeof(p), "%s.attestation-files", path);
	a = cer_f_obj(d, obj, path, "attestation-files", 0);
	if (a == NULL)
		return;
	cer_f_unknown(d, a, p, af);
	if (cer_f_str(d, a, p, "certificate", 1, rel, sizeof(rel)))
		cer_path_join(f->dir, rel, st->attest_cert, sizeof(st->attest_cert));
	if (cer_f_str(d, a, p, "device", 1, rel, sizeof(rel)))
		cer_path_join(f->dir, rel, st->attest_device, sizeof(st->attest_device));
	if (cer_f_str(d, a, p, "ca", 0, rel, sizeof(rel)))
		cer_path_join(f->dir, rel, st->attest_ca, sizeof(st->attest_ca));
}

/* attestation (if-available | required) and attestation-root (the PIV attestation CA the device
   certificate must chain to: read and checked now, it never comes from the token). */
static void parse_attestation(cer_file *f, cer_step *st, json_t *obj, const char *path, cer_diag *d)
{
	char att[16], rel[PATH_MAX];

	snprintf(st->attestation, sizeof(st->attestation), "if-available");
	if (cer_f_str(d, obj, path, "attestation", 0, att, sizeof(att))) {
		if (strcmp(att, "required") != 0 && strcmp(att, "if-available") != 0)
			cer_diag_add(d, "%s.attestation: must be one of if-available, required", path);
		else
			snprintf(st->attestation, sizeof(st->attestation), "%s", att);
	}
	if (cer_f_str(d, obj, path, "attestation-root", 0, rel, sizeof(rel))) {
		if (cer_path_join(f->dir, rel, st->attest_root, sizeof(st->attest_root)) != OFFCA_OK ||
		    ut_path_exists(st->attest_root) != OFFCA_OK)
			cer_diag_add(d, "%s.attestation-root: %s does not exist", path, rel);
		else if (cer_attest_check_root(st->attest_root) != OFFCA_OK)
			cer_diag_add(d, "%s.attestation-root: %s", path,
				     ut_err_msg() + (strncmp(ut_err_msg(), "attestation: ", 13) == 0 ? 13 : 0));
	}
	if (st->type == CER_INT_CERT)
		parse_attest_files(f, st, obj, path, d);
	/* read from the token, the chain is anchored only by the file the ceremony names */
	if (strcmp(st->attestation, "required") == 0 && st->attest_cert[0] == '\0' && st->attest_root[0] == '\0')
		cer_diag_add(d, "%s.attestation-root: missing (attestation: required reads the attestation from the "
			     "token and needs the PIV attestation CA to check it against)", path);
}

static void check_csr(cer_diag *d, const char *path, const char *what, const char *file)
{
	ca_csr *csr = NULL;

	if (ca_csr_load(file, &csr) != OFFCA_OK)
		cer_diag_add(d, "%s.%s: %s", path, what, ut_err_msg());
	ca_csr_free(csr);
}

static void parse_type_fields(cer_file *f, cer_step *st, json_t *obj, const char *path, cer_diag *d)
{
	long long v = 0;
	char rel[PATH_MAX];
	time_t now = time(NULL);

	st->path_len = -1;
	if (cer_step_uses_issuer(st->type))
		cer_f_str(d, obj, path, "issuer", 1, st->issuer, sizeof(st->issuer));
	if (cer_step_makes_ca(st->type)) {
		cer_f_str(d, obj, path, "name", 1, st->name, sizeof(st->name));
		cer_f_str(d, obj, path, "subject", st->type != CER_SIGN_INT_CSR, st->subject, sizeof(st->subject));
		if (st->subject[0] != '\0') {
			X509_NAME *dn = NULL;
			if (ca_x509_parse_dn(st->subject, &dn) != OFFCA_OK)
				cer_diag_add(d, "%s.subject: %s", path, ut_err_msg());
			X509_NAME_free(dn);
		}
		parse_validity(st, obj, path, d, now);
		if (cer_f_int(d, obj, path, "path-len", 0, 0, 16, &v))
			st->path_len = (int)v;
	}
	if ((st->type == CER_INT_CERT || st->type == CER_SIGN_INT_CSR) &&
	    cer_f_strv(d, obj, path, "permit-dns", 0, 1, &st->permit_dns, &st->n_permit_dns)) {
		for (size_t i = 0; i < st->n_permit_dns; i++)
			if (ca_policy_dns_syntax(st->permit_dns[i], strlen(st->permit_dns[i])) != OFFCA_OK)
				cer_diag_add(d, "%s.permit-dns[%zu]: %s", path, i, ut_err_msg());
	}
	if (st->type != CER_ROOT_KEY && st->type != CER_INT_KEY)
		cer_f_strv(d, obj, path, "accepted-lints", 0, 0, &st->accepted_lints, &st->n_accepted_lints);
	switch (st->type) {
	case CER_ROOT_KEY:
	case CER_INT_KEY:
		parse_key(f, st, obj, path, d, 1);
		if (st->type == CER_INT_KEY)
			parse_attestation(f, st, obj, path, d);
		break;
	case CER_ROOT_CERT:
		parse_key(f, st, obj, path, d, 0);
		break;
	case CER_INT_CERT:
		parse_key(f, st, obj, path, d, 0);
		parse_attestation(f, st, obj, path, d);
		break;
	case CER_SIGN_INT_CSR:
		if (cer_f_str(d, obj, path, "csr", 1, rel, sizeof(rel))) {
			if (cer_path_join(f->dir, rel, st->csr, sizeof(st->csr)) != OFFCA_OK ||
			    ut_path_exists(st->csr) != OFFCA_OK)
				cer_diag_add(d, "%s.csr: %s does not exist", path, rel);
			else
				check_csr(d, path, "csr", st->csr);
		}
		break;
	case CER_CRL:
		if (cer_f_int(d, obj, path, "next-update-days", 1, 1, 366, &v))
			st->validity.days = (unsigned)v;
		break;
	case CER_SIGNING_SESSION:
		if (cer_f_str(d, obj, path, "profile", 1, st->profile, sizeof(st->profile)) &&
		    strcmp(st->profile, "server") != 0 && strcmp(st->profile, "client") != 0 &&
		    strcmp(st->profile, "mtls") != 0)
			cer_diag_add(d, "%s.profile: must be one of server, client, mtls", path);
		if (cer_f_int(d, obj, path, "days", 0, 1, 397, &v))
			st->validity.days = (unsigned)v;
		cer_f_bool(d, obj, path, "pending", &st->pending);
		if (cer_f_strv(d, obj, path, "csrs", 0, 1, &st->csrs, &st->n_csrs)) {
			for (size_t i = 0; i < st->n_csrs; i++) {
				char full[PATH_MAX];
				if (cer_path_join(f->dir, st->csrs[i], full, sizeof(full)) != OFFCA_OK ||
				    ut_path_exists(full) != OFFCA_OK) {
					cer_diag_add(d, "%s.csrs[%zu]: %s does not exist", path, i, st->csrs[i]);
					continue;
				}
				free(st->csrs[i]);
				st->csrs[i] = strdup(full);
				if (st->csrs[i] != NULL) {
					char what[32];
					snprintf(what, sizeof(what), "csrs[%zu]", i);
					check_csr(d, path, what, st->csrs[i]);
				}
			}
		}
		if (st->n_csrs == 0 && !st->pending && json_object_get(obj, "csrs") == NULL)
			cer_diag_add(d, "%s: give csrs (files) and/or pending: true (the store's queue)", path);
		break;
	case CER_OCSP:
		cer_f_strv(d, obj, path, "intermediates", 1, 1, &st->names, &st->n_names);
		if (cer_f_int(d, obj, path, "validity-days", 1, 1, 366, &v))
			st->validity.days = (unsigned)v;
		break;
	default:
		break;
	}
	parse_outputs(st, obj, path, d);
	parse_quorum(f, st, obj, path, d);
}

static void step_hash(const cer_file *f, cer_step *st)
{
	json_t *j = json_pack("{s:s, s:I, s:O}", "ceremony", f->name, "step", (json_int_t)st->index, "description",
			      st->desc);
	char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (txt != NULL)
		EVP_Digest(txt, strlen(txt), st->hash, NULL, EVP_sha256(), NULL);
	free(txt);
	json_decref(j);
}

void cer_step_parse(cer_file *f, size_t i, json_t *obj, cer_diag *d, cer_step *st)
{
	char path[64], type[64];
	int t = -1;

	memset(st, 0, sizeof(*st));
	st->index = (unsigned)i + 1;
	st->token = -1;
	st->key_step = -1;
	st->issuer_step = -1;
	st->path_len = -1;
	snprintf(path, sizeof(path), "steps[%zu]", i);
	if (!json_is_object(obj)) {
		cer_diag_add(d, "%s: must be a mapping with a type", path);
		return;
	}
	st->desc = json_deep_copy(obj);
	if (!cer_f_str(d, obj, path, "type", 1, type, sizeof(type)))
		return;
	for (int k = 0; cer_step_type_names[k] != NULL; k++)
		if (strcmp(cer_step_type_names[k], type) == 0)
			t = k;
	if (t < 0) {
		cer_diag_add(d, "%s.type: must be one of root-key, root-cert, intermediate-key, intermediate-cert, "
			     "sign-intermediate-csr, crl, signing-session, ocsp-responses", path);
		return;
	}
	st->type = (cer_step_type)t;
	cer_f_unknown(d, obj, path, fields_of(st->type));
	if (!cer_f_str(d, obj, path, "title", 0, st->title, sizeof(st->title)))
		snprintf(st->title, sizeof(st->title), "%s", type);
	parse_type_fields(f, st, obj, path, d);
	step_hash(f, st);
}

/* ---- references between steps ---- */

static int find_key_step(const cer_file *f, size_t before, int token, const char *label)
{
	for (size_t j = 0; j < before; j++)
		if (cer_step_makes_key(f->steps[j].type) && f->steps[j].token == token &&
		    strcmp(f->steps[j].key_label, label) == 0)
			return (int)j;
	return -1;
}

static int find_ca_step(const cer_file *f, size_t before, const char *name)
{
	for (size_t j = 0; j < before; j++)
		if (cer_step_makes_ca(f->steps[j].type) && strcmp(f->steps[j].name, name) == 0)
			return (int)j;
	return -1;
}

void cer_steps_check(cer_file *f, cer_diag *d)
{
	for (size_t i = 0; i < f->n_steps; i++) {
		cer_step *st = &f->steps[i];
		if (st->desc == NULL)
			continue;
		if (cer_step_makes_key(st->type) && st->token >= 0 && st->key_label[0] &&
		    find_key_step(f, i, st->token, st->key_label) >= 0)
			cer_diag_add(d, "steps[%zu].key.label: '%s' is generated twice on token %s", i, st->key_label,
				     f->tokens[st->token].id);
		if ((st->type == CER_ROOT_CERT || st->type == CER_INT_CERT) && st->token >= 0 && st->key_label[0])
			st->key_step = find_key_step(f, i, st->token, st->key_label);
		if (st->type == CER_ROOT_CERT && st->key_step >= 0 && f->steps[st->key_step].type != CER_ROOT_KEY)
			cer_diag_add(d, "steps[%zu].key: '%s' was generated by an intermediate-key step", i,
				     st->key_label);
		if (st->type == CER_INT_CERT && st->key_step >= 0 && f->steps[st->key_step].type != CER_INT_KEY)
			cer_diag_add(d, "steps[%zu].key: '%s' was generated by a root-key step", i, st->key_label);
		if (cer_step_makes_ca(st->type) && st->name[0] && find_ca_step(f, i, st->name) >= 0)
			cer_diag_add(d, "steps[%zu].name: CA name '%s' is already made by an earlier step", i, st->name);
		if (cer_step_uses_issuer(st->type) && st->issuer[0]) {
			st->issuer_step = find_ca_step(f, i, st->issuer);
			for (size_t j = i + 1; st->issuer_step < 0 && j < f->n_steps; j++)
				if (cer_step_makes_ca(f->steps[j].type) && strcmp(f->steps[j].name, st->issuer) == 0)
					cer_diag_add(d, "steps[%zu].issuer: '%s' is made by a later step", i, st->issuer);
			if (strcmp(st->issuer, st->name) == 0)
				cer_diag_add(d, "steps[%zu].issuer: a CA cannot issue itself here (use root-cert)", i);
		}
		if (st->issuer_step >= 0 && st->abs_not_after != 0 && f->steps[st->issuer_step].abs_not_after != 0 &&
		    st->abs_not_after > f->steps[st->issuer_step].abs_not_after)
			cer_diag_add(d, "steps[%zu].validity: impossible validity: ends after its issuer '%s' (steps[%d])", i,
				     st->issuer, st->issuer_step);
		if (st->type == CER_OCSP) {
			for (size_t k = 0; k < st->n_names; k++) {
				int s = find_ca_step(f, i, st->names[k]);
				if (s >= 0 && f->steps[s].type == CER_ROOT_CERT)
					cer_diag_add(d, "steps[%zu].intermediates[%zu]: '%s' is a root", i, k, st->names[k]);
			}
		}
		for (size_t o = 0; o < st->n_out; o++) {
			if (strcmp(st->out[o].path, f->transcript) == 0)
				cer_diag_add(d, "steps[%zu].outputs.%s: same file as the transcript", i, st->out[o].key);
			for (size_t j = 0; j <= i; j++)
				for (size_t p = 0; p < f->steps[j].n_out; p++)
					if ((j < i || p < o) && strcmp(f->steps[j].out[p].path, st->out[o].path) == 0)
						cer_diag_add(d, "steps[%zu].outputs.%s: %s is also an output of steps[%zu]", i,
							     st->out[o].key, st->out[o].path, j);
		}
	}
}
