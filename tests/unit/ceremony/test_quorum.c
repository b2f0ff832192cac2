/* Unit tests for quorum approvals: 2 of 3 officers on separate SoftHSM2 tokens; a refusal; an
   approval that does not match the enrolled key does not count. */
#include "testutil.h"

#include <openssl/pem.h>
#include <sys/stat.h>

#include "offca/ceremony.h"
#include "offca/token.h"
#include "offca/transcript.h"

static char dir[256];
static char module[256];
static const char *const officers[] = {"alice", "bob", "carol"};

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

static void make_officer(const char *name)
{
	char cmd[512], tok[128], path[512];
	tok_pin_opts po = {.pin_value = "1111", .no_prompt = 1};
	char *uri = NULL;
	tok_key *k = NULL;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label officer-%s --so-pin 12345678 --pin 1111 >/dev/null",
		 name);
	assert_int_equal(system(cmd), 0);
	snprintf(tok, sizeof(tok), "pkcs11:token=officer-%s", name);
	assert_int_equal(tok_keygen(module, tok, "approval", TOK_KEY_EC_P256, &po, &uri), OFFCA_OK);
	assert_int_equal(tok_key_open(module, uri, &po, &k), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/%s.pub.pem", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, tok_key_public(k)), 1);
	fclose(f);
	tok_key_free(k);
	free(uri);
}

/* carol_pub: which officer's public key is enrolled for carol. */
static offca_rc run(const char *label, const char *carol_pub, const char *answers, cer_run_result *res)
{
	char text[4096], path[512], creds[1024];
	cer_credentials *c = NULL;
	cer_answers *a = NULL;
	cer_diag *d = NULL;
	cer_run_opts o;
	offca_rc rc;

	snprintf(text, sizeof(text),
		 "version: 1\nname: quorum\noutput-dir: %s/out-%s\nadministrator: Ada\nwitnesses: [Wendy]\n"
		 "tokens:\n  root: { uri: \"pkcs11:token=q-root\" }\n"
		 "officers:\n"
		 "  alice: { key: \"pkcs11:token=officer-alice;object=approval\", public-key: alice.pub.pem }\n"
		 "  bob: { key: \"pkcs11:token=officer-bob;object=approval\", public-key: bob.pub.pem }\n"
		 "  carol: { key: \"pkcs11:token=officer-carol;object=approval\", public-key: %s.pub.pem }\n"
		 "steps:\n  - type: root-key\n    token: root\n    key: { label: %s, type: ec-p256 }\n"
		 "    quorum: { required: 2, officers: [alice, bob, carol] }\n"
		 "    outputs: { public-key: pub.pem }\n",
		 dir, label, carol_pub, label);
	put("q.yaml", text, 0644);
	put("answers.yaml", answers, 0644);
	snprintf(creds, sizeof(creds), "module: %s\npins:\n  root: \"123456\"\n  alice: \"1111\"\n  bob: \"1111\"\n  carol: \"1111\"\n",
		 module);
	put("creds.yaml", creds, 0600);
	snprintf(path, sizeof(path), "%s/creds.yaml", dir);
	assert_int_equal(cer_credentials_load(path, &c), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/answers.yaml", dir);
	assert_int_equal(cer_answers_load(path, &a), OFFCA_OK);
	cer_diag_new(&d);
	snprintf(path, sizeof(path), "%s/q.yaml", dir);
	memset(&o, 0, sizeof(o));
	o.file = path;
	o.creds = c;
	o.answers = a;
	rc = cer_run(&o, d, res);
	assert_int_equal(cer_diag_count(d), 0);
	cer_diag_free(d);
	cer_answers_free(a);
	cer_credentials_free(c);
	return rc;
}

static int count_events(const char *transcript, const char *needle)
{
	char line[65536];
	int n = 0;
	FILE *f = fopen(transcript, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

static void test_two_of_three(void **state)
{
	cer_run_result res;
	cer_verify_result vr;

	(void)state;
	assert_int_equal(run("q1", "carol", "step1.approve.alice: \"no\"\n\"*\": \"yes\"\n", &res), OFFCA_OK);
	assert_int_equal(count_events(res.transcript, "\"event\":\"quorum-approval\""), 2);
	assert_int_equal(count_events(res.transcript, "\"event\":\"quorum-declined\""), 1);
	assert_int_equal(cer_transcript_verify(res.transcript, NULL, 0, NULL, &vr), OFFCA_OK);
	assert_int_equal(vr.signatures, 3); /* ceremony key, bob, carol */
}

static void test_first_two_suffice(void **state)
{
	cer_run_result res;

	(void)state;
	/* alice and bob approve: carol is never asked */
	assert_int_equal(run("q2", "carol", "\"*\": \"yes\"\n", &res), OFFCA_OK);
	assert_int_equal(count_events(res.transcript, "\"officer\":\"carol\""), 0);
	assert_int_equal(count_events(res.transcript, "\"event\":\"quorum-approval\""), 2);
}

static void test_wrong_enrolled_key(void **state)
{
	cer_run_result res;

	(void)state;
	assert_int_equal(run("q3", "bob", "step1.approve.alice: \"no\"\n\"*\": \"yes\"\n", &res), OFFCA_E_ABORTED);
	assert_non_null(strstr(ut_err_msg(), "quorum not reached"));
	assert_int_equal(count_events(res.transcript, "\"event\":\"quorum-rejected\""), 1);
	assert_int_equal(count_events(res.transcript, "\"event\":\"key-generated\""), 0);
}

static int setup(void **state)
{
	(void)state;
	if (tu_softhsm_module() == NULL)
		return -1;
	snprintf(module, sizeof(module), "%s", tu_softhsm_module());
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (tu_softhsm_token(dir, "q-root", "123456") != 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		make_officer(officers[i]);
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
		cmocka_unit_test(test_two_of_three),
		cmocka_unit_test(test_first_two_suffice),
		cmocka_unit_test(test_wrong_enrolled_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
