/* sign.c - the signer (issuer + settings + key) and the dry-run check of a batch. */
#include "offca/sign.h"
#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/util.h"
#include "offca/x509.h"
#include "sign_int.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

void ca_signer_free(ca_signer *s)
{
	if (s == NULL)
		return;
	ca_issuer_clear(&s->iss);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}

const char *ca_signer_issuer_name(const ca_signer *s) { return s->iss.name; }
const char *ca_signer_key_uri(const ca_signer *s) { return s->iss.key_uri; }
X509 *ca_signer_issuer_cert(const ca_signer *s) { return s->cert; }
const ca_issuer_cfg *ca_signer_settings(const ca_signer *s) { return s->cfg; }

offca_rc ca_sign_default_issuer(ca_store *st, char name[64])
{
	ca_issuer def, *list = NULL;
	size_t n = 0;
	const ca_issuer *best = NULL;
	offca_rc rc;

	memset(&def, 0, sizeof(def));
	name[0] = '\0';
	if ((rc = ca_store_issuer_default(st, &def)) != OFFCA_OK)
		return rc;
	if (def.key_uri[0] != '\0') {
		snprintf(name, 64, "%s", def.name);
		ca_issuer_clear(&def);
		return OFFCA_OK;
	}
	ca_issuer_clear(&def);
	if ((rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const ca_issuer *c = &list[i];
		if (c->key_uri[0] == '\0')
			continue;
		if (best == NULL || (best->is_root && !c->is_root) ||
		    (best->is_root == c->is_root && c->created >= best->created))
			best = c;
	}
	if (best != NULL)
		snprintf(name, 64, "%s", best->name);
	ca_issuer_list_free(list, n);
	if (name[0] == '\0')
		return ut_err(OFFCA_E_STATE, "no issuer with a key on a token here: name one with --issuer");
	return OFFCA_OK;
}

#define CHAIN_MAX_DEPTH 16

/* s->chain: the issuer's certificate, then its parents' up to the root, for the name constraints
   of every CA above what gets signed. */
static offca_rc load_chain(ca_signer *s, ca_store *st)
{
	ca_issuer p;
	char parent[64];
	offca_rc rc = OFFCA_OK;

	memset(&p, 0, sizeof(p));
	if ((s->chain = sk_X509_new_null()) == NULL || !X509_up_ref(s->cert))
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (!sk_X509_push(s->chain, s->cert)) {
		X509_free(s->cert);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	snprintf(parent, sizeof(parent), "%s", s->iss.is_root ? "" : s->iss.parent);
	while (rc == OFFCA_OK && parent[0] != '\0') {
		X509 *x = NULL;
		if (sk_X509_num(s->chain) >= CHAIN_MAX_DEPTH)
			return ut_err(OFFCA_E_STORE, "issuer chain of '%s' is longer than %d (loop?)", s->iss.name,
				      CHAIN_MAX_DEPTH);
		rc = ca_store_issuer_get(st, parent, &p);
		if (rc == OFFCA_E_NOT_FOUND)
			rc = ut_err(OFFCA_E_STATE, "issuer '%s' of '%s' is not in the store", parent, s->iss.name);
		if (rc == OFFCA_OK)
			rc = ca_x509_from_der(p.der, p.der_len, &x);
		if (rc == OFFCA_OK && !sk_X509_push(s->chain, x)) {
			X509_free(x);
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		}
		snprintf(parent, sizeof(parent), "%s", p.is_root ? "" : p.parent);
		ca_issuer_clear(&p);
	}
	return rc;
}

offca_rc ca_signer_new(ca_store *st, const ca_config *cfg, const char *issuer, ca_signer **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	ca_signer *s = NULL;
	char when[64] = "";

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (issuer == NULL) {
		char def[64];
		if ((rc = ca_sign_default_issuer(st, def)) != OFFCA_OK)
			goto out;
		rc = ca_store_issuer_get(st, def, &s->iss);
	} else {
		rc = ca_store_issuer_get(st, issuer, &s->iss);
	}
	if (rc == OFFCA_E_NOT_FOUND)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no issuer named '%s' (see offca ca list)", issuer ? issuer : "");
	if (rc != OFFCA_OK)
		goto out;
	if ((rc = ca_x509_from_der(s->iss.der, s->iss.der_len, &s->cert)) != OFFCA_OK)
		goto out;
	if (ca_x509_time_invalid(s->cert, (int64_t)time(NULL))) {
		BIO *b = BIO_new(BIO_s_mem());
		if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(s->cert)) == 1)
			BIO_read(b, when, sizeof(when) - 1);
		BIO_free(b);
		rc = ut_err(OFFCA_E_STATE, "issuer '%s' is not valid now (notAfter %s): it cannot sign",
			    s->iss.name, when);
		goto out;
	}
	if ((rc = load_chain(s, st)) != OFFCA_OK)
		goto out;
	s->cfg = ca_config_issuer(cfg, s->iss.name);
	*out = s;
	s = NULL;
	rc = OFFCA_OK;
out:
	ca_signer_free(s);
	return rc;
}

offca_rc ca_signer_set_key(ca_signer *s, EVP_PKEY *priv, EVP_PKEY *pub)
{
	if (priv == NULL || pub == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_signer_set_key: no key");
	if (EVP_PKEY_eq(X509_get0_pubkey(s->cert), pub) != 1) {
		ERR_clear_error();
		return ut_err(OFFCA_E_VERIFY, "the key on the token is not the key of issuer '%s'", s->iss.name);
	}
	s->priv = priv;
	s->pub = pub;
	return OFFCA_OK;
}

void sign_sans_text(const GENERAL_NAMES *sans, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		char one[300];
		int w;
		ca_policy_san_text(sk_GENERAL_NAME_value(sans, i), one, sizeof(one));
		w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", one);
		if (w < 0 || (size_t)w >= cap - used) {
			if (cap > 4)
				memcpy(buf + cap - 4, "...", 4);
			return;
		}
		used += (size_t)w;
	}
}

offca_rc sign_validity(const ca_signer *s, unsigned days, int64_t *nb, int64_t *na)
{
	time_t end;

	*nb = (int64_t)time(NULL) - CA_SIGN_BACKDATE;
	*na = *nb + (int64_t)days * 86400;
	end = (time_t)*na;
	if (X509_cmp_time(X509_get0_notAfter(s->cert), &end) < 0)
		return ut_err(OFFCA_E_POLICY, "policy issuer-validity: %u days would end after issuer '%s' "
					      "expires", days, s->iss.name);
	return OFFCA_OK;
}

void ca_sign_result_clear(ca_sign_result *res)
{
	if (res == NULL)
		return;
	for (size_t i = 0; res->certs != NULL && i < res->n; i++)
		OPENSSL_free(res->certs[i].der);
	free(res->certs);
	memset(res, 0, sizeof(*res));
	res->failed_index = SIZE_MAX;
}

offca_rc ca_sign_check(ca_signer *s, const ca_sign_input *in, size_t n, const ca_sign_opts *opts,
		       ca_sign_result *res)
{
	offca_rc rc;
	unsigned days;
	int64_t nb, na;

	memset(res, 0, sizeof(*res));
	res->failed_index = SIZE_MAX;
	if (n == 0 || n > CA_SIGN_MAX_BATCH)
		return ut_err(OFFCA_E_USAGE, "between 1 and %u CSRs per batch", CA_SIGN_MAX_BATCH);
	if ((rc = ca_policy_days(&s->cfg->policy, opts->days, &days)) != OFFCA_OK ||
	    (rc = sign_validity(s, days, &nb, &na)) != OFFCA_OK)
		return rc;
	res->certs = calloc(n, sizeof(*res->certs));
	if (res->certs == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	res->n = n;
	for (size_t i = 0; i < n; i++) {
		ca_csr *csr = NULL;
		ca_request req;
		memset(&req, 0, sizeof(req));
		rc = ca_csr_parse(in[i].csr, in[i].csr_len, &csr);
		if (rc == OFFCA_OK)
			rc = ca_policy_check_chain(&s->cfg->policy, s->chain, csr, &req);
		if (rc == OFFCA_OK) {
			(void)ca_x509_name_text(req.subject, res->certs[i].subject, sizeof(res->certs[i].subject)); /* a summary: cut is fine */
			sign_sans_text(req.sans, res->certs[i].sans, sizeof(res->certs[i].sans));
			res->certs[i].cn_copied = req.cn_copied;
		}
		ca_request_clear(&req);
		ca_csr_free(csr);
		if (rc != OFFCA_OK) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", ut_err_msg());
			res->failed_index = i;
			return ut_err(rc, "%s: %s", in[i].label, msg);
		}
	}
	return OFFCA_OK;
}
