#!/usr/bin/env bash
# Lint before anything leaves: an intermediate for an RSA-1024 key (from a CSR) fails the core lint
# e_rsa_key_too_small, the step stops, nothing is released or recorded, the transcript says which
# lint; the same ceremony with the lint under accepted-lints goes through and records that.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
e2e_token lint-root 123456
cer_home
cd "$T"
cer_creds creds.yaml root=123456
printf '"*": "yes"\n' > yes.yaml
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=Weak Issuing CA" -out weak.csr 2>/dev/null
ceremony() { # FILE OUTDIR NAME EXTRA
  cat > "$1" <<YAML
version: 1
name: "Lint test"
output-dir: $2
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  root: { uri: "pkcs11:token=lint-root" }
steps:
  - type: root-key
    token: root
    key: { label: $3-key, type: ec-p256 }
    outputs: { public-key: root.pub.pem }
  - type: root-cert
    token: root
    key: { label: $3-key }
    name: $3
    subject: "CN=Lint Root"
    validity: { days: 365 }
    outputs: { certificate: root.pem }
  - type: sign-intermediate-csr
    issuer: $3
    csr: weak.csr
    name: $3-weak
    validity: { days: 30 }
    $4
    outputs: { certificate: weak.pem }
YAML
}
ceremony strict.yaml out-strict lint-a ""
expect_fail "a failing lint stops the step" "$OFFCA" ceremony run strict.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf
expect_err_match "lint e_rsa_key_too_small"
[ -s out-strict/root.pem ] || fail "the root step should have completed"
[ ! -e out-strict/weak.pem ] || fail "a certificate failing lint was released"
grep '"event":"lint"' out-strict/transcript.jsonl | grep -q '"passed":false' || fail "failing lint not in the transcript"
"$OFFCA" list --home "$HOME_DIR" 2>/dev/null | grep -q "Weak Issuing" && fail "a certificate failing lint was recorded"
pass "lint failure: nothing released or recorded, the transcript names the lint"

ceremony accept.yaml out-accept lint-b "accepted-lints: [e_rsa_key_too_small]"
"$OFFCA" ceremony run accept.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf > acc.out 2>&1 \
  || { cat acc.out; fail "accepted lint should let the step pass"; }
[ -s out-accept/weak.pem ] || fail "weak.pem not written"
grep '"event":"lint"' out-accept/transcript.jsonl | grep -q 'e_rsa_key_too_small' || fail "accepted lint not recorded"
pass "a lint named under accepted-lints does not stop the step and is recorded"
