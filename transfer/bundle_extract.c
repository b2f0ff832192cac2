/* bundle_extract.c - write a bundle's items into a directory under names offca makes up. */
#include "bundle_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "offca/util.h"

/* DIR/NN-name: the number makes names unique, the name is sanitized again (never a path). */
static offca_rc target_path(const char *dir, size_t i, const xfr_item *it, char *out, size_t cap)
{
	char safe[XFR_MAX_NAME + 1];
	int n;

	xfr_name_sanitize(it->name, safe);
	n = snprintf(out, cap, "%s/%02zu-%s", dir, i + 1, safe);
	if (n < 0 || (size_t)n >= cap)
		return ut_err(OFFCA_E_USAGE, "%s: output path too long", dir);
	return OFFCA_OK;
}

offca_rc xfr_bundle_extract(const xfr_bundle *b, const char *dir)
{
	offca_rc rc;
	char path[PATH_MAX];

	rc = ut_mkdir_p(dir, 0700);
	if (rc != OFFCA_OK)
		return rc;
	for (size_t i = 0; i < b->n_items; i++) {
		rc = target_path(dir, i, &b->items[i], path, sizeof(path));
		if (rc != OFFCA_OK)
			return rc;
		if (ut_path_exists(path) == OFFCA_OK)
			return ut_err(OFFCA_E_EXISTS, "%s already exists; refusing to overwrite it (nothing extracted)",
				      path);
	}
	for (size_t i = 0; i < b->n_items; i++) {
		rc = target_path(dir, i, &b->items[i], path, sizeof(path));
		if (rc == OFFCA_OK)
			rc = ut_write_file(path, b->items[i].data, b->items[i].len, UT_WF_EXCL);
		if (rc != OFFCA_OK)
			return rc;
	}
	return OFFCA_OK;
}
