/*
 * fuzz_transcript.c - `offca ceremony verify` on an arbitrary transcript file (JSON Lines hash
 * chain, docs/transcript.md): line splitting, jansson parsing and the canonical re-dump, the entry
 * schema, seq/prev/hash links, signature entries (SPKI PEM, base64, ECDSA/RSA/Ed25519 verify,
 * optional certificate), the end entry, and the output entries (check_outputs on: files are
 * looked up in a per-process temp directory, which holds one output, out.pem, that the seed
 * transcripts name). The seeds are real signed chains made with software keys, so mutations get
 * past the first hash check only where they keep the chain; that is what the seeds are for.
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

#include "offca/transcript.h"
#include "offca/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (1024u * 1024u)

static char dir[64], path[96];

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
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cer_verify_result r;
	offca_rc rc;

	if (size > FZ_MAX_INPUT)
		return 0;
	put(path, data, size);
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
