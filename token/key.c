/*
 * key.c - opening a key on a token: find the token, log in once, hand out an EVP_PKEY whose
 * private operations run on the token (libp11) and a plain public key read from the matching
 * public-key object (or certificate) with the same CKA_ID.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tok_key {
	tok_ctx *ctx;
	CK_SESSION_HANDLE s; /* raw session that holds the login while the key is open */
	EVP_PKEY *priv;
	EVP_PKEY *pub;
	struct tok_reauth *reauth; /* PIN source for keys that need it for every signature */
	char *uri;
	char token_label[33];
	char token_serial[17];
	char label[65];
	unsigned char id[TOK_MAX_ID];
	size_t id_len;
};

/* The one private-key object the URI names (object= and/or id=). */
static offca_rc find_priv(tok_key *k, const tok_uri *uri, CK_OBJECT_HANDLE *out)
{
	const char *label = tok_uri_get(uri, "object");
	size_t id_len;
	const unsigned char *id = tok_uri_id(uri, &id_len);
	CK_OBJECT_HANDLE h[2];
	size_t n;
	offca_rc rc;

	rc = tok_raw_find(k->ctx, k->s, CKO_PRIVATE_KEY, label, id, id_len, h, 2, &n);
	if (rc != OFFCA_OK)
		return rc;
	if (n == 0)
		return ut_err(OFFCA_E_NOT_FOUND, "token '%s' holds no private key %s%s%s", k->token_label,
			      label ? "labelled '" : "matching the URI", label ? label : "", label ? "'" : "");
	if (n > 1)
		return ut_err(OFFCA_E_USAGE, "token '%s' holds several private keys matching the URI: add id=... "
					     "or object=...", k->token_label);
	*out = h[0];
	return OFFCA_OK;
}

/* Remember the key's CKA_ID and CKA_LABEL; refuse key types libp11 cannot sign with. */
static offca_rc read_ids(tok_key *k, CK_OBJECT_HANDLE o)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	unsigned char *v = NULL;
	size_t len = 0;
	offca_rc rc;

	if (k->ctx->fl->C_GetAttributeValue(k->s, o, &a, 1) != CKR_OK)
		return ut_err(OFFCA_E_TOKEN, "cannot read the key type of the private key");
	if (kt == CKK_EC_EDWARDS)
		return ut_err(OFFCA_E_UNSUPPORTED, "key is Ed25519: libp11 %s cannot sign with EdDSA keys through "
						   "OpenSSL, so offca cannot use it as a CA key yet (use ec-p256/ec-p384)",
			      "0.4.12");
	if (kt != CKK_EC && kt != CKK_RSA)
		return ut_err(OFFCA_E_UNSUPPORTED, "private key type 0x%lx is not supported", (unsigned long)kt);
	rc = tok_raw_attr(k->ctx, k->s, o, CKA_ID, &v, &len);
	if (rc != OFFCA_OK)
		goto out;
	if (len == 0 || len > sizeof(k->id)) {
		rc = ut_err(OFFCA_E_UNSUPPORTED, "the private key has no usable CKA_ID (%zu bytes)", len);
		goto out;
	}
	memcpy(k->id, v, len);
	k->id_len = len;
	free(v);
	v = NULL;
	if (tok_raw_attr(k->ctx, k->s, o, CKA_LABEL, &v, &len) == OFFCA_OK)
		tok_copy_padded(k->label, sizeof(k->label), v, len);
	rc = OFFCA_OK;
out:
	free(v);
	return rc;
}

/* libp11's handle for the private key with our id; the EVP_PKEY signs on the token. */
static offca_rc p11_private(tok_key *k, PKCS11_SLOT *slot)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0;

	size_t ed = 0, other = 0;

	if (PKCS11_enumerate_keys(slot->token, &keys, &n) != 0) {
		if (tok_raw_key_census(k->ctx, k->s, &ed, &other) == OFFCA_OK && ed > 0)
			return ut_err(OFFCA_E_UNSUPPORTED, "token '%s' holds an Ed25519 key and %s: move the "
							   "Ed25519 key to a token of its own",
				      k->token_label, TOK_EDDSA_NOTE);
		return ut_err_ssl(OFFCA_E_TOKEN, "token '%s': libp11 cannot list the private keys", k->token_label);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (keys[i].id_len != k->id_len || memcmp(keys[i].id, k->id, k->id_len) != 0)
			continue;
		k->priv = PKCS11_get_private_key(&keys[i]);
		if (k->priv == NULL)
			return ut_err_ssl(OFFCA_E_TOKEN, "token '%s': libp11 cannot use private key '%s'",
					  k->token_label, k->label);
		return OFFCA_OK;
	}
	return ut_err(OFFCA_E_NOT_FOUND, "token '%s': libp11 does not see private key '%s'", k->token_label,
		      k->label);
}

/* The matching public key: a public-key object with our id, else a certificate with it. */
static offca_rc find_public(tok_key *k)
{
	CK_OBJECT_HANDLE h[1];
	size_t n;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len;
	X509 *x = NULL;
	offca_rc rc;

	rc = tok_raw_find(k->ctx, k->s, CKO_PUBLIC_KEY, NULL, k->id, k->id_len, h, 1, &n);
	if (rc != OFFCA_OK)
		return rc;
	if (n == 1)
		return tok_raw_pubkey(k->ctx, k->s, h[0], &k->pub);
	rc = tok_raw_find(k->ctx, k->s, CKO_CERTIFICATE, NULL, k->id, k->id_len, h, 1, &n);
	if (rc != OFFCA_OK)
		return rc;
	if (n == 0)
		return ut_err(OFFCA_E_NOT_FOUND, "token '%s': no public key or certificate with the id of key '%s'",
			      k->token_label, k->label);
	rc = tok_raw_attr(k->ctx, k->s, h[0], CKA_VALUE, &der, &len);
	if (rc != OFFCA_OK)
		return rc;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	k->pub = x != NULL ? X509_get_pubkey(x) : NULL;
	rc = k->pub != NULL ? OFFCA_OK : ut_err_ssl(OFFCA_E_PARSE, "token '%s': the certificate of key '%s' is "
								   "malformed", k->token_label, k->label);
	X509_free(x);
	free(der);
	return rc;
}

/* CKA_ALWAYS_AUTHENTICATE keys (YubiKey PIV 9c): arrange per-signature PIN entry. */
static offca_rc setup_reauth(tok_key *k, CK_OBJECT_HANDLE o, const tok_uri *uri, const tok_pin_opts *opts)
{
	CK_BBOOL always = CK_FALSE;
	CK_ATTRIBUTE a = {CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always)};

	if (k->ctx->fl->C_GetAttributeValue(k->s, o, &a, 1) != CKR_OK || always != CK_TRUE)
		return OFFCA_OK;
	return tok_reauth_add(k->ctx, k->label, uri, opts, &k->reauth);
}

static offca_rc check_type(const tok_uri *uri)
{
	const char *t = tok_uri_get(uri, "type");

	if (t != NULL && strcmp(t, "private") != 0)
		return ut_err(OFFCA_E_USAGE, "pkcs11 URI: type=%s does not name a private key", t);
	return OFFCA_OK;
}

/* The key's URI as offca records it: the token by its label, or by its serial when the caller named
 * it by serial alone (a YubiKey's token label under OpenSC is the subject of the certificate in
 * 9a/9c, and changes when the root certificate is imported there). */
static offca_rc make_uri(tok_key *k, const tok_uri *uri)
{
	const char *rest;
	char *buf;
	offca_rc rc;

	rc = tok_key_uri_make(k->token_label, k->id, k->id_len, k->label, &k->uri);
	if (rc != OFFCA_OK || tok_uri_get(uri, "serial") == NULL || tok_uri_get(uri, "token") != NULL ||
	    k->token_serial[0] == '\0')
		return rc;
	buf = calloc(1, TOK_MAX_URI);
	if (buf == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	strcpy(buf, "pkcs11:");
	rc = tok_uri_append(buf, TOK_MAX_URI, "serial", (const unsigned char *)k->token_serial,
			    strlen(k->token_serial), 0);
	rest = strchr(k->uri, ';'); /* after token=...: a label's ';' is percent-encoded */
	if (rc == OFFCA_OK && rest != NULL && strlen(buf) + strlen(rest) >= TOK_MAX_URI)
		rc = ut_err(OFFCA_E_TOO_BIG, "pkcs11 URI too long");
	if (rc != OFFCA_OK) {
		free(buf);
		return rc;
	}
	if (rest != NULL)
		strcat(buf, rest);
	free(k->uri);
	k->uri = buf;
	return OFFCA_OK;
}

offca_rc tok_key_open(const char *cli_module, const char *uri_text, const tok_pin_opts *opts, tok_key **out)
{
	tok_uri *uri = NULL;
	tok_key *k = NULL;
	PKCS11_SLOT *slot = NULL;
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
	char module[PATH_MAX];
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	if (uri_text == NULL || out == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_key_open: NULL argument");
	rc = tok_uri_parse(uri_text, &uri);
	if (rc == OFFCA_OK)
		rc = check_type(uri);
	if (rc == OFFCA_OK)
		rc = tok_module_resolve(cli_module, uri, module, sizeof(module));
	if (rc != OFFCA_OK)
		goto out;
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	k->s = CK_INVALID_HANDLE;
	rc = tok_ctx_open(module, &k->ctx);
	if (rc == OFFCA_OK)
		rc = tok_find_slot(k->ctx, uri, &slot);
	if (rc != OFFCA_OK)
		goto out;
	tok_copy_padded(k->token_label, sizeof(k->token_label), (const unsigned char *)slot->token->label,
			strlen(slot->token->label));
	tok_copy_padded(k->token_serial, sizeof(k->token_serial), (const unsigned char *)slot->token->serialnr,
			strlen(slot->token->serialnr));
	rc = tok_raw_session(k->ctx, PKCS11_get_slotid_from_slot(slot), 0, &k->s);
	if (rc == OFFCA_OK)
		rc = tok_login(k->ctx, slot, k->s, uri, opts);
	if (rc == OFFCA_OK)
		rc = find_priv(k, uri, &priv);
	if (rc == OFFCA_OK)
		rc = read_ids(k, priv);
	if (rc == OFFCA_OK)
		rc = find_public(k);
	if (rc == OFFCA_OK)
		rc = setup_reauth(k, priv, uri, opts);
	if (rc == OFFCA_OK)
		rc = p11_private(k, slot);
	if (rc == OFFCA_OK)
		rc = make_uri(k, uri);
	if (rc != OFFCA_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	tok_key_free(k);
	tok_uri_free(uri);
	return rc;
}

void tok_key_free(tok_key *k)
{
	if (k == NULL)
		return;
	if (tok_touch_forget(k->priv, k))
		return; /* a signature waiting for a touch still uses it: left to that thread (touch.c) */
	/* EVP_PKEYs first: libp11's refers to objects owned by the context's slots. */
	EVP_PKEY_free(k->priv);
	EVP_PKEY_free(k->pub);
	tok_reauth_free(k->reauth);
	if (k->s != CK_INVALID_HANDLE)
		k->ctx->fl->C_CloseSession(k->s);
	tok_ctx_free(k->ctx);
	free(k->uri);
	ut_memzero(k, sizeof(*k));
	free(k);
}

EVP_PKEY *tok_key_private(tok_key *k)
{
	return k != NULL ? k->priv : NULL;
}

EVP_PKEY *tok_key_public(tok_key *k)
{
	return k != NULL ? k->pub : NULL;
}

const char *tok_key_uri(const tok_key *k)
{
	return k != NULL ? k->uri : NULL;
}

const char *tok_key_token_label(const tok_key *k)
{
	return k != NULL ? k->token_label : NULL;
}

const char *tok_key_token_serial(const tok_key *k)
{
	return k != NULL ? k->token_serial : NULL;
}

const char *tok_key_label(const tok_key *k)
{
	return k != NULL ? k->label : NULL;
}
