/*
 * store_copy.c - copying the rest of a CA home (config.json, outbox/, anything an operator keeps
 * there) for backup and restore: regular files and directories only, never following a symbolic
 * link, each file fsynced, each directory fsynced after its entries. The store itself is copied
 * by LMDB (mdb_env_copy2), never here.
 */
#define _GNU_SOURCE
#include "store_int.h"
#include "store_copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_MAX_DEPTH 16

static offca_rc copy_err(int e, const char *what, const char *name)
{
	offca_rc rc = e == ENOSPC || e == EDQUOT ? OFFCA_E_DISK_FULL : e == EEXIST ? OFFCA_E_EXISTS : OFFCA_E_IO;

	return ut_err(rc, "%s %s: %s", what, name, strerror(e));
}

static offca_rc copy_fd(int in, int out, const char *name)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return copy_err(errno, "reading", name);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return copy_err(errno, "writing", name);
			off += w;
		}
	}
	if (fsync(out) != 0)
		return copy_err(errno, "syncing", name);
	return OFFCA_OK;
}

static offca_rc copy_file(int sdir, int ddir, const char *name, mode_t mode)
{
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out;
	offca_rc rc;

	if (in < 0)
		return copy_err(errno, "opening", name);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0700);
	if (out < 0) {
		rc = copy_err(errno, "creating", name);
		close(in);
		return rc;
	}
	rc = copy_fd(in, out, name);
	close(in);
	if (close(out) != 0 && rc == OFFCA_OK)
		rc = copy_err(errno, "writing", name);
	return rc;
}

static offca_rc copy_dir(int sdir, int ddir, int depth, int top);

static offca_rc copy_entry(int sdir, int ddir, const char *name, int depth)
{
	struct stat sb;
	int s2, d2;
	offca_rc rc;

	if (fstatat(sdir, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return copy_err(errno, "reading", name);
	if (S_ISREG(sb.st_mode))
		return copy_file(sdir, ddir, name, sb.st_mode);
	if (!S_ISDIR(sb.st_mode))
		return OFFCA_OK; /* links, sockets, devices: not part of a CA home, not copied */
	if (depth >= COPY_MAX_DEPTH)
		return ut_err(OFFCA_E_TOO_BIG, "%s: directories nested deeper than %d", name, COPY_MAX_DEPTH);
	if (mkdirat(ddir, name, 0700) != 0)
		return copy_err(errno, "creating", name);
	s2 = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rc = s2 < 0 || d2 < 0 ? copy_err(errno, "opening", name) : copy_dir(s2, d2, depth + 1, 0);
	if (s2 >= 0)
		close(s2);
	if (d2 >= 0)
		close(d2);
	return rc;
}

/* Skipped at the top of a home: the store (LMDB copies it), the lock, restore leftovers. */
int ca_st_copy_skips(const char *name)
{
	return strcmp(name, "store") == 0 || strcmp(name, "lock") == 0 || strncmp(name, ".restore", 8) == 0 ||
	       strncmp(name, ".backup", 7) == 0;
}

static offca_rc copy_dir(int sdir, int ddir, int depth, int top)
{
	int fd = dup(sdir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	offca_rc rc = OFFCA_OK;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return copy_err(errno, "reading", "a directory");
	}
	while (rc == OFFCA_OK && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || (top && ca_st_copy_skips(e->d_name)))
			continue;
		rc = copy_entry(sdir, ddir, e->d_name, depth);
	}
	closedir(d);
	if (rc == OFFCA_OK && fsync(ddir) != 0)
		rc = copy_err(errno, "syncing", "a directory");
	return rc;
}

offca_rc ca_st_copy_home_files(const char *src, const char *dst)
{
	int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), d;
	offca_rc rc;

	if (s < 0)
		return copy_err(errno, "opening", src);
	d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		rc = copy_err(errno, "opening", dst);
		close(s);
		return rc;
	}
	rc = copy_dir(s, d, 0, 1);
	close(s);
	close(d);
	return rc;
}

offca_rc ca_st_sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	offca_rc rc = OFFCA_OK;

	if (fd < 0)
		return copy_err(errno, "opening", path);
	if (fsync(fd) != 0)
		rc = copy_err(errno, "syncing", path);
	close(fd);
	return rc;
}

static void remove_at(int dir, const char *name, int depth)
{
	struct stat sb;
	int fd;
	DIR *d;
	struct dirent *e;

	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (!S_ISDIR(sb.st_mode) || depth > COPY_MAX_DEPTH + 2) {
		(void)unlinkat(dir, name, 0);
		return;
	}
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			remove_at(dirfd(d), e->d_name, depth + 1);
	closedir(d);
	(void)unlinkat(dir, name, AT_REMOVEDIR);
}

void ca_st_remove_tree(const char *path)
{
	remove_at(AT_FDCWD, path, 0);
}
