/*
 * hookproc.c - the hook runner: the only offca-acme process that may exec anything. It is forked
 * at start-up (after the switch to the unprivileged user, before the main process installs its
 * filter) and holds only its channel and 0/1/2: no key, no credential, no network connection.
 * It runs only the hooks configured when it started (--dns-hook and --deploy-hook for issue, the
 * records' hooks and --deploy-hook for renew): a message picks a certificate and which of its
 * hooks, never a command or a path. A hook gets stdin /dev/null, stdout sent to stderr, and no
 * other descriptor, as before the runner existed: a DNS hook is killed after HOOK_TIMEOUT seconds
 * and ignores SIGINT, SIGTERM and SIGHUP (it inherited that from the DNS process, which stays to
 * clean up); a deploy hook has the default dispositions and no time limit (it ran from main).
 */
#define _GNU_SOURCE /* realpath's PATH_MAX */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dns.h"
#include "ipc.h"
#include "offca/util.h"
#include "proc.h"
#include "sandbox.h"

#define HOOK_TIMEOUT 300 /* seconds, for a DNS hook (as in the DNS process before) */
#define MAX_DOMAINS  4096

struct hstate {
	const struct acme_opts *o;
	json_t *certs; /* renew: NAME -> {"dns": hook or null, "deploy": hook or null}, read at start */
	char state_abs[PATH_MAX];
};

/*
 * sh -c CMD ARGS... with env (NULL-terminated NAME=VALUE list), the existing hook contract.
 * OFFCA_OK (exit 0), OFFCA_E_TIMEOUT (a DNS hook killed), OFFCA_E_PROTOCOL (*code: its exit
 * status, 128 + signal), or OFFCA_E_IO with the detail set; the caller words the other errors.
 */
static offca_rc run(const char *what, const char *script, const char *const *args, size_t nargs,
		    const char *const *env, int dns, int *code)
{
	pid_t pid;
	int st = 0;
	time_t end = time(NULL) + HOOK_TIMEOUT;
	const char *argv[8];

	if (nargs > 4)
		return ut_err(OFFCA_E_INTERNAL, "hook runner: too many arguments");
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = script;
	for (size_t i = 0; i < nargs; i++)
		argv[3 + i] = args[i];
	argv[3 + nargs] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return ut_err(OFFCA_E_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0); /* a hook never waits on our stdin */
		dup2(2, 1);               /* hook chatter goes to stderr, stdout stays offca-acme's */
		acme_close_fds_except(-1); /* stdin, stdout, stderr only */
		signal(SIGINT, dns ? SIG_IGN : SIG_DFL);
		signal(SIGTERM, dns ? SIG_IGN : SIG_DFL);
		signal(SIGHUP, dns ? SIG_IGN : SIG_DFL);
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execv("/bin/sh", (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return ut_err(OFFCA_E_IO, "waiting for the %s: %s", what, strerror(errno));
		if (dns && time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return OFFCA_E_TIMEOUT;
		}
		struct timespec ts = {0, 20000000L};
		nanosleep(&ts, NULL);
	}
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return *code == 0 ? OFFCA_OK : OFFCA_E_PROTOCOL;
}

/* the configured hook of kind ("dns", "deploy" or "option") for certificate name; NULL if none */
static const char *hook_for(const struct hstate *hs, const char *name, const char *kind)
{
	json_t *c;

	if (strcmp(kind, "option") == 0)
		return hs->o->deploy_hook;
	if (hs->certs == NULL) /* issue: the hooks given on the command line */
		return strcmp(kind, "dns") == 0 ? hs->o->dns_hook : hs->o->deploy_hook;
	c = json_object_get(hs->certs, name);
	return json_string_value(json_object_get(c, kind));
}

/* renew: every record's hooks, read once before any request */
static offca_rc load_records(struct hstate *hs)
{
	struct acme_names names = {0};
	offca_rc rc = acme_state_cert_names(hs->o, &names);

	hs->certs = json_object();
	for (size_t i = 0; rc == OFFCA_OK && i < names.n; i++) {
		char rel[512];
		json_t *rec = NULL;
		snprintf(rel, sizeof(rel), "certs/%s.json", names.v[i]);
		if (acme_state_json(hs->o, rel, &rec) != OFFCA_OK)
			continue; /* renew reports it */
		json_t *dns = json_object_get(rec, "dns");
		json_object_set_new(hs->certs, names.v[i],
				    json_pack("{s:O?, s:O?}", "dns", json_object_get(dns, "hook"), "deploy",
					      json_object_get(rec, "deploy_hook")));
		json_decref(rec);
	}
	acme_names_clear(&names);
	ut_err_clear();
	return rc == OFFCA_E_NOT_FOUND ? OFFCA_OK : rc;
}

/* DNS channel: "op NUL record NUL value" -> CMD op record value */
static offca_rc dns_request(const struct hstate *hs, const char *cert, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *a[3];
	const char *cmd = hook_for(hs, cert, "dns");
	char script[4096];
	int n;

	for (int i = 0; i < 3; i++)
		a[i] = acme_ipc_field(body, len, &pos);
	if (a[0] == NULL || a[1] == NULL || a[2] == NULL || (strcmp(a[0], "add") != 0 && strcmp(a[0], "remove") != 0) ||
	    strlen(a[1]) > ACME_DNS_MAX_NAME || strlen(a[2]) > ACME_DNS_MAX_TXT)
		return ut_err(OFFCA_E_INTERNAL, "hook runner: malformed DNS hook request");
	if (cmd == NULL)
		return ut_err(OFFCA_E_USAGE, "%s has no DNS hook", cert);
	n = snprintf(script, sizeof(script), "%s \"$@\"", cmd);
	if (n < 0 || (size_t)n >= sizeof(script))
		return ut_err(OFFCA_E_USAGE, "--dns-hook: command too long");
	const char *args[4] = {"offca-dns-hook", a[0], a[1], a[2]};
	int code = 0;
	offca_rc rc = run("DNS hook", script, args, 4, NULL, 1, &code);
	if (rc == OFFCA_E_TIMEOUT) /* the DNS process's own wording, before the runner */
		return ut_err(rc, "DNS hook '%s %s %s' did not finish in %d s", cmd, a[0], a[1], HOOK_TIMEOUT);
	if (rc == OFFCA_E_PROTOCOL)
		return ut_err(rc, "DNS hook '%s %s %s ...' failed (exit %d)", cmd, a[0], a[1], code);
	return rc;
}

/* serve one DNS process's channel (passed by the main process) until it closes */
static void serve_dns(const struct hstate *hs, int dfd, const char *cert)
{
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;
	offca_rc rc;

	while (acme_ipc_recv(dfd, &type, &body, &len) == OFFCA_OK) {
		rc = type == ACME_IPC_HOOK_DNS ? dns_request(hs, cert, body, len)
					       : ut_err(OFFCA_E_INTERNAL, "hook runner: unknown request %u", type);
		if (rc == OFFCA_OK)
			acme_ipc_send(dfd, ACME_IPC_OK, NULL, 0);
		else
			acme_ipc_send_err(dfd, rc);
		free(body);
		body = NULL;
	}
	free(body);
	close(dfd);
}

/* "NAME NUL kind NUL domains" -> the deploy hook with RENEWED_LINEAGE and RENEWED_DOMAINS */
static offca_rc deploy_request(const struct hstate *hs, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *name = acme_ipc_field(body, len, &pos);
	const char *kind = acme_ipc_field(body, len, &pos);
	const char *doms = acme_ipc_field(body, len, &pos);
	const char *cmd;
	char lineage[PATH_MAX + 300], domenv[MAX_DOMAINS + 32];

	if (name == NULL || kind == NULL || doms == NULL || !acme_cert_name_ok(name) ||
	    (strcmp(kind, "deploy") != 0 && strcmp(kind, "option") != 0) || strlen(doms) > MAX_DOMAINS)
		return ut_err(OFFCA_E_INTERNAL, "hook runner: malformed deploy hook request");
	cmd = hook_for(hs, name, kind);
	if (cmd == NULL)
		return ut_err(OFFCA_E_USAGE, "%s has no deploy hook", name);
	snprintf(lineage, sizeof(lineage), "RENEWED_LINEAGE=%s/live/%s", hs->state_abs, name);
	snprintf(domenv, sizeof(domenv), "RENEWED_DOMAINS=%s", doms);
	const char *env[3] = {lineage, domenv, NULL};
	int code = 0;
	offca_rc rc = run("deploy hook", cmd, NULL, 0, env, 0, &code);
	if (rc == OFFCA_E_PROTOCOL) /* the main process's wording and exit code (74), before the runner */
		return ut_err(OFFCA_E_IO, "the certificate for %s was written but the deploy hook '%s' failed (exit %d)",
			      name, cmd, code);
	return rc;
}

static int hookproc_main(int fd, void *arg)
{
	struct hstate hs;
	offca_rc rc;
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;
	int dfd;

	memset(&hs, 0, sizeof(hs));
	hs.o = arg;
	/* the main process's SIGTERM/SIGHUP stop; a hook that runs finishes (or times out) first */
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	rc = acme_sandbox_enter(ACME_SB_HOOKS, NULL); /* hooks write where they need to */
	if (rc == OFFCA_OK && realpath(hs.o->state, hs.state_abs) == NULL)
		snprintf(hs.state_abs, sizeof(hs.state_abs), "%s", hs.o->state);
	if (rc == OFFCA_OK && hs.o->hooks_renew)
		rc = load_records(&hs);
	if (rc != OFFCA_OK) {
		acme_ipc_send_err(fd, rc);
		goto out;
	}
	if (acme_ipc_send(fd, ACME_IPC_OK, NULL, 0) != OFFCA_OK)
		goto out;
	for (;;) {
		if (acme_ipc_recv_fd(fd, &type, &body, &len, &dfd) != OFFCA_OK || type == ACME_IPC_QUIT)
			break;
		if (type == ACME_IPC_HOOK_DNSCHAN && dfd >= 0) {
			const char *cert = (const char *)body;
			rc = acme_cert_name_ok(cert) ? OFFCA_OK : ut_err(OFFCA_E_INTERNAL, "hook runner: bad name");
			if (rc == OFFCA_OK && acme_ipc_send(fd, ACME_IPC_OK, NULL, 0) == OFFCA_OK)
				serve_dns(&hs, dfd, cert);
			else
				close(dfd);
			if (rc != OFFCA_OK)
				acme_ipc_send_err(fd, rc);
		} else {
			if (dfd >= 0)
				close(dfd);
			rc = type == ACME_IPC_HOOK_DEPLOY ? deploy_request(&hs, body, len)
							  : ut_err(OFFCA_E_INTERNAL, "hook runner: unknown request %u", type);
			if (rc == OFFCA_OK)
				rc = acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
			else
				acme_ipc_send_err(fd, rc);
		}
		free(body);
		body = NULL;
	}
out:
	free(body);
	json_decref(hs.certs);
	close(fd);
	return 0;
}

offca_rc acme_hookproc_start(const struct acme_opts *o, struct acme_proc **out)
{
	return acme_proc_start("hook", hookproc_main, (void *)o, out);
}

offca_rc acme_hookproc_dns_channel(struct acme_proc *hp, const char *cert, int *fd)
{
	int sv[2];
	offca_rc rc;

	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return ut_err(OFFCA_E_IO, "socketpair: %s", strerror(errno));
	rc = acme_ipc_send_fd(hp->fd, ACME_IPC_HOOK_DNSCHAN, cert, strlen(cert) + 1, sv[0]);
	close(sv[0]);
	if (rc == OFFCA_OK)
		rc = acme_ipc_reply(hp->fd, NULL, NULL);
	if (rc != OFFCA_OK) {
		close(sv[1]);
		return rc;
	}
	*fd = sv[1];
	return OFFCA_OK;
}

offca_rc acme_hookproc_deploy(struct acme_proc *hp, const char *name, const char *kind, const char *domains)
{
	const char *f[3] = {name, kind, domains};
	offca_rc rc = acme_ipc_sendv(hp->fd, ACME_IPC_HOOK_DEPLOY, f, 3);

	return rc == OFFCA_OK ? acme_ipc_reply(hp->fd, NULL, NULL) : rc;
}
