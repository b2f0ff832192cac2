/* cmd_audit.c - offca audit verify|show: the hash-chained audit log (docs/store.md). */
#include "cli.h"
#include "inventory.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/store.h"
#include "offca/util.h"

static const char audit_usage[] =
	"usage: offca audit verify [--home DIR]\n"
	"       offca audit show [--json] [--home DIR]\n"
	"\n"
	"The store's append-only, hash-chained audit log (docs/store.md).\n"
	"  verify  recompute every entry's SHA-256 and the chain, then check every certificate record\n"
	"          against the log (signed, revoked); prints 'audit log OK: N entries' or names the\n"
	"          first bad entry or record and exits non-zero\n"
	"  show    print every entry (seq, time, action, detail, hash) and the head hash; record\n"
	"          the head hash outside the CA (ceremony transcript) to detect a rewritten log\n";

struct audit_ctx {
	int json;
	unsigned char head[32];
	uint64_t last;
	offca_rc err;
};

/* One entry: a table line, or a compact JSON object (streamed: the log may be long). */
static int audit_cb(void *arg, const ca_audit_entry *e)
{
	struct audit_ctx *c = arg;
	char t[32], *h = ut_hex(e->hash, 32), *ph = ut_hex(e->prev_hash, 32), *txt = NULL;
	json_t *j = NULL;

	cli_fmt_time(e->time, t, sizeof(t));
	if (h != NULL && ph != NULL && c->json) {
		j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)e->seq, "time", t, "action", e->action,
			      "detail", e->detail, "prevHash", ph, "hash", h);
		txt = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	}
	if (h == NULL || ph == NULL || (c->json && txt == NULL))
		c->err = ut_err(OFFCA_E_NOMEM, "out of memory");
	else if (c->json)
		printf("%s%s", c->last == 0 ? "[\n" : ",\n", txt);
	else
		printf("#%-6llu %s  %-14s %s  [%.16s]\n", (unsigned long long)e->seq, t, e->action, e->detail, h);
	memcpy(c->head, e->hash, 32);
	c->last = e->seq;
	json_decref(j);
	free(txt);
	free(h);
	free(ph);
	return c->err != OFFCA_OK;
}

static int audit_show(ca_store *st, int json)
{
	struct audit_ctx c = {json, {0}, 0, OFFCA_OK};
	offca_rc rc = ca_store_audit_each(st, 0, audit_cb, &c);
	char *h = NULL;

	if (rc == OFFCA_OK)
		rc = c.err;
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	if (json) {
		printf("%s", c.last == 0 ? "[]\n" : "\n]\n");
		return 0;
	}
	h = ut_hex(c.head, 32);
	printf("head: #%llu sha256 %s\n", (unsigned long long)c.last, h ? h : "?");
	free(h);
	return 0;
}

int cli_cmd_audit(int argc, char **argv)
{
	struct opts o;
	ca_store *st = NULL;
	uint64_t n = 0;
	size_t certs = 0, revoked = 0, nck = 0;
	uint64_t newest = 0;
	offca_rc rc;
	int r, verify;

	if (cli_wants_help(argc, argv)) {
		fputs(audit_usage, stdout);
		return 0;
	}
	/* options may come before the subcommand too: offca audit --home DIR verify */
	r = cli_inv_parse("audit", argc, argv, OPT(O_HOME) | OPT(O_JSON), 1, &o);
	if (r != 0)
		return r;
	if (o.npos == 0 || (strcmp(o.pos[0], "verify") != 0 && strcmp(o.pos[0], "show") != 0))
		return cli_usage_error("audit", "expected 'verify' or 'show'%s%s%s", o.npos ? ", not '" : "",
				       o.npos ? o.pos[0] : "", o.npos ? "'" : "");
	verify = strcmp(o.pos[0], "verify") == 0;
	if (verify && o.json)
		return cli_usage_error("audit verify", "option '--json' does not apply to audit verify");
	r = cli_inv_open_store("audit", o.home, &st);
	if (r != 0)
		return r;
	if (!verify) {
		r = audit_show(st, o.json);
		ca_store_free(st);
		return r;
	}
	rc = ca_store_audit_verify(st, &n);
	if (rc == OFFCA_OK)
		rc = ca_store_audit_check_records(st, &certs, &revoked);
	if (rc == OFFCA_OK) /* already checked by the record check; here for the counts */
		rc = ca_store_checkpoint_verify(st, &nck, &newest);
	ca_store_free(st);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("audit log OK: %llu entries\n", (unsigned long long)n);
	printf("records match the log: %zu certificates, %zu revoked\n", certs, revoked);
	if (nck == 0)
		printf("signed checkpoints: none yet (offca sign, offca crl and ceremonies sign the head)\n");
	else
		printf("signed checkpoints: %zu, the newest at entry #%llu\n", nck, (unsigned long long)newest);
	return 0;
}
