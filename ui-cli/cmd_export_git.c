/*
 * cmd_export_git.c - write a GitOps artifact into a Git work tree and commit it, through the git
 * CLI (run directly, never through a shell; no network: offca never pushes).
 */
#define _GNU_SOURCE /* pipe2 */
#include "cli.h"
#include "export_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "offca/util.h"

#define GIT_OUT_MAX 4096

/* Run git -C repo ARGS...; its output (stdout and stderr) into out. Returns git's exit status, -1 if it could not run. */
static int git(const char *repo, const char *const *args, char *out, size_t cap)
{
	const char *argv[16];
	int pfd[2], status = 0;
	size_t n = 0, k = 0;
	pid_t pid;

	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = repo;
	for (; args[k] != NULL && n + 1 < sizeof(argv) / sizeof(argv[0]); k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	n = 0;
	for (;;) {
		char buf[512];
		ssize_t r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && n + 1 < cap; i++)
			out[n++] = buf[i];
	}
	out[n] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of git's output, for a one-line error. */
static const char *first_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl != NULL)
		*nl = '\0';
	return s[0] ? s : "(no message)";
}

static int path_ok(const char *path)
{
	size_t n = strlen(path);

	if (n == 0 || n > 400 || path[0] == '/' || path[n - 1] == '/')
		return 0;
	for (const char *p = path; *p != '\0'; p++) {
		if ((p == path || p[-1] == '/') && strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return 0;
		if (strncmp(p, ".git", 4) == 0 && (p == path || p[-1] == '/') && (p[4] == '/' || p[4] == '\0'))
			return 0;
		if ((unsigned char)*p < 0x20)
			return 0;
	}
	return 1;
}

offca_rc cli_git_write(const char *repo, const char *path, const char *data, size_t len, int commit, const char *msg)
{
	char out[GIT_OUT_MAX], full[4600], dir[4600], *slash;
	const char *top[] = {"rev-parse", "--is-inside-work-tree", NULL};
	const char *st[] = {"status", "--porcelain", "--untracked-files=all", "--", path, NULL};
	const char *add[] = {"add", "--", path, NULL};
	const char *ci[] = {"commit", "-q", "-m", msg, "--", path, NULL};
	offca_rc rc;
	int r;

	if (!path_ok(path))
		return ut_err(OFFCA_E_USAGE, "--git-path '%s': a relative path inside the repository, without '..' or .git", path);
	r = git(repo, top, out, sizeof(out));
	if (r != 0 || strncmp(out, "true", 4) != 0)
		return ut_err(OFFCA_E_STATE, "--git-repo %s: not a Git work tree%s%s", repo, r < 0 ? " (is git installed?)" : ": ",
			      r < 0 ? "" : first_line(out));
	if (git(repo, st, out, sizeof(out)) != 0)
		return ut_err(OFFCA_E_STATE, "git status in %s failed: %s", repo, first_line(out));
	if (out[0] != '\0')
		return ut_err(OFFCA_E_STATE, "%s/%s has uncommitted changes: commit or remove them first (%s)", repo, path,
			      first_line(out));
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", repo, path) >= sizeof(full))
		return ut_err(OFFCA_E_USAGE, "--git-path too long");
	snprintf(dir, sizeof(dir), "%s", full);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if ((rc = ut_mkdir_p(dir, 0755)) != OFFCA_OK || (rc = ut_write_file(full, data, len, 0)) != OFFCA_OK)
		return rc;
	if (!commit)
		return OFFCA_OK;
	if (git(repo, add, out, sizeof(out)) != 0)
		return ut_err(OFFCA_E_IO, "git add %s failed: %s (the file is written, not committed)", path, first_line(out));
	if (git(repo, ci, out, sizeof(out)) != 0)
		return ut_err(OFFCA_E_IO, "git commit failed: %s (the file is written and staged, not committed)",
			      first_line(out));
	return OFFCA_OK;
}
