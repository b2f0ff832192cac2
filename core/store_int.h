/*
 * store_int.h - internals of the CA store shared by core/store_*.c, core/audit_*.c and
 * core/record_*.c. Not a public header: nothing outside core/ includes it.
 */
#ifndef OFFCA_STORE_INT_H
#define OFFCA_STORE_INT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "offca/store.h"

#define STORE_FORMAT_VERSION 2u /* 2: records bound to their audit entries (DB_BIND) */
#define STORE_DEFAULT_MAP    ((size_t)8 << 30) /* 8 GiB virtual: about a million certificates */
#define STORE_MAX_MAP        ((size_t)1 << 40) /* OFFCA_STORE_MAPSIZE upper bound: 1 TiB */
#define STORE_MAX_PATH       4096u
#define STORE_FULL_SLACK     ((unsigned long long)64 << 10) /* EIO with less free: disk full */

/* The named databases of the environment (see docs/store.md). */
enum store_db {
	DB_META = 0,  /* "format" -> u32, "audit_head" -> seq||hash, "pending_next" -> u64 */
	DB_CERTS,     /* serial(16) -> certificate record */
	DB_FP,        /* sha256(32) -> serial(16) */
	DB_EXPIRY,    /* be64(notAfter + 2^63) || serial(16) -> "" */
	DB_SAN,       /* san '\0' serial(16) -> "" (long SANs: 0x01 sha256(san) '\0' serial) */
	DB_REVOKED,   /* serial(16) -> "" */
	DB_ISSUERS,   /* name -> issuer record */
	DB_RESV,      /* serial(16) -> reservation (state, time, pid, issuer) */
	DB_RESV_OPEN, /* serial(16) -> "" for reservations still in state reserved */
	DB_CRL,       /* 'n' issuer -> be64 last allocated number; 'c' issuer -> current CRL */
	DB_PENDING,   /* be64 id -> pending CSR */
	DB_AUDIT,     /* be64 seq -> audit entry */
	DB_BIND,      /* 'c' serial / 'r' serial / 'p' be64 id -> be64 seq of the entry that committed
			 it; 'n' issuer -> be64 revoked count || be64 seq of the last revoke entry;
			 'k' be64 seq -> signed checkpoint of the audit head (store_bind.c) */
	DB__COUNT
};

struct ca_store {
	MDB_env *env;
	MDB_dbi dbi[DB__COUNT];
	int lock_fd;
	char home[STORE_MAX_PATH];
	ca_cert_batch *batch; /* the open certificate batch (its write transaction), or NULL */
	uint32_t pid;         /* getpid(), recorded in reservations (0: not read yet) */
	int rdonly;           /* opened with ca_store_open_ro() / as a copy: LMDB MDB_RDONLY */
	int fault_slot;       /* its map in the fault registry (store_fault.c), -1 none */
};

/* How a store is opened (store_env.c). */
enum ca_st_mode {
	CA_ST_WRITE = 0, /* read-write, home lock, stale reservations voided */
	CA_ST_CREATE,    /* `offca init` */
	CA_ST_READ,      /* read-only (MDB_RDONLY), home lock, never writes the data file */
	CA_ST_COPY       /* a backup or restore copy: read-only, no lock file at all (MDB_NOLOCK),
			    no home lock: only while nothing else can write it */
};
offca_rc ca_st_open_mode(const char *home, enum ca_st_mode mode, size_t map_size, ca_store **out);

/* Structural check of data.mdb's two meta pages in store_dir before LMDB maps it (store_check.c):
   magic, version, page size, last page within the file, roots within the last page.
   OFFCA_E_DAMAGED naming what is wrong; OFFCA_E_STATE when there is no data.mdb. */
offca_rc ca_st_check_meta(const char *store_dir);

/* Fault registry (store_fault.c): the address range of each open environment's map, read by
   ca_store_addr_in_map() from a signal handler; LMDB's assertion callback for env. */
int ca_st_fault_register(MDB_env *env);
void ca_st_fault_unregister(int slot);
void ca_st_fault_assert_cb(MDB_env *env, const char *msg);

/* OFFCA_E_STATE (with its detail) while a certificate batch holds the store's write transaction:
   beginning another write transaction on the batch's thread would wait for itself forever. */
offca_rc ca_st_check_no_batch(const ca_store *st, const char *what);

/* Translate an LMDB / errno code into an offca_rc with a detail naming what failed. */
offca_rc ca_st_rc(int mdb_rc, const char *what);
/* Begin a transaction (rdonly != 0: read-only). */
offca_rc ca_st_begin(ca_store *st, int rdonly, MDB_txn **txn);
/* Commit txn (always consumed). Disk full => OFFCA_E_DISK_FULL, nothing committed. */
offca_rc ca_st_commit(MDB_txn *txn, const char *what);

/* Append one audit entry inside txn (the change it records commits with it). */
offca_rc ca_audit_append_txn(ca_store *st, MDB_txn *txn, const char *action, const char *detail);
/* The same; *seq (may be NULL) receives the new entry's number. */
offca_rc ca_audit_append_txn_seq(ca_store *st, MDB_txn *txn, const char *action, const char *detail,
				 uint64_t *seq);

/*
 * Entry seq read inside txn and checked where it stands, without walking the chain: it decodes,
 * its hash recomputes from its fields and prev_hash, and the next entry's prev_hash (or the head,
 * for the last entry) is that hash. action (CA_STORE_MAX_ACTION + 1 bytes) and detail
 * (CA_STORE_MAX_DETAIL + 1 bytes) receive copies; e's pointers point at them.
 * Errors: OFFCA_E_VERIFY (missing, malformed, modified, not chained), OFFCA_E_STORE.
 */
offca_rc ca_audit_entry_get(ca_store *st, MDB_txn *txn, uint64_t seq, ca_audit_entry *e, char *action,
			    char *detail);
/* The head (last seq and its hash; 0 and zeros for an empty log) inside txn. */
offca_rc ca_audit_head_txn(ca_store *st, MDB_txn *txn, uint64_t *seq, unsigned char hash[32]);

/*
 * Appending many entries in one transaction (audit_log.c): the head (seq, hash) is read once, kept
 * here, and written to meta/audit_head by ca_audit_tail_flush(), which must run before the
 * transaction commits and before anything else in it appends with ca_audit_append_txn() (that one
 * reads the head from meta). The SHA-256 implementation is fetched once and its context reused.
 * Entries are byte for byte those ca_audit_append_txn() writes.
 */
typedef struct ca_audit_tail {
	uint64_t seq;            /* last entry written */
	unsigned char hash[32];  /* its hash */
	int loaded, dirty;       /* head read / entries appended since the last flush */
	void *md_ctx, *md;       /* EVP_MD_CTX, EVP_MD (fetched) */
} ca_audit_tail;
offca_rc ca_audit_tail_load(ca_store *st, MDB_txn *txn, ca_audit_tail *t);
/* action and detail checked like ca_audit_append_txn()'s (detail NULL: empty). */
offca_rc ca_audit_tail_append(ca_store *st, MDB_txn *txn, ca_audit_tail *t, const char *action,
			      const char *detail);
offca_rc ca_audit_tail_flush(ca_store *st, MDB_txn *txn, ca_audit_tail *t);
/* Free the digest state and zero t (nothing is written). t may be NULL. */
void ca_audit_tail_clear(ca_audit_tail *t);

/* Big-endian helpers. */
void ca_be64_put(unsigned char *p, uint64_t v);
uint64_t ca_be64_get(const unsigned char *p);

/* Move serial s from "reserved" to state (CA_SERIAL_USED / CA_SERIAL_VOID) inside txn; the
   reservation's issuer is copied to issuer (may be NULL). OFFCA_E_STATE if not reserved.
   cur: a cursor on DB_RESV in txn (one search instead of two), or NULL. */
offca_rc ca_st_resv_close(ca_store *st, MDB_txn *txn, MDB_cursor *cur, const ca_serial *s, int state,
			  char *issuer, size_t cap);

/* A compact one-line JSON audit detail built with json_pack() format fmt (caller frees), or NULL
   after recording OFFCA_E_NOMEM / OFFCA_E_INTERNAL. */
char *ca_audit_json(const char *fmt, ...);

/* Parse 64 hex digits (colons allowed) into fp; 0 on success. */
int ca_fp_parse(const char *text, unsigned char fp[32]);

/* Void every reservation still open (called at open under the lock: they are a dead run's). */
offca_rc ca_st_void_stale(ca_store *st);

/* Record encoding (record_codec.c): a growing buffer and a cursor that checks before consuming. */
typedef struct ca_wbuf {
	unsigned char *p;
	size_t len, cap;
	int failed; /* set on allocation failure: every later put is a no-op */
	int fixed;  /* p is the caller's buffer of cap bytes: never grown or freed; overflow sets failed */
} ca_wbuf;
/* A ca_wbuf writing into buf[0..cap) (ca_wb_free() is then a no-op on buf). */
ca_wbuf ca_wb_fixed(void *buf, size_t cap);
void ca_wb_u8(ca_wbuf *b, uint8_t v);
void ca_wb_u32(ca_wbuf *b, uint32_t v);
void ca_wb_i64(ca_wbuf *b, int64_t v);
void ca_wb_bytes(ca_wbuf *b, const void *p, size_t n);
/* u32 length then bytes; s may be NULL (empty). */
void ca_wb_blob(ca_wbuf *b, const void *p, size_t n);
void ca_wb_str(ca_wbuf *b, const char *s);
void ca_wb_free(ca_wbuf *b);

typedef struct ca_rcur {
	const unsigned char *p;
	size_t left;
	int bad; /* set once anything did not fit: later reads return zeros */
} ca_rcur;
uint8_t ca_rc_u8(ca_rcur *c);
uint32_t ca_rc_u32(ca_rcur *c);
int64_t ca_rc_i64(ca_rcur *c);
void ca_rc_bytes(ca_rcur *c, void *out, size_t n);
/* A u32-length blob of at most max bytes: pointer into the record (not copied), *n its length. */
const unsigned char *ca_rc_blob(ca_rcur *c, size_t max, size_t *n);
/* A u32-length string of at most max bytes copied NUL-terminated into buf (cap > max) or a new
   allocation (buf == NULL: *dup receives it). No NUL bytes inside. */
void ca_rc_str(ca_rcur *c, size_t max, char *buf, size_t cap);
char *ca_rc_strdup(ca_rcur *c, size_t max);

/* Certificate record <-> bytes (record_codec.c). Decode validates every length. */
offca_rc ca_rec_encode(const ca_cert_record *r, ca_wbuf *out);
/* Exact length of r's encoding (r checked with ca_rec_check() first), and the encoding written
   into p[0..len) with len that length (OFFCA_E_INTERNAL if it does not fit exactly). */
size_t ca_rec_encoded_len(const ca_cert_record *r);
offca_rc ca_rec_encode_into(const ca_cert_record *r, unsigned char *p, size_t len);
offca_rc ca_rec_decode(const unsigned char *p, size_t len, ca_cert_record *out);
/* Check a record before it is stored (lengths, strings). */
offca_rc ca_rec_check(const ca_cert_record *r);

/* Index keys (store_cert.c). SANs up to STORE_SAN_KEY_MAX bytes are indexed as text, longer
   ones by their SHA-256 (LMDB keys are at most 511 bytes). */
#define STORE_SAN_KEY_MAX 400u
void ca_st_expiry_key(int64_t not_after, const ca_serial *s, unsigned char key[8 + CA_SERIAL_LEN]);
/* Key prefix of san (text or 0x01 || sha256, then '\0') into key; returns its length, 0 on error. */
size_t ca_st_san_prefix(const char *san, unsigned char *key, size_t cap);
/*
 * The reversed-name part of the SAN index (for `list --san '*.suffix'`, a range scan): a DNS SAN
 * "DNS:a.b.example" also has the key 0x02 "example.b.a" '\0' serial, lower case. Stores made
 * before it existed get it at their first writable open (meta "san_rev", store_env.c); until then
 * the suffix search walks the DNS keys. Names longer than STORE_SAN_REV_MAX are walked only.
 */
#define STORE_SAN_REV_MAX 253u
size_t ca_st_san_rev_prefix(const char *name, size_t n, unsigned char *key, size_t cap);
offca_rc ca_st_san_rev_put(ca_store *st, MDB_txn *txn, const char *san, size_t n, const ca_serial *s);
/* Is the reversed-name index complete (meta "san_rev")? */
int ca_st_san_rev_ready(ca_store *st, MDB_txn *txn);
/* Complete it if it is not (a writable open of an older store; a new store at creation). */
offca_rc ca_st_san_rev_ensure(ca_store *st);

/* One record with its indexes, reservation and audit entry inside txn (store_cert.c). */
offca_rc ca_st_cert_commit_txn(ca_store *st, MDB_txn *txn, const ca_cert_record *r);
/* The same with the audit entries appended through tail (flush it before committing); resv is a
   cursor on DB_RESV in txn or NULL (see ca_st_resv_close()). */
offca_rc ca_st_cert_put_txn(ca_store *st, MDB_txn *txn, ca_audit_tail *tail, MDB_cursor *resv,
			    const ca_cert_record *r);
/* One issuer with its audit entry inside txn (store_issuer.c). */
offca_rc ca_st_issuer_add_txn(ca_store *st, MDB_txn *txn, const ca_issuer *iss);

/* Remove pending CSRs ids[0..n) inside txn with one audit "pending-remove" entry (store_pending.c).
   An unknown id: OFFCA_E_NOT_FOUND (the caller aborts txn, so nothing is removed). */
offca_rc ca_st_pending_remove_txn(ca_store *st, MDB_txn *txn, const uint64_t *ids, size_t n);

/* Bindings (store_bind.c): the record of kind 'c' (certificate), 'r' (revocation) or 'p'
   (pending CSR) under id (serial or be64 id) was committed by audit entry seq. */
offca_rc ca_st_bind_put(ca_store *st, MDB_txn *txn, char kind, const void *id, size_t len, uint64_t seq);
offca_rc ca_st_bind_del(ca_store *st, MDB_txn *txn, char kind, const void *id, size_t len);
/* After a revoke entry seq for issuer: the issuer's revoked count + 1, pointing at seq. *count
   receives the new count (written into the entry before this is called: see store_cert.c). */
offca_rc ca_st_revoked_count(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t *count, uint64_t *seq);
offca_rc ca_st_revoked_count_put(ca_store *st, MDB_txn *txn, const char *issuer, uint64_t count, uint64_t seq);
/* The cheap check of one record against its entries (store_bind.c, see ca_store_cert_check()),
   inside txn. OFFCA_E_VERIFY names the serial. */
offca_rc ca_st_cert_check_txn(ca_store *st, MDB_txn *txn, const ca_cert_record *r);

/* ca_store_revoked_check() of every issuer that has revocations; *sum: their total. */
offca_rc ca_st_revoked_counts_verify(ca_store *st, uint64_t *sum);
/* A stored checkpoint for entry seq exists (audit_checkpoint.c); OFFCA_E_VERIFY if not. */
offca_rc ca_st_checkpoint_present(ca_store *st, MDB_txn *txn, uint64_t seq);

/* Lookups inside a transaction (store_cert.c). */
offca_rc ca_st_cert_get_txn(ca_store *st, MDB_txn *txn, const ca_serial *s, ca_cert_record *out);

#endif
