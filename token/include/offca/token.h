/*
 * offca/token.h - CA keys on PKCS#11 tokens (prefix tok_). libp11 + OpenSSL 3 underneath.
 *
 * Keys and tokens are named by RFC 7512 pkcs11: URIs. A key opened here hands out an EVP_PKEY whose
 * private operations run on the token; the private key never leaves it. PINs come from a file the
 * operator names (--pin-file, or the URI's pin-source=file:...), an in-memory value supplied by the
 * caller, or a no-echo terminal prompt; never argv, never logged, wiped after use.
 *
 * Every function returns offca_rc (offca/err.h) and records a one-line detail with ut_err().
 * PKCS#11 CK_RV values are translated here and never leak out of this module.
 *
 * PINs and libp11: offca logs in with the module's raw C_Login, not PKCS11_login(), because
 * libp11 keeps a copy of the PIN in its slot object for the slot's lifetime (to log in again
 * after fork()). offca's only copy is a stack buffer wiped right after C_Login. The login lasts
 * while a tok_key holds its session; closing the last session on a token logs it out.
 *
 * Threads: every function may be called from any thread. A tok_key may be used from ONE thread
 * at a time (open it on one thread, sign on
 * another is fine; two threads signing with the same tok_key at once is not). Different tok_keys
 * may be used concurrently. Opening several keys on the same module in one process is supported
 * (the module is finalised only when the last context using it is freed); note that PKCS#11 login
 * state is per process and token, so a second tok_key_open on a token already logged in succeeds
 * without checking its PIN again.
 *
 * fork(): open keys in the process that signs, after forking. A key opened before fork() does
 * not work in the child: libp11 re-initialises the module there and would need the PIN it never
 * got from offca.
 *
 * Ed25519: keys can be generated on tokens that support CKM_EC_EDWARDS_KEY_PAIR_GEN, but libp11
 * 0.4.12 cannot sign with them (tok_key_open says so, OFFCA_E_UNSUPPORTED), and it cannot even list
 * the keys of a token that holds an Ed25519 key, so tok_keygen refuses to mix Ed25519 and other
 * keys on one token.
 */
#ifndef OFFCA_TOKEN_H
#define OFFCA_TOKEN_H

#include <signal.h>
#include <stddef.h>
#include <openssl/evp.h>

#include "offca/err.h"

/* ---- RFC 7512 URIs (uri.c) ---- */

typedef struct tok_uri tok_uri;

#define TOK_MAX_URI 4096

/*
 * Parse a pkcs11: URI. Path attributes: token, manufacturer, model, serial, object, id, type,
 * slot-id, library-*; query attributes: module-path, pin-source (file:... or a plain path),
 * pin-value is refused (a PIN never lives in a URI). Percent-encoding is decoded.
 * Errors: OFFCA_E_PARSE (detail names the problem), OFFCA_E_TOO_BIG, OFFCA_E_NOMEM.
 */
offca_rc tok_uri_parse(const char *text, tok_uri **out);
void tok_uri_free(tok_uri *uri);
/* Decoded value of an attribute, or NULL when absent. "id" is returned raw: see tok_uri_id(). */
const char *tok_uri_get(const tok_uri *uri, const char *attr);
/* Raw bytes of the id attribute (NULL/0 when absent). */
const unsigned char *tok_uri_id(const tok_uri *uri, size_t *len);

/* ---- modules and tokens (module.c, slots.c) ---- */

typedef struct tok_ctx tok_ctx;

/*
 * Choose the PKCS#11 module: cli_module (--module) if set, else the URI's module-path, else
 * $OFFCA_PKCS11_MODULE, else the first of the installed SoftHSM2 and OpenSC modules that exists.
 * Writes the path into out. Errors: OFFCA_E_MODULE (nothing found).
 */
offca_rc tok_module_resolve(const char *cli_module, const tok_uri *uri, char *out, size_t cap);

/*
 * Load a module (or take one more use of the context already open for that path). Errors:
 * OFFCA_E_MODULE (missing, not a PKCS#11 module, C_Initialize failed), OFFCA_E_TOKEN (slot list).
 */
offca_rc tok_ctx_open(const char *module_path, tok_ctx **out);
void tok_ctx_free(tok_ctx *ctx);
const char *tok_ctx_module(const tok_ctx *ctx);

typedef struct tok_info {
	unsigned long slot_id;
	char slot_description[65];
	char manufacturer[33];   /* token manufacturer */
	char model[17];
	char label[33];
	char serial[17];
	int present;             /* a token is in the slot */
	int initialized;
	int login_required;
	int user_pin_count_low;  /* CKF_USER_PIN_COUNT_LOW */
	int user_pin_final_try;  /* CKF_USER_PIN_FINAL_TRY */
	int user_pin_locked;     /* CKF_USER_PIN_LOCKED */
	int protected_auth_path; /* PIN pad / touch on the device */
	int removable;
} tok_info;

/*
 * Enumerate slots (present or not) with their tokens' fresh flags. *out is an array of *n entries,
 * free with free(). Contexts are shared per module path within a process (tok_ctx_open of an open
 * path returns the same context, counted; tok_ctx_free releases one use): while a context is
 * shared, the slot list is not re-read, so a token plugged in meanwhile shows up only once every
 * user has freed it (tok_wait() is not affected: it asks the module directly).
 */
offca_rc tok_list(tok_ctx *ctx, tok_info **out, size_t *n);

/* ---- PIN sources (pin.c) ---- */

typedef struct tok_pin_opts {
	const char *pin_file;  /* --pin-file: wins over the URI's pin-source */
	const char *pin_value; /* in-memory PIN from the caller (ceremony credentials); caller wipes */
	int no_prompt;         /* never prompt; fail with OFFCA_E_USAGE when no PIN source is given */
} tok_pin_opts;

/* ---- keys (key.c, keygen.c) ---- */

typedef struct tok_key tok_key;

/*
 * Find the token the URI names (token=, serial=, manufacturer=, model=, slot-id=), log in with the
 * PIN from opts/URI/prompt, find the private key (object= and/or id=) and the matching public key
 * (same CKA_ID; falls back to a certificate with that id). The session stays logged in until
 * tok_key_free(), so many signatures need one login. Keys marked CKA_ALWAYS_AUTHENTICATE (YubiKey
 * PIV slot 9c through OpenSC) need the PIN again for every signature: libp11 asks for it and offca
 * answers from the same source (the PIN file is re-read each time, or the no-echo prompt); only an
 * in-memory opts->pin_value is copied, into locked memory wiped by tok_key_free(), because the
 * caller cannot hand it over again. With opts->no_prompt and no PIN source such a key fails to
 * open (OFFCA_E_USAGE). uri must name exactly one token (OFFCA_E_USAGE when several match) and
 * exactly one private key; type= must be absent or "private".
 * Errors: OFFCA_E_PARSE (URI), OFFCA_E_MODULE, OFFCA_E_TOKEN_ABSENT, OFFCA_E_PIN_INCORRECT (detail
 * says "count low"/"final try" when the token reports it), OFFCA_E_PIN_LOCKED, OFFCA_E_NOT_FOUND
 * (no such key), OFFCA_E_TOKEN.
 */
offca_rc tok_key_open(const char *cli_module, const char *uri, const tok_pin_opts *opts, tok_key **out);
void tok_key_free(tok_key *key);
/* Borrowed handles, valid until tok_key_free(). Private operations run on the token. */
EVP_PKEY *tok_key_private(tok_key *key);
EVP_PKEY *tok_key_public(tok_key *key);
/* Canonical URI of the key (token=...;id=...;object=...;type=private), borrowed. */
const char *tok_key_uri(const tok_key *key);
/* The token's label / serial, borrowed. */
const char *tok_key_token_label(const tok_key *key);
const char *tok_key_token_serial(const tok_key *key);
/* The key's CKA_LABEL (may be empty), borrowed. */
const char *tok_key_label(const tok_key *key);

/*
 * Sign 32 random bytes with the private key on the token and verify the signature with the public
 * key: proves the public-key object really matches the private key and that the login works.
 * Costs one signature (one touch on a YubiKey with touch policy "always").
 * Errors: OFFCA_E_VERIFY (mismatch), OFFCA_E_CRYPTO / OFFCA_E_TOKEN (the token failed).
 */
offca_rc tok_key_selftest(tok_key *key);

/*
 * SHA-256 over the DER SubjectPublicKeyInfo of pub (what a ceremony records as "the key's
 * fingerprint"). hex: new string, lower-case hex without separators (64 chars), caller frees.
 * Errors: OFFCA_E_CRYPTO, OFFCA_E_NOMEM.
 */
offca_rc tok_pubkey_fingerprint(EVP_PKEY *pub, char **hex);

/*
 * After a private-key operation with tok_key_private() failed (X509_sign, EVP_DigestSign... <= 0):
 * turn the reason libp11 left on OpenSSL's error queue (the token's CK_RV) into an offca_rc with
 * the detail "what: reason", and clear the queue. Token removed: OFFCA_E_TOKEN_ABSENT; per-signature
 * PIN refused: OFFCA_E_PIN_INCORRECT / OFFCA_E_PIN_LOCKED; no CK_RV on the queue: OFFCA_E_CRYPTO
 * with OpenSSL's reason. Call it on the thread that signed. After a refused per-signature PIN
 * libp11 leaves the operation active in its session: close and reopen the key before signing again
 * (later signatures fail with OFFCA_E_TOKEN "... reopen the key").
 */
offca_rc tok_err_sign(const char *what);

/* ---- signatures that need a touch (touch.c) ---- */

/* A key's touch policy, as a YubiKey's PIV attestation states it or the operator configures it. */
typedef enum tok_touch_mode {
	TOK_TOUCH_NEVER = 0,  /* no touch: signatures are not guarded */
	TOK_TOUCH_ALWAYS = 1, /* a touch for every signature */
	TOK_TOUCH_CACHED = 2, /* a touch covers the next TOK_TOUCH_CACHE_S seconds */
} tok_touch_mode;

#define TOK_TOUCH_TIMEOUT_DEFAULT 20u /* s; a YubiKey itself gives up after about 15 s */
#define TOK_TOUCH_TIMEOUT_MAX 600u
#define TOK_TOUCH_CACHE_S 15          /* YubiKey "cached" touch window */

/* Prints one line for the person at the token (the library never prints itself). */
typedef void (*tok_touch_notify)(void *arg, const char *line);

typedef struct tok_touch_opts {
	tok_touch_mode mode;
	unsigned timeout_s;       /* 0: TOK_TOUCH_TIMEOUT_DEFAULT; at most TOK_TOUCH_TIMEOUT_MAX */
	const char *label;        /* the name the prompt gives the token; NULL: the token's label */
	tok_touch_notify notify;  /* NULL: no prompt (the timeout still applies) */
	void *notify_arg;
	volatile sig_atomic_t *interrupted; /* set by a SIGINT handler: stop waiting (OFFCA_E_ABORTED,
					       the key stuck as after a timeout); NULL: none */
} tok_touch_opts;

/* "never" / "always" / "cached" <-> enum. Errors: OFFCA_E_USAGE. */
offca_rc tok_touch_mode_parse(const char *name, tok_touch_mode *out);
const char *tok_touch_mode_name(tok_touch_mode m);

/*
 * Give an open key a touch policy (again: replaces the earlier one; TOK_TOUCH_NEVER turns the
 * guard off). From then on every tok_sign_guard() with its private key announces the touch through
 * o->notify ("Touch the YubiKey '<label>' now to approve signing <what>") before the signature
 * (with "cached", only when the last signature is TOK_TOUCH_CACHE_S or more ago) and bounds it to
 * o->timeout_s. Copies o (label included). The settings belong to the key's private EVP_PKEY,
 * which libp11 shares between tok_keys of the same key in one process: open a key once. Errors:
 * OFFCA_E_USAGE, OFFCA_E_TOO_BIG (more than 32 keys with a policy), OFFCA_E_NO_TOUCH (the key is
 * stuck, see tok_sign_guard).
 */
offca_rc tok_key_set_touch(tok_key *key, const tok_touch_opts *o);

/* Non-zero when priv belongs to an open key with a touch policy (worth describing the signature). */
int tok_touch_wanted(EVP_PKEY *priv);

/* One private-key operation (X509_sign, EVP_DigestSign...) with a key tok_key_private() gave;
   on failure it records its detail (tok_err_sign) on the thread it runs on. */
typedef offca_rc (*tok_sign_fn)(void *arg);
/* The end of an operation: in_time 1 on the caller's thread before tok_sign_guard returns (copy
   the results out, then free arg), 0 on the abandoned thread once the module returned (free). */
typedef void (*tok_sign_finish_fn)(void *arg, int in_time);

/*
 * Run fn(arg), one signature with priv. When priv has no touch policy: fn(arg) on this thread,
 * nothing else. Otherwise: the prompt first, then fn on a thread of its own, waited for at most
 * the key's timeout. No return in time: OFFCA_E_NO_TOUCH ("no touch within N s: ..."), the
 * operation left blocked in the module (PKCS#11 cannot cancel it), and the key stuck: every later
 * guarded signature with it fails at once with OFFCA_E_NO_TOUCH, and tok_key_free() leaves the key
 * and its module to the blocked thread. A token error after a wait of 10 s or more, or
 * CKR_FUNCTION_CANCELED, is also OFFCA_E_NO_TOUCH (a YubiKey gives up by itself after about 15 s).
 * Otherwise fn's result, with its detail moved to this thread.
 * Ownership: arg belongs to the operation; finish(arg, in_time) (may be NULL) is called exactly once
 * when it is over: on this thread before the return (in_time 1, also when fn never ran), or on the
 * blocked one if the module ever returns (in_time 0). So everything fn writes into must be
 * reachable from arg with references of its own (X509_up_ref of the certificate being signed, a
 * buffer of its own for the signature, copied out by finish when in_time): a touch coming late
 * still completes the operation, into memory the caller may have freed meanwhile otherwise.
 * what: the thing being signed, for the prompt ("the certificate for CN=..."), NULL: generic.
 */
offca_rc tok_sign_guard(EVP_PKEY *priv, const char *what, tok_sign_fn fn, tok_sign_finish_fn finish, void *arg);

#define TOK_MAX_SIG 2048 /* bytes of the largest signature (RSA-16384, a software key) */

/*
 * EVP_DigestSign(ctx, sig, siglen, msg, mlen) through tok_sign_guard(): ctx was set up with
 * EVP_DigestSignInit for priv and is taken over (freed) in every case; msg is copied. *siglen is
 * the capacity of sig on entry (at least EVP_PKEY_get_size(priv), at most TOK_MAX_SIG, else
 * OFFCA_E_USAGE) and the signature's length on success; sig is written only on success.
 * Errors: those of tok_sign_guard; a failed signature through tok_err_sign(fail_what).
 */
offca_rc tok_sign_message(EVP_PKEY *priv, EVP_MD_CTX *ctx, const void *msg, size_t mlen, unsigned char *sig,
			  size_t *siglen, const char *what, const char *fail_what);

/* PEM ("-----BEGIN PUBLIC KEY-----") of pub as a new NUL-terminated string, caller frees. */
offca_rc tok_pubkey_pem(EVP_PKEY *pub, char **pem);

typedef enum tok_keytype {
	TOK_KEY_EC_P256,
	TOK_KEY_EC_P384,
	TOK_KEY_RSA_3072,
	TOK_KEY_RSA_4096,
	TOK_KEY_ED25519,
} tok_keytype;

/* "ec-p256" ... "ed25519" <-> enum. Errors: OFFCA_E_USAGE. */
offca_rc tok_keytype_parse(const char *name, tok_keytype *out);
const char *tok_keytype_name(tok_keytype t);

/*
 * Generate a key pair on the token the URI names: CKA_TOKEN, CKA_SENSITIVE, non-extractable,
 * CKA_PRIVATE, a random 16-byte CKA_ID, CKA_LABEL = label on both halves. Refuses (OFFCA_E_EXISTS)
 * when an object with that label already exists. Ed25519 on a token without CKM_EC_EDWARDS_KEY_PAIR_GEN
 * gives OFFCA_E_UNSUPPORTED. On success *uri_out is the new private key's pkcs11: URI (caller frees).
 */
offca_rc tok_keygen(const char *cli_module, const char *token_uri, const char *label, tok_keytype type,
		    const tok_pin_opts *opts, char **uri_out);
/* tok_keygen for a key that may also do EC key agreement (CKA_DERIVE): an endpoint's key, which
   decrypts the relay objects encrypted to it (offca-agent). CA keys only sign (flags 0). */
#define TOK_KEYGEN_DERIVE 0x1u
offca_rc tok_keygen_ex(const char *cli_module, const char *token_uri, const char *label, tok_keytype type,
		       unsigned flags, const tok_pin_opts *opts, char **uri_out);

/*
 * Destroy the key pair the URI names by its id= (object= too when given; type= absent or
 * "private"): the one private key and the public keys with the same CKA_ID (certificate objects
 * stay). Logs in as tok_key_open does. Errors: OFFCA_E_USAGE (no id=, several keys match), as
 * tok_key_open (OFFCA_E_NOT_FOUND when no such key), OFFCA_E_TOKEN (the token refused).
 */
offca_rc tok_key_destroy(const char *cli_module, const char *uri, const tok_pin_opts *opts);

typedef struct tok_object {
	char uri[512];   /* pkcs11:token=...;id=...;object=...;type=... */
	char label[65];  /* CKA_LABEL */
	char type[8];    /* "private", "public", "cert" */
	char kind[16];   /* "ec-p256", "ec-p384", "rsa-3072", "ed25519", "x509", ... */
} tok_object;

/*
 * List the private keys, public keys and certificates on the token token_uri names, each with its
 * URI. opts != NULL: log in first (PIN as for tok_key_open) so that private objects show; NULL:
 * no login, public objects only. *out: array of *n entries, free with free().
 * Errors: as tok_key_open (without OFFCA_E_NOT_FOUND), OFFCA_E_TOO_BIG.
 */
offca_rc tok_objects(const char *cli_module, const char *token_uri, const tok_pin_opts *opts, tok_object **out,
		     size_t *n);

/* OFFCA_OK if the token holds an object with this label, OFFCA_E_NOT_FOUND if not (no login). */
offca_rc tok_label_exists(const char *cli_module, const char *token_uri, const char *label);

/* ---- waiting for a token (wait.c) ---- */

typedef struct tok_arrival {
	char reader[128]; /* pcsc reader name, or the slot description */
	char token[33];   /* token label when known */
	char serial[17];
} tok_arrival;

/*
 * Wait up to timeout_s seconds (0: forever) until a token matching token_uri (NULL: any token)
 * is present; returns at once when one already is. With the OpenSC module, waits on pcsc-lite
 * reader events (SCardGetStatusChange on every reader and "\\?PnP?\Notification"; pcsc-lite
 * honours $PCSCLITE_CSOCK_NAME): without token_uri any card in any reader ends the wait (out->reader
 * set, token/serial empty), with a token_uri the module is asked after each event. Other modules
 * are polled once a second (the module re-initialised each time unless this process holds it open).
 * Errors: OFFCA_E_TIMEOUT, OFFCA_E_MODULE, OFFCA_E_TOKEN (e.g. pcscd not running), OFFCA_E_PARSE.
 */
offca_rc tok_wait(const char *cli_module, const char *token_uri, unsigned timeout_s, tok_arrival *out);

/* ---- certificate objects by label (certobj.c) ---- */

/* One certificate object read off a token. */
typedef struct tok_certobj {
	char label[65];          /* CKA_LABEL */
	unsigned char id[64];    /* CKA_ID (id_len bytes; empty when the object has none) */
	size_t id_len;
	unsigned char *der;      /* CKA_VALUE: the DER certificate, owned (tok_certs_free) */
	size_t der_len;
} tok_certobj;

/*
 * Read the DER value of the one certificate object (CKO_CERTIFICATE) labelled exactly label on
 * the token token_uri names (token attributes as for tok_key_open; the URI's id=, when present,
 * must match the object's CKA_ID too; object= and type= are not used). Looks without logging in
 * first (public certificate objects); when nothing matches and opts != NULL, logs in on the same
 * session (PIN as for tok_key_open) and looks again. With opts == NULL and a key of this token
 * already open in this process, the search sees what that login sees (PKCS#11 login state is per
 * process and token). On success *der (caller frees with free()) and *len are set.
 * Errors: as tok_objects, OFFCA_E_NOT_FOUND (no such certificate), OFFCA_E_USAGE (several match),
 * OFFCA_E_TOO_BIG (value over 8 KiB).
 */
offca_rc tok_cert_by_label(const char *cli_module, const char *token_uri, const char *label,
			   const tok_pin_opts *opts, unsigned char **der, size_t *len);

/*
 * Every certificate object on the token token_uri names whose CKA_LABEL starts with label_prefix
 * (NULL or "": any label) and, when id != NULL, whose CKA_ID equals id (id_len bytes, at most 64):
 * e.g. ykcs11's "X.509 Certificate for PIV Attestation " objects that share a key's CKA_ID. Login
 * as for tok_cert_by_label. *out: array of *n entries (NULL/0 when none: that is not an error),
 * free with tok_certs_free(). At most 64 objects are looked at.
 * Errors: as tok_cert_by_label without OFFCA_E_NOT_FOUND; OFFCA_E_USAGE (bad arguments).
 */
offca_rc tok_certs_find(const char *cli_module, const char *token_uri, const char *label_prefix,
			const unsigned char *id, size_t id_len, const tok_pin_opts *opts, tok_certobj **out,
			size_t *n);
/* Free what tok_certs_find returned (NULL accepted). */
void tok_certs_free(tok_certobj *v, size_t n);

#endif
