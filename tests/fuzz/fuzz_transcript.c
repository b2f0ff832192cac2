/*
 * fuzz_transcript.c - `offca ceremony verify` on an arbitrary transcript file (JSON Lines hash
 * chain, docs/transcript.md): line splitting, jansson parsing and the canonical re-dump, the entry
 * schema, seq/prev/hash links, signature entries (SPKI PEM, base64, ECDSA/RSA/Ed25519 verify,
 * optional certificate), the end entry, and the output entries (check_outputs on: files are
 * looked up in a per-process temp directory, which holds one output, out.pem, that the seed
 * transcripts name). The seeds are real signed chains made with software keys.
 *
 * A mutation almost always breaks the chain at the line it touches, so an input starting with '~'
 * is re-chained first (as fuzz_csr re-signs requests): each line that parses as a JSON object
 * gets seq = its line number, prev = the previous line's hash and a recomputed hash (canonical
 * form through the module's own cer_tr_canon / cer_tr_hash_entry), and a "signature" entry whose
 * data says algorithm "ed25519" is re-signed over its new head with a harness Ed25519 key (spki,
 * key_sha256, signed_head, signature replaced; a "cert" is left as it is). Lines that are not JSON
 * objects stay as they are. The mutated fields then reach the event checks, the signature entry
 * parsing and the end/output rules instead of stopping at the hash.
 *
 * FUZZ_MAX_LEN 32768 (the seed transcripts are ~3 KiB)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "offca/transcript.h"
#include "offca/util.h"
#include "transcript_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (1024u * 1024u)

static char dir[64], path[96];
static EVP_PKEY *harness_key;
static char *harness_spki;
static char harness_fpr[65];

static const char out_pem[] = "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n";

static void put(const char *p, const void *d, size_t n)
{
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (n > 0 && write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void cleanup(void)
{
	char p[128];

	unlink(path);
	snprintf(p, sizeof(p), "%s/out.pem", dir);
	unlink(p);
	rmdir(dir);
	EVP_PKEY_free(harness_key);
	free(harness_spki);
}

static void hex32(const unsigned char in[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[64] = '\0';
}

/* Re-sign a signature entry's data over head with the harness key (see the top of the file). */
static void resign(json_t *data, const char prev_hex[65])
{
	char msg[128], b64[128];
	unsigned char sig[64];
	size_t slen = sizeof(sig);
	EVP_MD_CTX *ctx;
	int n = snprintf(msg, sizeof(msg), "offca-transcript-head:%s", prev_hex);

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, harness_key) != 1 ||
	    EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)msg, (size_t)n) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)slen);
	json_object_set_new(data, "spki", json_string(harness_spki));
	json_object_set_new(data, "key_sha256", json_string(harness_fpr));
	json_object_set_new(data, "signed_head", json_string(prev_hex));
	json_object_set_new(data, "signature", json_string(b64));
}

/* One line re-chained after prev_hex (updated to this line's hash); NULL: keep the line as is. */
static char *rechain_line(const char *line, size_t len, unsigned seq, char prev_hex[65])
{
	json_t *e = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *data;
	const char *event, *alg;
	unsigned char h[32];
	char *out = NULL;

	if (e == NULL || !json_is_object(e))
		goto out;
	data = json_object_get(e, "data");
	event = json_string_value(json_object_get(e, "event"));
	alg = json_string_value(json_object_get(data, "algorithm"));
	if (event != NULL && strcmp(event, "signature") == 0 && json_is_object(data) && alg != NULL &&
	    strcmp(alg, "ed25519") == 0)
		resign(data, prev_hex);
	json_object_set_new(e, "seq", json_integer(seq));
	json_object_set_new(e, "prev", json_string(prev_hex));
	json_object_del(e, "hash");
	if (cer_tr_hash_entry(e, h) != OFFCA_OK)
		goto out;
	hex32(h, prev_hex);
	json_object_set_new(e, "hash", json_string(prev_hex));
	out = cer_tr_canon(e);
out:
	json_decref(e);
	return out;
}

/* The '~' input (without the '~') re-chained into a new buffer (caller frees). */
static unsigned char *rechain(const uint8_t *data, size_t size, size_t *outlen)
{
	char prev_hex[65];
	unsigned char *out = malloc(2 * size + 4096), *grown;
	size_t cap = 2 * size + 4096, o = 0;
	unsigned seq = 1;

	memset(prev_hex, '0', 64);
	prev_hex[64] = '\0';
	if (out == NULL)
		return NULL;
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl != NULL ? (size_t)(nl - data) : size;
		char *line = memchr(data, '\0', n) == NULL ? rechain_line((const char *)data, n, seq, prev_hex) : NULL;
		const void *src = line != NULL ? (const void *)line : (const void *)data;
		size_t sl = line != NULL ? strlen(line) : n;

		if (o + sl + 1 > cap) {
			cap = 2 * (o + sl + 1);
			grown = realloc(out, cap);
			if (grown == NULL) {
				free(line);
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + o, src, sl);
		o += sl;
		if (nl != NULL)
			out[o++] = '\n';
		free(line);
		data += n + (nl != NULL);
		size -= n + (nl != NULL);
		seq++;
	}
	*outlen = o;
	return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char p[128];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-tr-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	snprintf(p, sizeof(p), "%s/out.pem", dir);
	put(p, out_pem, strlen(out_pem));
	{
		unsigned char fpr[32];

		harness_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (harness_key == NULL || cer_tr_spki(harness_key, &harness_spki, fpr) != OFFCA_OK)
			abort();
		hex32(fpr, harness_fpr);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cer_verify_result r;
	offca_rc rc;
	unsigned char *re = NULL;
	size_t rlen = 0;

	if (size > FZ_MAX_INPUT)
		return 0;
	if (size > 0 && data[0] == '~') {
		re = rechain(data + 1, size - 1, &rlen);
		if (re == NULL)
			return 0;
		put(path, re, rlen);
		free(re);
	} else {
		put(path, data, size);
	}
	rc = cer_transcript_verify(path, dir, 1, NULL, &r);
	if (rc == OFFCA_OK) {
		if (r.entries == 0 || r.signatures > r.entries || r.outputs_checked > r.entries ||
		    memchr(r.status, '\0', sizeof(r.status)) == NULL ||
		    memchr(r.ceremony, '\0', sizeof(r.ceremony)) == NULL)
			abort();
		if (strcmp(r.status, "completed") != 0 && strcmp(r.status, "aborted") != 0 &&
		    strcmp(r.status, "incomplete") != 0)
			abort();
	}
	ut_err_clear();
	return 0;
}
