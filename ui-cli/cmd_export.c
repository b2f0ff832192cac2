/* cmd_export.c - offca export SERIAL --format pem|der|chain|fullchain [--out FILE] (docs/inventory.md). */
#include "cli.h"
#include "export_cli.h"
#include "cli_session.h"
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

static int run_export(const cli_cmd *cmd, cli_args *a)
{
	const char *fmt = cli_str(a, "format"), *out = cli_str(a, "out");
	cli_session s;
	ca_cert_record rec;
	BIO *b = NULL;
	char *data = NULL;
	long n;
	offca_rc rc;

	memset(&rec, 0, sizeof(rec));
	if (cli_export_pkg_wanted(a))
		return cli_cmd_export_pkg(a);
	if (fmt == NULL)
		return cli_usage_error(cmd->name, "--format must be pem, der, chain or fullchain");
	if (a->npos != 1)
		return cli_usage_error(cmd->name, "give exactly one SERIAL");
	if (out != NULL && ut_path_exists(out) == OFFCA_OK)
		return cli_fail(ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", out));
	if (out == NULL && strcmp(fmt, "der") == 0 && isatty(STDOUT_FILENO))
		return cli_usage_error(cmd->name, "refusing to write DER to a terminal (use --out FILE or --format pem)");
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK &&
	    (rc = cli_inv_find(s.st, a->pos[0], 0, &rec)) == OFFCA_OK)
		rc = ca_store_cert_check(s.st, &rec); /* what leaves is what the audit log recorded */
	if (rc == OFFCA_E_VERIFY) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: refusing to export it (run offca audit verify)", msg);
	}
	b = rc != OFFCA_OK ? NULL : BIO_new(BIO_s_mem());
	if (rc == OFFCA_OK)
		rc = b ? build_export(s.st, &rec, fmt, b) : ut_err(OFFCA_E_NOMEM, "out of memory");
	cli_session_close(&s);
	ca_cert_record_clear(&rec);
	if (rc == OFFCA_OK) {
		n = BIO_get_mem_data(b, &data);
		rc = n > 0 ? emit(out, data, (size_t)n) : ut_err(OFFCA_E_INTERNAL, "nothing to export");
	}
	BIO_free(b);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return 0;
}

static const char *const formats[] = {"pem", "der", "chain", "fullchain", "p12", NULL};

static const cli_opt export_opts[] = {
	CLI_O("format", CLI_ENUM, NULL, "pem, der, chain, fullchain; p12: a PKCS#12 trust bundle", .values = formats),
	CLI_O("out", CLI_PATH, "FILE", "write to FILE (never overwritten) instead of stdout"),
	CLI_O("san", CLI_STR, "NAME", "the newest valid certificate holding SAN NAME (delivery forms)"),
	CLI_O("all-valid", CLI_FLAG, NULL, "every valid end-entity certificate (layout and ZIP)"),
	CLI_O("force", CLI_FLAG, NULL, "export a revoked or expired certificate anyway (says so)"),
	CLI_O("layout", CLI_STR, "certbot", "certbot's layout, with --out-dir DIR or --zip FILE"),
	CLI_O("out-dir", CLI_PATH, "DIR", "the layout's directory (created 0700 when missing)"),
	CLI_O("zip", CLI_PATH, "FILE", "the layout as a ZIP file"),
	CLI_O("passphrase-file", CLI_SECRET, "F", "--format p12: the passphrase from F (0600); default: a prompt"),
	CLI_O("legacy", CLI_FLAG, NULL, "--format p12: 3DES/SHA-1 for old consumers"),
	CLI_O("k8s-secret", CLI_STR, "NAME", "a kubernetes.io/tls Secret named NAME"),
	CLI_O("k8s-configmap", CLI_STR, "NAME", "a ConfigMap with ca.crt only"),
	CLI_O("namespace", CLI_STR, "NS", "the Kubernetes namespace"),
	CLI_O("sops", CLI_FLAG, NULL, "the Secret as a SOPS document encrypted to --age recipients"),
	CLI_O("age", CLI_LIST, "RECIPIENT", "an age recipient (age1...); repeatable, comma-separated lists allowed"),
	CLI_O("git-repo", CLI_PATH, "DIR", "write the SOPS Secret into this Git work tree"),
	CLI_O("git-path", CLI_STR, "PATH", "its path there (default offca/NAME.sops.yaml)"),
	CLI_O("commit", CLI_FLAG, NULL, "commit that path"),
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_export_cmd = {
	.name = "export",
	.summary = "export a certificate, its chain or full chain, or a delivery form",
	.operands = "SERIAL",
	.max_pos = 1,
	.opts = export_opts,
	.usage = "offca export SERIAL --format pem|der|chain|fullchain [--out FILE] [--home DIR]\n"
		 "offca export SERIAL|--san NAME|--all-valid --layout certbot --out-dir DIR|--zip FILE\n"
		 "offca export SERIAL|--san NAME --format p12 --out FILE [--passphrase-file F] [--legacy]\n"
		 "offca export SERIAL|--san NAME --k8s-secret NAME|--k8s-configmap NAME [--namespace NS]\n"
		 "             [--out FILE]\n"
		 "offca export SERIAL|--san NAME --k8s-secret NAME [--namespace NS] --sops --age RECIPIENT...\n"
		 "             --out FILE | --git-repo DIR [--git-path PATH] [--commit]\n"
		 "   (every form takes [--force] [--home DIR]; docs/distribution.md)",
	.details = "Write a certificate of the store to FILE (never overwritten) or to stdout.\n"
		   "  pem        the certificate, PEM\n"
		   "  der        the certificate, DER\n"
		   "  chain      the issuing CA certificates without the certificate itself, nearest first, in\n"
		   "             PEM (certbot's chain.pem): intermediates only; the root is left out unless it\n"
		   "             issued the certificate directly\n"
		   "  fullchain  the certificate followed by chain (certbot's fullchain.pem)\n"
		   "\n"
		   "Delivery forms (nothing is ever overwritten; a file or directory appears complete or not at all):\n"
		   "  --san NAME        the newest valid certificate holding SAN NAME (DNS:, IP:, ... or a DNS name)\n"
		   "  --all-valid       every valid (not revoked, not expired) end-entity certificate: layout and ZIP\n"
		   "  --layout certbot  DIR/<first SAN or CN>/ with cert.pem, chain.pem, fullchain.pem, ca.crt (the\n"
		   "                    root), metadata.json, README.txt (install hints); --zip FILE: the same as a ZIP\n"
		   "  --format p12      certificate, chain and root as trusted entries (Java trust stores)\n"
		   "  --k8s-secret NAME a kubernetes.io/tls Secret (tls.crt = full chain, ca.crt = root, tls.key = \"\"\n"
		   "                    since the key stays with its endpoint); --k8s-configmap NAME: ca.crt only\n"
		   "  --sops --age R    the Secret as a SOPS document, data values encrypted to age recipients R;\n"
		   "                    --git-repo DIR writes it to DIR/PATH and --commit commits that path\n",
	.run = run_export,
};
