/*
 * cli_session.h - the one opener every command asks for what it needs: the CA home, its store
 * (read-only or writable), its config, the issuer to act for, a signer bound to it and the
 * signer's key on its token. Replaces the prologue each command used to copy (cli_home ->
 * ca_store_open -> ca_config_load_for_store -> ca_signer_new -> cli_signer_open_key).
 *
 *   cli_session s;
 *   offca_rc rc = cli_session_open(&s, a, CLI_S_STORE_RW | CLI_S_KEY, "crl");
 *   if (rc == OFFCA_OK) { ... s.st, s.cfg, s.signer, s.key ... }
 *   cli_session_close(&s);
 *   return rc == OFFCA_OK ? 0 : cli_fail(rc);
 *
 * The options are read from the command's parsed arguments when the command declares them:
 * --home (else $OFFCA_HOME), --issuer, --pin-file, --module. A need implies the ones before it
 * (CLI_S_KEY: a writable store unless CLI_S_STORE_RO is asked, the config, the signer).
 */
#ifndef OFFCA_CLI_SESSION_H
#define OFFCA_CLI_SESSION_H

#include "cli_opt.h"
#include "offca/err.h"

#define CLI_S_HOME     0x01u /* s->home: --home or $OFFCA_HOME (OFFCA_E_USAGE when neither) */
#define CLI_S_STORE_RO 0x02u /* s->st opened read-only (reading never needs a free disk) */
#define CLI_S_STORE_RW 0x04u /* s->st opened for writing */
#define CLI_S_CONFIG   0x08u /* s->cfg: config.json, checked against the store's issuers */
#define CLI_S_ISSUER   0x10u /* s->issuer: --issuer, else the default issuer (ca_sign_default_issuer) */
#define CLI_S_SIGNER   0x20u /* s->signer: ca_signer_new() for --issuer (NULL: the default) */
#define CLI_S_KEY      0x40u /* s->key: the signer's key (cli_signer_open_key, its touch policy) */

typedef struct ca_store ca_store;
typedef struct ca_config ca_config;
typedef struct ca_signer ca_signer;
typedef struct tok_key tok_key;

typedef struct cli_session {
	const char *home;  /* borrowed from argv or the environment */
	ca_store *st;
	ca_config *cfg;
	char issuer[64];   /* CLI_S_ISSUER, CLI_S_SIGNER: the issuer's name */
	ca_signer *signer;
	tok_key *key;
} cli_session;

/*
 * Open what need asks for, in order; purpose names the key use in the audit log ("sign", "crl").
 * extra (n_extra): issuer names about to be created whose config sections may already exist
 * (ca_config_load_for_store). On error everything opened so far is closed and the error's
 * detail recorded (report it with cli_fail). s is cleared on entry; close it either way.
 */
offca_rc cli_session_open_ex(cli_session *s, const cli_args *a, unsigned need, const char *purpose,
			     const char *const *extra, size_t n_extra);
offca_rc cli_session_open(cli_session *s, const cli_args *a, unsigned need, const char *purpose);
void cli_session_close(cli_session *s);

/* Open the signer's key later (after a dry run or a confirmation): what CLI_S_KEY does. Close it
   as soon as the signatures are done with cli_session_close_key() (logs out of the token). */
offca_rc cli_session_open_key(cli_session *s, const cli_args *a, const char *purpose);
void cli_session_close_key(cli_session *s);

#endif
