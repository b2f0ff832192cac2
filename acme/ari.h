/* ari.h - ACME Renewal Information (RFC 9773). */
#ifndef ACME_ARI_H
#define ACME_ARI_H

#include <openssl/x509.h>
#include <time.h>

#include "client.h"

/* certID = base64url(AKI keyIdentifier) "." base64url(serial DER content octets). New string. */
offca_rc acme_ari_certid(X509 *cert, char **out);

/*
 * Ask the CA's renewalInfo for the suggested window of cert. OFFCA_E_UNSUPPORTED when the
 * directory has no renewalInfo. start and end are set on success.
 */
offca_rc acme_ari_window(struct acme_client *c, X509 *cert, time_t *start, time_t *end);

/* Parse an RFC 3339 timestamp ("2025-01-02T03:04:05Z", fraction and offset allowed). */
offca_rc acme_rfc3339(const char *s, time_t *out);

#endif
