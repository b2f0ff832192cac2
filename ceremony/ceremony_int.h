/* ceremony_int.h - internals shared by the ceremony module's files (not installed, not public). */
#ifndef OFFCA_CEREMONY_INT_H
#define OFFCA_CEREMONY_INT_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

#include "offca/ceremony.h"
#include "offca/token.h"
#include "offca/lint.h"
#include "offca/x509.h"

typedef enum cer_step_type {
	CER_ROOT_KEY = 0,
	CER_ROOT_CERT,
	CER_INT_KEY,
	CER_INT_CERT,
	CER_SIGN_INT_CSR,
	CER_CRL,
	CER_SIGNING_SESSION,
	CER_OCSP,
	CER_STEP__COUNT
} cer_step_type;

#define CER_NAME_LEN 64

typedef struct cer_token {
	char id[CER_NAME_LEN];
	char uri[TOK_MAX_URI];
	char label[33];            /* token= of the URI ("" when the URI names it otherwise) */
	char serial[17];           /* serial= of the URI */
	char description[CER_MAX_STR];
	int when_needed;           /* insert: when-needed */
	int touch;                 /* touch: a tok_touch_mode; -1 when not given (the attestation's) */
	unsigned touch_timeout;    /* touch-timeout: seconds (0: TOK_TOUCH_TIMEOUT_DEFAULT) */
} cer_token;

typedef struct cer_officer {
	char name[CER_NAME_LEN];
	char key_uri[TOK_MAX_URI];
	char pubkey_file[PATH_MAX]; /* resolved against the ceremony file's directory */
	int is_cert;                /* pubkey_file is a certificate */
} cer_officer;

typedef struct cer_validity {
	int64_t not_after;    /* 0: now + days */
	unsigned days;
} cer_validity;

#define CER_MAX_OUTPUTS 4
typedef struct cer_output {
	char key[32];               /* "public-key", "certificate", "crl", "bundle", "directory" */
	char path[PATH_MAX];        /* relative to the output dir */
} cer_output;

typedef struct cer_step {
	unsigned index;             /* 1-based */
	cer_step_type type;
	char title[CER_MAX_STR];
	json_t *desc;               /* the step as given (canonical JSON), owned */
	unsigned char hash[32];     /* SHA-256 of the canonical description */
	int token;                  /* index into tokens, -1 none */
	char key_label[CER_NAME_LEN];
	tok_keytype key_type;
	char name[CER_NAME_LEN];    /* CA name recorded in the store (certificate steps) */
	char issuer[CER_NAME_LEN];  /* issuer name in the store */
	char subject[CER_MAX_STR];
	cer_validity validity;
	int path_len;               /* -1: none */
	char **permit_dns; size_t n_permit_dns;
	char **accepted_lints; size_t n_accepted_lints;
	char csr[PATH_MAX];         /* sign-intermediate-csr */
	char **csrs; size_t n_csrs; /* signing-session files (resolved) */
	int pending;                /* signing-session: take the store's pending queue */
	char profile[32];
	char **names; size_t n_names; /* ocsp-responses: intermediates */
	char attestation[16];       /* "if-available" | "required" */
	char attest_cert[PATH_MAX];  /* attestation-files: certificate, device, ca (may be "") */
	char attest_device[PATH_MAX];
	char attest_ca[PATH_MAX];
	char attest_root[PATH_MAX];  /* attestation-root: the PIV attestation CA file (may be "") */
	cer_output out[CER_MAX_OUTPUTS];
	size_t n_out;
	int key_step;               /* step (0-based) that generates the key, -1: already on the token */
	int issuer_step;            /* step (0-based) that makes the issuer, -1: in the store */
	int64_t abs_not_after;      /* for nesting checks (0: unknown) */
	unsigned quorum_m;
	int quorum_officers[CER_MAX_OFFICERS]; size_t n_quorum;
} cer_step;

struct cer_file {
	char path[PATH_MAX];
	unsigned char sha256[32];    /* SHA-256 of the file's bytes as parsed */
	char dir[PATH_MAX];          /* directory of the file (relative inputs) */
	char name[CER_MAX_STR];
	char out_dir[PATH_MAX];
	char transcript[PATH_MAX];   /* relative to out_dir */
	char administrator[CER_MAX_STR];
	char **witnesses; size_t n_witnesses;
	cer_token tokens[CER_MAX_TOKENS]; size_t n_tokens;
	cer_officer officers[CER_MAX_OFFICERS]; size_t n_officers;
	int signer_token;            /* transcript-signer; -1: derive */
	char signer_label[CER_NAME_LEN];
	cer_step steps[CER_MAX_STEPS]; size_t n_steps;
	json_t *doc;                 /* whole file as JSON */
};

const char *cer_step_type_name(cer_step_type t);
/* Does step type make a key / a certificate with a store name / use an issuer. */
int cer_step_makes_key(cer_step_type t);
int cer_step_makes_ca(cer_step_type t);
int cer_step_uses_issuer(cer_step_type t);

/* YAML (libfyaml) -> JSON tree: plain scalars become integers/booleans/null where they look like
   one, everything else a string. Errors: OFFCA_E_PARSE with line/column. */
offca_rc cer_yaml_to_json(const char *text, size_t len, const char *what, json_t **out);
/* Same for a file holding secrets (credentials): libfyaml's copies of the scalars are wiped too. */
offca_rc cer_yaml_to_json_secret(const char *text, size_t len, const char *what, json_t **out);

/* Key URI for label on token tk (token URI + object=label). */
offca_rc cer_key_uri(const cer_token *tk, const char *label, const char *type, char *out, size_t cap);

/* Join dir and rel (rel absolute: rel). Errors: OFFCA_E_TOO_BIG. */
offca_rc cer_path_join(const char *dir, const char *rel, char *out, size_t cap);

void cer_strv_free(char **v, size_t n);

/* ---- field helpers for validation (cfile_fields.c); path is the object's field path ---- */
/* Report every key of obj not in allowed (NULL-terminated). */
void cer_f_unknown(cer_diag *d, json_t *obj, const char *path, const char *const *allowed);
/* String field: 1 when present and valid (copied into buf), 0 otherwise (problem reported when
   required or wrong). */
int cer_f_str(cer_diag *d, json_t *obj, const char *path, const char *key, int required, char *buf, size_t cap);
int cer_f_int(cer_diag *d, json_t *obj, const char *path, const char *key, int required, long long min,
	      long long max, long long *out);
int cer_f_bool(cer_diag *d, json_t *obj, const char *path, const char *key, int *out);
/* List of strings (max CER_MAX_LIST). */
int cer_f_strv(cer_diag *d, json_t *obj, const char *path, const char *key, int required, size_t min_n,
	       char ***out, size_t *n);
/* Object field: the borrowed object, or NULL (problem reported when required or wrong type). */
json_t *cer_f_obj(cer_diag *d, json_t *obj, const char *path, const char *key, int required);
/* RFC 3339 UTC "2026-01-01T00:00:00Z" -> unix time. 0 on success. */
int cer_parse_time(const char *s, int64_t *out);
/* Parse one step (index i, 0-based) into st. */
void cer_step_parse(cer_file *f, size_t i, json_t *obj, cer_diag *d, cer_step *st);
/* Cross-step checks (references, validity nesting, outputs). */
void cer_steps_check(cer_file *f, cer_diag *d);
/* Signing sessions' CSR files against the permit-dns of the ceremony's CAs above their issuer
   (after cer_steps_check() resolved issuer_step). */
void cer_steps_check_nc(const cer_file *f, cer_diag *d);
/* The same for sessions whose issuer is in the store st: its chain's name constraints. */
struct ca_store;
void cer_steps_check_nc_store(const cer_file *f, struct ca_store *st, cer_diag *d);


/* ---- running (flow*.c, prompt.c, step*.c, quorum.c) ---- */

struct cer_transcript;
struct ca_store;

/* A key opened during the ceremony (one login per token, kept until the end or the token goes). */
typedef struct cer_keyslot {
	char uri[TOK_MAX_URI];
	char who[CER_NAME_LEN];      /* token id or officer name (PIN lookup, messages) */
	tok_key *key;
} cer_keyslot;

/* keys stay open for the whole run: one per key a step uses (its own and its issuer's), officers */
#define CER_MAX_KEYSLOTS (2 * CER_MAX_STEPS + CER_MAX_OFFICERS)
#define CER_MAX_STAGED   512
#define CER_MAX_DONE     64

/* A file a step wants to release: written only when the whole step succeeded. */
typedef struct cer_staged {
	char rel[PATH_MAX];          /* relative to the output dir */
	unsigned char *data;
	size_t len;
} cer_staged;

typedef struct cer_run {
	const cer_run_opts *opts;
	cer_file *f;
	const char *module;          /* resolved module path (dry-run: SoftHSM2) */
	char module_buf[PATH_MAX];
	char out_dir[PATH_MAX];
	char home[PATH_MAX];         /* CA home in use ("" none) */
	struct ca_store *store;      /* open for the whole run when a step needs it */
	struct ca_config *cfg;       /* the CA home's config (issuer settings) */
	struct cer_transcript *t;
	cer_keyslot keys[CER_MAX_KEYSLOTS];
	size_t n_keys;
	tok_info tinfo[CER_MAX_TOKENS]; /* what cer_token_ready saw */
	int tinfo_ok[CER_MAX_TOKENS];
	int approved[CER_MAX_OFFICERS]; /* officers who approved a step: they sign the transcript */
	cer_staged staged[CER_MAX_STAGED];
	size_t n_staged;
	char step_id[16];            /* "3" while step 3 runs, "" at ceremony level */
	char where[128];             /* where we are, for the abort entry */
	int dry_run;
	char dry_dir[PATH_MAX];      /* temp dir of a dry run */
	char dry_old_conf[PATH_MAX]; /* the caller's $SOFTHSM2_CONF, put back at the end */
	int dry_had_conf, dry_conf_set;
	char dry_labels[CER_MAX_TOKENS + CER_MAX_OFFICERS][33];
	size_t n_dry_labels;
	EVP_PKEY *officer_pub[CER_MAX_OFFICERS]; /* dry run: the rehearsal officer keys */
	char signer_uri[TOK_MAX_URI];/* ceremony key (signs the transcript) */
	char signer_who[CER_NAME_LEN];
	struct {
		char uri[1024];      /* the attested key */
		int mode;            /* its attested touch policy, a tok_touch_mode */
	} attested[CER_MAX_KEYSLOTS];
	size_t n_attested;
	char done[CER_MAX_DONE][PATH_MAX + 64]; /* what now exists (abort screen), from cer_log */
	size_t n_done;
	unsigned resume_from;        /* resuming: the first step to run (1-based), 0 a new ceremony */
} cer_run_t;

/* prompt.c: every question goes through these; with an answers file nothing is read. */
void cer_say(cer_run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Read one answer for prompt id (shown as "[id]"). Errors: OFFCA_E_ABORTED (Ctrl-C, EOF, no
   answer left in the answers file). */
offca_rc cer_ask(cer_run_t *r, const char *id, const char *question, char *buf, size_t cap);
/* Ask to type "yes"; on a terminal any other answer but "abort" is asked again saying what is
   expected; "abort" (or an answers file's non-yes): OFFCA_E_ABORTED ("declined at [id]").
   Recorded in the transcript as a "confirm" entry. */
offca_rc cer_confirm(cer_run_t *r, const char *id, const char *question);
/* Ask until "yes" or "no" is typed (anything else is asked again, saying what is expected);
   "abort": OFFCA_E_ABORTED. With an answers file, any answer but "yes" is a no. */
offca_rc cer_ask_yes_no(cer_run_t *r, const char *id, const char *question, int *yes);
/* Position (1..) of ans among words ("yes|no"), 0 none. */
int cer_word_index(const char *words, const char *ans);
/* words as said to a person ("yes or no"). */
const char *cer_words_said(const char *words);
/* 1 when Ctrl-C was pressed. */
int cer_interrupted(const cer_run_t *r);
/* OFFCA_E_ABORTED when Ctrl-C was pressed and, on a terminal, "abort" confirmed it (anything else
   there clears the interruption: OFFCA_OK). */
offca_rc cer_check_intr(cer_run_t *r);
/* Remember an output written, for the abort screen. */
void cer_note_output(cer_run_t *r, const char *rel);
/* Append a transcript entry (data stolen; NULL = {}); keys, certificates, issuers and CRLs are
   remembered for the abort screen. */
offca_rc cer_log(cer_run_t *r, const char *event, json_t *data);

/* flow_tokens.c */
/* Make sure the token is there and this process is still logged in to it; when it is not there,
   close every open key (the module must be reloaded to see it arrive), say "insert token X now",
   wait (tok_wait, up to --token-wait) and record it. */
offca_rc cer_token_ready(cer_run_t *r, int token);
/* The same for the token a key URI names (officers' tokens). */
offca_rc cer_wait_uri(cer_run_t *r, const char *who, const char *uri);

/* flow_keys.c: keys are opened once and kept open (logged in) until the end of the run, so each
   token's PIN is asked once per ceremony; they are closed only when a token goes missing. */
/* The ceremony token id whose label/serial the URI names ("issuer" when none): PIN lookup. */
const char *cer_who_for_uri(cer_run_t *r, const char *uri);
/* Ask for the PIN of who (credentials, else no-echo prompt; dry run: the rehearsal PIN) and call
   fn with it, up to 3 tries while fn returns OFFCA_E_PIN_INCORRECT; then OFFCA_E_ABORTED. When a
   key of who is open (its token is logged in), fn is first called with pin NULL and no PIN is asked
   unless that fails with OFFCA_E_USAGE (not logged in after all). fn must not prompt itself. */
typedef offca_rc (*cer_pin_fn)(cer_run_t *r, const char *pin, void *arg);
offca_rc cer_pin_loop(cer_run_t *r, const char *who, int touch_hint, cer_pin_fn fn, void *arg);
/* Close the open keys of who (NULL: every key); their token logs out when no key of it is left. */
void cer_keys_close(cer_run_t *r, const char *who);
/* 1 when a key of who is open. */
int cer_keys_held(const cer_run_t *r, const char *who);
/* The open key the URI names (same URI text, or token/serial + object/id match), else NULL. */
tok_key *cer_key_held(cer_run_t *r, const char *uri);
/* flow_checkpoint.c: sign the CA home's audit head with an open issuer key (the ceremony key
   first) and log it ("audit-checkpoint"); nothing to do without a store. */
offca_rc cer_audit_checkpoint(cer_run_t *r);
/* Keep an opened key until the end of the run (owned from now on, also on failure). */
offca_rc cer_keep_key(cer_run_t *r, const char *who, tok_key *key);
/* The open key at uri, else open (log in to) it, asking for the PIN of who when its token is not
   logged in yet (credentials, else no-echo prompt, 3 tries). Kept open until the end of the run. */
offca_rc cer_key_get(cer_run_t *r, const char *uri, const char *who, int touch_hint, tok_key **out);
/* flow_touch.c: keys that need a touch. The token's "touch" in the ceremony file wins, else the
   touch policy the key's attestation stated; the prompt goes to the ceremony's screen. */
/* Give an open key of who its touch policy (nothing when it has none). Errors: tok_key_set_touch. */
offca_rc cer_touch_apply(cer_run_t *r, const char *who, tok_key *key);
/* Remember a verified attestation's touch policy ("always", "cached", "never", "default") for
   key_uri and apply it to the key when it is open. */
offca_rc cer_touch_attested(cer_run_t *r, const char *key_uri, const char *policy);
/* The token's info; 1 present, 0 absent, -1 error (cfile_env.c). */
int cer_token_present(const char *module, const cer_token *tk, tok_info *info_out);
/* Stage a file for release at the end of the step (data copied). */
offca_rc cer_stage(cer_run_t *r, const char *rel, const void *data, size_t len);
/* Write every staged file (never overwriting) and record them; on failure remove what this
   step wrote. */
offca_rc cer_release(cer_run_t *r);
/* Forget staged files (abort). */
void cer_unstage(cer_run_t *r);
/* SHA-256 fingerprint of data into buf, grouped "75BA 1446 ..." (cer_hex_grouped; cap >= CER_FP_LEN). */
void cer_fingerprint(const void *data, size_t len, char *buf, size_t cap);

/* flow_dry.c: the rehearsal PIN of every dry-run token (told to the operator). */
#define CER_DRY_PIN "123456"
offca_rc cer_dry_setup(cer_run_t *r);
/* End of a dry run (keys, store and transcript closed): delete the throwaway token store and its
   configuration and put the caller's $SOFTHSM2_CONF back. keep_outputs: the outputs (transcript,
   certificates) and the rehearsal CA home stay for review; 0 (nothing started): the whole temp dir
   goes. Nothing to do outside a dry run. Errors: OFFCA_E_IO. */
offca_rc cer_dry_cleanup(cer_run_t *r, int keep_outputs);
int cer_dry_token_made(cer_run_t *r, const char *label);

/* quorum.c: collect M of N approvals for step st (signatures over its hash). */
offca_rc cer_quorum(cer_run_t *r, const cer_step *st);

/* attest.c: YubiKey PIV attestation. */
typedef struct cer_attest_info {
	unsigned long serial;      /* device serial (1.3.6.1.4.1.41482.3.7), 0 unknown */
	char firmware[16];         /* "5.4.3" (1.3.6.1.4.1.41482.3.3) */
	char pin_policy[16];       /* never | once | always (1.3.6.1.4.1.41482.3.8, byte 1) */
	char touch_policy[16];     /* never | always | cached (byte 2) */
	char root_sha256[100];     /* SHA-256 "AB:CD:..." of the root the chain ended at ("" unchecked) */
} cer_attest_info;
/*
 * Check an attestation: attest (the slot's attestation certificate) is signed by device (the
 * device's f9 attestation certificate), device chains to a self-signed certificate of roots when
 * roots is given (Yubico's PIV attestation CA, with any Yubico intermediates, all from the
 * ceremony file), and attest certifies exactly key. Errors: OFFCA_E_VERIFY (which link fails).
 */
offca_rc cer_attest_verify(X509 *attest, X509 *device, STACK_OF(X509) *roots, EVP_PKEY *key,
			   cer_attest_info *info);
/* Validation: path holds PEM certificates, one of them self-signed. Errors: OFFCA_E_PARSE, file's. */
offca_rc cer_attest_check_root(const char *path);
/* Record (and check) the attestation of a key on token before the issuer signs it: from the
   step's attestation files when given, else what the token shows through PKCS#11; required:
   demand one. A failing attestation always stops (OFFCA_E_VERIFY). */
offca_rc cer_attest_record(cer_run_t *r, const cer_step *st, int token, const char *key_uri, EVP_PKEY *pub,
			   int required);
/* ykcs11's labels: "X.509 Certificate for PIV Attestation 9c" (key's CKA_ID) and the f9 certificate. */
#define CER_YK_ATTEST_PREFIX "X.509 Certificate for PIV Attestation "
#define CER_YK_F9_LABEL "X.509 Certificate for PIV Attestation"
/* attest_token.c: the attestation of the key key_uri (its CKA_ID) and the device's f9 certificate,
   read off the token; *att NULL (OFFCA_OK) when the token shows none. label: the attestation's. */
offca_rc cer_attest_from_token(cer_run_t *r, int token, const char *key_uri, X509 **att, X509 **dev,
			       char *label, size_t label_cap);
/* step_key.c: SPKI PEM (malloc'd) and its SHA-256 fingerprint. */
offca_rc cer_pubkey_pem(EVP_PKEY *pub, char **pem, size_t *pem_len, char *fp, size_t fp_cap);

/* step_issue.c: the issuer of a step (its certificate and its key on the token). */
struct ca_signer;
typedef struct cer_issuer_ctx {
	char name[CER_NAME_LEN];
	X509 *cert;          /* borrowed from signer */
	tok_key *key;        /* borrowed from the key slots */
	struct ca_signer *signer; /* core's signer bound to the issuer, key attached (owned) */
} cer_issuer_ctx;
/* Two phases: prepare (bind the issuer, make sure its token is there) before any key of the step
   is opened; then key (log in and attach the key). cer_issuer_open does both. */
offca_rc cer_issuer_prepare(cer_run_t *r, const cer_step *st, cer_issuer_ctx *out);
offca_rc cer_issuer_key(cer_run_t *r, cer_issuer_ctx *ic);
offca_rc cer_issuer_open(cer_run_t *r, const cer_step *st, cer_issuer_ctx *out);
void cer_issuer_close(cer_issuer_ctx *ic);
/* Lint (accepting the step's accepted-lints), record the findings, show them. */
offca_rc cer_lint_cert(cer_run_t *r, const cer_step *st, X509 *cert, X509 *issuer);
offca_rc cer_lint_crl(cer_run_t *r, const cer_step *st, X509_CRL *crl, X509 *issuer);
/* The lint options of a step (its accepted-lints). */
void cer_lint_opts(const cer_step *st, ca_lint_opts *lo);
/* Certificate PEM (malloc'd). */
offca_rc cer_cert_pem(X509 *x, char **pem, size_t *len);
/* A certificate's serial (hex) and SHA-256 fingerprint of its DER, as the screen shows them. */
void cer_cert_ids(X509 *x, char *serial, size_t serial_cap, char *fp, size_t fp_cap);
/* show_x509.c: SHA-256 (grouped) of a public key's SubjectPublicKeyInfo DER. */
void cer_spki_fingerprint(EVP_PKEY *pk, char *fp, size_t cap);
/* A CSR's SHA-256 (DER), public key SHA-256, key type and size, subject as openssl req -text
   prints it, requested SANs: shown and logged ("csr-details"). Errors: OFFCA_E_PARSE. */
offca_rc cer_csr_show(cer_run_t *r, const char *label, const unsigned char *data, size_t len);
/* A CA certificate's issuer, pathLen, name constraints, public-key SHA-256: shown and logged. */
void cer_show_ca_details(cer_run_t *r, X509 *x);
/* Show and log a certificate (subject, serial, validity, SHA-256). */
offca_rc cer_show_cert(cer_run_t *r, const char *what, X509 *x);

/* step_*.c: one function per step type. */
offca_rc cer_step_key(cer_run_t *r, const cer_step *st);
offca_rc cer_step_root_cert(cer_run_t *r, const cer_step *st);
offca_rc cer_step_int_cert(cer_run_t *r, const cer_step *st);
offca_rc cer_step_crl(cer_run_t *r, const cer_step *st);
offca_rc cer_step_session(cer_run_t *r, const cer_step *st);
offca_rc cer_step_ocsp(cer_run_t *r, const cer_step *st);

#endif
