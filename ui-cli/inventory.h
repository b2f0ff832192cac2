/*
 * inventory.h - what the inventory commands (cmd_inventory.c, cmd_list.c, cmd_export.c,
 * cmd_audit.c) share: the status of a record, its JSON form, finding a record. Internal to ui-cli.
 */
#ifndef OFFCA_CLI_INVENTORY_H
#define OFFCA_CLI_INVENTORY_H

#include <jansson.h>
#include <stdint.h>

#include "offca/store.h"

/* "valid", "revoked" or "expired" at time now. */
const char *cli_inv_status_text(const ca_cert_record *r, int64_t now);
/* Whole days from now to the record's notAfter, rounded down (negative once expired). */
long cli_inv_days_left(const ca_cert_record *r, int64_t now);
/* The record as docs/json.md's certificate object (with its PEM if with_pem). NULL: out of memory. */
json_t *cli_inv_record_json(const ca_cert_record *r, int64_t now, int with_pem);
/* The subject, else the first SAN, else "-". */
const char *cli_inv_display_name(const ca_cert_record *r);

/*
 * The record named by name: a serial (hex), a SHA-256 fingerprint (64 hex digits) or, with
 * by_san, a SAN ("DNS:a.example" or a bare DNS name; the newest certificate holding it).
 * Errors: OFFCA_E_PARSE (not a serial and by_san is 0), OFFCA_E_NOT_FOUND, store errors.
 */
offca_rc cli_inv_find(ca_store *st, const char *name, int by_san, ca_cert_record *rec);

/* Print a JSON document (indented) and a newline on stdout; decrefs j. 0 or a printed error's code. */
int cli_json_print(json_t *j);

#endif
