/*
 * sign_record.c - the store record of a certificate we just built, from the X509 in hand.
 *
 * The store's ca_cert_record_from_x509() (record_x509.c) builds the record without parsing the
 * DER again (OpenSSL 3 decodes the public key on every parse, which costs as much as the
 * signature); this only adds the check that the certificate carries the serial we reserved.
 * test_sign.c checks the pipeline's records equal ca_cert_record_from_der()'s.
 */
#include "offca/util.h"
#include "sign_int.h"

#include <string.h>

offca_rc sign_record(X509 *x, const unsigned char *der, size_t len, const char *issuer, const char *profile,
		     const char *source, const ca_serial *serial, ca_cert_record *r)
{
	char hex[2 * CA_SERIAL_LEN + 1];
	offca_rc rc = ca_cert_record_from_x509(x, der, len, issuer, profile, source, r);

	if (rc != OFFCA_OK)
		return rc;
	if (memcmp(r->serial.b, serial->b, CA_SERIAL_LEN) != 0) {
		ca_cert_record_clear(r);
		return ut_err(OFFCA_E_INTERNAL, "certificate built with serial other than the reserved %s",
			      ca_serial_hex(serial, hex, sizeof(hex)));
	}
	return OFFCA_OK;
}
