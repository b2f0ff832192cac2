/*
 * offca/util.h - small helpers shared by every module (prefix ut_).
 * Memory wiping, bounded file reading, atomic never-overwrite file writing, secret input.
 */
#ifndef OFFCA_UTIL_H
#define OFFCA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "offca/err.h"

/* ---- memory (mem.c) ---- */

/* Wipe len bytes at p (OPENSSL_cleanse). p may be NULL. */
void ut_memzero(void *p, size_t len);
/* Wipe then free a buffer of len bytes. p may be NULL. */
void ut_free_secret(void *p, size_t len);
/* Lower-case hex of len bytes into a new NUL-terminated string (caller frees), NULL on OOM. */
char *ut_hex(const unsigned char *p, size_t len);
/* Same with ':' between bytes, upper case (fingerprint display). */
char *ut_hex_colon(const unsigned char *p, size_t len);
/* The value of one hex digit (either case), -1 for anything else. */
int ut_hexval(int c);

/* ---- files (file.c) ---- */

/* Named maxima for input read from outside. */
#define UT_MAX_CSR_FILE   (64u * 1024u)
#define UT_MAX_CERT_FILE  (256u * 1024u)
#define UT_MAX_TEXT_FILE  (4u * 1024u * 1024u)

/*
 * Read a whole regular file (never a device, FIFO or directory) of at most max bytes.
 * Symlinks are refused when nofollow is non-zero. On success *buf (NUL-terminated, caller frees
 * with free()) and *len are set. Errors: OFFCA_E_NOT_FOUND, OFFCA_E_TOO_BIG, OFFCA_E_IO,
 * OFFCA_E_PERM.
 */
offca_rc ut_read_file(const char *path, size_t max, int nofollow, unsigned char **buf, size_t *len);

#define UT_WF_EXCL   0x1 /* fail with OFFCA_E_EXISTS if path exists (default: replace atomically) */
#define UT_WF_SECRET 0x2 /* mode 0600 (default 0644) */

/*
 * Write len bytes to path atomically: a temporary file in the same directory is written, fsynced
 * and then linked (UT_WF_EXCL) or renamed into place, and the directory is fsynced. Either the
 * complete file appears or nothing does. Errors: OFFCA_E_EXISTS, OFFCA_E_DISK_FULL, OFFCA_E_IO,
 * OFFCA_E_PERM.
 */
offca_rc ut_write_file(const char *path, const void *data, size_t len, int flags);

/* fsync the directory holding path (after a rename or link into it): 0, or -1 with errno set. */
int ut_fsync_dir_of(const char *path);

/* mkdir -p with mode for each created component. */
offca_rc ut_mkdir_p(const char *path, unsigned mode);

/* The offca_rc class of an errno value (ENOSPC -> OFFCA_E_DISK_FULL, EEXIST -> OFFCA_E_EXISTS...). */
offca_rc ut_errno_rc(int e);

/* OFFCA_OK if path exists (lstat), OFFCA_E_NOT_FOUND if not. */
offca_rc ut_path_exists(const char *path);

/* ---- secrets (secret.c): the one way offca and offca-acme handle secrets ---- */

#define UT_MAX_SECRET 256

/* A secret in memory: mlock()ed (best effort: kept out of swap) and wiped when freed. */
typedef struct ut_secret {
	unsigned char *p; /* len bytes, then a NUL */
	size_t len;
	size_t cap;       /* bytes p can hold (+ the NUL) */
} ut_secret;

/* A zeroed, locked buffer for up to cap bytes (+ NUL); NULL when out of memory. */
ut_secret *ut_secret_new(size_t cap);
/* Wipe, unlock and free; NULL is fine. */
void ut_secret_free(ut_secret *s);

/*
 * The one permission policy for secret files (PINs, passphrases, TSIG and EAB keys, private
 * keys, credentials files): path is opened once, with O_NOFOLLOW (a symbolic link is refused:
 * whoever may replace it could point it at another file) and O_CLOEXEC, and the checks are made
 * on that descriptor (never stat-then-open): a regular file owned by the effective user or root,
 * with no permission for group or others; or a pipe or terminal (pin-source=/dev/fd/N, a FIFO),
 * read as it comes. At most max bytes are read into *out (locked, caller ut_secret_free()s).
 * Errors: OFFCA_E_NOT_FOUND, OFFCA_E_PERM (symlink, mode, owner), OFFCA_E_TOO_BIG, OFFCA_E_IO.
 */
offca_rc ut_read_secret_file(const char *path, size_t max, ut_secret **out);

/*
 * A one-line secret (PIN, passphrase, base64 key) from a file under ut_read_secret_file's policy
 * (strict_perm 0 skips the mode and owner checks: only for tests of the policy itself): first
 * line, trailing CR/LF removed. buf receives up to cap-1 bytes and a NUL. Errors: those of
 * ut_read_secret_file, OFFCA_E_TOO_BIG, OFFCA_E_PARSE (empty).
 */
offca_rc ut_secret_from_file(const char *path, int strict_perm, char *buf, size_t cap);

/*
 * Prompt on the controlling terminal (/dev/tty) with echo off and read one line into buf. As
 * readpassphrase(3): SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN and SIGTTOU during the
 * prompt first restore the terminal, then take their usual effect (a stop prompts again on
 * resume). Errors: OFFCA_E_IO (no terminal), OFFCA_E_ABORTED (EOF, or a signal the process
 * handles itself), OFFCA_E_TOO_BIG.
 */
offca_rc ut_secret_prompt(const char *prompt, char *buf, size_t cap);

/* Disable core dumps and ptrace attach for this process (call first thing in main). */
void ut_harden_process(void);

#endif
