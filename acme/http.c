/* http.c - libcurl wrapper for the network process (see http.h). */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "offca/util.h"

struct acme_http {
	CURL *c;
	char *ca_bundle;
	int verbose;
};

struct sink {
	unsigned char *buf;
	size_t len, cap;
	int too_big;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = sz * n;
	unsigned char *nb;

	if (add > ACME_MAX_BODY || s->len + add > ACME_MAX_BODY) {
		s->too_big = 1;
		return 0;
	}
	if (s->len + add + 1 > s->cap) {
		size_t nc = s->cap ? s->cap : 4096;
		while (nc < s->len + add + 1)
			nc *= 2;
		nb = realloc(s->buf, nc);
		if (nb == NULL)
			return 0;
		s->buf = nb;
		s->cap = nc;
	}
	memcpy(s->buf + s->len, p, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

/* libcurl's connections are close-on-exec: no hook or helper inherits the TCP connection to the CA */
static curl_socket_t open_cloexec(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

offca_rc acme_http_new(const char *ca_bundle, int verbose, struct acme_http **out)
{
	struct acme_http *h;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ut_err(OFFCA_E_NETWORK, "libcurl initialisation failed");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	h->c = curl_easy_init();
	if (h->c == NULL) {
		free(h);
		return ut_err(OFFCA_E_NETWORK, "libcurl initialisation failed");
	}
	if (ca_bundle != NULL) {
		h->ca_bundle = strdup(ca_bundle);
		if (h->ca_bundle == NULL) {
			acme_http_free(h);
			return ut_err(OFFCA_E_NOMEM, "out of memory");
		}
	}
	h->verbose = verbose;
	*out = h;
	return OFFCA_OK;
}

void acme_http_free(struct acme_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->c);
	free(h->ca_bundle);
	free(h);
}

void acme_resp_clear(struct acme_resp *r)
{
	free(r->body);
	free(r->location);
	free(r->nonce);
	free(r->content_type);
	for (int i = 0; i < r->nalt; i++)
		free(r->alt[i]);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

char *acme_link_parse(const char *value, const char *rel)
{
	const char *lt, *gt, *p;
	char want[64];
	size_t ul;
	char *url;
	int n;

	if (strlen(value) > ACME_MAX_HDR)
		return NULL;
	lt = strchr(value, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt == NULL || gt == NULL)
		return NULL;
	n = snprintf(want, sizeof(want), "rel=\"%s\"", rel);
	if (n < 0 || (size_t)n >= sizeof(want))
		return NULL;
	p = gt + 1;
	/* parameters: ;rel="x" or ; rel=x */
	if (strstr(p, want) == NULL) {
		n = snprintf(want, sizeof(want), "rel=%s", rel);
		if (n < 0 || (size_t)n >= sizeof(want))
			return NULL;
		const char *q = strstr(p, want);
		if (q == NULL || (q[n] != '\0' && q[n] != ';' && q[n] != ' ' && q[n] != ','))
			return NULL;
	}
	ul = (size_t)(gt - lt - 1);
	url = malloc(ul + 1);
	if (url == NULL)
		return NULL;
	memcpy(url, lt + 1, ul);
	url[ul] = '\0';
	return url;
}

long acme_retry_after_parse(const char *value)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	/* an HTTP date instead of seconds (or garbage): treat as "a little while" */
	if (end == value || *end != '\0' || v < 0 || errno != 0)
		return 1;
	return v > ACME_MAX_RETRY_AFTER ? ACME_MAX_RETRY_AFTER : v;
}

static char *header_dup(CURL *c, const char *name)
{
	struct curl_header *hd = NULL;

	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK || hd == NULL)
		return NULL;
	if (strlen(hd->value) > ACME_MAX_HDR)
		return NULL;
	return strdup(hd->value);
}

static void collect_headers(CURL *c, struct acme_resp *r)
{
	struct curl_header *hd = NULL;
	char *ra;
	size_t i = 0, amount = 1;

	r->location = header_dup(c, "Location");
	r->nonce = header_dup(c, "Replay-Nonce");
	r->content_type = header_dup(c, "Content-Type");
	ra = header_dup(c, "Retry-After");
	if (ra != NULL) {
		r->retry_after = acme_retry_after_parse(ra);
		free(ra);
	}
	for (i = 0; i < amount && r->nalt < ACME_MAX_ALT; i++) {
		if (curl_easy_header(c, "Link", i, CURLH_HEADER, -1, &hd) != CURLHE_OK)
			break;
		amount = hd->amount;
		char *u = acme_link_parse(hd->value, "alternate");
		if (u != NULL)
			r->alt[r->nalt++] = u;
	}
}

offca_rc acme_http_do(struct acme_http *h, const char *method, const char *url, const char *body,
		      const char *accept, struct acme_resp *resp)
{
	offca_rc rc = OFFCA_E_NETWORK;
	struct curl_slist *hdrs = NULL;
	struct sink s = {0};
	char acc[128];
	CURLcode cc;
	CURL *c = h->c;
	int n;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "offca-acme/" OFFCA_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, ACME_HTTP_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ACME_MAX_BODY);
	if (h->ca_bundle != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
	if (accept != NULL) {
		n = snprintf(acc, sizeof(acc), "Accept: %s", accept);
		if (n > 0 && (size_t)n < sizeof(acc))
			hdrs = curl_slist_append(hdrs, acc);
	}
	if (strcmp(method, "POST") == 0) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/jose+json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(c);
	if (s.too_big) {
		rc = ut_err(OFFCA_E_TOO_BIG, "%s: response larger than %u bytes", url, ACME_MAX_BODY);
		goto out;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
		rc = ut_err(OFFCA_E_NETWORK, "%s: %s (a private CA? trust it with --ca-bundle FILE)", url,
			    curl_easy_strerror(cc));
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = ut_err(OFFCA_E_NETWORK, "%s: %s", url, curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	collect_headers(c, resp);
	if (s.buf == NULL) {
		s.buf = calloc(1, 1);
		if (s.buf == NULL) {
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			goto out;
		}
	}
	resp->body = s.buf;
	resp->len = s.len;
	s.buf = NULL;
	rc = OFFCA_OK;
out:
	free(s.buf);
	curl_slist_free_all(hdrs);
	if (rc != OFFCA_OK)
		acme_resp_clear(resp);
	return rc;
}
