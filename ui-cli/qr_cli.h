/*
 * qr_cli.h - what the qr commands share (cmd_qr.c: encode, show, dispatch; cmd_qr_decode.c:
 * decode, scan): the option set and its parser, Ctrl-C handling, error wrapping. Internal to ui-cli.
 */
#ifndef OFFCA_CLI_QR_H
#define OFFCA_CLI_QR_H

#include <signal.h>
#include <stddef.h>

#include "offca/err.h"

struct qopts {
	const char *out_dir, *type, *out, *device, *home;
	size_t fragment, frames, max_frames;
	int scale, interval, step, text, pem, quiet, import, fragment_set, json;
};

/* Set by cli_qr_on_signal (SIGINT/SIGTERM) while a command shows or scans frames. */
extern volatile sig_atomic_t cli_qr_interrupted;
void cli_qr_on_signal(int sig);
/* Re-record the last error's detail behind a prefix. Returns rc. */
offca_rc cli_qr_prefixed(offca_rc rc, const char *prefix);
/* The qr options of a parsed command line, with their defaults (scale 6, interval 500 ms,
   device /dev/video0); the descriptors checked every range already. */
#include "cli_opt.h"
void cli_qr_opts(const cli_args *a, struct qopts *o);

/* offca qr decode / offca qr scan (cmd_qr_decode.c). */
extern const cli_cmd cli_qr_decode_cmd, cli_qr_scan_cmd;
/* --type as encode, show, decode and scan take it (the values are in cmd_qr.c). */
extern const char *const cli_qr_payload_types[];
#define CLI_QR_TYPE_OPT                                                                                       	CLI_O("type", CLI_ENUM, "T", "csr, cert, chain, crl, bundle or bytes (default: detected; decode: accept " 	      "only this type)", .values = cli_qr_payload_types)

#endif
