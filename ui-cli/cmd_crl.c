/* cmd_crl.c - offca crl (sign a CRL on the token) and offca crl status. */
#include "cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/config.h"
#include "offca/crl.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/token.h"
#include "offca/util.h"

static offca_rc write_pem(const char *path, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	offca_rc rc;

	if (crl == NULL || b == NULL || PEM_write_bio_X509_CRL(b, crl) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "cannot encode the CRL as PEM");
	} else {
		n = BIO_get_mem_data(b, &data);
		rc = ut_write_file(path, data, (size_t)n, UT_WF_EXCL);
	}
	X509_CRL_free(crl);
	BIO_free(b);
	return rc;
}

static int run_crl(const cli_cmd *cmd, cli_args *a)
{
	const char *out = cli_str(a, "out");
	cli_session sess;
	unsigned char *der = NULL;
	size_t len = 0;
	ca_crl_info info;
	char path[4400], tu[32], nu[32], ck_msg[700];
	offca_rc rc, ck_rc = OFFCA_OK;

	(void)cmd;
	if (out != NULL && ut_path_exists(out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", out));
	if ((rc = cli_session_open(&sess, a, CLI_S_KEY, "crl")) != OFFCA_OK)
		goto out;
	if ((rc = ca_crl_issue(sess.st, sess.signer, (unsigned)cli_num(a, "days", 0), NULL, &der, &len, &info)) != OFFCA_OK)
		goto out;
	ck_rc = cli_checkpoint(sess.signer, sess.st, ck_msg, sizeof(ck_msg)); /* a CRL ends by signing the audit head */
	if (out != NULL)
		snprintf(path, sizeof(path), "%s", out);
	else
		snprintf(path, sizeof(path), "%s/outbox/%s-%llu.crl.pem", sess.home, sess.issuer,
			 (unsigned long long)info.number);
	if ((rc = write_pem(path, der, len)) != OFFCA_OK) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s (CRL %llu is recorded: offca export or offca crl again)", msg,
			    (unsigned long long)info.number);
		goto out;
	}
	cli_fmt_time(info.this_update, tu, sizeof(tu));
	cli_fmt_time(info.next_update, nu, sizeof(nu));
	printf("%s: CRL %llu of '%s', %zu revoked, thisUpdate %s, nextUpdate %s\n", path,
	       (unsigned long long)info.number, sess.issuer, info.n_revoked, tu, nu);
	if (ck_rc != OFFCA_OK)
		rc = ut_err(ck_rc, "CRL %llu is recorded and written, but %s", (unsigned long long)info.number, ck_msg);
out:
	OPENSSL_free(der);
	cli_session_close(&sess);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

/* The state of one issuer's current CRL: a table line (warnings on stderr) or a JSON object. */
static offca_rc status_one(ca_store *st, const char *name, int64_t now, json_t *json, int *warned)
{
	ca_crl_info info;
	char tu[32], nu[32];
	const char *state;
	offca_rc rc = ca_crl_status(st, name, now, &info);

	if (rc == OFFCA_E_NOT_FOUND) {
		ut_err_clear();
		if (json == NULL)
			printf("%-20s no CRL issued yet\n", name);
		else
			json_array_append_new(json, json_pack("{s:s,s:s}", "issuer", name, "state", "none"));
		fprintf(stderr, "offca: warning: issuer '%s' has no CRL yet: run offca crl --issuer %s\n", name, name);
		*warned = 1;
		return OFFCA_OK;
	}
	if (rc != OFFCA_OK)
		return rc;
	cli_fmt_time(info.this_update, tu, sizeof(tu));
	cli_fmt_time(info.next_update, nu, sizeof(nu));
	state = info.expired ? "expired" : info.warn ? "renew-soon" : "ok";
	if (json == NULL)
		printf("%-20s CRL %llu  %zu revoked  thisUpdate %s  nextUpdate %s%s\n", name, (unsigned long long)info.number,
		       info.n_revoked, tu, nu, info.expired ? "  EXPIRED" : info.warn ? "  RENEW SOON" : "");
	else
		json_array_append_new(json, json_pack("{s:s,s:s,s:I,s:I,s:s,s:s}", "issuer", name, "state", state, "number",
						      (json_int_t)info.number, "revoked", (json_int_t)info.n_revoked,
						      "thisUpdate", tu, "nextUpdate", nu));
	if (info.warn) {
		long long hours = (long long)(info.next_update - now) / 3600;
		if (info.expired)
			fprintf(stderr, "offca: warning: the CRL of '%s' expired at %s: relying parties refuse its "
					"certificates; run offca crl --issuer %s\n", name, nu, name);
		else
			fprintf(stderr, "offca: warning: the CRL of '%s' expires in %lld hours (%s): run offca crl "
					"--issuer %s\n", name, hours, nu, name);
		*warned = 1;
	}
	return OFFCA_OK;
}

static offca_rc status_all(ca_store *st, const char *issuer, int64_t now, json_t *json, int *warned)
{
	ca_issuer *list = NULL, iss;
	size_t n = 0;
	offca_rc rc;

	if (issuer != NULL) {
		memset(&iss, 0, sizeof(iss));
		rc = ca_store_issuer_get(st, issuer, &iss);
		ca_issuer_clear(&iss);
		return rc == OFFCA_OK ? status_one(st, issuer, now, json, warned) : rc;
	}
	if ((rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		if (list[i].key_uri[0] != '\0')
			rc = status_one(st, list[i].name, now, json, warned);
	if (n == 0 && json == NULL)
		printf("(no issuers yet)\n");
	ca_issuer_list_free(list, n);
	return rc;
}

static int run_status(const cli_cmd *cmd, cli_args *a)
{
	cli_session sess;
	json_t *json = cli_flag(a, "json") ? json_array() : NULL;
	offca_rc rc;
	int warned = 0, r = 0;

	(void)cmd;
	if ((rc = cli_session_open(&sess, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK)
		rc = status_all(sess.st, cli_str(a, "issuer"), (int64_t)time(NULL), json, &warned);
	cli_session_close(&sess);
	if (rc != OFFCA_OK) {
		json_decref(json);
		return cli_fail(rc);
	}
	if (json != NULL)
		r = cli_json_print(json);
	return r != 0 ? r : warned ? 1 : 0;
}

static const cli_opt crl_opts[] = {
	CLI_O("issuer", CLI_STR, "NAME", "the issuer (default: the newest intermediate, else the root)"),
	CLI_O("days", CLI_DAYS, "N", "nextUpdate = now + N days (default: the issuer's crl_days in config.json)", .lo = 1,
	      .hi = CA_CRL_MAX_DAYS),
	CLI_O("out", CLI_PATH, "FILE", "write the CRL there (never overwritten; default HOME/outbox/NAME-NUMBER.crl.pem)"),
	CLI_OPT_HOME,
	CLI_OPT_PIN_FILE,
	CLI_OPT_MODULE,
	CLI_END};

static const cli_opt status_opts[] = {
	CLI_O("issuer", CLI_STR, "NAME", "only this issuer (default: every issuer whose key is here)"),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

static const cli_cmd status_cmd = {
	.name = "crl status",
	.summary = "the current CRL of each issuer: number, thisUpdate, nextUpdate, entries; exit 1 on a warning",
	.opts = status_opts,
	.max_pos = 0,
	.details = "Warns when less than a quarter of its validity is left (or less than 7 days of a CRL meant for\n"
		   "28 days or more), or when it has expired. Exit status: 0 all fine, 1 a warning was printed (time\n"
		   "to run offca crl).\n",
	.run = run_status,
};

static const cli_cmd *const crl_subs[] = {&status_cmd, NULL};

const cli_cmd cli_crl_cmd = {
	.name = "crl",
	.summary = "sign a CRL on the token; crl status warns before nextUpdate",
	.opts = crl_opts,
	.max_pos = 0,
	.details = "crl signs a CRL for an issuer on its token: v2, cRLNumber from the store's ledger (never reused),\n"
		   "authorityKeyIdentifier, one entry per revoked certificate with its reasonCode (none for\n"
		   "unspecified), nextUpdate = now + N days. The CRL is verified, linted and recorded as the\n"
		   "issuer's current CRL, then written as PEM.\n",
	.run = run_crl,
	.subs = crl_subs,
};
