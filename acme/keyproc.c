/*
 * keyproc.c - the key process: the only process that holds the ACME account key (and the EAB
 * HMAC key). It loads (or creates) the key after fork(), then answers JWK, SIGN, EAB, NEWKEY and
 * COMMIT requests until QUIT or until its channel closes. Keys are freed (and so wiped by
 * OpenSSL) before it exits. The account key may instead live on a PKCS#11 token (key_uri): the
 * token layer signs behind core's key interface (offca/keyref.h) and the private key never
 * leaves the token.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offca/keyref.h"

#include "b64.h"
#include "cert.h"
#include "ipc.h"
#include "key.h"
#include "offca/util.h"
#include "proc.h"
#include "sandbox.h"

struct kstate {
	const struct acme_keyproc_cfg *cfg;
	EVP_PKEY *slot[2];
	ca_keyref *tok; /* when the account key is on a token: slot[0] is borrowed from it */
	EVP_PKEY *pub; /* its public key (for the JWK) */
	unsigned char *eab;
	size_t eablen;
	char newpath[4096];
	EVP_PKEY *domain; /* the certificate key of the last CSR request, until KEYSAVE */
};

/* the account key must be P-256 or RSA: a JWK can be built for it */
static offca_rc check_pub(EVP_PKEY *pub, const char *what)
{
	json_t *jwk = NULL;
	offca_rc rc = acme_key_jwk(pub, &jwk);

	if (rc == OFFCA_OK && acme_jwk_alg(jwk) == NULL)
		rc = ut_err(OFFCA_E_UNSUPPORTED, "%s: only P-256 EC and RSA keys can be ACME account keys", what);
	json_decref(jwk);
	return rc;
}

static offca_rc load_or_create(struct kstate *ks)
{
	offca_rc rc;
	char what[64];

	if (ks->cfg->key_uri != NULL) {
		rc = ca_keyref_open(ks->cfg->key_uri, ks->cfg->pin_file, &ks->tok);
		if (rc != OFFCA_OK)
			return rc;
		ks->slot[0] = ca_keyref_private(ks->tok);
		ks->pub = ca_keyref_public(ks->tok);
		snprintf(what, sizeof(what), "the token key");
		if (ks->slot[0] == NULL || ks->pub == NULL)
			return ut_err(OFFCA_E_TOKEN, "the token key has no usable private/public pair");
		return check_pub(ks->pub, what);
	}
	rc = ut_path_exists(ks->cfg->key_path);
	if (rc == OFFCA_E_NOT_FOUND && ks->cfg->create) {
		rc = acme_key_generate(ks->cfg->key_type, &ks->slot[0]);
		if (rc == OFFCA_OK)
			rc = acme_key_save(ks->cfg->key_path, ks->slot[0]);
		return rc;
	}
	if (rc == OFFCA_E_NOT_FOUND)
		return ut_err(OFFCA_E_NOT_FOUND, "no account key at %s (run: offca-acme account new)", ks->cfg->key_path);
	return acme_key_load(ks->cfg->key_path, &ks->slot[0]);
}

static offca_rc load_eab(struct kstate *ks)
{
	offca_rc rc;
	char secret[UT_MAX_SECRET];

	if (ks->cfg->eab_key_file == NULL)
		return OFFCA_OK;
	rc = ut_secret_from_file(ks->cfg->eab_key_file, 1, secret, sizeof(secret));
	/* a name that opens nothing may be a key pasted where the file belongs: never repeat it */
	if (rc == OFFCA_E_NOT_FOUND || rc == OFFCA_E_IO)
		rc = ut_err(rc, "--eab-hmac-key-file: the argument names no readable file (not repeated here: it "
				"may be the key itself; put the key in a 0600 file and name that file)");
	if (rc == OFFCA_OK)
		rc = acme_b64_decode(secret, &ks->eab, &ks->eablen);
	if (rc == OFFCA_E_PARSE)
		rc = ut_err(OFFCA_E_PARSE, "EAB key in %s is not base64url", ks->cfg->eab_key_file);
	ut_memzero(secret, sizeof(secret));
	return rc;
}

static offca_rc slot_key(struct kstate *ks, const unsigned char *body, size_t len, EVP_PKEY **k)
{
	if (len < 1 || body[0] > 1 || ks->slot[body[0]] == NULL)
		return ut_err(OFFCA_E_INTERNAL, "key process: no key in that slot");
	*k = ks->slot[body[0]];
	return OFFCA_OK;
}

static offca_rc do_jwk(struct kstate *ks, int fd, const unsigned char *body, size_t len)
{
	EVP_PKEY *k = NULL;
	json_t *jwk = NULL;
	char *s = NULL;
	offca_rc rc;

	rc = slot_key(ks, body, len, &k);
	if (rc == OFFCA_OK && k == ks->slot[0] && ks->pub != NULL)
		k = ks->pub;
	if (rc == OFFCA_OK)
		rc = acme_key_jwk(k, &jwk);
	if (rc == OFFCA_OK) {
		s = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
		rc = s == NULL ? ut_err(OFFCA_E_NOMEM, "out of memory") : acme_ipc_send(fd, ACME_IPC_OK, s, strlen(s));
	}
	free(s);
	json_decref(jwk);
	return rc;
}

static offca_rc do_sign(struct kstate *ks, int fd, const unsigned char *body, size_t len)
{
	EVP_PKEY *k = NULL;
	unsigned char *sig = NULL;
	size_t sl = 0;
	offca_rc rc;

	rc = slot_key(ks, body, len, &k);
	if (rc == OFFCA_OK)
		rc = acme_key_sign(k, body + 1, len - 1, &sig, &sl);
	if (rc == OFFCA_OK)
		rc = acme_ipc_send(fd, ACME_IPC_OK, sig, sl);
	free(sig);
	return rc;
}

static offca_rc do_eab(struct kstate *ks, int fd, const unsigned char *body, size_t len)
{
	unsigned char mac[32];
	offca_rc rc;

	if (ks->eab == NULL)
		return ut_err(OFFCA_E_USAGE, "no EAB key configured");
	rc = acme_hs256(ks->eab, ks->eablen, body, len, mac);
	if (rc == OFFCA_OK)
		rc = acme_ipc_send(fd, ACME_IPC_OK, mac, sizeof(mac));
	ut_memzero(mac, sizeof(mac));
	return rc;
}

static offca_rc do_newkey(struct kstate *ks, int fd, const char *type)
{
	offca_rc rc;
	int n;

	if (ks->tok != NULL)
		return ut_err(OFFCA_E_UNSUPPORTED, "the account key is on a token: make a new key there and "
						   "register it (account new --key-uri) instead of rollover");
	n = snprintf(ks->newpath, sizeof(ks->newpath), "%s.new", ks->cfg->key_path);
	if (n < 0 || (size_t)n >= sizeof(ks->newpath))
		return ut_err(OFFCA_E_USAGE, "key path too long");
	EVP_PKEY_free(ks->slot[1]);
	ks->slot[1] = NULL;
	(void)unlink(ks->newpath); /* a leftover of an interrupted rollover that the CA never saw */
	rc = acme_key_generate(type[0] ? type : NULL, &ks->slot[1]);
	if (rc == OFFCA_OK)
		rc = acme_key_save(ks->newpath, ks->slot[1]);
	if (rc == OFFCA_OK)
		rc = acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
	return rc;
}

static offca_rc do_commit(struct kstate *ks, int fd)
{
	if (ks->slot[1] == NULL)
		return ut_err(OFFCA_E_STATE, "no new key to commit");
	if (rename(ks->newpath, ks->cfg->key_path) != 0)
		return ut_err(OFFCA_E_IO, "cannot replace %s by the new key", ks->cfg->key_path);
	EVP_PKEY_free(ks->slot[0]);
	ks->slot[0] = ks->slot[1];
	ks->slot[1] = NULL;
	return acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
}

/* STATE/rel for a relative path without ".." (the key process writes nowhere else) */
static offca_rc state_path(const struct kstate *ks, const char *rel, char *buf, size_t cap)
{
	int n;

	if (ks->cfg->state_dir == NULL || rel == NULL || rel[0] == '\0' || rel[0] == '/' || strstr(rel, "..") != NULL)
		return ut_err(OFFCA_E_INTERNAL, "key process: bad path");
	n = snprintf(buf, cap, "%s/%s", ks->cfg->state_dir, rel);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_USAGE, "path too long");
	return OFFCA_OK;
}

/*
 * CSR for --generate-key: a new certificate key (or the one at STATE/reuse when the key policy
 * keeps it), the CSR signed with it; only the CSR goes back. The key waits here for KEYSAVE.
 */
static offca_rc do_csr(struct kstate *ks, int fd, const unsigned char *body, size_t len)
{
	size_t pos = 0;
	const char *type = acme_ipc_field(body, len, &pos);
	const char *reuse = acme_ipc_field(body, len, &pos);
	const char *nm;
	struct acme_names names = {0};
	X509_REQ *req = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	char path[4096];
	offca_rc rc = OFFCA_OK;

	EVP_PKEY_free(ks->domain);
	ks->domain = NULL;
	if (type == NULL || reuse == NULL)
		return ut_err(OFFCA_E_INTERNAL, "key process: malformed CSR request");
	while (rc == OFFCA_OK && (nm = acme_ipc_field(body, len, &pos)) != NULL)
		rc = acme_names_add(&names, nm);
	if (rc == OFFCA_OK && reuse[0] != '\0') {
		rc = state_path(ks, reuse, path, sizeof(path));
		if (rc == OFFCA_OK)
			rc = acme_key_load(path, &ks->domain);
	} else if (rc == OFFCA_OK) {
		rc = acme_key_generate(type[0] ? type : "ec", &ks->domain);
	}
	if (rc == OFFCA_OK)
		rc = acme_csr_for_key(&names, ks->domain, &req);
	if (rc == OFFCA_OK)
		rc = acme_csr_der(req, &der, &derlen);
	if (rc == OFFCA_OK)
		rc = acme_ipc_send(fd, ACME_IPC_OK, der, derlen);
	if (rc != OFFCA_OK) {
		EVP_PKEY_free(ks->domain);
		ks->domain = NULL;
	}
	OPENSSL_free(der);
	X509_REQ_free(req);
	acme_names_clear(&names);
	return rc;
}

/* write the CSR's key to STATE/rel (0600, never over an existing file), then forget it */
static offca_rc do_keysave(struct kstate *ks, int fd, const char *rel)
{
	char path[4096], dir[4096];
	char *slash;
	offca_rc rc;

	if (ks->domain == NULL)
		return ut_err(OFFCA_E_STATE, "key process: no certificate key to save");
	rc = state_path(ks, rel, path, sizeof(path));
	if (rc != OFFCA_OK)
		return rc;
	memcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		rc = ut_mkdir_p(dir, 0700);
	}
	if (rc == OFFCA_OK)
		rc = acme_key_save(path, ks->domain);
	if (rc == OFFCA_OK) {
		EVP_PKEY_free(ks->domain);
		ks->domain = NULL;
		rc = acme_ipc_send(fd, ACME_IPC_OK, NULL, 0);
	}
	return rc;
}

static int keyproc_main(int fd, void *arg)
{
	struct kstate ks;
	offca_rc rc;
	uint8_t type;
	unsigned char *body = NULL;
	size_t len = 0;

	memset(&ks, 0, sizeof(ks));
	ks.cfg = arg;
	/* private key numbers in OpenSSL's secure heap (mlock()ed, guard pages); best effort */
	if (CRYPTO_secure_malloc_initialized() == 0)
		(void)CRYPTO_secure_malloc_init(64 * 1024, 64);
	/* before reading any file: no network (AF_UNIX only, for pcscd), no exec, writes only below
	 * the state directory (a token's module keeps its own files: no Landlock then) */
	rc = acme_sandbox_enter(ACME_SB_KEY, ks.cfg->key_uri == NULL ? ks.cfg->state_dir : NULL);
	if (rc == OFFCA_OK)
		rc = load_or_create(&ks);
	if (rc == OFFCA_OK)
		rc = load_eab(&ks);
	if (rc != OFFCA_OK) {
		acme_ipc_send_err(fd, rc);
		goto out;
	}
	if (acme_ipc_send(fd, ACME_IPC_OK, NULL, 0) != OFFCA_OK)
		goto out;
	for (;;) {
		if (acme_ipc_recv(fd, &type, &body, &len) != OFFCA_OK || type == ACME_IPC_QUIT)
			break;
		switch (type) {
		case ACME_IPC_JWK: rc = do_jwk(&ks, fd, body, len); break;
		case ACME_IPC_SIGN: rc = do_sign(&ks, fd, body, len); break;
		case ACME_IPC_EABMAC: rc = do_eab(&ks, fd, body, len); break;
		case ACME_IPC_NEWKEY: rc = do_newkey(&ks, fd, (const char *)body); break;
		case ACME_IPC_COMMIT: rc = do_commit(&ks, fd); break;
		case ACME_IPC_CSR: rc = do_csr(&ks, fd, body, len); break;
		case ACME_IPC_KEYSAVE: rc = do_keysave(&ks, fd, (const char *)body); break;
		default: rc = ut_err(OFFCA_E_INTERNAL, "key process: unknown request %u", type); break;
		}
		if (rc != OFFCA_OK)
			acme_ipc_send_err(fd, rc);
		ut_free_secret(body, len);
		body = NULL;
	}
out:
	ut_free_secret(body, len);
	if (ks.tok == NULL)
		EVP_PKEY_free(ks.slot[0]);
	ca_keyref_free(ks.tok);
	EVP_PKEY_free(ks.slot[1]);
	EVP_PKEY_free(ks.domain);
	ut_free_secret(ks.eab, ks.eablen);
	close(fd);
	return 0;
}

offca_rc acme_keyproc_start(const struct acme_keyproc_cfg *cfg, struct acme_proc **out)
{
	return acme_proc_start("key", keyproc_main, (void *)cfg, out);
}

offca_rc acme_keyproc_jwk(struct acme_proc *kp, int slot, json_t **jwk)
{
	offca_rc rc;
	unsigned char s = (unsigned char)slot;
	unsigned char *body = NULL;
	size_t len = 0;
	json_error_t err;

	*jwk = NULL;
	rc = acme_ipc_send(kp->fd, ACME_IPC_JWK, &s, 1);
	if (rc == OFFCA_OK)
		rc = acme_ipc_reply(kp->fd, &body, &len);
	if (rc != OFFCA_OK)
		return rc;
	*jwk = json_loadb((const char *)body, len, 0, &err);
	free(body);
	return *jwk == NULL ? ut_err(OFFCA_E_INTERNAL, "key process sent a bad JWK") : OFFCA_OK;
}

offca_rc acme_keyproc_sign(struct acme_proc *kp, int slot, const char *input, unsigned char **sig,
			   size_t *siglen)
{
	offca_rc rc;
	size_t l = strlen(input);
	unsigned char *msg = NULL;

	*sig = NULL;
	*siglen = 0;
	msg = malloc(l + 1);
	if (msg == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	msg[0] = (unsigned char)slot;
	memcpy(msg + 1, input, l);
	rc = acme_ipc_send(kp->fd, ACME_IPC_SIGN, msg, l + 1);
	free(msg);
	if (rc == OFFCA_OK)
		rc = acme_ipc_reply(kp->fd, sig, siglen);
	return rc;
}

offca_rc acme_keyproc_eab(struct acme_proc *kp, const char *input, unsigned char mac[32])
{
	offca_rc rc;
	unsigned char *body = NULL;
	size_t len = 0;

	rc = acme_ipc_send(kp->fd, ACME_IPC_EABMAC, input, strlen(input));
	if (rc == OFFCA_OK)
		rc = acme_ipc_reply(kp->fd, &body, &len);
	if (rc == OFFCA_OK && len != 32)
		rc = ut_err(OFFCA_E_INTERNAL, "key process sent a bad MAC");
	if (rc == OFFCA_OK)
		memcpy(mac, body, 32);
	free(body);
	return rc;
}

offca_rc acme_keyproc_newkey(struct acme_proc *kp, const char *type)
{
	const char *t = type != NULL ? type : "";
	offca_rc rc = acme_ipc_send(kp->fd, ACME_IPC_NEWKEY, t, strlen(t) + 1);

	return rc == OFFCA_OK ? acme_ipc_reply(kp->fd, NULL, NULL) : rc;
}

offca_rc acme_keyproc_commit(struct acme_proc *kp)
{
	offca_rc rc = acme_ipc_send(kp->fd, ACME_IPC_COMMIT, NULL, 0);

	return rc == OFFCA_OK ? acme_ipc_reply(kp->fd, NULL, NULL) : rc;
}

offca_rc acme_keyproc_csr(struct acme_proc *kp, const struct acme_names *names, const char *key_type,
			  const char *reuse_rel, unsigned char **der, size_t *derlen)
{
	const char *f[2 + ACME_MAX_NAMES];
	size_t n = 0;

	*der = NULL;
	*derlen = 0;
	if (names->n > ACME_MAX_NAMES)
		return ut_err(OFFCA_E_TOO_BIG, "too many names");
	f[n++] = key_type != NULL ? key_type : "";
	f[n++] = reuse_rel != NULL ? reuse_rel : "";
	for (size_t i = 0; i < names->n; i++)
		f[n++] = names->v[i];
	offca_rc rc = acme_ipc_sendv(kp->fd, ACME_IPC_CSR, f, n);
	return rc == OFFCA_OK ? acme_ipc_reply(kp->fd, der, derlen) : rc;
}

offca_rc acme_keyproc_keysave(struct acme_proc *kp, const char *rel)
{
	offca_rc rc = acme_ipc_send(kp->fd, ACME_IPC_KEYSAVE, rel, strlen(rel) + 1);

	return rc == OFFCA_OK ? acme_ipc_reply(kp->fd, NULL, NULL) : rc;
}
