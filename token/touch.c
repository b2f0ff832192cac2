/*
 * touch.c - signatures that need a touch on the token (a YubiKey PIV key with touch policy
 * "always" or "cached"): say so before the signature, and bound the wait.
 *
 * The key's settings live in a small registry keyed by its private EVP_PKEY, so the places that
 * sign with a bare EVP_PKEY (core's X509 signing, the transcript, bundles) find them without
 * carrying a tok_key around. A guarded signature runs on its own thread while the caller waits
 * on a deadline: PKCS#11 has no way to cancel a C_Sign in progress, so when no touch comes in time
 * the thread is left blocked inside the module and the caller goes on with OFFCA_E_NO_TOUCH. The
 * key is then "stuck": it refuses every later guarded signature at once, and tok_key_free() leaves
 * it (and its module) alone, because the blocked thread still uses them. What the abandoned
 * operation writes to stays allocated: it is the operation's own (arg, with references taken by
 * the caller), released by whichever thread finishes with it last.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOUCH_KEYS 32
/* A touch-timeout error from the device itself counts as "no touch" after this long a wait. */
#define DEVICE_GAVE_UP_S 10

struct touch_entry {
	EVP_PKEY *priv;            /* registry key; NULL: free slot */
	tok_key *key;              /* kept here while stuck: the blocked thread still uses it */
	tok_touch_mode mode;
	unsigned timeout_s;
	char label[33];
	tok_touch_notify notify;
	void *notify_arg;
	volatile sig_atomic_t *interrupted;
	struct timespec last_ok;   /* last signature that returned in time (cached policy) */
	int have_last;
	int stuck;                 /* a signing thread is blocked inside the module */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct touch_entry reg[MAX_TOUCH_KEYS];
static atomic_int reg_used; /* entries in use: 0 keeps the unguarded path free of any lock */

offca_rc tok_touch_mode_parse(const char *name, tok_touch_mode *out)
{
	static const char *const names[] = {"never", "always", "cached"};

	for (int i = 0; i < 3; i++) {
		if (name != NULL && strcmp(name, names[i]) == 0) {
			*out = (tok_touch_mode)i;
			return OFFCA_OK;
		}
	}
	return ut_err(OFFCA_E_USAGE, "touch policy '%s': must be never, always or cached", name ? name : "");
}

const char *tok_touch_mode_name(tok_touch_mode m)
{
	return m == TOK_TOUCH_ALWAYS ? "always" : m == TOK_TOUCH_CACHED ? "cached" : "never";
}

static struct touch_entry *find(const EVP_PKEY *priv)
{
	for (size_t i = 0; i < MAX_TOUCH_KEYS; i++)
		if (priv != NULL && reg[i].priv == priv)
			return &reg[i];
	return NULL;
}

offca_rc tok_key_set_touch(tok_key *key, const tok_touch_opts *o)
{
	EVP_PKEY *priv = tok_key_private(key);
	struct touch_entry *e;
	offca_rc rc = OFFCA_OK;

	if (priv == NULL || o == NULL || o->timeout_s > TOK_TOUCH_TIMEOUT_MAX)
		return ut_err(OFFCA_E_USAGE, "tok_key_set_touch: a key and a timeout of 0..%u s", TOK_TOUCH_TIMEOUT_MAX);
	pthread_mutex_lock(&reg_mu);
	e = find(priv);
	if (e == NULL && o->mode != TOK_TOUCH_NEVER) {
		for (size_t i = 0; i < MAX_TOUCH_KEYS && e == NULL; i++)
			if (reg[i].priv == NULL)
				e = &reg[i];
		if (e == NULL) {
			rc = ut_err(OFFCA_E_TOO_BIG, "more than %d keys with a touch policy in one process", MAX_TOUCH_KEYS);
			goto out;
		}
		memset(e, 0, sizeof(*e));
		e->priv = priv;
		e->key = key;
		atomic_fetch_add(&reg_used, 1);
	}
	if (e == NULL)
		goto out; /* never, and not registered: nothing to do */
	if (e->stuck) {
		rc = ut_err(OFFCA_E_NO_TOUCH, "token '%s': an earlier signature still waits for a touch", e->label);
		goto out;
	}
	e->mode = o->mode;
	e->timeout_s = o->timeout_s != 0 ? o->timeout_s : TOK_TOUCH_TIMEOUT_DEFAULT;
	snprintf(e->label, sizeof(e->label), "%s", o->label != NULL ? o->label : tok_key_token_label(key));
	e->notify = o->notify;
	e->notify_arg = o->notify_arg;
	e->interrupted = o->interrupted;
out:
	pthread_mutex_unlock(&reg_mu);
	return rc;
}

int tok_touch_forget(EVP_PKEY *priv, const tok_key *key)
{
	struct touch_entry *e;
	int stuck = 0;

	if (atomic_load(&reg_used) == 0)
		return 0;
	pthread_mutex_lock(&reg_mu);
	e = find(priv);
	if (e != NULL && e->stuck) {
		/* a stuck entry stays: it refuses the key and keeps it reachable; another tok_key of the
		   same key (libp11 shares the EVP_PKEY) holds references of its own and may go */
		stuck = e->key == key;
	} else if (e != NULL) {
		memset(e, 0, sizeof(*e));
		atomic_fetch_sub(&reg_used, 1);
	}
	pthread_mutex_unlock(&reg_mu);
	return stuck;
}

int tok_touch_wanted(EVP_PKEY *priv)
{
	int want;

	if (atomic_load(&reg_used) == 0)
		return 0;
	pthread_mutex_lock(&reg_mu);
	want = find(priv) != NULL;
	pthread_mutex_unlock(&reg_mu);
	return want;
}

/* ---- one guarded signature ---- */

struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, abandoned;
	tok_sign_fn fn;
	tok_sign_finish_fn finish;
	void *arg;
	offca_rc rc;
	char msg[1024];
};

static void run_free(struct run *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void *run_thread(void *p)
{
	struct run *r = p;
	offca_rc rc = r->fn(r->arg); /* its failure detail (tok_err_sign) is recorded on this thread */
	int abandoned;

	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	if (rc != OFFCA_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", ut_err_msg());
	r->done = 1;
	abandoned = r->abandoned;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (abandoned) {
		if (r->finish != NULL)
			r->finish(r->arg, 0); /* the caller gave up on it long ago */
		run_free(r);
	}
	OPENSSL_thread_stop();
	return NULL;
}

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int earlier(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Run r on its own thread and wait until timeout_s (or *intr is set: checked every 100 ms). 1: it
   returned (r->rc set), 0: it did not (r is abandoned to the thread, which frees it), -1: no
   thread could be started. */
static int run_bounded(struct run *r, unsigned timeout_s, volatile sig_atomic_t *intr)
{
	pthread_attr_t at;
	pthread_t th;
	struct timespec dl, tick;
	int done, err;

	if (pthread_attr_init(&at) != 0)
		return -1;
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &at, run_thread, r);
	pthread_attr_destroy(&at);
	if (err != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)timeout_s;
	pthread_mutex_lock(&r->mu);
	while (!r->done && (intr == NULL || !*intr)) {
		clock_gettime(CLOCK_MONOTONIC, &tick);
		if (!earlier(&tick, &dl))
			break; /* the deadline */
		tick.tv_nsec += 100000000L; /* wake every 100 ms to look at *intr */
		if (tick.tv_nsec >= 1000000000L) {
			tick.tv_sec++;
			tick.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&r->cv, &r->mu, earlier(&dl, &tick) ? &dl : &tick);
	}
	done = r->done;
	if (!done)
		r->abandoned = 1;
	pthread_mutex_unlock(&r->mu);
	return done;
}

static struct run *run_new(tok_sign_fn fn, tok_sign_finish_fn finish, void *arg)
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	if (r == NULL)
		return NULL;
	r->fn = fn;
	r->finish = finish;
	r->arg = arg;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

/* Announce the touch when this signature needs one (always; cached: none in the last 15 s). */
static void announce(const struct touch_entry *e, const char *what, const struct timespec *now)
{
	char line[512];

	if (e->notify == NULL)
		return;
	if (e->mode == TOK_TOUCH_CACHED && e->have_last && elapsed_s(&e->last_ok, now) < TOK_TOUCH_CACHE_S)
		return;
	snprintf(line, sizeof(line), "Touch the YubiKey '%s' now to approve signing %s", e->label,
		 what != NULL ? what : "with its key");
	e->notify(e->notify_arg, line);
}

/* fn(arg) on this thread, then finish(arg, 1). */
static offca_rc run_here(tok_sign_fn fn, tok_sign_finish_fn finish, void *arg)
{
	offca_rc rc = fn(arg);

	if (finish != NULL)
		finish(arg, 1);
	return rc;
}

/* The operation never ran: finish(arg, 1) (nothing to collect, but the caller may be waiting). */
static offca_rc not_run(tok_sign_finish_fn finish, void *arg, offca_rc rc)
{
	if (finish != NULL)
		finish(arg, 1);
	return rc;
}

offca_rc tok_sign_guard(EVP_PKEY *priv, const char *what, tok_sign_fn fn, tok_sign_finish_fn finish, void *arg)
{
	struct touch_entry *e, copy;
	struct timespec t0, t1;
	struct run *r = NULL;
	offca_rc rc;
	int done;

	if (atomic_load(&reg_used) == 0)
		return run_here(fn, finish, arg);
	pthread_mutex_lock(&reg_mu);
	e = find(priv);
	if (e != NULL)
		copy = *e;
	pthread_mutex_unlock(&reg_mu);
	if (e == NULL || copy.mode == TOK_TOUCH_NEVER)
		return run_here(fn, finish, arg);
	if (copy.stuck)
		return not_run(finish, arg, ut_err(OFFCA_E_NO_TOUCH, "no touch within %u s: the YubiKey '%s' still "
						   "waits for the touch of an earlier signature; nothing more is "
						   "signed with it", copy.timeout_s, copy.label));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	announce(&copy, what, &t0);
	if ((r = run_new(fn, finish, arg)) == NULL)
		return not_run(finish, arg, ut_err(OFFCA_E_NOMEM, "out of memory"));
	done = run_bounded(r, copy.timeout_s, copy.interrupted);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (done < 0) {
		run_free(r);
		return not_run(finish, arg, ut_err(OFFCA_E_INTERNAL, "cannot start the signing thread"));
	}
	pthread_mutex_lock(&reg_mu);
	e = find(priv);
	if (e != NULL && !done)
		e->stuck = 1;
	if (e != NULL && done && r->rc == OFFCA_OK) {
		e->last_ok = t1;
		e->have_last = 1;
	}
	pthread_mutex_unlock(&reg_mu);
	if (!done && copy.interrupted != NULL && *copy.interrupted)
		return ut_err(OFFCA_E_ABORTED, "interrupted while the YubiKey '%s' waited for a touch to approve "
			      "signing %s; nothing was signed", copy.label, what != NULL ? what : "with its key");
	if (!done)
		return ut_err(OFFCA_E_NO_TOUCH, "no touch within %u s: the YubiKey '%s' did not approve signing %s; "
			      "nothing was signed", copy.timeout_s, copy.label, what != NULL ? what : "with its key");
	rc = r->rc;
	if (rc != OFFCA_OK && (rc == OFFCA_E_ABORTED || elapsed_s(&t0, &t1) >= DEVICE_GAVE_UP_S) &&
	    rc != OFFCA_E_TOKEN_ABSENT && rc != OFFCA_E_PIN_INCORRECT && rc != OFFCA_E_PIN_LOCKED)
		rc = ut_err(OFFCA_E_NO_TOUCH, "no touch within %.0f s: the YubiKey '%s' gave up waiting to approve "
			    "signing %s (%s); nothing was signed", elapsed_s(&t0, &t1), copy.label,
			    what != NULL ? what : "with its key", r->msg);
	else if (rc != OFFCA_OK)
		ut_err(rc, "%s", r->msg);
	run_free(r);
	if (finish != NULL)
		finish(arg, 1);
	return rc;
}

/* ---- EVP_DigestSign of one message through the guard ---- */

struct msgsign {
	EVP_MD_CTX *ctx;
	unsigned char *msg;
	size_t mlen;
	unsigned char sig[TOK_MAX_SIG];
	size_t siglen;
	int ok;
	unsigned char *out;  /* the caller's, written by finish only when in time */
	size_t *outlen;
	char fail[128];
};

static offca_rc msgsign_run(void *p)
{
	struct msgsign *a = p;

	a->siglen = sizeof(a->sig);
	if (EVP_DigestSign(a->ctx, a->sig, &a->siglen, a->msg, a->mlen) != 1)
		return tok_err_sign(a->fail);
	a->ok = 1;
	return OFFCA_OK;
}

static void msgsign_finish(void *p, int in_time)
{
	struct msgsign *a = p;

	if (in_time && a->ok) {
		memcpy(a->out, a->sig, a->siglen);
		*a->outlen = a->siglen;
	}
	EVP_MD_CTX_free(a->ctx);
	free(a->msg);
	OPENSSL_cleanse(a->sig, sizeof(a->sig));
	free(a);
}

offca_rc tok_sign_message(EVP_PKEY *priv, EVP_MD_CTX *ctx, const void *msg, size_t mlen, unsigned char *sig,
			  size_t *siglen, const char *what, const char *fail_what)
{
	struct msgsign *a = NULL;
	int max = EVP_PKEY_get_size(priv);

	if (max <= 0 || (size_t)max > TOK_MAX_SIG || *siglen < (size_t)max) {
		EVP_MD_CTX_free(ctx);
		return ut_err(OFFCA_E_USAGE, "%s: signature buffer of %zu bytes, the key needs up to %d", fail_what,
			      *siglen, max);
	}
	if ((a = calloc(1, sizeof(*a))) == NULL || (a->msg = malloc(mlen ? mlen : 1)) == NULL) {
		free(a);
		EVP_MD_CTX_free(ctx);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	memcpy(a->msg, msg, mlen);
	a->mlen = mlen;
	a->ctx = ctx;
	a->out = sig;
	a->outlen = siglen;
	snprintf(a->fail, sizeof(a->fail), "%s", fail_what);
	return tok_sign_guard(priv, what, msgsign_run, msgsign_finish, a);
}
