/*
 * offca/store.h - the CA store (prefix ca_store_ / ca_cert_ / ca_issuer_ / ca_pending_).
 *
 * One LMDB environment in HOME/store/ holds the issuers, every certificate record with its
 * indexes (serial, SHA-256 fingerprint, expiry, SAN), serial reservations, the CRL-number ledger
 * per issuer, the pending CSR queue and the append-only, hash-chained audit log.
 *
 * Crash safety: reserve (commit) -> sign -> record (commit) -> release. A certificate may be
 * written out only after ca_store_cert_commit() returned OFFCA_OK; serials come from
 * ca_store_serial_reserve() (a committed transaction) so a crash can neither reuse a serial nor
 * leave a released certificate without a record. Reservations left by a dead process are voided
 * (and audited) by the next ca_store_open(). See docs/store.md.
 *
 * Concurrency: a ca_store handle holds an exclusive advisory lock (flock) on HOME/lock for its
 * whole lifetime: one offca process per CA home at a time. A second ca_store_open() on the same
 * home fails with OFFCA_E_STATE ("CA home is in use by another offca process"). A handle is not
 * thread-safe: use it from one thread at a time.
 *
 * (A certificate batch, ca_store_cert_batch_begin(), holds the write transaction between calls:
 * see there.)
 *
 * Every function records a one-line detail with ut_err() on failure. Every write that fails
 * commits nothing. A full disk or a full LMDB map gives OFFCA_E_DISK_FULL.
 */
#ifndef OFFCA_STORE_H
#define OFFCA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "offca/err.h"

typedef struct ca_store ca_store;

/* Named maxima of what the store accepts (and checks again when reading back). */
#define CA_STORE_MAX_DER      (64u * 1024u)  /* certificate or CSR DER in a record */
#define CA_STORE_MAX_CRL_DER  (64u * 1024u * 1024u) /* a CRL with many entries */
#define CA_STORE_MAX_SANS     1024u          /* SANs per certificate */
#define CA_STORE_MAX_SAN_LEN  1024u          /* one SAN string, "DNS:..." */
#define CA_STORE_MAX_SUBJECT  4096u          /* RFC 2253 subject string */
#define CA_STORE_MAX_DETAIL   4096u          /* one audit detail */
#define CA_STORE_MAX_ACTION   32u            /* one audit action name */
#define CA_STORE_MAX_BATCH    100000u        /* records / serials / CSRs in one call */

/*
 * Open the CA home's LMDB environment (home/store/). create=1 only for `offca init`: it creates
 * home (0700) if missing, home/store (0700), home/outbox (0700), the LMDB files (0600) and the
 * first audit entry ("init"); it refuses a home whose store already exists (OFFCA_E_EXISTS).
 * With create=0, reservations of a crashed run are voided and audited (if the store is full, that
 * waits for a later open and the store still opens).
 * The environment variable OFFCA_STORE_MAPSIZE (bytes) overrides the default map size: a cap on
 * the store's growth (LMDB raises a map smaller than the data already there to the data's size,
 * so a small value makes every growing write fail with OFFCA_E_DISK_FULL: tests use that).
 * *out receives a handle (free with ca_store_free()).
 * Errors: OFFCA_E_STATE (no CA home at path: "run offca init"; home in use by another process),
 * OFFCA_E_STORE, OFFCA_E_PERM, OFFCA_E_EXISTS (create on an existing store), OFFCA_E_DISK_FULL.
 */
offca_rc ca_store_open(const char *home, int create, ca_store **out);

/*
 * Like ca_store_open() with an explicit LMDB map size in bytes (0: the default, 8 GiB, which is
 * virtual: the file grows with the data). Small map sizes are for tests of the full-map path.
 */
offca_rc ca_store_open_ex(const char *home, int create, size_t map_size, ca_store **out);

/*
 * Open the store for reading only (`list`, `show`, `export`, `audit`, `backup`): LMDB's MDB_RDONLY,
 * so opening never writes the data file (it works on a full disk, a read-only medium for the
 * data, and with reservations a dead run left, which only a writable open voids). The home lock
 * is taken as for ca_store_open(). Every writer on such a handle fails (OFFCA_E_INTERNAL).
 */
offca_rc ca_store_open_ro(const char *home, ca_store **out);

/*
 * A damaged data.mdb (docs/store.md, "Damage"). Every open first checks LMDB's two meta pages
 * (OFFCA_E_DAMAGED, exit 19, "the store is damaged: see offca restore"); LMDB's own corruption
 * codes give the same. A flipped bit deeper in the file can still make liblmdb fault:
 * ca_store_addr_in_map(addr) says (async-signal-safe) whether addr lies inside the map of a store
 * open in this process, so a SIGSEGV/SIGBUS handler can tell a damaged store from a bug;
 * ca_store_on_damage(fn) has fn called (from the failing thread, instead of abort()) when
 * liblmdb's internal assertion fails; fn must not return.
 */
int ca_store_addr_in_map(const void *addr);
/* Whether pc (a faulting instruction's address) lies in liblmdb's code while a store is open:
   liblmdb dereferencing a pointer it computed from a damaged page. Async-signal-safe. */
int ca_store_pc_in_lmdb(const void *pc);
void ca_store_on_damage(void (*fn)(const char *what));

/* ---- backup and restore (docs/store.md, "Backup and restore") ---- */
typedef struct ca_backup_info {
	uint64_t entries;      /* audit entries */
	size_t certs, revoked; /* certificate records, revoked ones */
} ca_backup_info;
/*
 * Back up st's home into dest, a new directory (never overwritten: OFFCA_E_EXISTS): a compacted
 * LMDB copy of the store from one read transaction (st: any handle, it holds the home lock, so
 * nothing writes meanwhile) plus every other file of the home (config.json, outbox/, ...). Built
 * as dest.tmp-PID, fsynced, verified with ca_store_verify_copy() (info gets its counts), then
 * renamed to dest. On error nothing is left behind.
 */
offca_rc ca_store_backup(ca_store *st, const char *dest, ca_backup_info *info);
/* Open dir (a backup, or a home nothing else uses) without writing anything to it (no lock
   file) and check it: meta pages, audit chain (ca_store_audit_verify), records against the log
   (ca_store_audit_check_records). */
offca_rc ca_store_verify_copy(const char *dir, ca_backup_info *info);
/* Take the home lock for a restore (creating home, 0700, if missing); *fd: close() to release.
   Errors: OFFCA_E_STATE (in use by another process). */
offca_rc ca_store_home_lock(const char *home, int *fd);
/*
 * With the home lock held: copy backup src (compacted, its other files too) into a staging
 * directory in home, verify that copy, and swap it in entry by entry (the store first) with
 * atomic exchanges; the previous content ends up in the directory written to aside
 * (HOME/.restore-old-<time>-<pid>). src must have been verified by the caller first.
 */
offca_rc ca_store_restore_locked(const char *home, const char *src, char *aside, size_t cap);

/* Close the environment and release the lock. st may be NULL. */
void ca_store_free(ca_store *st);

/* The home directory this store was opened from (owned by st). */
const char *ca_store_home(const ca_store *st);

/* ---- issuers (CA certificates: root and intermediates) ---- */
typedef struct ca_issuer {
	char name[64];          /* short name, e.g. "root", "int-2026" (unique) */
	char parent[64];        /* issuer's issuer name; "" for a self-signed root */
	char key_uri[4096];     /* pkcs11: URI of its key ("" when the key lives elsewhere, --csr) */
	unsigned char *der;     /* certificate DER (owned by the struct) */
	size_t der_len;
	int64_t created;        /* unix time recorded */
	int is_root;
} ca_issuer;

/* Add an issuer (with an audit "issuer-add" entry). Name: 1..63 chars [A-Za-z0-9._-].
   Errors: OFFCA_E_EXISTS (duplicate name), OFFCA_E_USAGE, OFFCA_E_TOO_BIG, OFFCA_E_DISK_FULL. */
offca_rc ca_store_issuer_add(ca_store *st, const ca_issuer *iss);
/* Get an issuer by name into *out (caller clears with ca_issuer_clear()). Errors: OFFCA_E_NOT_FOUND. */
offca_rc ca_store_issuer_get(ca_store *st, const char *name, ca_issuer *out);
/* The default issuer: the newest intermediate (largest `created`, ties: last added), else the
   root if there is no intermediate. Errors: OFFCA_E_STATE (no issuer yet: "run offca ca root"). */
offca_rc ca_store_issuer_default(ca_store *st, ca_issuer *out);
/* All issuers in name order; *out is a new array (free with ca_issuer_list_free()), *n its size. */
offca_rc ca_store_issuer_list(ca_store *st, ca_issuer **out, size_t *n);
/* Free iss->der and zero the struct. iss may be NULL. */
void ca_issuer_clear(ca_issuer *iss);
/* Clear every element and free the array. arr may be NULL. */
void ca_issuer_list_free(ca_issuer *arr, size_t n);

/* ---- serial reservation: reserve (commit) -> sign -> record (commit) -> release ---- */
#define CA_SERIAL_LEN 16                  /* 128-bit, top bit cleared => positive, non-zero */
typedef struct ca_serial { unsigned char b[CA_SERIAL_LEN]; } ca_serial;

/*
 * Reserve n (1..CA_STORE_MAX_BATCH) fresh random serials for issuer, unique against every
 * issued/reserved/voided serial, in ONE committed transaction (with one audit "reserve" entry).
 * out must hold n serials. Errors: OFFCA_E_USAGE, OFFCA_E_CRYPTO (RAND_bytes), OFFCA_E_DISK_FULL.
 */
offca_rc ca_store_serial_reserve(ca_store *st, const char *issuer, size_t n, ca_serial *out);
/*
 * Mark reserved serials void (signing failed / aborted); never reused. why: short reason for the
 * audit entry. Serials that are not in state "reserved" give OFFCA_E_STATE and nothing changes.
 */
offca_rc ca_store_serial_void(ca_store *st, const ca_serial *serials, size_t n, const char *why);
/* Reservation state of a serial: 0 reserved, 1 used (record committed), 2 void (-1 on error).
   Errors: OFFCA_E_NOT_FOUND (never reserved). */
offca_rc ca_store_serial_state(ca_store *st, const ca_serial *s, int *state);
#define CA_SERIAL_RESERVED 0
#define CA_SERIAL_USED     1
#define CA_SERIAL_VOID     2

/* Serial as upper-case hex without separators (buf >= 2*CA_SERIAL_LEN+1). Returns buf. */
char *ca_serial_hex(const ca_serial *s, char *buf, size_t cap);
/* Parse serial hex (colons allowed, at most CA_SERIAL_LEN bytes, left-padded with zeros).
   Errors: OFFCA_E_PARSE. */
offca_rc ca_serial_parse(const char *hex, ca_serial *out);

/* ---- certificate records ---- */
typedef enum { CA_CERT_VALID = 0, CA_CERT_REVOKED = 1 } ca_cert_status;
typedef struct ca_cert_record {
	ca_serial serial;
	unsigned char sha256[32];  /* fingerprint of DER */
	char issuer[64];           /* issuer name */
	char profile[32];          /* server|client|mtls|root|intermediate|... */
	char *subject;             /* RFC 2253 one-line, owned */
	char **sans; size_t n_sans;/* "DNS:a.example", "IP:10.0.0.1", "email:..", "URI:..", owned */
	int64_t not_before, not_after;
	ca_cert_status status;
	int64_t revoked_at; int reason;  /* RFC 5280 CRLReason code */
	char source[128];          /* "offca sign", "ceremony <file> step 3", "offca ca root" */
	int64_t issued_at;
	unsigned char *der; size_t der_len;  /* owned */
} ca_cert_record;

/*
 * Build a record from a DER certificate (parses subject, SANs, validity, fingerprint, serial;
 * status valid, issued_at = now). issuer/profile/source are copied (truncation => OFFCA_E_TOO_BIG).
 * The serial must be positive and at most CA_SERIAL_LEN bytes (OFFCA_E_UNSUPPORTED otherwise).
 * Caller clears *out with ca_cert_record_clear(). Errors: OFFCA_E_PARSE, OFFCA_E_TOO_BIG.
 */
offca_rc ca_cert_record_from_der(const unsigned char *der, size_t len, const char *issuer,
                                 const char *profile, const char *source, ca_cert_record *out);
/*
 * Same as ca_cert_record_from_der() for a certificate the caller already holds parsed (an OpenSSL
 * X509 *) with der/len its DER encoding (i2d_X509 of x: the caller guarantees they match; the
 * fingerprint and the stored DER come from der, every other field from x). Skips d2i_X509, which
 * costs about 120 us per certificate with OpenSSL 3 (public-key decoding): the signing pipeline
 * should use this one.
 */
struct x509_st;
offca_rc ca_cert_record_from_x509(const struct x509_st *x, const unsigned char *der, size_t len,
				  const char *issuer, const char *profile, const char *source, ca_cert_record *out);
/* Free the owned members and zero the struct. r may be NULL. */
void ca_cert_record_clear(ca_cert_record *r);

/*
 * Commit n records in ONE transaction: each serial must be reserved (else OFFCA_E_STATE; a
 * duplicate fingerprint gives OFFCA_E_EXISTS); updates every index (serial, fingerprint, expiry,
 * SAN), marks the reservations used and appends one audit "sign" entry per cert. Only after this
 * returns OFFCA_OK may a certificate be written out. Full map => OFFCA_E_DISK_FULL, nothing
 * committed.
 */
offca_rc ca_store_cert_commit(ca_store *st, const ca_cert_record *recs, size_t n);
/*
 * ca_store_cert_commit() that also removes the pending CSRs pending_ids[0..n_pending) (the CSRs
 * these certificates were signed from; n_pending <= n, pending_ids may be NULL when 0) in the
 * SAME transaction, with one audit "pending-remove" entry: either every record is committed and
 * every id removed, or nothing changes. A crash can thus never leave a signed CSR in the queue to
 * be signed again. An id not (or no longer) pending fails the whole commit: OFFCA_E_NOT_FOUND.
 * Errors: as ca_store_cert_commit(), OFFCA_E_NOT_FOUND, OFFCA_E_USAGE (n_pending > n).
 */
offca_rc ca_store_cert_commit_ex(ca_store *st, const ca_cert_record *recs, size_t n, const uint64_t *pending_ids,
                                 size_t n_pending);

/*
 * Incremental form of ca_store_cert_commit_ex(), so that a signing pipeline can fill the write
 * transaction while it still signs and only the final commit (and its fsync) is left at the end:
 *
 *     ca_cert_batch *b = NULL;
 *     rc = ca_store_cert_batch_begin(st, &b);            // opens the write transaction
 *     ... for each chunk of finished records:
 *             rc = ca_store_cert_batch_add(b, recs + k, m);   // on error: abort, stop
 *     rc = ca_store_cert_batch_commit(b, pending_ids, n_pending);   // frees b, whatever rc
 *     // or, when signing failed: ca_store_cert_batch_abort(b); then ca_store_serial_void(...)
 *
 * All or nothing, as ca_store_cert_commit_ex(): nothing added is visible to any reader (the same
 * process's ca_store_cert_by_serial() included) until ca_store_cert_batch_commit() returned
 * OFFCA_OK, and an abort, a failed add or a failed commit leaves the store exactly as before
 * begin (reservations still reserved, no record, no index entry, the audit chain and its head
 * unchanged). No certificate of the batch may be released before the commit returned OFFCA_OK.
 *
 * Threads: the batch holds LMDB's write transaction, which belongs to the thread that began it:
 * begin, add, commit and abort must all be called from that one thread (add and commit called
 * from another thread fail with OFFCA_E_USAGE; abort from another thread is undefined). The
 * records passed to add are only read during the call (they may be freed afterwards). Other
 * threads may keep working on other things meanwhile (signing, building records).
 * While a batch is open, reading the store (lookups, lists, audit verify) still works, from any
 * thread, and sees the store as it was before begin. Writing is not possible: the batch's thread
 * would wait for itself. The writers of store_serial.c, store_cert.c and audit_log.c
 * (ca_store_serial_reserve/void, ca_store_cert_commit[_ex], ca_store_revoke[_many],
 * ca_store_audit, a second batch_begin) refuse with OFFCA_E_STATE while a batch is open on st; so
 * a caller whose signing failed must abort the batch BEFORE it voids the serials. Another process
 * cannot open the store at all (the home lock).
 */
typedef struct ca_cert_batch ca_cert_batch;

/*
 * Begin a batch on st (one at a time per store). *out receives it, NULL on error.
 * Errors: OFFCA_E_USAGE (NULL argument), OFFCA_E_STATE (a batch is already open on st),
 * OFFCA_E_NOMEM, OFFCA_E_STORE (LMDB could not begin the write transaction).
 */
offca_rc ca_store_cert_batch_begin(ca_store *st, ca_cert_batch **out);
/*
 * Add n records (n may be 0; at most CA_STORE_MAX_BATCH in the whole batch) inside the batch's
 * transaction: each one's checks and work are those of ca_store_cert_commit(): its serial must be
 * reserved for rec->issuer, which moves the reservation to used; the record, its fingerprint,
 * expiry, SAN (and revoked) index entries and its audit "sign" entry are written. Nothing is
 * committed. On any error the batch is poisoned: every later add or commit fails with
 * OFFCA_E_STATE and the caller must call ca_store_cert_batch_abort().
 * Errors: OFFCA_E_STATE (serial not reserved, already used or void, reserved for another issuer;
 * batch poisoned), OFFCA_E_EXISTS (same certificate twice), OFFCA_E_USAGE / OFFCA_E_TOO_BIG (a
 * malformed record, too many records, wrong thread), OFFCA_E_DISK_FULL (the map is full),
 * OFFCA_E_NOMEM.
 */
offca_rc ca_store_cert_batch_add(ca_cert_batch *b, const ca_cert_record *recs, size_t n);
/*
 * Remove the pending CSRs pending_ids[0..n_pending) (n_pending <= the number of records added;
 * pending_ids may be NULL when 0) with one audit "pending-remove" entry, then commit everything in
 * ONE LMDB commit (fsync). b is freed whatever the result (except when called from another thread
 * than the batch's: OFFCA_E_USAGE, b untouched, abort it from its own thread); on error nothing of
 * the batch is committed (the transaction is aborted). A batch without records commits nothing.
 * Errors: OFFCA_E_STATE (batch poisoned by a failed add), OFFCA_E_NOT_FOUND (an id not or no
 * longer pending), OFFCA_E_USAGE (more ids than records, wrong thread), OFFCA_E_DISK_FULL.
 */
offca_rc ca_store_cert_batch_commit(ca_cert_batch *b, const uint64_t *pending_ids, size_t n_pending);
/* Abort: nothing of the batch is committed; reservations stay reserved. Frees b (NULL ok). */
void ca_store_cert_batch_abort(ca_cert_batch *b);
/*
 * Commit a CA certificate's record (as ca_store_cert_commit() for one record: its serial must be
 * reserved) AND add it as an issuer, in ONE transaction: a crash can never leave a root or
 * intermediate recorded but unknown as an issuer, or the reverse. rec->der and iss->der must be
 * the same certificate (OFFCA_E_USAGE). Errors: as ca_store_cert_commit() and ca_store_issuer_add().
 */
offca_rc ca_store_issuer_commit(ca_store *st, const ca_cert_record *rec, const ca_issuer *iss);
/*
 * The issuer chain of rec as certbot's chain.pem: the issuing CA certificates (DER), nearest first,
 * intermediates only; the root only when it issued rec directly. *ders and *lens are new arrays of
 * *n entries (free with ca_der_list_free()). Errors: OFFCA_E_STATE (rec is a self-signed root, or
 * its issuer is not in the store), OFFCA_E_STORE (chain loop / deeper than 16).
 */
offca_rc ca_store_chain(ca_store *st, const ca_cert_record *rec, unsigned char ***ders, size_t **lens, size_t *n);
void ca_der_list_free(unsigned char **ders, size_t *lens, size_t n);
/* Lookups (caller clears *out). Errors: OFFCA_E_NOT_FOUND. */
offca_rc ca_store_cert_by_serial(ca_store *st, const ca_serial *s, ca_cert_record *out);
offca_rc ca_store_cert_by_fingerprint(ca_store *st, const unsigned char sha256[32], ca_cert_record *out);
/* Lookup by "SERIAL hex" or "sha256 fingerprint hex" (colons allowed; 64 hex digits = fingerprint).
   Errors: OFFCA_E_PARSE (not hex), OFFCA_E_NOT_FOUND. */
offca_rc ca_store_cert_find(ca_store *st, const char *serial_or_fp, ca_cert_record *out);

/*
 * Iterate: callback per record (return non-zero to stop; the record is only valid during the
 * call). Filters: issuer (NULL any), expiring_before (0 none: uses the expiry index and yields
 * records with notAfter < expiring_before in notAfter order), revoked_only. Without
 * expiring_before the order is by serial. Runs in one read transaction.
 */
typedef int (*ca_cert_cb)(void *arg, const ca_cert_record *r);
offca_rc ca_store_cert_each(ca_store *st, const char *issuer, int64_t expiring_before,
                            int revoked_only, ca_cert_cb cb, void *arg);
/* Every record holding exactly this SAN ("DNS:a.example"; a bare name means "DNS:name"). */
offca_rc ca_store_cert_by_san(ca_store *st, const char *san, ca_cert_cb cb, void *arg);
/*
 * Every record with a DNS SAN ending in suffix (".example.com": a.example.com, b.a.example.com and
 * *.example.com; case-insensitive), each record once, in SAN index order. Walks the SAN index's
 * DNS keys, not the records. SANs longer than the index keeps as text (hashed keys) are not
 * matched. Errors: OFFCA_E_USAGE (suffix not starting with '.'), store errors.
 */
offca_rc ca_store_cert_by_san_suffix(ca_store *st, const char *suffix, ca_cert_cb cb, void *arg);
/* Number of certificate records. */
offca_rc ca_store_cert_count(ca_store *st, size_t *n);

/*
 * Revoke (status revoked, revoked_at = when, reason = RFC 5280 code 0..10 except 7) with an audit
 * "revoke" entry. Errors: OFFCA_E_NOT_FOUND, OFFCA_E_STATE (already revoked), OFFCA_E_USAGE.
 */
offca_rc ca_store_revoke(ca_store *st, const ca_serial *s, int reason, int64_t when);
/* Revoke n (1..CA_STORE_MAX_BATCH) certificates in ONE transaction (one audit entry each): all
   or none; one unknown or already revoked serial fails the batch. Same errors as ca_store_revoke(). */
offca_rc ca_store_revoke_many(ca_store *st, const ca_serial *serials, size_t n, int reason, int64_t when);
/* CRLReason name <-> code: "keyCompromise" <-> 1, ... ; unknown => -1 / NULL. */
int ca_reason_code(const char *name);
const char *ca_reason_name(int code);

/* ---- CRL number ledger ---- */
/* Allocate the next CRL number for issuer (committed, monotonic, starts at 1). */
offca_rc ca_store_crl_next_number(ca_store *st, const char *issuer, uint64_t *out);
/* Record an issued CRL (number, thisUpdate, nextUpdate, DER) as the issuer's current CRL
   (with an audit "crl" entry). number must have been allocated. Errors: OFFCA_E_STATE,
   OFFCA_E_TOO_BIG (> CA_STORE_MAX_CRL_DER), OFFCA_E_DISK_FULL. */
offca_rc ca_store_crl_record(ca_store *st, const char *issuer, uint64_t number, int64_t this_update,
                             int64_t next_update, const unsigned char *der, size_t len);
/* The issuer's current CRL; *der is a new buffer (free()). Any out pointer may be NULL.
   Errors: OFFCA_E_NOT_FOUND (no CRL recorded yet). */
offca_rc ca_store_crl_current(ca_store *st, const char *issuer, uint64_t *number, int64_t *this_update,
                              int64_t *next_update, unsigned char **der, size_t *len);

/* ---- pending CSR queue (filled by bundle import / qr decode, drained by sign / ceremonies) ---- */
typedef struct ca_pending { uint64_t id; char source[128]; int64_t received; unsigned char *der; size_t len; } ca_pending;
/* Add n CSRs (DER, each <= CA_STORE_MAX_DER) atomically: all or none, with one audit "import"
   entry. ids written to ids_out (may be NULL). Ids are increasing, never reused. */
offca_rc ca_store_pending_add(ca_store *st, const unsigned char *const *ders, const size_t *lens,
                              size_t n, const char *source, uint64_t *ids_out);
/* The same, where item_sources[i] (when item_sources and it are not NULL; <= 127 bytes) is CSR i's
   own source (its provenance, e.g. "est token=ID profile=server; bundle ..."), kept in its record;
   the audit "import" entry names source. Errors: as ca_store_pending_add(). */
offca_rc ca_store_pending_add_ex(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n,
				 const char *source, const char *const *item_sources, uint64_t *ids_out);
/* All pending CSRs in id order (free with ca_pending_list_free()). */
offca_rc ca_store_pending_list(ca_store *st, ca_pending **out, size_t *n);
/* One pending CSR (caller clears). Errors: OFFCA_E_NOT_FOUND. */
offca_rc ca_store_pending_get(ca_store *st, uint64_t id, ca_pending *out);
/* Remove one (audit "pending-remove"). Errors: OFFCA_E_NOT_FOUND. */
offca_rc ca_store_pending_remove(ca_store *st, uint64_t id);
/* Remove n (1..CA_STORE_MAX_BATCH) in ONE transaction with one audit entry: all or none (an
   unknown id removes nothing, OFFCA_E_NOT_FOUND). For draining a signed batch. */
offca_rc ca_store_pending_remove_many(ca_store *st, const uint64_t *ids, size_t n);
void ca_pending_clear(ca_pending *p);
void ca_pending_list_free(ca_pending *arr, size_t n);

/* ---- audit log (append-only, hash-chained) ---- */
/* Append an entry in its own transaction: action ("key-use","login-failed","bundle-export",...;
   [a-z0-9-], <= CA_STORE_MAX_ACTION), detail = one-line JSON object text or plain text
   (<= CA_STORE_MAX_DETAIL, no newline). Never a secret. The actions the store writes itself with
   its changes (init, reserve, sign, void, void-stale, revoke, issuer-add) are refused here
   (OFFCA_E_USAGE): ca_store_audit_check_records() trusts them. */
offca_rc ca_store_audit(ca_store *st, const char *action, const char *detail);
/* Verify the whole chain; *count = entries; OFFCA_E_VERIFY names the first broken entry. */
offca_rc ca_store_audit_verify(ca_store *st, uint64_t *count);

/*
 * Check the certificate records against the audit log (run after ca_store_audit_verify()): every
 * "sign" entry has its record with the same SHA-256, every "revoke" entry a record revoked with
 * that reason and time, and the numbers of records and revoked records equal the numbers of
 * those entries. Catches records edited in LMDB behind the log (an undone revocation, a swapped
 * or deleted record). *n_certs / *n_revoked (may be NULL) get the counts.
 * Errors: OFFCA_E_VERIFY naming the certificate and the entry.
 */
offca_rc ca_store_audit_check_records(ca_store *st, size_t *n_certs, size_t *n_revoked);

/* ---- records bound to the audit log (docs/store.md, "Records bound to the audit log") ----
 * Each certificate record, revocation and pending CSR is bound to the audit entry that committed
 * it (its SHA-256 and the fields the record repeats). The checks below cost a few B-tree lookups
 * and one entry checked where it stands (its hash, its successor's link), not a chain walk; the
 * commands check what they use with them before acting. Errors: OFFCA_E_VERIFY naming the serial
 * or pending id ("store does not match the audit log: certificate 7F3E... ..."), OFFCA_E_STORE. */
/* r (as read from the store): the SHA-256 of its DER, the issuer, profile, source and subject
   against its "sign" entry, and its status, reason and time against its "revoke" entry (a
   revoked record needs one, a valid record must have none). */
offca_rc ca_store_cert_check(ca_store *st, const ca_cert_record *r);
/* Pending CSR id holding der: the SHA-256 of der against its "pending-add" entry. */
offca_rc ca_store_pending_check(ca_store *st, uint64_t id, const unsigned char *der, size_t len);
/* The revoked set of issuer (what its CRL lists): every record in the revocation index checked as
   ca_store_cert_check() does, and as many of them for issuer as its revocations in the audit log
   (a count bound to its last "revoke" entry). A revocation missing from the store is named.
   *n (may be NULL): the issuer's revoked certificates. */
offca_rc ca_store_revoked_check(ca_store *st, const char *issuer, size_t *n);

/*
 * Sign the audit head (seq, hash) with issuer's key and store the signature with a "checkpoint"
 * entry, in one transaction. sign(arg, msg, len, &sig, &sig_len) signs msg (sig: OPENSSL_malloc'd,
 * freed here); the signature must verify with the issuer's certificate (else OFFCA_E_VERIFY,
 * nothing stored). *seq and hash receive the head that was signed. Errors: those of sign,
 * OFFCA_E_NOT_FOUND (no such issuer), OFFCA_E_STATE (a batch is open), OFFCA_E_DISK_FULL.
 */
typedef offca_rc (*ca_checkpoint_sign_fn)(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
                                          size_t *sig_len);
offca_rc ca_store_checkpoint(ca_store *st, const char *issuer, ca_checkpoint_sign_fn sign, void *arg,
                             uint64_t *seq, unsigned char hash[32]);
/* Every stored checkpoint: its signature verifies with its issuer's certificate and the log still
   holds the entry it signed, with that hash (entries cut below it, or rewritten, are detected).
   *n: checkpoints, *newest: the newest signed seq (0: none); both may be NULL. */
offca_rc ca_store_checkpoint_verify(ca_store *st, size_t *n, uint64_t *newest);

typedef struct ca_audit_entry {
	uint64_t seq;                 /* 1, 2, 3, ... */
	int64_t time;                 /* unix time */
	const char *action;           /* valid during the callback only */
	const char *detail;
	unsigned char prev_hash[32];  /* hash of entry seq-1 (zeros for seq 1) */
	unsigned char hash[32];       /* SHA-256 over the entry, see docs/store.md */
} ca_audit_entry;
typedef int (*ca_audit_cb)(void *arg, const ca_audit_entry *e);
/* Call cb for each entry in order, starting at seq from (0 or 1: all); non-zero stops. */
offca_rc ca_store_audit_each(ca_store *st, uint64_t from, ca_audit_cb cb, void *arg);

#endif
