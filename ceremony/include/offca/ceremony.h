/*
 * offca/ceremony.h - guided, scripted, verifiable key ceremonies (prefix cer_).
 *
 * A ceremony file (YAML, docs/ceremony-files.md) lists the people, the tokens, the quorum officers
 * and numbered steps of eight types: root-key, root-cert, intermediate-key, intermediate-cert,
 * sign-intermediate-csr, crl, signing-session, ocsp-responses. The file holds no secret: the
 * PKCS#11 module path and PINs come from a credentials file (cer_credentials_load) or a no-echo
 * prompt.
 *
 * Life of a run (cer_run):
 *   load + validate the file (every problem reported, one per line, each naming the field path)
 *   -> check the environment (tokens present, key labels free, outputs absent, CA home and
 *   issuers) -> create the transcript -> confirm date/time, record administrator and witnesses
 *   -> per step: show it, quorum approvals, "type yes", insert token, PIN, do it (keys on the
 *   token, certificates built/linted/committed by core), verify, show fingerprints, write outputs
 *   (never overwriting), append to the transcript -> finish and sign the transcript.
 * Any abort (a declined confirmation, Ctrl-C, three wrong PINs, a token pulled) ends the
 * transcript with an "abort" entry and an "end" entry with status "aborted"; nothing of the
 * step in progress is released.
 *
 * The library does not print on its own: all terminal output goes to the FILE streams the caller
 * puts into cer_run_opts, and questions are read from there (or from an answers file).
 */
#ifndef OFFCA_CEREMONY_H
#define OFFCA_CEREMONY_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "offca/err.h"

/* Named maxima for ceremony files and their companions. */
#define CER_MAX_FILE      (256u * 1024u) /* a ceremony, answers or credentials file */
#define CER_MAX_STEPS     64u
#define CER_MAX_TOKENS    16u
#define CER_MAX_OFFICERS  16u
#define CER_MAX_LIST      256u           /* entries of any list (csrs, witnesses, lints, ...) */
#define CER_MAX_STR       1024u          /* any string field */
#define CER_MAX_ANSWERS   1024u

/* ---- problem lists (validation) ---- */

/* A list of validation problems, one message each ("steps[2].key.type: must be one of ..."). */
typedef struct cer_diag cer_diag;

offca_rc cer_diag_new(cer_diag **out);
void cer_diag_free(cer_diag *d);
/* Number of problems recorded. */
size_t cer_diag_count(const cer_diag *d);
/* Message i (0-based), borrowed; NULL when out of range. */
const char *cer_diag_msg(const cer_diag *d, size_t i);
/* Record a problem (printf format). Never fails (an out-of-memory problem is counted). */
void cer_diag_add(cer_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- ceremony files ---- */

typedef struct cer_file cer_file;

/*
 * Parse and statically validate the ceremony file at path: YAML syntax, unknown / missing fields,
 * wrong types, allowed values, impossible validity, references between steps, tokens and
 * officers, files the steps read (CSRs, officer public keys). Every problem is added to diag.
 * On success (no problem) *out is the parsed file (free with cer_file_free).
 * Errors: OFFCA_E_PARSE (problems: see diag; the detail gives the count), OFFCA_E_NOT_FOUND,
 * OFFCA_E_TOO_BIG, OFFCA_E_IO, OFFCA_E_NOMEM.
 */
offca_rc cer_file_load(const char *path, cer_diag *diag, cer_file **out);
void cer_file_free(cer_file *f);
/* The ceremony's name (borrowed). */
const char *cer_file_name(const cer_file *f);

/* Where a run or a validation looks for things outside the file. */
typedef struct cer_env {
	const char *module;      /* PKCS#11 module path (NULL: tok_module_resolve's choice) */
	const char *home;        /* CA home (NULL: none; steps that need the store report it) */
	const char *out_dir;     /* overrides the file's output-dir (dry runs), NULL: the file's */
	int skip_tokens;         /* do not look at tokens at all (validate --offline) */
	int skip_store;          /* do not look at the CA home (validate --offline) */
	unsigned resume_from;    /* resuming an aborted run at this step (1-based): the steps before it
				    are done (their keys, outputs, issuers and the transcript exist) */
} cer_env;

/*
 * Check the ceremony against the world, before any token is used: every token is present (unless
 * marked insert: when-needed), no key label that a step generates exists yet (tok_label_exists),
 * no output file or the transcript exists, the CA home exists when a step needs it, issuers named
 * by steps exist in the store or are made by an earlier step. Every problem is added to diag.
 * Errors: OFFCA_E_STATE (problems: see diag), OFFCA_E_NOMEM.
 */
offca_rc cer_file_check_env(const cer_file *f, const cer_env *env, cer_diag *diag);

/*
 * cer_file_load() and cer_file_check_env() together, reporting ALL problems: the environment is
 * checked even when the file has problems (on whatever could be parsed). On success *out is the
 * file. Errors: OFFCA_E_PARSE (file problems), OFFCA_E_STATE (only environment problems),
 * OFFCA_E_NOMEM; see diag.
 */
offca_rc cer_file_validate(const char *path, const cer_env *env, cer_diag *diag, cer_file **out);

/* ---- credentials (module path and PINs; never in the ceremony file) ---- */

typedef struct cer_credentials cer_credentials;

/*
 * Load a credentials file (must be mode 0600 or stricter, owned by the caller). Two formats:
 * YAML:
 *     module: /usr/lib/softhsm/libsofthsm2.so
 *     pins:
 *       root-token: "123456"              # token id from the ceremony file, or an officer name
 *       alice: { pin-file: /safe/alice.pin }
 * or key=value lines ('#' starts a comment):
 *     module=/usr/lib/softhsm/libsofthsm2.so
 *     pin.root-token=123456
 *     pin-file.alice=/safe/alice.pin
 * Errors: OFFCA_E_PERM (group/other can read it), OFFCA_E_PARSE (detail names the line/field),
 * OFFCA_E_NOT_FOUND, OFFCA_E_TOO_BIG, OFFCA_E_IO, OFFCA_E_NOMEM.
 */
offca_rc cer_credentials_load(const char *path, cer_credentials **out);
/* Wipes every PIN. c may be NULL. */
void cer_credentials_free(cer_credentials *c);
/* Module path or NULL (borrowed). c may be NULL. */
const char *cer_credentials_module(const cer_credentials *c);
/*
 * Copy the PIN for id (a token id or officer name) into buf (from the file's pin or pin-file).
 * Errors: OFFCA_E_NOT_FOUND (no PIN for id: prompt instead), errors of ut_secret_from_file.
 */
offca_rc cer_credentials_pin(const cer_credentials *c, const char *id, char *buf, size_t cap);

/* ---- answers (non-interactive confirmations) ---- */

typedef struct cer_answers cer_answers;

/*
 * Load an answers file: a YAML sequence (answers to the prompts in order), a YAML mapping
 * (prompt id -> answer, or prompt id -> sequence of answers for a prompt asked repeatedly), or
 * plain lines (one answer per line, in order; '#' lines are comments). Prompt ids are shown in
 * brackets next to each question ("[step3.confirm]"); see docs/ceremony-files.md.
 * Errors: OFFCA_E_PARSE, OFFCA_E_NOT_FOUND, OFFCA_E_TOO_BIG, OFFCA_E_IO, OFFCA_E_NOMEM.
 */
offca_rc cer_answers_load(const char *path, cer_answers **out);
void cer_answers_free(cer_answers *a);
/*
 * The answer for prompt id: the next keyed answer for id if the file has keys, else the next
 * answer in order. Borrowed, NULL when none is left.
 */
const char *cer_answers_next(cer_answers *a, const char *id);

/* ---- running ---- */

typedef struct cer_run_opts {
	const char *file;              /* ceremony file */
	const char *home;              /* CA home (--home / $OFFCA_HOME), may be NULL */
	const cer_credentials *creds;  /* may be NULL: prompt for every PIN */
	cer_answers *answers;          /* may be NULL: ask on in/out */
	int dry_run;                   /* rehearse on throwaway SoftHSM2 tokens in a temp dir */
	FILE *in, *out;                /* the operator's terminal (questions); PINs use /dev/tty */
	volatile sig_atomic_t *interrupted; /* set by the caller's SIGINT handler; may be NULL */
	unsigned token_wait_s;         /* how long to wait for "insert token X now" (0: 300 s) */
	const char *resume;            /* the transcript of an aborted run of file to continue, or NULL */
} cer_run_opts;

typedef struct cer_run_result {
	char transcript[4096];  /* path of the transcript ("" if none was created) */
	char out_dir[4096];     /* where outputs went */
	char status[16];        /* "completed" or "aborted" */
	unsigned steps_done;
} cer_run_result;

/*
 * Run a ceremony. Validation problems are added to diag (nothing is touched then: OFFCA_E_PARSE
 * or OFFCA_E_STATE). res (may be NULL) tells where the transcript and outputs are.
 * Errors: OFFCA_E_ABORTED (declined, Ctrl-C, PIN tries used up, token pulled: the transcript
 * ends "aborted"), OFFCA_E_PARSE / OFFCA_E_STATE (validation: see diag), and the errors of the
 * step that failed (OFFCA_E_LINT, OFFCA_E_VERIFY, OFFCA_E_TOKEN_ABSENT, OFFCA_E_PIN_LOCKED, ...),
 * after which the transcript also ends "aborted".
 */
offca_rc cer_run(const cer_run_opts *opts, cer_diag *diag, cer_run_result *res);

/* Hashes as people read them: upper-case hex in groups of four ("75BA 1446 ..."), the one format
   of the run screen, the PDFs and verify (fpr.c). A SHA-256 takes CER_FP_LEN bytes with its NUL. */
#define CER_FP_LEN 80
void cer_hex_grouped(const unsigned char *raw, size_t n, char *buf, size_t cap);
/* A recorded hash ("ab12...", "AB:12:..." or grouped) in that format; text that is not an even
   run of at least 16 hex digits is copied as it is. */
void cer_fp_text(const char *recorded, char *buf, size_t cap);

/*
 * The reviewed ceremony file on paper, before the ceremony: its SHA-256 (and a QR code of it),
 * every step's title, canonical description and step hash (the values the run screen shows),
 * written to pdf_path (never overwritten). summary (may be NULL) gets the same hashes as text.
 * Only the file itself is checked (cer_file_load). Errors: cer_file_load's (diag), OFFCA_E_EXISTS,
 * OFFCA_E_IO.
 */
offca_rc cer_review_pdf(const char *file, const char *pdf_path, cer_diag *diag, FILE *summary);

/* "root-key" ... "ocsp-responses": the step types, NULL-terminated (for docs and --help). */
extern const char *const cer_step_type_names[];

#endif
