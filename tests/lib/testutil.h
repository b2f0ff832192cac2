/*
 * tests/lib/testutil.h - helpers for cmocka unit tests: a private temp dir and a private SoftHSM2
 * token store (SOFTHSM2_CONF in the temp dir; never the system token store).
 */
#ifndef OFFCA_TESTUTIL_H
#define OFFCA_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Create a temp dir (0700) and return its path in a static buffer. */
static inline const char *tu_tmpdir(void)
{
	static char dir[256];

	snprintf(dir, sizeof(dir), "/tmp/offca-unit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

/* Path of the SoftHSM2 module, or NULL. */
static inline const char *tu_softhsm_module(void)
{
	static const char *cands[] = {"/usr/lib/softhsm/libsofthsm2.so",
				      "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
				      "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", NULL};
	for (int i = 0; cands[i]; i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	return NULL;
}

/*
 * Point SOFTHSM2_CONF at a private token dir under dir and create a token with the given label,
 * user PIN and SO PIN 12345678. Returns 0 on success.
 */
static inline int tu_softhsm_token(const char *dir, const char *label, const char *pin)
{
	char path[512], cmd[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tokens", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/softhsm2.conf", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n", dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label '%s' --so-pin 12345678 --pin '%s' >/dev/null",
		 label, pin);
	return system(cmd) == 0 ? 0 : -1;
}

/* rm -rf dir (test cleanup). */
static inline void tu_rmrf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

#endif
