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
 * current/... (certbot's live/NAME names).
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
#define AG_EXIT_PENDING  75 /* the request waits for the offline CA: run again later */

#define AG_MAX_SANS 32

typedef struct ag_opts {
	const char *server, *root_fp, *token_file, *key_file, *dir, *deploy_hook;
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
} ag_resp;
void ag_resp_clear(ag_resp *r);
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
offca_rc ag_verify_answer(const ag_resp *r, EVP_PKEY *key, const char *want_sans, X509 *root, X509 *installed,
			  ag_issued *out);
offca_rc ag_load_cert(const char *path, X509 **out);

/* ---- files (ag_install.c) ---- */
/* Install a new generation (write, fsync, rename current); the old one stays until then. */
offca_rc ag_install(const char *dir, const ag_issued *is, const char *key_path);
/* Run the deploy hook (/bin/sh -c CMD, RENEWED_LINEAGE=dir). Errors: OFFCA_E_IO. */
offca_rc ag_run_hook(const char *cmd, const char *dir);
/* dir/name into buf. */
offca_rc ag_path(char *buf, size_t cap, const char *dir, const char *name);

/* ---- the flows (ag_flow.c) ---- */
int ag_enroll(const ag_opts *o);
int ag_run(const ag_opts *o);

#endif
