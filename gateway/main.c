/*
 * main.c - offca-gateway: the online EST server (RFC 7030) and the queue that crosses the air gap.
 * Parses the command line, dispatches, prints the one-line error and picks the exit code
 * (docs/exit-codes.md: the same codes as offca). It never holds a CA key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "gw.h"
#include "offca/bundle.h"
#include "offca/util.h"

static const char usage[] =
	"usage: offca-gateway serve --state DIR --listen ADDR:PORT --tls-cert F --tls-key F --ca-chain F\n"
	"                           [--retry-after SECONDS] [--rate REQ_PER_S] [--max-connections N]\n"
	"       offca-gateway token new --state DIR --san NAME... --profile client|server|mtls --ttl DURATION\n"
	"                               [--out FILE | --count N --out-dir DIR]\n"
	"       offca-gateway token list --state DIR [--json]\n"
	"       offca-gateway token revoke --state DIR ID\n"
	"       offca-gateway --help | --version\n"
	"       offca-gateway queue list --state DIR [--json]\n"
	"       offca-gateway queue export --state DIR --out FILE --sign-key-file KEY --signer-cert CERT\n"
	"                                  [--pin-file F] [--all]\n"
	"       offca-gateway queue import --state DIR [--ca-chain F] FILE\n"
	"       offca-gateway relay push --url URL --client-cert F --client-key F [--cacert F] [--ca-chain F] FILE...\n"
	"See docs/gateway.md.\n";

enum {
	O_STATE = 256, O_LISTEN, O_TLS_CERT, O_TLS_KEY, O_CA_CHAIN, O_RETRY, O_RATE, O_MAXCONN, O_SAN, O_PROFILE,
	O_TTL, O_OUT, O_JSON, O_KEY, O_CERT, O_PIN, O_ALL, O_HELP, O_COUNT, O_OUT_DIR,
};

static const struct option longopts[] = {
	{"state", required_argument, NULL, O_STATE},      {"listen", required_argument, NULL, O_LISTEN},
	{"tls-cert", required_argument, NULL, O_TLS_CERT}, {"tls-key", required_argument, NULL, O_TLS_KEY},
	{"ca-chain", required_argument, NULL, O_CA_CHAIN}, {"retry-after", required_argument, NULL, O_RETRY},
	{"rate", required_argument, NULL, O_RATE},         {"max-connections", required_argument, NULL, O_MAXCONN},
	{"san", required_argument, NULL, O_SAN},           {"profile", required_argument, NULL, O_PROFILE},
	{"ttl", required_argument, NULL, O_TTL},           {"out", required_argument, NULL, O_OUT},
	{"json", no_argument, NULL, O_JSON},               {"sign-key-file", required_argument, NULL, O_KEY},
	{"signer-cert", required_argument, NULL, O_CERT},  {"pin-file", required_argument, NULL, O_PIN},
	{"all", no_argument, NULL, O_ALL},                 {"help", no_argument, NULL, O_HELP},
	{"count", required_argument, NULL, O_COUNT},       {"out-dir", required_argument, NULL, O_OUT_DIR},
	{NULL, 0, NULL, 0},
};

typedef struct opts {
	const char *state, *listen, *tls_cert, *tls_key, *ca_chain, *profile, *ttl, *out, *key, *cert, *pin, *out_dir;
	unsigned count;
	const char *sans[GW_MAX_SANS];
	size_t n_sans;
	unsigned retry_after, max_conn;
	double rate;
	int json, all, help;
} opts;

static offca_rc num_arg(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end = NULL;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || d < lo || d > hi)
		return ut_err(OFFCA_E_USAGE, "--%s '%s': a number from %g to %g", name, v, lo, hi);
	*out = d;
	return OFFCA_OK;
}

static offca_rc parse(int argc, char **argv, opts *o)
{
	int c;
	double d;
	offca_rc rc = OFFCA_OK;

	o->retry_after = 60;
	o->rate = 20;
	o->max_conn = 256;
	opterr = 0;
	while (rc == OFFCA_OK && (c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case O_STATE: o->state = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_TLS_CERT: o->tls_cert = optarg; break;
		case O_TLS_KEY: o->tls_key = optarg; break;
		case O_CA_CHAIN: o->ca_chain = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_TTL: o->ttl = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_CERT: o->cert = optarg; break;
		case O_PIN: o->pin = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_ALL: o->all = 1; break;
		case O_HELP: o->help = 1; break;
		case O_OUT_DIR: o->out_dir = optarg; break;
		case O_COUNT:
			if ((rc = num_arg("count", optarg, 1, 100000, &d)) == OFFCA_OK)
				o->count = (unsigned)d;
			break;
		case O_SAN:
			if (o->n_sans >= GW_MAX_SANS)
				return ut_err(OFFCA_E_USAGE, "at most %u --san", GW_MAX_SANS);
			o->sans[o->n_sans++] = optarg;
			/* --san a b c: the words after it until the next option */
			while (optind < argc && argv[optind][0] != '-' && o->n_sans < GW_MAX_SANS)
				o->sans[o->n_sans++] = argv[optind++];
			break;
		case O_RETRY:
			if ((rc = num_arg("retry-after", optarg, 1, 86400, &d)) == OFFCA_OK)
				o->retry_after = (unsigned)d;
			break;
		case O_RATE:
			if ((rc = num_arg("rate", optarg, 0, 1e6, &d)) == OFFCA_OK)
				o->rate = d;
			break;
		case O_MAXCONN:
			if ((rc = num_arg("max-connections", optarg, 1, 65536, &d)) == OFFCA_OK)
				o->max_conn = (unsigned)d;
			break;
		default:
			return ut_err(OFFCA_E_USAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (rc == OFFCA_OK && o->state == NULL && !o->help)
		rc = ut_err(OFFCA_E_USAGE, "--state DIR is required");
	return rc;
}

static offca_rc need(const char *v, const char *what)
{
	return v != NULL ? OFFCA_OK : ut_err(OFFCA_E_USAGE, "%s is required", what);
}

static offca_rc load_chain(const opts *o, STACK_OF(X509) **chain)
{
	char path[4096];
	const char *p = o->ca_chain;
	offca_rc rc;

	if (p == NULL) {
		snprintf(path, sizeof(path), "%s/ca-chain.pem", o->state);
		p = path;
	}
	rc = xfr_certs_load(p, chain);
	if (rc != OFFCA_OK)
		return ut_err(rc, "CA chain %s: %s", p, ut_err_msg());
	for (int i = 0; i < sk_X509_num(*chain); i++)
		if (X509_check_issued(sk_X509_value(*chain, i), sk_X509_value(*chain, i)) == X509_V_OK)
			return OFFCA_OK;
	sk_X509_pop_free(*chain, X509_free);
	*chain = NULL;
	return ut_err(OFFCA_E_USAGE, "CA chain %s holds no root (self-signed) certificate to pin", p);
}

/* keep a copy of the pinned chain in the state (queue import's default) */
static offca_rc pin_chain(const opts *o)
{
	char path[4096];
	unsigned char *buf = NULL;
	size_t n = 0;
	offca_rc rc;

	snprintf(path, sizeof(path), "%s/ca-chain.pem", o->state);
	if ((rc = ut_read_file(o->ca_chain, 1u << 20, 0, &buf, &n)) != OFFCA_OK)
		return rc;
	rc = ut_write_file(path, buf, n, 0);
	free(buf);
	return rc;
}

static offca_rc cmd_serve(const opts *o)
{
	gw_ctx c = {0};
	gw_serve_opts so = {o->listen, o->tls_cert, o->tls_key, o->rate, o->max_conn};
	offca_rc rc;

	if ((rc = need(o->listen, "--listen ADDR:PORT")) != OFFCA_OK || (rc = need(o->tls_cert, "--tls-cert")) != OFFCA_OK ||
	    (rc = need(o->tls_key, "--tls-key")) != OFFCA_OK || (rc = need(o->ca_chain, "--ca-chain")) != OFFCA_OK)
		return rc;
	c.retry_after = o->retry_after;
	if ((rc = load_chain(o, &c.chain)) != OFFCA_OK)
		return rc;
	if ((rc = gw_state_open(o->state, 1, &c.st)) == OFFCA_OK && (rc = pin_chain(o)) == OFFCA_OK &&
	    (rc = est_p7_encode(c.chain, &c.cacerts_b64, &c.cacerts_len)) == OFFCA_OK)
		rc = gw_serve(&c, &so);
	free(c.cacerts_b64);
	sk_X509_pop_free(c.chain, X509_free);
	gw_state_free(c.st);
	return rc;
}

/*
 * --count N --out-dir DIR: N tokens for a fleet, made in ONE transaction (one fsync), then written
 * as DIR/token-NNNNNN (0600, never overwritten). If a file cannot be written, the tokens not
 * written are revoked (their secrets are gone with this process).
 */
static offca_rc token_batch(gw_state *st, const opts *o, gw_token_opts *t)
{
	char (*ids)[GW_TOKEN_ID_LEN + 1] = NULL, (*secrets)[64] = NULL, line[GW_TOKEN_ID_LEN + 66], path[4096];
	MDB_txn *txn = NULL;
	unsigned made = 0, written = 0;
	offca_rc rc;

	if (o->out_dir == NULL)
		return ut_err(OFFCA_E_USAGE, "--count N needs --out-dir DIR");
	if ((rc = ut_mkdir_p(o->out_dir, 0700)) != OFFCA_OK)
		return rc;
	for (unsigned i = 1; i <= o->count; i++) {
		snprintf(path, sizeof(path), "%s/token-%06u", o->out_dir, i);
		if (ut_path_exists(path) == OFFCA_OK)
			return ut_err(OFFCA_E_EXISTS, "%s exists (never overwritten)", path);
	}
	ids = calloc(o->count, sizeof(*ids));
	secrets = calloc(o->count, sizeof(*secrets));
	if (ids == NULL || secrets == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(t->sans, o->sans, sizeof(t->sans));
	t->n_sans = o->n_sans;
	t->profile = o->profile;
	if ((rc = gw_txn_begin(st, &txn)) != OFFCA_OK)
		goto out;
	for (; made < o->count && rc == OFFCA_OK; made++)
		rc = gw_token_new(st, txn, t, ids[made], secrets[made], sizeof(secrets[made]));
	if (rc != OFFCA_OK) {
		mdb_txn_abort(txn);
		goto out;
	}
	if ((rc = gw_txn_commit(txn)) != OFFCA_OK)
		goto out;
	for (; written < o->count && rc == OFFCA_OK; written++) {
		snprintf(path, sizeof(path), "%s/token-%06u", o->out_dir, written + 1);
		snprintf(line, sizeof(line), "%s:%s\n", ids[written], secrets[written]);
		rc = ut_write_file(path, line, strlen(line), UT_WF_EXCL | UT_WF_SECRET);
		OPENSSL_cleanse(line, sizeof(line));
	}
	if (rc != OFFCA_OK) {
		offca_rc wrc = rc;
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		for (unsigned i = written - 1; i < o->count; i++)
			gw_token_revoke(st, ids[i]);
		rc = ut_err(wrc, "%s (%u token files written; the other tokens are revoked)", msg, written - 1);
		goto out;
	}
	printf("%u tokens written to %s\n", o->count, o->out_dir);
out:
	if (secrets != NULL)
		OPENSSL_cleanse(secrets, (size_t)o->count * sizeof(*secrets));
	free(secrets);
	free(ids);
	return rc;
}

static offca_rc cmd_token_new(gw_state *st, const opts *o)
{
	gw_token_opts t = {0};
	char id[GW_TOKEN_ID_LEN + 1], secret[64], line[GW_TOKEN_ID_LEN + 66];
	offca_rc rc;

	if ((rc = need(o->profile, "--profile client|server|mtls")) != OFFCA_OK || (rc = need(o->ttl, "--ttl DURATION")) != OFFCA_OK)
		return rc;
	if ((rc = gw_duration_parse(o->ttl, &t.ttl)) != OFFCA_OK)
		return rc;
	if (o->count > 0)
		return token_batch(st, o, &t);
	if (o->out != NULL && ut_path_exists(o->out) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists (never overwritten)", o->out);
	memcpy(t.sans, o->sans, sizeof(t.sans));
	t.n_sans = o->n_sans;
	t.profile = o->profile;
	if ((rc = gw_token_new(st, NULL, &t, id, secret, sizeof(secret))) != OFFCA_OK)
		return rc;
	snprintf(line, sizeof(line), "%s:%s\n", id, secret);
	if (o->out != NULL) {
		rc = ut_write_file(o->out, line, strlen(line), UT_WF_EXCL | UT_WF_SECRET);
		if (rc == OFFCA_OK)
			printf("token %s written to %s (the secret is shown nowhere else)\n", id, o->out);
		else
			gw_token_revoke(st, id);
	} else {
		fputs(line, stdout);
		fprintf(stderr, "token %s: the line above (ID:SECRET) is shown once; give it to the endpoint as its "
			"--token-file\n", id);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

static void iso(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int print_token(void *arg, const char *key, json_t *t)
{
	const opts *o = arg;
	char exp[32], *names;
	json_t *out;

	json_object_del(t, "hash");
	if (o->json) {
		out = json_pack("{s:s,s:O}", "id", key, "token", t);
		names = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", names ? names : "{}");
		free(names);
		json_decref(out);
		return 0;
	}
	iso(json_integer_value(json_object_get(t, "expires")), exp, sizeof(exp));
	names = json_dumps(json_object_get(t, "sans"), JSON_COMPACT);
	printf("%s  %-7s  %-6s  expires %s  %s\n", key, json_string_value(json_object_get(t, "state")),
	       json_string_value(json_object_get(t, "profile")), exp, names ? names : "");
	free(names);
	return 0;
}

static int print_request(void *arg, const char *key, json_t *q)
{
	const opts *o = arg;
	char when[32], *s;
	const char *kind = json_string_value(json_object_get(q, "kind"));

	json_object_del(q, "csr");
	json_object_del(q, "p7");
	if (o->json) {
		s = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", s ? s : "{}");
		free(s);
		return 0;
	}
	iso(json_integer_value(json_object_get(q, "received")), when, sizeof(when));
	printf("%s  %-8s  %-6s %s=%s  profile %s  received %s  %s\n", key, json_string_value(json_object_get(q, "state")),
	       kind, kind && strcmp(kind, "renew") == 0 ? "serial" : "token",
	       json_string_value(json_object_get(q, kind && strcmp(kind, "renew") == 0 ? "serial" : "token")),
	       json_string_value(json_object_get(q, "profile")), when, json_string_value(json_object_get(q, "sans")));
	return 0;
}

static offca_rc cmd_state(const opts *o, const char *group, const char *verb, int argc, char **argv)
{
	gw_state *st = NULL;
	STACK_OF(X509) *chain = NULL;
	size_t n = 0, m = 0;
	offca_rc rc = gw_state_open(o->state, 0, &st);

	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(group, "token") == 0 && strcmp(verb, "new") == 0)
		rc = cmd_token_new(st, o);
	else if (strcmp(group, "token") == 0 && strcmp(verb, "list") == 0)
		rc = gw_each(st, GW_DB_TOKENS, print_token, (void *)o);
	else if (strcmp(group, "token") == 0 && strcmp(verb, "revoke") == 0) {
		if (optind >= argc)
			rc = ut_err(OFFCA_E_USAGE, "token revoke needs the token ID");
		else if ((rc = gw_token_revoke(st, argv[optind])) == OFFCA_OK)
			printf("token %s revoked\n", argv[optind]);
	} else if (strcmp(group, "queue") == 0 && strcmp(verb, "list") == 0)
		rc = gw_each(st, GW_DB_QUEUE, print_request, (void *)o);
	else if (strcmp(group, "queue") == 0 && strcmp(verb, "export") == 0) {
		gw_export_opts e = {o->out, o->key, o->cert, o->pin, o->all};

		if ((rc = need(o->out, "--out FILE")) == OFFCA_OK && (rc = need(o->key, "--sign-key-file KEY")) == OFFCA_OK &&
		    (rc = need(o->cert, "--signer-cert CERT")) == OFFCA_OK && (rc = gw_queue_export(st, &e, &n)) == OFFCA_OK)
			printf("exported %zu requests to %s\n", n, o->out);
	} else if (strcmp(group, "queue") == 0 && strcmp(verb, "import") == 0) {
		if (optind >= argc)
			rc = ut_err(OFFCA_E_USAGE, "queue import needs the bundle FILE");
		else if ((rc = load_chain(o, &chain)) == OFFCA_OK &&
			 (rc = gw_queue_import(st, chain, argv[optind], &n, &m)) == OFFCA_OK)
			printf("imported %zu certificates for waiting requests, %zu CRLs\n", n, m);
	} else
		rc = ut_err(OFFCA_E_USAGE, "unknown command '%s %s'", group, verb);
	sk_X509_pop_free(chain, X509_free);
	gw_state_free(st);
	return rc;
}

int main(int argc, char **argv)
{
	opts o = {0};
	const char *cmd = argc > 1 ? argv[1] : NULL, *verb = NULL;
	int shift = 2;
	offca_rc rc;

	ut_harden_process();
	if (cmd == NULL || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? 2 : 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("offca-gateway %s\n", OFFCA_VERSION);
		return 0;
	}
	if (strcmp(cmd, "relay") == 0)
		return gw_relay_main(argc - 1, argv + 1); /* gw_relay.c: options of its own */
	if (strcmp(cmd, "token") == 0 || strcmp(cmd, "queue") == 0) {
		verb = argc > 2 ? argv[2] : "";
		shift = 3;
	}
	rc = parse(argc - shift + 1, argv + shift - 1, &o);
	if (rc == OFFCA_OK && o.help) {
		fputs(usage, stdout);
		return 0;
	}
	optind += shift - 1;
	if (rc == OFFCA_OK) {
		if (strcmp(cmd, "serve") == 0)
			rc = cmd_serve(&o);
		else if (verb != NULL)
			rc = cmd_state(&o, cmd, verb, argc, argv);
		else
			rc = ut_err(OFFCA_E_USAGE, "unknown command '%s' (serve, token, queue)", cmd);
	}
	if (rc != OFFCA_OK) {
		fprintf(stderr, "offca-gateway: %s\n", ut_err_msg());
		return ut_exit_code(rc);
	}
	return 0;
}
