/* transcript.c - writing the hash-chained ceremony transcript: create, append, outputs, finish. */
#include "transcript_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "offca/util.h"

#ifndef OFFCA_VERSION
#define OFFCA_VERSION "unknown"
#endif

struct cer_transcript {
	int fd;
	char *path;
	json_int_t seq;          /* seq of the last entry written */
	unsigned char head[32];  /* hash of the last entry written */
	off_t size;              /* file size after the last complete entry */
	int finished;            /* "end" written: only signatures from now on */
	int broken;              /* a write failed and the file could not be cut back */
};

char *cer_tr_canon(const json_t *obj)
{
	return json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
}

offca_rc cer_tr_hash_entry(const json_t *entry, unsigned char out[32])
{
	char *s = cer_tr_canon(entry);
	unsigned int n = 0;
	offca_rc rc;

	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "transcript: cannot serialize an entry");
	if (EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "transcript: SHA-256 failed");
	else
		rc = OFFCA_OK;
	free(s);
	return rc;
}

static int key_is_secret(const char *key)
{
	char norm[128];
	size_t i, n = 0;

	for (i = 0; key[i] != '\0' && n + 1 < sizeof(norm); i++) {
		if (key[i] == '-' || key[i] == '_' || key[i] == ' ')
			continue;
		norm[n++] = (char)tolower((unsigned char)key[i]);
	}
	norm[n] = '\0';
	if (key[i] != '\0')
		return 1; /* a key this long is not something we record */
	if (n >= 3 && strcmp(norm + n - 3, "pin") == 0)
		return 1;
	return strstr(norm, "password") != NULL || strstr(norm, "passphrase") != NULL ||
	       strstr(norm, "secret") != NULL;
}

int cer_tr_data_refused(const json_t *data, const char **bad)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_real(data)) {
		*bad = "(a floating-point number)";
		return 1;
	}
	if (json_is_array(data)) {
		json_array_foreach(data, i, v) {
			if (cer_tr_data_refused(v, bad))
				return 1;
		}
		return 0;
	}
	if (!json_is_object(data))
		return 0;
	json_object_foreach((json_t *)data, key, v) {
		if (key_is_secret(key)) {
			*bad = key;
			return 1;
		}
		if (cer_tr_data_refused(v, bad))
			return 1;
	}
	return 0;
}

int cer_tr_unhex32(const char *hex, unsigned char out[32])
{
	static const char digits[] = "0123456789abcdef";
	const char *hi, *lo;
	size_t i;

	if (hex == NULL || strlen(hex) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = strchr(digits, hex[2 * i]);
		lo = strchr(digits, hex[2 * i + 1]);
		if (hex[2 * i] == '\0' || hex[2 * i + 1] == '\0' || hi == NULL || lo == NULL)
			return -1;
		out[i] = (unsigned char)(((hi - digits) << 4) | (lo - digits));
	}
	return 0;
}

offca_rc cer_tr_sha256_file(const char *path, unsigned char out[32], uint64_t *size)
{
	offca_rc rc = OFFCA_E_IO;
	EVP_MD_CTX *md = NULL;
	unsigned char buf[16384];
	unsigned int n32 = 0;
	uint64_t total = 0;
	struct stat st;
	ssize_t n;
	int fd = -1, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		rc = ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ut_err(OFFCA_E_IO, "%s: not a regular file", path);
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = ut_err_ssl(OFFCA_E_NOMEM, "SHA-256 of %s", path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			rc = ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 of %s", path);
			goto out;
		}
		total += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(md, out, &n32) != 1 || n32 != 32) {
		rc = ut_err_ssl(OFFCA_E_CRYPTO, "SHA-256 of %s", path);
		goto out;
	}
	*size = total;
	rc = OFFCA_OK;
out:
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return rc;
}

static offca_rc now_rfc3339(char buf[32])
{
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ut_err(OFFCA_E_INTERNAL, "transcript: cannot format the time");
	return OFFCA_OK;
}

static offca_rc write_line(cer_transcript *t, const char *line, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int e;

	while (done < len) {
		n = write(t->fd, line + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(t->fd) != 0)
		goto fail;
	t->size += (off_t)len;
	return OFFCA_OK;
fail:
	e = errno;
	/* cut the file back to the last complete entry so an abort leaves a readable transcript */
	if (ftruncate(t->fd, t->size) != 0 || fsync(t->fd) != 0)
		t->broken = 1;
	return ut_err(ut_errno_rc(e), "%s: cannot write the transcript: %s", t->path, strerror(e));
}

/* Build, hash and write one entry. data is borrowed. */
static offca_rc append_entry(cer_transcript *t, const char *step, const char *event, json_t *data)
{
	offca_rc rc = OFFCA_E_NOMEM;
	json_t *entry = NULL;
	char *prev = NULL, *hash = NULL, *line = NULL;
	unsigned char h[32];
	const char *bad = NULL;
	char when[32];
	size_t len;

	if (t->broken)
		return ut_err(OFFCA_E_STATE, "%s: an earlier write failed; the transcript is closed", t->path);
	if (data != NULL && !json_is_object(data))
		return ut_err(OFFCA_E_USAGE, "transcript %s entry: data must be a JSON object", event);
	if (data != NULL && cer_tr_data_refused(data, &bad))
		return ut_err(OFFCA_E_USAGE, "transcript %s entry: refusing to record \"%s\" (no secrets, no "
			      "floating-point numbers in a transcript)", event, bad);
	if (strlen(step) > CER_TRANSCRIPT_MAX_NAME || strlen(event) > CER_TRANSCRIPT_MAX_NAME)
		return ut_err(OFFCA_E_USAGE, "transcript: step or event name too long");
	rc = now_rfc3339(when);
	if (rc != OFFCA_OK)
		return rc;
	rc = OFFCA_E_NOMEM;
	prev = ut_hex(t->head, 32);
	if (prev == NULL)
		goto out;
	entry = json_pack("{s:I,s:s,s:s,s:s,s:O?,s:s}", "seq", t->seq + 1, "time", when, "step", step,
			  "event", event, "data", data, "prev", prev);
	if (entry == NULL) {
		rc = ut_err(OFFCA_E_USAGE, "transcript %s entry: step or event is not valid UTF-8", event);
		goto out;
	}
	if (data == NULL && json_object_set_new(entry, "data", json_object()) != 0)
		goto out;
	rc = cer_tr_hash_entry(entry, h);
	if (rc != OFFCA_OK)
		goto out;
	rc = OFFCA_E_NOMEM;
	hash = ut_hex(h, 32);
	if (hash == NULL || json_object_set_new(entry, "hash", json_string(hash)) != 0)
		goto out;
	line = cer_tr_canon(entry);
	if (line == NULL)
		goto out;
	len = strlen(line);
	if (len + 1 > CER_TRANSCRIPT_MAX_LINE) {
		rc = ut_err(OFFCA_E_TOO_BIG, "transcript %s entry: %zu bytes is more than the %u allowed", event,
			    len + 1, CER_TRANSCRIPT_MAX_LINE);
		goto out;
	}
	line[len] = '\n'; /* replaces the NUL: the line is written with its length */
	rc = write_line(t, line, len + 1);
	if (rc != OFFCA_OK)
		goto out;
	t->seq++;
	memcpy(t->head, h, 32);
	rc = OFFCA_OK;
out:
	if (rc == OFFCA_E_NOMEM && ut_err_last() != OFFCA_E_NOMEM)
		ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
	json_decref(entry);
	free(prev);
	free(hash);
	free(line);
	return rc;
}

static offca_rc fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, r = -1, e = ENOMEM;

	if (copy != NULL) {
		fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			r = fsync(fd);
			close(fd);
		}
		e = errno;
	}
	free(copy);
	if (r != 0)
		return ut_err(ut_errno_rc(e), "%s: fsync of its directory: %s", path, strerror(e));
	return OFFCA_OK;
}

static offca_rc start_data(const char *name, const char *ceremony_file, json_t **out)
{
	unsigned char h[32];
	uint64_t size = 0;
	char *hex = NULL;
	json_t *d;
	offca_rc rc;

	*out = NULL;
	d = json_pack("{s:s,s:s,s:s}", "format", CER_TR_FORMAT, "ceremony", name, "offca_version",
		      OFFCA_VERSION);
	if (d == NULL)
		return ut_err(OFFCA_E_USAGE, "transcript: ceremony name is not valid UTF-8");
	if (ceremony_file != NULL) {
		rc = cer_tr_sha256_file(ceremony_file, h, &size);
		if (rc != OFFCA_OK) {
			json_decref(d);
			return rc;
		}
		hex = ut_hex(h, 32);
		if (hex == NULL || json_object_set_new(d, "ceremony_sha256", json_string(hex)) != 0 ||
		    json_object_set_new(d, "ceremony_file", json_string(ceremony_file)) != 0 ||
		    json_object_get(d, "ceremony_file") == NULL) {
			free(hex);
			json_decref(d);
			return ut_err(OFFCA_E_NOMEM, "transcript: out of memory (or a non-UTF-8 file name)");
		}
		free(hex);
	}
	*out = d;
	return OFFCA_OK;
}

offca_rc cer_transcript_create(const char *path, const char *ceremony_name, const char *ceremony_file,
			       cer_transcript **out)
{
	offca_rc rc = OFFCA_E_NOMEM;
	cer_transcript *t = NULL;
	json_t *data = NULL;
	int created = 0, e;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || ceremony_name == NULL || out == NULL || *path == '\0')
		return ut_err(OFFCA_E_USAGE, "cer_transcript_create: path, ceremony name and out are required");
	if (strlen(ceremony_name) > CER_TRANSCRIPT_MAX_NAME)
		return ut_err(OFFCA_E_USAGE, "ceremony name longer than %u bytes", CER_TRANSCRIPT_MAX_NAME);
	rc = start_data(ceremony_name, ceremony_file, &data);
	if (rc != OFFCA_OK)
		goto out;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
		goto out;
	}
	t->fd = -1;
	t->path = strdup(path);
	if (t->path == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
		goto out;
	}
	t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (t->fd < 0) {
		e = errno;
		rc = e == EEXIST ? ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it", path)
				 : ut_err(ut_errno_rc(e), "%s: %s", path, strerror(e));
		goto out;
	}
	created = 1;
	rc = fsync_parent(path);
	if (rc != OFFCA_OK)
		goto out;
	rc = append_entry(t, "", "start", data);
	if (rc != OFFCA_OK)
		goto out;
	*out = t;
	t = NULL;
	rc = OFFCA_OK;
out:
	if (t != NULL && created)
		unlink(path); /* nothing half-written: no transcript without its start entry */
	cer_transcript_free(t);
	json_decref(data);
	return rc;
}

static offca_rc check_open(cer_transcript *t, const char *step, const char *event)
{
	if (t == NULL || step == NULL || event == NULL || *event == '\0')
		return ut_err(OFFCA_E_USAGE, "transcript: handle, step and a non-empty event are required");
	if (t->finished)
		return ut_err(OFFCA_E_STATE, "%s: the transcript is finished; only signatures may follow", t->path);
	return OFFCA_OK;
}

offca_rc cer_transcript_append(cer_transcript *t, const char *step, const char *event, json_t *data)
{
	offca_rc rc = check_open(t, step, event);

	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(event, "start") == 0 || strcmp(event, "end") == 0 || strcmp(event, "signature") == 0 ||
	    strcmp(event, "output") == 0)
		return ut_err(OFFCA_E_USAGE, "transcript: \"%s\" entries are written by their own function", event);
	return append_entry(t, step, event, data);
}

offca_rc cer_transcript_add_output(cer_transcript *t, const char *step, const char *path)
{
	return cer_transcript_add_output_in(t, step, NULL, path);
}

offca_rc cer_transcript_add_output_in(cer_transcript *t, const char *step, const char *dir, const char *path)
{
	offca_rc rc = check_open(t, step, "output");
	unsigned char h[32];
	uint64_t size = 0;
	json_t *data = NULL;
	char *hex = NULL, full[PATH_MAX];
	int n;

	if (rc != OFFCA_OK)
		return rc;
	if (path == NULL || *path == '\0')
		return ut_err(OFFCA_E_USAGE, "transcript output: path required");
	if (dir != NULL && path[0] != '/')
		n = snprintf(full, sizeof(full), "%s/%s", dir, path);
	else
		n = snprintf(full, sizeof(full), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return ut_err(OFFCA_E_USAGE, "transcript output %s: path too long", path);
	rc = cer_tr_sha256_file(full, h, &size);
	if (rc != OFFCA_OK)
		return rc;
	hex = ut_hex(h, 32);
	if (hex == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
		goto out;
	}
	data = json_pack("{s:s,s:I,s:s}", "path", path, "size", (json_int_t)size, "sha256", hex);
	if (data == NULL) {
		rc = ut_err(OFFCA_E_USAGE, "transcript output %s: path is not valid UTF-8", path);
		goto out;
	}
	rc = append_entry(t, step, "output", data);
out:
	json_decref(data);
	free(hex);
	return rc;
}

offca_rc cer_transcript_head(const cer_transcript *t, unsigned char out[32])
{
	if (t == NULL || out == NULL)
		return ut_err(OFFCA_E_USAGE, "cer_transcript_head: NULL argument");
	memcpy(out, t->head, 32);
	return OFFCA_OK;
}

/* Used by transcript_sig.c: a signature entry may follow finish(). */
offca_rc cer_tr_append_signature(cer_transcript *t, json_t *data)
{
	return append_entry(t, "", "signature", data);
}

offca_rc cer_transcript_finish(cer_transcript *t, const char *status, const char *reason)
{
	offca_rc rc = check_open(t, "", "end");
	json_t *data = NULL;

	if (rc != OFFCA_OK)
		return rc;
	if (status == NULL || (strcmp(status, "completed") != 0 && strcmp(status, "aborted") != 0))
		return ut_err(OFFCA_E_USAGE, "transcript end: status must be \"completed\" or \"aborted\"");
	data = reason != NULL ? json_pack("{s:s,s:s}", "status", status, "reason", reason)
			      : json_pack("{s:s}", "status", status);
	if (data == NULL)
		return ut_err(OFFCA_E_USAGE, "transcript end: reason is not valid UTF-8");
	rc = append_entry(t, "", "end", data);
	if (rc == OFFCA_OK)
		t->finished = 1;
	json_decref(data);
	return rc;
}

void cer_transcript_free(cer_transcript *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(t);
}

/* The verified entries of an aborted transcript, its start entry's file and SHA-256, the next
   step. Errors: verification's, OFFCA_E_STATE (not aborted). */
static offca_rc load_aborted(const char *path, cer_verify_result *res, json_t **entries, const char **file,
			     const char **sha, unsigned *next_step)
{
	json_t *start, *e;
	size_t i;
	unsigned done = 0;
	offca_rc rc = cer_tr_load(path, NULL, 0, NULL, res, entries);

	if (rc != OFFCA_OK)
		return rc;
	if (strcmp(res->status, "aborted") != 0)
		return ut_err(OFFCA_E_STATE, "%s: the ceremony is %s, not aborted: nothing to resume", path, res->status);
	start = json_object_get(json_array_get(*entries, 0), "data");
	*file = json_string_value(json_object_get(start, "ceremony_file"));
	*sha = json_string_value(json_object_get(start, "ceremony_sha256"));
	if (*file == NULL || *sha == NULL)
		return ut_err(OFFCA_E_STATE, "%s: the start entry names no ceremony file to resume with", path);
	json_array_foreach(*entries, i, e) {
		unsigned s = (unsigned)strtoul(json_string_value(json_object_get(e, "step")) ?: "0", NULL, 10);
		if (strcmp(json_string_value(json_object_get(e, "event")) ?: "", "step-done") == 0 && s > done)
			done = s;
	}
	*next_step = done + 1;
	return OFFCA_OK;
}

offca_rc cer_transcript_resume_point(const char *path, char *ceremony_file, size_t cap, unsigned *next_step)
{
	cer_verify_result res;
	json_t *entries = NULL;
	const char *file = NULL, *sha = NULL;
	offca_rc rc = load_aborted(path, &res, &entries, &file, &sha, next_step);

	if (rc == OFFCA_OK)
		snprintf(ceremony_file, cap, "%s", file);
	json_decref(entries);
	return rc;
}

offca_rc cer_transcript_resume(const char *path, const char *ceremony_file, unsigned next_step, cer_transcript **out)
{
	cer_verify_result res;
	json_t *entries = NULL, *data = NULL;
	const char *file = NULL, *sha = NULL;
	unsigned char h[32];
	uint64_t size = 0;
	char *hex = NULL, *prev = NULL;
	unsigned next = 0;
	cer_transcript *t = NULL;
	struct stat sb;
	offca_rc rc;

	*out = NULL;
	rc = load_aborted(path, &res, &entries, &file, &sha, &next);
	if (rc == OFFCA_OK)
		rc = cer_tr_sha256_file(ceremony_file, h, &size);
	if (rc != OFFCA_OK)
		goto out;
	hex = ut_hex(h, 32);
	prev = ut_hex(res.head, 32);
	if (hex == NULL || prev == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
		goto out;
	}
	if (strcmp(hex, sha) != 0) {
		rc = ut_err(OFFCA_E_VERIFY, "%s: SHA-256 %s, but the aborted ceremony ran the file with SHA-256 %s: "
					    "resume only with the reviewed file, unchanged", ceremony_file, hex, sha);
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->path = strdup(path)) == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
		goto out;
	}
	t->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (t->fd < 0 || fstat(t->fd, &sb) != 0) {
		rc = ut_err(ut_errno_rc(errno), "%s: %s", path, strerror(errno));
		goto out;
	}
	t->size = sb.st_size;
	t->seq = (json_int_t)res.entries;
	memcpy(t->head, res.head, 32);
	data = json_pack("{s:s, s:s, s:i, s:i, s:s}", "ceremony_file", ceremony_file, "ceremony_sha256", hex,
			 "next_step", (int)next_step, "first_incomplete_step", (int)next, "previous_head", prev);
	rc = data ? append_entry(t, "", "resume", data) : ut_err(OFFCA_E_NOMEM, "transcript: out of memory");
	if (rc == OFFCA_OK) {
		*out = t;
		t = NULL;
	}
out:
	cer_transcript_free(t);
	json_decref(data);
	json_decref(entries);
	free(hex);
	free(prev);
	return rc;
}
