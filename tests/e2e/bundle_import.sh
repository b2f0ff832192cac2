#!/usr/bin/env bash
# Inbound bundles into the pending queue: hostile bundles (path traversal, absolute, NUL/newline
# names, tampered, oversize, truncated, symlink, device, bad CSR, non-enrolled or missing signer,
# outbound) are each refused with one line and NOTHING imported; a good bundle imports all CSRs.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/bundles/pki.sh"
bundle_pki
bundle_home
pending_empty "init"

refuse() { # refuse DESCRIPTION REGEX FILE [ARGS...]
  local what=$1 re=$2 file=$3; shift 3
  expect_fail "$what" "$OFFCA" bundle import "$file" "$@"
  [ "$(grep -c . "$T/last.err")" -eq 1 ] || fail "$what: more than one error line: $(cat "$T/last.err")"
  expect_err_match "$re"
  pending_empty "$what"
}

mkdir -p "$T/x"
for name in '../../etc/passwd' "/tmp/offca-evil-$$" 'a\nb' 'a\x00b' '..' '.hidden'; do
  rm -f "$T/hostile.offca"
  python3 "$CRAFT" "$T/hostile.offca" "csr:$T/csr1.pem:$name"
  refuse "name '$name'" "manifest" "$T/hostile.offca"
  expect_fail "extract of name '$name'" "$OFFCA" bundle extract "$T/hostile.offca" --out-dir "$T/x/out"
done
[ ! -e "/tmp/offca-evil-$$" ] && [ ! -e "$T/etc/passwd" ] && [ ! -e "$T/x/out" ] || fail "a hostile name escaped"

python3 "$CRAFT" "$T/badsha.offca" --bad-sha "csr:$T/csr1.pem"
refuse "item hash mismatch" "SHA-256 does not match" "$T/badsha.offca"
python3 "$CRAFT" "$T/oversize-item.offca" --lie-size $((16 * 1024 * 1024 + 1)) "csr:$T/csr1.pem"
refuse "oversize item" "exceeds" "$T/oversize-item.offca"
python3 "$CRAFT" "$T/trunc.offca" --truncate 9 "csr:$T/csr1.pem"
refuse "truncated" "truncated" "$T/trunc.offca"
python3 "$CRAFT" "$T/trailing.offca" --trailing "csr:$T/csr1.pem"
refuse "trailing data" "trailing" "$T/trailing.offca"
{ printf 'OFFCA-BUNDLE/1\n'; } > "$T/huge.offca"; truncate -s 65M "$T/huge.offca"
refuse "oversize bundle" "more than" "$T/huge.offca"
ln -s "$T/trailing.offca" "$T/link.offca"
refuse "symlink" "symbolic link" "$T/link.offca"
refuse "device file" "not a regular file" /dev/zero
printf 'junk\n' > "$T/junk.csr"
python3 "$CRAFT" "$T/badcsr.offca" "csr:$T/csr1.pem" "csr:$T/junk.csr"
refuse "second CSR malformed (atomic)" "item 2" "$T/badcsr.offca"

# tampered item inside an offca-made bundle
"$OFFCA" bundle create --out "$T/good.offca" "$T/csr1.pem" "$T/csr2.pem" >/dev/null || fail "create"
cp "$T/good.offca" "$T/flip.offca"
off=$(grep -abo "BEGIN CERTIFICATE REQUEST" "$T/flip.offca" | tail -n1 | cut -d: -f1)
flip_byte "$T/flip.offca" $((off + 60))
refuse "tampered item" "SHA-256 does not match" "$T/flip.offca"

# signatures: an operator who is not enrolled, then --require-signed, then outbound bundles
"$OFFCA" bundle create --out "$T/signed.offca" --sign-key-file "$T/op.key" --signer-cert "$T/op.pem" \
  "$T/csr1.pem" "$T/csr2.pem" >/dev/null || fail "create operator-signed"
refuse "signer not enrolled" "not an enrolled operator" "$T/signed.offca"
expect_fail "verify --home: signer not enrolled" "$OFFCA" bundle verify "$T/signed.offca" --home "$OFFCA_HOME"
refuse "unsigned with --require-signed" "not signed" "$T/good.offca" --require-signed
"$OFFCA" bundle create --out "$T/outbound.offca" --direction out --sign-key "$INT_URI" --pin-file "$T/ca.pin" \
  --signer-cert "$T/int-chain.pem" "$T/op.pem" >/dev/null || fail "create outbound"
refuse "outbound bundle" "outbound" "$T/outbound.offca"
python3 - "$T/signed.offca" "$T/signed-tampered.offca" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
assert b.count(b'"name":"csr1.pem"') == 1
open(sys.argv[2], "xb").write(b.replace(b'"name":"csr1.pem"', b'"name":"csr9.pem"'))
PY
refuse "tampered signed manifest" "signature does not verify" "$T/signed-tampered.offca"
pass "every hostile bundle refused, nothing imported"

# the CA home's config can require operator-signed inbound transfers (defaults.transfer.require_signed):
# then an unsigned bundle is refused without --require-signed, and so is a CSR in QR frames
cp "$OFFCA_HOME/config.json" "$T/config.orig"
python3 - "$OFFCA_HOME/config.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["defaults"]["transfer"]["require_signed"] = True
json.dump(d, open(p, "w"))
PY
refuse "unsigned bundle, config requires signed" "not signed" "$T/good.offca"
"$OFFCA" qr encode "$T/csr1.pem" --out-dir "$T/qrin" >/dev/null || fail "qr encode"
expect_fail "QR import, config requires signed" "$OFFCA" qr decode "$T"/qrin/*.png --import
expect_err_match "require_signed"
pending_empty "QR import refused"
cp "$T/config.orig" "$OFFCA_HOME/config.json"
pass "config transfer.require_signed holds for bundles and QR frames"

# enrolled operator: both CSRs go in, in one step
"$OFFCA" bundle enroll-operator "$T/op.pem" --name alice >/dev/null || fail "enroll-operator"
expect_fail "enroll the same certificate twice" "$OFFCA" bundle enroll-operator "$T/op.pem" --name bob
"$OFFCA" bundle verify "$T/signed.offca" --home "$OFFCA_HOME" | grep -q "operator:  alice" || fail "verify --home"
"$OFFCA" bundle import "$T/signed.offca" --require-signed > "$T/import.out" || fail "import signed bundle"
grep -q "imported 2 CSRs" "$T/import.out" && grep -q "operator alice" "$T/import.out" || fail "import: $(cat "$T/import.out")"
"$OFFCA" pending list > "$T/list.out"
[ "$(grep -c "example.test" "$T/list.out")" -eq 2 ] || fail "pending list: $(cat "$T/list.out")"
id=$(awk 'NR==1 {print $1}' "$T/list.out")
"$OFFCA" pending show "$id" | grep -q "BEGIN CERTIFICATE REQUEST" || fail "pending show"
# importing the same CSRs again is refused as a whole
expect_fail "import twice" "$OFFCA" bundle import "$T/good.offca"
expect_err_match "already pending"
[ "$(grep -c "example.test" <("$OFFCA" pending list))" -eq 2 ] || fail "re-import changed the queue"
"$OFFCA" pending drop "$id" >/dev/null || fail "pending drop"
[ "$(grep -c "example.test" <("$OFFCA" pending list))" -eq 1 ] || fail "drop did not remove"
expect_fail "drop unknown id" "$OFFCA" pending drop 99999
pass "signed import, pending list/show/drop"
