/*
 * Unit tests for core's key making and deleting (ca_keyref_generate, ca_keyref_destroy, over the
 * token layer's tok_keygen and tok_key_destroy) against a real SoftHSM2 token: the label from the
 * URI's object=, a made key opens and its public key matches, a label in use is refused, an id-only
 * or label-less URI is not made, destroy needs an id and removes the private and the public half
 * (and nothing else), a PIN file is required (never a prompt), a wrong PIN deletes nothing.
 */
#include "testutil.h"

#include <fcntl.h>
#include <openssl/evp.h>

#include "offca/keyref.h"
#include "offca/token.h"

#define PIN "123456"

static char dir[256], pin_file[300], bad_pin[300];
static const char *module;

static int write_pin(const char *path, const char *pin)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok = fd >= 0 && write(fd, pin, strlen(pin)) == (ssize_t)strlen(pin);

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	module = tu_softhsm_module();
	if (module == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(pin_file, sizeof(pin_file), "%s/pin", dir);
	snprintf(bad_pin, sizeof(bad_pin), "%s/bad", dir);
	if (tu_softhsm_token(dir, "ep", PIN) != 0 || tu_softhsm_token(dir, "keep", PIN) != 0 ||
	    write_pin(pin_file, PIN "\n") != 0 || write_pin(bad_pin, "999999\n") != 0)
		return -1;
	setenv("OFFCA_PKCS11_MODULE", module, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0] != '\0')
		tu_rmrf(dir);
	return 0;
}

/* how many objects of type ("private", "public") labelled label the token tok holds */
static size_t count(const char *tok, const char *type, const char *label)
{
	tok_pin_opts opts = {pin_file, NULL, 1};
	tok_object *v = NULL;
	size_t n = 0, hits = 0;
	char uri[64];

	snprintf(uri, sizeof(uri), "pkcs11:token=%s", tok);
	assert_int_equal(tok_objects(NULL, uri, &opts, &v, &n), OFFCA_OK);
	for (size_t i = 0; i < n; i++)
		hits += strcmp(v[i].type, type) == 0 && strcmp(v[i].label, label) == 0;
	free(v);
	return hits;
}

static void test_generate_open_destroy(void **state)
{
	ca_keyref *k = NULL;
	char *uri = NULL, *dup = NULL;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep;object=web", NULL, pin_file, &uri), OFFCA_OK);
	assert_non_null(uri);
	assert_true(strncmp(uri, "pkcs11:token=ep;id=", 19) == 0);
	assert_non_null(strstr(uri, ";object=web;type=private"));
	assert_int_equal(ca_keyref_open(uri, pin_file, &k), OFFCA_OK);
	assert_string_equal(ca_keyref_uri(k), uri);
	assert_string_equal(ca_keyref_label(k), "web");
	assert_int_equal(EVP_PKEY_eq(ca_keyref_private(k), ca_keyref_public(k)), 1);
	ca_keyref_free(k);
	k = NULL;
	/* the label is taken now */
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep", "web", pin_file, &dup), OFFCA_E_EXISTS);
	assert_null(dup);
	assert_int_equal(count("ep", "private", "web"), 1);
	assert_int_equal(count("ep", "public", "web"), 1);
	/* a wrong PIN deletes nothing */
	assert_int_equal(ca_keyref_destroy(uri, bad_pin), OFFCA_E_PIN_INCORRECT);
	assert_int_equal(count("ep", "private", "web"), 1);
	/* both halves go */
	assert_int_equal(ca_keyref_destroy(uri, pin_file), OFFCA_OK);
	assert_int_equal(count("ep", "private", "web"), 0);
	assert_int_equal(count("ep", "public", "web"), 0);
	assert_int_equal(ca_keyref_open(uri, pin_file, &k), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_keyref_destroy(uri, pin_file), OFFCA_E_NOT_FOUND);
	free(uri);
}

static void test_destroy_takes_only_its_key(void **state)
{
	char *a = NULL, *b = NULL;

	(void)state;
	if (module == NULL)
		skip();
	assert_int_equal(ca_keyref_generate("pkcs11:token=keep", "a", pin_file, &a), OFFCA_OK);
	assert_int_equal(ca_keyref_generate("pkcs11:token=keep", "b", pin_file, &b), OFFCA_OK);
	/* a URI without the key's id is refused: a label alone could name a key someone else made */
	assert_int_equal(ca_keyref_destroy("pkcs11:token=keep;object=a", pin_file), OFFCA_E_USAGE);
	assert_int_equal(ca_keyref_destroy("pkcs11:token=keep;object=a;type=public", pin_file), OFFCA_E_USAGE);
	assert_int_equal(count("keep", "private", "a"), 1);
	assert_int_equal(ca_keyref_destroy(a, pin_file), OFFCA_OK);
	assert_int_equal(count("keep", "private", "a"), 0);
	assert_int_equal(count("keep", "private", "b"), 1);
	assert_int_equal(count("keep", "public", "b"), 1);
	free(a);
	free(b);
}

static void test_generate_refusals(void **state)
{
	char *uri = NULL;

	(void)state;
	if (module == NULL)
		skip();
	/* a key named by id= cannot be made with that id; a URI without object= gives no label */
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep;id=%01%02", NULL, pin_file, &uri), OFFCA_E_NOT_FOUND);
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep", NULL, pin_file, &uri), OFFCA_E_USAGE);
	/* no PIN file: refused, never a prompt */
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep;object=x", NULL, NULL, &uri), OFFCA_E_USAGE);
	assert_int_equal(ca_keyref_generate("pkcs11:token=ep;object=x", NULL, bad_pin, &uri), OFFCA_E_PIN_INCORRECT);
	assert_int_equal(ca_keyref_generate("pkcs11:token=absent;object=x", NULL, pin_file, &uri), OFFCA_E_TOKEN_ABSENT);
	assert_null(uri);
	assert_int_equal(count("ep", "private", "x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_open_destroy),
		cmocka_unit_test(test_destroy_takes_only_its_key),
		cmocka_unit_test(test_generate_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
