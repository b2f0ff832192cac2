/* Unit tests for util/: the error convention, atomic never-overwrite writes, secret files. */
#define _XOPEN_SOURCE 600 /* posix_openpt, grantpt, ptsname */
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "offca/util.h"

static char dir[256];

static void test_err_detail(void **state)
{
	(void)state;
	ut_err_clear();
	assert_int_equal(ut_err(OFFCA_E_POLICY, "policy %s: nope", "dns-suffix"), OFFCA_E_POLICY);
	assert_string_equal(ut_err_msg(), "policy dns-suffix: nope");
	assert_int_equal(ut_err_last(), OFFCA_E_POLICY);
	assert_int_equal(ut_exit_code(OFFCA_E_USAGE), 2);
	assert_int_not_equal(ut_exit_code(OFFCA_E_PIN_INCORRECT), 0);
	assert_string_equal(ut_strerror((offca_rc)9999), "unknown error");
	/* wrapping the previous detail must not garble it (the argument aliases the buffer) */
	ut_err(OFFCA_E_IO, "disk on fire");
	ut_err(OFFCA_E_IO, "reading %s: %s", "x.pem", ut_err_msg());
	assert_string_equal(ut_err_msg(), "reading x.pem: disk on fire");
	ut_err_clear();
	assert_string_equal(ut_err_msg(), "success");
}

static void test_write_excl_never_overwrites(void **state)
{
	char path[512];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.pem", dir);
	assert_int_equal(ut_write_file(path, "first", 5, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(ut_write_file(path, "second", 6, UT_WF_EXCL), OFFCA_E_EXISTS);
	assert_int_equal(ut_read_file(path, 100, 1, &buf, &len), OFFCA_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "first", 5);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* replace mode swaps atomically */
	assert_int_equal(ut_write_file(path, "second", 6, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ut_read_file(path, 100, 1, &buf, &len), OFFCA_OK);
	assert_memory_equal(buf, "second", 6);
	free(buf);
}

static void test_read_limits(void **state)
{
	char path[512], link[512];
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(ut_write_file(path, "0123456789", 10, 0), OFFCA_OK);
	assert_int_equal(ut_read_file(path, 9, 1, &buf, &len), OFFCA_E_TOO_BIG);
	assert_null(buf);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ut_read_file(link, 100, 1, &buf, &len), OFFCA_E_PERM);
	assert_int_equal(ut_read_file(link, 100, 0, &buf, &len), OFFCA_OK);
	free(buf);
	assert_int_equal(ut_read_file("/dev/null", 100, 0, &buf, &len), OFFCA_E_IO);
	assert_int_equal(ut_read_file("/nonexistent/x", 100, 0, &buf, &len), OFFCA_E_NOT_FOUND);
	assert_int_equal(ut_write_file("/nonexistent/dir/x", "a", 1, UT_WF_EXCL), OFFCA_E_NOT_FOUND);
	assert_string_equal(ut_err_msg(), "/nonexistent/dir/x: its directory does not exist");
}

static void test_secret_file(void **state)
{
	char path[512], pin[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/pin", dir);
	assert_int_equal(ut_write_file(path, "123456\n", 7, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_OK);
	assert_string_equal(pin, "123456");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_E_PERM);
	assert_int_equal(ut_secret_from_file(path, 0, pin, sizeof(pin)), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 0, pin, 4), OFFCA_E_TOO_BIG);
	assert_int_equal(ut_write_file(path, "\n", 1, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(ut_secret_from_file(path, 1, pin, sizeof(pin)), OFFCA_E_PARSE);
}

/* one policy: opened once with O_NOFOLLOW, checked on the descriptor */
static void test_secret_symlink_owner(void **state)
{
	char path[512], link[512], pin[64];
	ut_secret *s = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/real.pin", dir);
	snprintf(link, sizeof(link), "%s/link.pin", dir);
	assert_int_equal(ut_write_file(path, "4321\n", 5, UT_WF_SECRET), OFFCA_OK);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ut_secret_from_file(link, 1, pin, sizeof(pin)), OFFCA_E_PERM);
	assert_non_null(strstr(ut_err_msg(), "symbolic link"));
	assert_int_equal(ut_read_secret_file(link, 100, &s), OFFCA_E_PERM);
	assert_null(s);
	assert_int_equal(ut_read_secret_file(path, 100, &s), OFFCA_OK);
	assert_int_equal(s->len, 5);
	assert_memory_equal(s->p, "4321\n", 5);
	ut_secret_free(s);
	s = NULL;
	assert_int_equal(ut_read_secret_file(path, 3, &s), OFFCA_E_TOO_BIG);
	assert_int_equal(ut_read_secret_file("/nonexistent/pin", 3, &s), OFFCA_E_NOT_FOUND);
	if (geteuid() == 0) { /* another user's file, even 0600, is not ours to trust */
		assert_int_equal(chown(path, 12345, 12345), 0);
		assert_int_equal(ut_read_secret_file(path, 100, &s), OFFCA_E_PERM);
		assert_non_null(strstr(ut_err_msg(), "another user"));
	}
}

/*
 * Ctrl-C at a prompt: the child prompts on a pseudo-terminal; the parent waits for the prompt
 * (echo is then off), types ^C, and the terminal must have its echo back once the child is gone.
 */
static void test_prompt_sigint_restores_echo(void **state)
{
	struct termios t;
	char *slave, got[256] = "";
	size_t n = 0;
	int master, keep, st = 0;
	pid_t pid;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	slave = ptsname(master);
	assert_non_null(slave);
	keep = open(slave, O_RDWR | O_NOCTTY); /* the terminal outlives the child */
	assert_true(keep >= 0);
	assert_int_equal(tcgetattr(keep, &t), 0);
	assert_true(t.c_lflag & ECHO);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char pin[64];
		int fd;
		setsid();
		fd = open(slave, O_RDWR); /* becomes the controlling terminal */
		if (fd < 0)
			_exit(20);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		signal(SIGINT, SIG_DFL);
		(void)ut_secret_prompt("PIN: ", pin, sizeof(pin));
		_exit(21); /* not reached: SIGINT ends the process */
	}
	while (n < sizeof(got) - 1 && strstr(got, "PIN: ") == NULL) {
		ssize_t r = read(master, got + n, sizeof(got) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		got[n] = '\0';
	}
	assert_non_null(strstr(got, "PIN: "));
	assert_int_equal(tcgetattr(keep, &t), 0);
	assert_false(t.c_lflag & ECHO); /* the prompt is waiting, echo off */
	assert_int_equal(write(master, "12\003", 3), 3);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
	assert_int_equal(tcgetattr(keep, &t), 0);
	assert_true(t.c_lflag & ECHO); /* restored before the signal took effect */
	close(keep);
	close(master);
}

static void test_hex(void **state)
{
	const unsigned char b[] = {0x00, 0xab, 0x10};
	char *h;

	(void)state;
	h = ut_hex(b, 3);
	assert_string_equal(h, "00ab10");
	free(h);
	h = ut_hex_colon(b, 3);
	assert_string_equal(h, "00:AB:10");
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_detail),
		cmocka_unit_test(test_write_excl_never_overwrites),
		cmocka_unit_test(test_read_limits),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_secret_symlink_owner),
		cmocka_unit_test(test_prompt_sigint_restores_echo),
		cmocka_unit_test(test_hex),
	};
	int rc;

	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tu_rmrf(dir);
	return rc;
}
