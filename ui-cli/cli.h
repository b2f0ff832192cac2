/*
 * cli.h - shared pieces of the offca command line (prefix cli_).
 * Each command group lives in its own cmd_<group>.c and is dispatched from main.c.
 * A command function gets argv with argv[0] = the command name and returns the process exit code.
 * Only this module prints errors and chooses exit codes (docs/exit-codes.md).
 */
#ifndef OFFCA_CLI_H
#define OFFCA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <openssl/x509.h>

#include "offca/err.h"

typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Command groups (one file each). */
int cli_cmd_token(int argc, char **argv);    /* cmd_token.c: token list|keygen|wait */
int cli_cmd_init(int argc, char **argv);     /* cmd_inventory.c */
int cli_cmd_list(int argc, char **argv);     /* cmd_inventory.c */
int cli_cmd_show(int argc, char **argv);     /* cmd_inventory.c */
int cli_cmd_revoke(int argc, char **argv);   /* cmd_inventory.c */
int cli_cmd_export(int argc, char **argv);   /* cmd_export.c */
int cli_cmd_audit(int argc, char **argv);    /* cmd_audit.c: audit verify|show */
int cli_cmd_ca(int argc, char **argv);       /* cmd_ca.c: ca root|intermediate|list */
int cli_cmd_sign(int argc, char **argv);     /* cmd_sign.c */
int cli_cmd_issue(int argc, char **argv);    /* cmd_sign.c: issue --generate-key */
int cli_cmd_crl(int argc, char **argv);      /* cmd_crl.c: crl [status] */
int cli_cmd_qr(int argc, char **argv);       /* cmd_qr.c: qr encode|show; cmd_qr_decode.c: decode|scan */
int cli_cmd_bundle(int argc, char **argv);   /* cmd_bundle.c: bundle create|verify|import|export */
int cli_cmd_pending(int argc, char **argv);  /* cmd_pending.c: pending list|show|drop */
int cli_cmd_ceremony(int argc, char **argv); /* cmd_ceremony.c: ceremony run|verify|print */
int cli_cmd_backup(int argc, char **argv);   /* cmd_backup.c */
int cli_cmd_restore(int argc, char **argv);  /* cmd_backup.c */
int cli_cmd_publish(int argc, char **argv);  /* cmd_publish.c: relay objects (pattern 5) */

/* SIGSEGV/SIGBUS inside a CA store's map and LMDB assertions: one line "the store is damaged:
   see offca restore" and exit 19 (cli_fault.c). Other faults keep their disposition. */
void cli_fault_install(void);

/* Print "offca: <detail of the last error>" on stderr and return the exit code for rc. */
int cli_fail(offca_rc rc);

/* Print "offca CMD: <message> (see 'offca CMD --help')" on stderr and return 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

/* Format a Unix time as RFC 3339 UTC ("2026-11-25T14:52:00Z"); "@<seconds>" if it cannot. */
void cli_fmt_time(int64_t t, char *buf, size_t cap);

#endif
