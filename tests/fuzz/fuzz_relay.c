/*
 * fuzz_relay.c - the RelayContent an endpoint decrypts and verifies from a relay object
 * (offca/publish.h, docs/formats.md): ca_pub_content_decode() on any bytes, the reader offca-agent
 * runs after the CMS layers. For an accepted input:
 *  - the fields hold what the decoder promises: a certificate, at most CA_PUB_MAX_CHAIN chain
 *    certificates, a sequence number of at least 1;
 *  - without a delivered key, ca_pub_content_encode() of the decoded content gives the input back
 *    byte for byte (only canonical DER is accepted).
 * A broken promise aborts: it is a finding like a crash.
 *
 * FUZZ_MAX_LEN 16384
 */
#include "offca/publish.h"
#include "offca/util.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_relay: %s (%s)\n", what, ut_err_msg());
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ca_pub_content c;
	unsigned char *der = NULL;
	size_t len = 0;

	if (ca_pub_content_decode(data, size, &c) != OFFCA_OK) {
		ERR_clear_error();
		return 0;
	}
	if (c.cert == NULL || c.chain == NULL || c.sequence == 0 || sk_X509_num(c.chain) > CA_PUB_MAX_CHAIN)
		fail("an accepted content breaks the decoder's promises");
	if (c.key == NULL) {
		if (ca_pub_content_encode(&c, &der, &len) != OFFCA_OK)
			fail("an accepted content does not encode");
		if (len != size || memcmp(der, data, size) != 0)
			fail("an accepted content re-encodes to other bytes");
		OPENSSL_free(der);
	}
	ca_pub_content_clear(&c);
	ERR_clear_error();
	return 0;
}
