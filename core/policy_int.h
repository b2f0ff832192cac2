/* policy_int.h - internals shared by policy.c and policy_san.c (not public). */
#ifndef OFFCA_POLICY_INT_H
#define OFFCA_POLICY_INT_H

#include "offca/policy.h"

/* Check and normalize the requested SANs (NULL: none) and match the CN (may be "") against them;
   sets out->sans and out->cn_copied. */
offca_rc policy_check_sans(const ca_policy *pol, const GENERAL_NAMES *req, const char *cn, ca_request *out);

#endif
