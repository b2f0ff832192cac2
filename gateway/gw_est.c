/*
 * gw_est.c - /simpleenroll and /simplereenroll (RFC 7030 4.2): authenticate, check the CSR, queue
 * it for the offline CA and answer 202 + Retry-After until the CA's answer came back across the gap;
 * then 200 with the certificate (PKCS#7 certs-only). A poll is the same request again (RFC 7030
 * 4.2.3): the request id is a hash of the CSR, so the client must resend the same CSR bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/sha.h>

#include "gw.h"
#include "offca/csr.h"
#include "offca/util.h"

static void refuse(gw_answer *a, unsigned status, offca_rc rc)
{
	(void)rc;
	a->status = status;
	a->reason = ut_err_msg();
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static offca_rc parse_csr(const gw_request *r, ca_csr **csr)
{
	unsigned char *der = NULL;
	size_t n = 0;
	offca_rc rc;

	*csr = NULL;
	if (r->body_len == 0)
		return ut_err(OFFCA_E_PARSE, "empty request body (a base64 PKCS#10 CSR is expected)");
	if (r->body_len > GW_MAX_CSR_B64)
		return ut_err(OFFCA_E_TOO_BIG, "CSR body larger than %u bytes", GW_MAX_CSR_B64);
	if (r->body_len > 10 && memcmp(r->body, "-----BEGIN", 10) == 0)
		return ca_csr_parse(r->body, r->body_len, csr);
	rc = est_b64_decode(r->body, r->body_len, GW_MAX_CSR_DER, &der, &n);
	if (rc == OFFCA_OK)
		rc = ca_csr_parse(der, n, csr);
	free(der);
	return rc;
}

/* the stored answer of an issued request: 200 */
static void answer_issued(json_t *q, gw_answer *a)
{
	const char *p7 = json_string_value(json_object_get(q, "p7"));

	if (p7 == NULL || (a->body = strdup(p7)) == NULL) {
		a->status = 500;
		a->reason = "issued request without an answer (state damaged?)";
		return;
	}
	a->body_len = strlen(a->body);
	a->status = 200;
	a->ctype = EST_CT_CERTS;
}

/* a poll of a known request: the same authentication as when it was made */
static void poll(gw_ctx *c, const gw_request *r, json_t *q, const char *sans, gw_answer *a)
{
	const char *kind = json_string_value(json_object_get(q, "kind"));
	const char *state = json_string_value(json_object_get(q, "state"));
	json_t *tok = NULL;
	offca_rc rc;

	if (kind == NULL || state == NULL || strcmp(kind, r->op[6] == 'r' ? "renew" : "enroll") != 0) {
		ut_err(OFFCA_E_PERM, "this CSR was queued through another EST operation");
		refuse(a, 403, OFFCA_E_PERM);
		return;
	}
	if (strcmp(kind, "enroll") == 0)
		rc = gw_token_check(c->st, r->user, r->pass, sans, a->rid, &tok);
	else if ((rc = gw_verify_client(c->st, c->chain, r->peer)) == OFFCA_OK) {
		char sh[CA_STORE_SERIAL_HEX];

		gw_serial_hex(sk_X509_value(r->peer, 0), sh);
		if (strcmp(sh, json_string_value(json_object_get(q, "serial"))) != 0)
			rc = ut_err(OFFCA_E_PERM, "this request renews another certificate");
	}
	json_decref(tok);
	if (rc != OFFCA_OK) {
		refuse(a, r->user == NULL && r->peer == NULL ? 401 : 403, rc);
		return;
	}
	if (strcmp(state, "issued") == 0)
		answer_issued(q, a);
	else {
		a->status = 202;
		a->retry_after = c->retry_after;
	}
}

/* who may ask: the token (enroll) or the current certificate (re-enroll); fills the provenance */
static offca_rc authorize(gw_ctx *c, const gw_request *r, ca_csr *csr, const char *sans, json_t *q, json_t **tok)
{
	offca_rc rc;
	X509 *leaf;
	char cert_sans[EST_MAX_SANS_TEXT], sh[CA_STORE_SERIAL_HEX];

	*tok = NULL;
	if (r->op[6] != 'r') {
		if ((rc = gw_token_check(c->st, r->user, r->pass, sans, (const char *)json_string_value(json_object_get(q, "rid")), tok)) != OFFCA_OK)
			return rc;
		json_object_set_new(q, "kind", json_string("enroll"));
		json_object_set_new(q, "token", json_string(r->user));
		json_object_set(q, "profile", json_object_get(*tok, "profile"));
		return OFFCA_OK;
	}
	if ((rc = gw_verify_client(c->st, c->chain, r->peer)) != OFFCA_OK)
		return rc;
	leaf = sk_X509_value(r->peer, 0);
	if ((rc = est_cert_sans_text(leaf, cert_sans, sizeof(cert_sans))) != OFFCA_OK)
		return rc;
	if (X509_NAME_cmp(X509_get_subject_name(leaf), X509_REQ_get_subject_name(ca_csr_req(csr))) != 0)
		return ut_err(OFFCA_E_PERM, "re-enrollment must keep the subject of the current certificate");
	if (strcmp(cert_sans, sans) != 0)
		return ut_err(OFFCA_E_PERM, "re-enrollment must keep the subjectAltNames of the current certificate "
			      "(certificate: %s; CSR: %s)", cert_sans, sans[0] ? sans : "none");
	gw_serial_hex(leaf, sh);
	json_object_set_new(q, "kind", json_string("renew"));
	json_object_set_new(q, "serial", json_string(sh));
	json_object_set_new(q, "profile", json_string(gw_profile_of(leaf)));
	return OFFCA_OK;
}

static offca_rc new_request(gw_ctx *c, const gw_request *r, ca_csr *csr, const char *sans, gw_answer *a)
{
	json_t *q = NULL, *tok = NULL;
	unsigned char spki[32];
	char spki_hex[65], *csr_b64 = NULL;
	const unsigned char *der;
	size_t dl = 0, n = 0;
	MDB_txn *txn = NULL;
	offca_rc rc;

	if ((rc = gw_count(c->st, GW_DB_QUEUE, &n)) != OFFCA_OK)
		return rc;
	if (n >= GW_MAX_QUEUE)
		return ut_err(OFFCA_E_TOO_BIG, "the gateway queue is full (%u requests)", GW_MAX_QUEUE);
	der = ca_csr_der(csr, &dl);
	if ((rc = est_spki_sha256(ca_csr_pubkey(csr), spki)) != OFFCA_OK || (rc = est_b64_encode(der, dl, &csr_b64)) != OFFCA_OK)
		return rc;
	hex_of(spki, sizeof(spki), spki_hex);
	q = json_pack("{s:i,s:s,s:s,s:s,s:I,s:s,s:s}", "v", 1, "rid", a->rid, "csr", csr_b64, "spki", spki_hex,
		      "received", (json_int_t)time(NULL), "state", "waiting", "sans", sans);
	free(csr_b64);
	if (q == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	if ((rc = authorize(c, r, csr, sans, q, &tok)) != OFFCA_OK)
		goto out;
	if ((rc = gw_txn_begin(c->st, &txn)) != OFFCA_OK)
		goto out;
	rc = gw_put(c->st, txn, GW_DB_QUEUE, a->rid, q);
	if (rc == OFFCA_OK && tok != NULL)
		rc = gw_token_use(c->st, txn, r->user, tok, a->rid);
	if (rc != OFFCA_OK)
		mdb_txn_abort(txn);
	else
		rc = gw_txn_commit(txn);
	if (rc == OFFCA_OK)
		gw_log("queued %s %s (%s, profile %s, names %s)", a->rid, json_string_value(json_object_get(q, "kind")),
		       tok != NULL ? "token" : "current certificate", json_string_value(json_object_get(q, "profile")), sans);
out:
	json_decref(tok);
	json_decref(q);
	return rc;
}

void gw_est_enroll(gw_ctx *c, const gw_request *r, gw_answer *a)
{
	ca_csr *csr = NULL;
	json_t *q = NULL;
	unsigned char md[32];
	const unsigned char *der;
	size_t dl = 0;
	char sans[EST_MAX_SANS_TEXT];
	offca_rc rc;

	a->ctype = "text/plain";
	if ((rc = parse_csr(r, &csr)) != OFFCA_OK) {
		refuse(a, rc == OFFCA_E_TOO_BIG ? 413 : 400, rc);
		return;
	}
	der = ca_csr_der(csr, &dl);
	SHA256(der, dl, md);
	hex_of(md, GW_RID_LEN / 2, a->rid);
	if ((rc = est_sans_text(ca_csr_sans(csr), sans, sizeof(sans))) != OFFCA_OK) {
		refuse(a, 400, rc);
		goto out;
	}
	rc = gw_get(c->st, GW_DB_QUEUE, a->rid, &q);
	if (rc == OFFCA_OK) {
		poll(c, r, q, sans, a);
		goto out;
	}
	if (rc != OFFCA_E_NOT_FOUND) {
		refuse(a, 500, rc);
		goto out;
	}
	if (r->op[6] != 'r' && r->user == NULL) {
		ut_err(OFFCA_E_PERM, "enrollment needs a token (HTTP Basic: token id as user, secret as password)");
		refuse(a, 401, OFFCA_E_PERM);
		goto out;
	}
	rc = new_request(c, r, csr, sans, a);
	if (rc == OFFCA_OK) {
		a->status = 202;
		a->retry_after = c->retry_after;
	} else
		refuse(a, rc == OFFCA_E_TOO_BIG ? 503 : rc == OFFCA_E_PERM || rc == OFFCA_E_VERIFY ? 403 : 500, rc);
out:
	json_decref(q);
	ca_csr_free(csr);
}
