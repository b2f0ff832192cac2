/*
 * offca/payload.h - what a QR transfer carries (prefix xfr_payload_). Format: docs/formats.md.
 *
 * Each payload type has its own UR type, so a scanner knows what it got before it looks inside:
 *   ur:offca-csr    one PKCS#10 request, DER (strict, self-signature verified by core's intake)
 *   ur:offca-cert   one X.509 certificate, DER
 *   ur:offca-chain  certificates, DER, concatenated (leaf first as given), 1..XFR_PAYLOAD_MAX_CHAIN
 *   ur:offca-crl    one X.509 CRL, DER
 *   ur:offca-bundle an offca USB bundle file as is (docs/bundles.md), checked by its magic line
 *   ur:bytes        opaque bytes (the standard UR type; for interoperability tests)
 * PEM input is converted to DER before encoding (QR capacity is precious); decoding can give PEM
 * back. The payload is always checked before anything is written.
 */
#ifndef OFFCA_PAYLOAD_H
#define OFFCA_PAYLOAD_H

#include <stddef.h>

#include "offca/err.h"

#define XFR_PAYLOAD_MAX       (1024u * 1024u) /* bytes of one payload sent by QR */
#define XFR_PAYLOAD_MAX_CHAIN 16u             /* certificates in a chain payload */

typedef enum xfr_payload_type {
	XFR_PL_CSR = 0,
	XFR_PL_CERT,
	XFR_PL_CHAIN,
	XFR_PL_CRL,
	XFR_PL_BUNDLE,
	XFR_PL_BYTES,
	XFR_PL__COUNT
} xfr_payload_type;

/* Short name ("csr", "cert", "chain", "crl", "bundle", "bytes"). Never NULL. */
const char *xfr_payload_name(xfr_payload_type t);
/* UR type ("offca-csr", ..., "bytes"). Never NULL. */
const char *xfr_payload_ur_type(xfr_payload_type t);

/* Short name or UR type -> type. Errors: OFFCA_E_USAGE naming the accepted names. */
offca_rc xfr_payload_type_parse(const char *name, xfr_payload_type *out);

/* UR type of a received message -> type. Errors: OFFCA_E_PARSE (not one of ours). */
offca_rc xfr_payload_type_from_ur(const char *ur_type, xfr_payload_type *out);

/*
 * Turn file contents into a payload: detect the type when want is NULL (PEM label, bundle
 * magic, or DER that parses as a request, certificate(s) or CRL), convert PEM to DER and check
 * the result with xfr_payload_check(). *out (caller frees) and *outlen on success. Errors:
 * OFFCA_E_PARSE (unrecognised or malformed; the detail says which), OFFCA_E_TOO_BIG,
 * OFFCA_E_POLICY / OFFCA_E_VERIFY (a CSR refused by core's intake), OFFCA_E_NOMEM.
 */
offca_rc xfr_payload_prepare(const unsigned char *in, size_t len, const xfr_payload_type *want,
			     xfr_payload_type *type, unsigned char **out, size_t *outlen);

/*
 * Check that p really is a well-formed payload of type t (DER parsed completely with nothing
 * left over; a CSR passes core's strict intake, including its self-signature). Errors:
 * OFFCA_E_PARSE, OFFCA_E_TOO_BIG, OFFCA_E_POLICY (CSR refused), OFFCA_E_NOMEM.
 */
offca_rc xfr_payload_check(xfr_payload_type t, const unsigned char *p, size_t len);

/*
 * PEM text for a csr, cert, chain or crl payload (checked first). *pem (caller frees,
 * NUL-terminated), *pemlen. Errors: OFFCA_E_USAGE (bundle/bytes have no PEM form), those of
 * xfr_payload_check(), OFFCA_E_NOMEM.
 */
offca_rc xfr_payload_pem(xfr_payload_type t, const unsigned char *p, size_t len, char **pem, size_t *pemlen);

#endif
