#!/usr/bin/env bash
# Bundles signed on a SoftHSM2 token: create -> verify (--ca right root / wrong root) -> extract;
# tampered item, tampered manifest, truncated file, certificate of another key, non-CA signer.
source "$OFFCA_SRC/tests/lib/e2e.sh"
source "$OFFCA_TEST_DATA/bundles/pki.sh"
bundle_pki

"$OFFCA" bundle --help | grep -q "bundle create" || fail "bundle --help"
"$OFFCA" pending --help | grep -q "pending list" || fail "pending --help"

# an outbound bundle, signed with the intermediate's key on the token
"$OFFCA" bundle create --out "$T/out.offca" --direction out --issuer int \
  --sign-key "$INT_URI" --pin-file "$T/ca.pin" --signer-cert "$T/int-chain.pem" \
  "$T/op.pem" chain:"$T/int-chain.pem" transcript:"$T/ca.cnf" > "$T/create.out" || fail "create signed outbound"
grep -q "3 items, direction out, signed" "$T/create.out" || fail "create output: $(cat "$T/create.out")"
"$OFFCA" bundle verify "$T/out.offca" --ca "$T/root.pem" > "$T/verify.out" || fail "verify --ca root"
grep -q "signature: valid, signer .*Bundle Test Intermediate" "$T/verify.out" || fail "verify output"
grep -q "certificate" "$T/verify.out" && grep -q " chain " "$T/verify.out" || fail "verify lists items"
pass "signed outbound bundle verifies against its root"
expect_fail "verify against another root" "$OFFCA" bundle verify "$T/out.offca" --ca "$T/other.pem"
expect_err_match "does not chain"

# extract: numbered, sanitized names, byte-identical content
"$OFFCA" bundle extract "$T/out.offca" --out-dir "$T/x" --ca "$T/root.pem" >/dev/null || fail "extract"
cmp "$T/x/01-op.pem" "$T/op.pem" || fail "extracted certificate differs"
cmp "$T/x/02-int-chain.pem" "$T/int-chain.pem" || fail "extracted chain differs"
[ "$(ls "$T/x" | wc -l)" -eq 3 ] || fail "extract wrote $(ls "$T/x")"
expect_fail "extract never overwrites" "$OFFCA" bundle extract "$T/out.offca" --out-dir "$T/x"
expect_err_match "exists"
pass "extract"

# tampered item byte: flip one byte inside the first certificate item's base64
size=$(stat -c %s "$T/out.offca")
cp "$T/out.offca" "$T/tampered-item.offca"
off=$(grep -abo "BEGIN CERTIFICATE" "$T/tampered-item.offca" | head -n1 | cut -d: -f1)
flip_byte "$T/tampered-item.offca" $((off + 40))
expect_fail "tampered item" "$OFFCA" bundle verify "$T/tampered-item.offca" --ca "$T/root.pem"
expect_err_match "SHA-256 does not match"

# tampered manifest: the issuer name changes, same length
python3 - "$T/out.offca" "$T/tampered-manifest.offca" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
assert b.count(b'"issuer":"int"') == 1
open(sys.argv[2], "xb").write(b.replace(b'"issuer":"int"', b'"issuer":"INT"'))
PY
expect_fail "tampered manifest" "$OFFCA" bundle verify "$T/tampered-manifest.offca" --ca "$T/root.pem"
expect_err_match "signature does not verify"

# truncated file
head -c $((size - 20)) "$T/out.offca" > "$T/truncated.offca"
expect_fail "truncated bundle" "$OFFCA" bundle verify "$T/truncated.offca"
expect_err_match "truncated"

# wrong signer: the other root's certificate with the token key -> refused when creating
expect_fail "certificate of another key" "$OFFCA" bundle create --out "$T/wrong.offca" --direction out \
  --sign-key "$INT_URI" --pin-file "$T/ca.pin" --signer-cert "$T/other.pem" "$T/op.pem"
expect_err_match "does not match the signing key"
[ ! -e "$T/wrong.offca" ] || fail "a refused create left a file"

# a bundle signed by a non-CA key (the operator's) does not pass --ca even though its signature is fine
"$OFFCA" bundle create --out "$T/op-out.offca" --direction out --sign-key-file "$T/op.key" \
  --signer-cert "$T/op.pem" "$T/op.pem" >/dev/null || fail "create signed by operator key file"
expect_fail "non-CA signer" "$OFFCA" bundle verify "$T/op-out.offca" --ca "$T/root.pem"
expect_err_match "not a CA"

# unsigned outbound bundles are a problem for verify
"$OFFCA" bundle create --out "$T/unsigned-out.offca" --direction out "$T/op.pem" >/dev/null || fail "create unsigned"
expect_fail "unsigned outbound" "$OFFCA" bundle verify "$T/unsigned-out.offca"
expect_err_match "not signed"

# an inbound bundle with a CSR (type guessed from the PEM label) verifies without a root
"$OFFCA" bundle create --out "$T/in.offca" "$T/csr1.pem" >/dev/null || fail "create inbound"
"$OFFCA" bundle verify "$T/in.offca" | grep -q " csr " || fail "CSR type not guessed"
expect_fail "output is never overwritten" "$OFFCA" bundle create --out "$T/in.offca" "$T/csr2.pem"
expect_err_match "exists"
expect_fail "ITEM that is not a CSR" "$OFFCA" bundle create --out "$T/bad.offca" csr:"$T/op.pem"
: > "$T/empty.pem"
expect_fail "an empty ITEM file" "$OFFCA" bundle create --out "$T/empty.offca" "$T/empty.pem"
expect_err_match "is empty"
[ ! -e "$T/empty.offca" ] || fail "a bundle was written with an empty item"
pass "all round-trip checks"
