/*
 * gw_token.c - one-time enrollment tokens: an id (public, 16 hex digits) and a secret (32 random
 * bytes, base64url) shown once; the gateway keeps only SHA-256(secret), the names the token
 * allows, the profile it requests, its expiry and its state (unused, used by a request, revoked).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "gw.h"
#include "offca/util.h"

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

offca_rc gw_duration_parse(const char *text, int64_t *out)
{
	char *end = NULL;
	long long v;
	int64_t mul = 1;

	*out = 0;
	if (text == NULL || !isdigit((unsigned char)text[0]))
		return ut_err(OFFCA_E_USAGE, "duration '%s': use a number with s, m, h or d (e.g. 24h)", text ? text : "");
	v = strtoll(text, &end, 10);
	if (*end == 's' || *end == '\0')
		mul = 1;
	else if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end == 'd')
		mul = 86400;
	else
		return ut_err(OFFCA_E_USAGE, "duration '%s': use a number with s, m, h or d (e.g. 24h)", text);
	if (*end != '\0' && end[1] != '\0')
		return ut_err(OFFCA_E_USAGE, "duration '%s': use a number with s, m, h or d (e.g. 24h)", text);
	if (v <= 0 || v > 3650LL * 86400 / mul)
		return ut_err(OFFCA_E_USAGE, "duration '%s' out of range (1s..3650d)", text);
	*out = (int64_t)v * mul;
	return OFFCA_OK;
}

static offca_rc check_san(const char *s, char *canon, size_t cap)
{
	size_t n = strlen(s);
	const char *name = s;

	if (strncmp(s, "DNS:", 4) == 0)
		name = s + 4;
	else if (strncmp(s, "IP:", 3) == 0) {
		if (n >= cap)
			return ut_err(OFFCA_E_USAGE, "--san '%s' too long", s);
		memcpy(canon, s, n + 1);
		return OFFCA_OK;
	}
	n = strlen(name);
	if (n == 0 || n > GW_MAX_SAN_LEN)
		return ut_err(OFFCA_E_USAGE, "--san '%s': a DNS name of 1..%u bytes (or IP:addr)", s, GW_MAX_SAN_LEN);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '-' && name[i] != '*')
			return ut_err(OFFCA_E_USAGE, "--san '%s': only letters, digits, '.', '-' and '*' in DNS names", s);
	snprintf(canon, cap, "DNS:%s", name);
	for (char *p = canon + 4; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return OFFCA_OK;
}

offca_rc gw_token_new(gw_state *st, MDB_txn *txn, const gw_token_opts *o, char *id, char *secret, size_t secret_cap)
{
	unsigned char idb[GW_TOKEN_ID_LEN / 2], sb[32], md[32];
	char hash[65];
	json_t *tok = NULL, *sans = NULL;
	offca_rc rc = OFFCA_E_NOMEM;

	id[0] = '\0';
	if (o->n_sans == 0)
		return ut_err(OFFCA_E_USAGE, "token new needs at least one --san NAME");
	if (strcmp(o->profile, "client") != 0 && strcmp(o->profile, "server") != 0 && strcmp(o->profile, "mtls") != 0)
		return ut_err(OFFCA_E_USAGE, "--profile must be client, server or mtls (not '%s')", o->profile);
	if (secret_cap < 64)
		return ut_err(OFFCA_E_USAGE, "gw_token_new: secret buffer too small");
	if ((sans = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < o->n_sans; i++) {
		char canon[GW_MAX_SAN_LEN + 8];

		if ((rc = check_san(o->sans[i], canon, sizeof(canon))) != OFFCA_OK)
			goto out;
		json_array_append_new(sans, json_string(canon));
	}
	if (RAND_bytes(idb, sizeof(idb)) != 1 || RAND_bytes(sb, sizeof(sb)) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "random bytes for a token");
		goto out;
	}
	hex_of(idb, sizeof(idb), id);
	EVP_EncodeBlock((unsigned char *)secret, sb, sizeof(sb));
	for (char *p = secret; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '\0' : *p;
	SHA256((const unsigned char *)secret, strlen(secret), md);
	hex_of(md, sizeof(md), hash);
	tok = json_pack("{s:i,s:s,s:O,s:s,s:I,s:I,s:s}", "v", 1, "hash", hash, "sans", sans, "profile", o->profile,
			"created", (json_int_t)time(NULL), "expires", (json_int_t)(time(NULL) + o->ttl), "state", "unused");
	if (tok == NULL)
		goto out;
	rc = gw_put(st, txn, GW_DB_TOKENS, id, tok);
out:
	OPENSSL_cleanse(sb, sizeof(sb));
	if (rc != OFFCA_OK) {
		OPENSSL_cleanse(secret, secret_cap);
		id[0] = '\0';
		if (rc == OFFCA_E_NOMEM)
			ut_err(rc, "out of memory");
	}
	json_decref(tok);
	json_decref(sans);
	return rc;
}

offca_rc gw_token_revoke(gw_state *st, const char *id)
{
	json_t *tok = NULL;
	offca_rc rc = gw_get(st, GW_DB_TOKENS, id, &tok);

	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(rc, "no enrollment token %s", id);
	if (rc != OFFCA_OK)
		return rc;
	json_object_set_new(tok, "state", json_string("revoked"));
	rc = gw_put(st, NULL, GW_DB_TOKENS, id, tok);
	json_decref(tok);
	return rc;
}

/* every name of the CSR (comma-separated canonical text) is one the token allows */
static offca_rc sans_allowed(json_t *tok, const char *csr_sans)
{
	char buf[4096], *save = NULL;
	json_t *allowed = json_object_get(tok, "sans");

	if (csr_sans[0] == '\0')
		return ut_err(OFFCA_E_PERM, "the CSR asks for no subjectAltName");
	snprintf(buf, sizeof(buf), "%s", csr_sans);
	for (char *n = strtok_r(buf, ",", &save); n != NULL; n = strtok_r(NULL, ",", &save)) {
		size_t i;
		json_t *v;
		int ok = 0;

		json_array_foreach(allowed, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v), n) == 0)
				ok = 1;
		if (!ok)
			return ut_err(OFFCA_E_PERM, "the token does not allow the name %s", n);
	}
	return OFFCA_OK;
}

offca_rc gw_token_check(gw_state *st, const char *id, const char *secret, const char *csr_sans, const char *rid,
			json_t **tok_out)
{
	json_t *tok = NULL;
	unsigned char md[32];
	char hash[65];
	const char *state, *used_by, *want;
	offca_rc rc;

	*tok_out = NULL;
	if (id == NULL || secret == NULL || strlen(id) != GW_TOKEN_ID_LEN)
		return ut_err(OFFCA_E_PERM, "no enrollment token (HTTP Basic: token id as user, secret as password)");
	for (const char *p = id; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return ut_err(OFFCA_E_PERM, "malformed token id");
	rc = gw_get(st, GW_DB_TOKENS, id, &tok);
	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(OFFCA_E_PERM, "unknown enrollment token %s", id);
	if (rc != OFFCA_OK)
		return rc;
	SHA256((const unsigned char *)secret, strlen(secret), md);
	hex_of(md, sizeof(md), hash);
	want = json_string_value(json_object_get(tok, "hash"));
	state = json_string_value(json_object_get(tok, "state"));
	used_by = json_string_value(json_object_get(tok, "request"));
	if (want == NULL || state == NULL || strlen(want) != 64 || CRYPTO_memcmp(want, hash, 64) != 0)
		rc = ut_err(OFFCA_E_PERM, "wrong secret for enrollment token %s", id);
	else if (strcmp(state, "revoked") == 0)
		rc = ut_err(OFFCA_E_PERM, "enrollment token %s is revoked", id);
	else if (strcmp(state, "used") == 0 && (used_by == NULL || strcmp(used_by, rid) != 0))
		rc = ut_err(OFFCA_E_PERM, "enrollment token %s was already used", id);
	else if (strcmp(state, "unused") == 0 && json_integer_value(json_object_get(tok, "expires")) < (json_int_t)time(NULL))
		rc = ut_err(OFFCA_E_PERM, "enrollment token %s has expired", id);
	else
		rc = sans_allowed(tok, csr_sans);
	if (rc == OFFCA_OK)
		*tok_out = tok;
	else
		json_decref(tok);
	return rc;
}

offca_rc gw_token_use(gw_state *st, MDB_txn *txn, const char *id, json_t *tok, const char *rid)
{
	if (strcmp(json_string_value(json_object_get(tok, "state")), "used") == 0)
		return OFFCA_OK;
	json_object_set_new(tok, "state", json_string("used"));
	json_object_set_new(tok, "request", json_string(rid));
	json_object_set_new(tok, "used", json_integer((json_int_t)time(NULL)));
	return gw_put(st, txn, GW_DB_TOKENS, id, tok);
}
