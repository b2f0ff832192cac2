/* Unit tests for ceremony file parsing and validation, credentials and answers files. */
#include "testutil.h"

#include <sys/stat.h>

#include "ceremony_int.h"
#include "offca/ceremony.h"

static char dir[256];

static void put(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static const char *path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static const char good[] = "version: 1\n"
			   "name: unit\n"
			   "output-dir: out\n"
			   "administrator: Ada\n"
			   "witnesses: [Wendy]\n"
			   "tokens:\n"
			   "  root: { uri: \"pkcs11:token=unit-root\" }\n"
			   "steps:\n"
			   "  - type: root-key\n"
			   "    token: root\n"
			   "    key: { label: k1, type: ec-p256 }\n"
			   "    outputs: { public-key: k1.pem }\n"
			   "  - type: root-cert\n"
			   "    token: root\n"
			   "    key: { label: k1 }\n"
			   "    name: unit-root\n"
			   "    subject: \"CN=Unit Root\"\n"
			   "    validity: { days: 30 }\n"
			   "    outputs: { certificate: root.pem }\n"
			   "  - type: crl\n"
			   "    issuer: unit-root\n"
			   "    next-update-days: 7\n"
			   "    outputs: { crl: root.crl }\n";

static int has_msg(const cer_diag *d, const char *needle)
{
	for (size_t i = 0; i < cer_diag_count(d); i++)
		if (cer_diag_msg(d, i) != NULL && strstr(cer_diag_msg(d, i), needle) != NULL)
			return 1;
	return 0;
}

static void test_good_file(void **state)
{
	cer_diag *d = NULL;
	cer_file *f = NULL;

	(void)state;
	put("good.yaml", good, 0644);
	assert_int_equal(cer_diag_new(&d), OFFCA_OK);
	assert_int_equal(cer_file_load(path_of("good.yaml"), d, &f), OFFCA_OK);
	assert_int_equal(cer_diag_count(d), 0);
	assert_string_equal(cer_file_name(f), "unit");
	assert_int_equal(f->n_steps, 3);
	assert_int_equal(f->steps[1].key_step, 0);      /* root-cert uses the key made in step 1 */
	assert_int_equal(f->steps[2].issuer_step, 1);   /* crl uses the CA made in step 2 */
	assert_memory_not_equal(f->steps[0].hash, f->steps[1].hash, 32);
	cer_file_free(f);
	cer_diag_free(d);
}

/* The step hash is the SHA-256 of the canonical description: key order does not matter, any
   change of a value does. */
static void test_step_hash(void **state)
{
	cer_diag *d = NULL;
	cer_file *a = NULL, *b = NULL, *c = NULL;
	char *txt;

	(void)state;
	cer_diag_new(&d);
	put("a.yaml", good, 0644);
	txt = strdup(good);
	memcpy(strstr(txt, "{ label: k1, type: ec-p256 }"), "{ type: ec-p256, label: k1 }", 28);
	put("b.yaml", txt, 0644);
	memcpy(strstr(txt, "days: 30"), "days: 31", 8);
	put("c.yaml", txt, 0644);
	free(txt);
	assert_int_equal(cer_file_load(path_of("a.yaml"), d, &a), OFFCA_OK);
	assert_int_equal(cer_file_load(path_of("b.yaml"), d, &b), OFFCA_OK);
	assert_int_equal(cer_file_load(path_of("c.yaml"), d, &c), OFFCA_OK);
	assert_memory_equal(a->steps[0].hash, b->steps[0].hash, 32);
	assert_memory_not_equal(a->steps[1].hash, c->steps[1].hash, 32);
	cer_file_free(a);
	cer_file_free(b);
	cer_file_free(c);
	cer_diag_free(d);
}

static void test_every_problem(void **state)
{
	cer_diag *d = NULL;
	cer_file *f = NULL;

	(void)state;
	put("bad.yaml",
	    "version: 1\nname: bad\noutput-dir: out\nadministrator: Ada\nwitnesses: [W]\nsurprise: 1\n"
	    "tokens:\n  root: { uri: \"pkcs11:token=r\" }\n"
	    "steps:\n"
	    "  - type: root-key\n    token: root\n    key: { label: k, type: ec-p521 }\n    outputs: { public-key: k.pem }\n"
	    "  - type: root-cert\n    token: root\n    key: { label: k }\n    name: r\n    subject: \"CN=R\"\n"
	    "    validity: { not-after: \"2000-01-01T00:00:00Z\" }\n    outputs: { certificate: k.pem }\n"
	    "  - type: intermediate-cert\n    issuer: nobody-yet\n    token: root\n    key: { label: k2 }\n"
	    "    name: nobody-yet-2\n    subject: \"CN=I\"\n    validity: { days: 10, not-after: \"2040-01-01T00:00:00Z\" }\n"
	    "    attestation: maybe\n    outputs: { certificate: i.pem }\n",
	    0644);
	cer_diag_new(&d);
	assert_int_equal(cer_file_load(path_of("bad.yaml"), d, &f), OFFCA_E_PARSE);
	assert_null(f);
	assert_true(has_msg(d, "surprise: unknown field"));
	assert_true(has_msg(d, "steps[0].key.type: must be one of ec-p256"));
	assert_true(has_msg(d, "steps[1].validity: impossible validity"));
	assert_true(has_msg(d, "steps[1].outputs.certificate: k.pem is also an output of steps[0]"));
	assert_true(has_msg(d, "steps[2].validity: give days or not-after, not both"));
	assert_true(has_msg(d, "steps[2].attestation: must be one of if-available, required"));
	assert_true(cer_diag_count(d) >= 6);
	cer_diag_free(d);
}

static void test_yaml_syntax(void **state)
{
	cer_diag *d = NULL;
	cer_file *f = NULL;

	(void)state;
	put("syntax.yaml", "version: 1\nname: [unclosed\n", 0644);
	cer_diag_new(&d);
	assert_int_equal(cer_file_load(path_of("syntax.yaml"), d, &f), OFFCA_E_PARSE);
	assert_int_equal(cer_diag_count(d), 1);
	assert_non_null(strstr(cer_diag_msg(d, 0), "line "));
	cer_diag_free(d);
	put("alias.yaml", "a: &x 1\nversion: *x\n", 0644);
	cer_diag_new(&d);
	assert_int_equal(cer_file_load(path_of("alias.yaml"), d, &f), OFFCA_E_PARSE);
	assert_true(has_msg(d, "aliases are not allowed"));
	cer_diag_free(d);
}

static void test_credentials(void **state)
{
	cer_credentials *c = NULL;
	char pin[64];

	(void)state;
	put("pin.txt", "424242\n", 0600);
	put("c.yaml", "module: /x/y.so\npins:\n  root: \"0123\"\n  alice: { pin-file: PINFILE }\n", 0600);
	{
		char text[1024];
		snprintf(text, sizeof(text), "module: /x/y.so\npins:\n  root: \"0123\"\n  alice: { pin-file: %s }\n",
			 path_of("pin.txt"));
		put("c.yaml", text, 0600);
	}
	assert_int_equal(cer_credentials_load(path_of("c.yaml"), &c), OFFCA_OK);
	assert_string_equal(cer_credentials_module(c), "/x/y.so");
	assert_int_equal(cer_credentials_pin(c, "root", pin, sizeof(pin)), OFFCA_OK);
	assert_string_equal(pin, "0123");
	assert_int_equal(cer_credentials_pin(c, "alice", pin, sizeof(pin)), OFFCA_OK);
	assert_string_equal(pin, "424242");
	assert_int_equal(cer_credentials_pin(c, "bob", pin, sizeof(pin)), OFFCA_E_NOT_FOUND);
	cer_credentials_free(c);

	put("c.kv", "# comment\nmodule=/m.so\npin.root=9999\n", 0600);
	assert_int_equal(cer_credentials_load(path_of("c.kv"), &c), OFFCA_OK);
	assert_int_equal(cer_credentials_pin(c, "root", pin, sizeof(pin)), OFFCA_OK);
	assert_string_equal(pin, "9999");
	cer_credentials_free(c);

	put("open.kv", "pin.root=9999\n", 0644);
	assert_int_equal(cer_credentials_load(path_of("open.kv"), &c), OFFCA_E_PERM);
	put("int.yaml", "pins:\n  root: 0123\n", 0600);
	assert_int_equal(cer_credentials_load(path_of("int.yaml"), &c), OFFCA_E_PARSE);
	put("bad.kv", "pin.root=1\nwhat=2\n", 0600);
	assert_int_equal(cer_credentials_load(path_of("bad.kv"), &c), OFFCA_E_PARSE);
}

static void test_answers(void **state)
{
	cer_answers *a = NULL;

	(void)state;
	put("seq.yaml", "- yes\n- \"no\"\n", 0644);
	assert_int_equal(cer_answers_load(path_of("seq.yaml"), &a), OFFCA_OK);
	assert_string_equal(cer_answers_next(a, "time"), "yes");
	assert_string_equal(cer_answers_next(a, "people"), "no");
	assert_null(cer_answers_next(a, "step1.confirm"));
	cer_answers_free(a);

	put("map.yaml", "time: \"yes\"\nstep2.csr1: [\"yes\", \"no\"]\n\"*\": \"yes\"\n", 0644);
	assert_int_equal(cer_answers_load(path_of("map.yaml"), &a), OFFCA_OK);
	assert_string_equal(cer_answers_next(a, "step2.csr1"), "yes");
	assert_string_equal(cer_answers_next(a, "step2.csr1"), "no");
	assert_string_equal(cer_answers_next(a, "people"), "yes"); /* "*" */
	cer_answers_free(a);

	put("lines.txt", "# c\nyes\nno thanks\n", 0644);
	assert_int_equal(cer_answers_load(path_of("lines.txt"), &a), OFFCA_OK);
	assert_string_equal(cer_answers_next(a, "x"), "yes");
	assert_string_equal(cer_answers_next(a, "y"), "no thanks");
	cer_answers_free(a);
}

static void test_key_uri(void **state)
{
	cer_token tk;
	char out[512];

	(void)state;
	memset(&tk, 0, sizeof(tk));
	snprintf(tk.uri, sizeof(tk.uri), "pkcs11:token=My%%20Token");
	assert_int_equal(cer_key_uri(&tk, "root key/1", NULL, out, sizeof(out)), OFFCA_OK);
	assert_string_equal(out, "pkcs11:token=My%20Token;object=root%20key%2F1");
	snprintf(tk.uri, sizeof(tk.uri), "pkcs11:token=T?module-path=/m.so");
	assert_int_equal(cer_key_uri(&tk, "k", "private", out, sizeof(out)), OFFCA_OK);
	assert_string_equal(out, "pkcs11:token=T;object=k;type=private?module-path=/m.so");
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),    cmocka_unit_test(test_step_hash),
		cmocka_unit_test(test_every_problem), cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_credentials),  cmocka_unit_test(test_answers),
		cmocka_unit_test(test_key_uri),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
