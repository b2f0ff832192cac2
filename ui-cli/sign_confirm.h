/* sign_confirm.h - offca sign on a terminal: show what will be signed and ask for "yes". */
#ifndef OFFCA_CLI_SIGN_CONFIRM_H
#define OFFCA_CLI_SIGN_CONFIRM_H

#include <stdio.h>

#include "offca/config.h"
#include "offca/sign.h"

/*
 * Policy-check the batch (ca_sign_check: nothing signed), show on out what would be signed (count,
 * issuer, profile, validity, each subject and SANs; more than CLI_SIGN_SHOW_ALL CSRs: the first
 * and last few), then read one line from in: "yes" signs (OFFCA_OK); anything else signs nothing
 * (OFFCA_E_ABORTED). Errors: ca_sign_check's (a refused CSR), OFFCA_E_ABORTED.
 */
#define CLI_SIGN_SHOW_ALL 12
offca_rc cli_sign_confirm(ca_signer *s, const ca_config *cfg, const ca_sign_input *inputs, size_t n,
			  const ca_sign_opts *so, const char *profile, FILE *in, FILE *out);

#endif
