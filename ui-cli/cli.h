/*
 * cli.h - shared pieces of the offca command line (prefix cli_).
 * Each command group lives in its own cmd_<group>.c as a descriptor (cli_opt.h) listed in main.c;
 * cli_run() parses its argv, a handler gets the parsed arguments and returns the exit code and
 * opens what it needs through cli_session.h.
 * Only this module prints errors and chooses exit codes (docs/exit-codes.md).
 */
#ifndef OFFCA_CLI_H
#define OFFCA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <openssl/x509.h>

#include "offca/err.h"

/* An argv-level handler (argv[0] = the command name): cli_entry.fn, for a command without a
   descriptor (none today). */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Commands declared as descriptors (cli_opt.h), listed in main.c's cli_commands[]. */
struct cli_cmd;
extern const struct cli_cmd cli_init_cmd, cli_show_cmd, cli_revoke_cmd; /* cmd_inventory.c */
extern const struct cli_cmd cli_list_cmd;                              /* cmd_list.c */
extern const struct cli_cmd cli_export_cmd;                            /* cmd_export.c */
extern const struct cli_cmd cli_audit_cmd;                             /* cmd_audit.c: verify|show */
extern const struct cli_cmd cli_ca_cmd;                                /* cmd_ca.c: root|intermediate */
extern const struct cli_cmd cli_ca_list_cmd, cli_ca_show_cmd;          /* cmd_ca_show.c */
extern const struct cli_cmd cli_sign_cmd, cli_issue_cmd;               /* cmd_sign.c */
extern const struct cli_cmd cli_crl_cmd;                               /* cmd_crl.c: crl [status] */
extern const struct cli_cmd cli_pending_cmd;                           /* cmd_pending.c: list|show|drop */
extern const struct cli_cmd cli_token_cmd;                             /* cmd_token.c */
extern const struct cli_cmd cli_bundle_cmd;                            /* cmd_bundle.c */
extern const struct cli_cmd cli_qr_cmd;                                /* cmd_qr.c, cmd_qr_decode.c */
extern const struct cli_cmd cli_ceremony_cmd;                          /* cmd_ceremony.c */
extern const struct cli_cmd cli_backup_cmd, cli_restore_cmd;           /* cmd_backup.c */
extern const struct cli_cmd cli_metrics_cmd;                           /* cmd_metrics.c */
extern const struct cli_cmd cli_inventory_cmd;                         /* cmd_inventory_export.c: export */
extern const struct cli_cmd cli_report_cmd;                            /* cmd_report.c */
extern const struct cli_cmd cli_publish_cmd;                           /* cmd_publish.c: relay objects (pattern 5) */

/* The --json summary of metrics, inventory export and report: the file written, the counts, and the
   export's SHA-256 when sha256 is not NULL (cli_inv_json.c). Returns 0 or the exit code of a failure. */
typedef struct ca_inv_counts ca_inv_counts;
int cli_inv_counts_json(const char *path, const char *sha256, const ca_inv_counts *c);


/* SIGSEGV/SIGBUS inside a CA store's map and LMDB assertions: one line "the store is damaged:
   see offca restore" and exit 19 (cli_fault.c). Other faults keep their disposition. */
void cli_fault_install(void);

/* Print "offca: <detail of the last error>" on stderr and return the exit code for rc. */
int cli_fail(offca_rc rc);

/* Print "offca CMD: <message> (see 'offca CMD --help')" on stderr and return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A time option's value (cli_time.c): YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or @UNIXTIME into *t:
   1; 0 when it has none of these shapes (a caller may read it as something else); -1 when it has
   one but is no valid time. */
int cli_parse_time(const char *s, int64_t *t);

/* True when argv holds -h or --help anywhere (before a "--"). */
int cli_wants_help(int argc, char **argv);

/*
 * The CA home: opt (--home) if set, else $OFFCA_HOME. Returns NULL (after recording an
 * OFFCA_E_USAGE detail) when neither is set.
 */
const char *cli_home(const char *opt);

/* Print a distinguished name the way offca prints every name (ca_x509_name_text). */
void cli_print_name(FILE *f, const X509_NAME *name);

/*
 * Does the CA home's config require inbound transfers to be signed by an enrolled operator
 * (defaults.transfer.require_signed)? Loads home/config.json, checked against st's issuers
 * (ca_config_load_for_store). Errors: those of ca_config_load_for_store().
 */
struct ca_store;
offca_rc cli_require_signed(const char *home, struct ca_store *st, int *out);

/*
 * ca_signer_open_key(), then the issuer's touch policy from the config ("touch", "touch_timeout")
 * set on the key, with the prompt printed on stderr before each signature that needs a touch
 * (touch.c). Errors: those of ca_signer_open_key and tok_key_set_touch (the key is closed then).
 */
typedef struct ca_signer ca_signer;
typedef struct ca_store ca_store;
typedef struct tok_key tok_key;
typedef struct tok_pin_opts tok_pin_opts;
offca_rc cli_signer_open_key(ca_signer *s, ca_store *st, const char *module, const tok_pin_opts *pin,
			     const char *purpose, tok_key **out);
/* The touch policy of c (an issuer's settings; ca_config_issuer(cfg, NULL): the defaults) set on
   an open key, as cli_signer_open_key does. On error *key is closed and NULL. */
typedef struct ca_issuer_cfg ca_issuer_cfg;
offca_rc cli_key_touch(tok_key **key, const ca_issuer_cfg *c);
/* cli_key_touch with the settings of issuer (NULL: the defaults) from the config of the CA home
   home_opt (NULL: $OFFCA_HOME); no home or no config there: nothing. */
offca_rc cli_home_key_touch(const char *home_opt, const char *issuer, tok_key **key);

/*
 * End a signing session or a CRL by signing the store's audit head with the signer's issuer key
 * (ca_signer_checkpoint) and print "offca: audit head #N sha256 H signed by issuer 'X'" on
 * stderr. On failure msg gets "signing the audit head failed: <why>" and the code is returned
 * (the caller reports it after releasing what is already recorded).
 */
struct ca_signer;
struct ca_store;
offca_rc cli_checkpoint(struct ca_signer *s, struct ca_store *st, char *msg, size_t cap);

/*
 * An --out-dir: an existing directory is used as is; a missing one is created with mode 0700
 * (missing parents too), as every command taking --out-dir does. Errors: OFFCA_E_EXISTS (a file
 * is there), those of ut_mkdir_p (the detail names the directory).
 */
offca_rc cli_out_dir(const char *dir);

/* A PKCS#12 passphrase: the first line of file (0600), else a no-echo prompt, asked twice.
   Errors: OFFCA_E_USAGE (they differ), those of ut_secret_from_file / ut_secret_prompt. */
offca_rc cli_p12_passphrase(const char *file, char *buf, size_t cap);

/* Format a Unix time as RFC 3339 UTC ("2026-11-25T14:52:00Z"); "@<seconds>" if it cannot. */
void cli_fmt_time(int64_t t, char *buf, size_t cap);

#endif
