/*
 * Unit tests for the token layer against a real SoftHSM2 token in a private store: keygen, the
 * key's attributes read back through raw PKCS#11 (sensitive, never extractable, value unreadable),
 * signing through the EVP_PKEY (X509_sign) verifying with the public key, many signatures after
 * one login, signing from a second thread, two keys open at once, PIN errors, missing things.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

#include "offca/token.h"
#include "offca/util.h"

#define PIN "123456"

static char dir[256];
static const char *module;
static char *uri_ec, *uri_rsa;
static const tok_pin_opts pin_ok = {NULL, PIN, 1};

static int setup(void **state)
{
	(void)state;
	module = tu_softhsm_module();
	if (module == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (tu_softhsm_token(dir, "unit", PIN) != 0 || tu_softhsm_token(dir, "other", PIN) != 0)
		return -1;
	unsetenv("OFFCA_PKCS11_MODULE");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(uri_ec);
	free(uri_rsa);
	if (dir[0] != '\0')
		tu_rmrf(dir);
	return 0;
}

static void test_list(void **state)
{
	tok_ctx *ctx = NULL;
	tok_info *v = NULL;
	size_t n = 0, found = 0;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(tok_ctx_open(module, &ctx), OFFCA_OK);
	assert_string_equal(tok_ctx_module(ctx), module);
	assert_int_equal(tok_list(ctx, &v, &n), OFFCA_OK);
	assert_true(n >= 3); /* unit, other, and SoftHSM2's free slot */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].label, "unit") != 0)
			continue;
		found++;
		assert_true(v[i].present && v[i].initialized && v[i].login_required);
		assert_string_equal(v[i].manufacturer, "SoftHSM project");
		assert_true(strlen(v[i].serial) > 0);
		assert_false(v[i].user_pin_locked);
	}
	assert_int_equal(found, 1);
	free(v);
	tok_ctx_free(ctx);
	assert_int_equal(tok_ctx_open("/nonexistent/module.so", &ctx), OFFCA_E_MODULE);
	assert_null(ctx);
}

static void test_keygen(void **state)
{
	char *dup = NULL;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(tok_keygen(module, "pkcs11:token=unit", "ec-root", TOK_KEY_EC_P256, &pin_ok, &uri_ec), OFFCA_OK);
	assert_non_null(strstr(uri_ec, "pkcs11:token=unit;id=%"));
	assert_non_null(strstr(uri_ec, ";object=ec-root;type=private"));
	assert_int_equal(tok_keygen(module, "pkcs11:token=unit", "rsa-root", TOK_KEY_RSA_3072, &pin_ok, &uri_rsa),
			 OFFCA_OK);
	/* the label is taken now */
	assert_int_equal(tok_label_exists(module, "pkcs11:token=unit", "ec-root"), OFFCA_OK);
	assert_int_equal(tok_label_exists(module, "pkcs11:token=unit", "nothing"), OFFCA_E_NOT_FOUND);
	assert_int_equal(tok_keygen(module, "pkcs11:token=unit", "ec-root", TOK_KEY_EC_P384, &pin_ok, &dup),
			 OFFCA_E_EXISTS);
	assert_null(dup);
	assert_int_equal(tok_keygen(module, "pkcs11:token=unit", "", TOK_KEY_EC_P384, &pin_ok, &dup), OFFCA_E_USAGE);
}

/* Read the private key's attributes with raw PKCS#11 (no offca code involved). */
static void check_raw_attributes(const char *label, CK_ATTRIBUTE_TYPE secret_type)
{
	void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	CK_C_GetFunctionList getfl;
	CK_FUNCTION_LIST *f = NULL;
	CK_SLOT_ID slots[8];
	CK_ULONG ns = 8, found = 0;
	CK_SESSION_HANDLE s = 0;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE o;
	CK_BBOOL sens = 0, extr = 1, never = 0, tok = 0, priv = 0;
	CK_ATTRIBUTE a[] = {{CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &extr, 1}, {CKA_NEVER_EXTRACTABLE, &never, 1},
			    {CKA_TOKEN, &tok, 1},      {CKA_PRIVATE, &priv, 1}};
	unsigned char val[1024];
	CK_ATTRIBUTE secret = {secret_type, val, sizeof(val)};
	CK_RV rv;
	int opened = 0;

	assert_non_null(dl);
	*(void **)&getfl = dlsym(dl, "C_GetFunctionList");
	assert_int_equal(getfl(&f), CKR_OK);
	rv = f->C_Initialize(NULL);
	assert_true(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(f->C_GetSlotList(CK_TRUE, slots, &ns), CKR_OK);
	for (CK_ULONG i = 0; i < ns && !opened; i++) {
		CK_TOKEN_INFO ti;

		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && memcmp(ti.label, "unit ", 5) == 0) {
			assert_int_equal(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
			opened = 1;
		}
	}
	assert_true(opened);
	assert_int_equal(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 6), CKR_OK);
	assert_int_equal(f->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &o, 1, &found), CKR_OK);
	f->C_FindObjectsFinal(s);
	assert_int_equal(found, 1);
	assert_int_equal(f->C_GetAttributeValue(s, o, a, 5), CKR_OK);
	assert_true(sens);
	assert_false(extr);
	assert_true(never);
	assert_true(tok);
	assert_true(priv);
	/* the secret value itself cannot be read */
	rv = f->C_GetAttributeValue(s, o, &secret, 1);
	assert_int_equal(rv, CKR_ATTRIBUTE_SENSITIVE);
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	dlclose(dl);
}

static void test_attributes(void **state)
{
	(void)state;
	if (module == NULL)
		skip();
	check_raw_attributes("ec-root", CKA_VALUE);
	check_raw_attributes("rsa-root", CKA_PRIVATE_EXPONENT);
}

/* A small self-signed certificate signed on the token; returns 1 if it verifies with pub. */
static int sign_and_verify(EVP_PKEY *priv, EVP_PKEY *pub)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	int ok;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"unit root", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pub);
	ok = X509_sign(x, priv, EVP_sha256()) > 0 && X509_verify(x, pub) == 1;
	X509_NAME_free(n);
	X509_free(x);
	return ok;
}

static void test_sign_verify(void **state)
{
	tok_key *k = NULL;
	char *fp = NULL, *pem = NULL;
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(tok_key_open(module, uri_ec, &pin_ok, &k), OFFCA_OK);
	assert_string_equal(tok_key_uri(k), uri_ec);
	assert_string_equal(tok_key_token_label(k), "unit");
	assert_string_equal(tok_key_label(k), "ec-root");
	assert_true(strlen(tok_key_token_serial(k)) > 0);
	assert_int_equal(EVP_PKEY_get_base_id(tok_key_public(k)), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(tok_key_public(k)), 256);
	/* many signatures after one login */
	for (int i = 0; i < 20; i++)
		assert_true(sign_and_verify(tok_key_private(k), tok_key_public(k)));
	assert_int_equal(tok_key_selftest(k), OFFCA_OK);
	/* the fingerprint is SHA-256 over the DER SPKI */
	assert_int_equal(tok_pubkey_fingerprint(tok_key_public(k), &fp), OFFCA_OK);
	len = i2d_PUBKEY(tok_key_public(k), &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	{
		char *want = ut_hex(md, mdlen);

		assert_string_equal(fp, want);
		free(want);
	}
	assert_int_equal(tok_pubkey_pem(tok_key_public(k), &pem), OFFCA_OK);
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	OPENSSL_free(der);
	free(fp);
	free(pem);
	tok_key_free(k);

	k = NULL;
	assert_int_equal(tok_key_open(module, uri_rsa, &pin_ok, &k), OFFCA_OK);
	assert_int_equal(EVP_PKEY_get_base_id(tok_key_public(k)), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(tok_key_public(k)), 3072);
	assert_true(sign_and_verify(tok_key_private(k), tok_key_public(k)));
	tok_key_free(k);
	tok_key_free(NULL);
}

static void *sign_thread(void *arg)
{
	tok_key *k = arg;
	int ok = 1;

	for (int i = 0; i < 10; i++)
		ok &= sign_and_verify(tok_key_private(k), tok_key_public(k));
	return ok ? arg : NULL;
}

static void test_second_thread_and_two_keys(void **state)
{
	tok_key *a = NULL, *b = NULL;
	pthread_t th;
	void *res = NULL;

	(void)state;
	if (module == NULL)
		skip();
	char real[4096];

	assert_non_null(realpath(module, real)); /* another name of the same library (symlink) */
	assert_int_equal(tok_key_open(module, uri_ec, &pin_ok, &a), OFFCA_OK);
	assert_int_equal(tok_key_open(real, uri_rsa, &pin_ok, &b), OFFCA_OK);
	/* the core signs in a second thread */
	assert_int_equal(pthread_create(&th, NULL, sign_thread, a), 0);
	assert_int_equal(pthread_join(th, &res), 0);
	assert_ptr_equal(res, a);
	/* waiting, listing labels and generating on the same module leave open keys working */
	{
		tok_arrival arr;
		char *u3 = NULL;

		assert_int_equal(tok_wait(module, "pkcs11:token=unit", 1, &arr), OFFCA_OK);
		assert_int_equal(tok_label_exists(module, "pkcs11:token=unit", "ec-root"), OFFCA_OK);
		assert_int_equal(tok_keygen(module, "pkcs11:token=other", "third", TOK_KEY_EC_P384, &pin_ok, &u3),
				 OFFCA_OK);
		free(u3);
		assert_true(sign_and_verify(tok_key_private(a), tok_key_public(a)));
		assert_true(sign_and_verify(tok_key_private(b), tok_key_public(b)));
	}
	/* freeing one key must not finalise the module under the other */
	tok_key_free(a);
	assert_true(sign_and_verify(tok_key_private(b), tok_key_public(b)));
	tok_key_free(b);
}

static void test_errors(void **state)
{
	tok_key *k = NULL;
	tok_pin_opts wrong = {NULL, "000000", 1}, none = {NULL, NULL, 1};
	char uri[512];

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(tok_key_open(module, uri_ec, &wrong, &k), OFFCA_E_PIN_INCORRECT);
	assert_null(k);
	assert_non_null(strstr(ut_err_msg(), "wrong PIN"));
	assert_int_equal(tok_key_open(module, uri_ec, &none, &k), OFFCA_E_USAGE);
	assert_non_null(strstr(ut_err_msg(), "--pin-file"));
	assert_int_equal(tok_key_open(module, "pkcs11:token=absent;object=ec-root", &pin_ok, &k), OFFCA_E_TOKEN_ABSENT);
	assert_int_equal(tok_key_open(module, "pkcs11:token=unit;object=nope", &pin_ok, &k), OFFCA_E_NOT_FOUND);
	assert_int_equal(tok_key_open(module, "pkcs11:token=other;object=ec-root", &pin_ok, &k), OFFCA_E_NOT_FOUND);
	assert_int_equal(tok_key_open(module, "pkcs11:object=ec-root", &pin_ok, &k), OFFCA_E_USAGE); /* 2 tokens */
	assert_int_equal(tok_key_open(module, "pkcs11:token=unit;object=ec-root?pin-value=1", &pin_ok, &k),
			 OFFCA_E_PARSE);
	assert_int_equal(tok_key_open("/nonexistent.so", uri_ec, &pin_ok, &k), OFFCA_E_MODULE);
	/* tokens named by serial or slot-id instead of label */
	{
		char serial[17];
		tok_ctx *ctx = NULL;
		tok_info *v = NULL;
		size_t n = 0;
		unsigned long sid = 0;

		assert_int_equal(tok_key_open(module, uri_ec, &pin_ok, &k), OFFCA_OK);
		snprintf(serial, sizeof(serial), "%s", tok_key_token_serial(k));
		tok_key_free(k);
		k = NULL;
		snprintf(uri, sizeof(uri), "pkcs11:serial=%s;object=ec-root", serial);
		assert_int_equal(tok_key_open(module, uri, &pin_ok, &k), OFFCA_OK);
		assert_string_equal(tok_key_token_label(k), "unit");
		tok_key_free(k);
		k = NULL;
		assert_int_equal(tok_ctx_open(module, &ctx), OFFCA_OK);
		assert_int_equal(tok_list(ctx, &v, &n), OFFCA_OK);
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i].label, "unit") == 0)
				sid = v[i].slot_id;
		free(v);
		tok_ctx_free(ctx);
		snprintf(uri, sizeof(uri), "pkcs11:slot-id=%lu;object=ec-root", sid);
		assert_int_equal(tok_key_open(module, uri, &pin_ok, &k), OFFCA_OK);
		tok_key_free(k);
		k = NULL;
		assert_int_equal(tok_key_open(module, "pkcs11:serial=0000;object=ec-root", &pin_ok, &k),
				 OFFCA_E_TOKEN_ABSENT);
	}
	/* a PIN file named in the URI */
	snprintf(uri, sizeof(uri), "%s?pin-source=file:%s/nope.pin", uri_ec, dir);
	assert_int_equal(tok_key_open(module, uri, NULL, &k), OFFCA_E_NOT_FOUND);
	assert_null(k);
}

/* A key that needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE, like YubiKey PIV 9c). */
static void test_always_authenticate(void **state)
{
	tok_key *k = NULL;
	tok_pin_opts from_file = {NULL, NULL, 1};
	char cmd[1024], pinfile[512];
	FILE *f;

	(void)state;
	if (module == NULL || system("command -v pkcs11-tool >/dev/null 2>&1") != 0)
		skip();
	snprintf(cmd, sizeof(cmd),
		 "pkcs11-tool --module '%s' --token-label other --login --pin " PIN " --keypairgen --key-type "
		 "EC:prime256v1 --label always --id 0a0b --always-auth --sensitive >/dev/null 2>&1",
		 module);
	assert_int_equal(system(cmd), 0);
	/* PIN handed over in memory: kept (locked) for the key's lifetime */
	assert_int_equal(tok_key_open(module, "pkcs11:token=other;object=always", &pin_ok, &k), OFFCA_OK);
	for (int i = 0; i < 3; i++)
		assert_true(sign_and_verify(tok_key_private(k), tok_key_public(k)));
	tok_key_free(k);
	/* PIN file: read again for every signature */
	snprintf(pinfile, sizeof(pinfile), "%s/always.pin", dir);
	f = fopen(pinfile, "w");
	assert_non_null(f);
	fputs(PIN "\n", f);
	fclose(f);
	chmod(pinfile, 0600);
	from_file.pin_file = pinfile;
	k = NULL;
	assert_int_equal(tok_key_open(module, "pkcs11:token=other;id=%0a%0b", &from_file, &k), OFFCA_OK);
	assert_true(sign_and_verify(tok_key_private(k), tok_key_public(k)));
	assert_int_equal(tok_key_selftest(k), OFFCA_OK);
	/* the file is read again for each signature: a wrong PIN there fails that signature clearly */
	f = fopen(pinfile, "w");
	assert_non_null(f);
	fputs("000000\n", f);
	fclose(f);
	assert_false(sign_and_verify(tok_key_private(k), tok_key_public(k)));
	assert_int_equal(tok_err_sign("signing"), OFFCA_E_PIN_INCORRECT);
	assert_non_null(strstr(ut_err_msg(), "signing: "));
	/* libp11 leaves the refused operation active on its session: the key must be reopened */
	assert_int_equal(tok_key_selftest(k), OFFCA_E_TOKEN);
	assert_non_null(strstr(ut_err_msg(), "reopen the key"));
	tok_key_free(k);
}

static void test_wait_poll(void **state)
{
	tok_arrival a;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(tok_wait(module, "pkcs11:token=unit", 2, &a), OFFCA_OK);
	assert_string_equal(a.token, "unit");
	assert_int_equal(tok_wait(module, "pkcs11:token=absent", 1, &a), OFFCA_E_TIMEOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),        cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_attributes),  cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_second_thread_and_two_keys),
		cmocka_unit_test(test_errors),      cmocka_unit_test(test_always_authenticate),
		cmocka_unit_test(test_wait_poll),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
