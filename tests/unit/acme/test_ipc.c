/* Unit tests for the channels between offca-acme's processes: framing, the size bound, peer
 * death, error replies, and the file process's confinement to the state directory. */
#include "testutil.h"

#include <sys/socket.h>

#include "cmd.h"
#include "ipc.h"
#include "offca/util.h"
#include "proc.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void test_roundtrip_and_fields(void **state)
{
	int sv[2];
	const char *f[3] = {"_acme-challenge.a.example", "value", ""};
	uint8_t type = 0;
	unsigned char *body = NULL;
	size_t len = 0, pos = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(acme_ipc_sendv(sv[0], ACME_IPC_DNS_ADD, f, 3), OFFCA_OK);
	assert_int_equal(acme_ipc_recv(sv[1], &type, &body, &len), OFFCA_OK);
	assert_int_equal(type, ACME_IPC_DNS_ADD);
	assert_string_equal(acme_ipc_field(body, len, &pos), f[0]);
	assert_string_equal(acme_ipc_field(body, len, &pos), f[1]);
	assert_string_equal(acme_ipc_field(body, len, &pos), "");
	assert_null(acme_ipc_field(body, len, &pos));
	free(body);
	/* an error reply carries the code and the message */
	ut_err(OFFCA_E_PERM, "secret file x is readable by others");
	acme_ipc_send_err(sv[0], OFFCA_E_PERM);
	ut_err_clear();
	assert_int_equal(acme_ipc_reply(sv[1], NULL, NULL), OFFCA_E_PERM);
	assert_string_equal(ut_err_msg(), "secret file x is readable by others");
	close(sv[0]);
	close(sv[1]);
}

static void test_bounds(void **state)
{
	int sv[2];
	unsigned char hdr[5] = {ACME_IPC_OK, 0x7f, 0xff, 0xff, 0xff};
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* a length over ACME_IPC_MAX is refused before any allocation */
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(acme_ipc_recv(sv[1], &type, &body, &len), OFFCA_E_TOO_BIG);
	assert_null(body);
	assert_int_equal(acme_ipc_send(sv[0], ACME_IPC_OK, "x", ACME_IPC_MAX + 1), OFFCA_E_TOO_BIG);
	/* short message then EOF */
	hdr[1] = 0;
	hdr[2] = 0;
	hdr[3] = 0;
	hdr[4] = 10;
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(acme_ipc_recv(sv[1], &type, &body, &len), OFFCA_E_IO);
	assert_null(body);
	close(sv[1]);
}

static void test_fileproc(void **state)
{
	const char *dir = tu_tmpdir();
	struct acme_proc *fp = NULL;
	char path[512];
	struct stat st;

	(void)state;
	assert_int_equal(acme_fileproc_start(dir, &fp), OFFCA_OK);
	assert_int_equal(acme_fileproc_write(fp, "live/a/cert.pem", "PEM", 3, 0), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/live/a/cert.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(acme_fileproc_write(fp, "live/a/privkey.pem", "KEY", 3, UT_WF_SECRET), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/live/a/privkey.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* never outside the state directory */
	assert_int_not_equal(acme_fileproc_write(fp, "../escape", "x", 1, 0), OFFCA_OK);
	assert_int_not_equal(acme_fileproc_write(fp, "live/../../escape", "x", 1, 0), OFFCA_OK);
	assert_int_not_equal(acme_fileproc_write(fp, "/tmp/abs", "x", 1, 0), OFFCA_OK);
	/* never over an existing file when asked not to */
	assert_int_equal(acme_fileproc_write(fp, "live/a/cert.pem", "NEW", 3, UT_WF_EXCL), OFFCA_E_EXISTS);
	/* live/NAME switched between archive versions with one rename */
	assert_int_equal(acme_fileproc_write(fp, "archive/b/01/cert.pem", "ONE", 3, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(acme_fileproc_write(fp, "archive/b/02/cert.pem", "TWO", 3, UT_WF_EXCL), OFFCA_OK);
	assert_int_equal(acme_fileproc_link(fp, "b", "01"), OFFCA_OK);
	snprintf(path, sizeof(path), "%s/live/b/cert.pem", dir);
	{
		char buf[8] = "";
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		assert_int_equal(fread(buf, 1, 3, f), 3);
		fclose(f);
		assert_string_equal(buf, "ONE");
		assert_int_equal(acme_fileproc_link(fp, "b", "02"), OFFCA_OK);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_int_equal(fread(buf, 1, 3, f), 3);
		fclose(f);
		assert_string_equal(buf, "TWO");
	}
	assert_int_not_equal(acme_fileproc_link(fp, "..", "02"), OFFCA_OK);
	assert_int_not_equal(acme_fileproc_link(fp, "b", "../../x"), OFFCA_OK);
	/* a real directory in the way is not replaced */
	assert_int_equal(acme_fileproc_link(fp, "a", "01"), OFFCA_E_EXISTS);
	acme_proc_free(fp);
	tu_rmrf(dir);
}

/* in a child: after the file role's sandbox, no inet socket, no exec, nothing unlisted; AF_UNIX still works */
static void test_sandbox(void **state)
{
	pid_t pid;
	int st = 0;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int code = 0, s;
		char *argv[] = {"true", NULL};
		if (acme_sandbox_enter(ACME_SB_FILE, NULL) != OFFCA_OK)
			_exit(10);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0)
			code |= 1;
		s = socket(AF_INET6, SOCK_DGRAM, 0);
		if (s >= 0)
			code |= 2;
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0)
			code |= 4;
		execv("/bin/true", argv);
		if (errno != ENOSYS)
			code |= 8;
		/* an allow list: a harmless call nobody listed is refused too (a deny list let it pass) */
		errno = 0;
		if (getpriority(PRIO_PROCESS, 0) != -1 || errno != ENOSYS)
			code |= 16;
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* the main and DNS roles (every mode: hooks run in the hook runner) refuse execve; the runner's allows it */
static void test_sandbox_exec(void **state)
{
	const enum acme_sb_role roles[] = {ACME_SB_MAIN, ACME_SB_DNS, ACME_SB_HOOKS};

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		int st = 0;
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *argv[] = {"true", NULL};
			if (acme_sandbox_enter(roles[i], NULL) != OFFCA_OK)
				_exit(10);
			execv("/bin/true", argv); /* exits 0 where exec is allowed */
			_exit(errno == ENOSYS ? 20 : 30);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), roles[i] == ACME_SB_HOOKS ? 0 : 20);
	}
}

/* a descriptor passed with a message arrives close-on-exec and works; none passed gives -1 */
static void test_fd_passing(void **state)
{
	int sv[2], p[2], got = -1;
	uint8_t type = 0;
	unsigned char *body = NULL;
	size_t len = 0;
	char c = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(acme_ipc_send_fd(sv[0], ACME_IPC_HOOK_DNSCHAN, "name", 5, p[1]), OFFCA_OK);
	close(p[1]);
	assert_int_equal(acme_ipc_recv_fd(sv[1], &type, &body, &len, &got), OFFCA_OK);
	assert_int_equal(type, ACME_IPC_HOOK_DNSCHAN);
	assert_string_equal((char *)body, "name");
	assert_true(got >= 0);
	assert_true((fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(write(got, "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	free(body);
	close(got);
	assert_int_equal(acme_ipc_send(sv[0], ACME_IPC_OK, "y", 1), OFFCA_OK);
	assert_int_equal(acme_ipc_recv_fd(sv[1], &type, &body, &len, &got), OFFCA_OK);
	assert_int_equal(got, -1);
	free(body);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* the hook runner runs only what it was configured with: a message names a certificate and a kind */
static void test_hook_runner(void **state)
{
	struct acme_opts o;
	struct acme_proc *hp = NULL;
	char dir[256], hook[700], ran[600], env[600];
	int fd = -1;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(ran, sizeof(ran), "%s/ran", dir);
	snprintf(hook, sizeof(hook), "echo \"$RENEWED_DOMAINS|${RENEWED_LINEAGE##*/}\" > %s", ran);
	memset(&o, 0, sizeof(o));
	o.state = dir;
	o.deploy_hook = hook; /* issue: --deploy-hook, no --dns-hook */
	assert_int_equal(acme_hookproc_start(&o, &hp), OFFCA_OK);
	assert_int_equal(acme_hookproc_deploy(hp, "www", "deploy", "a.example b.example"), OFFCA_OK);
	f = fopen(ran, "r");
	assert_non_null(f);
	assert_non_null(fgets(env, sizeof(env), f));
	fclose(f);
	assert_string_equal(env, "a.example b.example|www\n");
	/* no command, path or other kind can be asked for */
	assert_int_equal(acme_hookproc_deploy(hp, "www", "rm -rf /", "a"), OFFCA_E_INTERNAL);
	assert_int_equal(acme_hookproc_deploy(hp, "../x", "deploy", "a"), OFFCA_E_INTERNAL);
	/* no --dns-hook configured: the DNS channel runs nothing */
	assert_int_equal(acme_hookproc_dns_channel(hp, "www", &fd), OFFCA_OK);
	{
		const char *fl[3] = {"add", "_acme-challenge.a.example", "v"};
		assert_int_equal(acme_ipc_sendv(fd, ACME_IPC_HOOK_DNS, fl, 3), OFFCA_OK);
		assert_int_equal(acme_ipc_reply(fd, NULL, NULL), OFFCA_E_USAGE);
		assert_non_null(strstr(ut_err_msg(), "no DNS hook"));
	}
	close(fd);
	/* a failing deploy hook: the wording and exit code offca-acme always had */
	acme_proc_free(hp);
	o.deploy_hook = "exit 4";
	assert_int_equal(acme_hookproc_start(&o, &hp), OFFCA_OK);
	assert_int_equal(acme_hookproc_deploy(hp, "www", "deploy", "a"), OFFCA_E_IO);
	assert_non_null(strstr(ut_err_msg(), "written but the deploy hook 'exit 4' failed (exit 4)"));
	acme_proc_free(hp);
	tu_rmrf(dir);
}

/* Landlock: after the file role's sandbox with a write directory, files are created only below it */
static void test_landlock(void **state)
{
	char in[520], out[512], outdir[256], dir[256];
	pid_t pid;
	int st = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tu_tmpdir());
	snprintf(outdir, sizeof(outdir), "%s", tu_tmpdir());
	snprintf(in, sizeof(in), "%s/inside", dir);
	snprintf(out, sizeof(out), "%s/outside", outdir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int code = 0, fd;
		if (acme_sandbox_enter(ACME_SB_FILE, dir) != OFFCA_OK)
			_exit(10);
		if (!acme_sandbox_landlocked())
			_exit(77); /* this kernel has no Landlock: the documented fallback */
		fd = open(in, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			code |= 1;
		else
			close(fd);
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EACCES)
			code |= 2;
		/* the DNS role on top: no file written anywhere, not even below dir */
		if (acme_sandbox_enter(ACME_SB_DNS, ACME_SB_NO_WRITES) != OFFCA_OK)
			_exit(11);
		strcat(in, "2");
		fd = open(in, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EACCES)
			code |= 4;
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("no Landlock in this kernel: skipped\n");
	} else {
		assert_int_equal(WEXITSTATUS(st), 0);
		assert_int_equal(access(in, F_OK), 0);
		assert_int_not_equal(access(out, F_OK), 0);
	}
	tu_rmrf(dir);
	tu_rmrf(outdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_fields),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_fileproc),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_sandbox_exec),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_hook_runner),
		cmocka_unit_test(test_landlock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
