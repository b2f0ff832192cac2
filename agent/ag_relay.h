/*
 * ag_relay.h - offca-agent's relay side (delivery pattern 5, docs/agent.md): GET the object named
 * by the endpoint's key hash, decrypt it with the endpoint's key, verify the CA's signature to the
 * pinned root, the endpoint, the sequence number and the certificate, install as a renewal does.
 */
#ifndef OFFCA_AG_RELAY_H
#define OFFCA_AG_RELAY_H

#include "agent.h"

/* GET url (cafile: the relay's TLS trust, NULL: the system's; cert/key: a TLS client certificate,
   NULL: none). Errors: OFFCA_E_NETWORK, OFFCA_E_VERIFY (an answer larger than any relay object). */
offca_rc ag_relay_get(const char *url, const char *cafile, const char *cert, const char *key, ag_resp *r);

/* what a relay object delivered, after every check */
typedef struct ag_relay_obj {
	ag_issued is;
	EVP_PKEY *key;          /* the delivered key (issuer-generated), else NULL */
	unsigned long long seq;
} ag_relay_obj;
void ag_relay_obj_clear(ag_relay_obj *o);

/*
 * Open a relay object: AuthEnvelopedData to key (a key file's, or the endpoint's token key: the
 * key agreement or RSA-OAEP runs on the token), pub its public half; SignedData by a CA certificate chaining
 * to root, content for the endpoint hashed `endpoint`, a certificate for key (or for the delivered
 * key) chaining to root. Errors: OFFCA_E_VERIFY / OFFCA_E_PARSE with the reason.
 */
offca_rc ag_relay_open(const unsigned char *obj, size_t len, EVP_PKEY *key, EVP_PKEY *pub, X509 *root,
		       const unsigned char endpoint[32], ag_relay_obj *out);

/* offca-agent run --relay URL */
int ag_relay_run(const ag_opts *o);

#endif
