/* quorum.c - M of N officers approve a step: each signs the step's hash with the key on their own
   token; the signature is verified against the key enrolled in the ceremony file before it counts. */
#include "ceremony_int.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "offca/util.h"

#define MAX_SIG 1024

/* The message an officer signs: "offca-step-approval:" + hex SHA-256 of the step description. */
static void approval_msg(const cer_step *st, char *buf, size_t cap)
{
	char *h = ut_hex(st->hash, 32);

	snprintf(buf, cap, "offca-step-approval:%s", h ? h : "");
	free(h);
}

static const EVP_MD *md_for(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) >= 384)
		return EVP_sha384();
	return EVP_sha256();
}

static offca_rc load_enrolled(const cer_officer *of, EVP_PKEY **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x = NULL;
	offca_rc rc;

	*out = NULL;
	rc = ut_read_file(of->pubkey_file, UT_MAX_CERT_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		return rc;
	b = BIO_new_mem_buf(buf, (int)len);
	if (b != NULL && of->is_cert) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		*out = x ? X509_get_pubkey(x) : NULL;
	} else if (b != NULL) {
		*out = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	}
	X509_free(x);
	BIO_free(b);
	free(buf);
	if (*out == NULL)
		return ut_err_ssl(OFFCA_E_PARSE, "officer %s: cannot read the enrolled key %s", of->name, of->pubkey_file);
	return OFFCA_OK;
}

static offca_rc sign_msg(EVP_PKEY *priv, const char *msg, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, md_for(priv), NULL, priv) != 1) {
		EVP_MD_CTX_free(ctx);
		return ut_err_ssl(OFFCA_E_CRYPTO, "signing the approval failed");
	}
	return tok_sign_message(priv, ctx, msg, strlen(msg), sig, siglen, "the approval of this step",
				"signing the approval failed");
}

static int verify_msg(EVP_PKEY *pub, const char *msg, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, md_for(pub), NULL, pub) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, strlen(msg)) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

static void spki_sha256(EVP_PKEY *k, char *buf, size_t cap)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	buf[0] = '\0';
	if (n > 0) {
		unsigned char md[32];
		char *h;
		EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
		h = ut_hex(md, 32);
		snprintf(buf, cap, "%s", h ? h : "");
		free(h);
	}
	OPENSSL_free(der);
}

/* One officer's approval. OFFCA_OK approved; OFFCA_E_VERIFY rejected (does not count); other
   errors abort (Ctrl-C, wrong PIN three times, token gone). *declined set when they said no. */
static offca_rc one_officer(cer_run_t *r, const cer_step *st, int oi, int *declined)
{
	const cer_officer *of = &r->f->officers[oi];
	unsigned char sig[MAX_SIG];
	char id[96], q[256], msg[128], fp[65], b64[2 * MAX_SIG];
	size_t siglen = sizeof(sig);
	EVP_PKEY *enrolled = NULL;
	tok_key *k = NULL;
	offca_rc rc;
	int yes = 0;

	*declined = 0;
	snprintf(id, sizeof(id), "step%u.approve.%s", st->index, of->name);
	snprintf(q, sizeof(q), "Officer %s: approve step %u and sign its hash with your token? (yes/no)", of->name,
		 st->index);
	rc = cer_ask_yes_no(r, id, q, &yes);
	if (rc != OFFCA_OK)
		return rc;
	if (!yes) {
		*declined = 1;
		return cer_log(r, "quorum-declined", json_pack("{s:s, s:s}", "officer", of->name, "answer", "no"));
	}
	rc = cer_wait_uri(r, of->name, of->key_uri);
	if (rc != OFFCA_OK)
		return rc;
	rc = cer_key_get(r, of->key_uri, of->name, 0, &k);
	if (rc != OFFCA_OK)
		return rc;
	approval_msg(st, msg, sizeof(msg));
	rc = sign_msg(tok_key_private(k), msg, sig, &siglen);
	if (rc != OFFCA_OK)
		return rc;
	if (r->dry_run && r->officer_pub[oi] != NULL) {
		enrolled = r->officer_pub[oi];
		EVP_PKEY_up_ref(enrolled);
	} else {
		rc = load_enrolled(of, &enrolled);
		if (rc != OFFCA_OK)
			return rc;
	}
	spki_sha256(enrolled, fp, sizeof(fp));
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	if (!verify_msg(enrolled, msg, sig, siglen)) {
		EVP_PKEY_free(enrolled);
		cer_say(r, "  REJECTED: %s's signature does not verify with the key enrolled for %s\n", of->name, of->name);
		cer_log(r, "quorum-rejected", json_pack("{s:s, s:s, s:s}", "officer", of->name, "enrolled_key_sha256", fp,
							"reason", "signature does not verify with the enrolled key"));
		return ut_err(OFFCA_E_VERIFY, "officer %s: approval signature does not match the enrolled key", of->name);
	}
	EVP_PKEY_free(enrolled);
	r->approved[oi] = 1;
	cer_say(r, "  Approved by %s (signature verified with the enrolled key %.16s...)\n", of->name, fp);
	return cer_log(r, "quorum-approval", json_pack("{s:s, s:s, s:s, s:s}", "officer", of->name, "message", msg,
						       "enrolled_key_sha256", fp, "signature", b64));
}

offca_rc cer_quorum(cer_run_t *r, const cer_step *st)
{
	unsigned got = 0;
	size_t left;
	offca_rc rc;
	int declined;

	cer_say(r, "\nThis step needs %u of %zu officers to approve it, each with their own token.\n", st->quorum_m,
		st->n_quorum);
	for (size_t i = 0; i < st->n_quorum && got < st->quorum_m; i++) {
		left = st->n_quorum - i;
		if (got + left < st->quorum_m)
			break;
		rc = one_officer(r, st, st->quorum_officers[i], &declined);
		if (rc == OFFCA_OK && !declined)
			got++;
		else if (rc != OFFCA_OK && rc != OFFCA_E_VERIFY)
			return rc;
	}
	if (got < st->quorum_m)
		return ut_err(OFFCA_E_ABORTED, "quorum not reached for step %u: %u of %u approvals", st->index, got,
			      st->quorum_m);
	return cer_log(r, "quorum-reached", json_pack("{s:i, s:i}", "approvals", (int)got, "required", (int)st->quorum_m));
}
