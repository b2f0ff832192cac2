/* transcript_verify.c - checking a transcript: canonical lines, hash chain, signatures, outputs. */
#include "transcript_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "offca/util.h"

/* State carried from line to line. */
typedef struct vstate {
	const char *base_dir;
	int check_outputs;
	EVP_PKEY *trust;          /* borrowed: the trusted certificate's key, or NULL */
	int trusted_seen;
	unsigned lineno;
	unsigned char prev[32];
	int ended;
	int last_sig;             /* the last entry checked is a signature */
	char start_sha[65];       /* the start entry's ceremony_sha256 ("" none) */
	cer_verify_result r;
} vstate;

static const char *const fields[] = {"seq", "time", "step", "event", "data", "prev", "hash", NULL};

/* Detail prefix: "line N (seq S, step X, event E): ". */
static offca_rc bad(const vstate *v, json_t *e, const char *what)
{
	const char *step = json_string_value(json_object_get(e, "step"));
	const char *event = json_string_value(json_object_get(e, "event"));

	if (e == NULL || event == NULL)
		return ut_err(OFFCA_E_VERIFY, "transcript line %u: %s", v->lineno, what);
	return ut_err(OFFCA_E_VERIFY, "transcript line %u (seq %u, step \"%s\", event %s): %s", v->lineno,
		      v->lineno, step != NULL ? step : "", event, what);
}

static int time_ok(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (s == NULL || strlen(s) != sizeof(pat) - 1)
		return 0;
	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	return 1;
}

/* Shape: exactly the known fields with the right types. */
static offca_rc check_shape(vstate *v, json_t *e)
{
	unsigned char tmp[32];
	size_t i;

	if (!json_is_object(e))
		return bad(v, NULL, "not a JSON object");
	for (i = 0; fields[i] != NULL; i++) {
		if (json_object_get(e, fields[i]) == NULL) {
			char msg[64];

			snprintf(msg, sizeof(msg), "field \"%s\" missing", fields[i]);
			return bad(v, e, msg);
		}
	}
	if (json_object_size(e) != i)
		return bad(v, e, "unexpected extra fields");
	if (!json_is_integer(json_object_get(e, "seq")) || !json_is_string(json_object_get(e, "step")) ||
	    !json_is_string(json_object_get(e, "event")) || !json_is_object(json_object_get(e, "data")))
		return bad(v, e, "a field has the wrong type");
	if (json_string_length(json_object_get(e, "event")) == 0)
		return bad(v, e, "empty event");
	if (!time_ok(json_string_value(json_object_get(e, "time"))))
		return bad(v, e, "time is not RFC 3339 UTC");
	if (cer_tr_unhex32(json_string_value(json_object_get(e, "prev")), tmp) != 0 ||
	    cer_tr_unhex32(json_string_value(json_object_get(e, "hash")), tmp) != 0)
		return bad(v, e, "prev or hash is not 64 lower-case hex digits");
	return OFFCA_OK;
}

/* The line must be byte for byte the canonical serialization of what it parses to. */
static offca_rc check_canonical(vstate *v, json_t *e, const char *line, size_t len)
{
	char *c = cer_tr_canon(e);
	int same;

	if (c == NULL)
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	same = strlen(c) == len && memcmp(c, line, len) == 0;
	free(c);
	return same ? OFFCA_OK : bad(v, e, "not in canonical form (edited?)");
}

static offca_rc check_chain(vstate *v, json_t *e)
{
	unsigned char prev[32], hash[32], calc[32];
	json_t *copy = NULL;
	offca_rc rc;

	if (json_integer_value(json_object_get(e, "seq")) != (json_int_t)v->lineno)
		return bad(v, e, "seq is out of order");
	cer_tr_unhex32(json_string_value(json_object_get(e, "prev")), prev);
	cer_tr_unhex32(json_string_value(json_object_get(e, "hash")), hash);
	if (memcmp(prev, v->prev, 32) != 0)
		return bad(v, e, "prev does not match the previous entry's hash (entry removed or reordered?)");
	copy = json_copy(e);
	if (copy == NULL || json_object_del(copy, "hash") != 0) {
		json_decref(copy);
		return ut_err(OFFCA_E_NOMEM, "out of memory");
	}
	rc = cer_tr_hash_entry(copy, calc);
	json_decref(copy);
	if (rc != OFFCA_OK)
		return rc;
	if (memcmp(calc, hash, 32) != 0)
		return bad(v, e, "hash does not match the entry's contents (edited?)");
	memcpy(v->prev, hash, 32);
	return OFFCA_OK;
}

static offca_rc check_start(vstate *v, json_t *e, json_t *data)
{
	const char *fmt = json_string_value(json_object_get(data, "format"));
	const char *name = json_string_value(json_object_get(data, "ceremony")), *sha;

	if (fmt == NULL || strcmp(fmt, CER_TR_FORMAT) != 0)
		return bad(v, e, "not an offca transcript (format " CER_TR_FORMAT " expected)");
	if (name == NULL || strlen(name) >= sizeof(v->r.ceremony))
		return bad(v, e, "ceremony name missing or too long");
	memcpy(v->r.ceremony, name, strlen(name) + 1);
	sha = json_string_value(json_object_get(data, "ceremony_sha256"));
	snprintf(v->start_sha, sizeof(v->start_sha), "%s", sha ? sha : "");
	return OFFCA_OK;
}

/* A resumption reopens an aborted transcript (after its end and signatures) with the same
   ceremony file: the chain goes on, and only a later end entry ends it again. */
static offca_rc check_resume(vstate *v, json_t *e, json_t *data)
{
	const char *sha = json_string_value(json_object_get(data, "ceremony_sha256"));

	if (!v->ended || strcmp(v->r.status, "aborted") != 0)
		return bad(v, e, "a resume entry may only follow an aborted ceremony's end");
	if (sha == NULL || strcmp(sha, v->start_sha) != 0)
		return bad(v, e, "the resumed ceremony file's SHA-256 differs from the start entry's");
	v->ended = 0;
	v->r.resumptions++;
	snprintf(v->r.status, sizeof(v->r.status), "incomplete");
	return OFFCA_OK;
}

static offca_rc decode_sig(const char *b64, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = b64 != NULL ? strlen(b64) : 0;
	int got;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap)
		return OFFCA_E_VERIFY;
	got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (got < 0)
		return OFFCA_E_VERIFY;
	/* EVP_DecodeBlock counts padding as zero bytes */
	if (b64[n - 1] == '=')
		got--;
	if (b64[n - 2] == '=')
		got--;
	*len = (size_t)got;
	return OFFCA_OK;
}

static offca_rc check_signature(vstate *v, json_t *e, json_t *data)
{
	const char *alg = json_string_value(json_object_get(data, "algorithm"));
	const char *spki = json_string_value(json_object_get(data, "spki"));
	const char *certpem = json_string_value(json_object_get(data, "cert"));
	const char *signer = json_string_value(json_object_get(data, "signer"));
	unsigned char head[32], fpr[32], calc[32], sig[CER_TR_MAX_SIG + 3]; /* + base64 padding */
	size_t siglen = 0;
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	char *pem = NULL;
	BIO *bio = NULL;
	offca_rc rc = OFFCA_E_VERIFY;
	char msg[512];

	if (alg == NULL || spki == NULL || signer == NULL ||
	    cer_tr_unhex32(json_string_value(json_object_get(data, "signed_head")), head) != 0 ||
	    cer_tr_unhex32(json_string_value(json_object_get(data, "key_sha256")), fpr) != 0) {
		rc = bad(v, e, "signature entry lacks signer, algorithm, spki, key_sha256 or signed_head");
		goto out;
	}
	cer_tr_unhex32(json_string_value(json_object_get(e, "prev")), calc); /* checked by check_chain */
	if (memcmp(head, calc, 32) != 0) {
		rc = bad(v, e, "signed_head is not the hash of the previous entry");
		goto out;
	}
	bio = BIO_new_mem_buf(spki, -1);
	pub = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	if (pub == NULL) {
		rc = bad(v, e, "spki is not a PEM public key");
		goto out;
	}
	rc = cer_tr_spki(pub, &pem, calc);
	if (rc != OFFCA_OK)
		goto out;
	if (memcmp(calc, fpr, 32) != 0) {
		rc = bad(v, e, "key_sha256 does not match spki");
		goto out;
	}
	if (certpem != NULL) {
		BIO_free(bio);
		bio = BIO_new_mem_buf(certpem, -1);
		cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		if (cert == NULL || EVP_PKEY_eq(X509_get0_pubkey(cert), pub) != 1) {
			rc = bad(v, e, "cert is not a certificate for the signing key");
			goto out;
		}
	}
	if (decode_sig(json_string_value(json_object_get(data, "signature")), sig, sizeof(sig), &siglen) != OFFCA_OK) {
		rc = bad(v, e, "signature is not base64");
		goto out;
	}
	if (cer_tr_sig_check(pub, alg, head, sig, siglen) != OFFCA_OK) {
		snprintf(msg, sizeof(msg), "signature by \"%s\" does not verify: %s", signer, ut_err_msg());
		rc = bad(v, e, msg);
		goto out;
	}
	if (v->trust != NULL && EVP_PKEY_eq(v->trust, pub) == 1)
		v->trusted_seen = 1;
	v->r.signatures++;
	rc = OFFCA_OK;
out:
	free(pem);
	BIO_free(bio);
	X509_free(cert);
	EVP_PKEY_free(pub);
	return rc;
}

static offca_rc check_output(vstate *v, json_t *e, json_t *data)
{
	const char *path = json_string_value(json_object_get(data, "path"));
	json_t *size = json_object_get(data, "size");
	unsigned char want[32], got[32];
	uint64_t fsize = 0;
	char full[PATH_MAX], msg[PATH_MAX + 128];
	int n;

	if (path == NULL || *path == '\0' || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    cer_tr_unhex32(json_string_value(json_object_get(data, "sha256")), want) != 0)
		return bad(v, e, "output entry lacks path, size or sha256");
	if (!v->check_outputs)
		return OFFCA_OK;
	if (path[0] == '/' || v->base_dir == NULL)
		n = snprintf(full, sizeof(full), "%s", path);
	else
		n = snprintf(full, sizeof(full), "%s/%s", v->base_dir, path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return bad(v, e, "output path too long");
	if (cer_tr_sha256_file(full, got, &fsize) != OFFCA_OK) {
		snprintf(msg, sizeof(msg), "output %s: %s", path, ut_err_msg());
		return bad(v, e, msg);
	}
	if (fsize != (uint64_t)json_integer_value(size) || memcmp(want, got, 32) != 0) {
		snprintf(msg, sizeof(msg), "output %s no longer matches its recorded SHA-256 (file changed)", path);
		return bad(v, e, msg);
	}
	v->r.outputs_checked++;
	return OFFCA_OK;
}

static offca_rc check_end(vstate *v, json_t *e, json_t *data)
{
	const char *status = json_string_value(json_object_get(data, "status"));

	if (status == NULL || (strcmp(status, "completed") != 0 && strcmp(status, "aborted") != 0))
		return bad(v, e, "end entry without status completed/aborted");
	snprintf(v->r.status, sizeof(v->r.status), "%s", status);
	v->ended = 1;
	return OFFCA_OK;
}

static offca_rc check_event(vstate *v, json_t *e)
{
	const char *event = json_string_value(json_object_get(e, "event"));
	json_t *data = json_object_get(e, "data");

	v->last_sig = strcmp(event, "signature") == 0;
	if ((v->lineno == 1) != (strcmp(event, "start") == 0))
		return bad(v, e, v->lineno == 1 ? "the first entry must be the start entry" : "a second start entry");
	if (strcmp(event, "resume") == 0)
		return check_resume(v, e, data);
	if (v->ended && strcmp(event, "signature") != 0)
		return bad(v, e, "only signatures (or a resumption of an aborted ceremony) may follow the end entry");
	if (strcmp(event, "start") == 0)
		return check_start(v, e, data);
	if (strcmp(event, "signature") == 0)
		return check_signature(v, e, data);
	if (strcmp(event, "output") == 0)
		return check_output(v, e, data);
	if (strcmp(event, "end") == 0)
		return check_end(v, e, data);
	return OFFCA_OK;
}

static offca_rc check_line(vstate *v, const char *line, size_t len, json_t *entries)
{
	json_error_t jerr;
	json_t *e = NULL;
	offca_rc rc;
	char msg[256];

	if (len == 0)
		return bad(v, NULL, "empty line");
	if (len + 1 > CER_TRANSCRIPT_MAX_LINE)
		return bad(v, NULL, "line too long");
	if (memchr(line, '\0', len) != NULL)
		return bad(v, NULL, "NUL byte in the line");
	e = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (e == NULL) {
		snprintf(msg, sizeof(msg), "not valid JSON (%s, column %d)", jerr.text, jerr.column);
		return bad(v, NULL, msg);
	}
	rc = check_shape(v, e);
	if (rc == OFFCA_OK)
		rc = check_canonical(v, e, line, len);
	if (rc == OFFCA_OK)
		rc = check_chain(v, e);
	if (rc == OFFCA_OK)
		rc = check_event(v, e);
	if (rc == OFFCA_OK && entries != NULL && json_array_append(entries, e) != 0)
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
	json_decref(e);
	return rc;
}

offca_rc cer_tr_load(const char *path, const char *base_dir, int check_outputs, X509 *trust_cert,
		     cer_verify_result *res, json_t **entries)
{
	offca_rc rc = OFFCA_E_VERIFY;
	unsigned char *buf = NULL;
	json_t *list = NULL;
	size_t len = 0, pos = 0;
	const char *nl;
	vstate v;

	memset(&v, 0, sizeof(v));
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (entries != NULL)
		*entries = NULL;
	if (path == NULL)
		return ut_err(OFFCA_E_USAGE, "cer_transcript_verify: path required");
	v.base_dir = base_dir;
	v.check_outputs = check_outputs;
	snprintf(v.r.status, sizeof(v.r.status), "incomplete");
	if (trust_cert != NULL) {
		v.trust = X509_get0_pubkey(trust_cert);
		if (v.trust == NULL)
			return ut_err_ssl(OFFCA_E_USAGE, "the trusted certificate has no usable public key");
	}
	rc = ut_read_file(path, CER_TRANSCRIPT_MAX_FILE, 0, &buf, &len);
	if (rc != OFFCA_OK)
		goto out;
	if (entries != NULL && (list = json_array()) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	if (len == 0) {
		rc = ut_err(OFFCA_E_VERIFY, "%s: empty transcript", path);
		goto out;
	}
	while (pos < len) {
		v.lineno++;
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			rc = ut_err(OFFCA_E_VERIFY, "transcript line %u: truncated (no end of line; the write was "
				    "interrupted or the file was cut)", v.lineno);
			goto out;
		}
		rc = check_line(&v, (const char *)buf + pos, (size_t)((const unsigned char *)nl - (buf + pos)), list);
		if (rc != OFFCA_OK)
			goto out;
		v.r.entries++;
		pos = (size_t)((const unsigned char *)nl - buf) + 1;
	}
	if (v.trust != NULL && !v.trusted_seen) {
		rc = ut_err(OFFCA_E_VERIFY, "%s: no signature made with the trusted certificate's key", path);
		goto out;
	}
	memcpy(v.r.head, v.prev, 32);
	v.r.sealed = v.last_sig;
	if (entries != NULL) {
		*entries = list;
		list = NULL;
	}
	rc = OFFCA_OK;
out:
	if (res != NULL)
		*res = v.r;
	json_decref(list);
	free(buf);
	return rc;
}

offca_rc cer_transcript_verify(const char *path, const char *base_dir, int check_outputs, X509 *trust_cert,
			       cer_verify_result *res)
{
	return cer_tr_load(path, base_dir, check_outputs, trust_cert, res, NULL);
}
