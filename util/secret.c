/* secret.c - secrets come from a no-echo prompt or a file the operator names; never argv/env. */
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

offca_rc ut_secret_from_file(const char *path, int strict_perm, char *buf, size_t cap)
{
	offca_rc rc = OFFCA_E_IO;
	char tmp[UT_MAX_SECRET + 2];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = -1;
	int e;

	if (cap > 0)
		buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		rc = ut_err(e == ENOENT ? OFFCA_E_NOT_FOUND : OFFCA_E_IO, "secret file %s: %s", path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		rc = ut_err(OFFCA_E_IO, "secret file %s: not a regular file or pipe", path);
		goto out;
	}
	if (strict_perm && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		rc = ut_err(OFFCA_E_PERM, "secret file %s is readable by others (mode %03o); chmod 600 it",
			    path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	n = read(fd, tmp, sizeof(tmp) - 1);
	if (n < 0) {
		e = errno;
		rc = ut_err(OFFCA_E_IO, "secret file %s: %s", path, strerror(e));
		goto out;
	}
	tmp[n] = '\0';
	len = strcspn(tmp, "\r\n");
	if ((size_t)n == sizeof(tmp) - 1 && len == (size_t)n) {
		rc = ut_err(OFFCA_E_TOO_BIG, "secret file %s: first line longer than %d bytes", path, UT_MAX_SECRET);
		goto out;
	}
	if (len == 0) {
		rc = ut_err(OFFCA_E_PARSE, "secret file %s is empty", path);
		goto out;
	}
	if (len + 1 > cap) {
		rc = ut_err(OFFCA_E_TOO_BIG, "secret in %s is too long", path);
		goto out;
	}
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	rc = OFFCA_OK;
out:
	ut_memzero(tmp, sizeof(tmp));
	if (fd >= 0)
		close(fd);
	return rc;
}

offca_rc ut_secret_prompt(const char *prompt, char *buf, size_t cap)
{
	offca_rc rc = OFFCA_E_IO;
	struct termios old, noecho;
	int have_old = 0;
	FILE *tty = NULL;
	size_t len;

	if (cap > 0)
		buf[0] = '\0';
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		rc = ut_err(OFFCA_E_IO, "no terminal to ask for the secret; use a PIN file (--pin-file or pin-source)");
		goto out;
	}
	setvbuf(tty, NULL, _IONBF, 0);
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		if (tcsetattr(fileno(tty), TCSAFLUSH, &noecho) == 0)
			have_old = 1;
	}
	fputs(prompt, tty);
	if (fgets(buf, (int)cap, tty) == NULL) {
		rc = ut_err(OFFCA_E_ABORTED, "no secret entered");
		goto out;
	}
	len = strcspn(buf, "\r\n");
	if (buf[len] == '\0' && len + 1 == cap) {
		rc = ut_err(OFFCA_E_TOO_BIG, "secret too long");
		goto out;
	}
	buf[len] = '\0';
	rc = OFFCA_OK;
out:
	if (have_old)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	if (tty != NULL) {
		fputs("\n", tty);
		fclose(tty);
	}
	if (rc != OFFCA_OK)
		ut_memzero(buf, cap);
	return rc;
}

void ut_harden_process(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
