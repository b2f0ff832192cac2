/*
 * proc.h - the helper processes of offca-acme (after OpenBSD acme-client):
 *   key process  (keyproc.c): holds the account key (and the EAB HMAC key); signs JWS input.
 *   DNS process  (dnsproc.c): holds the TSIG secret / runs the DNS hook; adds, waits, removes TXT.
 *   file process (fileproc.c): the only writer under STATE/live and STATE/certs.
 * The main process speaks HTTPS to the CA and never holds any of those secrets.
 * Each helper is a fork()ed child talking over its own socketpair (ipc.h).
 */
#ifndef ACME_PROC_H
#define ACME_PROC_H

#include <jansson.h>
#include <sys/types.h>

#include "offca/err.h"

struct acme_proc {
	pid_t pid;
	int fd;
	const char *name;
};

/*
 * Fork a helper running fn(fd, arg) in the child (which then _exit()s). The child keeps only
 * descriptors 0, 1, 2 and fd (every other one is closed before fn runs) and is named
 * "offca-acme-NAME" (/proc/PID/comm). fn installs its sandbox before it reads any input.
 */
offca_rc acme_proc_spawn(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out);
/* acme_proc_start() whose child also keeps descriptor extra (>= 3; the caller closes its own). */
offca_rc acme_proc_start_with(const char *name, int (*fn)(int fd, void *arg), void *arg, int extra,
			      struct acme_proc **out);

/*
 * acme_proc_spawn(), then wait for the helper's first (empty) reply, which it sends once it has
 * loaded what it holds (key, credentials): its load error comes back here. On failure the helper
 * is stopped and *out stays NULL.
 */
offca_rc acme_proc_start(const char *name, int (*fn)(int fd, void *arg), void *arg, struct acme_proc **out);

/* Close every descriptor from 3 up except keep (-1: keep none): before a helper runs or a hook execs. */
void acme_close_fds_except(int keep);
/* The same, keeping two (either may be -1). */
void acme_close_fds_except2(int a, int b);

/* Ask the helper to quit, wait for it; NULL is fine. */
void acme_proc_free(struct acme_proc *p);

/* ---- key process ---- */
struct acme_keyproc_cfg {
	const char *key_path;     /* account key file (PEM, 0600) */
	int create;               /* generate and save the key if the file is absent */
	const char *key_type;     /* "ec" (default) or "rsa" for generated keys */
	const char *eab_key_file; /* optional: EAB HMAC key (base64url) file, 0600 */
	const char *key_uri;      /* optional: the account key on a PKCS#11 token (RFC 7512 URI) */
	const char *pin_file;     /* optional: the token PIN (else the URI's pin-source or a prompt) */
	const char *state_dir;    /* the only directory the key process may write below (Landlock) */
};

/* Start the key process; the reply to its start-up (key loaded or error) is awaited. */
offca_rc acme_keyproc_start(const struct acme_keyproc_cfg *cfg, struct acme_proc **out);
/* JWK of key slot 0 (account key) or 1 (new key during rollover). Caller json_decref()s. */
offca_rc acme_keyproc_jwk(struct acme_proc *kp, int slot, json_t **jwk);
/* JWS signature of input with the key in slot. *sig is new (caller frees). */
offca_rc acme_keyproc_sign(struct acme_proc *kp, int slot, const char *input, unsigned char **sig,
			   size_t *siglen);
/* HS256 with the EAB key. Errors: OFFCA_E_USAGE when no EAB key was configured. */
offca_rc acme_keyproc_eab(struct acme_proc *kp, const char *input, unsigned char mac[32]);
/* Generate a new key into slot 1, saved as KEY.new (0600). */
offca_rc acme_keyproc_newkey(struct acme_proc *kp, const char *type);
/* Replace the account key file by KEY.new (after the CA accepted the rollover). */
offca_rc acme_keyproc_commit(struct acme_proc *kp);
/*
 * --generate-key: the key process makes a certificate key (key_type "ec" or "rsa"; or loads
 * STATE/reuse_rel when the key policy keeps the current key) and returns only the DER CSR for
 * names in *der (caller frees with free()). The key stays there until acme_keyproc_keysave.
 */
struct acme_names;
offca_rc acme_keyproc_csr(struct acme_proc *kp, const struct acme_names *names, const char *key_type,
			  const char *reuse_rel, unsigned char **der, size_t *derlen);
/* Write the last CSR's key to STATE/rel (0600, refuses an existing file) and forget it. */
offca_rc acme_keyproc_keysave(struct acme_proc *kp, const char *rel);

/* ---- DNS process ---- */
struct acme_dns_cfg {
	const char *method;       /* "rfc2136" or "hook" */
	const char *server;       /* HOST:PORT of the primary (rfc2136; optional for hook: propagation) */
	const char *tsig_name;
	const char *tsig_alg;     /* "hmac-sha256" (default) or "hmac-sha512" */
	const char *tsig_secret_file;
	const char *zone;         /* optional; found with SOA queries otherwise */
	const char *hook;         /* command for --dns-hook (run by the hook runner, not by us) */
	int hook_fd;              /* hook: our channel to the hook runner (acme_hookproc_dns_channel) */
	int use_tcp;              /* updates over TCP (UDP with TCP fallback otherwise) */
	int propagation_timeout;  /* seconds; 0 = do not wait */
	int ttl;
	int verbose;
};

offca_rc acme_dnsproc_start(const struct acme_dns_cfg *cfg, struct acme_proc **out);
offca_rc acme_dnsproc_add(struct acme_proc *dp, const char *name, const char *value);
offca_rc acme_dnsproc_del(struct acme_proc *dp, const char *name, const char *value);
offca_rc acme_dnsproc_wait(struct acme_proc *dp, const char *name, const char *value);

/* ---- file process ---- */
/* Start the file process, confined to writing below state_dir. */
offca_rc acme_fileproc_start(const char *state_dir, struct acme_proc **out);
/* Write data to STATE/rel atomically (flags: UT_WF_*); creates parent directories (0700). */
offca_rc acme_fileproc_write(struct acme_proc *fp, const char *rel, const void *data, size_t len, int flags);
/*
 * Point STATE/live/name at ../archive/name/version (a symlink replaced with one rename, so
 * readers see the old or the new set of files, never a mix). name and version: [A-Za-z0-9._-].
 */
offca_rc acme_fileproc_link(struct acme_proc *fp, const char *name, const char *version);

#endif
