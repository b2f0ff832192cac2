#!/usr/bin/env bash
# token_touch: a signing key that needs a touch. The CA key sits behind tests/shim/p11_delay.c, a
# PKCS#11 module that forwards to SoftHSM2 and holds C_Sign back like a YubiKey waiting for a
# finger. With "touch": "always" in config.json, offca sign prints "Touch the YubiKey '<label>'
# now to approve signing <what>" before each signature, visibly while the token waits; a C_Sign
# that does not return within touch_timeout is "no touch within N s" (exit 21), the batch stops,
# its serials are voided and nothing is recorded or written; the device's own "cancelled" error
# is the same refusal. "cached" prompts once for signatures close together; "never" not at all.
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
"$OFFCA" ca root --key "$RK" --subject "CN=Touch Root,O=offca tests" --days 3650 --pin-file "$RP" --out "$T/root.pem" \
  >/dev/null || fail "ca root"
for n in a b c; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$n.example" \
    -addext "subjectAltName=DNS:$n.example" -out "$T/$n.csr" 2>/dev/null
done

mkdir -p "$T/bc" "$T/late" "$T/cached"
set_touch() { # MODE TIMEOUT
  jq --arg m "$1" --argjson t "$2" '.defaults.touch = $m | .defaults.touch_timeout = $t' "$OFFCA_HOME/config.json" \
    > "$T/config.new"
  cat "$T/config.new" > "$OFFCA_HOME/config.json"
}
nlist() { "$OFFCA" list --json | jq length; }
prompts() { grep -c "^Touch the YubiKey 'rootca' now to approve signing the certificate for CN=" "$1" || true; }

# a bad policy name is refused with its field path
set_touch sometimes 5
expect_fail "touch: sometimes" "$OFFCA" sign --csr "$T/a.csr" --profile server --pin-file "$RP" --out "$T/x.pem"
expect_err_match "defaults.touch: must be"

# always: a prompt before each signature, shown while the token holds C_Sign back
set_touch always 10
export OFFCA_SHIM_SIGN_DELAY_MS=5000 OFFCA_SHIM_LOG="$T/shim.log"
"$OFFCA" sign --csr "$T/a.csr" --profile server --pin-file "$RP" --module "$SHIM" --out "$T/a.pem" \
  >"$T/a.out" 2>"$T/a.err" &
pid=$!
e2e_bg "$pid"
for _ in $(seq 100); do # the prompt, then C_Sign held back for 5 s: it must show while offca waits
  grep -q "^Touch the YubiKey" "$T/a.err" && break
  sleep 0.1
done
grep -q "^Touch the YubiKey 'rootca' now to approve signing the certificate for CN=a.example" "$T/a.err" ||
  fail "no touch prompt while the token waits: $(cat "$T/a.err")"
kill -0 "$pid" 2>/dev/null || fail "offca sign finished before the token let it (shim not used?)"
[ ! -e "$T/a.pem" ] || fail "the certificate was written before the token signed"
wait "$pid" || fail "sign with a slow touch failed: $(cat "$T/a.err")"
openssl x509 -in "$T/a.pem" -noout -subject | grep -q "a.example" || fail "no certificate after the touch"
pass "always: the prompt is on stderr while C_Sign waits; the signature completes after the touch"

rm -f "$T/shim.log"
export OFFCA_SHIM_SIGN_DELAY_MS=100
"$OFFCA" sign --csr "$T/b.csr" "$T/c.csr" --profile server --pin-file "$RP" --module "$SHIM" --out-dir "$T/bc" \
  2>"$T/bc.err" >/dev/null || fail "batch of two: $(cat "$T/bc.err")"
[ "$(prompts "$T/bc.err")" -eq 2 ] || fail "expected one prompt per signature: $(cat "$T/bc.err")"
[ "$(grep -c C_Sign "$T/shim.log")" -eq 2 ] || fail "expected two C_Sign calls, log: $(cat "$T/shim.log")"
pass "always: one prompt per signature in a batch"

# the timeout: C_Sign does not return in time
before=$(nlist)
set_touch always 2
export OFFCA_SHIM_SIGN_DELAY_MS=60000
start=$(date +%s)
rc=0
"$OFFCA" sign --csr "$T/a.csr" "$T/b.csr" "$T/c.csr" --profile server --pin-file "$RP" --module "$SHIM" \
  --out-dir "$T/late" >"$T/late.out" 2>"$T/late.err" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" -eq 21 ] || fail "timeout: exit $rc, not 21: $(cat "$T/late.err")"
[ "$took" -lt 20 ] || fail "timeout took $took s: offca waited for the module, not for its own timeout"
grep -q "^offca: \(.*: \)\?no touch within 2 s: the YubiKey 'rootca' did not approve signing the certificate for CN=" "$T/late.err" ||
  fail "timeout message: $(cat "$T/late.err")"
[ "$(grep -vc '^Touch the YubiKey' "$T/late.err")" -eq 1 ] || fail "more than one error line: $(cat "$T/late.err")"
[ "$(prompts "$T/late.err")" -eq 1 ] || fail "the batch went on after the first missing touch: $(cat "$T/late.err")"
[ "$(nlist)" -eq "$before" ] || fail "a certificate was recorded after the timeout"
[ -z "$(ls -A "$T/late" 2>/dev/null)" ] || fail "files were released after the timeout: $(ls "$T/late")"
"$OFFCA" audit verify >/dev/null || fail "audit verify after the timeout"
"$OFFCA" audit show 2>/dev/null | tail -n 5 | grep -q "void" || fail "the reserved serials were not voided"
pass "timeout: exit 21 after $took s, one line, batch stopped, serials voided, nothing recorded or written"

# the same through the pending queue: the CSRs stay pending
"$OFFCA" qr encode "$T/b.csr" --text > "$T/b.ur"
"$OFFCA" qr decode --text "$T/b.ur" --import --quiet || fail "queue a CSR"
rc=0
"$OFFCA" sign --pending-all --profile server --pin-file "$RP" --module "$SHIM" >/dev/null 2>"$T/pend.err" || rc=$?
[ "$rc" -eq 21 ] || fail "pending timeout: exit $rc: $(cat "$T/pend.err")"
[ "$("$OFFCA" pending list | grep -c .)" -eq 1 ] || fail "the pending CSR left the queue after a timeout"
[ "$(nlist)" -eq "$before" ] || fail "a certificate was recorded after the pending timeout"
"$OFFCA" audit verify >/dev/null || fail "audit verify after the pending timeout"
pass "timeout with --pending-all: the CSR stays pending, nothing recorded"

# the device gives up by itself (CKR_FUNCTION_CANCELED): the same refusal
set_touch always 10
export OFFCA_SHIM_SIGN_DELAY_MS=200 OFFCA_SHIM_SIGN_RV=0x50
rc=0
"$OFFCA" sign --csr "$T/a.csr" --profile server --pin-file "$RP" --module "$SHIM" --out "$T/cx.pem" \
  >/dev/null 2>"$T/cx.err" || rc=$?
[ "$rc" -eq 21 ] || fail "cancelled on the token: exit $rc: $(cat "$T/cx.err")"
grep -q "^offca: .*no touch within .* gave up" "$T/cx.err" || fail "cancelled message: $(cat "$T/cx.err")"
[ ! -e "$T/cx.pem" ] || fail "a certificate was written after the token cancelled"
[ "$(nlist)" -eq "$before" ] || fail "a certificate was recorded after the token cancelled"
unset OFFCA_SHIM_SIGN_RV
pass "the token's own cancel is 'no touch' too (exit 21)"

# cached: signatures close together need one touch; never: no prompt at all
set_touch cached 10
export OFFCA_SHIM_SIGN_DELAY_MS=50
"$OFFCA" sign --csr "$T/b.csr" "$T/c.csr" --profile server --pin-file "$RP" --module "$SHIM" --out-dir "$T/cached" \
  2>"$T/cached.err" >/dev/null || fail "cached: $(cat "$T/cached.err")"
[ "$(prompts "$T/cached.err")" -eq 1 ] || fail "cached: expected one prompt: $(cat "$T/cached.err")"
set_touch never 10
"$OFFCA" sign --csr "$T/a.csr" --profile server --pin-file "$RP" --module "$SHIM" --out "$T/never.pem" \
  2>"$T/never.err" >/dev/null || fail "never: $(cat "$T/never.err")"
[ "$(prompts "$T/never.err")" -eq 0 ] || fail "never: a prompt was printed"
pass "cached: one prompt for two signatures; never: none"

# crl signs through the same guard
set_touch always 10
"$OFFCA" crl --pin-file "$RP" --module "$SHIM" --out "$T/root.crl" 2>"$T/crl.err" >/dev/null || fail "crl: $(cat "$T/crl.err")"
grep -q "^Touch the YubiKey 'rootca' now to approve signing the CRL of " "$T/crl.err" || fail "crl: no prompt: $(cat "$T/crl.err")"
pass "crl: prompt names the CRL"

# ca root: the defaults' touch policy applies to the self-signature
RK2=$("$OFFCA" token keygen --token "pkcs11:token=rootca" --label root2 --type ec-p256 --pin-file "$RP")
"$OFFCA" ca root --key "$RK2" --name root2 --subject "CN=Touch Root 2" --days 365 --pin-file "$RP" --module "$SHIM" \
  --out "$T/root2.pem" 2>"$T/root2.err" >/dev/null || fail "ca root with touch: $(cat "$T/root2.err")"
grep -q "^Touch the YubiKey 'rootca' now to approve signing the certificate for CN=Touch Root 2" "$T/root2.err" ||
  fail "ca root: no prompt: $(cat "$T/root2.err")"
pass "ca root: prompt before the self-signature"

# bundle export: the issuer's signature over the outbound bundle is announced too
"$OFFCA" bundle export --out "$T/out.bundle" --issuer root --pin-file "$RP" --module "$SHIM" 2>"$T/bx.err" >/dev/null ||
  fail "bundle export with touch: $(cat "$T/bx.err")"
grep -q "^Touch the YubiKey 'rootca' now to approve signing the bundle" "$T/bx.err" || fail "bundle export: no prompt: $(cat "$T/bx.err")"
pass "bundle export: prompt before the bundle's signature"
