#!/usr/bin/env bash
# offca publish signs on the token like every CA signature: with "touch": "always" each relay
# object is announced ("...approve signing the relay object for CN=<endpoint>") and signed by the
# token behind tests/shim/p11_delay.c (C_Sign counted); with no touch in time the run stops with
# exit 21, names no object and keeps the numbers valid.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need jq
SHIM=${OFFCA_P11_DELAY:-}
[ -n "$SHIM" ] && [ -f "$SHIM" ] || fail "the test PKCS#11 module (OFFCA_P11_DELAY) is missing: build with OFFCA_TESTS=ON"
export OFFCA_SHIM_MODULE="$SOFTHSM_MODULE"
export OFFCA_HOME="$T/home"
e2e_token rootca
RP="$T/rootca.pin"
"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=rootca" --label root --type ec-p256 --pin-file "$RP")
"$OFFCA" ca root --key "$RK" --subject "CN=Touch Root" --days 3650 --pin-file "$RP" --out "$T/root.pem" >/dev/null \
  || fail "ca root"
for n in a b; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$n.key" -subj "/CN=$n.example" \
    -addext "subjectAltName=DNS:$n.example" -out "$T/$n.csr" 2>/dev/null
  "$OFFCA" sign --csr "$T/$n.csr" --profile server --pin-file "$RP" --out "$T/$n.pem" >/dev/null 2>&1 || fail "sign $n"
done
set_touch() {
  jq --arg m "$1" --argjson t "$2" '.defaults.touch = $m | .defaults.touch_timeout = $t' "$OFFCA_HOME/config.json" > "$T/c.new"
  cat "$T/c.new" > "$OFFCA_HOME/config.json"
}

set_touch always 10
export OFFCA_SHIM_SIGN_DELAY_MS=100 OFFCA_SHIM_LOG="$T/shim.log"
"$OFFCA" publish --out-dir "$T/pub" --pin-file "$RP" --module "$SHIM" > "$T/p.out" 2>"$T/p.err" || fail "publish: $(cat "$T/p.err")"
for n in a b; do
  grep -q "^Touch the YubiKey 'rootca' now to approve signing the relay object for CN=$n.example" "$T/p.err" \
    || fail "no prompt for $n: $(cat "$T/p.err")"
done
[ "$(grep -c C_Sign "$T/shim.log")" -eq 3 ] || fail "expected 2 objects + the checkpoint = 3 C_Sign: $(cat "$T/shim.log")"
[ "$(ls "$T/pub" | wc -l)" = 2 ] || fail "objects: $(ls "$T/pub")"
pass "always: one announced touch and one C_Sign per relay object, plus the audit checkpoint"

set_touch always 2
export OFFCA_SHIM_SIGN_DELAY_MS=60000
rc=0
"$OFFCA" publish --out-dir "$T/late" --pin-file "$RP" --module "$SHIM" > "$T/late.out" 2>"$T/late.err" || rc=$?
[ "$rc" -eq 21 ] || fail "no touch: exit $rc, not 21: $(cat "$T/late.err")"
[ "$(grep -c "^offca:" "$T/late.err")" = 1 ] || fail "not one error line: $(cat "$T/late.err")"
grep -q "no touch within 2 s" "$T/late.err" || fail "message: $(cat "$T/late.err")"
[ -z "$(ls -A "$T/late" 2>/dev/null)" ] || fail "something was left in the output: $(ls -A "$T/late")"
jq -e 'length == 2' "$OFFCA_HOME/relay/sequence.json" >/dev/null || fail "numbers: $(cat "$OFFCA_HOME/relay/sequence.json")"
pass "no touch in time: exit 21, one line, nothing named, the numbers intact"
