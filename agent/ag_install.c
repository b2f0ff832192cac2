/*
 * ag_install.c - installing a certificate without ever leaving the endpoint without a working one:
 * the new generation is written completely into archive/N/ (each file written, fsynced, renamed by
 * ut_write_file), then one rename() of the symlink "current" switches to it, then the directory is
 * fsynced. The previous generation stays in archive/ untouched; readers of cert.pem, fullchain.pem,
 * privkey.pem (symlinks through current/) see the old set or the new set, never a mix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/pem.h>

#include "agent.h"
#include "offca/util.h"

/* a generation holds the first three and privkey.pem, or key.uri for a key on a token */
static const char *const names[] = {"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "key.uri"};

static const char *key_name(const char *key_path)
{
	const char *base = strrchr(key_path, '/');

	base = base != NULL ? base + 1 : key_path;
	return strcmp(base, "key.uri") == 0 ? "key.uri" : "privkey.pem";
}

offca_rc ag_path(char *buf, size_t cap, const char *dir, const char *name)
{
	if (snprintf(buf, cap, "%s/%s", dir, name) >= (int)cap)
		return ut_err(OFFCA_E_USAGE, "path %s/%s too long", dir, name);
	return OFFCA_OK;
}

static long next_generation(const char *archive)
{
	DIR *d = opendir(archive);
	struct dirent *e;
	long max = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end = NULL;
		long v = strtol(e->d_name, &end, 10);

		if (end != e->d_name && *end == '\0' && v > max)
			max = v;
	}
	if (d != NULL)
		closedir(d);
	return max + 1;
}

static offca_rc pem_of(X509 *leaf, STACK_OF(X509) *inter, int with_leaf, int with_inter, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int ok = b != NULL;

	*out = NULL;
	*len = 0;
	if (ok && with_leaf)
		ok = PEM_write_bio_X509(b, leaf);
	for (int i = 0; ok && with_inter && i < sk_X509_num(inter); i++)
		ok = PEM_write_bio_X509(b, sk_X509_value(inter, i));
	n = ok ? BIO_get_mem_data(b, &p) : -1;
	if (n >= 0 && (*out = malloc((size_t)n + 1)) != NULL) {
		memcpy(*out, p, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(b);
	return *out != NULL ? OFFCA_OK : ut_err(OFFCA_E_NOMEM, "out of memory");
}

static offca_rc fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd >= 0 ? fsync(fd) : -1;

	if (fd >= 0)
		close(fd);
	return r == 0 ? OFFCA_OK : ut_err(ut_errno_rc(errno), "fsync %s: %s", dir, strerror(errno));
}

static offca_rc write_generation(const char *gdir, const ag_issued *is, const char *key_path)
{
	unsigned char *key = NULL;
	size_t klen = 0;
	char path[4096];
	offca_rc rc = OFFCA_OK;

	for (int i = 0; i < 3 && rc == OFFCA_OK; i++) {
		char *pem = NULL;
		size_t n = 0;

		if ((rc = pem_of(is->leaf, is->inter, i != 1, i != 0, &pem, &n)) == OFFCA_OK &&
		    (rc = ag_path(path, sizeof(path), gdir, names[i])) == OFFCA_OK)
			rc = ut_write_file(path, pem, n, UT_WF_EXCL);
		free(pem);
	}
	if (rc == OFFCA_OK && (rc = ut_read_file(key_path, 64 * 1024, 1, &key, &klen)) == OFFCA_OK &&
	    (rc = ag_path(path, sizeof(path), gdir, key_name(key_path))) == OFFCA_OK)
		rc = ut_write_file(path, key, klen, UT_WF_EXCL | UT_WF_SECRET);
	ut_free_secret(key, klen);
	return rc;
}

offca_rc ag_install(const char *dir, const ag_issued *is, const char *key_path)
{
	char archive[4096], gdir[4200], rel[64], tmp[4096], cur[4096], path[4096], target[64];
	long g;
	offca_rc rc;

	if ((rc = ag_path(archive, sizeof(archive), dir, "archive")) != OFFCA_OK || (rc = ut_mkdir_p(archive, 0700)) != OFFCA_OK)
		return rc;
	g = next_generation(archive);
	snprintf(gdir, sizeof(gdir), "%s/%ld", archive, g);
	snprintf(rel, sizeof(rel), "archive/%ld", g);
	if (mkdir(gdir, 0700) != 0)
		return ut_err(ut_errno_rc(errno), "creating %s: %s", gdir, strerror(errno));
	if ((rc = write_generation(gdir, is, key_path)) != OFFCA_OK || (rc = fsync_dir(gdir)) != OFFCA_OK ||
	    (rc = fsync_dir(archive)) != OFFCA_OK)
		return ut_err(rc, "writing %s: %s (the installed certificate is unchanged)", gdir, ut_err_msg());
	if ((rc = ag_path(tmp, sizeof(tmp), dir, ".current.new")) != OFFCA_OK || (rc = ag_path(cur, sizeof(cur), dir, "current")) != OFFCA_OK)
		return rc;
	unlink(tmp);
	if (symlink(rel, tmp) != 0 || rename(tmp, cur) != 0)
		return ut_err(ut_errno_rc(errno), "switching %s to %s: %s (the installed certificate is unchanged)", cur, rel,
			      strerror(errno));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct stat sb;

		snprintf(target, sizeof(target), "current/%s", names[i]);
		if ((rc = ag_path(path, sizeof(path), dir, target)) != OFFCA_OK)
			return rc;
		if (stat(path, &sb) != 0)
			continue; /* not in this generation (privkey.pem or key.uri) */
		if ((rc = ag_path(path, sizeof(path), dir, names[i])) != OFFCA_OK)
			return rc;
		if (lstat(path, &sb) != 0 && symlink(target, path) != 0)
			return ut_err(ut_errno_rc(errno), "linking %s: %s", path, strerror(errno));
	}
	return fsync_dir(dir);
}

offca_rc ag_run_hook(const char *cmd, const char *dir)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return ut_err(OFFCA_E_IO, "deploy hook: fork: %s", strerror(errno));
	if (pid == 0) {
		setenv("RENEWED_LINEAGE", dir, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return ut_err(OFFCA_E_IO, "deploy hook: waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return ut_err(OFFCA_E_IO, "deploy hook '%s' failed (%s %d)", cmd, WIFEXITED(st) ? "exit" : "signal",
			      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return OFFCA_OK;
}
