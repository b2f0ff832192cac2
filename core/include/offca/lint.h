/*
 * offca/lint.h - RFC 5280 and CA/Browser Forum baseline lints for what offca signs (prefix ca_lint_).
 *
 * Every certificate is linted after signing and before its record is committed; a failing lint
 * stops `offca sign` and the serial is voided. Lint names follow zlint's style: "e_..." are errors,
 * "w_..." warnings (reported, never blocking). A caller (a ceremony file) may accept named lints:
 * an accepted error is reported but does not fail. docs/policy.md lists every lint.
 *
 * Certificate lints: e_version_not_v3, e_serial_not_positive, e_serial_too_long,
 * e_serial_too_short, e_validity_order, e_leaf_validity_too_long, e_time_encoding,
 * e_validity_outside_issuer, e_unique_id_present, e_duplicate_extension,
 * e_basic_constraints_missing, e_basic_constraints_not_critical, e_ca_key_usage_missing,
 * e_ca_key_cert_sign_missing, e_ca_crl_sign_missing, e_key_usage_not_critical,
 * e_leaf_is_ca, e_leaf_key_cert_sign, e_leaf_path_len, e_ec_key_encipherment, e_ed25519_key_usage,
 * e_ed25519_params, e_ski_missing,
 * e_aki_missing, e_aki_mismatch, e_issuer_dn_mismatch, e_san_missing, e_san_not_critical_empty_subject,
 * e_cn_not_in_san, e_eku_missing, e_eku_any, e_subject_string_type, e_subject_empty_ca,
 * e_rsa_key_too_small, e_ec_curve, e_signature_alg_mismatch, w_name_constraints_not_critical,
 * w_root_path_len.
 * CRL lints: e_crl_version_not_v2, e_crl_number_missing, e_crl_number_critical, e_crl_aki_missing,
 * e_crl_aki_mismatch, e_crl_next_update_missing, e_crl_next_update_order, e_crl_time_encoding,
 * e_crl_issuer_mismatch, e_crl_signature_alg_missing, e_crl_entry_serial_not_positive,
 * w_crl_reason_unspecified.
 */
#ifndef OFFCA_LINT_H
#define OFFCA_LINT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#include "offca/err.h"

typedef enum ca_lint_level { CA_LINT_ERROR = 0, CA_LINT_WARN = 1 } ca_lint_level;

typedef struct ca_lint_finding {
	char name[48];        /* "e_serial_too_long" */
	char detail[200];     /* human detail */
	ca_lint_level level;
	int accepted;         /* an error the caller accepted */
} ca_lint_finding;

typedef struct ca_lint_result {
	ca_lint_finding *items; /* owned array */
	size_t n;
	size_t n_errors;        /* errors not accepted */
} ca_lint_result;

typedef struct ca_lint_opts {
	const char *const *accept; /* lint names the caller accepts (may be NULL) */
	size_t n_accept;
	unsigned leaf_max_days;    /* 0: 397 */
} ca_lint_opts;

/*
 * Lint cert, signed by issuer (NULL for a self-signed certificate). opts may be NULL.
 * *out always receives the findings (clear with ca_lint_result_clear()), also on failure.
 * Returns OFFCA_OK when there is no unaccepted error, else OFFCA_E_LINT with a detail naming the
 * first failing lint ("lint e_serial_too_long: ..."). OFFCA_E_NOMEM.
 */
offca_rc ca_lint_cert(X509 *cert, X509 *issuer, const ca_lint_opts *opts, ca_lint_result *out);

/* Same for a CRL issued by issuer (required). */
offca_rc ca_lint_crl(X509_CRL *crl, X509 *issuer, const ca_lint_opts *opts, ca_lint_result *out);

void ca_lint_result_clear(ca_lint_result *r);

#endif
