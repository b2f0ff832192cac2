/*
 * sandbox.h - what a helper process may no longer do once it runs (the spirit of acme-client's
 * pledge(2), with Linux seccomp-bpf). Denied calls fail with EPERM; nothing is killed.
 */
#ifndef ACME_SANDBOX_H
#define ACME_SANDBOX_H

#include "offca/err.h"

#define ACME_SB_NO_INET 0x1 /* socket() only for AF_UNIX (PKCS#11 modules may talk to pcscd) */
#define ACME_SB_NO_EXEC 0x2 /* no execve/execveat */

/*
 * Set no_new_privs and install the filter for flags (ptrace is always denied except in
 * sanitizer builds, whose leak checker needs it). Errors: OFFCA_E_UNSUPPORTED when the kernel
 * refuses the filter (callers treat it as best effort).
 */
offca_rc acme_sandbox(int flags);

#endif
