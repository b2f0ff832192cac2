/* cmd_issue.c - offca-acme issue: one order per certificate name, outputs in archive/NAME/SERIAL/ and live/NAME. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "client.h"
#include "cmd.h"
#include "dns.h"
#include "key.h"
#include "offca/util.h"
#include "order.h"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The "dns" object of a certificate record from the command line. */
static offca_rc dns_from_opts(const struct acme_opts *o, json_t **out)
{
	char abs[PATH_MAX];
	json_t *d;

	*out = NULL;
	if (o->dns_hook != NULL && o->dns_method != NULL && strcmp(o->dns_method, "hook") != 0)
		return ut_err(OFFCA_E_USAGE, "--dns %s and --dns-hook exclude each other", o->dns_method);
	if (o->dns_hook == NULL && o->dns_method == NULL)
		return ut_err(OFFCA_E_USAGE, "issue: --dns rfc2136 ... or --dns-hook CMD is required");
	d = json_pack("{s:s, s:i, s:b}", "method", o->dns_hook != NULL ? "hook" : o->dns_method, "propagation_timeout",
		      o->propagation_timeout, "tcp", o->dns_tcp);
	if (d == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (o->dns_server != NULL)
		json_object_set_new(d, "server", json_string(o->dns_server));
	if (o->tsig_key != NULL)
		json_object_set_new(d, "tsig_key", json_string(o->tsig_key));
	json_object_set_new(d, "tsig_algorithm", json_string(o->tsig_alg != NULL ? o->tsig_alg : "hmac-sha256"));
	if (o->tsig_secret_file != NULL) /* the path only, never the secret */
		json_object_set_new(d, "tsig_secret_file",
				    json_string(realpath(o->tsig_secret_file, abs) != NULL ? abs : o->tsig_secret_file));
	else if (o->tsig_key != NULL) { /* the default: a 0600 file under the state dir */
		char st[PATH_MAX];
		int n = snprintf(abs, sizeof(abs), "%s/dns/tsig.secret", realpath(o->state, st) != NULL ? st : o->state);
		if (n > 0 && (size_t)n < sizeof(abs))
			json_object_set_new(d, "tsig_secret_file", json_string(abs));
	}
	if (o->dns_zone != NULL)
		json_object_set_new(d, "zone", json_string(o->dns_zone));
	if (o->dns_hook != NULL)
		json_object_set_new(d, "hook", json_string(o->dns_hook));
	*out = d;
	return OFFCA_OK;
}

static void dns_cfg(const json_t *d, int verbose, struct acme_dns_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->method = jstr(d, "method");
	c->server = jstr(d, "server");
	c->tsig_name = jstr(d, "tsig_key");
	c->tsig_alg = jstr(d, "tsig_algorithm");
	c->tsig_secret_file = jstr(d, "tsig_secret_file");
	c->zone = jstr(d, "zone");
	c->hook = jstr(d, "hook");
	c->use_tcp = json_is_true(json_object_get(d, "tcp"));
	c->propagation_timeout = (int)json_integer_value(json_object_get(d, "propagation_timeout"));
	c->ttl = 60;
	c->verbose = verbose;
	if (c->method == NULL)
		c->method = "";
}

/*
 * The new files go to archive/NAME/SERIAL/ (never overwriting), then live/NAME is switched to
 * them in one rename: a web server reading live/NAME/ sees the old or the new key + certificate,
 * never a mix.
 */
/* Every chain the CA offered, as chains/N.pem next to the files of the chosen one. */
static offca_rc write_chains(struct acme_session *s, const char *name, const char *serial,
			     const struct acme_chains *ch, json_t **list)
{
	offca_rc rc = OFFCA_OK;
	char rel[768], file[32];

	*list = json_array();
	if (*list == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	for (int i = 0; rc == OFFCA_OK && i < ch->n; i++) {
		snprintf(file, sizeof(file), "chains/%d.pem", i);
		snprintf(rel, sizeof(rel), "archive/%s/%s/%s", name, serial, file);
		rc = acme_fileproc_write(s->fp, rel, ch->pem[i], ch->len[i], UT_WF_EXCL);
		json_array_append_new(*list, json_pack("{s:s, s:s, s:b, s:b}", "file", file, "top_issuer", ch->top[i],
						       "default", i == 0, "chosen", i == ch->chosen));
	}
	return rc;
}

static offca_rc write_outputs(struct acme_session *s, const char *name, const struct acme_chains *ch,
			      int genkey, X509_REQ *req, X509 **leaf_out, json_t **chains)
{
	const char *chain = ch->pem[ch->chosen];
	size_t chain_len = ch->len[ch->chosen];
	offca_rc rc;
	X509 *leaf = NULL;
	char *cert = NULL, *rest = NULL, *serial = NULL, rel[768];
	static const char *const files[] = {"cert.pem", "chain.pem", "fullchain.pem"};

	*leaf_out = NULL;
	rc = acme_chain_split(chain, chain_len, &leaf, &cert, &rest);
	if (rc == OFFCA_OK)
		rc = acme_cert_matches_csr(leaf, req);
	if (rc == OFFCA_OK) {
		serial = acme_cert_serial_hex(leaf);
		if (serial == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	if (rc == OFFCA_OK && genkey) { /* written by the key process: this one never sees the key */
		snprintf(rel, sizeof(rel), "archive/%s/%s/privkey.pem", name, serial);
		rc = acme_keyproc_keysave(s->kp, rel);
	}
	for (size_t i = 0; rc == OFFCA_OK && i < sizeof(files) / sizeof(files[0]); i++) {
		const char *data = i == 0 ? cert : (i == 1 ? rest : chain);
		size_t dl = i == 2 ? chain_len : strlen(data);
		snprintf(rel, sizeof(rel), "archive/%s/%s/%s", name, serial, files[i]);
		rc = acme_fileproc_write(s->fp, rel, data, dl, UT_WF_EXCL);
	}
	if (rc == OFFCA_OK)
		rc = write_chains(s, name, serial, ch, chains);
	if (rc == OFFCA_OK)
		rc = acme_fileproc_link(s->fp, name, serial);
	if (rc == OFFCA_OK) {
		*leaf_out = leaf;
		leaf = NULL;
	}
	X509_free(leaf);
	free(cert);
	free(rest);
	free(serial);
	return rc;
}

/*
 * Run a deploy hook for the certificate name through the hook runner (sh -c CMD with certbot's
 * RENEWED_* variables): kind "deploy" is the hook given at issue and recorded, "option" renew's
 * --deploy-hook. Only hooks the runner was configured with at start can run.
 */
static offca_rc deploy(const struct acme_opts *o, const char *kind, const char *name, const json_t *doms)
{
	char names[4096] = "";
	size_t i, used = 0;
	json_t *x;
	int n;

	if (o->hooks == NULL)
		return ut_err(OFFCA_E_INTERNAL, "deploy hook without the hook runner");
	json_array_foreach(doms, i, x) {
		n = snprintf(names + used, sizeof(names) - used, "%s%s", used ? " " : "", json_string_value(x));
		if (n < 0 || (size_t)n >= sizeof(names) - used)
			break;
		used += (size_t)n;
	}
	return acme_hookproc_deploy(o->hooks, name, kind, names);
}

/*
 * The key policy of a generated key (recorded as key_policy, key_reuse_days, key_created): the
 * current key (archive/NAME/SERIAL/privkey.pem) is kept by "reuse", and by "reuse-for" while it
 * is younger than key_reuse_days; never after a revocation for key compromise. rel is set to
 * that key, or "" for a new key.
 */
static void key_to_reuse(const char *name, const json_t *rec, char *rel, size_t cap)
{
	const char *policy = jstr(rec, "key_policy"), *serial = jstr(rec, "serial");
	json_int_t created = json_integer_value(json_object_get(rec, "key_created"));
	json_int_t days = json_integer_value(json_object_get(rec, "key_reuse_days"));
	int keep;

	rel[0] = '\0';
	if (policy == NULL || serial == NULL || serial[0] == '\0' ||
	    json_integer_value(json_object_get(rec, "revoked_reason")) == 1)
		return;
	keep = strcmp(policy, "reuse") == 0 ||
	       (strcmp(policy, "reuse-for") == 0 && created > 0 && (json_int_t)time(NULL) - created < days * 86400);
	if (keep)
		snprintf(rel, cap, "archive/%s/%s/privkey.pem", name, serial);
}

/*
 * One order for the record rec (name, domains, mode, dns) with the session s (key, file and
 * client open). req is the endpoint's CSR (mode csr) or NULL (a key is generated).
 */
offca_rc acme_issue_one(struct acme_opts *o, struct acme_session *s, const char *name, json_t *rec,
			X509_REQ *req, const char *replaces)
{
	offca_rc rc;
	struct acme_names names = {0};
	struct acme_order_req oreq;
	json_t *doms = json_object_get(rec, "domains"), *x;
	X509_REQ *genreq = NULL;
	int kp_csr = req == NULL; /* der comes from the key process (free()) */
	X509 *leaf = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0, i;
	struct acme_chains chains = {0};
	json_t *chain_list = NULL;
	char *serial = NULL, rel[512], reuse[512] = "";
	time_t nb = 0, na = 0;
	char until[32];

	json_array_foreach(doms, i, x) {
		rc = acme_names_add(&names, json_string_value(x) ? json_string_value(x) : "");
		if (rc != OFFCA_OK)
			goto out;
	}
	if (req == NULL) { /* the key process makes the key and the CSR; we get the CSR only */
		struct acme_names csrnames = {0};
		key_to_reuse(name, rec, reuse, sizeof(reuse));
		if (o->verbose && reuse[0] != '\0')
			fprintf(stderr, "offca-acme: %s: key policy %s keeps the current key\n", name, jstr(rec, "key_policy"));
		rc = acme_keyproc_csr(s->kp, &names, NULL, reuse, &der, &derlen);
		if (rc == OFFCA_OK)
			rc = acme_csr_parse(der, derlen, &genreq, &csrnames);
		acme_names_clear(&csrnames);
		req = genreq;
	} else {
		rc = acme_csr_der(req, &der, &derlen);
	}
	if (rc != OFFCA_OK)
		goto out;
	dns_cfg(json_object_get(rec, "dns"), o->verbose, &s->dcfg);
	s->dcfg.hook_fd = -1;
	if (s->dcfg.hook != NULL && o->hooks == NULL)
		rc = ut_err(OFFCA_E_INTERNAL, "DNS hook without the hook runner");
	else if (s->dcfg.hook != NULL) /* the DNS process asks the runner on a channel of its own */
		rc = acme_hookproc_dns_channel(o->hooks, name, &s->dcfg.hook_fd);
	if (rc == OFFCA_OK)
		rc = acme_dnsproc_start(&s->dcfg, &s->dp);
	if (s->dcfg.hook_fd >= 0)
		close(s->dcfg.hook_fd); /* the DNS process has it; we never speak on it */
	s->dcfg.hook_fd = -1;
	if (rc != OFFCA_OK)
		goto out;
	memset(&oreq, 0, sizeof(oreq));
	oreq.names = &names;
	oreq.csr_der = der;
	oreq.csr_len = derlen;
	oreq.replaces = replaces;
	oreq.preferred_chain = jstr(rec, "preferred_chain");
	rc = acme_order_run(s->cl, s->dp, &oreq, &chains);
	acme_proc_free(s->dp); /* removes whatever TXT record is left */
	s->dp = NULL;
	if (rc != OFFCA_OK)
		goto out;
	rc = write_outputs(s, name, &chains, kp_csr, req, &leaf, &chain_list);
	if (rc != OFFCA_OK)
		goto out;
	serial = acme_cert_serial_hex(leaf);
	acme_cert_times(leaf, &nb, &na);
	json_object_set_new(rec, "serial", json_string(serial != NULL ? serial : ""));
	json_object_set_new(rec, "not_before", json_integer((json_int_t)nb));
	json_object_set_new(rec, "not_after", json_integer((json_int_t)na));
	json_object_set_new(rec, "issued_at", json_integer((json_int_t)time(NULL)));
	json_object_set(rec, "chains", chain_list); /* every chain offered, under live/NAME/ */
	if (kp_csr && reuse[0] == '\0')
		json_object_set_new(rec, "key_created", json_integer((json_int_t)time(NULL)));
	json_object_del(rec, "revoked_reason");
	json_object_del(rec, "revoked_at");
	snprintf(rel, sizeof(rel), "certs/%s.json", name);
	rc = acme_state_put_json(s->fp, rel, rec);
	if (rc != OFFCA_OK)
		goto out;
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%SZ", gmtime(&na));
	printf("%s: issued serial %s for %zu name(s), valid until %s -> %s/live/%s/fullchain.pem\n", name,
	       serial ? serial : "?", names.n, until, o->state, name);
	if (jstr(rec, "deploy_hook") != NULL)
		rc = deploy(o, "deploy", name, doms);
	if (rc == OFFCA_OK && o->deploy_hook != NULL &&
	    (jstr(rec, "deploy_hook") == NULL || strcmp(jstr(rec, "deploy_hook"), o->deploy_hook) != 0))
		rc = deploy(o, "option", name, doms);
out:
	acme_names_clear(&names);
	X509_REQ_free(genreq);
	X509_free(leaf);
	if (kp_csr)
		free(der); /* from the key process's reply */
	else
		OPENSSL_free(der);
	acme_chains_clear(&chains);
	json_decref(chain_list);
	free(serial);
	return rc;
}

offca_rc acme_issue_session(struct acme_opts *o, struct acme_session *s, json_t **acct)
{
	offca_rc rc = acme_state_account(o, acct);
	const char *bundle;

	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(jstr(*acct, "status") ? jstr(*acct, "status") : "", "deactivated") == 0)
		return ut_err(OFFCA_E_STATE, "the account in %s is deactivated", o->state);
	bundle = o->ca_bundle != NULL ? o->ca_bundle : jstr(*acct, "ca_bundle");
	rc = acme_session_open(o, s, o->directory != NULL ? o->directory : jstr(*acct, "directory"), bundle, 0);
	if (rc == OFFCA_OK)
		rc = acme_client_set_kid(s->cl, jstr(*acct, "url"));
	return rc;
}

offca_rc acme_cmd_issue(struct acme_opts *o)
{
	offca_rc rc;
	struct acme_session s;
	json_t *acct = NULL, *rec = NULL, *dns = NULL, *doms = NULL, *old = NULL;
	X509_REQ *req = NULL;
	char *csrpem = NULL, name[ACME_MAX_DNS_NAME + 1], rel[512];
	size_t csrlen = 0;

	memset(&s, 0, sizeof(s));
	if (o->csr != NULL && o->domains.n > 0)
		return ut_err(OFFCA_E_USAGE, "issue: --csr FILE and --domain exclude each other (the CSR names the domains)");
	if (o->csr == NULL && o->domains.n == 0)
		return ut_err(OFFCA_E_USAGE, "issue: --csr FILE (or --domain NAME... --generate-key) is required");
	if (o->csr != NULL && o->generate_key)
		return ut_err(OFFCA_E_USAGE, "issue: --generate-key makes no sense with --csr");
	if (o->csr != NULL && o->key_policy != NULL)
		return ut_err(OFFCA_E_USAGE, "issue: --key-policy is for keys offca-acme generates, not a CSR's");
	if (o->tsig_alg != NULL && acme_tsig_alg_check(o->tsig_alg) != OFFCA_OK)
		return OFFCA_E_USAGE;
	rc = dns_from_opts(o, &dns);
	if (rc != OFFCA_OK)
		return rc;
	if (o->csr != NULL) {
		acme_names_clear(&o->domains);
		rc = acme_csr_load(o->csr, &req, &o->domains);
		if (rc == OFFCA_OK)
			rc = acme_csr_pem(req, &csrpem, &csrlen);
		if (rc != OFFCA_OK)
			goto out;
	}
	snprintf(name, sizeof(name), "%s",
		 o->cert_name != NULL ? o->cert_name
				      : (strncmp(o->domains.v[0], "*.", 2) == 0 ? o->domains.v[0] + 2 : o->domains.v[0]));
	if (!acme_cert_name_ok(name)) {
		rc = ut_err(OFFCA_E_USAGE, "certificate name %s: letters, digits, '-', '.', '_' only", name);
		goto out;
	}
	snprintf(rel, sizeof(rel), "certs/%s.json", name);
	if (acme_state_json(o, rel, &old) == OFFCA_OK && !o->force) {
		rc = ut_err(OFFCA_E_EXISTS, "%s was already issued (offca-acme renew %s, or issue --force to replace it)",
			    name, name);
		goto out;
	}
	doms = json_array();
	for (size_t i = 0; doms != NULL && i < o->domains.n; i++)
		json_array_append_new(doms, json_string(o->domains.v[i]));
	rec = json_pack("{s:s, s:o, s:s, s:O}", "name", name, "domains", doms, "mode", req != NULL ? "csr" : "generated",
			"dns", dns);
	if (rec == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (o->preferred_chain != NULL)
		json_object_set_new(rec, "preferred_chain", json_string(o->preferred_chain));
	if (o->deploy_hook != NULL)
		json_object_set_new(rec, "deploy_hook", json_string(o->deploy_hook));
	if (req == NULL) {
		json_object_set_new(rec, "key_policy", json_string(o->key_policy != NULL ? o->key_policy : "new"));
		if (o->key_days > 0)
			json_object_set_new(rec, "key_reuse_days", json_integer(o->key_days));
	}
	rc = acme_issue_session(o, &s, &acct);
	if (rc != OFFCA_OK)
		goto out;
	if (csrpem != NULL) {
		snprintf(rel, sizeof(rel), "certs/%s.csr", name);
		rc = acme_fileproc_write(s.fp, rel, csrpem, csrlen, 0);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = acme_issue_one(o, &s, name, rec, req, NULL);
	if (rc == OFFCA_OK && req == NULL)
		fprintf(stderr, "offca-acme: warning: the private key was generated here (--generate-key, in the key "
				"process), not on the endpoint; the default is a CSR from the endpoint that keeps its key (--csr FILE)\n");
out:
	acme_session_close(&s);
	json_decref(acct);
	json_decref(rec);
	json_decref(dns);
	json_decref(old);
	X509_REQ_free(req);
	free(csrpem);
	return rc;
}
