/*
 * certobj.c - reading certificate objects (CKO_CERTIFICATE) off a token by label and CKA_ID:
 * what a key ceremony needs to read a YubiKey's PIV attestation through PKCS#11 (Yubico's
 * ykcs11 shows it as certificate objects; see docs/yubikey.md).
 */
#include "tok_int.h"
#include "offca/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CERT_OBJECTS 64

struct scan {
	const char *label;       /* exact label, or NULL */
	const char *prefix;      /* label prefix, or NULL */
	const unsigned char *id; /* CKA_ID to match, or NULL */
	size_t id_len;
	tok_certobj *found;
	size_t n;
};

static offca_rc read_one(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, struct scan *sc)
{
	unsigned char *label = NULL, *id = NULL, *der = NULL;
	size_t label_len = 0, id_len = 0, der_len = 0;
	tok_certobj *c = &sc->found[sc->n];
	offca_rc rc = OFFCA_OK;

	memset(c, 0, sizeof(*c));
	if (tok_raw_attr(ctx, s, o, CKA_LABEL, &label, &label_len) == OFFCA_OK)
		tok_copy_padded(c->label, sizeof(c->label), label, label_len);
	if (sc->prefix != NULL && strncmp(c->label, sc->prefix, strlen(sc->prefix)) != 0)
		goto out; /* not one of ours */
	if (tok_raw_attr(ctx, s, o, CKA_ID, &id, &id_len) == OFFCA_OK && id_len <= sizeof(c->id)) {
		memcpy(c->id, id, id_len);
		c->id_len = id_len;
	}
	rc = tok_raw_attr(ctx, s, o, CKA_VALUE, &der, &der_len);
	if (rc != OFFCA_OK) {
		char why[256];
		snprintf(why, sizeof(why), "%s", ut_err_msg());
		rc = ut_err(rc, "certificate '%s' on the token: cannot read its value (%s)", c->label, why);
		goto out;
	}
	if (der_len == 0) {
		rc = ut_err(OFFCA_E_PARSE, "certificate '%s' on the token is empty", c->label);
		goto out;
	}
	c->der = der;
	c->der_len = der_len;
	der = NULL;
	sc->n++;
out:
	free(label);
	free(id);
	free(der);
	return rc;
}

static offca_rc search(tok_ctx *ctx, CK_SESSION_HANDLE s, struct scan *sc)
{
	CK_OBJECT_HANDLE h[MAX_CERT_OBJECTS];
	size_t found = 0;
	offca_rc rc;

	rc = tok_raw_find(ctx, s, CKO_CERTIFICATE, sc->label, sc->id, sc->id_len, h, MAX_CERT_OBJECTS, &found);
	for (size_t i = 0; rc == OFFCA_OK && i < found; i++)
		rc = read_one(ctx, s, h[i], sc);
	return rc;
}

static void drop(struct scan *sc)
{
	tok_certs_free(sc->found, sc->n);
	sc->found = NULL;
	sc->n = 0;
}

/* Open the token, look without logging in; when nothing matched and opts is given, log in on the
   same session and look again (tokens that keep certificates private). */
static offca_rc scan_token(const char *cli_module, const char *token_uri, const tok_pin_opts *opts,
			   struct scan *sc)
{
	tok_session ts;
	offca_rc rc;

	sc->n = 0;
	sc->found = calloc(MAX_CERT_OBJECTS, sizeof(*sc->found));
	if (sc->found == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = tok_session_open(cli_module, token_uri, 0, &ts);
	if (rc == OFFCA_OK)
		rc = search(ts.ctx, ts.s, sc);
	if (rc == OFFCA_OK && sc->n == 0 && opts != NULL) {
		rc = tok_login(ts.ctx, ts.slot, ts.s, ts.uri, opts);
		if (rc == OFFCA_OK)
			rc = search(ts.ctx, ts.s, sc);
	}
	if (rc != OFFCA_OK)
		drop(sc);
	tok_session_close(&ts);
	return rc;
}

offca_rc tok_cert_by_label(const char *cli_module, const char *token_uri, const char *label,
			   const tok_pin_opts *opts, unsigned char **der, size_t *len)
{
	struct scan sc;
	tok_uri *uri = NULL;
	offca_rc rc;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (token_uri == NULL || label == NULL || der == NULL || len == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_cert_by_label: NULL argument");
	memset(&sc, 0, sizeof(sc));
	sc.label = label;
	rc = tok_uri_parse(token_uri, &uri);
	if (rc != OFFCA_OK)
		return rc;
	sc.id = tok_uri_id(uri, &sc.id_len);
	rc = scan_token(cli_module, token_uri, opts, &sc);
	if (rc == OFFCA_OK && sc.n == 0)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no certificate labelled '%s' on the token", label);
	else if (rc == OFFCA_OK && sc.n > 1)
		rc = ut_err(OFFCA_E_USAGE, "%zu certificates labelled '%s' on the token: name one by id=", sc.n, label);
	if (rc == OFFCA_OK) {
		*der = sc.found[0].der;
		*len = sc.found[0].der_len;
		sc.found[0].der = NULL;
	}
	drop(&sc);
	tok_uri_free(uri);
	return rc;
}

offca_rc tok_certs_find(const char *cli_module, const char *token_uri, const char *label_prefix,
			const unsigned char *id, size_t id_len, const tok_pin_opts *opts, tok_certobj **out,
			size_t *n)
{
	struct scan sc;
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (token_uri == NULL || out == NULL || n == NULL || (id == NULL && id_len != 0))
		return ut_err(OFFCA_E_USAGE, "tok_certs_find: bad argument");
	if (id_len > TOK_MAX_ID)
		return ut_err(OFFCA_E_TOO_BIG, "tok_certs_find: CKA_ID longer than %d bytes", TOK_MAX_ID);
	memset(&sc, 0, sizeof(sc));
	sc.prefix = label_prefix != NULL && label_prefix[0] != '\0' ? label_prefix : NULL;
	sc.id = id;
	sc.id_len = id_len;
	rc = scan_token(cli_module, token_uri, opts, &sc);
	if (rc != OFFCA_OK)
		return rc;
	if (sc.n == 0) {
		drop(&sc);
		return OFFCA_OK;
	}
	*out = sc.found;
	*n = sc.n;
	return OFFCA_OK;
}

void tok_certs_free(tok_certobj *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].der);
	free(v);
}
