#!/usr/bin/env bash
# e2e: offca inventory export --out FILE: the JSON holds what the store holds (checked against the
# certificates and the CRL with openssl), its detached CMS signature verifies with `openssl cms
# -verify` (by the issuer's key on the SoftHSM2 token, and by an operator's encrypted software key),
# a tampered export fails that check, and no export ever holds a secret of this test's CA home or
# PIN files. Bad input: one error line, non-zero, no file left.
source "$(dirname "$0")/../lib/e2e.sh"
source "$(dirname "$0")/../lib/monitoring_env.sh"
e2e_token ca 'Xq7-pin-Zw93'   # a PIN that cannot occur by chance in hex or base64 output
mon_setup

ROOT_SERIAL=$("$OFFCA" list --issuer root --json | python3 -c 'import json,sys; print([c["serial"] for c in json.load(sys.stdin) if c["profile"]=="root"][0])')
"$OFFCA" export "$ROOT_SERIAL" --format pem --out "$T/root.pem" >/dev/null || fail "export root"

# the secrets this test has: PIN files, private keys and passphrases, anything a home file calls pin-*
secrets() {
  cat "$T"/*.pin "$T/op.pass"
  for k in "$T"/*.key "$T/op.key"; do grep -v -- '-----' "$k"; done
  grep -rhao 'pin-[a-z]*=[^;?&" ]*' "$H" 2>/dev/null || true
  echo "pkcs11:"
}
# no_secrets FILE...: none of the secrets (nor any PEM private key) in FILE
no_secrets() {
  local s f
  for f in "$@"; do
    grep -aq 'PRIVATE KEY' "$f" && fail "$f holds a private key"
    while IFS= read -r s; do
      [ -n "$s" ] || continue
      if grep -aqF -- "$s" "$f"; then fail "$f holds the secret '$s'"; fi
    done < <(secrets | sort -u)
  done
  return 0
}
# an operator's software key, encrypted, and its certificate
printf 'op-pass-4Rt9\n' > "$T/op.pass"; chmod 600 "$T/op.pass"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass "file:$T/op.pass" -out "$T/op.key" 2>/dev/null
openssl req -x509 -new -key "$T/op.key" -passin "file:$T/op.pass" -subj "/CN=Monitoring Operator" -days 30 \
  -out "$T/op.pem" 2>/dev/null
[ -n "$(secrets | grep -c .)" ] || fail "no secrets collected"

# ---- usage errors ----
"$OFFCA" inventory export --help | grep -q "usage: offca inventory export --out FILE" || fail "--help"
expect_fail "inventory export without --out" "$OFFCA" inventory export
expect_err_match "out is required"
expect_fail "inventory without a subcommand" "$OFFCA" inventory
expect_fail "--sign-key-file without --signer-cert" "$OFFCA" inventory export --out "$T/x.json" --sign-key-file "$T/op.key"
[ ! -e "$T/x.json" ] || fail "a usage error left a file"
pass "inventory export: usage errors and --help"

# ---- signed by the issuer's key on the token ----
"$OFFCA" inventory export --out "$T/e1.json" --issuer int --pin-file "$PIN" > "$T/e1.out" 2>&1 || fail "export: $(cat "$T/e1.out")"
[ -s "$T/e1.json" ] && [ -s "$T/e1.json.p7s" ] || fail "export or signature missing"
openssl cms -verify -binary -inform DER -in "$T/e1.json.p7s" -content "$T/e1.json" -CAfile "$T/root.pem" -purpose any \
  -out /dev/null 2>"$T/v.err" || fail "openssl cms -verify: $(cat "$T/v.err")"
openssl cms -cmsout -print -inform DER -in "$T/e1.json.p7s" | grep -q "CN=Disk Test Int" || fail "signer is not int"
pass "export signed by the issuer's token key verifies with openssl cms -verify against the root"

# the content, against openssl's reading of the certificates and the CRL
python3 - "$T" "$S1" "$S2" "$S3" <<'PY' || fail "export content"
import json, subprocess, sys, datetime
T, s1, s2, s3 = sys.argv[1:5]
d = json.load(open(f"{T}/e1.json"))
assert d["format"] == "offca-inventory/1", d["format"]
assert d["count"] == len(d["certificates"]) == 5, d["count"]
assert d["pendingCsrs"] == 2, d["pendingCsrs"]
by = {c["serial"]: c for c in d["certificates"]}
def ossl(args, f):
    return subprocess.run(["openssl"] + args + ["-in", f], capture_output=True, text=True, check=True).stdout
def iso(s):
    return datetime.datetime.strptime(s.split("=", 1)[1].strip(), "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ")
for i, s in ((1, s1), (2, s2), (3, s3)):
    c, pem = by[s], f"{T}/h{i}.pem"
    fp = ossl(["x509", "-noout", "-fingerprint", "-sha256"], pem).split("=", 1)[1].strip()
    assert c["sha256"] == fp, (c["sha256"], fp)
    assert c["notAfter"] == iso(ossl(["x509", "-noout", "-enddate"], pem)), c["notAfter"]
    assert c["notBefore"] == iso(ossl(["x509", "-noout", "-startdate"], pem)), c["notBefore"]
    assert c["sans"] == [f"DNS:h{i}.example"], c["sans"]
    assert c["issuer"] == "int" and c["subject"] == f"CN=h{i}.example", c
assert by[s2]["status"] == "revoked" and by[s2]["reason"] == "keyCompromise" and by[s2]["revokedAt"], by[s2]
assert by[s1]["status"] == "valid" and "revokedAt" not in by[s1]
iss = {i["name"]: i for i in d["issuers"]}
crl = iss["int"]["crl"]
assert crl["number"] == 1, crl
assert crl["nextUpdate"] == iso(ossl(["crl", "-noout", "-nextupdate"], f"{T}/int.crl.pem")), crl
assert crl["thisUpdate"] == iso(ossl(["crl", "-noout", "-lastupdate"], f"{T}/int.crl.pem")), crl
assert iss["root"]["crl"] is None
for i in d["issuers"]:
    assert set(i) == {"name", "parent", "subject", "serial", "sha256", "notBefore", "notAfter", "crl"}, set(i)
PY
pass "export content: fingerprints, validity, SANs, status and reason, CRL times, pending count (checked with openssl)"

# ---- the audit log records it ----
"$OFFCA" audit verify >/dev/null || fail "audit verify after export"
H1=$(sha256sum "$T/e1.json" | cut -d' ' -f1)
"$OFFCA" audit show | grep inventory-export | grep -q "$H1" || fail "no audit entry with the export's SHA-256"
grep -q "sha256 $H1" "$T/e1.out" || fail "printed digest"
pass "inventory-export audit entry holds the export's SHA-256; audit verify passes"

# ---- a tampered export fails the check ----
sed 's/"revoked"/"valid"/' "$T/e1.json" > "$T/tampered.json"
cmp -s "$T/e1.json" "$T/tampered.json" && fail "tampering changed nothing"
if openssl cms -verify -binary -inform DER -in "$T/e1.json.p7s" -content "$T/tampered.json" -CAfile "$T/root.pem" \
  -purpose any -out /dev/null 2>/dev/null; then fail "a tampered export verified"; fi
pass "a tampered export fails openssl cms -verify"

# ---- signed by an operator's encrypted software key ----
"$OFFCA" inventory export --out "$T/e2.json" --sig "$T/e2.sig" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" \
  --pin-file "$T/op.pass" >/dev/null 2>"$T/e2.err" || fail "operator export: $(cat "$T/e2.err")"
openssl cms -verify -binary -inform DER -in "$T/e2.sig" -content "$T/e2.json" -CAfile "$T/op.pem" -purpose any \
  -out /dev/null 2>/dev/null || fail "operator signature does not verify"
pass "export signed by an operator key (--sign-key-file, --signer-cert, --sig) verifies"
"$OFFCA" inventory export --out "$T/e4.json" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" \
  --pin-file "$T/op.pass" --json > "$T/e4.out" || fail "export --json"
python3 - "$T/e4.out" "$(sha256sum "$T/e4.json" | cut -d' ' -f1)" <<'PY' || fail "export --json output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sha256"] == sys.argv[2] and d["certificates"] == 5 and d["pendingCsrs"] == 2, d
PY
pass "inventory export --json: the summary with the export's SHA-256"

# ---- refusals leave nothing behind and never overwrite ----
H1B=$(sha256sum "$T/e1.json" "$T/e1.json.p7s")
expect_fail "export over an existing file" "$OFFCA" inventory export --out "$T/e1.json" --issuer int --pin-file "$PIN"
expect_err_match "already exists"
[ "$(sha256sum "$T/e1.json" "$T/e1.json.p7s")" = "$H1B" ] || fail "an existing export was changed"
touch "$T/e3.json.p7s"
expect_fail "export over an existing signature" "$OFFCA" inventory export --out "$T/e3.json" --issuer int --pin-file "$PIN"
[ ! -e "$T/e3.json" ] || fail "export written although its signature file exists"
rm "$T/e3.json.p7s"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" -subj /CN=other -days 3 \
  -out "$T/other.pem" 2>/dev/null
expect_fail "operator key that is not the certificate's" "$OFFCA" inventory export --out "$T/e3.json" \
  --sign-key-file "$T/op.key" --signer-cert "$T/other.pem" --pin-file "$T/op.pass"
expect_err_match "not the key of the signer certificate"
printf 'wrong-pin\n' > "$T/wrong.pin"; chmod 600 "$T/wrong.pin"
expect_fail "wrong PIN" "$OFFCA" inventory export --out "$T/e3.json" --issuer int --pin-file "$T/wrong.pin"
expect_fail "unknown issuer" "$OFFCA" inventory export --out "$T/e3.json" --issuer nosuch --pin-file "$PIN"
ls "$T"/e3.json* "$T"/*.tmp.* 2>/dev/null && fail "a refused export left files"
pass "refusals: nothing overwritten, nothing half-written"

# ---- no secret in any export ----
no_secrets "$T/e1.json" "$T/e1.json.p7s" "$T/e2.json" "$T/e2.sig" "$T/e4.json" "$T/e4.json.p7s"
pass "no export holds a PIN, passphrase, private key, pin-source or key URI ($(secrets | sort -u | grep -c .) secrets checked)"
