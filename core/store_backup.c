/*
 * store_backup.c - `offca backup` and `offca restore` (docs/store.md, "Backup and restore").
 *
 * A backup is a new directory holding what a CA home holds: store/data.mdb (a compacted copy
 * LMDB writes from one read transaction, so it is one consistent state, while the home lock
 * keeps every writer out), config.json, outbox/ and any other file the operator keeps there. It
 * is built under a temporary name beside DEST, fsynced, opened and checked (audit chain and
 * records), and only then renamed to DEST, which is never replaced.
 * A restore checks the backup the same way, builds the new home content in a staging directory
 * inside the home, checks that copy, and swaps each entry in with renameat2(RENAME_EXCHANGE) (one
 * atomic step each, the store first), so the previous store and config end up together in
 * HOME/.restore-old-<time>: nothing is deleted.
 */
#define _GNU_SOURCE
#include "store_int.h"
#include "store_copy.h"
#include "offca/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static offca_rc join(char *buf, size_t cap, const char *a, const char *b)
{
	int n = snprintf(buf, cap, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "path too long: %.80s", a);
	return OFFCA_OK;
}

offca_rc ca_store_verify_copy(const char *dir, ca_backup_info *info)
{
	ca_store *st = NULL;
	ca_backup_info i = {0, 0, 0};
	offca_rc rc = ca_st_open_mode(dir, CA_ST_COPY, 0, &st);

	if (info != NULL)
		*info = i;
	if (rc == OFFCA_OK)
		rc = ca_store_audit_verify(st, &i.entries);
	if (rc == OFFCA_OK)
		rc = ca_store_audit_check_records(st, &i.certs, &i.revoked);
	ca_store_free(st);
	if (rc == OFFCA_OK && info != NULL)
		*info = i;
	return rc;
}

/* LMDB's compacted copy of st into dir/store (created), fsynced. */
static offca_rc copy_store(ca_store *st, const char *dir)
{
	char p[STORE_MAX_PATH], f[STORE_MAX_PATH];
	offca_rc rc = join(p, sizeof(p), dir, "store");
	int r;

	if (rc != OFFCA_OK)
		return rc;
	if (mkdir(p, 0700) != 0)
		return ut_err(ut_errno_rc(errno), "cannot create %s: %s", p, strerror(errno));
	r = mdb_env_copy2(st->env, p, MDB_CP_COMPACT);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "copying the CA store");
	rc = join(f, sizeof(f), p, "data.mdb");
	if (rc == OFFCA_OK && chmod(f, 0600) != 0) /* LMDB creates the copy 0644 */
		rc = ut_err(OFFCA_E_IO, "cannot chmod %s: %s", f, strerror(errno));
	if (rc == OFFCA_OK)
		rc = ca_st_sync_path(f);
	if (rc == OFFCA_OK)
		rc = ca_st_sync_path(p);
	return rc;
}

/* The directory part of path ("." when none) into buf. */
static offca_rc parent_of(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

	if (n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "path too long: %.80s", path);
	memcpy(buf, slash == NULL ? "." : path, n);
	buf[n] = '\0';
	return OFFCA_OK;
}

/* A backup inside the home would copy itself (and be lost with the home): refused. */
static offca_rc outside_home(const char *home, const char *parent, const char *dest)
{
	char h[PATH_MAX], p[PATH_MAX];
	size_t n;

	if (realpath(home, h) == NULL)
		return ut_err(OFFCA_E_IO, "%s: %s", home, strerror(errno));
	if (realpath(parent, p) == NULL)
		return ut_err(ut_errno_rc(errno), "cannot back up into %s: %s", parent, strerror(errno));
	n = strlen(h);
	if (strncmp(p, h, n) == 0 && (p[n] == '\0' || p[n] == '/' || n == 1))
		return ut_err(OFFCA_E_USAGE, "%s is inside the CA home %s: put backups outside it", dest, home);
	return OFFCA_OK;
}

offca_rc ca_store_backup(ca_store *st, const char *dest, ca_backup_info *info)
{
	char tmp[STORE_MAX_PATH], parent[STORE_MAX_PATH];
	offca_rc rc;
	int n;

	if (st == NULL || dest == NULL || dest[0] == '\0')
		return ut_err(OFFCA_E_USAGE, "ca_store_backup: no destination");
	if (ut_path_exists(dest) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists: a backup never overwrites anything", dest);
	rc = parent_of(dest, parent, sizeof(parent));
	if (rc == OFFCA_OK)
		rc = outside_home(st->home, parent, dest);
	if (rc != OFFCA_OK)
		return rc;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dest, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ut_err(OFFCA_E_TOO_BIG, "backup path too long");
	if (mkdir(tmp, 0700) != 0)
		return ut_err(ut_errno_rc(errno), "cannot create %s: %s", tmp, strerror(errno));
	rc = copy_store(st, tmp);
	if (rc == OFFCA_OK)
		rc = ca_st_copy_home_files(st->home, tmp);
	if (rc == OFFCA_OK)
		rc = ca_st_sync_path(tmp);
	if (rc == OFFCA_OK) {
		rc = ca_store_verify_copy(tmp, info);
		if (rc != OFFCA_OK)
			rc = ut_err(rc, "the backup copy does not verify: %s", ut_err_msg());
	}
	if (rc == OFFCA_OK && renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) != 0)
		rc = ut_err(ut_errno_rc(errno), "cannot name the backup %s: %s", dest, strerror(errno));
	if (rc == OFFCA_OK)
		rc = ca_st_sync_path(parent);
	if (rc != OFFCA_OK)
		ca_st_remove_tree(tmp);
	return rc;
}

offca_rc ca_store_home_lock(const char *home, int *fd)
{
	char p[STORE_MAX_PATH];
	offca_rc rc;

	*fd = -1;
	rc = ut_mkdir_p(home, 0700);
	if (rc == OFFCA_OK)
		rc = join(p, sizeof(p), home, "lock");
	if (rc != OFFCA_OK)
		return rc;
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return ut_err(ut_errno_rc(errno), "cannot open %s: %s", p, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		rc = ut_err(errno == EWOULDBLOCK ? OFFCA_E_STATE : OFFCA_E_IO, "the CA home %s is in use by another offca process",
			    home);
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/* Swap name between stage and home: exchanged when home has it, moved in when not. */
static offca_rc swap_in(const char *stage, const char *home, const char *name)
{
	char a[STORE_MAX_PATH], b[STORE_MAX_PATH];
	offca_rc rc = join(a, sizeof(a), stage, name);

	if (rc == OFFCA_OK)
		rc = join(b, sizeof(b), home, name);
	if (rc != OFFCA_OK)
		return rc;
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0)
		return OFFCA_OK;
	if (errno == ENOENT && renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == 0)
		return OFFCA_OK;
	return ut_err(ut_errno_rc(errno), "cannot put %s in place: %s", b, strerror(errno));
}

/* Swap every top-level entry of stage into home, the store first. */
static offca_rc swap_all(const char *stage, const char *home)
{
	DIR *d;
	struct dirent *e;
	char names[64][256];
	size_t n = 0;
	offca_rc rc = swap_in(stage, home, "store");

	if (rc != OFFCA_OK)
		return rc;
	d = opendir(stage);
	if (d == NULL)
		return ut_err(OFFCA_E_IO, "cannot read %s: %s", stage, strerror(errno));
	while ((e = readdir(d)) != NULL && n < 64)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && !ca_st_copy_skips(e->d_name) &&
		    strlen(e->d_name) < sizeof(names[0]))
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	closedir(d);
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++)
		rc = swap_in(stage, home, names[i]);
	return rc;
}

/* HOME/.restore-old-<UTC time>-<pid> into aside. */
static offca_rc aside_name(const char *home, char *aside, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	char t[32];
	int n;

	if (gmtime_r(&now, &tm) == NULL || strftime(t, sizeof(t), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(t, sizeof(t), "%lld", (long long)now);
	n = snprintf(aside, cap, "%s/.restore-old-%s-%ld", home, t, (long)getpid());
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "CA home path too long");
	return OFFCA_OK;
}

offca_rc ca_store_restore_locked(const char *home, const char *src, char *aside, size_t cap)
{
	char stage[STORE_MAX_PATH];
	ca_store *from = NULL;
	offca_rc rc;
	int n = snprintf(stage, sizeof(stage), "%s/.restore-new-%ld", home, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(stage) || cap == 0)
		return ut_err(OFFCA_E_TOO_BIG, "CA home path too long");
	aside[0] = '\0';
	ca_st_remove_tree(stage); /* a leftover of an interrupted restore with this pid */
	if (mkdir(stage, 0700) != 0)
		return ut_err(ut_errno_rc(errno), "cannot create %s: %s", stage, strerror(errno));
	rc = ca_st_open_mode(src, CA_ST_COPY, 0, &from);
	if (rc == OFFCA_OK)
		rc = copy_store(from, stage);
	ca_store_free(from);
	if (rc == OFFCA_OK)
		rc = ca_st_copy_home_files(src, stage);
	if (rc == OFFCA_OK) {
		rc = ca_store_verify_copy(stage, NULL);
		if (rc != OFFCA_OK)
			rc = ut_err(rc, "the restored copy does not verify: %s", ut_err_msg());
	}
	if (rc == OFFCA_OK)
		rc = swap_all(stage, home);
	if (rc == OFFCA_OK)
		rc = aside_name(home, aside, cap);
	if (rc == OFFCA_OK && rename(stage, aside) != 0)
		rc = ut_err(OFFCA_E_IO, "restored, but cannot rename %s to %s: %s", stage, aside, strerror(errno));
	if (rc == OFFCA_OK)
		rc = ca_st_sync_path(home);
	if (rc != OFFCA_OK && aside[0] == '\0')
		ca_st_remove_tree(stage);
	return rc;
}
