/*
 * offca/config.h - the CA home's config.json (prefix ca_). Owner: the X.509 engineer.
 *
 * config.json (mode 0600) holds nothing secret: issuer-independent defaults and optional
 * per-issuer sections that override them key by key. Parsing is strict: an unknown key, a wrong
 * type or an out-of-range value is refused with a detail naming the field path
 * ("issuers.int-1.policy.rsa_min_bits: must be 2048..16384"). See docs/policy.md for every key.
 *
 *   {
 *     "version": 1,
 *     "defaults": {
 *       "policy": { "key_types": ["rsa","ec"], "rsa_min_bits": 2048, "ec_curves": ["P-256","P-384"],
 *                   "dns_suffixes": [], "allow_ip_san": true, "ip_ranges": [], "allow_email_san": false,
 *                   "allow_uri_san": false, "allow_wildcard": true, "san_required": true,
 *                   "cn_only": "copy-cn-to-san", "leaf_days_default": 90, "leaf_days_max": 397 },
 *       "aia_ca_issuers_url": "", "ocsp_url": "", "crl_dp_url": "", "crl_days": 7,
 *       "renew_before_days": 30, "renew_before_days_by_profile": { "server": 20 },
 *       "transfer": { "require_signed": false }
 *     },
 *     "issuers": { "int-2026": { "policy": { "dns_suffixes": ["corp.example"] } } }
 *   }
 * "transfer" exists only in "defaults" (it is about the CA home, not an issuer).
 */
#ifndef OFFCA_CONFIG_H
#define OFFCA_CONFIG_H

#include <stddef.h>

#include "offca/err.h"

#define CA_CONFIG_FILE        "config.json"
#define CA_CONFIG_MAX_BYTES   (256u * 1024u)  /* config.json larger than this is refused */
#define CA_POLICY_MAX_SUFFIX  64              /* entries in dns_suffixes */
#define CA_POLICY_SUFFIX_LEN  254             /* bytes per suffix (a DNS name) */
#define CA_CONFIG_URL_LEN     1024            /* bytes per URL */
#define CA_POLICY_MAX_IP_RANGES 64            /* entries in ip_ranges */
#define CA_CONFIG_N_PROFILES  5               /* ca_profile values (offca/profile.h) */

/* What to do with a CSR that carries a CN but no SAN (Java keytool without -ext SAN=). */
typedef enum ca_cn_only {
	CA_CN_ONLY_COPY = 0,   /* "copy-cn-to-san": put the CN into a DNS SAN (after SAN checks) */
	CA_CN_ONLY_REFUSE = 1, /* "refuse": refuse with rule "cn-only" */
} ca_cn_only;

/* One entry of ip_ranges: "10.0.0.0/8" (len 4) or "fd00::/8" (len 16), host bits zero. */
typedef struct ca_ip_range {
	unsigned char addr[16];
	size_t len;                   /* 4 (IPv4) or 16 (IPv6) */
	unsigned prefix;              /* 0..32 or 0..128 */
} ca_ip_range;

/* Issuance policy of one issuer (leaf certificates signed by it). */
typedef struct ca_policy {
	int allow_rsa;                /* key_types contains "rsa" */
	int allow_ec;                 /* key_types contains "ec" */
	int allow_ed25519;            /* key_types contains "ed25519" (not by default) */
	unsigned rsa_min_bits;        /* rsa_min_bits, 2048..16384 */
	int allow_p256, allow_p384;   /* ec_curves: "P-256", "P-384" (nothing weaker exists here) */
	char dns_suffixes[CA_POLICY_MAX_SUFFIX][CA_POLICY_SUFFIX_LEN + 1]; /* empty list: any name */
	size_t n_dns_suffixes;
	int allow_ip_san, allow_email_san, allow_uri_san;
	ca_ip_range ip_ranges[CA_POLICY_MAX_IP_RANGES]; /* IP SANs must fall in one; empty: any */
	size_t n_ip_ranges;
	int allow_wildcard;           /* "*.example.com" SANs */
	int san_required;             /* a leaf must end up with at least one SAN */
	ca_cn_only cn_only;
	unsigned leaf_days_default;   /* used when --days is not given */
	unsigned leaf_days_max;       /* --days above this is refused (rule "max-validity"), <= 397 */
} ca_policy;

/* Effective settings of one issuer: the defaults with its section applied over them. */
typedef struct ca_issuer_cfg {
	char name[64];                        /* "" for the defaults */
	ca_policy policy;
	char aia_ca_issuers_url[CA_CONFIG_URL_LEN]; /* AIA caIssuers URL ("" = none) */
	char ocsp_url[CA_CONFIG_URL_LEN];     /* AIA OCSP URL ("" = none) */
	char crl_dp_url[CA_CONFIG_URL_LEN];   /* CRL distribution point URL ("" = none) */
	unsigned crl_days;                    /* default CRL validity (nextUpdate - thisUpdate), days */
	int touch;                            /* "touch": the issuer key's touch policy, a tok_touch_mode
					         (never 0, always 1, cached 2); default never */
	unsigned touch_timeout;               /* "touch_timeout": seconds to wait for it, 1..600 (20) */
	unsigned renew_before_days;           /* "renew_before_days": a leaf is due for renewal this many
						 days before its notAfter, 1..3650 (30); offca list --due */
	unsigned renew_before_profile[CA_CONFIG_N_PROFILES]; /* "renew_before_days_by_profile":
						 {"server": 20}: per profile (index ca_profile), 0: unset */
} ca_issuer_cfg;

/* renew_before_days for a leaf of profile (ca_profile_name text; unknown: the issuer's value). */
unsigned ca_config_renew_before(const ca_issuer_cfg *c, const char *profile);

typedef struct ca_config ca_config;

/*
 * Write the default config.json into the CA home directory home (which must exist), mode 0600,
 * never overwriting. Called by `offca init`.
 * Errors: OFFCA_E_EXISTS (a config is already there), OFFCA_E_IO, OFFCA_E_DISK_FULL, OFFCA_E_PERM,
 * OFFCA_E_NOMEM.
 */
offca_rc ca_config_write_default(const char *home);

/*
 * Load and validate home/config.json. On success *out is a new config (free with ca_config_free).
 * Commands with the store open use ca_config_load_for_store(), which also checks issuer names.
 * A missing file is OFFCA_E_STATE ("run offca init"). Refuses a config readable by group/other
 * (OFFCA_E_PERM). Errors: OFFCA_E_PARSE (detail names the field path), OFFCA_E_TOO_BIG,
 * OFFCA_E_IO, OFFCA_E_NOMEM.
 */
offca_rc ca_config_load(const char *home, ca_config **out);

/* Parse config JSON text (no file access): same rules as ca_config_load. */
offca_rc ca_config_parse(const char *text, size_t len, ca_config **out);

void ca_config_free(ca_config *cfg);

/* The built-in defaults (what ca_config_write_default writes), e.g. for tests. Never fails. */
void ca_config_defaults(ca_issuer_cfg *out);

/*
 * Effective settings for issuer name (NULL or unknown name: the defaults). Borrowed pointer, valid
 * until ca_config_free. Never NULL.
 */
const ca_issuer_cfg *ca_config_issuer(const ca_config *cfg, const char *name);

/*
 * Refuse a config whose "issuers" section names an issuer that is not in known (n names): such a
 * section would silently never apply ("issuers.Int1" when the issuer is "int1"). Errors:
 * OFFCA_E_PARSE ("config issuers.Int1: no issuer is named 'Int1' ...").
 */
offca_rc ca_config_check_issuers(const ca_config *cfg, const char *const *known, size_t n);

/*
 * ca_config_load(), then ca_config_check_issuers() against the issuers of the store st plus the
 * names in extra (n_extra; issuers the running command is about to create, whose section may be
 * written beforehand). What every command that loads the config with a store open calls.
 * Errors: those of ca_config_load(), ca_config_check_issuers(), ca_store_issuer_list().
 */
struct ca_store;
offca_rc ca_config_load_for_store(const char *home, struct ca_store *st, const char *const *extra,
				  size_t n_extra, ca_config **out);

/*
 * An intermediate named issuer was made with name constraints permitting the DNS subtrees dns (n;
 * a leading dot is dropped): set issuers.<issuer>.policy.dns_suffixes to them in home/config.json,
 * unless the file already has that key (then the operator's value wins and nothing is written).
 * The new file is checked with ca_config_parse() and replaces the old atomically (0600).
 * *written: 1 when the file was changed. Errors: OFFCA_E_PARSE (the file or a section on the way
 * is not what config.json must be), OFFCA_E_IO, OFFCA_E_DISK_FULL, OFFCA_E_PERM, OFFCA_E_NOMEM.
 */
offca_rc ca_config_adopt_permit_dns(const char *home, const char *issuer, const char *const *dns, size_t n,
				    int *written);

/*
 * defaults.transfer.require_signed (default false): 1 when `offca bundle import` must refuse an
 * inbound bundle that is not signed by an enrolled operator (unsigned bundles are otherwise
 * taken on their integrity check alone). cfg NULL: 0. Never fails.
 */
int ca_config_transfer_require_signed(const ca_config *cfg);

/* "copy-cn-to-san" / "refuse" for a ca_cn_only value. */
const char *ca_cn_only_name(ca_cn_only v);

#endif
