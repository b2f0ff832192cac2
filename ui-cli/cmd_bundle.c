/* cmd_bundle.c - offca bundle create|verify|import|export|extract|enroll-operator. */
#include "cli.h"
#include "cli_opt.h"
#include "inventory.h"

#include <ctype.h>
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
#include "offca/x509.h"

struct opts {
	const char *out, *direction, *issuer, *sign_key, *sign_key_file, *pin_file, *module;
	const char *signer_cert, *ca, *home, *since, *out_dir, *name;
	int require_signed, allow_plain_key;
};

/* The options of a bundle subcommand (those it does not declare stay unset). */
static void opts_from(const cli_args *a, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->out = cli_opt_if(a, "out");
	o->direction = cli_opt_if(a, "direction");
	o->issuer = cli_opt_if(a, "issuer");
	o->sign_key = cli_opt_if(a, "sign-key");
	o->sign_key_file = cli_opt_if(a, "sign-key-file");
	o->pin_file = cli_opt_if(a, "pin-file");
	o->module = cli_opt_if(a, "module");
	o->signer_cert = cli_opt_if(a, "signer-cert");
	o->ca = cli_opt_if(a, "ca");
	o->home = cli_opt_if(a, "home");
	o->since = cli_opt_if(a, "since");
	o->out_dir = cli_opt_if(a, "out-dir");
	o->name = cli_opt_if(a, "name");
	o->require_signed = cli_opt_if(a, "require-signed") != NULL;
	o->allow_plain_key = cli_opt_if(a, "allow-plaintext-key") != NULL;
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

/* docs/json.md's bundle object: what verify checked and printed. NULL: out of memory. */
static json_t *bundle_json(const char *path, const xfr_bundle *b, const char *ca, const char *operator)
{
	char when[32], *hex = ut_hex(xfr_bundle_digest(b), 32), subj[1024] = "";
	json_t *items = json_array(), *j;

	cli_fmt_time(xfr_bundle_created(b), when, sizeof(when));
	for (size_t i = 0; items != NULL && i < xfr_bundle_count(b); i++) {
		const xfr_item *it = xfr_bundle_item(b, i);
		char *h = ut_hex(it->sha256, 32);

		json_array_append_new(items, json_pack("{s:I,s:s,s:I,s:s,s:s}", "n", (json_int_t)(i + 1), "type",
						       xfr_item_type_name(it->type), "size", (json_int_t)it->len, "sha256",
						       h ? h : "", "name", it->name));
		free(h);
	}
	if (xfr_bundle_is_signed(b))
		(void)ca_x509_name_text(X509_get_subject_name(xfr_bundle_signer(b)), subj, sizeof(subj));
	j = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:o,s:b,s:s?,s:s?,s:s?}", "file", path, "format", XFR_FORMAT_VERSION,
		      "direction", xfr_direction_name(xfr_bundle_direction(b)), "created", when, "issuer",
		      xfr_bundle_issuer(b), "sha256", hex ? hex : "", "items", items, "signed", xfr_bundle_is_signed(b),
		      "signer", xfr_bundle_is_signed(b) ? subj : NULL, "chainsTo", ca, "operator",
		      operator != NULL && operator[0] ? operator : NULL);
	free(hex);
	return j;
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

static int run_create(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	xfr_direction dir = XFR_DIR_IN;
	xfr_bundle *b = NULL;
	xfr_export s;
	int sign = 0;

	(void)cmd;
	memset(&s, 0, sizeof(s));
	opts_from(a, &o);
	if (o.sign_key != NULL && o.sign_key_file != NULL)
		return cli_usage_error("bundle create", "--sign-key and --sign-key-file exclude each other");
	if ((o.sign_key_file != NULL) != (o.signer_cert != NULL && o.sign_key == NULL))
		return cli_usage_error("bundle create", "--sign-key-file needs --signer-cert, and --signer-cert "
				       "needs --sign-key or --sign-key-file");
	if (o.direction != NULL && strcmp(o.direction, "out") == 0)
		dir = XFR_DIR_OUT;
	if (ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", o.out));
	rc = create_signer(&o, dir, &s, &sign);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_new(dir, o.issuer != NULL ? o.issuer : s.issuer, &b);
	for (int i = 0; rc == OFFCA_OK && i < a->npos; i++)
		rc = xfr_bundle_add_file_checked(b, a->pos[i], o.allow_plain_key);
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

static int run_verify(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;
	char name[XFR_MAX_OPERATOR_NAME + 1] = "";
	int json = cli_flag(a, "json");

	(void)cmd;
	opts_from(a, &o);
	rc = read_checked(a->pos[0], o.ca, &b, json);
	/* --home: an inbound bundle's signer must be an enrolled operator (what import will check) */
	if (rc == OFFCA_OK && o.home != NULL && xfr_bundle_is_signed(b) &&
	    xfr_bundle_direction(b) == XFR_DIR_IN) {
		rc = xfr_operator_match(o.home, xfr_bundle_signer(b), name);
		if (rc == OFFCA_OK && !json)
			printf("operator:  %s (enrolled in %s)\n", name, o.home);
	}
	if (rc == OFFCA_OK && json)
		rc = cli_json_print(bundle_json(a->pos[0], b, o.ca, name)) == 0 ? OFFCA_OK : OFFCA_E_NOMEM;
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int run_extract(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;

	(void)cmd;
	opts_from(a, &o);
	rc = read_checked(a->pos[0], o.ca, &b, 1);
	if (rc == OFFCA_OK)
		rc = cli_out_dir(o.out_dir);
	if (rc == OFFCA_OK)
		rc = xfr_bundle_extract(b, o.out_dir);
	if (rc == OFFCA_OK)
		printf("extracted %zu items into %s\n", xfr_bundle_count(b), o.out_dir);
	xfr_bundle_free(b);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* ---- bundle import / export ---- */

static int run_import(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	xfr_bundle *b = NULL;
	ca_store *st = NULL;
	xfr_import_opts io = {0};
	xfr_import_result res;
	const char *home, *file = a->pos[0];

	(void)cmd;
	opts_from(a, &o);
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = xfr_bundle_read(file, &b);
	if (rc != OFFCA_OK)
		rc = wrap_err(rc, file, "; nothing imported");
	if (rc == OFFCA_OK)
		rc = ca_store_open(home, 0, &st);
	io.home = home;
	io.require_signed = o.require_signed;
	if (rc == OFFCA_OK && !io.require_signed)
		rc = cli_require_signed(home, st, &io.require_signed);
	if (rc == OFFCA_OK) {
		rc = xfr_bundle_import(st, b, &io, &res);
		if (rc != OFFCA_OK)
			rc = wrap_err(rc, file,
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

static int run_export(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	ca_store *st = NULL;
	xfr_export_opts eo = {0};
	xfr_export ex;
	const char *home, *uri;
	int r;

	(void)cmd;
	memset(&ex, 0, sizeof(ex));
	opts_from(a, &o);
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	eo.issuer = o.issuer;
	if (o.since != NULL) {
		r = cli_parse_time(o.since, &eo.since);
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

static int run_enroll(const cli_cmd *cmd, cli_args *a)
{
	offca_rc rc;
	struct opts o;
	ca_store *st = NULL;
	const char *home;
	char fp[65], detail[256];

	(void)cmd;
	opts_from(a, &o);
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	rc = ca_store_open(home, 0, &st); /* a CA home must exist; also serializes with other runs */
	if (rc == OFFCA_OK) {
		rc = xfr_operator_enroll(home, o.name, a->pos[0], fp);
		if (rc != OFFCA_OK)
			rc = wrap_err(rc, a->pos[0], "");
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

static const char *const directions[] = {"in", "out", NULL};

static const cli_opt create_opts[] = {
	CLI_O("out", CLI_PATH, "FILE", "the bundle (never overwritten)", .flags = CLI_REQUIRED),
	CLI_O("direction", CLI_ENUM, NULL, "in (default: towards the offline CA) or out", .values = directions),
	CLI_O("issuer", CLI_STR, "NAME", "on the CA: the issuer whose certificate and chain sign the bundle"),
	CLI_OPT_HOME,
	CLI_O("sign-key", CLI_STR, "URI", "sign with a key on a token (PIN from --pin-file, the URI's pin-source or a "
	      "prompt)"),
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_O("sign-key-file", CLI_PATH, "KEY.pem", "sign with an operator's software key (passphrase from --pin-file "
	      "or a prompt)"),
	CLI_O("signer-cert", CLI_PATH, "CERT.pem", "the signer's certificate, followed by its chain"),
	CLI_O("allow-plaintext-key", CLI_FLAG, NULL, "accept an unencrypted private key as an item (bundles are "
	      "signed, not encrypted)"),
	CLI_END};

static const cli_opt verify_opts[] = {
	CLI_O("ca", CLI_PATH, "ROOT.pem", "the signer must be a CA certificate chaining to ROOT.pem"),
	CLI_O("home", CLI_PATH, "DIR", "a signed inbound bundle's signer must be an operator enrolled there"),
	CLI_OPT_JSON,
	CLI_END};

static const cli_opt import_opts[] = {
	CLI_OPT_HOME,
	CLI_O("require-signed", CLI_FLAG, NULL, "refuse an unsigned bundle"),
	CLI_END};

static const cli_opt export_opts[] = {
	CLI_O("out", CLI_PATH, "FILE", "the bundle (never overwritten)", .flags = CLI_REQUIRED),
	CLI_O("since", CLI_STR, "TIME|SERIAL", "certificates issued since TIME (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
	      "@UNIXTIME) or since certificate SERIAL (hex)"),
	CLI_O("issuer", CLI_STR, "NAME", "the issuer (default: the default issuer)"),
	CLI_OPT_HOME,
	CLI_O("sign-key", CLI_STR, "URI", "the issuer's key (default: the key URI on record)"),
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

static const cli_opt extract_opts[] = {
	CLI_O("out-dir", CLI_PATH, "DIR", "where the items go as NN-NAME (created 0700 when missing)",
	      .flags = CLI_REQUIRED),
	CLI_O("ca", CLI_PATH, "ROOT.pem", "the signer must chain to ROOT.pem"),
	CLI_END};

static const cli_opt enroll_opts[] = {
	CLI_O("name", CLI_STR, "NAME", "the operator's name (HOME/operators/NAME.pem)", .flags = CLI_REQUIRED),
	CLI_OPT_HOME,
	CLI_END};

static const cli_cmd create_cmd = {
	.name = "bundle create",
	.summary = "build a bundle from ITEM = [type:]path (type guessed from PEM label or DER when omitted)",
	.operands = "ITEM...",
	.min_pos = 1,
	.max_pos = -1,
	.opts = create_opts,
	.usage = "offca bundle create --out FILE [--direction in|out] [--issuer NAME] [--home DIR]\n"
		 "                    [--sign-key URI [--pin-file F] [--module PATH] | --sign-key-file KEY.pem\n"
		 "                     [--pin-file F]] [--signer-cert CERT.pem] [--allow-plaintext-key] ITEM...",
	.details = "Signing: --sign-key pkcs11:URI or --sign-key-file KEY.pem, with --signer-cert CERT.pem. On the\n"
		   "CA, without --signer-cert, the issuer's certificate and chain come from the CA home (--issuer NAME\n"
		   "or the issuer of the --sign-key URI); --direction out with a CA home signs with the issuer's\n"
		   "recorded key. An unencrypted private key (PEM PRIVATE KEY, EC/RSA PRIVATE KEY, DER, a PKCS#12\n"
		   "without a passphrase) is refused unless --allow-plaintext-key.\n",
	.run = run_create,
};

static const cli_cmd verify_cmd = {
	.name = "bundle verify",
	.summary = "check structure, sizes, hashes and the signature; print the manifest",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = verify_opts,
	.details = "Non-zero on any problem; an outbound bundle must be signed. --json prints the manifest and the\n"
		   "signature's result as one object (docs/json.md).\n",
	.run = run_verify,
};

static const cli_cmd import_cmd = {
	.name = "bundle import",
	.summary = "put an inbound bundle's CSRs into the pending queue: all of them or none",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = import_opts,
	.details = "A signed bundle must be signed by an enrolled operator; --require-signed (or\n"
		   "defaults.transfer.require_signed in config.json) refuses unsigned ones.\n",
	.run = run_import,
};

static const cli_cmd export_cmd = {
	.name = "bundle export",
	.summary = "an outbound bundle with the issuer's certificates issued since TIME or SERIAL, its chain and the "
		   "current CRLs",
	.opts = export_opts,
	.max_pos = 0,
	.run = run_export,
};

static const cli_cmd extract_cmd = {
	.name = "bundle extract",
	.summary = "write the items into DIR as NN-NAME (names sanitized; never paths from the bundle)",
	.operands = "FILE",
	.min_pos = 1,
	.max_pos = 1,
	.opts = extract_opts,
	.run = run_extract,
};

static const cli_cmd enroll_cmd = {
	.name = "bundle enroll-operator",
	.summary = "trust CERT.pem to sign inbound bundles (HOME/operators/NAME.pem)",
	.operands = "CERT.pem",
	.min_pos = 1,
	.max_pos = 1,
	.opts = enroll_opts,
	.run = run_enroll,
};

static const cli_cmd *const bundle_subs[] = {&create_cmd, &verify_cmd, &import_cmd, &export_cmd, &extract_cmd,
					     &enroll_cmd, NULL};

const cli_cmd cli_bundle_cmd = {
	.name = "bundle",
	.summary = "create, verify, import and export authenticated USB bundles",
	.details = "An authenticated USB bundle is one file holding typed items (csr, certificate, chain, crl,\n"
		   "ocsp, transcript, other) and a manifest with each item's size and SHA-256 (docs/bundles.md).\n"
		   "The CA home is --home DIR or $OFFCA_HOME. PINs never come from the command line.\n",
	.subs = bundle_subs,
};
