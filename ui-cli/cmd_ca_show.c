/* cmd_ca_show.c - offca ca list [--tree] [--json] and offca ca show NAME [--json|--bootstrap]: the
 * issuers, what trusts what, and what a remote site needs to pin a CA (docs/ca.md). */
#include "cli.h"
#include "cli_session.h"
#include "inventory.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

/* What is printed of one issuer: its record (from its certificate) and its constraints. */
struct iss_info {
	const ca_issuer *iss;
	ca_cert_record rec;
	X509 *x;
	long path_len; /* -1: none */
	json_t *permitted, *excluded; /* name constraints as "DNS:example.com" strings */
	int is_default;
};

static void info_clear(struct iss_info *in)
{
	ca_cert_record_clear(&in->rec);
	X509_free(in->x);
	json_decref(in->permitted);
	json_decref(in->excluded);
	memset(in, 0, sizeof(*in));
}

static void subtrees(STACK_OF(GENERAL_SUBTREE) *st, json_t *out)
{
	for (int i = 0; i < sk_GENERAL_SUBTREE_num(st); i++) {
		GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(st, i)->base;
		const ASN1_STRING *v = NULL;
		const char *type = "other";
		char buf[300];

		if (g->type == GEN_DNS) {
			v = g->d.dNSName;
			type = "DNS";
		} else if (g->type == GEN_EMAIL) {
			v = g->d.rfc822Name;
			type = "email";
		} else if (g->type == GEN_URI) {
			v = g->d.uniformResourceIdentifier;
			type = "URI";
		}
		if (v != NULL)
			snprintf(buf, sizeof(buf), "%s:%.*s", type, ASN1_STRING_length(v), (const char *)ASN1_STRING_get0_data(v));
		else
			snprintf(buf, sizeof(buf), "%s", g->type == GEN_IPADD ? "IP:(range)" : "(other name form)");
		json_array_append_new(out, json_string(buf));
	}
}

static offca_rc info_load(const ca_issuer *iss, const char *def, struct iss_info *in)
{
	NAME_CONSTRAINTS *nc;
	offca_rc rc;

	memset(in, 0, sizeof(*in));
	in->iss = iss;
	in->is_default = def != NULL && strcmp(def, iss->name) == 0;
	if ((rc = ca_cert_record_from_der(iss->der, iss->der_len, iss->parent, iss->is_root ? "root" : "intermediate",
					  "", &in->rec)) != OFFCA_OK ||
	    (rc = ca_x509_from_der(iss->der, iss->der_len, &in->x)) != OFFCA_OK)
		return rc;
	in->path_len = X509_get_pathlen(in->x);
	in->permitted = json_array();
	in->excluded = json_array();
	if (in->permitted == NULL || in->excluded == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	nc = X509_get_ext_d2i(in->x, NID_name_constraints, NULL, NULL);
	if (nc != NULL) {
		subtrees(nc->permittedSubtrees, in->permitted);
		subtrees(nc->excludedSubtrees, in->excluded);
		NAME_CONSTRAINTS_free(nc);
	}
	return OFFCA_OK;
}

/* docs/json.md's issuer object. */
static json_t *info_json(const struct iss_info *in, int64_t now)
{
	char hex[2 * CA_SERIAL_LEN + 1], nb[32], na[32], *fp = ut_hex_colon(in->rec.sha256, 32);
	json_t *j;

	cli_fmt_time(in->rec.not_before, nb, sizeof(nb));
	cli_fmt_time(in->rec.not_after, na, sizeof(na));
	j = fp == NULL ? NULL
		       : json_pack("{s:s,s:s,s:b,s:b,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:O,s:O}", "name", in->iss->name,
				   "parent", in->iss->parent, "root", in->iss->is_root, "default", in->is_default, "subject",
				   in->rec.subject ? in->rec.subject : "", "serial", ca_serial_hex(&in->rec.serial, hex, sizeof(hex)),
				   "sha256", fp, "notBefore", nb, "notAfter", na, "daysLeft",
				   (json_int_t)cli_inv_days_left(&in->rec, now), "keyUri", in->iss->key_uri,
				   "pathLen", in->path_len >= 0 ? json_integer(in->path_len) : json_null(), "permitted",
				   in->permitted, "excluded", in->excluded);
	free(fp);
	return j;
}

static void print_constraints(const struct iss_info *in)
{
	size_t i;
	json_t *v;

	printf("constraints: CA:TRUE");
	if (in->path_len >= 0)
		printf(", pathLen %ld", in->path_len);
	json_array_foreach(in->permitted, i, v)
		printf("%s%s", i == 0 ? "; permitted " : ", ", json_string_value(v));
	json_array_foreach(in->excluded, i, v)
		printf("%s%s", i == 0 ? "; excluded " : ", ", json_string_value(v));
	printf("\n");
}

static int info_print(const struct iss_info *in, int64_t now)
{
	char hex[2 * CA_SERIAL_LEN + 1], t[32], *fp = ut_hex_colon(in->rec.sha256, 32);

	if (fp == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	printf("name:        %s%s\n", in->iss->name, in->is_default ? " (default issuer of offca sign)" : "");
	printf("parent:      %s\n", in->iss->parent[0] ? in->iss->parent : "(self: a root)");
	printf("subject:     %s\n", in->rec.subject ? in->rec.subject : "");
	printf("serial:      %s\n", ca_serial_hex(&in->rec.serial, hex, sizeof(hex)));
	printf("sha256:      %s\n", fp);
	cli_fmt_time(in->rec.not_before, t, sizeof(t));
	printf("notBefore:   %s\n", t);
	cli_fmt_time(in->rec.not_after, t, sizeof(t));
	printf("notAfter:    %s (%ld days left)\n", t, cli_inv_days_left(&in->rec, now));
	printf("key:         %s\n", in->iss->key_uri[0] ? in->iss->key_uri : "(elsewhere: made from a CSR, cannot sign here)");
	print_constraints(in);
	free(fp);
	return 0;
}

/* ---- ca show ---- */

/* What `step ca bootstrap --fingerprint` and `offca-agent enroll --root-sha256` take: the SHA-256
   of the DER in lower-case hex without colons, then the certificate in PEM. */
static int print_bootstrap(const struct iss_info *in, int json)
{
	char fp[65], *pem = NULL;
	size_t plen = 0;
	offca_rc rc = ca_x509_der_to_pem(in->iss->der, in->iss->der_len, &pem, &plen);
	int r;

	if (rc != OFFCA_OK)
		return cli_fail(rc);
	for (size_t i = 0; i < 32; i++)
		snprintf(fp + 2 * i, 3, "%02x", in->rec.sha256[i]);
	if (json) {
		r = cli_json_print(json_pack("{s:s,s:s,s:s#}", "name", in->iss->name, "fingerprint", fp, "pem", pem, (int)plen));
	} else {
		printf("fingerprint: %s\n%.*s", fp, (int)plen, pem);
		r = 0;
	}
	free(pem);
	return r;
}

static int run_show(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_issuer iss;
	struct iss_info in;
	char def[64] = "";
	offca_rc rc;
	int r;

	(void)cmd;
	memset(&iss, 0, sizeof(iss));
	memset(&in, 0, sizeof(in));
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK &&
	    (rc = ca_store_issuer_get(s.st, a->pos[0], &iss)) == OFFCA_E_NOT_FOUND)
		rc = ut_err(rc, "no issuer named '%s' (offca ca list shows them)", a->pos[0]);
	if (rc == OFFCA_OK && ca_sign_default_issuer(s.st, def) != OFFCA_OK) {
		def[0] = '\0';
		ut_err_clear();
	}
	if (rc == OFFCA_OK)
		rc = info_load(&iss, def, &in);
	cli_session_close(&s);
	if (rc != OFFCA_OK)
		r = cli_fail(rc);
	else if (cli_flag(a, "bootstrap"))
		r = print_bootstrap(&in, cli_flag(a, "json"));
	else if (cli_flag(a, "json"))
		r = cli_json_print(info_json(&in, (int64_t)time(NULL)));
	else
		r = info_print(&in, (int64_t)time(NULL));
	info_clear(&in);
	ca_issuer_clear(&iss);
	return r;
}

static const cli_opt show_opts[] = {
	CLI_O("bootstrap", CLI_FLAG, NULL, "the SHA-256 fingerprint (hex, as step ca bootstrap --fingerprint and "
	      "offca-agent --root-sha256 take it) and the certificate in PEM"),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_ca_show_cmd = {
	.name = "ca show",
	.summary = "one issuer: subject, serial, SHA-256 fingerprint, validity, key URI, constraints",
	.operands = "NAME",
	.min_pos = 1,
	.max_pos = 1,
	.opts = show_opts,
	.details = "NAME is the issuer's name (offca ca list). --bootstrap prints what a remote site needs to pin\n"
		   "this CA: 'fingerprint: HEX' then the PEM (with --json: name, fingerprint, pem).\n",
	.run = run_show,
};

/* ---- ca list ---- */

struct counts {
	const char *name;
	size_t valid, revoked, expired;
};

struct tally {
	struct counts *c;
	size_t n;
	int64_t now;
};

/* Count each issuer's end-entity certificates by status (one pass over the records). */
static int tally_cb(void *arg, const ca_cert_record *r)
{
	struct tally *t = arg;

	if (strcmp(r->profile, "root") == 0 || strcmp(r->profile, "intermediate") == 0)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->c[i].name, r->issuer) != 0)
			continue;
		if (r->status == CA_CERT_REVOKED)
			t->c[i].revoked++;
		else if (r->not_after < t->now)
			t->c[i].expired++;
		else
			t->c[i].valid++;
	}
	return 0;
}

struct listing {
	struct iss_info *in;
	size_t n;
	struct tally t;
	int json, tree;
	int64_t now;
};

static void print_row(const struct iss_info *in, int depth, const struct counts *c)
{
	char na[32];

	cli_fmt_time(in->rec.not_after, na, sizeof(na));
	printf("%-3s %*s%-*s %-12s %-22s %s\n", in->is_default ? "*" : "", 2 * depth, "", 20 - 2 * depth, in->iss->name,
	       in->iss->parent[0] ? in->iss->parent : "(self)", na, in->rec.subject ? in->rec.subject : "");
	printf("    %*s%s\n", 2 * depth, "", in->iss->key_uri[0] ? in->iss->key_uri : "(key elsewhere)");
	if (c == NULL)
		return;
	printf("    %*s", 2 * depth, "");
	print_constraints(in);
	printf("    %*sleaves: %zu valid, %zu revoked, %zu expired\n", 2 * depth, "", c->valid, c->revoked, c->expired);
}

static json_t *tree_json(const struct listing *l, size_t at, int depth);

/* Print (or return as JSON) issuer at and, for --tree, the issuers it signed under it. */
static json_t *tree_node(const struct listing *l, size_t at, int depth)
{
	json_t *j = NULL, *kids = NULL;

	if (l->json) {
		j = info_json(&l->in[at], l->now);
		kids = tree_json(l, at, depth);
		if (j == NULL || kids == NULL) {
			json_decref(j);
			json_decref(kids);
			return NULL;
		}
		json_object_set_new(j, "leaves", json_pack("{s:I,s:I,s:I}", "valid", (json_int_t)l->t.c[at].valid, "revoked",
							    (json_int_t)l->t.c[at].revoked, "expired",
							    (json_int_t)l->t.c[at].expired));
		json_object_set_new(j, "children", kids);
		return j;
	}
	print_row(&l->in[at], depth, &l->t.c[at]);
	json_decref(tree_json(l, at, depth));
	return json_null();
}

/* The issuers whose parent is issuer at, each with its own subtree (depth bounded by the store). */
static json_t *tree_json(const struct listing *l, size_t at, int depth)
{
	json_t *arr = json_array(), *k;

	for (size_t i = 0; arr != NULL && depth < 16 && i < l->n; i++) {
		if (i == at || strcmp(l->in[i].iss->parent, l->in[at].iss->name) != 0)
			continue;
		if ((k = tree_node(l, i, depth + 1)) == NULL) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, k);
	}
	return arr;
}

static int print_listing(const struct listing *l)
{
	json_t *all = l->json ? json_array() : NULL, *k;

	if (!l->json)
		printf("%-3s %-20s %-12s %-22s %s\n", "", "NAME", "PARENT", "NOT AFTER", "SUBJECT / KEY");
	for (size_t i = 0; i < l->n; i++) {
		if (l->tree && !l->in[i].iss->is_root)
			continue;
		if (l->tree)
			k = tree_node(l, i, 0);
		else if (l->json)
			k = info_json(&l->in[i], l->now);
		else {
			print_row(&l->in[i], 0, NULL);
			continue;
		}
		if (k == NULL) {
			json_decref(all);
			return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
		}
		if (l->json)
			json_array_append_new(all, k);
		else
			json_decref(k);
	}
	if (l->json)
		return cli_json_print(all);
	if (l->n == 0)
		printf("(no issuers yet: offca ca root --key URI --subject DN --days N)\n");
	return 0;
}

static offca_rc load_listing(ca_store *st, ca_issuer *list, size_t n, struct listing *l)
{
	char def[64] = "";
	offca_rc rc = OFFCA_OK;

	if (ca_sign_default_issuer(st, def) != OFFCA_OK)
		def[0] = '\0';
	ut_err_clear();
	l->in = calloc(n + 1, sizeof(*l->in));
	l->t.c = calloc(n + 1, sizeof(*l->t.c));
	l->t.n = n;
	l->t.now = l->now;
	if (l->in == NULL || l->t.c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++, l->n++) {
		rc = info_load(&list[i], def, &l->in[i]);
		l->t.c[i].name = list[i].name;
	}
	if (rc == OFFCA_OK && l->tree)
		rc = ca_store_cert_each(st, NULL, 0, 0, tally_cb, &l->t);
	return rc;
}

static int run_list(const cli_cmd *cmd, cli_args *a)
{
	cli_session s;
	ca_issuer *list = NULL;
	struct listing l;
	size_t n = 0;
	offca_rc rc;
	int r;

	(void)cmd;
	memset(&l, 0, sizeof(l));
	l.json = cli_flag(a, "json");
	l.tree = cli_flag(a, "tree");
	l.now = (int64_t)time(NULL);
	if ((rc = cli_session_open(&s, a, CLI_S_STORE_RO, NULL)) == OFFCA_OK &&
	    (rc = ca_store_issuer_list(s.st, &list, &n)) == OFFCA_OK)
		rc = load_listing(s.st, list, n, &l);
	cli_session_close(&s);
	r = rc == OFFCA_OK ? print_listing(&l) : cli_fail(rc);
	for (size_t i = 0; i < l.n; i++)
		info_clear(&l.in[i]);
	free(l.in);
	free(l.t.c);
	ca_issuer_list_free(list, n);
	return r;
}

static const cli_opt list_opts[] = {
	CLI_O("tree", CLI_FLAG, NULL, "what trusts what: each root with the intermediates under it, their name "
	      "constraints and counts of valid, revoked and expired leaves"),
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_END};

const cli_cmd cli_ca_list_cmd = {
	.name = "ca list",
	.summary = "issuers with their parent, subject, validity (ISO 8601 UTC) and key URI; * marks the default",
	.opts = list_opts,
	.max_pos = 0,
	.run = run_list,
};
