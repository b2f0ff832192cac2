#!/usr/bin/env bash
# e2e: offca metrics --textfile DIR. The file is checked by Prometheus' own promtool, then served by
# a real prometheus-node-exporter (Debian package) with only its textfile collector, on a free port
# of 127.0.0.1, and the values it serves are compared with the store (openssl reads the issued
# certificates and the CRL). Expiry is checked with the clock moved by faketime.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/monitoring_env.sh"
need promtool
need prometheus-node-exporter
need curl
mon_setup

# ---- bad input: one line, non-zero, nothing written ----
expect_fail "metrics without --textfile" "$OFFCA" metrics
expect_err_match "textfile is required"
expect_fail "metrics into a missing directory" "$OFFCA" metrics --textfile "$T/nothere"
expect_err_match "does not exist"
[ ! -e "$T/nothere" ] || fail "metrics created the missing directory"
expect_fail "metrics --keep-expired junk" "$OFFCA" metrics --textfile "$T" --keep-expired soon
"$OFFCA" metrics --help | grep -q "usage: offca metrics --textfile DIR" || fail "metrics --help"
pass "metrics: usage errors and --help"

# ---- the file ----
D="$T/textfile"
mkdir "$D"
"$OFFCA" metrics --textfile "$D" > "$T/m.out" || fail "metrics: $(cat "$T/m.out")"
P="$D/offca.prom"
[ "$(stat -c %a "$P")" = 644 ] || fail "offca.prom mode $(stat -c %a "$P")"
[ "$(ls "$D")" = offca.prom ] || fail "left behind in the textfile directory: $(ls "$D")"
promtool check metrics < "$P" > "$T/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$T/promtool.out")"
[ ! -s "$T/promtool.out" ] || fail "promtool lint: $(cat "$T/promtool.out")"
pass "promtool check metrics accepts offca.prom without a lint message"

dec() { python3 -c "print(int('$1', 16))"; }
D1=$(dec "$S1"); D2=$(dec "$S2"); D3=$(dec "$S3")
NA1=$(mon_epoch "$(openssl x509 -in "$T/h1.pem" -noout -enddate | cut -d= -f2)")
NB1=$(mon_epoch "$(openssl x509 -in "$T/h1.pem" -noout -startdate | cut -d= -f2)")
NU=$(mon_epoch "$(openssl crl -in "$T/int.crl.pem" -noout -nextupdate | cut -d= -f2)")
TU=$(mon_epoch "$(openssl crl -in "$T/int.crl.pem" -noout -lastupdate | cut -d= -f2)")
# check_values FILE: what the store holds, as served in FILE
check_values() {
  local f=$1
  [ "$(mon_prom_value "$f" x509_cert_not_after serial_number="$D1")" = "$NA1" ] || fail "$f: x509_cert_not_after of h1"
  [ "$(mon_prom_value "$f" x509_cert_not_before serial_number="$D1")" = "$NB1" ] || fail "$f: x509_cert_not_before"
  [ "$(mon_prom_value "$f" x509_cert_expired serial_number="$D1")" = 0 ] || fail "$f: x509_cert_expired of h1"
  [ "$(mon_prom_value "$f" offca_cert_revoked serial_number="$D2")" = 1 ] || fail "$f: offca_cert_revoked of h2"
  [ "$(mon_prom_value "$f" offca_cert_revoked serial_number="$D3")" = 0 ] || fail "$f: offca_cert_revoked of h3"
  [ "$(mon_prom_value "$f" x509_crl_next_update issuer=int)" = "$NU" ] || fail "$f: x509_crl_next_update of int"
  [ "$(mon_prom_value "$f" x509_crl_this_update issuer=int)" = "$TU" ] || fail "$f: x509_crl_this_update of int"
  [ "$(mon_prom_value "$f" offca_pending_csrs)" = 2 ] || fail "$f: offca_pending_csrs"
  grep "^x509_cert_not_after{" "$f" | grep "serial_number=\"$D1\"" | grep 'subject_CN="h1.example"' \
    | grep -q 'issuer_CN="Disk Test Int"' || fail "$f: subject_CN / issuer_CN of h1"
  grep '^offca_certificates{' "$f" | grep 'issuer="int"' | grep 'status="revoked"' | grep -Eq ' 1$' \
    || fail "$f: offca_certificates revoked"
}
check_values "$P"
pass "offca.prom holds the store's values (notAfter, notBefore, expired, revoked, CRL times, pending)"

# --json and --home (instead of $OFFCA_HOME)
env -u OFFCA_HOME "$OFFCA" metrics --home "$H" --textfile "$D" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["path"].endswith("/offca.prom") and d["certificates"] == 5 and d["revoked"] == 1, d
assert d["pendingCsrs"] == 2 and d["crls"] == 1 and d["series"] == 5, d' || fail "metrics --json"
pass "metrics --json --home"

# ---- served by node_exporter's textfile collector ----
PORT=$(mon_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$PORT" --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$D" > "$T/ne.log" 2>&1 &
e2e_bg $!
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/metrics" > "$T/served" 2>/dev/null && break; sleep 0.1; done
[ -s "$T/served" ] || fail "node_exporter did not answer: $(tail -3 "$T/ne.log")"
grep -q '^node_textfile_scrape_error 0$' "$T/served" || fail "node_exporter could not read offca.prom: $(grep -i error "$T/ne.log" | tail -2)"
check_values "$T/served"
pass "prometheus-node-exporter serves offca.prom's values"

# ---- rewritten in place: a new revocation shows at the next scrape ----
"$OFFCA" revoke "$S3" >/dev/null
"$OFFCA" metrics --textfile "$D" >/dev/null
curl -sf "http://127.0.0.1:$PORT/metrics" > "$T/served2"
[ "$(mon_prom_value "$T/served2" offca_cert_revoked serial_number="$D3")" = 1 ] || fail "revocation of h3 not served"
[ "$(ls "$D")" = offca.prom ] || fail "left behind: $(ls "$D")"
pass "metrics replaces offca.prom atomically; node_exporter serves the new values"

# ---- expiry: 100 days on, the 90-day leaves are expired; --keep-expired drops old ones ----
if command -v faketime >/dev/null; then
  mkdir "$T/later"
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime -f +100d "$OFFCA" metrics --textfile "$T/later" \
    >/dev/null 2>"$T/ft.err" || fail "metrics under faketime: $(cat "$T/ft.err")"
  [ "$(mon_prom_value "$T/later/offca.prom" x509_cert_expired serial_number="$D1")" = 1 ] || fail "h1 not expired at +100d"
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime -f +100d "$OFFCA" metrics --textfile "$T/later" \
    --keep-expired 5 >/dev/null 2>"$T/ft.err"
  ! grep -q "serial_number=\"$D1\"" "$T/later/offca.prom" || fail "--keep-expired 5 kept h1 (expired 10 days before)"
  grep -Eq '^offca_certificates\{issuer="int",status="expired"\} 1$' "$T/later/offca.prom" || fail "expired count"
  pass "x509_cert_expired at +100 days; --keep-expired drops long-expired certificates"
fi
