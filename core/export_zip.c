/*
 * export_zip.c - the certbot layout of several certificates as one ZIP (libzip), built in memory
 * and written with ut_write_file(UT_WF_EXCL): complete or absent, never replacing a file.
 */
#include "export_int.h"
#include "offca/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

static offca_rc zip_rc(zip_t *za, const char *what)
{
	return ut_err(OFFCA_E_IO, "ZIP: %s: %s", what, za ? zip_strerror(za) : "cannot start the archive");
}

/* Add one file (data copied by libzip only at close: it must stay valid until then). */
static offca_rc add_file(zip_t *za, const char *dir, const ca_export_file *f)
{
	char name[CA_EXPORT_MAX_NAME + 32];
	zip_source_t *src;
	zip_int64_t idx;

	snprintf(name, sizeof(name), "%s/%s", dir, f->name);
	src = zip_source_buffer(za, f->data, f->len, 0);
	if (src == NULL)
		return zip_rc(za, name);
	idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		return zip_rc(za, name);
	}
	if (zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
					     ((zip_uint32_t)(S_IFREG | f->mode)) << 16) != 0 ||
	    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6) != 0)
		return zip_rc(za, name);
	return OFFCA_OK;
}

static offca_rc add_items(zip_t *za, const ca_export_item *items, size_t n)
{
	ca_export_file files[CA_EXPORT_MAX_FILES];
	size_t nf = 0;
	offca_rc rc = OFFCA_OK;

	for (size_t i = 0; i < n && rc == OFFCA_OK; i++) {
		if (zip_dir_add(za, items[i].name, ZIP_FL_ENC_UTF_8) < 0)
			return zip_rc(za, items[i].name);
		ca_export_layout_files(&items[i], files, &nf);
		for (size_t k = 0; k < nf && rc == OFFCA_OK; k++)
			rc = add_file(za, items[i].name, &files[k]);
	}
	return rc;
}

/* The finished archive's bytes from the buffer source. *out: malloc'd. */
static offca_rc read_source(zip_source_t *src, unsigned char **out, size_t *len)
{
	zip_stat_t zs;
	unsigned char *buf = NULL;
	zip_int64_t got;

	zip_stat_init(&zs);
	if (zip_source_stat(src, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE) || zip_source_open(src) != 0)
		return ut_err(OFFCA_E_IO, "ZIP: cannot read the finished archive");
	buf = malloc(zs.size ? zs.size : 1);
	got = buf ? zip_source_read(src, buf, zs.size) : -1;
	zip_source_close(src);
	if (got < 0 || (zip_uint64_t)got != zs.size) {
		free(buf);
		return ut_err(OFFCA_E_IO, "ZIP: cannot read the finished archive");
	}
	*out = buf;
	*len = (size_t)zs.size;
	return OFFCA_OK;
}

offca_rc ca_export_write_zip(const char *path, ca_export_item *items, size_t n)
{
	zip_error_t ze;
	zip_source_t *src = NULL;
	zip_t *za = NULL;
	unsigned char *bytes = NULL;
	size_t len = 0;
	int secret = 0;
	offca_rc rc;

	if (ut_path_exists(path) == OFFCA_OK)
		return ut_err(OFFCA_E_EXISTS, "%s exists: refusing to overwrite it", path);
	ex_unique_names(items, n);
	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL ||
	    (za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL) {
		rc = ut_err(OFFCA_E_IO, "ZIP: %s", zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	zip_source_keep(src);
	if ((rc = add_items(za, items, n)) != OFFCA_OK) {
		zip_discard(za);
		zip_source_free(src);
		return rc;
	}
	if (zip_close(za) != 0) {
		rc = zip_rc(za, "close");
		zip_discard(za);
		zip_source_free(src);
		return rc;
	}
	rc = read_source(src, &bytes, &len);
	zip_source_free(src);
	for (size_t i = 0; i < n; i++)
		secret |= items[i].key.p != NULL;
	if (rc == OFFCA_OK)
		rc = ut_write_file(path, bytes, len, UT_WF_EXCL | (secret ? UT_WF_SECRET : 0));
	if (bytes != NULL)
		ut_free_secret(bytes, len);
	return rc;
}
