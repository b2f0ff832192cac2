/*
 * gw_state.c - the gateway's state: one LMDB environment in STATE/db with the databases "tokens"
 * (id -> token record, the secret only as a SHA-256), "queue" (request id -> request, its
 * provenance and, once answered, the certificates) and "crl" (issuer hash -> newest CRL).
 * Values are JSON objects. Every write is a committed transaction (crash-safe like the CA store).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw.h"
#include "offca/util.h"

#define GW_MAP_SIZE (4ull * 1024 * 1024 * 1024)
#define GW_MAX_VALUE (256u * 1024u)

struct gw_state {
	char *dir;
	MDB_env *env;
	MDB_dbi dbi[GW_DB__COUNT];
};

static const char *const db_names[GW_DB__COUNT] = {"tokens", "queue", "crl"};

static offca_rc mdb_rc(int r, const char *what)
{
	if (r == MDB_SUCCESS)
		return OFFCA_OK;
	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_NOT_FOUND, "%s: not found", what);
	if (r == MDB_MAP_FULL || r == ENOSPC)
		return ut_err(OFFCA_E_DISK_FULL, "%s: gateway state is full (%s)", what, mdb_strerror(r));
	if (r == EACCES)
		return ut_err(OFFCA_E_PERM, "%s: %s", what, mdb_strerror(r));
	return ut_err(OFFCA_E_STORE, "%s: %s", what, mdb_strerror(r));
}

static offca_rc open_dbs(gw_state *st)
{
	MDB_txn *txn = NULL;
	int r = mdb_txn_begin(st->env, NULL, 0, &txn);

	for (int i = 0; r == MDB_SUCCESS && i < GW_DB__COUNT; i++)
		r = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
	if (r != MDB_SUCCESS) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		return mdb_rc(r, "opening the gateway state");
	}
	return mdb_rc(mdb_txn_commit(txn), "opening the gateway state");
}

offca_rc gw_state_open(const char *dir, int create, gw_state **out)
{
	gw_state *st = NULL;
	char db[4096];
	struct stat sb;
	offca_rc rc = OFFCA_E_STATE;
	int r;

	*out = NULL;
	if (snprintf(db, sizeof(db), "%s/db", dir) >= (int)sizeof(db))
		return ut_err(OFFCA_E_USAGE, "state path too long");
	if (create && (rc = ut_mkdir_p(db, 0700)) != OFFCA_OK)
		return ut_err(rc, "creating %s: %s", db, ut_err_msg());
	if (stat(db, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return ut_err(OFFCA_E_STATE, "no gateway state in %s (start `offca-gateway serve --state %s` once)", dir, dir);
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->dir = strdup(dir)) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	r = mdb_env_create(&st->env);
	if (r == MDB_SUCCESS)
		r = mdb_env_set_maxdbs(st->env, GW_DB__COUNT);
	if (r == MDB_SUCCESS)
		r = mdb_env_set_mapsize(st->env, GW_MAP_SIZE);
	if (r == MDB_SUCCESS)
		r = mdb_env_open(st->env, db, MDB_NOTLS, 0600);
	if ((rc = mdb_rc(r, "opening the gateway state")) != OFFCA_OK)
		goto out;
	if ((rc = open_dbs(st)) != OFFCA_OK)
		goto out;
	*out = st;
	st = NULL;
out:
	gw_state_free(st);
	return rc;
}

void gw_state_free(gw_state *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st->dir);
	free(st);
}

const char *gw_state_dir(const gw_state *st)
{
	return st->dir;
}

offca_rc gw_txn_begin(gw_state *st, MDB_txn **txn)
{
	*txn = NULL;
	return mdb_rc(mdb_txn_begin(st->env, NULL, 0, txn), "gateway state transaction");
}

offca_rc gw_txn_commit(MDB_txn *txn)
{
	return mdb_rc(mdb_txn_commit(txn), "committing the gateway state");
}

offca_rc gw_get(gw_state *st, gw_db db, const char *key, json_t **out)
{
	MDB_txn *txn = NULL;
	MDB_val k = {strlen(key), (void *)key}, v;
	json_error_t je;
	offca_rc rc;
	int r;

	*out = NULL;
	if ((r = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return mdb_rc(r, "reading the gateway state");
	r = mdb_get(txn, st->dbi[db], &k, &v);
	if (r == MDB_NOTFOUND)
		rc = OFFCA_E_NOT_FOUND;
	else if (r != MDB_SUCCESS)
		rc = mdb_rc(r, "reading the gateway state");
	else if ((*out = json_loadb(v.mv_data, v.mv_size, JSON_REJECT_DUPLICATES, &je)) == NULL ||
		 !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = ut_err(OFFCA_E_STORE, "gateway state record %s is malformed", key);
	} else
		rc = OFFCA_OK;
	mdb_txn_abort(txn);
	return rc;
}

offca_rc gw_put(gw_state *st, MDB_txn *txn, gw_db db, const char *key, const json_t *val)
{
	MDB_txn *own = NULL;
	char *s = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS);
	MDB_val k = {strlen(key), (void *)key}, v;
	offca_rc rc;
	int r;

	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (strlen(s) > GW_MAX_VALUE) {
		free(s);
		return ut_err(OFFCA_E_TOO_BIG, "gateway state record larger than %u bytes", GW_MAX_VALUE);
	}
	v.mv_size = strlen(s);
	v.mv_data = s;
	if (txn == NULL && (rc = gw_txn_begin(st, &own)) != OFFCA_OK) {
		free(s);
		return rc;
	}
	r = mdb_put(txn != NULL ? txn : own, st->dbi[db], &k, &v, 0);
	free(s);
	if (own == NULL)
		return mdb_rc(r, "writing the gateway state");
	if (r != MDB_SUCCESS) {
		mdb_txn_abort(own);
		return mdb_rc(r, "writing the gateway state");
	}
	return gw_txn_commit(own);
}

offca_rc gw_each(gw_state *st, gw_db db, gw_each_cb cb, void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	offca_rc rc = OFFCA_OK;
	int r;

	if ((r = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return mdb_rc(r, "reading the gateway state");
	if ((r = mdb_cursor_open(txn, st->dbi[db], &cur)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return mdb_rc(r, "reading the gateway state");
	}
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == MDB_SUCCESS; r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char key[256];
		json_t *j;
		int stop;

		if (k.mv_size >= sizeof(key) || (j = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL) {
			rc = ut_err(OFFCA_E_STORE, "gateway state record is malformed");
			break;
		}
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		stop = cb(arg, key, j);
		json_decref(j);
		if (stop)
			break;
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = mdb_rc(r, "reading the gateway state");
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

offca_rc gw_count(gw_state *st, gw_db db, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_stat s;
	int r;

	*n = 0;
	if ((r = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != MDB_SUCCESS)
		return mdb_rc(r, "reading the gateway state");
	r = mdb_stat(txn, st->dbi[db], &s);
	mdb_txn_abort(txn);
	if (r == MDB_SUCCESS)
		*n = s.ms_entries;
	return mdb_rc(r, "reading the gateway state");
}
