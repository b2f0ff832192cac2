/* order.h - one RFC 8555 order from newOrder to the downloaded chain, with DNS-01 challenges. */
#ifndef ACME_ORDER_H
#define ACME_ORDER_H

#include <stddef.h>

#include "cert.h"
#include "client.h"
#include "http.h"
#include "proc.h"

struct acme_order_req {
	const struct acme_names *names;
	const unsigned char *csr_der;
	size_t csr_len;
	const char *replaces;        /* ARI certID of the certificate this one replaces, or NULL */
	const char *preferred_chain; /* CN of the preferred top issuer, or NULL */
};

/* The chains the CA offers for one certificate: [0] its default, then the alternates it links. */
#define ACME_MAX_CHAINS (1 + ACME_MAX_ALT)
struct acme_chains {
	char *pem[ACME_MAX_CHAINS];
	size_t len[ACME_MAX_CHAINS];
	char top[ACME_MAX_CHAINS][256]; /* CN of each chain's top issuer ("" if none) */
	int n;
	int chosen; /* the one whose top issuer is preferred_chain, else 0 */
};
void acme_chains_clear(struct acme_chains *ch);

/*
 * Run the order: create it, publish every dns-01 TXT through the DNS process dns, wait for
 * propagation, trigger the challenges, poll the authorizations, remove the TXT records (always,
 * also on failure), finalize with the CSR, poll the order and download the chain (choosing an
 * every alternate chain too; chosen names the one whose top issuer is preferred_chain). On
 * success *chains holds new PEM strings (acme_chains_clear()).
 */
offca_rc acme_order_run(struct acme_client *c, struct acme_proc *dns, const struct acme_order_req *req,
			struct acme_chains *chains);

/* The TXT value for a dns-01 token: base64url(SHA-256(token "." thumbprint)). New string. */
offca_rc acme_dns01_value(const char *token, const char *thumbprint, char **value);

#endif
