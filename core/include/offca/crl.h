/*
 * offca/crl.h - CRLs signed on the token (prefix ca_crl_).
 *
 * A CRL is v2 with the issuer's name, thisUpdate = now, nextUpdate = now + days, one entry per
 * revoked certificate of that issuer (serial, revocation time, reasonCode unless unspecified),
 * and the extensions authorityKeyIdentifier and cRLNumber. The number comes from the store's
 * per-issuer ledger (committed before signing, so a number is never reused). The CRL is verified
 * with the issuer's public key, linted (ca_lint_crl), then recorded (ca_store_crl_record) as the
 * issuer's current CRL; only then is it returned.
 */
#ifndef OFFCA_CRL_H
#define OFFCA_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "offca/lint.h"
#include "offca/sign.h"
#include "offca/store.h"

#define CA_CRL_MAX_DAYS 366

typedef struct ca_crl_info {
	uint64_t number;
	int64_t this_update, next_update;
	size_t n_revoked;
	int warn;          /* ca_crl_status: < 25% of its validity left (or < 7 days for CRLs of 28+ days) */
	int expired;       /* ca_crl_status: nextUpdate has passed */
} ca_crl_info;

/*
 * Issue a CRL for the signer's issuer (key attached), valid days (0: the issuer's crl_days).
 * *der (OPENSSL_free) and *len receive it; info (may be NULL) is filled.
 * Errors: OFFCA_E_USAGE (days), OFFCA_E_STATE (no key), OFFCA_E_CRYPTO, OFFCA_E_VERIFY,
 * OFFCA_E_LINT, OFFCA_E_DISK_FULL, OFFCA_E_STORE, OFFCA_E_NOMEM.
 */
offca_rc ca_crl_issue(ca_store *st, ca_signer *s, unsigned days, const ca_lint_opts *lint,
		      unsigned char **der, size_t *len, ca_crl_info *info);

/*
 * Status of the issuer's current CRL at time now: number, times, entries, warn/expired flags.
 * Errors: OFFCA_E_NOT_FOUND (no CRL issued yet), OFFCA_E_PARSE, OFFCA_E_STORE.
 */
offca_rc ca_crl_status(ca_store *st, const char *issuer, int64_t now, ca_crl_info *info);

#endif
