/*
 * sandbox.h - what each offca-acme process may still do once it runs (the spirit of OpenBSD's
 * pledge(2)/unveil(2), with Linux means): PR_SET_NO_NEW_PRIVS, an allow-list seccomp filter
 * (libseccomp) per role, Landlock write confinement where the kernel has it, and, started as root,
 * one unprivileged user for every process.
 *
 * Order in every process: (root only, main process) acme_drop_privileges, then acme_sandbox_enter
 * before the process reads any input from the network or the disk. Filters stack: a helper forked
 * by the main process keeps the main process's filter and adds its own narrower one.
 */
#ifndef ACME_SANDBOX_H
#define ACME_SANDBOX_H

#include "offca/err.h"

enum acme_sb_role {
	ACME_SB_MAIN,       /* network process: HTTPS, forks the helpers, never execs (hooks or not) */
	ACME_SB_KEY,        /* keys: files below write_dir, AF_UNIX only (pcscd), no exec */
	ACME_SB_FILE,       /* writes below write_dir, AF_UNIX only, no exec */
	ACME_SB_DNS,        /* RFC 2136 or --dns-hook: UDP/TCP to the DNS server, no exec, no file writes */
	ACME_SB_HOOKS,      /* the hook runner: execs the configured hooks (a deny-list filter) */
	ACME_SB_METRICS,    /* metrics --textfile: reads the state, writes below write_dir, no network */
};

/*
 * Set no_new_privs and install the role's allow-list filter; with write_dir (may be NULL), also a
 * Landlock ruleset that allows creating, writing, renaming and removing files only below
 * write_dir (skipped, and reported by acme_sandbox_landlocked() as 0, on kernels without Landlock).
 * Syscalls outside the list (and sockets of families outside the role's) fail with ENOSYS.
 * Errors: OFFCA_E_UNSUPPORTED when the kernel refuses the filter; the callers treat this as fatal.
 * After acme_sandbox_disable() this does nothing and returns OFFCA_OK.
 */
offca_rc acme_sandbox_enter(enum acme_sb_role role, const char *write_dir);

/* write_dir for a process that writes no file at all (the DNS process in RFC 2136 mode). */
#define ACME_SB_NO_WRITES ""

/* --no-sandbox (debugging): no filter, no Landlock; the caller warns on every run. */
void acme_sandbox_disable(void);
int acme_sandbox_disabled(void);

/* 1 when the last acme_sandbox_enter() in this process installed a Landlock ruleset. */
int acme_sandbox_landlocked(void);

/*
 * Started as root: switch every uid and gid to user (groups: only its primary group), leaving no
 * capability. user NULL means "offca-acme". Not root: OFFCA_OK when user is NULL or names the
 * current user, else OFFCA_E_PERM. Errors: OFFCA_E_NOT_FOUND (no such user, with how to create
 * it), OFFCA_E_USAGE (user is root), OFFCA_E_PERM (the kernel refused the switch).
 */
offca_rc acme_drop_privileges(const char *user);

/* The default unprivileged user. */
#define ACME_DEFAULT_USER "offca-acme"

#endif
