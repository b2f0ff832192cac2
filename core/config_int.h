/* config_int.h - internals shared by config.c and config_ranges.c (not public). */
#ifndef OFFCA_CONFIG_INT_H
#define OFFCA_CONFIG_INT_H

#include <jansson.h>

#include "offca/config.h"

/* <path>.ip_ranges: an array of at most CA_POLICY_MAX_IP_RANGES CIDR strings ("10.0.0.0/8",
   "fd00::/8"; host bits must be zero) into p->ip_ranges. Errors: OFFCA_E_PARSE naming the entry. */
offca_rc ca_config_parse_ip_ranges(json_t *v, const char *path, ca_policy *p);

#endif
