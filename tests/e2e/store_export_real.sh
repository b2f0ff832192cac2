#!/usr/bin/env bash
# e2e: inventory commands on a CA built the real way (root and intermediate keys on a SoftHSM2
# token, offca ca + offca sign): the exported chain and full chain satisfy openssl and GnuTLS,
# show agrees with openssl about serial and fingerprint, every step is in the audit log.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl
need certtool
need softhsm2-util
e2e_token ca
export OFFCA_HOME="$T/ca"
PIN="$T/ca.pin"
"$OFFCA" init >/dev/null
if ! "$OFFCA" token keygen --token pkcs11:token=ca --label root --type ec-p256 --pin-file "$PIN" >/dev/null 2>"$T/err"; then
  echo "skip: offca token keygen not available: $(cat "$T/err")" >&2; exit 77
fi
"$OFFCA" token keygen --token pkcs11:token=ca --label int --type ec-p256 --pin-file "$PIN" >/dev/null
"$OFFCA" ca root --key "pkcs11:token=ca;object=root" --subject "CN=Store Test Root" --days 3650 \
  --pin-file "$PIN" --name root >/dev/null 2>&1 || { echo "skip: offca ca root not available" >&2; exit 77; }
"$OFFCA" ca intermediate --key "pkcs11:token=ca;object=int" --subject "CN=Store Test Int" --days 1000 \
  --pin-file "$PIN" --name int >/dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" \
  -subj /CN=www.example.com -addext subjectAltName=DNS:www.example.com,DNS:example.com -out "$T/leaf.csr" 2>/dev/null
"$OFFCA" sign --csr "$T/leaf.csr" --profile server --pin-file "$PIN" --out "$T/leaf.pem" >/dev/null 2>&1
pass "root, intermediate and a leaf issued from the token"

S=$(openssl x509 -in "$T/leaf.pem" -noout -serial | cut -d= -f2)
FP=$(openssl x509 -in "$T/leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2)
"$OFFCA" show "$FP" > "$T/show"
grep -Eq "^serial: +0*$S$" "$T/show" || fail "show by openssl's fingerprint: $(head -1 "$T/show")"
grep -q "DNS:example.com" "$T/show" || fail "SANs"
grep -q "^issuer: *int$" "$T/show" || fail "issuer name"
"$OFFCA" export "$S" --format pem | cmp -s - "$T/leaf.pem" || fail "export pem differs from what sign wrote"
ROOT=$("$OFFCA" list --issuer root | awk '$4=="root"{print $1}')
"$OFFCA" export "$ROOT" --format pem --out "$T/root.pem"
"$OFFCA" export "$S" --format chain --out "$T/chain.pem"
"$OFFCA" export "$S" --format fullchain --out "$T/fullchain.pem"
[ "$(grep -c 'BEGIN CERT' "$T/chain.pem")" = 1 ] || fail "chain should be the intermediate only"
openssl verify -x509_strict -purpose sslserver -CAfile "$T/root.pem" -untrusted "$T/chain.pem" "$T/leaf.pem" >/dev/null \
  || fail "openssl verify"
cat "$T/fullchain.pem" "$T/root.pem" > "$T/bundle.pem"
certtool --verify-chain --infile "$T/bundle.pem" >"$T/certtool.out" 2>&1 || fail "certtool --verify-chain: $(tail -3 "$T/certtool.out")"
pass "export chain/fullchain verified by openssl -x509_strict and certtool --verify-chain"

"$OFFCA" revoke "$S" --reason keyCompromise >/dev/null
"$OFFCA" audit show --json > "$T/audit.json"
python3 - "$T/audit.json" "$S" <<'PY' || fail "audit entries"
import json, sys
a = json.load(open(sys.argv[1])); s = sys.argv[2].upper().rjust(32, "0")
acts = [e["action"] for e in a]
assert acts[0] == "init", acts
assert acts.count("issuer-add") == 2 and acts.count("sign") == 3, acts
assert any(e["action"] == "revoke" and s in e["detail"] for e in a), "no revoke entry"
assert "pin" not in json.dumps(a).lower().replace("pin-source", ""), "a PIN-ish field in the audit log"
PY
"$OFFCA" audit verify | grep -q "audit log OK" || fail "audit verify"
pass "audit log: init, issuer-add x2, sign x3, revoke; verifies"
