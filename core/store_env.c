/*
 * store_env.c - opening and closing the CA store: the home layout, the lock, the LMDB
 * environment and its named databases, and the translation of LMDB errors.
 */
#include "store_int.h"
#include "offca/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static const char *const db_names[DB__COUNT] = {
	"meta", "certs", "fp", "expiry", "san", "revoked", "issuers", "resv", "resv_open", "crl",
	"pending", "audit", "bind"};

void ca_be64_put(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

uint64_t ca_be64_get(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

offca_rc ca_st_rc(int mdb_rc, const char *what)
{
	switch (mdb_rc) {
	case MDB_SUCCESS:
		return OFFCA_OK;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return ut_err(OFFCA_E_DISK_FULL, "%s: the CA store is full (%s); nothing was committed", what,
			      mdb_strerror(mdb_rc));
	case MDB_TXN_FULL:
		return ut_err(OFFCA_E_TOO_BIG, "%s: too many changes for one transaction (use smaller batches); "
			      "nothing was committed", what);
	case MDB_NOTFOUND:
		return ut_err(OFFCA_E_NOT_FOUND, "%s: not found", what);
	case MDB_KEYEXIST:
		return ut_err(OFFCA_E_EXISTS, "%s: already exists", what);
	case EACCES:
	case EPERM:
		return ut_err(OFFCA_E_PERM, "%s: %s", what, mdb_strerror(mdb_rc));
	case ENOMEM:
		return ut_err(OFFCA_E_NOMEM, "%s: out of memory", what);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return ut_err(OFFCA_E_DAMAGED, "the store is damaged: see offca restore (%s: %s)", what,
			      mdb_strerror(mdb_rc));
	default:
		return ut_err(OFFCA_E_STORE, "%s: %s", what, mdb_strerror(mdb_rc));
	}
}

offca_rc ca_st_begin(ca_store *st, int rdonly, MDB_txn **txn)
{
	int r;

	*txn = NULL;
	if (st == NULL || st->env == NULL)
		return ut_err(OFFCA_E_USAGE, "CA store not open");
	/* every writer: with a certificate batch open, LMDB's one write transaction is the batch's
	   (waiting for it on the batch's own thread would never end) */
	if (!rdonly && ca_st_check_no_batch(st, "writing to the CA store") != OFFCA_OK)
		return OFFCA_E_STATE;
	if (!rdonly && st->rdonly)
		return ut_err(OFFCA_E_INTERNAL, "the CA store was opened read-only: cannot write to it");
	r = mdb_txn_begin(st->env, NULL, rdonly ? MDB_RDONLY : 0, txn);
	if (r != MDB_SUCCESS) {
		*txn = NULL;
		return ca_st_rc(r, "CA store transaction");
	}
	return OFFCA_OK;
}

/*
 * LMDB reports a short write of its pages as EIO ("short write, filesystem full?"), and some file
 * systems report a full disk at fsync as EIO: an EIO while the store's file system has (almost)
 * no free block left is a full disk. Free blocks as the writer sees them: root may use the
 * reserved ones.
 */
static int disk_is_full(MDB_env *env)
{
	const char *path = NULL;
	struct statvfs sv;
	unsigned long long avail;

	if (env == NULL || mdb_env_get_path(env, &path) != MDB_SUCCESS || path == NULL || statvfs(path, &sv) != 0)
		return 0;
	avail = (unsigned long long)(geteuid() == 0 ? sv.f_bfree : sv.f_bavail) * sv.f_frsize;
	return avail < STORE_FULL_SLACK;
}

offca_rc ca_st_commit(MDB_txn *txn, const char *what)
{
	MDB_env *env = mdb_txn_env(txn);
	int r = mdb_txn_commit(txn);

	if (r == EIO && disk_is_full(env))
		r = ENOSPC;
	return ca_st_rc(r, what);
}

const char *ca_store_home(const ca_store *st)
{
	return st ? st->home : "";
}

static offca_rc path_join(char *buf, size_t cap, const char *home, const char *leaf)
{
	int n = snprintf(buf, cap, "%s/%s", home, leaf);

	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_TOO_BIG, "CA home path too long: %.80s", home);
	return OFFCA_OK;
}

/* home/store must be a directory that only its owner can write. */
static offca_rc check_dir(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return ut_err(OFFCA_E_STATE, "no CA home at %s: run 'offca init --home DIR' first", path);
	if (!S_ISDIR(sb.st_mode))
		return ut_err(OFFCA_E_STATE, "%s is not a directory (not a CA home)", path);
	if ((sb.st_mode & 022) != 0)
		return ut_err(OFFCA_E_PERM, "%s is writable by group or others (mode %03o): fix with chmod 700",
			      path, (unsigned)(sb.st_mode & 0777));
	if (sb.st_uid != geteuid())
		return ut_err(OFFCA_E_PERM, "%s belongs to another user", path);
	return OFFCA_OK;
}

static offca_rc make_layout(const char *home)
{
	char p[STORE_MAX_PATH];
	offca_rc rc;

	rc = ut_mkdir_p(home, 0700);
	if (rc != OFFCA_OK)
		return rc;
	rc = path_join(p, sizeof(p), home, "store");
	if (rc != OFFCA_OK)
		return rc;
	if (mkdir(p, 0700) != 0) {
		if (errno == EEXIST)
			return ut_err(OFFCA_E_EXISTS, "%s already holds a CA store: refusing to initialise it again",
				      home);
		if (errno == ENOSPC || errno == EDQUOT)
			return ut_err(OFFCA_E_DISK_FULL, "cannot create %s: disk full", p);
		return ut_err(errno == EACCES ? OFFCA_E_PERM : OFFCA_E_IO, "cannot create %s: %s", p,
			      strerror(errno));
	}
	rc = path_join(p, sizeof(p), home, "outbox");
	if (rc != OFFCA_OK)
		return rc;
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return ut_err(OFFCA_E_IO, "cannot create %s: %s", p, strerror(errno));
	return OFFCA_OK;
}

/* A failed create leaves nothing behind that would make the next `offca init` refuse. */
static void undo_layout(const char *home)
{
	static const char *const files[] = {"store/data.mdb", "store/lock.mdb", "lock"};
	static const char *const dirs[] = {"store", "outbox"};
	char p[STORE_MAX_PATH];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (path_join(p, sizeof(p), home, files[i]) == OFFCA_OK)
			(void)unlink(p);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (path_join(p, sizeof(p), home, dirs[i]) == OFFCA_OK)
			(void)rmdir(p);
}

static offca_rc take_lock(ca_store *st)
{
	char p[STORE_MAX_PATH];
	offca_rc rc = path_join(p, sizeof(p), st->home, "lock");

	if (rc != OFFCA_OK)
		return rc;
	st->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0)
		return ut_err(errno == EACCES ? OFFCA_E_PERM : OFFCA_E_IO, "cannot open %s: %s", p,
			      strerror(errno));
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			return ut_err(OFFCA_E_STATE, "the CA home %s is in use by another offca process", st->home);
		return ut_err(OFFCA_E_IO, "cannot lock %s: %s", p, strerror(errno));
	}
	return OFFCA_OK;
}

/* Open the named databases in a transaction of the store's kind (a read-only commit keeps them). */
static offca_rc open_dbs(ca_store *st, int create, const char *p)
{
	MDB_txn *txn = NULL;
	offca_rc rc = ca_st_begin(st, st->rdonly, &txn);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	for (int i = 0; i < DB__COUNT; i++) {
		r = mdb_dbi_open(txn, db_names[i], create ? MDB_CREATE : 0, &st->dbi[i]);
		if (r != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			/* a store whose format could be read but lost a database: its main tree is damaged */
			if (r == MDB_NOTFOUND)
				return ut_err(OFFCA_E_DAMAGED, "the store is damaged: see offca restore (%s: database "
					      "'%s' missing)", p, db_names[i]);
			return ca_st_rc(r, "opening the CA store databases");
		}
	}
	return ca_st_commit(txn, "opening the CA store databases");
}

static offca_rc open_env(ca_store *st, enum ca_st_mode mode, size_t map_size)
{
	char p[STORE_MAX_PATH];
	offca_rc rc = path_join(p, sizeof(p), st->home, "store");
	unsigned flags = MDB_NOTLS;
	int r, dead = 0;

	if (rc != OFFCA_OK)
		return rc;
	if (mode != CA_ST_CREATE) { /* LMDB trusts its meta pages: a damaged one must not be mapped */
		rc = ca_st_check_meta(p);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (mode == CA_ST_READ || mode == CA_ST_COPY)
		flags |= MDB_RDONLY;
	if (mode == CA_ST_COPY)
		flags |= MDB_NOLOCK;
	st->rdonly = (flags & MDB_RDONLY) != 0;
	r = mdb_env_create(&st->env);
	if (r == MDB_SUCCESS)
		r = mdb_env_set_maxdbs(st->env, DB__COUNT + 4);
	if (r == MDB_SUCCESS)
		r = mdb_env_set_mapsize(st->env, map_size ? map_size : STORE_DEFAULT_MAP);
	if (r == MDB_SUCCESS)
		r = mdb_env_set_assert(st->env, ca_st_fault_assert_cb);
	if (r == MDB_SUCCESS)
		r = mdb_env_open(st->env, p, flags, 0600);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "opening the CA store");
	st->fault_slot = ca_st_fault_register(st->env);
	/* reader slots left by a killed process would keep old pages from being reused */
	if (mode != CA_ST_COPY) {
		r = mdb_reader_check(st->env, &dead);
		if (r != MDB_SUCCESS)
			return ca_st_rc(r, "checking the CA store's readers");
	}
	return open_dbs(st, mode == CA_ST_CREATE, p);
}

/* Store format version: written at create, checked at open. */
static offca_rc format_version(ca_store *st, int create)
{
	MDB_txn *txn = NULL;
	MDB_val k = {6, "format"}, v;
	unsigned char ver[4] = {0, 0, 0, STORE_FORMAT_VERSION};
	offca_rc rc = ca_st_begin(st, !create, &txn);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	if (create) {
		v.mv_size = 4;
		v.mv_data = ver;
		r = mdb_put(txn, st->dbi[DB_META], &k, &v, MDB_NOOVERWRITE);
		if (r != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return ca_st_rc(r, "initialising the CA store");
		}
		rc = ca_audit_append_txn(st, txn, "init", "CA home created");
		if (rc != OFFCA_OK) {
			mdb_txn_abort(txn);
			return rc;
		}
		return ca_st_commit(txn, "initialising the CA store");
	}
	r = mdb_get(txn, st->dbi[DB_META], &k, &v);
	mdb_txn_abort(txn);
	if (r != MDB_SUCCESS || v.mv_size != 4 || memcmp(v.mv_data, ver, 4) != 0)
		return ut_err(OFFCA_E_STORE, "the CA store in %s has an unknown format version", st->home);
	return OFFCA_OK;
}

/*
 * Only a writable open voids reservations a dead run left. If that fails for lack of room (or
 * an I/O error), the store still opens: reading needs no write, and
 * the next writable open with room voids them.
 */
static offca_rc void_stale(ca_store *st)
{
	offca_rc rc = ca_st_void_stale(st);

	if (rc == OFFCA_E_DISK_FULL || rc == OFFCA_E_IO) {
		ut_err_clear();
		rc = OFFCA_OK;
	}
	return rc;
}

/* The reversed-name SAN index of an older store is built at its first writable open; without room
   (or on an I/O error) the store still opens and `list --san '*.suffix'` walks the names instead. */
static offca_rc san_rev(ca_store *st)
{
	offca_rc rc = ca_st_san_rev_ensure(st);

	if (rc == OFFCA_E_DISK_FULL || rc == OFFCA_E_IO) {
		ut_err_clear();
		rc = OFFCA_OK;
	}
	return rc;
}

static offca_rc open_checked(ca_store *st, enum ca_st_mode mode, size_t map_size)
{
	char p[STORE_MAX_PATH];
	offca_rc rc = check_dir(st->home);

	if (rc == OFFCA_OK)
		rc = path_join(p, sizeof(p), st->home, "store");
	if (rc == OFFCA_OK)
		rc = check_dir(p);
	if (rc == OFFCA_OK && mode != CA_ST_COPY)
		rc = take_lock(st);
	if (rc == OFFCA_OK)
		rc = open_env(st, mode, map_size);
	if (rc == OFFCA_OK)
		rc = format_version(st, mode == CA_ST_CREATE);
	if (rc == OFFCA_OK && mode == CA_ST_WRITE)
		rc = void_stale(st);
	if (rc == OFFCA_OK && (mode == CA_ST_WRITE || mode == CA_ST_CREATE))
		rc = san_rev(st);
	return rc;
}

offca_rc ca_st_open_mode(const char *home, enum ca_st_mode mode, size_t map_size, ca_store **out)
{
	ca_store *st = NULL;
	offca_rc rc = OFFCA_E_INTERNAL;
	int made = 0;

	if (out != NULL)
		*out = NULL;
	if (home == NULL || home[0] == '\0' || out == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_open: no CA home given");
	if (strlen(home) >= STORE_MAX_PATH - 32)
		return ut_err(OFFCA_E_TOO_BIG, "CA home path too long");
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	st->lock_fd = -1;
	st->fault_slot = -1;
	memcpy(st->home, home, strlen(home) + 1);
	if (mode == CA_ST_CREATE) {
		rc = make_layout(home);
		if (rc != OFFCA_OK)
			goto out;
		made = 1;
	}
	rc = open_checked(st, mode, map_size);
	if (rc != OFFCA_OK)
		goto out;
	*out = st;
	st = NULL;
out:
	ca_store_free(st);
	if (rc != OFFCA_OK && made)
		undo_layout(home);
	return rc;
}

offca_rc ca_store_open_ex(const char *home, int create, size_t map_size, ca_store **out)
{
	return ca_st_open_mode(home, create ? CA_ST_CREATE : CA_ST_WRITE, map_size, out);
}

/* OFFCA_STORE_MAPSIZE, or 0 (the default). */
static offca_rc env_map_size(size_t *out)
{
	const char *env = getenv("OFFCA_STORE_MAPSIZE");
	unsigned long long v = 0;
	char *end = NULL;

	*out = 0;
	if (env == NULL || env[0] == '\0')
		return OFFCA_OK;
	errno = 0;
	v = strtoull(env, &end, 10);
	if (errno != 0 || end == env || *end != '\0' || v == 0 || v > STORE_MAX_MAP)
		return ut_err(OFFCA_E_USAGE, "OFFCA_STORE_MAPSIZE must be a size in bytes (1..%llu)",
			      (unsigned long long)STORE_MAX_MAP);
	*out = (size_t)v;
	return OFFCA_OK;
}

offca_rc ca_store_open(const char *home, int create, ca_store **out)
{
	size_t map = 0;
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	rc = env_map_size(&map);
	if (rc != OFFCA_OK)
		return rc;
	return ca_store_open_ex(home, create, map, out);
}

offca_rc ca_store_open_ro(const char *home, ca_store **out)
{
	size_t map = 0;
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	rc = env_map_size(&map);
	if (rc != OFFCA_OK)
		return rc;
	return ca_st_open_mode(home, CA_ST_READ, map, out);
}

void ca_store_free(ca_store *st)
{
	if (st == NULL)
		return;
	ca_st_fault_unregister(st->fault_slot);
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}
