/* client.c - directory, nonces, JWS POSTs and polling (see client.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "key.h"
#include "offca/util.h"
#include "problem.h"

struct acme_client {
	struct acme_http *http;
	struct acme_proc *kp;
	json_t *dir;
	json_t *jwk;
	char *thumb;
	char *nonce;
	char *kid;
	int verbose;
	int poll_timeout;
};

static offca_rc fetch_directory(struct acme_client *c, const char *url)
{
	offca_rc rc;
	struct acme_resp r;
	json_error_t err;

	rc = acme_http_do(c->http, "GET", url, NULL, NULL, &r);
	if (rc != OFFCA_OK)
		return rc;
	if (r.status != 200) {
		rc = ut_err(OFFCA_E_PROTOCOL, "ACME directory %s: HTTP %ld", url, r.status);
		goto out;
	}
	c->dir = json_loadb((const char *)r.body, r.len, 0, &err);
	if (!json_is_object(c->dir) || !json_is_string(json_object_get(c->dir, "newNonce")) ||
	    !json_is_string(json_object_get(c->dir, "newAccount")) ||
	    !json_is_string(json_object_get(c->dir, "newOrder"))) {
		rc = ut_err(OFFCA_E_PROTOCOL, "%s is not an ACME directory", url);
		goto out;
	}
	rc = OFFCA_OK;
out:
	acme_resp_clear(&r);
	return rc;
}

offca_rc acme_client_reload_key(struct acme_client *c)
{
	offca_rc rc;

	json_decref(c->jwk);
	c->jwk = NULL;
	free(c->thumb);
	c->thumb = NULL;
	rc = acme_keyproc_jwk(c->kp, 0, &c->jwk);
	if (rc == OFFCA_OK && acme_jwk_alg(c->jwk) == NULL)
		rc = ut_err(OFFCA_E_UNSUPPORTED, "account key type not supported");
	if (rc == OFFCA_OK)
		rc = acme_jwk_thumbprint(c->jwk, &c->thumb);
	return rc;
}

offca_rc acme_client_new(const char *dir_url, const char *ca_bundle, struct acme_proc *kp, int verbose,
			 struct acme_client **out)
{
	offca_rc rc;
	struct acme_client *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	c->kp = kp;
	c->verbose = verbose;
	c->poll_timeout = ACME_POLL_TIMEOUT;
	rc = acme_http_new(ca_bundle, verbose, &c->http);
	if (rc == OFFCA_OK)
		rc = fetch_directory(c, dir_url);
	if (rc == OFFCA_OK && kp != NULL)
		rc = acme_client_reload_key(c);
	if (rc != OFFCA_OK) {
		acme_client_free(c);
		return rc;
	}
	*out = c;
	return OFFCA_OK;
}

void acme_client_free(struct acme_client *c)
{
	if (c == NULL)
		return;
	acme_http_free(c->http);
	json_decref(c->dir);
	json_decref(c->jwk);
	free(c->thumb);
	free(c->nonce);
	free(c->kid);
	free(c);
}

const char *acme_client_url(struct acme_client *c, const char *name)
{
	return json_string_value(json_object_get(c->dir, name));
}

json_t *acme_client_dir(struct acme_client *c) { return c->dir; }
const char *acme_client_kid(struct acme_client *c) { return c->kid; }
json_t *acme_client_jwk(struct acme_client *c) { return c->jwk; }
const char *acme_client_thumbprint(struct acme_client *c) { return c->thumb; }
struct acme_proc *acme_client_keyproc(struct acme_client *c) { return c->kp; }
int acme_client_verbose(struct acme_client *c) { return c->verbose; }
void acme_client_set_poll_timeout(struct acme_client *c, int seconds) { c->poll_timeout = seconds; }

offca_rc acme_client_set_kid(struct acme_client *c, const char *kid)
{
	free(c->kid);
	c->kid = strdup(kid);
	return c->kid == NULL ? ut_err(OFFCA_E_NOMEM, "out of memory") : OFFCA_OK;
}

static offca_rc fresh_nonce(struct acme_client *c)
{
	offca_rc rc;
	struct acme_resp r;

	rc = acme_http_do(c->http, "HEAD", acme_client_url(c, "newNonce"), NULL, NULL, &r);
	if (rc != OFFCA_OK)
		return rc;
	if (r.nonce == NULL)
		rc = ut_err(OFFCA_E_PROTOCOL, "the CA sent no Replay-Nonce (HTTP %ld)", r.status);
	else {
		free(c->nonce);
		c->nonce = r.nonce;
		r.nonce = NULL;
	}
	acme_resp_clear(&r);
	return rc;
}

offca_rc acme_client_jws(struct acme_client *c, int slot, const char *url, const json_t *payload,
			 int use_jwk, const char *nonce, json_t **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	json_t *prot = NULL, *jwk = NULL;
	char *ps = NULL, *pls = NULL, *p64 = NULL, *pl64 = NULL, *input = NULL, *sig64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, il;

	*out = NULL;
	if (slot == 0)
		jwk = json_incref(c->jwk);
	else {
		rc = acme_keyproc_jwk(c->kp, slot, &jwk);
		if (rc != OFFCA_OK)
			goto out;
	}
	prot = json_pack("{s:s, s:s}", "alg", acme_jwk_alg(jwk), "url", url);
	if (prot == NULL)
		goto oom;
	if (nonce != NULL && json_object_set_new(prot, "nonce", json_string(nonce)) != 0)
		goto oom;
	if (use_jwk) {
		if (json_object_set(prot, "jwk", jwk) != 0)
			goto oom;
	} else {
		if (c->kid == NULL) {
			rc = ut_err(OFFCA_E_STATE, "no ACME account (run: offca-acme account new)");
			goto out;
		}
		if (json_object_set_new(prot, "kid", json_string(c->kid)) != 0)
			goto oom;
	}
	ps = json_dumps(prot, JSON_COMPACT);
	pls = payload != NULL ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
	if (ps == NULL || pls == NULL)
		goto oom;
	p64 = acme_b64url((const unsigned char *)ps, strlen(ps));
	pl64 = acme_b64url((const unsigned char *)pls, strlen(pls));
	if (p64 == NULL || pl64 == NULL)
		goto oom;
	il = strlen(p64) + strlen(pl64) + 2;
	input = malloc(il);
	if (input == NULL)
		goto oom;
	snprintf(input, il, "%s.%s", p64, pl64);
	rc = acme_keyproc_sign(c->kp, slot, input, &sig, &siglen);
	if (rc != OFFCA_OK)
		goto out;
	sig64 = acme_b64url(sig, siglen);
	if (sig64 == NULL)
		goto oom;
	*out = json_pack("{s:s, s:s, s:s}", "protected", p64, "payload", pl64, "signature", sig64);
	if (*out == NULL)
		goto oom;
	rc = OFFCA_OK;
	goto out;
oom:
	rc = ut_err(OFFCA_E_NOMEM, "out of memory");
out:
	json_decref(prot);
	json_decref(jwk);
	free(ps);
	free(pls);
	free(p64);
	free(pl64);
	free(input);
	free(sig);
	free(sig64);
	return rc;
}

static offca_rc post_once(struct acme_client *c, const char *url, const json_t *payload, int use_jwk,
			  const char *accept, struct acme_resp *resp)
{
	offca_rc rc;
	json_t *jws = NULL;
	char *body = NULL;

	if (c->nonce == NULL) {
		rc = fresh_nonce(c);
		if (rc != OFFCA_OK)
			return rc;
	}
	rc = acme_client_jws(c, 0, url, payload, use_jwk, c->nonce, &jws);
	free(c->nonce);
	c->nonce = NULL;
	if (rc != OFFCA_OK)
		return rc;
	body = json_dumps(jws, JSON_COMPACT);
	json_decref(jws);
	if (body == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = acme_http_do(c->http, "POST", url, body, accept, resp);
	free(body);
	if (rc == OFFCA_OK && resp->nonce != NULL) {
		c->nonce = resp->nonce;
		resp->nonce = NULL;
	}
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

offca_rc acme_client_post(struct acme_client *c, const char *url, const json_t *payload, int use_jwk,
			  const char *accept, struct acme_resp *resp, json_t **json)
{
	offca_rc rc;
	char type[64], line[1024];
	json_error_t err;
	int waited = 0;

	if (json != NULL)
		*json = NULL;
	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	for (int attempt = 0;; attempt++) {
		rc = post_once(c, url, payload, use_jwk, accept, resp);
		if (rc != OFFCA_OK)
			return rc;
		if (c->verbose)
			fprintf(stderr, "offca-acme: POST %s -> %ld\n", url, resp->status);
		if (resp->status < 400)
			break;
		acme_problem_type(resp->body, resp->len, type, sizeof(type));
		if (strcmp(type, "badNonce") == 0 && attempt < ACME_MAX_NONCE_RETRIES) {
			if (c->verbose)
				fprintf(stderr, "offca-acme: badNonce from the CA, retrying with a fresh nonce\n");
			acme_resp_clear(resp);
			continue;
		}
		/* a short server hiccup (503 with a brief Retry-After) is waited out once */
		if (resp->status == 503 && resp->retry_after >= 0 && resp->retry_after <= 10 && !waited) {
			waited = 1;
			sleep_ms(resp->retry_after * 1000 + 100);
			acme_resp_clear(resp);
			continue;
		}
		acme_problem_line(resp->body, resp->len, resp->status, line, sizeof(line));
		if (resp->retry_after > 0)
			return ut_err(OFFCA_E_PROTOCOL, "CA refused (%s): %s (retry after %ld s)", url, line,
				      resp->retry_after);
		return ut_err(OFFCA_E_PROTOCOL, "CA refused (%s): %s", url, line);
	}
	if (json != NULL && resp->content_type != NULL && strstr(resp->content_type, "json") != NULL) {
		*json = json_loadb((const char *)resp->body, resp->len, 0, &err);
		if (*json == NULL)
			return ut_err(OFFCA_E_PROTOCOL, "%s: malformed JSON from the CA (%s)", url, err.text);
	}
	return OFFCA_OK;
}

offca_rc acme_client_get(struct acme_client *c, const char *url, struct acme_resp *resp)
{
	return acme_http_do(c->http, "GET", url, NULL, NULL, resp);
}


static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

offca_rc acme_client_poll(struct acme_client *c, const char *url, const char *what, json_t **obj)
{
	offca_rc rc;
	struct acme_resp r;
	json_t *j = NULL;
	const char *st;
	long delay = 50; /* ms; pebble sends no Retry-After: start brisk, back off to 2 s */
	double deadline = now_s() + c->poll_timeout;

	*obj = NULL;
	for (;;) {
		rc = acme_client_post(c, url, NULL, 0, NULL, &r, &j);
		if (rc != OFFCA_OK) {
			acme_resp_clear(&r);
			return rc;
		}
		st = json_string_value(json_object_get(j, "status"));
		if (st == NULL) {
			acme_resp_clear(&r);
			json_decref(j);
			return ut_err(OFFCA_E_PROTOCOL, "%s %s: no status in the CA's answer", what, url);
		}
		if (strcmp(st, "pending") != 0 && strcmp(st, "processing") != 0) {
			acme_resp_clear(&r);
			*obj = j;
			return OFFCA_OK;
		}
		if (r.retry_after >= 0)
			delay = r.retry_after > 10 ? 10000 : (r.retry_after == 0 ? 50 : r.retry_after * 1000);
		acme_resp_clear(&r);
		json_decref(j);
		j = NULL;
		if (now_s() + (double)delay / 1000.0 > deadline)
			return ut_err(OFFCA_E_TIMEOUT, "%s still %s after %d s", what, st, c->poll_timeout);
		sleep_ms(delay);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
}
