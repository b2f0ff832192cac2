/*
 * inventory.h - what the inventory commands (cmd_inventory.c, cmd_export.c, cmd_audit.c) share:
 * one option table and parser, opening the store, finding a record. Internal to ui-cli.
 */
#ifndef OFFCA_CLI_INVENTORY_H
#define OFFCA_CLI_INVENTORY_H

#include <stdint.h>

#include "offca/store.h"

#define MAX_DAYS 36500L

enum { O_HOME = 1, O_EXPIRING, O_REVOKED, O_ISSUER, O_JSON, O_REASON, O_FORMAT, O_OUT };

struct opts {
	const char *home, *issuer, *reason, *format, *out;
	long expiring; /* days, -1 none */
	int revoked, json;
	const char *pos[2];
	int npos;
};

#define OPT(x) (1u << (x))

/* Parse argv for command cmd; allowed: the O_* options it takes (OPT mask); at most max_pos operands.
   Returns 0, or the exit code of a usage error already printed. */
int cli_inv_parse(const char *cmd, int argc, char **argv, unsigned allowed, int max_pos, struct opts *o);
/* "valid", "revoked" or "expired" at time now. */
const char *cli_inv_status_text(const ca_cert_record *r, int64_t now);
/* Open the CA home's store (--home / $OFFCA_HOME). Returns 0, or the exit code of a printed error. */
int cli_inv_open_store(const char *cmd, const char *home_opt, ca_store **st);
/* Open the store and find the record named by the one operand (serial or fingerprint). Returns 0,
   or the exit code of a printed error (*st is then NULL). */
int cli_inv_find_record(const char *cmd, const struct opts *o, ca_store **st, ca_cert_record *rec);

#endif
