/* config_store.c - the config as commands load it beside the store: every issuer section must
   name an issuer that exists (or that the command is creating). */
#include "offca/config.h"
#include "offca/store.h"
#include "offca/util.h"

#include <stdlib.h>

offca_rc ca_config_load_for_store(const char *home, ca_store *st, const char *const *extra, size_t n_extra,
				  ca_config **out)
{
	ca_issuer *list = NULL;
	size_t n = 0, k = 0;
	const char **names = NULL;
	ca_config *cfg = NULL;
	offca_rc rc;

	*out = NULL;
	if ((rc = ca_config_load(home, &cfg)) != OFFCA_OK || (rc = ca_store_issuer_list(st, &list, &n)) != OFFCA_OK)
		goto out;
	names = calloc(n + n_extra + 1, sizeof(*names));
	if (names == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		names[k++] = list[i].name;
	for (size_t i = 0; i < n_extra; i++)
		if (extra[i] != NULL && extra[i][0] != '\0')
			names[k++] = extra[i];
	if ((rc = ca_config_check_issuers(cfg, names, k)) != OFFCA_OK)
		goto out;
	*out = cfg;
	cfg = NULL;
out:
	free(names);
	ca_issuer_list_free(list, n);
	ca_config_free(cfg);
	return rc;
}
