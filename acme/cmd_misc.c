/* cmd_misc.c - offca-acme revoke and list. */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "cert.h"
#include "client.h"
#include "cmd.h"
#include "offca/util.h"
#include "problem.h"

/* Mark the record whose current certificate has serial as revoked (list, renew use it). */
static offca_rc mark_revoked(struct acme_opts *o, struct acme_proc *fp, const char *serial, int reason)
{
	offca_rc rc;
	struct acme_names names = {0};
	json_t *rec = NULL;
	char rel[512];

	rc = acme_state_cert_names(o, &names);
	for (size_t i = 0; rc == OFFCA_OK && i < names.n; i++) {
		snprintf(rel, sizeof(rel), "certs/%s.json", names.v[i]);
		if (acme_state_json(o, rel, &rec) != OFFCA_OK)
			continue;
		const char *s = json_string_value(json_object_get(rec, "serial"));
		if (s != NULL && strcmp(s, serial) == 0) {
			json_object_set_new(rec, "revoked_reason", json_integer(reason));
			json_object_set_new(rec, "revoked_at", json_integer((json_int_t)time(NULL)));
			rc = acme_state_put_json(fp, rel, rec);
		}
		json_decref(rec);
		rec = NULL;
	}
	acme_names_clear(&names);
	return rc;
}

offca_rc acme_cmd_revoke(struct acme_opts *o)
{
	offca_rc rc;
	struct acme_session s;
	json_t *acct = NULL, *p = NULL;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char *d64 = NULL, path[4096], rel[512], type[64];
	struct acme_resp r;
	int n;
	const char *bundle;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	if (o->argc != 1)
		return ut_err(OFFCA_E_USAGE, "revoke: one CERT (a PEM file or a certificate name) expected");
	if (o->reason < 0 || o->reason > 10 || o->reason == 7)
		return ut_err(OFFCA_E_USAGE, "--reason %d: RFC 5280 reason codes 0-6, 8-10", o->reason);
	snprintf(path, sizeof(path), "%s", o->argv[0]);
	if (ut_path_exists(path) != OFFCA_OK && acme_cert_name_ok(o->argv[0])) {
		snprintf(rel, sizeof(rel), "live/%s/cert.pem", o->argv[0]);
		rc = acme_state_path(o, rel, path, sizeof(path));
		if (rc != OFFCA_OK)
			return rc;
	}
	rc = acme_cert_load(path, &cert);
	if (rc != OFFCA_OK)
		return rc;
	n = i2d_X509(cert, &der);
	d64 = n > 0 ? acme_b64url(der, (size_t)n) : NULL;
	p = d64 != NULL ? json_pack("{s:s}", "certificate", d64) : NULL;
	if (p == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (o->reason > 0)
		json_object_set_new(p, "reason", json_integer(o->reason));
	rc = acme_state_account(o, &acct);
	if (rc != OFFCA_OK)
		goto out;
	bundle = o->ca_bundle != NULL ? o->ca_bundle : json_string_value(json_object_get(acct, "ca_bundle"));
	rc = acme_session_open(o, &s, o->directory ? o->directory : json_string_value(json_object_get(acct, "directory")),
			       bundle, 0);
	if (rc == OFFCA_OK)
		rc = acme_client_set_kid(s.cl, json_string_value(json_object_get(acct, "url")));
	if (rc == OFFCA_OK && acme_client_url(s.cl, "revokeCert") == NULL)
		rc = ut_err(OFFCA_E_UNSUPPORTED, "the CA offers no revokeCert");
	if (rc != OFFCA_OK)
		goto out;
	rc = acme_client_post(s.cl, acme_client_url(s.cl, "revokeCert"), p, 0, NULL, &r, NULL);
	if (rc == OFFCA_E_PROTOCOL && strcmp(acme_problem_type(r.body, r.len, type, sizeof(type)), "alreadyRevoked") == 0)
		rc = ut_err(OFFCA_E_STATE, "%s: the certificate is already revoked", path);
	if (rc == OFFCA_OK) {
		char *serial = acme_cert_serial_hex(cert);
		if (serial != NULL)
			rc = mark_revoked(o, s.fp, serial, o->reason);
		free(serial);
	}
	if (rc == OFFCA_OK)
		printf("revoked %s (reason %d)\n", path, o->reason);
out:
	acme_resp_clear(&r);
	acme_session_close(&s);
	json_decref(acct);
	json_decref(p);
	X509_free(cert);
	OPENSSL_free(der);
	free(d64);
	return rc;
}

offca_rc acme_cmd_list(struct acme_opts *o)
{
	offca_rc rc;
	struct acme_names names = {0};
	json_t *arr = json_array(), *rec = NULL;
	char rel[512], until[32];
	time_t now = time(NULL);

	if (arr == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = acme_state_cert_names(o, &names);
	for (size_t i = 0; rc == OFFCA_OK && i < names.n; i++) {
		snprintf(rel, sizeof(rel), "certs/%s.json", names.v[i]);
		rc = acme_state_json(o, rel, &rec);
		if (rc != OFFCA_OK)
			break;
		json_int_t na = json_integer_value(json_object_get(rec, "not_after"));
		json_int_t nb = json_integer_value(json_object_get(rec, "not_before"));
		const char *st = now >= na ? "expired" : (now >= na - (na - nb) / 3 ? "due" : "valid");
		if (json_object_get(rec, "revoked_reason") != NULL)
			st = "revoked";
		json_object_set_new(rec, "status", json_string(st));
		if (!o->json) {
			time_t t = (time_t)na;
			json_t *d;
			size_t k;
			strftime(until, sizeof(until), "%Y-%m-%d", gmtime(&t));
			printf("%-24s %-7s until %s  serial %-20s %s ", names.v[i], st, until,
			       json_string_value(json_object_get(rec, "serial")),
			       json_string_value(json_object_get(rec, "mode")));
			json_array_foreach(json_object_get(rec, "domains"), k, d) printf("%s%s", k ? "," : "", json_string_value(d));
			printf("\n");
		}
		json_array_append_new(arr, rec);
		rec = NULL;
	}
	if (rc == OFFCA_OK && o->json) {
		char *s = json_dumps(arr, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s == NULL)
			rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		else
			printf("%s\n", s);
		free(s);
	}
	acme_names_clear(&names);
	json_decref(arr);
	return rc;
}
