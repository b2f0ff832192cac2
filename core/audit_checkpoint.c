/*
 * audit_checkpoint.c - the audit head signed by an issuer's key, so a cut chain is detected.
 *
 * A checkpoint signs (seq, hash) of the head with the issuer's token key. It is stored in DB_BIND
 * under 'k' be64(seq) as
 *   u8 version=1 | i64 time | str issuer | hash[32] | blob signature
 * and announced by a "checkpoint" entry {"seq","sha256","issuer"} appended right after, in the same
 * transaction. The signed message is
 *   "offca-audit-checkpoint-v1" 0x00 || be64(seq) || hash || be32(len(issuer)) || issuer
 * with the digest ca_x509_digest_for() picks for the key (as certificates and CRLs).
 * ca_store_checkpoint_verify() checks every stored checkpoint against the issuer certificate and
 * that the log still holds the entry it signed with that hash: cutting entries below the newest
 * checkpoint (and rewriting the head) is then detected.
 */
#include "store_int.h"
#include "offca/util.h"
#include "offca/x509.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CKPT_VERSION 1u
#define CKPT_DOMAIN "offca-audit-checkpoint-v1"
#define CKPT_MAX_SIG 2048u

/* The signed message into m (cap >= 26 + 8 + 32 + 4 + 63); its length. */
static size_t ckpt_message(uint64_t seq, const unsigned char hash[32], const char *issuer, unsigned char *m)
{
	size_t n = sizeof(CKPT_DOMAIN), il = strnlen(issuer, 63);

	memcpy(m, CKPT_DOMAIN, n); /* with its NUL */
	ca_be64_put(m + n, seq);
	n += 8;
	memcpy(m + n, hash, 32);
	n += 32;
	m[n++] = 0;
	m[n++] = 0;
	m[n++] = 0;
	m[n++] = (unsigned char)il;
	memcpy(m + n, issuer, il);
	return n + il;
}

/* Does sig verify over msg with the issuer certificate's public key? */
static offca_rc verify_sig(const ca_issuer *iss, const unsigned char *msg, size_t mlen, const unsigned char *sig,
			   size_t slen)
{
	const unsigned char *p = iss->der;
	X509 *x = d2i_X509(NULL, &p, (long)iss->der_len);
	EVP_PKEY *pub = x ? X509_get0_pubkey(x) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *dg;
	offca_rc rc = OFFCA_E_VERIFY;
	int ok = 0;

	if (pub != NULL && md != NULL) {
		dg = ca_x509_digest_for(pub, &ok);
		ok = ok && EVP_DigestVerifyInit(md, NULL, dg, NULL, pub) == 1 &&
		     EVP_DigestVerify(md, sig, slen, msg, mlen) == 1;
	}
	if (ok)
		rc = OFFCA_OK;
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	X509_free(x);
	return rc;
}

static offca_rc put_ckpt(ca_store *st, MDB_txn *txn, uint64_t seq, const unsigned char hash[32], const char *issuer,
			 const unsigned char *sig, size_t slen)
{
	unsigned char key[9];
	ca_wbuf b = {0};
	MDB_val k = {9, key}, v;
	char fp[65], *detail = NULL;
	static const char hx[] = "0123456789abcdef";
	offca_rc rc;

	key[0] = 'k';
	ca_be64_put(key + 1, seq);
	ca_wb_u8(&b, CKPT_VERSION);
	ca_wb_i64(&b, (int64_t)time(NULL));
	ca_wb_str(&b, issuer);
	ca_wb_bytes(&b, hash, 32);
	ca_wb_blob(&b, sig, slen);
	if (b.failed) {
		ca_wb_free(&b);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	v.mv_size = b.len;
	v.mv_data = b.p;
	rc = ca_st_rc(mdb_put(txn, st->dbi[DB_BIND], &k, &v, MDB_NOOVERWRITE), "storing an audit checkpoint");
	ca_wb_free(&b);
	if (rc == OFFCA_E_EXISTS)
		rc = ut_err(OFFCA_E_EXISTS, "the audit head #%llu is already signed", (unsigned long long)seq);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < 32; i++) {
		fp[2 * i] = hx[hash[i] >> 4];
		fp[2 * i + 1] = hx[hash[i] & 15];
	}
	fp[64] = '\0';
	detail = ca_audit_json("{s:I,s:s,s:s}", "seq", (json_int_t)seq, "sha256", fp, "issuer", issuer);
	rc = detail ? ca_audit_append_txn(st, txn, "checkpoint", detail) : ut_err_last();
	free(detail);
	return rc;
}

offca_rc ca_store_checkpoint(ca_store *st, const char *issuer, ca_checkpoint_sign_fn sign, void *arg, uint64_t *seq,
			     unsigned char hash[32])
{
	MDB_txn *txn = NULL;
	ca_issuer iss;
	unsigned char msg[128], *sig = NULL;
	size_t mlen, slen = 0;
	uint64_t s = 0;
	offca_rc rc;

	*seq = 0;
	memset(hash, 0, 32);
	memset(&iss, 0, sizeof(iss));
	if (st == NULL || issuer == NULL || sign == NULL)
		return ut_err(OFFCA_E_USAGE, "ca_store_checkpoint: NULL argument");
	rc = ca_store_issuer_get(st, issuer, &iss);
	if (rc == OFFCA_OK)
		rc = ca_st_check_no_batch(st, "signing the audit head");
	if (rc == OFFCA_OK)
		rc = ca_st_begin(st, 0, &txn);
	if (rc != OFFCA_OK)
		goto out;
	rc = ca_audit_head_txn(st, txn, &s, hash);
	if (rc != OFFCA_OK)
		goto out;
	mlen = ckpt_message(s, hash, issuer, msg);
	rc = sign(arg, msg, mlen, &sig, &slen);
	if (rc != OFFCA_OK)
		goto out;
	if (slen == 0 || slen > CKPT_MAX_SIG || verify_sig(&iss, msg, mlen, sig, slen) != OFFCA_OK) {
		rc = ut_err(OFFCA_E_VERIFY, "the audit checkpoint's signature does not verify with issuer '%s''s "
			    "certificate", issuer);
		goto out;
	}
	rc = put_ckpt(st, txn, s, hash, issuer, sig, slen);
	if (rc != OFFCA_OK)
		goto out;
	rc = ca_st_commit(txn, "signing the audit head");
	txn = NULL;
	if (rc == OFFCA_OK)
		*seq = s;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != OFFCA_OK)
		memset(hash, 0, 32);
	OPENSSL_free(sig);
	ca_issuer_clear(&iss);
	return rc;
}

/* One stored checkpoint, decoded. */
struct ckpt {
	uint64_t seq;
	int64_t time;
	char issuer[64];
	unsigned char hash[32];
	unsigned char sig[CKPT_MAX_SIG];
	size_t slen;
};

static offca_rc decode_ckpt(const MDB_val *k, const MDB_val *v, struct ckpt *c)
{
	ca_rcur r = {v->mv_data, v->mv_size, 0};
	const unsigned char *sig;

	memset(c, 0, sizeof(*c));
	if (k->mv_size != 9 || ca_rc_u8(&r) != CKPT_VERSION)
		r.bad = 1;
	c->time = ca_rc_i64(&r);
	ca_rc_str(&r, sizeof(c->issuer) - 1, c->issuer, sizeof(c->issuer));
	ca_rc_bytes(&r, c->hash, 32);
	sig = ca_rc_blob(&r, CKPT_MAX_SIG, &c->slen);
	if (r.bad || r.left != 0 || c->slen == 0)
		return ut_err(OFFCA_E_VERIFY, "audit checkpoint record is malformed");
	memcpy(c->sig, sig, c->slen);
	c->seq = ca_be64_get((const unsigned char *)k->mv_data + 1);
	return OFFCA_OK;
}

/* The entry the checkpoint signed is still there with that hash. */
static offca_rc check_signed_entry(ca_store *st, MDB_txn *txn, const struct ckpt *c)
{
	unsigned char key[8], head[32];
	uint64_t head_seq = 0;
	MDB_val k = {8, key}, v;
	offca_rc rc = ca_audit_head_txn(st, txn, &head_seq, head);
	int r;

	if (rc != OFFCA_OK)
		return rc;
	ca_be64_put(key, c->seq);
	r = mdb_get(txn, st->dbi[DB_AUDIT], &k, &v);
	if (r == MDB_NOTFOUND || head_seq < c->seq)
		return ut_err(OFFCA_E_VERIFY, "audit log: the log ends at #%llu but issuer '%s' signed its head at #%llu "
			      "(audit checkpoint): entries were cut", (unsigned long long)head_seq, c->issuer,
			      (unsigned long long)c->seq);
	if (r != MDB_SUCCESS)
		return ca_st_rc(r, "reading the audit log");
	if (v.mv_size < 64 || memcmp((const unsigned char *)v.mv_data + v.mv_size - 32, c->hash, 32) != 0)
		return ut_err(OFFCA_E_VERIFY, "audit log: entry #%llu is not the one issuer '%s' signed (audit "
			      "checkpoint): the log was rewritten", (unsigned long long)c->seq, c->issuer);
	return OFFCA_OK;
}

offca_rc ca_store_checkpoint_verify(ca_store *st, size_t *n, uint64_t *newest)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	unsigned char start = 'k', msg[128];
	MDB_val k = {1, &start}, v;
	struct ckpt *c = malloc(sizeof(*c));
	ca_issuer iss;
	size_t cnt = 0;
	offca_rc rc;
	int r;

	if (n != NULL)
		*n = 0;
	if (newest != NULL)
		*newest = 0;
	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	rc = ca_st_begin(st, 1, &txn);
	if (rc == OFFCA_OK && (r = mdb_cursor_open(txn, st->dbi[DB_BIND], &cur)) != MDB_SUCCESS)
		rc = ca_st_rc(r, "reading the audit checkpoints");
	for (r = rc == OFFCA_OK ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
	     r == MDB_SUCCESS && k.mv_size > 0 && ((const unsigned char *)k.mv_data)[0] == 'k';
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = decode_ckpt(&k, &v, c)) != OFFCA_OK || (rc = check_signed_entry(st, txn, c)) != OFFCA_OK)
			break;
		memset(&iss, 0, sizeof(iss));
		rc = ca_store_issuer_get(st, c->issuer, &iss);
		if (rc == OFFCA_OK && verify_sig(&iss, msg, ckpt_message(c->seq, c->hash, c->issuer, msg), c->sig,
						 c->slen) != OFFCA_OK)
			rc = ut_err(OFFCA_E_VERIFY, "audit log: the checkpoint of entry #%llu does not verify with issuer "
				    "'%s''s certificate", (unsigned long long)c->seq, c->issuer);
		ca_issuer_clear(&iss);
		if (rc != OFFCA_OK)
			break;
		cnt++;
		if (newest != NULL)
			*newest = c->seq;
	}
	if (rc == OFFCA_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = ca_st_rc(r, "reading the audit checkpoints");
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(c);
	if (rc == OFFCA_OK && n != NULL)
		*n = cnt;
	return rc;
}

/* A "checkpoint" entry whose stored checkpoint is gone (called by the record check's walk). */
offca_rc ca_st_checkpoint_present(ca_store *st, MDB_txn *txn, uint64_t seq)
{
	unsigned char key[9];
	MDB_val k = {9, key}, v;
	int r;

	key[0] = 'k';
	ca_be64_put(key + 1, seq);
	r = mdb_get(txn, st->dbi[DB_BIND], &k, &v);
	if (r == MDB_NOTFOUND)
		return ut_err(OFFCA_E_VERIFY, "audit log: the signed checkpoint of entry #%llu was removed from the store",
			      (unsigned long long)seq);
	return ca_st_rc(r, "reading the audit checkpoints");
}
