#define _GNU_SOURCE /* close_range */
/* proc.c - fork a helper process with its own socketpair (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "offca/util.h"

static void close_range_or_loop(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	if (close_range(lo, hi, 0) == 0)
		return;
	/* kernels before 5.9: one close() per possible descriptor */
	struct rlimit rl;
	unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur : 65536;
	for (unsigned fd = lo; fd <= hi && fd < top; fd++)
		(void)close((int)fd);
}

void acme_close_fds_except2(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo < 3) {
		acme_close_fds_except(hi);
		return;
	}
	close_range_or_loop(3, (unsigned)lo - 1);
	close_range_or_loop((unsigned)lo + 1, (unsigned)hi - 1);
	close_range_or_loop((unsigned)hi + 1, ~0u);
}

void acme_close_fds_except(int keep)
{
	if (keep < 3) {
		close_range_or_loop(3, ~0u);
		return;
	}
	close_range_or_loop(3, (unsigned)keep - 1);
	close_range_or_loop((unsigned)keep + 1, ~0u);
}

static offca_rc spawn(const char *name, int (*fn)(int fd, void *arg), void *arg, int extra, struct acme_proc **out)
{
	int sv[2] = {-1, -1};
	struct acme_proc *p = NULL;
	pid_t pid;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(p);
		return ut_err(OFFCA_E_IO, "socketpair: %s", strerror(errno));
	}
	fflush(NULL); /* nothing buffered twice */
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		free(p);
		return ut_err(OFFCA_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int code;
		char comm[16];
		/* only stdin/stdout/stderr and our end of the channel: not the main process's TCP
		 * connection to the CA, nor its ends of the other helpers' channels */
		acme_close_fds_except2(sv[1], extra);
		snprintf(comm, sizeof(comm), "offca-acme-%s", name);
		(void)prctl(PR_SET_NAME, comm, 0, 0, 0); /* ps -o comm, /proc/PID/comm: the role */
		signal(SIGINT, SIG_IGN); /* the main process decides; we end when our channel closes */
		code = fn(sv[1], arg);
#if defined(__SANITIZE_ADDRESS__)
		exit(code); /* sanitizer builds: let LeakSanitizer check the helper too */
#else
		_exit(code);
#endif
	}
	close(sv[1]);
	p->pid = pid;
	p->fd = sv[0];
	p->name = name;
	*out = p;
	return OFFCA_OK;
}

offca_rc acme_proc_spawn(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out)
{
	return spawn(name, fn, arg, -1, out);
}

void acme_proc_free(struct acme_proc *p)
{
	int st;

	offca_rc last = ut_err_last();
	char keep[1024];

	if (p == NULL)
		return;
	/* ending a helper must not replace the error being reported */
	snprintf(keep, sizeof(keep), "%s", ut_err_msg());
	(void)acme_ipc_send(p->fd, ACME_IPC_QUIT, NULL, 0);
	close(p->fd);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	free(p);
	if (last != OFFCA_OK)
		ut_err(last, "%s", keep);
	else
		ut_err_clear();
}

offca_rc acme_proc_start_with(const char *name, int (*fn)(int fd, void *arg), void *arg, int extra,
			      struct acme_proc **out)
{
	offca_rc rc;
	struct acme_proc *p = NULL;

	*out = NULL;
	rc = spawn(name, fn, arg, extra, &p);
	if (rc != OFFCA_OK)
		return rc;
	rc = acme_ipc_reply(p->fd, NULL, NULL);
	if (rc != OFFCA_OK) {
		acme_proc_free(p);
		return rc;
	}
	*out = p;
	return OFFCA_OK;
}

offca_rc acme_proc_start(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out)
{
	return acme_proc_start_with(name, fn, arg, -1, out);
}
