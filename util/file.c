/* file.c - bounded reads and atomic, never-silently-overwriting writes. */
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

offca_rc ut_errno_rc(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return OFFCA_E_NOT_FOUND;
	case EEXIST:
		return OFFCA_E_EXISTS;
	case ENOSPC:
	case EDQUOT:
		return OFFCA_E_DISK_FULL;
	case EACCES:
	case EPERM:
	case ELOOP:
		return OFFCA_E_PERM;
	case ENOMEM:
		return OFFCA_E_NOMEM;
	default:
		return OFFCA_E_IO;
	}
}

offca_rc ut_read_file(const char *path, size_t max, int nofollow, unsigned char **buf, size_t *len)
{
	offca_rc rc = OFFCA_E_IO;
	unsigned char *data = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = -1;
	int e;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: %s", path, e == ELOOP ? "is a symbolic link" : strerror(e));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ut_err(OFFCA_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = ut_err(OFFCA_E_TOO_BIG, "%s: %lld bytes is more than the %zu allowed", path,
			    (long long)st.st_size, max);
		goto out;
	}
	data = malloc(max + 1 < (size_t)st.st_size + 1 ? max + 1 : (size_t)st.st_size + 1);
	if (data == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory reading %s", path);
		goto out;
	}
	/* the file may grow after fstat: read at most st_size + 1 and complain if it did */
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			rc = ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
			goto out;
		}
		if (n == 0)
			break; /* shrank: what we have is the file */
		got += (size_t)n;
	}
	data[got] = '\0';
	*buf = data;
	*len = got;
	data = NULL;
	rc = OFFCA_OK;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return rc;
}

int ut_fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, r = -1, e;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd);
		e = errno;
		close(fd);
		errno = e;
	}
	e = errno;
	free(copy);
	errno = e;
	return r;
}

static offca_rc write_all(int fd, const unsigned char *p, size_t len, const char *path)
{
	ssize_t n;
	int e;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			return ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	return OFFCA_OK;
}

offca_rc ut_write_file(const char *path, const void *data, size_t len, int flags)
{
	offca_rc rc = OFFCA_E_IO;
	char tmp[4096];
	int fd = -1, e, n;
	int created = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ut_err(OFFCA_E_USAGE, "%s: path too long", path);
	if ((flags & UT_WF_EXCL) && ut_path_exists(path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			rc = ut_err(ut_errno_rc(e), "%s: its directory does not exist", path);
		else
			rc = ut_err(ut_errno_rc(e), "%s: cannot create a file there: %s", path, strerror(e));
		goto out;
	}
	created = 1;
	if (fchmod(fd, (flags & UT_WF_SECRET) ? 0600 : 0644) != 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: %s", tmp, strerror(e));
		goto out;
	}
	rc = write_all(fd, data, len, path);
	if (rc != OFFCA_OK)
		goto out;
	if (fsync(fd) != 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: fsync: %s", path, strerror(e));
		goto out;
	}
	close(fd);
	fd = -1;
	if (flags & UT_WF_EXCL) {
		if (link(tmp, path) != 0) {
			e = errno;
			rc = e == EEXIST ? ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", path)
					 : ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
			goto out;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
		goto out;
	}
	created = 0;
	if (ut_fsync_dir_of(path) != 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: fsync of its directory: %s", path, strerror(e));
		goto out;
	}
	rc = OFFCA_OK;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return rc;
}

offca_rc ut_mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	size_t i, n;
	int e;

	n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return ut_err(OFFCA_E_USAGE, "bad directory path");
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST) {
			e = errno;
			return ut_err(ut_errno_rc(e), "%s: %s", buf, strerror(e));
		}
		buf[i] = path[i];
	}
	return OFFCA_OK;
}

offca_rc ut_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? OFFCA_OK : OFFCA_E_NOT_FOUND;
}
