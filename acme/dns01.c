/* dns01.c - RFC 2136 updates and the propagation check (see dns01.h). */
#include "dns01.h"

#include <netdb.h>
#include <poll.h>
#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "b64.h"
#include "offca/util.h"

#define DNS_TIMEOUT_MS 1500

void acme_rfc2136_wipe(struct acme_rfc2136 *r)
{
	ut_memzero(r->key.secret, sizeof(r->key.secret));
	r->key.secretlen = 0;
}

offca_rc acme_tsig_load(struct acme_tsig *k, const char *name, const char *alg, const char *secret_file)
{
	offca_rc rc;
	char secret[UT_MAX_SECRET];
	unsigned char *raw = NULL;
	size_t rl = 0;
	int n;

	memset(k, 0, sizeof(*k));
	rc = acme_tsig_alg_check(alg);
	if (rc != OFFCA_OK)
		return rc;
	n = snprintf(k->name, sizeof(k->name), "%s", name);
	if (n <= 0 || (size_t)n >= sizeof(k->name))
		return ut_err(OFFCA_E_USAGE, "--tsig-key: bad key name");
	if (k->name[n - 1] == '.')
		k->name[n - 1] = '\0';
	for (char *p = k->name; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	rc = ut_secret_from_file(secret_file, 1, secret, sizeof(secret));
	if (rc == OFFCA_OK)
		rc = acme_b64_decode(secret, &raw, &rl);
	if (rc == OFFCA_E_PARSE)
		rc = ut_err(OFFCA_E_PARSE, "TSIG secret in %s is not base64", secret_file);
	if (rc == OFFCA_OK && (rl == 0 || rl > sizeof(k->secret)))
		rc = ut_err(OFFCA_E_TOO_BIG, "TSIG secret in %s: %zu bytes, at most %zu", secret_file, rl,
			    sizeof(k->secret));
	if (rc == OFFCA_OK) {
		memcpy(k->secret, raw, rl);
		k->secretlen = rl;
	}
	ut_memzero(secret, sizeof(secret));
	ut_free_secret(raw, rl);
	return rc;
}

static uint16_t new_id(void)
{
	unsigned char b[2] = {0, 0};

	if (RAND_bytes(b, 2) != 1)
		b[0] = (unsigned char)time(NULL);
	return (uint16_t)((b[0] << 8) | b[1]);
}

static int name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static offca_rc query(const char *host, uint16_t port, const char *name, uint16_t qtype, uint8_t *resp,
		      size_t *rl, struct acme_dns_hdr *h, size_t *off)
{
	offca_rc rc;
	struct acme_dns_w *w = malloc(sizeof(*w));

	if (w == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = acme_dns_build_query(w, new_id(), name, qtype);
	if (rc == OFFCA_OK)
		rc = acme_dns_exchange(host, port, 0, w->b, w->len, resp, rl, DNS_TIMEOUT_MS);
	if (rc == OFFCA_OK)
		rc = acme_dns_parse_hdr(resp, *rl, h, off);
	free(w);
	return rc;
}

offca_rc acme_dns_find_zone(const char *host, uint16_t port, const char *name, char zone[ACME_DNS_MAX_NAME + 1])
{
	offca_rc rc;
	uint8_t *resp = malloc(ACME_DNS_MAX_MSG);
	size_t rl = 0, off = 0;
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	unsigned rcode;

	zone[0] = '\0';
	if (resp == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = query(host, port, name, ACME_DNS_T_SOA, resp, &rl, &h, &off);
	if (rc != OFFCA_OK)
		goto out;
	rcode = h.flags & 0xf;
	if (rcode != 0 && rcode != 3) {
		rc = ut_err(OFFCA_E_PROTOCOL, "DNS server %s:%u answered %s for the SOA of %s", host, port,
			    acme_dns_rcode_name(rcode), name);
		goto out;
	}
	for (unsigned i = 0; i < (unsigned)h.an + h.ns; i++) {
		rc = acme_dns_read_rr(resp, rl, &off, &rr);
		if (rc != OFFCA_OK)
			goto out;
		if (rr.type == ACME_DNS_T_SOA) {
			snprintf(zone, ACME_DNS_MAX_NAME + 1, "%s", rr.name);
			rc = OFFCA_OK;
			goto out;
		}
	}
	rc = ut_err(OFFCA_E_NOT_FOUND, "DNS server %s:%u is not authoritative for a zone holding %s (use --dns-zone)",
		    host, port, name);
out:
	free(resp);
	return rc;
}

offca_rc acme_rfc2136_update(struct acme_rfc2136 *r, const char *name, const char *value, int add)
{
	offca_rc rc;
	struct acme_dns_w *w = NULL;
	uint8_t *resp = NULL;
	unsigned char mac[ACME_DNS_MAX_MAC];
	size_t maclen = 0, rl = 0;
	unsigned rcode;
	char zone[ACME_DNS_MAX_NAME + 1];

	/* names of one certificate may live in different zones: find each one's (unless given) */
	if (r->zone[0] != '\0')
		snprintf(zone, sizeof(zone), "%s", r->zone);
	else {
		rc = acme_dns_find_zone(r->host, r->port, name, zone);
		if (rc != OFFCA_OK)
			return rc;
	}
	w = malloc(sizeof(*w));
	resp = malloc(ACME_DNS_MAX_MSG);
	if (w == NULL || resp == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = acme_dns_build_update(w, new_id(), zone, name, value, r->ttl, add);
	if (rc == OFFCA_OK)
		rc = acme_tsig_sign(w, &r->key, (uint64_t)time(NULL), mac, &maclen);
	if (rc == OFFCA_OK)
		rc = acme_dns_exchange(r->host, r->port, r->tcp, w->b, w->len, resp, &rl, DNS_TIMEOUT_MS);
	if (rc != OFFCA_OK)
		goto out;
	rcode = resp[3] & 0xf;
	if (rcode == 9 || rcode == 5) {
		/* NOTAUTH/REFUSED: a key the server does not know comes back unsigned with this code */
		rc = acme_tsig_verify(resp, rl, &r->key, mac, maclen);
		if (rc == OFFCA_OK || rc == OFFCA_E_VERIFY)
			rc = ut_err(OFFCA_E_PROTOCOL, "DNS update of %s refused by %s:%u: %s (key %s, %s, zone %s)",
				    name, r->host, r->port, acme_dns_rcode_name(rcode), r->key.name, r->key.alg, zone);
		goto out;
	}
	rc = acme_tsig_verify(resp, rl, &r->key, mac, maclen);
	if (rc != OFFCA_OK)
		goto out;
	if (rcode != 0) {
		rc = ut_err(OFFCA_E_PROTOCOL, "DNS update of %s at %s:%u failed: %s", name, r->host, r->port,
			    acme_dns_rcode_name(rcode));
		goto out;
	}
	rc = OFFCA_OK;
out:
	ut_memzero(mac, sizeof(mac));
	free(w);
	free(resp);
	return rc;
}

offca_rc acme_dns_follow_cname(const char *host, uint16_t port, const char *name, char out[ACME_DNS_MAX_NAME + 1])
{
	offca_rc rc = OFFCA_OK;
	uint8_t *resp = malloc(ACME_DNS_MAX_MSG);
	size_t rl = 0, off = 0, p;
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	int hops, moved;

	snprintf(out, ACME_DNS_MAX_NAME + 1, "%s", name);
	if (resp == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (hops = 0; hops < ACME_DNS_MAX_CNAME; hops++) {
		rc = query(host, port, out, ACME_DNS_T_TXT, resp, &rl, &h, &off);
		if (rc != OFFCA_OK)
			goto done;
		moved = 0;
		for (unsigned i = 0; i < h.an && !moved; i++) {
			rc = acme_dns_read_rr(resp, rl, &off, &rr);
			if (rc != OFFCA_OK)
				goto done;
			if (rr.type == ACME_DNS_T_CNAME && name_eq(rr.name, out)) {
				p = rr.rdoff;
				rc = acme_dns_read_name(resp, rl, &p, out);
				if (rc != OFFCA_OK)
					goto done;
				moved = 1;
			}
		}
		if (!moved)
			goto done;
	}
	rc = ut_err(OFFCA_E_PROTOCOL, "%s: more than %d CNAMEs", name, ACME_DNS_MAX_CNAME);
done:
	free(resp);
	return rc;
}

struct ns_list {
	char addr[ACME_DNS_MAX_NS][64];
	char name[ACME_DNS_MAX_NS][ACME_DNS_MAX_NAME + 1];
	int n;
};

static offca_rc ns_addr(const char *host, uint16_t port, const char *ns, char *addr, size_t cap, uint8_t *resp)
{
	offca_rc rc;
	size_t rl = 0, off = 0;
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;
	struct addrinfo hints, *ai = NULL;

	/* in-zone (glue) address first, asked of the primary; then the system resolver */
	rc = query(host, port, ns, ACME_DNS_T_A, resp, &rl, &h, &off);
	for (unsigned i = 0; rc == OFFCA_OK && i < h.an; i++) {
		if (acme_dns_read_rr(resp, rl, &off, &rr) != OFFCA_OK)
			break;
		if (rr.type == ACME_DNS_T_A && rr.rdlen == 4 && inet_ntop(AF_INET, resp + rr.rdoff, addr, (socklen_t)cap))
			return OFFCA_OK;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(ns, NULL, &hints, &ai) != 0 || ai == NULL)
		return ut_err(OFFCA_E_NOT_FOUND, "cannot find the address of name server %s", ns);
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) == 0
		     ? OFFCA_OK
		     : ut_err(OFFCA_E_NOT_FOUND, "cannot find the address of name server %s", ns);
	freeaddrinfo(ai);
	return rc;
}

static offca_rc list_ns(const char *host, uint16_t port, const char *zone, struct ns_list *l, uint8_t *resp)
{
	offca_rc rc;
	size_t rl = 0, off = 0, p;
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;

	l->n = 0;
	rc = query(host, port, zone, ACME_DNS_T_NS, resp, &rl, &h, &off);
	if (rc != OFFCA_OK)
		return rc;
	for (unsigned i = 0; i < h.an && l->n < ACME_DNS_MAX_NS; i++) {
		rc = acme_dns_read_rr(resp, rl, &off, &rr);
		if (rc != OFFCA_OK)
			return rc;
		if (rr.type != ACME_DNS_T_NS)
			continue;
		p = rr.rdoff;
		rc = acme_dns_read_name(resp, rl, &p, l->name[l->n]);
		if (rc != OFFCA_OK)
			return rc;
		l->n++;
	}
	for (int i = 0; i < l->n; i++) {
		rc = ns_addr(host, port, l->name[i], l->addr[i], sizeof(l->addr[i]), resp);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (l->n == 0) /* no NS records visible: at least the primary must serve it */
		snprintf(l->addr[l->n++], sizeof(l->addr[0]), "%s", host);
	return OFFCA_OK;
}

/* OFFCA_OK when server has value among the TXT records of name */
static offca_rc has_txt(const char *addr, uint16_t port, const char *name, const char *value, uint8_t *resp)
{
	offca_rc rc;
	size_t rl = 0, off = 0, vl = strlen(value);
	struct acme_dns_hdr h;
	struct acme_dns_rr rr;

	rc = query(addr, port, name, ACME_DNS_T_TXT, resp, &rl, &h, &off);
	if (rc != OFFCA_OK)
		return rc;
	for (unsigned i = 0; i < h.an; i++) {
		rc = acme_dns_read_rr(resp, rl, &off, &rr);
		if (rc != OFFCA_OK)
			return rc;
		if (rr.type == ACME_DNS_T_TXT && name_eq(rr.name, name) && rr.rdlen == vl + 1 &&
		    resp[rr.rdoff] == vl && memcmp(resp + rr.rdoff + 1, value, vl) == 0)
			return OFFCA_OK;
	}
	return OFFCA_E_NOT_FOUND;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

offca_rc acme_dns_wait_txt(const char *host, uint16_t port, const char *zone, const char *name,
			   const char *value, int timeout_s, int verbose, int abort_fd)
{
	offca_rc rc;
	struct ns_list *l = NULL;
	uint8_t *resp = NULL;
	char z[ACME_DNS_MAX_NAME + 1];
	double deadline = mono() + timeout_s;
	long delay_ms = 100;
	int done[ACME_DNS_MAX_NS] = {0}, left;

	l = calloc(1, sizeof(*l));
	resp = malloc(ACME_DNS_MAX_MSG);
	if (l == NULL || resp == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (zone == NULL || zone[0] == '\0') {
		rc = acme_dns_find_zone(host, port, name, z);
		if (rc != OFFCA_OK)
			goto out;
		zone = z;
	}
	rc = list_ns(host, port, zone, l, resp);
	if (rc != OFFCA_OK)
		goto out;
	for (;;) {
		left = 0;
		for (int i = 0; i < l->n; i++) {
			if (done[i])
				continue;
			if (has_txt(l->addr[i], port, name, value, resp) == OFFCA_OK) {
				done[i] = 1;
				if (verbose)
					fprintf(stderr, "offca-acme: %s serves the TXT for %s\n", l->addr[i], name);
			} else
				left++;
		}
		if (left == 0) {
			rc = OFFCA_OK;
			goto out;
		}
		if (mono() + (double)delay_ms / 1000.0 > deadline) {
			for (int i = 0; i < l->n; i++)
				if (!done[i]) {
					rc = ut_err(OFFCA_E_TIMEOUT, "TXT for %s not served by %s (%s:%u) after %d s "
								  "(--propagation-timeout)",
						    name, l->name[i][0] ? l->name[i] : "primary", l->addr[i], port, timeout_s);
					break;
				}
			goto out;
		}
		if (abort_fd >= 0) {
			struct pollfd pfd = {abort_fd, POLLIN, 0};
			if (poll(&pfd, 1, (int)delay_ms) > 0) {
				rc = ut_err(OFFCA_E_ABORTED, "propagation wait for %s abandoned", name);
				goto out;
			}
		} else {
			struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
		delay_ms = delay_ms * 2 > 1000 ? 1000 : delay_ms * 2;
	}
out:
	free(l);
	free(resp);
	return rc;
}
