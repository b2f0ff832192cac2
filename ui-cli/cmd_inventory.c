/* cmd_inventory.c - offca init, list, show, revoke, and the option parsing the inventory commands share
 * (docs/inventory.md). export is in cmd_export.c, audit in cmd_audit.c. */
#include "cli.h"
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offca/config.h"
#include "offca/store.h"
#include "offca/util.h"

/* Parse argv for command cmd; allowed: the O_* options this command takes (bit mask). */
static const struct option long_opts[] = {
	{"home", required_argument, NULL, O_HOME},
	{"expiring", required_argument, NULL, O_EXPIRING},
	{"revoked", no_argument, NULL, O_REVOKED},
	{"issuer", required_argument, NULL, O_ISSUER},
	{"json", no_argument, NULL, O_JSON},
	{"reason", required_argument, NULL, O_REASON},
	{"format", required_argument, NULL, O_FORMAT},
	{"out", required_argument, NULL, O_OUT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}};

/* Parse argv for command cmd; allowed: the O_* options this command takes (bit mask). */
int cli_inv_parse(const char *cmd, int argc, char **argv, unsigned allowed, int max_pos, struct opts *o)
{
	int c, li = 0;
	char *end;

	memset(o, 0, sizeof(*o));
	o->expiring = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, &li)) != -1) {
		if (c == ':')
			return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		if (c != 'h' && !(allowed & (1u << c)))
			return cli_usage_error(cmd, "option '--%s' does not apply to %s", long_opts[li].name, cmd);
		switch (c) {
		case O_HOME: o->home = optarg; break;
		case O_ISSUER: o->issuer = optarg; break;
		case O_REVOKED: o->revoked = 1; break;
		case O_JSON: o->json = 1; break;
		case O_REASON: o->reason = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_EXPIRING:
			errno = 0;
			o->expiring = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || o->expiring < 0 || o->expiring > MAX_DAYS)
				return cli_usage_error(cmd, "--expiring takes a number of days (0..%ld)", MAX_DAYS);
			break;
		default: break;
		}
	}
	for (; optind < argc; optind++) {
		if (o->npos >= max_pos)
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		o->pos[o->npos++] = argv[optind];
	}
	return 0;
}

const char *cli_inv_status_text(const ca_cert_record *r, int64_t now)
{
	if (r->status == CA_CERT_REVOKED)
		return "revoked";
	if (r->not_after < now)
		return "expired";
	return "valid";
}

int cli_inv_open_store(const char *cmd, const char *home_opt, ca_store **st)
{
	const char *home = cli_home(home_opt);
	offca_rc rc;

	*st = NULL;
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	/* only revoke writes; reading never needs a write (a full disk, reservations left open) */
	rc = strcmp(cmd, "revoke") == 0 ? ca_store_open(home, 0, st) : ca_store_open_ro(home, st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return 0;
}

/* ---- init ---- */

static const char init_usage[] =
	"usage: offca init [--home DIR]\n"
	"\n"
	"Create a CA home in DIR (or $OFFCA_HOME): DIR (0700), DIR/store (the LMDB store, files 0600)\n"
	"with an audit log whose first entry is 'init', DIR/config.json (0600, default policy) and\n"
	"DIR/outbox. DIR must not exist or be empty. Next step: 'offca ca root'.\n";

/* 1: path is an empty directory or does not exist; 0: a non-empty directory; 2: not a directory; -1: errno. */
static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL && errno == ENOTDIR)
		return 2;
	if (d == NULL)
		return errno == ENOENT ? 1 : -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

int cli_cmd_init(int argc, char **argv)
{
	struct opts o;
	const char *home;
	ca_store *st = NULL;
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(init_usage, stdout);
		return 0;
	}
	r = cli_inv_parse("init", argc, argv, OPT(O_HOME), 0, &o);
	if (r != 0)
		return r;
	home = cli_home(o.home);
	if (home == NULL)
		return cli_fail(OFFCA_E_USAGE);
	r = dir_is_empty(home);
	if (r < 0)
		return cli_fail(ut_err(OFFCA_E_IO, "cannot read %s: %s", home, strerror(errno)));
	if (r == 0)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists and is not empty: refusing to create a CA home there",
				       home));
	if (r == 2)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists and is not a directory: refusing to create a CA home "
				       "there", home));
	rc = ca_store_open(home, 1, &st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	ca_store_free(st);
	rc = ca_config_write_default(home);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("CA home created in %s (store, audit log, config.json)\n"
	       "next: offca ca root --home %s --key pkcs11:... --subject DN --days N\n", home, home);
	return 0;
}

/* ---- list ---- */

static const char list_usage[] =
	"usage: offca list [--expiring DAYS] [--revoked] [--issuer NAME] [--json] [--home DIR]\n"
	"\n"
	"List issued certificates: serial, status (valid, revoked, expired), notAfter, profile and\n"
	"subject (or first SAN when the subject is empty).\n"
	"  --expiring DAYS  only certificates whose notAfter is less than DAYS days from now\n"
	"                   (already expired ones included), soonest first\n"
	"  --revoked        only revoked certificates\n"
	"  --issuer NAME    only certificates issued by NAME\n"
	"  --json           a JSON array of objects instead of the table\n";

struct list_ctx {
	int json;
	int64_t now;
	size_t n;
	offca_rc err;
};

static json_t *record_json(const ca_cert_record *r, int64_t now, int with_pem);

static const char *display_name(const ca_cert_record *r)
{
	if (r->subject != NULL && r->subject[0] != '\0')
		return r->subject;
	if (r->n_sans > 0)
		return r->sans[0];
	return "-";
}

static int list_cb(void *arg, const ca_cert_record *r)
{
	struct list_ctx *c = arg;
	char hex[2 * CA_SERIAL_LEN + 1], na[32];
	json_t *j;

	c->n++;
	if (c->json) { /* streamed, one object per line: a million records never sit in memory */
		char *txt;

		j = record_json(r, c->now, 0);
		txt = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		if (txt == NULL) {
			c->err = ut_err(OFFCA_E_NOMEM, "out of memory");
			return 1;
		}
		printf("%s%s", c->n == 1 ? "[\n" : ",\n", txt);
		free(txt);
		return 0;
	}
	cli_fmt_time(r->not_after, na, sizeof(na));
	printf("%s  %-7s  %s  %-12s  %s\n", ca_serial_hex(&r->serial, hex, sizeof(hex)), cli_inv_status_text(r, c->now), na,
	       r->profile, display_name(r));
	return 0;
}

int cli_cmd_list(int argc, char **argv)
{
	struct opts o;
	struct list_ctx c = {0};
	ca_store *st = NULL;
	offca_rc rc;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(list_usage, stdout);
		return 0;
	}
	r = cli_inv_parse("list", argc, argv, OPT(O_HOME) | OPT(O_EXPIRING) | OPT(O_REVOKED) | OPT(O_ISSUER) | OPT(O_JSON), 0, &o);
	if (r != 0)
		return r;
	r = cli_inv_open_store("list", o.home, &st);
	if (r != 0)
		return r;
	c.json = o.json;
	c.now = (int64_t)time(NULL);
	if (!o.json)
		printf("%-32s  %-7s  %-20s  %-12s  %s\n", "SERIAL", "STATUS", "NOT AFTER", "PROFILE", "SUBJECT / SAN");
	rc = ca_store_cert_each(st, o.issuer, o.expiring >= 0 ? c.now + (int64_t)o.expiring * 86400 : 0, o.revoked,
				list_cb, &c);
	ca_store_free(st);
	if (rc == OFFCA_OK && c.err != OFFCA_OK)
		rc = c.err;
	if (rc == OFFCA_OK && o.json)
		printf("%s", c.n == 0 ? "[]\n" : "\n]\n");
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return 0;
}

/* ---- show ---- */

static const char show_usage[] =
	"usage: offca show SERIAL|FINGERPRINT [--json] [--home DIR]\n"
	"\n"
	"Show one certificate of the store: every field of its record and its PEM. SERIAL is hex\n"
	"(colons allowed, leading zeros optional); FINGERPRINT is the SHA-256 of the DER, 64 hex\n"
	"digits (colons allowed).\n";

static char *to_pem(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;

	if (x != NULL && b != NULL && PEM_write_bio_X509(b, x) == 1) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0)
			out = strndup(data, (size_t)n);
	}
	X509_free(x);
	BIO_free(b);
	return out;
}

static json_t *record_json(const ca_cert_record *r, int64_t now, int with_pem)
{
	char hex[2 * CA_SERIAL_LEN + 1], t1[32], t2[32], t3[32];
	char *fp = ut_hex_colon(r->sha256, 32), *pem = with_pem ? to_pem(r->der, r->der_len) : NULL;
	json_t *j = NULL, *sans = json_array();

	for (size_t i = 0; sans != NULL && i < r->n_sans; i++)
		json_array_append_new(sans, json_string(r->sans[i]));
	cli_fmt_time(r->not_before, t1, sizeof(t1));
	cli_fmt_time(r->not_after, t2, sizeof(t2));
	cli_fmt_time(r->issued_at, t3, sizeof(t3));
	if (fp != NULL && sans != NULL && (pem != NULL || !with_pem))
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:s,s:s}", "serial",
			      ca_serial_hex(&r->serial, hex, sizeof(hex)), "sha256", fp, "status", cli_inv_status_text(r, now),
			      "issuer", r->issuer, "profile", r->profile, "subject", r->subject ? r->subject : "", "sans",
			      sans, "notBefore", t1, "notAfter", t2, "issuedAt", t3, "source", r->source);
	if (j != NULL && r->status == CA_CERT_REVOKED) {
		cli_fmt_time(r->revoked_at, t1, sizeof(t1));
		json_object_set_new(j, "revokedAt", json_string(t1));
		json_object_set_new(j, "reason", json_string(ca_reason_name(r->reason) ? ca_reason_name(r->reason) : "?"));
	}
	if (j != NULL && pem != NULL)
		json_object_set_new(j, "pem", json_string(pem));
	json_decref(sans);
	free(fp);
	free(pem);
	return j;
}

static int print_record(const ca_cert_record *r)
{
	char hex[2 * CA_SERIAL_LEN + 1], t[32];
	char *fp = ut_hex_colon(r->sha256, 32), *pem = to_pem(r->der, r->der_len);
	int64_t now = (int64_t)time(NULL);

	if (fp == NULL || pem == NULL) {
		free(fp);
		free(pem);
		return cli_fail(ut_err(OFFCA_E_STORE, "the stored certificate cannot be encoded as PEM"));
	}
	printf("serial:     %s\n", ca_serial_hex(&r->serial, hex, sizeof(hex)));
	printf("sha256:     %s\n", fp);
	printf("status:     %s", cli_inv_status_text(r, now));
	if (r->status == CA_CERT_REVOKED) {
		cli_fmt_time(r->revoked_at, t, sizeof(t));
		printf(" (%s, reason %s)", t, ca_reason_name(r->reason) ? ca_reason_name(r->reason) : "?");
	}
	printf("\nissuer:     %s\nprofile:    %s\nsubject:    %s\n", r->issuer, r->profile, r->subject ? r->subject : "");
	for (size_t i = 0; i < r->n_sans; i++)
		printf("%s%s\n", i == 0 ? "SANs:       " : "            ", r->sans[i]);
	cli_fmt_time(r->not_before, t, sizeof(t));
	printf("notBefore:  %s\n", t);
	cli_fmt_time(r->not_after, t, sizeof(t));
	printf("notAfter:   %s\n", t);
	cli_fmt_time(r->issued_at, t, sizeof(t));
	printf("issued:     %s by %s\n%s", t, r->source, pem);
	free(fp);
	free(pem);
	return 0;
}

int cli_inv_find_record(const char *cmd, const struct opts *o, ca_store **st, ca_cert_record *rec)
{
	offca_rc rc;
	int r;

	if (o->npos != 1)
		return cli_usage_error(cmd, "give exactly one SERIAL%s", strcmp(cmd, "show") == 0 ? " or FINGERPRINT" : "");
	r = cli_inv_open_store(cmd, o->home, st);
	if (r != 0)
		return r;
	rc = ca_store_cert_find(*st, o->pos[0], rec);
	if (rc != OFFCA_OK) {
		ca_store_free(*st);
		*st = NULL;
		return cli_fail(rc);
	}
	return 0;
}

int cli_cmd_show(int argc, char **argv)
{
	struct opts o;
	ca_store *st = NULL;
	ca_cert_record rec;
	json_t *j;
	char *s;
	int r;

	memset(&rec, 0, sizeof(rec));
	if (cli_wants_help(argc, argv)) {
		fputs(show_usage, stdout);
		return 0;
	}
	r = cli_inv_parse("show", argc, argv, OPT(O_HOME) | OPT(O_JSON), 1, &o);
	if (r == 0)
		r = cli_inv_find_record("show", &o, &st, &rec);
	if (r != 0)
		return r;
	ca_store_free(st);
	if (!o.json) {
		r = print_record(&rec);
		ca_cert_record_clear(&rec);
		return r;
	}
	j = record_json(&rec, (int64_t)time(NULL), 1);
	ca_cert_record_clear(&rec);
	s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (s == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	printf("%s\n", s);
	free(s);
	return 0;
}

/* ---- revoke ---- */

static const char revoke_usage[] =
	"usage: offca revoke SERIAL [--reason REASON] [--home DIR]\n"
	"\n"
	"Mark a certificate revoked in the store (audited). It appears on the next CRL: run\n"
	"'offca crl' to sign and publish one. A certificate cannot be revoked twice.\n"
	"REASON: unspecified (default), keyCompromise, caCompromise, affiliationChanged, superseded,\n"
	"        cessationOfOperation, certificateHold, privilegeWithdrawn\n";

int cli_cmd_revoke(int argc, char **argv)
{
	struct opts o;
	ca_store *st = NULL;
	ca_cert_record rec;
	char hex[2 * CA_SERIAL_LEN + 1];
	int reason = 0, r;
	offca_rc rc;

	memset(&rec, 0, sizeof(rec));
	if (cli_wants_help(argc, argv)) {
		fputs(revoke_usage, stdout);
		return 0;
	}
	r = cli_inv_parse("revoke", argc, argv, OPT(O_HOME) | OPT(O_REASON), 1, &o);
	if (r != 0)
		return r;
	if (o.reason != NULL) {
		reason = ca_reason_code(o.reason);
		if (reason < 0 || reason == 8 || reason == 10)
			return cli_usage_error("revoke", "unknown reason '%s'", o.reason);
	}
	r = cli_inv_find_record("revoke", &o, &st, &rec);
	if (r != 0)
		return r;
	rc = ca_store_revoke(st, &rec.serial, reason, (int64_t)time(NULL));
	ca_store_free(st);
	ca_serial_hex(&rec.serial, hex, sizeof(hex));
	ca_cert_record_clear(&rec);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("revoked %s (reason %s); run 'offca crl' to publish a new CRL\n", hex, ca_reason_name(reason));
	return 0;
}
