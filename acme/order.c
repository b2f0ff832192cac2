/* order.c - newOrder, authorizations, dns-01, finalize, download (see order.h). */
#include "order.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "http.h"
#include "offca/util.h"
#include "problem.h"

struct chal {
	char *authz_url;
	char *chal_url;
	char *ident;
	char *rname;
	char *value;
	int added;
};

offca_rc acme_dns01_value(const char *token, const char *thumbprint, char **value)
{
	char ka[512];
	unsigned char md[32];
	int n;

	*value = NULL;
	n = snprintf(ka, sizeof(ka), "%s.%s", token, thumbprint);
	if (n < 0 || (size_t)n >= sizeof(ka))
		return ut_err(OFFCA_E_PROTOCOL, "challenge token too long");
	if (EVP_Digest(ka, (size_t)n, md, NULL, EVP_sha256(), NULL) != 1)
		return ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 failed");
	*value = acme_b64url(md, sizeof(md));
	return *value == NULL ? ut_err(OFFCA_E_NOMEM, "out of memory") : OFFCA_OK;
}

static void chal_free(struct chal *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ch[i].authz_url);
		free(ch[i].chal_url);
		free(ch[i].ident);
		free(ch[i].rname);
		free(ch[i].value);
	}
	free(ch);
}

static offca_rc new_order(struct acme_client *c, const struct acme_order_req *req, char **url, json_t **order)
{
	offca_rc rc;
	struct acme_resp r;
	json_t *ids = json_array(), *payload = NULL;
	char type[64];

	*url = NULL;
	*order = NULL;
	for (size_t i = 0; ids != NULL && i < req->names->n; i++)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", req->names->v[i]));
	payload = ids != NULL ? json_pack("{s:o}", "identifiers", ids) : NULL;
	if (payload == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if (req->replaces != NULL)
		json_object_set_new(payload, "replaces", json_string(req->replaces));
	rc = acme_client_post(c, acme_client_url(c, "newOrder"), payload, 0, NULL, &r, order);
	if (rc == OFFCA_E_PROTOCOL && req->replaces != NULL &&
	    strcmp(acme_problem_type(r.body, r.len, type, sizeof(type)), "alreadyReplaced") == 0) {
		/* ARI: another order already replaces that certificate; order without the hint */
		acme_resp_clear(&r);
		json_object_del(payload, "replaces");
		rc = acme_client_post(c, acme_client_url(c, "newOrder"), payload, 0, NULL, &r, order);
	}
	if (rc == OFFCA_OK && (r.location == NULL || !json_is_array(json_object_get(*order, "authorizations")) ||
			       !json_is_string(json_object_get(*order, "finalize"))))
		rc = ut_err(OFFCA_E_PROTOCOL, "the CA's new order lacks its URL, authorizations or finalize URL");
	if (rc == OFFCA_OK) {
		*url = r.location;
		r.location = NULL;
	} else {
		json_decref(*order);
		*order = NULL;
	}
	acme_resp_clear(&r);
	json_decref(payload);
	return rc;
}

/* Fetch one authorization; fill ch when it still needs a dns-01 challenge (else ch->chal_url NULL) */
static offca_rc prepare_authz(struct acme_client *c, const char *url, struct chal *ch)
{
	offca_rc rc;
	struct acme_resp r;
	json_t *a = NULL, *chs, *x;
	const char *status, *ident, *token = NULL, *curl = NULL;
	size_t i;
	char buf[ACME_MAX_DNS_NAME + 32];

	rc = acme_client_post(c, url, NULL, 0, NULL, &r, &a);
	acme_resp_clear(&r);
	if (rc != OFFCA_OK)
		return rc;
	status = json_string_value(json_object_get(a, "status"));
	ident = json_string_value(json_object_get(json_object_get(a, "identifier"), "value"));
	if (status == NULL || ident == NULL || strlen(ident) > ACME_MAX_DNS_NAME) {
		rc = ut_err(OFFCA_E_PROTOCOL, "authorization %s: malformed", url);
		goto out;
	}
	ch->authz_url = strdup(url);
	ch->ident = strdup(ident);
	if (ch->authz_url == NULL || ch->ident == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(status, "valid") == 0) {
		rc = OFFCA_OK;
		goto out;
	}
	if (strcmp(status, "pending") != 0) {
		rc = ut_err(OFFCA_E_PROTOCOL, "authorization for %s is %s", ident, status);
		goto out;
	}
	chs = json_object_get(a, "challenges");
	json_array_foreach(chs, i, x) {
		if (json_is_string(json_object_get(x, "type")) &&
		    strcmp(json_string_value(json_object_get(x, "type")), "dns-01") == 0) {
			token = json_string_value(json_object_get(x, "token"));
			curl = json_string_value(json_object_get(x, "url"));
		}
	}
	if (token == NULL || curl == NULL) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "the CA offers no dns-01 challenge for %s", ident);
		goto out;
	}
	/* a wildcard's identifier is the base name: the record is the same _acme-challenge name */
	snprintf(buf, sizeof(buf), "_acme-challenge.%s", ident);
	ch->rname = strdup(buf);
	ch->chal_url = strdup(curl);
	if (ch->rname == NULL || ch->chal_url == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = acme_dns01_value(token, acme_client_thumbprint(c), &ch->value);
out:
	json_decref(a);
	return rc;
}

static offca_rc challenge_error(json_t *authz, const char *ident)
{
	json_t *chs = json_object_get(authz, "challenges"), *x, *err;
	size_t i;
	char line[768];
	char *s;

	json_array_foreach(chs, i, x) {
		err = json_object_get(x, "error");
		if (err == NULL)
			continue;
		s = json_dumps(err, JSON_COMPACT);
		acme_problem_line((const unsigned char *)s, s ? strlen(s) : 0, 0, line, sizeof(line));
		free(s);
		return ut_err(OFFCA_E_PROTOCOL, "dns-01 challenge for %s failed: %s", ident, line);
	}
	return ut_err(OFFCA_E_PROTOCOL, "authorization for %s is %s", ident,
		      json_string_value(json_object_get(authz, "status")));
}

static offca_rc run_challenges(struct acme_client *c, struct acme_proc *dns, struct chal *ch, size_t n)
{
	offca_rc rc = OFFCA_OK;
	struct acme_resp r;
	json_t *empty = NULL, *a = NULL;
	int v = acme_client_verbose(c);

	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		if (ch[i].chal_url == NULL)
			continue;
		if (v)
			fprintf(stderr, "offca-acme: adding TXT %s\n", ch[i].rname);
		rc = acme_dnsproc_add(dns, ch[i].rname, ch[i].value);
		if (rc == OFFCA_OK)
			ch[i].added = 1;
	}
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++)
		if (ch[i].chal_url != NULL)
			rc = acme_dnsproc_wait(dns, ch[i].rname, ch[i].value);
	empty = json_object();
	if (empty == NULL && rc == OFFCA_OK)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		if (ch[i].chal_url == NULL)
			continue;
		rc = acme_client_post(c, ch[i].chal_url, empty, 0, NULL, &r, NULL);
		acme_resp_clear(&r);
	}
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		if (ch[i].chal_url == NULL)
			continue;
		rc = acme_client_poll(c, ch[i].authz_url, "authorization", &a);
		if (rc == OFFCA_OK && strcmp(json_string_value(json_object_get(a, "status")), "valid") != 0)
			rc = challenge_error(a, ch[i].ident);
		json_decref(a);
		a = NULL;
	}
	json_decref(empty);
	return rc;
}

static void remove_records(struct acme_client *c, struct acme_proc *dns, struct chal *ch, size_t n, offca_rc *rc)
{
	char keep[1024];
	offca_rc orig = *rc;

	/* keep the first error's message: a cleanup failure must not hide it */
	snprintf(keep, sizeof(keep), "%s", ut_err_msg());
	for (size_t i = 0; i < n; i++) {
		if (!ch[i].added)
			continue;
		if (acme_client_verbose(c))
			fprintf(stderr, "offca-acme: removing TXT %s\n", ch[i].rname);
		offca_rc r = acme_dnsproc_del(dns, ch[i].rname, ch[i].value);
		if (r == OFFCA_OK)
			ch[i].added = 0;
		else if (*rc == OFFCA_OK)
			*rc = r;
		else
			fprintf(stderr, "offca-acme: could not remove TXT %s: %s\n", ch[i].rname, ut_err_msg());
	}
	if (orig != OFFCA_OK)
		ut_err(orig, "%s", keep);
}

void acme_chains_clear(struct acme_chains *ch)
{
	for (int i = 0; i < ch->n; i++)
		free(ch->pem[i]);
	memset(ch, 0, sizeof(*ch));
}

/*
 * The default chain and every alternate one the CA links (rel="alternate"), all kept; chosen is
 * the first whose top issuer is preferred (else the default). An alternate that cannot be fetched
 * is left out (said with --verbose); the default must come.
 */
static offca_rc download(struct acme_client *c, const char *url, const char *preferred, struct acme_chains *ch)
{
	offca_rc rc;
	struct acme_resp r, ra;

	rc = acme_client_post(c, url, NULL, 0, "application/pem-certificate-chain", &r, NULL);
	if (rc != OFFCA_OK)
		goto out;
	ch->pem[0] = (char *)r.body;
	ch->len[0] = r.len;
	r.body = NULL;
	acme_chain_top_issuer(ch->pem[0], ch->len[0], ch->top[0], sizeof(ch->top[0]));
	ch->n = 1;
	for (int i = 0; i < r.nalt && ch->n < ACME_MAX_CHAINS; i++) {
		if (acme_client_post(c, r.alt[i], NULL, 0, "application/pem-certificate-chain", &ra, NULL) != OFFCA_OK) {
			if (acme_client_verbose(c))
				fprintf(stderr, "offca-acme: alternate chain %s: %s\n", r.alt[i], ut_err_msg());
			acme_resp_clear(&ra);
			continue;
		}
		ch->pem[ch->n] = (char *)ra.body;
		ch->len[ch->n] = ra.len;
		ra.body = NULL;
		acme_chain_top_issuer(ch->pem[ch->n], ch->len[ch->n], ch->top[ch->n], sizeof(ch->top[0]));
		ch->n++;
		acme_resp_clear(&ra);
	}
	ut_err_clear();
	for (int i = 0; preferred != NULL && i < ch->n; i++)
		if (strcmp(ch->top[i], preferred) == 0) {
			ch->chosen = i;
			break;
		}
	if (preferred != NULL && strcmp(ch->top[ch->chosen], preferred) != 0 && acme_client_verbose(c))
		fprintf(stderr, "offca-acme: no chain with top issuer %s; using the default chain\n", preferred);
out:
	acme_resp_clear(&r);
	return rc;
}

offca_rc acme_order_run(struct acme_client *c, struct acme_proc *dns, const struct acme_order_req *req,
			struct acme_chains *chains)
{
	offca_rc rc;
	char *url = NULL, *csr64 = NULL;
	json_t *order = NULL, *authzs, *fin = NULL, *done = NULL;
	struct chal *ch = NULL;
	struct acme_resp r;
	size_t n;
	const char *cert_url;

	memset(chains, 0, sizeof(*chains));
	memset(&r, 0, sizeof(r));
	rc = new_order(c, req, &url, &order);
	if (rc != OFFCA_OK)
		return rc;
	authzs = json_object_get(order, "authorizations");
	n = json_array_size(authzs);
	if (n == 0 || n > ACME_MAX_NAMES) {
		rc = ut_err(OFFCA_E_PROTOCOL, "order with %zu authorizations", n);
		goto out;
	}
	ch = calloc(n, sizeof(*ch));
	if (ch == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		const char *au = json_string_value(json_array_get(authzs, i));
		rc = au != NULL ? prepare_authz(c, au, &ch[i]) : ut_err(OFFCA_E_PROTOCOL, "bad authorization URL");
	}
	if (rc == OFFCA_OK)
		rc = run_challenges(c, dns, ch, n);
	remove_records(c, dns, ch, n, &rc);
	if (rc != OFFCA_OK)
		goto out;
	/* the CA may take a moment to mark the order ready after its authorizations */
	rc = acme_client_poll(c, url, "order", &done);
	if (rc == OFFCA_OK && strcmp(json_string_value(json_object_get(done, "status")), "ready") != 0 &&
	    strcmp(json_string_value(json_object_get(done, "status")), "valid") != 0)
		rc = ut_err(OFFCA_E_PROTOCOL, "order %s is %s, not ready to finalize", url,
			    json_string_value(json_object_get(done, "status")));
	json_decref(done);
	done = NULL;
	if (rc != OFFCA_OK)
		goto out;
	csr64 = acme_b64url(req->csr_der, req->csr_len);
	fin = csr64 != NULL ? json_pack("{s:s}", "csr", csr64) : NULL;
	if (fin == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	rc = acme_client_post(c, json_string_value(json_object_get(order, "finalize")), fin, 0, NULL, &r, NULL);
	acme_resp_clear(&r);
	if (rc != OFFCA_OK)
		goto out;
	rc = acme_client_poll(c, url, "order", &done);
	if (rc != OFFCA_OK)
		goto out;
	cert_url = json_string_value(json_object_get(done, "certificate"));
	if (strcmp(json_string_value(json_object_get(done, "status")), "valid") != 0 || cert_url == NULL) {
		char line[512] = "";
		json_t *e = json_object_get(done, "error");
		char *s = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		if (s != NULL)
			acme_problem_line((const unsigned char *)s, strlen(s), 0, line, sizeof(line));
		free(s);
		rc = ut_err(OFFCA_E_PROTOCOL, "order %s is %s %s", url, json_string_value(json_object_get(done, "status")), line);
		goto out;
	}
	rc = download(c, cert_url, req->preferred_chain, chains);
	if (rc != OFFCA_OK)
		acme_chains_clear(chains);
out:
	if (ch != NULL)
		chal_free(ch, n);
	json_decref(order);
	json_decref(fin);
	json_decref(done);
	free(url);
	free(csr64);
	return rc;
}
