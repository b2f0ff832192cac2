/* cmd_qr.c - offca qr encode|show (and the dispatch and options of qr decode|scan, which live in
 * cmd_qr_decode.c): payloads as multi-frame UR QR codes (docs/qr.md). */
#include "cli.h"
#include "qr_cli.h"
#include "cli_opt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "offca/payload.h"
#include "offca/qr.h"
#include "offca/store.h"
#include "offca/ur.h"
#include "offca/util.h"

#define SHOW_SINGLE_MAX 400u /* messages up to this size are shown as one frame */

volatile sig_atomic_t cli_qr_interrupted;

void cli_qr_on_signal(int sig)
{
	(void)sig;
	cli_qr_interrupted = 1;
}

/* Re-record the last error's detail behind a prefix (copied first: ut_err reuses its buffer). */
offca_rc cli_qr_prefixed(offca_rc rc, const char *prefix)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	return ut_err(rc, "%s: %s", prefix, msg);
}

void cli_qr_opts(const cli_args *a, struct qopts *o)
{
	memset(o, 0, sizeof(*o));
	o->out_dir = cli_opt_if(a, "out-dir");
	o->type = cli_opt_if(a, "type");
	o->out = cli_opt_if(a, "out");
	o->home = cli_opt_if(a, "home");
	o->device = cli_opt_if(a, "device") ? cli_opt_if(a, "device") : "/dev/video0";
	o->fragment_set = cli_opt_if(a, "fragment-size") != NULL;
	o->fragment = o->fragment_set ? (size_t)cli_num(a, "fragment-size", 0) : 0;
	o->frames = cli_opt_if(a, "frames") ? (size_t)cli_num(a, "frames", 0) : 0;
	o->max_frames = cli_opt_if(a, "max-frames") ? (size_t)cli_num(a, "max-frames", 0) : 0;
	o->scale = cli_opt_if(a, "scale") ? (int)cli_num(a, "scale", 6) : 6;
	o->interval = cli_opt_if(a, "interval") ? (int)cli_num(a, "interval", 500) : 500;
	o->text = cli_opt_if(a, "text") != NULL;
	o->step = cli_opt_if(a, "step") != NULL;
	o->pem = cli_opt_if(a, "pem") != NULL;
	o->quiet = cli_opt_if(a, "quiet") != NULL;
	o->import = cli_opt_if(a, "import") != NULL;
	o->json = cli_opt_if(a, "json") != NULL;
}

/* FILE -> checked payload -> UR encoder. */
static offca_rc make_encoder(const char *path, const struct qopts *o, int show, xfr_ur_encoder **enc,
			     xfr_payload_type *type, size_t *plen)
{
	offca_rc rc;
	unsigned char *in = NULL, *pl = NULL;
	size_t inlen = 0, frag = o->fragment;
	xfr_payload_type want;

	rc = ut_read_file(path, UT_MAX_TEXT_FILE, 0, &in, &inlen);
	if (rc != OFFCA_OK)
		goto out;
	if (o->type != NULL) {
		rc = xfr_payload_type_parse(o->type, &want);
		if (rc != OFFCA_OK) {
			rc = cli_qr_prefixed(rc, "--type");
			goto out;
		}
	}
	rc = xfr_payload_prepare(in, inlen, o->type ? &want : NULL, type, &pl, plen);
	if (rc != OFFCA_OK) {
		rc = cli_qr_prefixed(rc, path);
		goto out;
	}
	if (!o->fragment_set)
		frag = (!show || *plen + 3 <= SHOW_SINGLE_MAX) ? SHOW_SINGLE_MAX : 200;
	rc = xfr_ur_encoder_new(xfr_payload_ur_type(*type), pl, *plen, frag, enc);
out:
	free(in);
	free(pl);
	return rc;
}

static size_t total_frames(const struct qopts *o, size_t seq_len)
{
	if (seq_len == 1)
		return 1;
	return o->frames ? o->frames : 3 * seq_len;
}

/* DIR/frame-001.png (more digits past 999 frames). Errors: OFFCA_E_USAGE (path too long). */
static offca_rc frame_path(char *buf, size_t cap, const char *dir, size_t i, size_t total)
{
	int digits = total >= 100000 ? 6 : total >= 10000 ? 5 : total >= 1000 ? 4 : 3;
	int w = snprintf(buf, cap, "%s/frame-%0*zu.png", dir, digits, i);

	if (w < 0 || (size_t)w >= cap)
		return ut_err(OFFCA_E_USAGE, "--out-dir path is too long");
	return OFFCA_OK;
}

static offca_rc write_frame(const char *path, const char *ur, int scale, int *version)
{
	offca_rc rc;
	xfr_qr_code *c = NULL;
	unsigned char *png = NULL;
	size_t len;

	rc = xfr_qr_encode(ur, &c);
	if (rc == OFFCA_OK)
		rc = xfr_qr_png(c, scale, 4, &png, &len);
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, png, len, UT_WF_EXCL);
	if (c != NULL)
		*version = xfr_qr_code_version(c);
	xfr_qr_code_free(c);
	free(png);
	return rc;
}

static int run_encode(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct qopts o;
	xfr_ur_encoder *e = NULL;
	xfr_payload_type type;
	size_t plen, total, written = 0;
	char path[4096];
	int version = 0;

	cli_qr_opts(a, &o);
	if (o.out_dir == NULL && !o.text)
		return cli_usage_error(cmd->name, "--out-dir DIR (or --text) is required");
	rc = make_encoder(a->pos[0], &o, 0, &e, &type, &plen);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	total = total_frames(&o, xfr_ur_encoder_seq_len(e));
	if (o.out_dir != NULL) {
		rc = cli_out_dir(o.out_dir);
		for (size_t i = 1; rc == OFFCA_OK && i <= total; i++) {
			rc = frame_path(path, sizeof(path), o.out_dir, i, total);
			if (rc == OFFCA_OK && ut_path_exists(path) == OFFCA_OK)
				rc = ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite frames", path);
		}
	}
	for (size_t i = 1; rc == OFFCA_OK && i <= total; i++) {
		char *ur = NULL;

		rc = xfr_ur_encoder_part(e, (uint32_t)i, &ur);
		if (rc == OFFCA_OK && o.text && printf("%s\n", ur) < 0)
			rc = ut_err(OFFCA_E_IO, "cannot write to stdout");
		if (rc == OFFCA_OK && o.out_dir != NULL)
			rc = frame_path(path, sizeof(path), o.out_dir, i, total);
		if (rc == OFFCA_OK && o.out_dir != NULL) {
			rc = write_frame(path, ur, o.scale, &version);
			written += rc == OFFCA_OK;
		}
		free(ur);
	}
	if (rc != OFFCA_OK) {
		/* nothing half-written: remove the frames of this run */
		for (size_t i = 1; i <= written; i++)
			if (frame_path(path, sizeof(path), o.out_dir, i, total) == OFFCA_OK)
				unlink(path);
		xfr_ur_encoder_free(e);
		return cli_fail(rc);
	}
	if (o.out_dir != NULL && !o.quiet)
		fprintf(stderr, "offca: ur:%s, %zu bytes: %zu fragment(s) of %zu bytes, wrote %zu frame(s) "
				"(QR version %d, ECC M) to %s\n", xfr_payload_ur_type(type), plen,
			xfr_ur_encoder_seq_len(e), xfr_ur_encoder_fragment_len(e), total, version, o.out_dir);
	xfr_ur_encoder_free(e);
	return fflush(stdout) == 0 ? 0 : cli_fail(ut_err(OFFCA_E_IO, "cannot write to stdout"));
}

#define QR_QUIET 4 /* modules of quiet zone around a code on screen (the standard's minimum) */

/* Wait for the next frame: timer or key. Returns 1 next frame, -1 previous (left arrow), 0 quit.
   Right arrow or any other key: next. */
static int next_or_quit(const struct qopts *o, int tty)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	int r = poll(&p, tty ? 1 : 0, o->step && tty ? -1 : o->interval);
	char seq[2];

	if (cli_qr_interrupted)
		return 0;
	if (r > 0 && (p.revents & POLLIN)) {
		char ch = 0;

		if (read(STDIN_FILENO, &ch, 1) != 1)
			return o->step ? 0 : 1;
		if (ch == 'q' || ch == 'Q' || ch == 3)
			return 0;
		/* an arrow key: ESC [ C (right) or ESC [ D (left) */
		if (ch == 27 && poll(&p, 1, 50) > 0 && read(STDIN_FILENO, seq, 2) == 2 && seq[0] == '[')
			return seq[1] == 'D' ? -1 : 1;
	}
	return 1;
}

/* The terminal's size (0 when unknown: not a terminal). */
static void term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = *rows = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Characters a code of the encoder's first part takes (with the quiet zone and the status line). */
static offca_rc part_size(xfr_ur_encoder *e, int *cols, int *rows)
{
	char *ur = NULL;
	xfr_qr_code *c = NULL;
	offca_rc rc = xfr_ur_encoder_part(e, 1, &ur);

	if (rc == OFFCA_OK)
		rc = xfr_qr_encode(ur, &c);
	if (rc == OFFCA_OK) {
		*cols = xfr_qr_code_width(c) + 2 * QR_QUIET;
		*rows = (*cols + 1) / 2 + 1; /* the code's text rows and the status line */
	}
	xfr_qr_code_free(c);
	free(ur);
	return rc;
}

/* The encoder for show: with --fragment-size, refuse when its code does not fit the terminal;
   else the largest fragment size whose code fits (said in *note). */
static offca_rc fit_encoder(const char *path, struct qopts *o, xfr_ur_encoder **e, xfr_payload_type *type,
			    size_t *plen, char *note, size_t cap)
{
	static const size_t frags[] = {0 /* the default */, 150, 100, 70, 50, 35, 25, 18};
	const int user_set = o->fragment_set;
	int tc, tr, w = 0, h = 0;
	offca_rc rc;

	note[0] = '\0';
	term_size(&tc, &tr);
	for (size_t i = 0; i < (user_set ? 1 : sizeof(frags) / sizeof(frags[0])); i++) {
		if (!user_set && i > 0) {
			o->fragment = frags[i];
			o->fragment_set = 1;
		}
		rc = make_encoder(path, o, 1, e, type, plen);
		if (rc == OFFCA_OK)
			rc = part_size(*e, &w, &h);
		if (rc != OFFCA_OK && rc != OFFCA_E_TOO_BIG)
			return rc;
		if (rc == OFFCA_OK && (tc == 0 || (w <= tc && h <= tr))) {
			if (!user_set && i > 0)
				snprintf(note, cap, "fragment size %zu picked to fit this %dx%d terminal", o->fragment, tc, tr);
			return OFFCA_OK;
		}
		xfr_ur_encoder_free(*e);
		*e = NULL;
		if (user_set)
			return ut_err(OFFCA_E_USAGE, "a frame of --fragment-size %zu needs a %dx%d terminal, this one is %dx%d: "
						     "enlarge it (or a smaller font) or give a smaller --fragment-size", o->fragment, w,
				      h, tc, tr);
	}
	return ut_err(OFFCA_E_USAGE, "this %dx%d terminal is too small for any QR frame (at least %dx%d): enlarge it "
				     "or use a smaller font, or qr encode --out-dir to write PNG frames", tc, tr, w, h);
}

/* One frame and its status line: "frame 7 of 9" for the pure fragments, then
   "frame 1 of 9 (fountain 10)" for the fountain parts past them. */
static void show_frame(const char *txt, const struct qopts *o, const char *ur_type, uint32_t seq, size_t seq_len,
		       const char *note)
{
	char where[96];

	if (seq <= seq_len)
		snprintf(where, sizeof(where), "frame %u of %zu", seq, seq_len);
	else
		snprintf(where, sizeof(where), "frame %zu of %zu (fountain %u)", (size_t)(seq - 1) % seq_len + 1, seq_len,
			 seq);
	/* no newline after the status line: on a terminal just tall enough it would scroll the top away */
	printf("\x1b[H\x1b[2J%sur:%s  %s  %s%s%s", txt, ur_type, where,
	       o->step ? "any key or \xe2\x86\x92: next, \xe2\x86\x90: back, q: quit"
		       : "\xe2\x86\x90 \xe2\x86\x92: move, q or Ctrl-C: quit",
	       note[0] ? "  " : "", note);
}

static int run_show(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct qopts o;
	xfr_ur_encoder *e = NULL;
	xfr_payload_type type;
	struct termios saved, raw;
	size_t plen, seq_len, shown = 0;
	int tty, move = 1;
	uint32_t seq = 1;
	char note[160];

	(void)cmd;
	cli_qr_opts(a, &o);
	rc = fit_encoder(a->pos[0], &o, &e, &type, &plen, note, sizeof(note));
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	seq_len = xfr_ur_encoder_seq_len(e);
	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	signal(SIGINT, cli_qr_on_signal);
	signal(SIGTERM, cli_qr_on_signal);
	while (rc == OFFCA_OK && !cli_qr_interrupted) {
		char *ur = NULL, *txt = NULL;
		xfr_qr_code *c = NULL;

		/* a one-part UR is drawn once and stays; multi-part URs move on to the next frame */
		if (seq_len > 1 || shown == 0)
			rc = xfr_ur_encoder_part(e, seq, &ur);
		if (rc == OFFCA_OK && ur != NULL)
			rc = xfr_qr_encode(ur, &c);
		if (rc == OFFCA_OK && c != NULL)
			rc = xfr_qr_text(c, QR_QUIET, &txt);
		if (rc == OFFCA_OK && txt != NULL)
			show_frame(txt, &o, xfr_payload_ur_type(type), seq, seq_len, note);
		fflush(stdout);
		free(ur);
		free(txt);
		xfr_qr_code_free(c);
		shown++;
		if (rc != OFFCA_OK || (o.max_frames && shown >= o.max_frames) || (move = next_or_quit(&o, tty)) == 0)
			break;
		if (seq_len > 1 && move > 0)
			seq = seq == UINT32_MAX ? 1 : seq + 1;
		else if (seq_len > 1 && seq > 1)
			seq--;
	}
	if (shown > 0)
		putchar('\n'); /* the status line has none: the prompt comes back on a line of its own */
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	xfr_ur_encoder_free(e);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* ---- decode / scan ---- */

const char *const cli_qr_payload_types[] = {"csr", "cert", "chain", "crl", "bundle", "bytes", NULL};

static const cli_opt encode_opts[] = {
	CLI_O("out-dir", CLI_PATH, "DIR", "write numbered PNG frames DIR/frame-001.png... (never overwriting; DIR "
	      "created 0700 when missing)"),
	CLI_O("text", CLI_FLAG, NULL, "print the UR strings, one per line, instead of (or with --out-dir, as well as) "
	      "writing images"),
	CLI_QR_TYPE_OPT,
	CLI_O("fragment-size", CLI_NUM, "N", "bytes per frame (default 400: QR version 19 at ECC M)",
	      .lo = XFR_UR_MIN_FRAGMENT, .hi = XFR_UR_MAX_FRAGMENT),
	CLI_O("frames", CLI_NUM, "N", "frames in all (default 3 x the fragments: fountain frames past them)", .lo = 1,
	      .hi = 100000),
	CLI_O("scale", CLI_NUM, "N", "pixels per module (default 6)", .lo = 1, .hi = XFR_QR_MAX_SCALE),
	CLI_O("quiet", CLI_FLAG, NULL, "no progress on stderr"),
	CLI_END};

static const cli_opt show_opts[] = {
	CLI_QR_TYPE_OPT,
	CLI_O("fragment-size", CLI_NUM, "N", "bytes per frame (default 200; must fit the terminal)",
	      .lo = XFR_UR_MIN_FRAGMENT, .hi = XFR_UR_MAX_FRAGMENT),
	CLI_O("interval", CLI_NUM, "MS", "one frame every MS milliseconds (default 500)", .lo = 10, .hi = 60000),
	CLI_O("step", CLI_FLAG, NULL, "the next frame on a key press"),
	CLI_O("max-frames", CLI_NUM, "N", "stop after N frames", .lo = 1, .hi = 100000),
	CLI_END};

static const cli_cmd encode_cmd = {
	.name = "qr encode",
	.summary = "write the payload as numbered PNG frames (or UR text lines)",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = encode_opts,
	.usage = "offca qr encode FILE --out-dir DIR [--type T] [--fragment-size N] [--frames N] [--scale N]\n"
		 "offca qr encode FILE --text [--type T] [--fragment-size N] [--frames N]",
	.details = "PEM input is sent as DER. A P-256 CSR fits one frame.\n",
	.run = run_encode,
};

static const cli_cmd show_cmd = {
	.name = "qr show",
	.summary = "draw the frames in this terminal with UTF-8 half blocks and a 4-module quiet zone",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = show_opts,
	.usage = "offca qr show FILE [--type T] [--fragment-size N] [--interval MS | --step] [--max-frames N]",
	.details = "One frame after another every --interval MS or on a key press (--step); the arrow keys move one\n"
		   "frame back or on; fountain frames go on until q or Ctrl-C. A message of up to 400 bytes is shown\n"
		   "as one frame. When the code would not fit the terminal, the largest fragment size that fits is\n"
		   "picked (said on the status line); a --fragment-size that does not fit is refused.\n",
	.run = run_show,
};

static const cli_cmd *const qr_subs[] = {&encode_cmd, &show_cmd, &cli_qr_decode_cmd, &cli_qr_scan_cmd, NULL};

const cli_cmd cli_qr_cmd = {
	.name = "qr",
	.summary = "encode, show, decode and scan multi-frame QR codes",
	.details = "Moves a CSR, certificate, chain, CRL or bundle across the air gap as QR codes in the Uniform\n"
		   "Resources multi-part format (ur:offca-csr/3-9/...; docs/formats.md, docs/qr.md).\n",
	.subs = qr_subs,
};
