#!/usr/bin/env bash
# A ceremony that requires key attestation, against the PIV card emulator (tests/lib/piv_card.py)
# through Yubico's ykcs11, as docs/yubikey.md tells an operator to run it: the root key in 9a and
# the intermediate key in 9c, both generated on the card by yubico-piv-tool (9c with PIN policy
# always, touch policy always). ykcs11 reads the card's attestation of the 9c key (ATTEST) and its
# f9 certificate; offca checks them against the emulator's attestation root before the root signs
# and records device serial, firmware and the attested PIN and touch policies in the transcript.
# An attestation root the card does not chain to stops the step with nothing released.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/ceremonies/lib.sh"
source "$OFFCA_SRC/tests/lib/piv_env.sh"
piv_start_pcscd
piv_insert
MK=010203040506070801020304050607080102030405060708
gen() { # SLOT ALG PIN-POLICY TOUCH-POLICY
  PIV_TOOL -k"$MK" -a generate -s "$1" -A "$2" --pin-policy="$3" --touch-policy="$4" -o "$T/$1.pub" \
    > "$T/gen.out" 2>&1 || fail "generate $1: $(cat "$T/gen.out")"
  piv_placeholder_cert "$T/$1.pub" "$T/$1.crt"
  PIV_TOOL -k"$MK" -a import-certificate -s "$1" -i "$T/$1.crt" > "$T/imp.out" 2>&1 || fail "import $1: $(cat "$T/imp.out")"
}
gen 9a ECCP256 once never
gen 9c ECCP384 always always
card_serial=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$PIV_STATE/state.json")
cer_home
cd "$T"
(umask 077; printf 'module: %s\npins:\n  yk: "123456"\n' "$YKCS11" > creds.yaml)
printf '"*": "yes"\n' > yes.yaml
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -subj "/CN=Another PIV Attestation CA" -days 30 -out other-root.pem 2>/dev/null

cer() { # FILE OUTDIR ATTESTATION-ROOT
  cat > "$1" <<YAML
version: 1
name: "YubiKey root and attested intermediate"
output-dir: $2
administrator: "Ada"
witnesses: ["Wendy"]
tokens:
  # checked at validation (at-start): ykcs11 shows a private key ("Private key for ...") only after
  # login, so a key not seen before login on a YubiKey is looked for after login, at run time
  yk: { uri: "pkcs11:serial=$card_serial" }
steps:
  - type: root-cert
    token: yk
    key: { label: "Private key for PIV Authentication" }
    name: yk-root-$2
    subject: "CN=YubiKey Root $2"
    validity: { days: 365 }
    outputs: { certificate: root.pem }
  - type: intermediate-cert
    issuer: yk-root-$2
    token: yk
    key: { label: "Private key for Digital Signature" }
    name: yk-int-$2
    subject: "CN=YubiKey Intermediate $2"
    validity: { days: 90 }
    attestation: required
    attestation-root: $3
    outputs: { certificate: int.pem }
YAML
}
run_cer() { "$OFFCA" ceremony run "$1" --home "$HOME_DIR" --credentials creds.yaml --answers yes.yaml --no-pdf; }
piv_autotouch_start

cer bad.yaml out-bad other-root.pem
a0=$(piv_count attest)
expect_fail "attestation against another root" run_cer bad.yaml
expect_err_match "does not chain to the attestation root"
[ ! -e out-bad/int.pem ] || fail "the root signed an intermediate whose attestation failed"
grep '"event":"attestation"' out-bad/transcript.jsonl | grep '"source":"token"' | grep -q '"status":"failed"' ||
  fail "failed attestation not recorded"
[ $(( $(piv_count attest) - a0 )) -ge 1 ] || fail "the card was never asked to attest"

cer good.yaml out-good "$PIV_STATE/attestation-root.pem"
# the card is checked at validation, and its keys (not visible before login) are not refused
"$OFFCA" ceremony validate good.yaml --home "$HOME_DIR" --credentials creds.yaml > validate.out 2>&1 ||
  { cat validate.out; fail "validate refuses a ykcs11 YubiKey whose keys show only after login"; }
run_cer good.yaml > good.out 2>&1 || { cat good.out; fail "attested ceremony through ykcs11"; }
grep -q "Attestation verified: key generated on device serial $card_serial (firmware 5.4.3, PIN policy always, touch policy always), chain to the attestation CA checked" good.out ||
  { cat good.out; fail "attestation details not shown"; }
root_fp=$(openssl x509 -in "$PIV_STATE/attestation-root.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d ':' | sed 's/..../& /g; s/ $//')
python3 - out-good/transcript.jsonl "$root_fp" "$card_serial" "$T/9c.pub" <<'PY' || fail "attestation not recorded as expected"
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
ev = [json.loads(l) for l in open(sys.argv[1])]
names = [e["event"] for e in ev]
att = [e["data"] for e in ev if e["event"] == "attestation"]
assert len(att) == 1 and att[0]["status"] == "verified" and att[0]["source"] == "token", att
a = att[0]
assert a["device_serial"] == int(sys.argv[3]) and a["firmware"] == "5.4.3", a
assert a["pin_policy"] == "always" and a["touch_policy"] == "always" and a["ca_checked"] is True, a
assert a["attestation_root_sha256"] == sys.argv[2], (a["attestation_root_sha256"], sys.argv[2])
step2 = names[[i for i, n in enumerate(names) if n == "step-start"][1]:]  # the intermediate's step
assert step2.index("attestation") < step2.index("cert-signed"), names
spki = lambda k: k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
attested = x509.load_pem_x509_certificate(a["attestation_pem"].encode()).public_key()
assert spki(attested) == spki(serialization.load_pem_public_key(open(sys.argv[4], "rb").read())), "attested key"
PY
openssl verify -CAfile out-good/root.pem out-good/int.pem > /dev/null || fail "intermediate does not verify"
[ "$(openssl x509 -in out-good/int.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
  "$(openssl pkey -pubin -in "$T/9c.pub" -outform DER | sha256sum)" ] || fail "the intermediate certifies another key"
"$OFFCA" ceremony verify out-good/transcript.jsonl --no-ca > /dev/null 2>&1 || fail "transcript does not verify"
pass "ceremony via ykcs11: attestation of 9c verified against the emulator's root, policies always/always recorded"
