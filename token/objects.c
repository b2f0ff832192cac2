/* objects.c - listing the keys and certificates on a token, each with its pkcs11: URI. */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJECTS 256

static const char *class_name(CK_OBJECT_CLASS c)
{
	return c == CKO_PRIVATE_KEY ? "private" : c == CKO_PUBLIC_KEY ? "public" : "cert";
}

/* "ec-p256", "ec-p384", "ed25519", "rsa-3072", ... for a key object. */
static void key_kind(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, char *out, size_t cap)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	unsigned char *v = NULL;
	const unsigned char *p;
	size_t len = 0;
	ASN1_OBJECT *obj = NULL;
	int nid;

	snprintf(out, cap, "unknown");
	if (ctx->fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return;
	if (kt == CKK_EC_EDWARDS) {
		snprintf(out, cap, "ed25519");
	} else if (kt == CKK_RSA) {
		snprintf(out, cap, "rsa");
		if (tok_raw_attr(ctx, s, o, CKA_MODULUS, &v, &len) == OFFCA_OK)
			snprintf(out, cap, "rsa-%zu", len * 8);
	} else if (kt == CKK_EC) {
		snprintf(out, cap, "ec");
		if (tok_raw_attr(ctx, s, o, CKA_EC_PARAMS, &v, &len) == OFFCA_OK) {
			p = v;
			obj = d2i_ASN1_OBJECT(NULL, &p, (long)len);
			nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
			if (nid == NID_X9_62_prime256v1)
				snprintf(out, cap, "ec-p256");
			else if (nid == NID_secp384r1)
				snprintf(out, cap, "ec-p384");
			else if (nid == NID_secp521r1)
				snprintf(out, cap, "ec-p521");
			ASN1_OBJECT_free(obj);
		}
	}
	free(v);
}

static offca_rc describe(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_OBJECT_CLASS cls,
			 const char *token_label, tok_object *out)
{
	unsigned char *id = NULL, *label = NULL;
	size_t id_len = 0, label_len = 0;
	char *uri = NULL;
	offca_rc rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->type, sizeof(out->type), "%s", class_name(cls));
	if (tok_raw_attr(ctx, s, o, CKA_ID, &id, &id_len) != OFFCA_OK)
		id_len = 0;
	if (tok_raw_attr(ctx, s, o, CKA_LABEL, &label, &label_len) == OFFCA_OK)
		tok_copy_padded(out->label, sizeof(out->label), label, label_len);
	if (cls == CKO_CERTIFICATE)
		snprintf(out->kind, sizeof(out->kind), "x509");
	else
		key_kind(ctx, s, o, out->kind, sizeof(out->kind));
	rc = tok_obj_uri_make(token_label, id, id_len, out->label, out->type, &uri);
	if (rc == OFFCA_OK && snprintf(out->uri, sizeof(out->uri), "%s", uri) >= (int)sizeof(out->uri))
		rc = ut_err(OFFCA_E_TOO_BIG, "object URI too long");
	free(uri);
	free(id);
	free(label);
	return rc;
}

offca_rc tok_objects(const char *cli_module, const char *token_uri, const tok_pin_opts *opts, tok_object **out,
		     size_t *n)
{
	static const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE};
	tok_session ts;
	CK_OBJECT_HANDLE *h = NULL;
	tok_object *arr = NULL;
	char tlabel[33];
	size_t count = 0, found;
	offca_rc rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (token_uri == NULL || out == NULL || n == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_objects: NULL argument");
	rc = tok_session_open(cli_module, token_uri, 0, &ts);
	if (rc == OFFCA_OK && opts != NULL)
		rc = tok_login(ts.ctx, ts.slot, ts.s, ts.uri, opts);
	if (rc != OFFCA_OK)
		goto out;
	tok_copy_padded(tlabel, sizeof(tlabel), (const unsigned char *)ts.slot->token->label,
			strlen(ts.slot->token->label));
	h = calloc(MAX_OBJECTS, sizeof(*h));
	arr = calloc(MAX_OBJECTS * 3, sizeof(*arr));
	if (h == NULL || arr == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < 3; c++) {
		rc = tok_raw_find(ts.ctx, ts.s, classes[c], NULL, NULL, 0, h, MAX_OBJECTS, &found);
		for (size_t i = 0; rc == OFFCA_OK && i < found; i++)
			rc = describe(ts.ctx, ts.s, h[i], classes[c], tlabel, &arr[count++]);
		if (rc != OFFCA_OK)
			goto out;
	}
	*out = arr;
	*n = count;
	arr = NULL;
out:
	free(arr);
	free(h);
	tok_session_close(&ts);
	return rc;
}
