/*
 * offca/profile.h - certificate profiles (prefix ca_profile_). docs/profiles.md describes each.
 *
 *   server        leaf: KU digitalSignature (+keyEncipherment for RSA keys only), EKU serverAuth
 *   client        leaf: KU digitalSignature (+keyEncipherment for RSA), EKU clientAuth
 *   mtls          leaf: both EKUs
 *   root          self-signed CA: basicConstraints CA:TRUE critical, KU keyCertSign+cRLSign critical
 *   intermediate  CA signed by another CA: as root, plus optional pathLen and DNS name constraints
 * Every profile gets SKI and AKI (keyIdentifier); leaves get basicConstraints CA:FALSE (critical)
 * and, when configured, AIA (caIssuers, OCSP) and a CRL distribution point.
 */
#ifndef OFFCA_PROFILE_H
#define OFFCA_PROFILE_H

#include "offca/err.h"

typedef enum ca_profile {
	CA_PROFILE_SERVER = 0,
	CA_PROFILE_CLIENT,
	CA_PROFILE_MTLS,
	CA_PROFILE_ROOT,
	CA_PROFILE_INTERMEDIATE,
} ca_profile;

/* "server" | "client" | "mtls" | "root" | "intermediate" -> enum. leaf_only: refuse the CA
   profiles. Errors: OFFCA_E_USAGE (detail lists the allowed names). */
offca_rc ca_profile_parse(const char *name, int leaf_only, ca_profile *out);
/* Name of a profile (static string). */
const char *ca_profile_name(ca_profile p);
/* 1 for root and intermediate. */
int ca_profile_is_ca(ca_profile p);

#endif
