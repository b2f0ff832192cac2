/* step_key.c - root-key / intermediate-key: generate the key on the token, record its public key. */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

struct gen_arg {
	const cer_step *st;
	const cer_token *tk;
	char *uri;
	tok_key *key;
};

static offca_rc gen_cb(cer_run_t *r, const char *pin, void *arg)
{
	struct gen_arg *a = arg;
	tok_pin_opts po;
	offca_rc rc;

	memset(&po, 0, sizeof(po));
	po.pin_value = pin;
	po.no_prompt = 1;
	if (a->uri == NULL) {
		cer_say(r, "  Generating a %s key '%s' on token '%s' (this can take a while)...\n",
			tok_keytype_name(a->st->key_type), a->st->key_label, a->tk->id);
		rc = tok_keygen(r->module, a->tk->uri, a->st->key_label, a->st->key_type, &po, &a->uri);
		if (rc != OFFCA_OK)
			return rc;
	}
	return tok_key_open(r->module, a->uri, &po, &a->key);
}

/* PEM of the SPKI and its SHA-256 fingerprint. */
offca_rc cer_pubkey_pem(EVP_PKEY *pub, char **pem, size_t *pem_len, char *fp, size_t fp_cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	char *p = NULL;
	long n;
	int dn;

	*pem = NULL;
	if (b == NULL || PEM_write_bio_PUBKEY(b, pub) != 1) {
		BIO_free(b);
		return ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the public key");
	}
	n = BIO_get_mem_data(b, &p);
	*pem = malloc((size_t)n + 1);
	if (*pem == NULL) {
		BIO_free(b);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(*pem, p, (size_t)n);
	(*pem)[n] = '\0';
	*pem_len = (size_t)n;
	BIO_free(b);
	dn = i2d_PUBKEY(pub, &der);
	if (dn > 0)
		cer_fingerprint(der, (size_t)dn, fp, fp_cap);
	OPENSSL_free(der);
	return OFFCA_OK;
}

offca_rc cer_step_key(cer_run_t *r, const cer_step *st)
{
	const cer_token *tk = &r->f->tokens[st->token];
	struct gen_arg a = {st, tk, NULL, NULL};
	char fp[128];
	char *pem = NULL;
	size_t pem_len = 0;
	offca_rc rc;

	rc = cer_token_ready(r, st->token);
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_check_intr(r);
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_pin_loop(r, tk->id, 0, gen_cb, &a);
	if (rc != OFFCA_OK && a.uri != NULL) {
		/* the key exists on the token now: record it before anything else happens */
		cer_log(r, "key-generated", json_pack("{s:s, s:s, s:s, s:s}", "label", st->key_label, "type",
						      tok_keytype_name(st->key_type), "uri", a.uri, "note",
						      "generated, but opening it failed"));
		goto out;
	}
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_keep_key(r, tk->id, a.key);
	a.key = NULL;
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_pubkey_pem(tok_key_public(r->keys[r->n_keys - 1].key), &pem, &pem_len, fp, sizeof(fp));
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_log(r, "key-generated",
		     json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "label", st->key_label, "type",
			       tok_keytype_name(st->key_type), "token", tk->id, "uri", a.uri, "spki_sha256", fp,
			       "public_key", pem));
	if (rc != OFFCA_OK)
		goto out;
	cer_say(r, "\n  Key generated on token '%s': %s\n  Public key SHA-256: %s\n", tk->id, a.uri, fp);
	if (st->type == CER_INT_KEY) {
		rc = cer_attest_record(r, st, st->token, a.uri, tok_key_public(r->keys[r->n_keys - 1].key),
				       strcmp(st->attestation, "required") == 0);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = cer_stage(r, st->out[0].path, pem, pem_len);
out:
	free(pem);
	free(a.uri);
	tok_key_free(a.key);
	return rc;
}
