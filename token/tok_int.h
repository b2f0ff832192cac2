/*
 * tok_int.h - internals of the token module (never included outside token/).
 *
 * Two views of one loaded PKCS#11 module live in a tok_ctx:
 *  - libp11 (PKCS11_CTX): slot/token enumeration, key lookup and the EVP_PKEY whose private
 *    operations run on the token;
 *  - the raw CK_FUNCTION_LIST of the same module (dlopen of the same path returns the same
 *    library, already C_Initialize'd by libp11): login (so the PIN never has to be cached inside
 *    libp11), key generation with the attribute control libp11 0.4.12 lacks, attribute reads,
 *    mechanism checks.
 */
#ifndef OFFCA_TOK_INT_H
#define OFFCA_TOK_INT_H

#include <limits.h>
#include <libp11.h>
#include <p11-kit/pkcs11.h>

#include "offca/token.h"

#define TOK_MAX_ATTR 8192 /* largest attribute value we read from a token (EC point, modulus) */
#define TOK_MAX_ID 64     /* largest CKA_ID we accept */
#define TOK_MAX_KEYS 256  /* private keys looked at on one token */

/*
 * libp11 0.4.12 fails to list ANY key on a token that holds an EdDSA (CKK_EC_EDWARDS) key, so
 * Ed25519 keys and CA keys must live on different tokens; keygen and key opening check this.
 */
#define TOK_EDDSA_NOTE "libp11 0.4.12 cannot list the keys of a token that holds an Ed25519 key"

struct tok_ctx {
	PKCS11_CTX *p11;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	void *dl;                 /* our own dlopen reference of the module */
	CK_FUNCTION_LIST *fl;     /* raw function list of the same module */
	unsigned users;           /* tok_ctx_open() calls sharing this context (module.c) */
	char module[PATH_MAX];    /* as given (shown to the user) */
	char real[PATH_MAX];      /* realpath(): identifies the library */
};

/* The raw function list of the loaded module. */
CK_FUNCTION_LIST *tok_ctx_fl(tok_ctx *ctx);

/*
 * (Re-)enumerate the slots through libp11; invalidates earlier PKCS11_SLOT pointers. Does nothing
 * while the context is shared (other users hold keys inside the slots).
 */
offca_rc tok_ctx_enum(tok_ctx *ctx);

/*
 * Find the one slot whose token matches the URI's token attributes (token, serial,
 * manufacturer, model, slot-id). NULL uri or no token attributes: the only token present.
 * Errors: OFFCA_E_TOKEN_ABSENT, OFFCA_E_USAGE (several tokens match).
 */
offca_rc tok_find_slot(tok_ctx *ctx, const tok_uri *uri, PKCS11_SLOT **out);

/* Does the slot hold an initialised token matching the URI's token attributes (NULL uri: any)? */
int tok_slot_matches(PKCS11_SLOT *slot, const tok_uri *uri);

/* Fill a tok_info for one libp11 slot (token flags re-read through C_GetTokenInfo). */
void tok_fill_info(tok_ctx *ctx, PKCS11_SLOT *slot, tok_info *info);

/*
 * Log in as the user on the slot's token through the raw session s (opened by the caller with
 * tok_raw_session() and kept open while the login is needed: when the last session on a token
 * closes, the token logs out). Raw C_Login, so libp11 never holds the PIN. The PIN
 * comes from opts (pin_file, pin_value), the URI's pin-source, or a prompt; it is wiped before
 * this returns. Already logged in: OK.
 * Errors: OFFCA_E_PIN_INCORRECT, OFFCA_E_PIN_LOCKED, OFFCA_E_USAGE (no PIN source with
 * no_prompt), OFFCA_E_ABORTED, OFFCA_E_IO, OFFCA_E_TOKEN, the PIN file's errors.
 */
offca_rc tok_login(tok_ctx *ctx, PKCS11_SLOT *slot, CK_SESSION_HANDLE s, const tok_uri *uri,
		   const tok_pin_opts *opts);

/* Read a PIN into buf (cap bytes) from opts / URI pin-source / prompt naming the token. */
offca_rc tok_pin_get(const tok_pin_opts *opts, const tok_uri *uri, const char *token_label, char *buf,
		     size_t cap);

/* Translate a CK_RV into an offca_rc with a detail "what: <reason>". */
offca_rc tok_rv(CK_RV rv, const char *what);
/* Short English name of a CK_RV ("CKR_PIN_INCORRECT"). */
const char *tok_rv_name(CK_RV rv);

/* Copy a blank-padded PKCS#11 string field of n bytes into out (cap >= n+1), trimmed. */
void tok_copy_padded(char *out, size_t cap, const unsigned char *in, size_t n);

/* Percent-encode value (RFC 7512 pchar rules) and append to buf. Errors: OFFCA_E_TOO_BIG. */
offca_rc tok_uri_append(char *buf, size_t cap, const char *attr, const unsigned char *val, size_t len,
			int all);

/* Build "pkcs11:token=..;id=..;object=..;type=private" into a new string (caller frees). */
offca_rc tok_key_uri_make(const char *token_label, const unsigned char *id, size_t id_len, const char *label,
			  char **out);

/* The same for any object type ("private", "public", "cert"). */
offca_rc tok_obj_uri_make(const char *token_label, const unsigned char *id, size_t id_len, const char *label,
			  const char *type, char **out);

/* Open a raw R/W (rw != 0) or R/O session on slot_id. */
offca_rc tok_raw_session(tok_ctx *ctx, CK_SLOT_ID slot_id, int rw, CK_SESSION_HANDLE *out);

/*
 * Find up to max object handles of class cls (CK_UNAVAILABLE_INFORMATION: any) with the given
 * label (NULL: any) and id (NULL: any). *n receives the count found (<= max).
 */
offca_rc tok_raw_find(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
		      const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *out, size_t max, size_t *n);

/* Read one attribute into a new buffer (caller frees). Errors: OFFCA_E_TOKEN, OFFCA_E_TOO_BIG. */
offca_rc tok_raw_attr(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
		      unsigned char **val, size_t *len);

/* Build the public key of a public-key object from its raw attributes (RSA, EC, Ed25519). */
offca_rc tok_raw_pubkey(tok_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, EVP_PKEY **out);

/*
 * Per-signature PIN entry for a key with CKA_ALWAYS_AUTHENTICATE (reauth.c): libp11 asks its
 * context's UI_METHOD for the PIN before each signature; offca answers from the key's PIN source.
 */
struct tok_reauth;
offca_rc tok_reauth_add(tok_ctx *ctx, const char *label, const tok_uri *uri, const tok_pin_opts *opts,
			struct tok_reauth **out);
void tok_reauth_free(struct tok_reauth *e);

/* An open session on the token a URI names: what tok_session_open() sets up. */
typedef struct tok_session {
	tok_uri *uri;
	tok_ctx *ctx;
	PKCS11_SLOT *slot;
	CK_SESSION_HANDLE s; /* CK_INVALID_HANDLE until opened */
} tok_session;

/*
 * Parse token_uri, resolve and load its module (cli_module first), find its token and open a raw
 * R/W (rw != 0) or R/O session, not logged in. On error what was set up stays in *ts for
 * tok_session_close() to release. Errors: those of tok_uri_parse, tok_module_resolve,
 * tok_ctx_open, tok_find_slot, tok_raw_session.
 */
offca_rc tok_session_open(const char *cli_module, const char *token_uri, int rw, tok_session *ts);
/* Close the session and release the context and URI; safe on a zeroed or half-opened *ts. */
void tok_session_close(tok_session *ts);

/* Count the private keys on the token (logged-in session s): EdDSA ones and all others. */
offca_rc tok_raw_key_census(tok_ctx *ctx, CK_SESSION_HANDLE s, size_t *edwards, size_t *other);

/* Drop priv's touch settings (tok_key_free of key). Returns non-zero when key is the one a guarded
   signature still blocked inside the module uses: it must not be freed (touch.c). */
int tok_touch_forget(EVP_PKEY *priv, const tok_key *key);

#endif
