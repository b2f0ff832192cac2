/*
 * Unit tests for the touch guard (token/touch.c) with a real SoftHSM2 key: the prompt comes before
 * the operation and names it; "never" runs the operation on the caller's thread; "cached" prompts
 * once for signatures close together; an operation that outlives the timeout gives
 * OFFCA_E_NO_TOUCH, is finished later on its own thread (finish(arg, 0)), and leaves the key stuck
 * (refused at once afterwards, not freed); the caller's SIGINT flag ends the wait early.
 */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "offca/token.h"
#include "offca/util.h"

#define PIN "123456"

static char dir[256];
static const char *module;
static char *uri, *uri2; /* uri2: for the test after the first key got stuck (libp11 hands out one
			     EVP_PKEY per key object, so a key opened again shares its state) */
static const tok_pin_opts pin_ok = {NULL, PIN, 1};

struct op {
	tok_key *key;
	unsigned sleep_ms;      /* before signing: a token waiting for its touch */
	pthread_t ran_on;
	int ran;
	atomic_int finished;    /* 1 + in_time once finish() ran */
	offca_rc rc;
};

static char lines[8][512];
static int n_lines;

static void note(void *arg, const char *line)
{
	(void)arg;
	if (n_lines < 8)
		snprintf(lines[n_lines++], sizeof(lines[0]), "%s", line);
}

static offca_rc op_run(void *p)
{
	struct op *o = p;
	unsigned char msg[32] = {1}, sig[512];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	struct timespec ts = {o->sleep_ms / 1000, (long)(o->sleep_ms % 1000) * 1000000L};

	o->ran_on = pthread_self();
	o->ran = 1;
	nanosleep(&ts, NULL);
	if (c == NULL || EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, tok_key_private(o->key)) != 1 ||
	    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg)) != 1)
		o->rc = tok_err_sign("test signature");
	else
		o->rc = OFFCA_OK;
	EVP_MD_CTX_free(c);
	return o->rc;
}

static void op_finish(void *p, int in_time)
{
	struct op *o = p;

	atomic_store(&o->finished, 1 + in_time);
}

static tok_key *open_key(const char *u, tok_touch_mode mode, unsigned timeout_s, volatile sig_atomic_t *intr)
{
	tok_key *k = NULL;
	tok_touch_opts t = {0};

	assert_int_equal(tok_key_open(module, u, &pin_ok, &k), OFFCA_OK);
	t.mode = mode;
	t.timeout_s = timeout_s;
	t.label = "YubiKey 42";
	t.notify = note;
	t.interrupted = intr;
	assert_int_equal(tok_key_set_touch(k, &t), OFFCA_OK);
	return k;
}

static int setup(void **state)
{
	(void)state;
	module = tu_softhsm_module();
	if (module == NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	if (tu_softhsm_token(dir, "touch", PIN) != 0)
		return -1;
	unsetenv("OFFCA_PKCS11_MODULE");
	if (tok_keygen(module, "pkcs11:token=touch", "k", TOK_KEY_EC_P256, &pin_ok, &uri) != OFFCA_OK ||
	    tok_keygen(module, "pkcs11:token=touch", "k2", TOK_KEY_EC_P256, &pin_ok, &uri2) != OFFCA_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(uri);
	free(uri2);
	if (dir[0] != '\0')
		tu_rmrf(dir);
	return 0;
}

static void test_never_and_always(void **state)
{
	struct op o = {0};
	tok_key *k;

	(void)state;
	if (module == NULL)
		skip();
	n_lines = 0;
	k = open_key(uri, TOK_TOUCH_NEVER, 0, NULL);
	o.key = k;
	assert_false(tok_touch_wanted(tok_key_private(k)));
	assert_int_equal(tok_sign_guard(tok_key_private(k), "x", op_run, op_finish, &o), OFFCA_OK);
	assert_true(pthread_equal(o.ran_on, pthread_self())); /* unguarded: on this thread */
	assert_int_equal(atomic_load(&o.finished), 2);
	assert_int_equal(n_lines, 0);
	tok_key_free(k);

	k = open_key(uri, TOK_TOUCH_ALWAYS, 5, NULL);
	memset(&o, 0, sizeof(o));
	o.key = k;
	o.sleep_ms = 200;
	assert_true(tok_touch_wanted(tok_key_private(k)));
	assert_int_equal(tok_sign_guard(tok_key_private(k), "the thing", op_run, op_finish, &o), OFFCA_OK);
	assert_false(pthread_equal(o.ran_on, pthread_self()));
	assert_int_equal(atomic_load(&o.finished), 2);
	assert_int_equal(n_lines, 1);
	assert_string_equal(lines[0], "Touch the YubiKey 'YubiKey 42' now to approve signing the thing");
	tok_key_free(k);
}

static void test_cached(void **state)
{
	struct op o = {0};
	tok_key *k;

	(void)state;
	if (module == NULL)
		skip();
	n_lines = 0;
	k = open_key(uri, TOK_TOUCH_CACHED, 5, NULL);
	o.key = k;
	assert_int_equal(tok_sign_guard(tok_key_private(k), "one", op_run, op_finish, &o), OFFCA_OK);
	assert_int_equal(tok_sign_guard(tok_key_private(k), "two", op_run, op_finish, &o), OFFCA_OK);
	assert_int_equal(n_lines, 1); /* the second within 15 s of the first: no new touch */
	tok_key_free(k);
}

static void test_timeout_and_stuck(void **state)
{
	static struct op o; /* outlives the test: the abandoned thread still writes into it */
	struct op again = {0};
	struct timespec t0, t1;
	tok_key *k;
	offca_rc rc;

	(void)state;
	if (module == NULL)
		skip();
	n_lines = 0;
	k = open_key(uri, TOK_TOUCH_ALWAYS, 1, NULL);
	o.key = k;
	o.sleep_ms = 2500;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tok_sign_guard(tok_key_private(k), "the slow thing", op_run, op_finish, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(rc, OFFCA_E_NO_TOUCH);
	assert_non_null(strstr(ut_err_msg(), "no touch within 1 s: the YubiKey 'YubiKey 42' did not approve signing "
					     "the slow thing"));
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(atomic_load(&o.finished), 0); /* still running */
	/* the key is stuck: refused at once, without running the operation */
	again.key = k;
	assert_int_equal(tok_sign_guard(tok_key_private(k), "more", op_run, op_finish, &again), OFFCA_E_NO_TOUCH);
	assert_int_equal(atomic_load(&again.finished), 2);
	assert_false(again.ran);
	tok_key_free(k); /* left to the blocked thread */
	/* the same key opened again (libp11: the same EVP_PKEY) is refused while it is stuck */
	assert_int_equal(tok_key_open(module, uri, &pin_ok, &k), OFFCA_OK);
	assert_int_equal(tok_sign_guard(tok_key_private(k), "more", op_run, op_finish, &again), OFFCA_E_NO_TOUCH);
	tok_key_free(k);
	for (int i = 0; i < 50 && atomic_load(&o.finished) == 0; i++)
		usleep(100000);
	assert_int_equal(atomic_load(&o.finished), 1); /* finished on its own thread, not in time */
	assert_int_equal(o.rc, OFFCA_OK);
}

static void test_interrupt(void **state)
{
	static struct op o;
	static volatile sig_atomic_t intr;
	tok_key *k;

	(void)state;
	if (module == NULL)
		skip();
	k = open_key(uri2, TOK_TOUCH_ALWAYS, 30, &intr);
	o.key = k;
	o.sleep_ms = 1500;
	intr = 1; /* Ctrl-C already pressed: the wait ends at its first look */
	assert_int_equal(tok_sign_guard(tok_key_private(k), "x", op_run, op_finish, &o), OFFCA_E_ABORTED);
	assert_non_null(strstr(ut_err_msg(), "interrupted while the YubiKey 'YubiKey 42' waited"));
	tok_key_free(k);
	for (int i = 0; i < 50 && atomic_load(&o.finished) == 0; i++)
		usleep(100000);
	assert_int_equal(atomic_load(&o.finished), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_and_always),
		cmocka_unit_test(test_cached),
		cmocka_unit_test(test_timeout_and_stuck),
		cmocka_unit_test(test_interrupt),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
