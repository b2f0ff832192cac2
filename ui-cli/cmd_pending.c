/* cmd_pending.c - offca pending list|show|drop: the CSRs waiting to be signed. */
#include "cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

static int parse_id(const char *s, uint64_t *id)
{
	char *e;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &e, 10);
	if (*e != '\0')
		return -1;
	*id = v;
	return 0;
}

static X509_REQ *pending_req(const ca_pending *p)
{
	const unsigned char *d = p->der;

	return d2i_X509_REQ(NULL, &d, (long)p->len);
}

static void print_pending_line(const ca_pending *p)
{
	char when[32];
	X509_REQ *req = pending_req(p);

	cli_fmt_time(p->received, when, sizeof(when));
	printf("%-6llu %s  %-40s  ", (unsigned long long)p->id, when, p->source);
	if (req != NULL)
		cli_print_name(stdout, X509_REQ_get_subject_name(req));
	else
		fputs("(unparsable request)", stdout);
	putchar('\n');
	X509_REQ_free(req);
	ERR_clear_error();
}

/* "IP:10.0.0.1" / "IP:fd00::1" from a 4- or 16-byte address; 0 if it is neither. */
static int ip_text(const ASN1_OCTET_STRING *ip, char *buf, size_t cap)
{
	char txt[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(ip);

	if ((len != 4 && len != 16) ||
	    inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), txt, sizeof(txt)) == NULL)
		return 0;
	snprintf(buf, cap, "IP:%s", txt);
	return 1;
}

/* The request's SANs as "DNS:a.example" strings (none when it asks for none). */
static json_t *req_sans(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = req ? X509_REQ_get_extensions(req) : NULL;
	GENERAL_NAMES *gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
	json_t *arr = json_array();

	for (int i = 0; arr != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = g->type == GEN_DNS ? g->d.dNSName : g->type == GEN_EMAIL ? g->d.rfc822Name
								       : g->type == GEN_URI ? g->d.uniformResourceIdentifier : NULL;
		char buf[1100];

		if (v != NULL)
			snprintf(buf, sizeof(buf), "%s:%.*s", g->type == GEN_DNS ? "DNS" : g->type == GEN_EMAIL ? "email" : "URI",
				 ASN1_STRING_length(v), (const char *)ASN1_STRING_get0_data(v));
		else if (g->type != GEN_IPADD || !ip_text(g->d.iPAddress, buf, sizeof(buf)))
			continue;
		json_array_append_new(arr, json_string(buf));
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return arr;
}

/* docs/json.md's pending object (with the request's PEM for show). NULL: out of memory. */
static json_t *pending_json(const ca_pending *p, int with_pem)
{
	X509_REQ *req = pending_req(p);
	char when[32], subj[1024] = "", *pem = NULL;
	BIO *b = with_pem ? BIO_new(BIO_s_mem()) : NULL;
	json_t *j;
	long n;

	cli_fmt_time(p->received, when, sizeof(when));
	if (req != NULL)
		(void)ca_x509_name_text(X509_REQ_get_subject_name(req), subj, sizeof(subj));
	j = json_pack("{s:I,s:s,s:s,s:s,s:o}", "id", (json_int_t)p->id, "received", when, "source", p->source, "subject",
		      subj, "sans", req_sans(req));
	if (j != NULL && b != NULL && req != NULL && PEM_write_bio_X509_REQ(b, req) == 1 && (n = BIO_get_mem_data(b, &pem)) > 0)
		json_object_set_new(j, "pem", json_stringn(pem, (size_t)n));
	BIO_free(b);
	X509_REQ_free(req);
	return j;
}

static offca_rc pending_print_json(json_t *j)
{
	return cli_json_print(j) == 0 ? OFFCA_OK : OFFCA_E_NOMEM;
}

static offca_rc pending_show(ca_store *st, uint64_t id, int json)
{
	offca_rc rc;
	ca_pending p;
	X509_REQ *req = NULL;
	BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);

	memset(&p, 0, sizeof(p));
	rc = ca_store_pending_get(st, id, &p);
	if (rc == OFFCA_OK && out == NULL)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	if (rc == OFFCA_OK && json) {
		rc = pending_print_json(pending_json(&p, 1));
	} else if (rc == OFFCA_OK) {
		print_pending_line(&p);
		req = pending_req(&p);
		if (req == NULL) {
			rc = ut_err_ssl(OFFCA_E_STORE, "pending #%llu does not parse", (unsigned long long)id);
		} else {
			fflush(stdout);
			X509_REQ_print_ex(out, req, XN_FLAG_ONELINE, X509_FLAG_NO_SIGDUMP);
			PEM_write_bio_X509_REQ(out, req);
		}
	}
	BIO_free(out);
	X509_REQ_free(req);
	ca_pending_clear(&p);
	return rc;
}

/* The one operand of show and drop: a pending id. */
static int id_operand(const cli_cmd *cmd, const cli_args *a, uint64_t *id)
{
	if (parse_id(a->pos[0], id) != 0)
		return cli_usage_error(cmd->name, "needs one numeric ID, not '%s'", a->pos[0]);
	return 0;
}

/* list and show open the store writable, as they always did: the first writable open after a
   crash voids a dead run's serial reservations (tests/e2e/store_crash.sh relies on it). */
static int run_list(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_pending *list = NULL;
	size_t n = 0;
	json_t *arr = cli_flag(a, "json") ? json_array() : NULL;
	offca_rc rc;

	(void)cmd;
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RW, NULL)) == OFFCA_OK)
		rc = ca_store_pending_list(s.st, &list, &n);
	cli_session_close(&s);
	if (rc == OFFCA_OK && n == 0 && arr == NULL)
		printf("no pending CSRs\n");
	for (size_t i = 0; rc == OFFCA_OK && i < n; i++) {
		if (arr == NULL)
			print_pending_line(&list[i]);
		else if (json_array_append_new(arr, pending_json(&list[i], 0)) != 0)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	ca_pending_list_free(list, n);
	if (rc != OFFCA_OK) {
		json_decref(arr);
		return cli_fail(rc);
	}
	return arr != NULL ? cli_json_print(arr) : 0;
}

static int run_show(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	uint64_t id = 0;
	offca_rc rc;
	int r;

	if ((r = id_operand(cmd, a, &id)) != 0)
		return r;
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RW, NULL)) == OFFCA_OK)
		rc = pending_show(s.st, id, cli_flag(a, "json"));
	cli_session_close(&s);
	return rc == OFFCA_OK ? 0 : cli_fail(rc);
}

static int run_drop(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	uint64_t id = 0;
	offca_rc rc;
	int r;

	if ((r = id_operand(cmd, a, &id)) != 0)
		return r;
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RW, NULL)) == OFFCA_OK)
		rc = ca_store_pending_remove(s.st, id);
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		return cli_fail(rc);
	printf("dropped pending CSR #%llu\n", (unsigned long long)id);
	return 0;
}

static const cli_opt json_home[] = {CLI_OPT_JSON, CLI_OPT_HOME, CLI_END};
static const cli_opt home_only[] = {CLI_OPT_HOME, CLI_END};

static const cli_cmd list_cmd = {
	.name = "pending list",
	.summary = "the CSRs waiting: id, received, source, subject",
	.opts = json_home,
	.max_pos = 0,
	.run = run_list,
};

static const cli_cmd show_cmd = {
	.name = "pending show",
	.summary = "one waiting CSR: the request and its PEM",
	.operands = "ID",
	.min_pos = 1,
	.max_pos = 1,
	.opts = json_home,
	.run = run_show,
};

static const cli_cmd drop_cmd = {
	.name = "pending drop",
	.summary = "remove a waiting CSR (audited)",
	.operands = "ID",
	.min_pos = 1,
	.max_pos = 1,
	.opts = home_only,
	.run = run_drop,
};

static const cli_cmd *const pending_subs[] = {&list_cmd, &show_cmd, &drop_cmd, NULL};

const cli_cmd cli_pending_cmd = {
	.name = "pending",
	.summary = "list, show or drop CSRs waiting to be signed",
	.details = "CSRs waiting to be signed (filled by 'offca bundle import' and 'offca qr decode', taken by\n"
		   "'offca sign' and ceremony signing sessions).\n",
	.subs = pending_subs,
};
