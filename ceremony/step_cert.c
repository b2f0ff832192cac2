/* step_cert.c - root-cert, intermediate-cert and sign-intermediate-csr. */
#include "ceremony_int.h"

#include <openssl/x509v3.h> /* before offca/csr.h */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/csr.h"
#include "offca/lint.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

static unsigned days_of(const cer_step *st)
{
	int64_t now = (int64_t)time(NULL);

	if (st->validity.not_after != 0)
		return st->validity.not_after > now ? (unsigned)((st->validity.not_after - now + 86399) / 86400) : 0;
	return st->validity.days;
}

static void ca_spec(cer_run_t *r, const cer_step *st, const X509_NAME *dn, const char *key_uri,
		    const ca_lint_opts *lo, char *source, size_t cap, ca_ca_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	snprintf(source, cap, "ceremony %.80s step %u%s", r->f->name, st->index, r->dry_run ? " (dry run)" : "");
	spec->name = st->name;
	spec->subject = dn;
	spec->days = days_of(st);
	spec->path_len = st->path_len;
	spec->permit_dns = (const char *const *)st->permit_dns;
	spec->n_permit_dns = st->n_permit_dns;
	spec->key_uri = key_uri;
	spec->source = source;
	spec->lint = lo;
}

static offca_rc lint_passed(cer_run_t *r, const cer_step *st)
{
	json_t *acc = json_array();

	for (size_t i = 0; i < st->n_accepted_lints; i++)
		json_array_append_new(acc, json_string(st->accepted_lints[i]));
	cer_say(r, "  Signature verified with the public key read back from the token; lint passed.\n");
	cer_log(r, "signature-verified", json_pack("{s:s, s:s}", "object", "certificate", "with",
						   "the public key read back from the token"));
	return cer_log(r, "lint", json_pack("{s:s, s:b, s:o}", "object", "certificate", "passed", 1, "accepted", acc));
}

/* Show the new CA certificate (core recorded it and its issuer) and stage it for release. */
static offca_rc finish_ca(cer_run_t *r, const cer_step *st, const unsigned char *der, size_t der_len, int is_root)
{
	offca_rc rc;
	X509 *cert = NULL;
	char *pem = NULL;
	size_t pem_len = 0;

	rc = ca_x509_from_der(der, der_len, &cert);
	if (rc == OFFCA_OK)
		rc = lint_passed(r, st);
	if (rc == OFFCA_OK)
		rc = cer_log(r, "issuer-recorded", json_pack("{s:s, s:s}", "name", st->name, "parent",
							     is_root ? "" : st->issuer));
	if (rc == OFFCA_OK)
		rc = cer_show_cert(r, is_root ? "Root certificate" : "Intermediate certificate", cert);
	if (rc == OFFCA_OK)
		cer_show_ca_details(r, cert);
	if (rc == OFFCA_OK)
		rc = cer_cert_pem(cert, &pem, &pem_len);
	if (rc == OFFCA_OK)
		rc = cer_stage(r, st->out[0].path, pem, pem_len);
	free(pem);
	X509_free(cert);
	return rc;
}

offca_rc cer_step_root_cert(cer_run_t *r, const cer_step *st)
{
	const cer_token *tk = &r->f->tokens[st->token];
	char uri[TOK_MAX_URI];
	X509_NAME *dn = NULL;
	ca_ca_spec spec;
	ca_lint_opts lo;
	char source[128];
	unsigned char *der = NULL;
	size_t der_len = 0;
	tok_key *key = NULL;
	offca_rc rc;

	rc = ca_x509_parse_dn(st->subject, &dn);
	if (rc == OFFCA_OK)
		rc = cer_token_ready(r, st->token);
	if (rc == OFFCA_OK)
		rc = cer_key_uri(tk, st->key_label, NULL, uri, sizeof(uri));
	if (rc == OFFCA_OK)
		rc = cer_key_get(r, uri, tk->id, 0, &key);
	if (rc != OFFCA_OK)
		goto out;
	cer_lint_opts(st, &lo);
	ca_spec(r, st, dn, tok_key_uri(key), &lo, source, sizeof(source), &spec);
	cer_say(r, "  Building, signing on the token, verifying and linting the root certificate...\n");
	rc = cer_check_intr(r);
	if (rc == OFFCA_OK)
		rc = ca_sign_root(r->store, &spec, tok_key_private(key), tok_key_public(key), &der, &der_len);
	if (rc == OFFCA_OK)
		rc = finish_ca(r, st, der, der_len, 1);
out:
	OPENSSL_free(der);
	X509_NAME_free(dn);
	return rc;
}

offca_rc cer_step_int_cert(cer_run_t *r, const cer_step *st)
{
	cer_issuer_ctx ic;
	char uri[TOK_MAX_URI];
	X509_NAME *dn = NULL;
	ca_csr *csr = NULL;
	ca_ca_spec spec;
	ca_lint_opts lo;
	char source[128];
	unsigned char *der = NULL;
	size_t der_len = 0;
	tok_key *key = NULL;
	EVP_PKEY *subject_key = NULL;
	const char *key_uri = "";
	offca_rc rc;

	memset(&ic, 0, sizeof(ic));
	/* every token check before any key is used: a missing token closes the open keys (flow_tokens.c) */
	if (st->type == CER_INT_CERT) {
		rc = cer_token_ready(r, st->token);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = cer_issuer_prepare(r, st, &ic);
	if (rc != OFFCA_OK)
		goto out;
	if (st->type == CER_SIGN_INT_CSR) {
		rc = ca_csr_load(st->csr, &csr);
		if (rc != OFFCA_OK)
			goto out;
		subject_key = ca_csr_pubkey(csr);
		if (st->subject[0])
			rc = ca_x509_parse_dn(st->subject, &dn);
		else
			dn = X509_NAME_dup(X509_REQ_get_subject_name(ca_csr_req(csr)));
		if (rc == OFFCA_OK && dn == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		if (rc != OFFCA_OK)
			goto out;
		char fp[128], *pem = NULL;
		size_t pl = 0;
		if (cer_pubkey_pem(subject_key, &pem, &pl, fp, sizeof(fp)) == OFFCA_OK) {
			char subj[512];
			if (ca_x509_name_text(dn, subj, sizeof(subj)) != OFFCA_OK)
				snprintf(subj, sizeof(subj), "(unprintable subject)");
			cer_say(r, "  CSR %s\n    subject  %s\n    key SHA-256 %s\n", st->csr, subj, fp);
			cer_log(r, "csr", json_pack("{s:s, s:s, s:s}", "file", st->csr, "subject", subj, "spki_sha256", fp));
		}
		free(pem);
		cer_log(r, "attestation", json_pack("{s:s, s:s}", "status", "none", "reason",
						    "the key lives elsewhere (signed from a CSR): no attestation"));
	} else {
		const cer_token *tk = &r->f->tokens[st->token];
		rc = ca_x509_parse_dn(st->subject, &dn);
		if (rc == OFFCA_OK)
			rc = cer_key_uri(tk, st->key_label, NULL, uri, sizeof(uri));
		if (rc == OFFCA_OK)
			rc = cer_key_get(r, uri, tk->id, 0, &key);
		if (rc != OFFCA_OK)
			goto out;
		subject_key = tok_key_public(key);
		key_uri = tok_key_uri(key);
		/* attestation is checked before the root signs the intermediate key */
		rc = cer_attest_record(r, st, st->token, key_uri, subject_key, strcmp(st->attestation, "required") == 0);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = cer_issuer_key(r, &ic);
	if (rc != OFFCA_OK)
		goto out;
	cer_lint_opts(st, &lo);
	ca_spec(r, st, dn, key_uri, &lo, source, sizeof(source), &spec);
	cer_say(r, "  Building, signing with '%s' on its token, verifying and linting...\n", ic.name);
	rc = cer_check_intr(r);
	if (rc == OFFCA_OK)
		rc = ca_sign_intermediate(r->store, ic.signer, &spec, subject_key, &der, &der_len);
	if (rc == OFFCA_OK)
		rc = finish_ca(r, st, der, der_len, 0);
out:
	cer_issuer_close(&ic);
	OPENSSL_free(der);
	X509_NAME_free(dn);
	ca_csr_free(csr);
	return rc;
}
