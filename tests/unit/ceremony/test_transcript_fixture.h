/*
 * transcript_fixture.h - shared helpers for the transcript unit tests: software keys, a
 * self-signed certificate, and a small sample transcript.
 */
#ifndef OFFCA_TRANSCRIPT_FIXTURE_H
#define OFFCA_TRANSCRIPT_FIXTURE_H

#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offca/transcript.h"
#include "offca/util.h"

/* Assert success, showing the error detail otherwise. */
#define fx_ok(expr)                                                                   \
	do {                                                                          \
		offca_rc fx_rc_ = (expr);                                             \
		if (fx_rc_ != OFFCA_OK)                                               \
			fail_msg("%s: rc %d: %s", #expr, (int)fx_rc_, ut_err_msg());  \
	} while (0)

static inline EVP_PKEY *fx_key(const char *type)
{
	EVP_PKEY *k = NULL;

	if (strcmp(type, "ec") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "ec384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "rsa") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	return k;
}

/* A self-signed certificate for key (CN=cn). */
static inline X509 *fx_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256()) > 0);
	return x;
}

static inline void fx_write(const char *path, const char *text)
{
	unlink(path);
	assert_int_equal(ut_write_file(path, text, strlen(text), 0), OFFCA_OK);
}

/*
 * In the current directory: ceremony.yaml, root.pem, and a transcript at path with operators,
 * a confirmation, an output, the end entry and a signature by key (with cert when non-NULL).
 */
static inline void fx_sample(const char *path, EVP_PKEY *key, X509 *cert)
{
	cer_transcript *t = NULL;
	json_t *ops, *conf;

	fx_write("ceremony.yaml", "type: root-key\nlabel: root-2026\n");
	fx_write("root.pem", "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n");
	unlink(path);
	assert_int_equal(cer_transcript_create(path, "Example Root CA 2026", "ceremony.yaml", &t), OFFCA_OK);
	ops = json_pack("{s:s,s:[s,s]}", "administrator", "Alice Admin", "witnesses", "Bob Witness", "Carol Witness");
	conf = json_pack("{s:s,s:s}", "prompt", "Generate the root key on token root-2026?", "answer", "yes");
	assert_int_equal(cer_transcript_append(t, "", "operators", ops), OFFCA_OK);
	assert_int_equal(cer_transcript_append(t, "1", "confirm", conf), OFFCA_OK);
	assert_int_equal(cer_transcript_add_output(t, "1", "root.pem"), OFFCA_OK);
	assert_int_equal(cer_transcript_finish(t, "completed", NULL), OFFCA_OK);
	if (key != NULL)
		assert_int_equal(cer_transcript_sign(t, "ceremony-key", key, key, cert), OFFCA_OK);
	cer_transcript_free(t);
	json_decref(ops);
	json_decref(conf);
}

/* Read a whole file (test helper). */
static inline char *fx_slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;

	assert_int_equal(ut_read_file(path, 64u * 1024u * 1024u, 0, &buf, len), OFFCA_OK);
	return (char *)buf;
}

static inline void fx_put(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

#endif
