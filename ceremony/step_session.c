/* step_session.c - signing-session: a batch of CSRs (files and/or the pending queue), each shown to
   the operator (subject, SANs) and approved one by one, then signed in one batch by core. */
#include "ceremony_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/config.h"
#include "offca/policy.h"
#include "offca/sign.h"
#include "offca/store.h"
#include "offca/util.h"

struct input {
	char label[PATH_MAX + 32];
	unsigned char *data;
	size_t len;
	uint64_t pending_id;   /* 0: a file */
	int approved;
	int refused;           /* by policy, never shown for approval */
	char serial[80];       /* once signed */
	char fp[128];          /* SHA-256 of the certificate's DER, once signed */
};

static offca_rc gather(cer_run_t *r, const cer_step *st, struct input **out, size_t *n)
{
	ca_pending *pend = NULL;
	size_t np = 0, k = 0;
	struct input *in = NULL;
	offca_rc rc = OFFCA_OK;

	*out = NULL;
	*n = 0;
	if (st->pending) {
		rc = ca_store_pending_list(r->store, &pend, &np);
		if (rc != OFFCA_OK)
			return rc;
	}
	in = calloc(st->n_csrs + np + 1, sizeof(*in));
	if (in == NULL) {
		ca_pending_list_free(pend, np);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < st->n_csrs && rc == OFFCA_OK; i++, k++) {
		snprintf(in[k].label, sizeof(in[k].label), "%s", st->csrs[i]);
		rc = ut_read_file(st->csrs[i], UT_MAX_CSR_FILE, 1, &in[k].data, &in[k].len);
	}
	for (size_t i = 0; i < np && rc == OFFCA_OK; i++, k++) {
		snprintf(in[k].label, sizeof(in[k].label), "pending %llu (%s)", (unsigned long long)pend[i].id,
			 pend[i].source);
		in[k].pending_id = pend[i].id;
		in[k].data = malloc(pend[i].len ? pend[i].len : 1);
		if (in[k].data == NULL) {
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
			break;
		}
		memcpy(in[k].data, pend[i].der, pend[i].len);
		in[k].len = pend[i].len;
	}
	ca_pending_list_free(pend, np);
	*out = in;
	*n = k;
	return rc;
}

static void free_inputs(struct input *in, size_t n)
{
	for (size_t i = 0; in != NULL && i < n; i++)
		free(in[i].data);
	free(in);
}

/* The validity the certificate will get ("90 days, until about 2027-03-07 UTC"). */
static const char *validity_text(cer_run_t *r, const cer_issuer_ctx *ic, const ca_sign_opts *so, char *buf,
				 size_t cap)
{
	const ca_issuer_cfg *icfg = r->cfg ? ca_config_issuer(r->cfg, ic->name) : NULL;
	unsigned days = so->days;
	char until[32];
	time_t t;
	struct tm tm;

	if (icfg != NULL && ca_policy_days(&icfg->policy, so->days, &days) != OFFCA_OK)
		days = so->days;
	t = time(NULL) + (time_t)days * 86400;
	strftime(until, sizeof(until), "%Y-%m-%d", gmtime_r(&t, &tm));
	snprintf(buf, cap, "%u days, until about %s UTC", days, until);
	return buf;
}

/* Show one CSR (after policy) and ask; refused CSRs are shown and skipped. */
static offca_rc review(cer_run_t *r, const cer_step *st, cer_issuer_ctx *ic, const ca_sign_opts *so,
		       struct input *in, size_t k)
{
	ca_sign_input si = {.label = in->label, .csr = in->data, .csr_len = in->len};
	ca_sign_result chk;
	char id[64], vbuf[96];
	offca_rc rc;

	memset(&chk, 0, sizeof(chk));
	rc = ca_sign_check(ic->signer, &si, 1, so, &chk);
	if (rc != OFFCA_OK) {
		cer_say(r, "\n  CSR %zu: %s\n    REFUSED by policy: %s\n", k + 1, in->label, ut_err_msg());
		in->refused = 1;
		rc = cer_log(r, "csr-refused", json_pack("{s:s, s:s}", "csr", in->label, "reason", ut_err_msg()));
		ca_sign_result_clear(&chk);
		return rc;
	}
	cer_say(r, "\n  CSR %zu: %s\n", k + 1, in->label);
	rc = cer_csr_show(r, in->label, in->data, in->len);
	if (rc != OFFCA_OK) {
		ca_sign_result_clear(&chk);
		return rc;
	}
	cer_say(r, "    subject (RFC 4514)       %s\n    SANs in the certificate  %s%s\n"
		   "    profile %s, issuer %s, validity %s\n",
		chk.certs[0].subject[0] ? chk.certs[0].subject : "(empty)", chk.certs[0].sans,
		chk.certs[0].cn_copied ? " (CN copied into a SAN by policy)" : "", st->profile, ic->name,
		validity_text(r, ic, so, vbuf, sizeof(vbuf)));
	snprintf(id, sizeof(id), "step%u.csr%zu", st->index, k + 1);
	rc = cer_ask_yes_no(r, id, "    Sign this one? (yes/no)", &in->approved);
	if (rc == OFFCA_OK) {
		if (!in->approved)
			cer_say(r, "    DECLINED by the administrator (%s): CSR %zu will not be signed.\n",
				r->f->administrator, k + 1);
		rc = cer_log(r, in->approved ? "csr-approved" : "csr-declined",
			     json_pack("{s:s, s:s, s:s, s:s, s:s}", "csr", in->label, "subject", chk.certs[0].subject,
				       "sans", chk.certs[0].sans, "answer", in->approved ? "yes" : "no", "by",
				       r->f->administrator));
	}
	ca_sign_result_clear(&chk);
	return rc;
}

static offca_rc release(cer_run_t *r, const cer_step *st, const ca_sign_result *res, struct input *in, size_t n)
{
	offca_rc rc = OFFCA_OK;
	size_t j = 0, nd = 0;

	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		X509 *x = NULL;
		char *pem = NULL, *hex = NULL, rel[PATH_MAX];
		size_t pl = 0;
		if (!in[i].approved)
			continue;
		rc = ca_x509_from_der(res->certs[j].der, res->certs[j].der_len, &x);
		if (rc == OFFCA_OK)
			rc = cer_show_cert(r, "Certificate", x);
		if (rc == OFFCA_OK)
			rc = cer_cert_pem(x, &pem, &pl);
		if (rc == OFFCA_OK)
			cer_cert_ids(x, in[i].serial, sizeof(in[i].serial), in[i].fp, sizeof(in[i].fp));
		hex = ut_hex(res->certs[j].serial.b, sizeof(res->certs[j].serial.b));
		if (rc == OFFCA_OK && hex == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		if (rc == OFFCA_OK && snprintf(rel, sizeof(rel), "%s/%s.pem", st->out[0].path, hex) >= (int)sizeof(rel))
			rc = ut_err(OFFCA_E_TOO_BIG, "output path too long");
		if (rc == OFFCA_OK)
			rc = cer_stage(r, rel, pem, pl);
		nd += in[i].pending_id != 0;
		free(hex);
		free(pem);
		X509_free(x);
		j++;
	}
	/* the signed CSRs left the pending queue in the transaction that recorded their certificates
	   (ca_sign_batch with pending_id): all or none, never half drained */
	if (rc == OFFCA_OK && nd > 0)
		rc = cer_log(r, "pending-removed", json_pack("{s:i, s:s}", "count", (int)nd, "how",
							     "with the certificate records, one transaction"));
	return rc;
}

/* Every CSR's outcome, then the counts (screen and transcript): nobody is left believing something
   was signed that was not. signed_ok: the batch was signed and released. */
static offca_rc outcomes(cer_run_t *r, const struct input *in, size_t n, int signed_ok)
{
	size_t ns = 0, nd = 0, nr = 0;

	cer_say(r, "\n  Outcome of each CSR:\n");
	for (size_t i = 0; i < n; i++) {
		if (in[i].refused) {
			nr++;
			cer_say(r, "    CSR %zu  REFUSED by policy  %s\n", i + 1, in[i].label);
		} else if (!in[i].approved) {
			nd++;
			cer_say(r, "    CSR %zu  DECLINED by the administrator (%s)  %s\n", i + 1, r->f->administrator,
				in[i].label);
		} else if (signed_ok) {
			ns++;
			cer_say(r, "    CSR %zu  SIGNED  serial %s\n           SHA-256 %s\n           %s\n", i + 1,
				in[i].serial, in[i].fp, in[i].label);
		}
	}
	cer_say(r, "  Signing session: %zu signed, %zu declined, %zu refused by policy (%zu CSR%s).\n", ns, nd, nr, n,
		n == 1 ? "" : "s");
	return cer_log(r, "session-summary", json_pack("{s:i, s:i, s:i, s:i}", "csrs", (int)n, "signed", (int)ns,
							  "declined", (int)nd, "refused", (int)nr));
}

offca_rc cer_step_session(cer_run_t *r, const cer_step *st)
{
	cer_issuer_ctx ic;
	struct input *in = NULL;
	ca_sign_input *si = NULL;
	ca_sign_result res;
	ca_sign_opts so;
	ca_lint_opts lo;
	char source[128];
	size_t n = 0, m = 0;
	offca_rc rc;

	memset(&ic, 0, sizeof(ic));
	memset(&res, 0, sizeof(res));
	memset(&so, 0, sizeof(so));
	cer_lint_opts(st, &lo);
	snprintf(source, sizeof(source), "ceremony %.80s step %u%s", r->f->name, st->index, r->dry_run ? " (dry run)" : "");
	rc = ca_profile_parse(st->profile, 1, &so.profile);
	if (rc != OFFCA_OK)
		goto out;
	so.days = st->validity.days;
	so.source = source;
	so.lint = &lo;
	so.threads = 1;
	rc = gather(r, st, &in, &n);
	if (rc != OFFCA_OK)
		goto out;
	rc = cer_issuer_prepare(r, st, &ic);
	if (rc == OFFCA_OK)
		rc = cer_issuer_key(r, &ic);
	if (rc != OFFCA_OK)
		goto out;
	cer_say(r, "\n  %zu CSR%s to review.\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		rc = review(r, st, &ic, &so, &in[i], i);
	if (rc != OFFCA_OK)
		goto out;
	si = calloc(n + 1, sizeof(*si));
	if (si == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (in[i].approved)
			si[m++] = (ca_sign_input){.label = in[i].label, .csr = in[i].data, .csr_len = in[i].len,
						  .pending_id = in[i].pending_id};
	if (m == 0) {
		cer_say(r, "  Nothing approved: nothing is signed.\n");
		rc = cer_log(r, "session-empty", NULL);
		if (rc == OFFCA_OK)
			rc = outcomes(r, in, n, 0);
		goto out;
	}
	cer_say(r, "\n  Signing %zu certificate%s with '%s' (one login, verified and linted by core)...\n", m,
		m == 1 ? "" : "s", ic.name);
	rc = cer_check_intr(r);
	if (rc == OFFCA_OK)
		rc = ca_sign_batch(ic.signer, r->store, si, m, &so, &res);
	if (rc == OFFCA_OK)
		rc = cer_log(r, "signature-verified", json_pack("{s:s, s:i}", "object", "certificates", "count", (int)m));
	if (rc == OFFCA_OK)
		rc = release(r, st, &res, in, n);
	if (rc == OFFCA_OK)
		rc = outcomes(r, in, n, 1);
out:
	ca_sign_result_clear(&res);
	cer_issuer_close(&ic);
	free(si);
	free_inputs(in, n);
	return rc;
}
