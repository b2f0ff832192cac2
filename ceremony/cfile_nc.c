/*
 * cfile_nc.c - a signing session's CSR files against the name constraints (permit-dns) of the
 * intermediates the same ceremony makes above its issuer: refused by `ceremony validate`, before
 * any token is touched, instead of at signing time in the middle of the ceremony. With the CA
 * home at hand (not --offline), the same for sessions whose issuer is already in the store,
 * against the name constraints of its certificate and of every CA above it.
 */
#include "ceremony_int.h"

#include <openssl/x509v3.h> /* before offca/csr.h, which uses GENERAL_NAMES */
#include <stdio.h>
#include <string.h>

#include "offca/csr.h"
#include "offca/policy.h"
#include "offca/store.h"
#include "offca/util.h"
#include "offca/x509.h"

/* One CSR file against the permitted subtrees of step ca (and of the ceremony's CAs above it). */
static void check_file(const cer_file *f, const cer_step *session, size_t si, size_t k, cer_diag *d)
{
	ca_csr *csr = NULL;

	if (ca_csr_load(session->csrs[k], &csr) != OFFCA_OK) {
		ca_csr_free(csr);
		return; /* already reported by the step's own check */
	}
	for (int s = session->issuer_step, depth = 0; s >= 0 && (unsigned)depth < CER_MAX_STEPS; depth++) {
		const cer_step *ca = &f->steps[s];
		NAME_CONSTRAINTS *nc = NULL;
		char who[160];

		snprintf(who, sizeof(who), "%s, made by steps[%d]", ca->name, s);
		if (ca_x509_nc_permit_dns((const char *const *)ca->permit_dns, ca->n_permit_dns, &nc) != OFFCA_OK ||
		    ca_policy_name_constraints(nc, who, X509_REQ_get_subject_name(ca_csr_req(csr)),
					       ca_csr_sans(csr)) != OFFCA_OK)
			cer_diag_add(d, "steps[%zu].csrs[%zu]: %s (steps[%d].permit-dns)", si, k, ut_err_msg(), s);
		NAME_CONSTRAINTS_free(nc);
		s = ca->issuer_step;
	}
	ca_csr_free(csr);
}

void cer_steps_check_nc(const cer_file *f, cer_diag *d)
{
	for (size_t i = 0; i < f->n_steps; i++) {
		const cer_step *st = &f->steps[i];
		if (st->type != CER_SIGNING_SESSION || st->issuer_step < 0)
			continue;
		for (size_t k = 0; k < st->n_csrs; k++)
			if (st->csrs[k] != NULL)
				check_file(f, st, i, k, d);
	}
}

#define STORE_CHAIN_MAX 16

/* The issuer's certificate and its parents' from the store (NULL when one is missing). */
static STACK_OF(X509) *store_chain(ca_store *st, const char *name)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	char next[CER_NAME_LEN];
	ca_issuer iss;

	snprintf(next, sizeof(next), "%s", name);
	while (chain != NULL && next[0] != '\0') {
		X509 *x = NULL;
		memset(&iss, 0, sizeof(iss));
		if (sk_X509_num(chain) >= STORE_CHAIN_MAX || ca_store_issuer_get(st, next, &iss) != OFFCA_OK ||
		    ca_x509_from_der(iss.der, iss.der_len, &x) != OFFCA_OK || !sk_X509_push(chain, x)) {
			X509_free(x);
			sk_X509_pop_free(chain, X509_free);
			chain = NULL;
		}
		snprintf(next, sizeof(next), "%s", iss.is_root ? "" : iss.parent);
		ca_issuer_clear(&iss);
	}
	return chain;
}

void cer_steps_check_nc_store(const cer_file *f, ca_store *st, cer_diag *d)
{
	for (size_t i = 0; i < f->n_steps; i++) {
		const cer_step *s = &f->steps[i];
		STACK_OF(X509) *chain;

		if (s->type != CER_SIGNING_SESSION || s->issuer_step >= 0 || s->n_csrs == 0 || s->issuer[0] == '\0')
			continue;
		if ((chain = store_chain(st, s->issuer)) == NULL)
			continue; /* a missing issuer is reported by the store check */
		for (size_t k = 0; k < s->n_csrs; k++) {
			ca_csr *csr = NULL;
			if (s->csrs[k] != NULL && ca_csr_load(s->csrs[k], &csr) == OFFCA_OK &&
			    ca_policy_chain_constraints(chain, X509_REQ_get_subject_name(ca_csr_req(csr)),
							ca_csr_sans(csr)) != OFFCA_OK)
				cer_diag_add(d, "steps[%zu].csrs[%zu]: %s (issuer '%s' in the CA home)", i, k, ut_err_msg(),
					     s->issuer);
			ca_csr_free(csr);
		}
		sk_X509_pop_free(chain, X509_free);
	}
}
