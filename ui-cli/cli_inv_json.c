/* cli_inv_json.c - the --json summary line of offca metrics, inventory export and report. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>

#include "offca/inventory.h"
#include "offca/util.h"

int cli_inv_counts_json(const char *path, const char *sha256, const ca_inv_counts *c)
{
	json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "path", path, "certificates", (json_int_t)c->certs,
			      "valid", (json_int_t)c->valid, "revoked", (json_int_t)c->revoked, "expired",
			      (json_int_t)c->expired, "pendingCsrs", (json_int_t)c->pending, "crls", (json_int_t)c->crls,
			      "series", (json_int_t)c->series);
	char *s;

	if (j != NULL && sha256 != NULL)
		json_object_set_new(j, "sha256", json_string(sha256));
	s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (s == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	printf("%s\n", s);
	free(s);
	return 0;
}
