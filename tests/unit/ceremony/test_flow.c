/* Unit tests for the ceremony flow (cer_run) on a private SoftHSM2 token: completion, a declined
   confirmation, Ctrl-C, validation refusing an existing key label before anything is touched. */
#include "testutil.h"

#include <signal.h>
#include <sys/stat.h>

#include "offca/ceremony.h"
#include "offca/transcript.h"

static char dir[256];
static char module[256];

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

static void ceremony(const char *name, const char *label, const char *outdir)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "version: 1\nname: flow\noutput-dir: %s/%s\nadministrator: Ada\nwitnesses: [Wendy]\n"
		 "tokens:\n  root: { uri: \"pkcs11:token=flow-root\" }\n"
		 "steps:\n  - type: root-key\n    token: root\n    key: { label: %s, type: ec-p256 }\n"
		 "    outputs: { public-key: pub.pem }\n",
		 dir, outdir, label);
	put(name, text, 0644);
}

/* Run the ceremony file name with answers text; returns rc, res filled. */
static offca_rc run(const char *name, const char *answers, volatile sig_atomic_t *intr, cer_run_result *res,
		    size_t *problems, char **output)
{
	char path[512], apath[512], cpath[512], creds_text[512];
	cer_credentials *c = NULL;
	cer_answers *a = NULL;
	cer_diag *d = NULL;
	cer_run_opts o;
	size_t olen = 0;
	offca_rc rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	put("answers.yaml", answers, 0644);
	snprintf(apath, sizeof(apath), "%s/answers.yaml", dir);
	snprintf(creds_text, sizeof(creds_text), "module: %s\npins:\n  root: \"123456\"\n", module);
	put("creds.yaml", creds_text, 0600);
	snprintf(cpath, sizeof(cpath), "%s/creds.yaml", dir);
	assert_int_equal(cer_credentials_load(cpath, &c), OFFCA_OK);
	assert_int_equal(cer_answers_load(apath, &a), OFFCA_OK);
	assert_int_equal(cer_diag_new(&d), OFFCA_OK);
	memset(&o, 0, sizeof(o));
	o.file = path;
	o.creds = c;
	o.answers = a;
	o.out = open_memstream(output, &olen);
	o.interrupted = intr;
	rc = cer_run(&o, d, res);
	fclose(o.out);
	*problems = cer_diag_count(d);
	cer_diag_free(d);
	cer_answers_free(a);
	cer_credentials_free(c);
	return rc;
}

static void test_completed(void **state)
{
	cer_run_result res;
	cer_verify_result vr;
	size_t problems;
	char *out = NULL, pub[512];

	(void)state;
	ceremony("ok.yaml", "flow-key-1", "out1");
	assert_int_equal(run("ok.yaml", "\"*\": \"yes\"\n", NULL, &res, &problems, &out), OFFCA_OK);
	assert_string_equal(res.status, "completed");
	assert_int_equal(res.steps_done, 1);
	assert_non_null(strstr(out, "[step1.confirm]"));
	assert_non_null(strstr(out, "Public key SHA-256:"));
	snprintf(pub, sizeof(pub), "%s/out1/pub.pem", dir);
	assert_int_equal(access(pub, R_OK), 0);
	assert_int_equal(cer_transcript_verify(res.transcript, NULL, 0, NULL, &vr), OFFCA_OK);
	assert_string_equal(vr.status, "completed");
	assert_int_equal(vr.signatures, 1);
	free(out);
}

static void test_declined(void **state)
{
	cer_run_result res;
	cer_verify_result vr;
	size_t problems;
	char *out = NULL, pub[512];

	(void)state;
	ceremony("no.yaml", "flow-key-2", "out2");
	assert_int_equal(run("no.yaml", "time: \"yes\"\npeople: \"yes\"\nstep1.confirm: nope\n", NULL, &res, &problems, &out),
			 OFFCA_E_ABORTED);
	assert_non_null(strstr(ut_err_msg(), "declined at [step1.confirm]"));
	assert_string_equal(res.status, "aborted");
	snprintf(pub, sizeof(pub), "%s/out2/pub.pem", dir);
	assert_int_not_equal(access(pub, F_OK), 0);
	assert_int_equal(cer_transcript_verify(res.transcript, NULL, 0, NULL, &vr), OFFCA_OK);
	assert_string_equal(vr.status, "aborted");
	free(out);
}

static void test_interrupted(void **state)
{
	volatile sig_atomic_t intr = 1;
	cer_run_result res;
	size_t problems;
	char *out = NULL;

	(void)state;
	ceremony("intr.yaml", "flow-key-3", "out3");
	assert_int_equal(run("intr.yaml", "\"*\": \"yes\"\n", &intr, &res, &problems, &out), OFFCA_E_ABORTED);
	assert_non_null(strstr(ut_err_msg(), "interrupted (Ctrl-C)"));
	assert_string_equal(res.status, "aborted");
	free(out);
}

static void test_existing_label(void **state)
{
	cer_run_result res;
	size_t problems = 0;
	char *out = NULL;

	(void)state;
	ceremony("again.yaml", "flow-key-1", "out4"); /* the key test_completed made */
	assert_int_equal(run("again.yaml", "\"*\": \"yes\"\n", NULL, &res, &problems, &out), OFFCA_E_STATE);
	assert_int_equal(problems, 1);
	assert_string_equal(res.transcript, ""); /* nothing created */
	free(out);
}

static int setup(void **state)
{
	(void)state;
	if (tu_softhsm_module() == NULL)
		return -1;
	snprintf(module, sizeof(module), "%s", tu_softhsm_module());
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	return tu_softhsm_token(dir, "flow-root", "123456");
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
		cmocka_unit_test(test_completed),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_existing_label),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
