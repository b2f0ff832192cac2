#!/usr/bin/env bash
# Key attestation before the root signs an intermediate key. SoftHSM2 offers none: recorded as
# "no attestation available", and attestation: required stops the step. With attestation files
# (as yubico-piv-tool exports them from a YubiKey: the slot's attestation certificate and the
# device's f9 certificate, here made by a stand-in "device" with openssl) the chain and the
# attested key are checked before signing: a good attestation is recorded (serial, firmware,
# policies), one for another key stops the step with nothing released.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
e2e_token att-root 123456
e2e_token att-int 123456
cer_home
cd "$T"
cer_creds creds.yaml root=123456 int=123456
printf '"*": "yes"\n' > yes.yaml

cat > keys.yaml <<'YAML'
version: 1
name: "Attestation: keys"
output-dir: keys
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  root: { uri: "pkcs11:token=att-root" }
  int: { uri: "pkcs11:token=att-int" }
steps:
  - type: root-key
    token: root
    key: { label: root, type: ec-p256 }
    outputs: { public-key: root.pub.pem }
  - type: root-cert
    token: root
    key: { label: root }
    name: att-root
    subject: "CN=Attestation Root"
    validity: { days: 365 }
    outputs: { certificate: root.pem }
  - type: intermediate-key
    token: int
    key: { label: int, type: ec-p256 }
    outputs: { public-key: int.pub.pem }
YAML
"$OFFCA" ceremony run keys.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf > keys.out 2>&1 \
  || { cat keys.out; fail "key ceremony"; }
grep '"event":"attestation"' keys/transcript.jsonl | grep -q "no attestation available" || fail "SoftHSM2: no attestation not recorded"
pass "SoftHSM2 key: \"no attestation available\" recorded"

int_cert() { # FILE OUTDIR NAME EXTRA...
  local f=$1 o=$2 n=$3; shift 3
  { cat <<YAML
version: 1
name: "Attestation: intermediate"
output-dir: $o
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  root: { uri: "pkcs11:token=att-root" }
  int: { uri: "pkcs11:token=att-int" }
steps:
  - type: intermediate-cert
    issuer: att-root
    token: int
    key: { label: int }
    name: $n
    subject: "CN=Attested Intermediate"
    validity: { days: 90 }
    outputs: { certificate: int.pem }
YAML
  for l in "$@"; do echo "    $l"; done; } > "$f"
}
int_cert required.yaml out-req int-req "attestation: required"
expect_fail "attestation required on a token without attestation" "$OFFCA" ceremony run required.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf
expect_err_match "attestation: required"
[ ! -e out-req/int.pem ] || fail "signed without the required attestation"

# a stand-in device: attestation CA -> device (f9) -> attestation certificate for the token's key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -subj "/CN=Test PIV Attestation CA" -days 30 -out ca.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout f9.key -subj "/CN=Test PIV Attestation" -out f9.csr 2>/dev/null
openssl x509 -req -in f9.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -out f9.pem 2>/dev/null
printf '1.3.6.1.4.1.41482.3.3 = DER:05:04:03\n1.3.6.1.4.1.41482.3.7 = ASN1:INTEGER:12345678\n1.3.6.1.4.1.41482.3.8 = DER:01:02\n' > yk.ext
attest() { # PUBKEY OUT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=YubiKey PIV Attestation 9c" -out a.csr 2>/dev/null
  openssl x509 -req -in a.csr -force_pubkey "$1" -CA f9.pem -CAkey f9.key -set_serial 3 -days 30 -extfile yk.ext -out "$2" 2>/dev/null
}
attest keys/int.pub.pem attest-good.pem
attest keys/root.pub.pem attest-other.pem
[ -s attest-good.pem ] && [ -s attest-other.pem ] || fail "could not make the stand-in attestation"

int_cert other.yaml out-other int-other "attestation: required" "attestation-files: { certificate: attest-other.pem, device: f9.pem, ca: ca.pem }"
expect_fail "attestation of another key" "$OFFCA" ceremony run other.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf
expect_err_match "attests a different key"
[ ! -e out-other/int.pem ] || fail "signed with a mismatched attestation"
grep '"event":"attestation"' out-other/transcript.jsonl | grep -q '"status":"failed"' || fail "failed attestation not recorded"

int_cert good.yaml out-good int-good "attestation: required" "attestation-files: { certificate: attest-good.pem, device: f9.pem, ca: ca.pem }"
"$OFFCA" ceremony run good.yaml --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf > good.out 2>&1 \
  || { cat good.out; fail "a good attestation should let the root sign"; }
grep -q "Attestation verified: key generated on device serial 12345678 (firmware 5.4.3, PIN policy never, touch policy always)" good.out \
  || { cat good.out; fail "attestation details not shown"; }
grep '"event":"attestation"' out-good/transcript.jsonl | grep -q '"device_serial":12345678' || fail "attestation not recorded"
openssl verify -CAfile keys/root.pem out-good/int.pem >/dev/null || fail "intermediate does not verify"
pass "attestation checked before the root signs: verified, mismatched and missing cases"
