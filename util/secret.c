/* secret.c - secrets come from a no-echo prompt or a file the operator names; never argv/env. */
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

ut_secret *ut_secret_new(size_t cap)
{
	ut_secret *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->p = calloc(1, cap + 1);
	if (s->p == NULL) {
		free(s);
		return NULL;
	}
	(void)mlock(s->p, cap + 1); /* best effort: RLIMIT_MEMLOCK may be small */
	s->cap = cap;
	return s;
}

void ut_secret_free(ut_secret *s)
{
	if (s == NULL)
		return;
	ut_memzero(s->p, s->cap + 1);
	(void)munlock(s->p, s->cap + 1);
	free(s->p);
	free(s);
}

/* /dev/fd/N and /proc/self/fd/N name a descriptor (pin-source): the link is the point there */
static int names_descriptor(const char *path)
{
	return strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0;
}

static offca_rc check_fd(int fd, const char *path, int strict)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ut_err(OFFCA_E_IO, "secret file %s: %s", path, strerror(errno));
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return OFFCA_OK;
	if (!S_ISREG(st.st_mode))
		return ut_err(OFFCA_E_IO, "secret file %s: not a regular file or pipe", path);
	if (!strict)
		return OFFCA_OK;
	if ((st.st_mode & 077) != 0)
		return ut_err(OFFCA_E_PERM, "secret file %s is readable by others (mode %03o); chmod 600 it", path,
			      (unsigned)(st.st_mode & 0777));
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return ut_err(OFFCA_E_PERM, "secret file %s belongs to another user (uid %u); it must be yours or root's",
			      path, (unsigned)st.st_uid);
	return OFFCA_OK;
}

static offca_rc read_secret(const char *path, size_t max, int strict, ut_secret **out)
{
	offca_rc rc;
	ut_secret *s = NULL;
	ssize_t n;
	int fd, e;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (names_descriptor(path) ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			return ut_err(OFFCA_E_PERM, "secret file %s is a symbolic link; name the file itself", path);
		return ut_err(e == ENOENT ? OFFCA_E_NOT_FOUND : OFFCA_E_IO, "secret file %s: %s", path, strerror(e));
	}
	rc = check_fd(fd, path, strict);
	if (rc != OFFCA_OK)
		goto out;
	s = ut_secret_new(max + 1);
	if (s == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	while (s->len <= max) {
		n = read(fd, s->p + s->len, max + 1 - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ut_err(OFFCA_E_IO, "secret file %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		s->len += (size_t)n;
	}
	if (s->len > max) {
		rc = ut_err(OFFCA_E_TOO_BIG, "secret file %s: more than %zu bytes", path, max);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	ut_secret_free(s);
	close(fd);
	return rc;
}

offca_rc ut_read_secret_file(const char *path, size_t max, ut_secret **out)
{
	return read_secret(path, max, 1, out);
}

offca_rc ut_secret_from_file(const char *path, int strict_perm, char *buf, size_t cap)
{
	offca_rc rc;
	ut_secret *s = NULL;
	size_t len;

	if (cap > 0)
		buf[0] = '\0';
	rc = read_secret(path, UT_MAX_SECRET + 2, strict_perm, &s);
	if (rc != OFFCA_OK)
		return rc;
	len = strcspn((const char *)s->p, "\r\n");
	if (len > UT_MAX_SECRET)
		rc = ut_err(OFFCA_E_TOO_BIG, "secret file %s: first line longer than %d bytes", path, UT_MAX_SECRET);
	else if (len == 0)
		rc = ut_err(OFFCA_E_PARSE, "secret file %s is empty", path);
	else if (len + 1 > cap)
		rc = ut_err(OFFCA_E_TOO_BIG, "secret in %s is too long", path);
	if (rc == OFFCA_OK) {
		memcpy(buf, s->p, len);
		buf[len] = '\0';
	}
	ut_secret_free(s);
	return rc;
}

/* ---- the prompt (after OpenBSD readpassphrase(3)) ---- */

static volatile sig_atomic_t prompt_sig;

static void on_prompt_signal(int sig)
{
	prompt_sig = sig;
}

static const int prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define NSIG_PROMPT (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

/* catch the signals that would leave the terminal without echo (not those the process ignores) */
static void catch_signals(struct sigaction old[NSIG_PROMPT])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_prompt_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIG_PROMPT; i++) {
		sigaction(prompt_signals[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(prompt_signals[i], &sa, NULL);
	}
}

static void restore_signals(const struct sigaction old[NSIG_PROMPT])
{
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
}

/* one line from fd into buf; 1 line read, 0 EOF, -1 interrupted, -2 too long */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char c;
	ssize_t n;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR && prompt_sig == 0)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return len > 0 ? 1 : 0;
		if (c == '\n' || c == '\r')
			return 1;
		if (len + 1 >= cap) {
			while (read(fd, &c, 1) == 1 && c != '\n')
				; /* drain the rest of the line */
			return -2;
		}
		buf[len++] = c;
		buf[len] = '\0';
	}
}

static int prompt_once(int fd, const char *prompt, char *buf, size_t cap)
{
	struct termios old, noecho;
	int have_old = 0, r;

	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			have_old = 1;
	}
	(void)!write(fd, prompt, strlen(prompt));
	r = prompt_sig != 0 ? -1 : read_line(fd, buf, cap);
	if (have_old)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	return r;
}

offca_rc ut_secret_prompt(const char *prompt, char *buf, size_t cap)
{
	struct sigaction old[NSIG_PROMPT];
	int fd, r, sig;

	if (cap > 0)
		buf[0] = '\0';
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return ut_err(OFFCA_E_IO, "no terminal to ask for the secret; use a PIN file (--pin-file or pin-source)");
	for (;;) {
		prompt_sig = 0;
		catch_signals(old);
		r = prompt_once(fd, prompt, buf, cap);
		sig = prompt_sig;
		restore_signals(old);
		if (sig == 0)
			break;
		ut_memzero(buf, cap);
		/* the terminal is back as it was: now let the signal do what it would have done */
		kill(getpid(), sig);
		if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
			break; /* the process handles it itself (else it is gone by now) */
	}
	close(fd);
	if (sig != 0 && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return ut_err(OFFCA_E_ABORTED, "interrupted");
	if (r == 0)
		return ut_err(OFFCA_E_ABORTED, "no secret entered");
	if (r == -2) {
		ut_memzero(buf, cap);
		return ut_err(OFFCA_E_TOO_BIG, "secret too long");
	}
	if (r < 0) {
		ut_memzero(buf, cap);
		return ut_err(OFFCA_E_IO, "reading the secret failed");
	}
	return OFFCA_OK;
}

void ut_harden_process(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
