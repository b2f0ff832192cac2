/*
 * replay.c - standalone driver for the fuzz targets in the normal (gcc, ASan/UBSan) build.
 *
 * Usage: fuzz_<name> [FILE|DIR]...  Runs LLVMFuzzerInitialize() once when the target defines it,
 * then LLVMFuzzerTestOneInput() on an empty input (as libFuzzer does first) and on every regular
 * file given or found (non-recursively, in name order) in the directories given. Each input is
 * handed over in a heap buffer of exactly its size, so ASan sees any read past its end. A crash,
 * leak or UB report ends the process through the sanitizers; a file that cannot be read, or a
 * target returning non-zero, makes the exit status 1. ctest's fuzz/<name> runs this on
 * tests/fuzz/corpus/<name>/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u) /* a corpus file larger than this is an error */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_one(const uint8_t *data, size_t size, const char *what)
{
	uint8_t *copy = malloc(size > 0 ? size : 1);
	int r;

	if (copy == NULL) {
		fprintf(stderr, "replay: out of memory for %s\n", what);
		return 1;
	}
	if (size > 0)
		memcpy(copy, data, size);
	/* an empty input is still a valid pointer, as libFuzzer gives it */
	r = LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	if (r != 0) {
		fprintf(stderr, "replay: %s: the target returned %d\n", what, r);
		return 1;
	}
	return 0;
}

static int run_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	size_t size, got;
	int rc = 1;

	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", path, REPLAY_MAX_INPUT);
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	got = fread(buf, 1, size, f);
	if (got != size || ferror(f)) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	rc = run_one(buf, size, path);
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in dir, in name order (dot files skipped). *count gets how many. */
static int run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = 1;
				break;
			}
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL) {
			rc = 1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		if (len < 0 || (size_t)len >= sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]);
			rc = 1;
			continue;
		}
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		rc |= run_file(path);
		(*count)++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != 0 && n == 0)
		fprintf(stderr, "replay: %s: out of memory listing it\n", dir);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	if (LLVMFuzzerInitialize != NULL && LLVMFuzzerInitialize(&argc, &argv) != 0) {
		fprintf(stderr, "replay: LLVMFuzzerInitialize failed\n");
		return 1;
	}
	rc |= run_one((const uint8_t *)"", 0, "(empty input)");
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i], &count);
		} else {
			rc |= run_file(argv[i]);
			count++;
		}
	}
	printf("replay: %zu input%s run, %s\n", count, count == 1 ? "" : "s", rc == 0 ? "all clean" : "FAILED");
	return rc == 0 ? 0 : 1;
}
