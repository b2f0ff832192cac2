/*
 * sign_batch.c - the batch signing pipeline.
 *
 * Three kinds of task per certificate: "build" (parse the CSR strictly, check the policy, build
 * the TBS certificate), "sign" (on the token) and "check" (verify the new signature with the
 * issuer's public key, lint, make the store record). The calling thread is the only one that
 * signs (one token session); it also checks and builds when nothing is waiting to be signed.
 * A worker thread checks and builds. Tasks flow through two queues (built -> sign, signed ->
 * check), so both cores stay busy whichever stage is the slow one.
 * The store: the calling thread reserves the serials (committed) before anything is signed. With
 * two threads, a third one, the store thread, opens the records' write transaction
 * (ca_store_cert_batch_begin) and adds each finished record to it while the others still sign,
 * in input order, in chunks; once every certificate is done and the caller's stage_sync (the
 * staged output made durable) succeeded it commits, all at once with the pending CSRs' removal:
 * only that commit is left after the last signature. Any failure aborts the transaction first
 * (nothing recorded), then the reservations are voided.
 */
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/sign.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOKAHEAD 256
#define STORE_CHUNK 64 /* records handed to the store thread at a time */

enum store_cmd { SC_RUN, SC_COMMIT, SC_ABORT };

struct job {
	ca_signer *s;
	ca_store *st;
	const ca_sign_input *in;
	size_t n;
	const ca_sign_opts *o;
	ca_serial *serials;
	X509 **certs;
	ca_cert_record *recs;
	uint64_t *pend;               /* pending ids of the inputs that came from the queue */
	size_t n_pend;
	ca_signed *outs;
	int64_t nb, na;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next_build;            /* next input to build (claimed in order) */
	size_t *sign_q, sq_head, sq_tail; /* built, waiting for the token */
	size_t *check_q, cq_head, cq_tail; /* signed, waiting for verify + lint */
	size_t n_signed, n_done;
	/* the store thread's view: rec_ready[i] once recs[i] is made; ready = the complete prefix */
	unsigned char *rec_ready;
	size_t ready, ready_told;
	pthread_cond_t scv;           /* wakes the store thread */
	enum store_cmd scmd;
	int failed;
	offca_rc rc;
	size_t fail_idx;
	char msg[600];
};

static void job_fail(struct job *j, size_t idx, offca_rc rc)
{
	pthread_mutex_lock(&j->mu);
	if (!j->failed) {
		j->failed = 1;
		j->rc = rc;
		j->fail_idx = idx;
		snprintf(j->msg, sizeof(j->msg), "%s: %s", idx < j->n ? j->in[idx].label : "batch", ut_err_msg());
	}
	pthread_cond_broadcast(&j->cv);
	pthread_cond_signal(&j->scv);
	pthread_mutex_unlock(&j->mu);
}

static offca_rc stage_build(struct job *j, size_t i)
{
	offca_rc rc;
	ca_csr *csr = NULL;
	ca_request req;
	ca_cert_spec spec;
	const ca_issuer_cfg *cfg = j->s->cfg;

	memset(&req, 0, sizeof(req));
	if ((rc = ca_csr_parse(j->in[i].csr, j->in[i].csr_len, &csr)) != OFFCA_OK)
		goto out;
	if ((rc = ca_policy_check_chain(&cfg->policy, j->s->chain, csr, &req)) != OFFCA_OK)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.profile = j->o->profile;
	spec.subject = req.subject;
	spec.sans = req.sans;
	spec.subject_key = req.pubkey;
	spec.subject_spki = req.spki;
	spec.serial = j->serials[i].b;
	spec.serial_len = CA_SERIAL_LEN;
	spec.not_before = j->nb;
	spec.not_after = j->na;
	spec.issuer = j->s->cert;
	spec.path_len = -1;
	spec.aia_ca_issuers_url = cfg->aia_ca_issuers_url;
	spec.ocsp_url = cfg->ocsp_url;
	spec.crl_dp_url = cfg->crl_dp_url;
	if ((rc = ca_x509_build(&spec, &j->certs[i])) != OFFCA_OK)
		goto out;
	(void)ca_x509_name_text(req.subject, j->outs[i].subject, sizeof(j->outs[i].subject)); /* a summary: cut is fine */
	sign_sans_text(req.sans, j->outs[i].sans, sizeof(j->outs[i].sans));
	j->outs[i].cn_copied = req.cn_copied;
	j->outs[i].serial = j->serials[i];
out:
	ca_request_clear(&req);
	ca_csr_free(csr);
	return rc;
}

static offca_rc stage_check(struct job *j, ca_x509_keyctx *kc, size_t i)
{
	offca_rc rc;
	ca_lint_result lr;
	X509 *x = j->certs[i];

	if ((rc = ca_x509_keyctx_verify(kc, x)) != OFFCA_OK)
		return rc;
	rc = ca_lint_cert(x, j->s->cert, j->o->lint, &lr);
	ca_lint_result_clear(&lr);
	if (rc != OFFCA_OK)
		return rc;
	if ((rc = ca_x509_to_der(x, &j->outs[i].der, &j->outs[i].der_len)) != OFFCA_OK)
		return rc;
	rc = sign_record(x, j->outs[i].der, j->outs[i].der_len, j->s->iss.name, ca_profile_name(j->o->profile),
			 j->o->source ? j->o->source : "offca sign", &j->serials[i], &j->recs[i]);
	X509_free(x);
	j->certs[i] = NULL;
	if (rc == OFFCA_OK && j->o->stage_out != NULL)
		rc = j->o->stage_out(j->o->stage_arg, i, j->outs[i].der, j->outs[i].der_len);
	return rc;
}

enum task { T_NONE, T_BUILD, T_SIGN, T_CHECK, T_EXIT };

/* Pick the next task (mutex held). The signer prefers signing; everyone prefers checking over
   building; building stays at most LOOKAHEAD ahead of signing. */
static enum task pick(struct job *j, int signer, size_t *idx)
{
	if (j->failed || j->n_done == j->n)
		return T_EXIT;
	if (signer && j->sq_head < j->sq_tail) {
		*idx = j->sign_q[j->sq_head++];
		return T_SIGN;
	}
	if (j->cq_head < j->cq_tail) {
		*idx = j->check_q[j->cq_head++];
		return T_CHECK;
	}
	if (j->next_build < j->n && j->next_build - j->n_signed < LOOKAHEAD) {
		*idx = j->next_build++;
		return T_BUILD;
	}
	return T_NONE;
}

static void run_tasks(struct job *j, ca_x509_keyctx *kc, int signer)
{
	for (;;) {
		size_t idx = 0;
		enum task t;
		offca_rc rc;

		pthread_mutex_lock(&j->mu);
		while ((t = pick(j, signer, &idx)) == T_NONE)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		if (t == T_EXIT)
			break;
		if (t == T_BUILD)
			rc = stage_build(j, idx);
		else if (t == T_SIGN)
			rc = ca_x509_keyctx_sign(kc, j->certs[idx]);
		else
			rc = stage_check(j, kc, idx);
		if (rc != OFFCA_OK) {
			job_fail(j, idx, rc);
			break;
		}
		pthread_mutex_lock(&j->mu);
		if (t == T_BUILD) {
			j->sign_q[j->sq_tail++] = idx;
		} else if (t == T_SIGN) {
			j->check_q[j->cq_tail++] = idx;
			j->n_signed++;
		} else {
			j->n_done++;
			j->rec_ready[idx] = 1;
			while (j->ready < j->n && j->rec_ready[j->ready])
				j->ready++;
			if (j->ready - j->ready_told >= STORE_CHUNK || j->ready == j->n) {
				j->ready_told = j->ready;
				pthread_cond_signal(&j->scv);
			}
		}
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
}

static void *worker(void *arg)
{
	struct job *j = arg;
	ca_x509_keyctx *kc = NULL; /* this thread's: checking only */
	offca_rc rc = ca_x509_keyctx_new(NULL, j->s->pub, &kc);

	if (rc == OFFCA_OK)
		run_tasks(j, kc, 0);
	else
		job_fail(j, SIZE_MAX, rc);
	ca_x509_keyctx_free(kc);
	ERR_clear_error();
	OPENSSL_thread_stop();
	return NULL;
}

/*
 * The store thread: adds the finished records (in input order, STORE_CHUNK or more at a time) to
 * the batch's write transaction, which it began and alone may use; commits on SC_COMMIT, aborts
 * on SC_ABORT or when the pipeline failed. Its own failures fail the job (job_fail).
 */
static void *store_thread(void *arg)
{
	struct job *j = arg;
	ca_cert_batch *b = NULL;
	size_t added = 0, upto;
	int aborted = 0;
	offca_rc rc = ca_store_cert_batch_begin(j->st, &b);

	if (rc != OFFCA_OK)
		job_fail(j, SIZE_MAX, rc);
	pthread_mutex_lock(&j->mu);
	while (rc == OFFCA_OK) {
		while (!j->failed && j->scmd == SC_RUN && j->ready - added < STORE_CHUNK &&
		       !(j->ready == j->n && added < j->n))
			pthread_cond_wait(&j->scv, &j->mu);
		if (j->failed || j->scmd == SC_ABORT) {
			aborted = 1;
			break;
		}
		upto = j->ready;
		if (upto > added) {
			pthread_mutex_unlock(&j->mu);
			rc = ca_store_cert_batch_add(b, j->recs + added, upto - added);
			for (size_t i = added; rc == OFFCA_OK && i < upto; i++)
				ca_cert_record_clear(&j->recs[i]); /* read only during the call */
			if (rc != OFFCA_OK)
				job_fail(j, SIZE_MAX, rc);
			pthread_mutex_lock(&j->mu);
			added = upto;
			continue;
		}
		if (j->scmd == SC_COMMIT && added == j->n)
			break;
	}
	pthread_mutex_unlock(&j->mu);
	if (rc == OFFCA_OK && !aborted) {
		rc = ca_store_cert_batch_commit(b, j->pend, j->n_pend);
		if (rc != OFFCA_OK)
			job_fail(j, SIZE_MAX, rc);
	} else {
		ca_store_cert_batch_abort(b); /* NULL when begin failed */
	}
	ERR_clear_error();
	OPENSSL_thread_stop();
	return NULL;
}

/* One thread: build, sign, check each in turn. */
static void serial_loop(struct job *j, ca_x509_keyctx *kc)
{
	for (size_t i = 0; i < j->n; i++) {
		offca_rc rc = stage_build(j, i);
		if (rc == OFFCA_OK)
			rc = ca_x509_keyctx_sign(kc, j->certs[i]);
		if (rc == OFFCA_OK)
			rc = stage_check(j, kc, i);
		if (rc != OFFCA_OK) {
			job_fail(j, i, rc);
			return;
		}
	}
}

/* Tell the store thread to commit (go) or abort, and wait for it. */
static void store_finish(struct job *j, pthread_t th, int go)
{
	pthread_mutex_lock(&j->mu);
	j->scmd = go ? SC_COMMIT : SC_ABORT;
	pthread_cond_signal(&j->scv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(th, NULL);
}

/*
 * Build, sign, check every certificate and record it: on two threads plus the store thread, or
 * on this thread alone (then one commit at the end). On OFFCA_OK everything is committed; on
 * failure nothing is (the serials are still reserved).
 */
static offca_rc run_pipeline(struct job *j)
{
	pthread_t th, sth;
	int two = j->o->threads != 1 && j->n > 1, store = 0;
	ca_x509_keyctx *kc = NULL; /* the calling thread's: it is the only one that signs */
	offca_rc rc = ca_x509_keyctx_new(j->s->priv, j->s->pub, &kc);

	if (rc != OFFCA_OK)
		return rc;
	if (two && pthread_create(&sth, NULL, store_thread, j) != 0)
		two = 0;
	store = two;
	if (two && pthread_create(&th, NULL, worker, j) != 0) {
		store_finish(j, sth, 0); /* aborted before anything was added */
		store = two = 0;
	}
	if (two) {
		run_tasks(j, kc, 1);
		pthread_join(th, NULL);
	} else {
		serial_loop(j, kc);
	}
	ca_x509_keyctx_free(kc);
	/* the staged output made durable before anything is committed: a failure records nothing */
	if (!j->failed && j->o->stage_sync != NULL && (rc = j->o->stage_sync(j->o->stage_arg)) != OFFCA_OK)
		job_fail(j, SIZE_MAX, rc);
	if (store) {
		store_finish(j, sth, !j->failed);
	} else if (!j->failed) {
		rc = ca_store_cert_commit_ex(j->st, j->recs, j->n, j->pend, j->n_pend);
		if (rc != OFFCA_OK)
			job_fail(j, SIZE_MAX, rc);
	}
	if (j->failed)
		return ut_err(j->rc, "%s", j->msg);
	return OFFCA_OK;
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->certs != NULL)
			X509_free(j->certs[i]);
		if (j->recs != NULL)
			ca_cert_record_clear(&j->recs[i]);
	}
	free(j->certs);
	free(j->recs);
	free(j->pend);
	free(j->serials);
	free(j->sign_q);
	free(j->check_q);
	free(j->rec_ready);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	pthread_cond_destroy(&j->scv);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The inputs' pending ids (sorted), refusing one given twice (it would be signed twice). */
static offca_rc collect_pending(struct job *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->in[i].pending_id != 0)
			j->n_pend++;
	if (j->n_pend == 0)
		return OFFCA_OK;
	j->pend = calloc(j->n_pend, sizeof(*j->pend));
	if (j->pend == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0, k = 0; i < j->n; i++)
		if (j->in[i].pending_id != 0)
			j->pend[k++] = j->in[i].pending_id;
	qsort(j->pend, j->n_pend, sizeof(*j->pend), cmp_u64);
	for (size_t k = 1; k < j->n_pend; k++)
		if (j->pend[k] == j->pend[k - 1])
			return ut_err(OFFCA_E_USAGE, "pending CSR #%llu is in the batch twice",
				      (unsigned long long)j->pend[k]);
	return OFFCA_OK;
}

offca_rc ca_sign_batch(ca_signer *s, ca_store *st, const ca_sign_input *in, size_t n,
		       const ca_sign_opts *opts, ca_sign_result *res)
{
	offca_rc rc;
	struct job j;
	unsigned days;
	int reserved = 0;

	memset(res, 0, sizeof(*res));
	res->failed_index = SIZE_MAX;
	memset(&j, 0, sizeof(j));
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	pthread_cond_init(&j.scv, NULL);
	j.s = s;
	j.st = st;
	j.in = in;
	j.n = n;
	j.o = opts;
	j.fail_idx = SIZE_MAX;
	if (n == 0 || n > CA_SIGN_MAX_BATCH) {
		rc = ut_err(OFFCA_E_USAGE, "between 1 and %u CSRs per batch", CA_SIGN_MAX_BATCH);
		goto out;
	}
	if (s->priv == NULL || s->pub == NULL) {
		rc = ut_err(OFFCA_E_STATE, "no signing key attached to issuer '%s'", s->iss.name);
		goto out;
	}
	if (ca_profile_is_ca(opts->profile)) {
		rc = ut_err(OFFCA_E_USAGE, "profile %s is not for CSRs (use offca ca)", ca_profile_name(opts->profile));
		goto out;
	}
	if ((rc = ca_policy_days(&s->cfg->policy, opts->days, &days)) != OFFCA_OK ||
	    (rc = sign_validity(s, days, &j.nb, &j.na)) != OFFCA_OK)
		goto out;
	j.serials = calloc(n, sizeof(*j.serials));
	j.certs = calloc(n, sizeof(*j.certs));
	j.recs = calloc(n, sizeof(*j.recs));
	res->certs = calloc(n, sizeof(*res->certs));
	j.sign_q = calloc(n, sizeof(size_t));
	j.check_q = calloc(n, sizeof(size_t));
	j.rec_ready = calloc(n, 1);
	if (j.serials == NULL || j.certs == NULL || j.recs == NULL || res->certs == NULL || j.sign_q == NULL ||
	    j.check_q == NULL || j.rec_ready == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory for %zu CSRs", n);
		goto out;
	}
	res->n = n;
	j.outs = res->certs;
	if ((rc = collect_pending(&j)) != OFFCA_OK)
		goto out;
	/* a queued CSR is signed only if it is the one its pending-add entry recorded */
	for (size_t i = 0; i < n; i++)
		if (in[i].pending_id != 0 &&
		    (rc = ca_store_pending_check(st, in[i].pending_id, in[i].csr, in[i].csr_len)) != OFFCA_OK) {
			if (rc == OFFCA_E_VERIFY) {
				char msg[700];
				snprintf(msg, sizeof(msg), "%s", ut_err_msg());
				rc = ut_err(rc, "%s: refusing to sign it (run offca audit verify)", msg);
			}
			goto out;
		}
	/* 1. reserve (committed) */
	if ((rc = ca_store_serial_reserve(st, s->iss.name, n, j.serials)) != OFFCA_OK)
		goto out;
	reserved = 1;
	/* 2. build / sign / verify / lint, 3. record and drain the queue (one committed transaction,
	   filled while signing); only after it may the caller release the certificates */
	if ((rc = run_pipeline(&j)) != OFFCA_OK) {
		res->failed_index = j.fail_idx;
		goto out;
	}
	reserved = 0;
	rc = OFFCA_OK;
out:
	if (reserved) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		(void)ca_store_serial_void(st, j.serials, n, "signing failed");
		ut_err(rc, "%s", msg);
	}
	if (rc != OFFCA_OK) {
		size_t fi = res->failed_index;
		ca_sign_result_clear(res);
		res->failed_index = fi;
	}
	job_free(&j);
	return rc;
}
