/* cmd.h - offca-acme commands: options shared by all of them and one function per command. */
#ifndef ACME_CMD_H
#define ACME_CMD_H

#include <jansson.h>

#include "cert.h"
#include "offca/err.h"
#include "proc.h"

struct acme_opts {
	const char *state, *ca_bundle, *directory, *email, *eab_kid, *eab_key_file, *csr;
	const char *dns_method, *dns_server, *tsig_key, *tsig_secret_file, *tsig_alg, *dns_hook, *dns_zone;
	const char *cert_name, *key_type, *preferred_chain, *key_uri, *pin_file, *deploy_hook, *user;
	struct acme_names domains;
	int generate_key, all, force, json, verbose, reason, propagation_timeout, poll_timeout, dns_tcp, help;
	int no_sandbox;
	const char *key_policy, *textfile; /* --key-policy new|reuse|reuse-for (key_days), metrics --textfile */
	int key_days;
	int hooks_renew;            /* the hook runner reads the records' hooks (renew) */
	struct acme_proc *hooks;    /* the hook runner (issue with a hook, renew), else NULL */
	int argc;    /* positional arguments after the command word */
	char **argv;
};

/*
 * The hook runner (hookproc.c): forked before any filter, the only process that execs. It runs the
 * hooks configured at start (o->dns_hook, o->deploy_hook; with o->hooks_renew also every record's
 * dns.hook and deploy_hook, read once at start), never a command a message names.
 */
offca_rc acme_hookproc_start(const struct acme_opts *o, struct acme_proc **out);
/* A new channel on which the hook runner runs certificate cert's DNS hook; *fd is ours (CLOEXEC). */
offca_rc acme_hookproc_dns_channel(struct acme_proc *hp, const char *cert, int *fd);
/* Run certificate name's deploy hook, kind "deploy" (its record's / --deploy-hook at issue) or
 * "option" (renew --deploy-hook), with RENEWED_DOMAINS=domains. */
offca_rc acme_hookproc_deploy(struct acme_proc *hp, const char *name, const char *kind, const char *domains);

offca_rc acme_cmd_account(struct acme_opts *o);
offca_rc acme_cmd_issue(struct acme_opts *o);
offca_rc acme_cmd_renew(struct acme_opts *o);
offca_rc acme_cmd_revoke(struct acme_opts *o);
offca_rc acme_cmd_list(struct acme_opts *o);
offca_rc acme_cmd_metrics(struct acme_opts *o);

/* ---- state directory (store.c) ---- */
#define ACME_MAX_STATE_FILE (256u * 1024u)

/* STATE/rel into buf; OFFCA_E_USAGE if too long or no --state. */
offca_rc acme_state_path(const struct acme_opts *o, const char *rel, char *buf, size_t cap);
/* Read STATE/rel as a JSON object. OFFCA_E_NOT_FOUND when absent. */
offca_rc acme_state_json(const struct acme_opts *o, const char *rel, json_t **out);
/* Write j (pretty, sorted) to STATE/rel through the file process. */
offca_rc acme_state_put_json(struct acme_proc *fp, const char *rel, const json_t *j);
/* The account record (account/account.json) with an error telling to run account new. */
/* Also takes the token key URI of the account (if any) into o->key_uri (borrowed from *acct). */
offca_rc acme_state_account(struct acme_opts *o, json_t **acct);
/* Names of the certificate records (certs/NAME.json), sorted. */
offca_rc acme_state_cert_names(const struct acme_opts *o, struct acme_names *names);
/* A certificate name is safe as a directory name (LDH and dots, no leading dot). */
int acme_cert_name_ok(const char *name);

/*
 * Start the key process for the account key STATE/account/key.pem (create: make one) and the
 * EAB key file (may be NULL), then the ACME client for dir (ca_bundle may be NULL).
 */
struct acme_session {
	struct acme_proc *kp, *fp, *dp;
	struct acme_client *cl;
	char key_path[4096];
	struct acme_keyproc_cfg kcfg;
	struct acme_dns_cfg dcfg;
};
offca_rc acme_session_open(struct acme_opts *o, struct acme_session *s, const char *dir, const char *ca_bundle,
			   int create);
void acme_session_close(struct acme_session *s);

/* Open the session for the state's account (refuses a deactivated one); *acct is the record. */
offca_rc acme_issue_session(struct acme_opts *o, struct acme_session *s, json_t **acct);
/*
 * One order for the certificate record rec (name, domains, mode, dns, hooks) with the session s.
 * req is the endpoint's CSR (mode csr) or NULL (a key is generated); replaces is the ARI certID
 * of the certificate being replaced, or NULL. Writes the outputs and the updated record.
 */
offca_rc acme_issue_one(struct acme_opts *o, struct acme_session *s, const char *name, json_t *rec, X509_REQ *req,
			const char *replaces);

#endif
