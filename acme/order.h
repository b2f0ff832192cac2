/* order.h - one RFC 8555 order from newOrder to the downloaded chain, with DNS-01 challenges. */
#ifndef ACME_ORDER_H
#define ACME_ORDER_H

#include <stddef.h>

#include "cert.h"
#include "client.h"
#include "proc.h"

struct acme_order_req {
	const struct acme_names *names;
	const unsigned char *csr_der;
	size_t csr_len;
	const char *replaces;        /* ARI certID of the certificate this one replaces, or NULL */
	const char *preferred_chain; /* CN of the preferred top issuer, or NULL */
};

/*
 * Run the order: create it, publish every dns-01 TXT through the DNS process dns, wait for
 * propagation, trigger the challenges, poll the authorizations, remove the TXT records (always,
 * also on failure), finalize with the CSR, poll the order and download the chain (choosing an
 * alternate chain when preferred_chain names its top issuer). *chain is a new PEM string.
 */
offca_rc acme_order_run(struct acme_client *c, struct acme_proc *dns, const struct acme_order_req *req,
			char **chain, size_t *chain_len);

/* The TXT value for a dns-01 token: base64url(SHA-256(token "." thumbprint)). New string. */
offca_rc acme_dns01_value(const char *token, const char *thumbprint, char **value);

#endif
