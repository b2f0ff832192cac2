/*
 * offca/err.h - the one error convention of the whole project.
 *
 * Every public function of every module returns an offca_rc. OFFCA_OK is 0; anything else is an
 * error whose generic message comes from ut_strerror(). A function that fails also records a
 * one-line detail for the person at the keyboard with ut_err(), e.g.
 *
 *     return ut_err(OFFCA_E_POLICY, "policy dns-suffix: %s is not under an allowed suffix", san);
 *
 * The detail is kept per thread; ut_err_msg() returns it (or the generic message when none was
 * recorded). Libraries never print and never exit: only ui-cli (and acme's main) print the detail
 * and pick the exit code with ut_exit_code().
 */
#ifndef OFFCA_ERR_H
#define OFFCA_ERR_H

typedef enum offca_rc {
	OFFCA_OK = 0,
	OFFCA_E_INTERNAL,      /* a bug: an invariant did not hold */
	OFFCA_E_NOMEM,         /* out of memory */
	OFFCA_E_USAGE,         /* bad command line or API argument */
	OFFCA_E_IO,            /* read/write/open failed */
	OFFCA_E_DISK_FULL,     /* ENOSPC / EDQUOT / MDB_MAP_FULL */
	OFFCA_E_EXISTS,        /* refusing to overwrite an existing file, label or record */
	OFFCA_E_NOT_FOUND,     /* file, key, certificate, record not found */
	OFFCA_E_PARSE,         /* malformed input (DER, PEM, JSON, YAML, URI, bundle, frame) */
	OFFCA_E_TOO_BIG,       /* input exceeds a named maximum */
	OFFCA_E_POLICY,        /* refused by policy; the detail names the rule */
	OFFCA_E_LINT,          /* a certificate or CRL failed a lint; the detail names the lint */
	OFFCA_E_CRYPTO,        /* a cryptographic operation failed */
	OFFCA_E_VERIFY,        /* a signature, hash or chain did not verify (tampering) */
	OFFCA_E_PIN_INCORRECT, /* wrong PIN; detail says count low / final try when known */
	OFFCA_E_PIN_LOCKED,    /* PIN locked on the token */
	OFFCA_E_TOKEN_ABSENT,  /* no such token / token removed */
	OFFCA_E_TOKEN,         /* any other token / PKCS#11 failure */
	OFFCA_E_MODULE,        /* PKCS#11 module missing or failed to load */
	OFFCA_E_UNSUPPORTED,   /* the token, peer or build does not support this */
	OFFCA_E_STORE,         /* the CA store (LMDB) failed or is inconsistent */
	OFFCA_E_STATE,         /* wrong state: no CA home, no issuer, issuer expired, ... */
	OFFCA_E_PERM,          /* insecure permissions on a secret file, or access denied */
	OFFCA_E_TIMEOUT,       /* waited long enough */
	OFFCA_E_ABORTED,       /* the operator aborted (Ctrl-C, declined a confirmation) */
	OFFCA_E_NETWORK,       /* network / HTTP failure (online side only) */
	OFFCA_E_PROTOCOL,      /* the peer (ACME server, DNS server) answered with an error */
	OFFCA_E_NO_TOUCH,      /* a signature needed a touch on the token and none came in time */
	OFFCA_E__COUNT
} offca_rc;

/* Generic, static message for rc. Never NULL. */
const char *ut_strerror(offca_rc rc);

/* Record a detail message (printf format) for this thread and return rc unchanged. */
offca_rc ut_err(offca_rc rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like ut_err(), and appends the first reason on OpenSSL's error queue, then clears the queue. */
offca_rc ut_err_ssl(offca_rc rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The detail of the last error recorded on this thread (or the generic message for last rc). */
const char *ut_err_msg(void);

/* The code of the last error recorded on this thread (OFFCA_OK if none). */
offca_rc ut_err_last(void);

/* Forget the last detail. */
void ut_err_clear(void);

/* Process exit code for rc: 0 ok, 2 usage, other classes documented in docs/exit-codes.md. */
int ut_exit_code(offca_rc rc);

#endif
