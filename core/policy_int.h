/* policy_int.h - internals shared by policy.c and policy_san.c (not public). */
#ifndef OFFCA_POLICY_INT_H
#define OFFCA_POLICY_INT_H

#include "offca/policy.h"

#include <stdint.h>

/* Check and normalize the requested SANs (NULL: none) and match the CN (may be "") against them;
   sets out->sans and out->cn_copied. chain (may be NULL): the issuing CAs whose name constraints
   each name must satisfy (checked right after its syntax, before the issuer's own SAN rules). */
offca_rc policy_check_sans(const ca_policy *pol, const STACK_OF(X509) *chain, const GENERAL_NAMES *req,
			   const char *cn, ca_request *out);

/* The subject (directoryName, a CN that is a name) against every CA of chain; sans (the request's
   normalized SANs) are not checked again, they only say whether a DNS SAN exists. */
offca_rc policy_nc_subject(const STACK_OF(X509) *chain, const X509_NAME *subject, const GENERAL_NAMES *sans);

/* One normalized name against the name constraints of every CA of chain (NULL: none). */
offca_rc policy_nc_name(const STACK_OF(X509) *chain, const GENERAL_NAME *gn);

/* 1 when UTF-8 text (n bytes) holds a character a reader cannot see (Unicode Cf such as U+202E,
   U+200B, U+FEFF; C1 controls; U+2028/2029; fillers, variation selectors) or is not valid
   UTF-8; *cp is the offending code point (or byte). 0 otherwise. */
int policy_hidden_char(const char *text, size_t n, uint32_t *cp);

#endif
