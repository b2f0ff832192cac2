#!/usr/bin/env bash
# e2e: offca ca list (ISO 8601 UTC), ca list --tree [--json] (roots, intermediates, name constraints,
# valid/revoked/expired leaves under each), ca show NAME [--json] and --bootstrap: the fingerprint
# is the SHA-256 openssl computes, in the format offca-agent --root-sha256 and step ca bootstrap take.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl; need python3
export OFFCA_HOME="$T/home"
e2e_token ca
P="$T/ca.pin"
"$OFFCA" init >/dev/null
RK=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label root --type ec-p256 --pin-file "$P")
IK=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label int --type ec-p256 --pin-file "$P")
"$OFFCA" ca root --key "$RK" --subject "CN=Show Root,O=offca tests" --days 3650 --pin-file "$P" --out "$T/root.pem" 2>/dev/null
"$OFFCA" ca intermediate --key "$IK" --subject "CN=Show Int" --days 1000 --path-len 0 --permit-dns example.com \
  --name int1 --pin-file "$P" --out "$T/int.pem" 2>/dev/null
for h in a b c; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$h.example.com" \
    -addext "subjectAltName=DNS:$h.example.com" -out "$T/$h.csr" 2>/dev/null
done
"$OFFCA" sign --yes --csr "$T/a.csr" "$T/b.csr" "$T/c.csr" --profile server --days 30 --out-dir "$T/leaves" \
  --pin-file "$P" >/dev/null 2>&1 || fail "sign"
[ "$(stat -c %a "$T/leaves")" = 700 ] || fail "sign --out-dir: a missing directory is created 0700"
[ "$(ls "$T/leaves" | wc -l)" = 3 ] || fail "sign --out-dir: $(ls "$T/leaves")"
B=$("$OFFCA" list --san b.example.com | awk 'NR==2 {print $1}')
"$OFFCA" revoke "$B" >/dev/null

# ---- ca list: ISO 8601 dates (not OpenSSL's "Dec  6 04:39:20 2031 GMT") ----
"$OFFCA" ca list > "$T/list"
grep -Eq '^\* +int1 +root +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z +CN=Show Int' "$T/list" \
  || fail "ca list: $(cat "$T/list")"
grep -q "GMT" "$T/list" && fail "ca list still prints OpenSSL's date: $(cat "$T/list")"
want_na=$(openssl x509 -in "$T/int.pem" -noout -enddate | cut -d= -f2)
[ "$(date -u -d "$want_na" +%Y-%m-%dT%H:%M:%SZ)" = "$(awk '$2=="int1" {print $4}' "$T/list")" ] || fail "ca list notAfter"
pass "ca list: ISO 8601 UTC, * on the default issuer"

# ---- ca list --tree ----
"$OFFCA" ca list --tree > "$T/tree"
# root at the first level, int1 (the default issuer: *) indented under it
grep -Eq '^ {4}root +\(self\) ' "$T/tree" && grep -Eq '^\* {5}int1 +root ' "$T/tree" || fail "tree shape: $(cat "$T/tree")"
grep -q "permitted DNS:example.com" "$T/tree" || fail "tree: name constraints: $(cat "$T/tree")"
grep -q "pathLen 0" "$T/tree" || fail "tree: pathLen"
grep -q "leaves: 2 valid, 1 revoked, 0 expired" "$T/tree" || fail "tree: leaf counts: $(cat "$T/tree")"
"$OFFCA" ca list --tree --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1 and d[0]["name"] == "root" and d[0]["root"] is True, d
r = d[0]; assert r["leaves"] == {"valid": 0, "revoked": 0, "expired": 0}, r["leaves"]
(i,) = r["children"]
assert i["name"] == "int1" and i["parent"] == "root" and i["default"] is True, i
assert i["permitted"] == ["DNS:example.com"] and i["pathLen"] == 0, i
assert i["leaves"] == {"valid": 2, "revoked": 1, "expired": 0}, i["leaves"]
assert i["children"] == [], i
' || fail "ca list --tree --json"
"$OFFCA" ca list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(x["name"] for x in d)==["int1","root"], d' \
  || fail "ca list --json"
pass "ca list --tree (text and JSON): hierarchy, constraints, valid/revoked/expired leaves"

# ---- ca show ----
FP=$(openssl x509 -in "$T/int.pem" -noout -fingerprint -sha256 | cut -d= -f2)
SER=$(openssl x509 -in "$T/int.pem" -noout -serial | cut -d= -f2)
"$OFFCA" ca show int1 > "$T/show"
grep -q "^sha256: *$FP\$" "$T/show" || fail "ca show sha256: $(cat "$T/show")"
grep -q "^serial: *$SER\$" "$T/show" || fail "ca show serial"
grep -q "^subject: *CN=Show Int\$" "$T/show" || fail "ca show subject"
grep -q "^key: *pkcs11:.*object=int" "$T/show" || fail "ca show key URI: $(cat "$T/show")"
grep -q "^constraints: CA:TRUE, pathLen 0; permitted DNS:example.com" "$T/show" || fail "ca show constraints"
grep -Eq "^notAfter: +[0-9-]{10}T[0-9:]{8}Z \([0-9]+ days left\)" "$T/show" || fail "ca show notAfter"
"$OFFCA" ca show int1 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["sha256"] == sys.argv[1] and d["serial"] == sys.argv[2] and d["subject"] == "CN=Show Int", d
assert d["keyUri"].startswith("pkcs11:") and d["permitted"] == ["DNS:example.com"], d
' "$FP" "$SER" || fail "ca show --json"
RC=0; "$OFFCA" ca show nope > /dev/null 2>"$T/err" || RC=$?
[ "$RC" = 3 ] && grep -q "no issuer named 'nope'" "$T/err" || fail "ca show of an unknown issuer: $RC $(cat "$T/err")"
pass "ca show: subject, serial, SHA-256, validity, key URI, constraints; --json; unknown name exit 3"

# ---- ca show --bootstrap: what step ca bootstrap / offca-agent --root-sha256 pin ----
"$OFFCA" ca show root --bootstrap > "$T/boot"
RFP=$(openssl x509 -in "$T/root.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
[ "$(head -1 "$T/boot")" = "fingerprint: $RFP" ] || fail "bootstrap fingerprint: $(head -1 "$T/boot"), want $RFP"
openssl x509 -in "$T/boot" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f | grep -qx "$RFP" \
  || fail "bootstrap PEM is not the root"
"$OFFCA" ca show root --bootstrap --json | python3 -c '
import json, sys
d = json.load(sys.stdin); assert d["fingerprint"] == sys.argv[1] and d["pem"].startswith("-----BEGIN CERTIFICATE-----"), d
' "$RFP" || fail "bootstrap --json"
pass "ca show --bootstrap: lower-case hex SHA-256 (as openssl computes it) and the PEM; --json"
