/*
 * Transcript signatures made with keys held on a SoftHSM2 token (through the token layer and
 * libp11): EC P-256, EC P-384 and RSA-3072, a quorum of officer keys on a second token, and the
 * trusted-certificate check.
 */
#include "test_transcript_fixture.h"

#include "offca/token.h"

static char dir[256], pinfile[512];
static const char *module;

static int setup(void **state)
{
	(void)state;
	module = tu_softhsm_module();
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (chdir(dir) != 0)
		return -1;
	if (module == NULL)
		return 0;
	if (tu_softhsm_token(dir, "ceremony", "246810") != 0)
		return -1;
	/* a second token for the officers, in the same private store */
	if (system("softhsm2-util --init-token --free --label officers --so-pin 12345678 --pin 246810 >/dev/null") != 0)
		return -1;
	snprintf(pinfile, sizeof(pinfile), "%s/pin", dir);
	if (ut_write_file(pinfile, "246810\n", 7, UT_WF_SECRET | UT_WF_EXCL) != OFFCA_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir("/") != 0)
		return -1;
	tu_rmrf(dir);
	return 0;
}

static char *token_gen(const char *token, const char *label, tok_keytype type)
{
	tok_pin_opts opts = {.pin_file = pinfile, .no_prompt = 1};
	char turi[256];
	char *uri = NULL;

	snprintf(turi, sizeof(turi), "pkcs11:token=%s", token);
	fx_ok(tok_keygen(module, turi, label, type, &opts, &uri));
	return uri;
}

static tok_key *token_open(char *uri)
{
	tok_pin_opts opts = {.pin_file = pinfile, .no_prompt = 1};
	tok_key *key = NULL;

	fx_ok(tok_key_open(module, uri, &opts, &key));
	free(uri);
	return key;
}

/*
 * Note: keys are generated first and opened afterwards: tok_keygen() loads and unloads the module,
 * and the unload (C_Finalize) invalidates the sessions of keys that are open at that moment.
 */
static tok_key *token_key(const char *token, const char *label, tok_keytype type)
{
	return token_open(token_gen(token, label, type));
}

/* A certificate for pub, issued by a throwaway software key (only the key matters here). */
static X509 *cert_for(EVP_PKEY *pub, const char *cn)
{
	EVP_PKEY *issuer = fx_key("ec");
	X509 *x = fx_cert(issuer, cn);

	assert_int_equal(X509_set_pubkey(x, pub), 1);
	assert_true(X509_sign(x, issuer, EVP_sha256()) > 0);
	EVP_PKEY_free(issuer);
	return x;
}

static void test_token_signatures(void **state)
{
	static const struct {
		const char *label;
		tok_keytype type;
		const char *alg;
	} keys[] = {{"root-p256", TOK_KEY_EC_P256, "ecdsa-sha256"},
		    {"root-p384", TOK_KEY_EC_P384, "ecdsa-sha384"},
		    {"root-rsa", TOK_KEY_RSA_3072, "rsa-pkcs1-sha256"}};
	cer_verify_result r;
	cer_transcript *t = NULL;
	tok_key *key;
	X509 *cert;
	char path[64], *buf;
	size_t i, len;

	(void)state;
	if (module == NULL)
		skip();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		key = token_key("ceremony", keys[i].label, keys[i].type);
		cert = cert_for(tok_key_public(key), keys[i].label);
		snprintf(path, sizeof(path), "tok-%zu.jsonl", i);
		fx_ok(cer_transcript_create(path, "Token ceremony", NULL, &t));
		fx_ok(cer_transcript_append(t, "1", "key-generated", NULL));
		fx_ok(cer_transcript_finish(t, "completed", NULL));
		fx_ok(cer_transcript_sign(t, "ceremony-key", tok_key_private(key), tok_key_public(key), cert));
		cer_transcript_free(t);
		fx_ok(cer_transcript_verify(path, NULL, 0, cert, &r));
		assert_int_equal(r.signatures, 1);
		assert_int_equal(r.sealed, 1);
		buf = fx_slurp(path, &len);
		assert_non_null(strstr(buf, keys[i].alg));
		free(buf);
		X509_free(cert);
		tok_key_free(key);
	}
}

/* Two of three officers approve a step with their own token keys; each signature is checked. */
static void test_quorum_officers(void **state)
{
	static const char *const names[] = {"alice", "bob", "carol"};
	tok_key *officer[3], *root;
	cer_verify_result r;
	cer_transcript *t = NULL;
	unsigned char head[32];
	json_t *d;
	char signer[64];
	X509 *rootcert, *carolcert;
	size_t i;

	(void)state;
	if (module == NULL)
		skip();
	char *uris[4];

	uris[3] = token_gen("ceremony", "quorum-root", TOK_KEY_EC_P256);
	for (i = 0; i < 3; i++)
		uris[i] = token_gen("officers", names[i], TOK_KEY_EC_P256);
	root = token_open(uris[3]);
	for (i = 0; i < 3; i++)
		officer[i] = token_open(uris[i]);
	rootcert = cert_for(tok_key_public(root), "Quorum Root");
	carolcert = cert_for(tok_key_public(officer[2]), "carol");
	fx_ok(cer_transcript_create("q.jsonl", "Quorum ceremony", NULL, &t));
	d = json_pack("{s:i,s:[s,s,s]}", "required", 2, "officers", "alice", "bob", "carol");
	fx_ok(cer_transcript_append(t, "2", "quorum-required", d));
	json_decref(d);
	/* alice and carol approve the step's hash */
	fx_ok(cer_transcript_head(t, head));
	fx_ok(cer_transcript_sign(t, "officer:alice", tok_key_private(officer[0]), tok_key_public(officer[0]), NULL));
	fx_ok(cer_transcript_sign(t, "officer:carol", tok_key_private(officer[2]), tok_key_public(officer[2]), NULL));
	/* bob's token key with alice's public key: refused, nothing recorded */
	snprintf(signer, sizeof(signer), "officer:%s", names[1]);
	assert_int_not_equal(cer_transcript_sign(t, signer, tok_key_private(officer[1]), tok_key_public(officer[0]), NULL),
			     OFFCA_OK);
	fx_ok(cer_transcript_append(t, "2", "cert-signed", NULL));
	fx_ok(cer_transcript_finish(t, "completed", NULL));
	fx_ok(cer_transcript_sign(t, "ceremony-key", tok_key_private(root), tok_key_public(root), rootcert));
	cer_transcript_free(t);
	fx_ok(cer_transcript_verify("q.jsonl", NULL, 0, rootcert, &r));
	assert_int_equal(r.signatures, 3);
	assert_int_equal(r.entries, 7);
	fx_ok(cer_transcript_verify("q.jsonl", NULL, 0, carolcert, &r));
	X509_free(rootcert);
	X509_free(carolcert);
	tok_key_free(root);
	for (i = 0; i < 3; i++)
		tok_key_free(officer[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_signatures),
		cmocka_unit_test(test_quorum_officers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
