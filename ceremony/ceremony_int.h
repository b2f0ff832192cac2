/* ceremony_int.h - internals shared by the ceremony module's files (not installed, not public). */
#ifndef OFFCA_CEREMONY_INT_H
#define OFFCA_CEREMONY_INT_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

#include "offca/ceremony.h"
#include "offca/token.h"

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
} cer_token;

typedef struct cer_officer {
	char name[CER_NAME_LEN];
	char key_uri[TOK_MAX_URI];
	char pubkey_file[PATH_MAX]; /* resolved against the ceremony file's directory */
	int is_cert;                /* pubkey_file is a certificate */
} cer_officer;

typedef struct cer_validity {
	int64_t not_before;   /* 0: the moment of signing */
	int64_t not_after;    /* 0: not_before + days */
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

#endif
