/* proc.c - fork a helper process with its own socketpair (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "offca/util.h"

offca_rc acme_proc_spawn(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out)
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
		close(sv[0]);
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

offca_rc acme_proc_start(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out)
{
	offca_rc rc;
	struct acme_proc *p = NULL;

	*out = NULL;
	rc = acme_proc_spawn(name, fn, arg, &p);
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
