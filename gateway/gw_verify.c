/*
 * gw_verify.c - client certificates presented for /simplereenroll: the chain is verified here with
 * OpenSSL against the CA chain the gateway pins (GnuTLS only requests the certificate), with the
 * newest CRL the gateway received from the CA for the leaf's issuer.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "gw.h"
#include "offca/util.h"

STACK_OF(X509) *gw_roots_of(STACK_OF(X509) *chain)
{
	STACK_OF(X509) *roots = sk_X509_new_null();

	for (int i = 0; roots != NULL && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_check_issued(x, x) == X509_V_OK && X509_up_ref(x))
			sk_X509_push(roots, x);
	}
	return roots;
}

const char *gw_profile_of(X509 *x)
{
	uint32_t xku = X509_get_extended_key_usage(x);
	int srv = (xku & XKU_SSL_SERVER) != 0, cli = (xku & XKU_SSL_CLIENT) != 0;

	if (srv && cli)
		return "mtls";
	return srv ? "server" : "client";
}

struct crl_find {
	X509_NAME *issuer;
	X509_CRL *crl;
};

static int find_crl(void *arg, const char *key, json_t *val)
{
	struct crl_find *f = arg;
	const char *b64 = json_string_value(json_object_get(val, "der"));
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t n = 0;
	X509_CRL *crl;

	(void)key;
	if (b64 == NULL || est_b64_decode((const unsigned char *)b64, strlen(b64), 64u << 20, &der, &n) != OFFCA_OK)
		return 0;
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)n);
	free(der);
	if (crl != NULL && X509_NAME_cmp(X509_CRL_get_issuer(crl), f->issuer) == 0) {
		f->crl = crl;
		return 1;
	}
	X509_CRL_free(crl);
	return 0;
}

offca_rc gw_verify_client(gw_state *st, STACK_OF(X509) *pinned, STACK_OF(X509) *peer)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct crl_find f = {0};
	X509 *leaf;
	offca_rc rc = OFFCA_E_NOMEM;
	int err;

	if (store == NULL || ctx == NULL || untrusted == NULL)
		goto out;
	if (peer == NULL || sk_X509_num(peer) < 1) {
		rc = ut_err(OFFCA_E_VERIFY, "no client certificate (re-enrollment needs the current certificate over TLS)");
		goto out;
	}
	leaf = sk_X509_value(peer, 0);
	for (int i = 0; i < sk_X509_num(pinned); i++) {
		X509 *x = sk_X509_value(pinned, i);

		if (X509_check_issued(x, x) == X509_V_OK)
			X509_STORE_add_cert(store, x);
		else
			sk_X509_push(untrusted, x);
	}
	for (int i = 1; i < sk_X509_num(peer); i++)
		sk_X509_push(untrusted, sk_X509_value(peer, i));
	f.issuer = X509_get_issuer_name(leaf);
	if ((rc = gw_each(st, GW_DB_CRL, find_crl, &f)) != OFFCA_OK)
		goto out;
	if (f.crl != NULL) {
		X509_STORE_add_crl(store, f.crl);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	/* no EKU purpose: a server certificate authenticates its own renewal (RFC 7030 3.3.2 leaves the
	   check to the server; what matters is the pinned chain, validity and revocation) */
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		rc = ut_err_ssl(OFFCA_E_NOMEM, "client certificate check");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		rc = ut_err(OFFCA_E_VERIFY, "client certificate refused: %s", err == X509_V_ERR_CERT_REVOKED ?
			    "it is revoked (CRL from the CA)" : X509_verify_cert_error_string(err));
		goto out;
	}
	rc = OFFCA_OK;
out:
	X509_CRL_free(f.crl);
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

void gw_serial_hex(X509 *x, char out[CA_STORE_SERIAL_HEX])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(out, CA_STORE_SERIAL_HEX, "%s", h != NULL ? h : "?");
	OPENSSL_free(h);
	BN_free(bn);
}
