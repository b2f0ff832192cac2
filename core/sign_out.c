/*
 * sign_out.c - certificates of a batch written as DIR/SERIAL.pem, prepared while signing.
 *
 * While the pipeline still runs, each certificate's PEM goes into an unnamed file in DIR
 * (open(O_TMPFILE)): nothing is visible, and if the process dies the kernel frees it, so the rule
 * "no certificate outside the store before its record is committed" holds. Before the commit,
 * ca_outdir_sync() (the batch's stage_sync) makes the data durable with one syncfs(); after it,
 * ca_outdir_release() links each file to its name
 * (linkat through /proc/self/fd, which refuses to replace an existing name) and fsyncs DIR.
 * Where O_TMPFILE or /proc is missing, or the batch needs more descriptors than allowed, the
 * release writes the remaining files itself: temporary name, one syncfs, rename without replace.
 */
#define _GNU_SOURCE /* O_TMPFILE, syncfs, renameat2 */
#include "offca/sign.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PATH_CAP 4400

struct ca_outdir {
	char dir[4096];
	size_t n;
	int *fds;          /* staged unnamed files, -1 when not staged */
	int staging;       /* 0: O_TMPFILE unusable here (or too many files) */
	int synced;        /* the staged files are durable (ca_outdir_sync) */
	char (*paths)[PATH_CAP];
};

static offca_rc io_rc(int e, const char *what, const char *path)
{
	return ut_err(e == ENOSPC || e == EDQUOT ? OFFCA_E_DISK_FULL : e == EEXIST ? OFFCA_E_EXISTS : OFFCA_E_IO,
		      "%s: %s: %s", path, what, strerror(e));
}

static int write_all(int fd, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Enough descriptors for n staged files? Raise the soft limit up to the hard one if needed. */
static int fd_budget(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 256) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n + 256)
			return 0;
		rl.rlim_cur = n + 256;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return 0;
	}
	return 1;
}

offca_rc ca_outdir_new(const char *dir, size_t n, ca_outdir **out)
{
	ca_outdir *od;
	int probe;

	*out = NULL;
	if (strlen(dir) >= sizeof(od->dir))
		return ut_err(OFFCA_E_USAGE, "output directory path too long");
	od = calloc(1, sizeof(*od));
	if (od == NULL || (od->fds = malloc(n * sizeof(int))) == NULL || (od->paths = calloc(n, PATH_CAP)) == NULL) {
		ca_outdir_free(od);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(od->dir, dir, strlen(dir) + 1);
	od->n = n;
	for (size_t i = 0; i < n; i++)
		od->fds[i] = -1;
	probe = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	od->staging = probe >= 0 && access("/proc/self/fd", X_OK) == 0 && fd_budget(n);
	if (probe >= 0)
		close(probe);
	*out = od;
	return OFFCA_OK;
}

void ca_outdir_free(ca_outdir *od)
{
	if (od == NULL)
		return;
	for (size_t i = 0; od->fds != NULL && i < od->n; i++)
		if (od->fds[i] >= 0)
			close(od->fds[i]); /* an unlinked O_TMPFILE vanishes here */
	free(od->fds);
	free(od->paths);
	free(od);
}

const char *ca_outdir_path(const ca_outdir *od, size_t i)
{
	return i < od->n ? od->paths[i] : "";
}

offca_rc ca_outdir_stage(void *arg, size_t i, const unsigned char *der, size_t len)
{
	ca_outdir *od = arg;
	char *pem = NULL;
	size_t plen = 0;
	offca_rc rc;
	int fd, e;

	if (!od->staging || i >= od->n)
		return OFFCA_OK; /* written at release instead */
	if ((rc = ca_x509_der_to_pem(der, len, &pem, &plen)) != OFFCA_OK)
		return rc;
	fd = open(od->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, pem, plen) != 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		free(pem);
		return io_rc(e, "writing a certificate", od->dir);
	}
	free(pem);
	od->fds[i] = fd;
	return OFFCA_OK;
}

offca_rc ca_outdir_sync(void *arg)
{
	ca_outdir *od = arg;
	int dfd;

	if (!od->staging)
		return OFFCA_OK; /* the files are written (and synced) at release */
	dfd = open(od->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || syncfs(dfd) != 0) {
		offca_rc rc = io_rc(errno, "sync", od->dir);
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	close(dfd);
	od->synced = 1;
	return OFFCA_OK;
}

/* Write one not-staged certificate under a temporary name (released by rename later). */
static offca_rc write_tmp(const char *tmp, const unsigned char *der, size_t len)
{
	char *pem = NULL;
	size_t plen = 0;
	offca_rc rc = ca_x509_der_to_pem(der, len, &pem, &plen);
	int fd, e;

	if (rc != OFFCA_OK)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write_all(fd, pem, plen) != 0 || close(fd) != 0) {
		e = errno;
		free(pem);
		(void)unlink(tmp);
		return io_rc(e, "writing", tmp);
	}
	free(pem);
	return OFFCA_OK;
}

/* Give a staged (fd) or temporary (tmp) file its name, never replacing one. */
static int place(int fd, const char *tmp, const char *path)
{
	char proc[64];

	if (fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, path) != 0)
		return -1;
	(void)unlink(tmp);
	return 0;
}

offca_rc ca_outdir_release(ca_outdir *od, const ca_sign_result *res)
{
	char hex[2 * CA_SERIAL_LEN + 1], (*tmps)[PATH_CAP] = NULL;
	offca_rc rc = OFFCA_OK;
	size_t placed = 0;
	int dfd = -1, written = 0;

	if (res->n != od->n)
		return ut_err(OFFCA_E_USAGE, "ca_outdir_release: %zu results for %zu files", res->n, od->n);
	tmps = calloc(od->n, PATH_CAP);
	if (tmps == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < od->n; i++) {
		ca_serial_hex(&res->certs[i].serial, hex, sizeof(hex));
		snprintf(od->paths[i], PATH_CAP, "%s/%s.pem", od->dir, hex);
		snprintf(tmps[i], PATH_CAP, "%s/.%s.pem.tmp-%ld", od->dir, hex, (long)getpid());
	}
	for (size_t i = 0; i < od->n && rc == OFFCA_OK; i++)
		if (od->fds[i] < 0) {
			rc = write_tmp(tmps[i], res->certs[i].der, res->certs[i].der_len);
			written = 1;
		}
	dfd = open(od->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == OFFCA_OK && dfd < 0)
		rc = io_rc(errno, "open", od->dir);
	if (rc == OFFCA_OK && (written || !od->synced) && syncfs(dfd) != 0)
		rc = io_rc(errno, "sync", od->dir);
	for (size_t i = 0; i < od->n && rc == OFFCA_OK; i++) {
		if (place(od->fds[i], tmps[i], od->paths[i]) != 0) {
			rc = io_rc(errno, "naming", od->paths[i]);
			break;
		}
		placed = i + 1;
	}
	for (size_t i = placed; i < od->n; i++)
		if (od->fds[i] < 0)
			(void)unlink(tmps[i]);
	if (dfd >= 0) {
		if (fsync(dfd) != 0 && rc == OFFCA_OK)
			rc = io_rc(errno, "fsync", od->dir);
		close(dfd);
	}
	free(tmps);
	return rc;
}
