/* cmd_renew.c - offca-acme renew: what is due (ARI window, two thirds of the lifetime, revoked) is renewed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ari.h"
#include "cert.h"
#include "client.h"
#include "cmd.h"
#include "offca/util.h"

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* 1 when the certificate should be renewed now; explains why on stdout */
static int due(struct acme_opts *o, struct acme_session *s, const char *name, X509 *cert, int *ari)
{
	time_t nb = 0, na = 0, start = 0, end = 0, now = time(NULL);
	char when[32];

	*ari = 0;
	if (acme_client_url(s->cl, "renewalInfo") != NULL) {
		if (acme_ari_window(s->cl, cert, &start, &end) == OFFCA_OK) {
			*ari = 1;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime(&start));
			if (o->force || now >= start)
				return 1;
			printf("%s: not due (ARI window starts %s)\n", name, when);
			return 0;
		}
		fprintf(stderr, "offca-acme: %s: ARI failed (%s); using the certificate's lifetime\n", name, ut_err_msg());
	}
	if (acme_cert_times(cert, &nb, &na) != OFFCA_OK)
		return 1;
	if (o->force || now >= na - (na - nb) / 3)
		return 1;
	start = na - (na - nb) / 3;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime(&start));
	printf("%s: not due (renews after %s, two thirds of its lifetime)\n", name, when);
	return 0;
}

static offca_rc renew_one(struct acme_opts *o, struct acme_session *s, const char *name)
{
	offca_rc rc;
	json_t *rec = NULL;
	X509 *cert = NULL;
	X509_REQ *req = NULL;
	struct acme_names tmp = {0};
	char rel[512], path[4096], *certid = NULL;
	int ari = 0;

	if (!acme_cert_name_ok(name))
		return ut_err(OFFCA_E_USAGE, "bad certificate name %s", name);
	snprintf(rel, sizeof(rel), "certs/%s.json", name);
	rc = acme_state_json(o, rel, &rec);
	if (rc == OFFCA_E_NOT_FOUND)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no certificate named %s in %s", name, o->state);
	if (rc != OFFCA_OK)
		goto out;
	snprintf(rel, sizeof(rel), "live/%s/cert.pem", name);
	rc = acme_state_path(o, rel, path, sizeof(path));
	if (rc == OFFCA_OK)
		rc = acme_cert_load(path, &cert);
	if (rc != OFFCA_OK)
		goto out;
	if (json_object_get(rec, "revoked_reason") != NULL) {
		/* a revoked certificate is replaced now; never with a CSR whose key was compromised */
		if (json_integer_value(json_object_get(rec, "revoked_reason")) == 1 &&
		    strcmp(jstr(rec, "mode") ? jstr(rec, "mode") : "", "csr") == 0) {
			rc = ut_err(OFFCA_E_STATE, "%s was revoked for key compromise: issue --force with a new CSR", name);
			goto out;
		}
		printf("%s: revoked, replacing it\n", name);
	} else if (!due(o, s, name, cert, &ari)) {
		goto out;
	}
	if (ari)
		acme_ari_certid(cert, &certid);
	if (strcmp(jstr(rec, "mode") ? jstr(rec, "mode") : "", "csr") == 0) {
		snprintf(rel, sizeof(rel), "certs/%s.csr", name);
		rc = acme_state_path(o, rel, path, sizeof(path));
		if (rc == OFFCA_OK)
			rc = acme_csr_load(path, &req, &tmp);
		if (rc != OFFCA_OK)
			goto out;
	}
	rc = acme_issue_one(o, s, name, rec, req, certid);
	if (rc != OFFCA_OK) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", ut_err_msg());
		rc = ut_err(rc, "%s: renewal failed: %s", name, msg);
	}
out:
	acme_names_clear(&tmp);
	free(certid);
	X509_REQ_free(req);
	X509_free(cert);
	json_decref(rec);
	return rc;
}

offca_rc acme_cmd_renew(struct acme_opts *o)
{
	offca_rc rc, first = OFFCA_OK;
	struct acme_session s;
	struct acme_names names = {0};
	json_t *acct = NULL;
	char firstmsg[1024] = "";
	size_t nfail = 0;

	memset(&s, 0, sizeof(s));
	if (o->argc > 0 && o->all)
		return ut_err(OFFCA_E_USAGE, "renew: give certificate names or --all, not both");
	for (int i = 0; i < o->argc; i++) {
		names.v[names.n] = strdup(o->argv[i]);
		if (names.v[names.n] == NULL || ++names.n >= ACME_MAX_NAMES)
			return ut_err(OFFCA_E_USAGE, "renew: too many names");
	}
	if (o->argc == 0) {
		rc = acme_state_cert_names(o, &names);
		if (rc != OFFCA_OK)
			return rc;
	}
	if (names.n == 0) {
		printf("nothing to renew in %s\n", o->state ? o->state : "?");
		return OFFCA_OK;
	}
	rc = acme_issue_session(o, &s, &acct);
	if (rc != OFFCA_OK)
		goto out;
	/* one line per failure; the first failure's code is the exit code (systemd: unit failed) */
	for (size_t i = 0; i < names.n; i++) {
		rc = renew_one(o, &s, names.v[i]);
		if (rc == OFFCA_OK)
			continue;
		nfail++;
		if (first == OFFCA_OK) {
			first = rc;
			snprintf(firstmsg, sizeof(firstmsg), "%s", ut_err_msg());
		} else {
			if (nfail == 2)
				fprintf(stderr, "offca-acme: %s\n", firstmsg);
			fprintf(stderr, "offca-acme: %s\n", ut_err_msg());
		}
	}
	rc = first;
	if (nfail == 1)
		ut_err(rc, "%s", firstmsg);
	else if (nfail > 1)
		ut_err(rc, "%zu of %zu certificates failed to renew", nfail, names.n);
out:
	acme_session_close(&s);
	acme_names_clear(&names);
	json_decref(acct);
	return rc;
}
