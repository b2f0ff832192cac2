/*
 * fileproc.c - the file process: the only process that writes below the state directory's
 * live/, archive/ and certs/ trees. Paths are relative, checked (no "..", no absolute paths),
 * and every file is written atomically with ut_write_file. A certificate's files are written
 * into archive/NAME/SERIAL/ and then live/NAME (a symlink) is switched with one rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "offca/util.h"
#include "proc.h"
#include "sandbox.h"

#define MAX_REL 1024

static int rel_ok(const char *rel)
{
	if (rel[0] == '\0' || rel[0] == '/' || strlen(rel) > MAX_REL)
		return 0;
	for (const char *p = rel; *p; p++) {
		if (p[0] == '.' && p[1] == '.' && (p == rel || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return 0;
		if ((unsigned char)*p < 0x20)
			return 0;
	}
	return 1;
}

static offca_rc do_write(const char *state, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *rel = acme_ipc_field(body, len, &pos);
	char path[4096 + MAX_REL], dir[4096 + MAX_REL];
	char *slash;
	int flags, n;

	if (rel == NULL || pos >= len || !rel_ok(rel))
		return ut_err(OFFCA_E_INTERNAL, "file process: bad path");
	flags = body[pos++];
	n = snprintf(path, sizeof(path), "%s/%s", state, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ut_err(OFFCA_E_USAGE, "path too long");
	memcpy(dir, path, (size_t)n + 1);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		offca_rc rc = ut_mkdir_p(dir, 0700);
		if (rc != OFFCA_OK)
			return rc;
	}
	return ut_write_file(path, body + pos, len - pos, flags & (UT_WF_EXCL | UT_WF_SECRET));
}

static int plain(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 255)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static offca_rc do_link(const char *state, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *name = acme_ipc_field(body, len, &pos);
	const char *version = acme_ipc_field(body, len, &pos);
	char target[600], tmp[4096 + 600], live[4096 + 600], dir[4096 + 16];
	offca_rc rc;
	int n, dfd;

	if (!plain(name) || !plain(version))
		return ut_err(OFFCA_E_INTERNAL, "file process: bad link request");
	n = snprintf(dir, sizeof(dir), "%s/live", state);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return ut_err(OFFCA_E_USAGE, "path too long");
	rc = ut_mkdir_p(dir, 0700);
	if (rc != OFFCA_OK)
		return rc;
	snprintf(target, sizeof(target), "../archive/%s/%s", name, version);
	snprintf(live, sizeof(live), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	(void)unlink(tmp);
	if (symlink(target, tmp) != 0)
		return ut_err(OFFCA_E_IO, "%s: %s", tmp, strerror(errno));
	if (rename(tmp, live) != 0) {
		int e = errno;
		(void)unlink(tmp);
		return ut_err(e == EISDIR || e == ENOTEMPTY ? OFFCA_E_EXISTS : OFFCA_E_IO,
			      "%s: cannot replace (%s)%s", live, strerror(e),
			      e == EISDIR || e == ENOTEMPTY ? "; it must be a symbolic link into archive/" : "");
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return OFFCA_OK;
}

static int fileproc_main(int fd, void *arg)
{
	const char *state = arg;
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;
	offca_rc rc;

	/* no network, no exec, writes only below the state directory (Landlock where the kernel has it) */
	rc = acme_sandbox_enter(ACME_SB_FILE, state);
	if (rc != OFFCA_OK) {
		acme_ipc_send_err(fd, rc);
		goto out;
	}
	if (acme_ipc_send(fd, ACME_IPC_OK, NULL, 0) != OFFCA_OK)
		goto out;
	for (;;) {
		if (acme_ipc_recv(fd, &type, &body, &len) != OFFCA_OK || type == ACME_IPC_QUIT)
			break;
		if (type == ACME_IPC_WRITE)
			rc = do_write(state, body, len);
		else if (type == ACME_IPC_LINK)
			rc = do_link(state, body, len);
		else
			rc = ut_err(OFFCA_E_INTERNAL, "file process: unknown request %u", type);
		if (rc == OFFCA_OK)
			rc = acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
		else
			acme_ipc_send_err(fd, rc);
		ut_free_secret(body, len);
		body = NULL;
	}
out:
	ut_free_secret(body, len);
	close(fd);
	return 0;
}

offca_rc acme_fileproc_start(const char *state_dir, struct acme_proc **out)
{
	return acme_proc_start("file", fileproc_main, (void *)state_dir, out);
}

offca_rc acme_fileproc_write(struct acme_proc *fp, const char *rel, const void *data, size_t len, int flags)
{
	offca_rc rc = OFFCA_E_NOMEM;
	size_t rl = strlen(rel), total = rl + 2 + len;
	unsigned char *msg;

	if (total > ACME_IPC_MAX)
		return ut_err(OFFCA_E_TOO_BIG, "%s: too large to write", rel);
	msg = malloc(total);
	if (msg == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	memcpy(msg, rel, rl + 1);
	msg[rl + 1] = (unsigned char)flags;
	memcpy(msg + rl + 2, data, len);
	rc = acme_ipc_send(fp->fd, ACME_IPC_WRITE, msg, total);
	ut_free_secret(msg, total);
	return rc == OFFCA_OK ? acme_ipc_reply(fp->fd, NULL, NULL) : rc;
}

offca_rc acme_fileproc_link(struct acme_proc *fp, const char *name, const char *version)
{
	const char *f[2] = {name, version};
	offca_rc rc = acme_ipc_sendv(fp->fd, ACME_IPC_LINK, f, 2);

	return rc == OFFCA_OK ? acme_ipc_reply(fp->fd, NULL, NULL) : rc;
}
