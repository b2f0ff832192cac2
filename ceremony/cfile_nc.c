/*
 * cfile_nc.c - a signing session's CSR files against the name constraints (permit-dns) of the
 * intermediates the same ceremony makes above its issuer: refused by `ceremony validate`, before
 * any token is touched, instead of at signing time in the middle of the ceremony.
 */
#include "ceremony_int.h"

#include <openssl/x509v3.h> /* before offca/csr.h, which uses GENERAL_NAMES */
#include <stdio.h>

#include "offca/csr.h"
#include "offca/policy.h"
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
