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
	int scale, interval, step, text, pem, quiet, import, fragment_set;
};

enum { O_OUT_DIR = 1, O_TYPE, O_FRAG, O_FRAMES, O_SCALE, O_TEXT, O_INTERVAL, O_STEP, O_MAXF, O_OUT, O_PEM,
       O_QUIET, O_IMPORT, O_HOME, O_DEVICE };

#define QO(x) (1u << (x))
/* The options each subcommand takes; any other one is a usage error, never silently ignored. */
#define QR_ENCODE_OPTS (QO(O_OUT_DIR) | QO(O_TYPE) | QO(O_FRAG) | QO(O_FRAMES) | QO(O_SCALE) | QO(O_TEXT) | QO(O_QUIET))
#define QR_SHOW_OPTS (QO(O_TYPE) | QO(O_FRAG) | QO(O_INTERVAL) | QO(O_STEP) | QO(O_MAXF))
#define QR_DECODE_OPTS (QO(O_OUT) | QO(O_TYPE) | QO(O_PEM) | QO(O_TEXT) | QO(O_QUIET) | QO(O_IMPORT) | QO(O_HOME))
#define QR_SCAN_OPTS (QO(O_DEVICE) | QO(O_OUT) | QO(O_TYPE) | QO(O_PEM) | QO(O_QUIET) | QO(O_IMPORT) | QO(O_HOME))

/* Set by cli_qr_on_signal (SIGINT/SIGTERM) while a command shows or scans frames. */
extern volatile sig_atomic_t cli_qr_interrupted;
void cli_qr_on_signal(int sig);
/* Re-record the last error's detail behind a prefix. Returns rc. */
offca_rc cli_qr_prefixed(offca_rc rc, const char *prefix);
/* s is a whole number in lo..hi: store it in *v and return 1; else 0. */
int cli_qr_num(const char *s, long lo, long hi, long *v);
/*
 * Parse options after the subcommand cmd ("qr encode"...), which takes the options in allowed (QO()
 * bits); positional arguments start at argv[*first]. Returns 0 or the exit code of a usage error.
 */
int cli_qr_parse(const char *cmd, unsigned allowed, int argc, char **argv, struct qopts *o, int *first);

/* offca qr decode / offca qr scan (cmd_qr_decode.c); argv[0] is the subcommand. */
int cli_qr_decode(int argc, char **argv);
int cli_qr_scan(int argc, char **argv);

#endif
