#!/usr/bin/env bash
# ceremony_touch: the demo ceremony with "touch: always" on both tokens, their keys behind
# tests/shim/p11_delay.c (SoftHSM2 with C_Sign held back like a YubiKey waiting for a touch):
#  1. every signature is announced on the ceremony's screen before it happens ("Touch the YubiKey
#     '<label>' now to approve signing <what>"), naming what is signed, and the ceremony completes;
#  2. with C_Sign held back longer than touch-timeout, the ceremony stops at the first signature:
#     "no touch within N s" (exit 21), nothing released, the transcript ends with the abort;
#  3. a bad touch value is refused by validation with its field path.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
SHIM=${OFFCA_P11_DELAY:-}
[ -n "$SHIM" ] && [ -f "$SHIM" ] || fail "the test PKCS#11 module (OFFCA_P11_DELAY) is missing: build with OFFCA_TESTS=ON"
export OFFCA_SHIM_MODULE="$SOFTHSM_MODULE"
EX="$OFFCA_SRC/docs/examples"

e2e_token demo-root 123456
e2e_token demo-int 123456
cd "$T"
cp "$EX/demo-server.csr" .
(umask 077; printf 'module: %s\npins:\n  root: "123456"\n  int: "123456"\n' "$SHIM" > creds.yaml)
# touch on both tokens ($1), the timeout ($2), outputs into $3
touch_file() {
  sed -e "s|^output-dir: .*|output-dir: $3|" \
      -e "s|^\(    uri: \"pkcs11:token=demo-[a-z]*\"\)$|\1\n    touch: $1\n    touch-timeout: $2|" \
      "$EX/demo-ceremony.yaml" > "$3.yaml"
  grep -q "touch: $1" "$3.yaml" || fail "could not add touch to the demo ceremony file"
}

# 1. every signature announced, the ceremony completes
touch_file always 10 slow
HOME_DIR="$T/home1"; "$OFFCA" init --home "$HOME_DIR" >/dev/null
export OFFCA_SHIM_SIGN_DELAY_MS=200
"$OFFCA" ceremony run slow.yaml --home "$HOME_DIR" --answers "$EX/demo-answers.yaml" --credentials creds.yaml \
  --no-pdf > slow.out 2>&1 < /dev/null || { cat slow.out; fail "ceremony with touch: always"; }
grep -q "Ceremony completed" slow.out || fail "the ceremony did not complete"
for want in "'demo-root' now to approve signing the certificate for CN=Demo Root CA" \
            "'demo-root' now to approve signing the certificate for CN=Demo Intermediate CA" \
            "'demo-int' now to approve signing the certificate for CN=" \
            "'demo-root' now to approve signing the transcript's final hash"; do
  grep -qF ">> Touch the YubiKey $want" slow.out || fail "no prompt: Touch the YubiKey $want"
done
# the prompt comes before the signature it announces
awk '/Touch the YubiKey .demo-root. now to approve signing the certificate for CN=Demo Root CA/ {p=NR}
     /Root certificate/ && p {ok=1; exit} END {exit !ok}' slow.out || fail "the root's prompt is not before its certificate"
openssl verify -CAfile slow/root.pem slow/intermediate.pem >/dev/null || fail "chain after the touches"
pass "touch: always: $(grep -c '>> Touch the YubiKey' slow.out) signatures announced, ceremony completed"

# 2. no touch within touch-timeout: the ceremony stops, nothing released
touch_file always 2 late
for t in demo-root demo-int; do softhsm2-util --delete-token --token "$t" >/dev/null; e2e_token "$t" 123456; done
HOME_DIR="$T/home2"; "$OFFCA" init --home "$HOME_DIR" >/dev/null
export OFFCA_SHIM_SIGN_DELAY_MS=60000
start=$(date +%s)
rc=0
"$OFFCA" ceremony run late.yaml --home "$HOME_DIR" --answers "$EX/demo-answers.yaml" --credentials creds.yaml \
  --no-pdf > late.out 2>&1 < /dev/null || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" -eq 21 ] || { cat late.out; fail "timeout: exit $rc, not 21"; }
[ "$took" -lt 40 ] || fail "the ceremony waited $took s: not bounded by touch-timeout"
grep -q "no touch within 2 s: the YubiKey 'demo-root' did not approve signing the certificate for CN=Demo Root CA" late.out ||
  { cat late.out; fail "timeout message"; }
[ ! -e late/root.pem ] || fail "the root certificate was released without its signature"
tr=$(ls late/transcript.jsonl 2>/dev/null || true)
[ -n "$tr" ] || fail "no transcript after the timeout"
cer_events "$tr" > late.events  # a file, not a pipe: grep -q may stop reading early (SIGPIPE under pipefail)
grep -qx abort late.events || fail "the transcript does not record the abort"
grep '"event":"abort"' "$tr" | grep -q "no touch within 2 s" || fail "the abort entry does not say why"
pass "no touch within 2 s: exit 21 after $took s, root certificate not released, abort recorded"

# 2b. Ctrl-C while the token waits for the touch: the ceremony stops at once (aborted, exit 16)
touch_file always 120 intr
for t in demo-root demo-int; do softhsm2-util --delete-token --token "$t" >/dev/null; e2e_token "$t" 123456; done
HOME_DIR="$T/home3"; "$OFFCA" init --home "$HOME_DIR" >/dev/null
"$OFFCA" ceremony run intr.yaml --home "$HOME_DIR" --answers "$EX/demo-answers.yaml" --credentials creds.yaml \
  --no-pdf > intr.out 2>&1 < /dev/null &
pid=$!
e2e_bg "$pid"
for _ in $(seq 900); do grep -q ">> Touch the YubiKey" intr.out && break; sleep 0.1; done # up to 90 s: key generation under load
grep -q ">> Touch the YubiKey 'demo-root'" intr.out || { cat intr.out; fail "no prompt before Ctrl-C"; }
start=$(date +%s)
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" -eq 16 ] || { cat intr.out; fail "Ctrl-C during the touch wait: exit $rc, not 16"; }
[ "$took" -lt 15 ] || fail "Ctrl-C took $took s to stop the touch wait"
grep -q "interrupted while the YubiKey 'demo-root' waited for a touch" intr.out || { cat intr.out; fail "Ctrl-C message"; }
[ ! -e intr/root.pem ] || fail "the root certificate was released after Ctrl-C"
pass "Ctrl-C while waiting for the touch: aborted (exit 16) after $took s, nothing released"

# 3. validation names the field
touch_file sometimes 5 bad
expect_fail "touch: sometimes" "$OFFCA" ceremony validate bad.yaml --home "$T/home1"
expect_err_match "tokens\.root\.touch: must be one of always, cached, never|tokens\.int\.touch"
