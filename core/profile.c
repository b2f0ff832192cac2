/* profile.c - profile names. The extensions each profile gets are built in x509_ext.c. */
#include "offca/profile.h"
#include "offca/util.h"

#include <string.h>

static const char *const names[] = {"server", "client", "mtls", "root", "intermediate"};

offca_rc ca_profile_parse(const char *name, int leaf_only, ca_profile *out)
{
	size_t n = leaf_only ? 3 : sizeof(names) / sizeof(names[0]);

	for (size_t i = 0; name != NULL && i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (ca_profile)i;
			return OFFCA_OK;
		}
	}
	return ut_err(OFFCA_E_USAGE, "unknown profile '%s' (use %s)", name ? name : "",
		      leaf_only ? "server, client or mtls" : "server, client, mtls, root or intermediate");
}

const char *ca_profile_name(ca_profile p)
{
	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

int ca_profile_is_ca(ca_profile p)
{
	return p == CA_PROFILE_ROOT || p == CA_PROFILE_INTERMEDIATE;
}
