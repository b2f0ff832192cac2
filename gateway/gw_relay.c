/*
 * gw_relay.c - offca-gateway relay push (delivery pattern 5, docs/gateway.md): upload relay
 * objects with HTTP PUT (WebDAV) over TLS with a client certificate, libcurl, one connection.
 * Idempotent: each object is first fetched (GET); the same bytes are left alone ("unchanged"), a
 * missing one is created, a different one replaced. The objects come as files named by their
 * endpoint's key hash (offca publish --out-dir) or inside an outbound bundle signed by the CA
 * (offca bundle create --direction out other:...), verified against the pinned --ca-chain.
 * The gateway never sees inside an object: it checks only that it is CMS AuthEnvelopedData.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/cms.h>

#include "gw.h"
#include "offca/bundle.h"
#include "offca/publish.h"
#include "offca/util.h"

static const char relay_usage[] =
	"usage: offca-gateway relay push --url URL --client-cert F --client-key F [--cacert F]\n"
	"                                [--ca-chain F] FILE...\n"
	"\n"
	"Upload relay objects (offca publish) to a WebDAV/HTTPS store with HTTP PUT, authenticated by a\n"
	"client certificate. FILE is an object named by 64 hex digits (the endpoint's key hash) or an\n"
	"outbound bundle signed by the CA whose 'other' items are such objects (verified against the\n"
	"root in --ca-chain F). Each object is compared with the relay's copy first: the same bytes are\n"
	"left alone. Prints one line per change and a summary (created, updated, unchanged); stops at\n"
	"the first refusal with a non-zero exit (what was uploaded before stays, and is idempotent).\n"
	"  --cacert F        the relay's TLS trust (default: the system's)\n";

typedef struct push {
	CURL *c;
	const char *url, *cert, *key, *cacert;
	size_t created, updated, unchanged;
	unsigned char *body;
	size_t len, cap;
	char err[CURL_ERROR_SIZE];
} push;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	push *ps = arg;
	size_t k = sz * n;

	if (ps->len + k > CA_PUB_MAX_OBJ + 1)
		return 0;
	if (ps->len + k > ps->cap) {
		size_t cap = ps->len + k + 4096;
		unsigned char *nb = realloc(ps->body, cap);

		if (nb == NULL)
			return 0;
		ps->body = nb;
		ps->cap = cap;
	}
	memcpy(ps->body + ps->len, p, k);
	ps->len += k;
	return k;
}

typedef struct upload {
	const unsigned char *p;
	size_t left;
} upload;

static size_t on_read(char *buf, size_t sz, size_t n, void *arg)
{
	upload *u = arg;
	size_t k = sz * n < u->left ? sz * n : u->left;

	memcpy(buf, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

/* one request: GET (data NULL) or PUT data; *status the HTTP code */
static offca_rc request(push *ps, const char *url, const unsigned char *data, size_t len, long *status)
{
	upload u = {data, len};
	CURLcode cc;

	ps->len = 0;
	ps->err[0] = '\0';
	curl_easy_setopt(ps->c, CURLOPT_URL, url);
	curl_easy_setopt(ps->c, CURLOPT_UPLOAD, data != NULL ? 1L : 0L);
	curl_easy_setopt(ps->c, CURLOPT_HTTPGET, data != NULL ? 0L : 1L);
	if (data != NULL) {
		curl_easy_setopt(ps->c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(ps->c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(ps->c, CURLOPT_READDATA, &u);
		curl_easy_setopt(ps->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	cc = curl_easy_perform(ps->c);
	if (cc != CURLE_OK)
		return ut_err(OFFCA_E_NETWORK, "relay %s: %s", url, ps->err[0] ? ps->err : curl_easy_strerror(cc));
	curl_easy_getinfo(ps->c, CURLINFO_RESPONSE_CODE, status);
	return OFFCA_OK;
}

static offca_rc push_one(push *ps, const char *name, const unsigned char *data, size_t len)
{
	char url[4400];
	long st = 0;
	int exists;
	offca_rc rc;

	if (snprintf(url, sizeof(url), "%s/%s", ps->url, name) >= (int)sizeof(url))
		return ut_err(OFFCA_E_USAGE, "--url too long");
	if ((rc = request(ps, url, NULL, 0, &st)) != OFFCA_OK)
		return rc;
	if (st == 400 || st == 401 || st == 403)
		return ut_err(OFFCA_E_PERM, "the relay refused this client (HTTP %ld to GET %s: is --client-cert one it "
			      "trusts?); %s not uploaded", st, name, name);
	if (st != 200 && st != 404)
		return ut_err(OFFCA_E_PROTOCOL, "the relay answered HTTP %ld to GET %s; %s not uploaded", st, name, name);
	exists = st == 200;
	if (exists && ps->len == len && memcmp(ps->body, data, len) == 0) {
		ps->unchanged++;
		return OFFCA_OK;
	}
	if ((rc = request(ps, url, data, len, &st)) != OFFCA_OK)
		return rc;
	if (st != 200 && st != 201 && st != 204)
		return ut_err(OFFCA_E_PROTOCOL, "the relay refused the upload of %s (HTTP %ld)", name, st);
	printf("%s %s\n", exists ? "updated" : "created", name);
	exists ? ps->updated++ : ps->created++;
	return OFFCA_OK;
}

static int is_object_name(const char *name)
{
	if (strlen(name) != 64)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* a relay object's outer layer, without opening it: one CMS AuthEnvelopedData, nothing after */
static offca_rc check_object(const char *what, const unsigned char *d, size_t len)
{
	const unsigned char *p = d;
	CMS_ContentInfo *cms = len <= CA_PUB_MAX_OBJ ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	int ok = cms != NULL && p == d + len && OBJ_obj2nid(CMS_get0_type(cms)) == NID_id_smime_ct_authEnvelopedData;

	CMS_ContentInfo_free(cms);
	return ok ? OFFCA_OK : ut_err(OFFCA_E_PARSE, "%s is not a relay object (CMS AuthEnvelopedData)", what);
}

static offca_rc push_bundle(push *ps, const char *file, const char *ca_chain)
{
	xfr_bundle *b = NULL;
	STACK_OF(X509) *chain = NULL, *roots = NULL;
	offca_rc rc;

	if (ca_chain == NULL)
		return ut_err(OFFCA_E_USAGE, "%s is not named like a relay object: a bundle needs --ca-chain F", file);
	if ((rc = xfr_certs_load(ca_chain, &chain)) != OFFCA_OK || (rc = xfr_bundle_read(file, &b)) != OFFCA_OK)
		goto out;
	roots = gw_roots_of(chain);
	if (!xfr_bundle_is_signed(b) || xfr_bundle_direction(b) != XFR_DIR_OUT)
		rc = ut_err(OFFCA_E_VERIFY, "%s is not an outbound bundle signed by the CA", file);
	else if ((rc = xfr_bundle_verify_ca(b, roots)) != OFFCA_OK)
		rc = ut_err(rc, "%s: %s", file, ut_err_msg());
	for (size_t i = 0; rc == OFFCA_OK && i < xfr_bundle_count(b); i++) {
		const xfr_item *it = xfr_bundle_item(b, i);

		if (it->type != XFR_ITEM_OTHER || !is_object_name(it->name))
			continue;
		if ((rc = check_object(it->name, it->data, it->len)) == OFFCA_OK)
			rc = push_one(ps, it->name, it->data, it->len);
	}
out:
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(chain, X509_free);
	xfr_bundle_free(b);
	return rc;
}

static offca_rc push_file(push *ps, const char *file, const char *ca_chain)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	unsigned char *d = NULL;
	size_t n = 0;
	offca_rc rc;

	if (!is_object_name(base))
		return push_bundle(ps, file, ca_chain);
	if ((rc = ut_read_file(file, CA_PUB_MAX_OBJ, 1, &d, &n)) == OFFCA_OK && (rc = check_object(file, d, n)) == OFFCA_OK)
		rc = push_one(ps, base, d, n);
	free(d);
	return rc;
}

static offca_rc push_setup(push *ps)
{
	if ((ps->c = curl_easy_init()) == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	curl_easy_setopt(ps->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(ps->c, CURLOPT_WRITEDATA, ps);
	curl_easy_setopt(ps->c, CURLOPT_ERRORBUFFER, ps->err);
	curl_easy_setopt(ps->c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(ps->c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(ps->c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(ps->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ps->c, CURLOPT_SSLCERT, ps->cert);
	curl_easy_setopt(ps->c, CURLOPT_SSLKEY, ps->key);
	if (ps->cacert != NULL)
		curl_easy_setopt(ps->c, CURLOPT_CAINFO, ps->cacert);
	return OFFCA_OK;
}

enum { R_URL = 256, R_CERT, R_KEY, R_CACERT, R_CHAIN, R_HELP };

static const struct option relay_opts[] = {
	{"url", required_argument, NULL, R_URL},       {"client-cert", required_argument, NULL, R_CERT},
	{"client-key", required_argument, NULL, R_KEY}, {"cacert", required_argument, NULL, R_CACERT},
	{"ca-chain", required_argument, NULL, R_CHAIN}, {"help", no_argument, NULL, R_HELP},
	{NULL, 0, NULL, 0},
};

static offca_rc parse(int argc, char **argv, push *ps, const char **chain, int *help)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", relay_opts, NULL)) != -1) {
		switch (c) {
		case R_URL: ps->url = optarg; break;
		case R_CERT: ps->cert = optarg; break;
		case R_KEY: ps->key = optarg; break;
		case R_CACERT: ps->cacert = optarg; break;
		case R_CHAIN: *chain = optarg; break;
		case R_HELP: *help = 1; return OFFCA_OK;
		default: return ut_err(OFFCA_E_USAGE, "relay push: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (ps->url == NULL || ps->cert == NULL || ps->key == NULL || optind >= argc)
		return ut_err(OFFCA_E_USAGE, "relay push needs --url URL --client-cert F --client-key F and FILE...");
	if (strncmp(ps->url, "https://", 8) != 0)
		return ut_err(OFFCA_E_USAGE, "relay push: --url must be https://");
	return OFFCA_OK;
}

int gw_relay_main(int argc, char **argv)
{
	push ps;
	const char *chain = NULL;
	char url[4096];
	size_t ul;
	int help = 0;
	offca_rc rc;

	memset(&ps, 0, sizeof(ps));
	if (argc < 2 || strcmp(argv[1], "push") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(relay_usage, stdout);
			return 0;
		}
		fprintf(stderr, "offca-gateway: relay: the only command is 'relay push' (--help)\n");
		return 2;
	}
	rc = parse(argc - 1, argv + 1, &ps, &chain, &help);
	if (rc == OFFCA_OK && help) {
		fputs(relay_usage, stdout);
		return 0;
	}
	if (rc == OFFCA_OK) {
		ul = strlen(ps.url);
		while (ul > 0 && ps.url[ul - 1] == '/')
			ul--;
		snprintf(url, sizeof(url), "%.*s", (int)ul, ps.url);
		ps.url = url;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = push_setup(&ps);
	}
	for (int i = optind + 1; rc == OFFCA_OK && i < argc; i++)
		rc = push_file(&ps, argv[i], chain);
	if (ps.c != NULL) {
		printf("relay push: %zu created, %zu updated, %zu unchanged\n", ps.created, ps.updated, ps.unchanged);
		curl_easy_cleanup(ps.c);
		curl_global_cleanup();
	}
	free(ps.body);
	if (rc != OFFCA_OK) {
		fprintf(stderr, "offca-gateway: %s\n", ut_err_msg());
		return ut_exit_code(rc);
	}
	return 0;
}
