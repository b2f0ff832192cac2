/* cmd_inventory.c - offca init, show, revoke (docs/inventory.md). list is in cmd_list.c, export in
 * cmd_export.c, audit in cmd_audit.c. */
#include "cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/config.h"
#include "offca/store.h"
#include "offca/util.h"

const char *cli_inv_status_text(const ca_cert_record *r, int64_t now)
{
	if (r->status == CA_CERT_REVOKED)
		return "revoked";
	if (r->not_after < now)
		return "expired";
	return "valid";
}

long cli_inv_days_left(const ca_cert_record *r, int64_t now)
{
	int64_t d = r->not_after - now;

	return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

const char *cli_inv_display_name(const ca_cert_record *r)
{
	if (r->subject != NULL && r->subject[0] != '\0')
		return r->subject;
	if (r->n_sans > 0)
		return r->sans[0];
	return "-";
}

int cli_json_print(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (s == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	printf("%s\n", s);
	free(s);
	return 0;
}

/* ---- init ---- */

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

static int run_init(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_store *st = NULL;
	offca_rc rc;
	int r;

	(void)cmd;
	if ((rc = cli_session_open(&s, a, CLI_S_HOME, NULL)) != OFFCA_OK)
		return cli_fail(rc);
	r = dir_is_empty(s.home);
	if (r < 0)
		return cli_fail(ut_err(OFFCA_E_IO, "cannot read %s: %s", s.home, strerror(errno)));
	if (r == 0)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists and is not empty: refusing to create a CA home there",
				       s.home));
	if (r == 2)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists and is not a directory: refusing to create a CA home "
				       "there", s.home));
	rc = ca_store_open(s.home, 1, &st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	ca_store_free(st);
	rc = ca_config_write_default(s.home);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("CA home created in %s (store, audit log, config.json)\n"
	       "next: offca ca root --home %s --key pkcs11:... --subject DN --days N\n", s.home, s.home);
	return 0;
}

static const cli_opt init_opts[] = {CLI_OPT_HOME, CLI_END};

const cli_cmd cli_init_cmd = {
	.name = "init",
	.summary = "create a CA home (LMDB store, config, audit log)",
	.opts = init_opts,
	.details = "Create a CA home in DIR (or $OFFCA_HOME): DIR (0700), DIR/store (the LMDB store, files 0600)\n"
		   "with an audit log whose first entry is 'init', DIR/config.json (0600, default policy) and\n"
		   "DIR/outbox. DIR must not exist or be empty. Next step: 'offca ca root'.\n",
	.run = run_init,
};

/* ---- show ---- */

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

json_t *cli_inv_record_json(const ca_cert_record *r, int64_t now, int with_pem)
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
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:I,s:s,s:s}", "serial",
			      ca_serial_hex(&r->serial, hex, sizeof(hex)), "sha256", fp, "status", cli_inv_status_text(r, now),
			      "issuer", r->issuer, "profile", r->profile, "subject", r->subject ? r->subject : "", "sans",
			      sans, "notBefore", t1, "notAfter", t2, "daysLeft", (json_int_t)cli_inv_days_left(r, now),
			      "issuedAt", t3, "source", r->source);
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
	printf("notAfter:   %s (%ld days left)\n", t, cli_inv_days_left(r, now));
	cli_fmt_time(r->issued_at, t, sizeof(t));
	printf("issued:     %s by %s\n%s", t, r->source, pem);
	free(fp);
	free(pem);
	return 0;
}

struct newest {
	ca_cert_record *rec;
	int found;
};

/* Keep the certificate with the latest notBefore (then the latest issue time). */
static int newest_cb(void *arg, const ca_cert_record *r)
{
	struct newest *n = arg;
	ca_cert_record copy;

	if (n->found && (r->not_before < n->rec->not_before ||
			 (r->not_before == n->rec->not_before && r->issued_at <= n->rec->issued_at)))
		return 0;
	if (ca_cert_record_from_der(r->der, r->der_len, r->issuer, r->profile, r->source, &copy) != OFFCA_OK)
		return 1;
	copy.status = r->status;
	copy.revoked_at = r->revoked_at;
	copy.reason = r->reason;
	copy.issued_at = r->issued_at;
	if (n->found)
		ca_cert_record_clear(n->rec);
	*n->rec = copy;
	n->found = 1;
	return 0;
}

static int looks_hex(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') || *s == ':'))
			return 0;
	return 1;
}

offca_rc cli_inv_find(ca_store *st, const char *name, int by_san, ca_cert_record *rec)
{
	struct newest n = {rec, 0};
	offca_rc rc;

	memset(rec, 0, sizeof(*rec));
	if (!by_san || looks_hex(name)) {
		rc = ca_store_cert_find(st, name, rec);
		if (rc != OFFCA_E_NOT_FOUND || !by_san)
			return rc;
	}
	ut_err_clear();
	rc = ca_store_cert_by_san(st, name, newest_cb, &n);
	if (rc != OFFCA_OK && n.found)
		ca_cert_record_clear(rec);
	if (rc == OFFCA_OK && !n.found)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no certificate with serial, fingerprint or SAN '%s'", name);
	return rc;
}

static int run_show(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_cert_record rec;
	offca_rc rc;
	int r;

	(void)cmd;
	memset(&rec, 0, sizeof(rec));
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK)
		rc = cli_inv_find(s.st, a->pos[0], 1, &rec);
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	if (cli_flag(a, "json"))
		r = cli_json_print(cli_inv_record_json(&rec, (int64_t)time(NULL), 1));
	else
		r = print_record(&rec);
	ca_cert_record_clear(&rec);
	return r;
}

static const cli_opt show_opts[] = {CLI_OPT_JSON, CLI_OPT_HOME, CLI_END};

const cli_cmd cli_show_cmd = {
	.name = "show",
	.summary = "show one issued certificate",
	.operands = "SERIAL|FINGERPRINT|SAN",
	.min_pos = 1,
	.max_pos = 1,
	.opts = show_opts,
	.details = "Show one certificate of the store: every field of its record, the days left and its PEM.\n"
		   "SERIAL is hex (colons allowed, leading zeros optional); FINGERPRINT is the SHA-256 of the\n"
		   "DER, 64 hex digits (colons allowed); SAN is a subject alternative name (DNS:a.example, a\n"
		   "bare DNS name, IP:10.0.0.1, email:...): the newest certificate holding it (latest notBefore).\n",
	.run = run_show,
};

/* ---- revoke ---- */

static const char *const reasons[] = {"unspecified", "keyCompromise", "caCompromise", "affiliationChanged",
				      "superseded", "cessationOfOperation", "certificateHold", "privilegeWithdrawn",
				      NULL};

static int run_revoke(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_cert_record rec;
	char hex[2 * CA_SERIAL_LEN + 1];
	int reason = cli_flag(a, "reason") ? ca_reason_code(cli_str(a, "reason")) : 0;
	offca_rc rc;

	(void)cmd;
	memset(&rec, 0, sizeof(rec));
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RW, NULL)) == OFFCA_OK &&
	    (rc = cli_inv_find(s.st, a->pos[0], 0, &rec)) == OFFCA_OK)
		rc = ca_store_revoke(s.st, &rec.serial, reason, (int64_t)time(NULL));
	cli_session_close(&s);
	ca_serial_hex(&rec.serial, hex, sizeof(hex));
	ca_cert_record_clear(&rec);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("revoked %s (reason %s); run 'offca crl' to publish a new CRL\n", hex, ca_reason_name(reason));
	return 0;
}

static const cli_opt revoke_opts[] = {
	CLI_O("reason", CLI_ENUM, "REASON", "the CRL reason code (default unspecified)", .values = reasons),
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_revoke_cmd = {
	.name = "revoke",
	.summary = "revoke a certificate",
	.operands = "SERIAL",
	.min_pos = 1,
	.max_pos = 1,
	.opts = revoke_opts,
	.details = "Mark a certificate revoked in the store (audited). It appears on the next CRL: run\n"
		   "'offca crl' to sign and publish one. A certificate cannot be revoked twice.\n"
		   "REASON: unspecified (default), keyCompromise, caCompromise, affiliationChanged, superseded,\n"
		   "        cessationOfOperation, certificateHold, privilegeWithdrawn\n",
	.run = run_revoke,
};
