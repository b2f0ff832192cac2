/* policy_int.h - internals shared by policy.c and policy_san.c (not public). */
#ifndef OFFCA_POLICY_INT_H
#define OFFCA_POLICY_INT_H

#include "offca/policy.h"

#include <stdint.h>

/* The decoded name constraints of a chain's CAs (only those that have some), decoded once per
   request. */
#define POLICY_NC_MAX 16
typedef struct policy_ncs {
	size_t n;
	NAME_CONSTRAINTS *nc[POLICY_NC_MAX]; /* owned */
	X509 *ca[POLICY_NC_MAX];             /* borrowed from the chain */
} policy_ncs;

/* Decode the nameConstraints of every CA of chain (NULL: none) into *out (clear it with
   policy_ncs_clear). OFFCA_E_POLICY for one that does not decode or a chain over 16. */
offca_rc policy_ncs_load(const STACK_OF(X509) *chain, policy_ncs *out);
void policy_ncs_clear(policy_ncs *s);

/* Check and normalize the requested SANs (NULL: none) and match the CN (may be "") against them;
   sets out->sans and out->cn_copied. ncs (may be NULL): the issuing CAs' name constraints each
   name must satisfy (checked right after its syntax, before the issuer's own SAN rules). */
offca_rc policy_check_sans(const ca_policy *pol, const policy_ncs *ncs, const GENERAL_NAMES *req,
			   const char *cn, ca_request *out);

/* The subject (directoryName, a CN that is a name) against ncs; sans (the request's normalized
   SANs) are not checked again, they only say whether a DNS SAN exists. */
offca_rc policy_nc_subject(const policy_ncs *ncs, const X509_NAME *subject, const GENERAL_NAMES *sans);

/* One normalized name against ncs (NULL: nothing to check). */
offca_rc policy_nc_name(const policy_ncs *ncs, const GENERAL_NAME *gn);

/* 1 when UTF-8 text (n bytes) holds a character a reader cannot see (Unicode Cf such as U+202E,
   U+200B, U+FEFF; C1 controls; U+2028/2029; fillers, variation selectors) or is not valid
   UTF-8; *cp is the offending code point (or byte). 0 otherwise. */
int policy_hidden_char(const char *text, size_t n, uint32_t *cp);

#endif
