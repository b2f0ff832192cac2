/*
 * http.h - the HTTPS client of the network process (libcurl). One handle, reused across
 * requests (connection reuse). Bodies are bounded (ACME_MAX_BODY); the headers ACME needs
 * (Location, Replay-Nonce, Retry-After, Link rel="alternate"/"up", Content-Type) are kept.
 */
#ifndef ACME_HTTP_H
#define ACME_HTTP_H

#include <stddef.h>

#include "offca/err.h"

#define ACME_MAX_BODY     (1024u * 1024u)
#define ACME_MAX_ALT      8
#define ACME_MAX_HDR      2048
#define ACME_HTTP_TIMEOUT 30L

struct acme_http;

struct acme_resp {
	long status;
	unsigned char *body; /* NUL-terminated */
	size_t len;
	char *location;
	char *nonce;
	char *content_type;
	long retry_after;    /* seconds, -1 if absent */
	char *alt[ACME_MAX_ALT];
	int nalt;
};

/* New client. ca_bundle (may be NULL: system trust store) is set as CURLOPT_CAINFO. */
offca_rc acme_http_new(const char *ca_bundle, int verbose, struct acme_http **out);
void acme_http_free(struct acme_http *h);

/*
 * method "GET", "HEAD" or "POST" (body with Content-Type application/jose+json). accept may be
 * NULL. *resp is filled (free with acme_resp_clear) on any HTTP status; errors are transport
 * failures only: OFFCA_E_NETWORK, OFFCA_E_TOO_BIG.
 */
offca_rc acme_http_do(struct acme_http *h, const char *method, const char *url, const char *body,
		      const char *accept, struct acme_resp *resp);

void acme_resp_clear(struct acme_resp *r);

/* Retry-After: delay-seconds (capped at ACME_MAX_RETRY_AFTER); an HTTP date or garbage gives 1. */
#define ACME_MAX_RETRY_AFTER 86400L
long acme_retry_after_parse(const char *value);

/* Parse one Link header value; returns a new URL if rel matches, else NULL. Exposed for tests. */
char *acme_link_parse(const char *value, const char *rel);

#endif
