/*
 * keygen.c - generating key pairs on a token through the raw C_GenerateKeyPair: libp11 0.4.12
 * only makes RSA keys and gives no control over CKA_SENSITIVE / CKA_EXTRACTABLE.
 * The private half is CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, sign-only;
 * both halves share a random 16-byte CKA_ID and the label. After generation the attributes are
 * read back, and a token that ignored them gets its new keys destroyed and an error.
 */
#include "tok_int.h"
#include "offca/util.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOK_MAX_LABEL 64
#define KEY_ID_LEN 16

static const struct {
	tok_keytype type;
	const char *name;
} type_names[] = {
	{TOK_KEY_EC_P256, "ec-p256"},   {TOK_KEY_EC_P384, "ec-p384"}, {TOK_KEY_RSA_3072, "rsa-3072"},
	{TOK_KEY_RSA_4096, "rsa-4096"}, {TOK_KEY_ED25519, "ed25519"},
};

offca_rc tok_keytype_parse(const char *name, tok_keytype *out)
{
	for (size_t i = 0; name != NULL && i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(name, type_names[i].name) == 0) {
			*out = type_names[i].type;
			return OFFCA_OK;
		}
	}
	return ut_err(OFFCA_E_USAGE, "key type '%s': must be ec-p256, ec-p384, rsa-3072, rsa-4096 or ed25519",
		      name != NULL ? name : "");
}

const char *tok_keytype_name(tok_keytype t)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	return "unknown";
}

/* DER of the curve OIDs: prime256v1, secp384r1, id-Ed25519 (RFC 8410). */
static const unsigned char oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const unsigned char oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

struct gen {
	CK_MECHANISM_TYPE mech;
	const unsigned char *params; /* CKA_EC_PARAMS, or NULL for RSA */
	size_t params_len;
	CK_ULONG bits; /* RSA */
	const char *mech_name;
};

static struct gen gen_for(tok_keytype t)
{
	struct gen g = {CKM_EC_KEY_PAIR_GEN, NULL, 0, 0, "CKM_EC_KEY_PAIR_GEN"};

	switch (t) {
	case TOK_KEY_EC_P256:
		g.params = oid_p256;
		g.params_len = sizeof(oid_p256);
		break;
	case TOK_KEY_EC_P384:
		g.params = oid_p384;
		g.params_len = sizeof(oid_p384);
		break;
	case TOK_KEY_RSA_3072:
	case TOK_KEY_RSA_4096:
		g.mech = CKM_RSA_PKCS_KEY_PAIR_GEN;
		g.mech_name = "CKM_RSA_PKCS_KEY_PAIR_GEN";
		g.bits = t == TOK_KEY_RSA_3072 ? 3072 : 4096;
		break;
	case TOK_KEY_ED25519:
		g.mech = CKM_EC_EDWARDS_KEY_PAIR_GEN;
		g.mech_name = "CKM_EC_EDWARDS_KEY_PAIR_GEN";
		g.params = oid_ed25519;
		g.params_len = sizeof(oid_ed25519);
		break;
	}
	return g;
}

static offca_rc check_mech(tok_ctx *ctx, CK_SLOT_ID sid, const struct gen *g, tok_keytype t, const char *tok)
{
	CK_MECHANISM_INFO mi;
	CK_RV rv = ctx->fl->C_GetMechanismInfo(sid, g->mech, &mi);

	if (rv == CKR_MECHANISM_INVALID || (rv == CKR_OK && !(mi.flags & CKF_GENERATE_KEY_PAIR)))
		return ut_err(OFFCA_E_UNSUPPORTED, "token '%s' cannot generate %s keys (no %s)", tok,
			      tok_keytype_name(t), g->mech_name);
	if (rv != CKR_OK)
		return tok_rv(rv, "query the token's mechanisms");
	if (g->bits != 0 && mi.ulMaxKeySize != 0 && (g->bits > mi.ulMaxKeySize || g->bits < mi.ulMinKeySize))
		return ut_err(OFFCA_E_UNSUPPORTED, "token '%s' cannot generate %s keys (RSA %lu..%lu bits)", tok,
			      tok_keytype_name(t), (unsigned long)mi.ulMinKeySize, (unsigned long)mi.ulMaxKeySize);
	return OFFCA_OK;
}

static offca_rc check_label(const char *label)
{
	size_t len = label != NULL ? strlen(label) : 0;

	if (len == 0 || len > TOK_MAX_LABEL)
		return ut_err(OFFCA_E_USAGE, "key label must be 1..%d characters", TOK_MAX_LABEL);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return ut_err(OFFCA_E_USAGE, "key label contains a control character");
	return OFFCA_OK;
}

/* Read back the protection attributes of the new private key. */
static offca_rc verify_private(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_BBOOL tok = CK_FALSE, priv = CK_FALSE, sens = CK_FALSE, extr = CK_TRUE;
	CK_ATTRIBUTE a[] = {
		{CKA_TOKEN, &tok, sizeof(tok)},
		{CKA_PRIVATE, &priv, sizeof(priv)},
		{CKA_SENSITIVE, &sens, sizeof(sens)},
		{CKA_EXTRACTABLE, &extr, sizeof(extr)},
	};
	CK_RV rv = ctx->fl->C_GetAttributeValue(s, o, a, 4);

	if (rv != CKR_OK)
		return tok_rv(rv, "read back the new key's attributes");
	if (!tok || !priv || !sens || extr)
		return ut_err(OFFCA_E_TOKEN, "the token ignored the key protection attributes (token=%d private=%d "
					     "sensitive=%d extractable=%d): key destroyed",
			      tok, priv, sens, extr);
	return OFFCA_OK;
}

static offca_rc generate(tok_ctx *ctx, CK_SESSION_HANDLE s, const struct gen *g, const char *label,
			 const unsigned char *id, unsigned flags, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, derive = (flags & TOK_KEYGEN_DERIVE) ? CK_TRUE : CK_FALSE;
	CK_BYTE exp[] = {0x01, 0x00, 0x01};
	CK_ULONG bits = g->bits;
	CK_MECHANISM mech = {g->mech, NULL, 0};
	CK_ULONG llen = (CK_ULONG)strlen(label);
	CK_ATTRIBUTE pt[9] = {
		{CKA_TOKEN, &yes, sizeof(yes)},   {CKA_PRIVATE, &no, sizeof(no)},
		{CKA_VERIFY, &yes, sizeof(yes)},  {CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_WRAP, &no, sizeof(no)},      {CKA_LABEL, (void *)label, llen},
		{CKA_ID, (void *)id, KEY_ID_LEN},
	};
	CK_ATTRIBUTE kt[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},       {CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},   {CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},        {CKA_DECRYPT, &no, sizeof(no)},
		{CKA_DERIVE, &derive, sizeof(derive)}, {CKA_UNWRAP, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, llen},     {CKA_ID, (void *)id, KEY_ID_LEN},
	};
	CK_ULONG npt = 7;
	CK_RV rv;

	if (g->params != NULL) {
		pt[npt].type = CKA_EC_PARAMS;
		pt[npt].pValue = (void *)g->params;
		pt[npt].ulValueLen = g->params_len;
		npt++;
	} else {
		pt[npt].type = CKA_MODULUS_BITS;
		pt[npt].pValue = &bits;
		pt[npt].ulValueLen = sizeof(bits);
		npt++;
		pt[npt].type = CKA_PUBLIC_EXPONENT;
		pt[npt].pValue = exp;
		pt[npt].ulValueLen = sizeof(exp);
		npt++;
	}
	rv = ctx->fl->C_GenerateKeyPair(s, &mech, pt, npt, kt, sizeof(kt) / sizeof(kt[0]), pub, priv);
	return tok_rv(rv, "generate key pair on the token");
}

/* Keep Ed25519 keys and other keys on different tokens (see TOK_EDDSA_NOTE). */
static offca_rc check_mix(tok_ctx *ctx, CK_SESSION_HANDLE s, tok_keytype type, const char *tok)
{
	size_t ed = 0, other = 0;
	offca_rc rc = tok_raw_key_census(ctx, s, &ed, &other);

	if (rc != OFFCA_OK)
		return rc;
	if (type == TOK_KEY_ED25519 && other > 0)
		return ut_err(OFFCA_E_UNSUPPORTED, "token '%s' holds %zu other key(s) that an Ed25519 key would make "
						   "unusable (%s): put Ed25519 keys on a token of their own",
			      tok, other, TOK_EDDSA_NOTE);
	if (type != TOK_KEY_ED25519 && ed > 0)
		return ut_err(OFFCA_E_UNSUPPORTED, "token '%s' holds an Ed25519 key, so a new %s key there would be "
						   "unusable (%s): use another token",
			      tok, tok_keytype_name(type), TOK_EDDSA_NOTE);
	return OFFCA_OK;
}

offca_rc tok_keygen(const char *cli_module, const char *token_uri, const char *label, tok_keytype type,
		    const tok_pin_opts *opts, char **uri_out)
{
	return tok_keygen_ex(cli_module, token_uri, label, type, 0, opts, uri_out);
}

offca_rc tok_keygen_ex(const char *cli_module, const char *token_uri, const char *label, tok_keytype type,
		       unsigned flags, const tok_pin_opts *opts, char **uri_out)
{
	tok_uri *uri = NULL;
	tok_ctx *ctx = NULL;
	PKCS11_SLOT *slot = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE, found[1];
	CK_SLOT_ID sid = 0;
	unsigned char id[KEY_ID_LEN];
	char module[PATH_MAX], tlabel[33];
	struct gen g = gen_for(type);
	size_t n;
	offca_rc rc;

	if (uri_out != NULL)
		*uri_out = NULL;
	if (token_uri == NULL || uri_out == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_keygen: NULL argument");
	rc = check_label(label);
	if (rc == OFFCA_OK)
		rc = tok_uri_parse(token_uri, &uri);
	if (rc == OFFCA_OK)
		rc = tok_module_resolve(cli_module, uri, module, sizeof(module));
	if (rc == OFFCA_OK)
		rc = tok_ctx_open(module, &ctx);
	if (rc == OFFCA_OK)
		rc = tok_find_slot(ctx, uri, &slot);
	if (rc != OFFCA_OK)
		goto out;
	sid = PKCS11_get_slotid_from_slot(slot);
	tok_copy_padded(tlabel, sizeof(tlabel), (const unsigned char *)slot->token->label, strlen(slot->token->label));
	rc = check_mech(ctx, sid, &g, type, tlabel);
	if (rc == OFFCA_OK)
		rc = tok_raw_session(ctx, sid, 1, &s);
	if (rc == OFFCA_OK)
		rc = tok_login(ctx, slot, s, uri, opts);
	if (rc == OFFCA_OK)
		rc = tok_raw_find(ctx, s, CK_UNAVAILABLE_INFORMATION, label, NULL, 0, found, 1, &n);
	if (rc != OFFCA_OK)
		goto out;
	if (n > 0) {
		rc = ut_err(OFFCA_E_EXISTS, "token '%s' already holds an object labelled '%s': refusing to add "
					    "another (pick a new --label)", tlabel, label);
		goto out;
	}
	rc = check_mix(ctx, s, type, tlabel);
	if (rc != OFFCA_OK)
		goto out;
	if (RAND_bytes(id, sizeof(id)) != 1) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "no random bytes for the key id");
		goto out;
	}
	rc = generate(ctx, s, &g, label, id, flags, &pub, &priv);
	if (rc == OFFCA_OK)
		rc = verify_private(ctx, s, priv);
	if (rc == OFFCA_OK)
		rc = tok_key_uri_make(tlabel, id, sizeof(id), label, uri_out);
	if (rc != OFFCA_OK && priv != CK_INVALID_HANDLE) {
		ctx->fl->C_DestroyObject(s, priv);
		ctx->fl->C_DestroyObject(s, pub);
	}
out:
	if (s != CK_INVALID_HANDLE)
		ctx->fl->C_CloseSession(s);
	tok_ctx_free(ctx);
	tok_uri_free(uri);
	return rc;
}

offca_rc tok_label_exists(const char *cli_module, const char *token_uri, const char *label)
{
	tok_session ts;
	CK_OBJECT_HANDLE found[1];
	size_t n = 0;
	offca_rc rc;

	if (token_uri == NULL || label == NULL)
		return ut_err(OFFCA_E_USAGE, "tok_label_exists: NULL argument");
	rc = tok_session_open(cli_module, token_uri, 0, &ts);
	if (rc == OFFCA_OK)
		rc = tok_raw_find(ts.ctx, ts.s, CK_UNAVAILABLE_INFORMATION, label, NULL, 0, found, 1, &n);
	if (rc == OFFCA_OK && n == 0)
		rc = ut_err(OFFCA_E_NOT_FOUND, "no object labelled '%s' on the token", label);
	tok_session_close(&ts);
	return rc;
}
