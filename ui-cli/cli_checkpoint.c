/* cli_checkpoint.c - the audit head signed at the end of offca sign and offca crl. */
#include "cli.h"

#include <stdio.h>

#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"

offca_rc cli_checkpoint(struct ca_signer *s, struct ca_store *st, char *msg, size_t cap)
{
	unsigned char hash[32];
	uint64_t seq = 0;
	char hex[65];
	offca_rc rc = ca_signer_checkpoint(s, st, &seq, hash);

	msg[0] = '\0';
	if (rc != OFFCA_OK) {
		snprintf(msg, cap, "signing the audit head failed: %s", ut_err_msg());
		return rc;
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	fprintf(stderr, "offca: audit head #%llu sha256 %s signed by issuer '%s'\n", (unsigned long long)seq, hex,
		ca_signer_issuer_name(s));
	return OFFCA_OK;
}
