/* sign_confirm.c - the human in the loop for `offca sign` on a terminal: what is about to be
   signed, then "yes" (issue 17). Without a terminal, or with --yes, cmd_sign does not call this. */
#include "sign_confirm.h"

#include <string.h>
#include <time.h>

#include "offca/policy.h"
#include "offca/util.h"

#define SHOW_ENDS 5 /* a long batch: this many at each end */

static void show_one(FILE *out, const ca_sign_input *in, const ca_signed *c, size_t i)
{
	fprintf(out, "  %3zu  %s\n       subject  %s\n       SANs     %s%s\n", i + 1, in->label,
		c->subject[0] ? c->subject : "(empty)", c->sans[0] ? c->sans : "(none)",
		c->cn_copied ? " (CN copied into a SAN by policy)" : "");
}

static void show_validity(FILE *out, ca_signer *s, const ca_config *cfg, const ca_sign_opts *so)
{
	const ca_issuer_cfg *ic = ca_config_issuer(cfg, ca_signer_issuer_name(s));
	unsigned days = 0;
	char until[32];
	time_t t;
	struct tm tm;

	if (ic == NULL || ca_policy_days(&ic->policy, so->days, &days) != OFFCA_OK) {
		fprintf(out, "  validity  %u days from signing\n", so->days);
		return;
	}
	t = time(NULL) + (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	fprintf(out, "  validity  %u days from now (until about %s UTC)%s\n", days, until,
		so->days ? "" : ", the policy's default");
}

offca_rc cli_sign_confirm(ca_signer *s, const ca_config *cfg, const ca_sign_input *inputs, size_t n,
			  const ca_sign_opts *so, const char *profile, FILE *in, FILE *out)
{
	ca_sign_result chk;
	char ans[64];
	size_t len;
	offca_rc rc;

	memset(&chk, 0, sizeof(chk));
	rc = ca_sign_check(s, inputs, n, so, &chk);
	if (rc != OFFCA_OK)
		return rc;
	fprintf(out, "About to sign %zu certificate%s\n  issuer    '%s'\n  profile   %s\n", n, n == 1 ? "" : "s",
		ca_signer_issuer_name(s), profile);
	show_validity(out, s, cfg, so);
	for (size_t i = 0; i < chk.n; i++) {
		if (chk.n > CLI_SIGN_SHOW_ALL && i == SHOW_ENDS) {
			fprintf(out, "  ...  %zu more (not shown; --dry-run lists every one)\n", chk.n - 2 * SHOW_ENDS);
			i = chk.n - SHOW_ENDS - 1;
			continue;
		}
		show_one(out, &inputs[i], &chk.certs[i], i);
	}
	ca_sign_result_clear(&chk);
	fprintf(out, "Sign %s? Type yes to sign; anything else signs nothing: ", n == 1 ? "it" : "them all");
	fflush(out);
	if (fgets(ans, sizeof(ans), in) == NULL)
		return ut_err(OFFCA_E_ABORTED, "no answer: nothing signed");
	len = strcspn(ans, "\r\n");
	ans[len] = '\0';
	if (strcmp(ans, "yes") != 0)
		return ut_err(OFFCA_E_ABORTED, "answer '%.40s', not 'yes': nothing signed", ans);
	return OFFCA_OK;
}
