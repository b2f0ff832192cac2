/*
 * fuzz_acme_chain.c - the certificate chain an ACME server sends (application/pem-certificate-
 * chain): acme_chain_split (leaf, its PEM, the rest) and acme_chain_top_issuer, as offca-acme
 * runs them on every downloaded chain before writing cert.pem, chain.pem and fullchain.pem.
 *
 * Checks: on success the leaf parses back from cert_pem, the leaf's PEM and the rest are
 * NUL-terminated, and the top issuer is a terminated string inside its buffer.
 *
 * FUZZ_MAX_LEN 32768
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509 *leaf = NULL, *again = NULL;
	char *cert = NULL, *rest = NULL, *s, top[64];
	BIO *b = NULL;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (acme_chain_split(s, size, &leaf, &cert, &rest) == OFFCA_OK) {
		if (leaf == NULL || cert == NULL || rest == NULL)
			abort();
		b = BIO_new_mem_buf(cert, -1);
		again = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		if (again == NULL || X509_cmp(again, leaf) != 0)
			abort(); /* cert.pem must hold the leaf */
	}
	memset(top, 'x', sizeof(top));
	(void)acme_chain_top_issuer(s, size, top, sizeof(top));
	if (memchr(top, '\0', sizeof(top)) == NULL)
		abort();
	X509_free(leaf);
	X509_free(again);
	BIO_free(b);
	free(cert);
	free(rest);
	free(s);
	ERR_clear_error();
	return 0;
}
