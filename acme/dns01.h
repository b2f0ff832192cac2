/*
 * dns01.h - DNS-01 with RFC 2136 + TSIG: zone discovery, TXT add/remove, and the propagation
 * wait (every authoritative server named by the zone's NS records at the primary serves the TXT).
 * Runs inside the DNS process.
 */
#ifndef ACME_DNS01_H
#define ACME_DNS01_H

#include <stdint.h>

#include "dns.h"
#include "offca/err.h"

#define ACME_DNS_MAX_NS    16 /* authoritative servers checked per zone */
#define ACME_DNS_MAX_CNAME 8  /* CNAME hops followed from _acme-challenge names */

struct acme_rfc2136 {
	char host[256];
	uint16_t port;
	struct acme_tsig key;  /* secret wiped by acme_rfc2136_wipe */
	char zone[ACME_DNS_MAX_NAME + 1]; /* "" = discover with SOA queries */
	int tcp;
	uint32_t ttl;
	int verbose;
};

void acme_rfc2136_wipe(struct acme_rfc2136 *r);

/* Load the TSIG secret (base64, first line) from a 0600 file into r->key. */
offca_rc acme_tsig_load(struct acme_tsig *k, const char *name, const char *alg, const char *secret_file);

/* The zone holding name, asked of host:port (SOA query, answer or authority section). */
offca_rc acme_dns_find_zone(const char *host, uint16_t port, const char *name, char zone[ACME_DNS_MAX_NAME + 1]);

/*
 * Where the TXT for name really lives: follow CNAMEs (delegated validation, e.g.
 * _acme-challenge.www.example.com CNAME www.acme.example.net) as answered by host:port, at most
 * ACME_DNS_MAX_CNAME hops. out = name when there is no CNAME.
 */
offca_rc acme_dns_follow_cname(const char *host, uint16_t port, const char *name, char out[ACME_DNS_MAX_NAME + 1]);

/* Add (add != 0) or delete the TXT record name/value with a TSIG-signed UPDATE in name's zone. */
offca_rc acme_rfc2136_update(struct acme_rfc2136 *r, const char *name, const char *value, int add);

/*
 * Wait until every authoritative server of the zone of name (NS at host:port; each server
 * queried on the same port) answers the TXT value for name, at most timeout_s seconds.
 * abort_fd (or -1): stop early with OFFCA_E_ABORTED when it becomes readable (the main process
 * went away). Errors: OFFCA_E_TIMEOUT naming the lagging server.
 */
offca_rc acme_dns_wait_txt(const char *host, uint16_t port, const char *zone, const char *name,
			   const char *value, int timeout_s, int verbose, int abort_fd);

#endif
