/*
 * gw.h - offca-gateway internals (prefix gw_). The gateway is an EST server (RFC 7030) on the online
 * side and the queue of CSRs that crosses the air gap as bundles; it never holds a CA key.
 * See docs/gateway.md.
 */
#ifndef OFFCA_GW_H
#define OFFCA_GW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <lmdb.h>
#include <openssl/x509.h>

#include "offca/err.h"
#include "offca/est.h"

#define GW_MAX_CSR_B64   (16u * 1024u) /* one simpleenroll/simplereenroll body */
#define GW_MAX_CSR_DER   (8u * 1024u)
#define GW_MAX_SANS      32u           /* names bound to one enrollment token */
#define GW_MAX_SAN_LEN   253u
#define GW_TOKEN_ID_LEN  16u           /* hex digits */
#define GW_MAX_QUEUE     200000u       /* requests waiting at once */
#define GW_RID_LEN       32u           /* request id: hex of the first 16 bytes of SHA-256(CSR DER) */

/* ---- state (gw_state.c): one LMDB environment in STATE/db ---- */
typedef enum gw_db { GW_DB_TOKENS = 0, GW_DB_QUEUE, GW_DB_CRL, GW_DB__COUNT } gw_db;
typedef struct gw_state gw_state;

/* Open STATE (created 0700 when create) and its LMDB environment. Errors: OFFCA_E_STATE, OFFCA_E_STORE, OFFCA_E_PERM. */
offca_rc gw_state_open(const char *dir, int create, gw_state **out);
void gw_state_free(gw_state *st);
const char *gw_state_dir(const gw_state *st);
/* A write transaction for several puts (one commit, one fsync). */
offca_rc gw_txn_begin(gw_state *st, MDB_txn **txn);
offca_rc gw_txn_commit(MDB_txn *txn);
/* The JSON object stored at key (*out new reference). Errors: OFFCA_E_NOT_FOUND, OFFCA_E_STORE. */
offca_rc gw_get(gw_state *st, gw_db db, const char *key, json_t **out);
/* Store val at key: in txn when given, else in its own committed transaction. */
offca_rc gw_put(gw_state *st, MDB_txn *txn, gw_db db, const char *key, const json_t *val);
/* Call cb for every record in key order (non-zero stops). */
typedef int (*gw_each_cb)(void *arg, const char *key, json_t *val);
offca_rc gw_each(gw_state *st, gw_db db, gw_each_cb cb, void *arg);
/* Number of records in db. */
offca_rc gw_count(gw_state *st, gw_db db, size_t *n);

/* ---- tokens (gw_token.c) ---- */
typedef struct gw_token_opts {
	const char *sans[GW_MAX_SANS];
	size_t n_sans;
	const char *profile; /* client | server | mtls */
	int64_t ttl;         /* seconds */
} gw_token_opts;
/* Make a token (in txn when given, else its own transaction); id (GW_TOKEN_ID_LEN + 1) and secret
   (64 bytes) receive what the endpoint needs. */
offca_rc gw_token_new(gw_state *st, MDB_txn *txn, const gw_token_opts *o, char *id, char *secret, size_t secret_cap);
offca_rc gw_token_revoke(gw_state *st, const char *id);
/* Parse "30m", "24h", "7d", "3600s" or a number of seconds. */
offca_rc gw_duration_parse(const char *text, int64_t *out);
/*
 * Check an enrollment: token id + secret, and the CSR's canonical SANs (est_sans_text) must all be
 * names the token allows. rid: the request this CSR makes. A token is usable once: by the first
 * request that presents it (it then stays usable for polls of that same request only).
 * *tok receives the token record (new reference). Errors: OFFCA_E_PERM with the reason.
 */
offca_rc gw_token_check(gw_state *st, const char *id, const char *secret, const char *csr_sans, const char *rid,
			json_t **tok);
/* Mark the token used by rid (in the request's transaction). */
offca_rc gw_token_use(gw_state *st, MDB_txn *txn, const char *id, json_t *tok, const char *rid);

/* ---- client certificates (gw_verify.c) ---- */
/*
 * Verify a client certificate chain (peer[0] the leaf) against the pinned CA chain: chains to a
 * self-signed certificate of pinned, valid now (any extendedKeyUsage: a server certificate renews itself), not revoked by a CRL the
 * gateway holds for its issuer. Errors: OFFCA_E_VERIFY with the reason.
 */
offca_rc gw_verify_client(gw_state *st, STACK_OF(X509) *pinned, STACK_OF(X509) *peer);
/* The pinned roots (self-signed members) of chain, up-referenced. */
STACK_OF(X509) *gw_roots_of(STACK_OF(X509) *chain);
#define CA_STORE_SERIAL_HEX 67
/* Serial of x as upper-case hex (no separators, leading zero bytes dropped). */
void gw_serial_hex(X509 *x, char out[CA_STORE_SERIAL_HEX]);
/* Profile a certificate was issued under, read from its extendedKeyUsage: "mtls", "server", "client". */
const char *gw_profile_of(X509 *x);

/* ---- EST requests (gw_est.c) ---- */
typedef struct gw_ctx {
	gw_state *st;
	STACK_OF(X509) *chain;   /* pinned CA chain (--ca-chain) */
	char *cacerts_b64;       /* the cacerts answer */
	size_t cacerts_len;
	unsigned retry_after;    /* seconds */
} gw_ctx;

typedef struct gw_answer {
	unsigned status;         /* HTTP status */
	const char *reason;      /* refusals: one line for the log and the body */
	char *body;              /* malloc'd, or NULL */
	size_t body_len;
	const char *ctype;
	unsigned retry_after;    /* with 202 */
	char rid[GW_RID_LEN + 1];
} gw_answer;

typedef struct gw_request {
	const char *op;          /* "simpleenroll" | "simplereenroll" */
	const unsigned char *body;
	size_t body_len;
	const char *user, *pass; /* HTTP Basic, may be NULL */
	STACK_OF(X509) *peer;    /* TLS client chain, may be NULL */
} gw_request;

void gw_est_enroll(gw_ctx *c, const gw_request *r, gw_answer *a);

/* ---- HTTP (gw_http.c) ---- */
typedef struct gw_serve_opts {
	const char *listen;      /* ADDR:PORT */
	const char *tls_cert, *tls_key;
	double rate;             /* requests per second per client address */
	unsigned max_conn;
} gw_serve_opts;
offca_rc gw_serve(gw_ctx *c, const gw_serve_opts *o);

/* ---- queue across the gap (gw_queue.c) ---- */
typedef struct gw_export_opts {
	const char *out, *key_file, *cert_file, *pin_file;
	int all;                 /* also requests exported before and still unanswered */
} gw_export_opts;
offca_rc gw_queue_export(gw_state *st, const gw_export_opts *o, size_t *n_out);
offca_rc gw_queue_import(gw_state *st, STACK_OF(X509) *chain, const char *file, size_t *n_certs, size_t *n_crls);

/* Log one line to stderr with the time (never a secret). */
void gw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* offca-gateway relay push ... (gw_relay.c): argv[0] is "relay"; returns the exit code */
int gw_relay_main(int argc, char **argv);

#endif
