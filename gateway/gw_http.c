/*
 * gw_http.c - the EST server's HTTP and TLS layer: libmicrohttpd with GnuTLS. One internal polling
 * thread serves every connection (the state is used from that one thread). The client certificate
 * is only requested by GnuTLS (MHD_OPTION_HTTPS_MEM_TRUST); gw_verify_client() verifies it with
 * OpenSSL. Bodies are bounded, each client address has a token bucket, every refusal is logged.
 */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "offca/util.h"

#define EST_PREFIX "/.well-known/est/"
#define RATE_SLOTS 4096u

typedef struct conn_ctx {
	unsigned char *buf;
	size_t len;
	int too_big;
} conn_ctx;

typedef struct bucket {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	struct timespec last;
} bucket;

typedef struct server {
	gw_ctx *c;
	double rate;
	bucket *buckets;
} server;

void gw_log(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s offca-gateway: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(out, cap, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

/* token bucket per client address (hashed slots; a collision shares a bucket, never more leniency) */
static int rate_ok(server *s, const char *addr)
{
	unsigned h = 5381;
	bucket *b;
	struct timespec now;
	double dt;

	if (s->rate <= 0)
		return 1;
	for (const char *p = addr; *p; p++)
		h = h * 33u + (unsigned char)*p;
	b = &s->buckets[h % RATE_SLOTS];
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (strcmp(b->addr, addr) != 0) {
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = 2 * s->rate;
		b->last = now;
	}
	dt = (double)(now.tv_sec - b->last.tv_sec) + (double)(now.tv_nsec - b->last.tv_nsec) / 1e9;
	b->last = now;
	b->tokens += dt * s->rate;
	if (b->tokens > 2 * s->rate)
		b->tokens = 2 * s->rate;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

static STACK_OF(X509) *peer_chain(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	unsigned n = 0;
	STACK_OF(X509) *sk;

	if (ci == NULL || ci->tls_session == NULL)
		return NULL;
	certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (certs == NULL || n == 0 || n > 8 || (sk = sk_X509_new_null()) == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		const unsigned char *p = certs[i].data;
		X509 *x = d2i_X509(NULL, &p, (long)certs[i].size);

		if (x == NULL || p != certs[i].data + certs[i].size || !sk_X509_push(sk, x)) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
	}
	return sk;
}

static enum MHD_Result send_answer(struct MHD_Connection *conn, gw_answer *a)
{
	struct MHD_Response *resp;
	enum MHD_Result r;
	char ra[32];

	if (a->body == NULL) {
		const char *text = a->reason != NULL ? a->reason : "";
		size_t n = strlen(text);

		a->body = malloc(n + 2);
		if (a->body == NULL)
			return MHD_NO;
		memcpy(a->body, text, n);
		a->body[n] = '\n';
		a->body[n + 1] = '\0';
		a->body_len = a->status == 202 || a->status == 204 ? 0 : n + 1;
	}
	resp = MHD_create_response_from_buffer(a->body_len, a->body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(a->body);
		return MHD_NO;
	}
	a->body = NULL;
	if (a->ctype != NULL && a->body_len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
	if (a->ctype != NULL && strcmp(a->ctype, EST_CT_CERTS) == 0)
		MHD_add_response_header(resp, "Content-Transfer-Encoding", "base64");
	if (a->status == 202) {
		snprintf(ra, sizeof(ra), "%u", a->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (a->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"offca-gateway EST\"");
	r = MHD_queue_response(conn, a->status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void route(server *s, struct MHD_Connection *conn, const char *url, const char *method, conn_ctx *cc,
		  gw_answer *a)
{
	const char *op = strncmp(url, EST_PREFIX, strlen(EST_PREFIX)) == 0 ? url + strlen(EST_PREFIX) : NULL;
	int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	gw_request r = {0};
	char *user = NULL, *pass = NULL;

	a->ctype = "text/plain";
	if (op == NULL) {
		a->status = 404;
		a->reason = "not an EST path (/.well-known/est/...)";
	} else if (strcmp(op, "cacerts") == 0 && get) {
		a->status = 200;
		a->ctype = EST_CT_CERTS;
		a->body = malloc(s->c->cacerts_len + 1);
		if (a->body != NULL) {
			memcpy(a->body, s->c->cacerts_b64, s->c->cacerts_len + 1);
			a->body_len = s->c->cacerts_len;
		}
	} else if (strcmp(op, "csrattrs") == 0 && get) {
		a->status = 204;
	} else if ((strcmp(op, "simpleenroll") == 0 || strcmp(op, "simplereenroll") == 0) && post) {
		if (cc->too_big) {
			a->status = 413;
			a->reason = "request body too large";
			return;
		}
		r.op = op;
		r.body = cc->buf;
		r.body_len = cc->len;
		user = MHD_basic_auth_get_username_password(conn, &pass);
		r.user = user;
		r.pass = pass;
		r.peer = peer_chain(conn);
		gw_est_enroll(s->c, &r, a);
		sk_X509_pop_free(r.peer, X509_free);
		if (pass != NULL) {
			OPENSSL_cleanse(pass, strlen(pass));
			MHD_free(pass);
		}
		MHD_free(user);
	} else if (strcmp(op, "cacerts") == 0 || strcmp(op, "csrattrs") == 0 || strcmp(op, "simpleenroll") == 0 ||
		   strcmp(op, "simplereenroll") == 0) {
		a->status = 405;
		a->reason = "method not allowed for this EST operation";
	} else {
		a->status = 404;
		a->reason = "unknown EST operation";
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	server *s = cls;
	conn_ctx *cc = *con_cls;
	gw_answer a = {0};
	char addr[INET6_ADDRSTRLEN];
	enum MHD_Result r;

	(void)version;
	if (cc == NULL) {
		client_addr(conn, addr, sizeof(addr));
		if (!rate_ok(s, addr)) {
			gw_log("refused %s %s %s: 429 rate limit (%.1f requests/s per client)", addr, method, url, s->rate);
			a.status = 429;
			a.reason = "too many requests: slow down";
			a.ctype = "text/plain";
			return send_answer(conn, &a);
		}
		cc = calloc(1, sizeof(*cc));
		if (cc == NULL)
			return MHD_NO;
		*con_cls = cc;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (cc->too_big || cc->len + *upload_size > GW_MAX_CSR_B64) {
			cc->too_big = 1;
		} else {
			unsigned char *nb = realloc(cc->buf, cc->len + *upload_size + 1);

			if (nb == NULL)
				return MHD_NO;
			cc->buf = nb;
			memcpy(cc->buf + cc->len, upload, *upload_size);
			cc->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	route(s, conn, url, method, cc, &a);
	if (a.status >= 400) {
		client_addr(conn, addr, sizeof(addr));
		gw_log("refused %s %s %s: %u %s", addr, method, url, a.status, a.reason ? a.reason : "");
	} else if (a.status == 200 && a.rid[0] != '\0')
		gw_log("delivered %s", a.rid);
	r = send_answer(conn, &a);
	free(a.body);
	return r;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	conn_ctx *cc = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (cc != NULL) {
		free(cc->buf);
		free(cc);
	}
	*con_cls = NULL;
}

static offca_rc parse_listen(const char *text, struct sockaddr_storage *ss, int *v6)
{
	char host[256];
	const char *colon = strrchr(text, ':');
	struct addrinfo hints = {0}, *res = NULL;
	size_t hl;

	if (colon == NULL || colon == text)
		return ut_err(OFFCA_E_USAGE, "--listen '%s': use ADDR:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)", text);
	hl = (size_t)(colon - text);
	if (text[0] == '[' && hl > 2 && text[hl - 1] == ']') {
		text++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ut_err(OFFCA_E_USAGE, "--listen address too long");
	memcpy(host, text, hl);
	host[hl] = '\0';
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return ut_err(OFFCA_E_USAGE, "--listen '%s': not a numeric address and port", text);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return OFFCA_OK;
}

static offca_rc read_text(const char *path, char **out)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	offca_rc rc = ut_read_file(path, 1u << 20, 0, &buf, &n);
	char *s;

	*out = NULL;
	if (rc != OFFCA_OK)
		return ut_err(rc, "%s: %s", path, ut_err_msg());
	s = realloc(buf, n + 1);
	if (s == NULL) {
		free(buf);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	s[n] = '\0';
	*out = s;
	return OFFCA_OK;
}

static char *chain_pem(STACK_OF(X509) *chain)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s = NULL;
	long n;

	for (int i = 0; b != NULL && i < sk_X509_num(chain); i++)
		PEM_write_bio_X509(b, sk_X509_value(chain, i));
	if (b != NULL && (n = BIO_get_mem_data(b, &p)) > 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

offca_rc gw_serve(gw_ctx *c, const gw_serve_opts *o)
{
	struct sockaddr_storage ss = {0};
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL, *trust = NULL;
	server s = {c, o->rate, NULL};
	sigset_t set;
	int v6 = 0, sig = 0;
	offca_rc rc;

	if ((rc = parse_listen(o->listen, &ss, &v6)) != OFFCA_OK)
		return rc;
	if ((rc = read_text(o->tls_cert, &cert)) != OFFCA_OK || (rc = read_text(o->tls_key, &key)) != OFFCA_OK)
		goto out;
	trust = chain_pem(c->chain);
	s.buckets = calloc(RATE_SLOTS, sizeof(*s.buckets));
	if (trust == NULL || s.buckets == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_TRUST, trust,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			     MHD_OPTION_CONNECTION_LIMIT, o->max_conn, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
			     MHD_OPTION_END);
	if (d == NULL) {
		rc = ut_err(OFFCA_E_NETWORK, "cannot serve on %s (address in use, or the TLS certificate/key unusable)",
			    o->listen);
		goto out;
	}
	gw_log("serving EST on https://%s%s (state %s)", o->listen, EST_PREFIX, gw_state_dir(c->st));
	while (sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
	gw_log("stopping (signal %d)", sig);
	MHD_stop_daemon(d);
	rc = OFFCA_OK;
out:
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	free(cert);
	free(trust);
	free(s.buckets);
	return rc;
}
