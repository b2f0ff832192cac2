/*
 * store_batch.c - committing certificate records: the incremental batch (begin, add chunks while
 * the pipeline still signs, commit once) and ca_store_cert_commit[_ex]() on top of it.
 *
 * A batch is one LMDB write transaction kept open between calls, plus the audit log's tail
 * (sequence number and hash of the last entry, held here and written to meta/audit_head once,
 * before the commit). Nothing reaches the disk before mdb_txn_commit(); an abort throws the whole
 * transaction away, the cached tail with it, so the chain's head in the store is untouched.
 */
#include "store_int.h"
#include "offca/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ca_cert_batch {
	ca_store *st;
	MDB_txn *txn;
	pthread_t owner;      /* the thread that began the transaction: the only one that may use it */
	ca_audit_tail tail;
	MDB_cursor *resv;     /* on DB_RESV: closes each reservation with one search */
	size_t n_recs;        /* records added so far */
	int poisoned;         /* an add failed: only abort is left */
};

offca_rc ca_st_check_no_batch(const ca_store *st, const char *what)
{
	if (st != NULL && st->batch != NULL)
		return ut_err(OFFCA_E_STATE, "%s: a certificate batch is open on this store (commit or abort it first)",
			      what);
	return OFFCA_OK;
}

/* End the transaction (if still open) and free b. */
static void batch_end(ca_cert_batch *b)
{
	if (b->resv != NULL)
		mdb_cursor_close(b->resv);
	if (b->txn != NULL)
		mdb_txn_abort(b->txn);
	ca_audit_tail_clear(&b->tail);
	if (b->st != NULL && b->st->batch == b)
		b->st->batch = NULL;
	free(b);
}

offca_rc ca_store_cert_batch_begin(ca_store *st, ca_cert_batch **out)
{
	ca_cert_batch *b = NULL;
	offca_rc rc;

	if (out == NULL || st == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_batch_begin: NULL argument");
	*out = NULL;
	rc = ca_st_check_no_batch(st, "beginning a certificate batch");
	if (rc != OFFCA_OK)
		return rc;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ca_st_begin(st, 0, &b->txn);
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_load(st, b->txn, &b->tail);
	if (rc == OFFCA_OK)
		rc = ca_st_rc(mdb_cursor_open(b->txn, st->dbi[DB_RESV], &b->resv), "opening serial reservations");
	if (rc != OFFCA_OK) {
		batch_end(b);
		return rc;
	}
	b->st = st;
	b->owner = pthread_self();
	st->batch = b;
	*out = b;
	return OFFCA_OK;
}

/* The batch may be used by this call: not poisoned, on its own thread. */
static offca_rc usable(const ca_cert_batch *b, const char *what)
{
	if (!pthread_equal(b->owner, pthread_self()))
		return ut_err(OFFCA_E_USAGE, "%s: a certificate batch must be used by the thread that began it", what);
	if (b->poisoned)
		return ut_err(OFFCA_E_STATE, "%s: an earlier add to this certificate batch failed: abort it", what);
	return OFFCA_OK;
}

offca_rc ca_store_cert_batch_add(ca_cert_batch *b, const ca_cert_record *recs, size_t n)
{
	offca_rc rc;

	if (b == NULL || (recs == NULL && n > 0))
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_batch_add: NULL argument");
	rc = usable(b, "adding certificate records");
	if (rc != OFFCA_OK)
		return rc;
	if (n > CA_STORE_MAX_BATCH - b->n_recs) {
		b->poisoned = 1;
		return ut_err(OFFCA_E_USAGE, "more than %u certificate records in one batch", CA_STORE_MAX_BATCH);
	}
	for (size_t i = 0; i < n; i++) {
		rc = ca_st_cert_put_txn(b->st, b->txn, &b->tail, b->resv, &recs[i]);
		if (rc != OFFCA_OK) {
			b->poisoned = 1;
			return rc;
		}
	}
	b->n_recs += n;
	return OFFCA_OK;
}

offca_rc ca_store_cert_batch_commit(ca_cert_batch *b, const uint64_t *pending_ids, size_t n_pending)
{
	MDB_txn *txn;
	offca_rc rc;

	if (b == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_batch_commit: no batch");
	rc = usable(b, "committing certificate records");
	if (rc == OFFCA_OK && (n_pending > b->n_recs || (n_pending > 0 && pending_ids == NULL)))
		rc = ut_err(OFFCA_E_USAGE, "committing certificate records: %zu pending ids for %zu records", n_pending,
			    b->n_recs);
	/* the head first: removing pending CSRs appends its entry after the head it reads */
	if (rc == OFFCA_OK)
		rc = ca_audit_tail_flush(b->st, b->txn, &b->tail);
	if (rc == OFFCA_OK && n_pending > 0)
		rc = ca_st_pending_remove_txn(b->st, b->txn, pending_ids, n_pending);
	if (rc != OFFCA_OK) {
		if (pthread_equal(b->owner, pthread_self()))
			batch_end(b);
		return rc;
	}
	mdb_cursor_close(b->resv);
	b->resv = NULL;
	txn = b->txn;
	b->txn = NULL;
	rc = ca_st_commit(txn, "committing certificate records");
	batch_end(b);
	return rc;
}

void ca_store_cert_batch_abort(ca_cert_batch *b)
{
	if (b != NULL)
		batch_end(b);
}

offca_rc ca_store_cert_commit_ex(ca_store *st, const ca_cert_record *recs, size_t n, const uint64_t *pending_ids,
				 size_t n_pending)
{
	ca_cert_batch *b = NULL;
	offca_rc rc;

	if (recs == NULL || n == 0 || n > CA_STORE_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_commit: 1..%u records", CA_STORE_MAX_BATCH);
	if (n_pending > n || (n_pending > 0 && pending_ids == NULL))
		return ut_err(OFFCA_E_USAGE, "ca_store_cert_commit_ex: %zu pending ids for %zu records", n_pending, n);
	rc = ca_store_cert_batch_begin(st, &b);
	if (rc != OFFCA_OK)
		return rc;
	rc = ca_store_cert_batch_add(b, recs, n);
	if (rc != OFFCA_OK) {
		ca_store_cert_batch_abort(b);
		return rc;
	}
	return ca_store_cert_batch_commit(b, pending_ids, n_pending);
}

offca_rc ca_store_cert_commit(ca_store *st, const ca_cert_record *recs, size_t n)
{
	return ca_store_cert_commit_ex(st, recs, n, NULL, 0);
}
