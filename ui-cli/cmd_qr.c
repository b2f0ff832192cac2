/* cmd_qr.c - offca qr encode|show|decode|scan: payloads as multi-frame UR QR codes (docs/qr.md). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	"  show    draw the frames in this terminal with UTF-8 half blocks, one after another every\n"
	"          --interval MS (default 500) or on a key press (--step); fountain frames go on until\n"
	"          q or Ctrl-C. Default fragment size 200 bytes (webcams read version 13 quickly);\n"
	"          a message of up to 400 bytes is shown as one frame.\n"
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

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Re-record the last error's detail behind a prefix (copied first: ut_err reuses its buffer). */
static offca_rc prefixed(offca_rc rc, const char *prefix)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	return ut_err(rc, "%s: %s", prefix, msg);
}

static int num(const char *s, long lo, long hi, long *v)
{
	char *end;

	*v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && *v >= lo && *v <= hi;
}

/*
 * Parse options after the subcommand cmd ("qr encode"...), which takes the options in allowed (QO()
 * bits); positional arguments stay in argv[optind..]. Returns 0 or the exit code of a usage error.
 */
static int parse(const char *cmd, unsigned allowed, int argc, char **argv, struct qopts *o, int *first)
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
			if (!num(optarg, XFR_UR_MIN_FRAGMENT, XFR_UR_MAX_FRAGMENT, &v))
				return cli_usage_error(cmd, "--fragment-size must be %u..%u bytes", XFR_UR_MIN_FRAGMENT,
						       XFR_UR_MAX_FRAGMENT);
			o->fragment = (size_t)v;
			o->fragment_set = 1;
			break;
		case O_FRAMES:
		case O_MAXF:
			if (!num(optarg, 1, 100000, &v))
				return cli_usage_error(cmd, "%s must be 1..100000", c == O_FRAMES ? "--frames" : "--max-frames");
			*(c == O_FRAMES ? &o->frames : &o->max_frames) = (size_t)v;
			break;
		case O_SCALE:
			if (!num(optarg, 1, XFR_QR_MAX_SCALE, &v))
				return cli_usage_error(cmd, "--scale must be 1..%d", XFR_QR_MAX_SCALE);
			o->scale = (int)v;
			break;
		case O_INTERVAL:
			if (!num(optarg, 10, 60000, &v))
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
			rc = prefixed(rc, "--type");
			goto out;
		}
	}
	rc = xfr_payload_prepare(in, inlen, o->type ? &want : NULL, type, &pl, plen);
	if (rc != OFFCA_OK) {
		rc = prefixed(rc, path);
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

	if (parse("qr encode", QR_ENCODE_OPTS, argc, argv, &o, &first) != 0)
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

/* Wait for the next frame: timer or key. Returns 1 to go on, 0 to quit. */
static int next_or_quit(const struct qopts *o, int tty)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	int r = poll(&p, tty ? 1 : 0, o->step && tty ? -1 : o->interval);

	if (interrupted)
		return 0;
	if (r > 0 && (p.revents & POLLIN)) {
		char ch = 0;

		if (read(STDIN_FILENO, &ch, 1) != 1)
			return o->step ? 0 : 1;
		return ch != 'q' && ch != 'Q' && ch != 3;
	}
	return 1;
}

static int cmd_show(int argc, char **argv)
{
	offca_rc rc;
	struct qopts o;
	xfr_ur_encoder *e = NULL;
	xfr_payload_type type;
	struct termios saved, raw;
	size_t plen, seq_len, shown = 0;
	int first, tty;
	uint32_t seq = 1;

	if (parse("qr show", QR_SHOW_OPTS, argc, argv, &o, &first) != 0)
		return 2;
	if (argc - first != 1)
		return cli_usage_error("qr show", "give exactly one FILE");
	rc = make_encoder(argv[first], &o, 1, &e, &type, &plen);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	seq_len = xfr_ur_encoder_seq_len(e);
	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (rc == OFFCA_OK && !interrupted) {
		char *ur = NULL, *txt = NULL;
		xfr_qr_code *c = NULL;

		/* a one-part UR is drawn once and stays; multi-part URs move on to the next frame */
		if (seq_len > 1 || shown == 0)
			rc = xfr_ur_encoder_part(e, seq, &ur);
		if (rc == OFFCA_OK && ur != NULL)
			rc = xfr_qr_encode(ur, &c);
		if (rc == OFFCA_OK && c != NULL)
			rc = xfr_qr_text(c, 2, &txt);
		if (rc == OFFCA_OK && txt != NULL)
			printf("\x1b[H\x1b[2J%s\nur:%s  frame %u (%zu fragment%s)  %s\n", txt, xfr_payload_ur_type(type),
			       seq, seq_len, seq_len == 1 ? "" : "s", o.step ? "any key: next, q: quit" : "q or Ctrl-C: quit");
		fflush(stdout);
		free(ur);
		free(txt);
		xfr_qr_code_free(c);
		shown++;
		if (rc != OFFCA_OK || (o.max_frames && shown >= o.max_frames) || !next_or_quit(&o, tty))
			break;
		if (seq_len > 1)
			seq = seq == UINT32_MAX ? 1 : seq + 1;
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	xfr_ur_encoder_free(e);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* ---- decode / scan ---- */

/*
 * What loading the decode inputs found. Warnings about skipped inputs go to a memory buffer first:
 * when no input held a single frame, one error line replaces them all.
 */
struct load_state {
	FILE *warn;          /* open_memstream() buffer of warning lines */
	size_t frames;       /* UR frames added */
	char problem[512];   /* the first input's problem, for the one-line error */
};

static void note_problem(struct load_state *ls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record a warning line (and the first problem). */
static void note_problem(struct load_state *ls, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ls->problem[0] == '\0')
		snprintf(ls->problem, sizeof(ls->problem), "%s", msg);
	if (ls->warn != NULL)
		fprintf(ls->warn, "offca: warning: %s (skipped)\n", msg);
}

/* UR strings from a text file, one per line ('-' = stdin); lines that are not URs are skipped. */
static offca_rc load_text(const char *path, xfr_qr_frames *fs, struct load_state *ls)
{
	offca_rc rc = OFFCA_OK;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	const char *name = f == stdin ? "standard input" : path; /* for messages */
	struct stat sb;
	char *line = NULL, first[256] = "";
	size_t cap = 0, lineno = 0, skipped = 0, added = 0;
	ssize_t n;

	if (f == NULL)
		return ut_err(ut_errno_rc(errno), "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		return ut_err(OFFCA_E_IO, "%s: is a directory, not a text file of UR strings", path);
	}
	for (n = getline(&line, &cap, f); rc == OFFCA_OK && n > 0; n = getline(&line, &cap, f)) {
		lineno++;
		if (n > (ssize_t)XFR_UR_MAX_TEXT) {
			rc = ut_err(OFFCA_E_TOO_BIG, "%s: line %zu is longer than %u characters", name, lineno,
				    XFR_UR_MAX_TEXT);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		rc = xfr_qr_frames_add_text(fs, line, strlen(line), path);
		added += rc == OFFCA_OK;
		if (rc == OFFCA_E_PARSE) {
			if (skipped++ == 0)
				snprintf(first, sizeof(first), "line %zu: %s", lineno, ut_err_msg());
			rc = OFFCA_OK;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	ls->frames += added;
	if (rc == OFFCA_OK && skipped > 0)
		note_problem(ls, "%s: %zu line(s) are not UR frames (first: %s)", name, skipped, first);
	else if (rc == OFFCA_OK && added == 0)
		note_problem(ls, "%s: no UR strings in it", name);
	return rc;
}

static offca_rc load_image(const char *path, xfr_qr_frames *fs, struct load_state *ls)
{
	size_t codes = 0, not_ur = 0;
	offca_rc rc = xfr_qr_frames_add_image(fs, path, &codes, &not_ur);

	if (rc != OFFCA_OK)
		return rc;
	ls->frames += codes - not_ur;
	if (codes == 0)
		note_problem(ls, "%s: no QR code found", path);
	else if (not_ur > 0)
		note_problem(ls, "%s: %zu of its %zu QR code(s) are not UR frames", path, not_ur, codes);
	return OFFCA_OK;
}

/*
 * Checks that need no frames, made before any image is read: an existing --out is refused and
 * --import needs a CA home that opens, so a decode is never wasted on an output that cannot happen.
 */
static offca_rc preflight(const char *cmd, const struct qopts *o)
{
	ca_store *st = NULL;
	const char *home;
	int signed_only = 0;
	offca_rc rc;

	if (o->import && (o->out != NULL || o->pem))
		return ut_err(OFFCA_E_USAGE, "%s: --import queues the CSR in the CA home; it takes neither --out nor "
			      "--pem", cmd);
	if (o->out != NULL && ut_path_exists(o->out) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", o->out);
	if (!o->import)
		return OFFCA_OK;
	home = cli_home(o->home);
	if (home == NULL)
		return OFFCA_E_USAGE;
	rc = ca_store_open(home, 0, &st);
	ca_store_free(st);
	if (rc == OFFCA_OK)
		rc = cli_require_signed(home, &signed_only);
	if (rc == OFFCA_OK && signed_only)
		rc = ut_err(OFFCA_E_POLICY, "policy transfer.require_signed: QR frames carry no operator signature; "
			    "bring the CSR in an operator-signed bundle (offca bundle import)");
	return rc;
}

/* --type T: the UR type to accept (NULL: any). */
static offca_rc want_type(const struct qopts *o, const char **want)
{
	xfr_payload_type wt;
	offca_rc rc;

	*want = NULL;
	if (o->type == NULL)
		return OFFCA_OK;
	rc = xfr_payload_type_parse(o->type, &wt);
	if (rc != OFFCA_OK)
		return prefixed(rc, "--type");
	*want = xfr_payload_ur_type(wt);
	return OFFCA_OK;
}

static void on_event(void *arg, xfr_qr_event ev, const char *src, const xfr_ur_id *id, size_t have, size_t total)
{
	const struct qopts *o = arg;

	if (ev == XFR_QR_EV_FOREIGN)
		fprintf(stderr, "offca: warning: %s: frame of another message (ur:%s, %u bytes, crc32 %08x) rejected\n",
			src, id->type, id->msg_len, id->checksum);
	else if (!o->quiet)
		fprintf(stderr, "offca: %s: %zu of %zu frames\n", src, have, total);
}

/* Check the decoded payload and deliver it: --import, --out FILE or stdout. */
static offca_rc deliver(const xfr_ur_decoder *d, const struct qopts *o)
{
	offca_rc rc;
	const char *urt;
	const unsigned char *pl;
	size_t plen, outlen;
	xfr_payload_type t;
	char *pem = NULL;
	const void *data;
	ca_store *st = NULL;
	const char *home;
	uint64_t id;

	rc = xfr_ur_decoder_result(d, &urt, &pl, &plen);
	if (rc == OFFCA_OK)
		rc = xfr_payload_type_from_ur(urt, &t);
	if (rc == OFFCA_OK)
		rc = xfr_payload_check(t, pl, plen);
	if (rc != OFFCA_OK)
		return prefixed(rc, "decoded payload refused");
	if (o->import) {
		if (t != XFR_PL_CSR)
			return ut_err(OFFCA_E_USAGE, "--import takes a CSR, the frames carry ur:%s", urt);
		home = cli_home(o->home);
		if (home == NULL)
			return OFFCA_E_USAGE;
		rc = ca_store_open(home, 0, &st);
		if (rc == OFFCA_OK)
			rc = ca_store_pending_add(st, &pl, &plen, 1, "qr", &id);
		ca_store_free(st);
		if (rc == OFFCA_OK && !o->quiet)
			fprintf(stderr, "offca: CSR (%zu bytes) queued as pending request %llu\n", plen,
				(unsigned long long)id);
		return rc;
	}
	data = pl;
	outlen = plen;
	if (o->pem) {
		rc = xfr_payload_pem(t, pl, plen, &pem, &outlen);
		if (rc != OFFCA_OK)
			return rc;
		data = pem;
	}
	if (o->out != NULL)
		rc = ut_write_file(o->out, data, outlen, UT_WF_EXCL);
	else if (!o->pem && isatty(STDOUT_FILENO))
		rc = ut_err(OFFCA_E_USAGE, "refusing to write binary data to a terminal (use --out FILE or --pem)");
	else if (fwrite(data, 1, outlen, stdout) != outlen || fflush(stdout) != 0)
		rc = ut_err(OFFCA_E_IO, "cannot write to stdout");
	if (rc == OFFCA_OK && !o->quiet)
		fprintf(stderr, "offca: decoded ur:%s (%zu bytes)%s%s\n", urt, plen, o->out ? " to " : "",
			o->out ? o->out : "");
	free(pem);
	return rc;
}

/* Load every input; warnings come out only when some input held frames (else one error line). */
static offca_rc load_inputs(int argc, char **argv, int first, const struct qopts *o, xfr_qr_frames *fs)
{
	struct load_state ls;
	char *warn = NULL;
	size_t wlen = 0;
	offca_rc rc = OFFCA_OK;
	int n = argc - first;

	memset(&ls, 0, sizeof(ls));
	ls.warn = open_memstream(&warn, &wlen);
	if (ls.warn == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int i = first; rc == OFFCA_OK && i < argc; i++)
		rc = o->text ? load_text(argv[i], fs, &ls) : load_image(argv[i], fs, &ls);
	fclose(ls.warn);
	if (rc == OFFCA_OK && ls.frames == 0)
		rc = n == 1 ? ut_err(OFFCA_E_NOT_FOUND, "%s", ls.problem)
			    : ut_err(OFFCA_E_NOT_FOUND, "no UR frame in any of the %d inputs (first: %s)", n, ls.problem);
	else if (rc == OFFCA_OK && !o->quiet && warn != NULL)
		fputs(warn, stderr);
	free(warn);
	return rc;
}

static int cmd_decode(int argc, char **argv)
{
	offca_rc rc;
	struct qopts o;
	xfr_qr_frames *fs = NULL;
	xfr_ur_decoder *d = NULL;
	const char *want = NULL;
	int first;

	if (parse("qr decode", QR_DECODE_OPTS, argc, argv, &o, &first) != 0)
		return 2;
	if (first >= argc)
		return cli_usage_error("qr decode", "give at least one IMAGE");
	rc = want_type(&o, &want);
	if (rc == OFFCA_OK)
		rc = preflight("qr decode", &o);
	if (rc == OFFCA_OK)
		rc = xfr_qr_frames_new(&fs);
	if (rc == OFFCA_OK)
		rc = load_inputs(argc, argv, first, &o, fs);
	if (rc == OFFCA_OK)
		rc = xfr_qr_frames_decode(fs, want, on_event, &o, &d);
	if (rc == OFFCA_OK)
		rc = deliver(d, &o);
	xfr_ur_decoder_free(d);
	xfr_qr_frames_free(fs);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

struct scan_ctx {
	xfr_ur_multi *m;
	const struct qopts *o;
	offca_rc rc;
	int shown;
};

static int on_scan(void *arg, const char *text, size_t len)
{
	struct scan_ctx *s = arg;
	xfr_part_status st;
	const xfr_ur_decoder *d = NULL;
	size_t have, total;
	offca_rc rc = xfr_ur_multi_add(s->m, text, len, &st, &d);

	if (rc == OFFCA_E_VERIFY || rc == OFFCA_E_NOMEM) {
		s->rc = rc;
		return 1;
	}
	if (rc == OFFCA_OK && st == XFR_PART_NEW && d != NULL && !s->o->quiet) {
		xfr_ur_decoder_progress(d, &have, &total);
		fprintf(stderr, "\roffca: %zu of %zu frames ", have, total);
		s->shown = 1;
	}
	return xfr_ur_multi_done(s->m) != NULL;
}

static int cmd_scan(int argc, char **argv)
{
	offca_rc rc;
	struct qopts o;
	struct scan_ctx s = {0};
	const char *want = NULL;
	int first;

	if (parse("qr scan", QR_SCAN_OPTS, argc, argv, &o, &first) != 0)
		return 2;
	if (first != argc)
		return cli_usage_error("qr scan", "unexpected argument '%s'", argv[first]);
	rc = want_type(&o, &want);
	if (rc == OFFCA_OK)
		rc = preflight("qr scan", &o);
	if (rc == OFFCA_OK)
		rc = xfr_ur_multi_new(want, &s.m);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	s.o = &o;
	s.rc = OFFCA_OK;
	signal(SIGINT, on_signal);
	rc = xfr_qr_scan_video(o.device, on_scan, &s, &interrupted);
	signal(SIGINT, SIG_DFL);
	if (s.shown)
		fputc('\n', stderr);
	if (rc == OFFCA_OK)
		rc = s.rc;
	if (rc == OFFCA_OK && xfr_ur_multi_done(s.m) == NULL)
		rc = interrupted ? ut_err(OFFCA_E_ABORTED, "qr scan interrupted before the message was complete; "
					  "nothing written")
				 : ut_err(OFFCA_E_INTERNAL, "scan ended without a complete message");
	if (rc == OFFCA_OK)
		rc = deliver(xfr_ur_multi_done(s.m), &o);
	xfr_ur_multi_free(s.m);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

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
		return cmd_decode(argc - 1, argv + 1);
	if (strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	return cli_usage_error("qr", "unknown subcommand '%s'", argv[1]);
}
