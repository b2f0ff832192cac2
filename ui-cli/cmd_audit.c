/* cmd_audit.c - offca audit verify|show: the hash-chained audit log (docs/store.md). */
#include "cli.h"
#include "cli_session.h"
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

static int run_show(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	offca_rc rc;
	int r;

	(void)cmd;
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) != OFFCA_OK)
		return cli_fail(rc);
	r = audit_show(s.st, cli_flag(a, "json"));
	cli_session_close(&s);
	return r;
}

static int print_verified(int json, uint64_t n, size_t certs, size_t revoked, size_t nck, uint64_t newest)
{
	if (json)
		return cli_json_print(json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}", "ok", 1, "entries", (json_int_t)n,
						"certificates", (json_int_t)certs, "revoked", (json_int_t)revoked,
						"checkpoints", (json_int_t)nck, "newestCheckpoint", (json_int_t)newest));
	printf("audit log OK: %llu entries\n", (unsigned long long)n);
	printf("records match the log: %zu certificates, %zu revoked\n", certs, revoked);
	if (nck == 0)
		printf("signed checkpoints: none yet (offca sign, offca crl and ceremonies sign the head)\n");
	else
		printf("signed checkpoints: %zu, the newest at entry #%llu\n", nck, (unsigned long long)newest);
	return 0;
}

static int run_verify(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	uint64_t n = 0, newest = 0;
	size_t certs = 0, revoked = 0, nck = 0;
	offca_rc rc;

	(void)cmd;
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK &&
	    (rc = ca_store_audit_verify(s.st, &n)) == OFFCA_OK &&
	    (rc = ca_store_audit_check_records(s.st, &certs, &revoked)) == OFFCA_OK)
		rc = ca_store_checkpoint_verify(s.st, &nck, &newest); /* checked by the record check; here for the counts */
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	return print_verified(cli_flag(a, "json"), n, certs, revoked, nck, newest);
}

static const cli_opt audit_opts[] = {CLI_OPT_JSON, CLI_OPT_HOME, CLI_END};

static const cli_cmd verify_cmd = {
	.name = "audit verify",
	.summary = "recompute every entry's SHA-256 and the chain, then check every certificate record against the "
		   "log (signed, revoked)",
	.opts = audit_opts,
	.details = "Prints 'audit log OK: N entries' or names the first bad entry or record and exits non-zero.\n",
	.run = run_verify,
};

static const cli_cmd show_cmd = {
	.name = "audit show",
	.summary = "print every entry (seq, time, action, detail, hash) and the head hash",
	.opts = audit_opts,
	.details = "Record the head hash outside the CA (ceremony transcript) to detect a rewritten log.\n",
	.run = run_show,
};

static const cli_cmd *const audit_subs[] = {&verify_cmd, &show_cmd, NULL};

const cli_cmd cli_audit_cmd = {
	.name = "audit",
	.summary = "verify or show the hash-chained audit log",
	.details = "The store's append-only, hash-chained audit log (docs/store.md). Options may come before the\n"
		   "subcommand: offca audit --home DIR verify.\n",
	.subs = audit_subs,
};
