/*
 * agent.h - offca-agent internals (prefix ag_). The agent runs on an endpoint: it enrolls once
 * through an offca-gateway (EST, RFC 7030) with a one-time token, keeps its key, renews with mutual
 * TLS, verifies every answer against the root it pinned by fingerprint, installs atomically and
 * runs a deploy hook. See docs/agent.md.
 *
 * DIR (--out-dir) holds: agent.json (server, root fingerprint, names), root.pem (the pinned root),
 * pending/ (key.pem + csr.der of a request waiting for the offline CA), archive/N/ (cert.pem,
 * chain.pem, fullchain.pem, privkey.pem of each installed generation), current -> archive/N (one
 * atomic rename switches generations) and cert.pem, chain.pem, fullchain.pem, privkey.pem ->
 * current/... (certbot's live/NAME names). With a key on a PKCS#11 token (--key pkcs11:URI), key.uri
 * (its URI) takes the place of key.pem and privkey.pem everywhere: no private key under DIR.
 */
#ifndef OFFCA_AGENT_H
#define OFFCA_AGENT_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/err.h"
#include "offca/est.h"

/* exit codes (docs/agent.md) */
#define AG_EXIT_OK       0
#define AG_EXIT_INTERNAL 1
#define AG_EXIT_USAGE    2
#define AG_EXIT_REFUSED  3  /* the gateway refused the request (4xx) */
#define AG_EXIT_VERIFY   4  /* the answer failed verification (chain, key, names, rollback) */
#define AG_EXIT_NETWORK  5  /* gateway unreachable, TLS failure, 5xx */
#define AG_EXIT_INSTALL  6  /* writing the new files failed (the working certificate stays) */
#define AG_EXIT_HOOK     7  /* installed, but the deploy hook failed */
#define AG_EXIT_TOKEN    8  /* the key's token: absent, wrong PIN, PIN file refused, key missing */
#define AG_EXIT_PENDING  75 /* the request waits for the offline CA: run again later */

#define AG_MAX_SANS 32

typedef struct ag_opts {
	const char *server, *root_fp, *token_file, *key_file, *dir, *deploy_hook;
	const char *key_uri, *pin_file; /* --key pkcs11:URI and its --pin-file (else NULL) */
	const char *sans[AG_MAX_SANS];
	size_t n_sans;
	double renew_at;    /* fraction of the lifetime (default 2/3) */
	double jitter;      /* fraction of the lifetime the renewal point moves earlier at random */
	unsigned max_wait;  /* seconds to keep polling after a 202 (0: return AG_EXIT_PENDING at once) */
	int reuse_key, force;
	const char *relay, *relay_cacert; /* run --relay URL [--relay-cacert F]: pattern 5 (ag_relay.h) */
	int relay_client_auth;            /* --relay-client-auth: the endpoint's certificate to the relay */
} ag_opts;

/* ---- HTTP (ag_http.c, libcurl) ---- */
typedef struct ag_resp {
	long status;
	unsigned retry_after;
	unsigned char *body;
	size_t len;
	size_t max; /* the largest body taken (0: EST_MAX_BODY); a larger one fails the transfer */
} ag_resp;
void ag_resp_clear(ag_resp *r);
/* libcurl's CURLOPT_WRITEFUNCTION for an ag_resp (CURLOPT_WRITEDATA): appends, NUL-terminated. */
size_t ag_resp_body_cb(char *p, size_t sz, size_t n, void *arg);
/*
 * GET cacerts without verifying the server (the bootstrap), then keep only a self-signed
 * certificate whose SHA-256 is fp: written to root_path. Errors: OFFCA_E_NETWORK, OFFCA_E_VERIFY.
 */
offca_rc ag_bootstrap_root(const char *server, const unsigned char fp[32], const char *root_path);
/*
 * POST a base64 CSR to /.well-known/est/OP, the server verified against cafile. user/pass: HTTP
 * Basic (may be NULL); cert/key: client certificate files (may be NULL). Errors: OFFCA_E_NETWORK.
 */
offca_rc ag_post(const char *server, const char *op, const char *cafile, const char *user, const char *pass,
		 const char *cert, const char *key, const char *body, ag_resp *r);

/*
 * The same, the client key being an EVP_PKEY whose private half stays on a token (core's key
 * handle): libcurl's OpenSSL backend gets the certificate chain file and the key through
 * CURLOPT_SSL_CTX_FUNCTION. Errors: OFFCA_E_NETWORK, OFFCA_E_UNSUPPORTED (libcurl not on OpenSSL).
 */
offca_rc ag_post_pkey(const char *server, const char *op, const char *cafile, const char *chain, EVP_PKEY *key,
		      const char *body, ag_resp *r);

/* ---- keys on a PKCS#11 token (ag_tokkey.c, through core's offca/keyref.h) ---- */
#define AG_MAX_URI 1024
typedef struct ca_keyref ca_keyref;
typedef struct ag_tkey {
	ca_keyref *ref;
	char uri[AG_MAX_URI]; /* canonical (token, id, object, type=private) + the operator's ?query */
} ag_tkey;
int ag_is_pkcs11(const char *key);
/* The exit code for a failure to open, make or use a token key (AG_EXIT_TOKEN or AG_EXIT_USAGE). */
int ag_tkey_exit(offca_rc rc);
/* Open the key uri names (PIN from pin_file only; NULL: OFFCA_E_USAGE). */
offca_rc ag_tkey_open(ag_tkey *k, const char *uri, const char *pin_file);
/* Open it, or make it (EC P-256, the URI's object= label) when the token has no such key. */
offca_rc ag_tkey_obtain(ag_tkey *k, const char *uri, const char *pin_file, int *made);
/* A new key on like_uri's token labelled BASE-<unix time> (key cycling). */
offca_rc ag_tkey_make(ag_tkey *k, const char *like_uri, const char *base_label, const char *pin_file);
void ag_tkey_close(ag_tkey *k);
/* Delete a key the agent made and no longer needs from its token (every handle on it closed first);
   says so on stdout, or warns on stderr when it cannot (never fails the run). why: "replaced"... */
void ag_tkey_drop(const char *uri, const char *pin_file, const char *why);
/* DIR/agent.json: the gateway URL, and for a token key its base label and PIN file ("" when absent). */
offca_rc ag_config_load(const char *dir, char *server, size_t cap, char *label, size_t lcap, char *pin, size_t pcap);
/* key.uri files: one pkcs11: URI line. */
offca_rc ag_tkey_uri_read(const char *path, char *buf, size_t cap);
offca_rc ag_tkey_uri_write(const char *path, const char *uri);

/* ---- keys and requests (ag_key.c) ---- */
offca_rc ag_key_new(EVP_PKEY **out);
offca_rc ag_key_load(const char *path, EVP_PKEY **out);
offca_rc ag_key_write(const char *path, EVP_PKEY *key);
/* A CSR (DER) for key with subject and the subjectAltName extension san (either may be NULL). */
offca_rc ag_csr_make(EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san, unsigned char **der,
		     size_t *len);
/* GENERAL_NAMES from "name" / "DNS:name" / "IP:addr" words. */
offca_rc ag_sans_parse(const char *const *words, size_t n, GENERAL_NAMES **out);

/* ---- answers (ag_verify.c) ---- */
typedef struct ag_issued {
	X509 *leaf;
	STACK_OF(X509) *inter; /* intermediates, nearest first (the root left out) */
} ag_issued;
void ag_issued_clear(ag_issued *i);
/*
 * Check an EST answer: a certificate for key, with exactly the names want_sans (est_sans_text
 * form), chaining to root; not older than installed (notBefore), not the installed one.
 * Errors: OFFCA_E_VERIFY with the reason, OFFCA_E_PARSE.
 */
/* Verify leaf to root alone (others: untrusted intermediates); *inter: the chain between them
   (caller frees). Errors: OFFCA_E_VERIFY "the certificate does not chain to the pinned root: why". */
offca_rc ag_chain_to_root(X509 *leaf, STACK_OF(X509) *others, X509 *root, STACK_OF(X509) **inter);
offca_rc ag_verify_answer(const ag_resp *r, EVP_PKEY *key, const char *want_sans, X509 *root, X509 *installed,
			  ag_issued *out);
offca_rc ag_load_cert(const char *path, X509 **out);

/* ---- files (ag_install.c) ---- */
/* Install a new generation (write, fsync, rename current); the old one stays until then.
   key_path: the key file (privkey.pem) or, for a token key, its key.uri file (copied as key.uri). */
offca_rc ag_install(const char *dir, const ag_issued *is, const char *key_path);
/* Run the deploy hook (/bin/sh -c CMD, RENEWED_LINEAGE=dir). Errors: OFFCA_E_IO. */
offca_rc ag_run_hook(const char *cmd, const char *dir);
/* dir/name into buf. */
offca_rc ag_path(char *buf, size_t cap, const char *dir, const char *name);

/* ---- the flows (ag_flow.c) ---- */
int ag_enroll(const ag_opts *o);
int ag_run(const ag_opts *o);

#endif
