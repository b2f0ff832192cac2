#!/usr/bin/env bash
# ca_bad_input: every bad input of the CA core gives one clear error, a non-zero exit, nothing
# half-written (no output file, no new record) and the audit log still verifies: malformed,
# unsigned, truncated and oversized CSRs, weak keys, forbidden SANs, a missing / expired issuer,
# a wrong PIN, an absent token, a full store during signing, a full output disk.
source "$(dirname "$0")/../lib/e2e.sh"
need openssl

D=${OFFCA_TEST_DATA:-$OFFCA_SRC/tests/data}/csr
export OFFCA_HOME="$T/home"
e2e_token ca
P="$T/ca.pin"

count() { "$OFFCA" list --json | grep -o '"serial"' | wc -l; }
one_line() { [ "$(grep -c . "$T/last.err")" -eq 1 ] || fail "expected one stderr line, got: $(cat "$T/last.err")"; }

# no CA home / no issuer yet
expect_fail "sign without a CA home" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --home "$T/nohome"
one_line
"$OFFCA" init >/dev/null
expect_fail "sign before any issuer exists" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --pin-file "$P"
expect_err_match "offca ca root"

K=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label root --type ec-p256 --pin-file "$P")
"$OFFCA" ca root --key "$K" --subject "/CN=Bad Input Root" --days 365 --pin-file "$P" --out "$T/root.pem" 2>/dev/null
base=$(count)

# every malformed / refused CSR in tests/data/csr (README.md): the rule is named, nothing written
while read -r f rule; do
  expect_fail "$f" "$OFFCA" sign --csr "$D/$f" --profile server --pin-file "$P" --out "$T/out-$f.pem"
  one_line
  expect_err_match "policy $rule"
  [ ! -e "$T/out-$f.pem" ] || fail "$f: an output file was written"
done <<'EOF'
bad_rsa1024.pem rsa-min-bits
bad_p192.pem ec-curve
bad_secp256k1.pem ec-curve
bad_ed25519.pem key-type
bad_wildcard_middle.pem san-wildcard
bad_wildcard_partial.pem san-wildcard
bad_wildcard_tld.pem san-wildcard
bad_empty_label.pem san-dns-syntax
bad_underscore.pem san-dns-syntax
bad_long_label.pem san-dns-syntax
bad_trailing_dot.pem san-dns-syntax
bad_cn_not_in_san.pem cn-not-in-san
bad_email_san.pem san-email
bad_uri_san.pem san-uri
bad_no_name.pem san-required
bad_unknown_critical.pem csr-critical-ext
bad_two_blocks.pem csr-pem-count
bad_trailing_garbage.der csr-der
bad_truncated.der csr-der
bad_signature.der csr-signature
bad_nonminimal_length.der csr-der
bad_version2.pem csr-version
bad_dup_san.pem csr-duplicate-ext
EOF
[ "$(count)" = "$base" ] || fail "a refused CSR left a record"
pass "refused CSRs name their rule and leave nothing behind"

# OpenSSL itself accepts the tricky ones (this is why offca checks on its own)
openssl req -inform DER -in "$D/bad_trailing_garbage.der" -noout 2>/dev/null || fail "openssl changed: trailing garbage refused"
openssl req -in "$D/bad_version2.pem" -noout -verify 2>/dev/null || fail "openssl changed: v2 refused"

# a 1 MB request (a huge, validly signed extension) and a file that is not a CSR at all
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/big.key" 2>/dev/null
python3 -c "print('[req]\ndistinguished_name=dn\nreq_extensions=e\n[dn]\n[e]\nsubjectAltName=DNS:big.example.com\n1.3.6.1.4.1.99999.2=DER:04830fffff' + 'ab' * 0xfffff)" > "$T/big.cnf"
openssl req -new -key "$T/big.key" -config "$T/big.cnf" -subj /CN=big.example.com -out "$T/big.csr" 2>/dev/null
[ "$(stat -c %s "$T/big.csr")" -gt 1000000 ] || fail "could not make a 1 MB CSR"
openssl req -in "$T/big.csr" -noout -verify 2>/dev/null || fail "openssl should accept the 1 MB CSR"
expect_fail "1 MB CSR" "$OFFCA" sign --csr "$T/big.csr" --profile server --pin-file "$P"
expect_err_match "policy csr-size"
head -c 3000 /dev/urandom > "$T/random.bin"
expect_fail "random bytes" "$OFFCA" sign --csr "$T/random.bin" --profile server --pin-file "$P"
expect_err_match "policy csr-(der|pem)"
expect_fail "missing file" "$OFFCA" sign --csr "$T/nope.csr" --profile server --pin-file "$P"
one_line
ln -s "$D/ok_openssl_ec256.pem" "$T/link.csr"
expect_fail "symlinked CSR" "$OFFCA" sign --csr "$T/link.csr" --profile server --pin-file "$P"

# a batch with one bad CSR is refused as a whole
mkdir "$T/batch"
expect_fail "batch with one bad CSR" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" "$D/ok_openssl_ec384.pem" "$D/bad_p192.pem" \
  --profile server --pin-file "$P" --out-dir "$T/batch"
expect_err_match "bad_p192.pem: policy ec-curve"
[ -z "$(ls "$T/batch")" ] && [ "$(count)" = "$base" ] || fail "a refused batch left files or records"
pass "oversized, random, missing, symlinked CSRs and a mixed batch refused as a whole"

# policy knobs: validity above the maximum; a forbidden IP SAN once the config says so
expect_fail "--days above 397" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --days 398 --pin-file "$P"
python3 - "$OFFCA_HOME/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["issuers"] = {"root": {"policy": {"allow_ip_san": False, "dns_suffixes": ["corp.example"], "leaf_days_max": 30, "leaf_days_default": 30}}}
json.dump(c, open(p, "w"))
PY
expect_fail "IP SAN forbidden by config" "$OFFCA" sign --csr "$D/ok_openssl_ip.pem" --profile server --pin-file "$P"
expect_err_match "policy san-ip"
expect_fail "name outside allowed suffixes" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --pin-file "$P"
expect_err_match "policy san-dns-suffix"
expect_fail "over the issuer's max validity" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --days 31 --pin-file "$P"
expect_err_match "policy max-validity"
echo '{"version":1,"defaults":{"polcy":{}}}' > "$OFFCA_HOME/config.json"
expect_fail "broken config" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --pin-file "$P"
expect_err_match "defaults.polcy"
echo '{"version":1}' > "$OFFCA_HOME/config.json"
pass "config policy: IP SANs, DNS suffixes, max validity; a broken config names the field"

# missing and expired issuers
expect_fail "unknown issuer" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --issuer nope --pin-file "$P"
expect_err_match "no issuer named 'nope'"
if command -v faketime >/dev/null; then
  K2=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label old --type ec-p256 --pin-file "$P")
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime -f "-400d" \
    "$OFFCA" ca root --key "$K2" --subject "/CN=Expired Root" --days 30 --name oldroot --pin-file "$P" --out "$T/old.pem" 2>/dev/null
  expect_fail "expired issuer" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --issuer oldroot --pin-file "$P"
  expect_err_match "not valid now"
  expect_fail "intermediate under an expired root" "$OFFCA" ca intermediate --key "$K2" --subject /CN=x --days 10 \
    --issuer oldroot --pin-file "$P"
  expect_err_match "not valid now"
else
  echo "note: faketime missing, expired-issuer case skipped" >&2
fi
pass "missing and expired issuers refused"

# wrong PIN (audited as login-failed), absent token
(umask 077; echo 999999 > "$T/wrong.pin")
expect_fail "wrong PIN" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --issuer root --pin-file "$T/wrong.pin"
expect_err_match "PIN"
"$OFFCA" audit show | grep -q "login-failed" || fail "failed login not in the audit log"
e2e_token gone
KG=$("$OFFCA" token keygen --token "pkcs11:token=gone" --label k --type ec-p256 --pin-file "$T/gone.pin")
"$OFFCA" ca root --key "$KG" --subject "/CN=Gone Root" --days 100 --name goneroot --pin-file "$T/gone.pin" --out "$T/gone.pem" 2>/dev/null
softhsm2-util --delete-token --token gone >/dev/null
expect_fail "absent token" "$OFFCA" sign --csr "$D/ok_openssl_ec256.pem" --profile server --issuer goneroot --pin-file "$T/gone.pin"
one_line
expect_fail "absent token for a CRL" "$OFFCA" crl --issuer goneroot --pin-file "$T/gone.pin" --out "$T/gone.crl"
[ ! -e "$T/gone.crl" ] || fail "CRL written without a token"
[ "$(count)" = "$((base + 2))" ] || fail "failed logins left records"
pass "wrong PIN (audited) and absent token"

# full store during signing: a map just big enough for what is there, CSRs with 100 SANs each
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/f.key" 2>/dev/null
for i in $(seq 1 40); do
  sans=$(for j in $(seq 1 100); do printf 'DNS:h%s-%s.example.com,' "$i" "$j"; done)
  openssl req -new -key "$T/f.key" -subj "/CN=h$i-1.example.com" -addext "subjectAltName=${sans%,}" -out "$T/f$i.csr" 2>/dev/null
done
mkdir "$T/full"
MAP=$(stat -c %s "$OFFCA_HOME"/store/data.mdb)
before=$(count)
expect_fail "store full during signing" env OFFCA_STORE_MAPSIZE="$MAP" "$OFFCA" sign --csr "$T"/f*.csr --profile server \
  --issuer root --pin-file "$P" --out-dir "$T/full"
one_line
expect_err_match "full|space"
[ -z "$(ls "$T/full")" ] || fail "certificates written although the store was full"
[ "$(count)" = "$before" ] || fail "records committed although the store was full"
"$OFFCA" sign --csr "$T/f1.csr" --profile server --issuer root --pin-file "$P" --out "$T/f1.pem" >/dev/null 2>&1 \
  || fail "signing after the full-store failure does not work"
pass "full store: nothing committed, nothing written, next run fine"

# full output disk: the files are prepared (unnamed, invisible) while signing, so a full disk
# fails the batch before anything is recorded; nothing appears in the directory
if mount -t tmpfs -o size=8k tmpfs "$T/full" 2>/dev/null; then
  head -c 6000 /dev/zero > "$T/full/filler" || true
  before=$(count)
  set +e
  "$OFFCA" sign --csr "$T/f2.csr" "$T/f3.csr" "$T/f4.csr" "$T/f5.csr" --profile server --issuer root --pin-file "$P" \
    --out-dir "$T/full" >"$T/last.out" 2>"$T/last.err"; rc=$?
  set -e
  ls -A "$T/full" > "$T/full.ls"
  umount "$T/full"
  [ $rc -ne 0 ] || fail "full output disk: exit 0"
  one_line
  expect_err_match "full|space"
  [ "$(cat "$T/full.ls")" = "filler" ] || fail "full output disk left files: $(cat "$T/full.ls")"
  [ "$(count)" = "$before" ] || fail "full output disk: records were committed"
  pass "full output disk: $(head -n1 "$T/last.err")"
else
  echo "note: cannot mount tmpfs here, full output disk case skipped" >&2
fi

"$OFFCA" audit verify >/dev/null || fail "audit verify after all the failures"
pass "audit log still verifies"
