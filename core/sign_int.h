/* sign_int.h - internals shared by sign.c, sign_batch.c and sign_ca.c (not public). */
#ifndef OFFCA_SIGN_INT_H
#define OFFCA_SIGN_INT_H

#include "offca/sign.h"
#include "offca/policy.h"

struct ca_signer {
	ca_issuer iss;                /* from the store (der owned) */
	X509 *cert;                   /* parsed iss.der */
	STACK_OF(X509) *chain;        /* cert, then its issuers up to the root (name constraints) */
	const ca_issuer_cfg *cfg;     /* borrowed from the config */
	EVP_PKEY *priv, *pub;         /* borrowed */
};

/* "DNS:a, IP:b" text of SANs into buf. */
void sign_sans_text(const GENERAL_NAMES *sans, char *buf, size_t cap);
/* Validity window for days starting now (backdated); refuses one ending after the issuer. */
offca_rc sign_validity(const ca_signer *s, unsigned days, int64_t *nb, int64_t *na);

/* The store record of a certificate we built (no re-parse; same result as
   ca_cert_record_from_der()). */
offca_rc sign_record(X509 *x, const unsigned char *der, size_t len, const char *issuer, const char *profile,
		     const char *source, const ca_serial *serial, ca_cert_record *r);

#endif
