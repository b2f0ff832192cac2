/*
 * publish_out.c - writing a publication's objects: each into DIR/.<name>.tmp without a sync,
 * then ONE syncfs() for all of them, then renamed into place and the directory fsynced (as
 * ca_outdir does for signed certificates: one sync per run instead of two per file). A reader
 * sees an object's old bytes or its new ones, never a part; a failed run removes its temporaries.
 */
#define _GNU_SOURCE /* syncfs */
#include "publish_int.h"
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tmp_path(char *buf, size_t cap, const char *dir, const char *name)
{
	return snprintf(buf, cap, "%s/.%s.tmp", dir, name) < (int)cap;
}

offca_rc pub_out_stage(const char *dir, const char *name, const unsigned char *data, size_t len)
{
	char p[4400];
	int fd;
	size_t off = 0;

	if (!tmp_path(p, sizeof(p), dir, name))
		return ut_err(OFFCA_E_USAGE, "--out-dir path too long");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return ut_err(ut_errno_rc(errno), "%s: %s", p, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			unlink(p);
			return ut_err(ut_errno_rc(e), "writing %s: %s", p, strerror(e));
		}
		off += (size_t)w;
	}
	if (close(fd) != 0) {
		int e = errno;

		unlink(p);
		return ut_err(ut_errno_rc(e), "writing %s: %s", p, strerror(e));
	}
	return OFFCA_OK;
}

void pub_out_drop(const char *dir, const char (*names)[65], size_t n)
{
	char p[4400];

	for (size_t i = 0; i < n; i++)
		if (tmp_path(p, sizeof(p), dir, names[i]))
			unlink(p);
}

offca_rc pub_out_commit(const char *dir, const char (*names)[65], size_t n)
{
	char from[4400], to[4400];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	offca_rc rc = OFFCA_OK;

	if (dfd < 0)
		return ut_err(ut_errno_rc(errno), "%s: %s", dir, strerror(errno));
	if (syncfs(dfd) != 0)
		rc = ut_err(ut_errno_rc(errno), "syncing %s: %s", dir, strerror(errno));
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		if (!tmp_path(from, sizeof(from), dir, names[i]) || snprintf(to, sizeof(to), "%s/%s", dir, names[i]) >= (int)sizeof(to))
			rc = ut_err(OFFCA_E_USAGE, "--out-dir path too long");
		else if (rename(from, to) != 0)
			rc = ut_err(ut_errno_rc(errno), "naming %s: %s", to, strerror(errno));
	}
	if (rc == OFFCA_OK && fsync(dfd) != 0)
		rc = ut_err(ut_errno_rc(errno), "syncing %s: %s", dir, strerror(errno));
	close(dfd);
	return rc;
}
