/* cmd_qr.c - offca qr encode|show (and the dispatch and options of qr decode|scan, which live in
 * cmd_qr_decode.c): payloads as multi-frame UR QR codes (docs/qr.md). */
#include "cli.h"
#include "qr_cli.h"

#include <errno.h>
#include <getopt.h>
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

static const char qr_usage[] =
	"usage: offca qr encode FILE --out-dir DIR [--type T] [--fragment-size N] [--frames N] [--scale N]\n"
	"       offca qr encode FILE --text [--type T] [--fragment-size N] [--frames N]\n"
	"       offca qr show FILE [--type T] [--fragment-size N] [--interval MS | --step] [--max-frames N]\n"
	"       offca qr decode IMAGE... [--out FILE] [--type T] [--pem] [--text] [--quiet]\n"
	"                               [--import [--home DIR]]\n"
	"       offca qr scan [--device /dev/video0] [--out FILE] [--type T] [--pem] [--import [--home DIR]]\n"
	"\n"
	"Moves a CSR, certificate, chain, CRL or bundle across the air gap as QR codes in the Uniform\n"
	"Resources multi-part format (ur:offca-csr/3-9/...; docs/formats.md, docs/qr.md).\n"
	"\n"
	"  encode  write numbered PNG frames DIR/frame-001.png... (never overwriting). PEM input is sent\n"
	"          as DER. --type csr|cert|chain|crl|bundle|bytes (default: detected). --fragment-size N\n"
	"          bytes per frame (default 400: QR version 19 at ECC M; a P-256 CSR fits one frame).\n"
	"          --frames N frames in all (default 3 x the fragments; frames past the fragment count\n"
	"          are fountain frames, so any large enough subset decodes). --scale N pixels per module\n"
	"          (default 6). --text prints the UR strings, one per line, instead of (or, with\n"
	"          --out-dir, as well as) writing images.\n"
	"  show    draw the frames in this terminal with UTF-8 half blocks and a 4-module quiet zone,\n"
	"          one after another every --interval MS (default 500) or on a key press (--step);\n"
	"          the arrow keys move one frame back or on; fountain frames go on until q or Ctrl-C.\n"
	"          Default fragment size 200 bytes (webcams read version 13 quickly); a message of up\n"
	"          to 400 bytes is shown as one frame. When the code would not fit the terminal, the\n"
	"          largest fragment size that fits is picked (said on the status line); a\n"
	"          --fragment-size that does not fit is refused.\n"
	"  decode  reassemble from PNG/JPEG images (frames in any order, repeated, extra). Progress\n"
	"          'k of n frames' on stderr. Frames of another message are rejected, never merged.\n"
	"          The result is checked (CRC32, then a well-formed payload of its type) before the\n"
	"          exact bytes go to --out FILE (never overwritten) or stdout. --pem writes PEM.\n"
	"          --text: the arguments are text files of UR strings (one per line; '-' = stdin).\n"
	"          --import puts a decoded CSR into the pending queue of the CA home (--home or\n"
	"          $OFFCA_HOME) instead of writing it.\n"
	"  scan    the same from a webcam through zbar's video support, until the payload is complete\n"
	"          or Ctrl-C.\n";

#define SHOW_SINGLE_MAX 400u /* messages up to this size are shown as one frame */

static const struct option long_opts[] = {
	{"out-dir", required_argument, NULL, O_OUT_DIR}, {"type", required_argument, NULL, O_TYPE},
	{"fragment-size", required_argument, NULL, O_FRAG}, {"frames", required_argument, NULL, O_FRAMES},
	{"scale", required_argument, NULL, O_SCALE},     {"text", no_argument, NULL, O_TEXT},
	{"interval", required_argument, NULL, O_INTERVAL}, {"step", no_argument, NULL, O_STEP},
	{"max-frames", required_argument, NULL, O_MAXF}, {"out", required_argument, NULL, O_OUT},
	{"pem", no_argument, NULL, O_PEM},               {"quiet", no_argument, NULL, O_QUIET},
	{"import", no_argument, NULL, O_IMPORT},         {"home", required_argument, NULL, O_HOME},
	{"device", required_argument, NULL, O_DEVICE},   {NULL, 0, NULL, 0},
};

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

int cli_qr_num(const char *s, long lo, long hi, long *v)
{
	char *end;

	*v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && *v >= lo && *v <= hi;
}

/*
 * Parse options after the subcommand cmd ("qr encode"...), which takes the options in allowed (QO()
 * bits); positional arguments stay in argv[optind..]. Returns 0 or the exit code of a usage error.
 */
int cli_qr_parse(const char *cmd, unsigned allowed, int argc, char **argv, struct qopts *o, int *first)
{
	long v;
	int c, li = 0;

	memset(o, 0, sizeof(*o));
	o->scale = 6;
	o->interval = 500;
	o->device = "/dev/video0";
	optind = 0;
	opterr = 0;
	for (c = getopt_long(argc, argv, ":", long_opts, &li); c != -1; c = getopt_long(argc, argv, ":", long_opts, &li)) {
		if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (c > 0 && c < 32 && !(allowed & QO(c)))
			return cli_usage_error(cmd, "option '--%s' does not apply to %s", long_opts[li].name, cmd);
		switch (c) {
		case O_OUT_DIR: o->out_dir = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_FRAG:
			if (!cli_qr_num(optarg, XFR_UR_MIN_FRAGMENT, XFR_UR_MAX_FRAGMENT, &v))
				return cli_usage_error(cmd, "--fragment-size must be %u..%u bytes", XFR_UR_MIN_FRAGMENT,
						       XFR_UR_MAX_FRAGMENT);
			o->fragment = (size_t)v;
			o->fragment_set = 1;
			break;
		case O_FRAMES:
		case O_MAXF:
			if (!cli_qr_num(optarg, 1, 100000, &v))
				return cli_usage_error(cmd, "%s must be 1..100000", c == O_FRAMES ? "--frames" : "--max-frames");
			*(c == O_FRAMES ? &o->frames : &o->max_frames) = (size_t)v;
			break;
		case O_SCALE:
			if (!cli_qr_num(optarg, 1, XFR_QR_MAX_SCALE, &v))
				return cli_usage_error(cmd, "--scale must be 1..%d", XFR_QR_MAX_SCALE);
			o->scale = (int)v;
			break;
		case O_INTERVAL:
			if (!cli_qr_num(optarg, 10, 60000, &v))
				return cli_usage_error(cmd, "--interval must be 10..60000 ms");
			o->interval = (int)v;
			break;
		case O_TEXT: o->text = 1; break;
		case O_STEP: o->step = 1; break;
		case O_OUT: o->out = optarg; break;
		case O_PEM: o->pem = 1; break;
		case O_QUIET: o->quiet = 1; break;
		case O_IMPORT: o->import = 1; break;
		case O_HOME: o->home = optarg; break;
		case O_DEVICE: o->device = optarg; break;
		default:
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	*first = optind;
	return 0;
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

static int cmd_encode(int argc, char **argv)
{
	offca_rc rc;
	struct qopts o;
	xfr_ur_encoder *e = NULL;
	xfr_payload_type type;
	size_t plen, total, written = 0;
	char path[4096];
	int first, version = 0;

	if (cli_qr_parse("qr encode", QR_ENCODE_OPTS, argc, argv, &o, &first) != 0)
		return 2;
	if (argc - first != 1)
		return cli_usage_error("qr encode", "give exactly one FILE");
	if (o.out_dir == NULL && !o.text)
		return cli_usage_error("qr encode", "--out-dir DIR (or --text) is required");
	rc = make_encoder(argv[first], &o, 0, &e, &type, &plen);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	total = total_frames(&o, xfr_ur_encoder_seq_len(e));
	if (o.out_dir != NULL) {
		rc = ut_mkdir_p(o.out_dir, 0755);
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

static int cmd_show(int argc, char **argv)
{
	offca_rc rc;
	struct qopts o;
	xfr_ur_encoder *e = NULL;
	xfr_payload_type type;
	struct termios saved, raw;
	size_t plen, seq_len, shown = 0;
	int first, tty, move = 1;
	uint32_t seq = 1;
	char note[160];

	if (cli_qr_parse("qr show", QR_SHOW_OPTS, argc, argv, &o, &first) != 0)
		return 2;
	if (argc - first != 1)
		return cli_usage_error("qr show", "give exactly one FILE");
	rc = fit_encoder(argv[first], &o, &e, &type, &plen, note, sizeof(note));
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

int cli_cmd_qr(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("qr", "missing subcommand: encode, show, decode or scan");
	if (cli_wants_help(argc, argv)) {
		fputs(qr_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "encode") == 0)
		return cmd_encode(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "decode") == 0)
		return cli_qr_decode(argc - 1, argv + 1);
	if (strcmp(argv[1], "scan") == 0)
		return cli_qr_scan(argc - 1, argv + 1);
	return cli_usage_error("qr", "unknown subcommand '%s'", argv[1]);
}
