/*
 * fuzz_ceremony.c - the YAML files a ceremony reads (libfyaml): the ceremony file itself
 * (cer_file_load: schema, types, references, files named by steps), the answers file
 * (cer_answers_load + cer_answers_next) and the credentials file (cer_credentials_load, YAML or
 * key=value). The loaders take paths, so each input is written to a file in a per-process temp
 * directory (made once, removed at exit) holding a CSR and a certificate that steps may name
 * (partner.csr, root.pem). Nothing is written elsewhere; PIN files are never read.
 *
 * FUZZ_MAX_LEN 16384 (CER_MAX_FILE is 256 KiB; real ceremony files are a few KiB)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "offca/ceremony.h"
#include "offca/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], yaml[96], cred[96];

/* The CSR of tests/data/ceremonies/partner.csr (P-384), for steps to name. */
static const char csr_pem[] =
	"-----BEGIN CERTIFICATE REQUEST-----\n"
	"MIIBLzCBtgIBADA3MRswGQYDVQQDDBJQYXJ0bmVyIElzc3VpbmcgQ0ExGDAWBgNV\n"
	"BAoMD0V4YW1wbGUgUGFydG5lcjB2MBAGByqGSM49AgEGBSuBBAAiA2IABJIfs9du\n"
	"V5aYf5RUTftltxGIF1wT8QqxXTktM4DN3celC1e2tj3pL6W6hcV7wXS8Xyry2rHX\n"
	"vqU+QjZTrAMoeoevDMQ5mXjyA/guUsS7mPPUNcc+upDX62iQSPGYB++fLqAAMAoG\n"
	"CCqGSM49BAMCA2gAMGUCMGXxUNd/LMoOCF7AhDRSZhrkPqwac/zHjB+0bZXHJETl\n"
	"dBGhr9GLW4DWBrttNWbQXQIxAKZzFwcQNd7QvPK9H3q73XtUVa2v6IDf2+dzvDXK\n"
	"hU+EUclF3fexZHFPjNCB4CWxvQ==\n"
	"-----END CERTIFICATE REQUEST-----\n";

static void cleanup(void)
{
	const char *names[] = {"c.yaml", "cred", "partner.csr", "root.pem"};
	char p[160];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void put(const char *name, const void *d, size_t n, mode_t mode)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		abort();
	if (n > 0 && write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-cer-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(yaml, sizeof(yaml), "%s/c.yaml", dir);
	snprintf(cred, sizeof(cred), "%s/cred", dir);
	put("partner.csr", csr_pem, strlen(csr_pem), 0644);
	put("root.pem", "", 0, 0644); /* exists but is not a certificate */
	return 0;
}

static void ceremony_file(void)
{
	cer_diag *d = NULL;
	cer_file *f = NULL;
	offca_rc rc;

	if (cer_diag_new(&d) != OFFCA_OK)
		return;
	rc = cer_file_load(yaml, d, &f);
	if (rc == OFFCA_OK) {
		if (f == NULL || cer_diag_count(d) != 0 || cer_file_name(f) == NULL)
			abort();
	} else if (f != NULL) {
		abort();
	}
	for (size_t i = 0; i < cer_diag_count(d); i++)
		if (cer_diag_msg(d, i) == NULL)
			abort();
	cer_file_free(f);
	cer_diag_free(d);
}

static void answers_file(void)
{
	static const char *const ids[] = {"time", "step1.confirm", "operators", "step2.confirm", NULL};
	cer_answers *a = NULL;

	if (cer_answers_load(yaml, &a) != OFFCA_OK)
		return;
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; ids[i] != NULL; i++)
			(void)cer_answers_next(a, ids[i]);
	cer_answers_free(a);
}

static void credentials_file(const uint8_t *data, size_t size)
{
	cer_credentials *c = NULL;

	put("cred", data, size, 0600);
	if (cer_credentials_load(cred, &c) != OFFCA_OK)
		return;
	(void)cer_credentials_module(c);
	cer_credentials_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CER_MAX_FILE + 1)
		return 0;
	put("c.yaml", data, size, 0644);
	ceremony_file();
	answers_file();
	credentials_file(data, size);
	ut_err_clear();
	return 0;
}
