#!/usr/bin/env bash
# Key attestation before the root signs an intermediate key.
#  - SoftHSM2 offers none: recorded as "no attestation available"; attestation: required stops
#    the step (and needs attestation-root, checked at validation).
#  - Attestation files (as yubico-piv-tool exports them from a YubiKey: the slot's attestation
#    certificate and the device's f9 certificate, made here by a stand-in "device" with openssl):
#    the chain and the attested key are checked before signing.
#  - Attestation read through PKCS#11: the SoftHSM2 token is given the certificate objects a
#    YubiKey shows through Yubico's ykcs11 ("X.509 Certificate for PIV Attestation 9c" with the
#    key's CKA_ID, and the f9 certificate "X.509 Certificate for PIV Attestation", CKA_ID 25),
#    written with pkcs11-tool: a good one is recorded (serial, firmware, policies); one for another
#    key, one chaining to another root, and none at all stop the step with nothing released.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
need pkcs11-tool
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
run_cer() { "$OFFCA" ceremony run "$1" --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf; }

int_cert noroot.yaml out-noroot int-noroot "attestation: required"
expect_fail "attestation required without attestation-root" run_cer noroot.yaml
expect_err_match "attestation-root: missing"
[ ! -e out-noroot ] || fail "a ceremony that fails validation started"

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
expect_fail "attestation files of another key" run_cer other.yaml
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
pass "attestation files checked before the root signs: verified and mismatched cases"

# the attested touch policy ("always") applies to the key from then on: the intermediate's
# signatures in the same ceremony are announced; the root's key (no attestation, no touch: in the
# file) signs without a prompt
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=leaf.example" \
  -addext "subjectAltName=DNS:leaf.example" -out leaf.csr 2>/dev/null
int_cert touch.yaml out-touch int-touch "attestation: required" "attestation-files: { certificate: attest-good.pem, device: f9.pem, ca: ca.pem }"
cat >> touch.yaml <<'YAML'
  - type: signing-session
    issuer: int-touch
    profile: server
    days: 30
    csrs: [leaf.csr]
    outputs: { directory: certs }
YAML
run_cer touch.yaml > touch.out 2>&1 || { cat touch.out; fail "ceremony with an attested touch policy"; }
grep -q ">> Touch the YubiKey 'att-int' now to approve signing the certificate for CN=leaf.example" touch.out ||
  { cat touch.out; fail "the attested touch policy did not announce the intermediate's signature"; }
grep -q ">> Touch the YubiKey 'att-root'" touch.out && fail "the root's key has no touch policy but was announced"
pass "attested touch policy always: the attested key's signatures are announced, the root's are not"

# ---- the attestation read from the token through PKCS#11 (what ykcs11 shows) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -subj "/CN=Another PIV Attestation CA" -days 30 -out other-ca.pem 2>/dev/null
int_id=$(python3 -c 'import json,sys,urllib.parse
for l in open(sys.argv[1]):
    e=json.loads(l)
    if e["event"]=="key-generated" and e["data"].get("label")=="int":
        u=e["data"]["uri"]; print(urllib.parse.unquote_to_bytes(u.split(";id=")[1].split(";")[0]).hex())' keys/transcript.jsonl)
[ -n "$int_id" ] || fail "no CKA_ID for the intermediate key in the transcript"
P11=(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label att-int --login --pin 123456)
put_cert() { # PEM LABEL ID : a public certificate object, as ykcs11 shows it
  openssl x509 -in "$1" -outform DER -out obj.der
  "${P11[@]}" --write-object obj.der --type cert --label "$2" --id "$3" >/dev/null 2>&1 || fail "pkcs11-tool could not write '$2'"
}
del_cert() { "${P11[@]}" --delete-object --type cert --label "$1" >/dev/null 2>&1 || fail "pkcs11-tool could not delete '$1'"; }
ROOT_OK="attestation-root: ca.pem"

int_cert none.yaml out-none int-none "attestation: required" "$ROOT_OK"
expect_fail "attestation required, the token shows none" run_cer none.yaml
expect_err_match "attestation: required by the ceremony file, but no attestation available"
[ ! -e out-none/int.pem ] || fail "signed without the required attestation"
grep '"event":"attestation"' out-none/transcript.jsonl | grep -q '"status":"none"' || fail "missing attestation not recorded"

put_cert f9.pem "X.509 Certificate for PIV Attestation" 19
put_cert attest-other.pem "X.509 Certificate for PIV Attestation 9c" "$int_id"
int_cert tok-other.yaml out-tok-other int-tok-other "$ROOT_OK"
expect_fail "token attestation of another key (if-available)" run_cer tok-other.yaml
expect_err_match "attests a different key"
[ ! -e out-tok-other/int.pem ] || fail "signed with a mismatched attestation from the token"
grep '"event":"attestation"' out-tok-other/transcript.jsonl | grep '"source":"token"' | grep -q '"status":"failed"' \
  || fail "failed token attestation not recorded"
grep -q '"event":"cert-signed"' out-tok-other/transcript.jsonl && fail "the root signed after a failed attestation"

del_cert "X.509 Certificate for PIV Attestation 9c"
put_cert attest-good.pem "X.509 Certificate for PIV Attestation 9c" "$int_id"
int_cert tok-root.yaml out-tok-root int-tok-root "attestation: required" "attestation-root: other-ca.pem"
expect_fail "token attestation chaining to another root" run_cer tok-root.yaml
expect_err_match "does not chain to the attestation root"
[ ! -e out-tok-root/int.pem ] || fail "signed with an attestation from another root"

int_cert notpem.yaml out-notpem int-notpem "attestation: required" "attestation-root: yes.yaml"
expect_fail "attestation-root that is not a certificate" run_cer notpem.yaml
expect_err_match "attestation-root: .*holds no PEM certificate"

del_cert "X.509 Certificate for PIV Attestation"
int_cert tok-nof9.yaml out-tok-nof9 int-tok-nof9 "$ROOT_OK"
expect_fail "token attestation without the device's f9 certificate" run_cer tok-nof9.yaml
expect_err_match "not the device's attestation certificate"
[ ! -e out-tok-nof9/int.pem ] || fail "signed without the f9 certificate"
put_cert f9.pem "X.509 Certificate for PIV Attestation" 19

put_cert attest-good.pem "X.509 Certificate for PIV Attestation 9d" "$int_id"
int_cert tok-two.yaml out-tok-two int-tok-two "$ROOT_OK"
expect_fail "two attestation objects for one key" run_cer tok-two.yaml
expect_err_match "share the key's id .*refusing to pick one"
[ ! -e out-tok-two/int.pem ] || fail "signed with an ambiguous attestation"
del_cert "X.509 Certificate for PIV Attestation 9d"

int_cert tok-good.yaml out-tok-good int-tok-good "attestation: required" "$ROOT_OK"
run_cer tok-good.yaml > tok-good.out 2>&1 || { cat tok-good.out; fail "a good attestation on the token should let the root sign"; }
grep -q "Attestation verified: key generated on device serial 12345678 (firmware 5.4.3, PIN policy never, touch policy always), chain to the attestation CA checked" tok-good.out \
  || { cat tok-good.out; fail "token attestation details not shown"; }
grep -q "X.509 Certificate for PIV Attestation 9c" tok-good.out || fail "the attestation object read is not named"
ca_fp=$(openssl x509 -in ca.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | sed 's/..../& /g; s/ $//')
python3 - out-tok-good/transcript.jsonl "$ca_fp" <<'PY' || fail "token attestation not recorded as expected"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
names = [e["event"] for e in ev]
att = [e["data"] for e in ev if e["event"] == "attestation"]
assert len(att) == 1 and att[0]["status"] == "verified" and att[0]["source"] == "token", att
a = att[0]
assert a["device_serial"] == 12345678 and a["firmware"] == "5.4.3", a
assert a["pin_policy"] == "never" and a["touch_policy"] == "always" and a["ca_checked"] is True, a
assert a["attestation_pem"].startswith("-----BEGIN CERTIFICATE-----") and a["device_cert_pem"], a
assert a["attestation_root_sha256"] == sys.argv[2], (a["attestation_root_sha256"], sys.argv[2])
assert names.index("attestation") < names.index("cert-signed"), names
PY
openssl verify -CAfile keys/root.pem out-tok-good/int.pem >/dev/null || fail "intermediate does not verify"
"$OFFCA" ceremony verify out-tok-good/transcript.jsonl --no-ca >/dev/null 2>&1 || fail "transcript with the attestation does not verify"
int_cert tok-noroot.yaml out-tok-noroot int-tok-noroot
run_cer tok-noroot.yaml > tok-noroot.out 2>&1 || { cat tok-noroot.out; fail "if-available without a root should go on"; }
grep -q "chain NOT checked (no attestation root given)" tok-noroot.out || { cat tok-noroot.out; fail "unchecked chain not said"; }
grep '"event":"attestation"' out-tok-noroot/transcript.jsonl | grep -q '"ca_checked":false' || fail "unchecked chain not recorded"
pass "attestation read through PKCS#11: verified, another key, another root and none"

# an intermediate-key step can demand it too: the key is made, but its public key is not released
e2e_token att-k2 123456
cer_creds creds2.yaml k2=123456
cat > key2.yaml <<'YAML'
version: 1
name: "Attestation: key step"
output-dir: keys2
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  k2: { uri: "pkcs11:token=att-k2" }
steps:
  - type: intermediate-key
    token: k2
    key: { label: k2, type: ec-p256 }
    attestation: required
    attestation-root: ca.pem
    outputs: { public-key: k2.pub.pem }
YAML
expect_fail "intermediate-key with attestation: required on SoftHSM2" "$OFFCA" ceremony run key2.yaml --home "$HOME_DIR" --credentials creds2.yaml --answers yes.yaml --no-pdf
expect_err_match "attestation: required by the ceremony file"
[ ! -e keys2/k2.pub.pem ] || fail "public key released without the required attestation"
grep '"event":"attestation"' keys2/transcript.jsonl | grep -q '"status":"none"' || fail "key step: missing attestation not recorded"
pass "intermediate-key: attestation: required stops the step"

# a rehearsal has no attestation to read: recorded, not demanded
"$OFFCA" ceremony run key2.yaml --dry-run --answers yes.yaml --no-pdf > dry.out 2>&1 || { cat dry.out; fail "dry run of a ceremony requiring attestation"; }
grep -q "dry run: the rehearsal token has no attestation" dry.out || { cat dry.out; fail "dry run does not say the attestation is not demanded"; }
pass "dry run: attestation recorded as absent, not demanded"
