/* cmd_qr_decode.c - offca qr decode|scan: reassemble a payload from QR images or a webcam (docs/qr.md). */
#include "cli.h"
#include "inventory.h"
#include "qr_cli.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "offca/bundle.h"
#include "offca/payload.h"
#include "offca/qr.h"
#include "offca/store.h"
#include "offca/ur.h"
#include "offca/util.h"

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
	if (rc == OFFCA_OK)
		rc = cli_require_signed(home, st, &signed_only);
	ca_store_free(st);
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
		return cli_qr_prefixed(rc, "--type");
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

/*
 * --json: what was decoded (docs/json.md): its UR type, size and SHA-256, and where it went: the
 * pending id (--import), the file (--out), else the payload itself (PEM, or base64 for bytes).
 */
static offca_rc report_json(xfr_payload_type t, const char *urt, const unsigned char *pl, size_t plen,
			    const struct qopts *o, uint64_t pending)
{
	unsigned char md[32];
	char *hex = NULL, *pem = NULL, *b64 = NULL;
	size_t pemlen = 0;
	json_t *j;
	offca_rc rc = OFFCA_OK;

	SHA256(pl, plen, md);
	hex = ut_hex(md, 32);
	j = json_pack("{s:s,s:s,s:I,s:s}", "type", xfr_payload_name(t), "urType", urt, "bytes", (json_int_t)plen,
		      "sha256", hex ? hex : "");
	if (o->import)
		json_object_set_new(j, "pending", json_integer((json_int_t)pending));
	else if (o->out != NULL)
		json_object_set_new(j, "out", json_string(o->out));
	else if (xfr_payload_pem(t, pl, plen, &pem, &pemlen) == OFFCA_OK)
		json_object_set_new(j, "pem", json_stringn(pem, pemlen));
	else if ((b64 = calloc(4 * ((plen + 2) / 3) + 1, 1)) != NULL)
		json_object_set_new(j, "base64", json_stringn(b64, (size_t)EVP_EncodeBlock((unsigned char *)b64, pl, (int)plen)));
	ut_err_clear();
	if (hex == NULL || cli_json_print(j) != 0)
		rc = OFFCA_E_NOMEM;
	free(hex);
	free(pem);
	free(b64);
	return rc;
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
	size_t dup_i;

	rc = xfr_ur_decoder_result(d, &urt, &pl, &plen);
	if (rc == OFFCA_OK)
		rc = xfr_payload_type_from_ur(urt, &t);
	if (rc == OFFCA_OK)
		rc = xfr_payload_check(t, pl, plen);
	if (rc != OFFCA_OK)
		return cli_qr_prefixed(rc, "decoded payload refused");
	if (o->import) {
		if (t != XFR_PL_CSR)
			return ut_err(OFFCA_E_USAGE, "--import takes a CSR, the frames carry ur:%s", urt);
		home = cli_home(o->home);
		if (home == NULL)
			return OFFCA_E_USAGE;
		rc = ca_store_open(home, 0, &st);
		if (rc == OFFCA_OK)
			rc = xfr_pending_dup(st, &pl, &plen, 1, &dup_i, &id);
		if (rc == OFFCA_E_EXISTS)
			rc = ut_err(OFFCA_E_EXISTS, "this CSR is already pending as #%llu; nothing imported",
				    (unsigned long long)id);
		if (rc == OFFCA_OK)
			rc = ca_store_pending_add(st, &pl, &plen, 1, "qr", &id);
		ca_store_free(st);
		if (rc == OFFCA_OK && !o->quiet)
			fprintf(stderr, "offca: CSR (%zu bytes) queued as pending request %llu\n", plen,
				(unsigned long long)id);
		if (rc == OFFCA_OK && o->json)
			rc = report_json(t, urt, pl, plen, o, id);
		return rc;
	}
	if (o->json && o->out == NULL)
		return report_json(t, urt, pl, plen, o, 0);
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
	if (rc == OFFCA_OK && o->json)
		rc = report_json(t, urt, pl, plen, o, 0);
	return rc;
}

/* Load every input; warnings come out only when some input held frames (else one error line). */
static offca_rc load_inputs(int n, const char *const *paths, const struct qopts *o, xfr_qr_frames *fs)
{
	struct load_state ls;
	char *warn = NULL;
	size_t wlen = 0;
	offca_rc rc = OFFCA_OK;

	memset(&ls, 0, sizeof(ls));
	ls.warn = open_memstream(&warn, &wlen);
	if (ls.warn == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int i = 0; rc == OFFCA_OK && i < n; i++)
		rc = o->text ? load_text(paths[i], fs, &ls) : load_image(paths[i], fs, &ls);
	fclose(ls.warn);
	if (rc == OFFCA_OK && ls.frames == 0)
		rc = n == 1 ? ut_err(OFFCA_E_NOT_FOUND, "%s", ls.problem)
			    : ut_err(OFFCA_E_NOT_FOUND, "no UR frame in any of the %d inputs (first: %s)", n, ls.problem);
	else if (rc == OFFCA_OK && !o->quiet && warn != NULL)
		fputs(warn, stderr);
	free(warn);
	return rc;
}

static int run_decode(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct qopts o;
	xfr_qr_frames *fs = NULL;
	xfr_ur_decoder *d = NULL;
	const char *want = NULL;

	(void)cmd;
	cli_qr_opts(a, &o);
	rc = want_type(&o, &want);
	if (rc == OFFCA_OK)
		rc = preflight("qr decode", &o);
	if (rc == OFFCA_OK)
		rc = xfr_qr_frames_new(&fs);
	if (rc == OFFCA_OK)
		rc = load_inputs(a->npos, a->pos, &o, fs);
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

static int run_scan(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct qopts o;
	struct scan_ctx s = {0};
	const char *want = NULL;

	(void)cmd;
	cli_qr_opts(a, &o);
	rc = want_type(&o, &want);
	if (rc == OFFCA_OK)
		rc = preflight("qr scan", &o);
	if (rc == OFFCA_OK)
		rc = xfr_ur_multi_new(want, &s.m);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	s.o = &o;
	s.rc = OFFCA_OK;
	signal(SIGINT, cli_qr_on_signal);
	rc = xfr_qr_scan_video(o.device, on_scan, &s, &cli_qr_interrupted);
	signal(SIGINT, SIG_DFL);
	if (s.shown)
		fputc('\n', stderr);
	if (rc == OFFCA_OK)
		rc = s.rc;
	if (rc == OFFCA_OK && xfr_ur_multi_done(s.m) == NULL)
		rc = cli_qr_interrupted ? ut_err(OFFCA_E_ABORTED, "qr scan cli_qr_interrupted before the message was complete; "
					  "nothing written")
				 : ut_err(OFFCA_E_INTERNAL, "scan ended without a complete message");
	if (rc == OFFCA_OK)
		rc = deliver(xfr_ur_multi_done(s.m), &o);
	xfr_ur_multi_free(s.m);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static const cli_opt decode_opts[] = {
	CLI_O("out", CLI_PATH, "FILE", "write the exact bytes there (never overwritten) instead of stdout"),
	CLI_QR_TYPE_OPT,
	CLI_O("pem", CLI_FLAG, NULL, "write PEM"),
	CLI_O("text", CLI_FLAG, NULL, "the arguments are text files of UR strings (one per line; '-' = stdin)"),
	CLI_O("quiet", CLI_FLAG, NULL, "no progress on stderr"),
	CLI_O("import", CLI_FLAG, NULL, "put a decoded CSR into the pending queue of the CA home instead"),
	CLI_OPT_HOME,
	CLI_O("json", CLI_FLAG, NULL, "print what was decoded as one JSON object (docs/json.md); the payload goes "
	      "to --out, the queue, or into the object"),
	CLI_END};

static const cli_opt scan_opts[] = {
	CLI_O("device", CLI_PATH, "/dev/video0", "the webcam"),
	CLI_O("out", CLI_PATH, "FILE", "write the exact bytes there (never overwritten) instead of stdout"),
	CLI_QR_TYPE_OPT,
	CLI_O("pem", CLI_FLAG, NULL, "write PEM"),
	CLI_O("quiet", CLI_FLAG, NULL, "no progress on stderr"),
	CLI_O("import", CLI_FLAG, NULL, "put a decoded CSR into the pending queue of the CA home instead"),
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_qr_decode_cmd = {
	.name = "qr decode",
	.summary = "reassemble from PNG/JPEG images (frames in any order, repeated, extra)",
	.operands = "IMAGE...",
	.min_pos = 1,
	.max_pos = -1,
	.opts = decode_opts,
	.usage = "offca qr decode IMAGE... [--out FILE] [--type T] [--pem] [--text] [--quiet] [--json]\n"
		 "                [--import [--home DIR]]",
	.details = "Progress 'k of n frames' on stderr. Frames of another message are rejected, never merged. The\n"
		   "result is checked (CRC32, then a well-formed payload of its type) before the exact bytes go to\n"
		   "--out FILE or stdout.\n",
	.run = run_decode,
};

const cli_cmd cli_qr_scan_cmd = {
	.name = "qr scan",
	.summary = "the same from a webcam through zbar's video support, until the payload is complete or Ctrl-C",
	.opts = scan_opts,
	.max_pos = 0,
	.usage = "offca qr scan [--device /dev/video0] [--out FILE] [--type T] [--pem] [--import [--home DIR]]",
	.run = run_scan,
};
