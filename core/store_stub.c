/* store_stub.c - TEMPORARY skeleton of offca/store.h: every function fails with
   OFFCA_E_UNSUPPORTED until the real store lands (replaced by store_*.c). */
#include "offca/store.h"
#include "offca/util.h"

#include <stdlib.h>
#include <string.h>

#define NI(name) ut_err(OFFCA_E_UNSUPPORTED, "%s: store not implemented yet", name)

offca_rc ca_store_open(const char *home, int create, ca_store **out) { return ca_store_open_ex(home, create, 0, out); }
offca_rc ca_store_open_ex(const char *home, int create, size_t map_size, ca_store **out) { *out = NULL; return NI("ca_store_open"); }
void ca_store_free(ca_store *st) { (void)st; }
const char *ca_store_home(const ca_store *st) { return ""; }
offca_rc ca_store_issuer_add(ca_store *st, const ca_issuer *iss) { return NI("ca_store_issuer_add"); }
offca_rc ca_store_issuer_get(ca_store *st, const char *name, ca_issuer *out) { return NI("ca_store_issuer_get"); }
offca_rc ca_store_issuer_default(ca_store *st, ca_issuer *out) { return NI("ca_store_issuer_default"); }
offca_rc ca_store_issuer_list(ca_store *st, ca_issuer **out, size_t *n) { return NI("ca_store_issuer_list"); }
void ca_issuer_clear(ca_issuer *iss) { if (iss) { free(iss->der); memset(iss, 0, sizeof(*iss)); } }
void ca_issuer_list_free(ca_issuer *arr, size_t n) { for (size_t i = 0; arr && i < n; i++) ca_issuer_clear(&arr[i]); free(arr); }
offca_rc ca_store_serial_reserve(ca_store *st, const char *issuer, size_t n, ca_serial *out) { return NI("ca_store_serial_reserve"); }
offca_rc ca_store_serial_void(ca_store *st, const ca_serial *serials, size_t n, const char *why) { return NI("ca_store_serial_void"); }
offca_rc ca_store_serial_state(ca_store *st, const ca_serial *s, int *state) { return NI("ca_store_serial_state"); }
char *ca_serial_hex(const ca_serial *s, char *buf, size_t cap) { if (cap) buf[0] = 0; return buf; }
offca_rc ca_serial_parse(const char *hex, ca_serial *out) { return NI("ca_serial_parse"); }
offca_rc ca_cert_record_from_der(const unsigned char *der, size_t len, const char *issuer, const char *profile, const char *source, ca_cert_record *out) { return NI("ca_cert_record_from_der"); }
void ca_cert_record_clear(ca_cert_record *r) { (void)r; }
offca_rc ca_store_cert_commit(ca_store *st, const ca_cert_record *recs, size_t n) { return NI("ca_store_cert_commit"); }
offca_rc ca_store_cert_by_serial(ca_store *st, const ca_serial *s, ca_cert_record *out) { return NI("ca_store_cert_by_serial"); }
offca_rc ca_store_cert_by_fingerprint(ca_store *st, const unsigned char sha256[32], ca_cert_record *out) { return NI("ca_store_cert_by_fingerprint"); }
offca_rc ca_store_cert_find(ca_store *st, const char *serial_or_fp, ca_cert_record *out) { return NI("ca_store_cert_find"); }
offca_rc ca_store_cert_each(ca_store *st, const char *issuer, int64_t expiring_before, int revoked_only, ca_cert_cb cb, void *arg) { return NI("ca_store_cert_each"); }
offca_rc ca_store_cert_by_san(ca_store *st, const char *san, ca_cert_cb cb, void *arg) { return NI("ca_store_cert_by_san"); }
offca_rc ca_store_cert_count(ca_store *st, size_t *n) { return NI("ca_store_cert_count"); }
offca_rc ca_store_revoke(ca_store *st, const ca_serial *s, int reason, int64_t when) { return NI("ca_store_revoke"); }
int ca_reason_code(const char *name) { return -1; }
const char *ca_reason_name(int code) { return NULL; }
offca_rc ca_store_crl_next_number(ca_store *st, const char *issuer, uint64_t *out) { return NI("ca_store_crl_next_number"); }
offca_rc ca_store_crl_record(ca_store *st, const char *issuer, uint64_t number, int64_t this_update, int64_t next_update, const unsigned char *der, size_t len) { return NI("ca_store_crl_record"); }
offca_rc ca_store_crl_current(ca_store *st, const char *issuer, uint64_t *number, int64_t *this_update, int64_t *next_update, unsigned char **der, size_t *len) { return NI("ca_store_crl_current"); }
offca_rc ca_store_pending_add(ca_store *st, const unsigned char *const *ders, const size_t *lens, size_t n, const char *source, uint64_t *ids_out) { return NI("ca_store_pending_add"); }
offca_rc ca_store_pending_list(ca_store *st, ca_pending **out, size_t *n) { return NI("ca_store_pending_list"); }
offca_rc ca_store_pending_get(ca_store *st, uint64_t id, ca_pending *out) { return NI("ca_store_pending_get"); }
offca_rc ca_store_pending_remove(ca_store *st, uint64_t id) { return NI("ca_store_pending_remove"); }
void ca_pending_clear(ca_pending *p) { if (p) { free(p->der); memset(p, 0, sizeof(*p)); } }
void ca_pending_list_free(ca_pending *arr, size_t n) { for (size_t i = 0; arr && i < n; i++) ca_pending_clear(&arr[i]); free(arr); }
offca_rc ca_store_audit(ca_store *st, const char *action, const char *detail) { return NI("ca_store_audit"); }
offca_rc ca_store_audit_verify(ca_store *st, uint64_t *count) { return NI("ca_store_audit_verify"); }
offca_rc ca_store_audit_each(ca_store *st, uint64_t from, ca_audit_cb cb, void *arg) { return NI("ca_store_audit_each"); }
