/* csr_int.h - internals shared by csr.c and csr_key.c (not public). */
#ifndef OFFCA_CSR_INT_H
#define OFFCA_CSR_INT_H

#include <stddef.h>
#include <openssl/x509.h>

#include "offca/csr.h"
#include "offca/err.h"

/* A library context whose only provider is "null", for d2i of requests without decoding their
   key (NULL if OpenSSL could not set it up). Process lifetime. */
OSSL_LIB_CTX *csr_nokey_ctx(void);

/* Decode the SubjectPublicKeyInfo of req (parsed in csr_nokey_ctx()) into *out (new reference,
   default library context). OFFCA_E_PARSE ("policy csr-key"), OFFCA_E_NOMEM. */
offca_rc csr_key_decode(X509_REQ *req, EVP_PKEY **out);

/* Check req's self-signature with pub. der/len: the request's canonical DER (the bytes req was
   parsed from, already checked to be exactly its re-encoding). OFFCA_E_POLICY
   ("policy csr-signature"; "policy csr-signature-digest" for MD2/MD4/MD5/SHA-1/SHA-224/MDC2/
   RIPEMD-160, RSA-PSS included, refused before anything is verified). */
offca_rc csr_sig_verify(X509_REQ *req, EVP_PKEY *pub, const unsigned char *der, size_t len);

#endif
