/* cmd_bundle.c - offca bundle create|verify|import|export|extract|enroll-operator. */
#include "cli.h"

#include <ctype.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/bundle.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"

static const char bundle_usage[] =
	"usage: offca bundle create --out FILE [--direction in|out] [--issuer NAME] [--home DIR]\n"
	"                           [--sign-key URI [--pin-file F] [--module PATH] | --sign-key-file KEY.pem\n"
	"                            [--pin-file F]] [--signer-cert CERT.pem] ITEM...\n"
	"       offca bundle verify FILE [--ca ROOT.pem] [--home DIR]\n"
	"       offca bundle import FILE [--home DIR] [--require-signed]\n"
	"       offca bundle export --out FILE [--since TIME|SERIAL] [--issuer NAME] [--home DIR]\n"
	"                           [--sign-key URI] [--pin-file F] [--module PATH]\n"
	"       offca bundle extract FILE --out-dir DIR [--ca ROOT.pem]\n"
	"       offca bundle enroll-operator CERT.pem --name NAME [--home DIR]\n"
	"\n"
	"An authenticated USB bundle is one file holding typed items (csr, certificate, chain, crl,\n"
	"ocsp, transcript, other) and a manifest with each item's size and SHA-256 (docs/bundles.md).\n"
	"\n"
	"  create    build a bundle from ITEM = [type:]path (type guessed from PEM label or DER when\n"
	"            omitted). --direction in (default: towards the offline CA) or out. Signing:\n"
	"            --sign-key pkcs11:URI (a key on a token; PIN from --pin-file, the URI's\n"
	"            pin-source or a prompt) or --sign-key-file KEY.pem (an operator's software key,\n"
	"            passphrase from --pin-file or a prompt), with --signer-cert CERT.pem (the signer's\n"
	"            certificate, followed by its chain). On the CA, without --signer-cert, the issuer's\n"
	"            certificate and chain come from the CA home (--issuer NAME or the issuer of the\n"
	"            --sign-key URI); --direction out with a CA home signs with the issuer's recorded key.\n"
	"  verify    check structure, sizes, hashes and the signature; print the manifest. With --ca,\n"
	"            the signer must be a CA certificate chaining to ROOT.pem; with --home, a signed\n"
	"            inbound bundle's signer must be an enrolled operator. Non-zero on any problem;\n"
	"            an outbound bundle must be signed.\n"
	"  import    put an inbound bundle's CSRs into the pending queue: all of them or none. A signed\n"
	"            bundle must be signed by an enrolled operator; --require-signed refuses unsigned ones.\n"
	"  export    an outbound bundle with the issuer's certificates issued since TIME (YYYY-MM-DD,\n"
	"            YYYY-MM-DDTHH:MM:SSZ or @UNIXTIME) or since certificate SERIAL (hex), its chain and\n"
	"            the current CRLs; signed with the issuer's key (default: the key URI on record).\n"
	"  extract   write the items into DIR as NN-NAME (names sanitized; never paths from the bundle).\n"
	"  enroll-operator  trust CERT.pem to sign inbound bundles (HOME/operators/NAME.pem).\n"
	"\n"
	"The CA home is --home DIR or $OFFCA_HOME. PINs never come from the command line.\n";

struct opts {
	const char *out, *direction, *issuer, *sign_key, *sign_key_file, *pin_file, *module;
	const char *signer_cert, *ca, *home, *since, *out_dir, *name;
	int require_signed;
};

enum { O_OUT = 1, O_DIR, O_ISSUER, O_SIGN_KEY, O_SIGN_KEY_FILE, O_PIN_FILE, O_MODULE, O_SIGNER_CERT,
       O_CA, O_HOME, O_SINCE, O_OUT_DIR, O_NAME, O_REQUIRE_SIGNED };

static const struct option long_opts[] = {
	{"out", required_argument, NULL, O_OUT},
	{"direction", required_argument, NULL, O_DIR},
	{"issuer", required_argument, NULL, O_ISSUER},
	{"sign-key", required_argument, NULL, O_SIGN_KEY},
	{"sign-key-file", required_argument, NULL, O_SIGN_KEY_FILE},
	{"pin-file", required_argument, NULL, O_PIN_FILE},
	{"module", required_argument, NULL, O_MODULE},
	{"signer-cert", required_argument, NULL, O_SIGNER_CERT},
	{"ca", required_argument, NULL, O_CA},
	{"home", required_argument, NULL, O_HOME},
	{"since", required_argument, NULL, O_SINCE},
	{"out-dir", required_argument, NULL, O_OUT_DIR},
	{"name", required_argument, NULL, O_NAME},
	{"require-signed", no_argument, NULL, O_REQUIRE_SIGNED},
	{NULL, 0, NULL, 0},
};

#define BO(x) (1u << (x))
#define SIGN_OPTS (BO(O_SIGN_KEY) | BO(O_PIN_FILE) | BO(O_MODULE))
/* The options each subcommand takes; any other one is a usage error, never silently ignored. */
#define CREATE_OPTS (BO(O_OUT) | BO(O_DIR) | BO(O_ISSUER) | BO(O_HOME) | SIGN_OPTS | BO(O_SIGN_KEY_FILE) | BO(O_SIGNER_CERT))
#define VERIFY_OPTS (BO(O_CA) | BO(O_HOME))
#define IMPORT_OPTS (BO(O_HOME) | BO(O_REQUIRE_SIGNED))
#define EXPORT_OPTS (BO(O_OUT) | BO(O_SINCE) | BO(O_ISSUER) | BO(O_HOME) | SIGN_OPTS)
#define EXTRACT_OPTS (BO(O_OUT_DIR) | BO(O_CA))
#define ENROLL_OPTS (BO(O_NAME) | BO(O_HOME))

/*
 * Parse the options of subcommand cmd, which takes those in allowed (BO() bits), into o; positional
 * arguments stay in argv[optind..]. Returns 0 or the exit code of a usage error.
 */
static int parse_opts(const char *cmd, unsigned allowed, int argc, char **argv, struct opts *o)
{
	int c, li = 0;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, &li)) != -1) {
		if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if (c > 0 && c < 32 && !(allowed & BO(c)))
			return cli_usage_error(cmd, "option '--%s' does not apply to %s", long_opts[li].name, cmd);
		switch (c) {
		case O_OUT: o->out = optarg; break;
		case O_DIR: o->direction = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_SIGN_KEY: o->sign_key = optarg; break;
		case O_SIGN_KEY_FILE: o->sign_key_file = optarg; break;
		case O_PIN_FILE: o->pin_file = optarg; break;
		case O_MODULE: o->module = optarg; break;
		case O_SIGNER_CERT: o->signer_cert = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_HOME: o->home = optarg; break;
		case O_SINCE: o->since = optarg; break;
		case O_OUT_DIR: o->out_dir = optarg; break;
		case O_NAME: o->name = optarg; break;
		case O_REQUIRE_SIGNED: o->require_signed = 1; break;
		default:
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/* Sign b with a token key (URI) or a key file, the signer certificate and its chain. */
static offca_rc sign_with(xfr_bundle *b, const struct opts *o, const char *uri, X509 *signer,
			  STACK_OF(X509) *chain, const char *issuer)
{
	offca_rc rc;
	tok_key *tk = NULL;
	tok_pin_opts pin = {0};
	EVP_PKEY *fk = NULL;

	if (uri != NULL) {
		pin.pin_file = o->pin_file;
		rc = tok_key_open(o->module, uri, &pin, &tk);
		if (rc == OFFCA_OK)
			rc = cli_home_key_touch(o->home, issuer, &tk);
		if (rc == OFFCA_OK)
			rc = xfr_bundle_sign(b, tok_key_private(tk), signer, chain);
	} else {
		rc = xfr_key_file_load(o->sign_key_file, o->pin_file, &fk);
		if (rc == OFFCA_OK)
			rc = xfr_bundle_sign(b, fk, signer, chain);
	}
	EVP_PKEY_free(fk);
	tok_key_free(tk);
	return rc;
}

/* Re-record the current detail with a prefix and suffix (copied first: ut_err() overwrites it). */
static offca_rc wrap_err(offca_rc rc, const char *prefix, const char *suffix)
{
	char msg[768];

	snprintf(msg, sizeof(msg), "%s", ut_err_msg());
	if (strncmp(msg, prefix, strlen(prefix)) == 0) /* ut_read_file() already named the file */
		return ut_err(rc, "%s%s", msg, suffix);
	return ut_err(rc, "%s: %s%s", prefix, msg, suffix);
}

/* ---- printing ---- */

static void print_summary(const char *path, const xfr_bundle *b)
{
	char when[32], *hex;
	const xfr_item *it;

	cli_fmt_time(xfr_bundle_created(b), when, sizeof(when));
	hex = ut_hex(xfr_bundle_digest(b), 32);
	printf("bundle:    %s\nformat:    OFFCA-BUNDLE/%d\ndirection: %s\ncreated:   %s\nissuer:    %s\n"
	       "sha256:    %s\nitems:     %zu\n", path, XFR_FORMAT_VERSION, xfr_direction_name(xfr_bundle_direction(b)),
	       when, xfr_bundle_issuer(b)[0] ? xfr_bundle_issuer(b) : "-", hex != NULL ? hex : "?",
	       xfr_bundle_count(b));
	free(hex);
	for (size_t i = 0; i < xfr_bundle_count(b); i++) {
		it = xfr_bundle_item(b, i);
		hex = ut_hex(it->sha256, 32);
		printf("  %2zu  %-11s %9zu  %.16s...  %s\n", i + 1, xfr_item_type_name(it->type), it->len,
		       hex != NULL ? hex : "?", it->name);
		free(hex);
	}
}

/* ---- bundle create ---- */

/*
 * Who signs a new bundle: --signer-cert (its first certificate; the rest is the chain) with
 * --sign-key or --sign-key-file; or, without --signer-cert, the CA home's issuer (--issuer NAME, the
 * issuer whose recorded key URI is --sign-key, or the default issuer for --direction out) with its
 * recorded key URI unless --sign-key names one. *sign = 0: the bundle stays unsigned.
 */
static offca_rc create_signer(const struct opts *o, xfr_direction dir, xfr_export *s, int *sign)
{
	offca_rc rc;
	STACK_OF(X509) *certs = NULL;
	ca_store *st = NULL;
	const char *home = o->home != NULL ? o->home : getenv("OFFCA_HOME");

	memset(s, 0, sizeof(*s));
	*sign = 0;
	if (o->signer_cert != NULL) {
		rc = xfr_certs_load(o->signer_cert, &certs);
		if (rc != OFFCA_OK)
			return rc;
		s->signer = sk_X509_shift(certs);
		s->chain = certs;
		*sign = 1;
		return OFFCA_OK;
	}
	if (o->sign_key == NULL && (dir != XFR_DIR_OUT || home == NULL || home[0] == '\0'))
		return OFFCA_OK;
	if (home == NULL || home[0] == '\0')
		return ut_err(OFFCA_E_USAGE, "--sign-key without --signer-cert takes the issuer certificate from the "
			      "CA home: pass --home DIR (or set OFFCA_HOME) or --signer-cert CERT.pem");
	rc = ca_store_open(home, 0, &st);
	if (rc == OFFCA_OK)
		rc = xfr_signer_from_store(st, o->issuer, o->sign_key, s);
	ca_store_free(st);
	if (rc == OFFCA_OK && o->sign_key != NULL)
		snprintf(s->key_uri, sizeof(s->key_uri), "%s", o->sign_key);
	if (rc == OFFCA_OK && s->key_uri[0] == '\0')
		rc = ut_err(OFFCA_E_STATE, "issuer %s has no key URI on record; pass --sign-key URI", s->issuer);
	*sign = rc == OFFCA_OK;
	return rc;
}

static int cmd_create(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	xfr_direction dir = XFR_DIR_IN;
	xfr_bundle *b = NULL;
	xfr_export s;
	int sign = 0, r = parse_opts("bundle create", CREATE_OPTS, argc, argv, &o);

	memset(&s, 0, sizeof(s));
	if (r != 0)
		return r;
	if (o.out == NULL || optind >= argc)
		return cli_usage_error("bundle create", "needs --out FILE and at least one ITEM");
	if (o.sign_key != NULL && o.sign_key_file != NULL)
		return cli_usage_error("bundle create", "--sign-key and --sign-key-file exclude each other");
	if ((o.sign_key_file != NULL) != (o.signer_cert != NULL && o.sign_key == NULL))
		return cli_usage_error("bundle create", "--sign-key-file needs --signer-cert, and --signer-cert "
				       "needs --sign-key or --sign-key-file");
	if (o.direction != NULL && xfr_direction_parse(o.direction, &dir) != OFFCA_OK)
		return cli_fail(OFFCA_E_USAGE);
	if (ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", o.out));
	rc = create_signer(&o, dir, &s, &sign);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_new(dir, o.issuer != NULL ? o.issuer : s.issuer, &b);
	for (int i = optind; rc == OFFCA_OK && i < argc; i++)
		rc = xfr_bundle_add_file(b, argv[i]);
	if (rc == OFFCA_OK && sign) {
		rc = sign_with(b, &o, o.sign_key != NULL ? o.sign_key : o.sign_key_file != NULL ? NULL : s.key_uri,
			       s.signer, s.chain, o.issuer != NULL ? o.issuer : s.issuer);
		if (rc == OFFCA_E_VERIFY && o.signer_cert != NULL) /* name the files that do not match */
			rc = wrap_err(rc, o.signer_cert, o.sign_key_file != NULL ? " (--sign-key-file)" : " (--sign-key)");
	}
	if (rc == OFFCA_OK)
		rc = xfr_bundle_write(b, o.out);
	if (rc == OFFCA_OK)
		printf("wrote %s: %zu items, direction %s, %s\n", o.out, xfr_bundle_count(b),
		       xfr_direction_name(dir), xfr_bundle_is_signed(b) ? "signed" : "unsigned");
	xfr_export_clear(&s);
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* ---- bundle verify / extract ---- */

/* Read, parse and check a bundle; with ca, the signer must chain to it. Prints the signature line. */
static offca_rc read_checked(const char *path, const char *ca, xfr_bundle **out, int quiet)
{
	offca_rc rc;
	STACK_OF(X509) *roots = NULL;
	xfr_bundle *b = NULL;

	*out = NULL;
	rc = xfr_bundle_read(path, &b);
	if (rc != OFFCA_OK)
		return wrap_err(rc, path, "");
	if (ca != NULL) {
		rc = xfr_certs_load(ca, &roots);
		if (rc == OFFCA_OK)
			rc = xfr_bundle_verify_ca(b, roots);
	} else if (xfr_bundle_direction(b) == XFR_DIR_OUT && !xfr_bundle_is_signed(b)) {
		rc = ut_err(OFFCA_E_VERIFY, "%s: outbound bundle is not signed", path);
	}
	if (rc == OFFCA_OK && !quiet) {
		print_summary(path, b);
		if (!xfr_bundle_is_signed(b)) {
			printf("signature: none (unsigned bundle)\n");
		} else {
			printf("signature: valid, signer ");
			cli_print_name(stdout, X509_get_subject_name(xfr_bundle_signer(b)));
			if (ca != NULL)
				printf(" (chains to %s)\n", ca);
			else
				printf("\n           not checked against a trust root (pass --ca ROOT.pem)\n");
		}
	}
	sk_X509_pop_free(roots, X509_free);
	if (rc == OFFCA_OK)
		*out = b;
	else
		xfr_bundle_free(b);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;
	char name[XFR_MAX_OPERATOR_NAME + 1];
	int r = parse_opts("bundle verify", VERIFY_OPTS, argc, argv, &o);

	if (r != 0)
		return r;
	if (optind + 1 != argc)
		return cli_usage_error("bundle verify", "needs exactly one FILE");
	rc = read_checked(argv[optind], o.ca, &b, 0);
	/* --home: an inbound bundle's signer must be an enrolled operator (what import will check) */
	if (rc == OFFCA_OK && o.home != NULL && xfr_bundle_is_signed(b) &&
	    xfr_bundle_direction(b) == XFR_DIR_IN) {
		rc = xfr_operator_match(o.home, xfr_bundle_signer(b), name);
		if (rc == OFFCA_OK)
			printf("operator:  %s (enrolled in %s)\n", name, o.home);
	}
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int cmd_extract(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;
	int r = parse_opts("bundle extract", EXTRACT_OPTS, argc, argv, &o);

	if (r != 0)
		return r;
	if (optind + 1 != argc || o.out_dir == NULL)
		return cli_usage_error("bundle extract", "needs FILE and --out-dir DIR");
	rc = read_checked(argv[optind], o.ca, &b, 1);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_extract(b, o.out_dir);
	if (rc == OFFCA_OK)
		printf("extracted %zu items into %s\n", xfr_bundle_count(b), o.out_dir);
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* ---- bundle import / export ---- */

static int cmd_import(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;
	ca_store *st = NULL;
	xfr_import_opts io = {0};
	xfr_import_result res;
	const char *home;
	int r = parse_opts("bundle import", IMPORT_OPTS, argc, argv, &o);

	if (r != 0)
		return r;
	if (optind + 1 != argc)
		return cli_usage_error("bundle import", "needs exactly one FILE");
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = xfr_bundle_read(argv[optind], &b);
	if (rc != OFFCA_OK)
		rc = wrap_err(rc, argv[optind], "; nothing imported");
	if (rc == OFFCA_OK)
		rc = ca_store_open(home, 0, &st);
	io.home = home;
	io.require_signed = o.require_signed;
	if (rc == OFFCA_OK && !io.require_signed)
		rc = cli_require_signed(home, st, &io.require_signed);
	if (rc == OFFCA_OK) {
		rc = xfr_bundle_import(st, b, &io, &res);
		if (rc != OFFCA_OK)
			rc = wrap_err(rc, argv[optind],
				      strstr(ut_err_msg(), "nothing imported") == NULL ? "; nothing imported" : "");
	}
	if (rc == OFFCA_OK) {
		printf("imported %zu CSR%s into the pending queue (ids %llu..%llu)%s%s", res.n_csrs,
		       res.n_csrs == 1 ? "" : "s", (unsigned long long)res.ids[0],
		       (unsigned long long)res.ids[res.n_csrs - 1], res.signer[0] ? ", signed by operator " : ", unsigned",
		       res.signer);
		if (res.n_skipped > 0)
			printf("; %zu non-CSR item%s not imported", res.n_skipped, res.n_skipped == 1 ? "" : "s");
		printf("\n");
	}
	ca_store_free(st);
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* s is a serial as 'offca show' takes it: 1..32 hex digits, colons allowed between them. */
static int is_hex(const char *s)
{
	size_t digits = 0;

	for (; *s != '\0'; s++) {
		if (isxdigit((unsigned char)*s))
			digits++;
		else if (*s != ':')
			return 0;
	}
	return digits > 0 && digits <= 32;
}

/* --since: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @UNIXTIME (1); anything else is a serial (0); -1 bad. */
static int parse_since(const char *s, int64_t *t)
{
	struct tm tm;
	char *e;
	long long v;
	int n = 0;

	if (s[0] == '@') {
		v = strtoll(s + 1, &e, 10);
		if (e == s + 1 || *e != '\0' || v < 0)
			return -1;
		*t = v;
		return 1;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || s[n] != '\0') {
		memset(&tm, 0, sizeof(tm));
		n = 0;
		if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || s[n] != '\0')
			return 0;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm);
	return 1;
}

static int cmd_export(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	ca_store *st = NULL;
	xfr_export_opts eo = {0};
	xfr_export ex;
	const char *home, *uri;
	int r = parse_opts("bundle export", EXPORT_OPTS, argc, argv, &o);

	memset(&ex, 0, sizeof(ex));
	if (r != 0)
		return r;
	if (o.out == NULL || optind != argc)
		return cli_usage_error("bundle export", "needs --out FILE and no other arguments");
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	eo.issuer = o.issuer;
	if (o.since != NULL) {
		r = parse_since(o.since, &eo.since);
		if (r < 0)
			return cli_usage_error("bundle export", "--since: bad date or time '%s'", o.since);
		if (r == 0 && !is_hex(o.since))
			return cli_usage_error("bundle export", "--since '%s' is neither a time (YYYY-MM-DD, "
					       "YYYY-MM-DDTHH:MM:SSZ, @UNIXTIME) nor a certificate serial (hex)", o.since);
		if (r == 0)
			eo.since_serial = o.since;
	}
	if (ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", o.out));
	rc = ca_store_open(home, 0, &st);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_export(st, &eo, &ex);
	uri = o.sign_key != NULL ? o.sign_key : ex.key_uri;
	if (rc == OFFCA_OK && uri[0] == '\0')
		rc = ut_err(OFFCA_E_STATE, "issuer %s has no key URI on record; pass --sign-key URI", ex.issuer);
	if (rc == OFFCA_OK)
		rc = sign_with(ex.bundle, &o, uri, ex.signer, ex.chain, ex.issuer);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_write(ex.bundle, o.out);
	if (rc == OFFCA_OK)
		rc = xfr_export_audit(st, &ex);
	if (rc == OFFCA_OK)
		printf("wrote %s: %zu certificate%s, %zu CRL%s and the chain of %s, signed by %s\n", o.out,
		       ex.n_certs, ex.n_certs == 1 ? "" : "s", ex.n_crls, ex.n_crls == 1 ? "" : "s", ex.issuer,
		       ex.issuer);
	xfr_export_clear(&ex);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int cmd_enroll(int argc, char **argv)
{
	offca_rc rc;
	struct opts o;
	ca_store *st = NULL;
	const char *home;
	char fp[65], detail[256];
	int r = parse_opts("bundle enroll-operator", ENROLL_OPTS, argc, argv, &o);

	if (r != 0)
		return r;
	if (optind + 1 != argc || o.name == NULL)
		return cli_usage_error("bundle enroll-operator", "needs CERT.pem and --name NAME");
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = ca_store_open(home, 0, &st); /* a CA home must exist; also serializes with other runs */
	if (rc == OFFCA_OK) {
		rc = xfr_operator_enroll(home, o.name, argv[optind], fp);
		if (rc != OFFCA_OK)
			rc = wrap_err(rc, argv[optind], "");
	}
	if (rc == OFFCA_OK) {
		snprintf(detail, sizeof(detail), "{\"operator\":\"%s\",\"sha256\":\"%s\"}", o.name, fp);
		rc = ca_store_audit(st, "operator-enroll", detail);
	}
	if (rc == OFFCA_OK)
		printf("enrolled operator %s (certificate SHA-256 %s)\n", o.name, fp);
	ca_store_free(st);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

int cli_cmd_bundle(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {{"create", cmd_create},   {"verify", cmd_verify},   {"import", cmd_import},
		    {"export", cmd_export},   {"extract", cmd_extract}, {"enroll-operator", cmd_enroll}};

	if (argc < 2)
		return cli_usage_error("bundle", "missing subcommand: create, verify, import, export, extract or "
				       "enroll-operator");
	if (cli_wants_help(argc, argv)) {
		fputs(bundle_usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	return cli_usage_error("bundle", "unknown subcommand '%s'", argv[1]);
}
