/*
 * offca/sign.h - the signing flow (prefix ca_signer_ / ca_sign_): CSRs in, recorded certificates out.
 *
 * Order of operations, which is what makes a crash harmless (docs/ca.md):
 *   1. reserve one serial per CSR in ONE committed store transaction;
 *   2. pipeline on two threads: (a) parse the CSR strictly, check the issuer's policy, build the
 *      TBS certificate; (b) sign on the token; (a) verify the new signature with the issuer's
 *      public key and lint the certificate;
 *   3. the records go into ONE write transaction (ca_store_cert_batch_*: filled by a store thread
 *      while 2 still signs), committed once every certificate is good and the caller's
 *      stage_sync succeeded;
 *   4. only then hand the certificates to the caller, who may write them out.
 * Any failure before the commit aborts the transaction, voids every reservation and returns
 * nothing: a batch is all or nothing. A crash at any point before the commit leaves at most
 * reservations, which the next ca_store_open() voids.
 *
 * The signer (ca_signer) binds an issuer from the store, its settings from the config and the
 * issuer's key (an EVP_PKEY whose private operations run on the token: tok_key_private()).
 * Not thread-safe; during ca_sign_batch() the store is written only by the batch's own store
 * thread (no other writer may run on it meanwhile: they fail with OFFCA_E_STATE).
 */
#ifndef OFFCA_SIGN_H
#define OFFCA_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#include "offca/config.h"
#include "offca/lint.h"
#include "offca/profile.h"
#include "offca/store.h"
#include "offca/token.h"

/* all records of a batch are committed in ONE transaction (so a batch is all or nothing) */
#define CA_SIGN_BACKDATE     300     /* notBefore = now - 5 minutes (clock skew of relying parties) */
#define CA_SIGN_MAX_BATCH    50000u  /* CSRs in one ca_sign_batch() */

typedef struct ca_signer ca_signer;

/*
 * The issuer offca signs with when none is named: the store's default (the newest
 * intermediate, else the root) when its key is on a token here, else the newest intermediate
 * whose key is, else the root. name receives it (64 bytes). Errors: OFFCA_E_STATE (no issuer).
 */
offca_rc ca_sign_default_issuer(ca_store *st, char name[64]);

/*
 * Bind issuer name (NULL: ca_sign_default_issuer()) with its config section.
 * Refuses an issuer that is not valid now (OFFCA_E_STATE "issuer ... expired on ...") or whose
 * key lives elsewhere (OFFCA_E_STATE). cfg is borrowed and must outlive the signer.
 * Errors: OFFCA_E_STATE, OFFCA_E_NOT_FOUND (no such issuer), OFFCA_E_PARSE, OFFCA_E_NOMEM.
 */
offca_rc ca_signer_new(ca_store *st, const ca_config *cfg, const char *issuer, ca_signer **out);
void ca_signer_free(ca_signer *s);

/* The issuer's name, key URI and certificate (borrowed, valid until ca_signer_free). */
const char *ca_signer_issuer_name(const ca_signer *s);
const char *ca_signer_key_uri(const ca_signer *s);
X509 *ca_signer_issuer_cert(const ca_signer *s);
const ca_issuer_cfg *ca_signer_settings(const ca_signer *s);

/*
 * Attach the issuer's key: priv signs (token), pub verifies. pub must be the issuer
 * certificate's key (OFFCA_E_VERIFY otherwise). Both borrowed: keep them alive while signing.
 */
offca_rc ca_signer_set_key(ca_signer *s, EVP_PKEY *priv, EVP_PKEY *pub);

/*
 * Open a key on its token (tok_key_open: one login for the whole session) and append an audit
 * entry: "key-use" {uri, purpose} on success, "login-failed" {uri, error} on a wrong PIN / locked
 * PIN. st may be NULL (no audit). *out: free with tok_key_free(). Errors: tok_key_open's.
 */
offca_rc ca_key_open_audited(ca_store *st, const char *module, const char *uri, const tok_pin_opts *pin,
			     const char *purpose, tok_key **out);

/*
 * Sign the store's audit head with issuer's key priv (on its token) and store the checkpoint
 * (ca_store_checkpoint): every signing session, CRL and ceremony ends with one, so a chain cut
 * below it is detected by offca audit verify. *seq and hash get the head that was signed.
 * ca_signer_checkpoint() uses the signer's issuer and attached key.
 * Errors: OFFCA_E_STATE (no key), OFFCA_E_VERIFY (the key is not the issuer's), the token's
 * (tok_err_sign), those of ca_store_checkpoint().
 */
offca_rc ca_audit_checkpoint_key(ca_store *st, const char *issuer, EVP_PKEY *priv, uint64_t *seq,
				 unsigned char hash[32]);
offca_rc ca_signer_checkpoint(ca_signer *s, ca_store *st, uint64_t *seq, unsigned char hash[32]);

/* ca_key_open_audited() on the signer's issuer key URI, then ca_signer_set_key(). */
offca_rc ca_signer_open_key(ca_signer *s, ca_store *st, const char *module, const tok_pin_opts *pin,
			    const char *purpose, tok_key **out);

typedef struct ca_sign_input {
	const char *label;            /* file name or "pending 12": used in messages */
	const unsigned char *csr;     /* PEM or DER, borrowed */
	size_t csr_len;
	uint64_t pending_id;          /* id in the store's pending queue, 0: not from the queue. The
					 batch's commit removes these ids from the queue in the same
					 transaction as the records (ca_store_cert_commit_ex): a
					 signed CSR never stays pending, a failed batch removes none */
} ca_sign_input;

typedef struct ca_sign_opts {
	ca_profile profile;           /* server | client | mtls */
	unsigned days;                /* 0: the policy default */
	const char *source;           /* record source, e.g. "offca sign" (<128 bytes) */
	const ca_lint_opts *lint;     /* accepted lints (NULL: none) */
	int threads;                  /* 1 or 2 (default 2: pipeline) */
	/*
	 * Optional: called from the pipeline threads (concurrently, for different i) for each
	 * certificate once it is signed, verified and linted, BEFORE its record is committed, so a
	 * caller can prepare the output meanwhile. The callee must not make anything visible before
	 * ca_sign_batch() returns OFFCA_OK (e.g. write into an unnamed O_TMPFILE and link it only
	 * afterwards): a crash must never leave a certificate without a record. An error fails the
	 * batch.
	 */
	offca_rc (*stage_out)(void *arg, size_t i, const unsigned char *der, size_t len);
	/*
	 * Optional: called once, on the calling thread, after stage_out was called for every
	 * certificate and before the records are committed (e.g. ca_outdir_sync: make the staged data
	 * durable while nothing is named yet). An error fails the batch: nothing committed.
	 */
	offca_rc (*stage_sync)(void *arg);
	void *stage_arg;
} ca_sign_opts;

typedef struct ca_signed {
	ca_serial serial;
	unsigned char *der;           /* certificate DER (OPENSSL_free via ca_sign_result_clear) */
	size_t der_len;
	char subject[256];            /* one-line summary for the operator */
	char sans[512];
	int cn_copied;
} ca_signed;

typedef struct ca_sign_result {
	ca_signed *certs;             /* n entries in input order */
	size_t n;
	size_t failed_index;          /* on failure: the input that failed (or SIZE_MAX) */
} ca_sign_result;

/*
 * Sign n (1..CA_SIGN_MAX_BATCH) CSRs. On OFFCA_OK every record is committed and res holds the
 * certificates (caller writes them out, then ca_sign_result_clear), and every in[i].pending_id
 * != 0 has left the pending queue in that same transaction. On failure nothing is committed,
 * nothing leaves the queue, the reservations are voided, res->failed_index names the input (SIZE_MAX when not
 * tied to one) and the detail is prefixed with its label.
 * Errors: any of ca_csr_parse/ca_policy_check's, OFFCA_E_LINT, OFFCA_E_CRYPTO, OFFCA_E_VERIFY,
 * OFFCA_E_STATE (no key attached), OFFCA_E_DISK_FULL, OFFCA_E_STORE, OFFCA_E_NOMEM,
 * OFFCA_E_NOT_FOUND (a pending_id no longer pending, e.g. signed meanwhile by another run),
 * OFFCA_E_USAGE (the same pending_id twice).
 */
offca_rc ca_sign_batch(ca_signer *s, ca_store *st, const ca_sign_input *in, size_t n,
		       const ca_sign_opts *opts, ca_sign_result *res);

/*
 * Dry run: parse and policy-check every CSR without signing or touching the store; res->certs[i]
 * gets subject/sans summaries (der NULL). Errors as ca_sign_batch before signing.
 */
offca_rc ca_sign_check(ca_signer *s, const ca_sign_input *in, size_t n, const ca_sign_opts *opts,
		       ca_sign_result *res);

void ca_sign_result_clear(ca_sign_result *res);

/* ---- writing a batch as DIR/SERIAL.pem (sign_out.c) ---- */

/*
 * Prepared output of n certificates in directory dir. Pass ca_outdir_stage and the handle as
 * ca_sign_opts.stage_out / stage_arg: each certificate's PEM is then written during the pipeline
 * into an unnamed O_TMPFILE in dir (invisible; freed by the kernel if the process dies). After
 * ca_sign_batch() returned OFFCA_OK, ca_outdir_release() syncs the data once, then names every
 * file dir/SERIAL.pem (never replacing an existing name) and fsyncs dir; files that could not be
 * staged (no O_TMPFILE, too many descriptors) are written there, through a temporary name.
 * ca_outdir_free() drops whatever was staged and not released. Errors: OFFCA_E_NOMEM,
 * OFFCA_E_IO, OFFCA_E_DISK_FULL, OFFCA_E_EXISTS, OFFCA_E_USAGE.
 */
typedef struct ca_outdir ca_outdir;
offca_rc ca_outdir_new(const char *dir, size_t n, ca_outdir **out);
offca_rc ca_outdir_stage(void *outdir, size_t i, const unsigned char *der, size_t len);
/* ca_sign_opts.stage_sync for an outdir: one syncfs() of the staged files before the commit, so
   that ca_outdir_release() only names them. Errors: OFFCA_E_DISK_FULL, OFFCA_E_IO. */
offca_rc ca_outdir_sync(void *outdir);
offca_rc ca_outdir_release(ca_outdir *od, const ca_sign_result *res);
/* Path of certificate i after ca_outdir_release() (borrowed; "" before). */
const char *ca_outdir_path(const ca_outdir *od, size_t i);
void ca_outdir_free(ca_outdir *od);

/* ---- issuer-generated keys (sign_issue.c) ---- */

typedef struct ca_issue_req {
	const char *subject;          /* DN text (ca_x509_parse_dn) */
	const char *const *sans;      /* "DNS:x", "IP:1.2.3.4", "email:a@b", "URI:u" or a bare DNS name;
					 entries may be comma-separated lists */
	size_t n_sans;
	const char *key_type;         /* "ec-p256" (default), "ec-p384", "rsa-2048", "rsa-3072" */
	ca_profile profile;
	unsigned days;                /* 0: policy default */
	const char *pass;             /* PKCS#12 passphrase (caller wipes); NULL: no PKCS#12 (key_out set) */
	int legacy;                   /* PBE-SHA1-3DES PKCS#12 */
	EVP_PKEY **key_out;           /* if not NULL: receives the generated key (EVP_PKEY_free) for
					 the delivery forms of offca/export.h */
} ca_issue_req;

/*
 * Generate a key in software, make a CSR for it in memory and sign it through ca_sign_batch()
 * (same policy, lint, records), then wrap key + certificate + issuer certificate in a PKCS#12.
 * *p12 (OPENSSL_free) is the PKCS#12 (NULL when r->pass is NULL and r->key_out receives the key
 * instead); *info (may be NULL) the certificate summary (info->der is
 * the certificate, free with OPENSSL_free). The private key is wiped when freed.
 * Errors: OFFCA_E_USAGE (key type, SAN syntax, passphrase), ca_sign_batch's, ca_pkcs12_build's.
 */
offca_rc ca_issue_generated(ca_signer *s, ca_store *st, const ca_issue_req *r, unsigned char **p12,
			    size_t *p12_len, ca_signed *info);

/* ---- CA certificates (sign_ca.c) ---- */

typedef struct ca_ca_spec {
	const char *name;             /* issuer name to record ("root", "int-2026"), 1..63 chars */
	const X509_NAME *subject;
	unsigned days;
	int path_len;                 /* -1: none */
	const char *const *permit_dns; size_t n_permit_dns; /* intermediate only */
	const char *key_uri;          /* pkcs11: URI of the new CA's key ("" when held elsewhere) */
	const char *source;           /* "offca ca root", "ceremony ... step 2" */
	const ca_lint_opts *lint;
} ca_ca_spec;

/*
 * Self-signed root: key priv/pub (token), serial reserved, built, signed, verified, linted, the
 * record committed and the issuer added. *out_der (OPENSSL_free) is the certificate.
 * Errors: OFFCA_E_EXISTS (issuer name taken), OFFCA_E_LINT, OFFCA_E_CRYPTO, OFFCA_E_VERIFY,
 * OFFCA_E_DISK_FULL, OFFCA_E_USAGE.
 */
offca_rc ca_sign_root(ca_store *st, const ca_ca_spec *spec, EVP_PKEY *priv, EVP_PKEY *pub,
		      unsigned char **out_der, size_t *out_len);

/*
 * Intermediate signed by parent (a signer with its key attached) for the public key sub_pub
 * (from the new key on a token, or from a CSR when the key lives elsewhere). Validity is capped
 * by nothing: days beyond the parent's notAfter is refused (OFFCA_E_POLICY "issuer-validity").
 * Errors as ca_sign_root.
 */
offca_rc ca_sign_intermediate(ca_store *st, ca_signer *parent, const ca_ca_spec *spec, EVP_PKEY *sub_pub,
			      unsigned char **out_der, size_t *out_len);

#endif
