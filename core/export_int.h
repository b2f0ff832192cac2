/* export_int.h - what export_k8s.c shares with export_sops.c. Internal to core. */
#ifndef OFFCA_EXPORT_INT_H
#define OFFCA_EXPORT_INT_H

#include "offca/export.h"

/* Growable text; secret text is wiped when freed (ex_text_free). */
typedef struct ex_text { char *p; size_t len, cap; } ex_text;
offca_rc ex_text_add(ex_text *t, const char *s, size_t len);
offca_rc ex_text_str(ex_text *t, const char *s);
void ex_text_free(ex_text *t);

/* Base64 (standard, padded, one line) of len bytes into a new NUL-terminated string. */
offca_rc ex_b64(const unsigned char *p, size_t len, char **out);

/*
 * Called for each Secret data value (key "ca.crt", "tls.crt", "tls.key"; b64 its base64 text, ""
 * for an empty tls.key): appends the value as it goes into the YAML (plain, or SOPS's ENC[...]).
 */
typedef offca_rc (*ex_value_fn)(void *arg, const char *key, const char *b64, ex_text *out);

/*
 * The Secret's YAML in kubectl's field order, map indentation ind (kubectl 2, sops 4), each data
 * value through fn. The plain values "v1", the base64 values, "Secret", name, ns and
 * "kubernetes.io/tls" are what SOPS's MAC covers, in this order.
 */
offca_rc ex_secret_yaml(const ca_export_item *it, const char *name, const char *ns, int ind, ex_value_fn fn,
			void *arg, ex_text *out);

/* name a Kubernetes object name, ns (may be NULL) a namespace? Errors: OFFCA_E_USAGE naming which. */
offca_rc ex_check_names(const char *name, const char *ns);

/* Make every item's directory name unique within the run (a second "x" becomes "x-SERIAL"). */
void ex_unique_names(ca_export_item *items, size_t n);

#endif
