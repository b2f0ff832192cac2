/* cmd_export.c - offca export SERIAL --format pem|der|chain|fullchain [--out FILE] (docs/inventory.md). */
#include "cli.h"
#include "export_cli.h"
#include "inventory.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offca/store.h"
#include "offca/util.h"

static const char export_usage_line[] =
	"usage: offca export SERIAL --format pem|der|chain|fullchain [--out FILE] [--home DIR]\n";

static const char export_usage[] =
	"\n"
	"Write a certificate of the store to FILE (never overwritten) or to stdout.\n"
	"  pem        the certificate, PEM\n"
	"  der        the certificate, DER\n"
	"  chain      the issuing CA certificates without the certificate itself, nearest first, in\n"
	"             PEM (certbot's chain.pem): intermediates only; the root is left out unless it\n"
	"             issued the certificate directly\n"
	"  fullchain  the certificate followed by chain (certbot's fullchain.pem)\n"
	"\n";

/* Every form goes through ca_export_item_load(), the one reader of a record's DER. */
static offca_rc build_export(ca_store *st, const ca_cert_record *rec, const char *fmt, BIO *b)
{
	ca_export_item it;
	const ca_export_buf *pick;
	offca_rc rc = ca_export_item_load(st, rec, &it);

	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(fmt, "der") == 0) {
		if (BIO_write(b, it.der, (int)it.der_len) != (int)it.der_len)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		ca_export_item_clear(&it);
		return rc;
	}
	pick = strcmp(fmt, "pem") == 0 ? &it.cert : strcmp(fmt, "chain") == 0 ? &it.chain : &it.fullchain;
	if (it.self_signed && pick != &it.cert)
		rc = ut_err(OFFCA_E_STATE, "%s is a self-signed root: it has no chain", rec->issuer);
	else if (BIO_write(b, pick->p, (int)pick->len) != (int)pick->len)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	ca_export_item_clear(&it);
	return rc;
}

static offca_rc emit(const char *out, const char *data, size_t len)
{
	if (out != NULL)
		return ut_write_file(out, data, len, UT_WF_EXCL);
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return ut_err(OFFCA_E_IO, "writing to stdout failed");
	return OFFCA_OK;
}

int cli_cmd_export(int argc, char **argv)
{
	static const char *const fmts[] = {"pem", "der", "chain", "fullchain"};
	struct opts o;
	ca_store *st = NULL;
	ca_cert_record rec;
	BIO *b = NULL;
	char *data = NULL;
	long n;
	int r, ok = 0;
	offca_rc rc;

	memset(&rec, 0, sizeof(rec));
	if (cli_wants_help(argc, argv)) {
		fputs(export_usage_line, stdout);
		fputs(cli_export_pkg_synopsis, stdout);
		fputs(export_usage, stdout);
		fputs(cli_export_pkg_details, stdout);
		return 0;
	}
	if (cli_export_pkg_wanted(argc, argv))
		return cli_cmd_export_pkg(argc, argv);
	r = cli_inv_parse("export", argc, argv, OPT(O_HOME) | OPT(O_FORMAT) | OPT(O_OUT), 1, &o);
	if (r != 0)
		return r;
	for (size_t i = 0; o.format != NULL && i < 4; i++)
		ok |= strcmp(o.format, fmts[i]) == 0;
	if (!ok)
		return cli_usage_error("export", "--format must be pem, der, chain or fullchain");
	if (o.out != NULL && ut_path_exists(o.out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", o.out));
	if (o.out == NULL && strcmp(o.format, "der") == 0 && isatty(STDOUT_FILENO))
		return cli_usage_error("export", "refusing to write DER to a terminal (use --out FILE or --format pem)");
	r = cli_inv_find_record("export", &o, &st, &rec);
	if (r != 0)
		return r;
	rc = ca_store_cert_check(st, &rec); /* what leaves is what the audit log recorded */
	if (rc == OFFCA_E_VERIFY) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: refusing to export it (run offca audit verify)", msg);
	}
	b = rc != OFFCA_OK ? NULL : BIO_new(BIO_s_mem());
	if (rc == OFFCA_OK)
		rc = b ? build_export(st, &rec, o.format, b) : ut_err(OFFCA_E_NOMEM, "out of memory");
	ca_store_free(st);
	ca_cert_record_clear(&rec);
	if (rc == OFFCA_OK) {
		n = BIO_get_mem_data(b, &data);
		rc = n > 0 ? emit(o.out, data, (size_t)n) : ut_err(OFFCA_E_INTERNAL, "nothing to export");
	}
	BIO_free(b);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return 0;
}
