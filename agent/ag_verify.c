/*
 * ag_verify.c - what comes back is checked before anything is written: a certificate for the
 * endpoint's own key, with exactly the names asked for, chaining to the pinned root, and not a
 * rollback (older than, or the same as, the installed certificate).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>

#include "agent.h"
#include "offca/util.h"

void ag_issued_clear(ag_issued *i)
{
	X509_free(i->leaf);
	sk_X509_pop_free(i->inter, X509_free);
	memset(i, 0, sizeof(*i));
}

offca_rc ag_load_cert(const char *path, X509 **out)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	BIO *b;
	offca_rc rc = ut_read_file(path, 64 * 1024, 0, &buf, &n);

	*out = NULL;
	if (rc != OFFCA_OK)
		return ut_err(rc, "%s: %s", path, ut_err_msg());
	b = BIO_new_mem_buf(buf, (int)n);
	*out = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	free(buf);
	return *out != NULL ? OFFCA_OK : ut_err(OFFCA_E_PARSE, "%s: not a PEM certificate", path);
}

offca_rc ag_chain_to_root(X509 *leaf, STACK_OF(X509) *others, X509 *root, STACK_OF(X509) **inter)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *full = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	*inter = NULL;
	if (st == NULL || ctx == NULL || !X509_STORE_add_cert(st, root) || !X509_STORE_CTX_init(ctx, st, leaf, others))
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		rc = ut_err(OFFCA_E_VERIFY, "the certificate does not chain to the pinned root: %s",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	full = X509_STORE_CTX_get1_chain(ctx);
	if (full == NULL)
		goto out;
	X509_free(sk_X509_shift(full)); /* the leaf */
	if (sk_X509_num(full) > 0)
		X509_free(sk_X509_pop(full)); /* the root */
	*inter = full;
	rc = OFFCA_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc == OFFCA_E_NOMEM ? ut_err(rc, "out of memory") : rc;
}

offca_rc ag_verify_answer(const ag_resp *r, EVP_PKEY *key, const char *want_sans, X509 *root, X509 *installed,
			  ag_issued *out)
{
	STACK_OF(X509) *certs = NULL;
	X509 *leaf = NULL;
	char sans[EST_MAX_SANS_TEXT];
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	if ((rc = est_p7_decode(r->body, r->len, &certs)) != OFFCA_OK)
		return ut_err(rc, "the gateway's answer: %s", ut_err_msg());
	for (int i = 0; i < sk_X509_num(certs) && leaf == NULL; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, i)), key) == 1)
			leaf = sk_X509_value(certs, i);
	if (leaf == NULL) {
		rc = ut_err(OFFCA_E_VERIFY, "the gateway's answer holds no certificate for this endpoint's key");
		goto out;
	}
	if ((rc = est_cert_sans_text(leaf, sans, sizeof(sans))) != OFFCA_OK)
		goto out;
	if (strcmp(sans, want_sans) != 0) {
		rc = ut_err(OFFCA_E_VERIFY, "the certificate names %s, not %s as asked", sans[0] ? sans : "nothing", want_sans);
		goto out;
	}
	if ((rc = ag_chain_to_root(leaf, certs, root, &out->inter)) != OFFCA_OK)
		goto out;
	if (installed != NULL) {
		int d = ASN1_TIME_compare(X509_get0_notBefore(leaf), X509_get0_notBefore(installed));

		if (d < 0 || ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(installed)) == 0) {
			rc = ut_err(OFFCA_E_VERIFY, "rollback refused: the answer is %s the installed certificate",
				    d < 0 ? "older than" : "the same as");
			goto out;
		}
	}
	X509_up_ref(leaf);
	out->leaf = leaf;
	rc = OFFCA_OK;
out:
	if (rc != OFFCA_OK)
		ag_issued_clear(out);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}
